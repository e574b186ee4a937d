//! The mailbox options of `*97` (0 once the PIN is in): 1 records the user's own greeting
//! (after the tone, until `#`, silence or a minute), 2 goes back to the standard greeting,
//! `*` back to the messages. The engine records and plays; the greeting's file is taken in
//! by [`crate::voicemail::greeting::run`] (the engine does no I/O).

use super::session::{Phase, Prompt, Session};
use super::voicemail::VmStage;
use super::Cx;
use crate::voicemail::greeting::{self, Job, MAX_GREETING, MIN_GREETING};
use media::graph::{Endpoint, MediaCommand};
use std::time::Instant;

impl Cx {
    /// 0: the options.
    pub(super) fn mailbox_options(&mut self, now: Instant, s: &mut Session) {
        self.stop_playing(s, 0);
        self.set_stage(s, VmStage::Options);
        let options = self.prompts.sequence(&["vm_options"]);
        self.say(now, s, options);
    }

    /// A digit while hearing the options or recording a greeting.
    pub(super) fn greeting_digit(
        &mut self,
        now: Instant,
        s: &mut Session,
        mailbox: &str,
        digit: char,
    ) {
        let Phase::Voicemail(vm) = &s.phase else {
            return;
        };
        match (&vm.stage, digit) {
            (VmStage::Options, '1') => {
                self.stop_playing(s, 0);
                self.set_stage(s, VmStage::GreetingPrompt);
                let prompt = self.prompts.before_beep("vm_greeting_record");
                self.say(now, s, prompt);
            }
            (VmStage::Options, '2') => {
                tracing::info!(call = s.id, %mailbox, "standard greeting again");
                self.node.mailboxes().greeting_job(Job::Remove {
                    mailbox: mailbox.to_string(),
                });
                self.stop_playing(s, 0);
                let done = self
                    .prompts
                    .sequence(&["vm_greeting_standard", "vm_options"]);
                self.say(now, s, done);
            }
            (VmStage::Options, '*') => {
                self.stop_playing(s, 0);
                self.mailbox_opened(now, s, mailbox);
            }
            (VmStage::GreetingRecording { .. }, '#') => self.greeting_recorded(now, s, mailbox),
            _ => {}
        }
    }

    /// The tone has played: record the caller's greeting.
    pub(super) fn record_greeting(&mut self, now: Instant, s: &mut Session, mailbox: &str) {
        let file = greeting::file_name(&format!("{}-{}", self.unix_ms(now), self.new_tag()));
        self.stop_playing(s, 0);
        self.media(MediaCommand::Record {
            endpoint: Endpoint {
                relay: s.relay(),
                side: s.legs[0].side(),
            },
            path: greeting::dir(&self.config.data_dir, mailbox).join(&file),
            mono: Some(std::time::Duration::from_secs(
                self.config.voicemail.silence_secs,
            )),
        });
        tracing::info!(call = s.id, %mailbox, %file, "recording a greeting");
        self.set_stage(s, VmStage::GreetingRecording { file, started: now });
        self.next_step(now, s, MAX_GREETING);
    }

    /// `#`, silence or the limit: the recording stops; long enough, it is the greeting.
    pub(super) fn greeting_recorded(&mut self, now: Instant, s: &mut Session, mailbox: &str) {
        let Some(kept) = self.stop_greeting(now, s, mailbox) else {
            return;
        };
        let words: &[&str] = if kept {
            &["vm_greeting_saved", "vm_options"]
        } else {
            &["vm_options"]
        };
        self.set_stage(s, VmStage::Options);
        let next = self.prompts.sequence(words);
        self.play(s, 0, next, Prompt::Announcement);
        let length = crate::prompts::duration(&self.prompts.sequence(words));
        self.next_step(now, s, length);
    }

    /// The call ends while a greeting is being recorded: it is kept if long enough.
    pub(super) fn greeting_interrupted(&mut self, now: Instant, s: &mut Session) {
        if let Phase::Voicemail(vm) = &s.phase {
            let mailbox = vm.mailbox.clone();
            self.stop_greeting(now, s, &mailbox);
        }
    }

    /// Stops a greeting's recording; `Some(kept)` if one was being recorded.
    fn stop_greeting(&mut self, now: Instant, s: &mut Session, mailbox: &str) -> Option<bool> {
        let Phase::Voicemail(vm) = &s.phase else {
            return None;
        };
        let VmStage::GreetingRecording { file, started } = &vm.stage else {
            return None;
        };
        let (file, kept) = (
            file.clone(),
            now.saturating_duration_since(*started) >= MIN_GREETING,
        );
        self.media(MediaCommand::StopRecording { relay: s.relay() });
        let mailbox = mailbox.to_string();
        tracing::info!(call = s.id, %mailbox, %file, kept, "greeting recorded");
        self.node.mailboxes().greeting_job(if kept {
            Job::Adopt { mailbox, file }
        } else {
            Job::Discard { mailbox, file }
        });
        self.set_stage(s, VmStage::Options);
        Some(kept)
    }
}
