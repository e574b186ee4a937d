//! Carries out the call engine's [`MediaCommand`]s on real sockets: one [`MediaSession`]
//! (a relay task) per [`RelayId`]. One hub per shard, owned by the shard's task.

use crate::graph::{MediaCommand, MediaEvent, RelayId};
use crate::{MediaEngine, MediaSession, SessionStats};
use std::collections::HashMap;
use std::sync::Arc;

pub struct MediaHub {
    engine: Arc<MediaEngine>,
    relays: HashMap<RelayId, MediaSession>,
    /// Where the relays' own events (digits, silence) go: the shard's call engine.
    reports: Option<tokio::sync::mpsc::UnboundedSender<MediaEvent>>,
}

impl MediaHub {
    pub fn new(engine: Arc<MediaEngine>) -> MediaHub {
        MediaHub {
            engine,
            relays: HashMap::new(),
            reports: None,
        }
    }

    /// A hub whose relays report their own events (digits, silence) to `reports`.
    pub fn reporting(
        engine: Arc<MediaEngine>,
        reports: tokio::sync::mpsc::UnboundedSender<MediaEvent>,
    ) -> MediaHub {
        MediaHub {
            engine,
            relays: HashMap::new(),
            reports: Some(reports),
        }
    }

    /// Perform one command; the answer, if it has one, is for the call engine.
    pub fn apply(&mut self, command: MediaCommand) -> Option<MediaEvent> {
        match command {
            MediaCommand::Allocate { relay } => match self
                .engine
                .create_session_reporting(self.reports.clone().map(|tx| (relay, tx)))
            {
                Ok(s) => {
                    let event = MediaEvent::Allocated {
                        relay,
                        ip: s.advertised_ip(),
                        ports: [s.a_port(), s.b_port()],
                    };
                    self.relays.insert(relay, s);
                    Some(event)
                }
                Err(e) => {
                    tracing::error!(%e, "no media ports");
                    Some(MediaEvent::AllocationFailed { relay })
                }
            },
            MediaCommand::Connect { endpoint, rtp } => {
                if let Some(s) = self.relays.get(&endpoint.relay) {
                    s.set_remote(endpoint.side, rtp);
                }
                None
            }
            MediaCommand::Play {
                endpoint,
                playlist,
                codec,
            } => {
                if let Some(s) = self.relays.get(&endpoint.relay) {
                    // Nothing waits for the end of a playback here: the engine times its
                    // prompts itself.
                    drop(s.play(endpoint.side, playlist, codec));
                }
                None
            }
            MediaCommand::StopPlaying { endpoint } => {
                if let Some(s) = self.relays.get(&endpoint.relay) {
                    s.stop_playing(endpoint.side);
                }
                None
            }
            MediaCommand::AddEndpoint { endpoint } => {
                let added = self
                    .relays
                    .get(&endpoint.relay)
                    .map(|s| s.add_endpoint(endpoint.side));
                Some(match added {
                    Some(Ok(port)) => MediaEvent::EndpointAdded { endpoint, port },
                    Some(Err(e)) => {
                        tracing::error!(%e, "no media ports for an added endpoint");
                        MediaEvent::EndpointFailed { endpoint }
                    }
                    None => MediaEvent::EndpointFailed { endpoint },
                })
            }
            MediaCommand::Hear { endpoint, hears } => {
                if let Some(s) = self.relays.get(&endpoint.relay) {
                    s.hear(endpoint.side, hears);
                }
                None
            }
            MediaCommand::Events {
                endpoint,
                payload_type,
            } => {
                if let Some(s) = self.relays.get(&endpoint.relay) {
                    s.set_events(endpoint.side, payload_type);
                }
                None
            }
            MediaCommand::Record {
                endpoint,
                path,
                mono,
            } => {
                if let Some(s) = self.relays.get(&endpoint.relay) {
                    match mono {
                        Some(silence) => s.record_mono(endpoint.side, path, silence),
                        None => s.record(endpoint.side, path),
                    }
                }
                None
            }
            MediaCommand::PlayFile {
                endpoint,
                path,
                codec,
            } => {
                // A voicemail message: small, and read once per play.
                let decoded = std::fs::read(&path)
                    .map_err(|e| e.to_string())
                    .and_then(|b| crate::wav::decode(&b).map_err(|e| e.to_string()));
                match (decoded, self.relays.get(&endpoint.relay)) {
                    (Ok(samples), Some(s)) => {
                        drop(s.play(endpoint.side, crate::Playlist::once(samples), codec));
                    }
                    (Err(e), _) => {
                        tracing::warn!(path = %path.display(), error = %e, "cannot play file")
                    }
                    _ => {}
                }
                None
            }
            MediaCommand::AttachWebRtc {
                endpoint,
                peer,
                law,
            } => {
                if let (Some(s), Some(peer)) = (self.relays.get(&endpoint.relay), peer.take()) {
                    s.attach_webrtc(endpoint.side, peer, law);
                }
                None
            }
            MediaCommand::DetachWebRtc { endpoint } => {
                if let Some(s) = self.relays.get(&endpoint.relay) {
                    s.detach_webrtc(endpoint.side);
                }
                None
            }
            MediaCommand::WebRtcAnswer { endpoint, sdp } => {
                if let Some(s) = self.relays.get(&endpoint.relay) {
                    s.webrtc_answer(endpoint.side, sdp);
                }
                None
            }
            MediaCommand::Digits { endpoint, listen } => {
                if let Some(s) = self.relays.get(&endpoint.relay) {
                    s.listen_digits(endpoint.side, listen);
                }
                None
            }
            MediaCommand::PauseRecording { relay, paused } => {
                if let Some(s) = self.relays.get(&relay) {
                    s.pause_recording(paused);
                }
                None
            }
            MediaCommand::StopRecording { relay } => {
                if let Some(s) = self.relays.get(&relay) {
                    s.stop_recording();
                }
                None
            }
            MediaCommand::RemoveEndpoint { endpoint } => {
                if let Some(s) = self.relays.get(&endpoint.relay) {
                    s.remove_endpoint(endpoint.side);
                }
                None
            }
            MediaCommand::Probe { relay } => {
                self.relays.get(&relay).map(|s| MediaEvent::Activity {
                    relay,
                    idle_for: s.stats().idle_for,
                })
            }
            MediaCommand::Release { relay } => {
                // Dropping the session stops its task; the ports return once it has closed.
                self.relays.remove(&relay);
                None
            }
        }
    }

    /// Counters of one relay, for call views.
    pub fn stats(&self, relay: RelayId) -> Option<SessionStats> {
        self.relays.get(&relay).map(MediaSession::stats)
    }

    pub fn len(&self) -> usize {
        self.relays.len()
    }

    pub fn is_empty(&self) -> bool {
        self.relays.is_empty()
    }
}
