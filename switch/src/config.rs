//! The switch's configuration: one TOML file, every key optional.
//!
//! `switch` started without arguments runs on [`Config::demo`]: SIP on UDP and TCP
//! 127.0.0.1:5060, HTTP on 127.0.0.1:8080, RTP on 127.0.0.1 ports 20000-29999, data in
//! `./data`, and ten demo users `1001` ..= `1010` whose passwords are `pass1001` ..=
//! `pass1010` (named "Demo User 1001" ...). `config.example.toml` beside `Cargo.toml` is
//! the same configuration written out with a comment on every key.
//!
//! Loading is two steps. The file is parsed into plain strings and numbers
//! (`raw`: serde, unknown keys rejected, every key defaulted), then validated
//! into typed values (`validate`: addresses, CIDRs, port ranges, timer
//! relations, duplicate users). Every problem found is reported at once, each naming its
//! key, e.g. `sip.listen[1]: "udp:1.2.3" is not an address`; a bad config stops start-up.

mod auth;
mod chat;
mod edge;
mod email;
mod im;
mod limits;
mod net;
mod raw;
mod tls;
mod user;
mod validate;
mod voicemail;

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

use thiserror::Error;

pub use crate::accounts::{AccountSeed, AuthConfig};
pub use chat::{CardPolicy, ChatConfig, FileRules, TransferFallback, KNOWN_TYPES};
pub use edge::EdgeConfig;
pub use email::{EmailConfig, MailTls, Mailbox, Smtp};
pub use im::ImConfig;
pub use net::{Cidr, ListenAddr, PortRange, Transport, ValueError};
pub use tls::TlsConfig;
pub use user::{StaticContact, User};
pub use voicemail::VoicemailConfig;

/// The whole configuration, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Directory for the SQLite database, recordings, voicemail; created at start-up.
    pub data_dir: PathBuf,
    pub sip: SipConfig,
    pub http: HttpConfig,
    pub media: MediaConfig,
    pub database: DatabaseConfig,
    /// Users, in file order; ids are unique.
    pub users: Vec<User>,
    pub acd: AcdConfig,
    /// `[[queues]]`: ACD queues; more can be created over REST.
    pub queues: Vec<acd::QueueConfig>,
    /// `[[agents]]`: ACD agents; more can be created over REST.
    pub agents: Vec<acd::AgentConfig>,
    /// `[[trunks]]`: where numbers that are no user, queue or feature code go.
    pub trunks: Vec<Trunk>,
    /// `[auth]`: sessions, login back-off, what each role may dial.
    pub auth: AuthConfig,
    /// `[[teams]]`: supervisors' scopes; more can be created over REST.
    pub teams: Vec<crate::accounts::Team>,
    /// `[[accounts]]`: created in the store at first start; then changed over REST.
    pub accounts: Vec<AccountSeed>,
    /// `[chat]`: the web chat's rules and the queues' wrap-up codes.
    pub chat: ChatConfig,
    /// `[im]`: agent-to-agent instant messages.
    pub im: ImConfig,
    /// `[email]`: the mailboxes feeding e-mail queues and the relay replies go through.
    pub email: EmailConfig,
    /// `[voicemail]`: mailboxes for users' unanswered calls.
    pub voicemail: VoicemailConfig,
    /// `[edge]`: rate limits and bans for untrusted sources, calls per user.
    pub edge: EdgeConfig,
    /// `[tls]`: the certificate of SIP over TLS and HTTPS/WSS, and outbound TLS trust.
    pub tls: TlsConfig,
}

/// A gateway (PSTN, another PBX): numbers matching one of `prefixes` (the longest match
/// wins; an empty list is the default route) are sent to `address` as `sip:NUMBER@address`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trunk {
    pub name: String,
    pub address: SocketAddr,
    pub transport: Transport,
    pub prefixes: Vec<String>,
    /// Most calls through it at once (0: no limit).
    pub max_calls: u32,
}

impl Config {
    /// The trunk for `number`: the longest matching prefix, else a trunk without prefixes.
    pub fn trunk_for(&self, number: &str) -> Option<&Trunk> {
        let mut best: Option<(&Trunk, usize)> = None;
        for t in &self.trunks {
            if t.prefixes.is_empty() {
                if best.is_none() {
                    best = Some((t, 0));
                }
                continue;
            }
            for p in &t.prefixes {
                if number.starts_with(p.as_str()) && best.is_none_or(|(_, l)| p.len() > l) {
                    best = Some((t, p.len()));
                }
            }
        }
        best.map(|(t, _)| t)
    }
}

