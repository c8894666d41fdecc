#!/usr/bin/env bash
# Builds the solution and runs the default test suite (unit, concurrency, cross-process, crash, hostile tiers).
# Long soak runs are in scripts/stress.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

bash scripts/model.sh
dotnet build SharedLog.sln -c Release -nologo -v quiet
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
set +e
dotnet test SharedLog.Tests/SharedLog.Tests.csproj -c Release --no-build -nologo \
  --blame-hang-timeout 5m "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

# One plain closing line: "tests: N passed, N failed, N skipped".
summary="$(grep -Eo 'Failed: +[0-9]+, Passed: +[0-9]+, Skipped: +[0-9]+' "$log" | tail -1 || true)"
if [[ -n "$summary" ]]; then
  failed="$(sed -E 's/Failed: +([0-9]+).*/\1/' <<<"$summary")"
  passed="$(sed -E 's/.*Passed: +([0-9]+).*/\1/' <<<"$summary")"
  skipped="$(sed -E 's/.*Skipped: +([0-9]+).*/\1/' <<<"$summary")"
  echo "tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
  if [[ "$passed" -eq 0 ]]; then
    echo "no test ran" >&2
    exit 1
  fi
fi
exit "$status"
