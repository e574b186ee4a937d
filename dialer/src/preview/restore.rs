//! The flow's side of start-up recovery ([`crate::recovery`]): wrap-ups brought back for
//! the agents who owe an outcome, what each agent is told when next seen, and the
//! release of a brought-back record whose outcome never came.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::io::{AcdState, Lease, Notification};
use super::session::{After, Closing, OnCall, Previewing, Restored, State, Wrapup};
use super::Preview;
use crate::outcome::restart_status;
use crate::recovery::{PendingOutcome, Recovered};

impl Preview {
    /// Puts the agent in wrap-up for a call a restart cut after it connected. Ignored if
    /// the campaign is unknown or the agent already has a record.
    pub(super) fn outcome_pending(&mut self, now: DateTime<Utc>, name: &str, p: PendingOutcome) {
        let Some(campaign) = self.campaigns.get(&p.record.campaign).map(Arc::clone) else {
            return;
        };
        let agent = self.agents.entry(name.to_string()).or_default();
        if !matches!(agent.state, State::Idle) {
            return;
        }
        let mut record = p.record;
        // The lease's record as it was before the call, like any lease the flow holds
        // (the outcome counts the call itself).
        record.attempts = record.attempts.saturating_sub(1);
        let expires_at = (p.until - self.config.lease_margin).max(now);
        let call = &p.recovered;
        let preview = Previewing {
            campaign,
            lease: Lease {
                record,
                blocked: Vec::new(),
                until: p.until,
            },
            dial_at: None,
            expires_at,
        };
        agent.state = State::Wrapup(Wrapup {
            call: OnCall {
                preview,
                attempt: call.attempt,
                number: call.number.clone(),
                connected_at: call.connected_at,
            },
            ended_at: call.ended_at.unwrap_or(now),
            // It connected: answered, whatever ended it.
            sip_status: call.sip_status.unwrap_or(200),
            suggested: None,
            restored: Some(Restored {
                expires_at,
                announced: false,
            }),
        });
        agent
            .notices
            .push(Notification::Recovered { call: p.recovered });
    }

    /// Keeps the news of a call a restart cut, whose record went back, for the agent.
    pub(super) fn call_interrupted(&mut self, name: &str, recovered: Recovered) {
        let agent = self.agents.entry(name.to_string()).or_default();
        agent
            .notices
            .push(Notification::Recovered { call: recovered });
    }

    /// Tells an agent seen again (logged in) what recovery did with their calls; one
    /// owing an outcome is shown the wrap-up again and put in after-call work.
    pub(super) fn announce(&mut self, name: &str) {
        let Some(agent) = self.agents.get_mut(name) else {
            return;
        };
        let notices = std::mem::take(&mut agent.notices);
        let wrapup = match &mut agent.state {
            State::Wrapup(w) => match &mut w.restored {
                Some(r) if !r.announced => {
                    r.announced = true;
                    Some(Notification::CallEnded {
                        record: w.call.preview.record(),
                        attempt: w.call.attempt,
                        sip_status: w.sip_status,
                        suggested_result: None,
                    })
                }
                _ => None,
            },
            _ => None,
        };
        for notice in notices {
            self.notify(name, notice);
        }
        if let Some(ended) = wrapup {
            self.acd(name, AcdState::AfterCallWork);
            self.notify(name, ended);
        }
    }

    /// The outcome of a brought-back wrap-up did not come in time: the record goes back
    /// by the campaign's rules for `switch_restarted` (the attempt keeps that result).
    pub(super) fn restored_expired(&mut self, now: DateTime<Utc>, name: &str, w: Wrapup) -> State {
        let preview = &w.call.preview;
        let record = preview.record();
        let attempts = preview.lease.record.attempts.saturating_add(1);
        let next = restart_status(&preview.campaign, attempts, now);
        self.close_without_call(now, name, preview, &next, Vec::new());
        let after = match w.restored {
            Some(r) if r.announced => After::Ready,
            _ => After::LoggedOut,
        };
        State::Closing(Closing {
            back: Box::new(State::Wrapup(w)),
            record,
            next,
            after,
        })
    }
}
