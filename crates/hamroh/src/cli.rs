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
        /// Administrators must set up a second factor (TOTP) before doing anything else
        #[arg(long, env = "HAMROH_REQUIRE_ADMIN_TOTP")]
        require_admin_totp: bool,
        /// Minutes without activity after which a session ends
        #[arg(long, env = "HAMROH_SESSION_IDLE_MINUTES", default_value_t = 30)]
        session_idle_minutes: i64,
        /// Hours after log-in at which a session ends, whatever the activity
        #[arg(long, env = "HAMROH_SESSION_HOURS", default_value_t = 12)]
        session_hours: i64,
        /// Deliver e-mail and SMS notifications by appending them to this file (JSON lines);
        /// without it they are logged (id and channel only)
        #[arg(long, env = "HAMROH_OUTBOX_FILE")]
        outbox_file: Option<std::path::PathBuf>,
        /// Days past its due date after which a referral or follow-up moves to the coordinators' list
        #[arg(long, env = "HAMROH_ESCALATION_GRACE_DAYS", default_value_t = 7)]
        escalation_grace_days: i64,
        /// Hours after which a red flag without its safety assessment is escalated to the
        /// coordinators (their worklist, and e-mail or SMS)
        #[arg(long, env = "HAMROH_RED_FLAG_ESCALATION_HOURS", default_value_t = 24)]
        red_flag_escalation_hours: i64,
        /// Days after a positive screen or red flag without an attended referral or completed
        /// follow-up, after which a person counts as lost to follow-up
        #[arg(long, env = "HAMROH_LOST_AFTER_DAYS", default_value_t = 30)]
        lost_after_days: i64,
        /// The smallest count the dashboard and the indicators API publish (at least 2)
        #[arg(long, env = "HAMROH_DISCLOSURE_K", default_value_t = 5)]
        disclosure_k: i64,
        /// The smallest group over which a share of 0 % or 100 % is published (at least the
        /// disclosure k): below it, such a share tells every member's status
        #[arg(long, env = "HAMROH_DISCLOSURE_SHARE_GROUP", default_value_t = 10)]
        disclosure_share_group: i64,
        /// Minutes a year's released figures are shown before changed counts make a new release
        /// (0: a new release as soon as the counts change). Fewer releases hide fewer figures and
        /// keep the releases that a new one is protected together with further apart, at the price
        /// of figures up to this old
        #[arg(long, env = "HAMROH_RELEASE_EVERY_MINUTES", default_value_t = 0)]
        release_every_minutes: i64,
        /// A reverse proxy in front of Hamroh (an address or a network such as 10.0.0.0/8; repeat
        /// or separate with commas): only from it is `X-Forwarded-For` taken as the client's
        /// address, for log-in throttling and the audit trail
        #[arg(long, env = "HAMROH_TRUSTED_PROXY", value_delimiter = ',')]
        trusted_proxy: Vec<String>,
        /// Emergency numbers and each district's psychiatric emergency service, shown beside every
        /// self-harm flag (a TOML file; see data/emergency-contacts.toml, the one used without it)
        #[arg(long, env = "HAMROH_EMERGENCY_CONTACTS")]
        emergency_contacts: Option<std::path::PathBuf>,
        /// Where people reach this deployment (such as https://hamroh.example.tj), used in the
        /// links sent to services without accounts; without it, the address each request came to
        #[arg(long, env = "HAMROH_PUBLIC_URL")]
        public_url: Option<String>,
    },
    /// Manage users: add, list, disable, enable, reset a password
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Manage organisations
    Org {
        #[command(subcommand)]
        action: OrgAction,
    },
    /// Manage API tokens for machine clients
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Escalate the red flags not assessed in time, once (`serve` does this every minute)
    SafetyNet {
        #[command(flatten)]
        db: DbArg,
        /// Hours after which a red flag without its safety assessment is escalated
        #[arg(long, env = "HAMROH_RED_FLAG_ESCALATION_HOURS", default_value_t = 24)]
        red_flag_escalation_hours: i64,
        /// Run as at this moment (RFC 3339, e.g. 2026-12-03T09:00:00+05:00) instead of now
        #[arg(long)]
        at: Option<String>,
    },
    /// Write a consistent copy of the SQLite database to FILE, while it serves
    Backup {
        #[command(flatten)]
        db: DbArg,
        /// The backup file to create (must not exist)
        file: std::path::PathBuf,
    },
    /// Check a backup (integrity, audit chain) and restore it to a new SQLite database
    Restore {
        /// The backup file
        file: std::path::PathBuf,
        /// Where the restored database goes: sqlite://PATH, a path that holds no database yet
        #[arg(long, env = "HAMROH_DB", default_value = "sqlite://hamroh.db")]
        db: String,
    },
    /// Bring the database schema up to date
    Migrate {
        #[command(flatten)]
        db: DbArg,
    },
    /// Fill an empty database with a deterministic synthetic data set (no record is a real person).
    /// Indexes are built once after the records: run no server on the database while it loads; a
    /// load cut short is finished the next time the database is opened.
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
    /// Import survey submissions (KoBoToolbox, ODK Central) or a form authored in XLSForm
    Import {
        #[command(subcommand)]
        what: ImportWhat,
    },
    /// Export disclosure-controlled indicators, or a de-identified research file
    Export {
        #[command(subcommand)]
        what: ExportWhat,
    },
}

