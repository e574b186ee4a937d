//! `GET /api/openapi.json`: the OpenAPI 3.0 document of the whole API, the switch's routes
//! and the dialer's.
//!
//! The dialer describes its own routes ([`dialer::http::openapi_document`]); this module
//! takes that document and adds the switch's paths ([`openapi_paths`](super::openapi_paths))
//! and schemas ([`openapi_schemas`](super::openapi_schemas)). What no half can know on its
//! own (who may call a route) is then laid over every operation from the access rules
//! ([`served_routes`](super::served_routes)), so the document cannot disagree with the
//! guard: the open routes get `security: []`, every other one the 401 and 403 answers, and
//! writes the CSRF header a cookie needs. Tests check that the document lists exactly the
//! served routes and that its `$ref`s resolve.
//!
//! The document is written by hand rather than derived from the handlers' types: the
//! handlers validate more than their serde types say (ids, DNs, names, lengths), and a
//! fuzzer (schemathesis) that reads the document only makes meaningful requests when those
//! rules are in it.

use std::sync::OnceLock;

use axum::http::Method;
use axum::Json;
use serde_json::{json, Map, Value};

use super::policy::Rule;

/// The document, built once (it depends on nothing but the code).
pub(super) async fn serve() -> Json<Value> {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    Json(DOCUMENT.get_or_init(document).clone())
}

/// The whole API's document: the dialer's, with the switch's paths, schemas and access
/// rules.
pub fn document() -> Value {
    let mut doc = dialer::http::openapi_document();
    doc["info"] = json!({
        "title": "Contact-centre switch API",
        "version": env!("CARGO_PKG_VERSION"),
        "description": DESCRIPTION,
    });
    doc["tags"] = tags();
    merge_objects(&mut doc["paths"], super::openapi_paths::paths());
    merge_objects(
        &mut doc["components"]["schemas"],
        super::openapi_schemas::schemas(),
    );
    doc["components"]["securitySchemes"] = security_schemes();
    doc["components"]["responses"] = json!({"Unauthorized": unauthorized()});
    doc["security"] = json!([{"cookieAuth": []}, {"bearerAuth": []}]);
    for (method, path, rule) in super::served_routes() {
        let key = method.as_str().to_ascii_lowercase();
        let Some(item) = doc["paths"].get_mut(path) else {
            continue;
        };
        let on_path = item.get("parameters").cloned();
        if let Some(op) = item.get_mut(&key).and_then(Value::as_object_mut) {
            secure(op, &method, rule);
            bad_parameters(op, on_path.as_ref());
        }
    }
    doc
}

/// The 400 an extractor gives for a path or query parameter that does not parse, on
/// every operation that has such parameters (unless it documents its own 400).
fn bad_parameters(op: &mut Map<String, Value>, on_path: Option<&Value>) {
    let params: Vec<Value> = [on_path, op.get("parameters")]
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
        .cloned()
        .collect();
    let has = |place: &str| params.iter().any(|p| p["in"] == place);
    let why = match (has("path"), has("query")) {
        (false, false) => return,
        (true, false) => "a path parameter of the wrong type (code bad_path)",
        (false, true) => "a bad or unknown query parameter (code bad_query)",
        (true, true) => {
            "a path parameter of the wrong type (code bad_path), a bad or unknown query \
             parameter (code bad_query)"
        }
    };
    responses_of(op).entry("400").or_insert_with(|| error(why));
}

const DESCRIPTION: &str = "The softswitch's REST API: accounts and logins, the ACD's agents \
    and queues (state, configuration, statistics, history, the WebSocket event stream), live \
    calls and click-to-call, registrations, CDRs and metrics; and the preview dialer's \
    campaigns, contact lists, do-not-call lists and the agents' preview flow.\n\n\
    Credentials: the session cookie `ccswitch_session` that `POST /api/login` sets (a write \
    with it also needs the session's CSRF token in `X-CSRF-Token`, or a same-origin `Origin`), \
    or an API token (`Authorization: Bearer cct_...`, created by `POST /api/tokens`). Without \
    one every route but health, login and (by default) metrics answers 401 with \
    `WWW-Authenticate: Bearer realm=\"ccswitch\"`; a caller whose roles or scope do not cover a \
    route gets 403 `forbidden`. Each operation's description says who may call it.\n\n\
    Errors are {\"error\":{\"code\",\"message\"}}, with \"field\" naming the body field at fault \
    for 422 invalid. Every operation may also answer 405 method_not_allowed (with an Allow \
    header) for a method its path does not have, 400 bad_path for a path parameter of the \
    wrong type, 400 bad_query for a bad or unknown query parameter, 500 store when the \
    database fails. JSON bodies: at most 1 MiB; CSV imports: at most 256 MiB (413 too_large \
    beyond, with Connection: close).";

