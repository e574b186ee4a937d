//! Every validation error names its key.
use super::super::{Config, ConfigError};

/// The single error a document produces, as `key: message`.
fn error(doc: &str) -> String {
    match Config::from_toml_str(doc) {
        Ok(_) => panic!("expected an error for:\n{doc}"),
        Err(ConfigError::Invalid(errors)) if errors.len() == 1 => errors[0].to_string(),
        Err(e) => panic!("expected exactly one key error for:\n{doc}\ngot: {e}"),
    }
}

fn user(id: &str) -> String {
    format!("[[users]]\nid = \"{id}\"\npassword = \"pw\"\n")
}

#[test]
fn data_dir() {
    assert_eq!(error("data_dir = \"\""), "data_dir: must not be empty");
}

#[test]
fn sip_listen() {
    assert_eq!(
        error("[sip]\nlisten = [\"udp:127.0.0.1:5060\", \"udp:1.2.3\"]"),
        "sip.listen[1]: \"udp:1.2.3\" is not an address"
    );
    assert_eq!(
        error("[sip]\nlisten = [\"sctp:127.0.0.1:5061\"]"),
        "sip.listen[0]: \"sctp:127.0.0.1:5061\": unknown transport \"sctp\" (expected udp, tcp or tls)"
    );
    assert_eq!(
        error("[sip]\nlisten = []"),
        "sip.listen: must list at least one address"
    );
    assert_eq!(
        error("[sip]\nlisten = [\"udp:127.0.0.1:5060\", \"tcp:127.0.0.1:5060\", \"UDP:127.0.0.1:5060\"]"),
        "sip.listen[2]: \"UDP:127.0.0.1:5060\" repeats sip.listen[0]"
    );
    let ok = Config::from_toml_str("[sip]\nlisten = [\"udp:[::1]:5060\", \"tcp:0.0.0.0:0\"]");
    assert!(ok.is_ok(), "{ok:?}");
}

#[test]
fn sip_domain() {
    assert_eq!(
        error("[sip]\ndomain = \"\""),
        "sip.domain: must not be empty"
    );
    assert_eq!(
        error("[sip]\ndomain = \"pbx example\""),
        "sip.domain: \"pbx example\" is not a host name or IP address (IPv6 goes in brackets: \"[::1]\")"
    );
    assert!(error("[sip]\ndomain = \"::1\"").starts_with("sip.domain: \"::1\" is not"));
    for ok in ["pbx.example.com", "[::1]", "192.0.2.1"] {
        let doc = format!("[sip]\ndomain = \"{ok}\"");
        assert!(Config::from_toml_str(&doc).is_ok(), "{ok}");
    }
}

#[test]
fn sip_trusted() {
    assert_eq!(
        error("[sip]\ntrusted = [\"10.0.0.0/8\", \"10.0.0.1/8\"]"),
        "sip.trusted[1]: \"10.0.0.1/8\" has bits set beyond the prefix /8 (did you mean \"10.0.0.0/8\"?)"
    );
    assert_eq!(
        error("[sip]\ntrusted = [\"office\"]"),
        "sip.trusted[0]: \"office\" is not a CIDR like \"10.0.0.0/8\" or \"::1/128\""
    );
}

#[test]
fn sip_timers() {
    assert_eq!(
        error("[sip]\nt1_ms = 0"),
        "sip.t1_ms: 0 is out of range 1..=60000"
    );
    assert_eq!(
        error("[sip]\nt1_ms = 500\nt2_ms = 400"),
        "sip.t2_ms: must be at least sip.t1_ms (500)"
    );
    assert_eq!(
        error("[sip]\nt4_ms = 0"),
        "sip.t4_ms: 0 is out of range 1..=600000"
    );
    assert_eq!(
        error("[sip]\nmax_forwards = 0"),
        "sip.max_forwards: 0 is out of range 1..=255"
    );
    assert_eq!(
        error("[sip]\nmax_forwards = 256"),
        "sip.max_forwards: 256 is out of range 1..=255"
    );
    assert_eq!(
        error("[sip]\nnonce_ttl_secs = 0"),
        "sip.nonce_ttl_secs: 0 is out of range 1..=86400"
    );
    assert_eq!(
        error("[sip]\ninvite_timeout_secs = 0"),
        "sip.invite_timeout_secs: 0 is out of range 1..=86400"
    );
}

