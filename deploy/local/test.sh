#!/usr/bin/env bash
# Runs every test of Pop3Ingest, integration tests included, on a fresh Debian 12 machine with the .NET 10 SDK:
# installs the servers the tests start (Debian packages), restores, builds, runs, and ends with "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/../.."

bash deploy/local/install-test-deps.sh

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet restore Pop3Ingest.sln
dotnet build Pop3Ingest.sln -c Release --no-restore -nologo -v quiet

results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
set +e
dotnet test Pop3Ingest.sln -c Release --no-build --nologo --logger trx --results-directory "$results" -- RunConfiguration.TreatNoTestsAsError=false
status=$?

# The shipped worker is the natively compiled one (deploy/Dockerfile): build it as the image does, and run every test
# that starts the worker as a process (trait Category=WorkerProcess) again, against it.
native=$(mktemp -d)
trap 'rm -rf "$results" "$native"' EXIT
rid=linux-$([ "$(uname -m)" = aarch64 ] && echo arm64 || echo x64)
if dotnet publish src/Pop3Ingest.Worker/Pop3Ingest.Worker.csproj -c Release -r "$rid" -p:PublishAot=true -o "$native" -nologo -v quiet; then
  POP3INGEST_WORKER_BINARY="$native/Pop3Ingest.Worker" dotnet test tests/Pop3Ingest.IntegrationTests -c Release --no-build --nologo \
    --filter "Category=WorkerProcess" --logger "trx;LogFileName=native-worker.trx" --results-directory "$results" \
    -- RunConfiguration.TreatNoTestsAsError=true || status=1
else
  echo "the native worker did not build" >&2
  status=1
fi
set -e

passed=0; failed=0; skipped=0; files=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  files=$((files + 1))
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1 || true)
  if [ -z "$counters" ]; then
    echo "no test counters in $trx" >&2
    status=1
    continue
  fi
  attr() { echo "$counters" | grep -o "$1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
  total=$(attr total); executed=$(attr executed)
  passed=$((passed + $(attr passed)))
  failed=$((failed + $(attr failed) + $(attr error) + $(attr timeout) + $(attr aborted)))
  skipped=$((skipped + total - executed))
done

if [ "$files" -eq 0 ]; then
  echo "no test results were written" >&2
  status=1
fi
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]
