//! Declining a voice offer from the agent desktop, in headless Chromium against the real
//! binary: a caller waits in queue 8000; agent 1001 goes Ready in the browser and their
//! phone (a SIPp UAS that rings and never answers) is offered the call; Decline in the
//! pop-up cancels the phone's INVITE and hands the call back to the queue (`POST
//! /api/calls/{id}/decline`), the desktop shows RONA and the agent picks Not Ready. The
//! browser part is `tests/browser/voice_decline.mjs`; screenshots are left in
//! `target/screenshots/voice_decline/`.

use e2e::{free_port, Sipp, SwitchConfig};
use std::time::Duration;

const CONFIG: &str = r#"
[[queues]]
dn = "8000"
name = "Sales"
offer_timeout_secs = 30
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
"#;

#[test]
fn an_agent_declines_a_voice_offer_from_the_desktop() {
    let Some(tools) = e2e::browser_tools(&["sipp"]) else {
        return;
    };
    let phone_port = free_port();
    let switch = SwitchConfig::new()
        .trusted(&["127.0.0.1/32"])
        .user("1001", "pass1001")
        .static_contact("1001", &format!("sip:1001@127.0.0.1:{phone_port}"))
        .extra(CONFIG)
        .start();
    let phone = Sipp::scenario("uas_agent_ring")
        .port(phone_port)
        .timeout(Duration::from_secs(60))
        .spawn();
    let caller = Sipp::scenario("uac_bye_wait")
        .remote(switch.sip_addr())
        .service("8000")
        .caller("5550199")
        .timeout(Duration::from_secs(60))
        .spawn();
    switch.wait_for("the caller queued", Duration::from_secs(10), || {
        switch
            .calls()
            .first()
            .is_some_and(|c| c["phase"] == "queued")
    });

    e2e::run_browser_script(&switch, &tools, "voice_decline.mjs", "voice_decline");

    // The phone's INVITE was cancelled; the caller still waits in the queue.
    let phone = phone.wait();
    phone.assert_success(&switch);
    phone.assert_logged("cancelled", &switch);
    let calls = switch.calls();
    assert_eq!(calls.len(), 1, "{calls:#?}");
    assert_eq!(calls[0]["phase"], "queued", "{:#}", calls[0]);
    let state = &switch.http("/api/agents/1001")["agent"]["state"];
    assert_eq!(state["state"], "not_ready", "{state:#}");
    // Declining what is not offered: 409 not_offered.
    let id = calls[0]["id"].as_str().unwrap_or_default().to_string();
    let session = e2e::Credential::Session(switch.login("1001", "pass1001"));
    let r = switch.request_as(&session, "POST", &format!("/api/calls/{id}/decline"), None);
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.json()["error"]["code"], "not_offered", "{}", r.body);
    // An administrator is not an agent.
    let r = switch.request("POST", &format!("/api/calls/{id}/decline"), None);
    assert_eq!(r.status, 403, "{}", r.body);
    switch.request_json("POST", &format!("/api/calls/{id}/hangup"), None, 200);
    caller.wait().assert_success(&switch);
    switch.assert_idle();
}
