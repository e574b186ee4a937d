//! Predefined responses in headless Chromium against the real binary: the administrator
//! stores templates over REST, the agent searches them beside the composer, picks one
//! (placeholders filled), edits it and sends it, and the customer sees the edited text;
//! the stored transcript has it. The browser part is `tests/browser/chat_files.mjs`.
//! Screenshots are left in `target/screenshots/files/`.

use e2e::{Credential, SwitchConfig};
use serde_json::json;

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
[[teams]]
name = "sales"
queues = ["8000"]
[[accounts]]
id = "1001"
roles = ["agent"]
teams = ["sales"]
agent = "1001"
"#;

#[test]
fn agent_picks_edits_and_sends_a_template_in_headless_chromium() {
    let Some(tools) = e2e::browser_tools(&[]) else {
        return;
    };
    let switch = SwitchConfig::new()
        .user("1001", "pass1001")
        .extra(CONFIG)
        .start();
    let admin = switch.admin();
    for (title, text, queues) in [
        (
            "Greeting",
            "Hello {customer}, I am {agent}. How can I help?",
            json!([]),
        ),
        ("Refunds", "Refunds take five days.", json!(["8000"])),
        (
            "Elsewhere",
            "Not for queue 8000 (how can you see me?)",
            json!(["9000"]),
        ),
    ] {
        let body = json!({"title": title, "text": text, "queues": queues}).to_string();
        let r = switch.request_as(&admin, "POST", "/api/chat/templates", Some(&body));
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let long = json!({"title": "Long", "text": "x".repeat(1001)}).to_string();
    let r = switch.request_as(&admin, "POST", "/api/chat/templates", Some(&long));
    assert_eq!(r.status, 422, "{}", r.body);

    let result = e2e::run_browser_script(&switch, &tools, "chat_files.mjs", "files");
    let dana = Credential::Session(switch.login("1001", "pass1001"));
    let path = format!("/api/interactions/{}/transcript", result["chat"]);
    let r = switch.request_as(&dana, "GET", &path, None);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(
        r.body
            .contains("Hello Alice Customer, I am Dana Agent. What can I do for your order?"),
        "{}",
        r.body
    );
}
