"""The lab CA and the mirror's server certificate, made with the openssl CLI."""

import os

from .namespaces import run
from .state import MIRROR_NAMES


def create_ca(ca_dir, lab_name):
    """Create ca.key and ca.crt (EC P-256, 30 days) in ca_dir; return the paths."""
    os.makedirs(ca_dir, mode=0o700, exist_ok=True)
    key = os.path.join(ca_dir, "ca.key")
    cert = os.path.join(ca_dir, "ca.crt")
    run(["openssl", "req", "-x509", "-new", "-nodes",
         "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-keyout", key, "-out", cert, "-days", "30",
         "-subj", f"/CN=k3sjoin lab CA {lab_name}",
         "-addext", "basicConstraints=critical,CA:TRUE",
         "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    return key, cert


def create_mirror_certificate(ca_dir, out_dir):
    """Create mirror.key and mirror.crt for the mirrored site names.

    Return (key path, certificate chain path). The chain file contains the
    server certificate followed by the CA certificate.
    """
    os.makedirs(out_dir, mode=0o700, exist_ok=True)
    key = os.path.join(out_dir, "mirror.key")
    request = os.path.join(out_dir, "mirror.csr")
    cert = os.path.join(out_dir, "mirror.crt")
    extensions = os.path.join(out_dir, "mirror.ext")
    alt_names = ",".join(f"DNS:{name}" for name in MIRROR_NAMES)
    with open(extensions, "w", encoding="ascii") as f:
        f.write("basicConstraints=critical,CA:FALSE\n"
                "keyUsage=critical,digitalSignature\n"
                "extendedKeyUsage=serverAuth\n"
                f"subjectAltName={alt_names}\n"
                "authorityKeyIdentifier=keyid\n"
                "subjectKeyIdentifier=hash\n")
    run(["openssl", "req", "-new", "-nodes",
         "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-keyout", key, "-out", request, "-subj", f"/CN={MIRROR_NAMES[0]}"])
    run(["openssl", "x509", "-req", "-in", request,
         "-CA", os.path.join(ca_dir, "ca.crt"), "-CAkey", os.path.join(ca_dir, "ca.key"),
         "-CAcreateserial", "-days", "30", "-extfile", extensions, "-out", cert])
    chain = os.path.join(out_dir, "mirror-chain.crt")
    with open(chain, "wb") as out:
        for path in (cert, os.path.join(ca_dir, "ca.crt")):
            with open(path, "rb") as f:
                out.write(f.read())
    return key, chain
