//! Voicemail: calls to an unregistered, busy or unanswering user go to their mailbox
//! (greeting and beep, then the caller recorded); the message is indexed and the user's
//! phones hear of it (MWI); `*97` opens one's own mailbox after the PIN.

use super::harness::*;
use crate::engine::Input;
use crate::voicemail::Status;
use media::graph::{Endpoint, MediaEvent, RelayId};

/// The demo's voicemail on: 20 s ring, 120 s messages, 5 s silence, PIN = the number.
fn voicemail_harness() -> Harness {
    let mut opts = Opts::default();
    opts.config.voicemail.enabled = true;
    Harness::with(opts)
}

/// How long the greeting and beep last.
fn greeting() -> std::time::Duration {
    crate::prompts::duration(&prompts().voicemail_greeting(None))
}

fn digits(h: &mut Harness, relay: u64, keys: &str) {
    for digit in keys.chars() {
        h.input(Input::Media(MediaEvent::Digit {
            endpoint: Endpoint::a(RelayId(relay)),
            digit,
        }));
    }
}

/// Alice leaves a 4-second message for `to` (whose phone, if it has one at `phone`, is
/// busy); returns her dialog.
fn leave_message(h: &mut Harness, to: &str, phone: Option<std::net::SocketAddr>) -> Dlg {
    let mut a = h.call(ALICE, "1001", to, Some(&sdp_at(ALICE, ALICE_RTP)), "");
    if let Some(phone) = phone {
        let inv = h.req(phone, "INVITE");
        h.reply(phone, &inv, 486, "busy", None);
        h.req(phone, "ACK");
    }
    let ok = h.resp_to(ALICE, 200, "INVITE");
    assert_relay_sdp(&ok.headers, &ok.body, PORT_A);
    a.answered(&ok);
    a.ack(h, None);
    let media = h.take_media();
    assert!(
        media.iter().any(|m| m.starts_with("Play(1/A")),
        "the greeting: {media:?}"
    );
    h.advance(greeting());
    let media = h.take_media();
    assert!(media.contains(&"Record(1/A)".to_string()), "{media:?}");
    h.advance(secs(4));
    a.request(h, "BYE", None, "");
    h.resp_to(ALICE, 200, "BYE");
    a
}

#[test]
fn an_unregistered_user_gets_a_message_and_their_count_goes_up() {
    let mut h = voicemail_harness();
    leave_message(&mut h, "1004", None);
    let list = h.mailboxes.list("1004");
    assert_eq!(list.len(), 1);
    let m = &list[0];
    assert_eq!((m.from_user.as_str(), m.status), ("1001", Status::New));
    assert_eq!(m.duration_ms, 4000);
    assert_eq!(h.mailboxes.counts("1004"), (1, 0));
    assert!(h.engine.calls().is_empty());
}

#[test]
fn a_busy_user_gets_a_message_and_an_mwi_notify() {
    let mut h = voicemail_harness();
    let mut a = h.call(ALICE, "1001", "1002", Some(&sdp_at(ALICE, ALICE_RTP)), "");
    let inv = h.req(BOB, "INVITE");
    h.reply(BOB, &inv, 486, "bob", None);
    h.req(BOB, "ACK");
    let ok = h.resp_to(ALICE, 200, "INVITE");
    a.answered(&ok);
    a.ack(&mut h, None);
    h.advance(greeting() + secs(3));
    a.request(&mut h, "BYE", None, "");
    let notify = h.req(BOB, "NOTIFY");
    assert_eq!(notify.headers.get("Event"), Some("message-summary"));
    assert_eq!(
        notify.headers.get("Content-Type"),
        Some("application/simple-message-summary")
    );
    assert_eq!(
        String::from_utf8_lossy(&notify.body),
        format!("Messages-Waiting: yes\r\nMessage-Account: sip:1002@{DOMAIN}\r\nVoice-Message: 1/0 (0/0)\r\n")
    );
}

#[test]
fn an_unanswered_call_goes_to_voicemail_after_the_ring_time() {
    let mut h = voicemail_harness();
    let _a = h.call(ALICE, "1001", "1002", Some(&sdp_at(ALICE, ALICE_RTP)), "");
    let inv = h.req(BOB, "INVITE");
    h.reply(BOB, &inv, 180, "bob", None);
    h.resp_to(ALICE, 180, "INVITE");
    h.advance(secs(19));
    h.assert_no_req(BOB, "CANCEL");
    h.advance(secs(2));
    h.req(BOB, "CANCEL");
    h.resp_to(ALICE, 200, "INVITE");
}

