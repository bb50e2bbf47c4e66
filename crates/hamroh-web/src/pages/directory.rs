//! The public directory of services: who offers what, where, in which language, at what cost;
//! for anyone, with no log-in and no personal data.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use hamroh_domain::geo;
use hamroh_domain::org::Sector;
use serde::Deserialize;

use super::{Chrome, page};
use crate::AppState;
use crate::error::WebError;
use crate::session::Viewer;

pub struct DirectoryEntry {
    pub name: String,
    pub organisation: String,
    pub sector: String,
    pub details: String,
}

#[derive(Template)]
#[template(path = "directory.html")]
struct DirectoryPage {
    c: Chrome,
    regions: Vec<(String, Vec<(&'static str, String)>)>,
    sectors: Vec<(&'static str, String)>,
    district: String,
    sector: String,
    searched: bool,
    found: String,
    services: Vec<DirectoryEntry>,
}

#[derive(Deserialize)]
pub struct DirectoryQuery {
    #[serde(default)]
    district: String,
    #[serde(default)]
    sector: String,
}

pub async fn directory(
    State(state): State<AppState>,
    viewer: Viewer,
    Query(q): Query<DirectoryQuery>,
) -> Result<Response, WebError> {
    let t = &viewer.tr;
    let lang = t.lang;
    let sector = q.sector.parse::<Sector>().ok();
    let searched = !q.district.is_empty() || sector.is_some();
    let services = if searched {
        state.store.services().await?.into_iter().filter(|s| s.serves(&q.district, sector)).collect()
    } else {
        Vec::new()
    };
    let template = DirectoryPage {
        c: Chrome::new(&viewer),
        regions: geo::REGIONS
            .iter()
            .map(|r| {
                let districts =
                    geo::districts_of(r.code).map(|d| (d.code, lang.pick(d.en, d.ru, d.tg).to_owned())).collect();
                (lang.pick(r.en, r.ru, r.tg).to_owned(), districts)
            })
            .collect(),
        sectors: Sector::ALL
            .iter()
            .filter(|s| **s != Sector::PrimaryCare && **s != Sector::Government)
            .map(|s| (s.as_str(), t.get(&format!("sector-{s}"))))
            .collect(),
        district: q.district.clone(),
        sector: q.sector.clone(),
        searched,
        found: t.with("search-found", &[("count", services.len().to_string())]),
        services: services
            .into_iter()
            .map(|s| {
                let mut details = vec![
                    t.get(&format!("cost-{}", s.cost)),
                    format!(
                        "{}: {}",
                        t.get("directory-languages"),
                        s.languages
                            .iter()
                            .map(|l| t.get(&format!("service-language-{l}")))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ];
                if s.accessible {
                    details.push(t.get("directory-accessible"));
                }
                if let Some(c) = &s.contact {
                    details.push(c.clone());
                }
                let (name, description, hours) = crate::words::service(t, &s.words);
                details.extend(hours);
                details.extend(description);
                DirectoryEntry {
                    name,
                    organisation: crate::words::name(t, &s.organisation_words),
                    sector: t.get(&format!("sector-{}", s.sector)),
                    details: details.join(" · "),
                }
            })
            .collect(),
    };
    Ok(page(&viewer, StatusCode::OK, &template))
}
