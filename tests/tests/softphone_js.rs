//! The browser softphone's JS unit tests (`web/desktop/*.test.mjs`: SIP parse and print,
//! building requests and responses, DTMF bodies, MD5 digest) under `node --test`, so
//! `cargo test` runs them like the other browser tests run node.

use std::process::Command;

#[test]
fn softphone_js_unit_tests_pass_under_node_test() {
    if !e2e::require("node") {
        return;
    }
    let dir = e2e::workspace_root().join("web/desktop");
    let tests: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".test.mjs"))
        .collect();
    assert!(!tests.is_empty(), "no *.test.mjs in {}", dir.display());
    let out = Command::new("node")
        .arg("--test")
        .args(&tests)
        .current_dir(&dir)
        .output()
        .unwrap_or_else(|e| panic!("running node --test: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "node --test failed:\n{text}");
    assert!(text.contains("# fail 0"), "{text}");
}
