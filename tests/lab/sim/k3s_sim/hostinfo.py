"""Facts about the host the simulated k3s runs on: hostname and addresses."""

import json
import socket
import subprocess


def hostname():
    return socket.gethostname()


def global_ipv4_addresses():
    """Return the host's global-scope IPv4 addresses in interface order."""
    return _global_addresses("-4", "inet")


def global_ipv6_addresses():
    """Return the host's global-scope IPv6 addresses in interface order (IPv6 lab only)."""
    return _global_addresses("-6", "inet6")


def _global_addresses(family_flag, family):
    try:
        output = subprocess.run(
            ["ip", "-j", family_flag, "addr", "show", "scope", "global"],
            capture_output=True, text=True, check=True, timeout=10,
        ).stdout
        interfaces = json.loads(output or "[]")
    except (OSError, subprocess.SubprocessError, ValueError):
        return []
    addresses = []
    for interface in interfaces:
        for address in interface.get("addr_info", []):
            if address.get("family") == family and address.get("local"):
                addresses.append(address["local"])
    return addresses


def primary_ipv4_address():
    """Return the first non-loopback IPv4 address, or 127.0.0.1 when the host has none."""
    addresses = global_ipv4_addresses()
    return addresses[0] if addresses else "127.0.0.1"
