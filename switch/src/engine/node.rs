//! What a shard's call engine reads from the node it runs in, synchronously: the registrar
//! (shared by every shard: a REGISTER on one shard serves calls on all), the set of queue
//! DNs, and the digest verifier (one replay guard per node). The shard task gives the engine
//! the node's own; unit tests give it [`LocalNode`], plain values without locks.

use crate::registrar::{Binding, ContactUpdate, RegisterError, Registrar};
use sip::auth::Authenticator;
use sip::transaction::Target;
use std::collections::HashSet;
use std::time::Instant;

/// One REGISTER's changes, for [`Node::register`].
pub struct Registration<'a> {
    pub aor: &'a str,
    pub call_id: &'a str,
    pub cseq: u32,
    pub source: Target,
    pub user_agent: &'a str,
    pub remove_all: bool,
    pub updates: Vec<ContactUpdate>,
}

pub trait Node: Send {
    /// The reachable contacts of `user` (empty: not registered).
    fn lookup(&self, now: Instant, user: &str) -> Vec<Binding>;
    /// Apply a REGISTER; the user's bindings after it.
    fn register(&mut self, now: Instant, r: Registration<'_>) -> Result<Vec<Binding>, NodeError>;
    /// Whether `dn` is a queue's DN.
    fn is_queue(&self, dn: &str) -> bool;
    /// The digest verifier (its replay guard is the node's, shared by every shard).
    fn auth(&self) -> &Authenticator;
    /// The node's voicemail boxes (shared by every shard and the API).
    fn mailboxes(&self) -> &crate::voicemail::Mailboxes;
    /// Whether the SIP user `supervisor` may listen to, coach or barge in on the calls of
    /// the phone `extension` (the ACD agent `agent` when the call came through a queue):
    /// an administrator's or a supervisor's of that agent's teams.
    fn may_supervise(&self, supervisor: &str, agent: Option<&str>, extension: &str) -> bool;
    /// The node's guarded edge: bans, failed digests, scanners, calls per user and trunk.
    fn edge(&self) -> &crate::edge::Edge;
    /// The SIP user that the connection at `source` is already authenticated as (a SIP
    /// WebSocket opened with that user's live API session): its requests need no digest.
    fn connection_user(&self, _source: Target) -> Option<String> {
        None
    }
}

impl Registration<'_> {
    /// Apply it to `registrar`.
    pub fn apply(self, registrar: &mut Registrar, now: Instant) -> Result<Vec<Binding>, NodeError> {
        Ok(registrar.update(
            now,
            self.aor,
            self.call_id,
            self.cseq,
            self.source,
            self.user_agent,
            self.remove_all,
            self.updates,
        )?)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error(transparent)]
    Register(#[from] RegisterError),
    /// The registrar's lock was poisoned by a panic elsewhere.
    #[error("registrar unavailable")]
    Unavailable,
}

/// A node of plain values: a registrar, queue DNs and a verifier owned by one engine.
pub struct LocalNode {
    pub registrar: Registrar,
    pub queues: HashSet<String>,
    pub auth: Authenticator,
    pub mailboxes: crate::voicemail::Mailboxes,
    /// (supervisor, extension) pairs allowed to supervise.
    pub supervises: HashSet<(String, String)>,
    pub edge: crate::edge::Edge,
    /// Connections already authenticated as a user (a SIP WebSocket with a session).
    pub connections: std::collections::HashMap<Target, String>,
}

impl LocalNode {
    pub fn new(realm: &str, queues: &[&str]) -> LocalNode {
        LocalNode {
            registrar: Registrar::default(),
            queues: queues.iter().map(|q| q.to_string()).collect(),
            auth: Authenticator::new(realm.to_string(), [7; 32], 300),
            mailboxes: crate::voicemail::Mailboxes::default(),
            supervises: HashSet::new(),
            edge: crate::edge::Edge::new(
                crate::config::EdgeConfig::default(),
                Vec::new(),
                Instant::now(),
            ),
            connections: Default::default(),
        }
    }
}

impl Node for LocalNode {
    fn lookup(&self, now: Instant, user: &str) -> Vec<Binding> {
        self.registrar.lookup(now, user)
    }

    fn register(&mut self, now: Instant, r: Registration<'_>) -> Result<Vec<Binding>, NodeError> {
        r.apply(&mut self.registrar, now)
    }

    fn is_queue(&self, dn: &str) -> bool {
        self.queues.contains(dn)
    }

    fn auth(&self) -> &Authenticator {
        &self.auth
    }

    fn mailboxes(&self) -> &crate::voicemail::Mailboxes {
        &self.mailboxes
    }

    fn may_supervise(&self, supervisor: &str, _agent: Option<&str>, extension: &str) -> bool {
        self.supervises
            .contains(&(supervisor.to_string(), extension.to_string()))
    }

    fn edge(&self) -> &crate::edge::Edge {
        &self.edge
    }

    fn connection_user(&self, source: Target) -> Option<String> {
        self.connections.get(&source).cloned()
    }
}
