//! SIP transports: UDP sockets, TCP and TLS connections (and, in `sip_websocket`, SIP over
//! WebSocket). They only move bytes: inbound messages go to the shard that owns their
//! Call-ID, outbound ones come from the shards.

use crate::config::TcpLimits;
use crate::listener::{next_connection, AcceptErrors, Gate, Slot};
use crate::metrics::Metrics;
use crate::router::{Router, ShardInput};
use sip::transaction::{Target, Transmit, TransportKind};
use socket2::{Domain, Protocol, Socket, Type};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::mpsc;
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// Socket buffer size for SIP over UDP: a short stall must not overflow it under load.
const UDP_BUFFER: usize = 4 * 1024 * 1024;

pub fn bind_udp(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    let _ = socket.set_recv_buffer_size(UDP_BUFFER);
    let _ = socket.set_send_buffer_size(UDP_BUFFER);
    socket.set_reuse_address(true)?;
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    UdpSocket::from_std(socket.into())
}

/// The sending side of every transport, shared by the shards.
pub struct Outbound {
    udp: Option<Arc<UdpSocket>>,
    tcp: Arc<TcpPool>,
    /// Connections over TLS; `None` when TLS is not set up.
    tls: Option<Arc<TcpPool>>,
    /// Connections that WebSocket clients opened.
    ws: Arc<crate::sip_websocket::WsPool>,
    metrics: Arc<Metrics>,
    /// Told when a message cannot be delivered, so its transaction fails at once.
    router: Router,
}

impl Outbound {
    pub fn new(
        udp: Option<Arc<UdpSocket>>,
        tcp: Arc<TcpPool>,
        tls: Option<Arc<TcpPool>>,
        ws: Arc<crate::sip_websocket::WsPool>,
        metrics: Arc<Metrics>,
        router: Router,
    ) -> Self {
        Outbound {
            udp,
            tcp,
            tls,
            ws,
            metrics,
            router,
        }
    }

    pub fn send(&self, t: Transmit) {
        self.metrics.inc_sent();
        match t.target.transport {
            TransportKind::Udp => match &self.udp {
                Some(s) => {
                    if let Err(e) = s.try_send_to(&t.data, t.target.addr) {
                        self.metrics.inc_send_error();
                        tracing::debug!(%e, to = %t.target.addr, "UDP send failed");
                    }
                }
                None => self.metrics.inc_send_error(),
            },
            TransportKind::Tcp => self.tcp.send(t.target.addr, t.data),
            TransportKind::Tls => match &self.tls {
                Some(pool) => pool.send(t.target.addr, t.data),
                None => {
                    self.metrics.inc_send_error();
                    tracing::info!(to = %t.target.addr, "no TLS configured; message dropped");
                    self.router.transport_failed(t.target);
                }
            },
            TransportKind::Ws | TransportKind::Wss => {
                if !self.ws.send(t.target, t.data) {
                    self.metrics.inc_send_error();
                    tracing::info!(to = %t.target.addr, "no WebSocket connection to this client; message dropped");
                    self.router.transport_failed(t.target);
                }
            }
        }
    }
}

/// Receive datagrams and hand each to its shard.
pub async fn udp_loop(
    socket: Arc<UdpSocket>,
    shards: Router,
    metrics: Arc<Metrics>,
    edge: Arc<crate::edge::Edge>,
) {
    let mut buf = vec![0u8; 65536];
    loop {
        let (n, from) = match socket.recv_from(&mut buf).await {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(%e, "UDP receive error");
                continue;
            }
        };
        metrics.inc_received();
        // A banned or flooding source is dropped before anything is copied or parsed.
        if edge.admit(from.ip(), std::time::Instant::now()) != crate::edge::Verdict::Pass {
            continue;
        }
        let data = buf[..n].to_vec();
        let shard = shards.shard_of_datagram(&data);
        shards.send(
            shard,
            ShardInput::Bytes {
                data,
                source: Target {
                    transport: TransportKind::Udp,
                    addr: from,
                },
            },
        );
    }
}

