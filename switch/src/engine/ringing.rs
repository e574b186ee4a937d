//! Answers on our INVITE legs: a callee's fork (ringing, early media, the answer that is
//! bridged, failures), the caller's CANCEL and the ring timeout. An originated call's
//! agent legs are in [`super::originate`].

use super::hangup::add_session_headers;
use super::sdp::{codec_of, has_sdp};
use super::session::{Bridge, LegId, LegState, Negotiation, Phase, Role, Session};
use super::{CallTimer, Cx, TxRole};
use crate::records::{Cause, HangupSide};
use media::graph::{Endpoint, MediaCommand, Side};
use sip::transaction::Target;
use sip::{Method, Request, Response};
use std::time::Instant;

impl Cx {
    /// A response on the INVITE of `leg`.
    pub(super) fn leg_response(
        &mut self,
        now: Instant,
        s: &mut Session,
        leg: LegId,
        resp: Response,
    ) {
        if s.leg(leg).role == Role::Agent {
            return self.agent_leg_response(now, s, leg, resp);
        }
        if matches!(s.phase, Phase::Transferring { target, .. } if target == leg) {
            return self.transfer_response(now, s, leg, resp);
        }
        if Self::is_supervisor(s, leg) {
            return self.supervisor_response(now, s, leg, resp);
        }
        let dialing = match &s.phase {
            Phase::Consulting(c) => c.dialing.leg == Some(leg),
            Phase::Conference(c) => {
                c.adding.as_ref().and_then(|d| d.leg) == Some(leg) || c.members.contains(&leg)
            }
            _ => false,
        };
        if dialing {
            return self.dialing_response(now, s, leg, resp);
        }
        let code = resp.code;
        if code == 100 {
            return;
        }
        if code >= 300 {
            let l = s.leg_mut(leg);
            if !l.pending() {
                return;
            }
            let withdrawn = l.state == LegState::Cancelling;
            l.state = LegState::Failed { code };
            if let Some(t) = l.tx {
                self.tx_owner.remove(&t);
            }
            return self.callee_failed(now, s, leg, withdrawn);
        }
        if code < 200 {
            return self.provisional(now, s, resp);
        }
        let to_tag = super::to_tag(&resp.headers);
        let l = s.leg(leg);
        let (request, target) = (&l.invite, l.target);
        match s.phase {
            Phase::Bridged { callee, .. } if callee == leg => {
                let same = to_tag.as_deref() == l.dialog.as_ref().map(|d| d.remote_tag.as_str());
                if same {
                    // A retransmitted 2xx: repeat our ACK.
                    if let Some((ack, target)) = l.ack.clone() {
                        self.layer.send_stateless_bytes(ack, target);
                    }
                } else {
                    // A second dialog from the same fork (a forking proxy behind it).
                    self.release_late_answer(now, s.id, request, &resp, target);
                }
            }
            _ if l.state == LegState::Cancelling || !l.pending() => {
                // Another leg won, or the agent answered just as the offer was withdrawn
                // (RONA, abandon): release this phone.
                self.release_late_answer(now, s.id, request, &resp, target);
            }
            _ if s.answered_locally() => self.bridge_local(now, s, leg, resp),
            Phase::Ringing { .. } => self.answer(now, s, leg, resp),
            _ => self.release_late_answer(now, s.id, request, &resp, target),
        }
    }

    /// A callee's 1xx: ringing (and early media) for the caller, unless the switch
    /// answered the caller itself (it hears our music, not the agent's ringing).
    fn provisional(&mut self, now: Instant, s: &mut Session, resp: Response) {
        match s.phase {
            Phase::CallingContact { early_media: false } if has_sdp(&resp.body, &resp.headers) => {
                if self.own_offer_answered(s, Side::B, &resp.body).is_err() {
                    // Not our SRTP back: ours plays on, and its 2xx is checked again.
                    return;
                }
                // The contact's early media (network announcements, ringback) replaces ours.
                self.learn_sdp(s, Side::B, &resp.body);
                self.stop_playing(s, 0);
                s.phase = Phase::CallingContact { early_media: true };
            }
            Phase::Ringing { early_media, .. } => {
                let (Some(tx), Some(invite), Some(a)) = (s.invite_tx, s.a_invite(), s.a()) else {
                    return;
                };
                let mut out = invite.response(resp.code, Some(&resp.reason), Some(&a.local_tag));
                out.headers
                    .push("Contact", self.contact_header(a.target.transport));
                let mut now_early_media = early_media;
                if !early_media && has_sdp(&resp.body, &resp.headers) {
                    let (from, to) = (s.callee_side(), s.first_side());
                    if let Some(body) = self.rewrite_sdp(s, from, to, &resp.body) {
                        out.headers.push("Content-Type", "application/sdp");
                        out.body = body;
                        now_early_media = true;
                    }
                }
                s.phase = Phase::Ringing {
                    early: true,
                    early_media: now_early_media,
                };
                self.layer.respond(now, tx, out);
            }
            _ => {}
        }
    }

