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
    /// Answered by the switch (queue music, feature code), no B leg bridged.
    Queued,
    Answered,
}

pub struct Fork {
    pub tx: Option<TxId>,
    pub request: Request,
    pub target: Target,
    pub final_code: Option<u16>,
    /// Our ACK for this fork's 2xx, repeated when the 2xx is.
    pub ack: Option<(Vec<u8>, Target)>,
    /// The ACD agent this fork offers the call to.
    pub agent: Option<acd::AgentId>,
    /// We CANCELled it (the ACD withdrew the offer or another fork won).
    pub cancelled: bool,
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
    /// Our From tags on the B side: one per offer round, so a re-offer to the same phone
    /// is a new request and not a merged one (RFC 3261 §8.2.2.2).
    pub b_tags: Vec<String>,
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
    /// The switch answered the caller itself (queue, feature code): B-leg answers bridge
    /// without a 200 to the caller.
    pub local_answer: bool,
    /// The codec agreed with the caller for what the switch plays to it.
    pub codec: Option<media::Codec>,
    /// The ACD interaction this call is, for queue calls.
    pub interaction: Option<u64>,
    /// The welcome prompt was played.
    pub announced: bool,
    pub from_display: String,
    /// Set for calls the switch placed for an agent (preview dialer).
    pub outbound: Option<super::originate::Outbound>,
    /// A re-INVITE without SDP got an offer in its 2xx: our ACK to that leg (side, CSeq,
    /// client transaction) waits for the answer in the asking leg's ACK.
    pub pending_ack: Option<(Side, u32, TxId)>,
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

/// A one-stream G.711 SDP of ours: `codec` at `ip:port`, plus telephone-event `dtmf` when
/// given, sendrecv, 20 ms packets.
pub(super) fn audio_sdp(
    session: u64,
    ip: std::net::IpAddr,
    port: u16,
    codec: media::Codec,
    dtmf: Option<&str>,
) -> Vec<u8> {
    let family = if ip.is_ipv4() { "IP4" } else { "IP6" };
    let pt = codec.payload_type();
    let name = match codec {
        media::Codec::Pcmu { .. } => "PCMU",
        media::Codec::Pcma { .. } => "PCMA",
    };
    let mut sdp = format!(
        "v=0\r\no=ccswitch {session} 1 IN {family} {ip}\r\ns=ccswitch\r\nc=IN {family} {ip}\r\nt=0 0\r\n"
    );
    match dtmf {
        Some(d) => sdp.push_str(&format!(
            "m=audio {port} RTP/AVP {pt} {d}\r\na=rtpmap:{pt} {name}/8000\r\n\
             a=rtpmap:{d} telephone-event/8000\r\na=fmtp:{d} 0-16\r\n"
        )),
        None => sdp.push_str(&format!(
            "m=audio {port} RTP/AVP {pt}\r\na=rtpmap:{pt} {name}/8000\r\n"
        )),
    }
    sdp.push_str("a=ptime:20\r\na=sendrecv\r\n");
    sdp.into_bytes()
}

pub(super) fn has_sdp(body: &[u8], headers: &Headers) -> bool {
    !body.is_empty()
        && headers
            .get("Content-Type")
            .is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("application/sdp"))
}

