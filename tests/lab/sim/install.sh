#!/bin/sh
# Simulated k3s installer, served by the lab mirror as https://get.k3s.io.
#
# It follows the documented behaviour of k3s's install.sh on systemd hosts. It reads the
# same environment variables and prints the same [INFO]/[WARN]/[ERROR] messages in the same
# order. It downloads from the GitHub release URLs and checks the sha256. It writes the same
# files: the binary, kubectl/crictl/ctr links, killall and uninstall scripts, the unit and
# its env file. It ends with a blocking `systemctl restart`. It never prints the token,
# because K3S_TOKEN reaches only the env file.
#
# Usage: curl -sfL https://get.k3s.io | K3S_URL=https://SERVER:6443 K3S_TOKEN=... sh -s - agent [ARGS]
set -e
set -o noglob

GITHUB_URL=${GITHUB_URL:-https://github.com/k3s-io/k3s/releases}
INSTALL_K3S_CHANNEL_URL=${INSTALL_K3S_CHANNEL_URL:-https://update.k3s.io/v1-release/channels}
INSTALL_K3S_CHANNEL=${INSTALL_K3S_CHANNEL:-stable}

info() {
    echo '[INFO] ' "$@"
}

warn() {
    echo '[WARN] ' "$@" >&2
}

fatal() {
    echo '[ERROR] ' "$@" >&2
    exit 1
}

# Print each argument in single quotes, one per line, safe for a unit's ExecStart.
quote() {
    for arg in "$@"; do
        printf '%s\n' "$arg" | sed "s/'/'\\\\''/g;1s/^/'/;\$s/\$/'/"
    done
}

verify_k3s_url() {
    case "${K3S_URL}" in
        "" | https://*)
            ;;
        *)
            fatal "Only https:// URLs are supported for K3S_URL (have ${K3S_URL})"
            ;;
    esac
}

verify_system() {
    if type systemctl >/dev/null 2>&1; then
        return
    fi
    fatal 'Can not find systemd or openrc to use as a process supervisor for k3s'
}

setup_env() {
    verify_k3s_url

    # INSTALL_K3S_EXEC words come before the script arguments, and the first word may name
    # the command (server or agent).
    if [ -n "${INSTALL_K3S_EXEC}" ]; then
        # shellcheck disable=SC2086 # word splitting of INSTALL_K3S_EXEC is intended
        set -- ${INSTALL_K3S_EXEC} "$@"
    fi
    case "$1" in
        -* | "")
            if [ -z "${K3S_URL}" ]; then
                CMD_K3S=server
            else
                if [ -z "${K3S_TOKEN}" ] && [ -z "${K3S_TOKEN_FILE}" ]; then
                    fatal "Defaulted k3s exec command to 'agent' because K3S_URL is defined, but K3S_TOKEN or K3S_TOKEN_FILE is not defined."
                fi
                CMD_K3S=agent
            fi
            ;;
        *)
            CMD_K3S=$1
            shift
            ;;
    esac
    CMD_K3S_ARGS=$(quote "$@")

    if [ -n "${INSTALL_K3S_NAME}" ]; then
        SYSTEM_NAME=k3s-${INSTALL_K3S_NAME}
    elif [ "${CMD_K3S}" = server ]; then
        SYSTEM_NAME=k3s
    else
        SYSTEM_NAME=k3s-${CMD_K3S}
    fi

    SUDO=sudo
    if [ "$(id -u)" -eq 0 ]; then
        SUDO=
    fi

    BIN_DIR=${INSTALL_K3S_BIN_DIR:-/usr/local/bin}
    SYSTEMD_DIR=${INSTALL_K3S_SYSTEMD_DIR:-/etc/systemd/system}
    SERVICE_K3S=${SYSTEM_NAME}.service
    FILE_K3S_SERVICE=${SYSTEMD_DIR}/${SERVICE_K3S}
    FILE_K3S_ENV=${SYSTEMD_DIR}/${SERVICE_K3S}.env
    UNINSTALL_K3S_SH=${UNINSTALL_K3S_SH:-${BIN_DIR}/${SYSTEM_NAME}-uninstall.sh}
    KILLALL_K3S_SH=${KILLALL_K3S_SH:-${BIN_DIR}/k3s-killall.sh}
    SYSTEMD_TYPE=${INSTALL_K3S_TYPE:-notify}

    PRE_INSTALL_HASHES=$(get_installed_hashes)
}

