"""Threaded HTTPS server with optional client certificates and a small request/response model.

The TLS handshake runs in the connection's own thread, so one slow or stalled client cannot
block the accept loop.
"""

import http.server
import json
import ssl
import threading
import urllib.parse

from . import logrus

HANDSHAKE_TIMEOUT_SECONDS = 10
IDLE_CONNECTION_TIMEOUT_SECONDS = 120
MAX_REQUEST_BODY_BYTES = 1024 * 1024

HTTP_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "AlreadyExists",
    415: "UnsupportedMediaType",
    500: "InternalError",
    503: "ServiceUnavailable",
}


class Request:
    """One HTTP request: method, path, query, headers, body and TLS peer facts."""

    def __init__(self, method, target, headers, body, client_address, client_cert):
        parsed = urllib.parse.urlsplit(target)
        self.method = method
        self.path = parsed.path
        self.query = urllib.parse.parse_qs(parsed.query)
        self.headers = headers
        self.body = body
        self.remote_address = "%s:%d" % client_address[:2]
        self.remote_ip = client_address[0]
        # Verified client certificate as returned by ssl.SSLSocket.getpeercert(), or None.
        self.client_cert = client_cert

    def query_value(self, name, default=""):
        values = self.query.get(name)
        return values[0] if values else default

    def header(self, name, default=""):
        return self.headers.get(name, default)

    def json_body(self):
        return json.loads(self.body.decode() or "{}")


class Response:
    def __init__(self, status, body=b"", content_type="application/json", headers=None):
        self.status = status
        self.body = body if isinstance(body, bytes) else body.encode()
        self.content_type = content_type
        self.headers = headers or {}


def json_response(status, document, content_type="application/json", headers=None):
    return Response(status, json.dumps(document) + "\n", content_type, headers)


def status_response(code, message, reason=None, details=None, close=False):
    """Return a Kubernetes Status object as the error body, like apiserver and k3s send."""
    status = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason or HTTP_REASONS.get(code, ""),
        "code": code,
    }
    if details:
        status["details"] = details
    # k3s's supervisor error helper adds `Connection: close` to its error responses.
    headers = {"Connection": "close"} if close else None
    return json_response(code, status, headers=headers)


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = IDLE_CONNECTION_TIMEOUT_SECONDS
    server_version = ""
    sys_version = ""

    def _handle(self):
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_REQUEST_BODY_BYTES:
            self._send(status_response(413, "request body too large", "RequestEntityTooLarge",
                                       close=True))
            return
        body = self.rfile.read(length) if length else b""
        request = Request(self.command, self.path, self.headers, body, self.client_address,
                          getattr(self.connection, "verified_client_cert", None))
        try:
            response = self.server.route(request)
        except Exception as failure:  # a bug in a handler must not kill the connection thread
            logrus.error("Internal error handling %s %s: %r" % (self.command, self.path, failure))
            response = status_response(500, "internal error: %s" % failure)
        self._send(response)

    def _send(self, response):
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)
        if response.headers.get("Connection") == "close":
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _handle

    def log_message(self, format, *args):
        pass  # k3s does not log every request


class HttpsServer(http.server.ThreadingHTTPServer):
    """HTTPS server that passes each Request to route() and sends the Response it returns."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, ssl_context, route):
        self.ssl_context = ssl_context
        self.route = route
        super().__init__(address, _Handler)

    def finish_request(self, request, client_address):
        request.settimeout(HANDSHAKE_TIMEOUT_SECONDS)
        try:
            tls_socket = self.ssl_context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            # A failed handshake is normal here: agents first try /cacerts against the
            # system trust store, which rejects the cluster CA.
            return
        try:
            tls_socket.settimeout(IDLE_CONNECTION_TIMEOUT_SECONDS)
            tls_socket.verified_client_cert = tls_socket.getpeercert() or None
            self.RequestHandlerClass(tls_socket, client_address, self)
        except (OSError, ssl.SSLError):
            pass
        finally:
            try:
                tls_socket.close()
            except OSError:
                pass


def make_server_context(cert_path, key_path, client_ca_path):
    """Return a TLS server context that requests, but does not require, a client certificate."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_path, key_path)
    context.load_verify_locations(client_ca_path)
    context.verify_mode = ssl.CERT_OPTIONAL
    context.set_alpn_protocols(["http/1.1"])
    return context


def serve_forever_in_thread(server):
    thread = threading.Thread(target=server.serve_forever, name="https-server", daemon=True)
    thread.start()
    return thread

