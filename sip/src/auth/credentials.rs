//! `Authorization` / `Proxy-Authorization` values: reading, writing, and the response digest
//! (RFC 2617 §3.2.2, RFC 7616 §3.4).

use std::fmt;

use super::params::{parse_digest_params, push_quoted, set_once};
use super::{Algorithm, AuthError};

/// The digest credentials a request carries.
///
/// String fields hold unquoted, unescaped values: what the digest is computed over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// Exactly as sent; never case-folded.
    pub username: String,
    pub realm: String,
    pub nonce: String,
    /// The `uri` directive (the Request-URI the client signed). The verifier does not compare
    /// it with the request's Request-URI; a caller that wants that check does it itself.
    pub uri: String,
    pub response: String,
    /// `MD5` when the header names none (RFC 2617).
    pub algorithm: Algorithm,
    pub opaque: Option<String>,
    /// Present when the client used `qop=auth`; `None` is RFC 2069 mode.
    pub qop: Option<QopAuth>,
}

/// The directives that come with `qop=auth` (RFC 2617 requires `cnonce` and `nc` with it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QopAuth {
    pub cnonce: String,
    /// The nonce count; written as exactly 8 hex digits.
    pub nc: u32,
}

impl Credentials {
    /// The response digest these credentials should carry for `method` and `password`:
    /// H(HA1:nonce:nc:cnonce:auth:HA2) with `qop=auth`, else H(HA1:nonce:HA2), where
    /// HA1 = H(username:realm:password) and HA2 = H(method:uri). The `response` field itself
    /// is not used.
    pub fn expected_response(&self, method: &str, password: &str) -> String {
        let ha1 = self
            .algorithm
            .hex_digest(&[&self.username, &self.realm, password]);
        let ha2 = self.algorithm.hex_digest(&[method, &self.uri]);
        match &self.qop {
            Some(q) => {
                let nc = format!("{:08x}", q.nc);
                self.algorithm
                    .hex_digest(&[&ha1, &self.nonce, &nc, &q.cnonce, "auth", &ha2])
            }
            None => self.algorithm.hex_digest(&[&ha1, &self.nonce, &ha2]),
        }
    }
}

/// Writes the header value: `Digest username="..", realm="..", nonce="..", uri="..",
/// response="..", algorithm=.., cnonce="..", opaque="..", qop=auth, nc=..`.
///
/// Control characters other than tab cannot be carried in a quoted string and are dropped;
/// [`answer_challenge`](super::answer_challenge) refuses such values before getting here.
impl fmt::Display for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = String::from("Digest ");
        push_quoted(&mut out, "username", &self.username);
        out.push_str(", ");
        push_quoted(&mut out, "realm", &self.realm);
        out.push_str(", ");
        push_quoted(&mut out, "nonce", &self.nonce);
        out.push_str(", ");
        push_quoted(&mut out, "uri", &self.uri);
        out.push_str(", ");
        push_quoted(&mut out, "response", &self.response);
        out.push_str(", algorithm=");
        out.push_str(self.algorithm.token());
        if let Some(q) = &self.qop {
            out.push_str(", ");
            push_quoted(&mut out, "cnonce", &q.cnonce);
        }
        if let Some(opaque) = &self.opaque {
            out.push_str(", ");
            push_quoted(&mut out, "opaque", opaque);
        }
        if let Some(q) = &self.qop {
            out.push_str(&format!(", qop=auth, nc={:08x}", q.nc));
        }
        f.write_str(&out)
    }
}

/// Reads an `Authorization` / `Proxy-Authorization` header value.
///
/// Requires `username`, `realm`, `nonce`, `uri` and `response`; with `qop` also `cnonce` and
/// `nc` (8 hex digits). Unknown parameters are ignored; a known one given twice is an error.
/// An algorithm other than `MD5` / `SHA-256`, or a qop other than `auth`, is an error: such
/// credentials cannot be verified here. Without `qop`, stray `cnonce` / `nc` are ignored.
pub fn parse_credentials(value: &str) -> Result<Credentials, AuthError> {
    let mut username = None;
    let mut realm = None;
    let mut nonce = None;
    let mut uri = None;
    let mut response = None;
    let mut algorithm = None;
    let mut cnonce = None;
    let mut opaque = None;
    let mut qop = None;
    let mut nc = None;
    for param in parse_digest_params(value)? {
        let (slot, name) = match param.name.as_str() {
            "username" => (&mut username, "username"),
            "realm" => (&mut realm, "realm"),
            "nonce" => (&mut nonce, "nonce"),
            "uri" => (&mut uri, "uri"),
            "response" => (&mut response, "response"),
            "algorithm" => (&mut algorithm, "algorithm"),
            "cnonce" => (&mut cnonce, "cnonce"),
            "opaque" => (&mut opaque, "opaque"),
            "qop" => (&mut qop, "qop"),
            "nc" => (&mut nc, "nc"),
            _ => continue,
        };
        set_once(slot, name, param.value)?;
    }
    let algorithm = match algorithm {
        Some(token) => token.parse()?,
        None => Algorithm::Md5,
    };
    let qop = match qop {
        None => None,
        Some(q) if q.eq_ignore_ascii_case("auth") => Some(QopAuth {
            cnonce: cnonce.ok_or(AuthError::MissingParam("cnonce"))?,
            nc: parse_nc(&nc.ok_or(AuthError::MissingParam("nc"))?)?,
        }),
        Some(q) => return Err(AuthError::UnsupportedQop(q)),
    };
    Ok(Credentials {
        username: username.ok_or(AuthError::MissingParam("username"))?,
        realm: realm.ok_or(AuthError::MissingParam("realm"))?,
        nonce: nonce.ok_or(AuthError::MissingParam("nonce"))?,
        uri: uri.ok_or(AuthError::MissingParam("uri"))?,
        response: response.ok_or(AuthError::MissingParam("response"))?,
        algorithm,
        opaque,
        qop,
    })
}

