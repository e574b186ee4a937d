//! What a server checks on a request after it parsed and before a transaction user acts on
//! it (RFC 3261 §8.2 for a UAS, §16.3 for a proxy, §10.3 for a registrar), and the
//! best-effort answer to a datagram that did not parse at all.
//!
//! [`validate_request`] runs the checks in the order the RFCs give them, so that a request
//! with several faults gets the answer RFC 4475 expects:
//!
//! 1. mandatory headers present (To, From, Call-ID, CSeq, Via) and single-valued headers not
//!    repeated: 400;
//! 2. those headers parse: 400 `Bad <name> header`;
//! 3. CSeq method equals the request method: 400, or 501 when the request method is an
//!    extension this stack does not know (RFC 4475 §3.1.2.18: the element cannot judge a
//!    method it does not implement);
//! 4. scalars and other syntax a server acts on (Max-Forwards 0..=255, Expires and Contact
//!    `expires` within 2**32-1, Contact, Date in RFC 1123 GMT form, Require tokens, no
//!    headers in the Request-URI, Content-Type with a body, Content-Length equal to the body):
//!    400;
//! 5. REGISTER specifics when [`Policy::registrar`] (SIP/SIPS address-of-record, `*` only
//!    alone and with `Expires: 0`): 400;
//! 6. Request-URI scheme sip, sips or tel: 416 (§8.2.2.1, §16.3 item 2);
//! 7. Max-Forwards 0 when [`Policy::proxy_like`]: 483 (§16.3 item 3);
//! 8. Require (and Proxy-Require when proxy-like) tags outside [`Policy::supported`]: 420
//!    with Unsupported (§8.2.2.3);
//! 9. for the offer/answer methods (INVITE, UPDATE, PRACK), a body in a coding other than
//!    `identity` or of a type outside [`Policy::accept_body`]: 415 with Accept and
//!    Accept-Encoding (§8.2.3); for INVITE and UPDATE, an Accept header that admits none of
//!    the types we answer with: 406 (§20.1).
//!
//! Unknown methods pass (the transaction user answers 501 with Allow, as only it knows what
//! it implements). ACK and CANCEL are never rejected for Max-Forwards 0 or for extensions,
//! and an ACK must never be answered at all: a caller that gets a [`Rejection`] for an ACK
//! drops it.

mod unparseable;

pub use unparseable::reject_unparseable;

use crate::header::{is_token_char, NameAddr};
use crate::message::{Headers, Method, Request, Response};
use crate::uri::Scheme;

/// Why a request is refused, and what the refusal carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    pub code: u16,
    /// The reason phrase of the response; it names the offending header where there is one.
    pub reason: String,
    /// Extra response headers, e.g. `("Unsupported", "foo")` for 420 or
    /// `("Accept", "application/sdp")` for 415.
    pub headers: Vec<(String, String)>,
}

impl Rejection {
    fn new(code: u16, reason: impl Into<String>) -> Rejection {
        Rejection {
            code,
            reason: reason.into(),
            headers: Vec::new(),
        }
    }

    fn bad(reason: impl Into<String>) -> Rejection {
        Rejection::new(400, reason)
    }
}

/// What this element is and what it understands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Policy {
    /// Option tags we implement (compared case-insensitively). A Require (or, when
    /// `proxy_like`, Proxy-Require) tag outside this list gets 420.
    pub supported: Vec<String>,
    /// Body types we accept in offer/answer requests (INVITE, UPDATE, PRACK), and produce
    /// in answers to INVITE and UPDATE: `type/subtype`, `type/*` or `*/*`.
    pub accept_body: Vec<String>,
    /// We are a registrar: check REGISTER as RFC 3261 §10.3 asks.
    pub registrar: bool,
    /// We forward requests (a proxy, or a B2BUA relaying them to another leg): Max-Forwards
    /// 0 gets 483 and Proxy-Require is ours to check.
    pub proxy_like: bool,
}

