//! Every route of the switch's API with its access [`Rule`], in one table: a route cannot
//! be added without deciding who may call it. The dialer's routes get theirs from
//! [`policy::dialer_rule`](super::policy::dialer_rule).

use super::policy::{Rule, ADMIN, AGENTS_AND_SUPERVISORS, SUPERVISORS};
use super::{
    accounts, acd_config, agents, calls, chat, chat_files, chat_ws, edge, email, events, history,
    openapi, recordings, templates, voicemail, AppState,
};
use crate::engine::{ConsultStep, MemberStep, RecordStep};
use axum::http::Method;
use axum::routing::{delete, get, post, put, MethodRouter};

pub(crate) struct Route {
    pub method: Method,
    pub path: &'static str,
    pub rule: Rule,
    pub handler: MethodRouter<AppState>,
}

fn route(method: Method, path: &'static str, rule: Rule, handler: MethodRouter<AppState>) -> Route {
    Route {
        method,
        path,
        rule,
        handler,
    }
}

/// The switch's own routes.
pub(crate) fn routes() -> Vec<Route> {
    use Method as M;
    use Rule::{Agent, ChatParty, LoggedIn, Metrics, Open, Queue};
    vec![
        route(M::GET, "/api/health", Open, get(super::health)),
        route(M::GET, "/metrics", Metrics, get(super::metrics)),
        route(M::POST, "/api/login", Open, post(accounts::login)),
        route(M::POST, "/api/logout", LoggedIn, post(accounts::logout)),
        route(M::GET, "/api/me", LoggedIn, get(accounts::me)),
        route(
            M::POST,
            "/api/me/password",
            LoggedIn,
            post(accounts::change_password),
        ),
        route(M::GET, "/api/accounts", ADMIN, get(accounts::list_accounts)),
        route(
            M::POST,
            "/api/accounts",
            ADMIN,
            post(accounts::create_account),
        ),
        route(
            M::GET,
            "/api/accounts/{id}",
            ADMIN,
            get(accounts::get_account),
        ),
        route(
            M::PUT,
            "/api/accounts/{id}",
            ADMIN,
            put(accounts::put_account),
        ),
        route(
            M::DELETE,
            "/api/accounts/{id}",
            ADMIN,
            delete(accounts::delete_account),
        ),
        route(
            M::POST,
            "/api/accounts/{id}/unlock",
            ADMIN,
            post(accounts::unlock_account),
        ),
        route(M::GET, "/api/teams", ADMIN, get(accounts::list_teams)),
        route(M::PUT, "/api/teams/{name}", ADMIN, put(accounts::put_team)),
        route(
            M::DELETE,
            "/api/teams/{name}",
            ADMIN,
            delete(accounts::delete_team),
        ),
        route(M::GET, "/api/tokens", ADMIN, get(accounts::list_tokens)),
        route(M::POST, "/api/tokens", ADMIN, post(accounts::create_token)),
        route(
            M::DELETE,
            "/api/tokens/{id}",
            ADMIN,
            delete(accounts::revoke_token),
        ),
        route(M::GET, "/api/audit", ADMIN, get(accounts::audit)),
        route(M::GET, "/api/edge/bans", ADMIN, get(edge::list)),
        route(M::POST, "/api/edge/bans", ADMIN, post(edge::ban)),
        route(
            M::DELETE,
            "/api/edge/bans/{address}",
            ADMIN,
            delete(edge::unban),
        ),
        route(
            M::GET,
            "/api/calls",
            AGENTS_AND_SUPERVISORS,
            get(calls::list),
        ),
        route(
            M::POST,
            "/api/calls",
            AGENTS_AND_SUPERVISORS,
            post(calls::click_to_call),
        ),
        route(
            M::POST,
            "/api/calls/{id}/transfer",
            AGENTS_AND_SUPERVISORS,
            post(calls::transfer),
        ),
        // The desktop's Decline of a voice offer (voice.js).
        route(
            M::POST,
            "/api/calls/{id}/decline",
            AGENTS_AND_SUPERVISORS,
            post(calls::decline),
        ),
        // The desktop's Hang up (voice.js).
        route(
            M::POST,
            "/api/calls/{id}/hangup",
            AGENTS_AND_SUPERVISORS,
            post(calls::hangup),
        ),
        route(
            M::POST,
            "/api/calls/{id}/consult",
            AGENTS_AND_SUPERVISORS,
            post(calls::consult),
        ),
        route(
            M::POST,
            "/api/calls/{id}/alternate",
            AGENTS_AND_SUPERVISORS,
            post(|s, p, c| calls::consult_step(s, p, c, ConsultStep::Alternate)),
        ),
        route(
            M::POST,
            "/api/calls/{id}/end-consult",
            AGENTS_AND_SUPERVISORS,
            post(|s, p, c| calls::consult_step(s, p, c, ConsultStep::End)),
        ),
        route(
            M::POST,
            "/api/calls/{id}/complete-transfer",
            AGENTS_AND_SUPERVISORS,
            post(|s, p, c| calls::consult_step(s, p, c, ConsultStep::CompleteTransfer)),
        ),
        route(
            M::POST,
            "/api/calls/{id}/complete-conference",
            AGENTS_AND_SUPERVISORS,
            post(|s, p, c| calls::consult_step(s, p, c, ConsultStep::CompleteConference)),
        ),
        route(
            M::POST,
            "/api/calls/{id}/recording/start",
            AGENTS_AND_SUPERVISORS,
            post(|s, p, c| calls::recording(s, p, c, RecordStep::Start)),
        ),
        route(
            M::POST,
            "/api/calls/{id}/recording/stop",
            AGENTS_AND_SUPERVISORS,
            post(|s, p, c| calls::recording(s, p, c, RecordStep::Stop)),
        ),
        route(
            M::POST,
            "/api/calls/{id}/recording/pause",
            AGENTS_AND_SUPERVISORS,
            post(|s, p, c| calls::recording(s, p, c, RecordStep::Pause)),
        ),
        route(
            M::POST,
            "/api/calls/{id}/recording/resume",
            AGENTS_AND_SUPERVISORS,
            post(|s, p, c| calls::recording(s, p, c, RecordStep::Resume)),
        ),
        route(
            M::GET,
            "/api/recordings",
            SUPERVISORS,
            get(recordings::list),
        ),
        route(
            M::GET,
            "/api/voicemail/{user}",
            Rule::LoggedIn,
            get(voicemail::list),
        ),
        route(
            M::GET,
            "/api/voicemail/{user}/greeting",
            Rule::LoggedIn,
            get(voicemail::greeting),
        ),
        route(
            M::PUT,
            "/api/voicemail/{user}/greeting",
            Rule::LoggedIn,
            put(voicemail::put_greeting),
        ),
        route(
            M::DELETE,
            "/api/voicemail/{user}/greeting",
            Rule::LoggedIn,
            delete(voicemail::delete_greeting),
        ),
        route(
            M::GET,
            "/api/voicemail/{user}/{id}/audio",
            Rule::LoggedIn,
            get(voicemail::audio),
        ),
        route(
            M::POST,
            "/api/voicemail/{user}/{id}/read",
            Rule::LoggedIn,
            post(voicemail::read),
        ),
        route(
            M::DELETE,
            "/api/voicemail/{user}/{id}",
            Rule::LoggedIn,
            delete(voicemail::delete),
        ),
        route(
            M::GET,
            "/api/recordings/{id}/audio",
            SUPERVISORS,
            get(recordings::audio),
        ),
        route(
            M::POST,
            "/api/calls/{id}/supervise",
            SUPERVISORS,
            post(calls::supervise),
        ),
        route(
            M::POST,
            "/api/calls/{id}/end-supervise",
            SUPERVISORS,
            post(calls::end_supervise),
        ),
        route(
            M::POST,
            "/api/calls/{id}/conference",
            AGENTS_AND_SUPERVISORS,
            post(calls::add_party),
        ),
        route(
            M::POST,
            "/api/calls/{id}/legs/{leg}/mute",
            AGENTS_AND_SUPERVISORS,
            post(|s, p, c| calls::member(s, p, c, MemberStep::Mute)),
        ),
        route(
            M::POST,
            "/api/calls/{id}/legs/{leg}/unmute",
            AGENTS_AND_SUPERVISORS,
            post(|s, p, c| calls::member(s, p, c, MemberStep::Unmute)),
        ),
        route(
            M::POST,
            "/api/calls/{id}/legs/{leg}/remove",
            AGENTS_AND_SUPERVISORS,
            post(|s, p, c| calls::member(s, p, c, MemberStep::Remove)),
        ),
        route(
            M::POST,
            "/api/calls/{id}/legs/{leg}/hold",
            AGENTS_AND_SUPERVISORS,
            post(calls::hold),
        ),
        route(
            M::POST,
            "/api/calls/{id}/legs/{leg}/retrieve",
            AGENTS_AND_SUPERVISORS,
            post(calls::retrieve),
        ),
        route(
            M::GET,
            "/api/registrations",
            ADMIN,
            get(super::registrations),
        ),
        route(M::GET, "/api/cdrs", ADMIN, get(super::cdrs)),
        route(
            M::GET,
            "/api/agents",
            AGENTS_AND_SUPERVISORS,
            get(agents::list_agents),
        ),
        route(M::GET, "/api/agents/{id}", Agent, get(agents::get_agent)),
        route(
            M::PUT,
            "/api/agents/{id}",
            ADMIN,
            put(acd_config::put_agent),
        ),
        route(
            M::DELETE,
            "/api/agents/{id}",
            ADMIN,
            delete(acd_config::delete_agent),
        ),
        route(
            M::POST,
            "/api/agents/{id}/login",
            Agent,
            post(agents::login),
        ),
        route(
            M::POST,
            "/api/agents/{id}/logout",
            Agent,
            post(agents::logout),
        ),
        route(
            M::POST,
            "/api/agents/{id}/state",
            Agent,
            post(agents::set_state),
        ),
        route(
            M::POST,
            "/api/agents/{id}/wrap-up",
            Agent,
            post(agents::wrap_up),
        ),
        route(
            M::GET,
            "/api/agents/{id}/history",
            Agent,
            get(history::agent_history),
        ),
        route(
            M::GET,
            "/api/interactions",
            SUPERVISORS,
            get(history::interactions),
        ),
        route(
            M::GET,
            "/api/queues",
            AGENTS_AND_SUPERVISORS,
            get(agents::list_queues),
        ),
        route(M::GET, "/api/queues/{dn}", Queue, get(agents::get_queue)),
        route(
            M::PUT,
            "/api/queues/{dn}",
            ADMIN,
            put(acd_config::put_queue),
        ),
        route(
            M::DELETE,
            "/api/queues/{dn}",
            ADMIN,
            delete(acd_config::delete_queue),
        ),
        route(
            M::GET,
            "/api/queues/{dn}/stats",
            Queue,
            get(agents::queue_stats),
        ),
        route(
            M::GET,
            "/api/interactions/{id}/transcript",
            AGENTS_AND_SUPERVISORS,
            get(chat::transcript),
        ),
        route(M::GET, "/api/chat/ws", Open, get(chat_ws::customer)),
        route(M::GET, "/api/agents/{id}/chats", Agent, get(chat::of_agent)),
        route(
            M::POST,
            "/api/chats/{id}/accept",
            AGENTS_AND_SUPERVISORS,
            post(chat::accept),
        ),
        route(
            M::POST,
            "/api/chats/{id}/decline",
            AGENTS_AND_SUPERVISORS,
            post(chat::decline),
        ),
        route(
            M::POST,
            "/api/chats/{id}/messages",
            AGENTS_AND_SUPERVISORS,
            post(chat::send),
        ),
        route(
            M::POST,
            "/api/chats/{id}/end",
            AGENTS_AND_SUPERVISORS,
            post(chat::end),
        ),
        route(
            M::POST,
            "/api/chats/{id}/wrap-up",
            AGENTS_AND_SUPERVISORS,
            post(chat::wrap_up),
        ),
        // ---- IM and the team directory ----
        route(
            M::GET,
            "/api/directory",
            AGENTS_AND_SUPERVISORS,
            get(super::directory::directory),
        ),
        route(
            M::GET,
            "/api/im",
            AGENTS_AND_SUPERVISORS,
            get(super::im::mine),
        ),
        route(
            M::POST,
            "/api/im",
            AGENTS_AND_SUPERVISORS,
            post(super::im::invite),
        ),
        route(
            M::GET,
            "/api/im/{id}",
            AGENTS_AND_SUPERVISORS,
            get(super::im::stored),
        ),
        route(
            M::POST,
            "/api/im/{id}/accept",
            AGENTS_AND_SUPERVISORS,
            post(super::im::accept),
        ),
        route(
            M::POST,
            "/api/im/{id}/decline",
            AGENTS_AND_SUPERVISORS,
            post(super::im::decline),
        ),
        route(
            M::POST,
            "/api/im/{id}/messages",
            AGENTS_AND_SUPERVISORS,
            post(super::im::send),
        ),
        route(
            M::POST,
            "/api/im/{id}/end",
            AGENTS_AND_SUPERVISORS,
            post(super::im::end),
        ),
        route(
            M::POST,
            "/api/im/{id}/done",
            AGENTS_AND_SUPERVISORS,
            post(super::im::done),
        ),
        // Chat transfer and conference (wt-chatc).
        route(
            M::GET,
            "/api/chats/colleagues",
            AGENTS_AND_SUPERVISORS,
            get(chat::colleagues),
        ),
        route(
            M::POST,
            "/api/chats/{id}/transfer",
            AGENTS_AND_SUPERVISORS,
            post(chat::transfer),
        ),
        route(
            M::POST,
            "/api/chats/{id}/conference",
            AGENTS_AND_SUPERVISORS,
            post(chat::conference),
        ),
        route(
            M::POST,
            "/api/chats/{id}/leave",
            AGENTS_AND_SUPERVISORS,
            post(chat::leave),
        ),
        // A chat's files (the customer's token or an agent's or supervisor's login).
        route(
            M::POST,
            "/api/chats/{id}/attachments",
            ChatParty,
            post(chat_files::upload),
        ),
        route(
            M::GET,
            "/api/chats/{id}/attachments",
            ChatParty,
            get(chat_files::list),
        ),
        route(
            M::GET,
            "/api/chats/{id}/attachments/{file}",
            ChatParty,
            get(chat_files::download),
        ),
        // Predefined responses (chat templates).
        route(
            M::GET,
            "/api/chat/templates",
            AGENTS_AND_SUPERVISORS,
            get(templates::list),
        ),
        route(
            M::POST,
            "/api/chat/templates",
            ADMIN,
            post(templates::create),
        ),
        route(
            M::PUT,
            "/api/chat/templates/{id}",
            ADMIN,
            put(templates::put),
        ),
        route(
            M::DELETE,
            "/api/chat/templates/{id}",
            ADMIN,
            delete(templates::delete),
        ),
        route(
            M::GET,
            "/api/agents/{id}/emails",
            Agent,
            get(email::of_agent),
        ),
        route(
            M::GET,
            "/api/emails/{id}",
            AGENTS_AND_SUPERVISORS,
            get(email::get),
        ),
        route(
            M::GET,
            "/api/emails/{id}/files/{file}",
            AGENTS_AND_SUPERVISORS,
            get(email::file),
        ),
        route(
            M::POST,
            "/api/emails/{id}/accept",
            AGENTS_AND_SUPERVISORS,
            post(email::accept),
        ),
        route(
            M::POST,
            "/api/emails/{id}/decline",
            AGENTS_AND_SUPERVISORS,
            post(email::decline),
        ),
        route(
            M::POST,
            "/api/emails/{id}/reply",
            AGENTS_AND_SUPERVISORS,
            // Its files come base64 in the JSON: the handler reads a larger body than
            // the API's 1 MiB (email::reply_limit).
            post(email::reply),
        ),
        route(
            M::POST,
            "/api/emails/{id}/transfer",
            AGENTS_AND_SUPERVISORS,
            post(email::transfer),
        ),
        route(
            M::POST,
            "/api/emails/{id}/end",
            AGENTS_AND_SUPERVISORS,
            post(email::end),
        ),
        route(
            M::POST,
            "/api/emails/{id}/wrap-up",
            AGENTS_AND_SUPERVISORS,
            post(email::wrap_up),
        ),
        route(
            M::PUT,
            "/api/emails/{id}/draft",
            AGENTS_AND_SUPERVISORS,
            put(email::put_draft),
        ),
        route(
            M::DELETE,
            "/api/emails/{id}/draft",
            AGENTS_AND_SUPERVISORS,
            delete(email::delete_draft),
        ),
        route(
            M::GET,
            "/api/emails/{id}/messages/{message}/original",
            AGENTS_AND_SUPERVISORS,
            get(email::original),
        ),
        route(M::GET, "/api/events", LoggedIn, get(events::events)),
        route(M::GET, "/api/openapi.json", LoggedIn, get(openapi::serve)),
    ]
}
