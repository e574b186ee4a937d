//! One datagram: parse it; a request goes through validation and its rejection prints as a
//! response that parses; whatever parsed prints and re-parses to a fixed point; what did not
//! parse gets an answer (if any) that parses as a response.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sip::validate::{reject_unparseable, response_for, validate_request, Policy};
use sip::{parse_datagram, Message};

fuzz_target!(|data: &[u8]| {
    match parse_datagram(data) {
        Ok(m) => {
            if let Message::Request(r) = &m {
                if let Err(rej) = validate_request(r, &Policy::default()) {
                    let resp = response_for(r, &rej, Some("fuzz")).to_bytes();
                    assert!(matches!(parse_datagram(&resp), Ok(Message::Response(_))));
                }
            }
            let printed = m.to_bytes();
            let again = parse_datagram(&printed).expect("a printed message parses");
            assert_eq!(again.to_bytes(), printed, "printing is not stable");
        }
        Err(e) => {
            if let Some(resp) = reject_unparseable(data, &e) {
                assert!(matches!(parse_datagram(&resp), Ok(Message::Response(_))));
            }
        }
    }
});
