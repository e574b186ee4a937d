//! The packet path of a relay session: a datagram read from a side, through its SRTP or
//! WebRTC boundary, copied to every side that hears it, and counted.

use std::io;
use std::time::Instant;

use super::{Hears, Kind, RelaySide, BATCH_PER_SOCKET};
use crate::engine::Side;
use crate::latch::Verdict;
use crate::rtp::HEADER_LEN;
use crate::srtp::{self, Stream};
use crate::stats::Batch;

/// Takes up to [`BATCH_PER_SOCKET`] packets of `kind` from side `from` and relays each
/// ([`deliver`]); a WebRTC side's datagrams go through its peer first.
#[allow(clippy::too_many_arguments)]
pub(super) fn relay_from(
    sides: &mut [Option<RelaySide>],
    from: usize,
    kind: Kind,
    buf: &mut [u8],
    now: Instant,
    batch: &mut Batch,
    digits: &mut Vec<(Side, char)>,
) {
    for _ in 0..BATCH_PER_SOCKET {
        let Some(side) = sides.get_mut(from).and_then(Option::as_mut) else {
            return;
        };
        if side.webrtc.is_some() {
            // Everything is muxed on the RTP socket; the RTCP one stays idle.
            if kind == Kind::Rtcp || !receive_webrtc(sides, from, buf, now, batch, digits) {
                return;
            }
            continue;
        }
        let (socket, latch) = match kind {
            Kind::Rtp => (&side.sockets.rtp, &mut side.rtp),
            Kind::Rtcp => (&side.sockets.rtcp, &mut side.rtcp),
        };
        let (len, source) = match socket.try_recv_from(buf) {
            Ok(received) => received,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
            Err(e) => {
                // Linux can report a previous send's ICMP error here; the next read is fine.
                tracing::trace!(error = %e, side = from, ?kind, "relay receive error");
                continue;
            }
        };
        batch.received = true;
        match latch.accept(source, now) {
            Verdict::Known => {}
            Verdict::Latched { previous } => {
                tracing::debug!(side = from, ?kind, %source, ?previous, "relay latched");
            }
            Verdict::Rejected => {
                tracing::trace!(side = from, ?kind, %source, "packet from unlatched source dropped");
                batch.dropped += 1;
                continue;
            }
        }
        let Some(len) = srtp::receive(side.srtp.as_deref_mut(), stream(kind), buf, len, batch)
        else {
            continue;
        };
        let Some(packet) = buf.get_mut(..len) else {
            batch.dropped += 1;
            continue;
        };
        deliver(sides, from, kind, packet, now, batch, digits);
    }
}

/// Takes one datagram from WebRTC side `from` into its peer, and relays the media frames
/// it yields as plain RTP; `false` when the socket had nothing.
fn receive_webrtc(
    sides: &mut [Option<RelaySide>],
    from: usize,
    buf: &mut [u8],
    now: Instant,
    batch: &mut Batch,
    digits: &mut Vec<(Side, char)>,
) -> bool {
    let Some(side) = sides.get_mut(from).and_then(Option::as_mut) else {
        return false;
    };
    let (len, source) = match side.sockets.rtp.try_recv_from(buf) {
        Ok(received) => received,
        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
        Err(e) => {
            tracing::trace!(error = %e, side = from, "relay receive error");
            return true;
        }
    };
    // The side leaves the slice while its frames are written to the others, and comes back.
    let Some(mut w) = side.webrtc.take() else {
        return false;
    };
    w.receive(
        now,
        source,
        buf.get(..len).unwrap_or_default(),
        &side.sockets.rtp,
    );
    w.take_frames(|packet| {
        batch.received = true;
        deliver(sides, from, Kind::Rtp, packet, now, batch, digits);
    });
    if let Some(side) = sides.get_mut(from).and_then(Option::as_mut) {
        side.webrtc = Some(w);
    }
    true
}

