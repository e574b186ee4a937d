#!/usr/bin/env bash
# Call-rate benchmark: the switch (B2BUA, anchored RTP) against Kamailio (stateful proxy) on
# the same loopback path, SIPp UAC -> server on 127.0.0.1:5070 -> SIPp UAS on 127.0.0.1:5080.
#
# Not a test: it prints figures. See README.md beside this file for what each one means.
#
#   sipp-scenarios/bench/run.sh                 # default rates, 10 s of calls per rate
#   RATES="500 1000" DURATION=5 sipp-scenarios/bench/run.sh
#   SKIP_KAMAILIO=1 sipp-scenarios/bench/run.sh
#   SERIES=kamailio sipp-scenarios/bench/run.sh # one series only
#   SERIES="switch switch-tls" sipp-scenarios/bench/run.sh   # UDP against TLS, one run
#
# The switch-tls series sends the same calls over SIP over TLS: SIPp (Debian's is built
# without TLS) speaks TCP on one connection (-t t1, as a trunk or SBC would) to stunnel, which
# carries it over one TLS connection to the switch's tls: listener; the callee leg stays UDP.
#
# Every load is bounded in calls (-m) and time (-timeout) and targets 127.0.0.1 only.
# Every process the script starts is stopped on exit (trap EXIT), by its PID.

set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SWITCH="${SWITCH:-$ROOT/target/release/switch}"
KAMAILIO_CFG="${KAMAILIO_CFG:-$ROOT/../shared/bench/kamailio-proxy.cfg}"
[ -f "$KAMAILIO_CFG" ] || KAMAILIO_CFG=/work/shared/bench/kamailio-proxy.cfg