/// `[acd]`: feature codes agents dial from their phones, and queue announcements.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcdConfig {
    pub ready_code: String,
    pub not_ready_code: String,
    pub logout_code: String,
    /// Prefixes a supervisor dials before an agent's extension to listen to, whisper to
    /// (coach) or barge in on the agent's live call.
    pub listen_code: String,
    pub whisper_code: String,
    pub barge_code: String,
    /// How often a waiting caller hears their position again (0: only on arrival).
    pub announce_every_secs: u64,
}

/// `[sip]`. Field names are the TOML keys; the `Duration` helpers convert the numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct SipConfig {
    /// Sockets to listen on; at least one, no duplicates.
    pub listen: Vec<ListenAddr>,
    /// Our SIP domain (host name or IP); also the digest realm.
    pub domain: String,
    /// Source networks allowed to send requests without digest authentication.
    pub trusted: Vec<Cidr>,
    /// RFC 3261 T1 (RTT estimate), > 0.
    pub t1_ms: u64,
    /// RFC 3261 T2 (max non-INVITE retransmit interval), >= T1.
    pub t2_ms: u64,
    /// RFC 3261 T4 (max time a message stays in the network), > 0.
    pub t4_ms: u64,
    /// Max-Forwards on requests the switch originates, 1..=255.
    pub max_forwards: u8,
    /// Shortest registration accepted (shorter ones get 423 with Min-Expires).
    pub register_min_expires: u32,
    /// Longest registration granted (longer ones are cut down).
    pub register_max_expires: u32,
    /// Registration time when the REGISTER asks for none; min <= default <= max.
    pub register_default_expires: u32,
    /// How long a digest nonce stays valid, > 0.
    pub nonce_ttl_secs: u64,
    /// Digest algorithms challenged with, in order of preference (RFC 8760).
    pub digest_algorithms: Vec<sip::auth::Algorithm>,
    /// RFC 4028 Session-Expires we offer; 0 disables session timers; else >= `min_se`.
    pub session_expires: u32,
    /// RFC 4028 Min-SE we accept, >= 90.
    pub min_se: u32,
    /// Ringing time before the switch gives up on a callee (408/480), > 0.
    pub invite_timeout_secs: u64,
    /// User-Agent / Server header value; empty sends none.
    pub user_agent: String,
    /// Limits on SIP over TCP connections.
    pub tcp: TcpLimits,
    /// Offer SDES-SRTP (RTP/SAVP with a fresh key) to legs all of whose contacts are
    /// signalled over TLS (`srtp_offer`, default true): callees of relayed calls and the
    /// switch's own offers (the dialer's agent leg and contact, queue agents, overflow,
    /// transfer targets, consultations, conference parties, supervisors). A plain answer
    /// to such an offer fails that leg with 488; `false` offers such legs plain RTP. SRTP
    /// offered *by* a TLS leg is answered either way, also in the switch's own answers.
    pub srtp_offer: bool,
}

/// `[sip] tcp_*`: what one peer, or all of them, may hold of the SIP TCP listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcpLimits {
    /// Open connections in all, inbound and outbound (`tcp_max_connections`); beyond it
    /// new inbound connections are closed at once.
    pub max_connections: usize,
    /// Inbound connections from one IP address (`tcp_max_connections_per_ip`).
    pub max_per_ip: usize,
    /// A connection with no byte read or written for this long is closed
    /// (`tcp_idle_timeout_secs`); clients keep a flow open with CRLF keep-alives (RFC 5626).
    pub idle_timeout: Duration,
    /// Time from a message's first byte to its last (`tcp_message_timeout_secs`): a
    /// message that takes longer closes its connection.
    pub message_timeout: Duration,
}

impl SipConfig {
    pub fn t1(&self) -> Duration {
        Duration::from_millis(self.t1_ms)
    }

    pub fn t2(&self) -> Duration {
        Duration::from_millis(self.t2_ms)
    }

    pub fn t4(&self) -> Duration {
        Duration::from_millis(self.t4_ms)
    }

    pub fn nonce_ttl(&self) -> Duration {
        Duration::from_secs(self.nonce_ttl_secs)
    }

    pub fn invite_timeout(&self) -> Duration {
        Duration::from_secs(self.invite_timeout_secs)
    }

    /// The session interval to offer, or `None` when session timers are off.
    pub fn session_timer(&self) -> Option<Duration> {
        (self.session_expires > 0).then(|| Duration::from_secs(u64::from(self.session_expires)))
    }

