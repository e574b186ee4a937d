//! A caller's new INVITE: authenticate, route, anchor the media, and fork to the callee (or
//! answer it here for a queue or a feature code).

use super::dialog::{Dialog, Via};
use super::sdes::Refusal;
use super::sdp::has_sdp;
use super::session::{Hold, Leg, LegId, LegState, Negotiation, Phase, Plan, Role, Session};
use super::{CallTimer, Cx, Engine, TxRole};
use crate::orders::Feature;
use crate::records::{Cause, HangupSide};
use crate::registrar::Binding;
use media::graph::{MediaCommand, MediaEvent, Side};
use sip::transaction::{Target, TransportKind, TxId};
use sip::{Headers, Method, NameAddr, Request, Uri};
use std::time::Instant;

/// Where a dialled number leads.
pub(super) enum Route {
    User(Vec<Binding>),
    Queue,
    Feature(Feature),
    /// The caller's own mailbox.
    Mailbox,
}

/// What a session's new INVITEs to callees carry.
pub(super) struct ForkSpec<'a> {
    pub from: NameAddr,
    pub to: NameAddr,
    pub max_forwards: u32,
    pub body: &'a [u8],
    pub extra: Vec<(&'static str, String)>,
    /// The relay endpoint the forks ring on, when not the first party's callee side (a
    /// consultation's own endpoint): a browser's WebRTC peer is attached there.
    pub endpoint: Option<Side>,
}

impl Engine {
    pub(super) fn new_call(&mut self, now: Instant, tx: TxId, req: Request, source: Target) {
        let dn = req.uri.user_unescaped().unwrap_or_default();
        if let Some((mode, extension)) = self.cx.supervise_code(&dn) {
            return self.supervise_by_phone(now, tx, req, source, mode, extension);
        }
        let cx = &mut self.cx;
        // The switch calling one of its queues (a consultation of a queue) needs no
        // credentials; nothing else from its own address is let through.
        let own_queue_call = cx.locals.values().any(|a| *a == source.addr) && cx.node.is_queue(&dn);
        let identity = if own_queue_call {
            None
        } else {
            match cx.authenticate(now, tx, &req, source, true) {
                Some(identity) => identity,
                None => return,
            }
        };
        let Ok(from) = req.headers.from() else {
            return cx.reply(now, tx, &req, 400, Some("Bad From"));
        };
        if let Some(user) = &identity {
            if from.uri.user_unescaped().as_deref() != Some(user.as_str()) {
                return cx.reply(now, tx, &req, 403, Some("From does not match credentials"));
            }
        }
        let interval = match cx.session_interval(&req) {
            Ok(i) => i,
            Err(min_se) => {
                let tag = cx.new_tag();
                let mut resp = req.response(422, None, Some(&tag));
                resp.headers.push("Min-SE", min_se.to_string());
                return cx.layer.respond(now, tx, resp);
            }
        };
        let max_forwards = req.headers.max_forwards().ok().flatten().unwrap_or(70);
        if max_forwards == 0 {
            return cx.reply(now, tx, &req, 483, None);
        }
        let plan = match cx.route(now, &dn) {
            // RFC 5630: a sips: call is not carried over a plain hop to any contact.
            Ok(Route::User(b))
                if req.uri.scheme == sip::Scheme::Sips && !super::sips::all_secure(&b) =>
            {
                return cx.reply_sips_not_allowed(now, tx, &req, 480);
            }
            Ok(Route::User(b)) => Plan::Call(b),
            Ok(Route::Queue) => Plan::Queue,
            Ok(Route::Feature(f)) => Plan::Feature(f),
            Ok(Route::Mailbox)
                if cx.has_voicemail(&from.uri.user_unescaped().unwrap_or_default()) =>
            {
                Plan::Mailbox
            }
            Ok(Route::Mailbox) => return cx.reply(now, tx, &req, 404, None),
            // A user with no phone registered: their voicemail.
            Err(480) if cx.has_voicemail(&dn) => Plan::Voicemail(dn.clone()),
            Err(code) => return cx.reply(now, tx, &req, code, None),
        };
        let offer = has_sdp(&req.body, &req.headers);
        if offer
            && std::str::from_utf8(&req.body)
                .ok()
                .and_then(|t| media::sdp::parse(t).ok())
                .is_none()
        {
            return cx.reply(now, tx, &req, 488, Some("Bad SDP"));
        }
        let a_tag = cx.new_tag();
        let Some(a) = Dialog::uas(&req, &a_tag, source) else {
            return cx.reply(now, tx, &req, 400, Some("Bad Dialog Headers"));
        };
        let Some(holds) = cx.hold_calls(now, tx, &req, identity.as_deref(), &dn, &plan) else {
            return;
        };
        let id = cx.new_session_id();
        let our_call_id = cx.new_call_id();
        let b_tag = cx.new_tag();
        cx.dialogs.insert((a.call_id.clone(), a_tag), id);
        cx.dialogs.insert((our_call_id.clone(), b_tag.clone()), id);
        cx.invites.insert(tx, id);
        cx.counters.calls_started += 1;
        let to_uri = req
            .headers
            .to()
            .map(|t| t.uri.to_string())
            .unwrap_or_default();
        let caller = Leg {
            role: Role::Caller,
            state: LegState::Offered,
            invite: req,
            target: source,
            tx: None,
            dialog: Some(a),
            negotiation: if offer {
                Negotiation::Stable
            } else {
                Negotiation::OfferInAnswer
            },
            ack: None,
            agent: None,
            hold: Hold::Off,
            endpoint: Side::A,
        };
        let s = Session {
            id,
            phase: Phase::Anchoring { next: plan },
            legs: vec![caller],
            bridges: Vec::new(),
            anchor: None,
            invite_tx: Some(tx),
            our_call_id,
            our_tags: vec![b_tag],
            from_uri: from.uri.to_string(),
            from_display: from.display.clone().unwrap_or_default(),
            to_uri,
            from_user: from.uri.user_unescaped().unwrap_or_default(),
            to_user: dn,
            started: now,
            start_ms: cx.unix_ms(now),
            answered: None,
            txs: Vec::new(),
            timer: interval.map(|interval| super::session::SessionTimer {
                interval,
                deadline: None,
            }),
            sdp_to_a: Vec::new(),
            codec: None,
            outbound: None,
            supervisor: None,
            recording: None,
            deposit: None,
            cdr_seq: 0,
            pair_start: None,
            origin: None,
            record_on_answer: false,
            holds,
            webrtc: Default::default(),
        };
        self.adopt(now, s, |cx, s| {
            cx.media(MediaCommand::Allocate { relay: s.relay() });
        });
    }
}

