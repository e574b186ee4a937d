//! Process-wide counters, exported at `/metrics` in the Prometheus text format. Atomics
//! only: shards bump them without coordination.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

#[derive(Default)]
pub struct Metrics {
    calls_active: AtomicU64,
    calls_total: AtomicU64,
    calls_answered: AtomicU64,
    transactions_server: AtomicU64,
    transactions_client: AtomicU64,
    retransmissions_sent: AtomicU64,
    retransmissions_absorbed: AtomicU64,
    transaction_timeouts: AtomicU64,
    stray_responses: AtomicU64,
    parse_errors: AtomicU64,
    rejected: AtomicU64,
    auth_failures: AtomicU64,
    messages_received: AtomicU64,
    messages_sent: AtomicU64,
    send_errors: AtomicU64,
    /// The listeners' admission gates, for their connection counters.
    gates: std::sync::Mutex<Vec<std::sync::Arc<crate::listener::Gate>>>,
}

impl Metrics {
    pub fn call_started(&self) {
        self.calls_active.fetch_add(1, Relaxed);
        self.calls_total.fetch_add(1, Relaxed);
    }

    pub fn call_answered(&self) {
        self.calls_answered.fetch_add(1, Relaxed);
    }

    pub fn call_ended(&self) {
        self.calls_active.fetch_sub(1, Relaxed);
    }

    pub fn inc_parse_error(&self) {
        self.parse_errors.fetch_add(1, Relaxed);
    }

    pub fn inc_rejected(&self) {
        self.rejected.fetch_add(1, Relaxed);
    }

    pub fn inc_auth_failure(&self) {
        self.auth_failures.fetch_add(1, Relaxed);
    }

    pub fn inc_received(&self) {
        self.messages_received.fetch_add(1, Relaxed);
    }

    pub fn inc_sent(&self) {
        self.messages_sent.fetch_add(1, Relaxed);
    }

    /// Exports `gate`'s counters, labelled with its name.
    pub fn add_gate(&self, gate: std::sync::Arc<crate::listener::Gate>) {
        if let Ok(mut g) = self.gates.lock() {
            g.push(gate);
        }
    }

    pub fn inc_send_error(&self) {
        self.send_errors.fetch_add(1, Relaxed);
    }

    pub fn calls_active(&self) -> u64 {
        self.calls_active.load(Relaxed)
    }

    pub fn calls_total(&self) -> u64 {
        self.calls_total.load(Relaxed)
    }

    /// Add what a shard's call engine counted since it last reported (`before`).
    pub fn add_engine_counters(
        &self,
        before: &crate::engine::Counters,
        now: &crate::engine::Counters,
    ) {
        let d = |a: u64, b: u64| b.saturating_sub(a);
        let add = |c: &AtomicU64, n: u64| {
            // Zero deltas stay off the shared cache line.
            if n > 0 {
                c.fetch_add(n, Relaxed);
            }
        };
        let started = d(before.calls_started, now.calls_started);
        let ended = d(before.calls_ended, now.calls_ended);
        add(&self.calls_total, started);
        add(&self.calls_active, started);
        if ended > 0 {
            self.calls_active.fetch_sub(ended, Relaxed);
        }
        add(
            &self.calls_answered,
            d(before.calls_answered, now.calls_answered),
        );
        add(&self.parse_errors, d(before.parse_errors, now.parse_errors));
        add(&self.rejected, d(before.rejected, now.rejected));
        add(
            &self.auth_failures,
            d(before.auth_failures, now.auth_failures),
        );
        if before.transactions != now.transactions {
            self.add_transaction_stats(&before.transactions, &now.transactions);
        }
    }

    /// Add what a shard's transaction layer counted since it last reported.
    pub fn add_transaction_stats(
        &self,
        before: &sip::transaction::Stats,
        now: &sip::transaction::Stats,
    ) {
        let d = |a: u64, b: u64| b.saturating_sub(a);
        self.transactions_server
            .fetch_add(d(before.server_created, now.server_created), Relaxed);
        self.transactions_client
            .fetch_add(d(before.client_created, now.client_created), Relaxed);
        self.retransmissions_sent.fetch_add(
            d(before.retransmissions_sent, now.retransmissions_sent),
            Relaxed,
        );
        self.retransmissions_absorbed.fetch_add(
            d(
                before.retransmissions_absorbed,
                now.retransmissions_absorbed,
            ),
            Relaxed,
        );
        self.transaction_timeouts
            .fetch_add(d(before.timeouts, now.timeouts), Relaxed);
        self.stray_responses
            .fetch_add(d(before.stray_responses, now.stray_responses), Relaxed);
        self.rejected.fetch_add(
            d(before.rejected_stateless, now.rejected_stateless),
            Relaxed,
        );
    }

