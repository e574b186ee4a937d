//! The OpenAPI 3.0 document of the dialer's API, written by hand (a test checks that it
//! lists exactly the router's routes). The switch builds the whole API's document on it
//! (`switch::api::openapi`), adding its own paths, schemas and the access rules, so the
//! schema names here are shared with the switch's (a switch test keeps them apart).

use axum::Json;
use serde_json::{json, Value};

pub async fn serve() -> Json<Value> {
    Json(document())
}

fn schema(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn body(name: &str) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": schema(name)}}})
}

fn ok(description: &str, name: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": schema(name)}}})
}

fn error(description: &str) -> Value {
    ok(description, "Error")
}

/// The answers every operation with a JSON body may give besides its own.
fn body_errors(mut responses: Value) -> Value {
    responses["413"] = error("the body is over 1 MiB (code too_large)");
    responses["415"] = error("not application/json (code unsupported_media_type)");
    responses["422"] =
        error("a field is unknown, missing or of the wrong type (code invalid, with field)");
    responses
}

/// A country code as `phone::CountryCode` reads it: 1 to 3 digits, not starting with 0.
fn country_code() -> Value {
    json!({"type": "string", "pattern": "^\\+?[1-9][0-9]{0,2}$", "example": "44"})
}

fn path_param(name: &str, kind: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description,
           "schema": {"type": kind}})
}

/// A campaign's or record's id: a positive `i64` (a larger one gets 400 `bad_path`).
fn id_schema() -> Value {
    json!({"type": "integer", "format": "int64", "minimum": 1, "maximum": i64::MAX})
}

fn id_param(name: &str, description: &str) -> Value {
    json!({"name": name, "in": "path", "required": true, "description": description,
           "schema": id_schema()})
}

fn campaign_param() -> Value {
    id_param("campaign", "campaign id")
}

/// A time of day as `window` reads it: `HH:MM`, or `24:00` for the end of the day.
fn time_of_day(example: &str) -> Value {
    json!({"type": "string", "pattern": "^(([01]?[0-9]|2[0-3]):[0-5][0-9]|24:00)$", "example": example})
}

/// A call result's or disposition's code (`campaign::unique_codes`).
fn code() -> Value {
    json!({"type": "string", "pattern": "^[a-z0-9_-]{1,64}$"})
}

fn agent_param() -> Value {
    path_param(
        "id",
        "string",
        "agent id: an ACD agent's (404 agent_not_found otherwise)",
    )
}

fn agent_params(record: bool) -> Value {
    let mut params = vec![agent_param(), campaign_param()];
    if record {
        params.push(id_param("record", "record id"));
    }
    Value::Array(params)
}

/// An agent action on the current record.
fn agent_action(summary: &str, request: Option<&str>) -> Value {
    let mut op = json!({
        "tags": ["agents"],
        "summary": summary,
        "parameters": agent_params(true),
        "responses": {
            "200": ok("the agent's session after the action", "Session"),
            "400": error("bad input (JSON, number, outcome)"),
            "404": error("no such agent (code agent_not_found)"),
            "409": error("not the agent's current record, wrong state, DNC, outside window, outcome required, dial refused, lease lost"),
            "503": error("the store could not save the action; try again"),
        }
    });
    if let Some(name) = request {
        op["requestBody"] = body(name);
        op["responses"] = body_errors(op["responses"].take());
    }
    op
}

fn command(summary: &str) -> Value {
    json!({"post": {
        "tags": ["campaigns"],
        "summary": summary,
        "parameters": [campaign_param()],
        "responses": {
            "200": ok("the campaign with its new status", "Campaign"),
            "400": error("bad campaign id"),
            "404": error("no such campaign"),
            "409": error("the command does not apply to the campaign's status"),
        }
    }})
}

