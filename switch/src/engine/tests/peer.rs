//! A peer's side of a dialog, for the harness: what a phone remembers of its call (Call-ID,
//! tags, remote target, CSeq) to write its requests as SIP text, and the answers it gives.

use super::harness::*;
use sip::{Request, Response};
use std::net::SocketAddr;

/// Peers' calls.
impl Harness {
    /// The phone at `from` (user `from_user`) calls `to_user`: an INVITE with `sdp` (none
    /// for a late offer) and `extra` header lines (each ending in CRLF).
    pub fn call(
        &mut self,
        from: SocketAddr,
        from_user: &str,
        to_user: &str,
        sdp: Option<&str>,
        extra: &str,
    ) -> Dlg {
        let mut d = self.dialog_from(from, from_user, to_user);
        d.invite(self, sdp, extra);
        d
    }

    /// A dialog-creating request other than INVITE (SUBSCRIBE) from `from_user` at `from`.
    pub fn call_like(
        &mut self,
        from: SocketAddr,
        from_user: &str,
        to_user: &str,
        method: &str,
        extra: &str,
    ) -> Dlg {
        let mut d = self.dialog_from(from, from_user, to_user);
        d.cseq += 1;
        let branch = self.branch();
        let (uri, to) = (d.invite_uri.clone(), d.initial_to.clone());
        let text = d.text(
            Line {
                method,
                uri: &uri,
                to: &to,
                branch: &branch,
                cseq: d.cseq,
            },
            None,
            extra,
        );
        self.send(from, text);
        d
    }

    pub fn dialog_from(&self, from: SocketAddr, from_user: &str, to_user: &str) -> Dlg {
        let n = self.branches + 1;
        Dlg {
            addr: from,
            call_id: format!("call{n}-{from_user}@{}", from.ip()),
            local: format!("<sip:{from_user}@{DOMAIN}>;tag={from_user}-{n}"),
            remote: format!("<sip:{to_user}@{DOMAIN}>"),
            target: format!("sip:{to_user}@{DOMAIN}"),
            contact: format!("<sip:{from_user}@{from}>"),
            cseq: 0,
            invite_uri: format!("sip:{to_user}@{DOMAIN}"),
            invite_branch: String::new(),
            invite_cseq: 0,
            initial_to: format!("<sip:{to_user}@{DOMAIN}>"),
        }
    }
}

/// One dialog as a peer holds it, to write its requests.
pub struct Dlg {
    /// The peer's address (its Via and source).
    pub addr: SocketAddr,
    pub call_id: String,
    /// The peer's own From value, with its tag.
    pub local: String,
    /// The other end's value (with its tag once known).
    pub remote: String,
    /// The Request-URI of in-dialog requests (the other end's Contact).
    pub target: String,
    pub contact: String,
    /// The last CSeq the peer used.
    pub cseq: u32,
    /// The initial INVITE's Request-URI, branch and CSeq, for CANCEL and a non-2xx ACK.
    pub invite_uri: String,
    pub invite_branch: String,
    pub invite_cseq: u32,
    initial_to: String,
}

impl Dlg {
    /// The phone at `addr` received the engine's INVITE `req` and answers with To tag `tag`.
    pub fn callee(addr: SocketAddr, req: &Request, tag: &str) -> Dlg {
        let to = req.headers.get("To").expect("To");
        let from = req.headers.get("From").expect("From");
        let target = req.headers.contacts().expect("Contact")[0].uri.to_string();
        Dlg {
            addr,
            call_id: req.headers.call_id().expect("Call-ID").to_string(),
            local: format!("{to};tag={tag}"),
            remote: from.to_string(),
            target,
            contact: format!("<{}>", req.uri),
            cseq: 0,
            invite_uri: req.uri.to_string(),
            invite_branch: String::new(),
            invite_cseq: 0,
            initial_to: String::new(),
        }
    }

