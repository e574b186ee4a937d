//! Transaction matching keys (RFC 3261 §17.1.3 and §17.2.3, with the RFC 2543 fallback).

use crate::message::{Method, Request, Response};

/// Server transaction key. RFC 3261 requests match on branch, sent-by and method (ACK and
/// CANCEL handled by the caller); RFC 2543 requests, whose branch lacks the magic cookie,
/// match on Request-URI, To tag, From tag, Call-ID, CSeq and top Via.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ServerKey {
    Rfc3261 {
        branch: String,
        sent_by: String,
        method: Method,
    },
    Rfc2543 {
        uri: String,
        from_tag: String,
        call_id: String,
        cseq: u32,
        via: String,
        method: Method,
    },
}

impl ServerKey {
    /// Key of the transaction `r` belongs to, with the method given (so an ACK or CANCEL
    /// can look up its INVITE). `None` when the request lacks the headers to key it.
    pub fn of(r: &Request, method: Method) -> Option<ServerKey> {
        let via = r.headers.top_via().ok()?;
        let sent_by = match via.port {
            Some(p) => format!("{}:{}", via.host.to_ascii_lowercase(), p),
            None => via.host.to_ascii_lowercase(),
        };
        match via.branch() {
            Some(b) if b.starts_with("z9hG4bK") => Some(ServerKey::Rfc3261 {
                branch: b.to_string(),
                sent_by,
                method,
            }),
            _ => {
                let cseq = r.headers.cseq().ok()?;
                let from = r.headers.from().ok()?;
                Some(ServerKey::Rfc2543 {
                    uri: r.uri.to_string(),
                    from_tag: from.tag().unwrap_or_default().to_string(),
                    call_id: r.headers.call_id()?.to_string(),
                    cseq: cseq.seq,
                    via: sent_by,
                    method,
                })
            }
        }
    }
}

/// Client transaction key: branch of the top Via and the CSeq method (§17.1.3).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ClientKey {
    pub branch: String,
    pub method: Method,
}

impl ClientKey {
    pub fn of_request(r: &Request) -> Option<ClientKey> {
        let via = r.headers.top_via().ok()?;
        Some(ClientKey {
            branch: via.branch()?.to_string(),
            method: r.method.clone(),
        })
    }

    pub fn of_response(r: &Response) -> Option<ClientKey> {
        let via = r.headers.top_via().ok()?;
        let cseq = r.headers.cseq().ok()?;
        Some(ClientKey {
            branch: via.branch()?.to_string(),
            method: cseq.method,
        })
    }
}
