//! Prompt and music files: RIFF/WAVE, in the formats a telephone switch can play unchanged.
//!
//! Accepted: mono, 8000 Hz, and either 16-bit linear PCM (format 1) or 8-bit G.711 µ-law
//! (format 7) or A-law (format 6); `WAVE_FORMAT_EXTENSIBLE` (0xFFFE) is read through to its
//! sub-format. Anything else is refused with a [`WavError`] naming what is wrong: the switch
//! does not resample or mix down, so a 44.1 kHz stereo file is a configuration error to be
//! reported when the file is loaded, not a noise to be discovered on a call.
//!
//! The parser walks the chunk list with checked arithmetic and never panics on truncated or
//! hostile input. One leniency: a `data` chunk whose declared size runs past the end of the
//! file (as written by recorders that were stopped before fixing up the header, or that write
//! `0xFFFFFFFF` while streaming) is read up to the end of the file.

use std::sync::Arc;

use crate::g711::{self, SAMPLE_RATE_HZ};

/// `WAVE_FORMAT_PCM`.
const FORMAT_PCM: u16 = 1;
/// `WAVE_FORMAT_ALAW`.
const FORMAT_ALAW: u16 = 6;
/// `WAVE_FORMAT_MULAW`.
const FORMAT_MULAW: u16 = 7;
/// `WAVE_FORMAT_EXTENSIBLE`: the real format is in the first two bytes of the sub-format GUID.
const FORMAT_EXTENSIBLE: u16 = 0xfffe;

/// Why a file cannot be played.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WavError {
    /// The file does not start with `RIFF....WAVE`.
    #[error("not a RIFF/WAVE file")]
    NotWave,
    /// The file ends inside a header or chunk header.
    #[error("WAV file truncated in the {0}")]
    Truncated(&'static str),
    /// No `fmt ` chunk before the `data` chunk.
    #[error("WAV file has no fmt chunk before its data")]
    MissingFormat,
    /// No `data` chunk.
    #[error("WAV file has no data chunk")]
    MissingData,
    /// The `data` chunk holds no whole sample.
    #[error("WAV file has no audio samples")]
    NoSamples,
    /// An encoding other than PCM, µ-law or A-law.
    #[error("WAV encoding {0:#06x} is not supported (need PCM, µ-law or A-law)")]
    UnsupportedEncoding(u16),
    /// More than one channel.
    #[error("WAV file has {0} channels; prompts must be mono")]
    UnsupportedChannels(u16),
    /// Not 8 kHz.
    #[error("WAV sample rate is {0} Hz; prompts must be 8000 Hz (no resampling is done)")]
    UnsupportedSampleRate(u32),
    /// A sample size that does not go with the encoding (PCM needs 16 bits, G.711 8 bits).
    #[error("{bits}-bit samples are not supported for WAV encoding {encoding:#06x}")]
    UnsupportedBitsPerSample {
        /// The encoding.
        encoding: u16,
        /// The sample size the file declares.
        bits: u16,
    },
}

/// The sample encodings this module decodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Pcm16,
    Mulaw,
    Alaw,
}

impl Encoding {
    fn bytes_per_sample(self) -> usize {
        match self {
            Encoding::Pcm16 => 2,
            Encoding::Mulaw | Encoding::Alaw => 1,
        }
    }
}

