"""Root filesystems of the Linux distributions machines and images are made of.

A root filesystem is a layer (``dict`` path -> :class:`Entry`). The same
builders make a student machine's disk (Ubuntu 22.04) and the base layers of
the Docker Hub images (Debian, Alpine, BusyBox, Ubuntu), so a file looks the
same wherever it is. They are tiny synthetic trees: the programs are small
executable files that run the registered program of their name (see
:func:`~aivle_k8s.linux.kernel.program_entry`), while the files a student
reads (``/etc/os-release``, ``/etc/passwd``, the package databases) are real.

>>> layer = ubuntu_layer()
>>> layer["/etc/os-release"].data.splitlines()[0]
b'PRETTY_NAME="Ubuntu 22.04.4 LTS"'
>>> layer["/bin"]
Entry(kind='symlink', target='usr/bin')
>>> alpine = alpine_layer("3.19")
>>> alpine["/bin/sh"], alpine["/bin/busybox"].executable
(Entry(kind='symlink', target='/bin/busybox'), True)
>>> b'VERSION_ID="12"' in debian_layer("bookworm")["/usr/lib/os-release"].data
True

Every builder returns a new ``dict`` (the entries are immutable and shared
between calls, so building again is cheap and gives byte-identical layers).
"""

from __future__ import annotations

from functools import lru_cache

from ..sim.errors import InvalidInput
from .fs import Entry, parent_dirs
from .kernel import program_entry

__all__ = [
    "COREUTILS",
    "SYSTEM_TOOLS",
    "BUSYBOX_APPLETS",
    "make_layer",
    "ubuntu_layer",
    "debian_layer",
    "ubuntu_image_layer",
    "alpine_layer",
    "busybox_layer",
    "os_release",
    "OS_RELEASE",
    "DISTROS",
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
    "lsb_release", "iptables", "nsenter", "ethtool", "conntrack", "socat", "ebtables", "pgrep", "pkill", "tar",
]

#: The applets of the simulated BusyBox (1.36): each runs the program of the same name.
BUSYBOX_APPLETS = sorted(set(COREUTILS) - {"bash"} | {
    "ash", "awk", "nc", "ping", "wget", "nslookup", "vi", "top", "gzip", "gunzip", "tar", "less",
    "more", "md5sum", "sha256sum", "watch", "nohup", "uptime", "mktemp", "realpath", "netstat",
    "ifconfig", "ip", "httpd", "hexdump", "clear", "reset", "su", "login", "adduser", "addgroup",
    "usleep", "sync", "getty", "init", "halt", "reboot", "poweroff", "dmesg", "route", "traceroute",
    "telnet", "diff", "patch", "expr", "cmp", "od", "xxd", "base64", "unzip", "bzip2", "fold",
    "nl", "paste", "rev", "split", "tac", "time", "tty", "users", "who", "pidof", "pgrep", "pkill",
    "killall", "renice", "nice", "chgrp", "chroot", "sh", "umount", "mknod", "mkfifo", "sysctl",
    "hwclock", "ln", "ls", "vi",
})

# Where each applet lives in Alpine (the rest are in /bin, like busybox's own install).
_ALPINE_DIRS = {
    "/usr/bin": {
        "[", "awk", "basename", "cut", "dirname", "du", "env", "expr", "find", "free", "head", "hexdump",
        "id", "install", "less", "md5sum", "mkfifo", "nc", "nl", "nohup", "nproc", "od", "paste",
        "pgrep", "pkill", "readlink", "realpath", "rev", "seq", "sha256sum", "sort", "split", "tac",
        "tail", "tee", "telnet", "test", "time", "timeout", "top", "tr", "traceroute", "tty", "uniq",
        "unzip", "uptime", "users", "vi", "watch", "wc", "wget", "which", "who", "whoami", "xargs",
        "xxd", "yes", "base64", "bzip2", "clear", "cmp", "diff", "fold", "patch", "renice", "reset",
        "nslookup", "killall", "mktemp",
    },
    "/sbin": {"ifconfig", "route", "sysctl", "getty", "init", "halt", "reboot", "poweroff", "mknod",
              "hwclock", "adduser", "addgroup"},
    "/usr/sbin": {"chroot", "httpd"},
}

