"""Install the simulated k3s server on k3s-server-01 and wait until it is Ready."""

import json
import os
import time

from . import hostfs, mirror, namespaces
from .state import SERVER_HOST, SERVER_VERSION, SIM_DIR

UNIT_DIR = "/etc/systemd/system"
UNIT_FILE = UNIT_DIR + "/k3s.service"
ENV_FILE = UNIT_DIR + "/k3s.service.env"

# The unit k3s's install script writes for a server, without the
# ExecStartPre lines that load kernel modules a namespace cannot load.
UNIT = """\
[Unit]
Description=Lightweight Kubernetes
Documentation=https://k3s.io
Wants=network-online.target
After=network-online.target

[Install]
WantedBy=multi-user.target

[Service]
Type=notify
EnvironmentFile=-/etc/default/%N
EnvironmentFile=-/etc/sysconfig/%N
EnvironmentFile=-/etc/systemd/system/k3s.service.env
KillMode=process
Delegate=yes
LimitNOFILE=1048576
LimitNPROC=infinity
LimitCORE=infinity
TasksMax=infinity
TimeoutStartSec=0
Restart=always
RestartSec=5s
ExecStart=/usr/local/bin/k3s server
"""


def install_stand_ins(pid):
    """Copy the simulation's systemctl and journalctl into the node's /usr/local/bin."""
    for name in ("systemctl", "journalctl"):
        hostfs.copy_into_host(pid, os.path.join(SIM_DIR, name), f"/usr/local/bin/{name}")


def install_server(pid, mirror_dir, ready_delay):
    """Install the server release binary and the k3s unit with its environment file."""
    binary = os.path.join(mirror.release_dir(mirror_dir, SERVER_VERSION), "k3s")
    hostfs.copy_into_host(pid, binary, "/usr/local/bin/k3s")
    hostfs.write_host_file(pid, UNIT_FILE, UNIT)
    hostfs.write_host_file(pid, ENV_FILE, f"K3S_SIM_READY_DELAY={ready_delay}\n", mode=0o600)


def start_server(pid, timeout=60):
    """Enable and start unit k3s, then wait until node k3s-server-01 is Ready."""
    deadline = time.monotonic() + timeout
    namespaces.run_in(pid, ["systemctl", "enable", "k3s"], timeout=30)
    namespaces.run_in(pid, ["systemctl", "start", "k3s"], timeout=timeout)
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        result = namespaces.run_in(
            pid, ["k3s", "kubectl", "get", "nodes", "-o", "json"], check=False, timeout=20)
        if result.returncode == 0:
            if _node_ready(result.stdout, SERVER_HOST):
                return
            last_error = f"node {SERVER_HOST} not Ready"
        else:
            last_error = result.stderr.decode(errors="replace").strip()
        time.sleep(0.2)
    raise namespaces.LabError(
        f"k3s server not Ready within {timeout} s: {last_error}; "
        "see /var/log/sim-journal/k3s.log on the server host")


def _node_ready(output, node_name):
    try:
        nodes = json.loads(output).get("items", [])
    except ValueError:
        return False
    for node in nodes:
        if node.get("metadata", {}).get("name") != node_name:
            continue
        for condition in node.get("status", {}).get("conditions", []):
            if condition.get("type") == "Ready" and condition.get("status") == "True":
                return True
    return False
