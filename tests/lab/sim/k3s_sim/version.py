"""Version of the simulated k3s.

A release built by `k3s make-release` bakes its version into the module `_release`. A run
from the source tree uses K3S_SIM_VERSION or the lab's server version.
"""

import hashlib
import os

DEFAULT_VERSION = "v1.31.4+k3s1"



def _baked_version():
    try:
        from . import _release  # written only into release files
    except ImportError:
        return None
    return _release.VERSION


VERSION = _baked_version() or os.environ.get("K3S_SIM_VERSION") or DEFAULT_VERSION

# k3s prints the first 8 hex digits of its git commit. The simulation derives them from the
# version so that every build of one version reports the same commit.
COMMIT = hashlib.sha256(VERSION.encode()).hexdigest()[:8]

PROGRAM = "k3s"

# Go releases that built the k3s versions the lab uses (from their `k3s --version` output);
# `k3s --version` prints the Go version on its second line.
_GO_VERSIONS = {"30": "go1.22.9", "31": "go1.22.9", "32": "go1.23.4"}


def kubelet_version():
    """Return the version that nodes report as kubeletVersion, which k3s sets to its own."""
    return VERSION


def git_version():
    """Return the Kubernetes part of the version, as /version reports it in gitVersion."""
    return VERSION


def minor_version():
    return VERSION.lstrip("v").split(".")[1]


GO_VERSION = _GO_VERSIONS.get(minor_version(), "go1.22.9")
