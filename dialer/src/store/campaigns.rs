//! Campaign rows: the settings as JSON, the status and name as columns.

use chrono::{DateTime, Utc};
use sqlx::{ColumnIndex, Decode, Row, Type};

use super::{from_ms, to_ms, with_pool, Store, StoreError};
use crate::campaign::{Campaign, CampaignCommand, CampaignId, CampaignSpec, CampaignStatus};

const COLUMNS: &str = "id, status, spec, created_ms, updated_ms";

impl Store {
    /// Stores a new campaign (`stopped`). The spec must be valid.
    pub async fn create_campaign(
        &self,
        spec: &CampaignSpec,
        now: DateTime<Utc>,
    ) -> Result<Campaign, StoreError> {
        spec.validate()?;
        let json = serde_json::to_string(spec).map_err(|e| StoreError::corrupt("campaign", e))?;
        let status = CampaignStatus::Stopped;
        let id: i64 = with_pool!(self, pool => {
            sqlx::query_scalar(
                "INSERT INTO dialer_campaigns (name, status, spec, created_ms, updated_ms) \
                 VALUES ($1, $2, $3, $4, $4) RETURNING id",
            )
            .bind(&spec.name)
            .bind(status.as_str())
            .bind(&json)
            .bind(to_ms(now))
            .fetch_one(pool)
            .await?
        });
        Ok(Campaign {
            id: CampaignId(id),
            status,
            spec: spec.clone(),
            created_at: now,
            updated_at: now,
        })
    }

    pub async fn campaign(&self, id: CampaignId) -> Result<Option<Campaign>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM dialer_campaigns WHERE id = $1");
        with_pool!(self, pool => {
            let row = sqlx::query(&sql).bind(id.0).fetch_optional(pool).await?;
            row.as_ref().map(campaign_from_row).transpose()
        })
    }

    /// Every campaign, oldest first.
    pub async fn campaigns(&self) -> Result<Vec<Campaign>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM dialer_campaigns ORDER BY id");
        with_pool!(self, pool => {
            let rows = sqlx::query(&sql).fetch_all(pool).await?;
            rows.iter().map(campaign_from_row).collect()
        })
    }

    /// Replaces a campaign's settings (validated); the status is kept.
    pub async fn update_campaign(
        &self,
        id: CampaignId,
        spec: &CampaignSpec,
        now: DateTime<Utc>,
    ) -> Result<Campaign, StoreError> {
        spec.validate()?;
        let json = serde_json::to_string(spec).map_err(|e| StoreError::corrupt("campaign", e))?;
        let sql = format!(
            "UPDATE dialer_campaigns SET name = $1, spec = $2, updated_ms = $3 WHERE id = $4 \
             RETURNING {COLUMNS}"
        );
        with_pool!(self, pool => {
            let row = sqlx::query(&sql)
                .bind(&spec.name)
                .bind(&json)
                .bind(to_ms(now))
                .bind(id.0)
                .fetch_optional(pool)
                .await?;
            match row {
                Some(row) => campaign_from_row(&row),
                None => Err(StoreError::CampaignNotFound(id)),
            }
        })
    }

    /// Applies a life-cycle command atomically (read, check, write in one transaction).
    pub async fn command_campaign(
        &self,
        id: CampaignId,
        command: CampaignCommand,
        now: DateTime<Utc>,
    ) -> Result<Campaign, StoreError> {
        let changed = self.transition(id, now, |status| Ok(Some(status.apply(command)?)));
        changed.await?.ok_or(StoreError::CampaignNotFound(id))
    }

    /// Marks a running campaign `completed` when none of its records can be called any
    /// more (none ready, leased, dialling or waiting for a callback). Returns the
    /// campaign when it changed.
    pub async fn complete_if_exhausted(
        &self,
        id: CampaignId,
        now: DateTime<Utc>,
    ) -> Result<Option<Campaign>, StoreError> {
        let open: Option<i64> = with_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT id FROM dialer_records WHERE campaign_id = $1 AND next_at IS NOT NULL LIMIT 1",
            )
            .bind(id.0)
            .fetch_optional(pool)
            .await?
        });
        if open.is_some() {
            return Ok(None);
        }
        self.transition(id, now, |status| {
            Ok((status == CampaignStatus::Running).then_some(CampaignStatus::Completed))
        })
        .await
    }

    /// Reads the status in a write transaction and stores what `decide` returns;
    /// `Ok(None)` when `decide` leaves it as it is.
    async fn transition(
        &self,
        id: CampaignId,
        now: DateTime<Utc>,
        decide: impl FnOnce(CampaignStatus) -> Result<Option<CampaignStatus>, StoreError>,
    ) -> Result<Option<Campaign>, StoreError> {
        let select = format!(
            "SELECT {COLUMNS} FROM dialer_campaigns WHERE id = $1{}",
            self.for_update()
        );
        let update = format!(
            "UPDATE dialer_campaigns SET status = $1, updated_ms = $2 WHERE id = $3 \
             RETURNING {COLUMNS}"
        );
        with_pool!(self, pool => {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let Some(row) = sqlx::query(&select).bind(id.0).fetch_optional(&mut *tx).await? else {
                return Err(StoreError::CampaignNotFound(id));
            };
            let current = campaign_from_row(&row)?;
            let Some(next) = decide(current.status)? else {
                return Ok(None);
            };
            let row = sqlx::query(&update)
                .bind(next.as_str())
                .bind(to_ms(now))
                .bind(id.0)
                .fetch_one(&mut *tx)
                .await?;
            let campaign = campaign_from_row(&row)?;
            tx.commit().await?;
            Ok(Some(campaign))
        })
    }
}

pub(super) fn campaign_from_row<'r, R>(row: &'r R) -> Result<Campaign, StoreError>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let status: String = row.try_get("status")?;
    let spec: String = row.try_get("spec")?;
    Ok(Campaign {
        id: CampaignId(row.try_get("id")?),
        status: CampaignStatus::parse(&status)
            .ok_or_else(|| StoreError::corrupt("campaign status", &status))?,
        spec: serde_json::from_str(&spec).map_err(|e| StoreError::corrupt("campaign", e))?,
        created_at: from_ms(row.try_get("created_ms")?)?,
        updated_at: from_ms(row.try_get("updated_ms")?)?,
    })
}
