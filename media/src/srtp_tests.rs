//! RFC 3711 Appendix B.3's key derivation checked through the wrapper: a packet protected
//! with the appendix's master key must be exactly what the appendix's session keys make
//! (AES-CM keystream per §4.1.1, HMAC-SHA1 tag per §4.2), computed here independently.

use super::*;
use aes::cipher::{BlockEncrypt, KeyInit};
use hmac::Mac;

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// RFC 3711 B.3: master key and salt.
fn appendix_key(suite: Suite) -> MasterKey {
    let mut key_salt = [0u8; KEY_SALT_LEN];
    key_salt[..16].copy_from_slice(&hex("E1F97A0D3E018BE0D64FA32C06DE4139"));
    key_salt[16..].copy_from_slice(&hex("0EC675AD498AFEEBB6960B3AABE6"));
    MasterKey { suite, key_salt }
}

/// RFC 3711 B.3: the session keys derived from it (index 0, kdr 0).
const SESSION_KEY: &str = "C61E7A93744F39EE10734AFE3FF7A087";
const SESSION_SALT: &str = "30CBBC08863D8C85D49DB34A9AE1";
const AUTH_KEY: &str = "CEBE321F6FF7716B6FD4AB49AF256A156D38BAA4";

fn rtp(seq: u16, ssrc: u32, payload: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, 0x00];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&160u32.to_be_bytes());
    p.extend_from_slice(&ssrc.to_be_bytes());
    p.extend_from_slice(payload);
    p
}

/// The SRTP packet RFC 3711 §4 makes of `plain` with the session keys above (ROC 0).
fn by_hand(plain: &[u8], tag_len: usize) -> Vec<u8> {
    let (header, payload) = plain.split_at(12);
    let seq = u16::from_be_bytes([header[2], header[3]]);
    let ssrc = &header[8..12];
    // IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16), as 16 bytes.
    let mut iv = [0u8; 16];
    iv[..14].copy_from_slice(&hex(SESSION_SALT));
    for (i, b) in ssrc.iter().enumerate() {
        iv[4 + i] ^= b;
    }
    let index = u64::from(seq).to_be_bytes(); // ROC 0: the index is the sequence number
    for (i, b) in index[2..].iter().enumerate() {
        iv[8 + i] ^= b;
    }
    let aes = aes::Aes128::new_from_slice(&hex(SESSION_KEY)).unwrap();
    let mut out = header.to_vec();
    for (n, chunk) in payload.chunks(16).enumerate() {
        let mut block = iv;
        let counter = u16::from_be_bytes([iv[14], iv[15]]).wrapping_add(n as u16);
        block[14..].copy_from_slice(&counter.to_be_bytes());
        let mut block = aes::Block::from(block);
        aes.encrypt_block(&mut block);
        out.extend(chunk.iter().zip(block.iter()).map(|(p, k)| p ^ k));
    }
    let mut mac = <hmac::Hmac<sha1::Sha1> as Mac>::new_from_slice(&hex(AUTH_KEY)).unwrap();
    mac.update(&out);
    mac.update(&0u32.to_be_bytes());
    let tag = mac.finalize().into_bytes();
    out.extend_from_slice(&tag[..tag_len]);
    out
}

fn pair(suite: Suite) -> SrtpPair {
    let key = appendix_key(suite);
    SrtpPair::new(&SrtpKeys {
        rx: key.clone(),
        tx: key,
    })
    .unwrap()
}

#[test]
fn rfc3711_b3_key_derivation_through_the_wrapper() {
    let plain = rtp(0x1234, 0xcafe_babe, &[0xd5; 160]);
    for (suite, tag) in [
        (Suite::AesCm128HmacSha1_80, 10),
        (Suite::AesCm128HmacSha1_32, 4),
    ] {
        let protected = pair(suite).protect(Stream::Rtp, &plain).unwrap();
        assert_eq!(protected.len(), plain.len() + tag);
        assert_eq!(protected, by_hand(&plain, tag), "{suite:?}");
    }
}

#[test]
fn round_trip_and_a_tampered_or_replayed_packet_is_refused() {
    let a = MasterKey::random(Suite::AesCm128HmacSha1_80);
    let b = MasterKey::random(Suite::AesCm128HmacSha1_80);
    assert_ne!(a, b);
    // The switch's side: receives with the leg's key a, sends with b; the leg the reverse.
    let mut switch = SrtpPair::new(&SrtpKeys {
        rx: a.clone(),
        tx: b.clone(),
    })
    .unwrap();
    let mut leg = SrtpPair::new(&SrtpKeys { rx: b, tx: a }).unwrap();
    for seq in 0..100u16 {
        let plain = rtp(seq, 7, &[seq as u8; 160]);
        let wire = leg.protect(Stream::Rtp, &plain).unwrap();
        assert_ne!(&wire[12..172], &plain[12..], "payload sent in clear");
        assert_eq!(switch.unprotect(Stream::Rtp, &wire).unwrap(), plain);
        let back = switch.protect(Stream::Rtp, &plain).unwrap();
        assert_eq!(leg.unprotect(Stream::Rtp, &back).unwrap(), plain);
    }
    let wire = leg.protect(Stream::Rtp, &rtp(100, 7, &[1; 160])).unwrap();
    let mut tampered = wire.clone();
    tampered[20] ^= 1;
    assert!(switch.unprotect(Stream::Rtp, &tampered).is_err());
    assert!(switch.unprotect(Stream::Rtp, &wire).is_ok());
    assert!(
        switch.unprotect(Stream::Rtp, &wire).is_err(),
        "a replay passed"
    );
    assert!(switch.unprotect(Stream::Rtp, &wire[..8]).is_err());
    assert!(switch.too_short(Stream::Rtp, 21) && !switch.too_short(Stream::Rtp, 22));
    assert!(switch.too_short(Stream::Rtcp, 16) && !switch.too_short(Stream::Rtcp, 22));
    assert!(switch.unprotect(Stream::Rtp, &[]).is_err());

    // SRTCP: a receiver report.
    let rr = [
        0x81u8, 201, 0, 7, 0, 0, 0, 7, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0,
    ];
    let wire = leg.protect(Stream::Rtcp, &rr).unwrap();
    assert_eq!(switch.unprotect(Stream::Rtcp, &wire).unwrap(), rr);
    let mut tampered = leg.protect(Stream::Rtcp, &rr).unwrap();
    tampered[10] ^= 0x40;
    assert!(switch.unprotect(Stream::Rtcp, &tampered).is_err());
}

#[test]
fn receive_rewrites_the_buffer_in_place() {
    let key = MasterKey::random(Suite::AesCm128HmacSha1_32);
    let keys = SrtpKeys {
        rx: key.clone(),
        tx: key,
    };
    let (mut a, mut b) = (SrtpPair::new(&keys).unwrap(), SrtpPair::new(&keys).unwrap());
    let plain = rtp(1, 1, &[9; 160]);
    let wire = a.protect(Stream::Rtp, &plain).unwrap();
    let mut buf = [0u8; 512];
    let mut batch = Batch::default();
    buf[..wire.len()].copy_from_slice(&wire);
    let len = receive(Some(&mut b), Stream::Rtp, &mut buf, wire.len(), &mut batch).unwrap();
    assert_eq!(&buf[..len], &plain[..]);
    assert_eq!(
        receive(Some(&mut b), Stream::Rtp, &mut buf, wire.len(), &mut batch),
        None
    );
    assert_eq!((batch.srtp_unprotected, batch.srtp_auth_failures), (1, 1));
    assert_eq!(receive(None, Stream::Rtp, &mut buf, 5, &mut batch), Some(5));
}
