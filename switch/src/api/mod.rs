//! The HTTP API (axum): health, live calls, registrations, CDRs and Prometheus metrics;
//! the ACD's agents and queues (`agents`, `acd_config`), their history (`history`) and the
//! WebSocket event stream (`events`); live calls and click-to-call (`calls`). Errors are
//! JSON: `{"error":{"code","message"}}`, plus `"field"` when a request body names something
//! invalid. The error type, the extractors (every rejection in that JSON form) and the
//! 404/405 fallbacks are the dialer's (`dialer::http`), shared by both halves of the API;
//! [`app`] joins the two and drains unread bodies ([`drain`]). One OpenAPI document
//! describes both halves ([`openapi`], served at `/api/openapi.json` by the switch, not the
//! dialer).

#[cfg(test)]
mod access_tests;
mod accounts;
mod acd_config;
mod agents;
mod calls;
mod chat;
mod chat_files;
#[cfg(test)]
mod chat_files_tests;
mod chat_ws;
mod directory;
mod drain;
mod edge;
mod email;
mod events;
pub mod guard;
mod history;
mod im;
pub mod openapi;
mod openapi_chat;
mod openapi_chat_collab;
mod openapi_chat_files;
mod openapi_email;
mod openapi_im;
mod openapi_paths;
mod openapi_schemas;
mod openapi_templates;
#[cfg(test)]
mod openapi_tests;
pub mod policy;
mod recordings;
mod routes;
mod templates;
#[cfg(test)]
mod templates_tests;
#[cfg(test)]
mod testing;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_edges;
mod voicemail;

use crate::distributor::Distributor;
use crate::metrics::Metrics;
use crate::registrar::Registrar;
use crate::store::Store;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{Method, StatusCode};
use axum::response::IntoResponse;
use axum::{Json, Router};
use dialer::http::{fallback, QueryArgs, JSON_LIMIT};
use serde::Deserialize;
use serde_json::json;
use std::sync::{Arc, RwLock};
use std::time::Instant;

pub use dialer::http::ApiError;

#[derive(Clone)]
pub struct AppState {
    /// The configuration the server started with (its users are the known extensions).
    pub config: Arc<crate::config::Config>,
    pub router: crate::router::Router,
    pub registrar: Arc<RwLock<Registrar>>,
    pub metrics: Arc<Metrics>,
    pub media: Arc<media::MediaEngine>,
    pub store: Store,
    pub distributor: Distributor,
    pub started: Instant,
    /// Held while a queue or agent configuration is changed, so the engine and the store
    /// see REST changes in the same order.
    pub acd_admin: Arc<tokio::sync::Mutex<()>>,
    /// Becomes `true` when the server shuts down: long-lived responses (the event stream)
    /// close, so the handles they hold are released.
    pub shutdown: tokio::sync::watch::Receiver<bool>,
    /// Accounts, sessions, tokens: who may call what.
    pub accounts: crate::accounts::Accounts,
    /// The web chats (customers on `/api/chat/ws`, agents over REST).
    pub chats: crate::chat::Chats,
    /// The e-mail channel (threads fetched from the mailboxes, replies through the relay).
    pub emails: crate::email::Emails,
    /// Voicemail boxes (shared with the call engines).
    pub mailboxes: crate::voicemail::Mailboxes,
    /// The guarded SIP edge: bans, rate limits, calls per user.
    pub edge: Arc<crate::edge::Edge>,
    /// Agent-to-agent IM sessions.
    pub ims: crate::im::Ims,
}

/// The switch's routes (not the dialer's), without the access guard.
pub fn router(state: AppState) -> Router {
    routes::routes()
        .into_iter()
        .fold(Router::new(), |router, r| router.route(r.path, r.handler))
        .method_not_allowed_fallback(fallback::method_not_allowed)
        .fallback(fallback::not_found)
        .layer(DefaultBodyLimit::max(JSON_LIMIT))
        .with_state(state)
}

/// Every route the API serves, ours and the dialer's, with its access rule. `None`: a
/// dialer route nobody gave a rule (refused; a test keeps the list complete).
pub fn served_routes() -> Vec<(Method, &'static str, Option<policy::Rule>)> {
    let ours = routes::routes()
        .into_iter()
        .map(|r| (r.method, r.path, Some(r.rule)));
    let dialer = dialer::http::route_list().into_iter().map(|(m, p)| {
        let rule = policy::dialer_rule(&m, p);
        (m, p, rule)
    });
    ours.chain(dialer).collect()
}

/// The whole HTTP API: ours and the dialer's (whose agent endpoints check ids against the
/// ACD), behind the access guard, with unread request bodies drained so clients read
/// every answer.
pub fn app(state: AppState, dialer: dialer::Dialer) -> Router {
    let agents = agents::Directory(state.distributor.clone());
    let rules = served_routes()
        .into_iter()
        .filter_map(|(m, p, r)| r.map(|r| (m, p, r)))
        .collect();
    let guard = guard::Guard::new(state.accounts.clone(), rules);
    // The switch serves the whole API's document at the dialer's path (axum refuses two
    // routes with one path).
    let dialer = dialer::http::router(
        dialer::http::DialerHttp::new(dialer)
            .with_agents(agents)
            .without_openapi(),
    );
    router(state)
        .merge(dialer)
        .layer(axum::middleware::from_fn_with_state(
            guard,
            guard::authorize,
        ))
        // The pages are merged after the guard: they are static and open, and the API
        // checks every call they make.
        .merge(crate::web::router())
        .layer(axum::middleware::from_fn(drain::drain_unread))
}

async fn health(State(s): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "uptime_secs": s.started.elapsed().as_secs(),
        "calls_active": s.metrics.calls_active(),
        "shards": s.router.len(),
    }))
}

async fn registrations(State(s): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let view = s
        .registrar
        .read()
        .map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "registrar lock poisoned",
            )
        })?
        .view(Instant::now());
    Ok(Json(view))
}

/// `?limit=&offset=` of list endpoints.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Page {
    limit: Option<i64>,
    offset: Option<i64>,
}

impl Page {
    /// `(limit, offset)`: limit 1..=10000 (default 100), offset >= 0 (default 0).
    pub(super) fn parse(QueryArgs(page): QueryArgs<Page>) -> Result<(i64, i64), ApiError> {
        let limit = page.limit.unwrap_or(100);
        let offset = page.offset.unwrap_or(0);
        if !(1..=10_000).contains(&limit) || offset < 0 {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_query",
                "limit must be 1..=10000 and offset >= 0",
            ));
        }
        Ok((limit, offset))
    }
}

async fn cdrs(
    State(s): State<AppState>,
    page: QueryArgs<Page>,
) -> Result<impl IntoResponse, ApiError> {
    let (limit, offset) = Page::parse(page)?;
    let list = s
        .store
        .list_cdrs(limit, offset)
        .await
        .map_err(ApiError::store)?;
    let total = s.store.count_cdrs().await.map_err(ApiError::store)?;
    Ok(Json(json!({"total": total, "cdrs": list})))
}

async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    let regs = s
        .registrar
        .read()
        .map(|r| r.view(Instant::now()).len())
        .unwrap_or(0);
    let mut text = s.metrics.render(&s.media.totals(), regs);
    s.accounts.render_metrics(&mut text);
    s.chats.metrics().render(&mut text);
    s.edge.render_metrics(&mut text);
    ([("content-type", "text/plain; version=0.0.4")], text)
}
