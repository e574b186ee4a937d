//! An agent's reply, checked and made into the message the outbox keeps: quick (plain
//! text), standard (rich text, Cc) or reply-all (the customer and everyone the last mail
//! went to, but our own addresses); recipients and subject are the thread's, not the
//! agent's to choose; Message-ID, In-Reply-To and References thread it in the customer's
//! client. Card numbers are masked (or the reply refused) and files checked by the chat's
//! rules (types by extension and content, no card numbers) within the configured count
//! and size. No I/O.

use super::parse::safe_html;
use super::EmailError;
use crate::chat::attachment::{check_name, content_matches, content_type, scan};
use crate::chat::masking::{has_card_number, mask_card_numbers};
use crate::config::{CardPolicy, EmailConfig, FileRules};
use crate::store::{StoredEmail, StoredThread};
use base64::Engine as _;
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyKind {
    /// Plain text to the customer.
    Quick,
    /// Rich text to the customer, with Cc.
    Standard,
    /// Rich text to the customer and the last mail's other recipients, with Cc.
    All,
}

/// A file attached to a reply (`data`: base64).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyFile {
    pub name: String,
    pub data: String,
}

/// `POST /api/emails/{id}/reply` as sent.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyBody {
    pub kind: ReplyKind,
    /// The quick reply's text (a standard reply's plain-text part is made from its HTML).
    #[serde(default)]
    pub text: String,
    /// The standard reply's rich text.
    #[serde(default)]
    pub html: String,
    #[serde(default)]
    pub cc: Vec<String>,
    #[serde(default)]
    pub attachments: Vec<ReplyFile>,
}

/// A checked file of a reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutFile {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// What the rules need to know.
pub struct Rules<'a> {
    pub email: &'a EmailConfig,
    pub files: &'a FileRules,
    pub cards: CardPolicy,
    /// Our own addresses (the mailbox's and the relay's From), never replied to.
    pub ours: Vec<String>,
    /// The address replies come from.
    pub from: String,
    pub from_name: String,
}

fn bad(why: impl Into<String>) -> EmailError {
    EmailError::BadReply(why.into())
}

/// A plausible single address (`local@domain`, no spaces or angle brackets).
pub fn valid_address(a: &str) -> bool {
    let a = a.trim();
    match a.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && a.len() <= 254
                && !a.chars().any(|c| c.is_whitespace() || "<>,;\"".contains(c))
        }
        None => false,
    }
}

