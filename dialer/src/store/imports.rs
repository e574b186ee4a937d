//! Writing imported records: batched inserts and updates, keyed by external id.
//!
//! Each row an import writes carries the import's tag and the file line it came from
//! (`import_tag`, `import_line`), so a later line of the same file with an external id
//! already written, in this batch or an earlier one, is found in the same query that
//! tells inserts from updates, without the importer remembering every id of a file.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::records::json;
use super::{to_ms, with_pool, Backend, Store, StoreError};
use crate::campaign::CampaignId;
use crate::record::NewRecord;

/// Rows per multi-row `INSERT` (6 binds each, well under both engines' limits).
const INSERT_CHUNK: usize = 100;

/// The batch's ids the campaign already has, with the import that wrote them (`$2`: the
/// ids as a JSON array; the JSON table function is the only difference between engines).
const EXISTING_SQLITE: &str = "SELECT external_id, import_tag, import_line FROM dialer_records \
     WHERE campaign_id = $1 AND external_id IN (SELECT value FROM json_each($2))";
const EXISTING_POSTGRES: &str = "SELECT external_id, import_tag, import_line FROM dialer_records \
     WHERE campaign_id = $1 AND external_id IN (SELECT json_array_elements_text($2::json))";

/// What an import batch did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportCounts {
    pub inserted: u64,
    pub updated: u64,
}

/// One row of a file: the line it starts on and the record it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportRow {
    pub line: u64,
    pub record: NewRecord,
}

/// A row not imported because an earlier line of the same file has its external id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Duplicate {
    pub line: u64,
    pub first_line: u64,
    pub external_id: String,
}

/// What [`Store::import_batch`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchWritten {
    pub counts: ImportCounts,
    /// In line order.
    pub duplicates: Vec<Duplicate>,
}

impl Store {
    /// Writes one batch of import `tag`, in one transaction: inserts new records and
    /// refreshes the data (name, zone, numbers, fields) of those whose external id the
    /// campaign already has from before this import (status, attempts and history are
    /// kept, so importing the same file twice changes nothing). A row whose external id
    /// this import already wrote, from an earlier line, is not written: it is returned
    /// as a duplicate of that line (the first line wins).
    pub async fn import_batch(
        &self,
        campaign: CampaignId,
        tag: i64,
        rows: &[ImportRow],
        now: DateTime<Utc>,
    ) -> Result<BatchWritten, StoreError> {
        let mut first: HashMap<&str, u64> = HashMap::with_capacity(rows.len());
        let mut unique = Vec::with_capacity(rows.len());
        let mut duplicates = Vec::new();
        for row in rows {
            let id = row.record.external_id.as_str();
            match first.get(id) {
                Some(&first_line) => duplicates.push(Duplicate {
                    line: row.line,
                    first_line,
                    external_id: id.to_string(),
                }),
                None => {
                    first.insert(id, row.line);
                    unique.push((&row.record, row.line));
                }
            }
        }
        let mut written = self.write(campaign, Some(tag), &unique, now).await?;
        written.duplicates.extend(duplicates);
        written.duplicates.sort_by_key(|d| d.line);
        Ok(written)
    }

    /// Inserts or refreshes records outside a file import; a later row with the same
    /// external id in `records` wins.
    pub async fn upsert_records(
        &self,
        campaign: CampaignId,
        records: &[NewRecord],
        now: DateTime<Utc>,
    ) -> Result<ImportCounts, StoreError> {
        let mut latest: HashMap<&str, usize> = HashMap::with_capacity(records.len());
        for (i, r) in records.iter().enumerate() {
            latest.insert(r.external_id.as_str(), i);
        }
        let unique: Vec<(&NewRecord, u64)> = records
            .iter()
            .enumerate()
            .filter(|(i, r)| latest.get(r.external_id.as_str()) == Some(i))
            .map(|(i, r)| (r, i as u64 + 1))
            .collect();
        Ok(self.write(campaign, None, &unique, now).await?.counts)
    }

