#!/usr/bin/env bash
# Installs what the integration tests need on Debian 12 (run as root, non-interactive, idempotent).
# The tests start their own servers on free loopback ports; the distribution's services must stay down.
set -euo pipefail

# Packages the integration tests need. Add new ones here.
PACKAGES=(
    dovecot-core   # Support/DovecotServer.cs runs `dovecot -F -c <private config>`
    dovecot-pop3d
    openssl
    # The other POP3 servers (below) are unpacked, not installed; these are what they run with.
    socat          # inetd-style servers (popa3d, Solid POP3) behind a loopback listener
    util-linux     # unshare (private mount and PID namespaces), setpriv
    courier-authlib courier-authdaemon courier-authlib-userdb libcourier-unicode4
    libidn12 libgnutls30 libpcre3 libgdbm6 libltdl7
    libical3 libxapian30 libjansson4 libicu72 libpq5 libsqlite3-0 libwrap0 libxml2 libssl3
    libkrb5-3 libldap-2.5-0 libcom-err2 zlib1g
    sasl2-bin libsasl2-2 libsasl2-modules libsasl2-modules-db db-util
    libmailutils9 libmu-dbm9 mailutils-common libgsasl18 libkyotocabinet16v5 libnsl2 libunistring2 libdb5.3
    liblockfile1 libpam0g libpam-modules libcrypt1
    postgresql     # Support/PostgresServer.cs runs initdb and postgres (/usr/lib/postgresql/<major>/bin) as user postgres
    clang          # the native (AOT) worker that test.sh builds and tests again: compiler driver and linker
    zlib1g-dev     #   and the zlib the native runtime links against
)

# POP3 servers that conflict with each other (Conflicts: pop3-server) or would start daemons: fetched with
# `apt-get download` and unpacked with `dpkg -x` under SERVERS_ROOT/<package>, never registered with dpkg.
# The tests run their binaries with private configurations (tests/Pop3Ingest.IntegrationTests/Support/).
UNPACKED=(
    courier-base     # couriertcpd, couriertls
    courier-pop      # courierpop3login, courierpop3d
    cyrus-common     # master, lmtpd, deliver, libcyrus*
    cyrus-pop3d      # pop3d
    mailutils-pop3d  # pop3d, popauth
    popa3d
    solid-pop3d      # solid-pop3d, pop_auth
)
SERVERS_ROOT=${POP3INGEST_SERVERS_ROOT:-/opt/pop3ingest/servers}

# Distribution services that packages above would start; the tests bind their own instances.
SERVICES_TO_DISABLE=(
    dovecot.socket
    dovecot.service
    courier-authdaemon.service
    saslauthd.service
    postgresql.service
)

# System user that owns the tests' mailboxes (Dovecot refuses to run mail processes as root).
TEST_MAIL_USER=p3itest

# System users the unpacked servers switch to (their maintainer scripts would have created them).
#   name    group  why
SERVER_USERS=(
    "popa3d popa3d popa3d drops privileges to it and chroots to /var/lib/popa3d"
    "spop3d spop3d Solid POP3 runs unauthenticated sessions as it"
    "cyrus  mail   Cyrus' master runs its services as it"
)
# Azurite, the Azure Storage emulator: Support/AzuriteServer.cs runs `azurite-blob` and `azurite-queue`.
AZURITE_VERSION=3.35.0

log() { printf 'install-test-deps: %s\n' "$*"; }

if [[ ${EUID} -ne 0 ]]; then
    echo "install-test-deps: must run as root" >&2
    exit 1
fi

apt_updated=no
apt_update_once() {
    if [[ "${apt_updated}" == no ]]; then
        apt-get update -qq
        apt_updated=yes
    fi
}

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

# kubectl renders the Kubernetes kustomizations in DeployFilesTests: Debian's kubernetes-client, unless a kubectl is
# there already (another vendor's kubectl package owns the same path and would conflict).
if ! command -v kubectl > /dev/null; then
    missing+=(kubernetes-client)
fi

# systemd-analyze verifies the systemd unit in DeployFilesTests (Debian's systemd package ships it).
if ! command -v systemd-analyze > /dev/null; then
    missing+=(systemd)
fi

export DEBIAN_FRONTEND=noninteractive
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

    apt_update_once
    apt-get install -y -qq --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
        "${missing[@]}"

    cleanup_policy
    trap - EXIT
else
    log "packages already installed"
fi

# Unpack the conflicting servers. A folder is complete when its .version file exists (written last);
# the version is the candidate apt had when it was unpacked. Nothing here touches dpkg's database.
unpack_server() {
    local pkg=$1 dir="${SERVERS_ROOT}/$1" work deb version
    if [[ -s "${dir}/.version" ]]; then
        return 0
    fi

    work=$(mktemp -d)
    (cd "${work}" && apt-get download -qq -o APT::Sandbox::User=root "${pkg}") || {
        apt_update_once
        (cd "${work}" && apt-get download -qq -o APT::Sandbox::User=root "${pkg}")
    }
    deb=$(find "${work}" -maxdepth 1 -name "${pkg}_*.deb" | head -n 1)
    if [[ -z "${deb}" ]]; then
        echo "install-test-deps: apt-get download ${pkg} produced no .deb" >&2
        rm -rf "${work}"
        return 1
    fi

    version=$(dpkg-deb -f "${deb}" Version)
    rm -rf "${dir}"
    mkdir -p "${dir}"
    dpkg -x "${deb}" "${dir}"
    # Maintainer files (init scripts, systemd units, cron jobs) stay inert in this folder.
    printf '%s\n' "${version}" > "${dir}/.version.tmp"
    mv "${dir}/.version.tmp" "${dir}/.version"
    rm -rf "${work}"
    log "unpacked ${pkg} ${version} into ${dir}"
}