/// The plain-text part of rich text: block ends as line breaks, tags dropped, the common
/// entities decoded.
pub fn text_of_html(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('>') else {
            rest = "";
            break;
        };
        let tag = rest[open + 1..open + close].trim().to_ascii_lowercase();
        let name = tag
            .trim_start_matches('/')
            .split([' ', '/'])
            .next()
            .unwrap_or("");
        if name == "br"
            || (tag.starts_with('/')
                && matches!(
                    name,
                    "p" | "div" | "li" | "tr" | "h1" | "h2" | "h3" | "h4" | "blockquote"
                ))
        {
            out.push('\n');
        } else if name == "li" && !tag.starts_with('/') {
            out.push_str("- ");
        } else if name == "td" && tag.starts_with('/') {
            out.push('\t');
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&");
    decoded.trim().to_string()
}

/// Rich text the editor may send: its formatting (headings, bold, italic, underline,
/// strike-through, colour, lists, quote, table, link, indent), nothing active.
pub fn safe_rich_text(html: &str) -> String {
    let cleaned = ammonia::Builder::default()
        .add_tags(["font", "u", "s", "strike"])
        .add_tag_attributes("font", ["color"])
        .add_generic_attributes(["style"])
        .filter_style_properties(
            [
                "color",
                "background-color",
                "text-align",
                "margin-left",
                "padding-left",
            ]
            .into_iter()
            .collect(),
        )
        .link_rel(Some("noopener noreferrer"))
        .clean(html)
        .to_string();
    // The same sanitiser as inbound mail has the last word on links and schemes.
    if cleaned.contains("javascript:") {
        safe_html(&cleaned)
    } else {
        cleaned
    }
}

fn carded(text: &str, cards: CardPolicy) -> Result<String, EmailError> {
    if !has_card_number(text) {
        return Ok(text.to_string());
    }
    match cards {
        CardPolicy::Drop => Err(bad(
            "the reply holds a card number and was not sent (card numbers must not be sent by e-mail)",
        )),
        CardPolicy::Mask => Ok(mask_card_numbers(text).unwrap_or_else(|| text.to_string())),
    }
}

/// The files of a reply, checked.
pub fn files(body: &ReplyBody, rules: &Rules<'_>) -> Result<Vec<OutFile>, EmailError> {
    if body.attachments.len() > rules.email.max_attachments {
        return Err(bad(format!(
            "at most {} files may be attached",
            rules.email.max_attachments
        )));
    }
    let mut total = 0u64;
    let mut out = Vec::new();
    for f in &body.attachments {
        let (name, ext) = check_name(&f.name).map_err(|e| bad(e.to_string()))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(f.data.trim())
            .map_err(|_| bad(format!("{name}: the data is not base64")))?;
        if bytes.is_empty() {
            return Err(bad(format!("{name}: the file is empty")));
        }
        if !rules.files.types.contains(&ext) {
            return Err(bad(format!(
                "{name}: files of type {ext:?} may not be sent (allowed: {})",
                rules.files.types.join(", ")
            )));
        }
        if !content_matches(&ext, &bytes) {
            return Err(bad(format!(
                "{name}: the file's content is not a {ext} file"
            )));
        }
        if scan(&bytes).unwrap_or(true) {
            return Err(bad(format!(
                "{name}: the file holds a card number (or cannot be checked) and was not sent"
            )));
        }
        total += bytes.len() as u64;
        if total > rules.email.max_attachment_bytes {
            return Err(bad(format!(
                "the files may total at most {} bytes",
                rules.email.max_attachment_bytes
            )));
        }
        out.push(OutFile {
            name,
            content_type: content_type(&ext).to_string(),
            bytes,
        });
    }
    Ok(out)
}

/// The reply to `last` (the thread's latest inbound mail) as the outbox keeps it.
pub fn build(
    body: &ReplyBody,
    thread: &StoredThread,
    last: Option<&StoredEmail>,
    agent: &str,
    rules: &Rules<'_>,
    now_ms: i64,
) -> Result<StoredEmail, EmailError> {
    let ours = |a: &str| rules.ours.iter().any(|o| o.eq_ignore_ascii_case(a));
    let mut cc: Vec<String> = Vec::new();
    for a in &body.cc {
        let a = a.trim().to_ascii_lowercase();
        if !valid_address(&a) {
            return Err(bad(format!("{a:?} is not an e-mail address")));
        }
        if !cc.contains(&a) {
            cc.push(a);
        }
    }
    let (text, html) = match body.kind {
        ReplyKind::Quick => {
            if !body.cc.is_empty() || !body.html.is_empty() {
                return Err(bad(
                    "a quick reply is plain text to the customer, without Cc",
                ));
            }
            (body.text.trim().to_string(), String::new())
        }
        ReplyKind::Standard | ReplyKind::All => {
            let html = safe_rich_text(&body.html);
            (text_of_html(&html), html)
        }
    };
    if text.is_empty() {
        return Err(bad("the reply is empty"));
    }
    let mut to = vec![thread.customer.clone()];
    if body.kind == ReplyKind::All {
        if let Some(last) = last {
            for a in last.to.split(',').chain(last.cc.split(',')) {
                let a = a.trim().to_ascii_lowercase();
                if !a.is_empty() && !ours(&a) && !to.contains(&a) && !cc.contains(&a) {
                    cc.push(a);
                }
            }
        }
    }
    to.retain(|a| !ours(a));
    cc.retain(|a| !ours(a) && !to.contains(a));
    if to.is_empty() {
        return Err(bad("the thread has no customer address to reply to"));
    }
    let subject = if thread.subject.to_ascii_lowercase().starts_with("re:") {
        thread.subject.clone()
    } else {
        format!("Re: {}", thread.subject)
    };
    let domain = rules
        .from
        .rsplit_once('@')
        .map_or("ccswitch.invalid", |(_, d)| d);
    let message_id = format!("<{}@{domain}>", hex::encode(rand::random::<[u8; 12]>()));
    let (in_reply_to, references) = match last {
        Some(l) => {
            let mut refs: Vec<&str> = l.references.split_whitespace().collect();
            refs.push(&l.message_id);
            let keep = refs.len().saturating_sub(20);
            (l.message_id.clone(), refs[keep..].join(" "))
        }
        None => (String::new(), String::new()),
    };
    Ok(StoredEmail {
        id: 0,
        thread: thread.id,
        direction: "out".into(),
        message_id,
        in_reply_to,
        references,
        from: rules.from.clone(),
        from_name: rules.from_name.clone(),
        to: to.join(", "),
        cc: cc.join(", "),
        subject: carded(&subject, rules.cards)?,
        text: carded(&text, rules.cards)?,
        html: carded(&html, rules.cards)?,
        at_ms: now_ms,
        status: "queued".into(),
        attempts: 0,
        next_attempt_ms: Some(now_ms),
        error: String::new(),
        agent: agent.to_string(),
        original: String::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn thread() -> StoredThread {
        StoredThread {
            id: 4,
            mailbox: "support".into(),
            queue: "8100".into(),
            customer: "ada@example.org".into(),
            customer_name: "Ada".into(),
            subject: "My bill".into(),
            state: "open".into(),
            agent: "1001".into(),
            created_ms: 0,
            updated_ms: 0,
        }
    }

    fn last() -> StoredEmail {
        StoredEmail {
            id: 9,
            thread: 4,
            direction: "in".into(),
            message_id: "<m2@example.org>".into(),
            in_reply_to: "<r1@example.com>".into(),
            references: "<m1@example.org> <r1@example.com>".into(),
            from: "ada@example.org".into(),
            from_name: "Ada".into(),
            to: "support@example.com, bob@example.org".into(),
            cc: "carol@example.org".into(),
            subject: "Re: My bill".into(),
            text: "x".into(),
            html: String::new(),
            at_ms: 0,
            status: "received".into(),
            attempts: 0,
            next_attempt_ms: None,
            error: String::new(),
            agent: String::new(),
            original: String::new(),
        }
    }

    fn with_rules<T>(f: impl FnOnce(&Rules<'_>) -> T) -> T {
        let email = EmailConfig {
            max_attachments: 2,
            max_attachment_bytes: 1000,
            ..EmailConfig::default()
        };
        let files = FileRules {
            types: vec!["txt".into(), "pdf".into()],
            max_total_bytes: 1000,
        };
        f(&Rules {
            email: &email,
            files: &files,
            cards: CardPolicy::Mask,
            ours: vec!["support@example.com".into()],
            from: "support@example.com".into(),
            from_name: "Support".into(),
        })
    }

    fn body(kind: ReplyKind) -> ReplyBody {
        ReplyBody {
            kind,
            text: String::new(),
            html: String::new(),
            cc: Vec::new(),
            attachments: Vec::new(),
        }
    }

    #[test]
    fn a_quick_reply_threads_under_the_last_mail() {
        let mut b = body(ReplyKind::Quick);
        b.text = "We refunded card 4111 1111 1111 1111.".into();
        let m = with_rules(|r| build(&b, &thread(), Some(&last()), "1001", r, 5)).unwrap();
        assert_eq!(m.to, "ada@example.org");
        assert_eq!(m.cc, "");
        assert_eq!(m.subject, "Re: My bill");
        assert_eq!(m.in_reply_to, "<m2@example.org>");
        assert_eq!(
            m.references,
            "<m1@example.org> <r1@example.com> <m2@example.org>"
        );
        assert!(m.message_id.ends_with("@example.com>"));
        assert!(m.text.contains("**** **** **** 1111"), "{}", m.text);
        assert_eq!((m.status.as_str(), m.next_attempt_ms), ("queued", Some(5)));
        b.cc = vec!["x@example.org".into()];
        assert!(with_rules(|r| build(&b, &thread(), Some(&last()), "1001", r, 5)).is_err());
    }

    #[test]
    fn reply_all_copies_everyone_but_us_and_rich_text_is_made_safe() {
        let mut b = body(ReplyKind::All);
        b.html = "<p>Hello <b>Ada</b></p><ul><li>one</li></ul><script>x()</script>\
            <span style=\"color: red; position: fixed\">red</span>"
            .into();
        b.cc = vec!["Dave@Example.org".into()];
        let m = with_rules(|r| build(&b, &thread(), Some(&last()), "1001", r, 5)).unwrap();
        assert_eq!(m.to, "ada@example.org");
        assert_eq!(m.cc, "dave@example.org, bob@example.org, carol@example.org");
        assert!(
            m.html.contains("<b>Ada</b>") && !m.html.contains("script"),
            "{}",
            m.html
        );
        assert!(
            m.html.contains("color:red") || m.html.contains("color: red"),
            "{}",
            m.html
        );
        assert!(!m.html.contains("position"), "{}", m.html);
        assert_eq!(m.text, "Hello Ada\n- one\nred");
        b.cc = vec!["not an address".into()];
        assert!(with_rules(|r| build(&b, &thread(), Some(&last()), "1001", r, 5)).is_err());
    }

    #[test]
    fn files_are_checked_by_type_content_size_and_card_numbers() {
        let b64 = |s: &[u8]| base64::engine::general_purpose::STANDARD.encode(s);
        let mut b = body(ReplyKind::Standard);
        b.attachments = vec![ReplyFile {
            name: "note.txt".into(),
            data: b64(b"all good"),
        }];
        let checked = with_rules(|r| files(&b, r)).unwrap();
        assert_eq!(checked[0].content_type, "text/plain; charset=utf-8");
        for (name, data) in [
            ("card.txt", b64(b"4111111111111111")),
            ("x.exe", b64(b"MZ")),
            ("fake.pdf", b64(b"not a pdf")),
            ("big.txt", b64(&[b'a'; 1001])),
            ("bad.txt", "%%%".to_string()),
        ] {
            b.attachments = vec![ReplyFile {
                name: name.into(),
                data,
            }];
            assert!(with_rules(|r| files(&b, r)).is_err(), "{name} accepted");
        }
    }
}
