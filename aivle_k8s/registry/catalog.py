"""The Docker Hub catalogue: the official images (and the course's own) as real layered images.

Every image is built from the root filesystems of :mod:`aivle_k8s.linux.distro`
and the packages of :mod:`aivle_k8s.linux.packages`, with the configuration
(Cmd, Entrypoint, Env, ExposedPorts, StopSignal, Volumes, WorkingDir) and
history of the real image. Images that share a base share its layer: nginx,
httpd, python and redis all start from the same ``debian:bookworm-slim`` layer,
so pulling the second one prints ``Already exists`` for it.

Nothing depends on the clock: the same catalogue (same digests) on every run.

>>> refs = dict(build_catalog())
>>> nginx, python = refs["docker.io/library/nginx:1.25"], refs["docker.io/library/python:3.12-slim"]
>>> nginx.layers[0].diff_id == python.layers[0].diff_id       # the shared debian base
True
>>> nginx.config.cmd, nginx.config.stop_signal, nginx.config.exposed_ports
(('nginx', '-g', 'daemon off;'), 'SIGQUIT', ('80/tcp',))
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable, Iterable

from ..images.image import Image, ImageConfig
from ..images.layers import Layer
from ..linux import distro
from ..linux.fs import Entry, FileSystem
from ..linux.kernel import program_entry
from ..linux.packages import _NGINX_MIME, _NGINX_WELCOME, deb_install_into, find_package

__all__ = ["build_catalog", "populate", "images", "image", "references", "DEFAULT_PATH", "OFFICIAL", "COURSE"]

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

#: The official images: repository -> tags (first tag listed is the one the others alias).
OFFICIAL = {
    "busybox": ["1.36", "latest"],
    "alpine": ["3.19", "3.20", "latest"],
    "ubuntu": ["22.04", "24.04", "latest"],
    "debian": ["bookworm-slim", "bookworm"],
    "nginx": ["1.25", "1.27", "alpine", "latest"],
    "httpd": ["2.4", "latest"],
    "python": ["3.12-slim", "3.11-slim", "latest"],
    "redis": ["7", "7.2", "latest"],
    "registry": ["2", "latest"],
}
#: The course's images under the ``aivle`` namespace.
COURSE = {
    "aivle/web-app": ["1.0", "2.0", "latest"],
    "aivle/crash": ["1.0", "latest"],
    "aivle/hog": ["1.0", "latest"],
    "aivle/monolith": ["1.0", "latest"],
    "aivle/kv": ["1.0", "latest"],
}


# -- helpers ----------------------------------------------------------------------------------
def _h(created: str, created_by: str, *, empty: bool = False, buildkit: bool = True) -> dict:
    """One history entry (``# buildkit`` comment for Dockerfile steps, none for legacy ones)."""
    entry: dict[str, Any] = {"created": created, "created_by": created_by}
    if buildkit:
        entry["comment"] = "buildkit.dockerfile.v0"
    if empty:
        entry["empty_layer"] = True
    return entry


def _layer(entries: dict[str, Entry]) -> Layer:
    return Layer.from_entries(dict(sorted(entries.items())))


def _change(lowers: Iterable[dict[str, Entry]], fn: Callable[[FileSystem], None]) -> dict[str, Entry]:
    """The diff a build step makes: run ``fn`` on a filesystem over ``lowers`` and return its upper layer."""
    fs = FileSystem(list(lowers))
    fn(fs)
    return fs.diff()


def _write(fs: FileSystem, path: str, data: bytes | str, mode: int = 0o644, uid: int = 0, gid: int = 0) -> None:
    parent = path.rsplit("/", 1)[0] or "/"
    if not fs.exists(parent):
        fs.mkdir(parent, parents=True, exist_ok=True)
    fs.write(path, data, mode=mode, uid=uid, gid=gid)


def _link(fs: FileSystem, target: str, path: str) -> None:
    parent = path.rsplit("/", 1)[0] or "/"
    if not fs.exists(parent):
        fs.mkdir(parent, parents=True, exist_ok=True)
    if fs.lexists(path):
        fs.remove(path)
    fs.symlink(target, path)


def _append(fs: FileSystem, path: str, line: str) -> None:
    fs.write(path, fs.read_text(path) + line)


def _config(env: Iterable[str] = (), **kw: Any) -> ImageConfig:
    env = list(env)
    if not any(e.startswith("PATH=") for e in env):
        env.insert(0, f"PATH={DEFAULT_PATH}")
    return ImageConfig(env=tuple(env), **kw)


# -- base images ------------------------------------------------------------------------------
_DATES = {
    "busybox": "2024-09-26T21:31:42Z", "alpine-3.19": "2024-09-06T12:05:36Z", "alpine-3.20": "2024-09-06T12:05:36Z",
    "ubuntu-22.04": "2024-09-11T16:25:21Z", "ubuntu-24.04": "2024-09-11T16:25:41Z", "debian": "2024-09-04T00:00:00Z",
    "nginx-1.25": "2024-05-29T21:48:55Z", "nginx-1.27": "2024-08-14T21:31:12Z", "nginx-alpine": "2024-08-14T21:31:12Z",
    "httpd": "2024-09-04T23:24:46Z", "python-3.12": "2024-09-07T06:21:47Z", "python-3.11": "2024-09-07T06:21:47Z",
    "redis": "2024-09-05T12:10:39Z", "registry": "2024-07-22T23:30:00Z", "aivle": "2025-02-01T09:00:00Z",
}


@lru_cache(maxsize=None)
def _base_layers() -> dict[str, Layer]:
    return {
        "busybox": _layer(distro.busybox_layer("1.36")),
        "alpine-3.19": _layer(distro.alpine_layer("3.19")),
        "alpine-3.20": _layer(distro.alpine_layer("3.20")),
        "ubuntu-22.04": _layer(distro.ubuntu_image_layer("22.04")),
        "ubuntu-24.04": _layer(distro.ubuntu_image_layer("24.04")),
        "debian": _layer(distro.debian_layer("bookworm")),
        "debian-full": _layer({**distro.debian_layer("bookworm"),
                               "/usr/share/doc": Entry.directory(),
                               "/usr/share/doc/bash/copyright": Entry.file("Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n"),
                               "/usr/share/man/man1/bash.1.gz": Entry.file(b"\x1f\x8b" + b"\0" * 200),
                               "/usr/share/locale/ko/LC_MESSAGES/bash.mo": Entry.file(b"\xde\x12\x04\x95" + b"\0" * 100)}),
    }


def _busybox() -> Image:
    d = _DATES["busybox"]
    return Image(config=_config(cmd=("sh",)), layers=(_base_layers()["busybox"],), created=d, history=(
        _h(d, "BusyBox 1.36.1 (glibc), Debian 12", buildkit=False),
        _h(d, 'CMD ["sh"]', empty=True, buildkit=False)))


def _alpine(version: str) -> Image:
    d = _DATES[f"alpine-{version}"]
    full = {"3.19": "3.19.4", "3.20": "3.20.3"}[version]
    return Image(config=_config(cmd=("/bin/sh",)), layers=(_base_layers()[f"alpine-{version}"],), created=d, history=(
        _h(d, f"/bin/sh -c #(nop) ADD file:alpine-minirootfs-{full}-x86_64.tar.gz in / ", buildkit=False),
        _h(d, '/bin/sh -c #(nop)  CMD ["/bin/sh"]', empty=True, buildkit=False)))


def _ubuntu(version: str) -> Image:
    d = _DATES[f"ubuntu-{version}"]
    labels = {"org.opencontainers.image.ref.name": "ubuntu", "org.opencontainers.image.version": version}
    return Image(config=_config(cmd=("/bin/bash",), labels=labels), layers=(_base_layers()[f"ubuntu-{version}"],),
                 created=d, history=(
        _h(d, "/bin/sh -c #(nop)  ARG RELEASE", empty=True, buildkit=False),
        _h(d, "/bin/sh -c #(nop)  ARG LAUNCHPAD_BUILD_ARCH", empty=True, buildkit=False),
        _h(d, "/bin/sh -c #(nop)  LABEL org.opencontainers.image.ref.name=ubuntu", empty=True, buildkit=False),
        _h(d, f"/bin/sh -c #(nop)  LABEL org.opencontainers.image.version={version}", empty=True, buildkit=False),
        _h(d, f"/bin/sh -c #(nop) ADD file:ubuntu-{version}-oci-amd64-root.tar.gz in / ", buildkit=False),
        _h(d, '/bin/sh -c #(nop)  CMD ["/bin/bash"]', empty=True, buildkit=False)))


def _debian_history(d: str) -> tuple[dict, ...]:
    return (_h(d, "# debian.sh --arch 'amd64' out/ 'bookworm' '@1725235200'", buildkit=False),
            _h(d, 'CMD ["bash"]', empty=True, buildkit=False))


def _debian(full: bool) -> Image:
    d = _DATES["debian"]
    layer = _base_layers()["debian-full" if full else "debian"]
    return Image(config=_config(cmd=("bash",)), layers=(layer,), created=d, history=_debian_history(d))


# -- nginx ------------------------------------------------------------------------------------
_NGINX_CONF = """
user  nginx;
worker_processes  auto;

error_log  /var/log/nginx/error.log notice;
pid        /var/run/nginx.pid;


events {
    worker_connections  1024;
}


http {
    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;

    log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for"';

    access_log  /var/log/nginx/access.log  main;

    sendfile        on;
    #tcp_nopush     on;

    keepalive_timeout  65;

    #gzip  on;

    include /etc/nginx/conf.d/*.conf;
}
"""

_NGINX_DEFAULT = """server {
    listen       80;
    listen  [::]:80;
    server_name  localhost;

    #access_log  /var/log/nginx/host.access.log  main;

    location / {
        root   /usr/share/nginx/html;
        index  index.html index.htm;
    }

    #error_page  404              /404.html;

    # redirect server error pages to the static page /50x.html
    #
    error_page   500 502 503 504  /50x.html;
    location = /50x.html {
        root   /usr/share/nginx/html;
    }
}
"""

_NGINX_50X = """<!DOCTYPE html>
<html>
<head>
<title>Error</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>An error occurred.</h1>
<p>Sorry, the page you are looking for is currently unavailable.<br/>
Please try again later.</p>
<p>If you are the system administrator of this resource then you should check
the error log for details.</p>
<p><em>Faithfully yours, nginx.</em></p>
</body>
</html>
"""

_NGINX_ENTRYPOINT = """#!/bin/sh
# vim:sw=4:ts=4:et
# (the official nginx image's entrypoint, simplified: it logs what the real one does and runs the command)

set -e

if [ "$1" = "nginx" ] || [ "$1" = "nginx-debug" ]; then
    if [ -z "${NGINX_ENTRYPOINT_QUIET_LOGS:-}" ]; then
        echo "$0: /docker-entrypoint.d/ is not empty, will attempt to perform configuration"
        echo "$0: Looking for shell scripts in /docker-entrypoint.d/"
        echo "$0: Launching /docker-entrypoint.d/10-listen-on-ipv6-by-default.sh"
        echo "10-listen-on-ipv6-by-default.sh: info: Getting the checksum of /etc/nginx/conf.d/default.conf"
        echo "10-listen-on-ipv6-by-default.sh: info: Enabled listen on IPv6 in /etc/nginx/conf.d/default.conf"
        echo "$0: Sourcing /docker-entrypoint.d/15-local-resolvers.envsh"
        echo "$0: Launching /docker-entrypoint.d/20-envsubst-on-templates.sh"
        echo "$0: Launching /docker-entrypoint.d/30-tune-worker-processes.sh"
        echo "$0: Configuration complete; ready for start up"
    fi
fi

exec "$@"
"""

_NGINX_D = {
    "10-listen-on-ipv6-by-default.sh": "#!/bin/sh\n# vim:sw=4:ts=4:et\nset -e\n# (enables `listen [::]:80` in default.conf; already done in this image)\nexit 0\n",
    "15-local-resolvers.envsh": "#!/bin/sh\n# vim:sw=2:ts=2:sts=2:et\nset -eu\n[ \"${NGINX_ENTRYPOINT_LOCAL_RESOLVERS:-}\" ] || return 0\n",
    "20-envsubst-on-templates.sh": "#!/bin/sh\nset -e\n# (renders /etc/nginx/templates/*.template into /etc/nginx/conf.d)\nexit 0\n",
    "30-tune-worker-processes.sh": "#!/bin/sh\n# vim:sw=2:ts=2:sts=2:et\nset -eu\n# (tunes worker_processes when NGINX_ENTRYPOINT_WORKER_PROCESSES_AUTOTUNE is set)\nexit 0\n",
}


def _nginx_install(fs: FileSystem, version: str, alpine: bool) -> None:
    if alpine:
        _append(fs, "/etc/passwd", "nginx:x:101:101:nginx:/var/cache/nginx:/sbin/nologin\n")
        _append(fs, "/etc/group", "nginx:x:101:nginx\n")
        _write(fs, "/usr/sbin/nginx", program_entry("nginx", 4096).data, 0o755)
        _write(fs, "/usr/sbin/nginx-debug", program_entry("nginx", 4096).data, 0o755)
    else:
        _append(fs, "/etc/passwd", "nginx:x:101:101:nginx user:/nonexistent:/bin/false\n")
        _append(fs, "/etc/group", "nginx:x:101:\n")
        pkg = find_package("nginx", "nginx.org/bookworm", f"{version}-1~bookworm")
        if pkg is not None:
            deb_install_into(fs, pkg)
        _write(fs, "/usr/sbin/nginx-debug", program_entry("nginx", 4096).data, 0o755)
    _write(fs, "/etc/nginx/nginx.conf", _NGINX_CONF.lstrip("\n"))
    _write(fs, "/etc/nginx/mime.types", _NGINX_MIME)
    _write(fs, "/etc/nginx/conf.d/default.conf", _NGINX_DEFAULT)
    _write(fs, "/usr/share/nginx/html/index.html", _NGINX_WELCOME)
    _write(fs, "/usr/share/nginx/html/50x.html", _NGINX_50X)
    fs.mkdir("/var/cache/nginx", parents=True, exist_ok=True)
    fs.mkdir("/var/log/nginx", parents=True, exist_ok=True)
    _link(fs, "/dev/stdout", "/var/log/nginx/access.log")
    _link(fs, "/dev/stderr", "/var/log/nginx/error.log")
    fs.mkdir("/docker-entrypoint.d", parents=True, exist_ok=True)


def _nginx(version: str, alpine: bool = False) -> Image:
    key = "nginx-alpine" if alpine else f"nginx-{version.rsplit('.', 1)[0]}"
    d = _DATES[key]
    base_key = "alpine-3.20" if alpine else "debian"
    base = _base_layers()[base_key]
    install = _layer(_change([base.entries], lambda fs: _nginx_install(fs, version, alpine)))
    stack = [base.entries, install.entries]
    entry = _layer(_change(stack, lambda fs: _write(fs, "/docker-entrypoint.sh", _NGINX_ENTRYPOINT, 0o775)))
    stack.append(entry.entries)
    d_layers = []
    for name, text in _NGINX_D.items():
        lay = _layer(_change(stack, lambda fs, n=name, t=text: _write(fs, f"/docker-entrypoint.d/{n}", t, 0o775)))
        d_layers.append((name, lay))
        stack.append(lay.entries)
    njs = "0.8.5" if version.startswith("1.27") else "0.8.4"
    env = [f"PATH={DEFAULT_PATH}", f"NGINX_VERSION={version}", f"NJS_VERSION={njs}",
           f"NJS_RELEASE={'1' if alpine else '1~bookworm'}", f"PKG_RELEASE={'1' if alpine else '1~bookworm'}"]
    config = ImageConfig(env=tuple(env), cmd=("nginx", "-g", "daemon off;"), entrypoint=("/docker-entrypoint.sh",),
                         exposed_ports=("80/tcp",), stop_signal="SIGQUIT",
                         labels={"maintainer": "NGINX Docker Maintainers <docker-maint@nginx.com>"})
    base_hist = (_alpine("3.20").history if alpine else _debian_history(_DATES["debian"]))
    hist = list(base_hist) + [
        _h(d, "LABEL maintainer=NGINX Docker Maintainers <docker-maint@nginx.com>", empty=True),
        _h(d, f"ENV NGINX_VERSION={version}", empty=True),
        _h(d, f"ENV NJS_VERSION={njs}", empty=True),
        _h(d, f"ENV PKG_RELEASE={'1' if alpine else '1~bookworm'}", empty=True),
        _h(d, "RUN /bin/sh -c set -x     && groupadd --system --gid 101 nginx     && useradd --system --gid nginx "
              "--no-create-home --home /nonexistent --comment \"nginx user\" --shell /bin/false --uid 101 nginx     "
              "&& apt-get update     && apt-get install --no-install-recommends --no-install-suggests -y nginx=${NGINX_VERSION}-${PKG_RELEASE}"
              "     && ln -sf /dev/stdout /var/log/nginx/access.log     && ln -sf /dev/stderr /var/log/nginx/error.log     "
              "&& mkdir /docker-entrypoint.d # buildkit" if not alpine else
              "RUN /bin/sh -c set -x     && addgroup -g 101 -S nginx     && adduser -S -D -H -u 101 -h /var/cache/nginx "
              "-s /sbin/nologin -G nginx -g nginx nginx     && apk add --no-cache nginx=${NGINX_VERSION}-r${PKG_RELEASE}"
              "     && ln -sf /dev/stdout /var/log/nginx/access.log     && ln -sf /dev/stderr /var/log/nginx/error.log # buildkit"),
        _h(d, "COPY docker-entrypoint.sh / # buildkit"),
    ]
    for name, _ in d_layers:
        hist.append(_h(d, f"COPY {name} /docker-entrypoint.d # buildkit"))
    hist += [_h(d, 'ENTRYPOINT ["/docker-entrypoint.sh"]', empty=True),
             _h(d, "EXPOSE map[80/tcp:{}]", empty=True),
             _h(d, "STOPSIGNAL SIGQUIT", empty=True),
             _h(d, 'CMD ["nginx" "-g" "daemon off;"]', empty=True)]
    layers = (base, install, entry) + tuple(l for _, l in d_layers)
    return Image(config=config, layers=layers, history=tuple(hist), created=d)


# -- httpd ------------------------------------------------------------------------------------
_HTTPD_CONF = """#
# This is the main Apache HTTP server configuration file (abridged).
# See <URL:http://httpd.apache.org/docs/2.4/> for detailed information.
#
ServerRoot "/usr/local/apache2"
Listen 80
LoadModule mpm_event_module modules/mod_mpm_event.so
LoadModule dir_module modules/mod_dir.so
LoadModule log_config_module modules/mod_log_config.so
User www-data
Group www-data
ServerAdmin you@example.com
#ServerName www.example.com:80
DocumentRoot "/usr/local/apache2/htdocs"
<Directory "/usr/local/apache2/htdocs">
    Options Indexes FollowSymLinks
    AllowOverride None
    Require all granted
</Directory>
DirectoryIndex index.html
ErrorLog /proc/self/fd/2
LogLevel warn
LogFormat "%h %l %u %t \\"%r\\" %>s %b" common
CustomLog /proc/self/fd/1 common
"""

_HTTPD_FOREGROUND = """#!/bin/sh
set -e

# Apache gets grumpy about PID files pre-existing
rm -f /usr/local/apache2/logs/httpd.pid

exec httpd -DFOREGROUND "$@"
"""


def _httpd() -> Image:
    d = _DATES["httpd"]
    base = _base_layers()["debian"]

    def prefix(fs: FileSystem) -> None:
        fs.mkdir("/usr/local/apache2", parents=True, exist_ok=True)

    l1 = _layer(_change([base.entries], prefix))

    def install(fs: FileSystem) -> None:
        _write(fs, "/usr/local/apache2/bin/httpd", program_entry("httpd", 4096).data, 0o755)
        _write(fs, "/usr/local/apache2/bin/apachectl", "#!/bin/sh\nexec httpd \"$@\"\n", 0o755)
        _write(fs, "/usr/local/apache2/conf/httpd.conf", _HTTPD_CONF)
        _write(fs, "/usr/local/apache2/htdocs/index.html", "<html><body><h1>It works!</h1></body></html>\n")
        fs.mkdir("/usr/local/apache2/logs", parents=True, exist_ok=True)
        fs.mkdir("/usr/local/apache2/modules", parents=True, exist_ok=True)

    l2 = _layer(_change([base.entries, l1.entries], install))
    l3 = _layer(_change([base.entries, l1.entries, l2.entries],
                        lambda fs: _write(fs, "/usr/local/bin/httpd-foreground", _HTTPD_FOREGROUND, 0o755)))
    path = f"/usr/local/apache2/bin:{DEFAULT_PATH}"
    config = ImageConfig(env=(f"PATH={path}", "HTTPD_PREFIX=/usr/local/apache2", "HTTPD_VERSION=2.4.62",
                              "HTTPD_SHA256=674188e7bf44ced82da8db522da946849e22080d73d16c93f7f4df89e25729ec",
                              "HTTPD_PATCHES="),
                         cmd=("httpd-foreground",), working_dir="/usr/local/apache2", exposed_ports=("80/tcp",),
                         stop_signal="SIGWINCH")
    hist = _debian_history(_DATES["debian"]) + (
        _h(d, "ENV HTTPD_PREFIX=/usr/local/apache2", empty=True),
        _h(d, f"ENV PATH={path}", empty=True),
        _h(d, "RUN /bin/sh -c mkdir -p \"$HTTPD_PREFIX\"     && chown www-data:www-data \"$HTTPD_PREFIX\" # buildkit"),
        _h(d, "WORKDIR /usr/local/apache2", empty=True),
        _h(d, "ENV HTTPD_VERSION=2.4.62", empty=True),
        _h(d, "RUN /bin/sh -c set -eux;  ./configure --prefix=\"$HTTPD_PREFIX\" --enable-mods-shared=reallyall --enable-mpms-shared=all;"
              "  make -j \"$(nproc)\";  make install;  sed -ri -e 's!^(\\s*CustomLog)\\s+\\S+!\\1 /proc/self/fd/1!g'"
              "  -e 's!^(\\s*ErrorLog)\\s+\\S+!\\1 /proc/self/fd/2!g' \"$HTTPD_PREFIX/conf/httpd.conf\" # buildkit"),
        _h(d, "STOPSIGNAL SIGWINCH", empty=True),
        _h(d, "COPY httpd-foreground /usr/local/bin/ # buildkit"),
        _h(d, "EXPOSE map[80/tcp:{}]", empty=True),
        _h(d, 'CMD ["httpd-foreground"]', empty=True),
    )
    return Image(config=config, layers=(base, l1, l2, l3), history=hist, created=d)


# -- python -----------------------------------------------------------------------------------
_PY_VERSIONS = {"3.12": ("3.12.6", "24.2", ()), "3.11": ("3.11.10", "24.0", ("setuptools", "wheel"))}
_PY_EXTRA = {"setuptools": "65.5.1", "wheel": "0.44.0"}


@lru_cache(maxsize=None)
def _python_deps_layer() -> Layer:
    base = _base_layers()["debian"]

    def deps(fs: FileSystem) -> None:
        for name in ("openssl", "ca-certificates"):
            pkg = find_package(name, "debian/bookworm")
            if pkg is not None:
                deb_install_into(fs, pkg)

    return _layer(_change([base.entries], deps))


def _python(minor: str) -> Image:
    d = _DATES[f"python-{minor}"]
    full, pip_version, extras = _PY_VERSIONS[minor]
    base = _base_layers()["debian"]
    deps = _python_deps_layer()
    site = f"/usr/local/lib/python{minor}/site-packages"

    def build(fs: FileSystem) -> None:
        _write(fs, f"/usr/local/bin/python{minor}", program_entry("python3", 6144).data, 0o755)
        _write(fs, f"/usr/local/bin/pip{minor}", program_entry("pip", 1024).data, 0o755)
        _write(fs, "/usr/local/bin/pip", program_entry("pip", 1024).data, 0o755)
        _write(fs, f"/usr/local/lib/python{minor}/os.py", "# simulated standard library\n")
        _write(fs, f"/usr/local/lib/python{minor}/http/server.py", "# simulated http.server\n")
        fs.mkdir(site, parents=True, exist_ok=True)
        for name, version in [("pip", pip_version)] + [(e, _PY_EXTRA[e]) for e in extras]:
            info = f"{site}/{name}-{version}.dist-info"
            _write(fs, f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
            _write(fs, f"{site}/{name}/__init__.py", f'__version__ = "{version}"\n')

    l2 = _layer(_change([base.entries, deps.entries], build))

    def links(fs: FileSystem) -> None:
        for src, dst in (("python3", f"python{minor}"), ("pip3", f"pip{minor}"), ("idle3", f"idle{minor}"),
                         ("pydoc3", f"pydoc{minor}")):
            _link(fs, dst, f"/usr/local/bin/{src}")
        for src in ("idle", "pip", "pydoc", "python", "python-config"):
            if src == "pip":
                continue
            _link(fs, f"{src}3", f"/usr/local/bin/{src}")

    l3 = _layer(_change([base.entries, deps.entries, l2.entries], links))
    env = [f"PATH=/usr/local/bin:{DEFAULT_PATH}", "LANG=C.UTF-8",
           "GPG_KEY=7169605F62C751356D054A26A821E680E5FA6305" if minor == "3.12" else "GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D",
           f"PYTHON_VERSION={full}"]
    config = ImageConfig(env=tuple(env), cmd=("python3",))
    hist = _debian_history(_DATES["debian"]) + (
        _h(d, f"ENV PATH=/usr/local/bin:{DEFAULT_PATH}", empty=True),
        _h(d, "ENV LANG=C.UTF-8", empty=True),
        _h(d, "RUN /bin/sh -c set -eux;  apt-get update;  apt-get install -y --no-install-recommends   "
              "ca-certificates   netbase   tzdata  ;  rm -rf /var/lib/apt/lists/* # buildkit"),
        _h(d, f"ENV {env[2]}", empty=True),
        _h(d, f"ENV PYTHON_VERSION={full}", empty=True),
        _h(d, "RUN /bin/sh -c set -eux;   savedAptMark=\"$(apt-mark showmanual)\";  ./configure --enable-optimizations "
              "--enable-shared --with-ensurepip;  make -j \"$(nproc)\";  make install;  python3 --version;  pip3 --version # buildkit"),
        _h(d, "RUN /bin/sh -c set -eux;  for src in idle3 pip3 pydoc3 python3 python3-config; do   "
              "dst=\"$(echo \"$src\" | tr -d 3)\";   [ -s \"/usr/local/bin/$src\" ];   [ ! -e \"/usr/local/bin/$dst\" ];   "
              "ln -svT \"$src\" \"/usr/local/bin/$dst\";  done # buildkit"),
        _h(d, 'CMD ["python3"]', empty=True),
    )
    return Image(config=config, layers=(base, deps, l2, l3), history=hist, created=d)


# -- redis ------------------------------------------------------------------------------------
_REDIS_ENTRYPOINT = """#!/bin/sh
set -e

# first arg is `-f` or `--some-option`
# or first arg is `something.conf`
if [ "${1#-}" != "$1" ] || [ "${1%.conf}" != "$1" ]; then
	set -- redis-server "$@"
fi

exec "$@"
"""


def _redis() -> Image:
    d = _DATES["redis"]
    base = _base_layers()["debian"]

    def user(fs: FileSystem) -> None:
        _append(fs, "/etc/passwd", "redis:x:999:999::/home/redis:/bin/sh\n")
        _append(fs, "/etc/group", "redis:x:999:\n")

    l1 = _layer(_change([base.entries], user))

    def build(fs: FileSystem) -> None:
        _write(fs, "/usr/local/bin/redis-server", program_entry("redis-server", 6144).data, 0o755)
        _write(fs, "/usr/local/bin/redis-cli", program_entry("redis-cli", 3072).data, 0o755)
        for alias in ("redis-sentinel", "redis-check-aof", "redis-check-rdb"):
            _link(fs, "redis-server", f"/usr/local/bin/{alias}")

    l2 = _layer(_change([base.entries, l1.entries], build))
    l3 = _layer(_change([base.entries, l1.entries, l2.entries],
                        lambda fs: (fs.mkdir("/data", parents=True, exist_ok=True), fs.chown("/data", 999, 999))))
    l4 = _layer(_change([base.entries, l1.entries, l2.entries, l3.entries],
                        lambda fs: _write(fs, "/usr/local/bin/docker-entrypoint.sh", _REDIS_ENTRYPOINT, 0o755)))
    config = ImageConfig(env=(f"PATH={DEFAULT_PATH}", "REDIS_VERSION=7.2.5",
                              "REDIS_DOWNLOAD_URL=http://download.redis.io/releases/redis-7.2.5.tar.gz"),
                         cmd=("redis-server",), entrypoint=("docker-entrypoint.sh",), exposed_ports=("6379/tcp",),
                         volumes=("/data",), working_dir="/data")
    hist = _debian_history(_DATES["debian"]) + (
        _h(d, "RUN /bin/sh -c set -eux; \tgroupadd -r -g 999 redis; \tuseradd -r -g redis -u 999 redis # buildkit"),
        _h(d, "ENV REDIS_VERSION=7.2.5", empty=True),
        _h(d, "RUN /bin/sh -c set -eux; \tmake -C /usr/src/redis -j \"$(nproc)\" all; \tmake -C /usr/src/redis install;"
              " \tredis-cli --version; \tredis-server --version # buildkit"),
        _h(d, "RUN /bin/sh -c mkdir /data && chown redis:redis /data # buildkit"),
        _h(d, "VOLUME [/data]", empty=True),
        _h(d, "WORKDIR /data", empty=True),
        _h(d, "COPY docker-entrypoint.sh /usr/local/bin/ # buildkit"),
        _h(d, 'ENTRYPOINT ["docker-entrypoint.sh"]', empty=True),
        _h(d, "EXPOSE map[6379/tcp:{}]", empty=True),
        _h(d, 'CMD ["redis-server"]', empty=True),
    )
    return Image(config=config, layers=(base, l1, l2, l3, l4), history=hist, created=d)


# -- registry:2 -------------------------------------------------------------------------------
_REGISTRY_CONFIG = """version: 0.1
log:
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /var/lib/registry
http:
  addr: :5000
  headers:
    X-Content-Type-Options: [nosniff]
health:
  storagedriver:
    enabled: true
    interval: 10s
    threshold: 3
"""


def _registry() -> Image:
    d = _DATES["registry"]
    base = _base_layers()["alpine-3.20"]
    l1 = _layer(_change([base.entries], lambda fs: _write(fs, "/bin/registry", program_entry("registry", 8192).data, 0o755)))
    l2 = _layer(_change([base.entries, l1.entries],
                        lambda fs: _write(fs, "/etc/docker/registry/config.yml", _REGISTRY_CONFIG)))
    l3 = _layer(_change([base.entries, l1.entries, l2.entries],
                        lambda fs: fs.mkdir("/var/lib/registry", parents=True, exist_ok=True)))
    config = _config(cmd=("/etc/docker/registry/config.yml",), entrypoint=("registry", "serve"),
                     exposed_ports=("5000/tcp",), volumes=("/var/lib/registry",))
    hist = _alpine("3.20").history + (
        _h(d, "RUN /bin/sh -c set -ex     && apk add --no-cache ca-certificates # buildkit", empty=True),
        _h(d, "COPY ./registry/registry /bin/registry # buildkit"),
        _h(d, "COPY ./registry/config-example.yml /etc/docker/registry/config.yml # buildkit"),
        _h(d, "VOLUME [/var/lib/registry]", empty=True),
        _h(d, "RUN /bin/sh -c mkdir -p /var/lib/registry # buildkit"),
        _h(d, "EXPOSE map[5000/tcp:{}]", empty=True),
        _h(d, 'ENTRYPOINT ["registry" "serve"]', empty=True),
        _h(d, 'CMD ["/etc/docker/registry/config.yml"]', empty=True),
    )
    return Image(config=config, layers=(base, l1, l2, l3), history=hist, created=d)


# -- the course's images ----------------------------------------------------------------------
def _aivle_bin(programs: Iterable[str], base_key: str) -> Layer:
    base = _base_layers()[base_key]

    def put(fs: FileSystem) -> None:
        for p in programs:
            _write(fs, f"/usr/local/bin/{p}", program_entry(p, 3072).data, 0o755)

    return _layer(_change([base.entries], put))


def _aivle(base_key: str, base_img: Image, layers: list[Layer], steps: list[str], **config: Any) -> Image:
    d = _DATES["aivle"]
    labels = {"org.opencontainers.image.source": "https://github.com/aivle-school/aivle-k8s",
              "org.opencontainers.image.vendor": "AIVLE School"}
    labels.update(config.pop("labels", {}))
    env = config.pop("env", ())
    hist = list(base_img.history)
    li = 0
    for step in steps:
        empty = not step.startswith(("COPY", "RUN", "ADD"))
        hist.append(_h(d, step, empty=empty))
        li += 0 if empty else 1
    assert li == len(layers), (steps, len(layers))
    return Image(config=_config(env=env, labels=labels, **config), layers=(_base_layers()[base_key],) + tuple(layers),
                 history=tuple(hist), created=d)


def _web_app(version: str) -> Image:
    bin_layer = _aivle_bin(["web-app"], "alpine-3.20")
    base = _base_layers()["alpine-3.20"]
    ver_layer = _layer(_change([base.entries, bin_layer.entries],
                               lambda fs: _write(fs, "/app/VERSION", f"{version}\n")))
    return _aivle("alpine-3.20", _alpine("3.20"), [bin_layer, ver_layer], [
        "COPY web-app /usr/local/bin/web-app # buildkit",
        f"COPY VERSION /app/VERSION # buildkit",
        "WORKDIR /app",
        f"ENV VERSION={version}",
        "EXPOSE map[8080/tcp:{}]",
        'HEALTHCHECK &{["CMD-SHELL" "wget -qO- http://localhost:8080/healthz || exit 1"] "10s" "3s" "5s" "0s" \'\\x03\'}',
        'CMD ["web-app"]',
    ], env=(f"VERSION={version}",), cmd=("web-app",), working_dir="/app", exposed_ports=("8080/tcp",),
        labels={"org.opencontainers.image.version": version},
        healthcheck={"Test": ["CMD-SHELL", "wget -qO- http://localhost:8080/healthz || exit 1"],
                     "Interval": 10_000_000_000, "Timeout": 3_000_000_000, "StartPeriod": 5_000_000_000, "Retries": 3})


def _crash_image() -> Image:
    layer = _aivle_bin(["crash", "exit-with"], "busybox")
    return _aivle("busybox", _busybox(), [layer], [
        "COPY crash exit-with /usr/local/bin/ # buildkit",
        'CMD ["crash" "--after" "5" "--code" "1" "--message" "boom"]',
    ], cmd=("crash", "--after", "5", "--code", "1", "--message", "boom"))


def _hog_image() -> Image:
    layer = _aivle_bin(["cpu-hog", "mem-hog"], "alpine-3.20")
    return _aivle("alpine-3.20", _alpine("3.20"), [layer], [
        "COPY cpu-hog mem-hog /usr/local/bin/ # buildkit",
        'CMD ["cpu-hog" "--cores" "1"]',
    ], cmd=("cpu-hog", "--cores", "1"))


def _monolith_image() -> Image:
    layer = _aivle_bin(["monolith"], "alpine-3.20")
    return _aivle("alpine-3.20", _alpine("3.20"), [layer], [
        "COPY monolith /usr/local/bin/monolith # buildkit",
        "EXPOSE map[8080/tcp:{}]",
        'CMD ["monolith"]',
    ], cmd=("monolith",), exposed_ports=("8080/tcp",))


def _kv_image() -> Image:
    layer = _aivle_bin(["kv-server"], "alpine-3.20")
    base = _base_layers()["alpine-3.20"]
    data = _layer(_change([base.entries, layer.entries], lambda fs: fs.mkdir("/data", parents=True, exist_ok=True)))
    return _aivle("alpine-3.20", _alpine("3.20"), [layer, data], [
        "COPY kv-server /usr/local/bin/kv-server # buildkit",
        "RUN /bin/sh -c mkdir -p /data # buildkit",
        "VOLUME [/data]",
        "EXPOSE map[8080/tcp:{}]",
        'CMD ["kv-server" "--data" "/data"]',
    ], cmd=("kv-server", "--data", "/data"), exposed_ports=("8080/tcp",), volumes=("/data",))


# -- the catalogue ----------------------------------------------------------------------------
@lru_cache(maxsize=None)
def _build() -> tuple[tuple[str, Image], ...]:
    out: list[tuple[str, Image]] = []

    def add(repo: str, tags: list[str], img: Image) -> None:
        path = repo if "/" in repo else f"library/{repo}"
        for tag in tags:
            out.append((f"docker.io/{path}:{tag}", img))

    add("busybox", ["1.36", "latest"], _busybox())
    add("alpine", ["3.19"], _alpine("3.19"))
    add("alpine", ["3.20", "latest"], _alpine("3.20"))
    add("ubuntu", ["22.04"], _ubuntu("22.04"))
    add("ubuntu", ["24.04", "latest"], _ubuntu("24.04"))
    add("debian", ["bookworm-slim"], _debian(False))
    add("debian", ["bookworm", "latest"], _debian(True))
    add("nginx", ["1.25"], _nginx("1.25.5"))
    add("nginx", ["1.27", "latest"], _nginx("1.27.0"))
    add("nginx", ["alpine", "1.27-alpine"], _nginx("1.27.0", alpine=True))
    add("httpd", ["2.4", "latest"], _httpd())
    add("python", ["3.12-slim", "latest"], _python("3.12"))
    add("python", ["3.11-slim"], _python("3.11"))
    add("redis", ["7", "7.2", "latest"], _redis())
    add("registry", ["2", "latest"], _registry())
    add("aivle/web-app", ["1.0"], _web_app("1.0"))
    add("aivle/web-app", ["2.0", "latest"], _web_app("2.0"))
    add("aivle/crash", ["1.0", "latest"], _crash_image())
    add("aivle/hog", ["1.0", "latest"], _hog_image())
    add("aivle/monolith", ["1.0", "latest"], _monolith_image())
    add("aivle/kv", ["1.0", "latest"], _kv_image())
    return tuple(out)


def build_catalog() -> list[tuple[str, Image]]:
    """Every catalogue image as ``(reference, image)``, e.g. ``("docker.io/library/nginx:1.25", img)``.

    Built once per process (later calls return the same images).
    """
    return list(_build())


def references() -> list[str]:
    """Every reference in the catalogue (``docker.io/library/nginx:1.25`` ...)."""
    return [ref for ref, _ in _build()]


def image(reference: str) -> Image:
    """The catalogue image ``reference`` names (``nginx``, ``nginx:1.25``, ``aivle/web-app:1.0`` ...).

    Raises:
        KeyError: no such image in the catalogue.
    """
    ref = reference if reference.startswith("docker.io/") else (
        f"docker.io/{reference}" if "/" in reference.split(":")[0] else f"docker.io/library/{reference}")
    if ":" not in ref.rsplit("/", 1)[-1]:
        ref += ":latest"
    for r, img in _build():
        if r == ref:
            return img
    raise KeyError(reference)


def images() -> dict[str, Image]:
    """reference -> image."""
    return dict(_build())


def populate(registry: Any) -> list[str]:
    """Push every catalogue image into ``registry`` (server side, no auth); returns the references stored."""
    stored = []
    for ref, img in _build():
        path, _, tag = ref[len("docker.io/"):].rpartition(":")
        registry.put_image(path, tag, img)
        stored.append(ref)
    return stored
