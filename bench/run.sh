#!/usr/bin/env bash
# Throughput benchmark: Postfix's smtp-source drives an SMTP server that relays to Postfix's
# smtp-sink, on loopback. Prints one Markdown table row per scenario: messages/second, peak RSS
# and CPU seconds per 1,000 messages of the server under test.
#
#   bench/run.sh [messages] [sessions] [size-bytes]      (defaults: 20000 20 1024)
#
# Scenarios: the ceiling (smtp-source straight into smtp-sink) and Slimta with a memory queue,
# a proxy queue, and a blackhole relay (edge + queue only). Peers (Postfix, Haraka) and the
# durable queues are added as they land; see docs/benchmarks.md.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
msgs="${1:-20000}"; sessions="${2:-20}"; size="${3:-1024}"
export PATH="$PATH:/usr/sbin"
work="$(mktemp -d /tmp/slimta-bench.XXXXXX)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 400); do (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.025; done; echo "port $1 never opened" >&2; return 1; }
cpu_seconds() { awk '{ printf "%.2f", ($14 + $15) / 100 }' "/proc/$1/stat"; }   # utime+stime, USER_HZ=100
peak_rss_mib() { awk '/VmHWM/ { printf "%.0f", $2 / 1024 }' "/proc/$1/status"; }

dotnet build "$here/host/slimta/slimta.csproj" -c Release -nologo -v quiet -clp:ErrorsOnly >&2

sink_port="$(free_port)"
smtp-sink $( [ "$(id -u)" = 0 ] && echo "-u nobody" ) -c 127.0.0.1:"$sink_port" 1000 > "$work/sink.log" 2>&1 &
pids+=($!)
wait_port "$sink_port"

# load PORT [smtp-source flags] -> seconds taken by smtp-source to send $msgs messages over
# $sessions parallel sessions. Without -d every message has its own connection (so msg/s is also
# sessions/s); with -d each session sends its messages over one connection.
load() {
  local start end port="$1"; shift
  start=$(date +%s.%N)
  smtp-source "$@" -s "$sessions" -m "$msgs" -l "$size" -f bench@client.test -t rcpt@remote.test 127.0.0.1:"$port"
  end=$(date +%s.%N)
  echo "$end - $start" | bc -l
}

row() { # name seconds [pid]
  local rate; rate=$(echo "$msgs / $2" | bc -l)
  if [ -n "${3:-}" ]; then
    printf '| %s | %d | %d | %.0f | %s | %.2f |\n' "$1" "$msgs" "$sessions" "$rate" "$(peak_rss_mib "$3")" "$(echo "$(cpu_seconds "$3") * 1000 / $msgs" | bc -l)"
  else
    printf '| %s | %d | %d | %.0f | – | – |\n' "$1" "$msgs" "$sessions" "$rate"
  fi
}

echo "| scenario | messages | sessions | msg/s | peak RSS MiB | CPU s / 1000 msg |"
echo "|---|---|---|---|---|---|"
row "ceiling: smtp-source → smtp-sink, a connection per message" "$(load "$sink_port")"
row "ceiling: smtp-source → smtp-sink, connections reused (-d)" "$(load "$sink_port" -d)"

slimta_run() { # name queue-type relay-yaml [smtp-source flags]
  local port cfg pid secs name="$1" qtype="$2" relay="$3"; shift 3
  port="$(free_port)"
  cfg="$work/run-$RANDOM.conf"
  cat > "$cfg" <<CONF
process:
  slimta:
    logging: {level: warning}
edge:
  inbound:
    type: smtp
    queue: q
    listener: {interface: 127.0.0.1, port: $port}
    max_connections: 2000
queue:
  q:
    type: $qtype
    relay: r
$( [ "$qtype" = disk ] && printf '    envelope_dir: %s/spool/env\n    meta_dir: %s/spool/meta\n    create_dirs: true\n' "$work" "$work" )
relay:
  r:
$relay
CONF
  rm -rf "$work/spool"
  dotnet "$here/artifacts/bin/Release/slimta/slimta.dll" -c "$cfg" > "$cfg.log" 2>&1 &
  pid=$!; pids+=("$pid")
  wait_port "$port"
  secs="$(load "$port" "$@")"
  # Let queued mail drain before reading CPU, so relaying is counted too.
  sleep 2
  row "Slimta, $name" "$secs" "$pid"
  kill "$pid"; wait "$pid" 2>/dev/null || true
}

sink_relay="    type: static
    host: 127.0.0.1
    port: $sink_port
    concurrent_connections: 20"
slimta_run "memory queue → blackhole, a connection per message" memory "    type: blackhole"
slimta_run "memory queue → blackhole, connections reused (-d)" memory "    type: blackhole" -d
slimta_run "memory queue → static relay → smtp-sink" memory "$sink_relay" -d
slimta_run "proxy queue → static relay → smtp-sink" proxy "${sink_relay/20/40}" -d
slimta_run "disk queue (fsync) → static relay → smtp-sink" disk "$sink_relay" -d
