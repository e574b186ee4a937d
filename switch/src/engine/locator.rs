//! The locator: which shard owns a dialog. Every shard's Call-IDs name it (`ccsNN-...`) and
//! every other Call-ID hashes to one, so a dialog's owner follows from its Call-ID alone.
//! Responses go by the shard their request came from: our Via branches name it too
//! (`z9hG4bKccsNN-...`, [`shard_of_branch`]), so an answer reaches the client transaction
//! even when two shards share a Call-ID (a request the switch sends itself, a spiral).
//! A request that names another dialog — an INVITE with Replaces (RFC 3891: attended
//! transfer, call pickup) or Join (RFC 3911: barge) — arrives with a Call-ID of its own and
//! so on any shard; it belongs with the dialog it names. The locator sends it there, and
//! remembers its Call-ID so what follows in that dialog (ACK, CANCEL, BYE, retransmissions,
//! answers to our requests) goes the same way, in order.

use sip::{Message, Request};
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::time::{Duration, Instant};

/// How long a forwarded Call-ID is remembered after its last message.
const REMEMBER: Duration = Duration::from_secs(3600);

/// The shard of a Call-ID among `shards`. Call-IDs we make name their shard
/// (`ccsNN-...`), others hash.
pub fn shard_for(call_id: &[u8], shards: usize) -> usize {
    let n = shards.max(1);
    if call_id.len() > 5 && call_id.starts_with(b"ccs") && call_id[5] == b'-' {
        if let Ok(s) = std::str::from_utf8(&call_id[3..5]) {
            if let Ok(i) = u8::from_str_radix(s, 16) {
                return usize::from(i) % n;
            }
        }
    }
    let mut h = DefaultHasher::new();
    call_id.hash(&mut h);
    (h.finish() as usize) % n
}

/// The shard a Via branch of ours names (`z9hG4bKccsNN-...`), among `shards`.
pub fn shard_of_branch(branch: &[u8], shards: usize) -> Option<usize> {
    let rest = branch.strip_prefix(b"z9hG4bKccs")?;
    if rest.len() < 3 || rest[2] != b'-' {
        return None;
    }
    let hex = std::str::from_utf8(&rest[..2]).ok()?;
    let shard = u8::from_str_radix(hex, 16).ok()?;
    Some(usize::from(shard) % shards.max(1))
}

/// The Call-ID of the dialog a request's Replaces (or Join) header names.
pub fn replaces(req: &Request) -> Option<String> {
    let v = req
        .headers
        .get("Replaces")
        .or_else(|| req.headers.get("Join"))?;
    let call_id = v.split(';').next()?.trim();
    (!call_id.is_empty()).then(|| call_id.to_string())
}

#[derive(Default)]
pub struct Locator {
    /// Call-IDs that arrived here but belong with a dialog of another shard.
    forwarded: HashMap<String, (usize, Instant)>,
}

impl Locator {
    /// The other shard `msg` belongs to, or `None` when it is this one's.
    pub fn owner(&mut self, now: Instant, msg: &Message, me: u8, shards: usize) -> Option<usize> {
        if shards <= 1 {
            return None;
        }
        // Responses were brought here by their branch: their transaction is here.
        let Message::Request(req) = msg else {
            return None;
        };
        if !self.forwarded.is_empty() {
            if let Some((shard, seen)) = req
                .headers
                .call_id()
                .and_then(|c| self.forwarded.get_mut(c))
            {
                *seen = now;
                return Some(*shard);
            }
        }
        // Only a new INVITE names another dialog.
        if req.method != sip::Method::Invite {
            return None;
        }
        let call_id = req.headers.call_id()?;
        let named = replaces(req)?;
        let shard = shard_for(named.as_bytes(), shards);
        if shard == usize::from(me) {
            return None;
        }
        self.forwarded.insert(call_id.to_string(), (shard, now));
        Some(shard)
    }

    /// Send what follows in dialog `call_id` to `shard` (a request this shard handed on).
    pub fn remember(&mut self, now: Instant, call_id: String, shard: usize) {
        self.forwarded.insert(call_id, (shard, now));
    }

    pub fn expire(&mut self, now: Instant) {
        if self.forwarded.is_empty() {
            return;
        }
        self.forwarded
            .retain(|_, (_, seen)| now.duration_since(*seen) < REMEMBER);
    }
}
