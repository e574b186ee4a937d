//! The team directory's live presence: an account's presence is its ACD agent's state
//! (`ready`, `not_ready`, `busy`, `logged_out`), or, for an account without an agent
//! (a supervisor), `available` while it has a page session, else `logged_out`. Agent
//! state changes are republished as `{"type":"presence","person":ACCOUNT,"teams":[...],
//! "presence":..,"label":..}` for the people of the account's teams (`api::events`).

use crate::accounts::Accounts;
use crate::distributor::Distributor;
use acd::AgentState;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

/// The directory's word and label for an agent state.
pub fn of_state(state: &AgentState) -> (&'static str, String) {
    match state {
        AgentState::LoggedOut => ("logged_out", "Logged out".into()),
        AgentState::NotReady { reason } if !reason.is_empty() => {
            ("not_ready", format!("Not Ready ({reason})"))
        }
        AgentState::NotReady { .. } => ("not_ready", "Not Ready".into()),
        AgentState::Rona => ("not_ready", "Not Ready (missed offer)".into()),
        AgentState::Ready => ("ready", "Ready".into()),
        AgentState::Reserved => ("busy", "Busy (offer ringing)".into()),
        AgentState::Busy => ("busy", "Busy".into()),
        AgentState::AfterCallWork => ("busy", "Busy (wrap-up)".into()),
    }
}

/// Presence of an account without an ACD agent.
pub fn of_session(online: bool) -> (&'static str, String) {
    if online {
        ("available", "Available".into())
    } else {
        ("logged_out", "Logged out".into())
    }
}

/// A page session of `account` began or ended: for an account without an ACD agent (a
/// supervisor) that is its presence, published as for agents.
pub fn session_changed(distributor: &Distributor, accounts: &Accounts, account: &str) {
    let Some(a) = accounts.get(account) else {
        return;
    };
    if a.agent.is_some() {
        return;
    }
    let (presence, label) = of_session(accounts.online(&a.id));
    distributor.publish(json!({
        "type": "presence",
        "person": a.id,
        "teams": a.teams,
        "presence": presence,
        "label": label,
    }));
}

/// Follows the ACD's state changes and publishes the accounts' presence.
pub fn spawn(distributor: Distributor, accounts: Accounts) {
    let mut states = distributor.subscribe_states();
    tokio::spawn(async move {
        loop {
            match states.recv().await {
                Ok(change) => {
                    let Some(a) = accounts.account_of_agent(change.agent.as_str()) else {
                        continue;
                    };
                    let (presence, label) = of_state(&change.to);
                    distributor.publish(json!({
                        "type": "presence",
                        "person": a.id,
                        "teams": a.teams,
                        "presence": presence,
                        "label": label,
                    }));
                }
                Err(RecvError::Lagged(n)) => tracing::debug!(missed = n, "presence lagged"),
                Err(RecvError::Closed) => break,
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_map_to_the_four_presences() {
        assert_eq!(of_state(&AgentState::Ready).0, "ready");
        assert_eq!(of_state(&AgentState::Busy).0, "busy");
        assert_eq!(of_state(&AgentState::AfterCallWork).0, "busy");
        assert_eq!(of_state(&AgentState::Reserved).0, "busy");
        assert_eq!(of_state(&AgentState::LoggedOut).0, "logged_out");
        let lunch = of_state(&AgentState::not_ready("Lunch"));
        assert_eq!(lunch, ("not_ready", "Not Ready (Lunch)".to_string()));
        assert_eq!(of_session(true).0, "available");
        assert_eq!(of_session(false).0, "logged_out");
    }
}
