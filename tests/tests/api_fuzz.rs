//! A property-based HTTP fuzzer over the API's own OpenAPI document (issue 8): schemathesis
//! (`st`, from PyPI; `.ci/run` installs it) generates thousands of requests from
//! `/api/openapi.json`, valid and invalid, against the real binary, as the administrator,
//! and checks every answer: no 5xx, the documented status codes, content types and
//! schemas (so every error is the JSON error body).
//!
//! Two runs: first every operation but those that can take the fuzzer's own credential
//! away (changing or deleting accounts, which can demote or lock the administrator; the
//! token's revocation; logins, which can lock it; logout; the password; and the
//! WebSocket stream, which no HTTP fuzzer can drive); then those, last, where losing the
//! credential only turns answers into the documented 401/403.

use e2e::{require, Switch};
use std::process::Command;

/// Two teams of agents, a supervisor and a campaign manager, so the fuzzer meets
/// accounts, teams and scopes that exist.
fn switch() -> Switch {
    e2e::two_teams().start()
}

const RISKY: [&str; 6] = [
    "/api/login",
    "/api/logout",
    "/api/me/password",
    "/api/tokens/{id}",
    "/api/accounts/{id}",
    "/api/events",
];

fn schemathesis(switch: &Switch, filter: &[String], what: &str) {
    let auth = switch.admin_header();
    let url = format!("http://{}/api/openapi.json", switch.http_addr());
    let out = Command::new("st")
        .args(["run", &url, "-H", auth.trim_end()])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,\
             response_schema_conformance",
        ])
        .args(["--phases", "coverage,fuzzing,stateful"])
        .args(["-n", "20", "-w", "1", "--seed", "1", "--no-color"])
        .args([
            "--output-truncate",
            "false",
            "--generation-database",
            "none",
        ])
        .args(filter)
        .output();
    let out = match out {
        Ok(o) => o,
        Err(e) => switch.fail(&format!("cannot run st: {e}")),
    };
    let text = String::from_utf8_lossy(&out.stdout);
    let summary: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("generated,") || l.contains("Tested:") || l.contains("in "))
        .collect();
    eprintln!("schemathesis ({what}): {}", summary.join(" | "));
    if !out.status.success() {
        switch.fail(&format!(
            "schemathesis ({what}) found problems:\n{text}\n{}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
}

#[test]
fn schemathesis_finds_no_server_error_and_only_documented_answers() {
    if !require("st") {
        return;
    }
    let s = switch();
    let first: Vec<String> = RISKY
        .iter()
        .flat_map(|p| ["--exclude-path".to_string(), p.to_string()])
        .collect();
    schemathesis(&s, &first, "all but the credential's own operations");
    let last: Vec<String> = RISKY[..5]
        .iter()
        .flat_map(|p| ["--include-path".to_string(), p.to_string()])
        .collect();
    schemathesis(&s, &last, "the credential's own operations");
    // Still serving, and no panic in the log.
    assert_eq!(s.get("/api/health").status, 200);
    assert!(!s.log().contains("panicked"), "{}", s.log_tail());
}
