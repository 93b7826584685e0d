#!/usr/bin/env bash
# Steady-state A/B of one Slimta build: starts an smtp-sink and Slimta (memory, disk or proxy
# queue relaying to it), warms it up, then sends MESSAGES with smtp-source (1 KiB, 20 sessions,
# connections reused) and prints msg/s, user and system CPU ms per message, how busy Slimta,
# smtp-source and smtp-sink kept the cores (they share them), and the context switches per
# message of each thread group (voluntary/involuntary, from /proc/PID/task/*/status).
#
#   bench/steady.sh QUEUE [MESSAGES=20000] [WARMUP=20000]
#   DLL=/other/checkout/artifacts/bin/Release/slimta/slimta.dll bench/steady.sh memory   # another build
#   CONNS=100 bench/steady.sh proxy                                                     # relay connections
#   CHAIN=true bench/steady.sh proxy          # chain_messages (default: false for proxy, not written otherwise;
#   CHAIN=omit DLL=... bench/steady.sh proxy  #   omit it for a build from before the key existed)
#   PERF=1 bench/steady.sh memory    # also `perf record -g` the measured pass into $work/perf.data
#
# Run A and B alternately, several times, on a quiet machine: this is how the changes in
# docs/benchmarks.md ("Third session") were measured. bench/run.sh remains the comparison with peers.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
queue="${1:?usage: bench/steady.sh memory|disk|proxy [MESSAGES] [WARMUP]}"; n="${2:-20000}"; warm="${3:-20000}"
dll="${DLL:-$here/artifacts/bin/Release/slimta/slimta.dll}"
export PATH="$PATH:/usr/sbin"
[ -n "${DLL:-}" ] || dotnet build "$here/host/slimta/slimta.csproj" -c Release -nologo -v quiet -clp:ErrorsOnly >&2
work="$(mktemp -d /tmp/slimta-steady.XXXXXX)"; chmod 755 "$work"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.5; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 800); do (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.025; done; echo "port $1 never opened" >&2; return 1; }
sink_port="$(free_port)"; port="$(free_port)"
smtp-sink $( [ "$(id -u)" = 0 ] && echo "-u nobody" ) -c 127.0.0.1:"$sink_port" 1000 > "$work/sink.log" 2>&1 & sink_pid=$!; pids+=("$sink_pid")
cat > "$work/slimta.conf" <<CONF
process:
  slimta:
    logging: {level: warning}
edge:
  inbound:
    type: smtp
    queue: q
    listener: {interface: 127.0.0.1, port: $port}
queue:
  q:
    type: $queue
    relay: r
$( [ "$queue" = disk ] && printf '    envelope_dir: %s/spool/env\n    meta_dir: %s/spool/meta\n    create_dirs: true\n' "$work" "$work" )
relay:
  r:
    type: static
    host: 127.0.0.1
    port: $sink_port
    concurrent_connections: ${CONNS:-20}
$( chain="${CHAIN:-$( [ "$queue" = proxy ] && echo false || echo omit )}"; [ "$chain" = omit ] || echo "    chain_messages: $chain" )
CONF
wait_port "$sink_port"
DOTNET_PerfMapEnabled="${PERF:+1}" DOTNET_EnableWriteXorExecute="${PERF:+0}" dotnet "$dll" -c "$work/slimta.conf" > "$work/slimta.log" 2>&1 &
spid=$!; pids+=("$spid")
wait_port "$port"
sink_count() { tail -c 300 "$work/sink.log" | tr '\r' '\n' | grep -o 'mesg=[0-9]*' | tail -1 | cut -d= -f2 || true; }
wait_sink() { for _ in $(seq 1 6000); do [ "$(sink_count)" -ge "$1" ] 2>/dev/null && return 0; sleep 0.05; done; echo "sink never saw $1" >&2; }
src() { smtp-source -d -s 20 -m "$1" -l 1024 -f bench@client.test -t rcpt@remote.test 127.0.0.1:"$port"; }
threads() { # PID -> JSON {tid: [name, voluntary, involuntary]}
  python3 - "$1" <<'PY'
import os, sys, json
pid = sys.argv[1]; out = {}
for t in os.listdir(f'/proc/{pid}/task'):
    try:
        name = open(f'/proc/{pid}/task/{t}/comm').read().strip().rstrip('0123456789-')
        st = open(f'/proc/{pid}/task/{t}/status').read()
        out[t] = [name, int(st.split('\nvoluntary_ctxt_switches:')[1].split()[0]), int(st.split('nonvoluntary_ctxt_switches:')[1].split()[0])]
    except (OSError, IndexError):
        pass
print(json.dumps(out))
PY
}
cpu() { awk '{print $14, $15}' "/proc/$1/stat"; }