/// Connections of one stream transport (TCP, or TLS over TCP) by peer address. A message
/// for a peer without a connection opens one; answers and requests to a peer that
/// connected to us go back over its connection (RFC 3261 §18). Every connection holds a
/// [`Slot`] of the pool's [`Gate`] and is closed when it idles past `idle_timeout` or takes
/// longer than `message_timeout` over one message (or over its TLS handshake).
pub struct TcpPool {
    conns: Mutex<HashMap<SocketAddr, mpsc::UnboundedSender<Vec<u8>>>>,
    shards: Router,
    metrics: Arc<Metrics>,
    limits: TcpLimits,
    pub gate: Arc<Gate>,
    edge: Arc<crate::edge::Edge>,
    /// `Tcp`, or `Tls` when `tls` is set.
    kind: TransportKind,
    tls: Option<TlsSides>,
    /// A connection that a registration routes to outlives the idle timeout: the phone
    /// behind it is reachable no other way.
    registrar: Arc<std::sync::RwLock<crate::registrar::Registrar>>,
}

/// Both ends of TLS: the acceptor of inbound connections (answering with the current
/// certificate) and the connector of outbound ones.
#[derive(Clone)]
pub struct TlsSides {
    pub acceptor: TlsAcceptor,
    pub connector: TlsConnector,
}

/// How long one write may wait on a peer that does not read.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

impl TcpPool {
    pub fn new(
        metrics: Arc<Metrics>,
        limits: TcpLimits,
        router: Router,
        edge: Arc<crate::edge::Edge>,
        tls: Option<TlsSides>,
        registrar: Arc<std::sync::RwLock<crate::registrar::Registrar>>,
    ) -> Arc<TcpPool> {
        let (name, kind) = match tls {
            Some(_) => ("sip-tls", TransportKind::Tls),
            None => ("sip-tcp", TransportKind::Tcp),
        };
        let gate = Gate::new(name, limits.max_connections, limits.max_per_ip);
        Arc::new(TcpPool {
            conns: Mutex::new(HashMap::new()),
            shards: router,
            metrics,
            limits,
            gate,
            edge,
            kind,
            tls,
            registrar,
        })
    }

    /// Whether a live registration routes to the connection with `addr`.
    fn carries_registration(&self, addr: SocketAddr) -> bool {
        let target = Target {
            transport: self.kind,
            addr,
        };
        self.registrar
            .read()
            .is_ok_and(|r| r.is_flow(Instant::now(), target))
    }

