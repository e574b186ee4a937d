//! Getting records to agents: campaign news, pushes to Ready agents, pulls, leases
//! arriving or missing, logouts, and giving records back.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::io::{AcdState, CloseRecord, Lease, Notification, Output, PreviewError};
use super::session::{After, Closing, Previewing, State};
use super::Preview;
use crate::campaign::{Campaign, CampaignId, CampaignStatus, DncScope, PreviewMode};
use crate::outcome::NextStatus;
use crate::phone::E164;

impl Preview {
    pub(super) fn campaign_changed(&mut self, now: DateTime<Utc>, campaign: Campaign) {
        let old = self.campaigns.get(&campaign.id).map(|c| c.status);
        let campaign = Arc::new(campaign);
        self.campaigns.insert(campaign.id, campaign.clone());
        // Records on screen follow the campaign's new settings (a calling window closed
        // meanwhile must stop their countdown dial here, not at the switch).
        for agent in self.agents.values_mut() {
            if let super::session::State::Previewing(p) = &mut agent.state {
                if p.campaign.id == campaign.id {
                    p.campaign = campaign.clone();
                }
            }
        }
        let members: Vec<String> = self
            .agents
            .iter()
            .filter(|(_, a)| a.queues.contains(&campaign.spec.queue))
            .map(|(name, _)| name.clone())
            .collect();
        let announce = match old {
            Some(old) => old != campaign.status,
            None => campaign.status != CampaignStatus::Stopped,
        };
        for name in &members {
            if announce {
                self.notify(
                    name,
                    Notification::CampaignStatus {
                        campaign: campaign.id,
                        name: campaign.spec.name.clone(),
                        status: campaign.status,
                    },
                );
            }
            if campaign.status == CampaignStatus::Running {
                if let Some(agent) = self.agents.get_mut(name) {
                    agent.retry_at = None;
                }
                self.maybe_push(now, name);
            }
            self.rearm(name);
        }
    }

    /// Asks for a record for a Ready, idle agent of a running campaign.
    pub(super) fn maybe_push(&mut self, now: DateTime<Utc>, name: &str) {
        let Some(agent) = self.agents.get_mut(name) else {
            return;
        };
        let waiting = agent.retry_at.is_some_and(|at| at > now);
        if !agent.ready || waiting || !matches!(agent.state, State::Idle) {
            return;
        }
        let mut campaigns: Vec<CampaignId> = self
            .campaigns
            .values()
            .filter(|c| c.status == CampaignStatus::Running && agent.queues.contains(&c.spec.queue))
            .map(|c| c.id)
            .collect();
        if campaigns.is_empty() {
            return;
        }
        campaigns.sort();
        let turn = agent.rotation % campaigns.len();
        campaigns.rotate_left(turn);
        agent.rotation = agent.rotation.wrapping_add(1);
        agent.retry_at = None;
        agent.state = State::Leasing {
            pull: None,
            cancelled: false,
        };
        self.out.push_back(Output::Lease {
            agent: name.to_string(),
            campaigns,
            until: now + self.config.preview_lease,
        });
    }

    pub(super) fn request_next(
        &mut self,
        now: DateTime<Utc>,
        name: &str,
        id: CampaignId,
    ) -> Result<(), PreviewError> {
        let campaign = self
            .campaigns
            .get(&id)
            .ok_or(PreviewError::UnknownCampaign(id))?;
        if campaign.status != CampaignStatus::Running {
            return Err(PreviewError::CampaignNotRunning {
                campaign: id,
                status: campaign.status,
            });
        }
        let agent = self.agents.entry(name.to_string()).or_default();
        if !agent.queues.is_empty() && !agent.queues.contains(&campaign.spec.queue) {
            return Err(PreviewError::NotInCampaign {
                agent: name.to_string(),
                campaign: id,
            });
        }
        match &agent.state {
            State::Idle => {}
            State::Wrapup(w) => return Err(PreviewError::OutcomeRequired(w.call.preview.record())),
            other => {
                return Err(PreviewError::WrongState {
                    agent: name.to_string(),
                    state: other.name(),
                })
            }
        }
        agent.state = State::Leasing {
            pull: Some(id),
            cancelled: false,
        };
        self.out.push_back(Output::Lease {
            agent: name.to_string(),
            campaigns: vec![id],
            until: now + self.config.preview_lease,
        });
        Ok(())
    }

