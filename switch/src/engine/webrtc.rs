//! WebRTC legs: browsers (the desktop's softphone) calling and called over SIP on a
//! WebSocket, with media over ICE-lite, DTLS-SRTP and RTCP-mux.
//!
//! A WebRTC leg **terminates** SDP rather than having it rewritten for the other leg: the
//! switch's offer to a browser, or its answer to a browser's offer, comes from a
//! [`media::webrtc::Peer`] built here (pure computation: the ufrag, pwd and SDP text, with
//! the process's one certificate), which then moves to the relay with
//! [`MediaCommand::AttachWebRtc`]. The plain leg across the relay gets our own G.711 SDP;
//! the relay side facing the browser converts to and from that leg's law.
//!
//! A leg is WebRTC when its contact registered over WS/WSS (the switch calls it), or when
//! its own offer is `UDP/TLS/RTP/SAVPF` (it calls the switch). Phase 1: the switch never
//! re-INVITEs a WebRTC leg; hold, transfer and consultation move relay edges. A browser's
//! own hold or retrieve re-offer is answered by `hold.rs` with our last description of
//! its leg, whose DTLS role is the one we took ([`Cx::webrtc_restated_offer`]).

use super::sdp::{codec_of, offer_all};
use super::session::{LegId, Role, Session};
use super::Cx;
use media::graph::{Endpoint, MediaCommand, Side};
use media::webrtc::{Certificate, Peer, PeerSlot};
use sip::transaction::TransportKind;
use std::net::SocketAddr;
use std::time::Instant;

/// Whether an SDP body is a WebRTC one (DTLS-SRTP with a fingerprint).
pub(super) fn is_webrtc_sdp(body: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(body) else {
        return false;
    };
    text.lines()
        .any(|l| l.starts_with("m=audio ") && l.contains("UDP/TLS/RTP/SAVPF"))
        && text.contains("a=fingerprint:")
}

/// Whether a contact reached over `transport` is a browser.
pub(super) fn is_browser_transport(transport: TransportKind) -> bool {
    matches!(transport, TransportKind::Ws | TransportKind::Wss)
}

/// The endpoints of a session that face browsers, so a desk phone answering where a
/// browser also rang gets its side back as plain RTP; with each, our DTLS role once a
/// browser has answered our offer (RFC 5763 §5: its `a=setup` decides it).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct WebRtcSides(Vec<(Side, Option<Setup>)>);

/// Our end of a DTLS association, as an answer's `a=setup` states it (RFC 4145 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Setup {
    Active,
    Passive,
}

impl Setup {
    /// Our role when the browser answered our `actpass` offer with `answer`: the
    /// opposite of its own; an answer without `a=setup` is active (RFC 4145 §4), so we
    /// are passive.
    fn ours_for(answer: &str) -> Setup {
        let theirs = answer
            .lines()
            .find_map(|l| l.trim().strip_prefix("a=setup:"))
            .map(str::trim);
        match theirs {
            Some(v) if v.eq_ignore_ascii_case("passive") => Setup::Active,
            _ => Setup::Passive,
        }
    }

    fn attribute(self) -> &'static str {
        match self {
            Setup::Active => "a=setup:active",
            Setup::Passive => "a=setup:passive",
        }
    }
}

impl WebRtcSides {
    fn add(&mut self, side: Side) {
        if !self.contains(side) {
            self.0.push((side, None));
        }
    }

    fn remove(&mut self, side: Side) -> bool {
        let had = self.contains(side);
        self.0.retain(|(s, _)| *s != side);
        had
    }

    fn set_setup(&mut self, side: Side, setup: Setup) {
        if let Some(entry) = self.0.iter_mut().find(|(s, _)| *s == side) {
            entry.1 = Some(setup);
        }
    }

    fn setup(&self, side: Side) -> Option<Setup> {
        self.0
            .iter()
            .find(|(s, _)| *s == side)
            .and_then(|(_, r)| *r)
    }

    pub fn contains(&self, side: Side) -> bool {
        self.0.iter().any(|(s, _)| *s == side)
    }
}

/// `sdp` (our offer to a browser, restated as an answer) with its `a=setup:actpass` lines
/// saying `setup`, the role we took: `actpass` is for offers only (RFC 5763 §5).
fn with_setup(sdp: &[u8], setup: Setup) -> Vec<u8> {
    let text = String::from_utf8_lossy(sdp);
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let l = line.trim_end();
        if l.eq_ignore_ascii_case("a=setup:actpass") {
            out.push_str(setup.attribute());
        } else {
            out.push_str(l);
        }
        out.push_str("\r\n");
    }
    out.into_bytes()
}

