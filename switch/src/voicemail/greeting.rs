//! Users' own greetings: recorded from the phone (`*97`, then 0, then 1) or uploaded over
//! REST, played to callers instead of the standard greeting. Each is a WAV file
//! `data_dir/voicemail/USER/greeting-ID.wav` (8 kHz mono, as the recorder writes them);
//! the newest file of a mailbox is its greeting, decoded once and held by [`Mailboxes`]
//! so that a call plays it from memory. The files are read and written here, at the edge:
//! at start-up ([`load_all`]), by the REST handlers ([`store_upload`], [`remove`]) and by
//! [`run`], which takes in what a phone recorded once the recorder has finished its file.

use super::Mailboxes;
use media::wav::WavError;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// The longest greeting, recorded or uploaded.
pub const MAX_GREETING: Duration = Duration::from_secs(60);
/// A shorter recording (a caller who pressed `#` at once) is not taken.
pub const MIN_GREETING: Duration = Duration::from_secs(1);
/// How long [`run`] waits for the recorder to finish a greeting's file.
const FILE_WAIT: Duration = Duration::from_secs(10);

/// A mailbox's greeting: its file's name and its samples.
#[derive(Clone, Debug)]
pub struct Greeting {
    pub file: String,
    pub samples: Arc<[i16]>,
}

/// What the call engine asks of the greeting files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Job {
    /// A phone recorded `file` for `mailbox`: once written, it is the greeting.
    Adopt { mailbox: String, file: String },
    /// A recording too short to keep.
    Discard { mailbox: String, file: String },
    /// The mailbox went back to the standard greeting: its files go.
    Remove { mailbox: String },
}

#[derive(Debug, thiserror::Error)]
pub enum GreetingError {
    #[error("not a playable WAV file: {0}")]
    Wav(#[from] WavError),
    #[error("a greeting may last at most {max} s; this one lasts {secs} s")]
    TooLong { secs: u64, max: u64 },
    #[error("a greeting must last at least {min} s")]
    TooShort { min: u64 },
    #[error("greeting file: {0}")]
    Io(#[from] std::io::Error),
}

/// `greeting-ID.wav`.
pub fn file_name(id: &str) -> String {
    format!("greeting-{id}.wav")
}

fn is_greeting(name: &str) -> bool {
    name.starts_with("greeting-") && name.ends_with(".wav")
}

/// The mailbox's directory below the data directory.
pub fn dir(data_dir: &Path, mailbox: &str) -> PathBuf {
    data_dir.join("voicemail").join(mailbox)
}

fn length(samples: &[i16]) -> Duration {
    Duration::from_millis(samples.len() as u64 / 8)
}

/// Decodes and checks a greeting's WAV.
pub fn decode(bytes: &[u8]) -> Result<Arc<[i16]>, GreetingError> {
    let samples = media::wav::decode(bytes)?;
    let len = length(&samples);
    if len > MAX_GREETING + Duration::from_secs(1) {
        return Err(GreetingError::TooLong {
            secs: len.as_secs(),
            max: MAX_GREETING.as_secs(),
        });
    }
    if len < MIN_GREETING {
        return Err(GreetingError::TooShort {
            min: MIN_GREETING.as_secs(),
        });
    }
    Ok(samples)
}

/// The greeting files of a mailbox directory, oldest first.
fn greeting_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| is_greeting(n))
        .collect();
    names.sort();
    names
}

