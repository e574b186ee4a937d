//! Voicemail in the call engine, as a phase of the caller's session:
//!
//! - **Deposit**: a call to a user that is unregistered, busy (every phone refused) or not
//!   answered within `voicemail.ring_secs` is answered by the switch: greeting, beep, then
//!   the caller's leg is recorded (mono WAV) until they hang up, `voicemail.max_secs`
//!   pass, or `voicemail.silence_secs` of silence. The message (one second or more) goes
//!   into the mailbox and MWI NOTIFYs go out ([`super::mwi`]).
//! - **Retrieval** (`*97`, the caller's own mailbox): the PIN by DTMF (RFC 4733 events, or
//!   SIP INFO `application/dtmf-relay`) ended by `#`; "you have N new messages"; each
//!   message (new first) played, then the menu: 1 replay, 9 save, 7 delete, # next (a
//!   heard message is saved), * goodbye; 0 at any point for the mailbox options (record
//!   one's own greeting, or go back to the standard one: [`super::greeting`]).
//!
//! Each step is timed by the engine from the prompt's or message's length
//! ([`super::CallTimer::Voicemail`], numbered so a digit that cut a step short makes its
//! timer stale).

use super::session::{Phase, Prompt, Session};
use super::{CallTimer, Cx};
use crate::records::{Cause, HangupSide};
use crate::voicemail::{Message, Status};
use media::graph::{Endpoint, MediaCommand};
use std::time::{Duration, Instant};

/// Shorter messages (a caller who hung up at the beep) are not kept.
const MIN_MESSAGE: Duration = Duration::from_secs(1);
/// Wrong PINs before the call is ended.
const PIN_TRIES: u8 = 3;

/// A voicemail call.
#[derive(Clone, Debug)]
pub struct Vm {
    pub mailbox: String,
    pub stage: VmStage,
    /// Numbers the step whose end a timer waits for.
    pub step: u32,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VmStage {
    /// Greeting and beep.
    Greeting,
    /// The caller's message is being recorded.
    Recording,
    /// Entering the PIN.
    Pin { digits: String, tries: u8 },
    /// Hearing the count of messages.
    Count { ids: Vec<String> },
    /// Hearing message `at`, or (`menu`) the menu after it.
    Message {
        ids: Vec<String>,
        at: usize,
        menu: bool,
    },
    /// The last words, then the call ends.
    Goodbye,
    /// "You have no messages", a moment for 0 (the options), then goodbye.
    NoMessages,
    /// Hearing the mailbox options: 1 record a greeting, 2 the standard one, * back.
    Options,
    /// "Record your greeting after the tone".
    GreetingPrompt,
    /// A new greeting is being recorded into `file` (until `#`, silence or the limit).
    GreetingRecording { file: String, started: Instant },
}

/// A message being recorded: where and since when.
#[derive(Clone, Debug)]
pub struct Deposit {
    pub mailbox: String,
    pub id: String,
    pub started: Instant,
    pub started_ms: i64,
}

impl Cx {
    /// Whether calls to `user` go to their mailbox when not answered.
    pub(super) fn has_voicemail(&self, user: &str) -> bool {
        self.config.voicemail.enabled && self.config.user(user).is_some()
    }

    /// The call goes to `mailbox`: answered, greeting and beep, then recorded.
    pub(super) fn send_to_voicemail(&mut self, now: Instant, s: &mut Session, mailbox: &str) {
        let pending: Vec<_> = s.pending_legs().collect();
        self.cancel_legs(now, s, &pending);
        // A customer transferred to a mailbox was answered long ago.
        let answered = s.legs[0].state == super::session::LegState::Confirmed;
        if !answered && !self.hold_caller(now, s) {
            return;
        }
        let vm = Vm {
            mailbox: mailbox.to_string(),
            stage: VmStage::Greeting,
            step: 0,
        };
        if answered {
            s.phase = Phase::Voicemail(vm);
        } else {
            self.answer_locally(now, s, Phase::Voicemail(vm));
        }
        tracing::info!(call = s.id, %mailbox, "to voicemail");
        let own = self.node.mailboxes().greeting(mailbox);
        let greeting = self.prompts.voicemail_greeting(own);
        self.say(now, s, greeting);
        self.call_changed(s, "voicemail", Some(mailbox.to_string()));
    }

