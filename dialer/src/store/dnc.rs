//! Do-not-call lists: one global list (stored with campaign id 0) and one per campaign,
//! holding E.164 numbers.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{from_ms, to_ms, with_pool, Store, StoreError};
use crate::campaign::CampaignId;
use crate::phone::E164;

/// One listing of a number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DncEntry {
    pub number: E164,
    /// `None` for the global list.
    pub campaign: Option<CampaignId>,
    pub added_at: DateTime<Utc>,
    /// Who or what listed it (API, agent and record...).
    pub source: String,
}

fn scope_id(campaign: Option<CampaignId>) -> i64 {
    campaign.map_or(0, |c| c.0)
}

impl Store {
    /// Adds numbers to the global list (`None`) or a campaign's; returns how many were
    /// not listed there yet.
    pub async fn add_dnc(
        &self,
        campaign: Option<CampaignId>,
        numbers: &[E164],
        source: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut added = 0;
        with_pool!(self, pool => {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            for number in numbers {
                added += sqlx::query(
                    "INSERT INTO dialer_dnc (number, campaign_id, added_ms, source) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (number, campaign_id) DO NOTHING",
                )
                .bind(number.as_str())
                .bind(scope_id(campaign))
                .bind(to_ms(now))
                .bind(source)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            }
            tx.commit().await?;
        });
        Ok(added)
    }

    /// Removes a number from one list; returns whether it was there.
    pub async fn remove_dnc(
        &self,
        campaign: Option<CampaignId>,
        number: &E164,
    ) -> Result<bool, StoreError> {
        let n = with_pool!(self, pool => {
            sqlx::query("DELETE FROM dialer_dnc WHERE number = $1 AND campaign_id = $2")
                .bind(number.as_str())
                .bind(scope_id(campaign))
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n > 0)
    }

    /// Every list the number is on (global first, then campaigns by id).
    pub async fn dnc_entries(&self, number: &E164) -> Result<Vec<DncEntry>, StoreError> {
        let rows: Vec<(i64, i64, String)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT campaign_id, added_ms, source FROM dialer_dnc WHERE number = $1 \
                 ORDER BY campaign_id",
            )
            .bind(number.as_str())
            .fetch_all(pool)
            .await?
        });
        rows.into_iter()
            .map(|(campaign, added_ms, source)| {
                Ok(DncEntry {
                    number: number.clone(),
                    campaign: (campaign != 0).then_some(CampaignId(campaign)),
                    added_at: from_ms(added_ms)?,
                    source,
                })
            })
            .collect()
    }
}
