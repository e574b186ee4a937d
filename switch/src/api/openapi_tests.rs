//! The OpenAPI document against the API it describes: the same routes, the access rules'
//! answers, resolvable references, path parameters that match their templates, and
//! documented statuses for what the handlers answer.

use std::collections::BTreeSet;

use axum::http::{header, Method, StatusCode};
use serde_json::Value;

use super::policy::Rule;
use super::testing::TestApi;
use super::{openapi, openapi_paths, openapi_schemas, served_routes};

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "patch", "head", "options", "trace",
];

/// Queue 8000 with agent alice in it.
async fn api() -> TestApi {
    let mut alice = acd::AgentConfig::new("alice");
    alice.queues.push("8000".into());
    TestApi::new(vec![acd::QueueConfig::new("8000")], vec![alice]).await
}

/// Every operation of the document: method, path, operation, path item.
fn operations(doc: &Value) -> Vec<(Method, String, &Value, &Value)> {
    let mut list = Vec::new();
    let Some(paths) = doc["paths"].as_object() else {
        panic!("no paths")
    };
    for (path, item) in paths {
        let Some(item_map) = item.as_object() else {
            panic!("{path}: not an object")
        };
        for (key, op) in item_map {
            if !METHODS.contains(&key.as_str()) {
                continue;
            }
            let method = match Method::from_bytes(key.to_ascii_uppercase().as_bytes()) {
                Ok(m) => m,
                Err(e) => panic!("{key}: {e}"),
            };
            list.push((method, path.clone(), op, item));
        }
    }
    list
}

/// The path with each `{param}` given a plausible value.
fn uri_of(path: &str) -> String {
    path.replace("{campaign}", "1")
        .replace("{record}", "1")
        .replace("{number}", "1")
        .replace("{dn}", "8000")
        .replace("{id}", "x")
        .replace("{name}", "x")
        .replace("{file}", "x")
}

fn is_open(op: &Value) -> bool {
    op["security"].as_array().is_some_and(Vec::is_empty)
}

#[test]
fn every_served_route_is_documented_and_every_documented_operation_served() {
    let doc = openapi::document();
    let documented: BTreeSet<(String, String)> = operations(&doc)
        .into_iter()
        .map(|(m, p, _, _)| (m.to_string(), p))
        .collect();
    let routes = served_routes();
    let served: BTreeSet<(String, String)> = routes
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(served.len(), routes.len(), "a route is served twice");
    let missing: Vec<_> = served.difference(&documented).collect();
    assert!(missing.is_empty(), "served but not documented: {missing:?}");
    let extra: Vec<_> = documented.difference(&served).collect();
    assert!(extra.is_empty(), "documented but not served: {extra:?}");
}

#[test]
fn the_halves_name_their_paths_and_schemas_apart() {
    let dialer = dialer::http::openapi_document();
    let keys = |v: &Value| -> BTreeSet<String> {
        v.as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default()
    };
    let ours = keys(&openapi_schemas::schemas());
    let theirs = keys(&dialer["components"]["schemas"]);
    assert!(!ours.is_empty() && !theirs.is_empty());
    let both: Vec<_> = ours.intersection(&theirs).collect();
    assert!(both.is_empty(), "schemas named by both halves: {both:?}");
    let ours = keys(&openapi_paths::paths());
    let theirs = keys(&dialer["paths"]);
    let both: Vec<_> = ours.intersection(&theirs).collect();
    assert_eq!(both, [dialer::http::OPENAPI_PATH], "paths in both halves");
}

/// Every `"$ref"` under `v`, with where it is.
fn refs<'a>(v: &'a Value, at: &str, found: &mut Vec<(String, &'a str)>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if k == "$ref" {
                    if let Some(r) = child.as_str() {
                        found.push((at.to_string(), r));
                    }
                } else {
                    refs(child, &format!("{at}/{k}"), found);
                }
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                refs(child, &format!("{at}/{i}"), found);
            }
        }
        _ => {}
    }
}

