"""Fault injection: `lab fault NAME HOST KIND [ARG...]`."""

import hashlib
import os
import shlex
import signal

from . import access_faults, host_faults, hostfs, mirror, namespaces, sshd
from .namespaces import LabError
from .state import host_spec

# Every iptables rule the lab adds carries this comment, so `undrop`
# removes exactly those rules.
RULE_COMMENT = "k3sjoin-lab"
IPTABLES_WAIT_SECONDS = "5"


def apply(record, host, kind, args):
    """Apply fault kind with args to host of the lab in record; return a message."""
    handlers = {
        "sshd-stop": (0, _sshd_stop),
        "sshd-start": (0, _sshd_start),
        "drop-tcp": (1, lambda r, h, a: _drop(r, h, "tcp", a[0])),
        "drop-udp": (1, lambda r, h, a: _drop(r, h, "udp", a[0])),
        "undrop": (0, _undrop),
        "kill-agent": (0, _kill_agent),
        "install-slow": (1, _install_slow),
        "install-hang": (0, _install_hang),
        "install-normal": (0, _install_normal),
        "hostkey-change": (0, _hostkey_change),
        "clear": (1, host_faults.clear),
        "ssh-drop-sessions": (0, _ssh_drop_sessions),
        "agent-wipe": (0, _agent_wipe),
        "token-wrong-hash": (0, _token_wrong_hash),
        "token-restore": (0, _token_restore),
    }
    for name, (count, handler, _) in host_faults.HANDLERS.items():
        handlers[name] = (count, handler)
    handlers.update(access_faults.HANDLERS)
    if kind not in handlers:
        raise LabError(f"unknown fault kind {kind!r}; expected one of: {', '.join(handlers)}")
    arg_count, handler = handlers[kind]
    allowed = arg_count if isinstance(arg_count, tuple) else (arg_count,)
    if len(args) not in allowed:
        expected = " or ".join(str(count) for count in allowed)
        raise LabError(f"fault {kind} takes {expected} argument(s), got {len(args)}")
    host_spec(host)  # raises ValueError for an unknown host
    return handler(record, host, args)


def _holder_pid(record, host):
    pid = record.host(host).get("pid")
    if not pid:
        raise LabError(f"host {host} has no holder process in lab {record.name}")
    return pid


def _node_pid(record, host):
    if host_spec(host).kind != "node":
        raise LabError(f"host {host} runs no sshd or k3s; use a node host")
    return _holder_pid(record, host)


def _sshd_stop(record, host, args):
    sshd.stop(_node_pid(record, host))
    record.host(host)["sshd_pid"] = None
    record.save()
    return f"sshd stopped on {host}"


def _sshd_start(record, host, args):
    pid = _node_pid(record, host)
    sshd_pid = sshd.running_pid(pid) or sshd.start(pid)
    record.host(host)["sshd_pid"] = sshd_pid
    record.save()
    return f"sshd running on {host} (pid {sshd_pid})"


def _port(text):
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise LabError(f"invalid port {text!r}: expected 1-65535")
    return text


def _drop(record, host, protocol, port_text):
    port = _port(port_text)
    # Loopback stays open, as with a host firewall, so the server's own kubectl still
    # reaches 127.0.0.1:6443 while traffic from other hosts is dropped.
    namespaces.run_in(_holder_pid(record, host), [
        "iptables", "-w", IPTABLES_WAIT_SECONDS, "-I", "INPUT", "!", "-i", "lo", "-p", protocol,
        "--dport", port, "-m", "comment", "--comment", RULE_COMMENT, "-j", "DROP"])
    return f"dropping inbound {protocol} port {port} from other hosts on {host}"


def _undrop(record, host, args):
    pid = _holder_pid(record, host)
    rules = namespaces.run_in(pid, ["iptables", "-w", IPTABLES_WAIT_SECONDS, "-S", "INPUT"])
    removed = 0
    for line in rules.stdout.decode().splitlines():
        words = shlex.split(line)
        if words[:2] != ["-A", "INPUT"] or RULE_COMMENT not in words:
            continue
        namespaces.run_in(pid, ["iptables", "-w", IPTABLES_WAIT_SECONDS, "-D"] + words[1:])
        removed += 1
    return f"removed {removed} DROP rule(s) on {host}"


def _is_k3s_agent(argv):
    """Return True for `k3s agent ...`, run directly or through an interpreter."""
    for index, word in enumerate(argv[:-1]):
        if os.path.basename(word) == "k3s" and argv[index + 1] == "agent":
            return True
    return False


def _kill_agent(record, host, args):
    pid = _node_pid(record, host)
    host_ids = namespaces.namespace_ids(pid)
    killed = []
    for candidate in namespaces.find_lab_processes([(host_ids, True)]):
        try:
            with open(f"/proc/{candidate}/cmdline", "rb") as f:
                argv = [word.decode(errors="replace") for word in f.read().split(b"\0") if word]
        except OSError:
            continue
        if _is_k3s_agent(argv):
            try:
                os.kill(candidate, signal.SIGKILL)
                killed.append(candidate)
            except ProcessLookupError:
                pass
    if not killed:
        raise LabError(f"no k3s agent process found on {host}")
    return f"killed k3s agent process(es) {' '.join(map(str, killed))} on {host}"


