//! Record rows: reads, and the row <-> [`Record`] mapping (imports write them, in
//! `imports`).
//!
//! How a status is stored: `status` names it; `next_at` is when the record can be
//! leased (ready: from then on, `0` for never-called imports; callback: its time;
//! leased and dialling: when the lease ends, so an expired lease is leasable again);
//! `NULL` for closed records. `agent` holds the lease holder or the callback's agent.
//! `priority` is 0 for callbacks, 1 otherwise, so due callbacks go first.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use sqlx::{ColumnIndex, Decode, Row, Type};

use super::{from_ms, with_pool, Store, StoreError};
use crate::campaign::CampaignId;
use crate::phone::{Phone, PhoneType, E164};
use crate::record::{Attempt, AttemptId, Record, RecordId, RecordStatus};

pub(super) const RECORD_COLUMNS: &str = "id, campaign_id, external_id, name, time_zone, phones, \
     fields, status, next_at, agent, attempts, last_result, updated_ms";

pub(super) const ATTEMPT_COLUMNS: &str = "id, record_id, campaign_id, agent, number, \
     phone_type, started_ms, connected_ms, ended_ms, sip_status, call_result, dispositions, \
     notes, dnc, recovered_ms";

impl Store {
    pub async fn record(&self, id: RecordId) -> Result<Option<Record>, StoreError> {
        let sql = format!("SELECT {RECORD_COLUMNS} FROM dialer_records WHERE id = $1");
        with_pool!(self, pool => {
            let row = sqlx::query(&sql).bind(id.0).fetch_optional(pool).await?;
            row.as_ref().map(record_from_row).transpose()
        })
    }

    /// A record by the manager's external id.
    pub async fn record_by_external_id(
        &self,
        campaign: CampaignId,
        external_id: &str,
    ) -> Result<Option<Record>, StoreError> {
        let sql = format!(
            "SELECT {RECORD_COLUMNS} FROM dialer_records WHERE campaign_id = $1 AND external_id = $2"
        );
        with_pool!(self, pool => {
            let row = sqlx::query(&sql)
                .bind(campaign.0)
                .bind(external_id)
                .fetch_optional(pool)
                .await?;
            row.as_ref().map(record_from_row).transpose()
        })
    }

    /// The record's call attempts, oldest first.
    pub async fn attempts(&self, record: RecordId) -> Result<Vec<Attempt>, StoreError> {
        let sql = format!(
            "SELECT {ATTEMPT_COLUMNS} FROM dialer_attempts WHERE record_id = $1 ORDER BY id"
        );
        with_pool!(self, pool => {
            let rows = sqlx::query(&sql).bind(record.0).fetch_all(pool).await?;
            rows.iter().map(attempt_from_row).collect()
        })
    }

    /// Number of records of a campaign.
    pub async fn count_records(&self, campaign: CampaignId) -> Result<i64, StoreError> {
        let n: i64 = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT COUNT(*) FROM dialer_records WHERE campaign_id = $1")
                .bind(campaign.0)
                .fetch_one(pool)
                .await?
        });
        Ok(n)
    }
}

pub(super) fn json<T: Serialize>(value: &T) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::corrupt("json", e))
}

pub(super) fn record_from_row<'r, R>(row: &'r R) -> Result<Record, StoreError>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let time_zone: Option<String> = row.try_get("time_zone")?;
    let time_zone = time_zone
        .map(|z| {
            z.parse::<Tz>()
                .map_err(|_| StoreError::corrupt("time zone", z))
        })
        .transpose()?;
    let phones: String = row.try_get("phones")?;
    let fields: String = row.try_get("fields")?;
    let status: String = row.try_get("status")?;
    let next_at: Option<i64> = row.try_get("next_at")?;
    let agent: Option<String> = row.try_get("agent")?;
    let attempts: i64 = row.try_get("attempts")?;
    Ok(Record {
        id: RecordId(row.try_get("id")?),
        campaign: CampaignId(row.try_get("campaign_id")?),
        external_id: row.try_get("external_id")?,
        name: row.try_get("name")?,
        time_zone,
        phones: serde_json::from_str::<Vec<Phone>>(&phones)
            .map_err(|e| StoreError::corrupt("phones", e))?,
        fields: serde_json::from_str::<BTreeMap<String, String>>(&fields)
            .map_err(|e| StoreError::corrupt("fields", e))?,
        status: status_from_columns(&status, next_at, agent)?,
        attempts: u32::try_from(attempts).map_err(|_| StoreError::corrupt("attempts", attempts))?,
        last_result: row.try_get("last_result")?,
        updated_at: from_ms(row.try_get("updated_ms")?)?,
    })
}

fn status_from_columns(
    status: &str,
    next_at: Option<i64>,
    agent: Option<String>,
) -> Result<RecordStatus, StoreError> {
    let at = || {
        next_at
            .ok_or_else(|| StoreError::corrupt("record status", format!("{status} without time")))
            .and_then(from_ms)
    };
    let holder = |agent: Option<String>| {
        agent.ok_or_else(|| StoreError::corrupt("record status", format!("{status} without agent")))
    };
    Ok(match status {
        "ready" => RecordStatus::Ready {
            retry_at: next_at.filter(|ms| *ms > 0).map(from_ms).transpose()?,
        },
        "leased" => RecordStatus::Leased {
            agent: holder(agent)?,
            until: at()?,
        },
        "dialling" => RecordStatus::Dialling {
            agent: holder(agent)?,
            until: at()?,
        },
        "done" => RecordStatus::Done,
        "callback" => RecordStatus::Callback { at: at()?, agent },
        "do_not_call" => RecordStatus::DoNotCall,
        "failed" => RecordStatus::Failed,
        other => return Err(StoreError::corrupt("record status", other)),
    })
}

pub(super) fn attempt_from_row<'r, R>(row: &'r R) -> Result<Attempt, StoreError>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let number: String = row.try_get("number")?;
    let phone_type: String = row.try_get("phone_type")?;
    let opt_time = |column: &'static str| -> Result<Option<DateTime<Utc>>, StoreError> {
        let ms: Option<i64> = row.try_get(column)?;
        ms.map(from_ms).transpose()
    };
    let sip_status: Option<i64> = row.try_get("sip_status")?;
    let dispositions: String = row.try_get("dispositions")?;
    let dnc: i64 = row.try_get("dnc")?;
    Ok(Attempt {
        id: AttemptId(row.try_get("id")?),
        record: RecordId(row.try_get("record_id")?),
        campaign: CampaignId(row.try_get("campaign_id")?),
        agent: row.try_get("agent")?,
        number: E164::parse(&number, None).map_err(|e| StoreError::corrupt("number", e))?,
        phone_type: PhoneType::parse(&phone_type)
            .map_err(|e| StoreError::corrupt("phone type", e))?,
        started_at: from_ms(row.try_get("started_ms")?)?,
        connected_at: opt_time("connected_ms")?,
        ended_at: opt_time("ended_ms")?,
        sip_status: sip_status
            .map(|s| u16::try_from(s).map_err(|_| StoreError::corrupt("sip status", s)))
            .transpose()?,
        call_result: row.try_get("call_result")?,
        dispositions: serde_json::from_str(&dispositions)
            .map_err(|e| StoreError::corrupt("dispositions", e))?,
        notes: row.try_get("notes")?,
        dnc: dnc != 0,
        recovered_at: opt_time("recovered_ms")?,
    })
}
