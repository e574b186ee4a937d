//! Instant messages with phones, SIP MESSAGE in page mode (RFC 3428): the IM service's
//! texts for a phone user go out as `MESSAGE` (`text/plain`) to each of the user's
//! registered contacts; a `MESSAGE` from a phone outside any dialog (authenticated like an
//! INVITE, or from a trusted source) is answered 200 and handed to the IM service as
//! [`Output::Im`](super::Output::Im), which shows it in the addressed agent's IM window.

use super::Cx;
use sip::transaction::{Target, TxId};
use sip::{Method, NameAddr, Request, Uri};
use std::time::Instant;

/// Longest MESSAGE body taken (RFC 3428 §8 suggests 1300 bytes for page mode over UDP;
/// the IM service refuses texts over its own limit anyway).
const MAX_BODY: usize = 8 * 1024;

/// One text between the IM service and a phone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SipIm {
    /// The sender: a SIP user (from a phone) or an account's extension or id (to one).
    pub from: String,
    /// The sender's display name (to a phone), else empty.
    pub from_name: String,
    /// The addressed user: the phone's SIP user, or the agent's extension, agent or
    /// account id.
    pub to: String,
    pub text: String,
}

impl Cx {
    /// A MESSAGE outside any dialog.
    pub(super) fn message(&mut self, now: Instant, tx: TxId, req: Request, source: Target) {
        let Some(identity) = self.authenticate(now, tx, &req, source, true) else {
            return;
        };
        let Ok(from) = req.headers.from() else {
            return self.reply(now, tx, &req, 400, Some("Bad From"));
        };
        let Some(from_user) = from.uri.user_unescaped() else {
            return self.reply(now, tx, &req, 400, Some("Bad From"));
        };
        if identity.as_ref().is_some_and(|u| *u != from_user) {
            return self.reply(now, tx, &req, 403, Some("From does not match credentials"));
        }
        let to = req
            .uri
            .user_unescaped()
            .or_else(|| req.headers.to().ok().and_then(|t| t.uri.user_unescaped()));
        let Some(to) = to else {
            return self.reply(now, tx, &req, 404, None);
        };
        let content_type = req
            .headers
            .get("Content-Type")
            .unwrap_or_default()
            .to_ascii_lowercase();
        if !content_type.starts_with("text/plain") {
            let tag = self.new_tag();
            let mut resp = req.response(415, None, Some(&tag));
            resp.headers.push("Accept", "text/plain");
            return self.layer.respond(now, tx, resp);
        }
        if req.body.len() > MAX_BODY {
            return self.reply(now, tx, &req, 413, None);
        }
        let Ok(text) = String::from_utf8(req.body.clone()) else {
            return self.reply(now, tx, &req, 400, Some("Body Not UTF-8"));
        };
        self.reply(now, tx, &req, 200, None);
        tracing::info!(from = %from_user, to = %to, "MESSAGE from a phone");
        self.emit(super::Output::Im(SipIm {
            from: from_user,
            from_name: from.display.unwrap_or_default(),
            to,
            text,
        }));
    }

    /// Sends `m` to each registered contact of `m.to`.
    pub(super) fn send_im(&mut self, now: Instant, m: &SipIm) {
        let domain = self.config.sip.domain.clone();
        for binding in self.node.lookup(now, &m.to) {
            let Ok(uri) = Uri::parse(&binding.contact) else {
                continue;
            };
            let mut from = NameAddr::new(Uri::sip(Some(&m.from), &domain, None));
            if !m.from_name.is_empty() {
                from.display = Some(m.from_name.clone());
            }
            from.set_param("tag", Some(self.new_tag()));
            let to = NameAddr::new(Uri::sip(Some(&m.to), &domain, None));
            let via = self.via(binding.target.transport);
            let mut h = sip::Headers::new();
            h.push("Via", via.header());
            h.push("Max-Forwards", "70");
            h.push("From", from.to_string());
            h.push("To", to.to_string());
            h.push("Call-ID", self.new_call_id());
            h.push("CSeq", "1 MESSAGE");
            h.push("Content-Type", "text/plain;charset=UTF-8");
            let req = Request {
                method: Method::Message,
                uri,
                headers: h,
                body: m.text.clone().into_bytes(),
            };
            let _ = self.send_request(now, req, binding.target);
        }
    }
}
