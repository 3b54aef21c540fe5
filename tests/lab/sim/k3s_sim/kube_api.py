"""The subset of the Kubernetes API that kubectl needs for nodes, namespaces and secrets.

Requests must carry a client certificate signed by the cluster's client CA, as kube-apiserver
in k3s runs with anonymous auth disabled. Discovery returns the legacy documents
(/api, /apis, /api/v1) with Content-Type application/json. kubectl 1.26 and newer take that
to mean the server has no aggregated discovery, so they fall back to the legacy requests that
kubectl 1.20 makes anyway.
"""

import re
import time

from . import node_objects, version
from .https_server import Response, json_response, status_response
from .server_state import parse_rfc3339, rfc3339

NAMESPACES = ("default", "kube-node-lease", "kube-public", "kube-system")

_NODE_VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update",
               "watch"]

API_V1_RESOURCES = {
    "kind": "APIResourceList",
    "apiVersion": "v1",
    "groupVersion": "v1",
    "resources": [
        {"name": "namespaces", "singularName": "namespace", "namespaced": False,
         "kind": "Namespace", "verbs": ["create", "delete", "get", "list", "patch", "update",
                                        "watch"], "shortNames": ["ns"]},
        {"name": "nodes", "singularName": "node", "namespaced": False, "kind": "Node",
         "verbs": _NODE_VERBS, "shortNames": ["no"]},
        {"name": "nodes/status", "singularName": "", "namespaced": False, "kind": "Node",
         "verbs": ["get", "patch", "update"]},
        {"name": "secrets", "singularName": "secret", "namespaced": True, "kind": "Secret",
         "verbs": _NODE_VERBS},
    ],
}

_ROUTES = [
    (re.compile(r"^/api/v1/nodes/?$"), "nodes"),
    (re.compile(r"^/api/v1/nodes/(?P<name>[^/]+)$"), "node"),
    (re.compile(r"^/api/v1/namespaces/?$"), "namespaces"),
    (re.compile(r"^/api/v1/namespaces/(?P<namespace>[^/]+)$"), "namespace"),
    (re.compile(r"^/api/v1/secrets/?$"), "secrets"),
    (re.compile(r"^/api/v1/namespaces/(?P<namespace>[^/]+)/secrets/?$"), "secrets"),
    (re.compile(r"^/api/v1/namespaces/(?P<namespace>[^/]+)/secrets/(?P<name>[^/]+)$"),
     "secret"),
]


def _not_found(resource, name):
    return status_response(404, '%s "%s" not found' % (resource, name),
                           details={"name": name, "kind": resource})


def _method_not_allowed(request):
    return status_response(405, "the server does not allow this method on the requested "
                           "resource")


def requested_table_version(request):
    """Return "v1" or "v1beta1" when the Accept header requests a meta.k8s.io Table."""
    for media_range in request.header("Accept").split(","):
        parameters = {}
        for parameter in media_range.split(";")[1:]:
            key, _, value = parameter.strip().partition("=")
            parameters[key] = value
        if parameters.get("as") == "Table" and parameters.get("g") == "meta.k8s.io" \
                and parameters.get("v") in ("v1", "v1beta1"):
            return parameters["v"]
    return None


def _selector_matches(selector, fields):
    """Match a comma-separated selector (`k=v`, `k==v`, `k!=v`, `k`, `!k`) against fields."""
    for term in filter(None, (part.strip() for part in selector.split(","))):
        if "!=" in term:
            key, value = term.split("!=", 1)
            if fields.get(key) == value:
                return False
        elif "=" in term:
            key, value = term.replace("==", "=").split("=", 1)
            if fields.get(key) != value:
                return False
        elif term.startswith("!"):
            if term[1:] in fields:
                return False
        elif term not in fields:
            return False
    return True


def _object_matches(request, obj):
    metadata = obj["metadata"]
    fields = {"metadata.name": metadata["name"]}
    if "namespace" in metadata:
        fields["metadata.namespace"] = metadata["namespace"]
    if not _selector_matches(request.query_value("fieldSelector"), fields):
        return False
    return _selector_matches(request.query_value("labelSelector"), metadata.get("labels", {}))


def _merge_map(target, patch):
    """Apply a JSON merge patch to a string map, where a null value deletes the key."""
    for key, value in (patch or {}).items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value


