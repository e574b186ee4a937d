//! The conference mixer, sans-IO: what each source endpoint sent, decoded and buffered
//! ([`Inbox`]), and the frame each listener hears (the sum of the sources it hears, clipped
//! to 16 bits, [`mix_into`]), paced every 20 ms by [`Ticker`].
//!
//! A source's packets arrive with network jitter and on their sender's clock, the mixer's
//! tick on ours, so each source keeps a small buffer: it starts being drawn from once two
//! packets' worth are in (40 ms), draws one packet's worth per tick, and starts over when it
//! runs dry; a buffer grown past [`MAX_BUFFERED`] (a sender faster than our clock, or a
//! burst) drops its oldest samples, so the delay added stays bounded.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use crate::player::{MAX_LATENESS, PTIME, SAMPLES_PER_PACKET};
use crate::Codec;

/// Samples buffered before a source is drawn from (two packets, 40 ms).
const PRIME: usize = 2 * SAMPLES_PER_PACKET;

/// Most samples a source buffers (100 ms); beyond, the oldest go.
pub const MAX_BUFFERED: usize = 5 * SAMPLES_PER_PACKET;

/// One frame: 20 ms of linear samples.
pub type Frame = [i16; SAMPLES_PER_PACKET];

/// What one source endpoint sent, decoded, waiting to be mixed.
#[derive(Debug, Default)]
pub struct Inbox {
    samples: VecDeque<i16>,
    /// Drawn from: primed and not run dry since.
    flowing: bool,
    /// The frame drawn at the last tick (silence when none).
    frame: Option<Box<Frame>>,
}

impl Inbox {
    /// Adds a G.711 payload of payload type `payload_type`; anything else (telephone
    /// events, comfort noise, another codec) is not audio the mixer can sum, and is skipped.
    pub fn push(&mut self, payload_type: u8, payload: &[u8]) {
        let codec = match payload_type {
            0 => Codec::PCMU,
            8 => Codec::PCMA,
            _ => return,
        };
        self.samples
            .extend(payload.iter().map(|&code| codec.decode(code)));
        if self.samples.len() > MAX_BUFFERED {
            let excess = self.samples.len() - PRIME;
            self.samples.drain(..excess);
        }
    }

    /// Draws this tick's frame: one packet's worth once primed, else silence.
    pub fn tick(&mut self) {
        if !self.flowing && self.samples.len() >= PRIME {
            self.flowing = true;
        }
        let frame = self
            .frame
            .get_or_insert_with(|| Box::new([0; SAMPLES_PER_PACKET]));
        frame.fill(0);
        if !self.flowing {
            return;
        }
        let n = self.samples.len().min(SAMPLES_PER_PACKET);
        for (slot, sample) in frame.iter_mut().zip(self.samples.drain(..n)) {
            *slot = sample;
        }
        if self.samples.is_empty() {
            self.flowing = false;
        }
    }

    /// The frame drawn at the last tick (silence before the first).
    pub fn frame(&self) -> Option<&Frame> {
        self.frame.as_deref()
    }

    /// Samples waiting.
    pub fn buffered(&self) -> usize {
        self.samples.len()
    }
}

/// A frame's worth of sums, wide enough for any number of sources.
pub type Sum = [i32; SAMPLES_PER_PACKET];

/// Sums `sources`' frames into `out`, clipped to the 16-bit range.
pub fn mix_into<'a>(sources: impl IntoIterator<Item = &'a Frame>, out: &mut Frame) {
    let mut sum = [0i32; SAMPLES_PER_PACKET];
    add_into(sources, &mut sum);
    clip_into(&sum, None, out);
}

/// Adds `sources`' frames to `sum`.
pub fn add_into<'a>(sources: impl IntoIterator<Item = &'a Frame>, sum: &mut Sum) {
    for frame in sources {
        for (acc, &s) in sum.iter_mut().zip(frame.iter()) {
            *acc += i32::from(s);
        }
    }
}

/// `sum` less `own` (a listener's own voice, when the sum holds it), clipped into `out`:
/// a conference sums its members once per tick and each member hears that less itself.
pub fn clip_into(sum: &Sum, own: Option<&Frame>, out: &mut Frame) {
    match own {
        Some(own) => {
            for ((o, s), &x) in out.iter_mut().zip(sum).zip(own.iter()) {
                *o = (s - i32::from(x)).clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
            }
        }
        None => {
            for (o, s) in out.iter_mut().zip(sum) {
                *o = (*s).clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
            }
        }
    }
}

/// The mixer's 20 ms clock, anchored at its first tick so late wake-ups never drift; a
/// wake-up later than [`MAX_LATENESS`] skips the missed ticks rather than bursting them.
#[derive(Debug, Default)]
pub struct Ticker {
    start: Option<Instant>,
    next: u64,
}

