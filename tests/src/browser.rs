//! What the browser tests need: node, Debian's chromium and the npm packages of
//! `tests/browser` (playwright-core).

use std::path::PathBuf;

/// `(tests/browser, chromium)`, or `None` (the test is skipped, saying why) when node,
/// chromium or one of `also` (e.g. `"sipp"`) is missing, or when `npm ci` has not been
/// run in `tests/browser` outside CI; in CI the last is a failure.
pub fn browser_tools(also: &[&str]) -> Option<(PathBuf, PathBuf)> {
    if !crate::require("node") || !also.iter().all(|t| crate::require(t)) {
        return None;
    }
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| crate::tool("chromium"));
    let Some(chromium) = chromium else {
        crate::require("chromium");
        return None;
    };
    let dir = crate::workspace_root().join("tests/browser");
    if !dir.join("node_modules/playwright-core").is_dir() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("CI must run `npm ci` in tests/browser");
        }
        eprintln!("skipped: run `npm ci` in tests/browser first");
        return None;
    }
    Some((dir, chromium))
}
