//! Consultation, attended transfer, conference and supervision over REST against the real
//! switch, with media checked: each party (SIPp for signalling, a [`TonePeer`] for RTP) sends its own
//! tone, and a Goertzel filter over what each receives says whom it hears.

use e2e::rtp::{tone_share, TonePeer};
use e2e::{free_port, require, Sipp, Switch, SwitchConfig};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

const CALLER_HZ: f64 = 700.0;
const AGENT_HZ: f64 = 1900.0;
const CONSULTED_HZ: f64 = 1300.0;

/// The relay address facing leg `i` of the first live call once it has `n` legs with
/// their ports, and the call's id.
fn leg_relay(switch: &Switch, n: usize, i: usize) -> (String, SocketAddr) {
    let mut call = Value::Null;
    switch.wait_for("the call's legs", Duration::from_secs(5), || {
        call = switch.calls().first().cloned().unwrap_or_default();
        call["legs"].as_array().is_some_and(|l| l.len() == n)
            && call["legs"][i]["rtp_port"].as_u64().is_some()
    });
    let port = call["legs"][i]["rtp_port"].as_u64().unwrap_or(0) as u16;
    let id = call["id"].as_str().unwrap_or_default().to_string();
    (id, SocketAddr::from(([127, 0, 0, 1], port)))
}

/// What `peer` heard over the next `window`, as shares of each frequency.
fn listen(peer: &TonePeer, window: Duration, freqs: &[f64]) -> Vec<f64> {
    let from = Instant::now();
    std::thread::sleep(window);
    let to = Instant::now();
    freqs
        .iter()
        .map(|f| peer.heard(from, to, *f).share)
        .collect()
}

struct Call {
    switch: Switch,
    caller: TonePeer,
    agent: TonePeer,
    consulted: TonePeer,
    id: String,
    sipps: Vec<e2e::SippProcess>,
    events: e2e::ws::EventStream,
}

/// A caller talking to agent 2000, with a third phone at 3000 (its SIPp answers and waits
/// for BYE): each party's tone peer sends to the relay once the call is answered.
fn three_parties(caller_pause_ms: u64) -> Option<Call> {
    three_parties_with(caller_pause_ms, "")
}

/// [`three_parties`] with more of the switch's configuration.
fn three_parties_with(caller_pause_ms: u64, extra: &str) -> Option<Call> {
    if !require("sipp") {
        return None;
    }
    let (agent_port, third_port) = (free_port(), free_port());
    let switch = SwitchConfig::new()
        .trusted(&["127.0.0.1/32"])
        .static_user("2000", &format!("sip:2000@127.0.0.1:{agent_port}"))
        .static_user("3000", &format!("sip:3000@127.0.0.1:{third_port}"))
        .extra(extra)
        .start();
    let events = switch.events("/api/events");
    let (caller, agent, consulted) = (
        TonePeer::new(CALLER_HZ),
        TonePeer::new(AGENT_HZ),
        TonePeer::new(CONSULTED_HZ),
    );
    let agent_sipp = Sipp::scenario("uas_hold")
        .port(agent_port)
        .key("rtp_port", &agent.port().to_string())
        .spawn();
    let third_sipp = Sipp::scenario("uas_hold")
        .port(third_port)
        .key("rtp_port", &consulted.port().to_string())
        .spawn();
    let caller_sipp = Sipp::caller_to("uac_media", &switch)
        .key("rtp_port", &caller.port().to_string())
        .pause_ms(caller_pause_ms)
        .spawn();
    let (id, relay_a) = leg_relay(&switch, 2, 0);
    let (_, relay_b) = leg_relay(&switch, 2, 1);
    caller.send_to(relay_a);
    agent.send_to(relay_b);
    Some(Call {
        switch,
        caller,
        agent,
        consulted,
        id,
        sipps: vec![caller_sipp, agent_sipp, third_sipp],
        events,
    })
}

