//! No English left on Tajik and Russian pages: every page a signed-in person can open is rendered
//! in tg and ru for every role, and no interface text of the English messages may appear in it
//! (a message missing in a language falls back to English, and a string written into a template
//! or the code bypasses the messages altogether).

mod support;

use std::collections::HashMap;

use axum::http::{Method, StatusCode};
use hamroh_store::testing::TestDb;
use support::{request, send, session_for, world};

/// The messages of a language, by id, as `locales/<lang>/main.ftl` holds them (one line each).
fn messages(lang: &str) -> HashMap<String, String> {
    let path = format!("{}/../../locales/{lang}/main.ftl", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with(' ') && !l.starts_with('#'))
        .filter_map(|l| l.split_once(" = "))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// The page's text as a reader sees it: tags dropped, entities of quotes turned back.
fn visible_text(html: &str) -> String {
    let body = html.split("<main>").nth(1).unwrap_or(html);
    let mut out = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&#x27;", "'").replace("&quot;", "\"").replace("&amp;", "&")
}

#[tokio::test]
async fn pages_in_tajik_and_russian_show_no_english_interface_text() {
    let db = TestDb::sqlite().await;
    let w = world(&db).await;
    let en = messages("en");
    // English texts long enough to be sure of (three words or more), without arguments, whose
    // translation differs from them.
    let mut problems = Vec::new();
    let mut checked = 0;
    // The check itself finds English: the worklist in English is full of it.
    let (_, clinician) = w.users.iter().find(|(r, _)| *r == hamroh_domain::org::Role::Clinician).unwrap();
    let cookie = session_for(&db, *clinician).await;
    let english_page = visible_text(&send(&db, request("GET", "/worklist?lang=en", Some(&cookie), None)).await.body);
    let found = en.values().filter(|v| !v.contains('{') && v.split_whitespace().count() >= 3);
    assert!(found.filter(|v| english_page.contains(v.as_str())).count() >= 3, "{english_page}");
    for lang in ["tg", "ru"] {
        let translated = messages(lang);
        let english: Vec<(&String, &String)> = en
            .iter()
            .filter(|(k, v)| !v.contains('{') && v.split_whitespace().count() >= 3 && translated.get(*k) != Some(v))
            .collect();
        for (method, path, _) in hamroh_web::page_routes() {
            if method != Method::GET
                || path.contains("{name}")
                || path.contains("{token}")
                || path.ends_with(".csv")
                || path.ends_with(".xlsx")
            {
                continue;
            }
            let uri = path
                .replace("/referrals/{id}", &format!("/referrals/{}", w.referral_to_us))
                .replace("/encounters/{id}", &format!("/encounters/{}", w.encounters[0]))
                .replace("/directory/services/{id}", &format!("/directory/services/{}", w.service))
                .replace("{id}", &w.own_person.to_string());
            for (role, user) in &w.users {
                let cookie = session_for(&db, *user).await;
                let page = send(&db, request("GET", &format!("{uri}?lang={lang}"), Some(&cookie), None)).await;
                if page.status != StatusCode::OK {
                    continue;
                }
                checked += 1;
                let text = visible_text(&page.body);
                for (id, value) in &english {
                    if text.contains(value.as_str()) {
                        problems.push(format!("{lang} {uri} as {role}: `{id}` in English: {value}"));
                    }
                }
                // A message looked up under an id no file has shows the id itself.
                for word in text.split_whitespace() {
                    let looks_like_id = word.len() > 6
                        && word.contains('-')
                        && word.chars().all(|c| c.is_ascii_lowercase() || c == '-' || c == '_');
                    if looks_like_id
                        && !en.contains_key(word)
                        && word.split('-').count() > 1
                        && word.ends_with(|c: char| c.is_ascii_lowercase())
                    {
                        problems.push(format!("{lang} {uri} as {role}: an id without a message: {word}"));
                    }
                }
            }
        }
    }
    assert!(checked > 60, "only {checked} pages rendered");
    problems.sort();
    problems.dedup();
    assert!(problems.is_empty(), "{} English texts:\n{}", problems.len(), problems.join("\n"));
    db.cleanup().await;
}
