"""Lab layout constants and the lab.json record of one lab."""

import json
import os
import re
from dataclasses import dataclass

STATE_ROOT = "/tmp/k3sjoin-lab"
DEFAULT_NAME = "k3sjoin-lab"
LAB_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# K3SJOIN_LAB_SIM points the lab at another copy of the simulation.
SIM_DIR = os.environ.get("K3SJOIN_LAB_SIM") or os.path.join(LAB_DIR, "sim")
INVENTORY_FILE = os.path.join(LAB_DIR, "inventory.json")

SUBNET = "10.246.10.0/24"
PREFIX_LENGTH = 24
MIRROR_ADDRESS = "10.246.10.20"
MIRROR_NAMES = ("get.k3s.io", "github.com", "update.k3s.io")

SERVER_VERSION = "v1.31.4+k3s1"
RELEASE_VERSIONS = ("v1.31.4+k3s1", "v1.30.8+k3s1", "v1.32.1+k3s1")
DEFAULT_READY_DELAY = 3

# Paths that every lab process resolves; the usual Debian root PATH.
STANDARD_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

OPS_USER = "ops"


@dataclass(frozen=True)
class HostSpec:
    """One lab host: its name (also its hostname), IPv4 address and kind.

    kind "node" gets overlays on /etc, /root, /home, /usr/local and /var,
    tmpfs on /run and /tmp, users and sshd. kind "shared" sees the
    machine's file system, with only /etc/hosts, /etc/resolv.conf, the CA
    bundle and (operator) /etc/passwd replaced by bind mounts.
    """

    name: str
    address: str
    kind: str


HOSTS = (
    HostSpec("operator", "10.246.10.10", "shared"),
    HostSpec("mirror", MIRROR_ADDRESS, "shared"),
    HostSpec("k3s-server-01", "10.246.10.50", "node"),
    HostSpec("agent-01", "10.246.10.51", "node"),
    HostSpec("agent-02", "10.246.10.52", "node"),
)
SERVER_HOST = "k3s-server-01"
NODE_HOSTS = tuple(h.name for h in HOSTS if h.kind == "node")

# Jump hosts of `lab up --bastion`: node hosts with sshd and users but no k3s role. The
# operator reaches bastion-2 through bastion, and agents through both (ProxyJump).
BASTION_HOSTS = (
    HostSpec("bastion", "10.246.10.30", "node"),
    HostSpec("bastion-2", "10.246.10.31", "node"),
)

# `lab up --ipv6` gives every host a second address on the same bridge: this prefix and
# the last octet of its IPv4 address, such as fd00:246:10::51 for 10.246.10.51.
IPV6_PREFIX = "fd00:246:10::"
IPV6_PREFIX_LENGTH = 64
IPV6_INVENTORY_FILE = "inventory-ipv6.json"


def ipv6_address(address):
    """Return the IPv6 address of the lab host whose IPv4 address is address."""
    return IPV6_PREFIX + address.rsplit(".", 1)[1]


def lab_hosts(options):
    """Return the HostSpecs of a lab made with options ({"bastion": bool, "ipv6": bool})."""
    return HOSTS + (BASTION_HOSTS if options.get("bastion") else ())

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


def host_spec(name):
    """Return the HostSpec called name, or raise ValueError."""
    for spec in HOSTS + BASTION_HOSTS:
        if spec.name == name:
            return spec
    names = ", ".join(spec.name for spec in HOSTS + BASTION_HOSTS)
    raise ValueError(f"unknown lab host {name!r}; expected one of: {names}")


def validate_name(name):
    """Raise ValueError unless name is usable as a directory name."""
    if not NAME_PATTERN.match(name) or name in (".", ".."):
        raise ValueError(
            f"invalid lab name {name!r}: use letters, digits, '.', '_' or '-', "
            "starting with a letter or digit, at most 63 characters")


def state_dir(name):
    return os.path.join(STATE_ROOT, name)


class LabRecord:
    """The lab.json file: pids, namespace ids, addresses and paths.

    The controller saves it after every step that creates something, so
    `lab down` can clean up after an `up` that failed half way.
    """

    def __init__(self, name, data=None):
        self.name = name
        self.state = state_dir(name)
        self.path = os.path.join(self.state, "lab.json")
        self.data = data if data is not None else {}

    @classmethod
    def load(cls, name):
        """Read lab.json of lab name; raise FileNotFoundError if absent."""
        record = cls(name)
        with open(record.path, encoding="utf-8") as f:
            record.data = json.load(f)
        return record

    def save(self):
        """Write lab.json atomically, so readers never see half a file."""
        temporary = self.path + ".tmp"
        with open(temporary, "w", encoding="utf-8") as f:
            json.dump(self.data, f, indent=2, sort_keys=True)
            f.write("\n")
        os.replace(temporary, self.path)

    def host(self, name):
        """Return the mutable record of host name (created if missing)."""
        return self.data.setdefault("hosts", {}).setdefault(name, {})

    def hosts(self):
        return self.data.get("hosts", {})

    def options(self):
        """Return the options the lab was made with: {"bastion": bool, "ipv6": bool}."""
        return self.data.get("options", {})

    def path_in_state(self, *parts):
        return os.path.join(self.state, *parts)
