//! The `hamroh` command as a user runs it: exit codes, one-line errors, nothing half-created.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn hamroh(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hamroh"))
        .args(args)
        .env_remove("HAMROH_DB")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("hamroh.db").display())
}

#[test]
fn a_malformed_database_url_is_one_clear_line_and_exit_2() {
    for bad in ["mysql://x/y", "hamroh.db", "sqlite://"] {
        let out = hamroh(&["migrate", "--db", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}");
        let err = stderr(&out);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("hamroh: error: invalid database URL"), "{err}");
    }
}

#[test]
fn an_unwritable_sqlite_path_is_refused_and_nothing_is_created() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("no-such-dir");
    let out = hamroh(&["migrate", "--db", &format!("sqlite://{}/h.db", missing.display())]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
    assert!(!missing.exists());
}

#[test]
fn an_unreachable_postgres_server_is_one_clear_line_and_exit_2() {
    let out = hamroh(&["migrate", "--db", "postgres://hamroh:secret@127.0.0.1:1/hamroh"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("cannot reach the database") && !err.contains("secret"), "{err}");
}

#[test]
fn demo_fills_an_empty_database_and_refuses_one_that_holds_people() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let out = hamroh(&["demo", "--db", &db, "--people", "30", "--seed", "4", "--as-of", "2026-10-01"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("clinician"));

    let again = hamroh(&["demo", "--db", &db, "--people", "30", "--seed", "5"]);
    assert_eq!(again.status.code(), Some(2));
    assert!(stderr(&again).contains("--force"), "{}", stderr(&again));

    let same_seed = hamroh(&["demo", "--db", &db, "--people", "30", "--seed", "4", "--as-of", "2026-10-01", "--force"]);
    assert_eq!(same_seed.status.code(), Some(2));
    assert!(stderr(&same_seed).contains("already loaded"), "{}", stderr(&same_seed));

    let forced = hamroh(&["demo", "--db", &db, "--people", "10", "--seed", "5", "--force"]);
    assert!(forced.status.success(), "{}", stderr(&forced));
    let verify = hamroh(&["audit", "verify", "--db", &db]);
    assert!(verify.status.success(), "{}", stderr(&verify));
}

#[test]
fn the_same_seed_gives_the_same_data_set() {
    let fingerprint = |seed: &str| {
        let dir = tempfile::tempdir().unwrap();
        let db = sqlite_url(dir.path());
        assert!(
            hamroh(&["demo", "--db", &db, "--people", "25", "--seed", seed, "--as-of", "2026-06-30"]).status.success()
        );
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async {
            let store = hamroh_store::Store::open(&db.parse().unwrap()).await.unwrap();
            let counts = store.counts().await.unwrap();
            store.close().await;
            counts
        })
    };
    assert_eq!(fingerprint("8"), fingerprint("8"));
}

#[test]
fn audit_verify_names_the_first_altered_event() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    assert!(hamroh(&["demo", "--db", &db, "--people", "5"]).status.success());
    let ok = hamroh(&["audit", "verify", "--db", &db]);
    assert!(ok.status.success());
    assert!(String::from_utf8_lossy(&ok.stdout).contains("audit chain intact"));
    let rt = tokio::runtime::Runtime::new().unwrap();
    let changed = rt.block_on(hamroh_store::testing::raw_execute(
        &db.parse().unwrap(),
        "UPDATE audit_events SET actor = 'user:someone-else' WHERE seq = 12",
    ));
    assert_eq!(changed, 1);
    let broken = hamroh(&["audit", "verify", "--db", &db]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(stderr(&broken).contains("audit event 12"), "{}", stderr(&broken));
}

