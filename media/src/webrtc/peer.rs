//! One WebRTC peer of the switch, sans-IO: a thin wrapper over one [`str0m::Rtc`] in frame
//! mode. This is the only file that imports str0m.
//!
//! The wrapper keeps str0m's rules out of the relay: every call that mutates the `Rtc`
//! drains its outputs to the next `Timeout` before it returns (str0m requires a full drain
//! between mutations), and every str0m call runs under `catch_unwind`, because str0m
//! panics on its own internal bugs (its fail-fast policy): a panicking peer is reported
//! [`PeerOut::Gone`] and goes inert, and the relay task serving the rest of the call lives.
//!
//! The switch's peer is ICE-lite (a server with a public address): it never sends
//! connectivity checks and learns the browser's address from the browser's checks, so no
//! latching is needed. RTCP is muxed on the one socket (RFC 5761) and made by str0m itself.

use std::net::SocketAddr;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use str0m::change::{SdpAnswer, SdpOffer, SdpPendingOffer};
use str0m::config::DtlsCert;
use str0m::format::Codec as StrCodec;
use str0m::media::{Direction, Frequency, MediaKind, MediaTime, Mid, Pt};
use str0m::net::{Protocol, Receive};
use str0m::{Candidate, Event, IceConnectionState, Input, Output, Rtc};

/// What can go wrong setting a peer up.
#[derive(Debug, thiserror::Error)]
pub enum WebRtcError {
    #[error("no DTLS certificate could be made")]
    Certificate,
    #[error("bad local candidate {0}: {1}")]
    Candidate(SocketAddr, String),
    #[error("bad SDP: {0}")]
    Sdp(String),
    #[error("the SDP offers no audio codec we take (PCMU, PCMA, Opus)")]
    NoCodec,
    #[error("no offer is waiting for an answer")]
    NoPendingOffer,
    #[error("the WebRTC stack failed: {0}")]
    Stack(String),
}

/// The codec of a WebRTC stream, as the browser sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebCodec {
    Pcmu,
    Pcma,
    /// Opus, whose RTP clock runs at 48 kHz (RFC 7587).
    Opus,
}

impl WebCodec {
    /// The RTP clock rate.
    pub fn rate(self) -> u32 {
        match self {
            WebCodec::Opus => 48_000,
            _ => 8_000,
        }
    }
}

/// What a peer asks of its socket and its relay side.
#[derive(Debug, PartialEq, Eq)]
pub enum PeerOut<'a> {
    /// Send this datagram (STUN, DTLS, SRTP, SRTCP) to `to`.
    Transmit { to: SocketAddr, data: &'a [u8] },
    /// One received media frame (one RTP payload, decrypted): its codec, and its RTP
    /// timestamp at the codec's clock.
    Media {
        codec: WebCodec,
        timestamp: u32,
        payload: &'a [u8],
    },
    /// ICE and DTLS are up: media flows.
    Connected,
    /// The browser is gone (ICE disconnected or failed, or the stack failed): counts as
    /// media loss.
    Gone,
}

/// The certificate every WebRTC leg of this process presents (one fingerprint), made once;
/// also installs str0m's crypto provider for the process.
#[derive(Clone)]
pub struct Certificate(DtlsCert);

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Certificate")
    }
}

impl Certificate {
    /// The process's certificate (an ECDSA key made on first use).
    pub fn shared() -> Result<Certificate, WebRtcError> {
        static SHARED: OnceLock<Option<DtlsCert>> = OnceLock::new();
        SHARED
            .get_or_init(|| {
                let provider = str0m::crypto::from_feature_flags();
                let cert = provider.dtls_provider.generate_certificate();
                provider.install_process_default();
                cert
            })
            .clone()
            .map(Certificate)
            .ok_or(WebRtcError::Certificate)
    }
}

/// One WebRTC peer: the switch's end of one browser leg.
pub struct Peer {
    rtc: Rtc,
    /// The audio stream (known once the offer is made or accepted).
    mid: Option<Mid>,
    /// Our offer, while it waits for the browser's answer.
    pending: Option<SdpPendingOffer>,
    /// The local candidate: where the browser sends, and what `Receive` names.
    local: SocketAddr,
    /// The payload type and codec we send with (the answer's first one we take).
    send: Option<(Pt, WebCodec)>,
    deadline: Instant,
    connected: bool,
    /// Gone was reported (or the stack failed): the peer is inert.
    gone: bool,
    full_ice: bool,
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peer")
            .field("local", &self.local)
            .field("send", &self.send)
            .field("connected", &self.connected)
            .field("gone", &self.gone)
            .finish()
    }
}

