//! Ending calls: BYE on both legs, no-media and session-timer checks, and the CDR.

use super::call::{unix_ms, Call, CallState, Side};
use super::{media_check_interval, CallTimer, Engine, TxRole};
use crate::store::Cdr;
use sip::{Method, Request};
use std::time::Instant;

impl Engine {
    /// End a call from the switch's side: BYE both answered legs, or fail a ringing call.
    pub(super) fn hangup_all(&mut self, now: Instant, id: u64, cause: &str, side: &str, code: u16) {
        let Some(mut call) = self.calls.remove(&id) else {
            return;
        };
        match call.state {
            CallState::Answered => {
                for s in [Side::A, Side::B] {
                    self.send_bye(now, &mut call, s);
                }
                self.calls.insert(id, call);
                self.finish(now, id, cause, side, 200);
            }
            CallState::Queued => {
                self.cancel_forks(now, &mut call, |_| true);
                self.send_bye(now, &mut call, Side::A);
                self.calls.insert(id, call);
                self.finish(now, id, cause, side, code);
            }
            CallState::Routing | CallState::Early => {
                self.cancel_forks(now, &mut call, |_| true);
                self.cancel_agent_legs(now, &mut call);
                let resp = call.a_invite.response(code, None, Some(&call.a.local_tag));
                self.layer.respond(now, call.a_invite_tx, resp);
                self.calls.insert(id, call);
                self.finish(now, id, cause, side, code);
            }
        }
    }

    /// CANCEL the still-ringing forks that `which` selects.
    pub(super) fn cancel_forks(
        &mut self,
        now: Instant,
        call: &mut Call,
        which: impl Fn(&super::call::Fork) -> bool,
    ) {
        for f in call.forks.iter_mut() {
            if f.final_code.is_none() && !f.cancelled && which(f) {
                f.cancelled = true;
                if let Some(t) = f.tx {
                    self.layer.cancel(now, t);
                }
            }
        }
    }

    pub(super) fn send_bye(&mut self, now: Instant, call: &mut Call, side: Side) {
        let id = call.id;
        let Some(d) = call.dialog_mut(side) else {
            return;
        };
        let target = d.target;
        let transport = target.transport;
        let (host, tok) = self.via_host(transport);
        let bye = d.request(Method::Bye, &host, tok);
        if let Some(t) = self.send_request(now, bye, target) {
            self.tx_owner.insert(t, (id, TxRole::Fire));
            call.txs.push(t);
        }
    }

