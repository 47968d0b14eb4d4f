#!/usr/bin/env bash
# The quick start: on a fresh Debian 12 machine with the .NET 10 SDK, start a local Dovecot with a sample mailbox,
# ingest it once with the root appsettings.json (SQLite ledger, folder store), and show where the mail landed.
set -euo pipefail
cd "$(dirname "$0")/../.."

bash deploy/local/install-demo-deps.sh
bash deploy/local/demo-dovecot.sh start

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
dotnet run --project src/Pop3Ingest.Worker -c Release -- check
dotnet run --project src/Pop3Ingest.Worker -c Release -- once

echo
echo "Mail landed under $(pwd)/data/mail:"
find data/mail -path data/mail/.tmp -prune -o -name '*.eml' -print | sort | head -n 10
echo "... $(find data/mail -path data/mail/.tmp -prune -o -name '*.eml' -print | wc -l) messages, each with its .json metadata beside it."
echo "Ledger: $(pwd)/data/ledger.db. Run the service with: dotnet run --project src/Pop3Ingest.Worker -c Release -- run"