/// [`three_parties`], the agent consulting 3000, who answered.
fn consulting() -> Option<Call> {
    let c = three_parties(9000)?;
    let (switch, id, events) = (&c.switch, &c.id, &c.events);
    let r = switch.request_json(
        "POST",
        &format!("/api/calls/{id}/consult"),
        Some(r#"{"target":"3000"}"#),
        202,
    );
    assert_eq!(r["id"], id.as_str());
    if events
        .wait_for(Duration::from_secs(5), |e| {
            e["change"] == "consult_answered"
        })
        .is_none()
    {
        switch.fail("no consult_answered event");
    }
    let (_, relay_c) = leg_relay(switch, 3, 2);
    c.consulted.send_to(relay_c);
    Some(c)
}

#[test]
fn consult_then_attended_transfer() {
    let Some(c) = consulting() else { return };
    std::thread::sleep(Duration::from_millis(300));
    // The customer hears music only: neither the agent nor the consultation.
    let heard = listen(
        &c.caller,
        Duration::from_millis(1000),
        &[AGENT_HZ, CONSULTED_HZ],
    );
    assert!(
        heard.iter().all(|s| *s < 0.05),
        "the customer hears {heard:?}"
    );
    let rms = c
        .caller
        .heard(
            Instant::now() - Duration::from_millis(800),
            Instant::now(),
            440.0,
        )
        .rms;
    assert!(
        rms > 100.0,
        "the customer hears music, not silence (rms {rms})"
    );
    let agent = listen(
        &c.agent,
        Duration::from_millis(600),
        &[CONSULTED_HZ, CALLER_HZ],
    );
    assert!(
        agent[0] > 0.5 && agent[1] < 0.05,
        "the agent hears {agent:?}"
    );
    let consulted = listen(
        &c.consulted,
        Duration::from_millis(600),
        &[AGENT_HZ, CALLER_HZ],
    );
    assert!(
        consulted[0] > 0.5 && consulted[1] < 0.05,
        "the consulted hears {consulted:?}"
    );

    // Alternate: the agent and the customer talk, the consulted party hears music.
    let path = |step: &str| format!("/api/calls/{}/{step}", c.id);
    c.switch.request_json("POST", &path("alternate"), None, 200);
    std::thread::sleep(Duration::from_millis(300));
    let caller = listen(
        &c.caller,
        Duration::from_millis(600),
        &[AGENT_HZ, CONSULTED_HZ],
    );
    assert!(
        caller[0] > 0.5 && caller[1] < 0.05,
        "the customer hears {caller:?}"
    );
    let consulted = listen(
        &c.consulted,
        Duration::from_millis(600),
        &[AGENT_HZ, CALLER_HZ],
    );
    assert!(
        consulted.iter().all(|s| *s < 0.05),
        "the consulted hears {consulted:?}"
    );

    // Complete the transfer: the agent's phone gets a BYE, the customer hears the consulted.
    c.switch
        .request_json("POST", &path("complete-transfer"), None, 200);
    c.agent.stop_sending();
    std::thread::sleep(Duration::from_millis(300));
    let caller = listen(
        &c.caller,
        Duration::from_millis(800),
        &[CONSULTED_HZ, AGENT_HZ],
    );
    assert!(
        caller[0] > 0.5,
        "the customer hears the consulted party: {caller:?}"
    );
    let consulted = listen(&c.consulted, Duration::from_millis(800), &[CALLER_HZ]);
    assert!(
        consulted[0] > 0.5,
        "the consulted party hears the customer: {consulted:?}"
    );
    assert!(c
        .events
        .wait_for(Duration::from_secs(2), |e| e["change"] == "transferred")
        .is_some());
    for sipp in c.sipps {
        sipp.wait().assert_success(&c.switch);
    }
    c.switch.assert_idle();
}

/// The agent consults a queue: the switch calls the queue itself, the queue's Ready agent
/// (3000) is offered that call and answers, the agent and 3000 talk while the customer
/// hears music; complete-transfer leaves the customer talking to 3000 (through both of
/// the switch's relays), and every leg ends when the customer hangs up.
#[test]
fn consult_a_queue_then_complete_the_transfer() {
    let queue = r#"
[[queues]]
dn = "8001"
name = "Support"
[[agents]]
id = "3000"
extension = "3000"
queues = ["8001"]
"#;
    let Some(c) = three_parties_with(9000, queue) else {
        return;
    };
    let (switch, id, events) = (&c.switch, &c.id, &c.events);
    let v = switch.post_json("/api/agents/3000/login", Some(r#"{"state":"ready"}"#));
    assert_eq!(v["agent"]["state"]["state"], "ready", "{v}");
    switch.request_json(
        "POST",
        &format!("/api/calls/{id}/consult"),
        Some(r#"{"target":"8001"}"#),
        202,
    );
    // The consultation is a call of its own into the queue, from the agent's extension,
    // offered to 3000, who answers.
    let mut consultation = Value::Null;
    switch.wait_for(
        "3000 answering the queue's call",
        Duration::from_secs(8),
        || {
            consultation = switch
                .calls()
                .into_iter()
                .find(|call| call["id"] != id.as_str())
                .unwrap_or_default();
            consultation["state"] == "answered"
                && consultation["legs"][1]["rtp_port"].as_u64().is_some()
        },
    );
    assert_eq!(consultation["to"], "sip:8001@127.0.0.1", "{consultation}");
    assert!(
        consultation["from"]
            .as_str()
            .is_some_and(|f| f.contains("2000")),
        "{consultation}"
    );
    let port = consultation["legs"][1]["rtp_port"].as_u64().unwrap_or(0) as u16;
    c.consulted
        .send_to(SocketAddr::from(([127, 0, 0, 1], port)));
    assert!(events
        .wait_for(Duration::from_secs(2), |e| e["change"]
            == "consult_answered")
        .is_some());
    std::thread::sleep(Duration::from_millis(300));
    let agent = listen(
        &c.agent,
        Duration::from_millis(800),
        &[CONSULTED_HZ, CALLER_HZ],
    );
    assert!(
        agent[0] > 0.5 && agent[1] < 0.05,
        "the agent hears {agent:?}"
    );
    let caller = listen(
        &c.caller,
        Duration::from_millis(600),
        &[AGENT_HZ, CONSULTED_HZ],
    );
    assert!(
        caller.iter().all(|s| *s < 0.05),
        "the customer hears {caller:?}"
    );

    switch.request_json(
        "POST",
        &format!("/api/calls/{id}/complete-transfer"),
        None,
        200,
    );
    c.agent.stop_sending();
    std::thread::sleep(Duration::from_millis(300));
    let caller = listen(&c.caller, Duration::from_millis(800), &[CONSULTED_HZ]);
    assert!(caller[0] > 0.5, "the customer hears 3000: {caller:?}");
    let consulted = listen(&c.consulted, Duration::from_millis(800), &[CALLER_HZ]);
    assert!(consulted[0] > 0.5, "3000 hears the customer: {consulted:?}");
    for sipp in c.sipps {
        sipp.wait().assert_success(&c.switch);
    }
    c.switch.assert_idle();
}

#[test]
fn conference_everyone_hears_the_others() {
    let Some(c) = consulting() else { return };
    let path = |step: &str| format!("/api/calls/{}/{step}", c.id);
    let view = c
        .switch
        .request_json("POST", &path("complete-conference"), None, 200);
    assert_eq!(view["legs"].as_array().map(Vec::len), Some(3), "{view}");
    assert!(view["bridges"].to_string().contains("mixer"), "{view}");
    std::thread::sleep(Duration::from_millis(400));
    let all = [CALLER_HZ, AGENT_HZ, CONSULTED_HZ];
    for (peer, own) in [(&c.caller, 0), (&c.agent, 1), (&c.consulted, 2)] {
        let heard = listen(peer, Duration::from_millis(800), &all);
        for (i, share) in heard.iter().enumerate() {
            if i == own {
                assert!(*share < 0.05, "party {own} hears itself: {heard:?}");
            } else {
                assert!(*share > 0.25, "party {own} misses party {i}: {heard:?}");
            }
        }
    }
    // Muted, the consulted party (listed third) is heard by none, and still hears both.
    c.switch
        .request_json("POST", &path("legs/2/mute"), None, 200);
    std::thread::sleep(Duration::from_millis(300));
    let caller = listen(
        &c.caller,
        Duration::from_millis(800),
        &[AGENT_HZ, CONSULTED_HZ],
    );
    assert!(
        caller[0] > 0.6 && caller[1] < 0.05,
        "the customer hears {caller:?}"
    );
    let consulted = listen(
        &c.consulted,
        Duration::from_millis(800),
        &[CALLER_HZ, AGENT_HZ],
    );
    assert!(
        consulted.iter().all(|s| *s > 0.25),
        "the muted party hears {consulted:?}"
    );
    // Removed, it gets a BYE; the customer and the agent go on until the customer hangs up.
    c.switch
        .request_json("POST", &path("legs/2/remove"), None, 200);
    c.consulted.stop_sending();
    std::thread::sleep(Duration::from_millis(300));
    let caller = listen(&c.caller, Duration::from_millis(600), &[AGENT_HZ]);
    assert!(
        caller[0] > 0.6,
        "the customer still hears the agent: {caller:?}"
    );
    for sipp in c.sipps {
        sipp.wait().assert_success(&c.switch);
    }
    c.switch.assert_idle();
}

#[test]
fn whisper_reaches_the_agent_and_never_the_customer() {
    let Some(c) = three_parties(8000) else { return };
    let (switch, id, events) = (&c.switch, &c.id, &c.events);
    let (caller, agent, sup) = (&c.caller, &c.agent, &c.consulted);
    let path = format!("/api/calls/{id}/supervise");
    switch.request_json(
        "POST",
        &path,
        Some(r#"{"mode":"whisper","extension":"3000"}"#),
        202,
    );
    if events
        .wait_for(Duration::from_secs(5), |e| {
            e["change"] == "supervise_joined"
        })
        .is_none()
    {
        switch.fail("no supervise_joined event");
    }
    let (_, relay_s) = leg_relay(switch, 3, 2);
    sup.send_to(relay_s);
    std::thread::sleep(Duration::from_millis(400));
    let customer = listen(
        caller,
        Duration::from_millis(800),
        &[AGENT_HZ, CONSULTED_HZ],
    );
    assert!(
        customer[0] > 0.5,
        "the customer hears the agent: {customer:?}"
    );
    assert!(
        customer[1] < 0.05,
        "the customer must not hear the supervisor: {customer:?}"
    );
    let heard = listen(
        agent,
        Duration::from_millis(800),
        &[CALLER_HZ, CONSULTED_HZ],
    );
    assert!(
        heard.iter().all(|s| *s > 0.25),
        "the agent hears both: {heard:?}"
    );
    let heard = listen(sup, Duration::from_millis(800), &[CALLER_HZ, AGENT_HZ]);
    assert!(
        heard.iter().all(|s| *s > 0.25),
        "the supervisor hears both: {heard:?}"
    );
    // Listen: now the agent no longer hears the supervisor either.
    switch.request_json(
        "POST",
        &path,
        Some(r#"{"mode":"listen","extension":"3000"}"#),
        202,
    );
    std::thread::sleep(Duration::from_millis(300));
    let heard = listen(
        agent,
        Duration::from_millis(800),
        &[CALLER_HZ, CONSULTED_HZ],
    );
    assert!(
        heard[0] > 0.5 && heard[1] < 0.05,
        "the agent hears {heard:?}"
    );
    let heard = listen(sup, Duration::from_millis(800), &[CALLER_HZ, AGENT_HZ]);
    assert!(
        heard.iter().all(|s| *s > 0.25),
        "the supervisor hears both: {heard:?}"
    );
    switch.request_json("POST", &format!("/api/calls/{id}/end-supervise"), None, 200);
    sup.stop_sending();
    for sipp in c.sipps {
        sipp.wait().assert_success(&c.switch);
    }
    switch.assert_idle();
}

/// A supervisor whispers from their own phone: `*56` + the agent's extension. The switch
/// answers the supervisor's call from an endpoint of the agent's call: the agent hears
/// the customer and the supervisor, the customer only the agent. Their BYE ends it.
#[test]
fn a_supervisor_whispers_from_their_phone_by_feature_code() {
    if !require("sipp") {
        return;
    }
    let agent_port = free_port();
    let accounts = r#"
[[teams]]
name = "floor"
[[accounts]]
id = "2000"
roles = ["agent"]
teams = ["floor"]
extension = "2000"
password = "agent-pass-2000"
[[accounts]]
id = "3000"
roles = ["supervisor"]
teams = ["floor"]
extension = "3000"
password = "super-pass-3000"
"#;
    let switch = SwitchConfig::new()
        .trusted(&["127.0.0.1/32"])
        .static_user("2000", &format!("sip:2000@127.0.0.1:{agent_port}"))
        .static_user("3000", &format!("sip:3000@127.0.0.1:{}", free_port()))
        .extra(accounts)
        .start();
    let events = switch.events("/api/events");
    let (caller, agent, sup) = (
        TonePeer::new(CALLER_HZ),
        TonePeer::new(AGENT_HZ),
        TonePeer::new(CONSULTED_HZ),
    );
    let agent_sipp = Sipp::scenario("uas_hold")
        .port(agent_port)
        .key("rtp_port", &agent.port().to_string())
        .spawn();
    let caller_sipp = Sipp::caller_to("uac_media", &switch)
        .key("rtp_port", &caller.port().to_string())
        .pause_ms(8000)
        .spawn();
    let (_, relay_a) = leg_relay(&switch, 2, 0);
    let (_, relay_b) = leg_relay(&switch, 2, 1);
    caller.send_to(relay_a);
    agent.send_to(relay_b);
    let sup_sipp = Sipp::caller_to("uac_media", &switch)
        .caller("3000")
        .service("*562000")
        .key("rtp_port", &sup.port().to_string())
        .pause_ms(3500)
        .spawn();
    if events
        .wait_for(Duration::from_secs(5), |e| {
            e["change"] == "supervise_joined"
        })
        .is_none()
    {
        switch.fail("no supervise_joined event");
    }
    let (_, relay_s) = leg_relay(&switch, 3, 2);
    sup.send_to(relay_s);
    std::thread::sleep(Duration::from_millis(400));
    let customer = listen(
        &caller,
        Duration::from_millis(800),
        &[AGENT_HZ, CONSULTED_HZ],
    );
    assert!(
        customer[0] > 0.5,
        "the customer hears the agent: {customer:?}"
    );
    assert!(
        customer[1] < 0.05,
        "the customer must not hear the supervisor: {customer:?}"
    );
    let heard = listen(
        &agent,
        Duration::from_millis(800),
        &[CALLER_HZ, CONSULTED_HZ],
    );
    assert!(
        heard.iter().all(|s| *s > 0.25),
        "the agent hears both: {heard:?}"
    );
    let heard = listen(&sup, Duration::from_millis(800), &[CALLER_HZ, AGENT_HZ]);
    assert!(
        heard.iter().all(|s| *s > 0.25),
        "the supervisor hears both: {heard:?}"
    );
    sup_sipp.wait().assert_success(&switch);
    sup.stop_sending();
    assert!(events
        .wait_for(Duration::from_secs(3), |e| e["change"] == "supervise_ended")
        .is_some());
    std::thread::sleep(Duration::from_millis(300));
    let heard = listen(
        &agent,
        Duration::from_millis(600),
        &[CALLER_HZ, CONSULTED_HZ],
    );
    assert!(
        heard[0] > 0.5 && heard[1] < 0.05,
        "after the supervisor left the agent hears {heard:?}"
    );
    for sipp in [caller_sipp, agent_sipp] {
        sipp.wait().assert_success(&switch);
    }
    switch.assert_idle();
}

/// A 16-bit stereo WAV's channels.
fn stereo(bytes: &[u8]) -> (Vec<i16>, Vec<i16>) {
    assert_eq!(&bytes[..4], b"RIFF", "not a WAV");
    assert_eq!(u16::from_le_bytes([bytes[22], bytes[23]]), 2, "stereo");
    let samples: Vec<i16> = bytes[44..]
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    let left = samples.iter().step_by(2).copied().collect();
    let right = samples.iter().skip(1).step_by(2).copied().collect();
    (left, right)
}

#[test]
fn a_recording_holds_each_party_on_its_channel_and_nothing_while_paused() {
    if !require("sipp") {
        return;
    }
    let agent_port = free_port();
    let switch = SwitchConfig::new()
        .trusted(&["127.0.0.1/32"])
        .static_user("2000", &format!("sip:2000@127.0.0.1:{agent_port}"))
        .start();
    let (caller, agent) = (TonePeer::new(CALLER_HZ), TonePeer::new(AGENT_HZ));
    let agent_sipp = Sipp::scenario("uas_hold")
        .port(agent_port)
        .key("rtp_port", &agent.port().to_string())
        .spawn();
    let caller_sipp = Sipp::caller_to("uac_media", &switch)
        .key("rtp_port", &caller.port().to_string())
        .pause_ms(5000)
        .spawn();
    let (id, relay_a) = leg_relay(&switch, 2, 0);
    let (_, relay_b) = leg_relay(&switch, 2, 1);
    caller.send_to(relay_a);
    agent.send_to(relay_b);
    std::thread::sleep(Duration::from_millis(200));
    let step = |s: &str| format!("/api/calls/{id}/recording/{s}");
    let view = switch.request_json("POST", &step("start"), None, 200);
    assert_eq!(view["recording"]["paused"], false, "{view}");
    let r = switch.request("POST", &step("start"), None);
    assert_eq!(r.status, 409, "{}", r.body);
    std::thread::sleep(Duration::from_millis(1000));
    switch.request_json("POST", &step("pause"), None, 200);
    std::thread::sleep(Duration::from_millis(1000));
    switch.request_json("POST", &step("resume"), None, 200);
    std::thread::sleep(Duration::from_millis(1000));
    switch.request_json("POST", &step("stop"), None, 200);
    caller_sipp.wait().assert_success(&switch);
    agent_sipp.wait().assert_success(&switch);

    let mut rows = Value::Null;
    switch.wait_for("the recording's index row", Duration::from_secs(5), || {
        rows = switch.request_json("GET", "/api/recordings", None, 200);
        rows["recordings"].as_array().is_some_and(|r| r.len() == 1)
    });
    let row = &rows["recordings"][0];
    assert_eq!(row["call_id"], id.as_str(), "{row}");
    let file = switch
        .data_dir()
        .join("recordings")
        .join(row["file"].as_str().unwrap_or_default());
    switch.wait_for("the WAV", Duration::from_secs(5), || file.exists());
    let bytes = std::fs::read(&file).unwrap_or_default();
    let audio = switch.request(
        "GET",
        &format!("/api/recordings/{}/audio", row["id"].as_str().unwrap_or("")),
        None,
    );
    assert_eq!(audio.status, 200);
    assert!(audio
        .headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("content-type") && v == "audio/wav"));
    let (left, right) = stereo(&bytes);
    let seconds = left.len() as f64 / 8000.0;
    assert!((2.7..3.6).contains(&seconds), "{seconds} s recorded");
    // First second: the customer on the left, the agent on the right.
    let first = 800..7200;
    assert!(
        tone_share(&left[first.clone()], CALLER_HZ) > 0.8,
        "left: {}",
        tone_share(&left[first.clone()], CALLER_HZ)
    );
    assert!(
        tone_share(&right[first.clone()], AGENT_HZ) > 0.8,
        "right: {}",
        tone_share(&right[first.clone()], AGENT_HZ)
    );
    assert!(
        tone_share(&left[first.clone()], AGENT_HZ) < 0.05,
        "no agent on the left"
    );
    // The paused second: nothing at all on either channel.
    let paused = 9600..14400;
    let loud = left[paused.clone()]
        .iter()
        .chain(&right[paused])
        .filter(|s| s.unsigned_abs() > 50)
        .count();
    assert_eq!(loud, 0, "samples above silence while paused");
    // After resuming: both again.
    let last = 17600..22400;
    assert!(tone_share(&left[last.clone()], CALLER_HZ) > 0.8);
    assert!(tone_share(&right[last], AGENT_HZ) > 0.8);
    switch.assert_idle();
}

/// Percent-encodes what a URI header value may not hold as it is.
fn escape(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The agent's phone calls the target itself, then answers the customer and transfers
/// them to the target with REFER and Replaces (RFC 3891): both of its calls are released
/// and the customer and the target hear each other.
#[test]
fn attended_transfer_from_the_agents_phone() {
    if !require("sipp") {
        return;
    }
    let (agent_port, target_port) = (free_port(), free_port());
    let switch = SwitchConfig::new()
        .trusted(&["127.0.0.1/32"])
        .static_user("2000", &format!("sip:2000@127.0.0.1:{agent_port}"))
        .static_user("3000", &format!("sip:3000@127.0.0.1:{target_port}"))
        .start();
    let (caller, agent, target) = (
        TonePeer::new(CALLER_HZ),
        TonePeer::new(AGENT_HZ),
        TonePeer::new(CONSULTED_HZ),
    );
    let target_sipp = Sipp::scenario("uas_hold")
        .port(target_port)
        .key("rtp_port", &target.port().to_string())
        .spawn();
    // The agent's own call to the target (its second line).
    let second_line = Sipp::caller_to("uac_bye_wait", &switch)
        .caller("2000")
        .service("3000")
        .spawn();
    let (_, relay_t) = leg_relay(&switch, 2, 1);
    target.send_to(relay_t);
    let call = switch.calls().first().cloned().unwrap_or_default();
    let leg = &call["legs"][0];
    let replaces = format!(
        "{};to-tag={};from-tag={}",
        leg["call_id"].as_str().unwrap_or_default(),
        leg["local_tag"].as_str().unwrap_or_default(),
        leg["remote_tag"].as_str().unwrap_or_default()
    );
    let agent_sipp = Sipp::scenario("uas_refer")
        .port(agent_port)
        .key("rtp_port", &agent.port().to_string())
        .key(
            "refer_to",
            &format!("3000@127.0.0.1?Replaces={}", escape(&replaces)),
        )
        .pause_ms(1500)
        .spawn();
    let caller_sipp = Sipp::caller_to("uac_media", &switch)
        .key("rtp_port", &caller.port().to_string())
        .pause_ms(6000)
        .spawn();
    let mut customer_call = Value::Null;
    switch.wait_for("the customer's call", Duration::from_secs(5), || {
        customer_call = switch
            .calls()
            .into_iter()
            .find(|c| {
                c["from"].as_str().is_some_and(|f| !f.contains("2000")) && c["state"] == "answered"
            })
            .unwrap_or_default();
        customer_call["legs"][1]["rtp_port"].as_u64().is_some()
    });
    let port = |i: usize| customer_call["legs"][i]["rtp_port"].as_u64().unwrap_or(0) as u16;
    caller.send_to(SocketAddr::from(([127, 0, 0, 1], port(0))));
    agent.send_to(SocketAddr::from(([127, 0, 0, 1], port(1))));
    let r = agent_sipp.wait();
    r.assert_success(&switch);
    r.assert_logged("transfer final=SIP/2.0 200 OK", &switch);
    second_line.wait().assert_success(&switch);
    agent.stop_sending();
    std::thread::sleep(Duration::from_millis(500));
    let heard = listen(
        &caller,
        Duration::from_millis(800),
        &[CONSULTED_HZ, AGENT_HZ],
    );
    assert!(heard[0] > 0.5, "the customer hears the target: {heard:?}");
    let heard = listen(&target, Duration::from_millis(800), &[CALLER_HZ]);
    assert!(heard[0] > 0.5, "the target hears the customer: {heard:?}");
    caller_sipp.wait().assert_success(&switch);
    target_sipp.wait().assert_success(&switch);
    switch.assert_idle();
}
