//! Hold and retrieve from a phone: a re-offer whose stream is sendonly or inactive (or the
//! old `c=0.0.0.0`) holds the call. The switch answers it itself and moves the peer leg
//! from the relay to a music player; the peer's phone is not asked anything (it keeps its
//! sendrecv stream and hears music-on-hold, not silence and not the holder). The holder's
//! endpoint stops sending to its phone. A later sendrecv re-offer from the holder is
//! answered here too and moves the peer back onto the relay.
//!
//! The answer is the last SDP the switch sent that leg, with its direction mirrored
//! (sendonly <-> recvonly, inactive stays) and its `o=` version raised (RFC 3264 §8), so
//! the phone keeps the codec and the address it already has. Its SRTP part is our own
//! answer to the re-offer ([`Cx::own_answer`]): new keys from the phone reach the relay.
//! A browser the switch called is answered with our WebRTC offer to it, whose
//! `a=setup:actpass` becomes the DTLS role we took when it answered (RFC 5763 §5).

use super::hangup::add_session_headers;
use super::sdp::{audio_sdp, codec_of, holds};
use super::session::{Hold, LegId, Phase, Prompt, Session};
use super::Cx;
use media::graph::{Endpoint, MediaCommand};
use sip::transaction::TxId;
use sip::Request;
use std::time::Instant;

/// The direction a re-offer asks for, as an SDP attribute value.
fn direction(offer: &[u8]) -> &'static str {
    let text = std::str::from_utf8(offer).unwrap_or("");
    for line in text.lines() {
        match line.trim() {
            "a=sendonly" => return "sendonly",
            "a=recvonly" => return "recvonly",
            "a=inactive" => return "inactive",
            "a=sendrecv" => return "sendrecv",
            _ => {}
        }
    }
    // RFC 2543 hold: no attribute, connection address 0.0.0.0.
    if holds(offer) == Some(true) {
        "inactive"
    } else {
        "sendrecv"
    }
}

/// The answer's direction for an offer's (RFC 3264 §6.1).
fn mirrored(dir: &str) -> &'static str {
    match dir {
        "sendonly" => "recvonly",
        "recvonly" => "sendonly",
        "inactive" => "inactive",
        _ => "sendrecv",
    }
}

/// `sdp` with every direction attribute replaced by `dir` (one added when there is none)
/// and the `o=` line's version raised by one.
pub(super) fn restated(sdp: &[u8], dir: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(sdp);
    let mut out = String::with_capacity(text.len() + 16);
    let mut had_direction = false;
    for line in text.lines() {
        let l = line.trim_end();
        if matches!(l, "a=sendrecv" | "a=sendonly" | "a=recvonly" | "a=inactive") {
            had_direction = true;
            out.push_str(&format!("a={dir}\r\n"));
        } else if let Some(rest) = l.strip_prefix("o=") {
            let mut fields: Vec<String> = rest.split(' ').map(str::to_string).collect();
            if let Some(v) = fields.get_mut(2) {
                if let Ok(n) = v.parse::<u64>() {
                    *v = (n + 1).to_string();
                }
            }
            out.push_str(&format!("o={}\r\n", fields.join(" ")));
        } else if !l.is_empty() {
            out.push_str(l);
            out.push_str("\r\n");
        }
    }
    if !had_direction {
        out.push_str(&format!("a={dir}\r\n"));
    }
    out.into_bytes()
}

impl Cx {
    /// Our Contact for a message in `leg`'s dialog (on that dialog's transport).
    pub(super) fn leg_contact(&self, s: &Session, leg: LegId) -> String {
        let transport = s
            .leg(leg)
            .dialog
            .as_ref()
            .map_or(sip::transaction::TransportKind::Udp, |d| d.target.transport);
        self.contact_header(transport)
    }

    /// Whether a re-INVITE from `leg` is a hold or a retrieve the switch answers itself.
    pub(super) fn is_hold_change(&self, s: &Session, leg: LegId, req: &Request) -> bool {
        matches!(s.phase, Phase::Bridged { .. })
            && s.anchor.is_some()
            && !req.body.is_empty()
            && super::sdp::is_sdp(&req.headers)
            && (s.leg(leg).hold == Hold::Holding || holds(&req.body) == Some(true))
    }

