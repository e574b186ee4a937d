//! `[tls]`: the certificate of SIP over TLS (`tls:` entries of `sip.listen`) and of HTTPS /
//! secure WebSocket (`https_listen`), and what outbound TLS connections trust.
//!
//! With `cert` and `key` empty the switch makes a self-signed pair for `127.0.0.1`,
//! `localhost` and `sip.domain` into `DATA_DIR/tls/` at first start and keeps using it, so
//! the demo runs TLS with nothing to set up. The files are read again on SIGHUP.

use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::path::PathBuf;

use super::validate::Problems;

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawTls {
    pub cert: String,
    pub key: String,
    pub ca: String,
    pub https_listen: String,
}

/// The typed `[tls]`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlsConfig {
    /// PEM certificate chain and private key (`cert`, `key`); `None`: the generated pair.
    pub files: Option<(PathBuf, PathBuf)>,
    /// PEM certificates that outbound TLS (trunks, static contacts) trusts (`ca`); `None`:
    /// the system's roots.
    pub ca: Option<PathBuf>,
    /// Where HTTPS and WSS (`/sip`) listen (`https_listen`); `None`: nowhere.
    pub https_listen: Option<SocketAddr>,
}

pub(super) fn tls(raw: &RawTls, p: &mut Problems) -> Option<TlsConfig> {
    let before = p.0.len();
    let cert = raw.cert.trim();
    let key = raw.key.trim();
    let files = match (cert.is_empty(), key.is_empty()) {
        (true, true) => None,
        (false, false) => Some((PathBuf::from(cert), PathBuf::from(key))),
        (true, false) => {
            p.add("tls.cert", "must be set when tls.key is");
            None
        }
        (false, true) => {
            p.add("tls.key", "must be set when tls.cert is");
            None
        }
    };
    let ca = (!raw.ca.trim().is_empty()).then(|| PathBuf::from(raw.ca.trim()));
    let https_listen = match raw.https_listen.trim() {
        "" => None,
        s => match s.parse::<SocketAddr>() {
            Ok(a) => Some(a),
            Err(_) => {
                p.add(
                    "tls.https_listen",
                    format!("{s:?} is not an address like \"127.0.0.1:8443\""),
                );
                None
            }
        },
    };
    (p.0.len() == before).then_some(TlsConfig {
        files,
        ca,
        https_listen,
    })
}

pub(super) fn raw_tls(t: &TlsConfig) -> RawTls {
    let path = |p: &PathBuf| p.to_string_lossy().into_owned();
    RawTls {
        cert: t.files.as_ref().map(|(c, _)| path(c)).unwrap_or_default(),
        key: t.files.as_ref().map(|(_, k)| path(k)).unwrap_or_default(),
        ca: t.ca.as_ref().map(path).unwrap_or_default(),
        https_listen: t.https_listen.map(|a| a.to_string()).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use crate::config::Config;

    fn error(text: &str) -> String {
        match Config::from_toml_str(text) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn reads_files_and_the_https_address() {
        let c = Config::from_toml_str(
            "[sip]\nlisten = [\"tls:127.0.0.1:5061\"]\n[tls]\ncert = \"/c.pem\"\nkey = \"/k.pem\"\nhttps_listen = \"127.0.0.1:8443\"",
        )
        .unwrap();
        assert_eq!(
            c.tls.files,
            Some(("/c.pem".into(), "/k.pem".into())),
            "both files"
        );
        assert_eq!(c.tls.https_listen, Some("127.0.0.1:8443".parse().unwrap()));
        assert_eq!(c.tls.ca, None);
        assert_eq!(Config::from_toml_str("").unwrap().tls.https_listen, None);
    }

    #[test]
    fn refuses_half_a_pair_and_bad_addresses() {
        assert!(error("[tls]\ncert = \"/c.pem\"").contains("tls.key: must be set when tls.cert is"));
        assert!(error("[tls]\nkey = \"/k.pem\"").contains("tls.cert: must be set when tls.key is"));
        assert!(error("[tls]\nhttps_listen = \"8443\"").contains("tls.https_listen"));
        assert!(error("[tls]\npassword = \"x\"").contains("tls.password: unknown key"));
    }
}