fn tags() -> Value {
    let tag = |name: &str, description: &str| json!({"name": name, "description": description});
    json!([
        tag("meta", "health, metrics and this document"),
        tag("auth", "logging in and out, the caller's own account"),
        tag(
            "accounts",
            "accounts, teams, API tokens and the audit trail (administrators)"
        ),
        tag(
            "acd",
            "the ACD's agents and queues, their history and the event stream"
        ),
        tag("calls", "live calls, click-to-call, registrations and CDRs"),
        tag("campaigns", "the dialer's campaigns"),
        tag("lists", "the dialer's contact lists"),
        tag("dnc", "do-not-call lists"),
        tag("agents", "the agents' preview flow"),
        tag(
            "chat",
            "web chats: the customer's WebSocket, the agent's chat actions, transcripts"
        ),
        tag(
            "im",
            "agent-to-agent IM (also to phones as SIP MESSAGE) and the team directory"
        ),
    ])
}

fn security_schemes() -> Value {
    json!({
        "cookieAuth": {"type": "apiKey", "in": "cookie", "name": crate::accounts::COOKIE,
            "description": "The session `POST /api/login` starts (HTTP-only, SameSite=Strict)."},
        "bearerAuth": {"type": "http", "scheme": "bearer",
            "description": "An API token, `cct_` and 64 characters, from `POST /api/tokens`; \
                it acts as its account."},
        "chatToken": {"type": "apiKey", "in": "header", "name": "X-Chat-Token",
            "description": "A web chat's customer token (`token` of the `joined` frame on \
                `/api/chat/ws`): the customer's credential for that chat's files only."},
        "csrfToken": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token",
            "description": "The session's CSRF token (`csrf_token` of the login's answer or \
                of `GET /api/me`), needed with the cookie on every write; a same-origin \
                `Origin` header does instead."},
    })
}

fn unauthorized() -> Value {
    json!({
        "description": "no credential, or one that is unknown, expired or revoked (codes \
            unauthenticated, session_expired, invalid_token, account_locked, bad_authorization)",
        "headers": {"WWW-Authenticate": {"schema": {"type": "string"},
            "description": "Bearer realm=\"ccswitch\""}},
        "content": {"application/json": {"schema": schema("Error")}},
    })
}

/// Lays a route's access rule over its operation.
fn secure(op: &mut Map<String, Value>, method: &Method, rule: Option<Rule>) {
    let who = match rule {
        Some(Rule::Open) => {
            op.insert("security".into(), json!([]));
            return;
        }
        Some(Rule::Metrics) => {
            op.insert("security".into(), json!([]));
            let responses = responses_of(op);
            responses.insert(
                "401".into(),
                error("only with `auth.metrics_open = false`: no credential (unauthenticated)"),
            );
            add_forbidden(
                responses,
                "only with `auth.metrics_open = false`: the caller is not a supervisor nor an \
                 administrator (forbidden)",
            );
            return;
        }
        Some(rule) => who_may(rule),
        None => "nobody: the route has no access rule (403 no_policy)".to_string(),
    };
    let description = match op.get("description").and_then(Value::as_str) {
        Some(d) => format!("{d}\n\nWho may call it: {who}."),
        None => format!("Who may call it: {who}."),
    };
    op.insert("description".into(), json!(description));
    let write = !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS);
    if write {
        op.insert(
            "security".into(),
            json!([{"cookieAuth": [], "csrfToken": []}, {"bearerAuth": []}]),
        );
    }
    if rule == Some(Rule::ChatParty) {
        let logins = if write {
            json!([{"cookieAuth": [], "csrfToken": []}, {"bearerAuth": []}, {"chatToken": []}])
        } else {
            json!([{"cookieAuth": []}, {"bearerAuth": []}, {"chatToken": []}])
        };
        op.insert("security".into(), logins);
    }
    let responses = responses_of(op);
    responses.insert(
        "401".into(),
        json!({"$ref": "#/components/responses/Unauthorized"}),
    );
    let mut forbidden = format!("the caller is not {who} (forbidden)");
    if write {
        forbidden.push_str(
            "; a cookie-authenticated write without X-CSRF-Token or a same-origin Origin (csrf)",
        );
    }
    add_forbidden(responses, &forbidden);
}