#: ``/etc/os-release`` of each distribution release.
OS_RELEASE = {
    "ubuntu": (
        'PRETTY_NAME="Ubuntu 22.04.4 LTS"\nNAME="Ubuntu"\nVERSION_ID="22.04"\n'
        'VERSION="22.04.4 LTS (Jammy Jellyfish)"\nVERSION_CODENAME=jammy\nID=ubuntu\nID_LIKE=debian\n'
        'HOME_URL="https://www.ubuntu.com/"\nUBUNTU_CODENAME=jammy\n'
    ),
    "ubuntu-24.04": (
        'PRETTY_NAME="Ubuntu 24.04 LTS"\nNAME="Ubuntu"\nVERSION_ID="24.04"\n'
        'VERSION="24.04 LTS (Noble Numbat)"\nVERSION_CODENAME=noble\nID=ubuntu\nID_LIKE=debian\n'
        'HOME_URL="https://www.ubuntu.com/"\nSUPPORT_URL="https://help.ubuntu.com/"\n'
        'BUG_REPORT_URL="https://bugs.launchpad.net/ubuntu/"\n'
        'PRIVACY_POLICY_URL="https://www.ubuntu.com/legal/terms-and-policies/privacy-policy"\n'
        'UBUNTU_CODENAME=noble\nLOGO=ubuntu-logo\n'
    ),
    "debian-bookworm": (
        'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nNAME="Debian GNU/Linux"\nVERSION_ID="12"\n'
        'VERSION="12 (bookworm)"\nVERSION_CODENAME=bookworm\nID=debian\n'
        'HOME_URL="https://www.debian.org/"\nSUPPORT_URL="https://www.debian.org/support"\n'
        'BUG_REPORT_URL="https://bugs.debian.org/"\n'
    ),
    "alpine-3.19": (
        'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.19.1\nPRETTY_NAME="Alpine Linux v3.19"\n'
        'HOME_URL="https://alpinelinux.org/"\nBUG_REPORT_URL="https://gitlab.alpinelinux.org/alpine/aports/-/issues"\n'
    ),
    "alpine-3.20": (
        'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.2\nPRETTY_NAME="Alpine Linux v3.20"\n'
        'HOME_URL="https://alpinelinux.org/"\nBUG_REPORT_URL="https://gitlab.alpinelinux.org/alpine/aports/-/issues"\n'
    ),
}
OS_RELEASE["ubuntu-22.04"] = OS_RELEASE["ubuntu"]

#: Releases the builders know: name -> (os-release key, codename or alpine branch).
DISTROS = {
    ("ubuntu", "22.04"): "jammy",
    ("ubuntu", "24.04"): "noble",
    ("debian", "bookworm"): "bookworm",
    ("debian", "12"): "bookworm",
    ("alpine", "3.19"): "v3.19",
    ("alpine", "3.20"): "v3.20",
    ("busybox", "1.36"): "1.36.1",
}


def os_release(text: str) -> dict[str, str]:
    """The fields of an ``/etc/os-release`` file (quotes removed).

    >>> os_release(OS_RELEASE["debian-bookworm"])["VERSION_CODENAME"]
    'bookworm'
    """
    out: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep and key.strip() and not key.startswith("#"):
            out[key.strip()] = value.strip().strip('"').strip("'")
    return out


def make_layer(files: dict[str, Entry | bytes | str], *, programs: dict[str, str] | None = None,
               sizes: dict[str, int] | None = None, default_size: int = 2048) -> dict[str, Entry]:
    """A layer from ``files`` (path -> Entry or content) and ``programs`` (path -> program name).

    Parent directories are added automatically. ``sizes`` gives the file size
    of some programs (by program name; ``default_size`` otherwise).

    >>> sorted(make_layer({"/etc/motd": "hi\\n"}, programs={"/usr/bin/true": "true"}))
    ['/etc', '/etc/motd', '/usr', '/usr/bin', '/usr/bin/true']
    """
    layer: dict[str, Entry] = {}
    items: dict[str, Entry] = {}
    for path, value in files.items():
        items[path] = value if isinstance(value, Entry) else Entry.file(value)
    for path, name in (programs or {}).items():
        items[path] = _program(name, (sizes or {}).get(name, default_size))
    for path, entry in items.items():
        for d in parent_dirs(path):
            if d not in layer and d not in items:
                layer[d] = Entry.directory()
        layer[path] = entry
    return dict(sorted(layer.items()))


@lru_cache(maxsize=None)
def _program(name: str, size: int) -> Entry:
    return program_entry(name, size)


