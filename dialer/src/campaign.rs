//! Campaigns: what a campaign manager configures, and the campaign's life cycle.
//!
//! A campaign is created `stopped`; `load` makes it visible to its agents (they are told),
//! `start` hands records out, `pause` stops handing them out for a while, `stop` ends
//! the run (it can be loaded again). The dialer marks a running campaign `completed`
//! when no record is left to call.

use std::collections::HashSet;
use std::fmt;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::phone::CountryCode;
use crate::window::CallingWindow;

/// Longest countdown before an automatic dial.
pub const MAX_COUNTDOWN_SECS: u32 = 3600;
/// Longest retry or call-later delay: a year.
pub const MAX_DELAY_MINUTES: u32 = 525_600;
/// Most attempts a campaign may allow per record.
pub const MAX_ATTEMPTS: u32 = 100;

/// A campaign's id, assigned by the store.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct CampaignId(pub i64);

impl fmt::Display for CampaignId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignStatus {
    Stopped,
    Loaded,
    Running,
    Paused,
    Completed,
}

impl CampaignStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CampaignStatus::Stopped => "stopped",
            CampaignStatus::Loaded => "loaded",
            CampaignStatus::Running => "running",
            CampaignStatus::Paused => "paused",
            CampaignStatus::Completed => "completed",
        }
    }

    pub fn parse(raw: &str) -> Option<CampaignStatus> {
        [
            CampaignStatus::Stopped,
            CampaignStatus::Loaded,
            CampaignStatus::Running,
            CampaignStatus::Paused,
            CampaignStatus::Completed,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }

    /// The status after a manager's command, or why the command does not apply.
    /// Repeating the command that led to the current status is allowed (idempotent).
    pub fn apply(self, command: CampaignCommand) -> Result<CampaignStatus, CampaignError> {
        use CampaignCommand as C;
        use CampaignStatus as S;
        let next = match (command, self) {
            (C::Load, S::Stopped | S::Completed | S::Loaded) => S::Loaded,
            (C::Start, S::Loaded | S::Paused | S::Running) => S::Running,
            (C::Pause, S::Running | S::Paused) => S::Paused,
            (C::Stop, S::Loaded | S::Running | S::Paused | S::Stopped | S::Completed) => S::Stopped,
            (command, from) => return Err(CampaignError::Transition { from, command }),
        };
        Ok(next)
    }
}

impl fmt::Display for CampaignStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a manager asks of a campaign's life cycle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CampaignCommand {
    Load,
    Start,
    Pause,
    Stop,
}

impl fmt::Display for CampaignCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CampaignCommand::Load => "load",
            CampaignCommand::Start => "start",
            CampaignCommand::Pause => "pause",
            CampaignCommand::Stop => "stop",
        })
    }
}

/// How a previewed record turns into a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum PreviewMode {
    /// Nothing dials until the agent clicks call. (Struct variants, so
    /// `deny_unknown_fields` holds: serde skips it for unit variants of an internally
    /// tagged enum.)
    Manual {},
    /// Accepting the record dials its first callable number (a pulled record is accepted
    /// by pulling it; a pushed one by the accept action).
    DialOnAccept {},
    /// The first callable number is dialled `seconds` after the record reaches the
    /// agent, unless the agent calls or declines first.
    Countdown { seconds: u32 },
}

/// A field shown to the agent: `key` is a custom field of the record or one of `name`,
/// `external_id`, `time_zone`, `attempts`, `last_result`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    pub key: String,
    #[serde(default)]
    pub label: String,
}

/// What a call result does to its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum ResultAction {
    /// The record is finished.
    Done,
    /// Call again after the delay, while attempts remain; then `failed`.
    Retry { after_minutes: u32 },
    /// The contact asked to be called back: the outcome carries the time.
    Callback,
    /// The record cannot be completed (wrong number, fax...).
    Failed,
}

/// A call result an agent can choose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallResultDef {
    pub code: String,
    #[serde(default)]
    pub label: String,
    #[serde(flatten)]
    pub action: ResultAction,
}