/// Every mailbox's greeting at start-up: the newest readable file of each; older ones
/// (left by a crash between writing a new one and removing the old) are removed.
pub fn load_all(data_dir: &Path) -> HashMap<String, Greeting> {
    let mut out = HashMap::new();
    let root = data_dir.join("voicemail");
    for entry in std::fs::read_dir(&root).into_iter().flatten().flatten() {
        let Ok(mailbox) = entry.file_name().into_string() else {
            continue;
        };
        let dir = entry.path();
        let mut files = greeting_files(&dir);
        while let Some(file) = files.pop() {
            let loaded = std::fs::read(dir.join(&file))
                .map_err(GreetingError::from)
                .and_then(|b| decode(&b));
            match loaded {
                Ok(samples) => {
                    for old in files.drain(..) {
                        let _ = std::fs::remove_file(dir.join(old));
                    }
                    out.insert(mailbox.clone(), Greeting { file, samples });
                }
                Err(error) => {
                    tracing::warn!(%mailbox, %file, %error, "greeting not loaded");
                }
            }
        }
    }
    out
}

/// Writes `bytes` (checked) as the mailbox's new greeting; the previous one's file goes.
pub async fn store_upload(
    mailboxes: &Mailboxes,
    data_dir: &Path,
    mailbox: &str,
    id: &str,
    bytes: &[u8],
) -> Result<Duration, GreetingError> {
    let samples = decode(bytes)?;
    let dir = dir(data_dir, mailbox);
    tokio::fs::create_dir_all(&dir).await?;
    let file = file_name(id);
    let part = dir.join(format!("{file}.part"));
    tokio::fs::write(&part, bytes).await?;
    tokio::fs::rename(&part, dir.join(&file)).await?;
    let len = length(&samples);
    adopt(mailboxes, &dir, mailbox, Greeting { file, samples }).await;
    Ok(len)
}

/// The new greeting takes the place of the old, whose file is removed.
async fn adopt(mailboxes: &Mailboxes, dir: &Path, mailbox: &str, greeting: Greeting) {
    let keep = greeting.file.clone();
    mailboxes.set_greeting(mailbox, Some(greeting));
    for old in greeting_files(dir).into_iter().filter(|f| *f != keep) {
        let _ = tokio::fs::remove_file(dir.join(old)).await;
    }
    tracing::info!(%mailbox, file = %keep, "new voicemail greeting");
}

/// Back to the standard greeting: `false` when the mailbox had none of its own.
pub async fn remove(mailboxes: &Mailboxes, data_dir: &Path, mailbox: &str) -> bool {
    let had = mailboxes.set_greeting(mailbox, None).is_some();
    let dir = dir(data_dir, mailbox);
    for f in greeting_files(&dir) {
        let _ = tokio::fs::remove_file(dir.join(f)).await;
    }
    had
}

