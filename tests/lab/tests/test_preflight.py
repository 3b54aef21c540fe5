#!/usr/bin/python3
"""Lab tests of `k3sjoin preflight` and of `up` running it first.

Each fault test applies one lab fault, checks the finding it causes (check
id, host, status, message, fix and exit code) and undoes the fault in a
cleanup, so the tests of a class share one lab and stay independent.
"""

import json
import os
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from labtest import LabTestCase, main  # noqa: E402

NODES = ("k3s-server-01", "agent-01", "agent-02")
AGENTS = ("agent-01", "agent-02")
AGENT_CHECKS = {
    "access.ssh", "access.host-key", "access.sudo", "identity.node-name", "identity.hostname",
    "identity.node-ip", "identity.cluster-node", "host.arch", "host.cpu", "host.memory",
    "host.disk", "host.clock", "host.downloader", "host.ports", "host.k3s-install",
    "version.skew", "net.api", "net.ca-hash", "net.kubelet", "net.vxlan",
}
SERVER_CHECKS = {
    "access.ssh", "access.host-key", "access.sudo", "server.k3s", "identity.node-name",
    "identity.hostname", "identity.node-ip",
}
# Three hosts probe each other in one round of a few seconds; a minute means the probes
# waited on their timeouts one after another.
MAX_PREFLIGHT_SECONDS = 20
SETTLE_SECONDS = 5


class PreflightMixin:
    """Runs preflight and looks up findings."""

    def preflight(self, *extra):
        rc, out, err = self.lab.k3sjoin(["preflight", "inventory.json", "-o", "json"] +
                                        list(extra), timeout=120)
        try:
            report = json.loads(out)
        except json.JSONDecodeError:
            self.fail(f"preflight printed no JSON (exit {rc}): {out}\n{err}")
        return rc, report

    def finding(self, report, check, host):
        matches = [f for f in report["findings"] if f["check"] == check and f["host"] == host]
        self.assertEqual(len(matches), 1, f"{check} on {host}: {matches}")
        return matches[0]

    def assert_fails(self, fault_host, fault, args, check, host, message, fix, clear=None):
        """Apply a fault, run preflight and check the one failing finding it causes."""
        self.lab.fault(fault_host, fault, *args)
        self.addCleanup(self.lab.fault, fault_host, *(clear or ["clear", fault]))
        rc, report = self.preflight()
        finding = self.finding(report, check, host)
        self.assertEqual(finding["status"], "fail", finding)
        self.assertIn(message, finding["message"])
        self.assertIn(fix, finding["fix"])
        self.assertEqual(rc, 1)
        self.assertFalse(report["ok"])
        return report


