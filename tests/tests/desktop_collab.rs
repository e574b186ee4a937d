//! Chat transfer and three-way conference with the seeds' role rules, in headless
//! Chromium against the real binary (`tests/browser/chat_collab.mjs`: customers, agent 1,
//! agent 2): a transfer declined comes back, a transfer accepted moves the whole transcript,
//! Ready is refused before a required wrap-up, a queue transfer, a conference whose guest
//! leaves while the chat goes on, and the customer leaving ends it for both. Then the stored
//! transcripts over REST. Screenshots in `target/screenshots/chat_collab/`.

use e2e::{Credential, SwitchConfig};
use serde_json::Value;

const CONFIG: &str = r#"
[[queues]]
dn = "8000"
name = "Sales"
offer_timeout_secs = 8
wrap_up = { mode = "manual" }
wrap_up_required = true
[[queues]]
dn = "8001"
name = "Support"
offer_timeout_secs = 8
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
queues = ["8001"]
capacity = { voice = 1, chat = 2 }
[[teams]]
name = "care"
queues = ["8000", "8001"]
[[accounts]]
id = "1001"
roles = ["agent"]
teams = ["care"]
agent = "1001"
[[accounts]]
id = "1002"
roles = ["agent"]
teams = ["care"]
agent = "1002"
[[accounts]]
id = "1010"
roles = ["supervisor"]
teams = ["care"]
extension = "1010"
[chat]
transfer_fallback = "agent"
[chat.wrap_up_codes]
8000 = ["Sale", "No sale"]
8001 = ["Fixed", "Not fixed"]
"#;

fn lines(t: &Value, role: &str) -> Vec<String> {
    t["messages"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter(|m| m["role"] == role)
        .filter_map(|m| m["text"].as_str().map(String::from))
        .collect()
}

#[test]
fn chat_transfer_and_three_way_conference_with_the_seeds_role_rules() {
    let Some(tools) = e2e::browser_tools(&[]) else {
        return;
    };
    let switch = SwitchConfig::new()
        .user("1001", "pass1001")
        .user("1002", "pass1002")
        .user("1010", "pass1010")
        .extra(CONFIG)
        .start();
    let result = e2e::run_browser_script(&switch, &tools, "chat_collab.mjs", "chat_collab");
    let chats: Vec<u64> = result["chats"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
        .unwrap_or_default();
    assert_eq!(chats.len(), 3, "{result}");

    let eli = Credential::Session(switch.login("1002", "pass1002"));
    let supervisor = Credential::Session(switch.login("1010", "pass1010"));
    let get = |who: &Credential, id: u64| {
        let r = switch.request_as(
            who,
            "GET",
            &format!("/api/interactions/{id}/transcript"),
            None,
        );
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()
    };

    // The transferred chat: who had it when, both wrap-ups, the last agent's name.
    let t = get(&eli, chats[0]);
    assert_eq!(t["agent"], "1002", "{t:#}");
    assert_eq!(t["wrap_up"], serde_json::json!(["Sale"]));
    let system = lines(&t, "system");
    for want in [
        "Dana Agent joined the chat",
        "Dana Agent transferred the chat to Eli Agent",
        "Eli Agent joined the chat",
        "Dana Agent's wrap-up: Sale",
    ] {
        assert!(
            system.contains(&want.to_string()),
            "{want} not in {system:?}"
        );
    }
    assert!(lines(&t, "customer").contains(&"Hello, my parcel is lost".to_string()));

    // The queue transfer.
    let t = get(&supervisor, chats[1]);
    let system = lines(&t, "system");
    assert!(
        system.contains(&"Dana Agent transferred the chat to Support".to_string()),
        "{system:?}"
    );
    assert_eq!(t["wrap_up"], serde_json::json!(["Fixed"]));

    // The conference: the guest's joins and leaves; only agent 1's wrap-up.
    let t = get(&supervisor, chats[2]);
    assert_eq!(t["agent"], "1001", "{t:#}");
    assert_eq!(t["wrap_up"], serde_json::json!(["Sale"]));
    let system = lines(&t, "system");
    assert_eq!(
        system
            .iter()
            .filter(|l| *l == "Eli Agent joined the chat")
            .count(),
        2,
        "{system:?}"
    );
    assert!(system.contains(&"Eli Agent left the chat".to_string()));
    assert!(system.contains(&"Carol Customer left the chat".to_string()));
    assert!(lines(&t, "agent").contains(&"Eli from billing joins".to_string()));

    // Malformed transfer bodies are refused with the API's JSON error.
    let dana = Credential::Session(switch.login("1001", "pass1001"));
    let path = format!("/api/chats/{}/transfer", chats[2]);
    let r = switch.request_as(
        &dana,
        "POST",
        &path,
        Some(r#"{"queue": "8000", "agent": "1002"}"#),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.json()["error"]["code"], "invalid");
    let r = switch.request_as(&dana, "POST", &path, Some(r#"{"agent": "1002"}"#));
    assert_eq!(r.status, 404, "the chat is over: {}", r.body);
}
