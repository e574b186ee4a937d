//! Stateless, self-verifying nonces.
//!
//! A nonce is 64 lower-case hex digits: the issue time (8 bytes, big-endian seconds), a
//! random salt (8 bytes) and a tag (the first 16 bytes of HMAC-SHA-256 under the
//! authenticator's secret over a label, the time, the salt and the realm). The server keeps
//! nothing per challenge: it recomputes the tag to know a nonce is its own and reads the issue
//! time to know its age. The salt makes every challenge's nonce distinct even within one
//! second, so per-nonce replay tracking never mixes two clients. Putting the realm under the
//! MAC keeps a nonce from one realm from being accepted by another that shares the secret.
//!
//! HMAC rather than a bare `SHA-256(secret || data)` so the construction has no
//! length-extension caveat to reason about.

use sha2::{Digest, Sha256};

/// The issue time and salt a valid nonce carries; unique per minted nonce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct NonceId {
    pub issued_at: u64,
    pub salt: u64,
}

const NONCE_LABEL: &[u8] = b"sip-digest-nonce\0";
const OPAQUE_LABEL: &[u8] = b"sip-digest-opaque\0";
const TAG_LEN: usize = 16;
const NONCE_BYTES: usize = 8 + 8 + TAG_LEN;

/// Mints the nonce for `id`.
pub(crate) fn mint(secret: &[u8; 32], realm: &str, id: NonceId) -> String {
    let mut bytes = [0u8; NONCE_BYTES];
    bytes[..8].copy_from_slice(&id.issued_at.to_be_bytes());
    bytes[8..16].copy_from_slice(&id.salt.to_be_bytes());
    bytes[16..].copy_from_slice(&tag(secret, realm, id));
    hex::encode(bytes)
}

/// Returns what the nonce carries if, and only if, it was minted with this secret and realm.
pub(crate) fn verify(secret: &[u8; 32], realm: &str, nonce: &str) -> Option<NonceId> {
    if nonce.len() != NONCE_BYTES * 2 {
        return None;
    }
    let bytes = hex::decode(nonce).ok()?;
    let issued_at = u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?);
    let salt = u64::from_be_bytes(bytes.get(8..16)?.try_into().ok()?);
    let id = NonceId { issued_at, salt };
    constant_time_eq(&tag(secret, realm, id), bytes.get(16..)?).then_some(id)
}

/// The opaque value handed out with every challenge: fixed per secret and realm, so a client
/// echoing it can be checked without state.
pub(crate) fn opaque(secret: &[u8; 32], realm: &str) -> String {
    let mac = hmac_sha256(secret, &[OPAQUE_LABEL, realm.as_bytes()]);
    hex::encode(&mac[..TAG_LEN])
}

fn tag(secret: &[u8; 32], realm: &str, id: NonceId) -> [u8; TAG_LEN] {
    let mac = hmac_sha256(
        secret,
        &[
            NONCE_LABEL,
            &id.issued_at.to_be_bytes(),
            &id.salt.to_be_bytes(),
            realm.as_bytes(),
        ],
    );
    let mut out = [0u8; TAG_LEN];
    out.copy_from_slice(&mac[..TAG_LEN]);
    out
}

/// HMAC-SHA-256 (RFC 2104) of the concatenated `message` parts. The key is 32 bytes, shorter
/// than the 64-byte block, so it is zero-padded rather than hashed.
fn hmac_sha256(key: &[u8; 32], message: &[&[u8]]) -> [u8; 32] {
    const BLOCK: usize = 64;
    let mut ipad = [0x36u8; BLOCK];
    let mut opad = [0x5cu8; BLOCK];
    for (i, k) in key.iter().enumerate() {
        ipad[i] ^= k;
        opad[i] ^= k;
    }
    let mut inner = Sha256::new();
    inner.update(ipad);
    for part in message {
        inner.update(part);
    }
    let mut outer = Sha256::new();
    outer.update(opad);
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// Compares without an early exit, so timing does not reveal how many leading bytes matched.
/// Lengths are not secret here (digests and tags have fixed, public lengths).
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: [u8; 32] = [7; 32];
    const ID: NonceId = NonceId {
        issued_at: 1_700_000_000,
        salt: 0x0123_4567_89ab_cdef,
    };

    #[test]
    fn hmac_matches_rfc4231_vectors() {
        // HMAC zero-pads short keys to the block size, so a shorter RFC 4231 key followed by
        // zeros up to 32 bytes is the same key.
        let mut key = [0u8; 32];
        key[..20].copy_from_slice(&[0x0b; 20]);
        assert_eq!(
            hex::encode(hmac_sha256(&key, &[b"Hi ", b"There"])),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
        let mut key = [0u8; 32];
        key[..4].copy_from_slice(b"Jefe");
        assert_eq!(
            hex::encode(hmac_sha256(&key, &[b"what do ya want for nothing?"])),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn minted_nonce_verifies_and_carries_its_time() {
        let nonce = mint(&SECRET, "example.com", ID);
        assert_eq!(nonce.len(), 64);
        assert!(nonce.starts_with(&format!("{:016x}", ID.issued_at)));
        assert_eq!(verify(&SECRET, "example.com", &nonce), Some(ID));
        // Upper-case hex is the same nonce bytes; still ours.
        assert_eq!(
            verify(&SECRET, "example.com", &nonce.to_ascii_uppercase()),
            Some(ID)
        );
    }

    #[test]
    fn altered_foreign_or_malformed_nonces_fail() {
        let nonce = mint(&SECRET, "example.com", ID);
        // Every single-digit change is caught, including to the time and salt.
        for i in 0..nonce.len() {
            let mut bytes = nonce.clone().into_bytes();
            bytes[i] = if bytes[i] == b'0' { b'1' } else { b'0' };
            let altered = String::from_utf8(bytes).unwrap_or_default();
            assert_eq!(verify(&SECRET, "example.com", &altered), None, "digit {i}");
        }
        assert_eq!(verify(&[8; 32], "example.com", &nonce), None);
        assert_eq!(verify(&SECRET, "other.example.com", &nonce), None);
        assert_eq!(verify(&SECRET, "example.com", &nonce[..62]), None);
        assert_eq!(verify(&SECRET, "example.com", ""), None);
        let not_hex = format!("zz{}", &nonce[2..]);
        assert_eq!(verify(&SECRET, "example.com", &not_hex), None);
        let multibyte = format!("\u{e9}{}", &nonce[2..]);
        assert_eq!(verify(&SECRET, "example.com", &multibyte), None);
    }

    #[test]
    fn opaque_depends_on_secret_and_realm() {
        let a = opaque(&SECRET, "example.com");
        assert_eq!(a.len(), 32);
        assert_eq!(a, opaque(&SECRET, "example.com"));
        assert_ne!(a, opaque(&[8; 32], "example.com"));
        assert_ne!(a, opaque(&SECRET, "example.org"));
    }

    #[test]
    fn constant_time_eq_basics() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"ab"));
        assert!(constant_time_eq(b"", b""));
    }
}