impl Cx {
    /// The relay answered: go on with what the session was waiting for.
    pub(super) fn on_media(&mut self, now: Instant, s: &mut Session, event: MediaEvent) {
        match event {
            MediaEvent::Allocated { ip, ports, .. } => {
                s.anchor = Some(super::session::Anchor {
                    ip,
                    ports: ports.to_vec(),
                });
                if !matches!(s.phase, Phase::Anchoring { .. }) {
                    return;
                }
                // Each plan sets the phase it leads to.
                let Phase::Anchoring { next } = std::mem::replace(
                    &mut s.phase,
                    Phase::Ringing {
                        early: false,
                        early_media: false,
                    },
                ) else {
                    return;
                };
                match next {
                    Plan::Call(bindings) => self.fork_call(now, s, &bindings),
                    Plan::Queue => self.start_queue_call(now, s),
                    Plan::Feature(f) => self.start_feature_call(now, s, f),
                    Plan::Voicemail(user) => self.send_to_voicemail(now, s, &user),
                    Plan::Mailbox => self.open_mailbox(now, s),
                    Plan::Originate { phones, call_id } => {
                        self.call_agent(now, s, &phones, call_id)
                    }
                }
            }
            MediaEvent::AllocationFailed { .. } => {
                if matches!(s.phase, Phase::Anchoring { .. }) {
                    tracing::error!(call = s.id, "no media ports");
                    if s.outbound.is_some() {
                        return self.end(s, Cause::Failed, HangupSide::Switch, 503);
                    }
                    self.fail_caller(now, s, 503, Some("No Media Ports"));
                    self.end(s, Cause::Failed, HangupSide::Switch, 503);
                }
            }
            MediaEvent::Activity { idle_for, .. } => self.media_activity(now, s, idle_for),
            MediaEvent::EndpointAdded { endpoint, port } => {
                self.on_endpoint(now, s, endpoint.side, Some(port))
            }
            MediaEvent::EndpointFailed { endpoint } => {
                self.on_endpoint(now, s, endpoint.side, None)
            }
            MediaEvent::Digit { digit, .. } => self.voicemail_digit(now, s, digit),
            MediaEvent::Silence { .. } => self.voicemail_silence(now, s),
            MediaEvent::WebRtcConnected { endpoint } => {
                tracing::debug!(call = s.id, side = endpoint.side.0, "browser media up");
            }
            MediaEvent::WebRtcGone { endpoint } => self.webrtc_gone(now, s, endpoint.side),
        }
    }

