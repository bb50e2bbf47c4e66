//! An OpenRosa 1.0 server for ODK Collect, KoBoCollect and Enketo, which fill Hamroh's forms
//! offline and send them when the connection returns. A device is set up, as ODK Central does
//! for its app users, with a server address that holds a revocable device key (an API token
//! with the scope `openrosa`): `/openrosa/key/KEY`. Below it: `formList`, each form's XML, and
//! `submission`. The key only fetches forms and sends submissions; it reads no record. The same
//! paths below `/openrosa` take a username and password (HTTP Basic), over TLS only.
//!
//! Specifications followed: the OpenRosa Form List API, Form Submission API and Request
//! (`X-OpenRosa-Version`) API, docs.getodk.org/openrosa.

mod device;
mod submission;

pub(crate) use device::Device;

use std::sync::LazyLock;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hamroh_domain::instrument::catalog;
use hamroh_interop::xforms::XForm;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::AppState;
use crate::error::WebError;
use crate::i18n::{Messages, Tr};
use crate::session::is_https;

/// The largest submission read, as `X-OpenRosa-Accept-Content-Length` announces it. Hamroh's
/// forms carry no media: an instance is a few kilobytes.
pub const MAX_SUBMISSION: usize = 10 * 1024 * 1024;

/// Where submissions from devices are remembered (and held registrations found).
pub const SOURCE: &str = "openrosa";

const OPENROSA_VERSION: HeaderName = HeaderName::from_static("x-openrosa-version");
const ACCEPT_CONTENT_LENGTH: HeaderName = HeaderName::from_static("x-openrosa-accept-content-length");

/// Every form, generated once from the instrument files.
static FORMS: LazyLock<Vec<XForm>> = LazyLock::new(|| hamroh_interop::xforms::all_forms(catalog(), &Messages));

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/openrosa/key/{key}/formList", get(form_list))
        .route("/openrosa/key/{key}/forms/{file}", get(form_xml))
        .route("/openrosa/key/{key}/submission", post(submission::submit).head(submission::head))
        // A username and password (HTTP Basic), over TLS only.
        .route("/openrosa/formList", get(form_list))
        .route("/openrosa/forms/{file}", get(form_xml))
        .route("/openrosa/submission", post(submission::submit).head(submission::head))
        .layer(DefaultBodyLimit::max(MAX_SUBMISSION))
        .layer(SetResponseHeaderLayer::overriding(OPENROSA_VERSION, HeaderValue::from_static("1.0")))
}

/// An OpenRosa response message, the text a device shows its user.
pub(crate) fn answer(status: StatusCode, message: &str) -> Response {
    let nature = if status.is_success() { "submit_success" } else { "error" };
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<OpenRosaResponse xmlns=\"http://openrosa.org/http/response\">\
         <message nature=\"{nature}\">{}</message></OpenRosaResponse>\n",
        escape(message)
    );
    (status, [(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response()
}

/// A failure as the device should show it: the status of the API's error, its message.
pub(crate) fn failure(tr: &Tr, e: WebError) -> Response {
    let status = e.status();
    match e {
        WebError::Internal(detail) => {
            tracing::error!(error = %detail, "openrosa request failed");
            answer(status, &tr.get("openrosa-failed"))
        }
        other => answer(status, &other.to_string()),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[derive(serde::Deserialize)]
struct ListQuery {
    #[serde(rename = "formID")]
    form_id: Option<String>,
}

/// The forms the device's user may fill (OpenRosa Form List API).
async fn form_list(
    State(state): State<AppState>,
    device: Device,
    Query(query): Query<ListQuery>,
    headers: HeaderMap,
) -> Response {
    let base = format!("{}{}", crate::partner_link::base_url(&state, &headers, is_https(&headers)), device.base);
    let mut body = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<xforms xmlns=\"http://openrosa.org/xforms/xformsList\">\n",
    );
    for form in FORMS.iter().filter(|f| query.form_id.as_deref().is_none_or(|id| id == f.id)) {
        body.push_str(&format!(
            "  <xform><formID>{id}</formID><name>{name}</name><version>{version}</version><hash>{hash}</hash>\
             <downloadUrl>{base}/forms/{id}.xml</downloadUrl></xform>\n",
            id = escape(&form.id),
            name = escape(form.title.get(device.lang)),
            version = escape(&form.version),
            hash = form.hash(),
            base = escape(&base),
        ));
    }
    body.push_str("</xforms>\n");
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/xml; charset=utf-8")], body).into_response()
}

/// One form's XML, at the `downloadUrl` the form list gives.
async fn form_xml(device: Device, Path(params): Path<Vec<(String, String)>>) -> Response {
    // `/openrosa/key/{key}/forms/{file}` or `/openrosa/forms/{file}`.
    let file = params.into_iter().find(|(name, _)| name == "file").map(|(_, f)| f).unwrap_or_default();
    let id = file.strip_suffix(".xml").unwrap_or(&file);
    match FORMS.iter().find(|f| f.id == id) {
        Some(form) => {
            (StatusCode::OK, [(header::CONTENT_TYPE, "text/xml; charset=utf-8")], form.xml.clone()).into_response()
        }
        None => answer(StatusCode::NOT_FOUND, &device.tr().get("openrosa-no-form")),
    }
}

/// The server address a device is set up with: this deployment's, holding the key.
pub fn device_url(state: &AppState, headers: &HeaderMap, https: bool, key: &str) -> String {
    format!("{}/openrosa/key/{key}", crate::partner_link::base_url(state, headers, https))
}

/// The settings ODK Collect reads from a QR code (Configure with QR code): JSON with the
/// server address, compressed with zlib and encoded as base64, as Collect's settings QR codes
/// are (docs.getodk.org/collect-import-export).
pub fn collect_settings(url: &str, project: &str) -> String {
    use std::io::Write as _;
    let settings = serde_json::json!({
        "general": { "server_url": url, "username": "", "password": "" },
        "admin": {},
        "project": { "name": project, "icon": "H", "color": "#1b5e20" },
    });
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    // Writing to a Vec cannot fail.
    let _ = z.write_all(settings.to_string().as_bytes());
    let compressed = z.finish().unwrap_or_default();
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, compressed)
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;

    #[test]
    fn collects_settings_code_holds_the_server_address_as_collect_reads_it() {
        let text = super::collect_settings("https://hamroh.example.tj/openrosa/key/hmr_x", "Hamroh · tablet 3");
        let compressed = base64::Engine::decode(&base64::engine::general_purpose::STANDARD, text).unwrap();
        let mut json = String::new();
        flate2::read::ZlibDecoder::new(&compressed[..]).read_to_string(&mut json).unwrap();
        let settings: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(settings["general"]["server_url"], "https://hamroh.example.tj/openrosa/key/hmr_x");
        assert_eq!(settings["project"]["name"], "Hamroh · tablet 3");
    }
}
