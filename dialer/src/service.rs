//! The dialer's runtime: the sans-IO [`Preview`] flow wired to the [`Store`] and to a
//! broadcast channel of [`DialerEvent`]s.
//!
//! It performs the flow's store work itself (leases, attempts, closes) and feeds the
//! results back, so callers see one `handle` that runs an input to completion. What is
//! left for the outside is published: `Originate` for the switch to call, `Notify` for
//! the agent's desktop, `AgentState` for the ACD. The switch subscribes, performs them,
//! and reports the call's progress back with `handle(now, Input::CallConnected { .. })`
//! and `Input::CallEnded { .. }`; ACD state changes come back as `AgentReady` etc.
//!
//! The flow sits behind a mutex held only while it computes (never across a store
//! call); the flow's per-agent states (`leasing`, `starting`, `closing`) keep two
//! concurrent requests of one agent from both acting.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::sync::{broadcast, Notify};

use crate::campaign::{Campaign, CampaignCommand, CampaignId, CampaignPatch, CampaignSpec};
use crate::import::ImportProgress;
use crate::phone::E164;
use crate::preview::{
    AcdState, Input, Notification, Output, Preview, PreviewConfig, PreviewError, SaveError,
    SessionView,
};
use crate::record::{AttemptId, RecordId};
use crate::recovery::Recovered;
use crate::store::{LeaseResult, Store, StoreError};

/// Events published for the switch and the desktops.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum DialerEvent {
    /// Call `number` for `agent`; report back with the attempt id.
    Originate {
        agent: String,
        campaign: CampaignId,
        record: RecordId,
        attempt: AttemptId,
        number: E164,
    },
    /// For the agent's desktop.
    Notify {
        agent: String,
        #[serde(flatten)]
        event: Notification,
    },
    /// Put the agent in this ACD state.
    AgentState { agent: String, state: AcdState },
    /// A list import moved on.
    ImportProgress(ImportProgress),
    /// Start-up recovery closed these calls a restart had cut, or kept their outcome
    /// pending for their agents ([`crate::recovery`]).
    Recovered { calls: Vec<Recovered> },
}

/// Capacity of the event channel; a subscriber further behind than this loses events
/// (and is told so by `RecvError::Lagged`).
const EVENT_CAPACITY: usize = 4096;

/// The dialer of this node. Cheap to clone.
#[derive(Clone)]
pub struct Dialer {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    preview: Mutex<Preview>,
    events: broadcast::Sender<DialerEvent>,
    /// Wakes the timer task when a deadline may have moved earlier.
    wake: Notify,
    /// What start-up recovery found.
    recovered: Vec<Recovered>,
}

fn save_error(e: StoreError) -> SaveError {
    match e {
        StoreError::Dnc(n) => SaveError::Dnc(n),
        StoreError::LeaseLost(_) => SaveError::LeaseLost,
        other => SaveError::Store(other.to_string()),
    }
}

impl Dialer {
    /// A dialer over `store`, with every stored campaign loaded into the flow, after
    /// start-up recovery ([`crate::recovery`]): the calls this node left open when it
    /// stopped are closed, their records returned or kept for their agents' outcome.
    pub async fn new(store: Store, config: PreviewConfig) -> Result<Dialer, StoreError> {
        let mut preview = Preview::new(config);
        let now = Utc::now();
        for campaign in store.campaigns().await? {
            let _ = preview.handle(now, Input::Campaign(campaign));
        }
        let recovery = store.recover(now, config.outcome_hold).await?;
        let mut recovered = Vec::new();
        for r in recovery.closed {
            if r.next.is_some() {
                let input = Input::CallInterrupted {
                    agent: r.agent.clone(),
                    recovered: r.clone(),
                };
                let _ = preview.handle(now, input);
            }
            recovered.push(r);
        }
        for p in recovery.pending {
            if !recovered.iter().any(|r| r.attempt == p.recovered.attempt) {
                recovered.push(p.recovered.clone());
            }
            let input = Input::OutcomePending {
                agent: p.recovered.agent.clone(),
                pending: Box::new(p),
            };
            let _ = preview.handle(now, input);
        }
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        Ok(Dialer {
            inner: Arc::new(Inner {
                store,
                preview: Mutex::new(preview),
                events,
                wake: Notify::new(),
                recovered,
            }),
        })
    }