RATES="${RATES:-250 500 1000 1500 2000 2500 3000 4000}"
DURATION="${DURATION:-10}"      # seconds of calls per rate: -m = rate * DURATION
GRACE="${GRACE:-20}"            # extra seconds before SIPp's -timeout ends a stuck run
SAT_RATIO="${SAT_RATIO:-0.90}"  # launched rate below this share of the target = saturated
SERIES="${SERIES:-switch switch-tls kamailio}"
want() { case " $SERIES " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

IP=127.0.0.1
SERVER_PORT=5070                # switch or Kamailio
TLS_PORT=5071                   # switch's SIP over TLS
STUNNEL_PORT=5072               # stunnel's TCP side, where SIPp sends in the switch-tls series
UAS_PORT=5080                   # SIPp UAS
UAC_PORT=5090                   # SIPp UAC
HTTP_PORT=18080                 # switch's /metrics
UAS_MEDIA_PORT=16000            # SIPp's own (unused) media sockets, outside the RTP range
UAC_MEDIA_PORT=16100
BUF=4194304
HZ="$(getconf CLK_TCK)"

log() { printf '%s\n' "$*" >&2; }
die() { log "run.sh: $*"; exit 1; }

# ---------------------------------------------------------------- prerequisites

want switch && [ ! -x "$SWITCH" ] && die "$SWITCH not found; build it first:  cargo build --release -p switch"
command -v sipp >/dev/null || die "sipp not found (Debian package sip-tester)"
command -v curl >/dev/null || die "curl not found"
if want switch-tls && ! command -v stunnel4 >/dev/null && ! command -v stunnel >/dev/null; then
    die "stunnel not found (Debian package stunnel4), needed by the switch-tls series"
fi
want switch-tls && [ ! -x "$SWITCH" ] && die "$SWITCH not found; build it first:  cargo build --release -p switch"
HAVE_KAMAILIO=1
if [ -n "${SKIP_KAMAILIO:-}" ] || ! want kamailio; then
    HAVE_KAMAILIO=0; KAM_NOTE="skipped (SKIP_KAMAILIO set or not in SERIES)"
elif ! command -v kamailio >/dev/null; then
    HAVE_KAMAILIO=0; KAM_NOTE="skipped: kamailio not installed (apt-get install -y kamailio)"
elif [ ! -f "$KAMAILIO_CFG" ]; then
    HAVE_KAMAILIO=0; KAM_NOTE="skipped: $KAMAILIO_CFG not found"
fi

port_busy() { # proto port
    if [ "$1" = udp ]; then ss -Hln -u "sport = :$2" | grep -q .; else ss -Hln -t "sport = :$2" | grep -q .; fi
}
for p in $SERVER_PORT $UAS_PORT $UAC_PORT $UAS_MEDIA_PORT $UAC_MEDIA_PORT; do
    port_busy udp "$p" && die "UDP port $p is already in use on this host"
done
for p in $HTTP_PORT $TLS_PORT $STUNNEL_PORT; do
    port_busy tcp "$p" && die "TCP port $p is already in use on this host"
done

# ---------------------------------------------------------------- process bookkeeping

WORK="$(mktemp -d /tmp/ccswitch-bench.XXXXXX)"
PIDS=()            # every long-running process we started

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

# ---------------------------------------------------------------- measurements from /proc

# utime + stime of a process, in clock ticks (all its threads). The comm field has no
# spaces for switch / kamailio / sipp, but strip it anyway.
ticks_of() { [ -r "/proc/$1/stat" ] && sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | awk '{print $12 + $13}' || echo 0; }

# The process and its direct children (Kamailio forks its workers from the main process).
tree_of() { [ -n "$1" ] || return 0; echo "$1"; ps -o pid= --ppid "$1" 2>/dev/null | tr -d ' '; }

ticks_of_tree() { local s=0 p t; for p in $(tree_of "$1"); do t=$(ticks_of "$p"); s=$((s + ${t:-0})); done; echo $s; }

# Peak resident set (VmHWM, kB) summed over the process and its children.
hwm_of_tree() {
    local p s=0 v
    for p in $(tree_of "$1"); do
        v=$(awk '/^VmHWM:/ {print $2}' "/proc/$p/status" 2>/dev/null)
        s=$((s + ${v:-0}))
    done
    echo $s
}

# Proportional set size (Pss, kB) summed over the process and its children: shared pages
# are split between the processes that map them, so the sum counts Kamailio's shared-memory
# pool once. Kamailio's pools never give pages back, so at the end of a run this is its peak.
pss_of_tree() {
    local p s=0 v
    for p in $(tree_of "$1"); do
        v=$(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup" 2>/dev/null)
        s=$((s + ${v:-0}))
    done
    echo $s
}

# Snapshot "pid ticks" of every process on the host, to charge host noise to a run.
snapshot_all() {
    cat /proc/[0-9]*/stat 2>/dev/null |
        awk '{ pid = $1; l = $0; sub(/^.*\) /, "", l); split(l, a, " "); print pid, a[12] + a[13] }'
}

# CPU (ticks) used during the window by processes that are not ours: pids in the second
# snapshot minus their ticks in the first (0 for processes started in the window).
others_ticks() { # before after ours...
    local before=$1 after=$2; shift 2
    awk -v ours=" $* " 'NR == FNR { t0[$1] = $2; next }
        index(ours, " " $1 " ") == 0 { d = $2 - (($1 in t0) ? t0[$1] : 0); if (d > 0) s += d }
        END { print s + 0 }' "$before" "$after"
}

now_ns() { date +%s%N; }

# ---------------------------------------------------------------- servers

start_switch() { # dir -> sets SRV_PID
    local dir=$1
    mkdir -p "$dir/data"
    cat >"$dir/switch.toml" <<EOF
data_dir = "$dir/data"

[sip]
listen = ["udp:$IP:$SERVER_PORT", "tls:$IP:$TLS_PORT"]
domain = "$IP"
trusted = ["127.0.0.1/32"]

[http]
listen = "$IP:$HTTP_PORT"

[media]
rtp_ports = "20000-29999"
bind_ip = "$IP"
no_media_timeout_secs = 0

[[users]]
id = "2000"
name = "SIPp UAS"
contact = "sip:2000@$IP:$UAS_PORT"
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
    log "switch did not start; last lines of $dir/switch.log:"; tail -20 "$dir/switch.log" >&2
    exit 1
}

start_kamailio() { # dir -> sets SRV_PID
    local dir=$1
    mkdir -p "$dir/run"
    sed -e "s/^listen=udp:127\.0\.0\.1:5060/listen=udp:$IP:$SERVER_PORT/" \
        -e "s#sip:127\.0\.0\.1:5080#sip:$IP:$UAS_PORT#" "$KAMAILIO_CFG" >"$dir/kamailio.cfg"
    grep -q "^listen=udp:$IP:$SERVER_PORT" "$dir/kamailio.cfg" || die "could not set the listen port in $dir/kamailio.cfg"
    kamailio -f "$dir/kamailio.cfg" -Y "$dir/run" -P "$dir/run/kamailio.pid" \
        -m 1024 -M 16 -x fm -X fm -DD -E >"$dir/kamailio.log" 2>&1 &
    SRV_PID=$!
    PIDS+=("$SRV_PID")
    local i
    for ((i = 0; i < 300; i++)); do
        if port_busy udp $SERVER_PORT && [ "$(tree_of "$SRV_PID" | wc -l)" -gt 1 ]; then
            sleep 0.5   # let every child finish its init
            return 0
        fi
        kill -0 "$SRV_PID" 2>/dev/null || break
        sleep 0.1
    done
    log "kamailio did not start; last lines of $dir/kamailio.log:"; tail -20 "$dir/kamailio.log" >&2
    exit 1
}

start_uas() { # dir -> sets UAS_PID
    local dir=$1
    (cd "$dir" && exec sipp -sn uas -i $IP -p $UAS_PORT -mp $UAS_MEDIA_PORT -buff_size $BUF \
        -nostdin -trace_err >"$dir/uas.out" 2>&1) &
    UAS_PID=$!
    PIDS+=("$UAS_PID")
    local i
    for ((i = 0; i < 100; i++)); do
        port_busy udp $UAS_PORT && return 0
        kill -0 "$UAS_PID" 2>/dev/null || break
        sleep 0.1
    done
    log "SIPp UAS did not start:"; tail -20 "$dir/uas.out" >&2
    exit 1
}

start_stunnel() { # dir -> sets TUN_PID (a TLS client: TCP in on STUNNEL_PORT, TLS out to TLS_PORT)
    local dir=$1 bin
    bin=$(command -v stunnel4 || command -v stunnel)
    cat >"$dir/stunnel.conf" <<EOF
foreground = yes
pid =
debug = 3
output = $dir/stunnel.log
[sip-tls]
client = yes
accept = $IP:$STUNNEL_PORT
connect = $IP:$TLS_PORT
verifyChain = no
EOF
    "$bin" "$dir/stunnel.conf" >"$dir/stunnel.out" 2>&1 &
    TUN_PID=$!
    PIDS+=("$TUN_PID")
    local i
    for ((i = 0; i < 100; i++)); do
        port_busy tcp $STUNNEL_PORT && return 0
        kill -0 "$TUN_PID" 2>/dev/null || break
        sleep 0.1
    done
    log "stunnel did not start:"; tail -20 "$dir/stunnel.out" "$dir/stunnel.log" >&2
    exit 1
}

# ---------------------------------------------------------------- one rate step

# Column of a SIPp statistics CSV, from its last line, by header name.
stat_col() { # file name
    awk -F';' -v name="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next }
        { last = $0 } END { if (c) { split(last, f, ";"); print f[c] } }' "$1"
}

# Seconds between two SIPp time stamps ("date<TAB>time<TAB>epoch.micros").
seconds_between() { awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, "\t"); split(b, y, "\t");
        printf "%.1f", y[3] - x[3] }'; }

# p50 / p99 (nearest rank), in ms, of the per-call "setup_us N" lines uac.xml logs.
percentiles() { # file
    awk '$1 == "setup_us" { print $2 / 1000 }' "$1" | sort -g |
        awk '{ v[NR] = $1 } END {
            if (NR == 0) { print "- -"; exit }
            i50 = int(NR * 0.50 + 0.999999); i99 = int(NR * 0.99 + 0.999999)
            printf "%.2f %.2f\n", v[i50], v[i99] }'
}

