//! The ACD's durable data: queue and agent configurations changed over REST, agents' state
//! history, and interaction events.
//!
//! Configuration changes are kept as the whole JSON configuration per DN / agent id in
//! `acd_queues` / `acd_agents`; a deletion is a row whose `config` is NULL (a tombstone), so a
//! queue or agent that also appears in the config file stays deleted after a restart. At
//! start-up [`StoredAcd::apply`] lays these rows over the config file's entries.
//!
//! State changes and interaction events arrive from the distributor as
//! [`AcdRecord`](crate::records::AcdRecord)s and are written in batches by
//! [`AcdRecordWriter`](super::AcdRecordWriter).

use ::acd::{AgentConfig, AgentId, Dn, QueueConfig, StateChange};
use serde::{Deserialize, Serialize};
use sqlx::{ColumnIndex, Decode, Row, Type};

use super::documents::Documents;
use super::{with_pool, Store, StoreError};

/// Queue and agent configurations saved over REST: `Some(config)` for a create or change,
/// `None` for a deletion. In the order they were last changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StoredAcd {
    pub queues: Vec<(Dn, Option<QueueConfig>)>,
    pub agents: Vec<(AgentId, Option<AgentConfig>)>,
}

impl StoredAcd {
    /// The queues and agents to start with: the config file's entries, each replaced by its
    /// saved configuration when there is one (keeping its place) or dropped when it was
    /// deleted; then the saved ones the file does not have. A saved configuration that no
    /// longer passes validation (saved before a rule was added) is passed over with a
    /// warning, rather than stopping start-up.
    pub fn apply(
        &self,
        queues: Vec<QueueConfig>,
        agents: Vec<AgentConfig>,
    ) -> (Vec<QueueConfig>, Vec<AgentConfig>) {
        let queues_saved = valid(&self.queues, QueueConfig::validate);
        let agents_saved = valid(&self.agents, AgentConfig::validate);
        (
            overlay(queues, |q| &q.dn, &queues_saved),
            overlay(agents, |a| &a.id, &agents_saved),
        )
    }
}

/// The saved rows whose configuration (if any) is valid.
fn valid<K: Clone + std::fmt::Display, T: Clone>(
    saved: &[(K, Option<T>)],
    validate: impl Fn(&T) -> Result<(), ::acd::ConfigError>,
) -> Vec<(K, Option<T>)> {
    saved
        .iter()
        .filter(|(key, config)| match config.as_ref().map(&validate) {
            Some(Err(e)) => {
                tracing::warn!(%key, error = %e, "saved ACD configuration is invalid; ignored");
                false
            }
            _ => true,
        })
        .cloned()
        .collect()
}

fn overlay<K: PartialEq, T: Clone>(
    file: Vec<T>,
    key: impl Fn(&T) -> &K,
    saved: &[(K, Option<T>)],
) -> Vec<T> {
    let saved_for = |k: &K| saved.iter().find(|(s, _)| s == k).map(|(_, c)| c);
    let mut out: Vec<T> = file
        .into_iter()
        .filter_map(|entry| match saved_for(key(&entry)) {
            None => Some(entry),
            Some(replacement) => replacement.clone(),
        })
        .collect();
    for (k, config) in saved {
        if let Some(config) = config {
            if !out.iter().any(|e| key(e) == k) {
                out.push(config.clone());
            }
        }
    }
    out
}

/// One agent state change, as stored in `agent_state_history`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateHistoryEntry {
    pub agent: String,
    /// `logged_out`, `not_ready`, `ready`, `reserved`, `busy`, `after_call_work` or `rona`.
    pub from_state: String,
    pub to_state: String,
    /// The Not Ready reason when `to_state` is `not_ready`.
    pub reason: Option<String>,
    /// Why the state changed (`login`, `agent_request`, `offer_timeout`, ...).
    pub cause: String,
    /// Unix milliseconds.
    pub at_ms: i64,
}