    /// The first 2xx of a leg the switch dialled with its own offer, when it did not take
    /// our SRTP offer ([`Cx::own_offer_answered`]): the leg is ACKed, released with a BYE
    /// and failed (488).
    pub(super) fn refused_answer(
        &mut self,
        now: Instant,
        s: &mut Session,
        leg: LegId,
        resp: &Response,
    ) -> Option<super::sdes::Refusal> {
        if !(200..300).contains(&resp.code) || s.leg(leg).state == LegState::Confirmed {
            return None;
        }
        let refusal = self
            .own_offer_answered(s, s.leg(leg).side(), sdp_of(resp))
            .err()?;
        if let Some(t) = s.leg(leg).tx {
            self.tx_owner.remove(&t);
        }
        let (request, target) = (s.leg(leg).invite.clone(), s.leg(leg).target);
        self.release_late_answer(now, s.id, &request, resp, target);
        s.leg_mut(leg).state = LegState::Failed { code: 488 };
        Some(refusal)
    }

    /// A fork answered after another won or after the call ended: ACK its 2xx and BYE it
    /// (RFC 3261 §13.2.2.4), so the phone does not stay off-hook.
    pub(super) fn release_late_answer(
        &mut self,
        now: Instant,
        id: u64,
        request: &Request,
        resp: &Response,
        target: Target,
    ) {
        let Some(mut d) = super::dialog::Dialog::uac(request, resp, target) else {
            return;
        };
        let via = self.via(target.transport);
        let ack = d.request_with_cseq(Method::Ack, d.local_cseq, &via);
        self.layer
            .send_stateless(&sip::Message::Request(ack), target);
        let via = self.via(target.transport);
        let bye = d.request(Method::Bye, &via);
        if let Some(t) = self.send_request(now, bye, target) {
            self.tx_owner.insert(t, (id, TxRole::Fire));
        }
    }

    /// `leg` answered first: its dialog is confirmed, the other legs still ringing are
    /// cancelled and the relay joins it to the first party. `false` when the 2xx lacks
    /// usable dialog headers.
    fn take_answer(&mut self, now: Instant, s: &mut Session, leg: LegId, resp: &Response) -> bool {
        let l = s.leg(leg);
        let Some(d) = super::dialog::Dialog::uac(&l.invite, resp, l.target) else {
            tracing::warn!("2xx without usable dialog headers");
            return false;
        };
        s.answered = Some((now, self.unix_ms(now)));
        let others: Vec<LegId> = s.pending_legs().filter(|&l| l != leg).collect();
        self.cancel_legs(now, s, &others);
        let l = s.leg_mut(leg);
        l.state = LegState::Confirmed;
        l.dialog = Some(d);
        s.legs[0].state = LegState::Confirmed;
        let interaction = s.interaction();
        s.phase = Phase::Bridged {
            callee: leg,
            interaction,
        };
        s.bridges.retain(|b| !matches!(b, Bridge::Player { .. }));
        s.bridges.push(Bridge::Relay { legs: [0, leg.0] });
        self.webrtc_answered(s, leg, &resp.body);
        true
    }

