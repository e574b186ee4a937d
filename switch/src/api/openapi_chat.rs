//! The web chat's part of the OpenAPI document: the customer's WebSocket, the agent's chat
//! actions and the stored transcript.

use serde_json::{json, Value};

use super::openapi::{body, body_errors, empty, error, ok, path_param, schema};

fn chat_param() -> Value {
    path_param(
        "id",
        "the chat's interaction id (as the chat_offer event gives it)",
        json!({"type": "integer", "minimum": 0, "maximum": i64::MAX}),
    )
}

/// An agent's action on a chat of theirs.
fn action(summary: &str, description: &str, answer: Value, conflict: &str) -> Value {
    json!({"post": {"tags": ["chat"], "summary": summary,
    "description": format!("{description} Only the account of the agent the chat is \
        offered to or worked by may do it (403 not_an_agent for an account without an agent, 403 not_your_chat \
            for another agent's chat)."),
    "parameters": [chat_param()],
    "responses": {
        "2XX": answer,
        "404": error("no such live chat (code not_found)"),
        "409": error(conflict),
        "503": error("the chat service has stopped (code unavailable)"),
    }}})
}

pub(super) fn paths() -> Value {
    let mut accept = action(
        "Accept a chat offered to the caller's agent",
        "The agent becomes Busy; the customer is told the agent's name. The answer has the \
            transcript so far and the queue's wrap-up codes.",
        ok("the chat", schema("ChatView")),
        "the chat is not offered to this agent (code not_offered), or the ACD refuses \
            (code conflict)",
    );
    rename_2xx(&mut accept, "200");
    let mut decline = action(
        "Decline a chat offered to the caller's agent",
        "The agent goes to RONA (as when the offer times out) and the chat goes back to its \
            queue.",
        empty("declined"),
        "the chat is not offered to this agent (code not_offered)",
    );
    rename_2xx(&mut decline, "204");
    let mut end = action(
        "End a chat the caller's agent is working",
        "The customer is told; the agent goes to After-Call-Work under the queue's wrap-up.",
        empty("ended"),
        "the chat is not in progress (code not_active)",
    );
    rename_2xx(&mut end, "204");
    let mut send = action(
        "Write to the customer",
        "Card numbers are masked (or, with chat.card_numbers = \"drop\", the message is \
            refused) before the text is stored or shown.",
        ok("the transcript line as stored", schema("ChatMessage")),
        "the chat is not in progress (code not_active)",
    );
    rename_2xx(&mut send, "201");
    send["post"]["requestBody"] = body("ChatMessageBody");
    send["post"]["responses"] = body_errors(send["post"]["responses"].take());
    send["post"]["responses"]["422"] = error(
        "a field is unknown, missing or of the wrong type (code invalid); the text is over \
         chat.max_message_chars characters (code message_too_long: refused, never cut), \
         empty (empty_message), holds control characters (control_characters) or a card \
         number under the drop policy (card_number); field text",
    );
    let mut wrap_up = action(
        "Submit the wrap-up of an ended chat",
        "The codes are the queue's (chat.wrap_up_codes), several may be chosen; the agent \
            then leaves After-Call-Work (to Ready, or the state asked for meanwhile).",
        empty("saved"),
        "the chat has not ended yet (code not_ended)",
    );
    rename_2xx(&mut wrap_up, "204");
    wrap_up["post"]["requestBody"] = body("WrapUpBody");
    wrap_up["post"]["responses"] = body_errors(wrap_up["post"]["responses"].take());
    wrap_up["post"]["responses"]["422"] =
        error("a field is unknown, missing or of the wrong type, or a code is not one of the queue's (code invalid, field codes)");
    let mut paths = json!({
        "/api/chat/ws": {"get": {"tags": ["chat"], "summary": "A customer's chat (WebSocket, no login)",
            "description": "Upgrade to a WebSocket. The first frame the client sends is \
                {\"type\":\"join\",\"name\":\"...\",\"dn\":\"ACD DN\"}; then \
                {\"type\":\"message\",\"text\":\"...\"} and {\"type\":\"leave\"}. The server \
                sends {\"type\":\"joined\"|\"queued\"|\"message\"|\"agent_joined\"|\"agent_left\"|\
                \"error\"|\"ended\", ...}. An unknown DN or a bad name gets an error frame \
                (code unknown_dn, bad_name) and the socket closes; a refused message (code \
                message_too_long, card_number, ...) gets an error frame and the chat goes on. \
                The joined frame's `token` is the customer's credential for the chat's \
                files (X-Chat-Token on /api/chats/{id}/attachments).",
            "responses": {
                "101": empty("switching to the WebSocket protocol"),
                "400": error("not a WebSocket upgrade request (code websocket_required)"),
                "426": error("the connection cannot be upgraded (code websocket_required)"),
            }}},
        "/api/agents/{id}/chats": {"get": {"tags": ["chat"],
            "summary": "The chats an agent works or has still to wrap up",
            "description": "What a desktop shows again after a reload: each chat with its \
                transcript so far; ended ones wait for the wrap-up.",
            "parameters": [path_param("id", "the ACD agent's id", super::openapi::id_string())],
            "responses": {
                "200": ok("the chats, oldest first", json!({"type": "array", "items": schema("ChatView")})),
                "404": error("no such agent (code not_found)"),
                "503": error("the chat service has stopped (code unavailable)"),
            }}},
        "/api/chats/{id}/accept": accept,
        "/api/chats/{id}/decline": decline,
        "/api/chats/{id}/messages": send,
        "/api/chats/{id}/end": end,
        "/api/chats/{id}/wrap-up": wrap_up,
        "/api/interactions/{id}/transcript": {"get": {"tags": ["chat"],
            "summary": "The stored transcript of a chat interaction",
            "description": "An agent sees the chats they took, a supervisor those of their \
                teams' queues, an administrator all. Texts are as stored: card numbers masked.",
            "parameters": [path_param("id", "the interaction id",
                json!({"type": "integer", "minimum": 0, "maximum": i64::MAX}))],
            "responses": {
                "200": ok("the transcript", schema("Transcript")),
                "403": error("the interaction is not the caller's nor of their teams' queues (code forbidden)"),
                "404": error("no chat interaction with this id (code not_found)"),
            }}},
    });
    extend(&mut paths, super::openapi_chat_collab::paths());
    extend(&mut paths, super::openapi_chat_files::paths());
    paths
}

