//! The contact-centre switch: composition root wiring the SIP core, media, ACD and dialer.

pub mod accounts;
pub mod api;
pub mod chat;
pub mod config;
pub mod distributor;
pub mod distributor_error;
pub mod edge;
pub mod email;
pub mod engine;
pub mod fd_limit;
pub mod http_server;
pub mod im;
pub mod listener;
pub mod metrics;
#[cfg(test)]
mod module_graph;
pub mod orders;
pub mod preview_link;
pub mod prompts;
pub mod records;
pub mod registrar;
pub mod router;
pub mod server;
pub mod shard;
pub mod sip_websocket;
pub mod store;
pub mod tls;
pub mod transport;
pub mod voicemail;
pub mod web;
