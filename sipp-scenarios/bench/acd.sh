#!/usr/bin/env bash
# ACD call-rate benchmark: SIPp callers dial a queue DN on the release switch; the switch
# answers each caller itself, queues it, offers it to one of AGENTS agents whose phones are
# all one SIPp UAS; the agent answers, talks TALK_MS, hangs up; the switch hangs up the
# caller. Rates rise until a step loses a call.
#
#   SIPp UAC 127.0.0.1:5190 --INVITE 8000--> switch 127.0.0.1:5170 --INVITE 3001..--> SIPp UAS 127.0.0.1:5180
#
# Not a test: it prints figures (see the end of sipp-scenarios/README.md for each column).
#
#   cargo build --release -p switch
#   sipp-scenarios/bench/acd.sh
#   RATES="50 100" DURATION=5 AGENTS=20 TALK_MS=500 sipp-scenarios/bench/acd.sh
#
# Every load is bounded in calls (-m) and time (-timeout) and targets 127.0.0.1 only.
# Every process the script starts is stopped on exit (trap EXIT), by its PID.

set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SCEN="$ROOT/sipp-scenarios"
SWITCH="${SWITCH:-$ROOT/target/release/switch}"

RATES="${RATES:-100 250 500 750 1000 1250 1500 1750 2000}"
DURATION="${DURATION:-10}"    # seconds of calls per rate: -m = rate * DURATION
GRACE="${GRACE:-20}"          # extra seconds before SIPp's -timeout ends a stuck run
AGENTS="${AGENTS:-300}"       # agents 3001.. in the queue, all ready, one SIPp UAS
TALK_MS="${TALK_MS:-100}"     # how long an agent talks before hanging up
SAT_RATIO="${SAT_RATIO:-0.90}" # launched rate below this share of the target = saturated

IP=127.0.0.1
SERVER_PORT=5170
UAS_PORT=5180
UAC_PORT=5190
HTTP_PORT=18180
UAS_MEDIA_PORT=16200          # SIPp's own media sockets (the switch's music to callers goes
UAC_MEDIA_PORT=16300          # to the UAC's, which nobody reads)
RTP_PORTS="${RTP_PORTS:-20000-29999}"   # 4 ports per call: 2500 calls at once
QUEUE=8000
BUF=4194304
HZ="$(getconf CLK_TCK)"

log() { printf '%s\n' "$*" >&2; }
die() { log "acd.sh: $*"; exit 1; }

[ -x "$SWITCH" ] || die "$SWITCH not found; build it first:  cargo build --release -p switch"
command -v sipp >/dev/null || die "sipp not found (Debian package sip-tester)"
command -v curl >/dev/null || die "curl not found"
command -v jq >/dev/null || die "jq not found (Debian package jq)"
for f in "$HERE/acd_uac.xml" "$SCEN/uas_agent_bye.xml"; do
    [ -f "$f" ] || die "$f missing"
done

port_busy() { # proto port
    if [ "$1" = udp ]; then ss -Hln -u "sport = :$2" | grep -q .; else ss -Hln -t "sport = :$2" | grep -q .; fi
}
for p in $SERVER_PORT $UAS_PORT $UAC_PORT $UAS_MEDIA_PORT $UAC_MEDIA_PORT; do
    port_busy udp "$p" && die "UDP port $p is already in use on this host"
done
port_busy tcp $HTTP_PORT && die "TCP port $HTTP_PORT is already in use on this host"

# ---------------------------------------------------------------- process bookkeeping

WORK="$(mktemp -d /tmp/ccswitch-acd-bench.XXXXXX)"
PIDS=()