/// Which codecs a peer takes, in the order it prefers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codecs {
    /// PCMU, PCMA, Opus: what the switch offers (browsers answer G.711, no transcoding).
    G711First,
    /// Opus alone (tests of the transcoding path, or a browser that has no G.711).
    OpusOnly,
}

impl Peer {
    fn build(
        now: Instant,
        cert: &Certificate,
        local: SocketAddr,
        codecs: Codecs,
        lite: bool,
    ) -> Result<Peer, WebRtcError> {
        let rtc = guard(|| {
            let builder = Rtc::builder()
                .set_ice_lite(lite)
                .set_dtls_cert(cert.0.clone())
                .clear_codecs();
            let builder = match codecs {
                Codecs::G711First => builder.enable_pcmu(true).enable_pcma(true),
                Codecs::OpusOnly => builder,
            };
            builder.enable_opus(true).build(now)
        })?;
        let mut peer = Peer {
            rtc,
            mid: None,
            pending: None,
            local,
            send: None,
            deadline: now,
            connected: false,
            gone: false,
            full_ice: !lite,
        };
        let candidate = Candidate::host(local, "udp")
            .map_err(|e| WebRtcError::Candidate(local, e.to_string()))?;
        guard(|| peer.rtc.add_local_candidate(candidate).map(|_| ()))?;
        Ok(peer)
    }

    /// The switch offers (it calls a browser): an ICE-lite peer whose one host candidate
    /// is `local`, offering PCMU, PCMA and Opus. Returns the peer and the offer's SDP.
    pub fn offer(
        now: Instant,
        cert: &Certificate,
        local: SocketAddr,
    ) -> Result<(Peer, String), WebRtcError> {
        Peer::offer_with(now, cert, local, Codecs::G711First, true)
    }

    /// [`Peer::offer`] with chosen codecs, and full ICE when `lite` is false (a test's
    /// browser).
    pub fn offer_with(
        now: Instant,
        cert: &Certificate,
        local: SocketAddr,
        codecs: Codecs,
        lite: bool,
    ) -> Result<(Peer, String), WebRtcError> {
        let mut peer = Peer::build(now, cert, local, codecs, lite)?;
        let (offer, pending, mid) = guard(|| {
            let mut change = peer.rtc.sdp_api();
            let mid = change.add_media(MediaKind::Audio, Direction::SendRecv, None, None, None);
            Ok::<_, WebRtcError>(change.apply().map(|(o, p)| (o, p, mid)))
        })??
        .ok_or_else(|| WebRtcError::Stack("no SDP change to apply".into()))?;
        peer.mid = Some(mid);
        peer.pending = Some(pending);
        let sdp = offer.to_sdp_string();
        peer.drain(now, &mut |_| {});
        Ok((peer, sdp))
    }

    /// The browser offered (it calls out): answer its offer `sdp` as an ICE-lite peer at
    /// `local`. An offer with no codec we take, or that does not parse, is an error.
    pub fn answer(
        now: Instant,
        cert: &Certificate,
        local: SocketAddr,
        sdp: &str,
    ) -> Result<(Peer, String), WebRtcError> {
        Peer::answer_with(now, cert, local, sdp, Codecs::G711First, true)
    }

    /// [`Peer::answer`] with chosen codecs and ICE mode (tests).
    pub fn answer_with(
        now: Instant,
        cert: &Certificate,
        local: SocketAddr,
        sdp: &str,
        codecs: Codecs,
        lite: bool,
    ) -> Result<(Peer, String), WebRtcError> {
        let offer = SdpOffer::from_sdp_string(sdp).map_err(|e| WebRtcError::Sdp(e.to_string()))?;
        let mut peer = Peer::build(now, cert, local, codecs, lite)?;
        let answer = guard(|| {
            peer.rtc
                .sdp_api()
                .accept_offer(offer)
                .map_err(|e| WebRtcError::Sdp(e.to_string()))
        })??;
        let text = answer.to_sdp_string();
        peer.drain(now, &mut |_| {});
        peer.choose_codec(&text)?;
        Ok((peer, text))
    }

