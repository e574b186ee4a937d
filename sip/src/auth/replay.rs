//! The replay guard of `qop=auth`: the highest nonce count accepted per nonce.
//!
//! Nonces are stateless, so any authenticator sharing the secret accepts any nonce; the
//! replay guard is the one piece of state, and it must be shared by every verifier that
//! can see a given nonce, or a captured request replayed to another verifier passes. The
//! switch verifies on several shards, so one [`ReplayGuard`] per node is shared by all of
//! them through [`SharedReplayGuard`] (a lock held only for one map operation, after the
//! digest has been checked). Several nodes sharing a secret would need to share this too,
//! or pin each nonce to its node.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use super::nonce::NonceId;

/// What the guard says about a correct response with a given `nc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    /// The count is new for this nonce: accepted and remembered.
    Fresh,
    /// The count was used before (or is 0): a replay.
    Replay,
    /// The guard forgot this nonce under memory pressure: ask the client for a new nonce.
    Forgotten,
}

/// Highest `nc` accepted per nonce, ordered by issue time so expiry and eviction take the
/// oldest first; bounded by `max_tracked`.
#[derive(Debug)]
pub struct ReplayGuard {
    highest_nc: BTreeMap<NonceId, u32>,
    max_tracked: usize,
    /// When the cap forced out a live entry, the newest issue time so dropped. A nonce issued
    /// at or before it with no entry may have been used already, so it is answered `Stale`
    /// rather than accepted with its history forgotten.
    forgotten_through: Option<u64>,
}

/// One guard shared by the verifiers of a node (cheap to clone).
pub type SharedReplayGuard = Arc<Mutex<ReplayGuard>>;

impl ReplayGuard {
    /// Cap: enough for tens of thousands of authenticated nonces in one lifetime, at a few
    /// dozen bytes each.
    pub const DEFAULT_MAX_TRACKED_NONCES: usize = 65_536;

    pub fn new(max_tracked: usize) -> Self {
        ReplayGuard {
            highest_nc: BTreeMap::new(),
            max_tracked: max_tracked.max(1),
            forgotten_through: None,
        }
    }

    /// A guard to share between verifiers.
    pub fn shared(max_tracked: usize) -> SharedReplayGuard {
        Arc::new(Mutex::new(Self::new(max_tracked)))
    }

    /// How many nonces are remembered (for metrics).
    pub fn tracked(&self) -> usize {
        self.highest_nc.len()
    }

    /// Drops the records of nonces issued before `oldest_live`: those are answered `Stale`
    /// by age alone, so their records are no longer needed.
    pub(crate) fn forget_before(&mut self, oldest_live: u64) {
        while let Some((&id, _)) = self.highest_nc.first_key_value() {
            if id.issued_at >= oldest_live {
                break;
            }
            self.highest_nc.pop_first();
        }
    }

    /// Accepts `nc` for nonce `id` if it is greater than any accepted before (so counts
    /// start at 1).
    pub(crate) fn admit(&mut self, id: NonceId, nc: u32) -> Admission {
        match self.highest_nc.get(&id) {
            Some(&highest) if nc <= highest => Admission::Replay,
            Some(_) => {
                self.highest_nc.insert(id, nc);
                Admission::Fresh
            }
            None if self.forgotten_through.is_some_and(|t| id.issued_at <= t) => {
                Admission::Forgotten
            }
            None if nc == 0 => Admission::Replay,
            None => {
                self.track(id, nc);
                Admission::Fresh
            }
        }
    }

    /// Records a first use, evicting the oldest record when at the cap.
    fn track(&mut self, id: NonceId, nc: u32) {
        while self.highest_nc.len() >= self.max_tracked {
            match self.highest_nc.pop_first() {
                Some((evicted, _)) => {
                    self.forgotten_through = Some(
                        self.forgotten_through
                            .map_or(evicted.issued_at, |t| t.max(evicted.issued_at)),
                    );
                }
                None => break,
            }
        }
        self.highest_nc.insert(id, nc);
    }
}
