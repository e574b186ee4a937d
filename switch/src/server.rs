//! The composition root: opens the store, binds the transports and the HTTP API, starts the
//! shards, and shuts everything down in order on SIGINT/SIGTERM.

use crate::api::{self, AppState};
use crate::config::{Config, Transport};
use crate::distributor::Distributor;
use crate::engine::transport_kind;
use crate::metrics::Metrics;
use crate::registrar::Registrar;
use crate::router::Router as ShardRouter;
use crate::store::{AcdRecordWriter, CdrWriter, Store};
use crate::transport::{self, Outbound, TcpPool, TlsSides};
use anyhow::Context;
use sip::transaction::{Target, TransportKind};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Instant;

/// The TLS pieces of one run: the certificate (reloaded on SIGHUP) and both sides'
/// configurations. `None` when nothing in the config uses TLS.
struct Tls {
    certificates: Arc<crate::tls::Certificates>,
    sides: TlsSides,
    https: tokio_rustls::TlsAcceptor,
}

fn uses_tls(config: &Config) -> bool {
    config
        .sip
        .listen
        .iter()
        .any(|l| l.transport == Transport::Tls)
        || config.tls.https_listen.is_some()
        || config.trunks.iter().any(|t| t.transport == Transport::Tls)
        || config
            .users
            .iter()
            .filter_map(|u| u.contact.as_ref())
            .any(|c| c.transport_or_default() == Transport::Tls)
}

fn open_tls(config: &Config) -> anyhow::Result<Option<Tls>> {
    if !uses_tls(config) {
        return Ok(None);
    }
    let ips: Vec<std::net::IpAddr> = config
        .sip
        .listen
        .iter()
        .filter(|l| l.transport == Transport::Tls)
        .map(|l| l.addr.ip())
        .chain(config.tls.https_listen.map(|a| a.ip()))
        .collect();
    let names = crate::tls::certificate_names(&config.sip.domain, &ips);
    let certificates =
        crate::tls::Certificates::open(config.tls.files.as_ref(), &config.data_dir, &names)
            .context("tls.cert / tls.key")?;
    let client = crate::tls::client_config(config.tls.ca.as_deref()).context("tls.ca")?;
    let sip_server = certificates.server_config(&[])?;
    let https_server = certificates.server_config(&[b"http/1.1"])?;
    tracing::info!(cert = %certificates.cert_path().display(), "TLS certificate loaded");
    Ok(Some(Tls {
        sides: TlsSides {
            acceptor: tokio_rustls::TlsAcceptor::from(sip_server),
            connector: tokio_rustls::TlsConnector::from(client),
        },
        https: tokio_rustls::TlsAcceptor::from(https_server),
        certificates,
    }))
}

/// Reads the certificate files again on each SIGHUP. A failure is logged and the pair in
/// use kept; open connections are never touched.
async fn reload_on_hangup(certificates: Option<Arc<crate::tls::Certificates>>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            return;
        };
        while hup.recv().await.is_some() {
            match &certificates {
                None => tracing::info!("SIGHUP: no TLS certificate to reload"),
                Some(c) => match c.reload() {
                    Ok(()) => {
                        tracing::info!(cert = %c.cert_path().display(), "SIGHUP: TLS certificate reloaded; new connections use it")
                    }
                    Err(e) => {
                        tracing::warn!(%e, "SIGHUP: TLS certificate not reloaded; the old one stays in use")
                    }
                },
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = certificates;
    }
}

