#!/usr/bin/env bash
# Builds the benchmarks (Release) and runs the cross-process suite: log throughput (64 B, 256 B, 4 KiB; one and
# three reader processes; read record by record, in batches and in lingering batches) against a raw shared-memory
# ring, a pipe and a Unix socket; ByteRing bulk throughput against the raw ring's bulk copy (also paired with it and
# the batched pipe in the same two processes, read plainly and in lingering batches, and with 64-byte pieces gathered
# per 64 KiB against the batched pipe); spinning and blocking round trips against the raw ring and a bare futex;
# pinned (taskset) and unpinned. Every process warms up until its JIT is quiet; a cross-core round-trip probe
# brackets every measurement. Results: bench-results/latest.json, latest.md and throughput.png (paths printed).
#
# usage: scripts/bench.sh                  the default suite (about ten minutes on two cores)
#        scripts/bench.sh --quick          64 B and 4 KiB to one reader, fewer pinning variants (about two minutes)
#        scripts/bench.sh --full           five runs of everything, 1 s windows
#        scripts/bench.sh [MODE] -- ARGS   extra suite options (e.g. -- --only throughput --runs 5 --out DIR)
#        scripts/bench.sh --micro [ARGS]   the BenchmarkDotNet microbenchmarks (ARGS go to BenchmarkDotNet;
#                                          default: --filter '*')
# Suite options: dotnet SharedLog.Benchmarks/bin/Release/net10.0/SharedLog.Benchmarks.dll suite --help
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

mode=()
extra=()
micro=0
micro_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick|--full) mode=("$1"); shift ;;
    --micro)
      micro=1; shift; micro_args=("$@"); break ;;
    --) shift; extra=("$@"); break ;;
    *) sed -n '2,15p' "$0" >&2; exit 2 ;;
  esac
done

echo "building the benchmarks (Release)..."
dotnet build SharedLog.Benchmarks/SharedLog.Benchmarks.csproj -c Release -nologo -v quiet >/dev/null
bench=(dotnet SharedLog.Benchmarks/bin/Release/net10.0/SharedLog.Benchmarks.dll)

if [[ $micro -eq 1 ]]; then
  if [[ ${#micro_args[@]} -eq 0 ]]; then
    micro_args=(--filter '*')
  elif [[ ! " ${micro_args[*]} " =~ " --filter " ]]; then
    micro_args+=(--filter '*')
  fi
  exec "${bench[@]}" micro "${micro_args[@]}"
fi

exec "${bench[@]}" suite "${mode[@]}" "${extra[@]}"
