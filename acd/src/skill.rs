//! Skills, interned to small integers so that matching an agent against a requirement is a
//! merge of two short sorted vectors, not string comparisons.

use crate::config::Skills;
use std::collections::HashMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct SkillIx(u32);

#[derive(Default)]
pub(crate) struct SkillInterner {
    ids: HashMap<String, SkillIx>,
}

impl SkillInterner {
    fn intern(&mut self, name: &str) -> SkillIx {
        if let Some(ix) = self.ids.get(name) {
            return *ix;
        }
        let ix = SkillIx(u32::try_from(self.ids.len()).unwrap_or(u32::MAX));
        self.ids.insert(name.to_owned(), ix);
        ix
    }

    /// Sorted by skill id, so [`SkillSet::satisfies`] can merge.
    pub fn set(&mut self, skills: &Skills) -> SkillSet {
        let mut v: Vec<(SkillIx, u8)> = skills.iter().map(|(n, l)| (self.intern(n), *l)).collect();
        v.sort_unstable();
        SkillSet(v)
    }
}

/// Skill levels (of an agent) or minimum levels (of a requirement).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SkillSet(Vec<(SkillIx, u8)>);

impl SkillSet {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether levels `self` meet every minimum in `required`. O(|self| + |required|).
    pub fn satisfies(&self, required: &SkillSet) -> bool {
        let mut have = self.0.iter();
        'req: for (skill, min) in &required.0 {
            for (s, level) in have.by_ref() {
                if s == skill {
                    if level < min {
                        return false;
                    }
                    continue 'req;
                }
                if s > skill {
                    return false;
                }
            }
            return false;
        }
        true
    }

    /// Sum of this agent's levels in the required skills (the best-skill ordering).
    pub fn level_in(&self, required: &SkillSet) -> u32 {
        required
            .0
            .iter()
            .filter_map(|(skill, _)| {
                self.0
                    .binary_search_by_key(skill, |(s, _)| *s)
                    .ok()
                    .and_then(|i| self.0.get(i))
                    .map(|(_, l)| u32::from(*l))
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn skills(pairs: &[(&str, u8)]) -> Skills {
        pairs.iter().map(|(n, l)| (n.to_string(), *l)).collect()
    }

    #[test]
    fn satisfies_needs_every_skill_at_level() {
        let mut i = SkillInterner::default();
        let agent = i.set(&skills(&[("english", 5), ("billing", 3), ("french", 1)]));
        assert!(agent.satisfies(&i.set(&skills(&[]))));
        assert!(agent.satisfies(&i.set(&skills(&[("billing", 3)]))));
        assert!(agent.satisfies(&i.set(&skills(&[("english", 4), ("french", 1)]))));
        assert!(!agent.satisfies(&i.set(&skills(&[("billing", 4)]))));
        assert!(!agent.satisfies(&i.set(&skills(&[("german", 0)]))));
        assert!(!agent.satisfies(&i.set(&skills(&[("english", 1), ("german", 1)]))));
        assert!(!SkillSet::default().satisfies(&i.set(&skills(&[("english", 0)]))));
    }

    #[test]
    fn level_sums_required_skills_only() {
        let mut i = SkillInterner::default();
        let agent = i.set(&skills(&[("english", 5), ("billing", 3)]));
        let req = i.set(&skills(&[("english", 1), ("billing", 1), ("french", 1)]));
        assert_eq!(agent.level_in(&req), 8);
    }
}
