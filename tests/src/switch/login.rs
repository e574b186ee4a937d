//! Logging in to the switch under test: the administrator's API token the harness sends
//! with every request, and page sessions (cookie + CSRF token) or tokens for other accounts.

use super::Switch;
use crate::http::{http_request_with, HttpResponse};
use serde_json::Value;

/// How a request proves who sends it.
#[derive(Clone, Debug)]
pub enum Credential {
    /// Nothing: an anonymous caller.
    None,
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// The pages' session cookie; writes carry the CSRF token too, as the pages do.
    Session(Session),
    /// The session cookie without the CSRF token: a cross-site request.
    CookieOnly(String),
}

/// A page session.
#[derive(Clone, Debug)]
pub struct Session {
    pub cookie: String,
    pub csrf: String,
    pub account: Value,
}

impl Credential {
    /// The headers this credential adds to a request of `method`.
    pub fn headers(&self, method: &str) -> Vec<(String, String)> {
        match self {
            Credential::None => vec![],
            Credential::Bearer(t) => vec![("Authorization".into(), format!("Bearer {t}"))],
            Credential::Session(s) => {
                let mut h = vec![("Cookie".into(), format!("ccswitch_session={}", s.cookie))];
                if method != "GET" {
                    h.push(("X-CSRF-Token".into(), s.csrf.clone()));
                }
                h
            }
            Credential::CookieOnly(c) => vec![("Cookie".into(), format!("ccswitch_session={c}"))],
        }
    }
}

/// The session cookie's value in a login answer.
fn session_cookie(r: &HttpResponse) -> Option<String> {
    r.headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        .filter_map(|(_, v)| v.split(';').next())
        .filter_map(|pair| pair.trim().strip_prefix("ccswitch_session="))
        .map(str::to_string)
        .find(|v| !v.is_empty())
}

impl Switch {
    /// `METHOD path` with a JSON `body` as `who`; any status. Panics if the switch does not
    /// answer.
    pub fn request_as(
        &self,
        who: &Credential,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> HttpResponse {
        let headers = who.headers(method);
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let body = body.map(|b| ("application/json", b.as_bytes()));
        match http_request_with(self.http_addr(), method, path, &headers, body) {
            Ok(r) => r,
            Err(e) => self.fail(&format!("{method} {path} failed: {e}")),
        }
    }

    /// `POST /api/login`, any status.
    pub fn try_login(&self, user: &str, password: &str) -> HttpResponse {
        let body = serde_json::json!({"user": user, "password": password}).to_string();
        self.request_as(&Credential::None, "POST", "/api/login", Some(&body))
    }

    /// Logs `user` in; panics unless the switch answers 200 with a session cookie.
    pub fn login(&self, user: &str, password: &str) -> Session {
        let r = self.try_login(user, password);
        let Some(cookie) = session_cookie(&r).filter(|_| r.status == 200) else {
            self.fail(&format!("login {user}: {} {}", r.status, r.body));
        };
        let v = r.json();
        Session {
            cookie,
            csrf: v["csrf_token"].as_str().unwrap_or("").to_string(),
            account: v["account"].clone(),
        }
    }

    /// A new API token acting as `account`, made by the administrator.
    pub fn token_for(&self, account: &str) -> String {
        let body = serde_json::json!({"name": format!("test {account}"), "account": account});
        let v = self.request_json("POST", "/api/tokens", Some(&body.to_string()), 201);
        match v["secret"].as_str() {
            Some(s) => s.to_string(),
            None => self.fail(&format!("no secret in {v}")),
        }
    }

    /// The administrator's generated password (`data/admin-password`), if the switch made
    /// one.
    pub fn admin_password(&self) -> Option<String> {
        std::fs::read_to_string(self.data_dir().join("admin-password"))
            .ok()
            .map(|s| s.trim().to_string())
    }

    /// Logs in as the administrator and makes the API token the harness sends with its
    /// requests; `None` when the config has its own administrator.
    pub(super) fn admin_token(&self) -> Option<String> {
        let password = self.admin_password()?;
        let session = self.login("admin", &password);
        let body = r#"{"name":"test harness"}"#;
        let r = self.request_as(
            &Credential::Session(session),
            "POST",
            "/api/tokens",
            Some(body),
        );
        if r.status != 201 {
            self.fail(&format!("POST /api/tokens: {} {}", r.status, r.body));
        }
        r.json()["secret"].as_str().map(str::to_string)
    }

    /// `Authorization: Bearer ...\r\n` of the administrator's token, for raw requests.
    pub fn admin_header(&self) -> String {
        self.admin()
            .headers("POST")
            .iter()
            .map(|(n, v)| format!("{n}: {v}\r\n"))
            .collect()
    }

    /// The credential the harness uses (the administrator's token).
    pub fn admin(&self) -> Credential {
        match &self.token {
            Some(t) => Credential::Bearer(t.clone()),
            None => Credential::None,
        }
    }
}
