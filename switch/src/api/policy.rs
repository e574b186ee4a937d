//! Who may call each route: one [`Rule`] per method and path, for the switch's routes
//! (declared with them in `routes`) and the dialer's (here, since the dialer knows nothing
//! of accounts). A route without a rule is refused (403 `no_policy`), so a new route is
//! closed until someone decides who may use it; a test checks every route has one.
//!
//! An administrator passes every rule.

use crate::accounts::{Principal, Role, Scope};
use axum::http::Method;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Anyone, without a login.
    Open,
    /// `/metrics`: open unless `auth.metrics_open = false`, then supervisors.
    Metrics,
    /// Any logged-in account.
    LoggedIn,
    /// Accounts with one of these roles (administrators always).
    Roles(&'static [Role]),
    /// Agents and supervisors for an agent in their scope: the agent named by the path
    /// parameter `id` must be theirs (an agent) or in their teams (a supervisor).
    Agent,
    /// Agents and supervisors for a queue of their teams (path parameter `dn`).
    Queue,
    /// A chat's files: its customer, by the chat's token in `X-Chat-Token` (checked by
    /// the handler: the guard lets such a request through without a login), or else
    /// agents and supervisors (the handler checks the chat is theirs or their teams').
    ChatParty,
}

pub const ADMIN: Rule = Rule::Roles(&[]);
pub const AGENTS_AND_SUPERVISORS: Rule = Rule::Roles(&[Role::Agent, Role::Supervisor]);
pub const SUPERVISORS: Rule = Rule::Roles(&[Role::Supervisor]);
pub const CAMPAIGNS: Rule = Rule::Roles(&[Role::CampaignManager]);
pub const CAMPAIGN_READERS: Rule = Rule::Roles(&[Role::CampaignManager, Role::Supervisor]);

/// Why a rule refused a caller (403).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

impl Rule {
    /// Whether `p` (with `scope`) may call the route; `param` is the path's `id` or `dn`.
    pub fn allows(
        self,
        p: &Principal,
        scope: impl FnOnce() -> Scope,
        param: Option<&str>,
    ) -> Result<(), Refusal> {
        if p.is_admin() {
            return Ok(());
        }
        let needs = |roles: &[Role]| {
            if roles.is_empty() {
                "the administrator role".to_string()
            } else {
                let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
                format!("one of the roles {}", names.join(", "))
            }
        };
        match self {
            Rule::Open | Rule::LoggedIn => Ok(()),
            Rule::ChatParty => AGENTS_AND_SUPERVISORS.allows(p, scope, param),
            Rule::Metrics => SUPERVISORS.allows(p, scope, param),
            Rule::Roles(roles) => {
                if roles.iter().any(|r| p.has(*r)) {
                    Ok(())
                } else {
                    Err(Refusal(format!("this needs {}", needs(roles))))
                }
            }
            Rule::Agent | Rule::Queue => {
                let roles = [Role::Agent, Role::Supervisor];
                if !roles.iter().any(|r| p.has(*r)) {
                    return Err(Refusal(format!("this needs {}", needs(&roles))));
                }
                let param = param.unwrap_or("");
                let scope = scope();
                let (ok, what) = if self == Rule::Agent {
                    (scope.agent(param), "agent")
                } else {
                    (scope.queue(param), "queue")
                };
                if ok {
                    Ok(())
                } else {
                    Err(Refusal(format!(
                        "{what} {param:?} is not yours nor in your teams"
                    )))
                }
            }
        }
    }
}

/// The rules of the dialer's routes (`dialer::http::route_list`).
pub fn dialer_rule(method: &Method, path: &str) -> Option<Rule> {
    let read = method == Method::GET;
    if path.starts_with("/api/agents/{id}/") {
        return Some(Rule::Agent);
    }
    if path.starts_with("/api/campaigns") {
        return Some(if read { CAMPAIGN_READERS } else { CAMPAIGNS });
    }
    if path.starts_with("/api/dnc") {
        return Some(CAMPAIGNS);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::Via;

    fn who(roles: &[Role], agent: Option<&str>) -> Principal {
        Principal {
            account: "x".into(),
            name: "x".into(),
            roles: roles.iter().copied().collect(),
            teams: Default::default(),
            agent: agent.map(String::from),
            extension: None,
            via: Via::Token { id: "t".into() },
        }
    }

    fn scope(agents: &[&str], queues: &[&str]) -> Scope {
        Scope::Limited {
            agents: agents.iter().map(|s| s.to_string()).collect(),
            queues: queues.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn agents_reach_their_own_agent_only() {
        let agent = who(&[Role::Agent], Some("1001"));
        let own = || scope(&["1001"], &["8000"]);
        assert!(Rule::Agent.allows(&agent, own, Some("1001")).is_ok());
        assert!(Rule::Agent.allows(&agent, own, Some("1002")).is_err());
        assert!(Rule::Queue.allows(&agent, own, Some("8000")).is_ok());
        assert!(Rule::Queue.allows(&agent, own, Some("9000")).is_err());
        assert!(ADMIN.allows(&agent, own, None).is_err());
        assert!(CAMPAIGNS.allows(&agent, own, None).is_err());
        let cm = who(&[Role::CampaignManager], None);
        assert!(CAMPAIGNS.allows(&cm, Scope::none, None).is_ok());
        assert!(Rule::Agent.allows(&cm, Scope::none, Some("1001")).is_err());
        let admin = who(&[Role::Administrator], None);
        assert!(Rule::Agent
            .allows(&admin, Scope::none, Some("1001"))
            .is_ok());
        assert!(ADMIN.allows(&admin, Scope::none, None).is_ok());
    }

    /// The OpenAPI document is not among them: the switch serves the whole API's, with its
    /// rule in the switch's route table.
    #[test]
    fn every_dialer_route_has_a_rule() {
        for (method, path) in dialer::http::route_list() {
            assert_ne!(
                path,
                dialer::http::OPENAPI_PATH,
                "the switch serves the document"
            );
            assert!(
                dialer_rule(&method, path).is_some(),
                "no rule for the dialer's {method} {path}"
            );
        }
    }
}
