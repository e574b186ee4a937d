//! `[im]`: agent-to-agent instant messages. `invite_timeout_secs` (default 30) is how
//! long an invitation waits for the invited agent before it times out (the sender is
//! told). Texts follow the chat's rules (`chat.max_message_chars`, `chat.card_numbers`).

use super::validate::Problems;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImConfig {
    pub invite_timeout_secs: u64,
}

impl Default for ImConfig {
    fn default() -> Self {
        ImConfig {
            invite_timeout_secs: 30,
        }
    }
}

/// `[im]` as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(super) struct RawIm {
    pub invite_timeout_secs: u64,
}

impl Default for RawIm {
    fn default() -> Self {
        RawIm {
            invite_timeout_secs: ImConfig::default().invite_timeout_secs,
        }
    }
}

pub(super) fn im(raw: &RawIm, p: &mut Problems) -> Option<ImConfig> {
    if !(1..=3600).contains(&raw.invite_timeout_secs) {
        p.add("im.invite_timeout_secs", "must be 1..=3600");
        return None;
    }
    Some(ImConfig {
        invite_timeout_secs: raw.invite_timeout_secs,
    })
}

/// Back to the file's form (`--print-config`).
pub(super) fn raw_im(c: &ImConfig) -> RawIm {
    RawIm {
        invite_timeout_secs: c.invite_timeout_secs,
    }
}
