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
//! Output idiom: actions are queued inside the engine and drained with
//! [`Engine::poll_action`] (as `sip::transaction` does with `poll_event`), in the order they
//! happened. `handle` returns `Err` only for events that do not fit (unknown agent,
//! offer no longer ringing...), and then changes nothing.
//!
//! Rules in brief (details on each type):
//! - An agent is available when Ready, or when Reserved/Busy on a channel whose capacity is
//!   not used up. Channels do not mix: an agent on chats gets more chats (up to the chat
//!   capacity), not calls, and an agent on a call gets nothing else. Busy means at least
//!   one active interaction; Reserved means offers ringing and nothing active.
//! - Interactions are served by priority (higher first), then arrival; an agent in several
//!   queues takes the best of their heads. RONA (offer timeout, or 486/603 reject) puts the
//!   agent in Rona (no offers until they choose a state) and the interaction back in its
//!   place with its waiting time.
//! - When the agent's last interaction ends they enter AfterCallWork under the queue's
//!   wrap-up: fixed returns to Ready by itself (0 s: straight to Ready), manual waits for
//!   `WrapUpDone` or a state choice. NotReady asked for while Busy applies after wrap-up.
//! - Maximum wait: the interaction is handed back with `Overflow { target }` and forgotten;
//!   the switch re-presents it wherever the target DN leads. Maximum size: `QueueFull`.
//! - Timestamps in records are wall-clock ms derived from the `Instant`s passed in and the
//!   anchor given to [`Engine::new`].
//!
//! Cost: each queue keeps `BTreeSet`s of its available agents ordered by its strategy and
//! of its waiting interactions ordered by priority and arrival; an agent in m queues has an
//! entry in each, updated when its availability changes (O(m log n)). A routing decision
//! reads the head of a set: O(log n) when the interaction needs no skills beyond the
//! queue's; O(log n + k) when k available agents are skipped for lacking the extra skills;
//! ring-all is O(n) by nature. See `engine/routing.rs`.

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
pub use config::{
    AgentConfig, Capacity, MaxWait, QueueConfig, Skills, Strategy, TransferArrival, WrapUp,
};
pub use engine::{AgentView, Engine, InteractionStatus, InteractionView};
pub use error::{AcdError, ConfigError};
pub use event::{Arrival, CallerInfo, Event, ExternalWork};
pub use id::{
    check_agent_id, check_dn, check_name, AgentId, Channel, Dn, InteractionId, MAX_ID_LEN,
    MAX_NAME_LEN,
};
pub use state::{AgentState, Cause, RequestedState, StateChange, StateKind};
pub use stats::{AgentCounts, AgentStats, QueueStats};
