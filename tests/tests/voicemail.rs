//! Voicemail against the real switch: a caller (SIPp, with a tone peer for its RTP) reaches
//! an unregistered user and leaves a message after the greeting; the message is listed
//! and downloadable over REST and holds the caller's tone for as long as it was sent; the
//! user then dials `*97`, sends the PIN by SIP INFO and hears the message played back;
//! REST marks it heard and deletes it.

use e2e::rtp::{tone_share, TonePeer};
use e2e::{require, Sipp, Switch, SwitchConfig};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const CALLER_HZ: f64 = 700.0;

/// The only live call's relay port facing its caller, once known.
fn caller_relay(switch: &Switch) -> SocketAddr {
    let mut port = 0;
    switch.wait_for("the call's relay port", Duration::from_secs(5), || {
        let call = switch.calls().first().cloned().unwrap_or_default();
        port = call["legs"][0]["rtp_port"].as_u64().unwrap_or(0) as u16;
        port != 0
    });
    SocketAddr::from(([127, 0, 0, 1], port))
}

#[test]
fn a_message_left_is_listed_downloaded_and_played_back_by_star_97() {
    if !require("sipp") {
        return;
    }
    let switch = SwitchConfig::new()
        .trusted(&["127.0.0.1/32"])
        .user("2000", "secret2000")
        .extra("[voicemail]\nenabled = true\nsilence_secs = 10\n")
        .start();
    // Deposit: the greeting (about 8 s), then 3 s of the caller's tone, then BYE.
    let caller = TonePeer::new(CALLER_HZ);
    let deposit = Sipp::caller_to("uac_media", &switch)
        .key("rtp_port", &caller.port().to_string())
        .pause_ms(11_000)
        .spawn();
    caller.send_to(caller_relay(&switch));
    deposit.wait().assert_success(&switch);
    caller.stop_sending();

    let mut mailbox = Value::Null;
    switch.wait_for("the message in the mailbox", Duration::from_secs(5), || {
        mailbox = switch.request_json("GET", "/api/voicemail/2000", None, 200);
        mailbox["new"] == 1
    });
    let message = mailbox["messages"][0].clone();
    let id = message["id"].as_str().unwrap_or_default().to_string();
    let ms = message["duration_ms"].as_i64().unwrap_or(0);
    assert!((2500..4000).contains(&ms), "a 3 s message: {message}");
    // The WAV: mono, the caller's tone throughout.
    let file = switch.data_dir().join(format!("voicemail/2000/{id}.wav"));
    switch.wait_for("the WAV", Duration::from_secs(5), || file.exists());
    let bytes = std::fs::read(&file).unwrap_or_default();
    assert_eq!(u16::from_le_bytes([bytes[22], bytes[23]]), 1, "mono");
    let samples: Vec<i16> = bytes[44..]
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    let seconds = samples.len() as f64 / 8000.0;
    assert!((2.5..4.0).contains(&seconds), "{seconds} s recorded");
    let middle = &samples[4000..samples.len().saturating_sub(4000).max(4000)];
    assert!(
        tone_share(middle, CALLER_HZ) > 0.8,
        "the caller's tone: {}",
        tone_share(middle, CALLER_HZ)
    );
    let audio = switch.request("GET", &format!("/api/voicemail/2000/{id}/audio"), None);
    assert_eq!(audio.status, 200);
    let other = switch.request("GET", "/api/voicemail/2000/nope/audio", None);
    assert_eq!(other.status, 404, "{}", other.body);

    // Retrieval: *97, PIN 2000 (the user's number by default) and #, by SIP INFO.
    let listener = TonePeer::new(300.0);
    let started = Instant::now();
    let menu = Sipp::caller_to("uac_voicemail_menu", &switch)
        .caller("2000")
        .service("*97")
        .key("rtp_port", &listener.port().to_string())
        .key("pin1", "2")
        .key("pin2", "0")
        .key("pin3", "0")
        .key("pin4", "0")
        .pause_ms(9_000)
        .spawn();
    menu.wait().assert_success(&switch);
    // The message comes after the count: somewhere a second of it is the caller's tone.
    let best = (0..10)
        .map(|s| {
            let from = started + Duration::from_secs(s);
            listener
                .heard(from, from + Duration::from_secs(1), CALLER_HZ)
                .share
        })
        .fold(0.0, f64::max);
    assert!(best > 0.8, "the message is played back: best share {best}");

    // REST: heard, then deleted.
    let read = switch.request_json("POST", &format!("/api/voicemail/2000/{id}/read"), None, 200);
    assert_eq!(read["status"], "saved");
    let mailbox = switch.request_json("GET", "/api/voicemail/2000", None, 200);
    assert_eq!(
        (mailbox["new"].as_u64(), mailbox["saved"].as_u64()),
        (Some(0), Some(1))
    );
    let r = switch.request("DELETE", &format!("/api/voicemail/2000/{id}"), None);
    assert_eq!(r.status, 204, "{}", r.body);
    assert!(!file.exists(), "the WAV is removed");
    let mailbox = switch.request_json("GET", "/api/voicemail/2000", None, 200);
    assert_eq!(mailbox["messages"].as_array().map(Vec::len), Some(0));
    let r = switch.request("GET", "/api/voicemail/9999", None);
    assert_eq!(r.status, 404);
    switch.assert_idle();
}

const GREETING_HZ: f64 = 600.0;

