#!/usr/bin/env bash
# RTP relay benchmark: N concurrent G.711 calls through the switch, then the same through
# rtpengine (userspace forwarding, set up over its ng protocol), in one run. Not a test: it
# prints figures. The load driver is `rtpload` (tests/src/bin/rtpload): each call is two
# streams at 50 packets/s, 160-byte PCMU payloads; it measures at the receivers (loss,
# reordering, the delay the relay adds) and the relay's CPU and RSS, raising N until a
# packet is lost or the p99 added delay passes MAX_P99_MS.
#
# The queue series: N callers waiting in a queue with no agent, each hearing the switch's
# music on hold and position announcements (every 10 s): the switch playing, not relaying.
# Its delay is measured against the RTP timestamps of what the switch sends; a frame is late
# when it arrives more than one frame (20 ms) behind its schedule; the series stops at the
# first step with a lost or late frame.
#
#   cargo build --release -p switch && cargo build --release -p e2e --bin rtpload
#   sipp-scenarios/bench/rtp.sh
#   CALLS="500 1000 2000" SECS=5 sipp-scenarios/bench/rtp.sh
#   SERIES="switch" sipp-scenarios/bench/rtp.sh
#
# Everything runs on 127.0.0.1; every process started is stopped on exit.

set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SWITCH="${SWITCH:-$ROOT/target/release/switch}"
RTPLOAD="${RTPLOAD:-$ROOT/target/release/rtpload}"
CALLS="${CALLS:-250 500 1000 1500 2000 2500 3000 4000}"
WARMUP="${WARMUP:-3}"
SECS="${SECS:-10}"
MAX_P99_MS="${MAX_P99_MS:-5}"
SERIES="${SERIES:-direct switch rtpengine queue}"
SOCKETS="${SOCKETS:-8}"
want() { case " $SERIES " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

IP=127.0.0.1
SIP_PORT=5070
UAS_PORT=5085
HTTP_PORT=18080
NG_PORT=2223

log() { printf '%s\n' "$*" >&2; }
die() { log "rtp.sh: $*"; exit 1; }

[ -x "$RTPLOAD" ] || die "$RTPLOAD not found; build it:  cargo build --release -p e2e --bin rtpload"
{ want switch || want queue; } && { [ -x "$SWITCH" ] || die "$SWITCH not found; build it:  cargo build --release -p switch"; }
if want rtpengine && ! command -v rtpengine >/dev/null; then
    log "rtpengine not installed (apt-get install -y rtpengine-daemon): its series is skipped"
    SERIES="${SERIES/rtpengine/}"
fi

WORK="$(mktemp -d /tmp/ccswitch-rtp.XXXXXX)"
PIDS=()
stop_pid() {
    local pid=$1 i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; return 0
}
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do stop_pid "$pid"; done
    if [ -n "${KEEP_WORK:-}" ]; then log "work files kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_switch() { # extra config
    local dir="$WORK/switch-$RANDOM"
    mkdir -p "$dir/data"
    cat >"$dir/switch.toml" <<EOF
data_dir = "$dir/data"

[sip]
listen = ["udp:$IP:$SIP_PORT"]
domain = "$IP"
trusted = ["127.0.0.1/32"]

[http]
listen = "$IP:$HTTP_PORT"

[media]
rtp_ports = "20000-29999"
bind_ip = "$IP"

[[users]]
id = "2000"
name = "rtpload callee"
contact = "sip:2000@$IP:$UAS_PORT"

[acd]
announce_every_secs = 10

[[queues]]
dn = "700"
name = "Waiting"
EOF
    "$SWITCH" --config "$dir/switch.toml" >"$dir/switch.log" 2>&1 &
    SRV_PID=$!
    PIDS+=("$SRV_PID")
    local i
    for ((i = 0; i < 300; i++)); do
        grep -qs "switch ready" "$dir/switch.log" && return 0
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.1
    done
    tail -20 "$dir/switch.log" >&2
    die "switch did not start"
}

start_rtpengine() {
    local dir="$WORK/rtpengine"
    mkdir -p "$dir"
    # Userspace forwarding (--table=-1: no kernel module), one worker per core as the switch.
    rtpengine --foreground --log-stderr --table=-1 --interface=$IP --listen-ng=$IP:$NG_PORT \
        --port-min=30000 --port-max=39999 --num-threads="$(nproc)" --log-level=4 \
        --pidfile="$dir/pid" >"$dir/rtpengine.log" 2>&1 &
    SRV_PID=$!
    PIDS+=("$SRV_PID")
    local i
    for ((i = 0; i < 100; i++)); do
        ss -Hlnu "sport = :$NG_PORT" | grep -q . && return 0
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.1
    done
    tail -20 "$dir/rtpengine.log" >&2
    die "rtpengine did not start"
}