impl StateHistoryEntry {
    pub fn from_change(c: &StateChange) -> Self {
        let reason = match &c.to {
            ::acd::AgentState::NotReady { reason } => Some(reason.clone()),
            _ => None,
        };
        StateHistoryEntry {
            agent: c.agent.as_str().to_string(),
            from_state: snake_name(&c.from.kind()),
            to_state: snake_name(&c.to.kind()),
            reason,
            cause: snake_name(&c.cause),
            at_ms: i64::try_from(c.at_ms).unwrap_or(i64::MAX),
        }
    }
}

/// One thing that happened to an interaction, as stored in `interaction_events`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InteractionEvent {
    pub interaction: u64,
    /// The queue's DN.
    pub queue: String,
    /// `offered`, `answered`, `rejected`, `ended`, `abandoned`, `overflowed` or
    /// `rejected_full`.
    pub event: String,
    pub agent: Option<String>,
    /// Unix milliseconds.
    pub at_ms: i64,
}

/// The serde name of a unit enum variant (`Cause::AgentRequest` -> `agent_request`).
fn snake_name(value: &impl Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        _ => String::new(),
    }
}

/// Interaction ids are u64 and stored in a signed BIGINT: the bits are kept as they are
/// (`as` both ways), so every id round-trips.
fn id_to_db(id: u64) -> i64 {
    id as i64
}

fn id_from_db(id: i64) -> u64 {
    id as u64
}

const INSERT_STATE: &str = "INSERT INTO agent_state_history \
     (agent, from_state, to_state, reason, cause, at_ms) VALUES ($1, $2, $3, $4, $5, $6)";

const SELECT_STATES: &str = "SELECT agent, from_state, to_state, reason, cause, at_ms \
     FROM agent_state_history WHERE agent = $1 ORDER BY at_ms DESC, id DESC LIMIT $2 OFFSET $3";

const INSERT_EVENT: &str = "INSERT INTO interaction_events \
     (interaction, queue, event, agent, at_ms) VALUES ($1, $2, $3, $4, $5)";

const SELECT_EVENTS: &str = "SELECT interaction, queue, event, agent, at_ms \
     FROM interaction_events ORDER BY at_ms DESC, id DESC LIMIT $1 OFFSET $2";

fn to_json(config: &impl Serialize) -> Result<String, StoreError> {
    serde_json::to_string(config).map_err(|e| StoreError::Corrupt {
        what: "ACD configuration",
        detail: e.to_string(),
    })
}

impl Store {
    /// Saves a queue created or changed over REST.
    pub async fn save_queue_config(&self, config: &QueueConfig) -> Result<(), StoreError> {
        let json = to_json(config)?;
        self.put_doc(Documents::Queues, config.dn.as_str(), Some(json))
            .await
    }

    /// Remembers that the queue was deleted over REST.
    pub async fn delete_queue_config(&self, dn: &str) -> Result<(), StoreError> {
        self.put_doc(Documents::Queues, dn, None).await
    }

    /// Saves an agent created or changed over REST.
    pub async fn save_agent_config(&self, config: &AgentConfig) -> Result<(), StoreError> {
        let json = to_json(config)?;
        self.put_doc(Documents::Agents, config.id.as_str(), Some(json))
            .await
    }

    /// Remembers that the agent was deleted over REST.
    pub async fn delete_agent_config(&self, id: &str) -> Result<(), StoreError> {
        self.put_doc(Documents::Agents, id, None).await
    }

    /// Every queue and agent configuration saved over REST, tombstones included. A row
    /// that does not parse is an error naming it: starting without it would silently
    /// bring back the config file's version.
    pub async fn load_acd_changes(&self) -> Result<StoredAcd, StoreError> {
        Ok(StoredAcd {
            queues: self.load_docs(Documents::Queues).await?,
            agents: self.load_docs(Documents::Agents).await?,
        })
    }

