//! SDP bodies from the network: parsing and rewriting never panic, and a rewritten body
//! parses again with our address and ports in it.

#![no_main]

use libfuzzer_sys::fuzz_target;
use std::net::{IpAddr, Ipv4Addr};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(sd) = media::sdp::parse(text) else {
        return;
    };
    let _ = media::sdp::media_endpoints(&sd);
    let ip = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    let ports: Vec<u16> = (0..sd.media.len()).map(|i| 20_000 + 2 * i as u16).collect();
    if let Ok(out) = media::sdp::rewrite(text, ip, &ports) {
        let again = media::sdp::parse(&out).expect("a rewritten SDP parses");
        assert_eq!(again.media.len(), sd.media.len());
    }
});
