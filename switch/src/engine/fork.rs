//! The callee's side of call set-up: responses on each fork, the answer that bridges the
//! caller, failures, ring timeout and the caller's CANCEL.

use super::call::{has_sdp, unix_ms, Call, CallState, Side};
use super::dialog::Dialog;
use super::{media_check_interval, CallTimer, Engine, TxRole};
use sip::transaction::TxId;
use sip::{Method, Response};
use std::time::Instant;

impl Engine {
    /// A response on the INVITE of fork `n`.
    pub(super) fn fork_response(&mut self, now: Instant, id: u64, n: usize, resp: Response) {
        let code = resp.code;
        if code == 100 {
            return;
        }
        if code >= 300 {
            return self.fork_final(now, id, n, code);
        }
        let Some(mut call) = self.calls.remove(&id) else {
            return;
        };
        if code < 200 {
            if call.outbound.is_some()
                && call.local_answer
                && has_sdp(&resp.body, &resp.headers)
                && !call.early_media
            {
                // The contact's early media (network announcements, ringback) replaces ours.
                if let Some(m) = call.media.as_ref() {
                    let _ = self.rewrite_sdp(m, Side::B, &resp.body);
                    m.stop_playing(media::Side::A);
                    call.early_media = true;
                }
            }
            // A locally answered caller hears our music, not the agent's ringing.
            if call.state != CallState::Answered && !call.local_answer {
                call.state = CallState::Early;
                let mut out =
                    call.a_invite
                        .response(code, Some(&resp.reason), Some(&call.a.local_tag));
                out.headers
                    .push("Contact", self.contact_header(call.a.target.transport));
                if !call.early_media && has_sdp(&resp.body, &resp.headers) {
                    if let Some(m) = call.media.as_ref() {
                        if let Some(body) = self.rewrite_sdp(m, Side::B, &resp.body) {
                            out.headers.push("Content-Type", "application/sdp");
                            out.body = body;
                            call.early_media = true;
                        }
                    }
                }
                self.layer.respond(now, call.a_invite_tx, out);
            }
            self.calls.insert(id, call);
            return;
        }
        // 2xx
        match call.winner {
            Some(w)
                if w == n
                    && resp
                        .headers
                        .to()
                        .ok()
                        .and_then(|t| t.tag().map(str::to_string))
                        .as_deref()
                        != call.b.as_ref().map(|b| b.remote_tag.as_str()) =>
            {
                // A second dialog from the same fork (a forking proxy behind it): release it.
                let (request, target) = (call.forks[n].request.clone(), call.forks[n].target);
                self.release_late_answer(now, id, &request, &resp, target);
            }
            Some(w) if w == n => {
                // A retransmitted 2xx: repeat our ACK.
                if let Some((ack, target)) = call.forks[n].ack.clone() {
                    self.layer.send_stateless_bytes(ack, target);
                }
            }
            Some(_) => {
                let (request, target) = (call.forks[n].request.clone(), call.forks[n].target);
                self.release_late_answer(now, id, &request, &resp, target);
            }
            None if call.local_answer && call.forks[n].cancelled => {
                // The agent answered just as the offer was withdrawn (RONA, abandon):
                // the ACD has moved on, so release this phone.
                let (request, target) = (call.forks[n].request.clone(), call.forks[n].target);
                self.release_late_answer(now, id, &request, &resp, target);
            }
            None if call.local_answer => self.bridge_local(now, &mut call, n, resp),
            None => self.answer(now, &mut call, n, resp),
        }
        self.calls.insert(id, call);
    }

    /// A fork answered after another won or after the call ended: ACK its 2xx and BYE it
    /// (RFC 3261 §13.2.2.4), so the phone does not stay off-hook.
    pub(super) fn release_late_answer(
        &mut self,
        now: Instant,
        id: u64,
        request: &sip::Request,
        resp: &Response,
        target: sip::transaction::Target,
    ) {
        let Some(mut d) = Dialog::uac(request, resp, target) else {
            return;
        };
        let (host, tok) = self.via_host(target.transport);
        let ack = d.request_with_cseq(Method::Ack, d.local_cseq, &host, tok);
        self.layer
            .send_stateless(&sip::Message::Request(ack), target);
        let bye = d.request(Method::Bye, &host, tok);
        if let Some(t) = self.send_request(now, bye, target) {
            self.tx_owner.insert(t, (id, TxRole::Fire));
        }
    }

    /// Check the call's RTP activity from now on (when `media.no_media_timeout_secs` is set).
    pub(super) fn start_media_checks(&mut self, now: Instant, id: u64) {
        if let Some(limit) = self.config().media.no_media_timeout() {
            self.schedule(now + media_check_interval(limit), id, CallTimer::Media);
        }
    }

