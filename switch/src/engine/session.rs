//! A call as the engine holds it: a **session** of **legs** (one per SIP dialog, or per
//! INVITE of ours still ringing) and the **bridges** that join their media, with the case
//! data its CDR and events need. See "The call model" in DESIGN.md.

use super::dialog::Dialog;
use crate::records::{Cause, HangupSide};
use media::graph::{RelayId, Side};
use serde::Serialize;
use sip::transaction::{Target, TxId};
use sip::Request;
use std::time::Instant;

/// A leg's index in its session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LegId(pub usize);

/// Why a leg exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The caller's INVITE made it (the switch is UAS).
    Caller,
    /// Our INVITE to the called user, a trunk, a queue's agent or an overflow target.
    Callee,
    /// Our INVITE to the agent's phone of an originated call (rung first).
    Agent,
}

/// Where a leg's INVITE stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LegState {
    /// The peer's INVITE is not answered yet (the switch is UAS): an early dialog.
    Offered,
    /// Our INVITE is ringing.
    Ringing,
    /// We CANCELled our INVITE (another leg won, the offer was withdrawn, the call ended)
    /// and wait for its final answer.
    Cancelling,
    /// Our INVITE failed with this status.
    Failed { code: u16 },
    /// The dialog is confirmed (2xx sent or received).
    Confirmed,
}

/// A leg's SDP offer/answer state (RFC 3264) at the INVITE level.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Negotiation {
    /// Nothing outstanding.
    Stable,
    /// The caller's INVITE carried no offer: the offer goes in our 2xx, the answer comes in
    /// its ACK.
    OfferInAnswer,
    /// This leg's 2xx carried an offer its peer asked for (a late offer, an INVITE without
    /// SDP): our ACK to it must carry the answer, which the other leg's ACK brings.
    /// `client`: the re-INVITE's client transaction (`None` for the initial INVITE).
    AckAwaitsAnswer { cseq: u32, client: Option<TxId> },
}

pub struct Leg {
    pub role: Role,
    pub state: LegState,
    /// The INVITE that made the leg: the caller's, or ours.
    pub invite: Request,
    /// Where the INVITE went (ours) or came from (the caller's).
    pub target: Target,
    /// Our INVITE's client transaction.
    pub tx: Option<TxId>,
    /// The dialog, once there is one (at once for the caller's leg).
    pub dialog: Option<Dialog>,
    pub negotiation: Negotiation,
    /// Our ACK of this leg's 2xx, repeated when the 2xx is.
    pub ack: Option<(Vec<u8>, Target)>,
    /// The ACD agent this leg offers the call to.
    pub agent: Option<acd::AgentId>,
    /// Whether this leg is on hold, and by whom.
    pub hold: Hold,
    /// The relay endpoint facing this leg.
    pub endpoint: Side,
}

/// A leg's hold.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Hold {
    #[default]
    Off,
    /// Its phone put the call on hold (a sendonly / inactive re-offer): the switch
    /// answered it, and the peer leg hears music until the phone offers sendrecv again.
    Holding,
    /// The switch holds it (REST): it hears music, its peer silence.
    Held,
}

impl Leg {
    /// The relay endpoint a leg of this role starts on: the first party's (caller or
    /// agent) is A, a callee's B; consulted and added parties get endpoints of their own.
    pub fn first_side(role: Role) -> Side {
        match role {
            Role::Caller | Role::Agent => Side::A,
            Role::Callee => Side::B,
        }
    }

    /// The relay endpoint this leg's media uses.
    pub fn side(&self) -> Side {
        self.endpoint
    }

    /// Still waiting for the final answer to our INVITE.
    pub fn pending(&self) -> bool {
        matches!(self.state, LegState::Ringing | LegState::Cancelling)
    }

    pub fn failed_code(&self) -> Option<u16> {
        match self.state {
            LegState::Failed { code } => Some(code),
            _ => None,
        }
    }
}

/// What joins the legs' media.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Bridge {
    /// Two legs' media copied packet for packet (the fast path).
    Relay { legs: [usize; 2] },
    /// A player into one leg (music, announcements, ringback, a confirmation); that leg
    /// hears only it.
    Player { leg: usize, playing: Prompt },
    /// A conference: each leg hears the sum of the others but the `muted`.
    Mixer { legs: Vec<usize>, muted: Vec<usize> },
}