# One line per kind of event in a SIPp -trace_err log, with its count: the event text up to
# the message, and the first line of the message it names.
summarise_errors() { # file
    grep -aE "[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]+.[0-9]+\.[0-9]+: " "$1" |
        sed -E "s/^.*[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]+.[0-9]+\.[0-9]+: //;
                s/(received '[^ ]+ [^ ]+).*/\1/; s/(Call-I[Dd] |Dead call )[^ ]+/\1X/" |
        sort | uniq -c | sort -rn
}

# Runs one rate against one server; appends a row to ROWS_<kind> and sets STEP_VERDICT
# to ok / failed / saturated.
run_step() { # kind rate
    local kind=$1 rate=$2 dir="$WORK/$1-$2"
    mkdir -p "$dir"
    local target=$SERVER_PORT transport=u1
    TUN_PID=""
    case $kind in
        switch) start_switch "$dir" ;;
        switch-tls) start_switch "$dir"; start_stunnel "$dir"; target=$STUNNEL_PORT; transport=t1 ;;
        kamailio) start_kamailio "$dir" ;;
        direct) SRV_PID=""; target=$UAS_PORT ;;   # no server: SIPp's own floor
    esac
    start_uas "$dir"
    sleep 0.3

    local calls=$((rate * DURATION)) limit=$rate
    local timeout=$((DURATION + GRACE))
    cp "$HERE/uac.xml" "$dir/uac.xml"   # SIPp writes its trace files beside the scenario

    local snap0="$dir/snap0" snap1="$dir/snap1"
    snapshot_all >"$snap0"
    local t0 t1 c0 c1 u0 u1
    local n0=0 n1=0
    [ -n "$TUN_PID" ] && n0=$(ticks_of "$TUN_PID")
    c0=$(ticks_of_tree "$SRV_PID"); u0=$(ticks_of "$UAS_PID"); t0=$(now_ns)

    (cd "$dir" && exec sipp "$IP:$target" -sf uac.xml -s 2000 -i $IP -p $UAC_PORT \
        -t "$transport" -mp $UAC_MEDIA_PORT -buff_size $BUF -d 0 -r "$rate" -rp 1000 -m "$calls" -l "$limit" \
        -timeout "${timeout}s" -nostdin -trace_stat -stf stats.csv -fd 1 \
        -trace_logs -trace_err >"$dir/uac.out" 2>&1) &
    local uac=$!
    PIDS+=("$uac")
    wait "$uac"
    forget_pid "$uac"

    t1=$(now_ns); c1=$(ticks_of_tree "$SRV_PID"); u1=$(ticks_of "$UAS_PID")
    [ -n "$TUN_PID" ] && n1=$(ticks_of "$TUN_PID")
    snapshot_all >"$snap1"
    local hwm_kb pss_kb rss_kb
    hwm_kb=$(hwm_of_tree "$SRV_PID"); pss_kb=$(pss_of_tree "$SRV_PID")
    # switch: one process, its VmHWM. kamailio: several processes sharing a pool, Pss sum.
    if [ "$kind" = kamailio ]; then rss_kb=$pss_kb; else rss_kb=$hwm_kb; fi

    local active="-"
    if [ "$kind" != kamailio ] && [ "$kind" != direct ]; then
        active=$(curl -s --max-time 2 "http://$IP:$HTTP_PORT/metrics" |
            awk '$1 == "switch_calls_active" { print $2 }')
        [ -n "$active" ] || active="?"
    fi

    local stats="$dir/stats.csv" ok failed_sipp launched elapsed rate_sent
    ok=$(stat_col "$stats" "SuccessfulCall(C)"); ok=${ok:-0}
    failed_sipp=$(stat_col "$stats" "FailedCall(C)"); failed_sipp=${failed_sipp:-0}
    launched=$(stat_col "$stats" "OutgoingCall(C)"); launched=${launched:-0}
    elapsed=$(seconds_between "$(stat_col "$stats" StartTime)" "$(stat_col "$stats" CurrentTime)")
    rate_sent=$(stat_col "$stats" "CallRate(C)"); rate_sent=${rate_sent:-0}
    local failed=$((calls - ok))   # failed, timed out, or never launched within -timeout

    local rtt p50 p99
    rtt=$(ls "$dir"/uac_*_logs.log 2>/dev/null | head -1)
    if [ -n "$rtt" ]; then read -r p50 p99 < <(percentiles "$rtt"); else p50=-; p99=-; fi

    local wall cpu uas_cpu others ours
    wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 1e9 }')
    cpu=$(awk -v d=$((c1 - c0)) -v hz="$HZ" -v w="$wall" 'BEGIN { printf "%.0f", 100 * d / hz / w }')
    local tun_cpu=-
    [ -n "$TUN_PID" ] && tun_cpu=$(awk -v d=$((n1 - n0)) -v hz="$HZ" -v w="$wall" 'BEGIN { printf "%.0f", 100 * d / hz / w }')
    uas_cpu=$(awk -v d=$((u1 - u0)) -v hz="$HZ" -v w="$wall" 'BEGIN { printf "%.0f", 100 * d / hz / w }')
    ours="$(tree_of "$SRV_PID" | tr '\n' ' ') $UAS_PID $uac $$ $TUN_PID"
    others=$(others_ticks "$snap0" "$snap1" $ours)
    others=$(awk -v d="$others" -v hz="$HZ" -v w="$wall" 'BEGIN { printf "%.0f", 100 * d / hz / w }')
    local achieved
    achieved=$(awk -v r="$rate_sent" 'BEGIN { printf "%.0f", r }')
    local rss_mb
    rss_mb=$(awk -v k="$rss_kb" 'BEGIN { printf "%.1f", k / 1024 }')
    if [ "$kind" = direct ]; then cpu=-; rss_mb=-; fi

    STEP_VERDICT=ok
    if [ "$failed" -gt 0 ]; then
        STEP_VERDICT=failed
    elif awk -v a="$achieved" -v r="$rate" -v s="$SAT_RATIO" 'BEGIN { exit !(a < r * s) }'; then
        STEP_VERDICT=saturated
    fi

    log "  $kind @ $rate cps: ok=$ok failed=$failed (SIPp FailedCall=$failed_sipp) launched=$launched" \
        "in ${elapsed}s (=${achieved}/s) p50=${p50}ms p99=${p99}ms cpu=${cpu}% rss=${rss_mb}MB" \
        "(VmHWM sum $((hwm_kb / 1024))MB, Pss sum $((pss_kb / 1024))MB)" \
        "uas-cpu=${uas_cpu}% stunnel-cpu=${tun_cpu}% other-procs-cpu=${others}% calls-left=${active} -> $STEP_VERDICT"
    if [ "$STEP_VERDICT" != ok ]; then
        local errs
        for errs in "$dir"/uac_*_errors.log "$dir"/uas_*_errors.log; do
            [ -f "$errs" ] || continue
            log "    SIPp events in $errs (count, kind):"
            summarise_errors "$errs" | head -8 | sed 's/^/      /' >&2
        done
        KEEP_WORK=1
    fi

    printf -v row '%s|%s|%s|%s|%s|%s|%s|%s|%s|%s' "$rate" "$ok" "$failed" "$p50" "$p99" \
        "$cpu" "$rss_mb" "$achieved" "$others" "$STEP_VERDICT"
    case $kind in
        switch) ROWS_switch+=("$row") ;;
        switch-tls) ROWS_switch_tls+=("$row") ;;
        kamailio) ROWS_kamailio+=("$row") ;;
        direct) ROWS_direct+=("$row") ;;
    esac

    stop_pid "$UAS_PID" 3; forget_pid "$UAS_PID"
    if [ -n "$TUN_PID" ]; then stop_pid "$TUN_PID" 3; forget_pid "$TUN_PID"; fi
    stop_pid "$SRV_PID" 10; forget_pid "$SRV_PID"
    sleep 0.5
}

