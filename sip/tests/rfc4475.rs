//! The RFC 4475 torture corpus (`tests/rfc4475/NAME.dat` + `NAME.expect`, see its README)
//! run through what the server does with a datagram: [`parse_datagram`], then
//! [`validate_request`] on a request, or [`reject_unparseable`] when it does not parse.
//!
//! The policy is the softswitch's, [`Policy::default`]: a B2BUA that relays requests between
//! legs (so `proxy_like`: Max-Forwards 0 gets 483 and Proxy-Require tags are checked), that
//! is its own registrar (`registrar`), that implements no option tag a peer could require
//! (`supported` is empty) and that takes only SDP in INVITE/UPDATE/PRACK (`accept_body` is
//! `application/sdp`). Where the RFC's answer depends on the role, the corpus verdict is the
//! one for this role (see the corpus README).
//!
//! Unknown methods (`intmeth`, `esc02`) pass validation: the transaction user answers them
//! 501 with Allow, as the corpus says a UAS does; the test checks they parse as extension
//! methods. `mismatch02` (unknown method and a CSeq naming another) gets 501 from validation.
//!
//! Every message, its truncations at every 7th byte and a one-bit mutation of every byte
//! also go through the parser, the validator, the stream framer, the printer and the
//! unparseable-request answer, which must never panic.

use sip::validate::{reject_unparseable, response_for, validate_request, Policy};
use sip::{parse_datagram, Framer, Message, Method, Scheme, WireError};
use std::path::PathBuf;

const CORPUS_SIZE: usize = 49;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    Valid,
    Respond(u16),
    Invalid(u16),
    Drop,
}

struct Case {
    name: String,
    data: Vec<u8>,
    verdict: Verdict,
}

fn corpus_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/rfc4475")
}

fn corpus() -> Vec<Case> {
    let mut names: Vec<String> = std::fs::read_dir(corpus_dir())
        .expect("corpus directory")
        .map(|e| e.expect("directory entry").file_name())
        .filter_map(|n| {
            n.to_str()
                .and_then(|n| n.strip_suffix(".dat"))
                .map(String::from)
        })
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|name| {
            let dir = corpus_dir();
            let data = std::fs::read(dir.join(format!("{name}.dat"))).expect("read .dat");
            let expect = std::fs::read_to_string(dir.join(format!("{name}.expect")))
                .unwrap_or_else(|e| panic!("{name}.expect: {e}"));
            let first = expect.lines().next().unwrap_or_default();
            let code = |s: &str| -> u16 {
                s.trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("{name}.expect: bad code in {first:?}"))
            };
            let verdict = match first.split_once(' ') {
                None if first == "valid" => Verdict::Valid,
                None if first == "drop" => Verdict::Drop,
                Some(("respond", c)) => Verdict::Respond(code(c)),
                Some(("invalid", c)) => Verdict::Invalid(code(c)),
                _ => panic!("{name}.expect: unknown verdict {first:?}"),
            };
            Case {
                name,
                data,
                verdict,
            }
        })
        .collect()
}

