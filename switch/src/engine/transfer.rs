//! Blind transfer from a phone (RFC 3515 REFER, progress as `message/sipfrag` NOTIFYs).
//!
//! The callee's phone (an agent on an inbound or queue call) sends REFER with
//! `Refer-To: <sip:TARGET@...>` in its dialog. The switch accepts it (202), tells the
//! phone `100 Trying`, moves the first party to music and rings the target's phones as a
//! new leg on the referrer's relay endpoint. When the target answers, the relay joins
//! it to the first party, the phone is told `200 OK` and gets our BYE (unless it has hung
//! up already). When the target fails (busy, no answer, unknown), the phone is told why
//! (the final status in the sipfrag) and the first party goes back to it; if the phone
//! has already hung up, the call ends.
//!
//! The same move is asked over REST (`Engine::transfer`, `POST /api/calls/{id}/transfer`):
//! then there are no NOTIFYs, and the outcome goes on the event stream (`call_changed`:
//! `transfer_started`, `transferred`, `transfer_failed` with the target's status).
//!
//! **Attended transfer** (RFC 5589): the Refer-To carries `?Replaces=` naming the phone's
//! own call to the target. The switch rings the target through itself: its INVITE with
//! that Replaces goes to its own address, the locator brings it to the shard of the named
//! call, and that call hands its target leg over (see [`super::replaces`]); both of the
//! transferor's calls get BYE. Only the callee's leg (the agent) may transfer for now.

use super::session::{Bridge, LegId, LegState, Phase, Prompt, Role, Session};
use super::setup::ForkSpec;
use super::{ControlError, Cx, TxRole};
use crate::records::{Cause, HangupSide};
use sip::transaction::TxId;
use sip::{Method, NameAddr, Request, Response, Uri};
use std::time::Instant;

/// The user part of a Refer-To value (`<sip:1003@host>`, `sip:1003@host;x`) and the
/// Replaces its URI carries, decoded (`?Replaces=cid%3Bto-tag%3D1%3Bfrom-tag%3D2`, an
/// attended transfer).
fn refer_target(value: &str) -> Option<(String, Option<String>)> {
    let inner = match (value.find('<'), value.rfind('>')) {
        (Some(a), Some(b)) if a < b => &value[a + 1..b],
        _ => value.trim(),
    };
    let (uri, headers) = inner.split_once('?').unwrap_or((inner, ""));
    let replaces = headers.split('&').find_map(|h| {
        let (name, v) = h.split_once('=')?;
        name.eq_ignore_ascii_case("replaces")
            .then(|| sip::uri::unescape(v))
    });
    let uri = Uri::parse(uri).ok()?;
    let user = uri.user.clone()?;
    Some((user, replaces))
}

impl Cx {
    /// A REFER in one of the session's dialogs.
    pub(super) fn refer(
        &mut self,
        now: Instant,
        s: &mut Session,
        leg: LegId,
        tx: TxId,
        req: Request,
    ) {
        let Phase::Bridged { callee, .. } = s.phase else {
            return self.reply(now, tx, &req, 491, Some("Request Pending"));
        };
        let (leg, callee) = if leg == LegId(0) && s.legs[0].role == Role::Agent {
            // The agent of a call the switch placed transfers its contact.
            self.seat_contact_first(s);
            (callee, callee)
        } else {
            (leg, callee)
        };
        if leg != callee {
            return self.reply(
                now,
                tx,
                &req,
                501,
                Some("Transfer By The Caller Not Supported"),
            );
        }
        let Some((target, replaces)) = req.headers.get("Refer-To").and_then(refer_target) else {
            return self.reply(now, tx, &req, 400, Some("Bad Refer-To"));
        };
        if replaces
            .as_deref()
            .is_some_and(|r| super::replaces::parse_replaces(r).is_none())
        {
            return self.reply(now, tx, &req, 400, Some("Bad Replaces"));
        }
        let mut ok = req.response(202, None, None);
        ok.headers.push("Contact", self.leg_contact(s, leg));
        self.layer.respond(now, tx, ok);
        self.notify_refer(now, s, leg, "100 Trying", false);
        tracing::info!(call = s.id, %target, attended = replaces.is_some(), "transfer asked");
        if self
            .begin_transfer(now, s, leg, &target, replaces.as_deref(), true)
            .is_err()
        {
            self.notify_refer(now, s, leg, "404 Not Found", true);
        }
    }

