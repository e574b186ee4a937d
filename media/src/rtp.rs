//! The RTP fixed header (RFC 3550 §5.1): what the player writes and what tests and media
//! inspection read.
//!
//! ```text
//!  0                   1                   2                   3
//!  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |V=2|P|X|  CC   |M|     PT      |       sequence number         |
//! +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//! |                           timestamp                           |
//! |                             SSRC                              |
//! |            CSRC list (CC entries), header extension (X)       |
//! ```
//!
//! Parsing skips CSRCs and a header extension and strips padding, so the payload it returns
//! is the media itself. It never panics: every length comes from the packet and is checked.

/// Length of the fixed header, without CSRCs or extension.
pub const HEADER_LEN: usize = 12;

/// The only RTP version there is.
const VERSION: u8 = 2;

/// Why a datagram is not a valid RTP packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RtpError {
    /// Fewer bytes than the fixed header.
    #[error("RTP packet of {len} bytes is shorter than the 12-byte header")]
    TooShort {
        /// The datagram's length.
        len: usize,
    },
    /// The version bits are not 2.
    #[error("RTP version {0}, expected 2")]
    BadVersion(u8),
    /// The CSRC list or the header extension runs past the end of the packet.
    #[error("RTP header of {header_len} bytes (CSRCs, extension) exceeds the {len}-byte packet")]
    HeaderOverrun {
        /// Header length the packet claims.
        header_len: usize,
        /// The datagram's length.
        len: usize,
    },
    /// The padding count is zero or larger than what follows the header.
    #[error("RTP padding of {padding} bytes does not fit a {available}-byte payload")]
    BadPadding {
        /// The padding count (last byte of the packet).
        padding: u8,
        /// Bytes after the header.
        available: usize,
    },
}

/// The fields of an RTP header the switch sets or reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpHeader {
    /// Payload type, seven bits (a larger value is masked when written).
    pub payload_type: u8,
    /// The marker bit: for audio, the first packet of a talk-spurt (here: of a prompt).
    pub marker: bool,
    /// Sequence number, +1 per packet sent.
    pub sequence: u16,
    /// Sampling instant of the first payload sample, in clock-rate units.
    pub timestamp: u32,
    /// Synchronisation source: who is talking.
    pub ssrc: u32,
}

impl RtpHeader {
    /// The 12-byte wire form: version 2, no padding, no extension, no CSRCs.
    pub fn to_bytes(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[0] = VERSION << 6;
        out[1] = (u8::from(self.marker) << 7) | (self.payload_type & 0x7f);
        out[2..4].copy_from_slice(&self.sequence.to_be_bytes());
        out[4..8].copy_from_slice(&self.timestamp.to_be_bytes());
        out[8..12].copy_from_slice(&self.ssrc.to_be_bytes());
        out
    }
}

/// A parsed packet borrowing its payload from the datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    /// The fixed header's fields.
    pub header: RtpHeader,
    /// The media after CSRCs and extension, with padding removed.
    pub payload: &'a [u8],
}

