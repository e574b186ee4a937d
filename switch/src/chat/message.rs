//! One line of a chat transcript, and the rules a text must meet before it becomes one.

use super::error::ChatError;
use super::masking::{has_card_number, mask_card_numbers};
use crate::config::CardPolicy;
use serde::{Deserialize, Serialize};

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Customer,
    Agent,
    /// The switch's own notices (queue position, an agent joined or left).
    System,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Customer => "customer",
            Role::Agent => "agent",
            Role::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "customer" => Some(Role::Customer),
            "agent" => Some(Role::Agent),
            "system" => Some(Role::System),
            _ => None,
        }
    }
}

/// A transcript entry as stored and shown: the text is already masked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub sender: String,
    pub role: Role,
    pub text: String,
    /// Wall-clock milliseconds since the Unix epoch.
    pub at_ms: i64,
    /// The file this entry announces (its `text` is then the file's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attachment: Option<FileRef>,
}

/// A file sent in a chat, as its transcript entry shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    /// The attachment's id (random hex).
    pub id: String,
    pub name: String,
    /// Bytes.
    pub size: u64,
    pub content_type: String,
    /// Where it downloads: `/api/chats/{chat}/attachments/{id}`.
    pub url: String,
}

/// The rules for a customer's or an agent's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextRules {
    /// Longest text in characters (Unicode scalar values); longer is refused, never cut.
    pub max_chars: usize,
    pub cards: CardPolicy,
}

impl TextRules {
    /// The text to store and show: trimmed of surrounding blank space, checked for length,
    /// its card numbers masked (or refused, per policy).
    pub fn check(&self, text: &str) -> Result<String, ChatError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(ChatError::EmptyMessage);
        }
        let chars = text.chars().count();
        if chars > self.max_chars {
            return Err(ChatError::TooLong {
                chars,
                max: self.max_chars,
            });
        }
        if text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t')
        {
            return Err(ChatError::ControlCharacters);
        }
        match self.cards {
            CardPolicy::Mask => Ok(mask_card_numbers(text).unwrap_or_else(|| text.to_string())),
            CardPolicy::Drop if has_card_number(text) => Err(ChatError::CardNumber),
            CardPolicy::Drop => Ok(text.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: TextRules = TextRules {
        max_chars: 1000,
        cards: CardPolicy::Mask,
    };

    #[test]
    fn a_thousand_characters_pass_and_one_more_is_refused() {
        let ok = "é".repeat(1000);
        assert_eq!(RULES.check(&ok).map(|t| t.chars().count()), Ok(1000));
        let long = "x".repeat(1001);
        assert_eq!(
            RULES.check(&long),
            Err(ChatError::TooLong {
                chars: 1001,
                max: 1000
            })
        );
    }

    #[test]
    fn empty_and_control_texts_are_refused() {
        assert_eq!(RULES.check("  \n "), Err(ChatError::EmptyMessage));
        assert_eq!(RULES.check("a\u{7}b"), Err(ChatError::ControlCharacters));
        assert_eq!(RULES.check(" two\nlines "), Ok("two\nlines".to_string()));
    }

    #[test]
    fn cards_are_masked_or_the_message_dropped() {
        assert_eq!(
            RULES.check("my card 4111 1111 1111 1111"),
            Ok("my card **** **** **** 1111".to_string())
        );
        let drop = TextRules {
            cards: CardPolicy::Drop,
            ..RULES
        };
        assert_eq!(
            drop.check("my card 4111-1111-1111-1111"),
            Err(ChatError::CardNumber)
        );
        assert_eq!(drop.check("hello"), Ok("hello".to_string()));
    }

    #[test]
    fn roles_round_trip() {
        for r in [Role::Customer, Role::Agent, Role::System] {
            assert_eq!(Role::parse(r.as_str()), Some(r));
        }
        assert_eq!(Role::parse("bot"), None);
    }
}