# Rising rates until the first step with failures or saturation; best sustained rate in BEST.
run_series() { # kind
    local kind=$1 rate
    BEST=0
    log "== $kind: rates $RATES, ${DURATION}s of calls each, fresh server + UAS per rate"
    for rate in $RATES; do
        run_step "$kind" "$rate"
        [ "$STEP_VERDICT" = ok ] || break
        BEST=$rate
    done
}

# ---------------------------------------------------------------- main

ROWS_switch=(); ROWS_switch_tls=(); ROWS_kamailio=(); ROWS_direct=()
log "bench work dir: $WORK"
want switch && log "switch: $SWITCH ($(stat -c %y "$SWITCH" | cut -d. -f1))"
log "sipp: $(sipp -v 2>&1 | grep -o 'SIPp v[^ ]*' | head -1); host: $(nproc) cores"

if [ "${BASELINE:-1}" = 1 ]; then
    first_rate=${RATES%% *}
    log "== baseline: SIPp UAC -> SIPp UAS directly at $first_rate calls/s (no server)"
    run_step direct "$first_rate"
fi
BEST_switch=0
if want switch; then run_series switch; BEST_switch=$BEST; fi
BEST_switch_tls=0
if want switch-tls; then run_series switch-tls; BEST_switch_tls=$BEST; fi
if [ $HAVE_KAMAILIO = 1 ]; then
    run_series kamailio; BEST_kamailio=$BEST
