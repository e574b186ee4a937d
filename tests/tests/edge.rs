//! The guarded SIP edge against the real binary: a brute-force run of 500 wrong passwords
//! from one address is banned after the threshold (`edge.auth_failures`) and dropped
//! unanswered from then on, while a legitimate user on another address registers and
//! calls (SIPp, digest); the ban is listed over REST and in the metrics, and expires. A
//! scanner's OPTIONS (friendly-scanner) is never answered and bans its address; an
//! administrator bans and unbans an address over REST.
//!
//! The attacker and the scanner send from 127.0.0.2-4 (the loopback /8), so the user on
//! 127.0.0.1 is another source.

use e2e::{free_port, require, Sipp, Switch, SwitchConfig};
use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

const THRESHOLD: usize = 10;

fn socket(ip: &str) -> UdpSocket {
    let s = UdpSocket::bind(format!("{ip}:0")).unwrap_or_else(|e| panic!("bind {ip}: {e}"));
    let _ = s.set_read_timeout(Some(Duration::from_millis(150)));
    s
}

/// The next response to `call_id` on `sock`, if one comes within the socket's timeout.
fn response(sock: &UdpSocket, call_id: &str) -> Option<sip::Response> {
    let mut buf = vec![0u8; 65536];
    let end = Instant::now() + Duration::from_millis(300);
    while Instant::now() < end {
        let Ok((n, _)) = sock.recv_from(&mut buf) else {
            return None;
        };
        if let Ok(sip::Message::Response(r)) = sip::parse_datagram(&buf[..n]) {
            if r.headers.call_id() == Some(call_id) {
                return Some(r);
            }
        }
    }
    None
}

fn register(sock: &UdpSocket, to: SocketAddr, call_id: &str, cseq: u32, auth: &str) -> String {
    let me = sock
        .local_addr()
        .map_or_else(|_| "0.0.0.0:0".into(), |a| a.to_string());
    format!(
        "REGISTER sip:{to} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {me};branch=z9hG4bK{call_id}{cseq};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:1001@{to}>;tag={call_id}\r\n\
         To: <sip:1001@{to}>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: {cseq} REGISTER\r\n\
         Contact: <sip:1001@{me}>\r\n\
         {auth}Expires: 60\r\n\
         Content-Length: 0\r\n\r\n"
    )
}

/// One guess: REGISTER, the 401's challenge answered with a wrong password. The codes
/// answered (empty once banned).
fn guess(sock: &UdpSocket, to: SocketAddr, n: u32) -> Vec<u16> {
    let call_id = format!("brute{n}");
    let _ = sock.send_to(register(sock, to, &call_id, 1, "").as_bytes(), to);
    let Some(challenge) = response(sock, &call_id) else {
        return Vec::new();
    };
    let mut codes = vec![challenge.code];
    let Some(c) = challenge.headers.get("WWW-Authenticate") else {
        return codes;
    };
    let uri = format!("sip:{to}");
    let Ok(answer) =
        sip::auth::answer_challenge(c, "REGISTER", &uri, "1001", "guess{n}", "c0ffee", 1)
    else {
        return codes;
    };
    let auth = format!("Authorization: {answer}\r\n");
    let _ = sock.send_to(register(sock, to, &call_id, 2, &auth).as_bytes(), to);
    if let Some(r) = response(sock, &call_id) {
        codes.push(r.code);
    }
    codes
}

fn options(sock: &UdpSocket, to: SocketAddr, call_id: &str, user_agent: &str) -> Option<u16> {
    let me = sock
        .local_addr()
        .map_or_else(|_| "0.0.0.0:0".into(), |a| a.to_string());
    let text = format!(
        "OPTIONS sip:100@{to} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {me};branch=z9hG4bK{call_id};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:100@{me}>;tag=1\r\n\
         To: <sip:100@{to}>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: 1 OPTIONS\r\n\
         User-Agent: {user_agent}\r\n\
         Content-Length: 0\r\n\r\n"
    );
    let _ = sock.send_to(text.as_bytes(), to);
    response(sock, call_id).map(|r| r.code)
}

