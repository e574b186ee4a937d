//! Location service (RFC 3261 §10.3): which contacts each user is reachable at, learned from
//! REGISTER or fixed in the config. One `Registrar` is shared by the shards behind a
//! read-mostly lock: calls read it, REGISTER writes it.

use serde::Serialize;
use sip::transaction::Target;
use std::collections::HashMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

#[derive(Clone, Debug)]
pub struct Binding {
    /// Contact URI as registered (the Request-URI for calls to it).
    pub contact: String,
    /// Where requests to this contact go: the source of the REGISTER (RFC 5626-style
    /// symmetric routing, which also keeps TCP connections and NAT bindings in use).
    pub target: Target,
    /// `None` for static contacts from the config.
    pub expires_at: Option<Instant>,
    pub expires_unix: Option<u64>,
    pub call_id: String,
    pub cseq: u32,
    pub q: f32,
    pub user_agent: String,
}

/// A REGISTER the registrar refuses (RFC 3261 §10.3 steps 6-7).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RegisterError {
    #[error("out-of-order REGISTER: CSeq {got} is not above {have}")]
    OutOfOrder { got: u32, have: u32 },
}

/// One contact change asked for by a REGISTER.
pub struct ContactUpdate {
    pub contact: String,
    pub expires: u32,
    pub q: f32,
}

#[derive(Default)]
pub struct Registrar {
    bindings: HashMap<String, Vec<Binding>>,
    /// Connections (TCP, TLS, WebSocket) that registrations route to, and until when
    /// (`None`: a static contact, always): the transports keep these open past their
    /// idle timeout, since the phone behind one cannot be reached any other way.
    flows: HashMap<Target, Option<Instant>>,
}

