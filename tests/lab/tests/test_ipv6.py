#!/usr/bin/python3
"""Lab test of `k3sjoin up` over IPv6: SSH, K3S_URL and node IPs by IPv6 address, in a lab
whose hosts also have IPv6 addresses (`lab up --ipv6`)."""

import json
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from labtest import LabTestCase  # noqa: E402

SERVER_URL = "https://[fd00:246:10::50]:6443"
AGENT_ADDRESSES = {"agent-01": "fd00:246:10::51", "agent-02": "fd00:246:10::52"}


class Ipv6JoinTest(LabTestCase):
    ready_delay = 2
    ipv6 = True

    def test_join_over_ipv6(self):
        rc, out, err = self.lab.k3sjoin(["-o", "json", "up", "inventory-ipv6.json"])
        self.assertEqual(rc, 0, err)
        report = json.loads(out)
        hosts = {host["name"]: host for host in report["hosts"]}
        self.assertEqual(hosts["k3s-server-01"]["detail"],
                         f"k3s v1.31.4+k3s1 serving at {SERVER_URL}")
        for agent, address in AGENT_ADDRESSES.items():
            self.assertEqual(hosts[agent]["outcome"], "joined", hosts[agent])
            self.assertEqual(hosts[agent]["address"], address)
            self.assertIn(f"[ssh] [{address}]:22: ", err)
            rc, env_file, error = self.lab.exec(
                agent, ["sed", "-n", "s/^K3S_URL=//p", "/etc/systemd/system/k3s-agent.service.env"])
            self.assertEqual(rc, 0, error)
            self.assertEqual(env_file.strip().strip("'\""), SERVER_URL)

        nodes = self.lab.kubectl_nodes_json()["items"]
        internal = {node["metadata"]["name"]: [a["address"] for a in node["status"]["addresses"]
                                               if a["type"] == "InternalIP"]
                    for node in nodes}
        for agent, address in AGENT_ADDRESSES.items():
            self.assertEqual(internal[agent], [address])

        # A second run finds both agents joined over IPv6 and changes nothing.
        rc, out, err = self.lab.k3sjoin(["-o", "json", "up", "inventory-ipv6.json"])
        self.assertEqual(rc, 0, err)
        for host in json.loads(out)["hosts"][1:]:
            self.assertEqual(host["outcome"], "already-joined", host)


if __name__ == "__main__":
    unittest.main(verbosity=2)
