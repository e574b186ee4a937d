//! A B2BUA call: the caller's leg (A), the forks of the callee's leg (B) until one answers,
//! the anchored media session, and everything its CDR needs.

use super::dialog::Dialog;
use super::{CallTimer, Engine, TxRole, MEDIA_CHECK_EVERY};
use crate::store::Cdr;
use media::{MediaSession, Side as MediaSide};
use serde::Serialize;
use sip::transaction::{new_branch, Target, TxId};
use sip::{Headers, Method, NameAddr, Request, Response, Uri};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    A,
    B,
}

impl Side {
    pub fn other(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }

    pub fn media(self) -> MediaSide {
        match self {
            Side::A => MediaSide::A,
            Side::B => MediaSide::B,
        }
    }

    pub fn hangup_name(self) -> &'static str {
        match self {
            Side::A => "caller",
            Side::B => "callee",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallState {
    Routing,
    Early,
    Answered,
}

pub struct Fork {
    pub tx: Option<TxId>,
    pub request: Request,
    pub target: Target,
    pub final_code: Option<u16>,
    /// Our ACK for this fork's 2xx, repeated when the 2xx is.
    pub ack: Option<(Vec<u8>, Target)>,
}

pub struct Call {
    pub id: u64,
    pub state: CallState,
    pub a: Dialog,
    pub a_invite_tx: TxId,
    pub a_invite: Request,
    /// The caller's INVITE carried an SDP offer (else the offer comes in the 2xx and the
    /// answer in the caller's ACK).
    pub a_offer: bool,
    pub b_call_id: String,
    pub b_tag: String,
    pub forks: Vec<Fork>,
    pub b: Option<Dialog>,
    /// The winning fork, once answered.
    pub winner: Option<usize>,
    /// The B-leg ACK waits for the caller's ACK (late offer).
    pub b_ack_deferred: bool,
    pub early_media: bool,
    pub media: Option<MediaSession>,
    pub from_uri: String,
    pub to_uri: String,
    pub from_user: String,
    pub to_user: String,
    pub started: Instant,
    pub start_ms: i64,
    pub answered: Option<(Instant, i64)>,
    pub txs: Vec<TxId>,
    /// RFC 4028 interval agreed with the caller (the caller refreshes; we police it).
    pub session_interval: Option<u32>,
    pub session_deadline: Option<Instant>,
    /// The SDP we last sent the caller, to answer its body-less refreshes locally.
    pub sdp_to_a: Vec<u8>,
}

#[derive(Serialize)]
pub struct LegView {
    pub call_id: String,
    pub local_tag: String,
    pub remote_tag: String,
    pub remote: String,
    pub transport: &'static str,
    pub rtp_port: Option<u16>,
    pub packets_in: u64,
    pub packets_out: u64,
}

#[derive(Serialize)]
pub struct CallView {
    pub id: String,
    pub state: CallState,
    pub from: String,
    pub to: String,
    pub started_ms: i64,
    pub answered_ms: Option<i64>,
    pub legs: Vec<LegView>,
}

pub fn unix_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

pub fn new_tag() -> String {
    format!("{:012x}", rand::random::<u64>() & 0xffff_ffff_ffff)
}

fn has_sdp(body: &[u8], headers: &Headers) -> bool {
    !body.is_empty()
        && headers
            .get("Content-Type")
            .is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("application/sdp"))
}

impl Call {
    pub fn view(&self) -> CallView {
        let stats = self.media.as_ref().map(|m| m.stats());
        let leg = |d: &Dialog, side: Side| LegView {
            call_id: d.call_id.clone(),
            local_tag: d.local_tag.clone(),
            remote_tag: d.remote_tag.clone(),
            remote: d.target.addr.to_string(),
            transport: d.target.transport.via_token(),
            rtp_port: self.media.as_ref().map(|m| match side {
                Side::A => m.a_port(),
                Side::B => m.b_port(),
            }),
            packets_in: stats.as_ref().map_or(0, |s| match side {
                Side::A => s.a_to_b_packets,
                Side::B => s.b_to_a_packets,
            }),
            packets_out: stats.as_ref().map_or(0, |s| match side {
                Side::A => s.b_to_a_packets,
                Side::B => s.a_to_b_packets,
            }),
        };
        let mut legs = vec![leg(&self.a, Side::A)];
        if let Some(b) = &self.b {
            legs.push(leg(b, Side::B));
        }
        CallView {
            id: self.a.call_id.clone(),
            state: self.state,
            from: self.from_uri.clone(),
            to: self.to_uri.clone(),
            started_ms: self.start_ms,
            answered_ms: self.answered.map(|a| a.1),
            legs,
        }
    }