#[derive(Debug, Subcommand)]
pub enum ImportWhat {
    /// Survey submissions exported from KoBoToolbox or ODK Central (CSV or XLSX), read through a
    /// mapping file. All or nothing: any problem is listed with its row and column and nothing is
    /// stored; submissions imported before are skipped.
    Submissions {
        #[command(flatten)]
        db: DbArg,
        /// The exported file (.csv or .xlsx)
        file: std::path::PathBuf,
        /// The mapping file (TOML): which column is which field or item (see the README)
        #[arg(long)]
        mapping: std::path::PathBuf,
        /// The clinician the screenings are recorded by; new persons are registered by their organisation
        #[arg(long)]
        user: String,
        /// Check every row and print what each would create; store nothing
        #[arg(long)]
        dry_run: bool,
        /// Milliseconds to pause between parts of 1,000 submissions, so that a server using the
        /// same database keeps writing meanwhile; 0 when nothing else writes
        #[arg(long, default_value_t = 150)]
        pause_ms: u64,
        #[command(flatten)]
        cutoffs: CutoffsArg,
    },
    /// A form authored in XLSForm (survey, choices and settings sheets) as an instrument file;
    /// what Hamroh cannot score is reported, not guessed
    Xlsform {
        /// The XLSForm workbook (.xlsx)
        file: std::path::PathBuf,
        /// Where to write the instrument file; standard output when absent
        #[arg(long)]
        output: Option<std::path::PathBuf>,
        /// Replace --output if it exists
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    Csv,
    Xlsx,
    Json,
    /// DHIS2 dataValueSets JSON (needs --dhis2-mapping)
    Dhis2,
}

#[derive(Debug, Subcommand)]
pub enum ExportWhat {
    /// Indicators by period and breakdown; counts below k are hidden, as on the dashboard
    Indicators {
        #[command(flatten)]
        db: DbArg,
        /// Indicator id (repeat for several; see /api/v1/indicators); default: a standard set
        #[arg(long = "indicator")]
        indicators: Vec<String>,
        /// First month, YYYY-MM; default: eleven months before --to
        #[arg(long)]
        from: Option<String>,
        /// Last month, YYYY-MM; default: this month
        #[arg(long)]
        to: Option<String>,
        /// month, quarter or year
        #[arg(long, default_value = "quarter")]
        period: String,
        /// none, region, district, sex, age_band, destination, work_sector or category
        #[arg(long, default_value = "region")]
        by: String,
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        /// A JSON file mapping indicators to DHIS2 data elements and codes to organisation units
        #[arg(long)]
        dhis2_mapping: Option<std::path::PathBuf>,
        /// The smallest count published (at least 2)
        #[arg(long, env = "HAMROH_DISCLOSURE_K", default_value_t = 5)]
        k: i64,
        /// Days after which an unanswered positive screen counts as lost to follow-up
        #[arg(long, env = "HAMROH_LOST_AFTER_DAYS", default_value_t = 30)]
        lost_after_days: i64,
        /// Language of the category labels
        #[arg(long, default_value = "en")]
        lang: LangArg,
        /// Write here instead of standard output
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
    },
    /// Persons' records as one FHIR R4 Bundle (pseudonymous: no name or phone), audited per person
    Fhir {
        #[command(flatten)]
        db: DbArg,
        /// Only records changed on or after this day (YYYY-MM-DD, Dushanbe time); default: all
        #[arg(long)]
        since: Option<String>,
        /// `bundle`: one collection Bundle; `ndjson`: FHIR Bulk Data, one file per resource type
        /// (Patient.ndjson, ...) in the directory given with -o
        #[arg(long, value_enum, default_value_t = FhirFormat::Bundle)]
        format: FhirFormat,
        /// Write here (the Bundle's file, or the NDJSON files' directory) instead of standard output
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
    },
    /// Every instrument as a FHIR R4 Questionnaire (one JSON file per instrument)
    Questionnaires {
        /// The directory to write into (created if missing)
        #[arg(long, short)]
        output: std::path::PathBuf,
    },
    /// A k-anonymous CSV of persons who consented to research, and its codebook
    Microdata {
        #[command(flatten)]
        db: DbArg,
        /// Every combination of age band, sex, area and destination is shared by at least k lines
        #[arg(long, env = "HAMROH_DISCLOSURE_K", default_value_t = 5)]
        k: i64,
        #[arg(long, short)]
        output: std::path::PathBuf,
        /// Where to write the codebook (Markdown); default: beside the file, ending .codebook.md
        #[arg(long)]
        codebook: Option<std::path::PathBuf>,
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
    /// Write every offline form (ODK XForms, as the OpenRosa server serves them) to a directory
    Xforms {
        /// The directory to write `<formID>.xml` into (created if missing)
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserAction {
    /// Add a user; the password is read from standard input (first line)
    Add {
        #[command(flatten)]
        db: DbArg,
        #[arg(long)]
        username: String,
        /// The name shown to others
        #[arg(long)]
        name: String,
        /// The organisation: its id, or its exact name
        #[arg(long)]
        org: String,
        /// A role (repeat for several): clinician, specialist, case_worker, coordinator, analyst, admin
        #[arg(long = "role", required = true)]
        roles: Vec<String>,
        /// Interface language
        #[arg(long, default_value = "tg")]
        lang: LangArg,
    },
    /// List the users
    List {
        #[command(flatten)]
        db: DbArg,
    },
    /// Disable a user: their sessions end and their API tokens are revoked
    Disable {
        #[command(flatten)]
        db: DbArg,
        username: String,
    },
    /// Enable a disabled user again
    Enable {
        #[command(flatten)]
        db: DbArg,
        username: String,
    },
    /// Set a new password, read from standard input (first line); the user's sessions end
    ResetPassword {
        #[command(flatten)]
        db: DbArg,
        username: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum OrgAction {
    /// Add an organisation
    Add {
        #[command(flatten)]
        db: DbArg,
        #[arg(long)]
        name: String,
        /// primary_care, mental_health, rehabilitation, social_protection, employment, small_business,
        /// legal_aid, ngo, international, government
        #[arg(long)]
        sector: String,
        /// Hamroh's district code, e.g. TJ-KT.kulob
        #[arg(long)]
        district: Option<String>,
        /// The language the name is written in (tg, ru or en); pages in the other languages show
        /// it marked as such
        #[arg(long, default_value = "tg")]
        name_lang: String,
    },
    /// List the organisations
    List {
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenAction {
    /// Create a token for a user and print it once
    Create {
        #[command(flatten)]
        db: DbArg,
        #[arg(long)]
        username: String,
        /// What the token is for
        #[arg(long)]
        name: String,
        /// A scope (repeat for several): persons:read, persons:write, export, openrosa (a device key for ODK Collect, KoBoCollect or Enketo)
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
    },
    /// Revoke a token by its id
    Revoke {
        #[command(flatten)]
        db: DbArg,
        id: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Walk the hash chain; exit non-zero naming the first broken event
    Verify {
        #[command(flatten)]
        db: DbArg,
    },
    /// List the latest releases of indicator figures, newest first: when, to whom (user and
    /// organisation, or the command line), through which channel, and what was asked
    Releases {
        #[command(flatten)]
        db: DbArg,
        /// How many to list
        #[arg(long, default_value_t = 50)]
        limit: i64,
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

/// How `export fhir` writes the records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FhirFormat {
    Bundle,
    Ndjson,
}