# -- users and groups -------------------------------------------------------------------
_DEBIAN_PASSWD = (
    "root:x:0:0:root:/root:/bin/bash\n"
    "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
    "bin:x:2:2:bin:/bin:/usr/sbin/nologin\n"
    "sys:x:3:3:sys:/dev:/usr/sbin/nologin\n"
    "sync:x:4:65534:sync:/bin:/bin/sync\n"
    "games:x:5:60:games:/usr/games:/usr/sbin/nologin\n"
    "man:x:6:12:man:/var/cache/man:/usr/sbin/nologin\n"
    "lp:x:7:7:lp:/var/spool/lpd:/usr/sbin/nologin\n"
    "mail:x:8:8:mail:/var/mail:/usr/sbin/nologin\n"
    "news:x:9:9:news:/var/spool/news:/usr/sbin/nologin\n"
    "uucp:x:10:10:uucp:/var/spool/uucp:/usr/sbin/nologin\n"
    "proxy:x:13:13:proxy:/bin:/usr/sbin/nologin\n"
    "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n"
    "backup:x:34:34:backup:/var/backups:/usr/sbin/nologin\n"
    "list:x:38:38:Mailing List Manager:/var/list:/usr/sbin/nologin\n"
    "irc:x:39:39:ircd:/run/ircd:/usr/sbin/nologin\n"
    "_apt:x:42:65534::/nonexistent:/usr/sbin/nologin\n"
    "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
)
_DEBIAN_GROUP = (
    "root:x:0:\ndaemon:x:1:\nbin:x:2:\nsys:x:3:\nadm:x:4:\ntty:x:5:\ndisk:x:6:\nlp:x:7:\nmail:x:8:\n"
    "news:x:9:\nuucp:x:10:\nman:x:12:\nproxy:x:13:\nkmem:x:15:\ndialout:x:20:\nfax:x:21:\nvoice:x:22:\n"
    "cdrom:x:24:\nfloppy:x:25:\ntape:x:26:\nsudo:x:27:\naudio:x:29:\ndip:x:30:\nwww-data:x:33:\n"
    "backup:x:34:\noperator:x:37:\nlist:x:38:\nirc:x:39:\nsrc:x:40:\nshadow:x:42:\nutmp:x:43:\n"
    "video:x:44:\nsasl:x:45:\nplugdev:x:46:\nstaff:x:50:\ngames:x:60:\nusers:x:100:\nnogroup:x:65534:\n"
)
_ALPINE_PASSWD = (
    "root:x:0:0:root:/root:/bin/sh\n"
    "bin:x:1:1:bin:/bin:/sbin/nologin\n"
    "daemon:x:2:2:daemon:/sbin:/sbin/nologin\n"
    "adm:x:3:4:adm:/var/adm:/sbin/nologin\n"
    "lp:x:4:7:lp:/var/spool/lpd:/sbin/nologin\n"
    "sync:x:5:0:sync:/sbin:/bin/sync\n"
    "shutdown:x:6:0:shutdown:/sbin:/sbin/shutdown\n"
    "halt:x:7:0:halt:/sbin:/sbin/halt\n"
    "mail:x:8:12:mail:/var/mail:/sbin/nologin\n"
    "news:x:9:13:news:/usr/lib/news:/sbin/nologin\n"
    "uucp:x:10:14:uucp:/var/spool/uucppublic:/sbin/nologin\n"
    "operator:x:11:0:operator:/root:/sbin/nologin\n"
    "man:x:13:15:man:/usr/man:/sbin/nologin\n"
    "postmaster:x:14:12:postmaster:/var/mail:/sbin/nologin\n"
    "cron:x:16:16:cron:/var/spool/cron:/sbin/nologin\n"
    "ftp:x:21:21::/var/lib/ftp:/sbin/nologin\n"
    "sshd:x:22:22:sshd:/dev/null:/sbin/nologin\n"
    "at:x:25:25:at:/var/spool/cron/atjobs:/sbin/nologin\n"
    "squid:x:31:31:Squid:/var/cache/squid:/sbin/nologin\n"
    "xfs:x:33:33:X Font Server:/etc/X11/fs:/sbin/nologin\n"
    "games:x:35:35:games:/usr/games:/sbin/nologin\n"
    "cyrus:x:85:12::/usr/cyrus:/sbin/nologin\n"
    "vpopmail:x:89:89::/var/vpopmail:/sbin/nologin\n"
    "ntp:x:123:123:NTP:/var/empty:/sbin/nologin\n"
    "smmsp:x:209:209:smmsp:/var/spool/mqueue:/sbin/nologin\n"
    "guest:x:405:100:guest:/dev/null:/sbin/nologin\n"
    "nobody:x:65534:65534:nobody:/:/sbin/nologin\n"
)
_ALPINE_GROUP = (
    "root:x:0:root\nbin:x:1:root,bin,daemon\ndaemon:x:2:root,bin,daemon\nsys:x:3:root,bin,adm\n"
    "adm:x:4:root,adm,daemon\ntty:x:5:\ndisk:x:6:root,adm\nlp:x:7:lp\nkmem:x:9:\nwheel:x:10:root\n"
    "floppy:x:11:root\nmail:x:12:mail\nnews:x:13:news\nuucp:x:14:uucp\ncron:x:16:cron\naudio:x:18:\n"
    "cdrom:x:19:\ndialout:x:20:root\nftp:x:21:\nsshd:x:22:\ninput:x:23:\ntape:x:26:root\nvideo:x:27:root\n"
    "netdev:x:28:\nkvm:x:34:kvm\ngames:x:35:\nshadow:x:42:\nwww-data:x:82:\nusers:x:100:games\n"
    "ntp:x:123:\nabuild:x:300:\nutmp:x:406:\nping:x:999:\nnogroup:x:65533:\nnobody:x:65534:\n"
)
_BUSYBOX_PASSWD = (
    "root:x:0:0:root:/root:/bin/sh\ndaemon:x:1:1:daemon:/usr/sbin:/bin/false\nbin:x:2:2:bin:/bin:/bin/false\n"
    "sys:x:3:3:sys:/dev:/bin/false\nsync:x:4:100:sync:/bin:/bin/sync\nmail:x:8:8:mail:/var/spool/mail:/bin/false\n"
    "www-data:x:33:33:www-data:/var/www:/bin/false\noperator:x:37:37:Operator:/var:/bin/false\n"
    "nobody:x:65534:65534:nobody:/home:/bin/false\n"
)
_BUSYBOX_GROUP = (
    "root:x:0:\ndaemon:x:1:\nbin:x:2:\nsys:x:3:\nadm:x:4:\ntty:x:5:\ndisk:x:6:\nlp:x:7:\nmail:x:8:\nkmem:x:9:\n"
    "wheel:x:10:root\ncdrom:x:11:\ndialout:x:18:\nfloppy:x:19:\nvideo:x:28:\naudio:x:29:\ntape:x:32:\n"
    "www-data:x:33:\noperator:x:37:\nutmp:x:43:\nplugdev:x:46:\nstaff:x:50:\nlock:x:54:\nnetdev:x:82:\n"
    "users:x:100:\nnobody:x:65534:\n"
)

