//! Bytes to messages and back. Datagrams are parsed whole; streams are framed by
//! Content-Length (RFC 3261 §18.3). The parser accepts what RFC 3261 allows even where
//! common stacks do not: bare-LF line ends, folded headers, compact header names, any case
//! in header names, and leading CRLF keep-alives.

use crate::header::{is_token_char, split_outside_quotes};
use crate::message::{canonical_name, Header, Headers, Message, Method, Request, Response};
use crate::uri::Uri;
use thiserror::Error;

/// Largest header section we accept; bigger messages are answered 513 or dropped.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;
/// Largest body we accept on a stream.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum WireError {
    #[error("keep-alive")]
    KeepAlive,
    #[error("incomplete message: {0}")]
    Incomplete(&'static str),
    #[error("bad start line: {0}")]
    StartLine(String),
    #[error("unsupported SIP version {0:?}")]
    Version(String),
    #[error("bad header line: {0}")]
    HeaderLine(String),
    #[error("header section is not UTF-8")]
    NotUtf8,
    #[error("bad Content-Length: {0}")]
    ContentLength(String),
    #[error("body shorter than Content-Length ({have} < {want})")]
    ShortBody { have: usize, want: usize },
    /// The header section is over [`MAX_HEADER_BYTES`].
    #[error("header section over {MAX_HEADER_BYTES} bytes")]
    HeadTooLarge,
    /// A stream message's Content-Length is over [`MAX_BODY_BYTES`].
    #[error("body over {MAX_BODY_BYTES} bytes")]
    BodyTooLarge,
}

impl WireError {
    /// The status a server answers a request with, when it can answer at all.
    pub fn status(&self) -> Option<(u16, &'static str)> {
        match self {
            WireError::KeepAlive | WireError::Incomplete(_) => None,
            WireError::Version(_) => Some((505, "Version Not Supported")),
            // RFC 3261 §21.5.14, with the limit in the reason so the sender knows what to cut.
            WireError::HeadTooLarge => Some((513, "Header Section Over 65536 Bytes")),
            WireError::BodyTooLarge => Some((513, "Body Over 1048576 Bytes")),
            WireError::ShortBody { .. } => Some((400, "Content-Length Larger Than Body")),
            WireError::ContentLength(_) => Some((400, "Bad Content-Length")),
            WireError::StartLine(_) => Some((400, "Bad Request-Line")),
            WireError::HeaderLine(_) | WireError::NotUtf8 => Some((400, "Bad Header")),
        }
    }
}

/// Where the header section ends: index of the first body byte, accepting CRLFCRLF, LFLF
/// and mixed forms.
fn header_end(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(off) = b[i..].iter().position(|&c| c == b'\n') {
        let nl = i + off;
        let next = nl + 1;
        if b.get(next) == Some(&b'\n') {
            return Some(next + 1);
        }
        if b.get(next) == Some(&b'\r') && b.get(next + 1) == Some(&b'\n') {
            return Some(next + 2);
        }
        i = next;
    }
    None
}

fn skip_leading_crlf(b: &[u8]) -> usize {
    b.iter().take_while(|&&c| c == b'\r' || c == b'\n').count()
}

/// Parse one datagram. Bytes past Content-Length are ignored (RFC 3261 §18.3); a body
/// shorter than Content-Length is an error the server answers with 400.
pub fn parse_datagram(data: &[u8]) -> Result<Message, WireError> {
    let start = skip_leading_crlf(data);
    let data = &data[start..];
    if data.iter().all(|c| c.is_ascii_whitespace()) {
        return Err(WireError::KeepAlive);
    }
    let (head_len, body_start) = match header_end(data) {
        Some(e) => (e, e),
        // A datagram whose header section runs to its end has no body.
        None => (data.len(), data.len()),
    };
    if head_len > MAX_HEADER_BYTES {
        return Err(WireError::HeadTooLarge);
    }
    let (start_line, headers) = parse_head(&data[..head_len])?;
    let rest = &data[body_start..];
    let body = match content_length(&headers)? {
        Some(n) if n > rest.len() => {
            return Err(WireError::ShortBody {
                have: rest.len(),
                want: n,
            })
        }
        Some(n) => rest[..n].to_vec(),
        None => rest.to_vec(),
    };
    build(start_line, headers, body)
}

fn content_length(headers: &Headers) -> Result<Option<usize>, WireError> {
    let mut found: Option<usize> = None;
    for v in headers.get_all("Content-Length") {
        let v = v.trim();
        if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
            return Err(WireError::ContentLength(v.to_string()));
        }
        let n: usize = v
            .parse()
            .map_err(|_| WireError::ContentLength(v.to_string()))?;
        if found.is_some_and(|f| f != n) {
            return Err(WireError::ContentLength("conflicting values".into()));
        }
        found = Some(n);
    }
    Ok(found)
}

