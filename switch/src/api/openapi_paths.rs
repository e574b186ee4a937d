//! The switch's paths of the OpenAPI document ([`openapi`](super::openapi) adds them to
//! the dialer's, then the access rules' `security`, 401 and 403 to every operation). The
//! answers listed are the handlers' own; those of the extractors (400 `bad_path`,
//! `bad_query`, 405) are in the document's description.

use serde_json::{json, Value};

use super::openapi::{
    array_of, body, body_errors, dn_string, empty, error, id_string, ok, page_params, path_param,
    schema,
};

/// Every switch path, as an OpenAPI `paths` object.
pub(super) fn paths() -> Value {
    let mut paths = json!({});
    for group in [
        meta(),
        auth(),
        accounts(),
        teams_and_tokens(),
        edge(),
        calls(),
        voicemail(),
        agents(),
        queues(),
        super::openapi_chat::paths(),
        super::openapi_im::paths(),
        super::openapi_templates::paths(),
        super::openapi_email::paths(),
    ] {
        if let (Some(all), Value::Object(group)) = (paths.as_object_mut(), group) {
            all.extend(group);
        }
    }
    paths
}

fn account_param() -> Value {
    path_param("id", "the account's id", id_string())
}

fn agent_param() -> Value {
    path_param("id", "the ACD agent's id", id_string())
}

fn queue_param() -> Value {
    path_param("dn", "the queue's DN", dn_string())
}

