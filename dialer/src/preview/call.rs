//! The agent's actions on a record and the call's events: call, decline, connect, end,
//! outcome, and the store's answers to the writes they cause.

use chrono::{DateTime, Utc};

use crate::outcome::{self, Decline, NextStatus, Outcome};
use crate::phone::E164;
use crate::record::{AttemptId, RecordId};

use super::io::{
    AcdState, CallProgress, CallReport, CloseRecord, Notification, NumberChoice, Output,
    PreviewError, SaveError, StartAttempt,
};
use super::session::{After, Closing, OnCall, Previewing, Starting, State, Wrapup};
use super::Preview;

impl Preview {
    /// Takes the agent's state for a transition; `check` decides, from a borrow, whether
    /// the input applies, so a refused input leaves the state untouched.
    fn take_state(
        &mut self,
        name: &str,
        check: impl FnOnce(&State) -> Result<(), PreviewError>,
    ) -> Result<State, PreviewError> {
        let agent = self.agents.entry(name.to_string()).or_default();
        check(&agent.state)?;
        Ok(std::mem::take(&mut agent.state))
    }

    pub(super) fn call(
        &mut self,
        now: DateTime<Utc>,
        name: &str,
        record: RecordId,
        choice: NumberChoice,
    ) -> Result<(), PreviewError> {
        let State::Previewing(preview) =
            self.take_state(name, |s| expect_previewing(name, s, record))?
        else {
            return Ok(());
        };
        match self.start_call(now, name, preview, &choice) {
            Ok(state) => {
                self.set_state(name, state);
                Ok(())
            }
            Err(refused) => {
                let (preview, e) = *refused;
                self.set_state(name, State::Previewing(preview));
                Err(e)
            }
        }
    }

    /// Dials the default number on accept or when the countdown ends; a dial that
    /// cannot be made is reported, and a closed window gives the record back until it
    /// opens.
    pub(super) fn auto_dial(
        &mut self,
        now: DateTime<Utc>,
        name: &str,
        preview: Previewing,
    ) -> State {
        match self.start_call(now, name, preview, &NumberChoice::Default) {
            Ok(state) => state,
            Err(refused) => {
                let (mut preview, e) = *refused;
                preview.dial_at = None;
                let record = preview.record();
                self.notify(
                    name,
                    Notification::DialRefused {
                        record,
                        reason: e.to_string(),
                    },
                );
                match e {
                    PreviewError::OutsideWindow { opens_at } => {
                        let next = NextStatus::Ready { at: opens_at };
                        self.release(now, name, preview, next, Vec::new(), After::Ready)
                    }
                    _ => State::Previewing(preview),
                }
            }
        }
    }

    fn start_call(
        &mut self,
        now: DateTime<Utc>,
        name: &str,
        preview: Previewing,
        choice: &NumberChoice,
    ) -> Result<State, Box<(Previewing, PreviewError)>> {
        let (number, phone_type, new_phone) = match preview.choose(choice, now) {
            Ok(chosen) => chosen,
            Err(e) => return Err(Box::new((preview, e))),
        };
        self.out.push_back(Output::StartAttempt(StartAttempt {
            agent: name.to_string(),
            campaign: preview.campaign.id,
            record: preview.record(),
            number: number.clone(),
            phone_type,
            new_phone,
            at: now,
            lease_until: now + self.config.call_lease,
        }));
        Ok(State::Starting(Starting { preview, number }))
    }

    pub(super) fn attempt_started(
        &mut self,
        _now: DateTime<Utc>,
        name: &str,
        record: RecordId,
        result: Result<AttemptId, SaveError>,
    ) {
        let Ok(State::Starting(Starting {
            mut preview,
            number,
        })) = self.take_state(name, |s| match s {
            State::Starting(st) if st.preview.record() == record => Ok(()),
            _ => Err(PreviewError::NotYourRecord(record)),
        })
        else {
            return;
        };
        preview.dial_at = None;
        match result {
            Ok(attempt) => {
                self.out.push_back(Output::Originate {
                    agent: name.to_string(),
                    campaign: preview.campaign.id,
                    record,
                    attempt,
                    number: number.clone(),
                });
                self.acd(name, AcdState::Busy);
                self.notify(
                    name,
                    Notification::Dialling {
                        record,
                        attempt,
                        number: number.clone(),
                    },
                );
                let call = OnCall {
                    preview,
                    attempt,
                    number,
                    connected_at: None,
                };
                self.set_state(name, State::Dialling(call));
            }
            Err(SaveError::LeaseLost) => self.lease_lost(name, record, true),
            Err(e) => {
                if let SaveError::Dnc(n) = &e {
                    preview.lease.blocked.push(n.clone());
                }
                self.notify(
                    name,
                    Notification::DialRefused {
                        record,
                        reason: e.to_string(),
                    },
                );
                self.notify(name, Notification::Preview(Box::new(preview.view())));
                self.set_state(name, State::Previewing(preview));
            }
        }
    }

