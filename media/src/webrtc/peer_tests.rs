//! Two peers in memory with a fake clock: the switch (ICE-lite) and a full-ICE "browser".

use super::*;

const SWITCH: &str = "127.0.0.1:40000";
const BROWSER: &str = "127.0.0.1:50000";

/// What a peer produced in one step.
#[derive(Default)]
struct Seen {
    sent: Vec<(SocketAddr, SocketAddr, Vec<u8>)>,
    media: Vec<(WebCodec, u32, Vec<u8>)>,
    connected: bool,
    gone: bool,
}

fn sink<'a>(from: SocketAddr, seen: &'a mut Seen) -> impl FnMut(PeerOut<'_>) + 'a {
    move |out| match out {
        PeerOut::Transmit { to, data } => seen.sent.push((from, to, data.to_vec())),
        PeerOut::Media {
            codec,
            timestamp,
            payload,
        } => seen.media.push((codec, timestamp, payload.to_vec())),
        PeerOut::Connected => seen.connected = true,
        PeerOut::Gone => seen.gone = true,
    }
}

struct Net {
    now: Instant,
    peers: [Peer; 2],
    seen: [Seen; 2],
    /// Drop everything the browser sends (it went away).
    browser_silent: bool,
}

impl Net {
    /// Delivers what is in flight until nothing is.
    fn settle(&mut self) {
        for _ in 0..50 {
            let mut flight = Vec::new();
            for seen in &mut self.seen {
                flight.append(&mut seen.sent);
            }
            if flight.is_empty() {
                return;
            }
            for (from, to, data) in flight {
                if self.browser_silent && from == self.peers[1].local() {
                    continue;
                }
                let i = usize::from(to == self.peers[1].local());
                let local = self.peers[i].local();
                self.peers[i].receive(self.now, from, &data, &mut sink(local, &mut self.seen[i]));
            }
        }
    }

    /// Advances the fake clock by `ms`, firing due timers.
    fn step(&mut self, ms: u64) {
        self.now += Duration::from_millis(ms);
        for i in 0..2 {
            let local = self.peers[i].local();
            if self.peers[i].deadline().is_some_and(|d| d <= self.now) {
                self.peers[i].timeout(self.now, &mut sink(local, &mut self.seen[i]));
            }
        }
        self.settle();
    }

    fn write(&mut self, i: usize, timestamp: u32, payload: &[u8]) {
        let local = self.peers[i].local();
        let now = self.now;
        self.peers[i].write(now, timestamp, payload, &mut sink(local, &mut self.seen[i]));
        self.settle();
    }

    fn connect(&mut self) {
        for _ in 0..200 {
            if self.seen[0].connected && self.seen[1].connected {
                return;
            }
            self.step(10);
        }
        panic!("DTLS did not connect within 2 s of fake time");
    }
}

fn cert() -> Certificate {
    Certificate::shared().expect("certificate")
}

/// The switch offers, the browser answers.
fn switch_offers(browser_codecs: Codecs) -> Net {
    let now = Instant::now();
    let (mut switch, offer) = Peer::offer(now, &cert(), SWITCH.parse().unwrap()).unwrap();
    let (browser, answer) = Peer::answer_with(
        now,
        &cert(),
        BROWSER.parse().unwrap(),
        &offer,
        browser_codecs,
        false,
    )
    .unwrap();
    let mut seen = [Seen::default(), Seen::default()];
    switch
        .accept_answer(now, &answer, &mut sink(switch.local(), &mut seen[0]))
        .unwrap();
    Net {
        now,
        peers: [switch, browser],
        seen,
        browser_silent: false,
    }
}

#[test]
fn the_switch_offer_is_ice_lite_with_g711_first() {
    let (_, offer) = Peer::offer(Instant::now(), &cert(), SWITCH.parse().unwrap()).unwrap();
    assert!(offer.contains("a=ice-lite"), "{offer}");
    assert!(offer.contains("a=fingerprint:sha-256 "), "{offer}");
    assert!(offer.contains("a=setup:actpass"), "{offer}");
    assert!(offer.contains("a=rtcp-mux"), "{offer}");
    assert!(offer.contains("UDP/TLS/RTP/SAVPF 0 8 111"), "{offer}");
    assert!(offer.contains("127.0.0.1 40000 typ host"), "{offer}");
}

#[test]
fn switch_offers_connects_and_frames_flow_both_ways() {
    let mut net = switch_offers(Codecs::G711First);
    assert_eq!(net.peers[0].codec(), Some(WebCodec::Pcmu));
    net.connect();
    for n in 0..50u32 {
        net.write(0, n * 160, &[0x11; 160]);
        net.write(1, n * 160, &[0x22; 160]);
        net.step(20);
    }
    let to_browser = &net.seen[1].media;
    let to_switch = &net.seen[0].media;
    assert!(to_browser.len() >= 49, "browser got {}", to_browser.len());
    assert!(to_switch.len() >= 49, "switch got {}", to_switch.len());
    assert!(to_browser
        .iter()
        .all(|(c, _, p)| *c == WebCodec::Pcmu && p == &vec![0x11; 160]));
    assert!(to_switch.iter().all(|(_, _, p)| p == &vec![0x22; 160]));
    // The timestamps are the writer's.
    assert_eq!(to_switch[1].1.wrapping_sub(to_switch[0].1), 160);
}

#[test]
fn browser_offers_and_the_switch_answers_pcmu() {
    let now = Instant::now();
    let (mut browser, offer) = Peer::offer_with(
        now,
        &cert(),
        BROWSER.parse().unwrap(),
        Codecs::G711First,
        false,
    )
    .unwrap();
    let (switch, answer) = Peer::answer(now, &cert(), SWITCH.parse().unwrap(), &offer).unwrap();
    assert!(answer.contains("a=ice-lite"), "{answer}");
    assert!(answer.contains("a=fingerprint:"), "{answer}");
    assert_eq!(switch.codec(), Some(WebCodec::Pcmu));
    let mut seen = [Seen::default(), Seen::default()];
    browser
        .accept_answer(now, &answer, &mut sink(browser.local(), &mut seen[1]))
        .unwrap();
    let mut net = Net {
        now,
        peers: [switch, browser],
        seen,
        browser_silent: false,
    };
    net.connect();
    for n in 0..10u32 {
        net.write(0, n * 160, &[0x33; 160]);
        net.write(1, n * 160, &[0x44; 160]);
        net.step(20);
    }
    assert!(net.seen[0].media.len() >= 9);
    assert!(net.seen[1].media.len() >= 9);
}

#[test]
fn an_opus_only_browser_gets_opus() {
    let mut net = switch_offers(Codecs::OpusOnly);
    assert_eq!(net.peers[0].codec(), Some(WebCodec::Opus));
    net.connect();
    net.write(0, 0, &[0xf8, 0xff, 0xfe]);
    net.step(20);
    assert_eq!(net.seen[1].media.first().map(|m| m.0), Some(WebCodec::Opus));
}

#[test]
fn a_browser_that_goes_silent_is_gone() {
    let mut net = switch_offers(Codecs::G711First);
    net.connect();
    net.browser_silent = true;
    for _ in 0..6000 {
        if net.seen[0].gone {
            break;
        }
        net.step(10);
    }
    assert!(net.seen[0].gone, "no Gone within 60 s of silence");
    assert!(net.peers[0].is_gone());
    assert_eq!(net.peers[0].deadline(), None);
}

#[test]
fn bad_sdp_is_an_error_not_a_panic() {
    let now = Instant::now();
    let local: SocketAddr = SWITCH.parse().unwrap();
    for bad in [
        "",
        "v=0\r\n",
        "hello",
        "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n",
        "v=0\r\no=- 1 1 IN IP4 1.2.3.4\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 18\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:18 G729/8000\r\n",
    ] {
        assert!(Peer::answer(now, &cert(), local, bad).is_err(), "{bad:?}");
    }
    let (mut switch, _) = Peer::offer(now, &cert(), local).unwrap();
    assert!(switch
        .accept_answer(now, "v=0\r\nm=audio x\r\n", &mut |_| {})
        .is_err());
    // Garbage datagrams are ignored.
    switch.receive(
        now,
        BROWSER.parse().unwrap(),
        &[0xde, 0xad, 0xbe, 0xef],
        &mut |_| {},
    );
    switch.receive(now, BROWSER.parse().unwrap(), &[], &mut |_| {});
    assert!(!switch.is_gone());
}

/// Chromium 156's answer to an offer of ours (captured headless, see the design memo),
/// with its `a=mid` put to our offer's.
pub(crate) fn chrome_answer(offer: &str) -> String {
    let mid = offer
        .lines()
        .find_map(|l| l.trim().strip_prefix("a=mid:"))
        .unwrap_or("0");
    include_str!("chrome_answer.sdp").replace("BKK", mid)
}

#[test]
fn a_chrome_answer_is_accepted_and_its_first_codec_chosen() {
    let now = Instant::now();
    let (mut switch, offer) = Peer::offer(now, &cert(), SWITCH.parse().unwrap()).unwrap();
    switch
        .accept_answer(now, &chrome_answer(&offer), &mut |_| {})
        .unwrap();
    assert_eq!(switch.codec(), Some(WebCodec::Pcmu));
    // Chrome is the DTLS client (setup:active): we wait for its checks and handshake.
    assert!(!switch.is_connected());
}
