"""`k3s server`: certificates, token, kubeconfig, cluster state and the HTTPS listener."""

import os
import signal
import socket
import threading
import time

from . import (certs, cli_flags, hostinfo, kubeconfig, logrus, node_objects, notify, tokens,
               version)
from .cli_flags import Flag
from .https_server import HttpsServer, make_server_context, serve_forever_in_thread
from .kube_api import KubeApi
from .node_identity import (ensure_node_password, node_args_annotation, node_env_annotation,
                            platform_facts)
from .server_state import ClusterState
from .supervisor_api import SupervisorApi

DEFAULT_DATA_DIR = "/var/lib/rancher/k3s"
SUPERVISOR_PORT = 6443
TOKEN_CLEANER_INTERVAL_SECONDS = 5

SERVER_FLAGS = [
    Flag("data-dir", aliases=("d",), env="K3S_DATA_DIR", default=DEFAULT_DATA_DIR),
    Flag("token", aliases=("t",), env="K3S_TOKEN"),
    Flag("agent-token", env="K3S_AGENT_TOKEN"),
    Flag("node-name", env="K3S_NODE_NAME"),
    Flag("node-ip", aliases=("i",)),
    Flag("node-label", kind="list"),
    Flag("node-taint", kind="list"),
    Flag("tls-san", kind="list"),
    Flag("advertise-address"),
    Flag("bind-address"),
    Flag("https-listen-port", default=str(SUPERVISOR_PORT)),
    Flag("write-kubeconfig", aliases=("o",), env="K3S_KUBECONFIG_OUTPUT",
         default=kubeconfig.DEFAULT_PATH),
    Flag("write-kubeconfig-mode", env="K3S_KUBECONFIG_MODE"),
    Flag("disable", kind="list"),
    Flag("flannel-backend"),
    Flag("cluster-init", kind="bool"),
    Flag("debug", kind="bool", env="K3S_DEBUG"),
]


def _float_setting(name, default):
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        logrus.warning("Ignoring invalid %s=%r; using %s" % (name, os.environ[name], default))
        return float(default)


