//! Calls the switch places for someone: the preview dialer's "call this contact for this
//! agent". The agent's phone is called first with auto-answer hints; once it answers, the
//! agent hears ringback while the contact is called through the dialplan (a user or a
//! trunk); the contact's answer bridges the two.

use super::call::{new_tag, unix_ms, Call, CallState, Fork, Route, Side};
use super::dialog::Dialog;
use super::{CallTimer, Engine, TxRole};
use sip::transaction::new_branch;
use sip::{Headers, Method, NameAddr, Request, Response, Uri};
use std::time::Instant;
use tokio::sync::mpsc;

/// A call to place for an agent.
#[derive(Debug, Clone)]
pub struct Origination {
    /// Who asked (the dialer's agent id), for events.
    pub agent: String,
    /// The SIP user whose phone rings first.
    pub extension: String,
    /// What to dial once the agent answered: a user, or a number for a trunk.
    pub number: String,
    /// Shown to the contact as the caller; the agent's extension when empty.
    pub caller_id: String,
    /// The dialer's attempt id, echoed in every report.
    pub attempt: u64,
    pub report: mpsc::UnboundedSender<OriginationEvent>,
}

/// What happens to an originated call, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginationEvent {
    /// The agent's phone answered; the contact is being called.
    AgentAnswered { attempt: u64 },
    /// The contact answered: agent and contact are talking.
    Connected { attempt: u64 },
    /// One side put the other on hold (true) or took it off (false).
    Held { attempt: u64, held: bool },
    /// The call is over (or never happened) with this SIP status: 200 after a conversation,
    /// else why it failed (the agent's or the contact's final response, 404, 480, ...).
    Ended { attempt: u64, sip_status: u16 },
}

/// The originated side of a call: the agent's INVITEs until one is answered.
pub struct Outbound {
    pub agent: String,
    pub attempt: u64,
    pub number: String,
    pub caller_id: String,
    pub report: mpsc::UnboundedSender<OriginationEvent>,
    pub agent_forks: Vec<Fork>,
    /// Where the contact leg goes once the agent answered.
    pub route: Vec<crate::registrar::Binding>,
    /// Our ACK of the agent's 2xx, repeated if the 2xx is.
    pub agent_ack: Option<(Vec<u8>, sip::transaction::Target)>,
}

impl Outbound {
    pub fn send(&self, event: OriginationEvent) {
        let _ = self.report.send(event);
    }
}

