"""HTTPS client for the supervisor API, reporting failures in the words of Go's net/http.

k3s is written in Go, so its journal shows errors such as
`Get "https://127.0.0.1:6444/cacerts": read tcp 127.0.0.1:47166->127.0.0.1:6444: read:
connection reset by peer`. The agent logs the messages this module builds.
"""

import base64
import http.client
import json
import socket
import ssl
import urllib.parse

CLIENT_TIMEOUT_SECONDS = 10  # k3s's clientaccess HTTP client timeout


class RequestError(Exception):
    """A failed request, whose str() is the message Go's client or k3s's helpers give."""


class HttpResponse:
    def __init__(self, status, reason, body):
        self.status = status
        self.reason = reason
        self.body = body

    @property
    def status_text(self):
        """Return Go's resp.Status, e.g. `401 Unauthorized`."""
        return "%d %s" % (self.status, self.reason)

    def error_message(self):
        """Return the Status message from an error body, or None when there is none."""
        try:
            document = json.loads(self.body.decode())
        except (ValueError, UnicodeDecodeError):
            return None
        if isinstance(document, dict) and document.get("kind") == "Status":
            return document.get("message")
        return None


def _go_method(method):
    return method[0] + method[1:].lower()


def insecure_context():
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return context


def context_trusting(ca_pem):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.load_verify_locations(cadata=ca_pem.decode() if isinstance(ca_pem, bytes)
                                  else ca_pem)
    return context


def system_context():
    return ssl.create_default_context()


def request(method, url, context, body=None, headers=None, username=None, password=None,
            bearer=None):
    """Send one request and return an HttpResponse, raising RequestError on transport errors."""
    parsed = urllib.parse.urlsplit(url)
    host, port = parsed.hostname, parsed.port or 443
    headers = dict(headers or {})
    if bearer:
        headers["Authorization"] = "Bearer " + bearer
    elif username is not None:
        credentials = base64.b64encode(("%s:%s" % (username, password or "")).encode())
        headers["Authorization"] = "Basic " + credentials.decode()
    prefix = '%s "%s": ' % (_go_method(method), url)
    local = None
    try:
        raw_socket = socket.create_connection((host, port), timeout=CLIENT_TIMEOUT_SECONDS)
    except ConnectionRefusedError:
        raise RequestError(prefix + "dial tcp %s:%d: connect: connection refused" % (host, port))
    except (socket.timeout, TimeoutError):
        raise RequestError(prefix + "context deadline exceeded (Client.Timeout exceeded while "
                           "awaiting headers)")
    except OSError as failure:
        raise RequestError(prefix + "dial tcp %s:%d: connect: %s" %
                           (host, port, (failure.strerror or str(failure)).lower()))
    try:
        local = "%s:%d" % raw_socket.getsockname()[:2]
        remote = "%s:%d" % (host, port)
        tls_socket = context.wrap_socket(raw_socket, server_hostname=host)
        connection = http.client.HTTPSConnection(host, port, timeout=CLIENT_TIMEOUT_SECONDS)
        connection.sock = tls_socket
        path = parsed.path + ("?" + parsed.query if parsed.query else "")
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        result = HttpResponse(response.status, response.reason, response.read())
        connection.close()
        return result
    except ssl.SSLCertVerificationError:
        raise RequestError(prefix + "tls: failed to verify certificate: x509: certificate "
                           "signed by unknown authority")
    except ConnectionResetError:
        raise RequestError(prefix + "read tcp %s->%s: read: connection reset by peer" %
                           (local, remote))
    except (socket.timeout, TimeoutError):
        raise RequestError(prefix + "context deadline exceeded (Client.Timeout exceeded while "
                           "awaiting headers)")
    except (ssl.SSLEOFError, ssl.SSLZeroReturnError, http.client.RemoteDisconnected,
            ConnectionAbortedError, BrokenPipeError):
        raise RequestError(prefix + "EOF")
    except (ssl.SSLError, OSError, http.client.HTTPException) as failure:
        raise RequestError(prefix + str(failure))
    finally:
        raw_socket.close()
