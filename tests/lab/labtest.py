"""Helpers for unittest tests that run against a lab (see docs/lab.md).

    from labtest import Lab, LabTestCase

    class JoinTest(LabTestCase):
        def test_join(self):
            rc, out, err = self.lab.k3sjoin(["join", "--inventory", "inventory.json"])

Every lab gets a unique name (t<pid>-<n>) and is always taken down: when
the `with` block or test class ends, on an exception, on SIGTERM or SIGINT,
and at interpreter exit.
"""

import atexit
import itertools
import json
import os
import shlex
import signal
import subprocess
import sys
import threading
import unittest

LAB_DIR = os.path.dirname(os.path.abspath(__file__))
LAB_PROGRAM = os.path.join(LAB_DIR, "lab")
UP_TIMEOUT = 180
DOWN_TIMEOUT = 60

_counter = itertools.count(1)
_active_labs = []
_lock = threading.Lock()
_handlers_installed = False


def unique_name():
    return f"t{os.getpid()}-{next(_counter)}"


def _down_all():
    with _lock:
        labs = list(_active_labs)
    for lab in labs:
        lab.down()


def _on_signal(signum, frame):
    # Raise instead of exiting at once, so `with` blocks and class cleanups
    # run; _down_all covers labs that no cleanup reaches.
    _down_all()
    raise SystemExit(128 + signum)


def _install_handlers():
    global _handlers_installed
    if _handlers_installed or threading.current_thread() is not threading.main_thread():
        return
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    atexit.register(_down_all)
    _handlers_installed = True


class LabCommandError(Exception):
    """A `lab` command failed; the message contains its stderr."""


