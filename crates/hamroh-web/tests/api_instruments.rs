//! The instrument catalogue and the scoring engine through the JSON API, and the OpenAPI document.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use hamroh_store::testing::TestDb;
use hamroh_web::{AppState, router};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tower::ServiceExt;

async fn call(request: Request<Body>) -> (StatusCode, Value) {
    let db = TestDb::sqlite().await;
    let response = router(AppState::new(db.store.clone())).oneshot(request).await.unwrap();
    let status = response.status();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn post_json(uri: &str, body: &str) -> Request<Body> {
    Request::post(uri).header(header::CONTENT_TYPE, "application/json").body(Body::from(body.to_owned())).unwrap()
}

fn assert_error(body: &Value, code: &str) {
    assert_eq!(body["error"]["code"], code, "{body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
}

#[tokio::test]
async fn the_catalogue_lists_every_instrument() {
    let (status, body) = call(get("/api/v1/instruments")).await;
    assert_eq!(status, StatusCode::OK);
    let ids: Vec<&str> = body.as_array().unwrap().iter().map(|i| i["id"].as_str().unwrap()).collect();
    for id in [
        "phq9",
        "phq2",
        "gad7",
        "phq15",
        "srq20",
        "k10",
        "pcptsd5",
        "pcl5",
        "auditc",
        "audit",
        "wgss",
        "whodas12",
        "symptom_review",
    ] {
        assert!(ids.contains(&id), "{id}");
    }
}

#[tokio::test]
async fn one_instrument_shows_its_items_codes_and_sources() {
    let (status, body) = call(get("/api/v1/instruments/phq9")).await;
    assert_eq!(status, StatusCode::OK);
    // Nine scored items and item 10, difficulty in daily life, optional and unscored.
    assert_eq!(body["items"].as_array().unwrap().len(), 10);
    assert_eq!(body["codes"]["total"], "44261-6");
    assert_eq!(body["items"][8]["code"], "44260-8");
    assert_eq!(body["items"][9]["code"], "69722-7");
    assert_eq!(body["items"][9]["optional"], true);
    assert_eq!(body["scoring"]["items"].as_array().unwrap().len(), 9);
    assert!(body["items"][0]["text"]["tg"].as_str().unwrap().len() > 5);
    assert!(body["positive"]["source"].as_str().unwrap().contains("Kroenke"));
    let (status, body) = call(get("/api/v1/instruments/nosuch")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_error(&body, "unknown_instrument");
}

#[tokio::test]
async fn scoring_answers_with_the_result_and_red_flags() {
    let (status, body) =
        call(post_json("/api/v1/score", r#"{"instrument":"phq9","answers":[1,1,1,1,1,1,1,1,1]}"#)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["total"], 9);
    assert_eq!(body["band"], "mild");
    assert_eq!(body["positive"], false);
    assert_eq!(body["flags"], json!(["self_harm"]));
    let (status, body) = call(post_json(
        "/api/v1/score",
        r#"{"instrument":"phq15","answers":[0,0,0,null,0,0,0,0,0,0,0,0,0,0,2],"sex":"male"}"#,
    ))
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["total"], 2);
}

#[tokio::test]
async fn bad_scoring_requests_answer_4xx_in_the_error_shape() {
    let cases = [
        (
            post_json("/api/v1/score", r#"{"instrument":"phq9","answers":[1,1,1,1,1,1,1,1]}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_answers",
        ),
        (
            post_json("/api/v1/score", r#"{"instrument":"phq9","answers":[0,0,0,9,0,0,0,0,0]}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_answers",
        ),
        (
            post_json("/api/v1/score", r#"{"instrument":"auditc","answers":[1,1,1]}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_answers",
        ),
        (
            post_json("/api/v1/score", r#"{"instrument":"nosuch","answers":[1]}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_instrument",
        ),
        (
            post_json("/api/v1/score", r#"{"instrument":"phq9","answers":"1,2"}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (
            post_json("/api/v1/score", r#"{"instrument":"phq9","answers":[1],"extra":true}"#),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_body",
        ),
        (post_json("/api/v1/score", "{not json"), StatusCode::BAD_REQUEST, "invalid_json"),
        (
            Request::post("/api/v1/score").body(Body::from("{}")).unwrap(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
        ),
    ];
    for (request, status, code) in cases {
        let (got, body) = call(request).await;
        assert_eq!(got, status, "{body}");
        assert_error(&body, code);
    }
    let (_, body) = call(post_json("/api/v1/score", r#"{"instrument":"phq9","answers":[0,0,0,9,0,0,0,0,0]}"#)).await;
    assert!(body["error"]["message"].as_str().unwrap().contains("item 4"));
}

#[tokio::test]
async fn the_openapi_document_describes_every_api_route_and_each_route_answers() {
    let (status, doc) = call(get("/api/v1/openapi.json")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for path in ["/api/v1/instruments", "/api/v1/instruments/{id}", "/api/v1/score"] {
        assert!(paths.contains_key(path), "{path} missing from the OpenAPI document");
    }
    // Every documented operation is routed: none answers 404 for its route or 405 for its method.
    for (path, item) in paths {
        for method in item.as_object().unwrap().keys() {
            let uri = path.replace("{id}", "phq9");
            let request = Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(&uri)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{}"))
                .unwrap();
            let (status, _) = call(request).await;
            assert!(
                status != StatusCode::NOT_FOUND && status != StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}: {status}"
            );
        }
    }
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
}

#[tokio::test]
async fn operation_ids_are_unique_and_path_parameters_are_in_the_path() {
    let (_, doc) = call(get("/api/v1/openapi.json")).await;
    let mut ids = std::collections::BTreeMap::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let id = op["operationId"].as_str().unwrap_or_default().to_owned();
            if let Some(earlier) = ids.insert(id.clone(), format!("{method} {path}")) {
                panic!("operationId {id} of {method} {path} is also {earlier}'s");
            }
            for param in op["parameters"].as_array().into_iter().flatten() {
                let name = param["name"].as_str().unwrap();
                let in_path = path.contains(&format!("{{{name}}}"));
                assert_eq!(param["in"] == "path", in_path, "{method} {path}: parameter {name} is in {}", param["in"]);
                if param["in"] == "path" {
                    assert_eq!(param["required"], true, "{method} {path}: path parameter {name}");
                }
            }
        }
    }
}
