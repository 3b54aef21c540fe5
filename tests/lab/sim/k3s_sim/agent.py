"""`k3s agent`: validate the server, fetch configuration and certificates, register, heartbeat.

The order and retry cadence follow k3s. The CA hash in the token is checked against /cacerts
every 2 s until it matches. The agent configuration (/v1-k3s/config, the CA files and the
kubelet certificates that carry the node password) is retried every 5-10 s with jitter.
Then the node registers, listens on 10250/TCP and 8472/UDP, and notifies systemd that it is
ready.
"""

import json
import os
import random
import signal
import socket
import threading
import time
import urllib.parse

from . import cli_flags, hostinfo, logrus, notify, supervisor_client, tokens, version
from .cli_flags import Flag
from .load_balancer import LoadBalancer
from .node_identity import (NODE_PASSWORD_PATH, ensure_node_id, ensure_node_password,
                            node_args_annotation, node_env_annotation, platform_facts)
from .supervisor_client import RequestError

DEFAULT_DATA_DIR = "/var/lib/rancher/k3s"
TOKEN_RETRY_SECONDS = 2
CONFIG_RETRY_SECONDS = 5  # JitterUntil(5s, 1.0): each wait is 5-10 s
HEARTBEAT_SECONDS = 3
HEARTBEAT_LOG_INTERVAL_SECONDS = 30
KUBELET_PORT = 10250
VXLAN_PORT = 8472

AGENT_FLAGS = [
    Flag("server", aliases=("s",), env="K3S_URL"),
    Flag("token", aliases=("t",), env="K3S_TOKEN"),
    Flag("token-file", env="K3S_TOKEN_FILE"),
    Flag("node-name", env="K3S_NODE_NAME"),
    Flag("with-node-id", kind="bool"),
    Flag("node-ip", aliases=("i",)),
    Flag("node-external-ip"),
    Flag("node-label", kind="list"),
    Flag("node-taint", kind="list"),
    Flag("data-dir", aliases=("d",), env="K3S_DATA_DIR", default=DEFAULT_DATA_DIR),
    Flag("lb-server-port", env="K3S_LB_SERVER_PORT", default="6444"),
    Flag("flannel-iface"),
    Flag("kubelet-arg", kind="list"),
    Flag("kube-proxy-arg", kind="list"),
    Flag("resolv-conf", env="K3S_RESOLV_CONF"),
    Flag("pause-image"),
    Flag("snapshotter"),
    Flag("private-registry"),
    Flag("selinux", kind="bool", env="K3S_SELINUX"),
    Flag("protect-kernel-defaults", kind="bool"),
    Flag("disable-apiserver-lb", kind="bool"),
    Flag("debug", kind="bool", env="K3S_DEBUG"),
    Flag("config", aliases=("c",), env="K3S_CONFIG_FILE"),
]


class AgentError(Exception):
    """A failure inside one attempt to get the agent configuration."""


