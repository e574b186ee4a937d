//! The HTTP listener: the API router served by hyper with the limits of `[http]`, over
//! plain TCP or, for `[tls] https_listen`, over TLS (the TLS handshake must end within
//! the header timeout).
//!
//! - connections are admitted by a [`Gate`] (`max_connections`), accepted with back-off
//!   when out of file descriptors;
//! - a request's headers must arrive within `header_timeout` of their first byte (hyper's
//!   header read timer), and a connection silent both ways for `idle_timeout` is closed
//!   (a kept-alive one, or one that never sent anything; event streams send pings well
//!   within it);
//! - its body within `body_timeout` of the headers, else `408` and the connection closes;
//! - `Host` must name this server (an IP literal, `localhost` or one of `allowed_hosts`)
//!   and `Origin`, when sent, the same host and port or an allowed host: a page on another
//!   site cannot drive the API, by DNS rebinding or by a cross-site form or WebSocket;
//! - a connection closed with request bytes unread lingers a moment, reading and
//!   discarding them, so the client gets the answer (a `413`, say) instead of a reset.

use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::time::Sleep;
use tower::ServiceExt;

use crate::config::HttpConfig;
use crate::listener::{next_connection, AcceptErrors, Gate, Guarded};

/// How long a closing connection keeps reading what the client still sends.
const LINGER: Duration = Duration::from_secs(2);
/// Most bytes read and discarded while lingering.
const LINGER_BYTES: usize = 64 * 1024 * 1024;

/// The client's address, in every request's extensions (login back-off, audit).
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub std::net::SocketAddr);

/// Whether the request came over TLS, in every request's extensions (SIP over WebSocket
/// tells `WS` from `WSS` by it).
#[derive(Debug, Clone, Copy)]
pub struct Secure(pub bool);

/// A connection's byte stream, plain or TLS.
trait Io: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin> Io for T {}

/// Serves `app` on `listener` (over TLS with `tls`) until `stop` resolves, then lets open
/// requests finish.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    config: &HttpConfig,
    gate: Arc<Gate>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    stop: impl std::future::Future<Output = ()>,
) {
    let app = guard(app, config);
    let (closing, closed) = tokio::sync::watch::channel(false);
    let mut errors = AcceptErrors::default();
    let header_timeout = config.header_timeout;
    let idle_timeout = config.idle_timeout;
    tokio::pin!(stop);
    loop {
        let (stream, addr, slot) = tokio::select! {
            c = next_connection(&listener, &gate, &mut errors) => c,
            _ = &mut stop => break,
        };
        let _ = stream.set_nodelay(true);
        let guarded = Guarded::new(stream, slot)
            .lingering(LINGER, LINGER_BYTES)
            .idle_timeout(idle_timeout);
        let secure = tls.is_some();
        let service = TowerToHyperService::new(app.clone().map_request(
            move |r: axum::http::Request<Incoming>| {
                let mut r = r.map(Body::new);
                r.extensions_mut().insert(ClientAddr(addr));
                r.extensions_mut().insert(Secure(secure));
                r
            },
        ));
        let mut closed = closed.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let io: Box<dyn Io> = match tls {
                None => Box::new(guarded),
                Some(acceptor) => {
                    match tokio::time::timeout(header_timeout, acceptor.accept(guarded)).await {
                        Ok(Ok(s)) => Box::new(s),
                        Ok(Err(e)) => {
                            tracing::debug!(%e, %addr, "HTTPS handshake failed");
                            return;
                        }
                        Err(_) => {
                            tracing::debug!(%addr, "HTTPS handshake not completed in time");
                            return;
                        }
                    }
                }
            };
            let io = TokioIo::new(io);
            let mut builder = Builder::new(TokioExecutor::new());
            builder
                .http1()
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let conn = builder.serve_connection_with_upgrades(io, service);
            tokio::pin!(conn);
            let stopping = async move {
                let _ = closed.wait_for(|c| *c).await;
            };
            tokio::select! {
                _ = conn.as_mut() => return,
                _ = stopping => {}
            }
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        });
    }
    drop(listener);
    drop(closed);
    let _ = closing.send(true);
    // Requests in flight get a moment to finish; event streams were closed before.
    let _ = tokio::time::timeout(Duration::from_secs(5), closing.closed()).await;
}

/// The checks every request passes before the API sees it.
fn guard(app: Router, config: &HttpConfig) -> Router {
    let hosts = Arc::new(config.allowed_hosts.clone());
    let body_timeout = config.body_timeout;
    app.layer(axum::middleware::from_fn(
        move |req: Request, next: Next| {
            let hosts = hosts.clone();
            async move { check(req, next, &hosts, body_timeout).await }
        },
    ))
}

async fn check(req: Request, next: Next, hosts: &[String], body_timeout: Duration) -> Response {
    if let Err(message) = check_origin(req.headers(), hosts) {
        return error(StatusCode::FORBIDDEN, "forbidden_host", message);
    }
    let fired = Arc::new(AtomicBool::new(false));
    let req = req.map(|b| {
        Body::new(TimedBody {
            inner: b,
            deadline: Box::pin(tokio::time::sleep(body_timeout)),
            fired: fired.clone(),
        })
    });
    let response = next.run(req).await;
    if fired.load(Ordering::Relaxed) {
        let mut r = error(
            StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            format!(
                "the request body did not arrive within {} s",
                body_timeout.as_secs()
            ),
        );
        r.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return r;
    }
    response
}