    /// Ring `target` for the first party on `referrer`'s endpoint; the first party hears
    /// music meanwhile. `notify`: the referrer's phone asked and hears of the progress.
    /// `replaces`: an attended transfer, the dialog the target's new call replaces (the
    /// referrer's call to the target): the INVITE goes to the switch itself, to the shard
    /// of that dialog, which hands it the target's leg.
    pub(super) fn begin_transfer(
        &mut self,
        now: Instant,
        s: &mut Session,
        referrer: LegId,
        target: &str,
        replaces: Option<&str>,
        notify: bool,
    ) -> Result<(), ControlError> {
        let Phase::Bridged { interaction, .. } = s.phase else {
            return Err(ControlError::NotConnected);
        };
        if replaces.is_none() && self.node.is_queue(target) {
            return self.requeue(now, s, referrer, target, notify);
        }
        let mailbox = target
            .strip_prefix(self.config.voicemail.transfer_prefix.as_str())
            .filter(|user| !user.is_empty() && self.has_voicemail(user))
            .map(str::to_string);
        if let (None, Some(user)) = (replaces, mailbox) {
            return self.hand_to_mailbox(now, s, referrer, &user, notify);
        }
        let bindings = match replaces {
            Some(_) => self.own_binding(target).into_iter().collect(),
            None => self.node.lookup(now, target),
        };
        if bindings.is_empty() {
            return Err(ControlError::NoTarget(target.to_string()));
        }
        let domain = self.config.sip.domain.clone();
        // The target sees whom it gets: the caller, or the contact of a call the switch placed.
        let party = s.outbound.as_ref().map_or(&s.from_user, |o| &o.number);
        let mut from = NameAddr::new(Uri::sip(Some(party), &domain, None));
        from.set_param("tag", Some(self.new_tag()));
        let to = NameAddr::new(Uri::sip(Some(target), &domain, None));
        let body = self.offer_sdp(s, &bindings[..1]);
        let first = s.legs.len();
        let by = s.leg(referrer).invite.uri.user.clone().unwrap_or_default();
        let spec = ForkSpec {
            from,
            to,
            max_forwards: 70,
            body: &body,
            extra: std::iter::once(("Referred-By", format!("<sip:{by}@{domain}>")))
                .chain(replaces.map(|r| ("Replaces", r.to_string())))
                .collect(),
            endpoint: None,
        };
        // One phone: the target's first binding.
        self.add_forks(now, s, &bindings[..1], &spec, None, Role::Callee);
        if s.legs.get(first).is_none_or(|l| !l.pending()) {
            return Err(ControlError::NoTarget(target.to_string()));
        }
        let music = self.prompts.music();
        self.play(s, 0, music, Prompt::Music);
        s.phase = Phase::Transferring {
            referrer,
            target: LegId(first),
            interaction,
            referrer_gone: false,
            notify,
        };
        self.call_changed(s, "transfer_started", Some(target.to_string()));
        Ok(())
    }

