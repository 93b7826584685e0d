#!/usr/bin/env bash
# Shared by ./slimta and ./slimta-worker: incremental Release build, then run.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exe="$1"; shift
bin="$here/artifacts/bin/Release/$exe/$exe.dll"
stamp="$here/artifacts/bin/Release/.built-$exe"

needs_build() {
  [ -f "$bin" ] && [ -f "$stamp" ] || return 0
  # Any source, project or build file newer than the last build?
  [ -n "$(find "$here/abstractions" "$here/host" "$here/plugins" "$here/examples" \
      "$here/Directory.Build.props" "$here/Directory.Packages.props" \
      \( -name bin -o -name obj \) -prune -o \
      \( -name '*.cs' -o -name '*.csproj' -o -name '*.props' -o -name '*.targets' \) \
      -newer "$stamp" -print -quit 2>/dev/null)" ]
}

if needs_build; then
  echo "$exe: building (Release)…" >&2
  log="$(mktemp)"
  if ! dotnet build "$here/host/$exe/$exe.csproj" -c Release -nologo -v quiet -clp:ErrorsOnly > "$log" 2>&1; then
    cat "$log" >&2; rm -f "$log"
    echo "$exe: build failed" >&2
    exit 1
  fi
  rm -f "$log"
  touch "$stamp"
fi

has_config=no
for a in "$@"; do
  case "$a" in -c|--config|--config=*|-c*) has_config=yes ;; esac
done
if [ "$has_config" = no ] && [ ! -f ./slimta.conf ] && [ ! -f "$HOME/.slimta/slimta.conf" ] && [ ! -f /etc/slimta/slimta.conf ]; then
  set -- -c "$here/examples/slimta.conf" "$@"
fi
exec dotnet "$bin" "$@"