#[test]
fn sip_register_expires() {
    assert_eq!(
        error("[sip]\nregister_min_expires = 0"),
        "sip.register_min_expires: 0 is out of range 1..=4294967295"
    );
    assert_eq!(
        error("[sip]\nregister_max_expires = 4294967296"),
        "sip.register_max_expires: 4294967296 is out of range 1..=4294967295"
    );
    assert_eq!(
        error("[sip]\nregister_default_expires = 0"),
        "sip.register_default_expires: 0 is out of range 1..=4294967295"
    );
    assert_eq!(
        error("[sip]\nregister_min_expires = 600\nregister_max_expires = 300"),
        "sip.register_max_expires: must be at least sip.register_min_expires (600)"
    );
    assert_eq!(
        error("[sip]\nregister_default_expires = 30"),
        "sip.register_default_expires: must be between sip.register_min_expires (60) and sip.register_max_expires (3600)"
    );
}

#[test]
fn sip_session_timers() {
    assert_eq!(
        error("[sip]\nmin_se = 89"),
        "sip.min_se: 89 is out of range 90..=4294967295"
    );
    assert_eq!(
        error("[sip]\nsession_expires = 60"),
        "sip.session_expires: must be 0 (off) or at least sip.min_se (90)"
    );
    let off = Config::from_toml_str("[sip]\nsession_expires = 0").unwrap();
    assert_eq!(off.sip.session_timer(), None);
}

#[test]
fn sip_user_agent() {
    assert_eq!(
        error("[sip]\nuser_agent = \"a\\r\\nX-Evil: 1\""),
        "sip.user_agent: must not contain control characters (found '\\r')"
    );
    assert!(Config::from_toml_str("[sip]\nuser_agent = \"\"").is_ok());
}

#[test]
fn http_listen() {
    assert_eq!(
        error("[http]\nlisten = \"8080\""),
        "http.listen: \"8080\" is not an address like \"127.0.0.1:8080\""
    );
}

#[test]
fn media() {
    assert_eq!(
        error("[media]\nrtp_ports = \"20001-29999\""),
        "media.rtp_ports: first port must be even and below last"
    );
    assert_eq!(
        error("[media]\nrtp_ports = \"20000\""),
        "media.rtp_ports: \"20000\" is not a port range like \"20000-29999\""
    );
    assert_eq!(
        error("[media]\nbind_ip = \"localhost\""),
        "media.bind_ip: \"localhost\" is not an IP address"
    );
    assert_eq!(
        error("[media]\nadvertised_ip = \"1.2.3\""),
        "media.advertised_ip: \"1.2.3\" is not an IP address"
    );
    assert_eq!(
        error("[media]\nadvertised_ip = \"0.0.0.0\""),
        "media.advertised_ip: \"0.0.0.0\" cannot be advertised: peers would read it as hold"
    );
    assert_eq!(
        error("[media]\nbind_ip = \"0.0.0.0\""),
        "media.advertised_ip: must be set when media.bind_ip is \"0.0.0.0\" (an unspecified address cannot go into SDP)"
    );
    let nat = Config::from_toml_str(
        "[media]\nbind_ip = \"0.0.0.0\"\nadvertised_ip = \"203.0.113.5\"\nno_media_timeout_secs = 0",
    )
    .unwrap();
    assert_eq!(
        nat.media.sdp_ip(),
        "203.0.113.5".parse::<std::net::IpAddr>().unwrap()
    );
    assert_eq!(nat.media.no_media_timeout(), None);
}

