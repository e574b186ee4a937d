//! Call churn for the soak: new calls at a steady rate, each carrying media both ways for
//! `hold`, then ended by our caller's BYE. Before a call ends, both of its streams stop and
//! the BYE goes 300 ms later, so packets still in flight are not counted as lost.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sip::Message;

use super::{media_address, sdp, Dialog, Sip};
use crate::load::{End, Media};

/// Streams stop this long before the BYE.
const QUIET_BEFORE_BYE: Duration = Duration::from_millis(300);
/// An INVITE with no final answer by then counts as failed.
const INVITE_GIVES_UP: Duration = Duration::from_secs(32);

/// What the churn has done so far (read each minute by the main thread).
#[derive(Default)]
pub struct Counters {
    pub started: AtomicU64,
    pub answered: AtomicU64,
    pub failed: AtomicU64,
    pub ended: AtomicU64,
    pub bye_failed: AtomicU64,
    pub up: AtomicU64,
    pub stop: AtomicBool,
}

struct Live {
    dialog: Option<Dialog>,
    caller_stream: Option<usize>,
    callee_stream: Option<usize>,
}

impl Sip {
    /// Runs until `counters.stop`: starts `rate` calls per second, ends each after `hold`;
    /// then ends the calls still up and returns.
    pub fn churn(&mut self, media: &Media, rate: f64, hold: Duration, counters: &Arc<Counters>) {
        let gap = Duration::from_secs_f64(1.0 / rate.max(0.001));
        let mut next_start = Instant::now();
        let mut call = 0usize;
        let mut live: HashMap<usize, Live> = HashMap::new();
        let mut ending: BinaryHeap<Reverse<(Instant, usize)>> = BinaryHeap::new();
        let mut byes: BinaryHeap<Reverse<(Instant, usize)>> = BinaryHeap::new();
        // BYEs awaiting their 200: Call-ID -> (request, last sent, attempts).
        let mut bye_wait: HashMap<String, (Vec<u8>, Instant, u32)> = HashMap::new();
        let mut started_at: HashMap<String, Instant> = HashMap::new();
        let mut stopping_since: Option<Instant> = None;
        loop {
            let now = Instant::now();
            let stopping = counters.stop.load(Ordering::Relaxed);
            if stopping && stopping_since.is_none() {
                stopping_since = Some(now);
                // End every call now.
                for (&c, _) in live.iter().filter(|(_, l)| l.dialog.is_some()) {
                    ending.push(Reverse((now, c)));
                }
            }
            if stopping && live.is_empty() && bye_wait.is_empty() && self.pending.is_empty() {
                break;
            }
            if stopping_since.is_some_and(|t| now.duration_since(t) > Duration::from_secs(40)) {
                eprintln!(
                    "churn: {} calls still up after 40 s of ending; giving up",
                    live.len()
                );
                break;
            }
            if !stopping && now >= next_start {
                let (call_id, invite) = self.invite(call, media.port(End::Caller, call));
                let _ = self.uac.send_to(&invite, self.server);
                self.pending.insert(call_id.clone(), (call, invite, now));
                started_at.insert(call_id, now);
                live.insert(
                    call,
                    Live {
                        dialog: None,
                        caller_stream: None,
                        callee_stream: None,
                    },
                );
                counters.started.fetch_add(1, Ordering::Relaxed);
                call += 1;
                next_start += gap;
            }
            // INVITE retransmissions and give-ups.
            let mut gave_up = Vec::new();
            for (id, (c, invite, sent)) in self.pending.iter_mut() {
                if started_at
                    .get(id)
                    .is_some_and(|t| now.duration_since(*t) > INVITE_GIVES_UP)
                {
                    gave_up.push((id.clone(), *c));
                } else if now.duration_since(*sent) > super::RETRANSMIT {
                    let _ = self.uac.send_to(invite, self.server);
                    *sent = now;
                }
            }
            for (id, c) in gave_up {
                self.pending.remove(&id);
                if let Some(l) = live.remove(&c) {
                    l.callee_stream
                        .into_iter()
                        .for_each(|s| media.remove_stream(s));
                }
                counters.failed.fetch_add(1, Ordering::Relaxed);
            }
            // Calls whose time is up: quiet their streams, BYE shortly after.
            while ending.peek().is_some_and(|Reverse((t, _))| *t <= now) {
                let Some(Reverse((_, c))) = ending.pop() else {
                    break;
                };
                if let Some(l) = live.get_mut(&c) {
                    l.caller_stream
                        .take()
                        .into_iter()
                        .for_each(|s| media.remove_stream(s));
                    l.callee_stream
                        .take()
                        .into_iter()
                        .for_each(|s| media.remove_stream(s));
                    byes.push(Reverse((now + QUIET_BEFORE_BYE, c)));
                }
            }
            while byes.peek().is_some_and(|Reverse((t, _))| *t <= now) {
                let Some(Reverse((_, c))) = byes.pop() else {
                    break;
                };
                if let Some(dialog) = live.remove(&c).and_then(|l| l.dialog) {
                    let bye = self.bye(&dialog, 2);
                    let _ = self.uac.send_to(&bye, self.server);
                    bye_wait.insert(dialog.call_id.clone(), (bye, now, 1));
                    counters.up.fetch_sub(1, Ordering::Relaxed);
                }
            }
            bye_wait.retain(|_, (bye, sent, attempts)| {
                if now.duration_since(*sent) < super::RETRANSMIT * *attempts {
                    return true;
                }
                if *attempts >= 6 {
                    counters.bye_failed.fetch_add(1, Ordering::Relaxed);
                    return false;
                }
                let _ = self.uac.send_to(bye, self.server);
                *sent = now;
                *attempts += 1;
                true
            });
            let mut idle = true;
            idle &=
                !self.churn_caller(media, &mut live, &mut ending, &mut bye_wait, hold, counters);
            idle &= !self.churn_callee(media, &mut live);
            if idle {
                std::thread::sleep(Duration::from_micros(500));
            }
        }
    }

