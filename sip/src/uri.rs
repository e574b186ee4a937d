//! SIP, SIPS and tel URIs (RFC 3261 §19.1, RFC 3966), plus any other absolute URI kept
//! opaque. Written by hand because rsip 0.4 rejects IPv6 references, `tel:` and URI headers.

use crate::HeaderError;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Scheme {
    Sip,
    Sips,
    Tel,
    Other(String),
}

/// A parsed URI. For `sip:`/`sips:` all fields are meaningful. For `tel:` the number is in
/// `user` and its parameters in `params`; for other schemes the text after the colon is in
/// `opaque`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Uri {
    pub scheme: Scheme,
    pub user: Option<String>,
    pub password: Option<String>,
    /// Host as written; IPv6 references keep their brackets.
    pub host: String,
    pub port: Option<u16>,
    pub params: Vec<(String, Option<String>)>,
    /// The `?headers` part, without the `?`.
    pub headers: Option<String>,
    pub opaque: Option<String>,
}

impl Uri {
    pub fn sip(user: Option<&str>, host: &str, port: Option<u16>) -> Uri {
        Uri {
            scheme: Scheme::Sip,
            user: user.map(str::to_string),
            password: None,
            host: host.to_string(),
            port,
            params: Vec::new(),
            headers: None,
            opaque: None,
        }
    }

