"""The k3s supervisor endpoints on :6443: /cacerts, /ping and /v1-k3s/*.

Authentication follows k3s. Basic auth checks user `node` against the agent password or the
server password, because the server token joins agents too, and user `server` against the
server password only. A bootstrap token comes as bearer. A kubelet client certificate of
group system:nodes lets a joined agent go on after its bootstrap token was deleted or expired
(k3s docs/adrs/agent-join-token.md). A wrong password is an authenticator error
(401 `not authorized`); a request without usable credentials or an unknown bootstrap token
yields no identity (403 `forbidden`). Certificate requests also carry the node password
headers, checked against secret kube-system/<node>.node-password.k3s.
"""

import base64
import hashlib
import hmac
import threading
import time

from . import certs, logrus, node_password
from .https_server import Response, json_response, status_response
from .server_state import parse_rfc3339

NODE_NAME_HEADER = "k3s-Node-Name"
NODE_PASSWORD_HEADER = "k3s-Node-Password"
NODE_IP_HEADER = "k3s-Node-IP"

ROLE_AGENT = "k3s:agent"
ROLE_SERVER = "k3s:server"
ROLE_BOOTSTRAP = "system:bootstrappers"
ROLE_NODES = "system:nodes"
AGENT_ROLES = (ROLE_AGENT, ROLE_SERVER, ROLE_BOOTSTRAP, ROLE_NODES)

NODE_PASSWORD_SECRET_TYPE = "k3s.cattle.io/node-password"
BOOTSTRAP_TOKEN_SECRET_TYPE = "bootstrap.kubernetes.io/token"


def node_password_secret_name(node_name):
    return node_name + ".node-password.k3s"


