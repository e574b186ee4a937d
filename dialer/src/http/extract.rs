//! Extractors whose rejections are [`ApiError`]s, so every bad request is answered with the
//! JSON error body rather than axum's plain-text rejections. The switch's API uses them too.
//!
//! - [`JsonBody`]: 415 `unsupported_media_type` without a JSON content type, 413
//!   `too_large` over [`JSON_LIMIT`] (from `Content-Length` before a byte is read, or while
//!   reading a chunked body), 400 `bad_json` when it is not JSON, 422 `invalid` naming the
//!   `field` when it is JSON of the wrong shape (unknown, missing or mistyped field).
//!   `Option<JsonBody<T>>` takes an empty body as `None`.
//! - [`PathArgs`]: 400 `bad_path`; [`QueryArgs`]: 400 `bad_query`.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, OptionalFromRequest, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, StatusCode};
use serde::de::DeserializeOwned;

use super::ApiError;

/// Largest JSON request body, in bytes (1 MiB). The routers set it as axum's
/// `DefaultBodyLimit` too.
pub const JSON_LIMIT: usize = 1 << 20;

/// `Json<T>` whose rejection is an [`ApiError`].
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(ApiError::unsupported_media_type("application/json"));
        }
        let bytes = body_bytes(req, state, JSON_LIMIT).await?;
        parse(&bytes).map(JsonBody)
    }
}

/// [`JsonBody`] up to `LIMIT` bytes instead of [`JSON_LIMIT`], for the few routes whose
/// JSON carries files (an e-mail reply's attachments, base64); the route sets axum's
/// `DefaultBodyLimit` to the same.
pub struct LargeJsonBody<T, const LIMIT: usize>(pub T);

impl<S: Send + Sync, T: DeserializeOwned, const LIMIT: usize> FromRequest<S>
    for LargeJsonBody<T, LIMIT>
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(ApiError::unsupported_media_type("application/json"));
        }
        let bytes = body_bytes(req, state, LIMIT).await?;
        parse(&bytes).map(LargeJsonBody)
    }
}

impl<S: Send + Sync, T: DeserializeOwned> OptionalFromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    /// An empty body (whatever its content type) is `None`; anything else must be JSON.
    async fn from_request(req: Request, state: &S) -> Result<Option<Self>, ApiError> {
        let json = is_json(req.headers());
        let bytes = body_bytes(req, state, JSON_LIMIT).await?;
        if bytes.is_empty() {
            return Ok(None);
        }
        if !json {
            return Err(ApiError::unsupported_media_type("application/json"));
        }
        parse(&bytes).map(|v| Some(JsonBody(v)))
    }
}

/// The media type of the request body, lower-cased, without parameters, and its
/// `charset` parameter if it has one.
pub fn media_type(headers: &HeaderMap) -> Option<(String, Option<String>)> {
    let value = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let mut parts = value.split(';');
    let essence = parts.next()?.trim().to_ascii_lowercase();
    let charset = parts.find_map(|p| {
        let (name, value) = p.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| value.trim().trim_matches('"').to_ascii_lowercase())
    });
    Some((essence, charset))
}

/// `application/json` or `application/<something>+json`.
fn is_json(headers: &HeaderMap) -> bool {
    media_type(headers).is_some_and(|(essence, _)| {
        essence == "application/json"
            || (essence.starts_with("application/") && essence.ends_with("+json"))
    })
}

/// 413 when the request says (`Content-Length`) that its body is over `limit` bytes, so
/// the answer goes out before any of it is read.
pub fn check_length(headers: &HeaderMap, limit: usize) -> Result<(), ApiError> {
    let length = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    match length {
        Some(n) if n > limit as u64 => Err(ApiError::too_large(limit)),
        _ => Ok(()),
    }
}

/// The whole body, at most `limit` bytes (and at most the route's `DefaultBodyLimit`).
async fn body_bytes<S: Send + Sync>(
    req: Request,
    state: &S,
    limit: usize,
) -> Result<Bytes, ApiError> {
    check_length(req.headers(), limit)?;
    Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(limit)
        } else {
            ApiError::bad_request("bad_body", e.body_text())
        }
    })
}

