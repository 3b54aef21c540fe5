#!/usr/bin/python3
"""Self-tests of the simulated k3s as the lab runs it: server files, joins, rejections."""

import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from labtest import LabTestCase  # noqa: E402

SERVER = "k3s-server-01"
SERVER_URL = "https://10.246.10.50:6443"
TOKEN_PATH = "/var/lib/rancher/k3s/server/token"
TOKEN_PATTERN = re.compile(r"^K10([0-9a-f]{64})::server:([0-9a-f]{32})\n$")
RELEASE_URL = "https://github.com/k3s-io/k3s/releases/download/v1.31.4%2Bk3s1/k3s"
# Long enough for the agent's first token check and configuration request,
# which k3s makes as soon as it starts.
AGENT_RUN_SECONDS = 5


def node_by_name(nodes, name):
    for node in nodes["items"]:
        if node["metadata"]["name"] == name:
            return node
    return None


def is_ready(node):
    for condition in node["status"]["conditions"]:
        if condition["type"] == "Ready":
            return condition["status"] == "True"
    return False


class SimTestCase(LabTestCase):
    def server_token(self):
        rc, out, err = self.lab.exec(SERVER, ["cat", TOKEN_PATH])
        self.assertEqual(rc, 0, err)
        return out

    def install_binary(self, host):
        """Download the server's k3s release from the mirror into host's /usr/local/bin."""
        rc, _, err = self.lab.exec(host, f"curl -fsS -o /usr/local/bin/k3s '{RELEASE_URL}' "
                                         "&& chmod 755 /usr/local/bin/k3s")
        self.assertEqual(rc, 0, err)

    def run_agent_briefly(self, host, *args):
        """Run `k3s agent` in the foreground for AGENT_RUN_SECONDS; return its log."""
        command = ["timeout", str(AGENT_RUN_SECONDS), "k3s", "agent", "--server", SERVER_URL]
        rc, out, err = self.lab.exec(host, command + list(args), timeout=AGENT_RUN_SECONDS + 30)
        return out + err

    def wait_for_ready(self, name, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            node = node_by_name(self.lab.kubectl_nodes_json(), name)
            if node and is_ready(node):
                return node
            time.sleep(0.5)
        self.fail(f"node {name} not Ready within {timeout} s")


class ServerTest(SimTestCase):
    def test_server_node_ready(self):
        node = node_by_name(self.lab.kubectl_nodes_json(), SERVER)
        self.assertIsNotNone(node)
        self.assertTrue(is_ready(node))

    def test_server_node_roles(self):
        labels = node_by_name(self.lab.kubectl_nodes_json(), SERVER)["metadata"]["labels"]
        self.assertEqual(labels.get("node-role.kubernetes.io/control-plane"), "true")
        self.assertEqual(labels.get("node-role.kubernetes.io/master"), "true")

    def test_server_version(self):
        rc, out, err = self.lab.exec(SERVER, ["k3s", "--version"])
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"^k3s version v1\.31\.4\+k3s1 \([0-9a-f]{8}\)\ngo version go")

    def test_token_format(self):
        self.assertRegex(self.server_token(), TOKEN_PATTERN)

    def test_token_mode(self):
        rc, out, err = self.lab.exec(SERVER, ["stat", "-c", "%a", TOKEN_PATH])
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.strip(), "600")

    def test_token_symlinks(self):
        for name in ("node-token", "agent-token"):
            with self.subTest(name=name):
                rc, out, err = self.lab.exec(
                    SERVER, ["readlink", f"/var/lib/rancher/k3s/server/{name}"])
                self.assertEqual(rc, 0, err)
                self.assertEqual(out.strip(), TOKEN_PATH)

    def test_token_hash_matches_cacerts(self):
        token_hash = TOKEN_PATTERN.match(self.server_token()).group(1)
        rc, out, err = self.lab.exec(
            "agent-01", f"curl -fsSk {SERVER_URL}/cacerts | sha256sum")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.split()[0], token_hash)

    def test_kubeconfig_mode_and_server(self):
        rc, out, err = self.lab.exec(SERVER, "stat -c %a /etc/rancher/k3s/k3s.yaml && "
                                             "grep 'server:' /etc/rancher/k3s/k3s.yaml")
        self.assertEqual(rc, 0, err)
        mode, server_line = out.splitlines()
        self.assertEqual(mode, "600")
        self.assertEqual(server_line.split()[-1], "https://127.0.0.1:6443")

    def test_unit_environment(self):
        rc, out, err = self.lab.exec(SERVER, ["cat", "/etc/systemd/system/k3s.service.env"])
        self.assertEqual(rc, 0, err)
        self.assertIn("K3S_SIM_READY_DELAY=3\n", out)

    def test_unit_active_and_enabled(self):
        for command in ("is-active", "is-enabled"):
            with self.subTest(command=command):
                rc, out, err = self.lab.exec(SERVER, ["systemctl", command, "k3s"])
                self.assertEqual(rc, 0, err)


class AgentTest(SimTestCase):
    """Joins agent-01 once with the install script, as a user would, then checks rejections."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        rc, token, err = cls.lab.exec(SERVER, ["cat", TOKEN_PATH])
        if rc != 0:
            raise AssertionError(f"reading the server token failed: {err}")
        script = ("curl -sfL https://get.k3s.io | "
                  f"K3S_URL={SERVER_URL} K3S_TOKEN={token.strip()} sh -")
        rc, out, err = cls.lab.exec("agent-01", script, timeout=180)
        if rc != 0:
            raise AssertionError(f"install script failed with exit code {rc}: {out}{err}")

    def test_agent_joins_and_turns_ready(self):
        node = self.wait_for_ready("agent-01")
        self.assertEqual(node["status"]["nodeInfo"]["kubeletVersion"], "v1.31.4+k3s1")
        addresses = {entry["type"]: entry["address"] for entry in node["status"]["addresses"]}
        self.assertEqual(addresses.get("InternalIP"), "10.246.10.51")

    def test_agent_unit_active(self):
        rc, out, err = self.lab.exec("agent-01", ["systemctl", "is-active", "k3s-agent"])
        self.assertEqual(rc, 0, out + err)

    def test_agent_node_password_written(self):
        rc, out, err = self.lab.exec("agent-01", ["stat", "-c", "%a", "/etc/rancher/node/password"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.strip(), "600")

    def test_wrong_ca_hash_rejected(self):
        self.install_binary("agent-02")
        secret = TOKEN_PATTERN.match(self.server_token()).group(2)
        wrong_token = f"K10{'0' * 64}::server:{secret}"
        log = self.run_agent_briefly("agent-02", "--token", wrong_token)
        self.assertIn("token CA hash does not match the Cluster CA certificate hash", log)

    def test_node_password_rejected(self):
        self.wait_for_ready("agent-01")
        self.install_binary("agent-02")
        # agent-02 claims node name agent-01 with its own, different node password.
        log = self.run_agent_briefly("agent-02", "--token", self.server_token().strip(),
                                     "--node-name", "agent-01")
        self.assertIn("Node password rejected", log)


if __name__ == "__main__":
    unittest.main(verbosity=2)
