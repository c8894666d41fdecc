#!/usr/bin/env bash
# Runs a writer and two reader processes on one shared log for a few seconds and prints what each received.
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
seconds="${1:-3}"
name="sharedlog-demo-$$"

dotnet build SharedLog.Demo.Writer -c Release -nologo -v quiet
dotnet build SharedLog.Demo.Reader -c Release -nologo -v quiet
writer=SharedLog.Demo.Writer/bin/Release/net10.0/SharedLog.Demo.Writer.dll
reader=SharedLog.Demo.Reader/bin/Release/net10.0/SharedLog.Demo.Reader.dll

dotnet "$writer" "$name" "$seconds" &
writer_pid=$!
dotnet "$reader" "$name" reader-1 &
r1=$!
dotnet "$reader" "$name" reader-2 &
r2=$!
status=0
wait "$writer_pid" || status=$?
wait "$r1" || status=$?
wait "$r2" || status=$?

rm -f "/dev/shm/$name"
exit "$status"
