//! The config file as serde sees it: plain strings and numbers, every key defaulted.
//!
//! `validate` turns these into the typed [`Config`](super::Config). The split exists so
//! every error can name its key: serde knows a field name but not where its table sits, and
//! a type error from a whole-table parse does not say which field it was. So each table is
//! first parsed one key at a time (all fields have defaults, so a one-key table is a
//! complete document), which pins any unknown key or wrong type to `section.key`; only then
//! is the whole table parsed.
//!
//! The `Default` impls here are the single source of the built-in defaults.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::KeyError;

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawSip {
    pub listen: Vec<String>,
    pub domain: String,
    pub trusted: Vec<String>,
    pub t1_ms: u64,
    pub t2_ms: u64,
    pub t4_ms: u64,
    pub max_forwards: u64,
    pub register_min_expires: u64,
    pub register_max_expires: u64,
    pub register_default_expires: u64,
    pub nonce_ttl_secs: u64,
    pub digest_algorithms: Vec<String>,
    pub session_expires: u64,
    pub min_se: u64,
    pub invite_timeout_secs: u64,
    pub user_agent: String,
    pub tcp_max_connections: u64,
    pub tcp_max_connections_per_ip: u64,
    pub tcp_idle_timeout_secs: u64,
    pub tcp_message_timeout_secs: u64,
    pub srtp_offer: bool,
}

