#!/usr/bin/python3
"""Lab tests of how k3sjoin reaches hosts: ProxyJump from ~/.ssh/config, ssh-agent keys,
host key policies and pins, and sudo with a password (see docs/ssh.md)."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from labtest import LabTestCase  # noqa: E402
from ssh_access_helpers import (ArgvSampler, files_containing,  # noqa: E402
                                operator_files_containing, run_with_terminal)

SERVER = "k3s-server-01"
AGENTS = ("agent-01", "agent-02")
NODE_HOSTS = (SERVER,) + AGENTS
SERVER_VERSION = "v1.31.4+k3s1"
# Files k3s itself writes with the token in them.
K3S_TOKEN_FILES = {
    SERVER: {"/var/lib/rancher/k3s/server/token"},
    "agent-01": {"/etc/systemd/system/k3s-agent.service.env"},
    "agent-02": {"/etc/systemd/system/k3s-agent.service.env"},
}


def hosts_by_name(report):
    return {host["name"]: host for host in report["hosts"]}


def fingerprint(public_key_line):
    """Return the SHA256 fingerprint ssh-keygen prints for a public key line."""
    with tempfile.NamedTemporaryFile("w", suffix=".pub") as key:
        key.write(public_key_line + "\n")
        key.flush()
        output = subprocess.run(["ssh-keygen", "-lf", key.name], capture_output=True,
                                text=True, check=True, timeout=30).stdout
    return output.split()[1]


class AccessTestCase(LabTestCase):
    ready_delay = 2

    def write_home_file(self, name, text):
        path = os.path.join(self.lab.operator_home, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def write_inventory(self, name, document):
        return self.write_home_file(name, json.dumps(document, indent=2))

    def up_json(self, *args, env=None):
        rc, out, err = self.lab.k3sjoin(["-o", "json", *args], env=env)
        try:
            return rc, json.loads(out), err
        except json.JSONDecodeError:
            self.fail(f"k3sjoin printed no JSON report (exit {rc}):\n{out}\n{err}")

    def lab_inventory(self, **defaults):
        with open(os.path.join(self.lab.operator_home, "inventory.json"), encoding="utf-8") as f:
            document = json.load(f)
        document["defaults"] = dict(defaults, user="ops")
        return document


class JumpHostTest(AccessTestCase):
    """Agents that accept SSH only from bastion-2, which accepts it only from bastion."""

    bastion = True

    def test_two_hop_proxy_jump_from_ssh_config(self):
        self.lab.fault("bastion-2", "ssh-only-from", "bastion")
        for agent in AGENTS:
            self.lab.fault(agent, "ssh-only-from", "bastion-2")
        rc, _, _ = self.lab.ssh("10.246.10.51", "true", user="ops", timeout=30)
        self.assertNotEqual(rc, 0, "agent-01 still accepts SSH from the operator directly")

        # The default ~/.ssh/config, so the operator's own file is what k3sjoin reads.
        self.write_home_file(".ssh/config", (
            "Host bastion\n    HostName 10.246.10.30\n    User ops\n"
            "Host bastion-2\n    HostName 10.246.10.31\n    User ops\n"
            "Host agent-*\n    ProxyJump bastion,bastion-2\n"
            "Host *\n    IdentityFile ~/.ssh/id_ed25519\n"))
        document = self.lab_inventory()
        for agent in document["agents"]:
            agent["address"] = agent["name"]  # resolved on bastion-2 through /etc/hosts
        self.write_inventory("jump.json", document)
        log = os.path.join(self.lab.operator_home, "jump.log")
        rc, report, err = self.up_json("-v", "--log-file", log, "up", "jump.json")
        self.assertEqual(rc, 0, err)
        hosts = hosts_by_name(report)
        for agent in AGENTS:
            self.assertEqual(hosts[agent]["outcome"], "joined", hosts[agent])
        with open(log, encoding="utf-8") as f:
            log_text = f.read()
        self.assertIn("agent-01: SSH route ops@10.246.10.30:22 -> ops@10.246.10.31:22 -> "
                      "ops@agent-01:22", log_text)
        self.assertIn("[ssh] 10.246.10.31:22: forwarding to agent-01:22", log_text)


class AgentKeyTest(AccessTestCase):
    """A key that exists only in ssh-agent, with the operator's key files moved away."""

    def setUp(self):
        super().setUp()
        self.agent_pid = None
        self.ssh_dir = os.path.join(self.lab.operator_home, ".ssh")
        self.addCleanup(self.restore_key_files)
        for name in ("id_ed25519", "id_ed25519.pub"):
            os.rename(os.path.join(self.ssh_dir, name), os.path.join(self.ssh_dir, name + ".off"))

    def restore_key_files(self):
        if self.agent_pid:
            try:
                os.kill(self.agent_pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for name in ("id_ed25519", "id_ed25519.pub"):
            hidden = os.path.join(self.ssh_dir, name + ".off")
            if os.path.exists(hidden):
                os.rename(hidden, os.path.join(self.ssh_dir, name))

    def start_agent_with_new_key(self):
        key_dir = os.path.join(self.lab.state, "agent-key")
        os.makedirs(key_dir, mode=0o700)
        key = os.path.join(key_dir, "only-in-agent")
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "agent-only",
                        "-f", key], check=True, timeout=30)
        with open(key + ".pub", encoding="ascii") as f:
            public_key = f.read()
        for host in NODE_HOSTS:
            for home in ("/root", "/home/ops"):
                rc, _, err = self.lab.exec(host, f"cat >> {home}/.ssh/authorized_keys",
                                           input=public_key)
                self.assertEqual(rc, 0, err)
        socket_path = os.path.join(self.lab.state, "agent.sock")
        rc, out, err = self.lab.exec("operator", ["ssh-agent", "-s", "-a", socket_path])
        self.assertEqual(rc, 0, err)
        self.agent_pid = int(re.search(r"SSH_AGENT_PID=(\d+)", out).group(1))
        env = {"SSH_AUTH_SOCK": socket_path}
        rc, _, err = self.lab.exec("operator", ["ssh-add", key], env=env)
        self.assertEqual(rc, 0, err)
        # From now on the key exists only in the agent.
        shutil.rmtree(key_dir)
        return env

    def test_key_only_in_agent(self):
        env = self.start_agent_with_new_key()
        self.write_inventory("agent.json", self.lab_inventory())
        log = os.path.join(self.lab.operator_home, "agent.log")
        rc, report, err = self.up_json("-v", "--log-file", log, "--ssh-config", "none", "up",
                                       "agent.json", env=env)
        self.assertEqual(rc, 0, err)
        for agent in AGENTS:
            self.assertEqual(hosts_by_name(report)[agent]["outcome"], "joined")
        with open(log, encoding="utf-8") as f:
            self.assertIn("[ssh] 10.246.10.51:22: authenticated with a key from ssh-agent",
                          f.read())

        # Without the agent no key is left, and the error lists what was tried.
        rc, report, err = self.up_json("--ssh-config", "none", "up", "agent.json")
        self.assertEqual(rc, 1)
        error = hosts_by_name(report)["agent-01"]["error"]
        self.assertEqual(error["kind"], "auth")
        self.assertIn("SSH_AUTH_SOCK is unset", error["message"])