    /// Fork the caller's INVITE to the callee's contacts.
    fn fork_call(&mut self, now: Instant, s: &mut Session, bindings: &[Binding]) {
        let Some(invite) = s.legs.first().map(|l| &l.invite) else {
            return;
        };
        let mut b_body = Vec::new();
        if super::webrtc::is_webrtc_sdp(&invite.body) {
            // A browser calls: its offer is answered by a peer once the callee answers.
            if !self.webrtc_offer_acceptable(now, s) {
                self.fail_caller(now, s, 488, Some("Unacceptable WebRTC Offer"));
                return self.end(s, Cause::Failed, HangupSide::Switch, 488);
            }
            let plain = self.offer_for_browser_call(s, Side::B);
            // Our own offer to the callee: SRTP to TLS phones (sdes.rs).
            b_body = self.own_offer(s, Side::B, bindings, plain);
        } else if has_sdp(&invite.body, &invite.headers) {
            // SRTP keys go only to a callee all of whose contacts are TLS (sdes.rs).
            let tls = self.config.sip.srtp_offer
                && bindings
                    .iter()
                    .all(|b| b.target.transport == TransportKind::Tls);
            self.sdes.set_secure(s.id, Side::B, tls);
            match self.rewrite_sdp_checked(s, Side::A, Side::B, &invite.body) {
                Ok(body) => b_body = body,
                Err(refusal) => {
                    self.refuse_offer(now, s, refusal);
                    return self.end(s, Cause::Failed, HangupSide::Switch, 488);
                }
            }
        }
        let Ok(from) = invite.headers.from() else {
            return;
        };
        let mut b_from = from.clone();
        b_from
            .params
            .retain(|(n, _)| !n.eq_ignore_ascii_case("tag"));
        b_from.set_param("tag", Some(s.our_tags[0].clone()));
        let mut b_to = invite
            .headers
            .to()
            .unwrap_or_else(|_| NameAddr::new(invite.uri.clone()));
        b_to.params.retain(|(n, _)| !n.eq_ignore_ascii_case("tag"));
        let mut extra = Vec::new();
        for name in ["Subject", "Alert-Info", "Call-Info", "Priority"] {
            for v in invite.headers.get_all(name) {
                extra.push((name, v.to_string()));
            }
        }
        let max_forwards = invite.headers.max_forwards().ok().flatten().unwrap_or(70);
        s.phase = Phase::Ringing {
            early: false,
            early_media: false,
        };
        let spec = ForkSpec {
            from: b_from,
            to: b_to,
            max_forwards: max_forwards.saturating_sub(1),
            body: &b_body,
            extra,
            endpoint: None,
        };
        self.add_forks(now, s, bindings, &spec, None, Role::Callee);
        let mut ring = self.config.sip.invite_timeout();
        if self.has_voicemail(&s.to_user) {
            // Unanswered, the call goes to voicemail sooner than it would fail.
            ring = ring.min(std::time::Duration::from_secs(
                self.config.voicemail.ring_secs,
            ));
        }
        self.schedule(now + ring, s.id, CallTimer::Ring);
        if s.legs.iter().skip(1).all(|l| l.failed_code().is_some()) {
            self.callee_failed(now, s, LegId(0), false);
        }
    }

