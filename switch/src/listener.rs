//! Accepting TCP connections without being taken down by them: a cap on open connections
//! in all and per source address ([`Gate`]), and an accept loop that backs off when the
//! process is out of file descriptors instead of spinning, logging that at most once per
//! interval ([`next_connection`]). Shared by the SIP TCP listener and the HTTP listener.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};

/// First wait after a failed accept; doubled on each failure in a row.
const BACKOFF_MIN: Duration = Duration::from_millis(10);
/// Longest wait between two accepts while they keep failing.
const BACKOFF_MAX: Duration = Duration::from_secs(1);
/// At most one log line per this interval about failed accepts or refused connections.
const LOG_EVERY: Duration = Duration::from_secs(10);

/// Counters of one listener, for `/metrics`.
#[derive(Default, Debug)]
pub struct GateStats {
    /// Connections open now.
    pub open: AtomicU64,
    /// Connections closed at once because a cap was reached.
    pub refused: AtomicU64,
    /// `accept` calls that failed (out of file descriptors, most often).
    pub accept_errors: AtomicU64,
    /// Connections closed for idling or for taking too long over a message.
    pub timeouts: AtomicU64,
}

/// Admission to one listener: at most `max` connections open, at most `max_per_ip` from
/// one address. Outbound connections count towards `max` too (they hold descriptors
/// alike) but are never refused: the switch opens them on its own routing decisions.
pub struct Gate {
    name: &'static str,
    max: usize,
    max_per_ip: usize,
    counts: Mutex<Counts>,
    pub stats: GateStats,
    refused_log: Mutex<LogLimiter>,
}

#[derive(Default)]
struct Counts {
    total: usize,
    per_ip: HashMap<IpAddr, usize>,
}

impl Gate {
    pub fn new(name: &'static str, max: usize, max_per_ip: usize) -> Arc<Gate> {
        Arc::new(Gate {
            name,
            max,
            max_per_ip,
            counts: Mutex::new(Counts::default()),
            stats: GateStats::default(),
            refused_log: Mutex::new(LogLimiter::default()),
        })
    }

    /// A slot for a new inbound connection from `ip`, or `None` when a cap is reached.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let mut c = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        let from_ip = c.per_ip.get(&ip).copied().unwrap_or(0);
        if c.total >= self.max || from_ip >= self.max_per_ip {
            drop(c);
            self.stats.refused.fetch_add(1, Relaxed);
            let mut log = self
                .refused_log
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            if let Some(suppressed) = log.allow(Instant::now()) {
                tracing::warn!(
                    listener = self.name,
                    %ip,
                    max = self.max,
                    max_per_ip = self.max_per_ip,
                    suppressed,
                    "connection refused: limit reached"
                );
            }
            return None;
        }
        c.total += 1;
        *c.per_ip.entry(ip).or_insert(0) += 1;
        self.stats.open.fetch_add(1, Relaxed);
        Some(Slot {
            gate: self.clone(),
            ip: Some(ip),
        })
    }

    /// A slot for a connection we open ourselves: counted, never refused.
    pub fn outbound(self: &Arc<Self>) -> Slot {
        let mut c = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        c.total += 1;
        self.stats.open.fetch_add(1, Relaxed);
        Slot {
            gate: self.clone(),
            ip: None,
        }
    }

    fn release(&self, ip: Option<IpAddr>) {
        let mut c = self.counts.lock().unwrap_or_else(PoisonError::into_inner);
        c.total = c.total.saturating_sub(1);
        if let Some(ip) = ip {
            if let Some(n) = c.per_ip.get_mut(&ip) {
                *n -= 1;
                if *n == 0 {
                    c.per_ip.remove(&ip);
                }
            }
        }
        self.stats.open.fetch_sub(1, Relaxed);
    }

    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// One admitted connection; dropping it frees its place.
pub struct Slot {
    gate: Arc<Gate>,
    ip: Option<IpAddr>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.gate.release(self.ip);
    }
}

