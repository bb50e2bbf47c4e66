//! An fsync that fails is never acknowledged as a stored write. `serve` runs with a small shared
//! library preloaded in front of the C library's `fsync` and `fdatasync`: while a flag file
//! exists, both fail with EIO, as a dying disk or a lost network volume makes them. Writes must
//! then answer 503 and store nothing; what needs no write keeps answering; once the flag is gone,
//! writes work again and the database is whole, with every acknowledged write exactly once.

mod common;

use std::path::Path;
use std::process::Command;

use common::{check_whole, get, hamroh, register, serve_with, text, token};

const SHIM: &str = r#"
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static int failing(void) {
    const char *flag = getenv("HAMROH_TEST_FSYNC_FLAG");
    return flag != NULL && access(flag, F_OK) == 0;
}

int fsync(int fd) {
    static int (*real)(int);
    if (failing()) { errno = EIO; return -1; }
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
    return real(fd);
}

int fdatasync(int fd) {
    static int (*real)(int);
    if (failing()) { errno = EIO; return -1; }
    if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
    return real(fd);
}
"#;

/// Builds the preload library in `dir` with the machine's C compiler.
fn build_shim(dir: &Path) -> std::path::PathBuf {
    let source = dir.join("failing_fsync.c");
    let library = dir.join("libfailing_fsync.so");
    std::fs::write(&source, SHIM).unwrap();
    let status = Command::new("cc")
        .args(["-shared", "-fPIC", "-O2", "-o"])
        .arg(&library)
        .arg(&source)
        .arg("-ldl")
        .status()
        .expect("a C compiler (cc) to build the fsync shim");
    assert!(status.success(), "building the fsync shim failed");
    library
}

#[test]
fn a_failed_fsync_answers_503_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let library = build_shim(dir.path());
    let flag = dir.path().join("fail-fsync");
    let db = format!("sqlite://{}", dir.path().join("hamroh.db").display());
    let out = hamroh(&["demo", "--db", &db, "--people", "5", "--seed", "2", "--as-of", "2026-10-01"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let auth = format!("Bearer {}", token(&db, "clinician"));
    let env = [("LD_PRELOAD", library.to_str().unwrap()), ("HAMROH_TEST_FSYNC_FLAG", flag.to_str().unwrap())];
    let server = serve_with(&db, "127.0.0.1:0", &[], &env);
    let (status, body) = register(&server.address, &auth, "Before");
    assert_eq!(status, 201, "{body}");

    std::fs::write(&flag, b"").unwrap();
    for attempt in 0..3 {
        let (status, body) = register(&server.address, &auth, &format!("Refused{attempt}"));
        assert_eq!(status, 503, "{body}");
        assert!(body.contains("write_failed"), "{body}");
    }
    let (status, _) = get(&server.address, "/api/v1/instruments", &[]).unwrap();
    assert_eq!(status, 200, "what needs no write keeps answering");

    std::fs::remove_file(&flag).unwrap();
    let (status, body) = register(&server.address, &auth, "After");
    assert_eq!(status, 201, "writes work again once the disk does: {body}");
    drop(server);

    assert_eq!(
        check_whole(&db, &["Before", "After", "Refused"]),
        ["After", "Before"],
        "acknowledged writes once each, refused ones not at all"
    );
}
