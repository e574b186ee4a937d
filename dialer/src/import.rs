//! CSV import of a contact list into a campaign, streamed in bounded memory.
//!
//! The file is read from any `AsyncRead` (an HTTP body, a file) by the [`reader`] on a
//! blocking thread, which hands batches of parsed rows to the async side through a
//! channel of two batches; the async side writes each batch in one transaction. So the
//! memory held is a few batches and one row being assembled, whatever the file's size.
//!
//! Every bad line is reported by number and reason while the good rows load: a row that
//! does not fit the columns (rules in [`columns`]), a line longer than [`MAX_ROW_BYTES`]
//! (skipped without being held), an unterminated quote (only the line where it opened;
//! the lines after it are read as rows, see [`reader`]), and a row whose `external_id`
//! an earlier line of the same file already had (the first one is kept; the report says
//! which line it was). `rows` counts the file's data rows: its lines less the header and
//! blank lines, a multi-line quoted field making one row.
//!
//! Rows are keyed by external id, so importing a file again (all of it, or after a
//! failure part-way) adds nothing twice: the records are updated.

mod columns;
pub mod reader;

use std::io::{BufReader, Read};
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::Utc;
use serde::Serialize;
use thiserror::Error;
use tokio::io::AsyncRead;
use tokio::sync::mpsc;
use tokio_util::io::SyncIoBridge;

use crate::campaign::{Campaign, CampaignId};
use crate::store::{ImportRow, Store, StoreError};

pub use columns::Columns;
use reader::{CsvReader, Item};
pub use reader::{MAX_RECORD_LINES, MAX_ROW_BYTES};

#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Rows per transaction.
    pub batch_rows: usize,
    /// Bad rows listed in the report; more are only counted.
    pub max_reported_errors: usize,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            batch_rows: 1000,
            max_reported_errors: 1000,
        }
    }
}

/// A bad row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RowError {
    pub line: u64,
    pub reason: String,
}

/// Counters of an import, reported after each batch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportProgress {
    pub campaign: CampaignId,
    /// Data rows read (good and bad): `inserted + updated + rejected`.
    pub rows: u64,
    /// Bytes of the file read.
    pub bytes: u64,
    pub inserted: u64,
    pub updated: u64,
    /// Bad rows, duplicates within the file included.
    pub rejected: u64,
    pub done: bool,
}

/// The result of an import.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    #[serde(flatten)]
    pub progress: ImportProgress,
    /// The first bad rows, in file order.
    pub errors: Vec<RowError>,
    /// More rows were bad than are listed.
    pub errors_truncated: bool,
}

