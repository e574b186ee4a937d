//! API errors: an HTTP status and `{"error":{"code","message"}}`, plus `"field"` when a
//! request body names something that does not fit. The switch's API answers with this type
//! too, so both halves of the REST API have one error shape.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::campaign::CampaignError;
use crate::import::ImportError;
use crate::preview::PreviewError;
use crate::store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// The request body's field at fault (`"queues"`, `"callback.at"`), if one is.
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn not_found(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, code, message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, code, message)
    }

    /// 422 `invalid`, naming the body field at fault (empty: the body as a whole).
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        let field = field.into();
        ApiError {
            field: (!field.is_empty()).then_some(field),
            ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid", message)
        }
    }

    /// 413 `too_large`: the body is over `limit` bytes.
    pub fn too_large(limit: usize) -> ApiError {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the body is larger than {limit} bytes"),
        )
    }

    /// 415 `unsupported_media_type`: the body is not of the `expected` content type.
    pub fn unsupported_media_type(expected: &str) -> ApiError {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("expected Content-Type: {expected}"),
        )
    }

    /// 500 `store`: the database failed.
    pub fn store(error: impl std::fmt::Display) -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "store",
            error.to_string(),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut error = json!({"code": self.code, "message": self.message});
        if let Some(field) = self.field {
            error["field"] = json!(field);
        }
        let mut response = (self.status, Json(json!({ "error": error }))).into_response();
        if self.status == StatusCode::PAYLOAD_TOO_LARGE {
            // The rest of the body is not wanted: the connection ends after this answer
            // (the switch drains what the client still sends, so it does read the answer).
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}

impl From<PathRejection> for ApiError {
    fn from(e: PathRejection) -> ApiError {
        ApiError::bad_request("bad_path", e.body_text())
    }
}

impl From<QueryRejection> for ApiError {
    fn from(e: QueryRejection) -> ApiError {
        ApiError::bad_request("bad_query", e.body_text())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        let message = e.to_string();
        match e {
            StoreError::CampaignNotFound(_) => ApiError::not_found("campaign_not_found", message),
            StoreError::RecordNotFound(_) => ApiError::not_found("record_not_found", message),
            StoreError::Campaign(CampaignError::Invalid { .. }) => {
                ApiError::bad_request("invalid_campaign", message)
            }
            StoreError::Campaign(CampaignError::Transition { .. }) => {
                ApiError::conflict("bad_transition", message)
            }
            StoreError::NotRunning { .. } => ApiError::conflict("campaign_not_running", message),
            StoreError::Dnc(_) => ApiError::conflict("dnc", message),
            StoreError::LeaseLost(_) => ApiError::conflict("lease_lost", message),
            _ => {
                tracing::error!(error = %message, "dialer store error");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "store", message)
            }
        }
    }
}

impl From<PreviewError> for ApiError {
    fn from(e: PreviewError) -> ApiError {
        let message = e.to_string();
        let (status, code) = match e {
            PreviewError::UnknownCampaign(_) => (StatusCode::NOT_FOUND, "campaign_not_found"),
            PreviewError::CampaignNotRunning { .. } => {
                (StatusCode::CONFLICT, "campaign_not_running")
            }
            PreviewError::NotInCampaign { .. } => (StatusCode::FORBIDDEN, "not_in_campaign"),
            PreviewError::WrongState { .. } => (StatusCode::CONFLICT, "wrong_state"),
            PreviewError::OutcomeRequired(_) => (StatusCode::CONFLICT, "outcome_required"),
            PreviewError::NotYourRecord(_) => (StatusCode::CONFLICT, "not_your_record"),
            PreviewError::NoCallableNumber => (StatusCode::CONFLICT, "no_callable_number"),
            PreviewError::PhoneIndex { .. } => (StatusCode::BAD_REQUEST, "bad_phone_index"),
            PreviewError::InvalidNumber(_) => (StatusCode::BAD_REQUEST, "invalid_number"),
            PreviewError::NumberBlocked(_) => (StatusCode::CONFLICT, "dnc"),
            PreviewError::OutsideWindow { .. } => (StatusCode::CONFLICT, "outside_window"),
            PreviewError::CallInProgress => (StatusCode::CONFLICT, "call_in_progress"),
            PreviewError::Outcome(_) => (StatusCode::BAD_REQUEST, "invalid_outcome"),
            PreviewError::UnknownAttempt(_) => (StatusCode::NOT_FOUND, "attempt_not_found"),
        };
        ApiError::new(status, code, message)
    }
}

impl From<ImportError> for ApiError {
    fn from(e: ImportError) -> ApiError {
        let message = e.to_string();
        match e {
            ImportError::Store(store) => store.into(),
            ImportError::Header(_) | ImportError::Empty | ImportError::RowTooLong { .. } => {
                ApiError::bad_request("bad_csv", message)
            }
            ImportError::Read(_) => ApiError::bad_request("bad_body", message),
        }
    }
}
