#!/usr/bin/env bash
# Azurite (the Azure Storage emulator) on loopback, for trying the AzureBlob store and the AzureQueue notifier by hand.
#   demo-azurite.sh start | stop
# Blob on 127.0.0.1:10000, Queue on 127.0.0.1:10001 (Azurite's standard ports, what UseDevelopmentStorage=true means).
# Data in $POP3INGEST_DEMO_DIR/azurite (default /tmp/pop3ingest-demo/azurite). Installs azurite with npm if missing.
set -euo pipefail

DIR=${POP3INGEST_DEMO_DIR:-/tmp/pop3ingest-demo}/azurite
log() { printf 'demo-azurite: %s\n' "$*"; }

case "${1:-start}" in
  start)
    command -v azurite-blob >/dev/null || npm install --global --no-audit --no-fund --loglevel=error azurite@3.35.0
    mkdir -p "$DIR"
    for service in blob queue; do
      pidfile="$DIR/$service.pid"
      if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        log "$service already running"
        continue
      fi
      port=$([ "$service" = blob ] && echo 10000 || echo 10001)
      nohup "azurite-$service" "--${service}Host" 127.0.0.1 "--${service}Port" "$port" --location "$DIR" \
        --silent --disableTelemetry --skipApiVersionCheck > "$DIR/$service.log" 2>&1 &
      echo $! > "$pidfile"
      log "$service on 127.0.0.1:$port"
    done
    log 'connection string: UseDevelopmentStorage=true'
    ;;
  stop)
    for service in blob queue; do
      pidfile="$DIR/$service.pid"
      if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
        kill -TERM "$(cat "$pidfile")"
        log "$service stopped"
      fi
    done
    ;;
  *)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
