//! Accounts, sessions and roles against the real binary (issue 8): every kind of route
//! refuses an anonymous caller (401) and a wrong role (403, never the data) and serves the
//! right one, with a page session (cookie + CSRF token) and with an API token; lists and
//! the event stream show each caller only their scope; sessions expire; failed logins
//! lock an account while another on the same address still logs in; cross-site writes
//! are refused; click-to-call is only from one's own phone, to allowed numbers.

use e2e::{Credential, Switch};
use serde_json::Value;
use std::time::Duration;

use e2e::two_teams as config;

fn code(r: &e2e::HttpResponse) -> String {
    r.json()["error"]["code"].as_str().unwrap_or("").to_string()
}

/// The callers of the matrix, by name.
struct Callers {
    admin: Credential,
    a1001: Credential,
    a1002: Credential,
    a2001: Credential,
    sup: Credential,
    cm: Credential,
}

impl Callers {
    fn get(&self, name: &str) -> &Credential {
        match name {
            "admin" => &self.admin,
            "1001" => &self.a1001,
            "1002" => &self.a1002,
            "2001" => &self.a2001,
            "1010" => &self.sup,
            "1009" => &self.cm,
            other => panic!("no caller {other}"),
        }
    }
}

fn sessions(s: &Switch) -> Callers {
    let login = |id: &str| Credential::Session(s.login(id, &format!("pass{id}")));
    Callers {
        admin: s.admin(),
        a1001: login("1001"),
        a1002: login("1002"),
        a2001: login("2001"),
        sup: login("1010"),
        cm: login("1009"),
    }
}

fn tokens(s: &Switch) -> Callers {
    let token = |id: &str| Credential::Bearer(s.token_for(id));
    Callers {
        admin: s.admin(),
        a1001: token("1001"),
        a1002: token("1002"),
        a2001: token("2001"),
        sup: token("1010"),
        cm: token("1009"),
    }
}

const ALL: [&str; 6] = ["admin", "1001", "1002", "2001", "1010", "1009"];

/// One row of the matrix: (method, path, body, callers allowed, the status they get).
type Row = (&'static str, String, Option<String>, Vec<&'static str>, u16);

