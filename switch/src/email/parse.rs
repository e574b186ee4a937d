//! An inbound mail as the contact centre keeps it, from its raw RFC 5322 bytes (parsed by
//! `mail-parser`): who wrote it, the ids that thread it, its text and HTML bodies (the
//! HTML made safe to show: no scripts, styles, event handlers or remote content), its
//! attachments and inline images; card numbers masked, or the mail refused, per
//! `chat.card_numbers`, in subject and bodies, and attachments holding one dropped.
//! No I/O.

use crate::chat::attachment::scan;
use crate::chat::masking::{has_card_number, mask_card_numbers};
use crate::config::CardPolicy;
use mail_parser::{MessageParser, MimeHeaders};

/// A file that came with a mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InFile {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
    /// An inline image's Content-ID (`cid:` in the HTML), else empty.
    pub content_id: String,
}

/// A parsed inbound mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbound {
    /// `<id@host>`; made up from the content when the mail has none.
    pub message_id: String,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    pub from: String,
    pub from_name: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub date_ms: Option<i64>,
    pub files: Vec<InFile>,
    /// Attachments dropped because they hold a card number (their names).
    pub dropped: Vec<String>,
    /// Whether a card number was masked in the subject or a body.
    pub masked: bool,
    /// The raw bytes, for "View original"; `None` when the mail held a card number
    /// anywhere (masked, a file dropped, or in the raw text): the original is not kept.
    pub original: Option<Vec<u8>>,
}

/// Why a mail is not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("not a mail message")]
    NotMail,
    #[error("the mail has no sender address")]
    NoSender,
    #[error("the mail holds a card number and card numbers are dropped")]
    CardNumber,
}

fn bracketed(id: &str) -> String {
    let id = id.trim().trim_start_matches('<').trim_end_matches('>');
    format!("<{id}>")
}

fn ids(v: &mail_parser::HeaderValue<'_>) -> Vec<String> {
    match v {
        mail_parser::HeaderValue::Text(t) => vec![bracketed(t)],
        mail_parser::HeaderValue::TextList(l) => l.iter().map(|t| bracketed(t)).collect(),
        _ => Vec::new(),
    }
}

fn addresses(a: Option<&mail_parser::Address<'_>>) -> Vec<String> {
    a.map(|a| {
        a.iter()
            .filter_map(|x| x.address())
            .map(|s| s.to_ascii_lowercase())
            .collect()
    })
    .unwrap_or_default()
}

/// HTML a desktop may show: formatting kept, anything active or remote removed; inline
/// images (`cid:`) kept for the desktop to point at the stored file.
pub fn safe_html(html: &str) -> String {
    ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto", "cid"].into_iter().collect())
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(html)
        .to_string()
}

/// `text` under the card rule: masked (and whether it was), or refused.
fn carded(text: &str, policy: CardPolicy, masked: &mut bool) -> Result<String, ParseError> {
    if !has_card_number(text) {
        return Ok(text.to_string());
    }
    match policy {
        CardPolicy::Drop => Err(ParseError::CardNumber),
        CardPolicy::Mask => {
            *masked = true;
            Ok(mask_card_numbers(text).unwrap_or_else(|| text.to_string()))
        }
    }
}

/// Parse `raw` and apply the card rule.
pub fn parse(raw: &[u8], policy: CardPolicy) -> Result<Inbound, ParseError> {
    let m = MessageParser::default()
        .parse(raw)
        .ok_or(ParseError::NotMail)?;
    let from = m
        .from()
        .and_then(|a| a.first())
        .ok_or(ParseError::NoSender)?;
    let address = from
        .address()
        .filter(|a| a.contains('@'))
        .ok_or(ParseError::NoSender)?
        .to_ascii_lowercase();
    let message_id = match m.message_id() {
        Some(id) if !id.trim().is_empty() => bracketed(id),
        _ => {
            // The same bytes give the same id, so a refetch threads as the first fetch.
            let digest = ring_digest(raw);
            format!("<{digest}@ccswitch.invalid>")
        }
    };
    let mut masked = false;
    let subject = carded(m.subject().unwrap_or_default(), policy, &mut masked)?;
    let text = m.body_text(0).map(|t| t.into_owned()).unwrap_or_default();
    let html = m.body_html(0).map(|t| t.into_owned()).unwrap_or_default();
    // A plain mail's "HTML body" is its text, converted: keep only real HTML parts.
    let has_html =
        m.html_body_count() > 0 && m.html_bodies().any(|p| p.is_content_type("text", "html"));
    let text = carded(&text, policy, &mut masked)?;
    let html = if has_html {
        carded(&safe_html(&html), policy, &mut masked)?
    } else {
        String::new()
    };
    let mut files = Vec::new();
    let mut dropped = Vec::new();
    for (i, part) in m.attachments().enumerate() {
        let name = part
            .attachment_name()
            .map(str::to_string)
            .unwrap_or_else(|| format!("attachment-{}", i + 1));
        let content_type = part
            .content_type()
            .map(|c| match c.subtype() {
                Some(sub) => format!("{}/{}", c.ctype(), sub),
                None => c.ctype().to_string(),
            })
            .unwrap_or_else(|| "application/octet-stream".into())
            .to_ascii_lowercase();
        let bytes = part.contents().to_vec();
        // A file that holds a card number, or cannot be checked, is never kept.
        if scan(&bytes).unwrap_or(true) {
            dropped.push(name);
            continue;
        }
        files.push(InFile {
            name,
            content_type,
            bytes,
            content_id: part
                .content_id()
                .map(|c| c.trim_matches(['<', '>']).to_string())
                .unwrap_or_default(),
        });
    }
    if !dropped.is_empty() && policy == CardPolicy::Drop {
        return Err(ParseError::CardNumber);
    }
    let clean = !masked && dropped.is_empty() && !has_card_number(&String::from_utf8_lossy(raw));
    Ok(Inbound {
        message_id,
        in_reply_to: ids(m.in_reply_to()),
        references: ids(m.references()),
        from: address,
        from_name: from.name().unwrap_or_default().to_string(),
        to: addresses(m.to()),
        cc: addresses(m.cc()),
        subject,
        text,
        html,
        date_ms: m.date().map(|d| d.to_timestamp() * 1000),
        files,
        dropped,
        masked,
        original: clean.then(|| raw.to_vec()),
    })
}