    /// Render in the Prometheus text exposition format, with the media engine's totals.
    pub fn render(&self, media: &media::Totals, registrations: usize) -> String {
        let mut out = String::with_capacity(2048);
        let mut metric = |name: &str, kind: &str, help: &str, value: u64| {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            let _ = writeln!(out, "{name} {value}");
        };
        let g = |a: &AtomicU64| a.load(Relaxed);
        metric(
            "switch_calls_active",
            "gauge",
            "Calls in progress.",
            g(&self.calls_active),
        );
        metric(
            "switch_calls_total",
            "counter",
            "Calls started.",
            g(&self.calls_total),
        );
        metric(
            "switch_calls_answered_total",
            "counter",
            "Calls answered.",
            g(&self.calls_answered),
        );
        metric(
            "switch_sip_transactions_server_total",
            "counter",
            "Server transactions created.",
            g(&self.transactions_server),
        );
        metric(
            "switch_sip_transactions_client_total",
            "counter",
            "Client transactions created.",
            g(&self.transactions_client),
        );
        metric(
            "switch_sip_retransmissions_sent_total",
            "counter",
            "Requests and responses retransmitted.",
            g(&self.retransmissions_sent),
        );
        metric(
            "switch_sip_retransmissions_absorbed_total",
            "counter",
            "Retransmissions received and absorbed.",
            g(&self.retransmissions_absorbed),
        );
        metric(
            "switch_sip_transaction_timeouts_total",
            "counter",
            "Transactions that timed out.",
            g(&self.transaction_timeouts),
        );
        metric(
            "switch_sip_stray_responses_total",
            "counter",
            "Responses matching no transaction.",
            g(&self.stray_responses),
        );
        metric(
            "switch_sip_parse_errors_total",
            "counter",
            "Messages that did not parse.",
            g(&self.parse_errors),
        );
        metric(
            "switch_sip_auth_failures_total",
            "counter",
            "Failed digest authentications.",
            g(&self.auth_failures),
        );
        metric(
            "switch_sip_messages_received_total",
            "counter",
            "SIP messages received.",
            g(&self.messages_received),
        );
        metric(
            "switch_sip_messages_sent_total",
            "counter",
            "SIP messages sent.",
            g(&self.messages_sent),
        );
        metric(
            "switch_sip_send_errors_total",
            "counter",
            "SIP messages that could not be sent.",
            g(&self.send_errors),
        );
        metric(
            "switch_registrations",
            "gauge",
            "Live registered and static contacts.",
            registrations as u64,
        );
        metric(
            "switch_rtp_packets_relayed_total",
            "counter",
            "RTP and RTCP packets relayed.",
            media.packets_relayed,
        );
        metric(
            "switch_rtp_bytes_relayed_total",
            "counter",
            "RTP and RTCP bytes relayed.",
            media.bytes_relayed,
        );
        metric(
            "switch_rtp_packets_dropped_total",
            "counter",
            "RTP packets dropped (no peer yet).",
            media.dropped,
        );
        metric(
            "switch_srtp_packets_unprotected_total",
            "counter",
            "SRTP and SRTCP packets received and decrypted (SDES legs).",
            media.srtp_unprotected,
        );
        metric(
            "switch_srtp_packets_protected_total",
            "counter",
            "SRTP and SRTCP packets encrypted and sent (SDES legs).",
            media.srtp_protected,
        );
        metric(
            "switch_srtp_auth_failures_total",
            "counter",
            "SRTP and SRTCP packets dropped: failed authentication, replays.",
            media.srtp_auth_failures,
        );
        metric(
            "switch_media_sessions_active",
            "gauge",
            "Media sessions open.",
            media.sessions_active,
        );
        metric(
            "switch_media_sessions_total",
            "counter",
            "Media sessions opened.",
            media.sessions_total,
        );
        metric(
            "switch_media_warm_ports",
            "gauge",
            "Free RTP ports whose sockets stay bound for their next call (closed after 30 s idle).",
            media.warm_ports,
        );
        self.render_gates(&mut out);
        out
    }

    fn render_gates(&self, out: &mut String) {
        let Ok(gates) = self.gates.lock() else {
            return;
        };
        let families: [(&str, &str, &str); 4] = [
            ("switch_listener_connections", "gauge", "Connections open."),
            (
                "switch_listener_refused_total",
                "counter",
                "Connections closed at once: a connection cap was reached.",
            ),
            (
                "switch_listener_accept_errors_total",
                "counter",
                "Failed accepts (out of file descriptors, most often).",
            ),
            (
                "switch_listener_timeouts_total",
                "counter",
                "Connections closed for idling or a message too slow to arrive.",
            ),
        ];
        for (i, (name, kind, help)) in families.iter().enumerate() {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} {kind}");
            for g in gates.iter() {
                let s = &g.stats;
                let v = [&s.open, &s.refused, &s.accept_errors, &s.timeouts][i].load(Relaxed);
                let _ = writeln!(out, "{name}{{listener=\"{}\"}} {v}", g.name());
            }
        }
    }
}
