//! Server transactions (RFC 3261 §17.2, RFC 6026 Accepted state) and the handling of
//! incoming requests: retransmission absorption, ACK and CANCEL matching, 100 Trying, and
//! received/rport stamping (RFC 3581).

use super::timer::{ServerTimer, TimerKind};
use super::{is_invite, Event, Layer, ServerKey, Target, Transmit, TxId};
use crate::message::{Method, Request, Response};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum State {
    /// Non-INVITE only: no response sent yet.
    Trying,
    Proceeding,
    /// INVITE: a 2xx was sent; waiting for its ACK (retransmitting over UDP).
    Accepted {
        acked: bool,
    },
    Completed,
    /// INVITE: the ACK of a non-2xx final arrived.
    Confirmed,
}

pub(super) struct ServerTx {
    pub key: ServerKey,
    pub invite: bool,
    pub state: State,
    pub reply_to: Target,
    pub last_response: Option<Vec<u8>>,
    pub interval: Duration,
    /// (Call-ID, CSeq number), to match the ACK of a 2xx.
    pub dialog_key: Option<(String, u32)>,
    /// The request, so the TU can build late responses from the transaction alone: dropped
    /// once the final response is sent, so a finished transaction waiting out Timer H, I,
    /// J or L holds little more than its key and the response it may repeat. Boxed: the
    /// transaction map stores its entries inline, and finished ones are most of them.
    pub request: Option<Box<Request>>,
}

/// Where responses go (RFC 3261 §18.2.2 with RFC 3581): the same connection for reliable
/// transports; over UDP the source address when `rport` was asked for, else the source IP
/// with the Via port.
fn reply_target(r: &Request, source: Target) -> Target {
    if source.transport.is_reliable() {
        return source;
    }
    let Ok(via) = r.headers.top_via() else {
        return source;
    };
    if via.param("rport").is_some() {
        return source;
    }
    Target {
        transport: source.transport,
        addr: SocketAddr::new(source.addr.ip(), via.port.unwrap_or(5060)),
    }
}

/// The To tag of a stateless answer: derived from the request, so a retransmission gets the
/// same answer (RFC 3261 §8.2.7) without any state kept.
fn stateless_tag(r: &Request) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    r.headers.call_id().hash(&mut h);
    r.headers.get("CSeq").hash(&mut h);
    r.headers.get("Via").hash(&mut h);
    r.headers.get("From").hash(&mut h);
    format!("{:016x}", h.finish())
}

/// Stamp `received` and `rport` on the top Via (RFC 3261 §18.2.1, RFC 3581 §4).
fn stamp_via(r: &mut Request, source: Target) {
    let Some(h) = r.headers.0.iter_mut().find(|h| h.name == "Via") else {
        return;
    };
    let Ok(mut via) = crate::header::Via::parse(&h.value) else {
        return;
    };
    let ip = source.addr.ip().to_string();
    let mut changed = false;
    if via.param("rport").is_some() {
        via.set_param("rport", Some(source.addr.port().to_string()));
        via.set_param("received", Some(ip.clone()));
        changed = true;
    } else if via.host_unbracketed_eq(&ip) {
        // sent-by matches the source: nothing to add.
    } else {
        via.set_param("received", Some(ip));
        changed = true;
    }
    if changed {
        h.value = via.to_string();
    }
}

impl crate::header::Via {
    fn host_unbracketed_eq(&self, ip: &str) -> bool {
        self.host.trim_start_matches('[').trim_end_matches(']') == ip
    }
}

impl Layer {
    pub(super) fn handle_request(&mut self, now: Instant, mut r: Request, source: Target) {
        stamp_via(&mut r, source);
        // A request without the headers a transaction is keyed and answered by gets a
        // stateless answer (an ACK is dropped: it is never answered), before any
        // `100 Trying` or CANCEL matching could treat it as well formed.
        if let Err(rej) = crate::validate::validate_headers(&r) {
            self.stats.rejected_stateless += 1;
            if r.method != Method::Ack {
                let resp = crate::validate::response_for(&r, &rej, Some(&stateless_tag(&r)));
                self.transmits.push_back(Transmit {
                    target: reply_target(&r, source),
                    data: resp.to_bytes(),
                });
            }
            return;
        }
        match r.method {
            Method::Ack => self.handle_ack(now, r, source),
            Method::Cancel => self.handle_cancel(now, r, source),
            _ => self.handle_new_or_retransmit(now, r, source),
        }
    }

