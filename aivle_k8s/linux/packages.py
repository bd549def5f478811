"""Package repositories and the package managers that install from them.

One declarative table per ecosystem describes every package the simulated
internet serves: Ubuntu and Debian archives, the Docker repository
(download.docker.com), the Kubernetes repositories (pkgs.k8s.io, one per
minor version), CRI-O, cri-dockerd's GitHub ``.deb``, Alpine and PyPI.
The package managers are programs that read and write the same files the
real ones do, so their state is part of a machine's disk or an image layer:

* ``apt-get``/``apt``/``apt-cache``/``apt-mark``/``dpkg``: sources in
  ``/etc/apt/sources.list(.d)``, downloaded lists in ``/var/lib/apt/lists``
  (``apt-get update``), installed packages in ``/var/lib/dpkg/status`` and
  ``/var/lib/dpkg/info/<pkg>.list``;
* ``apk``: ``/etc/apk/repositories``, ``/etc/apk/world``, ``/lib/apk/db/installed``;
* ``pip``/``pip3``: ``*.dist-info`` directories in site-packages.

Installing on a machine's own disk (not inside a container) registers the
package's systemd units with the machine's service manager, calls
``machine.package_installed(name, version)`` (which runs the hooks in
:data:`aivle_k8s.machines.PACKAGE_HOOKS`) and starts the units the package
enables, as Debian's maintainer scripts do.

>>> [p.version for p in available("k8s/v1.30") if p.name == "kubeadm"][:3]
['1.30.0-1.1', '1.30.1-1.1', '1.30.2-1.1']
>>> compare_versions("1.30.10-1.1", "1.30.9-1.1") > 0, compare_versions("1.0~rc1", "1.0") < 0
(True, True)
>>> find_package("docker.io", "ubuntu/jammy").depends
('containerd', 'runc', 'iptables', 'adduser')
"""

from __future__ import annotations

import fnmatch
import hashlib
import posixpath
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, Iterable, Mapping

from ..sim.errors import AivleError, FsError
from .fs import Entry, join
from .kernel import PROGRAM_MAGIC, Process, program_entry, register_program
from .services import Unit

__all__ = [
    "Package",
    "RepoInfo",
    "REPOS",
    "index",
    "available",
    "find_package",
    "installed_version",
    "versioned_program_entry",
    "program_version",
    "etcd_tarball",
    "ETCD_TARBALL_URL",
    "compare_versions",
    "dpkg_status_text",
    "apk_installed_text",
    "apt_lists_files",
    "deb_file",
    "downloads",
    "publish_downloads",
    "CRI_DOCKERD_URL",
    "DEBIAN_BASE",
    "UBUNTU_IMAGE_BASE",
    "UBUNTU_MACHINE_BASE",
    "ALPINE_BASE",
    "PYPI",
]

MB = 1_000_000
kB = 1_000

# ---------------------------------------------------------------------------------------------
# The tables
# ---------------------------------------------------------------------------------------------

#: Base packages: name -> (section, description, {codename: version}). Their files are in the
#: distribution's root filesystem already (see :mod:`aivle_k8s.linux.distro`).
_BASE: dict[str, tuple[str, str, dict[str, str]]] = {
    "adduser": ("admin", "add and remove users and groups", {"jammy": "3.118ubuntu5", "noble": "3.137ubuntu1", "bookworm": "3.134"}),
    "apt": ("admin", "commandline package manager", {"jammy": "2.4.12", "noble": "2.7.14build2", "bookworm": "2.6.1"}),
    "apt-utils": ("admin", "package management related utility programs", {"jammy": "2.4.12", "noble": "2.7.14build2", "bookworm": "2.6.1"}),
    "base-files": ("admin", "Debian base system miscellaneous files", {"jammy": "12ubuntu4.6", "noble": "13ubuntu10", "bookworm": "12.4+deb12u6"}),
    "base-passwd": ("admin", "Debian base system master password and group files", {"jammy": "3.5.52build1", "noble": "3.6.3build1", "bookworm": "3.6.1"}),
    "bash": ("shells", "GNU Bourne Again SHell", {"jammy": "5.1-6ubuntu1.1", "noble": "5.2.21-2ubuntu4", "bookworm": "5.2.15-2+b7"}),
    "bsdutils": ("utils", "basic utilities from 4.4BSD-Lite", {"jammy": "1:2.37.2-4ubuntu3.4", "noble": "1:2.39.3-9ubuntu6", "bookworm": "1:2.38.1-5+deb12u1"}),
    "coreutils": ("utils", "GNU core utilities", {"jammy": "8.32-4.1ubuntu1.2", "noble": "9.4-3ubuntu6", "bookworm": "9.1-1"}),
    "dash": ("shells", "POSIX-compliant shell", {"jammy": "0.5.11+git20210903+057cd650a4ed-3build1", "noble": "0.5.12-6ubuntu5", "bookworm": "0.5.12-2"}),
    "debconf": ("admin", "Debian configuration management system", {"jammy": "1.5.79ubuntu1", "noble": "1.5.86ubuntu1", "bookworm": "1.5.82"}),
    "debian-archive-keyring": ("misc", "GnuPG archive keys of the Debian archive", {"bookworm": "2023.3+deb12u1"}),
    "debianutils": ("utils", "Miscellaneous utilities specific to Debian", {"jammy": "5.5-1ubuntu2", "noble": "5.17build1", "bookworm": "5.7-0.5~deb12u1"}),
    "diffutils": ("utils", "File comparison utilities", {"jammy": "1:3.8-0ubuntu2", "noble": "1:3.10-1build1", "bookworm": "1:3.8-4"}),
    "dpkg": ("admin", "Debian package management system", {"jammy": "1.21.1ubuntu2.3", "noble": "1.22.6ubuntu6", "bookworm": "1.21.22"}),
    "e2fsprogs": ("admin", "ext2/ext3/ext4 file system utilities", {"jammy": "1.46.5-2ubuntu1.1", "noble": "1.47.0-2.4~exp1ubuntu4", "bookworm": "1.47.0-2"}),
    "findutils": ("utils", "utilities for finding files--find, xargs", {"jammy": "4.8.0-1ubuntu3", "noble": "4.9.0-5build1", "bookworm": "4.9.0-4"}),
    "gcc-12-base": ("libs", "GCC, the GNU Compiler Collection (base package)", {"jammy": "12.3.0-1ubuntu1~22.04", "bookworm": "12.2.0-14"}),
    "gpgv": ("utils", "GNU privacy guard - signature verification tool", {"jammy": "2.2.27-3ubuntu2.1", "noble": "2.4.4-2ubuntu17", "bookworm": "2.2.40-1.1"}),
    "grep": ("utils", "GNU grep, egrep and fgrep", {"jammy": "3.7-1build1", "noble": "3.11-4build1", "bookworm": "3.8-5"}),
    "gzip": ("utils", "GNU compression utilities", {"jammy": "1.10-4ubuntu4.1", "noble": "1.12-1ubuntu3", "bookworm": "1.12-1"}),
    "hostname": ("admin", "utility to set/show the host name or domain name", {"jammy": "3.23ubuntu2", "noble": "3.23+nmu2ubuntu2", "bookworm": "3.23+nmu1"}),
    "init-system-helpers": ("admin", "helper tools for all init systems", {"jammy": "1.62", "noble": "1.66ubuntu1", "bookworm": "1.65.2"}),
    "libc-bin": ("libs", "GNU C Library: Binaries", {"jammy": "2.35-0ubuntu3.8", "noble": "2.39-0ubuntu8.3", "bookworm": "2.36-9+deb12u7"}),
    "libc6": ("libs", "GNU C Library: Shared libraries", {"jammy": "2.35-0ubuntu3.8", "noble": "2.39-0ubuntu8.3", "bookworm": "2.36-9+deb12u7"}),
    "login": ("admin", "system login tools", {"jammy": "1:4.8.1-2ubuntu2.2", "noble": "1:4.13+dfsg1-4ubuntu3", "bookworm": "1:4.13+dfsg1-1+b1"}),
    "man-db": ("doc", "tools for reading manual pages", {"jammy": "2.10.2-1", "noble": "2.12.0-4build2", "bookworm": "2.11.2-2"}),
    "mawk": ("interpreters", "Pattern scanning and text processing language", {"jammy": "1.3.4.20200120-3", "noble": "1.3.4.20240123-1build1", "bookworm": "1.3.4.20200120-3.1"}),
    "mount": ("admin", "tools for mounting and manipulating filesystems", {"jammy": "2.37.2-4ubuntu3.4", "noble": "2.39.3-9ubuntu6", "bookworm": "2.38.1-5+deb12u1"}),
    "ncurses-base": ("misc", "basic terminal type definitions", {"jammy": "6.3-2ubuntu0.1", "noble": "6.4+20240113-1ubuntu2", "bookworm": "6.4-4"}),
    "netbase": ("admin", "Basic TCP/IP networking system", {"jammy": "6.3", "noble": "6.4", "bookworm": "6.4"}),
    "openssh-server": ("net", "secure shell (SSH) server, for secure access from remote machines", {"jammy": "1:8.9p1-3ubuntu0.10", "noble": "1:9.6p1-3ubuntu13.5", "bookworm": "1:9.2p1-2+deb12u3"}),
    "passwd": ("admin", "change and administer password and group data", {"jammy": "1:4.8.1-2ubuntu2.2", "noble": "1:4.13+dfsg1-4ubuntu3", "bookworm": "1:4.13+dfsg1-1+b1"}),
    "perl-base": ("perl", "minimal Perl system", {"jammy": "5.34.0-3ubuntu1.3", "noble": "5.38.2-3.2build2", "bookworm": "5.36.0-7+deb12u1"}),
    "sed": ("utils", "GNU stream editor for filtering/transforming text", {"jammy": "4.8-1ubuntu2", "noble": "4.9-2build1", "bookworm": "4.9-1"}),
    "systemd": ("admin", "system and service manager", {"jammy": "249.11-0ubuntu3.12", "noble": "255.4-1ubuntu8.4", "bookworm": "252.30-1~deb12u2"}),
    "tar": ("utils", "GNU version of the tar archiving utility", {"jammy": "1.34+dfsg-1ubuntu0.1.22.04.2", "noble": "1.35+dfsg-3build1", "bookworm": "1.34+dfsg-1.2+deb12u1"}),
    "tzdata": ("localization", "time zone and daylight-saving time data", {"jammy": "2024a-0ubuntu0.22.04", "noble": "2024a-3ubuntu1.1", "bookworm": "2024a-0+deb12u1"}),
    "ubuntu-keyring": ("misc", "GnuPG keys of the Ubuntu archive", {"jammy": "2021.03.26", "noble": "2023.11.28.1"}),
    "util-linux": ("utils", "miscellaneous system utilities", {"jammy": "2.37.2-4ubuntu3.4", "noble": "2.39.3-9ubuntu6", "bookworm": "2.38.1-5+deb12u1"}),
    "zlib1g": ("libs", "compression library - runtime", {"jammy": "1:1.2.11.dfsg-2ubuntu9.2", "noble": "1:1.3.dfsg-3.1ubuntu2", "bookworm": "1:1.2.13.dfsg-1"}),
}

_COMMON_BASE = [
    "apt", "base-files", "base-passwd", "bash", "bsdutils", "coreutils", "dash", "debconf", "debianutils",
    "diffutils", "dpkg", "findutils", "gcc-12-base", "gpgv", "grep", "gzip", "hostname", "init-system-helpers",
    "libc-bin", "libc6", "login", "mawk", "mount", "ncurses-base", "passwd", "perl-base", "sed", "tar",
    "util-linux", "zlib1g",
]
#: Installed in ``debian:bookworm-slim``.
DEBIAN_BASE = sorted(_COMMON_BASE + ["debian-archive-keyring", "tzdata"])
#: Installed in the ``ubuntu`` images.
UBUNTU_IMAGE_BASE = sorted(_COMMON_BASE + ["procps", "ubuntu-keyring"])
#: Installed on a fresh Ubuntu 22.04 server (a student machine).
UBUNTU_MACHINE_BASE = sorted(set(_COMMON_BASE) | {
    "adduser", "apt-utils", "ca-certificates", "curl", "e2fsprogs", "ethtool", "gnupg", "gpg", "iproute2", "iptables",
    "kmod", "libcurl4", "lsb-release", "man-db", "netbase", "openssh-server", "openssl", "procps", "sudo",
    "systemd", "tzdata", "ubuntu-keyring",
})

_NGINX_WELCOME = """<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>
"""

_NGINX_DEBIAN_CONF = """user www-data;
worker_processes auto;
pid /run/nginx.pid;
include /etc/nginx/modules-enabled/*.conf;

events {
	worker_connections 768;
}

http {
	sendfile on;
	tcp_nopush on;
	types_hash_max_size 2048;
	include /etc/nginx/mime.types;
	default_type application/octet-stream;
	ssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3;
	ssl_prefer_server_ciphers on;
	access_log /var/log/nginx/access.log;
	error_log /var/log/nginx/error.log;
	gzip on;
	include /etc/nginx/conf.d/*.conf;
	include /etc/nginx/sites-enabled/*;
}
"""

_NGINX_DEBIAN_SITE = """# Default server configuration
server {
	listen 80 default_server;
	listen [::]:80 default_server;

	root /var/www/html;

	# Add index.php to the list if you are using PHP
	index index.html index.htm index.nginx-debian.html;

	server_name _;

	location / {
		# First attempt to serve request as file, then
		# as directory, then fall back to displaying a 404.
		try_files $uri $uri/ =404;
	}
}
"""

_NGINX_MIME = """types {
    text/html                                        html htm shtml;
    text/css                                         css;
    text/xml                                         xml;
    image/gif                                        gif;
    image/jpeg                                       jpeg jpg;
    application/javascript                           js;
    text/plain                                       txt;
    image/png                                        png;
    image/svg+xml                                    svg svgz;
    image/x-icon                                     ico;
    application/json                                 json;
    application/pdf                                  pdf;
}
"""

_NGINX_ALPINE_CONF = """# /etc/nginx/nginx.conf
user nginx;
worker_processes auto;
pcre_jit on;
error_log /var/log/nginx/error.log warn;
include /etc/nginx/modules/*.conf;
include /etc/nginx/conf.d/*.conf;

events {
	worker_connections 1024;
}

http {
	include /etc/nginx/mime.types;
	default_type application/octet-stream;
	server_tokens off;
	client_max_body_size 1m;
	sendfile on;
	tcp_nopush on;
	access_log /var/log/nginx/access.log main;
	include /etc/nginx/http.d/*.conf;
}
"""

_NGINX_ALPINE_DEFAULT = """# This is a default site configuration which will simply return 404, preventing
# chance access to any other virtualhost.

server {
	listen 80 default_server;
	listen [::]:80 default_server;

	# Everything is a 404
	location / {
		return 404;
	}

	# You may need this to prevent return 404 recursion.
	location = /404.html {
		internal;
	}
}
"""

_REDIS_DEBIAN_CONF = """# Redis configuration file example (Debian)
bind 127.0.0.1 -::1
protected-mode yes
port 6379
daemonize yes
supervised auto
pidfile /run/redis/redis-server.pid
loglevel notice
logfile /var/log/redis/redis-server.log
databases 16
save 3600 1 300 100 60 10000
dbfilename dump.rdb
dir /var/lib/redis
"""

_CONTAINERD_IO_CONFIG = """#   Copyright 2018-2022 Docker Inc.

#   Licensed under the Apache License, Version 2.0 (the "License");
#   you may not use this file except in compliance with the License.

disabled_plugins = ["cri"]

#root = "/var/lib/containerd"
#state = "/run/containerd"
#subreaper = true
#oom_score = 0

#[grpc]
#  address = "/run/containerd/containerd.sock"
#  uid = 0
#  gid = 0

#[debug]
#  address = "/run/containerd/debug.sock"
#  uid = 0
#  gid = 0
#  level = "info"
"""

_KUBEADM_DROPIN = """# Note: This dropin only works with kubeadm and kubelet v1.11+
[Service]
Environment="KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf"
Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"
# This is a file that "kubeadm init" and "kubeadm join" generates at runtime, populating the KUBELET_KUBEADM_ARGS variable dynamically
EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env
# This is a file that the user can use for overrides of the kubelet args as a last resort. Preferably, the user should use
# the .NodeRegistration.KubeletExtraArgs object in the configuration files instead. KUBELET_EXTRA_ARGS should be sourced from this file.
EnvironmentFile=-/etc/default/kubelet
ExecStart=
ExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS $KUBELET_EXTRA_ARGS
"""

_CRIO_CONF = """# CRI-O configuration drop-in shipped by the cri-o package
[crio.image]
signature_policy = "/etc/crio/policy.json"

[crio.runtime]
default_runtime = "crun"
cgroup_manager = "systemd"

[crio.runtime.runtimes.crun]
runtime_path = "/usr/libexec/crio/crun"
runtime_root = "/run/crun"
monitor_path = "/usr/libexec/crio/conmon"
allowed_annotations = [
    "io.containers.trace-syscall",
]
"""

_CRIO_BRIDGE = """{
  "cniVersion": "1.0.0",
  "name": "crio",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "cni0",
      "isGateway": true,
      "ipMasq": true,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "routes": [
            { "dst": "0.0.0.0/0" }
        ],
        "ranges": [
            [{ "subnet": "10.85.0.0/16" }]
        ]
      }
    }
  ]
}
"""

_CNI_PLUGINS = ["bandwidth", "bridge", "dhcp", "dummy", "firewall", "host-device", "host-local", "ipvlan",
                "loopback", "macvlan", "portmap", "ptp", "sbr", "static", "tap", "tuning", "vlan", "vrf"]

# Unit specs: (name, ExecStart argv, Description, enabled+started by the package, Restart, RestartSec)
_U_DOCKER = ("docker", ["dockerd", "-H", "fd://", "--containerd=/run/containerd/containerd.sock"],
             "Docker Application Container Engine", True, "always", 2.0)
_U_CONTAINERD = ("containerd", ["containerd"], "containerd container runtime", True, "always", 5.0)
_U_KUBELET = ("kubelet", ["kubelet", "--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf",
                          "--kubeconfig=/etc/kubernetes/kubelet.conf", "--config=/var/lib/kubelet/config.yaml"],
              "kubelet: The Kubernetes Node Agent", True, "always", 10.0)
_U_CRIO = ("crio", ["crio"], "Container Runtime Interface for OCI (CRI-O)", False, "on-failure", 5.0)
_U_CRI_DOCKER = ("cri-docker", ["cri-dockerd", "--container-runtime-endpoint", "fd://"],
                 "CRI Interface for Docker Application Container Engine", True, "always", 2.0)
_U_NGINX = ("nginx", ["nginx", "-g", "daemon off; master_process on;"],
            "A high performance web server and a reverse proxy server", True, "on-failure", 5.0)
_U_REDIS = ("redis-server", ["redis-server", "/etc/redis/redis.conf"], "Advanced key-value store", True, "always", 5.0)

_ALL = ("jammy", "noble", "bookworm")

_DEBIAN_EXTERNALLY_MANAGED = """[externally-managed]
Error=To install Python packages system-wide, try apt install
 python3-xyz, where xyz is the package you are trying to
 install.
 
 If you wish to install a non-Debian-packaged Python package,
 create a virtual environment using python3 -m venv path/to/venv.
 Then use path/to/venv/bin/python to run your application.
"""


def _v(jammy: str | None, noble: str | None, bookworm: str | None) -> dict[str, str]:
    return {k: v for k, v in zip(_ALL, (jammy, noble, bookworm)) if v}


