//! A chat's files over the whole API in-process: the customer (by the chat's token) and the
//! agent send files, both sides are told, the list and the downloads answer only the
//! chat's parties and supervisors; refused files (card number, type, content, budget) get
//! their 4xx and leave nothing in the index or the data directory; the stored transcript
//! has the files after the store is reopened.

use super::testing::TestApi;
use crate::accounts::Actor;
use crate::chat::{Chats, ToCustomer};
use acd::{Event, RequestedState};
use axum::http::{Method, StatusCode};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n";
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x02\0\0\0";

struct Chat {
    api: TestApi,
    id: u64,
    token: String,
    customer: mpsc::UnboundedReceiver<ToCustomer>,
    /// Bearer headers of agent 1001 (who takes the chat), agent 1002, supervisor 1010.
    agent: String,
    other: String,
    supervisor: String,
}

async fn bearer(api: &TestApi, account: &str) -> String {
    match api
        .state
        .accounts
        .create_token(&Actor::default(), account, "files", None)
        .await
    {
        Ok(t) => format!("Bearer {}", t.secret),
        Err(e) => panic!("token for {account}: {e}"),
    }
}

async fn next(rx: &mut mpsc::UnboundedReceiver<ToCustomer>) -> ToCustomer {
    match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
        Ok(Some(m)) => m,
        other => panic!("nothing for the customer: {other:?}"),
    }
}

