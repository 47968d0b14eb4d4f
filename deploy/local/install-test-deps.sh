#!/usr/bin/env bash
# Installs what the integration tests need on Debian 12 (run as root, non-interactive, idempotent).
# The tests start their own servers on free loopback ports; the distribution's services must stay down.
set -euo pipefail

# Packages the integration tests need. Add new ones here.
PACKAGES=(
    dovecot-core   # Support/DovecotServer.cs runs `dovecot -F -c <private config>`
    dovecot-pop3d
    openssl
)

# Distribution services that packages above would start; the tests bind their own instances.
SERVICES_TO_DISABLE=(
    dovecot.socket
    dovecot.service
)

# System user that owns the tests' maildirs (Dovecot refuses to run mail processes as root).
TEST_MAIL_USER=p3itest

# Azurite, the Azure Storage emulator: Support/AzuriteServer.cs runs `azurite-blob` and `azurite-queue`.
AZURITE_VERSION=3.35.0

log() { printf 'install-test-deps: %s\n' "$*"; }

if [[ ${EUID} -ne 0 ]]; then
    echo "install-test-deps: must run as root" >&2
    exit 1
fi

missing_packages() {
    local pkg status
    for pkg in "${PACKAGES[@]}"; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "${pkg}" 2>/dev/null || true)
        if [[ "${status}" != "installed" ]]; then
            printf '%s\n' "${pkg}"
        fi
    done
}

mapfile -t missing < <(missing_packages)

# npm installs Azurite. Debian's nodejs and npm, unless a Node.js with npm is there already (NodeSource's
# nodejs bundles npm and conflicts with Debian's npm package).
if ! command -v npm > /dev/null; then
    missing+=(nodejs npm)
fi

if (( ${#missing[@]} > 0 )); then
    log "installing: ${missing[*]}"

    # Keep maintainer scripts from starting daemons during the install (invoke-rc.d and
    # deb-systemd-invoke honour policy-rc.d). Only add one when the machine has none.
    policy=/usr/sbin/policy-rc.d
    created_policy=no
    if [[ ! -e "${policy}" ]]; then
        printf '#!/bin/sh\n# added by install-test-deps.sh for the duration of apt-get install\nexit 101\n' > "${policy}"
        chmod 0755 "${policy}"
        created_policy=yes
    fi
    cleanup_policy() {
        if [[ "${created_policy}" == yes ]]; then rm -f "${policy}"; fi
    }
    trap cleanup_policy EXIT

    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${missing[@]}"

    cleanup_policy
    trap - EXIT
else
    log "packages already installed: ${PACKAGES[*]}"
fi

# Whatever started the distribution's daemons before (a host with systemd, an earlier install
# without policy-rc.d), stop and disable them. Cheap, so it runs every time.
if [[ -d /run/systemd/system ]] && command -v systemctl > /dev/null; then
    for unit in "${SERVICES_TO_DISABLE[@]}"; do
        if systemctl list-unit-files "${unit}" > /dev/null 2>&1; then
            if systemctl is-active --quiet "${unit}" || systemctl is-enabled --quiet "${unit}" 2>/dev/null; then
                log "stopping and disabling ${unit}"
                systemctl disable --now "${unit}" > /dev/null 2>&1 || true
            fi
        fi
    done
elif [[ -x /etc/init.d/dovecot ]]; then
    # No systemd (containers): the SysV script is what apt would have used.
    if [[ -s /run/dovecot/master.pid ]] && kill -0 "$(cat /run/dovecot/master.pid)" 2> /dev/null; then
        log "stopping the distribution's dovecot"
        /etc/init.d/dovecot stop > /dev/null 2>&1 || true
    fi
    if compgen -G '/etc/rc[2-5].d/S*dovecot' > /dev/null; then
        update-rc.d dovecot disable > /dev/null 2>&1 || true
    fi
fi

if ! id -u "${TEST_MAIL_USER}" > /dev/null 2>&1; then
    log "creating system user ${TEST_MAIL_USER}"
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin "${TEST_MAIL_USER}" \
        || id -u "${TEST_MAIL_USER}" > /dev/null 2>&1  # another run may have created it meanwhile
fi

if command -v azurite-blob > /dev/null && command -v azurite-queue > /dev/null; then
    log "azurite already installed ($(command -v azurite-blob))"
else
    log "installing azurite@${AZURITE_VERSION} with npm"
    npm install --global --no-audit --no-fund --loglevel=error "azurite@${AZURITE_VERSION}"
fi

command -v dovecot > /dev/null || { echo "install-test-deps: dovecot not on PATH after install" >&2; exit 1; }
command -v azurite-blob > /dev/null || { echo "install-test-deps: azurite-blob not on PATH after npm install (npm prefix: $(npm prefix --global))" >&2; exit 1; }
log "ok: $(dovecot --version | head -n1) ($(command -v dovecot)), mail user ${TEST_MAIL_USER} uid $(id -u "${TEST_MAIL_USER}"), azurite ($(command -v azurite-blob))"