/// Decodes a WAV file into 8 kHz linear samples, ready for a [`crate::Playlist`].
pub fn decode(bytes: &[u8]) -> Result<Arc<[i16]>, WavError> {
    let mut reader = Reader(bytes);
    let riff = reader.take(12).ok_or(WavError::NotWave)?;
    if riff.get(..4) != Some(b"RIFF") || riff.get(8..12) != Some(b"WAVE") {
        return Err(WavError::NotWave);
    }
    // The RIFF size is ignored: it is wrong as often as the data size, and the chunk walk is
    // bounded by the bytes actually present.
    let mut encoding = None;
    while !reader.is_empty() {
        let chunk_header = reader.take(8).ok_or(WavError::Truncated("chunk header"))?;
        let (id, size) = chunk_header.split_at(4);
        let size = usize::try_from(le_u32(size)).unwrap_or(usize::MAX);
        match id {
            b"fmt " => {
                let body = reader.take(size).ok_or(WavError::Truncated("fmt chunk"))?;
                encoding = Some(format(body)?);
            }
            b"data" => {
                let encoding = encoding.ok_or(WavError::MissingFormat)?;
                let body = reader.take_up_to(size);
                return samples(encoding, body);
            }
            _ => {
                // LIST, fact, cue, ...: not needed. A truncated one before the data means
                // there is no data.
                reader.take(size).ok_or(WavError::MissingData)?;
            }
        }
        // Chunks are padded to an even length; a missing pad byte at the very end is harmless.
        if size % 2 == 1 {
            reader.take_up_to(1);
        }
    }
    Err(WavError::MissingData)
}

/// Writes samples as a 16-bit mono 8 kHz PCM WAV file (for tests, recordings, tooling).
pub fn encode_pcm16(samples: &[i16]) -> Vec<u8> {
    let data_len = u32::try_from(samples.len() * 2).unwrap_or(u32::MAX);
    let mut out = header_pcm16(1, data_len).to_vec();
    out.reserve(samples.len() * 2);
    for sample in samples {
        out.extend_from_slice(&sample.to_le_bytes());
    }
    out
}

/// The 44-byte header of a 16-bit 8 kHz PCM WAV file of `channels` channels whose data is
/// `data_len` bytes (samples interleaved, little-endian, after the header).
pub fn header_pcm16(channels: u16, data_len: u32) -> [u8; 44] {
    let block = 2 * u32::from(channels);
    let mut out = [0u8; 44];
    let mut at = 0;
    let mut put = |bytes: &[u8]| {
        out[at..at + bytes.len()].copy_from_slice(bytes);
        at += bytes.len();
    };
    put(b"RIFF");
    put(&data_len.saturating_add(36).to_le_bytes());
    put(b"WAVEfmt ");
    put(&16u32.to_le_bytes());
    put(&FORMAT_PCM.to_le_bytes());
    put(&channels.to_le_bytes());
    put(&SAMPLE_RATE_HZ.to_le_bytes());
    put(&(SAMPLE_RATE_HZ * block).to_le_bytes()); // byte rate
    put(&(block as u16).to_le_bytes()); // block align
    put(&16u16.to_le_bytes()); // bits per sample
    put(b"data");
    put(&data_len.to_le_bytes());
    out
}

/// Reads a `fmt ` chunk and checks that the switch can play what it describes.
fn format(body: &[u8]) -> Result<Encoding, WavError> {
    let field = |at: usize| body.get(at..at + 2).map(le_u16);
    let (Some(tag), Some(channels), Some(rate), Some(bits)) =
        (field(0), field(2), body.get(4..8).map(le_u32), field(14))
    else {
        return Err(WavError::Truncated("fmt chunk"));
    };
    let tag = if tag == FORMAT_EXTENSIBLE {
        // cbSize (16), valid bits (18), channel mask (20), sub-format GUID (24..40).
        field(24).ok_or(WavError::Truncated("fmt chunk"))?
    } else {
        tag
    };
    let encoding = match tag {
        FORMAT_PCM => Encoding::Pcm16,
        FORMAT_MULAW => Encoding::Mulaw,
        FORMAT_ALAW => Encoding::Alaw,
        other => return Err(WavError::UnsupportedEncoding(other)),
    };
    if channels != 1 {
        return Err(WavError::UnsupportedChannels(channels));
    }
    if rate != SAMPLE_RATE_HZ {
        return Err(WavError::UnsupportedSampleRate(rate));
    }
    if usize::from(bits) != encoding.bytes_per_sample() * 8 {
        return Err(WavError::UnsupportedBitsPerSample {
            encoding: tag,
            bits,
        });
    }
    Ok(encoding)
}

