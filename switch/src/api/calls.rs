//! Live calls, and click-to-call.
//!
//! `POST /api/calls` `{"extension":"1001","number":"1002"}`: the agent's phone (the user
//! `extension`) is called first with auto-answer hints, then `number` through the
//! dialplan. Progress is published on `/api/events` as `{"type":"call",...}`. The
//! extension must be a configured user (422 naming `extension` otherwise); the number may
//! be anything the dialplan routes, a trunk's external number included, so only its
//! characters are checked; `agent`, when given, must be a known ACD agent.

use super::agents::known_agent;
use super::{ApiError, AppState};
use acd::AgentId;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use dialer::http::JsonBody;
use serde::Deserialize;
use serde_json::json;

pub(super) async fn list(State(s): State<AppState>) -> impl IntoResponse {
    Json(s.router.calls().await)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ClickToCall {
    extension: String,
    number: String,
    /// Whose call it is on the event stream; the extension when absent.
    #[serde(default)]
    agent: Option<String>,
}

/// A dialled number: 1-64 of letters, digits and `+ * # - _ .`.
fn valid_number(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 64
        && n.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+*#-_.".contains(c))
}

pub(super) async fn click_to_call(
    State(s): State<AppState>,
    JsonBody(b): JsonBody<ClickToCall>,
) -> Result<impl IntoResponse, ApiError> {
    acd::check_agent_id(&b.extension).map_err(|e| ApiError::invalid("extension", e))?;
    if s.config.user(&b.extension).is_none() {
        return Err(ApiError::invalid(
            "extension",
            format!("no user {:?}", b.extension),
        ));
    }
    if !valid_number(&b.number) {
        return Err(ApiError::invalid(
            "number",
            "must be 1-64 of letters, digits and + * # - _ .",
        ));
    }
    if let Some(agent) = &b.agent {
        if !known_agent(&s.distributor, AgentId::new(agent)).await {
            return Err(ApiError::invalid("agent", format!("no agent {agent:?}")));
        }
    }
    let attempt = rand::random::<u64>() >> 11;
    let (report, mut events) = tokio::sync::mpsc::unbounded_channel();
    s.router.originate(
        crate::engine::Origination {
            agent: b.agent.unwrap_or_else(|| b.extension.clone()),
            extension: b.extension,
            number: b.number,
            caller_id: String::new(),
            attempt,
        },
        report,
    );
    // Nobody waits on these reports for a plain click-to-call: the event stream has them.
    tokio::spawn(async move { while events.recv().await.is_some() {} });
    Ok((StatusCode::ACCEPTED, Json(json!({"attempt": attempt}))))
}
