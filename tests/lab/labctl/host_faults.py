"""Faults that change what a node host reports, for the preflight tests.

Each fault has an undo through `lab fault HOST clear KIND`. Everything a
fault creates lives in the host's namespaces (mounts, processes, overlay
files, iptables rules), so `lab down` removes it with the host as well.
"""

import os
import signal
import subprocess
import time

from . import hostfs, namespaces
from .namespaces import LabError
from .state import OPS_USER, SERVER_HOST, host_spec

FAULT_DIR = "/run/k3sjoin-lab-fault"
RULE_COMMENT = "k3sjoin-lab"
IPTABLES_WAIT_SECONDS = "5"
FOREIGN_PORT = 16443
START_TIMEOUT_SECONDS = 10

# Holds a port until killed; prints "bound" once the socket is bound.
OCCUPY_PROGRAM = """
import socket, sys, time
kind = socket.SOCK_STREAM if sys.argv[1] == "tcp" else socket.SOCK_DGRAM
s = socket.socket(socket.AF_INET, kind)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[2])))
if kind == socket.SOCK_STREAM:
    s.listen(16)
print("bound", flush=True)
while True:
    time.sleep(3600)
"""

# An HTTPS server whose /cacerts is another CA than the cluster's.
FOREIGN_PROGRAM = """
import http.server, ssl, sys
port, cert, key = int(sys.argv[1]), sys.argv[2], sys.argv[3]
with open(cert, "rb") as f:
    body = f.read()
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        found = self.path == "/cacerts"
        data = body if found else b"404 page not found\\n"
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def log_message(self, *args):
        pass
server = http.server.ThreadingHTTPServer(("0.0.0.0", port), Handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
print("bound", flush=True)
server.serve_forever()
"""


def _node_pid(record, host):
    if host_spec(host).kind != "node":
        raise LabError(f"host {host} runs no sshd or k3s; use a node host")
    pid = record.host(host).get("pid")
    if not pid:
        raise LabError(f"host {host} has no holder process in lab {record.name}")
    return pid


def _sh(pid, script, check=True):
    return namespaces.run_in(pid, ["/bin/sh", "-c", script], check=check, timeout=30)


def _fault_pids(record, host):
    return record.host(host).setdefault("fault_pids", {})


def _start_process(record, host, key, argv):
    """Start argv in host, detached; return its pid once it printed "bound"."""
    pid = _node_pid(record, host)
    command = namespaces.nsenter_prefix(pid) + argv
    process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, start_new_session=True,
                               env=namespaces.host_environment())
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    os.set_blocking(process.stdout.fileno(), False)
    output = b""
    while time.monotonic() < deadline:
        chunk = process.stdout.read() or b""
        output += chunk
        if b"bound" in output:
            process.stdout.close()
            _fault_pids(record, host)[key] = process.pid
            record.save()
            return process.pid
        if process.poll() is not None:
            raise LabError(f"{' '.join(argv[:2])} in {host} exited with code "
                           f"{process.returncode}: {output.decode(errors='replace').strip()}")
        time.sleep(0.02)
    process.kill()
    raise LabError(f"{' '.join(argv[:2])} in {host} did not start within "
                   f"{START_TIMEOUT_SECONDS} s")


def _stop_process(record, host, key):
    pid = _fault_pids(record, host).pop(key, None)
    record.save()
    if pid is None:
        return False
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    return True


def _protocol_port(args):
    protocol, port = args
    if protocol not in ("tcp", "udp"):
        raise LabError(f"invalid protocol {protocol!r}: expected tcp or udp")
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        raise LabError(f"invalid port {port!r}: expected 1-65535")
    return protocol, port


def _whole_number(text, what):
    if not text.lstrip("-").isdigit():
        raise LabError(f"invalid {what} {text!r}: expected a whole number")
    return int(text)


def occupy_port(record, host, args):
    protocol, port = _protocol_port(args)
    pid = _start_process(record, host, f"occupy-{protocol}-{port}",
                         ["/usr/bin/python3", "-c", OCCUPY_PROGRAM, protocol, port])
    return f"python3 (pid {pid}) holds {port}/{protocol} on {host}"