enum StartLine {
    Request(Method, Uri),
    Response(u16, String),
}

fn parse_head(head: &[u8]) -> Result<(StartLine, Headers), WireError> {
    let text = std::str::from_utf8(head).map_err(|_| WireError::NotUtf8)?;
    let mut lines = text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l));
    let first = lines.next().ok_or(WireError::Incomplete("no start line"))?;
    let start = parse_start_line(first)?;
    let mut headers = Headers::new();
    let mut current: Option<(String, String)> = None;
    for line in lines {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            // Folded continuation: replace the line break and leading white space with one SP.
            match current.as_mut() {
                Some((_, v)) => {
                    let more = line.trim_matches([' ', '\t']);
                    if !more.is_empty() {
                        if !v.is_empty() {
                            v.push(' ');
                        }
                        v.push_str(more);
                    }
                }
                None => {
                    return Err(WireError::HeaderLine(
                        "continuation before any header".into(),
                    ))
                }
            }
            continue;
        }
        if let Some((n, v)) = current.take() {
            push_header(&mut headers, n, v)?;
        }
        let colon = line
            .find(':')
            .ok_or_else(|| WireError::HeaderLine(format!("no colon in {line:?}")))?;
        let name = line[..colon].trim_end_matches([' ', '\t']);
        if name.is_empty() || !name.bytes().all(is_token_char) {
            return Err(WireError::HeaderLine(format!("bad header name {name:?}")));
        }
        current = Some((
            canonical_name(name).into_owned(),
            // LWS is SP and HTAB only (RFC 3261 §25.1): other white space is value.
            line[colon + 1..].trim_matches([' ', '\t']).to_string(),
        ));
    }
    if let Some((n, v)) = current.take() {
        push_header(&mut headers, n, v)?;
    }
    Ok((start, headers))
}

/// Headers whose comma-separated values are split into one entry each, so Via and Route
/// manipulation works per hop (RFC 3261 §7.3.1 makes the two forms equivalent).
fn is_list_header(name: &str) -> bool {
    matches!(name, "Via" | "Route" | "Record-Route" | "Contact")
}

fn push_header(headers: &mut Headers, name: String, value: String) -> Result<(), WireError> {
    if is_list_header(&name) && value.contains(',') {
        for part in split_outside_quotes(&value, b',') {
            let part = part.trim_matches([' ', '\t']);
            if part.is_empty() {
                return Err(WireError::HeaderLine(format!("empty element in {name}")));
            }
            headers.0.push(Header {
                name: name.clone(),
                value: part.to_string(),
            });
        }
    } else {
        headers.0.push(Header { name, value });
    }
    Ok(())
}

fn parse_start_line(line: &str) -> Result<StartLine, WireError> {
    if let Some(rest) = line.strip_prefix("SIP/") {
        // Status-Line = SIP-Version SP Status-Code SP Reason-Phrase
        let (version, rest) = rest
            .split_once(' ')
            .ok_or_else(|| WireError::StartLine(line.to_string()))?;
        if version != "2.0" {
            return Err(WireError::Version(format!("SIP/{version}")));
        }
        let (code, reason) = match rest.split_once(' ') {
            Some((c, r)) => (c, r),
            None => (rest, ""),
        };
        if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(WireError::StartLine(format!("bad status code {code:?}")));
        }
        let code: u16 = code
            .parse()
            .map_err(|_| WireError::StartLine(line.to_string()))?;
        if !(100..=699).contains(&code) {
            return Err(WireError::StartLine(format!("status {code} out of range")));
        }
        return Ok(StartLine::Response(code, reason.to_string()));
    }
    // Request-Line = Method SP Request-URI SP SIP-Version, single spaces only.
    let mut parts = line.split(' ');
    let (Some(m), Some(u), Some(v), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(WireError::StartLine(format!(
            "malformed request line {line:?}"
        )));
    };
    if m.is_empty() || !m.bytes().all(is_token_char) {
        return Err(WireError::StartLine(format!("bad method {m:?}")));
    }
    if !v.starts_with("SIP/") {
        return Err(WireError::StartLine(format!("bad version {v:?}")));
    }
    if v != "SIP/2.0" {
        return Err(WireError::Version(v.to_string()));
    }
    let uri = Uri::parse(u).map_err(|e| WireError::StartLine(e.to_string()))?;
    Ok(StartLine::Request(Method::from_token(m), uri))
}

fn build(start: StartLine, headers: Headers, body: Vec<u8>) -> Result<Message, WireError> {
    Ok(match start {
        StartLine::Request(method, uri) => Message::Request(Request {
            method,
            uri,
            headers,
            body,
        }),
        StartLine::Response(code, reason) => Message::Response(Response {
            code,
            reason,
            headers,
            body,
        }),
    })
}