fn meta() -> Value {
    json!({
        "/api/health": {"get": {"tags": ["meta"], "summary": "Liveness, version and a few figures",
            "responses": {"200": ok("the switch is up", schema("Health"))}}},
        "/metrics": {"get": {"tags": ["meta"], "summary": "Prometheus metrics",
            "description": "Open by default (scrapers need no login); with `auth.metrics_open = \
                false` in the configuration it needs a supervisor's or an administrator's login \
                like any other route, despite the `security: []` here.",
            "responses": {"200": {"description": "the Prometheus text format, version 0.0.4",
                "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
        "/api/openapi.json": {"get": {"tags": ["meta"], "summary": "This document: the whole API",
            "responses": {"200": ok("OpenAPI 3.0 document", json!({"type": "object"}))}}},
    })
}

fn auth() -> Value {
    json!({
        "/api/login": {"post": {"tags": ["auth"], "summary": "Log in: a session cookie and its CSRF token",
            "description": "Failed logins back off per account and per address (429 with \
                Retry-After); too many lock the account (403 account_locked) until an \
                administrator unlocks it.",
            "requestBody": body("LoginBody"),
            "responses": body_errors(json!({
                "200": {"description": "logged in",
                    "headers": {"Set-Cookie": {"schema": {"type": "string"},
                        "description": "ccswitch_session=...; Path=/; HttpOnly; SameSite=Strict; Max-Age=..."}},
                    "content": {"application/json": {"schema": schema("LoginAnswer")}}},
                "401": error("wrong user or password, a user over 64 bytes or a password over 256 \
                    characters (code invalid_credentials)"),
                "403": error("the account is locked (code account_locked)"),
                "429": {"description": "too many failed logins (code too_many_attempts)",
                    "headers": {"Retry-After": {"schema": {"type": "integer"},
                        "description": "seconds to wait"}},
                    "content": {"application/json": {"schema": schema("Error")}}},
            }))}},
        "/api/logout": {"post": {"tags": ["auth"], "summary": "End the session and clear its cookie",
            "description": "With an API token there is no session to end; the answer is the same.",
            "responses": {"204": {"description": "logged out",
                "headers": {"Set-Cookie": {"schema": {"type": "string"},
                    "description": "ccswitch_session=; Max-Age=0"}}}}}},
        "/api/me": {"get": {"tags": ["auth"], "summary": "The caller's account",
            "responses": {"200": ok("the account, and the session's CSRF token (null with a token)",
                schema("Me")),
                "404": error("the account was deleted (code not_found)")}}},
        "/api/me/password": {"post": {"tags": ["auth"], "summary": "Change the caller's own password",
            "requestBody": body("PasswordBody"),
            "responses": body_errors(json!({
                "204": empty("changed"),
                "403": error("the current password is wrong (code wrong_password)"),
                "404": error("the account was deleted (code not_found)"),
                "422": {"description": "new_password is not 8-256 characters"},
            }))}},
    })
}

fn accounts() -> Value {
    json!({
        "/api/accounts": {
            "get": {"tags": ["accounts"], "summary": "List accounts",
                "responses": {"200": ok("every account", array_of("Account"))}},
            "post": {"tags": ["accounts"], "summary": "Create an account",
                "requestBody": body("NewAccountBody"),
                "responses": body_errors(json!({
                    "201": ok("the new account", schema("Account")),
                    "409": error("an account with that id exists (code exists)"),
                    "422": {"description": "a bad id, name or password, no roles, an unknown \
                        role or team, an agent that is not the ACD's or is another account's, an \
                        extension that is no configured user"},
                }))},
        },
        "/api/accounts/{id}": {
            "parameters": [account_param()],
            "get": {"tags": ["accounts"], "summary": "Get an account",
                "responses": {"200": ok("the account", schema("Account")),
                    "404": error("no such account (code not_found)")}},
            "put": {"tags": ["accounts"], "summary": "Create or replace an account",
                "description": "Replaces every field; a password left out keeps the old one (a \
                    new account needs one). The path names the account; the body may repeat it \
                    as `id` (not shown in the schema), which must then be the path's.",
                "requestBody": body("AccountBody"),
                "responses": body_errors(json!({
                    "200": ok("the account, replaced", schema("Account")),
                    "201": ok("the account, created", schema("Account")),
                    "409": error("it would leave no unlocked administrator (code last_administrator)"),
                    "422": {"description": "as for POST, an id in the body that is not the \
                        path's, or a new account without a password"},
                }))},
            "delete": {"tags": ["accounts"], "summary": "Delete an account (its sessions end)",
                "responses": {"204": empty("deleted"),
                    "404": error("no such account (code not_found)"),
                    "409": error("it is the last unlocked administrator (code last_administrator)")}},
        },
        "/api/accounts/{id}/unlock": {"post": {"tags": ["accounts"],
            "summary": "Unlock an account locked by failed logins",
            "parameters": [account_param()],
            "responses": {"200": ok("the account", schema("Account")),
                "404": error("no such account (code not_found)")}}},
        "/api/audit": {"get": {"tags": ["accounts"], "summary": "The audit trail, newest first",
            "parameters": page_params(),
            "responses": {"200": ok("a page of the trail", schema("AuditPage")),
                "400": error("limit not 1..=10000, offset negative, or an unknown query parameter \
                    (code bad_query)")}}},
    })
}

fn teams_and_tokens() -> Value {
    let team = path_param("name", "the team's name", id_string());
    json!({
        "/api/teams": {"get": {"tags": ["accounts"], "summary": "List teams",
            "responses": {"200": ok("every team", array_of("Team"))}}},
        "/api/teams/{name}": {
            "parameters": [team],
            "put": {"tags": ["accounts"], "summary": "Create or replace a team",
                "requestBody": body("TeamBody"),
                "responses": body_errors(json!({
                    "200": ok("the team", schema("Team")),
                    "422": {"description": "a bad team name (field name) or DN (field queues)"},
                }))},
            "delete": {"tags": ["accounts"], "summary": "Delete a team no account is in",
                "responses": {"204": empty("deleted"),
                    "404": error("no such team (code not_found)"),
                    "409": error("an account is still in the team (code team_in_use)")}},
        },
        "/api/tokens": {
            "get": {"tags": ["accounts"], "summary": "List API tokens (without their secrets)",
                "responses": {"200": ok("every token, oldest first", array_of("Token"))}},
            "post": {"tags": ["accounts"], "summary": "Create an API token",
                "requestBody": body("TokenBody"),
                "responses": body_errors(json!({
                    "201": ok("the token with its secret, shown this once", schema("NewToken")),
                    "422": {"description": "an empty or bad name, an unknown account, \
                        expires_in_days not 1..=3650"},
                }))},
        },
        "/api/tokens/{id}": {"delete": {"tags": ["accounts"], "summary": "Revoke an API token",
            "parameters": [path_param("id", "the token's id (as GET /api/tokens lists it)",
                json!({"type": "string"}))],
            "responses": {"204": empty("revoked"),
                "404": error("no such token (code not_found)")}}},
    })
}

/// The SIP edge's bans.
fn edge() -> Value {
    let ban = json!({"type": "object",
        "required": ["address", "reason", "since_ms", "until_ms", "dropped"],
        "properties": {
            "address": {"type": "string", "description": "the banned IP address"},
            "reason": {"type": "string",
                "enum": ["auth_failures", "scanner", "administrator"]},
            "since_ms": {"type": "integer"},
            "until_ms": {"type": "integer"},
            "dropped": {"type": "integer", "minimum": 0,
                "description": "datagrams and messages dropped since the ban began"}}});
    json!({
        "/api/edge/bans": {
            "get": {"tags": ["accounts"],
                "summary": "The SIP edge's live bans (failed digests, scanners, administrators)",
                "responses": {"200": ok("the bans", json!({"type": "object",
                    "required": ["bans"],
                    "properties": {"bans": {"type": "array", "items": ban.clone()}}}))}},
            "post": {"tags": ["accounts"],
                "summary": "Ban a source address: its SIP is dropped unanswered",
                "requestBody": {"required": true, "content": {"application/json": {"schema":
                    {"type": "object", "required": ["address"], "additionalProperties": false,
                     "properties": {
                        "address": {"type": "string", "description": "an IPv4 or IPv6 address"},
                        "secs": {"type": "integer", "minimum": 1, "maximum": 2_592_000,
                            "description": "how long (default edge.ban_secs)"}}}}}},
                "responses": body_errors(json!({
                    "201": ok("the ban", ban),
                    "422": {"description": "not an IP address (field address), secs out of \
                        range (field secs)"},
                }))}},
        "/api/edge/bans/{address}": {"delete": {"tags": ["accounts"],
            "summary": "Lift a ban",
            "parameters": [path_param("address", "the banned address", json!({"type": "string"}))],
            "responses": {"204": empty("lifted"),
                "404": error("the address is not banned (code not_found)")}}},
    })
}

/// `POST /api/calls/{id}/legs/{leg}/hold|retrieve`.
fn leg_control(summary: &str, conflict: &str) -> Value {
    json!({"post": {"tags": ["calls"], "summary": summary,
    "parameters": [
        path_param("id", "the call's id, as GET /api/calls lists it", json!({"type": "string"})),
        path_param("leg", "the leg's place in the call's legs as GET /api/calls lists them: \
            in a two-party call 0 is the first party (the caller, or the agent of a call the \
            switch placed) and 1 the other", json!({"type": "integer", "minimum": 0, "maximum": 63})),
    ],
    "responses": {
        "200": ok("the call as it is now", schema("Call")),
        "403": error("the call has no party of the caller's nor of their teams (code forbidden)"),
        "404": error("no such live call or leg (code not_found)"),
        "409": error(&format!("the call is not connected (code not_connected), or \
            (code {conflict})")),
    }}})
}

/// `POST /api/calls/{id}/alternate|end-consult|complete-transfer|complete-conference`.
fn consult_step(summary: &str) -> Value {
    json!({"post": {"tags": ["calls"], "summary": summary,
    "parameters": [path_param("id", "the call's id, as GET /api/calls lists it",
        json!({"type": "string"}))],
    "responses": {
        "200": ok("the call as it is now", schema("Call")),
        "403": error("the call has no party of the caller's nor of their teams (code forbidden)"),
        "404": error("no such live call (code not_found)"),
        "409": error("the call is not in a consultation (code not_consulting), the consulted \
            party has not answered (code not_answered), or the step is not possible for this \
            call (code unsupported)"),
    }}})
}

/// A mailbox's messages and greeting.
fn voicemail() -> Value {
    json!({
        "/api/voicemail/{user}": {"get": {"tags": ["calls"],
            "summary": "A mailbox's voicemail messages, oldest first, and its counts",
            "description": "A user's own mailbox (the account with that extension), those of \
                the agents of a supervisor's teams, and every one for an administrator.",
            "parameters": [path_param("user", "the mailbox's user", json!({"type": "string"}))],
            "responses": {"200": ok("the mailbox", schema("Mailbox")),
                "403": error("not the caller's mailbox nor of their teams (code forbidden)"),
                "404": error("no such user (code not_found)")}}},
        "/api/voicemail/{user}/greeting": greeting_path(),
        "/api/voicemail/{user}/{id}/audio": {"get": {"tags": ["calls"],
            "summary": "A voicemail message's WAV (16-bit 8 kHz mono)",
            "parameters": [
                path_param("user", "the mailbox's user", json!({"type": "string"})),
                path_param("id", "the message's id", json!({"type": "string"}))],
            "responses": {
                "200": {"description": "the WAV", "content": {"audio/wav": {"schema":
                    {"type": "string", "format": "binary"}}}},
                "403": error("not the caller's mailbox nor of their teams (code forbidden)"),
                "404": error("no such user or message (code not_found)")}}},
        "/api/voicemail/{user}/{id}/read": {"post": {"tags": ["calls"],
            "summary": "Mark a voicemail message heard (saved); the user's phones get an MWI NOTIFY",
            "parameters": [
                path_param("user", "the mailbox's user", json!({"type": "string"})),
                path_param("id", "the message's id", json!({"type": "string"}))],
            "responses": {
                "200": ok("the message", schema("VoiceMessage")),
                "403": error("not the caller's mailbox nor of their teams (code forbidden)"),
                "404": error("no such user or message (code not_found)")}}},
        "/api/voicemail/{user}/{id}": {"delete": {"tags": ["calls"],
            "summary": "Delete a voicemail message; the user's phones get an MWI NOTIFY",
            "parameters": [
                path_param("user", "the mailbox's user", json!({"type": "string"})),
                path_param("id", "the message's id", json!({"type": "string"}))],
            "responses": {
                "204": empty("deleted"),
                "403": error("not the caller's mailbox nor of their teams (code forbidden)"),
                "404": error("no such user or message (code not_found)")}}}
    })
}

/// `POST /api/calls/{id}/hangup` (the desktop's Hang up), apart from [`calls`] whose
/// `json!` is at the macro's recursion limit.
fn hangup() -> Value {
    json!({"post": {"tags": ["calls"],
    "summary": "Hang up: the switch ends the call",
    "description": "BYE to the call's answered legs, CANCEL to ringing ones (the agent's \
        desktop's Hang up). {\"type\":\"call_changed\",\"change\":\"hung_up\"} goes out \
        on /api/events first, then the call's usual end events (interaction ended, \
        an originated call's call ended).",
    "parameters": [path_param("id", "the call's id, as GET /api/calls lists it",
        json!({"type": "string"}))],
    "responses": {
        "200": ok("the call as it was when it ended", schema("Call")),
        "403": error("the call has no party of the caller's nor of their teams (code forbidden)"),
        "404": error("no such live call (code not_found)"),
    }}})
}

/// `POST /api/calls/{id}/decline` (the desktop's Decline of a voice offer).
fn decline() -> Value {
    json!({"post": {"tags": ["calls"],
    "summary": "Decline the call a queue offers the caller (an agent)",
    "description": "The agent's ringing phone gets CANCEL and the ACD hears the offer \
        rejected, as when the phone refuses it: the call goes back to its queue for the \
        next agent and the agent is treated as the queue's RONA rules say.",
    "parameters": [path_param("id", "the call's id, as GET /api/calls lists it",
        json!({"type": "string"}))],
    "responses": {
        "200": ok("the call, its offer withdrawn", schema("Call")),
        "403": error("not an agent's account (code not_an_agent), or the call has no party \
            of the caller's (code forbidden)"),
        "404": error("no such live call (code not_found)"),
        "409": error("the call is not ringing the caller's phone (code not_offered)"),
    }}})
}

fn calls() -> Value {
    let mut paths = json!({
        "/api/calls": {
            "get": {"tags": ["calls"], "summary": "Live calls",
                "description": "An administrator sees every call; others the calls of the phones \
                    of the agents in their scope (and their own extension's), and those to their \
                    teams' queues.",
                "responses": {"200": ok("the calls", array_of("Call"))}},
            "post": {"tags": ["calls"], "summary": "Click-to-call: ring the extension, then dial the number",
                "description": "The extension's phone is called first (with auto-answer hints), \
                    then the number through the dialplan; progress is published on /api/events \
                    as {\"type\":\"call\",...}. Only the extension's own account (or a supervisor \
                    of its agent's team, or an administrator) may place the call.",
                "requestBody": body("ClickToCall"),
                "responses": body_errors(json!({
                    "202": ok("the call is being placed", schema("CallAttempt")),
                    "403": error("the extension is not the caller's nor of an agent in their teams \
                        (code forbidden), or the dialling rules refuse the number for the caller's \
                        roles (code number_not_allowed)"),
                    "422": {"description": "a bad or unknown extension, a bad number, an unknown agent"},
                }))},
        },
        "/api/calls/{id}/transfer": {"post": {"tags": ["calls"],
            "summary": "Blind-transfer the call's first party (the customer) to a user or a queue",
            "description": "The customer hears music while the target rings; when it answers \
                the agent's leg is released; when it fails the customer goes back to the agent. \
                The outcome follows on /api/events as {\"type\":\"call_changed\", \
                \"change\":\"transferred\"|\"transfer_failed\", \"detail\": status line}.",
            "parameters": [path_param("id", "the call's id, as GET /api/calls lists it",
                json!({"type": "string"}))],
            "requestBody": body("TransferBody"),
            "responses": body_errors(json!({
                "202": ok("the target is being rung", schema("Call")),
                "403": error("the call has no party of the caller's nor of their teams (code forbidden)"),
                "404": error("no such live call (code not_found)"),
                "409": error("the call is not connected (code not_connected)"),
                "422": {"description": "a bad target, or no reachable phone of it (field target)"},
            }))}},
        "/api/calls/{id}/consult": {"post": {"tags": ["calls"],
            "summary": "The agent consults a user, a queue or a number; the customer hears music",
            "description": "A new leg rings the target from an endpoint of its own while the \
                agent hears ringback (a queue: the agent waits in it like a caller until one \
                of its agents answers); its answer (change consult_answered) or failure \
                (consult_failed, the status in detail; the agent has the customer back) follows \
                on /api/events. Then alternate, end-consult, complete-transfer or \
                complete-conference.",
            "parameters": [path_param("id", "the call's id, as GET /api/calls lists it",
                json!({"type": "string"}))],
            "requestBody": body("TransferBody"),
            "responses": body_errors(json!({
                "202": ok("the target is being rung", schema("Call")),
                "403": error("the call has no party of the caller's nor of their teams (code forbidden)"),
                "404": error("no such live call (code not_found)"),
                "409": error("the call is not a connected two-party call (code not_connected), or \
                    the target cannot be consulted (code unsupported)"),
                "422": {"description": "a bad target, or no reachable phone of it (field target)"},
            }))}},
        "/api/calls/{id}/alternate": consult_step("Alternate: the agent talks to the customer \
            again and the consulted party hears music, or back"),
        "/api/calls/{id}/end-consult": consult_step("End the consultation: the consulted leg \
            is released and the agent talks to the customer again"),
        "/api/calls/{id}/complete-transfer": consult_step("Attended transfer: the customer \
            and the consulted party talk, the agent's leg is released (wrap-up starts)"),
        "/api/calls/{id}/complete-conference": consult_step("Conference: the customer, the \
            agent and the consulted party each hear the mix of the other two"),
        "/api/calls/{id}/supervise": {"post": {"tags": ["calls"],
            "summary": "A supervisor listens to, whispers to or barges in on an agent's call",
            "description": "The supervisor's phone is rung from an endpoint of its own; once it \
                answers (change supervise_joined on /api/events; supervise_failed otherwise) \
                the mixer joins it as the mode says. Asked again, the mode changes at once. \
                The supervisor hanging up (or end-supervise) puts the call back as it was.",
            "parameters": [path_param("id", "the call's id, as GET /api/calls lists it",
                json!({"type": "string"}))],
            "requestBody": body("SuperviseBody"),
            "responses": body_errors(json!({
                "202": ok("the supervisor's phone is being rung, or the mode changed", schema("Call")),
                "403": error("not a supervisor, or the call has no party of their teams (code forbidden)"),
                "404": error("no such live call (code not_found)"),
                "409": error("the call is not a connected two-party call (code not_connected), \
                    or the supervisor's phone is still ringing (code busy)"),
                "422": {"description": "no extension to ring, or no reachable phone of it"},
            }))}},
        "/api/calls/{id}/end-supervise": {"post": {"tags": ["calls"],
            "summary": "Release the supervisor's leg",
            "parameters": [path_param("id", "the call's id, as GET /api/calls lists it",
                json!({"type": "string"}))],
            "responses": {
                "200": ok("the call as it is now", schema("Call")),
                "403": error("not a supervisor, or the call has no party of their teams (code forbidden)"),
                "404": error("no such live call (code not_found)"),
                "409": error("the call has no supervisor (code not_supervised)"),
            }}},
        "/api/calls/{id}/conference": {"post": {"tags": ["calls"],
            "summary": "Add a party to a conference by DN",
            "parameters": [path_param("id", "the call's id, as GET /api/calls lists it",
                json!({"type": "string"}))],
            "requestBody": body("TransferBody"),
            "responses": body_errors(json!({
                "202": ok("the party is being rung", schema("Call")),
                "403": error("the call has no party of the caller's nor of their teams (code forbidden)"),
                "404": error("no such live call (code not_found)"),
                "409": error("the call is not a conference (code not_conference), or a party is \
                    already being added (code busy)"),
                "422": {"description": "a bad target, or no reachable phone of it (field target)"},
            }))}},
        "/api/calls/{id}/legs/{leg}/mute": leg_control("Mute a conference member: the others \
            no longer hear it", "not_conference"),
        "/api/calls/{id}/legs/{leg}/unmute": leg_control("Unmute a conference member",
            "not_conference"),
        "/api/calls/{id}/legs/{leg}/remove": leg_control("Remove a conference member (it gets \
            a BYE); with fewer than two members left the call ends", "not_conference"),
        "/api/calls/{id}/legs/{leg}/hold": leg_control("Hold a leg: it hears music, the \
            other party silence (no re-INVITE is sent)", "already_held"),
        "/api/calls/{id}/legs/{leg}/retrieve": leg_control("Retrieve a leg the switch holds: \
            both parties hear each other again", "not_held"),
        "/api/registrations": {"get": {"tags": ["calls"], "summary": "SIP registrations (bindings)",
            "responses": {"200": ok("every binding", array_of("Registration")),
                "500": error("the registrar failed (code internal)")}}},
        "/api/cdrs": {"get": {"tags": ["calls"], "summary": "Call detail records, newest first",
            "parameters": page_params(),
            "responses": {"200": ok("a page of CDRs", schema("CdrPage")),
                "400": error("limit not 1..=10000, offset negative, or an unknown query parameter \
                    (code bad_query)")}}},
        "/api/calls/{id}/recording/start": recording_step("Start recording the call: a stereo \
            WAV, the customer on the left, what the customer hears of the others on the right", "recording"),
        "/api/calls/{id}/recording/stop": recording_step("Stop recording; the recording is \
            indexed and its WAV completed", "not_recording"),
        "/api/calls/{id}/recording/pause": recording_step("Pause the recording: silence is \
            written until resumed (card numbers stay out of it)", "not_recording"),
        "/api/calls/{id}/recording/resume": recording_step("Resume a paused recording",
            "not_recording"),
        "/api/recordings": {"get": {"tags": ["calls"],
            "summary": "Call recordings, newest first (a supervisor sees their teams')",
            "parameters": page_params(),
            "responses": {"200": ok("a page of recordings", schema("RecordingPage")),
                "400": error("limit not 1..=10000, offset negative, or an unknown query parameter \
                    (code bad_query)")}}},
        "/api/recordings/{id}/audio": {"get": {"tags": ["calls"],
            "summary": "A recording's WAV (16-bit 8 kHz stereo: customer left, others right)",
            "parameters": [path_param("id", "the recording's id", json!({"type": "string"}))],
            "responses": {
                "200": {"description": "the WAV", "content": {"audio/wav": {"schema":
                    {"type": "string", "format": "binary"}}}},
                "403": error("the recording is of a call outside the caller's teams (code forbidden)"),
                "404": error("no such recording (code not_found)")}}},
    });
    paths["/api/calls/{id}/hangup"] = hangup();
    paths["/api/calls/{id}/decline"] = decline();
    paths
}

/// `POST /api/calls/{id}/recording/start|stop|pause|resume`.
fn recording_step(summary: &str, conflict: &str) -> Value {
    json!({"post": {"tags": ["calls"], "summary": summary,
    "parameters": [path_param("id", "the call's id, as GET /api/calls lists it",
        json!({"type": "string"}))],
    "responses": {
        "200": ok("the call as it is now", schema("Call")),
        "403": error("the call has no party of the caller's nor of their teams (code forbidden)"),
        "404": error("no such live call (code not_found)"),
        "409": error(&format!("the call is not connected (code not_connected), or (code {conflict})")),
    }}})
}

fn agents() -> Value {
    let refused = "the distributor has stopped (code unavailable)";
    json!({
        "/api/agents": {"get": {"tags": ["acd"], "summary": "Agents (those in the caller's scope)",
            "responses": {"200": ok("the agents' live views", array_of("AgentView"))}}},
        "/api/agents/{id}": {
            "parameters": [agent_param()],
            "get": {"tags": ["acd"], "summary": "An agent: live view, statistics, configuration",
                "responses": {"200": ok("the agent", schema("Agent")),
                    "404": error("no such agent (code not_found)")}},
            "put": {"tags": ["acd"], "summary": "Create or replace an agent's configuration",
                "description": "The body is an `[[agents]]` entry of the configuration file; what \
                    it leaves out is the default. The path gives the id; the body may repeat it \
                    as `id` (not shown in the schema), which must then be the path's. The change is applied, saved and announced on \
                    /api/events (agent_changed).",
                "requestBody": body("AgentBody"),
                "responses": body_errors(json!({
                    "200": ok("changed", schema("Agent")),
                    "201": ok("created", schema("Agent")),
                    "409": error("the engine refuses the change (code conflict)"),
                    "422": {"description": "an id in the body that is not the path's, a bad id, \
                        name, extension or skill, an extension that is no configured user, a queue that \
                        does not exist"},
                    "503": error(refused),
                }))},
            "delete": {"tags": ["acd"], "summary": "Delete an agent (logged out first)",
                "responses": {"204": empty("deleted"),
                    "404": error("no such agent (code not_found)"),
                    "409": error("the agent is logged in (code agent_logged_in)"),
                    "503": error(refused)}},
        },
        "/api/agents/{id}/login": {"post": {"tags": ["acd"], "summary": "Log the agent in",
            "description": "Without a body (or with an empty one) the agent starts Not Ready, \
                reason login.",
            "parameters": [agent_param()],
            "requestBody": {"required": false,
                "content": {"application/json": {"schema": schema("StateBody")}}},
            "responses": body_errors(json!({
                "200": ok("the agent", schema("Agent")),
                "404": error("no such agent (code not_found)"),
                "409": error("the agent's state does not allow it (code conflict)"),
                "422": {"description": "a state other than ready or not_ready, a bad reason"},
                "503": error(refused),
            }))}},
        "/api/agents/{id}/logout": {"post": {"tags": ["acd"], "summary": "Log the agent out",
            "parameters": [agent_param()],
            "responses": {"200": ok("the agent", schema("Agent")),
                "404": error("no such agent (code not_found)"),
                "409": error("the agent's state does not allow it (code conflict)"),
                "503": error(refused)}}},
        "/api/agents/{id}/state": {"post": {"tags": ["acd"], "summary": "Set the agent's state",
            "parameters": [agent_param()],
            "requestBody": body("StateBody"),
            "responses": body_errors(json!({
                "200": ok("the agent", schema("Agent")),
                "404": error("no such agent (code not_found)"),
                "409": error("the agent's state does not allow it (code conflict)"),
                "422": {"description": "a state other than ready or not_ready, a bad reason"},
                "503": error(refused),
            }))}},
        "/api/agents/{id}/wrap-up": {"post": {"tags": ["acd"],
            "summary": "The agent's wrap-up is done (a call's; a chat's has its own)",
            "description": "Ends After-Call-Work (to Ready, or the state asked for meanwhile) \
                and settles a required wrap-up (the queue's wrap_up_required), so Ready is \
                allowed again.",
            "parameters": [agent_param()],
            "responses": {
                "200": ok("the agent", schema("Agent")),
                "404": error("no such agent (code not_found)"),
                "409": error("no wrap-up is pending (code conflict)"),
                "503": error(refused),
            }}},
        "/api/agents/{id}/history": {"get": {"tags": ["acd"],
            "summary": "The agent's state history, newest first",
            "description": "From the store, written in the background: the last moment's changes \
                may not be listed yet. History outlives a deleted agent.",
            "parameters": [agent_param(), page_params()[0].clone(), page_params()[1].clone()],
            "responses": {"200": ok("a page of the history", schema("AgentHistory")),
                "400": error("limit not 1..=10000, offset negative, or an unknown query parameter \
                    (code bad_query)"),
                "404": error("no such agent and no history for it (code not_found)")}}},
        "/api/interactions": {"get": {"tags": ["acd"],
            "summary": "Interaction events of the queues, newest first",
            "description": "A supervisor's only those of their teams' queues or agents.",
            "parameters": page_params(),
            "responses": {"200": ok("a page of events", schema("InteractionPage")),
                "400": error("limit not 1..=10000, offset negative, or an unknown query parameter \
                    (code bad_query)")}}},
        "/api/events": {"get": {"tags": ["acd"], "summary": "The event stream (WebSocket)",
            "description": "Upgrade to a WebSocket. The first message is a snapshot \
                ({\"type\":\"snapshot\",\"agents\",\"queues\"}), then one JSON text frame per \
                event (agent_state, offer, offer_cancelled, queued, abandoned, overflow, \
                queue_full, interaction, call, queue_changed, queue_removed, agent_changed, \
                agent_removed, import_progress, dialer_recovered), filtered by the caller's scope. \
                A client too slow for the stream gets a fresh snapshot with \"missed\": N. At \
                shutdown the stream closes with 1001.",
            "parameters": [{"name": "agent", "in": "query", "required": false,
                "description": "a desktop's agent: only that agent in the snapshot, no events \
                    naming another agent",
                "schema": id_string()}],
            "responses": {
                "101": empty("switching to the WebSocket protocol"),
                "400": error("not a WebSocket upgrade request (code websocket_required), or a bad \
                    query (code bad_query)"),
                "403": error("the agent is not the caller's nor in their teams (code forbidden)"),
                "404": error("no such agent (code not_found)"),
                "426": error("the connection cannot be upgraded (code websocket_required)"),
            }}},
    })
}

fn queues() -> Value {
    json!({
        "/api/queues": {"get": {"tags": ["acd"], "summary": "Queues (those in the caller's scope)",
            "responses": {"200": ok("configuration and statistics of each", array_of("Queue"))}}},
        "/api/queues/{dn}": {
            "parameters": [queue_param()],
            "get": {"tags": ["acd"], "summary": "A queue: configuration and statistics",
                "responses": {"200": ok("the queue", schema("Queue")),
                    "404": error("no such queue (code not_found)")}},
            "put": {"tags": ["acd"], "summary": "Create or replace a queue's configuration",
                "description": "The body is a `[[queues]]` entry of the configuration file; what \
                    it leaves out is the default. The path gives the DN; the body may repeat it \
                    as `dn` (not shown in the schema), which must then be the path's. The change is applied, saved and announced on \
                    /api/events (queue_changed).",
                "requestBody": body("QueueBody"),
                "responses": body_errors(json!({
                    "200": ok("changed", schema("Queue")),
                    "201": ok("created", schema("Queue")),
                    "409": error("the engine refuses the change (code conflict)"),
                    "422": {"description": "a dn in the body that is not the path's, a bad DN, \
                        name or skill, \
                        offer_timeout_secs 0, an overflow target that is bad or the queue itself"},
                    "503": error("the distributor has stopped (code unavailable)"),
                }))},
            "delete": {"tags": ["acd"], "summary": "Delete an empty queue",
                "responses": {"204": empty("deleted"),
                    "404": error("no such queue (code not_found)"),
                    "409": error("interactions are waiting in it (code queue_not_empty)"),
                    "503": error("the distributor has stopped (code unavailable)")}},
        },
        "/api/queues/{dn}/stats": {"get": {"tags": ["acd"], "summary": "A queue's statistics",
            "parameters": [queue_param()],
            "responses": {"200": ok("the statistics", schema("QueueStats")),
                "404": error("no such queue (code not_found)")}}},
    })
}

/// `GET|PUT|DELETE /api/voicemail/{user}/greeting`.
fn greeting_path() -> Value {
    json!({
            "get": {"tags": ["calls"],
                "summary": "The mailbox's own greeting, as a WAV (16-bit 8 kHz mono)",
                "parameters": [path_param("user", "the mailbox's user", json!({"type": "string"}))],
                "responses": {
                    "200": {"description": "the WAV", "content": {"audio/wav": {"schema":
                        {"type": "string", "format": "binary"}}}},
                    "403": error("not the caller's mailbox nor of their teams (code forbidden)"),
                    "404": error("no such user, or the mailbox has the standard greeting \
                        (code not_found)")}},
            "put": {"tags": ["calls"],
                "summary": "Make a WAV the mailbox's greeting, played to callers before the beep",
                "description": "8 kHz mono WAV, 16-bit PCM, µ-law or A-law, 1 to 60 seconds, sent \
                    as application/octet-stream or audio/wav (audio/x-wav, audio/wave). \
                    The user may also record one from their phone: *97, the PIN, 0, 1.",
                "parameters": [path_param("user", "the mailbox's user", json!({"type": "string"}))],
                "requestBody": {"required": true, "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}},
                "responses": {
                    "200": ok("the greeting is in use", json!({"type": "object",
                        "required": ["mailbox", "duration_ms"],
                        "properties": {"mailbox": {"type": "string"},
                            "duration_ms": {"type": "integer", "minimum": 0}}})),
                    "403": error("not the caller's mailbox nor of their teams (code forbidden)"),
                    "404": error("no such user (code not_found)"),
                    "413": error("the body is too large"),
                    "415": error("not sent as audio/wav (code unsupported_media_type)"),
                    "422": error("not a playable WAV, or too short or too long (code \
                        bad_greeting, the reason in message)")}},
            "delete": {"tags": ["calls"],
                "summary": "Back to the standard greeting",
                "parameters": [path_param("user", "the mailbox's user", json!({"type": "string"}))],
                "responses": {
                    "204": empty("the standard greeting again"),
                    "403": error("not the caller's mailbox nor of their teams (code forbidden)"),
                    "404": error("no such user, or the mailbox has the standard greeting \
                        (code not_found)")}}})
}
