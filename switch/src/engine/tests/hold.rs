//! Hold and retrieve from a phone (a sendonly / inactive re-offer, then sendrecv): the
//! switch answers the holder itself with its last SDP, direction mirrored, and moves the
//! peer leg to music; the peer's phone is asked nothing.

use super::harness::*;

fn held_sdp(phone: std::net::SocketAddr, port: u16, dir: &str) -> String {
    sdp_at(phone, port).replace("a=sendrecv", &format!("a={dir}"))
}

#[test]
fn the_caller_holds_and_the_callee_hears_music_until_retrieved() {
    let mut h = Harness::new();
    let (mut a, _b) = connect(&mut h, "");
    h.take_media();
    a.request(
        &mut h,
        "INVITE",
        Some(&held_sdp(ALICE, ALICE_RTP, "sendonly")),
        "",
    );
    let ok = h.resp_to(ALICE, 200, "INVITE");
    let body = String::from_utf8_lossy(&ok.body).to_string();
    assert_relay_sdp(&ok.headers, &ok.body, PORT_A);
    assert!(
        body.contains("a=recvonly") && !body.contains("a=sendrecv"),
        "{body}"
    );
    a.ack(&mut h, None);
    // Bob's phone is asked nothing; its endpoint plays music; Alice's gets nothing.
    h.assert_no_req(BOB, "INVITE");
    h.assert_no_req(BOB, "ACK");
    let media = h.take_media();
    assert!(
        media.contains(&"Connect(1/A, None)".to_string()),
        "{media:?}"
    );
    assert!(media.iter().any(|m| m.starts_with("Play(1/B")), "{media:?}");

    // Retrieve: answered here again, the music stops, Alice's media flows again.
    a.request(&mut h, "INVITE", Some(&sdp_at(ALICE, ALICE_RTP + 2)), "");
    let ok = h.resp_to(ALICE, 200, "INVITE");
    let back = String::from_utf8_lossy(&ok.body).to_string();
    assert!(back.contains("a=sendrecv"), "{back}");
    // The o= version went up each time (RFC 3264 §8).
    let version = |sdp: &str| {
        sdp.lines()
            .find_map(|l| l.strip_prefix("o="))
            .and_then(|o| o.split(' ').nth(2))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    assert_eq!(version(&back), version(&body) + 1);
    a.ack(&mut h, None);
    h.assert_no_req(BOB, "INVITE");
    let media = h.take_media();
    assert!(media.contains(&"StopPlaying(1/B)".to_string()), "{media:?}");
    assert!(
        media.contains(&format!(
            "Connect(1/A, Some({}:{}))",
            ALICE.ip(),
            ALICE_RTP + 2
        )),
        "{media:?}"
    );
    // An ordinary re-offer afterwards is relayed as before.
    a.request(&mut h, "INVITE", Some(&sdp_at(ALICE, ALICE_RTP + 4)), "");
    let reinv = h.req(BOB, "INVITE");
    assert_relay_sdp(&reinv.headers, &reinv.body, PORT_B);
}

#[test]
fn the_callee_holds_with_inactive_and_the_caller_hears_music() {
    let mut h = Harness::new();
    let (_a, mut b) = connect(&mut h, "");
    h.take_media();
    b.request(
        &mut h,
        "INVITE",
        Some(&held_sdp(BOB, BOB_RTP, "inactive")),
        "",
    );
    let ok = h.resp_to(BOB, 200, "INVITE");
    let body = String::from_utf8_lossy(&ok.body).to_string();
    assert!(body.contains("a=inactive"), "{body}");
    assert_relay_sdp(&ok.headers, &ok.body, PORT_B);
    h.assert_no_req(ALICE, "INVITE");
    let media = h.take_media();
    assert!(media.iter().any(|m| m.starts_with("Play(1/A")), "{media:?}");
    assert!(
        media.contains(&"Connect(1/B, None)".to_string()),
        "{media:?}"
    );
    // A hold refreshed while held keeps the music, answered again.
    b.request(
        &mut h,
        "INVITE",
        Some(&held_sdp(BOB, BOB_RTP, "inactive")),
        "",
    );
    h.resp_to(BOB, 200, "INVITE");
    assert!(!h.take_media().iter().any(|m| m.starts_with("StopPlaying")));
    // The caller hanging up while held ends the call as usual.
    b.request(&mut h, "BYE", None, "");
    h.req(ALICE, "BYE");
}

#[test]
fn old_style_hold_with_a_null_address() {
    let mut h = Harness::new();
    let (mut a, _b) = connect(&mut h, "");
    h.take_media();
    // RFC 2543: a null connection address and no direction attribute.
    let old = sdp_at(ALICE, ALICE_RTP)
        .replace(&format!("c=IN IP4 {}", ALICE.ip()), "c=IN IP4 0.0.0.0")
        .replace("a=sendrecv\r\n", "");
    a.request(&mut h, "INVITE", Some(&old), "");
    let ok = h.resp_to(ALICE, 200, "INVITE");
    assert!(String::from_utf8_lossy(&ok.body).contains("a=inactive"));
    h.assert_no_req(BOB, "INVITE");
    assert!(h.take_media().iter().any(|m| m.starts_with("Play(1/B")));
}
