//! Batched UDP: `sendmmsg` to many destinations from one socket, and `recvmmsg` with the
//! kernel's receive time stamps (`SO_TIMESTAMPNS`, CLOCK_REALTIME), so the driver's own
//! scheduling delays do not count as delay added by the relay.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{SocketAddrV4, UdpSocket};
use std::os::fd::AsRawFd;

/// Most messages handed to the kernel in one call.
pub const BATCH: usize = 64;
/// Largest datagram received (RTP here is 172 bytes).
pub const MAX_DATAGRAM: usize = 2048;
/// Room for one `SCM_TIMESTAMPNS` control message (CMSG_SPACE of a timespec, rounded up).
const CONTROL_BYTES: usize = 64;

/// Asks the kernel to stamp each received datagram and gives the socket large buffers.
pub fn prepare(socket: &UdpSocket) -> io::Result<()> {
    let fd = socket.as_raw_fd();
    set_int(fd, libc::SO_TIMESTAMPNS, 1)?;
    // Best effort: the kernel caps these at net.core.[rw]mem_max.
    let _ = set_int(fd, libc::SO_RCVBUF, 8 << 20);
    let _ = set_int(fd, libc::SO_SNDBUF, 8 << 20);
    socket.set_nonblocking(true)
}

fn set_int(fd: i32, option: i32, value: i32) -> io::Result<()> {
    // SAFETY: a valid fd and a pointer to an int that lives through the call.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            option,
            (&value as *const i32).cast(),
            size_of::<i32>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

fn sockaddr(addr: &SocketAddrV4) -> libc::sockaddr_in {
    // SAFETY: sockaddr_in is plain data; all-zero is a valid value.
    let mut sa: libc::sockaddr_in = unsafe { zeroed() };
    sa.sin_family = libc::AF_INET as libc::sa_family_t;
    sa.sin_port = addr.port().to_be();
    sa.sin_addr.s_addr = u32::from_ne_bytes(addr.ip().octets());
    sa
}

/// Sends every `(destination, datagram)` pair, up to [`BATCH`] per system call. Returns how
/// many were sent; a full send buffer ends the batch early (those datagrams are dropped and
/// show up as lost, as they would on a real sender).
pub fn send_all(socket: &UdpSocket, datagrams: &[(SocketAddrV4, &[u8])]) -> usize {
    let fd = socket.as_raw_fd();
    let mut sent = 0;
    for chunk in datagrams.chunks(BATCH) {
        let mut addrs: Vec<libc::sockaddr_in> = chunk.iter().map(|(a, _)| sockaddr(a)).collect();
        let mut iovs: Vec<libc::iovec> = chunk
            .iter()
            .map(|(_, d)| libc::iovec {
                iov_base: d.as_ptr() as *mut _,
                iov_len: d.len(),
            })
            .collect();
        let mut headers: Vec<libc::mmsghdr> = (0..chunk.len())
            .map(|i| {
                // SAFETY: mmsghdr is plain data; the pointers set below outlive the call.
                let mut h: libc::mmsghdr = unsafe { zeroed() };
                h.msg_hdr.msg_name = (&mut addrs[i] as *mut libc::sockaddr_in).cast();
                h.msg_hdr.msg_namelen = size_of::<libc::sockaddr_in>() as libc::socklen_t;
                h.msg_hdr.msg_iov = &mut iovs[i];
                h.msg_hdr.msg_iovlen = 1;
                h
            })
            .collect();
        let mut offset = 0;
        while offset < headers.len() {
            // SAFETY: headers[offset..] point into addrs/iovs/datagrams, all alive here.
            let n = unsafe {
                libc::sendmmsg(
                    fd,
                    headers[offset..].as_mut_ptr(),
                    (headers.len() - offset) as u32,
                    0,
                )
            };
            if n <= 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                break; // WouldBlock or a real error: the rest of this chunk is lost
            }
            offset += n as usize;
        }
        sent += offset;
    }
    sent
}

