#!/usr/bin/env bash
# Builds the benchmarks (Release) and runs the cross-process benchmarks with their defaults, each against its
# baselines in the same run, then prints one summary table. Figures depend on the machine and on what else runs
# on it: the report names both (cores, OS, .NET, load average).
#
# usage: scripts/bench.sh                   cross-process benchmarks (about a minute)
#        scripts/bench.sh --micro [ARGS]    also the BenchmarkDotNet microbenchmarks (ARGS go to BenchmarkDotNet,
#                                           e.g. --job short; default: --filter '*')
# One benchmark with options: dotnet SharedLog.Benchmarks/bin/Release/net10.0/SharedLog.Benchmarks.dll log-throughput --help
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

micro=0
micro_args=()
if [[ "${1:-}" == "--micro" ]]; then
  micro=1
  shift
  micro_args=("$@")
  if [[ ${#micro_args[@]} -eq 0 ]]; then
    micro_args=(--filter '*')
  elif [[ ! " ${micro_args[*]} " =~ " --filter " ]]; then
    micro_args+=(--filter '*')
  fi
elif [[ $# -gt 0 ]]; then
  sed -n '2,10p' "$0" >&2
  exit 2
fi

echo "building the benchmarks (Release)..."
dotnet build SharedLog.Benchmarks/SharedLog.Benchmarks.csproj -c Release -nologo -v quiet >/dev/null
bench=(dotnet SharedLog.Benchmarks/bin/Release/net10.0/SharedLog.Benchmarks.dll)

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
for command in log-throughput ring-throughput ping-pong; do
  echo
  echo "== bench $command"
  set +e
  "${bench[@]}" "$command" 2>&1 | tee -a "$log"
  code=${PIPESTATUS[0]}
  set -e
  if [[ $code -ne 0 ]]; then
    echo "bench $command: exit code $code" | tee -a "$log"
    status=1
  fi
done

if [[ $micro -eq 1 ]]; then
  echo
  echo "== bench micro ${micro_args[*]}"
  "${bench[@]}" micro "${micro_args[@]}" || status=1
fi

echo
echo "== summary (medians; each figure against baselines measured in the same run)"
grep -E '^machine:' "$log" | head -1 || true
grep -E '^summary:' "$log" | sed 's/^summary: //' || echo "(no summary lines)"
grep -E ': skipped' "$log" || true
exit "$status"
