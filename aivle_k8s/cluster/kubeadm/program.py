"""The ``kubeadm`` program: init, join, reset, token, certs, config images, version."""

from __future__ import annotations

import datetime as _dt
from typing import Any

from ...linux.kernel import register_program
from ...sim.clock import Event
from ...sim.errors import AivleError, FsError
from .config import DEFAULT_VERSION, Config, load_config_file
from .errors import KubeadmError, PreflightError
from .init import K, Out, admin_client, create_token_secret, join_command, run_init, sign_cluster_info
from .join import run_join, run_reset
from .manifests import images_for
from .tokens import TOKEN_RE, generate_token, parse_duration, tokens_table

__all__ = ["kubeadm_main", "kubeadm_version", "make_config", "parse_args"]

_TRAILER = "To see the stack trace of this error execute with --v=5 or higher\n"
_BOOL_FLAGS = {"f", "force", "print-join-command", "dry-run", "upload-certs", "control-plane",
               "discovery-token-unsafe-skip-ca-verification", "skip-token-print", "skip-certificate-key-print"}


def kubeadm_version(machine: Any) -> str:
    v = machine.packages.get("kubeadm") if machine is not None else None
    return "v" + v.split("-")[0] if v else DEFAULT_VERSION


def parse_args(args: list[str]) -> tuple[list[str], dict[str, Any]]:
    """Positional words and ``--flag[=value]`` options (repeatable flags keep the last value)."""
    pos: list[str] = []
    opts: dict[str, Any] = {}
    i = 0
    while i < len(args):
        a = args[i]
        if a.startswith("-") and a != "-":
            name, eq, value = a.lstrip("-").partition("=")
            if not eq:
                if name in _BOOL_FLAGS or name in ("v",) and False:
                    value = "true"
                elif i + 1 < len(args) and not args[i + 1].startswith("-"):
                    value = args[i + 1]
                    i += 1
                else:
                    value = "true"
            if name == "discovery-token-ca-cert-hash":
                opts.setdefault(name, []).append(value)
            else:
                opts[name] = value
        else:
            pos.append(a)
        i += 1
    return pos, opts


def make_config(machine: Any, opts: dict[str, Any], fs: Any = None) -> Config:
    """A :class:`Config` from flags (``pod_network_cidr`` or ``pod-network-cidr`` both work)."""
    from ..runtimes import detect_cri_socket, normalize_endpoint

    o = {k.replace("_", "-"): v for k, v in opts.items()}
    cfg = Config(kubernetes_version=kubeadm_version(machine), advertise_address=machine.ip, node_name=machine.hostname)
    if o.get("config"):
        try:
            text = (fs or machine.fs).read_text(o["config"])
        except FsError:
            raise KubeadmError(f'unable to read config from "{o["config"]}" : open {o["config"]}: no such file or '
                               f'directory') from None
        load_config_file(text, cfg)
    if o.get("kubernetes-version"):
        v = str(o["kubernetes-version"])
        cfg.kubernetes_version = v if v.startswith("v") else f"v{v}"
    if o.get("pod-network-cidr"):
        cfg.pod_subnet = o["pod-network-cidr"]
    if o.get("service-cidr"):
        cfg.service_subnet = o["service-cidr"]
    if o.get("apiserver-advertise-address"):
        cfg.advertise_address = o["apiserver-advertise-address"]
    if o.get("apiserver-bind-port"):
        cfg.bind_port = int(o["apiserver-bind-port"])
    if o.get("control-plane-endpoint"):
        cfg.control_plane_endpoint = o["control-plane-endpoint"]
    if o.get("node-name"):
        cfg.node_name = o["node-name"]
    if o.get("token"):
        cfg.token = o["token"]
    if o.get("token-ttl") is not None:
        cfg.token_ttl = parse_duration(o["token-ttl"])
    if o.get("service-dns-domain"):
        cfg.dns_domain = o["service-dns-domain"]
    if o.get("image-repository"):
        cfg.image_repository = o["image-repository"]
    ignore = o.get("ignore-preflight-errors")
    if ignore:
        items = ignore if isinstance(ignore, (list, tuple, set)) else str(ignore).split(",")
        cfg.ignore_preflight |= {i.strip().lower() for i in items if i.strip()}
    if o.get("cri-socket"):
        cfg.cri_socket = normalize_endpoint(o["cri-socket"])
    if not cfg.cri_socket:
        cfg.cri_socket = detect_cri_socket(machine)
    else:
        cfg.cri_socket = normalize_endpoint(cfg.cri_socket)
    if cfg.token and not TOKEN_RE.match(cfg.token):
        raise KubeadmError(f'[bootstrapTokens[0].token: Invalid value: "{cfg.token}": the bootstrap token is invalid]')
    return cfg