/// Parses an RTP datagram.
pub fn parse(packet: &[u8]) -> Result<RtpPacket<'_>, RtpError> {
    let len = packet.len();
    let fixed: &[u8; HEADER_LEN] = packet
        .get(..HEADER_LEN)
        .and_then(|h| h.try_into().ok())
        .ok_or(RtpError::TooShort { len })?;
    let version = fixed[0] >> 6;
    if version != VERSION {
        return Err(RtpError::BadVersion(version));
    }
    let has_padding = fixed[0] & 0x20 != 0;
    let has_extension = fixed[0] & 0x10 != 0;
    let csrc_count = usize::from(fixed[0] & 0x0f);
    let header = RtpHeader {
        marker: fixed[1] & 0x80 != 0,
        payload_type: fixed[1] & 0x7f,
        sequence: u16::from_be_bytes([fixed[2], fixed[3]]),
        timestamp: u32::from_be_bytes([fixed[4], fixed[5], fixed[6], fixed[7]]),
        ssrc: u32::from_be_bytes([fixed[8], fixed[9], fixed[10], fixed[11]]),
    };

    let mut header_len = HEADER_LEN + 4 * csrc_count;
    if has_extension {
        // 16-bit profile id, 16-bit length in 32-bit words, then the words.
        let words = packet
            .get(header_len + 2..header_len + 4)
            .map(|w| usize::from(u16::from_be_bytes([w[0], w[1]])))
            .ok_or(RtpError::HeaderOverrun {
                header_len: header_len + 4,
                len,
            })?;
        header_len += 4 + 4 * words;
    }
    let body = packet
        .get(header_len..)
        .ok_or(RtpError::HeaderOverrun { header_len, len })?;

    let payload = if has_padding {
        let padding = body.last().copied().unwrap_or(0);
        let available = body.len();
        match available.checked_sub(usize::from(padding)) {
            Some(end) if padding != 0 => &body[..end],
            _ => return Err(RtpError::BadPadding { padding, available }),
        }
    } else {
        body
    };
    Ok(RtpPacket { header, payload })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> RtpHeader {
        RtpHeader {
            payload_type: 8,
            marker: true,
            sequence: 0xfffe,
            timestamp: 0xdead_beef,
            ssrc: 0x0102_0304,
        }
    }

    #[test]
    fn writes_the_fixed_header() {
        assert_eq!(
            header().to_bytes(),
            [0x80, 0x88, 0xff, 0xfe, 0xde, 0xad, 0xbe, 0xef, 1, 2, 3, 4]
        );
        let plain = RtpHeader {
            marker: false,
            payload_type: 0,
            ..header()
        };
        assert_eq!(plain.to_bytes()[..2], [0x80, 0x00]);
    }

    #[test]
    fn round_trips() {
        let mut packet = header().to_bytes().to_vec();
        packet.extend_from_slice(&[1, 2, 3]);
        let parsed = parse(&packet).unwrap();
        assert_eq!(parsed.header, header());
        assert_eq!(parsed.payload, &[1, 2, 3]);
    }

    #[test]
    fn skips_csrcs_and_extension_and_strips_padding() {
        let mut packet = header().to_bytes().to_vec();
        packet[0] |= 0x20 | 0x10 | 2; // padding, extension, two CSRCs
        packet.extend_from_slice(&[0; 8]); // CSRCs
        packet.extend_from_slice(&[0xbe, 0xde, 0, 1, 9, 9, 9, 9]); // one-word extension
        packet.extend_from_slice(&[7, 7]); // payload
        packet.extend_from_slice(&[0, 0, 3]); // three bytes of padding
        let parsed = parse(&packet).unwrap();
        assert_eq!(parsed.payload, &[7, 7]);
        assert_eq!(parsed.header.ssrc, 0x0102_0304);
    }

    #[test]
    fn refuses_bad_packets() {
        assert_eq!(parse(&[]), Err(RtpError::TooShort { len: 0 }));
        assert_eq!(parse(&[0x80; 11]), Err(RtpError::TooShort { len: 11 }));
        let mut packet = header().to_bytes().to_vec();
        packet[0] = 0x40;
        assert_eq!(parse(&packet), Err(RtpError::BadVersion(1)));
        packet[0] = 0x8f; // 15 CSRCs in a 12-byte packet
        assert_eq!(
            parse(&packet),
            Err(RtpError::HeaderOverrun {
                header_len: 72,
                len: 12
            })
        );
        packet[0] = 0x90; // extension, but no extension header
        assert!(matches!(
            parse(&packet),
            Err(RtpError::HeaderOverrun { .. })
        ));
        packet[0] = 0xa0; // padding with nothing to pad
        assert_eq!(
            parse(&packet),
            Err(RtpError::BadPadding {
                padding: 0,
                available: 0
            })
        );
        packet.extend_from_slice(&[1, 5]);
        assert_eq!(
            parse(&packet),
            Err(RtpError::BadPadding {
                padding: 5,
                available: 2
            })
        );
    }

    #[test]
    fn arbitrary_bytes_never_panic() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(3550);
        for _ in 0..20_000 {
            let len = rng.gen_range(0..64);
            let mut packet: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            if let Some(first) = packet.first_mut() {
                *first = (*first & 0x3f) | 0x80; // mostly version 2, to reach the deeper checks
            }
            if let Ok(parsed) = parse(&packet) {
                assert!(parsed.payload.len() <= packet.len() - HEADER_LEN);
            }
        }
    }
}
