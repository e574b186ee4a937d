//! CSV import of a contact list into a campaign, streamed in bounded memory.
//!
//! The file is read from any `AsyncRead` (an HTTP body, a file) by a `csv` reader on a
//! blocking thread, which hands batches of parsed rows to the async side through a
//! channel of two batches; the async side writes each batch in one transaction. So the
//! memory held is a few batches and the reader's buffer, whatever the file's size (a
//! single row longer than [`MAX_ROW_BYTES`] stops the import rather than grow it).
//!
//! Each bad row is reported by line number and reason while the good rows load; the
//! layout and row rules are in [`columns`]. Rows are keyed by external id, so importing a
//! file again (all of it, or after a failure part-way) adds nothing twice.

mod columns;

use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use chrono::Utc;
use serde::Serialize;
use thiserror::Error;
use tokio::io::AsyncRead;
use tokio::sync::mpsc;
use tokio_util::io::SyncIoBridge;

use crate::campaign::{Campaign, CampaignId};
use crate::record::NewRecord;
use crate::store::{Store, StoreError};

pub use columns::Columns;

/// Longest row accepted, in bytes (a row with more stops the import: the reader cannot
/// find the next row safely).
pub const MAX_ROW_BYTES: usize = 1 << 20;

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
    /// Data rows read (good and bad).
    pub rows: u64,
    /// Bytes of the file read.
    pub bytes: u64,
    pub inserted: u64,
    pub updated: u64,
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
    #[error("line {line}: row longer than {MAX_ROW_BYTES} bytes")]
    RowTooLong { line: u64 },
    #[error("reading the file: {0}")]
    Read(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What the parsing thread hands over.
struct Batch {
    records: Vec<NewRecord>,
    errors: Vec<RowError>,
    rows: u64,
    bytes: u64,
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
        let batch = batch?;
        let counts = store
            .upsert_records(campaign.id, &batch.records, Utc::now())
            .await?;
        let p = &mut report.progress;
        p.rows += batch.rows;
        p.bytes = batch.bytes;
        p.inserted += counts.inserted;
        p.updated += counts.updated;
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

/// Counts bytes read since the last row ended, failing past [`MAX_ROW_BYTES`] (plus the
/// reader's read-ahead) so one endless row cannot take the memory.
struct RowLimit<R> {
    inner: R,
    since_row: Arc<AtomicUsize>,
}

impl<R: Read> Read for RowLimit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let total = self.since_row.fetch_add(n, Ordering::Relaxed) + n;
        if total > MAX_ROW_BYTES + READ_BUFFER {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                ROW_TOO_LONG,
            ));
        }
        Ok(n)
    }
}

const READ_BUFFER: usize = 64 * 1024;
const ROW_TOO_LONG: &str = "row too long";

fn parse<R: Read>(
    reader: R,
    country: Option<crate::phone::CountryCode>,
    batch_rows: usize,
    tx: &mpsc::Sender<Result<Batch, ImportError>>,
) -> Result<(), ImportError> {
    let since_row = Arc::new(AtomicUsize::new(0));
    let limited = RowLimit {
        inner: reader,
        since_row: since_row.clone(),
    };
    let mut csv = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(READ_BUFFER)
        .from_reader(limited);
    let mut record = csv::ByteRecord::new();
    let read_error = |e: csv::Error, line: u64| match e.kind() {
        csv::ErrorKind::Io(io) if io.to_string() == ROW_TOO_LONG => {
            ImportError::RowTooLong { line }
        }
        _ => ImportError::Read(e.to_string()),
    };
    if !csv
        .read_byte_record(&mut record)
        .map_err(|e| read_error(e, 1))?
    {
        return Err(ImportError::Empty);
    }
    let header: Vec<&str> = record
        .iter()
        .map(|f| std::str::from_utf8(f).map_err(|_| ImportError::Header("not UTF-8".into())))
        .collect::<Result<_, _>>()?;
    let columns = Columns::parse(header).map_err(ImportError::Header)?;
    let mut batch = new_batch(batch_rows);
    loop {
        let line = csv.position().line();
        since_row.store(0, Ordering::Relaxed);
        match csv.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => return Err(read_error(e, line)),
        }
        let line = record.position().map_or(line, |p| p.line());
        batch.rows += 1;
        if record.as_slice().len() > MAX_ROW_BYTES {
            return Err(ImportError::RowTooLong { line });
        }
        let parsed = match record
            .iter()
            .map(std::str::from_utf8)
            .collect::<Result<Vec<&str>, _>>()
        {
            Ok(values) => columns.record(values.into_iter(), country.as_ref()),
            Err(_) => Err("not valid UTF-8".to_string()),
        };
        match parsed {
            Ok(r) => batch.records.push(r),
            Err(reason) => batch.errors.push(RowError { line, reason }),
        }
        if batch.records.len() + batch.errors.len() >= batch_rows {
            batch.bytes = csv.position().byte();
            let full = std::mem::replace(&mut batch, new_batch(batch_rows));
            if tx.blocking_send(Ok(full)).is_err() {
                return Ok(()); // the writer stopped; it reports why
            }
        }
    }
    batch.bytes = csv.position().byte();
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