fn extend(target: &mut Value, extra: Value) {
    if let (Some(t), Value::Object(e)) = (target.as_object_mut(), extra) {
        t.extend(e);
    }
}

/// Puts the `2XX` answer under its real status.
fn rename_2xx(op: &mut Value, status: &str) {
    if let Some(responses) = op["post"]["responses"].as_object_mut() {
        if let Some(answer) = responses.remove("2XX") {
            responses.insert(status.to_string(), answer);
        }
    }
}

pub(super) fn schemas() -> Value {
    let message = json!({"type": "object", "required": ["sender", "role", "text", "at_ms"],
        "properties": {
            "sender": {"type": "string"},
            "role": {"type": "string", "enum": ["customer", "agent", "system"]},
            "text": {"type": "string"},
            "at_ms": {"type": "integer"},
            "attachment": schema("ChatFile")}});
    let mut schemas = json!({
        "ChatMessage": message,
        "ChatMessageBody": {"type": "object", "additionalProperties": false, "required": ["text"],
            "properties": {"text": {"type": "string", "minLength": 1, "maxLength": 1000}}},
        "WrapUpBody": {"type": "object", "additionalProperties": false, "required": ["codes"],
            "properties": {"codes": {"type": "array", "items": {"type": "string"}}}},
        "ChatView": {"type": "object", "properties": {
            "interaction": {"type": "integer"}, "customer": {"type": "string"},
            "queue": {"type": "string"}, "queue_name": {"type": "string"},
            "agent_name": {"type": "string"}, "arrived_ms": {"type": "integer"},
            "messages": {"type": "array", "items": schema("ChatMessage")},
            "wrap_up_codes": {"type": "array", "items": {"type": "string"}},
            "ended": {"type": "boolean"},
            "guest": {"type": "boolean", "description": "the caller is the conference's guest"},
            "agents": {"type": "array", "items": {"type": "string"},
                "description": "the agents in the chat: its agent, then the guest"}}},
        "Transcript": {"type": "object", "properties": {
            "interaction": {"type": "integer"}, "channel": {"type": "string"},
            "queue": {"type": "string"}, "customer": {"type": "string"},
            "agent": {"type": "string", "nullable": true},
            "started_ms": {"type": "integer"},
            "ended_ms": {"type": "integer", "nullable": true},
            "wrap_up": {"type": "array", "items": {"type": "string"}},
            "messages": {"type": "array", "items": schema("ChatMessage")}}},
    });
    extend(&mut schemas, super::openapi_chat_collab::schemas());
    extend(&mut schemas, super::openapi_chat_files::schemas());
    schemas
}
