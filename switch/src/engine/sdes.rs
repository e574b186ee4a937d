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
//! - **Answer from a leg we offered SRTP to**: it must be `RTP/SAVP` with our tag and
//!   suite. A plain `RTP/AVP` answer, or another tag, is a failed negotiation (RFC 3264
//!   §6: the answer must keep the offer's transport), and the call fails with 488.
//!
//! When a leg's offer/answer completes, its keys go to the relay
//! ([`MediaCommand::Srtp`]); a later plain exchange turns SRTP off again.

use std::collections::HashMap;

use media::graph::{Endpoint, MediaCommand, Side};
use media::sdp::crypto::{audio_security, with_crypto};
use media::srtp::{MasterKey, SrtpKeys, Suite};
use sip::transaction::TransportKind;

use super::session::Session;
use super::Cx;

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
                match (&k.ours, sec.savp) {
                    (Some((tag, ours)), true) => {
                        let line = sec
                            .lines
                            .iter()
                            .flatten()
                            .find(|c| c.tag == *tag && c.key.suite == ours.suite)
                            .ok_or(Refusal::NoSuite)?;
                        k.theirs = Some(line.key.clone());
                    }
                    (Some(_), false) => return Err(Refusal::PlainAnswer),
                    (None, true) => return Err(Refusal::NoSuite),
                    (None, false) => k.theirs = None,
                }
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
    /// Our own answer (`plain`, an `RTP/AVP` body the switch wrote: a queue, IVR, replaces
    /// or supervisor answer) to the leg on `side`, whose offer is `offer`: the one place that
    /// says what our own answers carry about SRTP. An `RTP/SAVP` offer over TLS gets its
    /// first acceptable line's tag and suite with a key of ours (the same key as before
    /// when the leg keeps tag and suite: a re-offer of an established leg), and both keys
    /// go to the relay; a plain offer gets the plain body and turns SRTP off. A refused
    /// offer (keys over clear-text signalling, no acceptable suite) gets the plain body,
    /// which the leg then refuses itself.
    pub(super) fn own_answer(
        &mut self,
        s: &Session,
        side: Side,
        offer: &[u8],
        plain: Vec<u8>,
    ) -> Vec<u8> {
        let (Ok(offer), Ok(text)) = (std::str::from_utf8(offer), std::str::from_utf8(&plain))
        else {
            return plain;
        };
        let sec = audio_security(offer);
        if sec.savp && !self.secure_signalling(s, side) {
            tracing::info!(
                call = s.id,
                "SRTP offer over clear-text signalling: plain answer"
            );
            return plain;
        }
        let k = self.sdes.sides.entry((s.id, side)).or_default();
        k.awaiting_answer = false;
        if !sec.savp {
            let had = k.ours.take().is_some() | k.theirs.take().is_some();
            if had {
                self.srtp_command(s.id, s, side, None);
            }
            return plain;
        }
        let Some(line) = sec.first_acceptable() else {
            tracing::info!(call = s.id, "no acceptable SRTP suite: plain answer");
            return plain;
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
        body.into_bytes()
    }
}