stop_pid() { # pid [seconds before SIGKILL]
    local pid=$1 t=${2:-5} i
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null
    for ((i = 0; i < t * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    return 0
}

cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do stop_pid "$pid" 3; done
    PIDS=()
    if [ -n "${KEEP_WORK:-}" ]; then log "work files kept in $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

forget_pid() { local p keep=(); for p in "${PIDS[@]}"; do [ "$p" != "$1" ] && keep+=("$p"); done; PIDS=("${keep[@]}"); }

ticks_of() { [ -r "/proc/$1/stat" ] && sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}' || echo 0; }
now_ns() { date +%s%N; }

# Snapshot "pid ticks" of every process on the host, to charge host noise to a run.
snapshot_all() {
    cat /proc/[0-9]*/stat 2>/dev/null |
        awk '{ pid = $1; l = $0; sub(/^.*\) /, "", l); split(l, a, " "); print pid, a[12] + a[13] }'
}

# CPU ticks used between two snapshots by processes other than the given pids.
others_ticks() { # before after ours...
    local before=$1 after=$2; shift 2
    awk -v ours=" $* " 'NR == FNR { t0[$1] = $2; next }
        index(ours, " " $1 " ") == 0 { d = $2 - (($1 in t0) ? t0[$1] : 0); if (d > 0) s += d }
        END { print s + 0 }' "$before" "$after"
}
api() { curl -s --max-time 5 "http://$IP:$HTTP_PORT$1"; }

# ---------------------------------------------------------------- switch, agents, phones

start_switch() { # dir -> sets SRV_PID
    local dir=$1 i id
    mkdir -p "$dir/data"
    {
        cat <<EOF
data_dir = "$dir/data"

[sip]
listen = ["udp:$IP:$SERVER_PORT"]
domain = "$IP"
trusted = ["127.0.0.1/32"]

[http]
listen = "$IP:$HTTP_PORT"

[media]
rtp_ports = "$RTP_PORTS"
bind_ip = "$IP"
no_media_timeout_secs = 0

[[queues]]
dn = "$QUEUE"
name = "Bench"
strategy = "longest_idle"
offer_timeout_secs = 10
wrap_up = { mode = "fixed", secs = 0 }

EOF
        for ((i = 1; i <= AGENTS; i++)); do
            id=$((3000 + i))
            printf '[[users]]\nid = "%s"\ncontact = "sip:%s@%s:%s"\n\n' "$id" "$id" "$IP" "$UAS_PORT"
            printf '[[agents]]\nid = "%s"\nextension = "%s"\nqueues = ["%s"]\n\n' "$id" "$id" "$QUEUE"
        done
    } >"$dir/switch.toml"
    "$SWITCH" --config "$dir/switch.toml" >"$dir/switch.log" 2>&1 &
    SRV_PID=$!
    PIDS+=("$SRV_PID")
    for ((i = 0; i < 300; i++)); do
        api /api/health | grep -q '"ok"' && return 0
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.1
    done
    log "switch did not start; last lines of $dir/switch.log:"; tail -20 "$dir/switch.log" >&2
    exit 1
}

login_agents() {
    local i id code
    for ((i = 1; i <= AGENTS; i++)); do
        id=$((3000 + i))
        code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST \
            -H 'Content-Type: application/json' -d '{"state":"ready"}' \
            "http://$IP:$HTTP_PORT/api/agents/$id/login")
        [ "$code" = 200 ] || die "login of agent $id answered $code"
    done
    local ready
    ready=$(api "/api/queues/$QUEUE/stats" | jq '.agents.ready')
    [ "$ready" = "$AGENTS" ] || die "$ready agents ready, expected $AGENTS"
}

start_uas() { # dir timeout_s -> sets UAS_PID
    local dir=$1 timeout=$2 i
    cp "$SCEN/uas_agent_bye.xml" "$dir/"
    (cd "$dir" && exec sipp -sf uas_agent_bye.xml -i $IP -p $UAS_PORT -mp $UAS_MEDIA_PORT \
        -d "$TALK_MS" -buff_size $BUF -timeout "${timeout}s" -nostdin -trace_err \
        >"$dir/uas.out" 2>&1) &
    UAS_PID=$!
    PIDS+=("$UAS_PID")
    for ((i = 0; i < 100; i++)); do
        port_busy udp $UAS_PORT && return 0
        kill -0 "$UAS_PID" 2>/dev/null || break
        sleep 0.1
    done
    log "SIPp UAS did not start:"; tail -20 "$dir/uas.out" >&2
    exit 1
}

# ---------------------------------------------------------------- figures

stat_col() { # file name: a column of the last line of a SIPp statistics CSV
    awk -F';' -v name="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next }
        { last = $0 } END { if (c) { split(last, f, ";"); print f[c] } }' "$1"
}

pct() { # p50 and p99 (nearest rank) of the numbers on stdin, "- -" when none
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "- -"; exit }
        i50 = int(NR * 0.50 + 0.999999); i99 = int(NR * 0.99 + 0.999999)
        printf "%.2f %.2f\n", v[i50], v[i99] }'
}

