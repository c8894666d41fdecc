#!/usr/bin/env bash
# Long soak runs: the tests marked [Trait("Category", "Stress")] with SHAREDLOG_STRESS=1, which raises their
# round and variant counts (writer SIGKILL rounds, fuzz variants, 1M records through the NATS bridge, ...). Extra
# args pass to dotnet test. The bridge tests need nats-server (scripts/test.sh installs it).
set -euo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export SHAREDLOG_STRESS=1

dotnet build SharedLog.sln -c Release -nologo -v quiet
status=0
for project in SharedLog.Tests/SharedLog.Tests.csproj SharedLog.Nats.Tests/SharedLog.Nats.Tests.csproj; do
  dotnet test "$project" -c Release --no-build -nologo \
    --blame-hang-timeout 30m --filter "Category=Stress" --logger "console;verbosity=normal" "$@" || status=1
done
exit "$status"
