//! Agent and queue configuration: plain serde structs the switch loads from TOML or a REST
//! body and hands to [`Engine::upsert_agent`](crate::Engine::upsert_agent) /
//! [`Engine::upsert_queue`](crate::Engine::upsert_queue). Every field but the id has a
//! default, so a minimal TOML entry is `dn = "8000"` or `id = "alice"`.

use crate::error::ConfigError;
use crate::id::{check_agent_id, check_dn, check_name, AgentId, Channel, Dn};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;

/// Skill name -> level. For an agent: the level they have. For a queue or an interaction: the
/// minimum level required. In TOML: `skills = { english = 5, billing = 3 }`.
pub type Skills = BTreeMap<String, u8>;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AgentConfig {
    pub id: AgentId,
    #[serde(default)]
    pub name: String,
    /// The extension the switch rings for voice offers.
    #[serde(default)]
    pub extension: String,
    #[serde(default)]
    pub skills: Skills,
    /// DNs of the queues this agent serves. A DN with no queue yet is remembered and linked
    /// when that queue is created.
    #[serde(default)]
    pub queues: Vec<Dn>,
    #[serde(default)]
    pub capacity: Capacity,
}

impl AgentConfig {
    /// The SIP user the agent's voice offers ring: its extension, else its id.
    pub fn phone(&self) -> &str {
        if self.extension.is_empty() {
            self.id.as_str()
        } else {
            &self.extension
        }
    }

    pub fn new(id: impl Into<AgentId>) -> Self {
        AgentConfig {
            id: id.into(),
            name: String::new(),
            extension: String::new(),
            skills: Skills::new(),
            queues: Vec::new(),
            capacity: Capacity::default(),
        }
    }

    /// The id and extension keep to [`check_agent_id`]'s characters, the queues' DNs to
    /// [`check_dn`]'s, the name and skill names to [`check_name`].
    pub fn validate(&self) -> Result<(), ConfigError> {
        let at = |key| move |reason| ConfigError::new(key, reason);
        check_agent_id(self.id.as_str()).map_err(at("id"))?;
        check_name(&self.name).map_err(at("name"))?;
        if !self.extension.is_empty() {
            check_agent_id(&self.extension).map_err(at("extension"))?;
        }
        for dn in &self.queues {
            check_dn(dn.as_str()).map_err(at("queues"))?;
        }
        check_skills(&self.skills).map_err(at("skills"))
    }
}

/// Skill names: not empty, and names by [`check_name`]'s rule.
fn check_skills(skills: &Skills) -> Result<(), &'static str> {
    for name in skills.keys() {
        if name.is_empty() {
            return Err("skill names must not be empty");
        }
        check_name(name)?;
    }
    Ok(())
}

/// How many interactions of each channel an agent may hold at once. Zero means the agent
/// never receives that channel. The default is one voice call and nothing else.
///
/// Channels do not mix: an agent busy on chats receives more chats (up to `chat`) but no
/// call until the chats are done, and an agent on a call receives nothing else.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Capacity {
    pub voice: u8,
    pub chat: u8,
    pub email: u8,
    pub im: u8,
    pub preview: u8,
}

impl Default for Capacity {
    fn default() -> Self {
        Capacity {
            voice: 1,
            chat: 0,
            email: 0,
            im: 0,
            preview: 0,
        }
    }
}

impl Capacity {
    pub fn of(&self, c: Channel) -> u8 {
        match c {
            Channel::Voice => self.voice,
            Channel::Chat => self.chat,
            Channel::Email => self.email,
            Channel::Im => self.im,
            Channel::Preview => self.preview,
        }
    }
}

/// How a queue picks among its available agents.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// The agent who has been Ready the longest (since their last state change to Ready).
    #[default]
    LongestIdle,
    /// Agents in the order they joined the queue; the queue remembers the last agent it
    /// offered to and continues after them.
    RoundRobin,
    /// The agent who has answered the fewest interactions from this queue; ties go to the
    /// longest idle.
    FewestHandled,
    /// The agent with the highest sum of levels in the queue's required skills; ties go to
    /// the longest idle.
    BestSkill,
    /// Offer to every available agent at once; the first to accept wins.
    RingAll,
}

/// What happens after an interaction ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case", deny_unknown_fields)]
pub enum WrapUp {
    /// AfterCallWork for `secs` seconds, then Ready automatically (0: straight to Ready).
    Fixed { secs: u32 },
    /// AfterCallWork until the agent sends `WrapUpDone` or chooses a state. (A struct
    /// variant, so `deny_unknown_fields` refuses `{"mode":"manual","x":1}`: serde skips
    /// that check for unit variants of an internally tagged enum.)
    Manual {},
}

