//! The IM and team directory part of the OpenAPI document.

use serde_json::{json, Value};

use super::openapi::{body, body_errors, empty, error, ok, path_param, schema};

fn im_param() -> Value {
    path_param(
        "id",
        "the IM session's id",
        json!({"type": "integer", "minimum": 0, "maximum": i64::MAX}),
    )
}

fn action(summary: &str, description: &str, status: &str, answer: Value, conflict: &str) -> Value {
    json!({"post": {"tags": ["im"], "summary": summary,
    "description": format!("{description} Only a party to the session may do it \
        (403 not_a_party)."),
    "parameters": [im_param()],
    "responses": {
        status: answer,
        "404": error("no such live IM session (code not_found)"),
        "409": error(conflict),
        "503": error("the IM service has stopped (code unavailable)"),
    }}})
}

const TEXT_422: &str = "a field is unknown, missing or of the wrong type (code invalid); the \
    text is over chat.max_message_chars characters (message_too_long: refused, never cut), \
    empty (empty_message), holds control characters (control_characters) or a card number \
    under the drop policy (card_number); field text";

pub(super) fn paths() -> Value {
    let mut accept = action(
        "Accept an IM invitation",
        "Only the invited party answers (403 not_invited); both are told (im_accepted).",
        "200",
        ok("the session", schema("ImSession")),
        "the invitation was declined, timed out or withdrawn (code not_open)",
    );
    accept["post"]["responses"]["403"] = error("not the invited party (code not_invited)");
    let decline = action(
        "Decline an IM invitation",
        "The sender is told (im_declined).",
        "200",
        ok("the session", schema("ImSession")),
        "the invitation is no longer open (code not_open)",
    );
    let mut send = action(
        "Write in an IM session",
        "Card numbers are masked as in chats. A phone party gets it as SIP MESSAGE.",
        "201",
        ok("the line", schema("ImMessage")),
        "the session is not connected (code not_connected)",
    );
    send["post"]["requestBody"] = body("ImTextBody");
    send["post"]["responses"] = body_errors(send["post"]["responses"].take());
    send["post"]["responses"]["422"] = error(TEXT_422);
    let end = action(
        "End an IM session (for both parties)",
        "An open invitation is withdrawn the same way; both are told (im_ended).",
        "200",
        ok("the session", schema("ImSession")),
        "the session is already over (code over)",
    );
    let done = action(
        "Mark Done: close the session's window",
        "Ends the session first if it is still live; it no longer shows in GET /api/im.",
        "204",
        empty("done"),
        "never",
    );
    let mut invite = json!({"post": {"tags": ["im"], "summary": "Send an IM invitation",
    "description": "To an agent or supervisor (account id, agent id or extension) on \
        their desktop, who accepts, declines or lets it time out (im.invite_timeout_secs); \
        or, when the target has no desktop session but a phone, or is a SIP user, as SIP \
        MESSAGE (the session is connected at once). `interaction` makes it an IM \
        consult about a live interaction of the caller's: the parties see its case data.",
    "requestBody": body("ImInviteBody"),
    "responses": {
        "201": ok("the session", schema("ImSession")),
        "409": error("the target has no desktop session and no phone (code unreachable)"),
        "503": error("the IM service has stopped (code unavailable)"),
    }}});
    invite["post"]["responses"] = body_errors(invite["post"]["responses"].take());
    invite["post"]["responses"]["422"] = error(
        "a field is invalid (code invalid); no such agent, supervisor or phone user \
         (unknown_target), the caller themselves (to_self), an interaction that is not the \
         caller's (not_your_interaction), or a text refused as in chats",
    );
    json!({
        "/api/directory": {"get": {"tags": ["im"], "summary": "The team directory",
            "description": "Agents and supervisors of the caller's teams with presence \
                (ready, not_ready, busy, logged_out; available for an account without an \
                agent while logged in), and the caller's queues with available and \
                logged-in agents and the number waiting. Live changes come on /api/events \
                as presence events.",
            "parameters": [{"name": "q", "in": "query", "required": false,
                "description": "keep entries whose name, id, extension or DN contains this",
                "schema": {"type": "string", "maxLength": 64}}],
            "responses": {"200": ok("the directory", schema("Directory"))}}},
        "/api/im": {
            "get": {"tags": ["im"], "summary": "The caller's IM sessions not marked done",
                "responses": {"200": ok("the sessions", json!({"type": "array", "items": schema("ImSession")}))}},
            "post": invite["post"],
        },
        "/api/im/{id}": {"get": {"tags": ["im"], "summary": "A stored IM session and its transcript",
            "description": "For its parties, the supervisors of a party's teams, and administrators; kept across restarts.",
            "parameters": [im_param()],
            "responses": {
                "200": ok("the session", schema("StoredIm")),
                "403": error("not yours nor of your teams (code forbidden)"),
                "404": error("no such IM session (code not_found)"),
            }}},
        "/api/im/{id}/accept": accept,
        "/api/im/{id}/decline": decline,
        "/api/im/{id}/messages": send,
        "/api/im/{id}/end": end,
        "/api/im/{id}/done": done,
    })
}

pub(super) fn schemas() -> Value {
    let party = json!({"type": "object", "properties": {
        "id": {"type": "string"}, "name": {"type": "string"}, "phone": {"type": "boolean"}}});
    let message = json!({"type": "object", "properties": {
        "from": {"type": "string"}, "sender": {"type": "string"},
        "text": {"type": "string"}, "at_ms": {"type": "integer"}}});
    json!({
        "ImParty": party,
        "ImMessage": message,
        "ImTextBody": {"type": "object", "additionalProperties": false, "required": ["text"],
            "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 1000}}},
        "ImInviteBody": {"type": "object", "additionalProperties": false, "required": ["to", "text"],
            "properties": {
                "to": {"type": "string", "minLength": 1, "maxLength": 64},
                "text": {"type": "string", "minLength": 1, "maxLength": 1000},
                "interaction": {"type": "integer", "minimum": 0, "maximum": i64::MAX, "nullable": true}}},
        "ImSession": {"type": "object", "properties": {
            "id": {"type": "integer"}, "from": schema("ImParty"), "to": schema("ImParty"),
            "interaction": {"type": "integer", "nullable": true},
            "status": {"type": "string", "enum": ["invited", "connected", "declined", "timed_out", "ended"]},
            "created_ms": {"type": "integer"},
            "ended_by": {"type": "string", "nullable": true},
            "messages": {"type": "array", "items": schema("ImMessage")},
            "case": {"type": "object", "description": "the interaction's case data (IM consult)"}}},
        "StoredIm": {"type": "object", "properties": {
            "id": {"type": "integer"}, "from": schema("ImParty"), "to": schema("ImParty"),
            "interaction": {"type": "integer", "nullable": true},
            "status": {"type": "string"}, "created_ms": {"type": "integer"},
            "ended_ms": {"type": "integer", "nullable": true},
            "ended_by": {"type": "string", "nullable": true},
            "messages": {"type": "array", "items": schema("ImMessage")}}},
        "Directory": {"type": "object", "properties": {
            "people": {"type": "array", "items": {"type": "object"}},
            "queues": {"type": "array", "items": {"type": "object"}}}},
    })
}
