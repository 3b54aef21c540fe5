"""Holder processes, nsenter commands and finding the processes of a lab."""

import os
import signal
import subprocess
import time

from .state import STANDARD_PATH

NAMESPACE_KINDS = ("net", "mnt", "uts")
HOLDER_VARIABLE = "K3SJOIN_LAB_HOLDER"


class LabError(Exception):
    """A lab step failed; the message names the step and the cause."""


def run(command, *, input=None, timeout=60, check=True, env=None):
    """Run command, capture its output and return the CompletedProcess.

    Raise LabError with the command's stderr if it fails and check is set.
    """
    try:
        result = subprocess.run(
            command, input=input, capture_output=True, timeout=timeout, env=env,
            stdin=None if input is not None else subprocess.DEVNULL)
    except subprocess.TimeoutExpired as error:
        raise LabError(f"timed out after {timeout} s: {' '.join(command)}") from error
    if check and result.returncode != 0:
        stderr = result.stderr.decode(errors="replace").strip()
        raise LabError(
            f"command failed with exit code {result.returncode}: "
            f"{' '.join(command)}: {stderr}")
    return result


def nsenter_prefix(pid, kinds=("net", "mnt", "uts"), workdir=None):
    """Return the nsenter argv prefix that enters the namespaces of pid."""
    flags = {"net": "--net", "mnt": "--mount", "uts": "--uts"}
    prefix = ["nsenter", "--target", str(pid)]
    prefix += [flags[kind] for kind in kinds]
    if workdir:
        # --wdns changes directory after entering the mount namespace,
        # whereas --wd would open the path in the caller's namespace.
        prefix.append(f"--wdns={workdir}")
    return prefix + ["--"]


def host_environment(home="/root", user="root"):
    """Return the environment of commands run in a host: a login's basics only."""
    return {"PATH": STANDARD_PATH, "HOME": home, "USER": user, "LOGNAME": user,
            "SHELL": "/bin/bash", "LANG": "C.UTF-8"}


def run_in(pid, command, **kwargs):
    """Run command as root inside the net, mount and UTS namespaces of pid."""
    kwargs.setdefault("env", host_environment())
    return run(nsenter_prefix(pid) + list(command), **kwargs)


def process_start_time(pid):
    """Return field 22 of /proc/PID/stat (start time in clock ticks), or None."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            stat = f.read()
    except OSError:
        return None
    # The command name (field 2) may contain spaces, so split after its ')'.
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[19])


def namespace_ids(pid):
    """Return {"net": inode, "mnt": inode, "uts": inode} for pid, or None."""
    ids = {}
    for kind in NAMESPACE_KINDS:
        try:
            ids[kind] = os.stat(f"/proc/{pid}/ns/{kind}").st_ino
        except OSError:
            return None
    return ids


def process_alive(pid, start_time):
    """Return True if pid runs and is the process that started at start_time."""
    return pid is not None and process_start_time(pid) == start_time


def start_holder(lab_name, hostname, timeout=10):
    """Start a holder process in new net, mount and UTS namespaces.

    The holder sets its hostname and then sleeps. Its pid is the handle
    of the host: every lab command for the host enters its namespaces.
    Its environment contains HOLDER_VARIABLE=lab_name, so `lab down` finds
    it even if `lab up` died before recording its pid.
    Return (pid, start_time, namespace ids).
    """
    root_ids = namespace_ids(os.getpid())
    command = [
        "unshare", "--net", "--mount", "--uts", "--propagation", "private",
        "--", "/bin/sh", "-c", 'hostname "$1" && exec sleep infinity',
        "holder", hostname,
    ]
    environment = {"PATH": STANDARD_PATH, HOLDER_VARIABLE: lab_name}
    process = subprocess.Popen(
        command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True, env=environment)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise LabError(f"holder for {hostname} exited with code {process.returncode}")
        ids = namespace_ids(process.pid)
        if ids and ids["net"] != root_ids["net"] and _command_name(process.pid) == "sleep":
            return process.pid, process_start_time(process.pid), ids
        time.sleep(0.01)
    process.kill()
    raise LabError(f"holder for {hostname} did not start within {timeout} s")


def _command_name(pid):
    try:
        with open(f"/proc/{pid}/comm", encoding="utf-8") as f:
            return f.read().strip()
    except OSError:
        return None


def find_holders(lab_name):
    """Return the pids of running holders started for lab_name."""
    marker = f"{HOLDER_VARIABLE}={lab_name}".encode()
    found = []
    for pid in _all_pids():
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                variables = f.read().split(b"\0")
        except OSError:
            continue
        if marker in variables:
            found.append(pid)
    return found


def _all_pids():
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def find_lab_processes(namespaces):
    """Return the pids whose namespaces match one of the given records.

    namespaces is a list of (ids, verified) pairs. ids contains the net, mnt
    and uts inode numbers recorded when the lab made the namespace. When
    verified is True (the holder still runs with those ids), the net
    namespace alone identifies the lab. Otherwise the kernel may have
    reused the inode numbers for another namespace, so all three must match.
    """
    own_pid = os.getpid()
    found = []
    for pid in _all_pids():
        if pid == own_pid:
            continue
        ids = namespace_ids(pid)
        if ids is None:
            continue
        for recorded, verified in namespaces:
            if ids["net"] != recorded["net"]:
                continue
            if verified or all(ids[kind] == recorded[kind] for kind in NAMESPACE_KINDS):
                found.append(pid)
                break
    return found


def kill_lab_processes(namespaces, timeout=10):
    """SIGKILL every process in the given namespaces until none is left.

    Repeat the scan because a dying supervisor may fork in between.
    Return the pids still found at the deadline (empty on success).
    """
    deadline = time.monotonic() + timeout
    remaining = find_lab_processes(namespaces)
    while remaining and time.monotonic() < deadline:
        for pid in remaining:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.05)
        remaining = find_lab_processes(namespaces)
    return remaining