impl Default for RawSip {
    fn default() -> Self {
        RawSip {
            listen: vec![
                "udp:127.0.0.1:5060".to_string(),
                "tcp:127.0.0.1:5060".to_string(),
            ],
            domain: "127.0.0.1".to_string(),
            trusted: Vec::new(),
            t1_ms: 500,
            t2_ms: 4000,
            t4_ms: 5000,
            max_forwards: 70,
            register_min_expires: 60,
            register_max_expires: 3600,
            register_default_expires: 3600,
            nonce_ttl_secs: 300,
            digest_algorithms: vec!["MD5".to_string()],
            session_expires: 1800,
            min_se: 90,
            invite_timeout_secs: 60,
            user_agent: "ccswitch".to_string(),
            tcp_max_connections: 2048,
            tcp_max_connections_per_ip: 128,
            tcp_idle_timeout_secs: 300,
            tcp_message_timeout_secs: 10,
            srtp_offer: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawHttp {
    pub listen: String,
    pub max_connections: u64,
    pub header_timeout_secs: u64,
    pub body_timeout_secs: u64,
    pub idle_timeout_secs: u64,
    pub allowed_hosts: Vec<String>,
}

impl Default for RawHttp {
    fn default() -> Self {
        RawHttp {
            listen: "127.0.0.1:8080".to_string(),
            max_connections: 512,
            header_timeout_secs: 10,
            body_timeout_secs: 60,
            idle_timeout_secs: 60,
            allowed_hosts: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawMedia {
    pub rtp_ports: String,
    pub bind_ip: String,
    pub advertised_ip: String,
    pub no_media_timeout_secs: u64,
}

impl Default for RawMedia {
    fn default() -> Self {
        RawMedia {
            rtp_ports: "20000-29999".to_string(),
            bind_ip: "127.0.0.1".to_string(),
            advertised_ip: String::new(),
            no_media_timeout_secs: 60,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawDatabase {
    pub url: String,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawUser {
    pub id: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub password: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub contact: String,
    /// The share of the user's calls recorded, in percent.
    #[serde(skip_serializing_if = "is_zero_u8")]
    pub record_percent: u8,
}

fn is_zero_u8(v: &u8) -> bool {
    *v == 0
}

/// `[[trunks]]`: gateways that numbers no user or queue owns are sent to.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawTrunk {
    pub name: String,
    pub address: String,
    pub transport: String,
    pub prefixes: Vec<String>,
    /// Most calls through the trunk at once (0: no limit).
    #[serde(skip_serializing_if = "is_zero_u32")]
    pub max_calls: u32,
}

fn is_zero_u32(v: &u32) -> bool {
    *v == 0
}

/// `[acd]`: how agents reach the distributor from their phones, and queue announcements.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawAcd {
    pub ready_code: String,
    pub not_ready_code: String,
    pub logout_code: String,
    pub listen_code: String,
    pub whisper_code: String,
    pub barge_code: String,
    pub announce_every_secs: u64,
}

impl Default for RawAcd {
    fn default() -> Self {
        RawAcd {
            ready_code: "*21".to_string(),
            not_ready_code: "*22".to_string(),
            logout_code: "*23".to_string(),
            listen_code: "*55".to_string(),
            whisper_code: "*56".to_string(),
            barge_code: "*57".to_string(),
            announce_every_secs: 30,
        }
    }
}

/// The whole file. Parsing goes section by section (see the module docs); this type is
/// used whole only to print a config back as TOML.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(super) struct RawConfig {
    pub data_dir: String,
    pub sip: RawSip,
    pub http: RawHttp,
    pub media: RawMedia,
    pub database: RawDatabase,
    pub users: Vec<RawUser>,
    pub acd: RawAcd,
    pub queues: Vec<acd::QueueConfig>,
    pub agents: Vec<acd::AgentConfig>,
    pub trunks: Vec<RawTrunk>,
    pub auth: super::auth::RawAuth,
    pub teams: Vec<super::auth::RawTeam>,
    pub accounts: Vec<super::auth::RawAccount>,
    pub chat: super::chat::RawChat,
    pub im: super::im::RawIm,
    pub email: super::email::RawEmail,
    pub voicemail: super::voicemail::VoicemailConfig,
    pub edge: super::edge::EdgeConfig,
    pub tls: super::tls::RawTls,
}

impl Default for RawConfig {
    fn default() -> Self {
        RawConfig {
            data_dir: "./data".to_string(),
            sip: RawSip::default(),
            http: RawHttp::default(),
            media: RawMedia::default(),
            database: RawDatabase::default(),
            users: Vec::new(),
            acd: RawAcd::default(),
            queues: Vec::new(),
            agents: Vec::new(),
            trunks: Vec::new(),
            auth: Default::default(),
            teams: Vec::new(),
            accounts: Vec::new(),
            chat: Default::default(),
            im: Default::default(),
            email: Default::default(),
            voicemail: Default::default(),
            edge: Default::default(),
            tls: Default::default(),
        }
    }
}

/// Top-level keys, in the order they are checked and listed in errors.
const TOP_LEVEL_KEYS: [&str; 19] = [
    "data_dir",
    "sip",
    "http",
    "media",
    "database",
    "users",
    "acd",
    "queues",
    "agents",
    "trunks",
    "auth",
    "teams",
    "accounts",
    "voicemail",
    "chat",
    "edge",
    "im",
    "email",
    "tls",
];

/// Parses a whole document into the raw form, collecting every error with its key.
/// Returns `None` when there were errors (they are in `errors`).
pub(super) fn parse_document(table: toml::Table, errors: &mut Vec<KeyError>) -> Option<RawConfig> {
    let mut raw = RawConfig::default();
    let before = errors.len();
    for (key, value) in table {
        match key.as_str() {
            "data_dir" => {
                if let Some(v) = read_value::<String>("data_dir", value, errors) {
                    raw.data_dir = v;
                }
            }
            "sip" => {
                if let Some(v) = read_table("sip", value, errors) {
                    raw.sip = v;
                }
            }
            "http" => {
                if let Some(v) = read_table("http", value, errors) {
                    raw.http = v;
                }
            }
            "media" => {
                if let Some(v) = read_table("media", value, errors) {
                    raw.media = v;
                }
            }
            "database" => {
                if let Some(v) = read_table("database", value, errors) {
                    raw.database = v;
                }
            }
            "users" => {
                if let Some(v) = read_users(value, errors) {
                    raw.users = v;
                }
            }
            "acd" => {
                if let Some(v) = read_table("acd", value, errors) {
                    raw.acd = v;
                }
            }
            "queues" => {
                if let Some(v) = read_whole_tables("queues", value, errors) {
                    raw.queues = v;
                }
            }
            "trunks" => {
                if let Some(v) = read_whole_tables("trunks", value, errors) {
                    raw.trunks = v;
                }
            }
            "agents" => {
                if let Some(v) = read_whole_tables("agents", value, errors) {
                    raw.agents = v;
                }
            }
            "auth" => {
                if let Some(v) = read_table("auth", value, errors) {
                    raw.auth = v;
                }
            }
            "voicemail" => {
                if let Some(v) = read_table("voicemail", value, errors) {
                    raw.voicemail = v;
                }
            }
            "edge" => {
                if let Some(v) = read_table("edge", value, errors) {
                    raw.edge = v;
                }
            }
            "tls" => {
                if let Some(v) = read_table("tls", value, errors) {
                    raw.tls = v;
                }
            }
            "teams" => {
                if let Some(v) = read_whole_tables("teams", value, errors) {
                    raw.teams = v;
                }
            }
            "accounts" => {
                if let Some(v) = read_whole_tables("accounts", value, errors) {
                    raw.accounts = v;
                }
            }
            "chat" => {
                if let Some(v) = read_table("chat", value, errors) {
                    raw.chat = v;
                }
            }
            "im" => {
                if let Some(v) = read_table("im", value, errors) {
                    raw.im = v;
                }
            }
            "email" => {
                if let Some(v) = read_table("email", value, errors) {
                    raw.email = v;
                }
            }
            _ => errors.push(KeyError::new(
                key,
                format!("unknown key, expected one of {}", TOP_LEVEL_KEYS.join(", ")),
            )),
        }
    }
    (errors.len() == before).then_some(raw)
}

fn read_users(value: toml::Value, errors: &mut Vec<KeyError>) -> Option<Vec<RawUser>> {
    let toml::Value::Array(items) = value else {
        errors.push(KeyError::new(
            "users",
            format!(
                "must be an array of tables ([[users]]), found {}",
                value.type_str()
            ),
        ));
        return None;
    };
    let before = errors.len();
    let users: Vec<RawUser> = items
        .into_iter()
        .enumerate()
        .filter_map(|(i, item)| read_table(&format!("users[{i}]"), item, errors))
        .collect();
    (errors.len() == before).then_some(users)
}

/// An array of tables whose entries have required keys (`[[queues]]`, `[[agents]]`): each
/// entry is read whole, and an error names the entry (`queues[2]: missing field dn`).
fn read_whole_tables<T: DeserializeOwned>(
    path: &str,
    value: toml::Value,
    errors: &mut Vec<KeyError>,
) -> Option<Vec<T>> {
    let toml::Value::Array(items) = value else {
        errors.push(KeyError::new(
            path,
            format!(
                "must be an array of tables ([[{path}]]), found {}",
                value.type_str()
            ),
        ));
        return None;
    };
    let before = errors.len();
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        match item.try_into::<T>() {
            Ok(v) => out.push(v),
            Err(e) => errors.push(KeyError::new(
                format!("{path}[{i}]"),
                serde_message(e.message()),
            )),
        }
    }
    (errors.len() == before).then_some(out)
}

/// Deserialises one table, naming the exact key (`path.key`) of any error.
fn read_table<T: DeserializeOwned>(
    path: &str,
    value: toml::Value,
    errors: &mut Vec<KeyError>,
) -> Option<T> {
    let toml::Value::Table(table) = value else {
        errors.push(KeyError::new(
            path,
            format!("must be a table, found {}", value.type_str()),
        ));
        return None;
    };
    let before = errors.len();
    for (key, value) in &table {
        let mut one = toml::Table::new();
        one.insert(key.clone(), value.clone());
        if let Err(e) = toml::Value::Table(one).try_into::<T>() {
            errors.push(KeyError::new(
                format!("{path}.{key}"),
                serde_message(e.message()),
            ));
        }
    }
    if errors.len() != before {
        return None;
    }
    match toml::Value::Table(table).try_into::<T>() {
        Ok(v) => Some(v),
        Err(e) => {
            // Not reached when every key parsed alone; kept so nothing is ever swallowed.
            errors.push(KeyError::new(path, serde_message(e.message())));
            None
        }
    }
}

/// Deserialises a single top-level value.
fn read_value<T: DeserializeOwned>(
    key: &str,
    value: toml::Value,
    errors: &mut Vec<KeyError>,
) -> Option<T> {
    match value.try_into::<T>() {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push(KeyError::new(key, serde_message(e.message())));
            None
        }
    }
}

/// serde says "unknown field `x`, expected one of ..."; the key is already in our prefix,
/// and TOML calls them keys. Rust type names mean nothing to whoever edits the file.
fn serde_message(message: &str) -> String {
    let message = message
        .trim()
        .replace("expected u64", "expected a non-negative integer");
    let message = message.as_str();
    match message.strip_prefix("unknown field `") {
        Some(rest) => match rest.split_once("`, ") {
            Some((_, expected)) => format!("unknown key, {expected}"),
            None => "unknown key".to_string(),
        },
        None => message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors_of(doc: &str) -> Vec<String> {
        let table: toml::Table = doc.parse().unwrap();
        let mut errors = Vec::new();
        assert!(
            parse_document(table, &mut errors).is_none(),
            "{doc} should fail"
        );
        errors.iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn empty_document_is_all_defaults() {
        let mut errors = Vec::new();
        let raw = parse_document(toml::Table::new(), &mut errors).unwrap();
        assert!(errors.is_empty());
        assert_eq!(raw, RawConfig::default());
    }

    #[test]
    fn unknown_keys_are_named() {
        assert_eq!(
            errors_of("colour = 1"),
            ["colour: unknown key, expected one of data_dir, sip, http, media, database, users, acd, queues, agents, trunks, auth, teams, accounts, voicemail, chat, edge, im, email, tls"]
        );
        let errs = errors_of("[sip]\nlisen = []");
        assert_eq!(errs.len(), 1);
        assert!(
            errs[0].starts_with("sip.lisen: unknown key, expected one of `listen`, `domain`"),
            "{errs:?}"
        );
        assert!(errors_of("[http]\nport = 1")[0].starts_with("http.port: unknown key"));
        assert!(errors_of("[media]\nrtp = 1")[0].starts_with("media.rtp: unknown key"));
        assert!(errors_of("[database]\nuri = 1")[0].starts_with("database.uri: unknown key"));
        let errs = errors_of("[[users]]\nid = \"1\"\n[[users]]\nid = \"2\"\npasswd = \"x\"");
        assert!(
            errs[0].starts_with("users[1].passwd: unknown key"),
            "{errs:?}"
        );
    }

    #[test]
    fn wrong_types_are_named() {
        assert_eq!(
            errors_of("[sip]\nt1_ms = \"fast\""),
            ["sip.t1_ms: invalid type: string \"fast\", expected a non-negative integer"]
        );
        assert_eq!(
            errors_of("[sip]\nt1_ms = -1"),
            ["sip.t1_ms: invalid value: integer `-1`, expected a non-negative integer"]
        );
        assert_eq!(
            errors_of("[sip]\nlisten = \"udp:127.0.0.1:5060\""),
            ["sip.listen: invalid type: string \"udp:127.0.0.1:5060\", expected a sequence"]
        );
        assert_eq!(
            errors_of("data_dir = 5"),
            ["data_dir: invalid type: integer `5`, expected a string"]
        );
        assert_eq!(
            errors_of("sip = 5"),
            ["sip: must be a table, found integer"]
        );
        assert_eq!(
            errors_of("[users]\nid = \"1\""),
            ["users: must be an array of tables ([[users]]), found table"]
        );
        assert_eq!(
            errors_of("[[users]]\nid = 1001"),
            ["users[0].id: invalid type: integer `1001`, expected a string"]
        );
    }

    #[test]
    fn several_errors_are_all_reported() {
        let errs = errors_of("[sip]\nt1_ms = \"a\"\nt2_ms = \"b\"\n[media]\nbind = 1");
        assert_eq!(errs.len(), 3, "{errs:?}");
    }
}
