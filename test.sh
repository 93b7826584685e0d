#!/usr/bin/env bash
# Installs what the tests need on a fresh Debian machine (apt), builds, runs every test project
# and ends with one line "N passed, M failed" (totals over all test projects). Exit status is
# non-zero when anything failed. Tests start the servers they need themselves (smtp-sink, …) on
# 127.0.0.1 with ephemeral ports; this script only makes sure the programs are installed.
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

log() { printf '[test.sh] %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# ---- 1. system packages --------------------------------------------------------------------
# scripts/test-deps/*.list: "<command or absolute path> <Debian package>" per line.
declare -A need=()
for list in scripts/test-deps/*.list; do
  while read -r cmd pkg _; do
    case "$cmd" in ''|'#'*) continue ;; esac
    if [ "${cmd#/}" != "$cmd" ]; then [ -e "$cmd" ] && continue; else command -v "$cmd" >/dev/null 2>&1 && continue; fi
    need[$pkg]=1
  done < "$list"
done
if [ ${#need[@]} -gt 0 ]; then
  log "installing: ${!need[*]}"
  as_root apt-get update -qq
  echo 'postfix postfix/main_mailer_type select No configuration' | as_root debconf-set-selections
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${!need[@]}" >/dev/null; then
    log "apt-get install failed"; echo "0 passed, 1 failed"; exit 1
  fi
fi
export PATH="$PATH:/usr/sbin:/sbin"

# ---- 1b. npm packages -----------------------------------------------------------------------
# Servers the tests start that come from npm (s3rver for the aws queue, …): every folder
# tests/*/ with a package.json and a package-lock.json gets exactly what its lock file says
# (skipped when node_modules was installed from this very lock file).
for lock in tests/*/package-lock.json; do
  [ -e "$lock" ] || continue
  dir="$(dirname "$lock")"
  cmp -s "$lock" "$dir/node_modules/.installed-lock.json" && continue
  log "npm packages in $dir"
  if ! (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null && cp package-lock.json node_modules/.installed-lock.json); then
    log "npm ci failed in $dir"; echo "0 passed, 1 failed"; exit 1
  fi
done

# ---- 2. build --------------------------------------------------------------------------------
log "building"
if ! dotnet build Slimta.sln -c Debug -nologo -v quiet -clp:ErrorsOnly; then
  log "build failed"; echo "0 passed, 1 failed"; exit 1
fi

# ---- 3. test ---------------------------------------------------------------------------------
# One project at a time: each gets its own results folder (no report overwrites another), and
# the end-to-end tests do not compete with unit tests for the machine's two cores.
results="$here/artifacts/test-results"
rm -rf "$results"; mkdir -p "$results"
status=0
for project in tests/*/*.Tests.csproj; do
  name="$(basename "$project" .csproj)"
  log "testing $name"
  dotnet test "$project" -c Debug --no-build -nologo -v quiet \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=minimal" \
    --results-directory "$results/$name" || status=$?
done

# ---- 4. totals -------------------------------------------------------------------------------
python3 - "$results" "$status" <<'PY'
import glob, sys, xml.etree.ElementTree as ET
results, status = sys.argv[1], int(sys.argv[2])
ns = {"t": "http://microsoft.com/schemas/VisualStudio/TeamTest/2010"}
passed = failed = 0
for trx in glob.glob(results + "/**/*.trx", recursive=True):
    counters = ET.parse(trx).getroot().find("t:ResultSummary/t:Counters", ns)
    if counters is None:
        continue
    passed += int(counters.get("passed", 0))
    failed += int(counters.get("failed", 0)) + int(counters.get("error", 0)) + int(counters.get("timeout", 0)) + int(counters.get("aborted", 0))
if status != 0 and failed == 0:
    # dotnet test failed without a failed test in the reports: a test host crashed or a
    # project's tests could not start. Count it, never hide it.
    print("[test.sh] dotnet test exited with %d without a reported failure (crashed test host?)" % status, file=sys.stderr)
    failed = 1
print("%d passed, %d failed" % (passed, failed))
sys.exit(1 if failed or passed == 0 else 0)
PY
