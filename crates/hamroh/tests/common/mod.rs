//! What the process-level tests share: running `hamroh` and a `serve` on a free loopback port.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

pub fn hamroh(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hamroh"))
        .args(args)
        .env_remove("HAMROH_DB")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A running `serve`; killed when dropped.
pub struct Server {
    pub child: Child,
    pub address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `serve` on `db` at a free port and waits until it listens.
pub fn serve(db: &str, extra: &[&str]) -> Server {
    serve_at(db, "127.0.0.1:0", extra)
}

/// Starts `serve` on `db` listening at `listen` and waits until it listens.
pub fn serve_at(db: &str, listen: &str, extra: &[&str]) -> Server {
    serve_with(db, listen, extra, &[])
}

/// Starts `serve` on `db` listening at `listen`, with environment variables `env` set, and waits
/// until it listens.
pub fn serve_with(db: &str, listen: &str, extra: &[&str], env: &[(&str, &str)]) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_hamroh"))
        .args(["serve", "--db", db, "--listen", listen])
        .args(extra)
        .env_remove("HAMROH_DB")
        .env("RUST_LOG", "warn")
        .envs(env.iter().copied())
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
    // Keep reading stdout so that serve never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Server { child, address }
}

/// A demo database of `people` persons in `dir`.
pub fn demo_db(dir: &std::path::Path, people: &str) -> String {
    let db = format!("sqlite://{}", dir.join("hamroh.db").display());
    let out = hamroh(&["demo", "--db", &db, "--people", people, "--seed", "3", "--as-of", "2026-10-01"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    db
}

/// A new API token for `user` with every scope.
pub fn token(db: &str, user: &str) -> String {
    let out = hamroh(&[
        "token",
        "create",
        "--db",
        db,
        "--username",
        user,
        "--name",
        "test",
        "--scope",
        "persons:read",
        "--scope",
        "persons:write",
        "--scope",
        "export",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout).lines().last().unwrap().trim().to_owned()
}

/// A GET request; the status and body of the answer.
pub fn get(address: &str, path: &str, headers: &[(&str, &str)]) -> std::io::Result<(u16, String)> {
    request(address, "GET", path, headers, None)
}

/// One HTTP/1.1 request with a JSON body; the status and body of the answer, or the I/O error of
/// a server that is not there.
pub fn post_json(address: &str, path: &str, headers: &[(&str, &str)], body: &str) -> std::io::Result<(u16, String)> {
    request(address, "POST", path, headers, Some(body))
}

fn request(
    address: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> std::io::Result<(u16, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address)?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    if let Some(body) = body {
        request.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
    }
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body.unwrap_or_default());
    stream.write_all(request.as_bytes())?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response.split_whitespace().nth(1).and_then(|s| s.parse().ok());
    let Some(status) = status else {
        return Err(std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "no answer"));
    };
    Ok((status, response.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned()))
}

/// Registers a person named `name` through the API; the status and body of the answer.
pub fn register(address: &str, auth: &str, name: &str) -> (u16, String) {
    let body = format!(
        r#"{{"given_name":"{name}","sex":"female","birth_year":"1988","district":"TJ-KT.kulob","consents":["care"],"confirm_new":true}}"#
    );
    post_json(address, "/api/v1/persons", &[("Authorization", auth)], &body).unwrap()
}

/// Checks a SQLite database after a test has stopped its server: it passes its integrity check and
/// its audit chain verifies. Returns the given names of the persons whose given name starts with
/// one of `prefixes`, sorted.
pub fn check_whole(db: &str, prefixes: &[&str]) -> Vec<String> {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let pool = sqlx::SqlitePool::connect(&db.replace("sqlite://", "sqlite:")).await.unwrap();
        let integrity: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(&pool).await.unwrap();
        assert_eq!(integrity, "ok");
        let all: Vec<Option<String>> =
            sqlx::query_scalar("SELECT given_name FROM persons").fetch_all(&pool).await.unwrap();
        pool.close().await;
        let store = hamroh_store::Store::open(&db.parse().unwrap()).await.unwrap();
        assert!(store.verify_audit().await.unwrap().is_ok(), "the audit chain is whole");
        store.close().await;
        let mut names: Vec<String> =
            all.into_iter().flatten().filter(|n| prefixes.iter().any(|p| n.starts_with(p))).collect();
        names.sort();
        names
    })
}