    /// `*97`: the caller's own mailbox, after the PIN.
    pub(super) fn open_mailbox(&mut self, now: Instant, s: &mut Session) {
        if !self.hold_caller(now, s) {
            return;
        }
        let vm = Vm {
            mailbox: s.from_user.clone(),
            stage: VmStage::Pin {
                digits: String::new(),
                tries: 0,
            },
            step: 0,
        };
        self.answer_locally(now, s, Phase::Voicemail(vm));
        self.media(MediaCommand::Digits {
            endpoint: Endpoint {
                relay: s.relay(),
                side: s.legs[0].side(),
            },
            listen: true,
        });
        let pin = self.prompts.sequence(&["vm_pin"]);
        self.say(now, s, pin);
    }

    /// Play `playlist` to the caller and time the step's end.
    pub(super) fn say(&mut self, now: Instant, s: &mut Session, playlist: media::Playlist) {
        let length = crate::prompts::duration(&playlist);
        self.play(s, 0, playlist, Prompt::Announcement);
        self.next_step(now, s, length);
    }

    pub(super) fn next_step(&mut self, now: Instant, s: &mut Session, length: Duration) {
        if let Phase::Voicemail(vm) = &mut s.phase {
            vm.step += 1;
            let step = vm.step;
            self.schedule(now + length, s.id, CallTimer::Voicemail(step));
        }
    }

    /// A step of a voicemail call has run its time.
    pub(super) fn voicemail_step(&mut self, now: Instant, s: &mut Session, step: u32) {
        let Phase::Voicemail(vm) = &s.phase else {
            return;
        };
        if vm.step != step {
            return;
        }
        let (mailbox, stage) = (vm.mailbox.clone(), vm.stage.clone());
        match stage {
            VmStage::Greeting => self.start_deposit(now, s, &mailbox),
            // The longest message: it ends here.
            VmStage::Recording | VmStage::Goodbye => {
                self.hangup_all(now, s, Cause::Normal, HangupSide::Switch, 200)
            }
            VmStage::Pin { .. } | VmStage::Message { menu: true, .. } | VmStage::Options => {}
            VmStage::NoMessages => self.goodbye(now, s),
            VmStage::GreetingPrompt => self.record_greeting(now, s, &mailbox),
            VmStage::GreetingRecording { .. } => self.greeting_recorded(now, s, &mailbox),
            VmStage::Count { ids } => self.play_message(now, s, &mailbox, ids, 0),
            VmStage::Message {
                ids,
                at,
                menu: false,
            } => {
                self.set_stage(
                    s,
                    VmStage::Message {
                        ids,
                        at,
                        menu: true,
                    },
                );
                let menu = self.prompts.sequence(&["vm_menu", "vm_options_hint"]);
                self.say(now, s, menu);
            }
        }
    }

    pub(super) fn set_stage(&mut self, s: &mut Session, stage: VmStage) {
        if let Phase::Voicemail(vm) = &mut s.phase {
            vm.stage = stage;
        }
    }

    /// The beep has played: record the caller.
    fn start_deposit(&mut self, now: Instant, s: &mut Session, mailbox: &str) {
        let started_ms = self.unix_ms(now);
        let id = format!("{started_ms}-{}", self.new_tag());
        let path = self
            .config
            .data_dir
            .join("voicemail")
            .join(mailbox)
            .join(format!("{id}.wav"));
        self.stop_playing(s, 0);
        self.media(MediaCommand::Record {
            endpoint: Endpoint {
                relay: s.relay(),
                side: s.legs[0].side(),
            },
            path,
            mono: Some(Duration::from_secs(self.config.voicemail.silence_secs)),
        });
        s.deposit = Some(Deposit {
            mailbox: mailbox.to_string(),
            id,
            started: now,
            started_ms,
        });
        self.set_stage(s, VmStage::Recording);
        let max = Duration::from_secs(self.config.voicemail.max_secs);
        self.next_step(now, s, max);
    }

    /// The caller has been silent long enough: the message is over.
    pub(super) fn voicemail_silence(&mut self, now: Instant, s: &mut Session) {
        let Phase::Voicemail(vm) = &s.phase else {
            return;
        };
        match vm.stage {
            VmStage::Recording => {
                tracing::info!(call = s.id, "voicemail ended by silence");
                self.hangup_all(now, s, Cause::Normal, HangupSide::Switch, 200);
            }
            VmStage::GreetingRecording { .. } => {
                let mailbox = vm.mailbox.clone();
                self.greeting_recorded(now, s, &mailbox);
            }
            _ => {}
        }
    }

