#!/usr/bin/python3
"""HTTPS mirror of get.k3s.io, github.com and update.k3s.io for the lab.

Run inside the mirror host's namespaces by the lab controller. It serves
files from ROOT/HOST/PATH (a path ending in "/" serves ROOT/HOST/PATH/index),
sends the redirects in ROOT/redirects.json ({"HOST/PATH": "URL"}) with
302, and reads per-client faults from ROOT/faults.json on every request:
{"CLIENT-IP": {"kind": "slow", "seconds": N}} or {"CLIENT-IP": {"kind": "hang"}}.
"""

import argparse
import json
import os
import ssl
import sys
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# An upper bound for a "hang" fault, so a stuck handler thread ends even if
# the mirror keeps running. `lab down` kills the mirror long before this.
MAX_HANG_SECONDS = 3600
TLS_HANDSHAKE_TIMEOUT = 30


class MirrorHandler(BaseHTTPRequestHandler):
    server_version = "k3sjoin-lab-mirror"
    protocol_version = "HTTP/1.1"

    def setup(self):
        # TLS runs in the handler thread, so a client that stalls in the
        # handshake blocks only its own thread and never the accept loop.
        self.request.settimeout(TLS_HANDSHAKE_TIMEOUT)
        self.request = self.server.tls_context.wrap_socket(self.request, server_side=True)
        self.request.settimeout(None)
        super().setup()

    def do_GET(self):
        self._serve(send_body=True)

    def do_HEAD(self):
        self._serve(send_body=False)

    def _serve(self, send_body):
        self._apply_fault()
        host = (self.headers.get("Host") or "").split(":", 1)[0].lower()
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        key = host + path
        redirect = self.server.load_json("redirects.json").get(key)
        if redirect:
            self._send(302, b"", extra_headers={"Location": redirect}, send_body=send_body)
            return
        file_path = self._file_for(host, path)
        if file_path is None:
            self._send(404, b"not found\n", send_body=send_body)
            return
        with open(file_path, "rb") as f:
            body = f.read()
        self._send(200, body, content_type=_content_type(file_path), send_body=send_body)

    def _file_for(self, host, path):
        if not host or "/" in host or host.startswith("."):
            return None
        if path.endswith("/"):
            path += "index"
        base = os.path.realpath(os.path.join(self.server.root, host))
        candidate = os.path.realpath(os.path.join(base, path.lstrip("/")))
        if not candidate.startswith(base + os.sep) or not os.path.isfile(candidate):
            return None
        return candidate

    def _apply_fault(self):
        client = self.client_address[0]
        fault = self.server.load_json("faults.json").get(client)
        if not fault:
            return
        if fault.get("kind") == "slow":
            time.sleep(float(fault.get("seconds", 0)))
        elif fault.get("kind") == "hang":
            deadline = time.monotonic() + MAX_HANG_SECONDS
            while time.monotonic() < deadline:
                current = self.server.load_json("faults.json").get(client) or {}
                if current.get("kind") != "hang":
                    break
                time.sleep(0.5)

    def _send(self, status, body, content_type="text/plain", extra_headers=None,
              send_body=True):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra_headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def log_message(self, format, *args):
        line = "%s %s %s\n" % (time.strftime("%Y-%m-%dT%H:%M:%S"),
                               self.client_address[0], format % args)
        with open(self.server.access_log, "a", encoding="utf-8") as f:
            f.write(line)


def _content_type(path):
    if os.path.basename(path) in ("index", "install.sh"):
        return "text/x-shellscript"
    if path.endswith(".txt"):
        return "text/plain"
    return "application/octet-stream"


class MirrorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, root, tls_context):
        self.root = root
        self.tls_context = tls_context
        self.access_log = os.path.join(root, "access.log")
        super().__init__(address, MirrorHandler)

    def load_json(self, name):
        """Read ROOT/name; a missing or half-written file counts as empty."""
        try:
            with open(os.path.join(self.root, name), encoding="utf-8") as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", required=True, help="directory with HOST/PATH files")
    parser.add_argument("--address", required=True, help="IPv4 address to listen on")
    parser.add_argument("--port", type=int, default=443)
    parser.add_argument("--cert", required=True, help="PEM certificate chain")
    parser.add_argument("--key", required=True, help="PEM private key")
    parser.add_argument("--ready-file", required=True,
                        help="file created once the socket listens")
    args = parser.parse_args()

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)
    server = MirrorServer((args.address, args.port), args.root, context)
    with open(args.ready_file, "w", encoding="ascii") as f:
        f.write(f"{os.getpid()}\n")
    print(f"mirror listening on {args.address}:{args.port}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
