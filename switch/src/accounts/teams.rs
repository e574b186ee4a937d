//! Teams: the scopes of supervisors.

use super::{check_team_name, invalid, read, write, AccountError, Accounts, Actor, Team};

impl Accounts {
    pub fn teams(&self) -> Vec<Team> {
        read(&self.inner.directory)
            .teams
            .values()
            .cloned()
            .collect()
    }

    pub async fn save_team(&self, actor: &Actor, team: Team) -> Result<Team, AccountError> {
        check_team_name(&team.name).map_err(|m| invalid("name", m))?;
        for dn in &team.queues {
            acd::check_dn(dn).map_err(|m| invalid("queues", format!("{dn:?}: {m}")))?;
        }
        self.inner.store.save_team(&team.name, &team).await?;
        write(&self.inner.directory)
            .teams
            .insert(team.name.clone(), team.clone());
        let queues: Vec<&str> = team.queues.iter().map(String::as_str).collect();
        self.audit(actor, "team_changed", &team.name, &queues.join(","))
            .await;
        Ok(team)
    }

    pub async fn delete_team(&self, actor: &Actor, name: &str) -> Result<(), AccountError> {
        {
            let dir = read(&self.inner.directory);
            if !dir.teams.contains_key(name) {
                return Err(AccountError::NoTeam(name.into()));
            }
            if let Some(a) = dir.accounts.values().find(|a| a.teams.contains(name)) {
                return Err(AccountError::TeamInUse {
                    team: name.into(),
                    account: a.id.clone(),
                });
            }
        }
        self.inner.store.delete_team(name).await?;
        write(&self.inner.directory).teams.remove(name);
        self.audit(actor, "team_deleted", name, "").await;
        Ok(())
    }
}
