//! Message waiting (RFC 3842): `SUBSCRIBE` with `Event: message-summary` to one's own
//! mailbox (authenticated like REGISTER) creates a subscription kept in the node's
//! [`crate::voicemail::Mailboxes`], answered 200 and followed at once by a NOTIFY of the
//! summary; a refresh in the dialog extends it, `Expires: 0` ends it (a last NOTIFY with
//! `Subscription-State: terminated`). Whenever a mailbox changes, its subscribers get a
//! NOTIFY in their dialog; a user without a subscription gets an unsolicited NOTIFY at
//! each registered contact, for phones that do not subscribe.

use super::dialog::Dialog;
use super::Cx;
use crate::voicemail::{summary_body, Subscription, SubscriptionDialog};
use sip::transaction::{Target, TxId};
use sip::{Method, NameAddr, Request, Uri};
use std::time::Instant;

const CONTENT_TYPE: &str = "application/simple-message-summary";
const EVENT: &str = "message-summary";
/// Longest subscription granted.
const MAX_EXPIRES: u64 = 3600;

impl From<&Dialog> for SubscriptionDialog {
    fn from(d: &Dialog) -> SubscriptionDialog {
        SubscriptionDialog {
            call_id: d.call_id.clone(),
            local_tag: d.local_tag.clone(),
            remote_tag: d.remote_tag.clone(),
            local_uri: d.local_uri.clone(),
            remote_uri: d.remote_uri.clone(),
            remote_target: d.remote_target.clone(),
            route_set: d.route_set.clone(),
            local_cseq: d.local_cseq,
            target: d.target,
        }
    }
}

fn dialog_of(s: &SubscriptionDialog) -> Dialog {
    Dialog {
        call_id: s.call_id.clone(),
        local_tag: s.local_tag.clone(),
        remote_tag: s.remote_tag.clone(),
        local_uri: s.local_uri.clone(),
        remote_uri: s.remote_uri.clone(),
        remote_target: s.remote_target.clone(),
        route_set: s.route_set.clone(),
        local_cseq: s.local_cseq,
        remote_cseq: 0,
        target: s.target,
    }
}

impl Cx {
    /// The wall clock at `now`, unix seconds (subscriptions lapse by it).
    fn unix_secs(&self, now: Instant) -> u64 {
        u64::try_from(self.unix_ms(now) / 1000).unwrap_or(0)
    }

    /// A SUBSCRIBE outside any call: a new subscription, or a refresh of one of ours.
    pub(super) fn subscribe(&mut self, now: Instant, tx: TxId, req: Request, source: Target) {
        let event = req
            .headers
            .get("Event")
            .unwrap_or_default()
            .to_ascii_lowercase();
        if event.split(';').next().map(str::trim) != Some(EVENT) {
            let mut resp = req.response(489, Some("Bad Event"), Some(&self.new_tag()));
            resp.headers.push("Allow-Events", EVENT);
            return self.layer.respond(now, tx, resp);
        }
        let Ok(to) = req.headers.to() else {
            return self.reply(now, tx, &req, 400, Some("Bad To"));
        };
        let Some(mailbox) = req.uri.user_unescaped().or_else(|| to.uri.user_unescaped()) else {
            return self.reply(now, tx, &req, 404, None);
        };
        if !self.has_voicemail(&mailbox) {
            return self.reply(now, tx, &req, 404, None);
        }
        let Some(identity) = self.authenticate(now, tx, &req, source, false) else {
            return;
        };
        if identity.as_ref().is_some_and(|u| *u != mailbox) {
            return self.reply(now, tx, &req, 403, Some("Not Your Mailbox"));
        }
        let asked = req
            .headers
            .expires()
            .ok()
            .flatten()
            .map_or(MAX_EXPIRES, u64::from);
        let expires = asked.min(MAX_EXPIRES);
        let call_id = req.headers.call_id().unwrap_or_default().to_string();
        let existing = super::to_tag(&req.headers)
            .and_then(|tag| self.node.mailboxes().subscription(&call_id, &tag));
        let dialog = match &existing {
            Some(sub) => sub.dialog.clone(),
            None => {
                let tag = self.new_tag();
                let Some(d) = Dialog::uas(&req, &tag, source) else {
                    return self.reply(now, tx, &req, 400, Some("Bad Dialog Headers"));
                };
                SubscriptionDialog::from(&d)
            }
        };
        let mut ok = req.response(200, None, Some(&dialog.local_tag));
        ok.headers.push("Expires", expires.to_string());
        ok.headers
            .push("Contact", self.contact_header(source.transport));
        self.layer.respond(now, tx, ok);
        // The NOTIFY that every SUBSCRIBE gets (RFC 6665 §4.2.1.2).
        let mut dialog = dialog;
        dialog.local_cseq += 1;
        let state = if expires == 0 {
            "terminated;reason=timeout".to_string()
        } else {
            format!("active;expires={expires}")
        };
        self.send_summary(now, &dialog, &mailbox, &state);
        // Kept with the CSeq just used (expires 0: removed).
        let lapses = if expires == 0 {
            0
        } else {
            self.unix_secs(now) + expires
        };
        self.node.mailboxes().subscribe(Subscription {
            mailbox: mailbox.clone(),
            dialog,
            expires_unix: lapses,
        });
        tracing::info!(%mailbox, expires, "message-summary subscription");
    }

