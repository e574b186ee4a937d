//! Calls the switch answers itself: callers to a queue's DN, who hear music and
//! announcements until the ACD offers them to an agent, and agents dialling a feature code.
//! The ACD's orders ([`AcdOrder`]) for each interaction arrive here.

use super::hangup::add_session_headers;
use super::sdes::Refusal;
use super::sdp::{audio_sdp, codec_of};
use super::session::{Bridge, LegId, LegState, Phase, Prompt, Role, Session};
use super::setup::{ForkSpec, Route};
use super::{CallTimer, Cx, Engine, Output};
use crate::orders::{AcdOrder, Feature, FeatureOutcome};
use crate::records::{Cause, HangupSide};
use crate::registrar::Binding;
use media::graph::{Endpoint, MediaCommand};
use sip::NameAddr;
use std::time::{Duration, Instant};

/// How long after a feature code's confirmation the switch hangs up.
const FEATURE_HANGUP_GRACE: Duration = Duration::from_millis(300);

impl Engine {
    /// An order from the ACD for one of this shard's interactions or feature calls.
    pub(super) fn handle_acd(&mut self, now: Instant, order: AcdOrder) {
        if let AcdOrder::FeatureDone { call, outcome } = order {
            return self.with(now, call, |cx, s| cx.feature_done(now, s, outcome));
        }
        let Some(interaction) = order.interaction() else {
            return;
        };
        let Some(&id) = self.cx.interactions.get(&interaction) else {
            return;
        };
        self.with(now, id, |cx, s| cx.acd_order(now, s, order));
    }
}

impl Cx {
    /// A caller the switch answers itself: the codec for what it plays, and where the
    /// caller wants its media. `false` (and the call failed) when no G.711 is offered.
    pub(super) fn hold_caller(&mut self, now: Instant, s: &mut Session) -> bool {
        let Some(codec) = choose_codec(s) else {
            self.hangup_all(now, s, Cause::Failed, HangupSide::Switch, 488);
            return false;
        };
        s.codec = Some(codec);
        let invite = &s.legs[0].invite;
        if super::sdp::has_sdp(&invite.body, &invite.headers)
            && !super::webrtc::is_webrtc_sdp(&invite.body)
        {
            self.learn_sdp(s, s.legs[0].side(), &invite.body);
        }
        true
    }

    /// A caller to a queue DN: hand it to the ACD, which answers with the first order.
    pub(super) fn start_queue_call(&mut self, now: Instant, s: &mut Session) {
        if !self.hold_caller(now, s) {
            return;
        }
        self.arrive(s, 0);
    }

    /// The first party arrives in the queue `s.to_user` as a new interaction, with its
    /// caller data; `waited_ms`: how long it has been in the contact centre already (a
    /// transfer), for the queue's `transfer_arrival`.
    pub(super) fn arrive(&mut self, s: &mut Session, waited_ms: u64) {
        let interaction = self.new_interaction();
        self.interactions.insert(interaction, s.id);
        s.phase = Phase::Entering { interaction };
        let arrival = acd::Arrival {
            id: acd::InteractionId(interaction),
            queue: acd::Dn::new(&s.to_user),
            channel: acd::Channel::Voice,
            priority: 0,
            caller: acd::CallerInfo {
                number: s.from_user.clone(),
                name: s.from_display.clone(),
            },
            skills: acd::Skills::new(),
            waited_ms,
        };
        self.emit(Output::Acd(acd::Event::InteractionArrived(arrival)));
    }

    /// An agent dialled a feature code: answer, ask the ACD, confirm, hang up.
    pub(super) fn start_feature_call(&mut self, now: Instant, s: &mut Session, feature: Feature) {
        if !self.hold_caller(now, s) {
            return;
        }
        self.answer_locally(now, s, Phase::Feature);
        self.emit(Output::Feature {
            call: s.id,
            user: s.from_user.clone(),
            feature,
        });
    }

    /// Our own SDP for the first party: the relay endpoint facing it and the agreed codec,
    /// plus telephone-event when the caller offered it.
    /// With SDES-SRTP when the caller offered it over TLS ([`Cx::own_answer`]); an SRTP
    /// offer we refuse is the refusal, for a 488.
    pub(super) fn local_sdp(&mut self, s: &Session) -> Result<Vec<u8>, Refusal> {
        let Some(anchor) = s.anchor.as_ref() else {
            return Ok(Vec::new());
        };
        let codec = s.codec.unwrap_or(media::Codec::PCMU);
        let offer = s.a_invite().map_or(&[][..], |r| &r.body[..]);
        let dtmf = std::str::from_utf8(offer)
            .ok()
            .and_then(media::sdp::telephone_event)
            .map(|pt| pt.to_string());
        let plain = audio_sdp(
            s.id,
            anchor.ip,
            anchor.port(s.first_side()),
            codec,
            dtmf.as_deref(),
        );
        self.own_answer(s, s.first_side(), offer, plain)
    }