#: The Ubuntu and Debian archives: one row per package. ``bin``/``sbin`` are programs in
#: /usr/bin and /usr/sbin, ``files`` more files (str content, or None for a directory), ``links``
#: symlinks, ``units`` systemd units, ``groups`` system groups the package creates.
_ARCHIVE: list[dict[str, Any]] = [
    dict(name="curl", section="web", versions=_v("7.81.0-1ubuntu1.16", "8.5.0-2ubuntu10.4", "7.88.1-10+deb12u6"),
         size=194 * kB, isize=453, depends=("libcurl4",), bin=["curl"],
         description="command line tool for transferring data with URL syntax"),
    dict(name="libcurl4", section="libs", versions=_v("7.81.0-1ubuntu1.16", "8.5.0-2ubuntu10.4", "7.88.1-10+deb12u6"),
         size=290 * kB, isize=788, depends=(), recommends=("ca-certificates",),
         files={"/usr/lib/x86_64-linux-gnu/libcurl.so.4": "\x7fELF libcurl\n"},
         description="easy-to-use client-side URL transfer library (OpenSSL flavour)"),
    dict(name="ca-certificates", section="misc", versions=_v("20230311ubuntu0.22.04.1", "20240203", "20230311"),
         size=155 * kB, isize=393, depends=("openssl",), arch="all",
         files={"/etc/ssl/certs/ca-certificates.crt": "# simulated CA bundle\n", "/usr/sbin/update-ca-certificates": "#!/bin/sh\nexit 0\n"},
         description="Common CA certificates"),
    dict(name="openssl", section="utils", versions=_v("3.0.2-0ubuntu1.16", "3.0.13-0ubuntu3.1", "3.0.13-1~deb12u1"),
         size=1186 * kB, isize=2091, bin=["openssl"],
         description="Secure Sockets Layer toolkit - cryptographic utility"),
    dict(name="gnupg", section="utils", versions=_v("2.2.27-3ubuntu2.1", "2.4.4-2ubuntu17", "2.2.40-1.1"),
         size=315 * kB, isize=885, depends=("gpg",), arch="all",
         description="GNU privacy guard - a free PGP replacement"),
    dict(name="gpg", section="utils", versions=_v("2.2.27-3ubuntu2.1", "2.4.4-2ubuntu17", "2.2.40-1.1"),
         size=474 * kB, isize=1084, bin=["gpg"],
         description="GNU Privacy Guard -- minimalist public key operations"),
    dict(name="vim", section="editors", versions=_v("2:8.2.3995-1ubuntu2.17", "2:9.1.0016-1ubuntu7.2", "2:9.0.1378-2"),
         size=1735 * kB, isize=4048, bin=["vim"], links={"/usr/bin/vi": "vim"},
         description="Vi IMproved - enhanced vi editor"),
    dict(name="nano", section="editors", versions=_v("6.2-1", "7.2-2build1", "7.2-1+deb12u1"),
         size=280 * kB, isize=868, bin=["nano"], description="small, friendly text editor inspired by Pico"),
    dict(name="git", section="vcs", versions=_v("1:2.34.1-1ubuntu1.11", "1:2.43.0-1ubuntu7.1", "1:2.39.2-1.1"),
         size=3166 * kB, isize=18826, depends=("git-man",), bin=["git"],
         description="fast, scalable, distributed revision control system"),
    dict(name="git-man", section="doc", versions=_v("1:2.34.1-1ubuntu1.11", "1:2.43.0-1ubuntu7.1", "1:2.39.2-1.1"),
         size=954 * kB, isize=2096, arch="all",
         description="fast, scalable, distributed revision control system (manual pages)"),
    dict(name="wget", section="web", versions=_v("1.21.2-2ubuntu1.1", "1.21.4-1ubuntu4.1", "1.21.3-1+b2"),
         size=339 * kB, isize=1013, bin=["wget"], description="retrieves files from the web"),
    dict(name="iputils-ping", section="net", versions=_v("3:20211215-1", "3:20240117-1build1", "3:20221126-1+deb12u1"),
         size=42 * kB, isize=116, bin=["ping"], description="Tools to test the reachability of network hosts"),
    dict(name="net-tools", section="net", versions=_v("1.60+git20181103.0eebece-1ubuntu5", "2.10-0.1ubuntu4", "2.10-0.1"),
         size=204 * kB, isize=824, bin=["netstat"], sbin=["ifconfig", "route"], description="NET-3 networking toolkit"),
    dict(name="procps", section="admin", versions=_v("2:3.3.17-6ubuntu2.1", "2:4.0.4-4ubuntu3", "2:4.0.2-3"),
         size=378 * kB, isize=1395, bin=["ps", "free", "top", "uptime", "pgrep", "pkill", "watch"], sbin=["sysctl"],
         description="/proc file system utilities"),
    dict(name="python3", section="python", versions=_v("3.10.6-1~22.04.1", "3.12.3-0ubuntu2", "3.11.2-1+b1"),
         size=22 * kB, isize=92, depends=("python3-minimal",), links={"/usr/bin/python3": "python{py}"},
         description="interactive high-level object-oriented language (default python3 version)"),
    dict(name="python3-minimal", section="python", versions=_v("3.10.6-1~22.04.1", "3.12.3-0ubuntu2", "3.11.2-1+b1"),
         size=24 * kB, isize=117, bin=[("python{py}", "python3")],
         files={"/usr/lib/python{py}/os.py": "# simulated standard library\n",
                "/usr/lib/python{py}/http/server.py": "# simulated http.server\n",
                "/usr/lib/python3/dist-packages": None},
         files_by={c: {"/usr/lib/python{py}/EXTERNALLY-MANAGED": _DEBIAN_EXTERNALLY_MANAGED} for c in ("bookworm", "noble")},
         description="minimal subset of the Python language (default python3 version)"),
    dict(name="python3-pip", section="python", versions=_v("22.0.2+dfsg-1ubuntu0.4", "24.0+dfsg-1ubuntu1", "23.0.1+dfsg-1"),
         size=1306 * kB, isize=7010, depends=("python3",), arch="all", bin=["pip", "pip3"],
         files={"/usr/lib/python3/dist-packages/pip/__init__.py": "# simulated pip\n"},
         description="Python package installer"),
    dict(name="nginx", section="httpd", versions=_v("1.18.0-6ubuntu14.4", "1.24.0-2ubuntu7.1", "1.22.1-9"),
         size=610 * kB, isize=1577, sbin=["nginx"], units=[_U_NGINX],
         files={"/etc/nginx/nginx.conf": _NGINX_DEBIAN_CONF, "/etc/nginx/mime.types": _NGINX_MIME,
                "/etc/nginx/sites-available/default": _NGINX_DEBIAN_SITE, "/etc/nginx/conf.d": None,
                "/etc/nginx/modules-enabled": None,
                "/var/www/html/index.nginx-debian.html": _NGINX_WELCOME,
                "/var/log/nginx": None},
         links={"/etc/nginx/sites-enabled/default": "/etc/nginx/sites-available/default"},
         description="small, powerful, scalable web/proxy server"),
    dict(name="redis-server", section="database", versions=_v("5:6.0.16-1ubuntu1", "5:7.0.15-1build2", "5:7.0.15-1~deb12u1"),
         size=45 * kB, isize=193, depends=("redis-tools",), units=[_U_REDIS],
         files={"/etc/redis/redis.conf": _REDIS_DEBIAN_CONF, "/var/lib/redis": None, "/var/log/redis": None},
         description="Persistent key-value database with network interface"),
    dict(name="redis-tools", section="database", versions=_v("5:6.0.16-1ubuntu1", "5:7.0.15-1build2", "5:7.0.15-1~deb12u1"),
         size=1144 * kB, isize=5840, bin=["redis-cli", "redis-server"],
         description="Persistent key-value database with network interface (client)"),
    dict(name="apt-transport-https", section="admin", versions=_v("2.4.12", "2.7.14build2", "2.6.1"),
         size=1510, isize=169, arch="all", description="transitional package for https support"),
    dict(name="socat", section="net", versions=_v("1.7.4.1-3ubuntu4", "1.8.0.0-4build3", "1.7.4.4-2"),
         size=349 * kB, isize=1646, bin=["socat"], description="multipurpose relay for bidirectional data transfer"),
    dict(name="conntrack", section="net", versions=_v("1:1.4.6-2build2", "1:1.4.8-1ubuntu1", "1:1.4.7-1+b2"),
         size=33 * kB, isize=108, sbin=["conntrack"], description="Program to modify the conntrack tables"),
    dict(name="ipset", section="net", versions=_v("7.15-1build1", "7.19-1ubuntu2", "7.17-1"),
         size=32 * kB, isize=88, sbin=["ipset"], description="administration tool for kernel IP sets"),
    dict(name="ebtables", section="net", versions=_v("2.0.11-4build2", "2.0.11-6build1", "2.0.11-5"),
         size=84 * kB, isize=364, sbin=["ebtables"], description="Ethernet bridge frame table administration"),
    dict(name="ethtool", section="net", versions=_v("1:5.16-1ubuntu0.1", "1:6.7-1build1", "1:6.1-1"),
         size=207 * kB, isize=723, sbin=["ethtool"], description="display or change Ethernet device settings"),
    dict(name="iptables", section="net", versions=_v("1.8.7-1ubuntu5.2", "1.8.10-3ubuntu2", "1.8.9-2"),
         size=455 * kB, isize=2730, sbin=["iptables"], description="administration tools for packet filtering and NAT"),
    dict(name="iproute2", section="net", versions=_v("5.15.0-1ubuntu2", "6.1.0-1ubuntu6", "6.1.0-3"),
         size=1070 * kB, isize=3553, bin=["ss"], sbin=["ip"], description="networking and traffic control tools"),
    dict(name="kmod", section="admin", versions=_v("29-1ubuntu1", "31+20240202-2ubuntu7", "30+20221128-1"),
         size=94 * kB, isize=249, sbin=["modprobe", "lsmod"], description="tools for managing Linux kernel modules"),
    dict(name="sudo", section="admin", versions=_v("1.9.9-1ubuntu2.4", "1.9.15p5-3ubuntu5", "1.9.13p3-1+deb12u1"),
         size=820 * kB, isize=2504, bin=["sudo"], description="Provide limited super user privileges to specific users"),
    dict(name="lsb-release", section="misc", versions=_v("11.1.0ubuntu4", "12.0-2", "12.0-1"), arch="all",
         size=6 * kB, isize=24, bin=["lsb_release"], description="Linux Standard Base version reporting utility"),
    dict(name="runc", section="admin", versions=_v("1.1.12-0ubuntu2~22.04.1", "1.1.12-0ubuntu3.1", "1.1.5+ds1-1+deb12u1"),
         size=8405 * kB, isize=33052, sbin=["runc"], description="Open Container Project - runtime"),
    dict(name="containerd", section="admin", versions=_v("1.7.12-0ubuntu2~22.04.1", "1.7.12-0ubuntu4.1", "1.6.20~ds1-1+b1"),
         size=35956 * kB, isize=136720, depends=("runc",), conflicts=("containerd.io",),
         bin=["containerd", "ctr", "containerd-shim-runc-v2"], units=[_U_CONTAINERD],
         description="daemon to control runC"),
    dict(name="docker.io", section="admin", versions=_v("24.0.7-0ubuntu2~22.04.1", "24.0.7-0ubuntu4.1", "20.10.24+dfsg1-1+b3"),
         size=28920 * kB, isize=114305, depends=("containerd", "runc", "iptables", "adduser"),
         recommends=("pigz", "ubuntu-fan"), conflicts=("docker-ce", "docker-ce-cli"),
         bin=["docker", "dockerd", "docker-proxy"], units=[_U_DOCKER], groups=["docker"],
         files={"/etc/docker": None},
         description="Linux container runtime"),
    dict(name="docker-compose", section="admin", versions=_v("1.29.2-1", "1.29.2-6ubuntu1", "1.29.2-3"), arch="all",
         size=95 * kB, isize=492, depends=("docker.io",), bin=["docker-compose"],
         description="define and run multi-container Docker applications with YAML"),
    dict(name="pigz", section="utils", versions=_v("2.6-1", "2.8-1", "2.6-1"),
         size=63600, isize=260, bin=["pigz"], description="Parallel Implementation of GZip"),
    dict(name="ubuntu-fan", section="net", versions=_v("0.12.16", "0.12.16+24.04.1", None), arch="all",
         size=35200, isize=211, depends=("bridge-utils", "dnsmasq-base"), sbin=["fanctl"],
         description="Ubuntu FAN network support enablement"),
    dict(name="bridge-utils", section="net", versions=_v("1.7-1ubuntu3", "1.7.1-1ubuntu2", "1.7.1-1"),
         size=34400, isize=114, sbin=["brctl"], description="Utilities for configuring the Linux Ethernet bridge"),
    dict(name="dnsmasq-base", section="net", versions=_v("2.90-0ubuntu0.22.04.1", "2.90-2build2", "2.89-1"),
         size=375 * kB, isize=981, recommends=("dns-root-data",), sbin=["dnsmasq"],
         description="Small caching DNS proxy and DHCP/TFTP server"),
    dict(name="etcd-client", section="database", versions=_v("3.3.25+dfsg-7ubuntu0.22.04.1", None, None),
         size=4642 * kB, isize=16935, files={"/usr/bin/etcdctl": ("prog", "etcdctl", "3.3.25")},
         description="highly-available key value store -- client"),
    dict(name="dns-root-data", section="net", versions=_v("2023112702~ubuntu0.22.04.1", "2023112702~willsync1", "2023112702~deb12u1"),
         size=5136, isize=19, arch="all", files={"/usr/share/dns/root.hints": ".  3600000  NS  A.ROOT-SERVERS.NET.\n"},
         description="DNS root data including root zone and DNSSEC key"),
]
for _name, (_section, _desc, _versions) in _BASE.items():
    if not any(row["name"] == _name for row in _ARCHIVE):
        _ARCHIVE.append(dict(name=_name, section=_section, versions=_versions, size=100 * kB, isize=400,
                             description=_desc, base=True))
for _row in _ARCHIVE:  # Debian packages of ubuntu's universe component
    _row.setdefault("component", "universe" if _row["name"] in {
        "docker.io", "docker-compose", "pigz", "ubuntu-fan", "socat", "conntrack", "ipset", "ebtables",
        "redis-server", "redis-tools", "containerd", "runc", "nano", "etcd-client"} else "main")

_PY = {"jammy": "3.10", "noble": "3.12", "bookworm": "3.11"}
_DISTVER = {"jammy": ("ubuntu", "22.04"), "noble": ("ubuntu", "24.04"), "bookworm": ("debian", "12")}

#: download.docker.com: docker-ce & co. ``{d}`` is ubuntu/debian, ``{r}`` 22.04/12, ``{c}`` the codename.
_DOCKER_REPO: list[dict[str, Any]] = [
    dict(name="docker-ce", section="admin", versions=["5:26.1.4-1~{d}.{r}~{c}", "5:27.1.1-1~{d}.{r}~{c}"],
         size=25240 * kB, isize=98341, depends=("containerd.io", "docker-ce-cli", "iptables"),
         conflicts=("docker.io",), bin=["dockerd", "docker-proxy"], units=[_U_DOCKER], groups=["docker"],
         files={"/etc/docker": None}, description="Docker: the open-source application container engine"),
    dict(name="docker-ce-cli", section="admin", versions=["5:26.1.4-1~{d}.{r}~{c}", "5:27.1.1-1~{d}.{r}~{c}"],
         size=14560 * kB, isize=41226, conflicts=("docker.io",), bin=["docker"],
         description="Docker CLI: the open-source application container engine"),
    dict(name="containerd.io", section="devel", versions=["1.6.33-1", "1.7.19-1"],
         size=29460 * kB, isize=122680, conflicts=("containerd", "runc"), provides=("containerd", "runc"),
         bin=["containerd", "ctr", "containerd-shim-runc-v2", "runc"], units=[_U_CONTAINERD],
         files={"/etc/containerd/config.toml": _CONTAINERD_IO_CONFIG},
         description="An open and reliable container runtime"),
    dict(name="docker-ce-rootless-extras", section="admin", versions=["5:26.1.4-1~{d}.{r}~{c}", "5:27.1.1-1~{d}.{r}~{c}"],
         size=9860 * kB, isize=35360, depends=("docker-ce",),
         files={"/usr/bin/dockerd-rootless.sh": "#!/bin/sh\necho 'dockerd-rootless.sh: rootless mode is not simulated' >&2\nexit 1\n",
                "/usr/bin/dockerd-rootless-setuptool.sh": "#!/bin/sh\necho '[ERROR] rootless mode is not simulated by aivle_k8s' >&2\nexit 1\n"},
         description="Rootless support for Docker."),
    dict(name="docker-buildx-plugin", section="admin", versions=["0.14.1-1~{d}.{r}~{c}", "0.16.1-1~{d}.{r}~{c}"],
         size=29740 * kB, isize=88450, files={"/usr/libexec/docker/cli-plugins/docker-buildx": ("prog", "docker-buildx")},
         description="Docker Buildx cli plugin."),
    dict(name="docker-compose-plugin", section="admin", versions=["2.27.1-1~{d}.{r}~{c}", "2.29.1-1~{d}.{r}~{c}"],
         size=12820 * kB, isize=60470, files={"/usr/libexec/docker/cli-plugins/docker-compose": ("prog", "docker-compose")},
         description="Docker Compose (V2) plugin for the Docker CLI."),
]

#: pkgs.k8s.io: the Kubernetes packages of each minor version (patches 0..8), with the matching
#: cri-tools and kubernetes-cni.
_K8S_MINORS = {"1.28": ("1.28.0-1.1", "1.2.0-2.1"), "1.29": ("1.29.0-1.1", "1.3.0-1.1"),
               "1.30": ("1.30.1-1.1", "1.4.0-1.1"), "1.31": ("1.31.1-1.1", "1.5.1-1.1")}
_K8S_PATCHES = range(0, 9)
_K8S_REPO: list[dict[str, Any]] = [
    dict(name="kubeadm", section="admin", versions=["{m}.{p}-1.1"], size=10150 * kB, isize=49823,
         depends=("cri-tools",), bin=["kubeadm"],
         files={"/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf": _KUBEADM_DROPIN},
         description="Command-line utility for administering a Kubernetes cluster"),
    dict(name="kubelet", section="admin", versions=["{m}.{p}-1.1"], size=15720 * kB, isize=79014,
         depends=("conntrack", "ebtables", "ethtool", "iptables", "iproute2", "kubernetes-cni", "mount", "socat",
                  "util-linux"),
         bin=["kubelet"], units=[_U_KUBELET], files={"/etc/kubernetes/manifests": None},
         description="Node agent for Kubernetes clusters"),
    dict(name="kubectl", section="admin", versions=["{m}.{p}-1.1"], size=10790 * kB, isize=50774, bin=["kubectl"],
         description="Command-line utility for interacting with a Kubernetes cluster"),
    dict(name="cri-tools", section="admin", versions=["{crictl}"], size=20210 * kB, isize=61003, bin=["crictl"],
         description="Command-line utility for interacting with a container runtime"),
    dict(name="kubernetes-cni", section="admin", versions=["{cni}"], size=35170 * kB, isize=145016,
         files={f"/opt/cni/bin/{p}": ("prog", p) for p in _CNI_PLUGINS} | {"/etc/cni/net.d": None},
         description="Binaries required to provision kubernetes container networking"),
]

#: pkgs.k8s.io/addons:/cri-o: CRI-O of each minor version.
_CRIO_REPO: list[dict[str, Any]] = [
    dict(name="cri-o", section="admin", versions=["{m}.{p}-1.1"], size=21430 * kB, isize=80211,
         bin=["crio", "pinns"], units=[_U_CRIO],
         files={"/etc/crio/crio.conf.d/10-crio.conf": _CRIO_CONF,
                "/etc/cni/net.d/11-crio-ipv4-bridge.conflist": _CRIO_BRIDGE,
                "/usr/libexec/crio/conmon": ("prog", "conmon"), "/usr/libexec/crio/crun": ("prog", "crun")},
         description="Open Container Initiative-based implementation of Kubernetes Container Runtime Interface"),
]

#: cri-dockerd (Mirantis): a .deb downloaded from GitHub releases, installed with ``dpkg -i``.
CRI_DOCKERD_VERSION = "0.3.14"
CRI_DOCKERD_URL = ("https://github.com/Mirantis/cri-dockerd/releases/download/v0.3.14/"
                   "cri-dockerd_0.3.14.3-0.ubuntu-jammy_amd64.deb")
_CRI_DOCKERD_DEBS = {
    CRI_DOCKERD_URL: "0.3.14~3-0~ubuntu-jammy",
    "https://github.com/Mirantis/cri-dockerd/releases/download/v0.3.14/cri-dockerd_0.3.14.3-0.ubuntu-noble_amd64.deb": "0.3.14~3-0~ubuntu-noble",
    "https://github.com/Mirantis/cri-dockerd/releases/download/v0.3.14/cri-dockerd_0.3.14.3-0.debian-bookworm_amd64.deb": "0.3.14~3-0~debian-bookworm",
}
_CRI_DOCKERD_ROW = dict(
    name="cri-dockerd", section="admin", size=11870 * kB, isize=50840, bin=["cri-dockerd"], units=[_U_CRI_DOCKER],
    files={"/lib/systemd/system/cri-docker.socket": (
        "[Unit]\nDescription=CRI Docker Socket for the API\nPartOf=cri-docker.service\n\n[Socket]\n"
        "ListenStream=%t/cri-dockerd.sock\nSocketMode=0660\nSocketUser=root\nSocketGroup=docker\n\n"
        "[Install]\nWantedBy=sockets.target\n")},
    description="Docker CRI Shim (cri-dockerd)")

#: nginx.org's packages (what the official ``nginx`` image installs).
_NGINX_ORG: list[dict[str, Any]] = [
    dict(name="nginx", section="httpd", versions=["1.25.5-1~bookworm", "1.27.0-1~bookworm"], size=1018 * kB,
         isize=3416, sbin=["nginx"], description="high performance web server",
         files={"/etc/nginx/conf.d": None, "/var/cache/nginx": None, "/var/log/nginx": None}),
]

