//! The preview flow, sans-IO: agents get records one at a time, preview them, call
//! (on a click, on accept or when a countdown ends), and wrap up with an outcome.
//!
//! [`Preview`] never reads the clock, sleeps or touches the store. The runtime (the
//! dialer's [`Dialer`](crate::Dialer), or the switch itself) feeds it [`Input`]s with the
//! time, calls [`Preview::handle_timeout`] when [`Preview::poll_timeout`] says, and
//! performs the [`Output`]s it drains with [`Preview::poll_output`]:
//!
//! - `Lease`, `StartAttempt` and `CloseRecord` are store work; their results come back
//!   as `Leased`/`NoRecord`/`LeaseFailed`, `AttemptStarted` and `RecordClosed`. The flow
//!   changes a record only after the store confirms, so an agent's action that could
//!   not be saved can be repeated, and a crash loses nothing: the store's lease returns
//!   whatever an agent held to the list.
//! - `Originate` asks the switch to call; it answers `CallConnected` and `CallEnded`.
//! - `Notify` goes to the agent's desktop; `AgentState` to the ACD (Reserved while
//!   previewing, Busy on the call, AfterCallWork until the outcome is in, Ready after).
//!
//! Nothing is dialled outside the record's calling window or to a number known to be on
//! a DNC list; the store re-checks the DNC list when it writes the attempt, so a number
//! added after the lease is refused too.

mod call;
mod delivery;
mod io;
mod restore;
mod session;
mod view;

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::campaign::{Campaign, CampaignId};
use crate::outcome::NextStatus;

pub use io::{
    AcdState, CallProgress, CallReport, CloseRecord, Input, Lease, Notification, NumberChoice,
    Output, PreviewConfig, PreviewError, SaveError, StartAttempt,
};
pub use view::{FieldValue, PhoneView, PreviewView, SessionView};

use session::{After, Agent, Previewing, State};

/// The preview flow of every agent of this node.
#[derive(Debug, Default)]
pub struct Preview {
    config: PreviewConfig,
    campaigns: HashMap<CampaignId, Arc<Campaign>>,
    agents: HashMap<String, Agent>,
    /// Each agent's next deadline (countdown, preview expiry, push retry).
    timers: BTreeSet<(DateTime<Utc>, String)>,
    out: VecDeque<Output>,
}

impl Preview {
    pub fn new(config: PreviewConfig) -> Preview {
        Preview {
            config,
            ..Preview::default()
        }
    }

    pub fn config(&self) -> &PreviewConfig {
        &self.config
    }

    /// Feeds one input. On `Err` nothing changed and nothing was queued.
    pub fn handle(&mut self, now: DateTime<Utc>, input: Input) -> Result<(), PreviewError> {
        let agent = match &input {
            Input::Campaign(c) => {
                self.campaign_changed(now, c.clone());
                return Ok(());
            }
            Input::AgentReady { agent, .. }
            | Input::AgentNotReady { agent }
            | Input::AgentLoggedOut { agent }
            | Input::RequestNext { agent, .. }
            | Input::Leased { agent, .. }
            | Input::NoRecord { agent }
            | Input::LeaseFailed { agent, .. }
            | Input::Accept { agent, .. }
            | Input::Call { agent, .. }
            | Input::Decline { agent, .. }
            | Input::Outcome { agent, .. }
            | Input::AttemptStarted { agent, .. }
            | Input::RecordClosed { agent, .. }
            | Input::CallConnected { agent, .. }
            | Input::CallEnded { agent, .. }
            | Input::OutcomePending { agent, .. }
            | Input::CallInterrupted { agent, .. } => agent.clone(),
        };
        let result = self.handle_agent(now, &agent, input);
        self.rearm(&agent);
        result
    }

    fn handle_agent(
        &mut self,
        now: DateTime<Utc>,
        name: &str,
        input: Input,
    ) -> Result<(), PreviewError> {
        match input {
            Input::Campaign(_) => Ok(()),
            Input::AgentReady { queues, .. } => {
                let agent = self.agents.entry(name.to_string()).or_default();
                agent.ready = true;
                agent.queues = queues;
                self.announce(name);
                self.maybe_push(now, name);
                Ok(())
            }
            Input::AgentNotReady { .. } => {
                if let Some(agent) = self.agents.get_mut(name) {
                    agent.ready = false;
                    agent.retry_at = None;
                }
                self.announce(name);
                Ok(())
            }
            Input::AgentLoggedOut { .. } => {
                self.logged_out(now, name);
                Ok(())
            }
            Input::RequestNext { campaign, .. } => self.request_next(now, name, campaign),
            Input::Leased { lease, .. } => {
                self.leased(now, name, lease);
                Ok(())
            }
            Input::NoRecord { .. } => {
                self.lease_missed(now, name, None);
                Ok(())
            }
            Input::LeaseFailed { reason, .. } => {
                self.lease_missed(now, name, Some(reason));
                Ok(())
            }
            Input::Accept { record, .. } => self.call(now, name, record, io::NumberChoice::Default),
            Input::Call { record, number, .. } => self.call(now, name, record, number),
            Input::Decline {
                record, decline, ..
            } => self.decline(now, name, record, &decline),
            Input::Outcome {
                record, outcome, ..
            } => self.outcome(now, name, record, outcome),
            Input::AttemptStarted { record, result, .. } => {
                self.attempt_started(now, name, record, result);
                Ok(())
            }
            Input::RecordClosed { record, result, .. } => {
                self.record_closed(now, name, record, result);
                Ok(())
            }
            Input::CallConnected { attempt, .. } => self.connected(now, name, attempt),
            Input::CallEnded {
                attempt,
                sip_status,
                ..
            } => self.ended(now, name, attempt, sip_status),
            Input::OutcomePending { pending, .. } => {
                self.outcome_pending(now, name, *pending);
                Ok(())
            }
            Input::CallInterrupted { recovered, .. } => {
                self.call_interrupted(name, recovered);
                Ok(())
            }
        }
    }

