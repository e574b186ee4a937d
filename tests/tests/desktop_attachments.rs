//! Chat attachments in headless Chromium against the real binary: the customer attaches a
//! PDF, the agent sees and downloads it (same bytes); the agent attaches a PNG the customer
//! sees and downloads; a file holding a card number is refused on both sides with the
//! reason shown and nothing in the transcript; a type that is not allowed is refused. Then
//! the switch restarts and the stored transcript still has both files, which still
//! download. The browser part is `tests/browser/attachments.mjs`; screenshots are left in
//! `target/screenshots/attachments/`.

use e2e::{Credential, SwitchConfig};

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
[chat.attachments]
types = ["pdf", "png", "txt", "docx"]
max_total_bytes = 5000000
"#;

/// The PDF the browser script sends.
const PDF: &str =
    "%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

#[test]
fn customer_and_agent_send_files_and_card_numbers_are_refused_in_headless_chromium() {
    let Some(tools) = e2e::browser_tools(&[]) else {
        return;
    };
    let mut switch = SwitchConfig::new()
        .user("1001", "pass1001")
        .extra(CONFIG)
        .start();
    let result = e2e::run_browser_script(&switch, &tools, "attachments.mjs", "attachments");
    let chat = result["chat"].as_u64().unwrap_or(0);
    let dir = switch.data_dir().join("attachments");
    let on_disk = std::fs::read_dir(&dir)
        .map(|d| d.filter_map(Result::ok).count())
        .unwrap_or(0);
    assert_eq!(
        on_disk,
        2,
        "only the two accepted files are kept in {}",
        dir.display()
    );

    switch.restart();
    let dana = Credential::Session(switch.login("1001", "pass1001"));
    let r = switch.request_as(
        &dana,
        "GET",
        &format!("/api/interactions/{chat}/transcript"),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    let files: Vec<(String, String)> = v["messages"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter(|m| m["attachment"].is_object())
                .map(|m| {
                    (
                        m["sender"].as_str().unwrap_or("").to_string(),
                        m["attachment"]["name"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        files,
        [
            ("Alice Customer".to_string(), "invoice.pdf".to_string()),
            ("Dana Agent".to_string(), "steps to follow.png".to_string()),
        ],
        "{}",
        r.body
    );
    assert!(
        !r.body.contains("order.txt") && !r.body.contains("4111"),
        "{}",
        r.body
    );
    let url = v["messages"]
        .as_array()
        .and_then(|m| m.iter().find(|m| m["attachment"]["name"] == "invoice.pdf"))
        .and_then(|m| m["attachment"]["url"].as_str())
        .unwrap_or("")
        .to_string();
    let r = switch.request_as(&dana, "GET", &url, None);
    assert_eq!(r.status, 200, "{url}: {}", r.body);
    assert_eq!(r.body, PDF, "the same bytes after the restart");
    let header = |name: &str| {
        r.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    assert_eq!(header("content-type"), "application/pdf");
    assert!(header("content-disposition").starts_with("attachment; filename=\"invoice.pdf\""));
    // Without a credential: refused.
    let r = switch.request_as(&Credential::None, "GET", &url, None);
    assert_eq!(r.status, 401, "{}", r.body);
}