    pub fn dialog_mut(&mut self, side: Side) -> Option<&mut Dialog> {
        match side {
            Side::A => Some(&mut self.a),
            Side::B => self.b.as_mut(),
        }
    }
}

impl Engine {
    /// A new INVITE from a caller: authenticate, route, anchor media, fork to the callee.
    pub(super) fn new_call(&mut self, now: Instant, tx: TxId, req: Request, source: Target) {
        let Some(identity) = self.authenticate(now, tx, &req, source, true) else {
            return;
        };
        let from = match req.headers.from() {
            Ok(f) => f,
            Err(_) => return self.reply(now, tx, &req, 400, Some("Bad From")),
        };
        if let Some(user) = &identity {
            if from.uri.user_unescaped().as_deref() != Some(user.as_str()) {
                return self.reply(now, tx, &req, 403, Some("From does not match credentials"));
            }
        }
        let session_interval = match self.session_interval(&req) {
            Ok(i) => i,
            Err(min_se) => {
                let mut resp = req.response(422, None, Some(&new_tag()));
                resp.headers.push("Min-SE", min_se.to_string());
                return self.layer.respond(now, tx, resp);
            }
        };
        let max_forwards = req.headers.max_forwards().ok().flatten().unwrap_or(70);
        if max_forwards == 0 {
            return self.reply(now, tx, &req, 483, None);
        }
        let dn = req.uri.user_unescaped().unwrap_or_default();
        let config = self.shared.config.clone();
        if config.user(&dn).is_none() {
            return self.reply(now, tx, &req, 404, None);
        }
        let bindings = match self.shared.registrar.read() {
            Ok(r) => r.lookup(now, &dn),
            Err(_) => Vec::new(),
        };
        if bindings.is_empty() {
            return self.reply(now, tx, &req, 480, None);
        }
        let media = match self.shared.media.create_session() {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(%e, "no media ports");
                return self.reply(now, tx, &req, 503, Some("No Media Ports"));
            }
        };
        let a_offer = has_sdp(&req.body, &req.headers);
        let mut b_body = Vec::new();
        if a_offer {
            match self.rewrite_sdp(&media, Side::A, &req.body) {
                Some(body) => b_body = body,
                None => return self.reply(now, tx, &req, 488, Some("Bad SDP")),
            }
        }
        let a_tag = new_tag();
        let Some(a) = Dialog::uas(&req, &a_tag, source) else {
            return self.reply(now, tx, &req, 400, Some("Bad Dialog Headers"));
        };
        let id = self.new_call_id();
        let b_call_id = format!("ccs{:02x}-{:016x}", self.shard, rand::random::<u64>());
        let b_tag = new_tag();
        let to = req.headers.to().ok();
        let mut b_from = from.clone();
        b_from
            .params
            .retain(|(n, _)| !n.eq_ignore_ascii_case("tag"));
        b_from.set_param("tag", Some(b_tag.clone()));
        let mut b_to = to.clone().unwrap_or_else(|| NameAddr::new(req.uri.clone()));
        b_to.params.retain(|(n, _)| !n.eq_ignore_ascii_case("tag"));
        let mut forks = Vec::new();
        for binding in &bindings {
            let Ok(uri) = Uri::parse(&binding.contact) else {
                continue;
            };
            let (via_host, via_tok) = self.via_host(binding.target.transport);
            let mut h = Headers::new();
            h.push(
                "Via",
                format!("SIP/2.0/{via_tok} {via_host};branch={};rport", new_branch()),
            );
            h.push(
                "Max-Forwards",
                (max_forwards - 1)
                    .min(u32::from(config.sip.max_forwards))
                    .to_string(),
            );
            h.push("From", b_from.to_string());
            h.push("To", b_to.to_string());
            h.push("Call-ID", b_call_id.clone());
            h.push("CSeq", "1 INVITE");
            h.push("Contact", self.contact_header(binding.target.transport));
            h.push("Allow", super::ALLOW);
            h.push("User-Agent", config.sip.user_agent.clone());
            for name in ["Subject", "Alert-Info", "Call-Info", "Priority"] {
                for v in req.headers.get_all(name) {
                    h.push(name, v);
                }
            }
            if a_offer {
                h.push("Content-Type", "application/sdp");
            }
            forks.push(Fork {
                tx: None,
                request: Request {
                    method: Method::Invite,
                    uri,
                    headers: h,
                    body: b_body.clone(),
                },
                target: binding.target,
                final_code: None,
                ack: None,
            });
        }
        let to_uri = to.as_ref().map(|t| t.uri.to_string()).unwrap_or_default();
        let mut call = Call {
            id,
            state: CallState::Routing,
            a,
            a_invite_tx: tx,
            a_invite: req,
            a_offer,
            b_call_id: b_call_id.clone(),
            b_tag: b_tag.clone(),
            forks,
            b: None,
            winner: None,
            b_ack_deferred: false,
            early_media: false,
            media: Some(media),
            from_uri: from.uri.to_string(),
            to_uri,
            from_user: from.uri.user_unescaped().unwrap_or_default(),
            to_user: dn,
            started: now,
            start_ms: unix_ms(),
            answered: None,
            txs: Vec::new(),
            session_interval,
            session_deadline: None,
            sdp_to_a: Vec::new(),
        };
        for n in 0..call.forks.len() {
            let (req, target) = (call.forks[n].request.clone(), call.forks[n].target);
            if let Some(ftx) = self.send_request(now, req, target) {
                call.forks[n].tx = Some(ftx);
                call.txs.push(ftx);
                self.tx_owner.insert(ftx, (id, TxRole::Fork(n)));
            } else {
                call.forks[n].final_code = Some(503);
            }
        }
        self.dialogs
            .insert((call.a.call_id.clone(), a_tag), (id, Side::A));
        self.dialogs.insert((b_call_id, b_tag), (id, Side::B));
        self.invites.insert(tx, id);
        self.shared.metrics.call_started();
        let ring = self.config().sip.invite_timeout();
        self.schedule(now + ring, id, CallTimer::Ring);
        let all_failed = call.forks.iter().all(|f| f.final_code.is_some());
        self.calls.insert(id, call);
        if all_failed {
            self.fork_final(now, id, 0, 503);
        }
    }

