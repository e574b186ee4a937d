//! The preview flow driven with a fake clock and a fake store.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::campaign::{CampaignSpec, CampaignStatus, Disposition, PreviewMode};
use crate::outcome::{Callback, Decline, Outcome};
use crate::phone::{Phone, PhoneType, E164};
use crate::record::{AttemptId, Record, RecordId, RecordStatus};

const AGENT: &str = "alice";
const QUEUE: &str = "8100";

struct Flow {
    p: Preview,
    now: DateTime<Utc>,
    next_attempt: i64,
}

fn t0() -> DateTime<Utc> {
    // A Wednesday, 12:00 UTC: inside 09:00-21:00 in London.
    "2024-01-10T12:00:00Z".parse().unwrap()
}

fn campaign(mode: PreviewMode, status: CampaignStatus) -> Campaign {
    let mut spec: CampaignSpec = serde_json::from_str(
        r#"{"name":"Renewals","queue":"8100","time_zone":"Europe/London","max_attempts":2}"#,
    )
    .unwrap();
    spec.preview = mode;
    spec.dispositions = vec![Disposition {
        code: "sale".into(),
        label: "Sale".into(),
    }];
    Campaign {
        id: CampaignId(7),
        status,
        spec,
        created_at: t0(),
        updated_at: t0(),
    }
}

fn number(n: &str) -> E164 {
    E164::parse(n, None).unwrap()
}

fn lease(id: i64, now: DateTime<Utc>) -> Lease {
    Lease {
        record: Record {
            id: RecordId(id),
            campaign: CampaignId(7),
            external_id: format!("ext-{id}"),
            name: "Ada Lovelace".into(),
            time_zone: None,
            phones: vec![
                Phone {
                    number: number("+442079460001"),
                    kind: PhoneType::Home,
                },
                Phone {
                    number: number("+447700900002"),
                    kind: PhoneType::Mobile,
                },
            ],
            fields: BTreeMap::from([("balance".to_string(), "12.50".to_string())]),
            status: RecordStatus::Leased {
                agent: AGENT.into(),
                until: now + Duration::minutes(10),
            },
            attempts: 0,
            last_result: None,
            updated_at: now,
        },
        blocked: Vec::new(),
        until: now + Duration::minutes(10),
    }
}

fn outcome(result: &str) -> Outcome {
    Outcome {
        call_result: result.into(),
        dnc: false,
        dispositions: vec!["sale".into()],
        notes: "spoke to Ada".into(),
        callback: None,
    }
}

impl Flow {
    fn new(mode: PreviewMode) -> Flow {
        let mut f = Flow {
            p: Preview::new(PreviewConfig::default()),
            now: t0(),
            next_attempt: 100,
        };
        f.input(Input::Campaign(campaign(mode, CampaignStatus::Running)))
            .unwrap();
        f
    }

    fn input(&mut self, input: Input) -> Result<(), PreviewError> {
        self.p.handle(self.now, input)
    }

    fn drain(&mut self) -> Vec<Output> {
        std::iter::from_fn(|| self.p.poll_output()).collect()
    }

    fn advance(&mut self, by: Duration) {
        self.now += by;
        if self.p.poll_timeout().is_some_and(|t| t <= self.now) {
            self.p.handle_timeout(self.now);
        }
    }

    /// Pulls record `id` for the agent, answering the lease like the store would.
    fn pull(&mut self, id: i64) -> Vec<Output> {
        self.input(Input::RequestNext {
            agent: AGENT.into(),
            campaign: CampaignId(7),
        })
        .unwrap();
        let out = self.drain();
        assert!(
            matches!(&out[..], [Output::Lease { campaigns, .. }] if campaigns == &[CampaignId(7)])
        );
        self.input(Input::Leased {
            agent: AGENT.into(),
            lease: lease(id, self.now),
        })
        .unwrap();
        self.drain()
    }

    /// Answers a `StartAttempt` as written; returns the attempt id.
    fn attempt_ok(&mut self, record: i64) -> (AttemptId, Vec<Output>) {
        self.next_attempt += 1;
        let attempt = AttemptId(self.next_attempt);
        self.input(Input::AttemptStarted {
            agent: AGENT.into(),
            record: RecordId(record),
            result: Ok(attempt),
        })
        .unwrap();
        (attempt, self.drain())
    }

    fn closed(&mut self, record: i64) -> Vec<Output> {
        self.input(Input::RecordClosed {
            agent: AGENT.into(),
            record: RecordId(record),
            result: Ok(()),
        })
        .unwrap();
        self.drain()
    }

    fn state(&self) -> &'static str {
        self.p.session(AGENT).state
    }
}

fn start_attempt(out: &[Output]) -> Option<&StartAttempt> {
    out.iter().find_map(|o| match o {
        Output::StartAttempt(s) => Some(s),
        _ => None,
    })
}

fn close(out: &[Output]) -> Option<&CloseRecord> {
    out.iter().find_map(|o| match o {
        Output::CloseRecord(c) => Some(c.as_ref()),
        _ => None,
    })
}

fn acd_states(out: &[Output]) -> Vec<AcdState> {
    out.iter()
        .filter_map(|o| match o {
            Output::AgentState { state, .. } => Some(*state),
            _ => None,
        })
        .collect()
}

fn events(out: &[Output]) -> Vec<&Notification> {
    out.iter()
        .filter_map(|o| match o {
            Output::Notify { event, .. } => Some(event),
            _ => None,
        })
        .collect()
}

mod dial;
mod restore;
mod wrapup;
