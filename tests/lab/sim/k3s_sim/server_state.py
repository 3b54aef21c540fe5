"""Cluster state of the simulated server: nodes, secrets and the resource version counter.

The state lives in one JSON file under the server data dir and is rewritten atomically after
every change, so a restarted server keeps its nodes, node password secrets and bootstrap
tokens.
"""

import base64
import calendar
import copy
import json
import os
import threading
import time
import uuid

STATE_FILE_NAME = "sim-state.json"


def rfc3339(epoch_seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_seconds))


def parse_rfc3339(text):
    """Parse the `YYYY-MM-DDTHH:MM:SSZ` timestamps Kubernetes uses, returning epoch seconds."""
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


class ClusterState:
    """Thread-safe store for nodes and secrets, persisted to a JSON file."""

    def __init__(self, server_dir):
        self._path = os.path.join(server_dir, STATE_FILE_NAME)
        self._lock = threading.RLock()
        self._data = {"resource_version": 1, "nodes": {}, "secrets": {}}
        if os.path.exists(self._path):
            with open(self._path) as state_file:
                self._data.update(json.load(state_file))

    # --- persistence ---

    def _save(self):
        temporary_path = self._path + ".tmp"
        descriptor = os.open(temporary_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as state_file:
            json.dump(self._data, state_file, indent=1, sort_keys=True)
        os.replace(temporary_path, self._path)

    def _next_resource_version(self):
        self._data["resource_version"] += 1
        return str(self._data["resource_version"])

    def resource_version(self):
        with self._lock:
            return str(self._data["resource_version"])

    # --- nodes ---

    def list_nodes(self):
        with self._lock:
            return [copy.deepcopy(record) for _, record in sorted(self._data["nodes"].items())]

    def get_node(self, name):
        with self._lock:
            record = self._data["nodes"].get(name)
            return copy.deepcopy(record) if record else None

    def register_node(self, name, fields, ready_delay_seconds, grace_seconds):
        """Create or refresh the node record for an agent that (re)started.

        A new node, or one without a heartbeat for grace_seconds, turns Ready
        ready_delay_seconds from now. A node that was still heartbeating keeps its Ready time,
        as a restarted kubelet keeps a Ready node Ready. Returns (record, created).
        """
        now = time.time()
        with self._lock:
            record = self._data["nodes"].get(name)
            created = record is None
            if created:
                record = {
                    "name": name,
                    "uid": str(uuid.uuid4()),
                    "created": now,
                    "ready_at": now + ready_delay_seconds,
                    "last_heartbeat": now,
                }
                self._data["nodes"][name] = record
            elif now - record["last_heartbeat"] > grace_seconds:
                record["ready_at"] = now + ready_delay_seconds
            record.update(fields)
            if not record.get("pod_cidr"):
                record["pod_cidr"] = self._free_pod_cidr()
            record["registered"] = now
            record["last_heartbeat"] = now
            record["resource_version"] = self._next_resource_version()
            self._save()
            return copy.deepcopy(record), created

    def update_node(self, name, apply):
        """Call apply(record) on a node's record and save it. Return None for an unknown node."""
        with self._lock:
            record = self._data["nodes"].get(name)
            if record is None:
                return None
            apply(record)
            record["resource_version"] = self._next_resource_version()
            self._save()
            return copy.deepcopy(record)

    def _free_pod_cidr(self):
        """Return the first unused /24 of k3s's default cluster CIDR 10.42.0.0/16."""
        used = {record.get("pod_cidr") for record in self._data["nodes"].values()}
        for index in range(256):
            cidr = "10.42.%d.0/24" % index
            if cidr not in used:
                return cidr
        return ""

    def record_heartbeat(self, name):
        """Store a heartbeat time, or return False when the node does not exist."""
        with self._lock:
            record = self._data["nodes"].get(name)
            if record is None:
                return False
            record["last_heartbeat"] = time.time()
            record["resource_version"] = self._next_resource_version()
            self._save()
            return True

    def delete_node(self, name):
        """Delete a node and its node password secret, as k3s's node controller does."""
        with self._lock:
            record = self._data["nodes"].pop(name, None)
            if record is None:
                return None
            self._data["secrets"].pop(_secret_key("kube-system", name + ".node-password.k3s"),
                                      None)
            self._next_resource_version()
            self._save()
            return record

    # --- secrets ---

    def list_secrets(self, namespace=None):
        with self._lock:
            return [copy.deepcopy(secret) for key, secret in sorted(self._data["secrets"].items())
                    if namespace is None or secret["metadata"]["namespace"] == namespace]

    def get_secret(self, namespace, name):
        with self._lock:
            secret = self._data["secrets"].get(_secret_key(namespace, name))
            return copy.deepcopy(secret) if secret else None

    def create_secret(self, secret):
        """Store a new Secret object, or return None when one with that name exists."""
        with self._lock:
            metadata = secret.setdefault("metadata", {})
            key = _secret_key(metadata["namespace"], metadata["name"])
            if key in self._data["secrets"]:
                return None
            metadata["uid"] = str(uuid.uuid4())
            metadata["creationTimestamp"] = rfc3339(time.time())
            metadata["resourceVersion"] = self._next_resource_version()
            secret["kind"] = "Secret"
            secret["apiVersion"] = "v1"
            self._data["secrets"][key] = secret
            self._save()
            return copy.deepcopy(secret)

    def delete_expired_bootstrap_tokens(self, now=None):
        """Delete bootstrap token secrets past their expiration, as Kubernetes' token cleaner
        does; return the deleted names."""
        now = now or time.time()
        expired = []
        with self._lock:
            for key, secret in list(self._data["secrets"].items()):
                if secret.get("type") != "bootstrap.kubernetes.io/token":
                    continue
                encoded = secret.get("data", {}).get("expiration")
                if encoded and parse_rfc3339(base64.b64decode(encoded).decode()) <= now:
                    del self._data["secrets"][key]
                    expired.append(secret["metadata"]["name"])
            if expired:
                self._next_resource_version()
                self._save()
        return expired

    def delete_secret(self, namespace, name):
        with self._lock:
            secret = self._data["secrets"].pop(_secret_key(namespace, name), None)
            if secret is not None:
                self._next_resource_version()
                self._save()
            return secret


def _secret_key(namespace, name):
    return namespace + "/" + name
