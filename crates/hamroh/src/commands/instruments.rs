//! `hamroh score` and `hamroh instruments`: the scoring engine on the command line.

use std::fmt::Write as _;
use std::process::ExitCode;

use hamroh_domain::instrument::{Cutoffs, ScoreContext, catalog, parse_answers};
use hamroh_domain::org::Lang;

use super::{Failure, Outcome};
use crate::cli::{InstrumentsAction, LangArg, SexArg};

fn unknown(id: &str) -> Failure {
    let ids: Vec<&str> = catalog().ids().collect();
    Failure::usage(format!("unknown instrument `{id}`; known: {}", ids.join(", ")))
}

pub fn score(id: &str, answers: &str, sex: Option<SexArg>, lang: LangArg, cutoffs: &Cutoffs) -> Outcome {
    let instrument = catalog().get(id).ok_or_else(|| unknown(id))?;
    let answers = parse_answers(answers).map_err(|e| Failure::usage(format!("{id}: {e}")))?;
    let sex = sex.map(Into::into);
    let ctx = ScoreContext { sex, positive_at_least: cutoffs.for_respondent(id, sex), lang: Some(lang.into()) };
    let score = instrument.score(&answers, &ctx).map_err(|e| Failure::usage(format!("{id}: {e}")))?;
    let json = serde_json::to_string(&score).map_err(|e| Failure { code: 1, message: e.to_string() })?;
    super::print(&format!("{json}\n"));
    Ok(ExitCode::SUCCESS)
}

pub fn list_or_show(action: Option<InstrumentsAction>) -> Outcome {
    let mut out = String::new();
    match action {
        None => {
            for instrument in catalog().iter() {
                let _ = writeln!(out, "{:<20} {}", instrument.id, instrument.name.en);
            }
        }
        Some(InstrumentsAction::Xforms { out: dir }) => {
            std::fs::create_dir_all(&dir)
                .map_err(|e| Failure::usage(format!("{}: cannot create the directory: {e}", dir.display())))?;
            let forms = hamroh_interop::xforms::all_forms(catalog(), &hamroh_web::Messages);
            for form in &forms {
                let path = dir.join(format!("{}.xml", form.id));
                std::fs::write(&path, &form.xml)
                    .map_err(|e| Failure { code: 1, message: format!("{}: {e}", path.display()) })?;
                let _ = writeln!(out, "{}", path.display());
            }
            eprintln!("hamroh: wrote {} forms to {}", forms.len(), dir.display());
        }
        Some(InstrumentsAction::Show { id, lang }) => {
            let instrument = catalog().get(&id).ok_or_else(|| unknown(&id))?;
            let lang = Lang::from(lang);
            let _ = writeln!(out, "{} ({} {})", instrument.name.get(lang), instrument.id, instrument.version);
            let _ = writeln!(out, "{}", instrument.instructions.get(lang));
            for (n, item) in instrument.items.iter().enumerate() {
                let _ = writeln!(out, "\n{}. {}", n + 1, item.text.get(lang));
                for option in &instrument.response_sets[&item.response_set].options {
                    let _ = writeln!(out, "   [{}] {}", option.value, option.text.get(lang));
                }
            }
        }
    }
    super::print(&out);
    Ok(ExitCode::SUCCESS)
}
