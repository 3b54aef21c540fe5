"""The lab network: a bridge in the switch namespace, one veth pair per host.

Each veth pair is created inside the switch namespace and its host end is
moved straight into the host's namespace, so no interface of the lab ever
exists in the root network namespace.
"""

from . import namespaces
from .state import IPV6_PREFIX_LENGTH, PREFIX_LENGTH

BRIDGE = "br0"
HOST_INTERFACE = "eth0"


def switch_port_name(address):
    """Return the switch-side interface name for a host, e.g. "v51"."""
    return "v" + address.rsplit(".", 1)[1]


def create_bridge(switch_pid, ipv6=False):
    # Without an MLD querier on the bridge, multicast snooping could drop the neighbour
    # solicitations that IPv6 needs, so an IPv6 lab floods multicast instead.
    snooping = " mcast_snooping 0" if ipv6 else ""
    commands = [
        "link set lo up",
        f"link add {BRIDGE} type bridge{snooping}",
        f"link set {BRIDGE} up",
    ]
    _ip_batch(switch_pid, commands)


def connect_host(switch_pid, host_pid, address, address6=None):
    """Plug a host into the bridge and give it its address (and address6, if given).

    The host end is created directly in the host's namespace through
    `peer ... netns PID`, so it never appears in the switch or root namespace.
    """
    port = switch_port_name(address)
    _ip_batch(switch_pid, [
        f"link add {port} type veth peer name {HOST_INTERFACE} netns {host_pid}",
        f"link set {port} master {BRIDGE}",
        f"link set {port} up",
    ])
    commands = [
        "link set lo up",
        f"addr add {address}/{PREFIX_LENGTH} dev {HOST_INTERFACE}",
    ]
    if address6:
        # nodad makes the address usable at once instead of after duplicate detection.
        commands.append(f"addr add {address6}/{IPV6_PREFIX_LENGTH} dev {HOST_INTERFACE} nodad")
    commands.append(f"link set {HOST_INTERFACE} up")
    _ip_batch(host_pid, commands)


def _ip_batch(pid, commands):
    script = "".join(command + "\n" for command in commands)
    namespaces.run(
        namespaces.nsenter_prefix(pid, kinds=("net",)) + ["ip", "-batch", "-"],
        input=script.encode())