/// Copies one packet received on side `from` to the sides that hear it (none while `from`
/// or the listener plays: parked), puts its audio in `from`'s inbox when a mix takes it,
/// and notes the digit a telephone event of it ends.
fn deliver(
    sides: &mut [Option<RelaySide>],
    from: usize,
    kind: Kind,
    packet: &mut [u8],
    now: Instant,
    batch: &mut Batch,
    digits: &mut Vec<(Side, char)>,
) {
    let me = Side(from as u8);
    let len = packet.len();
    let Some(side) = sides.get_mut(from).and_then(Option::as_mut) else {
        return;
    };
    let events = side.events;
    // A telephone event from this side, to be renumbered for each listener.
    let event = match (kind, events, packet.get(1)) {
        (Kind::Rtp, Some(pt), Some(b)) if b & 0x7f == pt && len >= HEADER_LEN => Some(*b),
        _ => None,
    };
    // The end of a telephone event, where the engine listens for digits.
    if let (Some(_), Some(last)) = (event, side.digits.as_mut()) {
        if let Ok(rtp) = crate::rtp::parse(packet) {
            let ended = rtp.payload.get(1).is_some_and(|b| b & 0x80 != 0);
            if ended && *last != Some(rtp.header.timestamp) {
                *last = Some(rtp.header.timestamp);
                if let Some(d) = rtp.payload.first().and_then(|e| digit_of(*e)) {
                    digits.push((me, d));
                }
            }
        }
    }
    if side.is_playing() {
        batch.parked += 1;
        return;
    }
    if let (Kind::Rtp, Some(inbox)) = (kind, side.inbox.as_mut()) {
        if let Ok(rtp) = crate::rtp::parse(packet) {
            inbox.push(rtp.header.payload_type, rtp.payload);
        }
    }
    for to in sides.iter_mut().flatten() {
        if to.hears != Hears::Endpoint(me) {
            continue;
        }
        if to.is_playing() {
            batch.parked += 1;
            continue;
        }
        if let Some(w) = to.webrtc.as_mut() {
            // RTCP stays between str0m and the browser; DTMF reaches browsers as SIP INFO.
            if kind == Kind::Rtp && event.is_none() && w.send_rtp(now, packet, &to.sockets.rtp) {
                count(batch, me, kind, len);
            } else {
                batch.dropped += 1;
            }
            continue;
        }
        let Some(destination) = to.destination(kind) else {
            batch.dropped += 1;
            continue;
        };
        if let Some(byte) = event {
            packet[1] = match to.events {
                Some(theirs) => (byte & 0x80) | theirs,
                None => byte,
            };
        }
        let socket = match kind {
            Kind::Rtp => &to.sockets.rtp,
            Kind::Rtcp => &to.sockets.rtcp,
        };
        let srtp = to.srtp.as_deref_mut();
        match srtp::send_to(socket, srtp, stream(kind), packet, destination, batch) {
            Ok(_) => count(batch, me, kind, len),
            Err(e) => {
                tracing::trace!(error = %e, %destination, "relay send failed");
                batch.dropped += 1;
            }
        }
    }
}

/// The digit of an RFC 4733 event code (0-9, *, #, A-D).
fn digit_of(event: u8) -> Option<char> {
    match event {
        0..=9 => Some(char::from(b'0' + event)),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some(char::from(b'A' + event - 12)),
        _ => None,
    }
}

/// The SRTP stream of a socket kind.
fn stream(kind: Kind) -> Stream {
    match kind {
        Kind::Rtp => Stream::Rtp,
        Kind::Rtcp => Stream::Rtcp,
    }
}

/// Adds one relayed packet to the pass's counts.
fn count(batch: &mut Batch, from: Side, kind: Kind, len: usize) {
    let len = len as u64;
    match (kind, from == Side::A) {
        (Kind::Rtp, true) => {
            batch.a_to_b_packets += 1;
            batch.a_to_b_bytes += len;
        }
        (Kind::Rtp, false) => {
            batch.b_to_a_packets += 1;
            batch.b_to_a_bytes += len;
        }
        (Kind::Rtcp, _) => {
            batch.rtcp_packets += 1;
            batch.rtcp_bytes += len;
        }
    }
}