impl Default for Policy {
    /// The softswitch: a B2BUA that relays requests between legs and is its own registrar,
    /// implements no option tag that a peer could require, and speaks SDP.
    fn default() -> Self {
        Policy {
            supported: Vec::new(),
            accept_body: vec!["application/sdp".to_string()],
            registrar: true,
            proxy_like: true,
        }
    }
}

/// Headers every request carries (RFC 3261 §8.1.1). Max-Forwards is left out so that RFC
/// 2543 peers still work (RFC 4475 §3.4.1).
const MANDATORY: [&str; 5] = ["To", "From", "Call-ID", "CSeq", "Via"];

/// Headers that may appear at most once (RFC 3261 §7.3.1: only comma-list headers repeat).
const SINGLE: [&str; 8] = [
    "To",
    "From",
    "Call-ID",
    "CSeq",
    "Max-Forwards",
    "Expires",
    "Content-Type",
    "Date",
];

/// Steps 1-3 of [`validate_request`]: the headers every request needs before a transaction
/// can be made for it (RFC 3261 §8.2, §17.2.3): present, single, parseable, and a CSeq
/// that names the request's method. The transaction layer checks these on arrival, so a
/// request it cannot key or answer reliably (a CSeq number over 2**31, say) is refused
/// statelessly instead of getting a `100 Trying` or being matched as a CANCEL.
pub fn validate_headers(r: &Request) -> Result<(), Rejection> {
    let h = &r.headers;

    // 1. Presence and multiplicity.
    let missing: Vec<&str> = MANDATORY.into_iter().filter(|n| !h.has(n)).collect();
    if !missing.is_empty() {
        let s = if missing.len() > 1 { "s" } else { "" };
        return Err(Rejection::bad(format!(
            "Missing {} Header{s}",
            missing.join(", ")
        )));
    }
    let repeated: Vec<&str> = SINGLE
        .into_iter()
        .filter(|n| h.get_all(n).nth(1).is_some())
        .collect();
    if !repeated.is_empty() {
        let s = if repeated.len() > 1 { "s" } else { "" };
        return Err(Rejection::bad(format!(
            "Multiple {} Header{s}",
            repeated.join(", ")
        )));
    }

    // 2. The headers every layer reads parse.
    let call_id = h.call_id().unwrap_or_default();
    if call_id.is_empty() || call_id.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(Rejection::bad("Bad Call-ID Header"));
    }
    let cseq = h.cseq().map_err(|_| Rejection::bad("Bad CSeq Header"))?;
    h.from().map_err(|_| Rejection::bad("Bad From Header"))?;
    h.to().map_err(|_| Rejection::bad("Bad To Header"))?;
    h.vias().map_err(|_| Rejection::bad("Bad Via Header"))?;

    // 3. CSeq method.
    if cseq.method != r.method {
        return Err(match r.method {
            Method::Other(_) => Rejection::new(501, "Not Implemented"),
            _ => Rejection::bad("CSeq Method Does Not Match Request Method"),
        });
    }
    Ok(())
}

/// Check a parsed request. `Ok` means a transaction user may act on it; `Err` carries the
/// response to send (build it with [`response_for`]).
pub fn validate_request(r: &Request, policy: &Policy) -> Result<(), Rejection> {
    validate_headers(r)?;
    validate_policy(r, policy)
}

