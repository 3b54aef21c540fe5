"""The kubeconfig k3s writes for the admin user, and a reader for its credentials."""

import base64
import os
import re

DEFAULT_PATH = "/etc/rancher/k3s/k3s.yaml"

TEMPLATE = """apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: {ca}
    server: {server}
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {{}}
users:
- name: default
  user:
    client-certificate-data: {cert}
    client-key-data: {key}
"""


def _encode(data):
    return base64.b64encode(data).decode()


def write(path, server_url, ca_bytes, cert_bytes, key_bytes, mode=0o600):
    os.makedirs(os.path.dirname(path), mode=0o755, exist_ok=True)
    text = TEMPLATE.format(ca=_encode(ca_bytes), server=server_url, cert=_encode(cert_bytes),
                           key=_encode(key_bytes))
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(descriptor, "w") as kubeconfig:
        kubeconfig.write(text)
    os.chmod(path, mode)


class AdminCredentials:
    def __init__(self, server_url, ca_pem, cert_pem, key_pem):
        self.server_url = server_url
        self.ca_pem = ca_pem
        self.cert_pem = cert_pem
        self.key_pem = key_pem


def read(path=DEFAULT_PATH):
    """Read the server URL and admin credentials from a kubeconfig written by write()."""
    with open(path) as kubeconfig:
        text = kubeconfig.read()

    def field(name):
        match = re.search(r"^\s*%s:\s*(\S+)\s*$" % re.escape(name), text, re.MULTILINE)
        if not match:
            raise ValueError("%s has no %s" % (path, name))
        return match.group(1)

    return AdminCredentials(field("server"),
                            base64.b64decode(field("certificate-authority-data")),
                            base64.b64decode(field("client-certificate-data")),
                            base64.b64decode(field("client-key-data")))