    fn handle_ack(&mut self, now: Instant, r: Request, source: Target) {
        if let Some(key) = ServerKey::of(&r, Method::Invite) {
            if let Some(&id) = self.server_keys.get(&key) {
                if let Some(tx) = self.servers.get_mut(&id) {
                    match tx.state {
                        State::Completed => {
                            tx.state = State::Confirmed;
                            self.timers.cancel_all(
                                id,
                                &[
                                    TimerKind::Server(ServerTimer::G),
                                    TimerKind::Server(ServerTimer::H),
                                ],
                            );
                            let reliable = tx.reply_to.transport.is_reliable();
                            let t4 = self.config.t4;
                            if reliable {
                                self.remove_server(id);
                            } else {
                                self.schedule(id, TimerKind::Server(ServerTimer::I), now + t4);
                            }
                            return;
                        }
                        State::Confirmed => {
                            self.stats.retransmissions_absorbed += 1;
                            return;
                        }
                        _ => {}
                    }
                }
            }
        }
        // The ACK of a 2xx is a request of its own (new branch); match it to the accepted
        // INVITE by dialog and CSeq so the 2xx retransmissions stop.
        let dk = r
            .headers
            .call_id()
            .zip(r.headers.cseq().ok())
            .map(|(c, s)| (c.to_string(), s.seq));
        let mut tx_id = None;
        if let Some(dk) = dk {
            if let Some(&id) = self.accepted.get(&dk) {
                if let Some(tx) = self.servers.get_mut(&id) {
                    if let State::Accepted { acked } = &mut tx.state {
                        if *acked {
                            self.stats.retransmissions_absorbed += 1;
                            return;
                        }
                        *acked = true;
                        // The 2xx arrived: it is never repeated again.
                        tx.last_response = None;
                        self.timers
                            .cancel(id, TimerKind::Server(ServerTimer::Retransmit2xx));
                        tx_id = Some(id);
                    }
                }
            }
        }
        self.events.push_back(Event::Ack {
            tx: tx_id,
            request: r,
            source,
        });
    }

    fn handle_cancel(&mut self, now: Instant, r: Request, source: Target) {
        let Some(key) = ServerKey::of(&r, Method::Cancel) else {
            return;
        };
        if self.absorb_retransmission(&key) {
            return;
        }
        let id = self.create_server(now, key, &r, source, false);
        let invite =
            ServerKey::of(&r, Method::Invite).and_then(|k| self.server_keys.get(&k).copied());
        let pending = invite.filter(|i| {
            self.servers
                .get(i)
                .is_some_and(|t| t.state == State::Proceeding)
        });
        match invite {
            None => {
                let resp = r.response(481, None, None);
                self.respond(now, id, resp);
            }
            Some(_) => {
                let resp = r.response(200, None, None);
                self.respond(now, id, resp);
                if let Some(invite) = pending {
                    self.events.push_back(Event::Cancel { invite, request: r });
                }
            }
        }
    }

    fn handle_new_or_retransmit(&mut self, now: Instant, r: Request, source: Target) {
        let Some(key) = ServerKey::of(&r, r.method.clone()) else {
            return;
        };
        if self.absorb_retransmission(&key) {
            return;
        }
        let invite = is_invite(&r.method);
        let id = self.create_server(now, key, &r, source, invite);
        if invite {
            // Sent at once: the B2BUA may take longer than T1 to produce a provisional.
            let trying = r.response(100, None, None);
            self.respond(now, id, trying);
        }
        self.events.push_back(Event::Request {
            tx: id,
            request: r,
            source,
        });
    }

    /// A request that matches a live transaction: repeat its last response, if any.
    fn absorb_retransmission(&mut self, key: &ServerKey) -> bool {
        let Some(&id) = self.server_keys.get(key) else {
            return false;
        };
        self.stats.retransmissions_absorbed += 1;
        if let Some(tx) = self.servers.get(&id) {
            if let Some(last) = &tx.last_response {
                self.transmits.push_back(Transmit {
                    target: tx.reply_to,
                    data: last.clone(),
                });
                self.stats.retransmissions_sent += 1;
            }
        }
        true
    }

    fn create_server(
        &mut self,
        _now: Instant,
        key: ServerKey,
        r: &Request,
        source: Target,
        invite: bool,
    ) -> TxId {
        let id = self.alloc_id();
        self.stats.server_created += 1;
        let dialog_key = if invite {
            r.headers
                .call_id()
                .zip(r.headers.cseq().ok())
                .map(|(c, s)| (c.to_string(), s.seq))
        } else {
            None
        };
        self.server_keys.insert(key.clone(), id);
        self.servers.insert(
            id,
            ServerTx {
                key,
                invite,
                state: if invite {
                    State::Proceeding
                } else {
                    State::Trying
                },
                reply_to: reply_target(r, source),
                last_response: None,
                interval: self.config.t1,
                dialog_key,
                request: Some(Box::new(r.clone())),
            },
        );
        id
    }

