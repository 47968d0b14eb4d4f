#!/usr/bin/env bash
# Installs what the integration tests need on Debian 12 (run as root, non-interactive, idempotent).
# The tests start their own servers on free loopback ports; the distribution's services must stay down.
set -euo pipefail

# Packages the integration tests need. Add new ones here.
PACKAGES=(
    dovecot-core   # Support/DovecotServer.cs runs `dovecot -F -c <private config>`
    dovecot-pop3d
    openssl
    postgresql     # Support/PostgresServer.cs runs initdb and postgres (/usr/lib/postgresql/<major>/bin) as user postgres
)

# Distribution services that packages above would start; the tests bind their own instances.
SERVICES_TO_DISABLE=(
    dovecot.socket
    dovecot.service
    postgresql.service
)

# System user that owns the tests' maildirs (Dovecot refuses to run mail processes as root).
TEST_MAIL_USER=p3itest

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

# Debian's postgresql package creates a cluster (main) and, when allowed, starts it on 5432. The tests run their
# own clusters in temp folders; stop the distribution's and keep it from starting at boot.
if command -v pg_lsclusters > /dev/null; then
    while read -r version cluster _port status _rest; do
        [[ "${version}" =~ ^[0-9]+$ ]] || continue
        if [[ "${status}" == online* ]]; then
            log "stopping the distribution's PostgreSQL cluster ${version}/${cluster}"
            pg_ctlcluster "${version}" "${cluster}" stop > /dev/null 2>&1 || true
        fi
        conf="/etc/postgresql/${version}/${cluster}/start.conf"
        if [[ -f "${conf}" ]] && ! grep -qx 'manual' "${conf}"; then
            echo manual > "${conf}"
        fi
    done < <(pg_lsclusters --no-header 2> /dev/null || true)
fi
if [[ ! -d /run/systemd/system ]] && compgen -G '/etc/rc[2-5].d/S*postgresql' > /dev/null; then
    update-rc.d postgresql disable > /dev/null 2>&1 || true
fi

if ! id -u "${TEST_MAIL_USER}" > /dev/null 2>&1; then
    log "creating system user ${TEST_MAIL_USER}"
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin "${TEST_MAIL_USER}" \
        || id -u "${TEST_MAIL_USER}" > /dev/null 2>&1  # another run may have created it meanwhile
fi

command -v dovecot > /dev/null || { echo "install-test-deps: dovecot not on PATH after install" >&2; exit 1; }
compgen -G '/usr/lib/postgresql/*/bin/initdb' > /dev/null || { echo "install-test-deps: PostgreSQL server binaries missing under /usr/lib/postgresql/*/bin" >&2; exit 1; }
id -u postgres > /dev/null 2>&1 || { echo "install-test-deps: the postgres user is missing" >&2; exit 1; }
log "ok: $(dovecot --version | head -n1) ($(command -v dovecot)), mail user ${TEST_MAIL_USER} uid $(id -u "${TEST_MAIL_USER}")"
