//! What a desktop is shown of a chat: its view with the transcript so far.

use super::super::room::{Phase, Room};
use super::super::ChatView;
use super::Task;
use acd::AgentId;

impl Task {
    /// The desktop's view of a chat, with its transcript so far.
    pub(super) async fn view(&self, room: &Room, agent_name: String) -> ChatView {
        let messages = match super::super::files::transcript(&self.store, room.id).await {
            Ok(m) => m,
            Err(e) => {
                tracing::error!(error = %e, "chat transcript not read");
                Vec::new()
            }
        };
        ChatView {
            interaction: room.id,
            customer: room.customer.clone(),
            queue: room.queue.as_str().to_string(),
            queue_name: room.queue_name.clone(),
            agent_name,
            arrived_ms: room.arrived_ms,
            messages,
            wrap_up_codes: self.config.codes_of(room.queue.as_str()).to_vec(),
            ended: matches!(room.phase, Phase::Ended { .. }),
            guest: false,
            agents: room
                .agent()
                .filter(|_| matches!(room.phase, Phase::Active { .. }))
                .into_iter()
                .chain(room.guest.as_ref().map(|g| &g.agent))
                .map(|a| a.as_str().to_string())
                .collect(),
        }
    }

    /// The view of `agent`: as the chat's agent, its conference guest, or an agent who
    /// transferred it away and owes the wrap-up.
    pub(super) async fn view_for(&self, room: &Room, agent: &AgentId) -> ChatView {
        let name = match room.party(agent) {
            Ok(p) => p.name().to_string(),
            Err(_) => self.agent_name(agent).await,
        };
        let mut view = self.view(room, name).await;
        if let Some((_, queue)) = room.owed.iter().find(|(a, _)| a == agent) {
            view.ended = true;
            view.queue = queue.as_str().to_string();
            view.wrap_up_codes = self.config.codes_of(queue.as_str()).to_vec();
        }
        view.guest = room.guest.as_ref().is_some_and(|g| &g.agent == agent);
        view
    }

    pub(super) async fn of_agent(&self, agent: &AgentId) -> Vec<ChatView> {
        let mut rooms: Vec<&Room> = self
            .rooms
            .values()
            .filter(|r| {
                r.owes(agent)
                    || r.guest.as_ref().is_some_and(|g| &g.agent == agent)
                    || match &r.phase {
                        Phase::Active { agent: a, .. } => a == agent,
                        Phase::Ended { agent: Some(a) } => a == agent,
                        _ => false,
                    }
            })
            .collect();
        rooms.sort_by_key(|r| r.arrived_ms);
        let mut views = Vec::new();
        for room in rooms {
            views.push(self.view_for(room, agent).await);
        }
        views
    }

    /// The agent's name as configured (else the id).
    pub(super) async fn agent_name(&self, agent: &AgentId) -> String {
        let a = agent.clone();
        self.distributor
            .read(move |e, _| e.agent_config(&a).map(|c| c.name.clone()))
            .await
            .flatten()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| agent.as_str().to_string())
    }
}
