//! A byte stream fed to the framer in chunks: the first bytes of the input choose the chunk
//! sizes, the rest is the stream. The framer must frame the same messages (up to the first
//! error, after which a connection is closed) as when the stream arrives in one piece, and
//! every framed message must print and re-parse.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sip::validate::{validate_request, Policy};
use sip::{parse_datagram, Framer, Message, WireError};

fn frame(chunks: &[&[u8]]) -> Vec<Result<Message, WireError>> {
    let mut framer = Framer::new();
    let mut out = Vec::new();
    for chunk in chunks {
        framer.push(chunk);
        while let Some(m) = framer.next_message() {
            let failed = m.is_err();
            out.push(m);
            if failed {
                return out;
            }
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let (sizes, stream) = data.split_at(data.len().min(8));
    let mut chunks = Vec::new();
    let mut rest = stream;
    let mut i = 0;
    while !rest.is_empty() {
        let size = sizes
            .get(i % sizes.len().max(1))
            .map_or(rest.len(), |&s| s as usize + 1);
        let (chunk, tail) = rest.split_at(size.min(rest.len()));
        chunks.push(chunk);
        rest = tail;
        i += 1;
    }
    let chunked = frame(&chunks);
    assert_eq!(
        chunked,
        frame(&[stream]),
        "framing depends on how the stream was cut"
    );
    for m in chunked.into_iter().flatten() {
        if let Message::Request(r) = &m {
            let _ = validate_request(r, &Policy::default());
        }
        parse_datagram(&m.to_bytes()).expect("a framed message prints and re-parses");
    }
});
