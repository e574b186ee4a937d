//! Calls the switch answers itself: callers to a queue's DN, who hear music and
//! announcements until the ACD offers them to an agent, and agents dialling a feature code.
//! The ACD's orders ([`AcdOrder`]) for each interaction arrive here.

use super::call::{audio_sdp, new_tag, Call, CallState, ForkSpec};
use super::{CallTimer, Engine};
use crate::distributor::{AcdOrder, Feature, FeatureOutcome};
use sip::NameAddr;
use std::time::{Duration, Instant};

/// How long after a feature code's confirmation the switch hangs up.
const FEATURE_HANGUP_GRACE: Duration = Duration::from_millis(300);

impl Engine {
    /// A caller to a queue DN: hand it to the ACD, which answers with the first order.
    pub(super) fn start_queue_call(&mut self, now: Instant, mut call: Call) {
        let Some(codec) = self.choose_codec(&call) else {
            let id = call.id;
            self.calls.insert(id, call);
            return self.hangup_all(now, id, "failed", "switch", 488);
        };
        call.codec = Some(codec);
        let interaction = self.shared.distributor.new_interaction(self.shard as usize);
        call.interaction = Some(interaction);
        self.interactions.insert(interaction, call.id);
        let arrival = acd::Arrival {
            id: acd::InteractionId(interaction),
            queue: acd::Dn::new(&call.to_user),
            channel: acd::Channel::Voice,
            priority: 0,
            caller: acd::CallerInfo {
                number: call.from_user.clone(),
                name: call.from_display.clone(),
            },
            skills: acd::Skills::new(),
        };
        self.calls.insert(call.id, call);
        self.shared
            .distributor
            .send(acd::Event::InteractionArrived(arrival));
    }

    /// An agent dialled a feature code: answer, ask the ACD, confirm, hang up.
    pub(super) fn start_feature_call(&mut self, now: Instant, mut call: Call, feature: Feature) {
        let Some(codec) = self.choose_codec(&call) else {
            let id = call.id;
            self.calls.insert(id, call);
            return self.hangup_all(now, id, "failed", "switch", 488);
        };
        call.codec = Some(codec);
        self.answer_locally(now, &mut call);
        let (id, user) = (call.id, call.from_user.clone());
        self.calls.insert(id, call);
        self.shared
            .distributor
            .feature(self.shard as usize, id, user, feature);
    }

    /// G.711 from the caller's offer (or PCMU when the offer comes later, in our 200).
    fn choose_codec(&self, call: &Call) -> Option<media::Codec> {
        if !call.a_offer {
            return Some(media::Codec::PCMU);
        }
        let text = std::str::from_utf8(&call.a_invite.body).ok()?;
        let sd = media::sdp::parse(text).ok()?;
        let audio = sd
            .media
            .iter()
            .find(|m| m.media == "audio" && m.port != 0)?;
        media::Codec::from_formats(&audio.formats)
    }

    /// Our own SDP for the caller's leg: the switch's A port and the agreed codec, plus
    /// telephone-event when the caller offered it.
    fn local_sdp(&self, call: &Call) -> Vec<u8> {
        let Some(m) = call.media.as_ref() else {
            return Vec::new();
        };
        let codec = call.codec.unwrap_or(media::Codec::PCMU);
        let dtmf = std::str::from_utf8(&call.a_invite.body).ok().and_then(|t| {
            t.lines().find_map(|l| {
                let rest = l.trim().strip_prefix("a=rtpmap:")?;
                let (pt, enc) = rest.split_once(' ')?;
                enc.to_ascii_lowercase()
                    .starts_with("telephone-event/8000")
                    .then(|| pt.to_string())
            })
        });
        audio_sdp(
            call.id,
            m.advertised_ip(),
            m.a_port(),
            codec,
            dtmf.as_deref(),
        )
    }

    /// Answer the caller with our SDP (it then hears what the switch plays).
    fn answer_locally(&mut self, now: Instant, call: &mut Call) {
        if call.local_answer {
            return;
        }
        call.local_answer = true;
        call.state = CallState::Queued;
        // A waiting caller whose network died must not hold the queue forever.
        self.start_media_checks(now, call.id);
        let sdp = self.local_sdp(call);
        let mut out = call.a_invite.response(200, None, Some(&call.a.local_tag));
        out.headers
            .push("Contact", self.contact_header(call.a.target.transport));
        out.headers.push("Allow", super::ALLOW);
        out.headers.push("Content-Type", "application/sdp");
        if let Some(n) = call.session_interval {
            out.headers
                .push("Session-Expires", format!("{n};refresher=uac"));
            out.headers.push("Require", "timer");
            self.refresh_session(now, call);
        }
        call.sdp_to_a = sdp.clone();
        out.body = sdp;
        self.layer.respond(now, call.a_invite_tx, out);
    }

