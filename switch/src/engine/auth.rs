//! Digest authentication of requests (RFC 3261 §22): REGISTER is challenged with 401,
//! INVITE with 407. Sources in `sip.trusted` pass without credentials, and so do requests
//! over a connection already authenticated as a user (a SIP WebSocket opened with that
//! user's API session), as that user.

use super::Cx;
use sip::auth::{parse_credentials, AuthError, AuthOutcome};
use sip::transaction::{Target, TxId};
use sip::Request;
use std::time::Instant;

impl Cx {
    /// `Some(Some(user))` when the request carries valid credentials, `Some(None)` when the
    /// source is trusted, `None` when a challenge or refusal was sent instead.
    pub(super) fn authenticate(
        &mut self,
        now: Instant,
        tx: TxId,
        req: &Request,
        source: Target,
        proxy: bool,
    ) -> Option<Option<String>> {
        if self.config.sip.is_trusted(source.addr.ip()) {
            return Some(None);
        }
        if let Some(user) = self.node.connection_user(source) {
            // The connection proves one user: that user's requests pass; anyone else's
            // (a REGISTER for another address-of-record, an INVITE from another user) is
            // challenged as usual.
            let claimed = if req.method == sip::Method::Register {
                req.headers.to().ok()
            } else {
                req.headers.from().ok()
            };
            if claimed.and_then(|n| n.uri.user_unescaped()).as_deref() == Some(user.as_str()) {
                return Some(Some(user));
            }
        }
        let (header, challenge_header, code) = if proxy {
            ("Proxy-Authorization", "Proxy-Authenticate", 407)
        } else {
            ("Authorization", "WWW-Authenticate", 401)
        };
        let realm = self.config.sip.domain.clone();
        let creds = req
            .headers
            .get_all(header)
            .filter_map(|v| parse_credentials(v).ok())
            .find(|c| c.realm == realm);
        let mut stale = false;
        if let Some(creds) = creds {
            let config = self.config.clone();
            let request_uri = req.uri.to_string();
            let outcome = self.node.auth().verify(
                self.unix_ms(now).max(0) as u64 / 1000,
                req.method.as_str(),
                &request_uri,
                &creds,
                |user| config.user(user).and_then(|u| u.password.clone()),
            );
            match outcome {
                AuthOutcome::Ok { username } => return Some(Some(username)),
                AuthOutcome::Stale => stale = true,
                AuthOutcome::Rejected(e) => {
                    tracing::info!(user = %creds.username, reason = %e, from = %source.addr, "authentication failed");
                    self.counters.auth_failures += 1;
                    match e {
                        AuthError::BadResponse | AuthError::UnknownUser => {
                            // A guessed password or user: too many from this address
                            // ban it (answered this once still).
                            self.node.edge().auth_failed(source.addr.ip(), now);
                            self.reply(now, tx, req, 403, Some("Bad Credentials"));
                            return None;
                        }
                        // RFC 2617 §3.2.2.5, RFC 7616 §3.4.6: credentials for another URI.
                        AuthError::UriMismatch => {
                            self.reply(now, tx, req, 400, Some("Digest URI Mismatch"));
                            return None;
                        }
                        _ => {}
                    }
                }
            }
        }
        let tag = self.new_tag();
        let mut resp = req.response(code, None, Some(&tag));
        let algorithms = self.config.sip.digest_algorithms.clone();
        let unix = self.unix_ms(now).max(0) as u64 / 1000;
        for c in self.node.auth().challenges_for(unix, stale, &algorithms) {
            resp.headers.push(challenge_header, c);
        }
        resp.headers
            .push("Server", self.config.sip.user_agent.clone());
        self.layer.respond(now, tx, resp);
        None
    }
}