    pub(super) fn connected(
        &mut self,
        now: DateTime<Utc>,
        name: &str,
        attempt: AttemptId,
    ) -> Result<(), PreviewError> {
        let state = self.take_state(name, |s| match s {
            State::Dialling(c) | State::Connected(c) if c.attempt == attempt => Ok(()),
            _ => Err(PreviewError::UnknownAttempt(attempt)),
        })?;
        let state = match state {
            State::Dialling(mut call) => {
                call.connected_at = Some(now);
                self.out.push_back(Output::SaveCall(CallProgress {
                    attempt,
                    connected_at: Some(now),
                    ended_at: None,
                    sip_status: None,
                }));
                let record = call.preview.record();
                self.notify(name, Notification::Connected { record, attempt });
                State::Connected(call)
            }
            other => other,
        };
        self.set_state(name, state);
        Ok(())
    }

    pub(super) fn ended(
        &mut self,
        now: DateTime<Utc>,
        name: &str,
        attempt: AttemptId,
        sip_status: u16,
    ) -> Result<(), PreviewError> {
        let (State::Dialling(mut call) | State::Connected(mut call)) =
            self.take_state(name, |s| match s {
                State::Dialling(c) | State::Connected(c) if c.attempt == attempt => Ok(()),
                _ => Err(PreviewError::UnknownAttempt(attempt)),
            })?
        else {
            return Ok(());
        };
        if call.connected_at.is_none() && sip_status == 200 {
            call.connected_at = Some(now);
        }
        let suggested = outcome::suggested_result(
            &call.preview.campaign,
            sip_status,
            call.connected_at.is_some(),
        );
        let record = call.preview.record();
        self.out.push_back(Output::SaveCall(CallProgress {
            attempt,
            connected_at: call.connected_at,
            ended_at: Some(now),
            sip_status: Some(sip_status),
        }));
        self.acd(name, AcdState::AfterCallWork);
        self.notify(
            name,
            Notification::CallEnded {
                record,
                attempt,
                sip_status,
                suggested_result: suggested.clone(),
            },
        );
        let wrapup = Wrapup {
            call,
            ended_at: now,
            sip_status,
            suggested,
            restored: None,
        };
        self.set_state(name, State::Wrapup(wrapup));
        Ok(())
    }

    pub(super) fn outcome(
        &mut self,
        now: DateTime<Utc>,
        name: &str,
        record: RecordId,
        outcome: Outcome,
    ) -> Result<(), PreviewError> {
        let next = {
            let agent = self.agents.entry(name.to_string()).or_default();
            let wrapup = match &agent.state {
                State::Wrapup(w) if w.call.preview.record() == record => w,
                State::Dialling(c) | State::Connected(c) if c.preview.record() == record => {
                    return Err(PreviewError::CallInProgress)
                }
                state if state.preview().is_some_and(|p| p.record() == record) => {
                    return Err(PreviewError::WrongState {
                        agent: name.to_string(),
                        state: state.name(),
                    })
                }
                _ => return Err(PreviewError::NotYourRecord(record)),
            };
            let preview = &wrapup.call.preview;
            let attempts = preview.lease.record.attempts.saturating_add(1);
            outcome::next_status(&preview.campaign, attempts, name, &outcome, now)?
        };
        let State::Wrapup(wrapup) = self.take_state(name, |_| Ok(()))? else {
            return Ok(());
        };
        let preview = &wrapup.call.preview;
        let dnc = if outcome.dnc {
            record_numbers(preview, Some(&wrapup.call.number))
        } else {
            Vec::new()
        };
        self.out
            .push_back(Output::CloseRecord(Box::new(CloseRecord {
                agent: name.to_string(),
                campaign: preview.campaign.id,
                record,
                call: Some(CallReport {
                    attempt: wrapup.call.attempt,
                    connected_at: wrapup.call.connected_at,
                    ended_at: wrapup.ended_at,
                    sip_status: wrapup.sip_status,
                }),
                outcome: Some(outcome),
                next: next.clone(),
                dnc,
                dnc_scope: preview.campaign.spec.dnc_scope,
                at: now,
            })));
        let closing = Closing {
            back: Box::new(State::Wrapup(wrapup)),
            record,
            next,
            after: After::Ready,
        };
        self.set_state(name, State::Closing(closing));
        Ok(())
    }

