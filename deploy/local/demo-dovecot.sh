#!/usr/bin/env bash
# A private Dovecot on loopback with a sample mailbox, for the quick start and for trying the worker by hand.
#   demo-dovecot.sh start   start it (idempotent) and deliver the sample mail if the mailbox is empty
#   demo-dovecot.sh stop    stop it
#   demo-dovecot.sh seed    deliver the sample mail again
# Listens on 127.0.0.1:11110 (POP3 with STLS) and 127.0.0.1:11995 (POP3S); user demo, password demo.
# Files live in $POP3INGEST_DEMO_DIR (default /tmp/pop3ingest-demo); ca.pem there is the certificate to trust.
set -euo pipefail

DIR=${POP3INGEST_DEMO_DIR:-/tmp/pop3ingest-demo}
PLAIN_PORT=${POP3INGEST_DEMO_PORT:-11110}
TLS_PORT=${POP3INGEST_DEMO_TLS_PORT:-11995}
MAIL_USER=p3itest

log() { printf 'demo-dovecot: %s\n' "$*"; }

running() { [ -f "$DIR/run/master.pid" ] && kill -0 "$(cat "$DIR/run/master.pid")" 2>/dev/null; }

ensure_user() {
  if ! id -u "$MAIL_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$MAIL_USER"
  fi
}

write_config() {
  local uid gid
  uid=$(id -u "$MAIL_USER"); gid=$(id -g "$MAIL_USER")
  mkdir -p "$DIR/run" "$DIR/state" "$DIR/mail"
  chmod 755 "$DIR"
  if [ ! -f "$DIR/ca.pem" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
      -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
      -keyout "$DIR/key.pem" -out "$DIR/ca.pem" 2>/dev/null
    chmod 600 "$DIR/key.pem"
  fi
  echo "demo:{PLAIN}demo" > "$DIR/passwd"
  chmod 644 "$DIR/passwd"
  cat > "$DIR/dovecot.conf" <<CONF
base_dir = $DIR/run
state_dir = $DIR/state
log_path = $DIR/dovecot.log
info_log_path = $DIR/dovecot.log
protocols = pop3
listen = 127.0.0.1
ssl = yes
ssl_cert = <$DIR/ca.pem
ssl_key = <$DIR/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login apop
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $DIR/passwd
}
userdb {
  driver = static
  args = uid=$uid gid=$gid home=$DIR/mail/%u
}
first_valid_uid = $uid
last_valid_uid = $uid
first_valid_gid = $gid
last_valid_gid = $gid
mail_location = maildir:$DIR/mail/%u
pop3_uidl_format = %08Xu%08Xv
mail_max_userip_connections = 50
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = $PLAIN_PORT
  }
  inet_listener pop3s {
    address = 127.0.0.1
    port = $TLS_PORT
    ssl = yes
  }
}
CONF
}

seed() {
  local maildir="$DIR/mail/demo/Maildir" n now
  maildir="$DIR/mail/demo"
  mkdir -p "$maildir/new" "$maildir/cur" "$maildir/tmp"
  now=$(date +%s)
  for n in $(seq 1 25); do
    local file="$maildir/tmp/$now.M$(printf '%06d' "$n")P$$Q$n.demo"
    {
      printf 'From: "Sender %s" <sender%s@example.org>\n' "$n" "$n"
      printf 'To: Demo <demo@example.net>\n'
      printf 'Subject: =?utf-8?B?%s?=\n' "$(printf 'Grüße Nr. %s' "$n" | base64 -w0)"
      printf 'Message-ID: <demo-%s-%s@example.org>\n' "$now" "$n"
      printf 'Date: %s\n' "$(date -R)"
      printf 'MIME-Version: 1.0\n'
      printf 'Content-Type: multipart/mixed; boundary="demo-%s"\n\n' "$n"
      printf -- '--demo-%s\nContent-Type: text/plain; charset=utf-8\n\nHello from the Pop3Ingest demo, message %s.\n.A line that starts with a dot.\n\n' "$n" "$n"
      printf -- '--demo-%s\nContent-Type: application/octet-stream; name="report-%s.bin"\nContent-Disposition: attachment; filename="report-%s.bin"\nContent-Transfer-Encoding: base64\n\n' "$n" "$n" "$n"
      head -c $((2000 * n)) /dev/urandom | base64 -w 76
      printf -- '--demo-%s--\n' "$n"
    } > "$file"
    mv "$file" "$maildir/new/"
  done
  chown -R "$MAIL_USER:" "$DIR/mail"
  log "delivered 25 sample messages to demo"
}

case "${1:-start}" in
  start)
    ensure_user
    if running; then
      log "already running on 127.0.0.1:$PLAIN_PORT (STLS) and 127.0.0.1:$TLS_PORT (TLS)"
    else
      write_config
      dovecot -c "$DIR/dovecot.conf" </dev/null >/dev/null 2>&1
      for _ in $(seq 1 50); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$PLAIN_PORT") 2>/dev/null; then break; fi
        sleep 0.1
      done
      log "started on 127.0.0.1:$PLAIN_PORT (STLS) and 127.0.0.1:$TLS_PORT (TLS), user demo / demo; log $DIR/dovecot.log"
    fi
    if [ -z "$(ls -A "$DIR/mail/demo/new" "$DIR/mail/demo/cur" 2>/dev/null)" ]; then
      seed
    fi
    ;;
  stop)
    if running; then
      kill "$(cat "$DIR/run/master.pid")"
      log "stopped"
    fi
    ;;
  seed)
    seed
    ;;
  *)
    echo "usage: $0 start|stop|seed" >&2
    exit 2
    ;;
esac
