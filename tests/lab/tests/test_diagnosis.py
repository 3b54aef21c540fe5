"""Failed joins end with their cause and fix: a token whose CA hash is not the server's,
and an install that hangs."""

import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import labtest  # noqa: E402


def host(report, name):
    return next(entry for entry in report["hosts"] if entry["name"] == name)


def cause_line(test, out, name):
    """Return the one cause-and-fix line under host `name` in a text report."""
    lines = out.splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith(name + " "))
    test.assertLess(index + 1, len(lines), out)
    line = lines[index + 1]
    test.assertIn("cause: ", line, out)
    test.assertIn("; fix: ", line, out)
    return line


class DiagnosisTest(labtest.LabTestCase):
    """The runs skip preflight, whose net.ca-hash check would stop the wrong token before
    the install; these tests are about failures after the install has started."""

    ready_delay = 2

    def no_temporary_files(self, name):
        rc, out, err = self.lab.exec(name, "ls -d /tmp/k3sjoin-* 2>/dev/null || true")
        self.assertEqual(out.strip(), "", f"temporary files left on {name}")

    def test_1_token_ca_hash_mismatch(self):
        self.lab.fault("k3s-server-01", "token-wrong-hash")
        self.addCleanup(self.lab.fault, "agent-02", "agent-wipe")
        self.addCleanup(self.lab.fault, "k3s-server-01", "token-restore")

        started = time.monotonic()
        rc, out, err = self.lab.k3sjoin(["join", "inventory.json", "--node", "agent-02",
                                         "--skip-preflight", "--timeout", "90s"], timeout=150)
        took = time.monotonic() - started
        self.assertEqual(rc, 1, out + err)
        self.assertLess(took, 60, "the cause must come before the deadline: " + out)
        self.assertRegex(out, r"agent-02\s+agent\s+failed")
        line = cause_line(self, out, "agent-02")
        self.assertIn("the join token's CA hash does not match the server's CA certificate", line)
        self.assertIn("/var/lib/rancher/k3s/server/token", line)
        self.assertNotIn("deadline", line)

        rc, out, err = self.lab.k3sjoin(["join", "inventory.json", "--node", "agent-02",
                                         "--skip-preflight", "--timeout", "90s", "-o", "json"], timeout=150)
        self.assertEqual(rc, 1, err)
        report = json.loads(out)
        agent = host(report, "agent-02")
        self.assertEqual(agent["outcome"], "failed")
        self.assertEqual(agent["error"]["kind"], "not_ready")
        diagnosis = agent["diagnosis"]
        self.assertEqual(diagnosis["code"], "token-ca-hash-mismatch")
        self.assertIn("does not match the server's CA certificate", diagnosis["cause"])
        self.assertIn("sha256sum", diagnosis["fix"])
        self.assertTrue(diagnosis["lines"])
        self.assertTrue(all("token CA hash does not match" in line for line in diagnosis["lines"]))
        self.assertNotIn("::server:", out, "no token in the report")
        self.no_temporary_files("agent-02")

    def test_2_install_hang(self):
        self.lab.fault("agent-01", "install-hang")
        self.addCleanup(self.lab.fault, "agent-01", "install-normal")
        args = ["up", "inventory.json", "--skip-preflight", "--install-timeout", "15s",
                "--timeout", "90s"]

        started = time.monotonic()
        rc, out, err = self.lab.k3sjoin(args, timeout=150)
        self.assertLess(time.monotonic() - started, 60, out)
        self.assertEqual(rc, 1, out + err)
        self.assertRegex(out, r"agent-01\s+agent\s+failed")
        self.assertRegex(out, r"agent-02\s+agent\s+joined")
        line = cause_line(self, out, "agent-01")
        self.assertIn("timed out after 15s while downloading the installer", line)
        self.assertIn("--install-timeout", line)

        rc, out, err = self.lab.k3sjoin(args + ["-o", "json"], timeout=150)
        self.assertEqual(rc, 1, err)
        report = json.loads(out)
        self.assertEqual(host(report, "agent-02")["outcome"], "already-joined")
        agent = host(report, "agent-01")
        self.assertEqual(agent["outcome"], "failed")
        self.assertEqual(agent["error"]["kind"], "timeout")
        self.assertEqual(agent["diagnosis"]["code"], "install-timeout")
        self.assertIn("while downloading the installer", agent["diagnosis"]["cause"])
        self.assertIn("get.k3s.io", agent["diagnosis"]["fix"])
        self.no_temporary_files("agent-01")


if __name__ == "__main__":
    labtest.main()
