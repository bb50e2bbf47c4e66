//! A full disk: the database lives on a small tmpfs that is then filled. Writes answer 507 with a
//! clear message and store nothing; what needs no write keeps answering; once space is back,
//! writes work again and the database is whole. Needs permission to mount a tmpfs (root); without
//! it the test says so and does nothing.

mod common;

use std::path::Path;
use std::process::Command;

use common::{check_whole, get, hamroh, register, serve, text, token};

/// A tmpfs of `megabytes` at `dir`, unmounted when dropped.
struct Tmpfs<'a>(&'a Path);

impl Drop for Tmpfs<'_> {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.0).status();
    }
}

fn mount(dir: &Path, megabytes: u32) -> Option<Tmpfs<'_>> {
    let ok = Command::new("mount")
        .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
        .arg(dir)
        .status()
        .is_ok_and(|s| s.success());
    ok.then_some(Tmpfs(dir))
}

#[test]
fn a_full_disk_refuses_writes_with_507_and_nothing_is_corrupted() {
    let dir = tempfile::tempdir().unwrap();
    let Some(_tmpfs) = mount(dir.path(), 4) else {
        eprintln!("disk-full test not run: cannot mount a tmpfs here (needs root)");
        return;
    };
    let db = format!("sqlite://{}", dir.path().join("hamroh.db").display());
    let out = hamroh(&["demo", "--db", &db, "--people", "5", "--seed", "2", "--as-of", "2026-10-01"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let auth = format!("Bearer {}", token(&db, "clinician"));
    let server = serve(&db, &[]);
    let (status, _) = register(&server.address, &auth, "Before");
    assert_eq!(status, 201);

    // Fill what is left of the disk.
    let filler = dir.path().join("filler");
    let mut file = std::fs::File::create(&filler).unwrap();
    let block = vec![0u8; 64 * 1024];
    while std::io::Write::write_all(&mut file, &block).is_ok() {}
    drop(file);

    // A write that fits in the log's space already on disk may still succeed (SQLite reuses its
    // write-ahead log after a checkpoint); the first one that needs a new block must be refused.
    let mut stored = vec!["Before".to_owned()];
    let (status, body) = loop {
        let name = format!("Fits{}", stored.len());
        let (status, body) = register(&server.address, &auth, &name);
        if status != 201 || stored.len() > 2_000 {
            break (status, body);
        }
        stored.push(name);
    };
    assert_eq!(status, 507, "{body}");
    assert!(body.contains("storage_full") && body.contains("nothing was stored"), "{body}");
    let (status, _) = get(&server.address, "/api/v1/instruments", &[]).unwrap();
    assert_eq!(status, 200, "what needs no write keeps answering");
    let (status, _) = get(&server.address, "/healthz", &[]).unwrap();
    assert_eq!(status, 200);

    std::fs::remove_file(&filler).unwrap();
    let (status, body) = register(&server.address, &auth, "After");
    assert_eq!(status, 201, "{body}");
    drop(server);

    stored.push("After".to_owned());
    stored.sort();
    assert_eq!(check_whole(&db, &["Before", "After", "Fits"]), stored, "every acknowledged write, and only those");
}
