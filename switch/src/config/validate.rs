//! Semantic checks: the raw strings and numbers become typed values, and values that
//! depend on each other (timers, expiry bounds, media addresses, user ids) are checked
//! together. Every problem is collected with its key; nothing stops at the first.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::str::FromStr;

use super::net::{Cidr, ListenAddr, PortRange, ValueError};
use super::raw::{RawAcd, RawConfig, RawDatabase, RawMedia, RawSip, RawTrunk, RawUser};
use super::user::{check_user_id, is_host, StaticContact, User};
use super::{AcdConfig, Config, DatabaseConfig, KeyError, MediaConfig, SipConfig, Trunk};

/// RFC 4028 §4: Min-SE must not be below 90 seconds.
const MIN_SE_FLOOR: u64 = 90;

/// Collects errors as they are found.
pub(super) struct Problems<'a>(pub(super) &'a mut Vec<KeyError>);

impl Problems<'_> {
    /// How many problems are recorded so far.
    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    pub(super) fn add(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.0.push(KeyError::new(key, message));
    }

    /// Parses `value` with `FromStr`, recording the error under `key`.
    fn parse<T: FromStr<Err = ValueError>>(&mut self, key: &str, value: &str) -> Option<T> {
        match value.parse::<T>() {
            Ok(v) => Some(v),
            Err(e) => {
                self.add(key, e.0);
                None
            }
        }
    }

    /// Checks `min <= value <= max` and narrows to `T`.
    pub(super) fn in_range<T: TryFrom<u64>>(
        &mut self,
        key: &str,
        value: u64,
        min: u64,
        max: u64,
    ) -> Option<T> {
        if value < min || value > max {
            self.add(key, format!("{value} is out of range {min}..={max}"));
            return None;
        }
        T::try_from(value).ok()
    }
}

/// Builds the typed config. Returns `None` when any problem was recorded.
pub(super) fn validate(raw: RawConfig, errors: &mut Vec<KeyError>) -> Option<Config> {
    let before = errors.len();
    let mut p = Problems(errors);
    if raw.data_dir.trim().is_empty() {
        p.add("data_dir", "must not be empty");
    }
    let sip = sip(&raw.sip, &mut p);
    let http = super::limits::http(&raw.http, &mut p);
    let media = media(&raw.media, &mut p);
    let database = database(&raw.database, &mut p);
    let users = users(&raw.users, &mut p);
    let acd = acd_section(&raw.acd, &mut p);
    let trunks = trunks(&raw.trunks, &mut p);
    check_queues_and_agents(&raw, &mut p);
    let auth = super::auth::auth(&raw.auth, &mut p);
    let teams = super::auth::teams(&raw.teams, &mut p);
    let accounts = super::auth::accounts(&raw, &mut p);
    let chat = super::chat::chat(&raw.chat, &mut p);
    let im = super::im::im(&raw.im, &mut p);
    let email = super::email::email(&raw.email, &mut p);
    let tls = super::tls::tls(&raw.tls, &mut p);
    super::voicemail::check(&raw.voicemail, &mut p);
    super::edge::check(&raw.edge, &mut p);
    if errors.len() != before {
        return None;
    }
    Some(Config {
        data_dir: PathBuf::from(raw.data_dir),
        sip: sip?,
        http: http?,
        media: media?,
        database: database?,
        users: users?,
        acd: acd?,
        queues: raw.queues,
        agents: raw.agents,
        trunks: trunks?,
        auth: auth?,
        teams,
        accounts,
        chat: chat?,
        im: im?,
        email: email?,
        voicemail: raw.voicemail,
        edge: raw.edge,
        tls: tls?,
    })
}

