//! The pool of RTP/RTCP port pairs.
//!
//! RTP goes on an even port and RTCP on the next odd one (RFC 3550 §11), so the pool hands out
//! even ports only and the caller binds `port` and `port + 1`.
//!
//! Freed ports go to the back of a FIFO queue rather than the front: a port that was just
//! released may still receive late packets from the previous call (or a retransmitted
//! re-INVITE's media), and reusing it last gives those strays the longest time to die out
//! before they could be mistaken for the next call's media.
//!
//! The pool is touched once per call set-up and tear-down, never per packet, so a plain
//! mutex is the right tool.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::error::MediaError;

/// A thread-safe pool of even RTP ports, handed out in FIFO order.
#[derive(Debug)]
pub struct PortPool {
    /// The lowest port of the pool (even).
    first: u16,
    /// Number of pairs; fixed at construction, so slot checks need no lock.
    slots: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    /// Free even ports; allocation pops the front, release pushes the back.
    free: VecDeque<u16>,
    /// `in_use[i]` is true when port `first + 2 * i` is allocated; it catches double releases
    /// and releases of ports that were never ours, which would otherwise hand one port to two
    /// calls.
    in_use: Vec<bool>,
}

impl PortPool {
    /// Builds a pool of every even port `P` in `first..=last` with `P + 1 <= last`.
    ///
    /// An odd `first` is rounded up. Fails when that leaves no pair, or when the range
    /// starts at port 0 (which means "any port" to the OS, not a port we can advertise).
    pub fn new(first: u16, last: u16) -> Result<PortPool, MediaError> {
        let invalid = MediaError::InvalidPortRange { first, last };
        if first == 0 {
            return Err(invalid);
        }
        let start = if first % 2 == 1 {
            first
                .checked_add(1)
                .ok_or(MediaError::InvalidPortRange { first, last })?
        } else {
            first
        };
        // Collect even ports P with P + 1 <= last; compute in u32 to avoid overflow at 65535.
        let free: VecDeque<u16> = (u32::from(start)..u32::from(last))
            .step_by(2)
            .filter_map(|p| u16::try_from(p).ok())
            .collect();
        if free.is_empty() {
            return Err(invalid);
        }
        let slots = free.len();
        Ok(PortPool {
            first: start,
            slots,
            inner: Mutex::new(Inner {
                free,
                in_use: vec![false; slots],
            }),
        })
    }

    /// Takes the least recently released even port, or `None` when all are in use.
    pub fn allocate(&self) -> Option<u16> {
        let mut inner = self.lock();
        let port = inner.free.pop_front()?;
        if let Some(slot) = self.slot(port) {
            inner.in_use[slot] = true;
        }
        Some(port)
    }

    /// Returns `port` to the back of the queue.
    ///
    /// Releasing a port that is not allocated from this pool (odd, out of range, or already
    /// free) is a caller bug; it is logged and ignored rather than corrupting the pool.
    pub fn release(&self, port: u16) {
        let mut inner = self.lock();
        match self.slot(port) {
            Some(slot) if inner.in_use[slot] => {
                inner.in_use[slot] = false;
                inner.free.push_back(port);
            }
            _ => tracing::warn!(
                port,
                "release of a port that is not allocated from this pool"
            ),
        }
    }

    /// How many port pairs are free right now.
    pub fn available(&self) -> usize {
        self.lock().free.len()
    }

    /// How many port pairs the pool holds in all (so how many sides can be bound at once).
    pub fn capacity(&self) -> usize {
        self.slots
    }

    /// Index of `port` in `in_use`, if it is one of ours.
    fn slot(&self, port: u16) -> Option<usize> {
        let offset = port.checked_sub(self.first)?;
        if offset % 2 != 0 {
            return None;
        }
        let slot = usize::from(offset / 2);
        (slot < self.slots).then_some(slot)
    }

    /// The pool's state stays consistent even if a holder panicked (every update is a single
    /// push or pop), so a poisoned lock is simply taken over.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// One allocated port, given back to its pool when dropped.
///
/// Holders put it after the sockets bound on the port, so that (fields drop in declaration
/// order) the sockets are closed before the port can be handed to another call.
#[derive(Debug)]
pub(crate) struct PortLease {
    pool: Arc<PortPool>,
    port: u16,
}

impl PortLease {
    /// Takes a port from `pool`, or `None` when it is exhausted.
    pub(crate) fn take(pool: &Arc<PortPool>) -> Option<PortLease> {
        pool.allocate().map(|port| PortLease {
            pool: Arc::clone(pool),
            port,
        })
    }

