//! Call recording: a stereo 16-bit 8 kHz WAV whose left channel is one endpoint's leg (the
//! customer) and whose right channel is what that leg hears of the other parties (the
//! agent, a consulted party, a conference), so the recording follows the customer through
//! holds, consultations and transfers. Paused, both channels are silence: what is said
//! meanwhile (a card number) is never written.
//!
//! The relay task hands a second's worth of samples at a time to a writer task of the
//! recording's own, so the packet path never waits on the disk. The file is written as
//! `NAME.part` and renamed to `NAME` once complete (header sizes patched), so a finished
//! recording is never seen half-written.

use std::path::PathBuf;

use tokio::io::{AsyncSeekExt, AsyncWriteExt};
use tokio::sync::mpsc;

use crate::engine::Side;
use crate::mixer::Frame;
use crate::player::SAMPLES_PER_PACKET;
use crate::wav;

/// Bytes of interleaved samples handed to the writer at once: one second.
const CHUNK: usize = 8000 * 2 * 2;

/// Below this mean absolute level a frame counts as silence (about -50 dBFS).
const QUIET: i32 = 100;

#[derive(Debug)]
pub(crate) struct Recorder {
    /// The endpoint whose leg is the left channel.
    pub(crate) left: Side,
    pub(crate) paused: bool,
    /// Mono (a voicemail): the frames of silence that end it, and how many in a row so far.
    mono: Option<(u32, u32)>,
    reported: bool,
    chunk: Vec<u8>,
    tx: mpsc::UnboundedSender<Vec<u8>>,
}

impl Recorder {
    /// Starts the writer of `path` (must be called within a tokio runtime).
    /// `mono`: the left leg alone, its silence end.
    pub(crate) fn start(left: Side, path: PathBuf, mono: Option<std::time::Duration>) -> Recorder {
        let (tx, rx) = mpsc::unbounded_channel();
        let channels = if mono.is_some() { 1 } else { 2 };
        tokio::spawn(write(path, channels, rx));
        let frames = |d: std::time::Duration| (d.as_millis() / 20).max(1) as u32;
        Recorder {
            left,
            paused: false,
            mono: mono.map(|d| (frames(d), 0)),
            reported: false,
            chunk: Vec::with_capacity(CHUNK),
            tx,
        }
    }

    pub(crate) fn is_mono(&self) -> bool {
        self.mono.is_some()
    }

    /// Appends one tick's frames (silence for either channel that has none, and for both
    /// while paused). `true` once, when a mono recording's silence end is reached.
    pub(crate) fn push(&mut self, left: Option<&Frame>, right: &Frame) -> bool {
        let silence = [0i16; SAMPLES_PER_PACKET];
        let left = left.unwrap_or(&silence);
        match self.mono.as_mut() {
            Some((limit, quiet)) => {
                for l in left {
                    let l = if self.paused { 0 } else { *l };
                    self.chunk.extend_from_slice(&l.to_le_bytes());
                }
                let level = left.iter().map(|s| i32::from(*s).abs()).sum::<i32>()
                    / SAMPLES_PER_PACKET as i32;
                *quiet = if level < QUIET { *quiet + 1 } else { 0 };
                let ended = *quiet >= *limit && !self.reported;
                self.reported |= ended;
                self.flush_if_full();
                ended
            }
            None => {
                for (l, r) in left.iter().zip(right.iter()) {
                    let (l, r) = if self.paused { (0, 0) } else { (*l, *r) };
                    self.chunk.extend_from_slice(&l.to_le_bytes());
                    self.chunk.extend_from_slice(&r.to_le_bytes());
                }
                self.flush_if_full();
                false
            }
        }
    }

    fn flush_if_full(&mut self) {
        if self.chunk.len() >= CHUNK {
            let full = std::mem::replace(&mut self.chunk, Vec::with_capacity(CHUNK));
            let _ = self.tx.send(full);
        }
    }
}

impl Drop for Recorder {
    /// What is left goes to the writer, which then completes the file.
    fn drop(&mut self) {
        if !self.chunk.is_empty() {
            let _ = self.tx.send(std::mem::take(&mut self.chunk));
        }
    }
}

/// Writes the chunks as they come, then patches the header and renames the file.
async fn write(path: PathBuf, channels: u16, mut rx: mpsc::UnboundedReceiver<Vec<u8>>) {
    let part = path.with_extension("wav.part");
    let result = async {
        if let Some(dir) = path.parent() {
            tokio::fs::create_dir_all(dir).await?;
        }
        let mut file = tokio::fs::File::create(&part).await?;
        file.write_all(&wav::header_pcm16(channels, 0)).await?;
        let mut len: u64 = 0;
        while let Some(chunk) = rx.recv().await {
            file.write_all(&chunk).await?;
            len += chunk.len() as u64;
        }
        let data_len = u32::try_from(len).unwrap_or(u32::MAX);
        file.seek(std::io::SeekFrom::Start(0)).await?;
        file.write_all(&wav::header_pcm16(channels, data_len))
            .await?;
        file.sync_all().await?;
        drop(file);
        tokio::fs::rename(&part, &path).await?;
        Ok::<u64, std::io::Error>(len)
    }
    .await;
    match result {
        Ok(len) => tracing::info!(path = %path.display(), bytes = len, "recording written"),
        Err(e) => tracing::error!(path = %path.display(), error = %e, "recording lost"),
    }
}