run_step() { # rate
    local rate=$1 dir="$WORK/rate-$1"
    mkdir -p "$dir"
    local calls=$((rate * DURATION)) timeout=$((DURATION + GRACE))
    start_switch "$dir"
    login_agents
    start_uas "$dir" $((timeout + 10))
    sleep 0.3

    cp "$HERE/acd_uac.xml" "$dir/"
    local c0 t0 c1 t1 u0 u1
    snapshot_all >"$dir/snap0"
    c0=$(ticks_of "$SRV_PID"); u0=$(ticks_of "$UAS_PID"); t0=$(now_ns)
    (cd "$dir" && exec sipp "$IP:$SERVER_PORT" -sf acd_uac.xml -s $QUEUE -i $IP \
        -p $UAC_PORT -mp $UAC_MEDIA_PORT -key caller 1001 -key rtp_port $UAC_MEDIA_PORT \
        -buff_size $BUF -r "$rate" -rp 1000 -m "$calls" -l $((rate * 5 + AGENTS)) \
        -timeout "${timeout}s" -nostdin -trace_stat -stf stats.csv -fd 1 \
        -trace_logs -trace_err >"$dir/uac.out" 2>&1) &
    local uac=$!
    PIDS+=("$uac")
    # The UAC's own CPU is charged to "other" unless its pid is known: it is the sipp
    # child of the subshell.
    local uac_sipp=""
    sleep 0.2
    uac_sipp=$(ps -o pid= --ppid "$uac" 2>/dev/null | tr -d ' ')
    wait "$uac"
    forget_pid "$uac"
    t1=$(now_ns); c1=$(ticks_of "$SRV_PID"); u1=$(ticks_of "$UAS_PID")
    snapshot_all >"$dir/snap1"

    # Let the CDR writer catch up, then read what the switch saw.
    local i total=0
    for ((i = 0; i < 100; i++)); do
        total=$(api "/api/cdrs?limit=1" | jq '.total' 2>/dev/null)
        [ "${total:-0}" -ge "$calls" ] && break
        sleep 0.1
    done
    # Every CDR, 10000 a page.
    local off=0
    : >"$dir/cdr-pages.json"
    while [ "$off" -lt "${total:-0}" ]; do
        api "/api/cdrs?limit=10000&offset=$off" >>"$dir/cdr-pages.json"
        off=$((off + 10000))
    done
    jq -s '{cdrs: (map(.cdrs) | add // [])}' "$dir/cdr-pages.json" >"$dir/cdrs.json"
    api "/api/queues/$QUEUE/stats" >"$dir/queue.json"
    local active
    active=$(api /metrics | awk '$1 == "switch_calls_active" { print $2 }')

    local stats="$dir/stats.csv" ok failed_sipp sent
    ok=$(stat_col "$stats" "SuccessfulCall(C)"); ok=${ok:-0}
    failed_sipp=$(stat_col "$stats" "FailedCall(C)"); failed_sipp=${failed_sipp:-0}
    # Launch rate: INVITEs answered, first to last, over the time between them (SIPp's
    # CallRate(C) divides by the whole run, the calls' own length included).
    local calls_log
    calls_log=$(ls "$dir"/acd_uac_*_logs.log 2>/dev/null | head -1)
    sent=0
    if [ -n "$calls_log" ]; then
        sent=$(awk '$1 == "call" { t = $2 + $3 / 1e6; if (n == 0 || t < a) a = t; if (t > b) b = t; n++ }
            END { if (n > 1 && b > a) printf "%.0f", (n - 1) / (b - a); else print 0 }' "$calls_log")
    fi

    local offered answered abandoned rona full asa waiting
    read -r offered answered abandoned rona full asa waiting < <(jq -r \
        '"\(.offered) \(.answered) \(.abandoned) \(.rona) \(.rejected_full) \(.average_speed_of_answer_ms) \(.waiting)"' \
        "$dir/queue.json")
    local cdr_n cdr_bad
    cdr_n=$(jq '.cdrs | length' "$dir/cdrs.json")
    cdr_bad=$(jq '[.cdrs[] | select(.cause != "normal" or .answer_ms == null)] | length' "$dir/cdrs.json")

    # Lost: every call SIPp did not complete, and every call the switch did not get an
    # agent to answer (one call may count in both: take the larger).
    local lost_sipp=$((calls - ok)) lost_switch=$((calls - answered))
    local lost=$lost_sipp
    [ "$lost_switch" -gt "$lost" ] && lost=$lost_switch

    # Caller: INVITE -> the switch's 200 (it answers queue calls itself). Agent: the
    # switch's INVITE arrival -> the agent's answer bridged (CDR ring_secs).
    local setup agent
    if [ -n "$calls_log" ]; then
        setup=$(awk '$1 == "call" { print $5 / 1000 }' "$calls_log" | pct)
    else
        setup="- -"
    fi
    agent=$(jq -r '.cdrs[] | select(.answer_ms != null) | .ring_secs * 1000' "$dir/cdrs.json" | pct)

    local wall cpu uas_cpu others
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 1e9 }')
    cpu=$(awk -v d=$((c1 - c0)) -v hz="$HZ" -v w="$wall" 'BEGIN { printf "%.0f", 100 * d / hz / w }')
    uas_cpu=$(awk -v d=$((u1 - u0)) -v hz="$HZ" -v w="$wall" 'BEGIN { printf "%.0f", 100 * d / hz / w }')
    others=$(others_ticks "$dir/snap0" "$dir/snap1" "$SRV_PID" "$UAS_PID" "$uac" $uac_sipp $$)
    others=$(awk -v d="$others" -v hz="$HZ" -v w="$wall" 'BEGIN { printf "%.0f", 100 * d / hz / w }')

    STEP_VERDICT=ok
    if [ "$lost" -gt 0 ]; then
        STEP_VERDICT=lost
    elif awk -v a="$sent" -v r="$rate" -v s="$SAT_RATIO" 'BEGIN { exit !(a < r * s) }'; then
        STEP_VERDICT=saturated
    fi
    log "  $rate cps: ok=$ok lost=$lost (SIPp failed=$failed_sipp, not completed=$lost_sipp," \
        "offered=$offered answered=$answered abandoned=$abandoned rona=$rona full=$full" \
        "waiting=$waiting) CDRs=$cdr_n (not normal/answered: $cdr_bad) sent=${sent}/s" \
        "setup p50/p99=${setup/ //} ms agent p50/p99=${agent/ //} ms ASA=${asa} ms" \
        "cpu=${cpu}% uas-cpu=${uas_cpu}% other-procs-cpu=${others}% calls-left=${active:-?} -> $STEP_VERDICT"
    if [ "$STEP_VERDICT" != ok ]; then
        local f
        for f in "$dir"/uac_*_errors.log "$dir"/uas_*_errors.log; do
            [ -f "$f" ] || continue
            log "    first lines of $f:"; head -5 "$f" | sed 's/^/      /' >&2
        done
        KEEP_WORK=1
    fi
    local s50 s99 a50 a99
    read -r s50 s99 <<<"$setup"; read -r a50 a99 <<<"$agent"
    ROWS+=("$rate|$ok|$lost|$s50|$s99|$a50|$a99|$asa|$rona|$cpu|$sent|$others|$STEP_VERDICT")

    stop_pid "$UAS_PID" 3; forget_pid "$UAS_PID"
    stop_pid "$SRV_PID" 10; forget_pid "$SRV_PID"
    sleep 0.5
}

