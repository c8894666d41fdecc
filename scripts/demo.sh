#!/usr/bin/env bash
# The main demo: one writer process fans market-data ticks out to three reader processes through a shared log
# (a fast subscriber, a deliberately slow one that is lapped and reports exactly what it lost, and a telemetry
# sidecar that attaches mid-run and detaches), with a live summary once a second and a final table.
#
# usage: scripts/demo.sh [SECONDS] [writer options]   (default 10 s of publishing; see SharedLog.Demo.Writer --help)
# Exits 0 when every reader accounted for every tick (received + lost = written while it was attached). Also writes
# a chart of each reader's rate and latency over the run (artifacts/demo.png, or $SHAREDLOG_DEMO_PLOT) and prints
# its path.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
seconds="${1:-10}"
shift || true

echo "building the demo (Release)..."
build_log="$(mktemp)"
if ! dotnet build SharedLog.Demo.Writer/SharedLog.Demo.Writer.csproj -c Release -nologo -v quiet >"$build_log" 2>&1; then
  cat "$build_log"
  rm -f "$build_log"
  exit 1
fi
rm -f "$build_log"

# The log lives in a private directory (on tmpfs where there is one), removed however the demo ends.
if [[ -d /dev/shm && -w /dev/shm ]]; then
  dir="$(mktemp -d /dev/shm/sharedlog-demo.XXXXXX)"
else
  dir="$(mktemp -d)"
fi
trap 'rm -rf "$dir"' EXIT

dotnet SharedLog.Demo.Writer/bin/Release/net10.0/SharedLog.Demo.Writer.dll \
  --seconds "$seconds" --name "ticks" --dir "$dir" --plot "${SHAREDLOG_DEMO_PLOT:-artifacts/demo.png}" "$@"
