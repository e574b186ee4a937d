//! Sans-IO SIP: message parsing and printing, transactions (RFC 3261 §17), dialogs, digest
//! authentication and registrar bindings. Nothing here opens a socket or reads the clock:
//! callers pass the time in and perform the transmissions this crate asks for.

pub mod auth;
pub mod header;
pub mod message;
pub mod transaction;
pub mod uri;
pub mod validate;
pub mod wire;

pub use header::{CSeq, NameAddr, Via};
pub use message::{Header, Headers, Message, Method, Request, Response};
pub use uri::{Scheme, Uri};
pub use wire::{parse_datagram, Framer, WireError};

/// A header value that does not parse.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum HeaderError {
    #[error("missing {0} header")]
    Missing(&'static str),
    #[error("bad URI: {0}")]
    Uri(String),
    #[error("bad Via: {0}")]
    Via(String),
    #[error("bad address: {0}")]
    NameAddr(String),
    #[error("bad CSeq: {0}")]
    CSeq(String),
    #[error("bad quoted string: {0}")]
    Quoted(String),
    #[error("bad parameter: {0}")]
    Param(String),
    #[error("bad {0} value {1:?}")]
    Number(&'static str, String),
}
