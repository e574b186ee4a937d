//! SIP over WebSocket (RFC 7118) at `/sip` of the HTTP (`ws://`) and HTTPS (`wss://`)
//! listeners.
//!
//! - The upgrade must offer the subprotocol `sip` and is answered with it; without it the
//!   request is refused with 400, since a client that does not speak `sip` would not
//!   understand what we send.
//! - Each WebSocket message, text or binary, holds one SIP message: no framing, no
//!   Content-Length needed. Unparseable ones get the RFC's answer (400 and the like) on
//!   the socket, which stays open: message boundaries are kept, so nothing is out of step.
//! - Messages from the client carry Via `SIP/2.0/WS` or `WSS`; everything for the client,
//!   answers and new requests alike, goes down the socket it connected with ([`WsPool`]),
//!   because a WebSocket client cannot be reached by a new connection (RFC 7118 §5). The
//!   client's registrations go with the socket when it closes.
//! - The credential: an API session of the pages (cookie) or an API token (bearer), of an
//!   account whose extension is the SIP user, lets that user's REGISTER and INVITE over the
//!   socket pass without digest as long as the session lives. Without one, or for
//!   another user, digest authentication applies as on every transport. A credential
//!   that is sent but expired or unknown refuses the upgrade with 401.
//! - The edge guard counts each message like a UDP datagram or TCP message; a banned
//!   address is refused at the upgrade, and open sockets are capped by a [`Gate`]
//!   (`listener="sip-ws"` in `/metrics`).
//!
//! [`Gate`]: crate::listener::Gate

use crate::accounts::{Accounts, COOKIE};
use crate::http_server::{ClientAddr, Secure};
use crate::metrics::Metrics;
use crate::registrar::Registrar;
use crate::router::{Router, ShardInput};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Extension, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Json;
use futures_util::{SinkExt, StreamExt};
use sip::transaction::{Target, TransportKind};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

/// The path of SIP over WebSocket on both listeners.
pub const PATH: &str = "/sip";
/// The subprotocol of RFC 7118 §4.1.
pub const SUBPROTOCOL: &str = "sip";
/// The largest SIP message taken over a WebSocket (as over UDP).
const MAX_MESSAGE: usize = 65_535;

/// What the upgrade request proved: the API credential to check again at each use.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Credential {
    Cookie(String),
    Bearer(String),
}

struct Conn {
    tx: mpsc::UnboundedSender<Vec<u8>>,
    credential: Option<Credential>,
}

/// The open SIP WebSocket connections, by the client's address and transport. One owner:
/// each connection's task adds itself at the upgrade and removes itself when it ends.
pub struct WsPool {
    conns: Mutex<HashMap<Target, Conn>>,
    accounts: Accounts,
}

impl WsPool {
    pub fn new(accounts: Accounts) -> Arc<WsPool> {
        Arc::new(WsPool {
            conns: Mutex::new(HashMap::new()),
            accounts,
        })
    }

    /// Queues `data` for the client at `target`; `false` when it has no connection.
    pub fn send(&self, target: Target, data: Vec<u8>) -> bool {
        let conns = self.conns.lock().unwrap_or_else(PoisonError::into_inner);
        conns.get(&target).is_some_and(|c| c.tx.send(data).is_ok())
    }

    /// The SIP user whose live API session (or token) opened the connection at `source`:
    /// requests of that user over it need no digest. Checked anew at each call, so a
    /// logout or an expired session ends the privilege at once.
    pub fn user_of(&self, source: Target) -> Option<String> {
        if !source.transport.is_client_only() {
            return None;
        }
        let credential = {
            let conns = self.conns.lock().unwrap_or_else(PoisonError::into_inner);
            conns.get(&source)?.credential.clone()?
        };
        let principal = match &credential {
            Credential::Cookie(c) => self.accounts.authenticate(Some(c), None),
            Credential::Bearer(b) => self.accounts.authenticate(None, Some(b)),
        };
        principal.ok().flatten()?.extension
    }

