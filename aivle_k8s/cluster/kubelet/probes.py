"""Container probes as the kubelet's prober runs them: httpGet, tcpSocket, exec (and grpc as tcp).

``run_probe`` returns ``(success, message)`` with the prober's failure messages
(``HTTP probe failed with statuscode: 500``, ``Get "http://10.244.1.2:80/": dial tcp
10.244.1.2:80: connect: connection refused``).
"""

from __future__ import annotations

from typing import Any

from ...sim.clock import Event
from ...sim.errors import AivleError, NetworkError

__all__ = ["run_probe", "resolve_port", "probe_kind"]


def probe_kind(probe: dict) -> str:
    for k in ("httpGet", "tcpSocket", "exec", "grpc"):
        if k in probe:
            return k
    return ""


def resolve_port(port: Any, container: dict) -> int:
    """A probe's port: a number, or the name of one of the container's ports."""
    if isinstance(port, int):
        return port
    if isinstance(port, str) and port.isdigit():
        return int(port)
    for p in container.get("ports") or []:
        if p.get("name") == port:
            return int(p["containerPort"])
    raise AivleError(f"couldn't find port: {port} in {container.get('name')}")


def _dial_error(e: NetworkError, ip: str, port: int) -> str:
    reason = getattr(e, "reason", "")
    if reason == "timeout":
        return f"dial tcp {ip}:{port}: i/o timeout"
    if reason == "unreachable":
        return f"dial tcp {ip}:{port}: connect: no route to host"
    return f"dial tcp {ip}:{port}: connect: connection refused"


def run_probe(probe: dict, *, net: Any, src: Any, pod_ip: str, container: dict, runtime: Any,
              container_id: str) -> tuple[bool, str] | Event:
    """Run ``probe`` once against a container; ``src`` is the kubelet's (host) network namespace.

    An exec probe whose command takes simulated time gives an Event that fires with the
    ``(success, message)`` when it ends (the kubelet's loop is never run from inside a probe)."""
    kind = probe_kind(probe)
    timeout = float(probe.get("timeoutSeconds", 1) or 1)
    if kind == "httpGet":
        from ...linux.http import Request, Response

        h = probe["httpGet"]
        host = h.get("host") or pod_ip or "127.0.0.1"
        try:
            port = resolve_port(h.get("port", 80), container)
        except AivleError as e:
            return False, e.message
        scheme = (h.get("scheme") or "HTTP").lower()
        path = h.get("path") or "/"
        url = f"{scheme}://{host}:{port}{path}"
        headers = {"Host": f"{host}:{port}", "User-Agent": "kube-probe/1.30", "Accept": "*/*",
                   "Connection": "close"}
        for hh in h.get("httpHeaders") or []:
            headers[hh.get("name", "")] = hh.get("value", "")
        try:
            raw = net.request(src, host, port, Request("GET", path, headers).to_bytes())
            resp = Response.parse(raw)
        except NetworkError as e:
            return False, f'Get "{url}": {_dial_error(e, host, port)}'
        except AivleError as e:
            return False, f'Get "{url}": {e.message}'
        if 200 <= resp.status < 400:
            return True, ""
        return False, f"HTTP probe failed with statuscode: {resp.status}"
    if kind in ("tcpSocket", "grpc"):
        t = probe[kind]
        host = t.get("host") or pod_ip or "127.0.0.1"
        try:
            port = resolve_port(t.get("port"), container)
        except AivleError as e:
            return False, e.message
        try:
            net.endpoint(src, host, port)
        except NetworkError as e:
            return False, _dial_error(e, host, port)
        return True, ""
    if kind == "exec":
        cmd = list((probe.get("exec") or {}).get("command") or [])
        loop = runtime.engine.loop if hasattr(runtime, "engine") else None
        started = loop.now if loop is not None else 0.0
        try:
            res = runtime.exec_sync(container_id, cmd, timeout=timeout)
        except AivleError as e:
            return False, e.message
        if isinstance(res, Event):  # the command takes time: the outcome comes when it ends
            outcome = res.loop.event()
            res.add_callback(lambda ev: outcome.succeed(_exec_outcome(
                ev.value, cmd, timed_out=ev.loop.now - started >= timeout - 1e-9 and ev.value.exit_code == 137)))
            return outcome
        return _exec_outcome(res, cmd)
    return True, ""


def _exec_outcome(res: Any, cmd: list[str], *, timed_out: bool = False) -> tuple[bool, str]:
    if timed_out:
        return False, f'command "{" ".join(cmd)}" timed out'
    out = (res.stdout + res.stderr).decode(errors="replace")
    if res.exit_code == 0:
        return True, ""
    return False, out if out else f"command {cmd!r} exited with {res.exit_code}"
