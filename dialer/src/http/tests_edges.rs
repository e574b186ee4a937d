//! REST edge cases: every rejection is the JSON error body with its documented code, wrong
//! methods get 405 with `Allow`, unknown fields and unknown agents are refused, bodies
//! over their limit get 413, imports must be CSV.

use axum::body::{to_bytes, Body};
use axum::http::{header, HeaderMap, Request, StatusCode};
use serde_json::{json, Value};
use tower::ServiceExt;

use super::tests::{error_code, Api, CSV};
use super::*;

/// One request through `app`: status, headers and the body as JSON (`Null` when empty).
async fn send(
    app: &Router,
    method: &str,
    uri: &str,
    headers: &[(&str, String)],
    body: Body,
) -> (StatusCode, HeaderMap, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    for (name, value) in headers {
        req = req.header(*name, value);
    }
    let resp = app.clone().oneshot(req.body(body).unwrap()).await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    let bytes = to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    let value = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("{uri}: not JSON ({e}): {:?}", bytes))
    };
    (status, headers, value)
}

fn json_type() -> (&'static str, String) {
    ("content-type", "application/json".to_string())
}

#[tokio::test]
async fn wrong_methods_get_a_json_405_with_allow() {
    let api = Api::new().await;
    for (method, uri, allow) in [
        ("DELETE", "/api/campaigns", "GET,HEAD,POST"),
        ("PUT", "/api/campaigns/1/import", "POST"),
        ("POST", "/api/dnc/123", "GET,HEAD,DELETE"),
        ("GET", "/api/agents/a/campaigns/1/records/1/decline", "POST"),
    ] {
        let (status, headers, v) = send(&api.app, method, uri, &[], Body::empty()).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri}");
        assert_eq!(error_code(&v), "method_not_allowed", "{method} {uri}: {v}");
        let got = headers.get(header::ALLOW).and_then(|v| v.to_str().ok());
        let mut got: Vec<&str> = got.unwrap_or("").split(',').collect();
        let mut want: Vec<&str> = allow.split(',').collect();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want, "{method} {uri}");
    }
    api.db.cleanup().await;
}

#[tokio::test]
async fn bodies_that_do_not_fit_name_the_field() {
    let api = Api::new().await;
    // The record is not the agent's: what matters is that the body is refused first.
    let decline = "/api/agents/a/campaigns/1/records/1/decline";
    for (uri, body, field) in [
        (decline, json!({"decline": "do_not_call", "x": 1}), "x"),
        (decline, json!({"decline": "later"}), "decline"),
        (
            "/api/agents/a/campaigns/1/records/1/outcome",
            json!({"call_result": 5}),
            "call_result",
        ),
        (
            "/api/agents/a/campaigns/1/records/1/outcome",
            json!({"call_result": "x", "callback": {"at": "2030-01-01T00:00:00Z", "agent": "b"}}),
            "callback.agent",
        ),
        ("/api/dnc", json!({"numbr": "+442079460000"}), "numbr"),
        ("/api/campaigns/1", json!({"windw": {}}), "windw"),
    ] {
        let (status, v) = api.json("POST", uri, Some(body.clone())).await;
        let (status, v) = if status == StatusCode::METHOD_NOT_ALLOWED {
            api.json("PATCH", uri, Some(body.clone())).await
        } else {
            (status, v)
        };
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
        assert_eq!(error_code(&v), "invalid", "{body}: {v}");
        assert_eq!(v["error"]["field"], field, "{body}: {v}");
    }
    // A typo inside a campaign's calling window no longer means "every day".
    let spec = json!({"name": "x", "queue": "1",
        "window": {"start": "09:00", "end": "17:00", "day": ["mon"]}});
    let (status, v) = api.json("POST", "/api/campaigns", Some(spec)).await;
    assert_eq!(
        (status, error_code(&v)),
        (StatusCode::BAD_REQUEST, "invalid_campaign"),
        "{v}"
    );
    api.db.cleanup().await;
}