/// `nc-value = 8LHEX`. Upper-case digits are tolerated; a sign or any other length is not.
fn parse_nc(value: &str) -> Result<u32, AuthError> {
    if value.len() != 8 || !value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AuthError::InvalidParam("nc"));
    }
    u32::from_str_radix(value, 16).map_err(|_| AuthError::InvalidParam("nc"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(value: &str) -> Credentials {
        match parse_credentials(value) {
            Ok(c) => c,
            Err(e) => panic!("{value:?} did not parse: {e}"),
        }
    }

    fn rfc_creds(algorithm: Algorithm, realm: &str, nonce: &str, cnonce: &str) -> Credentials {
        Credentials {
            username: "Mufasa".into(),
            realm: realm.into(),
            nonce: nonce.into(),
            uri: "/dir/index.html".into(),
            response: String::new(),
            algorithm,
            opaque: None,
            qop: Some(QopAuth {
                cnonce: cnonce.into(),
                nc: 1,
            }),
        }
    }

    #[test]
    fn rfc2617_section_3_5_example() {
        let creds = rfc_creds(
            Algorithm::Md5,
            "testrealm@host.com",
            "dcd98b7102dd2f0e8b11d0f600bfb0c093",
            "0a4f113b",
        );
        assert_eq!(
            creds.expected_response("GET", "Circle Of Life"),
            "6629fae49393a05397450978507c4ef1"
        );
    }

    const RFC7616_NONCE: &str = "7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v";
    const RFC7616_CNONCE: &str = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";

    #[test]
    fn rfc7616_section_3_9_1_examples() {
        let sha = rfc_creds(
            Algorithm::Sha256,
            "http-auth@example.org",
            RFC7616_NONCE,
            RFC7616_CNONCE,
        );
        assert_eq!(
            sha.expected_response("GET", "Circle of Life"),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
        let md5 = Credentials {
            algorithm: Algorithm::Md5,
            ..sha
        };
        assert_eq!(
            md5.expected_response("GET", "Circle of Life"),
            "8ca523f5e9506fed4657c9700eebdbec"
        );
    }

    #[test]
    fn parses_the_rfc2617_authorization_header() {
        let creds = parse(
            "Digest username=\"Mufasa\",\r\n realm=\"testrealm@host.com\",\r\n \
             nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\",\r\n uri=\"/dir/index.html\",\r\n \
             qop=auth,\r\n nc=00000001,\r\n cnonce=\"0a4f113b\",\r\n \
             response=\"6629fae49393a05397450978507c4ef1\",\r\n \
             opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
        );
        assert_eq!(creds.username, "Mufasa");
        assert_eq!(creds.realm, "testrealm@host.com");
        assert_eq!(creds.algorithm, Algorithm::Md5);
        assert_eq!(
            creds.qop,
            Some(QopAuth {
                cnonce: "0a4f113b".into(),
                nc: 1
            })
        );
        assert_eq!(
            creds.opaque.as_deref(),
            Some("5ccc069c403ebaf9f0171e9517f40e41")
        );
        assert_eq!(
            creds.expected_response("GET", "Circle Of Life"),
            creds.response
        );
    }

    #[test]
    fn parses_odd_whitespace_quoting_escapes_and_unknown_params() {
        let creds = parse(
            "  digest\tUSERNAME =  \"Mu\\\"fa\\\\sa\" ,, realm=\"r,\\x\"\r\n\t, nonce= n0 ,\
             uri=\"sip:bob@example.com;transport=tcp\",response = \"ABCDEF\" ,\
             Algorithm=\"sha-256\", qop=\"AUTH\", nc=0000000A, cnonce=\"c\\\"n\",\
             foo=\"bar, baz\", stale=false,",
        );
        assert_eq!(creds.username, "Mu\"fa\\sa");
        assert_eq!(creds.realm, "r,x");
        assert_eq!(creds.nonce, "n0");
        assert_eq!(creds.uri, "sip:bob@example.com;transport=tcp");
        assert_eq!(creds.response, "ABCDEF");
        assert_eq!(creds.algorithm, Algorithm::Sha256);
        assert_eq!(
            creds.qop,
            Some(QopAuth {
                cnonce: "c\"n".into(),
                nc: 10
            })
        );
        assert_eq!(creds.opaque, None);
    }

    #[test]
    fn no_qop_ignores_stray_cnonce_and_nc() {
        let creds = parse(
            "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\", \
             cnonce=\"c\", nc=zz",
        );
        assert_eq!(creds.qop, None);
    }

    #[test]
    fn rejects_bad_credentials() {
        let base = "username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\"";
        let cases = [
            (format!("Basic {base}"), AuthError::NotDigest),
            (
                "Digest realm=\"r\", nonce=\"n\", uri=\"u\", response=\"x\"".to_owned(),
                AuthError::MissingParam("username"),
            ),
            (
                "Digest username=\"a\", realm=\"r\", nonce=\"n\", uri=\"u\"".to_owned(),
                AuthError::MissingParam("response"),
            ),
            (
                format!("Digest {base}, username=\"b\""),
                AuthError::DuplicateParam("username"),
            ),
            (
                format!("Digest {base}, algorithm=MD5-sess"),
                AuthError::UnsupportedAlgorithm("MD5-sess".into()),
            ),
            (
                format!("Digest {base}, algorithm=SHA-512-256"),
                AuthError::UnsupportedAlgorithm("SHA-512-256".into()),
            ),
            (
                format!("Digest {base}, qop=auth-int, nc=00000001, cnonce=\"c\""),
                AuthError::UnsupportedQop("auth-int".into()),
            ),
            (
                format!("Digest {base}, qop=auth, nc=00000001"),
                AuthError::MissingParam("cnonce"),
            ),
            (
                format!("Digest {base}, qop=auth, cnonce=\"c\""),
                AuthError::MissingParam("nc"),
            ),
            (
                format!("Digest {base}, qop=auth, cnonce=\"c\", nc=0000001"),
                AuthError::InvalidParam("nc"),
            ),
            (
                format!("Digest {base}, qop=auth, cnonce=\"c\", nc=+0000001"),
                AuthError::InvalidParam("nc"),
            ),
            (
                format!("Digest {base}, qop=auth, cnonce=\"c\", nc=0000000g"),
                AuthError::InvalidParam("nc"),
            ),
            (
                format!("Digest {base}, qop=auth, cnonce=\"c\", nc=000000001"),
                AuthError::InvalidParam("nc"),
            ),
        ];
        for (value, want) in cases {
            assert_eq!(parse_credentials(&value), Err(want), "{value:?}");
        }
    }

    #[test]
    fn display_round_trips() {
        let mut creds = rfc_creds(Algorithm::Sha256, "r\"e\\alm", "n", "c\"n");
        creds.response = "abc".into();
        creds.opaque = Some("op".into());
        creds.qop = Some(QopAuth {
            cnonce: "c\"n".into(),
            nc: 0xdead_beef,
        });
        let printed = creds.to_string();
        assert_eq!(
            printed,
            "Digest username=\"Mufasa\", realm=\"r\\\"e\\\\alm\", nonce=\"n\", \
             uri=\"/dir/index.html\", response=\"abc\", algorithm=SHA-256, cnonce=\"c\\\"n\", \
             opaque=\"op\", qop=auth, nc=deadbeef"
        );
        assert_eq!(parse(&printed), creds);

        creds.qop = None;
        creds.opaque = None;
        creds.algorithm = Algorithm::Md5;
        assert_eq!(parse(&creds.to_string()), creds);
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(s in proptest::prelude::any::<String>()) {
            let _ = parse_credentials(&s);
        }

        #[test]
        fn printed_credentials_parse_back(
            username in "[^\\p{Cc}]{0,20}",
            uri in "[^\\p{Cc}]{0,20}",
            cnonce in "[^\\p{Cc}]{0,20}",
            nc: u32,
            sha: bool,
            with_qop: bool,
        ) {
            let creds = Credentials {
                username,
                realm: "example.com".into(),
                nonce: "n".into(),
                uri,
                response: "r".into(),
                algorithm: if sha { Algorithm::Sha256 } else { Algorithm::Md5 },
                opaque: None,
                qop: with_qop.then_some(QopAuth { cnonce, nc }),
            };
            proptest::prop_assert_eq!(parse_credentials(&creds.to_string()), Ok(creds));
        }
    }
}
