//! Requests inside a session's dialogs: BYE from either side, what the switch answers
//! itself while it holds the first party (queue, feature code), hold and retrieve
//! re-offers (answered here, `hold`), and everything else (re-INVITE, UPDATE, INFO,
//! MESSAGE, NOTIFY, ...) relayed to the peer leg as a request of that leg's dialog, with
//! SDP rewritten for the relay.

use super::hangup::add_session_headers;
use super::sdp::is_sdp;
use super::session::{LegId, LegState, Negotiation, Phase, Session};
use super::{Cx, OriginationEvent, TxRole};
use crate::records::{Cause, HangupSide};
use sip::transaction::{TransportKind, TxId};
use sip::{Method, Request, Response};
use std::time::Instant;

/// Headers copied from a relayed in-dialog request to its twin on the other leg.
const RELAYED_HEADERS: &[&str] = &[
    "Content-Type",
    "Content-Disposition",
    "Event",
    "Subscription-State",
    "Info-Package",
    "Refer-To",
    "Referred-By",
    "Reason",
    "Subject",
];

/// Who hangs up when `leg` sends a BYE: the first party (caller, or the agent of an
/// originated call) or the other.
fn side_of(leg: LegId) -> HangupSide {
    if leg.0 == 0 {
        HangupSide::Caller
    } else {
        HangupSide::Callee
    }
}

/// The session's leg a request from a peer belongs to (by Call-ID and both tags).
fn leg_of_request(s: &Session, req: &Request) -> Option<LegId> {
    let call_id = req.headers.call_id().unwrap_or_default();
    let ours = super::to_tag(&req.headers).unwrap_or_default();
    let theirs = req
        .headers
        .from()
        .ok()
        .and_then(|f| f.tag().map(str::to_string))
        .unwrap_or_default();
    s.leg_of(call_id, &ours, &theirs)
}

impl Cx {
    pub(super) fn in_dialog(&mut self, now: Instant, s: &mut Session, tx: TxId, req: Request) {
        let Some(leg) = leg_of_request(s, &req) else {
            return self.reply(now, tx, &req, 481, None);
        };
        // A new request (retransmissions were absorbed by the transaction layer) must carry
        // a higher CSeq than the last one (RFC 3261 §12.2.2).
        let cseq = req.headers.cseq().map(|c| c.seq).unwrap_or(0);
        if let Some(d) = s.leg_mut(leg).dialog.as_mut() {
            if cseq <= d.remote_cseq && req.method != Method::Ack {
                return self.reply(now, tx, &req, 500, Some("CSeq Out of Order"));
            }
            d.remote_cseq = d.remote_cseq.max(cseq);
        }
        let side = side_of(leg);
        let held_by_us = s.answered_locally();
        match req.method {
            Method::Bye if held_by_us => {
                // The caller left while waiting (abandoned), while an overflow rang, or
                // during a feature code's confirmation; or an originated call's agent left
                // while the contact rang.
                self.reply(now, tx, &req, 200, None);
                let pending: Vec<LegId> = s.pending_legs().collect();
                self.cancel_legs(now, s, &pending);
                let (cause, status) = if s.interaction().is_some() {
                    (Cause::Abandoned, 200)
                } else if s.outbound.is_some() {
                    // An originated call's agent gave up before the contact answered: no
                    // conversation, so no 200 for the dialer.
                    (Cause::Cancelled, 487)
                } else {
                    (Cause::Normal, 200)
                };
                self.end(s, cause, side, status);
            }
            Method::Invite | Method::Update if held_by_us && leg.0 == 0 => {
                // The switch is the first party's peer while it holds it: answer here.
                if !req.body.is_empty() {
                    self.learn_sdp(s, s.legs[0].side(), &req.body);
                }
                self.refresh_session(now, s);
                self.answer_refresh(now, s, tx, &req, req.method == Method::Invite);
            }
            Method::Info if held_by_us => {
                self.reply(now, tx, &req, 200, None);
                let dtmf = req
                    .headers
                    .get("Content-Type")
                    .is_some_and(|t| t.to_ascii_lowercase().starts_with("application/dtmf-relay"));
                if let Some(digit) = dtmf
                    .then(|| super::voicemail::info_digit(&req.body))
                    .flatten()
                {
                    self.voicemail_digit(now, s, digit);
                }
            }
            Method::Bye if matches!(s.phase, Phase::Transferring { referrer, .. } if referrer == leg) => {
                self.referrer_left(now, s, tx, &req)
            }
            // A leg the switch already released (a transferor whose BYE crossed ours): it is
            // not in the call any more, so its BYE ends nothing.
            Method::Bye if matches!(s.leg(leg).state, LegState::Failed { .. }) => {
                self.reply(now, tx, &req, 200, None)
            }
            Method::Bye if Self::is_supervisor(s, leg) => {
                self.supervisor_left(now, s, leg, tx, &req)
            }
            _ if Self::is_supervisor(s, leg) => self.party_request(now, s, leg, tx, req),
            Method::Bye if matches!(s.phase, Phase::Consulting(_) | Phase::Conference(_)) => {
                self.bye_in_party(now, s, leg, tx, &req)
            }
            _ if matches!(s.phase, Phase::Consulting(_) | Phase::Conference(_)) => {
                self.party_request(now, s, leg, tx, req)
            }
            Method::Bye => {
                self.reply(now, tx, &req, 200, None);
                match s.peer_of(leg) {
                    Some(peer) => {
                        self.send_bye(now, s, peer);
                        self.bye_others(now, s, &[leg, peer]);
                        self.end(s, Cause::Normal, side, 200);
                    }
                    // A BYE before the call is answered: the caller gave up.
                    None => self.hangup_all(now, s, Cause::Cancelled, side, 487),
                }
            }
            _ if s.peer_of(leg).is_none() => {
                self.reply(now, tx, &req, 491, Some("Request Pending"))
            }
            Method::Invite if self.is_hold_change(s, leg, &req) => {
                self.hold_or_retrieve(now, s, leg, tx, req)
            }
            Method::Refer => self.refer(now, s, leg, tx, req),
            _ if matches!(s.phase, Phase::Transferring { .. }) => {
                self.reply(now, tx, &req, 491, Some("Request Pending"))
            }
            Method::Invite | Method::Update
                if leg.0 == 0 && req.body.is_empty() && s.timer.is_some() =>
            {
                // A session refresh without an offer: answer it here (RFC 4028 §10) so a
                // callee without UPDATE or late-offer support never sees it.
                self.refresh_session(now, s);
                let with_sdp = req.method == Method::Invite && !s.sdp_to_a.is_empty();
                self.answer_refresh(now, s, tx, &req, with_sdp);
            }
            _ => {
                if leg.0 == 0 && matches!(req.method, Method::Invite | Method::Update) {
                    self.refresh_session(now, s);
                }
                self.relay(now, s, leg, tx, req);
            }
        }
    }