impl Engine {
    /// Place a call for an agent (the preview dialer's origination).
    pub fn originate(&mut self, now: Instant, o: Origination) {
        let ended = |code| {
            let _ = o.report.send(OriginationEvent::Ended {
                attempt: o.attempt,
                sip_status: code,
            });
        };
        let agent_phones = match self.shared.registrar.read() {
            Ok(r) => r.lookup(now, &o.extension),
            Err(_) => Vec::new(),
        };
        if agent_phones.is_empty() {
            return ended(480);
        }
        let route = match self.route(now, &o.number) {
            Ok(Route::User(b)) => b,
            Ok(_) => return ended(403),
            Err(code) => return ended(code),
        };
        let media = match self.shared.media.create_session() {
            Ok(m) => m,
            Err(_) => return ended(503),
        };
        let domain = self.config().sip.domain.clone();
        let id = self.new_call_id();
        let call_id = format!("ccs{:02x}-{:016x}", self.shard, rand::random::<u64>());
        let tag = new_tag();
        let ip = media.advertised_ip();
        let family = if ip.is_ipv4() { "IP4" } else { "IP6" };
        let sdp = format!(
            "v=0\r\no=ccswitch {id} 1 IN {family} {ip}\r\ns=ccswitch\r\nc=IN {family} {ip}\r\nt=0 0\r\n\
             m=audio {} RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n\
             a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n",
            media.a_port()
        );
        let mut from = NameAddr::new(Uri::sip(Some(&o.number), &domain, None));
        from.display = Some(format!("Call to {}", o.number));
        from.set_param("tag", Some(tag.clone()));
        let to = NameAddr::new(Uri::sip(Some(&o.extension), &domain, None));
        let mut agent_forks = Vec::new();
        for b in &agent_phones {
            let Ok(uri) = Uri::parse(&b.contact) else {
                continue;
            };
            let (host, tok) = self.via_host(b.target.transport);
            let mut h = Headers::new();
            h.push(
                "Via",
                format!("SIP/2.0/{tok} {host};branch={};rport", new_branch()),
            );
            h.push("Max-Forwards", "70");
            h.push("From", from.to_string());
            h.push("To", to.to_string());
            h.push("Call-ID", call_id.clone());
            h.push("CSeq", "1 INVITE");
            h.push("Contact", self.contact_header(b.target.transport));
            h.push("Allow", super::ALLOW);
            // Auto-answer hints understood by most desk and soft phones.
            h.push("Call-Info", format!("<sip:{domain}>;answer-after=0"));
            h.push(
                "Alert-Info",
                format!("<http://{domain}/autoanswer>;info=alert-autoanswer;delay=0"),
            );
            h.push("Content-Type", "application/sdp");
            agent_forks.push(Fork {
                tx: None,
                request: Request {
                    method: Method::Invite,
                    uri,
                    headers: h,
                    body: sdp.clone().into_bytes(),
                },
                target: b.target,
                final_code: None,
                ack: None,
                agent: None,
                cancelled: false,
            });
        }
        if agent_forks.is_empty() {
            return ended(480);
        }
        let Some(first) = agent_forks.first() else {
            return ended(480);
        };
        let placeholder = Dialog {
            call_id: call_id.clone(),
            local_tag: tag.clone(),
            remote_tag: String::new(),
            local_uri: from.to_string(),
            remote_uri: to.to_string(),
            remote_target: first.request.uri.clone(),
            route_set: Vec::new(),
            local_cseq: 1,
            remote_cseq: 0,
            target: first.target,
        };
        let a_invite = first.request.clone();
        let outbound = Outbound {
            agent: o.agent.clone(),
            attempt: o.attempt,
            number: o.number.clone(),
            caller_id: if o.caller_id.is_empty() {
                o.extension.clone()
            } else {
                o.caller_id.clone()
            },
            report: o.report.clone(),
            agent_forks,
            route,
            agent_ack: None,
        };
        let mut call = Call::outbound(
            id,
            now,
            unix_ms(),
            placeholder,
            a_invite,
            media,
            outbound,
            &o,
        );
        if let Some(out) = call.outbound.as_mut() {
            let mut forks = std::mem::take(&mut out.agent_forks);
            for (n, f) in forks.iter_mut().enumerate() {
                match self.layer.send_request(now, f.request.clone(), f.target) {
                    Ok(t) => {
                        f.tx = Some(t);
                        call.txs.push(t);
                        self.tx_owner.insert(t, (id, TxRole::AgentLeg(n)));
                    }
                    Err(_) => f.final_code = Some(503),
                }
            }
            out.agent_forks = forks;
        }
        self.dialogs.insert((call_id, tag), (id, Side::A));
        self.shared.metrics.call_started();
        let ring = self.config().sip.invite_timeout();
        self.schedule(now + ring, id, CallTimer::Ring);
        self.calls.insert(id, call);
        self.publish_call(id, "dialling");
    }

