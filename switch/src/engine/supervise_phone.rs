//! A supervisor joins an agent's call from their own phone: `*55` + the agent's extension
//! to listen, `*56` to whisper (coach), `*57` to barge in (`acd.listen_code`,
//! `whisper_code`, `barge_code`). The switch answers the supervisor's INVITE from an
//! endpoint of the agent's call and mixes as [`super::supervise`] does for a supervisor
//! it rings itself. Only an administrator, or a supervisor of the agent's teams, may.
//!
//! The agent's call lives on one shard and the supervisor's INVITE arrives on whichever
//! its Call-ID names: a shard without the call hands it to the next
//! ([`Engine::hunt_supervised`], counting the shards tried in `X-Ccs-Hunt`), and the
//! locator remembers the Call-ID so the rest of that dialog follows it.

use super::dialog::Dialog;
use super::sdp::{audio_sdp, has_sdp};
use super::session::{
    Dialing, Hold, Leg, LegId, LegState, Negotiation, Phase, Role, Session, SuperviseMode,
    Supervision,
};
use super::{Cx, Engine};
use media::graph::Side;
use sip::transaction::{Target, TxId};
use sip::{Message, Method, Request};
use std::time::Instant;

/// How many shards a supervisor's INVITE has been handed through.
const HUNT: &str = "X-Ccs-Hunt";

impl Cx {
    /// The mode and the agent's extension of a supervisor's feature code.
    pub(super) fn supervise_code(&self, dn: &str) -> Option<(SuperviseMode, String)> {
        let acd = &self.config.acd;
        [
            (&acd.listen_code, SuperviseMode::Listen),
            (&acd.whisper_code, SuperviseMode::Whisper),
            (&acd.barge_code, SuperviseMode::Barge),
        ]
        .into_iter()
        .find_map(|(code, mode)| {
            let ext = dn.strip_prefix(code.as_str())?;
            (!ext.is_empty()).then(|| (mode, ext.to_string()))
        })
    }

    /// The agent's leg of a two-party call, when it is `extension`'s phone: the one the
    /// call reached (a queue's or a user's call, a call the switch placed), or the
    /// caller's (an agent who called out from their phone).
    fn agent_leg_of(s: &Session, extension: &str) -> Option<LegId> {
        let (agent, customer) = Self::parties(s)?;
        let is = |leg: LegId, header: &str| {
            s.leg(leg)
                .invite
                .headers
                .get(header)
                .and_then(|v| sip::NameAddr::parse(v).ok())
                .and_then(|n| n.uri.user_unescaped())
                .as_deref()
                == Some(extension)
        };
        if is(agent, "To") {
            Some(agent)
        } else if customer == LegId(0) && s.legs[0].role == Role::Caller && is(customer, "From") {
            Some(customer)
        } else {
            None
        }
    }

    /// The endpoint for the supervisor's phone is bound (`port`) or not: answer it.
    pub(super) fn answer_supervisor(&mut self, now: Instant, s: &mut Session, port: Option<u16>) {
        let Some(sup) = s.supervisor.as_ref() else {
            return;
        };
        let (Some(leg), Some(tx)) = (sup.dialing.leg, sup.incoming) else {
            return;
        };
        let req = s.leg(leg).invite.clone();
        let (Some(port), Some(codec), Some(anchor)) = (port, s.codec, s.anchor.as_ref()) else {
            s.leg_mut(leg).state = LegState::Failed { code: 503 };
            s.supervisor = None;
            return self.reply(now, tx, &req, 503, Some("No Media Ports"));
        };
        let dtmf = media::sdp::telephone_event(std::str::from_utf8(&req.body).unwrap_or(""))
            .map(|pt| pt.to_string());
        let plain = audio_sdp(s.id, anchor.ip, port, codec, dtmf.as_deref());
        let side = s.leg(leg).side();
        let answer = match self.own_answer(s, side, &req.body, plain) {
            Ok(answer) => answer,
            Err(refusal) => {
                s.leg_mut(leg).state = LegState::Failed { code: 488 };
                s.supervisor = None;
                let warning = refusal.warning();
                return self.reply_warning(now, tx, &req, 488, None, Some(&warning));
            }
        };
        let tag = s
            .leg(leg)
            .dialog
            .as_ref()
            .map(|d| d.local_tag.clone())
            .unwrap_or_default();
        let mut ok = req.response(200, None, Some(&tag));
        ok.headers
            .push("Contact", self.contact_header(s.leg(leg).target.transport));
        ok.headers.push("Content-Type", "application/sdp");
        ok.body = answer;
        self.layer.respond(now, tx, ok);
        s.leg_mut(leg).state = LegState::Confirmed;
        if let Some(sup) = s.supervisor.as_mut() {
            sup.incoming = None;
        }
        let side = s.leg(leg).side();
        self.learn_sdp(s, side, &req.body);
        self.route_supervision(s);
        let mode = s
            .supervisor
            .as_ref()
            .map_or(SuperviseMode::Listen, |x| x.mode);
        tracing::info!(call = s.id, ?mode, "supervisor joined from their phone");
        self.call_changed(
            s,
            "supervise_joined",
            Some(super::supervise::mode_name(mode).into()),
        );
    }
}

