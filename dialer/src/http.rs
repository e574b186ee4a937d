//! The dialer's REST API (axum), for campaign managers and agents' desktops.
//!
//! The switch merges it into its own router (`api::app`: `dialer::http::router(
//! DialerHttp::new(dialer).with_agents(..).without_openapi())`, its ACD telling which
//! agents exist). This router sets no fallback for unknown paths (the switch's answers
//! them). Every route is listed once in [`routes`], which builds the router and is checked
//! against the OpenAPI document ([`openapi_document`]). On its own the router serves that
//! document at [`OPENAPI_PATH`]; the switch serves one document for the whole API there
//! instead (the dialer's with its own paths added), so it asks the dialer not to (axum
//! refuses two routes with one path). Errors are
//! `{"error":{"code","message"}}` (with `"field"` when a body field does not fit) and a 4xx
//! status for bad input; every extractor's rejection takes that form too ([`extract`]),
//! and so does a wrong method (405 with `Allow`, [`fallback`]). The switch's API uses the
//! same error type, extractors and fallbacks.
//!
//! Bodies: JSON up to [`JSON_LIMIT`] bytes, CSV imports up to [`IMPORT_LIMIT`] (streamed);
//! larger ones get 413 `too_large`.

mod agents;
mod campaigns;
mod dnc;
mod error;
pub mod extract;
pub mod fallback;
mod lists;
mod openapi;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing::{delete, get, patch, post, MethodRouter};
use axum::Router;
use std::future::Future;
use std::pin::Pin;

use crate::import::ImportProgress;
use crate::service::Dialer;

pub use error::ApiError;
pub use extract::{JsonBody, LargeJsonBody, PathArgs, QueryArgs, JSON_LIMIT};
pub use lists::IMPORT_LIMIT;
pub use openapi::document as openapi_document;

/// Where the OpenAPI document is served.
pub const OPENAPI_PATH: &str = "/api/openapi.json";

/// Who the agents are. The dialer does not own agents (the switch's ACD does); given a
/// directory, the agent endpoints answer 404 `agent_not_found` for an id it does not know.
pub trait Agents: Send + Sync {
    fn exists(&self, agent: &str) -> AgentCheck;
}

/// The answer of [`Agents::exists`], to come.
pub type AgentCheck = Pin<Box<dyn Future<Output = bool> + Send>>;

/// Imports remembered for `GET /api/campaigns/{id}/imports` (oldest dropped first).
const KEPT_IMPORTS: usize = 100;

/// The router's state: the dialer (store, flow, event channel) and import progress.
#[derive(Clone)]
pub struct DialerHttp {
    dialer: Dialer,
    imports: Arc<Imports>,
    /// `None`: every agent id is taken as known (the dialer on its own).
    agents: Option<Arc<dyn Agents>>,
    /// Whether [`router`] serves [`openapi_document`] at [`OPENAPI_PATH`].
    openapi: bool,
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
            agents: None,
            openapi: true,
        }
    }

    /// Leaves `/api/openapi.json` to whoever embeds the router (the switch serves a
    /// document of the whole API there, built on [`openapi_document`]).
    pub fn without_openapi(mut self) -> DialerHttp {
        self.openapi = false;
        self
    }

    /// Checks agent ids against `agents`.
    pub fn with_agents(mut self, agents: impl Agents + 'static) -> DialerHttp {
        self.agents = Some(Arc::new(agents));
        self
    }

    /// 404 `agent_not_found` unless the directory (if any) knows `agent`.
    async fn known_agent(&self, agent: &str) -> Result<(), ApiError> {
        match &self.agents {
            Some(agents) if !agents.exists(agent).await => Err(ApiError::not_found(
                "agent_not_found",
                format!("no agent {agent:?}"),
            )),
            _ => Ok(()),
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
            post(lists::import).layer(DefaultBodyLimit::max(IMPORT_LIMIT)),
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
        route(M::GET, "/api/agents/{id}/campaigns", get(agents::campaigns)),
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
    ]
}

/// Every route's method and path, for the switch's access rules and OpenAPI checks: the
/// API's routes, not the document's own (`GET` [`OPENAPI_PATH`]), which [`router`] adds
/// unless told [`DialerHttp::without_openapi`].
pub fn route_list() -> Vec<(Method, &'static str)> {
    routes().into_iter().map(|r| (r.method, r.path)).collect()
}

/// The dialer's API, ready to merge into the switch's router.
pub fn router(state: DialerHttp) -> Router {
    let router = routes()
        .into_iter()
        .fold(Router::new(), |router, r| router.route(r.path, r.handler));
    let router = if state.openapi {
        router.route(OPENAPI_PATH, get(openapi::serve))
    } else {
        router
    };
    router
        .method_not_allowed_fallback(fallback::method_not_allowed)
        .layer(DefaultBodyLimit::max(JSON_LIMIT))
        .with_state(state)
}

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_edges;