    /// The browser's answer to our offer.
    pub fn accept_answer(
        &mut self,
        now: Instant,
        sdp: &str,
        out: &mut dyn FnMut(PeerOut<'_>),
    ) -> Result<(), WebRtcError> {
        let answer =
            SdpAnswer::from_sdp_string(sdp).map_err(|e| WebRtcError::Sdp(e.to_string()))?;
        let pending = self.pending.take().ok_or(WebRtcError::NoPendingOffer)?;
        let accepted = guard(|| {
            self.rtc
                .sdp_api()
                .accept_answer(pending, answer)
                .map_err(|e| WebRtcError::Sdp(e.to_string()))
        });
        self.drain(now, out);
        accepted??;
        self.choose_codec(sdp)
    }

    /// The codec the answer `sdp` puts first among those the stream negotiated.
    fn choose_codec(&mut self, sdp: &str) -> Result<(), WebRtcError> {
        if self.mid.is_none() {
            // Our answer names the stream it accepted.
            self.mid = sdp
                .lines()
                .find_map(|l| l.trim().strip_prefix("a=mid:"))
                .map(Mid::from);
        }
        let mid = self.mid.ok_or(WebRtcError::NoCodec)?;
        let offered: Vec<(Pt, WebCodec)> = guard(|| {
            Ok::<_, WebRtcError>(match self.rtc.writer(mid) {
                Some(w) => w
                    .payload_params()
                    .filter_map(|p| Some((p.pt(), web_codec(p.spec().codec)?)))
                    .collect(),
                None => Vec::new(),
            })
        })??;
        let order = answer_formats(sdp);
        self.send = order
            .iter()
            .find_map(|pt| offered.iter().find(|(p, _)| p == pt).copied())
            .or_else(|| offered.first().copied());
        self.send.map(|_| ()).ok_or(WebRtcError::NoCodec)
    }

    /// The codec we send towards the browser (known once offer and answer are done).
    pub fn codec(&self) -> Option<WebCodec> {
        self.send.map(|(_, c)| c)
    }

    /// Whether ICE and DTLS are up.
    pub fn is_connected(&self) -> bool {
        self.connected
    }

    /// Whether the peer has ended (reported [`PeerOut::Gone`]).
    pub fn is_gone(&self) -> bool {
        self.gone
    }

    /// The local candidate's address.
    pub fn local(&self) -> SocketAddr {
        self.local
    }

    /// A datagram from `from` arrived on the peer's socket.
    pub fn receive(
        &mut self,
        now: Instant,
        from: SocketAddr,
        data: &[u8],
        out: &mut dyn FnMut(PeerOut<'_>),
    ) {
        if self.gone {
            return;
        }
        let Ok(contents) = data.try_into() else {
            // Not STUN, DTLS or (S)RTP (RFC 7983's first-byte ranges): not for us.
            return;
        };
        let input = Input::Receive(
            now,
            Receive {
                proto: Protocol::Udp,
                source: from,
                destination: self.local,
                contents,
            },
        );
        let local = self.local;
        let handled = guard(|| {
            if self.rtc.accepts(&input) {
                self.rtc.handle_input(input).map_err(|e| e.to_string())
            } else {
                tracing::trace!(%from, %local, "datagram not for this peer");
                Ok(())
            }
        });
        self.after(now, handled, out);
    }

    /// Time passed: run the peer's timers (ICE consent, DTLS retransmits, RTCP).
    pub fn timeout(&mut self, now: Instant, out: &mut dyn FnMut(PeerOut<'_>)) {
        if self.gone {
            return;
        }
        let handled = guard(|| {
            self.rtc
                .handle_input(Input::Timeout(now))
                .map_err(|e| e.to_string())
        });
        self.after(now, handled, out);
    }

    /// When the peer next needs [`Peer::timeout`] (None once gone).
    pub fn deadline(&self) -> Option<Instant> {
        (!self.gone).then_some(self.deadline)
    }

    /// Sends one frame towards the browser, in the negotiated codec ([`Peer::codec`]),
    /// stamped `timestamp` at that codec's clock. Dropped before the connection is up.
    pub fn write(
        &mut self,
        now: Instant,
        timestamp: u32,
        payload: &[u8],
        out: &mut dyn FnMut(PeerOut<'_>),
    ) {
        let (Some(mid), Some((pt, codec)), false) = (self.mid, self.send, self.gone) else {
            return;
        };
        if !self.connected {
            return;
        }
        let frequency = match codec {
            WebCodec::Opus => Frequency::FORTY_EIGHT_KHZ,
            _ => Frequency::EIGHT_KHZ,
        };
        let time = MediaTime::new(u64::from(timestamp), frequency);
        // str0m copies the payload (one allocation per packet, the relay's only one).
        let data: Vec<u8> = payload.to_vec();
        let written = guard(|| match self.rtc.writer(mid) {
            Some(w) => w.write(pt, now, time, data).map_err(|e| e.to_string()),
            None => Ok(()),
        });
        self.after(now, written, out);
    }

    /// Ends the peer: no more output.
    pub fn close(&mut self) {
        let _ = guard(|| {
            self.rtc.disconnect();
            Ok::<_, WebRtcError>(())
        });
        self.gone = true;
    }

    /// After a mutation: report a failure, then drain.
    fn after(
        &mut self,
        now: Instant,
        result: Result<Result<(), String>, WebRtcError>,
        out: &mut dyn FnMut(PeerOut<'_>),
    ) {
        match result {
            Ok(Ok(())) => self.drain(now, out),
            Ok(Err(e)) => {
                // An input str0m refused (a bad packet): the peer goes on.
                tracing::debug!(error = %e, "WebRTC input refused");
                self.drain(now, out);
            }
            Err(e) => self.fail(&e.to_string(), out),
        }
    }

    fn fail(&mut self, why: &str, out: &mut dyn FnMut(PeerOut<'_>)) {
        if !self.gone {
            tracing::warn!(error = why, "WebRTC peer failed");
            self.gone = true;
            out(PeerOut::Gone);
        }
    }

    /// Drains str0m's outputs to its next timeout.
    fn drain(&mut self, now: Instant, out: &mut dyn FnMut(PeerOut<'_>)) {
        loop {
            if self.gone {
                return;
            }
            let polled = catch_unwind(AssertUnwindSafe(|| self.rtc.poll_output()));
            let output = match polled {
                Ok(Ok(output)) => output,
                Ok(Err(e)) => return self.fail(&e.to_string(), out),
                Err(_) => return self.fail("panic in str0m", out),
            };
            match output {
                Output::Timeout(t) => {
                    // str0m may ask to be woken "now" again; never busy-loop on it.
                    self.deadline = t.max(now + Duration::from_millis(1));
                    return;
                }
                Output::Transmit(t) => out(PeerOut::Transmit {
                    to: t.destination,
                    data: &t.contents,
                }),
                Output::Event(event) => self.event(event, out),
            }
        }
    }

    fn event(&mut self, event: Event, out: &mut dyn FnMut(PeerOut<'_>)) {
        match event {
            Event::Connected => {
                self.connected = true;
                out(PeerOut::Connected);
            }
            Event::IceConnectionStateChange(state) => {
                tracing::debug!(?state, local = %self.local, "WebRTC ICE state");
                if matches!(state, IceConnectionState::Disconnected) {
                    self.gone = true;
                    out(PeerOut::Gone);
                }
            }
            Event::MediaAdded(added) if self.mid.is_none() => {
                self.mid = Some(added.mid);
            }
            Event::MediaData(data) => {
                let Some(codec) = web_codec(data.params.spec().codec) else {
                    return;
                };
                out(PeerOut::Media {
                    codec,
                    // RTP timestamps wrap at 32 bits.
                    timestamp: data.time.numer() as u32,
                    payload: &data.data,
                });
            }
            _ => {}
        }
    }

    /// Whether this peer runs full ICE (a test's browser).
    pub fn is_full_ice(&self) -> bool {
        self.full_ice
    }
}

/// Runs a str0m call, turning its panic into an error.
fn guard<T>(f: impl FnOnce() -> T) -> Result<T, WebRtcError> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|_| WebRtcError::Stack("panic in str0m".into()))
}

fn web_codec(codec: StrCodec) -> Option<WebCodec> {
    match codec {
        StrCodec::PCMU => Some(WebCodec::Pcmu),
        StrCodec::PCMA => Some(WebCodec::Pcma),
        StrCodec::Opus => Some(WebCodec::Opus),
        _ => None,
    }
}

/// The payload types of the first audio m-line of `sdp`, in order.
fn answer_formats(sdp: &str) -> Vec<Pt> {
    sdp.lines()
        .find_map(|l| l.strip_prefix("m=audio "))
        .map(|rest| {
            rest.split_whitespace()
                .skip(2)
                .filter_map(|f| f.parse::<u8>().ok())
                .map(Pt::from)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
#[path = "peer_tests.rs"]
mod tests;