/// Queue 8000 with agents 1001 and 1002; the chats' files may total `budget` bytes. Ann
/// starts a chat, agent 1001 accepts it.
async fn chat(budget: u64) -> Chat {
    let mut agents = Vec::new();
    for id in ["1001", "1002"] {
        let mut a = acd::AgentConfig::new(id);
        a.name = format!("Agent {id}");
        a.queues.push("8000".into());
        a.capacity.chat = 2;
        agents.push(a);
    }
    let mut api = TestApi::new(vec![acd::QueueConfig::new("8000")], agents).await;
    let mut config = (*api.state.config).clone();
    config.chat.attachments.max_total_bytes = budget;
    api.state.chats = match Chats::spawn(
        config.chat.clone(),
        api.state.distributor.clone(),
        api.state.store.clone(),
    )
    .await
    {
        Ok(c) => c,
        Err(e) => panic!("chats: {e}"),
    };
    api.state.config = Arc::new(config);
    if let Err(e) = api
        .state
        .distributor
        .request(Event::AgentLogin {
            agent: "1001".into(),
            initial: RequestedState::Ready,
        })
        .await
    {
        panic!("login: {e}");
    }
    let (link, mut customer) = mpsc::unbounded_channel();
    let id = match api
        .state
        .chats
        .join("Ann".into(), "8000".into(), link)
        .await
    {
        Ok(id) => id,
        Err(e) => panic!("join: {e}"),
    };
    let ToCustomer::Joined { token, .. } = next(&mut customer).await else {
        panic!("no joined frame first")
    };
    let agent = bearer(&api, "1001").await;
    let other = bearer(&api, "1002").await;
    let supervisor = bearer(&api, "1010").await;
    let accept = format!("/api/chats/{id}/accept");
    let mut accepted = false;
    for _ in 0..250 {
        let (status, _, _) = api
            .send(Method::POST, &accept, &[("authorization", &agent)], vec![])
            .await;
        if status == StatusCode::OK {
            accepted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(accepted, "the chat was never offered to 1001");
    Chat {
        api,
        id,
        token,
        customer,
        agent,
        other,
        supervisor,
    }
}

impl Chat {
    /// Uploads `bytes` as `name` with this credential header.
    async fn upload(&self, auth: (&str, &str), name: &str, bytes: &[u8]) -> (StatusCode, Value) {
        let uri = format!(
            "/api/chats/{}/attachments?name={}",
            self.id,
            name.replace(' ', "%20")
        );
        let len = bytes.len().to_string();
        let (status, _, v) = self
            .api
            .send(
                Method::POST,
                &uri,
                &[
                    auth,
                    ("content-type", "application/octet-stream"),
                    ("content-length", &len),
                ],
                bytes.to_vec(),
            )
            .await;
        (status, v)
    }

    fn customer(&self) -> (&str, &str) {
        ("x-chat-token", &self.token)
    }

    /// The customer's next transcript line with a file (skipping notices).
    async fn customer_file(&mut self) -> crate::chat::Message {
        loop {
            if let ToCustomer::Message { message } = next(&mut self.customer).await {
                if message.attachment.is_some() {
                    return message;
                }
            }
        }
    }

    /// The files on disk, temporary ones included.
    fn files_on_disk(&self) -> Vec<String> {
        let dir = crate::chat::files::dir(&self.api.state.config.data_dir);
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .map(|d| {
                d.filter_map(Result::ok)
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

#[tokio::test]
async fn both_sides_send_files_that_only_the_chats_parties_and_supervisors_read() {
    let mut c = chat(35 * 1024 * 1024).await;
    let (status, entry) = c.upload(c.customer(), "invoice.pdf", PDF).await;
    assert_eq!(status, StatusCode::CREATED, "{entry}");
    assert_eq!(entry["sender"], "Ann");
    assert_eq!(entry["role"], "customer");
    assert_eq!(entry["attachment"]["name"], "invoice.pdf");
    assert_eq!(entry["attachment"]["size"], PDF.len());
    assert_eq!(entry["attachment"]["content_type"], "application/pdf");
    let seen = c.customer_file().await;
    assert_eq!(
        seen.attachment.as_ref().map(|a| a.name.as_str()),
        Some("invoice.pdf")
    );
    let pdf_url = entry["attachment"]["url"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(
        pdf_url.starts_with(&format!("/api/chats/{}/attachments/", c.id)),
        "{pdf_url}"
    );

    let agent = ("authorization", c.agent.clone());
    let (status, entry) = c.upload((agent.0, &agent.1), "screen shot.png", PNG).await;
    assert_eq!(status, StatusCode::CREATED, "{entry}");
    assert_eq!(entry["sender"], "Agent 1001");
    let seen = c.customer_file().await;
    assert_eq!(
        seen.sender, "Agent 1001",
        "the customer sees the agent's file"
    );
    let png_url = entry["attachment"]["url"]
        .as_str()
        .unwrap_or("")
        .to_string();

    // The agent's desktop view (a reload) and the list show both, oldest first.
    let (_, _, view) = c
        .api
        .send(
            Method::GET,
            "/api/agents/1001/chats",
            &[(agent.0, &agent.1)],
            vec![],
        )
        .await;
    let files: Vec<&str> = view[0]["messages"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter_map(|m| m["attachment"]["name"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(files, ["invoice.pdf", "screen shot.png"], "{view}");
    let list = format!("/api/chats/{}/attachments", c.id);
    for who in [
        c.customer(),
        (agent.0, agent.1.as_str()),
        ("authorization", c.supervisor.as_str()),
    ] {
        let (status, _, v) = c.api.send(Method::GET, &list, &[who], vec![]).await;
        assert_eq!(status, StatusCode::OK, "{} {v}", who.0);
        assert_eq!(v["attachments"].as_array().map(Vec::len), Some(2), "{v}");
        assert_eq!(v["total_bytes"], PDF.len() + PNG.len());
    }
    let (status, _, v) = c
        .api
        .send(Method::GET, &list, &[("authorization", &c.other)], vec![])
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "another agent: {v}");
    assert_eq!(v["error"]["code"], "not_your_chat");
    let (status, _, v) = c
        .api
        .send(
            Method::GET,
            &list,
            &[("x-chat-token", "chat_guess")],
            vec![],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["error"]["code"], "bad_chat_token");
    let (status, _) = c.api.anonymous(Method::GET, &list, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Downloads: the bytes, the type, the name.
    for (who, url, bytes, ctype, name) in [
        (
            (agent.0, agent.1.as_str()),
            &pdf_url,
            PDF,
            "application/pdf",
            "invoice.pdf",
        ),
        (c.customer(), &png_url, PNG, "image/png", "screen shot.png"),
    ] {
        let (status, headers, body) = c.api.send_bytes(Method::GET, url, &[who], vec![]).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(&body[..], bytes);
        assert_eq!(headers["content-type"], ctype);
        let disposition = headers["content-disposition"].to_str().unwrap_or("");
        assert!(
            disposition.starts_with(&format!("attachment; filename=\"{name}\"")),
            "{disposition}"
        );
    }
    let (status, _, _) = c
        .api
        .send_bytes(
            Method::GET,
            &pdf_url,
            &[("authorization", &c.other)],
            vec![],
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let missing = format!("/api/chats/{}/attachments/{}", c.id, "0".repeat(32));
    let (status, _, v) = c
        .api
        .send(Method::GET, &missing, &[c.customer()], vec![])
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{v}");

    // Other chats' tokens do not open this one; the administrator has no agent to send.
    let (status, v) = c
        .upload(("authorization", &c.supervisor), "a.pdf", PDF)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["error"]["code"], "not_an_agent");

    // The stored transcript, read again from a reopened store, has both files in place.
    let again = match crate::store::Store::open(&c.api.db.url).await {
        Ok(s) => s,
        Err(e) => panic!("reopen: {e}"),
    };
    let lines = match crate::chat::files::transcript(&again, c.id).await {
        Ok(l) => l,
        Err(e) => panic!("transcript: {e}"),
    };
    let names: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.attachment.as_ref().map(|a| a.name.as_str()))
        .collect();
    assert_eq!(names, ["invoice.pdf", "screen shot.png"]);
    again.close().await;
    let uri = format!("/api/interactions/{}/transcript", c.id);
    let (_, v) = c.api.call(Method::GET, &uri, None).await;
    assert!(v["messages"]
        .as_array()
        .is_some_and(|m| m.iter().any(|m| m["attachment"]["name"] == "invoice.pdf")));

    // After the end the customer may still download, not send.
    let end = format!("/api/chats/{}/end", c.id);
    let (status, _, _) = c
        .api
        .send(Method::POST, &end, &[(agent.0, &agent.1)], vec![])
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, v) = c.upload(c.customer(), "late.pdf", PDF).await;
    assert_eq!(status, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"]["code"], "not_active");
    let (status, _, _) = c
        .api
        .send_bytes(Method::GET, &pdf_url, &[c.customer()], vec![])
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn refused_files_get_their_reason_and_leave_nothing_behind() {
    let c = chat(1000).await;
    let agent = ("authorization", c.agent.clone());
    let card = b"Please charge 4111 1111 1111 1111, exp 12/29";
    for (who, name, bytes, status, code) in [
        (
            c.customer(),
            "card.txt",
            &card[..],
            StatusCode::UNPROCESSABLE_ENTITY,
            "card_number",
        ),
        (
            (agent.0, agent.1.as_str()),
            "card.txt",
            &card[..],
            StatusCode::UNPROCESSABLE_ENTITY,
            "card_number",
        ),
        (
            c.customer(),
            "setup.exe",
            b"MZ\x90\0",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "type_not_allowed",
        ),
        (
            c.customer(),
            "fake.pdf",
            PNG,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content_mismatch",
        ),
        (
            c.customer(),
            "empty.txt",
            b"",
            StatusCode::UNPROCESSABLE_ENTITY,
            "empty_file",
        ),
        (
            c.customer(),
            "big.txt",
            &[b'a'; 1001][..],
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
        ),
        (
            c.customer(),
            "..%2Fx.txt",
            b"a",
            StatusCode::UNPROCESSABLE_ENTITY,
            "bad_name",
        ),
    ] {
        let (got, v) = c.upload(who, name, bytes).await;
        assert_eq!(got, status, "{name}: {v}");
        assert_eq!(v["error"]["code"], code, "{name}: {v}");
        assert!(v["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()));
    }
    // The budget is the chat's total: 600 fit, then 401 more do not, 400 do.
    let (status, v) = c.upload(c.customer(), "a.txt", &[b'a'; 600]).await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    let (status, v) = c
        .upload(("authorization", &c.agent), "b.txt", &[b'b'; 401])
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("600")),
        "{v}"
    );
    let (status, v) = c
        .upload(("authorization", &c.agent), "b.txt", &[b'b'; 400])
        .await;
    assert_eq!(status, StatusCode::CREATED, "{v}");
    // Only the two accepted files exist: in the index and on disk (no temporary file).
    let list = format!("/api/chats/{}/attachments", c.id);
    let (_, _, v) = c
        .api
        .send(Method::GET, &list, &[c.customer()], vec![])
        .await;
    let names: Vec<&str> = v["attachments"]
        .as_array()
        .map(|a| a.iter().filter_map(|f| f["name"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names, ["a.txt", "b.txt"]);
    assert_eq!(c.files_on_disk().len(), 2, "{:?}", c.files_on_disk());
    assert!(c
        .files_on_disk()
        .iter()
        .all(|f| crate::chat::files::is_id(f)));
    let transcript = match crate::chat::files::transcript(&c.api.state.store, c.id).await {
        Ok(t) => t,
        Err(e) => panic!("transcript: {e}"),
    };
    assert!(
        !transcript.iter().any(|m| m.text.contains("card")),
        "nothing of the refused files is in the transcript"
    );
}