class PreflightFaultTest(PreflightMixin, LabTestCase):
    def test_clean_lab_passes_quickly(self):
        started = time.monotonic()
        rc, report = self.preflight()
        elapsed = time.monotonic() - started
        self.assertEqual(rc, 0, report)
        self.assertTrue(report["ok"])
        not_passed = [f for f in report["findings"] if f["status"] != "pass"]
        self.assertEqual(not_passed, [])
        for host in AGENTS:
            checks = {f["check"] for f in report["findings"] if f["host"] == host}
            self.assertEqual(checks, AGENT_CHECKS, host)
        server_checks = {f["check"] for f in report["findings"] if f["host"] == "k3s-server-01"}
        self.assertEqual(server_checks, SERVER_CHECKS)
        self.assertLess(elapsed, MAX_PREFLIGHT_SECONDS)

    def test_text_output_grouped_by_host(self):
        self.lab.fault("agent-02", "occupy-port", "tcp", "10250")
        self.addCleanup(self.lab.fault, "agent-02", "clear", "occupy-port")
        rc, out, err = self.lab.k3sjoin(["preflight", "inventory.json"], timeout=120)
        self.assertEqual(rc, 1, err)
        lines = out.splitlines()
        headers = [i for i, line in enumerate(lines) if line.endswith(")") and
                   not line.startswith(" ")]
        self.assertEqual([lines[i].split()[0] for i in headers], list(NODES))
        failure = next(i for i, line in enumerate(lines) if "FAIL  host.ports" in line)
        self.assertGreater(failure, headers[2])
        self.assertIn("fix: stop the process", lines[failure + 2])
        self.assertRegex(lines[-1], r"^\d+ passed, 0 warnings, 1 failed, 0 skipped on 3 hosts")

    def test_leaves_nothing_behind(self):
        before = {host: self.host_snapshot(host) for host in NODES}
        rc, _ = self.preflight()
        self.assertEqual(rc, 0)
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            after = {host: self.host_snapshot(host) for host in NODES}
            if after == before or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        for host in NODES:
            for part in ("sockets", "files", "processes"):
                self.assertEqual(after[host][part], before[host][part], f"{host} {part}")

    def host_snapshot(self, host):
        rc, out, err = self.lab.exec(host, "ss -Hlntu | awk '{print $1, $5}' | sort")
        self.assertEqual(rc, 0, err)
        sockets = out
        rc, out, err = self.lab.exec(host, "find /tmp /var/tmp -mindepth 1 | sort")
        self.assertEqual(rc, 0, err)
        return {"sockets": sockets, "files": out, "processes": self.host_processes(host)}

    def host_processes(self, host):
        """Return the sorted command lines of the processes in host's network namespace."""
        inode = self.lab.env()["hosts"][host]["ns"]["net"]
        commands = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                if os.stat(f"/proc/{entry}/ns/net").st_ino != inode:
                    continue
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    commands.append(f.read().replace(b"\0", b" ").decode(errors="replace"))
            except OSError:
                continue
        return sorted(commands)

    def test_api_port_dropped(self):
        report = self.assert_fails("k3s-server-01", "drop-tcp", ["6443"], "net.api", "agent-01",
                                   "agent-01 cannot reach 10.246.10.50:6443: no answer within",
                                   "allow TCP 6443 from agent-01", clear=["undrop"])
        self.assertEqual(self.finding(report, "net.api", "agent-02")["status"], "fail")
        self.assertEqual(self.finding(report, "net.ca-hash", "agent-01")["status"], "skipped")

    def test_vxlan_dropped_on_agent(self):
        report = self.assert_fails("agent-02", "drop-udp", ["8472"], "net.vxlan", "agent-02",
                                   "UDP 8472 blocked: k3s-server-01 -> agent-02, "
                                   "agent-01 -> agent-02", "allow UDP 8472 between all nodes",
                                   clear=["undrop"])
        self.assertEqual(self.finding(report, "net.vxlan", "agent-01")["status"], "pass")

    def test_kubelet_port_occupied(self):
        self.assert_fails("agent-01", "occupy-port", ["tcp", "10250"], "host.ports", "agent-01",
                          "in use: 10250/tcp (0.0.0.0:10250 by python3)",
                          "stop the process that listens there")

    def test_small_rancher_disk(self):
        report = self.assert_fails("agent-02", "small-rancher", ["1024"], "host.disk", "agent-02",
                                   "free for /var/lib/rancher, below the 20 GB minimum",
                                   "until 20 GB are available")
        evidence = self.finding(report, "host.disk", "agent-02")["evidence"]
        self.assertIn("k3sjoin-lab-small on /var/lib/rancher", evidence)

    def test_low_memory(self):
        self.assert_fails("agent-01", "low-memory", ["256"], "host.memory", "agent-01",
                          "256 MiB of memory, below the 512 MiB agent minimum",
                          "give agent-01 at least 512 MiB of memory")

    def test_sudo_password(self):
        report = self.assert_fails("agent-02", "sudo-password", [], "access.sudo", "agent-02",
                                   "sudo asks ops for a password",
                                   "allow passwordless sudo for ops on agent-02")
        self.assertIn("a password is required",
                      self.finding(report, "access.sudo", "agent-02")["evidence"])
        # Checks that need no root still run as ops.
        self.assertEqual(self.finding(report, "host.memory", "agent-02")["status"], "pass")

    def test_duplicate_hostname(self):
        report = self.assert_fails("agent-02", "hostname", ["agent-01"], "identity.hostname",
                                   "agent-02", "hostname agent-01 is also the hostname of "
                                   "agent-01 (10.246.10.51)", "give each machine its own hostname")
        self.assertEqual(self.finding(report, "identity.hostname", "agent-01")["status"], "fail")

    def test_clock_hours_off(self):
        self.assert_fails("agent-01", "clock-offset", ["7200"], "host.clock", "agent-01",
                          "from the server's, more than 30 s",
                          "synchronise the clocks of agent-01 and the server")

    def test_no_curl(self):
        report = self.assert_fails("agent-02", "no-curl", [], "host.downloader", "agent-02",
                                   "neither curl nor wget is on the PATH", "install curl on agent-02")
        # The /cacerts probe falls back to python3 and says so.
        ca_hash = self.finding(report, "net.ca-hash", "agent-02")
        self.assertEqual(ca_hash["status"], "pass")
        self.assertTrue(ca_hash["evidence"].startswith("python3 on agent-02"), ca_hash)

    def test_foreign_ca_on_6443(self):
        report = self.assert_fails("agent-01", "foreign-6443", [], "net.ca-hash", "agent-01",
                                   "not the token's CA hash",
                                   "agent-01 reaches a different TLS service at 10.246.10.50:6443")
        # TCP alone cannot tell the services apart.
        self.assertEqual(self.finding(report, "net.api", "agent-01")["status"], "pass")
        self.assertEqual(self.finding(report, "net.ca-hash", "agent-02")["status"], "pass")

    def test_warning_fails_only_when_strict(self):
        self.lab.fault("agent-01", "low-memory", "1024")
        self.addCleanup(self.lab.fault, "agent-01", "clear", "low-memory")
        rc, report = self.preflight()
        self.assertEqual(self.finding(report, "host.memory", "agent-01")["status"], "warn")
        self.assertEqual(rc, 0)
        rc, report = self.preflight("--strict")
        self.assertEqual(rc, 1)
        self.assertFalse(report["ok"])

    def test_occupied_vxlan_port_never_passes(self):
        self.lab.fault("k3s-server-01", "occupy-port", "udp", "8472")
        self.addCleanup(self.lab.fault, "k3s-server-01", "clear", "occupy-port")
        rc, report = self.preflight()
        self.assertEqual(rc, 0)
        finding = self.finding(report, "net.vxlan", "agent-01")
        self.assertEqual(finding["status"], "skipped")
        self.assertIn("agent-01 -> k3s-server-01 (python3 already binds 8472/udp on "
                      "k3s-server-01, so no listener was placed there)", finding["message"])
        self.assertIn("verified instead", finding["evidence"])


