//! What the agent says about a record, and the campaign's retry rules that turn it into
//! the record's next status.
//!
//! - The DNC box closes the record as `do_not_call` whatever the result.
//! - `done` and `failed` results close the record.
//! - A `retry` result puts the record back in the list after its delay, unless the
//!   record has used the campaign's maximum attempts: then it is `failed`.
//! - A `callback` result needs a time (in the future, within a year); the callback is for
//!   the same agent when asked. Callbacks do not count against the maximum attempts: the
//!   contact asked for them.

use std::collections::HashSet;

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::campaign::{Campaign, ResultAction};

/// The call result of an attempt that start-up recovery closed: the switch stopped
/// (killed, crashed) during the call or its wrap-up, before the outcome was in. It is not
/// offered to agents unless the campaign lists it among its `call_results`; a campaign
/// that does decides what it does to the record, otherwise the record is called again at
/// once while attempts remain (see [`restart_status`] and [`crate::recovery`]).
pub const SWITCH_RESTARTED: &str = "switch_restarted";

/// Longest notes accepted, in characters.
pub const MAX_NOTES: usize = 4000;
/// Furthest a callback may be scheduled.
pub const MAX_CALLBACK_DAYS: i64 = 365;

/// The agent's wrap-up of a call: required before the next record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    pub call_result: String,
    /// The contact asked not to be called again.
    #[serde(default)]
    pub dnc: bool,
    #[serde(default)]
    pub dispositions: Vec<String>,
    #[serde(default)]
    pub notes: String,
    /// Required for a `callback` call result.
    #[serde(default)]
    pub callback: Option<Callback>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Callback {
    pub at: DateTime<Utc>,
    /// Keep the callback for the agent who set it.
    #[serde(default)]
    pub same_agent: bool,
}

/// An agent turning a previewed record down without calling: `{"decline":"call_later"}`
/// (optionally with `"retry_at"`) or `{"decline":"do_not_call"}`. Read through
/// [`DeclineBody`], so an unknown field is refused for either (serde ignores extra fields
/// of an internally tagged unit variant even with `deny_unknown_fields`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "decline", rename_all = "snake_case", try_from = "DeclineBody")]
pub enum Decline {
    /// Back to the list, callable again from `retry_at` (default: the campaign's
    /// call-later delay from now).
    CallLater {
        #[serde(default)]
        retry_at: Option<DateTime<Utc>>,
    },
    /// Close the record and put its numbers on the DNC list.
    DoNotCall,
}

/// The JSON form of a [`Decline`], every field known.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeclineBody {
    decline: DeclineKind,
    #[serde(default)]
    retry_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum DeclineKind {
    CallLater,
    DoNotCall,
}

impl TryFrom<DeclineBody> for Decline {
    type Error = &'static str;

    fn try_from(body: DeclineBody) -> Result<Decline, Self::Error> {
        match (body.decline, body.retry_at) {
            (DeclineKind::CallLater, retry_at) => Ok(Decline::CallLater { retry_at }),
            (DeclineKind::DoNotCall, None) => Ok(Decline::DoNotCall),
            (DeclineKind::DoNotCall, Some(_)) => Err("retry_at is only for call_later"),
        }
    }
}

/// The status a record takes when its holder lets it go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum NextStatus {
    Ready {
        at: DateTime<Utc>,
    },
    Done,
    Callback {
        at: DateTime<Utc>,
        agent: Option<String>,
    },
    DoNotCall,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OutcomeError {
    #[error("unknown call result \"{0}\"")]
    UnknownResult(String),
    #[error("unknown disposition code \"{0}\"")]
    UnknownDisposition(String),
    #[error("disposition code \"{0}\" given twice")]
    RepeatedDisposition(String),
    #[error("at least one disposition code is required")]
    DispositionRequired,
    #[error("notes are longer than {MAX_NOTES} characters")]
    NotesTooLong,
    #[error("call result \"{0}\" needs a callback time")]
    CallbackRequired(String),
    #[error("a callback time was given but call result \"{0}\" is not a callback")]
    CallbackNotExpected(String),
    #[error("callback time must be in the future and within {MAX_CALLBACK_DAYS} days")]
    CallbackOutOfRange,
    #[error("call-later time must be in the future and within {MAX_CALLBACK_DAYS} days")]
    RetryOutOfRange,
}

