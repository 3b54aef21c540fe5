"""`k3s token create|delete|list`: bootstrap tokens stored as kube-system secrets.

Like k3s, the command talks to the apiserver with the admin kubeconfig. A token is the secret
`bootstrap-token-<id>` of type bootstrap.kubernetes.io/token; the server accepts it as a
bearer token on the supervisor endpoints until its expiration.
"""

import base64
import http.client
import json
import os
import re
import ssl
import sys
import tempfile
import time
import urllib.parse

from . import cli_flags, kubeconfig, tokens
from .cli_flags import Flag
from .node_objects import human_duration
from .server_state import parse_rfc3339, rfc3339

DEFAULT_TTL = "24h0m0s"
DEFAULT_GROUPS = "system:bootstrappers:k3s:default-node-token"
SERVER_CA_PATH = "/var/lib/rancher/k3s/server/tls/server-ca.crt"
SECRETS_PATH = "/api/v1/namespaces/kube-system/secrets"

TOKEN_FLAGS = [
    Flag("ttl", default=DEFAULT_TTL),
    Flag("description"),
    Flag("groups", kind="list"),
    Flag("usages", kind="list"),
    Flag("kubeconfig", env="KUBECONFIG", default=kubeconfig.DEFAULT_PATH),
    Flag("data-dir", aliases=("d",)),
    Flag("output", aliases=("o",)),
]


class TokenCommandError(Exception):
    pass


def parse_go_duration(text):
    """Parse a Go duration such as `1h`, `30m`, `24h0m0s` or `0` into seconds."""
    if text.strip() == "0":
        return 0
    parts = re.findall(r"(\d+(?:\.\d+)?)(h|m|s|ms)", text)
    if not parts or "".join(number + unit for number, unit in parts) != text.strip():
        raise TokenCommandError('invalid duration "%s"' % text)
    factors = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    return sum(float(number) * factors[unit] for number, unit in parts)


class ApiClient:
    """Minimal Kubernetes API client using the admin kubeconfig's client certificate."""

    def __init__(self, kubeconfig_path):
        credentials = kubeconfig.read(kubeconfig_path)
        parsed = urllib.parse.urlsplit(credentials.server_url)
        self.host, self.port = parsed.hostname, parsed.port or 443
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self.context.load_verify_locations(cadata=credentials.ca_pem.decode())
        with tempfile.TemporaryDirectory(prefix="k3s-token-") as scratch:
            cert_path = os.path.join(scratch, "client.crt")
            key_path = os.path.join(scratch, "client.key")
            with open(cert_path, "wb") as cert_file:
                cert_file.write(credentials.cert_pem)
            descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT, 0o600)
            with os.fdopen(descriptor, "wb") as key_file:
                key_file.write(credentials.key_pem)
            self.context.load_cert_chain(cert_path, key_path)

    def call(self, method, path, document=None):
        connection = http.client.HTTPSConnection(self.host, self.port, context=self.context,
                                                 timeout=10)
        body = json.dumps(document) if document is not None else None
        try:
            connection.request(method, path, body=body,
                               headers={"Content-Type": "application/json",
                                        "Accept": "application/json"})
            response = connection.getresponse()
            payload = response.read()
        except (OSError, http.client.HTTPException) as failure:
            raise TokenCommandError("%s https://%s:%d%s: %s" %
                                    (method, self.host, self.port, path, failure))
        finally:
            connection.close()
        result = json.loads(payload.decode() or "{}")
        return response.status, result


def _ca_hash():
    with open(SERVER_CA_PATH, "rb") as ca_file:
        return tokens.hash_ca(ca_file.read())


def _encode(text):
    return base64.b64encode(text.encode()).decode()


def create(client, options, positional):
    if positional:
        match = tokens.BOOTSTRAP_TOKEN_PATTERN.match(positional[0])
        if not match:
            raise TokenCommandError("token [%s] was not of form [a-z0-9]{6}.[a-z0-9]{16}" %
                                    positional[0])
        token_id, token_secret = match.group(1), match.group(2)
    else:
        token_id, token_secret = tokens.random_bootstrap_token()
    ttl = parse_go_duration(options["ttl"])
    groups = ",".join(options["groups"]) or DEFAULT_GROUPS
    usages = ",".join(options["usages"]) or "signing,authentication"
    data = {"token-id": _encode(token_id), "token-secret": _encode(token_secret),
            "auth-extra-groups": _encode(groups)}
    for usage in usages.split(","):
        data["usage-bootstrap-" + usage.strip()] = _encode("true")
    if ttl:
        data["expiration"] = _encode(rfc3339(time.time() + ttl))
    if options["description"]:
        data["description"] = _encode(options["description"])
    status, result = client.call("POST", SECRETS_PATH, {
        "metadata": {"name": "bootstrap-token-" + token_id, "namespace": "kube-system"},
        "type": "bootstrap.kubernetes.io/token",
        "data": data,
    })
    if status != 201:
        raise TokenCommandError(result.get("message", "HTTP %d" % status))
    print(tokens.format_token(_ca_hash(), "%s.%s" % (token_id, token_secret)))


def delete(client, positional):
    if not positional:
        raise TokenCommandError("missing subcommand-specific argument: token ID")
    for token in positional:
        token_id = token.split(".")[0]
        status, result = client.call("DELETE", "%s/bootstrap-token-%s" % (SECRETS_PATH,
                                                                          token_id))
        if status != 200:
            raise TokenCommandError("bootstrap token \"%s\" not found" % token_id
                                    if status == 404 else result.get("message", ""))
        print("bootstrap token %s deleted" % token_id)


def list_tokens(client):
    status, result = client.call("GET", SECRETS_PATH)
    if status != 200:
        raise TokenCommandError(result.get("message", "HTTP %d" % status))
    print("%-24s%-12s%-22s%-25s%-15s%s" % ("TOKEN", "TTL", "EXPIRES", "USAGES", "DESCRIPTION",
                                            "EXTRA GROUPS"))
    for secret in result.get("items", []):
        if secret.get("type") != "bootstrap.kubernetes.io/token":
            continue
        data = {key: base64.b64decode(value).decode()
                for key, value in secret.get("data", {}).items()}
        expiration = data.get("expiration", "")
        ttl = "<forever>"
        if expiration:
            remaining = parse_rfc3339(expiration) - time.time()
            ttl = "<invalid>" if remaining < 0 else human_duration(remaining)
        usages = ",".join(sorted(key[len("usage-bootstrap-"):] for key, value in data.items()
                                 if key.startswith("usage-bootstrap-") and value == "true"))
        print("%-24s%-12s%-22s%-25s%-15s%s" % (
            data.get("token-id", "") + ".<redacted>", ttl, expiration or "<never>", usages,
            data.get("description", "<none>"), data.get("auth-extra-groups", "")))


def run(arguments):
    if not arguments or arguments[0] not in ("create", "delete", "list", "generate"):
        sys.stderr.write("usage: k3s token create [--ttl DURATION] [TOKEN] | delete ID | list"
                         " | generate\n")
        return 1
    subcommand = arguments[0]
    options, positional = cli_flags.parse_or_exit(TOKEN_FLAGS, arguments[1:])
    try:
        if subcommand == "generate":
            print("%s.%s" % tokens.random_bootstrap_token())
            return 0
        client = ApiClient(options["kubeconfig"])
        if subcommand == "create":
            create(client, options, positional)
        elif subcommand == "delete":
            delete(client, positional)
        else:
            list_tokens(client)
    except (TokenCommandError, OSError, ValueError) as failure:
        sys.stderr.write("Error: %s\n" % failure)
        return 1
    return 0