/// A short stable digest of `raw`, hex (FNV-1a 64: an id, not a security measure).
fn ring_digest(raw: &[u8]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in raw {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: &str = "From: Ada Lovelace <Ada@Example.org>\r\n\
        To: support@example.com\r\n\
        Cc: bob@example.org\r\n\
        Subject: My bill\r\n\
        Message-ID: <m1@example.org>\r\n\
        In-Reply-To: <r1@example.com>\r\n\
        References: <a@example.com> <r1@example.com>\r\n\
        Date: Mon, 7 Dec 2026 10:00:00 +0000\r\n\
        \r\n\
        My card 4111 1111 1111 1111 was charged twice.\r\n";

    #[test]
    fn a_plain_mail_threads_and_its_card_number_is_masked() {
        let m = parse(PLAIN.as_bytes(), CardPolicy::Mask).unwrap();
        assert_eq!(m.from, "ada@example.org");
        assert_eq!(m.from_name, "Ada Lovelace");
        assert_eq!(m.message_id, "<m1@example.org>");
        assert_eq!(m.in_reply_to, ["<r1@example.com>"]);
        assert_eq!(m.references, ["<a@example.com>", "<r1@example.com>"]);
        assert_eq!(m.cc, ["bob@example.org"]);
        assert!(m.text.contains("**** **** **** 1111"), "{}", m.text);
        assert!(m.masked);
        assert_eq!(m.original, None, "a masked mail's original is not kept");
        assert!(m.html.is_empty());
        assert_eq!(m.date_ms, Some(1_796_637_600_000));
        assert_eq!(
            parse(PLAIN.as_bytes(), CardPolicy::Drop),
            Err(ParseError::CardNumber)
        );
    }

    #[test]
    fn html_is_made_safe_and_attachments_kept_or_dropped() {
        let raw = "From: ada@example.org\r\n\
            Subject: Screens\r\n\
            MIME-Version: 1.0\r\n\
            Content-Type: multipart/mixed; boundary=\"b1\"\r\n\
            \r\n\
            --b1\r\n\
            Content-Type: text/html; charset=utf-8\r\n\
            \r\n\
            <p onclick=\"x()\">Hi <b>there</b><script>alert(1)</script><img src=\"cid:logo1\"></p>\r\n\
            --b1\r\n\
            Content-Type: text/plain; name=\"note.txt\"\r\n\
            Content-Disposition: attachment; filename=\"note.txt\"\r\n\
            \r\n\
            nothing secret\r\n\
            --b1\r\n\
            Content-Type: text/plain; name=\"card.txt\"\r\n\
            Content-Disposition: attachment; filename=\"card.txt\"\r\n\
            \r\n\
            4111111111111111\r\n\
            --b1--\r\n";
        let m = parse(raw.as_bytes(), CardPolicy::Mask).unwrap();
        assert!(m.html.contains("<b>there</b>"), "{}", m.html);
        assert!(
            !m.html.contains("script") && !m.html.contains("onclick"),
            "{}",
            m.html
        );
        assert!(m.html.contains("cid:logo1"), "{}", m.html);
        assert_eq!(m.files.len(), 1);
        assert_eq!(m.files[0].name, "note.txt");
        assert_eq!(m.dropped, ["card.txt"]);
        assert_eq!(m.original, None);
        assert!(m.message_id.ends_with("@ccswitch.invalid>"));
        assert_eq!(
            parse(raw.as_bytes(), CardPolicy::Mask).unwrap().message_id,
            m.message_id
        );
    }

    #[test]
    fn a_clean_mail_keeps_its_original() {
        let raw = "From: ada@example.org\r\nSubject: Hi\r\n\r\nNo numbers here.\r\n";
        let m = parse(raw.as_bytes(), CardPolicy::Mask).unwrap();
        assert_eq!(m.original.as_deref(), Some(raw.as_bytes()));
        // A card number in a part that is neither body nor file still withholds it.
        let hidden =
            "From: ada@example.org\r\nSubject: Hi\r\nX-Note: 4111 1111 1111 1111\r\n\r\nHi\r\n";
        assert_eq!(
            parse(hidden.as_bytes(), CardPolicy::Mask).unwrap().original,
            None
        );
    }

    #[test]
    fn no_sender_is_refused() {
        assert_eq!(
            parse(b"Subject: x\r\n\r\nhello\r\n", CardPolicy::Mask),
            Err(ParseError::NoSender)
        );
    }
}
