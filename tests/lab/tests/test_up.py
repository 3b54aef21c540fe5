#!/usr/bin/python3
"""Lab tests of `k3sjoin up`: joins, a second run, and hosts that fail alone."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from labtest import LabTestCase  # noqa: E402

SERVER = "k3s-server-01"
AGENTS = ("agent-01", "agent-02")
SERVER_VERSION = "v1.31.4+k3s1"


def hosts_by_name(report):
    return {host["name"]: host for host in report["hosts"]}


def ready_nodes(nodes):
    ready = {}
    for node in nodes["items"]:
        for condition in node["status"]["conditions"]:
            if condition["type"] == "Ready" and condition["status"] == "True":
                ready[node["metadata"]["name"]] = node["status"]["nodeInfo"]["kubeletVersion"]
    return ready


class UpTestCase(LabTestCase):
    ready_delay = 2

    def up_json(self, *extra):
        rc, out, err = self.lab.k3sjoin(["-o", "json", "up", "inventory.json", *extra])
        try:
            report = json.loads(out)
        except json.JSONDecodeError:
            self.fail(f"k3sjoin printed no JSON report (exit {rc}):\n{out}\n{err}")
        return rc, report, err


class JoinTest(UpTestCase):
    def test_1_both_agents_join(self):
        rc, report, err = self.up_json()
        self.assertEqual(rc, 0, err)
        self.assertTrue(report["ok"])
        self.assertEqual(report["serverVersion"], SERVER_VERSION)
        hosts = hosts_by_name(report)
        self.assertEqual(hosts[SERVER]["outcome"], "ready")
        for agent in AGENTS:
            self.assertEqual(hosts[agent]["outcome"], "joined", hosts[agent])
            self.assertEqual(hosts[agent]["nodeVersion"], SERVER_VERSION)
            self.assertTrue(hosts[agent]["changed"])
        ready = ready_nodes(self.lab.kubectl_nodes_json())
        self.assertEqual(ready, {SERVER: SERVER_VERSION, "agent-01": SERVER_VERSION,
                                 "agent-02": SERVER_VERSION})

    def test_2_second_up_changes_nothing(self):
        env_file = "/etc/systemd/system/k3s-agent.service.env"
        before = {agent: self.lab.exec(agent, f"stat -c %Y {env_file}; cat /etc/rancher/node/"
                                              "password | sha256sum")[1] for agent in AGENTS}
        rc, report, err = self.up_json()
        self.assertEqual(rc, 0, err)
        hosts = hosts_by_name(report)
        for agent in AGENTS:
            self.assertEqual(hosts[agent]["outcome"], "already-joined", hosts[agent])
            self.assertFalse(hosts[agent]["changed"])
            after = self.lab.exec(agent, f"stat -c %Y {env_file}; cat /etc/rancher/node/"
                                         "password | sha256sum")[1]
            self.assertEqual(after, before[agent])

    def test_3_text_report_has_line_per_host(self):
        rc, out, err = self.lab.k3sjoin(["up", "inventory.json"])
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        for name in (SERVER, *AGENTS):
            self.assertTrue(any(line.startswith(name) for line in lines), out)
        self.assertIn("3 of 3 hosts ok", out)
        self.assertIn("[ssh] 10.246.10.51:22: ", err)


class SshdStoppedTest(UpTestCase):
    def test_other_agent_joins(self):
        self.lab.fault("agent-02", "sshd-stop")
        rc, report, err = self.up_json()
        self.assertEqual(rc, 1, err)
        self.assertFalse(report["ok"])
        hosts = hosts_by_name(report)
        self.assertEqual(hosts["agent-01"]["outcome"], "joined", hosts["agent-01"])
        failed = hosts["agent-02"]
        self.assertEqual(failed["outcome"], "failed")
        self.assertFalse(failed["changed"])
        self.assertEqual(failed["error"]["kind"], "connect")
        self.assertIn("10.246.10.52:22", failed["error"]["message"])
        self.assertIn("refused", failed["error"]["message"])
        self.assertNotEqual(failed["error"]["fix"], "")

        rc, out, _ = self.lab.k3sjoin(["up", "inventory.json"])
        self.assertEqual(rc, 1)
        line = next(line for line in out.splitlines() if line.startswith("agent-02"))
        self.assertIn("failed", line)
        self.assertIn("10.246.10.52:22", line)


class HostKeyChangedTest(UpTestCase):
    def test_changed_key_fails_alone(self):
        self.lab.fault("agent-01", "hostkey-change")
        rc, report, err = self.up_json()
        self.assertEqual(rc, 1, err)
        hosts = hosts_by_name(report)
        self.assertEqual(hosts["agent-02"]["outcome"], "joined", hosts["agent-02"])
        failed = hosts["agent-01"]
        self.assertEqual(failed["outcome"], "failed")
        self.assertEqual(failed["error"]["kind"], "host_key")
        self.assertIn("SHA256:", failed["error"]["message"])
        self.assertIn("ssh-keygen -R", failed["error"]["fix"])
        rc, _, _ = self.lab.exec("agent-01", "test -e /usr/local/bin/k3s")
        self.assertNotEqual(rc, 0, "agent-01 was changed although its host key did not match")


class BadInventoryTest(UpTestCase):
    def test_invalid_inventory_exits_2(self):
        path = os.path.join(self.lab.operator_home, "bad.json")
        with open(path, "w", encoding="utf-8") as bad:
            bad.write('{"apiVersion": "k3sjoin/v1", "server": {"name": "S", "address": "x"}}')
        rc, out, err = self.lab.k3sjoin(["up", "bad.json"])
        self.assertEqual(rc, 2)
        self.assertIn("/server/name", err)
        self.assertEqual(out, "")


if __name__ == "__main__":
    unittest.main(verbosity=2)