def _fail(out: Out, e: AivleError) -> int:
    msg = e.message
    if isinstance(e, KubeadmError) and not msg.startswith("error execution phase") and \
            getattr(e, "phase", "") == "" and not msg.startswith("["):
        pass
    out.err(msg.rstrip("\n") + "\n")
    out.err(_TRAILER)
    return 1


@register_program("kubeadm")
def kubeadm_main(proc):
    """``kubeadm <command>``; every command also exists in :mod:`aivle_k8s.cluster.kubeadm` as a function."""
    machine = proc.kernel.owner
    out = Out(proc)
    pos, opts = parse_args(proc.argv[1:])
    cmd = pos[0] if pos else ""
    try:
        if cmd == "version":
            v = kubeadm_version(machine)
            if opts.get("o") == "short" or opts.get("output") == "short":
                out(f"{v}\n")
            else:
                major, minor = v.lstrip("v").split(".")[:2]
                out(f'kubeadm version: &version.Info{{Major:"{major}", Minor:"{minor}", GitVersion:"{v}", '
                    f'GitCommit:"39683505b630ff2121012f3c5b16215a1449d5ed", GitTreeState:"clean", '
                    f'BuildDate:"2024-06-11T20:27:59Z", GoVersion:"go1.22.4", Compiler:"gc", Platform:"linux/amd64"}}\n')
            return 0
        if cmd == "init":
            if len(pos) > 1 and pos[1] == "phase":
                out.err("error: kubeadm init phase is not simulated; run `kubeadm init` with --skip-phases instead\n")
                return 1
            cfg = make_config(machine, opts, proc.fs)
            yield from run_init(proc, machine, cfg, out)
            return 0
        if cmd == "join":
            if len(pos) < 2:
                raise KubeadmError("discovery: Invalid value: \"\": bootstrapToken or file must be set")
            cfg = make_config(machine, opts, proc.fs)
            token = opts.get("token") or opts.get("discovery-token") or ""
            hashes = opts.get("discovery-token-ca-cert-hash") or []
            skip = str(opts.get("discovery-token-unsafe-skip-ca-verification", "")).lower() == "true"
            yield from run_join(proc, machine, cfg, pos[1], token, hashes, skip, out)
            return 0
        if cmd == "reset":
            force = str(opts.get("f", opts.get("force", ""))).lower() == "true"
            yield from run_reset(proc, machine, force, out, opts.get("cri-socket"))
            return 0
        if cmd == "token":
            return _token(proc, machine, pos[1:], opts, out)
        if cmd == "config" and pos[1:3] == ["images", "list"]:
            cfg = make_config(machine, opts, proc.fs)
            for img in images_for(cfg):
                out(f"{img}\n")
            return 0
        if cmd == "config" and pos[1:3] == ["images", "pull"]:
            code = yield from _images_pull(proc, machine, opts, out)
            return code
        if cmd == "certs" and pos[1:2] == ["check-expiration"]:
            return _check_expiration(proc, machine, out)
        if cmd == "certs" and pos[1:2] == ["certificate-key"]:
            out("%064x\n" % machine.world.rng.getrandbits(256))
            return 0
        if not cmd or cmd in ("help", "--help", "-h"):
            out(_HELP)
            return 0
        out.err(f'unknown command "{cmd}" for "kubeadm"\nRun \'kubeadm --help\' for usage.\n')
        return 1
    except PreflightError as e:
        return _fail(out, e)
    except AivleError as e:
        return _fail(out, e)


