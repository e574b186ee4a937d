//! Reading an SDP body into a [`SessionDescription`].

use std::net::IpAddr;

use super::{
    lines, split_attribute, split_line, Direction, MediaDescription, SdpError, SessionDescription,
};

/// Parses an SDP body (CRLF or LF line ends).
///
/// Requires `v=0` first, and well-formed `o=`, `c=`, `m=` and `a=rtcp:` lines; other lines and
/// attributes are accepted without inspection. Session-level `c=` and direction apply to every
/// `m=` section that does not override them.
pub fn parse(body: &str) -> Result<SessionDescription, SdpError> {
    let mut lines = lines(body);
    let (first_no, first) = lines.next().ok_or(SdpError::Empty)?;
    match split_line(first_no, first)? {
        (b'v', "0") => {}
        _ => return Err(SdpError::MissingVersion),
    }

    let mut session = Scope::default();
    let mut origin_address = None;
    let mut media: Vec<(MediaLine, Scope)> = Vec::new();

    for (line_no, line) in lines {
        let (kind, value) = split_line(line_no, line)?;
        match kind {
            b'v' => {
                return Err(SdpError::Invalid {
                    line: line_no,
                    what: "v= after the first line",
                })
            }
            b'o' if media.is_empty() => origin_address = parse_origin(line_no, value)?,
            b'c' => {
                let ip = parse_connection(line_no, value)?;
                let scope = media.last_mut().map_or(&mut session, |(_, s)| s);
                // Several c= lines only occur for layered multicast; the first one is the one
                // a unicast relay can use.
                scope.connection.get_or_insert(ip);
            }
            b'm' => media.push((parse_media(line_no, value)?, Scope::default())),
            b'a' => {
                let scope = media.last_mut().map_or(&mut session, |(_, s)| s);
                parse_attribute(line_no, value, scope)?;
            }
            _ => {}
        }
    }

    let media = media
        .into_iter()
        .map(|(m, scope)| {
            let connection = scope.connection.or(session.connection);
            let direction_attribute = scope.direction.or(session.direction);
            let mut direction = direction_attribute.unwrap_or(Direction::SendRecv);
            if connection.is_some_and(|ip| ip.is_unspecified()) {
                direction = direction.without_receive();
            }
            MediaDescription {
                media: m.media,
                port: m.port,
                proto: m.proto,
                formats: m.formats,
                connection,
                direction_attribute,
                direction,
                // a=rtcp and a=rtcp-mux are media-level attributes only (RFC 3605, 5761).
                rtcp_port: scope.rtcp_port,
                rtcp_mux: scope.rtcp_mux,
            }
        })
        .collect();

    Ok(SessionDescription {
        origin_address,
        connection: session.connection,
        direction: session.direction,
        media,
    })
}

/// What one level (session, or one `m=` section) says before defaults are applied.
#[derive(Debug, Default)]
struct Scope {
    connection: Option<IpAddr>,
    direction: Option<Direction>,
    rtcp_port: Option<u16>,
    rtcp_mux: bool,
}

/// The fields of an `m=` line.
struct MediaLine {
    media: String,
    port: u16,
    proto: String,
    formats: Vec<String>,
}

/// `o=<username> <sess-id> <sess-version> IN <addrtype> <address>`.
///
/// The address may legitimately be a host name, so only the shape is enforced; the IP is
/// returned when there is one.
fn parse_origin(line: usize, value: &str) -> Result<Option<IpAddr>, SdpError> {
    let invalid = SdpError::Invalid {
        line,
        what: "origin (o=)",
    };
    let fields: Vec<&str> = value.split_whitespace().collect();
    match fields.as_slice() {
        [_, _, _, _, _, address] => Ok(address.parse().ok()),
        _ => Err(invalid),
    }
}

/// `c=IN IP4 <address>[/ttl[/count]]` or `c=IN IP6 <address>[/count]`.
pub(super) fn parse_connection(line: usize, value: &str) -> Result<IpAddr, SdpError> {
    let invalid = SdpError::Invalid {
        line,
        what: "connection (c=)",
    };
    let mut fields = value.split_whitespace();
    let (Some(net), Some(addr_type), Some(address), None) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err(invalid);
    };
    if !net.eq_ignore_ascii_case("IN") {
        return Err(invalid);
    }
    let want_v6 = if addr_type.eq_ignore_ascii_case("IP4") {
        false
    } else if addr_type.eq_ignore_ascii_case("IP6") {
        true
    } else {
        return Err(invalid);
    };
    // Multicast TTL / address count follow a '/'; a unicast relay ignores them.
    let literal = address.split('/').next().unwrap_or(address);
    match literal.parse::<IpAddr>() {
        Ok(ip) if ip.is_ipv6() == want_v6 => Ok(ip),
        _ => Err(SdpError::UnsupportedAddress { line }),
    }
}

/// `m=<media> <port>[/<count>] <proto> <fmt> ...`.
fn parse_media(line: usize, value: &str) -> Result<MediaLine, SdpError> {
    let invalid = SdpError::Invalid {
        line,
        what: "media (m=)",
    };
    let mut fields = value.split_whitespace();
    let (Some(media), Some(port), Some(proto)) = (fields.next(), fields.next(), fields.next())
    else {
        return Err(invalid);
    };
    let port = match port.split_once('/') {
        Some((port, count)) => {
            count.parse::<u16>().map_err(|_| invalid.clone())?;
            port
        }
        None => port,
    };
    let port = port.parse::<u16>().map_err(|_| invalid)?;
    Ok(MediaLine {
        media: media.to_owned(),
        port,
        proto: proto.to_owned(),
        formats: fields.map(str::to_owned).collect(),
    })
}

/// Records the attributes the relay cares about into `scope`.
fn parse_attribute(line: usize, value: &str, scope: &mut Scope) -> Result<(), SdpError> {
    let (name, rest) = split_attribute(value);
    if let Some(direction) = Direction::from_attribute(name) {
        scope.direction = Some(direction);
    } else if name == "rtcp" {
        // a=rtcp:<port> [IN IP4 <address>]; only the port is used.
        let port = rest
            .and_then(|r| r.split_whitespace().next())
            .and_then(|p| p.parse::<u16>().ok())
            .ok_or(SdpError::Invalid {
                line,
                what: "rtcp attribute (a=rtcp:)",
            })?;
        scope.rtcp_port = Some(port);
    } else if name == "rtcp-mux" {
        scope.rtcp_mux = true;
    }
    Ok(())
}
