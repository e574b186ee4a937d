//! The agent's side of an interaction's life: login, state requests, accept, reject, RONA,
//! end of work, wrap-up, logout.

use super::Engine;
use crate::action::{Action, CancelReason};
use crate::agent::AgentIx;
use crate::config::WrapUp;
use crate::error::AcdError;
use crate::id::InteractionId;
use crate::interaction::Status;
use crate::state::{AgentState, Cause, RequestedState};
use crate::stats::ms;
use crate::timer::Timer;
use std::time::{Duration, Instant};

impl Engine {
    pub(super) fn login(
        &mut self,
        now: Instant,
        a: AgentIx,
        initial: RequestedState,
    ) -> Result<(), AcdError> {
        let agent = self.agent(a);
        if agent.state.is_logged_in() {
            return Err(AcdError::AlreadyLoggedIn(agent.config.id.clone()));
        }
        self.set_state(now, a, initial.into_state(), Cause::Login);
        self.settle(now, a);
        Ok(())
    }

    pub(super) fn request_state(
        &mut self,
        now: Instant,
        a: AgentIx,
        req: RequestedState,
    ) -> Result<(), AcdError> {
        let agent = self.agent_mut(a);
        if req == RequestedState::Ready && agent.wraps_owed > 0 && agent.state.is_logged_in() {
            return Err(AcdError::WrapUpPending(agent.config.id.clone()));
        }
        match agent.state {
            AgentState::LoggedOut => return Err(AcdError::NotLoggedIn(agent.config.id.clone())),
            // Takes effect when the work is done; Ready cancels an earlier request.
            AgentState::Busy => {
                agent.pending = match req {
                    RequestedState::Ready => None,
                    RequestedState::NotReady { reason } => Some(AgentState::NotReady { reason }),
                };
            }
            AgentState::Reserved => {
                if let RequestedState::NotReady { reason } = req {
                    let back = self.withdraw_offers(a, CancelReason::AgentNotReady);
                    self.set_state(now, a, AgentState::NotReady { reason }, Cause::AgentRequest);
                    self.settle(now, a);
                    self.requeue_all(now, back);
                    return Ok(());
                }
            }
            _ => {
                agent.pending = None;
                self.set_state(now, a, req.into_state(), Cause::AgentRequest);
            }
        }
        self.settle(now, a);
        Ok(())
    }

    pub(super) fn logout(&mut self, now: Instant, a: AgentIx) -> Result<(), AcdError> {
        let agent = self.agent(a);
        if !agent.state.is_logged_in() {
            return Err(AcdError::NotLoggedIn(agent.config.id.clone()));
        }
        let back = self.withdraw_offers(a, CancelReason::AgentLoggedOut);
        for iid in std::mem::take(&mut self.agent_mut(a).active) {
            if let Some(it) = self.interactions.get_mut(&iid) {
                it.status = Status::Active(None);
            }
        }
        let agent = self.agent_mut(a);
        agent.channel = None;
        agent.pending = None;
        agent.wraps_owed = 0;
        self.set_state(now, a, AgentState::LoggedOut, Cause::Logout);
        self.settle(now, a);
        self.requeue_all(now, back);
        Ok(())
    }

    /// Checks that `iid` is ringing agent `a`.
    fn ringing(&self, iid: InteractionId, a: AgentIx) -> Result<(), AcdError> {
        let it = self
            .interactions
            .get(&iid)
            .ok_or(AcdError::UnknownInteraction(iid))?;
        if it.status == Status::Ringing && it.ringing.contains(&a) {
            Ok(())
        } else {
            Err(AcdError::NoSuchOffer {
                interaction: iid,
                agent: self.agent(a).config.id.clone(),
            })
        }
    }

