//! Predefined responses (templates): kept by the administrator, each with a title, a text
//! and the queues it applies to (none: every queue). Agents search them by title or text
//! among those of their queues; the desktop fills `{customer}` and `{agent}` in and lets
//! the agent edit the text before sending. Pure rules here; the store keeps them.

/// Longest title in characters.
pub const MAX_TITLE_CHARS: usize = 100;

pub use crate::store::StoredTemplate as Template;

/// What a template body must meet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("the title must be 1-{MAX_TITLE_CHARS} characters without control characters")]
    BadTitle,
    #[error("the text must not be empty")]
    EmptyText,
    #[error("a template is at most {max} characters; this one has {chars}")]
    TooLong { chars: usize, max: usize },
    #[error("{0:?} is not a queue DN")]
    BadQueue(String),
}

impl TemplateError {
    pub fn field(&self) -> &'static str {
        match self {
            TemplateError::BadTitle => "title",
            TemplateError::EmptyText | TemplateError::TooLong { .. } => "text",
            TemplateError::BadQueue(_) => "queues",
        }
    }
}

/// Checks and normalises a title, text and queue list (`max_chars`: the chat's message
/// limit, since the text becomes a message).
pub fn check(
    title: &str,
    text: &str,
    queues: &[String],
    max_chars: usize,
) -> Result<(String, String, Vec<String>), TemplateError> {
    let title = title.trim();
    let n = title.chars().count();
    if !(1..=MAX_TITLE_CHARS).contains(&n) || title.chars().any(char::is_control) {
        return Err(TemplateError::BadTitle);
    }
    let text = text.trim();
    if text.is_empty() {
        return Err(TemplateError::EmptyText);
    }
    let chars = text.chars().count();
    if chars > max_chars {
        return Err(TemplateError::TooLong {
            chars,
            max: max_chars,
        });
    }
    let mut qs: Vec<String> = Vec::new();
    for q in queues {
        let q = q.trim();
        if acd::check_dn(q).is_err() {
            return Err(TemplateError::BadQueue(q.to_string()));
        }
        if !qs.iter().any(|x| x == q) {
            qs.push(q.to_string());
        }
    }
    Ok((title.to_string(), text.to_string(), qs))
}

impl Template {
    /// Whether it applies to a caller who works `queues` (`None`: every queue, an
    /// administrator).
    pub fn visible_to(&self, queues: Option<&[String]>) -> bool {
        match queues {
            None => true,
            Some(mine) => self.queues.is_empty() || self.queues.iter().any(|q| mine.contains(q)),
        }
    }

    /// Whether it applies to one queue (global ones do).
    pub fn applies_to(&self, queue: &str) -> bool {
        self.queues.is_empty() || self.queues.iter().any(|q| q == queue)
    }

    /// Whether every word of `query` is in the title or the text (case-insensitive).
    pub fn matches(&self, query: &str) -> bool {
        let hay = format!("{}\n{}", self.title, self.text).to_lowercase();
        query
            .to_lowercase()
            .split_whitespace()
            .all(|w| hay.contains(w))
    }
}

/// `text` with `{customer}` and `{agent}` filled in.
pub fn fill(text: &str, customer: &str, agent: &str) -> String {
    text.replace("{customer}", customer)
        .replace("{agent}", agent)
}

/// The templates a caller sees: visible to them, applying to `queue` if given, matching
/// `query`; by title.
pub fn search<'a>(
    all: &'a [Template],
    mine: Option<&[String]>,
    queue: Option<&str>,
    query: &str,
) -> Vec<&'a Template> {
    let mut found: Vec<&Template> = all
        .iter()
        .filter(|t| t.visible_to(mine))
        .filter(|t| queue.is_none_or(|q| t.applies_to(q)))
        .filter(|t| t.matches(query))
        .collect();
    found.sort_by(|a, b| {
        a.title
            .to_lowercase()
            .cmp(&b.title.to_lowercase())
            .then(a.id.cmp(&b.id))
    });
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(id: i64, title: &str, text: &str, queues: &[&str]) -> Template {
        Template {
            id,
            title: title.into(),
            text: text.into(),
            queues: queues.iter().map(|q| q.to_string()).collect(),
            updated_ms: 0,
        }
    }

    #[test]
    fn search_by_title_or_text_among_my_queues_and_global_ones() {
        let all = vec![
            t(1, "Greeting", "Hello {customer}, I am {agent}.", &[]),
            t(2, "Refund policy", "Refunds take 5 days.", &["8000"]),
            t(3, "Billing hours", "Billing is open 9-5.", &["9000"]),
        ];
        let mine = vec!["8000".to_string()];
        let ids = |v: Vec<&Template>| v.iter().map(|t| t.id).collect::<Vec<_>>();
        assert_eq!(ids(search(&all, Some(&mine), None, "")), [1, 2]);
        assert_eq!(ids(search(&all, None, None, "")), [3, 1, 2], "by title");
        assert_eq!(ids(search(&all, Some(&mine), None, "REFUND")), [2]);
        assert_eq!(ids(search(&all, Some(&mine), None, "days refunds")), [2]);
        assert_eq!(ids(search(&all, Some(&mine), None, "hello")), [1], "text");
        assert!(search(&all, Some(&mine), None, "billing").is_empty());
        assert_eq!(ids(search(&all, None, Some("9000"), "")), [3, 1]);
    }

    #[test]
    fn texts_over_the_limit_and_bad_fields_are_refused() {
        let ok = check(" Hi ", " x ", &["8000".into(), "8000".into()], 1000);
        assert_eq!(ok, Ok(("Hi".into(), "x".into(), vec!["8000".into()])));
        assert_eq!(
            check("Hi", &"y".repeat(1001), &[], 1000),
            Err(TemplateError::TooLong {
                chars: 1001,
                max: 1000
            })
        );
        assert!(check("Hi", &"y".repeat(1000), &[], 1000).is_ok());
        assert_eq!(check("", "x", &[], 1000), Err(TemplateError::BadTitle));
        assert_eq!(check("Hi", "  ", &[], 1000), Err(TemplateError::EmptyText));
        assert!(matches!(
            check("Hi", "x", &["not a dn!".into()], 1000),
            Err(TemplateError::BadQueue(_))
        ));
    }

    #[test]
    fn placeholders_are_filled() {
        assert_eq!(
            fill("Hello {customer}, I am {agent}. {other}", "Ann", "Dana"),
            "Hello Ann, I am Dana. {other}"
        );
    }
}
