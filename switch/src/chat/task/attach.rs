//! Files sent in a chat, as the chat task admits them: it alone knows who is in the chat
//! and how much of its budget is spent, so two uploads at once cannot both overrun it.
//! The bytes were checked ([`FileRules::check_file`](crate::chat::attachment::FileRules))
//! and written to a temporary name before they get here.

use super::super::customer::ToCustomer;
use super::super::error::ChatError;
use super::super::files::{self, NewFile, Sender};
use super::super::message::{Message, Role};
use super::super::room::Phase;
use super::{now_ms, Task};
use crate::store::StoredAttachment;
use acd::AgentId;

impl Task {
    /// The sender's name and role if they may send into chat `id` now: the customer until
    /// the chat ends, an agent while they write in it.
    fn sender(&self, from: &Sender, id: u64) -> Result<(String, Role), ChatError> {
        let room = self.room(id)?;
        match from {
            Sender::Customer if matches!(room.phase, Phase::Ended { .. }) => {
                Err(ChatError::NotActive)
            }
            Sender::Customer => Ok((room.customer.clone(), Role::Customer)),
            Sender::Agent(agent) => Ok((room.party(agent)?.name().to_string(), Role::Agent)),
        }
    }

    pub(super) fn attachable(&self, from: &Sender, id: u64) -> Result<(String, u64), ChatError> {
        let (name, _) = self.sender(from, id)?;
        Ok((name, self.room(id)?.files_bytes))
    }

    /// Admits the file against the chat's budget, renames it to its final name, indexes it
    /// and shows it to both sides. Refused: nothing is indexed (the caller removes the
    /// temporary file).
    pub(super) async fn attach(
        &mut self,
        from: Sender,
        id: u64,
        file: NewFile,
    ) -> Result<Message, ChatError> {
        let (sender, role) = self.sender(&from, id)?;
        let used = self.room(id)?.files_bytes;
        self.config.attachments.admit(used, file.size)?;
        files::commit(&file).await.map_err(|e| {
            tracing::error!(error = %e, "attachment not renamed");
            ChatError::FileStore(e.to_string())
        })?;
        let stored = StoredAttachment {
            id: file.id.clone(),
            chat: id,
            sender,
            role: role.as_str().to_string(),
            name: file.name.clone(),
            ext: file.ext.clone(),
            size: file.size,
            at_ms: now_ms(),
        };
        if let Err(e) = self.store.insert_attachment(&stored).await {
            tracing::error!(error = %e, "attachment not indexed");
            let _ = tokio::fs::remove_file(&file.path).await;
            return Err(ChatError::FileStore(e.to_string()));
        }
        self.room_mut(id)?.files_bytes = used + file.size;
        let m = files::entry(&stored);
        self.tell(id, ToCustomer::Message { message: m.clone() });
        let except = match &from {
            Sender::Agent(a) => Some(a),
            Sender::Customer => None,
        };
        self.to_agents(id, &m, except);
        tracing::info!(size = file.size, ext = %file.ext, role = role.as_str(), "chat file sent");
        Ok(m)
    }

    /// Whether `agent` is in the live chat: its agent (working it or wrapping it up), its
    /// conference guest, or an agent who transferred it and owes the wrap-up.
    pub(super) fn involves(&self, agent: &AgentId, id: u64) -> bool {
        self.rooms.get(&id).is_some_and(|r| {
            r.owes(agent)
                || r.guest.as_ref().is_some_and(|g| &g.agent == agent)
                || match &r.phase {
                    Phase::Active { agent: a, .. } | Phase::Ended { agent: Some(a) } => a == agent,
                    _ => false,
                }
        })
    }
}
