//! A call the switch placed (the dialer's, click-to-call) handed on by its agent: to
//! another user, a queue or a mailbox, blind or after a consultation.
//!
//! Such a call starts with the agent's phone in the first seat (`legs[0]`) and the
//! contact as the callee. Every hand-on move is written for a first party that stays
//! (a caller hears music while the target rings, waits in the queue, leaves a message,
//! is relayed to the next leg), so before the agent hands on, the contact takes the first
//! seat and the agent's leg becomes the callee: the same moves then apply unchanged. The
//! legs keep their relay endpoints (the contact's RTP still reaches the port it was given),
//! so callees of the contact ring on the endpoint it is not on.
//!
//! Once the agent's part is over, the dialer hears that its attempt ended after a
//! conversation (200) and the call is the dialer's no more: what follows is the queue's,
//! the mailbox's or the next user's.

use super::session::{Bridge, LegId, Phase, Role, Session};
use super::{Cx, OriginationEvent, TxRole};

impl Cx {
    /// Give the contact of a call the switch placed the first seat (see the module
    /// docs). Nothing changes for a call with a caller, or once the contact has it.
    pub(super) fn seat_contact_first(&mut self, s: &mut Session) {
        if s.legs.first().is_none_or(|l| l.role != Role::Agent) {
            return;
        }
        let contact = match &s.phase {
            Phase::Bridged { callee, .. } => *callee,
            Phase::Consulting(c) => c.customer,
            _ => return,
        };
        // The call keeps the id the call list and call control know it by.
        if s.origin.is_none() {
            s.origin = Some(s.session_id());
        }
        self.swap_legs(s, LegId(0), contact);
        // In a two-party call the callee is whoever is not first: now the agent.
        if let Phase::Bridged { callee, .. } = &mut s.phase {
            *callee = contact;
        }
        // The agent's leg names its agent, as a queue agent's leg does, so that the call's
        // events reach the agent's desktop until its part is over.
        let name = s
            .outbound
            .as_ref()
            .map(|o| acd::AgentId::new(o.agent.as_str()));
        let agent = &mut s.leg_mut(contact).agent;
        if agent.is_none() {
            *agent = name;
        }
        // The session timer was the agent's dialog's; the contact's leg is ours (UAC).
        s.timer = None;
        // Refused SRTP (never here: the contact answered our own offer) leaves it empty,
        // and a later hold answer is written afresh.
        s.sdp_to_a = self.local_sdp(s).unwrap_or_default();
        tracing::info!(call = s.id, "the contact takes the first seat");
    }

    /// The agent of a call the switch placed has handed the contact on: the dialer's
    /// attempt is over, and the contact is the party the rest of the call names.
    pub(super) fn placed_call_handed_on(&mut self, s: &mut Session) {
        let Some(out) = s.outbound.take() else {
            return;
        };
        self.report(OriginationEvent::Ended {
            attempt: out.attempt,
            sip_status: 200,
        });
        self.publish_call(&out.agent, out.attempt, &out.number, "ended", Some(200));
        s.from_user = out.number.clone();
        s.from_uri = format!("sip:{}", out.number);
        s.from_display = String::new();
    }

    /// Swap legs `a` and `b` in the session, with every index that names them: their
    /// transactions, the bridges, the phase.
    fn swap_legs(&mut self, s: &mut Session, a: LegId, b: LegId) {
        if a == b {
            return;
        }
        s.legs.swap(a.0, b.0);
        let map = |l: LegId| {
            if l == a {
                b
            } else if l == b {
                a
            } else {
                l
            }
        };
        let index = |i: usize| map(LegId(i)).0;
        for (session, role) in self.tx_owner.values_mut() {
            if *session != s.id {
                continue;
            }
            match role {
                TxRole::Invite(l) => *l = map(*l),
                TxRole::Relay { from, .. } => *from = map(*from),
                TxRole::Fire | TxRole::Orphan => {}
            }
        }
        for bridge in &mut s.bridges {
            match bridge {
                Bridge::Relay { legs } => legs.iter_mut().for_each(|l| *l = index(*l)),
                Bridge::Player { leg, .. } => *leg = index(*leg),
                Bridge::Mixer { legs, muted } => {
                    legs.iter_mut().for_each(|l| *l = index(*l));
                    muted.iter_mut().for_each(|l| *l = index(*l));
                }
            }
        }
        match &mut s.phase {
            Phase::Bridged { callee, .. } => *callee = map(*callee),
            Phase::Transferring {
                referrer, target, ..
            } => {
                *referrer = map(*referrer);
                *target = map(*target);
            }
            Phase::Consulting(c) => {
                c.agent = map(c.agent);
                c.customer = map(c.customer);
                if let Some(l) = &mut c.dialing.leg {
                    *l = map(*l);
                }
            }
            Phase::Conference(c) => {
                c.members.iter_mut().for_each(|l| *l = map(*l));
                c.members.sort();
                c.muted.iter_mut().for_each(|l| *l = map(*l));
                if let Some(l) = c.adding.as_mut().and_then(|d| d.leg.as_mut()) {
                    *l = map(*l);
                }
            }
            _ => {}
        }
        if let Some(l) = s.supervisor.as_mut().and_then(|x| x.dialing.leg.as_mut()) {
            *l = map(*l);
        }
    }
}
