//! The codecs the switch can produce audio in itself: G.711 µ-law (PCMU) and A-law (PCMA).
//!
//! The relay never transcodes, so these matter only where the switch is the source of a
//! stream (prompts, music-on-hold, tones). Both are 8 kHz, one byte per sample.

use crate::g711;

/// An encoding and the RTP payload type the leg's SDP gave it.
///
/// The static payload types are 0 (PCMU) and 8 (PCMA), see [`Codec::PCMU`] and
/// [`Codec::PCMA`]; a leg may also map either to a dynamic number with `a=rtpmap`, which is
/// why the number is carried here. Only the low seven bits are used on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Codec {
    /// G.711 µ-law, `PCMU/8000`.
    Pcmu {
        /// RTP payload type number (0 when static).
        payload_type: u8,
    },
    /// G.711 A-law, `PCMA/8000`.
    Pcma {
        /// RTP payload type number (8 when static).
        payload_type: u8,
    },
}

impl Codec {
    /// PCMU with its static payload type 0.
    pub const PCMU: Codec = Codec::Pcmu { payload_type: 0 };
    /// PCMA with its static payload type 8.
    pub const PCMA: Codec = Codec::Pcma { payload_type: 8 };

    /// The RTP payload type number.
    pub fn payload_type(self) -> u8 {
        match self {
            Codec::Pcmu { payload_type } | Codec::Pcma { payload_type } => payload_type & 0x7f,
        }
    }

    /// The first of the static G.711 payload types (`0`, `8`) in an `m=` line's format list,
    /// in the writer's order of preference, or `None` when the leg offers neither (then the
    /// switch cannot play to it without a transcoder).
    pub fn from_formats<S: AsRef<str>>(formats: &[S]) -> Option<Codec> {
        formats.iter().find_map(|f| match f.as_ref().trim() {
            "0" => Some(Codec::PCMU),
            "8" => Some(Codec::PCMA),
            _ => None,
        })
    }

    /// Encodes linear samples into `out`, one byte each; `out` shorter than `samples` gets
    /// only as many as fit.
    pub fn encode(self, samples: &[i16], out: &mut [u8]) {
        let encode = match self {
            Codec::Pcmu { .. } => g711::linear_to_ulaw,
            Codec::Pcma { .. } => g711::linear_to_alaw,
        };
        for (byte, &sample) in out.iter_mut().zip(samples) {
            *byte = encode(sample);
        }
    }

    /// Decodes one payload byte.
    pub fn decode(self, code: u8) -> i16 {
        match self {
            Codec::Pcmu { .. } => g711::ulaw_to_linear(code),
            Codec::Pcma { .. } => g711::alaw_to_linear(code),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_the_first_g711_format_offered() {
        assert_eq!(
            Codec::from_formats(&["9", "8", "0", "101"]),
            Some(Codec::PCMA)
        );
        assert_eq!(Codec::from_formats(&["0", "8"]), Some(Codec::PCMU));
        assert_eq!(Codec::from_formats(&["9", "96", "101"]), None);
        assert_eq!(Codec::from_formats::<&str>(&[]), None);
    }

    #[test]
    fn payload_type_keeps_seven_bits() {
        assert_eq!(Codec::PCMU.payload_type(), 0);
        assert_eq!(Codec::PCMA.payload_type(), 8);
        assert_eq!(
            Codec::Pcmu {
                payload_type: 0x80 | 96
            }
            .payload_type(),
            96
        );
    }

    #[test]
    fn encodes_and_decodes_silence() {
        let mut out = [0u8; 3];
        Codec::PCMU.encode(&[0, 0, 0], &mut out);
        assert_eq!(out, [0xff; 3]);
        Codec::PCMA.encode(&[0, 0], &mut out);
        assert_eq!(out, [0xd5, 0xd5, 0xff]);
        assert_eq!(Codec::PCMU.decode(0xff), 0);
        assert_eq!(Codec::PCMA.decode(0xd5), 8);
    }
}
