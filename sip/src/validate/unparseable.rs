//! The best-effort answer to a message that did not parse (RFC 3261 §8.2.7 asks for a
//! response where one is possible): the fields an answer needs are recovered from the raw
//! bytes, without the parser that refused them.

use crate::header::{is_token_char, split_outside_quotes};
use crate::message::canonical_name;
use crate::wire::{WireError, MAX_HEADER_BYTES};

/// A best-effort answer to a datagram that did not parse as a request: a status line from
/// `err` (400 when it has none) and the Via, From, To, Call-ID and CSeq lines copied as text
/// (compact names accepted, continuation lines unfolded), with a To tag derived from the
/// request so that a retransmission gets the same answer (RFC 3261 §8.2.7).
///
/// `None` when no answer is possible or allowed: a keep-alive, a response, an ACK, or a
/// message from which those five headers cannot be recovered (the caller drops and counts
/// it).
pub fn reject_unparseable(data: &[u8], err: &WireError) -> Option<Vec<u8>> {
    if matches!(err, WireError::KeepAlive) {
        return None;
    }
    let (code, reason) = err.status().unwrap_or((400, "Bad Request"));
    let start = data
        .iter()
        .position(|&c| c != b'\r' && c != b'\n')
        .unwrap_or(data.len());
    let data = &data[start..];
    // An oversized header section is answered too, so look past the limit (a datagram is
    // at most 64 KiB; a stream hands over what it buffered) for the fields to copy.
    let data = &data[..data.len().min(2 * MAX_HEADER_BYTES)];
    let mut lines = data
        .split(|&c| c == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let first = lines.next()?;
    if first.starts_with(b"SIP/") {
        return None;
    }
    let method = first.split(|&c| c == b' ').next().unwrap_or_default();
    if method.is_empty() || !method.iter().all(|&b| is_token_char(b)) || method == b"ACK" {
        return None;
    }

    // Unfold the header section into (name, value) pairs.
    let mut fields: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for line in lines {
        if line.is_empty() {
            break;
        }
        if line[0] == b' ' || line[0] == b'\t' {
            let more = trim_lws(line);
            if let Some((_, v)) = fields.last_mut().filter(|_| !more.is_empty()) {
                if !v.is_empty() {
                    v.push(b' ');
                }
                v.extend_from_slice(more);
            }
            continue;
        }
        let Some(colon) = line.iter().position(|&c| c == b':') else {
            // A broken line: skip it, the headers we need may still be there.
            fields.push((Vec::new(), Vec::new()));
            continue;
        };
        fields.push((
            trim_lws(&line[..colon]).to_vec(),
            trim_lws(&line[colon + 1..]).to_vec(),
        ));
    }

    let mut vias: Vec<&[u8]> = Vec::new();
    let (mut from, mut to, mut call_id, mut cseq) = (None, None, None, None);
    for (name, value) in &fields {
        // Values are copied verbatim, so only UTF-8 ones: the answer must parse.
        if name.is_empty()
            || !name.iter().all(|&b| is_token_char(b))
            || value.is_empty()
            || std::str::from_utf8(value).is_err()
        {
            continue;
        }
        let Ok(name) = std::str::from_utf8(name) else {
            continue;
        };
        let slot = match &*canonical_name(name) {
            "Via" => {
                // One line per via-parm, without the empty or parameter-only elements a
                // broken Via may hold (RFC 4475 §3.1.2.1), so the answer parses.
                let text = std::str::from_utf8(value).unwrap_or_default();
                for part in split_outside_quotes(text, b',') {
                    let part = part.trim_matches([' ', '\t']);
                    if !part.is_empty() && !part.starts_with(';') {
                        vias.push(part.as_bytes());
                    }
                }
                continue;
            }
            "From" => &mut from,
            "To" => &mut to,
            "Call-ID" => &mut call_id,
            "CSeq" => &mut cseq,
            _ => continue,
        };
        slot.get_or_insert(value.as_slice());
    }
    let (Some(from), Some(to), Some(call_id), Some(cseq)) = (from, to, call_id, cseq) else {
        return None;
    };
    if vias.is_empty() {
        return None;
    }
    if cseq
        .split(|&c| c == b' ' || c == b'\t')
        .filter(|w| !w.is_empty())
        .nth(1)
        == Some(b"ACK")
    {
        return None;
    }

    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(format!("SIP/2.0 {code} {reason}\r\n").as_bytes());
    for v in &vias {
        push_field(&mut out, "Via", v);
    }
    push_field(&mut out, "From", from);
    out.extend_from_slice(b"To: ");
    out.extend_from_slice(to);
    if !has_tag_param(to) {
        let mut hash = Fnv::new();
        for part in [call_id, cseq, from, vias[0]] {
            hash.write(part);
            hash.write(&[0]);
        }
        out.extend_from_slice(format!(";tag={:016x}", hash.0).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    push_field(&mut out, "Call-ID", call_id);
    push_field(&mut out, "CSeq", cseq);
    out.extend_from_slice(b"Content-Length: 0\r\n\r\n");
    Some(out)
}

fn push_field(out: &mut Vec<u8>, name: &str, value: &[u8]) {
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

fn trim_lws(mut b: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = b {
        b = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = b {
        b = rest;
    }
    b
}

/// Whether a To/From value has a `tag` header parameter: after the `>` of a name-addr, or
/// after the first `;` of an addr-spec.
fn has_tag_param(value: &[u8]) -> bool {
    let params = match value.iter().rposition(|&c| c == b'>') {
        Some(gt) => &value[gt + 1..],
        None => value,
    };
    let Ok(params) = std::str::from_utf8(params) else {
        // Fall back to a byte search; the value is copied verbatim anyway.
        return params.windows(4).any(|w| w.eq_ignore_ascii_case(b"tag="));
    };
    split_outside_quotes(params, b';').iter().skip(1).any(|p| {
        p.split_once('=')
            .is_some_and(|(n, _)| n.trim_matches([' ', '\t']).eq_ignore_ascii_case("tag"))
    })
}

/// FNV-1a, 64 bit: a stable To tag for a stateless answer.
struct Fnv(u64);

impl Fnv {
    fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= u64::from(b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse_datagram, Message};

    #[test]
    fn unparseable_requests_get_an_answer() {
        let text = "INVITE  sip:bob@example.com SIP/2.0\r\n\
v: SIP/2.0/UDP a;branch=z9hG4bK1\r\n\
Via: SIP/2.0/UDP b;branch=z9hG4bK2\r\n\
f: <sip:a@b>;tag=1\r\n\
t: <sip:b@c>\r\n\
i: abc\r\n\
CSeq:\r\n 1 INVITE\r\n\r\n";
        let err = parse_datagram(text.as_bytes()).unwrap_err();
        let resp = reject_unparseable(text.as_bytes(), &err).unwrap();
        let Message::Response(resp) = parse_datagram(&resp).unwrap() else {
            panic!("not a response")
        };
        assert_eq!(resp.code, 400);
        assert_eq!(resp.headers.vias().unwrap().len(), 2);
        assert!(resp.headers.to().unwrap().tag().is_some());
        assert_eq!(resp.headers.get("CSeq"), Some("1 INVITE"));
        assert_eq!(resp.headers.call_id(), Some("abc"));
        // Same request, same tag.
        assert_eq!(
            reject_unparseable(text.as_bytes(), &err),
            reject_unparseable(text.as_bytes(), &err)
        );
        // No answer to responses, ACKs, keep-alives, or without the headers.
        let ack = text
            .replace("INVITE  sip", "ACK  sip")
            .replace("1 INVITE", "1 ACK");
        assert_eq!(reject_unparseable(ack.as_bytes(), &err), None);
        assert_eq!(reject_unparseable(b"SIP/2.0 999 x\r\n\r\n", &err), None);
        assert_eq!(reject_unparseable(b"\r\n\r\n", &WireError::KeepAlive), None);
        let no_call_id = text.replace("i: abc\r\n", "");
        assert_eq!(reject_unparseable(no_call_id.as_bytes(), &err), None);
        // A To with a tag keeps it.
        let tagged = text.replace("t: <sip:b@c>", "t: <sip:b@c> ; tag = 9");
        let resp = reject_unparseable(tagged.as_bytes(), &err).unwrap();
        let resp = String::from_utf8(resp).unwrap();
        assert!(resp.contains("To: <sip:b@c> ; tag = 9\r\n"), "{resp}");
    }
}