    fn play(&self, call: &Call, playlist: media::Playlist) {
        if let (Some(m), Some(codec)) = (call.media.as_ref(), call.codec) {
            m.play(media::Side::A, playlist, codec);
        }
    }

    /// An order from the ACD for one of this shard's interactions or feature calls.
    pub fn handle_acd(&mut self, now: Instant, order: AcdOrder) {
        match order {
            AcdOrder::FeatureDone { call, outcome } => self.feature_done(now, call, outcome),
            AcdOrder::Queued {
                interaction,
                position,
                expected_wait_secs,
            } => self.with_interaction(interaction, |e, call| {
                e.answer_locally(now, call);
                if call.state != CallState::Queued {
                    return;
                }
                let first = !call.announced;
                call.announced = true;
                let playlist =
                    e.shared
                        .prompts
                        .queue_announcement(first, position, expected_wait_secs);
                // The music is the looping last item; the spoken part is everything before.
                let spoken: usize = playlist.items.iter().rev().skip(1).map(|i| i.len()).sum();
                e.play(call, playlist);
                let every = e.config().acd.announce_every_secs;
                if every > 0 {
                    let at =
                        now + Duration::from_millis(spoken as u64 / 8) + Duration::from_secs(every);
                    e.schedule(at, call.id, CallTimer::Announce);
                }
            }),
            AcdOrder::Offer {
                interaction,
                agent,
                extension,
                queue,
                queue_name,
            } => self.offer(now, interaction, agent, extension, queue, queue_name),
            AcdOrder::CancelOffer { interaction, agent } => {
                self.with_interaction(interaction, |e, call| {
                    e.cancel_forks(now, call, |f| f.agent.as_ref() == Some(&agent));
                })
            }
            AcdOrder::QueueFull { interaction } => {
                if let Some(&id) = self.interactions.get(&interaction) {
                    self.interactions.remove(&interaction);
                    if let Some(call) = self.calls.get_mut(&id) {
                        call.interaction = None;
                    }
                    self.hangup_all(now, id, "busy", "switch", 486);
                }
            }
            AcdOrder::Overflow {
                interaction,
                target,
            } => self.overflow(now, interaction, target),
        }
    }

    fn with_interaction(&mut self, interaction: u64, f: impl FnOnce(&mut Engine, &mut Call)) {
        let Some(&id) = self.interactions.get(&interaction) else {
            return;
        };
        let Some(mut call) = self.calls.remove(&id) else {
            return;
        };
        f(self, &mut call);
        self.calls.insert(id, call);
    }

    /// Ring the agent's phone(s) for a waiting caller.
    fn offer(
        &mut self,
        now: Instant,
        interaction: u64,
        agent: acd::AgentId,
        extension: String,
        queue: acd::Dn,
        queue_name: String,
    ) {
        let bindings = match self.shared.registrar.read() {
            Ok(r) => r.lookup(now, &extension),
            Err(_) => Vec::new(),
        };
        if bindings.is_empty() {
            tracing::info!(%agent, %extension, "agent has no reachable phone: offer refused");
            self.shared.distributor.send(acd::Event::OfferRejected {
                interaction: acd::InteractionId(interaction),
                agent,
            });
            return;
        }
        let domain = self.config().sip.domain.clone();
        self.with_interaction(interaction, |e, call| {
            e.answer_locally(now, call);
            if !call.announced {
                // Offered at once: the caller hears music while the agent's phone rings.
                call.announced = true;
                e.play(call, e.shared.prompts.music());
            }
            let caller = if call.from_display.is_empty() {
                call.from_user.clone()
            } else {
                call.from_display.clone()
            };
            let tag = new_tag();
            let mut from = NameAddr::new(sip::Uri::sip(Some(&call.from_user), &domain, None));
            // What the agent's phone shows: "Sales: Alice".
            let label = if queue_name.is_empty() {
                queue.as_str()
            } else {
                &queue_name
            };
            from.display = Some(format!("{label}: {caller}"));
            from.set_param("tag", Some(tag));
            let to = NameAddr::new(sip::Uri::sip(Some(&extension), &domain, None));
            let body = e.offer_sdp(call);
            let spec = ForkSpec {
                from,
                to,
                max_forwards: 70,
                body: &body,
                extra: vec![
                    ("X-Queue", queue.as_str().to_string()),
                    ("X-Interaction", interaction.to_string()),
                ],
            };
            e.add_forks(now, call, &bindings, &spec, Some(agent));
        });
    }

