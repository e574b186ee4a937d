//! Requests inside an established call: BYE from either side, and everything else
//! (re-INVITE for hold and retrieve, UPDATE, INFO, MESSAGE, NOTIFY, ...) relayed to the
//! other leg as a request of that leg's dialog, with SDP rewritten for the anchored media.

use super::call::{CallState, Side};
use super::{Engine, TxRole};
use sip::transaction::{Target, TxId};
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

impl Engine {
    pub(super) fn in_dialog(&mut self, now: Instant, id: u64, side: Side, tx: TxId, req: Request) {
        let Some(mut call) = self.calls.remove(&id) else {
            return self.reply(now, tx, &req, 481, None);
        };
        // Track the peer's CSeq (RFC 3261 §12.2.2): a lower one is out of order.
        let cseq = req.headers.cseq().map(|c| c.seq).unwrap_or(0);
        let established = call.dialog_mut(side).is_some();
        if let Some(d) = call.dialog_mut(side) {
            // A new request (retransmissions were absorbed by the transaction layer) must
            // carry a higher CSeq than the last one (RFC 3261 §12.2.2).
            if cseq <= d.remote_cseq && req.method != Method::Ack {
                self.calls.insert(id, call);
                return self.reply(now, tx, &req, 500, Some("CSeq Out of Order"));
            }
            d.remote_cseq = d.remote_cseq.max(cseq);
        }
        match req.method {
            Method::Bye if call.state == CallState::Queued => {
                // The caller left while waiting (abandoned) or while an overflow rang.
                self.reply(now, tx, &req, 200, None);
                self.cancel_forks(now, &mut call, |_| true);
                let cause = if call.interaction.is_some() {
                    "abandoned"
                } else {
                    "normal"
                };
                self.calls.insert(id, call);
                self.finish(now, id, cause, side.hangup_name(), 200);
            }
            Method::Invite | Method::Update
                if call.state == CallState::Queued && side == Side::A =>
            {
                // The switch is the caller's peer while it waits: answer here.
                if let Some(m) = call.media.as_ref() {
                    if !req.body.is_empty() {
                        let _ = self.rewrite_sdp(m, Side::A, &req.body);
                    }
                }
                self.refresh_session(now, &mut call);
                let mut resp = req.response(200, None, None);
                resp.headers
                    .push("Contact", self.contact_header(call.a.target.transport));
                self.add_session_headers(&call, &mut resp);
                if req.method == Method::Invite {
                    resp.headers.push("Content-Type", "application/sdp");
                    resp.body = call.sdp_to_a.clone();
                }
                self.layer.respond(now, tx, resp);
                self.calls.insert(id, call);
            }
            Method::Info if call.state == CallState::Queued => {
                self.reply(now, tx, &req, 200, None);
                self.calls.insert(id, call);
            }
            Method::Bye => {
                self.reply(now, tx, &req, 200, None);
                if call.state == CallState::Answered {
                    self.send_bye(now, &mut call, side.other());
                    self.calls.insert(id, call);
                    self.finish(now, id, "normal", side.hangup_name(), 200);
                } else {
                    // A BYE before the call is answered: the caller gave up.
                    self.calls.insert(id, call);
                    self.hangup_all(now, id, "cancelled", side.hangup_name(), 487);
                }
            }
            _ if !established || call.state != CallState::Answered => {
                self.calls.insert(id, call);
                self.reply(now, tx, &req, 491, Some("Request Pending"));
            }
            Method::Invite | Method::Update
                if side == Side::A && req.body.is_empty() && call.session_interval.is_some() =>
            {
                // A session refresh without an offer: answer it here (RFC 4028 §10) so a
                // callee without UPDATE or late-offer support never sees it.
                self.refresh_session(now, &mut call);
                let mut resp = req.response(200, None, None);
                resp.headers
                    .push("Contact", self.contact_header(call.a.target.transport));
                self.add_session_headers(&call, &mut resp);
                if req.method == Method::Invite && !call.sdp_to_a.is_empty() {
                    resp.headers.push("Content-Type", "application/sdp");
                    resp.body = call.sdp_to_a.clone();
                }
                self.layer.respond(now, tx, resp);
                self.calls.insert(id, call);
            }
            _ => {
                if side == Side::A && matches!(req.method, Method::Invite | Method::Update) {
                    self.refresh_session(now, &mut call);
                }
                self.relay(now, &mut call, side, tx, req);
                self.calls.insert(id, call);
            }
        }
    }

