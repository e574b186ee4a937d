//! The e-mail channel's part of the OpenAPI document.

use serde_json::{json, Value};

use super::openapi::{body_errors, empty, error, ok, path_param};

fn thread_param() -> Value {
    path_param(
        "id",
        "the e-mail thread's id (`thread` of the email_offer event)",
        json!({"type": "integer", "minimum": 0, "maximum": i64::MAX}),
    )
}

fn view() -> Value {
    json!({"type": "object", "description": "a thread: `thread` (customer, address, subject, \
        queue, state), `interaction`, `state` (queued, offered, working, wrap_up, closed), \
        `agent`, `queue_name`, `messages` (each mail in or out with its headers, text, safe \
        HTML, outbox status, `files` and `has_original`), `history` (the customer's other \
        threads), `wrap_up_codes`, `transfer_queues` (the other e-mail queues, `dn` and \
        `name`), `draft` (the caller's unsent reply: `kind`, `text`, `html`, `cc`, \
        `saved_ms`; null when none)"})
}

fn action(summary: &str, description: &str, body: Option<Value>, done: Value) -> Value {
    let mut op = json!({"tags": ["email"], "summary": summary, "description": description,
    "parameters": [thread_param()],
    "responses": {
        "200": done.clone(), "202": done.clone(), "204": done,
        "403": error("not an agent's own account (code not_an_agent) or not the agent's \
            e-mail (code not_yours)"),
        "404": error("no such thread (code not_found)"),
        "409": error("the thread is not offered to / worked by the caller (codes \
            not_offered, not_working), or the ACD refused"),
        "422": error("a bad reply, queue or wrap-up code (codes bad_reply, \
            not_email_queue, unknown_code)"),
    }});
    if let Some(schema) = body {
        op["requestBody"] = json!({"required": true,
            "content": {"application/json": {"schema": schema}}});
        op["responses"] = body_errors(op["responses"].take());
    }
    json!({"post": op})
}

/// The reply's body may be larger than the API's 1 MiB: its files come in it.
fn reply_op(mut op: Value) -> Value {
    op["post"]["responses"]["413"] = error("the body is over 48 MiB (code too_large)");
    op
}

/// An operation on the working agent's draft.
fn draft_op(summary: &str, description: &str, body: Option<Value>, done: Value) -> Value {
    let mut op = action(summary, description, body, done);
    op["post"].take()
}

pub(super) fn paths() -> Value {
    let codes = json!({"type": "object", "required": ["codes"], "additionalProperties": false,
        "properties": {"codes": {"type": "array", "items": {"type": "string"}}}});
    let reply = json!({"type": "object", "required": ["kind"], "additionalProperties": false,
        "properties": {
            "kind": {"type": "string", "enum": ["quick", "standard", "all"]},
            "text": {"type": "string", "description": "the quick reply's plain text"},
            "html": {"type": "string", "description": "the standard reply's rich text \
                (sanitised: headings, bold, italic, underline, strike-through, colour, lists, \
                quote, table, link, indent)"},
            "cc": {"type": "array", "items": {"type": "string"}},
            "attachments": {"type": "array", "items": {"type": "object",
                "required": ["name", "data"], "additionalProperties": false,
                "properties": {"name": {"type": "string"},
                    "data": {"type": "string", "description": "base64"}}}}}});
    let draft = json!({"type": "object", "required": ["kind"], "additionalProperties": false,
        "properties": {
            "kind": {"type": "string", "enum": ["quick", "standard", "all"]},
            "text": {"type": "string"},
            "html": {"type": "string", "description": "sanitised as a reply's rich text"},
            "cc": {"type": "array", "maxItems": 50, "items": {"type": "string"}}}});
    json!({
        "/api/agents/{id}/emails": {"get": {"tags": ["email"],
            "summary": "The e-mails an agent is offered, works or wraps up",
            "parameters": [path_param("id", "the agent's id", json!({"type": "string"}))],
            "responses": {"200": ok("the threads", json!({"type": "array", "items": view()})),
                "403": error("not the caller's agent nor of their teams"),
                "404": error("no such agent")}}},
        "/api/emails/{id}": {"get": {"tags": ["email"], "summary": "An e-mail thread",
            "description": "Its agent, or supervisors and administrators for the queues of \
                their teams.",
            "parameters": [thread_param()],
            "responses": {"200": ok("the thread", view()),
                "403": error("not the caller's (code not_yours)"),
                "404": error("no such thread (code not_found)")}}},
        "/api/emails/{id}/files/{file}": {"get": {"tags": ["email"],
            "summary": "A file of one of the thread's mails",
            "parameters": [thread_param(), path_param("file", "the file's id",
                json!({"type": "string"}))],
            "responses": {"200": {"description": "the file", "content": {"*/*": {"schema":
                    {"type": "string", "format": "binary"}}}},
                "403": error("not the caller's (code not_yours)"),
                "404": error("no such thread or file (code not_found)")}}},
        "/api/emails/{id}/draft": {
            "put": draft_op("Keep the reply being written as a draft",
                "The thread's working agent only; one draft per thread and agent, given \
                back in the thread's `draft` and removed when the reply is sent or the \
                agent's work on the thread ends. Files are not kept in a draft.",
                Some(draft), ok("the draft kept", json!({"type": "object"}))),
            "delete": draft_op("Discard the draft", "The working agent's draft goes.", None,
                empty("discarded")),
        },
        "/api/emails/{id}/messages/{message}/original": {"get": {"tags": ["email"],
            "summary": "An inbound mail's raw source",
            "description": "As it was fetched (RFC 5322), as plain text; not kept for replies \
                nor for a mail that held a card number (code no_original).",
            "parameters": [thread_param(), path_param("message", "the message's id",
                json!({"type": "integer", "minimum": 0, "maximum": i64::MAX}))],
            "responses": {"200": {"description": "the raw mail", "content": {"text/plain":
                    {"schema": {"type": "string"}}}},
                "403": error("not the caller's (code not_yours)"),
                "404": error("no such thread or message, or its original is not kept \
                    (codes not_found, no_original)")}}},
        "/api/emails/{id}/accept": action("Accept an offered e-mail",
            "The ACD's offer is accepted: the agent works the thread.", None,
            ok("the thread", view())),
        "/api/emails/{id}/decline": action("Decline an offered e-mail",
            "The offer goes back to the ACD (RONA as for an unanswered offer).", None,
            empty("declined")),
        "/api/emails/{id}/reply": reply_op(action("Reply (quick, standard or to all) and send",
            "The reply is stored in the outbox and sent through the SMTP relay, retried with \
            back-off (email_sent, email_retry, email_failed on /api/events); recipients, \
            subject and threading headers are the thread's. Sending ends the agent's work on \
            the thread: After-Call-Work and the wrap-up follow (email_ended).",
            Some(reply), ok("the thread, the reply queued", view()))),
        "/api/emails/{id}/transfer": action("Transfer to another e-mail queue",
            "Only to a queue fed by a mailbox; the agent's part ends (wrap-up).",
            Some(json!({"type": "object", "required": ["queue"], "additionalProperties": false,
                "properties": {"queue": {"type": "string"}}})),
            empty("transferred")),
        "/api/emails/{id}/end": action("End without replying",
            "The agent's work ends (wrap-up); the thread is closed until the customer writes \
            again.", None, empty("ended")),
        "/api/emails/{id}/wrap-up": action("Wrap up an answered e-mail",
            "Codes from the thread's queue (`wrap_up_codes`).", Some(codes),
            empty("wrapped up")),
    })
}
