//! The server over real sockets on the loopback: slow clients (headers never finished, a body
//! that stalls) are cut off, and the health check answers while 200 of them are open. Bounded:
//! a fixed number of connections, each test ends within seconds.

use std::time::{Duration, Instant};

use hamroh_store::testing::TestDb;
use hamroh_web::AppState;
use hamroh_web::server::Limits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const SLOW: usize = 200;

async fn start(db: &TestDb, limits: Limits) -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let app = hamroh_web::router(AppState::new(db.store.clone()));
    tokio::spawn(hamroh_web::server::run(app, listener, limits, async move {
        let _ = stopped.await;
    }));
    (address, stop)
}

/// Reads until the server closes the connection (or `within` passes); whether it closed.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 1024];
    let deadline = Instant::now() + within;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return true,
            Ok(Ok(_)) => {}
            Err(_) => return false,
        }
    }
}

async fn health(address: std::net::SocketAddr) -> String {
    let mut stream = TcpStream::connect(address).await.unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut answer = String::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut answer)).await.unwrap().unwrap();
    answer
}

#[tokio::test]
async fn health_answers_while_slow_clients_hold_connections_and_they_are_cut_off() {
    let db = TestDb::sqlite().await;
    let limits = Limits { header_read: Duration::from_secs(2), body_read: Duration::from_secs(2), connections: 1024 };
    let (address, stop) = start(&db, limits).await;
    let mut slow = Vec::with_capacity(SLOW);
    for _ in 0..SLOW {
        let mut stream = TcpStream::connect(address).await.unwrap();
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\nX-Slow: ").await.unwrap();
        slow.push(stream);
    }
    let answer = health(address).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // A body that stalls half way.
    let mut stalled = TcpStream::connect(address).await.unwrap();
    stalled
        .write_all(b"POST /login HTTP/1.1\r\nHost: test\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\nusername=")
        .await
        .unwrap();

    // Unfinished headers are cut off after the header time-out, not kept for ever.
    let started = Instant::now();
    for stream in &mut slow {
        assert!(closed_within(stream, Duration::from_secs(10)).await, "a slow client is cut off");
    }
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(closed_within(&mut stalled, Duration::from_secs(10)).await, "a stalled body is cut off");
    let answer = health(address).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let _ = stop.send(());
    db.cleanup().await;
}

#[tokio::test]
async fn connections_beyond_the_limit_are_closed_and_the_rest_are_served() {
    let db = TestDb::sqlite().await;
    let limits = Limits { header_read: Duration::from_secs(5), body_read: Duration::from_secs(5), connections: 20 };
    let (address, stop) = start(&db, limits).await;
    let mut held = Vec::new();
    for _ in 0..20 {
        let mut stream = TcpStream::connect(address).await.unwrap();
        stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n").await.unwrap();
        held.push(stream);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut extra = TcpStream::connect(address).await.unwrap();
    assert!(closed_within(&mut extra, Duration::from_secs(3)).await, "the 21st connection is closed at once");
    drop(held);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let answer = health(address).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let _ = stop.send(());
    db.cleanup().await;
}
