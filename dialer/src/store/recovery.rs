//! The store's side of start-up recovery ([`crate::recovery`]): the call progress it
//! keeps while calls last, and closing this node's open attempts when it starts.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};

use super::attempts::status_columns;
use super::{from_ms, to_ms, with_pool, Store, StoreError};
use crate::campaign::{Campaign, CampaignId};
use crate::outcome::SWITCH_RESTARTED;
use crate::phone::E164;
use crate::preview::CallProgress;
use crate::record::{AttemptId, RecordId};
use crate::recovery::{decide, Decision, OpenAttempt, PendingOutcome, Recovered, Recovery};

/// `(attempt, record, campaign, agent, number, connected_ms, ended_ms, sip_status,
/// record status, record agent, record attempts, record's last attempt)`.
type OpenRow = (
    i64,
    i64,
    i64,
    String,
    String,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    String,
    Option<String>,
    i64,
    i64,
);

impl Store {
    /// Writes what the switch reported of a call (answered, ended) to its attempt while
    /// no outcome is in, so that recovery after a crash knows whether the contact was
    /// reached.
    pub async fn save_call(&self, p: &CallProgress) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(
                "UPDATE dialer_attempts SET connected_ms = COALESCE(connected_ms, $1), \
                 ended_ms = COALESCE($2, ended_ms), sip_status = COALESCE($3, sip_status) \
                 WHERE id = $4 AND call_result IS NULL",
            )
            .bind(p.connected_at.map(to_ms))
            .bind(p.ended_at.map(to_ms))
            .bind(p.sip_status.map(i64::from))
            .bind(p.attempt.0)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Start-up recovery of this node ([`Store::node`]): closes every attempt it left
    /// without a call result with `switch_restarted`, returns their records as
    /// [`decide`] says, and lists the outcomes its agents still owe (from this restart or
    /// an earlier one). Run it before the node's dialer serves anyone.
    pub async fn recover(
        &self,
        now: DateTime<Utc>,
        outcome_hold: Duration,
    ) -> Result<Recovery, StoreError> {
        let open = self.open_attempts().await?;
        let mut campaigns: HashMap<CampaignId, Option<Campaign>> = HashMap::new();
        for o in &open {
            if let std::collections::hash_map::Entry::Vacant(e) = campaigns.entry(o.campaign) {
                e.insert(self.campaign(o.campaign).await?);
            }
        }
        let now_ms = to_ms(now);
        let mut recovery = Recovery::default();
        with_pool!(self, pool => {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            for o in &open {
                let campaign = campaigns.get(&o.campaign).and_then(Option::as_ref);
                let closed = sqlx::query(
                    "UPDATE dialer_attempts SET call_result = $1, recovered_ms = $2 \
                     WHERE id = $3 AND call_result IS NULL",
                )
                .bind(SWITCH_RESTARTED)
                .bind(now_ms)
                .bind(o.attempt.0)
                .execute(&mut *tx)
                .await?
                .rows_affected();
                if closed == 0 {
                    continue;
                }
                let mut decision = decide(campaign, o, now, outcome_hold);
                // The record changes only while it is still this call's.
                let held = "WHERE id = $1 AND status = 'dialling' AND agent = $2";
                let changed = match &decision {
                    Decision::AttemptOnly => 1,
                    Decision::OutcomePending { until } => sqlx::query(&format!(
                        "UPDATE dialer_records SET next_at = $3, updated_ms = $4 {held}"
                    ))
                    .bind(o.record.0)
                    .bind(o.agent.as_str())
                    .bind(to_ms(*until))
                    .bind(now_ms)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected(),
                    Decision::Returned(next) => {
                        let (status, priority, next_at, agent) = status_columns(next);
                        sqlx::query(&format!(
                            "UPDATE dialer_records SET status = $3, priority = $4, next_at = $5, \
                             agent = $6, last_result = $7, updated_ms = $8 {held}"
                        ))
                        .bind(o.record.0)
                        .bind(o.agent.as_str())
                        .bind(status)
                        .bind(priority)
                        .bind(next_at)
                        .bind(agent)
                        .bind(SWITCH_RESTARTED)
                        .bind(now_ms)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected()
                    }
                };
                if changed == 0 {
                    decision = Decision::AttemptOnly;
                }
                recovery.closed.push(recovered(o, &decision));
            }
            tx.commit().await?;
        });
        recovery.pending = self.pending_outcomes(now).await?;
        tracing::info!(
            node = self.node(),
            closed = recovery.closed.len(),
            pending = recovery.pending.len(),
            "dialer recovery after restart"
        );
        Ok(recovery)
    }

