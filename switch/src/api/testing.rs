//! An [`AppState`] for API tests: a distributor with the given queues and agents whose
//! records are written to a fresh SQLite store, no shards, and helpers to call the router
//! in-process (`tower::ServiceExt::oneshot`) or serve it on 127.0.0.1:0.

use super::{app, AppState};
use crate::config::Config;
use crate::distributor::Distributor;
use crate::metrics::Metrics;
use crate::registrar::Registrar;
use crate::router::Router;
use crate::store::testing::TestDb;
use crate::store::AcdRecordWriter;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use serde_json::Value;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::sync::watch;
use tower::ServiceExt;

/// The `content-type` header of a JSON body, if there is one.
fn json_type(body: Option<&str>) -> &'static [(&'static str, &'static str)] {
    match body {
        Some(_) => &[("content-type", "application/json")],
        None => &[],
    }
}

fn body_bytes(body: Option<&str>) -> Vec<u8> {
    body.unwrap_or("").as_bytes().to_vec()
}

pub struct TestApi {
    pub state: AppState,
    /// The dialer, over the same database, for [`TestApi::serve`].
    pub dialer: dialer::Dialer,
    pub db: TestDb,
    /// Send `true` to tell event streams the server is stopping.
    pub stop: watch::Sender<bool>,
    /// An administrator's API token, sent by [`TestApi::call`] and [`TestApi::raw`].
    pub token: String,
    /// The demo accounts' data directory (the generated admin password is written there).
    pub data_dir: std::path::PathBuf,
}

impl TestApi {
    pub async fn new(queues: Vec<acd::QueueConfig>, agents: Vec<acd::AgentConfig>) -> TestApi {
        let db = TestDb::sqlite().await;
        let (records, records_rx) = tokio::sync::mpsc::unbounded_channel();
        AcdRecordWriter::spawn(db.store.clone(), records_rx);
        // No shards: orders the distributor sends go nowhere.
        let (router, _) = Router::new(0);
        let distributor = match Distributor::spawn(queues, agents, records, router.clone()) {
            Ok(d) => d,
            Err(e) => panic!("distributor: {e}"),
        };
        let metrics = Arc::new(Metrics::default());
        let localhost = IpAddr::V4(Ipv4Addr::LOCALHOST);
        let media = match media::MediaEngine::new(localhost, localhost, 40_000, 40_003) {
            Ok(m) => m,
            Err(e) => panic!("media: {e}"),
        };
        let registrar = Arc::new(RwLock::new(Registrar::default()));
        let data_dir = std::env::temp_dir().join(format!(
            "ccswitch_api_{}_{}",
            std::process::id(),
            rand::random::<u64>()
        ));
        let mut config = Config::demo();
        config.data_dir = data_dir.clone();
        let _ = std::fs::create_dir_all(&data_dir);
        let config = Arc::new(config);
        let (accounts, _) =
            match crate::accounts::Accounts::open(db.store.clone(), config.account_seeds()).await {
                Ok(a) => a,
                Err(e) => panic!("accounts: {e}"),
            };
        let admin = crate::accounts::Actor::default();
        let token = match accounts
            .create_token(&admin, crate::accounts::ADMIN, "tests", None)
            .await
        {
            Ok(t) => t.secret,
            Err(e) => panic!("token: {e}"),
        };
        let (stop, shutdown) = watch::channel(false);
        let dialer_store = match dialer::Store::from_pool(db.store.pool().clone()).await {
            Ok(s) => s,
            Err(e) => panic!("dialer store: {e}"),
        };
        let dialer = match dialer::Dialer::new(dialer_store, Default::default()).await {
            Ok(d) => d,
            Err(e) => panic!("dialer: {e}"),
        };
        let chats = match crate::chat::Chats::spawn(
            config.chat.clone(),
            distributor.clone(),
            db.store.clone(),
        )
        .await
        {
            Ok(c) => c,
            Err(e) => panic!("chats: {e}"),
        };
        let (_phones, from_phones) = tokio::sync::mpsc::unbounded_channel();
        let ims = match crate::im::Ims::spawn(crate::im::Setup {
            config: config.clone(),
            store: db.store.clone(),
            distributor: distributor.clone(),
            accounts: accounts.clone(),
            router: router.clone(),
            registrar: registrar.clone(),
            from_phones,
        })
        .await
        {
            Ok(i) => i,
            Err(e) => panic!("ims: {e}"),
        };
        let emails =
            crate::email::Emails::start(config.clone(), distributor.clone(), db.store.clone())
                .await;
        let state = AppState {
            ims,
            chats,
            emails,
            config,
            router,
            registrar,
            metrics,
            media,
            store: db.store.clone(),
            distributor,
            started: Instant::now(),
            acd_admin: Default::default(),
            shutdown,
            accounts,
            mailboxes: Default::default(),
            edge: Arc::new(crate::edge::Edge::new(
                Default::default(),
                Vec::new(),
                Instant::now(),
            )),
        };
        TestApi {
            state,
            dialer,
            db,
            stop,
            token,
            data_dir,
        }
    }

