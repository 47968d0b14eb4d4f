#!/bin/sh
# Delivers 25 sample messages to the demo mailbox, once (a marker file prevents a second delivery).
set -eu
box=/srv/mail/demo
[ -f "$box/.seeded" ] && exit 0
mkdir -p "$box/new" "$box/cur" "$box/tmp"
now=$(date +%s)
i=1
while [ "$i" -le 25 ]; do
  f="$box/tmp/$now.M$i.seed"
  {
    printf 'From: "Sender %s" <sender%s@example.org>\nTo: demo@example.net\n' "$i" "$i"
    printf 'Subject: Compose demo message %s\nMessage-ID: <compose-%s-%s@example.org>\n' "$i" "$now" "$i"
    printf 'Date: %s\nMIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\n\n' "$(date -R)"
    printf 'Hello from the Pop3Ingest compose demo, message %s.\n.A line that starts with a dot.\n' "$i"
  } > "$f"
  mv "$f" "$box/new/"
  i=$((i + 1))
done
chown -R vmail:vmail /srv/mail 2>/dev/null || chmod -R a+rwX /srv/mail
touch "$box/.seeded"
