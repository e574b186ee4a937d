//! A chat's files' part of the OpenAPI document: upload, list, download.

use serde_json::{json, Value};

use super::openapi::{error, ok, path_param, schema};

fn chat_param() -> Value {
    path_param(
        "id",
        "the chat's interaction id",
        json!({"type": "integer", "minimum": 0, "maximum": i64::MAX}),
    )
}

const TOKEN: &str = "The chat's customer sends the chat's token (`token` of the `joined` \
    frame) in X-Chat-Token instead of a login; a token that is not the chat's gets 403 \
    bad_chat_token.";

pub(super) fn paths() -> Value {
    let read_403 = "the account may not read this chat (code not_your_chat), or the token is \
        not the chat's (code bad_chat_token)";
    json!({
        "/api/chats/{id}/attachments": {
            "post": {"tags": ["chat"], "summary": "Send a file into a chat",
                "description": format!("The body is the file's bytes (any Content-Type), its \
                    name in `name`. The customer may send until the chat ends, an agent while \
                    they work the chat (or are its conference guest). The file must be of an \
                    allowed type (chat.attachments.types) by its name and by its content, fit \
                    the chat's remaining budget (chat.attachments.max_total_bytes for all its \
                    files together) and hold no card number (PCI DSS: text, UTF-16, PDF \
                    streams and zip/OOXML entries are read). Refused, nothing is stored. \
                    Accepted, the file is kept, indexed and shown to both sides as a \
                    transcript entry (`message` frame, `chat_message` event). {TOKEN}"),
                "parameters": [chat_param(),
                    {"name": "name", "in": "query", "required": true,
                     "description": "the file's name, with its extension",
                     "schema": {"type": "string", "minLength": 1, "maxLength": 200}}],
                "requestBody": {"required": true, "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
                    "*/*": {"schema": {"type": "string", "format": "binary"}}}},
                "responses": {
                    "201": ok("the file's transcript entry", schema("ChatMessage")),
                    "400": error("no `name`, or an unreadable body (codes bad_query, bad_body)"),
                    "403": error("an account without an agent (code not_an_agent), another agent's \
                        chat (not_your_chat), or a token that is not the chat's (bad_chat_token)"),
                    "404": error("no such live chat (code not_found)"),
                    "409": error("the chat has ended (code not_active)"),
                    "413": error("the file does not fit the chat's remaining budget (code too_large)"),
                    "415": error("the type is not allowed (code type_not_allowed) or the content \
                        is not of the type its name says (content_mismatch)"),
                    "422": error("a bad file name (code bad_name, field name), an empty file \
                        (empty_file), a card number in it (card_number), or one that cannot be \
                        checked (unscannable)"),
                    "500": error("the file could not be written (code store)"),
                    "503": error("the chat service has stopped (code unavailable)"),
                }},
            "get": {"tags": ["chat"], "summary": "A chat's files",
                "description": format!("Oldest first, with the bytes used, the chat's budget \
                    and the allowed types. {TOKEN}"),
                "parameters": [chat_param()],
                "responses": {
                    "200": ok("the files", schema("ChatFiles")),
                    "403": error(read_403),
                    "404": error("no such chat (code not_found)"),
                }},
        },
        "/api/chats/{id}/attachments/{file}": {"get": {"tags": ["chat"],
            "summary": "Download a chat's file",
            "description": format!("The bytes with the type's Content-Type and \
                `Content-Disposition: attachment` under the file's name. {TOKEN}"),
            "parameters": [chat_param(),
                path_param("file", "the file's id", json!({"type": "string"}))],
            "responses": {
                "200": {"description": "the file",
                    "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}},
                "403": error(read_403),
                "404": error("no such chat, or no such file in it (code not_found)"),
            }}},
    })
}

pub(super) fn schemas() -> Value {
    let file = json!({"type": "object", "required": ["id", "name", "size", "content_type", "url"],
        "properties": {
            "id": {"type": "string"}, "name": {"type": "string"},
            "size": {"type": "integer", "description": "bytes"},
            "content_type": {"type": "string"},
            "url": {"type": "string", "description": "the download's path"}}});
    let mut listed = file.clone();
    listed["properties"]["sender"] = json!({"type": "string"});
    listed["properties"]["role"] = json!({"type": "string", "enum": ["customer", "agent"]});
    listed["properties"]["at_ms"] = json!({"type": "integer"});
    json!({
        "ChatFile": file,
        "ChatFiles": {"type": "object", "properties": {
            "attachments": {"type": "array", "items": listed},
            "total_bytes": {"type": "integer"},
            "max_total_bytes": {"type": "integer"},
            "types": {"type": "array", "items": {"type": "string"}}}},
    })
}
