"""The agent's client load balancer: a TCP proxy from 127.0.0.1:6444 to the server.

k3s agents send every supervisor and apiserver request through this local proxy, which is
why their error messages name https://127.0.0.1:6444 rather than the server's address.
"""

import socket
import struct
import threading

from . import logrus

LOAD_BALANCER_NAME = "k3s-agent-load-balancer"
# The agent's own HTTP client gives up after 10 s, so a longer dial timeout here lets the
# client report its deadline, as k3s agents do when the server drops packets.
BACKEND_DIAL_TIMEOUT_SECONDS = 30
BUFFER_SIZE = 65536


def _reset(connection):
    """Close with an RST, which is what the agent gets when k3s's proxy cannot dial."""
    try:
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    connection.close()


def _pump(source, destination):
    try:
        while True:
            data = source.recv(BUFFER_SIZE)
            if not data:
                break
            destination.sendall(data)
    except OSError:
        pass
    finally:
        for connection in (source, destination):
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class LoadBalancer:
    def __init__(self, server_host, server_port, listen_port):
        self.server_host = server_host
        self.server_port = server_port
        self.listen_address = ("127.0.0.1", listen_port)
        self._listener = None

    @property
    def server_address(self):
        return "%s:%d" % (self.server_host, self.server_port)

    @property
    def local_url(self):
        return "https://%s:%d" % self.listen_address

    def start(self):
        """Bind the listener and serve in a thread, raising OSError when the port is taken."""
        logrus.info("Adding server to load balancer %s: %s" %
                    (LOAD_BALANCER_NAME, self.server_address))
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(self.listen_address)
        listener.listen(64)
        self._listener = listener
        logrus.info("Running load balancer %s %s:%d -> [%s] [default: %s]" %
                    (LOAD_BALANCER_NAME, self.listen_address[0], self.listen_address[1],
                     self.server_address, self.server_address))
        threading.Thread(target=self._accept_loop, name="load-balancer", daemon=True).start()

    def _accept_loop(self):
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # listener closed at shutdown
            threading.Thread(target=self._proxy, args=(client,), daemon=True).start()

    def _proxy(self, client):
        try:
            backend = socket.create_connection((self.server_host, self.server_port),
                                               timeout=BACKEND_DIAL_TIMEOUT_SECONDS)
        except OSError:
            _reset(client)
            return
        backend.settimeout(None)
        threading.Thread(target=_pump, args=(client, backend), daemon=True).start()
        _pump(backend, client)
        backend.close()
        client.close()

    def close(self):
        if self._listener is not None:
            self._listener.close()
