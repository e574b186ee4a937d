//! Transfers, conferences and a guest leaving, as the chat task carries them out: every
//! agent's part is its own ACD interaction (a leg), so the ACD decides who can take it and
//! keeps each agent's state and capacity.

use super::super::collab::{Guest, Invite, Kind, Target};
use super::super::customer::ToCustomer;
use super::super::error::ChatError;
use super::super::message::{Message, Role};
use super::super::room::Phase;
use super::super::ChatView;
use super::{now_ms, Task, CHAT_TAG};
use crate::config::TransferFallback;
use acd::{AgentId, Event, InteractionId};
use serde_json::json;

impl Task {
    /// A new ACD interaction for a part of chat `id`.
    fn new_leg(&mut self, id: u64) -> u64 {
        let leg = crate::orders::interaction_id(CHAT_TAG, self.next);
        self.next += 1;
        self.legs.insert(leg, id);
        leg
    }

    /// The chat an ACD interaction belongs to.
    pub(super) fn chat_of(&self, interaction: u64) -> u64 {
        self.legs.get(&interaction).copied().unwrap_or(interaction)
    }

    async fn check_target(&self, target: &Target) -> Result<(), ChatError> {
        match target {
            Target::Queue(dn) if !self.distributor.is_queue(dn.as_str()) => {
                Err(ChatError::UnknownDn(dn.as_str().to_string()))
            }
            Target::Agent(a) => {
                let id = a.clone();
                let known = self
                    .distributor
                    .read(move |e, _| e.agent_config(&id).is_some())
                    .await
                    .unwrap_or(false);
                if known {
                    Ok(())
                } else {
                    Err(ChatError::UnknownAgent(a.as_str().to_string()))
                }
            }
            Target::Queue(_) => Ok(()),
        }
    }

    /// `POST /api/chats/{id}/transfer` and `/conference`.
    pub(super) async fn invite(
        &mut self,
        agent: AgentId,
        id: u64,
        kind: Kind,
        target: Target,
    ) -> Result<(), ChatError> {
        self.check_target(&target).await?;
        let room = self.room(id)?;
        room.check_invite(&agent, kind, &target)?;
        let from_name = room.party(&agent)?.name().to_string();
        let customer = room.customer.clone();
        if let (Kind::Transfer, Target::Queue(dn)) = (kind, &target) {
            return self
                .transfer_to_queue(id, agent, from_name, dn.clone())
                .await;
        }
        let leg = self.new_leg(id);
        let room = self.room(id)?;
        let mut arrival = acd::Arrival::new(leg, room.queue.clone(), acd::Channel::Chat);
        arrival.caller.name = customer;
        let event = match &target {
            Target::Agent(a) => Event::DirectArrival {
                arrival,
                agent: a.clone(),
            },
            Target::Queue(dn) => {
                arrival.queue = dn.clone();
                Event::InteractionArrived(arrival)
            }
        };
        self.room_mut(id)?.invite = Some(Invite {
            kind,
            leg,
            from: agent,
            from_name,
            target,
            offered: None,
            declined: false,
        });
        if let Err(e) = self.acd(event).await {
            self.legs.remove(&leg);
            self.room_mut(id)?.invite = None;
            return Err(e);
        }
        tracing::info!(kind = kind.as_str(), leg, "chat invitation sent");
        Ok(())
    }

