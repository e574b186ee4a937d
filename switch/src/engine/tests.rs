//! Unit tests of the engine: its behaviour scripted input by input with a fake clock and no
//! socket ([`harness`]), one file per area.

mod harness;
mod peer;
mod placed;

mod basic;
mod connection_auth;
mod consult;
mod control;
mod determinism;
mod early_media;
mod feature;
mod forking;
mod hold;
mod im;
mod late_offer;
mod locator;
mod originate;
mod originate_browser;
mod queue;
mod reinvite;
mod ring_timeout;
mod sdes;
mod sdes_offer;
mod shutdown;
mod sips;
mod srtp_fixture;
mod supervise;
mod timers;
mod transfer;
mod voicemail;
mod webrtc;
mod webrtc_reoffer;
