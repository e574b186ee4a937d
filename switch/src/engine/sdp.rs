//! SDP as the engine handles it: rewriting a leg's SDP for the other leg so media goes
//! through our relay (and telling the relay where the leg wants it), and our own SDP for
//! legs the switch answers or calls itself.

use super::sdes::Refusal;
use super::session::Session;
use super::Cx;
use media::graph::{Endpoint, MediaCommand, Side};
use sip::Headers;

/// A one-stream G.711 SDP of ours: `codec` at `ip:port`, plus telephone-event `dtmf` when
/// given, sendrecv, 20 ms packets.
pub(super) fn audio_sdp(
    session: u64,
    ip: std::net::IpAddr,
    port: u16,
    codec: media::Codec,
    dtmf: Option<&str>,
) -> Vec<u8> {
    let family = if ip.is_ipv4() { "IP4" } else { "IP6" };
    let pt = codec.payload_type();
    let name = match codec {
        media::Codec::Pcmu { .. } => "PCMU",
        media::Codec::Pcma { .. } => "PCMA",
    };
    let mut sdp = format!(
        "v=0\r\no=ccswitch {session} 1 IN {family} {ip}\r\ns=ccswitch\r\nc=IN {family} {ip}\r\nt=0 0\r\n"
    );
    match dtmf {
        Some(d) => sdp.push_str(&format!(
            "m=audio {port} RTP/AVP {pt} {d}\r\na=rtpmap:{pt} {name}/8000\r\n\
             a=rtpmap:{d} telephone-event/8000\r\na=fmtp:{d} 0-16\r\n"
        )),
        None => sdp.push_str(&format!(
            "m=audio {port} RTP/AVP {pt}\r\na=rtpmap:{pt} {name}/8000\r\n"
        )),
    }
    sdp.push_str("a=ptime:20\r\na=sendrecv\r\n");
    sdp.into_bytes()
}

/// Our offer of PCMU, PCMA and telephone-event at `ip:port` (an originated call's first
/// INVITE, to the agent's phone).
pub(super) fn offer_all(session: u64, ip: std::net::IpAddr, port: u16) -> Vec<u8> {
    let family = if ip.is_ipv4() { "IP4" } else { "IP6" };
    format!(
        "v=0\r\no=ccswitch {session} 1 IN {family} {ip}\r\ns=ccswitch\r\nc=IN {family} {ip}\r\nt=0 0\r\n\
         m=audio {port} RTP/AVP 0 8 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n\
         a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n"
    )
    .into_bytes()
}

pub(super) fn has_sdp(body: &[u8], headers: &Headers) -> bool {
    !body.is_empty() && is_sdp(headers)
}

pub(super) fn is_sdp(headers: &Headers) -> bool {
    headers
        .get("Content-Type")
        .is_some_and(|t| t.trim().to_ascii_lowercase().starts_with("application/sdp"))
}

/// The first audio stream's G.711 codec in an SDP body.
pub(super) fn codec_of(body: &[u8]) -> Option<media::Codec> {
    let text = std::str::from_utf8(body).ok()?;
    let sd = media::sdp::parse(text).ok()?;
    let audio = sd
        .media
        .iter()
        .find(|m| m.media == "audio" && m.port != 0)?;
    media::Codec::from_formats(&audio.formats)
}

/// Whether an SDP body holds the call (its first stream sendonly, inactive or 0.0.0.0).
pub(super) fn holds(body: &[u8]) -> Option<bool> {
    let text = std::str::from_utf8(body).ok()?;
    let sd = media::sdp::parse(text).ok()?;
    sd.media.first().map(|m| m.is_hold())
}

impl Cx {
    /// Rewrite an SDP body received on the leg at endpoint `from` for the leg at endpoint
    /// `to`, and connect `from` to where its leg wants its media. `None` when the SDP
    /// does not parse or the relay is not bound.
    pub(super) fn rewrite_sdp(
        &mut self,
        s: &Session,
        from: Side,
        to: Side,
        body: &[u8],
    ) -> Option<Vec<u8>> {
        self.rewrite_sdp_checked(s, from, to, body).ok()
    }

    /// [`Cx::rewrite_sdp`], saying why a body is refused (each reason a 488).
    pub(super) fn rewrite_sdp_checked(
        &mut self,
        s: &Session,
        from: Side,
        to: Side,
        body: &[u8],
    ) -> Result<Vec<u8>, Refusal> {
        let anchor = s.anchor.as_ref().ok_or(Refusal::BadSdp)?;
        let text = std::str::from_utf8(body).map_err(|_| Refusal::BadSdp)?;
        let endpoints = self.connect(s, from, text).ok_or(Refusal::BadSdp)?;
        let mut ports = vec![0u16; endpoints.len().max(1)];
        ports[0] = anchor.port(to);
        let rewritten =
            media::sdp::rewrite(text, anchor.ip, &ports).map_err(|_| Refusal::BadSdp)?;
        // SDES-SRTP is terminated per leg (sdes.rs).
        let body = self.sdes_cross(s, from, to, text, &rewritten)?;
        Ok(body.into_bytes())
    }

    /// Only learn where the leg at `from` wants its media (its SDP goes no further).
    pub(super) fn learn_sdp(&mut self, s: &Session, from: Side, body: &[u8]) {
        if let Ok(text) = std::str::from_utf8(body) {
            self.connect(s, from, text);
        }
    }

    /// Connect endpoint `from` to where its leg's SDP `text` wants the media; the SDP's
    /// media endpoints, `None` when it does not parse.
    fn connect(
        &mut self,
        s: &Session,
        from: Side,
        text: &str,
    ) -> Option<Vec<Option<std::net::SocketAddr>>> {
        let sd = media::sdp::parse(text).ok()?;
        let endpoints = media::sdp::media_endpoints(&sd);
        let endpoint = Endpoint {
            relay: s.relay(),
            side: from,
        };
        self.media(MediaCommand::Connect {
            endpoint,
            rtp: endpoints.first().copied().flatten(),
        });
        self.media(MediaCommand::Events {
            endpoint,
            payload_type: media::sdp::telephone_event(text),
        });
        Some(endpoints)
    }
}
