//! The preview dialer in the agent desktop, in headless Chromium against the real binary,
//! with SIPp as the agent's phone (auto-answer) and as the contact behind a trunk: a
//! countdown campaign created over REST and filled from a CSV; once the page is up the
//! campaign is loaded and started, the page shows the notices, Get Record shows Ada's case
//! and record information and numbers, the countdown runs and the switch calls her by
//! itself (agent's phone first, then the contact), the call shows in the voice pane, and
//! after the contact hangs up the agent saves call result, dispositions and notes. Bob is
//! declined with Call later, Cleo with Do not call. Checked over REST: each record's status
//! and attempt, and the DNC list. The browser part is `tests/browser/preview.mjs`.
//!
//! Screenshots are left in `target/screenshots/preview/`.

#[path = "dialer/support.rs"]
mod support;

use e2e::SwitchConfig;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use support::*;

const BOB: &str = "+447700900456";
const CLEO: &str = "+447700900789";

#[test]
fn preview_record_called_after_the_countdown_and_the_outcome_saved() {
    let Some((dir, chromium)) = e2e::browser_tools(&["sipp"]) else {
        return;
    };
    let peers = Peers::new();
    let toml = format!(
        "[[queues]]\ndn = \"{QUEUE}\"\nname = \"Outbound\"\n\
         [[agents]]\nid = \"{AGENT}\"\nname = \"Agent {AGENT}\"\nextension = \"{AGENT}\"\nqueues = [\"{QUEUE}\"]\n\
         [[trunks]]\nname = \"pstn\"\naddress = \"{}\"\nprefixes = [\"+\"]\n\
         [[teams]]\nname = \"outbound\"\nqueues = [\"{QUEUE}\"]\n\
         [[accounts]]\nid = \"{AGENT}\"\nroles = [\"agent\"]\nteams = [\"outbound\"]\nagent = \"{AGENT}\"\nextension = \"{AGENT}\"\n",
        peers.trunk_addr()
    );
    let switch = SwitchConfig::new()
        .trusted(&["127.0.0.1/32"])
        .user(AGENT, "pass3001")
        .static_contact(AGENT, &format!("sip:{AGENT}@{}", peers.agent_addr()))
        .extra(&toml)
        .start();
    let (phone, contact, _sink) = spawn_peers(&peers, 2000);
    let stream = events(&switch);

    let campaign = create_campaign(&switch, json!({"mode": "countdown", "seconds": 5}));
    let csv = format!(
        "external_id,name,phone_mobile,policy\n\
         C-1,Ada Lovelace,{NATIONAL},P-42\n\
         C-2,Bob Brown,07700 900456,P-43\n\
         C-3,Cleo Clark,07700 900789,P-44\n"
    );
    let report = import(&switch, campaign, &csv);
    assert_eq!(report["inserted"], 3, "{report:#}");
    for n in [BOB, CLEO] {
        assert_eq!(switch.http(&format!("/api/dnc/{n}"))["dnc"], false);
    }

    let base = format!("http://{}", switch.http_addr());
    let shots = e2e::workspace_root().join("target/screenshots/preview");
    println!("screenshots: {}", shots.display());
    let mut node = Command::new("node")
        .arg(dir.join("preview.mjs"))
        .arg(&base)
        .arg(&shots)
        .env("CHROMIUM", &chromium)
        .current_dir(&dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("running node: {e}"));
    let (lines, rx) = mpsc::channel();
    let stdout = node.stdout.take();
    let reader = std::thread::spawn(move || {
        if let Some(out) = stdout {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let _ = lines.send(line);
            }
        }
    });
    let mut stderr = node.stderr.take();
    let stderr_reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(e) = stderr.as_mut() {
            let _ = e.read_to_string(&mut text);
        }
        text
    });
    let mut seen = Vec::new();
    let ready = loop {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(l) if l == "waiting-for-campaign" => break true,
            Ok(l) => seen.push(l),
            Err(_) => break false,
        }
    };
    if !ready {
        let _ = node.kill();
        let err = stderr_reader.join().unwrap_or_default();
        switch.fail(&format!("the page never got ready\n{err}\n{seen:?}"));
    }
    load_and_start(&switch, campaign);

    let status = node
        .wait()
        .unwrap_or_else(|e| panic!("waiting for node: {e}"));
    let _ = reader.join();
    seen.extend(rx.try_iter());
    let err = stderr_reader.join().unwrap_or_default();
    if !status.success() {
        switch.fail(&format!(
            "the browser test failed ({status}):\n{err}\n{seen:?}"
        ));
    }
    let result: Value = seen
        .iter()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or(Value::Null);
    assert_eq!(result["ok"], true, "{seen:?}\n{err}");
    let id = |who: &str| result["records"][who].as_i64().unwrap_or(-1);

    // Ada: called once by the countdown, connected, the agent's outcome saved.
    let r = record(&switch, campaign, id("ada"));
    assert_eq!(r["record"]["external_id"], "C-1", "{r:#}");
    assert_eq!(r["record"]["status"], "done", "{r:#}");
    assert_eq!(r["record"]["last_result"], "success", "{r:#}");
    let attempts = r["attempts"].as_array().cloned().unwrap_or_default();
    assert_eq!(attempts.len(), 1, "{r:#}");
    let a = &attempts[0];
    assert_eq!(a["number"], NUMBER, "{r:#}");
    assert_eq!(a["sip_status"], 200, "{r:#}");
    assert_eq!(a["call_result"], "success", "{r:#}");
    assert_eq!(a["dispositions"], json!(["sale", "upsell"]), "{r:#}");
    assert_eq!(
        a["notes"], "Renewed for a year; wants paper invoices.",
        "{r:#}"
    );
    assert_eq!(a["dnc"], false, "{r:#}");
    assert!(a["connected_at"].is_string(), "{r:#}");
    // Nobody clicked Call: the countdown's own dial.
    let dialled = names(&call_events(&stream), "state");
    assert!(
        in_order(
            &dialled,
            &["dialling", "agent_answered", "connected", "ended"]
        ),
        "{dialled:?}"
    );
    assert_eq!(
        call_events(&stream)
            .iter()
            .filter(|e| e["state"] == "dialling")
            .count(),
        1
    );

    // The page's notices came from the dialer's own: loaded, then running, for this agent.
    let news: Vec<String> = preview_events(&stream)
        .iter()
        .filter(|e| e["event"] == "campaign_status")
        .map(|e| e["status"].as_str().unwrap_or("?").to_string())
        .collect();
    assert!(in_order(&news, &["loaded", "running"]), "{news:?}");

    // Bob: back in the list for later, never called.
    let r = record(&switch, campaign, id("bob"));
    assert_eq!(r["record"]["external_id"], "C-2", "{r:#}");
    assert_eq!(r["record"]["status"], "ready", "{r:#}");
    assert_eq!(r["attempts"], json!([]), "{r:#}");
    assert_eq!(switch.http(&format!("/api/dnc/{BOB}"))["dnc"], false);

    // Cleo: closed as do-not-call, her number on the DNC list.
    let r = record(&switch, campaign, id("cleo"));
    assert_eq!(r["record"]["external_id"], "C-3", "{r:#}");
    assert_eq!(r["record"]["status"], "do_not_call", "{r:#}");
    assert_eq!(r["attempts"], json!([]), "{r:#}");
    let check = switch.http(&format!("/api/dnc/{CLEO}"));
    assert_eq!(check["dnc"], true, "{check:#}");

    phone.wait().assert_success(&switch);
    contact.wait().assert_success(&switch);
}
