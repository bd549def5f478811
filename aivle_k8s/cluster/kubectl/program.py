"""The ``kubectl`` program (``/usr/bin/kubectl`` from the kubectl package).

It finds its kubeconfig like client-go: ``--kubeconfig``, then ``$KUBECONFIG``
(a colon-separated list: the first file that exists), then ``~/.kube/config``
(``$HOME`` of the process). Without one it talks to ``localhost:8080`` and
fails the way the real one does. The client runs in the process's network
namespace, so a partitioned node or a stopped API server fail as they would.
"""

from __future__ import annotations

import datetime as _dt
import posixpath
from typing import Any, Generator

from ...linux.fs import join
from ...linux.kernel import Process, register_program
from ...sim.errors import AivleError, InvalidInput
from ..apiserver.errors import ConnectionRefused
from .commands import Kubectl

__all__ = ["main", "kubeconfig_path", "make_kubectl"]


def _flag(argv: list[str], name: str) -> str | None:
    for i, a in enumerate(argv):
        if a == "--":
            break
        if a == f"--{name}" and i + 1 < len(argv):
            return argv[i + 1]
        if a.startswith(f"--{name}="):
            return a.split("=", 1)[1]
    return None


def kubeconfig_path(fs: Any, argv: list[str], env: dict, cwd: str = "/") -> tuple[str | None, bool]:
    """(path, explicit): which kubeconfig kubectl reads (None: none found)."""
    explicit = _flag(argv, "kubeconfig")
    if explicit:
        return join(cwd, explicit), True
    for p in (env.get("KUBECONFIG") or "").split(":"):
        if p and fs.exists(join(cwd, p)):
            return join(cwd, p), False
    home = env.get("HOME") or "/root"
    p = posixpath.join(home, ".kube", "config")
    return (p, False) if fs.exists(p) else (None, False)


def _readable(fs: Any, path: str, uid: int) -> bool:
    if uid == 0:
        return True
    try:
        e = fs.stat(path)
    except AivleError:
        return False
    mode = getattr(e, "mode", 0o644)
    if getattr(e, "uid", 0) == uid:
        return bool(mode & 0o400)
    return bool(mode & 0o004)


def make_kubectl(*, world: Any, netns: Any, fs: Any, env: dict, cwd: str, uid: int, argv: list[str], stdin: bytes,
                 pid: int) -> tuple[Kubectl, str | None]:
    """A :class:`Kubectl` for a process; returns it and an early error message (unreadable kubeconfig)."""
    import yaml

    path, explicit = kubeconfig_path(fs, argv, env, cwd)
    text: str | None = None
    early: str | None = None
    if path is not None:
        if not fs.exists(path):
            early = f"error: stat {path}: no such file or directory"
        elif not _readable(fs, path, uid):
            early = f'error: error loading config file "{path}": open {path}: permission denied'
        else:
            text = fs.read_text(path)
    doc = None
    if text is not None:
        try:
            doc = yaml.safe_load(text) or {}
        except yaml.YAMLError as e:
            early = f'error: error loading config file "{path}": {e}'
    if isinstance(doc, dict) and _flag(argv, "context"):
        doc = dict(doc, **{"current-context": _flag(argv, "context")})
        text = yaml.safe_dump(doc, sort_keys=False)

    def connect() -> Any:
        if text is None:
            raise ConnectionRefused("localhost:8080")
        try:
            from ..kubeconfig import client_for
        except ImportError:  # pragma: no cover - the kubeadm helper is part of the package now
            client_for = _client_for
        client = client_for(world, netns, text)
        server = _flag(argv, "server")
        if server:
            from ..client import APIClient
            client = APIClient(client.net, client.src, server if "://" in server else f"https://{server}",
                               client.user)
        from ..client import user_agent

        return client.with_user_agent(user_agent("kubectl", version))

    def read(p: str) -> str | None:
        full = join(cwd, p)
        if not fs.exists(full) or fs.is_dir(full):
            return None
        return fs.read_text(full)

    def save(new_text: str) -> None:
        if path is None:
            raise InvalidInput("error: no kubeconfig file to modify")
        fs.write(path, new_text, mode=0o600)

    def fetch(url: str) -> str:
        from ...linux.http import request

        # kubectl reads -f URL with Go's net/http client, which names itself (not curl)
        resp = request(world.net, netns, "GET", url, headers={"User-Agent": "Go-http-client/1.1"})
        if resp.status >= 400:
            raise InvalidInput(f'error: unable to read URL "{url}", server reported {resp.status} '
                               f"{resp.reason}, status code={resp.status}")
        return resp.body.decode("utf-8", "replace")

    def now() -> _dt.datetime:
        t = world.datetime()
        return t if t.tzinfo else t.replace(tzinfo=_dt.timezone.utc)

    version = client_version(fs)
    k = Kubectl(connect=connect, loop=world.loop, now=now, stdin=stdin, read_file=read,
                is_dir=lambda p: fs.is_dir(join(cwd, p)), list_dir=lambda p: fs.listdir(join(cwd, p)),
                kubeconfig=doc if isinstance(doc, dict) else None, kubeconfig_path=path or "",
                save_kubeconfig=save, fetch=fetch, pid=pid)
    k.client_version = version
    return k, early


def client_version(fs: Any) -> str:
    """The release of the kubectl installed in ``fs`` (package ``1.30.8-1.1`` -> ``v1.30.8``), else the
    built-in one."""
    from ...linux.packages import installed_version
    from .commands import CLIENT_VERSION

    raw = installed_version(fs, "kubectl")
    return "v" + raw.split(":", 1)[-1].split("-", 1)[0] if raw else CLIENT_VERSION


def _client_for(world: Any, netns: Any, text: str) -> Any:
    """Minimal kubeconfig reading (server URL + the user's name)."""
    import yaml

    from ..client import APIClient

    doc = yaml.safe_load(text) or {}
    cur = doc.get("current-context")
    ctx = next((c.get("context") or {} for c in doc.get("contexts") or [] if c.get("name") == cur), {})
    cluster = next((c.get("cluster") or {} for c in doc.get("clusters") or [] if c.get("name") == ctx.get("cluster")),
                   {})
    return APIClient(world.net, netns, cluster.get("server", ""), ctx.get("user", ""))


@register_program("kubectl")
def main(proc: Process) -> Generator[Any, Any, int]:
    world = proc.kernel.owner.world
    argv = proc.argv[1:]
    k, early = make_kubectl(world=world, netns=proc.ns.net, fs=proc.fs, env=proc.env, cwd=proc.cwd, uid=proc.uid,
                            argv=argv, stdin=proc.stdin, pid=proc.pid)
    if early is not None:
        proc.error(early + "\n")
        return 1
    k.write = proc.write
    k.error = proc.error
    code = yield from k.run(argv)
    return code
