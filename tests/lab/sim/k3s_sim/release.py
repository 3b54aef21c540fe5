"""`k3s make-release`: write a one-file simulated k3s binary and its checksum file.

The binary is a Python zip application: a `#!/usr/bin/python3` line followed by a zip
archive of this package plus a generated `_release` module that fixes the version. The
archive uses fixed timestamps and order, so the same sources and version give the same bytes
and the same sha256.
"""

import hashlib
import io
import os
import re
import sys
import zipfile

from . import cli_flags
from .cli_flags import Flag

VERSION_PATTERN = re.compile(r"^v\d+\.\d+\.\d+\+k3s\d+$")
SHEBANG = b"#!/usr/bin/python3\n"
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
BINARY_NAME = "k3s"
CHECKSUM_FILE_NAME = "sha256sum-amd64.txt"

MAIN_MODULE = """import sys

from k3s_sim.main import main

sys.exit(main())
"""

RELEASE_FLAGS = [Flag("version"), Flag("out")]


def _add(archive, name, data):
    info = zipfile.ZipInfo(name, FIXED_ZIP_TIME)
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


def build_binary(version):
    """Return the bytes of a release binary for version."""
    package_dir = os.path.dirname(os.path.abspath(__file__))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        _add(archive, "__main__.py", MAIN_MODULE)
        for name in sorted(os.listdir(package_dir)):
            if name.endswith(".py") and name != "_release.py":
                with open(os.path.join(package_dir, name), "rb") as source:
                    _add(archive, "k3s_sim/" + name, source.read())
        _add(archive, "k3s_sim/_release.py",
             '"""Version fixed by k3s make-release."""\n\nVERSION = %r\n' % version)
    return SHEBANG + buffer.getvalue()


def write_release(version, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    binary = build_binary(version)
    binary_path = os.path.join(out_dir, BINARY_NAME)
    with open(binary_path + ".tmp", "wb") as binary_file:
        binary_file.write(binary)
    os.chmod(binary_path + ".tmp", 0o755)
    os.replace(binary_path + ".tmp", binary_path)
    digest = hashlib.sha256(binary).hexdigest()
    # k3s publishes `<sha256>  <file name>` lines, the format `sha256sum` prints.
    with open(os.path.join(out_dir, CHECKSUM_FILE_NAME), "w") as checksum_file:
        checksum_file.write("%s  %s\n" % (digest, BINARY_NAME))
    return binary_path, digest


def run(arguments):
    options, _ = cli_flags.parse_or_exit(RELEASE_FLAGS, arguments)
    version, out_dir = options["version"], options["out"]
    if not version or not out_dir:
        sys.stderr.write("usage: k3s make-release --version vX.Y.Z+k3sN --out DIR\n")
        return 2
    if not VERSION_PATTERN.match(version):
        sys.stderr.write("invalid version %r: expected the form v1.31.4+k3s1\n" % version)
        return 2
    binary_path, digest = write_release(version, out_dir)
    print("%s  %s (%s)" % (digest, binary_path, version))
    return 0
