//! Writing the switch's relay address and ports into an SDP body.

use std::fmt::Write as _;
use std::net::IpAddr;

use super::{is_ice_attribute, lines, parse, split_attribute, split_line, SdpError};

/// Returns `body` as the switch should forward it: media goes to `addr` and `ports`.
///
/// - every `c=` address and the `o=` address become `addr` (`IN IP4` or `IN IP6` by its kind);
///   if no `c=` covers some stream, a session-level one is added;
/// - the i-th `m=` line gets `ports[i]`; a stream with port 0 (rejected) keeps 0, and a stream
///   beyond `ports` gets 0, so an unanchored stream is disabled rather than leaking the
///   endpoint's own address;
/// - `a=rtcp:` becomes `ports[i] + 1` (dropped for a port-0 stream);
/// - ICE attributes (`a=candidate`, `a=ice-*`, `a=end-of-candidates`, `a=remote-candidates`)
///   are removed, since they name addresses behind the relay;
/// - direction attributes are kept, so hold passes through. A stream held the RFC 2543 way
///   (`c=0.0.0.0`) loses that address here, so it gets `a=sendonly` when it had no direction
///   attribute. (If it had one, e.g. `sendrecv`, it is kept as written.)
///
/// Everything else is copied verbatim. Output lines end in CRLF. The body is fully parsed
/// first, so a malformed body is refused rather than half-rewritten.
pub fn rewrite(body: &str, addr: IpAddr, ports: &[u16]) -> Result<String, SdpError> {
    let sd = parse(body)?;
    let addr_type = if addr.is_ipv6() { "IP6" } else { "IP4" };
    // Streams left without any c= need one, or the far end has nowhere to send.
    let mut need_session_connection =
        sd.connection.is_none() && sd.media.iter().any(|m| m.connection.is_none());

    let mut out = String::with_capacity(body.len() + 64);
    // Index of the current m= section (None at session level) and its new port.
    let mut media_index: Option<usize> = None;
    let mut media_port = 0u16;
    // Whether the current m= section must be closed with an a=sendonly (0.0.0.0 hold).
    let mut pending_sendonly = false;

    for (line_no, line) in lines(body) {
        let (kind, value) = split_line(line_no, line)?;

        if need_session_connection && media_index.is_none() && b"btrzkam".contains(&kind) {
            // Session-level c= comes after v o s i u e p and before b t r z k a m.
            push_line(&mut out, format_args!("c=IN {addr_type} {addr}"));
            need_session_connection = false;
        }

        match kind {
            b'o' => {
                let mut fields = value.split_whitespace();
                let (Some(user), Some(id), Some(version)) =
                    (fields.next(), fields.next(), fields.next())
                else {
                    return Err(SdpError::Invalid {
                        line: line_no,
                        what: "origin (o=)",
                    });
                };
                push_line(
                    &mut out,
                    format_args!("o={user} {id} {version} IN {addr_type} {addr}"),
                );
            }
            b'c' => push_line(&mut out, format_args!("c=IN {addr_type} {addr}")),
            b'm' => {
                if pending_sendonly {
                    push_line(&mut out, format_args!("a=sendonly"));
                }
                let index = media_index.map_or(0, |i| i + 1);
                media_index = Some(index);
                let Some(media) = sd.media.get(index) else {
                    // parse() saw the same lines, so this cannot happen; refuse rather than panic.
                    return Err(SdpError::Invalid {
                        line: line_no,
                        what: "media (m=)",
                    });
                };
                media_port = if media.port == 0 {
                    0
                } else {
                    ports.get(index).copied().unwrap_or(0)
                };
                pending_sendonly = media.connection.is_some_and(|ip| ip.is_unspecified())
                    && media.direction_attribute.is_none();
                let mut fields = value.split_whitespace();
                let name = fields.next().unwrap_or_default();
                let _old_port = fields.next();
                out.push_str("m=");
                out.push_str(name);
                let _ = write!(out, " {media_port}");
                for field in fields {
                    out.push(' ');
                    out.push_str(field);
                }
                out.push_str("\r\n");
            }
            b'a' => {
                let (name, _) = split_attribute(value);
                if is_ice_attribute(name) {
                    continue;
                }
                if name == "rtcp" {
                    let rtcp = media_port.checked_add(1);
                    match (media_index, rtcp) {
                        (Some(_), Some(rtcp)) if media_port != 0 => {
                            push_line(&mut out, format_args!("a=rtcp:{rtcp}"));
                        }
                        _ => {}
                    }
                    continue;
                }
                push_line(&mut out, format_args!("{line}"));
            }
            _ => push_line(&mut out, format_args!("{line}")),
        }
    }
    if pending_sendonly {
        push_line(&mut out, format_args!("a=sendonly"));
    }
    if need_session_connection {
        push_line(&mut out, format_args!("c=IN {addr_type} {addr}"));
    }
    Ok(out)
}

/// Appends one formatted line and its CRLF.
fn push_line(out: &mut String, line: std::fmt::Arguments<'_>) {
    // Writing into a String cannot fail.
    let _ = out.write_fmt(line);
    out.push_str("\r\n");
}
