//! The ACD engine's actions that concern chats, as the distributor streams them.

use super::super::customer::ToCustomer;
use super::{now_ms, Task};
use acd::Action;
use serde_json::json;

impl Task {
    /// The ACD's actions for chats: offers, withdrawn offers, queue positions, refusals.
    pub(super) async fn action(&mut self, action: Action) {
        match action {
            Action::Offer {
                interaction,
                agent,
                queue,
                channel: acd::Channel::Chat,
            } => {
                let id = self.chat_of(interaction.0);
                let Some(room) = self.rooms.get_mut(&id) else {
                    return;
                };
                // A transfer to an agent or a conference invitation: the pop-up says so.
                let (kind, from) = match room.invite.as_mut().filter(|i| i.leg == interaction.0) {
                    Some(invite) => {
                        invite.offered = Some(agent.clone());
                        (invite.kind.as_str(), Some(invite.from_name.clone()))
                    }
                    None if room.leg == interaction.0 => {
                        room.offered(agent.clone());
                        ("chat", None)
                    }
                    None => return,
                };
                self.distributor.publish(json!({
                    "type": "chat_offer", "interaction": id, "agent": agent,
                    "queue": queue, "queue_name": room.queue_name, "channel": "chat",
                    "customer": room.customer, "arrived_ms": room.arrived_ms,
                    "kind": kind, "from": from,
                }));
            }
            Action::CancelOffer {
                interaction, agent, ..
            } => {
                let id = self.chat_of(interaction.0);
                if let Some(room) = self.rooms.get_mut(&id) {
                    match room.invite.as_mut().filter(|i| i.leg == interaction.0) {
                        Some(i) if i.offered.as_ref() == Some(&agent) => i.offered = None,
                        Some(_) => {}
                        None => room.offer_withdrawn(&agent),
                    }
                    // The desktop's pop-up is for the chat, not the leg.
                    if interaction.0 != id {
                        self.distributor.publish(json!({
                            "type": "offer_cancelled", "interaction": id, "agent": agent,
                        }));
                    }
                }
            }
            Action::DirectOfferFailed { interaction, .. } => {
                self.invite_failed(interaction.0).await
            }
            Action::InteractionQueued {
                interaction,
                position,
                ..
            } => {
                let id = self.chat_of(interaction.0);
                if self.rooms.get(&id).is_some_and(|r| r.leg == interaction.0) {
                    self.tell(id, ToCustomer::Queued { position });
                }
            }
            Action::QueueFull { interaction, .. } | Action::Overflow { interaction, .. } => {
                let id = self.chat_of(interaction.0);
                if self.rooms.get(&id).is_none_or(|r| r.leg != interaction.0) {
                    // A conference invitation to a queue nobody can take: the invite ends.
                    self.invite_failed(interaction.0).await;
                    return;
                }
                let interaction = acd::InteractionId(id);
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
