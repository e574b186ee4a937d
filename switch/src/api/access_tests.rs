//! Every route of the API against every role, in-process: the guard's answer does not
//! depend on bodies, so each (method, path) is called with no body as an anonymous caller
//! (401, unless open), as each role that its rule does not admit (403 with the JSON error)
//! and as each role it admits (neither 401 nor 403: the handler ran). The demo accounts
//! give the callers: agent 1001 and supervisor 1010 of team `sales` (queue 8000, agents
//! 1001-1003), campaign manager 1009, and the administrator.

use super::policy::Rule;
use super::served_routes;
use super::testing::TestApi;
use crate::accounts::{Actor, Role};
use axum::http::StatusCode;

/// A path with its parameters filled: an agent of the supervisor's team but not agent
/// 1001's, a queue of team `sales`.
/// (Accounts and tokens get an id that names none: the administrator's DELETE must not
/// remove account 1002, which the supervisor's scope is made of.)
fn fill(path: &str) -> String {
    let id = if path.starts_with("/api/accounts/") || path.starts_with("/api/tokens/") {
        "nobody"
    } else {
        "1002"
    };
    path.replace("{id}", id)
        .replace("{dn}", "8000")
        .replace("{campaign}", "1")
        .replace("{record}", "1")
        .replace("{number}", "15550001111")
        .replace("{name}", "sales")
        .replace("{file}", "0123456789abcdef0123456789abcdef")
}

/// Whether `rule` admits `role` for the filled path (agent 1002, queue 8000).
fn admits(rule: Rule, role: Role, metrics_open: bool) -> bool {
    match rule {
        Rule::Open | Rule::LoggedIn => true,
        Rule::Metrics => metrics_open || matches!(role, Role::Supervisor | Role::Administrator),
        Rule::Roles(roles) => role == Role::Administrator || roles.contains(&role),
        // Agent 1002 is in the supervisor's team, not agent 1001's own.
        Rule::Agent => matches!(role, Role::Supervisor | Role::Administrator),
        // Queue 8000 is team sales's: its agents and supervisor.
        Rule::Queue => role != Role::CampaignManager,
        // A chat's files: agents and supervisors (the handler checks the chat).
        Rule::ChatParty => role != Role::CampaignManager,
    }
}

#[tokio::test]
async fn every_route_refuses_anonymous_and_wrong_roles_and_admits_the_right_ones() {
    let api = TestApi::new(
        vec![acd::QueueConfig::new("8000")],
        ["1001", "1002"].map(acd::AgentConfig::new).to_vec(),
    )
    .await;
    let mut callers = Vec::new();
    for (account, role) in [
        ("1001", Role::Agent),
        ("1010", Role::Supervisor),
        ("1009", Role::CampaignManager),
        ("admin", Role::Administrator),
    ] {
        let token = match api
            .state
            .accounts
            .create_token(&Actor::default(), account, "matrix", None)
            .await
        {
            Ok(t) => t.secret,
            Err(e) => panic!("token for {account}: {e}"),
        };
        callers.push((role, format!("Bearer {token}")));
    }
    let metrics_open = api.state.accounts.config().metrics_open;
    let routes = served_routes();
    assert!(routes.len() > 40, "{} routes", routes.len());
    for (method, path, rule) in routes {
        let Some(rule) = rule else {
            panic!("{method} {path} has no access rule");
        };
        let uri = fill(path);
        let (status, body) = api.anonymous(method.clone(), &uri, None).await;
        let open = rule == Rule::Open || (rule == Rule::Metrics && metrics_open);
        if open {
            assert_ne!(status, StatusCode::UNAUTHORIZED, "anonymous {method} {uri}");
        } else {
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "anonymous {method} {uri}: {body}"
            );
            assert_eq!(body["error"]["code"], "unauthenticated", "{method} {uri}");
        }
        for (role, auth) in &callers {
            let (status, _, body) = api
                .send(method.clone(), &uri, &[("authorization", auth)], vec![])
                .await;
            if admits(rule, *role, metrics_open) {
                // The handler ran: no 401, and no 403 of the guard's (a handler may
                // refuse on its own, e.g. `number_not_allowed`).
                let code = body["error"]["code"].as_str().unwrap_or("");
                let guard_refused = status == StatusCode::FORBIDDEN
                    && ["forbidden", "no_policy", "csrf"].contains(&code);
                assert!(
                    status != StatusCode::UNAUTHORIZED && !guard_refused,
                    "{role} {method} {uri}: {status} {body}"
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{role} {method} {uri}: {body}"
                );
                assert_eq!(body["error"]["code"], "forbidden", "{role} {method} {uri}");
            }
        }
    }
}
