"""The operator's home directory: SSH key, known_hosts, ssh config, inventory."""

import os
import shutil

from .namespaces import run
from .state import INVENTORY_FILE

SSH_CONFIG = """\
# SSH client configuration of the k3sjoin lab operator, written by tests/lab/lab.
# Host keys come from ~/.ssh/known_hosts, which lists every lab host.
Host *
    IdentityFile ~/.ssh/id_ed25519
    StrictHostKeyChecking yes
"""


def create_home(home):
    """Create home with .ssh/id_ed25519 and inventory.json; return the public key line."""
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
