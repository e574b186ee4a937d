//! The REST API's edges against the real binary (issue 15, items 8-11): a body over the
//! limit gets 413 over a real socket, and the client that writes all of it still reads the
//! answer (no reset, no broken pipe), with our HTTP client and with curl; a wrong method
//! gets a JSON 405 with `Allow`; what axum answered in plain text is JSON; an unknown
//! field is refused and nothing happens; an import must be CSV.

use e2e::{require, Switch, SwitchConfig};
use serde_json::Value;
use std::process::Command;

/// Queue 8000 served by agent 1001 (extension 1001).
fn switch() -> Switch {
    SwitchConfig::new()
        .user("1001", "pass1001")
        .extra(
            "[[queues]]\ndn = \"8000\"\nname = \"Sales\"\n\
             [[agents]]\nid = \"1001\"\nname = \"Agent 1001\"\nextension = \"1001\"\n\
             queues = [\"8000\"]\n",
        )
        .start()
}

fn error_code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or("")
}

#[test]
fn a_ten_megabyte_body_gets_413_and_the_client_reads_it() {
    let switch = switch();
    let big = vec![b' '; 10 << 20];
    // The whole body is written, then the answer read: any reset fails `post_raw`.
    for path in ["/api/agents/1001/login", "/api/campaigns", "/api/calls"] {
        let v = switch.post_raw(path, "application/json", &big, 413);
        assert_eq!(error_code(&v), "too_large", "{path}: {v}");
    }
    // An early answer of another kind, for an import of a campaign that does not exist.
    let v = switch.post_raw("/api/campaigns/999/import", "text/csv", &big, 404);
    assert_eq!(error_code(&v), "campaign_not_found", "{v}");
    // The switch still serves.
    assert_eq!(switch.http("/api/health")["status"], "ok");
}

#[test]
fn curl_sees_the_413_with_or_without_expect_100_continue() {
    if !require("curl") {
        return;
    }
    let switch = switch();
    let file = switch.dir().join("big.json");
    if let Err(e) = std::fs::write(&file, vec![b' '; 10 << 20]) {
        panic!("writing {}: {e}", file.display());
    }
    let url = format!("http://{}/api/agents/1001/login", switch.http_addr());
    let auth = switch.admin_header().trim_end().to_string();
    // curl asks `Expect: 100-continue` for a body this big; `Expect:` turns that off, so
    // curl sends at once.
    for expect in ["Expect: 100-continue", "Expect:"] {
        let out = Command::new("curl")
            .args(["-sS", "-X", "POST", "-H", "Content-Type: application/json"])
            .args(["-H", expect, "-H", &auth])
            .arg("--data-binary")
            .arg(format!("@{}", file.display()))
            .args(["-w", "\n%{http_code}", &url])
            .output();
        let out = match out {
            Ok(o) => o,
            Err(e) => panic!("running curl: {e}"),
        };
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "curl ({expect}) failed: {stderr}");
        let (body, status) = stdout.rsplit_once('\n').unwrap_or(("", ""));
        assert_eq!(status, "413", "curl ({expect}): {stdout} {stderr}");
        let v: Value = serde_json::from_str(body).unwrap_or_default();
        assert_eq!(error_code(&v), "too_large", "curl ({expect}): {body}");
    }
}

#[test]
fn a_wrong_method_gets_a_json_405_with_allow() {
    let switch = switch();
    for (method, path, allow) in [
        ("DELETE", "/api/health", "GET,HEAD"),
        ("GET", "/api/agents/1001/login", "POST"),
        ("PUT", "/api/campaigns", "GET,HEAD,POST"),
    ] {
        let r = switch.request(method, path, None);
        assert_eq!(r.status, 405, "{method} {path}: {}", r.body);
        let v: Value = serde_json::from_str(&r.body).unwrap_or_default();
        assert_eq!(
            error_code(&v),
            "method_not_allowed",
            "{method} {path}: {}",
            r.body
        );
        let mut got: Vec<&str> = r.header("allow").unwrap_or("").split(',').collect();
        let mut want: Vec<&str> = allow.split(',').collect();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want, "{method} {path}");
    }
    let r = switch.request("GET", "/api/no/such/thing", None);
    let v: Value = serde_json::from_str(&r.body).unwrap_or_default();
    assert_eq!((r.status, error_code(&v)), (404, "not_found"), "{}", r.body);
}

#[test]
fn what_was_plain_text_is_json() {
    let switch = switch();
    let login = "/api/agents/1001/login";
    for (content_type, body, status, code) in [
        ("application/json", "{\"state\":", 400, "bad_json"),
        (
            "text/plain",
            "{\"state\":\"ready\"}",
            415,
            "unsupported_media_type",
        ),
        ("application/json", "{\"state\":7}", 422, "invalid"),
    ] {
        let v = switch.post_raw(login, content_type, body.as_bytes(), status);
        assert_eq!(error_code(&v), code, "{body}: {v}");
    }
    let v = switch.post_raw(
        "/api/campaigns/1/import",
        "text/plain",
        b"external_id\n",
        415,
    );
    assert_eq!(error_code(&v), "unsupported_media_type", "{v}");
    // History and sessions of agents that do not exist.
    for path in ["/api/agents/nobody/history", "/api/agents/nobody/session"] {
        let r = switch.get(path);
        assert_eq!(r.status, 404, "{path}: {}", r.body);
    }
}

#[test]
fn an_unknown_field_is_refused_and_nothing_happens() {
    let switch = switch();
    let v = switch.request_json(
        "POST",
        "/api/agents/1001/login",
        Some(r#"{"state":"ready","sate":"not_ready"}"#),
        422,
    );
    assert_eq!(
        (error_code(&v), v["error"]["field"].as_str()),
        ("invalid", Some("sate")),
        "{v}"
    );
    let agent = switch.http("/api/agents/1001");
    assert_eq!(agent["agent"]["state"]["state"], "logged_out", "{agent}");
    // An agent with a script for an id is not created.
    let v = switch.request_json(
        "PUT",
        "/api/agents/%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E",
        Some("{}"),
        422,
    );
    assert_eq!(v["error"]["field"], "id", "{v}");
    // Nor one in a queue that does not exist.
    let v = switch.request_json(
        "PUT",
        "/api/agents/carol",
        Some(r#"{"queues":["9999"]}"#),
        422,
    );
    assert_eq!(v["error"]["field"], "queues", "{v}");
    assert_eq!(switch.get("/api/agents/carol").status, 404);
}
