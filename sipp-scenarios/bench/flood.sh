#!/usr/bin/env bash
# What a flood costs the switch: an untrusted address sends REGISTERs as fast as it can
# (RATE per second for SECS seconds), then a scanner sweeps OPTIONS with a friendly-scanner
# User-Agent, while a legitimate user on 127.0.0.1 keeps registering. Prints, per phase,
# the packets sent, what the switch answered, what it dropped (its metrics) and its CPU
# (from /proc/PID/task/*/schedstat) as a share of one core. Not a test.
#
#   cargo build --release -p switch
#   sipp-scenarios/bench/flood.sh
#   RATE=50000 SECS=5 sipp-scenarios/bench/flood.sh
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SWITCH="${SWITCH:-$ROOT/target/release/switch}"
RATE="${RATE:-20000}"
SECS="${SECS:-5}"
HTTP_PORT="${HTTP_PORT:-18380}"
SIP_PORT="${SIP_PORT:-5370}"

[ -x "$SWITCH" ] || { echo "$SWITCH not found: cargo build --release -p switch" >&2; exit 1; }
command -v python3 >/dev/null || { echo "python3 not found" >&2; exit 1; }

WORK="$(mktemp -d /tmp/ccswitch-flood.XXXXXX)"
SRV_PID=""
cleanup() {
    if [ -n "$SRV_PID" ]; then kill -TERM "$SRV_PID" 2>/dev/null; wait "$SRV_PID" 2>/dev/null; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

cat > "$WORK/switch.toml" <<TOML
data_dir = "$WORK/data"
[sip]
listen = ["udp:127.0.0.1:$SIP_PORT"]
trusted = []
[http]
listen = "127.0.0.1:$HTTP_PORT"
[[users]]
id = "1001"
password = "pass1001"
TOML

"$SWITCH" --config "$WORK/switch.toml" > "$WORK/switch.log" 2>&1 &
SRV_PID=$!
for _ in $(seq 100); do
    curl -s "http://127.0.0.1:$HTTP_PORT/api/health" >/dev/null 2>&1 && break
    sleep 0.1
done

python3 - "$SRV_PID" "$SIP_PORT" "$HTTP_PORT" "$RATE" "$SECS" <<'PY'
import glob, socket, sys, time, urllib.request

pid, sip_port, http_port, rate, secs = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
switch = ("127.0.0.1", sip_port)

def cpu_ns():
    total = 0
    for f in glob.glob(f"/proc/{pid}/task/*/schedstat"):
        try:
            total += int(open(f).read().split()[0])
        except OSError:
            pass
    return total

def metric(name):
    text = urllib.request.urlopen(f"http://127.0.0.1:{http_port}/metrics").read().decode()
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[-1])
    return 0.0

def request(method, n, ua, me):
    return (f"{method} sip:127.0.0.1:{sip_port} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {me[0]}:{me[1]};branch=z9hG4bKf{n};rport\r\n"
            f"Max-Forwards: 70\r\nFrom: <sip:1001@127.0.0.1>;tag=f{n}\r\n"
            f"To: <sip:1001@127.0.0.1>\r\nCall-ID: flood{n}@x\r\nCSeq: 1 {method}\r\n"
            f"Contact: <sip:1001@{me[0]}:{me[1]}>\r\nUser-Agent: {ua}\r\nExpires: 60\r\n"
            "Content-Length: 0\r\n\r\n").encode()

def phase(label, ip, method, ua, rate):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ip, 0))
    s.setblocking(False)
    me = s.getsockname()
    dropped0 = metric('switch_edge_dropped_total{why="banned"}') + metric('switch_edge_dropped_total{why="rate"}')
    c0, t0 = cpu_ns(), time.monotonic()
    sent = answered = 0
    while True:
        now = time.monotonic()
        if now - t0 >= secs:
            break
        due = int((now - t0) * rate)
        while sent < due:
            try:
                s.sendto(request(method, sent, ua, me), switch)
            except BlockingIOError:
                break
            sent += 1
        try:
            while True:
                s.recv(65536)
                answered += 1
        except BlockingIOError:
            pass
        time.sleep(0.0005)
    elapsed = time.monotonic() - t0
    cpu = (cpu_ns() - c0) / 1e9 / elapsed
    dropped = metric('switch_edge_dropped_total{why="banned"}') + metric('switch_edge_dropped_total{why="rate"}') - dropped0
    print(f"{label:<34} {sent/elapsed:>9.0f} {answered/elapsed:>11.0f} {dropped/elapsed:>10.0f} {cpu*100:>9.1f}%")

print(f"{'phase':<34} {'sent/s':>9} {'answered/s':>11} {'dropped/s':>10} {'switch-cpu':>10}")
phase("REGISTER at 400/s (within its rate)", "127.0.0.4", "REGISTER", "phone/1.0", 400)
phase(f"REGISTER flood at {rate}/s", "127.0.0.2", "REGISTER", "flooder/1.0", rate)
phase(f"friendly-scanner OPTIONS at {rate}/s", "127.0.0.3", "OPTIONS", "friendly-scanner", rate)
print(f"bans: {metric('switch_edge_bans')}, scanners seen: {metric('switch_edge_scanners_total')}")
PY