get_installed_hashes() {
    $SUDO sha256sum "${BIN_DIR}/k3s" "${FILE_K3S_SERVICE}" "${FILE_K3S_ENV}" 2>&1 || true
}

can_skip_download() {
    case "${INSTALL_K3S_SKIP_DOWNLOAD}" in
        true | binary) return 0 ;;
        *) return 1 ;;
    esac
}

setup_verify_arch() {
    ARCH=${ARCH:-$(uname -m)}
    case $ARCH in
        amd64 | x86_64)
            ARCH=amd64
            SUFFIX=
            ;;
        arm64 | aarch64)
            ARCH=arm64
            SUFFIX=-${ARCH}
            ;;
        *)
            fatal "Unsupported architecture $ARCH"
            ;;
    esac
}

verify_downloader() {
    command -v "$1" >/dev/null 2>&1 || return 1
    DOWNLOADER=$1
    return 0
}

setup_tmp() {
    TMP_DIR=$(mktemp -d -t k3s-install.XXXXXXXXXX)
    TMP_HASH=${TMP_DIR}/k3s.hash
    TMP_BIN=${TMP_DIR}/k3s.bin
    cleanup() {
        code=$?
        set +e
        trap - EXIT
        rm -rf "${TMP_DIR}"
        exit $code
    }
    trap cleanup INT EXIT
}

get_release_version() {
    if [ -n "${INSTALL_K3S_VERSION}" ]; then
        VERSION_K3S=${INSTALL_K3S_VERSION}
    else
        info "Finding release for channel ${INSTALL_K3S_CHANNEL}"
        version_url=${INSTALL_K3S_CHANNEL_URL}/${INSTALL_K3S_CHANNEL}
        case $DOWNLOADER in
            curl)
                VERSION_K3S=$(curl -w '%{url_effective}' -L -s -S "${version_url}" -o /dev/null | sed -e 's|.*/||')
                ;;
            wget)
                VERSION_K3S=$(wget -SqO /dev/null "${version_url}" 2>&1 | grep -i Location | sed -e 's|.*/||')
                ;;
        esac
    fi
    info "Using ${VERSION_K3S} as release"
    # Release tags contain `+`, which must be %2B inside a URL path.
    VERSION_K3S_URL=$(printf '%s' "${VERSION_K3S}" | sed -e 's/+/%2B/g')
}

download() {
    [ $# -eq 2 ] || fatal 'download needs exactly 2 arguments'
    set +e
    case $DOWNLOADER in
        curl)
            curl -o "$1" -sfL "$2"
            ;;
        wget)
            wget -qO "$1" "$2"
            ;;
    esac
    status=$?
    set -e
    [ $status -eq 0 ] || fatal 'Download failed'
}

download_hash() {
    HASH_URL=${GITHUB_URL}/download/${VERSION_K3S_URL}/sha256sum-${ARCH}.txt
    info "Downloading hash ${HASH_URL}"
    download "${TMP_HASH}" "${HASH_URL}"
    HASH_EXPECTED=$(grep " k3s${SUFFIX}$" "${TMP_HASH}" || true)
    HASH_EXPECTED=${HASH_EXPECTED%%[[:blank:]]*}
}

installed_hash_matches() {
    if [ -x "${BIN_DIR}/k3s" ]; then
        HASH_INSTALLED=$(sha256sum "${BIN_DIR}/k3s")
        HASH_INSTALLED=${HASH_INSTALLED%%[[:blank:]]*}
        if [ "${HASH_EXPECTED}" = "${HASH_INSTALLED}" ]; then
            return 0
        fi
    fi
    return 1
}

download_binary() {
    BIN_URL=${GITHUB_URL}/download/${VERSION_K3S_URL}/k3s${SUFFIX}
    info "Downloading binary ${BIN_URL}"
    download "${TMP_BIN}" "${BIN_URL}"
}

verify_binary() {
    info "Verifying binary download"
    HASH_BIN=$(sha256sum "${TMP_BIN}")
    HASH_BIN=${HASH_BIN%%[[:blank:]]*}
    if [ "${HASH_EXPECTED}" != "${HASH_BIN}" ]; then
        fatal "Download sha256 does not match ${HASH_EXPECTED}, got ${HASH_BIN}"
    fi
}