    /// The session ends: a message being recorded goes into its mailbox.
    pub(super) fn finish_deposit(&mut self, now: Instant, s: &mut Session) {
        self.greeting_interrupted(now, s);
        let Some(d) = s.deposit.take() else {
            return;
        };
        let length = now.saturating_duration_since(d.started);
        if length < MIN_MESSAGE {
            tracing::info!(call = s.id, mailbox = %d.mailbox, "voicemail too short, not kept");
            return;
        }
        let message = Message {
            id: d.id,
            mailbox: d.mailbox.clone(),
            from_user: s.from_user.clone(),
            from_name: s.from_display.clone(),
            at_ms: d.started_ms,
            duration_ms: length.as_millis() as i64,
            status: Status::New,
        };
        tracing::info!(call = s.id, mailbox = %d.mailbox, id = %message.id, "voicemail left");
        self.node.mailboxes().add(message);
        self.notify_mwi(now, &d.mailbox);
    }

    /// A DTMF digit from the caller of a voicemail call.
    pub(super) fn voicemail_digit(&mut self, now: Instant, s: &mut Session, digit: char) {
        let Phase::Voicemail(vm) = &s.phase else {
            return;
        };
        let (mailbox, stage) = (vm.mailbox.clone(), vm.stage.clone());
        let opened = matches!(
            stage,
            VmStage::Count { .. } | VmStage::Message { .. } | VmStage::NoMessages
        );
        if opened && digit == '0' {
            return self.mailbox_options(now, s);
        }
        match stage {
            VmStage::Options | VmStage::GreetingRecording { .. } => {
                self.greeting_digit(now, s, &mailbox, digit)
            }
            VmStage::Pin { mut digits, tries } => {
                if digit != '#' {
                    if digits.len() < 12 && digit.is_ascii_digit() {
                        digits.push(digit);
                    }
                    return self.set_stage(s, VmStage::Pin { digits, tries });
                }
                self.stop_playing(s, 0);
                if digits == self.config.voicemail.pin(&mailbox) {
                    return self.mailbox_opened(now, s, &mailbox);
                }
                let tries = tries + 1;
                tracing::info!(call = s.id, %mailbox, tries, "wrong voicemail PIN");
                if tries >= PIN_TRIES {
                    self.set_stage(s, VmStage::Goodbye);
                    let bye = self.prompts.sequence(&["vm_wrong_pin", "vm_end"]);
                    return self.say(now, s, bye);
                }
                self.set_stage(
                    s,
                    VmStage::Pin {
                        digits: String::new(),
                        tries,
                    },
                );
                let again = self.prompts.sequence(&["vm_wrong_pin", "vm_pin"]);
                self.say(now, s, again);
            }
            VmStage::Message { ids, at, .. } => {
                let Some(id) = ids.get(at).cloned() else {
                    return;
                };
                match digit {
                    '1' => self.play_message(now, s, &mailbox, ids, at),
                    '9' | '#' => {
                        if self
                            .node
                            .mailboxes()
                            .set_status(&mailbox, &id, Status::Saved)
                        {
                            self.notify_mwi(now, &mailbox);
                        }
                        if digit == '9' {
                            self.stop_playing(s, 0);
                            self.set_stage(
                                s,
                                VmStage::Message {
                                    ids: ids.clone(),
                                    at,
                                    menu: true,
                                },
                            );
                            let kept = self.prompts.sequence(&["vm_kept"]);
                            let length = crate::prompts::duration(&kept);
                            self.play(s, 0, kept, Prompt::Announcement);
                            self.after(now, s, length, ids, at + 1);
                        } else {
                            self.play_message(now, s, &mailbox, ids, at + 1);
                        }
                    }
                    '7' => {
                        if self.node.mailboxes().delete(&mailbox, &id) {
                            self.notify_mwi(now, &mailbox);
                        }
                        self.stop_playing(s, 0);
                        let deleted = self.prompts.sequence(&["vm_deleted"]);
                        let length = crate::prompts::duration(&deleted);
                        self.play(s, 0, deleted, Prompt::Announcement);
                        self.after(now, s, length, ids, at + 1);
                    }
                    '*' => self.goodbye(now, s),
                    _ => {}
                }
            }
            VmStage::Count { ids } if digit == '#' => self.play_message(now, s, &mailbox, ids, 0),
            _ => {}
        }
    }

