//! Command-line interface. Every command that touches data takes `--db URL` (or `HAMROH_DB`).

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(name = "hamroh", version, about = "Screening, referral and follow-up for returned labour migrants")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct DbArg {
    /// Database: sqlite://PATH (embedded, the default) or postgres://USER@HOST/DATABASE
    #[arg(long, env = "HAMROH_DB", default_value = "sqlite://hamroh.db")]
    pub db: String,
}

#[derive(Debug, Args)]
pub struct CutoffsArg {
    /// The deployment's own cut-offs (a TOML file, one table per instrument), overriding the
    /// instrument files'
    #[arg(long, env = "HAMROH_CUTOFFS")]
    pub cutoffs: Option<std::path::PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the web application and the API
    Serve {
        #[command(flatten)]
        db: DbArg,
        /// Address to listen on
        #[arg(long, env = "HAMROH_LISTEN", default_value = "127.0.0.1:8080")]
        listen: String,
        /// Seed a demo data set and demo users into an empty database, and print how to log in
        #[arg(long)]
        demo: bool,
        /// People in the demo data set (with --demo)
        #[arg(long, default_value_t = 500)]
        demo_people: u64,
        #[command(flatten)]
        cutoffs: CutoffsArg,
    },
    /// Bring the database schema up to date
    Migrate {
        #[command(flatten)]
        db: DbArg,
    },
    /// Fill an empty database with a deterministic synthetic data set (no record is a real person)
    Demo {
        #[command(flatten)]
        db: DbArg,
        /// Number of people
        #[arg(long, default_value_t = 500)]
        people: u64,
        /// Seed: the same seed, number of people and --as-of date give the same data
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// The day the data set ends on (YYYY-MM-DD); default: today in Dushanbe
        #[arg(long)]
        as_of: Option<String>,
        /// Add demo data even though the database already holds people
        #[arg(long)]
        force: bool,
    },
    /// Score one administration of an instrument and print the result as JSON
    Score {
        /// Instrument id (see `hamroh instruments`)
        instrument: String,
        /// Answers in item order, comma-separated; `-` for an item the skip rules leave out
        #[arg(long, allow_hyphen_values = true)]
        answers: String,
        /// The respondent's sex, for instruments whose rules depend on it
        #[arg(long)]
        sex: Option<SexArg>,
        /// Language of the texts in the result
        #[arg(long, default_value = "en")]
        lang: LangArg,
        #[command(flatten)]
        cutoffs: CutoffsArg,
    },
    /// List the instruments, or show one as a clinician would read it
    Instruments {
        #[command(subcommand)]
        action: Option<InstrumentsAction>,
    },
    /// Check the audit trail
    Audit {
        #[command(subcommand)]
        action: AuditAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum InstrumentsAction {
    /// Print an instrument's items and answer options
    Show {
        id: String,
        #[arg(long, default_value = "en")]
        lang: LangArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Walk the hash chain; exit non-zero naming the first broken event
    Verify {
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SexArg {
    Male,
    Female,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LangArg {
    Tg,
    Ru,
    En,
}

impl From<SexArg> for hamroh_domain::person::Sex {
    fn from(s: SexArg) -> Self {
        match s {
            SexArg::Male => Self::Male,
            SexArg::Female => Self::Female,
        }
    }
}

impl From<LangArg> for hamroh_domain::org::Lang {
    fn from(l: LangArg) -> Self {
        match l {
            LangArg::Tg => Self::Tg,
            LangArg::Ru => Self::Ru,
            LangArg::En => Self::En,
        }
    }
}
