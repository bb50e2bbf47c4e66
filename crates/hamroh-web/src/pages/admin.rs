//! Administration: users (create, disable, reset password, roles) and organisations. Every change
//! is a permission change and is audited by the store.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hamroh_domain::geo;
use hamroh_domain::model::{Organisation, User};
use hamroh_domain::org::{Lang, Role, Sector};
use hamroh_domain::person::DistrictCode;
use hamroh_store::UserSummary;
use uuid::Uuid;

use super::form::form_pairs;
use super::{Chrome, page, role_label};
use crate::AppState;
use crate::error::WebError;
use crate::session::Viewer;

#[derive(Default)]
pub struct NewUserForm {
    pub username: String,
    pub display_name: String,
    pub organisation_id: String,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    c: Chrome,
    notice: Option<String>,
    error: Option<String>,
    users: Vec<UserSummary>,
    organisations: Vec<Organisation>,
    roles: Vec<(Role, String)>,
    form: NewUserForm,
}

#[derive(Template)]
#[template(path = "admin_organisations.html")]
struct OrganisationsPage {
    c: Chrome,
    error: Option<String>,
    organisations: Vec<(String, String, String)>,
    sectors: Vec<(&'static str, String)>,
    districts: Vec<(&'static str, String)>,
}

async fn users_page(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    error: Option<String>,
    form: NewUserForm,
) -> Result<Response, WebError> {
    let template = UsersPage {
        c: Chrome::new(viewer),
        notice: None,
        error,
        users: state.store.users().await?,
        organisations: state.store.organisations().await?,
        roles: Role::ALL.iter().map(|r| (*r, role_label(&viewer.tr, *r))).collect(),
        form,
    };
    Ok(page(viewer, status, &template))
}

pub async fn users(State(state): State<AppState>, viewer: Viewer) -> Result<Response, WebError> {
    users_page(&state, &viewer, StatusCode::OK, None, NewUserForm::default()).await
}

fn roles_from(pairs: &[(String, String)]) -> Result<Vec<Role>, WebError> {
    pairs
        .iter()
        .filter(|(k, _)| k == "role")
        .map(|(_, v)| {
            v.parse().map_err(|e: hamroh_domain::code::UnknownCode| WebError::Invalid {
                code: "invalid_role",
                message: e.to_string(),
            })
        })
        .collect()
}

fn field<'a>(pairs: &'a [(String, String)], key: &str) -> &'a str {
    pairs.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v.as_str()).trim()
}

