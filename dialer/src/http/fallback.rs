//! Answers for requests no handler takes, in the JSON error shape: 405
//! `method_not_allowed` for a known path with the wrong method (axum adds the `Allow`
//! header listing the methods the path has), 404 `not_found` for an unknown path. Both
//! routers set the first (`Router::method_not_allowed_fallback`, after their last route);
//! the switch's sets the second for the merged API.

use axum::http::{Method, Uri};

use super::ApiError;

pub async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "{method} is not allowed on {}; the Allow header lists what is",
            uri.path()
        ),
    )
}

pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::not_found("not_found", format!("no such endpoint: {}", uri.path()))
}
