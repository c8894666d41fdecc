#!/usr/bin/env bash
# Builds the solution and runs the default test suites: the library's (SharedLog.Tests: unit, concurrency,
# cross-process, crash, hostile tiers), the tool's (the sharedlog command as a child process, and the packed library
# used from a fresh project) and the NATS bridge's (against a real nats-server, installed here with apt-get when
# missing). Long soak runs are in scripts/stress.sh. Extra args pass to each dotnet test run (e.g. --filter).
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

# The SPIN models of the protocols (installs spin with apt-get when missing).
bash scripts/model.sh

dotnet build SharedLog.sln -c Release -nologo -v quiet
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
for project in SharedLog.Tests/SharedLog.Tests.csproj SharedLog.Tool.Tests/SharedLog.Tool.Tests.csproj SharedLog.Nats.Tests/SharedLog.Nats.Tests.csproj; do
  set +e
  dotnet test "$project" -c Release --no-build -nologo --blame-hang-timeout 5m "$@" 2>&1 | tee -a "$log"
  code=${PIPESTATUS[0]}
  set -e
  if [[ $code -ne 0 ]]; then
    status=$code
  fi
done

# One plain closing line summing every run: "tests: N passed, N failed, N skipped" (and any aborted run).
passed=0 failed=0 skipped=0
while read -r f p s; do
  failed=$((failed + f)) passed=$((passed + p)) skipped=$((skipped + s))
done < <(grep -Eo 'Failed: +[0-9]+, Passed: +[0-9]+, Skipped: +[0-9]+' "$log" \
  | sed -E 's/Failed: +([0-9]+), Passed: +([0-9]+), Skipped: +([0-9]+)/\1 \2 \3/')
summary="tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
# A crashed test host aborts its run: the counts above then miss every test it had not reported, so say so.
aborted=$(grep -c 'Test Run Aborted' "$log" || true)
if [[ "$aborted" -gt 0 ]]; then
  summary+="; ${aborted} run(s) aborted by a crashed test host (see above), so those counts are incomplete"
  if [[ $status -eq 0 ]]; then
    status=1
  fi
fi
echo "$summary"
if [[ "$passed" -eq 0 ]]; then
  echo "no test ran" >&2
  exit 1
fi
exit "$status"