    /// This node's attempts without a call result, oldest first.
    async fn open_attempts(&self) -> Result<Vec<OpenAttempt>, StoreError> {
        const SQL: &str = "SELECT a.id, a.record_id, a.campaign_id, a.agent, a.number, \
            a.connected_ms, a.ended_ms, a.sip_status, r.status, r.agent, r.attempts, \
            (SELECT MAX(l.id) FROM dialer_attempts l WHERE l.record_id = a.record_id) \
            FROM dialer_attempts a JOIN dialer_records r ON r.id = a.record_id \
            WHERE a.call_result IS NULL AND a.node = $1 ORDER BY a.id";
        let rows: Vec<OpenRow> = with_pool!(self, pool => {
            sqlx::query_as(SQL).bind(self.node()).fetch_all(pool).await?
        });
        rows.into_iter().map(open_attempt).collect()
    }

    /// Outcomes this node's agents owe after a restart: records still dialling for the
    /// agent of their last attempt, which recovery closed on a connected call, and whose
    /// hold has not ended.
    async fn pending_outcomes(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Vec<PendingOutcome>, StoreError> {
        const SQL: &str = "SELECT r.id FROM dialer_records r JOIN dialer_attempts a \
            ON a.record_id = r.id AND a.agent = r.agent \
            WHERE r.status = 'dialling' AND r.next_at > $1 AND a.node = $2 \
            AND a.call_result = $3 AND a.connected_ms IS NOT NULL AND a.recovered_ms IS NOT NULL \
            AND a.id = (SELECT MAX(l.id) FROM dialer_attempts l WHERE l.record_id = r.id) \
            ORDER BY r.id";
        let ids: Vec<i64> = with_pool!(self, pool => {
            sqlx::query_scalar(SQL)
                .bind(to_ms(now))
                .bind(self.node())
                .bind(SWITCH_RESTARTED)
                .fetch_all(pool)
                .await?
        });
        let mut pending = Vec::with_capacity(ids.len());
        for id in ids {
            let Some(record) = self.record(RecordId(id)).await? else {
                continue;
            };
            let Some(attempt) = self.attempts(record.id).await?.pop() else {
                continue;
            };
            let crate::record::RecordStatus::Dialling { until, .. } = record.status else {
                continue;
            };
            let recovered = Recovered {
                agent: attempt.agent.clone(),
                campaign: record.campaign,
                record: record.id,
                attempt: attempt.id,
                number: attempt.number.clone(),
                connected_at: attempt.connected_at,
                ended_at: attempt.ended_at,
                sip_status: attempt.sip_status,
                outcome_pending: true,
                outcome_until: Some(until),
                next: None,
            };
            pending.push(PendingOutcome {
                recovered,
                record,
                until,
            });
        }
        Ok(pending)
    }
}

fn open_attempt(row: OpenRow) -> Result<OpenAttempt, StoreError> {
    let (id, record, campaign, agent, number, connected, ended, sip, status, holder, n, last) = row;
    let time = |ms: Option<i64>| ms.map(from_ms).transpose();
    Ok(OpenAttempt {
        attempt: AttemptId(id),
        record: RecordId(record),
        campaign: CampaignId(campaign),
        current: status == "dialling" && holder.as_deref() == Some(agent.as_str()) && last == id,
        agent,
        number: E164::parse(&number, None).map_err(|e| StoreError::corrupt("number", e))?,
        connected_at: time(connected)?,
        ended_at: time(ended)?,
        sip_status: sip
            .map(|s| u16::try_from(s).map_err(|_| StoreError::corrupt("sip status", s)))
            .transpose()?,
        attempts: u32::try_from(n).map_err(|_| StoreError::corrupt("attempts", n))?,
    })
}

fn recovered(o: &OpenAttempt, decision: &Decision) -> Recovered {
    let (outcome_pending, outcome_until, next) = match decision {
        Decision::OutcomePending { until } => (true, Some(*until), None),
        Decision::Returned(next) => (false, None, Some(next.clone())),
        Decision::AttemptOnly => (false, None, None),
    };
    Recovered {
        agent: o.agent.clone(),
        campaign: o.campaign,
        record: o.record,
        attempt: o.attempt,
        number: o.number.clone(),
        connected_at: o.connected_at,
        ended_at: o.ended_at,
        sip_status: o.sip_status,
        outcome_pending,
        outcome_until,
        next,
    }
}