#[derive(Serialize)]
pub struct BindingView {
    pub user: String,
    pub contact: String,
    pub transport: &'static str,
    pub source: String,
    pub expires_in: Option<u64>,
    pub user_agent: String,
    pub static_contact: bool,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Registrar {
    pub fn add_static(&mut self, user: &str, contact: String, target: Target) {
        if target.transport.is_reliable() {
            self.flows.insert(target, None);
        }
        self.bindings
            .entry(user.to_string())
            .or_default()
            .push(Binding {
                contact,
                target,
                expires_at: None,
                expires_unix: None,
                call_id: String::new(),
                cseq: 0,
                q: 1.0,
                user_agent: "static".into(),
            });
    }

    /// Removes the registered (not static) bindings that route to `target`: a connection
    /// that only the client can open has closed. Returns how many went.
    pub fn drop_target(&mut self, target: Target) -> usize {
        self.flows.remove(&target);
        let mut dropped = 0;
        for list in self.bindings.values_mut() {
            let before = list.len();
            list.retain(|b| b.expires_at.is_none() || b.target != target);
            dropped += before - list.len();
        }
        self.bindings.retain(|_, l| !l.is_empty());
        dropped
    }

    /// Live contacts of `user`, best q first.
    pub fn lookup(&self, now: Instant, user: &str) -> Vec<Binding> {
        let mut out: Vec<Binding> = self
            .bindings
            .get(user)
            .map(|v| {
                v.iter()
                    .filter(|b| b.expires_at.is_none_or(|e| e > now))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        out.sort_by(|a, b| b.q.total_cmp(&a.q));
        out
    }

    /// Apply a REGISTER's contacts. `remove_all` is `Contact: *` with `Expires: 0`.
    #[allow(clippy::too_many_arguments)]
    pub fn update(
        &mut self,
        now: Instant,
        user: &str,
        call_id: &str,
        cseq: u32,
        target: Target,
        user_agent: &str,
        remove_all: bool,
        updates: Vec<ContactUpdate>,
    ) -> Result<Vec<Binding>, RegisterError> {
        let list = self.bindings.entry(user.to_string()).or_default();
        list.retain(|b| b.expires_at.is_none_or(|e| e > now));
        // Step 7: the same Call-ID must come with a higher CSeq.
        for b in list.iter() {
            if b.call_id == call_id && b.expires_at.is_some() && cseq <= b.cseq {
                let affected = remove_all || updates.iter().any(|u| u.contact == b.contact);
                if affected {
                    return Err(RegisterError::OutOfOrder {
                        got: cseq,
                        have: b.cseq,
                    });
                }
            }
        }
        if remove_all {
            list.retain(|b| b.expires_at.is_none());
        }
        for u in updates {
            list.retain(|b| b.expires_at.is_none() || b.contact != u.contact);
            if u.expires > 0 {
                let secs = u64::from(u.expires);
                let until = now + Duration::from_secs(secs);
                if target.transport.is_reliable() {
                    let flow = self.flows.entry(target).or_insert(Some(until));
                    if let Some(at) = flow {
                        *at = (*at).max(until);
                    }
                }
                list.push(Binding {
                    contact: u.contact,
                    target,
                    expires_at: Some(now + Duration::from_secs(secs)),
                    expires_unix: Some(unix_now() + secs),
                    call_id: call_id.to_string(),
                    cseq,
                    q: u.q,
                    user_agent: user_agent.to_string(),
                });
            }
        }
        Ok(list.clone())
    }

    /// Whether a live registration routes to the connection at `target`.
    pub fn is_flow(&self, now: Instant, target: Target) -> bool {
        self.flows
            .get(&target)
            .is_some_and(|until| until.is_none_or(|at| at > now))
    }

    /// Drop expired bindings (called now and then; lookups already ignore them).
    pub fn sweep(&mut self, now: Instant) {
        self.flows
            .retain(|_, until| until.is_none_or(|at| at > now));
        for list in self.bindings.values_mut() {
            list.retain(|b| b.expires_at.is_none_or(|e| e > now));
        }
        self.bindings.retain(|_, v| !v.is_empty());
    }

    pub fn view(&self, now: Instant) -> Vec<BindingView> {
        let mut out = Vec::new();
        for (user, list) in &self.bindings {
            for b in list.iter().filter(|b| b.expires_at.is_none_or(|e| e > now)) {
                out.push(BindingView {
                    user: user.clone(),
                    contact: b.contact.clone(),
                    transport: b.target.transport.via_token(),
                    source: b.target.addr.to_string(),
                    expires_in: b
                        .expires_at
                        .map(|e| e.saturating_duration_since(now).as_secs()),
                    user_agent: b.user_agent.clone(),
                    static_contact: b.expires_at.is_none(),
                });
            }
        }
        out.sort_by(|a, b| a.user.cmp(&b.user).then(a.contact.cmp(&b.contact)));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sip::transaction::TransportKind;

    fn t() -> Target {
        Target {
            transport: TransportKind::Udp,
            addr: "127.0.0.1:5070".parse().unwrap(),
        }
    }

    fn upd(c: &str, e: u32) -> ContactUpdate {
        ContactUpdate {
            contact: c.into(),
            expires: e,
            q: 1.0,
        }
    }

    #[test]
    fn bindings_expire_refresh_and_order() {
        let mut r = Registrar::default();
        let now = Instant::now();
        r.update(
            now,
            "1001",
            "c1",
            1,
            t(),
            "ua",
            false,
            vec![upd("sip:a@h", 60), upd("sip:b@h", 10)],
        )
        .unwrap();
        assert_eq!(r.lookup(now, "1001").len(), 2);
        assert_eq!(r.lookup(now + Duration::from_secs(11), "1001").len(), 1);
        let err = r.update(
            now,
            "1001",
            "c1",
            1,
            t(),
            "ua",
            false,
            vec![upd("sip:a@h", 60)],
        );
        assert!(matches!(err, Err(RegisterError::OutOfOrder { .. })));
        r.update(
            now,
            "1001",
            "c1",
            2,
            t(),
            "ua",
            false,
            vec![upd("sip:a@h", 0)],
        )
        .unwrap();
        assert_eq!(r.lookup(now, "1001").len(), 1);
        r.update(now, "1001", "c2", 1, t(), "ua", true, vec![])
            .unwrap();
        assert!(r.lookup(now, "1001").is_empty());
    }

    #[test]
    fn static_contacts_survive_star() {
        let mut r = Registrar::default();
        let now = Instant::now();
        r.add_static("gw", "sip:gw@127.0.0.1".into(), t());
        r.update(now, "gw", "c", 1, t(), "ua", true, vec![])
            .unwrap();
        assert_eq!(
            r.lookup(now + Duration::from_secs(1_000_000), "gw").len(),
            1
        );
    }

    #[test]
    fn a_closed_flow_takes_its_registrations_not_static_ones() {
        let mut r = Registrar::default();
        let now = Instant::now();
        let ws = Target {
            transport: TransportKind::Ws,
            addr: "127.0.0.1:40000".parse().unwrap(),
        };
        r.add_static("gw", "sip:gw@127.0.0.1".into(), ws);
        r.update(
            now,
            "1001",
            "c",
            1,
            ws,
            "ua",
            false,
            vec![upd("sip:x@h.invalid;transport=ws", 60)],
        )
        .unwrap();
        r.update(
            now,
            "1002",
            "d",
            1,
            t(),
            "ua",
            false,
            vec![upd("sip:y@h", 60)],
        )
        .unwrap();
        assert_eq!(r.drop_target(ws), 1);
        assert!(r.lookup(now, "1001").is_empty());
        assert_eq!(r.lookup(now, "1002").len(), 1, "other flows stay");
        assert_eq!(r.lookup(now, "gw").len(), 1, "static contacts stay");
    }

    #[test]
    fn connections_that_registrations_route_to_are_flows_until_they_expire() {
        let mut r = Registrar::default();
        let now = Instant::now();
        let tls = Target {
            transport: TransportKind::Tls,
            addr: "127.0.0.1:40001".parse().unwrap(),
        };
        assert!(!r.is_flow(now, tls));
        r.update(
            now,
            "1001",
            "c",
            1,
            tls,
            "ua",
            false,
            vec![upd("sip:a@h;transport=tls", 60)],
        )
        .unwrap();
        r.update(
            now,
            "1002",
            "d",
            1,
            t(),
            "ua",
            false,
            vec![upd("sip:b@h", 600)],
        )
        .unwrap();
        assert!(r.is_flow(now, tls));
        assert!(!r.is_flow(now, t()), "UDP sources are no connections");
        assert!(!r.is_flow(now + Duration::from_secs(61), tls), "expired");
        r.sweep(now + Duration::from_secs(61));
        assert!(r.flows.is_empty());
        r.update(
            now,
            "1001",
            "c",
            2,
            tls,
            "ua",
            false,
            vec![upd("sip:a@h;transport=tls", 60)],
        )
        .unwrap();
        r.drop_target(tls);
        assert!(!r.is_flow(now, tls), "a closed connection is no flow");
    }
}
