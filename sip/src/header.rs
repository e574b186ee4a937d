//! Typed views of the header values the transaction and dialog layers read: Via, From/To/
//! Contact/Route (name-addr), CSeq, and helpers for parameters, quoted strings and lists.

use crate::message::Method;
use crate::uri::{parse_hostport, Uri};
use crate::HeaderError;
use std::fmt;

/// One Via entry (RFC 3261 §20.42).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Via {
    /// Upper-case transport token (`UDP`, `TCP`, `TLS`, `WS`, ...).
    pub transport: String,
    pub host: String,
    pub port: Option<u16>,
    pub params: Vec<(String, Option<String>)>,
}

impl Via {
    pub fn parse(value: &str) -> Result<Via, HeaderError> {
        let v = value.trim();
        // sent-protocol = name SLASH version SLASH transport, SLASH may carry whitespace.
        let mut rest = v;
        let mut parts = Vec::with_capacity(3);
        for i in 0..3 {
            let end = if i < 2 {
                rest.find('/')
                    .ok_or_else(|| HeaderError::Via(format!("bad sent-protocol in {v:?}")))?
            } else {
                let t = rest.trim_start();
                let off = rest.len() - t.len();
                off + t
                    .find(|c: char| c.is_ascii_whitespace())
                    .ok_or_else(|| HeaderError::Via(format!("no sent-by in {v:?}")))?
            };
            parts.push(rest[..end].trim());
            rest = if i < 2 {
                &rest[end + 1..]
            } else {
                &rest[end..]
            };
        }
        if !parts[0].eq_ignore_ascii_case("SIP") || parts[1] != "2.0" {
            return Err(HeaderError::Via(format!("unsupported protocol in {v:?}")));
        }
        if parts[2].is_empty() || !parts[2].bytes().all(is_token_char) {
            return Err(HeaderError::Via(format!("bad transport in {v:?}")));
        }
        let rest = rest.trim_start();
        let (sent_by, params) = match rest.find(';') {
            Some(i) => (rest[..i].trim(), &rest[i + 1..]),
            None => (rest.trim(), ""),
        };
        // LWS is allowed around the ':' of sent-by.
        let sent_by: String = sent_by.split_whitespace().collect();
        let (host, port) = parse_hostport(&sent_by).map_err(|e| HeaderError::Via(e.to_string()))?;
        let params = split_params(params)?;
        Ok(Via {
            transport: parts[2].to_ascii_uppercase(),
            host,
            port,
            params,
        })
    }

    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }

    pub fn branch(&self) -> Option<&str> {
        self.param("branch").flatten()
    }

    pub fn set_param(&mut self, name: &str, value: Option<String>) {
        if let Some(p) = self
            .params
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            p.1 = value;
        } else {
            self.params.push((name.to_string(), value));
        }
    }
}

impl fmt::Display for Via {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SIP/2.0/{} {}", self.transport, self.host)?;
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        write_params(f, &self.params)
    }
}

/// A name-addr or addr-spec with header parameters: From, To, Contact, Route, Record-Route,
/// Refer-To.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NameAddr {
    /// Display name without quotes or escapes.
    pub display: Option<String>,
    pub uri: Uri,
    pub params: Vec<(String, Option<String>)>,
}

impl NameAddr {
    pub fn new(uri: Uri) -> Self {
        NameAddr {
            display: None,
            uri,
            params: Vec::new(),
        }
    }