    /// Fork `n` answered first: its dialog becomes the B leg, the call is answered and the
    /// other forks are cancelled. `None` when the 2xx lacks usable dialog headers.
    fn take_answer(
        &mut self,
        now: Instant,
        call: &mut Call,
        n: usize,
        resp: &Response,
    ) -> Option<Dialog> {
        let target = call.forks[n].target;
        let Some(b) = Dialog::uac(&call.forks[n].request, resp, target) else {
            tracing::warn!("2xx without usable dialog headers");
            return None;
        };
        call.winner = Some(n);
        call.state = CallState::Answered;
        call.answered = Some((now, unix_ms()));
        self.cancel_forks(now, call, |_| true);
        call.forks[n].cancelled = false;
        Some(b)
    }

    /// Fork `n` answered first: bridge it to the caller.
    fn answer(&mut self, now: Instant, call: &mut Call, n: usize, resp: Response) {
        let Some(b) = self.take_answer(now, call, n, &resp) else {
            return;
        };
        let mut out = call.a_invite.response(200, None, Some(&call.a.local_tag));
        out.headers
            .push("Contact", self.contact_header(call.a.target.transport));
        out.headers.push("Allow", super::ALLOW);
        if has_sdp(&resp.body, &resp.headers) {
            if let Some(m) = call.media.as_ref() {
                if let Some(body) = self.rewrite_sdp(m, Side::B, &resp.body) {
                    out.headers.push("Content-Type", "application/sdp");
                    call.sdp_to_a = body.clone();
                    out.body = body;
                }
            }
        }
        if let Some(n) = call.session_interval {
            out.headers
                .push("Session-Expires", format!("{n};refresher=uac"));
            out.headers.push("Require", "timer");
            self.refresh_session(now, call);
        }
        call.b = Some(b);
        if call.a_offer {
            self.ack_b(call, n, Vec::new());
        } else {
            call.b_ack_deferred = true;
        }
        self.layer.respond(now, call.a_invite_tx, out);
        self.shared.metrics.call_answered();
        if !call.local_answer {
            // Locally answered calls are checked from their local answer on.
            self.start_media_checks(now, call.id);
        }
    }

    /// A callee answered a caller the switch had answered itself (a queue's agent, an
    /// overflow target): ACK it, stop the music and relay media between the two.
    fn bridge_local(&mut self, now: Instant, call: &mut Call, n: usize, resp: Response) {
        let Some(b) = self.take_answer(now, call, n, &resp) else {
            return;
        };
        if let Some(m) = call.media.as_ref() {
            if has_sdp(&resp.body, &resp.headers) {
                // Only to learn the agent's address: the caller keeps the SDP it has.
                let _ = self.rewrite_sdp(m, Side::B, &resp.body);
            }
            m.stop_playing(media::Side::A);
        }
        call.b = Some(b);
        self.ack_b(call, n, Vec::new());
        if let Some(out) = &call.outbound {
            out.send(super::OriginationEvent::Connected {
                attempt: out.attempt,
            });
            self.shared.distributor.publish(serde_json::json!({
                "type": "call", "agent": out.agent, "attempt": out.attempt,
                "number": out.number, "state": "connected",
            }));
        }
        if let (Some(i), Some(agent)) = (call.interaction, call.forks[n].agent.clone()) {
            self.shared.distributor.send(acd::Event::OfferAccepted {
                interaction: acd::InteractionId(i),
                agent,
            });
        }
        self.shared.metrics.call_answered();
        if !call.local_answer {
            // Locally answered calls are checked from their local answer on.
            self.start_media_checks(now, call.id);
        }
    }

    /// Send the B leg's ACK for its 2xx, with an SDP answer when the offer was late.
    pub(super) fn ack_b(&mut self, call: &mut Call, n: usize, sdp: Vec<u8>) {
        let Some(b) = call.b.as_ref() else { return };
        let target = b.target;
        let (host, tok) = self.via_host(target.transport);
        let mut ack = b.request_with_cseq(Method::Ack, b.local_cseq, &host, tok);
        if !sdp.is_empty() {
            ack.headers.push("Content-Type", "application/sdp");
            ack.body = sdp;
        }
        let bytes = ack.to_bytes();
        self.layer.send_stateless_bytes(bytes.clone(), target);
        call.forks[n].ack = Some((bytes, target));
        call.b_ack_deferred = false;
    }