    /// The leased (even, RTP) port.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for PortLease {
    fn drop(&mut self) {
        self.pool.release(self.port);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hands_out_even_ports_with_room_for_rtcp() {
        let pool = PortPool::new(41001, 41010).unwrap();
        let mut got = Vec::new();
        while let Some(p) = pool.allocate() {
            got.push(p);
        }
        // 41001 rounds up to 41002; 41010 has no 41011 in range.
        assert_eq!(got, vec![41002, 41004, 41006, 41008]);
        assert!(got.iter().all(|p| p % 2 == 0));
        assert_eq!(pool.capacity(), 4);
    }

    #[test]
    fn last_port_pairs_when_odd() {
        let pool = PortPool::new(41000, 41003).unwrap();
        assert_eq!(pool.allocate(), Some(41000));
        assert_eq!(pool.allocate(), Some(41002));
        assert_eq!(pool.allocate(), None);
    }

    #[test]
    fn top_of_port_space_does_not_overflow() {
        let pool = PortPool::new(65530, 65535).unwrap();
        assert_eq!(pool.capacity(), 3);
        let pool = PortPool::new(65535, 65535);
        assert!(matches!(pool, Err(MediaError::InvalidPortRange { .. })));
    }

    #[test]
    fn rejects_empty_and_zero_ranges() {
        assert!(PortPool::new(41000, 41000).is_err());
        assert!(PortPool::new(41010, 41000).is_err());
        assert!(PortPool::new(0, 100).is_err());
        assert!(PortPool::new(1, 3).is_ok());
    }

    #[test]
    fn exhaustion_then_release() {
        let pool = PortPool::new(41000, 41003).unwrap();
        let a = pool.allocate().unwrap();
        let _b = pool.allocate().unwrap();
        assert_eq!(pool.allocate(), None);
        assert_eq!(pool.available(), 0);
        pool.release(a);
        assert_eq!(pool.available(), 1);
        assert_eq!(pool.allocate(), Some(a));
    }

    #[test]
    fn freed_ports_are_reused_last() {
        let pool = PortPool::new(41000, 41007).unwrap(); // 41000, 41002, 41004, 41006
        let first = pool.allocate().unwrap();
        assert_eq!(first, 41000);
        pool.release(first);
        // The just-freed port waits behind every never-used one.
        assert_eq!(pool.allocate(), Some(41002));
        assert_eq!(pool.allocate(), Some(41004));
        assert_eq!(pool.allocate(), Some(41006));
        assert_eq!(pool.allocate(), Some(41000));
    }

    #[test]
    fn release_order_is_fifo() {
        let pool = PortPool::new(41000, 41005).unwrap(); // 41000, 41002, 41004
        let ports: Vec<u16> = (0..3).filter_map(|_| pool.allocate()).collect();
        pool.release(ports[2]);
        pool.release(ports[0]);
        pool.release(ports[1]);
        assert_eq!(pool.allocate(), Some(ports[2]));
        assert_eq!(pool.allocate(), Some(ports[0]));
        assert_eq!(pool.allocate(), Some(ports[1]));
    }

    #[test]
    fn bogus_releases_are_ignored() {
        let pool = PortPool::new(41000, 41005).unwrap();
        let p = pool.allocate().unwrap();
        pool.release(p);
        pool.release(p); // double release
        pool.release(41001); // odd
        pool.release(40000); // below range
        pool.release(41006); // above range
        pool.release(41002); // in range but never allocated
        assert_eq!(pool.available(), 3);
        let mut got: Vec<u16> = (0..4).filter_map(|_| pool.allocate()).collect();
        got.sort_unstable();
        assert_eq!(got, vec![41000, 41002, 41004]);
    }

    #[test]
    fn lease_returns_port_on_drop() {
        let pool = Arc::new(PortPool::new(41000, 41003).unwrap());
        let lease = PortLease::take(&pool).unwrap();
        assert_eq!(lease.port(), 41000);
        assert_eq!(pool.available(), 1);
        drop(lease);
        assert_eq!(pool.available(), 2);
    }

    #[test]
    fn shared_between_threads() {
        let pool = std::sync::Arc::new(PortPool::new(41000, 41199).unwrap());
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let pool = pool.clone();
                std::thread::spawn(move || {
                    let mut mine = Vec::new();
                    for _ in 0..20 {
                        if let Some(p) = pool.allocate() {
                            mine.push(p);
                        }
                    }
                    mine
                })
            })
            .collect();
        let mut all: Vec<u16> = handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect();
        let n = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(all.len(), n, "a port was handed out twice");
        assert_eq!(n, 80);
    }
}
