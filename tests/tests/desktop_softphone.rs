//! The browser phone's signalling in the agent desktop, in headless Chromium (fake media
//! devices) against the real binary: the page registers 1001 over `ws://…/sip` with its
//! session (no SIP password in the page), the ACD's INVITE rings it, a caller who gives up
//! (the switch's CANCEL) stops the ring, a Decline sends the call back to the queue, the agent dials 1003
//! (a SIPp UAS that rings) from the keypad and cancels, and back on the desk phone the
//! registration ends. The browser part is `tests/browser/softphone_signalling.mjs`; media
//! both ways is `softphone.rs`.
//!
//! Screenshots are left in `target/screenshots/softphone_signalling/`.

use e2e::{free_port, Sipp, SippProcess, Switch, SwitchConfig};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CONFIG: &str = r#"
[[queues]]
dn = "8000"
name = "Sales"
offer_timeout_secs = 20
[[agents]]
id = "1001"
name = "Dana Agent"
extension = "1001"
queues = ["8000"]
[[accounts]]
id = "1001"
roles = ["agent"]
agent = "1001"
extension = "1001"
"#;

fn ws_registered(switch: &Switch) -> bool {
    switch
        .registrations()
        .iter()
        .any(|r| r["user"] == "1001" && r["transport"] == "WS")
}

/// Waits for `cond`, failing with the browser's output if it does not come.
fn wait(switch: &Switch, node: &mut Child, what: &str, cond: impl Fn() -> bool) {
    let ok = switch.wait_until(Duration::from_secs(40), || {
        cond() || node.try_wait().ok().flatten().is_some()
    });
    if !ok || !cond() {
        let _ = node.kill();
        let out = e2e::child_output(node);
        switch.fail(&format!("{what}: not reached\n{out}"));
    }
}

/// A caller to the queue (answered by the queue's music) who hangs up `ms` later, while
/// the agent's phone still rings: the switch CANCELs that INVITE.
fn giving_up(switch: &Switch, from: &str, ms: u64) -> SippProcess {
    Sipp::scenario("uac_media")
        .key("rtp_port", &free_port().to_string())
        .remote(switch.sip_addr())
        .service("8000")
        .caller(from)
        .pause_ms(ms)
        .timeout(Duration::from_secs(60))
        .spawn()
}

#[test]
fn browser_phone_registers_rings_and_dials() {
    let Some((dir, chromium)) = e2e::browser_tools(&["sipp"]) else {
        return;
    };
    let target_port = free_port();
    let switch = SwitchConfig::new()
        .trusted(&["127.0.0.1/32"])
        .user("1001", "pass1001")
        .static_user("1003", &format!("sip:1003@127.0.0.1:{target_port}"))
        .extra(CONFIG)
        .start();
    // 1003 rings and never answers: the browser's CANCEL ends it.
    let target = Sipp::scenario("uas_ring")
        .port(target_port)
        .timeout(Duration::from_secs(90))
        .spawn();

    let shots = e2e::workspace_root().join("target/screenshots/softphone_signalling");
    let _ = std::fs::remove_file(shots.join("at-second"));
    let mut node = Command::new("node")
        .arg(dir.join("softphone_signalling.mjs"))
        .arg(format!("http://{}", switch.http_addr()))
        .arg(&shots)
        .env("CHROMIUM", &chromium)
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running node: {e}"));
    println!("screenshots: {}", shots.display());

    wait(&switch, &mut node, "1001 registered over WS", || {
        ws_registered(&switch)
    });
    wait(&switch, &mut node, "Ready", || {
        switch.agent_state("1001") == "ready"
    });
    // The first caller rings the browser for 4 s, then gives up.
    let first = giving_up(&switch, "5550201", 4000);
    first.wait().assert_success(&switch);
    // The second, placed once the page is done with the first (its `at-second` file), is
    // declined in the browser and gives up waiting in the queue.
    wait(&switch, &mut node, "Ready after the first", || {
        switch.agent_state("1001") == "ready"
    });
    let at_second = shots.join("at-second");
    wait(
        &switch,
        &mut node,
        "the page done with the first call",
        || at_second.exists(),
    );
    let second = giving_up(&switch, "5550202", 6000);
    wait(&switch, &mut node, "RONA after the decline", || {
        switch.agent_state("1001") == "rona"
    });
    second.wait().assert_success(&switch);

    let status = node.wait().unwrap_or_else(|e| panic!("node: {e}"));
    let out = e2e::child_output(&mut node);
    if !status.success() {
        switch.fail(&format!("the browser script failed\n{out}"));
    }
    let last = out.lines().rev().find(|l| l.starts_with('{')).unwrap_or("");
    let result: serde_json::Value = serde_json::from_str(last).unwrap_or_default();
    assert_eq!(result["ok"], true, "{out}");
    // The browser's INVITE reached 1003 and its CANCEL ended it.
    target.wait().assert_success(&switch);
    // Back on the desk phone: the browser's registration is gone.
    assert!(
        switch.wait_until(Duration::from_secs(10), || !ws_registered(&switch)),
        "{:#?}",
        switch.registrations()
    );
    assert!(switch.calls().is_empty(), "{:#?}", switch.calls());
}
