"""`k3s kubectl`: run the real kubectl against the server's admin kubeconfig."""

import os
import shutil
import sys

from . import kubeconfig

# /usr/local/bin is skipped because the installer may have linked kubectl there to k3s.
SKIPPED_DIRECTORIES = ("/usr/local/bin",)


def find_kubectl():
    if os.access("/usr/bin/kubectl", os.X_OK):
        return "/usr/bin/kubectl"
    directories = [directory for directory in os.environ.get("PATH", "").split(os.pathsep)
                   if directory and os.path.realpath(directory) not in SKIPPED_DIRECTORIES]
    return shutil.which("kubectl", path=os.pathsep.join(directories))


def run(arguments):
    kubectl = find_kubectl()
    if kubectl is None:
        sys.stderr.write("kubectl not found: install kubectl in /usr/bin or on PATH\n")
        return 1
    environment = dict(os.environ)
    environment.setdefault("KUBECONFIG", kubeconfig.DEFAULT_PATH)
    os.execve(kubectl, ["kubectl"] + arguments, environment)