    /// Open connections.
    pub fn len(&self) -> usize {
        self.conns
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn add(
        &self,
        target: Target,
        tx: mpsc::UnboundedSender<Vec<u8>>,
        credential: Option<Credential>,
    ) {
        let mut conns = self.conns.lock().unwrap_or_else(PoisonError::into_inner);
        conns.insert(target, Conn { tx, credential });
    }

    fn remove(&self, target: Target, tx: &mpsc::UnboundedSender<Vec<u8>>) {
        let mut conns = self.conns.lock().unwrap_or_else(PoisonError::into_inner);
        if conns.get(&target).is_some_and(|c| c.tx.same_channel(tx)) {
            conns.remove(&target);
        }
    }
}

/// What the `/sip` route needs.
#[derive(Clone)]
pub struct SipWs {
    pub pool: Arc<WsPool>,
    pub router: Router,
    pub metrics: Arc<Metrics>,
    pub edge: Arc<crate::edge::Edge>,
    pub registrar: Arc<RwLock<Registrar>>,
    /// Counts the open SIP sockets for `/metrics` (`listener="sip-ws"`) and caps them
    /// (503 beyond), in all and per address.
    pub gate: Arc<crate::listener::Gate>,
    /// How often the switch pings an open socket: well within the HTTP idle timeout, so
    /// a quiet phone stays connected between its REGISTER refreshes.
    pub ping_every: Duration,
    /// Turns true when the switch shuts down: every socket is closed (after the calls'
    /// BYEs went down it).
    pub shutdown: tokio::sync::watch::Receiver<bool>,
}

/// The `/sip` route, to merge into the HTTP app.
pub fn router(state: SipWs) -> axum::Router {
    axum::Router::new()
        .route(PATH, get(upgrade))
        .with_state(state)
}

fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(serde_json::json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

/// Whether the client offered subprotocol `sip` (tokens are case-insensitive here, as
/// some phones send `SIP`).
fn offers_sip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case(SUBPROTOCOL))
}

/// The API credential the upgrade carries, if any; `Err` when it is malformed.
fn credential_of(headers: &HeaderMap) -> Result<Option<Credential>, ()> {
    let bearer = crate::api::guard::bearer(headers).map_err(|_| ())?;
    if let Some(b) = bearer {
        return Ok(Some(Credential::Bearer(b.to_string())));
    }
    Ok(crate::api::guard::cookie(headers, COOKIE).map(|c| Credential::Cookie(c.to_string())))
}

async fn upgrade(
    State(s): State<SipWs>,
    Extension(ClientAddr(addr)): Extension<ClientAddr>,
    secure: Option<Extension<Secure>>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if !offers_sip(&headers) {
        return refuse(
            StatusCode::BAD_REQUEST,
            "subprotocol_required",
            "SIP over WebSocket needs the subprotocol \"sip\" (Sec-WebSocket-Protocol: sip, RFC 7118)",
        );
    }
    if s.edge.admit(addr.ip(), Instant::now()) == crate::edge::Verdict::Banned {
        return refuse(
            StatusCode::FORBIDDEN,
            "banned",
            "this address is banned for now",
        );
    }
    let Some(slot) = s.gate.admit(addr.ip()) else {
        return refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            "too_many_connections",
            "too many SIP WebSocket connections",
        );
    };
    let credential = match credential_of(&headers) {
        Ok(c) => c,
        Err(()) => {
            return refuse(
                StatusCode::UNAUTHORIZED,
                "bad_authorization",
                "the Authorization header is not a bearer token",
            )
        }
    };
    if let Some(c) = &credential {
        let checked = match c {
            Credential::Cookie(c) => s.pool.accounts.authenticate(Some(c), None),
            Credential::Bearer(b) => s.pool.accounts.authenticate(None, Some(b)),
        };
        if let Err(e) = checked {
            return refuse(StatusCode::UNAUTHORIZED, "unauthenticated", &e.to_string());
        }
    }
    let transport = match secure {
        Some(Extension(Secure(true))) => TransportKind::Wss,
        _ => TransportKind::Ws,
    };
    let source = Target { transport, addr };
    ws.protocols([SUBPROTOCOL])
        .max_message_size(MAX_MESSAGE)
        .max_frame_size(MAX_MESSAGE)
        .on_upgrade(move |socket| async move {
            serve(s, socket, source, credential).await;
            drop(slot);
        })
}