/// The dialer's document: its routes and `GET /api/openapi.json` itself.
pub fn document() -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Preview dialer API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Campaigns, contact lists, do-not-call lists and the agents' preview flow. \
                Errors are {\"error\":{\"code\",\"message\"}}, with \"field\" naming the body field at fault \
                for 422 invalid. Every operation may also answer 405 method_not_allowed (with an Allow header) \
                for a method its path does not have, 400 bad_path for a path parameter of the wrong type, \
                400 bad_query for a bad query string. JSON bodies: at most 1 MiB; CSV imports: at most 256 MiB \
                (413 too_large beyond, with Connection: close)."
        },
        "paths": {
            "/api/campaigns": {
                "get": {"tags": ["campaigns"], "summary": "List campaigns",
                    "responses": {"200": {"description": "all campaigns",
                        "content": {"application/json": {"schema": {"type": "array", "items": schema("Campaign")}}}}}},
                "post": {"tags": ["campaigns"], "summary": "Create a campaign (status stopped)",
                    "requestBody": body("CampaignSpec"),
                    "responses": body_errors(json!({"201": ok("the new campaign", "Campaign"),
                        "400": error("bad JSON or invalid settings (code invalid_campaign)")}))}
            },
            "/api/campaigns/{campaign}": {
                "get": {"tags": ["campaigns"], "summary": "Get a campaign",
                    "parameters": [campaign_param()],
                    "responses": {"200": ok("the campaign", "Campaign"), "404": error("no such campaign")}},
                "patch": {"tags": ["campaigns"], "summary": "Change some settings",
                    "parameters": [campaign_param()], "requestBody": body("CampaignPatch"),
                    "responses": body_errors(json!({"200": ok("the changed campaign", "Campaign"),
                        "400": error("bad JSON or invalid settings"), "404": error("no such campaign")}))}
            },
            "/api/campaigns/{campaign}/load": command("Load: agents are told; status loaded"),
            "/api/campaigns/{campaign}/start": command("Start: records go to agents; status running"),
            "/api/campaigns/{campaign}/pause": command("Pause: no new records; status paused"),
            "/api/campaigns/{campaign}/stop": command("Stop: status stopped"),
            "/api/campaigns/{campaign}/stats": {
                "get": {"tags": ["campaigns"], "summary": "Records by status, attempts, results, per agent",
                    "parameters": [campaign_param()],
                    "responses": {"200": ok("statistics", "Stats"), "404": error("no such campaign")}}
            },
            "/api/campaigns/{campaign}/records/{record}": {
                "get": {"tags": ["campaigns"], "summary": "A record with its attempts",
                    "parameters": [campaign_param(), id_param("record", "record id")],
                    "responses": {"200": ok("the record", "RecordWithAttempts"), "404": error("no such record")}}
            },
            "/api/campaigns/{campaign}/import": {
                "post": {"tags": ["lists"], "summary": "Import a CSV contact list (streamed)",
                    "description": "Header columns: external_id (required), name, time_zone, phone or \
                        phone_<home|mobile|work|other>[_<n>] (at least one), anything else is a custom field. \
                        Every bad line is reported by number while the good rows load: a row that does not fit, \
                        a line over 1 MiB (skipped), an unterminated quote (only the line where it opened: a \
                        quoted field may span up to 100 lines when it closes into a well-formed row, else the \
                        lines after it are read as rows), and an external_id an earlier line of the file has \
                        (the first line wins). rows counts the file's data rows. Re-importing updates by external_id.",
                    "parameters": [campaign_param()],
                    "requestBody": {"required": true, "content": {
                        "text/csv": {"schema": {"type": "string"}},
                        "application/csv": {"schema": {"type": "string"}}}},
                    "responses": {"200": ok("the import report", "ImportReport"),
                        "400": error("bad header (or a header over 1 MiB), or an empty file"),
                        "404": error("no such campaign"),
                        "413": error("the file is over 256 MiB (code too_large)"),
                        "415": error("not text/csv or application/csv in UTF-8 (code unsupported_media_type)")}}
            },
            "/api/campaigns/{campaign}/imports": {
                "get": {"tags": ["lists"], "summary": "Progress of this node's recent imports",
                    "parameters": [campaign_param()],
                    "responses": {"200": {"description": "imports, oldest first",
                        "content": {"application/json": {"schema": {"type": "array", "items": schema("ImportProgress")}}}},
                        "404": error("no such campaign")}}
            },
            "/api/campaigns/{campaign}/export": {
                "get": {"tags": ["lists"], "summary": "Results as CSV, one row per record with its last attempt",
                    "parameters": [campaign_param()],
                    "responses": {"200": {"description": "CSV with columns record_id, external_id, name, status, attempts, \
                        last_result, next_at, agent, number, started_at, connected_at, ended_at, sip_status, dispositions, notes, dnc",
                        "content": {"text/csv": {"schema": {"type": "string"}}}},
                        "404": error("no such campaign")}}
            },
            "/api/dnc": {
                "post": {"tags": ["dnc"], "summary": "Add a number to the global or a campaign's list",
                    "requestBody": body("DncAdd"),
                    "responses": body_errors(json!({"201": ok("added", "DncAdded"), "200": ok("already listed", "DncAdded"),
                        "400": error("bad JSON or number"), "404": error("no such campaign")}))}
            },
            "/api/dnc/{number}": {
                "get": {"tags": ["dnc"], "summary": "Check a number",
                    "parameters": [path_param("number", "string", "the number, any common form"),
                        {"name": "campaign", "in": "query", "schema": id_schema()},
                        {"name": "country_code", "in": "query", "schema": country_code()}],
                    "responses": {"200": ok("the listings", "DncCheck"), "400": error("bad number"),
                        "404": error("no such campaign")}},
                "delete": {"tags": ["dnc"], "summary": "Remove a number from one list",
                    "parameters": [path_param("number", "string", "the number, any common form"),
                        {"name": "campaign", "in": "query", "schema": id_schema(),
                         "description": "the campaign's list; the global list when absent"},
                        {"name": "country_code", "in": "query", "schema": country_code()}],
                    "responses": {"204": {"description": "removed"}, "400": error("bad number"),
                        "404": error("not on that list, or no such campaign")}}
            },
            "/api/agents/{id}/session": {
                "get": {"tags": ["agents"], "summary": "The agent's preview session",
                    "parameters": [agent_param()],
                    "responses": {"200": ok("the session", "Session"),
                        "404": error("no such agent (code agent_not_found)")}}
            },
            "/api/agents/{id}/campaigns": {
                "get": {"tags": ["agents"], "summary": "The campaigns of the agent's queues (any status)",
                    "parameters": [agent_param()],
                    "responses": {"200": {"description": "the campaigns, by id",
                            "content": {"application/json": {"schema": {"type": "array",
                                "items": {"$ref": "#/components/schemas/AgentCampaign"}}}}},
                        "404": error("no such agent (code agent_not_found)")}}
            },
            "/api/agents/{id}/campaigns/{campaign}/records/next": {
                "post": {"tags": ["agents"], "summary": "Get the next record to preview (pull)",
                    "parameters": agent_params(false),
                    "responses": {"200": ok("the session, previewing the record", "Session"),
                        "403": error("the agent does not serve the campaign's queue"),
                        "404": error("no such agent (agent_not_found) or campaign, or no record to call now (no_record)"),
                        "409": error("campaign not running, agent busy or outcome required"),
                        "503": error("the store failed")}}
            },
            "/api/agents/{id}/campaigns/{campaign}/records/{record}/accept":
                {"post": agent_action("Accept: dial the record's first callable number", None)},
            "/api/agents/{id}/campaigns/{campaign}/records/{record}/call":
                {"post": agent_action("Call one of the record's numbers or a new one", Some("CallRequest"))},
            "/api/agents/{id}/campaigns/{campaign}/records/{record}/decline":
                {"post": agent_action("Decline: call later or do not call", Some("Decline"))},
            "/api/agents/{id}/campaigns/{campaign}/records/{record}/outcome":
                {"post": agent_action("Record the call's outcome (required before the next record)", Some("Outcome"))},
            "/api/openapi.json": {
                "get": {"tags": ["meta"], "summary": "This document",
                    "responses": {"200": {"description": "OpenAPI 3.0 document",
                        "content": {"application/json": {"schema": {"type": "object"}}}}}}
            }
        },
        "components": {"schemas": schemas()}
    })
}

