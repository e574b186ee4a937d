//! Users of the switch (`[[users]]`): agents, test phones and static peers such as gateways.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use super::net::{Transport, ValueError};

/// One configured user. `Debug` hides the password so configs can be logged.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    /// The SIP user part (`1001` in `sip:1001@domain`) and digest username.
    pub id: String,
    /// Digest password. `None` only for static peers (a `contact` is set): such a user can
    /// never pass digest authentication and is reached through its contact; it can still
    /// call in from a `sip.trusted` address.
    pub password: Option<String>,
    /// Display name; empty for none.
    pub name: String,
    /// Fixed contact used instead of (or before) registrations.
    pub contact: Option<StaticContact>,
    /// The share of the calls the user answers or places that are recorded (0-100).
    pub record_percent: u8,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("password", &self.password.as_ref().map(|_| "<hidden>"))
            .field("name", &self.name)
            .field("contact", &self.contact)
            .field("record_percent", &self.record_percent)
            .finish()
    }
}

/// A static contact such as `sip:1001@127.0.0.1:5070;transport=tcp`.
///
/// Only the parts the switch needs to route are pulled out; `uri` keeps the text as written
/// so it can be used as a Request-URI unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaticContact {
    /// The URI as configured (trimmed).
    pub uri: String,
    /// User part, if any.
    pub user: Option<String>,
    /// Host name or IP address; IPv6 without brackets.
    pub host: String,
    /// Explicit port, if any.
    pub port: Option<u16>,
    /// `;transport=` parameter, if any.
    pub transport: Option<Transport>,
}

impl StaticContact {
    /// Default SIP port over UDP and TCP (RFC 3261 §19.1.2).
    pub const DEFAULT_PORT: u16 = 5060;
    /// Default SIP port over TLS (RFC 3261 §19.1.2).
    pub const DEFAULT_TLS_PORT: u16 = 5061;

    /// The transport to use: the `;transport=` parameter, else UDP (RFC 3263 §4.1 for a
    /// numeric host without NAPTR).
    pub fn transport_or_default(&self) -> Transport {
        self.transport.unwrap_or(Transport::Udp)
    }

    /// The socket address when the host is an IP literal (port defaults to 5060, 5061
    /// over TLS); `None` when it is a name that must be resolved.
    pub fn socket_addr(&self) -> Option<SocketAddr> {
        let ip = self.host.parse::<IpAddr>().ok()?;
        let default = match self.transport_or_default() {
            Transport::Tls => Self::DEFAULT_TLS_PORT,
            _ => Self::DEFAULT_PORT,
        };
        Some(SocketAddr::new(ip, self.port.unwrap_or(default)))
    }

    /// Parses a `sip:` URI with a host, an optional user and port, and parameters.
    pub fn parse(s: &str) -> Result<StaticContact, ValueError> {
        let bad = |why: &str| ValueError(format!("\"{s}\" is not a SIP URI: {why}"));
        let uri = s.trim();
        let rest = match uri.get(..4) {
            Some(scheme) if scheme.eq_ignore_ascii_case("sip:") => &uri[4..],
            _ => return Err(bad("it must start with \"sip:\"")),
        };
        if rest.contains('?') {
            return Err(bad("URI headers (\"?...\") are not allowed"));
        }
        if rest.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad("it contains spaces or control characters"));
        }
        let (user, rest) = match rest.split_once('@') {
            Some((user, rest)) => {
                if user.is_empty() {
                    return Err(bad("the user part before '@' is empty"));
                }
                if user.contains(':') {
                    return Err(bad("passwords in URIs are not allowed"));
                }
                (Some(user.to_string()), rest)
            }
            None => (None, rest),
        };
        let (hostport, params) = match rest.split_once(';') {
            Some((hostport, params)) => (hostport, Some(params)),
            None => (rest, None),
        };
        let (host, port) = split_host_port(hostport).map_err(|why| bad(&why))?;
        let mut transport = None;
        for param in params.into_iter().flat_map(|p| p.split(';')) {
            let (name, value) = param.split_once('=').unwrap_or((param, ""));
            if name.is_empty() {
                return Err(bad("it has an empty parameter"));
            }
            if name.eq_ignore_ascii_case("transport") {
                transport = Some(value.parse::<Transport>().map_err(|e| bad(&e.0))?);
            }
        }
        Ok(StaticContact {
            uri: uri.to_string(),
            user,
            host,
            port,
            transport,
        })
    }
}

/// Splits `host[:port]` / `[v6][:port]`, checking the host is an IP literal or a DNS name.
fn split_host_port(hostport: &str) -> Result<(String, Option<u16>), String> {
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let Some((host, after)) = v6.split_once(']') else {
            return Err("missing ']' after the IPv6 address".to_string());
        };
        if host.parse::<std::net::Ipv6Addr>().is_err() {
            return Err(format!("\"{host}\" is not an IPv6 address"));
        }
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| "unexpected text after ']'".to_string())?,
            ),
        };
        (host, port)
    } else {
        match hostport.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (hostport, None),
        }
    };
    if host.is_empty() {
        return Err("the host is empty".to_string());
    }
    if !is_host(host) {
        return Err(format!("\"{host}\" is not a host name or IP address"));
    }
    let port = match port {
        None => None,
        Some(p) => match p.parse::<u16>() {
            Ok(p) if p > 0 => Some(p),
            _ => return Err(format!("\"{p}\" is not a port")),
        },
    };
    Ok((host.to_string(), port))
}