/// What a player plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Prompt {
    Music,
    Announcement,
    Ringback,
    Confirmation,
    /// Silence: a leg whose peer the switch holds hears nothing of it.
    Silence,
}

/// Where the session is. Each variant carries what only that state has.
#[derive(Clone, Debug)]
pub enum Phase {
    /// The relay's ports are being bound; the call goes on to `next` once they are.
    Anchoring { next: Plan },
    /// The caller's INVITE rings the callee's phones. `early`: a 1xx went to the caller;
    /// `early_media`: one of them carried the callee's SDP.
    Ringing { early: bool, early_media: bool },
    /// The ACD has the caller's interaction; the caller is not answered yet.
    Entering { interaction: u64 },
    /// Answered by the switch, waiting in a queue; `announced`: the welcome has played.
    Queued { interaction: u64, announced: bool },
    /// A queue's overflow target (a user or a number) rings; the caller hears music.
    Overflowing,
    /// An agent dialled a feature code: answered, the ACD's verdict and its confirmation.
    Feature,
    /// An originated call: the agent's phones ring.
    CallingAgent,
    /// The agent answered; the contact rings. `early_media`: the contact's own early media
    /// replaced our ringback.
    CallingContact { early_media: bool },
    /// Two legs talk: the first party (caller or agent) and `callee`.
    Bridged {
        callee: LegId,
        interaction: Option<u64>,
    },
    /// The callee asked (REFER) to hand the first party to `target`, a new leg ringing
    /// meanwhile; the first party hears music. `referrer_gone`: the callee has already hung
    /// up (a blind transfer's usual BYE), so a failed target cannot give the call back.
    Transferring {
        referrer: LegId,
        target: LegId,
        interaction: Option<u64>,
        referrer_gone: bool,
        /// The referrer's phone asked (REFER): it is told the progress in NOTIFYs.
        notify: bool,
    },
    /// The agent consults a third party while the customer hears music.
    Consulting(Consult),
    /// Every member hears the mix of the others.
    Conference(Conference),
    /// Answered by the switch for a mailbox: a message left, or messages heard.
    Voicemail(super::voicemail::Vm),
    /// Over; the engine forgets it and writes its CDR.
    Ended(End),
}

/// A party being rung from an endpoint of its own: a consultation's, or one added to a
/// conference.
#[derive(Clone, Debug)]
pub struct Dialing {
    pub endpoint: Side,
    pub target: String,
    /// Its leg, once the endpoint is bound and the INVITE sent.
    pub leg: Option<LegId>,
}

/// A consultation: `agent` talks to the consulted party (`dialing`), or to `customer`
/// again while alternating (`with_customer`; then the consulted party hears music).
#[derive(Clone, Debug)]
pub struct Consult {
    pub agent: LegId,
    pub customer: LegId,
    pub dialing: Dialing,
    pub with_customer: bool,
    pub interaction: Option<u64>,
}

/// A conference of `members` (in leg order); the `muted` are heard by none.
#[derive(Clone, Debug)]
pub struct Conference {
    pub members: Vec<LegId>,
    pub muted: Vec<LegId>,
    /// A party being added.
    pub adding: Option<Dialing>,
    pub interaction: Option<u64>,
}

/// What to do once the relay is bound.
#[derive(Clone, Debug)]
pub enum Plan {
    /// Fork to these contacts.
    Call(Vec<crate::registrar::Binding>),
    Queue,
    Feature(crate::orders::Feature),
    /// Straight to this user's voicemail (the user is not registered).
    Voicemail(String),
    /// The caller's own mailbox (`*97`).
    Mailbox,
    /// Ring the agent's phones of an originated call.
    Originate {
        phones: Vec<crate::registrar::Binding>,
        call_id: String,
    },
}

/// How a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct End {
    pub cause: Cause,
    pub side: HangupSide,
    pub status: u16,
}

/// The relay anchoring the session's media, once bound.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Anchor {
    pub ip: std::net::IpAddr,
    /// The RTP port of each endpoint, by [`Side`]: A and B from the start, then those
    /// added for consultations and conferences (0 while one is being bound).
    pub ports: Vec<u16>,
}