    pub fn parse(s: &str) -> Result<Uri, HeaderError> {
        let s = s.trim();
        let colon = s
            .find(':')
            .ok_or_else(|| HeaderError::Uri(format!("no scheme in {s:?}")))?;
        let scheme_str = &s[..colon];
        if scheme_str.is_empty()
            || !scheme_str.as_bytes()[0].is_ascii_alphabetic()
            || !scheme_str
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.')
        {
            return Err(HeaderError::Uri(format!("bad scheme in {s:?}")));
        }
        let rest = &s[colon + 1..];
        if rest
            .bytes()
            .any(|b| b <= b' ' || b == b'<' || b == b'>' || b == b'"')
        {
            return Err(HeaderError::Uri(format!("illegal character in {s:?}")));
        }
        let scheme = if scheme_str.eq_ignore_ascii_case("sip") {
            Scheme::Sip
        } else if scheme_str.eq_ignore_ascii_case("sips") {
            Scheme::Sips
        } else if scheme_str.eq_ignore_ascii_case("tel") {
            Scheme::Tel
        } else {
            return Ok(Uri {
                scheme: Scheme::Other(scheme_str.to_ascii_lowercase()),
                user: None,
                password: None,
                host: String::new(),
                port: None,
                params: Vec::new(),
                headers: None,
                opaque: Some(rest.to_string()),
            });
        };
        if scheme == Scheme::Tel {
            let (number, params) = match rest.find(';') {
                Some(i) => (&rest[..i], parse_params(&rest[i + 1..])),
                None => (rest, Vec::new()),
            };
            if number.is_empty() {
                return Err(HeaderError::Uri("empty tel number".into()));
            }
            return Ok(Uri {
                scheme,
                user: Some(number.to_string()),
                password: None,
                host: String::new(),
                port: None,
                params,
                headers: None,
                opaque: None,
            });
        }
        // userinfo ends at the last '@' before the host; the user part may hold ';' and '?'
        // (user-unreserved), the host part never holds '@'.
        let (userinfo, hostpart) = match rest.rfind('@') {
            Some(i) => (Some(&rest[..i]), &rest[i + 1..]),
            None => (None, rest),
        };
        let (user, password) = match userinfo {
            None => (None, None),
            Some(ui) => match ui.find(':') {
                Some(i) => (Some(ui[..i].to_string()), Some(ui[i + 1..].to_string())),
                None => (Some(ui.to_string()), None),
            },
        };
        if let Some(u) = &user {
            if u.is_empty() {
                return Err(HeaderError::Uri(format!("empty user in {s:?}")));
            }
            check_escapes(u)?;
        }
        let (hostport, after) = split_hostport(hostpart)?;
        let (host, port) = parse_hostport(hostport)?;
        let (params_str, headers) = match after.find('?') {
            Some(i) => (&after[..i], Some(after[i + 1..].to_string())),
            None => (after, None),
        };
        let params = if let Some(p) = params_str.strip_prefix(';') {
            parse_params(p)
        } else if params_str.is_empty() {
            Vec::new()
        } else {
            return Err(HeaderError::Uri(format!("junk after host in {s:?}")));
        };
        Ok(Uri {
            scheme,
            user,
            password,
            host,
            port,
            params,
            headers,
            opaque: None,
        })
    }

    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }

    pub fn set_param(&mut self, name: &str, value: Option<&str>) {
        self.params.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.params
            .push((name.to_string(), value.map(str::to_string)));
    }

    pub fn is_sip(&self) -> bool {
        matches!(self.scheme, Scheme::Sip | Scheme::Sips)
    }

    /// The user part with %XX escapes decoded (what a dialplan compares).
    pub fn user_unescaped(&self) -> Option<String> {
        self.user.as_deref().map(unescape)
    }

    /// The transport this URI asks for (`;transport=`), lower-case; tokens are
    /// case-insensitive.
    pub fn transport(&self) -> Option<String> {
        self.param("transport")
            .flatten()
            .map(|t| t.to_ascii_lowercase())
    }

    /// URI equality of RFC 3261 §19.1.4: scheme and host ignore case, user and password
    /// compare exactly after %XX decoding, a missing port differs from an explicit one, the
    /// `user`, `ttl`, `method`, `maddr` and `transport` parameters must match when either URI
    /// has them, other parameters only when both have them, and headers must all match. Used
    /// to bind digest credentials to the Request-URI (RFC 3261 §22.4).
    pub fn equivalent(&self, other: &Uri) -> bool {
        let scheme = match (&self.scheme, &other.scheme) {
            (Scheme::Other(a), Scheme::Other(b)) => {
                return a.eq_ignore_ascii_case(b) && self.opaque == other.opaque;
            }
            (a, b) => a == b,
        };
        let unescaped = |v: &Option<String>| v.as_deref().map(unescape);
        scheme
            && unescaped(&self.user) == unescaped(&other.user)
            && unescaped(&self.password) == unescaped(&other.password)
            && unescape(&self.host).eq_ignore_ascii_case(&unescape(&other.host))
            && self.port == other.port
            && params_equivalent(&self.params, &other.params)
            && headers_equivalent(self.headers.as_deref(), other.headers.as_deref())
    }

    /// Host without IPv6 brackets, for address resolution.
    pub fn host_unbracketed(&self) -> &str {
        self.host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(&self.host)
    }
}

/// §19.1.4 parameter rules; values ignore case, as the RFC's comparisons of tokens do.
fn params_equivalent(a: &[(String, Option<String>)], b: &[(String, Option<String>)]) -> bool {
    const MUST_MATCH: [&str; 5] = ["user", "ttl", "method", "maddr", "transport"];
    let find = |list: &[(String, Option<String>)], name: &str| {
        list.iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref().map(unescape).map(|v| v.to_ascii_lowercase()))
    };
    a.iter()
        .chain(b)
        .all(|(name, _)| match (find(a, name), find(b, name)) {
            (Some(x), Some(y)) => x == y,
            (None, None) => true,
            _ => !MUST_MATCH.iter().any(|m| m.eq_ignore_ascii_case(name)),
        })
}

/// Header components compare as sets of `name=value`, names ignoring case.
fn headers_equivalent(a: Option<&str>, b: Option<&str>) -> bool {
    let set = |h: Option<&str>| {
        let mut v: Vec<(String, String)> = h
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (n, v) = p.split_once('=').unwrap_or((p, ""));
                (unescape(n).to_ascii_lowercase(), unescape(v))
            })
            .collect();
        v.sort();
        v
    };
    set(a) == set(b)
}