fn trunks(raw: &[RawTrunk], p: &mut Problems) -> Option<Vec<Trunk>> {
    let before = p.0.len();
    let mut out = Vec::new();
    for (i, t) in raw.iter().enumerate() {
        if t.name.is_empty() {
            p.add(format!("trunks[{i}].name"), "must not be empty");
        }
        if raw[..i].iter().any(|o| o.name == t.name) {
            p.add(
                format!("trunks[{i}].name"),
                format!("duplicate trunk name {:?}", t.name),
            );
        }
        let address = match t.address.parse::<SocketAddr>() {
            Ok(a) => Some(a),
            Err(_) => {
                p.add(
                    format!("trunks[{i}].address"),
                    format!("{:?} is not ip:port", t.address),
                );
                None
            }
        };
        let transport = match t.transport.to_ascii_lowercase().as_str() {
            "" | "udp" => Some(super::Transport::Udp),
            "tcp" => Some(super::Transport::Tcp),
            "tls" => Some(super::Transport::Tls),
            other => {
                p.add(
                    format!("trunks[{i}].transport"),
                    format!("{other:?} is not udp, tcp or tls"),
                );
                None
            }
        };
        for (j, prefix) in t.prefixes.iter().enumerate() {
            if prefix.is_empty() || !prefix.chars().all(|c| c.is_ascii_digit() || c == '+') {
                p.add(
                    format!("trunks[{i}].prefixes[{j}]"),
                    format!("{prefix:?} must be digits (and +)"),
                );
            }
        }
        if let (Some(address), Some(transport)) = (address, transport) {
            out.push(Trunk {
                name: t.name.clone(),
                address,
                transport,
                prefixes: t.prefixes.clone(),
                max_calls: t.max_calls,
            });
        }
    }
    (p.0.len() == before).then_some(out)
}

fn acd_section(raw: &RawAcd, p: &mut Problems) -> Option<AcdConfig> {
    let before = p.0.len();
    let codes = [
        ("acd.ready_code", &raw.ready_code),
        ("acd.not_ready_code", &raw.not_ready_code),
        ("acd.logout_code", &raw.logout_code),
        ("acd.listen_code", &raw.listen_code),
        ("acd.whisper_code", &raw.whisper_code),
        ("acd.barge_code", &raw.barge_code),
    ];
    for (i, (key, code)) in codes.iter().enumerate() {
        if code.is_empty()
            || !code
                .chars()
                .all(|c| c.is_ascii_digit() || c == '*' || c == '#')
        {
            p.add(*key, format!("{code:?} must be digits, * and # only"));
        }
        // The supervisor's codes are prefixes: no code may begin another.
        if codes[..i]
            .iter()
            .any(|(_, other)| other.starts_with(code.as_str()) || code.starts_with(other.as_str()))
        {
            p.add(*key, format!("{code:?} is used by another feature code"));
        }
    }
    let every = p.in_range::<u64>("acd.announce_every_secs", raw.announce_every_secs, 0, 3600);
    (p.0.len() == before).then(|| AcdConfig {
        ready_code: raw.ready_code.clone(),
        not_ready_code: raw.not_ready_code.clone(),
        logout_code: raw.logout_code.clone(),
        listen_code: raw.listen_code.clone(),
        whisper_code: raw.whisper_code.clone(),
        barge_code: raw.barge_code.clone(),
        announce_every_secs: every.unwrap_or(30),
    })
}

/// Queue DNs unique and not users' ids; agents unique, their queues known.
fn check_queues_and_agents(raw: &RawConfig, p: &mut Problems) {
    for (i, q) in raw.queues.iter().enumerate() {
        if let Err(e) = q.validate() {
            p.add(format!("queues[{i}].{}", e.key), e.reason);
        }
        if let Some(first) = raw.queues[..i].iter().position(|o| o.dn == q.dn) {
            p.add(
                format!("queues[{i}].dn"),
                format!("duplicate DN \"{}\" (also queues[{first}])", q.dn),
            );
        }
        if raw.users.iter().any(|u| u.id == q.dn.as_str()) {
            p.add(
                format!("queues[{i}].dn"),
                format!("\"{}\" is also a user id", q.dn),
            );
        }
    }
    for (i, a) in raw.agents.iter().enumerate() {
        if let Err(e) = a.validate() {
            p.add(format!("agents[{i}].{}", e.key), e.reason);
        }
        if let Some(first) = raw.agents[..i].iter().position(|o| o.id == a.id) {
            p.add(
                format!("agents[{i}].id"),
                format!("duplicate agent id \"{}\" (also agents[{first}])", a.id),
            );
        }
        for (j, dn) in a.queues.iter().enumerate() {
            if !raw.queues.iter().any(|q| &q.dn == dn) {
                p.add(
                    format!("agents[{i}].queues[{j}]"),
                    format!("no queue with DN \"{dn}\""),
                );
            }
        }
    }
}