impl Anchor {
    pub fn port(&self, side: Side) -> u16 {
        self.ports.get(side.0 as usize).copied().unwrap_or(0)
    }
}

/// An originated call's own data.
#[derive(Clone, Debug)]
pub struct Outbound {
    pub agent: String,
    pub attempt: u64,
    pub number: String,
    pub caller_id: String,
    /// Where the contact leg goes once the agent answered.
    pub route: Vec<crate::registrar::Binding>,
}

/// RFC 4028 interval agreed with the caller (the caller refreshes; we police it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionTimer {
    pub interval: u32,
    pub deadline: Option<Instant>,
}

pub struct Session {
    pub id: u64,
    pub phase: Phase,
    /// `legs[0]` is the first party: the caller, or for an originated call the agent's
    /// phone that answered (until then, the first agent fork).
    pub legs: Vec<Leg>,
    pub bridges: Vec<Bridge>,
    pub anchor: Option<Anchor>,
    /// The caller's INVITE server transaction (`None` for originated calls).
    pub invite_tx: Option<TxId>,
    /// The Call-ID of our legs (the callee's, or every leg of an originated call).
    pub our_call_id: String,
    /// Our From tags on our legs: one per offer round, so a re-offer to the same phone is a
    /// new request and not a merged one (RFC 3261 §8.2.2.2).
    pub our_tags: Vec<String>,
    pub from_uri: String,
    pub to_uri: String,
    pub from_user: String,
    pub to_user: String,
    pub from_display: String,
    pub started: Instant,
    pub start_ms: i64,
    pub answered: Option<(Instant, i64)>,
    /// Client transactions of this session (forks, relayed requests, BYEs).
    pub txs: Vec<TxId>,
    pub timer: Option<SessionTimer>,
    /// The SDP we last sent the first party, to answer its body-less refreshes locally.
    pub sdp_to_a: Vec<u8>,
    /// The call's G.711 codec, for what the switch plays into it: agreed with the first
    /// party when the switch answers it, else the callee's answer's (set when it
    /// answers). `None`: not G.711, so nothing is played (silence, not a wrong codec).
    pub codec: Option<media::Codec>,
    pub outbound: Option<Outbound>,
    /// A supervisor listening, whispering or barged in on a two-party call.
    pub supervisor: Option<Supervision>,
    /// The call's recording in progress.
    pub recording: Option<super::recording::Recorded>,
    /// A voicemail message being recorded.
    pub deposit: Option<super::voicemail::Deposit>,
    /// The CDRs written so far for this call (one per leg pair handed on), and when the
    /// current pair began (the call's start for the first).
    pub cdr_seq: i32,
    pub pair_start: Option<(Instant, i64)>,
    /// The session id, kept once the first party's leg has been replaced (RFC 3891) or
    /// has given the first seat to the contact of a call the switch placed.
    pub origin: Option<String>,
    /// The queue records this call once its agent answers.
    pub record_on_answer: bool,
    /// What the call counts against (`user:ID`, `trunk:NAME`: [`crate::edge::Edge`]),
    /// given back when it ends.
    pub holds: Vec<String>,
    /// The endpoints facing browsers (WebRTC legs).
    pub webrtc: super::webrtc::WebRtcSides,
}

/// How a supervisor takes part in an agent's call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SuperviseMode {
    /// Hears both parties; neither hears them.
    Listen,
    /// Hears both; the agent hears them too, the customer does not.
    Whisper,
    /// All three hear each other.
    Barge,
}

/// A supervisor on the call: their phone rung from an endpoint of its own, then joined.
#[derive(Clone, Debug)]
pub struct Supervision {
    pub mode: SuperviseMode,
    pub dialing: Dialing,
    /// The supervisor's own INVITE (from their phone: `*55` + the extension), until the
    /// switch answers it.
    pub incoming: Option<sip::transaction::TxId>,
    /// The supervised agent's leg where it is the caller's (an agent who called out from
    /// their phone), not the callee's as [`super::Cx::parties`] has it.
    pub agent: Option<LegId>,
}

