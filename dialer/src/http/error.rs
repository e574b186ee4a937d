//! API errors: an HTTP status and `{"error":{"code","message"}}`.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
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
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
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
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({"error": {"code": self.code, "message": self.message}}));
        (self.status, body).into_response()
    }
}

impl From<JsonRejection> for ApiError {
    fn from(e: JsonRejection) -> ApiError {
        match e {
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "expected Content-Type: application/json",
            ),
            other => ApiError::bad_request("bad_json", other.body_text()),
        }
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
