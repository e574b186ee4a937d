//! Printing and parsing are inverse: any message this stack can build prints to bytes that
//! parse back to the same message (Content-Length aside: printing always recomputes it), and
//! the stream framer finds the same messages however a byte stream is cut.

use proptest::prelude::*;
use sip::{
    parse_datagram, CSeq, Framer, Headers, Message, Method, NameAddr, Request, Response, Scheme,
    Uri, Via,
};
use std::net::{Ipv4Addr, Ipv6Addr};

fn method() -> impl Strategy<Value = Method> {
    let known = prop::sample::select(vec![
        "INVITE",
        "ACK",
        "BYE",
        "CANCEL",
        "REGISTER",
        "OPTIONS",
        "INFO",
        "UPDATE",
        "PRACK",
        "SUBSCRIBE",
        "NOTIFY",
        "REFER",
        "MESSAGE",
        "PUBLISH",
    ])
    .prop_map(String::from);
    prop_oneof![known, token()].prop_map(|m| Method::from_token(&m))
}

/// RFC 3261 token.
fn token() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9.!%*_+`'~-]{1,12}"
}

fn host() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z][a-z0-9-]{0,10}(\\.[a-z][a-z0-9-]{0,10}){0,3}",
        any::<[u8; 4]>().prop_map(|o| Ipv4Addr::from(o).to_string()),
        any::<[u16; 8]>().prop_map(|s| format!("[{}]", Ipv6Addr::from(s))),
    ]
}

/// `name[=value]` URI parameters: unreserved characters and escapes.
fn uri_params() -> impl Strategy<Value = Vec<(String, Option<String>)>> {
    prop::collection::vec(
        (
            "[a-zA-Z0-9_.!~*'-]{1,8}",
            prop::option::of("([a-zA-Z0-9_.!~*'-]|%[0-9A-F]{2}){1,8}"),
        ),
        0..4,
    )
}

fn sip_uri() -> impl Strategy<Value = Uri> {
    (
        any::<bool>(),
        // user = 1*( unreserved / escaped / user-unreserved ), RFC 3261 §25.1
        prop::option::of("([a-zA-Z0-9_.!~*'()&=+$,;?/-]|%[0-9A-Fa-f]{2}){1,16}"),
        prop::option::of("([a-zA-Z0-9_.!~*'()&=+$,-]|%[0-9A-F]{2}){0,8}"),
        host(),
        prop::option::of(any::<u16>()),
        uri_params(),
        prop::option::of("[a-zA-Z0-9_.!~*'()/?:+$-]{1,8}=[a-zA-Z0-9_.!~*'()/?:+$%-]{0,8}"),
    )
        .prop_map(|(sips, user, password, host, port, params, headers)| Uri {
            scheme: if sips { Scheme::Sips } else { Scheme::Sip },
            password: password.filter(|_| user.is_some()),
            user,
            host,
            port,
            params,
            headers,
            opaque: None,
        })
}

fn tel_uri() -> impl Strategy<Value = Uri> {
    ("\\+?[0-9][0-9.()-]{0,14}", uri_params()).prop_map(|(number, params)| Uri {
        scheme: Scheme::Tel,
        user: Some(number),
        password: None,
        host: String::new(),
        port: None,
        params,
        headers: None,
        opaque: None,
    })
}

fn uri() -> impl Strategy<Value = Uri> {
    prop_oneof![3 => sip_uri(), 1 => tel_uri()]
}

/// Header parameters: token names, token or quoted-string values.
fn header_params() -> impl Strategy<Value = Vec<(String, Option<String>)>> {
    prop::collection::vec(
        (
            token(),
            prop::option::of(prop_oneof![
                token(),
                "[a-zA-Z0-9 ;,=:@<>]{0,10}".prop_map(|v| format!("\"{v}\"")),
            ]),
        ),
        0..3,
    )
}

fn name_addr() -> impl Strategy<Value = NameAddr> {
    (
        // Display names with characters that need quoting and escaping, and UTF-8.
        prop::option::of("[a-zA-Z0-9 ,;:<>@\"\\\\'()éß日本]{0,16}"),
        uri(),
        prop::option::of("[a-zA-Z0-9_.!~*'-]{1,12}"),
        header_params(),
    )
        .prop_map(|(display, uri, tag, params)| {
            let mut na = NameAddr::new(uri);
            na.display = display;
            na.params = params
                .into_iter()
                .filter(|(n, _)| !n.eq_ignore_ascii_case("tag"))
                .collect();
            if let Some(t) = tag {
                na.params.insert(0, ("tag".into(), Some(t)));
            }
            na
        })
}

fn via() -> impl Strategy<Value = Via> {
    (
        prop_oneof![
            prop::sample::select(vec!["UDP", "TCP", "TLS", "SCTP", "WS", "WSS"])
                .prop_map(String::from),
            "[A-Z][A-Z0-9-]{0,6}",
        ],
        host(),
        prop::option::of(any::<u16>()),
        "[a-zA-Z0-9]{1,12}",
        prop::collection::vec((token(), prop::option::of(token())), 0..3),
    )
        .prop_map(|(transport, host, port, branch, extra)| {
            let mut params = vec![("branch".to_string(), Some(format!("z9hG4bK{branch}")))];
            params.extend(
                extra
                    .into_iter()
                    .filter(|(n, _)| !n.eq_ignore_ascii_case("branch")),
            );
            Via {
                transport,
                host,
                port,
                params,
            }
        })
}

/// Extension headers: names that no well-known or compact name can collide with, values
/// without CR/LF or surrounding LWS (the parser drops LWS around a value).
fn extra_headers() -> impl Strategy<Value = Vec<(String, String)>> {
    prop::collection::vec(
        (
            "X-[A-Za-z0-9.!%*_+`'~-]{1,10}",
            "[^\r\n]{0,30}".prop_map(|v| v.trim_matches([' ', '\t']).to_string()),
        ),
        0..5,
    )
}

