//! What the chat service tells a customer's page (JSON text frames on `/api/chat/ws`), and
//! what the page may say.

use super::message::Message;
use serde::{Deserialize, Serialize};

/// To the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToCustomer {
    /// The chat exists and waits for an agent.
    Joined {
        interaction: u64,
        queue: String,
        queue_name: String,
        name: String,
        /// The chat's customer token: sent in `X-Chat-Token` to upload and download its
        /// files (`/api/chats/{interaction}/attachments`).
        token: String,
    },
    /// Its place among the queue's waiting chats (1 = next).
    Queued {
        position: usize,
    },
    /// A transcript line (the customer's own come back as stored: masked), or a file sent
    /// (`message.attachment`).
    Message {
        message: Message,
    },
    AgentJoined {
        name: String,
    },
    AgentLeft {
        name: String,
    },
    /// Something the customer sent was refused; the chat goes on unless `Ended` follows.
    Error {
        code: String,
        message: String,
    },
    /// The chat is over; the server closes the socket.
    Ended {
        reason: String,
    },
}

/// From the customer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum FromCustomer {
    /// The first frame: who they are and the ACD DN they write to.
    Join {
        name: String,
        dn: String,
    },
    Message {
        text: String,
    },
    /// The Disconnect button (closing the socket does the same).
    Leave {},
}

/// A customer's name: trimmed, 1-64 characters, no control characters.
pub fn check_name(name: &str) -> Option<String> {
    let name = name.trim();
    let n = name.chars().count();
    ((1..=64).contains(&n) && !name.chars().any(char::is_control)).then(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_parse_and_print() {
        let join: FromCustomer =
            serde_json::from_str(r#"{"type":"join","name":"Ann","dn":"8000"}"#).unwrap();
        assert_eq!(
            join,
            FromCustomer::Join {
                name: "Ann".into(),
                dn: "8000".into()
            }
        );
        assert!(serde_json::from_str::<FromCustomer>(r#"{"type":"leave"}"#).is_ok());
        assert!(serde_json::from_str::<FromCustomer>(r#"{"type":"x"}"#).is_err());
        let out = serde_json::to_value(ToCustomer::Queued { position: 2 }).unwrap();
        assert_eq!(out, serde_json::json!({"type": "queued", "position": 2}));
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(check_name("  Ann "), Some("Ann".into()));
        assert_eq!(check_name("   "), None);
        assert_eq!(check_name(&"a".repeat(65)), None);
        assert_eq!(check_name("a\nb"), None);
    }
}