    /// Rewrite an SDP body received from `from` for the other leg, learning `from`'s media
    /// address. `None` when the SDP does not parse.
    pub(super) fn rewrite_sdp(
        &self,
        media: &MediaSession,
        from: Side,
        body: &[u8],
    ) -> Option<Vec<u8>> {
        let text = std::str::from_utf8(body).ok()?;
        let sd = media::sdp::parse(text).ok()?;
        let endpoints = media::sdp::media_endpoints(&sd);
        media.set_remote(from.media(), endpoints.first().copied().flatten());
        let port = match from {
            Side::A => media.b_port(),
            Side::B => media.a_port(),
        };
        let mut ports = vec![0u16; endpoints.len().max(1)];
        ports[0] = port;
        media::sdp::rewrite(text, media.advertised_ip(), &ports)
            .ok()
            .map(String::into_bytes)
    }

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
            if call.state != CallState::Answered {
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
            Some(w) if w == n => {
                // A retransmitted 2xx: repeat our ACK.
                if let Some((ack, target)) = call.forks[n].ack.clone() {
                    self.layer.send_stateless_bytes(ack, target);
                }
            }
            Some(_) => {
                // Another fork answered too late: ACK and release it (RFC 3261 §13.2.2.4).
                let target = call.forks[n].target;
                if let Some(mut d) = Dialog::uac(&call.forks[n].request, &resp, target) {
                    let (host, tok) = self.via_host(target.transport);
                    let ack = d.request_with_cseq(Method::Ack, d.local_cseq, &host, tok);
                    self.layer
                        .send_stateless(&sip::Message::Request(ack), target);
                    let bye = d.request(Method::Bye, &host, tok);
                    if let Some(t) = self.send_request(now, bye, target) {
                        self.tx_owner.insert(t, (id, TxRole::Fire));
                        call.txs.push(t);
                    }
                }
            }
            None => self.answer(now, &mut call, n, resp),
        }
        self.calls.insert(id, call);
    }

    /// Fork `n` answered first: bridge it to the caller.
    fn answer(&mut self, now: Instant, call: &mut Call, n: usize, resp: Response) {
        let target = call.forks[n].target;
        let Some(b) = Dialog::uac(&call.forks[n].request, &resp, target) else {
            tracing::warn!("2xx without usable dialog headers");
            return;
        };
        call.winner = Some(n);
        call.state = CallState::Answered;
        call.answered = Some((now, unix_ms()));
        for (i, f) in call.forks.iter().enumerate() {
            if i != n && f.final_code.is_none() {
                if let Some(t) = f.tx {
                    self.layer.cancel(now, t);
                }
            }
        }
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
        if self.config().media.no_media_timeout().is_some() {
            self.schedule(now + MEDIA_CHECK_EVERY, call.id, CallTimer::Media);
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
        self.finish(id, cause_of(code), "callee", code);
    }

    pub(super) fn ring_timeout(&mut self, now: Instant, id: u64) {
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        if call.state == CallState::Answered {
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
        self.finish(id, "no_answer", "switch", 480);
    }

    /// The caller cancelled before an answer (RFC 3261 §9.2): 487 and cancel the forks.
    pub(super) fn on_cancel(&mut self, now: Instant, invite: TxId) {
        let Some(id) = self.invites.get(&invite).copied() else {
            return;
        };
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        if call.state == CallState::Answered {
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
        self.finish(id, "cancelled", "caller", 487);
    }

    /// End a call from the switch's side: BYE both answered legs, or fail a ringing call.
    pub(super) fn hangup_all(&mut self, now: Instant, id: u64, cause: &str, side: &str, code: u16) {
        let Some(mut call) = self.calls.remove(&id) else {
            return;
        };
        if call.state == CallState::Answered {
            for s in [Side::A, Side::B] {
                self.send_bye(now, &mut call, s);
            }
            self.calls.insert(id, call);
            self.finish(id, cause, side, 200);
        } else {
            for f in call.forks.iter().filter(|f| f.final_code.is_none()) {
                if let Some(t) = f.tx {
                    self.layer.cancel(now, t);
                }
            }
            let resp = call.a_invite.response(code, None, Some(&call.a.local_tag));
            self.layer.respond(now, call.a_invite_tx, resp);
            self.calls.insert(id, call);
            self.finish(id, cause, side, code);
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
    fn session_interval(&self, req: &Request) -> Result<Option<u32>, u32> {
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
        if cfg.session_expires == 0 || !req.headers.tokens("Supported").iter().any(|t| t == "timer")
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
            self.schedule(now + MEDIA_CHECK_EVERY, id, CallTimer::Media);
        }
    }

    /// Forget a call: indexes, media ports, and write its CDR.
    pub(super) fn finish(&mut self, id: u64, cause: &str, side: &str, status: u16) {
        let Some(call) = self.calls.remove(&id) else {
            return;
        };
        self.dialogs
            .remove(&(call.a.call_id.clone(), call.a.local_tag.clone()));
        self.dialogs
            .remove(&(call.b_call_id.clone(), call.b_tag.clone()));
        self.invites.remove(&call.a_invite_tx);
        for t in &call.txs {
            // BYEs still in flight keep their entry until answered; they are Fire-only.
            if !matches!(self.tx_owner.get(t), Some((_, TxRole::Fire))) {
                self.tx_owner.remove(t);
            }
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
            status: if call.answered.is_some() { 200 } else { status },
            cause: cause.to_string(),
            hangup_side: side.to_string(),
        };
        tracing::info!(call_id = %cdr.call_id, cause, side, "call ended");
        self.shared.cdrs.record(cdr);
        self.shared.metrics.call_ended();
        drop(call);
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
