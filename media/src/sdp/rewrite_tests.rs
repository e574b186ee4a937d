//! SDP rewriting cases: what the switch forwards must carry its own address and ports and
//! still mean what the endpoint meant.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use super::parse_tests::{crlf, v4, BASIC};
use super::*;

#[test]
fn rewrite_basic() {
    let out = rewrite(&crlf(BASIC), v4(203, 0, 113, 5), &[30000]).unwrap();
    assert_eq!(
        out,
        crlf(&[
            "v=0",
            "o=alice 2890844526 2890844526 IN IP4 203.0.113.5",
            "s=-",
            "c=IN IP4 203.0.113.5",
            "t=0 0",
            "m=audio 30000 RTP/AVP 0 8 101",
            "a=rtpmap:101 telephone-event/8000",
            "a=fmtp:101 0-15",
            "a=ptime:20",
        ])
    );
    // What we write must read back as what we meant.
    let sd = parse(&out).unwrap();
    assert_eq!(
        media_endpoints(&sd),
        vec![Some(SocketAddr::new(v4(203, 0, 113, 5), 30000))]
    );
}

#[test]
fn rewrite_lf_input_gives_crlf_output() {
    let out = rewrite(&BASIC.join("\n"), v4(203, 0, 113, 5), &[30000]).unwrap();
    assert!(out.ends_with("\r\n"));
    assert_eq!(out.matches("\r\n").count(), BASIC.len());
    assert_eq!(out.matches('\n').count(), BASIC.len());
}

#[test]
fn rewrite_to_ipv6_and_back_to_ipv4() {
    let ip6 = IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x53));
    let out = rewrite(&crlf(BASIC), ip6, &[30000]).unwrap();
    assert!(out.contains("\r\no=alice 2890844526 2890844526 IN IP6 2001:db8::53\r\n"));
    assert!(out.contains("\r\nc=IN IP6 2001:db8::53\r\n"));
    let back = rewrite(&out, v4(10, 1, 1, 1), &[30002]).unwrap();
    assert!(back.contains("\r\nc=IN IP4 10.1.1.1\r\n"));
    assert!(back.contains("\r\nm=audio 30002 RTP/AVP 0 8 101\r\n"));
}

#[test]
fn rewrite_multiple_media_rtcp_and_rejected_stream() {
    let body = crlf(&[
        "v=0",
        "o=- 7 7 IN IP4 10.0.0.1",
        "s=-",
        "c=IN IP4 10.0.0.1",
        "t=0 0",
        "a=rtcp:9999",
        "m=audio 4000 RTP/AVP 0",
        "a=rtcp:4001 IN IP4 10.0.0.1",
        "m=video 0 RTP/AVP 96",
        "a=rtcp:4003",
        "m=audio 4004/2 RTP/AVP 8",
        "c=IN IP4 10.0.0.2/127",
        "a=rtcp:4005",
        "m=image 4006 udptl t38",
    ]);
    let out = rewrite(&body, v4(198, 51, 100, 1), &[30000, 30002, 30004]).unwrap();
    assert_eq!(
        out,
        crlf(&[
            "v=0",
            "o=- 7 7 IN IP4 198.51.100.1",
            "s=-",
            "c=IN IP4 198.51.100.1",
            "t=0 0",
            "m=audio 30000 RTP/AVP 0",
            "a=rtcp:30001",
            "m=video 0 RTP/AVP 96",
            "m=audio 30004 RTP/AVP 8",
            "c=IN IP4 198.51.100.1",
            "a=rtcp:30005",
            // Fourth stream: no port given for it, so it is disabled.
            "m=image 0 udptl t38",
        ])
    );
}

#[test]
fn rewrite_strips_ice() {
    let body = crlf(&[
        "v=0",
        "o=- 1 1 IN IP4 10.0.0.1",
        "s=-",
        "t=0 0",
        "a=ice-lite",
        "a=ice-options:trickle",
        "m=audio 4000 RTP/AVP 0",
        "c=IN IP4 10.0.0.1",
        "a=ice-ufrag:abcd",
        "a=ice-pwd:secretsecretsecretsecret",
        "a=candidate:1 1 UDP 2130706431 10.0.0.1 4000 typ host",
        "a=candidate:2 1 UDP 1694498815 198.51.100.9 4000 typ srflx raddr 10.0.0.1 rport 4000",
        "a=remote-candidates:1 10.0.0.5 5000",
        "a=end-of-candidates",
        "a=sendrecv",
    ]);
    let out = rewrite(&body, v4(192, 0, 2, 1), &[30000]).unwrap();
    assert_eq!(
        out,
        crlf(&[
            "v=0",
            "o=- 1 1 IN IP4 192.0.2.1",
            "s=-",
            "t=0 0",
            "m=audio 30000 RTP/AVP 0",
            "c=IN IP4 192.0.2.1",
            "a=sendrecv",
        ])
    );
}

