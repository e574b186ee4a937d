//! INVITE with Replaces (RFC 3891): a new dialog takes the place of a confirmed leg of a
//! two-party call. The new leg gets the replaced leg's relay endpoint, is answered with the
//! switch's SDP there, and the replaced leg gets a BYE; its peer never notices.
//!
//! The switch sends such an INVITE to itself for an attended transfer asked by REFER (see
//! [`super::transfer`]): the locator brings it to the shard of the dialog it names, which
//! may be another than the transferor's. A phone may send one too (call pickup, its own
//! attended transfer), authenticated like any call.

use super::sdp::{audio_sdp, has_sdp};
use super::session::{Bridge, Hold, Leg, LegId, LegState, Negotiation, Phase, Role, Session};
use super::{Cx, Engine};
use sip::transaction::{Target, TxId};
use sip::Request;
use std::time::Instant;

/// The dialog a Replaces header names: `call-id;to-tag=X;from-tag=Y` (RFC 3891 §6.1).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Named {
    pub call_id: String,
    pub to_tag: String,
    pub from_tag: String,
    pub early_only: bool,
}

pub(super) fn parse_replaces(value: &str) -> Option<Named> {
    let mut parts = value.split(';');
    let call_id = parts.next()?.trim().to_string();
    let (mut to_tag, mut from_tag, mut early_only) = (None, None, false);
    for p in parts {
        let (name, v) = p.split_once('=').unwrap_or((p, ""));
        match name.trim().to_ascii_lowercase().as_str() {
            "to-tag" => to_tag = Some(v.trim().to_string()),
            "from-tag" => from_tag = Some(v.trim().to_string()),
            "early-only" => early_only = true,
            _ => {}
        }
    }
    (!call_id.is_empty()).then_some(Named {
        call_id,
        to_tag: to_tag?,
        from_tag: from_tag?,
        early_only,
    })
}

impl Engine {
    /// An INVITE with Replaces: the leg it names, if this shard has it, is replaced.
    pub(super) fn replace(&mut self, now: Instant, tx: TxId, req: Request, source: Target) {
        let named = req.headers.get("Replaces").and_then(parse_replaces);
        let Some(named) = named else {
            return self.cx.reply(now, tx, &req, 400, Some("Bad Replaces"));
        };
        // The UAS compares the to-tag with its local tag and the from-tag with the remote
        // one (RFC 3891 §3); senders get the orientation wrong often enough that both are
        // taken.
        let found = self.sessions.iter().find_map(|(id, s)| {
            s.legs
                .iter()
                .position(|l| {
                    l.dialog.as_ref().is_some_and(|d| {
                        d.call_id == named.call_id
                            && ((d.local_tag == named.to_tag && d.remote_tag == named.from_tag)
                                || (d.local_tag == named.from_tag && d.remote_tag == named.to_tag))
                    })
                })
                .map(|leg| (*id, LegId(leg)))
        });
        let Some((id, leg)) = found else {
            return self
                .cx
                .reply(now, tx, &req, 481, Some("Replaced Dialog Not Found"));
        };
        self.with(now, id, |cx, s| {
            cx.replaced(now, s, leg, tx, req, source, named.early_only)
        });
    }
}

