//! SRTP and SRTCP (RFC 3711) on a relay side whose keys were exchanged by SDES (RFC 4568).
//!
//! A side with SRTP has one context per direction: `rx` is keyed with what its leg sends
//! with (the key in the leg's own SDP), `tx` with the key the switch gave that leg. Packets
//! are unprotected right after they are received and protected right before they are sent,
//! so everything between (the two-party fast path, the mixer, players, the recorder,
//! digits) sees plain RTP. The cipher, the key derivation, the rollover counter and the
//! replay window are `rtc-srtp`'s; this file only chooses and wires them.

use std::io;
use std::net::SocketAddr;

use rtc_srtp::context::Context;
use rtc_srtp::option::{srtcp_replay_protection, srtp_replay_protection};
use rtc_srtp::protection_profile::ProtectionProfile;
use tokio::net::UdpSocket;

use crate::stats::Batch;

/// Bytes of a master key plus master salt for the AES-128 counter-mode suites.
pub const KEY_SALT_LEN: usize = 30;

/// Packets remembered by the replay window (RFC 3711 §3.3.2 asks for at least 64).
const REPLAY_WINDOW: usize = 128;

/// The crypto suites the switch speaks (RFC 4568 §6.2), both AES-128 counter mode with
/// HMAC-SHA1, the tag 80 or 32 bits long.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Suite {
    AesCm128HmacSha1_80,
    AesCm128HmacSha1_32,
}

impl Suite {
    /// The suite named as in an `a=crypto` line, if we support it.
    pub fn from_name(name: &str) -> Option<Suite> {
        match name {
            "AES_CM_128_HMAC_SHA1_80" => Some(Suite::AesCm128HmacSha1_80),
            "AES_CM_128_HMAC_SHA1_32" => Some(Suite::AesCm128HmacSha1_32),
            _ => None,
        }
    }

    /// Its name in an `a=crypto` line.
    pub fn name(self) -> &'static str {
        match self {
            Suite::AesCm128HmacSha1_80 => "AES_CM_128_HMAC_SHA1_80",
            Suite::AesCm128HmacSha1_32 => "AES_CM_128_HMAC_SHA1_32",
        }
    }

    /// The SRTP authentication tag's length in bytes.
    pub fn tag_len(self) -> usize {
        match self {
            Suite::AesCm128HmacSha1_80 => 10,
            Suite::AesCm128HmacSha1_32 => 4,
        }
    }

    fn profile(self) -> ProtectionProfile {
        match self {
            Suite::AesCm128HmacSha1_80 => ProtectionProfile::Aes128CmHmacSha1_80,
            Suite::AesCm128HmacSha1_32 => ProtectionProfile::Aes128CmHmacSha1_32,
        }
    }
}

/// One direction's master key and salt (16 + 14 bytes) and its suite.
#[derive(Clone, PartialEq, Eq)]
pub struct MasterKey {
    pub suite: Suite,
    pub key_salt: [u8; KEY_SALT_LEN],
}

impl std::fmt::Debug for MasterKey {
    // Never print key material into a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MasterKey({}, ..)", self.suite.name())
    }
}

impl MasterKey {
    /// A fresh random key and salt from the OS's generator.
    pub fn random(suite: Suite) -> MasterKey {
        use rand::RngCore;
        let mut key_salt = [0u8; KEY_SALT_LEN];
        rand::rngs::OsRng.fill_bytes(&mut key_salt);
        MasterKey { suite, key_salt }
    }
}

/// The keys of one side: what its leg sends with (`rx`), and what we send to it with (`tx`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SrtpKeys {
    pub rx: MasterKey,
    pub tx: MasterKey,
}

/// Why a context could not be made or a packet not be (un)protected.
#[derive(Debug, thiserror::Error)]
pub enum SrtpError {
    #[error("SRTP context: {0}")]
    Context(String),
    /// Authentication failed, a replay, or a packet too short for its tag.
    #[error("SRTP packet refused: {0}")]
    Refused(String),
}

/// RTP or RTCP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    Rtp,
    Rtcp,
}

/// A side's two contexts.
pub struct SrtpPair {
    rx: Context,
    tx: Context,
    /// The authentication tag's length on what we receive.
    rx_tag: usize,
}

impl std::fmt::Debug for SrtpPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SrtpPair")
    }
}

