//! One IMAP mailbox, fetched (the I/O edge of the e-mail channel): log in, select the
//! folder, take every unseen mail in UID order (`BODY.PEEK[]`, so fetching alone marks
//! nothing), hand it to [`Emails::ingest`] and only once it is stored set `\Seen`; then
//! wait with IDLE (RFC 2177, renewed every 29 minutes) where the server has it, else poll
//! every `poll_secs`. A mail refused by the parser (no sender, or a card number where
//! those are dropped) is marked `\Seen` and `\Flagged` for a person to look at, and
//! logged. Any error drops the connection; the fetcher reconnects with back-off
//! (1 s doubling to 60 s).

use super::parse::parse;
use super::{EmailError, Emails};
use crate::config::{CardPolicy, MailTls, Mailbox};
use crate::store::{Fetched, Store, StoreError};
use futures_util::StreamExt;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("connecting: {0}")]
    Io(#[from] std::io::Error),
    #[error("IMAP: {0}")]
    Imap(#[from] async_imap::error::Error),
    #[error("TLS: {0}")]
    Tls(String),
    #[error("storing: {0}")]
    Ingest(#[from] EmailError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("the server closed the connection")]
    Closed,
}

pub struct Fetcher {
    mailbox: Mailbox,
    store: Store,
    emails: Emails,
    cards: CardPolicy,
}

impl Fetcher {
    pub fn new(mailbox: Mailbox, store: Store, emails: Emails, cards: CardPolicy) -> Fetcher {
        Fetcher {
            mailbox,
            store,
            emails,
            cards,
        }
    }

    pub async fn run(self) {
        let mut backoff = Duration::from_secs(1);
        loop {
            match self.session().await {
                Ok(()) => backoff = Duration::from_secs(1),
                Err(FetchError::Ingest(EmailError::Stopped)) => return,
                Err(e) => {
                    tracing::warn!(mailbox = %self.mailbox.name, error = %e, retry_in = ?backoff, "mailbox connection failed");
                }
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(Duration::from_secs(60));
        }
    }

    async fn session(&self) -> Result<(), FetchError> {
        let m = &self.mailbox;
        let tcp = TcpStream::connect((m.host.as_str(), m.port)).await?;
        match m.tls {
            MailTls::Tls => {
                let connector = tls_connector(m.ca.as_deref())?;
                let name = rustls::pki_types::ServerName::try_from(m.host.clone())
                    .map_err(|e| FetchError::Tls(e.to_string()))?;
                let stream = connector.connect(name, tcp).await?;
                self.serve(stream).await
            }
            MailTls::None | MailTls::StartTls => self.serve(tcp).await,
        }
    }

    async fn serve<S>(&self, stream: S) -> Result<(), FetchError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug,
    {
        let m = &self.mailbox;
        let mut client = async_imap::Client::new(stream);
        client.read_response().await?.ok_or(FetchError::Closed)?;
        let mut session = client
            .login(&m.user, &m.password)
            .await
            .map_err(|(e, _)| e)?;
        let idle = session.capabilities().await?.has_str("IDLE");
        tracing::info!(mailbox = %m.name, folder = %m.folder, idle, "mailbox connected");
        loop {
            let selected = session.select(&m.folder).await?;
            let uidvalidity = selected.uid_validity.unwrap_or(0);
            self.drain(&mut session, uidvalidity).await?;
            if idle {
                let mut handle = session.idle();
                handle.init().await?;
                let (wait, _stop) = handle.wait_with_timeout(Duration::from_secs(29 * 60));
                let why = wait.await?;
                tracing::debug!(mailbox = %m.name, ?why, "IDLE woke");
                session = handle.done().await?;
            } else {
                tokio::time::sleep(Duration::from_secs(m.poll_secs)).await;
                session.noop().await?;
            }
        }
    }

    /// Every unseen mail, oldest UID first: stored, then `\Seen`.
    async fn drain<S>(
        &self,
        session: &mut async_imap::Session<S>,
        uidvalidity: u32,
    ) -> Result<(), FetchError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + std::fmt::Debug,
    {
        let m = &self.mailbox;
        let mut uids: Vec<u32> = session.uid_search("UNSEEN").await?.into_iter().collect();
        uids.sort_unstable();
        for uid in uids {
            let at = Fetched { uidvalidity, uid };
            let mut flags = "+FLAGS (\\Seen)";
            if !self.store.email_fetched(&m.name, at).await? {
                let raw = {
                    let mut fetches = session.uid_fetch(uid.to_string(), "BODY.PEEK[]").await?;
                    let mut raw = None;
                    while let Some(f) = fetches.next().await {
                        if let Some(body) = f?.body() {
                            raw = Some(body.to_vec());
                        }
                    }
                    raw
                };
                let Some(raw) = raw else {
                    continue;
                };
                match parse(&raw, self.cards) {
                    Ok(mail) => self.emails.ingest(&m.name, &m.queue, mail, at).await?,
                    Err(e) => {
                        tracing::warn!(mailbox = %m.name, uid, error = %e, "mail refused; flagged in the mailbox");
                        flags = "+FLAGS (\\Seen \\Flagged)";
                    }
                }
            }
            let mut stored = session.uid_store(uid.to_string(), flags).await?;
            while let Some(r) = stored.next().await {
                r?;
            }
        }
        Ok(())
    }
}

/// A TLS client trusting `ca` (a PEM file), else the system's roots.
fn tls_connector(ca: Option<&str>) -> Result<tokio_rustls::TlsConnector, FetchError> {
    let config = crate::tls::client_config(ca.map(std::path::Path::new))
        .map_err(|e| FetchError::Tls(e.to_string()))?;
    Ok(tokio_rustls::TlsConnector::from(config))
}