    /// A request of this dialog as text: start line, To, Via branch and CSeq from `line`,
    /// `extra` header lines, an SDP body if given.
    pub(super) fn text(&self, line: Line<'_>, body: Option<&str>, extra: &str) -> String {
        let Line {
            method,
            uri,
            to,
            branch,
            cseq,
        } = line;
        let mut t = format!(
            "{method} {uri} SIP/2.0\r\n\
             Via: SIP/2.0/UDP {};branch={branch};rport\r\n\
             Max-Forwards: 70\r\n\
             From: {}\r\n\
             To: {to}\r\n\
             Call-ID: {}\r\n\
             CSeq: {cseq} {method}\r\n",
            self.addr, self.local, self.call_id
        );
        if matches!(method, "INVITE" | "UPDATE") {
            t.push_str(&format!("Contact: {}\r\n", self.contact));
        }
        t.push_str(extra);
        match body {
            Some(b) => t.push_str(&format!(
                "Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{b}",
                b.len()
            )),
            None => t.push_str("Content-Length: 0\r\n\r\n"),
        }
        t
    }

    /// The initial INVITE (see [`Harness::call`]).
    pub fn invite(&mut self, h: &mut Harness, sdp: Option<&str>, extra: &str) {
        self.cseq += 1;
        self.invite_cseq = self.cseq;
        self.invite_branch = h.branch();
        let text = self.text(
            Line {
                method: "INVITE",
                uri: &self.invite_uri,
                to: &self.initial_to,
                branch: &self.invite_branch,
                cseq: self.cseq,
            },
            sdp,
            extra,
        );
        h.send(self.addr, text);
    }

    /// The caller's INVITE was answered 2xx: learn the dialog's To tag and remote target.
    pub fn answered(&mut self, resp: &Response) {
        self.remote = resp.headers.get("To").expect("To").to_string();
        if let Ok(c) = resp.headers.contacts() {
            if let Some(c) = c.first() {
                self.target = c.uri.to_string();
            }
        }
    }

    /// The ACK of the last INVITE's 2xx (a new transaction), with an SDP answer if given.
    pub fn ack(&mut self, h: &mut Harness, sdp: Option<&str>) {
        let branch = h.branch();
        let text = self.text(
            Line {
                method: "ACK",
                uri: &self.target,
                to: &self.remote,
                branch: &branch,
                cseq: self.invite_cseq,
            },
            sdp,
            "",
        );
        h.send(self.addr, text);
    }

    /// The ACK of a non-2xx final answer to the initial INVITE (same transaction).
    pub fn ack_failure(&mut self, h: &mut Harness, resp: &Response) {
        let to = resp.headers.get("To").expect("To").to_string();
        let text = self.text(
            Line {
                method: "ACK",
                uri: &self.invite_uri,
                to: &to,
                branch: &self.invite_branch,
                cseq: self.invite_cseq,
            },
            None,
            "",
        );
        h.send(self.addr, text);
    }

    /// CANCEL the initial INVITE.
    pub fn cancel(&mut self, h: &mut Harness) {
        let text = self.text(
            Line {
                method: "CANCEL",
                uri: &self.invite_uri,
                to: &self.initial_to,
                branch: &self.invite_branch,
                cseq: self.invite_cseq,
            },
            None,
            "",
        );
        h.send(self.addr, text);
    }

    /// A new request in the dialog (BYE, re-INVITE, INFO...), with an SDP body if given.
    pub fn request(&mut self, h: &mut Harness, method: &str, sdp: Option<&str>, extra: &str) {
        self.cseq += 1;
        if method == "INVITE" {
            self.invite_cseq = self.cseq;
        }
        let branch = h.branch();
        let text = self.text(
            Line {
                method,
                uri: &self.target,
                to: &self.remote,
                branch: &branch,
                cseq: self.cseq,
            },
            sdp,
            extra,
        );
        h.send(self.addr, text);
    }
}

/// What varies between a dialog's requests: method, Request-URI, To, Via branch, CSeq.
pub(super) struct Line<'a> {
    method: &'a str,
    uri: &'a str,
    to: &'a str,
    branch: &'a str,
    cseq: u32,
}
