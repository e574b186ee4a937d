//! One agent-to-agent IM session, sans-IO: an invitation (with its first message) that the
//! invited party accepts, declines or lets time out; then both write until one ends it.
//! A phone's session (SIP MESSAGE, RFC 3428 page mode) has nobody to accept: it is
//! connected from the start. Every transition is a plain function of `(now, who)`, tested
//! with a fake clock.

use serde::Serialize;
use std::time::{Duration, Instant};

/// Who takes part: an account on a desktop, or a SIP user's phone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Party {
    /// The account id (desktop) or the SIP user (phone).
    pub id: String,
    pub name: String,
    /// Reached by SIP MESSAGE rather than a desktop.
    pub phone: bool,
}

impl Party {
    pub fn desktop(id: impl Into<String>, name: impl Into<String>) -> Party {
        Party {
            id: id.into(),
            name: name.into(),
            phone: false,
        }
    }

    pub fn phone(user: impl Into<String>, name: impl Into<String>) -> Party {
        Party {
            id: user.into(),
            name: name.into(),
            phone: true,
        }
    }
}

/// Where a session stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Waiting for the invited party until `deadline`.
    Invited {
        deadline: Instant,
    },
    Connected,
    Declined,
    TimedOut,
    /// One party ended it.
    Ended,
}

impl Phase {
    /// The status word the API and the store use.
    pub fn status(self) -> &'static str {
        match self {
            Phase::Invited { .. } => "invited",
            Phase::Connected => "connected",
            Phase::Declined => "declined",
            Phase::TimedOut => "timed_out",
            Phase::Ended => "ended",
        }
    }

    /// Whether nothing more can happen in it.
    pub fn is_over(self) -> bool {
        matches!(self, Phase::Declined | Phase::TimedOut | Phase::Ended)
    }
}

