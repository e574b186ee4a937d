//! Binding a side's RTP/RTCP socket pair, and keeping it bound while its port is free.
//!
//! Relay sockets get large kernel buffers: a relay task that is briefly descheduled (two
//! cores shared with SIP, the ACD and the web API) must not lose the packets that arrive
//! meanwhile, and at 50 packets/s per direction a default-sized buffer holds little.
//!
//! Making a pair costs about twenty system calls (socket, three setsockopt, two fcntl,
//! bind, epoll registration, twice) and closing it four more; at 2,000 calls/s that was
//! about 9% of the switch's CPU. So a side that ends does not close its sockets: they wait,
//! bound and registered, in [`WarmSockets`] under their port while the port waits in the
//! pool's FIFO, and the next lease of that port takes them back, with whatever strays
//! arrived meanwhile read off and dropped first. The FIFO order is unchanged, so a port is
//! reused as late as before; sockets idle for [`WARM_IDLE`] are closed.

use std::collections::{HashMap, VecDeque};
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::UdpSocket;

use crate::error::MediaError;
use crate::port_pool::{PortLease, PortPool};

/// Requested SO_RCVBUF / SO_SNDBUF (the kernel caps it at net.core.[rw]mem_max).
const SOCKET_BUFFER_BYTES: usize = 1 << 20;

/// DSCP EF (46), shifted into the TOS byte: the usual marking for voice.
const TOS_EXPEDITED_FORWARDING: u32 = 46 << 2;

/// Most pairs tried for one side before giving up: if this many consecutive pairs are taken
/// by other programs, the range is misconfigured and scanning all of it helps nobody.
const MAX_BIND_ATTEMPTS: usize = 64;

/// How long a free port's sockets stay bound waiting for the port's next call.
pub(crate) const WARM_IDLE: Duration = Duration::from_secs(30);

/// The two sockets of one side and the port they are bound on.
#[derive(Debug)]
pub(crate) struct SideSockets {
    pub(crate) rtp: UdpSocket,
    pub(crate) rtcp: UdpSocket,
    /// Where the sockets wait when the side ends ([`SideSockets::park`]).
    warm: Arc<WarmSockets>,
    /// Declared last: released only after both sockets are closed or parked.
    lease: PortLease,
}

impl SideSockets {
    /// Binds RTP on an even port from `pool` and RTCP on the next one, trying further pairs
    /// when one is taken by another program; a port whose sockets are parked in `warm`
    /// gets them back instead. Must run inside a tokio runtime.
    pub(crate) fn bind(
        pool: &Arc<PortPool>,
        warm: &Arc<WarmSockets>,
        ip: IpAddr,
    ) -> Result<SideSockets, MediaError> {
        let attempts = pool.capacity().min(MAX_BIND_ATTEMPTS);
        let mut last_error = None;
        for _ in 0..attempts {
            let lease = PortLease::take(pool).ok_or(MediaError::PortsExhausted)?;
            let port = lease.port();
            let warm = Arc::clone(warm);
            if let Some((rtp, rtcp)) = warm.take(port) {
                return Ok(SideSockets {
                    rtp,
                    rtcp,
                    warm,
                    lease,
                });
            }
            let bound = port
                .checked_add(1)
                .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))
                .and_then(|rtcp_port| Ok((bind_udp(ip, port)?, bind_udp(ip, rtcp_port)?)));
            match bound {
                Ok((rtp, rtcp)) => {
                    return Ok(SideSockets {
                        rtp,
                        rtcp,
                        warm,
                        lease,
                    })
                }
                Err(e) if e.kind() == io::ErrorKind::AddrInUse => {
                    tracing::debug!(port, error = %e, "relay port pair busy, trying the next");
                    // Dropping the lease sends the port to the back of the queue.
                    last_error = Some(e);
                }
                Err(e) => return Err(MediaError::Bind(e)),
            }
        }
        Err(last_error.map_or(MediaError::PortsExhausted, MediaError::Bind))
    }

    /// The side's RTP port (RTCP is one above).
    pub(crate) fn port(&self) -> u16 {
        self.lease.port()
    }

    /// The side ended: its sockets wait for the port's next lease, and the port goes back
    /// to the pool. (Dropped instead, they are closed.)
    pub(crate) fn park(self) {
        let SideSockets {
            rtp,
            rtcp,
            warm,
            lease,
        } = self;
        warm.park(lease.port(), rtp, rtcp, Instant::now());
        drop(lease);
    }
}

/// The sockets of free ports, by port (see the module's comment).
#[derive(Debug, Default)]
pub(crate) struct WarmSockets {
    inner: Mutex<WarmInner>,
}

