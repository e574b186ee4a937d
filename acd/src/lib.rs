//! Automatic call distribution, sans-IO.
//!
//! The [`Engine`] routes *interactions* (voice calls now; chats, e-mails, IMs and preview
//! records through the same code) from queues to agents by state, skill, capacity and each
//! queue's [`Strategy`]. It never reads a clock or touches a socket: the switch feeds it
//! [`Event`]s with the time, calls [`Engine::handle_timeout`] when [`Engine::poll_timeout`]
//! says, and performs the [`Action`]s it drains with [`Engine::poll_action`].
//!
//! ```
//! use acd::{Action, AgentConfig, Arrival, Channel, Engine, Event, QueueConfig, RequestedState};
//! use std::time::Instant;
//!
//! let t0 = Instant::now();
//! let mut acd = Engine::new(t0, 1_700_000_000_000);
//! acd.upsert_queue(t0, QueueConfig::new("8000")).unwrap();
//! let mut alice = AgentConfig::new("alice");
//! alice.queues.push("8000".into());
//! acd.upsert_agent(t0, alice).unwrap();
//! acd.handle(t0, Event::AgentLogin { agent: "alice".into(), initial: RequestedState::Ready }).unwrap();
//! acd.handle(t0, Event::InteractionArrived(Arrival::new(1, "8000", Channel::Voice))).unwrap();
//! let offers: Vec<Action> = std::iter::from_fn(|| acd.poll_action())
//!     .filter(|a| matches!(a, Action::Offer { .. }))
//!     .collect();
//! assert_eq!(offers.len(), 1);
//! ```
//!
//! Rules in brief (details on each type):
//! - An agent is available when Ready, or when Reserved/Busy on a channel whose capacity is
//!   not used up (channels do not mix: an agent on chats gets more chats, not calls).
//! - Interactions are served by priority, then arrival. RONA (timeout or reject) puts the
//!   agent in Rona and the interaction back in its place, waiting time kept.
//! - When the last interaction in hand ends the agent enters AfterCallWork: fixed wrap-up
//!   returns to Ready by itself, manual wrap-up waits for `WrapUpDone` or a state choice.
//! - Routing costs O(log n) per decision for n agents available in the queue; see
//!   `engine/routing.rs` for the cases with extra skills.

mod action;
mod agent;
mod config;
mod engine;
mod error;
mod event;
mod hash;
mod id;
mod interaction;
mod queue;
mod skill;
mod state;
mod stats;
mod timer;

pub use action::{Action, CancelReason};
pub use config::{AgentConfig, Capacity, MaxWait, QueueConfig, Skills, Strategy, WrapUp};
pub use engine::{AgentView, Engine, InteractionStatus, InteractionView};
pub use error::{AcdError, ConfigError};
pub use event::{Arrival, CallerInfo, Event};
pub use id::{AgentId, Channel, Dn, InteractionId};
pub use state::{AgentState, Cause, RequestedState, StateChange, StateKind};
pub use stats::{AgentCounts, AgentStats, QueueStats};
