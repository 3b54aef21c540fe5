"""Command line of tests/lab/lab."""

import argparse
import json
import os
import sys

from . import faults, lifecycle, namespaces, sshd
from .namespaces import LabError
from .state import (DEFAULT_NAME, DEFAULT_READY_DELAY, LabRecord, host_spec, lab_hosts,
                    validate_name)

USAGE = """\
lab up     [--name NAME] [--ready-delay SECONDS] [--keep-on-failure] [--bastion] [--ipv6]
lab down   [--name NAME]
lab status [--name NAME]
lab env    [--name NAME]
lab exec   [--name NAME] HOST [--user USER] -- CMD [ARG...]
lab fault  [--name NAME] HOST KIND [ARG...]"""


def build_parser():
    parser = argparse.ArgumentParser(
        prog="lab", usage=USAGE,
        description="Run a simulated k3s cluster in Linux namespaces (needs root).")
    commands = parser.add_subparsers(dest="command", required=True)

    def add(name, help_text):
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--name", default=DEFAULT_NAME,
                         help=f"lab name; state lives in /tmp/k3sjoin-lab/NAME "
                              f"(default {DEFAULT_NAME})")
        return sub

    up = add("up", "create and start a lab")
    up.add_argument("--ready-delay", type=float, default=DEFAULT_READY_DELAY,
                    help="seconds from a node's registration to Ready "
                         f"(K3S_SIM_READY_DELAY, default {DEFAULT_READY_DELAY})")
    up.add_argument("--keep-on-failure", action="store_true",
                    help="leave a half-built lab in place for inspection")
    up.add_argument("--bastion", action="store_true",
                    help="add the jump hosts bastion (10.246.10.30) and bastion-2 (10.246.10.31)")
    up.add_argument("--ipv6", action="store_true",
                    help="give every host an IPv6 address too (fd00:246:10::X)")
    add("down", "stop a lab and remove its state directory")
    add("status", "show the lab's hosts and their processes")
    add("env", "print lab.json")
    execute = add("exec", "run a command in a lab host")
    execute.add_argument("host", help="lab host, e.g. operator or agent-01")
    execute.add_argument("--user", default="root", help="user to run as (default root)")
    fault = add("fault", "inject a fault into a lab host")
    fault.add_argument("host", help="lab host")
    fault.add_argument("kind", help="fault kind, e.g. sshd-stop or drop-tcp")
    fault.add_argument("args", nargs="*", help="arguments of the fault kind")
    return parser


def split_command(argv):
    """Split argv at the first "--" into (lab arguments, command to run)."""
    if "--" in argv:
        index = argv.index("--")
        return argv[:index], argv[index + 1:]
    return argv, []


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    lab_args, command = split_command(argv)
    args = build_parser().parse_args(lab_args)
    try:
        validate_name(args.name)
        if os.geteuid() != 0:
            raise LabError("the lab needs root (namespaces, mounts, veth devices)")
        return run_command(args, command)
    except (LabError, ValueError) as error:
        print(f"lab: error: {error}", file=sys.stderr)
        return 1


def run_command(args, command):
    if args.command == "up":
        lifecycle.up(args.name, _delay_text(args.ready_delay), args.keep_on_failure,
                     bastion=args.bastion, ipv6=args.ipv6)
        return 0
    if args.command == "down":
        lifecycle.down(args.name)
        return 0
    if args.command == "exec":
        if not command:
            raise LabError("missing command: use `lab exec HOST -- CMD [ARG...]`")
        return exec_in_host(_load(args.name), args.host, args.user, command)
    if args.command == "fault":
        print(faults.apply(_load(args.name), args.host, args.kind, args.args))
        return 0
    record = _load(args.name)
    if args.command == "env":
        print(json.dumps(record.data, indent=2, sort_keys=True))
    else:
        print_status(record)
    return 0


def _delay_text(seconds):
    return str(int(seconds)) if float(seconds).is_integer() else str(seconds)


def _load(name):
    try:
        return LabRecord.load(name)
    except FileNotFoundError as error:
        raise LabError(f"lab {name} is not up (no {error.filename})") from error


def _user_home(record, host, user):
    if host_spec(host).kind == "shared":
        if user != "root":
            raise LabError(f"host {host} has only the machine's users; use --user root")
        return record.data["operator"]["home"] if host == "operator" else "/root"
    passwd = f"/proc/{record.host(host)['pid']}/root/etc/passwd"
    with open(passwd, encoding="utf-8") as f:
        for line in f:
            fields = line.rstrip("\n").split(":")
            if fields[0] == user and len(fields) == 7:
                return fields[5]
    raise LabError(f"user {user} not found on host {host}")


def exec_in_host(record, host, user, command):
    """Replace this process by command running in host as user.

    stdin, stdout, stderr, signals and the exit code pass straight through.
    The operator keeps the caller's working directory because it shares
    the file system; other hosts start in the user's home directory.
    """
    spec = host_spec(host)
    pid = record.host(host).get("pid")
    if not namespaces.process_alive(pid, record.host(host).get("start_time")):
        raise LabError(f"host {host} of lab {record.name} is not running")
    home = _user_home(record, host, user)
    workdir = os.getcwd() if spec.name == "operator" else home
    argv = namespaces.nsenter_prefix(pid, workdir=workdir)
    if user != "root":
        argv += ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--"]
    environment = namespaces.host_environment(home=home, user=user)
    if "TERM" in os.environ:
        environment["TERM"] = os.environ["TERM"]
    argv += command
    os.execvpe(argv[0], argv, environment)


def _unit_state(pid, unit):
    """Return `systemctl is-active UNIT` in the host, e.g. "active" or "inactive"."""
    result = namespaces.run_in(pid, ["systemctl", "is-active", unit], check=False, timeout=10)
    return result.stdout.decode(errors="replace").strip() or "unknown"


def print_status(record):
    print(f"lab {record.name}: {record.data.get('phase', 'unknown')}, state {record.state}")
    for spec in lab_hosts(record.options()):
        host = record.host(spec.name)
        alive = namespaces.process_alive(host.get("pid"), host.get("start_time"))
        line = f"  {spec.name:<14} {spec.address:<13} holder {'running' if alive else 'stopped'}"
        if spec.kind == "node" and alive:
            sshd_pid = sshd.running_pid(host["pid"])
            line += f", sshd {'pid ' + str(sshd_pid) if sshd_pid else 'stopped'}"
            for unit in ("k3s", "k3s-agent"):
                line += f", {unit} {_unit_state(host['pid'], unit)}"
        print(line)
    mirror_pid = record.data.get("mirror", {}).get("pid")
    if mirror_pid:
        running = namespaces.namespace_ids(mirror_pid) is not None
        print(f"  mirror server pid {mirror_pid} {'running' if running else 'stopped'}")
