//! The web pages the switch serves itself: the agent desktop (`/desktop/`, where `/`
//! leads) and the customer chat (`/chat/`). Static HTML, CSS and JS from `web/` at the
//! repository root, compiled into the binary, so running them needs no build step and no
//! other web server. They use only the REST and WebSocket API, so they are outside the
//! API's access guard (the API still checks every call they make).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;

const HTML: &str = "text/html; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";
const JS: &str = "text/javascript; charset=utf-8";

/// The pages load only their own scripts and styles and talk only to this origin.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    media-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    r
}

macro_rules! page {
    ($ty:expr, $path:literal) => {
        get(|| async { asset($ty, include_str!(concat!("../../web/", $path))) })
    };
}

/// The pages' routes (a router without state, merged beside the API).
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/desktop/") }))
        .route("/desktop", get(|| async { Redirect::to("/desktop/") }))
        .route("/chat", get(|| async { Redirect::to("/chat/") }))
        .route("/desktop/", page!(HTML, "desktop/index.html"))
        .route("/desktop/desktop.js", page!(JS, "desktop/desktop.js"))
        .route("/desktop/desktop.css", page!(CSS, "desktop/desktop.css"))
        .route("/desktop/chat.js", page!(JS, "desktop/chat.js"))
        // voice calls, the preview dialer, My Messages
        .route("/desktop/voice.js", page!(JS, "desktop/voice.js"))
        .route("/desktop/voice.css", page!(CSS, "desktop/voice.css"))
        // the browser phone (ES modules)
        .route("/desktop/phone.js", page!(JS, "desktop/phone.js"))
        .route("/desktop/softphone.js", page!(JS, "desktop/softphone.js"))
        .route("/desktop/sip_ua.js", page!(JS, "desktop/sip_ua.js"))
        .route(
            "/desktop/sip_message.js",
            page!(JS, "desktop/sip_message.js"),
        )
        .route("/desktop/sip_digest.js", page!(JS, "desktop/sip_digest.js"))
        .route("/desktop/preview.js", page!(JS, "desktop/preview.js"))
        .route("/desktop/preview.css", page!(CSS, "desktop/preview.css"))
        .route("/desktop/messages.js", page!(JS, "desktop/messages.js"))
        .route("/desktop/messages.css", page!(CSS, "desktop/messages.css"))
        .route("/desktop/directory.js", page!(JS, "desktop/directory.js"))
        .route("/desktop/im.js", page!(JS, "desktop/im.js"))
        .route(
            "/desktop/chat_collab.js",
            page!(JS, "desktop/chat_collab.js"),
        )
        .route("/desktop/templates.js", page!(JS, "desktop/templates.js"))
        .route("/desktop/supervisor.js", page!(JS, "desktop/supervisor.js"))
        .route(
            "/desktop/supervisor.css",
            page!(CSS, "desktop/supervisor.css"),
        )
        .route("/desktop/chat_files.js", page!(JS, "desktop/chat_files.js"))
        // e-mail
        .route("/desktop/email.js", page!(JS, "desktop/email.js"))
        .route(
            "/desktop/email_editor.js",
            page!(JS, "desktop/email_editor.js"),
        )
        .route("/desktop/email.css", page!(CSS, "desktop/email.css"))
        .route("/chat/", page!(HTML, "chat/index.html"))
        .route("/chat/chat.js", page!(JS, "chat/chat.js"))
        .route("/chat/chat.css", page!(CSS, "chat/chat.css"))
        .route("/assets/common.css", page!(CSS, "assets/common.css"))
        .route("/assets/transcript.js", page!(JS, "assets/transcript.js"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    async fn get_page(path: &str) -> Response {
        let app: Router = router();
        match app
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
        {
            Ok(r) => r,
            Err(e) => match e {},
        }
    }

    #[tokio::test]
    async fn pages_are_served_with_their_types_and_root_leads_to_the_desktop() {
        let r = get_page("/").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()[header::LOCATION], "/desktop/");
        for (path, ty) in [
            ("/desktop/", HTML),
            ("/desktop/desktop.js", JS),
            ("/desktop/templates.js", JS),
            ("/desktop/supervisor.js", JS),
            ("/desktop/supervisor.css", CSS),
            ("/desktop/chat_files.js", JS),
            ("/chat/", HTML),
            ("/chat/chat.css", CSS),
            ("/assets/common.css", CSS),
            ("/assets/transcript.js", JS),
        ] {
            let r = get_page(path).await;
            assert_eq!(r.status(), StatusCode::OK, "{path}");
            assert_eq!(r.headers()[header::CONTENT_TYPE], ty, "{path}");
            assert!(r.headers().contains_key(header::CONTENT_SECURITY_POLICY));
        }
    }

    #[tokio::test]
    async fn voice_preview_and_messages_files_are_served() {
        for (path, ty) in [
            ("/desktop/voice.js", JS),
            ("/desktop/voice.css", CSS),
            ("/desktop/phone.js", JS),
            ("/desktop/softphone.js", JS),
            ("/desktop/sip_ua.js", JS),
            ("/desktop/sip_message.js", JS),
            ("/desktop/sip_digest.js", JS),
            ("/desktop/preview.js", JS),
            ("/desktop/preview.css", CSS),
            ("/desktop/messages.js", JS),
            ("/desktop/messages.css", CSS),
        ] {
            let r = get_page(path).await;
            assert_eq!(r.status(), StatusCode::OK, "{path}");
            assert_eq!(r.headers()[header::CONTENT_TYPE], ty, "{path}");
        }
        // Voicemail plays in an <audio> from this origin.
        let r = get_page("/desktop/").await;
        let csp = r.headers()[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap_or("");
        assert!(csp.contains("media-src 'self'"), "{csp}");
    }
}
