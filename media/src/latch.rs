//! Symmetric latching: where to send a side's media.
//!
//! Signalling says where a leg wants its RTP, but behind NAT that address (a private one, or
//! the right IP with the wrong port) is often unreachable. A symmetric endpoint sends from the
//! address it receives on, so the relay sends to the source of the packets it gets from that
//! leg instead ("latching", as rtpengine and RTPproxy do).
//!
//! The policy chosen here:
//!
//! - until a side has sent anything, its media goes to the address from its SDP;
//! - the first packet latches the side to its source, whatever the SDP said;
//! - once latched, packets from another source are dropped (so a stray or hostile sender on
//!   the relay port cannot take the stream over), unless the latched source has been silent
//!   for [`RELATCH_AFTER`]: then the new source wins, which covers a NAT rebinding or a phone
//!   changing its port mid-call;
//! - except the signalled address itself: latched elsewhere, a packet from exactly the
//!   address the SDP gave takes the side back at once. After a transfer the new party's
//!   SDP resets the latch while the old phone's last packets may still arrive; they must
//!   not hold the new party off for [`RELATCH_AFTER`].
//! - new SDP with a different address (re-INVITE, transfer) resets the latch.
//!
//! This is plain state with the clock passed in, so every rule is tested without sockets.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// How long a latched source must be silent before another source may take the side over.
///
/// Long enough that two streams arriving at once (a forked or duplicated sender) do not make
/// the relay flap between them at every packet, short enough that a phone whose NAT binding
/// changed loses only about a second of audio.
pub(crate) const RELATCH_AFTER: Duration = Duration::from_secs(1);

/// What [`Latch::accept`] decided about a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// From the latched source: relay it.
    Known,
    /// The side is now latched to this packet's source (first packet or take-over): relay it.
    Latched {
        /// The source latched before, if any.
        previous: Option<SocketAddr>,
    },
    /// From another source while the latched one is active: drop it.
    Rejected,
}

/// Where one socket of one side sends to, and how it learns that.
#[derive(Debug, Default)]
pub(crate) struct Latch {
    /// Address from signalling, used until the side sends.
    expected: Option<SocketAddr>,
    /// Source of the side's packets, once it has sent.
    latched: Option<SocketAddr>,
    /// When the latched source last sent.
    last_heard: Option<Instant>,
}

impl Latch {
    /// Sets the address from signalling. A different address starts over (unlatched); the same
    /// one again (a re-INVITE that changes nothing) keeps the latch, and so does the first
    /// address when media arrived before the SDP did (early RTP behind a NAT must not be
    /// sent to the private address in the SDP).
    pub(crate) fn set_expected(&mut self, addr: Option<SocketAddr>) {
        if self.expected.is_none() && self.latched.is_some() {
            self.expected = addr;
        } else if addr != self.expected {
            *self = Latch {
                expected: addr,
                ..Latch::default()
            };
        }
    }

    /// The address from signalling.
    pub(crate) fn expected(&self) -> Option<SocketAddr> {
        self.expected
    }

    /// Forgets everything, signalled and learned.
    pub(crate) fn reset(&mut self) {
        *self = Latch::default();
    }

    /// Where packets for this side go: the latched source, else the signalled address.
    pub(crate) fn destination(&self) -> Option<SocketAddr> {
        self.latched.or(self.expected)
    }

