//! A fake browser for the WebRTC tests: SIP over `ws://…/sip` (one message per WebSocket
//! message, RFC 7118) and media through a full-ICE str0m peer (`media::webrtc::Peer` with
//! ICE-lite off) on a loopback UDP socket. Its media thread sends a G.711 tone every 20 ms
//! once DTLS is up, and keeps every frame it receives, decoded,
//! with its arrival time, so a Goertzel filter can say what it heard.

use media::webrtc::{Codecs, TestBrowser};
use sip::{Message, Request, Response};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use tungstenite::client::IntoClientRequest;
use tungstenite::http::HeaderValue;

/// The SIP side: a WebSocket UA for one user.
pub struct Browser {
    ws: tungstenite::WebSocket<TcpStream>,
    local: SocketAddr,
    user: String,
    cseq: u32,
    /// Requests that arrived while a response was awaited.
    queued: Vec<Request>,
    /// The Call-ID of the call this browser placed last.
    pub call_id: String,
}

impl Browser {
    /// Connects to `/sip` of the switch's HTTP listener, with an optional session cookie.
    pub fn connect(addr: SocketAddr, user: &str, cookie: Option<&str>) -> Browser {
        let tcp = TcpStream::connect(addr).expect("connecting to /sip");
        let local = tcp.local_addr().expect("local address");
        let mut request = format!("ws://{addr}/sip")
            .into_client_request()
            .expect("a request");
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", HeaderValue::from_static("sip"));
        if let Some(c) = cookie {
            let v = HeaderValue::from_str(&format!("ccswitch_session={c}")).expect("cookie");
            request.headers_mut().insert("Cookie", v);
        }
        let (ws, _) = tungstenite::client(request, tcp).expect("WebSocket handshake");
        ws.get_ref()
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("timeout");
        Browser {
            ws,
            local,
            user: user.into(),
            cseq: 0,
            queued: Vec::new(),
            call_id: String::new(),
        }
    }

    pub fn send(&mut self, bytes: Vec<u8>) {
        let text = String::from_utf8(bytes).expect("SIP text");
        self.ws
            .send(tungstenite::Message::text(text))
            .expect("sending over the WebSocket");
    }