    /// Send a response within server transaction `tx`. Responses to finished transactions
    /// are ignored (the TU lost a race with a CANCEL or a timeout).
    pub fn respond(&mut self, now: Instant, tx: TxId, response: Response) {
        let t1 = self.config.t1;
        let Some(t) = self.servers.get_mut(&tx) else {
            return;
        };
        let code = response.code;
        if !matches!(t.state, State::Trying | State::Proceeding) {
            return;
        }
        let data = response.to_bytes();
        let target = t.reply_to;
        let reliable = target.transport.is_reliable();
        let mut timers: Vec<(TimerKind, Instant)> = Vec::new();
        let mut remove = false;
        if code < 200 {
            t.state = State::Proceeding;
        } else if t.invite && code < 300 {
            t.state = State::Accepted { acked: false };
            timers.push((TimerKind::Server(ServerTimer::L), now + 64 * t1));
            if !reliable {
                t.interval = t1;
                timers.push((TimerKind::Server(ServerTimer::Retransmit2xx), now + t1));
            }
            if let Some(dk) = t.dialog_key.clone() {
                self.accepted.insert(dk, tx);
            }
        } else if t.invite {
            t.state = State::Completed;
            timers.push((TimerKind::Server(ServerTimer::H), now + 64 * t1));
            if !reliable {
                t.interval = t1;
                timers.push((TimerKind::Server(ServerTimer::G), now + t1));
            }
        } else {
            t.state = State::Completed;
            if reliable {
                remove = true;
            } else {
                timers.push((TimerKind::Server(ServerTimer::J), now + 64 * t1));
            }
        }
        if code >= 200 {
            t.request = None;
        }
        t.last_response = Some(data.clone());
        self.transmits.push_back(Transmit { target, data });
        for (k, at) in timers {
            self.schedule(tx, k, at);
        }
        if remove {
            self.remove_server(tx);
        }
    }

    pub(super) fn server_timer(&mut self, now: Instant, id: TxId, timer: ServerTimer) {
        let t2 = self.config.t2;
        let Some(tx) = self.servers.get_mut(&id) else {
            return;
        };
        match timer {
            ServerTimer::G | ServerTimer::Retransmit2xx => {
                let live = match timer {
                    ServerTimer::G => tx.state == State::Completed,
                    _ => tx.state == (State::Accepted { acked: false }),
                };
                if !live {
                    return;
                }
                if let Some(data) = tx.last_response.clone() {
                    self.transmits.push_back(Transmit {
                        target: tx.reply_to,
                        data,
                    });
                    self.stats.retransmissions_sent += 1;
                }
                tx.interval = (tx.interval * 2).min(t2);
                let at = now + tx.interval;
                self.schedule(id, TimerKind::Server(timer), at);
            }
            ServerTimer::H => {
                if tx.state == State::Completed {
                    self.stats.timeouts += 1;
                    self.events.push_back(Event::Timeout { tx: id });
                }
                self.remove_server(id);
            }
            ServerTimer::L => {
                if tx.state == (State::Accepted { acked: false }) {
                    self.stats.timeouts += 1;
                    self.events.push_back(Event::Timeout { tx: id });
                }
                self.remove_server(id);
            }
            ServerTimer::I | ServerTimer::J => self.remove_server(id),
        }
    }

    fn remove_server(&mut self, id: TxId) {
        if let Some(tx) = self.servers.remove(&id) {
            self.server_keys.remove(&tx.key);
            if let Some(dk) = tx.dialog_key {
                if self.accepted.get(&dk) == Some(&id) {
                    self.accepted.remove(&dk);
                }
            }
            self.timers.cancel_all(
                id,
                &[
                    TimerKind::Server(ServerTimer::G),
                    TimerKind::Server(ServerTimer::H),
                    TimerKind::Server(ServerTimer::I),
                    TimerKind::Server(ServerTimer::J),
                    TimerKind::Server(ServerTimer::L),
                    TimerKind::Server(ServerTimer::Retransmit2xx),
                ],
            );
        }
    }

    /// The request that opened a live server transaction.
    pub fn server_request(&self, tx: TxId) -> Option<&Request> {
        self.servers.get(&tx).and_then(|t| t.request.as_deref())
    }

    /// The request's reply target of a live server transaction (for logging and tests).
    pub fn server_reply_target(&self, tx: TxId) -> Option<Target> {
        self.servers.get(&tx).map(|t| t.reply_to)
    }
}
