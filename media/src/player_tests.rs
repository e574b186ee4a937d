//! The player against a fake clock.

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;
use crate::playlist::Repeat;
use crate::rtp;

const SSRC: u32 = 0x1234_5678;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn ramp(len: usize) -> Arc<[i16]> {
    (0..len).map(|i| (i as i16).wrapping_mul(37)).collect()
}

fn player(items: Vec<Arc<[i16]>>, repeat: Repeat) -> Player {
    Player::new(SSRC, Codec::PCMU, Playlist { items, repeat })
}

/// Every packet due at `now`, parsed: (marker, sequence, timestamp, payload).
fn drain(player: &mut Player, now: Instant) -> Vec<(bool, u16, u32, Vec<u8>)> {
    let mut out = Vec::new();
    while let Some(packet) = player.poll_packet(now) {
        assert_eq!(packet.len(), PACKET_LEN);
        let parsed = rtp::parse(&packet).unwrap();
        assert_eq!(parsed.header.ssrc, SSRC);
        assert_eq!(parsed.header.payload_type, 0);
        out.push((
            parsed.header.marker,
            parsed.header.sequence,
            parsed.header.timestamp,
            parsed.payload.to_vec(),
        ));
        assert!(out.len() <= 100, "runaway burst");
    }
    out
}

fn encoded(samples: &[i16]) -> Vec<u8> {
    let mut out = vec![0; samples.len()];
    Codec::PCMU.encode(samples, &mut out);
    out
}

#[test]
fn first_packet_at_once_then_every_20_ms_of_media_time() {
    let mut p = player(vec![ramp(8000)], Repeat::Once);
    assert_eq!(p.poll_timeout(), None, "not started: due at once");
    let t0 = Instant::now();
    assert_eq!(drain(&mut p, t0).len(), 1);
    assert_eq!(p.poll_timeout(), Some(t0 + ms(20)));
    assert!(drain(&mut p, t0 + ms(19)).is_empty());

    // Irregular wake-ups: packets follow the media clock, not the wake-ups.
    let mut sent = 1;
    for at in [20, 45, 59, 61, 99, 100, 133] {
        sent += drain(&mut p, t0 + ms(at)).len();
        assert_eq!(sent as u64, at / 20 + 1, "at {at} ms");
        assert_eq!(p.poll_timeout(), Some(t0 + ms((at / 20 + 1) * 20)));
    }
}

#[test]
fn sequence_and_timestamp_advance_and_wrap() {
    let mut p = player(vec![ramp(8000)], Repeat::Once)
        .with_initial_sequence_and_timestamp(0xfffe, u32::MAX - 200);
    let t0 = Instant::now();
    let packets = drain(&mut p, t0 + ms(0));
    let packets: Vec<_> = packets
        .into_iter()
        .chain(drain(&mut p, t0 + ms(20)))
        .chain(drain(&mut p, t0 + ms(40)))
        .collect();
    let numbers: Vec<(u16, u32)> = packets.iter().map(|p| (p.1, p.2)).collect();
    assert_eq!(
        numbers,
        vec![(0xfffe, u32::MAX - 200), (0xffff, u32::MAX - 40), (0, 119)]
    );
}

#[test]
fn payload_is_the_encoded_playlist_with_a_marker_per_item() {
    // 320 + 200 samples: item 2 starts exactly at packet 2 and ends inside packet 3.
    let (a, b) = (ramp(320), ramp(200));
    let mut p = player(vec![a.clone(), b.clone()], Repeat::Once);
    let t0 = Instant::now();
    let packets = drain(&mut p, t0 + ms(0))
        .into_iter()
        .chain(drain(&mut p, t0 + ms(60)))
        .collect::<Vec<_>>();
    let markers: Vec<bool> = packets.iter().map(|p| p.0).collect();
    assert_eq!(markers, vec![true, false, true, false]);

    let mut expected: Vec<i16> = a.iter().chain(b.iter()).copied().collect();
    expected.resize(4 * SAMPLES_PER_PACKET, 0); // silence pads the last packet only
    let payload: Vec<u8> = packets.iter().flat_map(|p| p.3.clone()).collect();
    assert_eq!(payload, encoded(&expected));
}

#[test]
fn items_are_played_back_to_back_and_markers_follow_item_starts() {
    let mut p = player(vec![ramp(100), ramp(100), ramp(100)], Repeat::Once);
    let t0 = Instant::now();
    let packets = drain(&mut p, t0 + ms(0))
        .into_iter()
        .chain(drain(&mut p, t0 + ms(20)))
        .collect::<Vec<_>>();
    // Packet 0: item 1 and the start of item 2. Packet 1: the rest of 2, all of 3, silence.
    assert_eq!(packets.len(), 2);
    assert!(packets[0].0 && packets[1].0);
    let mut expected: Vec<i16> = [ramp(100), ramp(100), ramp(100)].concat();
    expected.resize(320, 0);
    let payload: Vec<u8> = packets.iter().flat_map(|p| p.3.clone()).collect();
    assert_eq!(payload, encoded(&expected));
}

