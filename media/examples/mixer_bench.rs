//! Conference mixing cost, measured: for conferences of 3, 10 and 50 parties, the CPU per
//! participant per 20 ms frame of what the relay task does for a mix (decode each source's
//! PCMU packet into its inbox, draw the tick's frames, sum the members once, give each
//! member the sum less itself, clipped, encoded back to PCMU). Socket I/O is not in it.
//!
//! `cargo run --release -p media --example mixer_bench`

use std::time::Instant;

use media::mixer::{add_into, clip_into, Frame, Inbox, Sum};
use media::{tone, Codec, SAMPLES_PER_PACKET};

fn main() {
    println!("parties  ns/participant/frame  frames/s per core  3-party conferences per core (CPU bound)");
    for parties in [3usize, 10, 50] {
        let payloads: Vec<Vec<u8>> = (0..parties)
            .map(|i| {
                let samples = tone::sine(
                    300.0 + 50.0 * i as f64,
                    std::time::Duration::from_millis(20),
                    8000,
                );
                let mut out = vec![0u8; SAMPLES_PER_PACKET];
                Codec::PCMU.encode(&samples, &mut out);
                out
            })
            .collect();
        let mut inboxes: Vec<Inbox> = (0..parties).map(|_| Inbox::default()).collect();
        let ticks = 200_000 / parties;
        let mut out: Frame = [0; SAMPLES_PER_PACKET];
        let mut encoded = [0u8; SAMPLES_PER_PACKET];
        let mut checksum = 0u64;
        let start = Instant::now();
        for _ in 0..ticks {
            for (inbox, payload) in inboxes.iter_mut().zip(&payloads) {
                inbox.push(0, payload);
                inbox.tick();
            }
            let mut sum: Sum = [0; SAMPLES_PER_PACKET];
            add_into(inboxes.iter().filter_map(Inbox::frame), &mut sum);
            for inbox in &inboxes {
                clip_into(&sum, inbox.frame(), &mut out);
                Codec::PCMU.encode(&out, &mut encoded);
                checksum = checksum.wrapping_add(u64::from(encoded[7]));
            }
        }
        let elapsed = start.elapsed();
        let per = elapsed.as_nanos() as f64 / (ticks * parties) as f64;
        let per_core = 1e9 / per;
        let conferences = 20e6 / (3.0 * per);
        println!(
            "{parties:>7}  {per:>20.0}  {per_core:>17.0}  {conferences:>10.0}   (checksum {})",
            checksum % 10
        );
    }
}
