#!/usr/bin/env bash
# Slimta against the ceiling, Postfix and Haraka, on loopback. Prints Markdown tables.
#
#   bench/run.sh [quick|full] [only-these-scenarios...]
#
#   quick (default, ~2 min here): 1 KiB at 20 sessions; 2,000 idle connections; a 5,000-message drain.
#   full  (~8 min here): 1 KiB and 100 KiB at 1, 20 and 100 sessions; 10,000 idle connections; a
#         100,000-message drain (DRAIN=N overrides).
#   Scenarios: ceiling proxy memory disk redis postfix haraka idle drain (default: all).
#
# Load: Postfix's smtp-source sends the messages (msg/s), then bench/loadgen.py sends a shorter
# pass at the same concurrency and size for p50/p99 from the final "." to the 250 reply (Python
# cannot drive the servers at full speed, so throughput comes from smtp-source). Next hop: one
# Postfix smtp-sink. CPU is user+system seconds of the server's process tree (Postfix: master and
# every child, reaped ones included) per 1,000 messages, counted until smtp-sink has received every
# message of the cell, so relaying is included. Peak RSS is the tree's largest proportional resident size (PSS)
# sampled every 200 ms during the cell.
#
# Peers: Postfix from Debian (apt-get install postfix; configured here in a private directory as
# a relay to the sink); Haraka 3 from npm, installed in bench/haraka/node_modules on first run.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench="$here/bench"
mode="${1:-quick}"; shift || true
only=" ${*:-ceiling proxy memory disk redis postfix haraka idle drain} "
export PATH="$PATH:/usr/sbin"
ulimit -n "$(ulimit -Hn)"

if [ "$mode" = full ]; then
  sizes="1024 102400"; sessions_list="1 20 100"; idle_count=10000; drain="${DRAIN:-100000}"
else
  sizes="1024"; sessions_list="20"; idle_count=2000; drain="${DRAIN:-5000}"
fi

# msgs SIZE SESSIONS -> how many messages smtp-source sends in one cell (bounded run time).
# A 1 KiB cell at 20 or 100 sessions sends 10,000 messages times cell_scale, which warm_up sets
# from the server's warm-up rate so that the cell lasts about 3 s (at most 60,000 messages): at
# 10,000 a fast server's cell took half a second, and one hiccup of a shared VM moved it by 10 %.
cell_scale=1
msgs() {
  local base=10000
  [ "$1" -gt 10000 ] && base=2000
  [ "$2" = 1 ] && base=$((base / 20))
  [ "$1" -le 10000 ] && [ "$2" != 1 ] && base=$((base * cell_scale))
  echo "$base"
}
# Latency pass: fewer messages, same shape (not scaled: the Python client is the slow side there).
lat_msgs() { local m; m=$(cell_scale=1 msgs "$1" "$2"); echo $((m / 4)); }

