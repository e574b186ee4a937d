//! SIP messages as the rest of the stack sees them: a start line, an ordered header list and
//! a body. Header names are stored in their canonical long form (compact forms are expanded
//! by the wire layer), values are kept as text and parsed into typed values on demand by
//! [`crate::header`], so a proxy-like element never pays for headers it does not read.

use crate::header::{self, CSeq, NameAddr, Via};
use crate::uri::Uri;
use crate::HeaderError;
use std::fmt::{self, Write as _};

/// A SIP method. Unknown extension methods are kept verbatim (RFC 3261 §7.1: method is a token).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Method {
    Invite,
    Ack,
    Bye,
    Cancel,
    Register,
    Options,
    Info,
    Update,
    Prack,
    Subscribe,
    Notify,
    Refer,
    Message,
    Publish,
    Other(String),
}

impl Method {
    /// Methods are case-sensitive (RFC 3261 §7.1), so `invite` is an extension method.
    pub fn from_token(s: &str) -> Method {
        match s {
            "INVITE" => Method::Invite,
            "ACK" => Method::Ack,
            "BYE" => Method::Bye,
            "CANCEL" => Method::Cancel,
            "REGISTER" => Method::Register,
            "OPTIONS" => Method::Options,
            "INFO" => Method::Info,
            "UPDATE" => Method::Update,
            "PRACK" => Method::Prack,
            "SUBSCRIBE" => Method::Subscribe,
            "NOTIFY" => Method::Notify,
            "REFER" => Method::Refer,
            "MESSAGE" => Method::Message,
            "PUBLISH" => Method::Publish,
            other => Method::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Method::Invite => "INVITE",
            Method::Ack => "ACK",
            Method::Bye => "BYE",
            Method::Cancel => "CANCEL",
            Method::Register => "REGISTER",
            Method::Options => "OPTIONS",
            Method::Info => "INFO",
            Method::Update => "UPDATE",
            Method::Prack => "PRACK",
            Method::Subscribe => "SUBSCRIBE",
            Method::Notify => "NOTIFY",
            Method::Refer => "REFER",
            Method::Message => "MESSAGE",
            Method::Publish => "PUBLISH",
            Method::Other(s) => s,
        }
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One header field. `name` is canonical (see [`canonical_name`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    pub name: String,
    pub value: String,
}

/// The ordered header list. Order matters for Via, Route and Record-Route.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Headers(pub Vec<Header>);

impl Headers {
    pub fn new() -> Self {
        Headers(Vec::with_capacity(12))
    }

    /// First value of `name` (case-insensitive).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    pub fn get_all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }

    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn push(&mut self, name: &str, value: impl Into<String>) {
        self.0.push(Header {
            name: name.to_string(),
            value: value.into(),
        });
    }

    /// Insert before every other header of that name (a new top Via or Record-Route), or at
    /// the front when there is none.
    pub fn push_front(&mut self, name: &str, value: impl Into<String>) {
        let at = self
            .0
            .iter()
            .position(|h| h.name.eq_ignore_ascii_case(name))
            .unwrap_or(0);
        self.0.insert(
            at,
            Header {
                name: name.to_string(),
                value: value.into(),
            },
        );
    }

    pub fn remove(&mut self, name: &str) {
        self.0.retain(|h| !h.name.eq_ignore_ascii_case(name));
    }

    /// Remove the first header of that name and return its value.
    pub fn remove_first(&mut self, name: &str) -> Option<String> {
        let at = self
            .0
            .iter()
            .position(|h| h.name.eq_ignore_ascii_case(name))?;
        Some(self.0.remove(at).value)
    }

    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        let value = value.into();
        if let Some(h) = self
            .0
            .iter_mut()
            .find(|h| h.name.eq_ignore_ascii_case(name))
        {
            h.value = value;
            let mut seen = false;
            self.0.retain(|h| {
                if h.name.eq_ignore_ascii_case(name) {
                    let keep = !seen;
                    seen = true;
                    keep
                } else {
                    true
                }
            });
        } else {
            self.push(name, value);
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &Header> {
        self.0.iter()
    }

    // Typed accessors. They return errors instead of panicking: values come from the network.

    pub fn call_id(&self) -> Option<&str> {
        self.get("Call-ID").map(str::trim)
    }

    pub fn cseq(&self) -> Result<CSeq, HeaderError> {
        CSeq::parse(self.get("CSeq").ok_or(HeaderError::Missing("CSeq"))?)
    }

    pub fn from(&self) -> Result<NameAddr, HeaderError> {
        NameAddr::parse(self.get("From").ok_or(HeaderError::Missing("From"))?)
    }

    pub fn to(&self) -> Result<NameAddr, HeaderError> {
        NameAddr::parse(self.get("To").ok_or(HeaderError::Missing("To"))?)
    }

    pub fn top_via(&self) -> Result<Via, HeaderError> {
        Via::parse(self.get("Via").ok_or(HeaderError::Missing("Via"))?)
    }

    pub fn vias(&self) -> Result<Vec<Via>, HeaderError> {
        self.get_all("Via").map(Via::parse).collect()
    }

    pub fn contacts(&self) -> Result<Vec<NameAddr>, HeaderError> {
        self.get_all("Contact")
            .filter(|v| v.trim() != "*")
            .map(NameAddr::parse)
            .collect()
    }

    pub fn routes(&self, name: &str) -> Result<Vec<NameAddr>, HeaderError> {
        self.get_all(name).map(NameAddr::parse).collect()
    }

    /// Max-Forwards as a number; `None` when absent.
    pub fn max_forwards(&self) -> Result<Option<u32>, HeaderError> {
        match self.get("Max-Forwards") {
            None => Ok(None),
            Some(v) => header::parse_u32(v, "Max-Forwards").map(Some),
        }
    }

    pub fn expires(&self) -> Result<Option<u32>, HeaderError> {
        match self.get("Expires") {
            None => Ok(None),
            Some(v) => header::parse_u32(v, "Expires").map(Some),
        }
    }

    /// Option tags listed in a header such as Require or Supported (comma-separated tokens).
    pub fn tokens(&self, name: &str) -> Vec<String> {
        self.get_all(name)
            .flat_map(|v| v.split(','))
            .map(|t| t.trim().to_ascii_lowercase())
            .filter(|t| !t.is_empty())
            .collect()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub method: Method,
    pub uri: Uri,
    pub headers: Headers,
    pub body: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub code: u16,
    pub reason: String,
    pub headers: Headers,
    pub body: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    Request(Request),
    Response(Response),
}

impl Message {
    pub fn headers(&self) -> &Headers {
        match self {
            Message::Request(r) => &r.headers,
            Message::Response(r) => &r.headers,
        }
    }

    pub fn headers_mut(&mut self) -> &mut Headers {
        match self {
            Message::Request(r) => &mut r.headers,
            Message::Response(r) => &mut r.headers,
        }
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Message::Request(r) => r.to_bytes(),
            Message::Response(r) => r.to_bytes(),
        }
    }
}

fn write_headers_and_body(out: &mut String, headers: &Headers, body: &[u8]) -> Vec<u8> {
    for h in headers.iter() {
        if h.name.eq_ignore_ascii_case("Content-Length") {
            continue;
        }
        out.push_str(&h.name);
        out.push_str(": ");
        out.push_str(&h.value);
        out.push_str("\r\n");
    }
    let _ = write!(out, "Content-Length: {}\r\n\r\n", body.len());
    let mut bytes = std::mem::take(out).into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

impl Request {
    pub fn new(method: Method, uri: Uri) -> Self {
        Request {
            method,
            uri,
            headers: Headers::new(),
            body: Vec::new(),
        }
    }

    /// Serialise with CRLF line ends and a Content-Length that always matches the body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::with_capacity(512 + self.body.len());
        let _ = write!(out, "{} {} SIP/2.0\r\n", self.method, self.uri);
        write_headers_and_body(&mut out, &self.headers, &self.body)
    }

    /// Build a response to this request as RFC 3261 §8.2.6 says: Via, From, To, Call-ID and
    /// CSeq copied; a To tag added when `to_tag` is given and the To has none.
    pub fn response(&self, code: u16, reason: Option<&str>, to_tag: Option<&str>) -> Response {
        let mut headers = Headers::new();
        for h in self.headers.iter() {
            let n = h.name.as_str();
            if n == "Via" || n == "From" || n == "Call-ID" || n == "CSeq" {
                headers.0.push(h.clone());
            } else if n == "To" {
                let mut value = h.value.clone();
                if let Some(tag) = to_tag {
                    if !header::has_param(&value, "tag") {
                        value.push_str(";tag=");
                        value.push_str(tag);
                    }
                }
                headers.0.push(Header {
                    name: "To".into(),
                    value,
                });
            }
        }
        Response {
            code,
            reason: reason.unwrap_or(reason_phrase(code)).to_string(),
            headers,
            body: Vec::new(),
        }
    }
}

impl Response {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::with_capacity(512 + self.body.len());
        let _ = write!(out, "SIP/2.0 {} {}\r\n", self.code, self.reason);
        write_headers_and_body(&mut out, &self.headers, &self.body)
    }
}

/// The RFC 3261 §21 reason phrases (and a few from later RFCs that a B2BUA sends).
pub fn reason_phrase(code: u16) -> &'static str {
    match code {
        100 => "Trying",
        180 => "Ringing",
        181 => "Call Is Being Forwarded",
        182 => "Queued",
        183 => "Session Progress",
        200 => "OK",
        202 => "Accepted",
        300 => "Multiple Choices",
        301 => "Moved Permanently",
        302 => "Moved Temporarily",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        407 => "Proxy Authentication Required",
        408 => "Request Timeout",
        413 => "Request Entity Too Large",
        415 => "Unsupported Media Type",
        416 => "Unsupported URI Scheme",
        420 => "Bad Extension",
        421 => "Extension Required",
        422 => "Session Interval Too Small",
        423 => "Interval Too Brief",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        482 => "Loop Detected",
        483 => "Too Many Hops",
        484 => "Address Incomplete",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        491 => "Request Pending",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        504 => "Server Time-out",
        505 => "Version Not Supported",
        513 => "Message Too Large",
        600 => "Busy Everywhere",
        603 => "Decline",
        604 => "Does Not Exist Anywhere",
        606 => "Not Acceptable",
        _ => match code / 100 {
            1 => "Session Progress",
            2 => "OK",
            3 => "Redirect",
            4 => "Request Failure",
            5 => "Server Failure",
            _ => "Global Failure",
        },
    }
}

/// Canonical long name of a header: compact forms expanded (RFC 3261 §7.3.3 and the
/// registrations that followed), well-known names in their usual capitalisation, anything
/// else kept as received (names compare case-insensitively anyway).
pub fn canonical_name(name: &str) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    if name.len() == 1 {
        let long = match name.as_bytes()[0].to_ascii_lowercase() {
            b'i' => "Call-ID",
            b'm' => "Contact",
            b'e' => "Content-Encoding",
            b'l' => "Content-Length",
            b'c' => "Content-Type",
            b'f' => "From",
            b's' => "Subject",
            b'k' => "Supported",
            b't' => "To",
            b'v' => "Via",
            b'o' => "Event",
            b'r' => "Refer-To",
            b'b' => "Referred-By",
            b'u' => "Allow-Events",
            b'x' => "Session-Expires",
            b'a' => "Accept-Contact",
            b'j' => "Reject-Contact",
            b'd' => "Request-Disposition",
            b'y' => "Identity",
            _ => return Cow::Borrowed(name),
        };
        return Cow::Borrowed(long);
    }
    const KNOWN: &[&str] = &[
        "Via",
        "From",
        "To",
        "Call-ID",
        "CSeq",
        "Contact",
        "Max-Forwards",
        "Content-Length",
        "Content-Type",
        "Route",
        "Record-Route",
        "Expires",
        "Authorization",
        "Proxy-Authorization",
        "WWW-Authenticate",
        "Proxy-Authenticate",
        "Allow",
        "Supported",
        "Require",
        "Proxy-Require",
        "Unsupported",
        "User-Agent",
        "Server",
        "Session-Expires",
        "Min-SE",
        "Min-Expires",
        "Subject",
        "Event",
        "Refer-To",
        "Referred-By",
        "Replaces",
        "Accept",
        "Content-Encoding",
        "Date",
        "Timestamp",
        "Call-Info",
        "Alert-Info",
        "Reason",
        "Retry-After",
        "Warning",
        "RSeq",
        "RAck",
        "Allow-Events",
        "Subscription-State",
        "Organization",
        "Priority",
    ];
    for k in KNOWN {
        if k.eq_ignore_ascii_case(name) {
            return Cow::Borrowed(k);
        }
    }
    Cow::Owned(name.to_string())
}
