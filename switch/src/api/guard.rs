//! The door of the API: every request to a route is checked against its [`Rule`] before
//! its handler runs.
//!
//! - The credential is a bearer API token (`Authorization: Bearer cct_...`) or the pages'
//!   session cookie. None, or one that is expired or unknown: 401 with
//!   `WWW-Authenticate: Bearer` and the JSON error body.
//! - A cookie-authenticated write (any method but GET/HEAD/OPTIONS) must come from our own
//!   pages: the session's CSRF token in `X-CSRF-Token`, or an `Origin` naming this host.
//!   (The cookie is `SameSite=Strict` too.) Otherwise 403 `csrf`.
//! - The role (and, for `/api/agents/{id}/...` and `/api/queues/{dn}...`, the agent or
//!   queue being in the caller's scope) is then checked: 403 `forbidden` when it is not.
//! - A chat's customer has no login: on the routes of a chat's files
//!   ([`Rule::ChatParty`]) a request with `X-Chat-Token` goes to the handler, which checks
//!   the token against the chat.
//! - The caller's [`Principal`](crate::accounts::Principal) goes into the request's extensions for handlers that
//!   filter what they list.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use axum::extract::{FromRequestParts, MatchedPath, RawPathParams, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::policy::Rule;
use super::ApiError;
use crate::accounts::{Accounts, CredentialError, Via, COOKIE};

/// The header a page sends its session's CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The rules of every route, and the paths (so a known path with an unserved method gets
/// its 405 rather than a 403).
#[derive(Clone)]
pub struct Guard {
    pub accounts: Accounts,
    rules: Arc<HashMap<(Method, &'static str), Rule>>,
    paths: Arc<HashSet<&'static str>>,
}

impl Guard {
    pub fn new(accounts: Accounts, rules: Vec<(Method, &'static str, Rule)>) -> Guard {
        let paths = rules.iter().map(|(_, p, _)| *p).collect();
        let rules = rules.into_iter().map(|(m, p, r)| ((m, p), r)).collect();
        Guard {
            accounts,
            rules: Arc::new(rules),
            paths: Arc::new(paths),
        }
    }
}

fn unauthorized(code: &'static str, message: impl Into<String>) -> Response {
    let mut r = ApiError::new(StatusCode::UNAUTHORIZED, code, message).into_response();
    r.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"ccswitch\""),
    );
    r
}

fn forbidden(code: &'static str, message: impl Into<String>) -> Response {
    ApiError::new(StatusCode::FORBIDDEN, code, message).into_response()
}

/// The value of cookie `name`, if sent.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.trim())
}

/// The bearer token, if an `Authorization` header is sent; `Err` when it is not Bearer.
pub(crate) fn bearer(headers: &HeaderMap) -> Result<Option<&str>, CredentialError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value.to_str().map_err(|_| CredentialError::BadHeader)?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim()))
        }
        _ => Err(CredentialError::BadHeader),
    }
}

/// A cookie-authenticated write from our own page: the CSRF token, or an `Origin` whose
/// authority is the `Host` (the HTTP listener has already refused foreign origins).
fn same_site(headers: &HeaderMap, csrf: &str) -> bool {
    if headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| constant_time_eq(v.as_bytes(), csrf.as_bytes()))
    {
        return true;
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin = headers.get(header::ORIGIN).and_then(|h| h.to_str().ok());
    match (host, origin) {
        (Some(host), Some(origin)) => origin.split_once("://").is_some_and(|(_, authority)| {
            authority.trim_end_matches('/').eq_ignore_ascii_case(host)
        }),
        _ => false,
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn is_write(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The middleware.
pub async fn authorize(State(g): State<Guard>, req: Request, next: Next) -> Response {
    let Some(path) = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
    else {
        // No route matched: the fallback answers 404.
        return next.run(req).await;
    };
    let method = if req.method() == Method::HEAD {
        Method::GET
    } else {
        req.method().clone()
    };
    let rule = match g.rules.get(&(method.clone(), path.as_str())) {
        Some(rule) => *rule,
        None if g.paths.contains(path.as_str()) => return next.run(req).await,
        None => {
            tracing::error!(%method, %path, "route without an access rule");
            return forbidden("no_policy", "this route has no access rule");
        }
    };
    if rule == Rule::Open || (rule == Rule::Metrics && g.accounts.config().metrics_open) {
        return next.run(req).await;
    }
    if rule == Rule::ChatParty && req.headers().contains_key(crate::chat::files::TOKEN_HEADER) {
        // A chat's customer: the handler checks the token against the chat.
        return next.run(req).await;
    }
    let principal = match bearer(req.headers())
        .and_then(|b| g.accounts.authenticate(cookie(req.headers(), COOKIE), b))
    {
        Ok(Some(p)) => p,
        Ok(None) => {
            return unauthorized(
                "unauthenticated",
                "log in (POST /api/login) or send an API token (Authorization: Bearer ...)",
            )
        }
        Err(e) => {
            let code = match e {
                CredentialError::SessionExpired => "session_expired",
                CredentialError::BadToken => "invalid_token",
                CredentialError::Locked => "account_locked",
                CredentialError::BadHeader => "bad_authorization",
            };
            return unauthorized(code, e.to_string());
        }
    };
    if let Via::Session { csrf } = &principal.via {
        if is_write(req.method()) && !same_site(req.headers(), csrf) {
            return forbidden(
                "csrf",
                "a cookie-authenticated write needs the X-CSRF-Token header or a same-origin Origin",
            );
        }
    }
    let (mut parts, body) = req.into_parts();
    let param = match RawPathParams::from_request_parts(&mut parts, &()).await {
        Ok(params) => params
            .iter()
            .find(|(k, _)| *k == "id" || *k == "dn")
            .map(|(_, v)| v.to_string()),
        Err(_) => None,
    };
    if let Err(refusal) = rule.allows(
        &principal,
        || g.accounts.scope(&principal),
        param.as_deref(),
    ) {
        return forbidden("forbidden", refusal.0);
    }
    let mut req = Request::from_parts(parts, body);
    req.extensions_mut().insert(principal);
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (n, v) in pairs {
            h.append(
                *n,
                HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static("")),
            );
        }
        h
    }

    #[test]
    fn reads_cookies_and_bearer_tokens() {
        let h = headers(&[("cookie", "a=1; ccswitch_session=abc ; b=2")]);
        assert_eq!(cookie(&h, COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "c"), None);
        let h = headers(&[("authorization", "Bearer cct_x")]);
        assert_eq!(bearer(&h), Ok(Some("cct_x")));
        let h = headers(&[("authorization", "Basic eDp5")]);
        assert_eq!(bearer(&h), Err(CredentialError::BadHeader));
        assert_eq!(bearer(&HeaderMap::new()), Ok(None));
    }

    #[test]
    fn cookie_writes_need_the_token_or_our_origin() {
        let csrf = "t0k";
        assert!(same_site(&headers(&[("x-csrf-token", "t0k")]), csrf));
        assert!(!same_site(&headers(&[("x-csrf-token", "bad")]), csrf));
        assert!(same_site(
            &headers(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://127.0.0.1:8080")
            ]),
            csrf
        ));
        assert!(!same_site(
            &headers(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://evil.example")
            ]),
            csrf
        ));
        assert!(!same_site(&headers(&[("host", "127.0.0.1:8080")]), csrf));
    }
}