    /// Acts on every deadline at or before `now`.
    pub fn handle_timeout(&mut self, now: DateTime<Utc>) {
        while let Some((at, name)) = self.timers.first().cloned() {
            if at > now {
                break;
            }
            self.timers.remove(&(at, name.clone()));
            if let Some(agent) = self.agents.get_mut(&name) {
                agent.timer = None;
            }
            self.fire(now, &name);
            self.rearm(&name);
        }
    }

    /// The earliest deadline, if any.
    pub fn poll_timeout(&self) -> Option<DateTime<Utc>> {
        self.timers.first().map(|(at, _)| *at)
    }

    /// The next thing to do, in order.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }

    /// A campaign as the flow knows it.
    pub fn campaign(&self, id: CampaignId) -> Option<&Campaign> {
        self.campaigns.get(&id).map(|c| c.as_ref())
    }

    /// The campaigns of the agent's queues, by id; all of them while the flow does not
    /// know the agent's queues yet (as a pull would take them).
    pub fn campaigns_of(&self, name: &str) -> Vec<&Campaign> {
        let queues = self.agents.get(name).map(|a| &a.queues);
        let mut list: Vec<&Campaign> = self
            .campaigns
            .values()
            .map(|c| c.as_ref())
            .filter(|c| queues.is_none_or(|q| q.is_empty() || q.contains(&c.spec.queue)))
            .collect();
        list.sort_by_key(|c| c.id);
        list
    }

    /// The agent's session as the desktop shows it.
    pub fn session(&self, name: &str) -> SessionView {
        let state = self.agents.get(name).map(|a| &a.state);
        let mut view = SessionView {
            agent: name.to_string(),
            state: state.map_or("idle", State::name),
            preview: state.and_then(State::preview).map(Previewing::view),
            attempt: None,
            number: None,
            sip_status: None,
            suggested_result: None,
        };
        match state {
            Some(State::Starting(s)) => view.number = Some(s.number.clone()),
            Some(State::Dialling(c) | State::Connected(c)) => {
                view.attempt = Some(c.attempt);
                view.number = Some(c.number.clone());
            }
            Some(State::Wrapup(w)) => {
                view.attempt = Some(w.call.attempt);
                view.number = Some(w.call.number.clone());
                view.sip_status = Some(w.sip_status);
                view.suggested_result = w.suggested.clone();
            }
            _ => {}
        }
        view
    }

    fn notify(&mut self, agent: &str, event: Notification) {
        self.out.push_back(Output::Notify {
            agent: agent.to_string(),
            event,
        });
    }

    fn acd(&mut self, agent: &str, state: AcdState) {
        self.out.push_back(Output::AgentState {
            agent: agent.to_string(),
            state,
        });
    }

    /// Re-registers the agent's deadline after its state changed.
    fn rearm(&mut self, name: &str) {
        let Some(agent) = self.agents.get_mut(name) else {
            return;
        };
        let deadline = agent.deadline();
        if deadline == agent.timer {
            return;
        }
        if let Some(old) = agent.timer.take() {
            self.timers.remove(&(old, name.to_string()));
        }
        if let Some(at) = deadline {
            self.timers.insert((at, name.to_string()));
        }
        agent.timer = deadline;
    }

    fn fire(&mut self, now: DateTime<Utc>, name: &str) {
        let Some(agent) = self.agents.get_mut(name) else {
            return;
        };
        match std::mem::take(&mut agent.state) {
            State::Previewing(p) if p.expires_at <= now => {
                let next = NextStatus::Ready { at: now };
                let state = self.release(now, name, p, next, Vec::new(), After::Rona);
                self.set_state(name, state);
            }
            State::Previewing(p) if p.dial_at.is_some_and(|at| at <= now) => {
                let state = self.auto_dial(now, name, p);
                self.set_state(name, state);
            }
            State::Wrapup(w) if w.restored.is_some_and(|r| r.expires_at <= now) => {
                let state = self.restored_expired(now, name, w);
                self.set_state(name, state);
            }
            State::Idle => {
                if agent.retry_at.is_some_and(|at| at <= now) {
                    agent.retry_at = None;
                }
                self.maybe_push(now, name);
            }
            other => agent.state = other,
        }
    }

    fn set_state(&mut self, name: &str, state: State) {
        self.agents.entry(name.to_string()).or_default().state = state;
    }
}

#[cfg(test)]
mod tests;