/// Frames messages out of a byte stream (TCP, TLS). Feed bytes with [`Framer::push`], then
/// take complete messages with [`Framer::next_message`] until it returns `None`.
#[derive(Default, Debug)]
pub struct Framer {
    buf: Vec<u8>,
    /// The bytes of the message that failed to frame, kept so the caller can answer it
    /// (see [`Framer::take_failed`]).
    failed: Vec<u8>,
}

impl Framer {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, data: &[u8]) {
        self.buf.extend_from_slice(data);
    }

    /// Bytes held waiting for the rest of a message.
    pub fn buffered(&self) -> usize {
        self.buf.len()
    }

    /// The bytes of the message the last error was about (at most what was buffered), for
    /// [`crate::validate::reject_unparseable`]; empty after the first call.
    pub fn take_failed(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.failed)
    }

    /// Drops what is buffered, keeping it as the failed message, and returns `err`.
    fn fail(&mut self, err: WireError) -> Option<Result<Message, WireError>> {
        self.failed = std::mem::take(&mut self.buf);
        Some(Err(err))
    }

    /// The next complete message, `None` when more bytes are needed. An error means the
    /// stream cannot be resynchronised and should be closed, after answering what
    /// [`Framer::take_failed`] returns where possible.
    pub fn next_message(&mut self) -> Option<Result<Message, WireError>> {
        let skip = skip_leading_crlf(&self.buf);
        if skip > 0 {
            self.buf.drain(..skip);
        }
        if self.buf.is_empty() {
            return None;
        }
        let Some(head_len) = header_end(&self.buf) else {
            if self.buf.len() > MAX_HEADER_BYTES {
                return self.fail(WireError::HeadTooLarge);
            }
            return None;
        };
        if head_len > MAX_HEADER_BYTES {
            // The same limit whether the header section arrived in one read or many.
            return self.fail(WireError::HeadTooLarge);
        }
        let parsed = parse_head(&self.buf[..head_len]);
        let (start, headers) = match parsed {
            Ok(p) => p,
            Err(e) => return self.fail(e),
        };
        // On a stream Content-Length is mandatory (RFC 3261 §18.3); absent means no body.
        let len = match content_length(&headers) {
            Ok(n) => n.unwrap_or(0),
            Err(e) => return self.fail(e),
        };
        if len > MAX_BODY_BYTES {
            return self.fail(WireError::BodyTooLarge);
        }
        if self.buf.len() < head_len + len {
            return None;
        }
        let body = self.buf[head_len..head_len + len].to_vec();
        self.buf.drain(..head_len + len);
        Some(build(start, headers, body))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INVITE: &str = "INVITE sip:bob@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds\r\n\
Max-Forwards: 70\r\n\
To: Bob <sip:bob@example.com>\r\n\
From: Alice <sip:alice@example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.example.com\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:alice@pc33.example.com>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 4\r\n\r\nv=0\n";

    #[test]
    fn parses_and_prints() {
        let m = parse_datagram(INVITE.as_bytes()).unwrap();
        let Message::Request(r) = &m else { panic!() };
        assert_eq!(r.method, Method::Invite);
        assert_eq!(r.body, b"v=0\n");
        assert_eq!(r.headers.cseq().unwrap().seq, 314159);
        let again = parse_datagram(&m.to_bytes()).unwrap();
        assert_eq!(again, m);
    }

    #[test]
    fn lf_only_folding_and_compact() {
        let msg = "OPTIONS sip:a@b SIP/2.0\nv: SIP/2.0/UDP h;branch=z9hG4bK1\ni: abc\nf: <sip:x@y>;tag=1\nt: <sip:a@b>\nSubject: one\n  two\nl: 0\n\n";
        let m = parse_datagram(msg.as_bytes()).unwrap();
        let h = m.headers();
        assert_eq!(h.call_id(), Some("abc"));
        assert_eq!(h.get("subject"), Some("one two"));
        assert!(h.top_via().is_ok());
    }

    #[test]
    fn short_body_and_version() {
        let msg = INVITE.replace("Content-Length: 4", "Content-Length: 40");
        assert!(matches!(
            parse_datagram(msg.as_bytes()),
            Err(WireError::ShortBody { .. })
        ));
        let msg = INVITE.replace("SIP/2.0\r\nVia", "SIP/7.0\r\nVia");
        assert_eq!(
            parse_datagram(msg.as_bytes())
                .unwrap_err()
                .status()
                .unwrap()
                .0,
            505
        );
    }

    #[test]
    fn framer_handles_partial_and_pipelined() {
        let mut f = Framer::new();
        let two = format!("\r\n{INVITE}{INVITE}");
        let bytes = two.as_bytes();
        f.push(&bytes[..30]);
        assert!(f.next_message().is_none());
        f.push(&bytes[30..]);
        assert!(f.next_message().unwrap().is_ok());
        assert!(f.next_message().unwrap().is_ok());
        assert!(f.next_message().is_none());
        assert_eq!(f.buffered(), 0);
    }
}
