//! One SIP dialog as the B2BUA holds it (RFC 3261 §12): the identifiers, the remote target
//! and route set, the CSeq counters, and where to send. Each call has two: the A leg (the
//! caller's dialog, where the switch is UAS) and the B leg (where it is UAC).

use sip::transaction::Target;
use sip::{Headers, Method, NameAddr, Request, Response, Uri};

#[derive(Clone, Debug)]
pub struct Dialog {
    pub call_id: String,
    pub local_tag: String,
    pub remote_tag: String,
    /// Our address-of-record header value without tag (From when we are UAC).
    pub local_uri: String,
    pub remote_uri: String,
    pub remote_target: Uri,
    /// Route set in the order requests must carry it.
    pub route_set: Vec<String>,
    pub local_cseq: u32,
    pub remote_cseq: u32,
    /// Where in-dialog requests go: the address the peer's messages came from, so NAT and
    /// TCP connections keep working.
    pub target: Target,
}

impl Dialog {
    /// The A leg, from the caller's INVITE and the tag we put in our responses.
    pub fn uas(invite: &Request, local_tag: &str, source: Target) -> Option<Dialog> {
        let from = invite.headers.from().ok()?;
        let to = invite.headers.to().ok()?;
        let contact = invite.headers.contacts().ok()?.into_iter().next();
        let remote_target = contact.map(|c| c.uri).unwrap_or_else(|| from.uri.clone());
        Some(Dialog {
            call_id: invite.headers.call_id()?.to_string(),
            local_tag: local_tag.to_string(),
            remote_tag: from.tag()?.to_string(),
            local_uri: without_params(&to),
            remote_uri: without_params(&from),
            remote_target,
            route_set: invite
                .headers
                .get_all("Record-Route")
                .map(str::to_string)
                .collect(),
            local_cseq: 0,
            remote_cseq: invite.headers.cseq().ok()?.seq,
            target: source,
        })
    }

    /// The B leg, from our INVITE and the 2xx (or 1xx with tag) that established it.
    pub fn uac(invite: &Request, response: &Response, target: Target) -> Option<Dialog> {
        let from = invite.headers.from().ok()?;
        let to = response.headers.to().ok()?;
        let contact = response.headers.contacts().ok()?.into_iter().next();
        let mut route_set: Vec<String> = response
            .headers
            .get_all("Record-Route")
            .map(str::to_string)
            .collect();
        route_set.reverse();
        Some(Dialog {
            call_id: invite.headers.call_id()?.to_string(),
            local_tag: from.tag()?.to_string(),
            remote_tag: to.tag().unwrap_or_default().to_string(),
            local_uri: without_params(&from),
            remote_uri: without_params(&to),
            remote_target: contact.map(|c| c.uri).unwrap_or_else(|| invite.uri.clone()),
            route_set,
            local_cseq: invite.headers.cseq().ok()?.seq,
            remote_cseq: 0,
            target,
        })
    }

    /// A new in-dialog request with the next CSeq, leaving with Via `via` (our address,
    /// transport and a fresh branch: see [`Via`]).
    pub fn request(&mut self, method: Method, via: &Via) -> Request {
        if method != Method::Ack && method != Method::Cancel {
            self.local_cseq += 1;
        }
        self.request_with_cseq(method, self.local_cseq, via)
    }

    pub fn request_with_cseq(&self, method: Method, cseq: u32, via: &Via) -> Request {
        let mut h = Headers::new();
        h.push("Via", via.header());
        h.push("Max-Forwards", "70");
        h.push("From", format!("{};tag={}", self.local_uri, self.local_tag));
        if self.remote_tag.is_empty() {
            h.push("To", self.remote_uri.clone());
        } else {
            h.push("To", format!("{};tag={}", self.remote_uri, self.remote_tag));
        }
        h.push("Call-ID", self.call_id.clone());
        h.push("CSeq", format!("{cseq} {method}"));
        for r in &self.route_set {
            h.push("Route", r.clone());
        }
        Request {
            method,
            uri: self.remote_target.clone(),
            headers: h,
            body: Vec::new(),
        }
    }
}

/// The Via of a request we send: our address for its transport and a new branch.
pub struct Via {
    pub host: String,
    pub transport: &'static str,
    pub branch: String,
}

impl Via {
    /// The Via header value (with `rport`, RFC 3581).
    pub fn header(&self) -> String {
        format!(
            "SIP/2.0/{} {};branch={};rport",
            self.transport, self.host, self.branch
        )
    }
}

/// A From/To value without its tag, to rebuild headers with our own tag.
fn without_params(na: &NameAddr) -> String {
    let mut na = na.clone();
    na.params.retain(|(n, _)| !n.eq_ignore_ascii_case("tag"));
    na.to_string()
}