setup_binary() {
    chmod 755 "${TMP_BIN}"
    info "Installing k3s to ${BIN_DIR}/k3s"
    $SUDO chown root:root "${TMP_BIN}"
    $SUDO mv -f "${TMP_BIN}" "${BIN_DIR}/k3s"
}

verify_k3s_is_executable() {
    if [ ! -x "${BIN_DIR}/k3s" ]; then
        fatal "Executable k3s binary not found at ${BIN_DIR}/k3s"
    fi
}

download_and_verify() {
    if can_skip_download; then
        info 'Skipping k3s download and verify'
        verify_k3s_is_executable
        return
    fi
    setup_verify_arch
    verify_downloader curl || verify_downloader wget || fatal 'Can not find curl or wget for downloading files'
    setup_tmp
    get_release_version
    download_hash
    if installed_hash_matches; then
        info 'Skipping binary downloaded, installed k3s matches hash'
        return
    fi
    download_binary
    verify_binary
    setup_binary
}

setup_selinux() {
    # Lab hosts are Debian without SELinux policy packages, where k3s's script skips the RPM.
    info "Skipping installation of SELinux RPM"
}

create_symlinks() {
    for cmd in kubectl crictl ctr; do
        if [ ! -e "${BIN_DIR}/${cmd}" ] || [ "${INSTALL_K3S_SYMLINK}" = force ]; then
            which_cmd=$(command -v "${cmd}" 2>/dev/null || true)
            if [ -z "${which_cmd}" ] || [ "${INSTALL_K3S_SYMLINK}" = force ]; then
                info "Creating ${BIN_DIR}/${cmd} symlink to k3s"
                $SUDO ln -sf k3s "${BIN_DIR}/${cmd}"
            else
                info "Skipping ${BIN_DIR}/${cmd} symlink to k3s, command exists in PATH at ${which_cmd}"
            fi
        else
            info "Skipping ${BIN_DIR}/${cmd} symlink to k3s, already exists"
        fi
    done
}

