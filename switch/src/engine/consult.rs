//! Consultation, attended transfer and conference, asked over REST: moves of legs between
//! the relay, players and the mixer, each leg keeping its own relay endpoint.
//!
//! - **Consult** (`CallOp::Consult`): the customer moves to music; a new endpoint is bound
//!   and the target (a user or any number the dialplan routes) is rung from it, the agent
//!   hearing ringback; once it answers, the agent and the consulted party hear each other.
//!   A failed target gives the agent the customer back, with the status on the event.
//! - **Alternate**: the agent talks to the customer again and the consulted party hears
//!   music; and back.
//! - **End consult**: the consulted leg is released (BYE, or CANCEL while it rings) and
//!   the agent and the customer talk again. The consulted party hanging up does the same.
//! - **Complete transfer**: the customer and the consulted party are joined and the agent's
//!   leg is released (its ACD interaction ends: wrap-up). The agent's phone hanging up
//!   during an answered consultation does the same, as on a PBX.
//! - **Complete conference**: all three hear the mix of the others.
//! - In a conference: **add** a party by DN, **mute** (the others no longer hear it),
//!   **unmute**, **remove** (BYE); a member's BYE removes it too. With fewer than two
//!   members left the call ends.
//!
//! The customer hanging up ends the whole call (the consultation too).

use super::hangup::add_session_headers;
use super::sdp::{audio_sdp, has_sdp};
use super::session::{
    Bridge, Conference, Consult, Dialing, Hold, LegId, LegState, Phase, Prompt, Role, Session,
};
use super::setup::{ForkSpec, Route};
use super::{ControlError, Cx};
use crate::records::{Cause, HangupSide};
use media::graph::{Endpoint, MediaCommand, Side};
use media::Hears;
use sip::transaction::TxId;
use sip::{Method, NameAddr, Request, Response, Uri};
use std::time::Instant;

/// Most endpoints one call may have (conference members, consultations).
const MAX_ENDPOINTS: usize = 64;

impl Cx {
    /// Start consulting `target` from the agent's leg of a two-party call.
    pub(super) fn consult(
        &mut self,
        now: Instant,
        s: &mut Session,
        target: &str,
    ) -> Result<(), ControlError> {
        let Phase::Bridged {
            callee,
            interaction,
        } = s.phase
        else {
            return Err(ControlError::NotConnected);
        };
        if s.supervisor.is_some() {
            return Err(ControlError::Supervised);
        }
        // The internal party consults: the agent of a call the switch placed is the first
        // leg, otherwise the callee (the agent the queue or the caller reached).
        let (agent, customer) = if s.legs[0].role == Role::Agent {
            (LegId(0), callee)
        } else {
            (callee, LegId(0))
        };
        self.resolve(now, target)?;
        let endpoint = self.new_endpoint(s)?;
        for leg in [agent, customer] {
            s.leg_mut(leg).hold = Hold::Off;
        }
        let music = self.prompts.music();
        self.play(s, customer.0, music, Prompt::Music);
        self.play(
            s,
            agent.0,
            media::Playlist::looped(super::originate::ringback()),
            Prompt::Ringback,
        );
        s.bridges.retain(|b| !matches!(b, Bridge::Relay { .. }));
        s.phase = Phase::Consulting(Consult {
            agent,
            customer,
            dialing: Dialing {
                endpoint,
                target: target.to_string(),
                leg: None,
            },
            with_customer: false,
            interaction,
        });
        tracing::info!(call = s.id, %target, "consultation started");
        self.call_changed(s, "consult_started", Some(target.to_string()));
        Ok(())
    }

    /// Where `target` rings: a user's phones or a trunk number (one binding is rung), or
    /// a queue: the switch itself, where the call waits in the queue (music,
    /// announcements) like any caller until the ACD gives it an agent.
    pub(super) fn resolve(
        &self,
        now: Instant,
        target: &str,
    ) -> Result<crate::registrar::Binding, ControlError> {
        match self.route(now, target) {
            Ok(Route::User(b)) => b
                .into_iter()
                .next()
                .ok_or_else(|| ControlError::NoTarget(target.to_string())),
            Ok(Route::Queue) => self
                .own_binding(target)
                .ok_or_else(|| ControlError::NoTarget(target.to_string())),
            Ok(_) => Err(ControlError::Unsupported(
                "only a user, a queue or an external number can be consulted or added",
            )),
            Err(_) => Err(ControlError::NoTarget(target.to_string())),
        }
    }

