//! Configurations several test files start from.

use crate::SwitchConfig;

/// Team sales (queue 8000): agents 1001, 1002, supervisor 1010. Team support (queue 9000):
/// agent 2001. Campaign manager 1009. Everyone logs in with their SIP password.
pub fn two_teams() -> SwitchConfig {
    let mut c = SwitchConfig::new();
    for id in ["1001", "1002", "1009", "1010", "2001"] {
        c = c.user(id, &format!("pass{id}"));
    }
    c.extra(
        r#"
[[queues]]
dn = "8000"
[[queues]]
dn = "9000"
[[agents]]
id = "1001"
extension = "1001"
queues = ["8000"]
[[agents]]
id = "1002"
extension = "1002"
queues = ["8000"]
[[agents]]
id = "2001"
extension = "2001"
queues = ["9000"]
[[teams]]
name = "sales"
queues = ["8000"]
[[teams]]
name = "support"
queues = ["9000"]
[[accounts]]
id = "1001"
roles = ["agent"]
teams = ["sales"]
agent = "1001"
[[accounts]]
id = "1002"
roles = ["agent"]
teams = ["sales"]
agent = "1002"
[[accounts]]
id = "2001"
roles = ["agent"]
teams = ["support"]
agent = "2001"
[[accounts]]
id = "1010"
roles = ["supervisor"]
teams = ["sales"]
extension = "1010"
[[accounts]]
id = "1009"
roles = ["campaign_manager"]
extension = "1009"
[auth.dialing.agent]
deny = ["+1900"]
"#,
    )
}
