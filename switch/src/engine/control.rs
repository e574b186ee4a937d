//! Call control asked of the switch (REST, and the desktop): moves of legs between
//! bridges. Consultation, attended transfer and conference are in [`super::consult`].
//!
//! - **Hold** a leg: it moves from the relay to a music player; its peer moves to a
//!   silence player, so it hears nothing of the held party. No re-INVITE is sent: the
//!   phones keep their streams, and the held party hears music, not silence.
//! - **Retrieve** it: both players go, the relay joins them again.
//!
//! Legs are named as `GET /api/calls` lists them: 0 the first party (caller, or the agent
//! of a call the switch placed), 1 the other.

use super::session::{CallView, Hold, LegId, Phase, Prompt, Session};
use super::{Cx, Engine};
use std::sync::Arc;
use std::time::{Duration, Instant};
use thiserror::Error;

/// What a caller of the API can ask of a live call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallControl {
    Hold,
    Retrieve,
}

/// A blind transfer asked over REST: the first party goes to `target` (a user), the other
/// leg (the agent) is released once the target answers, or gets the call back if it fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransferTo {
    pub target: String,
}

/// Why a call control was refused.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum ControlError {
    #[error("no live call {0:?}")]
    NoCall(String),
    #[error("the call has no leg {0}")]
    NoLeg(usize),
    #[error("the call is not connected (only an answered call can be held)")]
    NotConnected,
    #[error("leg {0} is already on hold")]
    AlreadyHeld(usize),
    #[error("leg {0} is not held by the switch")]
    NotHeld(usize),
    #[error("no phone of {0:?} is reachable")]
    NoTarget(String),
    #[error("{0}")]
    Unsupported(&'static str),
    #[error("the call is not in a consultation")]
    NotConsulting,
    #[error("the consulted party has not answered")]
    NotAnswered,
    #[error("the call is not a conference")]
    NotConference,
    #[error("a party is already being added")]
    Busy,
    #[error("the call has no supervisor")]
    NotSupervised,
    #[error("the call is supervised: end the supervision first")]
    Supervised,
    /// `true`: already recorded; `false`: not recorded.
    #[error("{}", if *.0 { "the call is already being recorded" } else { "the call is not being recorded" })]
    Recording(bool),
    #[error("the call is not ringing agent {0:?}")]
    NotOffered(String),
}

/// Everything the API can ask of a live call; legs are named as the call view lists them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallOp {
    Control {
        leg: usize,
        command: CallControl,
    },
    /// Blind transfer of the first party.
    Transfer(TransferTo),
    /// The agent consults `target` (a user or a number) while the customer hears music.
    Consult {
        target: String,
    },
    Consultation(super::ConsultStep),
    /// Add a party to a conference.
    AddParty {
        target: String,
    },
    Member {
        leg: usize,
        step: super::MemberStep,
    },
    /// A supervisor's extension is rung to listen, whisper or barge in (or changes mode).
    Supervise {
        extension: String,
        mode: super::SuperviseMode,
    },
    /// The supervisor's leg is released.
    Unsupervise,
    Record(super::RecordStep),
    /// The switch ends the call: BYE to its answered legs, CANCEL to ringing ones.
    Hangup,
    /// The agent declines the call a queue offers them (from the desktop): their phone's
    /// INVITE is cancelled and the ACD hears the offer rejected, as if the phone had.
    Decline {
        agent: String,
    },
}

impl Engine {
    /// The session whose call id (as the call list shows it) is `call`.
    fn session_of(&self, call: &str) -> Result<u64, ControlError> {
        self.sessions
            .iter()
            .find(|(_, s)| s.call_id() == call)
            .map(|(id, _)| *id)
            .ok_or_else(|| ControlError::NoCall(call.to_string()))
    }

