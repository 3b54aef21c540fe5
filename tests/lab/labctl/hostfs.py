"""The file system a lab host sees: overlays, tmpfs and private /etc files.

A "node" host gets writable overlays whose upper directories live in
STATE/hosts/HOST, so the root namespace can inspect what the host wrote.
The controller writes a node's files through /proc/HOLDER/root, which
resolves paths in the holder's mount namespace and thus through its overlays.

A "shared" host (operator, mirror) keeps the machine's file system. Only
a few files are bind-mounted over from STATE/hosts/HOST/etc, because a
write through /proc/HOLDER/root there would change the machine's own file.
"""

import os
import shutil
import stat

from . import namespaces
from .state import (MIRROR_ADDRESS, MIRROR_NAMES, HOSTS, BASTION_HOSTS, OPS_USER,
                    ipv6_address)

OVERLAY_DIRS = ("etc", "root", "home", "usr/local", "var")
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"


def mount_node_filesystems(pid, host_state):
    """Mount the overlays and tmpfs file systems in a node's mount namespace.

    /tmp is mounted last because the overlay upper directories live under
    /tmp/k3sjoin-lab, which the tmpfs then hides from the host. The
    overlays keep working because the kernel resolved their paths at mount time.
    """
    lines = ["set -e"]
    for directory in OVERLAY_DIRS:
        upper = os.path.join(host_state, "upper", directory)
        work = os.path.join(host_state, "work", directory)
        os.makedirs(upper, exist_ok=True)
        os.makedirs(work, exist_ok=True)
        lines.append(
            f"mount -t overlay overlay -o lowerdir=/{directory},upperdir={upper},"
            f"workdir={work} /{directory}")
    lines.append("mount -t tmpfs -o mode=0755 tmpfs /run")
    lines.append("mount -t tmpfs -o mode=1777 tmpfs /tmp")
    namespaces.run(
        namespaces.nsenter_prefix(pid, kinds=("mnt",)) + ["/bin/sh", "-c", "\n".join(lines)])


def host_root(pid):
    return f"/proc/{pid}/root"


