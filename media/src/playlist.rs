//! What a player plays: prompts in order, and what happens at the end.
//!
//! A caller waiting in a queue hears, say, "all our agents are busy" once and then music
//! forever ([`Repeat::LoopLast`]); a periodic announcement between music is the queue's job,
//! which stops the player and starts another. Items are played back to back with no gap and
//! no padding between them (a prompt cut into several files sounds continuous); only the last
//! packet of a playlist that ends is padded with silence.

use std::fmt;
use std::sync::Arc;

/// What to do after the last item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Repeat {
    /// Play every item once, then finish.
    Once,
    /// Play every item once, then the last one again and again (announcement, then music).
    LoopLast,
    /// Play the whole list again and again.
    LoopAll,
}

/// Samples to play (8 kHz linear, shared: one decoded music file serves every caller on hold)
/// and the repeat rule.
#[derive(Clone)]
pub struct Playlist {
    /// The items, in order. Empty items are skipped.
    pub items: Vec<Arc<[i16]>>,
    /// What happens after the last item.
    pub repeat: Repeat,
}

impl Playlist {
    /// One item, played once (a prompt, a confirmation tone).
    pub fn once(item: Arc<[i16]>) -> Playlist {
        Playlist {
            items: vec![item],
            repeat: Repeat::Once,
        }
    }

    /// One item, looped (music-on-hold).
    pub fn looped(item: Arc<[i16]>) -> Playlist {
        Playlist {
            items: vec![item],
            repeat: Repeat::LoopAll,
        }
    }

    /// Whether the playlist never finishes by itself.
    pub fn loops(&self) -> bool {
        self.repeat != Repeat::Once
    }
}

/// Lists item lengths, not the samples: a music file is millions of them.
impl fmt::Debug for Playlist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lengths: Vec<usize> = self.items.iter().map(|i| i.len()).collect();
        f.debug_struct("Playlist")
            .field("item_samples", &lengths)
            .field("repeat", &self.repeat)
            .finish()
    }
}

/// The read position in a playlist. (No `Debug`: it would print every sample.)
pub(crate) struct Cursor {
    /// Non-empty items only, so that every step of a walk makes progress.
    items: Vec<Arc<[i16]>>,
    repeat: Repeat,
    /// Current item; `items.len()` once a [`Repeat::Once`] list is exhausted.
    item: usize,
    /// Next sample within the current item.
    offset: usize,
}

/// What [`Cursor::fill`] put in a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Filled {
    /// Some item started within the packet.
    pub(crate) item_started: bool,
}

impl Cursor {
    pub(crate) fn new(playlist: Playlist) -> Cursor {
        let Playlist { mut items, repeat } = playlist;
        items.retain(|item| !item.is_empty());
        Cursor {
            items,
            repeat,
            item: 0,
            offset: 0,
        }
    }

    /// Whether a [`Repeat::Once`] list has been played to its end. A looping list is never
    /// exhausted (one without samples loops silence).
    pub(crate) fn is_exhausted(&self) -> bool {
        self.item >= self.items.len() && self.repeat == Repeat::Once
    }

    /// Where the loop restarts once the list is through, or `None` when it does not.
    fn loop_start(&self) -> Option<usize> {
        match self.repeat {
            Repeat::Once => None,
            Repeat::LoopAll => Some(0),
            Repeat::LoopLast => self.items.len().checked_sub(1),
        }
    }

    /// Wraps to the loop start when past the last item. Returns false when there is nothing
    /// more to read (list exhausted, or a loop without samples).
    fn wrap(&mut self) -> bool {
        if self.item < self.items.len() {
            return true;
        }
        match self.loop_start() {
            Some(start) => {
                self.item = start;
                self.offset = 0;
                true
            }
            None => false,
        }
    }

    /// Fills `out` with the next samples, silence where the list has none left.
    pub(crate) fn fill(&mut self, out: &mut [i16]) -> Filled {
        let mut filled = 0;
        let mut item_started = false;
        while filled < out.len() && self.wrap() {
            let Some(item) = self.items.get(self.item) else {
                break;
            };
            item_started |= self.offset == 0;
            let available = item.get(self.offset..).unwrap_or_default();
            let n = available.len().min(out.len() - filled);
            out[filled..filled + n].copy_from_slice(&available[..n]);
            filled += n;
            self.offset += n;
            if self.offset >= item.len() {
                self.item += 1;
                self.offset = 0;
            }
        }
        out[filled..].fill(0);
        Filled { item_started }
    }

