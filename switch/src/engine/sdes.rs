//! SDES-SRTP (RFC 4568) on the legs whose signalling is TLS.
//!
//! The switch terminates SRTP: each leg that negotiated it has its own keys with the
//! switch, and the relay unprotects and protects on that leg's endpoint, so the other leg
//! may be plain RTP (a UDP phone) or SRTP with other keys. When SDP crosses from one leg to
//! the other ([`Cx::rewrite_sdp`]) this file decides what the crossing body says about SRTP:
//!
//! - **Offer from a leg**, `RTP/SAVP` with `a=crypto`: over TLS, the first acceptable line
//!   is kept (its key is what the leg sends with) and the answer that later goes back to the
//!   leg carries its tag and suite with a fresh key of ours. No acceptable line: 488 with a
//!   `Warning: 305`. Over UDP or TCP: 488 with a Warning, since the key has crossed the
//!   network in clear text and must not be used (policy; RFC 4568 §8.3 requires a secure
//!   signalling channel).
//! - **Offer to a leg**: `RTP/SAVP` with one fresh `AES_CM_128_HMAC_SHA1_80` key when the
//!   leg's signalling is TLS (every fork of it: a callee with UDP and TLS contacts is
//!   offered plain RTP), else plain `RTP/AVP` with no `a=crypto`: keys never go on plain
//!   signalling.
//! - **Our own offers and answers** (bodies the switch writes itself, not a crossing:
//!   [`Cx::own_offer`], [`Cx::own_answer`]) follow the same rules.
//! - **Answer from a leg we offered SRTP to**: it must be `RTP/SAVP` with our tag and
//!   suite. A plain `RTP/AVP` answer, or another tag, is a failed negotiation (RFC 3264
//!   §6: the answer must keep the offer's transport), and the call fails with 488.
//!
//! When a leg's offer/answer completes, its keys go to the relay
//! ([`MediaCommand::Srtp`]); a later plain exchange turns SRTP off again.

use std::collections::HashMap;

use media::graph::{Endpoint, MediaCommand, Side};
use media::sdp::crypto::{audio_security, with_crypto, AudioSecurity};
use media::srtp::{MasterKey, SrtpKeys, Suite};
use sip::transaction::TransportKind;

use super::session::Session;
use super::webrtc::{is_browser_transport, is_webrtc_sdp};
use super::Cx;
use crate::registrar::Binding;

/// Why a crossing body was refused (each is a 488).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub(super) enum Refusal {
    #[error("SDP not understood")]
    BadSdp,
    #[error("SRTP keys over insecure signalling")]
    Cleartext,
    #[error("no acceptable SRTP crypto suite")]
    NoSuite,
    #[error("plain RTP answer to an SRTP offer")]
    PlainAnswer,
}

impl Refusal {
    /// The `Warning` header value of our 488 (RFC 3261 §20.43: 305 Incompatible media
    /// format).
    pub(super) fn warning(self) -> String {
        format!("305 ccswitch \"{self}\"")
    }
}

/// One endpoint's SDES state.
#[derive(Debug, Default)]
struct SideKeys {
    /// Our key for the leg, and the tag it goes under.
    ours: Option<(u32, MasterKey)>,
    /// The leg's own key (what it sends with).
    theirs: Option<MasterKey>,
    /// We sent the leg an offer: what it sends next is the answer.
    awaiting_answer: bool,
    /// Whether the leg's signalling is TLS, when the engine said so before the leg existed
    /// (a fork's bindings).
    secure: Option<bool>,
    /// Our own offer to the endpoint's next leg, until it answers.
    own_offer: Option<OwnOffer>,
}

/// Our own offer to the endpoint's next leg, not yet answered ([`Cx::own_offer`]): it
/// replaces the endpoint's state only once the leg takes it, so a failed transfer leaves
/// the leg still on the endpoint as it was.
#[derive(Debug)]
struct OwnOffer {
    /// Our key in the offer, when it offered SRTP.
    ours: Option<(u32, MasterKey)>,
    /// Whether every phone it went to is signalled over TLS (so the one that answers is),
    /// whatever `sip.srtp_offer` says.
    secure: bool,
}

/// The leg's key in its answer to our offer (`ours`, `None` for a plain offer):
/// `RTP/SAVP` with our tag and suite to an SRTP offer, plain to a plain one.
fn answer_key(
    ours: Option<&(u32, MasterKey)>,
    sec: &AudioSecurity,
) -> Result<Option<MasterKey>, Refusal> {
    match (ours, sec.savp) {
        (Some((tag, ours)), true) => sec
            .lines
            .iter()
            .flatten()
            .find(|c| c.tag == *tag && c.key.suite == ours.suite)
            .map(|line| Some(line.key.clone()))
            .ok_or(Refusal::NoSuite),
        (Some(_), false) => Err(Refusal::PlainAnswer),
        (None, true) => Err(Refusal::NoSuite),
        (None, false) => Ok(None),
    }
}