    pub(super) fn accept(
        &mut self,
        now: Instant,
        iid: InteractionId,
        a: AgentIx,
    ) -> Result<(), AcdError> {
        self.ringing(iid, a)?;
        let Some(it) = self.interactions.get_mut(&iid) else {
            return Err(AcdError::UnknownInteraction(iid));
        };
        let mut others = std::mem::take(&mut it.ringing);
        others.retain(|o| *o != a);
        it.status = Status::Active(Some(a));
        let (q, waited) = (it.queue, now.saturating_duration_since(it.arrived));
        let queue = self.queue_mut(q);
        let c = &mut queue.counters;
        c.answered += 1;
        c.answer_wait = c.answer_wait.saturating_add(waited);
        if waited <= Duration::from_secs(u64::from(queue.config.service_level_secs)) {
            c.answered_in_sl += 1;
        }
        let agent = self.agent_mut(a);
        agent.offers.retain(|o| *o != iid);
        agent.active.push(iid);
        agent.handled += 1;
        if let Some(m) = agent.membership_mut(q) {
            m.handled += 1;
        }
        self.set_state(now, a, AgentState::Busy, Cause::OfferAccepted);
        self.settle(now, a);
        for o in others {
            self.release_offer(now, iid, o, CancelReason::AnsweredElsewhere);
        }
        Ok(())
    }

    pub(super) fn reject(
        &mut self,
        now: Instant,
        iid: InteractionId,
        a: AgentIx,
    ) -> Result<(), AcdError> {
        self.ringing(iid, a)?;
        let mut emptied = false;
        if let Some(it) = self.interactions.get_mut(&iid) {
            it.ringing.retain(|o| *o != a);
            emptied = it.ringing.is_empty();
            let q = it.queue;
            self.queue_mut(q).counters.rona += 1;
        }
        self.agent_mut(a).offers.retain(|o| *o != iid);
        self.rona(now, a, Cause::OfferRejected);
        if emptied {
            self.requeue(now, iid);
        }
        Ok(())
    }

    pub(super) fn offer_timed_out(&mut self, now: Instant, iid: InteractionId, round: u32) {
        let Some(it) = self.interactions.get_mut(&iid) else {
            return;
        };
        if it.status != Status::Ringing || it.round != round {
            return;
        }
        let agents = std::mem::take(&mut it.ringing);
        let q = it.queue;
        self.queue_mut(q).counters.rona += agents.len() as u64;
        for a in agents {
            self.agent_mut(a).offers.retain(|o| *o != iid);
            self.emit_cancel(iid, a, CancelReason::NoAnswer);
            self.rona(now, a, Cause::OfferTimeout);
        }
        self.requeue(now, iid);
    }

    /// The agent missed an offer: Rona now, or once the interactions in hand are done.
    /// Their other ringing offers are withdrawn.
    fn rona(&mut self, now: Instant, a: AgentIx, cause: Cause) {
        let back = self.withdraw_offers(a, CancelReason::NoAnswer);
        let agent = self.agent_mut(a);
        if agent.active.is_empty() {
            agent.channel = None;
            agent.pending = None;
            self.set_state(now, a, AgentState::Rona, cause);
        } else {
            agent.pending = Some(AgentState::Rona);
        }
        self.settle(now, a);
        self.requeue_all(now, back);
    }

    pub(super) fn end(&mut self, now: Instant, iid: InteractionId) -> Result<(), AcdError> {
        let it = self.forget(iid).ok_or(AcdError::UnknownInteraction(iid))?;
        let waited = now.saturating_duration_since(it.arrived);
        match it.status {
            Status::Waiting | Status::Ringing => {
                for a in it.ringing {
                    self.release_offer(now, iid, a, CancelReason::Abandoned);
                }
                let queue = self.queue_mut(it.queue);
                queue.counters.abandoned += 1;
                let dn = queue.config.dn.clone();
                self.emit(Action::InteractionAbandoned {
                    interaction: iid,
                    queue: dn,
                    waited_ms: ms(waited),
                });
            }
            Status::Active(None) => {}
            Status::Active(Some(a)) => {
                let config = &self.queue(it.queue).config;
                let (wrap, required) = (config.wrap_up, config.wrap_up_required);
                let agent = self.agent_mut(a);
                if required {
                    agent.wraps_owed = agent.wraps_owed.saturating_add(1);
                }
                agent.active.retain(|o| *o != iid);
                if agent.active.is_empty() {
                    if agent.offers.is_empty() {
                        agent.channel = None;
                        self.begin_wrap_up(now, a, wrap);
                    } else {
                        self.set_state(now, a, AgentState::Reserved, Cause::InteractionEnded);
                    }
                }
                self.settle(now, a);
            }
        }
        Ok(())
    }