/// Everything but the start line: Via, From, To, Call-ID, CSeq, Contact, extensions.
#[derive(Debug, Clone)]
struct Parts {
    vias: Vec<Via>,
    from: NameAddr,
    to: NameAddr,
    call_id: String,
    cseq: u32,
    contacts: Vec<NameAddr>,
    extra: Vec<(String, String)>,
    body: Vec<u8>,
}

fn parts() -> impl Strategy<Value = Parts> {
    (
        prop::collection::vec(via(), 1..4),
        name_addr(),
        name_addr(),
        "[a-zA-Z0-9.!%*_+`'~()<>:\\\\\"/\\[\\]?{}-]{1,20}(@[a-z0-9.]{1,10})?",
        0u32..(1 << 31),
        prop::collection::vec(name_addr(), 0..3),
        extra_headers(),
        prop::collection::vec(any::<u8>(), 0..200),
    )
        .prop_map(
            |(vias, from, to, call_id, cseq, contacts, extra, body)| Parts {
                vias,
                from,
                to,
                call_id,
                cseq,
                contacts,
                extra,
                body,
            },
        )
}

fn headers(p: &Parts, method: &Method) -> Headers {
    let mut h = Headers::new();
    for v in &p.vias {
        h.push("Via", v.to_string());
    }
    h.push("From", p.from.to_string());
    h.push("To", p.to.to_string());
    h.push("Call-ID", p.call_id.clone());
    h.push(
        "CSeq",
        CSeq {
            seq: p.cseq,
            method: method.clone(),
        }
        .to_string(),
    );
    for c in &p.contacts {
        h.push("Contact", c.to_string());
    }
    for (n, v) in &p.extra {
        h.push(n, v.clone());
    }
    h
}

fn request() -> impl Strategy<Value = (Request, Parts)> {
    (method(), uri(), parts()).prop_map(|(method, uri, p)| {
        let mut r = Request::new(method, uri);
        r.headers = headers(&p, &r.method);
        r.body = p.body.clone();
        (r, p)
    })
}

fn response() -> impl Strategy<Value = (Response, Parts)> {
    (100u16..700, "[^\r\n]{0,20}", method(), parts()).prop_map(|(code, reason, method, p)| {
        let r = Response {
            code,
            reason,
            headers: headers(&p, &method),
            body: p.body.clone(),
        };
        (r, p)
    })
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        request().prop_map(|(r, _)| Message::Request(r)),
        response().prop_map(|(r, _)| Message::Response(r)),
    ]
}

/// The message as parsed, without the Content-Length the printer added.
fn without_length(mut m: Message) -> Message {
    m.headers_mut().remove("Content-Length");
    m
}

/// The typed values read back from the parsed headers equal the ones generated.
fn check_typed(h: &Headers, p: &Parts) {
    assert_eq!(h.vias().unwrap(), p.vias);
    assert_eq!(h.from().unwrap(), p.from);
    assert_eq!(h.to().unwrap(), p.to);
    assert_eq!(h.call_id(), Some(p.call_id.as_str()));
    assert_eq!(h.cseq().unwrap().seq, p.cseq);
    assert_eq!(h.contacts().unwrap(), p.contacts);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn uri_roundtrip(u in uri()) {
        prop_assert_eq!(Uri::parse(&u.to_string()).unwrap(), u);
    }

    #[test]
    fn request_roundtrip((r, p) in request()) {
        let bytes = r.to_bytes();
        let parsed = parse_datagram(&bytes)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bytes)));
        let Message::Request(parsed_req) = &parsed else { panic!("not a request") };
        prop_assert_eq!(&parsed_req.uri, &r.uri);
        prop_assert_eq!(&parsed_req.method, &r.method);
        prop_assert_eq!(parsed_req.headers.cseq().unwrap().method, r.method.clone());
        check_typed(&parsed_req.headers, &p);
        prop_assert_eq!(without_length(parsed), Message::Request(r));
    }

    #[test]
    fn response_roundtrip((r, p) in response()) {
        let bytes = r.to_bytes();
        let parsed = parse_datagram(&bytes)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&bytes)));
        let Message::Response(parsed_resp) = &parsed else { panic!("not a response") };
        check_typed(&parsed_resp.headers, &p);
        prop_assert_eq!(without_length(parsed), Message::Response(r));
    }

    #[test]
    fn framer_splits_a_stream(
        msgs in prop::collection::vec((message(), any::<bool>()), 1..5),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..8),
    ) {
        let mut stream = Vec::new();
        for (m, keepalive) in &msgs {
            if *keepalive {
                stream.extend_from_slice(b"\r\n\r\n");
            }
            stream.extend_from_slice(&m.to_bytes());
        }
        let mut cuts: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
        cuts.push(stream.len());
        cuts.sort_unstable();
        let mut framer = Framer::new();
        let mut got = Vec::new();
        let mut at = 0;
        for cut in cuts {
            framer.push(&stream[at..cut]);
            at = cut;
            while let Some(m) = framer.next_message() {
                got.push(without_length(m.expect("framed message parses")));
            }
        }
        prop_assert_eq!(framer.buffered(), 0);
        let want: Vec<Message> = msgs.into_iter().map(|(m, _)| m).collect();
        prop_assert_eq!(got, want);
    }
}
