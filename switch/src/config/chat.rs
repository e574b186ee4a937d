//! `[chat]`: the web chat channel's rules (message length, card numbers) and the wrap-up
//! codes each queue offers its agents.

use super::validate::Problems;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What to do with a chat message that holds a card number (`chat.card_numbers`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CardPolicy {
    /// Replace the card's digits (but the last four) with `*`.
    #[default]
    Mask,
    /// Refuse the whole message; nothing of it is stored or shown.
    Drop,
}

/// Where a chat transferred to an agent goes when that agent declines or lets the offer
/// time out (`chat.transfer_fallback`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TransferFallback {
    /// Back to the transferring agent, who is told why.
    #[default]
    Agent,
    /// Into the chat's queue; the transferring agent leaves it.
    Queue,
}

/// The extensions the switch can check (the seed list); `chat.attachments.types` picks
/// among them.
pub const KNOWN_TYPES: &[&str] = &[
    "pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "txt", "csv", "rtf", "png", "jpg", "jpeg",
    "gif", "bmp", "tif", "tiff", "zip",
];

/// The chat-wide rules for files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRules {
    /// Allowed extensions, lower case (a subset of [`KNOWN_TYPES`]).
    pub types: Vec<String>,
    /// Most bytes of all attachments of one chat.
    pub max_total_bytes: u64,
}

/// `[chat]`, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatConfig {
    pub card_numbers: CardPolicy,
    /// Longest message in characters (refused beyond, never cut).
    pub max_message_chars: usize,
    /// Queue DN -> the wrap-up codes its agents choose from after an interaction.
    pub wrap_up_codes: BTreeMap<String, Vec<String>>,
    pub transfer_fallback: TransferFallback,
    /// `[chat.attachments]`: the file types and the per-chat size budget.
    pub attachments: FileRules,
}

impl ChatConfig {
    /// The codes of queue `dn` (none configured: an empty list).
    pub fn codes_of(&self, dn: &str) -> &[String] {
        self.wrap_up_codes.get(dn).map_or(&[], Vec::as_slice)
    }
}

/// `[chat]` as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawChat {
    pub card_numbers: String,
    pub max_message_chars: u64,
    pub wrap_up_codes: BTreeMap<String, Vec<String>>,
    pub transfer_fallback: String,
    pub attachments: RawAttachments,
}

/// `[chat.attachments]` as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawAttachments {
    /// Allowed extensions (default: the seed list, [`KNOWN_TYPES`](KNOWN_TYPES)).
    pub types: Vec<String>,
    /// Most bytes of all files of one chat (default 35 MiB).
    pub max_total_bytes: u64,
}

impl Default for RawAttachments {
    fn default() -> Self {
        RawAttachments {
            types: KNOWN_TYPES.iter().map(|t| t.to_string()).collect(),
            max_total_bytes: 35 * 1024 * 1024,
        }
    }
}

impl Default for RawChat {
    fn default() -> Self {
        RawChat {
            card_numbers: "mask".into(),
            max_message_chars: 1000,
            wrap_up_codes: BTreeMap::new(),
            transfer_fallback: "agent".into(),
            attachments: RawAttachments::default(),
        }
    }
}

pub(super) fn chat(raw: &RawChat, p: &mut Problems) -> Option<ChatConfig> {
    let mut ok = true;
    let mut bad = |p: &mut Problems, key: String, message: String| {
        ok = false;
        p.add(key, message);
    };
    let card_numbers = match raw.card_numbers.as_str() {
        "mask" => CardPolicy::Mask,
        "drop" => CardPolicy::Drop,
        other => {
            bad(
                p,
                "chat.card_numbers".into(),
                format!("must be \"mask\" or \"drop\", not {other:?}"),
            );
            CardPolicy::Mask
        }
    };
    if !(1..=100_000).contains(&raw.max_message_chars) {
        bad(
            p,
            "chat.max_message_chars".into(),
            "must be 1..=100000".into(),
        );
    }
    for (dn, codes) in &raw.wrap_up_codes {
        if let Err(e) = acd::check_dn(dn) {
            bad(p, format!("chat.wrap_up_codes.{dn}"), e.into());
        }
        for (i, code) in codes.iter().enumerate() {
            if code.is_empty() {
                bad(
                    p,
                    format!("chat.wrap_up_codes.{dn}[{i}]"),
                    "must not be empty".into(),
                );
            } else if let Err(e) = acd::check_name(code) {
                bad(p, format!("chat.wrap_up_codes.{dn}[{i}]"), e.into());
            }
        }
    }
    let transfer_fallback = match raw.transfer_fallback.as_str() {
        "agent" => TransferFallback::Agent,
        "queue" => TransferFallback::Queue,
        other => {
            bad(
                p,
                "chat.transfer_fallback".into(),
                format!("must be \"agent\" or \"queue\", not {other:?}"),
            );
            TransferFallback::Agent
        }
    };
    let mut types = Vec::new();
    for (i, t) in raw.attachments.types.iter().enumerate() {
        let t = t.trim().trim_start_matches('.').to_ascii_lowercase();
        if !KNOWN_TYPES.contains(&t.as_str()) {
            bad(
                p,
                format!("chat.attachments.types[{i}]"),
                format!("must be one of {}", KNOWN_TYPES.join(", ")),
            );
        } else if !types.contains(&t) {
            types.push(t);
        }
    }
    if !(1..=1024 * 1024 * 1024).contains(&raw.attachments.max_total_bytes) {
        bad(
            p,
            "chat.attachments.max_total_bytes".into(),
            "must be 1..=1073741824".into(),
        );
    }
    ok.then(|| ChatConfig {
        card_numbers,
        max_message_chars: raw.max_message_chars as usize,
        wrap_up_codes: raw.wrap_up_codes.clone(),
        transfer_fallback,
        attachments: FileRules {
            types,
            max_total_bytes: raw.attachments.max_total_bytes,
        },
    })
}

/// Back to the file's form (`--print-config`).
pub(super) fn raw_chat(c: &ChatConfig) -> RawChat {
    RawChat {
        card_numbers: match c.card_numbers {
            CardPolicy::Mask => "mask".into(),
            CardPolicy::Drop => "drop".into(),
        },
        max_message_chars: c.max_message_chars as u64,
        wrap_up_codes: c.wrap_up_codes.clone(),
        transfer_fallback: match c.transfer_fallback {
            TransferFallback::Agent => "agent".into(),
            TransferFallback::Queue => "queue".into(),
        },
        attachments: RawAttachments {
            types: c.attachments.types.clone(),
            max_total_bytes: c.attachments.max_total_bytes,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachments_default_to_the_seed_list_and_35_mib_and_refuse_unknown_types() {
        let mut errors = Vec::new();
        let c = chat(&RawChat::default(), &mut Problems(&mut errors)).unwrap();
        assert_eq!(c.attachments.max_total_bytes, 36_700_160);
        assert!(c.attachments.types.iter().any(|t| t == "docx"));
        let mut raw = RawChat::default();
        raw.attachments.types = vec![".PDF".into(), "exe".into()];
        raw.attachments.max_total_bytes = 0;
        let mut errors = Vec::new();
        assert!(chat(&raw, &mut Problems(&mut errors)).is_none());
        let text = format!("{errors:?}");
        assert!(text.contains("chat.attachments.types[1]"), "{text}");
        assert!(text.contains("chat.attachments.max_total_bytes"), "{text}");
    }
}
