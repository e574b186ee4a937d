//! Call recording, on demand over REST (`start`, `stop`, `pause`, `resume`): a tap on the
//! customer's endpoint in the relay (left channel: the customer; right: what the customer
//! hears of the others), so it follows the customer through holds, consultations,
//! transfers and conferences. Pausing writes silence, which is how an agent keeps a card
//! number out of a recording. A recording ends when stopped or with the call; its index
//! row (`Output::Recorded`) then goes to the store, the WAV to `data_dir/recordings/`.

use super::session::{LegId, Phase, Session};
use super::{ControlError, Cx};
use crate::store::Recording;
use media::graph::{Endpoint, MediaCommand};
use rand::Rng;
use std::time::Instant;

/// What can be done with a call's recording.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordStep {
    Start,
    Stop,
    Pause,
    Resume,
}

/// A recording in progress.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub id: String,
    pub started_ms: i64,
    pub paused: bool,
}

impl Cx {
    /// The customer's leg: the first party, unless the switch placed the call for an agent.
    fn customer(s: &Session) -> LegId {
        match &s.phase {
            Phase::Consulting(c) => c.customer,
            _ => Self::parties(s).map_or(LegId(0), |(_, customer)| customer),
        }
    }

    pub(super) fn record(
        &mut self,
        now: Instant,
        s: &mut Session,
        step: RecordStep,
    ) -> Result<(), ControlError> {
        let answered = matches!(
            s.phase,
            Phase::Bridged { .. } | Phase::Consulting(_) | Phase::Conference(_)
        );
        match (step, &mut s.recording) {
            (RecordStep::Start, Some(_)) => Err(ControlError::Recording(true)),
            (RecordStep::Start, None) => {
                if !answered || s.anchor.is_none() {
                    return Err(ControlError::NotConnected);
                }
                self.start_recording(now, s);
                Ok(())
            }
            (_, None) => Err(ControlError::Recording(false)),
            (RecordStep::Stop, Some(_)) => {
                self.media(MediaCommand::StopRecording { relay: s.relay() });
                self.finish_recording(now, s);
                self.call_changed(s, "recording_stopped", None);
                Ok(())
            }
            (RecordStep::Pause | RecordStep::Resume, Some(r)) => {
                let paused = step == RecordStep::Pause;
                r.paused = paused;
                self.media(MediaCommand::PauseRecording {
                    relay: s.relay(),
                    paused,
                });
                let change = if paused {
                    "recording_paused"
                } else {
                    "recording_resumed"
                };
                self.call_changed(s, change, None);
                Ok(())
            }
        }
    }

    /// A call was answered by `leg`: recorded if its caller's or this callee's user
    /// configuration says so (`record_percent`: that share of their calls).
    pub(super) fn record_by_users(&mut self, now: Instant, s: &mut Session, leg: LegId) {
        if !self.users_record || s.recording.is_some() || s.anchor.is_none() {
            return;
        }
        let callee = s
            .leg(leg)
            .invite
            .headers
            .to()
            .ok()
            .and_then(|t| t.uri.user_unescaped());
        let share = [Some(s.from_user.clone()), callee]
            .into_iter()
            .flatten()
            .filter_map(|u| self.config.user(&u).map(|u| u.record_percent))
            .max()
            .unwrap_or(0);
        if share >= 100 || (share > 0 && self.rng.gen_range(0..100u8) < share) {
            self.start_recording(now, s);
        }
    }

    /// Start recording the customer's leg and what it hears.
    pub(super) fn start_recording(&mut self, now: Instant, s: &mut Session) {
        let started_ms = self.unix_ms(now);
        let id = format!("{started_ms}-{}", self.new_tag());
        let path = self
            .config
            .data_dir
            .join("recordings")
            .join(format!("{id}.wav"));
        let customer = Self::customer(s);
        self.media(MediaCommand::Record {
            endpoint: Endpoint {
                relay: s.relay(),
                side: s.leg(customer).side(),
            },
            path,
            mono: None,
        });
        tracing::info!(call = s.id, %id, "recording started");
        s.recording = Some(Recorded {
            id: id.clone(),
            started_ms,
            paused: false,
        });
        self.call_changed(s, "recording_started", Some(id));
    }

    /// The recording (if any) is over: its index row goes to the store.
    pub(super) fn finish_recording(&mut self, now: Instant, s: &mut Session) {
        let Some(r) = s.recording.take() else {
            return;
        };
        let agent = s
            .legs
            .iter()
            .find_map(|l| l.agent.as_ref().map(|a| a.as_str().to_string()))
            .or_else(|| s.outbound.as_ref().map(|o| o.agent.clone()));
        self.emit(super::Output::Recorded(Recording {
            file: format!("{}.wav", r.id),
            id: r.id,
            call_id: s.call_id().to_string(),
            from_user: s.from_user.clone(),
            to_user: s.to_user.clone(),
            agent,
            started_ms: r.started_ms,
            ended_ms: self.unix_ms(now),
        }));
    }
}
