"""Node identity: the node password and ID files, platform facts and k3s annotations."""

import json
import os
import platform
import secrets

NODE_CONFIG_DIR = "/etc/rancher/node"
NODE_PASSWORD_PATH = os.path.join(NODE_CONFIG_DIR, "password")
NODE_ID_PATH = os.path.join(NODE_CONFIG_DIR, "id")

REDACTED = "********"
# Flags and environment variables whose values k3s replaces with REDACTED in node annotations.
SECRET_FLAGS = ("--token", "-t", "--agent-token", "--etcd-s3-secret-key")
SECRET_ENV = ("K3S_TOKEN", "K3S_AGENT_TOKEN", "K3S_ETCD_S3_SECRET_KEY")


def _ensure_node_config_dir():
    os.makedirs(NODE_CONFIG_DIR, mode=0o755, exist_ok=True)
    os.chmod(NODE_CONFIG_DIR, 0o755)


def ensure_node_password(path=NODE_PASSWORD_PATH):
    """Return the node password, writing 32 hex digits and a newline (0600) if absent."""
    _ensure_node_config_dir()
    if os.path.exists(path):
        with open(path) as password_file:
            return password_file.read().strip()
    password = secrets.token_hex(16)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as password_file:
        password_file.write(password + "\n")
    return password


def ensure_node_id(path=NODE_ID_PATH):
    """Return the --with-node-id suffix, writing 8 hex digits (0644) if absent."""
    _ensure_node_config_dir()
    if os.path.exists(path):
        with open(path) as id_file:
            return id_file.read().strip()
    node_id = secrets.token_hex(4)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    with os.fdopen(descriptor, "w") as id_file:
        id_file.write(node_id)
    return node_id


def node_args_annotation(arguments):
    """Return the k3s.io/node-args annotation: the command line with secrets redacted."""
    redacted = []
    redact_next = False
    for argument in arguments:
        if redact_next:
            redacted.append(REDACTED)
            redact_next = False
            continue
        name, has_value, _ = argument.partition("=")
        if name in SECRET_FLAGS:
            if has_value:
                redacted.append(name + "=" + REDACTED)
            else:
                redacted.append(argument)
                redact_next = True
            continue
        redacted.append(argument)
    return json.dumps(redacted, separators=(",", ":"))


def node_env_annotation():
    """Return the k3s.io/node-env annotation: K3S_* variables with secrets redacted."""
    environment = {}
    for name, value in sorted(os.environ.items()):
        if not name.startswith("K3S_") or name.startswith("K3S_SIM_"):
            continue
        environment[name] = REDACTED if name in SECRET_ENV else value
    return json.dumps(environment, separators=(",", ":"))


def _os_image():
    try:
        with open("/etc/os-release") as os_release:
            for line in os_release:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return "Linux"


def platform_facts():
    return {"kernel_version": platform.release(), "os_image": _os_image()}