    /// Hold or retrieve: answer `leg`'s re-offer here and move its peer to or from music.
    pub(super) fn hold_or_retrieve(
        &mut self,
        now: Instant,
        s: &mut Session,
        leg: LegId,
        tx: TxId,
        req: Request,
    ) {
        let Some(peer) = s.peer_of(leg) else {
            return self.reply(now, tx, &req, 481, None);
        };
        let hold = holds(&req.body) == Some(true);
        let side = s.leg(leg).side();
        let Some(answer) = self.hold_answer(s, leg, &req.body) else {
            return self.reply(now, tx, &req, 488, Some("Bad SDP"));
        };
        // A re-offer may bring new SRTP keys (or drop SRTP): ours follow (sdes.rs).
        let answer = match self.own_answer(s, side, &req.body, answer) {
            Ok(answer) => answer,
            Err(refusal) => {
                let warning = refusal.warning();
                return self.reply_warning(now, tx, &req, 488, None, Some(&warning));
            }
        };
        if Self::is_webrtc_leg(s, leg) {
            // A browser's media goes through its ICE peer on the relay, not to the
            // address in its SDP (often a placeholder): as with its first answer, the
            // endpoint is not connected from signalling.
        } else if hold {
            // The holder receives nothing while it holds.
            self.media(MediaCommand::Connect {
                endpoint: Endpoint {
                    relay: s.relay(),
                    side,
                },
                rtp: None,
            });
        } else {
            self.learn_sdp(s, side, &req.body);
        }
        let mut resp = req.response(200, None, None);
        resp.headers.push("Contact", self.leg_contact(s, leg));
        if leg.0 == 0 {
            self.refresh_session(now, s);
            add_session_headers(s, &mut resp);
            s.sdp_to_a = answer.clone();
        }
        resp.headers.push("Content-Type", "application/sdp");
        resp.body = answer;
        self.layer.respond(now, tx, resp);
        let was = s.leg(leg).hold == Hold::Holding;
        s.leg_mut(leg).hold = if hold { Hold::Holding } else { Hold::Off };
        if hold && !was {
            let music = self.prompts.music();
            self.play(s, peer.0, music, Prompt::Music);
            tracing::info!(call = s.id, leg = leg.0, "call held; the peer hears music");
            self.call_changed(s, "held", None);
        } else if !hold && was {
            self.stop_playing(s, peer.0);
            tracing::info!(call = s.id, leg = leg.0, "call retrieved");
            self.call_changed(s, "retrieved", None);
        }
        self.note_hold(s, &req.body);
    }

    /// Our answer to a hold or retrieve offer from `leg`.
    pub(super) fn hold_answer(&self, s: &Session, leg: LegId, offer: &[u8]) -> Option<Vec<u8>> {
        let dir = mirrored(direction(offer));
        if let Some(ours) = Self::webrtc_restated_offer(s, leg) {
            return Some(restated(&ours, dir));
        }
        let last = if leg.0 == 0 {
            s.sdp_to_a.clone()
        } else {
            s.leg(leg).invite.body.clone()
        };
        if !last.is_empty() {
            return Some(restated(&last, dir));
        }
        let anchor = s.anchor.as_ref()?;
        let codec = codec_of(offer).unwrap_or(media::Codec::PCMU);
        let ours = audio_sdp(
            s.id,
            anchor.ip,
            anchor.port(s.leg(leg).side()),
            codec,
            Some("101"),
        );
        Some(restated(&ours, dir))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_mirror_the_offer_and_raise_the_version() {
        let ours = b"v=0\r\no=x 7 3 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
                     m=audio 4000 RTP/AVP 0\r\na=sendrecv\r\n";
        let held = String::from_utf8(restated(ours, mirrored("sendonly"))).unwrap();
        assert!(held.contains("o=x 7 4 IN IP4 10.0.0.1\r\n"), "{held}");
        assert!(held.contains("a=recvonly\r\n") && !held.contains("a=sendrecv"));
        assert!(held.contains("m=audio 4000 RTP/AVP 0\r\n"));
        let back = String::from_utf8(restated(held.as_bytes(), mirrored("sendrecv"))).unwrap();
        assert!(back.contains("o=x 7 5 ") && back.contains("a=sendrecv"));
        let no_attr = b"v=0\r\no=x 7 3 IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 0\r\n";
        let inactive = String::from_utf8(restated(no_attr, "inactive")).unwrap();
        assert!(inactive.ends_with("a=inactive\r\n"));
        assert_eq!(
            direction(b"v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 4000 RTP/AVP 0\r\n"),
            "inactive"
        );
        assert_eq!(mirrored("inactive"), "inactive");
    }
}