/// The user's own greeting, uploaded over REST: a caller hears it (not the standard one),
/// then the beep, and leaves a message; a bad file is refused with the reason; DELETE
/// brings the standard greeting back. It survives a restart.
#[test]
fn an_uploaded_greeting_is_what_callers_hear() {
    if !require("sipp") {
        return;
    }
    let mut switch = SwitchConfig::new()
        .trusted(&["127.0.0.1/32"])
        .user("2000", "secret2000")
        .extra("[voicemail]\nenabled = true\nsilence_secs = 10\n")
        .start();
    let r = switch.request("GET", "/api/voicemail/2000/greeting", None);
    assert_eq!(r.status, 404, "the standard greeting at first: {}", r.body);
    let tone = media::tone::sine(GREETING_HZ, Duration::from_secs(3), 8000);
    let wav = media::wav::encode_pcm16(&tone);
    let bad = switch.send_raw(
        "PUT",
        "/api/voicemail/2000/greeting",
        "audio/wav",
        b"RIFF....WAVEnope",
        422,
    );
    assert_eq!(bad["error"]["code"], "bad_greeting", "{bad}");
    let wrong_type = switch.send_raw(
        "PUT",
        "/api/voicemail/2000/greeting",
        "application/json",
        b"{}",
        415,
    );
    assert_eq!(wrong_type["error"]["code"], "unsupported_media_type");
    let ok = switch.send_raw(
        "PUT",
        "/api/voicemail/2000/greeting",
        "audio/wav",
        &wav,
        200,
    );
    assert_eq!(ok["duration_ms"], 3000, "{ok}");
    switch.restart();
    let r = switch.request("GET", "/api/voicemail/2000/greeting", None);
    assert_eq!(r.status, 200, "kept across a restart");
    assert_eq!(r.header("content-type"), Some("audio/wav"));

    // A caller: 3 s of the greeting's tone, the beep, then 2 s of their own before BYE.
    let caller = TonePeer::new(CALLER_HZ);
    let answered = Instant::now();
    let deposit = Sipp::caller_to("uac_media", &switch)
        .key("rtp_port", &caller.port().to_string())
        .pause_ms(6_000)
        .spawn();
    caller.send_to(caller_relay(&switch));
    deposit.wait().assert_success(&switch);
    caller.stop_sending();
    let heard = |from_ms: u64, to_ms: u64, hz: f64| {
        caller
            .heard(
                answered + Duration::from_millis(from_ms),
                answered + Duration::from_millis(to_ms),
                hz,
            )
            .share
    };
    let own = heard(500, 2500, GREETING_HZ);
    assert!(
        own > 0.8,
        "the caller hears the user's greeting: share {own}"
    );
    let beep = heard(3200, 3900, 1000.0);
    assert!(beep > 0.5, "then the beep: share {beep}");
    let mut mailbox = Value::Null;
    switch.wait_for("the message", Duration::from_secs(5), || {
        mailbox = switch.request_json("GET", "/api/voicemail/2000", None, 200);
        mailbox["new"] == 1
    });

    let r = switch.request("DELETE", "/api/voicemail/2000/greeting", None);
    assert_eq!(r.status, 204, "{}", r.body);
    let r = switch.request("DELETE", "/api/voicemail/2000/greeting", None);
    assert_eq!(r.status, 404, "{}", r.body);
    switch.assert_idle();
}

/// The user records their greeting from the phone: `*97`, the PIN and `#`, 0 (options), 1
/// (record), their voice after the tone, `#`. The file holds what they said and is the
/// mailbox's greeting from then on.
#[test]
fn a_greeting_recorded_from_the_phone_becomes_the_greeting() {
    if !require("sipp") {
        return;
    }
    let switch = SwitchConfig::new()
        .trusted(&["127.0.0.1/32"])
        .user("2000", "secret2000")
        .extra("[voicemail]\nenabled = true\nsilence_secs = 10\n")
        .start();
    let voice = TonePeer::new(GREETING_HZ);
    let phone = Sipp::caller_to("uac_voicemail_greeting", &switch)
        .caller("2000")
        .service("*97")
        .key("rtp_port", &voice.port().to_string())
        .key("pin1", "2")
        .key("pin2", "0")
        .key("pin3", "0")
        .key("pin4", "0")
        .pause_ms(3_000)
        .spawn();
    voice.send_to(caller_relay(&switch));
    phone.wait().assert_success(&switch);
    voice.stop_sending();
    let dir = switch.data_dir().join("voicemail/2000");
    let mut file = None;
    switch.wait_for("the greeting's file", Duration::from_secs(5), || {
        file = std::fs::read_dir(&dir)
            .into_iter()
            .flatten()
            .flatten()
            .find_map(|e| {
                let name = e.file_name().into_string().ok()?;
                (name.starts_with("greeting-") && name.ends_with(".wav")).then(|| e.path())
            });
        file.is_some()
    });
    let bytes = std::fs::read(file.unwrap_or_default()).unwrap_or_default();
    let samples: Vec<i16> = bytes
        .get(44..)
        .unwrap_or_default()
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    let seconds = samples.len() as f64 / 8000.0;
    assert!((2.0..5.0).contains(&seconds), "{seconds} s recorded");
    let middle = &samples[2000..samples.len().saturating_sub(2000).max(2000)];
    let share = tone_share(middle, GREETING_HZ);
    assert!(share > 0.8, "the user's voice is the greeting: {share}");
    let mut status = 0;
    switch.wait_for("the greeting in use", Duration::from_secs(5), || {
        status = switch
            .request("GET", "/api/voicemail/2000/greeting", None)
            .status;
        status == 200
    });
    switch.assert_idle();
}
