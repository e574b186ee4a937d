//! The accounts service over a real SQLite store: seeding, logins, lock-out, tokens,
//! scopes.

use super::*;
use crate::store::testing::TestDb;
use std::net::Ipv4Addr;
use std::path::Path;
use std::time::Duration;

const HERE: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

fn auth() -> AuthConfig {
    AuthConfig {
        session_idle: Duration::from_secs(1800),
        session_max: Duration::from_secs(43_200),
        lock_after: 10,
        backoff_after: 3,
        backoff_max: Duration::from_secs(30),
        address_backoff_after: 20,
        metrics_open: true,
        secure_cookie: false,
        dialing: DialPlanRules::default(),
    }
}

fn team(name: &str, queue: &str) -> Team {
    Team {
        name: name.into(),
        queues: [queue.to_string()].into(),
    }
}

fn seed(id: &str, role: Role, team: &str, password: Option<&str>) -> AccountSeed {
    let agent = (role == Role::Agent).then(|| id.to_string());
    AccountSeed {
        id: id.into(),
        name: id.into(),
        password: password.map(String::from),
        password_hash: None,
        roles: [role].into(),
        teams: [team.to_string()].into(),
        extension: agent.clone(),
        agent,
    }
}

/// Agents 1001 (team sales, queue 8000) and 1002 (support, 9000), supervisor `sup` of
/// sales; the agents log in with their SIP passwords `pass1001`, `pass1002`.
fn seeds<'a>(
    auth: &'a AuthConfig,
    teams: &'a [Team],
    accounts: &'a [AccountSeed],
    dir: &'a Path,
) -> Seeds<'a> {
    Seeds {
        auth,
        teams,
        accounts,
        data_dir: dir,
        sip_password: Box::new(|id| Some(format!("pass{id}"))),
    }
}

async fn open(change: impl FnOnce(&mut AuthConfig)) -> (Accounts, Opened, TestDb, tempdir::Dir) {
    let db = TestDb::sqlite().await;
    let dir = tempdir::Dir::new();
    let (a, o) = reopen(&db, &dir, change).await;
    (a, o, db, dir)
}

async fn reopen(
    db: &TestDb,
    dir: &tempdir::Dir,
    change: impl FnOnce(&mut AuthConfig),
) -> (Accounts, Opened) {
    let mut auth = auth();
    change(&mut auth);
    let teams = [team("sales", "8000"), team("support", "9000")];
    let accounts = [
        seed("1001", Role::Agent, "sales", None),
        seed("1002", Role::Agent, "support", None),
        seed("sup", Role::Supervisor, "sales", Some("supervisor-pw")),
    ];
    Accounts::open(db.store.clone(), seeds(&auth, &teams, &accounts, &dir.0))
        .await
        .unwrap()
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
    let (accounts, opened, db, dir) = open(|_| {}).await;
    let password = opened.admin_password.clone().unwrap();
    let file = std::fs::read_to_string(dir.0.join(ADMIN_PASSWORD_FILE)).unwrap();
    assert_eq!(file.trim(), password);
    assert!(accounts.login(ADMIN, &password, HERE).await.is_ok());
    // The agents log in with their SIP passwords.
    let (_, _, view) = accounts.login("1001", "pass1001", HERE).await.unwrap();
    assert_eq!(view.agent.as_deref(), Some("1001"));
    assert_eq!(view.extension.as_deref(), Some("1001"));
    // Never stored in clear.
    let rows: Vec<(String, Option<Account>)> = db.store.load_accounts().await.unwrap();
    for (_, a) in &rows {
        let a = a.as_ref().unwrap();
        assert!(a.password_hash.starts_with("$argon2id$"));
        assert!(!a.password_hash.contains("pass1001"));
    }
    // A second start keeps the administrator and generates nothing.
    let (_, again) = reopen(&db, &dir, |_| {}).await;
    assert!(again.admin_password.is_none());
    db.cleanup().await;
}

#[tokio::test]
async fn locks_after_the_threshold_while_another_account_still_logs_in() {
    let (accounts, _, db, _dir) = open(|a| {
        a.lock_after = 3;
        a.backoff_after = 10;
        a.address_backoff_after = 50;
    })
    .await;
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
    let stored: Vec<(String, Option<Account>)> = db.store.load_accounts().await.unwrap();
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
    let (accounts, _, db, _dir) = open(|a| {
        a.backoff_after = 2;
        a.lock_after = 100;
    })
    .await;
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
    let (accounts, _, db, _dir) = open(|_| {}).await;
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
    let (accounts, _, db, _dir) = open(|_| {}).await;
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

/// Who may supervise a phone's calls from their own phone: a supervisor of the agent's
/// team (by the agent's extension or its ACD agent), an administrator; not an agent, not
/// a supervisor of another team.
#[tokio::test]
async fn supervising_from_a_phone_follows_teams() {
    let (accounts, _, db, _dir) = open(|_| {}).await;
    assert!(accounts.may_supervise("sup", None, "1001"));
    assert!(accounts.may_supervise("sup", Some("1001"), "9999"));
    assert!(!accounts.may_supervise("sup", None, "1002"));
    assert!(!accounts.may_supervise("1002", None, "1001"), "an agent");
    assert!(!accounts.may_supervise("sup", None, "sup"), "oneself");
    assert!(accounts.may_supervise(crate::accounts::ADMIN, None, "1002"));
    assert!(!accounts.may_supervise("nobody", None, "1001"));
    db.cleanup().await;
}

#[tokio::test]
async fn the_last_administrator_stays() {
    let (accounts, _, db, _dir) = open(|_| {}).await;
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