#[derive(Debug, Error)]
pub enum ImportError {
    #[error("bad header: {0}")]
    Header(String),
    #[error("the file is empty (no header)")]
    Empty,
    /// The header line is too long (a data row that is too long is only reported).
    #[error("line {line}: row longer than {MAX_ROW_BYTES} bytes")]
    RowTooLong { line: u64 },
    #[error("reading the file: {0}")]
    Read(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the parsing thread hands over.
struct Batch {
    records: Vec<ImportRow>,
    errors: Vec<RowError>,
    rows: u64,
    bytes: u64,
}

/// A tag no other import uses (the clock in nanoseconds, made distinct within the
/// process): rows written by this import carry it, so a later line of the same file with
/// an id already written is told from a re-import.
fn import_tag() -> i64 {
    static LAST: AtomicI64 = AtomicI64::new(0);
    let now = Utc::now().timestamp_nanos_opt().unwrap_or_default();
    let previous = LAST.fetch_max(now, Ordering::Relaxed);
    if previous >= now {
        LAST.fetch_add(1, Ordering::Relaxed) + 1
    } else {
        now
    }
}

/// Imports `reader` into `campaign`, calling `progress` after each batch is written.
/// Batches written before an error stay (import again to finish: nothing is doubled).
pub async fn import_csv<R>(
    store: &Store,
    campaign: &Campaign,
    reader: R,
    options: ImportOptions,
    mut progress: impl FnMut(&ImportProgress) + Send,
) -> Result<ImportReport, ImportError>
where
    R: AsyncRead + Unpin + Send + 'static,
{
    let (tx, mut rx) = mpsc::channel::<Result<Batch, ImportError>>(2);
    let country = campaign.spec.default_country_code.clone();
    let batch_rows = options.batch_rows.max(1);
    let bridge = SyncIoBridge::new(reader);
    let tag = import_tag();
    let parser = tokio::task::spawn_blocking(move || {
        if let Err(e) = parse(bridge, country, batch_rows, &tx) {
            let _ = tx.blocking_send(Err(e));
        }
    });
    let mut report = ImportReport {
        progress: ImportProgress {
            campaign: campaign.id,
            ..ImportProgress::default()
        },
        errors: Vec::new(),
        errors_truncated: false,
    };
    while let Some(batch) = rx.recv().await {
        let mut batch = batch?;
        let written = store
            .import_batch(campaign.id, tag, &batch.records, Utc::now())
            .await?;
        batch
            .errors
            .extend(written.duplicates.into_iter().map(|d| RowError {
                line: d.line,
                reason: format!(
                "duplicate external_id \"{}\": line {} has it already; this row was not imported",
                d.external_id, d.first_line
            ),
            }));
        batch.errors.sort_by_key(|e| e.line);
        let p = &mut report.progress;
        p.rows += batch.rows;
        p.bytes = batch.bytes;
        p.inserted += written.counts.inserted;
        p.updated += written.counts.updated;
        p.rejected += batch.errors.len() as u64;
        for e in batch.errors {
            if report.errors.len() < options.max_reported_errors {
                report.errors.push(e);
            } else {
                report.errors_truncated = true;
            }
        }
        progress(&report.progress);
    }
    parser
        .await
        .map_err(|e| ImportError::Read(format!("parser stopped: {e}")))?;
    report.progress.done = true;
    progress(&report.progress);
    let p = &report.progress;
    tracing::info!(
        campaign = %campaign.id,
        rows = p.rows,
        inserted = p.inserted,
        updated = p.updated,
        rejected = p.rejected,
        "list imported"
    );
    Ok(report)
}

/// Size of the buffered reader's buffer.
const READ_BUFFER: usize = 64 * 1024;

fn parse<R: Read>(
    reader: R,
    country: Option<crate::phone::CountryCode>,
    batch_rows: usize,
    tx: &mpsc::Sender<Result<Batch, ImportError>>,
) -> Result<(), ImportError> {
    let mut csv = CsvReader::new(BufReader::with_capacity(READ_BUFFER, reader));
    let read_error = |e: std::io::Error| ImportError::Read(e.to_string());
    let columns = match csv.next_item().map_err(read_error)? {
        None => return Err(ImportError::Empty),
        Some(Item::TooLong { line }) => return Err(ImportError::RowTooLong { line }),
        Some(Item::Bad { line, reason }) => {
            return Err(ImportError::Header(format!("line {line}: {reason}")))
        }
        Some(Item::Record { .. }) => {
            let header: Vec<&str> = csv
                .fields()
                .iter()
                .map(|f| {
                    std::str::from_utf8(f).map_err(|_| ImportError::Header("not UTF-8".into()))
                })
                .collect::<Result<_, _>>()?;
            Columns::parse(header).map_err(ImportError::Header)?
        }
    };
    csv.set_width(columns.width());
    let mut batch = new_batch(batch_rows);
    while let Some(item) = csv.next_item().map_err(read_error)? {
        batch.rows += 1;
        match item {
            Item::Bad { line, reason } => batch.errors.push(RowError { line, reason }),
            Item::TooLong { line } => batch.errors.push(RowError {
                line,
                reason: format!("row longer than {MAX_ROW_BYTES} bytes; skipped"),
            }),
            Item::Record { line } => {
                let parsed = match csv
                    .fields()
                    .iter()
                    .map(std::str::from_utf8)
                    .collect::<Result<Vec<&str>, _>>()
                {
                    Ok(values) => columns.record(values.into_iter(), country.as_ref()),
                    Err(_) => Err("not valid UTF-8".to_string()),
                };
                match parsed {
                    Ok(record) => batch.records.push(ImportRow { line, record }),
                    Err(reason) => batch.errors.push(RowError { line, reason }),
                }
            }
        }
        if batch.records.len() + batch.errors.len() >= batch_rows {
            batch.bytes = csv.bytes();
            let full = std::mem::replace(&mut batch, new_batch(batch_rows));
            if tx.blocking_send(Ok(full)).is_err() {
                return Ok(()); // the writer stopped; it reports why
            }
        }
    }
    batch.bytes = csv.bytes();
    let _ = tx.blocking_send(Ok(batch));
    Ok(())
}

fn new_batch(rows: usize) -> Batch {
    Batch {
        records: Vec::with_capacity(rows),
        errors: Vec::new(),
        rows: 0,
        bytes: 0,
    }
}

#[cfg(test)]
mod tests;
