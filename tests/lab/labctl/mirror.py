"""Lay out the mirror's content under STATE/mirror and start its HTTPS server."""

import json
import os
import subprocess
import time

from . import namespaces
from .state import MIRROR_ADDRESS, RELEASE_VERSIONS, SERVER_VERSION, SIM_DIR

RELEASE_URL = "https://github.com/k3s-io/k3s/releases/tag/"
SERVER_PROGRAM = os.path.join(os.path.dirname(os.path.abspath(__file__)), "mirror_server.py")

# Channel name -> version, as https://update.k3s.io/v1-release/channels lists them.
CHANNELS = {
    "stable": SERVER_VERSION,
    "latest": "v1.32.1+k3s1",
    "v1.30": "v1.30.8+k3s1",
    "v1.31": "v1.31.4+k3s1",
    "v1.32": "v1.32.1+k3s1",
}


def www_dir(mirror_dir):
    return os.path.join(mirror_dir, "www")


def release_dir(mirror_dir, version):
    """Return the directory with the k3s binary and checksums of version."""
    return os.path.join(www_dir(mirror_dir), "github.com", "k3s-io", "k3s",
                        "releases", "download", version)


def lay_out(mirror_dir):
    """Build every release with the simulation's make-release and write the site files."""
    os.makedirs(mirror_dir, exist_ok=True)
    _write(os.path.join(www_dir(mirror_dir), "get.k3s.io", "index"),
           _read(os.path.join(SIM_DIR, "install.sh")))
    builds = []
    for version in RELEASE_VERSIONS:
        out = release_dir(mirror_dir, version)
        os.makedirs(out, exist_ok=True)
        command = [os.path.join(SIM_DIR, "make-release"), "--version", version, "--out", out]
        # No __pycache__ directories in the source tree of the simulation.
        environment = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
        builds.append((command, subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=environment)))
        tag_page = f"<html><body>k3s {version}</body></html>\n".encode()
        _write(os.path.join(www_dir(mirror_dir), "github.com", "k3s-io", "k3s",
                            "releases", "tag", version), tag_page)
    for command, process in builds:
        try:
            _, stderr = process.communicate(timeout=60)
        except subprocess.TimeoutExpired as error:
            process.kill()
            process.communicate()
            raise namespaces.LabError(f"timed out after 60 s: {' '.join(command)}") from error
        if process.returncode != 0:
            raise namespaces.LabError(
                f"command failed with exit code {process.returncode}: {' '.join(command)}: "
                f"{stderr.decode(errors='replace').strip()}")
    redirects = {
        f"update.k3s.io/v1-release/channels/{channel}": RELEASE_URL + version
        for channel, version in CHANNELS.items()
    }
    _write(os.path.join(www_dir(mirror_dir), "redirects.json"),
           json.dumps(redirects, indent=2).encode())
    write_faults(mirror_dir, {})


def faults_path(mirror_dir):
    return os.path.join(www_dir(mirror_dir), "faults.json")


def read_faults(mirror_dir):
    try:
        with open(faults_path(mirror_dir), encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def write_faults(mirror_dir, faults):
    """Replace faults.json atomically; the server rereads it on every request."""
    path = faults_path(mirror_dir)
    temporary = path + ".tmp"
    with open(temporary, "w", encoding="utf-8") as f:
        json.dump(faults, f, indent=2, sort_keys=True)
    os.replace(temporary, path)


def start(mirror_pid, mirror_dir, cert, key, timeout=10):
    """Start the HTTPS server in the mirror host; return its pid when it listens."""
    ready_file = os.path.join(mirror_dir, "ready")
    if os.path.exists(ready_file):
        os.unlink(ready_file)
    log = open(os.path.join(mirror_dir, "server.log"), "ab")
    command = namespaces.nsenter_prefix(mirror_pid) + [
        "/usr/bin/python3", SERVER_PROGRAM, "--root", www_dir(mirror_dir),
        "--address", MIRROR_ADDRESS, "--cert", cert, "--key", key,
        "--ready-file", ready_file,
    ]
    with log:
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise namespaces.LabError(
                f"mirror server exited with code {process.returncode}; "
                f"see {os.path.join(mirror_dir, 'server.log')}")
        if os.path.exists(ready_file):
            return process.pid
        time.sleep(0.02)
    raise namespaces.LabError(f"mirror server did not listen within {timeout} s")


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