impl Default for WrapUp {
    fn default() -> Self {
        WrapUp::Fixed { secs: 0 }
    }
}

/// Overflow rule: an interaction that waited `secs` goes to `target` (another queue,
/// voicemail, a user: whatever the dialplan makes of that DN).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MaxWait {
    pub secs: u32,
    pub target: Dn,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueConfig {
    pub dn: Dn,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub strategy: Strategy,
    /// Seconds an offer rings before RONA.
    #[serde(default = "default_offer_timeout")]
    pub offer_timeout_secs: u32,
    #[serde(default)]
    pub wrap_up: WrapUp,
    #[serde(default)]
    pub max_wait: Option<MaxWait>,
    /// Most interactions that may wait at once; the next one gets `QueueFull` (busy).
    /// `Some(0)` accepts an interaction only if an agent can take it at once.
    #[serde(default)]
    pub max_size: Option<u32>,
    /// Skills an agent must have (at least at these levels) to receive from this queue.
    #[serde(default)]
    pub required_skills: Skills,
    /// The threshold of the service-level statistic ("answered within N seconds").
    #[serde(default = "default_service_level")]
    pub service_level_secs: u32,
    /// The share of this queue's calls recorded, in percent (0: none, 100: all).
    #[serde(default)]
    pub record_percent: u8,
    /// Whether an agent must submit the wrap-up of this queue's interactions before going
    /// Ready (Not Ready stays allowed meanwhile).
    #[serde(default)]
    pub wrap_up_required: bool,
    /// Where an interaction transferred into this queue waits: by its first arrival in
    /// the contact centre, or as if it had just arrived.
    #[serde(default)]
    pub transfer_arrival: TransferArrival,
}

/// The place in the queue of an interaction that arrives by transfer.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TransferArrival {
    /// Its first arrival: it goes ahead of those that came after it, and its wait counts
    /// from then.
    #[default]
    Original,
    /// The transfer: behind everyone already waiting.
    Transfer,
}

fn default_offer_timeout() -> u32 {
    15
}

fn default_service_level() -> u32 {
    20
}

impl QueueConfig {
    pub fn new(dn: impl Into<Dn>) -> Self {
        QueueConfig {
            dn: dn.into(),
            name: String::new(),
            strategy: Strategy::default(),
            offer_timeout_secs: default_offer_timeout(),
            wrap_up: WrapUp::default(),
            max_wait: None,
            max_size: None,
            required_skills: Skills::new(),
            service_level_secs: default_service_level(),
            record_percent: 0,
            transfer_arrival: TransferArrival::default(),
            wrap_up_required: false,
        }
    }

    pub fn validate(&self) -> Result<(), ConfigError> {
        let at = |key| move |reason| ConfigError::new(key, reason);
        check_dn(self.dn.as_str()).map_err(at("dn"))?;
        check_name(&self.name).map_err(at("name"))?;
        check_skills(&self.required_skills).map_err(at("required_skills"))?;
        if self.offer_timeout_secs == 0 {
            return Err(ConfigError::new("offer_timeout_secs", "must be at least 1"));
        }
        if self.record_percent > 100 {
            return Err(ConfigError::new("record_percent", "must be 0..=100"));
        }
        if let Some(mw) = &self.max_wait {
            check_dn(mw.target.as_str()).map_err(at("max_wait.target"))?;
            if mw.target == self.dn {
                return Err(ConfigError::new(
                    "max_wait.target",
                    "must not be the queue itself",
                ));
            }
        }
        Ok(())
    }

    pub(crate) fn offer_timeout(&self) -> Duration {
        Duration::from_secs(u64::from(self.offer_timeout_secs))
    }
}

#[cfg(test)]
mod tests {
    use super::WrapUp;

    #[test]
    fn wrap_up_refuses_unknown_fields_in_every_mode() {
        let manual: WrapUp = serde_json::from_str(r#"{"mode":"manual"}"#).unwrap();
        assert_eq!(manual, WrapUp::Manual {});
        assert_eq!(
            serde_json::to_string(&manual).unwrap(),
            r#"{"mode":"manual"}"#
        );
        for bad in [
            r#"{"mode":"manual","x":1}"#,
            r#"{"mode":"fixed","secs":1,"x":1}"#,
        ] {
            assert!(serde_json::from_str::<WrapUp>(bad).is_err(), "{bad}");
        }
    }
}