    pub fn parse(value: &str) -> Result<NameAddr, HeaderError> {
        let v = value.trim();
        let (display, rest) = if let Some(q) = v.strip_prefix('"') {
            let (text, used) = unquote(q)?;
            (Some(text), q[used..].trim_start())
        } else {
            (None, v)
        };
        if let Some(lt) = rest.find('<') {
            let disp = if display.is_some() {
                if !rest[..lt].trim().is_empty() {
                    return Err(HeaderError::NameAddr(format!("junk before '<' in {v:?}")));
                }
                display
            } else {
                let d = rest[..lt].trim();
                if !d.is_empty() && !d.split_whitespace().all(|w| w.bytes().all(is_token_char)) {
                    return Err(HeaderError::NameAddr(format!("bad display name in {v:?}")));
                }
                (!d.is_empty()).then(|| d.split_whitespace().collect::<Vec<_>>().join(" "))
            };
            let gt = rest[lt..]
                .find('>')
                .map(|i| lt + i)
                .ok_or_else(|| HeaderError::NameAddr(format!("unclosed '<' in {v:?}")))?;
            // LAQUOT = SWS "<" and RAQUOT = ">" SWS: no white space inside the brackets
            // (RFC 3261 §25.1; RFC 4475 §3.1.2.14).
            let inner = &rest[lt + 1..gt];
            if inner.starts_with(char::is_whitespace) || inner.ends_with(char::is_whitespace) {
                return Err(HeaderError::NameAddr(format!(
                    "white space inside <> in {v:?}"
                )));
            }
            let uri = Uri::parse(inner)?;
            let after = rest[gt + 1..].trim_start();
            let params = match after.strip_prefix(';') {
                Some(p) => split_params(p)?,
                None if after.is_empty() => Vec::new(),
                None => {
                    return Err(HeaderError::NameAddr(format!("junk after '>' in {v:?}")));
                }
            };
            Ok(NameAddr {
                display: disp,
                uri,
                params,
            })
        } else {
            if display.is_some() {
                return Err(HeaderError::NameAddr(format!(
                    "quoted name without <uri> in {v:?}"
                )));
            }
            // addr-spec: parameters after the URI belong to the header (RFC 3261 §20.10).
            // SEMI = SWS ";" SWS, so white space may precede the first parameter.
            let (uri, params) = match rest.find(';') {
                Some(i) => (
                    rest[..i].trim_end_matches([' ', '\t']),
                    split_params(&rest[i + 1..])?,
                ),
                None => (rest, Vec::new()),
            };
            if uri.contains(char::is_whitespace) {
                return Err(HeaderError::NameAddr(format!("whitespace in URI {v:?}")));
            }
            // RFC 3261 §20: a URI holding a comma, question mark or semicolon MUST be
            // enclosed in <> (RFC 4475 §3.1.2.13).
            if uri.contains([',', '?']) {
                return Err(HeaderError::NameAddr(format!(
                    "URI with ',' or '?' not in <> in {v:?}"
                )));
            }
            Ok(NameAddr {
                display: None,
                uri: Uri::parse(uri)?,
                params,
            })
        }
    }

    pub fn param(&self, name: &str) -> Option<Option<&str>> {
        self.params
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }

    pub fn tag(&self) -> Option<&str> {
        self.param("tag").flatten()
    }

    pub fn set_param(&mut self, name: &str, value: Option<String>) {
        if let Some(p) = self
            .params
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            p.1 = value;
        } else {
            self.params.push((name.to_string(), value));
        }
    }
}

impl fmt::Display for NameAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(d) = &self.display {
            f.write_str("\"")?;
            for c in d.chars() {
                if c == '"' || c == '\\' {
                    f.write_str("\\")?;
                }
                write!(f, "{c}")?;
            }
            f.write_str("\" ")?;
        }
        write!(f, "<{}>", self.uri)?;
        write_params(f, &self.params)
    }
}

/// CSeq: sequence number and method (RFC 3261 §20.16). The number is below 2**31.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CSeq {
    pub seq: u32,
    pub method: Method,
}

impl CSeq {
    pub fn parse(value: &str) -> Result<CSeq, HeaderError> {
        let mut it = value.split_whitespace();
        let (Some(n), Some(m), None) = (it.next(), it.next(), it.next()) else {
            return Err(HeaderError::CSeq(format!(
                "expected 'number METHOD', got {value:?}"
            )));
        };
        let seq: u32 = n
            .parse()
            .ok()
            .filter(|n| *n < (1u32 << 31))
            .ok_or_else(|| HeaderError::CSeq(format!("bad sequence number {n:?}")))?;
        if !m.bytes().all(is_token_char) {
            return Err(HeaderError::CSeq(format!("bad method {m:?}")));
        }
        Ok(CSeq {
            seq,
            method: Method::from_token(m),
        })
    }
}

impl fmt::Display for CSeq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.seq, self.method)
    }
}

/// RFC 3261 token characters.
pub fn is_token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

/// Decode a quoted string body starting just after the opening quote. Returns the text and
/// how many bytes of `s` were used including the closing quote.
pub fn unquote(s: &str) -> Result<(String, usize), HeaderError> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, i + 1)),
            '\\' => match chars.next() {
                Some((_, e)) if (e as u32) <= 0x7f && e != '\n' && e != '\r' => out.push(e),
                _ => return Err(HeaderError::Quoted("bad escape in quoted string".into())),
            },
            c => out.push(c),
        }
    }
    Err(HeaderError::Quoted("unterminated quoted string".into()))
}

