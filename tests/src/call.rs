//! Reading the switch's one live call from `/api/calls` in end-to-end tests.

use crate::rtp::TonePeer;
use crate::Switch;
use serde_json::Value;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The only live call, once it is answered with two legs that have media ports.
pub fn answered_call(switch: &Switch) -> Option<Value> {
    match switch.calls().as_slice() {
        [c] if c["state"] == "answered"
            && c["legs"]
                .as_array()
                .is_some_and(|l| l.len() == 2 && l.iter().all(|leg| leg["rtp_port"].is_u64())) =>
        {
            Some(c.clone())
        }
        _ => None,
    }
}

/// The relay's address facing leg `leg` of `call` (on 127.0.0.1).
pub fn relay(call: &Value, leg: usize) -> SocketAddr {
    let port = call["legs"][leg]["rtp_port"].as_u64().unwrap_or(0) as u16;
    SocketAddr::from(([127, 0, 0, 1], port))
}

/// The share of `freq` in what `peer` hears over the next second.
pub fn hears(peer: &TonePeer, freq: f64) -> f64 {
    let from = Instant::now();
    std::thread::sleep(Duration::from_secs(1));
    peer.heard(from, Instant::now(), freq).share
}