fn bans(switch: &Switch) -> Vec<serde_json::Value> {
    switch.request_json("GET", "/api/edge/bans", None, 200)["bans"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[test]
fn brute_force_is_banned_while_a_user_keeps_calling_and_the_ban_expires() {
    if !require("sipp") {
        return;
    }
    let uas_port = free_port();
    let switch = SwitchConfig::new()
        .trusted(&[])
        .user("1001", "pass1001")
        .static_user("2000", &format!("sip:2000@127.0.0.1:{uas_port}"))
        .extra(&format!(
            "[edge]\nauth_failures = {THRESHOLD}\nauth_window_secs = 60\nban_secs = 3\n"
        ))
        .start();
    let to = switch.sip_addr();
    let attacker = socket("127.0.0.2");
    let mut answered = 0;
    let mut refused = 0;
    let started = Instant::now();
    for n in 0..500 {
        let codes = guess(&attacker, to, n);
        if !codes.is_empty() {
            answered += 1;
        }
        refused += codes.iter().filter(|c| **c == 403).count();
        if codes.is_empty() && n > THRESHOLD as u32 + 5 {
            // Banned: the rest are sent without waiting for answers that never come.
            for m in n + 1..500 {
                let id = format!("brute{m}");
                let _ = attacker.send_to(register(&attacker, to, &id, 1, "").as_bytes(), to);
                // Paced, so no socket buffer on the way overflows.
                std::thread::sleep(Duration::from_micros(500));
            }
            break;
        }
    }
    assert_eq!(refused, THRESHOLD, "wrong passwords refused before the ban");
    assert!(
        answered <= THRESHOLD + 1,
        "{answered} guesses answered: the ban came late"
    );
    let mut listed = Vec::new();
    switch.wait_for(
        "the rest of the guesses dropped",
        Duration::from_secs(3),
        || {
            listed = bans(&switch);
            listed
                .first()
                .is_some_and(|b| b["dropped"].as_u64().unwrap_or(0) > 400)
        },
    );
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["address"], "127.0.0.2");
    assert_eq!(listed[0]["reason"], "auth_failures");

    // The user on 127.0.0.1 registers and calls meanwhile.
    Sipp::scenario("register_digest")
        .remote(to)
        .caller("1001")
        .auth("1001", "pass1001")
        .run()
        .assert_success(&switch);
    let callee = Sipp::scenario("uas_answer").port(uas_port).spawn();
    Sipp::caller_to("uac_digest", &switch)
        .auth("1001", "pass1001")
        .arg("-auth_uri")
        .arg(&format!("2000@{to}"))
        .pause_ms(200)
        .run()
        .assert_success(&switch);
    callee.wait().assert_success(&switch);
    assert!(switch.metric("switch_edge_bans_total") >= 1.0);
    assert!(switch.metric("switch_edge_dropped_total{why=\"banned\"}") > 400.0);

    // The ban expires: the attacker is answered again (a challenge).
    let left = Duration::from_secs(3).saturating_sub(started.elapsed());
    std::thread::sleep(left + Duration::from_millis(500));
    let codes = guess(&attacker, to, 10_000);
    assert_eq!(
        codes.first(),
        Some(&401),
        "answered after the ban: {codes:?}"
    );
    switch.assert_idle();
}

#[test]
fn scanners_get_nothing_and_administrators_ban_and_unban() {
    let switch = SwitchConfig::new().trusted(&[]).start();
    let events = switch.events("/api/events");
    let to = switch.sip_addr();
    let scanner = socket("127.0.0.4");
    assert_eq!(options(&scanner, to, "scan1", "friendly-scanner"), None);
    assert_eq!(
        options(&scanner, to, "scan2", "Linphone/5"),
        None,
        "its address is banned now"
    );
    let listed = bans(&switch);
    assert!(
        listed
            .iter()
            .any(|b| b["address"] == "127.0.0.4" && b["reason"] == "scanner"),
        "{listed:?}"
    );
    assert_eq!(switch.metric("switch_edge_scanners_total"), 1.0);
    let banned = events.wait_for(Duration::from_secs(3), |e| e["type"] == "edge_banned");
    assert!(
        banned.is_some_and(|e| e["address"] == "127.0.0.4" && e["reason"] == "scanner"),
        "the ban is announced to administrators"
    );

    // An administrator's ban of 127.0.0.3, then lifted.
    let other = socket("127.0.0.3");
    assert_eq!(options(&other, to, "o1", "Linphone/5"), Some(200));
    let ban = switch.request_json(
        "POST",
        "/api/edge/bans",
        Some(r#"{"address":"127.0.0.3","secs":600}"#),
        201,
    );
    assert_eq!(ban["reason"], "administrator", "{ban}");
    assert_eq!(options(&other, to, "o2", "Linphone/5"), None);
    let r = switch.request("DELETE", "/api/edge/bans/127.0.0.3", None);
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(options(&other, to, "o3", "Linphone/5"), Some(200));
    let r = switch.request("DELETE", "/api/edge/bans/127.0.0.3", None);
    assert_eq!(r.status, 404);
    let bad = switch.request_json(
        "POST",
        "/api/edge/bans",
        Some(r#"{"address":"not an ip"}"#),
        422,
    );
    assert_eq!(bad["error"]["field"], "address", "{bad}");
}

fn invite(sock: &UdpSocket, to: SocketAddr, call_id: &str, cseq: u32, auth: &str) -> String {
    let me = sock
        .local_addr()
        .map_or_else(|_| "0.0.0.0:0".into(), |a| a.to_string());
    let sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n\
               m=audio 40000 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n";
    format!(
        "INVITE sip:2000@{to} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {me};branch=z9hG4bK{call_id}{cseq};rport\r\n\
         Max-Forwards: 70\r\n\
         From: <sip:1001@{to}>;tag={call_id}\r\n\
         To: <sip:2000@{to}>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: {cseq} INVITE\r\n\
         Contact: <sip:1001@{me}>\r\n\
         {auth}Content-Type: application/sdp\r\n\
         Content-Length: {}\r\n\r\n{sdp}",
        sdp.len()
    )
}

/// An authenticated INVITE from 1001 to 2000: the final (or, while it rings, the last)
/// answer's code.
fn authenticated_call(sock: &UdpSocket, to: SocketAddr, call_id: &str) -> Option<u16> {
    let _ = sock.send_to(invite(sock, to, call_id, 1, "").as_bytes(), to);
    let mut challenge = None;
    while let Some(r) = response(sock, call_id) {
        if r.code == 407 {
            challenge = r.headers.get("Proxy-Authenticate").map(String::from);
            break;
        }
    }
    let answer = sip::auth::answer_challenge(
        &challenge?,
        "INVITE",
        &format!("sip:2000@{to}"),
        "1001",
        "pass1001",
        "c0ffee",
        1,
    )
    .ok()?;
    let auth = format!("Proxy-Authorization: {answer}\r\n");
    let _ = sock.send_to(invite(sock, to, call_id, 2, &auth).as_bytes(), to);
    let mut last = None;
    while let Some(r) = response(sock, call_id) {
        last = Some(r.code);
        if r.code >= 200 {
            break;
        }
    }
    last
}

/// `edge.calls_per_user = 1`: while 1001's first call rings, a second gets 486 Too Many
/// Calls.
#[test]
fn a_user_past_their_calls_limit_is_refused() {
    let callee = socket("127.0.0.1");
    let callee_port = callee.local_addr().map_or(0, |a| a.port());
    let switch = SwitchConfig::new()
        .trusted(&[])
        .user("1001", "pass1001")
        .static_user("2000", &format!("sip:2000@127.0.0.1:{callee_port}"))
        .extra("[edge]\ncalls_per_user = 1\n")
        .start();
    let to = switch.sip_addr();
    let phone = socket("127.0.0.1");
    assert_eq!(authenticated_call(&phone, to, "first"), Some(100));
    assert_eq!(authenticated_call(&phone, to, "second"), Some(486));
    assert_eq!(switch.metric("switch_edge_calls_refused_total"), 1.0);
}
