//! Agent-to-agent IM and the team directory in headless Chromium against the real binary
//! (`tests/browser/im.mjs`): two agents' desktops; the directory searched by name, with
//! presence changing live when the other agent goes Ready; an invitation accepted, messages
//! both ways with names, End session; one declined; one timed out (`im.invite_timeout_secs
//! = 3`); and an IM to a phone user (SIPp) delivered as SIP MESSAGE, whose MESSAGE back shows
//! in the agent's window. Then the stored sessions over REST: parties and their
//! supervisor only, masked, kept across a restart.
//!
//! Screenshots are left in `target/screenshots/im/`.

#[path = "acd/support.rs"]
mod support;

use e2e::Sipp;
use e2e::{Credential, SwitchConfig};
use serde_json::Value;
use std::process::Command;
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
capacity = { voice = 1, chat = 2 }
[[agents]]
id = "1002"
name = "Eli Agent"
extension = "1002"
queues = ["8000"]
[[teams]]
name = "sales"
queues = ["8000"]
[[teams]]
name = "support"
[[accounts]]
id = "1001"
roles = ["agent"]
teams = ["sales"]
agent = "1001"
[[accounts]]
id = "1002"
roles = ["agent"]
teams = ["sales"]
agent = "1002"
[[accounts]]
id = "1010"
name = "Sam Supervisor"
roles = ["supervisor"]
teams = ["sales"]
extension = "1010"
[[accounts]]
id = "1020"
roles = ["agent"]
teams = ["support"]
extension = "1020"
[im]
invite_timeout_secs = 3
"#;

