//! What the switch records durably, as plain data every module may use (a leaf: it imports
//! nothing of the crate). The store writes them; the call engine and the distributor make
//! them.

use serde::{Deserialize, Serialize};

/// Why a call ended, written to its CDR as a stable string ([`Cause::as_str`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cause {
    /// A conversation (or a feature call) ended by a BYE.
    Normal,
    Busy,
    NoAnswer,
    /// The caller gave up before an answer.
    Cancelled,
    NotFound,
    Unavailable,
    Declined,
    /// A queue caller hung up before an agent answered.
    Abandoned,
    /// No RTP for `media.no_media_timeout_secs`.
    NoMedia,
    /// The caller's session refresh did not come (RFC 4028).
    SessionTimeout,
    /// The switch was shutting down.
    Shutdown,
    Failed,
    /// This leg pair ended because the customer was handed on (blind, attended or to a
    /// queue); the session's next CDR carries on.
    Transferred,
}

impl Cause {
    pub const ALL: [Cause; 13] = [
        Cause::Normal,
        Cause::Busy,
        Cause::NoAnswer,
        Cause::Cancelled,
        Cause::NotFound,
        Cause::Unavailable,
        Cause::Declined,
        Cause::Abandoned,
        Cause::NoMedia,
        Cause::SessionTimeout,
        Cause::Shutdown,
        Cause::Failed,
        Cause::Transferred,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Cause::Normal => "normal",
            Cause::Busy => "busy",
            Cause::NoAnswer => "no_answer",
            Cause::Cancelled => "cancelled",
            Cause::NotFound => "not_found",
            Cause::Unavailable => "unavailable",
            Cause::Declined => "declined",
            Cause::Abandoned => "abandoned",
            Cause::NoMedia => "no_media",
            Cause::SessionTimeout => "session_timeout",
            Cause::Shutdown => "shutdown",
            Cause::Failed => "failed",
            Cause::Transferred => "transferred",
        }
    }

    /// The cause a final failure status stands for.
    pub fn of_status(code: u16) -> Cause {
        match code {
            486 | 600 => Cause::Busy,
            404 | 604 => Cause::NotFound,
            480 => Cause::Unavailable,
            408 => Cause::NoAnswer,
            487 => Cause::Cancelled,
            603 => Cause::Declined,
            _ => Cause::Failed,
        }
    }

    /// Read back from a stored CDR; an unknown string (a newer writer) reads as `Failed`.
    pub fn parse(s: &str) -> Cause {
        Cause::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .unwrap_or(Cause::Failed)
    }
}

impl std::fmt::Display for Cause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who ended a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HangupSide {
    Caller,
    Callee,
    Switch,
}

impl HangupSide {
    pub fn as_str(self) -> &'static str {
        match self {
            HangupSide::Caller => "caller",
            HangupSide::Callee => "callee",
            HangupSide::Switch => "switch",
        }
    }

    pub fn parse(s: &str) -> HangupSide {
        match s {
            "caller" => HangupSide::Caller,
            "callee" => HangupSide::Callee,
            _ => HangupSide::Switch,
        }
    }
}

impl std::fmt::Display for HangupSide {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A durable record of what the ACD did, for the store.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AcdRecord {
    State(acd::StateChange),
    Interaction {
        id: u64,
        queue: String,
        event: &'static str,
        agent: Option<String>,
        at_ms: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_round_trip_as_stable_strings() {
        for c in Cause::ALL {
            assert_eq!(Cause::parse(c.as_str()), c);
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        assert_eq!(Cause::of_status(486), Cause::Busy);
        assert_eq!(Cause::parse("???"), Cause::Failed);
    }
}
