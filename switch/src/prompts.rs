//! The recorded prompts and music-on-hold shipped in `switch/prompts/` (8 kHz µ-law WAV),
//! decoded once at start-up, and the playlists built from them for queue announcements
//! and feature codes.

use media::{Playlist, Repeat};
use std::collections::HashMap;
use std::sync::Arc;

type Samples = Arc<[i16]>;

macro_rules! embedded {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_bytes!(concat!("../prompts/", $name, ".wav")))),*]
    };
}

const FILES: &[(&str, &[u8])] = embedded!(
    "welcome",
    "position",
    "in_queue",
    "wait_less_than_minute",
    "wait_about",
    "minutes",
    "one_minute",
    "agent_ready",
    "agent_not_ready",
    "agent_logged_out",
    "unknown_code",
    "moh",
    "num_1",
    "num_2",
    "num_3",
    "num_4",
    "num_5",
    "num_6",
    "num_7",
    "num_8",
    "num_9",
    "num_10",
    "num_11",
    "num_12",
    "num_13",
    "num_14",
    "num_15",
    "num_16",
    "num_17",
    "num_18",
    "num_19",
    "num_20",
    "num_30",
    "num_40",
    "num_50",
    "num_60",
    "num_many",
    "vm_greeting",
    "vm_pin",
    "vm_wrong_pin",
    "vm_you_have",
    "vm_new",
    "vm_saved",
    "vm_messages",
    "vm_no_messages",
    "vm_menu",
    "vm_deleted",
    "vm_kept",
    "vm_end",
    "vm_options_hint",
    "vm_options",
    "vm_greeting_record",
    "vm_greeting_saved",
    "vm_greeting_standard",
);

pub struct Prompts {
    by_name: HashMap<&'static str, Samples>,
}

impl Prompts {
    /// Decode every embedded prompt. A file that does not decode is a build defect, reported
    /// at start-up naming the file.
    pub fn load() -> Result<Prompts, String> {
        let mut by_name = HashMap::new();
        for (name, bytes) in FILES {
            let samples =
                media::wav::decode(bytes).map_err(|e| format!("prompt {name}.wav: {e}"))?;
            by_name.insert(*name, samples);
        }
        Ok(Prompts { by_name })
    }

    fn get(&self, name: &str) -> Samples {
        self.by_name
            .get(name)
            .cloned()
            .unwrap_or_else(|| Arc::from(Vec::new()))
    }

    /// Spoken number: 1-20 exactly, then tens (rounded down), then "more than sixty".
    fn number(&self, n: u64) -> Samples {
        let name = match n {
            0..=20 => format!("num_{}", n.max(1)),
            21..=69 => format!("num_{}", (n / 10 * 10).min(60)),
            _ => "num_many".to_string(),
        };
        self.get(&name)
    }

    /// What a caller hears while waiting: (welcome on arrival,) their position, the
    /// expected wait when known, then music until the next announcement.
    pub fn queue_announcement(
        &self,
        first: bool,
        position: usize,
        expected_wait_secs: Option<u64>,
    ) -> Playlist {
        let mut items = Vec::new();
        if first {
            items.push(self.get("welcome"));
        }
        items.push(self.get("position"));
        items.push(self.number(position as u64));
        items.push(self.get("in_queue"));
        match expected_wait_secs {
            Some(s) if s < 60 => items.push(self.get("wait_less_than_minute")),
            Some(s) => {
                let minutes = (s + 30) / 60;
                items.push(self.get("wait_about"));
                if minutes == 1 {
                    items.push(self.get("one_minute"));
                } else {
                    items.push(self.number(minutes));
                    items.push(self.get("minutes"));
                }
            }
            None => {}
        }
        items.push(self.get("moh"));
        Playlist {
            items,
            repeat: Repeat::LoopLast,
        }
    }

    /// Prompts played one after the other, once.
    pub fn sequence(&self, names: &[&str]) -> Playlist {
        Playlist {
            items: names.iter().map(|n| self.get(n)).collect(),
            repeat: Repeat::Once,
        }
    }

    /// The standard voicemail greeting, or the mailbox's own, then the beep.
    pub fn voicemail_greeting(&self, own: Option<Samples>) -> Playlist {
        self.then_beep(own.unwrap_or_else(|| self.get("vm_greeting")))
    }

    /// A prompt, then the beep after which the switch records.
    pub fn before_beep(&self, name: &str) -> Playlist {
        self.then_beep(self.get(name))
    }

    /// `words`, a short pause, the beep (a 1 kHz half second).
    fn then_beep(&self, words: Samples) -> Playlist {
        let beep: Samples =
            media::tone::sine(1000.0, std::time::Duration::from_millis(500), 8000).into();
        Playlist {
            items: vec![
                words,
                media::tone::silence(std::time::Duration::from_millis(300)).into(),
                beep,
            ],
            repeat: Repeat::Once,
        }
    }

    /// "You have N new messages" (or "no messages").
    pub fn voicemail_count(&self, new: usize, saved: usize) -> Playlist {
        if new + saved == 0 {
            return self.sequence(&["vm_no_messages"]);
        }
        let mut items = vec![self.get("vm_you_have")];
        if new > 0 {
            items.push(self.number(new as u64));
            items.push(self.get("vm_new"));
        } else {
            items.push(self.number(saved as u64));
            items.push(self.get("vm_saved"));
        }
        items.push(self.get("vm_messages"));
        Playlist {
            items,
            repeat: Repeat::Once,
        }
    }

    /// Music only (a caller waiting for an overflow target to answer).
    pub fn music(&self) -> Playlist {
        Playlist::looped(self.get("moh"))
    }

    /// The confirmation of a feature code: a tone, then the words.
    pub fn feature(&self, name: &str) -> Playlist {
        Playlist {
            items: vec![media::tone::confirmation(), self.get(name)],
            repeat: Repeat::Once,
        }
    }
}

/// How long a playlist takes to play once (for hanging up after a confirmation).
pub fn duration(p: &Playlist) -> std::time::Duration {
    let samples: usize = p.items.iter().map(|i| i.len()).sum();
    std::time::Duration::from_millis(samples as u64 / 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_prompt_decodes_and_playlists_are_built() {
        let p = Prompts::load().unwrap();
        assert!(p.by_name.values().all(|s| s.len() > 1000));
        let a = p.queue_announcement(true, 3, Some(150));
        assert_eq!(a.items.len(), 8);
        assert!(a.loops());
        assert_eq!(p.queue_announcement(false, 25, None).items.len(), 4);
        assert!(duration(&p.feature("agent_ready")) > std::time::Duration::from_millis(500));
    }
}
