"""Kubernetes Node objects and kubectl table rows built from the server's node records.

A node record stores what the agent reported and when. Conditions are computed at read time
from the heartbeat and Ready times, the way the node lifecycle controller would have set
them.
"""

import time

from .server_state import parse_rfc3339, rfc3339

CONTAINER_RUNTIME_VERSION = "containerd://1.7.23-k3s2"
OS_IMAGE = "Debian GNU/Linux 12 (bookworm)"

NODE_ROLE_LABEL_PREFIX = "node-role.kubernetes.io/"

# Reasons and messages that the kubelet and the node lifecycle controller write.
PRESSURE_CONDITIONS = (
    ("MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"),
    ("DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"),
    ("PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"),
)
READY_MESSAGE = "kubelet is posting ready status"
NOT_READY_MESSAGE = ("container runtime network not ready: NetworkReady=false "
                     "reason:NetworkPluginNotReady message:Network plugin returns error: "
                     "cni plugin not initialized")
UNKNOWN_REASON = "NodeStatusUnknown"
UNKNOWN_MESSAGE = "Kubelet stopped posting node status."


def human_duration(seconds):
    """Format an age as Kubernetes' duration.HumanDuration does (`21s`, `5m2s`, `17h`)."""
    seconds = int(seconds)
    if seconds < -1:
        return "<invalid>"
    if seconds < 0:
        return "0s"

    if seconds < 120:
        return "%ds" % seconds

    minutes = seconds // 60
    if minutes < 10:
        remainder = seconds % 60
        return "%dm" % minutes if remainder == 0 else "%dm%ds" % (minutes, remainder)
    if minutes < 180:
        return "%dm" % minutes

    hours = seconds // 3600
    if hours < 8:
        remainder = minutes % 60
        return "%dh" % hours if remainder == 0 else "%dh%dm" % (hours, remainder)
    if hours < 48:
        return "%dh" % hours

    if hours < 24 * 8:
        remainder = hours % 24
        days = hours // 24
        return "%dd" % days if remainder == 0 else "%dd%dh" % (days, remainder)
    if hours < 24 * 365 * 2:
        return "%dd" % (hours // 24)

    if hours < 24 * 365 * 8:
        remainder = (hours // 24) % 365
        years = hours // 24 // 365
        return "%dy" % years if remainder == 0 else "%dy%dd" % (years, remainder)
    return "%dy" % (hours // 24 // 365)


def _condition(condition_type, status, reason, message, heartbeat, transition):
    return {
        "type": condition_type,
        "status": status,
        "lastHeartbeatTime": rfc3339(heartbeat),
        "lastTransitionTime": rfc3339(transition),
        "reason": reason,
        "message": message,
    }


def ready_state(record, grace_seconds, now=None):
    """Return "True", "False" or "Unknown" for the node's Ready condition."""
    now = now or time.time()
    if now - record["last_heartbeat"] > grace_seconds:
        return "Unknown"
    if now < record["ready_at"]:
        return "False"
    return "True"


def node_conditions(record, grace_seconds, now=None):
    now = now or time.time()
    state = ready_state(record, grace_seconds, now)
    heartbeat = record["last_heartbeat"]
    registered = record.get("registered", record["created"])
    conditions = []
    if state == "Unknown":
        went_unknown = heartbeat + grace_seconds
        for condition_type, _, _ in PRESSURE_CONDITIONS:
            conditions.append(_condition(condition_type, "Unknown", UNKNOWN_REASON,
                                         UNKNOWN_MESSAGE, heartbeat, went_unknown))
        conditions.append(_condition("Ready", "Unknown", UNKNOWN_REASON, UNKNOWN_MESSAGE,
                                     heartbeat, went_unknown))
        return conditions
    for condition_type, reason, message in PRESSURE_CONDITIONS:
        conditions.append(_condition(condition_type, "False", reason, message, heartbeat,
                                     record["created"]))
    if state == "False":
        conditions.append(_condition("Ready", "False", "KubeletNotReady", NOT_READY_MESSAGE,
                                     heartbeat, registered))
    else:
        conditions.append(_condition("Ready", "True", "KubeletReady", READY_MESSAGE, heartbeat,
                                     max(record["ready_at"], registered)))
    return conditions


def _taints(state):
    if state == "Unknown":
        return [{"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"},
                {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"}]
    if state == "False":
        return [{"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"}]
    return []


def node_metadata(record):
    return {
        "name": record["name"],
        "uid": record["uid"],
        "resourceVersion": record.get("resource_version", "1"),
        "creationTimestamp": rfc3339(record["created"]),
        "labels": dict(record.get("labels", {})),
        "annotations": dict(record.get("annotations", {})),
    }


def node_object(record, grace_seconds, now=None):
    """Return the full v1 Node object for a node record."""
    now = now or time.time()
    state = ready_state(record, grace_seconds, now)
    capacity = {"cpu": "2", "ephemeral-storage": "30830568Ki", "hugepages-2Mi": "0",
                "memory": "4005932Ki", "pods": "110"}
    spec = {"podCIDR": record.get("pod_cidr", ""), "podCIDRs": [record.get("pod_cidr", "")],
            "providerID": "k3s://" + record["name"]}
    taints = _taints(state)
    if record.get("unschedulable"):
        spec["unschedulable"] = True
        taints.append({"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"})
    if taints:
        spec["taints"] = taints
    return {
        "kind": "Node",
        "apiVersion": "v1",
        "metadata": node_metadata(record),
        "spec": spec,
        "status": {
            "capacity": capacity,
            "allocatable": dict(capacity),
            "conditions": node_conditions(record, grace_seconds, now),
            "addresses": [
                {"type": "InternalIP", "address": record.get("internal_ip", "")},
                {"type": "Hostname", "address": record.get("hostname", record["name"])},
            ],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": 10250}},
            "nodeInfo": {
                "machineID": record["uid"].replace("-", ""),
                "systemUUID": record["uid"],
                "bootID": record["uid"],
                "kernelVersion": record.get("kernel_version", ""),
                "osImage": record.get("os_image", OS_IMAGE),
                "containerRuntimeVersion": CONTAINER_RUNTIME_VERSION,
                "kubeletVersion": record.get("version", ""),
                "kubeProxyVersion": record.get("version", ""),
                "operatingSystem": "linux",
                "architecture": "amd64",
            },
        },
    }


def node_roles(labels):
    roles = set()
    for key, value in labels.items():
        if key.startswith(NODE_ROLE_LABEL_PREFIX) and len(key) > len(NODE_ROLE_LABEL_PREFIX):
            roles.add(key[len(NODE_ROLE_LABEL_PREFIX):])
        elif key == "kubernetes.io/role" and value:
            roles.add(value)
    return ",".join(sorted(roles)) if roles else "<none>"


def node_status_text(node):
    """Return the STATUS column kubectl shows: Ready, NotReady or Unknown."""
    status = "Unknown"
    for condition in node["status"]["conditions"]:
        if condition["type"] == "Ready":
            status = "Ready" if condition["status"] == "True" else "NotReady"
    if node["spec"].get("unschedulable"):
        status += ",SchedulingDisabled"
    return status


def _column(name, description, priority=0, column_type="string", column_format=""):
    return {"name": name, "type": column_type, "format": column_format,
            "description": description, "priority": priority}


NODE_COLUMNS = [
    _column("Name", "Name must be unique within a namespace.", column_format="name"),
    _column("Status", "The status of the node"),
    _column("Roles", "The roles of the node"),
    _column("Age", "CreationTimestamp is a timestamp representing the server time when this "
            "object was created."),
    _column("Version", "Kubelet Version reported by the node."),
    _column("Internal-IP", "List of addresses reachable to the node.", priority=1),
    _column("External-IP", "List of addresses reachable to the node.", priority=1),
    _column("OS-Image", "OS Image reported by the node from /etc/os-release.", priority=1),
    _column("Kernel-Version", "Kernel Version reported by the node.", priority=1),
    _column("Container-Runtime", "Container Runtime Version reported by the node.", priority=1),
]


def node_table_cells(node, now=None):
    now = now or time.time()
    created = node["metadata"]["creationTimestamp"]
    internal_ip = "<none>"
    for address in node["status"]["addresses"]:
        if address["type"] == "InternalIP" and address["address"]:
            internal_ip = address["address"]
    info = node["status"]["nodeInfo"]
    return [
        node["metadata"]["name"],
        node_status_text(node),
        node_roles(node["metadata"].get("labels", {})),
        human_duration(now - parse_rfc3339(created)),
        info["kubeletVersion"],
        internal_ip,
        "<none>",
        info["osImage"] or "<unknown>",
        info["kernelVersion"] or "<unknown>",
        info["containerRuntimeVersion"] or "<unknown>",
    ]
