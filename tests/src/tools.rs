//! External programs the tests drive (sipp, baresip, chromium, ...).

use std::path::PathBuf;

/// The full path of program `name` found on `PATH`, if any.
pub fn tool(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

/// Whether program `name` is installed. When it is not: under CI (`CI=true`) this panics,
/// since CI must run every test; elsewhere it prints `skipped: NAME not installed` and
/// returns false, and the test should return early.
pub fn require(name: &str) -> bool {
    if tool(name).is_some() {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("CI must have {name} installed");
    }
    eprintln!("skipped: {name} not installed");
    false
}
