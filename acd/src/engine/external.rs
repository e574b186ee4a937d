//! Work the ACD did not route but must know about: a preview-dialer record the dialer leased
//! to an agent, then the call it placed, then the wrap-up. The agent's state follows
//! (Reserved, Busy, AfterCallWork) so queues do not offer them anything meanwhile, and
//! statistics count the time; `Done` makes them Ready again (pulling waiting work).

use super::Engine;
use crate::agent::AgentIx;
use crate::error::AcdError;
use crate::event::ExternalWork;
use crate::state::{AgentState, Cause};
use std::time::Instant;

impl Engine {
    pub(super) fn external_work(
        &mut self,
        now: Instant,
        a: AgentIx,
        work: ExternalWork,
    ) -> Result<(), AcdError> {
        let agent = self.agent(a);
        let id = agent.config.id.clone();
        if !agent.state.is_logged_in() {
            return Err(AcdError::NotLoggedIn(id));
        }
        if agent.has_work() {
            // Routed work in hand: the external work cannot take the agent now.
            return Err(AcdError::Busy(id));
        }
        let in_external = matches!(
            agent.state,
            AgentState::Reserved | AgentState::Busy | AgentState::AfterCallWork
        );
        let to = match work {
            ExternalWork::Reserved if agent.state == AgentState::Ready || in_external => {
                AgentState::Reserved
            }
            ExternalWork::Reserved => return Err(AcdError::Busy(id)),
            ExternalWork::Busy => AgentState::Busy,
            ExternalWork::AfterCallWork => AgentState::AfterCallWork,
            ExternalWork::Done if in_external => match self.agent_mut(a).pending.take() {
                Some(next) => next,
                None => AgentState::Ready,
            },
            ExternalWork::Missed if in_external => AgentState::Rona,
            // Already out of the external work (a state chosen meanwhile): nothing to do.
            ExternalWork::Done | ExternalWork::Missed => return Ok(()),
        };
        self.agent_mut(a).channel = None;
        self.set_state(now, a, to, Cause::External);
        self.settle(now, a);
        Ok(())
    }
}
