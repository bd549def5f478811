"""Root filesystems of the Linux distributions machines and images are made of.

A root filesystem is a layer (``dict`` path -> :class:`Entry`). The same
builders make a student machine's disk (Ubuntu 22.04) and the base layers of
the Docker Hub images (Debian, Alpine, BusyBox, Ubuntu), so a file looks the
same wherever it is.

>>> layer = ubuntu_layer()
>>> layer["/etc/os-release"].data.splitlines()[0]
b'PRETTY_NAME="Ubuntu 22.04.4 LTS"'
>>> layer["/bin"]
Entry(kind='symlink', target='usr/bin')
"""

from __future__ import annotations

from .fs import Entry, parent_dirs
from .kernel import program_entry

__all__ = [
    "COREUTILS",
    "SYSTEM_TOOLS",
    "make_layer",
    "ubuntu_layer",
    "OS_RELEASE",
]

#: Programs every distribution ships (registered by aivle_k8s.linux.shell / coreutils).
COREUTILS = [
    "sh", "bash", "echo", "cat", "ls", "mkdir", "rm", "rmdir", "cp", "mv", "touch", "env",
    "hostname", "uname", "id", "whoami", "ps", "sleep", "true", "false", "wc", "grep", "head",
    "tail", "tee", "sed", "printf", "test", "[", "chmod", "chown", "ln", "pwd", "date", "dirname",
    "basename", "sort", "uniq", "cut", "tr", "kill", "which", "find", "xargs", "du", "df", "seq",
    "stat", "readlink", "yes", "timeout", "nproc", "free", "install", "mount",
]

#: Programs of a full (non-container) Linux machine.
SYSTEM_TOOLS = [
    "sudo", "curl", "gpg", "swapoff", "swapon", "modprobe", "lsmod", "sysctl", "ip", "ss",
    "systemctl", "journalctl", "hostnamectl", "apt-get", "apt", "apt-mark", "apt-cache", "dpkg",
    "lsb_release", "iptables", "nsenter", "ethtool", "conntrack", "socat", "ebtables",
]

OS_RELEASE = {
    "ubuntu": (
        'PRETTY_NAME="Ubuntu 22.04.4 LTS"\nNAME="Ubuntu"\nVERSION_ID="22.04"\n'
        'VERSION="22.04.4 LTS (Jammy Jellyfish)"\nVERSION_CODENAME=jammy\nID=ubuntu\nID_LIKE=debian\n'
        'HOME_URL="https://www.ubuntu.com/"\nUBUNTU_CODENAME=jammy\n'
    ),
}


def make_layer(files: dict[str, Entry | bytes | str], *, programs: dict[str, str] | None = None) -> dict[str, Entry]:
    """A layer from ``files`` (path -> Entry or content) and ``programs`` (path -> program name).

    Parent directories are added automatically.
    """
    layer: dict[str, Entry] = {}
    items: dict[str, Entry] = {}
    for path, value in files.items():
        items[path] = value if isinstance(value, Entry) else Entry.file(value)
    for path, name in (programs or {}).items():
        items[path] = program_entry(name, 2048)
    for path, entry in items.items():
        for d in parent_dirs(path):
            if d not in layer and d not in items:
                layer[d] = Entry.directory()
        layer[path] = entry
    return dict(sorted(layer.items()))


def ubuntu_layer(hostname: str = "ubuntu") -> dict[str, Entry]:
    """The disk of a fresh Ubuntu 22.04 machine: merged /usr, a ``student`` user with sudo, swap in fstab."""
    files: dict[str, Entry | bytes | str] = {
        "/bin": Entry.symlink("usr/bin"),
        "/sbin": Entry.symlink("usr/sbin"),
        "/lib": Entry.symlink("usr/lib"),
        "/etc/os-release": OS_RELEASE["ubuntu"],
        "/etc/hostname": f"{hostname}\n",
        "/etc/hosts": f"127.0.0.1 localhost\n127.0.1.1 {hostname}\n",
        "/etc/passwd": "root:x:0:0:root:/root:/bin/bash\nstudent:x:1000:1000:Student:/home/student:/bin/bash\n",
        "/etc/group": "root:x:0:\nsudo:x:27:student\nstudent:x:1000:\n",
        "/etc/fstab": "UUID=3d1f2c9a / ext4 errors=remount-ro 0 1\n/swap.img none swap sw 0 0\n",
        "/etc/apt/sources.list": "deb http://archive.ubuntu.com/ubuntu jammy main restricted universe\n",
        "/etc/apt/sources.list.d": Entry.directory(),
        "/etc/apt/keyrings": Entry.directory(),
        "/etc/modules-load.d": Entry.directory(),
        "/etc/sysctl.d": Entry.directory(),
        "/etc/sysctl.conf": "# /etc/sysctl.conf - Configuration file for setting system variables\n",
        "/etc/systemd/system": Entry.directory(),
        "/home/student": Entry.directory(0o750, 1000, 1000),
        "/home/student/.bashrc": Entry.file("# ~/.bashrc\n", 0o644, 1000, 1000),
        "/root": Entry.directory(0o700),
        "/tmp": Entry.directory(0o1777),
        "/var/lib": Entry.directory(),
        "/var/log": Entry.directory(),
        "/run": Entry.directory(),
        "/dev": Entry.directory(),
        "/proc": Entry.directory(0o555),
        "/usr/local/bin": Entry.directory(),
        "/usr/local/sbin": Entry.directory(),
        "/usr/lib": Entry.directory(),
        "/opt": Entry.directory(),
        "/swap.img": Entry.file(b"\0" * 64, 0o600),
    }
    progs = {f"/usr/bin/{name}": name for name in COREUTILS}
    progs.update({f"/usr/sbin/{name}" if name in {"swapoff", "swapon", "modprobe", "lsmod", "sysctl", "ip", "iptables", "ebtables"} else f"/usr/bin/{name}": name for name in SYSTEM_TOOLS})
    return make_layer(files, programs=progs)
