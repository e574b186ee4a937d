use super::*;
use proptest::prelude::*;

const KEY: &str = "WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz";

#[test]
fn parses_rfc4568_lines() {
    let c = parse_crypto(&format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY}|2^20|1:4"));
    assert_eq!(c, Err(CryptoError::Mki));
    let c = parse_crypto(&format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY}|2^31")).unwrap();
    assert_eq!(c.tag, 1);
    assert_eq!(c.key.suite, Suite::AesCm128HmacSha1_80);
    let c = parse_crypto(&format!("12 AES_CM_128_HMAC_SHA1_32 inline:{KEY}")).unwrap();
    assert_eq!((c.tag, c.key.suite), (12, Suite::AesCm128HmacSha1_32));
    assert_eq!(
        format_crypto(12, &c.key),
        format!("12 AES_CM_128_HMAC_SHA1_32 inline:{KEY}")
    );
}

#[test]
fn refuses_what_we_do_not_support() {
    let cases = [
        ("", CryptoError::Malformed),
        ("1", CryptoError::Malformed),
        (
            "x AES_CM_128_HMAC_SHA1_80 inline:AAAA",
            CryptoError::Malformed,
        ),
        (
            "1 AEAD_AES_256_GCM inline:AAAA",
            CryptoError::UnsupportedSuite,
        ),
        (
            "1 F8_128_HMAC_SHA1_80 inline:AAAA",
            CryptoError::UnsupportedSuite,
        ),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:AAAA", CryptoError::BadKey),
        ("1 AES_CM_128_HMAC_SHA1_80 inline:!!!", CryptoError::BadKey),
        ("1 AES_CM_128_HMAC_SHA1_80 key:AAAA", CryptoError::Malformed),
    ];
    for (line, want) in cases {
        assert_eq!(parse_crypto(line), Err(want), "{line}");
    }
    let two = format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY};inline:{KEY}");
    assert_eq!(parse_crypto(&two), Err(CryptoError::SeveralKeys));
    let param = format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY} UNENCRYPTED_SRTP");
    assert_eq!(parse_crypto(&param), Err(CryptoError::SessionParameters));
    let short = format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY}|2^10");
    assert_eq!(parse_crypto(&short), Err(CryptoError::ShortLifetime));
    let bad = format!("1 AES_CM_128_HMAC_SHA1_80 inline:{KEY}|2^x");
    assert_eq!(parse_crypto(&bad), Err(CryptoError::Malformed));
}

fn offer() -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\nc=IN IP4 10.0.0.1\r\nt=0 0\r\n\
         m=audio 4000 RTP/SAVP 0 101\r\n\
         a=crypto:1 AEAD_AES_256_GCM inline:AAAA\r\n\
         a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:{KEY}\r\n\
         a=crypto:3 AES_CM_128_HMAC_SHA1_80 inline:{KEY}\r\n\
         a=rtpmap:0 PCMU/8000\r\na=sendrecv\r\n\
         m=video 0 RTP/SAVP 96\r\na=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:{KEY}\r\n"
    )
}

#[test]
fn answer_takes_the_first_acceptable_line_and_round_trips() {
    let sec = audio_security(&offer());
    assert!(sec.savp);
    assert_eq!(
        sec.lines.len(),
        3,
        "the video stream's line is not the audio's"
    );
    let chosen = sec.first_acceptable().unwrap();
    assert_eq!(
        (chosen.tag, chosen.key.suite),
        (2, Suite::AesCm128HmacSha1_32)
    );

    let ours = MasterKey::random(chosen.key.suite);
    let answer = with_crypto(&offer(), Some((chosen.tag, &ours)));
    let back = audio_security(&answer);
    assert!(back.savp);
    assert_eq!(back.lines, vec![Ok(Crypto { tag: 2, key: ours })]);
    assert!(
        answer.contains("m=video 0 RTP/SAVP 96\r\na=crypto:1"),
        "{answer}"
    );

    let plain = with_crypto(&offer(), None);
    assert!(plain.contains("m=audio 4000 RTP/AVP 0 101\r\n"));
    let sec = audio_security(&plain);
    assert!(!sec.savp && sec.lines.is_empty());
    assert!(crate::sdp::parse(&plain).is_ok());
}

proptest! {
    #[test]
    fn never_panics(s in "\\PC{0,200}") {
        let _ = parse_crypto(&s);
        let body = format!("v=0\r\nm=audio 1 RTP/SAVP 0\r\na=crypto:{s}\r\n");
        let _ = audio_security(&body);
        let _ = with_crypto(&body, None);
    }
}