class SupervisorApi:
    """Routes for the supervisor paths of the running ServerRuntime `runtime`."""

    def __init__(self, runtime):
        self.runtime = runtime
        # Node name -> SHA-256 of the last password that passed scrypt verification. It
        # saves a 32 MiB scrypt run on every heartbeat.
        self._verified_passwords = {}
        self._verified_lock = threading.Lock()

    def handles(self, path):
        return path in ("/cacerts", "/ping") or path.startswith("/v1-k3s/")

    def route(self, request):
        if request.path == "/cacerts":
            return Response(200, self.runtime.server_ca_bytes, "text/plain")
        if request.path == "/ping":
            return Response(200, "pong", "text/plain; charset=utf-8")

        endpoint = request.path[len("/v1-k3s/"):]
        handler = {
            "serving-kubelet.crt": self._serving_kubelet_cert,
            "client-kubelet.crt": self._client_kubelet_cert,
            "client-kube-proxy.crt": self._client_kube_proxy_cert,
            "client-k3s-controller.crt": self._client_k3s_controller_cert,
            "client-ca.crt": self._client_ca_cert,
            "server-ca.crt": self._server_ca_cert,
            "config": self._config,
            "apiservers": self._apiservers,
            "readyz": self._readyz,
            "sim/register": self._register_node,
            "sim/heartbeat": self._heartbeat,
        }.get(endpoint)
        if handler is None:
            return status_response(404, "the server could not find the requested resource")

        # The kubelet creates its Node object with its client certificate, so only the
        # configuration and certificate endpoints need the node to exist already.
        roles = self._authenticate(request, require_node=not endpoint.startswith("sim/"))
        if isinstance(roles, Response):
            return roles
        if not any(role in AGENT_ROLES for role in roles):
            return self._error(request, 403, "forbidden")
        return handler(request)

    # --- authentication ---

    def _error(self, request, code, message):
        """Send a Status error and log it, as k3s's SendError helper does."""
        logrus.error("Sending HTTP/1.1 %d response to %s: %s" %
                     (code, request.remote_address, message))
        return status_response(code, message, close=True)

    def _authenticate(self, request, require_node=True):
        """Return the caller's roles, or an error Response."""
        authorization = request.header("Authorization")
        scheme, _, credentials = authorization.partition(" ")
        if scheme.lower() == "basic":
            try:
                username, _, password = base64.b64decode(credentials).decode().partition(":")
            except (ValueError, UnicodeDecodeError):
                username, password = "", ""
            runtime = self.runtime
            accepted = {"node": (runtime.agent_password, runtime.server_password),
                        "server": (runtime.server_password,)}.get(username, ())
            if any(hmac.compare_digest(password, known) for known in accepted if known):
                return [ROLE_AGENT if username == "node" else ROLE_SERVER]
            logrus.error("Failed to authenticate request from %s: "
                         "invalid username/password combination" % request.remote_address)
            return self._error(request, 401, "not authorized")
        if scheme.lower() == "bearer" and self._valid_bootstrap_token(credentials.strip()):
            return [ROLE_BOOTSTRAP]
        if not authorization and self._node_identity_valid(request.client_cert, require_node):
            return [ROLE_NODES]
        return []

    def _node_identity_valid(self, client_cert, require_node):
        """True for a kubelet client certificate (group system:nodes, CN system:node:NAME)
        and, if require_node, only while Node NAME exists: k3s refuses an agent that has
        neither a valid token nor its Node object."""
        subject = _subject(client_cert)
        common_name = subject.get("commonName", [""])[0]
        if ROLE_NODES not in subject.get("organizationName", []):
            return False
        if not common_name.startswith("system:node:"):
            return False
        node_name = common_name[len("system:node:"):]
        return not require_node or self.runtime.state.get_node(node_name) is not None

    def _valid_bootstrap_token(self, bearer):
        token_id, _, token_secret = bearer.partition(".")
        secret = self.runtime.state.get_secret("kube-system", "bootstrap-token-" + token_id)
        if not secret or secret.get("type") != BOOTSTRAP_TOKEN_SECRET_TYPE:
            return False
        data = {key: base64.b64decode(value).decode()
                for key, value in secret.get("data", {}).items()}
        if not hmac.compare_digest(data.get("token-secret", ""), token_secret):
            return False
        if data.get("usage-bootstrap-authentication") != "true":
            return False
        expiration = data.get("expiration")
        if expiration and parse_rfc3339(expiration) <= time.time():
            return False
        return True

    # --- node password ---

    def _check_node_password(self, request, create_missing):
        """Verify the node password headers and return the node name, or an error Response.

        On a first join (no secret yet) and create_missing set, store the password hash in
        kube-system/<node>.node-password.k3s.
        """
        node_name = request.header(NODE_NAME_HEADER)
        password = request.header(NODE_PASSWORD_HEADER)
        if not node_name:
            return self._error(request, 400, "node name not set")
        if not password:
            return self._error(request, 400, "node password not set")
        state = self.runtime.state
        secret = state.get_secret("kube-system", node_password_secret_name(node_name))
        if secret is None:
            if create_missing:
                self.store_node_password(node_name, password)
            return node_name
        password_digest = hashlib.sha256(password.encode()).hexdigest()
        with self._verified_lock:
            if self._verified_passwords.get(node_name) == password_digest:
                return node_name
        stored_hash = base64.b64decode(secret["data"]["hash"]).decode()
        if not node_password.verify_password(password, stored_hash):
            return self._error(request, 403, "unable to verify password for node %s: "
                               "hash does not match" % node_name)
        with self._verified_lock:
            self._verified_passwords[node_name] = password_digest
        return node_name

    def store_node_password(self, node_name, password):
        password_hash = node_password.hash_password(password)
        self.runtime.state.create_secret({
            "metadata": {"name": node_password_secret_name(node_name),
                         "namespace": "kube-system"},
            "immutable": True,
            "type": NODE_PASSWORD_SECRET_TYPE,
            "data": {"hash": base64.b64encode(password_hash.encode()).decode()},
        })

    def forget_verified_password(self, node_name):
        with self._verified_lock:
            self._verified_passwords.pop(node_name, None)

    # --- certificate and config endpoints ---

    def _node_certificate(self, request, client):
        node_name = self._check_node_password(request, create_missing=True)
        if isinstance(node_name, Response):
            return node_name
        runtime = self.runtime
        node_ip = request.header(NODE_IP_HEADER) or request.remote_ip
        if client:
            cert_pem, key_pem = certs.issue_certificate_pem(
                runtime.client_ca_key, runtime.client_ca_cert, "system:node:" + node_name,
                organization="system:nodes", client=True)
            ca_pem = runtime.client_ca_bytes.decode()
        else:
            cert_pem, key_pem = certs.issue_certificate_pem(
                runtime.server_ca_key, runtime.server_ca_cert, node_name,
                dns_names=[node_name, "localhost"], ip_addresses=[node_ip, "127.0.0.1"])
            ca_pem = runtime.server_ca_bytes.decode()
        return Response(200, cert_pem + ca_pem + key_pem, "text/plain")

    def _serving_kubelet_cert(self, request):
        return self._node_certificate(request, client=False)

    def _client_kubelet_cert(self, request):
        return self._node_certificate(request, client=True)

    def _client_component_cert(self, common_name):
        runtime = self.runtime
        cert_pem, key_pem = certs.issue_certificate_pem(
            runtime.client_ca_key, runtime.client_ca_cert, common_name, client=True)
        return Response(200, cert_pem + runtime.client_ca_bytes.decode() + key_pem, "text/plain")

    def _client_kube_proxy_cert(self, request):
        return self._client_component_cert("system:kube-proxy")

    def _client_k3s_controller_cert(self, request):
        return self._client_component_cert("system:k3s-controller")

    def _client_ca_cert(self, request):
        return Response(200, self.runtime.client_ca_bytes, "text/plain")

    def _server_ca_cert(self, request):
        return Response(200, self.runtime.server_ca_bytes, "text/plain")

    def _config(self, request):
        return json_response(200, self.runtime.control_config())

    def _apiservers(self, request):
        return json_response(200, [self.runtime.advertise_address + ":6443"])

    def _readyz(self, request):
        return Response(200, "ok", "text/plain")

    # --- simulation-only node registration and heartbeat ---

    def _register_node(self, request):
        """Create or refresh the agent's Node object (the kubelet does this in real k3s)."""
        if request.method != "POST":
            return status_response(405, "method not allowed")
        node_name = self._check_node_password(request, create_missing=False)
        if isinstance(node_name, Response):
            return node_name
        try:
            report = request.json_body()
        except ValueError as failure:
            return status_response(400, "invalid registration body: %s" % failure)
        created = self.runtime.register_node(node_name, report)
        logrus.info("Handling backend connection request [%s]" % node_name)
        return json_response(201 if created else 200, {"name": node_name})

    def _heartbeat(self, request):
        if request.method != "POST":
            return status_response(405, "method not allowed")
        node_name = self._check_node_password(request, create_missing=False)
        if isinstance(node_name, Response):
            return node_name
        if not self.runtime.state.record_heartbeat(node_name):
            return status_response(404, 'nodes "%s" not found' % node_name,
                                   details={"name": node_name, "kind": "nodes"})
        return json_response(200, {"name": node_name})


def _subject(client_cert):
    """Return the subject of a verified client certificate (getpeercert() form) as a dict
    of attribute name to list of values."""
    subject = {}
    for entry in (client_cert or {}).get("subject", ()):
        for key, value in entry:
            subject.setdefault(key, []).append(value)
    return subject