/// Steps 4-9 of [`validate_request`], for a request whose headers already passed
/// [`validate_headers`]: what the transaction layer hands a transaction user has, so the
/// TU checks only these (the headers are not parsed twice on the call path).
pub fn validate_policy(r: &Request, policy: &Policy) -> Result<(), Rejection> {
    let h = &r.headers;
    let is_ack_or_cancel = matches!(r.method, Method::Ack | Method::Cancel);
    let to = h.to().map_err(|_| Rejection::bad("Bad To Header"))?;

    // 4. Scalars and the syntax of headers we act on.
    let max_forwards = match h.get("Max-Forwards") {
        None => None,
        Some(_) => match h.max_forwards() {
            Ok(Some(n)) if n <= 255 => Some(n),
            _ => return Err(Rejection::bad("Bad Max-Forwards Header")),
        },
    };
    if h.expires().is_err() {
        return Err(Rejection::bad("Bad Expires Header"));
    }
    if let Some(d) = h.get("Date") {
        if !is_rfc1123_gmt(d) {
            return Err(Rejection::bad("Bad Date Header"));
        }
    }
    check_contacts(r)?;
    for name in ["Require", "Proxy-Require"] {
        if option_tags(h, name).is_err() {
            return Err(Rejection::bad(format!("Bad {name} Header")));
        }
    }
    if r.uri.headers.is_some() {
        // RFC 3261 §19.1.1 table 1: headers are not allowed in a Request-URI.
        return Err(Rejection::bad("Headers Not Allowed In Request-URI"));
    }
    if !r.body.is_empty() && !h.has("Content-Type") {
        // RFC 3261 §20.15: Content-Type MUST be present if the body is not empty.
        return Err(Rejection::bad("Missing Content-Type Header"));
    }
    for v in h.get_all("Content-Length") {
        if v.trim().parse::<usize>().ok() != Some(r.body.len()) {
            return Err(Rejection::bad("Bad Content-Length Header"));
        }
    }

    // 5. Registrar (RFC 3261 §10.3).
    if policy.registrar && r.method == Method::Register {
        if !to.uri.is_sip() {
            return Err(Rejection::bad(
                "Address-of-Record Must Be a SIP or SIPS URI",
            ));
        }
        let contacts: Vec<&str> = h.get_all("Contact").map(str::trim).collect();
        if contacts.contains(&"*") {
            // §10.2.2 / §10.3 step 6: "*" only alone and with Expires: 0.
            if contacts.len() != 1 {
                return Err(Rejection::bad("Contact * Must Be the Only Contact"));
            }
            if h.expires().ok().flatten() != Some(0) {
                return Err(Rejection::bad("Contact * Requires Expires: 0"));
            }
        }
    }

    // 6. Request-URI scheme.
    if !matches!(r.uri.scheme, Scheme::Sip | Scheme::Sips | Scheme::Tel) {
        return Err(Rejection::new(416, "Unsupported URI Scheme"));
    }

    // 7. Max-Forwards exhausted.
    if policy.proxy_like && max_forwards == Some(0) && !is_ack_or_cancel {
        return Err(Rejection::new(483, "Too Many Hops"));
    }

    // 8. Extensions.
    if !is_ack_or_cancel {
        let mut unsupported: Vec<String> = Vec::new();
        let mut names = vec!["Require"];
        if policy.proxy_like {
            names.push("Proxy-Require");
        }
        for name in names {
            for tag in option_tags(h, name).unwrap_or_default() {
                let known = policy.supported.iter().any(|s| s.eq_ignore_ascii_case(tag));
                if !known && !unsupported.iter().any(|u| u.eq_ignore_ascii_case(tag)) {
                    unsupported.push(tag.to_string());
                }
            }
        }
        if !unsupported.is_empty() {
            let mut rej = Rejection::new(420, "Bad Extension");
            rej.headers = unsupported
                .into_iter()
                .map(|t| ("Unsupported".to_string(), t))
                .collect();
            return Err(rej);
        }
    }

    // 9. Bodies of the offer/answer methods.
    if matches!(r.method, Method::Invite | Method::Update | Method::Prack) {
        if !r.body.is_empty() {
            let codings_ok = h
                .get_all("Content-Encoding")
                .flat_map(|v| v.split(','))
                .map(str::trim)
                .all(|c| c.is_empty() || c.eq_ignore_ascii_case("identity"));
            let type_ok = h
                .get("Content-Type")
                .and_then(media_type)
                .is_some_and(|(t, s)| {
                    policy
                        .accept_body
                        .iter()
                        .filter_map(|a| media_type(a))
                        .any(|(at, as_)| range_matches(&at, &as_, &t, &s))
                });
            if !codings_ok || !type_ok {
                let mut rej = Rejection::new(415, "Unsupported Media Type");
                rej.headers
                    .push(("Accept".to_string(), policy.accept_body.join(", ")));
                rej.headers
                    .push(("Accept-Encoding".to_string(), "identity".to_string()));
                return Err(rej);
            }
        }
        if matches!(r.method, Method::Invite | Method::Update) && h.has("Accept") {
            // RFC 3261 §20.1: an Accept header, even an empty one, lists all that the
            // client takes; our answers carry one of `accept_body`.
            let acceptable = h
                .get_all("Accept")
                .flat_map(|v| v.split(','))
                .filter_map(accept_range)
                .any(|(rt, rs)| {
                    policy
                        .accept_body
                        .iter()
                        .filter_map(|a| media_type(a))
                        .any(|(t, s)| range_matches(&rt, &rs, &t, &s))
                });
            if !acceptable {
                return Err(Rejection::new(406, "Not Acceptable"));
            }
        }
    }
    Ok(())
}

