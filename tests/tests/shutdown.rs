//! Graceful shutdown against the real switch with SIPp peers: SIGTERM BYEs answered calls,
//! answers ringing ones 503 and cancels their callees, exits within its bound, and leaves
//! the CDRs for the next switch on the same data directory.

#[path = "sipp_more/support.rs"]
mod support;

use e2e::{free_port, require, Sipp};
use serde_json::Value;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use support::*;

/// A data directory outside any one switch's own directory, so a second switch can read
/// what the first wrote. Removed when the test passes.
struct DataDir(PathBuf);

impl Drop for DataDir {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("data dir kept in {}", self.0.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// SIGTERM with an answered call: the switch BYEs both legs, exits within 5 s, and the CDR
/// it wrote is there for the next switch on the same data directory.
#[test]
fn graceful_shutdown_byes_answered_call_and_flushes_cdr() {
    if !require("sipp") {
        return;
    }
    let data = DataDir(e2e::temp_dir("shutdown-data"));
    let uas_port = free_port();
    let config = trusting_config(uas_port).set("", "data_dir", data.0.display().to_string());
    let mut switch = config.clone().start();
    // Both scenarios only pass when they get a BYE (and answer it 200).
    let callee = Sipp::scenario("uas_answer").port(uas_port).spawn();
    let caller_run = Sipp::caller_to("uac_bye_wait", &switch).spawn();
    let call = answered_call(&switch);
    let call_id = call["id"].as_str().unwrap_or_default().to_string();

    let t0 = Instant::now();
    let status = switch.stop();
    let took = t0.elapsed();
    match status {
        Some(s) if s.success() => {}
        other => switch.fail(&format!("switch exit status after SIGTERM: {other:?}")),
    }
    assert!(
        took < Duration::from_secs(5),
        "switch took {took:?} to stop"
    );

    caller_run.wait().assert_success(&switch);
    callee.wait().assert_success(&switch);

    let switch = config.start();
    let cdr = switch.expect_cdr();
    switch.assert_field(&cdr, "call_id", call_id.as_str());
    switch.assert_field(&cdr, "cause", "shutdown");
    switch.assert_field(&cdr, "hangup_side", "switch");
    switch.assert_field(&cdr, "status", 200);
    switch.assert_field(&cdr, "from_user", "1001");
    switch.assert_field(&cdr, "to_user", "2000");
    assert!(cdr["answer_ms"].is_i64(), "answer_ms not set: {cdr}");
}

/// SIGTERM with a ringing call: the caller gets 503 and the ringing callee is cancelled
/// properly (CANCEL, 200, 487 and the switch's ACK of the 487) before the switch exits.
#[test]
fn graceful_shutdown_rejects_ringing_call_503_and_cancels_callee() {
    if !require("sipp") {
        return;
    }
    let data = DataDir(e2e::temp_dir("shutdown-ring-data"));
    let uas_port = free_port();
    let config = trusting_config(uas_port).set("", "data_dir", data.0.display().to_string());
    let mut switch = config.clone().start();
    // uas_ring passes only when its 487 is ACKed.
    let callee = Sipp::scenario("uas_ring")
        .port(uas_port)
        .timeout(Duration::from_secs(8))
        .spawn();
    let caller_run = Sipp::caller_to("uac_reject", &switch).spawn();
    switch.wait_for("a ringing call", Duration::from_secs(5), || {
        let calls = switch.calls();
        calls.len() == 1 && calls[0]["state"] == "early"
    });

    let status = switch.stop();
    match status {
        Some(s) if s.success() => {}
        other => switch.fail(&format!("switch exit status after SIGTERM: {other:?}")),
    }
    let r = caller_run.wait();
    r.assert_success(&switch);
    r.assert_logged("final=503", &switch);
    callee.wait().assert_success(&switch);

    let switch = config.start();
    let cdr = switch.expect_cdr();
    switch.assert_field(&cdr, "cause", "shutdown");
    switch.assert_field(&cdr, "hangup_side", "switch");
    switch.assert_field(&cdr, "status", 503);
    switch.assert_field(&cdr, "answer_ms", Value::Null);
}