fn check_escapes(s: &str) -> Result<(), HeaderError> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit)
                && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit))
            {
                return Err(HeaderError::Uri(format!("bad escape in {s:?}")));
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    Ok(())
}

/// Decode %XX escapes; malformed escapes are left as written.
pub fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Split `host[:port]` from the `;params?headers` that follow.
fn split_hostport(s: &str) -> Result<(&str, &str), HeaderError> {
    if s.starts_with('[') {
        let close = s
            .find(']')
            .ok_or_else(|| HeaderError::Uri(format!("unclosed IPv6 reference in {s:?}")))?;
        let end = s[close..]
            .find([';', '?'])
            .map(|i| close + i)
            .unwrap_or(s.len());
        Ok((&s[..end], &s[end..]))
    } else {
        let end = s.find([';', '?']).unwrap_or(s.len());
        Ok((&s[..end], &s[end..]))
    }
}

/// Parse `host[:port]`, with IPv6 references in brackets.
pub fn parse_hostport(s: &str) -> Result<(String, Option<u16>), HeaderError> {
    let (host, port) = if s.starts_with('[') {
        let close = s
            .find(']')
            .ok_or_else(|| HeaderError::Uri(format!("unclosed IPv6 reference in {s:?}")))?;
        let inner = &s[1..close];
        if inner.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(HeaderError::Uri(format!("bad IPv6 address {inner:?}")));
        }
        let rest = &s[close + 1..];
        let port =
            if rest.is_empty() {
                None
            } else {
                Some(rest.strip_prefix(':').ok_or_else(|| {
                    HeaderError::Uri(format!("junk after IPv6 reference in {s:?}"))
                })?)
            };
        (&s[..close + 1], port)
    } else {
        match s.find(':') {
            Some(i) => (&s[..i], Some(&s[i + 1..])),
            None => (s, None),
        }
    };
    if host.is_empty() {
        return Err(HeaderError::Uri("empty host".into()));
    }
    if !host.starts_with('[')
        && !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.' || b == b'_')
    {
        return Err(HeaderError::Uri(format!("bad host {host:?}")));
    }
    let port = match port {
        None => None,
        Some(p) => Some(
            p.parse::<u16>()
                .map_err(|_| HeaderError::Uri(format!("bad port {p:?}")))?,
        ),
    };
    Ok((host.to_string(), port))
}

/// Parse `a=b;c;d=e` into pairs. Names are kept as written (compare case-insensitively).
pub fn parse_params(s: &str) -> Vec<(String, Option<String>)> {
    s.split(';')
        .filter(|p| !p.trim().is_empty())
        .map(|p| match p.find('=') {
            Some(i) => (
                p[..i].trim().to_string(),
                Some(p[i + 1..].trim().to_string()),
            ),
            None => (p.trim().to_string(), None),
        })
        .collect()
}

