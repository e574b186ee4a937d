//! Opus for the WebRTC sides whose browser sends no G.711 (libopus through the `opus`
//! crate). Encoder and decoder run at 8 kHz mono: libopus resamples internally, so the
//! relay's 8 kHz G.711 frames go in and come out as they are, while the RTP clock of the
//! Opus stream stays 48 kHz (RFC 7587: +960 per 20 ms). About 80 µs per 20 ms frame for
//! both directions (see the design memo), made only for the calls that need it.

use std::sync::Mutex;

use opus::{Application, Channels, Decoder, Encoder};

/// The most 8 kHz samples one Opus packet decodes to (120 ms).
pub const MAX_DECODED: usize = 960;

/// Largest Opus packet we write (RFC 6716 allows 1275 bytes; voice at 20 ms is ~80).
const MAX_PACKET: usize = 1275;

/// One call's Opus encoder (towards the browser) and decoder (from it). libopus' states
/// are `Send` but not `Sync`, and the relay task's state must be both: each sits in an
/// uncontended mutex (its only user is the relay task that owns the pair).
pub struct OpusPair {
    encoder: Mutex<Encoder>,
    decoder: Mutex<Decoder>,
}

impl std::fmt::Debug for OpusPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OpusPair")
    }
}

#[derive(Debug, thiserror::Error)]
#[error("opus: {0}")]
pub struct OpusError(String);

impl OpusPair {
    pub fn new() -> Result<OpusPair, OpusError> {
        let encoder = Encoder::new(8000, Channels::Mono, Application::Voip)
            .map_err(|e| OpusError(e.to_string()))?;
        let decoder = Decoder::new(8000, Channels::Mono).map_err(|e| OpusError(e.to_string()))?;
        Ok(OpusPair {
            encoder: Mutex::new(encoder),
            decoder: Mutex::new(decoder),
        })
    }

    /// Encodes 8 kHz samples (one frame: 2.5 to 60 ms) into `out`; the packet's length.
    pub fn encode(&mut self, samples: &[i16], out: &mut [u8]) -> Result<usize, OpusError> {
        let end = out.len().min(MAX_PACKET);
        self.encoder
            .get_mut()
            .map_err(|_| OpusError("encoder poisoned".into()))?
            .encode(samples, &mut out[..end])
            .map_err(|e| OpusError(e.to_string()))
    }

    /// Decodes one packet into 8 kHz samples; how many. An empty packet conceals a lost
    /// one, filling `out`.
    pub fn decode(&mut self, packet: &[u8], out: &mut [i16]) -> Result<usize, OpusError> {
        self.decoder
            .get_mut()
            .map_err(|_| OpusError("decoder poisoned".into()))?
            .decode(packet, out, false)
            .map_err(|e| OpusError(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{tone, Codec};
    use std::time::Duration;

    #[test]
    fn a_tone_through_g711_then_opus_then_g711_stays_that_tone() {
        let mut pair = OpusPair::new().unwrap();
        let tone = tone::sine(1000.0, Duration::from_secs(1), 8000);
        let mut heard = Vec::new();
        for frame in tone.chunks(160) {
            let mut law = [0u8; 160];
            Codec::PCMU.encode(frame, &mut law);
            let linear: Vec<i16> = law.iter().map(|b| Codec::PCMU.decode(*b)).collect();
            let mut packet = [0u8; 400];
            let len = pair.encode(&linear, &mut packet).unwrap();
            assert!(len > 0 && len < 400);
            let mut out = [0i16; MAX_DECODED];
            let n = pair.decode(&packet[..len], &mut out).unwrap();
            assert_eq!(n, 160);
            heard.extend_from_slice(&out[..n]);
        }
        // The codec's delay settles in the first frames; judge the rest.
        let rest = &heard[1600..];
        assert!(
            tone::share(rest, 1000.0) > 0.8,
            "{}",
            tone::share(rest, 1000.0)
        );
        assert!(tone::share(rest, 697.0) < 0.05);
        // Concealment of a lost packet fills the frame it is given.
        let mut out = [0i16; 160];
        assert_eq!(pair.decode(&[], &mut out).unwrap(), 160);
    }
}
