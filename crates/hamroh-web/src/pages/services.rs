//! Coordinators maintain the service directory: the list of services, a form to add one and the
//! same form to change one. The store audits every change with the fields it touched.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use hamroh_domain::geo;
use hamroh_domain::org::{Lang, Sector};
use hamroh_domain::service::{Cost, ServiceInput, ServiceLanguage};
use hamroh_domain::wording::Wording;
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
    /// The interface languages, for the language of the words and their translations.
    text_langs: Vec<Choice>,
    translations: Vec<TranslationFields>,
}

/// One language's fields of a service's translation (`tr.<lang>.*`), as typed.
pub struct TranslationFields {
    pub lang: &'static str,
    pub legend: String,
    pub name: String,
    pub description: String,
    pub opening_hours: String,
    /// The message of the first wrong field, if any.
    pub error: String,
}

const TEXT_LANGS: [Lang; 3] = [Lang::Tg, Lang::Ru, Lang::En];

pub async fn list(State(state): State<AppState>, viewer: Viewer) -> Result<Response, WebError> {
    let t = &viewer.tr;
    let services = state
        .store
        .services()
        .await?
        .into_iter()
        .map(|s| {
            let name = crate::words::name(t, &s.words);
            (
                s.id,
                name,
                crate::words::name(t, &s.organisation_words),
                t.get(&format!("sector-{}", s.sector)),
                s.districts.len(),
            )
        })
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
    let translations = TEXT_LANGS
        .iter()
        .map(|l| {
            let field = |name: &str| format!("tr.{l}.{name}");
            let error = ["name", "description", "opening_hours"]
                .iter()
                .map(|n| f.err(&field(n)))
                .find(|e| !e.is_empty())
                .unwrap_or_default()
                .to_owned();
            TranslationFields {
                lang: l.as_str(),
                legend: t.get(&format!("services-in-{l}")),
                name: f.val(&field("name")).to_owned(),
                description: f.val(&field("description")).to_owned(),
                opening_hours: f.val(&field("opening_hours")).to_owned(),
                error,
            }
        })
        .collect();
    let template = ServiceFormPage {
        c: Chrome::new(viewer),
        id,
        text_langs: TEXT_LANGS.iter().map(|l| (l.as_str(), t.get(&format!("lang-name-{l}")))).collect(),
        translations,
        f,
        organisations: state
            .store
            .organisations()
            .await?
            .into_iter()
            .map(|o| (o.id.to_string(), crate::words::name(t, &o.words())))
            .collect(),
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
        ("description".to_owned(), input.description.clone()),
        ("text_lang".to_owned(), input.text_lang.clone()),
    ];
    for (lang, w) in &input.translations {
        pairs.push((format!("tr.{lang}.name"), w.name.clone()));
        pairs.push((format!("tr.{lang}.description"), w.description.clone().unwrap_or_default()));
        pairs.push((format!("tr.{lang}.opening_hours"), w.opening_hours.clone().unwrap_or_default()));
    }
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
    f.set("text_lang", viewer.tr.lang.as_str());
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
        description: f.val("description").to_owned(),
        // A form from before the field says nothing: its words are in the language it was typed in.
        text_lang: match f.val("text_lang") {
            "" => viewer.tr.lang.as_str().to_owned(),
            lang => lang.to_owned(),
        },
        translations: TEXT_LANGS
            .iter()
            .map(|l| {
                let field = |name: &str| f.val(&format!("tr.{l}.{name}")).to_owned();
                let text = |name: &str| Some(field(name)).filter(|v| !v.trim().is_empty());
                (
                    *l,
                    Wording {
                        name: field("name"),
                        description: text("description"),
                        opening_hours: text("opening_hours"),
                    },
                )
            })
            .collect(),
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
                // A translation's field keeps its place (`tr.<lang>.<field>`); a list's, its list.
                let field = match e.field.strip_prefix("translations.") {
                    Some(rest) => format!("tr.{rest}"),
                    None => e.field.split('.').next().unwrap_or_default().to_owned(),
                };
                f.error(&field, viewer.tr.get(e.message));
            }
            form_page(state, viewer, StatusCode::UNPROCESSABLE_ENTITY, id, f).await
        }
    }
}
