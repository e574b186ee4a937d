//! What a desktop is shown of a chat: its view with the transcript so far.

use super::super::message::{Message, Role};
use super::super::room::{Phase, Room};
use super::super::ChatView;
use super::Task;
use acd::AgentId;

impl Task {
    /// The desktop's view of a chat, with its transcript so far.
    pub(super) async fn view(&self, room: &Room, agent_name: String) -> ChatView {
        let messages = match self.store.chat_messages(room.id).await {
            Ok(lines) => lines
                .into_iter()
                .filter_map(|l| {
                    Some(Message {
                        role: Role::parse(&l.role)?,
                        sender: l.sender,
                        text: l.text,
                        at_ms: l.at_ms,
                    })
                })
                .collect(),
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
        }
    }

    pub(super) async fn of_agent(&self, agent: &AgentId) -> Vec<ChatView> {
        let mut rooms: Vec<&Room> = self
            .rooms
            .values()
            .filter(|r| match &r.phase {
                Phase::Active { agent: a, .. } => a == agent,
                Phase::Ended { agent: Some(a) } => a == agent,
                _ => false,
            })
            .collect();
        rooms.sort_by_key(|r| r.arrived_ms);
        let mut views = Vec::new();
        for room in rooms {
            let name = match &room.phase {
                Phase::Active { agent_name, .. } => agent_name.clone(),
                _ => self.agent_name(agent).await,
            };
            views.push(self.view(room, name).await);
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