# -- Alpine ----------------------------------------------------------------------------------
#: Alpine packages: name -> (repo, {branch: version}, size, depends, description, programs {path: program}, files)
_APK: dict[str, tuple] = {
    "alpine-baselayout": ("main", {"v3.19": "3.4.3-r2", "v3.20": "3.6.5-r0"}, 8 * kB, (), "Alpine base dir structure and init scripts", {}, {}),
    "alpine-baselayout-data": ("main", {"v3.19": "3.4.3-r2", "v3.20": "3.6.5-r0"}, 11 * kB, (), "Alpine base dir structure and init scripts", {}, {}),
    "alpine-keys": ("main", {"v3.19": "2.4-r1", "v3.20": "2.4-r1"}, 13 * kB, (), "Public keys for Alpine Linux packages", {}, {}),
    "apk-tools": ("main", {"v3.19": "2.14.0-r5", "v3.20": "2.14.4-r0"}, 120 * kB, (), "Alpine Package Keeper - package manager for alpine", {}, {}),
    "busybox": ("main", {"v3.19": "1.36.1-r15", "v3.20": "1.36.1-r29"}, 500 * kB, (), "Size optimized toolbox of many common UNIX utilities", {}, {}),
    "busybox-binsh": ("main", {"v3.19": "1.36.1-r15", "v3.20": "1.36.1-r29"}, 2 * kB, (), "busybox ash /bin/sh", {}, {}),
    "ca-certificates-bundle": ("main", {"v3.19": "20230506-r0", "v3.20": "20240705-r0"}, 125 * kB, (), "Pre generated bundle of Mozilla certificates", {}, {}),
    "libc-utils": ("main", {"v3.19": "0.7.2-r5", "v3.20": "0.7.2-r5"}, 1 * kB, (), "Meta package to pull in correct libc", {}, {}),
    "libcrypto3": ("main", {"v3.19": "3.1.4-r5", "v3.20": "3.3.1-r3"}, 1700 * kB, (), "Crypto library from openssl", {}, {}),
    "libssl3": ("main", {"v3.19": "3.1.4-r5", "v3.20": "3.3.1-r3"}, 340 * kB, (), "SSL shared libraries", {}, {}),
    "musl": ("main", {"v3.19": "1.2.4_git20230717-r4", "v3.20": "1.2.5-r0"}, 400 * kB, (), "the musl c library (libc) implementation", {}, {}),
    "musl-utils": ("main", {"v3.19": "1.2.4_git20230717-r4", "v3.20": "1.2.5-r0"}, 35 * kB, (), "the musl c library (libc) implementation", {}, {}),
    "scanelf": ("main", {"v3.19": "1.3.7-r2", "v3.20": "1.3.7-r2"}, 35 * kB, (), "Scan ELF binaries for stuff", {}, {}),
    "ssl_client": ("main", {"v3.19": "1.36.1-r15", "v3.20": "1.36.1-r29"}, 5 * kB, (), "EXternal ssl_client for busybox wget", {}, {}),
    "zlib": ("main", {"v3.19": "1.3.1-r0", "v3.20": "1.3.1-r1"}, 50 * kB, (), "A compression/decompression Library", {}, {}),
    # installable
    "ca-certificates": ("main", {"v3.19": "20240226-r0", "v3.20": "20240705-r0"}, 170 * kB, (), "Common CA certificates PEM files from Mozilla", {}, {"/etc/ssl/certs/ca-certificates.crt": "# simulated CA bundle\n"}),
    "brotli-libs": ("main", {"v3.19": "1.1.0-r1", "v3.20": "1.1.0-r2"}, 330 * kB, (), "Generic lossless compressor (libraries)", {}, {}),
    "c-ares": ("main", {"v3.19": "1.27.0-r0", "v3.20": "1.33.1-r0"}, 70 * kB, (), "An asynchronously DNS/names resolver library", {}, {}),
    "libunistring": ("main", {"v3.19": "1.1-r2", "v3.20": "1.2-r0"}, 520 * kB, (), "Library for manipulating Unicode strings and C strings", {}, {}),
    "libidn2": ("main", {"v3.19": "2.3.4-r4", "v3.20": "2.3.7-r0"}, 70 * kB, ("libunistring",), "Encode/Decode library for internationalized domain names", {}, {}),
    "nghttp2-libs": ("main", {"v3.19": "1.58.0-r0", "v3.20": "1.62.1-r0"}, 70 * kB, (), "Experimental HTTP/2 client, server and proxy (libraries)", {}, {}),
    "libpsl": ("main", {"v3.19": "0.21.5-r0", "v3.20": "0.21.5-r1"}, 60 * kB, (), "C library for the Publix Suffix List", {}, {}),
    "zstd-libs": ("main", {"v3.19": "1.5.5-r8", "v3.20": "1.5.6-r0"}, 250 * kB, (), "Zstandard - Fast real-time compression algorithm (libraries)", {}, {}),
    "libcurl": ("main", {"v3.19": "8.5.0-r0", "v3.20": "8.9.0-r0"}, 430 * kB, ("ca-certificates", "brotli-libs", "c-ares", "libidn2", "nghttp2-libs", "libpsl", "zstd-libs"), "The multiprotocol file transfer library", {}, {}),
    "curl": ("main", {"v3.19": "8.5.0-r0", "v3.20": "8.9.0-r0"}, 250 * kB, ("libcurl",), "URL retrieval utility and library", {"/usr/bin/curl": "curl"}, {}),
    "ncurses-terminfo-base": ("main", {"v3.19": "6.4_p20231125-r0", "v3.20": "6.4_p20240420-r0"}, 20 * kB, (), "Descriptions of common terminals", {}, {}),
    "libncursesw": ("main", {"v3.19": "6.4_p20231125-r0", "v3.20": "6.4_p20240420-r0"}, 140 * kB, ("ncurses-terminfo-base",), "Console display library (libncursesw)", {}, {}),
    "readline": ("main", {"v3.19": "8.2.1-r2", "v3.20": "8.2.10-r0"}, 120 * kB, ("libncursesw",), "GNU readline library", {}, {}),
    "bash": ("main", {"v3.19": "5.2.21-r0", "v3.20": "5.2.26-r0"}, 450 * kB, ("readline",), "The GNU Bourne Again shell", {"/bin/bash": "bash"}, {}),
    "libffi": ("main", {"v3.19": "3.4.4-r3", "v3.20": "3.4.6-r0"}, 20 * kB, (), "portable, high level programming interface to various calling conventions", {}, {}),
    "sqlite-libs": ("main", {"v3.19": "3.44.2-r0", "v3.20": "3.45.3-r1"}, 900 * kB, (), "Sqlite3 library", {}, {}),
    "xz-libs": ("main", {"v3.19": "5.4.5-r0", "v3.20": "5.6.2-r0"}, 180 * kB, (), "Library and CLI tools for XZ and LZMA compressed files (libraries)", {}, {}),
    "python3": ("main", {"v3.19": "3.11.9-r0", "v3.20": "3.12.3-r1"}, 14000 * kB, ("libffi", "sqlite-libs", "xz-libs", "readline"), "A high-level scripting language", {"/usr/bin/python{py}": "python3"}, {"/usr/bin/python3": ("link", "python{py}"), "/usr/lib/python{py}/os.py": "# simulated standard library\n", "/usr/lib/python{py}/site-packages": None, "/usr/lib/python{py}/EXTERNALLY-MANAGED": "[externally-managed]\nError=To install Python packages system-wide, try apk add\n py3-xyz, where xyz is the package you are trying to\n install.\n \n If you wish to install a non-Alpine-packaged Python package,\n create a virtual environment using python3 -m venv path/to/venv.\n Then use path/to/venv/bin/python to run your application.\n"}),
    "py3-pip": ("community", {"v3.19": "23.3.1-r0", "v3.20": "24.0-r2"}, 3200 * kB, ("python3",), "Tool for installing and managing Python packages", {"/usr/bin/pip": "pip", "/usr/bin/pip3": "pip"}, {}),
    "pcre2": ("main", {"v3.19": "10.42-r2", "v3.20": "10.43-r0"}, 300 * kB, (), "Perl-compatible regular expression library", {}, {}),
    "nginx": ("main", {"v3.19": "1.24.0-r15", "v3.20": "1.26.2-r0"}, 650 * kB, ("pcre2",), "HTTP and reverse proxy server (stable version)", {"/usr/sbin/nginx": "nginx"}, {"/etc/nginx/nginx.conf": _NGINX_ALPINE_CONF, "/etc/nginx/mime.types": _NGINX_MIME, "/etc/nginx/http.d/default.conf": _NGINX_ALPINE_DEFAULT, "/etc/nginx/conf.d": None, "/var/lib/nginx/html/index.html": _NGINX_WELCOME, "/var/log/nginx": None, "/run/nginx": None}),
    "redis": ("main", {"v3.19": "7.2.5-r0", "v3.20": "7.2.5-r0"}, 1200 * kB, (), "Advanced key-value store", {"/usr/bin/redis-server": "redis-server", "/usr/bin/redis-cli": "redis-cli"}, {"/etc/redis.conf": "bind 127.0.0.1 -::1\nport 6379\ndir /var/lib/redis\n", "/var/lib/redis": None}),
    "pcre2-git": ("main", {"v3.19": "10.42-r2", "v3.20": "10.43-r0"}, 10 * kB, (), "pcre2 for git", {}, {}),
    "git": ("main", {"v3.19": "2.43.0-r0", "v3.20": "2.45.2-r0"}, 5800 * kB, ("libcurl", "pcre2"), "Distributed version control system", {"/usr/bin/git": "git"}, {}),
    "wget": ("main", {"v3.19": "1.21.4-r0", "v3.20": "1.24.5-r0"}, 480 * kB, ("libidn2",), "Network utility to retrieve files from the Web", {"/usr/bin/wget": "wget"}, {}),
    "iputils": ("main", {"v3.19": "20221126-r2", "v3.20": "20240117-r0"}, 100 * kB, (), "IP Configuration Utilities (and Ping)", {"/bin/ping": "ping"}, {}),
    "procps-ng": ("main", {"v3.19": "4.0.4-r0", "v3.20": "4.0.4-r0"}, 600 * kB, (), "Utilities for monitoring your system and processes on your system", {"/bin/ps": "ps", "/usr/bin/free": "free", "/usr/bin/top": "top"}, {}),
}
_APK_PY = {"v3.19": "3.11", "v3.20": "3.12"}
#: Installed in the ``alpine`` images (15 packages).
ALPINE_BASE = ["alpine-baselayout", "alpine-baselayout-data", "alpine-keys", "apk-tools", "busybox",
               "busybox-binsh", "ca-certificates-bundle", "libc-utils", "libcrypto3", "libssl3", "musl",
               "musl-utils", "scanelf", "ssl_client", "zlib"]

# -- PyPI -------------------------------------------------------------------------------------
#: PyPI: name -> (version, wheel size, requirements, summary, import packages)
PYPI: dict[str, tuple[str, int, tuple[str, ...], str, tuple[str, ...]]] = {
    "flask": ("3.0.3", 101 * kB, ("Werkzeug>=3.0.0", "Jinja2>=3.1.2", "itsdangerous>=2.1.2", "click>=8.1.3", "blinker>=1.6.2"),
              "A simple framework for building complex web applications.", ("flask",)),
    "werkzeug": ("3.0.3", 227 * kB, ("MarkupSafe>=2.1.1",), "The comprehensive WSGI web application library.", ("werkzeug",)),
    "jinja2": ("3.1.4", 133 * kB, ("MarkupSafe>=2.0",), "A very fast and expressive template engine.", ("jinja2",)),
    "markupsafe": ("2.1.5", 28 * kB, (), "Safely add untrusted strings to HTML/XML markup.", ("markupsafe",)),
    "itsdangerous": ("2.2.0", 16 * kB, (), "Safely pass data to untrusted environments and back.", ("itsdangerous",)),
    "click": ("8.1.7", 97 * kB, (), "Composable command line interface toolkit", ("click",)),
    "blinker": ("1.8.2", 9 * kB, (), "Fast, simple object-to-object and broadcast signaling", ("blinker",)),
    "requests": ("2.32.3", 64 * kB, ("charset-normalizer<4,>=2", "idna<4,>=2.5", "urllib3<3,>=1.21.1", "certifi>=2017.4.17"),
                 "Python HTTP for Humans.", ("requests",)),
    "charset-normalizer": ("3.3.2", 48 * kB, (), "The Real First Universal Charset Detector.", ("charset_normalizer",)),
    "idna": ("3.7", 66 * kB, (), "Internationalized Domain Names in Applications (IDNA)", ("idna",)),
    "urllib3": ("2.2.2", 121 * kB, (), "HTTP library with thread-safe connection pooling, file post, and more.", ("urllib3",)),
    "certifi": ("2024.7.4", 162 * kB, (), "Python package for providing Mozilla's CA Bundle.", ("certifi",)),
    "redis": ("5.0.7", 252 * kB, (), "Python client for Redis database and key-value store", ("redis",)),
    "numpy": ("2.0.1", 19500 * kB, (), "Fundamental package for array computing in Python", ("numpy",)),
    "gunicorn": ("22.0.0", 84 * kB, ("packaging",), "WSGI HTTP Server for UNIX", ("gunicorn",)),
    "packaging": ("24.1", 53 * kB, (), "Core utilities for Python packages", ("packaging",)),
}
_PYPI_DISPLAY = {"werkzeug": "Werkzeug", "jinja2": "Jinja2", "markupsafe": "MarkupSafe", "flask": "flask"}
#: Console scripts a PyPI package installs next to the interpreter (name -> program).
_PYPI_SCRIPTS = {"flask": ["flask"], "gunicorn": ["gunicorn"], "numpy": ["f2py"]}


# ---------------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Package:
    """One version of one package in one repository.

    ``files`` are the paths it installs (path -> Entry), ``size`` the download
    size in bytes, ``units`` the systemd units it ships (templates: copy
    before changing), ``repo`` the repository key (see :data:`REPOS`).
    """

    name: str
    version: str
    files: Mapping[str, Entry] = field(default_factory=dict, repr=False)
    depends: tuple[str, ...] = ()
    description: str = ""
    size: int = 0
    units: tuple[Unit, ...] = field(default=(), repr=False)
    repo: str = ""
    section: str = "misc"
    installed_size: int = 0  # kB
    recommends: tuple[str, ...] = ()
    conflicts: tuple[str, ...] = ()
    provides: tuple[str, ...] = ()
    component: str = "main"
    arch: str = "amd64"
    groups: tuple[str, ...] = ()
    base: bool = False

    def __repr__(self) -> str:
        return f"<Package {self.name} {self.version} ({self.repo})>"

    @property
    def deb_name(self) -> str:
        """The archive file name (``curl_7.81.0-1ubuntu1.16_amd64.deb``; an epoch is %3a-escaped)."""
        return f"{self.name}_{self.version.replace(':', '%3a')}_{self.arch}.deb"

    def stanza(self, status: str | None = None) -> str:
        """The package's paragraph in a Packages file (or in dpkg's status file, with ``status``)."""
        lines = [f"Package: {self.name}"]
        if status:
            lines.append(f"Status: {status}")
        lines += [f"Priority: {'required' if self.base else 'optional'}", f"Section: {self.section}",
                  f"Installed-Size: {self.installed_size}", f"Maintainer: {_maintainer(self.repo)}",
                  f"Architecture: {self.arch}", f"Version: {self.version}"]
        if self.provides:
            lines.append("Provides: " + ", ".join(self.provides))
        if self.depends:
            lines.append("Depends: " + ", ".join(self.depends))
        if self.recommends:
            lines.append("Recommends: " + ", ".join(self.recommends))
        if self.conflicts:
            lines.append("Conflicts: " + ", ".join(self.conflicts))
        if not status:
            initial = self.name[:4] if self.name.startswith("lib") else self.name[0]
            lines += [f"Filename: pool/{self.component}/{initial}/{self.name}/{self.deb_name}",
                      f"Size: {self.size}",
                      f"SHA256: {hashlib.sha256(f'{self.name} {self.version}'.encode()).hexdigest()}"]
        lines.append(f"Description: {self.description}")
        return "\n".join(lines) + "\n"


def _maintainer(repo: str) -> str:
    if repo.startswith("ubuntu"):
        return "Ubuntu Developers <ubuntu-devel-discuss@lists.ubuntu.com>"
    if repo.startswith("docker"):
        return "Docker <support@docker.com>"
    if repo.startswith(("k8s", "crio")):
        return "Kubernetes Authors <dev@kubernetes.io>"
    if repo.startswith("cri-dockerd"):
        return "Mirantis <cri-dockerd@mirantis.com>"
    if repo.startswith("nginx.org"):
        return "NGINX Packaging <nginx-packaging@f5.com>"
    return "Debian Developers <debian-devel@lists.debian.org>"


@dataclass(frozen=True)
class RepoInfo:
    """A repository: what ``apt-get update`` fetches for a sources line."""

    key: str
    uri: str
    suite: str  # "/" for a flat repository
    components: tuple[str, ...]
    origin: str
    label: str
    key_id: str = ""  # the signing key (third-party repos need it configured)
    index_kb: int = 50


def _unit_file(spec: tuple, paths: dict[str, str]) -> str:
    name, argv, desc, _enabled, restart, restart_sec = spec
    exe = paths.get(argv[0], f"/usr/bin/{argv[0]}")
    return (f"[Unit]\nDescription={desc}\nAfter=network-online.target\nWants=network-online.target\n\n"
            f"[Service]\nExecStart={' '.join([exe] + list(argv[1:]))}\nRestart={restart}\n"
            f"RestartSec={restart_sec:g}\n\n[Install]\nWantedBy=multi-user.target\n")


def _entries_from_row(row: Mapping[str, Any], subst: Mapping[str, str], unit_dir: str = "/lib/systemd/system") -> dict[str, Entry]:
    def s(text: str) -> str:
        for k, v in subst.items():
            text = text.replace("{" + k + "}", v)
        return text

    files: dict[str, Entry] = {}
    paths: dict[str, str] = {}
    for d, key in (("/usr/bin", "bin"), ("/usr/sbin", "sbin")):
        for item in row.get(key, ()):
            fname, prog = item if isinstance(item, tuple) else (item, item)
            path = f"{d}/{s(fname)}"
            files[path] = program_entry(prog, 2048)
            paths.setdefault(prog, path)
    for path, value in (row.get("files") or {}).items():
        path = s(path)
        if value is None:
            files[path] = Entry.directory()
        elif isinstance(value, tuple) and value[0] == "prog":
            files[path] = (versioned_program_entry(value[1], value[2], 2048) if len(value) > 2
                           else program_entry(value[1], 2048))
        elif isinstance(value, tuple) and value[0] == "link":
            files[path] = Entry.symlink(s(value[1]))
        else:
            files[path] = Entry.file(value.encode() if isinstance(value, str) else value,
                                     0o755 if str(value).startswith("#!") else 0o644)
    for path, target in (row.get("links") or {}).items():
        files[s(path)] = Entry.symlink(s(target))
    for spec in row.get("units", ()):
        unit_path = f"{unit_dir}/{spec[0]}.service"
        if row.get("name") in ("kubelet", "kubeadm", "kubectl", "cri-tools", "kubernetes-cni", "cri-o"):
            unit_path = f"/usr/lib/systemd/system/{spec[0]}.service"
        files[unit_path] = Entry.file(_unit_file(spec, paths))
    return dict(sorted(files.items()))


def _units_from_row(row: Mapping[str, Any]) -> tuple[Unit, ...]:
    return tuple(Unit(spec[0], list(spec[1]), description=spec[2], restart=spec[4], restart_sec=spec[5])
                 for spec in row.get("units", ()))


def _package(row: Mapping[str, Any], version: str, repo: str, subst: Mapping[str, str],
             codename: str | None = None) -> Package:
    extra = (row.get("files_by") or {}).get(codename or "", {})
    if extra:
        row = {**row, "files": {**(row.get("files") or {}), **extra}}
    return Package(
        name=row["name"], version=version, files=_entries_from_row(row, subst), depends=tuple(row.get("depends", ())),
        description=row.get("description", ""), size=int(row.get("size", 0)), units=_units_from_row(row),
        repo=repo, section=row.get("section", "misc"), installed_size=int(row.get("isize", 0)),
        recommends=tuple(row.get("recommends", ())), conflicts=tuple(row.get("conflicts", ())),
        provides=tuple(row.get("provides", ())), component=row.get("component", "main"),
        arch=row.get("arch", "amd64"), groups=tuple(row.get("groups", ())), base=bool(row.get("base")))


def _repos() -> dict[str, RepoInfo]:
    repos = {
        "ubuntu/jammy": RepoInfo("ubuntu/jammy", "http://archive.ubuntu.com/ubuntu", "jammy",
                                 ("main", "restricted", "universe", "multiverse"), "Ubuntu", "Ubuntu", index_kb=1792),
        "ubuntu/noble": RepoInfo("ubuntu/noble", "http://archive.ubuntu.com/ubuntu", "noble",
                                 ("main", "restricted", "universe", "multiverse"), "Ubuntu", "Ubuntu", index_kb=1808),
        "debian/bookworm": RepoInfo("debian/bookworm", "http://deb.debian.org/debian", "bookworm", ("main",),
                                    "Debian", "Debian", index_kb=8788),
    }
    for d, r, c in (("ubuntu", "22.04", "jammy"), ("ubuntu", "24.04", "noble"), ("debian", "12", "bookworm")):
        key = f"docker/{d}/{c}"
        repos[key] = RepoInfo(key, f"https://download.docker.com/linux/{d}", c, ("stable",), "Docker", "Docker CE",
                              key_id="7EA0A9C3F273FCD8", index_kb=44)
    for m in _K8S_MINORS:
        key = f"k8s/v{m}"
        repos[key] = RepoInfo(key, f"https://pkgs.k8s.io/core:/stable:/v{m}/deb", "/", (),
                              f"obs://build.opensuse.org/isv:kubernetes:core:stable:v{m}/deb", "isv:kubernetes:core:stable:v" + m,
                              key_id="234654DA9A296436", index_kb=22)
        key = f"crio/v{m}"
        repos[key] = RepoInfo(key, f"https://pkgs.k8s.io/addons:/cri-o:/stable:/v{m}/deb", "/", (),
                              f"obs://build.opensuse.org/isv:cri-o:stable:v{m}/deb", "isv:cri-o:stable:v" + m,
                              key_id="0FE1BE2BCB4CFB1F", index_kb=6)
    return repos


#: Every apt repository by key.
REPOS: dict[str, RepoInfo] = _repos()


@lru_cache(maxsize=None)
def index() -> dict[str, tuple[Package, ...]]:
    """Every package of every repository, by repository key (built once, on first use).

    Keys: ``ubuntu/jammy``, ``ubuntu/noble``, ``debian/bookworm``, ``docker/<distro>/<codename>``,
    ``k8s/v1.28`` .. ``k8s/v1.31``, ``crio/v1.28`` .. ``crio/v1.31``, ``cri-dockerd`` (the GitHub
    .debs), ``nginx.org/bookworm``, ``alpine/v3.19``, ``alpine/v3.20``, ``pypi``.
    """
    out: dict[str, list[Package]] = {}
    for codename in _ALL:
        distro = _DISTVER[codename][0]
        key = f"{distro}/{codename}"
        subst = {"py": _PY[codename]}
        out[key] = [_package(row, row["versions"][codename], key, subst, codename)
                    for row in _ARCHIVE if codename in row["versions"]]
        d, r = _DISTVER[codename]
        dkey = f"docker/{d}/{codename}"
        out[dkey] = [_package({**row, "component": "stable"}, v.format(d=d, r=r, c=codename), dkey, {})
                     for row in _DOCKER_REPO for v in row["versions"]]
    for m, (crictl, cni) in _K8S_MINORS.items():
        pk = []
        for row in _K8S_REPO:
            versions = sorted({v.format(m=m, p=p, crictl=crictl, cni=cni) for v in row["versions"] for p in _K8S_PATCHES},
                              key=_version_key)
            pk += [_package(row, v, f"k8s/v{m}", {}) for v in versions]
        out[f"k8s/v{m}"] = pk
        out[f"crio/v{m}"] = [_package(_CRIO_REPO[0], f"{m}.{p}-1.1", f"crio/v{m}", {}) for p in range(0, 4)]
    out["cri-dockerd"] = [_package(_CRI_DOCKERD_ROW, v, "cri-dockerd", {}) for v in _CRI_DOCKERD_DEBS.values()]
    out["nginx.org/bookworm"] = [_package(_NGINX_ORG[0], v, "nginx.org/bookworm", {}) for v in _NGINX_ORG[0]["versions"]]
    for branch in ("v3.19", "v3.20"):
        pk = []
        for name, (comp, versions, size, deps, desc, progs, files) in _APK.items():
            if branch not in versions:
                continue
            row = {"name": name, "files": {**{p: ("prog", n) for p, n in progs.items()}, **files}}
            pk.append(Package(name=name, version=versions[branch], files=_entries_from_row(row, {"py": _APK_PY[branch]}),
                              depends=tuple(deps), description=desc, size=size, repo=f"alpine/{branch}",
                              component=comp, installed_size=size * 2 // 1000, arch="x86_64",
                              base=name in ALPINE_BASE))
        out[f"alpine/{branch}"] = pk
    out["pypi"] = [Package(name=name, version=v, depends=reqs, description=summary, size=size, repo="pypi")
                   for name, (v, size, reqs, summary, _mods) in PYPI.items()]
    return {k: tuple(v) for k, v in out.items()}


