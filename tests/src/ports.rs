//! Local ports for switches and peers under test.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};
use std::time::Duration;

/// A port on 127.0.0.1 free for both UDP and TCP at the moment of the call (SIP listens on
/// both with one number). The port is released before returning, so another process could
/// take it first; the ephemeral range is large enough that this is rare, and
/// [`crate::Switch`] retries a start that lost such a race.
pub fn free_port() -> u16 {
    for _ in 0..100 {
        let Ok(udp) = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0)) else {
            continue;
        };
        let Ok(addr) = udp.local_addr() else {
            continue;
        };
        if TcpListener::bind(addr).is_ok() {
            return addr.port();
        }
    }
    panic!("no free UDP+TCP port on 127.0.0.1");
}

/// Which socket table to look in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    Udp,
    Tcp,
}

/// Waits until some process has a UDP socket bound to, or a TCP socket listening on,
/// `addr`'s port (read from `/proc/net`, so nothing is sent to the peer). Returns whether
/// it happened within `timeout`. Without `/proc` it waits a fixed half second and says yes.
pub fn wait_listening(proto: Proto, addr: SocketAddr, timeout: Duration) -> bool {
    let files: &[&str] = match proto {
        Proto::Udp => &["/proc/net/udp", "/proc/net/udp6"],
        Proto::Tcp => &["/proc/net/tcp", "/proc/net/tcp6"],
    };
    if !std::path::Path::new(files[0]).exists() {
        std::thread::sleep(Duration::from_millis(500));
        return true;
    }
    let port = format!(":{:04X}", addr.port());
    crate::wait_until(timeout, || {
        files.iter().any(|f| {
            std::fs::read_to_string(f).is_ok_and(|text| {
                text.lines().skip(1).any(|line| {
                    let cols: Vec<&str> = line.split_whitespace().collect();
                    // cols: sl local_address rem_address st ...; TCP LISTEN is state 0A.
                    cols.len() > 3
                        && cols[1].ends_with(&port)
                        && (proto == Proto::Udp || cols[3] == "0A")
                })
            })
        })
    })
}
