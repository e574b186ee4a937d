//! API tests: REST through the router in-process, the event stream over a real WebSocket.

use super::testing::TestApi;
use acd::{AgentConfig, Arrival, Channel, Event, QueueConfig};
use axum::http::{Method, StatusCode};
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};

const GET: Method = Method::GET;
const PUT: Method = Method::PUT;
const POST: Method = Method::POST;
const DELETE: Method = Method::DELETE;

/// Queue 8000 with agents alice and bob in it.
async fn api() -> TestApi {
    let agents = ["alice", "bob"]
        .into_iter()
        .map(|id| {
            let mut a = AgentConfig::new(id);
            a.queues.push("8000".into());
            a
        })
        .collect();
    TestApi::new(vec![QueueConfig::new("8000")], agents).await
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

fn error_field(body: &Value) -> &str {
    body["error"]["field"].as_str().unwrap_or("")
}

#[tokio::test]
async fn queues_are_created_changed_and_deleted() {
    let t = api().await;
    let (status, body) = t
        .call(
            PUT,
            "/api/queues/9000",
            Some(r#"{"name":"Support","offer_timeout_secs":20}"#),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["config"]["dn"], "9000");
    assert_eq!(body["config"]["offer_timeout_secs"], 20);
    assert_eq!(body["stats"]["waiting"], 0);

    let (status, body) = t
        .call(
            PUT,
            "/api/queues/9000",
            Some(r#"{"dn":"9000","name":"Support 2","strategy":"round_robin"}"#),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = t.call(GET, "/api/queues/9000", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["config"]["name"], "Support 2");
    assert_eq!(body["config"]["strategy"], "round_robin");
    // A PUT replaces the whole configuration: what the body leaves out is the default.
    assert_eq!(body["config"]["offer_timeout_secs"], 15);
    let (_, list) = t.call(GET, "/api/queues", None).await;
    assert_eq!(list.as_array().map(Vec::len), Some(2));

    // Deleting a config-file queue is remembered, like a REST-created one.
    assert_eq!(
        t.call(DELETE, "/api/queues/8000", None).await.0,
        StatusCode::NO_CONTENT
    );
    let (status, body) = t.call(GET, "/api/queues/8000", None).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "not_found")
    );
    let (status, body) = t.call(DELETE, "/api/queues/8000", None).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "not_found")
    );
    assert_eq!(
        t.call(GET, "/api/queues/8000/stats", None).await.0,
        StatusCode::NOT_FOUND
    );

    // What a restart would start with: the file's queues under the saved changes.
    let stored = t.db.store.load_acd_changes().await.unwrap();
    let (queues, agents) = stored.apply(vec![QueueConfig::new("8000")], vec![]);
    let dns: Vec<_> = queues.iter().map(|q| q.dn.as_str()).collect();
    assert_eq!(dns, ["9000"]);
    assert_eq!(queues[0].name, "Support 2");
    assert!(agents.is_empty());
}

#[tokio::test]
async fn queue_bodies_are_checked() {
    let t = api().await;
    for (body, field) in [
        (r#"{"dn":"1234"}"#, "dn"),
        (r#"{"offer_timeout_secs":"soon"}"#, "offer_timeout_secs"),
        (r#"{"offer_timeout_secs":0}"#, "offer_timeout_secs"),
        (
            r#"{"max_wait":{"secs":30,"target":"9000"}}"#,
            "max_wait.target",
        ),
        (r#"{"max_wait":{"secs":30}}"#, "max_wait"),
        (r#"{"wrap_up":{"mode":"sometimes"}}"#, "wrap_up"),
        (r#"{"colour":"blue"}"#, "colour"),
        (r#"["9000"]"#, ""),
    ] {
        let (status, err) = t.call(PUT, "/api/queues/9000", Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {err}");
        assert_eq!(error_code(&err), "invalid", "{body}");
        assert_eq!(error_field(&err), field, "{body}: {err}");
        assert!(!err["error"]["message"].as_str().unwrap_or("").is_empty());
    }
    let (status, err) = t.call(PUT, "/api/queues/9000", Some(r#"{"name":"#)).await;
    assert_eq!(
        (status, error_code(&err)),
        (StatusCode::BAD_REQUEST, "bad_json")
    );
    let (status, err) = t.call(PUT, "/api/queues/9000", None).await;
    assert_eq!(status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{err}");
    // Nothing was created or saved.
    assert_eq!(
        t.call(GET, "/api/queues/9000", None).await.0,
        StatusCode::NOT_FOUND
    );
    assert!(t
        .db
        .store
        .load_acd_changes()
        .await
        .unwrap()
        .queues
        .is_empty());
}

#[tokio::test]
async fn a_queue_holding_an_interaction_is_not_deleted() {
    let t = api().await;
    t.state
        .distributor
        .request(Event::InteractionArrived(Arrival::new(
            1,
            "8000",
            Channel::Voice,
        )))
        .await
        .unwrap();
    let (status, err) = t.call(DELETE, "/api/queues/8000", None).await;
    assert_eq!(
        (status, error_code(&err)),
        (StatusCode::CONFLICT, "queue_not_empty"),
        "{err}"
    );
    assert_eq!(
        t.call(GET, "/api/queues/8000", None).await.0,
        StatusCode::OK
    );
}

#[tokio::test]
async fn agents_are_created_changed_and_deleted() {
    let t = api().await;
    let (status, body) = t
        .call(
            PUT,
            "/api/agents/carol",
            Some(r#"{"name":"Carol","queues":["8000"],"skills":{"french":4}}"#),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["config"]["id"], "carol");
    assert_eq!(body["config"]["skills"]["french"], 4);
    assert_eq!(body["agent"]["state"]["state"], "logged_out");
    let (_, queue) = t.call(GET, "/api/queues/8000", None).await;
    assert_eq!(queue["stats"]["agents"]["logged_out"], 3);

    let (status, body) = t
        .call(
            PUT,
            "/api/agents/carol",
            Some(r#"{"id":"carol","name":"Carol B","extension":"1003"}"#),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["agent"]["extension"], "1003");
    let (_, queue) = t.call(GET, "/api/queues/8000", None).await;
    assert_eq!(queue["stats"]["agents"]["logged_out"], 2, "carol left 8000");

    for (body, field) in [
        (r#"{"id":"dave"}"#, "id"),
        (r#"{"capacity":{"voice":"one"}}"#, "capacity"),
        (r#"{"queues":"8000"}"#, "queues"),
    ] {
        let (status, err) = t.call(PUT, "/api/agents/carol", Some(body)).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {err}");
        assert_eq!(error_field(&err), field, "{body}: {err}");
    }

    let (status, _) = t.call(POST, "/api/agents/carol/login", None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, err) = t.call(DELETE, "/api/agents/carol", None).await;
    assert_eq!(
        (status, error_code(&err)),
        (StatusCode::CONFLICT, "agent_logged_in"),
        "{err}"
    );
    t.call(POST, "/api/agents/carol/logout", None).await;
    assert_eq!(
        t.call(DELETE, "/api/agents/carol", None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        t.call(GET, "/api/agents/carol", None).await.0,
        StatusCode::NOT_FOUND
    );
    let (status, err) = t.call(DELETE, "/api/agents/nobody", None).await;
    assert_eq!(
        (status, error_code(&err)),
        (StatusCode::NOT_FOUND, "not_found")
    );

    assert_eq!(
        t.call(DELETE, "/api/agents/bob", None).await.0,
        StatusCode::NO_CONTENT
    );
    let stored = t.db.store.load_acd_changes().await.unwrap();
    let mut agents: Vec<_> = stored
        .agents
        .iter()
        .map(|(id, c)| (id.as_str(), c.is_some()))
        .collect();
    agents.sort();
    assert_eq!(agents, [("bob", false), ("carol", false)]);
}

#[tokio::test]
async fn history_and_interactions_come_from_the_store() {
    let t = api().await;
    let (status, _) = t
        .call(
            POST,
            "/api/agents/alice/login",
            Some(r#"{"state":"not_ready","reason":"coffee"}"#),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    t.call(
        POST,
        "/api/agents/alice/state",
        Some(r#"{"state":"ready"}"#),
    )
    .await;
    t.state
        .distributor
        .request(Event::InteractionArrived(Arrival::new(
            77,
            "8000",
            Channel::Voice,
        )))
        .await
        .unwrap();

    // alice: logged_out -> not_ready (login) -> ready -> reserved (offered).
    let store = t.db.store.clone();
    t.eventually("three state changes", || {
        let store = store.clone();
        async move {
            store
                .agent_state_history("alice", 10, 0)
                .await
                .map(|h| h.len())
                .unwrap_or(0)
                == 3
        }
    })
    .await;
    let (status, body) = t.call(GET, "/api/agents/alice/history?limit=2", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["agent"], "alice");
    let history = body["history"].as_array().cloned().unwrap_or_default();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["to_state"], "reserved");
    assert_eq!(history[0]["cause"], "offered");
    assert_eq!(history[1]["from_state"], "not_ready");
    assert_eq!(history[1]["to_state"], "ready");
    let (_, body) = t
        .call(GET, "/api/agents/alice/history?offset=2", None)
        .await;
    assert_eq!(body["history"][0]["to_state"], "not_ready");
    assert_eq!(body["history"][0]["reason"], "coffee");
    assert_eq!(body["history"][0]["cause"], "login");

    let (status, body) = t.call(GET, "/api/interactions?limit=10", None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["interactions"],
        json!([{"interaction": 77, "queue": "8000", "event": "offered", "agent": "alice",
                "at_ms": body["interactions"][0]["at_ms"]}])
    );

    let (status, err) = t.call(GET, "/api/interactions?limit=0", None).await;
    assert_eq!(
        (status, error_code(&err)),
        (StatusCode::BAD_REQUEST, "bad_query")
    );
    let (status, _) = t.call(GET, "/api/agents/alice/history?limit=x", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, body) = t.call(GET, "/api/agents/nobody/history", None).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::NOT_FOUND, "not_found")
    );
    // bob exists but has no history yet: an empty list.
    let (status, body) = t.call(GET, "/api/agents/bob/history", None).await;
    assert_eq!(
        (status, body["history"].clone()),
        (StatusCode::OK, json!([]))
    );
}

/// A POST over a real socket, as a desktop would send it; returns the status code.
async fn http_post(addr: SocketAddr, token: &str, path: &str, body: &str) -> u16 {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let content_type = if body.is_empty() {
        ""
    } else {
        "Content-Type: application/json\r\n"
    };
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n{content_type}\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).await.unwrap();
    resp.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(addr: SocketAddr, token: &str, query: &str) -> Ws {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!("ws://{addr}/api/events{query}")
        .into_client_request()
        .unwrap();
    req.headers_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let (ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    ws
}

/// The next message: a JSON text frame, or the close frame's code as `{"close": code}`.
async fn next(ws: &mut Ws) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .expect("a message within 5 s")
            .expect("stream open")
            .expect("no error");
        match msg {
            Message::Text(t) => return serde_json::from_str(t.as_str()).unwrap(),
            Message::Close(frame) => {
                return json!({"close": frame.map(|f| u16::from(f.code))});
            }
            _ => {}
        }
    }
}

/// Reads until an `agent_state` event; returns it and the events before it.
async fn until_agent_state(ws: &mut Ws) -> (Value, Vec<Value>) {
    let mut before = Vec::new();
    loop {
        let v = next(ws).await;
        if v["type"] == "agent_state" {
            return (v, before);
        }
        before.push(v);
    }
}

#[tokio::test]
async fn event_stream_over_a_real_websocket() {
    let t = api().await;
    let addr = t.serve().await;
    let mut wallboard = connect(addr, &t.token, "").await;
    let mut bobs_desktop = connect(addr, &t.token, "?agent=bob").await;

    let snapshot = next(&mut wallboard).await;
    assert_eq!(snapshot["type"], "snapshot");
    assert_eq!(snapshot["agents"].as_array().map(Vec::len), Some(2));
    assert_eq!(snapshot["queues"][0]["config"]["dn"], "8000");
    assert_eq!(snapshot["queues"][0]["stats"]["agents"]["logged_out"], 2);
    let snapshot = next(&mut bobs_desktop).await;
    assert_eq!(snapshot["type"], "snapshot");
    assert_eq!(snapshot["agents"].as_array().map(Vec::len), Some(1));
    assert_eq!(snapshot["agents"][0]["id"], "bob");

    assert_eq!(
        http_post(
            addr,
            &t.token,
            "/api/agents/alice/login",
            r#"{"state":"ready"}"#
        )
        .await,
        200
    );
    let (event, _) = until_agent_state(&mut wallboard).await;
    assert_eq!(event["change"]["agent"], "alice");
    assert_eq!(event["change"]["from"]["state"], "logged_out");
    assert_eq!(event["change"]["to"]["state"], "ready");
    assert_eq!(event["change"]["cause"], "login");

    assert_eq!(
        http_post(addr, &t.token, "/api/agents/bob/login", "").await,
        200
    );
    let (event, before) = until_agent_state(&mut bobs_desktop).await;
    assert_eq!(
        event["change"]["agent"], "bob",
        "alice's change is not for bob's desktop"
    );
    assert!(before.is_empty(), "{before:?}");
    let (event, _) = until_agent_state(&mut wallboard).await;
    assert_eq!(event["change"]["agent"], "bob");

    // Messages from the client are ignored; pings are answered.
    wallboard.send(Message::text("hello")).await.unwrap();
    wallboard
        .send(Message::Ping(vec![1, 2].into()))
        .await
        .unwrap();
    let pong = tokio::time::timeout(Duration::from_secs(5), wallboard.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(pong, Message::Pong(vec![1, 2].into()));

    // An unknown agent filter is refused before the upgrade.
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut req = format!("ws://{addr}/api/events?agent=nobody")
        .into_client_request()
        .unwrap();
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {}", t.token).parse().unwrap(),
    );
    match tokio_tungstenite::connect_async(req).await {
        Err(tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 404),
        other => panic!("expected 404, got {other:?}"),
    }
    // Without a credential, 401 before anything else.
    match tokio_tungstenite::connect_async(format!("ws://{addr}/api/events")).await {
        Err(tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 401),
        other => panic!("expected 401, got {other:?}"),
    }

    // Shutdown closes the streams with 1001.
    t.stop.send(true).unwrap();
    assert_eq!(
        next(&mut wallboard).await,
        json!({"close": u16::from(CloseCode::Away)})
    );
    assert_eq!(next(&mut bobs_desktop).await, json!({"close": 1001}));
}

/// On the current-thread runtime the server's stream task cannot run while the test
/// publishes, so the stream's buffer overflows deterministically.
#[tokio::test(flavor = "current_thread")]
async fn a_lagging_client_gets_a_fresh_snapshot() {
    let t = api().await;
    let addr = t.serve().await;
    let mut ws = connect(addr, &t.token, "").await;
    assert_eq!(next(&mut ws).await["type"], "snapshot");
    for n in 0..5000 {
        t.state.distributor.publish(json!({"type": "test", "n": n}));
    }
    let again = next(&mut ws).await;
    assert_eq!(again["type"], "snapshot", "{again}");
    assert_eq!(again["missed"], 5000 - 4096);
    assert_eq!(again["agents"].as_array().map(Vec::len), Some(2));
    // Then the stream goes on with what is still buffered.
    assert_eq!(next(&mut ws).await["n"], 5000 - 4096);
}

#[tokio::test]
async fn events_without_an_upgrade_are_refused() {
    let t = api().await;
    let (status, err) = t.call(GET, "/api/events", None).await;
    assert!(status.is_client_error(), "{status}");
    assert_eq!(error_code(&err), "websocket_required");
    let (status, err) = t.call(GET, "/api/events?colour=blue", None).await;
    assert_eq!(
        (status, error_code(&err)),
        (StatusCode::BAD_REQUEST, "bad_query")
    );
}

#[tokio::test]
async fn the_api_asks_for_a_login_and_a_session_works_like_a_token() {
    let t = api().await;
    let (status, body) = t.anonymous(Method::GET, "/api/agents", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthenticated");
    let (status, _) = t.anonymous(Method::GET, "/api/health", None).await;
    assert_eq!(status, StatusCode::OK);
    // The demo account 1001 logs in with its SIP password.
    let login = r#"{"user":"1001","password":"pass1001"}"#;
    let (status, headers, body) = t
        .send(
            Method::POST,
            "/api/login",
            &[("content-type", "application/json")],
            login.as_bytes().to_vec(),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let set_cookie = headers
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"));
    let cookie = set_cookie.split(';').next().unwrap_or_default().to_string();
    let csrf = body["csrf_token"].as_str().unwrap_or_default().to_string();
    let (status, _, me) = t
        .send(Method::GET, "/api/me", &[("cookie", &cookie)], vec![])
        .await;
    assert_eq!(
        (status, me["account"]["agent"].clone()),
        (StatusCode::OK, json!("1001"))
    );
    // Another agent's data: 403, never the data.
    let (status, _, other) = t
        .send(
            Method::GET,
            "/api/agents/1002",
            &[("cookie", &cookie)],
            vec![],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(other["error"]["code"], "forbidden");
    // A write with the cookie needs the CSRF token.
    let (status, _, _) = t
        .send(
            Method::POST,
            "/api/agents/1001/login",
            &[("cookie", &cookie)],
            vec![],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _, body) = t
        .send(
            Method::POST,
            "/api/agents/1001/login",
            &[("cookie", &cookie), ("x-csrf-token", &csrf)],
            vec![],
        )
        .await;
    // Past the guard: the ACD of this test has no agent 1001.
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}
