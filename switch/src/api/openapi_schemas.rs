//! The switch's schemas of the OpenAPI document. Request bodies follow the handlers'
//! structs (`additionalProperties: false` where they `deny_unknown_fields`, `nullable`
//! where an `Option` takes `null`) and the checks the handlers make (`acd`'s id, DN and
//! name rules, password and expiry ranges), so a fuzzer's valid requests pass them.
//! Answers are described loosely (no `required`, extra properties allowed): they are what
//! the views serialize, and a client should not break on a new field.

use serde_json::{json, Value};

use super::openapi::{array_of, dn_string, id_string, name_string, schema, ID_PATTERN};

const ROLES: [&str; 4] = ["agent", "supervisor", "campaign_manager", "administrator"];

/// Every switch schema, as an OpenAPI `components.schemas` object (names apart from the
/// dialer's; a test checks).
pub(super) fn schemas() -> Value {
    let mut all = json!({});
    for group in [
        accounts(),
        acd_config(),
        acd_views(),
        switch_views(),
        super::openapi_chat::schemas(),
        super::openapi_im::schemas(),
        super::openapi_templates::schemas(),
    ] {
        if let (Some(all), Value::Object(group)) = (all.as_object_mut(), group) {
            all.extend(group);
        }
    }
    all
}

fn nullable(mut schema: Value) -> Value {
    schema["nullable"] = json!(true);
    schema
}

fn int(minimum: u64, maximum: u64) -> Value {
    json!({"type": "integer", "minimum": minimum, "maximum": maximum})
}

/// `AccountBody` of `accounts.rs`: for POST (`create`) the id and password are needed.
fn account_body(create: bool) -> Value {
    let password = json!({"type": "string", "minLength": 8, "maxLength": 256,
        "description": "8-256 characters; left out (or null) on PUT: the old one is kept"});
    let empty_or_id = json!({"type": "string", "pattern": format!("^$|{ID_PATTERN}")});
    let mut properties = json!({
        "id": id_string(),
        "name": nullable(name_string()),
        "password": if create { password } else { nullable(password) },
        "roles": {"type": "array", "minItems": 1, "items": {"type": "string", "enum": ROLES}},
        "teams": {"type": "array", "items": id_string(),
            "description": "names of existing teams"},
        "agent": nullable(empty_or_id.clone()),
        "extension": nullable(empty_or_id),
    });
    properties["name"]["description"] = json!("the id when left out");
    properties["agent"]["description"] =
        json!("the ACD agent the account acts as (one account per agent); empty or null: none");
    properties["extension"]["description"] =
        json!("the configured SIP user of the account's phone; empty or null: none");
    // On PUT the path names the account; the handler takes an `id` in the body only if
    // it is the path's, which a schema cannot say, so the document leaves it out.
    let required = if create {
        json!(["id", "password", "roles"])
    } else {
        if let Some(p) = properties.as_object_mut() {
            p.remove("id");
        }
        json!(["roles"])
    };
    json!({"type": "object", "additionalProperties": false, "required": required,
        "properties": properties})
}

fn accounts() -> Value {
    json!({
        "LoginBody": {"type": "object", "additionalProperties": false,
            "required": ["user", "password"], "properties": {
                "user": {"type": "string", "maxLength": 64, "description": "the account's id"},
                "password": {"type": "string", "maxLength": 256}}},
        "LoginAnswer": {"type": "object", "properties": {
            "account": schema("Account"),
            "csrf_token": {"type": "string", "description": "send it in X-CSRF-Token on writes"},
            "expires_in": {"type": "integer", "description": "the session's lifetime, seconds"}}},
        "Me": {"type": "object", "properties": {
            "account": schema("Account"),
            "csrf_token": {"type": "string", "nullable": true,
                "description": "the session's; null for an API token"}}},
        "PasswordBody": {"type": "object", "additionalProperties": false,
            "required": ["current_password", "new_password"], "properties": {
                "current_password": {"type": "string"},
                "new_password": {"type": "string", "minLength": 8, "maxLength": 256}}},
        "NewAccountBody": account_body(true),
        "AccountBody": account_body(false),
        "Account": {"type": "object", "properties": {
            "id": {"type": "string"}, "name": {"type": "string"},
            "roles": {"type": "array", "items": {"type": "string", "enum": ROLES}},
            "teams": {"type": "array", "items": {"type": "string"}},
            "agent": {"type": "string", "nullable": true},
            "extension": {"type": "string", "nullable": true},
            "locked": {"type": "boolean"}}},
        "TeamBody": {"type": "object", "additionalProperties": false, "properties": {
            "queues": {"type": "array", "items": dn_string(),
                "description": "the DNs of the queues the team's supervisors look after"}}},
        "Team": {"type": "object", "properties": {
            "name": {"type": "string"},
            "queues": {"type": "array", "items": {"type": "string"}}}},
        "TokenBody": {"type": "object", "additionalProperties": false, "required": ["name"],
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 128,
                    "pattern": super::openapi::NAME_PATTERN},
                "account": {"type": "string", "nullable": true, "pattern": ID_PATTERN,
                    "description": "the existing account the token acts as; the caller's when \
                        left out"},
                "expires_in_days": {"type": "integer", "minimum": 1, "maximum": 3650,
                    "nullable": true, "description": "never expires when left out"}}},
        "Token": {"type": "object", "properties": {
            "id": {"type": "string"}, "name": {"type": "string"}, "account": {"type": "string"},
            "created_ms": {"type": "integer"},
            "expires_ms": {"type": "integer", "nullable": true},
            "revoked_ms": {"type": "integer", "nullable": true}}},
        "NewToken": {"allOf": [schema("Token"), {"type": "object", "properties": {
            "secret": {"type": "string", "description": "cct_...: the bearer token"}}}]},
        "AuditPage": {"type": "object", "properties": {
            "total": {"type": "integer"}, "audit": array_of("AuditRecord")}},
        "AuditRecord": {"type": "object", "properties": {
            "at_ms": {"type": "integer"},
            "actor": {"type": "string", "description": "empty for an unknown one"},
            "action": {"type": "string"}, "target": {"type": "string"},
            "address": {"type": "string"}, "detail": {"type": "string"}}},
    })
}

