use std::process::ExitCode;

use super::{Failure, Outcome, open};

pub async fn verify(db: &str) -> Outcome {
    let store = open(db).await?;
    match store.verify_audit().await? {
        Ok(n) => {
            println!("audit chain intact: {n} events verified");
            Ok(ExitCode::SUCCESS)
        }
        Err(problem) => Err(Failure { code: 1, message: format!("audit chain broken at {problem}") }),
    }
}
