//! Client transactions (RFC 3261 §17.1, RFC 6026 Accepted state), the ACK of non-2xx
//! finals, and CANCEL (§9.1), which waits for a provisional before it is sent.

use super::timer::{ClientTimer, TimerKind};
use super::ClientKey;
use super::{Event, Layer, Target, Transmit, TxId};
use crate::message::{Headers, Method, Request, Response};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum State {
    /// INVITE: Calling; non-INVITE: Trying.
    Calling,
    Proceeding,
    Accepted,
    Completed,
}

pub(super) struct ClientTx {
    pub key: ClientKey,
    /// The request and its bytes, while they may be retransmitted or CANCELled: dropped
    /// once a final response arrives, so a finished transaction waiting out Timer D, K or
    /// M holds only its key and (for a non-2xx INVITE) its ACK.
    pub request: Option<Box<Request>>,
    pub bytes: Vec<u8>,
    pub target: Target,
    pub state: State,
    pub interval: Duration,
    pub ack: Option<Vec<u8>>,
    pub cancel_pending: bool,
}

impl ClientTx {
    /// A final response arrived: nothing is retransmitted or cancelled any more.
    fn finished(&mut self) {
        self.request = None;
        self.bytes = Vec::new();
    }
}

/// Errors from starting a client transaction.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum TxError {
    #[error("request has no top Via with a branch")]
    NoBranch,
    #[error("a transaction with this branch exists")]
    Duplicate,
}

impl Layer {
    /// Start a client transaction for `request` (which carries its top Via with a fresh
    /// branch) towards `target`. ACK is not a transaction: use [`Layer::send_stateless`].
    pub fn send_request(
        &mut self,
        now: Instant,
        request: Request,
        target: Target,
    ) -> Result<TxId, TxError> {
        let key = ClientKey::of_request(&request).ok_or(TxError::NoBranch)?;
        if self.client_keys.contains_key(&key) {
            return Err(TxError::Duplicate);
        }
        let id = self.alloc_id();
        self.stats.client_created += 1;
        let invite = request.method == Method::Invite;
        let bytes = request.to_bytes();
        let t1 = self.config.t1;
        self.transmits.push_back(Transmit {
            target,
            data: bytes.clone(),
        });
        if !target.transport.is_reliable() {
            let kind = if invite {
                ClientTimer::A
            } else {
                ClientTimer::E
            };
            self.schedule(id, TimerKind::Client(kind), now + t1);
        }
        let timeout = if invite {
            ClientTimer::B
        } else {
            ClientTimer::F
        };
        self.schedule(id, TimerKind::Client(timeout), now + 64 * t1);
        self.client_keys.insert(key.clone(), id);
        self.clients.insert(
            id,
            ClientTx {
                key,
                request: Some(Box::new(request)),
                bytes,
                target,
                state: State::Calling,
                interval: t1,
                ack: None,
                cancel_pending: false,
            },
        );
        Ok(id)
    }

    /// CANCEL a pending INVITE client transaction. Sent at once if a provisional has
    /// arrived, else as soon as one does (RFC 3261 §9.1). Returns false when the INVITE
    /// already has a final response (nothing to cancel).
    pub fn cancel(&mut self, now: Instant, tx: TxId) -> bool {
        let Some(t) = self.clients.get_mut(&tx) else {
            return false;
        };
        if t.key.method != Method::Invite {
            return false;
        }
        match (t.state, &t.request) {
            (State::Calling, _) => {
                t.cancel_pending = true;
                true
            }
            (State::Proceeding, Some(request)) => {
                let cancel = make_cancel(request);
                let target = t.target;
                let _ = self.send_request(now, cancel, target);
                // RFC 3261 §9.1: give the INVITE 64*T1 to end after the CANCEL, then
                // destroy it even if the callee never sends its 487.
                let t1 = self.config.t1;
                self.schedule(tx, TimerKind::Client(ClientTimer::B), now + 64 * t1);
                true
            }
            _ => false,
        }
    }