impl fmt::Display for Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.scheme {
            Scheme::Other(s) => {
                return write!(f, "{}:{}", s, self.opaque.as_deref().unwrap_or(""));
            }
            Scheme::Tel => {
                write!(f, "tel:{}", self.user.as_deref().unwrap_or(""))?;
            }
            Scheme::Sip | Scheme::Sips => {
                f.write_str(if self.scheme == Scheme::Sip {
                    "sip:"
                } else {
                    "sips:"
                })?;
                if let Some(u) = &self.user {
                    f.write_str(u)?;
                    if let Some(p) = &self.password {
                        write!(f, ":{p}")?;
                    }
                    f.write_str("@")?;
                }
                f.write_str(&self.host)?;
                if let Some(p) = self.port {
                    write!(f, ":{p}")?;
                }
            }
        }
        for (n, v) in &self.params {
            match v {
                Some(v) => write!(f, ";{n}={v}")?,
                None => write!(f, ";{n}")?,
            }
        }
        if let Some(h) = &self.headers {
            write!(f, "?{h}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_common_forms() {
        let u = Uri::parse("sip:1001@127.0.0.1:5060;transport=TCP").unwrap();
        assert_eq!(u.user.as_deref(), Some("1001"));
        assert_eq!(u.host, "127.0.0.1");
        assert_eq!(u.port, Some(5060));
        assert_eq!(u.transport().as_deref(), Some("tcp"));
        let u = Uri::parse("sip:[2001:db8::10]:5070").unwrap();
        assert_eq!(u.host, "[2001:db8::10]");
        assert_eq!(u.host_unbracketed(), "2001:db8::10");
        assert_eq!(u.port, Some(5070));
        let u = Uri::parse("tel:+1-201-555-0123;phone-context=example.com").unwrap();
        assert_eq!(u.scheme, Scheme::Tel);
        assert_eq!(u.user.as_deref(), Some("+1-201-555-0123"));
        let u = Uri::parse("sip:user;par=u%40example.net@example.com?Subject=hi").unwrap();
        assert_eq!(u.user.as_deref(), Some("user;par=u%40example.net"));
        assert_eq!(u.headers.as_deref(), Some("Subject=hi"));
        assert_eq!(
            u.to_string(),
            "sip:user;par=u%40example.net@example.com?Subject=hi"
        );
        assert!(Uri::parse("sip:a@[::1").is_err());
        assert!(Uri::parse("sip:a@host:99999").is_err());
        assert!(Uri::parse("nocolon").is_err());
        assert_eq!(unescape("sip%3Auser"), "sip:user");
    }

    fn eq(a: &str, b: &str) -> bool {
        match (Uri::parse(a), Uri::parse(b)) {
            (Ok(a), Ok(b)) => a.equivalent(&b) && b.equivalent(&a),
            (a, b) => panic!("{a:?} {b:?}"),
        }
    }

    #[test]
    fn equivalence_follows_rfc3261_19_1_4() {
        // The RFC's equivalent pairs.
        assert!(eq(
            "sip:%61lice@atlanta.com;transport=TCP",
            "sip:alice@AtLanTa.CoM;Transport=tcp"
        ));
        assert!(eq(
            "sip:carol@chicago.com",
            "sip:carol@chicago.com;newparam=5"
        ));
        assert!(eq(
            "sip:carol@chicago.com;security=on",
            "sip:carol@chicago.com;newparam=5"
        ));
        assert!(eq(
            "sip:biloxi.com;transport=tcp;method=REGISTER?to=sip:bob%40biloxi.com",
            "sip:biloxi.com;method=REGISTER;transport=tcp?to=sip:bob%40biloxi.com"
        ));
        assert!(eq(
            "sip:alice@atlanta.com?subject=project%20x&priority=urgent",
            "sip:alice@atlanta.com?priority=urgent&subject=project%20x"
        ));
        // The RFC's different pairs.
        assert!(!eq(
            "SIP:ALICE@AtLanTa.CoM;Transport=udp",
            "sip:alice@AtLanTa.CoM;Transport=UDP"
        ));
        assert!(!eq("sip:bob@biloxi.com", "sip:bob@biloxi.com:5060"));
        assert!(!eq(
            "sip:bob@biloxi.com",
            "sip:bob@biloxi.com;transport=udp"
        ));
        assert!(!eq(
            "sip:bob@biloxi.com",
            "sip:bob@biloxi.com:6000;transport=tcp"
        ));
        assert!(!eq(
            "sip:carol@chicago.com",
            "sip:carol@chicago.com?Subject=next%20meeting"
        ));
        assert!(!eq("sip:bob@phone21.boxesbybob.com", "sip:bob@192.0.2.4"));
        assert!(!eq(
            "sip:carol@chicago.com;security=on",
            "sip:carol@chicago.com;security=off"
        ));
        // And what binding credentials to a Request-URI needs: another user differs.
        assert!(!eq("sip:1002@cc.example.com", "sip:1003@cc.example.com"));
        assert!(!eq("sip:1002@cc.example.com", "sips:1002@cc.example.com"));
        assert!(eq("tel:+15551234", "tel:+15551234"));
        assert!(!eq("tel:+15551234", "tel:+15551235"));
    }
}
