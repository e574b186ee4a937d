//! Request bodies nobody read are drained, so the client reads our answer.
//!
//! A handler may answer before reading the whole body: 413 for a body over its limit
//! (before the first byte when `Content-Length` says so), 404 for an import into an unknown
//! campaign, 415, any refusal. If the unread rest were simply dropped, hyper would close
//! the connection with the client's bytes still arriving, the kernel would answer them
//! with a reset, and a client still writing sees a broken pipe and never reads the answer.
//! So when a body is dropped unfinished, its rest is read and thrown away in the
//! background, for at most [`DRAIN_TIME`] and [`DRAIN_BYTES`], while hyper sends the
//! answer; then hyper ends the connection (the 413 says `Connection: close`) with a FIN.
//! A client that asked `Expect: 100-continue` and was not told to continue has sent no
//! body, so nothing is drained: it reads the answer instead of sending.

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use http_body::{Frame, SizeHint};
use http_body_util::BodyExt;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// Longest a dropped body is drained.
pub const DRAIN_TIME: Duration = Duration::from_secs(5);
/// Most bytes of a dropped body drained (past this the connection is closed as hyper
/// would): the largest body any route takes.
pub const DRAIN_BYTES: usize = dialer::http::IMPORT_LIMIT;

/// Middleware: wraps every request body in a [`Drained`].
pub async fn drain_unread(req: Request, next: Next) -> Response {
    let waits_for_continue = req
        .headers()
        .get(header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let req = req.map(|body| {
        Body::new(Drained {
            inner: Some(body),
            started: false,
            waits_for_continue,
        })
    });
    next.run(req).await
}

/// A request body that drains its unread rest when dropped.
struct Drained {
    /// `None` once the body ended (or was handed to the drain).
    inner: Option<Body>,
    /// A frame was asked for (so hyper sent `100 Continue` if it was expected).
    started: bool,
    waits_for_continue: bool,
}

impl http_body::Body for Drained {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        self.started = true;
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let polled = Pin::new(inner).poll_frame(cx);
        if let Poll::Ready(None) = polled {
            self.inner = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner
            .as_ref()
            .is_none_or(http_body::Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), http_body::Body::size_hint)
    }
}

impl Drop for Drained {
    fn drop(&mut self) {
        let Some(body) = self.inner.take() else {
            return;
        };
        if http_body::Body::is_end_stream(&body) || (self.waits_for_continue && !self.started) {
            return;
        }
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(drain(body));
        }
    }
}

/// Reads and discards `body` until it ends, fails, or a bound is reached.
async fn drain(mut body: Body) {
    let mut read = 0usize;
    let reading = async {
        while let Some(Ok(frame)) = body.frame().await {
            read += frame.data_ref().map_or(0, Bytes::len);
            if read > DRAIN_BYTES {
                break;
            }
        }
    };
    if tokio::time::timeout(DRAIN_TIME, reading).await.is_err() {
        tracing::debug!("request body still arriving after the drain time; closing");
    }
}