    /// A response on the transfer target's INVITE.
    pub(super) fn transfer_response(
        &mut self,
        now: Instant,
        s: &mut Session,
        leg: LegId,
        resp: Response,
    ) {
        let Phase::Transferring {
            referrer,
            target,
            interaction,
            referrer_gone,
            notify,
        } = s.phase
        else {
            return;
        };
        let mut code = resp.code;
        if code < 200 {
            return;
        }
        if let Some(t) = s.leg(leg).tx {
            self.tx_owner.remove(&t);
        }
        let mut reason = resp.reason.clone();
        if let Some(refusal) = self.refused_answer(now, s, leg, &resp) {
            // The target did not take our SRTP offer (sdes.rs): the transfer fails as if
            // it had answered 488.
            (code, reason) = (488, refusal.to_string());
        }
        if code >= 300 {
            s.leg_mut(leg).state = LegState::Failed { code };
            tracing::info!(call = s.id, code, "transfer target failed");
            let frag = format!("{code} {reason}");
            if !referrer_gone {
                if notify {
                    self.notify_refer(now, s, referrer, &frag, true);
                }
                self.stop_playing(s, 0);
                s.phase = Phase::Bridged {
                    callee: referrer,
                    interaction,
                };
                self.call_changed(s, "transfer_failed", Some(frag));
            } else {
                // Nobody to give the call back to.
                self.send_bye(now, s, LegId(0));
                self.end(s, Cause::of_status(code), HangupSide::Callee, code);
            }
            return;
        }
        let l = s.leg(leg);
        let Some(d) = super::dialog::Dialog::uac(&l.invite, &resp, l.target) else {
            return;
        };
        let l = s.leg_mut(leg);
        l.state = LegState::Confirmed;
        l.dialog = Some(d);
        if super::sdp::has_sdp(&resp.body, &resp.headers) {
            self.learn_sdp(s, s.leg(leg).side(), &resp.body);
            self.webrtc_answered(s, leg, &resp.body);
        }
        self.ack_leg(s, leg, Vec::new());
        self.stop_playing(s, 0);
        self.close_pair(now, s, true);
        self.placed_call_handed_on(s);
        if let Some(user) = s.leg(leg).invite.uri.user.clone() {
            s.to_user = user;
        }
        s.phase = Phase::Bridged {
            callee: target,
            interaction,
        };
        s.bridges.retain(|b| !matches!(b, Bridge::Relay { .. }));
        s.bridges.push(Bridge::Relay {
            legs: [0, target.0],
        });
        tracing::info!(call = s.id, "transferred");
        // The agent is done with it: wrap-up starts.
        if let Phase::Bridged { interaction, .. } = &mut s.phase {
            let i = interaction.take();
            self.hand_over(i);
        }
        if !referrer_gone {
            if notify {
                self.notify_refer(now, s, referrer, "200 OK", true);
            }
            self.send_bye(now, s, referrer);
        }
        s.leg_mut(referrer).state = LegState::Failed { code: 200 };
        self.call_changed(s, "transferred", None);
    }

    /// A blind transfer to a queue: the agent's leg goes (its interaction ends: wrap-up),
    /// the customer waits in `queue` as a new interaction with the same caller data, on
    /// music and announcements, until the ACD offers it to an agent.
    fn requeue(
        &mut self,
        now: Instant,
        s: &mut Session,
        referrer: LegId,
        queue: &str,
        notify: bool,
    ) -> Result<(), ControlError> {
        self.release_referrer(now, s, referrer, notify, false)?;
        let music = self.prompts.music();
        self.play(s, 0, music, Prompt::Music);
        s.to_user = queue.to_string();
        s.phase = Phase::Ringing {
            early: false,
            early_media: false,
        };
        let waited = now.saturating_duration_since(s.started).as_millis();
        self.arrive(s, u64::try_from(waited).unwrap_or(u64::MAX));
        tracing::info!(call = s.id, %queue, "transferred to a queue");
        self.call_changed(s, "requeued", Some(queue.to_string()));
        Ok(())
    }

    /// A blind transfer to a user's voicemail: the agent's leg goes (wrap-up), the
    /// customer hears the greeting and leaves a message.
    fn hand_to_mailbox(
        &mut self,
        now: Instant,
        s: &mut Session,
        referrer: LegId,
        user: &str,
        notify: bool,
    ) -> Result<(), ControlError> {
        self.release_referrer(now, s, referrer, notify, true)?;
        s.to_user = user.to_string();
        self.send_to_voicemail(now, s, user);
        Ok(())
    }