    /// `leg` answered the caller's call first: answer the caller with its SDP.
    fn answer(&mut self, now: Instant, s: &mut Session, leg: LegId, resp: Response) {
        let browser = (
            Self::offered_webrtc(s, LegId(0)),
            Self::offered_webrtc(s, leg),
        );
        let mut answer = None;
        // Plain legs' SDP crosses (and SDES is checked) here; a browser's is the peer's.
        let checked = if !(browser.0 || browser.1) && has_sdp(&resp.body, &resp.headers) {
            let (from, to) = (s.leg(leg).side(), s.first_side());
            self.rewrite_sdp_checked(s, from, to, &resp.body)
                .map(|body| answer = Some(body))
        } else if browser.0 {
            // A browser's callee answers our own offer (sdes.rs).
            self.own_offer_answered(s, s.leg(leg).side(), sdp_of(&resp))
        } else {
            Ok(())
        };
        match checked {
            Err(refusal) if refusal != super::sdes::Refusal::BadSdp => {
                // The callee did not take our SRTP offer (RFC 3264 §6): ACK and BYE it,
                // 488 to the caller (sdes.rs).
                tracing::info!(%refusal, "callee's answer refused");
                self.refuse_offer(now, s, refusal);
                let (request, target) = (s.leg(leg).invite.clone(), s.leg(leg).target);
                s.leg_mut(leg).state = LegState::Failed { code: 488 };
                let pending: Vec<LegId> = s.pending_legs().collect();
                self.cancel_legs(now, s, &pending);
                self.release_late_answer(now, s.id, &request, &resp, target);
                return self.end(s, Cause::Failed, HangupSide::Switch, 488);
            }
            _ => {}
        }
        if !self.take_answer(now, s, leg, &resp) {
            return;
        }
        if has_sdp(&resp.body, &resp.headers) {
            // The call's codec, for what the switch plays into it later (hold, transfer).
            s.codec = codec_of(&resp.body);
        }
        if browser.1 {
            // The caller's own codec: the browser's side converts to it.
            s.codec = s.a_invite().and_then(|r| codec_of(&r.body)).or(s.codec);
        }
        let Some((tx, mut out)) = self.caller_ok(s) else {
            return;
        };
        if browser.0 || browser.1 {
            let body = if browser.0 {
                self.learn_sdp(s, s.leg(leg).side(), &resp.body);
                let law = s.codec.unwrap_or(media::Codec::PCMU);
                self.webrtc_answer_caller(now, s, law).unwrap_or_default()
            } else {
                // A plain answer to our WebRTC offer is plain RTP from here on.
                self.learn_sdp(s, s.leg(leg).side(), &resp.body);
                // Our own G.711 answer in the caller's codec (`s.codec`, set above); the
                // caller's SRTP offer was checked when it crossed (fork_call).
                self.local_sdp(s).unwrap_or_default()
            };
            if !body.is_empty() {
                out.headers.push("Content-Type", "application/sdp");
                s.sdp_to_a = body.clone();
                out.body = body;
            }
        } else if let Some(body) = answer {
            out.headers.push("Content-Type", "application/sdp");
            s.sdp_to_a = body.clone();
            out.body = body;
        }
        add_session_headers(s, &mut out);
        self.refresh_session(now, s);
        if s.legs[0].negotiation == Negotiation::OfferInAnswer {
            // The caller's answer comes in its ACK; our ACK to the callee carries it.
            let cseq = s.leg(leg).dialog.as_ref().map_or(1, |d| d.local_cseq);
            s.leg_mut(leg).negotiation = Negotiation::AckAwaitsAnswer { cseq, client: None };
        } else {
            self.ack_leg(s, leg, Vec::new());
        }
        self.layer.respond(now, tx, out);
        self.counters.calls_answered += 1;
        self.record_by_users(now, s, leg);
        self.start_media_checks(now, s.id);
    }