    /// Closes an added relay endpoint of the call.
    pub(super) fn remove_endpoint(&mut self, s: &Session, side: Side) {
        self.media(MediaCommand::RemoveEndpoint {
            endpoint: Endpoint {
                relay: s.relay(),
                side,
            },
        });
    }

    /// Binds one more relay endpoint for the call (answered by `on_endpoint`).
    pub(super) fn new_endpoint(&mut self, s: &mut Session) -> Result<Side, ControlError> {
        let relay = s.relay();
        let anchor = s.anchor.as_mut().ok_or(ControlError::NotConnected)?;
        if anchor.ports.len() >= MAX_ENDPOINTS {
            return Err(ControlError::Unsupported("too many parties on one call"));
        }
        let side = Side(anchor.ports.len() as u8);
        anchor.ports.push(0);
        self.media(MediaCommand::AddEndpoint {
            endpoint: Endpoint { relay, side },
        });
        Ok(side)
    }

    /// The media plane bound (`port`) or could not bind an added endpoint.
    pub(super) fn on_endpoint(
        &mut self,
        now: Instant,
        s: &mut Session,
        side: Side,
        port: Option<u16>,
    ) {
        if let (Some(anchor), Some(port)) = (s.anchor.as_mut(), port) {
            if let Some(slot) = anchor.ports.get_mut(side.0 as usize) {
                *slot = port;
            }
        }
        if s.supervisor
            .as_ref()
            .is_some_and(|x| x.dialing.endpoint == side && x.incoming.is_some())
        {
            return self.answer_supervisor(now, s, port);
        }
        let supervisor = s
            .supervisor
            .as_ref()
            .filter(|x| x.dialing.endpoint == side && x.dialing.leg.is_none())
            .map(|x| x.dialing.clone());
        if let Some(dialing) = supervisor {
            let leg = port.and_then(|port| self.dial(now, s, &dialing, port));
            match (leg, s.supervisor.as_mut()) {
                (Some(leg), Some(x)) => x.dialing.leg = Some(leg),
                _ => {
                    s.supervisor = None;
                    self.route_supervision(s);
                    self.call_changed(
                        s,
                        "supervise_failed",
                        Some("503 Service Unavailable".into()),
                    );
                }
            }
            return;
        }
        let dialing = match &s.phase {
            Phase::Consulting(c) if c.dialing.endpoint == side && c.dialing.leg.is_none() => {
                c.dialing.clone()
            }
            Phase::Conference(c) => match &c.adding {
                Some(d) if d.endpoint == side && d.leg.is_none() => d.clone(),
                _ => return,
            },
            _ => return,
        };
        let leg = match port {
            Some(port) => self.dial(now, s, &dialing, port),
            None => None,
        };
        match (leg, &mut s.phase) {
            (Some(leg), Phase::Consulting(c)) => c.dialing.leg = Some(leg),
            (Some(leg), Phase::Conference(c)) => {
                if let Some(d) = c.adding.as_mut() {
                    d.leg = Some(leg);
                }
            }
            (None, _) => self.dial_failed(s, side, "503 Service Unavailable".into()),
            _ => {}
        }
    }

    /// Who the customer of the call is, as a pop-up names them: the caller's name and
    /// number, or the contact of a call the switch placed.
    fn customer_name(s: &Session) -> String {
        if let Some(out) = &s.outbound {
            return out.number.clone();
        }
        match s.from_display.trim() {
            "" => s.from_user.clone(),
            name => format!("{name} ({})", s.from_user),
        }
    }

