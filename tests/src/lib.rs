//! Harness for end-to-end tests: start the real `switch` binary on private ports, drive it
//! with real peers (SIPp, baresip, raw sockets), and read what a user would see through its
//! HTTP API.
//!
//! Every test starts its own [`Switch`] with its own SIP, HTTP and RTP ports, so cargo may
//! run tests in parallel threads. The switch binary must be built first
//! (`cargo build -p switch`); `SWITCH_BIN` overrides where it is looked for.
//!
//! ```no_run
//! use e2e::{Sipp, SwitchConfig};
//! let uas_port = e2e::free_port();
//! let switch = SwitchConfig::new()
//!     .trusted(&["127.0.0.1/32"])
//!     .static_user("2000", &format!("sip:2000@127.0.0.1:{uas_port}"))
//!     .start();
//! let callee = Sipp::scenario("uas_answer").port(uas_port).spawn();
//! let caller = Sipp::scenario("uac_basic").remote(switch.sip_addr()).service("2000").run();
//! caller.assert_success(&switch);
//! callee.wait().assert_success(&switch);
//! ```

pub mod baresip;
mod browser;
pub mod call;
mod fixtures;
mod http;
pub mod mail;
pub mod page;
mod ports;
pub mod rtp;
mod sipp;
mod switch;
mod tools;
pub mod ws;

pub use browser::{browser_tools, child_output, run_browser_script};
pub use fixtures::two_teams;
pub use http::{http_get, http_request, http_request_raw, http_request_with, HttpResponse};
pub use ports::{free_port, wait_listening, Proto};
pub use sipp::{scenario_path, Sipp, SippProcess, SippResult};
pub use switch::{Credential, Session, Switch, SwitchConfig};
pub use tools::{require, tool};
pub use ws::EventStream;

use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The workspace root (the directory above this crate).
pub fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().map(PathBuf::from).unwrap_or(manifest)
}

/// Polls `cond` every 50 ms until it holds or `timeout` passes; returns whether it held.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A fresh directory under the system temp dir, unique to this process and call.
pub fn temp_dir(prefix: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!(
        "e2e-{prefix}-{}-{n}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    ));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        panic!("cannot create temp dir {}: {e}", dir.display());
    }
    dir
}

/// The last `lines` lines of a text file (empty when it cannot be read).
pub fn tail_file(path: &std::path::Path, lines: usize) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    tail(&text, lines)
}

/// The last `lines` lines of `text`.
pub fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
