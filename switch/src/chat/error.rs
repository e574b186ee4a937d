//! Why the chat service refused something. The API maps each to a status and a code.

/// A refusal; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChatError {
    #[error("a message is at most {max} characters; this one has {chars} (nothing was sent)")]
    TooLong { chars: usize, max: usize },
    #[error("the message is empty")]
    EmptyMessage,
    #[error("the message holds control characters")]
    ControlCharacters,
    #[error("the message holds a card number and was not sent (card numbers must not be written in a chat)")]
    CardNumber,
    #[error("the name must be 1-64 characters without control characters")]
    BadName,
    #[error("{0:?} is no ACD DN of this switch")]
    UnknownDn(String),
    #[error("no such chat")]
    NotFound,
    #[error("the chat is not yours")]
    NotYours,
    #[error("the chat is not offered to you")]
    NotOffered,
    #[error("the chat is not in progress")]
    NotActive,
    #[error("the chat has not ended")]
    NotEnded,
    #[error("unknown wrap-up code {0:?} for this queue")]
    UnknownCode(String),
    #[error("a transfer or conference invitation is already in progress")]
    InviteInFlight,
    #[error("the chat is in a conference: its guest leaves first")]
    InConference,
    #[error("only the agent who has the chat may do this; a conference guest may only leave")]
    GuestOnly,
    #[error("only a conference guest leaves a chat; its agent ends it")]
    NotAGuest,
    #[error("you cannot transfer the chat or invite to yourself")]
    SelfTarget,
    #[error("{0:?} is no agent of this switch")]
    UnknownAgent(String),
    #[error("the ACD refused: {0}")]
    Acd(String),
    #[error("the chat service has stopped")]
    Stopped,
    /// A file refused by the attachment rules.
    #[error(transparent)]
    File(#[from] super::attachment::AttachError),
    #[error("the file could not be stored: {0}")]
    FileStore(String),
}

impl ChatError {
    /// A stable code for JSON error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            ChatError::TooLong { .. } => "message_too_long",
            ChatError::EmptyMessage => "empty_message",
            ChatError::ControlCharacters => "control_characters",
            ChatError::CardNumber => "card_number",
            ChatError::BadName => "bad_name",
            ChatError::UnknownDn(_) => "unknown_dn",
            ChatError::NotFound => "not_found",
            ChatError::NotYours => "not_your_chat",
            ChatError::NotOffered => "not_offered",
            ChatError::NotActive => "not_active",
            ChatError::NotEnded => "not_ended",
            ChatError::UnknownCode(_) => "invalid",
            ChatError::InviteInFlight => "invite_in_progress",
            ChatError::InConference => "in_conference",
            ChatError::GuestOnly => "guest",
            ChatError::NotAGuest => "not_a_guest",
            ChatError::SelfTarget => "self_target",
            ChatError::UnknownAgent(_) => "unknown_agent",
            ChatError::Acd(_) => "conflict",
            ChatError::Stopped => "unavailable",
            ChatError::File(e) => e.code(),
            ChatError::FileStore(_) => "store",
        }
    }
}