pub async fn create_user(State(state): State<AppState>, viewer: Viewer, body: String) -> Result<Response, WebError> {
    let pairs = form_pairs(&body);
    let form = NewUserForm {
        username: field(&pairs, "username").to_lowercase(),
        display_name: field(&pairs, "display_name").to_owned(),
        organisation_id: field(&pairs, "organisation_id").to_owned(),
    };
    let t = &viewer.tr;
    let password = field(&pairs, "password").to_owned();
    let problem = if !valid_username(&form.username) {
        Some(t.get("admin-username-invalid"))
    } else if form.display_name.is_empty() {
        Some(t.get("admin-name-required"))
    } else if let Err(e) = crate::password::check_policy(&password, &form.username) {
        Some(t.get(e.code()))
    } else {
        None
    };
    let roles = roles_from(&pairs)?;
    let organisation_id = Uuid::parse_str(&form.organisation_id).ok();
    let problem = problem.or_else(|| roles.is_empty().then(|| t.get("admin-role-required")));
    let problem = problem.or_else(|| organisation_id.is_none().then(|| t.get("admin-organisation-required")));
    if let Some(message) = problem {
        return users_page(&state, &viewer, StatusCode::UNPROCESSABLE_ENTITY, Some(message), form).await;
    }
    let hash = tokio::task::spawn_blocking(move || crate::password::hash(&password))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
        .map_err(WebError::Internal)?;
    let user = User {
        id: Uuid::now_v7(),
        organisation_id: organisation_id.unwrap_or_default(),
        username: form.username.clone(),
        display_name: form.display_name.clone(),
        password_hash: hash,
        roles,
        lang: field(&pairs, "lang").parse().unwrap_or(Lang::Tg),
        disabled: false,
    };
    match state.store.add_user(&viewer.actor(), &user).await {
        Ok(()) => Ok(Redirect::to("/admin/users").into_response()),
        Err(hamroh_store::StoreError::Conflict(_)) => {
            let message = t.get("admin-username-taken");
            users_page(&state, &viewer, StatusCode::CONFLICT, Some(message), form).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Lower-case letters, digits, `.`, `_` and `-`, 3 to 40 characters.
pub fn valid_username(name: &str) -> bool {
    (3..=40).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || ".-_".contains(c))
}

pub async fn disable_user(
    State(state): State<AppState>,
    viewer: Viewer,
    super::PageId(id): super::PageId,
) -> Result<Response, WebError> {
    state.store.set_disabled(&viewer.actor(), id, true).await?;
    Ok(Redirect::to("/admin/users").into_response())
}

pub async fn enable_user(
    State(state): State<AppState>,
    viewer: Viewer,
    super::PageId(id): super::PageId,
) -> Result<Response, WebError> {
    state.store.set_disabled(&viewer.actor(), id, false).await?;
    Ok(Redirect::to("/admin/users").into_response())
}

pub async fn reset_password(
    State(state): State<AppState>,
    viewer: Viewer,
    super::PageId(id): super::PageId,
    body: String,
) -> Result<Response, WebError> {
    let pairs = form_pairs(&body);
    let password = field(&pairs, "password").to_owned();
    let username = state
        .store
        .users()
        .await?
        .into_iter()
        .find(|u| u.id == id)
        .map(|u| u.username)
        .ok_or_else(WebError::not_found)?;
    if let Err(e) = crate::password::check_policy(&password, &username) {
        let message = viewer.tr.get(e.code());
        return users_page(&state, &viewer, StatusCode::UNPROCESSABLE_ENTITY, Some(message), NewUserForm::default())
            .await;
    }
    let hash = tokio::task::spawn_blocking(move || crate::password::hash(&password))
        .await
        .map_err(|e| WebError::Internal(e.to_string()))?
        .map_err(WebError::Internal)?;
    state.store.set_password(&viewer.actor(), id, &hash).await?;
    Ok(Redirect::to("/admin/users").into_response())
}

/// An administrator removes a user's second factor (a lost phone), so that the user can enrol a
/// new one; audited as `reset_totp`.
pub async fn reset_totp(
    State(state): State<AppState>,
    viewer: Viewer,
    super::PageId(id): super::PageId,
) -> Result<Response, WebError> {
    if !state.store.users().await?.iter().any(|u| u.id == id) {
        return Err(WebError::not_found());
    }
    state.store.set_totp(&viewer.actor(), id, None).await?;
    Ok(Redirect::to("/admin/users").into_response())
}

pub async fn set_roles(
    State(state): State<AppState>,
    viewer: Viewer,
    super::PageId(id): super::PageId,
    body: String,
) -> Result<Response, WebError> {
    let roles = roles_from(&form_pairs(&body))?;
    if roles.is_empty() {
        let message = viewer.tr.get("admin-role-required");
        return users_page(&state, &viewer, StatusCode::UNPROCESSABLE_ENTITY, Some(message), NewUserForm::default())
            .await;
    }
    state.store.set_roles(&viewer.actor(), id, &roles).await?;
    Ok(Redirect::to("/admin/users").into_response())
}

async fn organisations_page(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    error: Option<String>,
) -> Result<Response, WebError> {
    let t = &viewer.tr;
    let lang = t.lang;
    let district_name = |d: &geo::District| match lang {
        Lang::Tg => d.tg,
        Lang::Ru => d.ru,
        Lang::En => d.en,
    };
    let organisations = state
        .store
        .organisations()
        .await?
        .into_iter()
        .map(|o| {
            (
                o.name,
                t.get(&format!("sector-{}", o.sector)),
                o.district.map_or(String::new(), |d| district_name(d.district()).to_owned()),
            )
        })
        .collect();
    let template = OrganisationsPage {
        c: Chrome::new(viewer),
        error,
        organisations,
        sectors: Sector::ALL.iter().map(|s| (s.as_str(), t.get(&format!("sector-{s}")))).collect(),
        districts: geo::DISTRICTS.iter().map(|d| (d.code, district_name(d).to_owned())).collect(),
    };
    Ok(page(viewer, status, &template))
}

pub async fn organisations(State(state): State<AppState>, viewer: Viewer) -> Result<Response, WebError> {
    organisations_page(&state, &viewer, StatusCode::OK, None).await
}

pub async fn create_organisation(
    State(state): State<AppState>,
    viewer: Viewer,
    body: String,
) -> Result<Response, WebError> {
    let pairs = form_pairs(&body);
    let name = field(&pairs, "name").to_owned();
    let sector = field(&pairs, "sector").parse::<Sector>();
    let district = match field(&pairs, "district") {
        "" => Ok(None),
        code => DistrictCode::parse(code).map(Some),
    };
    let (Ok(sector), Ok(district), false) = (sector, district, name.is_empty()) else {
        let message = viewer.tr.get("admin-organisation-invalid");
        return organisations_page(&state, &viewer, StatusCode::UNPROCESSABLE_ENTITY, Some(message)).await;
    };
    // The name is in the language the administrator works in; other languages fall back to it, marked.
    let org = Organisation {
        id: Uuid::now_v7(),
        name,
        sector,
        district,
        uses_hamroh: true,
        name_lang: viewer.tr.lang,
        translations: Default::default(),
    };
    state.store.add_organisation(&viewer.actor(), &org).await?;
    Ok(Redirect::to("/admin/organisations").into_response())
}