/// Everyone not allowed gets 403, an anonymous caller 401. Rows run in order (a later one
/// may rely on an earlier one).
fn matrix() -> Vec<Row> {
    let state = r#"{"state":"not_ready","reason":"coaching"}"#.to_string();
    let campaign = r#"{"name":"Matrix","queue":"8000"}"#.to_string();
    vec![
        ("GET", "/api/me".into(), None, ALL.to_vec(), 200),
        (
            "GET",
            "/api/agents".into(),
            None,
            vec!["admin", "1001", "1002", "2001", "1010"],
            200,
        ),
        (
            "GET",
            "/api/agents/1001".into(),
            None,
            vec!["admin", "1001", "1010"],
            200,
        ),
        (
            "GET",
            "/api/agents/2001".into(),
            None,
            vec!["admin", "2001"],
            200,
        ),
        (
            "POST",
            "/api/agents/1001/state".into(),
            Some(state.clone()),
            vec!["admin", "1001", "1010"],
            200,
        ),
        (
            "POST",
            "/api/agents/2001/state".into(),
            Some(state),
            vec!["admin", "2001"],
            200,
        ),
        (
            "GET",
            "/api/agents/1001/history".into(),
            None,
            vec!["admin", "1001", "1010"],
            200,
        ),
        (
            "GET",
            "/api/agents/1001/session".into(),
            None,
            vec!["admin", "1001", "1010"],
            200,
        ),
        (
            "GET",
            "/api/queues".into(),
            None,
            vec!["admin", "1001", "1002", "2001", "1010"],
            200,
        ),
        (
            "GET",
            "/api/queues/8000".into(),
            None,
            vec!["admin", "1001", "1002", "1010"],
            200,
        ),
        (
            "GET",
            "/api/queues/9000/stats".into(),
            None,
            vec!["admin", "2001"],
            200,
        ),
        (
            "PUT",
            "/api/queues/9000".into(),
            Some(r#"{"name":"Support"}"#.into()),
            vec!["admin"],
            200,
        ),
        (
            "GET",
            "/api/interactions".into(),
            None,
            vec!["admin", "1010"],
            200,
        ),
        (
            "GET",
            "/api/calls".into(),
            None,
            vec!["admin", "1001", "1002", "2001", "1010"],
            200,
        ),
        ("GET", "/api/cdrs".into(), None, vec!["admin"], 200),
        ("GET", "/api/registrations".into(), None, vec!["admin"], 200),
        ("GET", "/api/accounts".into(), None, vec!["admin"], 200),
        ("GET", "/api/teams".into(), None, vec!["admin"], 200),
        ("GET", "/api/tokens".into(), None, vec!["admin"], 200),
        ("GET", "/api/audit".into(), None, vec!["admin"], 200),
        (
            "GET",
            "/api/campaigns".into(),
            None,
            vec!["admin", "1009", "1010"],
            200,
        ),
        (
            "POST",
            "/api/campaigns".into(),
            Some(campaign),
            vec!["admin", "1009"],
            201,
        ),
        (
            "GET",
            "/api/dnc/%2B15550001111".into(),
            None,
            vec!["admin", "1009"],
            200,
        ),
        ("GET", "/api/openapi.json".into(), None, ALL.to_vec(), 200),
    ]
}

fn run_matrix(s: &Switch, callers: &Callers, how: &str) {
    for (method, path, body, allowed, status) in matrix() {
        let anon = s.request_as(&Credential::None, method, &path, body.as_deref());
        assert_eq!(anon.status, 401, "anonymous {method} {path}: {}", anon.body);
        assert_eq!(code(&anon), "unauthenticated", "{method} {path}");
        for name in ALL {
            let r = s.request_as(callers.get(name), method, &path, body.as_deref());
            let want = if allowed.contains(&name) { status } else { 403 };
            // A second POST /api/campaigns of the same name is still a 201; PUT of a queue
            // again a 200: the rows are repeatable.
            assert_eq!(r.status, want, "{how}: {name} {method} {path}: {}", r.body);
            if want == 403 {
                assert_eq!(
                    code(&r),
                    "forbidden",
                    "{how}: {name} {method} {path}: {}",
                    r.body
                );
                assert!(r.json()["error"]["message"].is_string());
            }
        }
    }
}

fn ids(v: &Value) -> Vec<String> {
    let mut ids: Vec<String> = v
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|x| {
                    x["id"]
                        .as_str()
                        .or_else(|| x["config"]["dn"].as_str())
                        .map(String::from)
                })
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

#[test]
fn every_role_reaches_only_its_own_with_sessions_and_tokens() {
    let s = config().start();
    for id in ["1001", "2001"] {
        s.post_json(&format!("/api/agents/{id}/login"), None);
    }
    let by_session = sessions(&s);
    run_matrix(&s, &by_session, "session");
    run_matrix(&s, &tokens(&s), "token");

    // Lists are filtered by scope.
    let list = |who: &Credential, path: &str| s.request_as(who, "GET", path, None).json();
    assert_eq!(ids(&list(&by_session.a1001, "/api/agents")), ["1001"]);
    assert_eq!(ids(&list(&by_session.sup, "/api/agents")), ["1001", "1002"]);
    assert_eq!(
        ids(&list(&by_session.admin, "/api/agents")),
        ["1001", "1002", "2001"]
    );
    assert_eq!(ids(&list(&by_session.a2001, "/api/queues")), ["9000"]);
    assert_eq!(ids(&list(&by_session.sup, "/api/queues")), ["8000"]);
    // The open ones.
    assert_eq!(
        s.request_as(&Credential::None, "GET", "/api/health", None)
            .status,
        200
    );
    assert_eq!(
        s.request_as(&Credential::None, "GET", "/metrics", None)
            .status,
        200
    );
    s.assert_idle();
}

#[test]
fn the_event_stream_shows_each_role_its_scope() {
    let s = config().start();
    let agent = Credential::Session(s.login("1001", "pass1001"));
    let sup = Credential::Session(s.login("1010", "pass1010"));
    // Anonymous and out-of-scope streams are refused before the upgrade.
    let anon = s.request_as(&Credential::None, "GET", "/api/events", None);
    assert_eq!(anon.status, 401);
    let other = s.request_as(&agent, "GET", "/api/events?agent=2001", None);
    assert_eq!(other.status, 403, "{}", other.body);
    let mine = s.events_as(&agent, "/api/events");
    let team = s.events_as(&sup, "/api/events");
    let all = s.events("/api/events");
    let snapshot_agents = |st: &e2e::ws::EventStream| {
        let snap = st
            .events()
            .into_iter()
            .find(|e| e["type"] == "snapshot")
            .unwrap_or_default();
        let mut a: Vec<String> = snap["agents"]
            .as_array()
            .map(|v| {
                v.iter()
                    .filter_map(|x| x["id"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        a.sort();
        a
    };
    assert_eq!(snapshot_agents(&mine), ["1001"]);
    assert_eq!(snapshot_agents(&team), ["1001", "1002"]);
    assert_eq!(snapshot_agents(&all), ["1001", "1002", "2001"]);
    // 2001 logs in: the administrator sees it, the sales team does not.
    s.post_json("/api/agents/2001/login", None);
    s.post_json("/api/agents/1002/login", None);
    let state_of = |st: &e2e::ws::EventStream, id: &str| {
        st.wait_for(Duration::from_secs(3), |e| {
            e["type"] == "agent_state" && e["change"]["agent"] == id
        })
    };
    assert!(state_of(&all, "2001").is_some());
    assert!(state_of(&team, "1002").is_some());
    assert!(state_of(&all, "1002").is_some());
    assert!(
        mine.events()
            .iter()
            .all(|e| e["change"]["agent"] != "1002" && e["change"]["agent"] != "2001"),
        "agent 1001 saw another agent: {:?}",
        mine.events()
    );
    assert!(
        team.events().iter().all(|e| e["change"]["agent"] != "2001"),
        "sales saw support: {:?}",
        team.events()
    );
}

#[test]
fn sessions_expire_idle_and_absolute_and_end_at_logout() {
    let s = config()
        .set("auth", "session_idle_secs", 2)
        .set("auth", "session_max_secs", 4)
        .start();
    let me = |c: &Credential| s.request_as(c, "GET", "/api/me", None);
    // Idle.
    let idle = Credential::Session(s.login("1001", "pass1001"));
    assert_eq!(me(&idle).status, 200);
    std::thread::sleep(Duration::from_millis(2500));
    let r = me(&idle);
    assert_eq!(
        (r.status, code(&r).as_str()),
        (401, "session_expired"),
        "{}",
        r.body
    );
    // Absolute: used every second, still ends after 4 s.
    let busy = Credential::Session(s.login("1001", "pass1001"));
    let started = std::time::Instant::now();
    while started.elapsed() < Duration::from_millis(3500) {
        assert_eq!(me(&busy).status, 200);
        std::thread::sleep(Duration::from_millis(700));
    }
    std::thread::sleep(Duration::from_millis(800));
    assert_eq!(me(&busy).status, 401);
    // Logout ends it at once and clears the cookie.
    let session = s.login("1002", "pass1002");
    let c = Credential::Session(session);
    let out = s.request_as(&c, "POST", "/api/logout", None);
    assert_eq!(out.status, 204);
    assert!(out
        .header("set-cookie")
        .is_some_and(|v| v.contains("Max-Age=0")));
    assert_eq!(me(&c).status, 401);
    // The cookie's attributes.
    let r = s.try_login("1002", "pass1002");
    let cookie = r.header("set-cookie").unwrap_or_default().to_string();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    // A revoked token is refused.
    let token = s.token_for("1001");
    let t = Credential::Bearer(token.clone());
    assert_eq!(me(&t).status, 200);
    let list = s.http("/api/tokens");
    let id = list
        .as_array()
        .and_then(|a| a.iter().find(|x| x["name"] == "test 1001"))
        .and_then(|x| x["id"].as_str())
        .unwrap_or_default()
        .to_string();
    s.request_json("DELETE", &format!("/api/tokens/{id}"), None, 204);
    let r = me(&t);
    assert_eq!((r.status, code(&r).as_str()), (401, "invalid_token"));
    assert!(
        !s.http("/api/tokens").to_string().contains(&token),
        "secret listed"
    );
}

#[test]
fn failed_logins_lock_one_account_while_another_logs_in() {
    let s = config()
        .set("auth", "lock_after", 3)
        .set("auth", "backoff_after", 10)
        .start();
    for i in 0..3 {
        let r = s.try_login("1001", "wrong");
        let want = if i < 2 {
            (401, "invalid_credentials")
        } else {
            (403, "account_locked")
        };
        assert_eq!(
            (r.status, code(&r).as_str()),
            want,
            "attempt {i}: {}",
            r.body
        );
    }
    // Locked: the right password is refused too.
    let r = s.try_login("1001", "pass1001");
    assert_eq!((r.status, code(&r).as_str()), (403, "account_locked"));
    // Another account from the same address logs in.
    assert_eq!(s.try_login("1002", "pass1002").status, 200);
    // An unknown account fails like a wrong password.
    let r = s.try_login("nobody", "x");
    assert_eq!((r.status, code(&r).as_str()), (401, "invalid_credentials"));
    // The administrator unlocks it.
    let v = s.post_json("/api/accounts/1001/unlock", None);
    assert_eq!(v["locked"], false);
    assert_eq!(s.try_login("1001", "pass1001").status, 200);
    let audit = s.http("/api/audit?limit=100");
    let actions: Vec<&str> = audit["audit"]
        .as_array()
        .map(|a| a.iter().filter_map(|r| r["action"].as_str()).collect())
        .unwrap_or_default();
    for a in [
        "login_failed",
        "locked",
        "unlocked",
        "login",
        "token_created",
    ] {
        assert!(actions.contains(&a), "{a} not in {actions:?}");
    }
    // Never a password in the audit or the log.
    assert!(!audit.to_string().contains("pass1001"));
    assert!(!s.log().contains("pass1001"));
}

#[test]
fn failed_logins_back_off() {
    let s = config()
        .set("auth", "lock_after", 100)
        .set("auth", "backoff_after", 2)
        .start();
    for _ in 0..2 {
        assert_eq!(s.try_login("1001", "wrong").status, 401);
    }
    let r = s.try_login("1001", "pass1001");
    assert_eq!(
        (r.status, code(&r).as_str()),
        (429, "too_many_attempts"),
        "{}",
        r.body
    );
    assert!(r.header("retry-after").is_some());
    std::thread::sleep(Duration::from_millis(1100));
    assert_eq!(s.try_login("1001", "pass1001").status, 200);
}

#[test]
fn cross_site_cookie_writes_are_refused() {
    let s = config().start();
    let session = s.login("1001", "pass1001");
    let state = r#"{"state":"ready"}"#;
    s.post_json("/api/agents/1001/login", None);
    // The cookie alone (a form on another site would send it if SameSite failed): 403.
    let bare = Credential::CookieOnly(session.cookie.clone());
    let r = s.request_as(&bare, "POST", "/api/agents/1001/state", Some(state));
    assert_eq!((r.status, code(&r).as_str()), (403, "csrf"), "{}", r.body);
    // Reading with the cookie alone is fine; so is a write with the page's token.
    assert_eq!(s.request_as(&bare, "GET", "/api/me", None).status, 200);
    let page = Credential::Session(session);
    let r = s.request_as(&page, "POST", "/api/agents/1001/state", Some(state));
    assert_eq!(r.status, 200, "{}", r.body);
}

#[test]
fn click_to_call_only_from_ones_own_phone_to_allowed_numbers() {
    let s = config().start();
    let agent = Credential::Session(s.login("1001", "pass1001"));
    let sup = Credential::Session(s.login("1010", "pass1010"));
    let call = |who: &Credential, ext: &str, number: &str| {
        let body = format!(r#"{{"extension":"{ext}","number":"{number}"}}"#);
        s.request_as(who, "POST", "/api/calls", Some(&body))
    };
    // Someone else's phone: refused; a number the dialplan denies agents: refused.
    let r = call(&agent, "1002", "1010");
    assert_eq!(
        (r.status, code(&r).as_str()),
        (403, "forbidden"),
        "{}",
        r.body
    );
    let r = call(&agent, "1001", "+19005550100");
    assert_eq!(
        (r.status, code(&r).as_str()),
        (403, "number_not_allowed"),
        "{}",
        r.body
    );
    // A supervisor may not use a phone outside the team either.
    let r = call(&sup, "2001", "1001");
    assert_eq!(r.status, 403, "{}", r.body);
    // One's own phone to an allowed number: accepted (the phone is not registered, so the
    // attempt fails on its own; the API answers 202).
    let r = call(&agent, "1001", "1010");
    assert_eq!(r.status, 202, "{}", r.body);
    let r = call(&sup, "1002", "1001");
    assert_eq!(r.status, 202, "{}", r.body);
    s.wait_for("the attempts to end", Duration::from_secs(10), || {
        s.calls().is_empty()
    });
}

#[test]
fn the_administrator_password_is_generated_once_and_accounts_persist() {
    let mut s = config().start();
    let password = s.admin_password().unwrap_or_default();
    assert!(password.len() >= 16, "{password:?}");
    assert!(s.log().contains(&password), "printed once at first start");
    // An account made over REST logs in, and survives a restart with its roles.
    let body = r#"{"id":"newsup","name":"New Supervisor","password":"correct horse","roles":["supervisor"],"teams":["support"]}"#;
    s.request_json("POST", "/api/accounts", Some(body), 201);
    s.restart();
    assert_eq!(s.admin_password().as_deref(), Some(password.as_str()));
    assert_eq!(
        s.log().matches(&password).count(),
        1,
        "the password is printed only at first start"
    );
    let newsup = Credential::Session(s.login("newsup", "correct horse"));
    let r = s.request_as(&newsup, "GET", "/api/agents/2001", None);
    assert_eq!(r.status, 200, "{}", r.body);
    let r = s.request_as(&newsup, "GET", "/api/agents/1001", None);
    assert_eq!(r.status, 403);
    // Roles change at once.
    let change = r#"{"name":"New Supervisor","roles":["agent"],"teams":["support"]}"#;
    s.request_json("PUT", "/api/accounts/newsup", Some(change), 200);
    let r = s.request_as(&newsup, "GET", "/api/interactions", None);
    assert_eq!(r.status, 403);
    let audit = s.http("/api/audit");
    assert!(audit.to_string().contains("roles_changed"), "{audit}");
}