    /// The chat goes back to a queue: its agent leaves now (to their wrap-up), the customer
    /// keeps their transcript and waits for the next agent.
    pub(super) async fn transfer_to_queue(
        &mut self,
        id: u64,
        from: AgentId,
        from_name: String,
        dn: acd::Dn,
    ) -> Result<(), ChatError> {
        let q = dn.clone();
        let queue_name = self
            .distributor
            .read(move |e, _| e.queue_config(&q).map(|c| c.name.clone()))
            .await
            .flatten()
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| dn.as_str().to_string());
        let leg = self.new_leg(id);
        let room = self.room_mut(id)?;
        let (old_leg, old_queue) = (room.leg, room.queue.clone());
        room.owed.push((from.clone(), old_queue.clone()));
        room.phase = Phase::Waiting;
        room.leg = leg;
        room.queue = dn.clone();
        room.queue_name = queue_name.clone();
        room.invite = None;
        let customer = room.customer.clone();
        self.leave_leg(old_leg).await;
        self.publish_ended(id, &from, "transfer", old_queue.as_str(), false);
        self.notice(
            id,
            format!("{from_name} transferred the chat to {queue_name}"),
        )
        .await;
        self.tell(
            id,
            ToCustomer::Message {
                message: Message {
                    sender: "System".into(),
                    role: Role::System,
                    text: "You are being transferred, please wait for the next agent".into(),
                    at_ms: now_ms(),
                    attachment: None,
                },
            },
        );
        let mut arrival = acd::Arrival::new(leg, dn, acd::Channel::Chat);
        arrival.caller.name = customer;
        if let Err(e) = self.acd(Event::InteractionArrived(arrival)).await {
            tracing::error!(error = %e, "transferred chat not queued");
            self.finish(id, "transfer_failed").await;
        }
        tracing::info!(leg, "chat transferred to a queue");
        Ok(())
    }

    /// Ends one agent's part with the ACD (that agent goes to wrap-up by their queue).
    async fn leave_leg(&mut self, leg: u64) {
        self.legs.remove(&leg);
        if let Err(e) = self
            .acd(Event::InteractionEnded {
                interaction: InteractionId(leg),
            })
            .await
        {
            tracing::debug!(error = %e, leg, "ACD refused the end of a chat leg");
        }
    }

    pub(super) fn publish_ended(
        &self,
        id: u64,
        agent: &AgentId,
        by: &str,
        queue: &str,
        guest: bool,
    ) {
        let codes: &[String] = if guest {
            &[]
        } else {
            self.config.codes_of(queue)
        };
        self.distributor.publish(json!({
            "type": "chat_ended", "interaction": id, "agent": agent, "by": by,
            "queue": queue, "wrap_up_codes": codes, "guest": guest,
        }));
    }

    /// The target accepted the invitation offered to them.
    pub(super) async fn invite_accepted(
        &mut self,
        agent: AgentId,
        id: u64,
        invite: Invite,
    ) -> Result<ChatView, ChatError> {
        self.acd(Event::OfferAccepted {
            interaction: InteractionId(invite.leg),
            agent: agent.clone(),
        })
        .await?;
        let name = self.agent_name(&agent).await;
        let room = self.room_mut(id)?;
        room.invite = None;
        match invite.kind {
            Kind::Transfer => {
                let (old_leg, queue) = (room.leg, room.queue.clone());
                room.owed.push((invite.from.clone(), queue.clone()));
                room.leg = invite.leg;
                room.accepted(agent.clone(), name.clone());
                self.leave_leg(old_leg).await;
                self.legs.insert(invite.leg, id);
                self.publish_ended(id, &invite.from, "transfer", queue.as_str(), false);
                if let Err(e) = self.store.set_chat_agent(id, agent.as_str()).await {
                    tracing::error!(error = %e, "chat agent not stored");
                }
                self.notice(
                    id,
                    format!("{} transferred the chat to {name}", invite.from_name),
                )
                .await;
                self.tell(id, ToCustomer::AgentJoined { name: name.clone() });
            }
            Kind::Conference => {
                room.guest = Some(Guest {
                    agent: agent.clone(),
                    name: name.clone(),
                    leg: invite.leg,
                });
            }
        }
        self.notice(id, format!("{name} joined the chat")).await;
        tracing::info!(kind = invite.kind.as_str(), "chat invitation accepted");
        let room = self.room(id)?;
        Ok(self.view_for(room, &agent).await)
    }

    /// The invitation's target declined: the engine ends the leg (`DirectOfferFailed`).
    pub(super) async fn invite_declined(
        &mut self,
        agent: AgentId,
        id: u64,
        leg: u64,
    ) -> Result<(), ChatError> {
        if let Some(i) = self.room_mut(id)?.invite.as_mut() {
            i.declined = true;
        }
        self.acd(Event::OfferRejected {
            interaction: InteractionId(leg),
            agent,
        })
        .await
    }

    /// A direct offer of an invitation failed (declined, timed out, withdrawn).
    pub(super) async fn invite_failed(&mut self, leg: u64) {
        let Some(id) = self.legs.remove(&leg) else {
            return;
        };
        let Some(room) = self.rooms.get_mut(&id) else {
            return;
        };
        let Some(invite) = room.invite.take_if(|i| i.leg == leg) else {
            return;
        };
        let target = match (&invite.offered, &invite.target) {
            (Some(a), _) | (None, Target::Agent(a)) => self.agent_name(a).await,
            (None, Target::Queue(q)) => q.as_str().to_string(),
        };
        let reason = if invite.declined {
            format!("{target} declined")
        } else {
            format!("{target} did not answer")
        };
        let back_to_queue = invite.kind == Kind::Transfer
            && self.config.transfer_fallback == TransferFallback::Queue;
        if back_to_queue {
            let queue = self.room(id).map(|r| r.queue.clone());
            if let Ok(queue) = queue {
                if let Err(e) = self
                    .transfer_to_queue(id, invite.from, invite.from_name, queue)
                    .await
                {
                    tracing::warn!(error = %e, "chat not put back in its queue");
                }
            }
            return;
        }
        self.distributor.publish(json!({
            "type": "chat_invite_failed", "interaction": id, "agent": invite.from,
            "kind": invite.kind, "reason": reason,
        }));
        tracing::info!(kind = invite.kind.as_str(), %reason, "chat invitation failed");
    }

    /// `POST /api/chats/{id}/leave`: the conference guest leaves; the chat goes on.
    pub(super) async fn leave(&mut self, agent: AgentId, id: u64) -> Result<(), ChatError> {
        let guest = self.room_mut(id)?.guest_leaves(&agent)?;
        self.release_guest(id, guest, None).await;
        Ok(())
    }

    /// The guest's part ends: no wrap-up for them (the first agent applies it), so they
    /// leave After-Call-Work at once (to Ready, or the state they asked for).
    async fn release_guest(&mut self, id: u64, guest: Guest, ended_by: Option<&str>) {
        self.leave_leg(guest.leg).await;
        if let Err(e) = self
            .acd(Event::WrapUpDone {
                agent: guest.agent.clone(),
            })
            .await
        {
            tracing::debug!(error = %e, "guest had no wrap-up to finish");
        }
        match ended_by {
            Some(by) => {
                let queue = self.room(id).map(|r| r.queue.as_str().to_string());
                self.publish_ended(id, &guest.agent, by, &queue.unwrap_or_default(), true);
            }
            None => {
                self.notice(id, format!("{} left the chat", guest.name))
                    .await;
                self.distributor.publish(json!({
                    "type": "chat_left", "interaction": id, "agent": guest.agent,
                }));
            }
        }
    }

    /// The chat ends: the guest's part and any invitation in flight end with it.
    pub(super) async fn end_collab(&mut self, id: u64, by: &str) {
        let Some(room) = self.rooms.get_mut(&id) else {
            return;
        };
        let (guest, invite) = (room.guest.take(), room.invite.take());
        if let Some(g) = guest {
            self.release_guest(id, g, Some(by)).await;
        }
        if let Some(i) = invite {
            self.leave_leg(i.leg).await;
        }
    }
}
