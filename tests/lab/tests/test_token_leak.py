#!/usr/bin/python3
"""The join token must not leak: not in any process's argv on any lab host during `up`, not
in k3sjoin's output, JSON report or log file, and in no file on any host other than the
ones k3s itself writes."""

import os
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from labtest import LabTestCase  # noqa: E402

SERVER = "k3s-server-01"
NODE_HOSTS = (SERVER, "agent-01", "agent-02")
# Files k3s writes with the token in them: the server's token file (node-token and
# agent-token are symlinks to it) and the agent's systemd environment file.
K3S_TOKEN_FILES = {
    SERVER: {"/var/lib/rancher/k3s/server/token"},
    "agent-01": {"/etc/systemd/system/k3s-agent.service.env"},
    "agent-02": {"/etc/systemd/system/k3s-agent.service.env"},
}
SAMPLE_INTERVAL = 0.005


class ArgvSampler(threading.Thread):
    """Reads /proc/*/cmdline of every process on the machine until stopped.

    Lab hosts share the machine's PID namespace, so this sees every process on every lab
    host, the operator's k3sjoin and ssh included. Every distinct argv is kept, so secrets
    that exist only after the run, such as a bootstrap token, can be searched for too."""

    def __init__(self, needles=()):
        super().__init__(daemon=True)
        self.needles = [needle.encode() for needle in needles]
        self.stop_event = threading.Event()
        self.samples = 0
        self.processes_seen = set()
        self.argvs = set()
        self.leaks = []

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
                self.processes_seen.add((entry.name, argv[:80]))
                self.argvs.add(argv)
                for needle in self.needles:
                    if needle in argv:
                        self.leaks.append(argv.replace(b"\0", b" ").decode(errors="replace"))
            self.samples += 1
            time.sleep(SAMPLE_INTERVAL)

    def stop(self):
        self.stop_event.set()
        self.join(timeout=10)

    def argvs_containing(self, needle):
        return [argv.replace(b"\0", b" ").decode(errors="replace")
                for argv in self.argvs if needle.encode() in argv]


def files_containing(testcase, host, needle):
    """Return the paths of the files a lab host has written that contain needle: its
    overlay upper directories (read from the root namespace) and its private tmpfs mounts
    (read inside the host)."""
    lab = testcase.lab
    found = set()
    upper_root = os.path.join(lab.state, "hosts", host, "upper")
    for top in os.listdir(upper_root):
        for directory, _, files in os.walk(os.path.join(upper_root, top)):
            for name in files:
                path = os.path.join(directory, name)
                if os.path.islink(path) or not os.path.isfile(path):
                    continue
                with open(path, "rb") as file:
                    if needle.encode() in file.read():
                        found.add("/" + os.path.relpath(path, upper_root))
    rc, out, err = lab.exec(host, 'grep -rlsF -- "$(cat)" /tmp /run 2>/dev/null; true',
                            input=needle)
    testcase.assertEqual(rc, 0, err)
    found.update(path for path in out.splitlines() if path)
    return found


class TokenLeakTest(LabTestCase):
    ready_delay = 2

    def server_secrets(self):
        rc, out, err = self.lab.exec(SERVER, ["cat", "/var/lib/rancher/k3s/server/token"])
        self.assertEqual(rc, 0, err)
        token = out.strip()
        password = token.rsplit(":", 1)[1]
        self.assertEqual(len(password), 32)
        return token, password

    def test_no_leak_during_up(self):
        token, password = self.server_secrets()
        sampler = ArgvSampler([token, password])
        log_file = os.path.join(self.lab.operator_home, "leak-test.log")
        sampler.start()
        try:
            rc, out, err = self.lab.k3sjoin(["-vv", "--log-file", log_file, "-o", "json",
                                             "up", "inventory.json"])
            rc_text, out_text, err_text = self.lab.k3sjoin(["-vv", "up", "inventory.json"])
        finally:
            sampler.stop()
        self.assertEqual(rc, 0, err)
        self.assertEqual(rc_text, 0, err_text)
        # The sampler must have seen the install: the remote `sh` running install.sh.
        self.assertGreater(sampler.samples, 50)
        self.assertTrue(any(b"install.sh" in argv for _, argv in sampler.processes_seen),
                        "the sampler never saw the installer run")
        self.assertEqual(sampler.leaks, [])

        with open(log_file, encoding="utf-8") as log:
            log_text = log.read()
        self.assertIn("install the k3s agent", log_text)
        self.assertEqual(os.stat(log_file).st_mode & 0o777, 0o600)
        for name, text in (("stdout", out), ("stderr", err), ("text stdout", out_text),
                           ("text stderr", err_text), ("log file", log_text)):
            self.assertNotIn(password, text, name)
            self.assertNotIn(token, text, name)

        for host in NODE_HOSTS:
            self.assert_no_file_contains(host, password)

    def assert_no_file_contains(self, host, password):
        found = files_containing(self, host, password)
        allowed = K3S_TOKEN_FILES[host]
        # k3s's own files must be found, which shows that the search reads what it should.
        self.assertEqual(found & allowed, allowed, f"search missed k3s's files on {host}")
        self.assertEqual(found - allowed, set(), f"token found in files on {host}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
