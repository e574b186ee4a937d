//! Passwords and secrets.
//!
//! Passwords are hashed with argon2id (the `argon2` crate's defaults: 19 MiB, 2 passes,
//! the OWASP minimum) into a PHC string with its own random salt. Session ids and API
//! tokens are 256 random bits; the switch keeps only their SHA-256, which is enough for a
//! secret that cannot be guessed (a slow hash would only slow every request down).

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::sync::OnceLock;

/// The PHC string of `password`.
pub fn hash_password(password: &str) -> String {
    let salt = SaltString::generate(&mut rand::rngs::OsRng);
    match Argon2::default().hash_password(password.as_bytes(), &salt) {
        Ok(h) => h.to_string(),
        // Only an output or salt length out of range fails, and both are the defaults.
        Err(e) => unreachable!("argon2 with default parameters failed: {e}"),
    }
}

/// Whether `password` matches the PHC string `hash`. A malformed hash matches nothing.
pub fn verify_password(hash: &str, password: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Verifies against a throw-away hash: a login for an unknown account costs the same time
/// as one with a wrong password, so timing does not tell which accounts exist.
pub fn verify_nothing(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let hash = DUMMY.get_or_init(|| hash_password("not a password of anyone"));
    let _ = verify_password(hash, password);
}

/// `prefix` followed by 64 hex digits of fresh randomness.
pub fn new_secret(prefix: &str) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{prefix}{}", hex::encode(bytes))
}

/// A password for a generated account: 20 characters from an unambiguous alphabet.
pub fn new_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut bytes = [0u8; 20];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
        .iter()
        .map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char)
        .collect()
}

/// The SHA-256 of a secret, hex: what the switch stores and looks up.
pub fn digest(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("pass1001");
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(!h.contains("pass1001"));
        assert!(verify_password(&h, "pass1001"));
        assert!(!verify_password(&h, "pass1002"));
        assert!(!verify_password("not a hash", "pass1001"));
        // Salted: the same password hashes differently.
        assert_ne!(h, hash_password("pass1001"));
    }

    #[test]
    fn secrets_are_random_and_digested() {
        let a = new_secret("cct_");
        assert!(a.starts_with("cct_") && a.len() == 68);
        assert_ne!(a, new_secret("cct_"));
        assert_eq!(digest(&a).len(), 64);
        assert_eq!(digest(&a), digest(&a));
        let p = new_password();
        assert_eq!(p.chars().count(), 20);
        assert_ne!(p, new_password());
    }
}
