//! Where the preview dialer meets the switch (issue: origination through the switch). The
//! dialer asks for calls, ACD states and desktop notifications; the switch places the
//! calls (agent first, then the contact), reports their progress back, moves the agent's
//! ACD state, and tells the dialer when agents become Ready or leave.
//!
//! Calls a killed switch left open are recovered by the dialer at start-up, before this
//! link runs ([`dialer::recovery`]); the link publishes what was recovered as a
//! `dialer_recovered` event, and each agent concerned hears of it on login.
//!
//! Do-not-call, calling windows and the dialplan rules of the agent's account
//! (`[auth.dialing]`) are checked again here, at origination, whatever the desktop or the
//! flow decided before: a number on a DNC list, outside its window or not allowed for the
//! agent is never dialled.

use crate::accounts::{Accounts, Role};
use crate::distributor::Distributor;
use crate::engine::{Origination, OriginationEvent};
use crate::router::Router;
use acd::{ExternalWork, StateKind};
use chrono::Utc;
use dialer::preview::{AcdState, Input};
use dialer::{Dialer, DialerEvent};
use serde_json::json;
use tokio::sync::{broadcast, mpsc};

/// SIP-like statuses reported to the dialer for calls refused before dialling.
const REFUSED_DNC: u16 = 603;
const REFUSED_WINDOW: u16 = 480;
const REFUSED_NO_PHONE: u16 = 404;
const REFUSED_DIALPLAN: u16 = 403;

pub fn spawn(dialer: Dialer, distributor: Distributor, shards: Router, accounts: Accounts) {
    tokio::spawn(dialer_to_switch(
        dialer.clone(),
        distributor.clone(),
        shards,
        accounts,
    ));
    tokio::spawn(acd_to_dialer(dialer, distributor));
}

async fn dialer_to_switch(
    dialer: Dialer,
    distributor: Distributor,
    shards: Router,
    accounts: Accounts,
) {
    let mut events = dialer.subscribe();
    // What start-up recovery did, before anything else happens.
    if let Some(recovered) = dialer.recovery_event() {
        forward(&dialer, &distributor, &shards, &accounts, recovered).await;
    }
    loop {
        let event = match events.recv().await {
            Ok(e) => e,
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "dialer events lagged");
                continue;
            }
            Err(broadcast::error::RecvError::Closed) => break,
        };
        forward(&dialer, &distributor, &shards, &accounts, event).await;
    }
}

/// Performs one dialer event: a call to place, an ACD state, or an event for the stream.
async fn forward(
    dialer: &Dialer,
    distributor: &Distributor,
    shards: &Router,
    accounts: &Accounts,
    event: DialerEvent,
) {
    match event {
        DialerEvent::Originate {
            agent,
            campaign,
            record,
            attempt,
            number,
        } => {
            let dialer = dialer.clone();
            let distributor = distributor.clone();
            let shards = shards.clone();
            let accounts = accounts.clone();
            tokio::spawn(async move {
                originate(
                    dialer,
                    distributor,
                    shards,
                    accounts,
                    agent,
                    campaign,
                    record,
                    attempt,
                    number,
                )
                .await
            });
        }
        DialerEvent::Notify { agent, event } => {
            distributor.publish(json!({"type": "preview", "agent": agent, "event": event}));
        }
        DialerEvent::AgentState { agent, state } => {
            let work = match state {
                AcdState::Reserved => ExternalWork::Reserved,
                AcdState::Busy => ExternalWork::Busy,
                AcdState::AfterCallWork => ExternalWork::AfterCallWork,
                AcdState::Ready => ExternalWork::Done,
                AcdState::Rona => ExternalWork::Missed,
            };
            let event = acd::Event::ExternalWork {
                agent: acd::AgentId::new(&agent),
                work,
            };
            if let Err(e) = distributor.request(event).await {
                tracing::info!(%agent, error = %e, "ACD refused the preview state");
            }
        }
        DialerEvent::ImportProgress(p) => {
            distributor.publish(json!({"type": "import_progress", "progress": p}));
        }
        DialerEvent::Recovered { calls } => {
            tracing::warn!(
                calls = calls.len(),
                "preview calls cut by the last stop were recovered"
            );
            distributor.publish(json!({"type": "dialer_recovered", "calls": calls}));
        }
    }
}