impl Call {
    /// An originated call before the agent's phone answered: `a` is a placeholder until
    /// the agent's 2xx makes it the real A-leg dialog.
    #[allow(clippy::too_many_arguments)]
    pub fn outbound(
        id: u64,
        now: Instant,
        start_ms: i64,
        a: Dialog,
        a_invite: Request,
        media: MediaSession,
        outbound: super::originate::Outbound,
        o: &super::originate::Origination,
    ) -> Call {
        Call {
            id,
            state: CallState::Routing,
            b_call_id: format!("{}-b", a.call_id),
            b_tags: Vec::new(),
            a,
            // No server transaction: responses "to the caller" are no-ops for these calls.
            a_invite_tx: TxId(0),
            a_invite,
            a_offer: true,
            forks: Vec::new(),
            b: None,
            winner: None,
            b_ack_deferred: false,
            early_media: false,
            media: Some(media),
            from_uri: format!("sip:{}", o.extension),
            from_display: o.agent.clone(),
            to_uri: format!("sip:{}", o.number),
            from_user: o.extension.clone(),
            to_user: o.number.clone(),
            started: now,
            start_ms,
            answered: None,
            txs: Vec::new(),
            session_interval: None,
            session_deadline: None,
            sdp_to_a: Vec::new(),
            local_answer: false,
            codec: None,
            interaction: None,
            announced: true,
            outbound: Some(outbound),
            pending_ack: None,
        }
    }

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

/// Where a dialled number leads.
pub(super) enum Route {
    User(Vec<crate::registrar::Binding>),
    Queue,
    Feature(crate::distributor::Feature),
}

/// What a new call's B-leg INVITEs carry.
pub(super) struct ForkSpec<'a> {
    pub from: NameAddr,
    pub to: NameAddr,
    pub max_forwards: u32,
    pub body: &'a [u8],
    pub extra: Vec<(&'static str, String)>,
}

impl Engine {
    /// A new INVITE from a caller: authenticate, route, anchor media, fork to the callee
    /// (or answer it here for a queue or a feature code).
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
        let route = match self.route(now, &dn) {
            Ok(r) => r,
            Err(code) => return self.reply(now, tx, &req, code, None),
        };
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
        let Some(mut call) =
            self.make_call(now, tx, req, source, media, a_offer, dn, session_interval)
        else {
            return;
        };
        let bindings = match route {
            Route::User(b) => b,
            Route::Queue => return self.start_queue_call(now, call),
            Route::Feature(f) => return self.start_feature_call(now, call, f),
        };
        let mut b_from = from.clone();
        b_from
            .params
            .retain(|(n, _)| !n.eq_ignore_ascii_case("tag"));
        b_from.set_param("tag", Some(call.b_tags[0].clone()));
        let mut b_to = call
            .a_invite
            .headers
            .to()
            .unwrap_or_else(|_| NameAddr::new(call.a_invite.uri.clone()));
        b_to.params.retain(|(n, _)| !n.eq_ignore_ascii_case("tag"));
        let mut extra = Vec::new();
        for name in ["Subject", "Alert-Info", "Call-Info", "Priority"] {
            for v in call.a_invite.headers.get_all(name) {
                extra.push((name, v.to_string()));
            }
        }
        let spec = ForkSpec {
            from: b_from,
            to: b_to,
            max_forwards: max_forwards - 1,
            body: &b_body,
            extra,
        };
        self.add_forks(now, &mut call, &bindings, &spec, None);
        let id = call.id;
        let ring = self.config().sip.invite_timeout();
        self.schedule(now + ring, id, CallTimer::Ring);
        let all_failed = call.forks.iter().all(|f| f.final_code.is_some());
        self.calls.insert(id, call);
        if all_failed {
            self.fork_final(now, id, 0, 503);
        }
    }

    /// The dialplan: feature codes, then queues, then users. `Err` is the status to answer.
    pub(super) fn route(&self, now: Instant, dn: &str) -> Result<Route, u16> {
        let acd = &self.config().acd;
        let feature = if dn == acd.ready_code {
            Some(crate::distributor::Feature::Ready)
        } else if dn == acd.not_ready_code {
            Some(crate::distributor::Feature::NotReady)
        } else if dn == acd.logout_code {
            Some(crate::distributor::Feature::Logout)
        } else {
            None
        };
        if let Some(f) = feature {
            return Ok(Route::Feature(f));
        }
        if self.shared.distributor.is_queue(dn) {
            return Ok(Route::Queue);
        }
        if self.config().user(dn).is_none() {
            return self.trunk_route(dn).ok_or(404);
        }
        let bindings = match self.shared.registrar.read() {
            Ok(r) => r.lookup(now, dn),
            Err(_) => Vec::new(),
        };
        if bindings.is_empty() {
            return Err(480);
        }
        Ok(Route::User(bindings))
    }

    /// A number for a trunk: one binding, `sip:NUMBER@gateway`.
    pub(super) fn trunk_route(&self, number: &str) -> Option<Route> {
        let trunk = self.config().trunk_for(number)?;
        let transport = match trunk.transport {
            crate::config::Transport::Udp => sip::transaction::TransportKind::Udp,
            crate::config::Transport::Tcp => sip::transaction::TransportKind::Tcp,
        };
        let param = match transport {
            sip::transaction::TransportKind::Udp => String::new(),
            _ => ";transport=tcp".to_string(),
        };
        let user = number.replace(
            |c: char| !(c.is_ascii_alphanumeric() || "+-.*#".contains(c)),
            "",
        );
        Some(Route::User(vec![crate::registrar::Binding {
            contact: format!("sip:{user}@{}{param}", trunk.address),
            target: Target {
                transport,
                addr: trunk.address,
            },
            expires_at: None,
            expires_unix: None,
            call_id: String::new(),
            cseq: 0,
            q: 1.0,
            user_agent: format!("trunk {}", trunk.name),
        }]))
    }