def clear_occupy_port(record, host):
    stopped = [key for key in list(_fault_pids(record, host)) if key.startswith("occupy-")
               and _stop_process(record, host, key)]
    return f"stopped {len(stopped)} port holder(s) on {host}"


def small_rancher(record, host, args):
    size = _whole_number(args[0], "size in MB") if args else 1024
    _sh(_node_pid(record, host),
        f"mkdir -p /var/lib/rancher && mount -t tmpfs -o size={size}m,mode=0755 "
        "k3sjoin-lab-small /var/lib/rancher")
    return f"/var/lib/rancher on {host} is a {size} MB tmpfs"


def clear_small_rancher(record, host):
    _sh(_node_pid(record, host),
        "while grep -q ' /var/lib/rancher ' /proc/self/mounts; do umount /var/lib/rancher; done")
    return f"/var/lib/rancher on {host} is back on the host's /var"


def low_memory(record, host, args):
    mib = _whole_number(args[0], "memory in MB")
    if mib < 1:
        raise LabError("memory must be at least 1 MB")
    pid = _node_pid(record, host)
    lines = []
    with open("/proc/meminfo", encoding="ascii") as f:
        for line in f:
            key = line.split(":", 1)[0]
            if key in ("MemTotal", "MemFree", "MemAvailable"):
                line = f"{key + ':':<16}{mib * 1024:>8} kB\n"
            lines.append(line)
    hostfs.write_host_file(pid, f"{FAULT_DIR}/meminfo", "".join(lines), mode=0o444)
    clear_low_memory(record, host)
    _sh(pid, f"mount --bind {FAULT_DIR}/meminfo /proc/meminfo")
    return f"/proc/meminfo on {host} shows {mib} MB"


def clear_low_memory(record, host):
    _sh(_node_pid(record, host),
        "while grep -q ' /proc/meminfo ' /proc/self/mounts; do umount /proc/meminfo; done")
    return f"/proc/meminfo on {host} is the machine's again"


def sudo_password(record, host, args):
    hostfs.write_host_file(_node_pid(record, host), f"/etc/sudoers.d/{OPS_USER}",
                           f"{OPS_USER} ALL=(ALL:ALL) ALL\n", mode=0o440)
    return f"sudo asks {OPS_USER} for a password on {host}"


def clear_sudo_password(record, host):
    hostfs.write_host_file(_node_pid(record, host), f"/etc/sudoers.d/{OPS_USER}",
                           f"{OPS_USER} ALL=(ALL:ALL) NOPASSWD: ALL\n", mode=0o440)
    return f"sudo needs no password for {OPS_USER} on {host}"


def hostname(record, host, args):
    name = args[0]
    if not name or len(name) > 64 or not all(c.isalnum() or c in "-." for c in name):
        raise LabError(f"invalid hostname {name!r}: use letters, digits, '-' and '.'")
    _sh(_node_pid(record, host), f"hostname {name}")
    return f"hostname of {host} is now {name}"


def clear_hostname(record, host):
    _sh(_node_pid(record, host), f"hostname {host}")
    return f"hostname of {host} is {host} again"


def clock_offset(record, host, args):
    seconds = _whole_number(args[0], "offset in seconds")
    # Namespaces cannot shift CLOCK_REALTIME, so `date` in /usr/local/bin (first on PATH)
    # reports the shifted time instead. Only callers of `date` see the offset.
    wrapper = (
        "#!/bin/sh\n"
        "# k3sjoin lab fault clock-offset: this host's date runs "
        f"{seconds} s off.\n"
        f'now=$(/usr/bin/date +%s)\n'
        f'exec /usr/bin/date -d "@$((now + {seconds}))" "$@"\n')
    hostfs.write_host_file(_node_pid(record, host), "/usr/local/bin/date", wrapper, mode=0o755)
    return f"date on {host} runs {seconds} s off"


