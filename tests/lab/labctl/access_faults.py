"""Faults for the SSH access tests: jump-host-only SSH and a real sudo password.

`ssh-only-from SOURCE` makes a node host accept SSH only from lab host SOURCE (a bastion),
so the operator must jump through it; `ssh-from-anywhere` undoes that. `ops-password`
reads a password from stdin, never from the command line, and sets it for ops.
"""

import shlex
import sys

from . import namespaces
from .namespaces import LabError
from .state import OPS_USER, host_spec, ipv6_address

RULE_COMMENT = "k3sjoin-lab-ssh-only-from"
IPTABLES_WAIT_SECONDS = "5"


def _node_pid(record, host):
    if host_spec(host).kind != "node":
        raise LabError(f"host {host} runs no sshd; use a node host")
    pid = record.host(host).get("pid")
    if not pid:
        raise LabError(f"host {host} has no holder process in lab {record.name}")
    return pid


def _tables(record):
    return ("iptables", "ip6tables") if record.options().get("ipv6") else ("iptables",)


def ssh_only_from(record, host, args):
    source = host_spec(args[0])
    pid = _node_pid(record, host)
    for table in _tables(record):
        address = source.address if table == "iptables" else ipv6_address(source.address)
        # A reset instead of a silent drop makes a direct attempt fail at once.
        namespaces.run_in(pid, [
            table, "-w", IPTABLES_WAIT_SECONDS, "-I", "INPUT", "-p", "tcp", "--dport", "22",
            "!", "-s", address, "-m", "comment", "--comment", RULE_COMMENT,
            "-j", "REJECT", "--reject-with", "tcp-reset"])
    return f"{host} accepts SSH only from {source.name}"


def ssh_from_anywhere(record, host, args):
    pid = _node_pid(record, host)
    removed = 0
    for table in _tables(record):
        rules = namespaces.run_in(pid, [table, "-w", IPTABLES_WAIT_SECONDS, "-S", "INPUT"])
        for line in rules.stdout.decode().splitlines():
            words = shlex.split(line)
            if words[:2] == ["-A", "INPUT"] and RULE_COMMENT in words:
                namespaces.run_in(pid, [table, "-w", IPTABLES_WAIT_SECONDS, "-D"] + words[1:])
                removed += 1
    return f"removed {removed} SSH source rule(s) on {host}"


def ops_password(record, host, args):
    password = sys.stdin.readline().rstrip("\n")
    if not password:
        raise LabError("ops-password reads the password from stdin; got an empty line")
    namespaces.run_in(_node_pid(record, host), ["chpasswd"],
                      input=f"{OPS_USER}:{password}\n".encode())
    return f"{OPS_USER} has a password on {host}"


# kind -> (argument count, handler), merged into faults.apply's table.
HANDLERS = {
    "ssh-only-from": (1, ssh_only_from),
    "ssh-from-anywhere": (0, ssh_from_anywhere),
    "ops-password": (0, ops_password),
}