    /// Ring `dialing.target` from endpoint `port`; the new leg.
    fn dial(
        &mut self,
        now: Instant,
        s: &mut Session,
        dialing: &Dialing,
        port: u16,
    ) -> Option<LegId> {
        let binding = self.resolve(now, &dialing.target).ok()?;
        let anchor = s.anchor.as_ref()?;
        let codec = s.codec.unwrap_or(media::Codec::PCMU);
        let plain = audio_sdp(s.id, anchor.ip, port, codec, Some("101"));
        let body = self.own_offer(s, dialing.endpoint, std::slice::from_ref(&binding), plain);
        let domain = self.config.sip.domain.clone();
        let by = match &s.phase {
            Phase::Consulting(c) => s.leg(c.agent).invite.uri.user.clone(),
            _ => Self::parties(s).and_then(|(agent, _)| s.leg(agent).invite.uri.user.clone()),
        }
        .unwrap_or_else(|| s.from_user.clone());
        let mut from = NameAddr::new(Uri::sip(Some(&by), &domain, None));
        from.set_param("tag", Some(self.new_tag()));
        if self.node.is_queue(&dialing.target) {
            // The queue's agent is offered a consultation: its pop-up names the customer.
            from.display = Some(format!("Consultation for {}", Self::customer_name(s)));
        }
        let to = NameAddr::new(Uri::sip(Some(&dialing.target), &domain, None));
        let spec = ForkSpec {
            from,
            to,
            max_forwards: 70,
            body: &body,
            extra: Vec::new(),
            endpoint: Some(dialing.endpoint),
        };
        let first = s.legs.len();
        self.add_forks(
            now,
            s,
            std::slice::from_ref(&binding),
            &spec,
            None,
            Role::Callee,
        );
        let leg = s.legs.get_mut(first).filter(|l| l.pending())?;
        leg.endpoint = dialing.endpoint;
        Some(LegId(first))
    }

    /// The consulted or added party could not be reached (`why`: its status line).
    fn dial_failed(&mut self, s: &mut Session, side: Side, why: String) {
        self.remove_endpoint(s, side);
        match &mut s.phase {
            Phase::Consulting(c) => {
                let c = c.clone();
                tracing::info!(call = s.id, %why, "consultation failed");
                self.back_to_customer(s, &c);
                self.call_changed(s, "consult_failed", Some(why));
            }
            Phase::Conference(c) => {
                c.adding = None;
                tracing::info!(call = s.id, %why, "conference party not added");
                self.call_changed(s, "party_failed", Some(why));
            }
            _ => {}
        }
    }

    /// A response to the INVITE of a consulted or added party.
    pub(super) fn dialing_response(
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
        if code >= 300 && s.leg(leg).state != LegState::Confirmed {
            if let Some(t) = s.leg(leg).tx {
                self.tx_owner.remove(&t);
            }
            let side = s.leg(leg).side();
            s.leg_mut(leg).state = LegState::Failed { code };
            return self.dial_failed(s, side, format!("{code} {}", resp.reason));
        }
        if let Some(refusal) = self.refused_answer(now, s, leg, &resp) {
            let side = s.leg(leg).side();
            return self.dial_failed(s, side, format!("488 {refusal}"));
        }
        if !self.confirm_dialed(s, leg, &resp) {
            return;
        }
        match s.phase.clone() {
            Phase::Consulting(c) => {
                self.stop_playing(s, c.agent.0);
                self.join(s, c.agent, leg);
                tracing::info!(call = s.id, "consulted party answered");
                self.call_changed(s, "consult_answered", None);
            }
            Phase::Conference(mut c) => {
                c.adding = None;
                c.members.push(leg);
                s.phase = Phase::Conference(c);
                self.remix(s);
                tracing::info!(call = s.id, "party joined the conference");
                self.call_changed(s, "conference_joined", None);
            }
            _ => {}
        }
    }

    /// The 2xx of a leg the switch dialled from an endpoint of its own: its dialog
    /// confirmed, its media learnt, ACKed. `false` for a retransmission (ACKed again) or a
    /// 2xx that makes no dialog.
    pub(super) fn confirm_dialed(&mut self, s: &mut Session, leg: LegId, resp: &Response) -> bool {
        if s.leg(leg).state == LegState::Confirmed {
            if let Some((ack, target)) = s.leg(leg).ack.clone() {
                self.layer.send_stateless_bytes(ack, target);
            }
            return false;
        }
        if let Some(t) = s.leg(leg).tx {
            self.tx_owner.remove(&t);
        }
        let l = s.leg(leg);
        let Some(mut d) = super::dialog::Dialog::uac(&l.invite, resp, l.target) else {
            return false;
        };
        if let Some(tag) = super::to_tag(&resp.headers) {
            d.remote_tag = tag;
        }
        let l = s.leg_mut(leg);
        l.state = LegState::Confirmed;
        l.dialog = Some(d);
        if has_sdp(&resp.body, &resp.headers) {
            self.learn_sdp(s, s.leg(leg).side(), &resp.body);
            self.webrtc_answered(s, leg, &resp.body);
        }
        self.ack_leg(s, leg, Vec::new());
        true
    }