def _token(proc: Any, machine: Any, pos: list[str], opts: dict, out: Out) -> int:
    sub = pos[0] if pos else "list"
    world = machine.world
    if sub == "generate":
        out(generate_token(world.rng) + "\n")
        return 0
    if proc.uid != 0 and not opts.get("kubeconfig"):
        try:
            proc.fs.read_text(f"{K}/admin.conf") if proc.uid == 0 else None
        except FsError:
            pass
    path = opts.get("kubeconfig", f"{K}/admin.conf")
    try:
        text = proc.fs.read_text(path)
        if proc.uid != 0 and path.startswith("/etc/kubernetes"):
            raise FsError("permission denied")
    except FsError as e:
        why = "permission denied" if "permission" in str(e) or machine.fs.exists(path) else "no such file or directory"
        out.err(f'failed to load admin kubeconfig: open {path}: {why}\n{_TRAILER}')
        return 1
    from ..kubeconfig import client_for

    client = client_for(world, machine.netns, text)
    if sub == "create":
        token = pos[1] if len(pos) > 1 else generate_token(world.rng)
        if not TOKEN_RE.match(token):
            raise KubeadmError(f'the bootstrap token "{token}" was not of the form "^([a-z0-9]{{6}})\\.([a-z0-9]{{16}})$"')
        ttl = parse_duration(opts.get("ttl", "24h"))
        create_token_secret(client, world, token, ttl, opts.get("description"))
        sign_cluster_info(client, world)
        if str(opts.get("print-join-command", "")).lower() == "true":
            from .. import pki
            from ..kubeconfig import parse

            kc = parse(text)
            endpoint = kc.server.split("://", 1)[-1]
            ca_hash = pki.spki_sha256(kc.ca_pem)
            out(join_command(endpoint, token, ca_hash).replace(" \\\n\t", " ") + "\n")
        else:
            out(token + "\n")
        return 0
    if sub == "list":
        secrets = client.list("secrets", "kube-system").get("items", [])
        out(tokens_table(secrets, world.datetime()))
        return 0
    if sub == "delete":
        if len(pos) < 2:
            raise KubeadmError("missing subcommand; 'token delete' is missing token of form "
                               "\"[a-z0-9]{6}.[a-z0-9]{16}\" or \"[a-z0-9]{6}\"")
        for t in pos[1:]:
            tid = t.split(".", 1)[0]
            try:
                client.delete("secrets", f"bootstrap-token-{tid}", "kube-system")
            except AivleError:
                raise KubeadmError(f'failed to delete bootstrap token "{tid}": secrets "bootstrap-token-{tid}" '
                                   f'not found') from None
            out(f'bootstrap token "{tid}" deleted\n')
        sign_cluster_info(client, world)
        return 0
    raise KubeadmError(f'unknown command "{sub}" for "kubeadm token"')


def _images_pull(proc: Any, machine: Any, opts: dict, out: Out):
    from ..k8s_images import registry_k8s_io
    from ..runtimes import runtime_for
    from .preflight import cri_error

    if proc.uid != 0:
        raise KubeadmError("failed to create new CRI runtime service: validate service connection: validate CRI v1 "
                           "runtime API for endpoint: permission denied")
    cfg = make_config(machine, opts, proc.fs)
    registry_k8s_io(machine.world)
    err = cri_error(machine, cfg.cri_socket)
    if err:
        raise KubeadmError(f"failed to create new CRI runtime service: {err}")
    rt = runtime_for(machine, cfg.cri_socket)
    for img in images_for(cfg):
        pulled = rt.pull_image(img)
        if isinstance(pulled, Event):  # the download's time passes without kubeadm running the loop
            yield pulled
        out(f"[config/images] Pulled {img}\n")
    return 0