/// Applies the campaign's rules: validates `outcome` and returns the record's next status.
/// `attempts` counts the call just made.
pub fn next_status(
    campaign: &Campaign,
    attempts: u32,
    agent: &str,
    outcome: &Outcome,
    now: DateTime<Utc>,
) -> Result<NextStatus, OutcomeError> {
    let result = campaign
        .call_result(&outcome.call_result)
        .ok_or_else(|| OutcomeError::UnknownResult(outcome.call_result.clone()))?;
    let mut seen = HashSet::new();
    for code in &outcome.dispositions {
        if !campaign.spec.dispositions.iter().any(|d| &d.code == code) {
            return Err(OutcomeError::UnknownDisposition(code.clone()));
        }
        if !seen.insert(code) {
            return Err(OutcomeError::RepeatedDisposition(code.clone()));
        }
    }
    if !campaign.spec.dispositions.is_empty() && outcome.dispositions.is_empty() {
        return Err(OutcomeError::DispositionRequired);
    }
    if outcome.notes.chars().count() > MAX_NOTES {
        return Err(OutcomeError::NotesTooLong);
    }
    let callback = match (result.action, &outcome.callback) {
        (ResultAction::Callback, None) => {
            return Err(OutcomeError::CallbackRequired(result.code.clone()))
        }
        (ResultAction::Callback, Some(cb)) => {
            if cb.at <= now || cb.at > now + Duration::days(MAX_CALLBACK_DAYS) {
                return Err(OutcomeError::CallbackOutOfRange);
            }
            Some(cb)
        }
        (_, Some(_)) => return Err(OutcomeError::CallbackNotExpected(result.code.clone())),
        (_, None) => None,
    };
    if outcome.dnc {
        return Ok(NextStatus::DoNotCall);
    }
    Ok(match result.action {
        ResultAction::Done => NextStatus::Done,
        ResultAction::Failed => NextStatus::Failed,
        ResultAction::Retry { after_minutes } => {
            if attempts >= campaign.spec.max_attempts {
                NextStatus::Failed
            } else {
                NextStatus::Ready {
                    at: now + Duration::minutes(i64::from(after_minutes)),
                }
            }
        }
        ResultAction::Callback => match callback {
            Some(cb) => NextStatus::Callback {
                at: cb.at,
                agent: cb.same_agent.then(|| agent.to_string()),
            },
            None => return Err(OutcomeError::CallbackRequired(result.code.clone())),
        },
    })
}

/// The status the campaign's rules give a record whose call a restart interrupted
/// before the outcome: the campaign's own `switch_restarted` result when it has one,
/// else "retry at once" (the contact did nothing wrong), both subject to the maximum
/// attempts. `attempts` counts the interrupted call.
pub fn restart_status(campaign: &Campaign, attempts: u32, now: DateTime<Utc>) -> NextStatus {
    let action = campaign
        .call_result(SWITCH_RESTARTED)
        .map_or(ResultAction::Retry { after_minutes: 0 }, |r| r.action);
    match action {
        ResultAction::Done => NextStatus::Done,
        ResultAction::Failed => NextStatus::Failed,
        // A callback needs a time nobody gave: call again, like a retry.
        ResultAction::Callback if attempts >= campaign.spec.max_attempts => NextStatus::Failed,
        ResultAction::Callback => NextStatus::Ready { at: now },
        ResultAction::Retry { .. } if attempts >= campaign.spec.max_attempts => NextStatus::Failed,
        ResultAction::Retry { after_minutes } => NextStatus::Ready {
            at: now + Duration::minutes(i64::from(after_minutes)),
        },
    }
}

/// The status after a decline.
pub fn decline_status(
    campaign: &Campaign,
    decline: &Decline,
    now: DateTime<Utc>,
) -> Result<NextStatus, OutcomeError> {
    match decline {
        Decline::DoNotCall => Ok(NextStatus::DoNotCall),
        Decline::CallLater { retry_at: Some(at) } => {
            if *at <= now || *at > now + Duration::days(MAX_CALLBACK_DAYS) {
                return Err(OutcomeError::RetryOutOfRange);
            }
            Ok(NextStatus::Ready { at: *at })
        }
        Decline::CallLater { retry_at: None } => Ok(NextStatus::Ready {
            at: now + Duration::minutes(i64::from(campaign.spec.call_later_minutes)),
        }),
    }
}

