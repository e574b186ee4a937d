#!/usr/bin/env bash
# Regenerates the queue prompts and music-on-hold shipped with the switch (8 kHz mono G.711
# µ-law WAV, what the media player sends without transcoding). Needs espeak-ng and sox
# (Debian packages). The results are committed; run this only to change them.
set -euo pipefail
cd "$(dirname "$0")"
say() { # name text
  espeak-ng -v en-us -s 150 -w "/tmp/prompt-$1.wav" "$2"
  sox "/tmp/prompt-$1.wav" -r 8000 -c 1 -e u-law -b 8 "$1.wav" norm -3
  rm -f "/tmp/prompt-$1.wav"
}
say welcome "Thank you for calling. All our agents are busy. Please hold, and the next available agent will answer your call."
say position "You are caller number"
say in_queue "in the queue."
say wait_less_than_minute "Your expected waiting time is less than one minute."
say wait_about "Your expected waiting time is about"
say minutes "minutes."
say one_minute "one minute."
say agent_ready "You are now ready."
say agent_not_ready "You are now not ready."
say agent_logged_out "You are logged out."
say unknown_code "That feature code is not known."
for n in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 30 40 50 60; do
  say "num_$n" "$n"
done
say "num_many" "more than sixty"
say vm_greeting "The person you are calling is not available. Please leave a message after the tone. Hang up when you are done."
say vm_pin "Please enter your voicemail PIN, followed by the pound key."
say vm_wrong_pin "That PIN is not correct."
say vm_you_have "You have"
say vm_new "new"
say vm_saved "saved"
say vm_messages "messages."
say vm_no_messages "You have no messages."
say vm_menu "To hear it again, press 1. To save it, press 9. To delete it, press 7. For the next message, press pound."
say vm_deleted "Message deleted."
say vm_kept "Message saved."
say vm_end "End of messages. Goodbye."
say vm_options_hint "For your mailbox options, press 0."
say vm_options "To record your greeting, press 1. To use the standard greeting, press 2. To go back to your messages, press star."
say vm_greeting_record "Record your greeting after the tone. Press pound when you are done."
say vm_greeting_saved "Your greeting is saved."
say vm_greeting_standard "Callers will now hear the standard greeting."
# Twenty seconds of gentle music: a slow arpeggio of sine tones with a soft fade.
sox -n -r 8000 -c 1 /tmp/moh.wav \
  synth 0.5 sine 262 synth 0.5 sine 330 synth 0.5 sine 392 synth 0.5 sine 523 \
  repeat 9 fade 0.05 20 0.5 vol 0.4
sox /tmp/moh.wav -r 8000 -c 1 -e u-law -b 8 moh.wav
rm -f /tmp/moh.wav
