"""``crictl``: look at a node's CRI runtime directly (``ps``, ``pods``, ``images``, ``info``, ``version``).

What a node's kubelet has started, seen below Kubernetes: every pod is a sandbox plus its
containers, whatever the API server says.
"""

from __future__ import annotations

from typing import Any

from ..engine.format import human_duration, human_size
from ..linux.kernel import register_program

__all__ = ["crictl"]

_USAGE = """NAME:
   crictl - client for CRI

USAGE:
   crictl [global options] command [command options] [arguments...]

COMMANDS:
   images, image, img  List images
   info                Display information of the container runtime
   pods                List pods
   ps                  List containers
   version             Display runtime version information
"""


def _endpoint(argv: list[str], fs: Any) -> tuple[str | None, list[str]]:
    endpoint = None
    rest = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-r", "--runtime-endpoint") and i + 1 < len(argv):
            endpoint = argv[i + 1]
            i += 2
            continue
        if a.startswith("--runtime-endpoint="):
            endpoint = a.split("=", 1)[1]
        else:
            rest.append(a)
        i += 1
    if endpoint is None and fs.exists("/etc/crictl.yaml"):
        for line in fs.read_text("/etc/crictl.yaml").splitlines():
            if line.strip().startswith("runtime-endpoint:"):
                endpoint = line.split(":", 1)[1].strip()
    return endpoint, rest


def _ago(now: float, t: float) -> str:
    return f"{human_duration(max(0.0, now - t))} ago"


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "".join("   ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() + "\n" for r in rows)


@register_program("crictl")
def crictl(proc: Any) -> int:
    """``crictl [--runtime-endpoint E] ps [-a] | pods | images | info | version``."""
    endpoint, args = _endpoint(proc.argv[1:], proc.fs)
    if not args or args[0] in ("-h", "--help", "help"):
        proc.write(_USAGE)
        return 0
    if proc.uid != 0:
        sock = endpoint or "unix:///run/containerd/containerd.sock"
        proc.error(f'time="{_stamp(proc)}" level=fatal msg="validate service connection: validate CRI v1 runtime '
                   f'API for endpoint \\"{sock}\\": rpc error: code = Unavailable desc = connection error: desc = '
                   f'\\"transport: Error while dialing: dial unix {sock.split("://")[-1]}: connect: permission '
                   f'denied\\""\n')
        return 1
    from .runtimes import runtime_for

    try:
        rt = runtime_for(proc.kernel.owner, endpoint)
    except Exception as e:  # noqa: BLE001 - no runtime there: crictl's connection error
        proc.error(f'time="{_stamp(proc)}" level=fatal msg="validate service connection: {e}"\n')
        return 1
    now = proc.loop.now
    cmd, opts = args[0], args[1:]
    if cmd == "version":
        v = rt.version()
        proc.write(f"Version:  0.1.0\nRuntimeName:  {v.runtime_name}\nRuntimeVersion:  {v.runtime_version}\n"
                   f"RuntimeApiVersion:  {v.runtime_api_version}\n")
        return 0
    if cmd == "info":
        conds = rt.status()
        proc.write("{\n  \"status\": {\n    \"conditions\": [\n")
        proc.write(",\n".join(f'      {{\n        "type": "{c.type}",\n        "status": {str(c.status).lower()},\n'
                              f'        "reason": "{c.reason}",\n        "message": "{c.message}"\n      }}'
                              for c in conds))
        proc.write("\n    ]\n  }\n}\n")
        return 0
    if cmd == "pods":
        pods = {p.id: p for p in rt.list_pod_sandbox()}
        rows = [["POD ID", "CREATED", "STATE", "NAME", "NAMESPACE", "ATTEMPT", "RUNTIME"]]
        for p in sorted(pods.values(), key=lambda p: -p.created_at):
            rows.append([p.id[:13], _ago(now, p.created_at), p.state.replace("SANDBOX_", ""), p.metadata.name,
                         p.metadata.namespace, str(p.metadata.attempt), "(default)"])
        proc.write(_table(rows))
        return 0
    if cmd == "ps":
        show_all = "-a" in opts or "--all" in opts
        pods = {p.id: p for p in rt.list_pod_sandbox()}
        rows = [["CONTAINER", "IMAGE", "CREATED", "STATE", "NAME", "ATTEMPT", "POD ID", "POD"]]
        for c in sorted(rt.list_containers(), key=lambda c: -c.created_at):
            state = c.state.replace("CONTAINER_", "")
            if not show_all and state != "RUNNING":
                continue
            pod = pods.get(c.pod_sandbox_id)
            rows.append([c.id[:13], (c.image_ref or c.image).replace("sha256:", "")[:13], _ago(now, c.created_at),
                         state.capitalize(), c.metadata.name, str(c.metadata.attempt), c.pod_sandbox_id[:13],
                         pod.metadata.name if pod else ""])
        proc.write(_table(rows))
        return 0
    if cmd in ("images", "image", "img"):
        rows = [["IMAGE", "TAG", "IMAGE ID", "SIZE"]]
        for img in rt.list_images():
            for tag in img.repo_tags or ("<none>:<none>",):
                repo, _, t = tag.rpartition(":")
                rows.append([repo, t, img.id.replace("sha256:", "")[:13], human_size(img.size)])
        proc.write(_table(rows))
        return 0
    proc.error(f'No help topic for \'{cmd}\'\n')
    return 1


def _stamp(proc: Any) -> str:
    world = getattr(proc.kernel.owner, "world", None)
    return world.timestamp() if world is not None else "2025-03-03T09:00:00Z"
