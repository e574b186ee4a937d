//! Counters of the relay: per session (for no-media detection and CDR quality fields) and
//! engine-wide (for Prometheus).
//!
//! The relay task adds a whole drain pass's worth of counts at once, so the shared atomics are
//! touched a few times per wake-up rather than several times per packet; readers may call
//! [`crate::MediaSession::stats`] or [`crate::MediaEngine::totals`] at any time without
//! disturbing the packet path.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// A snapshot of one session's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SessionStats {
    /// RTP packets received on side A and sent out of side B.
    pub a_to_b_packets: u64,
    /// RTP packets received on side B and sent out of side A.
    pub b_to_a_packets: u64,
    /// RTP payload bytes (UDP payload, headers included) relayed A to B.
    pub a_to_b_bytes: u64,
    /// RTP bytes relayed B to A.
    pub b_to_a_bytes: u64,
    /// RTCP packets relayed, both directions.
    pub rtcp_packets: u64,
    /// Packets received but not relayed: no destination known yet for the other side, a
    /// source other than the latched one, or a failed send. Also player packets that could
    /// not be sent (the side's remote unknown yet, or a failed send).
    pub dropped: u64,
    /// RTP packets sent by players (prompts, music, tones), both sides.
    pub played_packets: u64,
    /// Packets (RTP and RTCP) received but deliberately not relayed because a player owns
    /// one side of the session (see [`crate::MediaSession::play`]).
    pub parked_packets: u64,
    /// RTP packets of mixed audio sent (conferences, supervisors), every endpoint.
    pub mixed_packets: u64,
    /// SRTP/SRTCP packets unprotected (received) and protected (sent), every endpoint.
    pub srtp_unprotected: u64,
    pub srtp_protected: u64,
    /// SRTP/SRTCP packets dropped: failed authentication, a replay, too short.
    pub srtp_auth_failures: u64,
    /// Time since the last packet (RTP or RTCP, relayed or not) was received on either side,
    /// or since the session was created. The caller's no-media timer reads this.
    pub idle_for: Duration,
}

/// A snapshot of the engine-wide counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Totals {
    /// Packets relayed, RTP and RTCP, every session since start.
    pub packets_relayed: u64,
    /// Bytes relayed (UDP payload), every session since start.
    pub bytes_relayed: u64,
    /// Sessions whose sockets are still open.
    pub sessions_active: u64,
    /// Sessions created since start.
    pub sessions_total: u64,
    /// Packets dropped, every session since start.
    pub dropped: u64,
    /// RTP packets sent by players, every session since start.
    pub packets_played: u64,
    /// RTP packets of mixed audio sent, every session since start.
    pub packets_mixed: u64,
    /// SRTP/SRTCP packets unprotected, protected, and refused, every session since start.
    pub srtp_unprotected: u64,
    pub srtp_protected: u64,
    pub srtp_auth_failures: u64,
    /// Free ports whose relay sockets stay bound for their next call.
    pub warm_ports: u64,
}

/// Counts gathered by one drain pass of a relay task, before they are published.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub(crate) a_to_b_packets: u64,
    pub(crate) b_to_a_packets: u64,
    pub(crate) a_to_b_bytes: u64,
    pub(crate) b_to_a_bytes: u64,
    pub(crate) rtcp_packets: u64,
    pub(crate) rtcp_bytes: u64,
    pub(crate) dropped: u64,
    pub(crate) played: u64,
    pub(crate) parked: u64,
    pub(crate) mixed: u64,
    pub(crate) srtp_unprotected: u64,
    pub(crate) srtp_protected: u64,
    pub(crate) srtp_auth_failures: u64,
    /// Whether any packet at all was received (relayed or dropped).
    pub(crate) received: bool,
}

impl Batch {
    /// Whether the pass has anything to publish.
    pub(crate) fn is_empty(&self) -> bool {
        !self.received
            && self.dropped == 0
            && self.played == 0
            && self.parked == 0
            && self.mixed == 0
            && self.srtp_protected == 0
    }

    fn packets(&self) -> u64 {
        self.a_to_b_packets + self.b_to_a_packets + self.rtcp_packets
    }

    fn bytes(&self) -> u64 {
        self.a_to_b_bytes + self.b_to_a_bytes + self.rtcp_bytes
    }
}

/// Live counters of one session, shared by its relay task and its handle.
#[derive(Debug)]
pub(crate) struct SessionCounters {
    created: Instant,
    a_to_b_packets: AtomicU64,
    b_to_a_packets: AtomicU64,
    a_to_b_bytes: AtomicU64,
    b_to_a_bytes: AtomicU64,
    rtcp_packets: AtomicU64,
    dropped: AtomicU64,
    played_packets: AtomicU64,
    parked_packets: AtomicU64,
    mixed_packets: AtomicU64,
    srtp: [AtomicU64; 3],
    /// Milliseconds from `created` to the last received packet (0: none yet); an `Instant`
    /// does not fit in an atomic, an offset does.
    last_packet_ms: AtomicU64,
}

impl SessionCounters {
    pub(crate) fn new(created: Instant) -> SessionCounters {
        SessionCounters {
            created,
            a_to_b_packets: AtomicU64::new(0),
            b_to_a_packets: AtomicU64::new(0),
            a_to_b_bytes: AtomicU64::new(0),
            b_to_a_bytes: AtomicU64::new(0),
            rtcp_packets: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            played_packets: AtomicU64::new(0),
            parked_packets: AtomicU64::new(0),
            mixed_packets: AtomicU64::new(0),
            srtp: Default::default(),
            last_packet_ms: AtomicU64::new(0),
        }
    }

