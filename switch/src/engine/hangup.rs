//! Ending sessions: BYE and CANCEL to their legs, the no-media and session-timer checks,
//! and forgetting a session (its indexes, its relay) with its CDR.

use super::session::{End, LegId, LegState, Phase, Session, SessionTimer};
use super::{media_check_interval, CallTimer, Cx, OriginationEvent, Output, TxRole};
use crate::records::{Cause, HangupSide};
use crate::store::Cdr;
use media::graph::MediaCommand;
use sip::{Method, Request};
use std::time::{Duration, Instant};

impl Cx {
    /// End a session from the switch's side: BYE the confirmed legs, CANCEL ringing ones,
    /// and answer the caller with `code` if it was not answered yet.
    pub(super) fn hangup_all(
        &mut self,
        now: Instant,
        s: &mut Session,
        cause: Cause,
        side: HangupSide,
        code: u16,
    ) {
        if matches!(s.phase, Phase::Ended(_)) {
            return;
        }
        let pending: Vec<LegId> = s.pending_legs().collect();
        self.cancel_legs(now, s, &pending);
        if let Some(callee) = s.callee() {
            self.send_bye(now, s, LegId(0));
            self.send_bye(now, s, callee);
            self.bye_others(now, s, &[LegId(0), callee]);
            return self.end(s, cause, side, 200);
        }
        // A consultation's, a conference's or a supervisor's legs.
        self.bye_others(now, s, &[LegId(0)]);
        // Answered by the switch itself (queue, feature, overflow, an originated call's agent).
        if s.legs
            .first()
            .is_some_and(|l| l.state == LegState::Confirmed)
        {
            self.send_bye(now, s, LegId(0));
        } else {
            self.fail_caller(now, s, code, None);
        }
        self.end(s, cause, side, code);
    }

    /// The session is over: the engine forgets it once the current input is handled.
    pub(super) fn end(&mut self, s: &mut Session, cause: Cause, side: HangupSide, status: u16) {
        if matches!(s.phase, Phase::Ended(_)) {
            return;
        }
        // A caller the switch answered itself (queue, feature code) got a 200.
        let status = if s.answered.is_some() || (s.answered_locally() && s.outbound.is_none()) {
            200
        } else {
            status
        };
        if let Some(i) = s.interaction() {
            if self.interactions.remove(&i).is_some() {
                // Waiting or ringing: the caller abandoned; bridged: the agent's wrap-up.
                self.emit(Output::Acd(acd::Event::InteractionEnded {
                    interaction: acd::InteractionId(i),
                }));
            }
        }
        for key in std::mem::take(&mut s.holds) {
            self.node.edge().end_call(&key);
        }
        s.phase = Phase::Ended(End {
            cause,
            side,
            status,
        });
    }

    /// CANCEL these legs' INVITEs (those still ringing).
    pub(super) fn cancel_legs(&mut self, now: Instant, s: &mut Session, legs: &[LegId]) {
        for &leg in legs {
            let l = s.leg_mut(leg);
            if l.state == LegState::Ringing {
                l.state = LegState::Cancelling;
                if let Some(t) = l.tx {
                    self.layer.cancel(now, t);
                }
            }
        }
    }

    /// BYE every confirmed leg but `except` (a supervisor, conference members, a consulted
    /// party), marking them released.
    pub(super) fn bye_others(&mut self, now: Instant, s: &mut Session, except: &[LegId]) {
        let others: Vec<LegId> = (0..s.legs.len())
            .map(LegId)
            .filter(|l| !except.contains(l) && s.leg(*l).state == LegState::Confirmed)
            .collect();
        for leg in others {
            self.send_bye(now, s, leg);
            s.leg_mut(leg).state = LegState::Failed { code: 200 };
        }
    }

    pub(super) fn send_bye(&mut self, now: Instant, s: &mut Session, leg: LegId) {
        let Some(transport) = s.leg(leg).dialog.as_ref().map(|d| d.target.transport) else {
            return;
        };
        let via = self.via(transport);
        let Some(d) = s.leg_mut(leg).dialog.as_mut() else {
            return;
        };
        let target = d.target;
        let bye = d.request(Method::Bye, &via);
        if let Some(t) = self.send_request(now, bye, target) {
            self.tx_owner.insert(t, (s.id, TxRole::Fire));
            s.txs.push(t);
        }
    }

