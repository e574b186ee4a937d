//! Campaign statistics and the rows of the results export.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{ColumnIndex, Decode, Row, Type};

use super::{from_ms, with_pool, Store, StoreError};
use crate::campaign::CampaignId;
use crate::record::{RecordId, STATUS_NAMES};

/// Attempts of one agent.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AgentStats {
    pub attempts: i64,
    pub connected: i64,
    /// Seconds from answer to hang-up, summed.
    pub talk_seconds: i64,
    /// Attempts by call result (`pending` while no outcome is in).
    pub results: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CampaignStats {
    pub campaign: CampaignId,
    pub total_records: i64,
    /// Records by status; every status is listed.
    pub records: BTreeMap<String, i64>,
    pub attempts: i64,
    pub connected: i64,
    /// Attempts by call result (`pending` while no outcome is in).
    pub results: BTreeMap<String, i64>,
    pub agents: BTreeMap<String, AgentStats>,
}

/// One record with its last attempt, as exported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportRow {
    pub record: RecordId,
    pub external_id: String,
    pub name: String,
    pub status: String,
    pub attempts: i64,
    pub last_result: Option<String>,
    /// Callback time (or the time a ready record is next due).
    pub next_at: Option<DateTime<Utc>>,
    pub agent: Option<String>,
    pub number: Option<String>,
    pub started_at: Option<DateTime<Utc>>,
    pub connected_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub sip_status: Option<i64>,
    pub dispositions: Vec<String>,
    pub notes: String,
    pub dnc: bool,
}

/// `(agent, call_result, attempts, connected, talk_ms)` grouped by agent and result.
type AttemptGroup = (String, Option<String>, i64, i64, i64);

/// Result name for attempts without an outcome.
const PENDING: &str = "pending";

impl Store {
    pub async fn stats(&self, campaign: CampaignId) -> Result<CampaignStats, StoreError> {
        let (statuses, attempts): (Vec<(String, i64)>, Vec<AttemptGroup>) = with_pool!(self, pool => {
            let statuses = sqlx::query_as(
                "SELECT status, COUNT(*) FROM dialer_records WHERE campaign_id = $1 GROUP BY status",
            )
            .bind(campaign.0)
            .fetch_all(pool)
            .await?;
            let attempts = sqlx::query_as(
                "SELECT agent, call_result, COUNT(*), COUNT(connected_ms), \
                 CAST(COALESCE(SUM(ended_ms - connected_ms), 0) AS BIGINT) \
                 FROM dialer_attempts WHERE campaign_id = $1 GROUP BY agent, call_result",
            )
            .bind(campaign.0)
            .fetch_all(pool)
            .await?;
            (statuses, attempts)
        });
        let mut stats = CampaignStats {
            campaign,
            total_records: 0,
            records: STATUS_NAMES.iter().map(|s| (s.to_string(), 0)).collect(),
            attempts: 0,
            connected: 0,
            results: BTreeMap::new(),
            agents: BTreeMap::new(),
        };
        for (status, n) in statuses {
            stats.total_records += n;
            *stats.records.entry(status).or_default() += n;
        }
        for (agent, result, n, connected, talk_ms) in attempts {
            let result = result.unwrap_or_else(|| PENDING.to_string());
            stats.attempts += n;
            stats.connected += connected;
            *stats.results.entry(result.clone()).or_default() += n;
            let a = stats.agents.entry(agent).or_default();
            a.attempts += n;
            a.connected += connected;
            a.talk_seconds += talk_ms / 1000;
            *a.results.entry(result).or_default() += n;
        }
        Ok(stats)
    }

    /// Up to `limit` records of the campaign with id above `after`, in id order, each
    /// with its last attempt: page through with the last row's id.
    pub async fn export_page(
        &self,
        campaign: CampaignId,
        after: RecordId,
        limit: i64,
    ) -> Result<Vec<ExportRow>, StoreError> {
        const SQL: &str = "SELECT r.id, r.external_id, r.name, r.status, r.attempts, \
            r.last_result, r.next_at, a.agent, a.number, a.started_ms, a.connected_ms, \
            a.ended_ms, a.sip_status, a.dispositions, a.notes, a.dnc \
            FROM dialer_records r LEFT JOIN dialer_attempts a ON a.id = \
            (SELECT MAX(x.id) FROM dialer_attempts x WHERE x.record_id = r.id) \
            WHERE r.campaign_id = $1 AND r.id > $2 ORDER BY r.id LIMIT $3";
        with_pool!(self, pool => {
            let rows = sqlx::query(SQL)
                .bind(campaign.0)
                .bind(after.0)
                .bind(limit.max(0))
                .fetch_all(pool)
                .await?;
            rows.iter().map(export_from_row).collect()
        })
    }
}

fn export_from_row<'r, R>(row: &'r R) -> Result<ExportRow, StoreError>
where
    R: Row,
    usize: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let time = |i: usize| -> Result<Option<DateTime<Utc>>, StoreError> {
        let ms: Option<i64> = row.try_get(i)?;
        ms.map(from_ms).transpose()
    };
    let status: String = row.try_get(3)?;
    let next_at = if status == "ready" || status == "callback" {
        time(6)?.filter(|t| t.timestamp_millis() > 0)
    } else {
        None
    };
    let dispositions: Option<String> = row.try_get(13)?;
    let dnc: Option<i64> = row.try_get(15)?;
    Ok(ExportRow {
        record: RecordId(row.try_get(0)?),
        external_id: row.try_get(1)?,
        name: row.try_get(2)?,
        status,
        attempts: row.try_get(4)?,
        last_result: row.try_get(5)?,
        next_at,
        agent: row.try_get(7)?,
        number: row.try_get(8)?,
        started_at: time(9)?,
        connected_at: time(10)?,
        ended_at: time(11)?,
        sip_status: row.try_get(12)?,
        dispositions: match dispositions {
            Some(d) => {
                serde_json::from_str(&d).map_err(|e| StoreError::corrupt("dispositions", e))?
            }
            None => Vec::new(),
        },
        notes: row.try_get::<Option<String>, _>(14)?.unwrap_or_default(),
        dnc: dnc.unwrap_or(0) != 0,
    })
}
