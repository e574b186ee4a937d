//! The predefined responses' (chat templates') part of the OpenAPI document.

use serde_json::{json, Value};

use super::openapi::{body, body_errors, empty, error, ok, path_param, schema};

fn id_param() -> Value {
    path_param(
        "id",
        "the template's id",
        json!({"type": "integer", "minimum": 0, "maximum": i64::MAX}),
    )
}

const INVALID: &str = "the title is not 1-100 characters (field title), the text is empty \
    or over chat.max_message_chars characters (field text), or a queue is not a DN (field \
    queues)";

pub(super) fn paths() -> Value {
    let mut create = json!({"tags": ["chat"], "summary": "Create a predefined response",
        "description": "Administrators only. `queues` lists the queue DNs it applies to; \
            none makes it global. Texts may hold {customer} and {agent}, which the desktop \
            fills in.",
        "requestBody": body("TemplateBody"),
        "responses": {"201": ok("the template", schema("Template")), "422": error(INVALID)}});
    create["responses"] = body_errors(create["responses"].take());
    let mut put = json!({"tags": ["chat"], "summary": "Replace a predefined response",
        "description": "Administrators only.",
        "parameters": [id_param()],
        "requestBody": body("TemplateBody"),
        "responses": {"200": ok("the template", schema("Template")),
            "404": error("no such template (code not_found)"), "422": error(INVALID)}});
    put["responses"] = body_errors(put["responses"].take());
    json!({
        "/api/chat/templates": {
            "get": {"tags": ["chat"], "summary": "List or search predefined responses",
                "description": "Agents and supervisors see the global templates and those of \
                    their queues (their agent's and their teams'); administrators all.",
                "parameters": [
                    {"name": "q", "in": "query", "required": false,
                     "description": "words that must all be in the title or the text (any case)",
                     "schema": {"type": "string"}},
                    {"name": "queue", "in": "query", "required": false,
                     "description": "only the templates that apply to this queue DN (and the global ones)",
                     "schema": {"type": "string"}}],
                "responses": {"200": ok("the templates, by title", json!({"type": "object",
                    "properties": {"templates": {"type": "array", "items": schema("Template")}}}))}},
            "post": create,
        },
        "/api/chat/templates/{id}": {
            "put": put,
            "delete": {"tags": ["chat"], "summary": "Delete a predefined response",
                "description": "Administrators only.",
                "parameters": [id_param()],
                "responses": {"204": empty("deleted"),
                    "404": error("no such template (code not_found)")}},
        },
    })
}

pub(super) fn schemas() -> Value {
    json!({
        "TemplateBody": {"type": "object", "additionalProperties": false,
            "required": ["title", "text"],
            "properties": {
                "title": {"type": "string", "minLength": 1, "maxLength": 100},
                "text": {"type": "string", "minLength": 1, "maxLength": 1000},
                "queues": {"type": "array", "items": {"type": "string"}}}},
        "Template": {"type": "object", "properties": {
            "id": {"type": "integer"}, "title": {"type": "string"}, "text": {"type": "string"},
            "queues": {"type": "array", "items": {"type": "string"}},
            "updated_ms": {"type": "integer"}}},
    })
}