    /// The switch takes the customer from the agent (`referrer`) itself, to a queue or a
    /// mailbox: the agent's phone hears the transfer succeed and gets BYE, its
    /// interaction ends (wrap-up), the leg pair's CDR is written, the relay joins nobody.
    /// `answered`: the next leg pair is under way at once (a mailbox), else when an
    /// agent answers.
    fn release_referrer(
        &mut self,
        now: Instant,
        s: &mut Session,
        referrer: LegId,
        notify: bool,
        answered: bool,
    ) -> Result<(), ControlError> {
        let Phase::Bridged { interaction, .. } = s.phase else {
            return Err(ControlError::NotConnected);
        };
        if referrer == LegId(0) {
            return Err(ControlError::Unsupported(
                "the first party cannot be handed to a queue or a mailbox",
            ));
        }
        if notify {
            self.notify_refer(now, s, referrer, "200 OK", true);
        }
        self.send_bye(now, s, referrer);
        s.leg_mut(referrer).state = LegState::Failed { code: 200 };
        self.hand_over(interaction);
        self.close_pair(now, s, answered);
        self.placed_call_handed_on(s);
        s.bridges.retain(|b| !matches!(b, Bridge::Relay { .. }));
        Ok(())
    }

    /// Where the switch reaches itself: `sip:USER@` its UDP address (an attended
    /// transfer's INVITE with Replaces).
    pub(super) fn own_binding(&self, user: &str) -> Option<crate::registrar::Binding> {
        let addr = *self
            .locals
            .get(&sip::transaction::TransportKind::Udp)
            .or_else(|| self.locals.values().next())?;
        Some(crate::registrar::Binding {
            contact: format!("sip:{user}@{addr}"),
            target: sip::transaction::Target {
                transport: sip::transaction::TransportKind::Udp,
                addr,
            },
            expires_at: None,
            expires_unix: None,
            call_id: String::new(),
            cseq: 0,
            q: 1.0,
            user_agent: String::new(),
        })
    }

    /// The referrer hung up during its transfer: the first party stays, waiting for the
    /// target.
    pub(super) fn referrer_left(&mut self, now: Instant, s: &mut Session, tx: TxId, req: &Request) {
        self.reply(now, tx, req, 200, None);
        if let Phase::Transferring { referrer_gone, .. } = &mut s.phase {
            *referrer_gone = true;
        }
    }

    /// A NOTIFY of the refer subscription to `leg`: `frag` is the sipfrag status line
    /// after `SIP/2.0`; `done` ends the subscription.
    fn notify_refer(&mut self, now: Instant, s: &mut Session, leg: LegId, frag: &str, done: bool) {
        let Some(transport) = s.leg(leg).dialog.as_ref().map(|d| d.target.transport) else {
            return;
        };
        let via = self.via(transport);
        let contact = self.contact_header(transport);
        let Some(d) = s.leg_mut(leg).dialog.as_mut() else {
            return;
        };
        let target = d.target;
        let mut req = d.request(Method::Notify, &via);
        req.headers.push("Event", "refer");
        let state = if done {
            "terminated;reason=noresource"
        } else {
            "active;expires=60"
        };
        req.headers.push("Subscription-State", state);
        req.headers.push("Contact", contact);
        req.headers
            .push("Content-Type", "message/sipfrag;version=2.0");
        req.body = format!("SIP/2.0 {frag}\r\n").into_bytes();
        if let Some(t) = self.send_request(now, req, target) {
            self.tx_owner.insert(t, (s.id, TxRole::Fire));
            s.txs.push(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refer_to_values() {
        assert_eq!(
            refer_target("<sip:1003@10.0.0.1>"),
            Some(("1003".into(), None))
        );
        assert_eq!(
            refer_target("sip:8000@cc.example.com;transport=tcp"),
            Some(("8000".into(), None))
        );
        assert_eq!(
            refer_target("<sip:1003@h?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2>"),
            Some(("1003".into(), Some("abc@h;to-tag=1;from-tag=2".into())))
        );
        assert_eq!(
            refer_target("<tel:+15550100>"),
            Some(("+15550100".into(), None))
        );
        assert_eq!(refer_target("<>"), None);
    }
}
