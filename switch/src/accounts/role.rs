//! Roles, and what a role may see.
//!
//! - `agent`: their own ACD agent (state, offers, interactions, preview records, history),
//!   and the queues of their teams (read only);
//! - `supervisor`: the agents and queues of their teams (read, and agents' state);
//! - `campaign_manager`: campaigns, lists, DNC and campaign statistics;
//! - `administrator`: everything (accounts, teams, tokens, audit, queues, agents, CDRs,
//!   campaigns).
//!
//! An account may hold several roles; it may do what any of them allows.

use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Agent,
    Supervisor,
    CampaignManager,
    Administrator,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::Agent,
        Role::Supervisor,
        Role::CampaignManager,
        Role::Administrator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Supervisor => "supervisor",
            Role::CampaignManager => "campaign_manager",
            Role::Administrator => "administrator",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The set of roles of an account.
pub type Roles = BTreeSet<Role>;

/// What part of the ACD a caller may see: everything, or these agents and queues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    Limited {
        agents: BTreeSet<String>,
        queues: BTreeSet<String>,
    },
}

impl Scope {
    pub fn none() -> Scope {
        Scope::Limited {
            agents: BTreeSet::new(),
            queues: BTreeSet::new(),
        }
    }

    pub fn agent(&self, id: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Limited { agents, .. } => agents.contains(id),
        }
    }

    pub fn queue(&self, dn: &str) -> bool {
        match self {
            Scope::All => true,
            Scope::Limited { queues, .. } => queues.contains(dn),
        }
    }
}