/// Receive buffers for [`recv_batch`], reused across calls.
pub struct RecvBuffers {
    data: Vec<[u8; MAX_DATAGRAM]>,
    control: Vec<[u8; CONTROL_BYTES]>,
    names: Vec<libc::sockaddr_in>,
    /// Per message of the last batch: its length and its receive time (ns since the epoch).
    pub received: Vec<(usize, u64)>,
}

impl RecvBuffers {
    pub fn new() -> RecvBuffers {
        RecvBuffers {
            data: vec![[0; MAX_DATAGRAM]; BATCH],
            control: vec![[0; CONTROL_BYTES]; BATCH],
            // SAFETY: sockaddr_in is plain data; all-zero is a valid value.
            names: vec![unsafe { zeroed() }; BATCH],
            received: Vec::with_capacity(BATCH),
        }
    }

    pub fn datagram(&self, i: usize) -> &[u8] {
        &self.data[i][..self.received[i].0]
    }

    /// Where message `i` of the last batch came from.
    pub fn source(&self, i: usize) -> SocketAddrV4 {
        let sa = &self.names[i];
        SocketAddrV4::new(
            std::net::Ipv4Addr::from(u32::from_be(sa.sin_addr.s_addr)),
            u16::from_be(sa.sin_port),
        )
    }
}

/// Reads up to [`BATCH`] waiting datagrams without blocking. Returns how many (0 when none
/// is waiting); each one's length and kernel time stamp are in `buffers.received`.
pub fn recv_batch(socket: &UdpSocket, buffers: &mut RecvBuffers) -> io::Result<usize> {
    let fd = socket.as_raw_fd();
    let mut iovs: Vec<libc::iovec> = buffers
        .data
        .iter_mut()
        .map(|d| libc::iovec {
            iov_base: d.as_mut_ptr().cast(),
            iov_len: MAX_DATAGRAM,
        })
        .collect();
    let mut headers: Vec<libc::mmsghdr> = (0..BATCH)
        .map(|i| {
            // SAFETY: plain data; the pointers set below outlive the call.
            let mut h: libc::mmsghdr = unsafe { zeroed() };
            h.msg_hdr.msg_iov = &mut iovs[i];
            h.msg_hdr.msg_iovlen = 1;
            h.msg_hdr.msg_control = buffers.control[i].as_mut_ptr().cast();
            h.msg_hdr.msg_controllen = CONTROL_BYTES;
            h.msg_hdr.msg_name = (&mut buffers.names[i] as *mut libc::sockaddr_in).cast();
            h.msg_hdr.msg_namelen = size_of::<libc::sockaddr_in>() as libc::socklen_t;
            h
        })
        .collect();
    // SAFETY: every header points into buffers owned by `buffers` and `iovs`, alive here.
    let n = unsafe {
        libc::recvmmsg(
            fd,
            headers.as_mut_ptr(),
            BATCH as u32,
            libc::MSG_DONTWAIT,
            std::ptr::null_mut(),
        )
    };
    buffers.received.clear();
    if n < 0 {
        let e = io::Error::last_os_error();
        return match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(0),
            _ => Err(e),
        };
    }
    for header in headers.iter().take(n as usize) {
        let stamp = timestamp(&header.msg_hdr).unwrap_or_else(crate::load::now_ns);
        buffers.received.push((header.msg_len as usize, stamp));
    }
    Ok(n as usize)
}

/// The `SCM_TIMESTAMPNS` of a received message, in ns since the epoch.
fn timestamp(msg: &libc::msghdr) -> Option<u64> {
    // SAFETY: the CMSG_* macros walk the control buffer the kernel filled, within
    // msg_controllen; the timespec is read unaligned.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(msg);
        while !cmsg.is_null() {
            if (*cmsg).cmsg_level == libc::SOL_SOCKET && (*cmsg).cmsg_type == libc::SCM_TIMESTAMPNS
            {
                let ts: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg).cast());
                return Some(ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64);
            }
            cmsg = libc::CMSG_NXTHDR(msg, cmsg);
        }
    }
    None
}