class UpPreflightTest(PreflightMixin, LabTestCase):
    def test_up_joins_passing_agent_only(self):
        self.lab.fault("agent-02", "occupy-port", "tcp", "10250")
        rc, out, err = self.lab.k3sjoin(["up", "inventory.json", "-o", "json"], timeout=300)
        self.assertEqual(rc, 1, err)
        hosts = {host["name"]: host for host in json.loads(out)["hosts"]}
        self.assertEqual(hosts["agent-01"]["outcome"], "joined", hosts["agent-01"])
        self.assertEqual(hosts["agent-02"]["outcome"], "failed")
        self.assertIn("preflight failed (host.ports)", hosts["agent-02"]["detail"])
        self.assertFalse(hosts["agent-02"]["changed"])
        # agent-02 is untouched: no k3s files, and it never downloaded the installer.
        rc, out, _ = self.lab.exec("agent-02", "ls /usr/local/bin/k3s "
                                   "/etc/systemd/system/k3s-agent.service.env 2>&1; "
                                   "ls -A /tmp /var/tmp /etc/rancher 2>&1")
        self.assertEqual(out.count("No such file or directory"), 3, out)
        with open(self.lab.env()["mirror"]["access_log"], encoding="utf-8") as f:
            self.assertNotIn("10.246.10.52", f.read())
        names = {node["metadata"]["name"] for node in self.lab.kubectl_nodes_json()["items"]}
        self.assertEqual(names, {"k3s-server-01", "agent-01"})


if __name__ == "__main__":
    main()
