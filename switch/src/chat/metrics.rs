//! The chat channel's counters, appended to `/metrics` (Prometheus text format).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

#[derive(Default)]
pub struct ChatMetrics {
    started: AtomicU64,
    active: AtomicU64,
    accepted: AtomicU64,
    messages: AtomicU64,
    refused: AtomicU64,
    masked: AtomicU64,
}

impl ChatMetrics {
    pub(super) fn started(&self) {
        self.started.fetch_add(1, Relaxed);
        self.active.fetch_add(1, Relaxed);
    }

    /// A chat left the service's hands (ended and wrapped up, abandoned, refused).
    pub(super) fn finished(&self) {
        let _ = self
            .active
            .fetch_update(Relaxed, Relaxed, |n| Some(n.saturating_sub(1)));
    }

    pub(super) fn accepted(&self) {
        self.accepted.fetch_add(1, Relaxed);
    }

    /// A customer's or agent's line stored and shown; `masked` when it held a card number.
    pub(super) fn message(&self, masked: bool) {
        self.messages.fetch_add(1, Relaxed);
        if masked {
            self.masked.fetch_add(1, Relaxed);
        }
    }

    pub(super) fn refused(&self) {
        self.refused.fetch_add(1, Relaxed);
    }

    pub fn render(&self, out: &mut String) {
        let rows: [(&str, &str, &str, &AtomicU64); 6] = [
            (
                "switch_chats_total",
                "counter",
                "Web chats started.",
                &self.started,
            ),
            (
                "switch_chats_open",
                "gauge",
                "Web chats waiting, in progress or waiting for their wrap-up.",
                &self.active,
            ),
            (
                "switch_chats_accepted_total",
                "counter",
                "Web chats accepted by an agent.",
                &self.accepted,
            ),
            (
                "switch_chat_messages_total",
                "counter",
                "Chat messages stored and delivered (customers' and agents').",
                &self.messages,
            ),
            (
                "switch_chat_messages_refused_total",
                "counter",
                "Chat messages refused (too long, empty, a card number under the drop policy).",
                &self.refused,
            ),
            (
                "switch_chat_cards_masked_total",
                "counter",
                "Chat messages whose card numbers were masked.",
                &self.masked,
            ),
        ];
        for (name, kind, help, value) in rows {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            let _ = writeln!(out, "{name} {}", value.load(Relaxed));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_counter() {
        let m = ChatMetrics::default();
        m.started();
        m.message(true);
        m.finished();
        m.finished();
        let mut out = String::new();
        m.render(&mut out);
        assert!(out.contains("switch_chats_total 1\n"), "{out}");
        assert!(out.contains("switch_chats_open 0\n"), "{out}");
        assert!(out.contains("switch_chat_cards_masked_total 1\n"), "{out}");
    }
}