    /// The session interval for a new call (RFC 4028 §9), or the Min-SE to answer 422
    /// with when the caller asks for less than we accept. `None`: no session timer (the
    /// caller does not support it, or `sip.session_expires` is 0).
    pub(super) fn session_interval(&self, req: &Request) -> Result<Option<u32>, u32> {
        let cfg = &self.config.sip;
        let asked = req
            .headers
            .get("Session-Expires")
            .and_then(|v| v.split(';').next())
            .and_then(|v| v.trim().parse::<u32>().ok());
        if let Some(n) = asked {
            if n < cfg.min_se {
                return Err(cfg.min_se);
            }
        }
        // A caller that asks us to refresh (refresher=uas) gets no session timer: the
        // switch does not send refreshes itself, so it must not promise them.
        let wants_uas = req.headers.get("Session-Expires").is_some_and(|v| {
            v.to_ascii_lowercase()
                .replace(' ', "")
                .contains("refresher=uas")
        });
        if wants_uas
            || cfg.session_expires == 0
            || !req.headers.tokens("Supported").iter().any(|t| t == "timer")
        {
            return Ok(None);
        }
        let their_min = req
            .headers
            .get("Min-SE")
            .and_then(|v| v.trim().parse::<u32>().ok())
            .unwrap_or(0);
        let n = asked
            .unwrap_or(cfg.session_expires)
            .max(cfg.min_se)
            .max(their_min);
        Ok(Some(n))
    }

    /// The caller refreshed the session (or it just started): push the deadline out.
    pub(super) fn refresh_session(&mut self, now: Instant, s: &mut Session) {
        if let Some(SessionTimer { interval, .. }) = s.timer {
            let at = now + Duration::from_secs(u64::from(interval));
            s.timer = Some(SessionTimer {
                interval,
                deadline: Some(at),
            });
            self.schedule(at, s.id, CallTimer::Session);
        }
    }

    pub(super) fn session_check(&mut self, now: Instant, s: &mut Session) {
        if s.timer.and_then(|t| t.deadline).is_some_and(|d| d <= now) {
            tracing::info!(call = s.id, "session timer expired: ending call");
            self.hangup_all(now, s, Cause::SessionTimeout, HangupSide::Switch, 408);
        }
    }

    /// Check the session's RTP activity from now on (when `media.no_media_timeout_secs` is
    /// set).
    pub(super) fn start_media_checks(&mut self, now: Instant, id: u64) {
        if let Some(limit) = self.config.media.no_media_timeout() {
            self.schedule(now + media_check_interval(limit), id, CallTimer::Media);
        }
    }

    /// Time to check the RTP activity: ask the relay (answered by `media_activity`).
    pub(super) fn probe_media(&mut self, s: &mut Session) {
        if self.config.media.no_media_timeout().is_some() {
            self.media(MediaCommand::Probe { relay: s.relay() });
        }
    }

    pub(super) fn media_activity(&mut self, now: Instant, s: &mut Session, idle_for: Duration) {
        let Some(limit) = self.config.media.no_media_timeout() else {
            return;
        };
        if idle_for >= limit {
            tracing::info!(call = s.id, "no media: ending call");
            self.hangup_all(now, s, Cause::NoMedia, HangupSide::Switch, 408);
        } else {
            self.schedule(now + media_check_interval(limit), s.id, CallTimer::Media);
        }
    }

