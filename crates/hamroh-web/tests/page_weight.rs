//! Pages stay light for clinics on slow mobile networks: each page's HTML at most 20 KB
//! compressed, all static assets together at most 60 KB, and assets cached for long.

mod support;

use axum::body::Body;
use axum::http::{Request, header};
use hamroh_domain::org::Role;
use hamroh_store::testing::TestDb;
use support::{send, session_for, world};

const PAGE_BUDGET: usize = 20 * 1024;
const ASSETS_BUDGET: usize = 60 * 1024;

fn gzip_get(uri: &str, cookie: Option<&str>) -> Request<Body> {
    let mut b = Request::get(uri).header(header::ACCEPT_ENCODING, "gzip");
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c);
    }
    b.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn every_page_fits_the_budget_compressed() {
    let db = TestDb::sqlite().await;
    let w = world(&db).await;
    let admin = session_for(&db, w.users.iter().find(|(r, _)| *r == Role::Admin).unwrap().1).await;
    let coordinator = session_for(&db, w.users.iter().find(|(r, _)| *r == Role::Coordinator).unwrap().1).await;
    let analyst = session_for(&db, w.users.iter().find(|(r, _)| *r == Role::Analyst).unwrap().1).await;
    let all_instruments: String =
        hamroh_domain::instrument::catalog().ids().map(|i| format!("instrument={i}&")).collect();
    let pages = [
        ("/login".to_owned(), None),
        ("/".to_owned(), Some(&coordinator)),
        ("/persons?q=Rahimov".to_owned(), Some(&coordinator)),
        ("/persons/new".to_owned(), Some(&coordinator)),
        (format!("/persons/{}", w.own_person), Some(&coordinator)),
        (format!("/persons/{}/screen", w.own_person), Some(&coordinator)),
        (format!("/persons/{}/screen?{all_instruments}respondent_lang=tg", w.own_person), Some(&coordinator)),
        (format!("/encounters/{}", w.encounters[0]), Some(&coordinator)),
        (format!("/persons/{}/audit", w.own_person), Some(&coordinator)),
        ("/account".to_owned(), Some(&admin)),
        ("/admin/users".to_owned(), Some(&admin)),
        ("/admin/organisations".to_owned(), Some(&admin)),
        ("/worklist".to_owned(), Some(&coordinator)),
        ("/directory?district=TJ-KT.kulob".to_owned(), None),
        ("/directory/services".to_owned(), Some(&coordinator)),
        (format!("/directory/services/{}", w.service), Some(&coordinator)),
        // The default dashboard: four indicators by region, each with its charts and map.
        ("/dashboard".to_owned(), Some(&analyst)),
    ];
    let mut css = None;
    for (uri, cookie) in pages {
        let answer = send(&db, gzip_get(&uri, cookie.map(String::as_str))).await;
        assert!(answer.status.is_success(), "{uri}: {}", answer.status);
        assert_eq!(answer.headers[header::CONTENT_ENCODING], "gzip", "{uri} is sent compressed");
        let size = answer.raw.len();
        assert!(size <= PAGE_BUDGET, "{uri}: {size} bytes compressed, over {PAGE_BUDGET}");
        if css.is_none() {
            css = Some(String::from_utf8_lossy(&decompressed_head(&uri, &db, cookie).await).into_owned());
        }
    }
    // All assets: the one stylesheet (no script is needed).
    let html = css.unwrap();
    let href = html.split("href=\"/static/").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let asset = send(&db, gzip_get(&format!("/static/{href}"), None)).await;
    assert!(asset.raw.len() <= ASSETS_BUDGET, "assets: {} bytes", asset.raw.len());
    assert!(asset.headers[header::CACHE_CONTROL].to_str().unwrap().contains("max-age=31536000"));
}

async fn decompressed_head(uri: &str, db: &TestDb, cookie: Option<&String>) -> Vec<u8> {
    let mut b = Request::get(uri);
    if let Some(c) = cookie {
        b = b.header(header::COOKIE, c.as_str());
    }
    send(db, b.body(Body::empty()).unwrap()).await.body.into_bytes()
}
