//! The dialer's REST API (axum), for campaign managers and agents' desktops.
//!
//! The switch merges it into its own router: `api::router(..).merge(dialer::http::router(
//! DialerHttp::new(dialer)))`. This router sets no fallback (the switch's answers unknown
//! paths). Every route is listed once in [`routes`], which builds the router and is
//! checked against the OpenAPI document served at `/api/openapi.json`. Errors are
//! `{"error":{"code","message"}}` with a 4xx status for bad input.

mod agents;
mod campaigns;
mod dnc;
mod error;
mod lists;
mod openapi;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::Method;
use axum::routing::{delete, get, patch, post, MethodRouter};
use axum::{Json, Router};
use serde::de::DeserializeOwned;

use crate::import::ImportProgress;
use crate::service::Dialer;

pub use error::ApiError;

/// Imports remembered for `GET /api/campaigns/{id}/imports` (oldest dropped first).
const KEPT_IMPORTS: usize = 100;

/// The router's state: the dialer (store, flow, event channel) and import progress.
#[derive(Clone)]
pub struct DialerHttp {
    dialer: Dialer,
    imports: Arc<Imports>,
}

#[derive(Default)]
struct Imports {
    next: AtomicU64,
    progress: Mutex<BTreeMap<u64, ImportProgress>>,
}

impl DialerHttp {
    pub fn new(dialer: Dialer) -> DialerHttp {
        DialerHttp {
            dialer,
            imports: Arc::default(),
        }
    }

    pub fn dialer(&self) -> &Dialer {
        &self.dialer
    }

    fn start_import(&self, progress: ImportProgress) -> u64 {
        let id = self.imports.next.fetch_add(1, Ordering::Relaxed) + 1;
        let mut map = self
            .imports
            .progress
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        map.insert(id, progress);
        while map.len() > KEPT_IMPORTS {
            map.pop_first();
        }
        id
    }

    fn update_import(&self, id: u64, progress: &ImportProgress) {
        let mut map = self
            .imports
            .progress
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        map.insert(id, progress.clone());
    }

    /// Marks an import that stopped on an error as done.
    fn finish_import(&self, id: u64) {
        let mut map = self
            .imports
            .progress
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(p) = map.get_mut(&id) {
            p.done = true;
        }
    }

    fn imports(&self) -> Vec<(u64, ImportProgress)> {
        let map = self
            .imports
            .progress
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        map.iter().map(|(id, p)| (*id, p.clone())).collect()
    }
}

/// One route: method, path (axum syntax) and handler.
pub(crate) struct Route {
    /// Read by the test that checks the OpenAPI document against the routes.
    #[cfg_attr(not(test), allow(dead_code))]
    pub method: Method,
    pub path: &'static str,
    handler: MethodRouter<DialerHttp>,
}

fn route(method: Method, path: &'static str, handler: MethodRouter<DialerHttp>) -> Route {
    Route {
        method,
        path,
        handler,
    }
}

/// Every route of the API.
pub(crate) fn routes() -> Vec<Route> {
    use Method as M;
    vec![
        route(M::GET, "/api/campaigns", get(campaigns::list)),
        route(M::POST, "/api/campaigns", post(campaigns::create)),
        route(M::GET, "/api/campaigns/{campaign}", get(campaigns::show)),
        route(
            M::PATCH,
            "/api/campaigns/{campaign}",
            patch(campaigns::change),
        ),
        route(
            M::POST,
            "/api/campaigns/{campaign}/load",
            post(campaigns::load),
        ),
        route(
            M::POST,
            "/api/campaigns/{campaign}/start",
            post(campaigns::start),
        ),
        route(
            M::POST,
            "/api/campaigns/{campaign}/pause",
            post(campaigns::pause),
        ),
        route(
            M::POST,
            "/api/campaigns/{campaign}/stop",
            post(campaigns::stop),
        ),
        route(
            M::GET,
            "/api/campaigns/{campaign}/stats",
            get(campaigns::stats),
        ),
        route(
            M::GET,
            "/api/campaigns/{campaign}/records/{record}",
            get(campaigns::record),
        ),
        route(
            M::POST,
            "/api/campaigns/{campaign}/import",
            post(lists::import),
        ),
        route(
            M::GET,
            "/api/campaigns/{campaign}/imports",
            get(lists::imports),
        ),
        route(
            M::GET,
            "/api/campaigns/{campaign}/export",
            get(lists::export),
        ),
        route(M::POST, "/api/dnc", post(dnc::add)),
        route(M::GET, "/api/dnc/{number}", get(dnc::check)),
        route(M::DELETE, "/api/dnc/{number}", delete(dnc::remove)),
        route(M::GET, "/api/agents/{id}/session", get(agents::session)),
        route(
            M::POST,
            "/api/agents/{id}/campaigns/{campaign}/records/next",
            post(agents::next),
        ),
        route(
            M::POST,
            "/api/agents/{id}/campaigns/{campaign}/records/{record}/accept",
            post(agents::accept),
        ),
        route(
            M::POST,
            "/api/agents/{id}/campaigns/{campaign}/records/{record}/call",
            post(agents::call),
        ),
        route(
            M::POST,
            "/api/agents/{id}/campaigns/{campaign}/records/{record}/decline",
            post(agents::decline),
        ),
        route(
            M::POST,
            "/api/agents/{id}/campaigns/{campaign}/records/{record}/outcome",
            post(agents::outcome),
        ),
        route(M::GET, "/api/openapi.json", get(openapi::serve)),
    ]
}

/// The dialer's API, ready to merge into the switch's router.
pub fn router(state: DialerHttp) -> Router {
    routes()
        .into_iter()
        .fold(Router::new(), |router, r| router.route(r.path, r.handler))
        .with_state(state)
}

/// `Json<T>` whose rejection is an [`ApiError`].
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let Json(value) = Json::<T>::from_request(req, state).await?;
        Ok(JsonBody(value))
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
mod tests;