    /// The call record for a new INVITE, indexed by its A-leg dialog and INVITE transaction.
    #[allow(clippy::too_many_arguments)]
    fn make_call(
        &mut self,
        now: Instant,
        tx: TxId,
        req: Request,
        source: Target,
        media: MediaSession,
        a_offer: bool,
        dn: String,
        session_interval: Option<u32>,
    ) -> Option<Call> {
        let a_tag = new_tag();
        let Some(a) = Dialog::uas(&req, &a_tag, source) else {
            self.reply(now, tx, &req, 400, Some("Bad Dialog Headers"));
            return None;
        };
        let from = req.headers.from().ok()?;
        let id = self.new_call_id();
        let b_call_id = format!("ccs{:02x}-{:016x}", self.shard, rand::random::<u64>());
        let b_tag = new_tag();
        let to_uri = req
            .headers
            .to()
            .map(|t| t.uri.to_string())
            .unwrap_or_default();
        self.dialogs
            .insert((a.call_id.clone(), a_tag), (id, Side::A));
        self.dialogs
            .insert((b_call_id.clone(), b_tag.clone()), (id, Side::B));
        self.invites.insert(tx, id);
        self.shared.metrics.call_started();
        Some(Call {
            id,
            state: CallState::Routing,
            a,
            a_invite_tx: tx,
            a_invite: req,
            a_offer,
            b_call_id,
            b_tags: vec![b_tag],
            forks: Vec::new(),
            b: None,
            winner: None,
            b_ack_deferred: false,
            early_media: false,
            media: Some(media),
            from_uri: from.uri.to_string(),
            from_display: from.display.clone().unwrap_or_default(),
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
            local_answer: false,
            codec: None,
            interaction: None,
            announced: false,
            outbound: None,
            pending_ack: None,
        })
    }

    /// Send one INVITE per binding (a fork each) for `agent` (None: a plain callee).
    pub(super) fn add_forks(
        &mut self,
        now: Instant,
        call: &mut Call,
        bindings: &[crate::registrar::Binding],
        spec: &ForkSpec<'_>,
        agent: Option<acd::AgentId>,
    ) {
        let config = self.shared.config.clone();
        let from_tag = spec.from.tag().unwrap_or_default().to_string();
        for binding in bindings {
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
                spec.max_forwards
                    .min(u32::from(config.sip.max_forwards))
                    .to_string(),
            );
            h.push("From", spec.from.to_string());
            h.push("To", spec.to.to_string());
            h.push("Call-ID", call.b_call_id.clone());
            h.push("CSeq", "1 INVITE");
            h.push("Contact", self.contact_header(binding.target.transport));
            h.push("Allow", super::ALLOW);
            if !config.sip.user_agent.is_empty() {
                h.push("User-Agent", config.sip.user_agent.clone());
            }
            for (name, v) in &spec.extra {
                h.push(name, v.clone());
            }
            if !spec.body.is_empty() {
                h.push("Content-Type", "application/sdp");
            }
            let request = Request {
                method: Method::Invite,
                uri,
                headers: h,
                body: spec.body.to_vec(),
            };
            let n = call.forks.len();
            let tx = self.send_request(now, request.clone(), binding.target);
            if let Some(t) = tx {
                call.txs.push(t);
                self.tx_owner.insert(t, (call.id, TxRole::Fork(n)));
            }
            call.forks.push(Fork {
                tx,
                request,
                target: binding.target,
                final_code: if tx.is_some() { None } else { Some(503) },
                ack: None,
                agent: agent.clone(),
                cancelled: false,
            });
        }
        if !call.b_tags.contains(&from_tag) {
            self.dialogs.insert(
                (call.b_call_id.clone(), from_tag.clone()),
                (call.id, Side::B),
            );
            call.b_tags.push(from_tag);
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