    /// Whether a request from `ip` may skip digest authentication.
    pub fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted.iter().any(|cidr| cidr.contains(ip))
    }
}

/// `[http]`: REST, WebSocket, web pages, `/metrics`.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpConfig {
    pub listen: SocketAddr,
    /// Open connections at most (`max_connections`); beyond it new ones are closed at once.
    pub max_connections: usize,
    /// Time to receive a request's headers once their first byte came
    /// (`header_timeout_secs`).
    pub header_timeout: Duration,
    /// Time to receive a request's body once its headers are in (`body_timeout_secs`).
    pub body_timeout: Duration,
    /// A connection with no byte read or written for this long is closed
    /// (`idle_timeout_secs`): an idle kept-alive one, one that never sent a request, a
    /// stalled upload. WebSocket event streams are pinged well within it.
    pub idle_timeout: Duration,
    /// Host names, besides IP literals and `localhost`, that requests may name in `Host`
    /// and pages in `Origin` (`allowed_hosts`); anything else is refused, so a page on
    /// another site cannot drive the API through DNS rebinding or cross-site requests.
    pub allowed_hosts: Vec<String>,
}

/// `[media]`: RTP anchoring.
#[derive(Debug, Clone, PartialEq)]
pub struct MediaConfig {
    /// Ports for RTP (even) and RTCP (odd) sockets.
    pub rtp_ports: PortRange,
    /// Local address RTP sockets bind to.
    pub bind_ip: IpAddr,
    /// Address written into SDP when it differs from `bind_ip` (NAT, 0.0.0.0 binds);
    /// `None` when the key is empty. Use [`MediaConfig::sdp_ip`].
    pub advertised_ip: Option<IpAddr>,
    /// Hang up a call after this long without RTP from either side; 0 disables.
    pub no_media_timeout_secs: u64,
}

impl MediaConfig {
    /// The address to put in SDP `c=` lines: `advertised_ip`, else `bind_ip` (validation
    /// guarantees this is never unspecified).
    pub fn sdp_ip(&self) -> IpAddr {
        self.advertised_ip.unwrap_or(self.bind_ip)
    }

    pub fn no_media_timeout(&self) -> Option<Duration> {
        (self.no_media_timeout_secs > 0).then(|| Duration::from_secs(self.no_media_timeout_secs))
    }
}

/// `[database]`.
#[derive(Debug, Clone, PartialEq)]
pub struct DatabaseConfig {
    /// As written: empty (use [`Config::database_url`]), `sqlite://...` or `postgres://...`.
    pub url: String,
}

impl Config {
    /// File name of the default SQLite database inside `data_dir`.
    pub const DEFAULT_DB_FILE: &'static str = "switch.db";