    /// Tell `mailbox`'s phones its summary: in each subscription's dialog, else unsolicited
    /// to each registered contact.
    pub(super) fn notify_mwi(&mut self, now: Instant, mailbox: &str) {
        let dialogs = self
            .node
            .mailboxes()
            .notify_dialogs(mailbox, self.unix_secs(now));
        if !dialogs.is_empty() {
            for d in dialogs {
                self.send_summary(now, &d, mailbox, "active");
            }
            return;
        }
        let domain = self.config.sip.domain.clone();
        for binding in self.node.lookup(now, mailbox) {
            let Ok(uri) = Uri::parse(&binding.contact) else {
                continue;
            };
            let account = Uri::sip(Some(mailbox), &domain, None);
            let mut from = NameAddr::new(account.clone());
            from.set_param("tag", Some(self.new_tag()));
            let via = self.via(binding.target.transport);
            let mut h = sip::Headers::new();
            h.push("Via", via.header());
            h.push("Max-Forwards", "70");
            h.push("From", from.to_string());
            h.push("To", NameAddr::new(account).to_string());
            h.push("Call-ID", self.new_call_id());
            h.push("CSeq", "1 NOTIFY");
            h.push("Contact", self.contact_header(binding.target.transport));
            h.push("Event", EVENT);
            h.push("Subscription-State", "active");
            h.push("Content-Type", CONTENT_TYPE);
            let req = Request {
                method: Method::Notify,
                uri,
                headers: h,
                body: self.summary(mailbox).into_bytes(),
            };
            let _ = self.send_request(now, req, binding.target);
        }
    }

    fn summary(&self, mailbox: &str) -> String {
        let (new, saved) = self.node.mailboxes().counts(mailbox);
        let account = format!("sip:{mailbox}@{}", self.config.sip.domain);
        summary_body(&account, new, saved)
    }

    /// A NOTIFY of the summary in the subscription's dialog, with its `local_cseq`.
    fn send_summary(&mut self, now: Instant, sd: &SubscriptionDialog, mailbox: &str, state: &str) {
        let d = dialog_of(sd);
        let via = self.via(d.target.transport);
        let mut req = d.request_with_cseq(Method::Notify, d.local_cseq, &via);
        req.headers.push("Event", EVENT);
        req.headers.push("Subscription-State", state.to_string());
        req.headers
            .push("Contact", self.contact_header(d.target.transport));
        req.headers.push("Content-Type", CONTENT_TYPE);
        req.body = self.summary(mailbox).into_bytes();
        let target = d.target;
        let _ = self.send_request(now, req, target);
    }
}
