//! Calls the switch places for someone: the preview dialer's "call this contact for this
//! agent". The agent's phone is called first with auto-answer hints; once it answers, the
//! agent hears ringback while the contact is called through the dialplan (a user or a
//! trunk); the contact's answer bridges the two.

use super::sdp::{codec_of, offer_all};
use super::session::{LegId, LegState, Negotiation, Outbound, Phase, Plan, Prompt, Role, Session};
use super::setup::Route;
use super::{CallEvent, CallTimer, Cx, Engine, Origination, OriginationEvent, Output, TxRole};
use crate::records::{Cause, HangupSide};
use media::graph::{MediaCommand, Side};
use sip::{Headers, Method, NameAddr, Request, Response, Uri};
use std::time::Instant;

impl Engine {
    /// Place a call for an agent (the preview dialer's origination).
    pub(super) fn originate(&mut self, now: Instant, o: Origination) {
        let cx = &mut self.cx;
        let ended = |cx: &mut Cx, sip_status| {
            cx.report(OriginationEvent::Ended {
                attempt: o.attempt,
                sip_status,
            })
        };
        let phones = cx.node.lookup(now, &o.extension);
        if phones.is_empty() {
            return ended(cx, 480);
        }
        let route = match cx.route(now, &o.number) {
            Ok(Route::User(b)) => b,
            Ok(_) => return ended(cx, 403),
            Err(code) => return ended(cx, code),
        };
        let id = cx.new_session_id();
        let call_id = cx.new_call_id();
        cx.counters.calls_started += 1;
        let s = Session {
            id,
            phase: Phase::Anchoring {
                next: Plan::Originate {
                    phones,
                    call_id: call_id.clone(),
                },
            },
            legs: Vec::new(),
            bridges: Vec::new(),
            anchor: None,
            invite_tx: None,
            // The agent's legs use `call_id`, the contact's this one.
            our_call_id: format!("{call_id}-b"),
            our_tags: Vec::new(),
            from_uri: format!("sip:{}", o.extension),
            from_display: o.agent.clone(),
            to_uri: format!("sip:{}", o.number),
            from_user: o.extension.clone(),
            to_user: o.number.clone(),
            started: now,
            start_ms: cx.unix_ms(now),
            answered: None,
            txs: Vec::new(),
            timer: None,
            sdp_to_a: Vec::new(),
            codec: None,
            outbound: Some(Outbound {
                agent: o.agent.clone(),
                attempt: o.attempt,
                number: o.number.clone(),
                caller_id: if o.caller_id.is_empty() {
                    o.extension.clone()
                } else {
                    o.caller_id.clone()
                },
                route,
            }),
            supervisor: None,
            recording: None,
            deposit: None,
            cdr_seq: 0,
            pair_start: None,
            origin: None,
            record_on_answer: false,
            holds: Vec::new(),
            webrtc: Default::default(),
        };
        self.adopt(now, s, |cx, s| {
            cx.media(MediaCommand::Allocate { relay: s.relay() });
        });
    }
}

impl Cx {
    /// The relay is bound: ring every phone of the agent with auto-answer hints.
    pub(super) fn call_agent(
        &mut self,
        now: Instant,
        s: &mut Session,
        phones: &[crate::registrar::Binding],
        call_id: String,
    ) {
        let (Some(anchor), Some(out)) = (s.anchor.clone(), s.outbound.clone()) else {
            return;
        };
        let domain = self.config.sip.domain.clone();
        let tag = self.new_tag();
        let plain = offer_all(s.id, anchor.ip, anchor.port(Side::A));
        // SDES-SRTP to TLS phones; a browser gets a WebRTC offer instead (webrtc.rs).
        let sdp = self.own_offer(s, Side::A, phones, plain);
        let mut from = NameAddr::new(Uri::sip(Some(&out.number), &domain, None));
        from.display = Some(format!("Call to {}", out.number));
        from.set_param("tag", Some(tag.clone()));
        let to = NameAddr::new(Uri::sip(Some(&s.from_user), &domain, None));
        for b in phones {
            let Ok(uri) = Uri::parse(&b.contact) else {
                continue;
            };
            let Some(body) = self.fork_body(now, s, b.target.transport, Side::A, &sdp) else {
                continue;
            };
            let via = self.via(b.target.transport);
            let mut h = Headers::new();
            h.push("Via", via.header());
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
            let request = Request {
                method: Method::Invite,
                uri,
                headers: h,
                body,
            };
            self.start_leg(now, s, request, b.target, None, Role::Agent);
        }
        if s.legs.is_empty() {
            // No usable contact: `finish` reports the end.
            return self.end(s, Cause::Unavailable, HangupSide::Switch, 480);
        }
        self.dialogs.insert((call_id, tag), s.id);
        s.phase = Phase::CallingAgent;
        self.schedule(
            now + self.config.sip.invite_timeout(),
            s.id,
            CallTimer::Ring,
        );
        self.publish_call(&out.agent, out.attempt, &out.number, "dialling", None);
        if s.legs.iter().all(|l| !l.pending()) {
            self.end(s, Cause::Failed, HangupSide::Callee, 503);
        }
    }

