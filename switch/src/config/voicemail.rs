//! `[voicemail]`: when calls to a user go to their mailbox, how long a message may be, and
//! the PINs that open mailboxes from a phone (`*97`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::validate::Problems;

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct VoicemailConfig {
    /// Calls to a user that is unregistered, busy or does not answer go to their mailbox
    /// (off unless set; on in the demo).
    pub enabled: bool,
    /// How long a user's phones ring before the call goes to voicemail (5-300 s).
    pub ring_secs: u64,
    /// The longest message (10-600 s).
    pub max_secs: u64,
    /// A message ends after this much silence (1-60 s).
    pub silence_secs: u64,
    /// The feature code that opens the caller's own mailbox.
    pub code: String,
    /// A transfer target of this prefix and a user (`*981002`) goes to that user's
    /// mailbox.
    pub transfer_prefix: String,
    /// Mailbox PINs (4-12 digits) by user; a user without one uses their own number
    /// (demo only: set real PINs).
    pub pins: BTreeMap<String, String>,
}

impl Default for VoicemailConfig {
    fn default() -> Self {
        VoicemailConfig {
            enabled: false,
            ring_secs: 20,
            max_secs: 120,
            silence_secs: 5,
            code: "*97".to_string(),
            transfer_prefix: "*98".to_string(),
            pins: BTreeMap::new(),
        }
    }
}

impl VoicemailConfig {
    /// The PIN of `user`'s mailbox.
    pub fn pin(&self, user: &str) -> String {
        self.pins
            .get(user)
            .cloned()
            .unwrap_or_else(|| user.to_string())
    }
}

pub(super) fn check(v: &VoicemailConfig, p: &mut Problems) {
    if !(5..=300).contains(&v.ring_secs) {
        p.add("voicemail.ring_secs", "must be 5..=300");
    }
    if !(10..=600).contains(&v.max_secs) {
        p.add("voicemail.max_secs", "must be 10..=600");
    }
    if !(1..=60).contains(&v.silence_secs) {
        p.add("voicemail.silence_secs", "must be 1..=60");
    }
    for (key, code) in [("code", &v.code), ("transfer_prefix", &v.transfer_prefix)] {
        let dialable = code
            .chars()
            .all(|c| c.is_ascii_digit() || c == '*' || c == '#');
        if code.is_empty() || !dialable {
            p.add(format!("voicemail.{key}"), "must be digits, * and #");
        }
    }
    for (user, pin) in &v.pins {
        if !(4..=12).contains(&pin.len()) || !pin.chars().all(|c| c.is_ascii_digit()) {
            p.add(format!("voicemail.pins.{user}"), "must be 4 to 12 digits");
        }
    }
}