impl Session {
    /// What every CDR of the call shares: its first party's Call-ID as it began (the
    /// caller's, or our INVITE to the agent of a call the switch placed).
    pub fn session_id(&self) -> String {
        if let Some(origin) = &self.origin {
            return origin.clone();
        }
        match self.legs.first() {
            Some(l) => l
                .invite
                .headers
                .call_id()
                .map_or_else(|| self.our_call_id.clone(), str::to_string),
            None => self.our_call_id.clone(),
        }
    }

    /// The relay anchoring the session's media: one per session, named by its id.
    pub fn relay(&self) -> RelayId {
        RelayId(self.id)
    }

    pub fn leg(&self, id: LegId) -> &Leg {
        &self.legs[id.0]
    }

    pub fn leg_mut(&mut self, id: LegId) -> &mut Leg {
        &mut self.legs[id.0]
    }

    /// The first party's dialog (the caller's, or the answered agent's).
    pub fn a(&self) -> Option<&Dialog> {
        self.legs.first().and_then(|l| l.dialog.as_ref())
    }

    /// The caller's INVITE (or our first INVITE to the agent).
    pub fn a_invite(&self) -> Option<&Request> {
        self.legs.first().map(|l| &l.invite)
    }

    /// The leg bridged to the first party.
    pub fn callee(&self) -> Option<LegId> {
        match self.phase {
            Phase::Bridged { callee, .. } => Some(callee),
            Phase::Transferring { referrer, .. } => Some(referrer),
            _ => None,
        }
    }

    /// The ACD interaction this session is.
    pub fn interaction(&self) -> Option<u64> {
        match self.phase {
            Phase::Entering { interaction } | Phase::Queued { interaction, .. } => {
                Some(interaction)
            }
            Phase::Bridged { interaction, .. } | Phase::Transferring { interaction, .. } => {
                interaction
            }
            Phase::Consulting(ref c) => c.interaction,
            Phase::Conference(ref c) => c.interaction,
            _ => None,
        }
    }

    /// The switch answered the first party itself (queue, feature code, overflow, the
    /// agent of an originated call): a callee's answer bridges without a 200 to it.
    pub fn answered_locally(&self) -> bool {
        matches!(
            self.phase,
            Phase::Queued { .. }
                | Phase::Overflowing
                | Phase::Feature
                | Phase::CallingContact { .. }
                | Phase::Voicemail(_)
        )
    }

    /// The confirmed leg whose dialog this request from a peer belongs to.
    pub fn leg_of(&self, call_id: &str, our_tag: &str, their_tag: &str) -> Option<LegId> {
        self.legs
            .iter()
            .position(|l| {
                l.dialog.as_ref().is_some_and(|d| {
                    d.call_id == call_id
                        && d.local_tag == our_tag
                        && (d.remote_tag == their_tag || d.remote_tag.is_empty())
                })
            })
            .map(LegId)
    }

    /// The relay endpoint facing the first party: A, but B for the contact of a call the
    /// switch placed once it took the first seat (see [`super::placed`]).
    pub fn first_side(&self) -> Side {
        self.legs.first().map_or(Side::A, Leg::side)
    }

    /// Where a callee of the first party rings: the other of the first two endpoints.
    pub fn callee_side(&self) -> Side {
        match self.first_side() {
            Side::B => Side::A,
            _ => Side::B,
        }
    }

    /// The leg on the other end of the relay from `leg` (the caller's callee and back).
    pub fn peer_of(&self, leg: LegId) -> Option<LegId> {
        let callee = self.callee()?;
        if leg == callee {
            Some(LegId(0))
        } else if leg == LegId(0) {
            Some(callee)
        } else {
            None
        }
    }

