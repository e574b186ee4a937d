//! The writes of the preview flow: starting a call attempt and closing a record.
//!
//! Both check, in their transaction, that the record is still the agent's (leased or
//! dialling, held by that agent): a lease that expired and went to someone else makes
//! them fail with [`StoreError::LeaseLost`] instead of overwriting the new holder's work.

use super::records::json;
use super::{to_ms, with_pool, Store, StoreError};
use crate::campaign::{CampaignId, DncScope};
use crate::outcome::NextStatus;
use crate::phone::{Phone, E164};
use crate::preview::{CloseRecord, StartAttempt};
use crate::record::AttemptId;

impl Store {
    /// Records a call attempt and marks the record `dialling` until `lease_until`;
    /// refuses a number on the global or the campaign's DNC list.
    pub async fn start_attempt(&self, s: &StartAttempt) -> Result<AttemptId, StoreError> {
        let select = format!(
            "SELECT status, agent, phones FROM dialer_records WHERE id = $1 AND campaign_id = $2{}",
            self.for_update()
        );
        let at = to_ms(s.at);
        with_pool!(self, pool => {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let row: Option<(String, Option<String>, String)> = sqlx::query_as(&select)
                .bind(s.record.0)
                .bind(s.campaign.0)
                .fetch_optional(&mut *tx)
                .await?;
            let Some((status, holder, phones)) = row else {
                return Err(StoreError::LeaseLost(s.record));
            };
            if status != "leased" || holder.as_deref() != Some(s.agent.as_str()) {
                return Err(StoreError::LeaseLost(s.record));
            }
            let listed: Option<String> = sqlx::query_scalar(
                "SELECT number FROM dialer_dnc WHERE number = $1 AND campaign_id IN (0, $2) LIMIT 1",
            )
            .bind(s.number.as_str())
            .bind(s.campaign.0)
            .fetch_optional(&mut *tx)
            .await?;
            if listed.is_some() {
                return Err(StoreError::Dnc(s.number.clone()));
            }
            let mut phones: Vec<Phone> = serde_json::from_str(&phones)
                .map_err(|e| StoreError::corrupt("phones", e))?;
            if s.new_phone && !phones.iter().any(|p| p.number == s.number) {
                phones.push(Phone { number: s.number.clone(), kind: s.phone_type });
            }
            let attempt: i64 = sqlx::query_scalar(
                "INSERT INTO dialer_attempts (record_id, campaign_id, agent, number, phone_type, \
                 started_ms, node) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
            )
            .bind(s.record.0)
            .bind(s.campaign.0)
            .bind(s.agent.as_str())
            .bind(s.number.as_str())
            .bind(s.phone_type.as_str())
            .bind(at)
            .bind(self.node())
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE dialer_records SET status = 'dialling', next_at = $1, \
                 attempts = attempts + 1, phones = $2, updated_ms = $3 WHERE id = $4",
            )
            .bind(to_ms(s.lease_until))
            .bind(json(&phones)?)
            .bind(at)
            .bind(s.record.0)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(AttemptId(attempt))
        })
    }

    /// Lets a record go: finishes its attempt (when a call was made), sets its next
    /// status and adds numbers to the DNC list, in one transaction.
    pub async fn close_record(&self, c: &CloseRecord) -> Result<(), StoreError> {
        let select = format!(
            "SELECT status, agent FROM dialer_records WHERE id = $1 AND campaign_id = $2{}",
            self.for_update()
        );
        let (status, priority, next_at, agent) = status_columns(&c.next);
        let at = to_ms(c.at);
        let dnc_campaign = match c.dnc_scope {
            DncScope::Global => 0,
            DncScope::Campaign => c.campaign.0,
        };
        with_pool!(self, pool => {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let row: Option<(String, Option<String>)> = sqlx::query_as(&select)
                .bind(c.record.0)
                .bind(c.campaign.0)
                .fetch_optional(&mut *tx)
                .await?;
            let held = matches!(&row, Some((s, Some(holder)))
                if (s == "leased" || s == "dialling") && holder == &c.agent);
            if !held {
                return Err(StoreError::LeaseLost(c.record));
            }
            if let Some(call) = &c.call {
                let (result, dispositions, notes, dnc) = match &c.outcome {
                    Some(o) => (Some(o.call_result.as_str()), json(&o.dispositions)?, o.notes.as_str(), o.dnc),
                    None => (None, "[]".to_string(), "", false),
                };
                // What recovery kept of an attempt the switch restarted during is kept.
                sqlx::query(
                    "UPDATE dialer_attempts SET \
                     connected_ms = CASE WHEN recovered_ms IS NULL THEN $1 ELSE connected_ms END, \
                     ended_ms = CASE WHEN recovered_ms IS NULL THEN $2 ELSE ended_ms END, \
                     sip_status = CASE WHEN recovered_ms IS NULL THEN $3 ELSE sip_status END, \
                     call_result = $4, dispositions = $5, notes = $6, dnc = $7 \
                     WHERE id = $8 AND record_id = $9",
                )
                .bind(call.connected_at.map(to_ms))
                .bind(to_ms(call.ended_at))
                .bind(i64::from(call.sip_status))
                .bind(result)
                .bind(dispositions)
                .bind(notes)
                .bind(i64::from(dnc))
                .bind(call.attempt.0)
                .bind(c.record.0)
                .execute(&mut *tx)
                .await?;
            }
            let last_result = c.outcome.as_ref().map(|o| o.call_result.as_str());
            sqlx::query(
                "UPDATE dialer_records SET status = $1, priority = $2, next_at = $3, agent = $4, \
                 last_result = COALESCE($5, last_result), updated_ms = $6 WHERE id = $7",
            )
            .bind(status)
            .bind(priority)
            .bind(next_at)
            .bind(agent)
            .bind(last_result)
            .bind(at)
            .bind(c.record.0)
            .execute(&mut *tx)
            .await?;
            for number in &c.dnc {
                sqlx::query(
                    "INSERT INTO dialer_dnc (number, campaign_id, added_ms, source) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (number, campaign_id) DO NOTHING",
                )
                .bind(number.as_str())
                .bind(dnc_campaign)
                .bind(at)
                .bind(format!("agent {} record {}", c.agent, c.record))
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    /// Whether `number` is on the global list or the campaign's.
    pub async fn is_dnc(&self, campaign: CampaignId, number: &E164) -> Result<bool, StoreError> {
        let found: Option<String> = with_pool!(self, pool => {
            sqlx::query_scalar(
                "SELECT number FROM dialer_dnc WHERE number = $1 AND campaign_id IN (0, $2) LIMIT 1",
            )
            .bind(number.as_str())
            .bind(campaign.0)
            .fetch_optional(pool)
            .await?
        });
        Ok(found.is_some())
    }
}

/// `(status, priority, next_at, agent)` columns of a next status.
pub(super) fn status_columns(
    next: &NextStatus,
) -> (&'static str, i64, Option<i64>, Option<String>) {
    match next {
        NextStatus::Ready { at } => ("ready", 1, Some(to_ms(*at)), None),
        NextStatus::Done => ("done", 1, None, None),
        NextStatus::Callback { at, agent } => ("callback", 0, Some(to_ms(*at)), agent.clone()),
        NextStatus::DoNotCall => ("do_not_call", 1, None, None),
        NextStatus::Failed => ("failed", 1, None, None),
    }
}
