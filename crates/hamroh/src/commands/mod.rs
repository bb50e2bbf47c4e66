//! One module per command. Errors end as one line on stderr: exit code 2 for bad input or an
//! unusable database setting, 1 for anything else.

mod accounts;
mod audit;
mod demo;
mod export;
mod import;
mod instruments;
mod serve;

use hamroh_domain::emergency::EmergencyContacts;
use std::process::ExitCode;

use hamroh_store::{DbUrl, Store, StoreError};
use tracing_subscriber::EnvFilter;

use hamroh_domain::instrument::{Cutoffs, catalog};

use crate::cli::{AuditAction, Cli, Command, CutoffsArg};

#[derive(Debug)]
pub struct Failure {
    pub code: u8,
    pub message: String,
}

impl Failure {
    /// Bad input or configuration: exit code 2.
    pub fn usage(message: impl Into<String>) -> Self {
        Self { code: 2, message: message.into() }
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        let code = match e {
            StoreError::InvalidUrl(_) | StoreError::Unreachable(_) | StoreError::Unwritable(_) => 2,
            _ => 1,
        };
        Self { code, message: e.to_string() }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Self { code: 1, message: format!("{e:#}") }
    }
}

pub type Outcome = Result<ExitCode, Failure>;

/// Logs go to stderr, compact by default or JSON with `HAMROH_LOG_FORMAT=json`; `RUST_LOG`
/// filters. Log lines carry ids and counts, never a person's data.
pub fn init_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_ansi(ansi);
    if std::env::var("HAMROH_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.compact().init();
    }
}

/// Parses `--db` and opens the database, bringing its schema up to date.
pub async fn open(db: &str) -> Result<Store, Failure> {
    let url: DbUrl = db.parse()?;
    Ok(Store::open(&url).await?)
}

/// Writes to standard output; a reader that went away (`| head`) ends the output quietly.
pub fn print(text: &str) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush());
}

/// Reads the deployment's cut-off file, if one is given.
pub fn load_cutoffs(arg: &CutoffsArg) -> Result<Cutoffs, Failure> {
    let Some(path) = &arg.cutoffs else { return Ok(Cutoffs::default()) };
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("cannot read the cut-off file {}: {e}", path.display())))?;
    Cutoffs::parse(&text, catalog()).map_err(|e| Failure::usage(format!("cut-off file {}: {e}", path.display())))
}

/// Reads the deployment's emergency contacts, or takes the shipped ones.
fn load_emergency_contacts(path: Option<&std::path::Path>) -> Result<EmergencyContacts, Failure> {
    let Some(path) = path else { return Ok(EmergencyContacts::shipped()) };
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("cannot read the emergency contacts {}: {e}", path.display())))?;
    EmergencyContacts::parse(&text).map_err(|e| Failure::usage(format!("emergency contacts {}: {e}", path.display())))
}

pub async fn run(cli: Cli) -> Outcome {
    match cli.command {
        Command::Serve {
            db,
            listen,
            demo,
            demo_people,
            cutoffs,
            require_admin_totp,
            session_idle_minutes,
            session_hours,
            outbox_file,
            escalation_grace_days,
            red_flag_escalation_hours,
            lost_after_days,
            disclosure_k,
            disclosure_share_group,
            release_every_minutes,
            trusted_proxy,
            emergency_contacts,
            public_url,
        } => {
            if disclosure_k < 2 {
                return Err(Failure::usage("--disclosure-k must be at least 2"));
            }
            let proxies = trusted_proxy
                .iter()
                .map(|p| {
                    hamroh_web::proxy::parse_network(p).map_err(|e| Failure::usage(format!("--trusted-proxy: {e}")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let settings = serve::Settings {
                cutoffs: load_cutoffs(&cutoffs)?,
                require_admin_totp,
                limits: hamroh_store::SessionLimits {
                    idle_ms: session_idle_minutes.max(1) * 60_000,
                    absolute_ms: session_hours.max(1) * 3_600_000,
                },
                outbox_file,
                safety_net: hamroh_web::SafetyNet {
                    escalation_grace_days: escalation_grace_days.max(0),
                    red_flag_escalation_hours: red_flag_escalation_hours.max(1),
                    lost_after_days: lost_after_days.max(1),
                },
                disclosure: hamroh_web::evidence::Disclosure {
                    k: disclosure_k,
                    min_share_group: disclosure_share_group.max(disclosure_k),
                    release_every_minutes: release_every_minutes.max(0),
                },
                proxies: hamroh_web::proxy::TrustedProxies::new(proxies),
                emergency: load_emergency_contacts(emergency_contacts.as_deref())?,
                public_url: match public_url {
                    Some(url) if !(url.starts_with("https://") || url.starts_with("http://")) => {
                        return Err(Failure::usage(format!(
                            "--public-url: `{url}` must start with https:// or http://"
                        )));
                    }
                    other => other,
                },
            };
            serve::run(&db.db, &listen, demo.then_some(demo_people), settings).await
        }
        Command::User { action } => accounts::user(action).await,
        Command::Org { action } => accounts::org(action).await,
        Command::Token { action } => accounts::token(action).await,
        Command::SafetyNet { db, red_flag_escalation_hours, at } => {
            let now = match at {
                None => hamroh_store::now_millis(),
                Some(at) => at
                    .parse::<jiff::Timestamp>()
                    .map_err(|e| Failure::usage(format!("--at: {e} (e.g. 2026-12-03T09:00:00+05:00)")))?
                    .as_millisecond(),
            };
            let store = open(&db.db).await?;
            let net = hamroh_web::SafetyNet {
                red_flag_escalation_hours: red_flag_escalation_hours.max(1),
                ..Default::default()
            };
            let escalated = net.escalate(&store, now, &hamroh_web::notify::FluentNotifier).await?;
            println!("{} persons' red flags escalated", escalated.len());
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        Command::Backup { db, file } => {
            let store = open(&db.db).await?;
            store.backup_to(&file).await?;
            store.close().await;
            let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
            eprintln!("hamroh: backup written to {} ({size} bytes)", file.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Restore { file, db } => {
            let url: DbUrl = db.parse()?;
            let DbUrl::Sqlite(path) = url else {
                return Err(Failure::usage(
                    "restore writes an SQLite database; for PostgreSQL use pg_restore (see the README)",
                ));
            };
            let verified = hamroh_store::backup::restore(&file, &path).await?;
            eprintln!("hamroh: restored to {} ({verified} audit events verified)", path.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Migrate { db } => {
            let store = open(&db.db).await?;
            eprintln!("hamroh: the {} database schema is up to date", store.backend_name());
            Ok(ExitCode::SUCCESS)
        }
        Command::Demo { db, people, seed, as_of, force } => {
            demo::run(&db.db, people, seed, as_of.as_deref(), force).await
        }
        Command::Score { instrument, answers, sex, lang, cutoffs } => {
            instruments::score(&instrument, &answers, sex, lang, &load_cutoffs(&cutoffs)?)
        }
        Command::Instruments { action } => instruments::list_or_show(action),
        Command::Audit { action: AuditAction::Verify { db } } => audit::verify(&db.db).await,
        Command::Audit { action: AuditAction::Releases { db, limit } } => audit::releases(&db.db, limit).await,
        Command::Export { what } => export::run(what).await,
        Command::Import { what } => import::run(what).await,
    }
}
