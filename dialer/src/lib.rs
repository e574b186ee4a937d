//! Outbound preview dialer: campaigns, contact lists, the preview flow, dispositions,
//! do-not-call lists, callbacks and calling windows, with their store and REST API.
//!
//! - [`campaign`], [`record`], [`outcome`], [`phone`], [`window`]: the model and its
//!   rules (retry and callback scheduling, E.164 numbers, calling windows in the
//!   contact's time zone).
//! - [`preview`]: the sans-IO preview flow ([`Preview`]): inputs with the time in,
//!   outputs (store work, originate, notifications, ACD states) out.
//! - [`store`]: SQLite or PostgreSQL, same queries and tests; atomic leasing.
//! - [`import`]: streamed CSV import in bounded memory.
//! - [`recovery`]: what start-up does with the calls a killed switch left open.
//! - [`Dialer`]: the flow wired to the store and an event channel, for the switch.
//! - [`http`]: the REST API (`dialer::http::router`) with its OpenAPI document.
//!
//! The switch depends on this crate, never the other way: agents and calls reach the
//! dialer as [`preview::Input`]s and leave as [`DialerEvent`]s.
//!
//! Decisions worth knowing:
//! - Records reach agents two ways: pushed to agents the switch reports Ready in the
//!   campaign's queue (`Input::AgentReady`) when the campaign starts, after each
//!   outcome, and every `idle_retry` while nothing is due; or pulled with
//!   `POST /api/agents/{agent}/campaigns/{campaign}/records/next`.
//! - Dial on accept: pulling a record is accepting it (it dials at once); a pushed
//!   record waits for the accept action. Countdown: the record's first callable number
//!   is dialled `seconds` after it reaches the agent. In every mode the agent can call
//!   any callable number, or a new one, earlier.
//! - A preview kept past its lease goes back to the list and the agent is put in Rona
//!   (no more pushes until the switch reports the agent Ready again).
//! - Pausing or stopping a campaign stops handing out records; records already with
//!   agents finish normally.
//! - A record given back without a call (call later, expiry, logout) is `ready`, even if
//!   it was a callback.
//! - Time zones and calling windows are checked when a record is leased (records outside
//!   their window are put off until it opens) and again when the call starts; the DNC
//!   lists when leased and again in the transaction that writes the attempt.

pub mod campaign;
pub mod http;
pub mod import;
pub mod outcome;
pub mod phone;
pub mod preview;
pub mod record;
pub mod recovery;
mod service;
pub mod store;
pub mod window;

pub use preview::Preview;
pub use service::{Dialer, DialerEvent};
pub use store::{Store, StoreError};