def _check_expiration(proc: Any, machine: Any, out: Out) -> int:
    from .. import pki

    now = machine.world.datetime()
    rows = []
    items = [("admin.conf", f"{K}/admin.conf", "ca"), ("apiserver", f"{K}/pki/apiserver.crt", "ca"),
             ("apiserver-etcd-client", f"{K}/pki/apiserver-etcd-client.crt", "etcd-ca"),
             ("apiserver-kubelet-client", f"{K}/pki/apiserver-kubelet-client.crt", "ca"),
             ("controller-manager.conf", f"{K}/controller-manager.conf", "ca"),
             ("etcd-healthcheck-client", f"{K}/pki/etcd/healthcheck-client.crt", "etcd-ca"),
             ("etcd-peer", f"{K}/pki/etcd/peer.crt", "etcd-ca"), ("etcd-server", f"{K}/pki/etcd/server.crt", "etcd-ca"),
             ("front-proxy-client", f"{K}/pki/front-proxy-client.crt", "front-proxy-ca"),
             ("scheduler.conf", f"{K}/scheduler.conf", "ca"), ("super-admin.conf", f"{K}/super-admin.conf", "ca")]

    def load(path: str):
        text = machine.fs.read_text(path)
        if path.endswith(".conf"):
            from ..kubeconfig import parse

            return pki.CertKey(pki.load_cert(parse(text).cert_pem), None)
        return pki.CertKey(pki.load_cert(text), None)

    def residual(ck) -> str:
        days = (ck.not_after - now).days
        return f"{days // 365}y" if days >= 365 else f"{days}d"

    def fmt(ck) -> str:
        return ck.not_after.strftime("%b %d, %Y %H:%M UTC")

    try:
        for name, path, ca in items:
            ck = load(path)
            rows.append([name, fmt(ck), residual(ck), ca, "no"])
        cas = [[n, fmt(load(p)), residual(load(p)), "no"] for n, p in
               (("ca", f"{K}/pki/ca.crt"), ("etcd-ca", f"{K}/pki/etcd/ca.crt"),
                ("front-proxy-ca", f"{K}/pki/front-proxy-ca.crt"))]
    except FsError as e:
        raise KubeadmError(f"failed to load existing certificate {e}") from None
    out("[check-expiration] Reading configuration from the cluster...\n"
        "[check-expiration] FYI: You can look at this config file with 'kubectl -n kube-system get cm kubeadm-config "
        "-o yaml'\n\n")
    out(_table([["CERTIFICATE", "EXPIRES", "RESIDUAL TIME", "CERTIFICATE AUTHORITY", "EXTERNALLY MANAGED"]] + rows))
    out("\n")
    out(_table([["CERTIFICATE AUTHORITY", "EXPIRES", "RESIDUAL TIME", "EXTERNALLY MANAGED"]] + cas))
    return 0


def _table(rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) + 3 for i in range(len(rows[0]))]
    return "".join("".join(c.ljust(widths[i]) for i, c in enumerate(r[:-1])) + r[-1] + "\n" for r in rows)


_HELP = """

    ┌──────────────────────────────────────────────────────────┐
    │ KUBEADM                                                  │
    │ Easily bootstrap a secure Kubernetes cluster             │
    │                                                          │
    │ Please give us feedback at:                              │
    │ https://github.com/kubernetes/kubeadm/issues             │
    └──────────────────────────────────────────────────────────┘

Example usage:

    Create a two-machine cluster with one control-plane node
    (which controls the cluster), and one worker node
    (where your workloads, like Pods and Deployments run).

    ┌──────────────────────────────────────────────────────────┐
    │ On the first machine:                                    │
    ├──────────────────────────────────────────────────────────┤
    │ control-plane# kubeadm init                              │
    └──────────────────────────────────────────────────────────┘

    ┌──────────────────────────────────────────────────────────┐
    │ On the second machine:                                   │
    ├──────────────────────────────────────────────────────────┤
    │ worker# kubeadm join <arguments-returned-from-init>      │
    └──────────────────────────────────────────────────────────┘

    You can then repeat the second step on as many other machines as you like.

Usage:
  kubeadm [command]

Available Commands:
  certs       Commands related to handling kubernetes certificates
  completion  Output shell completion code for the specified shell (bash or zsh)
  config      Manage configuration for a kubeadm cluster persisted in a ConfigMap in the cluster
  help        Help about any command
  init        Run this command in order to set up the Kubernetes control plane
  join        Run this on any machine you wish to join an existing cluster
  kubeconfig  Kubeconfig file utilities
  reset       Performs a best effort revert of changes made to this host by 'kubeadm init' or 'kubeadm join'
  token       Manage bootstrap tokens
  upgrade     Upgrade your cluster smoothly to a newer version with this command
  version     Print the version of kubeadm

Flags:
  -h, --help                     help for kubeadm
      --rootfs string            [EXPERIMENTAL] The path to the 'real' host root filesystem.
  -v, --v Level                  number for the log level verbosity

Use "kubeadm [command] --help" for more information about a command.
"""