impl Cx {
    #[allow(clippy::too_many_arguments)]
    fn replaced(
        &mut self,
        now: Instant,
        s: &mut Session,
        old: LegId,
        tx: TxId,
        req: Request,
        source: Target,
        early_only: bool,
    ) {
        // Our own INVITE (an attended transfer's) needs no credentials; a phone's does.
        let from_us = self.locals.values().any(|a| *a == source.addr);
        if !from_us && self.authenticate(now, tx, &req, source, true).is_none() {
            return;
        }
        if early_only || s.leg(old).state != LegState::Confirmed {
            return self.reply(now, tx, &req, 486, Some("Busy Here"));
        }
        let Phase::Bridged { callee, .. } = s.phase else {
            return self.reply(now, tx, &req, 486, Some("Busy Here"));
        };
        if s.supervisor.is_some() || s.leg(old).hold != Hold::Off {
            return self.reply(now, tx, &req, 486, Some("Busy Here"));
        }
        let (Some(codec), Some(anchor)) = (s.codec, s.anchor.clone()) else {
            return self.reply(now, tx, &req, 488, None);
        };
        let offered = std::str::from_utf8(&req.body)
            .ok()
            .filter(|_| has_sdp(&req.body, &req.headers));
        let Some(offer) = offered else {
            return self.reply(now, tx, &req, 488, Some("Offer Required"));
        };
        let same_codec = super::sdp::codec_of(offer.as_bytes())
            .is_some_and(|c| std::mem::discriminant(&c) == std::mem::discriminant(&codec));
        if !same_codec {
            return self.reply(now, tx, &req, 488, None);
        }
        let tag = self.new_tag();
        let Some(d) = super::dialog::Dialog::uas(&req, &tag, source) else {
            return self.reply(now, tx, &req, 400, Some("Bad Dialog Headers"));
        };
        let side = s.leg(old).side();
        let dtmf = media::sdp::telephone_event(offer).map(|pt| pt.to_string());
        let plain = audio_sdp(s.id, anchor.ip, anchor.port(side), codec, dtmf.as_deref());
        let answer = match self.own_answer(s, side, offer.as_bytes(), plain) {
            Ok(answer) => answer,
            Err(refusal) => {
                let warning = refusal.warning();
                return self.reply_warning(now, tx, &req, 488, None, Some(&warning));
            }
        };
        self.dialogs.insert((d.call_id.clone(), tag.clone()), s.id);
        let mut ok = req.response(200, None, Some(&tag));
        ok.headers
            .push("Contact", self.contact_header(source.transport));
        ok.headers.push("Content-Type", "application/sdp");
        ok.body = answer.clone();
        self.layer.respond(now, tx, ok);
        // The replaced leg goes; the new one takes its endpoint.
        if s.origin.is_none() {
            s.origin = Some(s.session_id());
        }
        self.close_pair(now, s, true);
        self.send_bye(now, s, old);
        s.leg_mut(old).state = LegState::Failed { code: 200 };
        let role = if old == LegId(0) {
            Role::Caller
        } else {
            Role::Callee
        };
        let leg = Leg {
            role,
            state: LegState::Confirmed,
            invite: req.clone(),
            target: source,
            tx: None,
            dialog: Some(d),
            negotiation: Negotiation::Stable,
            ack: None,
            agent: s.leg(old).agent.clone(),
            hold: Hold::Off,
            endpoint: side,
        };
        s.legs.push(leg);
        let new = LegId(s.legs.len() - 1);
        if old == LegId(0) {
            // The first party stays first: the view, the CDR and call control name it so.
            s.legs.swap(0, new.0);
            s.sdp_to_a = answer;
            s.timer = None;
        } else if old == callee {
            if let Phase::Bridged { callee, .. } = &mut s.phase {
                *callee = new;
            }
            let first = 0;
            s.bridges.retain(|b| !matches!(b, Bridge::Relay { .. }));
            s.bridges.push(Bridge::Relay {
                legs: [first, new.0],
            });
        }
        self.learn_sdp(s, side, offer.as_bytes());
        tracing::info!(call = s.id, replaced = old.0, "leg replaced (RFC 3891)");
        self.call_changed(s, "replaced", None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_values() {
        assert_eq!(
            parse_replaces("98732@sip.example.com;from-tag=r33th4x0r;to-tag=ff87ff"),
            Some(Named {
                call_id: "98732@sip.example.com".into(),
                to_tag: "ff87ff".into(),
                from_tag: "r33th4x0r".into(),
                early_only: false,
            })
        );
        assert!(parse_replaces("a;to-tag=1;from-tag=2;early-only").is_some_and(|n| n.early_only));
        assert_eq!(parse_replaces("a;to-tag=1"), None);
        assert_eq!(parse_replaces(";to-tag=1;from-tag=2"), None);
    }
}