    /// A final failure on fork `n`; when every fork has failed, answer the caller.
    pub(super) fn fork_final(&mut self, now: Instant, id: u64, n: usize, code: u16) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if let Some(f) = call.forks.get_mut(n) {
            if f.final_code.is_none() {
                f.final_code = Some(code);
            }
        }
        if call.local_answer {
            return self.local_fork_failed(now, id, n);
        }
        if call.winner.is_some() || call.forks.iter().any(|f| f.final_code.is_none()) {
            return;
        }
        let codes: Vec<u16> = call.forks.iter().filter_map(|f| f.final_code).collect();
        let code = best_failure(&codes);
        let (tx, req) = (call.a_invite_tx, call.a_invite.clone());
        let tag = call.a.local_tag.clone();
        let mut resp = req.response(code, None, Some(&tag));
        resp.headers
            .push("Server", self.config().sip.user_agent.clone());
        self.layer.respond(now, tx, resp);
        self.finish(now, id, cause_of(code), "callee", code);
    }

    /// A fork of a locally answered call failed: when it was the last one ringing an agent,
    /// the agent refused or missed the offer (RONA); when the overflow target is out of
    /// reach, the caller is released.
    fn local_fork_failed(&mut self, now: Instant, id: u64, n: usize) {
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        if call.winner.is_some() {
            return;
        }
        let Some(fork) = call.forks.get(n) else {
            return;
        };
        let agent = fork.agent.clone();
        let cancelled = fork.cancelled;
        let group_done = call
            .forks
            .iter()
            .filter(|f| f.agent == agent)
            .all(|f| f.final_code.is_some());
        if !group_done || cancelled {
            return;
        }
        match (agent, call.interaction) {
            (Some(agent), Some(i)) => self.shared.distributor.send(acd::Event::OfferRejected {
                interaction: acd::InteractionId(i),
                agent,
            }),
            _ => {
                let codes: Vec<u16> = call.forks.iter().filter_map(|f| f.final_code).collect();
                let code = best_failure(&codes);
                self.hangup_all(now, id, cause_of(code), "callee", code)
            }
        }
    }

    pub(super) fn ring_timeout(&mut self, now: Instant, id: u64) {
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        if call.outbound.is_some() && call.state != CallState::Answered {
            // Nobody answered an originated call in time (agent or contact).
            return self.hangup_all(now, id, "no_answer", "switch", 480);
        }
        let overflow_ringing = call.local_answer
            && call.state == CallState::Queued
            && call.interaction.is_none()
            && call
                .forks
                .iter()
                .any(|f| f.final_code.is_none() && !f.cancelled);
        if overflow_ringing {
            // A queue's overflow target did not answer in time: release the caller.
            return self.hangup_all(now, id, "no_answer", "switch", 480);
        }
        if call.state == CallState::Answered || call.local_answer {
            return;
        }
        let (tx, req, tag) = (
            call.a_invite_tx,
            call.a_invite.clone(),
            call.a.local_tag.clone(),
        );
        let forks: Vec<TxId> = call
            .forks
            .iter()
            .filter(|f| f.final_code.is_none())
            .filter_map(|f| f.tx)
            .collect();
        for t in forks {
            self.layer.cancel(now, t);
        }
        let resp = req.response(480, Some("No Answer"), Some(&tag));
        self.layer.respond(now, tx, resp);
        self.finish(now, id, "no_answer", "switch", 480);
    }

    /// The caller cancelled before an answer (RFC 3261 §9.2): 487 and cancel the forks.
    pub(super) fn on_cancel(&mut self, now: Instant, invite: TxId) {
        let Some(id) = self.invites.get(&invite).copied() else {
            return;
        };
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        if call.state == CallState::Answered || call.local_answer {
            return;
        }
        let (req, tag) = (call.a_invite.clone(), call.a.local_tag.clone());
        let forks: Vec<TxId> = call
            .forks
            .iter()
            .filter(|f| f.final_code.is_none())
            .filter_map(|f| f.tx)
            .collect();
        for t in forks {
            self.layer.cancel(now, t);
        }
        let resp = req.response(487, None, Some(&tag));
        self.layer.respond(now, invite, resp);
        self.finish(now, id, "cancelled", "caller", 487);
    }
}

/// The response a caller gets when every fork failed (after RFC 3261 §16.7 step 6): a 6xx
/// wins; else the lowest class, preferring a busy over other 4xx; 503 becomes 500 and a
/// callee's own challenge becomes 403 (its realm means nothing to the caller).
pub fn best_failure(codes: &[u16]) -> u16 {
    if let Some(c) = codes.iter().copied().find(|c| *c >= 600) {
        return c;
    }
    if codes.contains(&486) {
        return 486;
    }
    let c = codes.iter().copied().min().unwrap_or(500);
    match c {
        401 | 407 => 403,
        503 => 500,
        300..=399 => 480,
        c => c,
    }
}

/// CDR cause for a final status.
pub fn cause_of(code: u16) -> &'static str {
    match code {
        486 | 600 => "busy",
        404 | 604 => "not_found",
        480 => "unavailable",
        408 => "no_answer",
        487 => "cancelled",
        603 => "declined",
        _ => "failed",
    }
}