fn error(status: StatusCode, code: &str, message: String) -> Response {
    (
        status,
        Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

/// `Host` names us; `Origin`, when present, is us or an allowed host. `Err` says why not.
fn check_origin(headers: &HeaderMap, allowed: &[String]) -> Result<(), String> {
    let forbidden = Err;
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let Some(host_name) = authority_host(host) else {
        return forbidden(format!("Host {host:?} is not an address of this server"));
    };
    if !host_allowed(&host_name, allowed) {
        return forbidden(format!(
            "Host {host_name:?} is not an address of this server (see http.allowed_hosts)"
        ));
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return Ok(());
    };
    let origin = origin.to_str().unwrap_or("");
    let authority = origin
        .split_once("://")
        .map(|(_, rest)| rest.trim_end_matches('/'))
        .unwrap_or("");
    let same_origin = authority.eq_ignore_ascii_case(host);
    let listed = authority_host(authority).is_some_and(|h| allowed.contains(&h));
    if same_origin || listed {
        Ok(())
    } else {
        forbidden(format!(
            "requests from pages at {origin:?} are not accepted (see http.allowed_hosts)"
        ))
    }
}

/// The host of `host[:port]` (IPv6 in brackets), lower case; `None` when malformed.
fn authority_host(authority: &str) -> Option<String> {
    let authority = authority.trim();
    let host = if let Some(rest) = authority.strip_prefix('[') {
        let (h, after) = rest.split_once(']')?;
        if !(after.is_empty() || after.strip_prefix(':').is_some_and(is_port)) {
            return None;
        }
        h.parse::<std::net::Ipv6Addr>().ok()?;
        h
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) if is_port(p) => h,
            Some(_) => return None,
            None => authority,
        }
    };
    (!host.is_empty()).then(|| host.trim_end_matches('.').to_ascii_lowercase())
}

fn is_port(p: &str) -> bool {
    !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())
}

/// IP literals and `localhost` always (a rebinding attack needs a name it controls);
/// other names only when listed.
fn host_allowed(host: &str, allowed: &[String]) -> bool {
    host.parse::<IpAddr>().is_ok()
        || host == "localhost"
        || host.ends_with(".localhost")
        || allowed.iter().any(|a| a == host)
}

/// A request body that fails once its deadline passes, noting that it did.
struct TimedBody {
    inner: Body,
    deadline: Pin<Box<Sleep>>,
    fired: Arc<AtomicBool>,
}

impl HttpBody for TimedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        if let Poll::Ready(frame) = Pin::new(&mut self.inner).poll_frame(cx) {
            return Poll::Ready(frame);
        }
        if self.deadline.as_mut().poll(cx).is_ready() {
            self.fired.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(axum::Error::new("request body timeout"))));
        }
        Poll::Pending
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(host: &str, origin: Option<&str>) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::HOST,
            HeaderValue::from_str(host).unwrap_or(HeaderValue::from_static("")),
        );
        if let Some(o) = origin {
            h.insert(
                header::ORIGIN,
                HeaderValue::from_str(o).unwrap_or(HeaderValue::from_static("")),
            );
        }
        h
    }

    fn allowed(host: &str, origin: Option<&str>, list: &[&str]) -> bool {
        let list: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        check_origin(&headers(host, origin), &list).is_ok()
    }

    #[test]
    fn host_must_name_this_server() {
        assert!(allowed("127.0.0.1:8080", None, &[]));
        assert!(allowed("[::1]:8080", None, &[]));
        assert!(allowed("localhost:8080", None, &[]));
        assert!(allowed("10.1.2.3", None, &[]));
        // DNS rebinding: an attacker's name resolving to us.
        assert!(!allowed("evil.example:8080", None, &[]));
        assert!(allowed("cc.example.com:8080", None, &["cc.example.com"]));
        assert!(allowed("CC.Example.com.", None, &["cc.example.com"]));
        assert!(!allowed("", None, &[]));
        assert!(!allowed("127.0.0.1:80x", None, &[]));
        assert!(!allowed("[::1", None, &[]));
    }

    #[test]
    fn origin_must_be_this_server_or_listed() {
        assert!(allowed(
            "127.0.0.1:8080",
            Some("http://127.0.0.1:8080"),
            &[]
        ));
        assert!(allowed(
            "localhost:8080",
            Some("https://LOCALHOST:8080"),
            &[]
        ));
        // Another site, another local port, or an opaque origin: refused.
        assert!(!allowed("127.0.0.1:8080", Some("http://evil.example"), &[]));
        assert!(!allowed(
            "127.0.0.1:8080",
            Some("http://127.0.0.1:9999"),
            &[]
        ));
        assert!(!allowed("127.0.0.1:8080", Some("null"), &[]));
        assert!(allowed(
            "127.0.0.1:8080",
            Some("https://crm.example.com"),
            &["crm.example.com"]
        ));
    }
}
