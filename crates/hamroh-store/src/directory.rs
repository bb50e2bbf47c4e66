//! The service directory that coordinators maintain: adding and changing a service, each change
//! audited with the fields it touched.

use hamroh_domain::model::Service;
use hamroh_domain::person::DistrictCode;
use hamroh_domain::service::ServiceLanguage;
use hamroh_domain::wording::Translations;
use uuid::Uuid;

use crate::audit::{Actor, NewAuditEvent};
use crate::exec::{Tx, sql};
use crate::{Result, Store, StoreError};

/// Writes the districts a service covers, inside the transaction `tx`.
async fn insert_service_districts(tx: &mut Tx, service: &Service) -> Result<()> {
    let rows = service.districts.iter().map(|d| values![service.id, d.as_str()]);
    tx.insert_rows("INSERT INTO service_districts (service_id, district) ", rows, "").await?;
    Ok(())
}

/// Languages as stored: codes joined by commas.
pub(crate) fn language_list(languages: &[ServiceLanguage]) -> String {
    languages.iter().map(|l| l.as_str()).collect::<Vec<_>>().join(",")
}

/// Translations as stored: JSON by language code.
pub(crate) fn translations_text(t: &Translations) -> String {
    serde_json::to_string(t).unwrap_or_else(|_| "{}".to_owned())
}

pub(crate) fn parse_translations(text: &str) -> Result<Translations> {
    serde_json::from_str(text).map_err(|e| StoreError::Corrupt(format!("translations: {e}")))
}

pub(crate) fn parse_languages(text: &str) -> Result<Vec<ServiceLanguage>> {
    text.split(',').filter(|l| !l.is_empty()).map(|l| Ok(l.parse()?)).collect()
}

/// The names of the fields in which two versions of a service differ.
fn changed_fields(old: &Service, new: &Service) -> Vec<&'static str> {
    let mut changed = Vec::new();
    let mut check = |name, differs: bool| {
        if differs {
            changed.push(name);
        }
    };
    check("name", old.name != new.name);
    check("sector", old.sector != new.sector);
    check("service_type", old.service_type != new.service_type);
    check("response_days", old.response_days != new.response_days);
    let mut a: Vec<&str> = old.districts.iter().map(|d| d.as_str()).collect();
    let mut b: Vec<&str> = new.districts.iter().map(|d| d.as_str()).collect();
    a.sort_unstable();
    b.sort_unstable();
    check("districts", a != b);
    check("languages", old.languages != new.languages);
    check("cost", old.cost != new.cost);
    check("accessible", old.accessible != new.accessible);
    check("contact", old.contact != new.contact);
    check("opening_hours", old.opening_hours != new.opening_hours);
    check("description", old.description != new.description);
    check("text_lang", old.text_lang != new.text_lang);
    check("translations", old.translations != new.translations);
    changed
}

/// A service's columns, as the directory and its listing read them.
#[derive(sqlx::FromRow)]
pub(crate) struct ServiceRow {
    pub id: Uuid,
    pub organisation_id: Uuid,
    pub name: String,
    pub sector: String,
    pub service_type: String,
    pub response_days: i64,
    pub languages: String,
    pub cost: String,
    pub accessible: bool,
    pub contact: Option<String>,
    pub opening_hours: Option<String>,
    pub description: Option<String>,
    pub text_lang: String,
    pub translations: String,
}

impl Store {
    /// One service as stored, for editing.
    pub async fn service(&self, id: Uuid) -> Result<Option<Service>> {
        let row: Option<ServiceRow> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id, organisation_id, name, sector, service_type, response_days, languages, cost, accessible, \
                 contact, opening_hours, description, text_lang, translations FROM services WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(pool)
            .await?
        });
        let Some(r) = row else { return Ok(None) };
        let districts: Vec<(String,)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT district FROM service_districts WHERE service_id = $1 ORDER BY district")
                .bind(id)
                .fetch_all(pool)
                .await?
        });
        Ok(Some(Service {
            id: r.id,
            organisation_id: r.organisation_id,
            name: r.name,
            sector: r.sector.parse()?,
            service_type: r.service_type,
            response_days: r.response_days,
            districts: districts
                .into_iter()
                .map(|(d,)| DistrictCode::parse(&d))
                .collect::<std::result::Result<_, _>>()?,
            languages: parse_languages(&r.languages)?,
            cost: r.cost.parse()?,
            accessible: r.accessible,
            contact: r.contact,
            opening_hours: r.opening_hours,
            description: r.description,
            text_lang: r.text_lang.parse()?,
            translations: parse_translations(&r.translations)?,
        }))
    }

    /// Adds a service, or replaces the stored one with the same id. Its organisation cannot change.
    /// Audited as `create` or `update` of the service, with the changed fields.
    pub async fn save_service(&self, actor: &Actor, service: &Service) -> Result<()> {
        let Some(old) = self.service(service.id).await? else {
            let batch = hamroh_domain::model::Batch { services: vec![service.clone()], ..Default::default() };
            return self.insert_batch(actor, &batch).await;
        };
        if old.organisation_id != service.organisation_id {
            return Err(StoreError::Conflict("a service cannot move to another organisation".into()));
        }
        let changed = changed_fields(&old, service);
        if changed.is_empty() {
            return Ok(());
        }
        let mut event = NewAuditEvent::ok("update", "service", service.id);
        event.detail = Some(changed.join(","));
        let mut tx = self.begin_write().await?;
        crate::idempotency::mark_request_written(&mut tx).await?;
        tx.execute(
            sql("UPDATE services SET name = $1, sector = $2, service_type = $3, response_days = $4, languages = $5, \
             cost = $6, accessible = $7, contact = $8, opening_hours = $9, description = $10, text_lang = $11, \
             translations = $12 WHERE id = $13")
            .bind(&service.name)
            .bind(service.sector.as_str())
            .bind(&service.service_type)
            .bind(service.response_days)
            .bind(language_list(&service.languages))
            .bind(service.cost.as_str())
            .bind(service.accessible)
            .bind(&service.contact)
            .bind(&service.opening_hours)
            .bind(&service.description)
            .bind(service.text_lang.as_str())
            .bind(translations_text(&service.translations))
            .bind(service.id),
        )
        .await?;
        tx.execute(sql("DELETE FROM service_districts WHERE service_id = $1").bind(service.id)).await?;
        insert_service_districts(&mut tx, service).await?;
        crate::audit::append(&mut tx, actor, &[&event]).await?;
        tx.commit().await?;
        Ok(())
    }
}
