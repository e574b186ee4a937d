//! Line-level SDP (RFC 4566) as a B2BUA needs it for offer/answer (RFC 3264).
//!
//! The switch anchors media, so of a whole session description it needs only a little: where
//! each stream of a leg wants to receive ([`parse`], [`media_endpoints`]), whether the leg put
//! a stream on hold, and a copy of the body with the switch's own address and relay ports
//! written in ([`rewrite`]). Everything else (codecs, fmtp, ptime, ...) is passed through
//! untouched, so the endpoints negotiate codecs end to end and the relay never transcodes.
//! SDES keys (`a=crypto`, [`crypto`]) are the exception: SRTP is terminated per leg, so the
//! call engine replaces them.
//!
//! The parser is strict about the lines it reads (a malformed `c=` or `m=` is an error, since
//! guessing a media address is how audio ends up at the wrong place) and lenient about the
//! rest (unknown lines and attributes are kept, line order is not policed).

pub mod crypto;
mod parse;
#[cfg(test)]
mod parse_tests;
mod rewrite;
#[cfg(test)]
mod rewrite_tests;

use std::net::{IpAddr, SocketAddr};

pub use parse::parse;
pub use rewrite::rewrite;

/// Why a body was refused. Line numbers are 1-based; the offending text itself is not echoed,
/// since it comes from the network and may be arbitrarily long.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    /// The body has no lines at all.
    #[error("empty SDP body")]
    Empty,
    /// The first line is not `v=0`.
    #[error("SDP must start with v=0")]
    MissingVersion,
    /// A line is not `<letter>=<value>`.
    #[error("line {line}: expected <type>=<value>")]
    Malformed {
        /// 1-based line number.
        line: usize,
    },
    /// A line the relay depends on has the wrong shape.
    #[error("line {line}: invalid {what}")]
    Invalid {
        /// 1-based line number.
        line: usize,
        /// Which kind of line or attribute.
        what: &'static str,
    },
    /// A `c=` address is not an IP literal of the stated type (a FQDN, or IP4 with an IPv6
    /// address). The relay cannot send to a name, so this is refused rather than guessed.
    #[error("line {line}: connection address is not an IP literal of the stated address type")]
    UnsupportedAddress {
        /// 1-based line number.
        line: usize,
    },
}

/// Stream direction (RFC 3264 §5.1), from the point of view of whoever wrote the SDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// `a=sendrecv` (the default).
    SendRecv,
    /// `a=sendonly`: the writer will not receive; this is how a party puts the other on hold.
    SendOnly,
    /// `a=recvonly`.
    RecvOnly,
    /// `a=inactive`.
    Inactive,
}

impl Direction {
    /// The direction named by an attribute name (`sendrecv`, ...), if it is one.
    pub fn from_attribute(name: &str) -> Option<Direction> {
        match name {
            "sendrecv" => Some(Direction::SendRecv),
            "sendonly" => Some(Direction::SendOnly),
            "recvonly" => Some(Direction::RecvOnly),
            "inactive" => Some(Direction::Inactive),
            _ => None,
        }
    }

    /// The attribute name, as written after `a=`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// Whether the writer will send media.
    pub fn sends(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::SendOnly)
    }

    /// Whether the writer wants to receive media.
    pub fn receives(self) -> bool {
        matches!(self, Direction::SendRecv | Direction::RecvOnly)
    }

    /// The same stream seen from the other end (what an answer mirrors: sendonly ↔ recvonly).
    pub fn reversed(self) -> Direction {
        match self {
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            other => other,
        }
    }

    /// This direction with receiving switched off: what an RFC 2543 `c=0.0.0.0` hold means,
    /// since nobody can send to that address.
    fn without_receive(self) -> Direction {
        match self {
            Direction::SendRecv | Direction::SendOnly => Direction::SendOnly,
            Direction::RecvOnly | Direction::Inactive => Direction::Inactive,
        }
    }
}

/// A parsed session description: the parts the relay and the call engine act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionDescription {
    /// Address of the `o=` line, when it is an IP literal (it may legitimately be a name).
    pub origin_address: Option<IpAddr>,
    /// The session-level `c=` address, if any.
    pub connection: Option<IpAddr>,
    /// A session-level direction attribute, if any.
    pub direction: Option<Direction>,
    /// The `m=` sections, in order; offer and answer pair them by index.
    pub media: Vec<MediaDescription>,
}