    /// Publishes a drain pass's counts; `now` is when its packets were received.
    pub(crate) fn add(&self, batch: &Batch, now: Instant) {
        add_nonzero(&self.a_to_b_packets, batch.a_to_b_packets);
        add_nonzero(&self.b_to_a_packets, batch.b_to_a_packets);
        add_nonzero(&self.a_to_b_bytes, batch.a_to_b_bytes);
        add_nonzero(&self.b_to_a_bytes, batch.b_to_a_bytes);
        add_nonzero(&self.rtcp_packets, batch.rtcp_packets);
        add_nonzero(&self.dropped, batch.dropped);
        add_nonzero(&self.played_packets, batch.played);
        add_nonzero(&self.parked_packets, batch.parked);
        add_nonzero(&self.mixed_packets, batch.mixed);
        add_srtp(&self.srtp, batch);
        if batch.received {
            let ms = now.saturating_duration_since(self.created).as_millis();
            self.last_packet_ms
                .store(u64::try_from(ms).unwrap_or(u64::MAX), Relaxed);
        }
    }

    pub(crate) fn snapshot(&self) -> SessionStats {
        let last = Duration::from_millis(self.last_packet_ms.load(Relaxed));
        SessionStats {
            a_to_b_packets: self.a_to_b_packets.load(Relaxed),
            b_to_a_packets: self.b_to_a_packets.load(Relaxed),
            a_to_b_bytes: self.a_to_b_bytes.load(Relaxed),
            b_to_a_bytes: self.b_to_a_bytes.load(Relaxed),
            rtcp_packets: self.rtcp_packets.load(Relaxed),
            dropped: self.dropped.load(Relaxed),
            played_packets: self.played_packets.load(Relaxed),
            parked_packets: self.parked_packets.load(Relaxed),
            mixed_packets: self.mixed_packets.load(Relaxed),
            srtp_unprotected: self.srtp[0].load(Relaxed),
            srtp_protected: self.srtp[1].load(Relaxed),
            srtp_auth_failures: self.srtp[2].load(Relaxed),
            idle_for: self.created.elapsed().saturating_sub(last),
        }
    }
}

/// Engine-wide counters, shared by every relay task.
#[derive(Debug, Default)]
pub(crate) struct TotalCounters {
    packets_relayed: AtomicU64,
    bytes_relayed: AtomicU64,
    sessions_active: AtomicU64,
    sessions_total: AtomicU64,
    dropped: AtomicU64,
    packets_played: AtomicU64,
    packets_mixed: AtomicU64,
    srtp: [AtomicU64; 3],
}

impl TotalCounters {
    pub(crate) fn add(&self, batch: &Batch) {
        add_nonzero(&self.packets_relayed, batch.packets());
        add_nonzero(&self.bytes_relayed, batch.bytes());
        add_nonzero(&self.dropped, batch.dropped);
        add_nonzero(&self.packets_played, batch.played);
        add_nonzero(&self.packets_mixed, batch.mixed);
        add_srtp(&self.srtp, batch);
    }

    pub(crate) fn session_started(&self) {
        self.sessions_total.fetch_add(1, Relaxed);
        self.sessions_active.fetch_add(1, Relaxed);
    }

    pub(crate) fn session_ended(&self) {
        self.sessions_active.fetch_sub(1, Relaxed);
    }

    pub(crate) fn snapshot(&self) -> Totals {
        Totals {
            packets_relayed: self.packets_relayed.load(Relaxed),
            bytes_relayed: self.bytes_relayed.load(Relaxed),
            sessions_active: self.sessions_active.load(Relaxed),
            sessions_total: self.sessions_total.load(Relaxed),
            dropped: self.dropped.load(Relaxed),
            packets_played: self.packets_played.load(Relaxed),
            packets_mixed: self.packets_mixed.load(Relaxed),
            srtp_unprotected: self.srtp[0].load(Relaxed),
            srtp_protected: self.srtp[1].load(Relaxed),
            srtp_auth_failures: self.srtp[2].load(Relaxed),
            warm_ports: 0,
        }
    }
}

/// The SRTP counts, as `[unprotected, protected, auth failures]`.
fn add_srtp(counters: &[AtomicU64; 3], batch: &Batch) {
    add_nonzero(&counters[0], batch.srtp_unprotected);
    add_nonzero(&counters[1], batch.srtp_protected);
    add_nonzero(&counters[2], batch.srtp_auth_failures);
}

/// Skips the atomic (and its cache-line traffic) when there is nothing to add.
fn add_nonzero(counter: &AtomicU64, n: u64) {
    if n != 0 {
        counter.fetch_add(n, Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_counts_from_creation_then_from_last_packet() {
        let created = Instant::now() - Duration::from_secs(10);
        let counters = SessionCounters::new(created);
        assert!(counters.snapshot().idle_for >= Duration::from_secs(10));

        let batch = Batch {
            a_to_b_packets: 2,
            a_to_b_bytes: 344,
            rtcp_packets: 1,
            rtcp_bytes: 60,
            dropped: 1,
            received: true,
            ..Batch::default()
        };
        counters.add(&batch, Instant::now());
        let stats = counters.snapshot();
        assert!(stats.idle_for < Duration::from_secs(1));
        assert_eq!(stats.a_to_b_packets, 2);
        assert_eq!(stats.a_to_b_bytes, 344);
        assert_eq!(stats.rtcp_packets, 1);
        assert_eq!(stats.dropped, 1);

        let totals = TotalCounters::default();
        totals.session_started();
        totals.add(&batch);
        let t = totals.snapshot();
        assert_eq!((t.packets_relayed, t.bytes_relayed, t.dropped), (3, 404, 1));
        assert_eq!((t.sessions_active, t.sessions_total), (1, 1));
        totals.session_ended();
        assert_eq!(totals.snapshot().sessions_active, 0);
    }
}
