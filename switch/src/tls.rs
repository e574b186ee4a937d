//! TLS for SIP (RFC 3261 §26) and HTTPS/WSS: the switch's certificate, read from the files
//! of `[tls]` (or generated once into the data directory), swapped on SIGHUP, and the
//! rustls configurations of both sides.
//!
//! One [`Certificates`] serves every TLS listener. It hands rustls the current pair on each
//! handshake, so a reload reaches new connections at once while open ones, and the calls
//! over them, carry on with the pair they were made with.

use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use std::path::{Path, PathBuf};
use std::sync::{Arc, PoisonError, RwLock};
use thiserror::Error;

/// Where the generated pair goes, under the data directory.
pub const GENERATED_DIR: &str = "tls";
const GENERATED_CERT: &str = "cert.pem";
const GENERATED_KEY: &str = "key.pem";

#[derive(Debug, Error)]
pub enum TlsError {
    #[error("reading {path}: {source}")]
    Read {
        path: PathBuf,
        source: rustls::pki_types::pem::Error,
    },
    #[error("{0}: no certificate in the file")]
    NoCertificate(PathBuf),
    #[error("{path}: the key is not usable: {source}")]
    Key {
        path: PathBuf,
        source: rustls::Error,
    },
    #[error("{cert} and {key} do not match: {source}")]
    Mismatch {
        cert: PathBuf,
        key: PathBuf,
        source: rustls::Error,
    },
    #[error("generating the self-signed certificate: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("writing {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("TLS settings: {0}")]
    Config(#[from] rustls::Error),
}

/// The switch's certificate and key, reloadable.
#[derive(Debug)]
pub struct Certificates {
    cert: PathBuf,
    key: PathBuf,
    current: RwLock<Arc<CertifiedKey>>,
}

impl Certificates {
    /// Loads `files` (certificate chain, key); with `None`, the pair in
    /// `DATA_DIR/tls/`, made first when it does not exist yet, for `names` (host names and
    /// IP addresses the certificate is for).
    pub fn open(
        files: Option<&(PathBuf, PathBuf)>,
        data_dir: &Path,
        names: &[String],
    ) -> Result<Arc<Certificates>, TlsError> {
        let (cert, key) = match files {
            Some((c, k)) => (c.clone(), k.clone()),
            None => generated(data_dir, names)?,
        };
        let current = load(&cert, &key)?;
        Ok(Arc::new(Certificates {
            cert,
            key,
            current: RwLock::new(Arc::new(current)),
        }))
    }

    /// The certificate file in use: with the generated pair, what phones take as their CA.
    pub fn cert_path(&self) -> &Path {
        &self.cert
    }

    /// Reads the files again. On success new handshakes use the new pair; on failure the
    /// old one stays and the error says why.
    pub fn reload(&self) -> Result<(), TlsError> {
        let fresh = load(&self.cert, &self.key)?;
        *self.current.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(fresh);
        Ok(())
    }

    /// A server configuration that answers every handshake with the current pair;
    /// `alpn` lists the protocols offered (empty for SIP).
    pub fn server_config(self: &Arc<Self>, alpn: &[&[u8]]) -> Result<Arc<ServerConfig>, TlsError> {
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(Arc::new(config))
    }
}

impl ResolvesServerCert for Certificates {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        )
    }
}

/// The configuration of outbound TLS (trunks, static contacts): the certificates of `ca`
/// when given, else the system's roots.
pub fn client_config(ca: Option<&Path>) -> Result<Arc<ClientConfig>, TlsError> {
    let mut roots = RootCertStore::empty();
    match ca {
        Some(path) => {
            for cert in read_certs(path)? {
                roots.add(cert)?;
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            for e in &found.errors {
                tracing::debug!(%e, "a system root certificate could not be read");
            }
            let (added, ignored) = roots.add_parsable_certificates(found.certs);
            tracing::debug!(added, ignored, "system root certificates");
        }
    }
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// ring, the provider that builds with no C toolchain beyond `cc`. rustls marks it
/// deprecated for lacking post-quantum key exchange; aws-lc-rs would bring that at the cost
/// of a CMake build.
#[allow(deprecated)]
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let read_err = |source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(read_err)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(read_err)?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate(path.to_path_buf()));
    }
    Ok(certs)
}

/// Reads a chain and its key and checks that they belong together.
fn load(cert: &Path, key: &Path) -> Result<CertifiedKey, TlsError> {
    let chain = read_certs(cert)?;
    let der = PrivateKeyDer::from_pem_file(key).map_err(|source| TlsError::Read {
        path: key.to_path_buf(),
        source,
    })?;
    let signing = provider()
        .key_provider
        .load_private_key(der)
        .map_err(|source| TlsError::Key {
            path: key.to_path_buf(),
            source,
        })?;
    let pair = CertifiedKey::new(chain, signing);
    pair.keys_match().map_err(|source| TlsError::Mismatch {
        cert: cert.to_path_buf(),
        key: key.to_path_buf(),
        source,
    })?;
    Ok(pair)
}