class Lab:
    """One running lab; use as a context manager or call up() and down()."""

    def __init__(self, name=None, ready_delay=None, bastion=False, ipv6=False):
        self.name = name or unique_name()
        self.ready_delay = ready_delay
        self.bastion = bastion
        self.ipv6 = ipv6
        self.is_up = False
        self._up_process = None

    # Lifecycle

    def up(self):
        _install_handlers()
        with _lock:
            _active_labs.append(self)
        command = [LAB_PROGRAM, "up", "--name", self.name]
        if self.ready_delay is not None:
            command += ["--ready-delay", str(self.ready_delay)]
        if self.bastion:
            command.append("--bastion")
        if self.ipv6:
            command.append("--ipv6")
        self._up_process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        try:
            stdout, stderr = self._up_process.communicate(timeout=UP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._up_process.kill()
            stdout, stderr = self._up_process.communicate()
            self.down()
            raise LabCommandError(f"lab up {self.name} timed out after {UP_TIMEOUT} s: "
                                  f"{stderr.decode(errors='replace')}")
        finally:
            returncode = self._up_process.returncode
            self._up_process = None
        if returncode != 0:
            self.down()
            raise LabCommandError(f"lab up {self.name} failed with exit code {returncode}: "
                                  f"{stderr.decode(errors='replace')}")
        self.is_up = True
        return self

    def down(self):
        """Take the lab down; safe to call more than once."""
        process = self._up_process
        if process is not None and process.poll() is None:
            # Stop a `lab up` that is still running, so it creates nothing
            # after `lab down` has looked at lab.json.
            process.kill()
            process.wait(timeout=DOWN_TIMEOUT)
        result = subprocess.run([LAB_PROGRAM, "down", "--name", self.name],
                                stdin=subprocess.DEVNULL, capture_output=True,
                                timeout=DOWN_TIMEOUT)
        with _lock:
            if self in _active_labs:
                _active_labs.remove(self)
        self.is_up = False
        if result.returncode != 0:
            raise LabCommandError(f"lab down {self.name} failed: "
                                  f"{result.stderr.decode(errors='replace')}")

    def __enter__(self):
        return self.up()

    def __exit__(self, exc_type, exc, traceback):
        self.down()
        return False

    # Access

    def env(self):
        """Return lab.json as a dict."""
        rc, out, err = self._lab(["env", "--name", self.name])
        if rc != 0:
            raise LabCommandError(f"lab env {self.name} failed: {err}")
        return json.loads(out)

    @property
    def state(self):
        return os.path.join("/tmp/k3sjoin-lab", self.name)

    @property
    def operator_home(self):
        return os.path.join(self.state, "operator", "home")

    def exec(self, host, cmd, user=None, input=None, timeout=60, cwd=None, env=None):
        """Run cmd in host and return (returncode, stdout, stderr) as text.

        cmd is an argv list, or a string run with `sh -c`. env adds
        variables to the host's minimal environment. cwd matters only for
        the operator, which shares the file system; other hosts start in
        the user's home directory.
        """
        argv = ["sh", "-c", cmd] if isinstance(cmd, str) else list(cmd)
        if env:
            argv = ["env"] + [f"{key}={value}" for key, value in env.items()] + argv
        command = ["exec", "--name", self.name, host]
        if user:
            command += ["--user", user]
        return self._lab(command + ["--"] + argv, input=input, timeout=timeout, cwd=cwd)

    def k3sjoin(self, args, input=None, timeout=300, env=None, cwd=None):
        """Run the k3sjoin binary (path in $K3SJOIN_BIN) in the operator host.

        The default working directory is the operator's home, which contains
        inventory.json.
        """
        binary = os.environ.get("K3SJOIN_BIN")
        if not binary:
            raise LabCommandError("K3SJOIN_BIN is not set; point it at the built k3sjoin binary")
        return self.exec("operator", [os.path.abspath(binary)] + list(args), input=input,
                         timeout=timeout, env=env, cwd=cwd or self.operator_home)

    def ssh(self, host, remote_command, user="root", timeout=60):
        """Run remote_command on host over ssh from the operator."""
        return self.exec("operator", ["ssh", "-o", "BatchMode=yes", f"{user}@{host}",
                                      remote_command], timeout=timeout)

    def fault(self, host, kind, *args, input=None):
        """Apply a fault (docs/lab.md lists the kinds); raise LabCommandError on failure.

        input goes to the fault's stdin, for faults that read a secret there."""
        rc, out, err = self._lab(["fault", "--name", self.name, host, kind]
                                 + [str(arg) for arg in args], input=input)
        if rc != 0:
            raise LabCommandError(f"lab fault {host} {kind} failed: {err}")
        return out

    def kubectl_nodes_json(self, timeout=30):
        """Return `k3s kubectl get nodes -o json` on the server, parsed."""
        rc, out, err = self.exec("k3s-server-01", ["k3s", "kubectl", "get", "nodes", "-o", "json"],
                                 timeout=timeout)
        if rc != 0:
            raise LabCommandError(f"k3s kubectl get nodes failed with exit code {rc}: {err}")
        return json.loads(out)

    def _lab(self, args, input=None, timeout=60, cwd=None):
        if isinstance(input, str):
            input = input.encode()
        try:
            result = subprocess.run([LAB_PROGRAM] + args, input=input, capture_output=True,
                                    timeout=timeout, cwd=cwd,
                                    stdin=subprocess.DEVNULL if input is None else None)
        except subprocess.TimeoutExpired as error:
            raise LabCommandError(
                f"timed out after {timeout} s: lab {shlex.join(args)}") from error
        return (result.returncode, result.stdout.decode(errors="replace"),
                result.stderr.decode(errors="replace"))


class LabTestCase(unittest.TestCase):
    """A TestCase whose class shares one lab, brought up in setUpClass.

    Set ready_delay in a subclass to change K3S_SIM_READY_DELAY, and bastion or ipv6 to
    bring the lab up with `--bastion` or `--ipv6`.
    """

    ready_delay = None
    bastion = False
    ipv6 = False
    lab = None

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if os.geteuid() != 0:
            raise unittest.SkipTest("the lab needs root")
        cls.lab = Lab(ready_delay=cls.ready_delay, bastion=cls.bastion, ipv6=cls.ipv6)
        cls.addClassCleanup(cls.lab.down)
        cls.lab.up()


def main():
    """Run unittest.main with verbose output, as the lab test files do."""
    unittest.main(verbosity=2)


if __name__ == "__main__":
    sys.exit("labtest is a module; import it from a test")