#[tokio::test]
async fn a_declined_record_with_an_unknown_field_is_not_acted_on() {
    let api = Api::new().await;
    let id = api.running(json!({}), CSV).await;
    let base = format!("/api/agents/alice/campaigns/{id}/records");
    let (status, s) = api.json("POST", &format!("{base}/next"), None).await;
    assert_eq!(status, StatusCode::OK, "{s}");
    let rid = s["preview"]["record"].as_i64().unwrap();
    let (status, v) = api
        .json(
            "POST",
            &format!("{base}/{rid}/decline"),
            Some(json!({"decline": "do_not_call", "x": 1})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let (_, session) = api.json("GET", "/api/agents/alice/session", None).await;
    assert_eq!(session["state"], "previewing", "{session}");
    let (_, record) = api
        .json("GET", &format!("/api/campaigns/{id}/records/{rid}"), None)
        .await;
    assert_ne!(record["record"]["status"]["status"], "do_not_call");
    api.db.cleanup().await;
}

#[tokio::test]
async fn bodies_over_the_limit_get_413() {
    let api = Api::new().await;
    let big = format!(
        "{{\"name\":\"{}\",\"queue\":\"1\"}}",
        "x".repeat(JSON_LIMIT)
    );
    // Declared too large: refused from the header.
    let (status, headers, v) = send(
        &api.app,
        "POST",
        "/api/campaigns",
        &[json_type(), ("content-length", big.len().to_string())],
        Body::from(big.clone()),
    )
    .await;
    assert_eq!(
        (status, error_code(&v)),
        (StatusCode::PAYLOAD_TOO_LARGE, "too_large")
    );
    assert_eq!(
        headers.get(header::CONNECTION).map(|v| v.as_bytes()),
        Some(&b"close"[..])
    );
    // No length given (chunked): refused while reading.
    let chunks = futures_util::stream::iter(
        big.clone()
            .into_bytes()
            .chunks(64 * 1024)
            .map(|c| Ok::<_, std::io::Error>(axum::body::Bytes::copy_from_slice(c)))
            .collect::<Vec<_>>(),
    );
    let (status, _, v) = send(
        &api.app,
        "POST",
        "/api/campaigns",
        &[json_type()],
        Body::from_stream(chunks),
    )
    .await;
    assert_eq!(
        (status, error_code(&v)),
        (StatusCode::PAYLOAD_TOO_LARGE, "too_large")
    );
    // An import says too large from its header as well.
    let (status, _, v) = send(
        &api.app,
        "POST",
        "/api/campaigns/1/import",
        &[
            ("content-type", "text/csv".to_string()),
            ("content-length", (IMPORT_LIMIT + 1).to_string()),
        ],
        Body::from(CSV),
    )
    .await;
    assert_eq!(
        (status, error_code(&v)),
        (StatusCode::PAYLOAD_TOO_LARGE, "too_large")
    );
    api.db.cleanup().await;
}

#[tokio::test]
async fn imports_must_be_csv() {
    let api = Api::new().await;
    let id = api.create(json!({"name": "x", "queue": "1"})).await;
    let uri = format!("/api/campaigns/{id}/import");
    for refused in [
        "",
        "text/plain",
        "application/json",
        "application/x-www-form-urlencoded",
        "text/csv; charset=iso-8859-1",
    ] {
        let (status, v) = api.raw("POST", &uri, refused, CSV).await;
        assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{refused}: {v}");
        let v: Value = serde_json::from_str(&v).unwrap();
        assert_eq!(error_code(&v), "unsupported_media_type");
    }
    for accepted in ["text/csv", "application/csv", "Text/CSV; charset=UTF-8"] {
        let (status, v) = api.raw("POST", &uri, accepted, CSV).await;
        assert_eq!(status, StatusCode::OK, "{accepted}: {v}");
    }
    api.db.cleanup().await;
}

#[tokio::test]
async fn the_import_limit_is_recognised_through_the_error_chain() {
    use http_body_util::BodyExt;
    let limited = http_body_util::Limited::new(Body::from("0123456789"), 4);
    let Err(e) = limited.collect().await else {
        panic!("a 10-byte body passed a 4-byte limit");
    };
    let e = axum::Error::new(e);
    assert!(lists::over_limit(&e));
    let other = axum::Error::new(std::io::Error::other("reset"));
    assert!(!lists::over_limit(&other));
}

/// Agents alice and bob.
struct TwoAgents;

impl Agents for TwoAgents {
    fn exists(&self, agent: &str) -> AgentCheck {
        let known = matches!(agent, "alice" | "bob");
        Box::pin(async move { known })
    }
}

#[tokio::test]
async fn unknown_agents_get_404() {
    let api = Api::new().await;
    let app = router(DialerHttp::new(api.dialer.clone()).with_agents(TwoAgents));
    let (status, _, v) = send(&app, "GET", "/api/agents/alice/session", &[], Body::empty()).await;
    assert_eq!(
        (status, v["state"].clone()),
        (StatusCode::OK, json!("idle"))
    );
    for (method, uri) in [
        ("GET", "/api/agents/mallory/session"),
        ("POST", "/api/agents/mallory/campaigns/1/records/next"),
        ("POST", "/api/agents/mallory/campaigns/1/records/1/accept"),
    ] {
        let (status, _, v) = send(&app, method, uri, &[], Body::empty()).await;
        assert_eq!(
            (status, error_code(&v)),
            (StatusCode::NOT_FOUND, "agent_not_found"),
            "{uri}"
        );
    }
    api.db.cleanup().await;
}