    /// Forget an ended session: indexes, relay, transactions; write its CDR.
    pub(super) fn finish(&mut self, now: Instant, mut s: Session) {
        let Phase::Ended(end) = s.phase else {
            return;
        };
        self.sdes.forget(s.id);
        self.finish_recording(now, &mut s);
        self.finish_deposit(now, &mut s);
        if let Some(d) = s.legs.first().and_then(|l| l.dialog.as_ref()) {
            self.dialogs
                .remove(&(d.call_id.clone(), d.local_tag.clone()));
        }
        // An originated call's agent legs (first, unless its contact took the seat).
        for l in &s.legs {
            if l.role == super::session::Role::Agent {
                // The agent legs' own Call-ID and tag.
                if let (Some(cid), Ok(from)) = (l.invite.headers.call_id(), l.invite.headers.from())
                {
                    if let Some(tag) = from.tag() {
                        self.dialogs.remove(&(cid.to_string(), tag.to_string()));
                    }
                }
            }
        }
        for tag in &s.our_tags {
            self.dialogs.remove(&(s.our_call_id.clone(), tag.clone()));
        }
        if let Some(tx) = s.invite_tx {
            self.invites.remove(&tx);
        }
        for t in &s.txs {
            self.reinvite_acks.remove(t);
            match self.tx_owner.get(t).map(|(_, r)| *r) {
                // BYEs in flight keep their entry until answered.
                Some(TxRole::Fire) | None | Some(TxRole::Orphan) => {}
                Some(TxRole::Relay { server, .. }) => {
                    // A request relayed from one leg whose twin is still unanswered: answer
                    // it now (487 for a re-INVITE, 481 otherwise), its dialog is gone.
                    if let Some(req) = self.layer.server_request(server).cloned() {
                        let code = if req.method == Method::Invite {
                            487
                        } else {
                            481
                        };
                        let resp = req.response(code, None, None);
                        self.layer.respond(now, server, resp);
                    }
                    self.tx_owner.remove(t);
                }
                // INVITEs still ringing become orphans: their final answer is still
                // awaited (a 487 is ACKed by the transaction layer; a 2xx that crossed our
                // CANCEL is ACKed and released).
                Some(TxRole::Invite(leg)) => match s.legs.get(leg.0) {
                    Some(l) if l.pending() => {
                        self.tx_owner.insert(*t, (s.id, TxRole::Orphan));
                        self.orphans.insert(*t, (l.invite.clone(), l.target));
                    }
                    _ => {
                        self.tx_owner.remove(t);
                    }
                },
            }
        }
        self.media(MediaCommand::Release { relay: s.relay() });
        if let Some(out) = &s.outbound {
            let sip_status = if s.answered.is_some() {
                200
            } else {
                end.status
            };
            let (agent, attempt, number) = (out.agent.clone(), out.attempt, out.number.clone());
            self.report(OriginationEvent::Ended {
                attempt,
                sip_status,
            });
            self.publish_call(&agent, attempt, &number, "ended", Some(sip_status));
        }
        let cdr = self.cdr(now, &s, end.status, end.cause, end.side);
        tracing::debug!(call_id = %cdr.call_id, cause = %end.cause, side = %end.side, "call ended");
        self.emit(Output::Cdr(cdr));
        self.counters.calls_ended += 1;
    }
}

impl Cx {
    /// The CDR of the session's current leg pair, ending now.
    fn cdr(&self, now: Instant, s: &Session, status: u16, cause: Cause, side: HangupSide) -> Cdr {
        let (started, start_ms) = s.pair_start.unwrap_or((s.started, s.start_ms));
        let end_ms = self.unix_ms(now);
        let (ring_secs, talk_secs) = match s.answered {
            Some((at, _)) => (
                at.saturating_duration_since(started).as_secs_f64(),
                now.saturating_duration_since(at).as_secs_f64(),
            ),
            None => (now.saturating_duration_since(started).as_secs_f64(), 0.0),
        };
        let call_id = match s.legs.first() {
            Some(l) => l
                .dialog
                .as_ref()
                .map(|d| d.call_id.clone())
                .or_else(|| l.invite.headers.call_id().map(str::to_string))
                .unwrap_or_default(),
            None => s.our_call_id.clone(),
        };
        Cdr {
            session_id: s.session_id(),
            seq: s.cdr_seq,
            call_id,
            from_uri: s.from_uri.clone(),
            to_uri: s.to_uri.clone(),
            from_user: s.from_user.clone(),
            to_user: s.to_user.clone(),
            start_ms,
            answer_ms: s.answered.map(|a| a.1),
            end_ms,
            ring_secs,
            talk_secs,
            status,
            cause,
            hangup_side: side,
        }
    }

    /// The customer is handed on: the CDR of the leg pair that ends (cause
    /// `transferred`), and the next pair begins now, answered already when `answered`
    /// (the target took the call) or when an agent answers (a queue).
    pub(super) fn close_pair(&mut self, now: Instant, s: &mut Session, answered: bool) {
        let cdr = self.cdr(now, s, 200, Cause::Transferred, HangupSide::Callee);
        self.emit(Output::Cdr(cdr));
        s.cdr_seq += 1;
        let at = (now, self.unix_ms(now));
        s.pair_start = Some(at);
        s.answered = answered.then_some(at);
    }
}

/// The session timer agreed with the first party (RFC 4028 §9), on a 2xx to it.
pub(super) fn add_session_headers(s: &Session, resp: &mut sip::Response) {
    if let Some(t) = s.timer {
        resp.headers
            .push("Session-Expires", format!("{};refresher=uac", t.interval));
        resp.headers.push("Require", "timer");
    }
}
