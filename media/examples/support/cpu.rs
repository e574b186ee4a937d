//! CPU time of named threads, for the benchmarks.

use std::time::Duration;

/// CPU time of this process's threads named `name`, from their schedstat (ns on CPU).
pub fn threads_cpu(name: &str) -> Duration {
    let mut total = 0u64;
    for entry in std::fs::read_dir("/proc/self/task")
        .into_iter()
        .flatten()
        .flatten()
    {
        let dir = entry.path();
        let comm = std::fs::read_to_string(dir.join("comm")).unwrap_or_default();
        if !comm.trim().starts_with(name) {
            continue;
        }
        let stat = std::fs::read_to_string(dir.join("schedstat")).unwrap_or_default();
        total += stat
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
    }
    Duration::from_nanos(total)
}
