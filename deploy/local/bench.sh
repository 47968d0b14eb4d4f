#!/usr/bin/env bash
# Runs Pop3Ingest's benchmarks on a Debian 12 machine with the .NET 10 SDK, as root: installs the servers
# and clients they use, then runs tests/Pop3Ingest.Benchmarks with the given scenario names and options, e.g.
#   bash deploy/local/bench.sh drain                                     # 5,000 messages, 3 runs per client
#   bash deploy/local/bench.sh drain --messages 500 --runs 1 --no-save   # a quick look
#   bash deploy/local/bench.sh --list
# Results are Markdown on stdout; progress goes to stderr. Each scenario that completes also replaces its section of
# tests/Pop3Ingest.Benchmarks/results.md and its rows of the README's performance table (not with --no-save).
set -euo pipefail
cd "$(dirname "$0")/../.."

bash deploy/local/install-bench-deps.sh >&2

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet build tests/Pop3Ingest.Benchmarks -c Release -nologo -v quiet >&2
exec dotnet run -c Release --no-build --project tests/Pop3Ingest.Benchmarks -- "$@"