# rtpload's arguments for the steps, comma separated.
steps=$(echo "$CALLS" | tr ' ' ',')
declare -A ROWS BEST
run_series() { # kind
    local kind=$1 args=()
    SRV_PID=""
    case $kind in
        switch) start_switch; args=(--sip "$IP:$SIP_PORT" --uas "$IP:$UAS_PORT" --pid "$SRV_PID") ;;
        rtpengine) start_rtpengine; args=(--ng "$IP:$NG_PORT" --pid "$SRV_PID") ;;
        queue) start_switch; args=(--sip "$IP:$SIP_PORT" --user 700 --pid "$SRV_PID") ;;
        direct) ;;
    esac
    log "== $kind: calls $CALLS, ${WARMUP}s warm-up + ${SECS}s measured per step"
    "$RTPLOAD" --mode "$kind" --calls "$steps" --warmup "$WARMUP" --secs "$SECS" \
        --sockets "$SOCKETS" --max-p99-ms "$MAX_P99_MS" "${args[@]}" >"$WORK/$kind.out" 2>"$WORK/$kind.err"
    sed 's/^/  /' "$WORK/$kind.err" >&2
    ROWS[$kind]=$(grep '^RESULT' "$WORK/$kind.out")
    # The highest step with no loss and p99 within the limit.
    BEST[$kind]=$(echo "${ROWS[$kind]}" | awk -v lim="$MAX_P99_MS" -v kind="$kind" '
        { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
          if (kind == "queue") { if (v["lost"] == 0 && v["late"] == 0) best = v["calls"] }
          else if (v["lost"] == 0 && v["p99_us"] <= lim * 1000) best = v["calls"] }
        END { print best + 0 }')
    [ -n "$SRV_PID" ] && stop_pid "$SRV_PID"
    sleep 1
}

log "rtp bench: $(nproc) cores; work dir $WORK"
for kind in direct switch rtpengine queue; do want "$kind" && run_series "$kind"; done

field() { echo "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { print $2 }'; }
echo
echo "Concurrent G.711 calls, 2 streams x 50 packets/s each; added delay = one-way delay less the stream's least"
printf '%-10s %6s %8s %6s %6s %5s %8s %8s %8s %8s %10s %8s %8s %7s\n' \
    series calls pkts/s lost reord late "p50 us" "p99 us" "max us" "CPU %" "%/kpkt/s" "RSS MB" "driver%" "other%"
for kind in direct switch rtpengine queue; do
    want "$kind" || continue
    while read -r row; do
        [ -n "$row" ] || continue
        printf '%-10s %6s %8s %6s %6s %5s %8s %8s %8s %8s %10s %8s %8s %7s\n' "$kind" \
            "$(field "$row" calls)" "$(field "$row" pps)" "$(field "$row" lost)" "$(field "$row" reordered)" \
            "$(field "$row" late)" "$(field "$row" p50_us)" "$(field "$row" p99_us)" "$(field "$row" max_us)" \
            "$(field "$row" relay_cpu_pct)" "$(field "$row" cpu_pct_per_kpps)" "$(field "$row" relay_rss_mb)" \
            "$(field "$row" driver_cpu_pct)" "$(field "$row" others_cpu_pct)"
    done <<<"${ROWS[$kind]}"
done
echo
echo "highest step with zero loss and p99 added delay <= ${MAX_P99_MS} ms (the top step of CALLS caps it):"
for kind in switch rtpengine; do want "$kind" && echo "  $kind: ${BEST[$kind]} calls"; done
want queue && echo "  queue (callers hearing music and announcements, no lost or late frame): ${BEST[queue]} callers"
if want switch && want rtpengine; then
    # CPU per 1,000 packets/s at the largest step both passed.
    common=$(( BEST[switch] < BEST[rtpengine] ? BEST[switch] : BEST[rtpengine] ))
    s=$(echo "${ROWS[switch]}" | grep " calls=$common " | head -1)
    r=$(echo "${ROWS[rtpengine]}" | grep " calls=$common " | head -1)
    if [ -n "$s" ] && [ -n "$r" ]; then
        awk -v a="$(field "$s" cpu_pct_per_kpps)" -v b="$(field "$r" cpu_pct_per_kpps)" -v n="$common" 'BEGIN {
            printf "  CPU per 1,000 packets/s at %d calls: switch %.3f%%, rtpengine %.3f%% of a core (rtpengine/switch %.2f)\n", n, a, b, b / a }'
    fi
fi