    fn begin_wrap_up(&mut self, now: Instant, a: AgentIx, wrap: WrapUp) {
        let gen = self.next_gen();
        self.agent_mut(a).wrap_gen = gen;
        match wrap {
            WrapUp::Fixed { secs: 0 } => self.finish_work(now, a, Cause::InteractionEnded),
            WrapUp::Fixed { secs } => {
                self.set_state(now, a, AgentState::AfterCallWork, Cause::InteractionEnded);
                let at = super::routing::later(now, Duration::from_secs(u64::from(secs)));
                self.schedule(at, Timer::WrapUp { agent: a, gen });
            }
            WrapUp::Manual {} => {
                self.set_state(now, a, AgentState::AfterCallWork, Cause::InteractionEnded);
            }
        }
    }

    /// Work and wrap-up are over: Ready, or the state asked for meanwhile.
    fn finish_work(&mut self, now: Instant, a: AgentIx, cause: Cause) {
        let to = self
            .agent_mut(a)
            .pending
            .take()
            .unwrap_or(AgentState::Ready);
        self.set_state(now, a, to, cause);
    }

    pub(super) fn wrap_up_done(&mut self, now: Instant, a: AgentIx) -> Result<(), AcdError> {
        let agent = self.agent_mut(a);
        let owed = agent.wraps_owed > 0;
        agent.wraps_owed = agent.wraps_owed.saturating_sub(1);
        if agent.state != AgentState::AfterCallWork {
            // A required wrap-up submitted after the agent chose Not Ready meanwhile.
            return if owed {
                Ok(())
            } else {
                Err(AcdError::NotInWrapUp(agent.config.id.clone()))
            };
        }
        if agent.wraps_owed > 0 {
            // Another required wrap-up is still due: stay in After-Call-Work.
            return Ok(());
        }
        self.finish_work(now, a, Cause::WrapUpDone);
        self.settle(now, a);
        Ok(())
    }

    pub(super) fn wrap_up_timed_out(&mut self, now: Instant, a: AgentIx, gen: u64) {
        let due = self.agents.get(a.slot()).is_some_and(|ag| {
            ag.state == AgentState::AfterCallWork && ag.wrap_gen == gen && ag.wraps_owed == 0
        });
        if due {
            self.finish_work(now, a, Cause::WrapUpTimer);
            self.settle(now, a);
        }
    }

    /// Withdraws every offer ringing agent `a`; returns the interactions left ringing nobody,
    /// which the caller requeues once the agent's own state is settled.
    fn withdraw_offers(&mut self, a: AgentIx, reason: CancelReason) -> Vec<InteractionId> {
        let offers = std::mem::take(&mut self.agent_mut(a).offers);
        let mut back = Vec::new();
        for iid in offers {
            self.emit_cancel(iid, a, reason);
            if let Some(it) = self.interactions.get_mut(&iid) {
                it.ringing.retain(|o| *o != a);
                if it.ringing.is_empty() && it.status == Status::Ringing {
                    back.push(iid);
                }
            }
        }
        self.agent_mut(a).clear_channel_if_idle();
        back
    }

    fn requeue_all(&mut self, now: Instant, iids: Vec<InteractionId>) {
        for iid in iids {
            self.requeue(now, iid);
        }
    }

    /// Stops ringing agent `a` for a reason that is not theirs (answered elsewhere, caller
    /// gone): a Reserved agent is Ready again and keeps their idle time.
    fn release_offer(
        &mut self,
        now: Instant,
        iid: InteractionId,
        a: AgentIx,
        reason: CancelReason,
    ) {
        self.emit_cancel(iid, a, reason);
        let agent = self.agent_mut(a);
        agent.offers.retain(|o| *o != iid);
        agent.clear_channel_if_idle();
        if !agent.has_work() && agent.state == AgentState::Reserved {
            self.set_state(now, a, AgentState::Ready, Cause::OfferCancelled);
        }
        self.settle(now, a);
    }

    fn emit_cancel(&mut self, iid: InteractionId, a: AgentIx, reason: CancelReason) {
        let agent = self.agent(a).config.id.clone();
        self.emit(Action::CancelOffer {
            interaction: iid,
            agent,
            reason,
        });
    }
}