/// Lets one line through per [`LOG_EVERY`] and says how many were held back.
#[derive(Default)]
struct LogLimiter {
    last: Option<Instant>,
    suppressed: u64,
}

impl LogLimiter {
    /// `Some(suppressed since the last line)` when a line may be written now.
    fn allow(&mut self, now: Instant) -> Option<u64> {
        match self.last {
            Some(t) if now.duration_since(t) < LOG_EVERY => {
                self.suppressed += 1;
                None
            }
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.suppressed))
            }
        }
    }
}

/// The accept loop's memory of failures in a row.
#[derive(Default)]
pub struct AcceptErrors {
    backoff: Duration,
    log: LogLimiter,
}

impl AcceptErrors {
    /// Records a failed accept and returns how long to wait before the next one. A failed
    /// accept leaves the connection in the backlog, so retrying at once would spin.
    fn failed(&mut self, gate: &Gate, e: &io::Error) -> Duration {
        gate.stats.accept_errors.fetch_add(1, Relaxed);
        self.backoff = (self.backoff * 2).clamp(BACKOFF_MIN, BACKOFF_MAX);
        if let Some(suppressed) = self.log.allow(Instant::now()) {
            tracing::warn!(
                listener = gate.name,
                error = %e,
                suppressed,
                retry_in_ms = self.backoff.as_millis() as u64,
                "accept failed; backing off"
            );
        }
        self.backoff
    }

    fn succeeded(&mut self) {
        self.backoff = Duration::ZERO;
    }
}

/// The next connection the gate admits. Connections over a cap are closed at once (they
/// leave the backlog, so the listener stays responsive); failed accepts back off.
pub async fn next_connection(
    listener: &TcpListener,
    gate: &Arc<Gate>,
    errors: &mut AcceptErrors,
) -> (TcpStream, SocketAddr, Slot) {
    loop {
        match listener.accept().await {
            Ok((stream, addr)) => {
                errors.succeeded();
                if let Some(slot) = gate.admit(addr.ip()) {
                    return (stream, addr, slot);
                }
                drop(stream);
            }
            Err(e) => {
                let wait = errors.failed(gate, &e);
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// A stream that holds its [`Slot`] for as long as it lives, also after an HTTP upgrade
/// hands it over to a WebSocket. With [`Guarded::lingering`], dropping it does not close
/// the socket at once: a task reads and discards what the peer still sends for a moment,
/// so that an answer given before the request was read whole (a `413`) reaches the peer
/// instead of being lost to a reset.
pub struct Guarded {
    stream: Option<TcpStream>,
    slot: Option<Slot>,
    linger: Option<(Duration, usize)>,
    /// With [`Guarded::idle_timeout`]: the limit, and the timer that fires when neither a
    /// read nor a write has made progress for that long.
    idle: Option<(Duration, Pin<Box<tokio::time::Sleep>>)>,
}

impl Guarded {
    pub fn new(stream: TcpStream, slot: Slot) -> Guarded {
        Guarded {
            stream: Some(stream),
            slot: Some(slot),
            linger: None,
            idle: None,
        }
    }

    /// Fails reads with `TimedOut` once the connection has been silent both ways for
    /// `limit`, which closes it; counted in the gate's `timeouts`.
    pub fn idle_timeout(mut self, limit: Duration) -> Guarded {
        self.idle = Some((limit, Box::pin(tokio::time::sleep(limit))));
        self
    }

    fn progressed(&mut self) {
        if let Some((limit, timer)) = &mut self.idle {
            let at = tokio::time::Instant::now() + *limit;
            timer.as_mut().reset(at);
        }
    }

    /// Linger at most `time`, reading at most `bytes`, when dropped.
    pub fn lingering(mut self, time: Duration, bytes: usize) -> Guarded {
        self.linger = Some((time, bytes));
        self
    }

    fn stream(&mut self) -> io::Result<&mut TcpStream> {
        self.stream
            .as_mut()
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))
    }
}

impl Drop for Guarded {
    fn drop(&mut self) {
        let (Some((time, bytes)), Some(stream), Ok(rt)) = (
            self.linger,
            self.stream.take(),
            tokio::runtime::Handle::try_current(),
        ) else {
            return;
        };
        let slot = self.slot.take();
        rt.spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let mut stream = stream;
            let _ = stream.shutdown().await;
            let mut buf = vec![0u8; 16384];
            let mut left = bytes;
            let _ = tokio::time::timeout(time, async {
                while left > 0 {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => left = left.saturating_sub(n),
                    }
                }
            })
            .await;
            drop(slot);
        });
    }
}

