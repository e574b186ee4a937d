#!/usr/bin/env bash
# Soak: the release switch for MINUTES under a steady mixed load, printing a line a minute.
# Not a test: run by hand (30 minutes by default), it prints figures.
#
#   - calls with media: `rtpload --churn-rate RATE --hold HOLD` (G.711 both ways, 50 packets/s
#     per stream; RATE x HOLD calls up at once once warm);
#   - short calls without media at SIPP_RATE calls/s (SIPp UAC -> switch -> SIPp UAS, -d 0),
#     optional (0 = none);
#   - REGISTER refreshes from USERS users with digest (SIPp from 127.0.0.2, an untrusted
#     address: 401 then the answer), each user every REFRESH seconds.
#
# Each minute: calls up, started/answered/failed/ended, media loss and added delay, the
# switch's CPU, RSS and open file descriptors. At the end: every call ended, REGISTER
# outcomes, and the switch's descriptors, UDP sockets and media sessions against the start.
#
#   cargo build --release -p switch && cargo build --release -p e2e --bin rtpload
#   sipp-scenarios/bench/soak.sh
#   MINUTES=3 HOLD=30 sipp-scenarios/bench/soak.sh       # a short try
#
# Everything runs on 127.0.0.1/127.0.0.2; every process started is stopped on exit.

set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SWITCH="${SWITCH:-$ROOT/target/release/switch}"
RTPLOAD="${RTPLOAD:-$ROOT/target/release/rtpload}"
MINUTES="${MINUTES:-30}"
RATE="${RATE:-7}"             # media calls/s; x HOLD = calls up at once
HOLD="${HOLD:-180}"
SIPP_RATE="${SIPP_RATE:-0}"   # short signalling-only calls/s alongside (0: none)
USERS="${USERS:-5000}"
REFRESH="${REFRESH:-150}"     # each user re-registers this often (Expires 300)
MINUTE_SECS="${MINUTE_SECS:-60}"

IP=127.0.0.1
REG_IP=127.0.0.2
SIP_PORT=5070
UAS_PORT=5085        # rtpload's callee
SIPP_UAS_PORT=5080   # SIPp's callee for the short calls
HTTP_PORT=18080

log() { printf '%s\n' "$*" >&2; }
die() { log "soak.sh: $*"; exit 1; }
[ -x "$SWITCH" ] || die "$SWITCH not found; build it:  cargo build --release -p switch"
[ -x "$RTPLOAD" ] || die "$RTPLOAD not found; build it:  cargo build --release -p e2e --bin rtpload"
command -v sipp >/dev/null || die "sipp not found (Debian package sip-tester)"

WORK="$(mktemp -d /tmp/ccswitch-soak.XXXXXX)"
PIDS=()
stop_pid() {
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 100; i++)); do kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; return 0
}
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
    if [ -n "${KEEP_WORK:-}" ]; then log "work files kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- the switch
mkdir -p "$WORK/data"
{
    cat <<EOF
data_dir = "$WORK/data"

[sip]
listen = ["udp:$IP:$SIP_PORT"]
domain = "$IP"
trusted = ["127.0.0.1/32"]

[http]
listen = "$IP:$HTTP_PORT"

[media]
rtp_ports = "20000-39999"
bind_ip = "$IP"

[[users]]
id = "2000"
name = "rtpload callee"
contact = "sip:2000@$IP:$UAS_PORT"

[[users]]
id = "2001"
name = "SIPp callee"
contact = "sip:2001@$IP:$SIPP_UAS_PORT"

EOF
    for ((i = 0; i < USERS; i++)); do
        printf '[[users]]\nid = "u%d"\npassword = "p%d"\n\n' $((10000 + i)) $((10000 + i))
    done
} >"$WORK/switch.toml"
{ echo "SEQUENTIAL"; for ((i = 0; i < USERS; i++)); do echo "u$((10000 + i));[authentication username=u$((10000 + i)) password=p$((10000 + i))]"; done; } >"$WORK/users.csv"

"$SWITCH" --config "$WORK/switch.toml" >"$WORK/switch.log" 2>&1 &
SRV_PID=$!
PIDS+=("$SRV_PID")
for ((i = 0; i < 300; i++)); do
    grep -qs "switch ready" "$WORK/switch.log" && break
    kill -0 "$SRV_PID" 2>/dev/null || break
    sleep 0.1
done
grep -qs "switch ready" "$WORK/switch.log" || { tail -20 "$WORK/switch.log" >&2; die "switch did not start"; }

