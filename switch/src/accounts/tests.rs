//! The accounts service over a real SQLite store: seeding, logins, lock-out, tokens,
//! scopes.

use super::*;
use crate::store::testing::TestDb;
use std::net::Ipv4Addr;

const HERE: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn config(extra: &str, dir: &Path) -> Config {
    let text = format!(
        r#"
data_dir = "{}"
[[users]]
id = "1001"
password = "pass1001"
[[users]]
id = "1002"
password = "pass1002"
[[queues]]
dn = "8000"
[[queues]]
dn = "9000"
[[agents]]
id = "1001"
extension = "1001"
[[agents]]
id = "1002"
extension = "1002"
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
teams = ["support"]
agent = "1002"
[[accounts]]
id = "sup"
password = "supervisor-pw"
roles = ["supervisor"]
teams = ["sales"]
{extra}
"#,
        dir.display()
    );
    match Config::from_toml_str(&text) {
        Ok(c) => c,
        Err(e) => panic!("config: {e}"),
    }
}

async fn open(extra: &str) -> (Accounts, Opened, TestDb, tempdir::Dir) {
    let db = TestDb::sqlite().await;
    let dir = tempdir::Dir::new();
    let (a, o) = Accounts::open(db.store.clone(), &config(extra, &dir.0))
        .await
        .unwrap();
    (a, o, db, dir)
}

mod tempdir {
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new() -> Dir {
            let p = std::env::temp_dir().join(format!(
                "ccswitch_accounts_{}_{}",
                std::process::id(),
                rand::random::<u64>()
            ));
            let _ = std::fs::create_dir_all(&p);
            Dir(p)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

#[tokio::test]
async fn first_start_generates_the_administrator_password_once() {
    let (accounts, opened, db, dir) = open("").await;
    let password = opened.admin_password.clone().unwrap();
    let file = std::fs::read_to_string(dir.0.join(ADMIN_PASSWORD_FILE)).unwrap();
    assert_eq!(file.trim(), password);
    assert!(accounts.login(ADMIN, &password, HERE).await.is_ok());
    // The agents log in with their SIP passwords.
    let (_, _, view) = accounts.login("1001", "pass1001", HERE).await.unwrap();
    assert_eq!(view.agent.as_deref(), Some("1001"));
    assert_eq!(view.extension.as_deref(), Some("1001"));
    // Never stored in clear.
    let rows = db.store.load_accounts().await.unwrap();
    for (_, a) in &rows {
        let a = a.as_ref().unwrap();
        assert!(a.password_hash.starts_with("$argon2id$"));
        assert!(!a.password_hash.contains("pass1001"));
    }
    // A second start keeps the administrator and generates nothing.
    let (_, again) = Accounts::open(db.store.clone(), &config("", &dir.0))
        .await
        .unwrap();
    assert!(again.admin_password.is_none());
    db.cleanup().await;
}

#[tokio::test]
async fn locks_after_the_threshold_while_another_account_still_logs_in() {
    let (accounts, _, db, _dir) =
        open("[auth]\nlock_after = 3\nbackoff_after = 10\naddress_backoff_after = 50").await;
    for _ in 0..2 {
        assert!(matches!(
            accounts.login("1001", "wrong", HERE).await,
            Err(LoginError::Invalid)
        ));
    }
    assert!(matches!(
        accounts.login("1001", "wrong", HERE).await,
        Err(LoginError::Locked)
    ));
    // Locked: even the right password is refused, and the lock is in the store.
    assert!(matches!(
        accounts.login("1001", "pass1001", HERE).await,
        Err(LoginError::Locked)
    ));
    let stored = db.store.load_accounts().await.unwrap();
    assert!(stored
        .iter()
        .any(|(id, a)| id == "1001" && a.as_ref().unwrap().locked));
    // Another account from the same address is not affected.
    assert!(accounts.login("1002", "pass1002", HERE).await.is_ok());
    let admin = Actor {
        account: ADMIN.into(),
        address: "127.0.0.1".into(),
    };
    accounts.unlock(&admin, "1001").await.unwrap();
    assert!(accounts.login("1001", "pass1001", HERE).await.is_ok());
    let (_, trail) = accounts.audit_trail(100, 0).await.unwrap();
    let actions: Vec<&str> = trail.iter().map(|r| r.action.as_str()).collect();
    for a in ["login_failed", "locked", "unlocked", "login"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    db.cleanup().await;
}

#[tokio::test]
async fn failures_back_off_per_account() {
    let (accounts, _, db, _dir) = open("[auth]\nbackoff_after = 2\nlock_after = 100").await;
    let _ = accounts.login("1001", "wrong", HERE).await;
    let _ = accounts.login("1001", "wrong", HERE).await;
    assert!(matches!(
        accounts.login("1001", "pass1001", HERE).await,
        Err(LoginError::TooMany(_))
    ));
    assert!(accounts.login("1002", "pass1002", HERE).await.is_ok());
    db.cleanup().await;
}

#[tokio::test]
async fn sessions_and_tokens_identify_the_account() {
    let (accounts, _, db, _dir) = open("").await;
    let (cookie, csrf, _) = accounts.login("1001", "pass1001", HERE).await.unwrap();
    let p = accounts.authenticate(Some(&cookie), None).unwrap().unwrap();
    assert_eq!(p.account, "1001");
    assert_eq!(p.via, Via::Session { csrf });
    assert!(accounts.logout(&cookie, HERE).await);
    assert_eq!(
        accounts.authenticate(Some(&cookie), None),
        Err(CredentialError::SessionExpired)
    );
    let admin = Actor {
        account: ADMIN.into(),
        address: String::new(),
    };
    let t = accounts
        .create_token(&admin, "sup", "wallboard", None)
        .await
        .unwrap();
    assert!(t.secret.starts_with(TOKEN_PREFIX));
    let p = accounts
        .authenticate(None, Some(&t.secret))
        .unwrap()
        .unwrap();
    assert_eq!(p.account, "sup");
    accounts.revoke_token(&admin, &t.token.id).await.unwrap();
    assert_eq!(
        accounts.authenticate(None, Some(&t.secret)),
        Err(CredentialError::BadToken)
    );
    assert_eq!(
        accounts.authenticate(None, Some("cct_nonsense")),
        Err(CredentialError::BadToken)
    );
    assert_eq!(accounts.authenticate(None, None), Ok(None));
    db.cleanup().await;
}

#[tokio::test]
async fn scopes_follow_teams() {
    let (accounts, _, db, _dir) = open("").await;
    let (cookie, _, _) = accounts.login("sup", "supervisor-pw", HERE).await.unwrap();
    let sup = accounts.authenticate(Some(&cookie), None).unwrap().unwrap();
    let scope = accounts.scope(&sup);
    assert!(scope.agent("1001") && !scope.agent("1002"));
    assert!(scope.queue("8000") && !scope.queue("9000"));
    let (cookie, _, _) = accounts.login("1002", "pass1002", HERE).await.unwrap();
    let agent = accounts.authenticate(Some(&cookie), None).unwrap().unwrap();
    let scope = accounts.scope(&agent);
    assert!(scope.agent("1002") && !scope.agent("1001"));
    assert!(scope.queue("9000") && !scope.queue("8000"));
    db.cleanup().await;
}

#[tokio::test]
async fn the_last_administrator_stays() {
    let (accounts, _, db, _dir) = open("").await;
    let admin = Actor {
        account: ADMIN.into(),
        address: String::new(),
    };
    assert!(matches!(
        accounts.delete(&admin, ADMIN).await,
        Err(AccountError::LastAdministrator)
    ));
    db.cleanup().await;
}