    /// Answer the caller with our SDP (it then hears what the switch plays), moving the
    /// session to `next`. Does nothing once the caller is answered.
    pub(super) fn answer_locally(&mut self, now: Instant, s: &mut Session, next: Phase) {
        if s.legs[0].state == LegState::Confirmed {
            return;
        }
        let sdp = if super::webrtc::is_webrtc_sdp(&s.legs[0].invite.body) {
            let law = s.codec.unwrap_or(media::Codec::PCMU);
            self.webrtc_answer_caller(now, s, law).unwrap_or_default()
        } else {
            match self.local_sdp(s) {
                Ok(sdp) => sdp,
                Err(refusal) => {
                    // Not answered: the caller's offer gets its 488 (sdes.rs).
                    self.refuse_offer(now, s, refusal);
                    return self.end(s, Cause::Failed, HangupSide::Switch, 488);
                }
            }
        };
        s.legs[0].state = LegState::Confirmed;
        s.phase = next;
        // A waiting caller whose network died must not hold the queue forever.
        self.start_media_checks(now, s.id);
        let Some((tx, mut out)) = self.caller_ok(s) else {
            return;
        };
        out.headers.push("Content-Type", "application/sdp");
        add_session_headers(s, &mut out);
        self.refresh_session(now, s);
        s.sdp_to_a = sdp.clone();
        out.body = sdp;
        self.layer.respond(now, tx, out);
    }

    /// The ACD's first word on an entering caller: answer it, it is now waiting.
    fn enter_queue(&mut self, now: Instant, s: &mut Session) {
        if let Phase::Entering { interaction } = s.phase {
            let waiting = Phase::Queued {
                interaction,
                announced: false,
            };
            if s.legs[0].state == LegState::Confirmed {
                // Transferred into the queue: answered long ago.
                s.phase = waiting;
            } else {
                self.answer_locally(now, s, waiting);
            }
        }
    }

    /// A player edge into `leg`'s endpoint.
    pub(super) fn play(
        &mut self,
        s: &mut Session,
        leg: usize,
        playlist: media::Playlist,
        what: Prompt,
    ) {
        let Some(codec) = s.codec else { return };
        let side = s.legs[leg].side();
        self.media(MediaCommand::Play {
            endpoint: Endpoint {
                relay: s.relay(),
                side,
            },
            playlist,
            codec,
        });
        s.bridges
            .retain(|b| !matches!(b, Bridge::Player { leg: l, .. } if *l == leg));
        s.bridges.push(Bridge::Player { leg, playing: what });
    }

    /// Remove `leg`'s player: it hears the relay again.
    pub(super) fn stop_playing(&mut self, s: &mut Session, leg: usize) {
        let side = s.legs[leg].side();
        self.media(MediaCommand::StopPlaying {
            endpoint: Endpoint {
                relay: s.relay(),
                side,
            },
        });
        s.bridges
            .retain(|b| !matches!(b, Bridge::Player { leg: l, .. } if *l == leg));
    }

    fn acd_order(&mut self, now: Instant, s: &mut Session, order: AcdOrder) {
        match order {
            AcdOrder::Queued {
                interaction,
                position,
                expected_wait_secs,
            } => {
                self.enter_queue(now, s);
                let Phase::Queued { announced, .. } = s.phase else {
                    return;
                };
                s.phase = Phase::Queued {
                    interaction,
                    announced: true,
                };
                let playlist =
                    self.prompts
                        .queue_announcement(!announced, position, expected_wait_secs);
                // The music is the looping last item; the spoken part is everything before.
                let spoken: usize = playlist.items.iter().rev().skip(1).map(|i| i.len()).sum();
                self.play(s, 0, playlist, Prompt::Announcement);
                let every = self.config.acd.announce_every_secs;
                if every > 0 {
                    let at =
                        now + Duration::from_millis(spoken as u64 / 8) + Duration::from_secs(every);
                    self.schedule(at, s.id, CallTimer::Announce);
                }
            }
            AcdOrder::Offer {
                interaction,
                agent,
                extension,
                queue,
                queue_name,
                record,
            } => {
                s.record_on_answer = record;
                self.offer(now, s, interaction, agent, extension, queue, queue_name)
            }
            AcdOrder::CancelOffer { agent, .. } => {
                let legs: Vec<LegId> = s
                    .pending_legs()
                    .filter(|&l| s.leg(l).agent.as_ref() == Some(&agent))
                    .collect();
                self.cancel_legs(now, s, &legs);
            }
            AcdOrder::QueueFull { interaction } => {
                self.interactions.remove(&interaction);
                self.hangup_all(now, s, Cause::Busy, HangupSide::Switch, 486);
            }
            AcdOrder::Overflow {
                interaction,
                target,
            } => self.overflow(now, s, interaction, target),
            AcdOrder::FeatureDone { .. } => {}
        }
    }