pub async fn run(config: Config) -> anyhow::Result<()> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data_dir {}", config.data_dir.display()))?;
    let config = Arc::new(config);
    let store = Store::open(&config.database_url())
        .await
        .context("opening the database")?;
    let (cdrs, cdr_writer) = CdrWriter::spawn(store.clone());
    // Voicemail: the index in memory, every change written behind.
    let messages = store
        .voicemail_messages()
        .await
        .context("loading voicemail messages")?;
    let (vm_changes, vm_rx) = tokio::sync::mpsc::unbounded_channel();
    let vm_writer = tokio::spawn(crate::store::write_voicemail(store.clone(), vm_rx));
    let (greeting_jobs, greeting_rx) = tokio::sync::mpsc::unbounded_channel();
    let greetings = crate::voicemail::greeting::load_all(&config.data_dir);
    let mailboxes = crate::voicemail::Mailboxes::new(messages, Some(vm_changes))
        .with_greetings(greetings, greeting_jobs);
    tokio::spawn(crate::voicemail::greeting::run(
        mailboxes.detached(),
        config.data_dir.clone(),
        greeting_rx,
    ));
    let metrics = Arc::new(Metrics::default());
    let m = &config.media;
    let media = media::MediaEngine::new(m.bind_ip, m.sdp_ip(), m.rtp_ports.first, m.rtp_ports.last)
        .context("media.rtp_ports")?;
    {
        // Free ports keep their relay sockets bound for their next call; close those that
        // waited long, so an idle switch holds few descriptors.
        let media = media.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(10));
            loop {
                tick.tick().await;
                media.sweep_idle();
            }
        });
    }

    let mut registrar = Registrar::default();
    for u in &config.users {
        if let Some(c) = &u.contact {
            match c.socket_addr() {
                Some(addr) => registrar.add_static(
                    &u.id,
                    c.uri.clone(),
                    Target {
                        transport: transport_kind(c.transport_or_default()),
                        addr,
                    },
                ),
                None => {
                    tracing::warn!(user = %u.id, "static contact host is not an IP address; ignored")
                }
            }
        }
    }
    let registrar = Arc::new(RwLock::new(registrar));
    {
        // Expired bindings are already ignored by lookups; this only returns their memory.
        let registrar = registrar.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                tick.tick().await;
                if let Ok(mut r) = registrar.write() {
                    r.sweep(Instant::now());
                }
            }
        });
    }

    let (sip_tcp_max, http_max) = crate::fd_limit::fit(&config);
    let mut tcp_limits = config.sip.tcp.clone();
    tcp_limits.max_connections = sip_tcp_max;
    tcp_limits.max_per_ip = tcp_limits.max_per_ip.min(sip_tcp_max);
    let n = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(2)
        .clamp(1, 16);
    // Every shard's channel, made before anything that sends to a shard.
    let (router, shard_inputs) = ShardRouter::new(n);
    let edge = Arc::new(crate::edge::Edge::new(
        config.edge.clone(),
        config.sip.trusted.clone(),
        Instant::now(),
    ));
    {
        let edge = edge.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(30));
            loop {
                every.tick().await;
                edge.sweep(Instant::now());
            }
        });
    }
    let tls = open_tls(&config)?;
    tokio::spawn(reload_on_hangup(
        tls.as_ref().map(|t| t.certificates.clone()),
    ));
    let tls_pool = tls.as_ref().map(|t| {
        TcpPool::new(
            metrics.clone(),
            tcp_limits.clone(),
            router.clone(),
            edge.clone(),
            Some(t.sides.clone()),
            registrar.clone(),
        )
    });
    if let Some(p) = &tls_pool {
        metrics.add_gate(p.gate.clone());
    }
    let tcp = TcpPool::new(
        metrics.clone(),
        tcp_limits,
        router.clone(),
        edge.clone(),
        None,
        registrar.clone(),
    );
    metrics.add_gate(tcp.gate.clone());
    let http_gate = crate::listener::Gate::new("http", http_max, http_max);
    metrics.add_gate(http_gate.clone());
    let mut udp_sockets = Vec::new();
    let mut tcp_listeners = Vec::new();
    let mut tls_listeners = Vec::new();
    let mut locals = HashMap::new();
    for l in &config.sip.listen {
        match l.transport {
            Transport::Udp => {
                let s = transport::bind_udp(l.addr)
                    .with_context(|| format!("sip.listen udp {}", l.addr))?;
                locals.entry(TransportKind::Udp).or_insert(s.local_addr()?);
                udp_sockets.push(Arc::new(s));
            }
            Transport::Tcp => {
                let s = tokio::net::TcpListener::bind(l.addr)
                    .await
                    .with_context(|| format!("sip.listen tcp {}", l.addr))?;
                locals.entry(TransportKind::Tcp).or_insert(s.local_addr()?);
                tcp_listeners.push(s);
            }
            Transport::Tls => {
                let s = tokio::net::TcpListener::bind(l.addr)
                    .await
                    .with_context(|| format!("sip.listen tls {}", l.addr))?;
                locals.entry(TransportKind::Tls).or_insert(s.local_addr()?);
                tls_listeners.push(s);
            }
        }
    }
    // The HTTP listeners are SIP's too (WebSocket at /sip): bound now, so the engines
    // know the addresses to put in Via and Contact.
    let http = tokio::net::TcpListener::bind(config.http.listen)
        .await
        .with_context(|| format!("http.listen {}", config.http.listen))?;
    locals.insert(TransportKind::Ws, http.local_addr()?);
    let https = match (config.tls.https_listen, &tls) {
        (Some(addr), Some(_)) => {
            let l = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("tls.https_listen {addr}"))?;
            locals.insert(TransportKind::Wss, l.local_addr()?);
            Some(l)
        }
        _ => None,
    };
    let prompts = Arc::new(crate::prompts::Prompts::load().map_err(anyhow::Error::msg)?);
    // Queues and agents: the config file's, under the changes saved over REST.
    let (queues, agents) = store
        .load_acd_changes()
        .await
        .context("loading the queues and agents saved over REST")?
        .apply(config.queues.clone(), config.agents.clone());
    let (acd_records, acd_records_rx) = tokio::sync::mpsc::unbounded_channel();
    let distributor = Distributor::spawn(queues, agents, acd_records, router.clone())
        .map_err(anyhow::Error::msg)?;
    let acd_writer = AcdRecordWriter::spawn(store.clone(), acd_records_rx);
    {
        let distributor = distributor.clone();
        edge.set_publisher(move |event| distributor.publish(event));
    }
    let mut secret = [0u8; 32];
    for b in secret.iter_mut() {
        *b = rand::random();
    }
    // One replay guard for every shard's digest verifier: a nonce count used on one shard
    // is a replay on all of them.
    let replay = sip::auth::ReplayGuard::shared(sip::auth::ReplayGuard::DEFAULT_MAX_TRACKED_NONCES);
    let unix_ms = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64)
    };
    let (accounts, opened) = crate::accounts::Accounts::open(store.clone(), config.account_seeds())
        .await
        .context("loading accounts")?;
    let websockets = crate::sip_websocket::WsPool::new(accounts.clone());
    let outbound = Arc::new(Outbound::new(
        udp_sockets.first().cloned(),
        tcp.clone(),
        tls_pool.clone(),
        websockets.clone(),
        metrics.clone(),
        router.clone(),
    ));
    // MESSAGEs from phones, from every shard to the IM service.
    let (phone_ims, phone_ims_rx) = tokio::sync::mpsc::unbounded_channel();
    for (i, rx) in shard_inputs.into_iter().enumerate() {
        let node = crate::shard::SharedNode {
            registrar: registrar.clone(),
            distributor: distributor.clone(),
            auth: sip::auth::Authenticator::new(
                config.sip.domain.clone(),
                secret,
                config.sip.nonce_ttl_secs,
            )
            .with_replay_guard(replay.clone()),
            mailboxes: mailboxes.clone(),
            accounts: accounts.clone(),
            edge: edge.clone(),
            websockets: websockets.clone(),
        };
        let engine = crate::engine::Engine::new(crate::engine::Setup {
            shard: i as u8,
            shards: n,
            config: config.clone(),
            prompts: prompts.clone(),
            node: Box::new(node),
            locals: locals.clone(),
            seed: rand::random(),
            now: Instant::now(),
            unix_ms: unix_ms(),
        });
        crate::shard::spawn(
            engine,
            rx,
            crate::shard::Effects {
                router: router.clone(),
                outbound: outbound.clone(),
                media: media.clone(),
                distributor: distributor.clone(),
                cdrs: cdrs.clone(),
                metrics: metrics.clone(),
                im: Some(phone_ims.clone()),
            },
        );
    }
    drop(phone_ims);
    drop(cdrs);
    for s in udp_sockets {
        tokio::spawn(transport::udp_loop(
            s,
            router.clone(),
            metrics.clone(),
            edge.clone(),
        ));
    }
    for l in tcp_listeners {
        tokio::spawn(tcp.clone().accept_loop(l));
    }
    if let Some(pool) = &tls_pool {
        for l in tls_listeners {
            tokio::spawn(pool.clone().accept_loop(l));
        }
    }
    for (k, a) in &locals {
        tracing::info!(transport = k.via_token(), addr = %a, "SIP listening");
    }

    let (stop_streams, streams_stopped) = tokio::sync::watch::channel(false);
    // The preview dialer: its own tables in the same database, its REST routes beside ours.
    let dialer_store = dialer::Store::from_pool(store.pool().clone())
        .await
        .context("opening the dialer's tables")?;
    let dialer = dialer::Dialer::new(dialer_store, dialer::preview::PreviewConfig::default())
        .await
        .context("loading campaigns")?;
    let dialer_timers = dialer.spawn_timers();
    if let Some(password) = &opened.admin_password {
        let file = config.data_dir.join(crate::accounts::ADMIN_PASSWORD_FILE);
        // Printed this once (and kept in the file, readable by the owner only): never a
        // fixed default, never logged again.
        println!(
            "\n  administrator account created: user \"{}\", password \"{password}\"\n  (also written to {}; change it with POST /api/me/password)\n",
            crate::accounts::ADMIN,
            file.display()
        );
    }
    crate::preview_link::spawn(
        dialer.clone(),
        distributor.clone(),
        router.clone(),
        accounts.clone(),
    );
    let partials = crate::chat::files::clean_partials(&config.data_dir);
    if partials > 0 {
        tracing::warn!(partials, "removed half-written chat attachments");
    }
    let chats = crate::chat::Chats::spawn(config.chat.clone(), distributor.clone(), store.clone())
        .await
        .context("loading the chats")?;
    let ims = crate::im::Ims::spawn(crate::im::Setup {
        config: config.clone(),
        store: store.clone(),
        distributor: distributor.clone(),
        accounts: accounts.clone(),
        router: router.clone(),
        registrar: registrar.clone(),
        from_phones: phone_ims_rx,
    })
    .await
    .context("loading the IM sessions")?;
    crate::im::presence::spawn(distributor.clone(), accounts.clone());
    let emails =
        crate::email::Emails::start(config.clone(), distributor.clone(), store.clone()).await;
    let state = AppState {
        ims,
        chats,
        emails,
        config: config.clone(),
        router: router.clone(),
        registrar: registrar.clone(),
        metrics: metrics.clone(),
        media,
        store: store.clone(),
        distributor: distributor.clone(),
        started: Instant::now(),
        acd_admin: Default::default(),
        shutdown: streams_stopped.clone(),
        accounts,
        mailboxes: mailboxes.clone(),
        edge: edge.clone(),
    };
    tracing::info!(addr = %http.local_addr()?, "HTTP listening (SIP over WebSocket at /sip)");
    let ws_gate = crate::listener::Gate::new("sip-ws", http_max, http_max);
    metrics.add_gate(ws_gate.clone());
    let sip_ws = crate::sip_websocket::SipWs {
        pool: websockets,
        router: router.clone(),
        metrics: metrics.clone(),
        edge: edge.clone(),
        registrar,
        gate: ws_gate,
        ping_every: config.http.idle_timeout / 3,
        shutdown: streams_stopped,
    };
    let app = api::app(state, dialer).merge(crate::sip_websocket::router(sip_ws));
    let (stop_http, http_stopped) = tokio::sync::watch::channel(false);
    let mut http_tasks = Vec::new();
    let listeners = std::iter::once((http, None))
        .chain(https.map(|l| (l, tls.as_ref().map(|t| t.https.clone()))));
    for (listener, acceptor) in listeners {
        if acceptor.is_some() {
            tracing::info!(addr = %listener.local_addr()?, "HTTPS listening (SIP over secure WebSocket at /sip)");
        }
        let (app, http_config, gate) = (app.clone(), config.http.clone(), http_gate.clone());
        let mut stopped = http_stopped.clone();
        http_tasks.push(tokio::spawn(async move {
            crate::http_server::serve(listener, app, &http_config, gate, acceptor, async {
                let _ = stopped.wait_for(|s| *s).await;
            })
            .await;
        }));
    }
    // The app holds a shard router (SIP over WebSocket): only the listeners may keep it,
    // so the shards end once the listeners have.
    drop(app);
    let mut sip_addrs: Vec<String> = locals
        .iter()
        .filter(|(k, _)| !k.is_client_only())
        .map(|(k, a)| format!("{}:{a}", k.via_token().to_ascii_lowercase()))
        .collect();
    sip_addrs.sort();
    println!(
        "switch ready: SIP {}, HTTP {}{}",
        sip_addrs.join(" "),
        config.http.listen,
        match locals.get(&TransportKind::Wss) {
            Some(a) => format!(", HTTPS {a}"),
            None => String::new(),
        }
    );

    wait_for_signal().await;
    tracing::info!("shutting down: ending calls");
    router.shutdown().await;
    // Event streams close after the calls' last events, releasing their distributor handles.
    let _ = stop_streams.send(true);
    let _ = stop_http.send(true);
    for t in http_tasks {
        let _ = t.await;
    }
    drop(router);
    // The shards held the last CDR sinks; the writer drains and ends.
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), cdr_writer).await;
    // The last mailboxes handle goes: the voicemail writer drains and ends.
    drop(mailboxes);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(10), vm_writer).await;
    // The distributor task ends with its last handle; its records sender goes with it, and
    // the ACD records writer drains and ends.
    dialer_timers.abort();
    distributor.stop();
    drop(distributor);
    if tokio::time::timeout(std::time::Duration::from_secs(10), acd_writer)
        .await
        .is_err()
    {
        tracing::warn!("ACD records writer still busy after 10 s; the newest records may be lost");
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut term = match signal(SignalKind::terminate()) {
            Ok(s) => s,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