/// One client's connection, until it closes.
async fn serve(s: SipWs, socket: WebSocket, source: Target, credential: Option<Credential>) {
    let addr = source.addr;
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    s.pool.add(source, tx.clone(), credential);
    tracing::info!(%addr, transport = source.transport.via_token(), "SIP WebSocket connected");
    let (mut sink, mut stream) = socket.split();
    let mut ping = tokio::time::interval(s.ping_every);
    ping.tick().await;
    let mut shutdown = s.shutdown.clone();
    let stopping = async move {
        let _ = shutdown.wait_for(|stop| *stop).await;
    };
    tokio::pin!(stopping);
    let why = loop {
        tokio::select! {
            _ = &mut stopping => {
                // What the shards queued last (BYEs) goes first.
                while let Ok(data) = rx.try_recv() {
                    let _ = sink.send(outgoing(data)).await;
                }
                break "the switch is shutting down";
            }
            m = stream.next() => {
                let data = match m {
                    Some(Ok(Message::Text(t))) => t.as_bytes().to_vec(),
                    Some(Ok(Message::Binary(b))) => b.to_vec(),
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
                    Some(Ok(Message::Close(_))) | None => break "closed by the client",
                    Some(Err(_)) => break "broken",
                };
                match receive(&s, source, data) {
                    Received::Taken => {}
                    Received::Answer(a) => {
                        if sink.send(outgoing(a)).await.is_err() {
                            break "broken";
                        }
                    }
                    Received::Close => break "banned",
                }
            }
            out = rx.recv() => {
                let Some(data) = out else { break "closed" };
                if sink.send(outgoing(data)).await.is_err() {
                    break "broken";
                }
            }
            _ = ping.tick() => {
                if sink.send(Message::Ping(Default::default())).await.is_err() {
                    break "broken";
                }
            }
        }
    };
    s.pool.remove(source, &tx);
    let _ = sink.close().await;
    // Nothing can reach the client's contacts any more (RFC 7118 §5).
    let dropped = s
        .registrar
        .write()
        .map(|mut r| r.drop_target(source))
        .unwrap_or(0);
    tracing::info!(%addr, reason = why, bindings_dropped = dropped, "SIP WebSocket ended");
}

enum Received {
    Taken,
    Answer(Vec<u8>),
    Close,
}

/// One message from the client: to its shard, or answered here when it cannot be parsed.
fn receive(s: &SipWs, source: Target, data: Vec<u8>) -> Received {
    s.metrics.inc_received();
    match s.edge.admit(source.addr.ip(), Instant::now()) {
        crate::edge::Verdict::Pass => {}
        crate::edge::Verdict::Limited => return Received::Taken,
        crate::edge::Verdict::Banned => return Received::Close,
    }
    // A keep-alive (RFC 5626 §3.5.1 CRLF) carries nothing to parse.
    if data.iter().all(|b| b.is_ascii_whitespace()) {
        return Received::Taken;
    }
    match sip::parse_datagram(&data) {
        Ok(msg) => {
            let shard = s.router.shard_of_message(&msg);
            s.router.send(shard, ShardInput::Message { msg, source });
            Received::Taken
        }
        Err(e) => {
            s.metrics.inc_parse_error();
            tracing::info!(%e, addr = %source.addr, "unparseable SIP message over WebSocket");
            match sip::validate::reject_unparseable(&data, &e) {
                Some(answer) => Received::Answer(answer),
                None => Received::Taken,
            }
        }
    }
}

/// A SIP message as a WebSocket message: text when it is UTF-8 (RFC 7118 §5.1), else binary.
fn outgoing(data: Vec<u8>) -> Message {
    match String::from_utf8(data) {
        Ok(text) => Message::Text(text.into()),
        Err(e) => Message::Binary(e.into_bytes().into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.append(*n, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn needs_the_sip_subprotocol() {
        assert!(offers_sip(&headers(&[("sec-websocket-protocol", "sip")])));
        assert!(offers_sip(&headers(&[(
            "sec-websocket-protocol",
            "chat, SIP"
        )])));
        assert!(!offers_sip(&headers(&[(
            "sec-websocket-protocol",
            "sips, chat"
        )])));
        assert!(!offers_sip(&HeaderMap::new()));
    }

    #[test]
    fn reads_the_credential_of_the_upgrade() {
        assert_eq!(credential_of(&HeaderMap::new()), Ok(None));
        assert_eq!(
            credential_of(&headers(&[("cookie", "x=1; ccswitch_session=abc")])),
            Ok(Some(Credential::Cookie("abc".into())))
        );
        assert_eq!(
            credential_of(&headers(&[("authorization", "Bearer cct_1")])),
            Ok(Some(Credential::Bearer("cct_1".into())))
        );
        assert_eq!(
            credential_of(&headers(&[("authorization", "Basic eDp5")])),
            Err(())
        );
    }

    #[test]
    fn sends_text_when_it_can() {
        assert!(matches!(
            outgoing(b"SIP/2.0 200 OK\r\n\r\n".to_vec()),
            Message::Text(_)
        ));
        assert!(matches!(outgoing(vec![0xff, 0xfe]), Message::Binary(_)));
    }
}
