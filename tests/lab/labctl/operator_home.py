"""The operator's home directory: SSH key, known_hosts, ssh config, inventory."""

import json
import os
import shutil

from .namespaces import run
from .state import INVENTORY_FILE, IPV6_INVENTORY_FILE, ipv6_address

SSH_CONFIG = """\
# SSH client configuration of the k3sjoin lab operator, written by tests/lab/lab.
# Host keys come from ~/.ssh/known_hosts, which lists every lab host.
Host *
    IdentityFile ~/.ssh/id_ed25519
    StrictHostKeyChecking yes
"""


def create_home(home, ipv6=False):
    """Create home with .ssh/id_ed25519 and inventory.json; return the public key line.

    With ipv6, inventory-ipv6.json is written as well: the same hosts by IPv6 address,
    with their IPv6 addresses as node IPs.
    """
    ssh_dir = os.path.join(home, ".ssh")
    os.makedirs(ssh_dir, mode=0o700, exist_ok=True)
    os.chmod(home, 0o700)
    key = os.path.join(ssh_dir, "id_ed25519")
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "operator@k3sjoin-lab",
         "-f", key])
    with open(os.path.join(ssh_dir, "config"), "w", encoding="utf-8") as f:
        f.write(SSH_CONFIG)
    os.chmod(os.path.join(ssh_dir, "config"), 0o600)
    shutil.copyfile(INVENTORY_FILE, os.path.join(home, "inventory.json"))
    if ipv6:
        _write_ipv6_inventory(os.path.join(home, IPV6_INVENTORY_FILE))
    with open(key + ".pub", encoding="ascii") as f:
        return f.read().strip()


def write_known_hosts(home, entries):
    """Write .ssh/known_hosts from (address, hostname, public key line) triples."""
    lines = []
    for address, hostname, public_key in entries:
        key_type, key_data = public_key.split()[:2]
        lines.append(f"{address},{hostname} {key_type} {key_data}\n")
    path = os.path.join(home, ".ssh", "known_hosts")
    with open(path, "w", encoding="ascii") as f:
        f.writelines(lines)
    os.chmod(path, 0o600)


def _write_ipv6_inventory(path):
    with open(INVENTORY_FILE, encoding="utf-8") as f:
        inventory = json.load(f)
    for host in [inventory["server"]] + inventory["agents"]:
        host["address"] = ipv6_address(host["address"])
        host["nodeIP"] = host["address"]
    with open(path, "w", encoding="utf-8") as f:
        json.dump(inventory, f, indent=2)
        f.write("\n")