    pub(super) fn leased(&mut self, now: DateTime<Utc>, name: &str, lease: Lease) {
        let agent = self.agents.entry(name.to_string()).or_default();
        let campaign = self.campaigns.get(&lease.record.campaign).cloned();
        let (pull, campaign) = match (&agent.state, campaign) {
            (
                State::Leasing {
                    pull,
                    cancelled: false,
                },
                Some(c),
            ) => (*pull, c),
            (state, _) => {
                // Not asked for (any more): give it straight back.
                if matches!(state, State::Leasing { .. }) {
                    agent.state = State::Idle;
                }
                self.release_unwanted(now, name, &lease);
                return;
            }
        };
        let expires_at = (lease.until - self.config.lease_margin).max(now);
        let dial_at = match campaign.spec.preview {
            PreviewMode::Countdown { seconds } => {
                Some(now + chrono::Duration::seconds(i64::from(seconds)))
            }
            _ => None,
        };
        let preview = Previewing {
            campaign,
            lease,
            dial_at,
            expires_at,
        };
        self.acd(name, AcdState::Reserved);
        self.notify(name, Notification::Preview(Box::new(preview.view())));
        let dial_now =
            pull.is_some() && preview.campaign.spec.preview == PreviewMode::DialOnAccept {};
        let state = if dial_now {
            self.auto_dial(now, name, preview)
        } else {
            State::Previewing(preview)
        };
        self.set_state(name, state);
    }

    pub(super) fn lease_missed(&mut self, now: DateTime<Utc>, name: &str, reason: Option<String>) {
        let Some(agent) = self.agents.get_mut(name) else {
            return;
        };
        let State::Leasing { pull, .. } = agent.state else {
            return;
        };
        agent.state = State::Idle;
        match pull {
            Some(campaign) => match reason {
                None => self.notify(name, Notification::NoRecord { campaign }),
                Some(reason) => self.notify(name, Notification::LeaseFailed { campaign, reason }),
            },
            None => agent.retry_at = Some(now + self.config.idle_retry),
        }
    }

    pub(super) fn logged_out(&mut self, now: DateTime<Utc>, name: &str) {
        let Some(agent) = self.agents.get_mut(name) else {
            return;
        };
        agent.ready = false;
        agent.retry_at = None;
        agent.queues.clear();
        match std::mem::take(&mut agent.state) {
            State::Previewing(p) => {
                let next = NextStatus::Ready { at: now };
                let state = self.release(now, name, p, next, Vec::new(), After::LoggedOut);
                self.set_state(name, state);
            }
            State::Leasing { pull, .. } => {
                agent.state = State::Leasing {
                    pull,
                    cancelled: true,
                }
            }
            // A call, its wrap-up or a write in progress finishes first.
            other => agent.state = other,
        }
    }

    /// Gives a record back to the list and moves the agent to `Closing`.
    pub(super) fn release(
        &mut self,
        now: DateTime<Utc>,
        name: &str,
        preview: Previewing,
        next: NextStatus,
        dnc: Vec<E164>,
        after: After,
    ) -> State {
        let record = preview.record();
        self.close_without_call(now, name, &preview, &next, dnc);
        State::Closing(Closing {
            back: Box::new(State::Previewing(preview)),
            record,
            next,
            after,
        })
    }

    /// Asks the store to close `preview`'s record with no call outcome, as `next` says.
    pub(super) fn close_without_call(
        &mut self,
        now: DateTime<Utc>,
        name: &str,
        preview: &Previewing,
        next: &NextStatus,
        dnc: Vec<E164>,
    ) {
        self.out
            .push_back(Output::CloseRecord(Box::new(CloseRecord {
                agent: name.to_string(),
                campaign: preview.campaign.id,
                record: preview.record(),
                call: None,
                outcome: None,
                next: next.clone(),
                dnc,
                dnc_scope: preview.campaign.spec.dnc_scope,
                at: now,
            })));
    }

    /// Returns a lease nobody waits for; its `RecordClosed` answer is ignored.
    pub(super) fn release_unwanted(&mut self, now: DateTime<Utc>, name: &str, lease: &Lease) {
        self.out
            .push_back(Output::CloseRecord(Box::new(CloseRecord {
                agent: name.to_string(),
                campaign: lease.record.campaign,
                record: lease.record.id,
                call: None,
                outcome: None,
                next: NextStatus::Ready { at: now },
                dnc: Vec::new(),
                dnc_scope: DncScope::Global,
                at: now,
            })));
    }
}
