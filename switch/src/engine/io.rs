//! The engine's inputs and outputs: everything that enters or leaves a shard's call engine
//! is one of these values, so the engine can be driven, and checked, without sockets.

use crate::orders::{AcdOrder, Feature};
use crate::store::Cdr;
use media::graph::{MediaCommand, MediaEvent};
use serde::Serialize;
use sip::transaction::{Target, Transmit};
use sip::Message;

pub enum Input {
    /// One datagram or framed stream message from `source`.
    Bytes { data: Vec<u8>, source: Target },
    /// A message already parsed (forwarded by another shard).
    Message { msg: Message, source: Target },
    /// Time passed: run what is due at `now`.
    Tick,
    /// An order from the ACD for one of this shard's interactions or feature calls.
    Acd(AcdOrder),
    /// Place a call for an agent (preview dialer, click-to-call).
    Originate(Origination),
    /// The media plane's answer to an earlier [`Output::Media`].
    Media(MediaEvent),
    /// End every call (BYE, final answers, CANCEL) and take no new ones.
    Shutdown,
    /// The transports could not reach `target` (connection refused, TLS handshake failed,
    /// WebSocket client gone): requests waiting on it fail now, as 503.
    TransportFailed(Target),
}

#[derive(Debug)]
pub enum Output {
    Transmit(Transmit),
    Media(MediaCommand),
    /// An event for the ACD (arrivals, accepted/rejected offers, ends).
    Acd(acd::Event),
    /// Ask the ACD where an interaction waits (answered by [`AcdOrder::Queued`]).
    AskPosition {
        interaction: u64,
    },
    /// Ask the ACD to apply an agent's feature code (answered by
    /// [`AcdOrder::FeatureDone`]).
    Feature {
        call: u64,
        user: String,
        feature: Feature,
    },
    /// An event for desktops' and wallboards' stream.
    Publish(CallEvent),
    /// A live call changed (held, retrieved, transferred, a transfer failed): published
    /// on `/api/events` as `{"type":"call_changed","change","detail","agent","call"}` with
    /// the call's whole current view.
    CallChanged(CallChange),
    Cdr(Cdr),
    /// A call's recording ended: its index row, for the store.
    Recorded(crate::store::Recording),
    /// Progress of an originated call, for whoever asked for it.
    Report(OriginationEvent),
    /// A MESSAGE from a phone, for the IM service.
    Im(super::SipIm),
    /// A message for the shard that owns its dialog (a Replaces or Join naming a dialog of
    /// another shard, and everything after it in that Call-ID).
    Forward {
        shard: usize,
        msg: Message,
        source: Target,
    },
}

/// A call to place for an agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origination {
    /// Who asked (the dialer's agent id), for events.
    pub agent: String,
    /// The SIP user whose phone rings first.
    pub extension: String,
    /// What to dial once the agent answered: a user, or a number for a trunk.
    pub number: String,
    /// Shown to the contact as the caller; the agent's extension when empty.
    pub caller_id: String,
    /// The dialer's attempt id, echoed in every report.
    pub attempt: u64,
}

/// What happens to an originated call, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginationEvent {
    /// The agent's phone answered; the contact is being called.
    AgentAnswered { attempt: u64 },
    /// The contact answered: agent and contact are talking.
    Connected { attempt: u64 },
    /// One side put the other on hold (true) or took it off (false).
    Held { attempt: u64, held: bool },
    /// The call is over (or never happened) with this SIP status: 200 after a conversation,
    /// else why it failed (the agent's or the contact's final response, 404, 480, ...).
    Ended { attempt: u64, sip_status: u16 },
}

impl OriginationEvent {
    pub fn attempt(&self) -> u64 {
        match self {
            OriginationEvent::AgentAnswered { attempt }
            | OriginationEvent::Connected { attempt }
            | OriginationEvent::Held { attempt, .. }
            | OriginationEvent::Ended { attempt, .. } => *attempt,
        }
    }
}

/// Where an originated call stands, for the agent's event stream
/// (`{"type":"call","agent":..,"attempt":..,"number":..,"state":..}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallEvent {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub agent: String,
    pub attempt: u64,
    pub number: String,
    pub state: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sip_status: Option<u16>,
}

/// The version of the `call_changed` event schema.
pub const CALL_CHANGE_VERSION: u32 = 1;

/// What [`Output::CallChanged`] carries.
#[derive(Clone, Debug, Serialize)]
pub struct CallChange {
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// The event schema's version ([`CALL_CHANGE_VERSION`]): a client checks it and
    /// ignores fields it does not know.
    pub version: u32,
    /// What happened: `held`, `retrieved`, `transfer_started`, `transferred`,
    /// `transfer_failed`, `requeued`, `replaced`, `consult_*`, `conference_*`, `party_*`,
    /// `muted`, `unmuted`, `supervise_*`, `recording_*`, `voicemail` (README, "Events").
    pub change: &'static str,
    /// Why, for a failure (the target's SIP status line).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The ACD agent on the call, if any (so the agent's desktop sees it).
    pub agent: Option<String>,
    pub call: super::CallView,
}

/// Running totals of one engine, read by its shard for the metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    pub calls_started: u64,
    pub calls_answered: u64,
    pub calls_ended: u64,
    pub parse_errors: u64,
    pub rejected: u64,
    pub auth_failures: u64,
    pub transactions: sip::transaction::Stats,
}