/// Decodes a `data` chunk; a trailing partial sample is ignored.
fn samples(encoding: Encoding, data: &[u8]) -> Result<Arc<[i16]>, WavError> {
    let samples: Arc<[i16]> = match encoding {
        Encoding::Pcm16 => data
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect(),
        Encoding::Mulaw => data.iter().map(|&c| g711::ulaw_to_linear(c)).collect(),
        Encoding::Alaw => data.iter().map(|&c| g711::alaw_to_linear(c)).collect(),
    };
    if samples.is_empty() {
        return Err(WavError::NoSamples);
    }
    Ok(samples)
}

fn le_u16(b: &[u8]) -> u16 {
    match b {
        [lo, hi, ..] => u16::from_le_bytes([*lo, *hi]),
        _ => 0,
    }
}

fn le_u32(b: &[u8]) -> u32 {
    match b {
        [a, b, c, d, ..] => u32::from_le_bytes([*a, *b, *c, *d]),
        _ => 0,
    }
}

/// A cursor over the file's bytes that cannot read past the end.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Exactly `n` bytes, or `None` (consuming nothing) when fewer remain.
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if n > self.0.len() {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    /// Up to `n` bytes: all that remain when fewer do.
    fn take_up_to(&mut self, n: usize) -> &'a [u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// A WAV file with the given format fields and data bytes, plus optional extra chunks
    /// before `fmt `.
    fn wav(tag: u16, channels: u16, rate: u32, bits: u16, data: &[u8]) -> Vec<u8> {
        let mut fmt = Vec::new();
        fmt.extend_from_slice(&tag.to_le_bytes());
        fmt.extend_from_slice(&channels.to_le_bytes());
        fmt.extend_from_slice(&rate.to_le_bytes());
        let block = channels * bits / 8;
        fmt.extend_from_slice(&(rate * u32::from(block)).to_le_bytes());
        fmt.extend_from_slice(&block.to_le_bytes());
        fmt.extend_from_slice(&bits.to_le_bytes());
        riff(&[(b"fmt ", &fmt), (b"data", data)])
    }

    fn riff(chunks: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
        let mut body = b"WAVE".to_vec();
        for (id, data) in chunks {
            body.extend_from_slice(*id);
            body.extend_from_slice(&(data.len() as u32).to_le_bytes());
            body.extend_from_slice(data);
            if data.len() % 2 == 1 {
                body.push(0);
            }
        }
        let mut out = b"RIFF".to_vec();
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&body);
        out
    }

    #[test]
    fn reads_pcm16_mono_8k() {
        let samples = [0i16, 1, -1, i16::MAX, i16::MIN, 1234];
        let decoded = decode(&encode_pcm16(&samples)).unwrap();
        assert_eq!(&decoded[..], &samples);
    }

    #[test]
    fn reads_g711_files() {
        let decoded = decode(&wav(FORMAT_MULAW, 1, 8000, 8, &[0xff, 0x80, 0x00])).unwrap();
        assert_eq!(&decoded[..], &[0, 32124, -32124]);
        let decoded = decode(&wav(FORMAT_ALAW, 1, 8000, 8, &[0xd5, 0xaa, 0x2a])).unwrap();
        assert_eq!(&decoded[..], &[8, 32256, -32256]);
    }

    #[test]
    fn reads_extensible_format_and_skips_other_chunks() {
        let mut fmt = Vec::new();
        fmt.extend_from_slice(&FORMAT_EXTENSIBLE.to_le_bytes());
        fmt.extend_from_slice(&1u16.to_le_bytes());
        fmt.extend_from_slice(&8000u32.to_le_bytes());
        fmt.extend_from_slice(&16000u32.to_le_bytes());
        fmt.extend_from_slice(&2u16.to_le_bytes());
        fmt.extend_from_slice(&16u16.to_le_bytes());
        fmt.extend_from_slice(&22u16.to_le_bytes()); // cbSize
        fmt.extend_from_slice(&16u16.to_le_bytes()); // valid bits
        fmt.extend_from_slice(&4u32.to_le_bytes()); // channel mask
        fmt.extend_from_slice(&[
            1, 0, 0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xaa, 0, 0x38, 0x9b, 0x71,
        ]);
        let data = [5u8, 0, 251, 255];
        let file = riff(&[
            (b"LIST", b"odd"),
            (b"fmt ", &fmt),
            (b"fact", &[0, 0, 0, 0]),
            (b"data", &data),
        ]);
        assert_eq!(&decode(&file).unwrap()[..], &[5, -5]);
    }

    #[test]
    fn names_what_is_wrong() {
        let data = [0u8; 4];
        assert_eq!(
            decode(&wav(FORMAT_PCM, 2, 8000, 16, &data)),
            Err(WavError::UnsupportedChannels(2))
        );
        assert_eq!(
            decode(&wav(FORMAT_PCM, 1, 16000, 16, &data)),
            Err(WavError::UnsupportedSampleRate(16000))
        );
        assert_eq!(
            decode(&wav(FORMAT_PCM, 1, 8000, 8, &data)),
            Err(WavError::UnsupportedBitsPerSample {
                encoding: 1,
                bits: 8
            })
        );
        assert_eq!(
            decode(&wav(FORMAT_MULAW, 1, 8000, 16, &data)),
            Err(WavError::UnsupportedBitsPerSample {
                encoding: 7,
                bits: 16
            })
        );
        assert_eq!(
            decode(&wav(3, 1, 8000, 32, &data)),
            Err(WavError::UnsupportedEncoding(3))
        );
        assert_eq!(
            decode(&wav(FORMAT_PCM, 1, 8000, 16, &[])),
            Err(WavError::NoSamples)
        );
        assert_eq!(decode(b"RIFF\0\0\0\0AVI "), Err(WavError::NotWave));
        assert_eq!(decode(b"RIFX"), Err(WavError::NotWave));
        assert_eq!(
            decode(&riff(&[(b"data", &data)])),
            Err(WavError::MissingFormat)
        );
        assert_eq!(
            decode(&riff(&[(b"fmt ", &wav(1, 1, 8000, 16, &[])[20..36])])),
            Err(WavError::MissingData)
        );
        let message = WavError::UnsupportedSampleRate(44100).to_string();
        assert!(message.contains("44100 Hz"), "{message}");
    }

    #[test]
    fn a_data_chunk_longer_than_the_file_is_read_to_the_end() {
        let mut file = encode_pcm16(&[1, 2, 3]);
        file[40..44].copy_from_slice(&u32::MAX.to_le_bytes());
        file.push(0x7f); // a trailing half sample
        assert_eq!(&decode(&file).unwrap()[..], &[1, 2, 3]);
    }

    #[test]
    fn every_truncation_is_an_error_or_a_prefix() {
        let samples: Vec<i16> = (0..50).map(|i| i * 100 - 2500).collect();
        let file = encode_pcm16(&samples);
        for len in 0..file.len() {
            match decode(&file[..len]) {
                Ok(decoded) => {
                    assert!(len > 44);
                    assert_eq!(&decoded[..], &samples[..(len - 44) / 2]);
                }
                Err(e) => assert!(len <= 45, "len {len}: {e}"),
            }
        }
    }

    #[test]
    fn random_and_mutated_bytes_never_panic() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(0x5741_5645);
        let valid = wav(FORMAT_MULAW, 1, 8000, 8, &[0x12; 33]);
        for round in 0..20_000 {
            let bytes: Vec<u8> = if round % 2 == 0 {
                let len = rng.gen_range(0..128);
                let mut random: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
                if len >= 12 {
                    random[..4].copy_from_slice(b"RIFF");
                    random[8..12].copy_from_slice(b"WAVE");
                }
                random
            } else {
                let mut mutated = valid.clone();
                for _ in 0..rng.gen_range(1..4) {
                    let at = rng.gen_range(0..mutated.len());
                    mutated[at] = rng.gen();
                }
                mutated.truncate(rng.gen_range(0..=valid.len()));
                mutated
            };
            let _ = decode(&bytes);
        }
    }
}