#[test]
fn im_invites_directory_presence_and_sip_message_in_headless_chromium() {
    let Some((dir, chromium)) = e2e::browser_tools(&["sipp"]) else {
        return;
    };
    let phone_port = e2e::free_port();
    let mut switch = SwitchConfig::new()
        .trusted(&["127.0.0.1/32"])
        .user("1001", "pass1001")
        .user("1002", "pass1002")
        .user("1010", "pass1010")
        .user("1020", "pass1020")
        .user("2000", "pass2000")
        .static_contact("2000", &format!("sip:2000@127.0.0.1:{phone_port}"))
        .extra(CONFIG)
        .start();
    // The phone: gets the agent's MESSAGE, answers, writes back to agent 1001.
    let phone = Sipp::scenario("uas_message")
        .port(phone_port)
        .service("2000")
        .key("agent", "1001")
        .key("switch", &switch.sip_addr().to_string())
        .key("reply_text", "Hello Dana from the phone")
        .timeout(Duration::from_secs(90))
        .spawn();
    // Watchers who are no party: IM events never reach them (not even the administrator),
    // while the parties' presence does reach a supervisor of their team.
    let admin_events = switch.events("/api/events");
    // An API token, not a login: Sam's presence stays "logged out" for the browser test.
    let sam = Credential::Bearer(switch.token_for("1010"));
    let sam_events = switch.events_as(&sam, "/api/events");
    let base = format!("http://{}", switch.http_addr());
    let shots = e2e::workspace_root().join("target/screenshots/im");
    let out = Command::new("node")
        .arg(dir.join("im.mjs"))
        .arg(&base)
        .arg(&shots)
        .env("CHROMIUM", &chromium)
        .current_dir(&dir)
        .output()
        .unwrap_or_else(|e| panic!("running node: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("screenshots: {}", shots.display());
    // A failed browser run leaves the phone waiting: stop it rather than wait it out.
    let phone = if out.status.success() {
        phone.wait()
    } else {
        phone.stop()
    };
    if !out.status.success() {
        switch.fail(&format!(
            "the browser test failed ({}):\n{stderr}\n{stdout}\n{}",
            out.status,
            phone.report()
        ));
    }
    assert!(phone.success(), "{}", phone.report());
    assert!(
        phone.messages.contains("MESSAGE sip:2000@")
            && phone.messages.contains("Hello phone from Dana"),
        "{}",
        phone.report()
    );
    for (who, stream) in [
        ("administrator", &admin_events),
        ("supervisor", &sam_events),
    ] {
        let ims: Vec<Value> = stream
            .events()
            .into_iter()
            .filter(|e| e["type"].as_str().is_some_and(|t| t.starts_with("im_")))
            .collect();
        assert!(ims.is_empty(), "the {who} saw IM events: {ims:?}");
    }
    assert!(
        sam_events
            .events()
            .iter()
            .any(|e| e["type"] == "presence" && e["person"] == "1002" && e["presence"] == "ready"),
        "the supervisor sees Eli's presence"
    );
    let result: Value = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or(Value::Null);
    assert_eq!(result["ok"], true, "{stdout}\n{stderr}");
    let accepted = result["accepted"].as_u64().unwrap_or(0);
    let declined = result["declined"].as_u64().unwrap_or(0);
    let timed_out = result["timed_out"].as_u64().unwrap_or(0);

    let dana = Credential::Session(switch.login("1001", "pass1001"));
    let supervisor = Credential::Session(switch.login("1010", "pass1010"));
    let outsider = Credential::Session(switch.login("1020", "pass1020"));
    let check = |switch: &e2e::Switch, who: &Credential| {
        let r = switch.request_as(who, "GET", &format!("/api/im/{accepted}"), None);
        assert_eq!(r.status, 200, "{}", r.body);
        let s = r.json();
        assert_eq!(s["status"], "ended", "{s:#}");
        assert_eq!(s["from"]["name"], "Dana Agent");
        assert_eq!(s["to"]["name"], "Eli Agent");
        let lines: Vec<(String, String)> = s["messages"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|m| {
                (
                    m["sender"].as_str().unwrap_or("").to_string(),
                    m["text"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect();
        assert!(
            lines.contains(&("Dana Agent".into(), "Hi Eli, a quick question".into())),
            "{lines:?}"
        );
        assert!(
            lines.contains(&("Eli Agent".into(), "Sure Dana, go ahead".into())),
            "{lines:?}"
        );
        assert!(
            lines.iter().any(|(_, t)| t.contains("**** **** **** 1111")),
            "{lines:?}"
        );
        assert!(!s.to_string().contains("4111 1111 1111 1111"));
    };
    check(&switch, &dana);
    check(&switch, &supervisor);
    let r = switch.request_as(&outsider, "GET", &format!("/api/im/{accepted}"), None);
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(r.json()["error"]["code"], "forbidden");
    let status = |id: u64| {
        switch
            .request_as(&dana, "GET", &format!("/api/im/{id}"), None)
            .json()["status"]
            .clone()
    };
    assert_eq!(status(declined), "declined");
    assert_eq!(status(timed_out), "timed_out");
    // The IM consult names its interaction.
    let consult = result["consult"].as_u64().unwrap_or(0);
    let r = switch.request_as(&dana, "GET", &format!("/api/im/{consult}"), None);
    assert_eq!(r.json()["interaction"], result["chat"], "{}", r.body);
    // The directory: the caller's teams only; a logged-in supervisor is "available".
    let d = switch
        .request_as(&dana, "GET", "/api/directory?q=sam", None)
        .json();
    assert_eq!(d["people"][0]["name"], "Sam Supervisor", "{d:#}");
    assert_eq!(d["people"][0]["presence"], "available", "{d:#}");
    assert_eq!(d["people"].as_array().map(Vec::len), Some(1), "{d:#}");
    let d = switch
        .request_as(&outsider, "GET", "/api/directory", None)
        .json();
    assert_eq!(
        d["people"],
        serde_json::json!([]),
        "another team sees nobody of sales: {d:#}"
    );
    assert_eq!(d["queues"], serde_json::json!([]), "{d:#}");
    let r = switch.request_as(&dana, "GET", "/api/directory?x=1", None);
    assert_eq!(r.status, 400, "{}", r.body);
    // Malformed requests get the JSON error body.
    let r = switch.request_as(&dana, "POST", "/api/im", Some(r#"{"to":"1002"}"#));
    assert_eq!(r.status, 422, "{}", r.body);
    let r = switch.request_as(
        &dana,
        "POST",
        "/api/im",
        Some(r#"{"to":"nobody","text":"x"}"#),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.json()["error"]["code"], "unknown_target");
    let long = format!(r#"{{"to":"2000","text":"{}"}}"#, "x".repeat(1001));
    let r = switch.request_as(&dana, "POST", "/api/im", Some(&long));
    assert_eq!(r.json()["error"]["code"], "message_too_long", "{}", r.body);

    switch.restart();
    let dana = Credential::Session(switch.login("1001", "pass1001"));
    check(&switch, &dana);
}

/// An IM consult about a live voice call, over REST: the consulted agent gets the case (the
/// caller and the queue) and whom "Start voice consult" rings; the call's agent turns it
/// into a voice consult with the call-control REST; an interaction that is not the
/// caller's is refused.
#[test]
fn im_consult_about_a_voice_call_carries_the_case() {
    if !e2e::require("sipp") {
        return;
    }
    let (p1, p2) = (e2e::free_port(), e2e::free_port());
    let accounts = r#"
[[teams]]
name = "sales"
queues = ["8000"]
[[accounts]]
id = "2001"
password = "pass2001"
roles = ["agent"]
teams = ["sales"]
agent = "2001"
[[accounts]]
id = "2002"
password = "pass2002"
roles = ["agent"]
teams = ["sales"]
agent = "2002"
"#;
    let switch = support::acd_switch(
        "",
        &[support::at("2001", p1), support::at("2002", p2)],
        accounts,
    );
    let _phone = support::phone("uas_agent", p1).spawn();
    let _consulted = support::phone("uas_answer", p2).spawn();
    let dana = Credential::Session(switch.login("2001", "pass2001"));
    let eli = Credential::Session(switch.login("2002", "pass2002"));
    support::login_ready(&switch, "2001");
    let (caller, _sink) = support::queue_caller("uac_queue", &switch, "1001");
    let caller = caller.pause_ms(6000).spawn();
    support::wait_state(&switch, "2001", "busy", Duration::from_secs(5));
    let interaction = support::agent(&switch, "2001")["agent"]["interactions"][0]
        .as_u64()
        .unwrap_or_else(|| switch.fail("no interaction for agent 2001"));

    let body =
        format!(r#"{{"to":"2002","text":"Who is this caller?","interaction":{interaction}}}"#);
    let r = switch.request_as(&dana, "POST", "/api/im", Some(&body));
    assert_eq!(r.status, 201, "{}", r.body);
    let s = r.json();
    assert_eq!(s["status"], "invited", "{s:#}");
    assert_eq!(s["interaction"], interaction);
    let mine = switch.request_as(&eli, "GET", "/api/im", None).json();
    let case = &mine[0]["case"];
    assert_eq!(case["channel"], "voice", "{mine:#}");
    assert_eq!(case["queue"], "8000");
    assert_eq!(case["queue_name"], "Sales");
    assert_eq!(case["caller_number"], "1001");
    assert_eq!(case["consult_target"], "2002");
    // Not Eli's interaction.
    let body = format!(r#"{{"to":"2001","text":"x","interaction":{interaction}}}"#);
    let r = switch.request_as(&eli, "POST", "/api/im", Some(&body));
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.json()["error"]["code"], "not_your_interaction");
    // What "Start voice consult" does: the call's consult to the consulted agent's phone.
    let calls = switch.request_as(&dana, "GET", "/api/calls", None).json();
    let call = calls
        .as_array()
        .and_then(|c| c.first())
        .and_then(|c| c["id"].as_str())
        .map(String::from)
        .unwrap_or_else(|| switch.fail(&format!("no call: {calls}")));
    let r = switch.request_as(
        &dana,
        "POST",
        &format!("/api/calls/{call}/consult"),
        Some(r#"{"target":"2002"}"#),
    );
    assert_eq!(r.status, 202, "{}", r.body);
    drop(caller);
}
