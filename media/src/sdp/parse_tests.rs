//! SDP parser cases, built from what real phones, gateways and WebRTC send.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use super::*;

/// Joins lines with CRLF, as SIP bodies are written.
pub(super) fn crlf(lines: &[&str]) -> String {
    let mut s = lines.join("\r\n");
    s.push_str("\r\n");
    s
}

pub(super) fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

pub(super) const BASIC: &[&str] = &[
    "v=0",
    "o=alice 2890844526 2890844526 IN IP4 10.0.0.1",
    "s=-",
    "c=IN IP4 10.0.0.1",
    "t=0 0",
    "m=audio 49170 RTP/AVP 0 8 101",
    "a=rtpmap:101 telephone-event/8000",
    "a=fmtp:101 0-15",
    "a=ptime:20",
];

#[test]
fn parses_basic_offer() {
    let sd = parse(&crlf(BASIC)).unwrap();
    assert_eq!(sd.origin_address, Some(v4(10, 0, 0, 1)));
    assert_eq!(sd.connection, Some(v4(10, 0, 0, 1)));
    assert_eq!(sd.direction, None);
    assert_eq!(sd.media.len(), 1);
    let m = &sd.media[0];
    assert_eq!(m.media, "audio");
    assert_eq!(m.port, 49170);
    assert_eq!(m.proto, "RTP/AVP");
    assert_eq!(m.formats, vec!["0", "8", "101"]);
    assert_eq!(m.connection, Some(v4(10, 0, 0, 1)));
    assert_eq!(m.direction, Direction::SendRecv);
    assert_eq!(m.direction_attribute, None);
    assert_eq!(m.rtcp_port, None);
    assert!(!m.rtcp_mux);
    assert!(!m.is_hold());
    assert_eq!(
        media_endpoints(&sd),
        vec![Some(SocketAddr::new(v4(10, 0, 0, 1), 49170))]
    );
}

#[test]
fn accepts_lf_only_and_missing_final_newline() {
    let lf = BASIC.join("\n");
    let sd = parse(&lf).unwrap();
    assert_eq!(sd, parse(&crlf(BASIC)).unwrap());
}

#[test]
fn media_level_connection_overrides_session_level() {
    let body = crlf(&[
        "v=0",
        "o=- 1 1 IN IP4 10.0.0.1",
        "s=-",
        "c=IN IP4 10.0.0.1",
        "t=0 0",
        "m=audio 4000 RTP/AVP 0",
        "c=IN IP4 192.0.2.7",
        "m=video 4002 RTP/AVP 96",
    ]);
    let sd = parse(&body).unwrap();
    assert_eq!(sd.media[0].connection, Some(v4(192, 0, 2, 7)));
    assert_eq!(sd.media[1].connection, Some(v4(10, 0, 0, 1)));
    assert_eq!(
        media_endpoints(&sd),
        vec![
            Some(SocketAddr::new(v4(192, 0, 2, 7), 4000)),
            Some(SocketAddr::new(v4(10, 0, 0, 1), 4002)),
        ]
    );
}

#[test]
fn ipv6_connection_and_rtcp() {
    let body = crlf(&[
        "v=0",
        "o=- 1 1 IN IP6 2001:db8::1",
        "s=-",
        "c=IN IP6 2001:db8::1",
        "t=0 0",
        "m=audio 5004 RTP/AVP 8",
        "a=rtcp:5005 IN IP6 2001:db8::1",
        "a=rtcp-mux",
    ]);
    let sd = parse(&body).unwrap();
    let ip: IpAddr = "2001:db8::1".parse().unwrap();
    assert_eq!(sd.origin_address, Some(ip));
    assert_eq!(sd.media[0].connection, Some(ip));
    assert_eq!(sd.media[0].rtcp_port, Some(5005));
    assert!(sd.media[0].rtcp_mux);
    assert_eq!(media_endpoints(&sd), vec![Some(SocketAddr::new(ip, 5004))]);
}

#[test]
fn multicast_ttl_is_ignored() {
    let body = crlf(&[
        "v=0",
        "o=- 1 1 IN IP4 host.example.com",
        "s=-",
        "c=IN IP4 224.2.1.1/127/3",
        "t=0 0",
        "m=audio 4000/2 RTP/AVP 0",
    ]);
    let sd = parse(&body).unwrap();
    assert_eq!(sd.origin_address, None, "a host name is not an IP");
    assert_eq!(sd.connection, Some(v4(224, 2, 1, 1)));
    assert_eq!(sd.media[0].port, 4000);
}

