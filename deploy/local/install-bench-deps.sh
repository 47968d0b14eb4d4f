#!/usr/bin/env bash
# Installs what the benchmarks need on Debian 12 (run as root, non-interactive, idempotent): the test servers
# (install-test-deps.sh: Dovecot, Azurite, ...) and the POP3 clients the drain scenario compares Pop3Ingest with.
set -euo pipefail
cd "$(dirname "$0")"

bash ./install-test-deps.sh

# Clients drained side by side with Pop3Ingest, and GNU time for peak RSS and CPU (the shell's `time` has neither).
PACKAGES=(
    mpop       # mpop --keep=on, delivery maildir
    getmail6   # getmail --rcfile, SimplePOP3Retriever, Maildir destination
    fetchmail  # fetchmail --keep --fetchall with a Maildir MDA
    time       # /usr/bin/time -f '%e %M %U %S'
    util-linux # setpriv (getmail refuses to deliver as root), mount
)

log() { printf 'install-bench-deps: %s\n' "$*"; }

if [[ ${EUID} -ne 0 ]]; then
    echo "install-bench-deps: must run as root" >&2
    exit 1
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "${pkg}" 2>/dev/null || true)
    if [[ "${status}" != "installed" ]]; then
        missing+=("${pkg}")
    fi
done

if (( ${#missing[@]} > 0 )); then
    log "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${missing[@]}"
else
    log "packages already installed"
fi

for binary in /usr/bin/mpop /usr/bin/getmail /usr/bin/fetchmail /usr/bin/time /usr/bin/setpriv; do
    [[ -x "${binary}" ]] || { echo "install-bench-deps: ${binary} missing after install" >&2; exit 1; }
done
log "ok: $(mpop --version | head -n1), $(getmail --version 2>&1 | head -n1), fetchmail $(fetchmail --version 2>/dev/null | grep -m1 -o 'release [^ +]*' || true), $(/usr/bin/time --version 2>&1 | head -n1)"