/// Why a party's request was refused; nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImError {
    #[error("no such IM session")]
    NotFound,
    #[error("you are not a party to this IM session")]
    NotAParty,
    #[error("only the invited party answers an invitation")]
    NotInvited,
    #[error("the invitation is no longer open (the session is {0})")]
    NotOpen(&'static str),
    #[error("the session is not connected (it is {0})")]
    NotConnected(&'static str),
    #[error("the session is already over")]
    Over,
    #[error("{0}")]
    Text(#[from] crate::chat::ChatError),
    #[error("{0:?} is no agent, supervisor or phone user of this switch")]
    UnknownTarget(String),
    #[error("you cannot send an IM to yourself")]
    ToSelf,
    #[error("{0:?} has no desktop session and no phone to reach")]
    Unreachable(String),
    #[error("interaction {0} is not one of yours")]
    NotYourInteraction(u64),
    #[error("the IM service has stopped")]
    Stopped,
}

/// One session.
#[derive(Debug, Clone)]
pub struct Session {
    pub id: u64,
    pub from: Party,
    pub to: Party,
    /// The live interaction an IM consult was started from.
    pub interaction: Option<u64>,
    pub phase: Phase,
    pub created_ms: i64,
    /// Who ended it (account id or phone user), once ended.
    pub ended_by: Option<String>,
}

impl Session {
    /// A new session: invited until `now + timeout`, or connected at once for a phone.
    pub fn invite(
        id: u64,
        from: Party,
        to: Party,
        interaction: Option<u64>,
        now: Instant,
        timeout: Duration,
        created_ms: i64,
    ) -> Session {
        let phase = if to.phone || from.phone {
            Phase::Connected
        } else {
            Phase::Invited {
                deadline: now + timeout,
            }
        };
        Session {
            id,
            from,
            to,
            interaction,
            phase,
            created_ms,
            ended_by: None,
        }
    }

    /// The party `who` is, if any.
    pub fn party(&self, who: &str) -> Option<&Party> {
        [&self.from, &self.to].into_iter().find(|p| p.id == who)
    }

    /// The other party than `who`.
    pub fn peer_of(&self, who: &str) -> Option<&Party> {
        if self.from.id == who {
            Some(&self.to)
        } else if self.to.id == who {
            Some(&self.from)
        } else {
            None
        }
    }

    fn answer(&mut self, now: Instant, who: &str, to: Phase) -> Result<(), ImError> {
        self.handle_timeout(now);
        if self.party(who).is_none() {
            return Err(ImError::NotAParty);
        }
        if self.to.id != who {
            return Err(ImError::NotInvited);
        }
        match self.phase {
            Phase::Invited { .. } => {
                self.phase = to;
                Ok(())
            }
            other => Err(ImError::NotOpen(other.status())),
        }
    }

    /// The invited party accepts (before the deadline).
    pub fn accept(&mut self, now: Instant, who: &str) -> Result<(), ImError> {
        self.answer(now, who, Phase::Connected)
    }

    pub fn decline(&mut self, now: Instant, who: &str) -> Result<(), ImError> {
        self.answer(now, who, Phase::Declined)
    }

    /// Whether `who` may write now; the party (sender) if so.
    pub fn check_send(&mut self, now: Instant, who: &str) -> Result<Party, ImError> {
        self.handle_timeout(now);
        let party = self.party(who).cloned().ok_or(ImError::NotAParty)?;
        match self.phase {
            Phase::Connected => Ok(party),
            other => Err(ImError::NotConnected(other.status())),
        }
    }

    /// `who` ends the session (an open invitation is withdrawn the same way).
    pub fn end(&mut self, now: Instant, who: &str) -> Result<(), ImError> {
        self.handle_timeout(now);
        if self.party(who).is_none() {
            return Err(ImError::NotAParty);
        }
        if self.phase.is_over() {
            return Err(ImError::Over);
        }
        self.phase = Phase::Ended;
        self.ended_by = Some(who.to_string());
        Ok(())
    }

    /// When the invitation lapses, if it is open.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.phase {
            Phase::Invited { deadline } => Some(deadline),
            _ => None,
        }
    }

    /// Time passed: `true` when the invitation timed out just now.
    pub fn handle_timeout(&mut self, now: Instant) -> bool {
        match self.phase {
            Phase::Invited { deadline } if now >= deadline => {
                self.phase = Phase::TimedOut;
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Duration = Duration::from_secs(30);

    fn session(now: Instant) -> Session {
        Session::invite(
            1,
            Party::desktop("1001", "Dana"),
            Party::desktop("1002", "Eli"),
            None,
            now,
            T,
            0,
        )
    }

    #[test]
    fn accepted_then_both_write_then_ended() {
        let t0 = Instant::now();
        let mut s = session(t0);
        assert_eq!(s.phase.status(), "invited");
        assert_eq!(s.poll_timeout(), Some(t0 + T));
        assert_eq!(
            s.check_send(t0, "1001"),
            Err(ImError::NotConnected("invited"))
        );
        assert_eq!(s.accept(t0, "1001"), Err(ImError::NotInvited), "the sender");
        assert_eq!(s.accept(t0, "1003"), Err(ImError::NotAParty));
        assert_eq!(s.accept(t0 + Duration::from_secs(29), "1002"), Ok(()));
        assert_eq!(s.phase, Phase::Connected);
        assert_eq!(s.poll_timeout(), None);
        assert!(!s.handle_timeout(t0 + T * 2), "no timeout once connected");
        assert_eq!(s.check_send(t0, "1001").map(|p| p.name), Ok("Dana".into()));
        assert_eq!(s.check_send(t0, "1002").map(|p| p.name), Ok("Eli".into()));
        assert_eq!(s.check_send(t0, "1003"), Err(ImError::NotAParty));
        assert_eq!(s.peer_of("1002").map(|p| p.id.as_str()), Some("1001"));
        assert_eq!(s.end(t0, "1002"), Ok(()));
        assert_eq!(s.phase.status(), "ended");
        assert_eq!(s.ended_by.as_deref(), Some("1002"));
        assert_eq!(s.end(t0, "1001"), Err(ImError::Over));
        assert_eq!(
            s.check_send(t0, "1001"),
            Err(ImError::NotConnected("ended"))
        );
    }

    #[test]
    fn declined() {
        let t0 = Instant::now();
        let mut s = session(t0);
        assert_eq!(s.decline(t0, "1002"), Ok(()));
        assert_eq!(s.phase.status(), "declined");
        assert_eq!(s.accept(t0, "1002"), Err(ImError::NotOpen("declined")));
        assert_eq!(s.poll_timeout(), None);
        assert_eq!(s.end(t0, "1001"), Err(ImError::Over));
    }

    #[test]
    fn times_out_at_the_deadline_with_a_fake_clock() {
        let t0 = Instant::now();
        let mut s = session(t0);
        assert!(!s.handle_timeout(t0 + T - Duration::from_millis(1)));
        assert_eq!(s.phase.status(), "invited");
        assert!(s.handle_timeout(t0 + T));
        assert_eq!(s.phase, Phase::TimedOut);
        assert!(!s.handle_timeout(t0 + T * 2), "only once");
        // An answer that comes late finds it timed out, even before a tick.
        let mut late = session(t0);
        assert_eq!(
            late.accept(t0 + T, "1002"),
            Err(ImError::NotOpen("timed_out"))
        );
    }

    #[test]
    fn the_sender_may_withdraw_an_open_invitation() {
        let t0 = Instant::now();
        let mut s = session(t0);
        assert_eq!(s.end(t0, "1001"), Ok(()));
        assert_eq!(s.accept(t0, "1002"), Err(ImError::NotOpen("ended")));
    }

    #[test]
    fn a_phone_session_is_connected_at_once() {
        let t0 = Instant::now();
        let s = Session::invite(
            2,
            Party::desktop("1001", "Dana"),
            Party::phone("2000", "2000"),
            None,
            t0,
            T,
            0,
        );
        assert_eq!(s.phase, Phase::Connected);
        assert_eq!(s.poll_timeout(), None);
    }
}
