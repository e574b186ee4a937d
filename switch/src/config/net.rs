//! Network values of the config: SIP listen addresses, CIDR blocks and the RTP port range.
//!
//! Each type parses from the string form used in the TOML file and prints back to it, so a
//! config can be dumped and reloaded. Parse errors are phrased as the tail of
//! `key: message`; the caller adds the key.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::str::FromStr;

use thiserror::Error;

/// Why a config value was rejected; the text completes `"<key>: "`.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct ValueError(pub String);

/// A SIP transport the switch can listen on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Transport {
    Udp,
    Tcp,
    /// SIP over TLS (RFC 3261 §26); the certificate is `[tls]`'s.
    Tls,
}

impl Transport {
    /// Lower-case name as written in configs and in `;transport=` URI parameters.
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
        }
    }
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Transport {
    type Err = ValueError;

    /// Case-insensitive, as URI parameters are (RFC 3261 §19.1.4).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("udp") {
            Ok(Transport::Udp)
        } else if s.eq_ignore_ascii_case("tcp") {
            Ok(Transport::Tcp)
        } else if s.eq_ignore_ascii_case("tls") {
            Ok(Transport::Tls)
        } else {
            Err(ValueError(format!(
                "unknown transport \"{s}\" (expected udp, tcp or tls)"
            )))
        }
    }
}

/// One SIP socket to open: `udp:127.0.0.1:5060`, `tcp:[::1]:5060`.
///
/// Port 0 asks the OS for a free port (handy in tests); the transport must then advertise
/// the port it really bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListenAddr {
    pub transport: Transport,
    pub addr: SocketAddr,
}

impl fmt::Display for ListenAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // SocketAddr already brackets IPv6 addresses.
        write!(f, "{}:{}", self.transport, self.addr)
    }
}

impl FromStr for ListenAddr {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let Some((transport, addr)) = s.split_once(':') else {
            return Err(ValueError(format!(
                "\"{s}\" is not a listen address like \"udp:127.0.0.1:5060\""
            )));
        };
        let transport = transport
            .parse::<Transport>()
            .map_err(|e| ValueError(format!("\"{s}\": {e}")))?;
        let addr = addr
            .parse::<SocketAddr>()
            .map_err(|_| ValueError(format!("\"{s}\" is not an address")))?;
        Ok(ListenAddr { transport, addr })
    }
}

/// An IPv4 or IPv6 network such as `10.0.0.0/8` or `::1/128`.
///
/// Always normalised: the bits past the prefix are zero (parsing rejects anything else,
/// since `10.0.0.1/8` is more likely a typo than a wish).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Builds a CIDR; fails if `prefix` is too long for the address family or host bits are
    /// set.
    pub fn new(addr: IpAddr, prefix: u8) -> Result<Cidr, ValueError> {
        let max = match addr {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        };
        if prefix > max {
            return Err(ValueError(format!(
                "prefix /{prefix} is longer than {max} bits"
            )));
        }
        let cidr = Cidr { addr, prefix };
        let network = cidr.network_of(addr);
        if network != addr {
            return Err(ValueError(format!(
                "has bits set beyond the prefix /{prefix} (did you mean \"{network}/{prefix}\"?)"
            )));
        }
        Ok(cidr)
    }

    /// The network address.
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    /// The prefix length in bits.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether `ip` lies in this network.
    ///
    /// An IPv4-mapped IPv6 address (`::ffff:10.1.2.3`, what a dual-stack socket reports for
    /// an IPv4 peer) is compared as the IPv4 address it carries, and an IPv4 address
    /// matches an IPv6 network that covers its mapped form.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => v4_matches(net, ip, self.prefix),
            (IpAddr::V4(net), IpAddr::V6(ip)) => match ip.to_ipv4_mapped() {
                Some(ip) => v4_matches(net, ip, self.prefix),
                None => false,
            },
            (IpAddr::V6(net), IpAddr::V6(ip)) => v6_matches(net, ip, self.prefix),
            (IpAddr::V6(net), IpAddr::V4(ip)) => v6_matches(net, ip.to_ipv6_mapped(), self.prefix),
        }
    }

    /// `ip` with the bits past this CIDR's prefix cleared (same family as `ip`).
    fn network_of(&self, ip: IpAddr) -> IpAddr {
        match ip {
            IpAddr::V4(ip) => IpAddr::V4(Ipv4Addr::from(u32::from(ip) & v4_mask(self.prefix))),
            IpAddr::V6(ip) => IpAddr::V6(Ipv6Addr::from(u128::from(ip) & v6_mask(self.prefix))),
        }
    }
}

fn v4_mask(prefix: u8) -> u32 {
    match prefix {
        0 => 0,
        p => u32::MAX << (32 - u32::from(p.min(32))),
    }
}

fn v6_mask(prefix: u8) -> u128 {
    match prefix {
        0 => 0,
        p => u128::MAX << (128 - u32::from(p.min(128))),
    }
}

