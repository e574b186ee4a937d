//! The outbox, sent (the other I/O edge of the e-mail channel): every reply queued in the
//! store goes to the SMTP relay (STARTTLS, TLS or plain, with credentials when set) as a
//! proper MIME message (multipart/alternative text and HTML, attachments in
//! multipart/mixed, Message-ID, In-Reply-To, References). A failure the relay calls
//! temporary, or a relay out of reach, is retried after 5 s, 30 s, 2, 10 and 30 minutes,
//! then hourly up to 10 attempts; a permanent refusal or the last failure marks the reply
//! `failed`. The agent's desktop hears `email_sent` or `email_failed` (with the reason)
//! and every retry (`email_retry`): nothing is lost silently.

use crate::config::{MailTls, Smtp};
use crate::distributor::Distributor;
use crate::store::{Store, StoredEmail};
use lettre::message::header::ContentTransferEncoding;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// The delay before attempt `n + 1`, after `n` failed ones.
fn backoff(n: u32) -> Option<i64> {
    const STEPS: [i64; 5] = [5, 30, 120, 600, 1800];
    match n {
        0 => Some(0),
        n if n >= MAX_ATTEMPTS => None,
        n => Some(STEPS.get(n as usize - 1).copied().unwrap_or(3600) * 1000),
    }
}

const MAX_ATTEMPTS: u32 = 10;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

pub struct Sender {
    smtp: Smtp,
    store: Store,
    distributor: Distributor,
    files: PathBuf,
}

impl Sender {
    pub fn new(smtp: Smtp, store: Store, distributor: Distributor, data_dir: &Path) -> Sender {
        Sender {
            smtp,
            store,
            distributor,
            files: data_dir.join("email"),
        }
    }

