"""`lab up` and `lab down`: build a lab step by step and tear it down."""

import os
import sys
import time

from . import hostfs, k3s, mirror, namespaces, network, operator_home, pki, sshd
from .namespaces import LabError
from .state import (MIRROR_ADDRESS, RELEASE_VERSIONS, SERVER_HOST, SERVER_VERSION, SIM_DIR,
                    STATE_ROOT, SUBNET, LabRecord, ipv6_address, lab_hosts, state_dir)

SIM_FILES = ("make-release", "install.sh", "systemctl", "journalctl")


def _log(message):
    print(f"lab: {message}", file=sys.stderr, flush=True)


def up(name, ready_delay, keep_on_failure=False, bastion=False, ipv6=False):
    """Create lab name; on failure tear down what was made unless keep_on_failure.

    bastion adds the jump hosts bastion and bastion-2; ipv6 gives every host an IPv6
    address as well (see state.py).
    """
    state = state_dir(name)
    if os.path.lexists(state):
        raise LabError(f"lab {name} already exists at {state}; run `lab down --name {name}` first")
    missing = [f for f in SIM_FILES if not os.path.exists(os.path.join(SIM_DIR, f))]
    if missing:
        raise LabError(f"simulation files missing in {SIM_DIR}: {', '.join(missing)}")
    started = time.monotonic()
    os.makedirs(state, mode=0o755)
    record = LabRecord(name, {
        "name": name, "state": state, "phase": "starting", "subnet": SUBNET,
        "server_version": SERVER_VERSION, "release_versions": list(RELEASE_VERSIONS),
        "ready_delay": ready_delay, "options": {"bastion": bastion, "ipv6": ipv6},
    })
    record.save()
    try:
        _build(record, ready_delay)
    except BaseException:
        if not keep_on_failure:
            _log(f"lab up failed; tearing down lab {name}")
            down(name)
        raise
    record.data["phase"] = "up"
    record.data["startup_seconds"] = round(time.monotonic() - started, 2)
    record.save()
    _log(f"lab {name} is up after {record.data['startup_seconds']} s; state in {state}")


def _build(record, ready_delay):
    _start_holders(record)
    ca_pem = _create_pki(record)
    mirror_dir = record.path_in_state("mirror")
    mirror.lay_out(mirror_dir)
    ops_id = hostfs.free_user_id()
    record.data["ops_uid"] = ops_id
    home = record.path_in_state("operator", "home")
    record.data["operator"] = {"home": home, "inventory": os.path.join(home, "inventory.json")}
    public_key = operator_home.create_home(home, ipv6=record.options().get("ipv6", False))
    for spec in lab_hosts(record.options()):
        _prepare_filesystem(record, spec, ca_pem, ops_id, home)
    _start_sshds(record, public_key, ops_id, home)
    _start_mirror(record, mirror_dir)
    _start_server(record, mirror_dir, ready_delay)


def _start_holders(record):
    pid, start_time, ids = namespaces.start_holder(record.name, f"{record.name}-switch")
    record.data["switch"] = {"pid": pid, "start_time": start_time, "ns": ids}
    record.save()
    ipv6 = record.options().get("ipv6", False)
    network.create_bridge(pid, ipv6)
    for spec in lab_hosts(record.options()):
        host_pid, host_start, host_ids = namespaces.start_holder(record.name, spec.name)
        record.host(spec.name).update({
            "hostname": spec.name, "address": spec.address, "kind": spec.kind,
            "pid": host_pid, "start_time": host_start, "ns": host_ids,
            "state": record.path_in_state("hosts", spec.name),
        })
        if ipv6:
            record.host(spec.name)["address6"] = ipv6_address(spec.address)
        record.save()
        network.connect_host(pid, host_pid, spec.address,
                             ipv6_address(spec.address) if ipv6 else None)


def _create_pki(record):
    ca_dir = record.path_in_state("ca")
    _, ca_cert = pki.create_ca(ca_dir, record.name)
    key, chain = pki.create_mirror_certificate(ca_dir, record.path_in_state("mirror", "tls"))
    record.data["ca"] = {"cert": ca_cert}
    record.data["mirror"] = {"address": MIRROR_ADDRESS, "cert": chain, "key": key}
    record.save()
    with open(ca_cert, "rb") as f:
        return f.read()