    /// Ring the agent's phone(s) for a waiting caller.
    #[allow(clippy::too_many_arguments)]
    fn offer(
        &mut self,
        now: Instant,
        s: &mut Session,
        interaction: u64,
        agent: acd::AgentId,
        extension: String,
        queue: acd::Dn,
        queue_name: String,
    ) {
        let bindings = self.node.lookup(now, &extension);
        if bindings.is_empty() {
            tracing::info!(%agent, %extension, "agent has no reachable phone: offer refused");
            return self.emit(Output::Acd(acd::Event::OfferRejected {
                interaction: acd::InteractionId(interaction),
                agent,
            }));
        }
        self.enter_queue(now, s);
        let Phase::Queued { announced, .. } = s.phase else {
            return;
        };
        if !announced {
            // Offered at once: the caller hears music while the agent's phone rings.
            s.phase = Phase::Queued {
                interaction,
                announced: true,
            };
            let music = self.prompts.music();
            self.play(s, 0, music, Prompt::Music);
        }
        let caller = if s.from_display.is_empty() {
            s.from_user.clone()
        } else {
            s.from_display.clone()
        };
        let domain = self.config.sip.domain.clone();
        let mut from = NameAddr::new(sip::Uri::sip(Some(&s.from_user), &domain, None));
        // What the agent's phone shows: "Sales: Alice".
        let label = if queue_name.is_empty() {
            queue.as_str()
        } else {
            &queue_name
        };
        from.display = Some(format!("{label}: {caller}"));
        from.set_param("tag", Some(self.new_tag()));
        let to = NameAddr::new(sip::Uri::sip(Some(&extension), &domain, None));
        let body = self.offer_sdp(s, &bindings);
        let spec = ForkSpec {
            from,
            to,
            max_forwards: 70,
            body: &body,
            extra: vec![
                ("X-Queue", queue.as_str().to_string()),
                ("X-Interaction", interaction.to_string()),
            ],
            endpoint: None,
        };
        self.add_forks(now, s, &bindings, &spec, Some(agent), Role::Callee);
    }

    /// The SDP offered to a callee of a session the switch holds: the relay endpoint the
    /// first party is not on, with its codec, so media relays without transcoding once
    /// bridged; with SDES-SRTP for TLS `bindings` ([`Cx::own_offer`]).
    pub(super) fn offer_sdp(&mut self, s: &Session, bindings: &[Binding]) -> Vec<u8> {
        let Some(anchor) = s.anchor.as_ref() else {
            return Vec::new();
        };
        let codec = s.codec.unwrap_or(media::Codec::PCMU);
        let side = s.callee_side();
        let plain = audio_sdp(s.id, anchor.ip, anchor.port(side), codec, Some("101"));
        self.own_offer(s, side, bindings, plain)
    }

    /// The caller waited too long: take it to the overflow target.
    fn overflow(&mut self, now: Instant, s: &mut Session, interaction: u64, target: acd::Dn) {
        if self.node.is_queue(target.as_str()) {
            s.to_user = target.as_str().to_string();
            let mut arrival = acd::Arrival::new(interaction, target, acd::Channel::Voice);
            arrival.caller = acd::CallerInfo {
                number: s.from_user.clone(),
                name: s.from_display.clone(),
            };
            self.emit(Output::Acd(acd::Event::InteractionArrived(arrival)));
            return;
        }
        // A user or a trunk number: ring it like a normal call while the caller hears music.
        self.interactions.remove(&interaction);
        let bindings = match self.route(now, target.as_str()) {
            Ok(Route::User(b)) => b,
            _ => Vec::new(),
        };
        if bindings.is_empty() {
            return self.hangup_all(now, s, Cause::Unavailable, HangupSide::Switch, 480);
        }
        s.phase = if s.legs[0].state == LegState::Confirmed {
            Phase::Overflowing
        } else {
            Phase::Ringing {
                early: false,
                early_media: false,
            }
        };
        s.to_user = target.as_str().to_string();
        let (user, display) = (s.from_user.clone(), s.from_display.clone());
        self.ring_number(now, s, &bindings, &user, &display, target.as_str());
        self.schedule_ring(now, s.id);
    }

    /// Time for the caller's next position announcement: ask the ACD where it is.
    pub(super) fn announce(&mut self, s: &mut Session) {
        if let Phase::Queued { interaction, .. } = s.phase {
            self.emit(Output::AskPosition { interaction });
        }
    }

    fn feature_done(&mut self, now: Instant, s: &mut Session, outcome: FeatureOutcome) {
        if !matches!(s.phase, Phase::Feature) {
            return;
        }
        let prompt = match outcome {
            FeatureOutcome::Ready => "agent_ready",
            FeatureOutcome::NotReady => "agent_not_ready",
            FeatureOutcome::LoggedOut => "agent_logged_out",
            FeatureOutcome::Refused => "unknown_code",
        };
        let playlist = self.prompts.feature(prompt);
        let length = crate::prompts::duration(&playlist);
        self.play(s, 0, playlist, Prompt::Confirmation);
        self.schedule(now + length + FEATURE_HANGUP_GRACE, s.id, CallTimer::Hangup);
    }
}

/// G.711 from the caller's offer (or PCMU when the offer comes later, in our 200).
fn choose_codec(s: &Session) -> Option<media::Codec> {
    let invite = s.a_invite()?;
    if !super::sdp::has_sdp(&invite.body, &invite.headers) {
        return Some(media::Codec::PCMU);
    }
    codec_of(&invite.body)
}
