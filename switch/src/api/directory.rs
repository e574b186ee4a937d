//! `GET /api/directory?q=`: the team directory. Agents and supervisors (the accounts
//! sharing a team with the caller; all for an administrator) with display name,
//! extension, teams and live presence, and the caller's queues (their teams' queues, as
//! the rest of the API scopes them) with DN, name, available and logged-in agents and the
//! number waiting. `q` keeps the entries whose name, id, extension or DN contains it
//! (case-insensitive). Presence is the ACD agent's state (the distributor's view), or for
//! an account without an agent whether it has a page session.

use super::{ApiError, AppState};
use crate::accounts::{Principal, Role};
use crate::im::presence;
use acd::AgentId;
use axum::extract::State;
use axum::{Extension, Json};
use dialer::http::QueryArgs;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Query {
    #[serde(default)]
    q: Option<String>,
}

fn matches(q: &str, fields: &[&str]) -> bool {
    q.is_empty() || fields.iter().any(|f| f.to_lowercase().contains(q))
}

pub(super) async fn directory(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    QueryArgs(query): QueryArgs<Query>,
) -> Result<Json<Value>, ApiError> {
    let q = query.q.unwrap_or_default().trim().to_lowercase();
    if q.chars().count() > 64 {
        return Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            "bad_query",
            "q is at most 64 characters",
        ));
    }
    let people = s.accounts.directory_people(&p);
    let agents: Vec<String> = people.iter().filter_map(|a| a.agent.clone()).collect();
    let scope = s.accounts.scope(&p);
    let (states, queues) = s
        .distributor
        .read(move |e, now| {
            let states: Vec<(String, acd::AgentState, String)> = agents
                .iter()
                .filter_map(|id| {
                    let v = e.agent_view(&AgentId::new(id.as_str()))?;
                    Some((id.clone(), v.state, v.extension))
                })
                .collect();
            let queues: Vec<Value> = e
                .queue_configs()
                .filter(|c| scope.queue(c.dn.as_str()))
                .filter_map(|c| {
                    let st = e.queue_stats(now, &c.dn)?;
                    let a = &st.agents;
                    let logged_in =
                        a.not_ready + a.ready + a.reserved + a.busy + a.after_call_work + a.rona;
                    let name = if c.name.is_empty() {
                        c.dn.as_str().to_string()
                    } else {
                        c.name.clone()
                    };
                    Some(json!({
                        "kind": "queue",
                        "dn": c.dn,
                        "name": name,
                        "available": st.available,
                        "logged_in": logged_in,
                        "waiting": st.waiting,
                    }))
                })
                .collect();
            (states, queues)
        })
        .await
        .unwrap_or_default();
    let mut list: Vec<Value> = Vec::new();
    for a in &people {
        let name = if a.name.is_empty() {
            a.id.as_str()
        } else {
            a.name.as_str()
        };
        let acd = a
            .agent
            .as_ref()
            .and_then(|id| states.iter().find(|(x, _, _)| x == id));
        let (presence, label) = match acd {
            Some((_, state, _)) => presence::of_state(state),
            None => presence::of_session(s.accounts.online(&a.id)),
        };
        let extension = a
            .extension
            .clone()
            .or_else(|| acd.map(|(_, _, x)| x.clone()).filter(|x| !x.is_empty()));
        let ext = extension.clone().unwrap_or_default();
        if !matches(&q, &[name, &a.id, &ext]) {
            continue;
        }
        let kind = if a.roles.contains(&Role::Agent) {
            "agent"
        } else {
            "supervisor"
        };
        list.push(json!({
            "kind": kind,
            "id": a.id,
            "name": name,
            "agent": a.agent,
            "extension": extension,
            "teams": a.teams,
            "presence": presence,
            "label": label,
        }));
    }
    let queues: Vec<Value> = queues
        .into_iter()
        .filter(|v| {
            matches(
                &q,
                &[
                    v["name"].as_str().unwrap_or(""),
                    v["dn"].as_str().unwrap_or(""),
                ],
            )
        })
        .collect();
    Ok(Json(json!({"people": list, "queues": queues})))
}