impl SrtpPair {
    pub fn new(keys: &SrtpKeys) -> Result<SrtpPair, SrtpError> {
        Ok(SrtpPair {
            rx: context(&keys.rx, true)?,
            tx: context(&keys.tx, false)?,
            rx_tag: keys.rx.suite.tag_len(),
        })
    }

    /// Whether `len` bytes are too few for an SRTP (12-byte header and tag) or SRTCP
    /// (8-byte header, 4-byte index and tag) packet: malformed, not an authentication
    /// failure.
    pub fn too_short(&self, stream: Stream, len: usize) -> bool {
        match stream {
            Stream::Rtp => len < 12 + self.rx_tag,
            // SRTCP's tag is 80 bits for both suites (RFC 4568 §6.2.1).
            Stream::Rtcp => len < 8 + 4 + 10,
        }
    }

    /// The plain packet of a received SRTP or SRTCP one.
    pub fn unprotect(&mut self, stream: Stream, packet: &[u8]) -> Result<Vec<u8>, SrtpError> {
        let plain = match stream {
            Stream::Rtp => self.rx.decrypt_rtp(packet),
            Stream::Rtcp => self.rx.decrypt_rtcp(packet),
        };
        plain
            .map(|b| b.to_vec())
            .map_err(|e| SrtpError::Refused(e.to_string()))
    }

    /// The SRTP or SRTCP packet to send for a plain one.
    pub fn protect(&mut self, stream: Stream, packet: &[u8]) -> Result<Vec<u8>, SrtpError> {
        let protected = match stream {
            Stream::Rtp => self.tx.encrypt_rtp(packet),
            Stream::Rtcp => self.tx.encrypt_rtcp(packet),
        };
        protected
            .map(|b| b.to_vec())
            .map_err(|e| SrtpError::Refused(e.to_string()))
    }
}

fn context(key: &MasterKey, inbound: bool) -> Result<Context, SrtpError> {
    let provider =
        rtc_srtp::crypto::default_provider().map_err(|e| SrtpError::Context(e.to_string()))?;
    let (master, salt) = key.key_salt.split_at(16);
    // Replay protection on what we receive; what we send needs none.
    let (rtp, rtcp) = if inbound {
        (
            Some(srtp_replay_protection(REPLAY_WINDOW)),
            Some(srtcp_replay_protection(REPLAY_WINDOW)),
        )
    } else {
        (None, None)
    };
    Context::new(
        master,
        salt,
        key.suite.profile(),
        rtp,
        rtcp,
        provider.crypto(),
    )
    .map_err(|e| SrtpError::Context(e.to_string()))
}

/// Unprotects, in place, the `len` bytes received into `buf` when the side has SRTP: the
/// plain length, or `None` when the packet is refused (failed authentication, a replay).
pub(crate) fn receive(
    srtp: Option<&mut SrtpPair>,
    stream: Stream,
    buf: &mut [u8],
    len: usize,
    batch: &mut Batch,
) -> Option<usize> {
    let Some(pair) = srtp else {
        return Some(len);
    };
    if pair.too_short(stream, len) {
        // Not SRTP at all (a keepalive, a stray datagram): dropped, as a malformed packet.
        batch.dropped += 1;
        return None;
    }
    let plain = pair.unprotect(stream, buf.get(..len)?);
    match plain {
        Ok(plain) if plain.len() <= buf.len() => {
            buf[..plain.len()].copy_from_slice(&plain);
            batch.srtp_unprotected += 1;
            Some(plain.len())
        }
        Ok(_) => None,
        Err(e) => {
            tracing::debug!(error = %e, ?stream, len, "SRTP packet dropped");
            batch.srtp_auth_failures += 1;
            None
        }
    }
}

/// Sends `packet` to `destination`, protected first when the side has SRTP.
pub(crate) fn send_to(
    socket: &UdpSocket,
    srtp: Option<&mut SrtpPair>,
    stream: Stream,
    packet: &[u8],
    destination: SocketAddr,
    batch: &mut Batch,
) -> io::Result<usize> {
    match srtp {
        None => socket.try_send_to(packet, destination),
        Some(pair) => {
            let protected = pair.protect(stream, packet).map_err(io::Error::other)?;
            let sent = socket.try_send_to(&protected, destination)?;
            batch.srtp_protected += 1;
            Ok(sent)
        }
    }
}

#[cfg(test)]
#[path = "srtp_tests.rs"]
mod tests;