    fn recv(&mut self, timeout: Duration) -> Option<Message> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            match self.ws.read() {
                Ok(tungstenite::Message::Text(t)) => {
                    return Some(sip::parse_datagram(t.as_bytes()).expect("SIP from the switch"))
                }
                Ok(_) => continue,
                Err(tungstenite::Error::Io(e))
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    continue
                }
                Err(e) => panic!("WebSocket read failed: {e}"),
            }
        }
        None
    }

    /// The next final-or-provisional response (requests meanwhile are kept).
    pub fn response(&mut self, timeout: Duration) -> Response {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            match self.recv(deadline.saturating_duration_since(Instant::now())) {
                Some(Message::Response(r)) => return r,
                Some(Message::Request(r)) => self.queued.push(r),
                None => break,
            }
        }
        panic!("no response within {timeout:?}");
    }

    /// The next request of `method`, answering OPTIONS and others on the way.
    pub fn request(&mut self, method: &str, timeout: Duration) -> Request {
        if let Some(i) = self.queued.iter().position(|r| r.method.as_str() == method) {
            return self.queued.remove(i);
        }
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            match self.recv(deadline.saturating_duration_since(Instant::now())) {
                Some(Message::Request(r)) if r.method.as_str() == method => return r,
                Some(Message::Request(r)) => self.queued.push(r),
                Some(Message::Response(_)) => {}
                None => break,
            }
        }
        panic!("no {method} within {timeout:?}");
    }

    pub fn contact(&self) -> String {
        format!("<sip:{}@b7q2x9.invalid;transport=ws>", self.user)
    }

    fn via(&self, branch: &str) -> String {
        format!(
            "SIP/2.0/WS b7q2x9.invalid;branch=z9hG4bK-{branch}-{}",
            self.local.port()
        )
    }

    /// REGISTER, answering a 401 with `password` when given; the final response.
    pub fn register(&mut self, password: Option<&str>) -> Response {
        let mut auth: Option<String> = None;
        loop {
            self.cseq += 1;
            let user = self.user.clone();
            let mut text = format!(
                "REGISTER sip:127.0.0.1 SIP/2.0\r\nVia: {}\r\nMax-Forwards: 70\r\n\
                 From: <sip:{user}@127.0.0.1>;tag=br{user}\r\nTo: <sip:{user}@127.0.0.1>\r\n\
                 Call-ID: br-reg-{}\r\nCSeq: {} REGISTER\r\nContact: {};expires=300\r\n",
                self.via(&format!("reg{}", self.cseq)),
                self.local.port(),
                self.cseq,
                self.contact(),
            );
            if let Some(a) = &auth {
                text.push_str(&format!("Authorization: {a}\r\n"));
            }
            text.push_str("Content-Length: 0\r\n\r\n");
            self.send(text.into_bytes());
            let r = self.response(Duration::from_secs(5));
            match (r.code, password, &auth) {
                (401, Some(p), None) => {
                    let challenge = r.headers.get("WWW-Authenticate").expect("a challenge");
                    auth = Some(
                        sip::auth::answer_challenge(
                            challenge,
                            "REGISTER",
                            "sip:127.0.0.1",
                            &user,
                            p,
                            "c0ffee",
                            1,
                        )
                        .expect("answering the challenge"),
                    );
                }
                _ => return r,
            }
        }
    }

    /// Answers `invite` (the switch's WebRTC offer) with a non-trickle answer from a new
    /// full-ICE peer sending `freq_hz`; returns the media.
    pub fn answer(&mut self, invite: &Request, freq_hz: f64, codecs: Codecs) -> TestBrowser {
        let offer = String::from_utf8(invite.body.clone()).expect("SDP text");
        let (media, answer) =
            TestBrowser::answer(&offer, codecs, freq_hz).expect("the browser takes the offer");
        let ringing = invite.response(180, None, Some("brcallee"));
        self.send(ringing.to_bytes());
        let mut ok = invite.response(200, None, Some("brcallee"));
        ok.headers.push("Contact", self.contact());
        ok.headers.push("Content-Type", "application/sdp");
        ok.body = answer.into_bytes();
        self.send(ok.to_bytes());
        media
    }

    /// An in-dialog or initial request of a call this browser places.
    #[allow(clippy::too_many_arguments)]
    pub fn call_request(
        &mut self,
        method: &str,
        uri: &str,
        to: &str,
        cseq: u32,
        call_id: &str,
        body: Option<(&str, &str)>,
    ) {
        let (ctype, body) = match body {
            Some((t, b)) => (format!("Content-Type: {t}\r\n"), b),
            None => (String::new(), ""),
        };
        let text = format!(
            "{method} {uri} SIP/2.0\r\nVia: {}\r\nMax-Forwards: 70\r\n\
             From: <sip:{u}@127.0.0.1>;tag=brcaller\r\nTo: {to}\r\nCall-ID: {call_id}\r\n\
             CSeq: {cseq} {method}\r\nContact: {}\r\n{ctype}Content-Length: {}\r\n\r\n{body}",
            self.via(&format!("{method}{cseq}")),
            self.contact(),
            body.len(),
            u = self.user,
        );
        self.send(text.into_bytes());
    }

    /// Calls `user`: a full-ICE peer's offer (gathering complete, no trickle) in the
    /// INVITE, the switch's answer from its 200. Returns the media, the 200, and the
    /// dialog's (remote target, To).
    pub fn call(&mut self, user: &str, freq_hz: f64) -> (TestBrowser, Response, String, String) {
        let (pending, offer) = TestBrowser::offer(Codecs::G711First, freq_hz).expect("an offer");
        let call_id = format!("br-out-{}", self.local.port());
        self.call_id = call_id.clone();
        let uri = format!("sip:{user}@127.0.0.1");
        let to = format!("<{uri}>");
        self.call_request(
            "INVITE",
            &uri,
            &to,
            1,
            &call_id,
            Some(("application/sdp", &offer)),
        );
        let ok = loop {
            let r = self.response(Duration::from_secs(10));
            match r.code {
                100..=199 => continue,
                200 => break r,
                code => panic!("the browser's call got {code}: {r:?}"),
            }
        };
        let answer = String::from_utf8(ok.body.clone()).expect("SDP text");
        let media = pending.accept(&answer).expect("the switch's answer");
        let to = ok.headers.get("To").unwrap_or_default().to_string();
        let target = ok.headers.contacts().expect("a Contact")[0].uri.to_string();
        self.call_request("ACK", &target, &to, 1, &call_id, None);
        (media, ok, target, to)
    }
}
