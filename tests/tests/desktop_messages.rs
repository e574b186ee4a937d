//! "My Messages" in the agent desktop, in headless Chromium against the real binary: a
//! SIPp caller leaves agent 1001 a voicemail (the phone is unreachable, so the call goes
//! to the mailbox); the desktop lists it with the count of new messages, plays it (the WAV
//! in an <audio>), which marks it read, and deletes it; checked over REST. The browser part
//! is `tests/browser/messages.mjs`; screenshots in `target/screenshots/messages/`.

use e2e::rtp::TonePeer;
use e2e::{Sipp, SwitchConfig};
use serde_json::Value;
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

const CONFIG: &str = r#"
[voicemail]
enabled = true
silence_secs = 10
[[queues]]
dn = "8000"
name = "Sales"
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

#[test]
fn voicemail_in_my_messages_played_and_deleted() {
    let Some((dir, chromium)) = e2e::browser_tools(&["sipp"]) else {
        return;
    };
    let switch = SwitchConfig::new()
        .trusted(&["127.0.0.1/32"])
        .user("1001", "pass1001")
        .extra(CONFIG)
        .start();
    // Deposit: the greeting (about 8 s), then 3 s of tone, then BYE.
    let tone = TonePeer::new(700.0);
    let deposit = Sipp::caller_to("uac_media", &switch)
        .service("1001")
        .caller("5550199")
        .key("rtp_port", &tone.port().to_string())
        .pause_ms(11_000)
        .spawn();
    let mut port = 0;
    switch.wait_for("the call's relay port", Duration::from_secs(5), || {
        let call = switch.calls().first().cloned().unwrap_or_default();
        port = call["legs"][0]["rtp_port"].as_u64().unwrap_or(0) as u16;
        port != 0
    });
    tone.send_to(SocketAddr::from(([127, 0, 0, 1], port)));
    deposit.wait().assert_success(&switch);
    tone.stop_sending();
    let mut mailbox = Value::Null;
    switch.wait_for("the message", Duration::from_secs(5), || {
        mailbox = switch.request_json("GET", "/api/voicemail/1001", None, 200);
        mailbox["new"] == 1
    });
    assert_eq!(
        mailbox["messages"][0]["from_user"], "5550199",
        "{mailbox:#}"
    );

    let base = format!("http://{}", switch.http_addr());
    let shots = e2e::workspace_root().join("target/screenshots/messages");
    println!("screenshots: {}", shots.display());
    let out = Command::new("node")
        .arg(dir.join("messages.mjs"))
        .arg(&base)
        .arg(&shots)
        .env("CHROMIUM", &chromium)
        .current_dir(&dir)
        .output()
        .unwrap_or_else(|e| panic!("running node: {e}"));
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
    // Deleted over REST by the page.
    let mailbox = switch.request_json("GET", "/api/voicemail/1001", None, 200);
    assert_eq!(mailbox["messages"], serde_json::json!([]), "{mailbox:#}");
    assert_eq!(
        (mailbox["new"].as_i64(), mailbox["saved"].as_i64()),
        (Some(0), Some(0))
    );
}
