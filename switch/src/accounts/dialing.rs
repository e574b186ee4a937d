//! Which numbers an account may have the switch call for it (click-to-call, preview
//! calls): per role, a list of allowed prefixes (empty: any number) and of denied ones,
//! which win. An account with several roles may dial what any of its roles allows.

use super::role::{Role, Roles};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DialRule {
    pub allow: Vec<String>,
    pub deny: Vec<String>,
}

impl DialRule {
    pub fn allows(&self, number: &str) -> bool {
        let allowed = self.allow.is_empty() || self.allow.iter().any(|p| number.starts_with(p));
        allowed && !self.deny.iter().any(|p| number.starts_with(p))
    }
}

/// The rules of every role; a role without a rule may dial any number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DialPlanRules(pub BTreeMap<Role, DialRule>);

impl DialPlanRules {
    pub fn allows(&self, roles: &Roles, number: &str) -> bool {
        roles
            .iter()
            .any(|r| self.0.get(r).is_none_or(|rule| rule.allows(number)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deny_wins_and_any_role_may_allow() {
        let mut rules = BTreeMap::new();
        rules.insert(
            Role::Agent,
            DialRule {
                allow: vec!["1".into(), "+44".into()],
                deny: vec!["+449".into()],
            },
        );
        rules.insert(
            Role::Supervisor,
            DialRule {
                allow: vec![],
                deny: vec!["+1900".into()],
            },
        );
        let rules = DialPlanRules(rules);
        let agent: Roles = [Role::Agent].into();
        assert!(rules.allows(&agent, "1002"));
        assert!(rules.allows(&agent, "+441234"));
        assert!(!rules.allows(&agent, "+449000"));
        assert!(!rules.allows(&agent, "+33123"));
        let both: Roles = [Role::Agent, Role::Supervisor].into();
        assert!(rules.allows(&both, "+33123"));
        assert!(!rules.allows(&both, "+1900555"));
        let admin: Roles = [Role::Administrator].into();
        assert!(rules.allows(&admin, "+1900555"), "no rule: any number");
    }
}
