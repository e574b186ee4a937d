//! `WWW-Authenticate` / `Proxy-Authenticate` values, and the client's answer to them
//! (RFC 2617 §3.2.1, RFC 7616 §3.3, RFC 3261 §22.2–22.3).

use std::fmt;

use super::credentials::{Credentials, QopAuth};
use super::params::{is_printable, parse_digest_params, push_quoted, set_once};
use super::{Algorithm, AuthError};

/// A digest challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub nonce: String,
    pub opaque: Option<String>,
    /// `MD5` when the header names none (RFC 2617).
    pub algorithm: Algorithm,
    /// The offered qop values as written (`auth`, `auth-int`, ...); empty means none offered
    /// (RFC 2069 style).
    pub qop: Vec<String>,
    /// `stale=true`: the previous credentials were right but their nonce is too old, so the
    /// client may retry with the new nonce without asking the user again.
    pub stale: bool,
}

impl Challenge {
    /// Whether `qop=auth` is among the offered values.
    pub fn offers_qop_auth(&self) -> bool {
        self.qop.iter().any(|q| q.eq_ignore_ascii_case("auth"))
    }
}

/// Writes `Digest realm="..", nonce="..", opaque="..", algorithm=.., qop=".."`, then
/// `, stale=true` when stale. Absent `opaque` and empty `qop` are left out.
impl fmt::Display for Challenge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::from("Digest ");
        push_quoted(&mut out, "realm", &self.realm);
        out.push_str(", ");
        push_quoted(&mut out, "nonce", &self.nonce);
        if let Some(opaque) = &self.opaque {
            out.push_str(", ");
            push_quoted(&mut out, "opaque", opaque);
        }
        out.push_str(", algorithm=");
        out.push_str(self.algorithm.token());
        if !self.qop.is_empty() {
            out.push_str(", ");
            push_quoted(&mut out, "qop", &self.qop.join(","));
        }
        if self.stale {
            out.push_str(", stale=true");
        }
        f.write_str(&out)
    }
}

/// Reads a `WWW-Authenticate` / `Proxy-Authenticate` header value.
///
/// Requires `realm` and `nonce`. `qop` is a comma-separated list inside one quoted string.
/// An algorithm other than `MD5` / `SHA-256` is an error, so a client holding several
/// challenges can take the first that parses (servers list their preferred one first,
/// RFC 8760 §2.4). Unknown parameters (`domain`, `charset`, `userhash`...) are ignored.
pub fn parse_challenge(value: &str) -> Result<Challenge, AuthError> {
    let mut realm = None;
    let mut nonce = None;
    let mut opaque = None;
    let mut algorithm = None;
    let mut qop = None;
    let mut stale = None;
    for param in parse_digest_params(value)? {
        let (slot, name) = match param.name.as_str() {
            "realm" => (&mut realm, "realm"),
            "nonce" => (&mut nonce, "nonce"),
            "opaque" => (&mut opaque, "opaque"),
            "algorithm" => (&mut algorithm, "algorithm"),
            "qop" => (&mut qop, "qop"),
            "stale" => (&mut stale, "stale"),
            _ => continue,
        };
        set_once(slot, name, param.value)?;
    }
    let algorithm = match algorithm {
        Some(token) => token.parse()?,
        None => Algorithm::Md5,
    };
    let qop = qop
        .as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(str::to_owned)
        .collect();
    Ok(Challenge {
        realm: realm.ok_or(AuthError::MissingParam("realm"))?,
        nonce: nonce.ok_or(AuthError::MissingParam("nonce"))?,
        opaque,
        algorithm,
        qop,
        stale: stale.is_some_and(|s| s.eq_ignore_ascii_case("true")),
    })
}