/// The SDES state of every session's endpoints.
#[derive(Debug, Default)]
pub(super) struct Sdes {
    sides: HashMap<(u64, Side), SideKeys>,
}

impl Sdes {
    /// Say whether the endpoint's leg (not made yet) will be signalled over TLS.
    pub(super) fn set_secure(&mut self, session: u64, side: Side, secure: bool) {
        self.sides.entry((session, side)).or_default().secure = Some(secure);
    }

    /// The next body from the endpoint's leg is an offer (a re-INVITE it sent).
    pub(super) fn offering(&mut self, session: u64, side: Side) {
        if let Some(k) = self.sides.get_mut(&(session, side)) {
            k.awaiting_answer = false;
        }
    }

    /// Forget a finished session.
    pub(super) fn forget(&mut self, session: u64) {
        self.sides.retain(|(id, _), _| *id != session);
    }
}

impl Cx {
    /// Whether the leg on `side` is signalled over TLS.
    fn secure_signalling(&self, s: &Session, side: Side) -> bool {
        if let Some(secure) = self.sdes.sides.get(&(s.id, side)).and_then(|k| k.secure) {
            return secure;
        }
        s.legs
            .iter()
            .rfind(|l| l.side() == side)
            .is_some_and(|l| l.target.transport == TransportKind::Tls)
    }

    /// The SRTP part of SDP crossing from the leg on `from` (`original`, as it sent it) to
    /// the leg on `to` (`rewritten`, already carrying our address): the body to send.
    pub(super) fn sdes_cross(
        &mut self,
        s: &Session,
        from: Side,
        to: Side,
        original: &str,
        rewritten: &str,
    ) -> Result<String, Refusal> {
        let sec = audio_security(original);
        let from_secure = self.secure_signalling(s, from);
        let to_secure = self.secure_signalling(s, to);
        if sec.savp && !from_secure {
            return Err(Refusal::Cleartext);
        }
        let id = s.id;
        let (from_keys, answer) = {
            let k = self.sdes.sides.entry((id, from)).or_default();
            let answer = k.awaiting_answer;
            if answer {
                k.theirs = answer_key(k.ours.as_ref(), &sec)?;
            } else if sec.savp {
                let line = sec.first_acceptable().ok_or(Refusal::NoSuite)?;
                let keep = k
                    .ours
                    .as_ref()
                    .filter(|(tag, ours)| *tag == line.tag && ours.suite == line.key.suite)
                    .cloned();
                k.ours =
                    Some(keep.unwrap_or_else(|| (line.tag, MasterKey::random(line.key.suite))));
                k.theirs = Some(line.key.clone());
            } else {
                k.ours = None;
                k.theirs = None;
            }
            (keys_of(k), answer)
        };
        if answer {
            // The leg's offer/answer with us is complete.
            self.srtp_command(id, s, from, from_keys);
        }
        let k = self.sdes.sides.entry((id, to)).or_default();
        let body = if answer {
            // Our answer to the leg on `to`, which offered.
            let body = with_crypto(rewritten, k.ours.as_ref().map(|(t, key)| (*t, key)));
            let keys = keys_of(k);
            self.srtp_command(id, s, to, keys);
            body
        } else {
            k.awaiting_answer = true;
            if to_secure {
                if k.ours.is_none() {
                    k.ours = Some((1, MasterKey::random(Suite::AesCm128HmacSha1_80)));
                }
            } else {
                k.ours = None;
            }
            with_crypto(rewritten, k.ours.as_ref().map(|(t, key)| (*t, key)))
        };
        Ok(body)
    }

    fn srtp_command(&mut self, id: u64, s: &Session, side: Side, keys: Option<SrtpKeys>) {
        tracing::debug!(
            call = id,
            side = side.0,
            srtp = keys.is_some(),
            "SDES negotiated"
        );
        self.media(MediaCommand::Srtp {
            endpoint: Endpoint {
                relay: s.relay(),
                side,
            },
            keys,
        });
    }
}

fn keys_of(k: &SideKeys) -> Option<SrtpKeys> {
    match (&k.ours, &k.theirs) {
        (Some((_, tx)), Some(rx)) => Some(SrtpKeys {
            rx: rx.clone(),
            tx: tx.clone(),
        }),
        _ => None,
    }
}