def clear_clock_offset(record, host):
    path = hostfs.host_root(_node_pid(record, host)) + "/usr/local/bin/date"
    if os.path.lexists(path):
        os.unlink(path)
    return f"date on {host} shows the machine's time again"


def no_curl(record, host, args):
    pid = _node_pid(record, host)
    hostfs.write_host_file(pid, f"{FAULT_DIR}/not-installed", "", mode=0o644)
    clear_no_curl(record, host)
    # A non-executable file over the binary makes `command -v` skip it, as if absent.
    _sh(pid, "for tool in /usr/bin/curl /usr/bin/wget; do "
             f"if [ -e $tool ]; then mount --bind {FAULT_DIR}/not-installed $tool; fi; done")
    return f"curl and wget are hidden on {host}"


def clear_no_curl(record, host):
    _sh(_node_pid(record, host),
        "for tool in /usr/bin/curl /usr/bin/wget; do "
        "while grep -q \" $tool \" /proc/self/mounts; do umount $tool; done; done")
    return f"curl and wget are back on {host}"


def _server_address():
    return host_spec(SERVER_HOST).address


def foreign_6443(record, host, args):
    pid = _node_pid(record, host)
    if host == SERVER_HOST:
        raise LabError("foreign-6443 applies to an agent: it redirects the agent's "
                       "connections to the server")
    clear_foreign_6443(record, host)
    directory = f"{FAULT_DIR}/foreign"
    hostfs.make_host_dirs(pid, directory, mode=0o700)
    _sh(pid, f"cd {directory} && openssl req -x509 -newkey ec -pkeyopt "
             "ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=foreign-ca "
             "-keyout key.pem -out cert.pem 2>/dev/null")
    hostfs.write_host_file(pid, f"{directory}/server.py", FOREIGN_PROGRAM, mode=0o600)
    _start_process(record, host, "foreign-6443",
                   ["/usr/bin/python3", f"{directory}/server.py", str(FOREIGN_PORT),
                    f"{directory}/cert.pem", f"{directory}/key.pem"])
    _sh(pid, " ".join([
        "iptables", "-w", IPTABLES_WAIT_SECONDS, "-t", "nat", "-I", "OUTPUT", "-p", "tcp",
        "-d", _server_address(), "--dport", "6443", "-m", "comment", "--comment",
        RULE_COMMENT, "-j", "REDIRECT", "--to-ports", str(FOREIGN_PORT)]))
    return (f"{host} reaches a TLS service with another CA at {_server_address()}:6443 "
            f"(redirected to local port {FOREIGN_PORT})")


def clear_foreign_6443(record, host):
    pid = _node_pid(record, host)
    rule = ["-p", "tcp", "-d", f"{_server_address()}/32", "--dport", "6443", "-m", "comment",
            "--comment", RULE_COMMENT, "-j", "REDIRECT", "--to-ports", str(FOREIGN_PORT)]
    for _ in range(10):
        result = namespaces.run_in(pid, ["iptables", "-w", IPTABLES_WAIT_SECONDS, "-t", "nat",
                                         "-D", "OUTPUT"] + rule, check=False)
        if result.returncode != 0:
            break
    _stop_process(record, host, "foreign-6443")
    return f"{host} reaches the real server at {_server_address()}:6443 again"


HANDLERS = {
    "occupy-port": (2, occupy_port, clear_occupy_port),
    "small-rancher": ((0, 1), small_rancher, clear_small_rancher),
    "low-memory": (1, low_memory, clear_low_memory),
    "sudo-password": (0, sudo_password, clear_sudo_password),
    "hostname": (1, hostname, clear_hostname),
    "clock-offset": (1, clock_offset, clear_clock_offset),
    "no-curl": (0, no_curl, clear_no_curl),
    "foreign-6443": (0, foreign_6443, clear_foreign_6443),
}


def clear(record, host, args):
    """Undo fault kind args[0] on host."""
    kind = args[0]
    if kind not in HANDLERS:
        raise LabError(f"cannot clear {kind!r}; expected one of: {', '.join(HANDLERS)}")
    return HANDLERS[kind][2](record, host)