    /// A callee answered a first party the switch had answered itself (a queue's agent, an
    /// overflow target, an originated call's contact): ACK it, stop the player, relay.
    fn bridge_local(&mut self, now: Instant, s: &mut Session, leg: LegId, resp: Response) {
        let was = s.phase.clone();
        if self.refused_answer(now, s, leg, &resp).is_some() {
            // It did not take our SRTP offer (sdes.rs): a failed fork.
            return self.callee_failed(now, s, leg, false);
        }
        if !self.take_answer(now, s, leg, &resp) {
            return;
        }
        if has_sdp(&resp.body, &resp.headers) {
            // Only to learn the callee's address: the first party keeps the SDP it has.
            self.learn_sdp(s, s.leg(leg).side(), &resp.body);
        }
        self.media(MediaCommand::StopPlaying {
            endpoint: Endpoint {
                relay: s.relay(),
                side: s.first_side(),
            },
        });
        self.ack_leg(s, leg, Vec::new());
        if let Some(out) = &s.outbound {
            let (agent, attempt, number) = (out.agent.clone(), out.attempt, out.number.clone());
            self.report(super::OriginationEvent::Connected { attempt });
            self.publish_call(&agent, attempt, &number, "connected", None);
        }
        if let (Phase::Queued { interaction, .. }, Some(agent)) = (was, s.leg(leg).agent.clone()) {
            self.emit(super::Output::Acd(acd::Event::OfferAccepted {
                interaction: acd::InteractionId(interaction),
                agent,
            }));
            if s.record_on_answer && s.recording.is_none() {
                // The queue records this share of its calls.
                self.start_recording(now, s);
            }
        }
        self.record_by_users(now, s, leg);
        self.counters.calls_answered += 1;
    }

    /// Send `leg`'s ACK for its 2xx, with an SDP answer when its offer was late.
    pub(super) fn ack_leg(&mut self, s: &mut Session, leg: LegId, sdp: Vec<u8>) {
        let Some(d) = s.leg(leg).dialog.as_ref() else {
            return;
        };
        let target = d.target;
        let via = self.via(target.transport);
        let mut ack = d.request_with_cseq(Method::Ack, d.local_cseq, &via);
        if !sdp.is_empty() {
            ack.headers.push("Content-Type", "application/sdp");
            ack.body = sdp;
        }
        let bytes = ack.to_bytes();
        self.layer.send_stateless_bytes(bytes.clone(), target);
        let l = s.leg_mut(leg);
        l.ack = Some((bytes, target));
        l.negotiation = Negotiation::Stable;
    }

    /// A callee leg failed. Once every leg has, the caller gets the best failure.
    /// `withdrawn`: we had cancelled it.
    pub(super) fn callee_failed(
        &mut self,
        now: Instant,
        s: &mut Session,
        leg: LegId,
        withdrawn: bool,
    ) {
        if s.answered_locally() {
            return self.local_leg_failed(now, s, leg, withdrawn);
        }
        if !matches!(s.phase, Phase::Ringing { .. }) || s.pending_legs().next().is_some() {
            return;
        }
        let code = best_failure(&self.failure_codes(s));
        if matches!(code, 486 | 600 | 603 | 480 | 408) && self.has_voicemail(&s.to_user.clone()) {
            // Busy, declined or unreachable: the user's voicemail.
            let user = s.to_user.clone();
            return self.send_to_voicemail(now, s, &user);
        }
        self.fail_caller(now, s, code, None);
        self.end(s, Cause::of_status(code), HangupSide::Callee, code);
    }

    fn failure_codes(&self, s: &Session) -> Vec<u16> {
        s.legs
            .iter()
            .filter(|l| l.role == Role::Callee)
            .filter_map(|l| l.failed_code())
            .collect()
    }

    /// A leg of a locally answered call failed: when it was the last one ringing an agent,
    /// the agent refused or missed the offer (RONA); when the overflow target or the
    /// contact is out of reach, the first party is released.
    fn local_leg_failed(&mut self, now: Instant, s: &mut Session, leg: LegId, withdrawn: bool) {
        let agent = s.leg(leg).agent.clone();
        let group_done = s
            .legs
            .iter()
            .filter(|l| l.role == Role::Callee && l.agent == agent)
            .all(|l| !l.pending());
        if !group_done || withdrawn {
            return;
        }
        match (agent, s.interaction()) {
            (Some(agent), Some(i)) => self.emit(super::Output::Acd(acd::Event::OfferRejected {
                interaction: acd::InteractionId(i),
                agent,
            })),
            _ => {
                let code = best_failure(&self.failure_codes(s));
                self.hangup_all(now, s, Cause::of_status(code), HangupSide::Callee, code)
            }
        }
    }