fds() { ls "/proc/$SRV_PID/fd" 2>/dev/null | wc -l; }
udp_sockets() { ss -Huanp 2>/dev/null | grep -c "pid=$SRV_PID,"; }
rss_mb() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$SRV_PID/status"; }
metric() { curl -s --max-time 2 "http://$IP:$HTTP_PORT/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
FDS0=$(fds); UDP0=$(udp_sockets); RSS0=$(rss_mb)
log "soak: $MINUTES min; media calls $RATE/s held ${HOLD}s (~$((RATE * HOLD)) up); short calls ${SIPP_RATE}/s;" \
    "$USERS users re-registering every ${REFRESH}s; switch pid $SRV_PID: $FDS0 fds, $UDP0 UDP sockets, ${RSS0} MB"

# ---------------------------------------------------------------- the loads
TOTAL_SECS=$((MINUTES * MINUTE_SECS + HOLD + 60))
REG_RATE=$(awk -v u="$USERS" -v r="$REFRESH" 'BEGIN { printf "%.0f", u / r < 1 ? 1 : u / r }')
(cd "$WORK" && exec sipp "$IP:$SIP_PORT" -sf "$HERE/register_users.xml" -inf "$WORK/users.csv" \
    -i $REG_IP -p 5095 -r "$REG_RATE" -m $((REG_RATE * MINUTES * MINUTE_SECS)) -l $((REG_RATE * 4)) \
    -timeout "${TOTAL_SECS}s" -nostdin -trace_stat -stf reg_stats.csv -fd 60 -trace_err \
    >"$WORK/reg.out" 2>&1) &
REG_PID=$!
PIDS+=("$REG_PID")

if [ "$SIPP_RATE" != 0 ]; then
    (cd "$WORK" && exec sipp -sn uas -i $IP -p $SIPP_UAS_PORT -mp 16000 -nostdin >"$WORK/uas.out" 2>&1) &
    PIDS+=($!)
    sleep 0.3
    (cd "$WORK" && exec sipp "$IP:$SIP_PORT" -sn uac -s 2001 -i $IP -p 5090 -mp 16100 -d 0 \
        -r "$SIPP_RATE" -m $((SIPP_RATE * MINUTES * MINUTE_SECS)) -l $((SIPP_RATE * 2)) \
        -timeout "${TOTAL_SECS}s" -nostdin -trace_stat -stf uac_stats.csv -fd 60 -trace_err \
        >"$WORK/uac.out" 2>&1) &
    UAC_PID=$!
    PIDS+=("$UAC_PID")
fi

"$RTPLOAD" --mode switch --sip "$IP:$SIP_PORT" --uas "$IP:$UAS_PORT" --pid "$SRV_PID" \
    --churn-rate "$RATE" --hold "$HOLD" --minutes "$MINUTES" --minute-secs "$MINUTE_SECS" \
    --setup-rate 200 2>"$WORK/rtpload.err" | while read -r line; do
    case $line in
        MINUTE*) echo "$line registrations=$(metric switch_registrations) rss_mb=$(rss_mb)" ;;
        *) echo "$line" ;;
    esac
done | tee "$WORK/minutes.txt"
sed 's/^/  rtpload: /' "$WORK/rtpload.err" >&2

stop_pid "$REG_PID"
[ -n "${UAC_PID:-}" ] && stop_pid "$UAC_PID"
sleep 2

stat_col() { # file name: the last line's column by header
    [ -f "$1" ] || { echo "-"; return; }
    awk -F';' -v name="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next }
        { last = $0 } END { if (c) { split(last, f, ";"); print f[c] } }' "$1"
}
echo
echo "REGISTER refreshes: $(stat_col "$WORK/reg_stats.csv" "SuccessfulCall(C)") ok," \
    "$(stat_col "$WORK/reg_stats.csv" "FailedCall(C)") failed"
[ "$SIPP_RATE" != 0 ] && echo "short calls: $(stat_col "$WORK/uac_stats.csv" "SuccessfulCall(C)") ok," \
    "$(stat_col "$WORK/uac_stats.csv" "FailedCall(C)") failed"
# Free ports keep their relay sockets bound for 30 s (switch_media_warm_ports); a leak is
# what stays open after they have been closed.
for _ in $(seq 45); do [ "$(metric switch_media_warm_ports)" = 0 ] && break; sleep 1; done
echo "switch at the start: $FDS0 fds, $UDP0 UDP sockets, ${RSS0} MB RSS"
echo "switch at the end:   $(fds) fds, $(udp_sockets) UDP sockets, $(rss_mb) MB RSS;" \
    "calls active $(metric switch_calls_active), media sessions active $(metric switch_media_sessions_active)"
