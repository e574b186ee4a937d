//! The switch process: starting it, waiting until it is ready, killing it as a crash
//! would, and starting it again on the same data.

use super::{switch_bin, Switch, READY_TIMEOUT};
use crate::http::http_get;
use std::fs::File;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

impl Switch {
    /// Waits until `GET /api/health` answers 200; `Err` when the process exits first
    /// (then `child` is `None`) or it takes longer than [`READY_TIMEOUT`].
    pub(super) fn wait_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                self.child = None;
                return Err(format!("switch exited with {status}"));
            }
            if http_get(self.http, "/api/health").is_ok_and(|r| r.status == 200) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!("switch not ready after {READY_TIMEOUT:?}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Kills the switch with SIGKILL, as a crash would: no shutdown, calls and leases
    /// are left as they were. Waits until the process is gone.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the switch again (after [`Switch::kill`] or [`Switch::stop`]) with the same
    /// config, ports and data directory, its output appended to the same log; waits until
    /// it is ready. Panics (with the log) when it does not start.
    pub fn restart(&mut self) {
        self.stop();
        let out = match std::fs::OpenOptions::new().append(true).open(&self.log) {
            Ok(f) => f,
            Err(e) => self.fail(&format!("opening {}: {e}", self.log.display())),
        };
        let config = self.dir.join("switch.toml");
        match spawn(&switch_bin(), &config, &self.dir, out) {
            Ok(child) => self.child = Some(child),
            Err(e) => self.fail(&e),
        }
        if let Err(e) = self.wait_ready() {
            self.fail(&format!("restart: {e}"));
        }
    }
}

/// Runs the switch binary with `config`, in `dir`, output to `out`.
pub(super) fn spawn(bin: &Path, config: &Path, dir: &Path, out: File) -> Result<Child, String> {
    let err = out.try_clone().map_err(|e| e.to_string())?;
    let mut cmd = Command::new(bin);
    cmd.arg("--config")
        .arg(config)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err);
    cmd.env("NO_COLOR", "1");
    if std::env::var_os("RUST_LOG").is_none() {
        cmd.env("RUST_LOG", "info");
    }
    cmd.spawn()
        .map_err(|e| format!("cannot run {}: {e}", bin.display()))
}