def _prepare_filesystem(record, spec, ca_pem, ops_id, home_dir):
    host = record.host(spec.name)
    host_state = host["state"]
    ipv6 = record.options().get("ipv6", False)
    os.makedirs(host_state, exist_ok=True)
    if spec.kind == "node":
        hostfs.mount_node_filesystems(host["pid"], host_state)
        hostfs.setup_node_etc(host["pid"], spec.name, ca_pem, ops_id, ipv6=ipv6)
        k3s.install_stand_ins(host["pid"])
    else:
        home = home_dir if spec.name == "operator" else None
        hostfs.setup_shared_etc(host["pid"], host_state, ca_pem, operator_home=home, ipv6=ipv6)


def _start_sshds(record, public_key, ops_id, home_dir):
    known_hosts = []
    for spec in lab_hosts(record.options()):
        if spec.kind != "node":
            continue
        host = record.host(spec.name)
        host_key = sshd.generate_host_key(host["pid"])
        sshd.configure(host["pid"], host["address"], public_key + "\n", ops_id,
                       address6=host.get("address6"))
        host["sshd_pid"] = sshd.start(host["pid"])
        host["host_key"] = host_key
        record.save()
        names = [spec.name] + ([host["address6"]] if host.get("address6") else [])
        known_hosts.append((host["address"], ",".join(names), host_key))
    operator_home.write_known_hosts(home_dir, known_hosts)


def _start_mirror(record, mirror_dir):
    info = record.data["mirror"]
    info["pid"] = mirror.start(record.host("mirror")["pid"], mirror_dir, info["cert"], info["key"])
    info["faults"] = mirror.faults_path(mirror_dir)
    info["access_log"] = os.path.join(mirror.www_dir(mirror_dir), "access.log")
    record.save()


def _start_server(record, mirror_dir, ready_delay):
    pid = record.host(SERVER_HOST)["pid"]
    k3s.install_server(pid, mirror_dir, ready_delay)
    k3s.start_server(pid)


def holder_namespaces(name):
    """Return (ids, True) for every running holder of lab name, recorded or not."""
    result = []
    for pid in namespaces.find_holders(name):
        ids = namespaces.namespace_ids(pid)
        if ids:
            result.append((ids, True))
    return result


def recorded_namespaces(record):
    """Return (ids, verified) for the switch and every host in record.

    verified is True when the recorded holder still runs in the recorded
    network namespace, which proves that the namespace is still this lab's.
    """
    entries = [record.data.get("switch", {})] + list(record.hosts().values())
    result = []
    for entry in entries:
        ids = entry.get("ns")
        if not ids:
            continue
        pid = entry.get("pid")
        verified = namespaces.process_alive(pid, entry.get("start_time"))
        if verified:
            current = namespaces.namespace_ids(pid)
            verified = current is not None and current["net"] == ids["net"]
        result.append((ids, verified))
    return result


def down(name):
    """Kill every process in the lab's namespaces and remove its state directory.

    Safe to run on a lab that is half built, already down or never existed.
    """
    state = state_dir(name)
    lab_namespaces = holder_namespaces(name)
    if not os.path.lexists(state) and not lab_namespaces:
        _log(f"lab {name} is not up; nothing to do")
        return
    try:
        record = LabRecord.load(name)
        lab_namespaces += recorded_namespaces(record)
    except (OSError, ValueError) as error:
        _log(f"cannot read lab.json of {name} ({error}); using running holders only")
    remaining = namespaces.kill_lab_processes(lab_namespaces)
    if remaining:
        raise LabError(f"processes still running in lab {name}: {' '.join(map(str, remaining))}")
    hostfs.remove_tree(state)
    try:
        os.rmdir(STATE_ROOT)
    except OSError:
        pass  # Another lab still uses it, or it is already gone.
    _log(f"lab {name} is down")