fi

print_table() { # title rows...
    local title=$1; shift
    echo
    echo "$title"
    printf '%7s %8s %7s %9s %9s %6s %8s %9s %7s  %s\n' \
        "rate" "ok" "failed" "p50 ms" "p99 ms" "CPU%" "RSS MB" "sent/s" "other%" "verdict"
    local r
    for r in "$@"; do
        IFS='|' read -r rate ok failed p50 p99 cpu rss ach oth verdict <<<"$r"
        printf '%7s %8s %7s %9s %9s %6s %8s %9s %7s  %s\n' \
            "$rate" "$ok" "$failed" "$p50" "$p99" "$cpu" "$rss" "$ach" "$oth" "$verdict"
    done
}

echo
echo "SIPp UAC -> server udp:$IP:$SERVER_PORT -> SIPp UAS udp:$IP:$UAS_PORT; $(nproc) cores;" \
    "${DURATION}s of calls per rate, -d 0 (hang up once set up)"
[ ${#ROWS_direct[@]} -gt 0 ] &&
    print_table "baseline: SIPp UAC -> SIPp UAS directly, no server (SIPp's own latency floor)" "${ROWS_direct[@]}"
want switch && print_table "switch (B2BUA, anchored RTP ports, CDRs to SQLite)" "${ROWS_switch[@]}"
want switch-tls && print_table "switch, caller leg over SIP over TLS (SIPp -t t1 -> stunnel -> one TLS connection; CPU is the switch's alone)" \
    "${ROWS_switch_tls[@]}"
if [ $HAVE_KAMAILIO = 1 ]; then
    print_table "kamailio (stateful proxy, 1 worker, -x fm -X fm; RSS = Pss summed over its processes)" \
        "${ROWS_kamailio[@]}"
fi
echo
echo "highest rate with zero failed calls (and >= ${SAT_RATIO} of it actually sent):"
want switch && echo "  switch:   $BEST_switch calls/s"
want switch-tls && echo "  switch over TLS: $BEST_switch_tls calls/s"
if [ $HAVE_KAMAILIO = 1 ]; then
    echo "  kamailio: $BEST_kamailio calls/s"
    if ! want switch; then
        :
    elif [ "$BEST_kamailio" -gt 0 ]; then
        awk -v a="$BEST_switch" -v b="$BEST_kamailio" 'BEGIN { printf "  ratio switch/kamailio: %.2f\n", a / b }'
    else
        echo "  ratio switch/kamailio: n/a (kamailio passed no rate)"
    fi
    last_rate=${RATES##* }
    if [ "$BEST_switch" = "$last_rate" ] || [ "$BEST_kamailio" = "$last_rate" ]; then
        echo "  (a series that passed the top rate $last_rate is capped by the rate list, not measured to its limit)"
    fi
else
    echo "  kamailio: $KAM_NOTE"
fi
