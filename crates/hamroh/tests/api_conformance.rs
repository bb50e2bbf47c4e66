//! Schemathesis (PyPI) against the served OpenAPI document, as a clinician and as an analyst: no
//! answer is a server error, and every status, content type, header and body is the documented
//! one; and the document itself is valid OpenAPI, by openapi-spec-validator (PyPI). The test
//! command installs both (tests/api/requirements.txt).

mod common;

use std::process::Command;

use common::{demo_db, get, serve, text, token};

#[test]
fn every_api_answer_matches_the_openapi_document_and_none_is_a_server_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_db(dir.path(), "30");
    let server = serve(&db, &[]);
    let schema = format!("http://{}/api/v1/openapi.json", server.address);
    for user in ["clinician", "analyst", "coordinator"] {
        let auth = format!("Authorization: Bearer {}", token(&db, user));
        let run = Command::new("schemathesis")
            .args(["run", &schema, "-H", &auth, "--max-examples", "25", "--workers", "2", "--seed", "7"])
            .args([
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,\
                 response_headers_conformance,response_schema_conformance,unsupported_method",
            ])
            .env("SCHEMATHESIS_HOOKS", "")
            .current_dir(dir.path())
            .output()
            .expect("schemathesis is installed (scripts/test installs it from PyPI)");
        let report = text(&run.stdout);
        assert!(run.status.success(), "as {user}:\n{report}\n{}", text(&run.stderr));
        let summary = report.lines().last().unwrap_or_default();
        eprintln!("schemathesis as {user}: {summary}");
    }
}

#[test]
fn the_openapi_document_is_valid_by_an_independent_validator() {
    let dir = tempfile::tempdir().unwrap();
    let db = demo_db(dir.path(), "5");
    let server = serve(&db, &[]);
    let (status, doc) = get(&server.address, "/api/v1/openapi.json", &[]).unwrap();
    assert_eq!(status, 200);
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, doc).unwrap();
    let run = Command::new("openapi-spec-validator")
        .arg(&file)
        .output()
        .expect("openapi-spec-validator is installed (scripts/test installs it from PyPI)");
    assert!(run.status.success(), "{}\n{}", text(&run.stdout), text(&run.stderr));
}
