"""Command dispatch for the simulated k3s binary, including k3s's multi-call names."""

import os
import sys

from . import version

USAGE = """NAME:
   k3s - Kubernetes, but small and simple (lab simulation)

USAGE:
   k3s [global options] command [command options] [arguments...]

COMMANDS:
   server        Run management server
   agent         Run node agent
   kubectl       Run kubectl
   token         Manage bootstrap tokens
   make-release  Write a release (k3s and sha256sum-amd64.txt) to a directory
   version       Print the version

GLOBAL OPTIONS:
   --version, -v  print the version
"""


def print_version():
    print("k3s version %s (%s)" % (version.VERSION, version.COMMIT))
    print("go version %s" % version.GO_VERSION)


def main(argv=None):
    argv = list(sys.argv if argv is None else argv)
    program = os.path.basename(argv[0])
    arguments = argv[1:]

    # k3s is a multi-call binary: the installer links kubectl, crictl and ctr to it.
    if program in ("kubectl", "crictl", "ctr"):
        arguments = [program] + arguments

    if not arguments or arguments[0] in ("-h", "--help", "help"):
        sys.stdout.write(USAGE)
        return 0
    command, rest = arguments[0], arguments[1:]
    if command in ("--version", "-v", "version"):
        print_version()
        return 0
    if command == "server":
        from . import server
        return server.run(rest)
    if command == "agent":
        from . import agent
        return agent.run(rest)
    if command == "kubectl":
        from . import kubectl
        return kubectl.run(rest)
    if command == "token":
        from . import token_command
        return token_command.run(rest)
    if command == "make-release":
        from . import release
        return release.run(rest)
    if command in ("crictl", "ctr"):
        sys.stderr.write("%s is not part of the lab's simulated k3s\n" % command)
        return 1
    sys.stderr.write("Incorrect Usage: command %r not found\n\n%s" % (command, USAGE))
    return 1