class KubeApi:
    def __init__(self, runtime):
        self.runtime = runtime

    def route(self, request):
        if request.client_cert is None:
            return status_response(401, "Unauthorized")
        if request.path in ("/healthz", "/livez", "/readyz"):
            return Response(200, "ok", "text/plain; charset=utf-8")
        if request.path == "/version":
            return json_response(200, self._version())
        if request.path in ("/api", "/api/"):
            return json_response(200, {
                "kind": "APIVersions", "versions": ["v1"],
                "serverAddressByClientCIDRs": [{
                    "clientCIDR": "0.0.0.0/0",
                    "serverAddress": self.runtime.advertise_address + ":6443"}]})
        if request.path in ("/apis", "/apis/"):
            return json_response(200, {"kind": "APIGroupList", "apiVersion": "v1",
                                       "groups": []})
        if request.path in ("/api/v1", "/api/v1/"):
            return json_response(200, API_V1_RESOURCES)
        for pattern, kind in _ROUTES:
            match = pattern.match(request.path)
            if match:
                return getattr(self, "_" + kind)(request, **match.groupdict())
        return status_response(404, "the server could not find the requested resource")

    def _version(self):
        return {
            "major": "1",
            "minor": version.minor_version(),
            "gitVersion": version.git_version(),
            "gitCommit": (version.COMMIT * 5)[:40],
            "gitTreeState": "clean",
            "buildDate": "2024-12-18T00:00:00Z",
            "goVersion": version.GO_VERSION,
            "compiler": "gc",
            "platform": "linux/amd64",
        }

    # --- responses for lists and single objects ---

    def _list_response(self, request, kind, objects, columns, cells_for):
        objects = [obj for obj in objects if _object_matches(request, obj)]
        resource_version = self.runtime.state.resource_version()
        table_version = requested_table_version(request)
        if table_version:
            return json_response(200, self._table(request, table_version, objects, columns,
                                                  cells_for, resource_version))
        return json_response(200, {"kind": kind + "List", "apiVersion": "v1",
                                   "metadata": {"resourceVersion": resource_version},
                                   "items": objects})

    def _object_response(self, request, obj, columns, cells_for):
        table_version = requested_table_version(request)
        if table_version:
            return json_response(200, self._table(request, table_version, [obj], columns,
                                                  cells_for,
                                                  obj["metadata"].get("resourceVersion", "")))
        return json_response(200, obj)

    def _table(self, request, table_version, objects, columns, cells_for, resource_version):
        include = request.query_value("includeObject", "Metadata")
        rows = []
        for obj in objects:
            row = {"cells": cells_for(obj)}
            if include == "Object":
                row["object"] = obj
            elif include != "None":
                row["object"] = {"kind": "PartialObjectMetadata",
                                 "apiVersion": "meta.k8s.io/" + table_version,
                                 "metadata": obj["metadata"]}
            rows.append(row)
        return {"kind": "Table", "apiVersion": "meta.k8s.io/" + table_version,
                "metadata": {"resourceVersion": resource_version},
                "columnDefinitions": columns, "rows": rows}

    # --- nodes ---

    def _nodes(self, request):
        if request.method != "GET":
            return _method_not_allowed(request)
        now = time.time()
        nodes = [self.runtime.node_object(record, now)
                 for record in self.runtime.state.list_nodes()]
        return self._list_response(request, "Node", nodes, node_objects.NODE_COLUMNS,
                                   lambda node: node_objects.node_table_cells(node, now))

    def _node(self, request, name):
        state = self.runtime.state
        if request.method == "DELETE":
            record = state.delete_node(name)
            if record is None:
                return _not_found("nodes", name)
            self.runtime.forget_node(name)
            return json_response(200, self.runtime.node_object(record))
        if request.method == "PATCH":
            try:
                patch = request.json_body()
            except ValueError as failure:
                return status_response(400, "invalid patch: %s" % failure)
            metadata = patch.get("metadata") or {}
            spec = patch.get("spec") or {}

            def apply(record):
                _merge_map(record.setdefault("labels", {}), metadata.get("labels"))
                _merge_map(record.setdefault("annotations", {}), metadata.get("annotations"))
                if "unschedulable" in spec:
                    record["unschedulable"] = bool(spec["unschedulable"])

            record = state.update_node(name, apply)
            if record is None:
                return _not_found("nodes", name)
            return json_response(200, self.runtime.node_object(record))
        if request.method != "GET":
            return _method_not_allowed(request)
        record = state.get_node(name)
        if record is None:
            return _not_found("nodes", name)
        now = time.time()
        return self._object_response(request, self.runtime.node_object(record, now),
                                     node_objects.NODE_COLUMNS,
                                     lambda node: node_objects.node_table_cells(node, now))

    # --- namespaces ---

    def _namespace_object(self, name):
        return {"kind": "Namespace", "apiVersion": "v1",
                "metadata": {"name": name, "uid": "", "resourceVersion": "1",
                             "creationTimestamp": rfc3339(self.runtime.cluster_created),
                             "labels": {"kubernetes.io/metadata.name": name}},
                "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}

    def _namespace_cells(self, namespace):
        created = parse_rfc3339(namespace["metadata"]["creationTimestamp"])
        return [namespace["metadata"]["name"], namespace["status"]["phase"],
                node_objects.human_duration(time.time() - created)]

    _NAMESPACE_COLUMNS = [
        {"name": "Name", "type": "string", "format": "name", "description": "Name",
         "priority": 0},
        {"name": "Status", "type": "string", "format": "",
         "description": "The status of the namespace", "priority": 0},
        {"name": "Age", "type": "string", "format": "", "description": "Age", "priority": 0},
    ]

    def _namespaces(self, request):
        if request.method != "GET":
            return _method_not_allowed(request)
        objects = [self._namespace_object(name) for name in NAMESPACES]
        return self._list_response(request, "Namespace", objects, self._NAMESPACE_COLUMNS,
                                   self._namespace_cells)

    def _namespace(self, request, namespace):
        if request.method != "GET":
            return _method_not_allowed(request)
        if namespace not in NAMESPACES:
            return _not_found("namespaces", namespace)
        return self._object_response(request, self._namespace_object(namespace),
                                     self._NAMESPACE_COLUMNS, self._namespace_cells)

    # --- secrets ---

    _SECRET_COLUMNS = [
        {"name": "Name", "type": "string", "format": "name", "description": "Name",
         "priority": 0},
        {"name": "Type", "type": "string", "format": "", "description": "Type",
         "priority": 0},
        {"name": "Data", "type": "string", "format": "", "description": "Data",
         "priority": 0},
        {"name": "Age", "type": "string", "format": "", "description": "Age", "priority": 0},
    ]

    def _secret_cells(self, secret):
        created = parse_rfc3339(secret["metadata"]["creationTimestamp"])
        return [secret["metadata"]["name"], secret.get("type", "Opaque"),
                len(secret.get("data", {})), node_objects.human_duration(time.time() - created)]

    def _secrets(self, request, namespace=None):
        if namespace is not None and namespace not in NAMESPACES:
            return _not_found("namespaces", namespace)
        if request.method == "POST":
            return self._create_secret(request, namespace)
        if request.method != "GET":
            return _method_not_allowed(request)
        return self._list_response(request, "Secret",
                                   self.runtime.state.list_secrets(namespace),
                                   self._SECRET_COLUMNS, self._secret_cells)

    def _create_secret(self, request, namespace):
        try:
            secret = request.json_body()
        except ValueError as failure:
            return status_response(400, "invalid secret: %s" % failure)
        metadata = secret.setdefault("metadata", {})
        metadata["namespace"] = namespace or metadata.get("namespace", "default")
        if not metadata.get("name"):
            return status_response(422, "Secret is invalid: metadata.name: Required value",
                                   "Invalid")
        created = self.runtime.state.create_secret(secret)
        if created is None:
            return status_response(409, 'secrets "%s" already exists' % metadata["name"],
                                   details={"name": metadata["name"], "kind": "secrets"})
        return json_response(201, created)

    def _secret(self, request, namespace, name):
        if namespace not in NAMESPACES:
            return _not_found("namespaces", namespace)
        state = self.runtime.state
        if request.method == "DELETE":
            secret = state.delete_secret(namespace, name)
            if secret is None:
                return _not_found("secrets", name)
            if name.endswith(".node-password.k3s"):
                self.runtime.forget_node_password(name[:-len(".node-password.k3s")])
            return json_response(200, secret)
        if request.method != "GET":
            return _method_not_allowed(request)
        secret = state.get_secret(namespace, name)
        if secret is None:
            return _not_found("secrets", name)
        return self._object_response(request, secret, self._SECRET_COLUMNS, self._secret_cells)