mkdir -p "${SERVERS_ROOT}"
chmod 0755 "${SERVERS_ROOT}" "$(dirname "${SERVERS_ROOT}")"
for pkg in "${UNPACKED[@]}"; do
    unpack_server "${pkg}"
done

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
else
    # No systemd (containers): the SysV scripts are what apt would have used.
    if [[ -x /etc/init.d/dovecot ]]; then
        if [[ -s /run/dovecot/master.pid ]] && kill -0 "$(cat /run/dovecot/master.pid)" 2> /dev/null; then
            log "stopping the distribution's dovecot"
            /etc/init.d/dovecot stop > /dev/null 2>&1 || true
        fi
        if compgen -G '/etc/rc[2-5].d/S*dovecot' > /dev/null; then
            update-rc.d dovecot disable > /dev/null 2>&1 || true
        fi
    fi
    if [[ -x /etc/init.d/courier-authdaemon ]]; then
        if [[ -s /run/courier/authdaemon/pid ]] && kill -0 "$(cat /run/courier/authdaemon/pid)" 2> /dev/null; then
            log "stopping the distribution's courier-authdaemon"
            /etc/init.d/courier-authdaemon stop > /dev/null 2>&1 || true
        fi
        if compgen -G '/etc/rc[2-5].d/S*courier-authdaemon' > /dev/null; then
            update-rc.d courier-authdaemon disable > /dev/null 2>&1 || true
        fi
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

create_system_user() {
    local name=$1 group=$2
    if id -u "${name}" > /dev/null 2>&1; then
        return 0
    fi

    log "creating system user ${name}"
    if [[ "${name}" == "${group}" ]]; then
        useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "${name}" \
            || id -u "${name}" > /dev/null 2>&1  # another run may have created it meanwhile
    else
        useradd --system --gid "${group}" --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "${name}" \
            || id -u "${name}" > /dev/null 2>&1
    fi
}

create_system_user "${TEST_MAIL_USER}" "${TEST_MAIL_USER}"
for entry in "${SERVER_USERS[@]}"; do
    read -r name group _ <<< "${entry}"
    create_system_user "${name}" "${group}"
done

# Mount points the tests cover with private folders inside their own mount namespaces
# (compiled-in paths of popa3d and courier-authlib). /run is a tmpfs: recreate every time.
mkdir -p /var/lib/popa3d /run/courier /etc/courier /var/mail

# Every unpacked binary the tests run must find its shared libraries.
check_libraries() {
    local binary missing_libs problems=0
    local libpath="${SERVERS_ROOT}/cyrus-common/usr/lib/x86_64-linux-gnu"
    for binary in \
        courier-base/usr/sbin/couriertcpd courier-base/usr/bin/couriertls \
        courier-pop/usr/lib/courier/courier/courierpop3login courier-pop/usr/lib/courier/courier/courierpop3d \
        cyrus-common/usr/lib/cyrus/bin/master cyrus-common/usr/lib/cyrus/bin/lmtpd \
        cyrus-common/usr/lib/cyrus/bin/deliver cyrus-common/usr/lib/cyrus/bin/ctl_cyrusdb \
        cyrus-pop3d/usr/lib/cyrus/bin/pop3d \
        mailutils-pop3d/usr/sbin/pop3d mailutils-pop3d/usr/bin/popauth \
        popa3d/usr/sbin/popa3d solid-pop3d/usr/sbin/solid-pop3d; do
        if [[ ! -x "${SERVERS_ROOT}/${binary}" ]]; then
            echo "install-test-deps: ${SERVERS_ROOT}/${binary} is missing" >&2
            problems=1
            continue
        fi
        missing_libs=$(LD_LIBRARY_PATH="${libpath}" ldd "${SERVERS_ROOT}/${binary}" 2>&1 | awk '/not found/ {print $1}' | tr '\n' ' ')
        if [[ -n "${missing_libs}" ]]; then
            echo "install-test-deps: ${binary} lacks ${missing_libs}(add the package that has them to PACKAGES)" >&2
            problems=1
        fi
    done
    return "${problems}"
}
check_libraries

if command -v azurite-blob > /dev/null && command -v azurite-queue > /dev/null; then
    log "azurite already installed ($(command -v azurite-blob))"
else
    log "installing azurite@${AZURITE_VERSION} with npm"
    npm install --global --no-audit --no-fund --loglevel=error "azurite@${AZURITE_VERSION}"
fi

command -v dovecot > /dev/null || { echo "install-test-deps: dovecot not on PATH after install" >&2; exit 1; }
command -v azurite-blob > /dev/null || { echo "install-test-deps: azurite-blob not on PATH after npm install (npm prefix: $(npm prefix --global))" >&2; exit 1; }
versions=""
for pkg in "${UNPACKED[@]}"; do
    versions+=" ${pkg} $(cat "${SERVERS_ROOT}/${pkg}/.version"),"
done
log "ok: $(dovecot --version | head -n1) ($(command -v dovecot)),${versions} azurite ($(command -v azurite-blob)), mail user ${TEST_MAIL_USER} uid $(id -u "${TEST_MAIL_USER}")"
compgen -G '/usr/lib/postgresql/*/bin/initdb' > /dev/null || { echo "install-test-deps: PostgreSQL server binaries missing under /usr/lib/postgresql/*/bin" >&2; exit 1; }
id -u postgres > /dev/null 2>&1 || { echo "install-test-deps: the postgres user is missing" >&2; exit 1; }