class ServerRuntime:
    """Everything the HTTP handlers need from the running server."""

    def __init__(self, options, arguments):
        self.options = options
        self.arguments = arguments
        self.data_dir = options["data-dir"]
        self.server_dir = os.path.join(self.data_dir, "server")
        self.tls_dir = os.path.join(self.server_dir, "tls")
        self.node_name = (options["node-name"] or hostinfo.hostname()).lower()
        self.host_addresses = hostinfo.global_ipv4_addresses()
        self.node_ip = options["node-ip"] or (self.host_addresses[0] if self.host_addresses
                                              else "127.0.0.1")
        self.advertise_address = options["advertise-address"] or self.node_ip
        self.ready_delay = _float_setting("K3S_SIM_READY_DELAY", 3)
        self.node_grace = _float_setting("K3S_SIM_NODE_GRACE", 40)
        self.server_password = ""
        self.agent_password = ""
        self.state = None
        self.supervisor = SupervisorApi(self)
        self.kube = KubeApi(self)

    # --- paths ---

    def tls_path(self, name):
        return os.path.join(self.tls_dir, name)

    @property
    def server_ca_cert(self):
        return self.tls_path("server-ca.crt")

    @property
    def server_ca_key(self):
        return self.tls_path("server-ca.key")

    @property
    def client_ca_cert(self):
        return self.tls_path("client-ca.crt")

    @property
    def client_ca_key(self):
        return self.tls_path("client-ca.key")

    # --- first-start setup ---

    def prepare_directories(self):
        for directory in (self.data_dir, self.server_dir, self.tls_dir):
            os.makedirs(directory, mode=0o700, exist_ok=True)
            os.chmod(directory, 0o700)

    def prepare_certificates(self):
        certs.create_ca(self.server_ca_key, self.server_ca_cert, "server")
        certs.create_ca(self.client_ca_key, self.client_ca_cert, "client")
        with open(self.server_ca_cert, "rb") as ca_file:
            self.server_ca_bytes = ca_file.read()
        with open(self.client_ca_cert, "rb") as ca_file:
            self.client_ca_bytes = ca_file.read()

        hostname = hostinfo.hostname()
        dns_names = ["kubernetes", "kubernetes.default", "kubernetes.default.svc",
                     "kubernetes.default.svc.cluster.local", "localhost", hostname]
        dns_names += [san for san in self.options["tls-san"] if not _is_ipv4(san)]
        ip_addresses = ["127.0.0.1", "10.43.0.1", self.node_ip] + self.host_addresses
        # IPv6 lab: agents reach the server by its IPv6 address, which k3s also puts in the
        # serving certificate.
        ip_addresses += hostinfo.global_ipv6_addresses()
        ip_addresses += [san for san in self.options["tls-san"] if _is_ipv4(san)]
        ip_addresses = list(dict.fromkeys(ip_addresses))
        serving_cert = self.tls_path("serving-kube-apiserver.crt")
        serving_key = self.tls_path("serving-kube-apiserver.key")
        present = certs.certificate_alt_names(serving_cert) if os.path.exists(serving_cert) \
            else set()
        wanted = {"DNS:" + name for name in dns_names} | \
            {"IP Address:" + ip for ip in ip_addresses}
        # k3s's listener adds SANs for new addresses at run time. The simulation reissues
        # the serving certificate at start instead. The CA, and so the token, stay the same.
        if not wanted <= present:
            certs.issue_certificate(self.server_ca_key, self.server_ca_cert, serving_key,
                                    serving_cert, "k3s", organization="k3s",
                                    dns_names=dns_names, ip_addresses=ip_addresses)
        self.serving_cert = serving_cert
        self.serving_key = serving_key

        admin_cert = self.tls_path("client-admin.crt")
        admin_key = self.tls_path("client-admin.key")
        if not os.path.exists(admin_cert):
            certs.issue_certificate(self.client_ca_key, self.client_ca_cert, admin_key,
                                    admin_cert, "system:admin", organization="system:masters",
                                    client=True)
        self.admin_cert = admin_cert
        self.admin_key = admin_key

    def prepare_token(self):
        """Read the server password from the token file, writing the file on first start."""
        token_path = os.path.join(self.server_dir, "token")
        ca_hash = tokens.hash_ca(self.server_ca_bytes)
        password = None
        if os.path.exists(token_path):
            with open(token_path) as token_file:
                password = tokens.parse_token(token_file.read()).password
        elif self.options["token"]:
            password = tokens.parse_token(self.options["token"]).password
        if not password:
            password = tokens.random_password()
        self.server_password = password
        descriptor = os.open(token_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as token_file:
            token_file.write(tokens.format_token(ca_hash, "server:" + password) + "\n")
        os.chmod(token_path, 0o600)
        # Like k3s, agent-token is a link to the server token unless --agent-token is set.
        # Then it is a file of its own with user `node`, which joins agents but not servers.
        self.agent_password = password
        if self.options["agent-token"]:
            self.agent_password = tokens.parse_token(self.options["agent-token"]).password
        for link_name in ("node-token", "agent-token"):
            link_path = os.path.join(self.server_dir, link_name)
            if os.path.islink(link_path) or os.path.exists(link_path):
                os.remove(link_path)
            if link_name == "agent-token" and self.agent_password != password:
                descriptor = os.open(link_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with os.fdopen(descriptor, "w") as token_file:
                    token_file.write(tokens.format_token(ca_hash, "node:" + self.agent_password)
                                     + "\n")
            else:
                os.symlink(token_path, link_path)
        self.token_path = token_path

    def write_kubeconfig(self):
        with open(self.admin_cert, "rb") as cert_file, open(self.admin_key, "rb") as key_file:
            cert_bytes, key_bytes = cert_file.read(), key_file.read()
        mode = int(self.options["write-kubeconfig-mode"] or "600", 8)
        port = self.options["https-listen-port"]
        kubeconfig.write(self.options["write-kubeconfig"], "https://127.0.0.1:%s" % port,
                         self.server_ca_bytes, cert_bytes, key_bytes, mode)

    # --- nodes ---

    def register_own_node(self):
        password = ensure_node_password()
        if self.state.get_secret("kube-system", self.node_name + ".node-password.k3s") is None:
            self.supervisor.store_node_password(self.node_name, password)
        logrus.info("Password verified locally for node %s" % self.node_name)
        labels = {"node-role.kubernetes.io/control-plane": "true",
                  "node-role.kubernetes.io/master": "true"}
        labels.update(_parse_labels(self.options["node-label"]))
        report = dict(platform_facts())
        report.update({
            "internal_ip": self.node_ip,
            "hostname": hostinfo.hostname(),
            "version": version.kubelet_version(),
            "labels": labels,
            "annotations": {
                "k3s.io/hostname": hostinfo.hostname(),
                "k3s.io/internal-ip": self.node_ip,
                "k3s.io/node-args": node_args_annotation(["server"] + self.arguments),
                "k3s.io/node-env": node_env_annotation(),
            },
        })
        # The server's own kubelet is Ready once the server serves, so no delay applies.
        record, _ = self.state.register_node(self.node_name,
                                             self._node_fields(self.node_name, report), 0,
                                             self.node_grace)
        return record

    def _node_fields(self, node_name, report):
        labels = {
            "beta.kubernetes.io/arch": "amd64",
            "beta.kubernetes.io/instance-type": "k3s",
            "beta.kubernetes.io/os": "linux",
            "kubernetes.io/arch": "amd64",
            "kubernetes.io/hostname": node_name,
            "kubernetes.io/os": "linux",
            "node.kubernetes.io/instance-type": "k3s",
        }
        labels.update(report.get("labels", {}))
        annotations = {
            "alpha.kubernetes.io/provided-node-ip": report.get("internal_ip", ""),
            "flannel.alpha.coreos.com/backend-type": "vxlan",
            "flannel.alpha.coreos.com/kube-subnet-manager": "true",
            "flannel.alpha.coreos.com/public-ip": report.get("internal_ip", ""),
            "node.alpha.kubernetes.io/ttl": "0",
            "volumes.kubernetes.io/controller-managed-attach-detach": "true",
        }
        annotations.update(report.get("annotations", {}))
        return {
            "internal_ip": report.get("internal_ip", ""),
            "hostname": report.get("hostname", ""),
            "version": report.get("version", ""),
            "kernel_version": report.get("kernel_version", ""),
            "os_image": report.get("os_image", node_objects.OS_IMAGE),
            "labels": labels,
            "annotations": annotations,
        }

    def register_node(self, node_name, report):
        """Store an agent's registration and return True when the node is new."""
        fields = self._node_fields(node_name, report)
        _, created = self.state.register_node(node_name, fields, self.ready_delay,
                                              self.node_grace)
        return created

    def node_object(self, record, now=None):
        now = now or time.time()
        if record["name"] == self.node_name:
            record = dict(record, last_heartbeat=now)  # the server posts its own status
        return node_objects.node_object(record, self.node_grace, now)

    def forget_node(self, node_name):
        self.supervisor.forget_verified_password(node_name)

    def forget_node_password(self, node_name):
        self.supervisor.forget_verified_password(node_name)

    def control_config(self):
        """Return the part of the control config that /v1-k3s/config sends to agents."""
        return {
            "ClusterDomain": "cluster.local",
            "ClusterDNS": "10.43.0.10",
            "ClusterIPRange": "10.42.0.0/16",
            "ServiceIPRange": "10.43.0.0/16",
            "FlannelBackend": "vxlan",
            "SupervisorPort": int(self.options["https-listen-port"]),
            "HTTPSPort": int(self.options["https-listen-port"]),
            "Version": version.VERSION,
        }

    # --- HTTP routing ---

    def route(self, request):
        if self.supervisor.handles(request.path):
            return self.supervisor.route(request)
        return self.kube.route(request)


class DualStackHttpsServer(HttpsServer):
    """HttpsServer on "::" that accepts IPv4 too, as k3s listens on a host with IPv6."""

    address_family = socket.AF_INET6

    def server_bind(self):
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        super().server_bind()


def _is_ipv4(text):
    try:
        socket.inet_aton(text)
    except OSError:
        return False
    return text.count(".") == 3


def _parse_labels(pairs):
    labels = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        labels[key] = value
    return labels


def _log_join_instructions(runtime):
    server_url = "https://%s:%s" % (runtime.advertise_address,
                                    runtime.options["https-listen-port"])
    logrus.info("Server node token is available at %s" % runtime.token_path)
    logrus.info("To join server node to cluster: k3s server -s %s -t ${SERVER_NODE_TOKEN}" %
                server_url)
    logrus.info("Agent node token is available at %s" %
                os.path.join(runtime.server_dir, "agent-token"))
    logrus.info("To join agent node to cluster: k3s agent -s %s -t ${AGENT_NODE_TOKEN}" %
                server_url)
    logrus.info("Wrote kubeconfig %s" % runtime.options["write-kubeconfig"])
    logrus.info("Run: k3s kubectl")


def _clean_expired_tokens(state, stopped):
    while not stopped.wait(TOKEN_CLEANER_INTERVAL_SECONDS):
        for name in state.delete_expired_bootstrap_tokens():
            logrus.info("Deleted expired bootstrap token secret kube-system/%s" % name)


def run(arguments):
    options, _ = cli_flags.parse_or_exit(SERVER_FLAGS, arguments)
    logrus.info("Starting k3s %s (%s)" % (version.VERSION, version.COMMIT))
    runtime = ServerRuntime(options, arguments)
    runtime.prepare_directories()
    logrus.info("Configuring sqlite3 database connection pooling: maxIdleConns=2, "
                "maxOpenConns=0, connMaxLifetime=0s")
    logrus.info("Database tables and indexes are up to date")
    logrus.info("Kine available at unix://kine.sock")
    try:
        runtime.prepare_certificates()
        runtime.prepare_token()
    except (certs.CertificateError, tokens.TokenError, OSError) as failure:
        logrus.fatal("starting kubernetes: preparing server: %s" % failure)
    runtime.state = ClusterState(runtime.server_dir)
    if runtime.state.resource_version() == "1":
        runtime.state.create_secret({"metadata": {"name": "k3s-serving",
                                                  "namespace": "kube-system"},
                                     "type": "kubernetes.io/tls",
                                     "data": {"tls.crt": "", "tls.key": ""}})
    runtime.cluster_created = os.stat(runtime.server_ca_cert).st_mtime
    runtime.register_own_node()
    logrus.info("Tunnel server egress proxy mode: agent")

    port = int(options["https-listen-port"])
    context = make_server_context(runtime.serving_cert, runtime.serving_key,
                                  runtime.client_ca_cert)
    try:
        if not options["bind-address"] and hostinfo.global_ipv6_addresses():
            server = DualStackHttpsServer(("::", port), context, runtime.route)
        else:
            server = HttpsServer((options["bind-address"] or "0.0.0.0", port), context,
                                 runtime.route)
    except OSError as failure:
        logrus.fatal("starting kubernetes: preparing server: listen tcp 0.0.0.0:%d: %s" %
                     (port, failure.strerror))
    serve_forever_in_thread(server)

    runtime.write_kubeconfig()
    _log_join_instructions(runtime)
    logrus.info("k3s is up and running")
    notify.notify("READY=1")

    stopped = threading.Event()
    threading.Thread(target=_clean_expired_tokens, args=(runtime.state, stopped),
                     name="token-cleaner", daemon=True).start()

    def request_stop(signal_number, _frame):
        logrus.info("Received %s signal, shutting down" % signal.Signals(signal_number).name)
        stopped.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    while not stopped.wait(3600):
        pass
    server.server_close()
    return 0