[ "$warm" -gt 0 ] && { src "$warm"; wait_sink "$warm"; sleep 1; }
before_threads="$(threads "$spid")"; read -r u0 s0 < <(cpu "$spid"); read -r ku0 ks0 < <(cpu "$sink_pid")
[ -n "${PERF:-}" ] && { perf record -F 999 -g -p "$spid" -o "$work/perf.data" 2>/dev/null & perfpid=$!; sleep 0.3; }
# In a subshell that reads its own reaped children's CPU: smtp-source's alone.
t0=$(date +%s.%N); src_ticks=$(src "$n" >&2; awk '{print $16 + $17}' "/proc/$BASHPID/stat"); t1=$(date +%s.%N)
wait_sink $((warm + n)); t2=$(date +%s.%N)
[ -n "${PERF:-}" ] && { kill -INT "$perfpid"; wait "$perfpid" || true; cp "$work/perf.data" ./perf.data; echo "perf data: ./perf.data" >&2; }
read -r u1 s1 < <(cpu "$spid"); after_threads="$(threads "$spid")"; read -r ku1 ks1 < <(cpu "$sink_pid")
tick=$(getconf CLK_TCK)
# msg/s as bench/run.sh counts it (until smtp-source is done), then until the sink has every
# message: a relay that falls behind shows as a gap between the two.
printf '%s: %.0f msg/s (%.0f to the sink), user %.3f ms/msg, system %.3f ms/msg\n' "$queue" "$(echo "$n / ($t1 - $t0)" | bc -l)" "$(echo "$n / ($t2 - $t0)" | bc -l)" \
  "$(echo "($u1 - $u0) * 1000 / $tick / $n" | bc -l)" "$(echo "($s1 - $s0) * 1000 / $tick / $n" | bc -l)"
# Who used the two cores: the load generator and the next hop share them with Slimta (Slimta's
# and the sink's CPU run until the sink has every message, so they include the relay's tail).
printf '  cores busy during the pass: slimta %.2f, smtp-source %.2f, smtp-sink %.2f (CPU per message: %.1f / %.1f / %.1f µs)\n' \
  "$(echo "($u1 - $u0 + $s1 - $s0) / $tick / ($t1 - $t0)" | bc -l)" "$(echo "($src_ticks) / $tick / ($t1 - $t0)" | bc -l)" \
  "$(echo "($ku1 - $ku0 + $ks1 - $ks0) / $tick / ($t1 - $t0)" | bc -l)" "$(echo "($u1 - $u0 + $s1 - $s0) * 1000000 / $tick / $n" | bc -l)" \
  "$(echo "($src_ticks) * 1000000 / $tick / $n" | bc -l)" "$(echo "($ku1 - $ku0 + $ks1 - $ks0) * 1000000 / $tick / $n" | bc -l)"
python3 - "$before_threads" "$after_threads" "$n" <<'PY'
import json, sys, collections
a, b, n = json.loads(sys.argv[1]), json.loads(sys.argv[2]), int(sys.argv[3])
agg = collections.defaultdict(lambda: [0, 0, 0])
for t, (name, v, nv) in b.items():
    v0, nv0 = (a[t][1], a[t][2]) if t in a else (0, 0)
    agg[name][0] += v - v0; agg[name][1] += nv - nv0; agg[name][2] += 1
for name, (v, nv, c) in sorted(agg.items(), key=lambda x: -(x[1][0] + x[1][1])):
    if v + nv:
        print(f'  {name:24s} threads={c:2d} context switches per message: voluntary {v/n:.2f}, involuntary {nv/n:.2f}')
PY