    /// `agent` declines the queue's offer ringing their phones: CANCEL those forks (their
    /// 487 changes nothing more) and tell the ACD at once, as a refusing phone would.
    pub(super) fn decline_offer(
        &mut self,
        now: Instant,
        s: &mut Session,
        agent: &str,
    ) -> Result<(), super::ControlError> {
        let offered: Vec<LegId> = s
            .legs
            .iter()
            .enumerate()
            .filter(|(_, l)| l.state == LegState::Ringing && l.role == Role::Callee)
            .filter(|(_, l)| l.agent.as_ref().is_some_and(|a| a.as_str() == agent))
            .map(|(i, _)| LegId(i))
            .collect();
        let (Some(interaction), false) = (s.interaction(), offered.is_empty()) else {
            return Err(super::ControlError::NotOffered(agent.to_string()));
        };
        self.cancel_legs(now, s, &offered);
        tracing::info!(call = s.id, %agent, "offer declined from the desktop");
        self.emit(super::Output::Acd(acd::Event::OfferRejected {
            interaction: acd::InteractionId(interaction),
            agent: acd::AgentId::new(agent),
        }));
        Ok(())
    }

    pub(super) fn ring_timeout(&mut self, now: Instant, s: &mut Session) {
        match s.phase {
            // Nobody answered an originated call in time (agent or contact), or a queue's
            // overflow target did not: release the first party.
            Phase::CallingAgent | Phase::CallingContact { .. } | Phase::Overflowing => {
                self.hangup_all(now, s, Cause::NoAnswer, HangupSide::Switch, 480)
            }
            Phase::Ringing { .. } if self.has_voicemail(&s.to_user.clone()) => {
                let user = s.to_user.clone();
                self.send_to_voicemail(now, s, &user);
            }
            Phase::Ringing { .. } => {
                let pending: Vec<LegId> = s.pending_legs().collect();
                self.cancel_legs(now, s, &pending);
                self.fail_caller(now, s, 480, Some("No Answer"));
                self.end(s, Cause::NoAnswer, HangupSide::Switch, 480);
            }
            _ => {}
        }
    }

    /// The caller cancelled before an answer (RFC 3261 §9.2): 487 and cancel the forks.
    pub(super) fn on_cancel(
        &mut self,
        now: Instant,
        s: &mut Session,
        invite: sip::transaction::TxId,
    ) {
        let answered = matches!(
            s.phase,
            Phase::Bridged { .. }
                | Phase::Transferring { .. }
                | Phase::Consulting(_)
                | Phase::Conference(_)
                | Phase::Ended(_)
        );
        if answered || s.answered_locally() {
            return;
        }
        let pending: Vec<LegId> = s.pending_legs().collect();
        self.cancel_legs(now, s, &pending);
        if let (Some(req), Some(a)) = (s.a_invite(), s.a()) {
            let resp = req.response(487, None, Some(&a.local_tag));
            self.layer.respond(now, invite, resp);
        }
        self.end(s, Cause::Cancelled, HangupSide::Caller, 487);
    }

    /// Ring `to` (its `bindings`) for a session whose first party the switch holds,
    /// offering the relay's B endpoint: an overflow target, an originated call's contact.
    pub(super) fn ring_number(
        &mut self,
        now: Instant,
        s: &mut Session,
        bindings: &[crate::registrar::Binding],
        from_user: &str,
        display: &str,
        to: &str,
    ) {
        let domain = self.config.sip.domain.clone();
        let mut from = sip::NameAddr::new(sip::Uri::sip(Some(from_user), &domain, None));
        if !display.is_empty() {
            from.display = Some(display.to_string());
        }
        from.set_param("tag", Some(self.new_tag()));
        let to = sip::NameAddr::new(sip::Uri::sip(Some(to), &domain, None));
        let body = self.offer_sdp(s, bindings);
        let spec = super::setup::ForkSpec {
            from,
            to,
            max_forwards: 70,
            body: &body,
            extra: Vec::new(),
            endpoint: None,
        };
        self.add_forks(now, s, bindings, &spec, None, Role::Callee);
    }

    pub(super) fn schedule_ring(&mut self, now: Instant, id: u64) {
        let ring = self.config.sip.invite_timeout();
        self.schedule(now + ring, id, CallTimer::Ring);
    }
}

/// The SDP of a response (an answer to our offer), empty when it has none.
pub(super) fn sdp_of(resp: &Response) -> &[u8] {
    if has_sdp(&resp.body, &resp.headers) {
        &resp.body
    } else {
        &[]
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