    /// The SDP offered to an agent: the switch's B port with the caller's codec, so media
    /// relays without transcoding once both are bridged.
    pub(super) fn offer_sdp(&self, call: &Call) -> Vec<u8> {
        let Some(m) = call.media.as_ref() else {
            return Vec::new();
        };
        let codec = call.codec.unwrap_or(media::Codec::PCMU);
        audio_sdp(call.id, m.advertised_ip(), m.b_port(), codec, Some("101"))
    }

    /// The caller waited too long: take it to the overflow target.
    fn overflow(&mut self, now: Instant, interaction: u64, target: acd::Dn) {
        let Some(&id) = self.interactions.get(&interaction) else {
            return;
        };
        if self.shared.distributor.is_queue(target.as_str()) {
            if let Some(call) = self.calls.get_mut(&id) {
                call.to_user = target.as_str().to_string();
                let caller = acd::CallerInfo {
                    number: call.from_user.clone(),
                    name: call.from_display.clone(),
                };
                let mut arrival = acd::Arrival::new(interaction, target, acd::Channel::Voice);
                arrival.caller = caller;
                self.shared
                    .distributor
                    .send(acd::Event::InteractionArrived(arrival));
            }
            return;
        }
        // A user or a trunk number: ring it like a normal call while the caller hears music.
        self.interactions.remove(&interaction);
        let bindings = match self.route(now, target.as_str()) {
            Ok(super::call::Route::User(b)) => b,
            _ => Vec::new(),
        };
        let Some(mut call) = self.calls.remove(&id) else {
            return;
        };
        call.interaction = None;
        if bindings.is_empty() {
            self.calls.insert(id, call);
            return self.hangup_all(now, id, "unavailable", "switch", 480);
        }
        call.to_user = target.as_str().to_string();
        let (user, display) = (call.from_user.clone(), call.from_display.clone());
        self.ring_number(now, &mut call, &bindings, &user, &display, target.as_str());
        let ring = self.config().sip.invite_timeout();
        self.schedule(now + ring, id, CallTimer::Ring);
        self.calls.insert(id, call);
    }

    /// Ring `to` (its `bindings`) for a call whose caller leg the switch holds, offering the
    /// switch's B port: an overflow target, an originated call's contact.
    pub(super) fn ring_number(
        &mut self,
        now: Instant,
        call: &mut Call,
        bindings: &[crate::registrar::Binding],
        from_user: &str,
        display: &str,
        to: &str,
    ) {
        let domain = self.config().sip.domain.clone();
        let mut from = NameAddr::new(sip::Uri::sip(Some(from_user), &domain, None));
        if !display.is_empty() {
            from.display = Some(display.to_string());
        }
        from.set_param("tag", Some(new_tag()));
        let to = NameAddr::new(sip::Uri::sip(Some(to), &domain, None));
        let body = self.offer_sdp(call);
        let spec = ForkSpec {
            from,
            to,
            max_forwards: 70,
            body: &body,
            extra: Vec::new(),
        };
        self.add_forks(now, call, bindings, &spec, None);
    }

    /// Time for the caller's next position announcement: ask the ACD where it is.
    pub(super) fn announce(&mut self, id: u64) {
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        if call.state != CallState::Queued {
            return;
        }
        if let Some(i) = call.interaction {
            self.shared.distributor.ask_position(i);
        }
    }

    fn feature_done(&mut self, now: Instant, id: u64, outcome: FeatureOutcome) {
        let Some(call) = self.calls.get(&id) else {
            return;
        };
        let prompt = match outcome {
            FeatureOutcome::Ready => "agent_ready",
            FeatureOutcome::NotReady => "agent_not_ready",
            FeatureOutcome::LoggedOut => "agent_logged_out",
            FeatureOutcome::Refused => "unknown_code",
        };
        let playlist = self.shared.prompts.feature(prompt);
        let length = super::super::prompts::duration(&playlist);
        self.play(call, playlist);
        self.schedule(now + length + FEATURE_HANGUP_GRACE, id, CallTimer::Hangup);
    }
}