    /// Legs still waiting for the final answer to our INVITE.
    pub fn pending_legs(&self) -> impl Iterator<Item = LegId> + '_ {
        self.legs
            .iter()
            .enumerate()
            .filter(|(_, l)| l.pending())
            .map(|(i, _)| LegId(i))
    }

    /// The call's id in the call list and for call control: the first party's Call-ID as
    /// the call began (the caller's, or that of our INVITE to the agent of a call the
    /// switch placed), kept when that leg is replaced or hands the first seat on.
    pub fn call_id(&self) -> &str {
        if let Some(origin) = &self.origin {
            return origin;
        }
        match self.legs.first() {
            Some(l) if l.role == Role::Caller => l
                .dialog
                .as_ref()
                .map_or(self.our_call_id.as_str(), |d| d.call_id.as_str()),
            Some(l) => l.invite.headers.call_id().unwrap_or_default(),
            None => &self.our_call_id,
        }
    }

    /// The legs a call view lists, in the order REST names them (`legs/{n}`): in a
    /// two-party call the first party then the other; in a consultation every live leg
    /// in leg order, the consulted last; in a conference its members in leg order, a party
    /// being added last.
    pub fn listed_legs(&self) -> Vec<LegId> {
        match &self.phase {
            Phase::Consulting(c) => {
                let mut legs = vec![c.customer, c.agent];
                legs.sort();
                legs.extend(c.dialing.leg);
                legs
            }
            Phase::Conference(c) => {
                let mut legs = c.members.clone();
                legs.extend(c.adding.as_ref().and_then(|d| d.leg));
                legs
            }
            _ => {
                let mut legs = Vec::new();
                if let Some(first) = self.legs.first() {
                    if first.role == Role::Caller || first.state == LegState::Confirmed {
                        legs.push(LegId(0));
                    }
                }
                legs.extend(self.callee());
                legs.extend(self.supervisor.as_ref().and_then(|x| x.dialing.leg));
                legs
            }
        }
    }

    /// The ACD agent on the call: of a listed (talking) leg, else of a leg ringing with
    /// an offer, else the one who placed an originated call.
    fn agent_on_call(&self) -> Option<String> {
        let name = |l: &Leg| l.agent.as_ref().map(|a| a.as_str().to_string());
        self.listed_legs()
            .iter()
            .map(|l| self.leg(*l))
            .filter(|l| l.state == LegState::Confirmed)
            .find_map(name)
            .or_else(|| {
                self.legs
                    .iter()
                    .filter(|l| l.state == LegState::Ringing)
                    .find_map(name)
            })
            .or_else(|| self.outbound.as_ref().map(|o| o.agent.clone()))
    }

    /// The phase's name in [`CallView::phase`].
    fn phase_name(&self) -> &'static str {
        match self.phase {
            Phase::Anchoring { .. }
            | Phase::Entering { .. }
            | Phase::Overflowing
            | Phase::Feature
            | Phase::CallingAgent => "routing",
            Phase::Ringing { .. } | Phase::CallingContact { .. } => "ringing",
            Phase::Queued { .. } => "queued",
            Phase::Bridged { .. } => "talking",
            Phase::Transferring { .. } => "transferring",
            Phase::Consulting(_) => "consulting",
            Phase::Conference(_) => "conference",
            Phase::Voicemail(_) => "voicemail",
            Phase::Ended(_) => "ended",
        }
    }

    pub fn view(&self) -> CallView {
        let state = match self.phase {
            Phase::Anchoring { .. } | Phase::Entering { .. } | Phase::CallingAgent => {
                CallState::Routing
            }
            Phase::Ringing { early, .. } => {
                if early {
                    CallState::Early
                } else {
                    CallState::Routing
                }
            }
            Phase::Queued { .. }
            | Phase::Overflowing
            | Phase::Feature
            | Phase::Voicemail(_)
            | Phase::CallingContact { .. } => CallState::Queued,
            Phase::Bridged { .. }
            | Phase::Transferring { .. }
            | Phase::Consulting(_)
            | Phase::Conference(_)
            | Phase::Ended(_) => CallState::Answered,
        };
        let leg = |l: &Leg| {
            let d = l.dialog.as_ref();
            LegView {
                call_id: d.map(|d| d.call_id.clone()).unwrap_or_default(),
                local_tag: d.map(|d| d.local_tag.clone()).unwrap_or_default(),
                remote_tag: d.map(|d| d.remote_tag.clone()).unwrap_or_default(),
                remote: d.map_or(l.target, |d| d.target).addr.to_string(),
                transport: d.map_or(l.target, |d| d.target).transport.via_token(),
                rtp_port: self.anchor.as_ref().map(|a| a.port(l.side())),
                hold: l.hold,
                party: party_of(l),
                agent: l.agent.as_ref().map(|a| a.as_str().to_string()),
                side: l.side(),
                packets_in: 0,
                packets_out: 0,
            }
        };
        let legs = self
            .listed_legs()
            .iter()
            .map(|l| leg(self.leg(*l)))
            .collect();
        CallView {
            id: self.call_id().to_string(),
            relay: self.relay(),
            state,
            phase: self.phase_name(),
            interaction: self.interaction(),
            agent: self.agent_on_call(),
            attempt: self.outbound.as_ref().map(|o| o.attempt),
            from: self.from_uri.clone(),
            to: self.to_uri.clone(),
            started_ms: self.start_ms,
            answered_ms: self.answered.map(|a| a.1),
            legs,
            bridges: self.bridges.clone(),
            recording: self.recording.as_ref().map(|r| RecordingView {
                id: r.id.clone(),
                paused: r.paused,
            }),
            supervisor: self.supervisor.as_ref().map(|x| SupervisorView {
                extension: x.dialing.target.clone(),
                mode: x.mode,
                joined: x
                    .dialing
                    .leg
                    .is_some_and(|l| self.leg(l).state == LegState::Confirmed),
            }),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CallState {
    Routing,
    Early,
    /// Answered by the switch (queue music, feature code), no callee bridged.
    Queued,
    Answered,
}

#[derive(Clone, Debug, Serialize)]
pub struct LegView {
    pub call_id: String,
    pub local_tag: String,
    pub remote_tag: String,
    pub remote: String,
    pub transport: &'static str,
    pub rtp_port: Option<u16>,
    /// `off`, `holding` (its phone holds the call) or `held` (the switch holds it).
    pub hold: Hold,
    /// Who the leg reaches: the user part of the caller's From, or of our INVITE's URI.
    pub party: String,
    /// The ACD agent this leg was offered to, if any.
    pub agent: Option<String>,
    #[serde(skip)]
    pub side: Side,
    pub packets_in: u64,
    pub packets_out: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct CallView {
    pub id: String,
    #[serde(skip)]
    pub relay: RelayId,
    pub state: CallState,
    /// Where the call stands, for a desktop: `routing`, `ringing`, `queued`, `talking`,
    /// `transferring`, `consulting`, `conference`, `voicemail` or `ended`.
    pub phase: &'static str,
    /// The ACD interaction the call is, if it came through a queue.
    pub interaction: Option<u64>,
    /// The ACD agent on the call (offered to, or placing it), if any.
    pub agent: Option<String>,
    /// The dialer's (or click-to-call's) attempt id of an originated call.
    pub attempt: Option<u64>,
    pub from: String,
    pub to: String,
    pub started_ms: i64,
    pub answered_ms: Option<i64>,
    pub legs: Vec<LegView>,
    pub bridges: Vec<Bridge>,
    /// The supervisor on the call, listed last in `legs` once rung.
    pub supervisor: Option<SupervisorView>,
    /// The recording in progress: its id, and whether it is paused.
    pub recording: Option<RecordingView>,
}

#[derive(Clone, Debug, Serialize)]
pub struct RecordingView {
    pub id: String,
    pub paused: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct SupervisorView {
    pub extension: String,
    pub mode: SuperviseMode,
    /// Their phone answered.
    pub joined: bool,
}

/// The user part of the party a leg reaches: the caller's From user for the caller's leg,
/// the Request-URI user of our INVITE otherwise.
fn party_of(l: &Leg) -> String {
    if l.role == Role::Caller {
        user_of(l.invite.headers.get("From").unwrap_or_default()).to_string()
    } else {
        l.invite.uri.user.clone().unwrap_or_default()
    }
}

/// `1001` of `sip:1001@host`, `"Name" <sip:1001@host>;tag=x` or a bare `1001`.
fn user_of(uri: &str) -> &str {
    let inner = match (uri.find('<'), uri.find('>')) {
        (Some(a), Some(b)) if a < b => &uri[a + 1..b],
        _ => uri,
    };
    let rest = inner
        .strip_prefix("sip:")
        .or_else(|| inner.strip_prefix("sips:"))
        .or_else(|| inner.strip_prefix("tel:"))
        .unwrap_or(inner);
    let end = rest.find(['@', ';', '>']).unwrap_or(rest.len());
    &rest[..end]
}