/// `acd::QueueConfig` and `acd::AgentConfig`: as `PUT` takes them (`QueueBody`,
/// `AgentBody`) and as answers show them (`QueueConfig`, `AgentConfig`, with the key).
///
/// The bodies leave the key (`dn`, `id`) out: the path gives it, and the handler takes one
/// in the body only if it is the path's, which a schema cannot say (a fuzzer would send a
/// different one nearly every time).
fn acd_config() -> Value {
    let (queue_body, queue) = with_and_without_key(queue_properties(), "dn");
    let (agent_body, agent) = with_and_without_key(agent_properties(), "id");
    let u32_max = u64::from(u32::MAX);
    json!({
        "QueueBody": queue_body,
        "QueueConfig": queue,
        "AgentBody": agent_body,
        "AgentConfig": agent,
        "WrapUp": {"oneOf": [
            {"type": "object", "additionalProperties": false, "required": ["mode", "secs"],
                "properties": {"mode": {"type": "string", "enum": ["fixed"]},
                    "secs": {"type": "integer", "minimum": 0, "maximum": u32_max}}},
            {"type": "object", "additionalProperties": false, "required": ["mode"],
                "properties": {"mode": {"type": "string", "enum": ["manual"]}}}],
            "description": "fixed: After-Call-Work for secs (0: straight to Ready); manual: until \
                the agent chooses a state"},
        "MaxWait": {"type": "object", "additionalProperties": false,
            "required": ["secs", "target"], "properties": {
                "secs": {"type": "integer", "minimum": 0, "maximum": u32_max},
                "target": {"allOf": [dn_string()],
                    "description": "where an interaction that waited secs goes (not the queue itself)"}}},
        "StateBody": {"type": "object", "additionalProperties": false, "required": ["state"],
            "properties": {
                "state": {"type": "string", "enum": ["ready", "not_ready"]},
                "reason": nullable(name_string())}},
    })
}

/// The body (no `key`, nothing else allowed) and the answer (with `key`) of one config.
fn with_and_without_key(properties: Value, key: &str) -> (Value, Value) {
    let mut body = properties.clone();
    if let Some(p) = body.as_object_mut() {
        p.remove(key);
    }
    let body = json!({"type": "object", "additionalProperties": false, "properties": body});
    let answer = json!({"type": "object", "properties": properties});
    (body, answer)
}

fn skills() -> Value {
    json!({"type": "object", "additionalProperties": int(0, 255),
        "description": "skill name (1-128 characters, no control characters) -> level"})
}