    /// `a` and `b` hear each other, packets copied.
    fn join(&mut self, s: &mut Session, a: LegId, b: LegId) {
        self.hear(s, a, Hears::Endpoint(s.leg(b).side()));
        self.hear(s, b, Hears::Endpoint(s.leg(a).side()));
        s.bridges
            .retain(|x| !matches!(x, Bridge::Relay { .. } | Bridge::Mixer { .. }));
        s.bridges.push(Bridge::Relay { legs: [a.0, b.0] });
    }

    pub(super) fn hear(&mut self, s: &Session, leg: LegId, hears: Hears) {
        self.media(MediaCommand::Hear {
            endpoint: Endpoint {
                relay: s.relay(),
                side: s.leg(leg).side(),
            },
            hears,
        });
    }

    /// Every member of the conference hears the mix of the others, the muted left out.
    fn remix(&mut self, s: &mut Session) {
        let Phase::Conference(c) = &s.phase else {
            return;
        };
        let codec = s.codec.unwrap_or(media::Codec::PCMU);
        let of: Vec<Side> = c
            .members
            .iter()
            .filter(|m| !c.muted.contains(m))
            .map(|m| s.leg(*m).side())
            .collect();
        let members = c.members.clone();
        for m in &members {
            self.hear(
                s,
                *m,
                Hears::Mix {
                    of: of.clone(),
                    codec,
                },
            );
        }
        s.bridges
            .retain(|x| !matches!(x, Bridge::Relay { .. } | Bridge::Mixer { .. }));
        s.bridges.push(Bridge::Mixer {
            legs: members.iter().map(|m| m.0).collect(),
            muted: match &s.phase {
                Phase::Conference(c) => c.muted.iter().map(|m| m.0).collect(),
                _ => Vec::new(),
            },
        });
    }

    /// The consultation is over: the agent and the customer talk again.
    fn back_to_customer(&mut self, s: &mut Session, c: &Consult) {
        self.stop_playing(s, c.customer.0);
        self.stop_playing(s, c.agent.0);
        self.join(s, c.agent, c.customer);
        let callee = if c.agent == LegId(0) {
            c.customer
        } else {
            c.agent
        };
        s.phase = Phase::Bridged {
            callee,
            interaction: c.interaction,
        };
    }

    /// Release the consulted leg: BYE once answered, CANCEL while it rings.
    pub(super) fn release(&mut self, now: Instant, s: &mut Session, leg: LegId) {
        match s.leg(leg).state {
            LegState::Confirmed => {
                self.send_bye(now, s, leg);
                s.leg_mut(leg).state = LegState::Failed { code: 200 };
            }
            LegState::Ringing => self.cancel_legs(now, s, &[leg]),
            _ => {}
        }
        let side = s.leg(leg).side();
        if side.0 >= 2 {
            self.remove_endpoint(s, side);
        }
    }

    /// Alternate, end the consultation, complete it as a transfer or a conference.
    pub(super) fn consult_step(
        &mut self,
        now: Instant,
        s: &mut Session,
        step: ConsultStep,
    ) -> Result<(), ControlError> {
        let Phase::Consulting(c) = s.phase.clone() else {
            return Err(ControlError::NotConsulting);
        };
        let answered = c
            .dialing
            .leg
            .filter(|l| s.leg(*l).state == LegState::Confirmed);
        match step {
            ConsultStep::Alternate => {
                let consulted = answered.ok_or(ControlError::NotAnswered)?;
                let music = self.prompts.music();
                if c.with_customer {
                    self.play(s, c.customer.0, music, Prompt::Music);
                    self.stop_playing(s, consulted.0);
                    self.join(s, c.agent, consulted);
                } else {
                    self.play(s, consulted.0, music, Prompt::Music);
                    self.stop_playing(s, c.customer.0);
                    self.join(s, c.agent, c.customer);
                }
                let with_customer = !c.with_customer;
                if let Phase::Consulting(c) = &mut s.phase {
                    c.with_customer = with_customer;
                }
                self.call_changed(s, "consult_alternated", None);
            }
            ConsultStep::End => {
                if let Some(leg) = c.dialing.leg {
                    self.release(now, s, leg);
                } else {
                    self.remove_endpoint(s, c.dialing.endpoint);
                }
                self.back_to_customer(s, &c);
                self.call_changed(s, "consult_ended", None);
            }
            ConsultStep::CompleteTransfer => {
                let consulted = answered.ok_or(ControlError::NotAnswered)?;
                self.complete_transfer(now, s, &c, consulted)?;
            }
            ConsultStep::CompleteConference => {
                let consulted = answered.ok_or(ControlError::NotAnswered)?;
                for leg in [c.customer, c.agent, consulted] {
                    self.stop_playing(s, leg.0);
                }
                let mut members = vec![c.customer, c.agent, consulted];
                members.sort();
                s.phase = Phase::Conference(Conference {
                    members,
                    muted: Vec::new(),
                    adding: None,
                    interaction: c.interaction,
                });
                self.remix(s);
                tracing::info!(call = s.id, "conference started");
                self.call_changed(s, "conference_started", None);
            }
        }
        Ok(())
    }