fn v4_matches(net: Ipv4Addr, ip: Ipv4Addr, prefix: u8) -> bool {
    let mask = v4_mask(prefix);
    u32::from(net) & mask == u32::from(ip) & mask
}

fn v6_matches(net: Ipv6Addr, ip: Ipv6Addr, prefix: u8) -> bool {
    let mask = v6_mask(prefix);
    u128::from(net) & mask == u128::from(ip) & mask
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

impl FromStr for Cidr {
    type Err = ValueError;

    /// `addr/prefix`, or a bare address meaning that single host (`/32` or `/128`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, prefix) = match s.split_once('/') {
            Some((addr, prefix)) => (addr, Some(prefix)),
            None => (s, None),
        };
        let addr = addr.parse::<IpAddr>().map_err(|_| {
            ValueError(format!(
                "\"{s}\" is not a CIDR like \"10.0.0.0/8\" or \"::1/128\""
            ))
        })?;
        let prefix = match prefix {
            None => match addr {
                IpAddr::V4(_) => 32,
                IpAddr::V6(_) => 128,
            },
            Some(p) => p
                .parse::<u8>()
                .map_err(|_| ValueError(format!("\"{s}\" has an invalid prefix length \"{p}\"")))?,
        };
        Cidr::new(addr, prefix).map_err(|e| ValueError(format!("\"{s}\" {e}")))
    }
}

/// An inclusive UDP port range for RTP. `first` is even (RTP takes the even port, RTCP the
/// odd one after it, RFC 3550 §11) and below `last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PortRange {
    pub first: u16,
    pub last: u16,
}

impl PortRange {
    /// Builds a range, checking the rules above.
    pub fn new(first: u16, last: u16) -> Result<PortRange, ValueError> {
        if first == 0 {
            return Err(ValueError("port 0 cannot be used for RTP".to_string()));
        }
        if !first.is_multiple_of(2) || first >= last {
            return Err(ValueError(
                "first port must be even and below last".to_string(),
            ));
        }
        Ok(PortRange { first, last })
    }

    /// Number of ports in the range.
    pub fn len(&self) -> u32 {
        u32::from(self.last).saturating_sub(u32::from(self.first)) + 1
    }

    /// Always false for a validated range (it holds at least two ports).
    pub fn is_empty(&self) -> bool {
        self.last < self.first
    }

    /// Number of RTP/RTCP port pairs (even port plus the odd one after it) in the range,
    /// i.e. how many media streams can be anchored at once.
    pub fn pairs(&self) -> u32 {
        self.len() / 2
    }

    /// Whether `port` is in the range.
    pub fn contains(&self, port: u16) -> bool {
        (self.first..=self.last).contains(&port)
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.first, self.last)
    }
}