    pub(super) fn handle_response(&mut self, now: Instant, r: Response) {
        let Some(key) = ClientKey::of_response(&r) else {
            self.stats.stray_responses += 1;
            return;
        };
        let Some(&id) = self.client_keys.get(&key) else {
            self.stats.stray_responses += 1;
            return;
        };
        let t1 = self.config.t1;
        let t4 = self.config.t4;
        let Some(tx) = self.clients.get_mut(&id) else {
            return;
        };
        let invite = tx.key.method == Method::Invite;
        let reliable = tx.target.transport.is_reliable();
        let code = r.code;
        match (tx.state, code) {
            (State::Calling | State::Proceeding, 100..=199) => {
                let was_calling = tx.state == State::Calling;
                tx.state = State::Proceeding;
                if invite {
                    self.timers.cancel_all(
                        id,
                        &[
                            TimerKind::Client(ClientTimer::A),
                            TimerKind::Client(ClientTimer::B),
                        ],
                    );
                    if was_calling && tx.cancel_pending {
                        tx.cancel_pending = false;
                        if let Some(request) = &tx.request {
                            let cancel = make_cancel(request);
                            let target = tx.target;
                            let _ = self.send_request(now, cancel, target);
                        }
                    }
                }
                self.events.push_back(Event::Response {
                    tx: id,
                    response: r,
                });
            }
            (State::Calling | State::Proceeding, 200..=299) if invite => {
                tx.state = State::Accepted;
                tx.finished();
                self.timers.cancel_all(
                    id,
                    &[
                        TimerKind::Client(ClientTimer::A),
                        TimerKind::Client(ClientTimer::B),
                    ],
                );
                self.schedule(id, TimerKind::Client(ClientTimer::M), now + 64 * t1);
                self.events.push_back(Event::Response {
                    tx: id,
                    response: r,
                });
            }
            (State::Calling | State::Proceeding, _) if invite => {
                tx.state = State::Completed;
                let ack = tx
                    .request
                    .as_ref()
                    .map(|request| make_ack(request, &r).to_bytes())
                    .unwrap_or_default();
                tx.finished();
                tx.ack = Some(ack.clone());
                let target = tx.target;
                self.timers.cancel_all(
                    id,
                    &[
                        TimerKind::Client(ClientTimer::A),
                        TimerKind::Client(ClientTimer::B),
                    ],
                );
                self.transmits.push_back(Transmit { target, data: ack });
                if reliable {
                    self.remove_client(id);
                } else {
                    self.schedule(
                        id,
                        TimerKind::Client(ClientTimer::D),
                        now + Duration::from_secs(32),
                    );
                }
                self.events.push_back(Event::Response {
                    tx: id,
                    response: r,
                });
            }
            (State::Calling | State::Proceeding, _) => {
                tx.state = State::Completed;
                tx.finished();
                self.timers.cancel_all(
                    id,
                    &[
                        TimerKind::Client(ClientTimer::E),
                        TimerKind::Client(ClientTimer::F),
                    ],
                );
                if reliable {
                    self.remove_client(id);
                } else {
                    self.schedule(id, TimerKind::Client(ClientTimer::K), now + t4);
                }
                self.events.push_back(Event::Response {
                    tx: id,
                    response: r,
                });
            }
            (State::Accepted, 200..=299) => {
                // A 2xx retransmission (or another fork's 2xx): the TU repeats its ACK.
                self.events.push_back(Event::Response {
                    tx: id,
                    response: r,
                });
            }
            (State::Completed, 300..=699) if invite => {
                if let Some(ack) = tx.ack.clone() {
                    let target = tx.target;
                    self.transmits.push_back(Transmit { target, data: ack });
                    self.stats.retransmissions_sent += 1;
                }
            }
            _ => self.stats.retransmissions_absorbed += 1,
        }
    }

    pub(super) fn client_timer(&mut self, now: Instant, id: TxId, timer: ClientTimer) {
        let t2 = self.config.t2;
        let Some(tx) = self.clients.get_mut(&id) else {
            return;
        };
        match timer {
            ClientTimer::A | ClientTimer::E => {
                let live = match timer {
                    ClientTimer::A => tx.state == State::Calling,
                    _ => matches!(tx.state, State::Calling | State::Proceeding),
                };
                if !live {
                    return;
                }
                self.transmits.push_back(Transmit {
                    target: tx.target,
                    data: tx.bytes.clone(),
                });
                self.stats.retransmissions_sent += 1;
                tx.interval = match (timer, tx.state) {
                    // Timer A doubles without a cap (§17.1.1.2).
                    (ClientTimer::A, _) => tx.interval * 2,
                    (_, State::Proceeding) => t2,
                    _ => (tx.interval * 2).min(t2),
                };
                let at = now + tx.interval;
                self.schedule(id, TimerKind::Client(timer), at);
            }
            ClientTimer::B | ClientTimer::F => {
                if matches!(tx.state, State::Calling | State::Proceeding) {
                    self.stats.timeouts += 1;
                    self.events.push_back(Event::Timeout { tx: id });
                }
                self.remove_client(id);
            }
            ClientTimer::D | ClientTimer::K | ClientTimer::M => self.remove_client(id),
        }
    }

    pub(super) fn remove_client(&mut self, id: TxId) {
        if let Some(tx) = self.clients.remove(&id) {
            self.client_keys.remove(&tx.key);
            self.timers.cancel_all(
                id,
                &[
                    TimerKind::Client(ClientTimer::A),
                    TimerKind::Client(ClientTimer::B),
                    TimerKind::Client(ClientTimer::D),
                    TimerKind::Client(ClientTimer::E),
                    TimerKind::Client(ClientTimer::F),
                    TimerKind::Client(ClientTimer::K),
                    TimerKind::Client(ClientTimer::M),
                ],
            );
        }
    }

    /// The request a client transaction was started with.
    pub fn client_request(&self, tx: TxId) -> Option<&Request> {
        self.clients.get(&tx).and_then(|t| t.request.as_deref())
    }
}

/// Copy the headers a CANCEL or ACK shares with its INVITE (RFC 3261 §9.1, §17.1.1.3).
fn derived(invite: &Request, method: Method, to: &str) -> Request {
    let mut h = Headers::new();
    if let Some(v) = invite.headers.get("Via") {
        h.push("Via", v);
    }
    h.push("Max-Forwards", "70");
    if let Some(v) = invite.headers.get("From") {
        h.push("From", v);
    }
    h.push("To", to);
    if let Some(v) = invite.headers.get("Call-ID") {
        h.push("Call-ID", v);
    }
    let seq = invite.headers.cseq().map(|c| c.seq).unwrap_or(1);
    h.push("CSeq", format!("{seq} {method}"));
    for r in invite.headers.get_all("Route") {
        h.push("Route", r);
    }
    Request {
        method,
        uri: invite.uri.clone(),
        headers: h,
        body: Vec::new(),
    }
}

/// The CANCEL of an INVITE.
pub fn make_cancel(invite: &Request) -> Request {
    let to = invite.headers.get("To").unwrap_or_default().to_string();
    derived(invite, Method::Cancel, &to)
}

/// The hop-by-hop ACK of a non-2xx final response.
pub fn make_ack(invite: &Request, response: &Response) -> Request {
    let to = response
        .headers
        .get("To")
        .or_else(|| invite.headers.get("To"))
        .unwrap_or_default()
        .to_string();
    derived(invite, Method::Ack, &to)
}
