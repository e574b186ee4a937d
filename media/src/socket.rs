//! Binding a side's RTP/RTCP socket pair.
//!
//! Relay sockets get large kernel buffers: a relay task that is briefly descheduled (two
//! cores shared with SIP, the ACD and the web API) must not lose the packets that arrive
//! meanwhile, and at 50 packets/s per direction a default-sized buffer holds little.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

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

/// The two sockets of one side and the port they are bound on.
#[derive(Debug)]
pub(crate) struct SideSockets {
    pub(crate) rtp: UdpSocket,
    pub(crate) rtcp: UdpSocket,
    /// Declared last: released only after both sockets are closed.
    lease: PortLease,
}

impl SideSockets {
    /// Binds RTP on an even port from `pool` and RTCP on the next one, trying further pairs
    /// when one is taken by another program. Must run inside a tokio runtime.
    pub(crate) fn bind(pool: &Arc<PortPool>, ip: IpAddr) -> Result<SideSockets, MediaError> {
        let attempts = pool.capacity().min(MAX_BIND_ATTEMPTS);
        let mut last_error = None;
        for _ in 0..attempts {
            let lease = PortLease::take(pool).ok_or(MediaError::PortsExhausted)?;
            let port = lease.port();
            let bound = port
                .checked_add(1)
                .ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))
                .and_then(|rtcp_port| Ok((bind_udp(ip, port)?, bind_udp(ip, rtcp_port)?)));
            match bound {
                Ok((rtp, rtcp)) => return Ok(SideSockets { rtp, rtcp, lease }),
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