    /// A response from the agent's phone.
    pub(super) fn agent_leg_response(&mut self, now: Instant, id: u64, n: usize, resp: Response) {
        let code = resp.code;
        if code < 200 {
            return;
        }
        let Some(mut call) = self.calls.remove(&id) else {
            return;
        };
        let Some(mut out) = call.outbound.take() else {
            self.calls.insert(id, call);
            return;
        };
        if code >= 300 {
            if let Some(f) = out.agent_forks.get_mut(n) {
                f.final_code.get_or_insert(code);
            }
            let done = out.agent_forks.iter().all(|f| f.final_code.is_some());
            call.outbound = Some(out);
            self.calls.insert(id, call);
            if done && call_state(self, id) == Some(CallState::Routing) {
                self.finish(now, id, super::fork::cause_of(code), "callee", code);
            }
            return;
        }
        let to_tag = resp
            .headers
            .to()
            .ok()
            .and_then(|t| t.tag().map(str::to_string));
        if call.local_answer && to_tag.as_deref() == Some(call.a.remote_tag.as_str()) {
            // The agent's phone repeats its 2xx (our ACK was lost): ACK it again.
            if let Some((ack, target)) = out.agent_ack.clone() {
                self.layer.send_stateless_bytes(ack, target);
            }
            call.outbound = Some(out);
            self.calls.insert(id, call);
            return;
        }
        if call.local_answer {
            // Another of the agent's phones answered too: release it.
            if let Some(f) = out.agent_forks.get(n) {
                let (request, target) = (f.request.clone(), f.target);
                self.release_late_answer(now, id, &request, &resp, target);
            }
            call.outbound = Some(out);
            self.calls.insert(id, call);
            return;
        }
        let Some(f) = out.agent_forks.get(n) else {
            call.outbound = Some(out);
            self.calls.insert(id, call);
            return;
        };
        let Some(a) = Dialog::uac(&f.request, &resp, f.target) else {
            call.outbound = Some(out);
            self.calls.insert(id, call);
            return;
        };
        // ACK the agent's 2xx and make its dialog the call's A leg.
        let (host, tok) = self.via_host(a.target.transport);
        let ack = a
            .request_with_cseq(Method::Ack, a.local_cseq, &host, tok)
            .to_bytes();
        self.layer.send_stateless_bytes(ack.clone(), a.target);
        out.agent_ack = Some((ack, a.target));
        for (i, other) in out.agent_forks.iter_mut().enumerate() {
            if i != n && other.final_code.is_none() && !other.cancelled {
                other.cancelled = true;
                if let Some(t) = other.tx {
                    self.layer.cancel(now, t);
                }
            }
        }
        if let Some(m) = call.media.as_ref() {
            let _ = self.rewrite_sdp(m, Side::A, &resp.body);
            let codec = std::str::from_utf8(&resp.body)
                .ok()
                .and_then(|t| media::sdp::parse(t).ok())
                .and_then(|sd| {
                    sd.media
                        .first()
                        .and_then(|m| media::Codec::from_formats(&m.formats))
                });
            call.codec = Some(codec.unwrap_or(media::Codec::PCMU));
        }
        call.a = a;
        call.local_answer = true;
        call.state = CallState::Queued;
        self.start_media_checks(now, call.id);
        out.send(OriginationEvent::AgentAnswered {
            attempt: out.attempt,
        });
        let route = out.route.clone();
        let (caller_id, number) = (out.caller_id.clone(), out.number.clone());
        call.outbound = Some(out);
        // The agent hears ringback until the contact answers or sends early media.
        if let (Some(m), Some(codec)) = (call.media.as_ref(), call.codec) {
            m.play(media::Side::A, media::Playlist::looped(ringback()), codec);
        }
        self.ring_number(now, &mut call, &route, &caller_id, "", &number);
        self.calls.insert(id, call);
        self.publish_call(id, "agent_answered");
    }

    /// Tell the agent's event stream where an originated call stands.
    pub(super) fn publish_call(&self, id: u64, state: &str) {
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        if let Some(out) = &call.outbound {
            self.shared.distributor.publish(serde_json::json!({
                "type": "call",
                "agent": out.agent,
                "attempt": out.attempt,
                "number": out.number,
                "state": state,
            }));
        }
    }

    /// Stop everything of an originated call still ringing the agent.
    pub(super) fn cancel_agent_legs(&mut self, now: Instant, call: &mut Call) {
        if let Some(out) = call.outbound.as_mut() {
            for f in out.agent_forks.iter_mut() {
                if f.final_code.is_none() && !f.cancelled {
                    f.cancelled = true;
                    if let Some(t) = f.tx {
                        self.layer.cancel(now, t);
                    }
                }
            }
        }
    }

    pub(super) fn agent_leg_timeout(&mut self, now: Instant, id: u64, n: usize) {
        self.agent_leg_response(now, id, n, timeout_response());
    }
}

fn call_state(e: &Engine, id: u64) -> Option<CallState> {
    e.calls.get(&id).map(|c| c.state)
}

/// A stand-in 408 for a transaction that timed out.
fn timeout_response() -> Response {
    Response {
        code: 408,
        reason: "Request Timeout".into(),
        headers: Headers::new(),
        body: Vec::new(),
    }
}

/// North American ringback: 440 + 480 Hz, 2 s on, 4 s off.
fn ringback() -> std::sync::Arc<[i16]> {
    use std::time::Duration;
    let on = 16_000;
    let mut samples: Vec<i16> = (0..on)
        .map(|n| {
            let t = n as f64 / 8000.0;
            let v = (2.0 * std::f64::consts::PI * 440.0 * t).sin()
                + (2.0 * std::f64::consts::PI * 480.0 * t).sin();
            (v * 4000.0) as i16
        })
        .collect();
    samples.extend(media::tone::silence(Duration::from_secs(4)));
    std::sync::Arc::from(samples)
}
