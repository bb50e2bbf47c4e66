//! `hamroh score` and `hamroh instruments`: the scoring engine on the command line.

use std::process::ExitCode;

use hamroh_domain::instrument::{ScoreContext, catalog, parse_answers};
use hamroh_domain::org::Lang;

use super::{Failure, Outcome};
use crate::cli::{InstrumentsAction, LangArg, SexArg};

fn unknown(id: &str) -> Failure {
    let ids: Vec<&str> = catalog().ids().collect();
    Failure::usage(format!(
        "unknown instrument `{id}`; known: {}",
        ids.join(", ")
    ))
}

pub fn score(id: &str, answers: &str, sex: Option<SexArg>, lang: LangArg) -> Outcome {
    let instrument = catalog().get(id).ok_or_else(|| unknown(id))?;
    let answers = parse_answers(answers).map_err(|e| Failure::usage(format!("{id}: {e}")))?;
    let ctx = ScoreContext {
        sex: sex.map(Into::into),
        ..ScoreContext::default()
    };
    let score = instrument
        .score(&answers, &ctx)
        .map_err(|e| Failure::usage(format!("{id}: {e}")))?;
    let mut json = serde_json::to_value(&score).map_err(|e| Failure {
        code: 1,
        message: e.to_string(),
    })?;
    json["lang"] = Lang::from(lang).as_str().into();
    println!("{json}");
    Ok(ExitCode::SUCCESS)
}

pub fn list_or_show(action: Option<InstrumentsAction>) -> Outcome {
    match action {
        None => {
            for instrument in catalog().iter() {
                println!("{:<16} {}", instrument.id, instrument.name.en);
            }
        }
        Some(InstrumentsAction::Show { id, lang }) => {
            let instrument = catalog().get(&id).ok_or_else(|| unknown(&id))?;
            let lang = Lang::from(lang);
            println!(
                "{} ({} {})",
                instrument.name.get(lang),
                instrument.id,
                instrument.version
            );
            println!("{}", instrument.instructions.get(lang));
            for (n, item) in instrument.items.iter().enumerate() {
                println!("\n{}. {}", n + 1, item.text.get(lang));
                for option in &instrument.response_sets[&item.response_set].options {
                    println!("   [{}] {}", option.value, option.text.get(lang));
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
