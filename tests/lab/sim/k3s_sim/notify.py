"""systemd readiness notification (the sd_notify protocol) through $NOTIFY_SOCKET."""

import os
import socket


def notify(message):
    """Send message (e.g. "READY=1") to $NOTIFY_SOCKET; return False when it is unset."""
    path = os.environ.get("NOTIFY_SOCKET")
    if not path:
        return False
    if path.startswith("@"):
        path = "\0" + path[1:]  # abstract socket namespace
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as notify_socket:
        try:
            notify_socket.sendto(message.encode(), path)
        except OSError:
            return False
    return True