fn schemas() -> Value {
    let code_label = json!({"type": "object", "required": ["code"], "additionalProperties": false,
        "properties": {"code": code(), "label": {"type": "string"}}});
    let spec_properties = json!({
        "name": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "\\S"},
        "description": {"type": "string", "maxLength": 4000},
        "queue": {"type": "string", "pattern": "\\S", "description": "the agents' ACD queue (DN)"},
        "preview": schema("PreviewMode"),
        "case_fields": {"type": "array", "items": schema("FieldSpec")},
        "record_fields": {"type": "array", "items": schema("FieldSpec")},
        "call_results": {"type": "array", "minItems": 1, "items": schema("CallResult")},
        "dispositions": {"type": "array", "items": schema("Disposition")},
        "window": schema("CallingWindow"),
        "time_zone": {"type": "string", "minLength": 1, "example": "Europe/London",
            "description": "an IANA time zone"},
        "default_country_code": {"nullable": true, "allOf": [country_code()]},
        "max_attempts": {"type": "integer", "minimum": 1, "maximum": 100},
        "call_later_minutes": {"type": "integer", "minimum": 1, "maximum": crate::campaign::MAX_DELAY_MINUTES},
        "dnc_scope": {"type": "string", "enum": ["global", "campaign"]}
    });
    let mut campaign_properties = spec_properties.clone();
    campaign_properties["id"] = json!({"type": "integer"});
    campaign_properties["status"] = json!({"type": "string",
        "enum": ["stopped", "loaded", "running", "paused", "completed"]});
    campaign_properties["created_at"] = json!({"type": "string", "format": "date-time"});
    campaign_properties["updated_at"] = json!({"type": "string", "format": "date-time"});
    // PATCH: every field may be left out or null (kept as it is).
    let mut patch_properties = spec_properties.clone();
    if let Some(map) = patch_properties.as_object_mut() {
        for property in map.values_mut() {
            *property = if property.get("$ref").is_some() {
                json!({"nullable": true, "allOf": [property.take()]})
            } else {
                let mut p = property.take();
                p["nullable"] = json!(true);
                p
            };
        }
    }
    let counts = json!({"type": "object", "additionalProperties": {"type": "integer"}});
    json!({
        "Error": {"type": "object", "required": ["error"], "properties": {"error": {
            "type": "object", "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "message": {"type": "string"},
                "field": {"type": "string", "description": "422 invalid: the body field at fault, as a path (callback.at)"}}}}},
        "CampaignSpec": {"type": "object", "required": ["name", "queue"],
            "additionalProperties": false, "properties": spec_properties},
        "CampaignPatch": {"type": "object", "additionalProperties": false, "properties": patch_properties},
        "Campaign": {"type": "object", "properties": campaign_properties},
        "PreviewMode": {"oneOf": [
            {"type": "object", "required": ["mode"], "properties": {
                "mode": {"type": "string", "enum": ["manual", "dial_on_accept"]}}},
            {"type": "object", "required": ["mode", "seconds"], "properties": {
                "mode": {"type": "string", "enum": ["countdown"]},
                "seconds": {"type": "integer", "minimum": 1, "maximum": crate::campaign::MAX_COUNTDOWN_SECS}}}]},
        "FieldSpec": {"type": "object", "required": ["key"], "additionalProperties": false,
            "properties": {"key": {"type": "string", "pattern": "\\S",
                "description": "not blank, once per list"}, "label": {"type": "string"}}},
        "CallResult": {"type": "object", "required": ["code", "action"],
            "description": "switch_restarted is the result the switch gives an attempt it finds open at start-up \
                (it was stopped during the call); a campaign may list it to choose what it does to the record \
                (default: called again at once while attempts remain); agents are not offered it otherwise.",
            "properties": {
            "code": code(), "label": {"type": "string"},
            "action": {"type": "string", "enum": ["done", "retry", "callback", "failed"]},
            "after_minutes": {"type": "integer", "minimum": 1, "maximum": crate::campaign::MAX_DELAY_MINUTES,
                "description": "retry only"}},
            "oneOf": [
                {"required": ["after_minutes"], "properties": {"action": {"enum": ["retry"]}}},
                {"properties": {"action": {"enum": ["done", "callback", "failed"]}}}]},
        "Disposition": code_label,
        "CallingWindow": {"type": "object", "required": ["start", "end"], "additionalProperties": false, "properties": {
            "start": time_of_day("09:00"), "end": time_of_day("21:00"),
            "days": {"type": "array", "items": {"type": "string",
                "enum": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]}}}},
        "ImportProgress": {"type": "object", "properties": {
            "import": {"type": "integer"}, "campaign": {"type": "integer"}, "rows": {"type": "integer"},
            "bytes": {"type": "integer"}, "inserted": {"type": "integer"}, "updated": {"type": "integer"},
            "rejected": {"type": "integer"}, "done": {"type": "boolean"}}},
        "ImportReport": {"allOf": [schema("ImportProgress"), {"type": "object", "properties": {
            "errors": {"type": "array", "items": {"type": "object", "properties": {
                "line": {"type": "integer"}, "reason": {"type": "string"}}}},
            "errors_truncated": {"type": "boolean"}}}]},
        "Stats": {"type": "object", "properties": {
            "campaign": {"type": "integer"}, "total_records": {"type": "integer"},
            "records": counts.clone(), "attempts": {"type": "integer"}, "connected": {"type": "integer"},
            "results": counts.clone(),
            "agents": {"type": "object", "additionalProperties": {"type": "object", "properties": {
                "attempts": {"type": "integer"}, "connected": {"type": "integer"},
                "talk_seconds": {"type": "integer"}, "results": counts}}}}},
        "Phone": {"type": "object", "properties": {"number": {"type": "string"},
            "type": {"type": "string", "enum": ["home", "mobile", "work", "other"]}}},
        "RecordWithAttempts": {"type": "object", "properties": {
            "record": {"type": "object", "properties": {
                "id": {"type": "integer"}, "campaign": {"type": "integer"}, "external_id": {"type": "string"},
                "name": {"type": "string"}, "time_zone": {"type": "string", "nullable": true},
                "phones": {"type": "array", "items": schema("Phone")},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                "status": {"type": "string", "enum": ["ready", "leased", "dialling", "done", "callback", "do_not_call", "failed"]},
                "attempts": {"type": "integer"}, "last_result": {"type": "string", "nullable": true}}},
            "attempts": {"type": "array", "items": schema("Attempt")}}},
        "Attempt": {"type": "object", "properties": {
            "id": {"type": "integer"}, "agent": {"type": "string"}, "number": {"type": "string"},
            "phone_type": {"type": "string"}, "started_at": {"type": "string", "format": "date-time"},
            "connected_at": {"type": "string", "format": "date-time", "nullable": true},
            "ended_at": {"type": "string", "format": "date-time", "nullable": true},
            "sip_status": {"type": "integer", "nullable": true},
            "call_result": {"type": "string", "nullable": true, "description": "the agent's call result; null \
                while the call or its wrap-up is on; switch_restarted when the switch restarted before the \
                outcome (replaced by the agent's result if they give it after the restart)"},
            "dispositions": {"type": "array", "items": {"type": "string"}}, "notes": {"type": "string"},
            "dnc": {"type": "boolean"},
            "recovered_at": {"type": "string", "format": "date-time",
                "description": "present when start-up recovery closed the attempt"}}},
        "AgentCampaign": {"type": "object", "properties": {
            "id": {"type": "integer"}, "name": {"type": "string"},
            "description": {"type": "string"}, "queue": {"type": "string"},
            "status": {"type": "string"}, "preview": {"type": "object"}}},
        "Session": {"type": "object", "properties": {
            "agent": {"type": "string"},
            "state": {"type": "string", "enum": ["idle", "leasing", "previewing", "starting", "dialling", "connected", "wrapup", "closing"]},
            "preview": {"type": "object", "nullable": true, "description": "campaign, record, name, case_info, record_info, \
                phones (index, number, type, blocked), preview_mode, dial_at, expires_at, attempts, last_result, call_results, dispositions"},
            "attempt": {"type": "integer", "nullable": true}, "number": {"type": "string", "nullable": true},
            "sip_status": {"type": "integer", "nullable": true}, "suggested_result": {"type": "string", "nullable": true}}},
        "CallRequest": {
            "description": "{} for the first callable number, {phone} for one of the record's, {number, type} for a new one",
            "oneOf": [
                {"type": "object", "additionalProperties": false, "properties": {}},
                {"type": "object", "additionalProperties": false, "required": ["phone"],
                    "properties": {"phone": {"type": "integer", "minimum": 0, "maximum": u32::MAX}}},
                {"type": "object", "additionalProperties": false, "required": ["number", "type"],
                    "properties": {"number": {"type": "string", "minLength": 1},
                        "type": {"type": "string", "enum": ["home", "mobile", "work", "other"]}}}]},
        "Decline": {"oneOf": [
            {"type": "object", "required": ["decline"], "additionalProperties": false, "properties": {
                "decline": {"type": "string", "enum": ["call_later"]},
                "retry_at": {"type": "string", "format": "date-time",
                    "description": "default: the campaign's call_later_minutes from now"}}},
            {"type": "object", "required": ["decline"], "additionalProperties": false, "properties": {
                "decline": {"type": "string", "enum": ["do_not_call"]}}}]},
        "Outcome": {"type": "object", "required": ["call_result"], "additionalProperties": false, "properties": {
            "call_result": code(), "dnc": {"type": "boolean"},
            "dispositions": {"type": "array", "items": code()}, "notes": {"type": "string"},
            "callback": {"type": "object", "required": ["at"], "additionalProperties": false, "properties": {
                "at": {"type": "string", "format": "date-time"}, "same_agent": {"type": "boolean"}}}}},
        "DncAdd": {"type": "object", "required": ["number"], "additionalProperties": false, "properties": {
            "number": {"type": "string", "minLength": 1}, "campaign": id_schema(), "country_code": country_code()}},
        "DncAdded": {"type": "object", "properties": {"number": {"type": "string"},
            "campaign": {"type": "integer", "nullable": true}, "added": {"type": "boolean"}}},
        "DncCheck": {"type": "object", "properties": {"number": {"type": "string"}, "dnc": {"type": "boolean"},
            "entries": {"type": "array", "items": {"type": "object", "properties": {
                "number": {"type": "string"}, "campaign": {"type": "integer", "nullable": true},
                "added_at": {"type": "string", "format": "date-time"}, "source": {"type": "string"}}}}}}
    })
}