def available(repo: str) -> tuple[Package, ...]:
    """The packages of repository ``repo`` (see :func:`index` for the keys).

    Raises:
        KeyError: no such repository.
    """
    return index()[repo]


def find_package(name: str, repo: str, version: str | None = None) -> Package | None:
    """The newest (or the given) version of package ``name`` in ``repo``, or None."""
    best = None
    for p in index().get(repo, ()):
        if p.name == name and (version is None or p.version == version):
            if best is None or compare_versions(p.version, best.version) > 0:
                best = p
    return best


@lru_cache(maxsize=None)
def _by_name_version() -> dict[tuple[str, str], Package]:
    out = {}
    for pkgs in index().values():
        for p in pkgs:
            out.setdefault((p.name, p.version), p)
    return out


# ---------------------------------------------------------------------------------------------
# Debian versions
# ---------------------------------------------------------------------------------------------
def _order(c: str) -> int:
    if c == "~":
        return -1
    if c.isdigit():
        return 0
    if not c:
        return 0
    if c.isalpha():
        return ord(c)
    return ord(c) + 256


def _verrevcmp(a: str, b: str) -> int:
    i = j = 0
    while i < len(a) or j < len(b):
        first_diff = 0
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _order(a[i]) if i < len(a) else 0
            bc = _order(b[j]) if j < len(b) else 0
            if ac != bc:
                return ac - bc
            i += 1
            j += 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i += 1
            j += 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if first_diff:
            return first_diff
    return 0


def _split_version(v: str) -> tuple[int, str, str]:
    epoch, sep, rest = v.partition(":")
    if not sep or not epoch.isdigit():
        epoch, rest = "0", v
    upstream, sep, revision = rest.rpartition("-")
    if not sep:
        upstream, revision = rest, ""
    return int(epoch), upstream, revision


def compare_versions(a: str, b: str) -> int:
    """Compare two Debian (or Alpine) version strings like ``dpkg --compare-versions``: <0, 0 or >0.

    >>> compare_versions("1:1.0", "2.0") > 0, compare_versions("1.30.2-1.1", "1.30.2-1.1")
    (True, 0)
    """
    ea, ua, ra = _split_version(a)
    eb, ub, rb = _split_version(b)
    if ea != eb:
        return ea - eb
    return _verrevcmp(ua, ub) or _verrevcmp(ra, rb)


class _VersionKey:
    __slots__ = ("v",)

    def __init__(self, v: str):
        self.v = v

    def __lt__(self, other: "_VersionKey") -> bool:
        return compare_versions(self.v, other.v) < 0

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _VersionKey) and compare_versions(self.v, other.v) == 0


def _version_key(v: str) -> _VersionKey:
    return _VersionKey(v)


# ---------------------------------------------------------------------------------------------
# Files the package managers keep (Debian control paragraphs, apk's database)
# ---------------------------------------------------------------------------------------------
def _paragraphs(text: str) -> list[dict[str, str]]:
    """Parse Debian control-file paragraphs (``Key: value``; continuation lines start with a space)."""
    out: list[dict[str, str]] = []
    cur: dict[str, str] = {}
    last = None
    for line in text.splitlines():
        if not line.strip():
            if cur:
                out.append(cur)
            cur, last = {}, None
            continue
        if line[0] in " \t" and last is not None:
            cur[last] += "\n" + line
            continue
        key, sep, value = line.partition(":")
        if sep:
            last = key.strip()
            cur[last] = value.strip()
    if cur:
        out.append(cur)
    return out


def _format_paragraph(p: Mapping[str, str]) -> str:
    return "".join(f"{k}: {v}\n" for k, v in p.items())


def _stanza_dict(pkg: Package, status: str) -> dict[str, str]:
    return _paragraphs(pkg.stanza(status))[0]


def dpkg_status_text(codename: str, names: Iterable[str]) -> str:
    """``/var/lib/dpkg/status`` of a system with packages ``names`` of ``codename`` installed.

    >>> text = dpkg_status_text("bookworm", ["bash"])
    >>> text.splitlines()[:2]
    ['Package: bash', 'Status: install ok installed']
    """
    distro = _DISTVER[codename][0]
    repo = f"{distro}/{codename}"
    out = []
    for name in sorted(names):
        pkg = find_package(name, repo)
        if pkg is not None:
            out.append(pkg.stanza("install ok installed"))
    return "\n".join(out)


def apk_installed_text(branch: str, names: Iterable[str]) -> str:
    """``/lib/apk/db/installed`` with Alpine packages ``names`` of ``branch`` (``v3.19``) installed."""
    out = []
    for name in names:
        pkg = find_package(name, f"alpine/{branch}")
        if pkg is not None:
            out.append(_apk_record(pkg))
    return "\n".join(out)


def _apk_record(pkg: Package) -> str:
    lines = [f"C:Q1{hashlib.sha1(f'{pkg.name}-{pkg.version}'.encode()).hexdigest()[:27]}=",
             f"P:{pkg.name}", f"V:{pkg.version}", "A:x86_64", f"S:{pkg.size}", f"I:{pkg.size * 2}",
             f"T:{pkg.description}", "L:MIT", f"o:{pkg.name}"]
    if pkg.depends:
        lines.append("D:" + " ".join(pkg.depends))
    cur_dir = None
    for path, entry in pkg.files.items():
        d, base = posixpath.split(path.lstrip("/"))
        if entry.is_dir:
            lines.append(f"F:{path.lstrip('/')}")
            cur_dir = path.lstrip("/")
            continue
        if d != cur_dir:
            lines.append(f"F:{d}")
            cur_dir = d
        lines.append(f"R:{base}")
    return "\n".join(lines) + "\n"