fn sip(raw: &RawSip, p: &mut Problems) -> Option<SipConfig> {
    let mut listen = Vec::with_capacity(raw.listen.len());
    if raw.listen.is_empty() {
        p.add("sip.listen", "must list at least one address");
    }
    for (i, s) in raw.listen.iter().enumerate() {
        let key = format!("sip.listen[{i}]");
        if let Some(addr) = p.parse::<ListenAddr>(&key, s) {
            match raw.listen[..i]
                .iter()
                .position(|other| other.parse::<ListenAddr>().ok() == Some(addr))
            {
                Some(j) => p.add(key, format!("\"{s}\" repeats sip.listen[{j}]")),
                None => listen.push(addr),
            }
        }
    }

    let domain = raw.domain.trim();
    let domain_ok = match domain.strip_prefix('[').and_then(|d| d.strip_suffix(']')) {
        Some(v6) => v6.parse::<std::net::Ipv6Addr>().is_ok(),
        None => is_host(domain) && !domain.contains(':'),
    };
    if domain.is_empty() {
        p.add("sip.domain", "must not be empty");
    } else if !domain_ok {
        p.add(
            "sip.domain",
            format!(
                "\"{}\" is not a host name or IP address (IPv6 goes in brackets: \"[::1]\")",
                raw.domain
            ),
        );
    }

    let trusted: Vec<Cidr> = raw
        .trusted
        .iter()
        .enumerate()
        .filter_map(|(i, s)| p.parse(&format!("sip.trusted[{i}]"), s))
        .collect();

    let t1_ms = p.in_range::<u64>("sip.t1_ms", raw.t1_ms, 1, 60_000);
    let t2_ms = match t1_ms {
        Some(t1) if raw.t2_ms < t1 => {
            p.add("sip.t2_ms", format!("must be at least sip.t1_ms ({t1})"));
            None
        }
        _ => p.in_range::<u64>("sip.t2_ms", raw.t2_ms, 1, 600_000),
    };
    let t4_ms = p.in_range::<u64>("sip.t4_ms", raw.t4_ms, 1, 600_000);
    let max_forwards = p.in_range::<u8>("sip.max_forwards", raw.max_forwards, 1, 255);

    let expires_max = u64::from(u32::MAX);
    let reg_min = p.in_range::<u32>(
        "sip.register_min_expires",
        raw.register_min_expires,
        1,
        expires_max,
    );
    let reg_max = p.in_range::<u32>(
        "sip.register_max_expires",
        raw.register_max_expires,
        1,
        expires_max,
    );
    let reg_default = p.in_range::<u32>(
        "sip.register_default_expires",
        raw.register_default_expires,
        1,
        expires_max,
    );
    if let (Some(min), Some(max)) = (reg_min, reg_max) {
        if max < min {
            p.add(
                "sip.register_max_expires",
                format!("must be at least sip.register_min_expires ({min})"),
            );
        } else if let Some(default) = reg_default {
            if default < min || default > max {
                p.add(
                    "sip.register_default_expires",
                    format!(
                        "must be between sip.register_min_expires ({min}) and \
                         sip.register_max_expires ({max})"
                    ),
                );
            }
        }
    }

    let nonce_ttl_secs = p.in_range::<u64>("sip.nonce_ttl_secs", raw.nonce_ttl_secs, 1, 86_400);
    let mut digest_algorithms = Vec::new();
    for (i, a) in raw.digest_algorithms.iter().enumerate() {
        match sip::auth::Algorithm::from_token(a) {
            Some(alg) if !digest_algorithms.contains(&alg) => digest_algorithms.push(alg),
            Some(_) => p.add(
                format!("sip.digest_algorithms[{i}]"),
                format!("{a:?} is listed twice"),
            ),
            None => p.add(
                format!("sip.digest_algorithms[{i}]"),
                format!("{a:?} is not a digest algorithm (\"MD5\" or \"SHA-256\")"),
            ),
        }
    }
    if raw.digest_algorithms.is_empty() {
        p.add("sip.digest_algorithms", "must list at least one algorithm");
    }
    let min_se = p.in_range::<u32>("sip.min_se", raw.min_se, MIN_SE_FLOOR, expires_max);
    let session_expires =
        p.in_range::<u32>("sip.session_expires", raw.session_expires, 0, expires_max);
    if let (Some(se), Some(min_se)) = (session_expires, min_se) {
        if se != 0 && se < min_se {
            p.add(
                "sip.session_expires",
                format!("must be 0 (off) or at least sip.min_se ({min_se})"),
            );
        }
    }
    let invite_timeout_secs = p.in_range::<u64>(
        "sip.invite_timeout_secs",
        raw.invite_timeout_secs,
        1,
        86_400,
    );
    let tcp = super::limits::tcp(raw, p);
    if let Some(bad) = raw.user_agent.chars().find(|c| c.is_control()) {
        p.add(
            "sip.user_agent",
            format!("must not contain control characters (found {bad:?})"),
        );
    }

    Some(SipConfig {
        listen,
        domain: domain.to_string(),
        trusted,
        t1_ms: t1_ms?,
        t2_ms: t2_ms?,
        t4_ms: t4_ms?,
        max_forwards: max_forwards?,
        register_min_expires: reg_min?,
        register_max_expires: reg_max?,
        register_default_expires: reg_default?,
        nonce_ttl_secs: nonce_ttl_secs?,
        digest_algorithms,
        session_expires: session_expires?,
        min_se: min_se?,
        invite_timeout_secs: invite_timeout_secs?,
        user_agent: raw.user_agent.clone(),
        srtp_offer: raw.srtp_offer,
        tcp: tcp?,
    })
}

