//! Edge cases of the REST API (issue 15, items 8-10): every rejection is the JSON error
//! body, wrong methods get 405 with `Allow`, ids and names are checked, references must
//! exist, bodies over their limit get 413 and the client reads it over a real socket.

use super::testing::TestApi;
use acd::{AgentConfig, QueueConfig};
use axum::http::{header, Method, StatusCode};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const GET: Method = Method::GET;
const PUT: Method = Method::PUT;
const POST: Method = Method::POST;

/// Queue 8000 with agent alice in it.
async fn api() -> TestApi {
    let mut alice = AgentConfig::new("alice");
    alice.queues.push("8000".into());
    TestApi::new(vec![QueueConfig::new("8000")], vec![alice]).await
}

fn code(body: &Value) -> (&str, &str) {
    (
        body["error"]["code"].as_str().unwrap_or(""),
        body["error"]["field"].as_str().unwrap_or(""),
    )
}

#[tokio::test]
async fn login_rejections_are_json() {
    let t = api().await;
    let login = "/api/agents/alice/login";
    let json = [("content-type", "application/json")];
    let plain = [("content-type", "text/plain")];
    let big = format!(
        "{{\"state\":\"ready\",\"reason\":\"{}\"}}",
        "x".repeat(2 << 20)
    );
    for (headers, body, status, want) in [
        (&json[..], "{\"state\":", 400, ("bad_json", "")),
        (
            &plain[..],
            "{\"state\":\"ready\"}",
            415,
            ("unsupported_media_type", ""),
        ),
        (&json[..], big.as_str(), 413, ("too_large", "")),
        (
            &json[..],
            "{\"state\":\"ready\",\"x\":1}",
            422,
            ("invalid", "x"),
        ),
        (
            &json[..],
            "{\"state\":\"sleepy\"}",
            422,
            ("invalid", "state"),
        ),
        (&json[..], "{\"state\":5}", 422, ("invalid", "state")),
        (
            &json[..],
            "{\"state\":\"not_ready\",\"reason\":\"a\\u0000b\"}",
            422,
            ("invalid", "reason"),
        ),
    ] {
        let (got, _, err) = t.raw(POST, login, headers, body.as_bytes().to_vec()).await;
        assert_eq!(
            got.as_u16(),
            status,
            "{}: {err}",
            &body[..body.len().min(40)]
        );
        assert_eq!(code(&err), want, "{err}");
    }
    // No body, or an empty one: Not Ready, reason login.
    let (status, v) = t.call(POST, login, None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["agent"]["state"]["reason"], "login");
    let (status, v) = t.call(POST, "/api/agents/%FF/login", None).await;
    assert_eq!((status, code(&v).0), (StatusCode::BAD_REQUEST, "bad_path"));
}

#[tokio::test]
async fn wrong_methods_and_unknown_paths_are_json() {
    let t = api().await;
    for (method, uri, allow) in [
        (Method::DELETE, "/api/health", "GET,HEAD"),
        (Method::PATCH, "/api/agents/alice", "GET,HEAD,PUT,DELETE"),
        (GET, "/api/agents/alice/login", "POST"),
        (PUT, "/api/calls", "GET,HEAD,POST"),
        (POST, "/api/agents/alice/session", "GET,HEAD"),
    ] {
        let (status, headers, v) = t.raw(method.clone(), uri, &[], Vec::new()).await;
        assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri}");
        assert_eq!(code(&v).0, "method_not_allowed", "{method} {uri}: {v}");
        let mut got: Vec<&str> = headers
            .get(header::ALLOW)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .split(',')
            .collect();
        let mut want: Vec<&str> = allow.split(',').collect();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want, "{method} {uri}");
    }
    for uri in ["/api/nothing", "/api/agents/alice/nothing", "/api/"] {
        let (status, v) = t.call(GET, uri, None).await;
        assert_eq!(
            (status, code(&v).0),
            (StatusCode::NOT_FOUND, "not_found"),
            "{uri}"
        );
    }
}