work="$(mktemp -d /tmp/slimta-bench.XXXXXX)"; chmod 755 "$work"   # Postfix daemons run as postfix
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  [ -f "$work/postfix/main.cf" ] && postfix -c "$work/postfix" stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 800); do (echo > "/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.025; done; echo "port $1 never opened" >&2; return 1; }
cpu_of() { python3 "$bench/procstat.py" cpu "$1"; }
rss_of() { python3 "$bench/procstat.py" rss "$1"; }

# ---------------------------------------------------------------------------------------------
# The next hop, and counting what it received.
sink_port="$(free_port)"
smtp-sink $( [ "$(id -u)" = 0 ] && echo "-u nobody" ) -c 127.0.0.1:"$sink_port" 1000 > "$work/sink.log" 2>&1 &
pids+=($!)
wait_port "$sink_port"
sink_count() { tail -c 300 "$work/sink.log" | tr '\r' '\n' | grep -o 'mesg=[0-9]*' | tail -1 | cut -d= -f2 || true; }
# wait_sink TARGET TIMEOUT-SECONDS: until smtp-sink has counted TARGET messages in total.
wait_sink() {
  local deadline=$((SECONDS + $2)) n
  while :; do
    n="$(sink_count)"; n="${n:-0}"
    [ "$n" -ge "$1" ] && return 0
    [ "$SECONDS" -ge "$deadline" ] && { echo "sink saw $n of $1 messages" >&2; return 1; }
    sleep 0.05
  done
}

echo "Machine: $(nproc) CPU ($(uname -m)), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, $(. /etc/os-release; echo "$PRETTY_NAME"), $(dotnet --version 2>/dev/null | sed 's/^/.NET SDK /'), $(postconf -d mail_version 2>/dev/null | sed 's/.*= /Postfix /'), node $(node --version)"
echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC'); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

rows=()
# cell NAME PORT SERVER-PID SIZE SESSIONS [smtp-source flags]: one table row.
cell() {
  local name="$1" port="$2" pid="$3" size="$4" sess="$5"; shift 5
  local n ln before start end cpu0 cpu1 watch lat secs rate p50 p99 peak cpu
  n=$(msgs "$size" "$sess"); ln=$(lat_msgs "$size" "$sess")
  before="$(sink_count)"; before="${before:-0}"
  if [ -n "$pid" ]; then
    cpu0="$(cpu_of "$pid")"; rm -f "$work/peak"
    python3 "$bench/procstat.py" watch "$pid" "$work/peak" & watch=$!
    # Started before the load, not with it: the interpreter's start-up would compete with the
    # first part of a short cell (the ceiling has no server and no watcher).
    for _ in $(seq 1 100); do [ -s "$work/peak" ] && break; sleep 0.02; done
  fi
  start=$(date +%s.%N)
  smtp-source -d "$@" -s "$sess" -m "$n" -l "$size" -f bench@client.test -t rcpt@remote.test 127.0.0.1:"$port"
  end=$(date +%s.%N)
  # Durable and memory queues answer 250 before relaying: the row is complete when the sink has
  # every message (only then is the CPU of relaying counted).
  wait_sink $((before + n)) 300 || true
  secs=$(echo "$end - $start" | bc -l); rate=$(echo "$n / $secs" | bc -l)
  if [ -n "$pid" ]; then
    cpu1="$(cpu_of "$pid")"; kill "$watch" 2>/dev/null; wait "$watch" 2>/dev/null || true
    peak=$(awk '{printf "%.0f", $1/1024}' "$work/peak")
    cpu=$(printf '%.2f' "$(echo "($cpu1 - $cpu0) * 1000 / $n" | bc -l)")
  else
    peak="–"; cpu="–"
  fi
  before="$(sink_count)"; before="${before:-0}"
  lat="$(python3 "$bench/loadgen.py" latency 127.0.0.1 "$port" "$sess" "$ln" "$size")"
  wait_sink $((before + ln)) 300 || true
  p50=$(echo "$lat" | python3 -c 'import json,sys; print(json.load(sys.stdin)["p50_ms"])')
  p99=$(echo "$lat" | python3 -c 'import json,sys; print(json.load(sys.stdin)["p99_ms"])')
  local row; row=$(printf '| %s | %s | %d | %d | %.0f | %s | %s | %s | %s |' "$name" \
    "$([ "$size" -gt 10000 ] && echo 100KiB || echo 1KiB)" "$sess" "$n" "$rate" "$p50" "$p99" "$peak" "$cpu")
  echo "$row" >&2
  rows+=("$row")
}
# warm_up PORT: 20,000 messages (WARMUP=N) of 1 KiB before a server's first cell, unmeasured, so every server
# is measured warm, as it is in service (JIT tiering for Slimta, process pools for Postfix, V8's
# JIT for Haraka); counted through to the sink so the cell starts with an idle server.
warm_up() {
  local before start secs; before="$(sink_count)"; before="${before:-0}"; start=$(date +%s.%N)
  smtp-source -d -s 20 -m "${WARMUP:-20000}" -l 1024 -f bench@client.test -t rcpt@remote.test 127.0.0.1:"$1"
  wait_sink $((before + ${WARMUP:-20000})) 120 || true
  secs=$(echo "$(date +%s.%N) - $start" | bc -l)
  cell_scale=$(python3 -c "print(max(1, min(6, int(${WARMUP:-20000} / $secs * 3 / 10000))))")
  sleep 1
}
matrix() { # NAME PORT PID
  local s c
  cell_scale=1
  [ -z "${NO_WARMUP:-}" ] && warm_up "$2"
  for s in $sizes; do for c in $sessions_list; do cell "$1" "$2" "$3" "$s" "$c"; done; done
}

# ---------------------------------------------------------------------------------------------
# Slimta
slimta_dll="$here/artifacts/bin/Release/slimta/slimta.dll"
if [ -z "${SKIP_BUILD:-}" ] && [[ "$only" =~ \ (proxy|memory|disk|redis|idle|drain)\  ]]; then
  dotnet build "$here/host/slimta/slimta.csproj" -c Release -nologo -v quiet -clp:ErrorsOnly >&2
fi
slimta_conf() { # FILE PORT QUEUE-TYPE RELAY-PORT
  local relay_conns=20
  [ "$3" = proxy ] && relay_conns=100   # the proxy holds a relay connection per client session
  cat > "$1" <<CONF
process:
  slimta:
    logging: {level: warning}
edge:
  inbound:
    type: smtp
    queue: q
    listener: {interface: 127.0.0.1, port: $2}
    max_connections: 20000
queue:
  q:
    type: $3
    relay: r
$( [ "$3" = disk ] && printf '    envelope_dir: %s/spool/env\n    meta_dir: %s/spool/meta\n    create_dirs: true\n' "$work" "$work" )
$( [ "$3" = redis ] && printf '    host: 127.0.0.1\n    port: %s\n' "${redis_port:-6379}" )
relay:
  r:
    type: static
    host: 127.0.0.1
    port: $4
    concurrent_connections: $relay_conns
$( [ "$3" = proxy ] && printf '    chain_messages: false   # the proxy client waits for the relay: see docs/configuration.md\n' )
CONF
}
slimta_start() { # CONF [args] -> sets $spid
  dotnet "$slimta_dll" -c "$@" >> "$work/slimta.log" 2>&1 &
  spid=$!; pids+=("$spid")
}
slimta_scenario() { # QUEUE-TYPE
  local port; port="$(free_port)"
  rm -rf "$work/spool"
  slimta_conf "$work/$1.conf" "$port" "$1" "$sink_port"
  slimta_start "$work/$1.conf"
  wait_port "$port"
  matrix "Slimta, $1 queue" "$port" "$spid"
  kill "$spid"; wait "$spid" 2>/dev/null || true
}

for q in proxy memory disk; do
  if [[ "$only" == *" $q "* ]]; then slimta_scenario "$q"; fi
done
if [[ "$only" == *" redis "* ]]; then
  if grep -rqs '"redis"' "$here"/plugins/*/*.cs; then
    redis_port="$(free_port)"
    redis-server --bind 127.0.0.1 --port "$redis_port" --save '' --appendonly no > "$work/redis.log" 2>&1 &
    pids+=($!); wait_port "$redis_port"
    slimta_scenario redis
  else
    echo "note: no 'type: redis' queue plugin in this tree; redis scenario skipped" >&2
  fi
fi

# ---------------------------------------------------------------------------------------------
# The ceiling
[[ "$only" == *" ceiling "* ]] && matrix "ceiling: smtp-source → smtp-sink" "$sink_port" ""

# ---------------------------------------------------------------------------------------------
# Postfix: a private instance (its own config, queue and data directories) relaying to the sink.
if [[ "$only" == *" postfix "* ]]; then
  if ! command -v postfix >/dev/null; then
    echo "note: postfix is not installed (see docs/benchmarks.md for the apt-get line); skipped" >&2
  else
    pf="$work/postfix"; pport="$(free_port)"
    mkdir -p "$pf/queue" "$pf/data"; chown postfix "$pf/data"
    cat > "$pf/main.cf" <<CONF
compatibility_level = 3.6
queue_directory = $pf/queue
data_directory = $pf/data
mail_owner = postfix
myhostname = bench.test
mydestination =
relayhost = [127.0.0.1]:$sink_port
mynetworks = 127.0.0.0/8
inet_interfaces = loopback-only
smtpd_relay_restrictions = permit_mynetworks, reject
maillog_file = /var/log/postfix-bench.log
smtp_tls_security_level = none
smtpd_tls_security_level = none
default_process_limit = 200
smtpd_client_connection_count_limit = 0
smtpd_client_connection_rate_limit = 0
syslog_name = postfix-bench
CONF
    cat > "$pf/master.cf" <<CONF
127.0.0.1:$pport inet n - n - - smtpd
pickup    unix  n - n 60 1 pickup
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
CONF
    postfix -c "$pf" set-permissions >/dev/null 2>&1 || true
    postfix -c "$pf" start >&2 || { tail -5 /var/log/postfix-bench.log >&2; exit 1; }
    wait_port "$pport"
    ppid_master="$(tr -d ' ' < "$pf/queue/pid/master.pid")"
    matrix "Postfix $(postconf -d mail_version | sed 's/.*= //')" "$pport" "$ppid_master"
    postfix -c "$pf" stop >&2 || true
  fi
fi

# ---------------------------------------------------------------------------------------------
# Haraka 3 with queue/smtp_forward to the sink (forwards while the client waits for its 250).
if [[ "$only" == *" haraka "* || "$only" == *" idle "* ]]; then
  if [ ! -x "$bench/haraka/node_modules/.bin/haraka" ]; then
    (cd "$bench/haraka" && npm install --no-audit --no-fund >&2)
  fi
  hk="$work/haraka"; hport="$(free_port)"
  "$bench/haraka/node_modules/.bin/haraka" -i "$hk" >/dev/null
  printf 'listen=127.0.0.1:%s\nnodes=0\n' "$hport" > "$hk/config/smtp.ini"
  printf 'rcpt_to.in_host_list\nqueue/smtp_forward\n' > "$hk/config/plugins"
  printf 'remote.test\n' > "$hk/config/host_list"
  printf 'host=127.0.0.1\nport=%s\nenable_tls=false\nmax_connections=100\n' "$sink_port" > "$hk/config/smtp_forward.ini"
  printf '[main]\nlevel=warn\n' > "$hk/config/log.ini"
  printf 'warn\n' > "$hk/config/loglevel"
  haraka_start() {
    node "$bench/haraka/node_modules/Haraka/bin/haraka" -c "$hk" > "$work/haraka.log" 2>&1 &
    hpid=$!; pids+=("$hpid"); wait_port "$hport"
  }
  if [[ "$only" == *" haraka "* ]]; then
    haraka_start
    matrix "Haraka $(node -p "require('$bench/haraka/node_modules/Haraka/package.json').version") (smtp_forward)" "$hport" "$hpid"
    kill "$hpid"; wait "$hpid" 2>/dev/null || true
  fi
fi

echo
echo "| server | size | sessions | messages | msg/s | p50 ms | p99 ms | peak RSS MiB | CPU s / 1000 msg |"
echo "|---|---|---|---|---|---|---|---|---|"
for r in "${rows[@]}"; do echo "$r"; done

# ---------------------------------------------------------------------------------------------
# Idle connections: memory per connection held open after EHLO.
idle_test() { # NAME PORT PID
  local before after ok
  sleep 1; before="$(rss_of "$3")"
  rm -f "$work/ready"
  exec 7> >(python3 "$bench/loadgen.py" idle 127.0.0.1 "$2" "$idle_count" "$work/ready")
  for _ in $(seq 1 1200); do [ -s "$work/ready" ] && break; sleep 0.1; done
  sleep 2; after="$(rss_of "$3")"
  ok="$(cut -d' ' -f1 "$work/ready" 2>/dev/null || echo 0)"
  exec 7>&-
  sleep 1
  printf '| %s | %s | %.0f | %.0f | %.1f |\n' "$1" "$ok" "$((before / 1024))" "$((after / 1024))" \
    "$(echo "($after - $before) / ($ok + 0.000001)" | bc -l)"
}
if [[ "$only" == *" idle "* ]]; then
  echo
  echo "| idle connections | held | RSS before MiB | RSS after MiB | KiB per connection |"
  echo "|---|---|---|---|---|"
  port="$(free_port)"
  slimta_conf "$work/idle.conf" "$port" memory "$sink_port"
  slimta_start "$work/idle.conf"; wait_port "$port"
  # Warm the server up first (JIT, pools), as it would be in service.
  smtp-source -d -s 20 -m 2000 -l 1024 -f bench@client.test -t rcpt@remote.test 127.0.0.1:"$port"
  idle_test "Slimta" "$port" "$spid"
  kill "$spid"; wait "$spid" 2>/dev/null || true
  haraka_start
  smtp-source -d -s 20 -m 2000 -l 1024 -f bench@client.test -t rcpt@remote.test 127.0.0.1:"$hport"
  idle_test "Haraka" "$hport" "$hpid"
  kill "$hpid"; wait "$hpid" 2>/dev/null || true
fi

# ---------------------------------------------------------------------------------------------
# Spool drain: fill a disk spool with nothing relayed (--no-relay), restart with the relay to the
# sink, and time until the sink has every message.
if [[ "$only" == *" drain "* ]]; then
  port="$(free_port)"; rm -rf "$work/spool"
  slimta_conf "$work/drain.conf" "$port" disk "$sink_port"
  slimta_start "$work/drain.conf" --no-relay; wait_port "$port"
  fill_start=$(date +%s.%N)
  smtp-source -d -s 20 -m "$drain" -l 1024 -f bench@client.test -t rcpt@remote.test 127.0.0.1:"$port"
  fill=$(echo "$(date +%s.%N) - $fill_start" | bc -l)
  kill "$spid"; wait "$spid" 2>/dev/null || true
  spooled=$(find "$work/spool/env" -name '*.env' | wc -l)
  before="$(sink_count)"; before="${before:-0}"
  start=$(date +%s.%N)
  slimta_start "$work/drain.conf"   # a plain restart: the edge listens again, the spool drains
  wait_sink $((before + drain)) 3600 || true
  secs=$(echo "$(date +%s.%N) - $start" | bc -l)
  echo
  echo "| spool drain (disk queue, 1 KiB, relay of 20 connections) | messages spooled | fill s | drain s (from start) | msg/s |"
  echo "|---|---|---|---|---|"
  printf '| Slimta | %d | %.1f | %.1f | %.0f |\n' "$spooled" "$fill" "$secs" "$(echo "$drain / $secs" | bc -l)"
  kill "$spid"; wait "$spid" 2>/dev/null || true
fi
echo
echo "Load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