fn media(raw: &RawMedia, p: &mut Problems) -> Option<MediaConfig> {
    let rtp_ports = p.parse::<PortRange>("media.rtp_ports", &raw.rtp_ports);
    let bind_ip = parse_ip(p, "media.bind_ip", &raw.bind_ip);
    let advertised_ip = if raw.advertised_ip.is_empty() {
        None
    } else {
        match parse_ip(p, "media.advertised_ip", &raw.advertised_ip) {
            Some(ip) if ip.is_unspecified() => {
                p.add(
                    "media.advertised_ip",
                    format!("\"{ip}\" cannot be advertised: peers would read it as hold"),
                );
                None
            }
            other => other,
        }
    };
    if raw.advertised_ip.is_empty() && bind_ip.is_some_and(|ip| ip.is_unspecified()) {
        p.add(
            "media.advertised_ip",
            format!(
                "must be set when media.bind_ip is \"{}\" (an unspecified address cannot go \
                 into SDP)",
                raw.bind_ip
            ),
        );
    }
    Some(MediaConfig {
        rtp_ports: rtp_ports?,
        bind_ip: bind_ip?,
        advertised_ip,
        no_media_timeout_secs: raw.no_media_timeout_secs,
    })
}

fn parse_ip(p: &mut Problems, key: &str, s: &str) -> Option<IpAddr> {
    match s.parse::<IpAddr>() {
        Ok(ip) => Some(ip),
        Err(_) => {
            p.add(key, format!("\"{s}\" is not an IP address"));
            None
        }
    }
}

fn database(raw: &RawDatabase, p: &mut Problems) -> Option<DatabaseConfig> {
    let url = raw.url.trim();
    let known = ["sqlite:", "postgres://", "postgresql://"];
    if !url.is_empty() && !known.iter().any(|scheme| url.starts_with(scheme)) {
        p.add(
            "database.url",
            "must be empty (SQLite in data_dir), \"sqlite://PATH\" or \"postgres://...\"",
        );
        return None;
    }
    Some(DatabaseConfig {
        url: url.to_string(),
    })
}

fn users(raw: &[RawUser], p: &mut Problems) -> Option<Vec<User>> {
    let mut users = Vec::with_capacity(raw.len());
    let mut seen: HashMap<&str, usize> = HashMap::new();
    let mut ok = true;
    for (i, u) in raw.iter().enumerate() {
        let key = |field: &str| format!("users[{i}].{field}");
        if let Err(e) = check_user_id(&u.id) {
            p.add(key("id"), e.0);
            ok = false;
        } else if let Some(first) = seen.insert(&u.id, i) {
            p.add(
                key("id"),
                format!("duplicate user id \"{}\" (also users[{first}])", u.id),
            );
            seen.insert(&u.id, first);
            ok = false;
        }
        let contact = if u.contact.is_empty() {
            None
        } else {
            match StaticContact::parse(&u.contact) {
                Ok(c) => Some(c),
                Err(e) => {
                    p.add(key("contact"), e.0);
                    ok = false;
                    None
                }
            }
        };
        if u.password.is_empty() && u.contact.is_empty() {
            p.add(
                key("password"),
                "must not be empty (only users with a static contact may omit it)",
            );
            ok = false;
        }
        if u.password.chars().any(char::is_control) {
            p.add(key("password"), "must not contain control characters");
            ok = false;
        }
        if u.name.chars().any(char::is_control) {
            p.add(key("name"), "must not contain control characters");
            ok = false;
        }
        if u.record_percent > 100 {
            p.add(key("record_percent"), "must be 0 to 100");
            ok = false;
        }
        users.push(User {
            id: u.id.clone(),
            password: (!u.password.is_empty()).then(|| u.password.clone()),
            name: u.name.clone(),
            contact,
            record_percent: u.record_percent,
        });
    }
    ok.then_some(users)
}