    /// After a confirmation of `length`, message `at` of `ids` (or the end).
    fn after(
        &mut self,
        now: Instant,
        s: &mut Session,
        length: Duration,
        ids: Vec<String>,
        at: usize,
    ) {
        // The confirmation plays out; the next message follows on the count stage's timer.
        self.set_stage(
            s,
            VmStage::Count {
                ids: ids[at.min(ids.len())..].to_vec(),
            },
        );
        self.next_step(now, s, length);
    }

    /// The PIN was right: how many messages, then the first.
    pub(super) fn mailbox_opened(&mut self, now: Instant, s: &mut Session, mailbox: &str) {
        let messages = self.node.mailboxes().list(mailbox);
        let mut ids: Vec<String> = messages
            .iter()
            .filter(|m| m.status == Status::New)
            .map(|m| m.id.clone())
            .collect();
        ids.extend(
            messages
                .iter()
                .filter(|m| m.status == Status::Saved)
                .map(|m| m.id.clone()),
        );
        let (new, saved) = self.node.mailboxes().counts(mailbox);
        tracing::info!(call = s.id, %mailbox, new, saved, "mailbox opened");
        let mut count = self.prompts.voicemail_count(new, saved);
        if ids.is_empty() {
            // A moment to press 0 before goodbye.
            count
                .items
                .extend(self.prompts.sequence(&["vm_options_hint"]).items);
            self.set_stage(s, VmStage::NoMessages);
            let length = crate::prompts::duration(&count) + Duration::from_secs(4);
            self.play(s, 0, count, Prompt::Announcement);
            return self.next_step(now, s, length);
        }
        self.set_stage(s, VmStage::Count { ids });
        self.say(now, s, count);
    }

    /// Play message `at` of `ids`, or say goodbye past the last.
    fn play_message(
        &mut self,
        now: Instant,
        s: &mut Session,
        mailbox: &str,
        ids: Vec<String>,
        at: usize,
    ) {
        let Some(message) = ids
            .get(at)
            .and_then(|id| self.node.mailboxes().get(mailbox, id))
        else {
            return self.goodbye(now, s);
        };
        let Some(codec) = s.codec else {
            return self.goodbye(now, s);
        };
        self.stop_playing(s, 0);
        self.media(MediaCommand::PlayFile {
            endpoint: Endpoint {
                relay: s.relay(),
                side: s.legs[0].side(),
            },
            path: self.config.data_dir.join(message.file()),
            codec,
        });
        self.set_stage(
            s,
            VmStage::Message {
                ids,
                at,
                menu: false,
            },
        );
        self.next_step(
            now,
            s,
            Duration::from_millis(message.duration_ms.max(0) as u64),
        );
    }

    fn goodbye(&mut self, now: Instant, s: &mut Session) {
        self.set_stage(s, VmStage::Goodbye);
        let end = self.prompts.sequence(&["vm_end"]);
        self.say(now, s, end);
    }
}

/// The digit of a SIP INFO `application/dtmf-relay` body (`Signal=5`, `Signal=#`).
pub(super) fn info_digit(body: &[u8]) -> Option<char> {
    let text = std::str::from_utf8(body).ok()?;
    text.lines().find_map(|l| {
        let (name, value) = l.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("signal") {
            return None;
        }
        let v = value.trim();
        match v {
            "10" => Some('*'),
            "11" => Some('#'),
            _ => v
                .chars()
                .next()
                .filter(|c| c.is_ascii_digit() || *c == '*' || *c == '#'),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dtmf_relay_bodies() {
        assert_eq!(info_digit(b"Signal=5\r\nDuration=160\r\n"), Some('5'));
        assert_eq!(info_digit(b"Signal= #\r\nDuration=100\r\n"), Some('#'));
        assert_eq!(info_digit(b"signal=11\n"), Some('#'));
        assert_eq!(info_digit(b"Duration=160\r\n"), None);
    }
}