    /// 200 to a first party's refresh the switch answers itself, with our last SDP.
    fn answer_refresh(&mut self, now: Instant, s: &Session, tx: TxId, req: &Request, sdp: bool) {
        let mut resp = req.response(200, None, None);
        let transport = s.a().map_or(TransportKind::Udp, |a| a.target.transport);
        resp.headers.push("Contact", self.contact_header(transport));
        add_session_headers(s, &mut resp);
        if sdp {
            resp.headers.push("Content-Type", "application/sdp");
            resp.body = s.sdp_to_a.clone();
        }
        self.layer.respond(now, tx, resp);
    }

    /// Relay `req` from `from` to its peer leg as a request of the peer's dialog.
    fn relay(&mut self, now: Instant, s: &mut Session, from: LegId, tx: TxId, req: Request) {
        let Some(to) = s.peer_of(from) else {
            return self.reply(now, tx, &req, 481, None);
        };
        let mut body = req.body.clone();
        if is_sdp(&req.headers)
            && !body.is_empty()
            && (Self::is_webrtc_leg(s, from) || Self::is_webrtc_leg(s, to))
        {
            return self.webrtc_reoffer(now, s, from, tx, req);
        }
        if is_sdp(&req.headers) && !body.is_empty() {
            match self.rewrite_sdp(s, s.leg(from).side(), s.leg(to).side(), &body) {
                Some(b) => body = b,
                None => return self.reply(now, tx, &req, 488, Some("Bad SDP")),
            }
            self.note_hold(s, &req.body);
        }
        let Some(transport) = s.leg(to).dialog.as_ref().map(|d| d.target.transport) else {
            return self.reply(now, tx, &req, 481, None);
        };
        let via = self.via(transport);
        let contact = self.contact_header(transport);
        let Some(d) = s.leg_mut(to).dialog.as_mut() else {
            return;
        };
        let target = d.target;
        let mut out = d.request(req.method.clone(), &via);
        for name in RELAYED_HEADERS {
            for v in req.headers.get_all(name) {
                out.headers.push(name, v);
            }
        }
        if matches!(
            req.method,
            Method::Invite | Method::Update | Method::Refer | Method::Subscribe
        ) {
            out.headers.push("Contact", contact);
        }
        out.body = body;
        match self.send_request(now, out, target) {
            Some(ctx) => {
                self.tx_owner
                    .insert(ctx, (s.id, TxRole::Relay { server: tx, from }));
                s.txs.push(ctx);
            }
            None => self.reply(now, tx, &req, 500, None),
        }
    }