#[tokio::test]
async fn agent_ids_names_and_references_are_checked() {
    let t = api().await;
    for (uri, body, field) in [
        (
            "/api/agents/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
            "{}",
            "id",
        ),
        ("/api/agents/a%20b", "{}", "id"),
        ("/api/agents/carol", r#"{"name":"Carol\u0000"}"#, "name"),
        ("/api/agents/carol", r#"{"extension":"10 04"}"#, "extension"),
        ("/api/agents/carol", r#"{"extension":"1099"}"#, "extension"),
        (
            "/api/agents/carol",
            r#"{"queues":["8000","9999"]}"#,
            "queues",
        ),
        ("/api/agents/carol", r#"{"skills":{"a\nb":1}}"#, "skills"),
        ("/api/agents/carol", r#"{"nmae":"Carol"}"#, "nmae"),
        ("/api/queues/80%2000", "{}", "dn"),
        ("/api/queues/9000", r#"{"name":"\u001b[31mred"}"#, "name"),
        (
            "/api/queues/9000",
            r#"{"wrap_up":{"mode":"fixed","secs":5,"x":1}}"#,
            "wrap_up",
        ),
    ] {
        let (status, err) = t.call(PUT, uri, Some(body)).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{uri} {body}: {err}"
        );
        assert_eq!(code(&err), ("invalid", field), "{uri} {body}: {err}");
    }
    let (status, v) = t
        .call(
            PUT,
            "/api/agents/carol",
            Some(r#"{"name":"Carol","extension":"1004","queues":["8000"]}"#),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
}

#[tokio::test]
async fn click_to_call_needs_a_known_extension() {
    let t = api().await;
    for (body, field) in [
        (r#"{"extension":"1099","number":"1002"}"#, "extension"),
        (r#"{"extension":"<b>","number":"1002"}"#, "extension"),
        (r#"{"extension":"1001","number":"10 02"}"#, "number"),
        (
            r#"{"extension":"1001","number":"1002","agent":"nobody"}"#,
            "agent",
        ),
        (
            r#"{"extension":"1001","number":"1002","agnet":"alice"}"#,
            "agnet",
        ),
    ] {
        let (status, err) = t.call(POST, "/api/calls", Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {err}");
        assert_eq!(code(&err), ("invalid", field), "{body}: {err}");
    }
    // An external number is fine: only the extension must be a user.
    let (status, v) = t
        .call(
            POST,
            "/api/calls",
            Some(r#"{"extension":"1001","number":"+442079460000","agent":"alice"}"#),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{v}");
}

#[tokio::test]
async fn history_and_session_of_unknown_agents_are_404() {
    let t = api().await;
    let (status, v) = t.call(GET, "/api/agents/nobody/history", None).await;
    assert_eq!((status, code(&v).0), (StatusCode::NOT_FOUND, "not_found"));
    let (status, v) = t.call(GET, "/api/agents/nobody/session", None).await;
    assert_eq!(
        (status, code(&v).0),
        (StatusCode::NOT_FOUND, "agent_not_found")
    );
    let (status, v) = t.call(GET, "/api/agents/alice/session", None).await;
    assert_eq!((status, &v["state"]), (StatusCode::OK, &"idle".into()));
    let (status, v) = t.call(GET, "/api/agents/alice/history", None).await;
    assert_eq!(status, StatusCode::OK, "{v}");
}

/// Sends `head` then `body_len` bytes of body (all of them, whatever the server says
/// meanwhile), then reads the answer to the end: the status line and the body. A reset or
/// broken pipe fails the test.
async fn send_all_then_read(addr: SocketAddr, head: &str, body_len: usize) -> (String, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    s.write_all(head.as_bytes()).await.unwrap();
    let chunk = vec![b' '; 64 * 1024];
    let mut left = body_len;
    while left > 0 {
        let n = left.min(chunk.len());
        if let Err(e) = s.write_all(&chunk[..n]).await {
            panic!("writing the body: {e} with {left} bytes left");
        }
        left -= n;
    }
    let mut response = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut response)).await;
    match read {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => panic!("reading the answer: {e}"),
        Err(_) => panic!("no answer within 10 s"),
    }
    let text = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    (head.to_string(), body.to_string())
}

#[tokio::test]
async fn a_client_writing_a_huge_body_reads_the_413() {
    let t = api().await;
    let addr = t.serve().await;
    let len = 10 << 20;
    for path in ["/api/agents/alice/login", "/api/campaigns"] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Authorization: Bearer {}\r\nContent-Length: {len}\r\n\r\n",
            t.token
        );
        let (head, body) = send_all_then_read(addr, &head, len).await;
        assert!(head.starts_with("HTTP/1.1 413"), "{path}: {head}");
        assert!(
            head.to_ascii_lowercase().contains("connection: close"),
            "{head}"
        );
        let v: Value = serde_json::from_str(&body).unwrap_or_default();
        assert_eq!(code(&v).0, "too_large", "{path}: {body}");
    }
    // Any early answer, not only 413: an unknown path, a campaign that does not exist.
    for (path, content_type, status) in [
        ("/api/nothing", "application/json", "404"),
        ("/api/campaigns/999/import", "text/csv", "404"),
    ] {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: {content_type}\r\n\
             Authorization: Bearer {}\r\nContent-Length: {len}\r\nConnection: close\r\n\r\n",
            t.token
        );
        let (head, _) = send_all_then_read(addr, &head, len).await;
        assert!(
            head.starts_with(&format!("HTTP/1.1 {status}")),
            "{path}: {head}"
        );
    }
}

#[tokio::test]
async fn a_client_expecting_100_continue_gets_the_413_without_sending() {
    let t = api().await;
    let addr = t.serve().await;
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "POST /api/agents/alice/login HTTP/1.1\r\nHost: x\r\n\
         Authorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: 10485760\r\n\
         Expect: 100-continue\r\n\r\n",
        t.token
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut response = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut response)).await;
    assert!(matches!(read, Ok(Ok(_))), "{read:?}");
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(!text.contains("100 Continue"), "{text}");
}

#[test]
fn distributor_errors_map_to_statuses_by_variant() {
    use super::agents::refusal;
    use crate::distributor_error::DistributorError;
    use acd::{AcdError, AgentId, Dn, InteractionId};
    let cases = [
        (
            AcdError::UnknownAgent(AgentId::new("bob")).into(),
            StatusCode::NOT_FOUND,
            "not_found",
            "unknown agent bob",
        ),
        (
            AcdError::UnknownQueue(Dn::new("9000")).into(),
            StatusCode::NOT_FOUND,
            "not_found",
            "unknown queue 9000",
        ),
        (
            AcdError::UnknownInteraction(InteractionId(7)).into(),
            StatusCode::NOT_FOUND,
            "not_found",
            "unknown interaction #7",
        ),
        (
            DistributorError::Stopped,
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            "distributor stopped",
        ),
        (
            AcdError::AgentLoggedIn(AgentId::new("alice")).into(),
            StatusCode::CONFLICT,
            "agent_logged_in",
            "agent alice must log out first",
        ),
    ];
    for (e, status, code, message) in cases {
        let api = refusal(e, "agent_logged_in");
        assert_eq!(
            (api.status, api.code, api.message.as_str()),
            (status, code, message)
        );
    }
    // `?` in a handler: a refusal by state is the plain `conflict`.
    let api = super::ApiError::from(DistributorError::from(AcdError::NotLoggedIn(AgentId::new(
        "alice",
    ))));
    assert_eq!(
        (api.status, api.code, api.message.as_str()),
        (
            StatusCode::CONFLICT,
            "conflict",
            "agent alice is logged out"
        )
    );
}

#[tokio::test]
async fn a_stopped_distributor_answers_503() {
    let t = api().await;
    t.state.distributor.stop();
    for (method, path) in [
        (POST, "/api/agents/alice/login"),
        (Method::DELETE, "/api/queues/8000"),
    ] {
        let (status, body) = t.call(method, path, None).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{path}: {body}");
        assert_eq!(code(&body).0, "unavailable", "{path}: {body}");
        assert_eq!(body["error"]["message"], "distributor stopped", "{body}");
    }
}