/// One `m=` section, with session-level defaults already applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaDescription {
    /// Media type: `audio`, `video`, `image`, ...
    pub media: String,
    /// RTP port; 0 means the stream is rejected or disabled.
    pub port: u16,
    /// Transport protocol: `RTP/AVP`, `RTP/SAVP`, `udptl`, ...
    pub proto: String,
    /// Format list (payload types for RTP), as written.
    pub formats: Vec<String>,
    /// Effective connection address: the media-level `c=`, else the session-level one.
    pub connection: Option<IpAddr>,
    /// The direction attribute as written, at media level or inherited from session level.
    pub direction_attribute: Option<Direction>,
    /// Effective direction: the attribute (default sendrecv), with receiving switched off when
    /// the connection address is unspecified (`0.0.0.0` / `::`, the RFC 2543 way to hold).
    pub direction: Direction,
    /// Port from `a=rtcp:` (RFC 3605), when present.
    pub rtcp_port: Option<u16>,
    /// Whether `a=rtcp-mux` (RFC 5761) is present.
    pub rtcp_mux: bool,
}

impl MediaDescription {
    /// Whether the writer of this SDP does not want to receive this stream (sendonly or
    /// inactive, by attribute or by a `0.0.0.0` connection): the usual meaning of "on hold".
    pub fn is_hold(&self) -> bool {
        !self.direction.receives()
    }
}

/// The remote RTP address of each `m=` line, in order: `None` for a rejected stream (port 0),
/// a stream with no connection address, or one on hold by `0.0.0.0`.
pub fn media_endpoints(sd: &SessionDescription) -> Vec<Option<SocketAddr>> {
    sd.media
        .iter()
        .map(|m| match m.connection {
            Some(ip) if m.port != 0 && !ip.is_unspecified() => Some(SocketAddr::new(ip, m.port)),
            _ => None,
        })
        .collect()
}

/// The RTP payload type of `telephone-event/8000` (RFC 4733 DTMF) in the first audio
/// stream of an SDP body, if it has one.
pub fn telephone_event(body: &str) -> Option<u8> {
    let mut in_audio = false;
    for (_, line) in lines(body) {
        if let Some(m) = line.strip_prefix("m=") {
            if in_audio {
                return None;
            }
            in_audio = m.starts_with("audio ");
            continue;
        }
        let Some(rest) = line.strip_prefix("a=rtpmap:").filter(|_| in_audio) else {
            continue;
        };
        let (pt, encoding) = rest.split_once(' ')?;
        if encoding
            .trim()
            .to_ascii_lowercase()
            .starts_with("telephone-event/8000")
        {
            return pt.trim().parse().ok().filter(|pt: &u8| *pt < 128);
        }
    }
    None
}

/// Splits a body into numbered lines, accepting CRLF or bare LF, skipping blank lines (a
/// trailing empty line is common, and a stray blank one carries nothing).
fn lines(body: &str) -> impl Iterator<Item = (usize, &str)> {
    body.split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.is_empty())
}

/// Splits `x=value` into its type letter and value.
fn split_line(line_no: usize, line: &str) -> Result<(u8, &str), SdpError> {
    match line.as_bytes() {
        [kind, b'=', ..] if kind.is_ascii_lowercase() => Ok((*kind, &line[2..])),
        _ => Err(SdpError::Malformed { line: line_no }),
    }
}

/// Splits an attribute value (`rtcp:53021 IN IP4 ...`) into name and the text after `:`.
fn split_attribute(value: &str) -> (&str, Option<&str>) {
    match value.split_once(':') {
        Some((name, rest)) => (name, Some(rest)),
        None => (value, None),
    }
}

/// ICE attributes (RFC 8839): they name the endpoint's own addresses, which the relay hides,
/// so they are removed from a rewritten body.
fn is_ice_attribute(name: &str) -> bool {
    name == "candidate"
        || name == "remote-candidates"
        || name == "end-of-candidates"
        || name.starts_with("ice-")
}