class HostKeyPolicyTest(AccessTestCase):
    def known_hosts_path(self):
        return os.path.join(self.lab.operator_home, ".ssh", "known_hosts")

    def test_accept_new_records_then_rejects_changed(self):
        path = self.known_hosts_path()
        with open(path, encoding="ascii") as f:
            lines = f.readlines()
        with open(path, "w", encoding="ascii") as f:
            f.writelines(line for line in lines if not line.startswith("10.246.10.51,"))
        old_key = self.lab.env()["hosts"]["agent-01"]["host_key"]

        rc, report, err = self.up_json("--host-key-policy", "accept-new", "up", "inventory.json")
        self.assertEqual(rc, 0, err)
        self.assertEqual(hosts_by_name(report)["agent-01"]["outcome"], "joined")
        with open(path, encoding="ascii") as f:
            recorded = f.readlines()
        line_number = next(number for number, line in enumerate(recorded, 1)
                           if line.startswith("10.246.10.51 "))
        self.assertIn(old_key.split()[1], recorded[line_number - 1])
        self.assertIn("recorded new host key", err)

        new_key = self.lab.fault("agent-01", "hostkey-change").split(": ", 1)[1].strip()
        rc, report, err = self.up_json("--host-key-policy", "accept-new", "up", "inventory.json")
        self.assertEqual(rc, 1, err)
        hosts = hosts_by_name(report)
        self.assertEqual(hosts["agent-02"]["outcome"], "already-joined", hosts["agent-02"])
        error = hosts["agent-01"]["error"]
        self.assertEqual(error["kind"], "host_key")
        self.assertEqual(
            error["message"],
            f"host key for 10.246.10.51:22 has changed: the server offered "
            f"{fingerprint(new_key)} (ssh-ed25519), but known_hosts lists a different key: "
            f"{fingerprint(old_key)} (ssh-ed25519) at {path}:{line_number}")
        self.assertIn(f"ssh-keygen -R 10.246.10.51 -f {path}", error["fix"])



