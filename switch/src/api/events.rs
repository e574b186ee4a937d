//! `GET /api/events`: the WebSocket stream desktops and wallboards follow.
//!
//! The first message is a snapshot, `{"type":"snapshot","agents":[...],"queues":[...]}`
//! (agents as `GET /api/agents` shows them, queues as `GET /api/queues`), so a wallboard
//! can draw at once; then every event the distributor publishes, one JSON text frame each
//! (`agent_state`, `offer`, `offer_cancelled`, `queued`, `abandoned`, `overflow`,
//! `queue_full`, `interaction`, and `queue_changed`/`queue_removed`/`agent_changed`/
//! `agent_removed` from REST changes). IM events (`im_invite`, `im_accepted`,
//! `im_declined`, `im_timeout`, `im_message`, `im_ended`) carry `"to"`, the accounts they
//! are for, and reach those accounts only; the directory's `presence` events reach the
//! people of the person's teams (and administrators).
//!
//! The subscription is taken before the snapshot is read, so nothing falls between them (an
//! event may show in both). A client too slow for the stream's buffer misses events; it
//! then gets a fresh snapshot with `"missed": N` and the stream continues.
//!
//! What a caller sees follows their role: an administrator everything; agents and
//! supervisors the agents and queues of their scope (their own agent, their teams'), in the
//! snapshot and in events (an event naming an agent goes by the agent, else by its queue);
//! campaign managers the dialer-wide events (`import_progress`, `dialer_recovered`).
//!
//! `?agent=ID` (a desktop; the agent must be in the caller's scope, else 403) limits the snapshot's agents to that one and drops events that
//! name another agent (`agent`, or `change.agent` of `agent_state`); events naming no agent
//! (queue events) still come. Pings are answered by axum; messages from the client are
//! ignored. At shutdown the server closes the stream with 1001 (going away).

use super::agents::{known_agent, queue_entry};
use super::{ApiError, AppState};
use crate::accounts::{Principal, Role, Scope};
use acd::AgentId;
use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use dialer::http::QueryArgs;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::broadcast::error::RecvError;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Filter {
    agent: Option<String>,
}

pub(super) async fn events(
    State(s): State<AppState>,
    Extension(principal): Extension<Principal>,
    QueryArgs(filter): QueryArgs<Filter>,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let agent = filter.agent.map(AgentId::new);
    let viewer = Viewer {
        scope: s.accounts.scope(&principal),
        campaigns: principal.is_admin() || principal.has(Role::CampaignManager),
        only: agent.clone(),
        account: principal.account.clone(),
        teams: principal.teams.clone(),
    };
    if let Some(id) = agent.clone() {
        if !viewer.scope.agent(id.as_str()) {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("agent {:?} is not yours nor in your teams", id.as_str()),
            ));
        }
        if !known_agent(&s.distributor, id).await {
            return Err(ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                "no such agent",
            ));
        }
    }
    let ws = ws.map_err(|e| ApiError::new(e.status(), "websocket_required", e.body_text()))?;
    Ok(ws.on_upgrade(move |socket| stream(socket, s, viewer)))
}

/// What one stream's caller may see, and the agent a desktop asked for (`?agent=`).
#[derive(Clone)]
struct Viewer {
    scope: Scope,
    /// Dialer-wide events (imports, recovery): campaign managers and administrators.
    campaigns: bool,
    only: Option<AgentId>,
    /// The caller's account and teams: IM events go to the accounts they are addressed
    /// to, presence events to the people of the person's teams.
    account: String,
    teams: std::collections::BTreeSet<String>,
}

impl Viewer {
    /// Whether the event (JSON text, parsed once here) is for this stream: not one naming
    /// an agent other than `only`; then, one naming an agent if the agent is in scope, else
    /// one naming a queue if the queue is; dialer-wide ones for campaign managers; anything
    /// for an administrator.
    fn sees(&self, text: &str) -> bool {
        if let Some(seen) = self.sees_im(text) {
            return seen;
        }
        let all = self.scope == Scope::All;
        if all && self.only.is_none() {
            return true;
        }
        let Ok(v) = serde_json::from_str::<Value>(text) else {
            return all;
        };
        let agent = named_agent(&v);
        if let (Some(only), Some(named)) = (&self.only, agent) {
            if named != only.as_str() {
                return false;
            }
        }
        if all {
            return true;
        }
        if let Some(agent) = agent {
            return self.scope.agent(agent);
        }
        if let Some(queue) = v.get("queue").and_then(Value::as_str) {
            return self.scope.queue(queue);
        }
        let kind = v.get("type").and_then(Value::as_str).unwrap_or("");
        self.campaigns && matches!(kind, "import_progress" | "dialer_recovered")
    }
}

impl Viewer {
    /// IM events (`"to"`: the accounts they are for) and the directory's presence events
    /// (for the people of the person's teams, and administrators); `None` for others.
    fn sees_im(&self, text: &str) -> Option<bool> {
        let im = text.contains("\"type\":\"im_");
        let presence = text.contains("\"type\":\"presence\"");
        if !im && !presence {
            return None;
        }
        let v = serde_json::from_str::<Value>(text).ok()?;
        let list = |key: &str| -> Vec<String> {
            v.get(key)
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default()
        };
        if im {
            return Some(list("to").contains(&self.account));
        }
        let mine = v.get("person").and_then(Value::as_str) == Some(self.account.as_str());
        Some(
            self.scope == Scope::All
                || mine
                || list("teams").iter().any(|t| self.teams.contains(t)),
        )
    }
}

