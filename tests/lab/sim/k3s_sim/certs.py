"""Certificates made with the openssl CLI, with the names and subjects k3s uses.

k3s uses ECDSA P-256 keys, CAs named `k3s-<name>-ca@<unix time>` valid for 10 years, and leaf
certificates valid for one year.
"""

import os
import subprocess
import tempfile
import time

CA_VALIDITY_DAYS = 3650
LEAF_VALIDITY_DAYS = 365
OPENSSL_TIMEOUT_SECONDS = 30


class CertificateError(Exception):
    pass


def _run_openssl(arguments):
    try:
        subprocess.run(["openssl"] + arguments, check=True, capture_output=True, text=True,
                       timeout=OPENSSL_TIMEOUT_SECONDS)
    except subprocess.CalledProcessError as failure:
        raise CertificateError("openssl %s failed: %s" % (arguments[0], failure.stderr.strip()))
    except (OSError, subprocess.TimeoutExpired) as failure:
        raise CertificateError("openssl %s failed: %s" % (arguments[0], failure))


def _key_arguments(key_path):
    return ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", key_path]


def create_ca(key_path, cert_path, name):
    """Create a self-signed CA `k3s-<name>-ca@<unix time>` unless the certificate exists."""
    if os.path.exists(cert_path) and os.path.exists(key_path):
        return False
    common_name = "k3s-%s-ca@%d" % (name, int(time.time()))
    old_umask = os.umask(0o077)
    try:
        _run_openssl(["req", "-x509"] + _key_arguments(key_path) + [
            "-out", cert_path, "-days", str(CA_VALIDITY_DAYS), "-subj", "/CN=" + common_name,
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,digitalSignature,keyEncipherment,keyCertSign",
        ])
    finally:
        os.umask(old_umask)
    os.chmod(cert_path, 0o644)
    return True


def issue_certificate(ca_key_path, ca_cert_path, key_path, cert_path, common_name,
                      organization=None, dns_names=(), ip_addresses=(), client=False):
    """Issue a leaf certificate signed by the given CA, overwriting key_path and cert_path."""
    subject = "/CN=" + common_name
    if organization:
        subject = "/O=" + organization + subject
    usage = "clientAuth" if client else "serverAuth"
    arguments = ["req", "-x509", "-CA", ca_cert_path, "-CAkey", ca_key_path] + \
        _key_arguments(key_path) + [
            "-out", cert_path, "-days", str(LEAF_VALIDITY_DAYS), "-subj", subject,
            "-addext", "basicConstraints=critical,CA:FALSE",
            "-addext", "keyUsage=critical,digitalSignature,keyEncipherment",
            "-addext", "extendedKeyUsage=" + usage,
        ]
    alt_names = ["DNS:" + name for name in dns_names] + ["IP:" + ip for ip in ip_addresses]
    if alt_names:
        arguments += ["-addext", "subjectAltName=" + ",".join(alt_names)]
    old_umask = os.umask(0o077)
    try:
        _run_openssl(arguments)
    finally:
        os.umask(old_umask)
    os.chmod(cert_path, 0o644)


def issue_certificate_pem(ca_key_path, ca_cert_path, common_name, organization=None,
                          dns_names=(), ip_addresses=(), client=False):
    """Issue a leaf certificate in a scratch directory and return (cert PEM, key PEM)."""
    with tempfile.TemporaryDirectory(prefix="k3s-cert-") as scratch:
        key_path = os.path.join(scratch, "leaf.key")
        cert_path = os.path.join(scratch, "leaf.crt")
        issue_certificate(ca_key_path, ca_cert_path, key_path, cert_path, common_name,
                          organization, dns_names, ip_addresses, client)
        with open(cert_path) as cert_file, open(key_path) as key_file:
            return cert_file.read(), key_file.read()


def certificate_alt_names(cert_path):
    """Return the subjectAltName entries of a certificate as strings like `IP Address:1.2.3.4`."""
    try:
        output = subprocess.run(
            ["openssl", "x509", "-in", cert_path, "-noout", "-ext", "subjectAltName"],
            check=True, capture_output=True, text=True, timeout=OPENSSL_TIMEOUT_SECONDS,
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return set()
    names = set()
    for line in output.splitlines()[1:]:
        for entry in line.split(","):
            names.add(entry.strip())
    return names