class Agent:
    def __init__(self, options, arguments, token):
        self.options = options
        self.arguments = arguments
        self.token = token
        self.server_url = options["server"]
        self.agent_dir = os.path.join(options["data-dir"], "agent")
        self.stopped = threading.Event()
        self.parsed_token = None
        self.ca_bytes = None
        self.node_name = None
        self.node_ip = None
        self.node_password = None
        # (certificate, key) paths of the kubelet client certificate once the agent
        # authenticates with it instead of the token; None while it uses the token.
        self.node_identity = None
        self._listeners = []

    # --- requests through the load balancer ---

    def _url(self, path):
        return self.load_balancer.local_url + path

    def kubelet_identity(self):
        """Return the kubelet client certificate and key paths, or None before a first join."""
        cert = os.path.join(self.agent_dir, "client-kubelet.crt")
        key = os.path.join(self.agent_dir, "client-kubelet.key")
        return (cert, key) if os.path.exists(cert) and os.path.exists(key) else None

    def _context(self):
        context = supervisor_client.context_trusting(self.ca_bytes)
        if self.node_identity:
            context.load_cert_chain(*self.node_identity)
        return context

    def _credentials(self):
        if self.node_identity:
            return {}
        if self.parsed_token.is_bootstrap:
            return {"bearer": "%s.%s" % (self.parsed_token.bootstrap_id,
                                         self.parsed_token.bootstrap_secret)}
        # Agents always authenticate as user `node`, whatever username the token holds.
        return {"username": "node", "password": self.parsed_token.password}

    def _node_headers(self):
        return {"k3s-Node-Name": self.node_name, "k3s-Node-Password": self.node_password,
                "k3s-Node-IP": self.node_ip}

    def _get(self, path):
        """GET an authenticated supervisor path, raising RequestError with k3s's message."""
        url = self._url(path)
        response = supervisor_client.request("GET", url, self._context(), **self._credentials())
        if response.status != 200:
            error = RequestError(response.error_message() or "%s: %s" %
                                 (url, response.status_text))
            error.status = response.status
            raise error
        return response.body

    def _node_request(self, method, path, body=None):
        url = self._url(path)
        response = supervisor_client.request(
            method, url, self._context(), body=body, headers=self._node_headers(),
            **self._credentials())
        return url, response

    # --- step 1: token and cluster CA ---

    def validate_token(self):
        """Parse the token and check its CA hash against /cacerts, raising on failure."""
        self.parsed_token = tokens.parse_token(self.token)
        cacerts_url = self._url("/cacerts")
        try:
            supervisor_client.request("GET", cacerts_url, supervisor_client.system_context())
            logrus.warning("Cluster CA certificate is trusted by the host CA bundle. "
                           "Token CA hash will not be validated.")
            return
        except RequestError:
            pass  # expected: the cluster CA is self-signed
        try:
            response = supervisor_client.request("GET", cacerts_url,
                                                 supervisor_client.insecure_context())
        except RequestError as failure:
            raise RequestError("failed to get CA certs: %s" % failure)
        if response.status != 200:
            raise RequestError("failed to get CA certs: %s: %s" %
                               (cacerts_url, response.status_text))
        ca_bytes = response.body
        try:
            supervisor_client.request("GET", cacerts_url,
                                      supervisor_client.context_trusting(ca_bytes))
        except (RequestError, ValueError) as failure:
            raise RequestError("CA cert validation failed: %s" % failure)
        server_hash = tokens.hash_ca(ca_bytes)
        if not self.parsed_token.ca_hash:
            logrus.warning("Cluster CA certificate is not trusted by the host CA bundle, but "
                           "the token does not include a CA hash. Use the full token from the "
                           "server's node-token file to enable Cluster CA validation.")
        elif self.parsed_token.ca_hash != server_hash:
            raise RequestError("token CA hash does not match the Cluster CA certificate "
                               "hash: %s != %s" % (self.parsed_token.ca_hash, server_hash))
        self.ca_bytes = ca_bytes

    def wait_for_valid_token(self):
        while not self.stopped.is_set():
            try:
                self.validate_token()
                return True
            except (tokens.TokenError, RequestError) as failure:
                logrus.error("Failed to validate connection to cluster at %s: %s" %
                             (self.server_url, failure))
            self.stopped.wait(TOKEN_RETRY_SECONDS)
        return False

    # --- step 2: agent configuration and kubelet certificates ---

    def _write_agent_file(self, name, data):
        path = os.path.join(self.agent_dir, name)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as agent_file:
            agent_file.write(data)

    def _fetch_node_certificate(self, name):
        url, response = self._node_request("POST", "/v1-k3s/" + name)
        if response.status == 403:
            raise RequestError("%s: Node password rejected, duplicate hostname or contents of "
                               "'%s' may not match server node-passwd entry, try enabling a "
                               "unique node name with the --with-node-id flag" %
                               (url, NODE_PASSWORD_PATH))
        if response.status != 200:
            raise RequestError("%s: %s" % (url, response.status_text))
        certificates, key = _split_pem(response.body)
        base = name[:-len(".crt")]
        self._write_agent_file(name, certificates)
        self._write_agent_file(base + ".key", key)

    def get_config(self):
        """Run one attempt of k3s's config.get(), raising on failure."""
        self.validate_token()
        try:
            control_config = json.loads(self._get("/v1-k3s/config"))
        except RequestError as failure:
            identity = self.kubelet_identity()
            if self.node_identity or not identity or getattr(failure, "status", 0) not in (
                    401, 403):
                raise RequestError("failed to retrieve configuration from server: %s" % failure)
            # A joined agent whose token was deleted or expired goes on with its node
            # identity, as k3s allows (docs/adrs/agent-join-token.md).
            logrus.info("Join token rejected; authenticating with the kubelet client "
                        "certificate")
            self.node_identity = identity
            try:
                control_config = json.loads(self._get("/v1-k3s/config"))
            except RequestError as retry_failure:
                self.node_identity = None
                raise RequestError("failed to retrieve configuration from server: %s" %
                                   retry_failure)
        self._write_agent_file("client-ca.crt", self._get("/v1-k3s/client-ca.crt"))
        self._write_agent_file("server-ca.crt", self._get("/v1-k3s/server-ca.crt"))

        node_name = (self.options["node-name"] or hostinfo.hostname()).lower()
        self.node_ip = self.options["node-ip"] or hostinfo.primary_ipv4_address()
        self.node_password = ensure_node_password()
        if self.options["with-node-id"]:
            node_name += "-" + ensure_node_id()
        self.node_name = node_name
        self._fetch_node_certificate("serving-kubelet.crt")
        self._fetch_node_certificate("client-kubelet.crt")
        return control_config

    def wait_for_config(self):
        while not self.stopped.is_set():
            try:
                return self.get_config()
            except (tokens.TokenError, RequestError, ValueError) as failure:
                logrus.info("Waiting to retrieve agent configuration; server is not ready: %s" %
                            failure)
            self.stopped.wait(CONFIG_RETRY_SECONDS * (1 + random.random()))
        return None

    # --- step 3: kubelet and flannel stand-ins ---

    def open_listeners(self):
        """Listen on 10250/TCP (kubelet) at the node IP and 8472/UDP (VXLAN) on all addresses."""
        family = socket.AF_INET6 if ":" in self.node_ip else socket.AF_INET
        kubelet = socket.socket(family, socket.SOCK_STREAM)
        kubelet.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            kubelet.bind((self.node_ip, KUBELET_PORT))
        except OSError as failure:
            kubelet.close()
            # NOTE: a real kubelet binds 0.0.0.0, but the simulation binds the node IP, so a
            # --node-ip that the host lacks fails here rather than later in flannel.
            raise AgentError("failed to run Kubelet: listen tcp %s:%d: bind: %s" %
                             (self.node_ip, KUBELET_PORT,
                              (failure.strerror or str(failure)).lower()))
        kubelet.listen(16)
        self._listeners.append(kubelet)
        threading.Thread(target=_accept_and_close, args=(kubelet,), daemon=True).start()

        vxlan = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            vxlan.bind(("0.0.0.0", VXLAN_PORT))
        except OSError as failure:
            vxlan.close()
            raise AgentError("flannel exited: listen udp 0.0.0.0:%d: bind: %s" %
                             (VXLAN_PORT, (failure.strerror or str(failure)).lower()))
        self._listeners.append(vxlan)
        threading.Thread(target=_drain_datagrams, args=(vxlan,), daemon=True).start()

    # --- step 4: registration and heartbeats ---

    def _registration(self):
        labels = {}
        for pair in self.options["node-label"]:
            key, _, value = pair.partition("=")
            labels[key] = value
        report = dict(platform_facts())
        report.update({
            "internal_ip": self.node_ip,
            "hostname": hostinfo.hostname(),
            "version": version.kubelet_version(),
            "labels": labels,
            "annotations": {
                "k3s.io/hostname": hostinfo.hostname(),
                "k3s.io/internal-ip": self.node_ip,
                "k3s.io/node-args": node_args_annotation(["agent"] + self.arguments),
                "k3s.io/node-env": node_env_annotation(),
            },
        })
        return json.dumps(report).encode()

    def register(self):
        """Create the Node object, retrying every 5 s like the kubelet's registration loop."""
        while not self.stopped.is_set():
            try:
                url, response = self._node_request("POST", "/v1-k3s/sim/register",
                                                   self._registration())
                if response.status in (200, 201):
                    logrus.info("Annotations and labels have been set successfully on node: "
                                "%s" % self.node_name)
                    return True
                error = response.error_message() or "%s: %s" % (url, response.status_text)
            except RequestError as failure:
                error = str(failure)
            logrus.info("Waiting for node %s to be registered: %s" % (self.node_name, error))
            self.stopped.wait(CONFIG_RETRY_SECONDS)
        return False

    def heartbeat_loop(self):
        last_error, last_logged = None, 0.0
        while not self.stopped.wait(HEARTBEAT_SECONDS):
            try:
                url, response = self._node_request("POST", "/v1-k3s/sim/heartbeat")
                error = None if response.status == 200 else (
                    response.error_message() or "%s: %s" % (url, response.status_text))
            except RequestError as failure:
                error = str(failure)
            now = time.time()
            if error and (error != last_error or now - last_logged >= HEARTBEAT_LOG_INTERVAL_SECONDS):
                # The kubelet logs this through klog. Repeats are rate-limited here.
                logrus.error('Error updating node status, will retry: error getting node "%s": %s'
                             % (self.node_name, error))
                last_logged = now
            elif last_error and not error:
                logrus.info("Node status of %s is being posted again" % self.node_name)
            last_error = error

    def stop(self):
        self.stopped.set()
        for listener in self._listeners:
            listener.close()
        self.load_balancer.close()