impl Cx {
    /// Our own answer (`plain`, an `RTP/AVP` body the switch wrote: a queue, IVR, hold,
    /// replaces or supervisor answer) to the leg on `side`, whose offer is `offer`: the one
    /// place that says what our own answers carry about SRTP. An `RTP/SAVP` offer over TLS
    /// gets its first acceptable line's tag and suite with a key of ours (the same key as
    /// before when the leg keeps tag and suite: a re-offer of an established leg), and both
    /// keys go to the relay; a plain offer gets the plain body and turns SRTP off. An
    /// offer we refuse (keys over clear-text signalling, no acceptable suite) is the
    /// caller's to answer with a 488 and [`Refusal::warning`].
    pub(super) fn own_answer(
        &mut self,
        s: &Session,
        side: Side,
        offer: &[u8],
        plain: Vec<u8>,
    ) -> Result<Vec<u8>, Refusal> {
        let (Ok(offer), Ok(text)) = (std::str::from_utf8(offer), std::str::from_utf8(&plain))
        else {
            return Ok(plain);
        };
        let sec = audio_security(offer);
        if sec.savp && !self.secure_signalling(s, side) {
            tracing::info!(call = s.id, "SRTP offer over clear-text signalling refused");
            return Err(Refusal::Cleartext);
        }
        let line = sec.first_acceptable().filter(|_| sec.savp);
        if sec.savp && line.is_none() {
            tracing::info!(
                call = s.id,
                "SRTP offer without an acceptable suite refused"
            );
            return Err(Refusal::NoSuite);
        }
        let k = self.sdes.sides.entry((s.id, side)).or_default();
        k.awaiting_answer = false;
        let Some(line) = line else {
            let had = k.ours.take().is_some() | k.theirs.take().is_some();
            if had {
                self.srtp_command(s.id, s, side, None);
            }
            return Ok(plain);
        };
        let keep = k
            .ours
            .as_ref()
            .filter(|(tag, ours)| *tag == line.tag && ours.suite == line.key.suite)
            .cloned();
        let ours = keep.unwrap_or_else(|| (line.tag, MasterKey::random(line.key.suite)));
        let body = with_crypto(text, Some((ours.0, &ours.1)));
        k.ours = Some(ours);
        k.theirs = Some(line.key.clone());
        let keys = keys_of(k);
        self.srtp_command(s.id, s, side, keys);
        Ok(body.into_bytes())
    }

    /// Our own offer (`plain`, an `RTP/AVP` body the switch wrote: an originated call's
    /// INVITE to the agent's phones, a queue's or a transfer's to its target, a
    /// consultation's) to the contacts `bindings` on endpoint `side`: the one place that
    /// says what our own offers carry about SRTP. When `sip.srtp_offer` is on and every
    /// phone among them is signalled over TLS (a browser gets its WebRTC offer instead),
    /// `RTP/SAVP` with one fresh `AES_CM_128_HMAC_SHA1_80` key; else plain. Either way
    /// the leg's answer is checked by [`Cx::own_offer_answered`].
    pub(super) fn own_offer(
        &mut self,
        s: &Session,
        side: Side,
        bindings: &[Binding],
        plain: Vec<u8>,
    ) -> Vec<u8> {
        let mut phones = bindings
            .iter()
            .filter(|b| !is_browser_transport(b.target.transport))
            .peekable();
        // Whether the leg that answers will be signalled over TLS (known for sure only
        // when every phone is); SRTP is offered only then, and only if configured.
        let secure =
            phones.peek().is_some() && phones.all(|b| b.target.transport == TransportKind::Tls);
        let ours = (secure && self.config.sip.srtp_offer)
            .then(|| (1, MasterKey::random(Suite::AesCm128HmacSha1_80)));
        let body = match (&ours, std::str::from_utf8(&plain)) {
            (Some((tag, key)), Ok(text)) => with_crypto(text, Some((*tag, key))).into_bytes(),
            _ => plain,
        };
        let k = self.sdes.sides.entry((s.id, side)).or_default();
        k.own_offer = Some(OwnOffer { ours, secure });
        body
    }

    /// The leg on `side` answered our own offer ([`Cx::own_offer`]) with `answer` (empty
    /// when its 2xx had no SDP): an SRTP offer needs `RTP/SAVP` with our tag and suite
    /// back, else the negotiation failed (RFC 3264 §6) and the caller releases the leg
    /// with a 488; the keys go to the relay. Nothing to check when no offer of ours is
    /// outstanding on `side` (a retransmitted 2xx), or for a browser's answer (its peer
    /// has it).
    pub(super) fn own_offer_answered(
        &mut self,
        s: &Session,
        side: Side,
        answer: &[u8],
    ) -> Result<(), Refusal> {
        let Some(k) = self.sdes.sides.get_mut(&(s.id, side)) else {
            return Ok(());
        };
        let Some(ours) = k.own_offer.as_ref().map(|o| o.ours.clone()) else {
            return Ok(());
        };
        if is_webrtc_sdp(answer) {
            // A browser's answer is its peer's (webrtc.rs).
            k.own_offer = None;
            return Ok(());
        }
        // A refused answer leaves the offer to the other forks that got it.
        let sec = audio_security(&String::from_utf8_lossy(answer));
        let theirs = answer_key(ours.as_ref(), &sec).inspect_err(|refusal| {
            tracing::info!(call = s.id, side = side.0, %refusal, "answer to our offer refused");
        })?;
        let secure = k.own_offer.take().is_some_and(|o| o.secure);
        // The leg took our offer: the endpoint is its own now.
        let had = keys_of(k).is_some();
        k.awaiting_answer = false;
        k.secure = Some(secure);
        k.ours = ours;
        k.theirs = theirs;
        let keys = keys_of(k);
        if keys.is_some() || had {
            self.srtp_command(s.id, s, side, keys);
        }
        Ok(())
    }
}