    /// Moves `samples` forward without reading them (a late caller skipping ahead).
    pub(crate) fn skip(&mut self, mut samples: u64) {
        while samples > 0 && self.wrap() {
            // A whole number of loops changes nothing: skip them at once, so a long stall
            // costs no more than one pass over the items.
            if let Some(start) = self.loop_start() {
                if self.item == start && self.offset == 0 {
                    let loop_len: u64 = self.items[start..].iter().map(|i| i.len() as u64).sum();
                    if loop_len > 0 {
                        samples %= loop_len;
                        if samples == 0 {
                            return;
                        }
                    }
                }
            }
            let Some(item) = self.items.get(self.item) else {
                return;
            };
            let left = (item.len() - self.offset) as u64;
            if samples < left {
                // samples < left <= usize::MAX here.
                self.offset += samples as usize;
                return;
            }
            samples -= left;
            self.item += 1;
            self.offset = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(samples: &[i16]) -> Arc<[i16]> {
        samples.into()
    }

    fn read(cursor: &mut Cursor, n: usize) -> (Vec<i16>, bool) {
        let mut out = vec![-1; n];
        let filled = cursor.fill(&mut out);
        (out, filled.item_started)
    }

    #[test]
    fn once_plays_items_back_to_back_then_pads() {
        let mut c = Cursor::new(Playlist {
            items: vec![item(&[1, 2, 3]), item(&[]), item(&[4, 5])],
            repeat: Repeat::Once,
        });
        assert_eq!(read(&mut c, 2), (vec![1, 2], true));
        assert_eq!(read(&mut c, 2), (vec![3, 4], true));
        assert!(!c.is_exhausted());
        assert_eq!(read(&mut c, 2), (vec![5, 0], false));
        assert!(c.is_exhausted());
        assert_eq!(read(&mut c, 2), (vec![0, 0], false));
    }

    #[test]
    fn loop_all_and_loop_last() {
        let items = vec![item(&[1, 2]), item(&[3])];
        let mut all = Cursor::new(Playlist {
            items: items.clone(),
            repeat: Repeat::LoopAll,
        });
        assert_eq!(read(&mut all, 5).0, vec![1, 2, 3, 1, 2]);
        assert!(!all.is_exhausted());
        let mut last = Cursor::new(Playlist {
            items,
            repeat: Repeat::LoopLast,
        });
        assert_eq!(read(&mut last, 5).0, vec![1, 2, 3, 3, 3]);
    }

    #[test]
    fn empty_lists() {
        let mut once = Cursor::new(Playlist {
            items: vec![item(&[])],
            repeat: Repeat::Once,
        });
        assert!(once.is_exhausted());
        let mut looped = Cursor::new(Playlist {
            items: vec![],
            repeat: Repeat::LoopAll,
        });
        assert_eq!(read(&mut looped, 3), (vec![0, 0, 0], false));
        assert!(!looped.is_exhausted());
        looped.skip(1_000_000);
        assert_eq!(read(&mut once, 1).0, vec![0]);
    }

    #[test]
    fn skip_matches_reading() {
        let items = vec![item(&[1, 2, 3]), item(&[4, 5]), item(&[6, 7, 8, 9])];
        for repeat in [Repeat::Once, Repeat::LoopAll, Repeat::LoopLast] {
            for n in 0..40 {
                let playlist = Playlist {
                    items: items.clone(),
                    repeat,
                };
                let mut skipped = Cursor::new(playlist.clone());
                let mut reader = Cursor::new(playlist);
                skipped.skip(n);
                read(&mut reader, n as usize);
                assert_eq!(
                    read(&mut skipped, 7).0,
                    read(&mut reader, 7).0,
                    "{repeat:?} skip {n}"
                );
            }
        }
    }

    #[test]
    fn a_huge_skip_is_cheap() {
        let mut c = Cursor::new(Playlist {
            items: vec![item(&[1]), item(&[2, 3])],
            repeat: Repeat::LoopAll,
        });
        c.skip(u64::MAX); // u64::MAX % 3 == 0
        assert_eq!(read(&mut c, 3).0, vec![1, 2, 3]);
    }
}