_BASH_BASHRC = (
    "# System-wide .bashrc file for interactive bash(1) shells.\n"
    "[ -z \"$PS1\" ] && return\n"
    "PS1='${debian_chroot:+($debian_chroot)}\\u@\\h:\\w\\$ '\n"
)
_PROFILE = (
    '# /etc/profile: system-wide .profile file for the Bourne shell (sh(1))\n'
    'if [ "$(id -u)" -eq 0 ]; then\n'
    '  PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"\n'
    'else\n'
    '  PATH="/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games"\n'
    'fi\nexport PATH\n'
)

#: The directories of a Linux root (FHS) every distribution has.
_FHS = {
    "/root": Entry.directory(0o700),
    "/tmp": Entry.directory(0o1777),
    "/var/tmp": Entry.directory(0o1777),
    "/home": Entry.directory(),
    "/dev": Entry.directory(),
    "/proc": Entry.directory(0o555),
    "/sys": Entry.directory(0o555),
    "/run": Entry.directory(),
    "/srv": Entry.directory(),
    "/mnt": Entry.directory(),
    "/media": Entry.directory(),
    "/opt": Entry.directory(),
    "/var/log": Entry.directory(),
    "/var/cache": Entry.directory(),
    "/var/lib": Entry.directory(),
    "/var/spool": Entry.directory(),
    "/var/mail": Entry.directory(0o2775, 0, 8),
    "/usr/local/bin": Entry.directory(),
    "/usr/local/sbin": Entry.directory(),
    "/usr/local/lib": Entry.directory(),
    "/usr/local/share": Entry.directory(),
    "/usr/share": Entry.directory(),
}

