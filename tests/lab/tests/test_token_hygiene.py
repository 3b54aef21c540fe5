#!/usr/bin/python3
"""Token least privilege: k3sjoin joins agents with the server's separate agent token when
one is set, and `up --bootstrap-token-ttl` joins them with a bootstrap token that it deletes
when the run ends. Neither token leaks: not in argv, output, the log or files other than
the ones k3s writes. A joined agent keeps working after its bootstrap token is gone."""

import json
import os
import secrets
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import test_token_leak as leak  # noqa: E402
from labtest import LabTestCase  # noqa: E402

SERVER = "k3s-server-01"
NODE_HOSTS = (SERVER, "agent-01", "agent-02")
ENV_FILE = "/etc/systemd/system/k3s-agent.service.env"
SERVER_ENV_FILE = "/etc/systemd/system/k3s.service.env"
AGENT_TOKEN_FILE = "/var/lib/rancher/k3s/server/agent-token"
# Agents heartbeat every 3 s; a node that stops for this long turns Unknown.
NODE_GRACE_SECONDS = 10


def inventory_for(agent):
    with open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                           "inventory.json"), encoding="utf-8") as source:
        inventory = json.load(source)
    inventory["agents"] = [host for host in inventory["agents"] if host["name"] == agent]
    return inventory