fn queue_properties() -> Value {
    let u32_max = u64::from(u32::MAX);
    json!({
        "dn": dn_string(),
        "name": name_string(),
        "strategy": {"type": "string", "enum": ["longest_idle", "round_robin",
            "fewest_handled", "best_skill", "ring_all"], "default": "longest_idle"},
        "offer_timeout_secs": {"type": "integer", "minimum": 1, "maximum": u32_max,
            "default": 15},
        "wrap_up": schema("WrapUp"),
        "max_wait": {"nullable": true, "allOf": [schema("MaxWait")]},
        "max_size": {"type": "integer", "minimum": 0, "maximum": u32_max, "nullable": true},
        "required_skills": skills(),
        "service_level_secs": {"type": "integer", "minimum": 0, "maximum": u32_max,
            "default": 20},
        "record_percent": {"type": "integer", "minimum": 0, "maximum": 100, "default": 0,
            "description": "the share of the queue's calls recorded (stereo WAV, from the \
                agent's answer)"},
        "transfer_arrival": {"type": "string", "enum": ["original", "transfer"],
            "default": "original",
            "description": "where an interaction transferred into the queue waits: by its \
                first arrival (original) or behind everyone already waiting (transfer)"},
        "wrap_up_required": {"type": "boolean", "default": false,
            "description": "the agent must submit the wrap-up of this queue's interactions \
                before going Ready (409 `wrap_up_pending` otherwise)"},
    })
}

fn agent_properties() -> Value {
    let capacity: serde_json::Map<String, Value> = ["voice", "chat", "email", "im", "preview"]
        .into_iter()
        .map(|name| (name.to_string(), int(0, 255)))
        .collect();
    json!({
        "id": id_string(),
        "name": name_string(),
        "extension": {"type": "string", "pattern": format!("^$|{ID_PATTERN}"),
            "description": "the configured SIP user rung for voice offers; empty: the id"},
        "skills": skills(),
        "queues": {"type": "array", "items": dn_string(),
            "description": "DNs of existing queues"},
        "capacity": {"type": "object", "additionalProperties": false,
            "properties": capacity,
            "description": "interactions of each channel held at once (default voice 1)"},
    })
}

fn acd_views() -> Value {
    let counters = json!({"type": "integer"});
    json!({
        "AgentState": {"type": "object", "properties": {
            "state": {"type": "string", "enum": ["logged_out", "not_ready", "ready", "reserved",
                "busy", "after_call_work", "rona"]},
            "reason": {"type": "string", "description": "not_ready only"}}},
        "AgentView": {"type": "object", "properties": {
            "id": {"type": "string"}, "name": {"type": "string"},
            "extension": {"type": "string"}, "state": schema("AgentState"),
            "state_since_ms": {"type": "integer"},
            "pending": {"nullable": true, "allOf": [schema("AgentState")]},
            "offers": {"type": "array", "items": {"type": "integer"}},
            "interactions": {"type": "array", "items": {"type": "integer"}}}},
        "Agent": {"type": "object", "properties": {
            "agent": schema("AgentView"),
            "stats": {"type": "object", "nullable": true, "properties": {
                "handled": counters.clone(), "talk_ms": counters.clone(),
                "after_call_work_ms": counters.clone(), "not_ready_ms": counters.clone(),
                "ready_ms": counters.clone(), "reserved_ms": counters.clone(),
                "rona_ms": counters.clone()}},
            "config": {"nullable": true, "allOf": [schema("AgentConfig")]}}},
        "QueueStats": {"type": "object", "properties": {
            "dn": {"type": "string"}, "name": {"type": "string"}, "waiting": counters.clone(),
            "longest_wait_ms": counters.clone(), "offered": counters.clone(),
            "answered": counters.clone(), "abandoned": counters.clone(),
            "overflowed": counters.clone(), "rejected_full": counters.clone(),
            "rona": counters.clone(), "average_speed_of_answer_ms": counters.clone(),
            "service_level_secs": counters.clone(),
            "answered_within_service_level": counters,
            "service_level_pct": {"type": "number", "nullable": true},
            "agents": {"type": "object", "description": "member agents by state"}}},
        "Queue": {"type": "object", "properties": {
            "config": schema("QueueConfig"),
            "stats": {"nullable": true, "allOf": [schema("QueueStats")]}}},
        "AgentHistory": {"type": "object", "properties": {
            "agent": {"type": "string"},
            "history": {"type": "array", "items": {"type": "object", "properties": {
                "agent": {"type": "string"}, "from_state": {"type": "string"},
                "to_state": {"type": "string"},
                "reason": {"type": "string", "nullable": true},
                "cause": {"type": "string"}, "at_ms": {"type": "integer"}}}}}},
        "InteractionPage": {"type": "object", "properties": {
            "interactions": {"type": "array", "items": {"type": "object", "properties": {
                "interaction": {"type": "integer"}, "queue": {"type": "string"},
                "event": {"type": "string", "enum": ["offered", "answered", "rejected", "ended",
                    "abandoned", "overflowed", "rejected_full"]},
                "agent": {"type": "string", "nullable": true},
                "at_ms": {"type": "integer"}}}}}},
    })
}

