//! The agent desktop and the customer chat page in headless Chromium against the real
//! binary: the seed chat test case (login, Ready, a customer's chat offered and accepted,
//! Busy, messages both ways with names, disconnect, After-Call-Work, wrap-up, Ready, a
//! second chat), RONA on an unaccepted chat, 1,001 characters refused, a card number
//! masked on both sides. The browser part is `tests/browser/seed_chat.mjs`
//! (playwright-core driving Debian's chromium); this test starts the switch, runs it, then
//! checks the stored transcripts over REST (masked, role-checked, kept across a restart).
//!
//! Screenshots of each page are left in `target/screenshots/desktop/` (the path is printed).

use e2e::{Credential, SwitchConfig};
use serde_json::Value;

const CONFIG: &str = r#"
[[queues]]
dn = "8000"
name = "Sales"
offer_timeout_secs = 6
wrap_up = { mode = "manual" }
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
roles = ["supervisor"]
teams = ["sales"]
extension = "1010"
[chat]
card_numbers = "mask"
[chat.wrap_up_codes]
8000 = ["Sale", "No sale", "Complaint"]
"#;

#[test]
fn seed_chat_case_in_headless_chromium() {
    let Some(tools) = e2e::browser_tools(&[]) else {
        return;
    };
    let mut switch = SwitchConfig::new()
        .user("1001", "pass1001")
        .user("1002", "pass1002")
        .user("1010", "pass1010")
        .extra(CONFIG)
        .start();
    let result = e2e::run_browser_script(&switch, &tools, "seed_chat.mjs", "desktop");
    let chats: Vec<u64> = result["chats"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    assert_eq!(chats.len(), 3, "{result}");

    // The stored transcript: masked, with names and roles; the agent's own only.
    let dana = Credential::Session(switch.login("1001", "pass1001"));
    let eli = Credential::Session(switch.login("1002", "pass1002"));
    let supervisor = Credential::Session(switch.login("1010", "pass1010"));
    let path = format!("/api/interactions/{}/transcript", chats[0]);
    let r = switch.request_as(&dana, "GET", &path, None);
    assert_eq!(r.status, 200, "{}", r.body);
    let t = r.json();
    check_first_transcript(&t);
    assert_eq!(switch.request_as(&eli, "GET", &path, None).status, 403);
    assert_eq!(
        switch.request_as(&supervisor, "GET", &path, None).status,
        200
    );
    assert_eq!(
        switch
            .request_as(&Credential::None, "GET", &path, None)
            .status,
        401
    );
    let missing = switch.request_as(&dana, "GET", "/api/interactions/12345/transcript", None);
    assert_eq!(missing.status, 404, "{}", missing.body);
    assert_eq!(missing.json()["error"]["code"], "not_found");

    let metrics = switch.metrics();
    assert_eq!(metrics["switch_chats_total"], 3.0, "{metrics:?}");
    assert_eq!(metrics["switch_chats_accepted_total"], 3.0);
    assert_eq!(metrics["switch_chat_cards_masked_total"], 1.0);
    assert!(metrics["switch_chat_messages_refused_total"] >= 2.0);
    assert_eq!(metrics["switch_chats_open"], 0.0);

    // It survives a restart.
    switch.restart();
    let dana = Credential::Session(switch.login("1001", "pass1001"));
    let r = switch.request_as(&dana, "GET", &path, None);
    assert_eq!(r.status, 200, "{}", r.body);
    check_first_transcript(&r.json());
}

fn check_first_transcript(t: &Value) {
    assert_eq!(t["customer"], "Alice Customer", "{t:#}");
    assert_eq!(t["agent"], "1001");
    assert_eq!(t["wrap_up"], serde_json::json!(["Sale", "Complaint"]));
    assert!(t["ended_ms"].is_i64(), "{t:#}");
    let messages = t["messages"].as_array().cloned().unwrap_or_default();
    let text = |role: &str, sender: &str| -> Vec<String> {
        messages
            .iter()
            .filter(|m| m["role"] == role && m["sender"] == sender)
            .filter_map(|m| m["text"].as_str().map(String::from))
            .collect()
    };
    let customer = text("customer", "Alice Customer");
    assert!(
        customer.contains(&"My card is **** **** **** 1111 thanks".to_string()),
        "{customer:?}"
    );
    assert!(!t.to_string().contains("4111 1111 1111 1111"), "{t:#}");
    assert!(
        text("agent", "Dana Agent")
            .iter()
            .any(|m| m.contains("order number")),
        "{t:#}"
    );
    let system = text("system", "System");
    assert!(
        system.contains(&"Dana Agent joined the chat".to_string()),
        "{system:?}"
    );
    assert!(
        system.contains(&"Alice Customer left the chat".to_string()),
        "{system:?}"
    );
    assert!(messages.iter().all(|m| m["at_ms"].is_i64()));
    assert!(
        !messages
            .iter()
            .any(|m| m["text"].as_str().is_some_and(|s| s.len() > 1000)),
        "a refused message was stored"
    );
}
