//! `/api/chat/templates` in-process: the administrator's CRUD, the 1,000-character limit,
//! and an agent's search limited to global templates and those of their queues.

use super::testing::TestApi;
use crate::accounts::Actor;
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn administrators_keep_templates_and_agents_search_their_queues_ones() {
    let mut agent = acd::AgentConfig::new("1001");
    agent.queues = vec![acd::Dn::new("8000")];
    let api = TestApi::new(
        vec![acd::QueueConfig::new("8000"), acd::QueueConfig::new("9000")],
        vec![agent],
    )
    .await;
    let post = |title: &str, text: String, queues: Value| {
        json!({"title": title, "text": text, "queues": queues}).to_string()
    };
    let body = post(
        "Greeting",
        "Hello {customer}, I am {agent}.".into(),
        json!([]),
    );
    let (status, greeting) = api
        .call(Method::POST, "/api/chat/templates", Some(&body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{greeting}");
    for (title, text, queues) in [
        ("Refunds", "Refunds take five days.", json!(["8000"])),
        ("Billing", "Billing refunds are open 9-5.", json!(["9000"])),
    ] {
        let (status, v) = api
            .call(
                Method::POST,
                "/api/chat/templates",
                Some(&post(title, text.into(), queues)),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{v}");
    }
    let long = post("Long", "x".repeat(1001), json!([]));
    let (status, v) = api
        .call(Method::POST, "/api/chat/templates", Some(&long))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["error"]["field"], "text", "{v}");
    let bad = r#"{"title":"x","text":"y","extra":1}"#;
    let (status, _) = api
        .call(Method::POST, "/api/chat/templates", Some(bad))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let token = match api
        .state
        .accounts
        .create_token(&Actor::default(), "1001", "t", None)
        .await
    {
        Ok(t) => t.secret,
        Err(e) => panic!("token: {e}"),
    };
    let bearer = format!("Bearer {token}");
    let as_agent = |uri: &str| {
        let uri = uri.to_string();
        let bearer = bearer.clone();
        let api = &api;
        async move {
            api.raw(Method::GET, &uri, &[("authorization", &bearer)], vec![])
                .await
        }
    };
    let titles = |v: &Value| -> Vec<String> {
        v["templates"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|t| t["title"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    };
    let (status, _, v) = as_agent("/api/chat/templates").await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(titles(&v), ["Greeting", "Refunds"], "not queue 9000's");
    let (_, _, v) = as_agent("/api/chat/templates?q=refund").await;
    assert_eq!(titles(&v), ["Refunds"]);
    let (_, _, v) = as_agent("/api/chat/templates?q=hello&queue=8000").await;
    assert_eq!(titles(&v), ["Greeting"]);
    let (_, v) = api
        .call(Method::GET, "/api/chat/templates?q=refunds", None)
        .await;
    assert_eq!(
        titles(&v),
        ["Billing", "Refunds"],
        "the administrator sees all"
    );

    // An agent may not write; the administrator edits and deletes.
    let (status, _, _) = api
        .raw(
            Method::POST,
            "/api/chat/templates",
            &[
                ("authorization", &bearer),
                ("content-type", "application/json"),
            ],
            post("Mine", "x".into(), json!([])).into_bytes(),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let id = greeting["id"].as_i64().unwrap_or(-1);
    let uri = format!("/api/chat/templates/{id}");
    let edit = post("Greeting", "Hi {customer}!".into(), json!(["8000"]));
    let (status, v) = api.call(Method::PUT, &uri, Some(&edit)).await;
    assert_eq!(status, StatusCode::OK, "{v}");
    assert_eq!(v["text"], "Hi {customer}!");
    let (status, _) = api.call(Method::DELETE, &uri, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, v) = api.call(Method::DELETE, &uri, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(v["error"]["code"], "not_found");
    let (status, _) = api.call(Method::PUT, &uri, Some(&edit)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