def _apk_db(text: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    cur: dict[str, Any] = {}
    cur_dir = ""
    for line in text.splitlines():
        if not line.strip():
            if cur:
                out.append(cur)
            cur, cur_dir = {}, ""
            continue
        key, _, value = line.partition(":")
        if key == "F":
            cur_dir = value
            cur.setdefault("files", []).append("/" + value)
        elif key == "R":
            cur.setdefault("files", []).append("/" + posixpath.join(cur_dir, value))
        else:
            cur[key] = value
    if cur:
        out.append(cur)
    return out


# ---------------------------------------------------------------------------------------------
# apt: sources, lists, status
# ---------------------------------------------------------------------------------------------
class _AptError(Exception):
    def __init__(self, lines: list[str], code: int = 100):
        super().__init__("\n".join(lines))
        self.lines = lines
        self.code = code


@dataclass
class _Source:
    uri: str  # as configured, without a trailing slash
    suite: str
    components: list[str]
    options: dict[str, str]
    file: str

    @property
    def flat(self) -> bool:
        return self.suite.endswith("/")

    @property
    def host(self) -> str:
        return re.sub(r"^[a-z+]+://", "", self.uri).split("/", 1)[0]

    def label(self) -> str:
        """How apt names it in ``Get:`` lines (``uri suite`` or ``uri `` for a flat repository)."""
        return f"{self.uri} " if self.flat and self.suite == "/" else f"{self.uri} {self.suite}"

    def prefix(self) -> str:
        u = re.sub(r"^[a-z+]+://", "", self.uri).rstrip("/")
        if self.flat:
            s = self.suite.strip("/")
            return (u + ("/" + s if s else "")).replace("/", "_") + "_"
        return (u + "/dists/" + self.suite).replace("/", "_") + "_"

    def packages_files(self) -> list[tuple[str, str]]:
        """(component or "", path of the Packages list) for each index this source has."""
        base = "/var/lib/apt/lists/" + self.prefix()
        if self.flat:
            return [("", base + "Packages")]
        return [(c, f"{base}{c}_binary-amd64_Packages") for c in self.components]


_LISTS = "/var/lib/apt/lists"


def _sources(fs) -> list[_Source]:
    """Every ``deb`` source configured (one-line .list files and deb822 .sources files)."""
    files = []
    if fs.is_file("/etc/apt/sources.list"):
        files.append("/etc/apt/sources.list")
    if fs.is_dir("/etc/apt/sources.list.d"):
        for name in fs.listdir("/etc/apt/sources.list.d"):
            if name.endswith((".list", ".sources")):
                files.append(f"/etc/apt/sources.list.d/{name}")
    out: list[_Source] = []
    for path in files:
        try:
            text = fs.read_text(path)
        except FsError:
            continue
        if path.endswith(".sources"):
            for n, p in enumerate(_paragraphs(text), 1):
                if p.get("Enabled", "yes").lower() == "no" or "deb" not in p.get("Types", "").split():
                    continue
                if not p.get("URIs") or not p.get("Suites"):
                    raise _AptError([f"E: Malformed entry {n} in sources file {path} (URI)" if not p.get("URIs")
                                     else f"E: Malformed entry {n} in sources file {path} (Suite)",
                                     "E: The list of sources could not be read."])
                opts = {"signed-by": p["Signed-By"]} if "Signed-By" in p else {}
                for uri in p["URIs"].split():
                    for suite in p["Suites"].split():
                        comps = p.get("Components", "").split()
                        if not suite.endswith("/") and not comps:
                            raise _AptError([f"E: Malformed entry {n} in sources file {path} (Component)",
                                             "E: The list of sources could not be read."])
                        out.append(_Source(uri.rstrip("/"), suite, comps, opts, path))
            continue
        for n, line in enumerate(text.splitlines(), 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            words = line.split()
            kind = words.pop(0)
            if kind == "deb-src":
                continue
            if kind != "deb":
                raise _AptError([f"E: Type '{kind}' is not known on line {n} in source list {path}",
                                 "E: The list of sources could not be read."])
            opts: dict[str, str] = {}
            if words and words[0].startswith("["):
                raw = []
                while words:
                    w = words.pop(0)
                    raw.append(w)
                    if w.endswith("]"):
                        break
                for item in " ".join(raw).strip("[]").split():
                    k, _, v = item.partition("=")
                    opts[k] = v
            if not words:
                raise _AptError([f"E: Malformed entry {n} in list file {path} (URI)",
                                 "E: The list of sources could not be read."])
            uri = words.pop(0)
            if not words:
                raise _AptError([f"E: Malformed entry {n} in list file {path} (Suite)",
                                 "E: The list of sources could not be read."])
            suite = words.pop(0)
            if not suite.endswith("/") and not words:
                raise _AptError([f"E: Malformed entry {n} in list file {path} (Component)",
                                 "E: The list of sources could not be read."])
            out.append(_Source(uri.rstrip("/"), suite, words, opts, path))
    return out


def _match_repo(src: _Source) -> tuple[str, str | None, bool]:
    """(status, repo key, has packages) for a source: status is ok, gone, missing or unresolvable."""
    host = src.host
    path = "/" + re.sub(r"^[a-z+]+://", "", src.uri).split("/", 1)[1] if "/" in re.sub(r"^[a-z+]+://", "", src.uri) else "/"
    path = path.rstrip("/")
    codename, _, pocket = src.suite.partition("-")
    if host in ("archive.ubuntu.com", "security.ubuntu.com", "ports.ubuntu.com") or host.endswith(".archive.ubuntu.com"):
        key = f"ubuntu/{codename}"
        return ("ok", key, not pocket) if key in REPOS and path == "/ubuntu" else ("missing", None, False)
    if host in ("deb.debian.org", "security.debian.org", "ftp.debian.org"):
        key = f"debian/{codename}"
        return ("ok", key, not pocket and path == "/debian") if key in REPOS else ("missing", None, False)
    if host == "download.docker.com":
        m = re.fullmatch(r"/linux/(ubuntu|debian)", path)
        key = f"docker/{m.group(1)}/{src.suite}" if m else ""
        return ("ok", key, True) if key in REPOS else ("missing", None, False)
    if host == "pkgs.k8s.io" or host == "download.opensuse.org":
        m = re.search(r"/core:/stable:/v(1\.\d+)/deb$", path)
        if m and host == "pkgs.k8s.io":
            key = f"k8s/v{m.group(1)}"
            return ("ok", key, True) if key in REPOS else ("missing", None, False)
        m = re.search(r"cri-o:/stable:/v(1\.\d+)/deb$", path)
        if m:
            key = f"crio/v{m.group(1)}"
            return ("ok", key, True) if key in REPOS else ("missing", None, False)
        return "missing", None, False
    if host in ("apt.kubernetes.io", "packages.cloud.google.com"):
        return "gone", None, False
    return "unresolvable", None, False


def _inrelease_text(repo: RepoInfo, src: _Source) -> str:
    comps = " ".join(repo.components) if repo.components else ""
    return (f"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nOrigin: {repo.origin}\nLabel: {repo.label}\n"
            f"Suite: {src.suite.strip('/') or 'stable'}\nCodename: {src.suite.strip('/') or 'stable'}\n"
            f"Date: Mon, 01 Jul 2024 00:00:00 UTC\nArchitectures: amd64 arm64\n"
            + (f"Components: {comps}\n" if comps else "")
            + f"Description: {repo.label}\n-----BEGIN PGP SIGNATURE-----\n\n"
            f"iQIzBAEBCgAdFiEE{repo.key_id or 'ARCHIVEKEY'}AAoJEH\n-----END PGP SIGNATURE-----\n")


def _packages_text(repo_key: str, component: str | None) -> str:
    pkgs = [p for p in index()[repo_key] if component is None or p.component == component]
    return "\n".join(p.stanza() for p in pkgs)


def apt_lists_files(uri: str, suite: str, components: list[str]) -> dict[str, Entry]:
    """The files ``apt-get update`` writes to ``/var/lib/apt/lists`` for one sources line.

    >>> sorted(apt_lists_files("https://pkgs.k8s.io/core:/stable:/v1.30/deb", "/", []))
    ['/var/lib/apt/lists/pkgs.k8s.io_core:_stable:_v1.30_deb_InRelease', '/var/lib/apt/lists/pkgs.k8s.io_core:_stable:_v1.30_deb_Packages']
    """
    src = _Source(uri.rstrip("/"), suite, list(components), {}, "")
    status, key, has = _match_repo(src)
    if status != "ok" or key is None:
        raise AivleError(f"no simulated repository at {uri} {suite}")
    return _lists_for(src, key, has)


def _lists_for(src: _Source, key: str, has_packages: bool) -> dict[str, Entry]:
    repo = REPOS[key]
    files = {f"{_LISTS}/{src.prefix()}InRelease": Entry.file(_inrelease_text(repo, src))}
    for comp, path in src.packages_files():
        text = _packages_text(key, comp if comp else None) if has_packages else ""
        files[path] = Entry.file(text)
    return files


@dataclass
class _Avail:
    pkg: Package
    src: _Source
    component: str

    @property
    def origin(self) -> str:
        """The ``apt-cache policy`` line of the index it came from."""
        if self.src.flat:
            return f"{self.src.uri}  Packages"
        return f"{self.src.uri} {self.src.suite}/{self.component} amd64 Packages"

    @property
    def get_prefix(self) -> str:
        if self.src.flat:
            return f"{self.src.uri} "
        return f"{self.src.uri} {self.src.suite}/{self.component} amd64"

    @property
    def suite(self) -> str:
        return "unknown" if self.src.flat else self.src.suite


def _package_from_fields(p: Mapping[str, str], repo: str = "") -> Package:
    known = _by_name_version().get((p.get("Package", ""), p.get("Version", "")))
    if known is not None:
        return known

    def lst(key: str) -> tuple[str, ...]:
        return tuple(x.strip() for x in p.get(key, "").split(",") if x.strip())

    return Package(name=p.get("Package", ""), version=p.get("Version", ""), depends=lst("Depends"),
                   description=p.get("Description", "").split("\n")[0], size=int(p.get("Size", "0") or 0),
                   repo=repo, section=p.get("Section", "misc"), installed_size=int(p.get("Installed-Size", "0") or 0),
                   recommends=lst("Recommends"), conflicts=lst("Conflicts"), provides=lst("Provides"),
                   arch=p.get("Architecture", "amd64"))


def _available(fs) -> dict[str, list[_Avail]]:
    """Packages apt knows from the downloaded lists of the configured sources, newest first."""
    out: dict[str, list[_Avail]] = {}
    for src in _sources(fs):
        for comp, path in src.packages_files():
            if not fs.is_file(path):
                continue
            for para in _paragraphs(fs.read_text(path)):
                pkg = _package_from_fields(para)
                if not pkg.name:
                    continue
                lst = out.setdefault(pkg.name, [])
                if not any(a.pkg.version == pkg.version for a in lst):
                    lst.append(_Avail(pkg, src, comp))
    for lst in out.values():
        lst.sort(key=lambda a: _version_key(a.pkg.version), reverse=True)
    return out


_STATUS = "/var/lib/dpkg/status"


def _read_status(fs) -> dict[str, dict[str, str]]:
    if not fs.is_file(_STATUS):
        return {}
    return {p["Package"]: p for p in _paragraphs(fs.read_text(_STATUS)) if "Package" in p}


def _write_status(fs, status: Mapping[str, Mapping[str, str]]) -> None:
    fs.mkdir("/var/lib/dpkg", parents=True, exist_ok=True)
    fs.write(_STATUS, "\n".join(_format_paragraph(status[k]) for k in sorted(status)))


def installed_version(fs, name: str) -> str | None:
    """The version of package ``name`` installed in ``fs`` (dpkg status, else the apk database), or None."""
    rec = _read_status(fs).get(name)
    if _is_installed(rec):
        return rec.get("Version")
    try:
        if fs.is_file(_APK_DB):
            rec = _apk_installed(fs).get(name)
            return rec.get("V") if rec else None
    except FsError:
        return None
    return None


def _is_installed(rec: Mapping[str, str] | None) -> bool:
    return rec is not None and rec.get("Status", "").endswith(" installed") and "not-installed" not in rec.get("Status", "")


def _installed(status: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """name -> version of installed packages."""
    return {n: r.get("Version", "") for n, r in status.items() if _is_installed(r)}


def _provided(status: Mapping[str, Mapping[str, str]]) -> set[str]:
    out = set()
    for r in status.values():
        if _is_installed(r):
            out.update(x.strip().split(" ")[0] for x in r.get("Provides", "").split(",") if x.strip())
    return out


def _held(rec: Mapping[str, str] | None) -> bool:
    return rec is not None and rec.get("Status", "").startswith("hold ")


_EXTENDED = "/var/lib/apt/extended_states"


def _auto_installed(fs) -> set[str]:
    if not fs.is_file(_EXTENDED):
        return set()
    return {p["Package"] for p in _paragraphs(fs.read_text(_EXTENDED)) if p.get("Auto-Installed") == "1"}


def _write_auto(fs, names: set[str]) -> None:
    fs.mkdir("/var/lib/apt", parents=True, exist_ok=True)
    fs.write(_EXTENDED, "\n".join(f"Package: {n}\nArchitecture: amd64\nAuto-Installed: 1\n" for n in sorted(names)))


def _apt_size(n: float) -> str:
    """apt's SizeToStr: ``194 kB``, ``28.9 MB``, ``1510 B``."""
    exts = ["", "k", "M", "G", "T"]
    i = 0
    while True:
        if n < 100 and i != 0:
            return f"{n:.1f} {exts[i]}B"
        if n < 10000 or i == len(exts) - 1:
            return f"{n:.0f} {exts[i]}B"
        n /= 1000.0
        i += 1


def _wrap(names: Iterable[str], indent: str = "  ", width: int = 80) -> str:
    lines, cur = [], indent
    for n in names:
        if cur != indent and len(cur) + len(n) + 1 > width - 1:
            lines.append(cur.rstrip())
            cur = indent
        cur += n + " "
    lines.append(cur.rstrip())
    return "\n".join(lines) + "\n"


def _dep_names(dep: str) -> list[str]:
    return [re.sub(r"\s*\(.*?\)", "", alt).strip().split(":")[0] for alt in dep.split("|") if alt.strip()]


def _on_host(proc: Process) -> Any:
    """The Machine when ``proc`` runs on the machine's own root filesystem (not in a container), else None."""
    owner = getattr(proc.kernel, "owner", None)
    if owner is not None and getattr(owner, "fs", None) is proc.ns.fs:
        return owner
    return None


_DOWNLOAD_RATE = 10 * MB  # bytes per simulated second


# ---------------------------------------------------------------------------------------------
# Installing and removing files (shared by apt, dpkg, apk, pip and the image catalogue)
# ---------------------------------------------------------------------------------------------
def _install_files(fs, pkg: Package, *, keep_conffiles: bool = True) -> list[str]:
    """Put ``pkg``'s files in place; returns the paths it owns (for /var/lib/dpkg/info/<pkg>.list)."""
    owned = []
    for path, entry in pkg.files.items():
        parent = posixpath.dirname(path)
        if parent and parent != "/" and not fs.exists(parent):
            fs.mkdir(parent, parents=True, exist_ok=True)
        if entry.is_dir:
            if not fs.is_dir(path):
                if fs.lexists(path):
                    fs.remove(path)
                fs.mkdir(path, parents=True, exist_ok=True)
        elif entry.kind == "symlink":
            if fs.lexists(path):
                if fs.is_dir(path) and not fs.stat(path, follow=False).kind == "symlink":
                    continue
                fs.remove(path)
            fs.symlink(entry.target, path)
        else:
            if keep_conffiles and path.startswith("/etc/") and fs.is_file(path):
                owned.append(path)
                continue
            fs.write(path, entry.data, mode=entry.mode, uid=entry.uid, gid=entry.gid)
        owned.append(path)
    return owned


def _remove_files(fs, paths: Iterable[str], *, keep_etc: bool) -> None:
    paths = list(paths)
    for path in paths:
        if keep_etc and path.startswith("/etc/"):
            continue
        try:
            if fs.lexists(path) and not (fs.is_dir(path) and fs.stat(path, follow=False).kind == "dir"):
                fs.remove(path)
        except FsError:
            pass
    for path in sorted(paths, key=len, reverse=True):  # directories the package made, if now empty
        try:
            if fs.stat(path, follow=False).kind == "dir" and not fs.listdir(path) and path.count("/") > 2:
                fs.remove(path)
        except FsError:
            pass


def _add_groups(fs, groups: Iterable[str]) -> list[str]:
    added = []
    for g in groups:
        text = fs.read_text("/etc/group") if fs.is_file("/etc/group") else ""
        if any(line.split(":")[0] == g for line in text.splitlines()):
            continue
        gids = [int(line.split(":")[2]) for line in text.splitlines() if line.count(":") >= 3 and line.split(":")[2].isdigit()]
        gid = max([g2 for g2 in gids if 100 <= g2 < 1000] or [110]) + 1
        fs.write("/etc/group", text + ("" if text.endswith("\n") or not text else "\n") + f"{g}:x:{gid}:\n")
        added.append(f"Adding group `{g}' (GID {gid}) ...\nDone.\n")
    return added


def deb_install_into(fs, pkg: Package) -> None:
    """Install ``pkg`` into filesystem ``fs`` the way dpkg would (files, status, file list), without
    running anything (used to build image layers, like ``RUN apt-get install`` did)."""
    owned = _install_files(fs, pkg)
    fs.mkdir("/var/lib/dpkg/info", parents=True, exist_ok=True)
    fs.write(f"/var/lib/dpkg/info/{pkg.name}.list", "".join(p + "\n" for p in owned))
    status = _read_status(fs)
    status[pkg.name] = _stanza_dict(pkg, "install ok installed")
    _write_status(fs, status)
    _add_groups(fs, pkg.groups)


# ---------------------------------------------------------------------------------------------
# apt-get / apt
# ---------------------------------------------------------------------------------------------
_APT_USAGE = """apt {version} (amd64)
Usage: apt-get [options] command
       apt-get [options] install|remove pkg1 [pkg2 ...]
       apt-get [options] source pkg1 [pkg2 ...]

apt-get is a command line interface for retrieval of packages
and information about them from authenticated sources and
for installation, upgrade and removal of packages together
with their dependencies.

Most used commands:
  update - Retrieve new lists of packages
  upgrade - Perform an upgrade
  install - Install new packages (pkg is libc6 not libc6.deb)
  reinstall - Reinstall packages (pkg is libc6 not libc6.deb)
  remove - Remove packages
  purge - Remove packages and config files
  autoremove - Remove automatically all unused packages
  dist-upgrade - Distribution upgrade, see apt-get(8)
  clean - Erase downloaded archive files
  autoclean - Erase old downloaded archive files
  check - Verify that there are no broken dependencies

See apt-get(8) for more information about the available commands.
Configuration options and syntax is detailed in apt.conf(5).
Information about how to configure sources can be found in sources.list(5).
Package and version choices can be expressed via apt_preferences(5).
Security details are available in apt-secure(8).
                                        This APT has Super Cow Powers.
"""

_LOCK_ERRORS = ["E: Could not open lock file /var/lib/dpkg/lock-frontend - open (13: Permission denied)",
                "E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), are you root?"]


@dataclass
class _AptOpts:
    yes: bool = False
    quiet: int = 0
    recommends: bool = True
    allow_held: bool = False
    allow_downgrades: bool = False
    purge: bool = False
    reinstall: bool = False
    front: str = "apt-get"


class _Out:
    """Writes apt's output; ``-qq`` silences stdout."""

    def __init__(self, proc: Process, quiet: int = 0):
        self.proc = proc
        self.quiet = quiet

    def __call__(self, text: str) -> None:
        if self.quiet < 2:
            self.proc.write(text)

    def err(self, text: str) -> None:
        self.proc.error(text)


def _apt_version(fs) -> str:
    rec = _read_status(fs).get("apt")
    return rec.get("Version", "2.4.12") if rec else "2.4.12"


def _parse_apt_args(argv: list[str], front: str) -> tuple[_AptOpts, list[str]]:
    opts = _AptOpts(front=front)
    words: list[str] = []
    it = iter(argv)
    for a in it:
        if a in ("-y", "--yes", "--assume-yes", "-yq", "-qy"):
            opts.yes = True
            if "q" in a:
                opts.quiet += 1
        elif a in ("-q", "--quiet"):
            opts.quiet += 1
        elif a == "-qq":
            opts.quiet += 2
        elif a == "--no-install-recommends":
            opts.recommends = False
        elif a == "--install-recommends":
            opts.recommends = True
        elif a == "--allow-change-held-packages":
            opts.allow_held = True
        elif a == "--allow-downgrades":
            opts.allow_downgrades = True
        elif a == "--purge":
            opts.purge = True
        elif a in ("-o", "-t", "-c"):
            next(it, None)
        elif a.startswith(("-o", "--option=", "--target-release=", "-t")):
            pass
        elif a in ("--installed", "--upgradable", "--all-versions"):  # `apt list` filters
            words.append(a)
        elif a in ("--fix-broken", "-f", "--no-upgrade", "--only-upgrade", "--reinstall", "--fix-missing", "-m",
                   "--allow-unauthenticated", "--allow-remove-essential", "--autoremove", "--force-yes",
                   "-s", "--simulate", "--dry-run", "--list-cleanup"):
            pass  # accepted, no effect here
        elif a.startswith("-") and a != "-":
            raise _AptError([f"E: Command line option '{a.lstrip('-')}' [from {a}] is not understood in combination with the other options."])
        else:
            words.append(a)
    return opts, words


def _apt_main(proc: Process, front: str):
    fs = proc.fs
    try:
        opts, words = _parse_apt_args(proc.argv[1:], front)
    except _AptError as e:
        proc.error("\n".join(e.lines) + "\n")
        return e.code
    out = _Out(proc, opts.quiet)
    if front == "apt":
        proc.error("\nWARNING: apt does not have a stable CLI interface. Use with caution in scripts.\n\n")
    if not words:
        if front == "apt":
            proc.write(f"apt {_apt_version(fs)} (amd64)\nUsage: apt [options] command\n\n"
                       "Most used commands:\n  list - list packages based on package names\n"
                       "  search - search in package descriptions\n  show - show package details\n"
                       "  install - install packages\n  remove - remove packages\n"
                       "  update - update list of available packages\n  upgrade - upgrade the system by installing/upgrading packages\n")
        else:
            proc.write(_APT_USAGE.format(version=_apt_version(fs)))
        return 1
    cmd, args = words[0], words[1:]
    try:
        if front == "apt" and cmd in ("list", "search", "show", "policy", "madison"):
            if cmd == "list":
                return _apt_list(proc, args)
            return _apt_cache_cmd(proc, cmd, args)
        if cmd in ("update", "install", "reinstall", "remove", "purge", "upgrade", "dist-upgrade", "full-upgrade",
                   "autoremove", "autopurge", "clean", "autoclean"):
            if proc.uid != 0:
                if cmd == "update":
                    out("Reading package lists... Done\n")
                    proc.error("E: Could not open lock file /var/lib/apt/lists/lock - open (13: Permission denied)\n"
                               "E: Unable to lock directory /var/lib/apt/lists/\n"
                               "W: Problem unlinking the file /var/cache/apt/pkgcache.bin - RemoveCaches (13: Permission denied)\n"
                               "W: Problem unlinking the file /var/cache/apt/srcpkgcache.bin - RemoveCaches (13: Permission denied)\n")
                    return 100
                if cmd in ("clean", "autoclean"):
                    proc.error("E: Could not open lock file /var/cache/apt/archives/lock - open (13: Permission denied)\n"
                               "E: Unable to lock directory /var/cache/apt/archives/\n")
                    return 100
                proc.error("\n".join(_LOCK_ERRORS) + "\n")
                return 100
            if cmd == "update":
                return (yield from _apt_update(proc, opts, out))
            if cmd in ("clean", "autoclean"):
                for name in (fs.listdir("/var/cache/apt/archives") if fs.is_dir("/var/cache/apt/archives") else []):
                    if name.endswith(".deb"):
                        fs.remove(f"/var/cache/apt/archives/{name}")
                return 0
            if cmd in ("install", "reinstall"):
                opts.reinstall = cmd == "reinstall"
                return (yield from _apt_install(proc, opts, out, args))
            if cmd in ("remove", "purge", "autoremove", "autopurge"):
                opts.purge = opts.purge or cmd in ("purge", "autopurge")
                return (yield from _apt_remove(proc, opts, out, args, auto=cmd.startswith("auto")))
            return (yield from _apt_upgrade(proc, opts, out))
        if cmd == "check":
            out("Reading package lists... Done\nBuilding dependency tree... Done\nReading state information... Done\n")
            return 0
        proc.error(f"E: Invalid operation {cmd}\n")
        return 100
    except _AptError as e:
        proc.error("\n".join(e.lines) + "\n")
        return e.code


def _reading(out: _Out) -> None:
    out("Reading package lists... Done\nBuilding dependency tree... Done\nReading state information... Done\n")


def _apt_update(proc: Process, opts: _AptOpts, out: _Out):
    fs = proc.fs
    sources = _sources(fs)
    n = 0
    fetched = 0
    errors: list[str] = []
    warnings: list[str] = []
    keep: set[str] = set()
    new_files: dict[str, Entry] = {}
    for src in sources:
        n += 1
        status, key, has = _match_repo(src)
        label = src.label()
        if status == "unresolvable":
            out(f"Err:{n} {label} InRelease\n  Could not resolve '{src.host}'\n")
            url = f"{src.uri}/InRelease" if src.flat else f"{src.uri}/dists/{src.suite}/InRelease"
            warnings.append(f"W: Failed to fetch {url}  Could not resolve '{src.host}'")
            continue
        if status in ("gone", "missing"):
            out(f"Ign:{n} {label} InRelease\nErr:{n} {label} Release\n  404  Not Found [IP: 142.250.196.110 443]\n"
                if status == "gone" else f"Err:{n} {label} Release\n  404  Not Found [IP: 151.101.2.132 443]\n")
            errors += [f"E: The repository '{label} Release' does not have a Release file.",
                       "N: Updating from such a repository can't be done securely, and is therefore disabled by default.",
                       "N: See apt-secure(8) manpage for repository creation and user configuration details."]
            continue
        repo = REPOS[key]
        if repo.key_id and not _has_key(fs, src):
            size = 1186 if src.flat else 48_800
            out(f"Get:{n} {label} InRelease [{_apt_size(size)}]\nErr:{n} {label} InRelease\n"
                f"  The following signatures couldn't be verified because the public key is not available: NO_PUBKEY {repo.key_id}\n")
            fetched += size
            warnings.append(f"W: GPG error: {label} InRelease: The following signatures couldn't be verified because "
                            f"the public key is not available: NO_PUBKEY {repo.key_id}")
            errors += [f"E: The repository '{label} InRelease' is not signed.",
                       "N: Updating from such a repository can't be done securely, and is therefore disabled by default.",
                       "N: See apt-secure(8) manpage for repository creation and user configuration details."]
            continue
        files = _lists_for(src, key, has)
        keep.update(files)
        inrelease = f"{_LISTS}/{src.prefix()}InRelease"
        if fs.is_file(inrelease) and all(fs.is_file(p) and fs.read(p) == e.data for p, e in files.items()):
            out(f"Hit:{n} {label} InRelease\n")
            continue
        size = 1186 if src.flat else 128_000
        out(f"Get:{n} {label} InRelease [{_apt_size(size)}]\n")
        fetched += size
        for comp, path in src.packages_files():
            n += 1
            psize = repo.index_kb * 1000 if has else 512
            out(f"Get:{n} {src.uri}  Packages [{_apt_size(psize)}]\n" if src.flat
                else f"Get:{n} {src.uri} {src.suite}/{comp} amd64 Packages [{_apt_size(psize)}]\n")
            fetched += psize
        new_files.update(files)
    seconds = max(1, round(fetched / _DOWNLOAD_RATE + 0.4 * len(sources)))
    yield proc.sleep(fetched / _DOWNLOAD_RATE + 0.4 * len(sources))
    fs.mkdir(_LISTS, parents=True, exist_ok=True)
    for path, entry in new_files.items():
        fs.write(path, entry.data)
    for name in fs.listdir(_LISTS):  # lists of sources no longer configured go away
        path = f"{_LISTS}/{name}"
        if path not in keep and fs.is_file(path) and name != "lock":
            fs.remove(path)
    if fetched:
        out(f"Fetched {_apt_size(fetched)} in {seconds}s ({_apt_size(fetched / seconds)}/s)\n")
    out("Reading package lists... Done\n")
    if warnings or errors:
        proc.error("\n".join(warnings + errors) + "\n")
    if errors:
        return 100
    if warnings:
        proc.error("W: Some index files failed to download. They have been ignored, or old ones used instead.\n")
    if opts.front == "apt":
        out("Building dependency tree... Done\nReading state information... Done\n")
        upgradable = _upgradable(fs)
        if upgradable:
            out(f"{len(upgradable)} package{'s' if len(upgradable) != 1 else ''} can be upgraded. "
                f"Run 'apt list --upgradable' to see {'them' if len(upgradable) != 1 else 'it'}.\n")
        else:
            out("All packages are up to date.\n")
    return 0


def _has_key(fs, src: _Source) -> bool:
    signed = src.options.get("signed-by")
    if signed:
        return fs.is_file(signed) and fs.stat(signed).size > 0
    for d in ("/etc/apt/trusted.gpg.d",):
        if fs.is_dir(d) and any(n.endswith((".gpg", ".asc")) and n != "ubuntu-keyring-2018-archive.gpg"
                                for n in fs.listdir(d)):
            return True
    return fs.is_file("/etc/apt/trusted.gpg") and fs.stat("/etc/apt/trusted.gpg").size > 0


def _upgradable(fs) -> list[_Avail]:
    avail = _available(fs)
    status = _read_status(fs)
    out = []
    for name, ver in sorted(_installed(status).items()):
        cands = avail.get(name)
        if cands and compare_versions(cands[0].pkg.version, ver) > 0:
            out.append(cands[0])
    return out


def _candidate(avail: Mapping[str, list[_Avail]], name: str, version: str | None) -> _Avail | None:
    cands = avail.get(name) or []
    if version is None:
        return cands[0] if cands else None
    for a in cands:
        if a.pkg.version == version or ("*" in version and fnmatch.fnmatchcase(a.pkg.version, version)):
            return a
    return None


def _providers(avail: Mapping[str, list[_Avail]], name: str) -> list[_Avail]:
    return [lst[0] for lst in avail.values() if lst and name in [p.split(" ")[0] for p in lst[0].pkg.provides]]


@dataclass
class _Plan:
    order: list[tuple[_Avail, bool]] = field(default_factory=list)  # (package, auto-installed)
    remove: list[str] = field(default_factory=list)
    unmet: list[tuple[str, str]] = field(default_factory=list)
    skipped_recommends: list[str] = field(default_factory=list)


def _resolve(requested: list[_Avail], avail, status, opts: _AptOpts) -> _Plan:
    plan = _Plan()
    installed = _installed(status)
    provided = _provided(status)
    planned: set[str] = set()
    planned_provides: set[str] = set()

    def satisfied(n: str) -> bool:
        return n in installed or n in provided or n in planned or n in planned_provides

    def visit(a: _Avail, auto: bool) -> None:
        if a.pkg.name in planned:
            return
        planned.add(a.pkg.name)
        planned_provides.update(p.split(" ")[0] for p in a.pkg.provides)
        deps = [(d, True) for d in a.pkg.depends] + [(d, False) for d in a.pkg.recommends]
        for dep, hard in deps:
            names = _dep_names(dep)
            if any(satisfied(n) for n in names):
                continue
            if not hard and not opts.recommends:
                plan.skipped_recommends.append(names[0])
                continue
            choice = None
            for n in names:
                choice = _candidate(avail, n, None) or next(iter(_providers(avail, n)), None)
                if choice is not None:
                    break
            if choice is None:
                if hard:
                    plan.unmet.append((a.pkg.name, dep))
                continue
            visit(choice, True)
        plan.order.append((a, auto))

    for a in requested:
        visit(a, False)
    # conflicts: installed packages the new ones conflict with (or that conflict with them) are removed
    new_names = {a.pkg.name for a, _ in plan.order}
    for a, _ in plan.order:
        for c in a.pkg.conflicts:
            c = _dep_names(c)[0]
            if c in installed and c not in new_names and c not in plan.remove:
                plan.remove.append(c)
        for name in installed:
            rec = status[name]
            conf = [_dep_names(x)[0] for x in rec.get("Conflicts", "").split(",") if x.strip()]
            if a.pkg.name in conf and name not in new_names and name not in plan.remove:
                plan.remove.append(name)
    plan.remove += [n for n in _reverse_deps(plan.remove, status, new_names | planned_provides) if n not in plan.remove]
    return plan


def _reverse_deps(removed: list[str], status, still_there: set[str]) -> list[str]:
    """Installed packages that depend on ``removed`` ones (transitively) and so must go too."""
    gone = set(removed)
    out: list[str] = []
    changed = True
    while changed:
        changed = False
        for name, rec in sorted(status.items()):
            if not _is_installed(rec) or name in gone:
                continue
            for dep in rec.get("Depends", "").split(","):
                names = _dep_names(dep) if dep.strip() else []
                if names and all(n in gone and n not in still_there for n in names):
                    gone.add(name)
                    out.append(name)
                    changed = True
                    break
    return out


def _prompt(proc: Process, out: _Out) -> bool:
    """``Do you want to continue? [Y/n]``: reads an answer from stdin (no stdin: abort)."""
    out("Do you want to continue? [Y/n] ")
    answer = proc.stdin.decode(errors="replace").split("\n")[0].strip().lower() if proc.stdin else None
    if answer is None or answer not in ("", "y", "yes"):
        out("Abort.\n")
        return False
    return True


def _apt_install(proc: Process, opts: _AptOpts, out: _Out, args: list[str]):
    fs = proc.fs
    local_debs = [a for a in args if a.endswith(".deb") and ("/" in a)]
    args = [a for a in args if a not in local_debs]
    avail = _available(fs)
    notes_local = []
    for path in local_debs:  # apt-get install ./pkg.deb
        full = join(proc.cwd, path)
        pkg = _read_deb(fs, full)
        if pkg is None:
            _reading(out)
            raise _AptError([f"E: Unsupported file {path} given on commandline"])
        avail.setdefault(pkg.name, []).insert(0, _Avail(pkg, _Source(full, "/", [], {}, ""), ""))
        args.append(f"{pkg.name}={pkg.version}")
        notes_local.append(f"Note, selecting '{pkg.name}' instead of '{path}'\n")
    status = _read_status(fs)
    installed = _installed(status)
    _reading(out)
    for note in notes_local:
        out(note)
    errors: list[str] = []
    requested: list[_Avail] = []
    notes: list[str] = []
    for spec in args:
        name, _, version = spec.partition("=")
        name = name.split("/")[0]
        if not name:
            continue
        cand = _candidate(avail, name, version or None)
        if cand is None:
            if version and avail.get(name):
                errors.append(f"E: Version '{version}' for '{name}' was not found")
            elif not avail.get(name) and _providers(avail, name):
                prov = _providers(avail, name)
                errors.append(f"Package {name} is a virtual package provided by:\n  {prov[0].pkg.name} {prov[0].pkg.version}\n"
                              f"You should explicitly select one to install.\n")
                errors.append(f"E: Package '{name}' has no installation candidate")
            else:
                errors.append(f"E: Unable to locate package {name}")
            continue
        cur = installed.get(name)
        if cur == cand.pkg.version and not opts.reinstall:
            notes.append(f"{name} is already the newest version ({cur}).\n")
            continue
        requested.append(cand)
    if errors:
        raise _AptError(errors)
    plan = _resolve(requested, avail, status, opts)
    if plan.unmet:
        msg = ["Some packages could not be installed. This may mean that you have",
               "requested an impossible situation or if you are using the unstable",
               "distribution that some required packages have not yet been created",
               "or been moved out of Incoming.", "The following information may help to resolve the situation:", "",
               "The following packages have unmet dependencies:"]
        for pkg, dep in plan.unmet:
            msg.append(f" {pkg} : Depends: {dep} but it is not installable")
        out("\n".join(msg[:6]) + "\n")
        raise _AptError(["\n".join(msg[6:]), "E: Unable to correct problems, you have held broken packages."])
    for note in notes:
        out(note)
    auto = _auto_installed(fs)
    new = [a for a, _ in plan.order if a.pkg.name not in installed]
    upgraded = [a for a, _ in plan.order if a.pkg.name in installed and compare_versions(a.pkg.version, installed[a.pkg.name]) > 0]
    downgraded = [a for a, _ in plan.order if a.pkg.name in installed and compare_versions(a.pkg.version, installed[a.pkg.name]) < 0]
    reinstalled = [a for a, _ in plan.order if a.pkg.name in installed and a.pkg.version == installed[a.pkg.name]]
    additional = sorted(a.pkg.name for a, is_auto in plan.order if is_auto and a.pkg.name not in installed)
    held_changed = sorted({a.pkg.name for a in upgraded + downgraded if _held(status.get(a.pkg.name))}
                          | {n for n in plan.remove if _held(status.get(n))})
    if additional:
        out("The following additional packages will be installed:\n" + _wrap(additional))
    if plan.skipped_recommends:
        out("Recommended packages:\n" + _wrap(sorted(set(plan.skipped_recommends))))
    if plan.remove:
        out("The following packages will be REMOVED:\n" + _wrap(sorted(plan.remove)))
    if held_changed:
        out("The following held packages will be changed:\n" + _wrap(held_changed))
    if new:
        out("The following NEW packages will be installed:\n" + _wrap(sorted(a.pkg.name for a in new)))
    if upgraded:
        out("The following packages will be upgraded:\n" + _wrap(sorted(a.pkg.name for a in upgraded)))
    if downgraded:
        out("The following packages will be DOWNGRADED:\n" + _wrap(sorted(a.pkg.name for a in downgraded)))
    not_upgraded = len([u for u in _upgradable(fs) if u.pkg.name not in {a.pkg.name for a, _ in plan.order}])
    out(f"{len(upgraded)} upgraded, {len(new)} newly installed, "
        + (f"{len(reinstalled)} reinstalled, " if reinstalled else "")
        + (f"{len(downgraded)} downgraded, " if downgraded else "")
        + f"{len(plan.remove)} to remove and {not_upgraded} not upgraded.\n")
    if not plan.order and not plan.remove:
        return 0
    if held_changed and not opts.allow_held:
        raise _AptError(["E: Held packages were changed and -y was used without --allow-change-held-packages."])
    if downgraded and not opts.allow_downgrades and opts.yes:
        raise _AptError(["E: Packages were downgraded and -y was used without --allow-downgrades."])
    total = sum(a.pkg.size for a, _ in plan.order)
    freed = sum(int(status[n].get("Installed-Size", "0") or 0) for n in plan.remove)
    grow = sum(a.pkg.installed_size for a, _ in plan.order) - freed
    out(f"Need to get {_apt_size(total)} of archives.\n")
    if grow >= 0:
        out(f"After this operation, {_apt_size(grow * 1000)} of additional disk space will be used.\n")
    else:
        out(f"After this operation, {_apt_size(-grow * 1000)} disk space will be freed.\n")
    if not opts.yes and (additional or plan.remove or held_changed or downgraded):
        if not _prompt(proc, out):
            return 1
    for i, (a, _) in enumerate(plan.order, 1):
        if a.src.uri.endswith(".deb"):
            out(f"Get:{i} {a.src.uri} {a.pkg.name} {a.pkg.arch} {a.pkg.version} [{_apt_size(a.pkg.size)}]\n")
        elif a.src.flat:
            out(f"Get:{i} {a.get_prefix} {a.pkg.name} {a.pkg.version} [{_apt_size(a.pkg.size)}]\n")
        else:
            out(f"Get:{i} {a.get_prefix} {a.pkg.name} {a.pkg.arch} {a.pkg.version} [{_apt_size(a.pkg.size)}]\n")
    total -= sum(a.pkg.size for a, _ in plan.order if a.src.uri.endswith(".deb"))  # already on disk
    seconds = total / _DOWNLOAD_RATE
    if total:
        yield proc.sleep(seconds)
    shown = max(1, round(seconds))
    if total:
        out(f"Fetched {_apt_size(total)} in {shown}s ({_apt_size(total / shown)}/s)\n")
    if "apt-utils" not in installed:
        proc.error("debconf: delaying package configuration, since apt-utils is not installed\n")
    host = _on_host(proc)
    first = True
    for name in _removal_order(plan.remove, _read_status(fs)):
        if first:
            out(f"(Reading database ... {_db_count(fs)} files and directories currently installed.)\n")
            first = False
        _dpkg_remove(proc, out, name, purge=False)
    many = len(plan.order) > 1
    for i, (a, _) in enumerate(plan.order):
        pkg = a.pkg
        old = _installed(_read_status(fs)).get(pkg.name)
        if old is None:
            out(f"Selecting previously unselected package {pkg.name}.\n")
        if first:
            out(f"(Reading database ... {_db_count(fs)} files and directories currently installed.)\n")
            first = False
        deb = f".../{i}-{pkg.deb_name}" if many else f".../{pkg.deb_name}"
        if a.src.uri.endswith(".deb"):
            deb = a.src.uri if not many else f".../{i}-{posixpath.basename(a.src.uri)}"
        out(f"Preparing to unpack {deb} ...\n")
        out(f"Unpacking {pkg.name} ({pkg.version})" + (f" over ({old})" if old else "") + " ...\n")
        _dpkg_unpack(fs, pkg)
        yield proc.sleep(0.2)
    auto_now = set(auto)
    for a, is_auto in plan.order:
        if is_auto and a.pkg.name not in installed:
            auto_now.add(a.pkg.name)
        elif not is_auto:
            auto_now.discard(a.pkg.name)
    _write_auto(fs, auto_now)
    for a, _ in plan.order:
        yield from _dpkg_configure(proc, out, a.pkg, host)
    if "man-db" in installed:
        out(f"Processing triggers for man-db ({installed['man-db']}) ...\n")
    if any(a.pkg.section == "libs" for a, _ in plan.order) and "libc-bin" in installed:
        out(f"Processing triggers for libc-bin ({installed['libc-bin']}) ...\n")
    return 0


def _db_count(fs) -> int:
    base = 4000 + 85 * len(_read_status(fs))
    return base + sum(max(0, fs.read_text(f"/var/lib/dpkg/info/{n}").count("\n"))
                      for n in (fs.listdir("/var/lib/dpkg/info") if fs.is_dir("/var/lib/dpkg/info") else [])
                      if n.endswith(".list"))


def _dpkg_unpack(fs, pkg: Package) -> None:
    owned = _install_files(fs, pkg)
    fs.mkdir("/var/lib/dpkg/info", parents=True, exist_ok=True)
    fs.write(f"/var/lib/dpkg/info/{pkg.name}.list", "".join(p + "\n" for p in owned))
    conffiles = [p for p in owned if p.startswith("/etc/") and pkg.files.get(p) is not None and pkg.files[p].is_file]
    if conffiles:
        fs.write(f"/var/lib/dpkg/info/{pkg.name}.conffiles", "".join(p + "\n" for p in conffiles))
    status = _read_status(fs)
    old = status.get(pkg.name)
    state = "hold" if _held(old) else "install"
    status[pkg.name] = _stanza_dict(pkg, f"{state} ok unpacked")
    _write_status(fs, status)


def _dpkg_configure(proc: Process, out: _Out, pkg: Package, host: Any):
    """``Setting up pkg (version) ...``: groups, units, the machine's package hook, service start."""
    fs = proc.fs
    out(f"Setting up {pkg.name} ({pkg.version}) ...\n")
    status = _read_status(fs)
    rec = status.get(pkg.name) or _stanza_dict(pkg, "install ok unpacked")
    rec["Status"] = rec["Status"].replace(" unpacked", " installed")
    status[pkg.name] = rec
    _write_status(fs, status)
    for line in _add_groups(fs, pkg.groups):
        out(line)
    enabled = []
    for unit in pkg.units:
        spec_enabled = next((s[3] for s in _unit_specs(pkg) if s[0] == unit.name), False)
        unit_path = next((p for p in pkg.files if p.endswith(f"/{unit.name}.service")), f"/lib/systemd/system/{unit.name}.service")
        if spec_enabled:
            link = f"/etc/systemd/system/multi-user.target.wants/{unit.name}.service"
            if not fs.lexists(link):
                fs.mkdir(posixpath.dirname(link), parents=True, exist_ok=True)
                fs.symlink(unit_path, link)
                out(f"Created symlink {link} \u2192 {unit_path}.\n")
            enabled.append(unit.name)
        if host is not None and hasattr(host, "services"):
            if unit.name not in host.services.units:
                host.services.add(replace(unit, exec_start=list(unit.exec_start), env=dict(unit.env)))
    if host is not None and hasattr(host, "package_installed"):
        host.package_installed(pkg.name, pkg.version)
    if host is not None and hasattr(host, "services"):
        for name in enabled:
            try:
                host.services.enable(name)
                if not host.services.is_active(name):
                    host.services.start(name)
            except AivleError:
                proc.error(f"Job for {name}.service failed because the control process exited with error code.\n"
                           f"See \"systemctl status {name}.service\" and \"journalctl -xeu {name}.service\" for details.\n"
                           f"invoke-rc.d: initscript {name}, action \"start\" failed.\n")
    elif enabled:
        out("invoke-rc.d: could not determine current runlevel\ninvoke-rc.d: policy-rc.d denied execution of start.\n")
    if False:  # pragma: no cover  (keeps this a generator)
        yield


def _unit_specs(pkg: Package) -> list[tuple]:
    for table in (_ARCHIVE, _DOCKER_REPO, _K8S_REPO, _CRIO_REPO, [_CRI_DOCKERD_ROW], _NGINX_ORG):
        for row in table:
            if row["name"] == pkg.name and row.get("units"):
                return list(row["units"])
    return []


def _dpkg_remove(proc: Process, out: _Out, name: str, *, purge: bool) -> None:
    fs = proc.fs
    status = _read_status(fs)
    rec = status.get(name)
    if rec is None:
        return
    host = _on_host(proc)
    version = rec.get("Version", "")
    if _is_installed(rec):
        out(f"Removing {name} ({version}) ...\n")
        pkg = _by_name_version().get((name, version))
        if host is not None and hasattr(host, "services") and pkg is not None:
            for unit in pkg.units:
                if unit.name in host.services.units:
                    try:
                        host.services.stop(unit.name)
                    except AivleError:
                        pass
                    host.services.units.pop(unit.name, None)
        list_path = f"/var/lib/dpkg/info/{name}.list"
        owned = fs.read_text(list_path).split() if fs.is_file(list_path) else []
        _remove_files(fs, owned, keep_etc=not purge)
        for link in (f"/etc/systemd/system/multi-user.target.wants/{u.name}.service" for u in (pkg.units if pkg else ())):
            if fs.lexists(link):
                fs.remove(link)
        if fs.is_file(list_path):
            fs.remove(list_path)
        if host is not None and hasattr(host, "package_removed"):
            host.package_removed(name)
    conffiles_path = f"/var/lib/dpkg/info/{name}.conffiles"
    has_conf = fs.is_file(conffiles_path)
    if purge:
        if has_conf:
            _remove_files(fs, fs.read_text(conffiles_path).split(), keep_etc=False)
            fs.remove(conffiles_path)
            out(f"Purging configuration files for {name} ({version}) ...\n")
        status.pop(name, None)
    elif has_conf:
        rec = dict(rec)
        rec["Status"] = "deinstall ok config-files"
        status[name] = rec
    else:
        status.pop(name, None)
    _write_status(fs, status)


def _apt_remove(proc: Process, opts: _AptOpts, out: _Out, args: list[str], *, auto: bool):
    fs = proc.fs
    _reading(out)
    status = _read_status(fs)
    installed = _installed(status)
    avail = _available(fs)
    targets: list[str] = []
    errors = []
    for name in args:
        name = name.split("=")[0]
        if name in installed or (opts.purge and name in status):
            targets.append(name)
        elif name in avail or name in status:
            out(f"Package '{name}' is not installed, so not removed\n")
        else:
            errors.append(f"E: Unable to locate package {name}")
    if errors:
        raise _AptError(errors)
    targets += [n for n in _reverse_deps(targets, status, set()) if n not in targets]
    targets = _removal_order(targets, status)
    auto_set = _auto_installed(fs)
    unneeded = _unneeded(status, auto_set, set(targets))
    if auto:
        targets = _removal_order(targets + [n for n in unneeded if n not in targets], status)
        unneeded = []
    if unneeded:
        out("The following packages were automatically installed and are no longer required:\n" + _wrap(unneeded)
            + f"Use '{'sudo ' if proc.env.get('SUDO_USER') else ''}apt autoremove' to remove them.\n")
    if targets:
        out("The following packages will be REMOVED:\n" + _wrap(sorted(f"{n}*" if opts.purge else n for n in targets)))
    held = sorted(n for n in targets if _held(status.get(n)))
    if held:
        out("The following held packages will be changed:\n" + _wrap(held))
    not_upgraded = len(_upgradable(fs))
    out(f"0 upgraded, 0 newly installed, {len(targets)} to remove and {not_upgraded} not upgraded.\n")
    if not targets:
        return 0
    if held and not opts.allow_held:
        raise _AptError(["E: Held packages were changed and -y was used without --allow-change-held-packages."])
    freed = sum(int(status[n].get("Installed-Size", "0") or 0) for n in targets if n in status)
    out(f"After this operation, {_apt_size(freed * 1000)} disk space will be freed.\n")
    if not opts.yes and not _prompt(proc, out):
        return 1
    out(f"(Reading database ... {_db_count(fs)} files and directories currently installed.)\n")
    for name in targets:
        _dpkg_remove(proc, out, name, purge=opts.purge)
        yield proc.sleep(0.1)
    _write_auto(fs, auto_set - set(targets))
    if "man-db" in installed:
        out(f"Processing triggers for man-db ({installed['man-db']}) ...\n")
    return 0


def _removal_order(names: list[str], status) -> list[str]:
    """``names`` ordered so that a package is removed before the packages it depends on."""
    left = list(names)
    out: list[str] = []
    while left:
        for n in left:
            needed_by_other = any(n in _dep_names(d) for m in left if m != n
                                  for d in status.get(m, {}).get("Depends", "").split(",") if d.strip())
            if not needed_by_other:
                break
        else:
            n = left[0]
        left.remove(n)
        out.append(n)
    return out


def _unneeded(status, auto_set: set[str], removing: set[str]) -> list[str]:
    """Auto-installed packages no remaining package needs (what ``apt autoremove`` would remove)."""
    keep_roots = [n for n, r in status.items() if _is_installed(r) and n not in auto_set and n not in removing]
    needed: set[str] = set()
    stack = list(keep_roots)
    while stack:
        n = stack.pop()
        if n in needed:
            continue
        needed.add(n)
        rec = status.get(n)
        if rec is None:
            continue
        for field_name in ("Depends", "Recommends"):
            for dep in rec.get(field_name, "").split(","):
                for name in _dep_names(dep) if dep.strip() else []:
                    if name in status:
                        stack.append(name)
                    for other, r2 in status.items():  # virtual packages
                        if name in [p.strip() for p in r2.get("Provides", "").split(",")]:
                            stack.append(other)
    return sorted(n for n in auto_set if n in status and _is_installed(status[n]) and n not in needed and n not in removing)


def _apt_upgrade(proc: Process, opts: _AptOpts, out: _Out):
    fs = proc.fs
    _reading(out)
    out("Calculating upgrade... Done\n")
    status = _read_status(fs)
    avail = _available(fs)
    ups = _upgradable(fs)
    kept = sorted(a.pkg.name for a in ups if _held(status.get(a.pkg.name)))
    todo = [a for a in ups if a.pkg.name not in kept]
    if kept:
        out("The following packages have been kept back:\n" + _wrap(kept))
    if todo:
        out("The following packages will be upgraded:\n" + _wrap(sorted(a.pkg.name for a in todo)))
    out(f"{len(todo)} upgraded, 0 newly installed, 0 to remove and {len(kept)} not upgraded.\n")
    if not todo:
        return 0
    plan = _resolve(todo, avail, status, opts)
    total = sum(a.pkg.size for a, _ in plan.order)
    out(f"Need to get {_apt_size(total)} of archives.\n")
    if not opts.yes and not _prompt(proc, out):
        return 1
    for i, (a, _) in enumerate(plan.order, 1):
        out(f"Get:{i} {a.get_prefix} {a.pkg.name} {a.pkg.version} [{_apt_size(a.pkg.size)}]\n")
    yield proc.sleep(total / _DOWNLOAD_RATE)
    out(f"Fetched {_apt_size(total)} in {max(1, round(total / _DOWNLOAD_RATE))}s\n")
    host = _on_host(proc)
    installed = _installed(status)
    out(f"(Reading database ... {_db_count(fs)} files and directories currently installed.)\n")
    for a, _ in plan.order:
        old = installed.get(a.pkg.name)
        out(f"Preparing to unpack .../{a.pkg.deb_name} ...\n"
            f"Unpacking {a.pkg.name} ({a.pkg.version})" + (f" over ({old})" if old else "") + " ...\n")
        _dpkg_unpack(fs, a.pkg)
    for a, _ in plan.order:
        yield from _dpkg_configure(proc, out, a.pkg, host)
    return 0


def _apt_list(proc: Process, args: list[str]) -> int:
    fs = proc.fs
    proc.write("Listing... Done\n")
    status = _read_status(fs)
    installed = _installed(status)
    avail = _available(fs)
    auto = _auto_installed(fs)
    patterns = [a for a in args if not a.startswith("--")]
    if "--installed" in args:
        names = sorted(installed)
    elif "--upgradable" in args:
        names = sorted(a.pkg.name for a in _upgradable(fs))
    else:
        names = sorted(set(avail) | set(installed))
    for name in names:
        if patterns and not any(fnmatch.fnmatchcase(name, p) for p in patterns):
            continue
        cands = avail.get(name) or []
        ver = installed.get(name) or (cands[0].pkg.version if cands else "")
        suites = [a.suite for a in cands if a.pkg.version == ver]
        suite = ",".join(suites + (["now"] if name in installed else [])) or "now"
        arch = (cands[0].pkg.arch if cands else status.get(name, {}).get("Architecture", "amd64"))
        tag = ""
        if name in installed:
            upgr = cands and compare_versions(cands[0].pkg.version, installed[name]) > 0
            tag = " [installed,upgradable to: " + cands[0].pkg.version + "]" if upgr else (
                " [installed,automatic]" if name in auto else " [installed]")
        proc.write(f"{name}/{suite} {ver} {arch}{tag}\n")
    return 0


# ---------------------------------------------------------------------------------------------
# apt-cache, apt-mark
# ---------------------------------------------------------------------------------------------
def _apt_cache_cmd(proc: Process, cmd: str, args: list[str]) -> int:
    fs = proc.fs
    avail = _available(fs)
    status = _read_status(fs)
    installed = _installed(status)
    if cmd == "policy":
        if not args:
            proc.write("Package files:\n 100 /var/lib/dpkg/status\n     release a=now\n")
            for src in _sources(fs):
                for comp, path in src.packages_files():
                    if fs.is_file(path):
                        shown = f"{src.uri}  Packages" if src.flat else f"{src.uri} {src.suite}/{comp} amd64 Packages"
                        proc.write(f" 500 {shown}\n     release o={src.host},a={src.suite.strip('/') or 'stable'},b=amd64\n"
                                   f"     origin {src.host}\n")
            proc.write("Pinned packages:\n")
            return 0
        for name in args:
            cands = avail.get(name) or []
            if not cands and name not in status:
                proc.error(f"N: Unable to locate package {name}\n")
                continue
            cur = installed.get(name)
            proc.write(f"{name}:\n  Installed: {cur or '(none)'}\n  Candidate: {cands[0].pkg.version if cands else '(none)'}\n")
            proc.write("  Version table:\n")
            versions = [(a.pkg.version, a.origin) for a in cands]
            if cur and cur not in [v for v, _ in versions]:
                versions.append((cur, None))
                versions.sort(key=lambda x: _version_key(x[0]), reverse=True)
            for v, origin in versions:
                mark = "***" if v == cur else "   "
                proc.write(f" {mark} {v} {100 if origin is None else 500}\n")
                if origin:
                    proc.write(f"        500 {origin}\n")
                if v == cur:
                    proc.write("        100 /var/lib/dpkg/status\n")
        return 0
    if cmd == "madison":
        for name in args:
            cands = avail.get(name) or []
            if not cands:
                proc.error(f"N: Unable to locate package {name}\n")
                continue
            width = max(len(name), 0)
            vwidth = max(len(a.pkg.version) for a in cands)
            for a in cands:
                proc.write(f"{name:>{width + 3}} | {a.pkg.version:<{vwidth}} | {a.origin}\n")
        return 0
    if cmd == "show":
        if not args:
            proc.error("E: No packages found\n")
            return 100
        code = 0
        for name in args:
            name, _, version = name.partition("=")
            cands = [a for a in avail.get(name, []) if not version or a.pkg.version == version]
            if not cands:
                if name in status:
                    proc.write(_format_paragraph(status[name]) + "\n")
                    continue
                proc.error(f"N: Unable to locate package {name}\nE: No packages found\n")
                code = 100
                continue
            for a in cands:
                proc.write(a.pkg.stanza() + "\n")
        return code
    if cmd == "search":
        if not args:
            proc.error("E: You must give at least one search pattern\n")
            return 100
        try:
            pats = [re.compile(p, re.I) for p in args]
        except re.error:
            pats = [re.compile(re.escape(p), re.I) for p in args]
        for name in sorted(avail):
            desc = avail[name][0].pkg.description
            if all(p.search(name) or p.search(desc) for p in pats):
                proc.write(f"{name} - {desc}\n")
        return 0
    if cmd in ("pkgnames",):
        for name in sorted(avail):
            if not args or name.startswith(args[0]):
                proc.write(name + "\n")
        return 0
    if cmd in ("depends", "rdepends"):
        for name in args:
            cands = avail.get(name) or []
            if not cands:
                proc.error(f"E: No packages found\n")
                return 100
            proc.write(f"{name}\n")
            for dep in cands[0].pkg.depends:
                proc.write(f"  Depends: {dep}\n")
        return 0
    proc.error(f"E: Invalid operation {cmd}\n")
    return 100


@register_program("apt-get")
def apt_get(proc: Process):
    """``apt-get update|install|remove|purge|upgrade|autoremove|clean`` (see the module docstring)."""
    return (yield from _apt_main(proc, "apt-get"))


@register_program("apt")
def apt(proc: Process):
    """``apt``: apt-get plus ``list``, ``search``, ``show``; warns that its CLI is not stable."""
    return (yield from _apt_main(proc, "apt"))


@register_program("apt-cache")
def apt_cache(proc: Process) -> int:
    """``apt-cache policy|madison|show|search|pkgnames|depends``."""
    args = [a for a in proc.argv[1:] if not a.startswith("-")]
    if not args:
        proc.write(f"apt {_apt_version(proc.fs)} (amd64)\nUsage: apt-cache [options] command\n")
        return 1
    try:
        return _apt_cache_cmd(proc, args[0], args[1:])
    except _AptError as e:
        proc.error("\n".join(e.lines) + "\n")
        return e.code


@register_program("apt-mark")
def apt_mark(proc: Process) -> int:
    """``apt-mark hold|unhold|showhold|auto|manual|showmanual|showauto``."""
    fs = proc.fs
    args = [a for a in proc.argv[1:] if not a.startswith("-")]
    if not args:
        proc.write(f"apt {_apt_version(fs)} (amd64)\nUsage: apt-mark [options] {{auto|manual}} pkg1 [pkg2 ...]\n")
        return 1
    cmd, names = args[0], args[1:]
    status = _read_status(fs)
    try:
        avail = _available(fs)
    except _AptError as e:
        proc.error("\n".join(e.lines) + "\n")
        return e.code
    if cmd == "showhold":
        for n in sorted(n for n, r in status.items() if _held(r)):
            proc.write(n + "\n")
        return 0
    if cmd in ("showmanual", "showauto"):
        auto = _auto_installed(fs)
        for n in sorted(_installed(status)):
            if (n in auto) == (cmd == "showauto"):
                proc.write(n + "\n")
        return 0
    if cmd in ("hold", "unhold", "auto", "manual"):
        if not names:
            proc.error("E: No packages found\n")
            return 100
        for n in names:
            if n not in status and n not in avail:
                proc.error(f"E: Unable to locate package {n}\n")
                return 100
        if proc.uid != 0:
            if cmd in ("hold", "unhold"):
                proc.error("dpkg: error: requested operation requires superuser privilege\n"
                           "E: Executing dpkg failed. Are you root?\n")
            else:
                proc.error("E: Could not create temporary file for /var/lib/apt/extended_states - "
                           "mkstemp (13: Permission denied)\nE: Failed to write temporary StateFile /var/lib/apt/extended_states\n")
            return 100
        if cmd in ("auto", "manual"):
            auto = _auto_installed(fs)
            for n in names:
                if cmd == "auto":
                    auto.add(n)
                    proc.write(f"{n} set to automatically installed.\n")
                else:
                    auto.discard(n)
                    proc.write(f"{n} set to manually installed.\n")
            _write_auto(fs, auto)
            return 0
        for n in names:
            rec = status.get(n)
            if cmd == "hold":
                if _held(rec):
                    proc.write(f"{n} was already set on hold.\n")
                    continue
                if rec is None:
                    rec = {"Package": n, "Status": "hold ok not-installed", "Architecture": "amd64"}
                else:
                    rec = dict(rec)
                    rec["Status"] = "hold" + rec["Status"][rec["Status"].index(" "):]
                status[n] = rec
                proc.write(f"{n} set on hold.\n")
            else:
                if not _held(rec):
                    proc.write(f"{n} was already not on hold.\n")
                    continue
                rec = dict(rec)
                if rec["Status"] == "hold ok not-installed":
                    status.pop(n)
                else:
                    rec["Status"] = "install" + rec["Status"][rec["Status"].index(" "):]
                    status[n] = rec
                proc.write(f"Canceled hold on {n}.\n")
        _write_status(fs, status)
        return 0
    proc.error(f"E: Invalid operation {cmd}\n")
    return 100


# ---------------------------------------------------------------------------------------------
# dpkg and .deb files
# ---------------------------------------------------------------------------------------------
def deb_file(pkg: Package) -> bytes:
    """A ``.deb`` archive of ``pkg`` (an ar archive whose control member ``dpkg -i`` reads)."""
    control = pkg.stanza().encode()
    member = lambda name, data: (f"{name:<16}0           0     0     100644  {len(data):<10}`\n".encode() + data  # noqa: E731
                                 + (b"\n" if len(data) % 2 else b""))
    filler = hashlib.sha256(f"{pkg.name}_{pkg.version}".encode()).digest() * 64
    return b"!<arch>\n" + member("debian-binary", b"2.0\n") + member("control.tar.zst", control) + member("data.tar.zst", filler)


def _read_deb(fs, path: str) -> Package | None:
    try:
        data = fs.read(path)
    except FsError:
        return None
    if not data.startswith(b"!<arch>\n") or b"control.tar" not in data:
        return None
    start = data.index(b"control.tar")
    header_end = data.index(b"`\n", start) + 2
    size = int(data[start + 48:start + 58].decode().strip() or 0)
    paras = _paragraphs(data[header_end:header_end + size].decode(errors="replace"))
    if not paras or "Package" not in paras[0]:
        return None
    return _package_from_fields(paras[0], repo="local")


def _dpkg_list(proc: Process, patterns: list[str]) -> int:
    status = _read_status(proc.fs)
    rows = []
    for name in sorted(status):
        rec = status[name]
        if patterns and not any(fnmatch.fnmatchcase(name, p) for p in patterns):
            continue
        want, _, state = rec.get("Status", "install ok installed").partition(" ok ")
        code = {"install": "i", "hold": "h", "deinstall": "r", "purge": "p"}.get(want, "u")
        code += {"installed": "i", "config-files": "c", "unpacked": "U", "not-installed": "n",
                 "half-configured": "F", "half-installed": "H"}.get(state, "n")
        rows.append((code, name, rec.get("Version", "<none>"), rec.get("Architecture", "amd64"),
                     rec.get("Description", "(no description available)").split("\n")[0]))
    if not rows:
        proc.error(f"dpkg-query: no packages found matching {' '.join(patterns)}\n")
        return 1
    nw = max(14, max(len(r[1]) for r in rows))
    vw = max(12, max(len(r[2]) for r in rows))
    aw = 12
    proc.write("Desired=Unknown/Install/Remove/Purge/Hold\n"
               "| Status=Not/Inst/Conf-files/Unpacked/halF-conf/Half-inst/trig-aWait/Trig-pend\n"
               "|/ Err?=(none)/Reinst-required (Status,Err: uppercase=bad)\n"
               f"||/ {'Name':<{nw}} {'Version':<{vw}} {'Architecture':<{aw}} Description\n"
               f"+++-{'=' * nw}-{'=' * vw}-{'=' * aw}-{'=' * 40}\n")
    for code, name, version, arch, desc in rows:
        proc.write(f"{code:<3} {name:<{nw}} {version:<{vw}} {arch:<{aw}} {desc}\n")
    return 0


@register_program("dpkg")
def dpkg(proc: Process):
    """``dpkg -l|-L|-s|-S|-i|-r|-P|--print-architecture|--get-selections|--compare-versions``."""
    fs = proc.fs
    args = proc.argv[1:]
    if not args:
        proc.error("dpkg: error: need an action option\n\nType dpkg --help for help about installing and deinstalling packages [*];\n"
                   "Use 'apt' or 'aptitude' for user-friendly package management;\n"
                   "Type dpkg -Dhelp for a list of dpkg debug flag values;\nType dpkg --force-help for a list of forcing options;\n"
                   "Type dpkg-deb --help for help about manipulating *.deb files;\n\n"
                   "Options marked [*] produce a lot of output - pipe it through 'less' or 'more' !\n")
        return 2
    action, rest = args[0], [a for a in args[1:] if not a.startswith("--force")]
    status = _read_status(fs)
    if action == "--print-architecture":
        proc.write("amd64\n")
        return 0
    if action == "--print-foreign-architectures":
        return 0
    if action == "--version":
        proc.write(f"Debian 'dpkg' package management program version {status.get('dpkg', {}).get('Version', '1.21.1')} (amd64).\n")
        return 0
    if action in ("-l", "--list"):
        return _dpkg_list(proc, rest)
    if action == "--get-selections":
        for name in sorted(status):
            want = status[name].get("Status", "install").split(" ")[0]
            if not rest or any(fnmatch.fnmatchcase(name, p) for p in rest):
                proc.write(f"{name}\t\t\t\t\t\t{want}\n")
        return 0
    if action == "--compare-versions":
        if len(rest) != 3:
            proc.error("dpkg: error: --compare-versions takes three arguments: <version> <relation> <version>\n")
            return 2
        a, op, b = rest
        c = compare_versions(a, b)
        ok = {"lt": c < 0, "le": c <= 0, "eq": c == 0, "ne": c != 0, "ge": c >= 0, "gt": c > 0,
              "<<": c < 0, "<=": c <= 0, "=": c == 0, ">=": c >= 0, ">>": c > 0}.get(op)
        if ok is None:
            proc.error(f"dpkg: error: bad relation '{op}'\n")
            return 2
        return 0 if ok else 1
    if action in ("-L", "--listfiles", "-s", "--status"):
        code = 0
        for name in rest:
            rec = status.get(name)
            if action in ("-s", "--status"):
                if rec is None:
                    proc.error(f"dpkg-query: package '{name}' is not installed and no information is available\n"
                               "Use dpkg --info (= dpkg-deb --info) to examine archive files.\n")
                    code = 1
                    continue
                proc.write(_format_paragraph(rec) + "\n")
                continue
            path = f"/var/lib/dpkg/info/{name}.list"
            if not _is_installed(rec):
                proc.error(f"dpkg-query: package '{name}' is not installed\n"
                           "Use dpkg --contents (= dpkg-deb --contents) to list archive files contents.\n")
                code = 1
                continue
            proc.write("/.\n" + (fs.read_text(path) if fs.is_file(path) else ""))
        return code
    if action in ("-S", "--search"):
        found = False
        info = "/var/lib/dpkg/info"
        for name in sorted(fs.listdir(info) if fs.is_dir(info) else []):
            if name.endswith(".list"):
                for line in fs.read_text(f"{info}/{name}").splitlines():
                    if any(fnmatch.fnmatchcase(line, p) or line == p or p in line for p in rest):
                        proc.write(f"{name[:-5]}: {line}\n")
                        found = True
        if not found:
            proc.error(f"dpkg-query: no path found matching pattern {' '.join(rest)}\n")
            return 1
        return 0
    if action in ("-i", "--install", "-r", "--remove", "-P", "--purge"):
        if proc.uid != 0:
            proc.error("dpkg: error: requested operation requires superuser privilege\n")
            return 2
        out = _Out(proc)
        if action in ("-r", "--remove", "-P", "--purge"):
            code = 0
            for name in rest:
                if name not in status:
                    proc.error(f"dpkg: warning: ignoring request to remove {name} which isn't installed\n")
                    continue
                deps = [n for n in _reverse_deps([name], status, set())]
                if deps and _is_installed(status.get(name)):
                    proc.error(f"dpkg: dependency problems prevent removal of {name}:\n {deps[0]} depends on {name}.\n\n"
                               f"dpkg: error processing package {name} (--remove):\n dependency problems - not removing\n"
                               f"Errors were encountered while processing:\n {name}\n")
                    code = 1
                    continue
                out(f"(Reading database ... {_db_count(fs)} files and directories currently installed.)\n")
                _dpkg_remove(proc, out, name, purge=action in ("-P", "--purge"))
            return code
        if not rest:
            proc.error("dpkg: error: --install needs at least one package archive file argument\n")
            return 2
        failed = []
        host = _on_host(proc)
        for path in rest:
            full = join(proc.cwd, path)
            if not fs.exists(full):
                proc.error(f"dpkg: error: cannot access archive '{path}': No such file or directory\n")
                return 2
            pkg = _read_deb(fs, full)
            if pkg is None:
                proc.error(f"dpkg-deb: error: '{path}' is not a Debian format archive\n"
                           f"dpkg: error processing archive {path} (--install):\n"
                           f" dpkg-deb --control subprocess returned error exit status 2\n")
                failed.append(path)
                continue
            old = _installed(_read_status(fs)).get(pkg.name)
            if old is None:
                out(f"Selecting previously unselected package {pkg.name}.\n")
            out(f"(Reading database ... {_db_count(fs)} files and directories currently installed.)\n"
                f"Preparing to unpack {path} ...\n"
                f"Unpacking {pkg.name} ({pkg.version})" + (f" over ({old})" if old else "") + " ...\n")
            _dpkg_unpack(fs, pkg)
            yield proc.sleep(0.5)
            now = _read_status(fs)
            missing = [d for d in pkg.depends
                       if not any(n in _installed(now) or n in _provided(now) for n in _dep_names(d))]
            if missing:
                first = _dep_names(missing[0])[0]
                proc.error(f"dpkg: dependency problems prevent configuration of {pkg.name}:\n"
                           f" {pkg.name} depends on {missing[0]}; however:\n  Package {first} is not installed.\n\n"
                           f"dpkg: error processing package {pkg.name} (--install):\n"
                           f" dependency problems - leaving unconfigured\n")
                failed.append(pkg.name)
                continue
            yield from _dpkg_configure(proc, out, pkg, host)
        if failed:
            proc.error("Errors were encountered while processing:\n" + "".join(f" {f}\n" for f in failed))
            return 1
        return 0
    proc.error(f"dpkg: error: unknown option {action}\n\nType dpkg --help for help about installing and "
               f"deinstalling packages [*];\nUse 'apt' or 'aptitude' for user-friendly package management;\n")
    return 2


# ---------------------------------------------------------------------------------------------
# apk (Alpine)
# ---------------------------------------------------------------------------------------------
_APK_DB = "/lib/apk/db/installed"


def _apk_branch(fs) -> str:
    try:
        for line in fs.read_text("/etc/apk/repositories").splitlines():
            m = re.search(r"/alpine/(v\d+\.\d+|edge)/", line + "/")
            if m and not line.strip().startswith("#"):
                return m.group(1)
    except FsError:
        pass
    try:
        version = fs.read_text("/etc/alpine-release").strip()
        return "v" + ".".join(version.split(".")[:2])
    except FsError:
        return "v3.19"


def _apk_repos(fs) -> list[str]:
    try:
        return [line.strip() for line in fs.read_text("/etc/apk/repositories").splitlines()
                if line.strip() and not line.strip().startswith("#")]
    except FsError:
        return []


def _apk_installed(fs) -> dict[str, dict[str, Any]]:
    try:
        return {r["P"]: r for r in _apk_db(fs.read_text(_APK_DB)) if "P" in r}
    except FsError:
        return {}


def _apk_write_db(fs, records: Mapping[str, Mapping[str, Any]], new: Mapping[str, Package]) -> None:
    parts = []
    for name, rec in records.items():
        if name in new:
            parts.append(_apk_record(new[name]))
            continue
        lines = [f"{k}:{v}" for k, v in rec.items() if k != "files"]
        cur = None
        for path in rec.get("files", []):
            d, base = posixpath.split(path.lstrip("/"))
            if d != cur:
                lines.append(f"F:{d}")
                cur = d
            lines.append(f"R:{base}")
        parts.append("\n".join(lines) + "\n")
    for name, pkg in new.items():
        if name not in records:
            parts.append(_apk_record(pkg))
    fs.mkdir("/lib/apk/db", parents=True, exist_ok=True)
    fs.write(_APK_DB, "\n".join(parts))


def _apk_world(fs) -> list[str]:
    try:
        return [w for w in fs.read_text("/etc/apk/world").split() if w]
    except FsError:
        return []


def _apk_usage_line(fs) -> str:
    recs = _apk_installed(fs)
    total = sum(int(r.get("I", "0") or 0) for r in recs.values())
    mib = max(1, round((total + 6 * 1024 * 1024) / (1024 * 1024)))
    return f"OK: {mib} MiB in {len(recs)} packages\n"


@register_program("apk")
def apk(proc: Process):
    """Alpine's ``apk add|del|update|info|list|version`` (``--no-cache``, ``--update``, ``--virtual``)."""
    fs = proc.fs
    args = proc.argv[1:]
    no_cache = "--no-cache" in args
    update_first = "--update" in args or "-U" in args
    quiet = "-q" in args or "--quiet" in args
    virtual = None
    words: list[str] = []
    it = iter(args)
    for a in it:
        if a in ("--virtual", "-t"):
            virtual = next(it, None)
        elif a.startswith("--virtual="):
            virtual = a.split("=", 1)[1]
        elif a.startswith("-"):
            continue
        else:
            words.append(a)
    if not words:
        proc.write("apk-tools 2.14.0, compiled for x86_64.\n\nusage: apk [<OPTIONS>...] COMMAND [<ARGUMENTS>...]\n\n"
                   "Package installation and removal:\n  add        Add packages to WORLD and commit changes\n"
                   "  del        Remove packages from WORLD and commit changes\n\nSystem maintenance:\n"
                   "  update     Update repository indexes\n  upgrade    Install upgrades available from repositories\n")
        return 1
    cmd, names = words[0], words[1:]
    branch = _apk_branch(fs)
    repo_key = f"alpine/{branch}"
    repos = _apk_repos(fs)
    out = (lambda s: None) if quiet else proc.write

    def fetch_indexes() -> Any:
        for r in repos:
            out(f"fetch {r}/x86_64/APKINDEX.tar.gz\n")
        return proc.sleep(0.5 * max(1, len(repos)))

    if cmd in ("add", "del", "update", "upgrade", "fix") and proc.uid != 0:
        proc.error("ERROR: Unable to lock database: Permission denied\nERROR: Failed to open apk database: Permission denied\n")
        return 99
    if cmd == "update":
        yield fetch_indexes()
        fs.mkdir("/var/cache/apk", parents=True, exist_ok=True)
        for r in repos:
            tag = hashlib.sha1(r.encode()).hexdigest()[:8]
            fs.write(f"/var/cache/apk/APKINDEX.{tag}.tar.gz", b"\x1f\x8b" + r.encode())
        for r in repos:
            out(f"{branch}.{'1' if branch == 'v3.19' else '2'}-0-g0000000000 [{r}]\n")
        out(f"OK: {23983 if branch == 'v3.19' else 24160} distinct packages available\n")
        return 0
    if cmd in ("info", "list"):
        installed = _apk_installed(fs)
        if cmd == "info" and names:
            for n in names:
                rec = installed.get(n)
                if rec:
                    proc.write(f"{n}-{rec['V']} description:\n{rec.get('T', '')}\n\n")
            return 0
        if cmd == "list" and "--installed" not in args and "-I" not in args:
            for p in index().get(repo_key, ()):
                if not names or any(fnmatch.fnmatchcase(p.name, x) for x in names):
                    tag = " [installed]" if p.name in installed else ""
                    proc.write(f"{p.name}-{p.version} x86_64 {{{p.name}}} (MIT){tag}\n")
            return 0
        for n in sorted(installed):
            proc.write(n + "\n" if cmd == "info" else f"{n}-{installed[n]['V']} x86_64 {{{n}}} (MIT) [installed]\n")
        return 0
    if cmd == "add":
        if not repos or repo_key not in index():
            proc.error("ERROR: unable to select packages:\n" + "".join(f"  {n} (no such package):\n    required by: world[{n}]\n" for n in names))
            return 1
        if no_cache or update_first or not (fs.is_dir("/var/cache/apk") and any(
                x.startswith("APKINDEX") for x in fs.listdir("/var/cache/apk"))):
            yield fetch_indexes()
        pkgs = {p.name: p for p in index()[repo_key]}
        installed = _apk_installed(fs)
        missing = [n.split("=")[0] for n in names if n.split("=")[0] not in pkgs]
        if missing:
            proc.error("ERROR: unable to select packages:\n"
                       + "".join(f"  {n} (no such package):\n    required by: world[{n}]\n" for n in missing))
            return 1
        order: list[Package] = []
        seen: set[str] = set()

        def visit(n: str) -> None:
            if n in seen or n in installed or n not in pkgs:
                return
            seen.add(n)
            for d in pkgs[n].depends:
                visit(d)
            order.append(pkgs[n])

        for n in names:
            visit(n.split("=")[0])
        if virtual:
            order.append(Package(name=virtual, version="20240101.000000", depends=tuple(n.split("=")[0] for n in names),
                                 description="virtual meta package", repo=repo_key))
        total = len(order)
        size = sum(p.size for p in order)
        if size:
            yield proc.sleep(size / _DOWNLOAD_RATE)
        for i, p in enumerate(order, 1):
            out(f"({i}/{total}) Installing {p.name} ({p.version})\n")
            _install_files(fs, p, keep_conffiles=True)
            if p.name == "nginx":
                _add_groups(fs, ["nginx"])
                out(f"Executing nginx-{p.version}.pre-install\n")
            if p.name == "bash":
                out(f"Executing bash-{p.version}.post-install\n")
        new = {p.name: p for p in order}
        _apk_write_db(fs, installed, new)
        world = _apk_world(fs)
        for n in ([virtual] if virtual else [n.split("=")[0] for n in names]):
            if n not in world:
                world.append(n)
        fs.write("/etc/apk/world", "".join(w + "\n" for w in sorted(world)))
        if order:
            busybox = installed.get("busybox", {}).get("V")
            if busybox:
                out(f"Executing busybox-{busybox}.trigger\n")
            if any(p.name == "ca-certificates" for p in order):
                out(f"Executing ca-certificates-{pkgs['ca-certificates'].version}.trigger\n")
        out(_apk_usage_line(fs))
        return 0
    if cmd == "del":
        installed = _apk_installed(fs)
        world = _apk_world(fs)
        bad = [n for n in names if n not in world]
        for n in bad:
            proc.error(f"WARNING: '{n}' is not installed\n" if n not in installed else "")
        world = [w for w in world if w not in names]
        # keep what the remaining world needs
        needed: set[str] = set()
        stack = list(world)
        while stack:
            n = stack.pop()
            if n in needed:
                continue
            needed.add(n)
            rec = installed.get(n)
            if rec:
                stack += rec.get("D", "").split()
        kept = [n for n in names if n in needed and n in installed]
        if kept:
            out("World updated, but the following packages are not removed due to:\n"
                + "".join(f"  {n}: " + " ".join(sorted(m for m, r in installed.items() if n in r.get("D", "").split()))
                          + "\n" for n in kept) + "\n")
        remove = [n for n in installed if n not in needed and n not in ALPINE_BASE]
        remove = [n for n in names if n in remove] + [n for n in reversed(remove) if n not in names]
        for i, n in enumerate(remove, 1):
            out(f"({i}/{len(remove)}) Purging {n} ({installed[n]['V']})\n")
            _remove_files(fs, installed[n].get("files", []), keep_etc=False)
        for n in remove:
            installed.pop(n)
        _apk_write_db(fs, installed, {})
        fs.write("/etc/apk/world", "".join(w + "\n" for w in sorted(world)))
        if remove and installed.get("busybox"):
            out(f"Executing busybox-{installed['busybox']['V']}.trigger\n")
        out(_apk_usage_line(fs))
        return 0
    if cmd in ("upgrade", "fix"):
        yield fetch_indexes()
        out(_apk_usage_line(fs))
        return 0
    if cmd == "version":
        proc.write("Installed:                                Available:\n")
        return 0
    proc.error(f"apk: applet '{cmd}' not found\n")
    return 1


# ---------------------------------------------------------------------------------------------
# pip
# ---------------------------------------------------------------------------------------------
def _externally_managed_text(fs) -> str:
    """pip's PEP 668 error, with the distribution's own advice from its EXTERNALLY-MANAGED file."""
    advice = None
    if fs.is_dir("/usr/lib"):
        for name in fs.listdir("/usr/lib"):
            marker = f"/usr/lib/{name}/EXTERNALLY-MANAGED"
            if re.fullmatch(r"python3\.\d+", name) and fs.is_file(marker):
                lines = fs.read_text(marker).splitlines()
                for i, line in enumerate(lines):
                    if line.startswith("Error="):
                        body = [line[6:]] + [l.strip() for l in lines[i + 1:] if l.startswith((" ", "\t"))]
                        advice = "\n".join(("    " + b if b else "") if j else b for j, b in enumerate(body))
    if advice is None:
        return _EXTERNALLY_MANAGED
    return ("error: externally-managed-environment\n\n\u00d7 This environment is externally managed\n\u2570\u2500> "
            + advice + "\n\nnote: " + _EXTERNALLY_MANAGED.split("\n\nnote: ", 1)[1])


def _site_packages(fs, env: Mapping[str, str], argv0: str = "") -> tuple[str | None, bool]:
    """(site-packages directory, externally managed?) of the Python the machine or image has."""
    venv = env.get("VIRTUAL_ENV")
    if not venv and "/" in argv0:
        parent = posixpath.dirname(posixpath.dirname(argv0))
        if fs.is_file(f"{parent}/pyvenv.cfg"):
            venv = parent
    if not venv:
        for d in env.get("PATH", "").split(":"):
            parent = posixpath.dirname(d.rstrip("/"))
            if d and fs.is_file(f"{parent}/pyvenv.cfg") and fs.exists(f"{d}/pip"):
                venv = parent
                break
    if venv and fs.is_dir(f"{venv}/lib"):
        for name in sorted(fs.listdir(f"{venv}/lib"), reverse=True):
            if re.fullmatch(r"python3\.\d+", name):
                return f"{venv}/lib/{name}/site-packages", False
    for base in ("/usr/local/lib",):
        if fs.is_dir(base):
            for name in sorted(fs.listdir(base), reverse=True):
                if re.fullmatch(r"python3\.\d+", name) and fs.is_dir(f"{base}/{name}/site-packages"):
                    return f"{base}/{name}/site-packages", False
    if fs.is_dir("/usr/lib"):
        for name in sorted(fs.listdir("/usr/lib"), reverse=True):
            if re.fullmatch(r"python3\.\d+", name):
                managed = fs.exists(f"/usr/lib/{name}/EXTERNALLY-MANAGED")
                if fs.is_dir(f"/usr/lib/{name}/site-packages"):  # Alpine
                    return f"/usr/lib/{name}/site-packages", managed
                return f"/usr/local/lib/{name}/dist-packages", managed
    return None, False


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pip_installed(fs, site: str) -> dict[str, tuple[str, str]]:
    """normalised name -> (display name, version) from ``*.dist-info/METADATA``."""
    out: dict[str, tuple[str, str]] = {}
    if not fs.is_dir(site):
        return out
    for d in fs.listdir(site):
        if d.endswith(".dist-info"):
            meta = {}
            try:
                for line in fs.read_text(f"{site}/{d}/METADATA").splitlines():
                    k, _, v = line.partition(": ")
                    meta.setdefault(k, v)
            except FsError:
                continue
            if "Name" in meta:
                out[_norm(meta["Name"])] = (meta["Name"], meta.get("Version", ""))
    return out


def _pip_size(n: int) -> str:
    """pip's format_size: ``101 kB``, ``9.0 kB``, ``19.5 MB``."""
    if n > 1000 * 1000:
        return f"{n / 1000 / 1000:.1f} MB"
    if n > 10 * 1000:
        return f"{int(n / 1000)} kB"
    if n > 1000:
        return f"{n / 1000:.1f} kB"
    return f"{int(n)} bytes"


def _wheel(name: str) -> str:
    v = PYPI[name][0]
    return f"{name.replace('-', '_')}-{v}-py3-none-any.whl"


def pip_install_into(fs, site: str, name: str) -> None:
    """Put PyPI package ``name`` into ``site`` (its modules and dist-info), like ``pip install`` does."""
    version, _size, reqs, summary, modules = PYPI[_norm(name)]
    display = _PYPI_DISPLAY.get(_norm(name), name)
    fs.mkdir(site, parents=True, exist_ok=True)
    for mod in modules:
        fs.mkdir(f"{site}/{mod}", parents=True, exist_ok=True)
        fs.write(f"{site}/{mod}/__init__.py", f'"""{summary} (simulated)"""\n__version__ = "{version}"\n')
    info = f"{site}/{_norm(name).replace('-', '_')}-{version}.dist-info"
    fs.mkdir(info, parents=True, exist_ok=True)
    meta = f"Metadata-Version: 2.1\nName: {display}\nVersion: {version}\nSummary: {summary}\n"
    meta += "".join(f"Requires-Dist: {r}\n" for r in reqs)
    fs.write(f"{info}/METADATA", meta)
    fs.write(f"{info}/INSTALLER", "pip\n")
    scripts = _PYPI_SCRIPTS.get(_norm(name), [])
    bindir = _scripts_dir(site)
    for script in scripts:
        fs.mkdir(bindir, parents=True, exist_ok=True)
        fs.write(f"{bindir}/{script}", program_entry(script, 1024).data, mode=0o755)
    fs.write(f"{info}/RECORD", "".join(f"{m}/__init__.py,,\n" for m in modules)
             + "".join(f"{posixpath.relpath(f'{bindir}/{x}', site)},,\n" for x in scripts))


def _scripts_dir(site: str) -> str:
    """Where pip puts console scripts for ``site`` (``/usr/local/bin``, a venv's ``bin``, ``/usr/bin``)."""
    m = re.match(r"^(.*)/lib/python3\.\d+/(site|dist)-packages$", site)
    prefix = m.group(1) if m else "/usr/local"
    return f"{prefix or '/usr'}/bin"


_PIP_ROOT_WARNING = ("WARNING: Running pip as the 'root' user can result in broken permissions and conflicting "
                     "behaviour with the system package manager. It is recommended to use a virtual environment "
                     "instead: https://pip.pypa.io/warnings/venv\n")

_EXTERNALLY_MANAGED = """error: externally-managed-environment

\u00d7 This environment is externally managed
\u2570\u2500> To install Python packages system-wide, try apt install
    python3-xyz, where xyz is the package you are trying to
    install.

    If you wish to install a non-Debian-packaged Python package,
    create a virtual environment using python3 -m venv path/to/venv.
    Then use path/to/venv/bin/python to run your application.

note: If you believe this is a mistake, please contact your Python installation or OS distribution provider. You can override this, at the risk of breaking your Python installation or OS, by passing --break-system-packages.
hint: See PEP 668 for the detailed specification.
"""


def _pip_version(fs, site: str) -> str:
    return _pip_installed(fs, site).get("pip", ("pip", "24.0"))[1] if site else "24.0"


@register_program("pip")
@register_program("pip3")
def pip(proc: Process):
    """``pip install [-r requirements.txt] [--no-cache-dir] pkg[==ver]...``, ``pip list``, ``pip freeze``,
    ``pip uninstall -y``, ``pip --version`` over the small PyPI of :data:`PYPI`."""
    fs = proc.fs
    args = proc.argv[1:]
    site, managed = _site_packages(fs, proc.env, join(proc.cwd, proc.argv[0]) if "/" in proc.argv[0] else "")
    if site is None:
        proc.error("pip: no Python installation found\n")
        return 1
    pyver = re.search(r"python(3\.\d+)", site).group(1)
    if not args or args[0] in ("-h", "--help", "help"):
        proc.write("\nUsage:   \n  pip <command> [options]\n\nCommands:\n  install                     Install packages.\n"
                   "  uninstall                   Uninstall packages.\n  freeze                      Output installed packages in requirements format.\n"
                   "  list                        List installed packages.\n")
        return 0
    if args[0] in ("--version", "-V"):
        proc.write(f"pip {_pip_version(fs, site)} from {site}/pip (python {pyver})\n")
        return 0
    cmd, rest = args[0], args[1:]
    installed = _pip_installed(fs, site)
    if cmd == "list":
        rows = sorted(installed.values(), key=lambda x: x[0].lower())
        w = max([len("Package")] + [len(n) for n, _ in rows])
        vw = max([len("Version")] + [len(v) for _, v in rows])
        proc.write(f"{'Package':<{w}} Version\n{'-' * w} {'-' * vw}\n")
        for n, v in rows:
            proc.write(f"{n:<{w}} {v}\n")
        return 0
    if cmd == "freeze":
        for n, v in sorted(installed.values(), key=lambda x: x[0].lower()):
            if _norm(n) not in ("pip", "setuptools", "wheel"):
                proc.write(f"{n}=={v}\n")
        return 0
    if cmd == "show":
        code = 0
        for name in rest:
            hit = installed.get(_norm(name))
            if not hit:
                proc.error(f"WARNING: Package(s) not found: {name}\n")
                code = 1
                continue
            proc.write(f"Name: {hit[0]}\nVersion: {hit[1]}\nLocation: {site}\n")
        return code
    if cmd == "uninstall":
        yes = "-y" in rest or "--yes" in rest
        for name in [r for r in rest if not r.startswith("-")]:
            hit = installed.get(_norm(name))
            if not hit:
                proc.error(f"WARNING: Skipping {name} as it is not installed.\n")
                continue
            proc.write(f"Found existing installation: {hit[0]} {hit[1]}\nUninstalling {hit[0]}-{hit[1]}:\n")
            if not yes:
                proc.write(f"Would remove:\n  {site}/{_norm(name).replace('-', '_')}-{hit[1]}.dist-info/*\nProceed (Y/n)? ")
                if not proc.stdin.strip().lower().startswith(b"y"):
                    proc.write("\n")
                    return 1
            modules = PYPI.get(_norm(name), (None, None, None, None, (_norm(name).replace("-", "_"),)))[4]
            for mod in list(modules) + [f"{_norm(name).replace('-', '_')}-{hit[1]}.dist-info"]:
                if fs.exists(f"{site}/{mod}"):
                    fs.remove(f"{site}/{mod}", recursive=True)
            for script in _PYPI_SCRIPTS.get(_norm(name), []):
                if fs.lexists(f"{_scripts_dir(site)}/{script}"):
                    fs.remove(f"{_scripts_dir(site)}/{script}")
            proc.write(f"  Successfully uninstalled {hit[0]}-{hit[1]}\n")
        return 0
    if cmd != "install":
        proc.error(f'ERROR: unknown command "{cmd}"\n')
        return 1
    reqs: list[str] = []
    it = iter(rest)
    flags = set()
    for a in it:
        if a in ("-r", "--requirement"):
            path = next(it, "")
            try:
                text = fs.read_text(join(proc.cwd, path))
            except FsError:
                proc.error(f"ERROR: Could not open requirements file: [Errno 2] No such file or directory: '{path}'\n")
                return 1
            reqs += [line.split("#")[0].strip() for line in text.splitlines() if line.split("#")[0].strip()]
        elif a.startswith("-"):
            flags.add(a)
        else:
            reqs.append(a)
    if managed and "--break-system-packages" not in flags and not proc.env.get("PIP_BREAK_SYSTEM_PACKAGES"):
        proc.error(_externally_managed_text(fs))
        return 1
    if not reqs:
        proc.error("ERROR: You must give at least one requirement to install (see \"pip help install\")\n")
        return 1
    todo: list[str] = []
    lines: list[str] = []

    def collect(spec: str, parent: str | None) -> bool:
        m = re.match(r"^\s*([A-Za-z0-9._-]+)\s*(.*)$", spec)
        name, constraint = (m.group(1), m.group(2).strip()) if m else (spec, "")
        key = _norm(name)
        if key in installed and key not in todo:
            if parent is None:
                lines.append(f"Requirement already satisfied: {name} in {site} ({installed[key][1]})\n")
            else:
                lines.append(f"Requirement already satisfied: {name}{constraint} in {site} (from {parent}) ({installed[key][1]})\n")
            return True
        if key in todo:
            return True
        if key not in PYPI or (constraint.startswith("==") and constraint[2:].strip() != PYPI[key][0]):
            versions = PYPI[key][0] if key in PYPI else "none"
            proc.write("".join(lines))
            proc.error(f"ERROR: Could not find a version that satisfies the requirement {spec} (from versions: {versions})\n"
                       f"ERROR: No matching distribution found for {spec}\n")
            return False
        version, size, deps, _summary, _mods = PYPI[key]
        lines.append(f"Collecting {spec}" + (f" (from {parent})" if parent else "") + "\n"
                     f"  Downloading {_wheel(key)} ({_pip_size(size)})\n")
        for d in deps:
            if not collect(d, _PYPI_DISPLAY.get(key, name)):
                return False
        todo.append(key)
        return True

    for spec in reqs:
        if not collect(spec, None):
            return 1
    proc.write("".join(lines))
    total = sum(PYPI[k][1] for k in todo)
    if total:
        yield proc.sleep(total / _DOWNLOAD_RATE + 0.2 * len(todo))
    if todo:
        proc.write("Installing collected packages: " + ", ".join(_PYPI_DISPLAY.get(k, k) for k in todo) + "\n")
        for k in todo:
            pip_install_into(fs, site, k)
        proc.write("Successfully installed " + " ".join(sorted(f"{_PYPI_DISPLAY.get(k, k)}-{PYPI[k][0]}" for k in todo)) + "\n")
    if proc.uid == 0 and site.startswith("/usr/local/lib/python3") and "site-packages" in site:
        proc.error(_PIP_ROOT_WARNING)
    return 0


# ---------------------------------------------------------------------------------------------
# Downloads on the simulated internet (GPG keys, .deb files, install scripts)
# ---------------------------------------------------------------------------------------------
def _armored_key(name: str) -> bytes:
    seed = hashlib.sha256(name.encode()).digest()
    blob = b""
    while len(blob) < 1600:
        seed = hashlib.sha256(seed).digest()
        blob += seed
    import base64

    b64 = base64.b64encode(blob[:1600]).decode()
    body = "\n".join(b64[i:i + 64] for i in range(0, len(b64), 64))
    return f"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n{body}\n=aivl\n-----END PGP PUBLIC KEY BLOCK-----\n".encode()


_GET_DOCKER = """#!/bin/sh
set -e
# Docker Engine for Linux installation script (simulated get.docker.com).
# See https://docs.docker.com/engine/install/ for the manual steps this script automates.
. /etc/os-release
echo "# Executing docker install script, commit: 6d9743e9656cc56f699a64800b098d5ea5a60020"
apt-get update -qq >/dev/null
apt-get install -y -qq ca-certificates curl >/dev/null
install -m 0755 -d /etc/apt/keyrings
curl -fsSL "https://download.docker.com/linux/$ID/gpg" -o /etc/apt/keyrings/docker.asc
chmod a+r /etc/apt/keyrings/docker.asc
echo "deb [arch=$(dpkg --print-architecture) signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/$ID $VERSION_CODENAME stable" > /etc/apt/sources.list.d/docker.list
apt-get update -qq >/dev/null
apt-get install -y -qq docker-ce docker-ce-cli containerd.io docker-compose-plugin docker-ce-rootless-extras docker-buildx-plugin >/dev/null
echo
echo "================================================================================"
echo
echo "To run Docker as a non-privileged user, consider setting up the"
echo "Docker daemon in rootless mode for your user:"
echo
echo "    dockerd-rootless-setuptool.sh install"
echo
echo "================================================================================"
"""


def versioned_program_entry(name: str, version: str, size: int = 4096) -> Entry:
    """A program file that also records which release it is (a ``version=X`` line after the program
    line, as a Go binary embeds its build info); the program reads it back with :func:`program_version`.

    >>> program_version(versioned_program_entry("etcdctl", "3.5.15").data)
    '3.5.15'
    """
    head = PROGRAM_MAGIC + name.encode() + b"\n" + f"version={version}\n".encode()
    filler = b""
    seed = hashlib.sha256(f"{name}@{version}".encode()).digest()
    while len(head) + len(filler) < size:
        seed = hashlib.sha256(seed).digest()
        filler += seed
    return Entry.file((head + filler)[: max(size, len(head))], 0o755)


def program_version(data: bytes) -> str | None:
    """The release recorded in a program file by :func:`versioned_program_entry`, or None."""
    if not data.startswith(PROGRAM_MAGIC):
        return None
    lines = data.split(b"\n", 2)
    if len(lines) > 2 and lines[1].startswith(b"version="):
        return lines[1][8:].decode("ascii", "replace")
    return None


#: The etcd release tarball of etcd's install guide (etcd, etcdctl and etcdutl of one release).
ETCD_RELEASE = "3.5.15"
ETCD_TARBALL_URL = (f"https://github.com/etcd-io/etcd/releases/download/v{ETCD_RELEASE}/"
                    f"etcd-v{ETCD_RELEASE}-linux-amd64.tar.gz")
_ETCD_RELEASE_DATES = {"3.5.15": (2024, 7, 19)}


@lru_cache(maxsize=None)
def etcd_tarball(version: str = ETCD_RELEASE) -> bytes:
    """``etcd-v<version>-linux-amd64.tar.gz``: a real gzip'd tar whose top directory holds the three
    programs and the READMEs, as the release asset does (deterministic bytes)."""
    import datetime as _dt
    import gzip
    import io
    import tarfile

    top = f"etcd-v{version}-linux-amd64"
    y, mo, d = _ETCD_RELEASE_DATES.get(version, (2024, 1, 1))
    when = int(_dt.datetime(y, mo, d, 12, 0, tzinfo=_dt.timezone.utc).timestamp())
    docs = {
        "README.md": f"# etcd v{version}\n\netcd is a distributed, reliable key-value store. Run `./etcd` to start "
                     "a single member listening on localhost:2379.\n",
        "README-etcdctl.md": "# etcdctl\n\nThe command-line client of etcd's v3 API: `etcdctl put foo bar`, "
                             "`etcdctl get foo`, `etcdctl snapshot save backup.db`.\n",
        "README-etcdutl.md": "# etcdutl\n\nOffline administration of etcd data files: "
                             "`etcdutl snapshot restore backup.db --data-dir new-dir`, `etcdutl snapshot status`.\n",
        "READMEv2-etcdctl.md": "# etcdctl (v2 API)\n\nSet ETCDCTL_API=2 to use the deprecated v2 commands.\n",
        "Documentation/README.md": "# Documentation\n\nThe etcd documentation lives at https://etcd.io/docs.\n",
    }
    entries: list[tuple[str, bytes | None, int]] = [(top + "/", None, 0o755), (top + "/Documentation/", None, 0o755)]
    entries += [(f"{top}/{name}", text.encode(), 0o644) for name, text in docs.items()]
    entries += [(f"{top}/{prog}", versioned_program_entry(prog, version, 8192).data, 0o755)
                for prog in ("etcd", "etcdctl", "etcdutl")]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for name, data, mode in sorted(entries):
            info = tarfile.TarInfo(name.rstrip("/"))
            info.mode, info.mtime, info.uid, info.gid = mode, when, 1000, 1000
            if data is None:
                info.type = tarfile.DIRTYPE
            else:
                info.size = len(data)
            tf.addfile(info, io.BytesIO(data) if data is not None else None)
    return gzip.compress(buf.getvalue(), mtime=0)


def downloads() -> dict[str, bytes]:
    """Every file the install guides download, by URL: repository signing keys
    (``https://download.docker.com/linux/ubuntu/gpg``, ``https://pkgs.k8s.io/core:/stable:/v1.30/deb/Release.key``,
    ...), cri-dockerd's ``.deb`` (:data:`CRI_DOCKERD_URL`), ``https://get.docker.com`` and etcd's release
    tarball (:data:`ETCD_TARBALL_URL`)."""
    out: dict[str, bytes] = {}
    for d in ("ubuntu", "debian"):
        out[f"https://download.docker.com/linux/{d}/gpg"] = _armored_key("docker")
    for m in _K8S_MINORS:
        out[f"https://pkgs.k8s.io/core:/stable:/v{m}/deb/Release.key"] = _armored_key("kubernetes")
        out[f"https://pkgs.k8s.io/addons:/cri-o:/stable:/v{m}/deb/Release.key"] = _armored_key("cri-o")
    for url, version in _CRI_DOCKERD_DEBS.items():
        pkg = find_package("cri-dockerd", "cri-dockerd", version)
        if pkg is not None:
            out[url] = deb_file(pkg)
    out["https://get.docker.com/"] = _GET_DOCKER.encode()
    out[ETCD_TARBALL_URL] = etcd_tarball()
    return out


def publish_downloads(world: Any) -> None:
    """Put :func:`downloads` on ``world``'s internet (``world.publish(url, content)``)."""
    for url, content in downloads().items():
        world.publish(url, content)