#[test]
fn a_hang_up_at_the_beep_leaves_nothing() {
    let mut h = voicemail_harness();
    let mut a = h.call(ALICE, "1001", "1004", Some(&sdp_at(ALICE, ALICE_RTP)), "");
    let ok = h.resp_to(ALICE, 200, "INVITE");
    a.answered(&ok);
    a.ack(&mut h, None);
    h.advance(greeting() + std::time::Duration::from_millis(500));
    a.request(&mut h, "BYE", None, "");
    assert!(h.mailboxes.list("1004").is_empty());
}

#[test]
fn silence_ends_a_message() {
    let mut h = voicemail_harness();
    let mut a = h.call(ALICE, "1001", "1004", Some(&sdp_at(ALICE, ALICE_RTP)), "");
    let ok = h.resp_to(ALICE, 200, "INVITE");
    a.answered(&ok);
    a.ack(&mut h, None);
    h.advance(greeting() + secs(7));
    h.input(Input::Media(MediaEvent::Silence { relay: RelayId(1) }));
    h.req(ALICE, "BYE");
    assert_eq!(h.mailboxes.list("1004").len(), 1);
}

#[test]
fn star_97_plays_new_messages_and_deletes_one() {
    let mut h = voicemail_harness();
    leave_message(&mut h, "1002", Some(BOB));
    let mwi = h.req(BOB, "NOTIFY");
    h.reply(BOB, &mwi, 200, "bob", None);
    // Bob opens his mailbox: PIN (his number by default), #.
    let mut b = h.call(BOB, "1002", "*97", Some(&sdp_at(BOB, BOB_RTP)), "");
    let ok = h.resp_to(BOB, 200, "INVITE");
    b.answered(&ok);
    b.ack(&mut h, None);
    let relay = 2;
    let media = h.take_media();
    assert!(
        media.contains(&format!("Digits({relay}/A, true)")),
        "{media:?}"
    );
    digits(&mut h, relay, "1003#");
    h.take_media();
    assert_eq!(
        h.mailboxes.list("1002").len(),
        1,
        "a wrong PIN opens nothing"
    );
    digits(&mut h, relay, "1002#");
    h.advance(secs(4));
    let media = h.take_media();
    let id = &h.mailboxes.list("1002")[0].id;
    assert!(
        media
            .iter()
            .any(|m| m.starts_with(&format!("PlayFile({relay}/A"))
                && m.ends_with(&format!("voicemail/1002/{id}.wav)"))),
        "the message plays: {media:?}"
    );
    digits(&mut h, relay, "7");
    assert!(h.mailboxes.list("1002").is_empty(), "deleted");
    let notify = h.req(BOB, "NOTIFY");
    let body = String::from_utf8_lossy(&notify.body).to_string();
    assert!(body.contains("Voice-Message: 0/0"), "{body}");
    // Then the end of messages, and the switch hangs up.
    h.advance(secs(10));
    h.req(BOB, "BYE");
}

#[test]
fn a_subscriber_gets_the_summary_at_once_and_on_every_change() {
    let mut h = voicemail_harness();
    let mut sub = h.call_like(
        BOB,
        "1002",
        "1002",
        "SUBSCRIBE",
        "Event: message-summary\r\nExpires: 600\r\n",
    );
    let ok = h.resp_to(BOB, 200, "SUBSCRIBE");
    assert_eq!(ok.headers.get("Expires"), Some("600"));
    let first = h.req(BOB, "NOTIFY");
    assert!(first
        .headers
        .get("Subscription-State")
        .is_some_and(|s| s.starts_with("active")));
    assert!(String::from_utf8_lossy(&first.body).starts_with("Messages-Waiting: no"));
    assert_eq!(tag_of(&first.headers, "From"), tag_of(&ok.headers, "To"));
    h.reply(BOB, &first, 200, "bob", None);
    sub.answered(&ok);
    leave_message(&mut h, "1002", Some(BOB));
    let change = h.req(BOB, "NOTIFY");
    assert_eq!(change.headers.call_id().unwrap(), sub.call_id);
    assert!(cseq_num(&change.headers) > cseq_num(&first.headers));
    assert!(String::from_utf8_lossy(&change.body).starts_with("Messages-Waiting: yes"));
    // Another event package is refused.
    let _other = h.call_like(CAROL, "1003", "1003", "SUBSCRIBE", "Event: presence\r\n");
    h.resp_to(CAROL, 489, "SUBSCRIBE");
}

#[test]
fn a_transfer_to_a_mailbox_leaves_a_message() {
    let mut h = voicemail_harness();
    let (mut a, _b) = connect(&mut h, "");
    let now = h.now;
    h.engine
        .transfer(
            now,
            &a.call_id,
            crate::engine::TransferTo {
                target: "*981003".into(),
            },
        )
        .unwrap();
    h.input(Input::Tick);
    h.req(BOB, "BYE");
    h.assert_no_req(ALICE, "INVITE");
    assert!(
        h.take_media().iter().any(|m| m.starts_with("Play(1/A")),
        "the greeting"
    );
    h.advance(greeting() + secs(3));
    a.request(&mut h, "BYE", None, "");
    let list = h.mailboxes.list("1003");
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].duration_ms, 3000);
}