    fn name(&self) -> &'static str {
        self.kind.via_token()
    }

    pub fn send(self: &Arc<Self>, addr: SocketAddr, data: Vec<u8>) {
        let Ok(mut conns) = self.conns.lock() else {
            return;
        };
        if let Some(tx) = conns.get(&addr) {
            if tx.send(data.clone()).is_ok() {
                return;
            }
            conns.remove(&addr);
        }
        let (tx, rx) = mpsc::unbounded_channel();
        let _ = tx.send(data);
        conns.insert(addr, tx.clone());
        drop(conns);
        let pool = self.clone();
        let slot = self.gate.outbound();
        tokio::spawn(async move {
            let stream = match TcpStream::connect(addr).await {
                Ok(stream) => stream,
                Err(e) => {
                    tracing::info!(%e, %addr, transport = pool.name(), "connect failed");
                    pool.undeliverable(addr);
                    return;
                }
            };
            let _ = stream.set_nodelay(true);
            let Some(tls) = &pool.tls else {
                return pool.run(stream, addr, tx, rx, slot).await;
            };
            // The peer's certificate must be valid for its address (trunks and static
            // contacts are IP literals).
            let name = rustls::pki_types::ServerName::IpAddress(addr.ip().into());
            let handshake = tls.connector.connect(name, stream);
            match tokio::time::timeout(pool.limits.message_timeout, handshake).await {
                Ok(Ok(stream)) => pool.run(stream, addr, tx, rx, slot).await,
                Ok(Err(e)) => {
                    tracing::info!(%e, %addr, "TLS handshake with the peer failed");
                    pool.undeliverable(addr);
                }
                Err(_) => {
                    tracing::info!(%addr, "TLS handshake with the peer timed out");
                    pool.undeliverable(addr);
                }
            }
        });
    }

    /// No connection to `addr` could be made: what was queued for it is lost, and the
    /// shards fail the transactions waiting on it at once (RFC 3261 §8.1.3.1).
    fn undeliverable(&self, addr: SocketAddr) {
        self.metrics.inc_send_error();
        self.forget(addr);
        self.shards.transport_failed(Target {
            transport: self.kind,
            addr,
        });
    }

    fn forget(&self, addr: SocketAddr) {
        if let Ok(mut conns) = self.conns.lock() {
            conns.remove(&addr);
        }
    }

    pub async fn accept_loop(self: Arc<Self>, listener: TcpListener) {
        let mut errors = AcceptErrors::default();
        loop {
            let (stream, addr, slot) = next_connection(&listener, &self.gate, &mut errors).await;
            if self.edge.admit(addr.ip(), Instant::now()) == crate::edge::Verdict::Banned {
                // Closed at once: a banned source holds nothing.
                drop(stream);
                continue;
            }
            let _ = stream.set_nodelay(true);
            let pool = self.clone();
            tokio::spawn(async move {
                let Some(tls) = &pool.tls else {
                    let (tx, rx) = pool.adopt(addr);
                    return pool.run(stream, addr, tx, rx, slot).await;
                };
                let handshake = tls.acceptor.accept(stream);
                match tokio::time::timeout(pool.limits.message_timeout, handshake).await {
                    Ok(Ok(stream)) => {
                        let (tx, rx) = pool.adopt(addr);
                        pool.run(stream, addr, tx, rx, slot).await
                    }
                    Ok(Err(e)) => tracing::info!(%e, %addr, "TLS handshake failed"),
                    Err(_) => {
                        pool.gate.stats.timeouts.fetch_add(1, Ordering::Relaxed);
                        tracing::info!(%addr, "TLS handshake not completed in time");
                    }
                }
            });
        }
    }

    /// Makes an accepted connection the one messages to `addr` go over.
    fn adopt(
        &self,
        addr: SocketAddr,
    ) -> (
        mpsc::UnboundedSender<Vec<u8>>,
        mpsc::UnboundedReceiver<Vec<u8>>,
    ) {
        let (tx, rx) = mpsc::unbounded_channel();
        if let Ok(mut conns) = self.conns.lock() {
            conns.insert(addr, tx.clone());
        }
        (tx, rx)
    }

    /// Read framed messages from one connection and write what is queued for it, until
    /// the peer closes, a message cannot be framed (answered first where possible), or a
    /// timeout of [`TcpLimits`] ends it.
    async fn run<S>(
        self: Arc<Self>,
        stream: S,
        addr: SocketAddr,
        tx: mpsc::UnboundedSender<Vec<u8>>,
        mut rx: mpsc::UnboundedReceiver<Vec<u8>>,
        slot: Slot,
    ) where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (mut reader, mut writer) = tokio::io::split(stream);
        // When the writer last wrote, in ms after `opened`: read by the reader only when
        // its idle deadline comes, so writes cost no wake-up.
        let opened = Instant::now();
        let last_write = Arc::new(AtomicU64::new(0));
        let wrote = last_write.clone();
        // The writer ends when every sender is gone (the pool forgot the connection and the
        // reader stopped), after writing what was queued; then the socket closes.
        let write = tokio::spawn(async move {
            while let Some(data) = rx.recv().await {
                match tokio::time::timeout(WRITE_TIMEOUT, writer.write_all(&data)).await {
                    Ok(Ok(())) => {
                        wrote.store(opened.elapsed().as_millis() as u64, Ordering::Relaxed)
                    }
                    _ => break,
                }
            }
            let _ = writer.shutdown().await;
            drop(slot);
        });
        let pool = self.clone();
        let answer_tx = tx.clone();
        let read = async move {
            let tx = answer_tx;
            let mut framer = sip::Framer::new();
            let mut buf = vec![0u8; 16384];
            let source = Target {
                transport: pool.kind,
                addr,
            };
            // When the message now in the framer began, if one is partly read.
            let mut partial_since: Option<Instant> = None;
            let mut idle_since = Instant::now();
            loop {
                let deadline = match partial_since {
                    Some(t) => t + pool.limits.message_timeout,
                    None => idle_since + pool.limits.idle_timeout,
                };
                let n = tokio::select! {
                    r = reader.read(&mut buf) => match r {
                        Ok(0) | Err(_) => return,
                        Ok(n) => n,
                    },
                    _ = tokio::time::sleep_until(deadline.into()) => {
                        // Traffic our way keeps an idle connection alive too.
                        let wrote_at = opened + Duration::from_millis(last_write.load(Ordering::Relaxed));
                        if partial_since.is_none() && wrote_at > idle_since {
                            idle_since = wrote_at;
                            continue;
                        }
                        if partial_since.is_none() && pool.carries_registration(addr) {
                            idle_since = Instant::now();
                            continue;
                        }
                        pool.gate.stats.timeouts.fetch_add(1, Ordering::Relaxed);
                        let what = if partial_since.is_some() {
                            "message not completed in time"
                        } else {
                            "idle"
                        };
                        tracing::info!(%addr, reason = what, transport = pool.name(), "closing connection");
                        return;
                    }
                };
                let now = Instant::now();
                idle_since = now;
                framer.push(&buf[..n]);
                let mut completed = false;
                while let Some(m) = framer.next_message() {
                    pool.metrics.inc_received();
                    completed = true;
                    match pool.edge.admit(addr.ip(), now) {
                        crate::edge::Verdict::Pass => {}
                        crate::edge::Verdict::Limited => continue,
                        crate::edge::Verdict::Banned => return,
                    }
                    match m {
                        Ok(msg) => {
                            let shards = &pool.shards;
                            let shard = shards.shard_of_message(&msg);
                            shards.send(shard, ShardInput::Message { msg, source });
                        }
                        Err(e) => {
                            pool.metrics.inc_parse_error();
                            tracing::info!(%e, %addr, transport = pool.name(), "closing connection on framing error");
                            let mut failed = framer.take_failed();
                            if e == sip::WireError::HeadTooLarge {
                                // The fields an answer copies may come after the limit.
                                read_rest_of_head(&mut reader, &mut failed).await;
                            }
                            if let Some(answer) = sip::validate::reject_unparseable(&failed, &e) {
                                let _ = tx.send(answer);
                            }
                            return;
                        }
                    }
                }
                partial_since = match (framer.buffered(), partial_since) {
                    (0, _) => None,
                    (_, Some(t)) if !completed => Some(t),
                    _ => Some(now),
                };
            }
        };
        read.await;
        self.forget(addr);
        // Our own sender goes last; the writer flushes what is queued and closes.
        drop(tx);
        let _ = write.await;
    }
}

/// Reads on, for a moment and up to twice the header limit, until the header section of
/// an oversized message has ended, so it can be answered with its own Via, From, To,
/// Call-ID and CSeq.
async fn read_rest_of_head(reader: &mut (impl AsyncReadExt + Unpin), head: &mut Vec<u8>) {
    let cap = 2 * sip::wire::MAX_HEADER_BYTES;
    let mut buf = vec![0u8; 16384];
    let _ = tokio::time::timeout(Duration::from_secs(1), async {
        while head.len() < cap && !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match reader.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
}