    /// What start-up recovery found, as an event for the stream (`None`: nothing).
    pub fn recovery_event(&self) -> Option<DialerEvent> {
        let calls = &self.inner.recovered;
        (!calls.is_empty()).then(|| DialerEvent::Recovered {
            calls: calls.clone(),
        })
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn subscribe(&self) -> broadcast::Receiver<DialerEvent> {
        self.inner.events.subscribe()
    }

    pub fn publish(&self, event: DialerEvent) {
        // No subscriber is not an error: nobody is listening yet.
        let _ = self.inner.events.send(event);
    }

    fn flow(&self) -> MutexGuard<'_, Preview> {
        // The flow does not panic on input; if it ever did, its state is still usable.
        self.inner.preview.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The agent's session as the desktop shows it.
    pub fn session(&self, agent: &str) -> SessionView {
        self.flow().session(agent)
    }

    /// The campaigns of the agent's queues (the desktop's list), by id.
    pub fn campaigns_of(&self, agent: &str) -> Vec<Campaign> {
        self.flow()
            .campaigns_of(agent)
            .into_iter()
            .cloned()
            .collect()
    }

    /// The flow's copy of a campaign.
    pub fn campaign(&self, id: CampaignId) -> Option<Campaign> {
        self.flow().campaign(id).cloned()
    }

    /// The flow's next deadline.
    pub fn poll_timeout(&self) -> Option<DateTime<Utc>> {
        self.flow().poll_timeout()
    }

    /// Runs one input to completion (store work included); returns what was published.
    pub async fn handle(
        &self,
        now: DateTime<Utc>,
        input: Input,
    ) -> Result<Vec<DialerEvent>, PreviewError> {
        let outputs = {
            let mut flow = self.flow();
            flow.handle(now, input)?;
            drain(&mut flow)
        };
        Ok(self.perform(now, outputs).await)
    }

    /// Acts on the flow's deadlines up to `now`.
    pub async fn handle_timeout(&self, now: DateTime<Utc>) -> Vec<DialerEvent> {
        let outputs = {
            let mut flow = self.flow();
            flow.handle_timeout(now);
            drain(&mut flow)
        };
        self.perform(now, outputs).await
    }

    /// Creates a campaign (`stopped`).
    pub async fn create_campaign(
        &self,
        spec: &CampaignSpec,
        now: DateTime<Utc>,
    ) -> Result<Campaign, StoreError> {
        let campaign = self.store().create_campaign(spec, now).await?;
        self.campaign_changed(now, campaign.clone()).await;
        Ok(campaign)
    }

    /// Changes some of a campaign's settings.
    pub async fn update_campaign(
        &self,
        id: CampaignId,
        patch: CampaignPatch,
        now: DateTime<Utc>,
    ) -> Result<Campaign, StoreError> {
        let current = self
            .store()
            .campaign(id)
            .await?
            .ok_or(StoreError::CampaignNotFound(id))?;
        let spec = patch.apply(current.spec);
        let campaign = self.store().update_campaign(id, &spec, now).await?;
        self.campaign_changed(now, campaign.clone()).await;
        Ok(campaign)
    }

    /// Loads, starts, pauses or stops a campaign; its agents are told.
    pub async fn command(
        &self,
        id: CampaignId,
        command: CampaignCommand,
        now: DateTime<Utc>,
    ) -> Result<Campaign, StoreError> {
        let campaign = self.store().command_campaign(id, command, now).await?;
        tracing::info!(campaign = %id, %command, status = %campaign.status, "campaign command");
        self.campaign_changed(now, campaign.clone()).await;
        Ok(campaign)
    }

    async fn campaign_changed(&self, now: DateTime<Utc>, campaign: Campaign) {
        // `Input::Campaign` is never refused.
        let _ = self.handle(now, Input::Campaign(campaign)).await;
    }

    /// Performs outputs in order, feeding store results back, until nothing is left.
    async fn perform(&self, now: DateTime<Utc>, outputs: VecDeque<Output>) -> Vec<DialerEvent> {
        let mut queue = outputs;
        let mut published = Vec::new();
        while let Some(output) = queue.pop_front() {
            let answers = match output {
                Output::Lease {
                    agent,
                    campaigns,
                    until,
                } => self.lease(agent, &campaigns, now, until).await,
                Output::StartAttempt(s) => {
                    let result = self.store().start_attempt(&s).await.map_err(save_error);
                    vec![Input::AttemptStarted {
                        agent: s.agent,
                        record: s.record,
                        result,
                    }]
                }
                Output::SaveCall(p) => {
                    if let Err(e) = self.store().save_call(&p).await {
                        tracing::warn!(attempt = %p.attempt, error = %e, "saving call progress failed");
                    }
                    Vec::new()
                }
                Output::CloseRecord(c) => {
                    let result = self.store().close_record(&c).await.map_err(save_error);
                    vec![Input::RecordClosed {
                        agent: c.agent,
                        record: c.record,
                        result,
                    }]
                }
                Output::Originate {
                    agent,
                    campaign,
                    record,
                    attempt,
                    number,
                } => {
                    tracing::debug!(%agent, %campaign, %record, %attempt, "originate");
                    let event = DialerEvent::Originate {
                        agent,
                        campaign,
                        record,
                        attempt,
                        number,
                    };
                    self.publish(event.clone());
                    published.push(event);
                    Vec::new()
                }
                Output::Notify { agent, event } => {
                    let event = DialerEvent::Notify { agent, event };
                    self.publish(event.clone());
                    published.push(event);
                    Vec::new()
                }
                Output::AgentState { agent, state } => {
                    let event = DialerEvent::AgentState { agent, state };
                    self.publish(event.clone());
                    published.push(event);
                    Vec::new()
                }
            };
            if !answers.is_empty() {
                let mut flow = self.flow();
                for input in answers {
                    // Answers to the flow's own requests are never refused.
                    let _ = flow.handle(now, input);
                }
                queue.extend(drain(&mut flow));
            }
        }
        self.inner.wake.notify_one();
        published
    }

    /// Leases from the first campaign that has a record; refreshes the flow's copy of a
    /// campaign the store says is not running, and marks exhausted ones completed.
    async fn lease(
        &self,
        agent: String,
        campaigns: &[CampaignId],
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Vec<Input> {
        let mut inputs = Vec::new();
        let mut failure = None;
        for &id in campaigns {
            match self.store().lease_next(id, &agent, now, until).await {
                Ok(LeaseResult::Leased(lease)) => {
                    inputs.push(Input::Leased {
                        agent,
                        lease: *lease,
                    });
                    return inputs;
                }
                Ok(LeaseResult::Empty) => match self.store().complete_if_exhausted(id, now).await {
                    Ok(Some(done)) => {
                        tracing::info!(campaign = %id, "campaign completed");
                        inputs.push(Input::Campaign(done));
                    }
                    Ok(None) => {}
                    Err(e) => tracing::warn!(campaign = %id, error = %e, "completion check failed"),
                },
                Err(StoreError::NotRunning { .. } | StoreError::CampaignNotFound(_)) => {
                    if let Ok(Some(fresh)) = self.store().campaign(id).await {
                        inputs.push(Input::Campaign(fresh));
                    }
                }
                Err(e) => {
                    tracing::warn!(campaign = %id, agent = %agent, error = %e, "lease failed");
                    failure = Some(e.to_string());
                }
            }
        }
        inputs.push(match failure {
            Some(reason) => Input::LeaseFailed { agent, reason },
            None => Input::NoRecord { agent },
        });
        inputs
    }

    /// Runs the flow's timers on the wall clock and, every minute, returns expired
    /// leases to the list. Abort the handle to stop it.
    pub fn spawn_timers(&self) -> tokio::task::JoinHandle<()> {
        let dialer = self.clone();
        tokio::spawn(async move {
            let tick = std::time::Duration::from_secs(1);
            let mut last_sweep = Utc::now();
            loop {
                let now = Utc::now();
                let wait = dialer
                    .poll_timeout()
                    .map_or(tick, |at| (at - now).to_std().unwrap_or_default().min(tick));
                tokio::select! {
                    _ = tokio::time::sleep(wait) => {}
                    _ = dialer.inner.wake.notified() => {}
                }
                let now = Utc::now();
                if dialer.poll_timeout().is_some_and(|at| at <= now) {
                    dialer.handle_timeout(now).await;
                }
                if now - last_sweep >= chrono::Duration::minutes(1) {
                    last_sweep = now;
                    if let Err(e) = dialer.store().expire_leases(now).await {
                        tracing::warn!(error = %e, "expiring leases failed");
                    }
                }
            }
        })
    }
}

fn drain(flow: &mut Preview) -> VecDeque<Output> {
    std::iter::from_fn(|| flow.poll_output()).collect()
}

#[cfg(test)]
mod tests;
