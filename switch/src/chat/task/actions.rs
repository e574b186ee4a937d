//! The ACD engine's actions that concern chats, as the distributor streams them.

use super::super::customer::ToCustomer;
use super::{now_ms, Task};
use acd::Action;
use serde_json::json;

impl Task {
    /// The ACD's actions for chats: offers, withdrawn offers, queue positions, refusals.
    pub(super) fn action(&mut self, action: Action) {
        match action {
            Action::Offer {
                interaction,
                agent,
                queue,
                channel: acd::Channel::Chat,
            } => {
                let Some(room) = self.rooms.get_mut(&interaction.0) else {
                    return;
                };
                room.offered(agent.clone());
                self.distributor.publish(json!({
                    "type": "chat_offer", "interaction": interaction.0, "agent": agent,
                    "queue": queue, "queue_name": room.queue_name, "channel": "chat",
                    "customer": room.customer, "arrived_ms": room.arrived_ms,
                }));
            }
            Action::CancelOffer {
                interaction, agent, ..
            } => {
                if let Some(room) = self.rooms.get_mut(&interaction.0) {
                    room.offer_withdrawn(&agent);
                }
            }
            Action::InteractionQueued {
                interaction,
                position,
                ..
            } => self.tell(interaction.0, ToCustomer::Queued { position }),
            Action::QueueFull { interaction, .. } | Action::Overflow { interaction, .. } => {
                if !self.rooms.contains_key(&interaction.0) {
                    return;
                }
                let (store, id, at) = (self.store.clone(), interaction.0, now_ms());
                tokio::spawn(async move {
                    if let Err(e) = store.end_chat(id, at).await {
                        tracing::error!(error = %e, "chat end not stored");
                    }
                });
                self.tell(
                    interaction.0,
                    ToCustomer::Ended {
                        reason: "no agent can take the chat now; please try again later".into(),
                    },
                );
                self.forget(interaction.0);
            }
            _ => {}
        }
    }
}
