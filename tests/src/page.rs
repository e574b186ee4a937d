//! A desktop page driven by a Playwright script in `tests/browser`: the script and the test
//! meet in a directory (the page writes `at-NAME` when it reaches a step, the test writes
//! `go-NAME` to let it go on), and a failure ends the browser and reports its output with
//! the switch's calls.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::Switch;

/// The browser running one script against `switch`, meeting the test in `dir`.
pub struct Page<'a> {
    pub switch: &'a Switch,
    pub node: Child,
    pub dir: PathBuf,
}

impl<'a> Page<'a> {
    /// Runs `script` of `scripts` (the `tests/browser` directory) in Debian's `chromium`
    /// against `switch`, meeting the test in `dir`, the fake microphone playing `wav`.
    pub fn open(
        switch: &'a Switch,
        (scripts, chromium): (&Path, &Path),
        script: &str,
        dir: &Path,
        wav: &Path,
    ) -> Page<'a> {
        let node = Command::new("node")
            .arg(scripts.join(script))
            .arg(format!("http://{}", switch.http_addr()))
            .arg(dir)
            .env("CHROMIUM", chromium)
            .env("TONE_WAV", wav)
            .current_dir(scripts)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("running node: {e}"));
        println!("screenshots: {}", dir.display());
        Page {
            switch,
            node,
            dir: dir.to_path_buf(),
        }
    }

    /// Waits for `agent` to be Ready with its desktop phone registered over WebSocket.
    pub fn wait_phone_ready(&mut self, agent: &str) {
        let switch = self.switch;
        self.wait(&format!("{agent} registered over WS, Ready"), || {
            switch.agent_state(agent) == "ready"
                && switch
                    .registrations()
                    .iter()
                    .any(|r| r["user"] == agent && r["transport"] == "WS")
        });
    }

    /// Ends the browser and fails the test with `what`, the calls and the browser's output.
    pub fn die(&mut self, what: &str) -> ! {
        let _ = self.node.kill();
        let out = crate::child_output(&mut self.node);
        self.switch.fail(&format!(
            "{what}\ncalls: {:#?}\n--- browser ---\n{out}",
            self.switch.calls()
        ))
    }

    /// Waits up to a minute for `cond`, or fails with the browser's output.
    pub fn wait(&mut self, what: &str, mut cond: impl FnMut() -> bool) {
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(60) {
            if cond() {
                return;
            }
            if self.node.try_wait().ok().flatten().is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        self.die(&format!("{what}: not reached"));
    }

    /// Waits for the page to reach `name` (its `at-NAME` file).
    pub fn at(&mut self, name: &str) {
        let file = self.dir.join(format!("at-{name}"));
        self.wait(&format!("the page at {name}"), || file.exists());
    }

    /// Lets the page go on past `name`.
    pub fn go(&self, name: &str) {
        let _ = std::fs::write(self.dir.join(format!("go-{name}")), b"");
    }

    /// The only call once `cond` holds for it.
    pub fn call_where(&mut self, what: &str, cond: impl Fn(&Value) -> bool) -> Value {
        let switch = self.switch;
        let mut call = Value::Null;
        self.wait(what, || {
            call = switch.calls().into_iter().next().unwrap_or_default();
            cond(&call)
        });
        call
    }
}

/// Writes a mono 16-bit PCM WAV of `secs` of a `freq_hz` sine at a quarter of full scale,
/// sampled at `rate` (48 kHz for Chromium's fake microphone, 8 kHz for baresip's aufile).
pub fn write_tone_wav(path: &Path, rate: u32, secs: u32, freq_hz: f64) -> std::io::Result<()> {
    let samples = rate * secs;
    let data_len = samples * 2;
    let mut b = Vec::with_capacity(44 + data_len as usize);
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    b.extend_from_slice(&1u16.to_le_bytes()); // PCM
    b.extend_from_slice(&1u16.to_le_bytes()); // mono
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * 2).to_le_bytes()); // byte rate
    b.extend_from_slice(&2u16.to_le_bytes()); // block align
    b.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    let step = 2.0 * std::f64::consts::PI * freq_hz / f64::from(rate);
    for i in 0..samples {
        let s = (f64::from(i16::MAX) / 4.0 * (step * f64::from(i)).sin()) as i16;
        b.extend_from_slice(&s.to_le_bytes());
    }
    std::fs::write(path, b)
}