    fn transport(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
        let s = &self.smtp;
        let builder = match s.tls {
            MailTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host),
            MailTls::StartTls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.host)
                .map_err(|e| e.to_string())?,
            MailTls::Tls => {
                AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host).map_err(|e| e.to_string())?
            }
        };
        // A relay whose certificate a configured CA vouches for, not the system's roots.
        let builder = match (&s.ca, s.tls) {
            (Some(ca), MailTls::StartTls | MailTls::Tls) => {
                let pem = std::fs::read(ca).map_err(|e| format!("email.smtp.ca {ca:?}: {e}"))?;
                let cert = Certificate::from_pem(&pem).map_err(|e| e.to_string())?;
                let params = TlsParameters::builder(s.host.clone())
                    .add_root_certificate(cert)
                    .build()
                    .map_err(|e| e.to_string())?;
                builder.tls(match s.tls {
                    MailTls::Tls => Tls::Wrapper(params),
                    _ => Tls::Required(params),
                })
            }
            _ => builder,
        };
        let builder = builder.port(s.port).timeout(Some(Duration::from_secs(30)));
        let builder = match &s.user {
            Some(user) => builder.credentials(Credentials::new(user.clone(), s.password.clone())),
            None => builder,
        };
        Ok(builder.build())
    }

    pub async fn run(self, wake: Arc<Notify>) {
        loop {
            match self.store.due_emails(now_ms()).await {
                Ok(due) => {
                    for m in due {
                        self.attempt(m).await;
                    }
                }
                Err(e) => tracing::error!(error = %e, "the outbox could not be read"),
            }
            // Sleep until the next retry is due (a minute at most) or a reply is queued.
            let _ = tokio::time::timeout(self.until_next().await, wake.notified()).await;
        }
    }

    async fn until_next(&self) -> Duration {
        let far = Duration::from_secs(60);
        match self.store.due_emails(i64::MAX).await {
            Ok(q) => q
                .iter()
                .filter_map(|m| m.next_attempt_ms)
                .min()
                .map_or(far, |at| {
                    Duration::from_millis((at - now_ms()).clamp(0, 60_000) as u64)
                }),
            Err(_) => far,
        }
    }

    async fn attempt(&self, m: StoredEmail) {
        let attempts = m.attempts + 1;
        let result = match self.message(&m).await {
            Ok(msg) => match self.transport() {
                Ok(t) => t.send(msg).await.map(|_| ()).map_err(|e| {
                    let permanent = e.is_permanent();
                    (e.to_string(), permanent)
                }),
                Err(e) => Err((e, true)),
            },
            Err(e) => Err((e, true)),
        };
        let (status, next, error) = match &result {
            Ok(()) => ("sent", None, String::new()),
            Err((e, permanent)) => match backoff(attempts).filter(|_| !permanent) {
                Some(delay) => ("queued", Some(now_ms() + delay), e.clone()),
                None => ("failed", None, e.clone()),
            },
        };
        if let Err(e) = self
            .store
            .email_attempted(m.id, status, attempts, next, &error)
            .await
        {
            tracing::error!(message = m.id, error = %e, "the outbox state was not stored");
        }
        let kind = match status {
            "sent" => "email_sent",
            "failed" => "email_failed",
            _ => "email_retry",
        };
        match status {
            "sent" => tracing::info!(message = m.id, thread = m.thread, attempts, "reply sent"),
            _ => {
                tracing::warn!(message = m.id, thread = m.thread, attempts, %error, status, "reply not sent")
            }
        }
        self.distributor.publish(json!({
            "type": kind, "thread": m.thread, "message": m.id, "agent": m.agent,
            "attempts": attempts, "error": error, "next_attempt_ms": next,
        }));
    }

    /// The reply as MIME.
    async fn message(&self, m: &StoredEmail) -> Result<Message, String> {
        let mailbox = |name: &str, addr: &str| -> Result<Mailbox, String> {
            let address = addr.parse().map_err(|e| format!("{addr:?}: {e}"))?;
            Ok(Mailbox::new(
                Some(name.to_string()).filter(|n| !n.is_empty()),
                address,
            ))
        };
        let mut b = Message::builder()
            .from(mailbox(&m.from_name, &m.from)?)
            .subject(m.subject.clone())
            .message_id(Some(m.message_id.clone()));
        for to in m.to.split(',').map(str::trim).filter(|a| !a.is_empty()) {
            b = b.to(mailbox("", to)?);
        }
        for cc in m.cc.split(',').map(str::trim).filter(|a| !a.is_empty()) {
            b = b.cc(mailbox("", cc)?);
        }
        if !m.in_reply_to.is_empty() {
            b = b.in_reply_to(m.in_reply_to.clone());
        }
        if !m.references.is_empty() {
            b = b.references(m.references.clone());
        }
        let body = if m.html.is_empty() {
            MultiPart::alternative().singlepart(SinglePart::plain(m.text.clone()))
        } else {
            MultiPart::alternative_plain_html(m.text.clone(), m.html.clone())
        };
        let files = self
            .store
            .email_files(m.id)
            .await
            .map_err(|e| e.to_string())?;
        if files.is_empty() && m.html.is_empty() {
            return b
                .singlepart(SinglePart::plain(m.text.clone()))
                .map_err(|e| e.to_string());
        }
        if files.is_empty() {
            return b.multipart(body).map_err(|e| e.to_string());
        }
        let mut mixed = MultiPart::mixed().multipart(body);
        for f in files {
            let bytes = tokio::fs::read(self.files.join(&f.id))
                .await
                .map_err(|e| format!("attachment {}: {e}", f.name))?;
            let ct = ContentType::parse(&f.content_type).unwrap_or(
                ContentType::parse("application/octet-stream").map_err(|e| e.to_string())?,
            );
            // Always base64: a text file's bare LF line ends sent as 7bit make one endless
            // SMTP line the relay refuses ("Line too long"), and base64 keeps the bytes.
            let body = Body::new_with_encoding(bytes, ContentTransferEncoding::Base64)
                .map_err(|_| format!("attachment {}: not encodable", f.name))?;
            mixed = mixed.singlepart(Attachment::new(f.name.clone()).body(body, ct));
        }
        b.multipart(mixed).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn retries_back_off_then_stop() {
        assert_eq!(backoff(0), Some(0));
        assert_eq!(backoff(1), Some(5_000));
        assert_eq!(backoff(2), Some(30_000));
        assert_eq!(backoff(6), Some(3_600_000));
        assert_eq!(backoff(10), None);
    }
}
