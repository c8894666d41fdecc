#!/usr/bin/env bash
# Builds the solution and runs the default test suite: SharedLog.Tests (unit, concurrency, cross-process, crash,
# hostile tiers) and SharedLog.Nats.Tests (the JetStream bridge against a real nats-server, installed here with
# apt-get when missing). Long soak runs are in scripts/stress.sh. Extra args pass to both dotnet test runs.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# The bridge tests start their own nats-server (JetStream, loopback only); under CI they fail without one.
if ! command -v nats-server >/dev/null 2>&1 && [[ ! -x /usr/sbin/nats-server ]]; then
  if command -v apt-get >/dev/null 2>&1 && [[ "$(id -u)" -eq 0 ]]; then
    echo "installing nats-server (apt-get)..."
    apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nats-server >/dev/null 2>&1 || echo "could not install nats-server" >&2
  else
    echo "nats-server is missing and cannot be installed here: the bridge tests will skip (or fail under CI)" >&2
  fi
fi

dotnet build SharedLog.sln -c Release -nologo -v quiet
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
for project in SharedLog.Tests/SharedLog.Tests.csproj SharedLog.Nats.Tests/SharedLog.Nats.Tests.csproj; do
  set +e
  dotnet test "$project" -c Release --no-build -nologo --blame-hang-timeout 5m "$@" 2>&1 | tee -a "$log"
  code=${PIPESTATUS[0]}
  set -e
  if [[ $code -ne 0 ]]; then
    status=$code
  fi
done

# One plain closing line over both runs: "tests: N passed, N failed, N skipped".
passed=0 failed=0 skipped=0 runs=0
while read -r summary; do
  failed=$((failed + $(sed -E 's/Failed: +([0-9]+).*/\1/' <<<"$summary")))
  passed=$((passed + $(sed -E 's/.*Passed: +([0-9]+).*/\1/' <<<"$summary")))
  skipped=$((skipped + $(sed -E 's/.*Skipped: +([0-9]+).*/\1/' <<<"$summary")))
  runs=$((runs + 1))
done < <(grep -Eo 'Failed: +[0-9]+, Passed: +[0-9]+, Skipped: +[0-9]+' "$log" || true)
if [[ $runs -gt 0 ]]; then
  echo "tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
  if [[ "$passed" -eq 0 ]]; then
    echo "no test ran" >&2
    exit 1
  fi
fi
exit "$status"