#[test]
fn directions_at_session_and_media_level() {
    let body = crlf(&[
        "v=0",
        "o=- 1 2 IN IP4 10.0.0.1",
        "s=-",
        "c=IN IP4 10.0.0.1",
        "t=0 0",
        "a=sendonly",
        "m=audio 4000 RTP/AVP 0",
        "m=audio 4002 RTP/AVP 0",
        "a=inactive",
        "m=audio 4004 RTP/AVP 0",
        "a=recvonly",
    ]);
    let sd = parse(&body).unwrap();
    assert_eq!(sd.direction, Some(Direction::SendOnly));
    let dirs: Vec<Direction> = sd.media.iter().map(|m| m.direction).collect();
    assert_eq!(
        dirs,
        vec![
            Direction::SendOnly,
            Direction::Inactive,
            Direction::RecvOnly
        ]
    );
    assert!(sd.media[0].is_hold());
    assert!(sd.media[1].is_hold());
    assert!(!sd.media[2].is_hold());
}

#[test]
fn zero_address_is_hold() {
    let body = crlf(&[
        "v=0",
        "o=- 1 2 IN IP4 10.0.0.1",
        "s=-",
        "c=IN IP4 0.0.0.0",
        "t=0 0",
        "m=audio 4000 RTP/AVP 0",
        "m=audio 4002 RTP/AVP 0",
        "a=recvonly",
    ]);
    let sd = parse(&body).unwrap();
    assert_eq!(sd.media[0].direction, Direction::SendOnly);
    assert_eq!(sd.media[0].direction_attribute, None);
    assert!(sd.media[0].is_hold());
    assert_eq!(sd.media[1].direction, Direction::Inactive);
    assert_eq!(media_endpoints(&sd), vec![None, None]);
}

#[test]
fn rejected_stream_and_missing_connection_have_no_endpoint() {
    let body = crlf(&[
        "v=0",
        "o=- 1 1 IN IP4 10.0.0.1",
        "s=-",
        "t=0 0",
        "m=audio 4000 RTP/AVP 0",
        "c=IN IP4 10.0.0.9",
        "m=video 0 RTP/AVP 96",
        "c=IN IP4 10.0.0.9",
        "m=audio 4004 RTP/AVP 0",
    ]);
    let sd = parse(&body).unwrap();
    assert_eq!(sd.connection, None);
    assert_eq!(sd.media[2].connection, None);
    assert_eq!(
        media_endpoints(&sd),
        vec![Some(SocketAddr::new(v4(10, 0, 0, 9), 4000)), None, None]
    );
}

#[test]
fn no_media_lines() {
    let sd = parse(&crlf(&["v=0", "o=- 1 1 IN IP4 10.0.0.1", "s=-", "t=0 0"])).unwrap();
    assert!(sd.media.is_empty());
    assert!(media_endpoints(&sd).is_empty());
}

#[test]
fn unknown_lines_and_attributes_are_accepted() {
    let body = crlf(&[
        "v=0",
        "o=- 1 1 IN IP4 10.0.0.1",
        "s=Talk",
        "i=info",
        "b=AS:64",
        "c=IN IP4 10.0.0.1",
        "t=0 0",
        "x=whatever",
        "a=group:BUNDLE 0",
        "m=audio 4000 RTP/SAVP 0",
        "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:abc",
        "a=rtcp",
    ]);
    // "a=rtcp" without a port is malformed.
    assert_eq!(
        parse(&body),
        Err(SdpError::Invalid {
            line: 12,
            what: "rtcp attribute (a=rtcp:)"
        })
    );
    let ok = body.replace("a=rtcp\r\n", "a=mid:0\r\n");
    assert_eq!(parse(&ok).unwrap().media[0].proto, "RTP/SAVP");
}

