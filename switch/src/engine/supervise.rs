//! A supervisor on an agent's two-party call, asked over REST: their phone is rung from an
//! endpoint of its own and, once it answers, joined by the mixer as the mode says:
//!
//! - **listen**: the supervisor hears the customer and the agent; nobody hears them;
//! - **whisper** (coaching): the agent hears the customer and the supervisor, the
//!   customer only the agent;
//! - **barge**: all three hear each other.
//!
//! Asking again with another mode changes it at once; the supervisor's BYE (or
//! `end-supervise`) puts the call back as it was. The two parties' own relay is untouched
//! in listen mode except that the supervisor taps it through the mixer.

use super::session::{Dialing, LegId, LegState, Phase, Role, Session, SuperviseMode};
use super::{ControlError, Cx};
use media::Hears;
use sip::transaction::TxId;
use sip::{Request, Response};
use std::time::Instant;

impl Cx {
    /// The agent's and the customer's legs of a two-party call.
    pub(super) fn parties(s: &Session) -> Option<(LegId, LegId)> {
        let Phase::Bridged { callee, .. } = s.phase else {
            return None;
        };
        Some(if s.legs[0].role == Role::Agent {
            (LegId(0), callee)
        } else {
            (callee, LegId(0))
        })
    }

    /// Ring `extension` to supervise the call in `mode`, or change the mode of the
    /// supervisor already on it.
    pub(super) fn supervise(
        &mut self,
        now: Instant,
        s: &mut Session,
        extension: &str,
        mode: SuperviseMode,
    ) -> Result<(), ControlError> {
        if Self::parties(s).is_none() {
            return Err(ControlError::NotConnected);
        }
        if let Some(sup) = s.supervisor.as_mut() {
            let joined = sup
                .dialing
                .leg
                .is_some_and(|l| s.legs[l.0].state == LegState::Confirmed);
            if !joined {
                return Err(ControlError::Busy);
            }
            sup.mode = mode;
            self.route_supervision(s);
            self.call_changed(s, "supervise_mode", Some(mode_name(mode).into()));
            return Ok(());
        }
        self.resolve(now, extension)?;
        let endpoint = self.new_endpoint(s)?;
        s.supervisor = Some(super::session::Supervision {
            mode,
            dialing: Dialing {
                endpoint,
                target: extension.to_string(),
                leg: None,
            },
            incoming: None,
            agent: None,
        });
        tracing::info!(call = s.id, %extension, ?mode, "supervisor called");
        self.call_changed(s, "supervise_started", Some(mode_name(mode).into()));
        Ok(())
    }

    /// Mixes and relays as the supervision's mode says (or as a plain call without one).
    pub(super) fn route_supervision(&mut self, s: &mut Session) {
        let Some((mut agent, mut customer)) = Self::parties(s) else {
            return;
        };
        if s.supervisor.as_ref().and_then(|x| x.agent) == Some(customer) {
            std::mem::swap(&mut agent, &mut customer);
        }
        let codec = s.codec.unwrap_or(media::Codec::PCMU);
        let (a, c) = (s.leg(agent).side(), s.leg(customer).side());
        let joined = s.supervisor.as_ref().and_then(|x| {
            let leg = x.dialing.leg?;
            (s.leg(leg).state == LegState::Confirmed).then_some((leg, x.mode))
        });
        let Some((sup, mode)) = joined else {
            self.hear(s, agent, Hears::Endpoint(c));
            self.hear(s, customer, Hears::Endpoint(a));
            return;
        };
        let v = s.leg(sup).side();
        let mix = |of: Vec<media::Side>| Hears::Mix { of, codec };
        let (to_agent, to_customer, to_sup) = match mode {
            SuperviseMode::Listen => (Hears::Endpoint(c), Hears::Endpoint(a), mix(vec![a, c])),
            SuperviseMode::Whisper => (mix(vec![c, v]), Hears::Endpoint(a), mix(vec![a, c])),
            SuperviseMode::Barge => (mix(vec![a, c, v]), mix(vec![a, c, v]), mix(vec![a, c, v])),
        };
        self.hear(s, agent, to_agent);
        self.hear(s, customer, to_customer);
        self.hear(s, sup, to_sup);
    }

    /// The supervisor's phone answered or failed.
    pub(super) fn supervisor_response(
        &mut self,
        now: std::time::Instant,
        s: &mut Session,
        leg: LegId,
        resp: Response,
    ) {
        let mut code = resp.code;
        if code < 200 {
            return;
        }
        let mut reason = resp.reason.clone();
        if let Some(refusal) = self.refused_answer(now, s, leg, &resp) {
            (code, reason) = (488, refusal.to_string());
        }
        if code >= 300 {
            s.leg_mut(leg).state = LegState::Failed { code };
            if let Some(t) = s.leg(leg).tx {
                self.tx_owner.remove(&t);
            }
            self.end_supervision(s);
            return self.call_changed(s, "supervise_failed", Some(format!("{code} {reason}")));
        }
        if self.confirm_dialed(s, leg, &resp) {
            self.route_supervision(s);
            let mode = s
                .supervisor
                .as_ref()
                .map_or(SuperviseMode::Listen, |x| x.mode);
            tracing::info!(call = s.id, ?mode, "supervisor joined");
            self.call_changed(s, "supervise_joined", Some(mode_name(mode).into()));
        }
    }

    /// The supervisor is gone: their endpoint closed, the parties relayed as before.
    fn end_supervision(&mut self, s: &mut Session) {
        let Some(sup) = s.supervisor.take() else {
            return;
        };
        self.remove_endpoint(s, sup.dialing.endpoint);
        self.route_supervision(s);
    }

    /// `end-supervise`: BYE (or CANCEL) the supervisor's leg.
    pub(super) fn unsupervise(
        &mut self,
        now: Instant,
        s: &mut Session,
    ) -> Result<(), ControlError> {
        let Some(sup) = s.supervisor.as_ref() else {
            return Err(ControlError::NotSupervised);
        };
        if let Some(leg) = sup.dialing.leg {
            self.release(now, s, leg);
        }
        self.end_supervision(s);
        self.call_changed(s, "supervise_ended", None);
        Ok(())
    }

    /// The supervisor's phone hung up.
    pub(super) fn supervisor_left(
        &mut self,
        now: Instant,
        s: &mut Session,
        leg: LegId,
        tx: TxId,
        req: &Request,
    ) {
        self.reply(now, tx, req, 200, None);
        s.leg_mut(leg).state = LegState::Failed { code: 200 };
        self.end_supervision(s);
        self.call_changed(s, "supervise_ended", Some("hung up".into()));
    }

    /// The supervisor's leg, when `leg` is it.
    pub(super) fn is_supervisor(s: &Session, leg: LegId) -> bool {
        s.supervisor.as_ref().and_then(|x| x.dialing.leg) == Some(leg)
    }
}

pub(super) fn mode_name(mode: SuperviseMode) -> &'static str {
    match mode {
        SuperviseMode::Listen => "listen",
        SuperviseMode::Whisper => "whisper",
        SuperviseMode::Barge => "barge",
    }
}
