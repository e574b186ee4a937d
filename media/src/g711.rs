//! G.711 (ITU-T, 1988): µ-law and A-law companding of 16-bit linear PCM to 8-bit codes.
//!
//! Every SIP phone and gateway speaks one of the two, so prompts and music-on-hold are stored
//! as linear PCM and encoded per packet for whichever the leg negotiated. The functions follow
//! the reference algorithm (as in the ITU's G.191 tools and spandsp) on 16-bit input: negative
//! values are taken as their one's complement, µ-law adds a bias of 0x84 and clips at 32635
//! before taking the segment; both decode to the middle of the quantisation interval.
//!
//! Encoding is a handful of integer operations; decoding is a table lookup built at compile
//! time.

/// The sampling rate of G.711 and therefore of everything the player handles.
pub const SAMPLE_RATE_HZ: u32 = 8000;

/// Bias added to the magnitude before µ-law segmenting, so that every segment has 16 steps.
const ULAW_BIAS: i32 = 0x84;

/// Largest magnitude µ-law represents; beyond it the code saturates.
const ULAW_CLIP: i32 = 32635;

/// µ-law code of a linear sample.
pub fn linear_to_ulaw(sample: i16) -> u8 {
    let sample = i32::from(sample);
    // Negative values use the one's complement, as the reference does: -1 is a "negative
    // zero", and -32768 needs no special case.
    let (magnitude, mask) = if sample < 0 {
        ((!sample).min(ULAW_CLIP), 0x7f)
    } else {
        (sample.min(ULAW_CLIP), 0xff)
    };
    let biased = magnitude + ULAW_BIAS;
    // biased is in 0x84..=0x7fff: the segment is the position of its top bit above bit 7.
    let segment = top_bit(biased) - 7;
    let mantissa = (biased >> (segment + 3)) & 0x0f;
    ((segment << 4) | mantissa) as u8 ^ mask
}

/// Linear sample of a µ-law code (the middle of its interval).
pub fn ulaw_to_linear(code: u8) -> i16 {
    ULAW_TO_LINEAR[usize::from(code)]
}

/// A-law code of a linear sample (even bits already inverted, as on the wire).
pub fn linear_to_alaw(sample: i16) -> u8 {
    let sample = i32::from(sample);
    let (magnitude, mask) = if sample >= 0 {
        (sample, 0xd5)
    } else {
        // One's complement: -1 maps to 0, -32768 to 32767, so no overflow and no clipping.
        (!sample, 0x55)
    };
    let segment = (top_bit(magnitude | 0xff) - 7).max(0);
    let shift = if segment == 0 { 4 } else { segment + 3 };
    let mantissa = (magnitude >> shift) & 0x0f;
    ((segment << 4) | mantissa) as u8 ^ mask
}

/// Linear sample of an A-law code (the middle of its interval).
pub fn alaw_to_linear(code: u8) -> i16 {
    ALAW_TO_LINEAR[usize::from(code)]
}

/// Index of the highest set bit of a positive value (0 for 1).
fn top_bit(value: i32) -> i32 {
    31 - value.leading_zeros() as i32
}

const ULAW_TO_LINEAR: [i16; 256] = {
    let mut table = [0i16; 256];
    let mut code = 0;
    while code < 256 {
        table[code] = ulaw_decode(code as u8);
        code += 1;
    }
    table
};

const ALAW_TO_LINEAR: [i16; 256] = {
    let mut table = [0i16; 256];
    let mut code = 0;
    while code < 256 {
        table[code] = alaw_decode(code as u8);
        code += 1;
    }
    table
};

const fn ulaw_decode(code: u8) -> i16 {
    let code = !code as i32;
    let segment = (code & 0x70) >> 4;
    let biased = (((code & 0x0f) << 3) + ULAW_BIAS) << segment;
    if code & 0x80 != 0 {
        (ULAW_BIAS - biased) as i16
    } else {
        (biased - ULAW_BIAS) as i16
    }
}