/// A disposition code (the business outcome: sale, not interested...).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Disposition {
    pub code: String,
    #[serde(default)]
    pub label: String,
}

/// Which list a do-not-call request of this campaign's contacts goes into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DncScope {
    #[default]
    Global,
    Campaign,
}

/// The JSON keys of a [`CampaignSpec`] (the API refuses others, to catch typos).
pub const SPEC_FIELDS: [&str; 14] = [
    "name",
    "description",
    "queue",
    "preview",
    "case_fields",
    "record_fields",
    "call_results",
    "dispositions",
    "window",
    "time_zone",
    "default_country_code",
    "max_attempts",
    "call_later_minutes",
    "dnc_scope",
];

/// Everything a manager sets on a campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CampaignSpec {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// The agent group: the ACD queue (DN) whose agents work this campaign.
    pub queue: String,
    #[serde(default = "default_preview")]
    pub preview: PreviewMode,
    /// Case information shown to the agent.
    #[serde(default)]
    pub case_fields: Vec<FieldSpec>,
    /// Record information shown to the agent.
    #[serde(default)]
    pub record_fields: Vec<FieldSpec>,
    #[serde(default = "default_call_results")]
    pub call_results: Vec<CallResultDef>,
    #[serde(default)]
    pub dispositions: Vec<Disposition>,
    #[serde(default)]
    pub window: CallingWindow,
    /// Zone of records that do not name their own.
    #[serde(default = "default_time_zone")]
    pub time_zone: Tz,
    /// Country code for national numbers in imports and agent input.
    #[serde(default)]
    pub default_country_code: Option<CountryCode>,
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// Delay of "call later" when the agent gives no time.
    #[serde(default = "default_call_later")]
    pub call_later_minutes: u32,
    #[serde(default)]
    pub dnc_scope: DncScope,
}

fn default_preview() -> PreviewMode {
    PreviewMode::Manual {}
}
fn default_time_zone() -> Tz {
    Tz::UTC
}
fn default_max_attempts() -> u32 {
    3
}
fn default_call_later() -> u32 {
    60
}

/// Results a campaign gets when its spec lists none.
pub fn default_call_results() -> Vec<CallResultDef> {
    let def = |code: &str, label: &str, action| CallResultDef {
        code: code.into(),
        label: label.into(),
        action,
    };
    vec![
        def("success", "Success", ResultAction::Done),
        def("refused", "Refused", ResultAction::Done),
        def("busy", "Busy", ResultAction::Retry { after_minutes: 30 }),
        def(
            "no_answer",
            "No answer",
            ResultAction::Retry { after_minutes: 60 },
        ),
        def(
            "answering_machine",
            "Answering machine",
            ResultAction::Retry { after_minutes: 120 },
        ),
        def("callback", "Call back", ResultAction::Callback),
        def("wrong_number", "Wrong number", ResultAction::Failed),
        def("fax", "Fax", ResultAction::Failed),
    ]
}

/// A stored campaign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Campaign {
    pub id: CampaignId,
    pub status: CampaignStatus,
    #[serde(flatten)]
    pub spec: CampaignSpec,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Campaign {
    pub fn call_result(&self, code: &str) -> Option<&CallResultDef> {
        self.spec.call_results.iter().find(|r| r.code == code)
    }
}

/// A change to some of a campaign's settings (absent fields are kept).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CampaignPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub queue: Option<String>,
    pub preview: Option<PreviewMode>,
    pub case_fields: Option<Vec<FieldSpec>>,
    pub record_fields: Option<Vec<FieldSpec>>,
    pub call_results: Option<Vec<CallResultDef>>,
    pub dispositions: Option<Vec<Disposition>>,
    pub window: Option<CallingWindow>,
    pub time_zone: Option<Tz>,
    pub default_country_code: Option<CountryCode>,
    pub max_attempts: Option<u32>,
    pub call_later_minutes: Option<u32>,
    pub dnc_scope: Option<DncScope>,
}