/// Check DNC and the calling window once more, then have a shard place the call and feed
/// its progress back to the dialer.
#[allow(clippy::too_many_arguments)]
async fn originate(
    dialer: Dialer,
    distributor: Distributor,
    shards: Router,
    accounts: Accounts,
    agent: String,
    campaign: dialer::campaign::CampaignId,
    record: dialer::record::RecordId,
    attempt: dialer::record::AttemptId,
    number: dialer::phone::E164,
) {
    let ended = |status: u16| {
        let dialer = dialer.clone();
        let agent = agent.clone();
        async move {
            let input = Input::CallEnded {
                agent,
                attempt,
                sip_status: status,
            };
            if let Err(e) = dialer.handle(Utc::now(), input).await {
                tracing::warn!(error = %e, "dialer refused a call report");
            }
        }
    };
    let store = dialer.store();
    match store.is_dnc(campaign, &number).await {
        Ok(false) => {}
        Ok(true) => {
            tracing::warn!(%agent, number = number.as_str(), "origination refused: number on the DNC list");
            return ended(REFUSED_DNC).await;
        }
        Err(e) => {
            tracing::error!(error = %e, "DNC check failed: not dialling");
            return ended(REFUSED_DNC).await;
        }
    }
    if let (Some(c), Ok(Some(r))) = (dialer.campaign(campaign), store.record(record).await) {
        let zone = r.zone(c.spec.time_zone);
        if !c.spec.window.is_open(Utc::now(), zone) {
            tracing::warn!(%agent, number = number.as_str(), "origination refused: outside the calling window");
            return ended(REFUSED_WINDOW).await;
        }
    }
    // The dialplan rules of the agent's account (an agent without one: the agent role's).
    let roles = accounts
        .account_of_agent(&agent)
        .map(|a| a.roles)
        .unwrap_or_else(|| [Role::Agent].into());
    if !accounts.config().dialing.allows(&roles, number.as_str()) {
        tracing::warn!(%agent, number = number.as_str(), "origination refused: the dialplan does not allow this number for the agent");
        return ended(REFUSED_DIALPLAN).await;
    }
    let who = acd::AgentId::new(&agent);
    let extension = distributor
        .read(move |e, _| e.agent_config(&who).map(|a| a.phone().to_string()))
        .await
        .flatten();
    let Some(extension) = extension else {
        return ended(REFUSED_NO_PHONE).await;
    };
    let (report, mut progress) = mpsc::unbounded_channel();
    shards.originate(
        Origination {
            agent: agent.clone(),
            extension,
            number: number.as_str().to_string(),
            caller_id: String::new(),
            attempt: attempt.0 as u64,
        },
        report,
    );
    while let Some(event) = progress.recv().await {
        let input = match event {
            OriginationEvent::Connected { .. } => Input::CallConnected {
                agent: agent.clone(),
                attempt,
            },
            OriginationEvent::Ended { sip_status, .. } => Input::CallEnded {
                agent: agent.clone(),
                attempt,
                sip_status,
            },
            OriginationEvent::AgentAnswered { .. } | OriginationEvent::Held { .. } => continue,
        };
        if let Err(e) = dialer.handle(Utc::now(), input).await {
            tracing::warn!(error = %e, "dialer refused a call report");
        }
    }
}

/// ACD states the dialer cares about: Ready agents get records pushed; leaving Ready or
/// logging out stops that (a record in preview goes back on logout).
async fn acd_to_dialer(dialer: Dialer, distributor: Distributor) {
    let mut changes = distributor.subscribe_states();
    loop {
        let change = match changes.recv().await {
            Ok(c) => c,
            Err(broadcast::error::RecvError::Lagged(_)) => continue,
            Err(broadcast::error::RecvError::Closed) => break,
        };
        let agent = change.agent.as_str().to_string();
        let input = match change.to.kind() {
            StateKind::Ready => {
                let who = change.agent.clone();
                let queues = distributor
                    .read(move |e, _| {
                        e.agent_config(&who).map(|a| {
                            a.queues
                                .iter()
                                .map(|q| q.as_str().to_string())
                                .collect::<Vec<_>>()
                        })
                    })
                    .await
                    .flatten()
                    .unwrap_or_default();
                Input::AgentReady { agent, queues }
            }
            StateKind::NotReady => Input::AgentNotReady { agent },
            StateKind::LoggedOut => Input::AgentLoggedOut { agent },
            _ => continue,
        };
        if let Err(e) = dialer.handle(Utc::now(), input).await {
            tracing::debug!(error = %e, "dialer ignored an agent state");
        }
    }
}