/// The error response to `r` for `rej` (RFC 3261 §8.2.6): Via, From, To, Call-ID and CSeq
/// copied, `to_tag` added to a To without a tag, and the rejection's headers appended.
pub fn response_for(r: &Request, rej: &Rejection, to_tag: Option<&str>) -> Response {
    let mut resp = r.response(rej.code, Some(&rej.reason), to_tag);
    for (n, v) in &rej.headers {
        resp.headers.push(n, v.clone());
    }
    resp
}

/// Contact values: `*` only in REGISTER; every other value a name-addr or addr-spec whose
/// `expires` is a delta-seconds within 2**32-1 and whose `q` is a qvalue (RFC 3261 §20.10).
fn check_contacts(r: &Request) -> Result<(), Rejection> {
    for v in r.headers.get_all("Contact") {
        if v.trim() == "*" {
            if r.method != Method::Register {
                return Err(Rejection::bad("Contact * Only Allowed in REGISTER"));
            }
            continue;
        }
        let na = NameAddr::parse(v).map_err(|_| Rejection::bad("Bad Contact Header"))?;
        match na.param("expires") {
            None => {}
            Some(Some(e)) if crate::header::parse_u32(e, "expires").is_ok() => {}
            Some(_) => return Err(Rejection::bad("Bad Contact expires Parameter")),
        }
        match na.param("q") {
            None => {}
            Some(Some(q)) if is_qvalue(q) => {}
            Some(_) => return Err(Rejection::bad("Bad Contact q Parameter")),
        }
    }
    Ok(())
}

/// qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
fn is_qvalue(q: &str) -> bool {
    let (int, frac) = match q.split_once('.') {
        Some((i, f)) => (i, f),
        None => (q, ""),
    };
    frac.len() <= 3
        && frac.bytes().all(|b| b.is_ascii_digit())
        && (int == "0" || (int == "1" && frac.bytes().all(|b| b == b'0')))
}

/// Option tags of a Require-like header; `Err` when one is not a token.
fn option_tags<'a>(h: &'a Headers, name: &'a str) -> Result<Vec<&'a str>, ()> {
    let mut out = Vec::new();
    for v in h.get_all(name) {
        for t in v.split(',').map(|t| t.trim_matches([' ', '\t'])) {
            if t.is_empty() {
                continue;
            }
            if !t.bytes().all(is_token_char) {
                return Err(());
            }
            out.push(t);
        }
    }
    Ok(out)
}

/// `type/subtype` of a Content-Type or Accept value, lower-case, parameters dropped.
fn media_type(v: &str) -> Option<(String, String)> {
    let mt = v.split(';').next()?.trim_matches([' ', '\t']);
    let (t, s) = mt.split_once('/')?;
    let (t, s) = (t.trim_matches([' ', '\t']), s.trim_matches([' ', '\t']));
    let ok = |x: &str| !x.is_empty() && x.bytes().all(is_token_char);
    (ok(t) && ok(s)).then(|| (t.to_ascii_lowercase(), s.to_ascii_lowercase()))
}