    /// Judges a packet received from `source` at `now`, updating the latch.
    pub(crate) fn accept(&mut self, source: SocketAddr, now: Instant) -> Verdict {
        match (self.latched, self.last_heard) {
            (Some(current), _) if current == source => {
                self.last_heard = Some(now);
                Verdict::Known
            }
            (Some(_), Some(heard))
                if now.saturating_duration_since(heard) < RELATCH_AFTER
                    && self.expected != Some(source) =>
            {
                Verdict::Rejected
            }
            (previous, _) => {
                self.latched = Some(source);
                self.last_heard = Some(now);
                Verdict::Latched { previous }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    #[test]
    fn sends_to_signalled_address_until_latched() {
        let mut latch = Latch::default();
        assert_eq!(latch.destination(), None);
        latch.set_expected(Some(addr("10.0.0.1:4000")));
        assert_eq!(latch.destination(), Some(addr("10.0.0.1:4000")));

        let now = Instant::now();
        let nat = addr("198.51.100.7:31000");
        assert_eq!(latch.accept(nat, now), Verdict::Latched { previous: None });
        assert_eq!(latch.destination(), Some(nat));
        assert_eq!(latch.accept(nat, now), Verdict::Known);
    }

    #[test]
    fn the_signalled_address_takes_the_side_back_at_once() {
        let mut latch = Latch::default();
        let now = Instant::now();
        let (old_phone, new_party) = (addr("192.0.2.1:5000"), addr("192.0.2.9:7000"));
        // New SDP (a transfer) resets the latch; the old phone's last packet latches it.
        latch.set_expected(Some(new_party));
        assert_eq!(
            latch.accept(old_phone, now),
            Verdict::Latched { previous: None }
        );
        // The party the SDP named speaks: it wins at once, not after RELATCH_AFTER.
        assert_eq!(
            latch.accept(new_party, now + Duration::from_millis(20)),
            Verdict::Latched {
                previous: Some(old_phone)
            }
        );
        assert_eq!(latch.destination(), Some(new_party));
        assert_eq!(
            latch.accept(old_phone, now + Duration::from_millis(40)),
            Verdict::Rejected
        );
    }

    #[test]
    fn latches_without_any_signalled_address() {
        let mut latch = Latch::default();
        let src = addr("192.0.2.1:5000");
        assert_eq!(
            latch.accept(src, Instant::now()),
            Verdict::Latched { previous: None }
        );
        assert_eq!(latch.destination(), Some(src));
    }

    #[test]
    fn other_sources_are_rejected_while_latched_source_is_active() {
        let mut latch = Latch::default();
        let t0 = Instant::now();
        let phone = addr("192.0.2.1:5000");
        let intruder = addr("203.0.113.66:6666");
        latch.accept(phone, t0);
        assert_eq!(
            latch.accept(intruder, t0 + Duration::from_millis(10)),
            Verdict::Rejected
        );
        // The phone keeps talking, so the intruder keeps being refused.
        latch.accept(phone, t0 + Duration::from_millis(900));
        assert_eq!(
            latch.accept(intruder, t0 + Duration::from_millis(1800)),
            Verdict::Rejected
        );
        assert_eq!(latch.destination(), Some(phone));
    }

    #[test]
    fn silent_source_is_taken_over() {
        let mut latch = Latch::default();
        let t0 = Instant::now();
        let old = addr("192.0.2.1:5000");
        let new = addr("192.0.2.1:5002");
        latch.accept(old, t0);
        assert_eq!(
            latch.accept(new, t0 + RELATCH_AFTER),
            Verdict::Latched {
                previous: Some(old)
            }
        );
        assert_eq!(latch.destination(), Some(new));
        // And now the old one is the stranger.
        assert_eq!(
            latch.accept(old, t0 + RELATCH_AFTER + Duration::from_millis(20)),
            Verdict::Rejected
        );
    }

    #[test]
    fn new_signalled_address_resets_latch_but_same_one_does_not() {
        let mut latch = Latch::default();
        let t0 = Instant::now();
        latch.set_expected(Some(addr("10.0.0.1:4000")));
        let nat = addr("198.51.100.7:31000");
        latch.accept(nat, t0);

        latch.set_expected(Some(addr("10.0.0.1:4000")));
        assert_eq!(latch.destination(), Some(nat));

        latch.set_expected(Some(addr("10.0.0.2:4000")));
        assert_eq!(latch.destination(), Some(addr("10.0.0.2:4000")));
        // Unlatched again: the next source is taken at once.
        let other = addr("198.51.100.8:31000");
        assert_eq!(
            latch.accept(other, t0 + Duration::from_millis(1)),
            Verdict::Latched { previous: None }
        );

        latch.set_expected(None);
        assert_eq!(latch.destination(), None);
        latch.accept(other, t0);
        latch.reset();
        assert_eq!(latch.destination(), None);
    }
}