/// What the server does with one datagram.
#[derive(Debug)]
enum Outcome {
    /// A request that passed validation, or a response, handed on.
    Process(Box<Message>),
    /// Answered with this response (a status code and the bytes sent).
    Answer(u16, Vec<u8>, Stage),
    /// Discarded without an answer.
    Dropped(Option<WireError>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Wire,
    Validation,
}

fn receive(data: &[u8], policy: &Policy) -> Outcome {
    match parse_datagram(data) {
        Err(WireError::KeepAlive) => Outcome::Dropped(None),
        Err(e) => match reject_unparseable(data, &e) {
            Some(bytes) => {
                let code = status_of(&bytes);
                Outcome::Answer(code, bytes, Stage::Wire)
            }
            None => Outcome::Dropped(Some(e)),
        },
        Ok(Message::Request(r)) => match validate_request(&r, policy) {
            Ok(()) => Outcome::Process(Box::new(Message::Request(r))),
            Err(rej) => {
                let resp = response_for(&r, &rej, Some("t1"));
                Outcome::Answer(rej.code, resp.to_bytes(), Stage::Validation)
            }
        },
        Ok(m @ Message::Response(_)) => Outcome::Process(Box::new(m)),
    }
}

fn status_of(resp: &[u8]) -> u16 {
    match parse_datagram(resp) {
        Ok(Message::Response(r)) => r.code,
        other => panic!(
            "answer does not parse as a response: {other:?}\n{}",
            String::from_utf8_lossy(resp)
        ),
    }
}

#[test]
fn corpus_is_complete() {
    let cases = corpus();
    assert_eq!(cases.len(), CORPUS_SIZE, "a corpus file is missing or new");
    for c in &cases {
        assert!(!c.data.is_empty(), "{} is empty", c.name);
    }
}

#[test]
fn corpus_verdicts() {
    let policy = Policy::default();
    let mut failures = Vec::new();
    println!("{:<11} {:<13} outcome", "message", "verdict");
    for case in corpus() {
        let outcome = receive(&case.data, &policy);
        let shown = match &outcome {
            Outcome::Process(m) => match &**m {
                Message::Request(r) => format!("processed ({} request)", r.method),
                Message::Response(r) => format!("processed ({} response)", r.code),
            },
            Outcome::Answer(code, _, Stage::Wire) => format!("{code} (parse error)"),
            Outcome::Answer(code, bytes, Stage::Validation) => format!(
                "{code} (validation: {})",
                String::from_utf8_lossy(bytes)
                    .lines()
                    .next()
                    .unwrap_or_default()
            ),
            Outcome::Dropped(e) => format!("dropped ({e:?})"),
        };
        println!(
            "{:<11} {:<13} {shown}",
            case.name,
            format!("{:?}", case.verdict)
        );
        let ok = match (case.verdict, &outcome) {
            (Verdict::Valid, Outcome::Process(_)) => true,
            (Verdict::Respond(want) | Verdict::Invalid(want), Outcome::Answer(code, ..)) => {
                *code == want
            }
            // A response is never answered: dropping it or handing it to the transaction
            // layer (which finds no transaction and discards it) both meet `drop`.
            (Verdict::Drop, Outcome::Dropped(_)) => true,
            (Verdict::Drop, Outcome::Process(m)) => matches!(**m, Message::Response(_)),
            _ => false,
        };
        if !ok {
            failures.push(format!(
                "{}: want {:?}, got {shown}",
                case.name, case.verdict
            ));
        }
        if let Outcome::Answer(code, bytes, _) = &outcome {
            check_answer(&case, *code, bytes);
        }
        if let Outcome::Process(m) = &outcome {
            check_details(&case.name, m);
        }
    }
    assert!(
        failures.is_empty(),
        "verdicts differ:\n{}",
        failures.join("\n")
    );
}

/// The answer is a well-formed response to that request.
fn check_answer(case: &Case, code: u16, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    assert!(
        text.starts_with(&format!("SIP/2.0 {code} ")),
        "{}: {text}",
        case.name
    );
    let Ok(Message::Response(resp)) = parse_datagram(bytes) else {
        panic!("{}: answer does not parse: {text}", case.name)
    };
    let req = String::from_utf8_lossy(&case.data);
    if let Some(call_id) = resp.headers.call_id() {
        assert!(req.contains(call_id), "{}: Call-ID not copied", case.name);
    }
    if let Some(to) = resp.headers.get("To") {
        // A To that does not parse (the fault being answered) still gets a tag appended.
        let tagged = match resp.headers.to() {
            Ok(to) => to.tag().is_some(),
            Err(_) => to.contains(";tag="),
        };
        assert!(tagged, "{}: no To tag in {text}", case.name);
    }
}

/// Invalid messages that fail to parse carry the headers an answer needs, so they must get
/// one (RFC 4475 asks for 400 "if it can").
#[test]
fn unparseable_requests_are_answered() {
    for case in corpus() {
        let (Verdict::Invalid(want) | Verdict::Respond(want)) = case.verdict else {
            continue;
        };
        if let Err(e) = parse_datagram(&case.data) {
            assert_eq!(e.status().map(|s| s.0), Some(want), "{}: {e}", case.name);
            let resp = reject_unparseable(&case.data, &e)
                .unwrap_or_else(|| panic!("{}: no answer to {e}", case.name));
            assert!(
                resp.starts_with(format!("SIP/2.0 {want} ").as_bytes()),
                "{}",
                case.name
            );
        }
    }
}

fn req(m: &Message) -> &sip::Request {
    match m {
        Message::Request(r) => r,
        Message::Response(_) => panic!("expected a request"),
    }
}

/// What RFC 4475 says the valid messages mean, beyond "it parses".
fn check_details(name: &str, m: &Message) {
    let h = m.headers();
    match name {
        "wsinv" => {
            let r = req(m);
            assert_eq!(r.method, Method::Invite);
            assert_eq!(r.uri.param("unknownparam"), Some(None));
            assert_eq!(h.to().unwrap().tag(), Some("1918181833n"));
            let from = h.from().unwrap();
            assert_eq!(from.display.as_deref(), Some("J Rosenberg \\\""));
            assert_eq!(from.tag(), Some("98asjd8"));
            assert_eq!(h.max_forwards().unwrap(), Some(68));
            assert_eq!(h.cseq().unwrap().seq, 9);
            let vias = h.vias().unwrap();
            assert_eq!(vias.len(), 3);
            assert_eq!(vias[0].branch(), Some("390skdjuw"));
            assert_eq!(vias[1].transport, "TCP");
            assert_eq!(vias[1].host, "spindle.example.com");
            assert_eq!(vias[2].branch(), Some("z9hG4bK30239"));
            assert_eq!(h.get("Subject"), Some(""));
            assert_eq!(
                h.get("NewFangledHeader"),
                Some("newfangled value continued newfangled value")
            );
            let c = &h.contacts().unwrap()[0];
            assert_eq!(c.display.as_deref(), Some("Quoted string \"\""));
            assert_eq!(c.param("newparam"), Some(Some("newvalue")));
            assert_eq!(c.param("secondparam"), Some(None));
            assert_eq!(c.param("q"), Some(Some("0.33")));
            assert_eq!(r.body.len(), 150);
        }
        "intmeth" => {
            let r = req(m);
            let method = "!interesting-Method0123456789_*+`.%indeed'~";
            assert_eq!(r.method, Method::Other(method.into()));
            assert_eq!(h.cseq().unwrap().method, r.method);
            assert_eq!(
                r.uri.user.as_deref(),
                Some("1_unusual.URI~(to-be!sure)&isn't+it$/crazy?,/;;*")
            );
            assert_eq!(
                r.uri.password.as_deref(),
                Some("&it+has=1,weird!*pas$wo~d_too.(doesn't-it)")
            );
            let to = h.to().unwrap();
            assert_eq!(to.display.as_deref(), Some("BEL:\x07 NUL:\0 DEL:\x7f"));
            let from = h.from().unwrap();
            assert_eq!(
                from.display.as_deref(),
                Some("token1~` token2'+_ token3*%!.-")
            );
            assert_eq!(from.tag(), Some("_token~1'+`*%!-."));
            assert!(h.get("extensionHeader-!.%*+_`'~").is_some());
        }
        "esc01" => {
            let r = req(m);
            assert_eq!(
                r.uri.user_unescaped().as_deref(),
                Some("sips:user@example.com")
            );
            assert_eq!(
                h.to().unwrap().uri.user_unescaped().as_deref(),
                Some("user")
            );
            let c = &h.contacts().unwrap()[0];
            let v = c.uri.param("n%61me").unwrap().unwrap();
            // Unescaped once, never twice: value%41, not valueA.
            assert_eq!(sip::uri::unescape(v), "value%41");
        }
        "escnull" => {
            let to = h.to().unwrap();
            assert_eq!(to.uri.user_unescaped().as_deref(), Some("null-\0-null"));
            let users: Vec<String> = h
                .contacts()
                .unwrap()
                .iter()
                .map(|c| c.uri.user_unescaped().unwrap())
                .collect();
            assert_eq!(users, ["\0", "\0\0"]);
        }
        "esc02" => {
            let r = req(m);
            assert_eq!(r.method, Method::Other("RE%47IST%45R".into()));
            assert_eq!(h.contacts().unwrap().len(), 2);
            assert!(h.get("C%6Fntact").is_some());
            assert_eq!(h.to().unwrap().display.as_deref(), Some("%Z%45"));
        }
        "lwsdisp" => assert_eq!(h.from().unwrap().display.as_deref(), Some("caller")),
        "longreq" => {
            assert_eq!(h.vias().unwrap().len(), 34);
            assert!(h.to().unwrap().display.unwrap().len() > 100);
            assert!(h.from().unwrap().tag().unwrap().len() > 100);
            assert!(h.call_id().unwrap().len() > 100);
        }
        "dblreq" => {
            let r = req(m);
            assert_eq!(r.method, Method::Register);
            assert!(r.body.is_empty());
        }
        "semiuri" => {
            let r = req(m);
            assert_eq!(
                r.uri.user_unescaped().as_deref(),
                Some("user;par=u@example.net")
            );
            assert_eq!(r.uri.host, "example.com");
            assert!(r.uri.params.is_empty());
        }
        "transports" => {
            let t: Vec<String> = h.vias().unwrap().into_iter().map(|v| v.transport).collect();
            assert_eq!(t, ["UDP", "SCTP", "TLS", "UNKNOWN", "TCP"]);
        }
        "mpart01" => {
            let r = req(m);
            assert_eq!(r.body.len(), 553);
            assert!(r.body.contains(&0));
        }
        "unreason" => {
            let Message::Response(r) = m else { panic!() };
            assert_eq!(r.code, 200);
            assert!(!r.reason.is_ascii());
            assert_eq!(r.body.len(), 154);
        }
        "noreason" => {
            let Message::Response(r) = m else { panic!() };
            assert_eq!((r.code, r.reason.as_str()), (100, ""));
        }
        "badbranch" => assert_eq!(h.top_via().unwrap().branch(), Some("z9hG4bK")),
        "regaut01" => assert!(h
            .get("Authorization")
            .unwrap()
            .starts_with("NoOneKnowsThisScheme")),
        "cparam01" => {
            let c = &h.contacts().unwrap()[0];
            assert!(c.uri.params.is_empty());
            assert_eq!(c.param("unknownparam"), Some(None));
        }
        "cparam02" => {
            let c = &h.contacts().unwrap()[0];
            assert_eq!(c.uri.param("unknownparam"), Some(None));
            assert!(c.params.is_empty());
        }
        "regescrt" => {
            let c = &h.contacts().unwrap()[0];
            assert_eq!(
                c.uri.headers.as_deref(),
                Some("Route=%3Csip:sip.example.com%3E")
            );
        }
        "inv2543" => {
            let r = req(m);
            assert!(!h.has("Content-Length") && !h.has("Max-Forwards"));
            assert_eq!(h.top_via().unwrap().branch(), None);
            assert_eq!(h.from().unwrap().tag(), None);
            assert!(r.body.starts_with(b"v=0") && r.body.ends_with(b"RTP/AVP 0\r\n"));
            assert_eq!(h.to().unwrap().uri.scheme, Scheme::Sip);
        }
        _ => {}
    }
}

/// Everything the server does with bytes, on one input; panics are the failure.
fn exercise(data: &[u8], policy: &Policy) {
    match parse_datagram(data) {
        Ok(m) => {
            // Printing and re-parsing reaches a fixed point after one round.
            let printed = m.to_bytes();
            let again = parse_datagram(&printed)
                .unwrap_or_else(|e| panic!("printed message does not parse: {e}"));
            assert_eq!(again.to_bytes(), printed, "printing is not stable");
            if let Message::Request(r) = &m {
                if let Err(rej) = validate_request(r, policy) {
                    let resp = response_for(r, &rej, Some("x")).to_bytes();
                    assert!(matches!(parse_datagram(&resp), Ok(Message::Response(_))));
                }
            }
        }
        Err(e) => {
            if let Some(resp) = reject_unparseable(data, &e) {
                assert!(matches!(parse_datagram(&resp), Ok(Message::Response(_))));
            }
        }
    }
    // A stream read in one piece or in two frames the same messages (up to the first
    // error, after which the connection is closed).
    let whole = frame(&[data], policy);
    let mid = data.len() / 2;
    let split = frame(&[&data[..mid], &data[mid..]], policy);
    assert_eq!(whole, split, "framing depends on how the stream was cut");
}

fn frame(chunks: &[&[u8]], policy: &Policy) -> Vec<Result<Message, WireError>> {
    let mut framer = Framer::new();
    let mut out = Vec::new();
    for chunk in chunks {
        framer.push(chunk);
        while let Some(m) = framer.next_message() {
            if let Ok(Message::Request(r)) = &m {
                let _ = validate_request(r, policy);
            }
            let failed = m.is_err();
            out.push(m);
            if failed {
                return out;
            }
        }
    }
    out
}

/// One input of the mutation pass.
#[derive(Clone, Copy, Debug)]
enum Mutation {
    AsIs,
    /// The first n bytes.
    Truncate(usize),
    /// Byte i with one bit flipped; the bit moves with the position, so every bit is
    /// flipped somewhere.
    Flip(usize),
}

#[test]
fn mutations_never_panic() {
    let cases = corpus();
    let mut work: Vec<(&Case, Mutation)> = Vec::new();
    for case in &cases {
        work.push((case, Mutation::AsIs));
        work.extend(
            (0..case.data.len())
                .step_by(7)
                .map(|n| (case, Mutation::Truncate(n))),
        );
        work.extend((0..case.data.len()).map(|i| (case, Mutation::Flip(i))));
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| {
                let policy = Policy::default();
                while let Some(&(case, m)) =
                    work.get(next.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
                {
                    let data = match m {
                        Mutation::AsIs => case.data.clone(),
                        Mutation::Truncate(n) => case.data[..n].to_vec(),
                        Mutation::Flip(i) => {
                            let mut d = case.data.clone();
                            d[i] ^= 1 << (i % 8);
                            d
                        }
                    };
                    if std::panic::catch_unwind(|| exercise(&data, &policy)).is_err() {
                        panic!(
                            "{} ({m:?}) panicked on {:?}",
                            case.name,
                            String::from_utf8_lossy(&data)
                        );
                    }
                }
            });
        }
    });
}
