//! Leasing: handing one record to one agent, atomically.
//!
//! One write transaction reads the campaign (it must be running), picks due candidates
//! in order (callbacks first, then by due time), and checks each in Rust against the DNC
//! lists and its calling window: a record whose numbers are all on a DNC list is closed
//! `do_not_call`; one outside its window is put off until the window opens; the first
//! that passes is leased. On PostgreSQL candidates are read `FOR UPDATE SKIP LOCKED`, so
//! concurrent leasers (on any node) skip each other's rows instead of waiting; on SQLite
//! the transaction is `BEGIN IMMEDIATE`, so leasers run one at a time.
//!
//! An expired lease needs no sweeper: a leased or dialling record's `next_at` is its
//! lease end, so once that passes it is a candidate again. [`Store::expire_leases`] also
//! turns such rows back to `ready` for statistics.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::campaigns::campaign_from_row;
use super::records::{record_from_row, RECORD_COLUMNS};
use super::{placeholders, to_ms, with_pool, Backend, Store, StoreError};
use crate::campaign::{CampaignId, CampaignStatus};
use crate::phone::E164;
use crate::preview::Lease;
use crate::record::Record;

/// Candidates read per round; rounds grow to skip past records outside their window.
const FIRST_BATCH: i64 = 4;
const MAX_BATCH: i64 = 128;
/// Rounds per lease before giving up for now (the caller asks again later).
const MAX_ROUNDS: usize = 8;

/// What [`Store::lease_next`] found.
#[derive(Debug, Clone, PartialEq)]
pub enum LeaseResult {
    Leased(Box<Lease>),
    /// Nothing callable now.
    Empty,
}

impl Store {
    /// Leases the campaign's next callable record to `agent` until `until`.
    pub async fn lease_next(
        &self,
        campaign_id: CampaignId,
        agent: &str,
        now: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<LeaseResult, StoreError> {
        let lock = match self.backend() {
            Backend::Sqlite => "",
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        };
        let candidates = format!(
            "SELECT {RECORD_COLUMNS} FROM dialer_records \
             WHERE campaign_id = $1 AND next_at IS NOT NULL AND next_at <= $2 \
             AND (status <> 'callback' OR agent IS NULL OR agent = $3) \
             ORDER BY priority, next_at, id LIMIT $4{lock}"
        );
        let now_ms = to_ms(now);
        with_pool!(self, pool => {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let row = sqlx::query(
                "SELECT id, status, spec, created_ms, updated_ms FROM dialer_campaigns WHERE id = $1",
            )
            .bind(campaign_id.0)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = row else {
                return Err(StoreError::CampaignNotFound(campaign_id));
            };
            let campaign = campaign_from_row(&row)?;
            if campaign.status != CampaignStatus::Running {
                return Err(StoreError::NotRunning {
                    campaign: campaign_id,
                    status: campaign.status,
                });
            }
            let spec = &campaign.spec;
            let mut batch = FIRST_BATCH;
            for _ in 0..MAX_ROUNDS {
                let rows = sqlx::query(&candidates)
                    .bind(campaign_id.0)
                    .bind(now_ms)
                    .bind(agent)
                    .bind(batch)
                    .fetch_all(&mut *tx)
                    .await?;
                if rows.is_empty() {
                    break;
                }
                let records: Vec<Record> =
                    rows.iter().map(record_from_row).collect::<Result<_, _>>()?;
                let numbers: Vec<&E164> =
                    records.iter().flat_map(|r| r.phones.iter().map(|p| &p.number)).collect();
                let dnc_sql = format!(
                    "SELECT number FROM dialer_dnc WHERE campaign_id IN (0, $1) AND number IN ({})",
                    placeholders(2, numbers.len().max(1))
                );
                let mut q = sqlx::query_scalar(&dnc_sql).bind(campaign_id.0);
                if numbers.is_empty() {
                    q = q.bind("");
                }
                for n in &numbers {
                    q = q.bind(n.as_str());
                }
                let listed: Vec<String> = q.fetch_all(&mut *tx).await?;
                let listed: HashSet<&str> = listed.iter().map(String::as_str).collect();
                for mut record in records {
                    let blocked: Vec<E164> = record
                        .phones
                        .iter()
                        .filter(|p| listed.contains(p.number.as_str()))
                        .map(|p| p.number.clone())
                        .collect();
                    if blocked.len() == record.phones.len() {
                        sqlx::query(
                            "UPDATE dialer_records SET status = 'do_not_call', next_at = NULL, \
                             agent = NULL, updated_ms = $1 WHERE id = $2",
                        )
                        .bind(now_ms)
                        .bind(record.id.0)
                        .execute(&mut *tx)
                        .await?;
                        continue;
                    }
                    let zone = record.zone(spec.time_zone);
                    if !spec.window.is_open(now, zone) {
                        let opens = spec.window.next_open(now, zone);
                        // Put off; an expired lease becomes plain ready on the way.
                        sqlx::query(
                            "UPDATE dialer_records SET next_at = $1, updated_ms = $2, \
                             status = CASE WHEN status IN ('leased', 'dialling') THEN 'ready' ELSE status END, \
                             agent = CASE WHEN status IN ('leased', 'dialling') THEN NULL ELSE agent END \
                             WHERE id = $3",
                        )
                        .bind(to_ms(opens))
                        .bind(now_ms)
                        .bind(record.id.0)
                        .execute(&mut *tx)
                        .await?;
                        continue;
                    }
                    sqlx::query(
                        "UPDATE dialer_records SET status = 'leased', agent = $1, next_at = $2, \
                         priority = 1, updated_ms = $3 WHERE id = $4",
                    )
                    .bind(agent)
                    .bind(to_ms(until))
                    .bind(now_ms)
                    .bind(record.id.0)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    record.status = crate::record::RecordStatus::Leased {
                        agent: agent.to_string(),
                        until,
                    };
                    record.updated_at = now;
                    return Ok(LeaseResult::Leased(Box::new(Lease { record, blocked, until })));
                }
                batch = (batch * 4).min(MAX_BATCH);
            }
            tx.commit().await?;
            Ok(LeaseResult::Empty)
        })
    }

    /// Returns every record whose lease ended before `now` to `ready`; returns how many.
    pub async fn expire_leases(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        let n = with_pool!(self, pool => {
            sqlx::query(
                "UPDATE dialer_records SET status = 'ready', agent = NULL, updated_ms = $1 \
                 WHERE status IN ('leased', 'dialling') AND next_at <= $1",
            )
            .bind(to_ms(now))
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n)
    }
}