    /// The dialplan: feature codes, then queues, then users. `Err` is the status to answer.
    pub(super) fn route(&self, now: Instant, dn: &str) -> Result<Route, u16> {
        let acd = &self.config.acd;
        let feature = if dn == acd.ready_code {
            Some(Feature::Ready)
        } else if dn == acd.not_ready_code {
            Some(Feature::NotReady)
        } else if dn == acd.logout_code {
            Some(Feature::Logout)
        } else {
            None
        };
        if let Some(f) = feature {
            return Ok(Route::Feature(f));
        }
        if dn == self.config.voicemail.code {
            return Ok(Route::Mailbox);
        }
        if self.node.is_queue(dn) {
            return Ok(Route::Queue);
        }
        if self.config.user(dn).is_none() {
            return self.trunk_route(dn).ok_or(404);
        }
        let bindings = self.node.lookup(now, dn);
        if bindings.is_empty() {
            return Err(480);
        }
        Ok(Route::User(bindings))
    }

    /// A number for a trunk: one binding, `sip:NUMBER@gateway`.
    fn trunk_route(&self, number: &str) -> Option<Route> {
        let trunk = self.config.trunk_for(number)?;
        let transport = super::transport_kind(trunk.transport);
        let param = match transport {
            TransportKind::Udp => String::new(),
            t => format!(";transport={}", t.via_token().to_ascii_lowercase()),
        };
        let user = number.replace(
            |c: char| !(c.is_ascii_alphanumeric() || "+-.*#".contains(c)),
            "",
        );
        Some(Route::User(vec![Binding {
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

    /// A Via for a request leaving over `transport`.
    pub(super) fn via(&mut self, transport: TransportKind) -> Via {
        let (host, tok) = self.via_host(transport);
        Via {
            host,
            transport: tok,
            branch: self.new_branch(),
        }
    }

    /// Send one INVITE per binding, each a new leg of `role` (for `agent`, when the call
    /// is offered to an ACD agent).
    pub(super) fn add_forks(
        &mut self,
        now: Instant,
        s: &mut Session,
        bindings: &[Binding],
        spec: &ForkSpec<'_>,
        agent: Option<acd::AgentId>,
        role: Role,
    ) {
        let config = self.config.clone();
        let from_tag = spec.from.tag().unwrap_or_default().to_string();
        for binding in bindings {
            let Ok(uri) = Uri::parse(&binding.contact) else {
                continue;
            };
            let side = match (spec.endpoint, role, s.legs.first()) {
                (Some(side), _, _) => side,
                (None, Role::Callee, Some(_)) => s.callee_side(),
                _ => super::session::Leg::first_side(role),
            };
            let Some(body) = self.fork_body(now, s, binding.target.transport, side, spec.body)
            else {
                continue;
            };
            let via = self.via(binding.target.transport);
            let mut h = Headers::new();
            h.push("Via", via.header());
            h.push(
                "Max-Forwards",
                spec.max_forwards
                    .min(u32::from(config.sip.max_forwards))
                    .to_string(),
            );
            h.push("From", spec.from.to_string());
            h.push("To", spec.to.to_string());
            h.push("Call-ID", s.our_call_id.clone());
            h.push("CSeq", "1 INVITE");
            h.push("Contact", self.contact_header(binding.target.transport));
            h.push("Allow", super::ALLOW);
            if !config.sip.user_agent.is_empty() {
                h.push("User-Agent", config.sip.user_agent.clone());
            }
            for (name, v) in &spec.extra {
                h.push(name, v.clone());
            }
            if !body.is_empty() {
                h.push("Content-Type", "application/sdp");
            }
            let request = Request {
                method: Method::Invite,
                uri,
                headers: h,
                body,
            };
            self.start_leg(now, s, request, binding.target, agent.clone(), role);
        }
        if !s.our_tags.contains(&from_tag) {
            self.dialogs
                .insert((s.our_call_id.clone(), from_tag.clone()), s.id);
            s.our_tags.push(from_tag);
        }
    }

    /// Send our INVITE `request` to `target` as a new leg of the session.
    pub(super) fn start_leg(
        &mut self,
        now: Instant,
        s: &mut Session,
        request: Request,
        target: Target,
        agent: Option<acd::AgentId>,
        role: Role,
    ) -> LegId {
        let leg = LegId(s.legs.len());
        let tx = self.send_request(now, request.clone(), target);
        let state = match tx {
            Some(t) => {
                s.txs.push(t);
                self.tx_owner.insert(t, (s.id, TxRole::Invite(leg)));
                LegState::Ringing
            }
            None => LegState::Failed { code: 503 },
        };
        s.legs.push(Leg {
            role,
            state,
            invite: request,
            target,
            tx,
            dialog: None,
            negotiation: Negotiation::Stable,
            ack: None,
            agent,
            hold: Hold::Off,
            endpoint: match (role, s.legs.first()) {
                // A callee rings on the endpoint its first party is not on.
                (Role::Callee, Some(_)) => s.callee_side(),
                _ => Leg::first_side(role),
            },
        });
        leg
    }

    /// A 200 to the caller's INVITE (Contact, Allow) and its server transaction; `None`
    /// for originated calls.
    pub(super) fn caller_ok(&self, s: &Session) -> Option<(TxId, sip::Response)> {
        let (tx, invite, a) = (s.invite_tx?, s.a_invite()?, s.a()?);
        let mut out = invite.response(200, None, Some(&a.local_tag));
        out.headers
            .push("Contact", self.contact_header(a.target.transport));
        out.headers.push("Allow", super::ALLOW);
        Some((tx, out))
    }

    /// Answer the caller's INVITE with a failure (no-op for originated calls).
    pub(super) fn fail_caller(
        &mut self,
        now: Instant,
        s: &Session,
        code: u16,
        reason: Option<&str>,
    ) {
        self.fail_caller_warning(now, s, code, reason, None)
    }

    /// A 488 for the caller's offer, saying why in a Warning.
    pub(super) fn refuse_offer(&mut self, now: Instant, s: &Session, refusal: Refusal) {
        let warning = refusal.warning();
        self.fail_caller_warning(now, s, 488, None, Some(&warning))
    }

    fn fail_caller_warning(
        &mut self,
        now: Instant,
        s: &Session,
        code: u16,
        reason: Option<&str>,
        warning: Option<&str>,
    ) {
        let (Some(tx), Some(invite), Some(a)) = (s.invite_tx, s.a_invite(), s.a()) else {
            return;
        };
        let mut resp = invite.response(code, reason, Some(&a.local_tag));
        if let Some(w) = warning {
            resp.headers.push("Warning", w.to_string());
        }
        resp.headers
            .push("Server", self.config.sip.user_agent.clone());
        self.layer.respond(now, tx, resp);
    }
}

impl Cx {
    /// Counts a new call against its caller's limit (`edge.calls_per_user`, for an
    /// authenticated user) and its trunk's (`max_calls`); `None`, answered 486 or 503 and
    /// counting nothing, when one is full.
    fn hold_calls(
        &mut self,
        now: Instant,
        tx: TxId,
        req: &Request,
        user: Option<&str>,
        dn: &str,
        plan: &Plan,
    ) -> Option<Vec<String>> {
        let mut holds = Vec::new();
        let per_user = self.config.edge.calls_per_user;
        if let (Some(user), true) = (user, per_user > 0) {
            let key = format!("user:{user}");
            if !self.node.edge().start_call(&key, per_user) {
                tracing::info!(%user, limit = per_user, "call refused: too many calls");
                self.reply(now, tx, req, 486, Some("Too Many Calls"));
                return None;
            }
            holds.push(key);
        }
        let trunk = match plan {
            Plan::Call(_) if self.config.user(dn).is_none() => self.config.trunk_for(dn),
            _ => None,
        };
        if let Some(t) = trunk.filter(|t| t.max_calls > 0) {
            let key = format!("trunk:{}", t.name);
            if !self.node.edge().start_call(&key, t.max_calls) {
                tracing::info!(trunk = %t.name, limit = t.max_calls, "call refused: trunk full");
                for k in &holds {
                    self.node.edge().end_call(k);
                }
                self.reply(now, tx, req, 503, Some("Trunk Busy"));
                return None;
            }
            holds.push(key);
        }
        Some(holds)
    }
}