/// Waits (a while) for the recorder to rename its `.part` into `path`.
async fn finished(path: &Path) -> Option<Vec<u8>> {
    let deadline = tokio::time::Instant::now() + FILE_WAIT;
    loop {
        if let Ok(bytes) = tokio::fs::read(path).await {
            return Some(bytes);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Carries out the call engine's [`Job`]s until the sender goes.
pub async fn run(mailboxes: Mailboxes, data_dir: PathBuf, mut jobs: mpsc::UnboundedReceiver<Job>) {
    while let Some(job) = jobs.recv().await {
        match job {
            Job::Adopt { mailbox, file } => {
                let dir = dir(&data_dir, &mailbox);
                let Some(bytes) = finished(&dir.join(&file)).await else {
                    tracing::error!(%mailbox, %file, "recorded greeting never written");
                    continue;
                };
                match decode(&bytes) {
                    Ok(samples) => {
                        adopt(&mailboxes, &dir, &mailbox, Greeting { file, samples }).await
                    }
                    Err(error) => {
                        tracing::warn!(%mailbox, %file, %error, "recorded greeting not taken");
                        let _ = tokio::fs::remove_file(dir.join(&file)).await;
                    }
                }
            }
            Job::Discard { mailbox, file } => {
                let path = dir(&data_dir, &mailbox).join(&file);
                if finished(&path).await.is_some() {
                    let _ = tokio::fs::remove_file(path).await;
                }
            }
            Job::Remove { mailbox } => {
                remove(&mailboxes, &data_dir, &mailbox).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory of the test's own, removed when dropped.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new() -> Scratch {
            use std::sync::atomic::{AtomicU32, Ordering};
            static N: AtomicU32 = AtomicU32::new(0);
            let n = N.fetch_add(1, Ordering::Relaxed);
            let dir =
                std::env::temp_dir().join(format!("ccswitch-greeting-{}-{n}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }

        fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn wav(secs: f64) -> Vec<u8> {
        let samples = media::tone::sine(600.0, Duration::from_secs_f64(secs), 8000);
        media::wav::encode_pcm16(&samples)
    }

    #[tokio::test]
    async fn uploads_replace_the_old_and_reload_at_start_up() {
        let tmp = Scratch::new();
        let boxes = Mailboxes::default();
        assert!(boxes.greeting("1002").is_none());
        store_upload(&boxes, tmp.path(), "1002", "1", &wav(2.0))
            .await
            .unwrap();
        let len = store_upload(&boxes, tmp.path(), "1002", "2", &wav(3.0))
            .await
            .unwrap();
        assert_eq!(len, Duration::from_secs(3));
        assert_eq!(boxes.greeting("1002").map(|s| s.len()), Some(24_000));
        assert_eq!(
            greeting_files(&dir(tmp.path(), "1002")),
            ["greeting-2.wav"],
            "the old file is gone"
        );
        let loaded = load_all(tmp.path());
        assert_eq!(loaded["1002"].file, "greeting-2.wav");
        assert_eq!(loaded["1002"].samples.len(), 24_000);
        assert!(remove(&boxes, tmp.path(), "1002").await);
        assert!(boxes.greeting("1002").is_none());
        assert!(load_all(tmp.path()).is_empty());
        assert!(!remove(&boxes, tmp.path(), "1002").await);
    }

    #[tokio::test]
    async fn bad_greetings_are_refused_with_the_reason() {
        let tmp = Scratch::new();
        let boxes = Mailboxes::default();
        let refused = |r: Result<Duration, GreetingError>| r.unwrap_err().to_string();
        let e = refused(store_upload(&boxes, tmp.path(), "1002", "1", b"not a wav").await);
        assert!(e.contains("not a playable WAV"), "{e}");
        let e = refused(store_upload(&boxes, tmp.path(), "1002", "1", &wav(0.3)).await);
        assert!(e.contains("at least 1 s"), "{e}");
        let e = refused(store_upload(&boxes, tmp.path(), "1002", "1", &wav(70.0)).await);
        assert!(e.contains("at most 60 s"), "{e}");
        assert!(boxes.greeting("1002").is_none());
    }

    #[tokio::test]
    async fn a_recorded_greeting_is_taken_once_its_file_is_written() {
        let tmp = Scratch::new();
        let boxes = Mailboxes::default();
        let (tx, rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(boxes.clone(), tmp.path().to_path_buf(), rx));
        let dir = dir(tmp.path(), "1002");
        std::fs::create_dir_all(&dir).unwrap();
        tx.send(Job::Adopt {
            mailbox: "1002".into(),
            file: "greeting-9.wav".into(),
        })
        .unwrap();
        // The recorder finishes a little later.
        tokio::time::sleep(Duration::from_millis(120)).await;
        std::fs::write(dir.join("greeting-9.wav"), wav(1.5)).unwrap();
        std::fs::write(dir.join("greeting-10.wav"), wav(1.5)).unwrap();
        tx.send(Job::Discard {
            mailbox: "1002".into(),
            file: "greeting-10.wav".into(),
        })
        .unwrap();
        tx.send(Job::Remove {
            mailbox: "1003".into(),
        })
        .unwrap();
        drop(tx);
        task.await.unwrap();
        assert_eq!(boxes.greeting("1002").map(|s| s.len()), Some(12_000));
        assert_eq!(greeting_files(&dir), ["greeting-9.wav"]);
    }
}
