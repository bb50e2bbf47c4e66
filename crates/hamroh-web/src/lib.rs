//! Hamroh's web application: server-rendered pages (they work without JavaScript) and, as the
//! issues add them, the JSON API under `/api/v1`.

mod api;
mod assets;
mod auth;
mod chart;
mod error;
pub mod evidence;
mod health;
mod i18n;
mod idempotency;
pub mod notify;
pub mod openrosa;
mod pages;
mod partner_link;
pub mod password;
pub mod proxy;
mod routes;
pub mod server;
mod session;
mod throttle;
pub mod totp;
mod words;
mod workflow;
pub use workflow::today;

use std::future::Future;
use std::sync::Arc;

use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::http::{HeaderValue, header};
use hamroh_domain::instrument::Cutoffs;
use hamroh_store::{SessionLimits, Store};
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::csrf::CsrfLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use auth::{Credentials, Rule, TokenScope};
pub use error::WebError;
pub use i18n::{Messages, Tr, negotiate};
pub use pages::admin::valid_username;
pub use routes::page_routes;
pub use session::token_hash;
pub use throttle::{Throttle, ThrottleLimits};

#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    /// The deployment's own cut-offs, applied to every scoring.
    pub cutoffs: Arc<Cutoffs>,
    /// Session idle and absolute time-outs.
    pub limits: SessionLimits,
    pub throttle: Arc<Throttle>,
    /// Administrators must enrol a second factor before doing anything else.
    pub require_admin_totp: bool,
    /// Writes the e-mail and SMS messages that referrals send.
    pub notifier: Arc<dyn hamroh_store::Notifier>,
    pub safety_net: SafetyNet,
    /// The smallest count any aggregate may publish (disclosure control).
    pub disclosure: evidence::Disclosure,
    /// Reverse proxies whose `X-Forwarded-For` gives the client's address.
    pub proxies: proxy::TrustedProxies,
    /// Emergency numbers and psychiatric emergency services, beside every self-harm flag.
    pub emergency: Arc<hamroh_domain::emergency::EmergencyContacts>,
    /// Where people reach this deployment (`https://hamroh.example.tj`), for the links sent to
    /// services without accounts; the address a request came to when not set.
    pub public_url: Option<Arc<str>>,
}

/// When overdue work escalates to coordinators, and when a person counts as lost to follow-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SafetyNet {
    /// Days past its due date after which a referral or follow-up moves to the coordinator's list.
    pub escalation_grace_days: i64,
    /// Days after a positive screen or red flag without an attended referral or completed follow-up.
    pub lost_after_days: i64,
    /// Hours after which a red flag without its safety assessment is escalated to coordinators.
    pub red_flag_escalation_hours: i64,
}

impl Default for SafetyNet {
    fn default() -> Self {
        Self { escalation_grace_days: 7, lost_after_days: 30, red_flag_escalation_hours: 24 }
    }
}

impl SafetyNet {
    /// Escalates every red flag raised more than the limit before `now` (milliseconds) and not
    /// yet assessed, telling the coordinators; returns the persons escalated now. `serve` runs it
    /// every minute with the clock; a test or `hamroh safety-net --at` runs it at any time.
    pub async fn escalate(
        &self,
        store: &Store,
        now: i64,
        notifier: &dyn hamroh_store::Notifier,
    ) -> Result<Vec<uuid::Uuid>, hamroh_store::StoreError> {
        store.escalate_red_flags(now - self.red_flag_escalation_hours * 3_600_000, now, notifier).await
    }
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("store", &self.store).finish_non_exhaustive()
    }
}

impl AppState {
    pub fn new(store: Store) -> Self {
        Self {
            store,
            cutoffs: Arc::default(),
            limits: SessionLimits::default(),
            throttle: Arc::new(Throttle::new(ThrottleLimits::default())),
            require_admin_totp: false,
            notifier: Arc::new(notify::FluentNotifier),
            safety_net: SafetyNet::default(),
            disclosure: evidence::Disclosure::default(),
            proxies: proxy::TrustedProxies::default(),
            emergency: Arc::new(hamroh_domain::emergency::EmergencyContacts::shipped()),
            public_url: None,
        }
    }
}

/// Content security policy: no inline script, nothing from elsewhere, never framed.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'";

/// The API's OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    api::openapi()
}

pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(api::router(&state).layer(axum::middleware::from_fn_with_state(state.clone(), idempotency::layer)))
        .merge(
            routes::pages(&state)
                .layer(axum::middleware::from_fn_with_state(state.clone(), idempotency::layer))
                .layer(axum::middleware::from_fn(idempotency::forms_carry_keys))
                .layer(axum::middleware::from_fn_with_state(state.clone(), pages::errors_as_pages)),
        )
        .merge(openrosa::router())
        .fallback(pages::not_found)
        .with_state(state)
        .layer(CsrfLayer::new())
        .layer(SetResponseHeaderLayer::if_not_present(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP)))
        // Pages and answers carry people's records: no browser or proxy keeps a copy. Static
        // assets set their own (long) lifetime.
        .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(CompressionLayer::new())
        // Log the route template, never the URI: paths and queries can carry identifiers.
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let route = req.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str);
            tracing::info_span!("request", method = %req.method(), route)
        }))
}

/// Serves until `shutdown` completes, then lets in-flight requests finish, with the default
/// connection limits ([`server::Limits`]).
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    server::run(router(state), listener, server::Limits::default(), shutdown).await
}