#[tokio::test]
async fn the_document_is_openapi_3_0_whose_refs_resolve() {
    let t = api().await;
    let (status, doc) = t.call(Method::GET, "/api/openapi.json", None).await;
    assert_eq!(status, StatusCode::OK, "{doc}");
    assert_eq!(
        doc,
        openapi::document(),
        "the served document is the built one"
    );
    let version = doc["openapi"].as_str().unwrap_or("");
    assert!(version.starts_with("3.0."), "openapi {version:?}");
    assert!(doc["info"]["title"].is_string() && doc["info"]["version"].is_string());

    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["cookieAuth"]["type"], "apiKey");
    assert_eq!(schemes["cookieAuth"]["in"], "cookie");
    assert_eq!(schemes["cookieAuth"]["name"], "ccswitch_session");
    assert_eq!(schemes["bearerAuth"]["type"], "http");
    assert_eq!(schemes["bearerAuth"]["scheme"], "bearer");
    assert_eq!(
        doc["security"],
        serde_json::json!([{"cookieAuth": []}, {"bearerAuth": []}])
    );

    let mut found = Vec::new();
    refs(&doc, "", &mut found);
    assert!(found.len() > 50, "only {} references", found.len());
    for (at, r) in found {
        let pointer = r.strip_prefix('#').unwrap_or("");
        assert!(
            pointer.starts_with("/components/") && doc.pointer(pointer).is_some(),
            "{at}: $ref {r:?} does not resolve"
        );
    }

    for (method, path, op, _) in operations(&doc) {
        let responses = op["responses"].as_object();
        assert!(
            responses.is_some_and(|r| !r.is_empty()),
            "{method} {path}: no responses"
        );
        if !is_open(op) {
            let responses = &op["responses"];
            assert!(
                responses["401"].is_object() && responses["403"].is_object(),
                "{method} {path}: no 401 or 403"
            );
        }
    }
}

#[test]
fn open_routes_are_open_in_the_document_and_only_they() {
    let doc = openapi::document();
    for (method, path, rule) in served_routes() {
        let op = &doc["paths"][path][method.as_str().to_ascii_lowercase()];
        let open = matches!(rule, Some(Rule::Open | Rule::Metrics));
        assert_eq!(is_open(op), open, "{method} {path}");
    }
    let metrics = doc["paths"]["/metrics"]["get"]["description"]
        .as_str()
        .unwrap_or("");
    assert!(metrics.contains("auth.metrics_open = false"), "{metrics}");
}

/// Each `{param}` of a path is declared (on the path or the operation) as a required path
/// parameter, and nothing else is; query parameters have schemas.
#[test]
fn path_parameters_match_the_path_templates() {
    let doc = openapi::document();
    for (method, path, op, item) in operations(&doc) {
        let in_template: BTreeSet<&str> = path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .collect();
        let mut declared = BTreeSet::new();
        let params = [&item["parameters"], &op["parameters"]];
        for p in params.iter().filter_map(|p| p.as_array()).flatten() {
            let name = p["name"].as_str().unwrap_or("");
            assert!(
                p["schema"].is_object(),
                "{method} {path}: {name} has no schema"
            );
            if p["in"] == "path" {
                assert_eq!(p["required"], true, "{method} {path}: {name}");
                declared.insert(name);
            }
        }
        assert_eq!(declared, in_template, "{method} {path}");
    }
}

#[tokio::test]
async fn anonymous_callers_get_401_except_on_open_routes() {
    let t = api().await;
    let doc = openapi::document();
    for (method, path, op, _) in operations(&doc) {
        let uri = uri_of(&path);
        let body = op["requestBody"].is_object().then_some("{}");
        let what = format!("{method} {uri}");
        if is_open(op) {
            let headers = [("content-type", "application/json")];
            let bytes = body.unwrap_or("").as_bytes().to_vec();
            let (status, _, _) = t.send_bytes(method, &uri, &headers, bytes).await;
            assert_ne!(status, StatusCode::UNAUTHORIZED, "{what}");
            assert!(status.as_u16() < 500, "{what}: {status}");
            continue;
        }
        let (status, body) = t.anonymous(method.clone(), &uri, body).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
        assert_eq!(body["error"]["code"], "unauthenticated", "{what}: {body}");
        assert!(body["error"]["message"].is_string(), "{what}: {body}");
        let (_, headers, _) = t.send_bytes(method, &uri, &[], Vec::new()).await;
        assert_eq!(
            headers
                .get(header::WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok()),
            Some("Bearer realm=\"ccswitch\""),
            "{what}"
        );
    }
}

/// What the handlers answer an administrator's plausible request (path parameters filled,
/// `{}` for a body) is among the operation's documented answers, as a fuzzer checks.
#[tokio::test]
async fn answers_to_the_administrator_are_documented() {
    let t = api().await;
    let doc = openapi::document();
    for (method, path, op, _) in operations(&doc) {
        let uri = uri_of(&path);
        let body = op["requestBody"].is_object().then_some("{}");
        let mut headers = vec![("authorization", format!("Bearer {}", t.token))];
        if body.is_some() {
            headers.push(("content-type", "application/json".into()));
        }
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let bytes = body.unwrap_or("").as_bytes().to_vec();
        let (status, _, answer) = t.send_bytes(method.clone(), &uri, &headers, bytes).await;
        let code = status.as_u16().to_string();
        assert!(
            op["responses"].get(&code).is_some(),
            "{method} {uri}: {status} is not documented: {}",
            String::from_utf8_lossy(&answer)
        );
        if status.is_client_error() || status.is_server_error() {
            let error: Value = serde_json::from_slice(&answer).unwrap_or(Value::Null);
            assert!(
                error["error"]["code"].is_string(),
                "{method} {uri}: {status} without the JSON error body"
            );
        }
    }
}
