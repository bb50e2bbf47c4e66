//! Coordinators maintain the service directory: the list of services, a form to add one and the
//! same form to change one. The store audits every change with the fields it touched.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hamroh_domain::geo;
use hamroh_domain::org::Sector;
use hamroh_domain::service::{Cost, ServiceInput, ServiceLanguage};
use uuid::Uuid;

use super::form::FormState;
use super::form::form_pairs;
use super::{Chrome, page};
use crate::AppState;
use crate::error::WebError;
use crate::session::Viewer;

/// An option: its code and its label.
type Choice = (&'static str, String);

#[derive(Template)]
#[template(path = "services.html")]
struct ServicesPage {
    c: Chrome,
    /// Id, name, organisation, sector, number of districts covered.
    services: Vec<(Uuid, String, String, String, usize)>,
}

#[derive(Template)]
#[template(path = "service_form.html")]
struct ServiceFormPage {
    c: Chrome,
    /// `None` for a new service.
    id: Option<Uuid>,
    f: FormState,
    organisations: Vec<(String, String)>,
    sectors: Vec<(&'static str, String)>,
    costs: Vec<(&'static str, String)>,
    languages: Vec<(&'static str, String)>,
    /// Region (code, name) and its districts (code, name).
    regions: Vec<(Choice, Vec<Choice>)>,
}

pub async fn list(State(state): State<AppState>, viewer: Viewer) -> Result<Response, WebError> {
    let t = &viewer.tr;
    let services = state
        .store
        .services()
        .await?
        .into_iter()
        .map(|s| (s.id, s.name, s.organisation, t.get(&format!("sector-{}", s.sector)), s.districts.len()))
        .collect();
    Ok(page(&viewer, StatusCode::OK, &ServicesPage { c: Chrome::new(&viewer), services }))
}

async fn form_page(
    state: &AppState,
    viewer: &Viewer,
    status: StatusCode,
    id: Option<Uuid>,
    f: FormState,
) -> Result<Response, WebError> {
    let t = &viewer.tr;
    let lang = t.lang;
    let template = ServiceFormPage {
        c: Chrome::new(viewer),
        id,
        f,
        organisations: state.store.organisations().await?.into_iter().map(|o| (o.id.to_string(), o.name)).collect(),
        sectors: Sector::ALL.iter().map(|s| (s.as_str(), t.get(&format!("sector-{s}")))).collect(),
        costs: Cost::ALL.iter().map(|c| (c.as_str(), t.get(&format!("cost-{c}")))).collect(),
        languages: ServiceLanguage::ALL.iter().map(|l| (l.as_str(), t.get(&format!("service-language-{l}")))).collect(),
        regions: geo::REGIONS
            .iter()
            .map(|r| {
                let districts =
                    geo::districts_of(r.code).map(|d| (d.code, lang.pick(d.en, d.ru, d.tg).to_owned())).collect();
                ((r.code, lang.pick(r.en, r.ru, r.tg).to_owned()), districts)
            })
            .collect(),
    };
    Ok(page(viewer, status, &template))
}

fn pairs_of(input: &ServiceInput, organisation_id: Uuid) -> Vec<(String, String)> {
    let mut pairs = vec![
        ("organisation_id".to_owned(), organisation_id.to_string()),
        ("name".to_owned(), input.name.clone()),
        ("sector".to_owned(), input.sector.clone()),
        ("service_type".to_owned(), input.service_type.clone()),
        ("response_days".to_owned(), input.response_days.clone()),
        ("cost".to_owned(), input.cost.clone()),
        ("contact".to_owned(), input.contact.clone()),
        ("opening_hours".to_owned(), input.opening_hours.clone()),
    ];
    if input.accessible {
        pairs.push(("accessible".to_owned(), "yes".to_owned()));
    }
    pairs.extend(input.areas.iter().map(|a| ("areas".to_owned(), a.clone())));
    pairs.extend(input.languages.iter().map(|l| ("languages".to_owned(), l.clone())));
    pairs
}

pub async fn new_form(State(state): State<AppState>, viewer: Viewer) -> Result<Response, WebError> {
    let mut f = FormState::default();
    f.set("response_days", "7");
    f.set("cost", "free");
    form_page(&state, &viewer, StatusCode::OK, None, f).await
}

pub async fn edit_form(
    State(state): State<AppState>,
    viewer: Viewer,
    super::PageId(id): super::PageId,
) -> Result<Response, WebError> {
    let service = state.store.service(id).await?.ok_or_else(WebError::not_found)?;
    let f = FormState::from_pairs(&pairs_of(&ServiceInput::from_service(&service), service.organisation_id));
    form_page(&state, &viewer, StatusCode::OK, Some(id), f).await
}

pub async fn create(State(state): State<AppState>, viewer: Viewer, body: String) -> Result<Response, WebError> {
    save(&state, &viewer, None, form_pairs(&body)).await
}

pub async fn update(
    State(state): State<AppState>,
    viewer: Viewer,
    super::PageId(id): super::PageId,
    body: String,
) -> Result<Response, WebError> {
    let stored = state.store.service(id).await?.ok_or_else(WebError::not_found)?;
    // The organisation of a stored service is fixed, whatever the form says.
    let mut pairs: Vec<(String, String)> =
        form_pairs(&body).into_iter().filter(|(k, _)| k != "organisation_id").collect();
    pairs.push(("organisation_id".to_owned(), stored.organisation_id.to_string()));
    save(&state, &viewer, Some(id), pairs).await
}

async fn save(
    state: &AppState,
    viewer: &Viewer,
    id: Option<Uuid>,
    pairs: Vec<(String, String)>,
) -> Result<Response, WebError> {
    let mut f = FormState::from_pairs(&pairs);
    let input = ServiceInput {
        name: f.val("name").to_owned(),
        sector: f.val("sector").to_owned(),
        service_type: f.val("service_type").to_owned(),
        response_days: f.val("response_days").to_owned(),
        areas: f.all("areas"),
        languages: f.all("languages"),
        cost: f.val("cost").to_owned(),
        accessible: f.checked("accessible", "yes"),
        contact: f.val("contact").to_owned(),
        opening_hours: f.val("opening_hours").to_owned(),
    };
    let organisation = f.val("organisation_id").parse::<Uuid>().ok();
    let known = state.store.organisations().await?;
    let organisation = organisation.filter(|o| known.iter().any(|k| k.id == *o));
    let validated = input.validate(id.unwrap_or_else(Uuid::now_v7), organisation.unwrap_or_default());
    match (organisation, validated) {
        (Some(_), Ok(service)) => {
            state.store.save_service(&viewer.actor(), &service).await?;
            Ok(Redirect::to("/directory/services").into_response())
        }
        (organisation, validated) => {
            if organisation.is_none() {
                f.error("organisation_id", viewer.tr.get("error-choose"));
            }
            for e in validated.err().unwrap_or_default() {
                let field = e.field.split('.').next().unwrap_or_default().to_owned();
                f.error(&field, viewer.tr.get(e.message));
            }
            form_page(state, viewer, StatusCode::UNPROCESSABLE_ENTITY, id, f).await
        }
    }
}