    /// Reads and validates a config file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::from_toml_str(&text)
    }

    /// Parses and validates a config from TOML text.
    pub fn from_toml_str(text: &str) -> Result<Config, ConfigError> {
        let table = text
            .parse::<toml::Table>()
            .map_err(|e| ConfigError::Syntax(e.to_string().trim_end().to_string()))?;
        let mut errors = Vec::new();
        let config = raw::parse_document(table, &mut errors)
            .and_then(|raw| validate::validate(raw, &mut errors));
        match config {
            Some(config) if errors.is_empty() => Ok(config),
            _ => Err(ConfigError::Invalid(errors)),
        }
    }

    /// What the accounts service starts from: `[auth]`, `[[teams]]`, `[[accounts]]`, the
    /// data directory, and the users' SIP passwords.
    pub fn account_seeds(&self) -> crate::accounts::Seeds<'_> {
        crate::accounts::Seeds {
            auth: &self.auth,
            teams: &self.teams,
            accounts: &self.accounts,
            data_dir: &self.data_dir,
            sip_password: Box::new(|id| self.user(id).and_then(|u| u.password.clone())),
        }
    }

    /// The built-in configuration used when `switch` runs without a config file: the
    /// defaults of every key plus demo users 1001..=1010 with passwords `pass1001` ..=
    /// `pass1010`, agents 1001..=1003 in queue 8000 (team `sales`), and accounts for them,
    /// for a campaign manager (1009) and a supervisor (1010) that log in with the same
    /// passwords. Fine on a laptop, never on a reachable network.
    pub fn demo() -> Config {
        let mut raw = raw::RawConfig::default();
        raw.users = (1001..=1010)
            .map(|n| raw::RawUser {
                id: n.to_string(),
                password: format!("pass{n}"),
                name: format!("Demo User {n}"),
                contact: String::new(),
                record_percent: 0,
            })
            .collect();
        let mut sales = acd::QueueConfig::new("8000");
        sales.name = "Sales".to_string();
        raw.queues = vec![sales];
        raw.voicemail.enabled = true;
        // The demo runs SIP over TLS and HTTPS/WSS too, on a generated certificate.
        raw.sip.listen.push("tls:127.0.0.1:5061".to_string());
        raw.tls.https_listen = "127.0.0.1:8443".to_string();
        raw.agents = (1001..=1003)
            .map(|n| {
                let mut a = acd::AgentConfig::new(n.to_string());
                a.name = format!("Demo User {n}");
                a.extension = n.to_string();
                a.queues = vec!["8000".into()];
                a.capacity.chat = 2;
                a
            })
            .collect();
        raw.chat.wrap_up_codes.insert(
            "8000".into(),
            [
                "Sale",
                "No sale",
                "Information given",
                "Callback requested",
                "Complaint",
            ]
            .map(String::from)
            .to_vec(),
        );
        raw.teams = vec![auth::RawTeam {
            name: "sales".into(),
            queues: vec!["8000".into()],
        }];
        let account = |id: &str, name: &str, role: &str, agent: bool| auth::RawAccount {
            id: id.into(),
            name: name.into(),
            roles: vec![role.into()],
            teams: if role == "campaign_manager" {
                vec![]
            } else {
                vec!["sales".into()]
            },
            agent: if agent { id.into() } else { String::new() },
            extension: id.into(),
            ..Default::default()
        };
        raw.accounts = (1001..=1003)
            .map(|n| account(&n.to_string(), &format!("Demo User {n}"), "agent", true))
            .collect();
        raw.accounts.push(account(
            "1009",
            "Demo Campaign Manager",
            "campaign_manager",
            false,
        ));
        raw.accounts
            .push(account("1010", "Demo Supervisor", "supervisor", false));
        let mut errors = Vec::new();
        match validate::validate(raw, &mut errors) {
            Some(config) if errors.is_empty() => config,
            // Built from constants, not input; the `demo_is_valid` test keeps it so.
            _ => panic!("built-in demo config is invalid: {errors:?}"),
        }
    }

    /// The config written back as TOML (no comments); loading it gives an equal `Config`.
    /// Passwords are included.
    pub fn to_toml_string(&self) -> Result<String, ConfigError> {
        toml::to_string(&validate::to_raw(self)).map_err(|e| ConfigError::Print(e.to_string()))
    }

    /// The database URL to open: `database.url`, or when empty the SQLite file
    /// `data_dir/switch.db` as a `sqlite://` URL.
    pub fn database_url(&self) -> String {
        if !self.database.url.is_empty() {
            return self.database.url.clone();
        }
        let path = self.data_dir.join(Self::DEFAULT_DB_FILE);
        // sqlx percent-decodes the path part, so protect the characters it would eat.
        let mut url = String::from("sqlite://");
        for c in path.to_string_lossy().chars() {
            match c {
                '%' => url.push_str("%25"),
                '?' => url.push_str("%3F"),
                '#' => url.push_str("%23"),
                c => url.push(c),
            }
        }
        url
    }

    /// The user with this id.
    pub fn user(&self, id: &str) -> Option<&User> {
        self.users.iter().find(|u| u.id == id)
    }
}

/// A problem with one key: `key` is its full path, such as `sip.listen[1]` or
/// `users[3].id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyError {
    pub key: String,
    pub message: String,
}

