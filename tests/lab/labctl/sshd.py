"""OpenSSH sshd on node hosts: host key, configuration, start and stop."""

import os
import signal
import time

from . import hostfs, namespaces
from .state import OPS_USER

HOST_KEY = "/etc/ssh/ssh_host_ed25519_key"
CONFIG = "/etc/ssh/sshd_config"
PID_FILE = "/run/sshd.pid"
LOG_FILE = "/var/log/sshd.log"


def sshd_config(address, address6=None):
    """Return the sshd_config of a node listening on address:22 (and [address6]:22).

    UsePAM is off so logins do not depend on PAM modules that expect
    systemd or audit support. The account checks sshd then does itself
    reject locked accounts ("!" in /etc/shadow), which the lab avoids.
    """
    return (
        "# sshd configuration of a k3sjoin lab host, written by tests/lab/lab.\n"
        f"ListenAddress {address}:22\n"
        + (f"ListenAddress [{address6}]:22\n" if address6 else "") +
        f"HostKey {HOST_KEY}\n"
        f"PidFile {PID_FILE}\n"
        "PermitRootLogin prohibit-password\n"
        "PubkeyAuthentication yes\n"
        "PasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\n"
        "UsePAM no\n"
        "UseDNS no\n"
        "PrintMotd no\n"
        "AcceptEnv LANG LC_*\n"
        "Subsystem sftp /usr/lib/openssh/sftp-server\n"
    )


def generate_host_key(pid):
    """Generate a new ed25519 host key in the node's /etc/ssh; return the public key line."""
    hostfs.make_host_dirs(pid, "/etc/ssh")
    key_path = hostfs.host_root(pid) + HOST_KEY
    for path in (key_path, key_path + ".pub"):
        if os.path.lexists(path):
            os.unlink(path)
    namespaces.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "",
                    "-f", key_path])
    return hostfs.read_host_file(pid, HOST_KEY + ".pub").decode().strip()


def configure(pid, address, authorized_key, ops_id, address6=None):
    """Write sshd_config and authorise authorized_key for root and ops."""
    hostfs.write_host_file(pid, CONFIG, sshd_config(address, address6))
    hostfs.make_host_dirs(pid, "/run/sshd", mode=0o755)
    hostfs.make_host_dirs(pid, "/root/.ssh", mode=0o700)
    hostfs.write_host_file(pid, "/root/.ssh/authorized_keys", authorized_key, mode=0o600)
    home = f"/home/{OPS_USER}"
    hostfs.make_host_dirs(pid, home + "/.ssh", mode=0o700, uid=ops_id, gid=ops_id)
    hostfs.write_host_file(pid, home + "/.ssh/authorized_keys", authorized_key,
                           mode=0o600, uid=ops_id, gid=ops_id)


def start(pid, timeout=10):
    """Start sshd in the host and return its pid once the pid file exists.

    sshd binds its socket before it forks into the background, so the port
    accepts connections when the pid file appears.
    """
    pid_path = hostfs.host_root(pid) + PID_FILE
    if os.path.lexists(pid_path):
        os.unlink(pid_path)
    # /run is a tmpfs, so the privilege separation directory is made again here.
    hostfs.make_host_dirs(pid, "/run/sshd", mode=0o755)
    # -E sends sshd's log to a file because node hosts have no syslog daemon.
    namespaces.run_in(pid, ["/usr/sbin/sshd", "-f", CONFIG, "-E", LOG_FILE])
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sshd_pid = running_pid(pid)
        if sshd_pid:
            return sshd_pid
        time.sleep(0.02)
    raise namespaces.LabError(f"sshd did not write {PID_FILE} within {timeout} s")


def running_pid(pid):
    """Return the pid of the host's listening sshd, or None if it does not run."""
    try:
        text = hostfs.read_host_file(pid, PID_FILE).decode().strip()
    except OSError:
        return None
    if not text.isdigit():
        return None
    sshd_pid = int(text)
    # The pid must be a process in the host's network namespace, so a
    # recycled pid of some other process is never taken for sshd.
    ids = namespaces.namespace_ids(sshd_pid)
    host_ids = namespaces.namespace_ids(pid)
    if ids is None or host_ids is None or ids["net"] != host_ids["net"]:
        return None
    return sshd_pid


def stop(pid, timeout=5):
    """Stop the listening sshd; open sessions keep running, as with systemd's ssh.service."""
    sshd_pid = running_pid(pid)
    if sshd_pid is None:
        return
    os.kill(sshd_pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if namespaces.namespace_ids(sshd_pid) is None:
            break
        time.sleep(0.02)
    else:
        os.kill(sshd_pid, signal.SIGKILL)
    pid_path = hostfs.host_root(pid) + PID_FILE
    if os.path.lexists(pid_path):
        os.unlink(pid_path)
