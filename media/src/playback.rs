//! A player running on one side of a relay session: the glue between the sans-IO
//! [`Player`] and the side's RTP socket.
//!
//! While a side plays, it is *parked*: the player owns the stream towards that side's leg, so
//! the relay neither forwards the other side's media to it nor its media to the other side
//! (see [`crate::MediaSession::play`]). Packets the player makes while the leg's address is
//! still unknown are dropped and counted, and the player's clock keeps running, so the leg
//! joins the music where it is rather than at the start of a backlog.

use std::net::SocketAddr;
use std::time::Instant;

use tokio::net::UdpSocket;
use tokio::sync::oneshot;

use crate::player::{Player, PACKET_LEN};
use crate::stats::Batch;

/// A player and whoever waits for it to finish.
#[derive(Debug)]
pub(crate) struct Playback {
    player: Player,
    /// Fired when a non-looping playlist has played out; dropped (so the receiver sees an
    /// error) when the playback is stopped, replaced, or the session ends first.
    done: oneshot::Sender<()>,
}

impl Playback {
    pub(crate) fn new(player: Player, done: oneshot::Sender<()>) -> Playback {
        Playback { player, done }
    }

    /// When the player next needs the task.
    pub(crate) fn poll_timeout(&self) -> Option<Instant> {
        self.player.poll_timeout()
    }

    /// Sends every packet due at `now` from `socket` to `destination`. Returns true once the
    /// playlist has played out; the caller then ends the playback with [`Playback::finish`].
    pub(crate) fn pump(
        &mut self,
        now: Instant,
        socket: &UdpSocket,
        destination: Option<SocketAddr>,
        batch: &mut Batch,
    ) -> bool {
        self.pump_into(now, batch, &mut |packet| {
            let Some(destination) = destination else {
                return false;
            };
            match socket.try_send_to(packet, destination) {
                Ok(_) => true,
                Err(e) => {
                    tracing::trace!(error = %e, %destination, "player send failed");
                    false
                }
            }
        })
    }

    /// [`Playback::pump`] through `send`, which says whether the packet went (a WebRTC
    /// side's peer).
    pub(crate) fn pump_into(
        &mut self,
        now: Instant,
        batch: &mut Batch,
        send: &mut dyn FnMut(&[u8]) -> bool,
    ) -> bool {
        let mut packet = [0u8; PACKET_LEN];
        while self.player.poll_packet_into(now, &mut packet) {
            if send(&packet) {
                batch.played += 1;
            } else {
                batch.dropped += 1;
            }
        }
        self.player.is_finished()
    }

    /// Tells the waiter the playlist played to its end.
    pub(crate) fn finish(self) {
        // The waiter may have stopped listening; that is its business.
        let _ = self.done.send(());
    }
}