impl KeyError {
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> KeyError {
        KeyError {
            key: key.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

/// Why a config could not be loaded.
#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read config file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Not valid TOML; the message has the line and column.
    #[error("{0}")]
    Syntax(String),
    /// Valid TOML with bad values; one entry per problem, never empty.
    #[error("{}", KeyErrors(.0))]
    Invalid(Vec<KeyError>),
    /// The config could not be printed as TOML.
    #[error("cannot print config as TOML: {0}")]
    Print(String),
}

impl ConfigError {
    /// The keys named by an [`ConfigError::Invalid`] error (empty for other errors).
    pub fn keys(&self) -> Vec<&str> {
        match self {
            ConfigError::Invalid(errors) => errors.iter().map(|e| e.key.as_str()).collect(),
            _ => Vec::new(),
        }
    }
}

/// One problem prints as `key: message`; several as a count and one per line.
struct KeyErrors<'a>(&'a [KeyError]);

impl fmt::Display for KeyErrors<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            [] => f.write_str("invalid config"),
            [one] => write!(f, "{one}"),
            many => {
                write!(f, "{} problems in config:", many.len())?;
                for e in many {
                    write!(f, "\n  {e}")?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../config.example.toml");

    #[test]
    fn demo_is_valid() {
        let demo = Config::demo();
        assert_eq!(demo.data_dir, PathBuf::from("./data"));
        assert_eq!(
            demo.sip.listen,
            [
                ListenAddr {
                    transport: Transport::Udp,
                    addr: "127.0.0.1:5060".parse().unwrap()
                },
                ListenAddr {
                    transport: Transport::Tcp,
                    addr: "127.0.0.1:5060".parse().unwrap()
                },
                ListenAddr {
                    transport: Transport::Tls,
                    addr: "127.0.0.1:5061".parse().unwrap()
                },
            ]
        );
        assert_eq!(
            demo.tls.https_listen,
            Some("127.0.0.1:8443".parse().unwrap())
        );
        assert_eq!(demo.tls.files, None, "the demo makes its own certificate");
        assert_eq!(demo.sip.domain, "127.0.0.1");
        assert!(demo.sip.trusted.is_empty());
        assert_eq!(demo.sip.t1(), Duration::from_millis(500));
        assert_eq!(demo.sip.t2(), Duration::from_secs(4));
        assert_eq!(demo.sip.t4(), Duration::from_secs(5));
        assert_eq!(demo.sip.max_forwards, 70);
        assert_eq!(
            (
                demo.sip.register_min_expires,
                demo.sip.register_default_expires,
                demo.sip.register_max_expires
            ),
            (60, 3600, 3600)
        );
        assert_eq!(demo.sip.nonce_ttl(), Duration::from_secs(300));
        assert_eq!(demo.sip.session_timer(), Some(Duration::from_secs(1800)));
        assert_eq!(demo.sip.min_se, 90);
        assert_eq!(demo.sip.invite_timeout(), Duration::from_secs(60));
        assert_eq!(demo.sip.user_agent, "ccswitch");
        assert_eq!(demo.http.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(
            demo.media.rtp_ports,
            PortRange {
                first: 20000,
                last: 29999
            }
        );
        assert_eq!(demo.media.bind_ip, "127.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(demo.media.sdp_ip(), "127.0.0.1".parse::<IpAddr>().unwrap());
        assert_eq!(demo.media.no_media_timeout(), Some(Duration::from_secs(60)));
        assert_eq!(demo.database_url(), "sqlite://./data/switch.db");

        assert_eq!(demo.users.len(), 10);
        for (i, user) in demo.users.iter().enumerate() {
            let n = 1001 + i;
            assert_eq!(user.id, n.to_string());
            assert_eq!(user.password, Some(format!("pass{n}")));
            assert_eq!(user.name, format!("Demo User {n}"));
            assert_eq!(user.contact, None);
        }
        assert_eq!(
            demo.user("1010").map(|u| u.name.as_str()),
            Some("Demo User 1010")
        );
        assert!(demo.user("1011").is_none());
    }

    #[test]
    fn example_file_is_the_demo() {
        let example = match Config::from_toml_str(EXAMPLE) {
            Ok(c) => c,
            Err(e) => panic!("config.example.toml: {e}"),
        };
        assert_eq!(example, Config::demo());
    }

    #[test]
    fn empty_file_is_demo_without_users() {
        let empty = Config::from_toml_str("").unwrap();
        let mut demo = Config::demo();
        demo.users.clear();
        demo.queues.clear();
        demo.agents.clear();
        demo.teams.clear();
        demo.accounts.clear();
        demo.chat.wrap_up_codes.clear();
        demo.voicemail.enabled = false;
        // TLS listens only where a file asks for it.
        demo.sip.listen.retain(|l| l.transport != Transport::Tls);
        demo.tls.https_listen = None;
        assert_eq!(empty, demo);
    }

    #[test]
    fn trunks_route_by_longest_prefix() {
        let c = Config::from_toml_str(
            "[[trunks]]\nname = \"any\"\naddress = \"127.0.0.1:5090\"\n\
             [[trunks]]\nname = \"us\"\naddress = \"127.0.0.1:5091\"\ntransport = \"tcp\"\nprefixes = [\"+1\", \"+\"]\n",
        )
        .unwrap();
        assert_eq!(
            c.trunk_for("+15551234567").map(|t| t.name.as_str()),
            Some("us")
        );
        assert_eq!(
            c.trunk_for("+445551234").map(|t| t.name.as_str()),
            Some("us")
        );
        assert_eq!(c.trunk_for("0123").map(|t| t.name.as_str()), Some("any"));
        let err =
            Config::from_toml_str("[[trunks]]\nname = \"x\"\naddress = \"nowhere\"").unwrap_err();
        assert!(err.to_string().contains("trunks[0].address"), "{err}");
    }

    #[test]
    fn to_toml_round_trips() {
        let mut config = Config::demo();
        config.sip.trusted = vec!["10.0.0.0/8".parse().unwrap(), "::1".parse().unwrap()];
        config.sip.listen.push("udp:[::1]:5062".parse().unwrap());
        config.media.advertised_ip = Some("192.0.2.7".parse().unwrap());
        config.database.url = "postgres://switch@db/switch".to_string();
        config.users.push(User {
            id: "gw1".into(),
            password: None,
            name: String::new(),
            contact: Some(StaticContact::parse("sip:gw1@192.0.2.1:5080;transport=tcp").unwrap()),
            record_percent: 40,
        });
        let text = config.to_toml_string().unwrap();
        let back = match Config::from_toml_str(&text) {
            Ok(c) => c,
            Err(e) => panic!("{e}\n{text}"),
        };
        assert_eq!(back, config);
    }

    #[test]
    fn database_url_resolution() {
        let mut config = Config::demo();
        config.data_dir = PathBuf::from("/var/lib/ccswitch");
        assert_eq!(
            config.database_url(),
            "sqlite:///var/lib/ccswitch/switch.db"
        );
        config.data_dir = PathBuf::from("/tmp/a?b#c%d");
        assert_eq!(
            config.database_url(),
            "sqlite:///tmp/a%3Fb%23c%25d/switch.db"
        );
        config.database.url = "postgres://u@h/db".to_string();
        assert_eq!(config.database_url(), "postgres://u@h/db");
    }

    #[test]
    fn trusted_networks() {
        let config = Config::from_toml_str(
            "[sip]\ntrusted = [\"127.0.0.1/32\", \"10.0.0.0/8\", \"::1/128\"]",
        )
        .unwrap();
        assert!(config.sip.is_trusted("10.9.8.7".parse().unwrap()));
        assert!(config.sip.is_trusted("::ffff:10.9.8.7".parse().unwrap()));
        assert!(config.sip.is_trusted("::1".parse().unwrap()));
        assert!(!config.sip.is_trusted("192.168.1.1".parse().unwrap()));
        assert!(!Config::demo().sip.is_trusted("127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn load_reports_missing_file() {
        let path = Path::new("/nonexistent/ccswitch.toml");
        let err = Config::load(path).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot read config file /nonexistent/ccswitch.toml: "),
            "{err}"
        );
    }

    #[test]
    fn load_reads_a_file() {
        let path =
            std::env::temp_dir().join(format!("ccswitch-config-{}.toml", std::process::id()));
        std::fs::write(&path, "[http]\nlisten = \"127.0.0.1:9090\"\n").unwrap();
        let loaded = Config::load(&path);
        let _ = std::fs::remove_file(&path);
        assert_eq!(
            loaded.unwrap().http.listen,
            "127.0.0.1:9090".parse().unwrap()
        );
    }

    #[test]
    fn syntax_errors_have_a_position() {
        let err = Config::from_toml_str("[sip\nlisten = 1").unwrap_err();
        assert!(matches!(err, ConfigError::Syntax(_)));
        assert!(err.to_string().contains("line 1"), "{err}");
    }

    #[test]
    fn one_error_prints_as_key_and_message() {
        let err = Config::from_toml_str("[media]\nrtp_ports = \"20001-29999\"").unwrap_err();
        assert_eq!(
            err.to_string(),
            "media.rtp_ports: first port must be even and below last"
        );
        assert_eq!(err.keys(), ["media.rtp_ports"]);
    }

    #[test]
    fn several_errors_print_one_per_line() {
        let err = Config::from_toml_str(
            "[sip]\nlisten = [\"udp:127.0.0.1:5060\", \"udp:1.2.3\"]\n[http]\nlisten = \"x\"",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "2 problems in config:\n  sip.listen[1]: \"udp:1.2.3\" is not an address\n  \
             http.listen: \"x\" is not an address like \"127.0.0.1:8080\""
        );
    }
}
