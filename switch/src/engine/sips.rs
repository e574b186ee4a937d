//! The SIPS scheme (RFC 3261 §26.2.2, RFC 5630): a `sips:` Request-URI asks that every hop
//! to the resource be TLS, so the switch neither accepts one over a plain hop nor forwards
//! one over a plain hop.
//!
//! - A `sips:` Request-URI over UDP, TCP or plain WebSocket is refused with 416 Unsupported
//!   URI Scheme and `Warning: 380 ... "SIPS Not Allowed"`: the scheme is not allowed on the
//!   hop it came over (ACK is never answered).
//! - A `sips:` call to a user some of whose contacts are reached over plain transports gets
//!   480 Temporarily Unavailable with the same Warning (RFC 5630: the element must not
//!   downgrade, and 380 is what it answers when there are no SIPS contacts to use). TLS and
//!   secure WebSocket (RFC 7118) contacts count as secure.

use super::Cx;
use crate::registrar::Binding;
use sip::transaction::{Target, TransportKind, TxId};
use sip::{Method, Request, Scheme};
use std::time::Instant;

/// The warn-text RFC 5630 §6 registers for code 380.
const NOT_ALLOWED: &str = "380 ccswitch \"SIPS Not Allowed\"";

/// Whether signalling over `t` is protected by TLS.
pub(super) fn secure(t: TransportKind) -> bool {
    matches!(t, TransportKind::Tls | TransportKind::Wss)
}

/// Whether `bindings` may carry a request for a `sips:` Request-URI: all of them are TLS.
pub(super) fn all_secure(bindings: &[Binding]) -> bool {
    bindings.iter().all(|b| secure(b.target.transport))
}

impl Cx {
    /// Refuse a `sips:` request that came over a plain hop; `true` when it was refused.
    pub(super) fn refuse_sips_over_plain(
        &mut self,
        now: Instant,
        tx: TxId,
        req: &Request,
        source: Target,
    ) -> bool {
        if req.uri.scheme != Scheme::Sips || secure(source.transport) {
            return false;
        }
        if req.method != Method::Ack {
            self.counters.rejected += 1;
            self.reply_sips_not_allowed(now, tx, req, 416);
        }
        true
    }

    /// `code` with the 380 Warning.
    pub(super) fn reply_sips_not_allowed(
        &mut self,
        now: Instant,
        tx: TxId,
        req: &Request,
        code: u16,
    ) {
        self.reply_warning(now, tx, req, code, None, Some(NOT_ALLOWED));
    }
}