class TokenHygieneTest(LabTestCase):
    ready_delay = 2

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A separate agent token, set as k3s reads it, from the unit's environment file.
        cls.agent_password = secrets.token_hex(16)
        settings = (f"K3S_SIM_READY_DELAY={cls.ready_delay}\n"
                    f"K3S_SIM_NODE_GRACE={NODE_GRACE_SECONDS}\n"
                    f"K3S_AGENT_TOKEN={cls.agent_password}\n")
        rc, _, err = cls.lab.exec(SERVER, f"umask 077; cat > {SERVER_ENV_FILE}", input=settings)
        assert rc == 0, err
        rc, _, err = cls.lab.exec(SERVER, ["systemctl", "restart", "k3s"], timeout=90)
        assert rc == 0, err
        for name, agent in (("agent-token.json", "agent-01"), ("bootstrap.json", "agent-02")):
            with open(os.path.join(cls.lab.operator_home, name), "w", encoding="utf-8") as out:
                json.dump(inventory_for(agent), out)

    def server_file(self, path):
        rc, out, err = self.lab.exec(SERVER, ["cat", path])
        self.assertEqual(rc, 0, err)
        return out.strip()

    def agent_env(self, host):
        rc, out, err = self.lab.exec(host, ["cat", ENV_FILE])
        self.assertEqual(rc, 0, err)
        tokens = [line.split("=", 1)[1] for line in out.splitlines()
                  if line.startswith("K3S_TOKEN=")]
        self.assertEqual(len(tokens), 1, out)
        return tokens[0]

    def node_ready(self, name):
        for node in self.lab.kubectl_nodes_json()["items"]:
            if node["metadata"]["name"] == name:
                return any(c["type"] == "Ready" and c["status"] == "True"
                           for c in node["status"]["conditions"])
        return False

    def bootstrap_tokens(self):
        rc, out, err = self.lab.exec(SERVER, ["k3s", "token", "list"])
        self.assertEqual(rc, 0, err)
        return [line for line in out.splitlines()[1:] if line.strip()]

    def assert_not_in_outputs(self, secret, outputs):
        for name, text in outputs.items():
            self.assertNotIn(secret, text, name)

    def run_up(self, inventory, *extra, log_name):
        log_file = os.path.join(self.lab.operator_home, log_name)
        rc, out, err = self.lab.k3sjoin(["-vv", "--log-file", log_file, "-o", "json", "up",
                                         inventory, *extra])
        with open(log_file, encoding="utf-8") as log:
            log_text = log.read()
        self.assertEqual(os.stat(log_file).st_mode & 0o777, 0o600)
        return rc, out, err, log_text

    def test_1_separate_agent_token_is_used(self):
        server_token = self.server_file("/var/lib/rancher/k3s/server/token")
        server_password = server_token.rsplit(":", 1)[1]
        agent_token = self.server_file(AGENT_TOKEN_FILE)
        self.assertTrue(agent_token.endswith("::node:" + self.agent_password), agent_token)
        sampler = leak.ArgvSampler([server_password, self.agent_password])
        sampler.start()
        try:
            rc, out, err, log_text = self.run_up("agent-token.json", log_name="agent-token.log")
        finally:
            sampler.stop()
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["hosts"][1]["outcome"], "joined", out)
        self.assertIn("the agent token", log_text)
        # The agent got the agent token, which cannot join servers, not the server token.
        self.assertEqual(self.agent_env("agent-01"), agent_token)
        self.assertTrue(self.node_ready("agent-01"))

        self.assertEqual(sampler.leaks, [])
        for secret in (server_password, self.agent_password):
            self.assert_not_in_outputs(secret, {"stdout": out, "stderr": err, "log": log_text})
        self.assertEqual(leak.files_containing(self, "agent-01", server_password), set())
        self.assertEqual(leak.files_containing(self, "agent-01", self.agent_password),
                         {ENV_FILE})
        self.assertEqual(leak.files_containing(self, "agent-02", self.agent_password), set())
        self.assertEqual(leak.files_containing(self, SERVER, self.agent_password),
                         {AGENT_TOKEN_FILE, SERVER_ENV_FILE})

    def test_2_bootstrap_token_joins_and_is_deleted(self):
        self.assertEqual(self.bootstrap_tokens(), [])
        sampler = leak.ArgvSampler([self.agent_password])
        sampler.start()
        try:
            rc, out, err, log_text = self.run_up("bootstrap.json", "--bootstrap-token-ttl", "10m",
                                                 log_name="bootstrap.log")
        finally:
            sampler.stop()
        self.assertEqual(rc, 0, err)
        report = json.loads(out)
        self.assertEqual(report["hosts"][1]["outcome"], "joined", out)
        self.assertEqual(self.bootstrap_tokens(), [], "k3sjoin left its bootstrap token")
        self.assertIn("created bootstrap token", log_text)
        self.assertIn("deleted bootstrap token", log_text)

        token = self.agent_env("agent-02")
        credentials = token.split("::", 1)[1]
        token_id, token_secret = credentials.split(".")
        self.assertEqual((len(token_id), len(token_secret)), (6, 16), token)
        # The long-lived tokens were never read, so they are nowhere on agent-02.
        self.assertEqual(sampler.leaks, [])
        self.assertEqual(leak.files_containing(self, "agent-02", self.agent_password), set())

        self.assertEqual(sampler.argvs_containing(token_secret), [])
        self.assertTrue(any(b"install.sh" in argv for argv in sampler.argvs),
                        "the sampler never saw the installer run")
        self.assert_not_in_outputs(token_secret, {"stdout": out, "stderr": err, "log": log_text})
        self.assertIn(token_id, log_text)  # the id is not secret and names the token
        self.assertEqual(leak.files_containing(self, "agent-02", token_secret), {ENV_FILE})
        for host in (SERVER, "agent-01"):
            self.assertEqual(leak.files_containing(self, host, token_secret), set(), host)

    def test_3_agent_keeps_working_after_token_deletion(self):
        # Heartbeats use the kubelet client certificate, so the node stays Ready past the
        # grace period without a valid token.
        time.sleep(NODE_GRACE_SECONDS + 5)
        self.assertTrue(self.node_ready("agent-02"))
        # A restart authenticates with the same certificate, as k3s allows an agent whose
        # Node object exists.
        rc, _, err = self.lab.exec("agent-02", ["systemctl", "restart", "k3s-agent"], timeout=90)
        self.assertEqual(rc, 0, err)
        rc, journal, _ = self.lab.exec("agent-02", ["journalctl", "-u", "k3s-agent", "-o", "cat"])
        self.assertIn("authenticating with the kubelet client certificate", journal)
        time.sleep(NODE_GRACE_SECONDS + 5)
        self.assertTrue(self.node_ready("agent-02"))

    def test_4_rerun_with_bootstrap_token_changes_nothing(self):
        rc, out, err, _ = self.run_up("bootstrap.json", "--bootstrap-token-ttl", "10m",
                                      log_name="bootstrap-again.log")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)["hosts"][1]["outcome"], "already-joined", out)
        self.assertEqual(self.bootstrap_tokens(), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