/// The inverse of [`validate`], for printing a config.
pub(super) fn to_raw(config: &Config) -> RawConfig {
    let sip = &config.sip;
    let media = &config.media;
    RawConfig {
        data_dir: config.data_dir.to_string_lossy().into_owned(),
        sip: RawSip {
            listen: sip.listen.iter().map(ToString::to_string).collect(),
            domain: sip.domain.clone(),
            trusted: sip.trusted.iter().map(ToString::to_string).collect(),
            t1_ms: sip.t1_ms,
            t2_ms: sip.t2_ms,
            t4_ms: sip.t4_ms,
            max_forwards: u64::from(sip.max_forwards),
            register_min_expires: u64::from(sip.register_min_expires),
            register_max_expires: u64::from(sip.register_max_expires),
            register_default_expires: u64::from(sip.register_default_expires),
            nonce_ttl_secs: sip.nonce_ttl_secs,
            digest_algorithms: sip
                .digest_algorithms
                .iter()
                .map(|a| a.token().to_string())
                .collect(),
            session_expires: u64::from(sip.session_expires),
            min_se: u64::from(sip.min_se),
            invite_timeout_secs: sip.invite_timeout_secs,
            user_agent: sip.user_agent.clone(),
            srtp_offer: sip.srtp_offer,
            tcp_max_connections: sip.tcp.max_connections as u64,
            tcp_max_connections_per_ip: sip.tcp.max_per_ip as u64,
            tcp_idle_timeout_secs: sip.tcp.idle_timeout.as_secs(),
            tcp_message_timeout_secs: sip.tcp.message_timeout.as_secs(),
        },
        http: super::limits::raw_http(&config.http),
        media: RawMedia {
            rtp_ports: media.rtp_ports.to_string(),
            bind_ip: media.bind_ip.to_string(),
            advertised_ip: media
                .advertised_ip
                .map(|ip| ip.to_string())
                .unwrap_or_default(),
            no_media_timeout_secs: media.no_media_timeout_secs,
        },
        database: RawDatabase {
            url: config.database.url.clone(),
        },
        acd: RawAcd {
            ready_code: config.acd.ready_code.clone(),
            not_ready_code: config.acd.not_ready_code.clone(),
            logout_code: config.acd.logout_code.clone(),
            listen_code: config.acd.listen_code.clone(),
            whisper_code: config.acd.whisper_code.clone(),
            barge_code: config.acd.barge_code.clone(),
            announce_every_secs: config.acd.announce_every_secs,
        },
        queues: config.queues.clone(),
        agents: config.agents.clone(),
        auth: super::auth::raw_auth(&config.auth),
        teams: super::auth::raw_teams(&config.teams),
        accounts: super::auth::raw_accounts(&config.accounts),
        chat: super::chat::raw_chat(&config.chat),
        im: super::im::raw_im(&config.im),
        email: super::email::raw_email(&config.email),
        voicemail: config.voicemail.clone(),
        edge: config.edge.clone(),
        tls: super::tls::raw_tls(&config.tls),
        trunks: config
            .trunks
            .iter()
            .map(|t| super::raw::RawTrunk {
                name: t.name.clone(),
                address: t.address.to_string(),
                transport: t.transport.as_str().to_string(),
                prefixes: t.prefixes.clone(),
                max_calls: t.max_calls,
            })
            .collect(),
        users: config
            .users
            .iter()
            .map(|u| RawUser {
                id: u.id.clone(),
                password: u.password.clone().unwrap_or_default(),
                name: u.name.clone(),
                contact: u
                    .contact
                    .as_ref()
                    .map(|c| c.uri.clone())
                    .unwrap_or_default(),
                record_percent: u.record_percent,
            })
            .collect(),
    }
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