impl Cx {
    /// The switch calls a browser on endpoint `side`: the offer SDP of a new peer, which
    /// goes to the relay at once (the browser's checks may come before its 200 does). The
    /// relay converts to and from `law`, the other leg's codec. `None` when no peer can be
    /// made (then the fork gets the plain offer).
    pub(super) fn webrtc_offer(
        &mut self,
        now: Instant,
        s: &mut Session,
        side: Side,
        law: media::Codec,
    ) -> Option<Vec<u8>> {
        let anchor = s.anchor.as_ref()?;
        let local = SocketAddr::new(anchor.ip, anchor.port(side));
        let made = Certificate::shared().and_then(|cert| Peer::offer(now, &cert, local));
        let (peer, sdp) = match made {
            Ok(made) => made,
            Err(e) => {
                tracing::error!(call = s.id, error = %e, "cannot make a WebRTC offer");
                return None;
            }
        };
        self.attach(s, side, peer, law);
        Some(sdp.into_bytes())
    }

    /// Moves `peer` to the relay, facing the browser at endpoint `side`.
    fn attach(&mut self, s: &mut Session, side: Side, peer: Peer, law: media::Codec) {
        self.media(MediaCommand::AttachWebRtc {
            endpoint: Endpoint {
                relay: s.relay(),
                side,
            },
            peer: PeerSlot::new(peer),
            law,
        });
        s.webrtc.add(side);
    }

    /// The body of our INVITE to a contact reached over `transport` on endpoint `side`:
    /// a WebRTC offer for a browser (only the first browser contact of a fork set: one
    /// endpoint serves one peer), else `plain`.
    pub(super) fn fork_body(
        &mut self,
        now: Instant,
        s: &mut Session,
        transport: TransportKind,
        side: Side,
        plain: &[u8],
    ) -> Option<Vec<u8>> {
        if !is_browser_transport(transport) {
            return Some(plain.to_vec());
        }
        if s.webrtc.contains(side)
            && s.legs
                .iter()
                .any(|l| l.side() == side && l.pending() && is_webrtc_sdp(&l.invite.body))
        {
            tracing::debug!(call = s.id, "a second browser contact is not rung");
            return None;
        }
        let law = s
            .codec
            .or_else(|| codec_of(plain))
            .unwrap_or(media::Codec::PCMU);
        Some(
            self.webrtc_offer(now, s, side, law)
                .unwrap_or_else(|| plain.to_vec()),
        )
    }

    /// `leg` answered our INVITE with `body`: the browser's answer goes to its peer; a
    /// plain answer (another phone where a browser also rang, or a WebSocket phone with
    /// plain RTP answering our WebRTC offer) makes the endpoint plain again.
    pub(super) fn webrtc_answered(&mut self, s: &mut Session, leg: LegId, body: &[u8]) {
        let side = s.leg(leg).side();
        let endpoint = Endpoint {
            relay: s.relay(),
            side,
        };
        if is_webrtc_sdp(&s.leg(leg).invite.body) && is_webrtc_sdp(body) {
            let sdp = String::from_utf8_lossy(body).into_owned();
            s.webrtc.set_setup(side, Setup::ours_for(&sdp));
            self.media(MediaCommand::WebRtcAnswer { endpoint, sdp });
        } else if s.webrtc.remove(side) {
            self.media(MediaCommand::DetachWebRtc { endpoint });
        }
    }

    /// The SDP a hold answer to the WebRTC leg `leg` restates, when the switch made the
    /// leg's offer (a browser it called): that offer, with the DTLS role we took when the
    /// browser answered in place of its `actpass`. `None` for a browser that called (our
    /// answer to it is the session's, and already says active or passive).
    pub(super) fn webrtc_restated_offer(s: &Session, leg: LegId) -> Option<Vec<u8>> {
        let l = s.leg(leg);
        if l.role == Role::Caller || !Self::is_webrtc_leg(s, leg) {
            return None;
        }
        let setup = s.webrtc.setup(l.side()).unwrap_or(Setup::Passive);
        Some(with_setup(&l.invite.body, setup))
    }

    /// Whether `leg`'s INVITE, ours or its own, was a WebRTC offer.
    pub(super) fn offered_webrtc(s: &Session, leg: LegId) -> bool {
        is_webrtc_sdp(&s.leg(leg).invite.body)
    }

    /// Whether `leg` is a WebRTC leg now: a WebRTC offer on an endpoint that faces a
    /// browser (not one a plain answer made plain again).
    pub(super) fn is_webrtc_leg(s: &Session, leg: LegId) -> bool {
        Self::offered_webrtc(s, leg) && s.webrtc.contains(s.leg(leg).side())
    }

