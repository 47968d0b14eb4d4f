#!/usr/bin/env bash
# Installs what the quick start needs on Debian 12 (run as root, non-interactive, idempotent): Dovecot's POP3 server
# and openssl for its demo certificate. The test command installs much more (deploy/local/install-test-deps.sh).
set -euo pipefail

PACKAGES=(dovecot-core dovecot-pop3d openssl)

if [[ ${EUID} -ne 0 ]]; then
    echo "install-demo-deps: must run as root" >&2
    exit 1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
    if [[ "$(dpkg-query -W -f='${db:Status-Status}' "${pkg}" 2>/dev/null || true)" != installed ]]; then
        missing+=("${pkg}")
    fi
done

if (( ${#missing[@]} == 0 )); then
    echo "install-demo-deps: packages already installed"
    exit 0
fi

export DEBIAN_FRONTEND=noninteractive
# The distribution's Dovecot service stays down: the demo runs its own instance on loopback ports
# (invoke-rc.d and deb-systemd-invoke honour policy-rc.d). Only add one when the machine has none.
policy=/usr/sbin/policy-rc.d
if [[ ! -e "${policy}" ]]; then
    printf '#!/bin/sh\n# added by install-demo-deps.sh for the duration of apt-get install\nexit 101\n' > "${policy}"
    chmod 0755 "${policy}"
    trap 'rm -f "${policy}"' EXIT
fi

echo "install-demo-deps: installing ${missing[*]}"
apt-get update -qq
apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
for unit in dovecot.socket dovecot.service; do
    systemctl disable --now "${unit}" >/dev/null 2>&1 || true
done