/// The call result a failed call suggests to the agent, when the campaign has it:
/// busy (486, 600), no answer (408, 480, 487), wrong number (404, 484, 604).
pub fn suggested_result(campaign: &Campaign, sip_status: u16, connected: bool) -> Option<String> {
    if connected {
        return None;
    }
    let code = match sip_status {
        486 | 600 => "busy",
        408 | 480 | 487 => "no_answer",
        404 | 484 | 604 => "wrong_number",
        _ => return None,
    };
    campaign.call_result(code).map(|r| r.code.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::{CampaignId, CampaignSpec, CampaignStatus, Disposition};

    fn campaign() -> Campaign {
        let mut spec: CampaignSpec =
            serde_json::from_str(r#"{"name":"C","queue":"8100","max_attempts":2}"#).unwrap();
        spec.dispositions = vec![
            Disposition {
                code: "sale".into(),
                label: String::new(),
            },
            Disposition {
                code: "no_interest".into(),
                label: String::new(),
            },
        ];
        let t = now();
        Campaign {
            id: CampaignId(1),
            status: CampaignStatus::Running,
            spec,
            created_at: t,
            updated_at: t,
        }
    }

    fn now() -> DateTime<Utc> {
        "2024-01-10T12:00:00Z".parse().unwrap()
    }

    fn outcome(result: &str) -> Outcome {
        Outcome {
            call_result: result.into(),
            dnc: false,
            dispositions: vec!["no_interest".into()],
            notes: String::new(),
            callback: None,
        }
    }

    #[test]
    fn retry_until_max_attempts() {
        let c = campaign();
        let next = next_status(&c, 1, "a", &outcome("busy"), now()).unwrap();
        assert_eq!(
            next,
            NextStatus::Ready {
                at: now() + Duration::minutes(30)
            }
        );
        let next = next_status(&c, 2, "a", &outcome("busy"), now()).unwrap();
        assert_eq!(next, NextStatus::Failed);
    }

    #[test]
    fn final_results_and_dnc() {
        let c = campaign();
        assert_eq!(
            next_status(&c, 1, "a", &outcome("success"), now()),
            Ok(NextStatus::Done)
        );
        assert_eq!(
            next_status(&c, 1, "a", &outcome("wrong_number"), now()),
            Ok(NextStatus::Failed)
        );
        let mut o = outcome("busy");
        o.dnc = true;
        assert_eq!(
            next_status(&c, 1, "a", &o, now()),
            Ok(NextStatus::DoNotCall)
        );
    }

    #[test]
    fn callbacks() {
        let c = campaign();
        let at = now() + Duration::hours(3);
        let mut o = outcome("callback");
        assert_eq!(
            next_status(&c, 2, "a", &o, now()),
            Err(OutcomeError::CallbackRequired("callback".into()))
        );
        o.callback = Some(Callback {
            at,
            same_agent: true,
        });
        assert_eq!(
            next_status(&c, 2, "alice", &o, now()),
            Ok(NextStatus::Callback {
                at,
                agent: Some("alice".into())
            })
        );
        o.callback = Some(Callback {
            at,
            same_agent: false,
        });
        assert_eq!(
            next_status(&c, 1, "alice", &o, now()),
            Ok(NextStatus::Callback { at, agent: None })
        );
        o.callback = Some(Callback {
            at: now(),
            same_agent: false,
        });
        assert_eq!(
            next_status(&c, 1, "a", &o, now()),
            Err(OutcomeError::CallbackOutOfRange)
        );
        let mut o = outcome("busy");
        o.callback = Some(Callback {
            at,
            same_agent: false,
        });
        assert!(matches!(
            next_status(&c, 1, "a", &o, now()),
            Err(OutcomeError::CallbackNotExpected(_))
        ));
    }

    #[test]
    fn validation() {
        let c = campaign();
        assert!(matches!(
            next_status(&c, 1, "a", &outcome("nope"), now()),
            Err(OutcomeError::UnknownResult(_))
        ));
        let mut o = outcome("success");
        o.dispositions.clear();
        assert_eq!(
            next_status(&c, 1, "a", &o, now()),
            Err(OutcomeError::DispositionRequired)
        );
        o.dispositions = vec!["sale".into(), "sale".into()];
        assert!(matches!(
            next_status(&c, 1, "a", &o, now()),
            Err(OutcomeError::RepeatedDisposition(_))
        ));
        o.dispositions = vec!["sale".into(), "gift".into()];
        assert!(matches!(
            next_status(&c, 1, "a", &o, now()),
            Err(OutcomeError::UnknownDisposition(_))
        ));
        o.dispositions = vec!["sale".into(), "no_interest".into()];
        o.notes = "x".repeat(MAX_NOTES + 1);
        assert_eq!(
            next_status(&c, 1, "a", &o, now()),
            Err(OutcomeError::NotesTooLong)
        );
    }

    #[test]
    fn declines_and_suggestions() {
        let c = campaign();
        assert_eq!(
            decline_status(&c, &Decline::CallLater { retry_at: None }, now()),
            Ok(NextStatus::Ready {
                at: now() + Duration::minutes(60)
            })
        );
        assert_eq!(
            decline_status(
                &c,
                &Decline::CallLater {
                    retry_at: Some(now())
                },
                now()
            ),
            Err(OutcomeError::RetryOutOfRange)
        );
        assert_eq!(
            decline_status(&c, &Decline::DoNotCall, now()),
            Ok(NextStatus::DoNotCall)
        );
        assert_eq!(suggested_result(&c, 486, false).as_deref(), Some("busy"));
        assert_eq!(
            suggested_result(&c, 480, false).as_deref(),
            Some("no_answer")
        );
        assert_eq!(suggested_result(&c, 200, true), None);
        assert_eq!(suggested_result(&c, 503, false), None);
        let d: Decline = serde_json::from_str(r#"{"decline":"do_not_call"}"#).unwrap();
        assert_eq!(d, Decline::DoNotCall);
        assert_eq!(
            serde_json::to_string(&d).unwrap(),
            r#"{"decline":"do_not_call"}"#
        );
        let d: Decline = serde_json::from_str(r#"{"decline":"call_later"}"#).unwrap();
        assert_eq!(d, Decline::CallLater { retry_at: None });
        for bad in [
            r#"{"decline":"do_not_call","x":1}"#,
            r#"{"decline":"call_later","retry":"2030-01-01T00:00:00Z"}"#,
            r#"{"decline":"do_not_call","retry_at":"2030-01-01T00:00:00Z"}"#,
            r#"{"decline":"later"}"#,
        ] {
            assert!(serde_json::from_str::<Decline>(bad).is_err(), "{bad}");
        }
    }
}