    /// The customer and the consulted party talk; the agent's leg goes.
    fn complete_transfer(
        &mut self,
        now: Instant,
        s: &mut Session,
        c: &Consult,
        consulted: LegId,
    ) -> Result<(), ControlError> {
        // The contact of a call the switch placed takes the first seat first.
        // (The consulted party's leg is past both, so keeps its index.)
        self.seat_contact_first(s);
        let c = &match &s.phase {
            Phase::Consulting(seated) => seated.clone(),
            _ => c.clone(),
        };
        self.stop_playing(s, c.customer.0);
        self.stop_playing(s, consulted.0);
        self.join(s, c.customer, consulted);
        if s.leg(c.agent).state == LegState::Confirmed {
            self.send_bye(now, s, c.agent);
        }
        s.leg_mut(c.agent).state = LegState::Failed { code: 200 };
        let interaction = self.hand_over(c.interaction);
        self.close_pair(now, s, true);
        self.placed_call_handed_on(s);
        s.to_user = c.dialing.target.clone();
        s.phase = Phase::Bridged {
            callee: consulted,
            interaction,
        };
        tracing::info!(call = s.id, "consultation completed as a transfer");
        self.call_changed(s, "transferred", None);
        Ok(())
    }

    /// The agent is done with the interaction (it went to someone outside the ACD): its
    /// wrap-up starts. The call goes on without an interaction.
    pub(super) fn hand_over(&mut self, interaction: Option<u64>) -> Option<u64> {
        if let Some(i) = interaction {
            if self.interactions.remove(&i).is_some() {
                self.emit(super::Output::Acd(acd::Event::InteractionEnded {
                    interaction: acd::InteractionId(i),
                }));
            }
        }
        None
    }

    /// Add a party to the conference by DN.
    pub(super) fn add_party(
        &mut self,
        now: Instant,
        s: &mut Session,
        target: &str,
    ) -> Result<(), ControlError> {
        let Phase::Conference(c) = &s.phase else {
            return Err(ControlError::NotConference);
        };
        if c.adding.is_some() {
            return Err(ControlError::Busy);
        }
        self.resolve(now, target)?;
        let endpoint = self.new_endpoint(s)?;
        if let Phase::Conference(c) = &mut s.phase {
            c.adding = Some(Dialing {
                endpoint,
                target: target.to_string(),
                leg: None,
            });
        }
        self.call_changed(s, "party_added", Some(target.to_string()));
        Ok(())
    }

    /// Mute, unmute or remove a conference member.
    pub(super) fn member(
        &mut self,
        now: Instant,
        s: &mut Session,
        leg: usize,
        step: MemberStep,
    ) -> Result<(), ControlError> {
        let Phase::Conference(c) = &mut s.phase else {
            return Err(ControlError::NotConference);
        };
        let listed = c.members.clone();
        let member = *listed.get(leg).ok_or(ControlError::NoLeg(leg))?;
        match step {
            MemberStep::Mute => {
                if !c.muted.contains(&member) {
                    c.muted.push(member);
                }
                self.remix(s);
                self.call_changed(s, "muted", Some(leg.to_string()));
            }
            MemberStep::Unmute => {
                c.muted.retain(|m| *m != member);
                self.remix(s);
                self.call_changed(s, "unmuted", Some(leg.to_string()));
            }
            MemberStep::Remove => {
                self.release(now, s, member);
                self.left_conference(now, s, member);
            }
        }
        Ok(())
    }