    /// Writes records with distinct external ids; with a tag, rows that tag already wrote
    /// are skipped and returned as duplicates.
    async fn write(
        &self,
        campaign: CampaignId,
        tag: Option<i64>,
        unique: &[(&NewRecord, u64)],
        now: DateTime<Utc>,
    ) -> Result<BatchWritten, StoreError> {
        if unique.is_empty() {
            return Ok(BatchWritten::default());
        }
        let encoded: Vec<(String, String)> = unique
            .iter()
            .map(|(r, _)| Ok((json(&r.phones)?, json(&r.fields)?)))
            .collect::<Result<_, StoreError>>()?;
        // The batch's ids as one JSON array: one bind instead of one per row.
        let ids: Vec<&str> = unique.iter().map(|(r, _)| r.external_id.as_str()).collect();
        let ids = json(&ids)?;
        let select = match self.backend() {
            Backend::Sqlite => EXISTING_SQLITE,
            Backend::Postgres => EXISTING_POSTGRES,
        };
        let now_ms = to_ms(now);
        let mut written = BatchWritten::default();
        with_pool!(self, pool => {
            let mut tx = pool.begin_with(self.begin_write()).await?;
            let existing: Vec<(String, Option<i64>, Option<i64>)> = sqlx::query_as(select)
                .bind(campaign.0)
                .bind(ids.as_str())
                .fetch_all(&mut *tx)
                .await?;
            // For each id the campaign has: `Some(line)` when this import wrote it.
            let existing: HashMap<&str, Option<u64>> = existing
                .iter()
                .map(|(id, row_tag, line)| {
                    let mine = tag.is_some() && *row_tag == tag;
                    let line = line.and_then(|l| u64::try_from(l).ok()).unwrap_or(0);
                    (id.as_str(), mine.then_some(line))
                })
                .collect();
            let mut new = Vec::new();
            for ((r, line), (phones, fields)) in unique.iter().zip(&encoded) {
                let id = r.external_id.as_str();
                match existing.get(id) {
                    None => new.push((r, *line, phones, fields)),
                    Some(Some(first_line)) => written.duplicates.push(Duplicate {
                        line: *line,
                        first_line: *first_line,
                        external_id: id.to_string(),
                    }),
                    Some(None) => {
                        sqlx::query(
                            "UPDATE dialer_records SET name = $1, time_zone = $2, phones = $3, \
                             fields = $4, updated_ms = $5, import_tag = $6, import_line = $7 \
                             WHERE campaign_id = $8 AND external_id = $9",
                        )
                        .bind(r.name.as_str())
                        .bind(r.time_zone.map(|tz| tz.name()))
                        .bind(phones.as_str())
                        .bind(fields.as_str())
                        .bind(now_ms)
                        .bind(tag)
                        .bind(*line as i64)
                        .bind(campaign.0)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                        written.counts.updated += 1;
                    }
                }
            }
            for chunk in new.chunks(INSERT_CHUNK) {
                let sql = insert_sql(chunk.len());
                let mut q = sqlx::query(&sql).bind(campaign.0).bind(now_ms).bind(tag);
                for (r, line, phones, fields) in chunk {
                    q = q
                        .bind(r.external_id.as_str())
                        .bind(r.name.as_str())
                        .bind(r.time_zone.map(|tz| tz.name()))
                        .bind(phones.as_str())
                        .bind(fields.as_str())
                        .bind(*line as i64);
                }
                q.execute(&mut *tx).await?;
            }
            tx.commit().await?;
            written.counts.inserted = new.len() as u64;
        });
        Ok(written)
    }
}

fn insert_sql(rows: usize) -> String {
    let mut sql = String::from(
        "INSERT INTO dialer_records (campaign_id, updated_ms, import_tag, external_id, name, \
         time_zone, phones, fields, import_line, status, priority, next_at, attempts) VALUES ",
    );
    for i in 0..rows {
        let p = 4 + i * 6;
        if i > 0 {
            sql.push_str(", ");
        }
        sql.push_str(&format!(
            "($1, $2, $3, ${}, ${}, ${}, ${}, ${}, ${}, 'ready', 1, 0, 0)",
            p,
            p + 1,
            p + 2,
            p + 3,
            p + 4,
            p + 5
        ));
    }
    sql
}