#[test]
fn score_prints_one_json_object_and_rejects_bad_answers_with_exit_2() {
    let out = hamroh(&["score", "phq9", "--answers", "1,1,1,1,1,1,1,1,1"]);
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["instrument"], "phq9");
    assert_eq!(json["total"], 9);
    assert_eq!(json["band"], "mild");
    assert_eq!(json["positive"], false);
    assert_eq!(json["flags"], serde_json::json!(["self_harm"]));

    let out = hamroh(&["score", "phq9", "--answers", "1,1,1,1,1,1,1,1"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out).lines().count(), 1);
    let out = hamroh(&["score", "phq9", "--answers", "0,0,0,7,0,0,0,0,0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("item 4"), "{}", stderr(&out));
    let out = hamroh(&["score", "nosuch", "--answers", "1"]);
    assert_eq!(out.status.code(), Some(2));
}

/// One HTTP/1.1 request over a plain socket; returns the status line and the body.
fn http_get(address: &str, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    write!(stream, "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.lines().next().unwrap_or_default().to_owned();
    let body = response.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
    (status, body)
}

#[test]
fn serve_demo_answers_healthz_serves_a_login_page_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hamroh"))
        .args(["serve", "--db", &sqlite_url(dir.path()), "--listen", "127.0.0.1:0", "--demo", "--demo-people", "20"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let address = loop {
        let line = lines.next().expect("serve printed its address").unwrap();
        if let Some(rest) = line.split("http://").nth(1) {
            break rest.split('/').next().unwrap().to_owned();
        }
        printed.push(line);
    };
    assert!(printed.iter().any(|l| l.contains("clinician") && l.contains("demo-clinician-pass")), "{printed:?}");
    let (status, body) = http_get(&address, "/healthz");
    assert!(status.contains("200"), "{status}");
    assert!(body.contains("ok"));
    let (status, body) = http_get(&address, "/login");
    assert!(status.contains("200"), "{status}");
    assert!(body.contains("name=\"password\""));
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let exit = child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn a_deployment_cut_off_file_overrides_the_instrument_and_is_checked() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cutoffs.toml");
    std::fs::write(&file, "[srq20]\nat_least_male = 10\nsource = \"local validation\"\n").unwrap();
    let answers = "1,1,1,1,1,1,1,1,1,0,0,0,0,0,0,0,0,0,0,0";
    let out = hamroh(&["score", "srq20", "--sex", "male", "--answers", answers, "--cutoffs", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((json["positive"].as_bool(), json["band"].as_str()), (Some(false), Some("negative")));
    assert_eq!(json["cutoff"], serde_json::json!({"at_least": 10, "source": "deployment"}));
    let default = hamroh(&["score", "srq20", "--sex", "male", "--answers", answers]);
    let json: serde_json::Value = serde_json::from_slice(&default.stdout).unwrap();
    assert_eq!(json["cutoff"], serde_json::json!({"at_least": 8, "source": "instrument"}));

    std::fs::write(&file, "[srq20]\nat_least = 30\n").unwrap();
    let out = hamroh(&["score", "srq20", "--answers", answers, "--cutoffs", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("outside the score range"), "{}", stderr(&out));
}

#[test]
fn instruments_are_listed_and_shown_as_a_clinician_reads_them() {
    let out = hamroh(&["instruments"]);
    assert!(out.status.success());
    let list = String::from_utf8_lossy(&out.stdout);
    assert_eq!(list.lines().count(), hamroh_domain::instrument::catalog().iter().count(), "{list}");
    let out = hamroh(&["instruments", "show", "phq9", "--lang", "ru"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("9. ") && text.contains("Почти каждый день"), "{text}");
    assert_eq!(hamroh(&["instruments", "show", "nosuch"]).status.code(), Some(2));
}

fn hamroh_stdin(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hamroh"))
        .args(args)
        .env_remove("HAMROH_DB")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn accounts_are_managed_from_the_command_line_and_audited() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let org = hamroh(&[
        "org",
        "add",
        "--db",
        &db,
        "--name",
        "Vahdat Health Centre",
        "--sector",
        "primary_care",
        "--district",
        "TJ-RA.vahdat",
    ]);
    assert!(org.status.success(), "{}", stderr(&org));
    assert_eq!(hamroh(&["org", "add", "--db", &db, "--name", "X", "--sector", "bakery"]).status.code(), Some(2));
    let list = String::from_utf8_lossy(&hamroh(&["org", "list", "--db", &db]).stdout).into_owned();
    assert!(list.contains("Vahdat Health Centre") && list.contains("TJ-RA.vahdat"), "{list}");

    let add = [
        "user",
        "add",
        "--db",
        &db,
        "--username",
        "nodira",
        "--name",
        "Nodira K.",
        "--org",
        "Vahdat Health Centre",
        "--role",
        "clinician",
    ];
    let weak = hamroh_stdin(&add, "password123\n");
    assert_eq!(weak.status.code(), Some(2));
    assert!(stderr(&weak).contains("common"), "{}", stderr(&weak));
    let ok = hamroh_stdin(&add, "river stone window 7\n");
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert_eq!(hamroh_stdin(&add, "river stone window 7\n").status.code(), Some(2), "the username is taken");

    let token = hamroh(&[
        "token",
        "create",
        "--db",
        &db,
        "--username",
        "nodira",
        "--name",
        "kobo sync",
        "--scope",
        "persons:read",
    ]);
    assert!(token.status.success(), "{}", stderr(&token));
    assert!(String::from_utf8_lossy(&token.stdout).trim().starts_with("hmr_"));

    assert!(hamroh(&["user", "disable", "--db", &db, "nodira"]).status.success());
    let users = String::from_utf8_lossy(&hamroh(&["user", "list", "--db", &db]).stdout).into_owned();
    assert!(users.contains("nodira") && users.contains("disabled"), "{users}");
    assert_eq!(hamroh(&["user", "disable", "--db", &db, "nobody"]).status.code(), Some(2));

    let rt = tokio::runtime::Runtime::new().unwrap();
    let actors = rt.block_on(async {
        let store = hamroh_store::Store::open(&db.parse().unwrap()).await.unwrap();
        let n = store.audit_len().await.unwrap();
        let ok = store.verify_audit().await.unwrap().is_ok();
        store.close().await;
        (n, ok)
    });
    // Organisation, user, token, disabling: one audit event each.
    assert_eq!(actors, (4, true));
}

#[test]
fn exports_hide_small_counts_map_to_dhis2_and_write_a_k_anonymous_research_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let out = hamroh(&["demo", "--db", &db, "--people", "300", "--seed", "3", "--as-of", "2026-06-30"]);
    assert!(out.status.success(), "{}", stderr(&out));

    let out = hamroh(&[
        "export",
        "indicators",
        "--db",
        &db,
        "--from",
        "2025-07",
        "--to",
        "2026-06",
        "--by",
        "district",
        "--indicator",
        "registered",
        "--indicator",
        "screened",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let csv = String::from_utf8(out.stdout).unwrap();
    let mut published = 0;
    for line in csv.lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        if let Ok(n) = fields[7].parse::<i64>() {
            assert!(n >= 5, "{line}");
            published += 1;
        }
    }
    assert!(published > 0, "{csv}");

    let mapping = dir.path().join("mapping.json");
    std::fs::write(
        &mapping,
        r#"{"dataElements": {"registered": {"dataElement": "deReg000001"}}, "orgUnits": {"TJ-KT": "ouKhatlon01"}}"#,
    )
    .unwrap();
    let out = hamroh(&[
        "export",
        "indicators",
        "--db",
        &db,
        "--from",
        "2025-07",
        "--to",
        "2026-06",
        "--indicator",
        "registered",
        "--format",
        "dhis2",
        "--dhis2-mapping",
        mapping.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let payload: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // At this data set's size, quarterly regions may all be hidden to protect their districts.
    let values = payload["dataValues"].as_array().unwrap();
    for v in values {
        assert_eq!(v["dataElement"], "deReg000001");
        assert_eq!(v["orgUnit"], "ouKhatlon01", "only mapped units are sent");
        assert!(v["period"].as_str().unwrap().contains('Q'), "{v}");
        assert!(v["value"].as_str().unwrap().parse::<i64>().unwrap() >= 5);
    }
    let out = hamroh(&["export", "indicators", "--db", &db, "--format", "dhis2"]);
    assert_eq!(out.status.code(), Some(2), "a DHIS2 export without a mapping is refused");
    // Both exports are in the release log, newest first, as going to the command line.
    let out = hamroh(&["audit", "releases", "--db", &db]);
    assert!(out.status.success(), "{}", stderr(&out));
    let log = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = log.lines().collect();
    assert!(lines[0].starts_with("at\tuser\torganisation\tchannel"), "{log}");
    assert_eq!(lines.len(), 3, "{log}");
    assert!(lines[1].contains("\tcommand line\t") && lines[1].contains("\texport dhis2\t"), "{log}");
    assert!(lines[2].contains("\texport csv\tdistrict\t") && lines[2].contains("indicators=registered,screened"));
    // A misspelt indicator and an invalid UID are refused, naming their lines; so is a breakdown
    // that has no category option combos.
    let bad = dir.path().join("bad.json");
    std::fs::write(
        &bad,
        "{\"dataElements\": {\n  \"registred\": {\"dataElement\": \"deReg000001\"},\n  \"registered\": {\"dataElement\": \"1bad\"}\n},\n\"orgUnits\": {}}",
    )
    .unwrap();
    let mapped = |file: &std::path::Path, by: &str| {
        hamroh(&[
            "export",
            "indicators",
            "--db",
            &db,
            "--format",
            "dhis2",
            "--by",
            by,
            "--dhis2-mapping",
            file.to_str().unwrap(),
        ])
    };
    let out = mapped(&bad, "region");
    assert_eq!(out.status.code(), Some(2));
    let said = stderr(&out);
    assert!(said.contains("line 2: `registred`") && said.contains("line 3: `1bad`"), "{said}");
    let out = mapped(&mapping, "sex");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("category option combos"));

    let file = dir.path().join("research.csv");
    let out = hamroh(&["export", "microdata", "--db", &db, "--k", "5", "-o", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&file).unwrap();
    let mut classes: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for line in text.lines().skip(1) {
        let quasi: Vec<&str> = line.split(',').take(4).collect();
        *classes.entry(quasi.join(",")).or_default() += 1;
    }
    assert!(!classes.is_empty());
    assert!(classes.values().all(|n| *n >= 5), "{classes:?}");
    assert!(stderr(&out).contains("withheld"), "{}", stderr(&out));
    let codebook = std::fs::read_to_string(dir.path().join("research.codebook.md")).unwrap();
    assert!(codebook.contains("k = 5") && codebook.contains("| age_band |"));
}

#[test]
fn every_instrument_exports_as_a_fhir_questionnaire() {
    let dir = tempfile::tempdir().unwrap();
    let out = hamroh(&["export", "questionnaires", "-o", dir.path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let phq9: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("Questionnaire-phq9.json")).unwrap()).unwrap();
    assert_eq!(phq9["resourceType"], "Questionnaire");
    assert_eq!(phq9["code"][0]["code"], "44249-1");
    assert_eq!(phq9["item"].as_array().unwrap().len(), 10);
    assert_eq!(phq9["item"][9]["code"][0]["code"], "69722-7");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), hamroh_domain::instrument::catalog().iter().count());
}

#[test]
fn records_changed_since_a_day_export_as_one_valid_pseudonymous_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let out = hamroh(&["demo", "--db", &db, "--people", "40", "--seed", "5", "--as-of", "2026-06-30"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let file = dir.path().join("bundle.json");
    // Records count as changed when they were stored: the demo was stored just now.
    let out = hamroh(&["export", "fhir", "--db", &db, "--since", "2020-01-01", "-o", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bundle: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    let entries = bundle["entry"].as_array().unwrap();
    let patients = entries.iter().filter(|e| e["resource"]["resourceType"] == "Patient").count();
    assert_eq!(patients, 40);
    assert!(entries.iter().all(|e| e["resource"].get("name").is_none()), "pseudonymous");
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fhir/validate.py");
    let check = Command::new("python3").arg(&script).arg(&file).output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
    let out = hamroh(&["export", "fhir", "--db", &db, "--since", "2099-01-01"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let empty: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(empty.get("entry").is_none(), "nothing changed since then");
    let out = hamroh(&["export", "fhir", "--db", &db, "--since", "May"]);
    assert_eq!(out.status.code(), Some(2));

    // FHIR Bulk Data: one NDJSON file per resource type, references as Type/id, each line valid.
    let bulk = dir.path().join("bulk");
    let out = hamroh(&["export", "fhir", "--db", &db, "--format", "ndjson", "-o", bulk.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let read = |kind: &str| -> Vec<serde_json::Value> {
        let text = std::fs::read_to_string(bulk.join(format!("{kind}.ndjson"))).unwrap_or_default();
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    };
    let patients = read("Patient");
    assert_eq!(patients.len(), 40);
    let ids: std::collections::HashSet<String> =
        patients.iter().map(|p| format!("Patient/{}", p["id"].as_str().unwrap())).collect();
    let responses = read("QuestionnaireResponse");
    assert!(!responses.is_empty());
    assert!(responses.iter().all(|r| r["resourceType"] == "QuestionnaireResponse"), "one type per file");
    assert!(responses.iter().all(|r| ids.contains(r["subject"]["reference"].as_str().unwrap())), "Patient/id");
    assert_eq!(
        bundle["entry"].as_array().unwrap().len(),
        std::fs::read_dir(&bulk)
            .unwrap()
            .map(|f| { std::fs::read_to_string(f.unwrap().path()).unwrap().lines().count() })
            .sum::<usize>(),
        "the same resources as the Bundle"
    );
    let check = Command::new("python3").arg(&script).arg(&bulk).output().unwrap();
    assert!(check.status.success(), "{}", String::from_utf8_lossy(&check.stdout));
    let out = hamroh(&["export", "fhir", "--db", &db, "--format", "ndjson"]);
    assert_eq!(out.status.code(), Some(2), "NDJSON needs a directory");
}

#[test]
fn a_backup_taken_while_serving_restores_to_the_same_records_with_an_intact_audit_chain() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path());
    let mut child = Command::new(env!("CARGO_BIN_EXE_hamroh"))
        .args(["serve", "--db", &db, "--listen", "127.0.0.1:0", "--demo", "--demo-people", "60"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let address = loop {
        let line = lines.next().expect("serve printed its address").unwrap();
        if let Some(rest) = line.split("http://").nth(1) {
            break rest.split('/').next().unwrap().to_owned();
        }
    };
    // The backup is taken while the server holds the database open and answers requests.
    let backup = dir.path().join("backup.db");
    let out = hamroh(&["backup", "--db", &db, backup.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(http_get(&address, "/healthz").0.contains("200"));
    let again = hamroh(&["backup", "--db", &db, backup.to_str().unwrap()]);
    assert!(!again.status.success(), "an existing backup file is never overwritten");
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    child.wait().unwrap();

    let restored_path = dir.path().join("restored.db");
    let restored = format!("sqlite://{}", restored_path.display());
    let out = hamroh(&["restore", backup.to_str().unwrap(), "--db", &restored]);
    assert!(out.status.success(), "{}", stderr(&out));
    let original = hamroh(&["audit", "verify", "--db", &db]);
    let copy = hamroh(&["audit", "verify", "--db", &restored]);
    assert!(copy.status.success(), "{}", stderr(&copy));
    assert_eq!(String::from_utf8_lossy(&original.stdout), String::from_utf8_lossy(&copy.stdout));
    let export = |url: &str| {
        let out = hamroh(&[
            "export",
            "indicators",
            "--db",
            url,
            "--from",
            "2020-01",
            "--by",
            "district",
            "--indicator",
            "registered",
            "--indicator",
            "screened",
        ]);
        assert!(out.status.success(), "{}", stderr(&out));
        out.stdout
    };
    assert_eq!(export(&db), export(&restored), "the same figures from the copy");

    let again = hamroh(&["restore", backup.to_str().unwrap(), "--db", &restored]);
    assert!(!again.status.success(), "a restore never replaces a database");
    let broken = dir.path().join("broken.db");
    std::fs::write(&broken, b"SQLite format 3\0 and then nothing useful").unwrap();
    let target = dir.path().join("from-broken.db");
    let out = hamroh(&["restore", broken.to_str().unwrap(), "--db", &format!("sqlite://{}", target.display())]);
    assert!(!out.status.success());
    assert!(!target.exists(), "a bad backup leaves nothing behind");
}

/// One HTTP/1.1 request over a fresh connection: (status line, raw headers, body).
fn http(address: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (String, String, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    (head.lines().next().unwrap_or_default().to_owned(), head.to_owned(), body.to_owned())
}

#[test]
fn a_persons_canary_values_appear_in_no_log_line_even_at_debug_level() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hamroh"))
        .args(["serve", "--db", &sqlite_url(dir.path()), "--listen", "127.0.0.1:0", "--demo", "--demo-people", "10"])
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read the log as it comes, so that a full pipe never blocks the server.
    let mut stderr = child.stderr.take().unwrap();
    let log_reader = std::thread::spawn(move || {
        let mut log = String::new();
        stderr.read_to_string(&mut log).unwrap();
        log
    });
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let address = loop {
        let line = lines.next().expect("serve printed its address").unwrap();
        if let Some(rest) = line.split("http://").nth(1) {
            break rest.split('/').next().unwrap().to_owned();
        }
    };
    let origin = format!("http://{address}");
    let (status, head, _) = http(
        &address,
        "POST",
        "/login",
        &[("Content-Type", "application/x-www-form-urlencoded"), ("Origin", &origin)],
        "username=clinician&password=demo-clinician-pass",
    );
    assert!(status.contains("303"), "{status}");
    let cookie =
        head.lines().find_map(|l| l.strip_prefix("set-cookie: ")).unwrap().split(';').next().unwrap().to_owned();
    let json = [("Content-Type", "application/json"), ("Origin", origin.as_str()), ("Cookie", cookie.as_str())];
    let page = [("Origin", origin.as_str()), ("Cookie", cookie.as_str())];

    // Canary values in every field a person has.
    let person = r#"{"family_name": "Qzcanaryfam", "given_name": "Qzcanarygiv", "sex": "female", "birth_year": "1979",
        "district": "TJ-KT.kulob", "phone": "+992 91 777 31 59", "consents": ["care"], "confirm_new": true,
        "episodes": [{"destination_country": "RU", "destination_region": "Qzcanaryregion", "year_from": "2015",
        "work_sector": "construction", "occupation": "Qzcanaryjob"}]}"#;
    let (status, _, body) = http(&address, "POST", "/api/v1/persons", &json, person);
    assert!(status.contains("201"), "{status} {body}");
    let id = body.split("\"id\":\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    for path in [
        "/persons?q=Qzcanaryfam".to_owned(),
        "/api/v1/persons?q=Qzcanarygiv".to_owned(),
        "/persons?q=%2B992917773159".to_owned(),
        format!("/persons/{id}"),
        format!("/api/v1/persons/{id}"),
        format!("/api/v1/persons/{id}/fhir?purpose=care"),
        format!("/persons/{id}/refer"),
    ] {
        let (status, _, _) = http(&address, "GET", &path, &page, "");
        assert!(status.contains("200"), "{path}: {status}");
    }
    let screening = r#"{"screenings": [{"instrument": "phq2", "answers": [1, 2]}], "respondent_lang": "tg"}"#;
    let (status, _, _) = http(&address, "POST", &format!("/api/v1/persons/{id}/encounters"), &json, screening);
    assert!(status.contains("201"), "{status}");
    // A refused registration echoes the canary in its answer, never in the log.
    let (status, _, _) =
        http(&address, "POST", "/api/v1/persons", &json, r#"{"family_name": "Qzcanarybad", "sex": "x"}"#);
    assert!(status.contains("422"), "{status}");

    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    child.wait().unwrap();
    let log = log_reader.join().unwrap();
    assert!(log.lines().count() > 10, "the server logged at debug level: {log}");
    for canary in ["Qzcanary", "qzcanary", "777 31 59", "917773159", "7773159"] {
        let hits: Vec<&str> = log.lines().filter(|l| l.contains(canary)).collect();
        assert!(hits.is_empty(), "{canary} in the log: {hits:?}");
    }
}
