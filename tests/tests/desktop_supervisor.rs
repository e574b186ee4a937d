//! The supervisor's Team pane in the agent desktop, in headless Chromium against the real
//! binary: a caller from queue 8000 talks to agent 1001 (SIPp phones); supervisor 1010,
//! who is no agent, logs in and sees the queue, the agents and the call; Whisper rings
//! the supervisor's own phone (a SIPp UAS) into the call, Barge changes the mode, End
//! supervision releases it; Not Ready on agent 1002 changes that agent's state. The
//! browser part is `tests/browser/supervisor.mjs`; screenshots are left in
//! `target/screenshots/supervisor/`.

use e2e::{free_port, Sipp, SwitchConfig};
use std::time::Duration;

const CONFIG: &str = r#"
[[queues]]
dn = "8000"
name = "Sales"
[[agents]]
id = "1001"
name = "Dana Agent"
extension = "1001"
queues = ["8000"]
[[agents]]
id = "1002"
name = "Eli Agent"
extension = "1002"
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
[[accounts]]
id = "1002"
roles = ["agent"]
teams = ["sales"]
agent = "1002"
extension = "1002"
[[accounts]]
id = "1010"
name = "Sam Supervisor"
roles = ["supervisor"]
teams = ["sales"]
extension = "1010"
"#;

#[test]
fn a_supervisor_watches_and_coaches_the_team_from_the_desktop() {
    let Some(tools) = e2e::browser_tools(&["sipp"]) else {
        return;
    };
    let (agent_port, supervisor_port) = (free_port(), free_port());
    let switch = SwitchConfig::new()
        .trusted(&["127.0.0.1/32"])
        .user("1001", "pass1001")
        .user("1002", "pass1002")
        .user("1010", "pass1010")
        .static_contact("1001", &format!("sip:1001@127.0.0.1:{agent_port}"))
        .static_contact("1010", &format!("sip:1010@127.0.0.1:{supervisor_port}"))
        .extra(CONFIG)
        .start();
    let events = switch.events("/api/events");
    let phones: Vec<e2e::SippProcess> = [agent_port, supervisor_port]
        .into_iter()
        .map(|port| {
            Sipp::scenario("uas_hold")
                .port(port)
                .key("rtp_port", &free_port().to_string())
                .timeout(Duration::from_secs(90))
                .spawn()
        })
        .collect();
    let v = switch.post_json("/api/agents/1001/login", Some(r#"{"state":"ready"}"#));
    assert_eq!(v["agent"]["state"]["state"], "ready", "{v}");
    let caller = Sipp::scenario("uac_bye_wait")
        .remote(switch.sip_addr())
        .service("8000")
        .caller("5550101")
        .timeout(Duration::from_secs(90))
        .spawn();
    switch.wait_for("the agent talking", Duration::from_secs(10), || {
        switch
            .calls()
            .first()
            .is_some_and(|c| c["phase"] == "talking")
    });
    // Eli is Ready only once the call is Dana's.
    let v = switch.post_json("/api/agents/1002/login", Some(r#"{"state":"ready"}"#));
    assert_eq!(v["agent"]["state"]["state"], "ready", "{v}");

    e2e::run_browser_script(&switch, &tools, "supervisor.mjs", "supervisor");

    for change in ["supervise_joined", "supervise_mode", "supervise_ended"] {
        if events
            .wait_for(Duration::from_secs(5), |e| e["change"] == change)
            .is_none()
        {
            switch.fail(&format!("no call_changed {change}"));
        }
    }
    let state = &switch.http("/api/agents/1002")["agent"]["state"];
    assert_eq!(state["state"], "not_ready", "{state:#}");
    assert_eq!(state["reason"], "Supervisor", "{state:#}");
    let id = switch.calls()[0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    switch.request_json("POST", &format!("/api/calls/{id}/hangup"), None, 200);
    caller.wait().assert_success(&switch);
    for phone in phones {
        phone.wait().assert_success(&switch);
    }
    switch.assert_idle();
}