impl AsyncRead for Guarded {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match Pin::new(self.stream()?).poll_read(cx, buf) {
            Poll::Ready(r) => {
                self.progressed();
                Poll::Ready(r)
            }
            Poll::Pending => {
                let fired = match &mut self.idle {
                    Some((_, timer)) => timer.as_mut().poll(cx).is_ready(),
                    None => false,
                };
                if fired {
                    if let Some(slot) = &self.slot {
                        slot.gate.stats.timeouts.fetch_add(1, Relaxed);
                    }
                    self.idle = None;
                    // Nothing unread to wait for: close at once, freeing the slot.
                    self.linger = None;
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "connection idle",
                    )));
                }
                Poll::Pending
            }
        }
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(self.stream()?).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.progressed();
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.stream()?).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(self.stream()?).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let r = Pin::new(self.stream()?).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.progressed();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.as_ref().is_some_and(|s| s.is_write_vectored())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn caps_hold_in_all_and_per_address_and_free_on_drop() {
        let gate = Gate::new("test", 3, 2);
        let a = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
        let b = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));
        let a1 = gate.admit(a);
        let a2 = gate.admit(a);
        assert!(a1.is_some() && a2.is_some());
        assert!(gate.admit(a).is_none(), "third from one address");
        let b1 = gate.admit(b);
        assert!(b1.is_some());
        assert!(gate.admit(b).is_none(), "over the total");
        assert_eq!(gate.stats.refused.load(Relaxed), 2);
        assert_eq!(gate.stats.open.load(Relaxed), 3);
        drop(a1);
        let b2 = gate.admit(b);
        assert!(b2.is_some(), "a freed place is reusable");
        // Outbound connections count, even over the cap, but are not refused.
        let out = gate.outbound();
        assert_eq!(gate.stats.open.load(Relaxed), 4);
        assert!(gate.admit(a).is_none(), "outbound ones fill the total too");
        drop(out);
        drop((a2, b1, b2));
        assert_eq!(gate.stats.open.load(Relaxed), 0);
    }

    #[test]
    fn log_limiter_lets_one_line_per_interval_and_counts_the_rest() {
        let mut l = LogLimiter::default();
        let t0 = Instant::now();
        assert_eq!(l.allow(t0), Some(0));
        for i in 1..=5 {
            assert_eq!(l.allow(t0 + Duration::from_millis(i)), None);
        }
        assert_eq!(l.allow(t0 + LOG_EVERY), Some(5));
    }

    #[test]
    fn backoff_doubles_to_its_cap_and_resets() {
        let gate = Gate::new("test", 1, 1);
        let mut e = AcceptErrors::default();
        let err = io::Error::from_raw_os_error(24);
        let waits: Vec<Duration> = (0..10).map(|_| e.failed(&gate, &err)).collect();
        assert_eq!(waits[0], BACKOFF_MIN);
        assert_eq!(waits[1], BACKOFF_MIN * 2);
        assert_eq!(*waits.last().unwrap_or(&Duration::ZERO), BACKOFF_MAX);
        e.succeeded();
        assert_eq!(e.failed(&gate, &err), BACKOFF_MIN);
    }
}
