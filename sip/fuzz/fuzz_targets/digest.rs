//! Authorization and WWW-Authenticate values: parsing never panics, a parsed credential
//! prints and re-parses to the same value, and verifying it against a live authenticator
//! never panics whatever the fields hold.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sip::auth::{answer_challenge, parse_challenge, parse_credentials, Authenticator};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(creds) = parse_credentials(text) {
        let again = parse_credentials(&creds.to_string()).expect("printed credentials parse");
        assert_eq!(again, creds);
        let mut auth = Authenticator::new("fuzz".into(), [7; 32], 300);
        let _ = auth.verify(1_000, "INVITE", &creds, |_| Some("pw".into()));
    }
    if parse_challenge(text).is_ok() {
        let _ = answer_challenge(text, "REGISTER", "sip:x", "u", "p", "c", 1);
    }
});