#[test]
fn database_url() {
    assert_eq!(
        error("[database]\nurl = \"mysql://x\""),
        "database.url: must be empty (SQLite in data_dir), \"sqlite://PATH\" or \"postgres://...\""
    );
    for ok in [
        "sqlite://x.db",
        "sqlite::memory:",
        "postgres://u@h/d",
        "postgresql://h/d",
    ] {
        let c = Config::from_toml_str(&format!("[database]\nurl = \"{ok}\"")).unwrap();
        assert_eq!(c.database_url(), ok);
    }
}

#[test]
fn users() {
    assert_eq!(
        error(&format!("{}{}{}", user("1001"), user("1002"), user("1001"))),
        "users[2].id: duplicate user id \"1001\" (also users[0])"
    );
    assert_eq!(
        error("[[users]]\npassword = \"x\""),
        "users[0].id: must not be empty"
    );
    assert_eq!(
        error("[[users]]\nid = \"a b\"\npassword = \"x\""),
        "users[0].id: \"a b\" may only contain letters, digits and . _ + -"
    );
    assert_eq!(
        error("[[users]]\nid = \"1001\""),
        "users[0].password: must not be empty (only users with a static contact may omit it)"
    );
    assert_eq!(
        error("[[users]]\nid = \"1001\"\npassword = \"x\"\nname = \"a\\nb\""),
        "users[0].name: must not contain control characters"
    );
    assert_eq!(
        error("[[users]]\nid = \"1001\"\npassword = \"x\\u0000\""),
        "users[0].password: must not contain control characters"
    );
    assert_eq!(
        error("[[users]]\nid = \"gw\"\ncontact = \"gw.example.com\""),
        "users[0].contact: \"gw.example.com\" is not a SIP URI: it must start with \"sip:\""
    );
    let gw = Config::from_toml_str(
        "[[users]]\nid = \"gw\"\ncontact = \"sip:gw@192.0.2.1:5070;transport=tcp\"",
    )
    .unwrap();
    assert_eq!(gw.users[0].password, None);
    assert_eq!(
        gw.users[0].contact.as_ref().and_then(|c| c.socket_addr()),
        Some("192.0.2.1:5070".parse().unwrap())
    );
}

#[test]
fn listener_limits_are_checked_with_their_keys() {
    assert_eq!(
        error("[sip]\ntcp_max_connections = 10\ntcp_max_connections_per_ip = 11"),
        "sip.tcp_max_connections_per_ip: must not exceed sip.tcp_max_connections (10)"
    );
    assert_eq!(
        error("[sip]\ntcp_idle_timeout_secs = 0"),
        "sip.tcp_idle_timeout_secs: 0 is out of range 1..=86400"
    );
    assert_eq!(
        error("[http]\nidle_timeout_secs = 10"),
        "http.idle_timeout_secs: 10 is out of range 30..=86400"
    );
    assert_eq!(
        error("[http]\nmax_connections = 0"),
        "http.max_connections: 0 is out of range 1..=1000000"
    );
    assert_eq!(
        error("[http]\nallowed_hosts = [\"http://cc.example.com\"]"),
        "http.allowed_hosts[0]: \"http://cc.example.com\" is not a host name (no port, no scheme)"
    );
    let c = match Config::from_toml_str(
        "[sip]\ntcp_message_timeout_secs = 3\n[http]\nallowed_hosts = [\"CC.Example.com.\"]",
    ) {
        Ok(c) => c,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(c.sip.tcp.message_timeout, std::time::Duration::from_secs(3));
    assert_eq!(c.http.allowed_hosts, vec!["cc.example.com".to_string()]);
    // And they print back as they were read.
    let again = Config::from_toml_str(&c.to_toml_string().unwrap_or_default());
    assert_eq!(again.ok().map(|a| a.http), Some(c.http));
}