# Programs a Debian-family image ships (ps/free come from procps, which slim images lack).
_DEBIAN_PROGRAMS = [n for n in COREUTILS if n not in ("ps", "free", "sh")]
_DPKG_TOOLS = ["apt-get", "apt", "apt-cache", "apt-mark", "dpkg"]
_PROGRAM_SIZES = {"bash": 6144, "sh": 3072, "apt-get": 3072, "apt": 3072, "dpkg": 4096,
                  "busybox": 8192, "apk": 3072}


def _debian_family(*, os_release_text: str, programs_extra: list[str], files: dict, status_key: str,
                   base_packages: list[str]) -> dict[str, Entry]:
    """A merged-/usr Debian-style root: coreutils, dash as /bin/sh, bash, apt and dpkg."""
    from .packages import dpkg_status_text  # lazy: packages imports this module's helpers

    all_files: dict[str, Entry | bytes | str] = {
        "/bin": Entry.symlink("usr/bin"),
        "/sbin": Entry.symlink("usr/sbin"),
        "/lib": Entry.symlink("usr/lib"),
        "/lib64": Entry.symlink("usr/lib64"),
        "/usr/lib64/ld-linux-x86-64.so.2": Entry.symlink("../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
        "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2": Entry.file(b"\x7fELF ld.so\n" + b"\0" * 200, 0o755),
        "/usr/lib/x86_64-linux-gnu/libc.so.6": Entry.file(b"\x7fELF libc\n" + b"\0" * 400, 0o755),
        "/usr/lib/os-release": os_release_text,
        "/etc/os-release": Entry.symlink("../usr/lib/os-release"),
        "/etc/passwd": _DEBIAN_PASSWD,
        "/etc/group": _DEBIAN_GROUP,
        "/etc/shadow": Entry.file("root:*:19800:0:99999:7:::\n", 0o640, 0, 42),
        "/etc/shells": "# /etc/shells: valid login shells\n/bin/sh\n/usr/bin/sh\n/bin/bash\n/usr/bin/bash\n/bin/dash\n/usr/bin/dash\n",
        "/etc/profile": _PROFILE,
        "/etc/bash.bashrc": _BASH_BASHRC,
        "/etc/nsswitch.conf": "passwd:         files\ngroup:          files\nhosts:          files dns\n",
        "/etc/host.conf": "multi on\n",
        "/root/.bashrc": "# ~/.bashrc: executed by bash(1) for non-login shells.\n",
        "/root/.profile": "# ~/.profile: executed by Bourne-compatible login shells.\n",
        "/usr/bin/sh": Entry.symlink("dash"),
        "/etc/apt/apt.conf.d/docker-clean": (
            'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb '
            '/var/cache/apt/*.bin || true"; };\nDir::Cache::pkgcache ""; Dir::Cache::srcpkgcache "";\n'),
        "/etc/apt/sources.list.d": Entry.directory(),
        "/etc/apt/trusted.gpg.d": Entry.directory(),
        "/etc/apt/preferences.d": Entry.directory(),
        "/var/run": Entry.symlink("/run"),
        "/var/lib/apt/lists": Entry.directory(),
        "/var/lib/apt/lists/partial": Entry.directory(0o700, 42, 0),
        "/var/cache/apt/archives/partial": Entry.directory(0o700, 42, 0),
        "/var/lib/dpkg/info": Entry.directory(),
        "/var/lib/dpkg/status": dpkg_status_text(status_key, base_packages),
        "/var/log/apt": Entry.directory(),
        **_FHS,
    }
    all_files.update(files)
    progs = {f"/usr/bin/{name}": name for name in _DEBIAN_PROGRAMS + programs_extra}
    progs["/usr/bin/dash"] = "sh"
    return make_layer(all_files, programs=progs, sizes=_PROGRAM_SIZES, default_size=1024)


@lru_cache(maxsize=None)
def _debian_cached(release: str) -> tuple:
    if release not in ("bookworm", "12"):
        raise InvalidInput(f'unknown Debian release "{release}" (known: bookworm)')
    from .packages import DEBIAN_BASE

    files = {
        "/etc/debian_version": "12.6\n",
        "/etc/apt/sources.list.d/debian.sources": (
            "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\n"
            "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
            "Types: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\n"
            "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"),
        "/usr/share/keyrings/debian-archive-keyring.gpg": Entry.file(b"\x99\x02\x0d\x04debian-archive-keyring\n"),
    }
    layer = _debian_family(os_release_text=OS_RELEASE["debian-bookworm"], programs_extra=_DPKG_TOOLS,
                           files=files, status_key="bookworm", base_packages=DEBIAN_BASE)
    return tuple(layer.items())


def debian_layer(release: str = "bookworm") -> dict[str, Entry]:
    """The root filesystem of ``debian:bookworm-slim``: Debian 12, merged /usr, dash as ``/bin/sh``,
    bash, coreutils, apt and dpkg — and no procps, curl or ca-certificates (``apt-get install`` them).

    The package lists in ``/var/lib/apt/lists`` are empty, as in the real image: run
    ``apt-get update`` before ``apt-get install``.

    Raises:
        InvalidInput: the release is not known.

    >>> layer = debian_layer("bookworm")
    >>> layer["/usr/bin/sh"], "/usr/bin/ps" in layer, "/etc/hostname" in layer
    (Entry(kind='symlink', target='dash'), False, False)
    """
    return dict(_debian_cached(release))


@lru_cache(maxsize=None)
def _ubuntu_image_cached(version: str) -> tuple:
    from .packages import UBUNTU_IMAGE_BASE

    if version not in ("22.04", "24.04"):
        raise InvalidInput(f'unknown Ubuntu release "{version}" (known: 22.04, 24.04)')
    codename = DISTROS[("ubuntu", version)]
    files: dict[str, Entry | bytes | str] = {
        "/etc/debian_version": "bookworm/sid\n" if version == "22.04" else "trixie/sid\n",
        "/etc/lsb-release": (f"DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE={version}\nDISTRIB_CODENAME={codename}\n"
                             f'DISTRIB_DESCRIPTION="Ubuntu {version}{".4" if version == "22.04" else ""} LTS"\n'),
        "/usr/share/keyrings/ubuntu-archive-keyring.gpg": Entry.file(b"\x99\x02\x0d\x04ubuntu-archive-keyring\n"),
    }
    if version == "22.04":
        files["/etc/apt/sources.list"] = (
            "# See http://help.ubuntu.com/community/UpgradeNotes for how to upgrade to\n"
            "# newer versions of the distribution.\n"
            "deb http://archive.ubuntu.com/ubuntu/ jammy main restricted\n"
            "deb http://archive.ubuntu.com/ubuntu/ jammy-updates main restricted\n"
            "deb http://archive.ubuntu.com/ubuntu/ jammy universe\n"
            "deb http://archive.ubuntu.com/ubuntu/ jammy-updates universe\n"
            "deb http://security.ubuntu.com/ubuntu/ jammy-security main restricted\n"
            "deb http://security.ubuntu.com/ubuntu/ jammy-security universe\n")
    else:
        files["/etc/apt/sources.list"] = "# Ubuntu sources have moved to /etc/apt/sources.list.d/ubuntu.sources\n"
        files["/etc/apt/sources.list.d/ubuntu.sources"] = (
            "Types: deb\nURIs: http://archive.ubuntu.com/ubuntu/\nSuites: noble noble-updates noble-backports\n"
            "Components: main universe restricted multiverse\n"
            "Signed-By: /usr/share/keyrings/ubuntu-archive-keyring.gpg\n\n"
            "Types: deb\nURIs: http://security.ubuntu.com/ubuntu/\nSuites: noble-security\n"
            "Components: main universe restricted multiverse\n"
            "Signed-By: /usr/share/keyrings/ubuntu-archive-keyring.gpg\n")
        files["/etc/passwd"] = _DEBIAN_PASSWD + "ubuntu:x:1000:1000:Ubuntu:/home/ubuntu:/bin/bash\n"
        files["/etc/group"] = _DEBIAN_GROUP.replace("sudo:x:27:", "sudo:x:27:ubuntu") + "ubuntu:x:1000:\n"
        files["/home/ubuntu"] = Entry.directory(0o750, 1000, 1000)
        files["/home/ubuntu/.bashrc"] = Entry.file("# ~/.bashrc\n", 0o644, 1000, 1000)
    layer = _debian_family(
        os_release_text=OS_RELEASE[f"ubuntu-{version}"], programs_extra=_DPKG_TOOLS + ["ps", "free"],
        files=files, status_key=codename, base_packages=UBUNTU_IMAGE_BASE)
    return tuple(layer.items())


def ubuntu_image_layer(version: str = "22.04") -> dict[str, Entry]:
    """The root filesystem of the ``ubuntu:22.04`` / ``ubuntu:24.04`` image.

    Unlike a machine (:func:`ubuntu_layer`) it has no sudo, no systemd, no curl
    and empty package lists; ``ubuntu:24.04`` has an ``ubuntu`` user (uid 1000).

    Raises:
        InvalidInput: the version is not known.

    >>> layer = ubuntu_image_layer("24.04")
    >>> "/usr/bin/sudo" in layer, "ubuntu:x:1000" in layer["/etc/passwd"].data.decode()
    (False, True)
    """
    return dict(_ubuntu_image_cached(version))


def _busybox_applet_paths(dirs: dict[str, set[str]] | None) -> dict[str, str]:
    out = {}
    for applet in BUSYBOX_APPLETS:
        d = "/bin"
        for candidate, names in (dirs or {}).items():
            if applet in names:
                d = candidate
        out[f"{d}/{applet}"] = applet
    return out


@lru_cache(maxsize=None)
def _alpine_cached(version: str) -> tuple:
    from .packages import ALPINE_BASE, apk_installed_text

    if version not in ("3.19", "3.20"):
        raise InvalidInput(f'unknown Alpine release "{version}" (known: 3.19, 3.20)')
    full = {"3.19": "3.19.1", "3.20": "3.20.2"}[version]
    files: dict[str, Entry | bytes | str] = {
        "/bin/busybox": _program("busybox", _PROGRAM_SIZES["busybox"]),
        "/sbin/apk": _program("apk", _PROGRAM_SIZES["apk"]),
        "/lib/ld-musl-x86_64.so.1": Entry.file(b"\x7fELF musl\n" + b"\0" * 300, 0o755),
        "/lib/libc.musl-x86_64.so.1": Entry.symlink("ld-musl-x86_64.so.1"),
        "/etc/alpine-release": full + "\n",
        "/etc/os-release": OS_RELEASE[f"alpine-{version}"],
        "/etc/passwd": _ALPINE_PASSWD,
        "/etc/group": _ALPINE_GROUP,
        "/etc/shadow": Entry.file("root:*::0:::::\n", 0o640, 0, 42),
        "/etc/shells": "# valid login shells\n/bin/sh\n/bin/ash\n",
        "/etc/profile": 'export PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"\nexport PAGER=less\numask 022\n',
        "/etc/motd": "Welcome to Alpine!\n\nThe Alpine Wiki contains a large amount of how-to guides and general\n"
                     "information about administrating Alpine systems.\nSee <https://wiki.alpinelinux.org/>.\n",
        "/etc/apk/repositories": (f"https://dl-cdn.alpinelinux.org/alpine/v{version}/main\n"
                                  f"https://dl-cdn.alpinelinux.org/alpine/v{version}/community\n"),
        "/etc/apk/world": "alpine-baselayout\nalpine-keys\napk-tools\nbusybox\nca-certificates-bundle\nlibc-utils\n",
        "/etc/apk/arch": "x86_64\n",
        "/etc/apk/keys/alpine-devel@lists.alpinelinux.org-6165ee59.rsa.pub": "-----BEGIN PUBLIC KEY-----\nMIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEAutQkua2CAig4VFSJ7v54\n-----END PUBLIC KEY-----\n",
        "/etc/ssl/certs/ca-certificates.crt": "# simulated CA bundle\n",
        "/lib/apk/db/installed": apk_installed_text(f"v{version}", ALPINE_BASE),
        "/var/cache/apk": Entry.directory(),
        "/etc/hosts": "127.0.0.1\tlocalhost localhost.localdomain\n::1\t\tlocalhost localhost.localdomain\n",
        **_FHS,
    }
    for path, _applet in _busybox_applet_paths(_ALPINE_DIRS).items():
        files[path] = Entry.symlink("/bin/busybox")
    layer = make_layer(files)
    return tuple(layer.items())


def alpine_layer(version: str = "3.19") -> dict[str, Entry]:
    """The root filesystem of ``alpine:3.19`` / ``alpine:3.20``: musl, BusyBox and apk.

    ``/bin/busybox`` is one program; ``/bin/sh``, ``/bin/ls`` and the other
    applets are symlinks to it (it runs the applet named by ``argv[0]``).
    Packages come from ``apk add``; there is no bash.

    Raises:
        InvalidInput: the version is not known.

    >>> layer = alpine_layer("3.20")
    >>> layer["/etc/alpine-release"].data, "/bin/bash" in layer
    (b'3.20.2\\n', False)
    """
    return dict(_alpine_cached(version))


@lru_cache(maxsize=None)
def _busybox_cached(version: str) -> tuple:
    if version not in ("1.36", "1.36.1"):
        raise InvalidInput(f'unknown BusyBox version "{version}" (known: 1.36)')
    binary = _program("busybox", 1024)
    files: dict[str, Entry | bytes | str] = {
        "/etc/passwd": _BUSYBOX_PASSWD,
        "/etc/group": _BUSYBOX_GROUP,
        "/etc/shadow": Entry.file("root:*:10933:0:99999:7:::\n", 0o600),
        "/etc/localtime": Entry.file(b"TZif2\0UTC\n"),
        "/etc/network/if-up.d": Entry.directory(),
        "/root": Entry.directory(0o700),
        "/tmp": Entry.directory(0o1777),
        "/home": Entry.directory(),
        "/dev": Entry.directory(),
        "/proc": Entry.directory(0o555),
        "/sys": Entry.directory(0o555),
        "/usr/sbin": Entry.directory(),
        "/var/spool/mail": Entry.directory(),
        "/var/www": Entry.directory(),
        "/bin/busybox": binary,
    }
    # busybox's own `make install` uses hard links: every applet is the same binary
    for applet in BUSYBOX_APPLETS:
        files[f"/bin/{applet}"] = binary
    return tuple(make_layer(files).items())


def busybox_layer(version: str = "1.36") -> dict[str, Entry]:
    """The root filesystem of ``busybox:1.36``: one static ``/bin/busybox`` and a copy of it
    (a hard link in the real image) for every applet in ``/bin``. No package manager.

    Raises:
        InvalidInput: the version is not known.

    >>> layer = busybox_layer()
    >>> layer["/bin/sh"].data == layer["/bin/busybox"].data, "/etc/os-release" in layer
    (True, False)
    """
    return dict(_busybox_cached(version))


def ubuntu_layer(hostname: str = "ubuntu") -> dict[str, Entry]:
    """The disk of a fresh Ubuntu 22.04 machine: merged /usr, a ``student`` user with sudo, swap in fstab.

    The package database lists what a server install has (``dpkg -l``), and the
    Ubuntu archive's package lists are already downloaded (``apt-get install``
    works without ``apt-get update``; third-party repositories still need it).
    """
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
        "/var/run": Entry.symlink("/run"),  # Ubuntu: /var/run is /run
        "/dev": Entry.directory(),
        "/proc": Entry.directory(0o555),
        "/usr/local/bin": Entry.directory(),
        "/usr/local/sbin": Entry.directory(),
        "/usr/lib": Entry.directory(),
        "/opt": Entry.directory(),
        "/swap.img": Entry.file(b"\0" * 64, 0o600),
    }
    files.update(_ubuntu_machine_package_files())
    progs = {f"/usr/bin/{name}": name for name in COREUTILS}
    progs.update({f"/usr/sbin/{name}" if name in {"swapoff", "swapon", "modprobe", "lsmod", "sysctl", "ip", "iptables", "ebtables"} else f"/usr/bin/{name}": name for name in SYSTEM_TOOLS})
    return make_layer(files, programs=progs)