    /// Carries out `op` on the call `call` (its id in the call list); the call as it is
    /// now, or why not.
    pub fn call_op(
        &mut self,
        now: Instant,
        call: &str,
        op: CallOp,
    ) -> Result<CallView, ControlError> {
        let id = self.session_of(call)?;
        let mut result = Err(ControlError::NoCall(call.to_string()));
        self.with(now, id, |cx, s| {
            let done = match op {
                CallOp::Control { leg, command } => cx.control(s, leg, command),
                CallOp::Transfer(_) if s.supervisor.is_some() => Err(ControlError::Supervised),
                CallOp::Transfer(transfer) => {
                    // The agent of a call the switch placed hands its contact on as a
                    // callee agent hands on its caller.
                    cx.seat_contact_first(s);
                    match s.phase {
                        Phase::Bridged { callee, .. } => {
                            cx.begin_transfer(now, s, callee, &transfer.target, None, false)
                        }
                        _ => Err(ControlError::NotConnected),
                    }
                }
                CallOp::Consult { target } => cx.consult(now, s, &target),
                CallOp::Consultation(step) => cx.consult_step(now, s, step),
                CallOp::AddParty { target } => cx.add_party(now, s, &target),
                CallOp::Member { leg, step } => cx.member(now, s, leg, step),
                CallOp::Supervise { extension, mode } => cx.supervise(now, s, &extension, mode),
                CallOp::Unsupervise => cx.unsupervise(now, s),
                CallOp::Record(step) => cx.record(now, s, step),
                CallOp::Decline { agent } => cx.decline_offer(now, s, &agent),
                CallOp::Hangup => {
                    cx.call_changed(s, "hung_up", None);
                    cx.hangup_all(
                        now,
                        s,
                        crate::records::Cause::Normal,
                        crate::records::HangupSide::Switch,
                        480,
                    );
                    Ok(())
                }
            };
            result = done.map(|()| s.view());
        });
        result
    }

    /// Carries out `command` on leg `leg` of the call `call`.
    pub fn control(
        &mut self,
        now: Instant,
        call: &str,
        leg: usize,
        command: CallControl,
    ) -> Result<CallView, ControlError> {
        self.call_op(now, call, CallOp::Control { leg, command })
    }

    /// Blind-transfers the first party of `call` to `transfer.target`.
    pub fn transfer(
        &mut self,
        now: Instant,
        call: &str,
        transfer: TransferTo,
    ) -> Result<CallView, ControlError> {
        self.call_op(now, call, CallOp::Transfer(transfer))
    }
}

/// A second of silence, looped.
fn silence() -> media::Playlist {
    media::Playlist::looped(Arc::from(media::tone::silence(Duration::from_secs(1))))
}

impl Cx {
    /// Publish that the call changed, with its whole current view.
    pub(super) fn call_changed(
        &mut self,
        s: &Session,
        change: &'static str,
        detail: Option<String>,
    ) {
        let agent = s
            .legs
            .iter()
            .find_map(|l| l.agent.as_ref().map(|a| a.as_str().to_string()))
            .or_else(|| s.outbound.as_ref().map(|o| o.agent.clone()));
        self.emit(super::Output::CallChanged(super::CallChange {
            kind: "call_changed",
            version: super::io::CALL_CHANGE_VERSION,
            change,
            detail,
            agent,
            call: s.view(),
        }));
    }

    fn control(
        &mut self,
        s: &mut Session,
        leg: usize,
        command: CallControl,
    ) -> Result<(), ControlError> {
        let Phase::Bridged { callee, .. } = s.phase else {
            return Err(ControlError::NotConnected);
        };
        let (this, peer) = match leg {
            0 => (LegId(0), callee),
            1 => (callee, LegId(0)),
            other => return Err(ControlError::NoLeg(other)),
        };
        if s.anchor.is_none() {
            return Err(ControlError::NotConnected);
        }
        match command {
            CallControl::Hold => {
                if s.leg(this).hold != Hold::Off || s.leg(peer).hold == Hold::Held {
                    return Err(ControlError::AlreadyHeld(leg));
                }
                let music = self.prompts.music();
                self.play(s, this.0, music, Prompt::Music);
                self.play(s, peer.0, silence(), Prompt::Silence);
                s.leg_mut(this).hold = Hold::Held;
                tracing::info!(call = s.id, leg, "leg held by the switch");
                self.call_changed(s, "held", None);
            }
            CallControl::Retrieve => {
                if s.leg(this).hold != Hold::Held {
                    return Err(ControlError::NotHeld(leg));
                }
                self.stop_playing(s, this.0);
                self.stop_playing(s, peer.0);
                s.leg_mut(this).hold = Hold::Off;
                tracing::info!(call = s.id, leg, "leg retrieved by the switch");
                self.call_changed(s, "retrieved", None);
            }
        }
        Ok(())
    }
}
