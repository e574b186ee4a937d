//! What the SDES engine tests share: test keys, a phone's `RTP/SAVP` body, and reading
//! our `a=crypto` line and the keys the engine gave the relay.

use media::graph::MediaCommand;
use media::sdp::crypto::{audio_security, Crypto};
use media::srtp::SrtpKeys;

use super::harness::Harness;

pub(super) const KEY: &str = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";
pub(super) const KEY2: &str = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNk";

/// A phone's `RTP/SAVP` body at `phone:port` with these `a=crypto` values.
pub(super) fn savp(phone: std::net::SocketAddr, port: u16, cryptos: &[&str], dir: &str) -> String {
    let ip = phone.ip();
    let mut s = format!(
        "v=0\r\no=phone 1 1 IN IP4 {ip}\r\ns=call\r\nc=IN IP4 {ip}\r\nt=0 0\r\n\
         m=audio {port} RTP/SAVP 0 101\r\na=rtpmap:0 PCMU/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\n"
    );
    for c in cryptos {
        s.push_str(&format!("a=crypto:{c}\r\n"));
    }
    s.push_str(&format!("a={dir}\r\n"));
    s
}

pub(super) fn crypto(tag: u32, key: &str) -> String {
    format!("{tag} AES_CM_128_HMAC_SHA1_80 inline:{key}")
}

/// The one `a=crypto` line of our body, which must be `RTP/SAVP`.
pub(super) fn our_crypto(body: &[u8]) -> Crypto {
    let text = String::from_utf8_lossy(body);
    let sec = audio_security(&text);
    assert!(sec.savp, "not RTP/SAVP: {text}");
    assert!(text.contains(" RTP/SAVP "), "{text}");
    assert_eq!(sec.lines.len(), 1, "{text}");
    sec.lines[0].clone().expect("our crypto line parses")
}

/// The SRTP keys the engine gave each endpoint since the last call, in order (side
/// index, keys).
pub(super) fn srtp_keys(h: &mut Harness) -> Vec<(u8, Option<SrtpKeys>)> {
    std::mem::take(&mut h.media)
        .into_iter()
        .filter_map(|c| match c {
            MediaCommand::Srtp { endpoint, keys } => Some((endpoint.side.0, keys)),
            _ => None,
        })
        .collect()
}

/// The key a phone's `a=crypto` value carries.
pub(super) fn key_of(value: &str) -> media::srtp::MasterKey {
    media::sdp::crypto::parse_crypto(value)
        .expect("a test key parses")
        .key
}