    /// A response from one of the agent's phones.
    pub(super) fn agent_leg_response(
        &mut self,
        now: Instant,
        s: &mut Session,
        leg: LegId,
        resp: Response,
    ) {
        let code = resp.code;
        if code < 200 {
            return;
        }
        if code >= 300 {
            let l = s.leg_mut(leg);
            if l.pending() {
                l.state = LegState::Failed { code };
                if let Some(t) = l.tx {
                    self.tx_owner.remove(&t);
                }
            }
            let done = s
                .legs
                .iter()
                .filter(|l| l.role == Role::Agent)
                .all(|l| !l.pending());
            if done && matches!(s.phase, Phase::CallingAgent) {
                self.end(s, Cause::of_status(code), HangupSide::Callee, code);
            }
            return;
        }
        let l = s.leg(leg);
        let (request, target) = (l.invite.clone(), l.target);
        if !matches!(s.phase, Phase::CallingAgent) {
            let to_tag = super::to_tag(&resp.headers);
            let first = &s.legs[0];
            let repeat = l.state == LegState::Confirmed
                && to_tag.as_deref() == first.dialog.as_ref().map(|d| d.remote_tag.as_str());
            if repeat {
                // The agent's phone repeats its 2xx (our ACK was lost): ACK it again.
                if let Some((ack, target)) = first.ack.clone() {
                    self.layer.send_stateless_bytes(ack, target);
                }
            } else {
                // Another of the agent's phones answered too: release it.
                self.release_late_answer(now, s.id, &request, &resp, target);
            }
            return;
        }
        let Some(a) = super::dialog::Dialog::uac(&request, &resp, target) else {
            return;
        };
        if self.refused_answer(now, s, leg, &resp).is_some() {
            // The phone did not take our SRTP offer (sdes.rs): a failed fork, like a 488.
            let done = s
                .legs
                .iter()
                .filter(|l| l.role == Role::Agent)
                .all(|l| !l.pending());
            if done {
                self.end(s, Cause::Failed, HangupSide::Switch, 488);
            }
            return;
        }
        // The answering phone becomes the first party: legs[0].
        if leg.0 != 0 {
            s.legs.swap(0, leg.0);
            for i in [0, leg.0] {
                if let Some(t) = s.legs[i].tx {
                    self.tx_owner.insert(t, (s.id, TxRole::Invite(LegId(i))));
                }
            }
        }
        let others: Vec<LegId> = s.pending_legs().filter(|l| l.0 != 0).collect();
        self.cancel_legs(now, s, &others);
        let first = &mut s.legs[0];
        first.dialog = Some(a);
        first.state = LegState::Confirmed;
        first.negotiation = Negotiation::Stable;
        self.ack_leg(s, LegId(0), Vec::new());
        self.learn_sdp(s, Side::A, &resp.body);
        // A browser's answer goes to its peer (webrtc.rs); its side converts to PCMU.
        self.webrtc_answered(s, LegId(0), &resp.body);
        s.codec = Some(codec_of(&resp.body).unwrap_or(media::Codec::PCMU));
        s.phase = Phase::CallingContact { early_media: false };
        self.start_media_checks(now, s.id);
        let Some(out) = s.outbound.clone() else {
            return;
        };
        self.report(OriginationEvent::AgentAnswered {
            attempt: out.attempt,
        });
        // The agent hears ringback until the contact answers or sends early media.
        self.play(s, 0, media::Playlist::looped(ringback()), Prompt::Ringback);
        self.ring_number(now, s, &out.route, &out.caller_id, "", &out.number);
        self.publish_call(&out.agent, out.attempt, &out.number, "agent_answered", None);
    }

    /// Tell whoever asked for an originated call how it goes.
    pub(super) fn report(&mut self, event: OriginationEvent) {
        self.emit(Output::Report(event));
    }

    /// Tell the agent's event stream where an originated call stands.
    pub(super) fn publish_call(
        &mut self,
        agent: &str,
        attempt: u64,
        number: &str,
        state: &'static str,
        sip_status: Option<u16>,
    ) {
        self.emit(Output::Publish(CallEvent {
            kind: "call",
            agent: agent.to_string(),
            attempt,
            number: number.to_string(),
            state,
            sip_status,
        }));
    }
}

/// North American ringback: 440 + 480 Hz, 2 s on, 4 s off.
pub(super) fn ringback() -> std::sync::Arc<[i16]> {
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