    /// Stores state changes and interaction events in one transaction: all or none.
    pub async fn insert_acd_records(
        &self,
        states: &[StateHistoryEntry],
        events: &[InteractionEvent],
    ) -> Result<(), StoreError> {
        if states.is_empty() && events.is_empty() {
            return Ok(());
        }
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for s in states {
                sqlx::query(INSERT_STATE)
                    .bind(&s.agent)
                    .bind(&s.from_state)
                    .bind(&s.to_state)
                    .bind(&s.reason)
                    .bind(&s.cause)
                    .bind(s.at_ms)
                    .execute(&mut *tx)
                    .await?;
            }
            for e in events {
                sqlx::query(INSERT_EVENT)
                    .bind(id_to_db(e.interaction))
                    .bind(&e.queue)
                    .bind(&e.event)
                    .bind(&e.agent)
                    .bind(e.at_ms)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// An agent's state changes, newest first. Negative values count as 0.
    pub async fn agent_state_history(
        &self,
        agent: &str,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<StateHistoryEntry>, StoreError> {
        let (limit, offset) = (limit.max(0), offset.max(0));
        with_pool!(self, pool => {
            let rows = sqlx::query(SELECT_STATES)
                .bind(agent)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await?;
            rows.iter().map(state_from_row).collect()
        })
    }

    /// Interaction events of every queue, newest first. Negative values count as 0.
    pub async fn list_interaction_events(
        &self,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<InteractionEvent>, StoreError> {
        let (limit, offset) = (limit.max(0), offset.max(0));
        with_pool!(self, pool => {
            let rows = sqlx::query(SELECT_EVENTS)
                .bind(limit)
                .bind(offset)
                .fetch_all(pool)
                .await?;
            rows.iter().map(event_from_row).collect()
        })
    }

    /// Like [`Store::list_interaction_events`], but only events of one of `queues` or
    /// naming one of `agents` (a supervisor's teams).
    pub async fn list_interaction_events_of(
        &self,
        limit: i64,
        offset: i64,
        queues: &[String],
        agents: &[String],
    ) -> Result<Vec<InteractionEvent>, StoreError> {
        let (limit, offset) = (limit.max(0), offset.max(0));
        if queues.is_empty() && agents.is_empty() {
            return Ok(Vec::new());
        }
        let list = |first: usize, n: usize| {
            (first..first + n)
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut conditions = Vec::new();
        if !queues.is_empty() {
            conditions.push(format!("queue IN ({})", list(3, queues.len())));
        }
        if !agents.is_empty() {
            conditions.push(format!(
                "agent IN ({})",
                list(3 + queues.len(), agents.len())
            ));
        }
        let sql = format!(
            "SELECT interaction, queue, event, agent, at_ms FROM interaction_events \
             WHERE {} ORDER BY at_ms DESC, id DESC LIMIT $1 OFFSET $2",
            conditions.join(" OR ")
        );
        with_pool!(self, pool => {
            let mut q = sqlx::query(&sql).bind(limit).bind(offset);
            for v in queues.iter().chain(agents) {
                q = q.bind(v);
            }
            let rows = q.fetch_all(pool).await?;
            rows.iter().map(event_from_row).collect()
        })
    }
}

fn state_from_row<'r, R>(row: &'r R) -> Result<StateHistoryEntry, StoreError>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(StateHistoryEntry {
        agent: row.try_get("agent")?,
        from_state: row.try_get("from_state")?,
        to_state: row.try_get("to_state")?,
        reason: row.try_get("reason")?,
        cause: row.try_get("cause")?,
        at_ms: row.try_get("at_ms")?,
    })
}

fn event_from_row<'r, R>(row: &'r R) -> Result<InteractionEvent, StoreError>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let interaction: i64 = row.try_get("interaction")?;
    Ok(InteractionEvent {
        interaction: id_from_db(interaction),
        queue: row.try_get("queue")?,
        event: row.try_get("event")?,
        agent: row.try_get("agent")?,
        at_ms: row.try_get("at_ms")?,
    })
}

#[cfg(test)]
mod tests;