    /// The ACK of our 2xx on one of the session's legs. With a late offer it carries the
    /// answer the peer leg's ACK waits for.
    pub(super) fn on_ack(&mut self, s: &mut Session, req: Request) {
        let Some(leg) = leg_of_request(s, &req) else {
            return;
        };
        if let Some(peer) = s.peer_of(leg) {
            if let Negotiation::AckAwaitsAnswer { cseq, client } = s.leg(peer).negotiation {
                // The answer to the peer's offer: rewrite it and send the ACK waiting for it.
                let sdp = if req.body.is_empty() {
                    Vec::new()
                } else {
                    self.rewrite_sdp(s, s.leg(leg).side(), s.leg(peer).side(), &req.body)
                        .unwrap_or_default()
                };
                s.leg_mut(leg).negotiation = Negotiation::Stable;
                match client {
                    None => self.ack_leg(s, peer, sdp),
                    Some(client) => {
                        let Some(d) = s.leg(peer).dialog.as_ref() else {
                            return;
                        };
                        let target = d.target;
                        let via = self.via(target.transport);
                        let mut ack = d.request_with_cseq(Method::Ack, cseq, &via);
                        if !sdp.is_empty() {
                            ack.headers.push("Content-Type", "application/sdp");
                            ack.body = sdp;
                        }
                        let bytes = ack.to_bytes();
                        self.layer.send_stateless_bytes(bytes.clone(), target);
                        self.reinvite_acks.insert(client, (bytes, target));
                        s.leg_mut(peer).negotiation = Negotiation::Stable;
                    }
                }
                return;
            }
        }
        if leg.0 == 0 && s.legs[0].negotiation == Negotiation::OfferInAnswer {
            // The caller's answer to the SDP of the 200 the switch sent it itself.
            if !req.body.is_empty() && s.answered_locally() {
                self.learn_sdp(s, s.legs[0].side(), &req.body);
            }
            s.legs[0].negotiation = Negotiation::Stable;
        }
    }

    /// The peer leg answered a relayed request: answer the original the same way.
    pub(super) fn relay_response(
        &mut self,
        now: Instant,
        s: &mut Session,
        client: TxId,
        server: TxId,
        from: LegId,
        resp: Response,
    ) {
        let Some(to) = s.peer_of(from) else {
            return;
        };
        let cseq = resp.headers.cseq().ok();
        let is_invite = cseq.as_ref().is_some_and(|c| c.method == Method::Invite);
        let sdp = is_sdp(&resp.headers);
        let mut body = Vec::new();
        if sdp && !resp.body.is_empty() {
            body = self
                .rewrite_sdp(s, s.leg(to).side(), s.leg(from).side(), &resp.body)
                .unwrap_or_default();
        }
        let their_tag = super::to_tag(&resp.headers);
        if is_invite && resp.code < 300 {
            if let (Some(d), Some(t)) = (s.leg_mut(to).dialog.as_mut(), their_tag) {
                d.remote_tag = t;
            }
        }
        // A re-INVITE without SDP asked the peer for an offer: its answer comes in the ACK
        // of the leg that asked, so our ACK to the peer waits for it (RFC 3264).
        let late_offer = is_invite
            && resp.code < 300
            && !resp.body.is_empty()
            && self
                .layer
                .server_request(server)
                .is_some_and(|r| r.body.is_empty());
        if late_offer {
            let seq = cseq.as_ref().map_or(0, |c| c.seq);
            s.leg_mut(to).negotiation = Negotiation::AckAwaitsAnswer {
                cseq: seq,
                client: Some(client),
            };
        } else if is_invite && resp.code < 300 {
            // ACK the re-INVITE's 2xx on that leg ourselves (hop-by-hop in a B2BUA).
            if let Some(d) = s.leg(to).dialog.as_ref() {
                let target = d.target;
                let via = self.via(target.transport);
                let seq = cseq.as_ref().map_or(d.local_cseq, |c| c.seq);
                let ack = d.request_with_cseq(Method::Ack, seq, &via).to_bytes();
                self.layer.send_stateless_bytes(ack.clone(), target);
                self.reinvite_acks.insert(client, (ack, target));
            }
        }
        let transport = s
            .leg(from)
            .dialog
            .as_ref()
            .map_or(TransportKind::Udp, |d| d.target.transport);
        let contact = self.contact_header(transport);
        if let Some(req) = self.layer.server_request(server).cloned() {
            let mut out = req.response(resp.code, Some(&resp.reason), None);
            if is_invite && resp.code < 300 {
                out.headers.push("Contact", contact);
            }
            if from.0 == 0
                && resp.code < 300
                && matches!(req.method, Method::Invite | Method::Update)
            {
                add_session_headers(s, &mut out);
            }
            if !body.is_empty() {
                out.headers.push("Content-Type", "application/sdp");
                if from.0 == 0 {
                    s.sdp_to_a = body.clone();
                }
                out.body = body;
            } else if !sdp && !resp.body.is_empty() {
                if let Some(ct) = resp.headers.get("Content-Type") {
                    out.headers.push("Content-Type", ct);
                }
                out.body = resp.body.clone();
            }
            self.layer.respond(now, server, out);
        }
    }

    /// A re-offer that holds (sendonly/inactive) or resumes the call: tell the agent's
    /// event stream for calls the switch placed.
    pub(super) fn note_hold(&mut self, s: &Session, sdp: &[u8]) {
        let Some(out) = &s.outbound else {
            return;
        };
        if let Some(held) = super::sdp::holds(sdp) {
            let (agent, attempt, number) = (out.agent.clone(), out.attempt, out.number.clone());
            self.report(OriginationEvent::Held { attempt, held });
            let state = if held { "on_hold" } else { "resumed" };
            self.publish_call(&agent, attempt, &number, state, None);
        }
    }
}
