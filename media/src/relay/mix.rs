//! The relay session's 20 ms ticks: the conference mix (each side hearing a mix gets the
//! sum of its sources but itself) and the recording's frames.

use std::time::Instant;

use super::{Hears, RelaySide};
use crate::engine::Side;
use crate::mixer::{add_into, clip_into, Frame, Sum};
use crate::player::{PACKET_LEN, SAMPLES_PER_PACKET};
use crate::recorder::Recorder;
use crate::rtp::{RtpHeader, HEADER_LEN};
use crate::stats::Batch;

/// One 20 ms tick of the mixer: each source draws a frame; each side hearing a mix gets
/// the sum of its sources but itself, in its codec.
pub(super) fn mix_tick(sides: &mut [Option<RelaySide>], batch: &mut Batch, now: Instant) {
    for side in sides.iter_mut().flatten() {
        if let Some(inbox) = side.inbox.as_mut() {
            inbox.tick();
        }
    }
    let mut frame: Frame = [0; SAMPLES_PER_PACKET];
    // Listeners of the same sources (a conference's members) share one sum, each hearing
    // it less its own voice: O(members) per tick, not O(members²).
    let mut sum: Sum = [0; SAMPLES_PER_PACKET];
    // The listener whose sources `sum` holds (no copy of the source list per tick).
    let mut summed: Option<usize> = None;
    for i in 0..sides.len() {
        let Some(of) = mix_sources(sides, i) else {
            continue;
        };
        let frame_of = |s: &Side| sides.get(s.index())?.as_ref()?.inbox.as_ref()?.frame();
        if summed.and_then(|j| mix_sources(sides, j)) != Some(of) {
            sum = [0; SAMPLES_PER_PACKET];
            add_into(of.iter().filter_map(frame_of), &mut sum);
            summed = Some(i);
        }
        let me = Side(i as u8);
        let own = if of.contains(&me) {
            frame_of(&me)
        } else {
            None
        };
        clip_into(&sum, own, &mut frame);
        let Some(side) = sides[i].as_mut() else {
            continue;
        };
        if side.is_playing() {
            continue;
        }
        let Some(out) = side.mix.as_mut() else {
            continue;
        };
        let mut packet = [0u8; PACKET_LEN];
        let header = RtpHeader {
            payload_type: out.codec.payload_type(),
            marker: false,
            sequence: out.sequence,
            timestamp: out.timestamp,
            ssrc: out.ssrc,
        };
        out.sequence = out.sequence.wrapping_add(1);
        out.timestamp = out.timestamp.wrapping_add(SAMPLES_PER_PACKET as u32);
        let (head, payload) = packet.split_at_mut(HEADER_LEN);
        head.copy_from_slice(&header.to_bytes());
        out.codec.encode(&frame, payload);
        if side.emit(&packet, now, batch) {
            batch.mixed += 1;
        } else {
            batch.dropped += 1;
        }
    }
}

/// The other endpoints `side`'s leg hears when no player plays to it.
pub(super) fn sources_of(sides: &[Option<RelaySide>], side: Side) -> Vec<Side> {
    match sides
        .get(side.index())
        .and_then(Option::as_ref)
        .map(|s| &s.hears)
    {
        Some(Hears::Endpoint(x)) => vec![*x],
        Some(Hears::Mix { of, .. }) => of.iter().copied().filter(|x| *x != side).collect(),
        _ => Vec::new(),
    }
}

/// The other endpoints whose audio `side`'s leg hears now (none while a player plays to
/// it: it hears the player).
fn heard_by(sides: &[Option<RelaySide>], side: Side) -> Vec<Side> {
    match sides.get(side.index()).and_then(Option::as_ref) {
        Some(s) if s.is_playing() => Vec::new(),
        _ => sources_of(sides, side),
    }
}

/// One tick of the recording: the left leg's frame, and the sum of what it hears. `true`
/// once a mono recording's silence has lasted its `silence_end`.
pub(super) fn record_tick(sides: &[Option<RelaySide>], recorder: &mut Recorder) -> bool {
    let frame_of = |s: &Side| sides.get(s.index())?.as_ref()?.inbox.as_ref()?.frame();
    let mut right: Frame = [0; SAMPLES_PER_PACKET];
    if !recorder.is_mono() {
        let heard = heard_by(sides, recorder.left);
        let mut sum: Sum = [0; SAMPLES_PER_PACKET];
        add_into(heard.iter().filter_map(frame_of), &mut sum);
        clip_into(&sum, None, &mut right);
    }
    recorder.push(frame_of(&recorder.left), &right)
}

/// The endpoints side `i` hears the mix of, when it hears a mix.
fn mix_sources(sides: &[Option<RelaySide>], i: usize) -> Option<&[Side]> {
    match &sides.get(i)?.as_ref()?.hears {
        Hears::Mix { of, .. } => Some(of.as_slice()),
        _ => None,
    }
}
