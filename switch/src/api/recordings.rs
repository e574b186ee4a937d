//! Call recordings over REST: the index (`GET /api/recordings`, newest first, only those of
//! the caller's teams for a supervisor) and each recording's WAV
//! (`GET /api/recordings/{id}/audio`).

use super::calls::Visibility;
use super::{AppState, Page};
use crate::accounts::Principal;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use dialer::http::{ApiError, PathArgs, QueryArgs};
use serde_json::json;

pub(super) async fn list(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    page: QueryArgs<Page>,
) -> Result<impl IntoResponse, ApiError> {
    let (limit, offset) = Page::parse(page)?;
    let visible = Visibility::of(&s, &p).await;
    let rows = s
        .store
        .list_recordings(limit, offset)
        .await
        .map_err(ApiError::store)?;
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|r| visible.sees_users(&[&r.from_user, &r.to_user]))
        .collect();
    Ok(Json(json!({ "recordings": rows })))
}

pub(super) async fn audio(
    State(s): State<AppState>,
    Extension(p): Extension<Principal>,
    PathArgs(id): PathArgs<String>,
) -> Result<impl IntoResponse, ApiError> {
    let missing = || ApiError::not_found("not_found", format!("no recording {id:?}"));
    let row = s
        .store
        .recording(&id)
        .await
        .map_err(ApiError::store)?
        .ok_or_else(missing)?;
    let visible = Visibility::of(&s, &p).await;
    if !visible.sees_users(&[&row.from_user, &row.to_user]) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the recording is of a call with no party of your teams",
        ));
    }
    // The file name is ours (`<ms>-<hex>.wav`), never the caller's.
    let path = s.config.data_dir.join("recordings").join(&row.file);
    match tokio::fs::read(&path).await {
        Ok(bytes) => Ok((
            [
                (header::CONTENT_TYPE, "audio/wav".to_string()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{}\"", row.file),
                ),
            ],
            bytes,
        )),
        Err(e) => {
            tracing::warn!(path = %path.display(), error = %e, "recording file missing");
            Err(missing())
        }
    }
}
