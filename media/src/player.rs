//! The player: a playlist turned into a paced RTP stream, sans-IO.
//!
//! The player never reads the clock and never touches a socket: the relay task asks it for
//! the packet due at `now` ([`Player::poll_packet`]) and when to ask again
//! ([`Player::poll_timeout`]), in the manner of str0m and quinn-proto, so pacing, skipping and
//! the end of a playlist are tested with a fake clock in microseconds.
//!
//! Pacing is anchored at the first packet: packet `n` is due at `start + n × 20 ms`, so late
//! wake-ups (the task shares two cores with everything else) never accumulate into drift. A
//! caller late by up to [`MAX_LATENESS`] gets the overdue packets at once, which a receiver's
//! jitter buffer absorbs; later than that, the player skips ahead in the audio and resumes
//! with the packet due now, rather than bursting a backlog the far end would discard anyway.
//! Skipped media shows as a timestamp jump with contiguous sequence numbers, as RFC 3550
//! wants (the packets were never sent, so none was lost).

use std::fmt;
use std::time::{Duration, Instant};

use crate::codec::Codec;
use crate::playlist::{Cursor, Playlist};
use crate::rtp::{RtpHeader, HEADER_LEN};

/// Packetisation time: 20 ms, the default for G.711 (RFC 3551) and what every phone accepts.
pub const PTIME: Duration = Duration::from_millis(20);

/// Samples (and G.711 payload bytes) per packet: 20 ms at 8 kHz.
pub const SAMPLES_PER_PACKET: usize = 160;

/// Length of every packet the player writes: RTP header and one packet of G.711.
pub const PACKET_LEN: usize = HEADER_LEN + SAMPLES_PER_PACKET;

/// How late a caller may be before the player skips instead of catching up.
pub const MAX_LATENESS: Duration = Duration::from_millis(200);

/// Plays a [`Playlist`] as RTP packets of one SSRC.
pub struct Player {
    ssrc: u32,
    codec: Codec,
    cursor: Cursor,
    /// Sequence number of the next packet.
    sequence: u16,
    /// RTP timestamp of the next packet.
    timestamp: u32,
    /// When packet 0 was due: the first `now` seen.
    start: Option<Instant>,
    /// Index of the next packet since `start`.
    next: u64,
    finished: bool,
}

impl Player {
    /// A player of `playlist` as `codec` from `ssrc`. Sequence numbers and timestamps start at
    /// 0; RFC 3550 asks for random initial values, which
    /// [`Player::with_initial_sequence_and_timestamp`] sets.
    pub fn new(ssrc: u32, codec: Codec, playlist: Playlist) -> Player {
        Player {
            ssrc,
            codec,
            cursor: Cursor::new(playlist),
            sequence: 0,
            timestamp: 0,
            start: None,
            next: 0,
            finished: false,
        }
    }

    /// The same player with its first packet numbered `sequence` and stamped `timestamp`.
    pub fn with_initial_sequence_and_timestamp(mut self, sequence: u16, timestamp: u32) -> Player {
        self.sequence = sequence;
        self.timestamp = timestamp;
        self
    }

    /// The SSRC of the stream.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// The codec and payload type of the stream.
    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// Whether a [`crate::Repeat::Once`] playlist has been played out: its last packet sent
    /// and that packet's 20 ms elapsed (so that whatever the caller plays next follows on
    /// without overlapping). Set by [`Player::poll_packet`]; looping playlists never finish.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// When the next packet is due (or, after the last packet, when the playlist ends).
    ///
    /// `None` when finished, and also before the first [`Player::poll_packet`]: a new player
    /// is due at once, and it takes its time origin from that first call.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.finished {
            return None;
        }
        self.start.map(|start| due(start, self.next))
    }

    /// The packet due at `now`, if any. Call it until it returns `None`: a caller that was
    /// late gets up to [`MAX_LATENESS`] worth of packets in a row.
    pub fn poll_packet(&mut self, now: Instant) -> Option<Vec<u8>> {
        let mut packet = [0u8; PACKET_LEN];
        self.poll_packet_into(now, &mut packet)
            .then(|| packet.to_vec())
    }

    /// [`Player::poll_packet`] writing into the caller's buffer instead of allocating: returns
    /// whether a packet was written (always [`PACKET_LEN`] bytes).
    pub fn poll_packet_into(&mut self, now: Instant, packet: &mut [u8; PACKET_LEN]) -> bool {
        if self.finished {
            return false;
        }
        let start = *self.start.get_or_insert(now);
        let due_at = due(start, self.next);
        if now < due_at {
            return false;
        }
        if now.duration_since(due_at) > MAX_LATENESS {
            self.skip_to(packets_between(start, now));
        }
        if self.cursor.is_exhausted() {
            self.finished = true;
            return false;
        }

        let mut samples = [0i16; SAMPLES_PER_PACKET];
        let filled = self.cursor.fill(&mut samples);
        let header = RtpHeader {
            payload_type: self.codec.payload_type(),
            marker: filled.item_started,
            sequence: self.sequence,
            timestamp: self.timestamp,
            ssrc: self.ssrc,
        };
        let (head, payload) = packet.split_at_mut(HEADER_LEN);
        head.copy_from_slice(&header.to_bytes());
        self.codec.encode(&samples, payload);

        self.sequence = self.sequence.wrapping_add(1);
        self.timestamp = self.timestamp.wrapping_add(SAMPLES_PER_PACKET as u32);
        self.next += 1;
        true
    }

    /// Jumps to packet `target` without sending the ones in between.
    fn skip_to(&mut self, target: u64) {
        let skipped = target.saturating_sub(self.next);
        let samples = skipped.saturating_mul(SAMPLES_PER_PACKET as u64);
        self.cursor.skip(samples);
        // The timestamp is modulo 2^32 by definition; truncating the jump is exact.
        self.timestamp = self.timestamp.wrapping_add(samples as u32);
        self.next += skipped;
    }
}

/// When packet `n` is due.
fn due(start: Instant, n: u64) -> Instant {
    // 2^64 ms is far beyond any call; saturate rather than overflow.
    let offset = Duration::from_millis(n.saturating_mul(PTIME.as_millis() as u64));
    start.checked_add(offset).unwrap_or(start)
}

/// Index of the packet due most recently at `now`.
fn packets_between(start: Instant, now: Instant) -> u64 {
    let elapsed = now.saturating_duration_since(start).as_millis();
    u64::try_from(elapsed / PTIME.as_millis()).unwrap_or(u64::MAX)
}

/// Skips the playlist's samples.
impl fmt::Debug for Player {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Player")
            .field("ssrc", &format_args!("{:#010x}", self.ssrc))
            .field("codec", &self.codec)
            .field("sequence", &self.sequence)
            .field("next", &self.next)
            .field("finished", &self.finished)
            .finish()
    }
}

#[cfg(test)]
#[path = "player_tests.rs"]
mod tests;
