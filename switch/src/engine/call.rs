//! A B2BUA call: the caller's leg (A), the forks of the callee's leg (B) until one answers,
//! the anchored media session, and everything its CDR needs.

use super::dialog::Dialog;
use super::{CallTimer, Engine, TxRole};
use media::{MediaSession, Side as MediaSide};
use serde::Serialize;
use sip::transaction::{new_branch, Target, TxId};
use sip::{Headers, Method, NameAddr, Request, Uri};
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

pub(super) fn has_sdp(body: &[u8], headers: &Headers) -> bool {
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
}