def _accept_and_close(listener):
    while True:
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        connection.close()


def _drain_datagrams(udp_socket):
    while True:
        try:
            udp_socket.recv(65536)
        except OSError:
            return


def _split_pem(data):
    """Split a PEM bundle into (certificates, private key) as k3s's splitCertKeyPEM does."""
    certificates, key = [], []
    block = []
    for line in data.decode().splitlines(keepends=True):
        block.append(line)
        if line.startswith("-----END "):
            (key if "PRIVATE KEY" in line else certificates).append("".join(block))
            block = []
    return "".join(certificates).encode(), "".join(key).encode()


def _read_token_file(path):
    try:
        with open(path) as token_file:
            return token_file.read().strip()
    except OSError as failure:
        logrus.fatal("open %s: %s" % (path, (failure.strerror or str(failure)).lower()))


def run(arguments):
    options, _ = cli_flags.parse_or_exit(AGENT_FLAGS, arguments)
    token = options["token"] or ""
    if options["token-file"]:
        token = _read_token_file(options["token-file"])
    if not token:
        logrus.fatal("--token is required")
    if not options["server"]:
        logrus.fatal("--server is required")
    logrus.info("Starting k3s agent %s (%s)" % (version.VERSION, version.COMMIT))

    server_url = options["server"]
    parsed_url = urllib.parse.urlsplit(server_url)
    if parsed_url.scheme != "https":
        logrus.fatal("only https:// URLs are supported, invalid scheme: %s" % server_url)
    agent = Agent(options, arguments, token)
    os.makedirs(agent.agent_dir, mode=0o700, exist_ok=True)
    try:
        agent.load_balancer = LoadBalancer(parsed_url.hostname, parsed_url.port or 443,
                                           int(options["lb-server-port"]))
        agent.load_balancer.start()
    except (OSError, ValueError) as failure:
        logrus.fatal("listen tcp 127.0.0.1:%s: bind: %s" %
                     (options["lb-server-port"], getattr(failure, "strerror", None) or failure))

    def request_stop(signal_number, _frame):
        agent.stopped.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    if not agent.wait_for_valid_token():
        return 0
    if agent.wait_for_config() is None:
        return 0
    # From here the kubelet authenticates with its client certificate, as k3s's kubelet does
    # with kubelet.kubeconfig, so the join token is no longer needed.
    agent.node_identity = agent.kubelet_identity()
    logrus.info("Running kubelet --address=0.0.0.0 --hostname-override=%s --node-ip=%s "
                "--kubeconfig=%s" % (agent.node_name, agent.node_ip,
                                     os.path.join(agent.agent_dir, "kubelet.kubeconfig")))
    try:
        agent.open_listeners()
    except AgentError as failure:
        logrus.fatal(str(failure))
    logrus.info('Connecting to proxy url="wss://%s/v1-k3s/connect"' %
                agent.load_balancer.server_address)
    if not agent.register():
        return 0
    logrus.info("Starting flannel with backend vxlan")
    # k3s logs this line and notifies only when started by systemd (NOTIFY_SOCKET set).
    if os.environ.get("NOTIFY_SOCKET"):
        logrus.info("k3s agent is up and running")
        notify.notify("READY=1")
    heartbeats = threading.Thread(target=agent.heartbeat_loop, name="heartbeat", daemon=True)
    heartbeats.start()
    while not agent.stopped.wait(3600):
        pass
    agent.stop()
    return 0