#[derive(Debug, Default)]
struct WarmInner {
    /// Parked sockets and when they were parked.
    by_port: HashMap<u16, (Instant, UdpSocket, UdpSocket)>,
    /// (when, port) in parking order, to close the idle ones; an entry whose port was
    /// taken (or parked again later) since is skipped.
    order: VecDeque<(Instant, u16)>,
}

impl WarmSockets {
    /// The parked sockets of `port`, with the datagrams that reached them while parked
    /// read and dropped.
    fn take(&self, port: u16) -> Option<(UdpSocket, UdpSocket)> {
        let (_, rtp, rtcp) = self.lock().by_port.remove(&port)?;
        let mut buf = [0u8; 2048];
        for socket in [&rtp, &rtcp] {
            // Readiness is known to tokio: an empty socket costs no system call.
            while socket.try_recv(&mut buf).is_ok() {}
        }
        Some((rtp, rtcp))
    }

    fn park(&self, port: u16, rtp: UdpSocket, rtcp: UdpSocket, now: Instant) {
        let closing = {
            let mut inner = self.lock();
            inner.by_port.insert(port, (now, rtp, rtcp));
            inner.order.push_back((now, port));
            inner.expired(now)
        };
        // Closed outside the lock.
        drop(closing);
    }

    /// Close the sockets parked for longer than [`WARM_IDLE`].
    pub(crate) fn sweep(&self, now: Instant) {
        let closing = self.lock().expired(now);
        drop(closing);
    }

    /// How many ports have sockets parked.
    pub(crate) fn len(&self) -> usize {
        self.lock().by_port.len()
    }

    /// Updated only by single inserts and removals, so a poisoned lock is taken over.
    fn lock(&self) -> MutexGuard<'_, WarmInner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl WarmInner {
    /// Take out the sockets parked before `now - WARM_IDLE`, for the caller to close.
    fn expired(&mut self, now: Instant) -> Vec<(UdpSocket, UdpSocket)> {
        let mut out = Vec::new();
        while let Some(&(at, port)) = self.order.front() {
            if now.saturating_duration_since(at) < WARM_IDLE {
                break;
            }
            self.order.pop_front();
            if self
                .by_port
                .get(&port)
                .is_some_and(|(parked, ..)| *parked == at)
            {
                if let Some((_, rtp, rtcp)) = self.by_port.remove(&port) {
                    out.push((rtp, rtcp));
                }
            }
        }
        out
    }
}

/// One non-blocking UDP socket with relay-sized buffers, registered with tokio.
fn bind_udp(ip: IpAddr, port: u16) -> io::Result<UdpSocket> {
    let addr = SocketAddr::new(ip, port);
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    // Buffer sizes and marking are best effort: a relay with default buffers still works.
    if let Err(e) = socket.set_recv_buffer_size(SOCKET_BUFFER_BYTES) {
        tracing::debug!(error = %e, "could not raise SO_RCVBUF");
    }
    if let Err(e) = socket.set_send_buffer_size(SOCKET_BUFFER_BYTES) {
        tracing::debug!(error = %e, "could not raise SO_SNDBUF");
    }
    if ip.is_ipv4() {
        if let Err(e) = socket.set_tos(TOS_EXPEDITED_FORWARDING) {
            tracing::debug!(error = %e, "could not set DSCP EF");
        }
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    UdpSocket::from_std(socket.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    #[tokio::test]
    async fn idle_parked_sockets_are_closed() {
        let ip = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let pool = Arc::new(PortPool::new(41950, 41953).unwrap());
        let warm = Arc::new(WarmSockets::default());
        let side = SideSockets::bind(&pool, &warm, ip).unwrap();
        assert_eq!(side.port(), 41950);
        let t0 = Instant::now();
        side.park();
        assert_eq!((warm.len(), pool.available()), (1, 2));
        warm.sweep(t0 + WARM_IDLE / 2);
        assert_eq!(warm.len(), 1, "not idle long enough");

        // The FIFO gives 41952 (bound afresh), then 41950 with its parked sockets.
        let fresh = SideSockets::bind(&pool, &warm, ip).unwrap();
        let reused = SideSockets::bind(&pool, &warm, ip).unwrap();
        assert_eq!((fresh.port(), reused.port(), warm.len()), (41952, 41950, 0));
        drop(fresh);
        reused.park();
        let parked_again = Instant::now();
        // Its first parking has expired, but only the second one counts.
        warm.sweep(t0 + WARM_IDLE);
        assert_eq!(warm.len(), 1);
        warm.sweep(parked_again + WARM_IDLE);
        assert_eq!(warm.len(), 0);
        // Closed: anyone may bind the ports now.
        for port in [41950, 41951, 41952, 41953] {
            assert!(std::net::UdpSocket::bind((ip, port)).is_ok(), "{port}");
        }
    }
}