impl FromStr for PortRange {
    type Err = ValueError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let not_a_range =
            || ValueError(format!("\"{s}\" is not a port range like \"20000-29999\""));
        let (first, last) = s.split_once('-').ok_or_else(not_a_range)?;
        let first = first.trim().parse::<u16>().map_err(|_| not_a_range())?;
        let last = last.trim().parse::<u16>().map_err(|_| not_a_range())?;
        PortRange::new(first, last)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        match s.parse() {
            Ok(ip) => ip,
            Err(e) => panic!("bad test address {s}: {e}"),
        }
    }

    fn cidr(s: &str) -> Cidr {
        match s.parse() {
            Ok(c) => c,
            Err(e) => panic!("bad test CIDR {s}: {e}"),
        }
    }

    #[test]
    fn listen_addr_parses_and_prints() {
        let a: ListenAddr = "udp:127.0.0.1:5060".parse().unwrap();
        assert_eq!(a.transport, Transport::Udp);
        assert_eq!(a.addr, "127.0.0.1:5060".parse().unwrap());
        assert_eq!(a.to_string(), "udp:127.0.0.1:5060");

        let b: ListenAddr = "TCP:[::1]:5070".parse().unwrap();
        assert_eq!(b.transport, Transport::Tcp);
        assert_eq!(b.to_string(), "tcp:[::1]:5070");
    }

    #[test]
    fn listen_addr_errors() {
        let err = |s: &str| s.parse::<ListenAddr>().unwrap_err().to_string();
        assert_eq!(err("udp:1.2.3"), "\"udp:1.2.3\" is not an address");
        assert_eq!(err("udp:::1:5060"), "\"udp:::1:5060\" is not an address");
        assert_eq!(err("udp:127.0.0.1"), "\"udp:127.0.0.1\" is not an address");
        assert_eq!(
            err("sctp:127.0.0.1:5060"),
            "\"sctp:127.0.0.1:5060\": unknown transport \"sctp\" (expected udp, tcp or tls)"
        );
        assert_eq!(
            err("127.0.0.1"),
            "\"127.0.0.1\" is not a listen address like \"udp:127.0.0.1:5060\""
        );
    }

    #[test]
    fn cidr_v4_matching() {
        let net = cidr("10.0.0.0/8");
        assert!(net.contains(ip("10.0.0.0")));
        assert!(net.contains(ip("10.255.255.255")));
        assert!(!net.contains(ip("11.0.0.0")));
        assert!(!net.contains(ip("9.255.255.255")));

        let host = cidr("127.0.0.1/32");
        assert!(host.contains(ip("127.0.0.1")));
        assert!(!host.contains(ip("127.0.0.2")));

        let odd = cidr("192.168.1.128/25");
        assert!(odd.contains(ip("192.168.1.200")));
        assert!(!odd.contains(ip("192.168.1.127")));

        let all = cidr("0.0.0.0/0");
        assert!(all.contains(ip("1.2.3.4")));
        assert!(all.contains(ip("255.255.255.255")));
        assert!(
            !all.contains(ip("::1")),
            "an IPv4 net never matches plain IPv6"
        );
    }

    #[test]
    fn cidr_v6_matching() {
        let lo = cidr("::1/128");
        assert!(lo.contains(ip("::1")));
        assert!(!lo.contains(ip("::2")));
        assert!(!lo.contains(ip("127.0.0.1")));

        let doc = cidr("2001:db8::/32");
        assert!(doc.contains(ip("2001:db8:ffff::1")));
        assert!(!doc.contains(ip("2001:db9::1")));

        let nibble = cidr("fc00::/7");
        assert!(nibble.contains(ip("fdff::1")));
        assert!(nibble.contains(ip("fc00::1")));
        assert!(!nibble.contains(ip("fe80::1")));

        let all = cidr("::/0");
        assert!(all.contains(ip("2001:db8::1")));
    }

    #[test]
    fn cidr_ipv4_mapped_addresses() {
        let net = cidr("10.0.0.0/8");
        assert!(net.contains(ip("::ffff:10.1.2.3")));
        assert!(!net.contains(ip("::ffff:11.1.2.3")));
        // The deprecated IPv4-compatible form is not a mapped address.
        assert!(!net.contains(ip("::10.1.2.3")));

        let mapped_net = cidr("::ffff:192.168.0.0/112");
        assert!(mapped_net.contains(ip("192.168.7.9")));
        assert!(!mapped_net.contains(ip("192.169.0.1")));
    }

    #[test]
    fn cidr_parsing() {
        assert_eq!(cidr("127.0.0.1").to_string(), "127.0.0.1/32");
        assert_eq!(cidr("::1").to_string(), "::1/128");
        assert_eq!(cidr("10.0.0.0/8").prefix(), 8);
        assert_eq!(cidr("10.0.0.0/8").addr(), ip("10.0.0.0"));

        let err = |s: &str| s.parse::<Cidr>().unwrap_err().to_string();
        assert_eq!(
            err("10.0.0.1/8"),
            "\"10.0.0.1/8\" has bits set beyond the prefix /8 (did you mean \"10.0.0.0/8\"?)"
        );
        assert_eq!(
            err("10.0.0.0/33"),
            "\"10.0.0.0/33\" prefix /33 is longer than 32 bits"
        );
        assert_eq!(
            err("::/129"),
            "\"::/129\" prefix /129 is longer than 128 bits"
        );
        assert_eq!(
            err("10.0.0.0/x"),
            "\"10.0.0.0/x\" has an invalid prefix length \"x\""
        );
        assert_eq!(
            err("localhost/8"),
            "\"localhost/8\" is not a CIDR like \"10.0.0.0/8\" or \"::1/128\""
        );
    }

    #[test]
    fn port_range() {
        let r: PortRange = "20000-29999".parse().unwrap();
        assert_eq!(
            r,
            PortRange {
                first: 20000,
                last: 29999
            }
        );
        assert_eq!(r.len(), 10000);
        assert_eq!(r.pairs(), 5000);
        assert!(r.contains(20000) && r.contains(29999) && !r.contains(30000));
        assert_eq!(r.to_string(), "20000-29999");

        let even_last: PortRange = "20000-20004".parse().unwrap();
        assert_eq!(even_last.pairs(), 2);
        assert_eq!("20000 - 20001".parse::<PortRange>().unwrap().pairs(), 1);

        let err = |s: &str| s.parse::<PortRange>().unwrap_err().to_string();
        assert_eq!(err("20001-29999"), "first port must be even and below last");
        assert_eq!(err("30000-20000"), "first port must be even and below last");
        assert_eq!(err("20000-20000"), "first port must be even and below last");
        assert_eq!(err("0-100"), "port 0 cannot be used for RTP");
        assert_eq!(
            err("20000"),
            "\"20000\" is not a port range like \"20000-29999\""
        );
        assert_eq!(
            err("20000-70000"),
            "\"20000-70000\" is not a port range like \"20000-29999\""
        );
    }
}