const fn alaw_decode(code: u8) -> i16 {
    let code = (code ^ 0x55) as i32;
    let segment = (code & 0x70) >> 4;
    let mut magnitude = (code & 0x0f) << 4;
    if segment == 0 {
        magnitude += 8;
    } else {
        magnitude = (magnitude + 0x108) << (segment - 1);
    }
    if code & 0x80 != 0 {
        magnitude as i16
    } else {
        -magnitude as i16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulaw_known_values() {
        assert_eq!(linear_to_ulaw(0), 0xff);
        assert_eq!(linear_to_ulaw(-1), 0x7f);
        assert_eq!(linear_to_ulaw(i16::MAX), 0x80);
        assert_eq!(linear_to_ulaw(i16::MIN), 0x00);
        assert_eq!(linear_to_ulaw(1000), 0xce);
        assert_eq!(linear_to_ulaw(-1000), 0x4e);
        assert_eq!(ulaw_to_linear(0xff), 0);
        assert_eq!(ulaw_to_linear(0x7f), 0);
        assert_eq!(ulaw_to_linear(0x80), 32124);
        assert_eq!(ulaw_to_linear(0x00), -32124);
        assert_eq!(ulaw_to_linear(0xce), 988);
        assert_eq!(ulaw_to_linear(0x4e), -988);
        // Segment boundaries of the first segment: steps of 8 around zero.
        assert_eq!(ulaw_to_linear(0xfe), 8);
        assert_eq!(ulaw_to_linear(0xf0), 120);
    }

    #[test]
    fn alaw_known_values() {
        assert_eq!(linear_to_alaw(0), 0xd5);
        assert_eq!(linear_to_alaw(-1), 0x55);
        assert_eq!(linear_to_alaw(i16::MAX), 0xaa);
        assert_eq!(linear_to_alaw(i16::MIN), 0x2a);
        assert_eq!(linear_to_alaw(1000), 0xfa);
        assert_eq!(linear_to_alaw(-1000), 0x7a);
        assert_eq!(alaw_to_linear(0xd5), 8);
        assert_eq!(alaw_to_linear(0x55), -8);
        assert_eq!(alaw_to_linear(0xaa), 32256);
        assert_eq!(alaw_to_linear(0x2a), -32256);
        assert_eq!(alaw_to_linear(0xfa), 1008);
        assert_eq!(alaw_to_linear(0x7a), -1008);
    }

    /// Half a quantisation step for a magnitude, plus one for the asymmetry of negative values
    /// (their codes are those of the magnitude minus one).
    fn ulaw_bound(x: i32) -> i32 {
        // The segment of the biased magnitude has steps of 1/16 of its lower edge at most.
        let biased = x.abs().min(ULAW_CLIP) + ULAW_BIAS;
        let half_step = 1 << (top_bit(biased) - 7 + 2);
        let clipped = (x.abs() - 32124).max(0);
        half_step + 1 + clipped
    }

    fn alaw_bound(x: i32) -> i32 {
        let magnitude = x.abs();
        let half_step = if magnitude < 512 {
            8
        } else {
            1 << (top_bit(magnitude) - 5)
        };
        half_step + 1
    }

    #[test]
    fn ulaw_round_trip_is_within_half_a_step_for_every_sample() {
        for x in i16::MIN..=i16::MAX {
            let y = ulaw_to_linear(linear_to_ulaw(x));
            let error = (i32::from(x) - i32::from(y)).abs();
            assert!(
                error <= ulaw_bound(i32::from(x)),
                "x={x} decoded {y}, error {error}"
            );
            // Companding never flips the sign.
            assert!(i32::from(x) * i32::from(y) >= 0, "x={x} y={y}");
        }
    }

    #[test]
    fn alaw_round_trip_is_within_half_a_step_for_every_sample() {
        for x in i16::MIN..=i16::MAX {
            let y = alaw_to_linear(linear_to_alaw(x));
            let error = (i32::from(x) - i32::from(y)).abs();
            assert!(
                error <= alaw_bound(i32::from(x)),
                "x={x} decoded {y}, error {error}"
            );
            assert!(i32::from(x) * i32::from(y) >= 0, "x={x} y={y}");
        }
    }

    #[test]
    fn every_code_decodes_and_re_encodes_to_itself() {
        for code in 0..=255u8 {
            // µ-law has two zeros (0x7f and 0xff); both decode to 0, which encodes as 0xff.
            let back = linear_to_ulaw(ulaw_to_linear(code));
            if code == 0x7f {
                assert_eq!(back, 0xff);
            } else {
                assert_eq!(back, code, "µ-law {code:#04x}");
            }
            assert_eq!(
                linear_to_alaw(alaw_to_linear(code)),
                code,
                "A-law {code:#04x}"
            );
        }
    }

    #[test]
    fn encoding_is_monotonic() {
        let mut previous = (i16::MIN, i16::MIN);
        for x in i16::MIN..=i16::MAX {
            let y = (
                ulaw_to_linear(linear_to_ulaw(x)),
                alaw_to_linear(linear_to_alaw(x)),
            );
            assert!(y.0 >= previous.0 && y.1 >= previous.1, "x={x}");
            previous = y;
        }
    }
}