/// Split `a=b;c;d="x;y"` into pairs, honouring quoted values. Names must be tokens.
pub fn split_params(s: &str) -> Result<Vec<(String, Option<String>)>, HeaderError> {
    let mut out = Vec::new();
    for part in split_outside_quotes(s, b';') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (name, value) = match part.find('=') {
            Some(i) => (part[..i].trim(), Some(part[i + 1..].trim().to_string())),
            None => (part, None),
        };
        if name.is_empty() || !name.bytes().all(is_token_char) {
            return Err(HeaderError::Param(format!("bad parameter name {name:?}")));
        }
        if let Some(v) = &value {
            if v.is_empty() {
                return Err(HeaderError::Param(format!("empty value for {name:?}")));
            }
            if let Some(q) = v.strip_prefix('"') {
                let (_, used) = unquote(q)?;
                if used != q.len() {
                    return Err(HeaderError::Param(format!("junk after quoted {name:?}")));
                }
            } else if v.contains(char::is_whitespace) {
                // LWS inside an unquoted value is not allowed; around '=' it was trimmed.
                return Err(HeaderError::Param(format!(
                    "whitespace in value of {name:?}"
                )));
            }
        }
        out.push((name.to_string(), value));
    }
    Ok(out)
}

/// Split on `sep` where it is outside quotes and outside `<...>`.
pub fn split_outside_quotes(s: &str, sep: u8) -> Vec<&str> {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let (mut start, mut quoted, mut angle, mut i) = (0, false, false, 0);
    while i < b.len() {
        let c = b[i];
        if quoted {
            if c == b'\\' {
                i += 1;
            } else if c == b'"' {
                quoted = false;
            }
        } else if c == b'"' {
            quoted = true;
        } else if c == b'<' {
            angle = true;
        } else if c == b'>' {
            angle = false;
        } else if c == sep && !angle {
            out.push(&s[start..i]);
            start = i + 1;
        }
        i += 1;
    }
    out.push(&s[start..]);
    out
}

/// Whether a header value (name-addr with params) carries parameter `name`.
pub fn has_param(value: &str, name: &str) -> bool {
    NameAddr::parse(value)
        .map(|na| na.param(name).is_some())
        .unwrap_or(false)
}

pub fn parse_u32(value: &str, header: &'static str) -> Result<u32, HeaderError> {
    let v = value.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(HeaderError::Number(header, v.to_string()));
    }
    v.parse()
        .map_err(|_| HeaderError::Number(header, v.to_string()))
}

fn write_params(f: &mut fmt::Formatter<'_>, params: &[(String, Option<String>)]) -> fmt::Result {
    for (n, v) in params {
        match v {
            Some(v) => write!(f, ";{n}={v}")?,
            None => write!(f, ";{n}")?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn via_forms() {
        let v = Via::parse("SIP / 2.0 / udp  [::1] : 5070 ;branch=z9hG4bK1;rport").unwrap();
        assert_eq!(v.transport, "UDP");
        assert_eq!(v.host, "[::1]");
        assert_eq!(v.port, Some(5070));
        assert_eq!(v.branch(), Some("z9hG4bK1"));
        assert_eq!(v.param("rport"), Some(None));
        assert!(Via::parse("SIP/2.0/UDP").is_err());
        assert!(Via::parse("SIP/3.0/UDP host").is_err());
    }

    #[test]
    fn name_addr_forms() {
        let n = NameAddr::parse(r#""Bob \"B\"" <sip:bob@b.com>;tag=x"#).unwrap();
        assert_eq!(n.display.as_deref(), Some("Bob \"B\""));
        assert_eq!(n.tag(), Some("x"));
        let n = NameAddr::parse("sip:bob@b.com;tag=y").unwrap();
        assert_eq!(n.tag(), Some("y"));
        assert!(n.uri.params.is_empty());
        let n = NameAddr::parse("Bob Smith <sip:bob@b.com;transport=tcp>").unwrap();
        assert_eq!(n.display.as_deref(), Some("Bob Smith"));
        assert_eq!(n.uri.transport().as_deref(), Some("tcp"));
        assert!(NameAddr::parse("\"unterminated <sip:a@b>").is_err());
        assert!(NameAddr::parse("<sip:a@b").is_err());
    }

    #[test]
    fn cseq_forms() {
        assert_eq!(CSeq::parse("  12   INVITE ").unwrap().seq, 12);
        assert!(CSeq::parse("2147483648 INVITE").is_err());
        assert!(CSeq::parse("1").is_err());
        assert!(CSeq::parse("-1 INVITE").is_err());
    }
}