/// Answers a challenge: returns the `Authorization` / `Proxy-Authorization` header value for
/// a request with `method` and Request-URI `uri`.
///
/// Uses `qop=auth` with `cnonce` and `nc` when the challenge offers it; when it offers no qop
/// at all, answers in RFC 2069 style (`cnonce` and `nc` unused). A challenge that offers qops
/// but not `auth` (only `auth-int`) is refused. `cnonce` should be fresh random text chosen by
/// the caller, and `nc` should count requests made with the same nonce, starting at 1.
/// Values that cannot be written into a header (control characters) are refused.
pub fn answer_challenge(
    challenge_value: &str,
    method: &str,
    uri: &str,
    username: &str,
    password: &str,
    cnonce: &str,
    nc: u32,
) -> Result<String, AuthError> {
    let challenge = parse_challenge(challenge_value)?;
    let qop = if challenge.offers_qop_auth() {
        if cnonce.is_empty() || !is_printable(cnonce) {
            return Err(AuthError::InvalidParam("cnonce"));
        }
        Some(QopAuth {
            cnonce: cnonce.to_owned(),
            nc,
        })
    } else if challenge.qop.is_empty() {
        None
    } else {
        return Err(AuthError::UnsupportedQop(challenge.qop.join(",")));
    };
    if !is_printable(username) {
        return Err(AuthError::InvalidParam("username"));
    }
    if !is_printable(uri) {
        return Err(AuthError::InvalidParam("uri"));
    }
    let mut creds = Credentials {
        username: username.to_owned(),
        realm: challenge.realm,
        nonce: challenge.nonce,
        uri: uri.to_owned(),
        response: String::new(),
        algorithm: challenge.algorithm,
        opaque: challenge.opaque,
        qop,
    };
    creds.response = creds.expected_response(method, password);
    Ok(creds.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::parse_credentials;
    use super::*;

    fn answer(challenge: &str, password: &str, cnonce: &str) -> Credentials {
        let value = answer_challenge(
            challenge,
            "GET",
            "/dir/index.html",
            "Mufasa",
            password,
            cnonce,
            1,
        );
        match value.and_then(|v| parse_credentials(&v)) {
            Ok(c) => c,
            Err(e) => panic!("could not answer {challenge:?}: {e}"),
        }
    }

    #[test]
    fn answers_the_rfc2617_example() {
        let challenge = "Digest\r\n realm=\"testrealm@host.com\",\r\n qop=\"auth,auth-int\",\r\n \
                         nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r\n \
                         opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"";
        let creds = answer(challenge, "Circle Of Life", "0a4f113b");
        assert_eq!(creds.response, "6629fae49393a05397450978507c4ef1");
        assert_eq!(creds.algorithm, Algorithm::Md5);
        assert_eq!(
            creds.opaque.as_deref(),
            Some("5ccc069c403ebaf9f0171e9517f40e41")
        );
        assert_eq!(
            creds.qop,
            Some(QopAuth {
                cnonce: "0a4f113b".into(),
                nc: 1
            })
        );
    }

    #[test]
    fn answers_the_rfc7616_examples() {
        let rest = "realm=\"http-auth@example.org\", qop=\"auth, auth-int\", \
                    nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", \
                    opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
        let cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
        let sha = answer(
            &format!("Digest {rest}, algorithm=SHA-256"),
            "Circle of Life",
            cnonce,
        );
        assert_eq!(sha.algorithm, Algorithm::Sha256);
        assert_eq!(
            sha.response,
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
        let md5 = answer(
            &format!("Digest {rest}, algorithm=MD5"),
            "Circle of Life",
            cnonce,
        );
        assert_eq!(md5.response, "8ca523f5e9506fed4657c9700eebdbec");
    }

    #[test]
    fn answers_without_qop_rfc2069_style() {
        let creds = answer("Digest realm=\"r\", nonce=\"n\"", "pw", "");
        assert_eq!(creds.qop, None);
        let ha1 = Algorithm::Md5.hex_digest(&["Mufasa", "r", "pw"]);
        let ha2 = Algorithm::Md5.hex_digest(&["GET", "/dir/index.html"]);
        assert_eq!(
            creds.response,
            Algorithm::Md5.hex_digest(&[&ha1, "n", &ha2])
        );
    }

    #[test]
    fn refuses_what_it_cannot_answer() {
        let answer = |challenge: &str, username: &str, cnonce: &str| {
            answer_challenge(challenge, "INVITE", "sip:b@x", username, "pw", cnonce, 1)
        };
        let ok = "Digest realm=\"r\", nonce=\"n\", qop=\"auth\"";
        assert_eq!(
            answer(
                "Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\"",
                "a",
                "c"
            ),
            Err(AuthError::UnsupportedQop("auth-int".into()))
        );
        assert_eq!(
            answer(
                "Digest realm=\"r\", nonce=\"n\", algorithm=MD5-sess",
                "a",
                "c"
            ),
            Err(AuthError::UnsupportedAlgorithm("MD5-sess".into()))
        );
        assert_eq!(
            answer("Digest nonce=\"n\"", "a", "c"),
            Err(AuthError::MissingParam("realm"))
        );
        assert_eq!(
            answer("Basic realm=\"r\"", "a", "c"),
            Err(AuthError::NotDigest)
        );
        assert_eq!(
            answer(ok, "a\r\nX-Evil: 1", "c"),
            Err(AuthError::InvalidParam("username"))
        );
        assert_eq!(answer(ok, "a", ""), Err(AuthError::InvalidParam("cnonce")));
        assert_eq!(
            answer_challenge(ok, "INVITE", "sip:b@x\n", "a", "pw", "c", 1),
            Err(AuthError::InvalidParam("uri"))
        );
    }

    #[test]
    fn challenge_display_and_parse_round_trip() {
        let challenge = Challenge {
            realm: "example.com".into(),
            nonce: "abc".into(),
            opaque: Some("xyz".into()),
            algorithm: Algorithm::Sha256,
            qop: vec!["auth".into()],
            stale: true,
        };
        let printed = challenge.to_string();
        assert_eq!(
            printed,
            "Digest realm=\"example.com\", nonce=\"abc\", opaque=\"xyz\", algorithm=SHA-256, \
             qop=\"auth\", stale=true"
        );
        assert_eq!(parse_challenge(&printed), Ok(challenge.clone()));

        let plain = Challenge {
            opaque: None,
            algorithm: Algorithm::Md5,
            qop: Vec::new(),
            stale: false,
            ..challenge
        };
        assert_eq!(
            plain.to_string(),
            "Digest realm=\"example.com\", nonce=\"abc\", algorithm=MD5"
        );
        assert_eq!(parse_challenge(&plain.to_string()), Ok(plain));
    }

    #[test]
    fn parses_challenge_details() {
        let c = parse_challenge(
            "DIGEST realm=\"r\",domain=\"sip:x sip:y\", nonce=n, stale=TRUE, qop=\" auth-int ,, AUTH \"",
        );
        let c = match c {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        assert!(c.stale);
        assert_eq!(c.qop, vec!["auth-int".to_owned(), "AUTH".to_owned()]);
        assert!(c.offers_qop_auth());
        assert_eq!(c.algorithm, Algorithm::Md5);
        assert_eq!(
            parse_challenge("Digest realm=\"r\", nonce=\"n\", stale=false").map(|c| c.stale),
            Ok(false)
        );
        assert_eq!(
            parse_challenge("Digest realm=\"r\", realm=\"s\", nonce=\"n\""),
            Err(AuthError::DuplicateParam("realm"))
        );
    }
}