#[test]
fn rewrite_keeps_direction_for_hold() {
    let body = crlf(&[
        "v=0",
        "o=- 1 2 IN IP4 10.0.0.1",
        "s=-",
        "c=IN IP4 10.0.0.1",
        "t=0 0",
        "m=audio 4000 RTP/AVP 0",
        "a=sendonly",
    ]);
    let out = rewrite(&body, v4(192, 0, 2, 1), &[30000]).unwrap();
    assert!(out.ends_with("m=audio 30000 RTP/AVP 0\r\na=sendonly\r\n"));
    assert_eq!(parse(&out).unwrap().media[0].direction, Direction::SendOnly);
}

#[test]
fn rewrite_expresses_zero_address_hold_as_sendonly() {
    let body = crlf(&[
        "v=0",
        "o=- 1 2 IN IP4 10.0.0.1",
        "s=-",
        "c=IN IP4 0.0.0.0",
        "t=0 0",
        "m=audio 4000 RTP/AVP 0",
        "a=ptime:20",
        "m=audio 4002 RTP/AVP 0",
        "a=inactive",
        "m=audio 4004 RTP/AVP 0",
        "c=IN IP4 10.0.0.1",
    ]);
    let out = rewrite(&body, v4(192, 0, 2, 1), &[30000, 30002, 30004]).unwrap();
    assert_eq!(
        out,
        crlf(&[
            "v=0",
            "o=- 1 2 IN IP4 192.0.2.1",
            "s=-",
            "c=IN IP4 192.0.2.1",
            "t=0 0",
            "m=audio 30000 RTP/AVP 0",
            "a=ptime:20",
            "a=sendonly",
            "m=audio 30002 RTP/AVP 0",
            "a=inactive",
            "m=audio 30004 RTP/AVP 0",
            "c=IN IP4 192.0.2.1",
        ])
    );
    let sd = parse(&out).unwrap();
    let dirs: Vec<Direction> = sd.media.iter().map(|m| m.direction).collect();
    assert_eq!(
        dirs,
        vec![
            Direction::SendOnly,
            Direction::Inactive,
            Direction::SendRecv
        ]
    );
}

#[test]
fn rewrite_zero_address_hold_on_last_stream() {
    let body = crlf(&[
        "v=0",
        "o=- 1 2 IN IP4 10.0.0.1",
        "s=-",
        "t=0 0",
        "m=audio 4000 RTP/AVP 0",
        "c=IN IP4 0.0.0.0",
    ]);
    let out = rewrite(&body, v4(192, 0, 2, 1), &[30000]).unwrap();
    assert!(out.ends_with("m=audio 30000 RTP/AVP 0\r\nc=IN IP4 192.0.2.1\r\na=sendonly\r\n"));
}

#[test]
fn rewrite_adds_missing_connection() {
    let body = crlf(&[
        "v=0",
        "o=- 1 1 IN IP4 10.0.0.1",
        "s=-",
        "t=0 0",
        "m=audio 4000 RTP/AVP 0",
        "m=audio 4002 RTP/AVP 0",
        "c=IN IP4 10.0.0.2",
    ]);
    let out = rewrite(&body, v4(192, 0, 2, 1), &[30000, 30002]).unwrap();
    assert_eq!(
        out,
        crlf(&[
            "v=0",
            "o=- 1 1 IN IP4 192.0.2.1",
            "s=-",
            "c=IN IP4 192.0.2.1",
            "t=0 0",
            "m=audio 30000 RTP/AVP 0",
            "m=audio 30002 RTP/AVP 0",
            "c=IN IP4 192.0.2.1",
        ])
    );
    // No c= needed when every stream has its own.
    let covered = body.replace(
        "m=audio 4000 RTP/AVP 0\r\n",
        "m=audio 4000 RTP/AVP 0\r\nc=IN IP4 10.0.0.3\r\n",
    );
    let out = rewrite(&covered, v4(192, 0, 2, 1), &[30000, 30002]).unwrap();
    assert_eq!(out.matches("c=").count(), 2);
}

#[test]
fn rewrite_adds_connection_even_without_t_line() {
    let body = crlf(&[
        "v=0",
        "o=- 1 1 IN IP4 10.0.0.1",
        "s=-",
        "m=audio 4000 RTP/AVP 0",
    ]);
    let out = rewrite(&body, v4(192, 0, 2, 1), &[30000]).unwrap();
    assert_eq!(
        out,
        crlf(&[
            "v=0",
            "o=- 1 1 IN IP4 192.0.2.1",
            "s=-",
            "c=IN IP4 192.0.2.1",
            "m=audio 30000 RTP/AVP 0",
        ])
    );
}

#[test]
fn rewrite_with_too_few_ports_disables_extra_streams() {
    let body = crlf(&[
        "v=0",
        "o=- 1 1 IN IP4 10.0.0.1",
        "s=-",
        "c=IN IP4 10.0.0.1",
        "t=0 0",
        "m=audio 4000 RTP/AVP 0",
        "a=rtcp:4001",
    ]);
    let out = rewrite(&body, v4(192, 0, 2, 1), &[]).unwrap();
    assert!(out.ends_with("m=audio 0 RTP/AVP 0\r\n"));
}
