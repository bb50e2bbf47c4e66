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

/// The release log, one release per line (tab-separated, with a header), newest first.
pub async fn releases(db: &str, limit: i64) -> Outcome {
    if limit < 1 {
        return Err(Failure::usage("--limit must be at least 1"));
    }
    let store = open(db).await?;
    let lines = store.releases(limit).await?;
    println!("at\tuser\torganisation\tchannel\tbreakdown\tas_of\tk\tfigures\twithheld\trequest");
    for line in lines {
        let r = &line.release;
        let at =
            jiff::Timestamp::from_millisecond(line.at).map(|t| t.to_string()).unwrap_or_else(|_| line.at.to_string());
        // A name while the account exists, else its id; the command line has neither.
        let name = |name: &Option<String>, id: Option<uuid::Uuid>| {
            name.clone().or_else(|| id.map(|u| u.to_string())).unwrap_or_default()
        };
        let user = if r.user_id.is_none() { "command line".to_owned() } else { name(&line.username, r.user_id) };
        println!(
            "{at}\t{user}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            name(&line.organisation, r.organisation_id),
            r.channel,
            r.breakdown,
            r.as_of,
            r.k,
            r.figures,
            r.withheld,
            r.request
        );
    }
    Ok(ExitCode::SUCCESS)
}