impl Engine {
    /// A new INVITE to a supervisor's code that no call of this shard answers: the next
    /// shard to try, if any is left.
    pub(super) fn hunt_supervised(&mut self, now: Instant, msg: &mut Message) -> Option<usize> {
        let Message::Request(req) = msg else {
            return None;
        };
        if req.method != Method::Invite || self.cx.shards <= 1 {
            return None;
        }
        // Every INVITE passes here: most are let go on the raw user part, unparsed.
        let raw = req.uri.user.as_deref()?;
        let acd = &self.cx.config.acd;
        let maybe = raw.contains('%')
            || [&acd.listen_code, &acd.whisper_code, &acd.barge_code]
                .iter()
                .any(|code| raw.starts_with(code.as_str()));
        if !maybe || req.headers.to().ok()?.param("tag").is_some() {
            return None;
        }
        let dn = req.uri.user_unescaped()?;
        let (_, extension) = self.cx.supervise_code(&dn)?;
        if self
            .sessions
            .values()
            .any(|s| Cx::agent_leg_of(s, &extension).is_some())
        {
            return None;
        }
        let tried: usize = req
            .headers
            .get(HUNT)
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        if tried + 1 >= self.cx.shards {
            return None;
        }
        let call_id = req.headers.call_id()?.to_string();
        req.headers.remove(HUNT);
        req.headers.push(HUNT, (tried + 1).to_string());
        let next = (usize::from(self.cx.shard) + 1) % self.cx.shards;
        self.cx.locator.remember(now, call_id, next);
        Some(next)
    }

    /// `*55`/`*56`/`*57` + an extension from a supervisor's phone.
    pub(super) fn supervise_by_phone(
        &mut self,
        now: Instant,
        tx: TxId,
        req: Request,
        source: Target,
        mode: SuperviseMode,
        extension: String,
    ) {
        let cx = &mut self.cx;
        let Some(identity) = cx.authenticate(now, tx, &req, source, true) else {
            return;
        };
        let from = req
            .headers
            .from()
            .ok()
            .and_then(|f| f.uri.user_unescaped())
            .unwrap_or_default();
        let supervisor = identity.unwrap_or(from);
        let found = self.sessions.iter().find_map(|(id, s)| {
            Cx::agent_leg_of(s, &extension).map(|leg| (*id, leg, s.leg(leg).agent.clone()))
        });
        let Some((id, leg, agent)) = found else {
            tracing::info!(%supervisor, %extension, "no call to supervise");
            return self
                .cx
                .reply(now, tx, &req, 404, Some("No Call To Supervise"));
        };
        let agent = agent.map(|a| a.as_str().to_string());
        if !self
            .cx
            .node
            .may_supervise(&supervisor, agent.as_deref(), &extension)
        {
            tracing::info!(%supervisor, %extension, "not allowed to supervise");
            return self.cx.reply(now, tx, &req, 403, Some("Not Your Agent"));
        }
        let on = Supervisee {
            supervisor,
            mode,
            agent: leg,
        };
        self.with(now, id, |cx, s| {
            cx.join_supervisor(now, s, tx, req, source, on)
        });
    }
}

/// How a supervisor calling in joins: who, in which mode, on which agent's leg.
struct Supervisee {
    supervisor: String,
    mode: SuperviseMode,
    agent: LegId,
}

impl Cx {
    fn join_supervisor(
        &mut self,
        now: Instant,
        s: &mut Session,
        tx: TxId,
        req: Request,
        source: Target,
        on: Supervisee,
    ) {
        let Supervisee {
            supervisor,
            mode,
            agent,
        } = on;
        if s.supervisor.is_some() || !matches!(s.phase, Phase::Bridged { .. }) {
            return self.reply(now, tx, &req, 486, Some("Busy Here"));
        }
        let Some(codec) = s.codec else {
            return self.reply(now, tx, &req, 488, None);
        };
        let offer = std::str::from_utf8(&req.body)
            .ok()
            .filter(|_| has_sdp(&req.body, &req.headers));
        let same_codec = offer
            .and_then(|o| super::sdp::codec_of(o.as_bytes()))
            .is_some_and(|c| std::mem::discriminant(&c) == std::mem::discriminant(&codec));
        if !same_codec {
            return self.reply(now, tx, &req, 488, Some("Offer The Call's Codec"));
        }
        let endpoint: Side = match self.new_endpoint(s) {
            Ok(side) => side,
            Err(_) => return self.reply(now, tx, &req, 486, Some("Busy Here")),
        };
        let tag = self.new_tag();
        let Some(d) = Dialog::uas(&req, &tag, source) else {
            self.remove_endpoint(s, endpoint);
            return self.reply(now, tx, &req, 400, Some("Bad Dialog Headers"));
        };
        // Not among `invites`: its CANCEL or an unACKed 2xx must not end the agent's call.
        self.dialogs.insert((d.call_id.clone(), tag), s.id);
        s.legs.push(Leg {
            role: Role::Callee,
            state: LegState::Offered,
            invite: req,
            target: source,
            tx: None,
            dialog: Some(d),
            negotiation: Negotiation::Stable,
            ack: None,
            agent: None,
            hold: Hold::Off,
            endpoint,
        });
        let leg = LegId(s.legs.len() - 1);
        s.supervisor = Some(Supervision {
            mode,
            dialing: Dialing {
                endpoint,
                target: supervisor.clone(),
                leg: Some(leg),
            },
            incoming: Some(tx),
            agent: Some(agent),
        });
        tracing::info!(call = s.id, %supervisor, ?mode, "supervisor calling in");
        self.call_changed(
            s,
            "supervise_started",
            Some(super::supervise::mode_name(mode).into()),
        );
    }
}