#[test]
fn bad_bodies_are_errors() {
    let cases: &[(&str, SdpError)] = &[
        ("", SdpError::Empty),
        ("\r\n\r\n", SdpError::Empty),
        (
            "o=- 1 1 IN IP4 10.0.0.1\r\nv=0\r\n",
            SdpError::MissingVersion,
        ),
        ("v=1\r\n", SdpError::MissingVersion),
        ("v=0\r\nhello\r\n", SdpError::Malformed { line: 2 }),
        ("v=0\r\n=x\r\n", SdpError::Malformed { line: 2 }),
        ("v=0\r\nA=x\r\n", SdpError::Malformed { line: 2 }),
        (
            "v=0\r\n c=IN IP4 1.2.3.4\r\n",
            SdpError::Malformed { line: 2 },
        ),
        (
            "v=0\r\nv=0\r\n",
            SdpError::Invalid {
                line: 2,
                what: "v= after the first line",
            },
        ),
        (
            "v=0\r\no=- 1 1 IN IP4\r\n",
            SdpError::Invalid {
                line: 2,
                what: "origin (o=)",
            },
        ),
        (
            "v=0\r\nc=IN IP4\r\n",
            SdpError::Invalid {
                line: 2,
                what: "connection (c=)",
            },
        ),
        (
            "v=0\r\nc=IN IP5 1.2.3.4\r\n",
            SdpError::Invalid {
                line: 2,
                what: "connection (c=)",
            },
        ),
        (
            "v=0\r\nc=XX IP4 1.2.3.4\r\n",
            SdpError::Invalid {
                line: 2,
                what: "connection (c=)",
            },
        ),
        (
            "v=0\r\nc=IN IP4 1.2.3.4 extra\r\n",
            SdpError::Invalid {
                line: 2,
                what: "connection (c=)",
            },
        ),
        (
            "v=0\r\nc=IN IP4 media.example.com\r\n",
            SdpError::UnsupportedAddress { line: 2 },
        ),
        (
            "v=0\r\nc=IN IP4 2001:db8::1\r\n",
            SdpError::UnsupportedAddress { line: 2 },
        ),
        (
            "v=0\r\nc=IN IP6 10.0.0.1\r\n",
            SdpError::UnsupportedAddress { line: 2 },
        ),
        (
            "v=0\r\nc=IN IP4 300.1.1.1\r\n",
            SdpError::UnsupportedAddress { line: 2 },
        ),
        (
            "v=0\r\nm=audio\r\n",
            SdpError::Invalid {
                line: 2,
                what: "media (m=)",
            },
        ),
        (
            "v=0\r\nm=audio 70000 RTP/AVP 0\r\n",
            SdpError::Invalid {
                line: 2,
                what: "media (m=)",
            },
        ),
        (
            "v=0\r\nm=audio -1 RTP/AVP 0\r\n",
            SdpError::Invalid {
                line: 2,
                what: "media (m=)",
            },
        ),
        (
            "v=0\r\nm=audio 4000/x RTP/AVP 0\r\n",
            SdpError::Invalid {
                line: 2,
                what: "media (m=)",
            },
        ),
        (
            "v=0\r\nm=audio 4000 RTP/AVP 0\r\na=rtcp:port\r\n",
            SdpError::Invalid {
                line: 3,
                what: "rtcp attribute (a=rtcp:)",
            },
        ),
    ];
    for (body, want) in cases {
        assert_eq!(parse(body).as_ref(), Err(want), "body {body:?}");
        assert_eq!(
            rewrite(body, v4(1, 1, 1, 1), &[1000]).as_ref(),
            Err(want),
            "rewrite of {body:?}"
        );
    }
}

#[test]
fn non_ascii_does_not_panic() {
    for body in [
        "v=0\r\né=1\r\n",
        "v=0\r\ns=Café ☕\r\n",
        "é",
        "v=0\r\nm=é 1 2 3\r\n",
    ] {
        let _ = parse(body);
        let _ = rewrite(body, v4(1, 1, 1, 1), &[2000]);
    }
}

#[test]
fn direction_helpers() {
    for d in [
        Direction::SendRecv,
        Direction::SendOnly,
        Direction::RecvOnly,
        Direction::Inactive,
    ] {
        assert_eq!(Direction::from_attribute(d.as_str()), Some(d));
        assert_eq!(d.reversed().reversed(), d);
        assert_eq!(d.reversed().sends(), d.receives());
    }
    assert_eq!(Direction::from_attribute("rtcp-mux"), None);
}

#[test]
fn telephone_event_of_the_first_audio_stream() {
    use crate::sdp::telephone_event;
    let sdp = "v=0\r\nm=audio 4000 RTP/AVP 0 96\r\na=rtpmap:0 PCMU/8000\r\n\
               a=rtpmap:96 telephone-event/8000\r\na=fmtp:96 0-15\r\n\
               m=video 5000 RTP/AVP 97\r\na=rtpmap:97 telephone-event/8000\r\n";
    assert_eq!(telephone_event(sdp), Some(96));
    assert_eq!(
        telephone_event("v=0\nm=audio 4000 RTP/AVP 8\na=rtpmap:8 PCMA/8000\n"),
        None
    );
    assert_eq!(
        telephone_event("v=0\nm=video 1 RTP/AVP 97\na=rtpmap:97 telephone-event/8000\n"),
        None
    );
    assert_eq!(
        telephone_event("m=audio 1 RTP/AVP 200\na=rtpmap:200 telephone-event/8000\n"),
        None
    );
}
