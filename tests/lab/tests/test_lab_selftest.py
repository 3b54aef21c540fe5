#!/usr/bin/python3
"""Self-tests of the lab controller: isolation, hosts, logins, mirror, faults, teardown."""

import ipaddress
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from labtest import LAB_PROGRAM, Lab, LabTestCase  # noqa: E402

SUBNET = ipaddress.ip_network("10.246.10.0/24")
NODES = {"k3s-server-01": "10.246.10.50", "agent-01": "10.246.10.51", "agent-02": "10.246.10.52"}
ALL_HOSTS = dict(NODES, operator="10.246.10.10", mirror="10.246.10.20")
LAB_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIM_DIR = os.environ.get("K3SJOIN_LAB_SIM") or os.path.join(LAB_DIR, "sim")


def root_interfaces():
    output = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True,
                            check=True).stdout
    return {line.split(":")[1].strip().split("@")[0] for line in output.splitlines()}


def processes_in_net_namespaces(inodes):
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            inode = os.stat(f"/proc/{entry}/ns/net").st_ino
        except OSError:
            continue
        if inode in inodes:
            found.append(int(entry))
    return found


class IsolationTest(LabTestCase):
    def test_root_namespace_has_no_lab_address(self):
        output = subprocess.run(["ip", "-4", "-o", "addr", "show"], capture_output=True,
                                text=True, check=True).stdout
        for line in output.splitlines():
            address = ipaddress.ip_interface(line.split()[3])
            self.assertNotIn(address.ip, SUBNET, line)

    def test_root_namespace_has_no_lab_route(self):
        output = subprocess.run(["ip", "-4", "route", "show", "table", "all"],
                                capture_output=True, text=True, check=True).stdout
        self.assertNotIn("10.246.10.", output)

    def test_root_namespace_has_no_lab_interface(self):
        names = root_interfaces()
        for name in ("br0", "v10", "v20", "v50", "v51", "v52"):
            self.assertNotIn(name, names)

    def test_root_route_to_server_avoids_lab(self):
        # Only the route lookup runs here: a connection attempt would leave
        # the machine through its default route.
        result = subprocess.run(["ip", "-4", "route", "get", "10.246.10.50"],
                                capture_output=True, text=True)
        lab_ports = {"br0", "v10", "v20", "v50", "v51", "v52"}
        for word in result.stdout.split():
            self.assertNotIn(word, lab_ports, result.stdout)

    def test_lab_host_cannot_reach_root_namespace_network(self):
        rc, out, err = self.lab.exec("agent-01", ["ip", "-4", "route", "show"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.strip().splitlines(),
                         ["10.246.10.0/24 dev eth0 proto kernel scope link src 10.246.10.51"])

    def test_node_etc_is_private(self):
        rc, _, err = self.lab.exec("agent-01", "echo probe > /etc/lab-probe")
        self.assertEqual(rc, 0, err)
        self.assertFalse(os.path.exists("/etc/lab-probe"))
        upper = os.path.join(self.lab.state, "hosts", "agent-01", "upper", "etc", "lab-probe")
        with open(upper, encoding="utf-8") as f:
            self.assertEqual(f.read(), "probe\n")
        rc, _, _ = self.lab.exec("agent-02", ["test", "-e", "/etc/lab-probe"])
        self.assertEqual(rc, 1)

    def test_node_resolves_mirrored_names(self):
        rc, out, err = self.lab.exec("agent-02", ["getent", "hosts", "get.k3s.io"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.split()[0], "10.246.10.20")

    def test_node_has_empty_resolv_conf(self):
        rc, out, err = self.lab.exec("agent-02", ["cat", "/etc/resolv.conf"])
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, "")


class HostsTest(LabTestCase):
    def test_hostnames(self):
        for host in ALL_HOSTS:
            with self.subTest(host=host):
                rc, out, err = self.lab.exec(host, ["hostname"])
                self.assertEqual(rc, 0, err)
                self.assertEqual(out.strip(), host)

    def test_addresses(self):
        for host, address in ALL_HOSTS.items():
            with self.subTest(host=host):
                rc, out, err = self.lab.exec(host, ["ip", "-4", "-o", "addr", "show", "eth0"])
                self.assertEqual(rc, 0, err)
                self.assertIn(f"{address}/24", out)

    def test_ssh_as_root_by_address(self):
        for host, address in NODES.items():
            with self.subTest(host=host):
                rc, out, err = self.lab.ssh(address, "hostname")
                self.assertEqual(rc, 0, err)
                self.assertEqual(out.strip(), host)

    def test_ssh_as_ops_by_hostname(self):
        for host in NODES:
            with self.subTest(host=host):
                rc, out, err = self.lab.ssh(host, "id -un", user="ops")
                self.assertEqual(rc, 0, err)
                self.assertEqual(out.strip(), "ops")

    def test_ops_passwordless_sudo(self):
        for host in NODES:
            with self.subTest(host=host):
                rc, out, err = self.lab.ssh(host, "sudo -n id -u", user="ops")
                self.assertEqual(rc, 0, err)
                self.assertEqual(out.strip(), "0")

    def test_ssh_password_login_rejected(self):
        rc, _, err = self.lab.exec("operator", [
            "ssh", "-o", "BatchMode=yes", "-o", "PubkeyAuthentication=no",
            "-o", "PreferredAuthentications=password", "ops@agent-01", "true"])
        self.assertEqual(rc, 255)
        self.assertIn("Permission denied", err)

    def test_exec_passes_stdin_and_exit_code(self):
        rc, out, _ = self.lab.exec("agent-01", "cat; exit 7", input="payload")
        self.assertEqual(rc, 7)
        self.assertEqual(out, "payload")

    def test_exec_as_ops(self):
        rc, out, err = self.lab.exec("agent-02", "id -un; pwd", user="ops")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.split(), ["ops", "/home/ops"])

    def test_operator_home(self):
        rc, out, err = self.lab.exec("operator", 'echo "$HOME"; ls -a "$HOME" "$HOME/.ssh"')
        self.assertEqual(rc, 0, err)
        lines = out.split()
        self.assertEqual(lines[0], self.lab.operator_home)
        for name in ("inventory.json", "id_ed25519", "id_ed25519.pub", "known_hosts", "config"):
            self.assertIn(name, lines)

    def test_known_hosts_lists_every_node(self):
        path = os.path.join(self.lab.operator_home, ".ssh", "known_hosts")
        with open(path, encoding="ascii") as f:
            names = [line.split()[0] for line in f]
        self.assertEqual(sorted(names),
                         sorted(f"{address},{host}" for host, address in NODES.items()))

    def test_stand_ins_installed(self):
        for host in NODES:
            for name in ("systemctl", "journalctl"):
                with self.subTest(host=host, name=name):
                    rc, out, _ = self.lab.exec(host, ["sh", "-c", f"command -v {name}"])
                    self.assertEqual(rc, 0)
                    self.assertEqual(out.strip(), f"/usr/local/bin/{name}")


