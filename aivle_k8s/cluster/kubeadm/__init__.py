"""kubeadm: bootstrap a cluster on machines, as the real tool does it.

Two faces, one implementation:

* the ``kubeadm`` program: ``master.sh("sudo kubeadm init --pod-network-cidr=10.244.0.0/16")``;
* Python: :func:`init`, :func:`join`, :func:`reset`, :func:`create_token`, :func:`list_tokens`,
  :func:`delete_token` — each runs the same code in a ``kubeadm`` process on the machine
  (as root), lets simulated time pass, and returns a result or raises the
  :class:`KubeadmError` (:class:`PreflightError` with ``.checks``) whose message is what
  kubeadm prints.

Modules: ``config`` (Init/Cluster/JoinConfiguration), ``preflight``, ``manifests`` (static
pods), ``addons`` (CoreDNS, kube-proxy), ``tokens`` (bootstrap tokens, JWS), ``init``,
``join`` (join + reset), ``program`` (the command line).
"""

from __future__ import annotations

from typing import Any, Callable

from ... import engine as _engine  # noqa: F401  (containerd's package hook)
from .. import components as _components  # noqa: F401  (etcd, kube-apiserver, ... programs)
from .. import runtimes as _runtimes  # noqa: F401  (cri-o / cri-dockerd hooks and daemons)
from .config import Config
from .errors import DiscoveryError, KubeadmError, PreflightError
from .init import InitResult, Out, run_init
from .join import JoinResult, run_join, run_reset
from .program import kubeadm_main, make_config
from .tokens import TOKEN_RE, generate_token

__all__ = ["init", "join", "reset", "admin_client", "create_token", "list_tokens", "delete_token", "InitResult", "JoinResult",
           "KubeadmError", "PreflightError", "DiscoveryError", "Config", "TOKEN_RE"]


def _drive(machine: Any, body: Callable[[Any, Out], Any], *, stdin: bytes = b"", timeout: float = 3600.0) -> Any:
    """Run ``body(proc, out)`` (a generator) in a root ``kubeadm`` process on ``machine`` until it ends."""
    from ...linux.kernel import Stream

    box: dict[str, Any] = {}

    def program(proc):
        out = Out(proc)
        box["out"] = out
        try:
            result = yield from body(proc, out)
        except KubeadmError as e:
            box["error"] = e
            return 1
        box["result"] = result
        return 0

    proc = machine.kernel.start(program, ["kubeadm"], ns=machine.ns, env=dict(machine.env), cwd="/root"
                                if machine.fs.exists("/root") else "/", stdin=stdin, stdout=Stream("stdout"),
                                stderr=Stream("stderr"), uid=0)
    if proc.alive:
        machine.world.loop.run_until(lambda: not proc.alive, timeout=timeout)
    if "error" in box:
        e = box["error"]
        if not getattr(e, "output", ""):
            e.output = box["out"].text
        raise e
    if "result" not in box:
        raise KubeadmError("kubeadm did not finish in time", output=box.get("out").text if box.get("out") else "")
    return box["result"]


def init(machine: Any, **options: Any) -> InitResult:
    """``kubeadm init`` on ``machine`` as root.

    Options are the flags with ``_`` for ``-``: ``pod_network_cidr="10.244.0.0/16"``,
    ``apiserver_advertise_address``, ``control_plane_endpoint``, ``cri_socket``,
    ``ignore_preflight_errors=["Swap", "NumCPU"]`` (or ``"Swap,NumCPU"``/``"all"``), ``token``,
    ``token_ttl`` (``"24h"`` or seconds), ``kubernetes_version``, ``config`` (a path on the machine).

    Raises:
        PreflightError: fatal pre-flight checks (``.checks``); nothing changed on the machine.
        KubeadmError: a later phase failed.
    """
    cfg = make_config(machine, options)
    return _drive(machine, lambda proc, out: run_init(proc, machine, cfg, out))


def join(machine: Any, endpoint: "str | InitResult", token: str | None = None,
         ca_cert_hash: str | list[str] | None = None, *,
         unsafe_skip_ca_verification: bool = False, **options: Any) -> JoinResult:
    """``kubeadm join <endpoint> --token <token> --discovery-token-ca-cert-hash <hash>``.

    ``endpoint`` may be an :class:`InitResult` (its endpoint, token and hash are used).
    """
    if isinstance(endpoint, InitResult):
        res = endpoint
        endpoint, token, ca_cert_hash = res.endpoint, token or res.token, ca_cert_hash or res.ca_cert_hash
    hashes = [ca_cert_hash] if isinstance(ca_cert_hash, str) else list(ca_cert_hash or [])
    cfg = make_config(machine, options)
    return _drive(machine, lambda proc, out: run_join(proc, machine, cfg, endpoint, token, hashes,
                                                      unsafe_skip_ca_verification, out))


def reset(machine: Any, *, force: bool = True, cri_socket: str | None = None) -> str:
    """``kubeadm reset -f``; returns what it printed."""
    return _drive(machine, lambda proc, out: run_reset(proc, machine, force, out, cri_socket),
                  stdin=b"" if force else b"n\n")


def admin_client(machine: Any, path: str = "/etc/kubernetes/admin.conf") -> Any:
    """An API client as ``kubernetes-admin`` from the control-plane ``machine``'s admin.conf."""
    from .init import admin_client as _client

    return _client(machine, path)


_admin = admin_client


def create_token(machine: Any, ttl: str | float = "24h", *, token: str | None = None, description: str | None = None,
                 print_join_command: bool = False) -> str:
    """``kubeadm token create`` on the control-plane ``machine``; returns the token (or the join command)."""
    from .. import pki
    from ..kubeconfig import parse
    from .init import create_token_secret, join_command, sign_cluster_info
    from .tokens import parse_duration

    world = machine.world
    client = _admin(machine)
    token = token or generate_token(world.rng)
    if not TOKEN_RE.match(token):
        raise KubeadmError(f'the bootstrap token "{token}" was not of the form "^([a-z0-9]{{6}})\\.([a-z0-9]{{16}})$"')
    create_token_secret(client, world, token, parse_duration(ttl), description)
    sign_cluster_info(client, world)
    if print_join_command:
        kc = parse(machine.fs.read_text("/etc/kubernetes/admin.conf"))
        return join_command(kc.server.split("://", 1)[-1], token, pki.spki_sha256(kc.ca_pem)).replace(" \\\n\t", " ")\
            .strip()
    return token


def list_tokens(machine: Any) -> list[dict]:
    """The bootstrap tokens (decoded Secret data) of the cluster ``machine`` controls."""
    from .tokens import decode_secret

    client = _admin(machine)
    return [decode_secret(s) for s in client.list("secrets", "kube-system").get("items", [])
            if s.get("type") == "bootstrap.kubernetes.io/token"]


def delete_token(machine: Any, token_id: str) -> None:
    from .init import sign_cluster_info

    client = _admin(machine)
    client.delete("secrets", f"bootstrap-token-{token_id.split('.', 1)[0]}", "kube-system")
    sign_cluster_info(client, machine.world)