# ---------------------------------------------------------------- main

ROWS=()
BEST=0
log "ACD bench work dir: $WORK"
log "switch: $SWITCH ($(stat -c %y "$SWITCH" | cut -d. -f1)); sipp: $(sipp -v 2>&1 | grep -o 'SIPp v[^ ]*' | head -1); $(nproc) cores"
log "queue $QUEUE (longest_idle, wrap-up 0 s), $AGENTS agents on one SIPp UAS talking ${TALK_MS} ms;" \
    "rates $RATES; ${DURATION}s of calls per rate; fresh switch + UAS per rate"
for rate in $RATES; do
    run_step "$rate"
    [ "$STEP_VERDICT" = ok ] || break
    BEST=$rate
done

cap=$(awk -v n="$AGENTS" -v t="$TALK_MS" 'BEGIN { printf "%.0f", n * 1000 / (t > 0 ? t : 1) }')
echo
echo "SIPp UAC -> queue $QUEUE on switch udp:$IP:$SERVER_PORT -> $AGENTS agents (SIPp UAS udp:$IP:$UAS_PORT," \
    "talk ${TALK_MS} ms, agent capacity < $cap calls/s); $(nproc) cores; ${DURATION}s of calls per rate"
printf '%6s %7s %6s %10s %10s %10s %10s %7s %5s %5s %7s %7s  %s\n' \
    rate ok lost "setup p50" "setup p99" "agent p50" "agent p99" "ASA ms" rona "CPU%" "sent/s" "other%" verdict
for r in "${ROWS[@]}"; do
    IFS='|' read -r rate ok lost s50 s99 a50 a99 asa rona cpu sent oth verdict <<<"$r"
    printf '%6s %7s %6s %10s %10s %10s %10s %7s %5s %5s %7s %7s  %s\n' \
        "$rate" "$ok" "$lost" "$s50" "$s99" "$a50" "$a99" "$asa" "$rona" "$cpu" "$sent" "$oth" "$verdict"
done
echo
echo "highest rate with zero lost calls (and >= ${SAT_RATIO} of it actually sent): $BEST calls/s"
last_rate=${RATES##* }
[ "$BEST" = "$last_rate" ] && echo "  (capped by the rate list, not measured to its limit: raise RATES)"