class MirrorTest(LabTestCase):
    def curl(self, url, *options):
        return self.lab.exec("agent-01", ["curl", "-sS", "--max-time", "20"] + list(options)
                             + [url])

    def test_install_script(self):
        rc, out, err = self.curl("https://get.k3s.io/", "-f")
        self.assertEqual(rc, 0, err)
        with open(os.path.join(SIM_DIR, "install.sh"), encoding="utf-8") as f:
            self.assertEqual(out, f.read())

    def test_stable_channel_redirect(self):
        rc, out, err = self.curl("https://update.k3s.io/v1-release/channels/stable", "-fL",
                                 "-o", "/dev/null", "-w", "%{url_effective}")
        self.assertEqual(rc, 0, err)
        self.assertTrue(out.endswith("/releases/tag/v1.31.4+k3s1"), out)

    def test_release_checksums(self):
        for version in ("v1.31.4+k3s1", "v1.30.8+k3s1", "v1.32.1+k3s1"):
            encoded = version.replace("+", "%2B")
            base = f"https://github.com/k3s-io/k3s/releases/download/{encoded}"
            with self.subTest(version=version):
                rc, sums, err = self.curl(base + "/sha256sum-amd64.txt", "-f")
                self.assertEqual(rc, 0, err)
                rc, digest, err = self.lab.exec(
                    "agent-01", f"curl -fsS '{base}/k3s' | sha256sum")
                self.assertEqual(rc, 0, err)
                self.assertEqual(sums.split()[0], digest.split()[0])
                self.assertEqual(sums.split()[1], "k3s")

    def test_unknown_path_is_404(self):
        rc, out, err = self.curl("https://github.com/k3s-io/k3s/releases/download/v0.0.0/k3s",
                                 "-o", "/dev/null", "-w", "%{http_code}")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, "404")

    def test_certificate_needs_lab_ca(self):
        rc, _, err = self.curl("https://get.k3s.io/", "--cacert", "/usr/share/ca-certificates/"
                               "mozilla/ISRG_Root_X1.crt")
        self.assertEqual(rc, 60, err)


