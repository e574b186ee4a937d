#!/usr/bin/env bash
# Web chat load: CHATS concurrent customers over the real WebSocket protocol against AGENTS
# agents (chat capacity 250 each) answering over the API (tests/browser/chat_load.mjs).
# Prints chats/s routed, messages/s delivered, delivery latency p50/p99 and the RSS.
# Not a test.
#
#   cargo build --release -p switch
#   sipp-scenarios/bench/chat.sh
#   CHATS=200 AGENTS=1 MESSAGES=3 sipp-scenarios/bench/chat.sh
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SWITCH="${SWITCH:-$ROOT/target/release/switch}"
CHATS="${CHATS:-1000}"
AGENTS="${AGENTS:-4}"
MESSAGES="${MESSAGES:-5}"
HTTP_PORT="${HTTP_PORT:-18280}"
SIP_PORT="${SIP_PORT:-5270}"

[ -x "$SWITCH" ] || { echo "$SWITCH not found: cargo build --release -p switch" >&2; exit 1; }
command -v node >/dev/null || { echo "node not found" >&2; exit 1; }

WORK="$(mktemp -d /tmp/ccswitch-chat-bench.XXXXXX)"
SRV_PID=""
cleanup() {
    if [ -n "$SRV_PID" ]; then kill -TERM "$SRV_PID" 2>/dev/null; wait "$SRV_PID" 2>/dev/null; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

{
    printf 'data_dir = "%s/data"\n[sip]\nlisten = ["udp:127.0.0.1:%s"]\n' "$WORK" "$SIP_PORT"
    printf '[http]\nlisten = "127.0.0.1:%s"\nmax_connections = %s\n' "$HTTP_PORT" $((2 * CHATS + 256))
    printf '[[queues]]\ndn = "8000"\nname = "Bench"\noffer_timeout_secs = 30\n'
    for ((i = 1; i <= AGENTS; i++)); do
        id=$((4000 + i))
        printf '[[users]]\nid = "%s"\npassword = "pass%s"\n' "$id" "$id"
        printf '[[agents]]\nid = "%s"\nextension = "%s"\nqueues = ["8000"]\ncapacity = { voice = 0, chat = 250 }\n' "$id" "$id"
        printf '[[accounts]]\nid = "%s"\nroles = ["agent"]\nagent = "%s"\nextension = "%s"\n' "$id" "$id" "$id"
    done
} > "$WORK/switch.toml"

"$SWITCH" --config "$WORK/switch.toml" > "$WORK/switch.log" 2>&1 &
SRV_PID=$!
for _ in $(seq 100); do
    curl -s "http://127.0.0.1:$HTTP_PORT/api/health" >/dev/null 2>&1 && break
    sleep 0.1
done
node --experimental-websocket --no-warnings "$ROOT/tests/browser/chat_load.mjs" \
    "http://127.0.0.1:$HTTP_PORT" "$SRV_PID" "$AGENTS" "$CHATS" "$MESSAGES"