    /// `leg` is no longer in the conference; fewer than two left end the call.
    fn left_conference(&mut self, now: Instant, s: &mut Session, leg: LegId) {
        let Phase::Conference(c) = &mut s.phase else {
            return;
        };
        c.members.retain(|m| *m != leg);
        c.muted.retain(|m| *m != leg);
        if c.members.len() < 2 {
            let rest = c.members.clone();
            let adding = c.adding.as_ref().and_then(|d| d.leg);
            for l in rest {
                self.send_bye(now, s, l);
            }
            if let Some(l) = adding {
                self.cancel_legs(now, s, &[l]);
            }
            tracing::info!(call = s.id, "conference over");
            return self.end(s, Cause::Normal, HangupSide::Callee, 200);
        }
        if leg == LegId(0) {
            // The customer left: the interaction is over for the ACD.
            let interaction = c.interaction.take();
            self.hand_over(interaction);
        }
        self.remix(s);
        self.call_changed(s, "conference_left", None);
    }

    /// A BYE from one of the legs of a consultation or a conference.
    pub(super) fn bye_in_party(
        &mut self,
        now: Instant,
        s: &mut Session,
        leg: LegId,
        tx: TxId,
        req: &Request,
    ) {
        self.reply(now, tx, req, 200, None);
        s.leg_mut(leg).state = LegState::Failed { code: 200 };
        match s.phase.clone() {
            Phase::Conference(_) => self.left_conference(now, s, leg),
            Phase::Consulting(c) => {
                let consulted = c.dialing.leg;
                if Some(leg) == consulted {
                    self.remove_endpoint(s, c.dialing.endpoint);
                    self.back_to_customer(s, &c);
                    self.call_changed(s, "consult_ended", Some("hung up".into()));
                } else if leg == c.agent {
                    let answered = consulted.filter(|l| s.leg(*l).state == LegState::Confirmed);
                    match answered {
                        Some(l) => {
                            // The agent hung up on an answered consultation: hand over.
                            let _ = self.complete_transfer(now, s, &c, l);
                        }
                        _ => {
                            if let Some(l) = consulted {
                                self.release(now, s, l);
                            }
                            self.send_bye(now, s, c.customer);
                            self.end(s, Cause::Normal, HangupSide::Callee, 200);
                        }
                    }
                } else {
                    // The customer left: the consultation goes too.
                    if let Some(l) = consulted {
                        self.release(now, s, l);
                    }
                    self.send_bye(now, s, c.agent);
                    self.end(s, Cause::Normal, HangupSide::Caller, 200);
                }
            }
            _ => {}
        }
    }

    /// A request other than BYE in a consultation or conference: the switch is each leg's
    /// peer, so it answers re-offers (session refreshes, a phone's own hold) itself with
    /// the SDP it last sent that leg, and INFO; anything else waits.
    pub(super) fn party_request(
        &mut self,
        now: Instant,
        s: &mut Session,
        leg: LegId,
        tx: TxId,
        req: Request,
    ) {
        match req.method {
            Method::Invite | Method::Update => {
                let offer = has_sdp(&req.body, &req.headers);
                let side = s.leg(leg).side();
                let mut answer = None;
                if req.method == Method::Invite || offer {
                    answer = self.hold_answer(s, leg, &req.body);
                }
                if let Some(plain) = answer.take_if(|_| offer) {
                    // New SRTP keys in the re-offer reach the relay (sdes.rs).
                    match self.own_answer(s, side, &req.body, plain) {
                        Ok(body) => answer = Some(body),
                        Err(refusal) => {
                            let warning = refusal.warning();
                            return self.reply_warning(now, tx, &req, 488, None, Some(&warning));
                        }
                    }
                }
                if offer && super::sdp::holds(&req.body) != Some(true) {
                    self.learn_sdp(s, side, &req.body);
                }
                let mut resp = req.response(200, None, None);
                resp.headers.push("Contact", self.leg_contact(s, leg));
                if leg.0 == 0 {
                    self.refresh_session(now, s);
                    add_session_headers(s, &mut resp);
                }
                if let Some(answer) = answer {
                    if leg.0 == 0 {
                        s.sdp_to_a = answer.clone();
                    }
                    resp.headers.push("Content-Type", "application/sdp");
                    resp.body = answer;
                }
                self.layer.respond(now, tx, resp);
            }
            Method::Info | Method::Notify | Method::Message | Method::Options => {
                self.reply(now, tx, &req, 200, None)
            }
            _ => self.reply(now, tx, &req, 491, Some("Request Pending")),
        }
    }
}

/// What can be done with a consultation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConsultStep {
    Alternate,
    End,
    CompleteTransfer,
    CompleteConference,
}

/// What can be done with a conference member.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemberStep {
    Mute,
    Unmute,
    Remove,
}