    /// The browser that called (its offer in `legs[0]`'s INVITE) is answered: a peer at the
    /// first party's endpoint answers the offer, and goes to the relay converting to and
    /// from `law`. `None` (answer the browser 488) when its offer is not acceptable.
    pub(super) fn webrtc_answer_caller(
        &mut self,
        now: Instant,
        s: &mut Session,
        law: media::Codec,
    ) -> Option<Vec<u8>> {
        let side = s.first_side();
        let anchor = s.anchor.as_ref()?;
        let local = SocketAddr::new(anchor.ip, anchor.port(side));
        let offer = std::str::from_utf8(&s.legs.first()?.invite.body).ok()?;
        let made = Certificate::shared().and_then(|cert| Peer::answer(now, &cert, local, offer));
        let (peer, sdp) = match made {
            Ok(made) => made,
            Err(e) => {
                tracing::info!(call = s.id, error = %e, "browser offer refused");
                return None;
            }
        };
        self.attach(s, side, peer, law);
        Some(sdp.into_bytes())
    }

    /// Whether a browser's offer can be answered (checked before the call goes on, so a
    /// bad one gets its 488 at once).
    pub(super) fn webrtc_offer_acceptable(&self, now: Instant, s: &Session) -> bool {
        let (Some(anchor), Some(first)) = (s.anchor.as_ref(), s.legs.first()) else {
            return false;
        };
        let local = SocketAddr::new(anchor.ip, anchor.port(s.first_side()));
        let Ok(offer) = std::str::from_utf8(&first.invite.body) else {
            return false;
        };
        Certificate::shared()
            .and_then(|cert| Peer::answer(now, &cert, local, offer))
            .is_ok()
    }

    /// Our offer to the plain callee of a browser's call (the browser's SDP cannot be
    /// rewritten for it): PCMU, PCMA and telephone-event at the callee's endpoint.
    pub(super) fn offer_for_browser_call(&self, s: &Session, side: Side) -> Vec<u8> {
        match s.anchor.as_ref() {
            Some(anchor) => offer_all(s.id, anchor.ip, anchor.port(side)),
            None => Vec::new(),
        }
    }

    /// A re-offer (no hold change) across a relay with a WebRTC leg: the switch never
    /// re-INVITEs a browser (phase 1), so a plain leg's new offer is answered here with our
    /// SDP, its new address learnt, and its SRTP part our own answer
    /// ([`Cx::own_answer`]: new keys reach the relay; a refused offer gets 488 with a
    /// `Warning` and changes nothing); a browser's own re-offer is refused (488: our
    /// softphone sends none).
    pub(super) fn webrtc_reoffer(
        &mut self,
        now: Instant,
        s: &mut Session,
        from: LegId,
        tx: sip::transaction::TxId,
        req: sip::Request,
    ) {
        if Self::is_webrtc_leg(s, from) {
            return self.reply(now, tx, &req, 488, Some("Renegotiation Not Supported"));
        }
        let side = s.leg(from).side();
        let Some(answer) = self.hold_answer(s, from, &req.body) else {
            return self.reply(now, tx, &req, 488, Some("Bad SDP"));
        };
        // The re-offer may bring new SRTP keys (or drop SRTP): ours follow (sdes.rs).
        let answer = match self.own_answer(s, side, &req.body, answer) {
            Ok(answer) => answer,
            Err(refusal) => {
                let warning = refusal.warning();
                return self.reply_warning(now, tx, &req, 488, None, Some(&warning));
            }
        };
        self.learn_sdp(s, side, &req.body);
        let mut resp = req.response(200, None, None);
        resp.headers.push("Contact", self.leg_contact(s, from));
        if from.0 == 0 {
            self.refresh_session(now, s);
            super::hangup::add_session_headers(s, &mut resp);
            s.sdp_to_a = answer.clone();
        }
        resp.headers.push("Content-Type", "application/sdp");
        resp.body = answer;
        self.layer.respond(now, tx, resp);
    }

    /// A WebRTC endpoint's browser is gone: like an RTP timeout, the call ends (once it
    /// is up; before the answer the ring timeout and the browser's 4xx take care of it).
    pub(super) fn webrtc_gone(&mut self, now: Instant, s: &mut Session, side: Side) {
        let up = s
            .legs
            .iter()
            .any(|l| l.side() == side && l.state == super::session::LegState::Confirmed);
        if up {
            tracing::info!(
                call = s.id,
                side = side.0,
                "browser media lost: ending call"
            );
            self.hangup_all(
                now,
                s,
                crate::records::Cause::NoMedia,
                crate::records::HangupSide::Switch,
                408,
            );
        }
    }
}
