//! Contact lists: CSV import (streamed) with progress, and the results export (streamed).
//!
//! An import's body must be `text/csv` or `application/csv` (UTF-8: another `charset` is
//! refused), else 415; it is read as it arrives, up to [`IMPORT_LIMIT`] bytes, else 413.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::Json;
use axum::RequestExt;
use futures_util::{stream, StreamExt, TryStreamExt};
use serde::Serialize;
use tokio_util::io::StreamReader;

use super::campaigns::existing;
use super::extract::{check_length, media_type};
use super::{ApiError, DialerHttp, PathArgs};
use crate::campaign::CampaignId;
use crate::import::{import_csv, ImportOptions, ImportProgress, ImportReport};
use crate::record::RecordId;
use crate::service::DialerEvent;
use crate::store::{ExportRow, Store, StoreError};

/// Records per export page (one query, one chunk of the response).
const EXPORT_PAGE: i64 = 1000;

/// Largest CSV import body, in bytes (256 MiB: a million-row list is about 80 MB). The
/// import route's `DefaultBodyLimit`.
pub const IMPORT_LIMIT: usize = 256 << 20;

/// The content types an import accepts.
const CSV_TYPES: [&str; 2] = ["text/csv", "application/csv"];

/// 415 unless the body is CSV in UTF-8 (or ASCII, or with no charset named).
fn check_csv(headers: &HeaderMap) -> Result<(), ApiError> {
    let refused = || ApiError::unsupported_media_type("text/csv (UTF-8)");
    let (essence, charset) = media_type(headers).ok_or_else(refused)?;
    let utf8 = charset.is_none_or(|c| matches!(c.as_str(), "utf-8" | "utf8" | "us-ascii"));
    if CSV_TYPES.contains(&essence.as_str()) && utf8 {
        Ok(())
    } else {
        Err(refused())
    }
}

/// Whether `e` is, or was caused by, the body going over its length limit.
pub(super) fn over_limit(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut next = Some(e);
    while let Some(e) = next {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        next = e.source();
    }
    false
}

#[derive(Serialize)]
pub struct ImportResponse {
    /// This node's id of the import, as listed by `GET .../imports`.
    pub import: u64,
    #[serde(flatten)]
    pub report: ImportReport,
}

pub async fn import(
    State(s): State<DialerHttp>,
    PathArgs(id): PathArgs<i64>,
    req: Request,
) -> Result<Json<ImportResponse>, ApiError> {
    check_csv(req.headers())?;
    check_length(req.headers(), IMPORT_LIMIT)?;
    let campaign = existing(&s, id).await?;
    let too_large = Arc::new(AtomicBool::new(false));
    let flag = too_large.clone();
    let stream = req
        .into_limited_body()
        .into_data_stream()
        .map_err(move |e| {
            if over_limit(&e) {
                flag.store(true, Ordering::Relaxed);
            }
            std::io::Error::other(e)
        });
    let reader = StreamReader::new(stream);
    let import_id = s.start_import(ImportProgress {
        campaign: campaign.id,
        ..ImportProgress::default()
    });
    let state = s.clone();
    let on_progress = move |p: &ImportProgress| {
        state.update_import(import_id, p);
        state.dialer.publish(DialerEvent::ImportProgress(p.clone()));
    };
    let store = s.dialer.store();
    let report = import_csv(
        store,
        &campaign,
        reader,
        ImportOptions::default(),
        on_progress,
    )
    .await;
    let report = match report {
        Ok(report) => report,
        Err(e) => {
            s.finish_import(import_id);
            if too_large.load(Ordering::Relaxed) {
                return Err(ApiError::too_large(IMPORT_LIMIT));
            }
            return Err(e.into());
        }
    };
    Ok(Json(ImportResponse {
        import: import_id,
        report,
    }))
}

#[derive(Serialize)]
pub struct ImportStatus {
    pub import: u64,
    #[serde(flatten)]
    pub progress: ImportProgress,
}

pub async fn imports(
    State(s): State<DialerHttp>,
    PathArgs(id): PathArgs<i64>,
) -> Result<Json<Vec<ImportStatus>>, ApiError> {
    let campaign = existing(&s, id).await?;
    let list = s
        .imports()
        .into_iter()
        .filter(|(_, p)| p.campaign == campaign.id)
        .map(|(import, progress)| ImportStatus { import, progress })
        .collect();
    Ok(Json(list))
}

/// Columns of the export, in order.
pub const EXPORT_COLUMNS: [&str; 16] = [
    "record_id",
    "external_id",
    "name",
    "status",
    "attempts",
    "last_result",
    "next_at",
    "agent",
    "number",
    "started_at",
    "connected_at",
    "ended_at",
    "sip_status",
    "dispositions",
    "notes",
    "dnc",
];

pub async fn export(
    State(s): State<DialerHttp>,
    PathArgs(id): PathArgs<i64>,
) -> Result<Response, ApiError> {
    let campaign = existing(&s, id).await?;
    let store = s.dialer.store().clone();
    let header = csv_chunk(&[], true).map_err(|e| {
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "export",
            e.to_string(),
        )
    })?;
    let first = stream::once(async move { Ok::<Bytes, std::io::Error>(header) });
    let pages = stream::try_unfold(Some(RecordId(0)), move |after| {
        let store = store.clone();
        async move { next_page(&store, campaign.id, after).await }
    });
    let body = Body::from_stream(first.chain(pages));
    let disposition = format!("attachment; filename=\"campaign-{id}-results.csv\"");
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

/// One page of the export as CSV bytes, and where the next page starts.
async fn next_page(
    store: &Store,
    campaign: CampaignId,
    after: Option<RecordId>,
) -> Result<Option<(Bytes, Option<RecordId>)>, std::io::Error> {
    let Some(after) = after else {
        return Ok(None);
    };
    let rows = store
        .export_page(campaign, after, EXPORT_PAGE)
        .await
        .map_err(|e: StoreError| std::io::Error::other(e.to_string()))?;
    if rows.is_empty() {
        return Ok(None);
    }
    let next = (rows.len() as i64 == EXPORT_PAGE)
        .then(|| rows.last().map(|r| r.record))
        .flatten();
    let bytes = csv_chunk(&rows, false).map_err(std::io::Error::other)?;
    Ok(Some((bytes, next)))
}

fn csv_chunk(rows: &[ExportRow], header: bool) -> Result<Bytes, csv::Error> {
    let mut w = csv::Writer::from_writer(Vec::new());
    if header {
        w.write_record(EXPORT_COLUMNS)?;
    }
    let time =
        |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.to_rfc3339()).unwrap_or_default();
    for r in rows {
        w.write_record([
            r.record.to_string(),
            r.external_id.clone(),
            r.name.clone(),
            r.status.clone(),
            r.attempts.to_string(),
            r.last_result.clone().unwrap_or_default(),
            time(r.next_at),
            r.agent.clone().unwrap_or_default(),
            r.number.clone().unwrap_or_default(),
            time(r.started_at),
            time(r.connected_at),
            time(r.ended_at),
            r.sip_status.map(|s| s.to_string()).unwrap_or_default(),
            r.dispositions.join(";"),
            r.notes.clone(),
            r.dnc.to_string(),
        ])?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))?;
    Ok(Bytes::from(bytes))
}