/// The generated pair's paths, after making it if it is not there yet.
fn generated(data_dir: &Path, names: &[String]) -> Result<(PathBuf, PathBuf), TlsError> {
    let dir = data_dir.join(GENERATED_DIR);
    let (cert, key) = (dir.join(GENERATED_CERT), dir.join(GENERATED_KEY));
    if cert.is_file() && key.is_file() {
        return Ok((cert, key));
    }
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| TlsError::Write { path, source }
    };
    std::fs::create_dir_all(&dir).map_err(write_err(&dir))?;
    let mut params = rcgen::CertificateParams::new(names.to_vec())?;
    params.distinguished_name.push(
        rcgen::DnType::CommonName,
        "ccswitch self-signed certificate",
    );
    let signing_key = rcgen::KeyPair::generate()?;
    let certificate = params.self_signed(&signing_key)?;
    write_private(&key, signing_key.serialize_pem().as_bytes()).map_err(write_err(&key))?;
    std::fs::write(&cert, certificate.pem()).map_err(write_err(&cert))?;
    tracing::info!(cert = %cert.display(), ?names, "generated a self-signed TLS certificate");
    Ok((cert, key))
}

/// Writes a file only its owner can read.
fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)?.write_all(data)
}

/// The names a generated certificate is for: loopback, `localhost`, and the SIP domain and
/// listen addresses when they are more specific.
pub fn certificate_names(domain: &str, listen: &[std::net::IpAddr]) -> Vec<String> {
    let mut names = vec![
        "127.0.0.1".to_string(),
        "::1".to_string(),
        "localhost".to_string(),
    ];
    let domain = domain.trim_start_matches('[').trim_end_matches(']');
    for n in std::iter::once(domain.to_string()).chain(
        listen
            .iter()
            .filter(|ip| !ip.is_unspecified())
            .map(ToString::to_string),
    ) {
        if !n.is_empty() && !names.contains(&n) {
            names.push(n);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ccs-tls-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn current(c: &Certificates) -> Vec<u8> {
        c.current.read().unwrap().cert[0].to_vec()
    }

    #[test]
    fn generates_once_and_keeps_the_pair() {
        let dir = temp_dir("gen");
        let names = certificate_names("sip.example.com", &["0.0.0.0".parse().unwrap()]);
        assert_eq!(names, ["127.0.0.1", "::1", "localhost", "sip.example.com"]);
        let a = Certificates::open(None, &dir, &names).unwrap();
        assert_eq!(a.cert_path(), dir.join("tls/cert.pem"));
        let b = Certificates::open(None, &dir, &names).unwrap();
        assert_eq!(
            current(&a),
            current(&b),
            "the second start reads the first pair"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join("tls/key.pem"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "the key is the owner's only");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn reload_swaps_a_good_pair_and_keeps_the_old_on_a_bad_one() {
        let dir = temp_dir("reload");
        let names = vec!["127.0.0.1".to_string()];
        let c = Certificates::open(None, &dir, &names).unwrap();
        let first = current(&c);
        // A new pair in the same files.
        let other = temp_dir("reload-other");
        Certificates::open(None, &other, &names).unwrap();
        for f in [GENERATED_CERT, GENERATED_KEY] {
            std::fs::copy(other.join("tls").join(f), dir.join("tls").join(f)).unwrap();
        }
        c.reload().unwrap();
        let second = current(&c);
        assert_ne!(first, second, "new handshakes get the new certificate");
        // A broken certificate file: refused, the pair in use stays.
        std::fs::write(dir.join("tls/cert.pem"), "not a certificate").unwrap();
        assert!(matches!(c.reload(), Err(TlsError::NoCertificate(_))));
        assert_eq!(current(&c), second);
        // A key of another pair: refused as a mismatch.
        std::fs::copy(other.join("tls/cert.pem"), dir.join("tls/cert.pem")).unwrap();
        let third = temp_dir("reload-third");
        Certificates::open(None, &third, &names).unwrap();
        std::fs::copy(third.join("tls/key.pem"), dir.join("tls/key.pem")).unwrap();
        assert!(
            matches!(c.reload(), Err(TlsError::Mismatch { .. })),
            "mismatch"
        );
        assert_eq!(current(&c), second);
        for d in [dir, other, third] {
            let _ = std::fs::remove_dir_all(d);
        }
    }

    #[test]
    fn missing_files_name_themselves() {
        let dir = temp_dir("missing");
        let files = (dir.join("nope.pem"), dir.join("nope.key"));
        let e = Certificates::open(Some(&files), &dir, &[]).unwrap_err();
        assert!(e.to_string().contains("nope.pem"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn client_config_reads_a_ca_file() {
        let dir = temp_dir("ca");
        let c = Certificates::open(None, &dir, &["127.0.0.1".to_string()]).unwrap();
        assert!(client_config(Some(c.cert_path())).is_ok());
        assert!(client_config(Some(&dir.join("absent.pem"))).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
