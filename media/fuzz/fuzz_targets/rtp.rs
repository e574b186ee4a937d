//! RTP packets and WAV files from outside: parsing never panics.

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = media::rtp::parse(data) {
        assert!(p.payload.len() <= data.len());
    }
    let _ = media::wav::decode(data);
});
