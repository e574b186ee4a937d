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

/// Runs `tests/browser/SCRIPT BASE SHOTS` (chromium from `tools`) against `switch` to its
/// end, screenshots in `target/screenshots/SHOTS/`; its last JSON line, which must say
/// `"ok": true` (otherwise the test fails with the script's output and the switch's log).
pub fn run_browser_script(
    switch: &crate::Switch,
    tools: &(PathBuf, PathBuf),
    script: &str,
    shots: &str,
) -> serde_json::Value {
    let (dir, chromium) = tools;
    let shots = crate::workspace_root()
        .join("target/screenshots")
        .join(shots);
    let out = std::process::Command::new("node")
        .arg(dir.join(script))
        .arg(format!("http://{}", switch.http_addr()))
        .arg(&shots)
        .env("CHROMIUM", chromium)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("running node: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("screenshots: {}", shots.display());
    if !out.status.success() {
        switch.fail(&format!(
            "the browser test {script} failed ({}):\n{stderr}\n{stdout}",
            out.status
        ));
    }
    let result: serde_json::Value = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or(serde_json::Value::Null);
    assert_eq!(result["ok"], true, "{stdout}\n{stderr}");
    result
}

/// Everything a finished (or killed) child wrote to its piped stdout and stderr, for a
/// failure message.
pub fn child_output(child: &mut std::process::Child) -> String {
    use std::io::Read;
    let mut out = String::new();
    if let Some(mut s) = child.stdout.take() {
        let _ = s.read_to_string(&mut out);
    }
    if let Some(mut s) = child.stderr.take() {
        let _ = s.read_to_string(&mut out);
    }
    out
}
