#!/usr/bin/env bash
# E-mail ingest: MAILS mails waiting in a Dovecot mailbox when the switch starts; prints
# how long the switch takes to fetch, parse, store and route them all (each stored before
# it is marked \Seen, one at a time), mails/s, and the switch's RSS every few seconds and
# at the end (it should stay flat: mails are streamed, not held). Not a test.
#
#   cargo build --release -p switch
#   sipp-scenarios/bench/email.sh
#   MAILS=2000 sipp-scenarios/bench/email.sh
#
# Needs dovecot (Debian dovecot-imapd) and python3; runs as root (Dovecot's mail user is
# `mail`). Ports: IMAP 14300, SMTP 14325 (nothing listens: no reply is sent), HTTP 18380,
# SIP 5370, all on 127.0.0.1.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SWITCH="${SWITCH:-$ROOT/target/release/switch}"
MAILS="${MAILS:-10000}"
IMAP_PORT="${IMAP_PORT:-14300}"
HTTP_PORT="${HTTP_PORT:-18380}"
SIP_PORT="${SIP_PORT:-5370}"

[ -x "$SWITCH" ] || { echo "$SWITCH not found: cargo build --release -p switch" >&2; exit 1; }
command -v dovecot >/dev/null || { echo "dovecot not found (apt-get install dovecot-imapd)" >&2; exit 1; }

WORK="$(mktemp -d /tmp/ccswitch-email-bench.XXXXXX)"
chmod 755 "$WORK"   # Dovecot's auth process (user dovecot) reads the passwd file in it
SRV_PID=""
cleanup() {
    if [ -n "$SRV_PID" ]; then kill -TERM "$SRV_PID" 2>/dev/null; wait "$SRV_PID" 2>/dev/null; fi
    doveadm -c "$WORK/dovecot.conf" stop 2>/dev/null
    if [ -n "${KEEP_WORK:-}" ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# The mailbox, filled before anyone reads it (as a delivery agent leaves mail in Maildir).
mkdir -p "$WORK/run" "$WORK/state" "$WORK/home/support/Maildir/"{new,cur,tmp}
cat > "$WORK/dovecot.conf" <<EOF
base_dir = $WORK/run
state_dir = $WORK/state
log_path = $WORK/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
mail_location = maildir:$WORK/home/%u/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $WORK/passwd
}
userdb {
  driver = static
  args = uid=mail gid=mail home=$WORK/home/%u
}
service imap-login {
  chroot =
  inet_listener imap {
    address = 127.0.0.1
    port = $IMAP_PORT
  }
  inet_listener imaps {
    port = 0
  }
}
service anvil {
  chroot =
}
EOF
echo "support:{PLAIN}secret" > "$WORK/passwd"
python3 - "$WORK/home/support/Maildir/new" "$MAILS" <<'EOF'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
body = ("Hello, my order has not arrived yet. " * 20 + "\r\n") * 10
for i in range(n):
    with open(os.path.join(d, f"{1700000000 + i}.M{i}P1.bench"), "w") as f:
        f.write(f"From: Customer {i} <c{i}@example.org>\r\nTo: support@example.com\r\n"
                f"Subject: Order {i}\r\nMessage-ID: <bench-{i}@example.org>\r\n"
                f"Date: Mon, 7 Dec 2026 10:00:00 +0000\r\n\r\n{body}")
EOF
chown -R mail:mail "$WORK/home"
dovecot -c "$WORK/dovecot.conf" || { echo "dovecot did not start" >&2; exit 1; }

unseen() {
    python3 - "$IMAP_PORT" <<'EOF'
import imaplib, sys
m = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]))
m.login("support", "secret")
m.select("INBOX", readonly=True)
print(len(m.search(None, "UNSEEN")[1][0].split()))
m.logout()
EOF
}
echo "mailbox: $(unseen) unseen mails of $(du -sh "$WORK/home" | cut -f1)" >&2

{
    printf 'data_dir = "%s/data"\n[sip]\nlisten = ["udp:127.0.0.1:%s"]\n' "$WORK" "$SIP_PORT"
    printf '[http]\nlisten = "127.0.0.1:%s"\n' "$HTTP_PORT"
    printf '[[queues]]\ndn = "8100"\nname = "Mail"\n'
    printf '[email]\n[[email.mailboxes]]\nname = "support"\nhost = "127.0.0.1"\nport = %s\n' "$IMAP_PORT"
    printf 'tls = "none"\nuser = "support"\npassword = "secret"\nqueue = "8100"\n'
    printf '[email.smtp]\nhost = "127.0.0.1"\nport = 14325\ntls = "none"\nfrom = "support@example.com"\n'
} > "$WORK/switch.toml"

rss_kb() { awk '/VmRSS/ {print $2}' "/proc/$SRV_PID/status" 2>/dev/null; }
START=$(date +%s.%N)
"$SWITCH" --config "$WORK/switch.toml" > "$WORK/switch.log" 2>&1 &
SRV_PID=$!
left="$MAILS"
last_print=0
while :; do
    sleep 2
    kill -0 "$SRV_PID" 2>/dev/null || { echo "the switch died; log:" >&2; tail -20 "$WORK/switch.log" >&2; exit 1; }
    left=$(unseen)
    now=$(date +%s.%N)
    elapsed=$(echo "$now - $START" | bc)
    printf '%6.1f s  %6s left  RSS %s MiB\n' "$elapsed" "$left" "$(( $(rss_kb) / 1024 ))" >&2
    [ "$left" = "0" ] && break
done
END=$(date +%s.%N)
secs=$(echo "$END - $START" | bc)
stored=$(sqlite3 "$WORK/data/switch.db" "SELECT count(*) FROM email_messages" 2>/dev/null || echo "?")
threads=$(sqlite3 "$WORK/data/switch.db" "SELECT count(*) FROM email_threads" 2>/dev/null || echo "?")
printf '\n| mails | stored | threads routed | seconds (start to the last \\Seen) | mails/s | RSS at the end |\n|---|---|---|---|---|---|\n'
printf '| %s | %s | %s | %.1f | %.0f | %s MiB |\n' "$MAILS" "$stored" "$threads" "$secs" "$(echo "$MAILS / $secs" | bc -l)" "$(( $(rss_kb) / 1024 ))"