/// A rule in words, for descriptions.
fn who_may(rule: Rule) -> String {
    match rule {
        Rule::Open | Rule::Metrics => "anyone".into(),
        Rule::LoggedIn => "any logged-in account".into(),
        Rule::Roles([]) => "an administrator".into(),
        Rule::Roles(roles) => {
            let names: Vec<&str> = roles.iter().map(|r| r.as_str()).collect();
            format!(
                "an administrator, or an account with a role of {}",
                names.join(", ")
            )
        }
        Rule::Agent => "an administrator, the agent `{id}` itself, or a supervisor of one of \
            its teams"
            .into(),
        Rule::ChatParty => "the chat's customer (its token in X-Chat-Token), or an \
            administrator, an agent in the chat (or who worked it), or a supervisor of the \
            chat's queue"
            .into(),
        Rule::Queue => {
            "an administrator, or an agent or supervisor of a team that has queue `{dn}`".into()
        }
    }
}

fn responses_of(op: &mut Map<String, Value>) -> &mut Map<String, Value> {
    let responses = op.entry("responses").or_insert_with(|| json!({}));
    if !responses.is_object() {
        *responses = json!({});
    }
    match responses.as_object_mut() {
        Some(map) => map,
        None => unreachable!("just made an object"),
    }
}

/// The 403 of the access rule, after the operation's own 403 if it has one.
fn add_forbidden(responses: &mut Map<String, Value>, why: &str) {
    let description = match responses
        .get("403")
        .and_then(|r| r.get("description"))
        .and_then(Value::as_str)
    {
        Some(own) => format!("{own}; or {why}"),
        None => why.to_string(),
    };
    responses.insert("403".into(), error(&description));
}

/// Adds `extra`'s members to `target` (objects both); a path both have gets both's
/// methods, the switch's winning (only `/api/openapi.json` is in both: the switch serves
/// the whole document there).
fn merge_objects(target: &mut Value, extra: Value) {
    let (Some(target), Value::Object(extra)) = (target.as_object_mut(), extra) else {
        return;
    };
    for (key, value) in extra {
        match (target.get_mut(&key), value) {
            (Some(Value::Object(old)), Value::Object(new)) => old.extend(new),
            (_, value) => {
                target.insert(key, value);
            }
        }
    }
}

// Builders for the switch's half of the document.

pub(super) fn schema(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

pub(super) fn array_of(name: &str) -> Value {
    json!({"type": "array", "items": schema(name)})
}

/// A JSON request body of schema `name`.
pub(super) fn body(name: &str) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": schema(name)}}})
}

/// A 2xx answer with a JSON body.
pub(super) fn ok(description: &str, body: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": body}}})
}

/// A 2xx answer with no body.
pub(super) fn empty(description: &str) -> Value {
    json!({"description": description})
}

pub(super) fn error(description: &str) -> Value {
    ok(description, schema("Error"))
}

/// The answers every operation with a JSON body may give besides its own (a 422 of its
/// own keeps its description, the generic one added to it).
pub(super) fn body_errors(mut responses: Value) -> Value {
    responses["400"] = error("the body is not JSON (code bad_json)");
    responses["413"] = error("the body is over 1 MiB (code too_large)");
    responses["415"] = error("not application/json (code unsupported_media_type)");
    let generic = "a field is unknown, missing or of the wrong type (code invalid, with field)";
    let invalid = match responses["422"]["description"].as_str() {
        Some(own) => format!("{generic}; {own}"),
        None => generic.to_string(),
    };
    responses["422"] = error(&invalid);
    responses
}

/// A path parameter.
pub(super) fn path_param(name: &str, description: &str, schema: Value) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description,
           "schema": schema})
}

/// `?limit=&offset=` of the list endpoints (`Page` in `api`).
pub(super) fn page_params() -> Value {
    json!([
        {"name": "limit", "in": "query", "required": false, "description": "how many, newest first",
         "schema": {"type": "integer", "minimum": 1, "maximum": 10000, "default": 100}},
        {"name": "offset", "in": "query", "required": false, "description": "how many to skip",
         "schema": {"type": "integer", "minimum": 0, "maximum": i64::MAX, "default": 0}},
    ])
}

/// An agent id, extension, account id or team name: `acd::check_agent_id`'s rule.
pub(super) const ID_PATTERN: &str = "^[A-Za-z0-9._+-]{1,64}$";
/// A DN: `acd::check_dn`'s rule.
pub(super) const DN_PATTERN: &str = "^[A-Za-z0-9._+*#-]{1,64}$";
/// A name (of an agent, queue, skill, token, a Not Ready reason): `acd::check_name`'s rule,
/// no control characters (with `maxLength: 128`).
pub(super) const NAME_PATTERN: &str = "^[^\\x00-\\x1f\\x7f-\\x9f]*$";

pub(super) fn id_string() -> Value {
    json!({"type": "string", "pattern": ID_PATTERN})
}

pub(super) fn dn_string() -> Value {
    json!({"type": "string", "pattern": DN_PATTERN})
}

pub(super) fn name_string() -> Value {
    json!({"type": "string", "maxLength": 128, "pattern": NAME_PATTERN})
}
