"""`k3sjoin join`, `status` and `reset` against the lab, in one lab and in order:
status of a partly joined lab, a wiped agent that needs --replace, then reset."""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import labtest  # noqa: E402

NODE_PASSWORD_FIX = "fix: run k3sjoin join inventory.json --node agent-01 --replace"


def host(report, name):
    return next(entry for entry in report["hosts"] if entry["name"] == name)


class JoinStatusResetTest(labtest.LabTestCase):
    ready_delay = 2

    def k3sjoin_json(self, args):
        rc, out, err = self.lab.k3sjoin(args + ["-o", "json"], timeout=120)
        try:
            return rc, json.loads(out), err
        except ValueError:
            self.fail(f"no JSON report (exit {rc}): {out}\n{err}")

    def test_1_status_of_partly_joined_lab(self):
        rc, out, err = self.lab.k3sjoin(["join", "inventory.json", "--node", "agent-01"])
        self.assertEqual(rc, 0, out + err)
        self.assertRegex(out, r"agent-01\s+agent\s+joined")

        rc, out, err = self.lab.k3sjoin(["status", "inventory.json"])
        self.assertEqual(rc, 1, out + err)
        self.assertRegex(out, r"k3s-server-01\s+server\s+yes\s+v1\.31\.4\+k3s1\s+active\s+Ready\s+yes")
        self.assertRegex(out, r"agent-01\s+agent\s+yes\s+v1\.31\.4\+k3s1\s+active\s+Ready\s+yes")
        self.assertRegex(out, r"agent-02\s+agent\s+yes\s+-\s+inactive\s+absent\s+no\s+k3s not installed")

        rc, report, err = self.k3sjoin_json(["status", "inventory.json"])
        self.assertEqual(rc, 1, err)
        self.assertEqual(report["kind"], "StatusReport")
        self.assertFalse(report["ok"])
        self.assertTrue(host(report, "agent-01")["matches"])
        self.assertEqual(host(report, "agent-01")["nodeStatus"], "Ready")
        self.assertFalse(host(report, "agent-02")["matches"])
        self.assertEqual(host(report, "agent-02")["detail"], "k3s not installed")

    def test_2_rejoin_changes_nothing(self):
        rc, report, err = self.k3sjoin_json(["join", "inventory.json", "--node", "agent-01"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(host(report, "agent-01")["outcome"], "already-joined")
        self.assertFalse(host(report, "agent-01")["changed"])

    def test_3_wiped_agent_needs_replace(self):
        self.lab.fault("agent-01", "agent-wipe")

        rc, out, err = self.lab.k3sjoin(["join", "inventory.json", "--node", "agent-01"])
        self.assertEqual(rc, 1, out + err)
        self.assertRegex(out, r"agent-01\s+agent\s+failed")
        cause_lines = [line for line in out.splitlines() if "cause:" in line]
        self.assertEqual(len(cause_lines), 1, out)
        self.assertIn("cause: node agent-01 already exists in the cluster for another node "
                      "password", cause_lines[0])
        self.assertIn("; " + NODE_PASSWORD_FIX, cause_lines[0])

        rc, report, err = self.k3sjoin_json(["join", "inventory.json", "--node", "agent-01"])
        self.assertEqual(rc, 1, err)
        diagnosis = host(report, "agent-01")["diagnosis"]
        self.assertEqual(diagnosis["code"], "node-name-taken")
        self.assertIn("another node password", diagnosis["cause"])
        self.assertIn("/etc/rancher/node/password", diagnosis["cause"])
        self.assertTrue(diagnosis["fix"].startswith(NODE_PASSWORD_FIX[len("fix: "):]))
        rc, out, err = self.lab.exec("agent-01", "test -e /usr/local/bin/k3s")
        self.assertNotEqual(rc, 0, "plain join must not install on the wiped host")

        # Without a terminal, --replace needs --yes.
        rc, out, err = self.lab.k3sjoin(["join", "inventory.json", "--node", "agent-01",
                                         "--replace"])
        self.assertEqual(rc, 2, out + err)
        self.assertIn("--yes", err)

        rc, report, err = self.k3sjoin_json(["join", "inventory.json", "--node", "agent-01",
                                             "--replace", "--yes"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(host(report, "agent-01")["outcome"], "joined")
        self.assertIsNone(host(report, "agent-01")["diagnosis"])
        rc, out, err = self.lab.exec("k3s-server-01", [
            "k3s", "kubectl", "get", "secret", "-n", "kube-system",
            "agent-01.node-password.k3s"])
        self.assertEqual(rc, 0, "the new node password secret exists: " + err)

    def test_4_reset_then_status(self):
        rc, out, err = self.lab.k3sjoin(["reset", "inventory.json", "--node", "agent-01"])
        self.assertEqual(rc, 2, "reset without a terminal needs --yes: " + out + err)

        rc, out, err = self.lab.k3sjoin(["reset", "inventory.json", "--node", "agent-01",
                                         "--yes"])
        self.assertEqual(rc, 0, out + err)
        self.assertRegex(out, r"agent-01\s+uninstall the k3s agent\s+done")
        self.assertRegex(out, r"k3s-server-01\s+delete node agent-01\s+done")
        names = [item["metadata"]["name"] for item in self.lab.kubectl_nodes_json()["items"]]
        self.assertNotIn("agent-01", names)
        rc, out, err = self.lab.exec("agent-01", "test -e /usr/local/bin/k3s")
        self.assertNotEqual(rc, 0, "k3s is uninstalled")

        rc, report, err = self.k3sjoin_json(["status", "inventory.json"])
        self.assertEqual(rc, 1, err)
        self.assertEqual(host(report, "agent-01")["detail"], "k3s not installed")
        self.assertEqual(host(report, "agent-01")["nodeStatus"], "absent")

        rc, report, err = self.k3sjoin_json(["reset", "inventory.json", "--node", "agent-01",
                                             "--yes"])
        self.assertEqual(rc, 0, err)
        self.assertEqual([step["result"] for step in report["steps"]], ["skipped", "skipped"])

        rc, out, err = self.lab.k3sjoin(["reset", "--help"])
        self.assertIn("does not drain", out)


if __name__ == "__main__":
    labtest.main()