#[test]
fn once_finishes_when_the_last_packet_has_played_out() {
    let mut p = player(vec![ramp(400)], Repeat::Once); // 2.5 packets
    let t0 = Instant::now();
    assert_eq!(drain(&mut p, t0).len(), 1);
    assert_eq!(drain(&mut p, t0 + ms(40)).len(), 2);
    assert!(!p.is_finished());
    assert_eq!(
        p.poll_timeout(),
        Some(t0 + ms(60)),
        "end of the last packet"
    );
    assert!(drain(&mut p, t0 + ms(59)).is_empty());
    assert!(!p.is_finished());
    assert!(drain(&mut p, t0 + ms(60)).is_empty());
    assert!(p.is_finished());
    assert_eq!(p.poll_timeout(), None);
    assert!(drain(&mut p, t0 + ms(1000)).is_empty());
}

#[test]
fn an_empty_playlist_finishes_at_once() {
    let mut p = player(vec![], Repeat::Once);
    assert!(drain(&mut p, Instant::now()).is_empty());
    assert!(p.is_finished());
    let mut p = player(vec![ramp(0)], Repeat::LoopAll);
    let t0 = Instant::now();
    let silence = drain(&mut p, t0);
    assert_eq!(silence.len(), 1, "a loop with no samples plays silence");
    assert_eq!(silence[0].3, vec![0xff; SAMPLES_PER_PACKET]);
    assert!(!p.is_finished());
}

#[test]
fn loops_never_finish() {
    let item = ramp(240); // 1.5 packets: loop boundaries fall inside packets
    for repeat in [Repeat::LoopAll, Repeat::LoopLast] {
        let mut p = player(vec![ramp(50), item.clone()], repeat);
        let t0 = Instant::now();
        let mut packets = Vec::new();
        for n in 0..30 {
            packets.extend(drain(&mut p, t0 + ms(20 * n)));
        }
        assert_eq!(packets.len(), 30);
        assert!(!p.is_finished());
        let played: Vec<u8> = packets.iter().flat_map(|p| p.3.clone()).collect();
        // The first item, then the looped part again and again.
        let cycle: Vec<i16> = match repeat {
            Repeat::LoopAll => [item.clone(), ramp(50)].concat(),
            _ => item.to_vec(),
        };
        let mut expected = ramp(50).to_vec();
        while expected.len() < played.len() {
            expected.extend_from_slice(&cycle);
        }
        expected.truncate(played.len());
        assert_eq!(played, encoded(&expected), "{repeat:?}");
    }
}

#[test]
fn a_small_delay_is_caught_up_with_a_burst() {
    let mut p = player(vec![ramp(8000)], Repeat::LoopAll);
    let t0 = Instant::now();
    drain(&mut p, t0);
    let burst = drain(&mut p, t0 + ms(200));
    let seqs: Vec<u16> = burst.iter().map(|p| p.1).collect();
    assert_eq!(seqs, (1..=10).collect::<Vec<u16>>());
    let stamps: Vec<u32> = burst.iter().map(|p| p.2).collect();
    assert_eq!(stamps, (1..=10).map(|n| n * 160).collect::<Vec<u32>>());
}

#[test]
fn a_long_stall_skips_ahead_instead_of_bursting() {
    let audio = ramp(16_000);
    let mut p = player(vec![audio.clone()], Repeat::LoopAll);
    let t0 = Instant::now();
    drain(&mut p, t0);
    drain(&mut p, t0 + ms(20));
    // Stalled for a second: packet 51 is the one due now; 2..=50 are never sent.
    let after = drain(&mut p, t0 + ms(1030));
    assert_eq!(after.len(), 1);
    let (marker, seq, ts, payload) = &after[0];
    assert_eq!((*marker, *seq, *ts), (false, 2, 51 * 160));
    let at = 51 * SAMPLES_PER_PACKET;
    assert_eq!(payload, &encoded(&audio[at..at + SAMPLES_PER_PACKET]));
    // And the schedule is still anchored at t0.
    assert_eq!(p.poll_timeout(), Some(t0 + ms(1040)));
    assert_eq!(drain(&mut p, t0 + ms(1040))[0].1, 3);
}

#[test]
fn a_stall_past_the_end_finishes() {
    let mut p = player(vec![ramp(800)], Repeat::Once); // 5 packets
    let t0 = Instant::now();
    drain(&mut p, t0);
    assert!(drain(&mut p, t0 + ms(5000)).is_empty());
    assert!(p.is_finished());
}

#[test]
fn pcma_uses_its_payload_type_and_law() {
    let mut p = Player::new(7, Codec::PCMA, Playlist::once(ramp(160)));
    let packet = p.poll_packet(Instant::now()).unwrap();
    let parsed = rtp::parse(&packet).unwrap();
    assert_eq!(parsed.header.payload_type, 8);
    assert!(parsed.header.marker);
    let mut expected = vec![0; 160];
    Codec::PCMA.encode(&ramp(160), &mut expected);
    assert_eq!(parsed.payload, &expected[..]);
}
