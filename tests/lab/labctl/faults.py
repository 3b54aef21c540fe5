"""Fault injection: `lab fault NAME HOST KIND [ARG...]`."""

import os
import shlex
import signal

from . import mirror, namespaces, sshd
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
    }
    if kind not in handlers:
        raise LabError(f"unknown fault kind {kind!r}; expected one of: {', '.join(handlers)}")
    arg_count, handler = handlers[kind]
    if len(args) != arg_count:
        raise LabError(f"fault {kind} takes {arg_count} argument(s), got {len(args)}")
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
    namespaces.run_in(_holder_pid(record, host), [
        "iptables", "-w", IPTABLES_WAIT_SECONDS, "-I", "INPUT", "-p", protocol,
        "--dport", port, "-m", "comment", "--comment", RULE_COMMENT, "-j", "DROP"])
    return f"dropping inbound {protocol} port {port} on {host}"


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
