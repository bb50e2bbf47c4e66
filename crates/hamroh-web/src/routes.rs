//! Every page route with its access rule. The router is built from this table, so a route cannot
//! be added without a rule; the authorisation tests walk the same table. Pages take a browser
//! session only: an API token is refused on every one of them.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::{Next, from_fn_with_state};
use axum::routing::{MethodRouter, get, post};
use hamroh_domain::access::CARE_ROLES;

use crate::auth::{ADMIN, AUDITORS, COORDINATORS, Credentials, DIRECTORY_KEEPERS, EVIDENCE_READERS, Rule, enforce};
use crate::pages::{
    account, admin, clinical, dashboard, directory, held, login, partner, persons, record, referrals, services,
    worklist,
};
use crate::{AppState, assets, health, pages};

/// (method, path, rule) of every page route.
pub fn page_routes() -> Vec<(Method, &'static str, Rule)> {
    table().into_iter().map(|(m, p, r, _)| (m, p, r)).collect()
}

fn table() -> Vec<(Method, &'static str, Rule, MethodRouter<AppState>)> {
    use Rule::{Public, Roles, SignedIn};
    vec![
        (Method::GET, "/", SignedIn, get(pages::home)),
        (Method::GET, "/healthz", Public, get(health::healthz)),
        (Method::GET, "/static/{name}", Public, get(assets::serve_static)),
        (Method::GET, "/login", Public, get(login::page_get)),
        (Method::POST, "/login", Public, post(login::submit)),
        (Method::GET, "/login/totp", Public, get(login::totp_get)),
        (Method::POST, "/login/totp", Public, post(login::totp_submit)),
        (Method::POST, "/logout", Public, post(login::logout)),
        (Method::GET, "/account", SignedIn, get(account::show)),
        (Method::POST, "/account/language", SignedIn, post(account::set_language)),
        (Method::POST, "/account/totp", SignedIn, post(account::enable_totp)),
        (Method::POST, "/account/password", SignedIn, post(account::change_password)),
        (Method::POST, "/account/tokens", SignedIn, post(account::create_token)),
        (Method::POST, "/account/tokens/{id}/revoke", SignedIn, post(account::revoke_token)),
        (Method::POST, "/account/logout-everywhere", SignedIn, post(account::logout_everywhere)),
        (Method::GET, "/admin/users", Roles(ADMIN), get(admin::users)),
        (Method::POST, "/admin/users", Roles(ADMIN), post(admin::create_user)),
        (Method::POST, "/admin/users/{id}/disable", Roles(ADMIN), post(admin::disable_user)),
        (Method::POST, "/admin/users/{id}/enable", Roles(ADMIN), post(admin::enable_user)),
        (Method::POST, "/admin/users/{id}/password", Roles(ADMIN), post(admin::reset_password)),
        (Method::POST, "/admin/users/{id}/totp/reset", Roles(ADMIN), post(admin::reset_totp)),
        (Method::POST, "/admin/users/{id}/roles", Roles(ADMIN), post(admin::set_roles)),
        (Method::GET, "/admin/organisations", Roles(ADMIN), get(admin::organisations)),
        (Method::POST, "/admin/organisations", Roles(ADMIN), post(admin::create_organisation)),
        (Method::GET, "/persons", Roles(CARE_ROLES), get(clinical::search)),
        (Method::GET, "/persons/new", Roles(CARE_ROLES), get(clinical::register_form)),
        (Method::POST, "/persons", Roles(CARE_ROLES), post(clinical::register)),
        (Method::GET, "/persons/{id}", Roles(CARE_ROLES), get(persons::show)),
        (Method::GET, "/registrations/held/{id}", Roles(CARE_ROLES), get(held::show)),
        (Method::POST, "/registrations/held/{id}/new", Roles(CARE_ROLES), post(held::register_new)),
        (Method::POST, "/registrations/held/{id}/same", Roles(CARE_ROLES), post(held::same_person)),
        (Method::GET, "/persons/{id}/screen", Roles(CARE_ROLES), get(clinical::screen_form)),
        (Method::POST, "/persons/{id}/screen", Roles(CARE_ROLES), post(clinical::screen_submit)),
        (Method::GET, "/encounters/{id}", Roles(CARE_ROLES), get(clinical::encounter)),
        (Method::GET, "/persons/{id}/refer", Roles(CARE_ROLES), get(referrals::refer_form)),
        (Method::POST, "/persons/{id}/referrals", Roles(CARE_ROLES), post(referrals::refer)),
        (Method::GET, "/referrals/{id}", Roles(CARE_ROLES), get(referrals::show)),
        (Method::GET, "/referrals/{id}/slip", Roles(CARE_ROLES), get(referrals::slip)),
        (Method::POST, "/referrals/{id}/step", Roles(CARE_ROLES), post(referrals::step)),
        (Method::POST, "/referrals/{id}/partner-link", Roles(CARE_ROLES), post(partner::issue)),
        (Method::POST, "/referrals/{id}/partner-link/revoke", Roles(CARE_ROLES), post(partner::revoke)),
        // A receiving service without an account: the link's secret is the credential.
        (Method::GET, "/r/{token}", Public, get(partner::show)),
        (Method::POST, "/r/{token}", Public, post(partner::step)),
        (Method::POST, "/follow-ups/{id}/complete", Roles(CARE_ROLES), post(worklist::complete_follow_up)),
        (Method::POST, "/follow-ups/{id}", Roles(CARE_ROLES), post(persons::change_follow_up)),
        (Method::POST, "/persons/{id}/follow-ups", Roles(CARE_ROLES), post(persons::add_follow_up)),
        (Method::GET, "/worklist", Roles(CARE_ROLES), get(worklist::worklist)),
        (Method::GET, "/worklist/referrals/{id}", Roles(COORDINATORS), get(worklist::referral_summary)),
        (Method::GET, "/directory", Public, get(directory::directory)),
        (Method::GET, "/dashboard", Roles(EVIDENCE_READERS), get(dashboard::dashboard)),
        (Method::GET, "/dashboard.csv", Roles(EVIDENCE_READERS), get(dashboard::csv)),
        (Method::GET, "/dashboard.xlsx", Roles(EVIDENCE_READERS), get(dashboard::xlsx)),
        (Method::GET, "/directory/services", Roles(DIRECTORY_KEEPERS), get(services::list)),
        (Method::GET, "/directory/services/new", Roles(DIRECTORY_KEEPERS), get(services::new_form)),
        (Method::POST, "/directory/services", Roles(DIRECTORY_KEEPERS), post(services::create)),
        (Method::GET, "/directory/services/{id}", Roles(DIRECTORY_KEEPERS), get(services::edit_form)),
        (Method::POST, "/directory/services/{id}", Roles(DIRECTORY_KEEPERS), post(services::update)),
        (Method::POST, "/encounters/{id}/decision", Roles(CARE_ROLES), post(clinical::decide)),
        (Method::POST, "/encounters/{id}/safety-assessment", Roles(CARE_ROLES), post(clinical::assess)),
        (Method::POST, "/persons/{id}/consents", Roles(CARE_ROLES), post(persons::consent)),
        (Method::GET, "/persons/{id}/record", Roles(CARE_ROLES), get(record::show)),
        (Method::POST, "/persons/{id}/record", Roles(CARE_ROLES), post(record::save)),
        (Method::GET, "/persons/{id}/audit", Roles(AUDITORS), get(persons::audit)),
    ]
}

pub fn pages(state: &AppState) -> Router<AppState> {
    table().into_iter().fold(Router::new(), |router, (_, path, rule, handler)| {
        let handler = handler.route_layer(from_fn_with_state(
            state.clone(),
            move |State(s): State<AppState>, req: Request, next: Next| {
                enforce(rule, Credentials::Session, s, req, next)
            },
        ));
        router.route(path, handler)
    })
}
