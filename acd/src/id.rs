//! Names the switch and the engine share: agent ids, DNs, interaction ids and channels.
//!
//! Agent ids and DNs are cheap to clone (`Arc<str>`) because every action the engine emits
//! carries them; the routing hot path must not allocate a string per offer.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::borrow::Borrow;
use std::fmt;
use std::sync::Arc;

macro_rules! shared_str {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Arc<str>);

        impl $name {
            pub fn new(s: impl AsRef<str>) -> Self {
                $name(Arc::from(s.as_ref()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&*self.0, f)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                $name::new(s)
            }
        }

        impl From<String> for $name {
            fn from(s: String) -> Self {
                $name(Arc::from(s))
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                String::deserialize(d).map($name::from)
            }
        }
    };
}

shared_str!(
    /// An agent's login id (unique in the engine).
    AgentId
);
shared_str!(
    /// A dialled number. Queues are known by their DN; overflow targets are DNs the switch's
    /// dialplan resolves (another queue, voicemail, a user).
    Dn
);

/// Longest agent id, extension or DN, in bytes.
pub const MAX_ID_LEN: usize = 64;
/// Longest name (of an agent, a queue, a skill), in characters.
pub const MAX_NAME_LEN: usize = 128;

/// Checks an agent id or extension: 1 to 64 of ASCII letters, digits and `. _ + -`. Ids
/// end up in SIP user parts, URLs, logs and desktops' HTML, so they keep to characters
/// that need escaping nowhere; the switch's user ids follow the same rule, so an agent's
/// id can be its extension.
pub fn check_agent_id(id: &str) -> Result<(), &'static str> {
    check_chars(id, "._+-", "must be 1-64 of letters, digits and . _ + -")
}

/// Checks a DN: 1 to 64 of ASCII letters, digits and `. _ + - * #` (what a phone dials).
pub fn check_dn(dn: &str) -> Result<(), &'static str> {
    check_chars(
        dn,
        "._+-*#",
        "must be 1-64 of letters, digits and . _ + - * #",
    )
}

fn check_chars(s: &str, also: &str, rule: &'static str) -> Result<(), &'static str> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || also.contains(c);
    if s.is_empty() || s.len() > MAX_ID_LEN || !s.chars().all(allowed) {
        return Err(rule);
    }
    Ok(())
}

/// Checks a name: at most 128 characters, none of them a control character (NUL, line
/// breaks, escapes).
pub fn check_name(name: &str) -> Result<(), &'static str> {
    if name.chars().count() > MAX_NAME_LEN {
        return Err("must be at most 128 characters");
    }
    if name.chars().any(char::is_control) {
        return Err("must not contain control characters");
    }
    Ok(())
}

/// An interaction's id, allocated by the switch (one per call, chat, e-mail, record).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct InteractionId(pub u64);

impl fmt::Display for InteractionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// The medium of an interaction. Capacity is counted per channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Voice,
    Chat,
    Email,
    Im,
    Preview,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Channel::Voice,
        Channel::Chat,
        Channel::Email,
        Channel::Im,
        Channel::Preview,
    ];

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    pub(crate) fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// A set of channels as a bit mask (internal).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ChannelMask(pub u8);

impl ChannelMask {
    pub fn single(c: Channel) -> Self {
        ChannelMask(c.bit())
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Channel> {
        let mut bits = self.0;
        std::iter::from_fn(move || {
            let i = bits.trailing_zeros() as usize;
            bits &= bits.wrapping_sub(1);
            Channel::ALL.get(i).copied()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_keep_to_their_character_set() {
        for ok in ["1001", "alice", "a.b_c+d-e", &"x".repeat(64)] {
            assert_eq!(check_agent_id(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "<img src=x onerror=alert(1)>",
            "a b",
            "a/b",
            "a\0b",
            "é",
            "*21",
            &"x".repeat(65),
        ] {
            assert!(check_agent_id(bad).is_err(), "{bad:?}");
        }
        assert_eq!(check_dn("*21"), Ok(()));
        assert_eq!(check_dn("8000#"), Ok(()));
        assert!(check_dn("80 00").is_err());
        assert!(check_dn("").is_err());
    }

    #[test]
    fn names_are_printable_and_short() {
        assert_eq!(check_name(""), Ok(()));
        assert_eq!(check_name("Zoë O'Brien <sales>"), Ok(()));
        assert_eq!(check_name(&"é".repeat(128)), Ok(()));
        assert!(check_name(&"é".repeat(129)).is_err());
        for bad in ["a\0b", "a\nb", "a\u{1b}[31m", "a\u{7f}"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