impl CampaignPatch {
    /// `spec` with this patch applied (not yet validated).
    pub fn apply(self, mut spec: CampaignSpec) -> CampaignSpec {
        macro_rules! set {
            ($($field:ident),*) => {$( if let Some(v) = self.$field { spec.$field = v; } )*};
        }
        set!(
            name,
            description,
            queue,
            preview,
            case_fields,
            record_fields,
            call_results,
            dispositions,
            window,
            time_zone,
            max_attempts,
            call_later_minutes,
            dnc_scope
        );
        if self.default_country_code.is_some() {
            spec.default_country_code = self.default_country_code;
        }
        spec
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CampaignError {
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("cannot {command} a campaign that is {from}")]
    Transition {
        from: CampaignStatus,
        command: CampaignCommand,
    },
}

fn invalid(field: &'static str, reason: impl Into<String>) -> CampaignError {
    CampaignError::Invalid {
        field,
        reason: reason.into(),
    }
}

/// Codes are identifiers: 1 to 64 of `a-z`, `0-9`, `_`, `-`.
fn valid_code(code: &str) -> bool {
    (1..=64).contains(&code.len())
        && code
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

fn unique_codes<'a>(
    field: &'static str,
    codes: impl Iterator<Item = &'a str>,
) -> Result<(), CampaignError> {
    let mut seen = HashSet::new();
    for code in codes {
        if !valid_code(code) {
            return Err(invalid(
                field,
                format!("\"{code}\" is not a code (1-64 of a-z 0-9 _ -)"),
            ));
        }
        if !seen.insert(code) {
            return Err(invalid(field, format!("\"{code}\" appears twice")));
        }
    }
    Ok(())
}

impl CampaignSpec {
    /// Checks every rule a campaign must meet before it is stored.
    pub fn validate(&self) -> Result<(), CampaignError> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(invalid("name", "must have 1 to 200 characters"));
        }
        if self.description.chars().count() > 4000 {
            return Err(invalid("description", "must have at most 4000 characters"));
        }
        if self.queue.trim().is_empty() {
            return Err(invalid("queue", "must name the agents' ACD queue"));
        }
        if let PreviewMode::Countdown { seconds } = self.preview {
            if !(1..=MAX_COUNTDOWN_SECS).contains(&seconds) {
                return Err(invalid(
                    "preview",
                    format!("countdown must be 1 to {MAX_COUNTDOWN_SECS} seconds"),
                ));
            }
        }
        for (field, list) in [
            ("case_fields", &self.case_fields),
            ("record_fields", &self.record_fields),
        ] {
            let mut seen = HashSet::new();
            for f in list {
                if f.key.trim().is_empty() || !seen.insert(f.key.as_str()) {
                    return Err(invalid(
                        field,
                        format!("key \"{}\" empty or repeated", f.key),
                    ));
                }
            }
        }
        if self.call_results.is_empty() {
            return Err(invalid(
                "call_results",
                "at least one call result is needed",
            ));
        }
        unique_codes(
            "call_results",
            self.call_results.iter().map(|r| r.code.as_str()),
        )?;
        for r in &self.call_results {
            if let ResultAction::Retry { after_minutes } = r.action {
                if !(1..=MAX_DELAY_MINUTES).contains(&after_minutes) {
                    return Err(invalid(
                        "call_results",
                        format!("{}: retry after 1 to {MAX_DELAY_MINUTES} minutes", r.code),
                    ));
                }
            }
        }
        unique_codes(
            "dispositions",
            self.dispositions.iter().map(|d| d.code.as_str()),
        )?;
        self.window
            .validate()
            .map_err(|e| invalid("window", e.to_string()))?;
        if !(1..=MAX_ATTEMPTS).contains(&self.max_attempts) {
            return Err(invalid(
                "max_attempts",
                format!("must be 1 to {MAX_ATTEMPTS}"),
            ));
        }
        if !(1..=MAX_DELAY_MINUTES).contains(&self.call_later_minutes) {
            return Err(invalid(
                "call_later_minutes",
                format!("must be 1 to {MAX_DELAY_MINUTES}"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