    /// One request through the whole API as the administrator; returns the status and the
    /// body as JSON (`Null` when empty). A body is sent as `application/json`.
    pub async fn call(&self, method: Method, uri: &str, body: Option<&str>) -> (StatusCode, Value) {
        let (status, _, json) = self
            .raw(method, uri, json_type(body), body_bytes(body))
            .await;
        (status, json)
    }

    /// Like [`TestApi::call`], without any credential.
    pub async fn anonymous(
        &self,
        method: Method,
        uri: &str,
        body: Option<&str>,
    ) -> (StatusCode, Value) {
        let (status, _, json) = self
            .send(method, uri, json_type(body), body_bytes(body))
            .await;
        (status, json)
    }

    /// One request with these headers and body, as the administrator unless the headers
    /// carry a credential (`authorization` or `cookie`); returns the status, the headers
    /// and the body as JSON (`Null` when empty; a body that is not JSON fails the test).
    pub async fn raw(
        &self,
        method: Method,
        uri: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (StatusCode, HeaderMap, Value) {
        let bearer = format!("Bearer {}", self.token);
        let mut all: Vec<(&str, &str)> = headers.to_vec();
        let has_credential = headers.iter().any(|(n, _)| {
            n.eq_ignore_ascii_case("authorization") || n.eq_ignore_ascii_case("cookie")
        });
        if !has_credential {
            all.push(("authorization", &bearer));
        }
        self.send(method, uri, &all, body).await
    }

    /// One request exactly as given.
    pub async fn send(
        &self,
        method: Method,
        uri: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (StatusCode, HeaderMap, Value) {
        let (status, headers, bytes) = self.send_bytes(method, uri, headers, body).await;
        let text_plain = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/plain"));
        let json = if bytes.is_empty() {
            Value::Null
        } else if text_plain {
            // `/metrics`: kept as a string. Anything else must be JSON.
            Value::String(String::from_utf8_lossy(&bytes).into_owned())
        } else {
            match serde_json::from_slice(&bytes) {
                Ok(v) => v,
                Err(e) => panic!("{uri}: not JSON ({e}): {}", String::from_utf8_lossy(&bytes)),
            }
        };
        (status, headers, json)
    }

    /// One request exactly as given; the body as it came (`/metrics` is not JSON).
    pub async fn send_bytes(
        &self,
        method: Method,
        uri: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (StatusCode, HeaderMap, axum::body::Bytes) {
        let mut req = Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        let req = match req.body(Body::from(body)) {
            Ok(r) => r,
            Err(e) => panic!("request: {e}"),
        };
        let resp = match app(self.state.clone(), self.dialer.clone())
            .oneshot(req)
            .await
        {
            Ok(r) => r,
            Err(e) => match e {},
        };
        let status = resp.status();
        let headers = resp.headers().clone();
        match axum::body::to_bytes(resp.into_body(), 1 << 20).await {
            Ok(bytes) => (status, headers, bytes),
            Err(e) => panic!("body: {e}"),
        }
    }

    /// Serves the whole API (ours and the dialer's, as the server does) on 127.0.0.1 at a
    /// free port.
    pub async fn serve(&self) -> SocketAddr {
        let listener = match tokio::net::TcpListener::bind("127.0.0.1:0").await {
            Ok(l) => l,
            Err(e) => panic!("bind: {e}"),
        };
        let addr = match listener.local_addr() {
            Ok(a) => a,
            Err(e) => panic!("local_addr: {e}"),
        };
        let app = app(self.state.clone(), self.dialer.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        addr
    }

    /// Polls `check` until it holds (the records writer is asynchronous), for at most 5 s.
    pub async fn eventually<F, Fut>(&self, what: &str, mut check: F)
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !check().await {
            if Instant::now() > deadline {
                panic!("timed out waiting for {what}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for TestApi {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}
