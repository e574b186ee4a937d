//! Voice calls in the agent desktop, in headless Chromium against the real binary, with
//! SIPp as the phones: a caller dials queue 8000, the agent's phone (a SIPp UAS that rings
//! 2.5 s then answers) rings while the desktop shows the pop-up; the call pane shows
//! Talking; Hold then Retrieve from the browser change the call (the page checks
//! `GET /api/calls`, this test the `call_changed` events); a blind Transfer to 1003 (another
//! SIPp UAS) from the browser hands the caller over and the agent wraps up; this test then
//! ends the transferred call with `POST /api/calls/{id}/hangup`; with a second caller the
//! agent consults 1003, completes a conference, mutes and removes 1003, and hangs up, all
//! from the browser. The browser part is `tests/browser/voice.mjs`.
//!
//! Screenshots are left in `target/screenshots/voice/`.

use e2e::{free_port, Credential, Sipp, SippProcess, Switch, SwitchConfig};
use serde_json::Value;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const CONFIG: &str = r#"
[[queues]]
dn = "8000"
name = "Sales"
offer_timeout_secs = 15
wrap_up = { mode = "manual" }
[[agents]]
id = "1001"
name = "Dana Agent"
extension = "1001"
queues = ["8000"]
[[teams]]
name = "sales"
queues = ["8000"]
[[accounts]]
id = "1001"
roles = ["agent"]
teams = ["sales"]
agent = "1001"
extension = "1001"
[[agents]]
id = "1002"
name = "Eli Agent"
extension = "1002"
queues = []
[[accounts]]
id = "1002"
roles = ["agent"]
agent = "1002"
extension = "1002"
"#;

fn wait_ready(switch: &Switch, node: &mut Child, what: &str) {
    let ok = switch.wait_until(Duration::from_secs(40), || {
        switch.agent_state("1001") == "ready" || node.try_wait().ok().flatten().is_some()
    });
    if !ok || switch.agent_state("1001") != "ready" {
        let _ = node.kill();
        let out = e2e::child_output(node);
        switch.fail(&format!(
            "{what}: the agent is {}, not ready\n{out}",
            switch.agent_state("1001")
        ));
    }
}

fn caller(switch: &Switch, from: &str) -> SippProcess {
    Sipp::scenario("uac_bye_wait")
        .remote(switch.sip_addr())
        .service("8000")
        .caller(from)
        .timeout(Duration::from_secs(60))
        .spawn()
}

#[test]
fn voice_call_in_headless_chromium() {
    let Some((dir, chromium)) = e2e::browser_tools(&["sipp"]) else {
        return;
    };
    let (agent_port, target_port) = (free_port(), free_port());
    let switch = SwitchConfig::new()
        .trusted(&["127.0.0.1/32"])
        .user("1001", "pass1001")
        .user("1002", "pass1002")
        .static_contact("1001", &format!("sip:1001@127.0.0.1:{agent_port}"))
        .static_user("1003", &format!("sip:1003@127.0.0.1:{target_port}"))
        .extra(CONFIG)
        .start();
    let events = switch.events("/api/events");
    let phone = Sipp::scenario("uas_agent")
        .port(agent_port)
        .calls(2)
        .pause_ms(2500)
        .timeout(Duration::from_secs(90))
        .spawn();
    let target = Sipp::scenario("uas_hold")
        .port(target_port)
        .calls(2)
        .key("rtp_port", &free_port().to_string())
        .timeout(Duration::from_secs(90))
        .spawn();

    let base = format!("http://{}", switch.http_addr());
    let shots = e2e::workspace_root().join("target/screenshots/voice");
    let mut node = Command::new("node")
        .arg(dir.join("voice.mjs"))
        .arg(&base)
        .arg(&shots)
        .env("CHROMIUM", &chromium)
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running node: {e}"));
    println!("screenshots: {}", shots.display());

    // First call: held, retrieved and transferred from the browser.
    wait_ready(&switch, &mut node, "before the first call");
    let first = caller(&switch, "5550101");
    for change in ["held", "retrieved", "transfer_started", "transferred"] {
        if events
            .wait_for(Duration::from_secs(40), |e| {
                e["type"] == "call_changed" && e["change"] == change
            })
            .is_none()
        {
            let _ = node.kill();
            let out = e2e::child_output(&mut node);
            switch.fail(&format!("no call_changed {change} event\n{out}"));
        }
    }
    // The caller now talks to 1003; the agent's leg is gone.
    let mut call = Value::Null;
    switch.wait_for("the transferred call", Duration::from_secs(10), || {
        call = switch.calls().into_iter().next().unwrap_or_default();
        call["phase"] == "talking"
            && call["legs"]
                .as_array()
                .is_some_and(|l| l.iter().any(|l| l["party"] == "1003"))
    });
    assert_eq!(call["agent"], Value::Null, "{call:#}");
    assert_eq!(call["interaction"], Value::Null, "{call:#}");
    // POST /api/calls/{id}/hangup ends it: both SIPps get their BYE.
    let id = call["id"].as_str().unwrap_or_default().to_string();
    let path = format!("/api/calls/{id}/hangup");
    let r = switch.request_as(&Credential::None, "POST", &path, None);
    assert_eq!(r.status, 401, "{}", r.body);
    // Another agent, without the queue's team: not theirs to end.
    let eli = Credential::Session(switch.login("1002", "pass1002"));
    let r = switch.request_as(&eli, "POST", &path, None);
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.json()["error"]["code"], "forbidden", "{}", r.body);
    let ended = switch.request_json("POST", &format!("/api/calls/{id}/hangup"), None, 200);
    assert_eq!(ended["id"], id.as_str());
    let again = switch.request("POST", &format!("/api/calls/{id}/hangup"), None);
    assert_eq!(again.status, 404, "{}", again.body);
    first.wait().assert_success(&switch);

    // Second call: hung up from the browser, once the agent wrapped up the first.
    wait_ready(&switch, &mut node, "after the first wrap-up");
    let second = caller(&switch, "5550102");
    for change in [
        "consult_started",
        "consult_answered",
        "conference_started",
        "muted",
        "conference_left",
    ] {
        if events
            .wait_for(Duration::from_secs(40), |e| {
                e["type"] == "call_changed" && e["change"] == change && e["agent"] == "1001"
            })
            .is_none()
        {
            let _ = node.kill();
            let out = e2e::child_output(&mut node);
            switch.fail(&format!("no call_changed {change} event\n{out}"));
        }
    }
    if events
        .wait_for(Duration::from_secs(40), |e| {
            // The call's own view names its agent (the event's `agent` would also name
            // the agent who transferred the first call away).
            e["type"] == "call_changed" && e["change"] == "hung_up" && e["call"]["agent"] == "1001"
        })
        .is_none()
    {
        let _ = node.kill();
        let out = e2e::child_output(&mut node);
        switch.fail(&format!("no hung_up event from the browser\n{out}"));
    }
    let out = node
        .wait_with_output()
        .unwrap_or_else(|e| panic!("waiting for node: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        switch.fail(&format!(
            "the browser test failed ({}):\n{stderr}\n{stdout}",
            out.status
        ));
    }
    let result: Value = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or(Value::Null);
    assert_eq!(result["ok"], true, "{stdout}\n{stderr}");
    second.wait().assert_success(&switch);
    target.wait().assert_success(&switch);
    phone.wait().assert_success(&switch);
    assert!(switch.calls().is_empty(), "{:#?}", switch.calls());
    // Both calls wrapped up: the agent is Ready with nothing left.
    assert_eq!(switch.agent_state("1001"), "ready");
}
