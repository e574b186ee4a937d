//! Digest authentication for SIP, sans-IO.
//!
//! Follows RFC 2617 (digest with `qop=auth`, which is required: the RFC 2069 form without a
//! nonce count is refused, as it cannot be protected from replay), RFC 7616 for the SHA-256 algorithm, RFC 8760 for SHA-256 in SIP, and
//! RFC 3261 §22 for how SIP uses it.
//!
//! - Server side: [`Authenticator`] mints challenges ([`Authenticator::challenges`]) and checks
//!   the [`Credentials`] a request carries ([`Authenticator::verify`]). Its nonces are
//!   stateless and self-verifying: a nonce carries its issue time and a keyed MAC, so no
//!   per-challenge state is kept; the only memory is the [`ReplayGuard`] (highest `nc` seen
//!   per nonce), which is bounded and shared by all the verifiers of a node.
//! - Client side: [`answer_challenge`] turns a `WWW-Authenticate` / `Proxy-Authenticate` value
//!   into an `Authorization` / `Proxy-Authorization` value, for the switch's own outbound
//!   requests and for tests.
//!
//! Nothing here reads the clock or touches a socket: time comes in as `now_unix_secs`.
//!
//! Only the algorithms `MD5` and `SHA-256` and the qop `auth` are supported; anything else
//! (`MD5-sess`, `SHA-512-256`, `auth-int`) is refused rather than guessed at.

mod authenticator;
mod challenge;
mod credentials;
mod nonce;
mod params;
mod replay;
#[cfg(test)]
mod tests;

pub use authenticator::{AuthOutcome, Authenticator};
pub use challenge::{answer_challenge, parse_challenge, Challenge};
pub use credentials::{parse_credentials, Credentials, QopAuth};
pub use replay::{ReplayGuard, SharedReplayGuard};

use std::fmt;
use std::str::FromStr;

use sha2::Digest;

/// A digest algorithm (RFC 7616 §3.2 names; RFC 8760 for SIP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `MD5`: the RFC 2617 default, used when a header names no algorithm.
    Md5,
    /// `SHA-256` (RFC 7616, RFC 8760): preferred, offered first.
    Sha256,
}

impl Algorithm {
    /// The token as written in headers: `MD5` or `SHA-256`.
    pub const fn token(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
        }
    }

    /// Reads an algorithm token, ignoring ASCII case; `None` for anything unsupported.
    pub fn from_token(token: &str) -> Option<Self> {
        if token.eq_ignore_ascii_case("MD5") {
            Some(Algorithm::Md5)
        } else if token.eq_ignore_ascii_case("SHA-256") {
            Some(Algorithm::Sha256)
        } else {
            None
        }
    }

    /// Lower-case hex of H(parts joined by `:`), the shape of every digest computation.
    pub(crate) fn hex_digest(self, parts: &[&str]) -> String {
        match self {
            Algorithm::Md5 => hex_digest_with::<md5::Md5>(parts),
            Algorithm::Sha256 => hex_digest_with::<sha2::Sha256>(parts),
        }
    }
}

fn hex_digest_with<D: Digest>(parts: &[&str]) -> String {
    let mut hasher = D::new();
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            hasher.update(b":");
        }
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.token())
    }
}

impl FromStr for Algorithm {
    type Err = AuthError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Algorithm::from_token(s).ok_or_else(|| AuthError::UnsupportedAlgorithm(s.to_owned()))
    }
}

/// Why a header could not be read or produced, or why credentials were refused.
///
/// The verification variants are for logs only: the peer must see the same answer (a fresh
/// challenge) whatever the reason, so nothing about which check failed leaks to it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The header's scheme is not `Digest` (for example `Basic`).
    #[error("authentication scheme is not Digest")]
    NotDigest,
    /// The parameter list does not follow the `name=value, ...` grammar.
    #[error("malformed digest header: {0}")]
    Syntax(&'static str),
    /// A parameter the header needs is absent.
    #[error("missing digest parameter `{0}`")]
    MissingParam(&'static str),
    /// A known parameter appears twice, which makes the header ambiguous.
    #[error("duplicate digest parameter `{0}`")]
    DuplicateParam(&'static str),
    /// A parameter has a value outside its grammar (for example an `nc` that is not 8 hex
    /// digits) or one that cannot be written into a header (control characters).
    #[error("invalid value for digest parameter `{0}`")]
    InvalidParam(&'static str),
    /// The algorithm is not `MD5` or `SHA-256`.
    #[error("unsupported digest algorithm `{0}`")]
    UnsupportedAlgorithm(String),
    /// The qop is not `auth` (or a challenge offers qops but not `auth`).
    #[error("unsupported qop `{0}`")]
    UnsupportedQop(String),
    /// The credentials are for another realm.
    #[error("realm does not match")]
    RealmMismatch,
    /// The nonce was not minted by this authenticator (forged, altered or foreign).
    #[error("nonce was not issued here or was altered")]
    BadNonce,
    /// The opaque value is not the one we issued.
    #[error("opaque does not match")]
    OpaqueMismatch,
    /// No password is known for the username.
    #[error("unknown user")]
    UnknownUser,
    /// The response digest is wrong (wrong password, or a request altered in transit).
    #[error("response digest does not match")]
    BadResponse,
    /// The nonce count is not greater than one already accepted for this nonce.
    #[error("nonce count replayed")]
    Replay,
    /// The `uri` directive names another resource than the Request-URI.
    #[error("digest uri does not match the Request-URI")]
    UriMismatch,
    /// The credentials use the RFC 2069 form (no `qop`) where `qop=auth` was offered.
    #[error("qop=auth required")]
    QopRequired,
}