    pub(super) fn decline(
        &mut self,
        now: DateTime<Utc>,
        name: &str,
        record: RecordId,
        decline: &Decline,
    ) -> Result<(), PreviewError> {
        let next = {
            let agent = self.agents.entry(name.to_string()).or_default();
            expect_previewing(name, &agent.state, record)?;
            let Some(preview) = agent.state.preview() else {
                return Err(PreviewError::NotYourRecord(record));
            };
            outcome::decline_status(&preview.campaign, decline, now)?
        };
        let State::Previewing(preview) = self.take_state(name, |_| Ok(()))? else {
            return Ok(());
        };
        let dnc = if next == NextStatus::DoNotCall {
            record_numbers(&preview, None)
        } else {
            Vec::new()
        };
        let state = self.release(now, name, preview, next, dnc, After::Ready);
        self.set_state(name, state);
        Ok(())
    }

    pub(super) fn record_closed(
        &mut self,
        now: DateTime<Utc>,
        name: &str,
        record: RecordId,
        result: Result<(), SaveError>,
    ) {
        let Ok(State::Closing(closing)) = self.take_state(name, |s| match s {
            State::Closing(c) if c.record == record => Ok(()),
            _ => Err(PreviewError::NotYourRecord(record)),
        }) else {
            return;
        };
        match result {
            Ok(()) => {
                if closing.after == After::Rona {
                    self.notify(name, Notification::PreviewExpired { record });
                }
                self.notify(
                    name,
                    Notification::RecordClosed {
                        record,
                        next: closing.next,
                    },
                );
                self.after_close(now, name, closing.after);
            }
            Err(SaveError::LeaseLost) => {
                self.lease_lost(name, record, closing.after != After::LoggedOut);
            }
            Err(e) => {
                self.notify(
                    name,
                    Notification::SaveFailed {
                        record,
                        reason: e.to_string(),
                    },
                );
                let mut back = *closing.back;
                if closing.after != After::Ready {
                    // An expiry or logout release: try again after a pause.
                    if let State::Previewing(p) = &mut back {
                        p.expires_at = now + self.config.idle_retry;
                    }
                }
                if let State::Wrapup(Wrapup {
                    restored: Some(r), ..
                }) = &mut back
                {
                    // The release of an expired restored wrap-up: try again after a pause.
                    if r.expires_at <= now {
                        r.expires_at = now + self.config.idle_retry;
                    }
                }
                self.set_state(name, back);
            }
        }
    }

    fn after_close(&mut self, now: DateTime<Utc>, name: &str, after: After) {
        match after {
            After::Ready => {
                self.acd(name, AcdState::Ready);
                if let Some(agent) = self.agents.get_mut(name) {
                    agent.ready = true;
                }
                self.maybe_push(now, name);
            }
            After::Rona => {
                self.acd(name, AcdState::Rona);
                if let Some(agent) = self.agents.get_mut(name) {
                    agent.ready = false;
                }
            }
            After::LoggedOut => {}
        }
    }

    fn lease_lost(&mut self, name: &str, record: RecordId, tell_acd: bool) {
        self.notify(name, Notification::LeaseLost { record });
        self.set_state(name, State::Idle);
        if tell_acd {
            self.acd(name, AcdState::Ready);
        }
    }
}

fn expect_previewing(name: &str, state: &State, record: RecordId) -> Result<(), PreviewError> {
    match state {
        State::Previewing(p) if p.record() == record => Ok(()),
        State::Wrapup(w) if w.call.preview.record() == record => {
            Err(PreviewError::OutcomeRequired(record))
        }
        State::Dialling(c) | State::Connected(c) if c.preview.record() == record => {
            Err(PreviewError::CallInProgress)
        }
        state if state.preview().is_some_and(|p| p.record() == record) => {
            Err(PreviewError::WrongState {
                agent: name.to_string(),
                state: state.name(),
            })
        }
        _ => Err(PreviewError::NotYourRecord(record)),
    }
}

/// The record's numbers (and `extra`), for the DNC list.
fn record_numbers(preview: &Previewing, extra: Option<&E164>) -> Vec<E164> {
    let mut numbers: Vec<E164> = preview
        .lease
        .record
        .phones
        .iter()
        .map(|p| p.number.clone())
        .collect();
    if let Some(n) = extra {
        numbers.push(n.clone());
    }
    numbers.sort();
    numbers.dedup();
    numbers
}
