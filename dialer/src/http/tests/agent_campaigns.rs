//! `GET /api/agents/{id}/campaigns`: the desktop's list of the campaigns of the agent's
//! queues.

use super::*;

#[tokio::test]
async fn an_agent_lists_the_campaigns_of_its_queues() {
    let api = Api::new().await;
    let id = api
        .running(json!({"preview": {"mode": "countdown", "seconds": 5}}), CSV)
        .await;
    // Before the flow knows the agent's queues, every campaign (as a pull would take it).
    let (status, list) = api.json("GET", "/api/agents/alice/campaigns", None).await;
    assert_eq!(status, StatusCode::OK, "{list}");
    assert_eq!(list[0]["id"], id, "{list}");
    assert_eq!(list[0]["name"], "Renewals");
    assert_eq!(list[0]["status"], "running");
    assert_eq!(list[0]["queue"], "8100");
    assert_eq!(
        list[0]["preview"],
        json!({"mode": "countdown", "seconds": 5})
    );
    // An agent of another queue sees none of it; one of 8100 sees it.
    for (queue, n) in [("9000", 0), ("8100", 1)] {
        api.dialer
            .handle(
                Utc::now(),
                Input::AgentReady {
                    agent: "alice".into(),
                    queues: vec![queue.into()],
                },
            )
            .await
            .unwrap();
        let (status, list) = api.json("GET", "/api/agents/alice/campaigns", None).await;
        assert_eq!(status, StatusCode::OK, "{list}");
        assert_eq!(list.as_array().map(Vec::len), Some(n), "{queue}: {list}");
    }
}