/// A DNS name (letters, digits, '-', '.'), an IPv4 address or a bare IPv6 address.
pub(super) fn is_host(host: &str) -> bool {
    if host.parse::<IpAddr>().is_ok() {
        return true;
    }
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// Checks a user id: it becomes a SIP user part and a digest username, so it is kept to
/// characters that need no escaping anywhere.
pub(super) fn check_user_id(id: &str) -> Result<(), ValueError> {
    if id.is_empty() {
        return Err(ValueError("must not be empty".to_string()));
    }
    if id.len() > 64 {
        return Err(ValueError("is longer than 64 characters".to_string()));
    }
    if !id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-'))
    {
        return Err(ValueError(format!(
            "\"{id}\" may only contain letters, digits and . _ + -"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contact_full() {
        let c = StaticContact::parse("sip:1001@127.0.0.1:5070;transport=tcp").unwrap();
        assert_eq!(c.uri, "sip:1001@127.0.0.1:5070;transport=tcp");
        assert_eq!(c.user.as_deref(), Some("1001"));
        assert_eq!(c.host, "127.0.0.1");
        assert_eq!(c.port, Some(5070));
        assert_eq!(c.transport, Some(Transport::Tcp));
        assert_eq!(c.socket_addr(), Some("127.0.0.1:5070".parse().unwrap()));
        assert_eq!(c.transport_or_default(), Transport::Tcp);
    }

    #[test]
    fn contact_minimal_and_v6() {
        let c = StaticContact::parse("SIP:gw.example.com;lr").unwrap();
        assert_eq!(c.user, None);
        assert_eq!(c.host, "gw.example.com");
        assert_eq!(c.port, None);
        assert_eq!(c.transport, None);
        assert_eq!(c.socket_addr(), None);
        assert_eq!(c.transport_or_default(), Transport::Udp);

        let v6 = StaticContact::parse("sip:1002@[::1]:5080;Transport=UDP").unwrap();
        assert_eq!(v6.host, "::1");
        assert_eq!(v6.transport, Some(Transport::Udp));
        assert_eq!(v6.socket_addr(), Some("[::1]:5080".parse().unwrap()));
        assert_eq!(
            StaticContact::parse("sip:[::1]").unwrap().socket_addr(),
            Some("[::1]:5060".parse().unwrap())
        );
    }

    #[test]
    fn contact_errors() {
        let err = |s: &str| StaticContact::parse(s).unwrap_err().to_string();
        for (input, why) in [
            ("tel:+123", "it must start with \"sip:\""),
            ("sip:", "the host is empty"),
            ("sip:@host", "the user part before '@' is empty"),
            ("sip:a:b@host", "passwords in URIs are not allowed"),
            ("sip:a@ho st", "it contains spaces or control characters"),
            ("sip:a@host:0", "\"0\" is not a port"),
            ("sip:a@host:99999", "\"99999\" is not a port"),
            (
                "sip:a@host;transport=sctp",
                "unknown transport \"sctp\" (expected udp, tcp or tls)",
            ),
            ("sip:a@[::1", "missing ']' after the IPv6 address"),
            ("sip:a@[zz]", "\"zz\" is not an IPv6 address"),
            (
                "sip:a@bad_host",
                "\"bad_host\" is not a host name or IP address",
            ),
            (
                "sip:a@host?subject=x",
                "URI headers (\"?...\") are not allowed",
            ),
            ("sip:a@host;;x", "it has an empty parameter"),
        ] {
            assert_eq!(err(input), format!("\"{input}\" is not a SIP URI: {why}"));
        }
    }

    #[test]
    fn user_ids() {
        assert!(check_user_id("1001").is_ok());
        assert!(check_user_id("+44.20_x-1").is_ok());
        assert_eq!(check_user_id("").unwrap_err().0, "must not be empty");
        assert_eq!(
            check_user_id("a b").unwrap_err().0,
            "\"a b\" may only contain letters, digits and . _ + -"
        );
        assert!(check_user_id(&"1".repeat(65)).is_err());
    }

    #[test]
    fn hosts() {
        assert!(is_host("127.0.0.1"));
        assert!(is_host("::1"));
        assert!(is_host("pbx.example.com"));
        assert!(!is_host("-bad.example.com"));
        assert!(!is_host("a..b"));
        assert!(!is_host(""));
    }

    #[test]
    fn debug_hides_password() {
        let u = User {
            id: "1001".into(),
            password: Some("secret".into()),
            name: "A".into(),
            contact: None,
            record_percent: 0,
        };
        let shown = format!("{u:?}");
        assert!(!shown.contains("secret"), "{shown}");
        assert!(shown.contains("<hidden>"));
    }
}