    /// The session interval for a new call (RFC 4028 §9), or the Min-SE to answer 422
    /// with when the caller asks for less than we accept. `None`: no session timer (the
    /// caller does not support it, or `sip.session_expires` is 0).
    pub(super) fn session_interval(&self, req: &Request) -> Result<Option<u32>, u32> {
        let cfg = &self.config().sip;
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
    pub(super) fn refresh_session(&mut self, now: Instant, call: &mut Call) {
        if let Some(n) = call.session_interval {
            let at = now + std::time::Duration::from_secs(u64::from(n));
            call.session_deadline = Some(at);
            self.schedule(at, call.id, CallTimer::Session);
        }
    }

    pub(super) fn session_check(&mut self, now: Instant, id: u64) {
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        if call.session_deadline.is_some_and(|d| d <= now) {
            tracing::info!(call_id = %call.a.call_id, "session timer expired: ending call");
            self.hangup_all(now, id, "session_timeout", "switch", 408);
        }
    }

    pub(super) fn media_check(&mut self, now: Instant, id: u64) {
        let Some(limit) = self.config().media.no_media_timeout() else {
            return;
        };
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        let idle = call.media.as_ref().map(|m| m.stats().idle_for);
        if idle.is_some_and(|i| i >= limit) {
            tracing::info!(call_id = %call.a.call_id, "no media: ending call");
            self.hangup_all(now, id, "no_media", "switch", 408);
        } else {
            self.schedule(now + media_check_interval(limit), id, CallTimer::Media);
        }
    }

    /// Forget a call: indexes, media ports, and write its CDR.
    pub(super) fn finish(&mut self, now: Instant, id: u64, cause: &str, side: &str, status: u16) {
        let Some(call) = self.calls.remove(&id) else {
            return;
        };
        self.dialogs
            .remove(&(call.a.call_id.clone(), call.a.local_tag.clone()));
        for tag in &call.b_tags {
            self.dialogs.remove(&(call.b_call_id.clone(), tag.clone()));
        }
        if let Some(i) = call.interaction {
            self.interactions.remove(&i);
            // Waiting or ringing: the caller abandoned; bridged: the agent's wrap-up starts.
            self.shared.distributor.send(acd::Event::InteractionEnded {
                interaction: acd::InteractionId(i),
            });
        }
        self.invites.remove(&call.a_invite_tx);
        for t in &call.txs {
            self.reinvite_acks.remove(t);
            // A request relayed from one leg whose twin is still unanswered: answer it now
            // (487 for a re-INVITE, 481 otherwise), the dialog it belonged to is gone.
            if let Some((_, TxRole::Relay { server, .. })) = self.tx_owner.get(t).copied() {
                if let Some(req) = self.layer.server_request(server).cloned() {
                    let code = if req.method == Method::Invite {
                        487
                    } else {
                        481
                    };
                    let resp = req.response(code, None, None);
                    self.layer.respond(now, server, resp);
                }
            }
            // BYEs in flight keep their entry until answered. INVITEs still ringing become
            // orphans: their final answer is still awaited (a 487 is ACKed by the
            // transaction layer; a 2xx that crossed our CANCEL is ACKed and released).
            match self.tx_owner.get(t).map(|(_, r)| *r) {
                Some(TxRole::Fire) | None => {}
                Some(TxRole::Fork(n)) => match call.forks.get(n) {
                    Some(f) if f.final_code.is_none() && call.winner != Some(n) => {
                        self.tx_owner.insert(*t, (id, TxRole::Orphan));
                        self.orphans.insert(*t, (f.request.clone(), f.target));
                    }
                    _ => {
                        self.tx_owner.remove(t);
                    }
                },
                Some(TxRole::AgentLeg(n)) => {
                    let fork = call.outbound.as_ref().and_then(|o| o.agent_forks.get(n));
                    match fork {
                        Some(f) if f.final_code.is_none() && !call.local_answer => {
                            self.tx_owner.insert(*t, (id, TxRole::Orphan));
                            self.orphans.insert(*t, (f.request.clone(), f.target));
                        }
                        _ => {
                            self.tx_owner.remove(t);
                        }
                    }
                }
                Some(_) => {
                    self.tx_owner.remove(t);
                }
            }
        }
        if let Some(out) = &call.outbound {
            let sip_status = if call.answered.is_some() { 200 } else { status };
            out.send(super::OriginationEvent::Ended {
                attempt: out.attempt,
                sip_status,
            });
            self.shared.distributor.publish(serde_json::json!({
                "type": "call", "agent": out.agent, "attempt": out.attempt,
                "number": out.number, "state": "ended", "sip_status": sip_status,
            }));
        }
        let end_ms = unix_ms();
        let (ring_secs, talk_secs) = match call.answered {
            Some((at, _)) => (
                (at - call.started).as_secs_f64(),
                at.elapsed().as_secs_f64(),
            ),
            None => (call.started.elapsed().as_secs_f64(), 0.0),
        };
        let cdr = Cdr {
            call_id: call.a.call_id.clone(),
            from_uri: call.from_uri.clone(),
            to_uri: call.to_uri.clone(),
            from_user: call.from_user.clone(),
            to_user: call.to_user.clone(),
            start_ms: call.start_ms,
            answer_ms: call.answered.map(|a| a.1),
            end_ms,
            ring_secs,
            talk_secs,
            // A caller the switch answered itself (queue, feature code) got a 200.
            status: if call.answered.is_some() || (call.local_answer && call.outbound.is_none()) {
                200
            } else {
                status
            },
            cause: cause.to_string(),
            hangup_side: side.to_string(),
        };
        tracing::debug!(call_id = %cdr.call_id, cause, side, "call ended");
        self.shared.cdrs.record(cdr);
        self.shared.metrics.call_ended();
        drop(call);
    }
}