/// One Accept media-range, unless it says `q=0` (not acceptable).
fn accept_range(v: &str) -> Option<(String, String)> {
    let q_zero = v.split(';').skip(1).any(|p| {
        p.split_once('=').is_some_and(|(n, val)| {
            n.trim().eq_ignore_ascii_case("q") && val.trim().parse::<f32>().ok() == Some(0.0)
        })
    });
    if q_zero {
        None
    } else {
        media_type(v)
    }
}

/// Whether the range `rt/rs` (which may hold `*`) covers the type `t/s`, or the other way
/// round (a policy entry may be a range too).
fn range_matches(rt: &str, rs: &str, t: &str, s: &str) -> bool {
    let side = |a: &str, b: &str| a == "*" || b == "*" || a == b;
    side(rt, t) && side(rs, s)
}

/// `Date` as RFC 3261 §20.17 wants it: rfc1123-date in GMT, `Sun, 06 Nov 1994 08:49:37 GMT`.
/// The day may have one digit and LWS may repeat; the zone must be GMT.
fn is_rfc1123_gmt(v: &str) -> bool {
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let words: Vec<&str> = v.split([' ', '\t']).filter(|w| !w.is_empty()).collect();
    let [wkday, day, month, year, time, zone] = words[..] else {
        return false;
    };
    let digits = |s: &str, min: usize, max: usize| {
        (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    let Some(wkday) = wkday.strip_suffix(',') else {
        return false;
    };
    let hms: Vec<&str> = time.split(':').collect();
    DAYS.contains(&wkday)
        && digits(day, 1, 2)
        && (1..=31).contains(&day.parse::<u8>().unwrap_or(0))
        && MONTHS.contains(&month)
        && digits(year, 4, 4)
        && hms.len() == 3
        && hms.iter().all(|p| digits(p, 2, 2))
        && hms[0] < "24"
        && hms[1] < "60"
        && hms[2] <= "60"
        && zone == "GMT"
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_datagram;
    use crate::Message;

    fn req(text: &str) -> Request {
        match parse_datagram(text.as_bytes()).unwrap() {
            Message::Request(r) => r,
            Message::Response(_) => panic!("not a request"),
        }
    }

    const BASE: &str = "INVITE sip:bob@example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP pc33.example.com;branch=z9hG4bK776asdhds\r\n\
Max-Forwards: 70\r\n\
To: Bob <sip:bob@example.com>\r\n\
From: Alice <sip:alice@example.com>;tag=1928301774\r\n\
Call-ID: a84b4c76e66710@pc33.example.com\r\n\
CSeq: 314159 INVITE\r\n\
Contact: <sip:alice@pc33.example.com>\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 4\r\n\r\nv=0\n";

    fn code(text: &str) -> Option<u16> {
        validate_request(&req(text), &Policy::default())
            .err()
            .map(|r| r.code)
    }

    #[test]
    fn accepts_a_plain_invite() {
        assert_eq!(code(BASE), None);
    }

    #[test]
    fn rejections() {
        let missing = BASE.replace("Call-ID: a84b4c76e66710@pc33.example.com\r\n", "");
        let rej = validate_request(&req(&missing), &Policy::default()).unwrap_err();
        assert_eq!(
            (rej.code, rej.reason.as_str()),
            (400, "Missing Call-ID Header")
        );
        assert_eq!(code(&BASE.replace("70", "256")), Some(400));
        assert_eq!(code(&BASE.replace("70", "0")), Some(483));
        assert_eq!(code(&BASE.replace("70", "x")), Some(400));
        assert_eq!(code(&BASE.replace("314159 INVITE", "1 BYE")), Some(400));
        assert_eq!(
            code(&BASE.replace("Max-Forwards: 70", "Expires: 4294967296")),
            Some(400)
        );
        assert_eq!(
            code(&BASE.replace("INVITE sip:bob", "INVITE tel:+1234;x=bob")),
            None
        );
        assert_eq!(
            code(&BASE.replace("INVITE sip:bob", "INVITE im:bob")),
            Some(416)
        );
        assert_eq!(
            code(&BASE.replace("application/sdp", "text/html")),
            Some(415)
        );
        assert_eq!(
            code(&BASE.replace("Max-Forwards: 70", "Content-Encoding: gzip")),
            Some(415)
        );
        assert_eq!(
            code(&BASE.replace("Max-Forwards: 70", "Accept: application/*")),
            None
        );
        assert_eq!(
            code(&BASE.replace("Max-Forwards: 70", "Accept: text/plain")),
            Some(406)
        );
        assert_eq!(
            code(&BASE.replace("Max-Forwards: 70", "Date: Sat, 13 Nov 2010 23:29:00 GMT")),
            None
        );
        assert_eq!(
            code(&BASE.replace("Max-Forwards: 70", "Date: Sat, 13 Nov 2010 23:29:00 PST")),
            Some(400)
        );
        let ack = BASE
            .replace("INVITE sip", "ACK sip")
            .replace("314159 INVITE", "314159 ACK")
            .replace("70", "0")
            .replace("Max-Forwards: 0", "Require: foo");
        assert_eq!(code(&ack), None);
    }

    #[test]
    fn bad_extension_lists_tags_and_builds_response() {
        let text = BASE.replace(
            "Max-Forwards: 70",
            "Require: 100rel, Foo\r\nProxy-Require: bar",
        );
        let r = req(&text);
        let rej = validate_request(&r, &Policy::default()).unwrap_err();
        assert_eq!(rej.code, 420);
        let tags: Vec<&str> = rej.headers.iter().map(|(_, v)| v.as_str()).collect();
        assert_eq!(tags, ["100rel", "Foo", "bar"]);
        let policy = Policy {
            supported: vec!["100REL".into(), "foo".into()],
            proxy_like: false,
            ..Policy::default()
        };
        assert_eq!(validate_request(&r, &policy), Ok(()));
        let resp = response_for(&r, &rej, Some("xyz"));
        assert_eq!(resp.code, 420);
        assert_eq!(resp.headers.get_all("Unsupported").count(), 3);
        assert!(resp.headers.get("To").unwrap().ends_with(";tag=xyz"));
        assert_eq!(resp.headers.cseq().unwrap().seq, 314159);
    }

    #[test]
    fn register_specifics() {
        let reg = "REGISTER sip:example.com SIP/2.0\r\n\
Via: SIP/2.0/UDP h;branch=z9hG4bK1\r\n\
To: <sip:a@example.com>\r\n\
From: <sip:a@example.com>;tag=1\r\n\
Call-ID: c1\r\n\
CSeq: 1 REGISTER\r\n\
Contact: *\r\n\
Expires: 0\r\n\r\n";
        assert_eq!(code(reg), None);
        assert_eq!(code(&reg.replace("Expires: 0", "Expires: 10")), Some(400));
        assert_eq!(
            code(&reg.replace("Contact: *", "Contact: *, <sip:a@h>")),
            Some(400)
        );
        assert_eq!(
            code(&reg.replace("Contact: *", "Contact: <sip:a@h>;expires=99999999999")),
            Some(400)
        );
        assert_eq!(
            code(&reg.replace("To: <sip:a@example.com>", "To: <tel:+123>")),
            Some(400)
        );
        let not_registrar = Policy {
            registrar: false,
            ..Policy::default()
        };
        let r = req(&reg.replace("To: <sip:a@example.com>", "To: <tel:+123>"));
        assert_eq!(validate_request(&r, &not_registrar), Ok(()));
    }

    #[test]
    fn dates() {
        assert!(is_rfc1123_gmt("Sat, 15 Oct 2005 04:44:56 GMT"));
        assert!(is_rfc1123_gmt("Sat,  5 Oct 2005 04:44:56 GMT"));
        assert!(!is_rfc1123_gmt("Fri, 01 Jan 2010 16:00:00 EST"));
        assert!(!is_rfc1123_gmt("Fri, 01 Jan 2010 24:00:00 GMT"));
        assert!(!is_rfc1123_gmt("Fri 01 Jan 2010 16:00:00 GMT"));
        assert!(!is_rfc1123_gmt(""));
    }
}