def write_host_file(pid, path, data, mode=0o644, uid=0, gid=0):
    """Write data to path as the node host pid sees it.

    Refuse a parent directory that is a symbolic link and replace a
    symbolic link at path by a file: an absolute link would resolve in the
    root namespace and so write outside the host.
    """
    if isinstance(data, str):
        data = data.encode()
    full_path = _checked_host_path(pid, path)
    make_host_dirs(pid, os.path.dirname(path))
    if os.path.islink(full_path):
        os.unlink(full_path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
    fd = os.open(full_path, flags, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chown(full_path, uid, gid)
    os.chmod(full_path, mode)


def read_host_file(pid, path):
    with open(_checked_host_path(pid, path), "rb") as f:
        return f.read()


def make_host_dirs(pid, path, mode=0o755, uid=0, gid=0):
    """Create directory path (and missing parents) inside node host pid."""
    root = host_root(pid)
    current = root
    for part in path.strip("/").split("/"):
        if not part:
            continue
        current = os.path.join(current, part)
        if os.path.islink(current):
            raise namespaces.LabError(f"refusing symbolic link {current} in a host path")
        if not os.path.isdir(current):
            os.mkdir(current, mode)
            os.chown(current, uid, gid)


def _checked_host_path(pid, path):
    if not path.startswith("/"):
        raise ValueError(f"host path must be absolute: {path}")
    root = host_root(pid)
    current = root
    for part in os.path.dirname(path).strip("/").split("/"):
        if not part:
            continue
        current = os.path.join(current, part)
        if os.path.islink(current):
            raise namespaces.LabError(f"refusing symbolic link {current} in a host path")
    return root + path


def hosts_file(ipv6=False):
    """Return /etc/hosts for lab hosts: lab names and the mirrored sites.

    Bastion names are always listed. With ipv6, each host name also maps to its IPv6
    address; the mirrored sites stay IPv4 only.
    """
    lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback"]
    named = [spec for spec in HOSTS + BASTION_HOSTS if spec.name != "mirror"]
    lines += [f"{spec.address}\t{spec.name}" for spec in named]
    if ipv6:
        lines += [f"{ipv6_address(spec.address)}\t{spec.name}" for spec in named]
    lines.append(f"{MIRROR_ADDRESS}\tmirror " + " ".join(MIRROR_NAMES))
    return "\n".join(lines) + "\n"


def ca_bundle_with(ca_pem):
    """Return the machine's CA bundle with the lab CA appended."""
    with open(CA_BUNDLE, "rb") as f:
        bundle = f.read()
    if not bundle.endswith(b"\n"):
        bundle += b"\n"
    return bundle + ca_pem


def free_user_id():
    """Return the lowest id >= 1000 that no user or group of the machine uses.

    The machine's /etc/passwd and /etc/group are the lower layer of every
    node's /etc, so ops must not collide with their entries.
    """
    used = set()
    for path in ("/etc/passwd", "/etc/group"):
        with open(path, encoding="utf-8") as f:
            for line in f:
                fields = line.split(":")
                if len(fields) > 2 and fields[2].isdigit():
                    used.add(int(fields[2]))
    candidate = 1000
    while candidate in used:
        candidate += 1
    return candidate


def _read_machine(path):
    with open(path, encoding="utf-8") as f:
        return f.read()


def _without_user(text, user):
    return "".join(line + "\n" for line in text.splitlines() if line.split(":", 1)[0] != user)


def _unlock_root(shadow_text):
    """Turn a locked root password ("!...") into "*" (no password, not locked).

    sshd without PAM rejects every login of a locked account, keys included.
    """
    lines = []
    for line in shadow_text.splitlines():
        fields = line.split(":")
        if fields[0] == "root" and fields[1].startswith("!"):
            fields[1] = "*"
        lines.append(":".join(fields))
    return "\n".join(lines) + "\n"


def setup_node_etc(pid, hostname, ca_pem, user_id, ipv6=False):
    """Write the node's private /etc files, users and shell profiles."""
    write_host_file(pid, "/etc/hostname", hostname + "\n")
    write_host_file(pid, "/etc/hosts", hosts_file(ipv6))
    write_host_file(pid, "/etc/resolv.conf", "")
    passwd = _without_user(_read_machine("/etc/passwd"), OPS_USER)
    passwd += f"{OPS_USER}:x:{user_id}:{user_id}:lab operator:/home/{OPS_USER}:/bin/bash\n"
    write_host_file(pid, "/etc/passwd", passwd)
    group = _without_user(_read_machine("/etc/group"), OPS_USER)
    group += f"{OPS_USER}:x:{user_id}:\n"
    write_host_file(pid, "/etc/group", group)
    shadow = _unlock_root(_without_user(_read_machine("/etc/shadow"), OPS_USER))
    # "*" is no usable password but not a locked account, so key logins work.
    shadow += f"{OPS_USER}:*:19000:0:99999:7:::\n"
    shadow_gid = _shadow_group_id()
    write_host_file(pid, "/etc/shadow", shadow, mode=0o640, gid=shadow_gid)
    write_host_file(pid, f"/etc/sudoers.d/{OPS_USER}",
                    f"{OPS_USER} ALL=(ALL:ALL) NOPASSWD: ALL\n", mode=0o440)
    write_host_file(pid, CA_BUNDLE, ca_bundle_with(ca_pem))
    _write_profiles(pid, user_id)


def _shadow_group_id():
    try:
        return os.stat("/etc/shadow").st_gid
    except OSError:
        return 0


def _write_profiles(pid, user_id):
    """Give root and ops Debian's default shell profiles from /etc/skel.

    The machine's /root/.bashrc may change PATH (for example pyenv), which a
    fresh lab host should not inherit.
    """
    make_host_dirs(pid, f"/home/{OPS_USER}", mode=0o750, uid=user_id, gid=user_id)
    for name in (".bashrc", ".profile"):
        skeleton = os.path.join("/etc/skel", name)
        if not os.path.exists(skeleton):
            continue
        content = _read_machine(skeleton)
        write_host_file(pid, f"/root/{name}", content)
        write_host_file(pid, f"/home/{OPS_USER}/{name}", content, uid=user_id, gid=user_id)


def setup_shared_etc(pid, host_state, ca_pem, operator_home=None, ipv6=False):
    """Bind-mount private /etc files over the machine's in a shared host.

    With operator_home, root's home directory in /etc/passwd becomes that
    directory, because ssh finds ~/.ssh through the password database,
    not through $HOME.
    """
    etc = os.path.join(host_state, "etc")
    os.makedirs(etc, exist_ok=True)
    files = {
        "/etc/hosts": hosts_file(ipv6).encode(),
        "/etc/resolv.conf": b"",
        CA_BUNDLE: ca_bundle_with(ca_pem),
    }
    if operator_home:
        files["/etc/passwd"] = _passwd_with_root_home(operator_home).encode()
    lines = ["set -e"]
    for target, content in files.items():
        source = os.path.join(etc, os.path.basename(target))
        with open(source, "wb") as f:
            f.write(content)
        os.chmod(source, stat.S_IMODE(os.stat(target).st_mode) if os.path.exists(target) else 0o644)
        lines.append(f"mount --bind {source} {target}")
    namespaces.run(
        namespaces.nsenter_prefix(pid, kinds=("mnt",)) + ["/bin/sh", "-c", "\n".join(lines)])


def _passwd_with_root_home(home):
    lines = []
    for line in _read_machine("/etc/passwd").splitlines():
        fields = line.split(":")
        if fields[0] == "root" and len(fields) == 7:
            fields[5] = home
        lines.append(":".join(fields))
    return "\n".join(lines) + "\n"


def copy_into_host(pid, source, path, mode=0o755):
    """Copy the file source of the machine to path inside node host pid."""
    with open(source, "rb") as f:
        write_host_file(pid, path, f.read(), mode=mode)


def remove_tree(path):
    """Remove path recursively; overlay work directories have mode 000."""
    if os.path.lexists(path):
        shutil.rmtree(path)