/// The body as a `T`: 400 `bad_json` for what is not JSON, 422 `invalid` with the path of
/// the field at fault for JSON that does not fit.
fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(value) => value,
        Err(e) => {
            let path = e.path().to_string();
            let inner = e.into_inner();
            if !inner.is_data() {
                return Err(ApiError::bad_request("bad_json", inner.to_string()));
            }
            let message = inner.to_string();
            return Err(ApiError::invalid(field_of(&path, &message), message));
        }
    };
    de.end()
        .map_err(|e| ApiError::bad_request("bad_json", e.to_string()))?;
    Ok(value)
}

/// The field a data error is about: serde's path to it, completed with the name that
/// `unknown field` and `missing field` messages give (their path is the enclosing object).
fn field_of(path: &str, message: &str) -> String {
    let path = if path == "." { "" } else { path };
    let named = ["unknown field `", "missing field `"]
        .iter()
        .find_map(|prefix| message.strip_prefix(prefix))
        .and_then(|rest| rest.split('`').next());
    match named {
        Some(name) if path.is_empty() => name.to_string(),
        Some(name) if !path.ends_with(name) => format!("{path}.{name}"),
        _ => path.to_string(),
    }
}

/// `Path<T>` whose rejection is an [`ApiError`].
pub struct PathArgs<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for PathArgs<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Path(value) = Path::<T>::from_request_parts(parts, state).await?;
        Ok(PathArgs(value))
    }
}

/// `Query<T>` whose rejection is an [`ApiError`].
pub struct QueryArgs<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for QueryArgs<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(value) = Query::<T>::from_request_parts(parts, state).await?;
        Ok(QueryArgs(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        at: u32,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        state: String,
        #[serde(default)]
        inner: Option<Inner>,
    }

    fn error(text: &str) -> (StatusCode, &'static str, Option<String>) {
        match parse::<Body>(text.as_bytes()) {
            Ok(b) => panic!("{text} parsed: {b:?}"),
            Err(e) => (e.status, e.code, e.field),
        }
    }

    #[test]
    fn syntax_is_bad_json_and_shape_is_invalid_with_the_field() {
        let bad = (StatusCode::BAD_REQUEST, "bad_json", None);
        assert_eq!(error("{\"state\":"), bad);
        assert_eq!(error("{\"state\":\"x\"} trailing"), bad);
        assert_eq!(error(""), bad);
        let invalid = |f: &str| {
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                (!f.is_empty()).then(|| f.to_string()),
            )
        };
        assert_eq!(error(r#"{"state":"x","x":1}"#), invalid("x"));
        assert_eq!(error(r#"{"state":1}"#), invalid("state"));
        assert_eq!(error(r#"{}"#), invalid("state"));
        assert_eq!(
            error(r#"{"state":"x","inner":{"at":1,"tz":2}}"#),
            invalid("inner.tz")
        );
        assert_eq!(error(r#"{"state":"x","inner":{}}"#), invalid("inner.at"));
        assert_eq!(
            error(r#"{"state":"x","inner":{"at":"now"}}"#),
            invalid("inner.at")
        );
        assert_eq!(error(r#""text""#), invalid(""));
        assert!(parse::<Body>(br#"{"state":"x"}"#).is_ok());
    }

    #[test]
    fn content_types() {
        let headers = |v: &str| {
            let mut h = HeaderMap::new();
            if let Ok(v) = v.parse() {
                h.insert(header::CONTENT_TYPE, v);
            }
            h
        };
        assert!(is_json(&headers("application/json")));
        assert!(is_json(&headers("Application/JSON; charset=utf-8")));
        assert!(is_json(&headers("application/merge-patch+json")));
        assert!(!is_json(&headers("text/plain")));
        assert!(!is_json(&HeaderMap::new()));
        assert_eq!(
            media_type(&headers("text/CSV; Charset=\"UTF-8\"")),
            Some(("text/csv".to_string(), Some("utf-8".to_string())))
        );
    }

    #[test]
    fn declared_length_over_the_limit_is_refused_before_reading() {
        let mut h = HeaderMap::new();
        h.insert(header::CONTENT_LENGTH, header::HeaderValue::from(11u32));
        assert!(check_length(&h, 11).is_ok());
        let e = check_length(&h, 10).err();
        assert_eq!(
            e.map(|e| (e.status, e.code)),
            Some((StatusCode::PAYLOAD_TOO_LARGE, "too_large"))
        );
        assert!(check_length(&HeaderMap::new(), 10).is_ok());
    }
}