def _set_mirror_fault(record, host, fault):
    mirror_dir = record.path_in_state("mirror")
    faults = mirror.read_faults(mirror_dir)
    address = host_spec(host).address
    if fault is None:
        faults.pop(address, None)
    else:
        faults[address] = fault
    mirror.write_faults(mirror_dir, faults)


def _install_slow(record, host, args):
    try:
        seconds = float(args[0])
    except ValueError as error:
        raise LabError(f"invalid delay {args[0]!r}: expected seconds") from error
    if seconds < 0:
        raise LabError(f"invalid delay {args[0]!r}: expected seconds >= 0")
    _set_mirror_fault(record, host, {"kind": "slow", "seconds": seconds})
    return f"mirror delays every response to {host} by {seconds:g} s"


def _install_hang(record, host, args):
    _set_mirror_fault(record, host, {"kind": "hang"})
    return f"mirror does not answer {host}"


def _install_normal(record, host, args):
    _set_mirror_fault(record, host, None)
    return f"mirror serves {host} normally again"


def _hostkey_change(record, host, args):
    pid = _node_pid(record, host)
    public_key = sshd.generate_host_key(pid)
    sshd.stop(pid)
    record.host(host)["sshd_pid"] = sshd.start(pid)
    record.host(host)["host_key"] = public_key
    record.save()
    return f"new host key on {host}: {public_key}"


def _ssh_drop_sessions(record, host, args):
    """Kill every sshd process of the host except the listener, so open connections drop."""
    pid = _node_pid(record, host)
    listener = sshd.running_pid(pid)
    host_ids = namespaces.namespace_ids(pid)
    killed = []
    for candidate in namespaces.find_lab_processes([(host_ids, True)]):
        if candidate == listener:
            continue
        try:
            with open(f"/proc/{candidate}/cmdline", "rb") as f:
                argv0 = f.read().split(b"\0")[0].decode(errors="replace")
        except OSError:
            continue
        if argv0.startswith("sshd:") or os.path.basename(argv0) == "sshd":
            try:
                os.kill(candidate, signal.SIGKILL)
                killed.append(candidate)
            except ProcessLookupError:
                pass
    return f"killed {len(killed)} sshd session process(es) on {host}"


# A wiped machine has lost k3s and its node password, as after a reinstall of the OS.
WIPE_SCRIPT = (
    "if [ -x /usr/local/bin/k3s-agent-uninstall.sh ]; then "
    "/usr/local/bin/k3s-agent-uninstall.sh >/dev/null 2>&1 || true; fi; "
    "rm -rf /etc/rancher /var/lib/rancher /var/log/sim-journal/k3s-agent.log "
    "/run/systemd-sim/k3s-agent")


def _agent_wipe(record, host, args):
    pid = _node_pid(record, host)
    namespaces.run_in(pid, ["sh", "-c", WIPE_SCRIPT], timeout=60)
    return f"wiped k3s and /etc/rancher/node/password on {host}"


SERVER_TOKEN = "/var/lib/rancher/k3s/server/token"
SAVED_TOKEN = SERVER_TOKEN + ".lab-original"


def _token_wrong_hash(record, host, args):
    """Rewrite the server's token with another CA hash, keeping its credentials."""
    pid = _node_pid(record, host)
    original = hostfs.read_host_file(pid, SERVER_TOKEN).decode()
    if not os.path.exists(hostfs.host_root(pid) + SAVED_TOKEN):
        hostfs.write_host_file(pid, SAVED_TOKEN, original, mode=0o600)
    prefix, separator, credentials = original.strip().partition("::")
    if not prefix.startswith("K10") or not separator:
        raise LabError(f"{SERVER_TOKEN} on {host} is not a secure token")
    wrong_hash = hashlib.sha256(b"k3sjoin lab: not this cluster's CA").hexdigest()
    hostfs.write_host_file(pid, SERVER_TOKEN, f"K10{wrong_hash}::{credentials}\n", mode=0o600)
    return f"{SERVER_TOKEN} on {host} now has CA hash {wrong_hash[:12]}..."


def _token_restore(record, host, args):
    pid = _node_pid(record, host)
    saved = hostfs.host_root(pid) + SAVED_TOKEN
    if not os.path.exists(saved):
        return f"{SERVER_TOKEN} on {host} was not changed"
    hostfs.write_host_file(pid, SERVER_TOKEN, hostfs.read_host_file(pid, SAVED_TOKEN), mode=0o600)
    os.unlink(saved)
    return f"{SERVER_TOKEN} on {host} restored"
