//! REGISTER (RFC 3261 §10.3): authenticate, check the address-of-record, apply the contact
//! changes to the shared registrar and answer with the current bindings.

use super::node::Registration;
use super::Cx;
use crate::registrar::ContactUpdate;
use sip::transaction::{Target, TxId};
use sip::Request;
use std::time::Instant;

impl Cx {
    pub(super) fn register(&mut self, now: Instant, tx: TxId, req: Request, source: Target) {
        let Ok(to) = req.headers.to() else {
            return self.reply(now, tx, &req, 400, Some("Bad To"));
        };
        let Some(aor) = to.uri.user_unescaped() else {
            return self.reply(now, tx, &req, 404, Some("No User In To"));
        };
        if self.config.user(&aor).is_none() {
            return self.reply(now, tx, &req, 404, None);
        }
        let Some(identity) = self.authenticate(now, tx, &req, source, false) else {
            return;
        };
        if identity.as_ref().is_some_and(|u| *u != aor) {
            return self.reply(now, tx, &req, 403, Some("Credentials Do Not Match To"));
        }
        let sip_cfg = &self.config.sip;
        let (min, max, default) = (
            sip_cfg.register_min_expires,
            sip_cfg.register_max_expires,
            sip_cfg.register_default_expires,
        );
        let header_expires = req.headers.expires().ok().flatten();
        let star = req.headers.get_all("Contact").any(|c| c.trim() == "*");
        let contacts = match req.headers.contacts() {
            Ok(c) => c,
            Err(_) => return self.reply(now, tx, &req, 400, Some("Bad Contact")),
        };
        if star && (!contacts.is_empty() || header_expires != Some(0)) {
            return self.reply(now, tx, &req, 400, Some("Invalid Wildcard Contact"));
        }
        let mut updates = Vec::new();
        for c in &contacts {
            let expires = c
                .param("expires")
                .flatten()
                .and_then(|e| e.parse::<u32>().ok())
                .or(header_expires)
                .unwrap_or(default);
            if expires > 0 && expires < min {
                let tag = self.new_tag();
                let mut resp = req.response(423, None, Some(&tag));
                resp.headers.push("Min-Expires", min.to_string());
                return self.layer.respond(now, tx, resp);
            }
            let q = c
                .param("q")
                .flatten()
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            updates.push(ContactUpdate {
                contact: c.uri.to_string(),
                expires: expires.min(max),
                q,
            });
        }
        let call_id = req.headers.call_id().unwrap_or_default().to_string();
        let cseq = req.headers.cseq().map(|c| c.seq).unwrap_or(0);
        let ua = req
            .headers
            .get("User-Agent")
            .unwrap_or_default()
            .to_string();
        let result = self.node.register(
            now,
            Registration {
                aor: &aor,
                call_id: &call_id,
                cseq,
                source,
                user_agent: &ua,
                remove_all: star,
                updates,
            },
        );
        match result {
            Err(e) => self.reply(now, tx, &req, 500, Some(&e.to_string())),
            Ok(bindings) => {
                let tag = self.new_tag();
                let mut resp = req.response(200, None, Some(&tag));
                for b in bindings {
                    match b.expires_at {
                        Some(at) => resp.headers.push(
                            "Contact",
                            format!(
                                "<{}>;expires={}",
                                b.contact,
                                at.saturating_duration_since(now).as_secs()
                            ),
                        ),
                        None => resp.headers.push("Contact", format!("<{}>", b.contact)),
                    }
                }
                resp.headers.push("Date", httpdate(self.unix_ms(now)));
                resp.headers
                    .push("Server", self.config.sip.user_agent.clone());
                tracing::info!(user = %aor, from = %source.addr, contacts = resp.headers.get_all("Contact").count(), "registration updated");
                self.layer.respond(now, tx, resp);
            }
        }
    }
}

/// RFC 1123 date for the Date header of REGISTER answers.
fn httpdate(unix_ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(unix_ms)
        .unwrap_or_default()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string()
}
