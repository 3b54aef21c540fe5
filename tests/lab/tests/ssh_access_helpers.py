"""Helpers for the SSH access lab tests: a terminal for prompts, an argv sampler, and
searches for a secret in what k3sjoin and the hosts wrote."""

import os
import pty
import select
import signal
import threading
import time

from labtest import LAB_PROGRAM

SAMPLE_INTERVAL = 0.005


def run_with_terminal(lab, command, answer, prompt, timeout=240):
    """Run `sh -c command` in the operator host on a new terminal; type answer at prompt.

    Returns (exit code, terminal output). k3sjoin writes its prompt to /dev/tty, which is
    this terminal, so the command redirects its own stdout and stderr to files.
    """
    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.chdir(lab.operator_home)
            os.execv(LAB_PROGRAM, [LAB_PROGRAM, "exec", "--name", lab.name, "operator", "--",
                                   "sh", "-c", command])
        finally:
            os._exit(127)
    output = b""
    answered = False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(fd, 4096)
                except OSError:
                    break  # EIO: the child closed the terminal
                if not chunk:
                    break
                output += chunk
            if not answered and prompt.encode() in output:
                os.write(fd, answer.encode() + b"\n")
                answered = True
        else:
            os.kill(pid, signal.SIGKILL)
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), output.decode(errors="replace")


class ArgvSampler(threading.Thread):
    """Reads /proc/*/cmdline of every process on the machine until stopped, and records
    command lines that contain a needle. Lab hosts share the machine's PID namespace."""

    def __init__(self, needles):
        super().__init__(daemon=True)
        self.needles = [needle.encode() for needle in needles if needle]
        self.stop_event = threading.Event()
        self.samples = 0
        self.leaks = []
        self.saw_sudo = False

    def run(self):
        while not self.stop_event.is_set():
            for entry in os.scandir("/proc"):
                if not entry.name.isdigit():
                    continue
                try:
                    with open(f"/proc/{entry.name}/cmdline", "rb") as cmdline:
                        argv = cmdline.read()
                except OSError:
                    continue
                self.saw_sudo = self.saw_sudo or argv.startswith(b"sudo\0-S")
                for needle in self.needles:
                    if needle in argv:
                        self.leaks.append(argv.replace(b"\0", b" ").decode(errors="replace"))
            self.samples += 1
            time.sleep(SAMPLE_INTERVAL)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop_event.set()
        self.join(timeout=10)
        return False


def files_containing(lab, host, secret):
    """Return the paths of files on a node host that contain secret: its overlay upper
    directories (read from the root namespace) and its /tmp and /run (read inside it)."""
    found = set()
    upper_root = os.path.join(lab.state, "hosts", host, "upper")
    for top in os.listdir(upper_root):
        for directory, _, files in os.walk(os.path.join(upper_root, top)):
            for name in files:
                path = os.path.join(directory, name)
                if os.path.islink(path) or not os.path.isfile(path):
                    continue
                with open(path, "rb") as file:
                    if secret.encode() in file.read():
                        found.add("/" + os.path.relpath(path, upper_root))
    rc, out, err = lab.exec(host, 'grep -rlsF -- "$(cat)" /tmp /run 2>/dev/null; true',
                            input=secret)
    if rc != 0:
        raise AssertionError(f"searching {host} failed: {err}")
    found.update(path for path in out.splitlines() if path)
    return found


def operator_files_containing(lab, secret):
    """Return the files under the operator's home that contain secret."""
    found = set()
    for directory, _, files in os.walk(lab.operator_home):
        for name in files:
            path = os.path.join(directory, name)
            if os.path.isfile(path) and not os.path.islink(path):
                with open(path, "rb") as file:
                    if secret.encode() in file.read():
                        found.add(path)
    return found
