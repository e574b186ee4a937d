//! SDES: the `a=crypto` attribute of RFC 4568 (§9.1), for the SRTP suites the switch speaks.
//!
//! `a=crypto:<tag> <suite> inline:<base64 key||salt>[|<lifetime>][|<MKI>:<length>] [<params>]`
//!
//! What is refused, line by line (an offer may carry several lines; the answerer takes the
//! first it accepts, RFC 4568 §7.1.1): an unknown suite, a key that is not 30 bytes of
//! base64, an MKI (we keep one master key per direction and never rekey), several key
//! parameters, and any session parameter (none of `KDR`, `UNENCRYPTED_*`, `FEC_*`, `WSH`
//! is needed, and RFC 4568 §6.3 says an answerer not understanding one must not accept the
//! line). A lifetime is accepted: the switch's calls are far shorter than 2^31 packets,
//! and a lifetime smaller than a call would need is refused.

use base64::Engine as _;

use super::lines;
use crate::srtp::{MasterKey, Suite, KEY_SALT_LEN};

/// One acceptable `a=crypto` line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crypto {
    pub tag: u32,
    pub key: MasterKey,
}

/// Why an `a=crypto` line was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("malformed a=crypto line")]
    Malformed,
    #[error("unsupported crypto suite")]
    UnsupportedSuite,
    #[error("key is not 30 bytes of base64")]
    BadKey,
    #[error("MKI not supported")]
    Mki,
    #[error("several master keys not supported")]
    SeveralKeys,
    #[error("key lifetime too short")]
    ShortLifetime,
    #[error("session parameters not supported")]
    SessionParameters,
}

/// Smallest key lifetime accepted, in packets: 2^20 (RFC 4568's own example), over 5
/// hours of 20 ms audio in one direction.
const MIN_LIFETIME: u64 = 1 << 20;

/// Parses the value of an `a=crypto:` attribute (what follows the colon).
pub fn parse_crypto(value: &str) -> Result<Crypto, CryptoError> {
    let mut fields = value.split_whitespace();
    let (Some(tag), Some(suite), Some(keys)) = (fields.next(), fields.next(), fields.next()) else {
        return Err(CryptoError::Malformed);
    };
    if tag.is_empty() || tag.len() > 9 || !tag.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CryptoError::Malformed);
    }
    let tag: u32 = tag.parse().map_err(|_| CryptoError::Malformed)?;
    let suite = Suite::from_name(suite).ok_or(CryptoError::UnsupportedSuite)?;
    if fields.next().is_some() {
        return Err(CryptoError::SessionParameters);
    }
    if keys.contains(';') {
        return Err(CryptoError::SeveralKeys);
    }
    let inline = keys.strip_prefix("inline:").ok_or(CryptoError::Malformed)?;
    let mut parts = inline.split('|');
    let key = parts.next().unwrap_or_default();
    for part in parts {
        if part.contains(':') {
            return Err(CryptoError::Mki);
        }
        if lifetime(part).ok_or(CryptoError::Malformed)? < MIN_LIFETIME {
            return Err(CryptoError::ShortLifetime);
        }
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(key)
        .map_err(|_| CryptoError::BadKey)?;
    let key_salt: [u8; KEY_SALT_LEN] = bytes.try_into().map_err(|_| CryptoError::BadKey)?;
    Ok(Crypto {
        tag,
        key: MasterKey { suite, key_salt },
    })
}

/// A lifetime: `2^N` or a decimal number of packets.
fn lifetime(text: &str) -> Option<u64> {
    match text.strip_prefix("2^") {
        Some(exp) => {
            let exp: u32 = exp.parse().ok()?;
            (exp < 64).then(|| 1u64 << exp)
        }
        None => text.parse().ok(),
    }
}

/// The value of our `a=crypto:` attribute for `key` under `tag`.
pub fn format_crypto(tag: u32, key: &MasterKey) -> String {
    let inline = base64::engine::general_purpose::STANDARD.encode(key.key_salt);
    format!("{tag} {} inline:{inline}", key.suite.name())
}

/// What the first audio stream of a body says about SRTP.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct AudioSecurity {
    /// Its proto is `RTP/SAVP` or `RTP/SAVPF`.
    pub savp: bool,
    /// Its `a=crypto` lines, in order, each accepted or why not.
    pub lines: Vec<Result<Crypto, CryptoError>>,
}

impl AudioSecurity {
    /// The first line we accept (the answerer's choice, RFC 4568 §7.1.1).
    pub fn first_acceptable(&self) -> Option<&Crypto> {
        self.lines.iter().find_map(|l| l.as_ref().ok())
    }
}

/// Reads the first audio stream's proto and crypto lines.
pub fn audio_security(body: &str) -> AudioSecurity {
    let mut out = AudioSecurity::default();
    let mut in_audio = false;
    let mut seen_audio = false;
    for (_, line) in lines(body) {
        if let Some(m) = line.strip_prefix("m=") {
            if seen_audio {
                break;
            }
            in_audio = m.starts_with("audio ");
            if in_audio {
                seen_audio = true;
                out.savp = m.split_whitespace().nth(2).is_some_and(|p| {
                    p.eq_ignore_ascii_case("RTP/SAVP") || p.eq_ignore_ascii_case("RTP/SAVPF")
                });
            }
            continue;
        }
        if let Some(value) = line.strip_prefix("a=crypto:").filter(|_| in_audio) {
            out.lines.push(parse_crypto(value));
        }
    }
    out
}

/// `body` (already rewritten for the other leg) with its first audio stream plain
/// (`RTP/AVP`, no `a=crypto`) when `crypto` is `None`, or `RTP/SAVP` with exactly that one
/// `a=crypto` line. Other streams are left as they are.
pub fn with_crypto(body: &str, crypto: Option<(u32, &MasterKey)>) -> String {
    let mut out = String::with_capacity(body.len() + 80);
    let mut in_audio = false;
    let mut done = false;
    for (_, line) in lines(body) {
        if let Some(m) = line.strip_prefix("m=") {
            in_audio = !done && m.starts_with("audio ");
            if in_audio {
                done = true;
                let mut fields: Vec<&str> = m.split_whitespace().collect();
                if let Some(proto) = fields.get_mut(2) {
                    let feedback = proto.to_ascii_uppercase().ends_with('F');
                    *proto = match (crypto.is_some(), feedback) {
                        (true, false) => "RTP/SAVP",
                        (true, true) => "RTP/SAVPF",
                        (false, false) => "RTP/AVP",
                        (false, true) => "RTP/AVPF",
                    };
                }
                out.push_str("m=");
                out.push_str(&fields.join(" "));
                out.push_str("\r\n");
                if let Some((tag, key)) = crypto {
                    out.push_str("a=crypto:");
                    out.push_str(&format_crypto(tag, key));
                    out.push_str("\r\n");
                }
                continue;
            }
        }
        if in_audio && line.starts_with("a=crypto:") {
            continue;
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
#[path = "crypto_tests.rs"]
mod tests;
