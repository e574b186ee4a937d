//! The OpenAPI part of chat transfer, conference and leave.

use super::openapi::{body, body_errors, empty, error, path_param};
use serde_json::{json, Value};

fn op(summary: &str, description: &str, answer: Value, with_body: bool) -> Value {
    let mut responses = json!({
        answer["status"].as_str().unwrap_or("204"): answer["response"].clone(),
        "403": error("an account without an agent (code not_an_agent), another agent's chat \
            (not_your_chat), a conference guest transferring or ending (guest), leave by \
            anyone but the guest (not_a_guest)"),
        "404": error("no such live chat (code not_found)"),
        "409": error("the chat is not in progress (not_active), an invitation is already in \
            flight (invite_in_progress), the chat is in a conference (in_conference), or the \
            ACD refuses, e.g. the agent cannot take a chat now (conflict)"),
        "503": error("the chat service has stopped (code unavailable)"),
    });
    let mut op = json!({"tags": ["chat"], "summary": summary, "description": description,
        "parameters": [path_param("id", "the chat's interaction id",
            json!({"type": "integer", "minimum": 0, "maximum": i64::MAX}))]});
    if with_body {
        op["requestBody"] = body("ChatTargetBody");
        responses = body_errors(responses);
        responses["422"] = error(
            "a field is unknown or of the wrong type, neither or both of queue and agent \
             (code invalid), no such queue (unknown_dn) or agent (unknown_agent), or oneself \
             (self_target)",
        );
    }
    op["responses"] = responses;
    json!({"post": op})
}

pub(super) fn paths() -> Value {
    json!({
        "/api/chats/colleagues": {"get": {"tags": ["chat"],
            "summary": "The agents of the caller's teams, with their states",
            "description": "The targets a desktop offers for a transfer or a conference.",
            "responses": {"200": super::openapi::ok("the agents",
                json!({"type": "array", "items": {"type": "object"}}))}}},
        "/api/chats/{id}/transfer": op("Transfer a chat to a queue or an agent",
            "To a queue: the chat is queued again at once (the customer is told they are being \
             transferred and keeps the transcript) and the agent goes to their wrap-up. To an \
             agent (who must be able to take a chat now): it is offered to them with the \
             normal pop-up (kind transfer, from); when they accept, the transferring agent \
             leaves (chat_ended with by transfer) and the new one sees the whole transcript. \
             Declined or unanswered, it comes back as chat.transfer_fallback says: to the \
             agent (a chat_invite_failed event with the reason) or to the queue.",
            json!({"status": "202", "response": empty("the transfer is under way")}), true),
        "/api/chats/{id}/conference": op("Invite a second agent to a chat",
            "An agent (directly) or a queue (its first available agent) is offered the chat \
             (kind conference). Once accepted all three see every line with names; the guest \
             may leave (POST leave), only the first agent ends the chat and wraps it up; when \
             the customer leaves it ends for both.",
            json!({"status": "202", "response": empty("the invitation is under way")}), true),
        "/api/chats/{id}/leave": op("The conference guest leaves the chat",
            "The chat goes on with its agent; the customer sees that the guest left. The guest \
             has no wrap-up and returns to Ready (or the state asked for meanwhile).",
            json!({"status": "204", "response": empty("left")}), false),
    })
}

pub(super) fn schemas() -> Value {
    json!({
        "ChatTargetBody": {"type": "object", "additionalProperties": false,
            "description": "exactly one of queue and agent",
            "properties": {
                "queue": {"type": "string", "description": "an ACD DN"},
                "agent": {"type": "string", "description": "an ACD agent id"}}},
    })
}