@lru_cache(maxsize=None)
def _ubuntu_machine_package_files_cached() -> tuple:
    from .packages import UBUNTU_MACHINE_BASE, apt_lists_files, dpkg_status_text

    files: dict[str, Entry] = {
        "/var/lib/dpkg/status": Entry.file(dpkg_status_text("jammy", UBUNTU_MACHINE_BASE)),
        "/var/lib/dpkg/info": Entry.directory(),
        "/var/lib/apt/lists/partial": Entry.directory(0o700, 42, 0),
        "/var/cache/apt/archives/partial": Entry.directory(0o700, 42, 0),
        "/var/log/apt": Entry.directory(),
        "/etc/apt/trusted.gpg.d/ubuntu-keyring-2018-archive.gpg": Entry.file(b"\x99\x02\x0d\x04ubuntu-keyring-2018\n"),
        "/etc/lsb-release": Entry.file('DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\nDISTRIB_CODENAME=jammy\n'
                                       'DISTRIB_DESCRIPTION="Ubuntu 22.04.4 LTS"\n'),
    }
    files.update(apt_lists_files("http://archive.ubuntu.com/ubuntu", "jammy", ["main", "restricted", "universe"]))
    return tuple(files.items())


def _ubuntu_machine_package_files() -> dict[str, Entry]:
    return dict(_ubuntu_machine_package_files_cached())