class FaultTest(LabTestCase):
    def ssh_hostname(self, host):
        return self.lab.exec("operator", ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=2",
                                          host, "hostname"], timeout=30)

    def test_drop_and_undrop_tcp(self):
        self.lab.fault("agent-01", "drop-tcp", 22)
        rc, _, err = self.ssh_hostname("agent-01")
        self.assertEqual(rc, 255)
        self.assertIn("timed out", err)
        self.lab.fault("agent-01", "undrop")
        rc, out, err = self.ssh_hostname("agent-01")
        self.assertEqual(rc, 0, err)

    def test_sshd_stop_and_start(self):
        self.lab.fault("agent-02", "sshd-stop")
        rc, _, err = self.ssh_hostname("agent-02")
        self.assertEqual(rc, 255)
        self.assertIn("Connection refused", err)
        self.lab.fault("agent-02", "sshd-start")
        rc, _, err = self.ssh_hostname("agent-02")
        self.assertEqual(rc, 0, err)

    def test_hostkey_change(self):
        self.lab.fault("agent-01", "hostkey-change")
        rc, _, err = self.ssh_hostname("agent-01")
        self.assertEqual(rc, 255)
        self.assertIn("REMOTE HOST IDENTIFICATION HAS CHANGED", err)

    def test_install_slow(self):
        self.lab.fault("agent-02", "install-slow", 2)
        try:
            rc, out, err = self.lab.exec(
                "agent-02", ["curl", "-fsS", "-o", "/dev/null", "-w", "%{time_total}",
                             "https://get.k3s.io/"])
        finally:
            self.lab.fault("agent-02", "install-normal")
        self.assertEqual(rc, 0, err)
        self.assertGreaterEqual(float(out), 2.0)

    def test_install_hang(self):
        self.lab.fault("agent-02", "install-hang")
        try:
            rc, _, _ = self.lab.exec("agent-02", ["curl", "-sS", "--max-time", "2",
                                                  "https://get.k3s.io/"])
            self.assertEqual(rc, 28)
        finally:
            self.lab.fault("agent-02", "install-normal")
        rc, _, err = self.lab.exec("agent-02", ["curl", "-fsS", "--max-time", "10",
                                                "https://get.k3s.io/"])
        self.assertEqual(rc, 0, err)

    def test_install_hang_on_other_host_only(self):
        self.lab.fault("agent-02", "install-hang")
        try:
            rc, _, err = self.lab.exec("agent-01", ["curl", "-fsS", "--max-time", "10",
                                                    "https://get.k3s.io/"])
        finally:
            self.lab.fault("agent-02", "install-normal")
        self.assertEqual(rc, 0, err)


class TeardownTest(unittest.TestCase):
    def setUp(self):
        if os.geteuid() != 0:
            self.skipTest("the lab needs root")

    def test_down_leaves_nothing(self):
        interfaces_before = root_interfaces()
        lab = Lab()
        hung_request = None
        try:
            lab.up()
            env = lab.env()
            # A request that the mirror holds forever must not outlive the lab.
            lab.fault("agent-01", "install-hang")
            hung_request = subprocess.Popen(
                [LAB_PROGRAM, "exec", "--name", lab.name, "agent-01", "--",
                 "curl", "-sS", "https://get.k3s.io/"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        finally:
            lab.down()
            if hung_request:
                hung_request.wait(timeout=10)
        inodes = {host["ns"]["net"] for host in env["hosts"].values()}
        inodes.add(env["switch"]["ns"]["net"])
        self.assertEqual(processes_in_net_namespaces(inodes), [])
        self.assertFalse(os.path.exists(env["state"]))
        with open("/proc/self/mounts", encoding="utf-8") as f:
            self.assertNotIn(env["state"], f.read())
        self.assertEqual(root_interfaces(), interfaces_before)

    def test_down_is_idempotent(self):
        lab = Lab()
        lab.down()
        lab.down()

    def test_two_labs_at_once(self):
        with Lab() as first, Lab() as second:
            for lab in (first, second):
                rc, out, err = lab.ssh("agent-01", "hostname")
                self.assertEqual(rc, 0, err)
                self.assertEqual(out.strip(), "agent-01")
            rc, _, err = first.exec("agent-01", "echo first > /etc/lab-probe")
            self.assertEqual(rc, 0, err)
            rc, _, _ = second.exec("agent-01", ["test", "-e", "/etc/lab-probe"])
            self.assertEqual(rc, 1)
            first_key = first.env()["hosts"]["agent-01"]["host_key"]
            second_key = second.env()["hosts"]["agent-01"]["host_key"]
            self.assertNotEqual(first_key, second_key)


class InventoryTest(unittest.TestCase):
    def test_inventory_shape(self):
        path = os.path.join(LAB_DIR, "inventory.json")
        with open(path, encoding="utf-8") as f:
            inventory = json.load(f)
        self.assertEqual(inventory["apiVersion"], "k3sjoin/v1")
        self.assertEqual(inventory["server"]["address"], NODES["k3s-server-01"])
        self.assertEqual([agent["address"] for agent in inventory["agents"]],
                         [NODES["agent-01"], NODES["agent-02"]])
        self.assertEqual(inventory["defaults"]["identity"], "~/.ssh/id_ed25519")


if __name__ == "__main__":
    unittest.main(verbosity=2)
