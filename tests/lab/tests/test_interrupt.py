"""Ctrl-C while agents install, and the server's sshd lost while k3sjoin waits for Ready."""

import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import labtest  # noqa: E402

AGENTS = ("agent-01", "agent-02")

# Lists install processes in the host's own network namespace; lab hosts share the
# machine's process list, so pgrep alone would also see other labs' processes.
LEFTOVER_PROCESSES = (
    "me=$(readlink /proc/self/ns/net); "
    "for pid in $(pgrep -f '[i]nstall[.]sh|[c]url |[k]3sjoin-'); do "
    "[ \"$(readlink /proc/$pid/ns/net 2>/dev/null)\" = \"$me\" ] && "
    "tr '\\0' ' ' < /proc/$pid/cmdline && echo; done; true")


def host(report, name):
    return next(entry for entry in report["hosts"] if entry["name"] == name)


def start_k3sjoin(lab, args):
    """Start k3sjoin on the operator; `lab exec` becomes k3sjoin, so signals reach it."""
    binary = os.path.abspath(os.environ["K3SJOIN_BIN"])
    return subprocess.Popen(
        [labtest.LAB_PROGRAM, "exec", "--name", lab.name, "operator", "--", binary] + args,
        cwd=lab.operator_home, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)


def wait_until(test, condition, timeout, message):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    test.fail(message)


class InterruptTest(labtest.LabTestCase):
    ready_delay = 2

    def install_dirs(self, name):
        rc, out, err = self.lab.exec(name, "ls -d /tmp/k3sjoin-* 2>/dev/null || true")
        return out.split()

    def has_k3s(self, name):
        return self.lab.exec(name, "test -e /usr/local/bin/k3s")[0] == 0

    def interrupt_installs(self, output):
        """Start `up`, send SIGINT once both installs run, return (rc, stdout, seconds)."""
        for name in AGENTS:
            self.lab.fault(name, "install-slow", 4)
            self.addCleanup(self.lab.fault, name, "install-normal")
        process = start_k3sjoin(self.lab, ["up", "inventory.json", "--skip-preflight",
                                           "-o", output])
        try:
            wait_until(self, lambda: all(self.install_dirs(name) for name in AGENTS), 60,
                       "the installs did not start")
            interrupted_at = time.monotonic()
            process.send_signal(signal.SIGINT)
            out, err = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.communicate()
        return process.returncode, out, err, time.monotonic() - interrupted_at

    def assert_clean_hosts(self):
        for name in ("k3s-server-01",) + AGENTS:
            self.assertEqual(self.install_dirs(name), [], f"temporary files left on {name}")
            rc, out, err = self.lab.exec(name, LEFTOVER_PROCESSES)
            self.assertEqual(out.strip(), "", f"install processes left on {name}")

    def test_1_sigint_text_report(self):
        rc, out, err, took = self.interrupt_installs("text")
        self.assertEqual(rc, 130, out + err)
        self.assertLess(took, 30, "in-flight steps end within a bounded time")
        self.assertIn("(interrupted)", out)
        for name in AGENTS:
            self.assertRegex(out, name + r"\s+agent\s+install-started\s")
            self.assertIn("k3s not installed" if not self.has_k3s(name) else "k3s binary installed",
                          next(line for line in out.splitlines() if line.startswith(name)))
        self.assertEqual(out.count("fix: run k3sjoin again to finish the join"), 2, out)
        self.assert_clean_hosts()

    def test_2_sigint_json_report(self):
        for name in AGENTS:
            self.lab.fault(name, "agent-wipe")
        rc, out, err, took = self.interrupt_installs("json")
        self.assertEqual(rc, 130, out + err)
        report = json.loads(out)
        self.assertTrue(report["interrupted"])
        self.assertFalse(report["ok"])
        self.assertEqual(host(report, "k3s-server-01")["outcome"], "ready")
        for name in AGENTS:
            agent = host(report, name)
            self.assertEqual(agent["outcome"], "install-started")
            self.assertTrue(agent["changed"])
            self.assertEqual(agent["error"]["kind"], "interrupted")
            self.assertEqual(agent["error"]["fix"], "run k3sjoin again to finish the join")
            installed = self.has_k3s(name)
            self.assertIn("k3s binary installed" if installed else "k3s not installed",
                          agent["detail"])
        self.assert_clean_hosts()


class ServerLostTest(labtest.LabTestCase):
    # Long enough that the server's sshd can be stopped and restarted during the wait.
    ready_delay = 15

    def test_sshd_restart_during_wait(self):
        process = start_k3sjoin(self.lab, ["up", "inventory.json", "--skip-preflight",
                                           "--timeout", "2m", "-o", "json"])
        try:
            def agents_running():
                return all(self.lab.exec(name, "systemctl is-active -q k3s-agent")[0] == 0
                           for name in AGENTS)
            wait_until(self, agents_running, 60, "the agents did not start")
            self.lab.fault("k3s-server-01", "sshd-stop")
            self.lab.fault("k3s-server-01", "ssh-drop-sessions")
            time.sleep(6)
            self.lab.fault("k3s-server-01", "sshd-start")
            out, err = process.communicate(timeout=150)
        finally:
            self.lab.fault("k3s-server-01", "sshd-start")
            if process.poll() is None:
                process.kill()
                process.communicate()
        self.assertEqual(process.returncode, 0, out + err)
        report = json.loads(out)
        for name in AGENTS:
            self.assertEqual(host(report, name)["outcome"], "joined")
        self.assertIn("reconnected", err)


if __name__ == "__main__":
    labtest.main()