    /// One datagram at the caller; true if there was one.
    fn churn_caller(
        &mut self,
        media: &Media,
        live: &mut HashMap<usize, Live>,
        ending: &mut BinaryHeap<Reverse<(Instant, usize)>>,
        bye_wait: &mut HashMap<String, (Vec<u8>, Instant, u32)>,
        hold: Duration,
        counters: &Counters,
    ) -> bool {
        let mut buf = [0u8; 65535];
        let Ok((n, _)) = self.uac.recv_from(&mut buf) else {
            return false;
        };
        let Ok(Message::Response(response)) = sip::parse_datagram(&buf[..n]) else {
            return true;
        };
        let Some(call_id) = response.headers.call_id().map(str::to_string) else {
            return true;
        };
        let Ok(cseq) = response.headers.cseq() else {
            return true;
        };
        if cseq.method == sip::Method::Bye {
            if response.code >= 200 && bye_wait.remove(&call_id).is_some() {
                counters.ended.fetch_add(1, Ordering::Relaxed);
            }
            return true;
        }
        if cseq.method != sip::Method::Invite || response.code < 200 {
            return true;
        }
        let Some((call, _, _)) = self.pending.remove(&call_id) else {
            if response.code < 300 {
                let _ = self.ack(&response);
            }
            return true;
        };
        let _ = self.ack(&response);
        if response.code >= 300 {
            eprintln!("call {call}: {} {}", response.code, response.reason);
            counters.failed.fetch_add(1, Ordering::Relaxed);
            if let Some(l) = live.remove(&call) {
                l.callee_stream
                    .into_iter()
                    .for_each(|s| media.remove_stream(s));
            }
            return true;
        }
        let Some(l) = live.get_mut(&call) else {
            return true;
        };
        match media_address(&String::from_utf8_lossy(&response.body)) {
            Ok(addr) => l.caller_stream = Some(media.add_stream(End::Caller, call, addr)),
            Err(e) => eprintln!("call {call}: {e}"),
        }
        l.dialog = Some(self.dialog_of(&response, call_id));
        ending.push(Reverse((Instant::now() + hold, call)));
        counters.answered.fetch_add(1, Ordering::Relaxed);
        counters.up.fetch_add(1, Ordering::Relaxed);
        true
    }

    /// One datagram at the callee; true if there was one.
    fn churn_callee(&mut self, media: &Media, live: &mut HashMap<usize, Live>) -> bool {
        let mut buf = [0u8; 65535];
        let Ok((n, from)) = self.uas.recv_from(&mut buf) else {
            return false;
        };
        let Ok(Message::Request(request)) = sip::parse_datagram(&buf[..n]) else {
            return true;
        };
        match request.method {
            sip::Method::Invite => {
                let call_id = request.headers.call_id().unwrap_or_default().to_string();
                if let Some(ok) = self.callee_legs.get(&call_id) {
                    let _ = self.uas.send_to(ok, from);
                    return true;
                }
                // Our caller names the call in its From user ("load-N"); the switch keeps it.
                let call = request
                    .headers
                    .from()
                    .ok()
                    .and_then(|f| f.uri.user.clone())
                    .and_then(|u| {
                        u.strip_prefix("load-")
                            .and_then(|n| n.parse::<usize>().ok())
                    });
                let leg = self.callee_legs.len();
                let mut ok = request.response(200, None, Some(&format!("c{leg}")));
                ok.headers
                    .push("Contact", format!("<sip:callee@{}>", self.local(&self.uas)));
                ok.headers.push("Content-Type", "application/sdp");
                ok.body = sdp(media.port(End::Callee, leg)).into_bytes();
                let bytes = ok.to_bytes();
                let _ = self.uas.send_to(&bytes, from);
                self.callee_legs.insert(call_id, bytes);
                let relay = media_address(&String::from_utf8_lossy(&request.body));
                match (relay, call.and_then(|c| live.get_mut(&c))) {
                    (Ok(relay), Some(l)) => {
                        l.callee_stream = Some(media.add_stream(End::Callee, leg, relay))
                    }
                    (Err(e), _) => eprintln!("the switch's offer: {e}"),
                    (Ok(_), None) => eprintln!(
                        "an INVITE for no call of ours (From {:?})",
                        request.headers.get("From")
                    ),
                }
            }
            sip::Method::Ack => {}
            _ => {
                if request.method == sip::Method::Bye {
                    self.callee_legs
                        .remove(request.headers.call_id().unwrap_or_default());
                }
                let _ = self
                    .uas
                    .send_to(&request.response(200, None, None).to_bytes(), from);
            }
        }
        true
    }
}