fn named_agent(v: &Value) -> Option<&str> {
    v.get("agent")
        .or_else(|| v.get("change").and_then(|c| c.get("agent")))
        .and_then(Value::as_str)
}

/// How often a WebSocket event stream is pinged.
const PING_EVERY: std::time::Duration = std::time::Duration::from_secs(20);

async fn stream(mut socket: WebSocket, s: AppState, viewer: Viewer) {
    let mut rx = s.distributor.subscribe();
    let mut shutdown = s.shutdown.clone();
    if *shutdown.borrow_and_update() {
        let _ = socket.send(going_away()).await;
        return;
    }
    if send_snapshot(&mut socket, &s, &viewer, None).await.is_err() {
        return;
    }
    // Pings keep a quiet stream within the HTTP idle timeout (at least 30 s) and find
    // clients that went away without closing.
    let mut ping = tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
    loop {
        tokio::select! {
            _ = ping.tick() => {
                if socket.send(Message::Ping(Default::default())).await.is_err() {
                    break;
                }
            }
            event = rx.recv() => match event {
                Ok(text) => {
                    if !viewer.sees(&text) {
                        continue;
                    }
                    if socket.send(Message::Text(text.as_ref().into())).await.is_err() {
                        break;
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::debug!(missed, "event stream client lagged; sending a snapshot");
                    if send_snapshot(&mut socket, &s, &viewer, Some(missed))
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
                Err(RecvError::Closed) => {
                    let _ = socket.send(going_away()).await;
                    break;
                }
            },
            message = socket.recv() => match message {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                Some(Ok(_)) => {}
            },
            // A dropped sender counts as shutdown too: nobody could signal it any more.
            _ = shutdown.changed() => {
                let _ = socket.send(going_away()).await;
                break;
            }
        }
    }
}

fn going_away() -> Message {
    Message::Close(Some(CloseFrame {
        code: close_code::AWAY,
        reason: "server shutting down".into(),
    }))
}

/// Sends the snapshot; `Err` when the client is gone (or the distributor is).
async fn send_snapshot(
    socket: &mut WebSocket,
    s: &AppState,
    viewer: &Viewer,
    missed: Option<u64>,
) -> Result<(), ()> {
    let only = viewer.only.clone();
    let scope = viewer.scope.clone();
    let mut snapshot = s
        .distributor
        .read(move |e, now| {
            let agents: Vec<_> = e
                .agent_configs()
                .filter(|a| only.as_ref().is_none_or(|id| *id == a.id))
                .filter(|a| scope.agent(a.id.as_str()))
                .filter_map(|a| e.agent_view(&a.id))
                .collect();
            let queues: Vec<Value> = e
                .queue_configs()
                .filter(|q| scope.queue(q.dn.as_str()))
                .map(|q| queue_entry(e, now, q))
                .collect();
            json!({"type": "snapshot", "agents": agents, "queues": queues})
        })
        .await
        .ok_or(())?;
    if let Some(missed) = missed {
        snapshot["missed"] = json!(missed);
    }
    socket
        .send(Message::Text(snapshot.to_string().into()))
        .await
        .map_err(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_keeps_own_and_queue_events() {
        let alice = AgentId::new("alice");
        let own =
            r#"{"type":"agent_state","change":{"agent":"alice","from":{"state":"logged_out"}}}"#;
        let other = r#"{"type":"agent_state","change":{"agent":"bob"}}"#;
        let offer_other = r#"{"type":"offer","interaction":1,"agent":"bob","queue":"8000"}"#;
        let queued = r#"{"type":"queued","interaction":1,"queue":"8000","position":1}"#;
        let ended =
            r#"{"type":"interaction","interaction":1,"queue":"8000","event":"ended","agent":null}"#;
        let desktop = Viewer {
            scope: Scope::All,
            campaigns: true,
            only: Some(alice),
            account: "alice".into(),
            teams: Default::default(),
        };
        assert!(desktop.sees(own));
        assert!(!desktop.sees(other));
        assert!(!desktop.sees(offer_other));
        assert!(desktop.sees(queued));
        assert!(desktop.sees(ended));
        assert!(desktop.sees("not json"));
        // A scoped caller: its agent and queue only, never what it cannot parse.
        let scoped = Viewer {
            scope: Scope::Limited {
                agents: ["alice".to_string()].into(),
                queues: ["9000".to_string()].into(),
            },
            campaigns: false,
            only: None,
            account: "alice".into(),
            teams: ["sales".to_string()].into(),
        };
        assert!(scoped.sees(own));
        assert!(!scoped.sees(other));
        assert!(!scoped.sees(queued), "queue 8000 is not its");
        assert!(!scoped.sees("not json"));
        assert!(!scoped.sees(r#"{"type":"import_progress","progress":{}}"#));
        // IM events: the accounts they are addressed to only, administrators included.
        let im = r#"{"session":{},"to":["alice"],"type":"im_invite"}"#;
        let im_other = r#"{"session":{},"to":["bob"],"type":"im_message"}"#;
        assert!(scoped.sees(im));
        assert!(!scoped.sees(im_other));
        assert!(desktop.sees(im));
        assert!(!desktop.sees(im_other), "not even for an administrator");
        // Presence: for the people of the person's teams.
        let team = r#"{"person":"bob","presence":"ready","teams":["sales"],"type":"presence"}"#;
        let other = r#"{"person":"carl","presence":"ready","teams":["support"],"type":"presence"}"#;
        assert!(scoped.sees(team));
        assert!(!scoped.sees(other));
        assert!(desktop.sees(other), "an administrator sees all");
    }
}