    fn relay(
        &mut self,
        now: Instant,
        call: &mut super::call::Call,
        from: Side,
        tx: TxId,
        req: Request,
    ) {
        let to = from.other();
        let mut body = req.body.clone();
        let is_sdp = req
            .headers
            .get("Content-Type")
            .is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("application/sdp"));
        if is_sdp && !body.is_empty() {
            if let Some(m) = call.media.as_ref() {
                match self.rewrite_sdp(m, from, &body) {
                    Some(b) => body = b,
                    None => return self.reply(now, tx, &req, 488, Some("Bad SDP")),
                }
            }
            self.note_hold(call, &req.body);
        }
        let transport = match call.dialog_mut(to) {
            Some(d) => d.target.transport,
            None => return self.reply(now, tx, &req, 481, None),
        };
        let (host, tok) = self.via_host(transport);
        let contact = self.contact_header(transport);
        let Some(d) = call.dialog_mut(to) else { return };
        let target = d.target;
        let mut out = d.request(req.method.clone(), &host, tok);
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
                    .insert(ctx, (call.id, TxRole::Relay { server: tx, from }));
                call.txs.push(ctx);
            }
            None => self.reply(now, tx, &req, 500, None),
        }
    }

    /// An ACK outside any transaction: the caller's ACK of our 2xx. With a late offer it
    /// carries the SDP answer the callee is waiting for.
    pub(super) fn on_ack(&mut self, _now: Instant, req: Request, _source: Target) {
        let Some(tag) = req
            .headers
            .to()
            .ok()
            .and_then(|t| t.tag().map(str::to_string))
        else {
            return;
        };
        let key = (req.headers.call_id().unwrap_or_default().to_string(), tag);
        let Some((id, side)) = self.dialogs.get(&key).copied() else {
            return;
        };
        let Some(mut call) = self.calls.remove(&id) else {
            return;
        };
        if let Some((to, seq, client)) = call.pending_ack {
            if to == side.other() {
                // The answer to the other leg's offer (a re-INVITE without SDP): rewrite it
                // and send the ACK that was waiting for it.
                call.pending_ack = None;
                let mut sdp = Vec::new();
                if !req.body.is_empty() {
                    if let Some(m) = call.media.as_ref() {
                        sdp = self.rewrite_sdp(m, side, &req.body).unwrap_or_default();
                    }
                }
                if let Some(d) = call.dialog_mut(to) {
                    let target = d.target;
                    let (host, tok) = self.via_host(target.transport);
                    if let Some(d) = call.dialog_mut(to) {
                        let mut ack = d.request_with_cseq(Method::Ack, seq, &host, tok);
                        if !sdp.is_empty() {
                            ack.headers.push("Content-Type", "application/sdp");
                            ack.body = sdp;
                        }
                        let bytes = ack.to_bytes();
                        self.layer.send_stateless_bytes(bytes.clone(), target);
                        self.reinvite_acks.insert(client, (bytes, target));
                    }
                }
                self.calls.insert(id, call);
                return;
            }
        }
        if side != Side::A {
            self.calls.insert(id, call);
            return;
        }
        if call.local_answer && call.state == CallState::Queued && !req.body.is_empty() {
            // Late offer: the caller's answer to the SDP in our 200.
            if let Some(m) = call.media.as_ref() {
                let _ = self.rewrite_sdp(m, Side::A, &req.body);
            }
        }
        if call.b_ack_deferred {
            let mut sdp = Vec::new();
            if !req.body.is_empty() {
                if let Some(m) = call.media.as_ref() {
                    sdp = self.rewrite_sdp(m, Side::A, &req.body).unwrap_or_default();
                }
            }
            if let Some(n) = call.winner {
                self.ack_b(&mut call, n, sdp);
            }
        }
        self.calls.insert(id, call);
    }

    pub(super) fn on_response(&mut self, now: Instant, tx: TxId, resp: Response) {
        let Some((id, role)) = self.tx_owner.get(&tx).copied() else {
            // A relayed re-INVITE's 2xx again: our ACK was lost, send it again.
            if (200..300).contains(&resp.code) {
                if let Some((ack, target)) = self.reinvite_acks.get(&tx).cloned() {
                    self.layer.send_stateless_bytes(ack, target);
                }
            }
            return;
        };
        if resp.code >= 200 && !matches!(role, TxRole::Fork(_) | TxRole::AgentLeg(_)) {
            self.tx_owner.remove(&tx);
        }
        match role {
            TxRole::Fork(n) => self.fork_response(now, id, n, resp),
            TxRole::AgentLeg(n) => self.agent_leg_response(now, id, n, resp),
            TxRole::Relay { server, from } => self.relay_response(now, id, tx, server, from, resp),
            TxRole::Fire => {}
            TxRole::Orphan => {
                if resp.code >= 200 {
                    if let Some((request, target)) = self.orphans.remove(&tx) {
                        if resp.code < 300 {
                            self.release_late_answer(now, id, &request, &resp, target);
                        }
                    }
                }
            }
        }
    }

    /// The other leg answered a relayed request: answer the original the same way.
    fn relay_response(
        &mut self,
        now: Instant,
        id: u64,
        client: TxId,
        server: TxId,
        from: Side,
        resp: Response,
    ) {
        if resp.code < 200 {
            return;
        }
        let Some(mut call) = self.calls.remove(&id) else {
            return;
        };
        let to = from.other();
        let cseq = resp.headers.cseq().ok();
        let is_invite = cseq.as_ref().is_some_and(|c| c.method == Method::Invite);
        let mut body = Vec::new();
        let is_sdp = resp
            .headers
            .get("Content-Type")
            .is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("application/sdp"));
        if is_sdp && !resp.body.is_empty() {
            if let Some(m) = call.media.as_ref() {
                body = self.rewrite_sdp(m, to, &resp.body).unwrap_or_default();
            }
        }
        // A re-INVITE without SDP asked the other leg for an offer: its answer comes in the
        // ACK of the leg that asked, so our ACK to this leg waits for it (RFC 3264).
        let late_offer = is_invite
            && resp.code < 300
            && !resp.body.is_empty()
            && self
                .layer
                .server_request(server)
                .is_some_and(|r| r.body.is_empty());
        if late_offer {
            let seq = cseq.as_ref().map_or(0, |c| c.seq);
            if let Some(d) = call.dialog_mut(to) {
                if let Some(t) = resp
                    .headers
                    .to()
                    .ok()
                    .and_then(|t| t.tag().map(str::to_string))
                {
                    d.remote_tag = t;
                }
            }
            call.pending_ack = Some((to, seq, client));
        } else if is_invite && resp.code < 300 {
            // ACK the re-INVITE's 2xx on that leg ourselves (hop-by-hop in a B2BUA).
            if let Some(d) = call.dialog_mut(to) {
                if let Some(t) = resp
                    .headers
                    .to()
                    .ok()
                    .and_then(|t| t.tag().map(str::to_string))
                {
                    d.remote_tag = t;
                }
                let target = d.target;
                let (host, tok) = self.via_host(target.transport);
                if let Some(d) = call.dialog_mut(to) {
                    let seq = cseq.as_ref().map_or(d.local_cseq, |c| c.seq);
                    let ack = d.request_with_cseq(Method::Ack, seq, &host, tok).to_bytes();
                    self.layer.send_stateless_bytes(ack.clone(), target);
                    self.reinvite_acks.insert(client, (ack, target));
                }
            }
        }
        let contact = self.contact_header(match call.dialog_mut(from) {
            Some(d) => d.target.transport,
            None => sip::transaction::TransportKind::Udp,
        });
        if let Some(req) = self.layer.server_request(server).cloned() {
            let mut out = req.response(resp.code, Some(&resp.reason), None);
            if is_invite && resp.code < 300 {
                out.headers.push("Contact", contact);
            }
            if from == Side::A
                && resp.code < 300
                && matches!(req.method, Method::Invite | Method::Update)
            {
                self.add_session_headers(&call, &mut out);
            }
            if !body.is_empty() {
                out.headers.push("Content-Type", "application/sdp");
                if from == Side::A {
                    call.sdp_to_a = body.clone();
                }
                out.body = body;
            } else if !is_sdp && !resp.body.is_empty() {
                if let Some(ct) = resp.headers.get("Content-Type") {
                    out.headers.push("Content-Type", ct);
                }
                out.body = resp.body.clone();
            }
            self.layer.respond(now, server, out);
        }
        self.calls.insert(id, call);
    }

    /// A re-offer that holds (sendonly/inactive) or resumes the call: tell the agent's
    /// event stream for calls the switch placed.
    fn note_hold(&self, call: &super::call::Call, sdp: &[u8]) {
        let Some(out) = &call.outbound else {
            return;
        };
        let held = std::str::from_utf8(sdp)
            .ok()
            .and_then(|t| media::sdp::parse(t).ok())
            .and_then(|sd| sd.media.first().map(|m| m.is_hold()));
        if let Some(held) = held {
            out.send(super::OriginationEvent::Held {
                attempt: out.attempt,
                held,
            });
            self.shared.distributor.publish(serde_json::json!({
                "type": "call", "agent": out.agent, "attempt": out.attempt,
                "number": out.number, "state": if held { "on_hold" } else { "resumed" },
            }));
        }
    }

    fn add_session_headers(&self, call: &super::call::Call, resp: &mut Response) {
        if let Some(n) = call.session_interval {
            resp.headers
                .push("Session-Expires", format!("{n};refresher=uac"));
            resp.headers.push("Require", "timer");
        }
    }

    pub(super) fn relay_failed(&mut self, now: Instant, _id: u64, server: TxId, _from: Side) {
        if let Some(req) = self.layer.server_request(server).cloned() {
            self.reply(now, server, &req, 408, None);
        }
    }
}