class PinnedFingerprintTest(AccessTestCase):
    def test_pin_mismatch_fails_that_host_alone(self):
        env = self.lab.env()["hosts"]
        document = self.lab_inventory()
        document["agents"][0]["hostKey"] = fingerprint(env["agent-01"]["host_key"])
        wrong = fingerprint(env["agent-01"]["host_key"])  # agent-01's key pinned on agent-02
        document["agents"][1]["hostKey"] = wrong
        self.write_inventory("pinned.json", document)
        rc, report, err = self.up_json("up", "pinned.json")
        self.assertEqual(rc, 1, err)
        hosts = hosts_by_name(report)
        self.assertIn(hosts["agent-01"]["outcome"], ("joined", "already-joined"), hosts)
        self.assertEqual(hosts[SERVER]["outcome"], "ready")
        error = hosts["agent-02"]["error"]
        self.assertEqual(error["kind"], "host_key")
        self.assertIn("does not match the pinned fingerprint", error["message"])
        self.assertIn(fingerprint(env["agent-02"]["host_key"]), error["message"])
        self.assertIn(wrong, error["message"])
        rc, _, _ = self.lab.exec("agent-02", "test -e /usr/local/bin/k3s")
        self.assertNotEqual(rc, 0, "agent-02 was changed although its pin did not match")


class BecomePasswordTest(AccessTestCase):
    """agent-01's sudo requires the password of ops; the server and agent-02 keep NOPASSWD."""

    PASSWORD = "k3sjoin lab 'sudo' pw"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lab.fault("agent-01", "sudo-password")
        cls.lab.fault("agent-01", "ops-password", input=cls.PASSWORD + "\n")

    def test_1_wrong_password_fails_that_host(self):
        document = self.lab_inventory(become={"passwordEnv": "LAB_BECOME_PASSWORD"})
        self.write_inventory("become.json", document)
        rc, report, err = self.up_json("up", "become.json",
                                       env={"LAB_BECOME_PASSWORD": "not the password"})
        self.assertEqual(rc, 1, err)
        hosts = hosts_by_name(report)
        self.assertEqual(hosts["agent-02"]["outcome"], "joined", hosts["agent-02"])
        error = hosts["agent-01"]["error"]
        self.assertEqual(error["kind"], "auth")
        self.assertEqual(error["message"], "sudo rejected the become password for ops")
        self.assertIn("the environment variable LAB_BECOME_PASSWORD", error["fix"])
        self.assertFalse(hosts["agent-01"]["changed"])

    def test_2_ask_become_pass_joins_without_leaks(self):
        rc, out, err = self.lab.exec(SERVER, ["cat", "/var/lib/rancher/k3s/server/token"])
        self.assertEqual(rc, 0, err)
        token = out.strip()
        token_password = token.rsplit(":", 1)[1]
        home = self.lab.operator_home
        binary = os.path.abspath(os.environ["K3SJOIN_BIN"])
        command = (f"exec {binary} -vv --log-file become.log -o json up inventory.json "
                   "--ask-become-pass >become.json 2>become.err")
        with ArgvSampler([self.PASSWORD, token, token_password]) as sampler:
            rc, terminal = run_with_terminal(self.lab, command, self.PASSWORD,
                                             "BECOME password (sudo): ")
        with open(os.path.join(home, "become.err"), encoding="utf-8") as f:
            err = f.read()
        self.assertEqual(rc, 0, terminal + err)
        with open(os.path.join(home, "become.json"), encoding="utf-8") as f:
            report_text = f.read()
        hosts = hosts_by_name(json.loads(report_text))
        self.assertEqual(hosts["agent-01"]["outcome"], "joined", hosts["agent-01"])
        self.assertGreater(sampler.samples, 50)
        self.assertTrue(sampler.saw_sudo, "the sampler never saw sudo -S run")
        self.assertEqual(sampler.leaks, [])

        with open(os.path.join(home, "become.log"), encoding="utf-8") as f:
            log_text = f.read()
        self.assertIn("sudo accepts the become password for ops", log_text)
        for name, text in (("terminal", terminal), ("stderr", err), ("report", report_text),
                           ("log file", log_text)):
            for secret in (self.PASSWORD, token, token_password):
                self.assertNotIn(secret, text, name)
        self.assertEqual(operator_files_containing(self.lab, self.PASSWORD), set())
        for host in NODE_HOSTS:
            self.assertEqual(files_containing(self.lab, host, self.PASSWORD), set(), host)
            found = files_containing(self.lab, host, token_password)
            self.assertEqual(found - K3S_TOKEN_FILES[host], set(), f"token in files on {host}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