impl Ticker {
    /// When the next tick is due (`None` before the first: due at once).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.start.map(|s| s + PTIME * self.next as u32)
    }

    /// Whether a tick is due at `now`; call until `false`.
    pub fn poll_tick(&mut self, now: Instant) -> bool {
        let start = *self.start.get_or_insert(now);
        let due = start + PTIME * self.next as u32;
        if now < due {
            return false;
        }
        if now.duration_since(due) > MAX_LATENESS {
            let elapsed = now.duration_since(start).as_millis() / PTIME.as_millis();
            self.next = u64::try_from(elapsed).unwrap_or(u64::MAX);
        }
        self.next += 1;
        true
    }

    /// Restarts the clock (the mix stopped and starts again later).
    pub fn reset(&mut self) {
        *self = Ticker::default();
    }
}

/// How long a 20 ms frame lasts, for callers that pace by hand.
pub const FRAME: Duration = PTIME;

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ulaw(samples: &[i16]) -> Vec<u8> {
        let mut out = vec![0u8; samples.len()];
        Codec::PCMU.encode(samples, &mut out);
        out
    }

    #[test]
    fn a_source_is_drawn_from_once_primed_and_until_dry() {
        let mut inbox = Inbox::default();
        inbox.push(0, &ulaw(&[1000; 160]));
        inbox.tick();
        assert!(
            inbox.frame().unwrap().iter().all(|&s| s == 0),
            "not primed yet"
        );
        inbox.push(0, &ulaw(&[1000; 160]));
        inbox.tick();
        let first = inbox.frame().unwrap();
        assert!(
            first.iter().all(|&s| (s - 1000).abs() < 40),
            "{:?}",
            &first[..4]
        );
        inbox.tick();
        assert!(inbox.frame().unwrap().iter().all(|&s| s != 0));
        inbox.tick();
        assert!(inbox.frame().unwrap().iter().all(|&s| s == 0), "ran dry");
    }

    #[test]
    fn events_and_other_codecs_are_not_audio() {
        let mut inbox = Inbox::default();
        inbox.push(101, &[1, 0x80, 0, 160]);
        inbox.push(18, &[0; 20]);
        assert_eq!(inbox.buffered(), 0);
        inbox.push(8, &[0xd5; 160]);
        assert_eq!(inbox.buffered(), 160);
    }

    #[test]
    fn a_burst_keeps_the_delay_bounded() {
        let mut inbox = Inbox::default();
        for _ in 0..20 {
            inbox.push(0, &ulaw(&[500; 160]));
        }
        assert!(inbox.buffered() <= MAX_BUFFERED);
    }

    #[test]
    fn the_sum_clips_instead_of_wrapping() {
        let loud = [30_000i16; SAMPLES_PER_PACKET];
        let low = [-30_000i16; SAMPLES_PER_PACKET];
        let mut out = [0i16; SAMPLES_PER_PACKET];
        mix_into([&loud, &loud], &mut out);
        assert!(out.iter().all(|&s| s == i16::MAX));
        mix_into([&low, &low, &low], &mut out);
        assert!(out.iter().all(|&s| s == i16::MIN));
        mix_into([&loud, &low], &mut out);
        assert!(out.iter().all(|&s| s == 0));
        mix_into(std::iter::empty(), &mut out);
        assert!(out.iter().all(|&s| s == 0));
    }

    #[test]
    fn ticks_keep_time_and_skip_a_long_stall() {
        let t0 = Instant::now();
        let mut ticker = Ticker::default();
        assert!(ticker.poll_tick(t0));
        assert!(!ticker.poll_tick(t0));
        assert_eq!(ticker.poll_timeout(), Some(t0 + FRAME));
        // 50 ms late: the two due ticks come at once.
        let late = t0 + Duration::from_millis(70);
        assert!(ticker.poll_tick(late));
        assert!(ticker.poll_tick(late));
        assert!(ticker.poll_tick(late));
        assert!(!ticker.poll_tick(late));
        // A second's stall: one tick, then on time again.
        let stall = t0 + Duration::from_secs(1) + Duration::from_millis(10);
        assert!(ticker.poll_tick(stall));
        assert!(!ticker.poll_tick(stall));
        assert_eq!(
            ticker.poll_timeout(),
            Some(t0 + Duration::from_millis(1020))
        );
    }

    proptest! {
        #[test]
        fn the_mix_is_the_clipped_sum(a in proptest::collection::vec(any::<i16>(), 160),
                                      b in proptest::collection::vec(any::<i16>(), 160),
                                      c in proptest::collection::vec(any::<i16>(), 160)) {
            let (fa, fb, fc): (Frame, Frame, Frame) =
                (a.clone().try_into().unwrap(), b.clone().try_into().unwrap(), c.clone().try_into().unwrap());
            let mut out = [0i16; SAMPLES_PER_PACKET];
            mix_into([&fa, &fb, &fc], &mut out);
            for i in 0..SAMPLES_PER_PACKET {
                let sum = i32::from(a[i]) + i32::from(b[i]) + i32::from(c[i]);
                prop_assert_eq!(i32::from(out[i]), sum.clamp(-32768, 32767));
            }
        }
    }
}
