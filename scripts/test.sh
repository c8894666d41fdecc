#!/usr/bin/env bash
# Builds the solution and runs the default test suites: the library's (unit, concurrency, cross-process, crash,
# hostile tiers) and the tool's (the sharedlog command as a child process, and the packed library used from a fresh
# project). Long soak runs are in scripts/stress.sh. Extra args pass to each dotnet test (e.g. --filter).
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

dotnet build SharedLog.sln -c Release -nologo -v quiet
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
for project in SharedLog.Tests/SharedLog.Tests.csproj SharedLog.Tool.Tests/SharedLog.Tool.Tests.csproj; do
  set +e
  dotnet test "$project" -c Release --no-build -nologo --blame-hang-timeout 5m "$@" 2>&1 | tee -a "$log"
  code=${PIPESTATUS[0]}
  set -e
  if [[ $code -ne 0 ]]; then
    status=$code
  fi
done

# One plain closing line summing every run: "tests: N passed, N failed, N skipped".
passed=0 failed=0 skipped=0
while read -r f p s; do
  failed=$((failed + f)) passed=$((passed + p)) skipped=$((skipped + s))
done < <(grep -Eo 'Failed: +[0-9]+, Passed: +[0-9]+, Skipped: +[0-9]+' "$log" \
  | sed -E 's/Failed: +([0-9]+), Passed: +([0-9]+), Skipped: +([0-9]+)/\1 \2 \3/')
echo "tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
if [[ "$passed" -eq 0 ]]; then
  echo "no test ran" >&2
  exit 1
fi
exit "$status"
