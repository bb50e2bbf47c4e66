//! `hamroh serve`: the web application, until SIGTERM or Ctrl-C.

use std::process::ExitCode;

use hamroh_demo::DemoConfig;
use hamroh_domain::instrument::Cutoffs;
use hamroh_web::AppState;
use tokio::net::TcpListener;

use super::demo::{load, print_logins, today};
use super::{Failure, Outcome, open};

/// What a deployment sets for the web application.
pub struct Settings {
    pub cutoffs: Cutoffs,
    pub require_admin_totp: bool,
    pub limits: hamroh_store::SessionLimits,
    pub outbox_file: Option<std::path::PathBuf>,
    pub safety_net: hamroh_web::SafetyNet,
    pub disclosure: hamroh_web::evidence::Disclosure,
    pub proxies: hamroh_web::proxy::TrustedProxies,
    pub emergency: hamroh_domain::emergency::EmergencyContacts,
    pub public_url: Option<String>,
}

pub async fn run(db: &str, listen: &str, demo_people: Option<u64>, settings: Settings) -> Outcome {
    // Concurrent record writes share transactions (group commit); each is answered after the
    // shared commit is on disk.
    let store = open(db).await?.with_group_commit();
    let released = store.idempotency_release_unwritten().await?;
    if released > 0 {
        tracing::info!(released, "idempotency keys of requests that never wrote were released");
    }
    let durability = store.durability().await?;
    tracing::info!(backend = durability.backend, settings = %durability.detail, group_commit = true, "database open");
    if let Some(people) = demo_people {
        let config = DemoConfig { people, seed: 1, as_of: today() };
        let demo_dir = hamroh_demo::directory();
        if store.user_for_login(demo_dir.logins[0].username).await?.is_some() {
            println!("The demo data set is already loaded.");
            print_logins(&demo_dir);
        } else if store.has_persons().await? {
            return Err(Failure::usage("--demo needs an empty database, and this one already holds people"));
        } else {
            println!("Loading the demo data set ({people} people)...");
            let dir = load(&store, config, true).await?;
            print_logins(&dir);
        }
    }
    let listener =
        TcpListener::bind(listen).await.map_err(|e| Failure::usage(format!("cannot listen on {listen}: {e}")))?;
    let address = listener.local_addr().map_err(|e| Failure { code: 1, message: e.to_string() })?;
    let gateway: Box<dyn hamroh_store::Gateway> = match settings.outbox_file.clone() {
        Some(path) => Box::new(hamroh_store::FileGateway(path)),
        None => Box::new(hamroh_store::LogGateway),
    };
    let worker = tokio::spawn(deliver_forever(store.clone(), gateway));
    let net = settings.safety_net;
    let watcher = tokio::spawn(escalate_forever(store.clone(), net));
    let bookkeeper = tokio::spawn(flush_bookkeeping_forever(store.clone()));
    println!("Hamroh is serving on http://{address}/ (stop with Ctrl-C)");
    tracing::info!(%address, "serving");
    hamroh_web::serve(
        AppState {
            cutoffs: std::sync::Arc::new(settings.cutoffs),
            require_admin_totp: settings.require_admin_totp,
            limits: settings.limits,
            safety_net: settings.safety_net,
            disclosure: settings.disclosure,
            proxies: settings.proxies,
            emergency: std::sync::Arc::new(settings.emergency),
            public_url: settings.public_url.map(Into::into),
            ..AppState::new(store.clone())
        },
        listener,
        shutdown_signal(),
    )
    .await
    .map_err(|e| Failure { code: 1, message: format!("server failed: {e}") })?;
    worker.abort();
    watcher.abort();
    bookkeeper.abort();
    if let Err(e) = store.flush_bookkeeping().await {
        tracing::warn!(error = %e, "writing the last-use times of sessions and tokens failed");
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Delivers the outbox every few seconds; failures wait and are tried again.
async fn deliver_forever(store: hamroh_store::Store, gateway: Box<dyn hamroh_store::Gateway>) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
    loop {
        tick.tick().await;
        match store.deliver_outbox(gateway.as_ref(), 100).await {
            Ok(d) if d.delivered + d.failed > 0 => tracing::info!(delivered = d.delivered, failed = d.failed, "outbox"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "outbox delivery failed; will try again"),
        }
    }
}

/// Writes the sessions' and tokens' last-use times every 10 seconds, off the request path; a
/// failure keeps them for the next try.
async fn flush_bookkeeping_forever(store: hamroh_store::Store) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(10));
    loop {
        tick.tick().await;
        if let Err(e) = store.flush_bookkeeping().await {
            tracing::warn!(error = %e, "writing the last-use times of sessions and tokens failed; will try again");
        }
    }
}

/// Escalates red flags not assessed in time, every minute.
async fn escalate_forever(store: hamroh_store::Store, net: hamroh_web::SafetyNet) {
    let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
    loop {
        tick.tick().await;
        match net.escalate(&store, hamroh_store::now_millis(), &hamroh_web::notify::FluentNotifier).await {
            Ok(persons) if !persons.is_empty() => tracing::warn!(persons = persons.len(), "red flags escalated"),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "escalating red flags failed; will try again"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down: finishing requests in flight");
}