create_killall() {
    info "Creating killall script ${KILLALL_K3S_SH}"
    $SUDO tee "${KILLALL_K3S_SH}" >/dev/null <<KILLALL
#!/bin/sh
# Stop k3s services and any k3s process left on this host.
[ \$(id -u) -eq 0 ] || exec sudo --preserve-env=PATH \$0 "\$@"

for service in ${SYSTEMD_DIR}/k3s*.service; do
    [ -s "\$service" ] && systemctl stop "\$(basename "\$service")"
done

# Lab hosts share one PID namespace, so only processes in this host's mount namespace
# are this host's own.
own_namespace=\$(readlink /proc/self/ns/mnt)
for proc in /proc/[0-9]*; do
    pid=\${proc#/proc/}
    [ "\$(readlink "\$proc/ns/mnt" 2>/dev/null)" = "\$own_namespace" ] || continue
    if tr '\0' ' ' < "\$proc/cmdline" 2>/dev/null | grep -q "${BIN_DIR}/k3s "; then
        kill -9 "\$pid" 2>/dev/null || true
    fi
done

rm -rf /run/k3s /run/flannel /var/lib/rancher/k3s/agent/containerd/tmpmounts
KILLALL
    $SUDO chmod 755 "${KILLALL_K3S_SH}"
    $SUDO chown root:root "${KILLALL_K3S_SH}"
}

create_uninstall() {
    info "Creating uninstall script ${UNINSTALL_K3S_SH}"
    $SUDO tee "${UNINSTALL_K3S_SH}" >/dev/null <<UNINSTALL
#!/bin/sh
set -x
[ \$(id -u) -eq 0 ] || exec sudo --preserve-env=PATH \$0 "\$@"

${KILLALL_K3S_SH}

if command -v systemctl; then
    systemctl disable ${SYSTEM_NAME}
    systemctl reset-failed ${SYSTEM_NAME}
    systemctl daemon-reload
fi

remove_uninstall() {
    rm -f ${UNINSTALL_K3S_SH}
}
trap remove_uninstall EXIT

rm -f ${FILE_K3S_SERVICE} ${FILE_K3S_ENV}

if (ls ${SYSTEMD_DIR}/k3s*.service) >/dev/null 2>&1; then
    set +x; echo 'Additional k3s services installed, skipping uninstall of k3s'; set -x
    exit
fi

for cmd in kubectl crictl ctr; do
    if [ -L "${BIN_DIR}/\$cmd" ]; then
        rm -f "${BIN_DIR}/\$cmd"
    fi
done

rm -rf /etc/rancher/k3s
rm -rf /etc/rancher/node
rm -rf /run/k3s
rm -rf /run/flannel
rm -rf /var/lib/rancher/k3s
rm -rf /var/lib/kubelet
rm -f ${BIN_DIR}/k3s
rm -f ${KILLALL_K3S_SH}
UNINSTALL
    $SUDO chmod 755 "${UNINSTALL_K3S_SH}"
    $SUDO chown root:root "${UNINSTALL_K3S_SH}"
}

systemd_disable() {
    $SUDO systemctl disable "${SYSTEM_NAME}" >/dev/null 2>&1 || true
    $SUDO rm -f "/etc/systemd/system/${SERVICE_K3S}" || true
    $SUDO rm -f "/etc/systemd/system/${SERVICE_K3S}.env" || true
}

create_env_file() {
    info "env: Creating environment file ${FILE_K3S_ENV}"
    $SUDO touch "${FILE_K3S_ENV}"
    $SUDO chmod 0600 "${FILE_K3S_ENV}"
    # The values travel through a pipe, never through a command line.
    env | grep -E '^(K3S|CONTAINERD)_' | sort | $SUDO tee "${FILE_K3S_ENV}" >/dev/null
    env | grep -Ei '^(NO|HTTP|HTTPS)_PROXY' | $SUDO tee -a "${FILE_K3S_ENV}" >/dev/null
}

create_systemd_service_file() {
    info "systemd: Creating service file ${FILE_K3S_SERVICE}"
    {
        cat <<SERVICE
[Unit]
Description=Lightweight Kubernetes
Documentation=https://k3s.io
Wants=network-online.target
After=network-online.target

[Install]
WantedBy=multi-user.target

[Service]
Type=${SYSTEMD_TYPE}
EnvironmentFile=-/etc/default/%N
EnvironmentFile=-/etc/sysconfig/%N
EnvironmentFile=-${FILE_K3S_ENV}
KillMode=process
Delegate=yes
User=root
LimitNOFILE=1048576
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
TimeoutStartSec=0
Restart=always
RestartSec=5s
ExecStartPre=-/sbin/modprobe br_netfilter
ExecStartPre=-/sbin/modprobe overlay
SERVICE
        printf 'ExecStart=%s \\\n    %s' "${BIN_DIR}/k3s" "${CMD_K3S}"
        printf '%s\n' "${CMD_K3S_ARGS}" | while IFS= read -r word; do
            [ -n "${word}" ] && printf ' \\\n\t%s' "${word}"
        done
        printf '\n\n'
    } | $SUDO tee "${FILE_K3S_SERVICE}" >/dev/null
    $SUDO chmod 0644 "${FILE_K3S_SERVICE}"
}

systemd_enable() {
    info "systemd: Enabling ${SYSTEM_NAME} unit"
    $SUDO systemctl enable "${FILE_K3S_SERVICE}" >/dev/null
    $SUDO systemctl daemon-reload >/dev/null
}

systemd_start() {
    info "systemd: Starting ${SYSTEM_NAME}"
    $SUDO systemctl restart "${SYSTEM_NAME}"
}

service_enable_and_start() {
    [ "${INSTALL_K3S_SKIP_ENABLE}" = true ] && return

    systemd_enable

    [ "${INSTALL_K3S_SKIP_START}" = true ] && return

    POST_INSTALL_HASHES=$(get_installed_hashes)
    if [ "${PRE_INSTALL_HASHES}" = "${POST_INSTALL_HASHES}" ] && [ "${INSTALL_K3S_FORCE_RESTART}" != true ]; then
        info 'No change detected so skipping service start'
        return
    fi

    # NOTE: k3s's script also removes KUBE- and flannel rules from iptables here. The lab
    # skips that step because lab hosts run no kube-proxy or flannel that would add them.
    systemd_start
    return 0
}

# Everything runs inside one block so that a truncated download of this script runs nothing.
{
    verify_system
    setup_env "$@"
    download_and_verify
    setup_selinux
    create_symlinks
    create_killall
    create_uninstall
    systemd_disable
    create_env_file
    create_systemd_service_file
    service_enable_and_start
}