/// Bob records his own greeting from his phone (`*97`, PIN, 0, 1, the tone, speak, #);
/// callers then hear it, not the standard one; 2 in the options brings the standard back.
#[test]
fn a_user_records_a_greeting_callers_then_hear() {
    use crate::voicemail::greeting::Job;
    let mut h = voicemail_harness();
    let mut b = h.call(BOB, "1002", "*97", Some(&sdp_at(BOB, BOB_RTP)), "");
    let ok = h.resp_to(BOB, 200, "INVITE");
    b.answered(&ok);
    b.ack(&mut h, None);
    let relay = 1;
    digits(&mut h, relay, "1002#");
    h.advance(secs(3));
    h.take_media();
    // No messages: the hint, then 0 for the options, 1 to record.
    digits(&mut h, relay, "0");
    assert!(
        h.take_media().iter().any(|m| m.starts_with("Play(1/A")),
        "the options"
    );
    digits(&mut h, relay, "1");
    h.advance(secs(6));
    let path = h
        .media
        .iter()
        .find_map(|c| match c {
            media::graph::MediaCommand::Record { path, .. } => Some(path.display().to_string()),
            _ => None,
        })
        .expect("a greeting being recorded");
    let media = h.take_media();
    assert!(media.contains(&"Record(1/A)".to_string()), "{media:?}");
    assert!(path.contains("voicemail/1002/greeting-"), "{path}");
    h.advance(secs(3));
    digits(&mut h, relay, "#");
    let media = h.take_media();
    assert!(media.contains(&"StopRecording(1)".to_string()), "{media:?}");
    let job = h
        .greeting_jobs
        .try_recv()
        .expect("a job for the new greeting");
    let Job::Adopt { mailbox, file } = job else {
        panic!("{job:?}");
    };
    assert_eq!(mailbox, "1002");
    assert!(path.ends_with(&file), "{path} {file}");
    // What the file task does once the recorder has written it.
    let samples: std::sync::Arc<[i16]> = media::tone::sine(600.0, secs(2), 8000).into();
    h.mailboxes.set_greeting(
        "1002",
        Some(crate::voicemail::Greeting {
            file,
            samples: samples.clone(),
        }),
    );
    b.request(&mut h, "BYE", None, "");
    h.resp_to(BOB, 200, "BYE");

    // Alice's call to Bob's busy phone: his greeting, then the beep, then the recording.
    let mut a = h.call(ALICE, "1001", "1002", Some(&sdp_at(ALICE, ALICE_RTP)), "");
    let inv = h.req(BOB, "INVITE");
    h.reply(BOB, &inv, 486, "busy", None);
    h.req(BOB, "ACK");
    let ok = h.resp_to(ALICE, 200, "INVITE");
    a.answered(&ok);
    a.ack(&mut h, None);
    let own = crate::prompts::duration(&prompts().voicemail_greeting(Some(samples)));
    assert!(
        own < greeting(),
        "his 2 s greeting is shorter than the standard"
    );
    h.take_media();
    h.advance(own);
    assert!(
        h.take_media().contains(&"Record(2/A)".to_string()),
        "recording after his greeting and the beep"
    );
    a.request(&mut h, "BYE", None, "");
    h.resp_to(ALICE, 200, "BYE");

    // Back to the standard greeting: *97, PIN, 0, 2.
    let mut b = h.call(BOB, "1002", "*97", Some(&sdp_at(BOB, BOB_RTP)), "");
    let ok = h.resp_to(BOB, 200, "INVITE");
    b.answered(&ok);
    b.ack(&mut h, None);
    digits(&mut h, 3, "1002#");
    digits(&mut h, 3, "02");
    assert_eq!(
        h.greeting_jobs.try_recv().ok(),
        Some(Job::Remove {
            mailbox: "1002".into()
        })
    );
    assert!(h.mailboxes.greeting("1002").is_none());
}

/// A greeting shorter than a second (`#` at once) is not kept.
#[test]
fn a_greeting_cut_short_is_discarded() {
    use crate::voicemail::greeting::Job;
    let mut h = voicemail_harness();
    let mut b = h.call(BOB, "1002", "*97", Some(&sdp_at(BOB, BOB_RTP)), "");
    let ok = h.resp_to(BOB, 200, "INVITE");
    b.answered(&ok);
    b.ack(&mut h, None);
    digits(&mut h, 1, "1002#");
    digits(&mut h, 1, "01");
    h.advance(secs(6));
    digits(&mut h, 1, "#");
    assert!(matches!(
        h.greeting_jobs.try_recv(),
        Ok(Job::Discard { .. })
    ));
    assert!(h.mailboxes.greeting("1002").is_none());
}