fn switch_views() -> Value {
    json!({
        "Health": {"type": "object", "properties": {
            "status": {"type": "string", "enum": ["ok"]}, "version": {"type": "string"},
            "uptime_secs": {"type": "integer"}, "calls_active": {"type": "integer"},
            "shards": {"type": "integer"}}},
        "ClickToCall": {"type": "object", "additionalProperties": false,
            "required": ["extension", "number"], "properties": {
                "extension": {"type": "string", "pattern": ID_PATTERN,
                    "description": "a configured SIP user: the phone rung first"},
                "number": {"type": "string", "pattern": "^[A-Za-z0-9+*#._-]{1,64}$",
                    "description": "what the dialplan routes, within the caller's dialling rules"},
                "agent": {"type": "string", "nullable": true,
                    "description": "an ACD agent whose call it is on the event stream; the \
                        extension when left out"}}},
        "SuperviseBody": {"type": "object", "additionalProperties": false,
            "required": ["mode"],
            "properties": {
                "mode": {"type": "string", "enum": ["listen", "whisper", "barge"],
                    "description": "listen: the supervisor hears both parties, neither hears \
                        them; whisper: the agent hears them too, the customer does not; \
                        barge: all three hear each other"},
                "extension": {"type": "string", "pattern": "^[A-Za-z0-9+*#._-]{1,64}$",
                    "description": "the phone to ring (default: the caller's own extension)"}}},
        "TransferBody": {"type": "object", "additionalProperties": false,
            "required": ["target"], "properties": {
                "target": {"type": "string", "pattern": "^[A-Za-z0-9+*#._-]{1,64}$",
                    "description": "the user the customer is handed to"}}},
        "CallAttempt": {"type": "object", "properties": {
            "attempt": {"type": "integer", "description": "names the call's events"}}},
        "Call": {"type": "object", "properties": {
            "id": {"type": "string"}, "state": {"type": "string"},
            "phase": {"type": "string", "enum": ["routing", "ringing", "queued", "talking",
                "transferring", "consulting", "conference", "voicemail", "ended"]},
            "interaction": {"type": "integer", "nullable": true},
            "agent": {"type": "string", "nullable": true},
            "attempt": {"type": "integer", "nullable": true},
            "from": {"type": "string"}, "to": {"type": "string"},
            "started_ms": {"type": "integer"},
            "answered_ms": {"type": "integer", "nullable": true},
            "legs": {"type": "array", "items": {"type": "object"}},
            "bridges": {"type": "array", "items": {"type": "object"}}}},
        "Registration": {"type": "object", "properties": {
            "user": {"type": "string"}, "contact": {"type": "string"},
            "transport": {"type": "string"}, "source": {"type": "string"},
            "expires_in": {"type": "integer", "nullable": true},
            "user_agent": {"type": "string"}, "static_contact": {"type": "boolean"}}},
        "VoiceMessage": {"type": "object", "properties": {
            "id": {"type": "string"}, "mailbox": {"type": "string"},
            "from_user": {"type": "string"}, "from_name": {"type": "string"},
            "at_ms": {"type": "integer"}, "duration_ms": {"type": "integer"},
            "status": {"type": "string", "enum": ["new", "saved"]}}},
        "Mailbox": {"type": "object", "properties": {
            "mailbox": {"type": "string"}, "new": {"type": "integer"},
            "saved": {"type": "integer"}, "messages": array_of("VoiceMessage")}},
        "RecordingPage": {"type": "object", "properties": {
            "recordings": {"type": "array", "items": {"type": "object", "properties": {
                "id": {"type": "string"}, "call_id": {"type": "string"},
                "from_user": {"type": "string"}, "to_user": {"type": "string"},
                "agent": {"type": "string", "nullable": true},
                "started_ms": {"type": "integer"}, "ended_ms": {"type": "integer"},
                "file": {"type": "string"}}}}}},
        "CdrPage": {"type": "object", "properties": {
            "total": {"type": "integer"}, "cdrs": array_of("Cdr")}},
        "Cdr": {"type": "object", "properties": {
            "call_id": {"type": "string"},
            "session_id": {"type": "string",
                "description": "shared by every CDR of one call (one per leg pair)"},
            "seq": {"type": "integer", "description": "the leg pair, from 0"}, "from_uri": {"type": "string"},
            "to_uri": {"type": "string"}, "from_user": {"type": "string"},
            "to_user": {"type": "string"}, "start_ms": {"type": "integer"},
            "answer_ms": {"type": "integer", "nullable": true}, "end_ms": {"type": "integer"},
            "ring_secs": {"type": "number"}, "talk_secs": {"type": "number"},
            "status": {"type": "integer"}, "cause": {"type": "string"},
            "hangup_side": {"type": "string"}}},
    })
}
