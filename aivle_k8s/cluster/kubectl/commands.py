"""The kubectl commands, over an :class:`~aivle_k8s.cluster.client.APIClient`.

:class:`Kubectl` is one invocation's context (its client, streams, files,
clock); :meth:`Kubectl.run` parses the command line and runs the command as a
generator that yields loop events while it waits (``delete`` waiting for the
object to go, ``rollout status``, ``wait``, ``drain``): the ``kubectl``
program yields them to the kernel, the :class:`~aivle_k8s.cluster.cluster.Cluster`
façade drives them on the world's loop.

Output and errors are kubectl v1.30's words; a refused command changes nothing.
"""

from __future__ import annotations

import base64
import copy
import datetime as _dt
import json
import re
from typing import Any, Callable, Generator, Iterable

from ...sim.clock import Event
from ...sim.errors import AivleError, InvalidInput, NetworkError, UsageError
from ..apiserver.errors import (AlreadyExistsError, ConnectionRefused, InvalidError, NoKindMatchError,
                                NotFoundError, StatusError, UnknownResourceError)
from ..apiserver.resources import RESOURCES, ResourceInfo, resolve, resolve_kind
from . import printers as P
from .apply import LAST_APPLIED, ManifestError, last_applied_json, load_manifests, three_way_patch
from .parser import COMMANDS, Invocation, help_text, parse_command_line

__all__ = ["Kubectl", "CLIENT_VERSION", "KUSTOMIZE_VERSION", "CommandError"]

CLIENT_VERSION = "v1.30.2"
KUSTOMIZE_VERSION = "v5.0.4-0.20230601165947-6ce0bf390ce3"
#: How long kubectl waits (simulated seconds) where the real one would wait "forever".
WAIT_BOUND = 600.0


class CommandError(AivleError):
    """A failure whose message is already kubectl's full stderr text."""

    def __init__(self, message: str, code: int = 1):
        super().__init__(message, exit_code=code)


def _fail(message: str) -> CommandError:
    return CommandError(message if message.startswith(("error:", "Error", "The ")) else f"error: {message}")


def _server_error(e: Exception, action: str = "", source: str = "") -> str:
    """kubectl's CheckErr rendering of an API error."""
    if isinstance(e, InvalidError):
        return str(e)
    if isinstance(e, NoKindMatchError):
        return str(e)
    if isinstance(e, StatusError):
        msg = str(e)
        if action and source:
            msg = f'error when {action} "{source}": {msg}'
        reason = e.reason
        return f"Error from server ({reason}): {msg}" if reason else f"Error from server: {msg}"
    return str(e)


def _top_table(rows: list[list[str]], headers: list[str] | None) -> str:
    """kubectl top's table: every cell ends with a tab (so every column, the last too, is padded)."""
    from ...engine import format as fmt

    lines = ([headers] if headers is not None else []) + rows
    if not lines:
        return ""
    return fmt.tabwriter("\n".join("".join(f"{c}\t" for c in line) for line in lines), minwidth=6, padding=3) + "\n"


def _nanos(q: Any) -> int:
    import math

    from ..scheduler.quantity import parse_quantity

    return math.ceil(parse_quantity(q) * 10**9)


def _git_commit(version: str) -> str:
    """The git commit of a Kubernetes release (``/version``'s gitCommit): the known one, else the stable
    stand-in whose first seven characters the User-Agents carry."""
    import hashlib

    from ..client import _GIT_COMMITS

    return _GIT_COMMITS.get(version) or hashlib.sha256(f"kubernetes/{version}".encode()).hexdigest()[:40]


def _milli(q: Any) -> int:
    """``Quantity.MilliValue()`` (rounded up)."""
    from ..scheduler.quantity import cpu_millis

    return cpu_millis(q)


def _value(q: Any) -> int:
    """``Quantity.Value()`` (rounded up)."""
    from ..scheduler.quantity import to_int

    return to_int(q)


def _sort_metrics(items: list[dict], sort_by: str, usage: Callable[[dict], dict]) -> list[dict]:
    """kubectl's metrics sorters: by name (namespace first), or largest cpu / memory first."""
    if sort_by == "cpu":
        return sorted(items, key=lambda m: (-_nanos(usage(m).get("cpu", "0"))))
    if sort_by == "memory":
        return sorted(items, key=lambda m: (-_value(usage(m).get("memory", "0"))))
    return sorted(items, key=lambda m: (m["metadata"].get("namespace", ""), m["metadata"]["name"]))


def _go_duration_str(seconds: float) -> str:
    s = int(seconds)
    if s % 60 == 0 and s >= 60:
        return f"{s // 3600}h{(s % 3600) // 60}m0s" if s >= 3600 else f"{s // 60}m0s"
    if s >= 60:
        return f"{s // 60}m{s % 60}s"
    return f"{s}s"


class Kubectl:
    """One kubectl invocation's world.

    Args:
        connect: returns the :class:`APIClient` (raises the connection error when there is none).
        loop: the simulated loop (waits).
        now: the current time as an aware ``datetime``.
        stdin: bytes of standard input (``-f -``).
        read_file, is_dir, list_dir: the machine's filesystem (relative paths from ``cwd``).
        kubeconfig: the parsed kubeconfig document (``config`` commands), ``kubeconfig_path`` its file,
            ``save_kubeconfig(text)`` writes it back (``use-context``).
        fetch: ``fetch(url) -> text`` for ``-f https://...``.
        pid: the process id klog prints.
    """

    def __init__(self, *, connect: Callable[[], Any], loop: Any, now: Callable[[], _dt.datetime],
                 stdin: bytes = b"", read_file: Callable[[str], str | None] = lambda p: None,
                 is_dir: Callable[[str], bool] = lambda p: False, list_dir: Callable[[str], list] = lambda p: [],
                 kubeconfig: dict | None = None, kubeconfig_path: str = "",
                 save_kubeconfig: Callable[[str], None] | None = None, fetch: Callable[[str], str] | None = None,
                 pid: int = 4242, server_hint: str = "localhost:8080"):
        self._connect = connect
        self._client = None
        self.loop = loop
        self.now = now
        self.stdin = stdin
        self.read_file, self.is_dir, self.list_dir = read_file, is_dir, list_dir
        self.kubeconfig = kubeconfig
        self.kubeconfig_path = kubeconfig_path
        self.save_kubeconfig = save_kubeconfig
        self.fetch = fetch
        self.pid = pid
        self.server_hint = server_hint
        #: the release of this kubectl binary (``kubectl version``, its User-Agent)
        self.client_version = CLIENT_VERSION
        self.out: list[str] = []
        self.err: list[str] = []
        self.write: Callable[[str], None] = self.out.append
        self.error: Callable[[str], None] = self.err.append
        self.namespace = "default"
        self.ns_explicit = False

    # -- plumbing ---------------------------------------------------------------------
    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = self._connect()
        return self._client

    def check_server(self) -> None:
        """Discovery: the first request of most commands (fails with the connection error)."""
        self.client.apiserver()

    def sleep(self, seconds: float) -> Any:
        return self.loop.timeout(seconds)

    def klog_time(self) -> str:
        t = self.now()
        return t.strftime("%m%d %H:%M:%S.") + f"{t.microsecond:06d}"

    def run(self, argv: list[str]) -> Generator[Any, Any, int]:
        """Run one command line; returns the exit code (output through ``write`` / ``error``)."""
        try:
            inv = parse_command_line(argv)
        except UsageError as e:
            self.error(e.message + "\n")
            return 1
        if inv.help:
            self.write(help_text(inv.path))
            return 0
        self.namespace = inv.values.get("namespace") or self._context_namespace() or "default"
        self.ns_explicit = bool(inv.values.get("namespace"))
        handler = getattr(self, "cmd_" + inv.path.replace(" ", "_").replace("-", "_"), None)
        if handler is None:
            self.error(f'error: "kubectl {inv.path}" is not supported by this simulation\n')
            return 1
        try:
            result = handler(inv)
            if isinstance(result, Generator):
                result = yield from result
            return 0 if result is None else int(result)
        except CommandError as e:
            self.error(e.message.rstrip("\n") + "\n")
            return e.exit_code
        except ConnectionRefused as e:
            addr = getattr(e, "address", self.server_hint)
            scheme = "http" if addr == "localhost:8080" else "https"
            dial = "127.0.0.1:8080" if addr == "localhost:8080" else addr
            for i in range(5):
                self.error(f"E{self.klog_time()} {self.pid:>7} memcache.go:265] couldn't get current server API group "
                           f'list: Get "{scheme}://{addr}/api?timeout=32s": dial tcp {dial}: connect: connection '
                           f"refused\n")
            self.error(str(e) + "\n")
            return 1
        except NetworkError as e:
            self.error(str(e) + "\n")
            return 1
        except UnknownResourceError as e:
            self.error(f"error: {getattr(e, 'summary', e.message)}\n")
            return 1
        except StatusError as e:
            self.error(_server_error(e) + "\n")
            return 1
        except ManifestError as e:
            self.error(e.message + "\n")
            return 1
        except UsageError as e:
            self.error(e.message + "\n")
            return 1
        except AivleError as e:
            msg = e.message
            self.error((msg if msg.startswith("error:") else f"error: {msg}") + "\n")
            return 1

    def _context_namespace(self) -> str:
        kc = self.kubeconfig or {}
        cur = kc.get("current-context")
        for c in kc.get("contexts") or []:
            if isinstance(c, dict) and c.get("name") == cur:
                return (c.get("context") or {}).get("namespace") or ""
        return ""

    # -- resource helpers -------------------------------------------------------------
    def ns_for(self, info: ResourceInfo, obj: dict | None = None) -> str | None:
        if not info.namespaced:
            return None
        if obj is not None:
            ons = (obj.get("metadata") or {}).get("namespace")
            if ons and self.ns_explicit and ons != self.namespace:
                raise _fail(f"the namespace from the provided object \"{ons}\" does not match the namespace "
                            f"\"{self.namespace}\". You must pass '--namespace={ons}' to perform this operation.")
            if ons:
                return ons
        return self.namespace

    def resolve_targets(self, args: list[str], *, allow_all: bool = False) -> list[tuple[ResourceInfo, str | None]]:
        """``TYPE NAME...``, ``TYPE/NAME...``, ``TYPE1,TYPE2`` as (resource, name or None) pairs."""
        if not args:
            return []
        out: list[tuple[ResourceInfo, str | None]] = []
        if all("/" in a for a in args):
            for a in args:
                t, _, name = a.partition("/")
                if not name:
                    raise _fail(f"arguments in resource/name form must have a single resource and name")
                out.append((resolve(t), name))
            return out
        if any("/" in a for a in args):
            raise _fail("there is no need to specify a resource type as a separate argument when passing arguments "
                        "in resource/name form (e.g. 'kubectl get resource/<resource_name>' instead of 'kubectl get "
                        "resource resource/<resource_name>'")
        types: list[ResourceInfo] = []
        for t in args[0].split(","):
            if t == "all" and allow_all:
                types.extend(r for r in RESOURCES if "all" in r.categories)
            elif t:
                types.append(resolve(t))
        if len(args) == 1:
            return [(r, None) for r in types]
        return [(r, n) for r in types for n in args[1:]]

    def output_objects(self, info: ResourceInfo | None, objs: list[tuple[ResourceInfo, dict]], inv: Invocation,
                       single: bool = False) -> None:
        """``-o yaml|json|name|jsonpath=|custom-columns=`` of fetched objects."""
        o = inv.values.get("output") or ""
        items = [obj for _, obj in objs]
        data: Any = items[0] if single and len(items) == 1 else {"apiVersion": "v1", "items": items, "kind": "List",
                                                                 "metadata": {"resourceVersion": ""}}
        if o == "yaml":
            self.write(P.to_yaml(data))
        elif o == "json":
            self.write(P.to_json(data))
        elif o == "name":
            for i, obj in objs:
                self.write(P.object_name(i, obj) + "\n")
        elif o.startswith(("jsonpath=", "jsonpath-as-json=")) or o.startswith("jsonpath"):
            _, _, tmpl = o.partition("=")
            if not tmpl:
                raise _fail("template format specified but no template given")
            try:
                self.write(P.jsonpath(tmpl, data))
            except P.JSONPathError as e:
                raise _fail(f"error parsing jsonpath {tmpl}, {e.message}") from None
        elif o.startswith("custom-columns="):
            self.write(P.custom_columns(o.partition("=")[2], items, bool(inv.values.get("no-headers"))))
        elif o.startswith(("go-template=", "template=")):
            from ...engine.format import Template
            self.write(Template(o.partition("=")[2]).execute(data))
        else:
            raise _fail(f'unable to match a printer suitable for the output format "{o}", allowed formats are: '
                        "custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,"
                        "jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml")

    # =================================================================================
    # get
    # =================================================================================
    def cmd_get(self, inv: Invocation) -> int:
        args = inv.args
        files = inv.values.get("filename") or []
        if not args and not files:
            raise CommandError('You must specify the type of resource to get. Use "kubectl api-resources" for a '
                               "complete list of supported resources.\n\nerror: Required resource not specified.\n"
                               'Use "kubectl explain <resource>" for a detailed description of that resource (e.g. '
                               "kubectl explain pods).\nSee 'kubectl get -h' for help and examples")
        o = inv.values.get("output") or ""
        all_ns = bool(inv.values.get("all-namespaces"))
        sel = inv.values.get("selector") or None
        fsel = inv.values.get("field-selector") or None
        self.check_server()
        errors: list[str] = []
        groups: list[tuple[ResourceInfo, list[dict], bool]] = []  # (info, objects, listed)
        if files:
            for m in self._manifests(inv):
                info = resolve_kind(m.obj.get("apiVersion", ""), m.obj.get("kind", ""))
                name = (m.obj.get("metadata") or {}).get("name")
                try:
                    obj = self.client.get(info.plural, name, self.ns_for(info, m.obj))
                    groups.append((info, [obj], False))
                except NotFoundError as e:
                    errors.append(_server_error(e))
        else:
            targets = self.resolve_targets(args, allow_all=True)
            listed_types: list[ResourceInfo] = []
            by_type: dict[str, tuple[ResourceInfo, list[dict]]] = {}
            for info, name in targets:
                ns = None if (all_ns or not info.namespaced) else self.namespace
                if name is None:
                    lst = self.client.list(info.plural, ns, label_selector=sel, field_selector=fsel)
                    groups.append((info, lst.get("items") or [], True))
                    listed_types.append(info)
                else:
                    try:
                        obj = self.client.get(info.plural, name, ns or (self.namespace if info.namespaced else None))
                    except NotFoundError as e:
                        if not inv.values.get("ignore-not-found"):
                            errors.append(_server_error(e))
                        continue
                    if info.plural in by_type:
                        by_type[info.plural][1].append(obj)
                    else:
                        by_type[info.plural] = (info, [obj])
                        groups.append((info, by_type[info.plural][1], False))
        sort_by = inv.values.get("sort-by") or ""
        if sort_by:
            expr = P.relaxed(sort_by)[1:-1]

            def key(o: dict) -> Any:
                vals = P._eval(expr, o, o)
                v = vals[0] if vals else ""
                return (0, v) if isinstance(v, (int, float)) else (1, str(v))
            groups = [(i, sorted(objs, key=key), l_) for i, objs, l_ in groups]
        total = sum(len(objs) for _, objs, _ in groups)
        if o and o != "wide":
            flat = [(i, obj) for i, objs, _ in groups for obj in objs]
            single = len(flat) == 1 and not any(listed for _, _, listed in groups)
            if flat or not errors:
                self.output_objects(None, flat, inv, single=single)
        elif total == 0 and not errors:
            if not inv.values.get("ignore-not-found") or any(listed for _, _, listed in groups):
                namespaced = any(i.namespaced for i, _, _ in groups)
                if all_ns or not namespaced:
                    self.error("No resources found\n")
                else:
                    self.error(f"No resources found in {self.namespace} namespace.\n")
        else:
            multi = len(groups) > 1 or bool(inv.values.get("show-kind")) or (
                args and args[0].split(",")[0] == "all")
            chunks = []
            for info, objs, _ in groups:
                if not objs:
                    continue
                chunks.append(self._table(info, objs, inv, all_ns and info.namespaced, multi))
            self.write("\n".join(chunks))
        if inv.values.get("watch") and not o:
            pass  # -w: the current state only (a real watch would block)
        for e in errors:
            self.error(e + "\n")
        return 1 if errors else 0

    def _table(self, info: ResourceInfo, objs: list[dict], inv: Invocation, with_ns: bool, with_kind: bool) -> str:
        wide = inv.values.get("output") == "wide"
        table = P.table_for(info.kind)
        now = self.now()
        headers = table.columns(wide)
        label_cols = [c for lc in inv.values.get("label-columns") or [] for c in lc.split(",") if c]
        show_labels = bool(inv.values.get("show-labels"))
        rows = []
        for obj in objs:
            meta = obj.get("metadata") or {}
            name = meta.get("name", "")
            if with_kind:
                name = f"{P.kind_name(info)}/{name}"
            cells = table.cells(obj, now, wide)
            row = ([meta.get("namespace", "")] if with_ns else []) + ([name] if info.kind != "Event" else []) + cells
            labels = meta.get("labels") or {}
            row += [labels.get(c, "") for c in label_cols]
            if show_labels:
                row.append(P.format_labels(labels))
            rows.append(row)
        hdr = (["NAMESPACE"] if with_ns else []) + (headers[1:] if info.kind == "Event" else headers)
        if info.kind == "Event":
            hdr = (["NAMESPACE"] if with_ns else []) + headers
        hdr += [c.rsplit("/", 1)[-1].upper() for c in label_cols]
        if show_labels:
            hdr.append("LABELS")
        return P.kubectl_table(rows, None if inv.values.get("no-headers") else hdr)

    def _manifests(self, inv: Invocation, validate: bool = True) -> list:
        def read(p: str) -> str | None:
            return self.read_file(p)
        return load_manifests(inv.values.get("filename") or [], read=read, is_dir=self.is_dir, list_dir=self.list_dir,
                              stdin=self.stdin, fetch=self.fetch, recursive=bool(inv.values.get("recursive")),
                              validate=validate and str(inv.values.get("validate", "strict")).lower()
                              not in ("false", "ignore"))

    # =================================================================================
    # describe
    # =================================================================================
    def cmd_describe(self, inv: Invocation) -> int:
        from .describe import describe

        if not inv.args and not inv.values.get("filename"):
            raise CommandError('You must specify the type of resource to describe. Use "kubectl api-resources" for a '
                               "complete list of supported resources.\n\nerror: Required resource not specified.\n"
                               "See 'kubectl describe -h' for help and examples")
        self.check_server()
        all_ns = bool(inv.values.get("all-namespaces"))
        sel = inv.values.get("selector") or None
        targets: list[tuple[ResourceInfo, dict]] = []
        errors = []
        if inv.values.get("filename"):
            for m in self._manifests(inv):
                info = resolve_kind(m.obj.get("apiVersion", ""), m.obj.get("kind", ""))
                try:
                    targets.append((info, self.client.get(info.plural, m.obj["metadata"]["name"],
                                                          self.ns_for(info, m.obj))))
                except NotFoundError as e:
                    errors.append(_server_error(e))
        else:
            for info, name in self.resolve_targets(inv.args):
                ns = None if (all_ns or not info.namespaced) else self.namespace
                if name is None:
                    items = self.client.list(info.plural, ns, label_selector=sel).get("items") or []
                    targets.extend((info, o) for o in items)
                    continue
                try:
                    targets.append((info, self.client.get(info.plural, name, ns or self.namespace)))
                except NotFoundError as e:
                    # describe accepts a name prefix
                    items = self.client.list(info.plural, ns).get("items") or []
                    hits = [o for o in items if o["metadata"]["name"].startswith(name)]
                    if hits:
                        targets.extend((info, o) for o in hits)
                    else:
                        errors.append(_server_error(e))
        if not targets and not errors:
            namespaced = not inv.args or any(i.namespaced for i, _ in self.resolve_targets(inv.args))
            if all_ns or not namespaced:
                self.error("No resources found\n")
            else:
                self.error(f"No resources found in {self.namespace} namespace.\n")
        texts = []
        for info, obj in targets:
            events = None
            if inv.values.get("show-events", True):
                events = self._events_for(obj)
            texts.append(describe(info, obj, events, self.now(), self))
        self.write("\n\n".join(t.rstrip("\n") + "\n" for t in texts) if len(texts) > 1 else "".join(texts))
        for e in errors:
            self.error(e + "\n")
        return 1 if errors else 0

    def _events_for(self, obj: dict) -> list[dict]:
        meta = obj.get("metadata") or {}
        try:
            evs = self.client.list("events", meta.get("namespace") or "default").get("items") or []
        except StatusError:
            return []
        uid = meta.get("uid")
        out = [e for e in evs if (e.get("involvedObject") or {}).get("uid") == uid or
               ((e.get("involvedObject") or {}).get("name") == meta.get("name") and
                (e.get("involvedObject") or {}).get("kind") == obj.get("kind"))]
        return sorted(out, key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")

    # =================================================================================
    # create / apply / replace
    # =================================================================================
    def _dry(self, inv: Invocation) -> str:
        d = str(inv.values.get("dry-run") or "none")
        if d in ("true",):
            d = "client"
        if d in ("false",):
            d = "none"
        if d not in ("none", "client", "server"):
            raise _fail(f'Invalid dry-run value ({d}). Must be "none", "server", or "client".')
        return d

    @staticmethod
    def _suffix(dry: str) -> str:
        return {"client": " (dry run)", "server": " (server dry run)"}.get(dry, "")

    def cmd_create(self, inv: Invocation) -> Generator[Any, Any, int] | int:
        if not inv.values.get("filename"):
            if inv.args:
                raise CommandError(f'error: unknown command "{inv.args[0]}" for "kubectl create"')
            raise CommandError("error: must specify one of -f and -k")
        dry = self._dry(inv)
        manifests = self._manifests(inv)
        self.check_server()
        failed = False
        out_objs = []
        for m in manifests:
            obj = copy.deepcopy(m.obj)
            try:
                info = resolve_kind(obj.get("apiVersion", ""), obj.get("kind", ""))
            except NoKindMatchError as e:
                self.error(self._mapping_error(m, e))
                failed = True
                continue
            if inv.values.get("save-config"):
                obj.setdefault("metadata", {}).setdefault("annotations", {})[LAST_APPLIED] = last_applied_json(obj)
            ns = self.ns_for(info, obj)
            try:
                created = obj if dry == "client" else self.client.create(obj, namespace=ns, dry_run=dry == "server")
            except StatusError as e:
                self.error(_server_error(e, "creating", m.source) + "\n")
                failed = True
                continue
            out_objs.append((info, created))
            if not inv.values.get("output"):
                self.write(f"{P.object_name(info, created)} created{self._suffix(dry)}\n")
        if inv.values.get("output") and out_objs:
            self.output_objects(None, out_objs, inv, single=len(out_objs) == 1)
        return 1 if failed else 0

    def _mapping_error(self, m: Any, e: NoKindMatchError) -> str:
        meta = m.obj.get("metadata") or {}
        return (f'error: resource mapping not found for name: "{meta.get("name", "")}" namespace: '
                f'"{meta.get("namespace", "")}" from "{m.source}": {e.summary}\nensure CRDs are installed first\n')

    def _generated(self, inv: Invocation, info: ResourceInfo, obj: dict, verb: str = "created") -> int:
        dry = self._dry(inv)
        if dry != "client":
            self.check_server()
            ns = self.ns_for(info, obj)
            try:
                obj = self.client.create(obj, namespace=ns, dry_run=dry == "server")
            except AlreadyExistsError as e:
                raise _fail(f"failed to create {info.singular}: {e}") from None
        if inv.values.get("output"):
            self.output_objects(info, [(info, obj)], inv, single=True)
        else:
            self.write(f"{P.object_name(info, obj)} {verb}{self._suffix(dry)}\n")
        return 0

    def cmd_create_deployment(self, inv: Invocation) -> int:
        if len(inv.args) != 1:
            raise _fail("exactly one NAME is required, got " + str(len(inv.args)) +
                        "\nSee 'kubectl create deployment -h' for help and examples")
        name = inv.args[0]
        images = [i for i in (inv.values.get("image") or "").split(",") if i] if inv.values.get("image") else []
        if not images:
            raise _fail('required flag(s) "image" not set')
        containers = []
        for img in images:
            base = img.split("@")[0].rsplit("/", 1)[-1].split(":")[0]
            c: dict = {"image": img, "name": re.sub(r"[^a-z0-9-]", "-", base.lower()), "resources": {}}
            containers.append(c)
        port = inv.values.get("port", -1)
        if port is not None and port >= 0:
            containers[0]["ports"] = [{"containerPort": port}]
        labels = {"app": name}
        obj = {"apiVersion": "apps/v1", "kind": "Deployment",
               "metadata": {"creationTimestamp": None, "labels": labels, "name": name},
               "spec": {"replicas": inv.values.get("replicas", 1), "selector": {"matchLabels": dict(labels)},
                        "strategy": {}, "template": {"metadata": {"creationTimestamp": None, "labels": dict(labels)},
                                                     "spec": {"containers": containers}}},
               "status": {}}
        if self._dry(inv) != "client":
            obj["metadata"]["namespace"] = self.namespace
        return self._generated(inv, resolve("deployments"), obj)

    cmd_create_deploy = cmd_create_deployment

    def cmd_create_namespace(self, inv: Invocation) -> int:
        if len(inv.args) != 1:
            raise _fail("exactly one NAME is required, got " + str(len(inv.args)) +
                        "\nSee 'kubectl create namespace -h' for help and examples")
        obj = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"creationTimestamp": None, "name": inv.args[0]},
               "spec": {}, "status": {}}
        return self._generated(inv, resolve("namespaces"), obj)

    cmd_create_ns = cmd_create_namespace

    def _literals(self, inv: Invocation) -> dict[str, str]:
        data: dict[str, str] = {}
        for lit in inv.values.get("from-literal") or []:
            k, eq, v = lit.partition("=")
            if not eq or not k:
                raise _fail(f"invalid literal source {lit}, expected key=value")
            if k in data:
                raise _fail(f'cannot add key "{k}", another key by that name already exists in Data for '
                            f'"{inv.args[0] if inv.args else ""}"')
            data[k] = v
        for f in inv.values.get("from-file") or []:
            key, eq, path = f.partition("=")
            if not eq:
                path, key = key, key.rsplit("/", 1)[-1]
            text = self.read_file(path)
            if text is None:
                raise _fail(f"error reading {path}: no such file or directory")
            data[key] = text
        return data

    def cmd_create_configmap(self, inv: Invocation) -> int:
        if len(inv.args) != 1:
            raise _fail("exactly one NAME is required, got " + str(len(inv.args)))
        obj = {"apiVersion": "v1", "data": self._literals(inv), "kind": "ConfigMap",
               "metadata": {"creationTimestamp": None, "name": inv.args[0]}}
        return self._generated(inv, resolve("configmaps"), obj)

    cmd_create_cm = cmd_create_configmap

    def cmd_create_secret(self, inv: Invocation) -> int:
        if not inv.args or inv.args[0] not in ("generic", "tls", "docker-registry"):
            raise _fail("unknown command \"" + (inv.args[0] if inv.args else "") + "\" for \"kubectl create secret\"")
        if len(inv.args) != 2:
            raise _fail("exactly one NAME is required, got " + str(len(inv.args) - 1))
        data = {k: base64.b64encode(v.encode()).decode() for k, v in self._literals(inv).items()}
        obj = {"apiVersion": "v1", "data": data, "kind": "Secret",
               "metadata": {"creationTimestamp": None, "name": inv.args[1]},
               "type": inv.values.get("type") or "Opaque"}
        return self._generated(inv, resolve("secrets"), obj)

    def cmd_create_service(self, inv: Invocation) -> int:
        if len(inv.args) != 2 or inv.args[0] not in ("clusterip", "nodeport", "loadbalancer"):
            raise _fail("kubectl create service (clusterip|nodeport|loadbalancer) NAME --tcp=port:targetPort")
        kind, name = inv.args
        ports = []
        for spec in inv.values.get("tcp") or []:
            for part in spec.split(","):
                p, _, t = part.partition(":")
                ports.append({"name": f"{p}-{t or p}", "port": int(p), "protocol": "TCP",
                              "targetPort": int(t or p)})
        obj = {"apiVersion": "v1", "kind": "Service",
               "metadata": {"creationTimestamp": None, "labels": {"app": name}, "name": name},
               "spec": {"ports": ports, "selector": {"app": name},
                        "type": {"clusterip": "ClusterIP", "nodeport": "NodePort",
                                 "loadbalancer": "LoadBalancer"}[kind]}, "status": {"loadBalancer": {}}}
        return self._generated(inv, resolve("services"), obj)

    cmd_create_svc = cmd_create_service

    def cmd_create_job(self, inv: Invocation) -> int:
        if len(inv.args) < 1 or not inv.values.get("image"):
            raise _fail('required flag(s) "image" not set' if inv.args else "NAME is required")
        name = inv.args[0]
        c: dict = {"image": inv.values["image"], "name": name, "resources": {}}
        if inv.dash_at >= 0:
            c["command"] = inv.args[inv.dash_at:]
        obj = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"creationTimestamp": None, "name": name},
               "spec": {"template": {"metadata": {"creationTimestamp": None},
                                     "spec": {"containers": [c], "restartPolicy": "Never"}}}, "status": {}}
        return self._generated(inv, resolve("jobs"), obj)

    def cmd_run(self, inv: Invocation) -> int:
        if not inv.args or inv.dash_at == 0:
            raise _fail("NAME is required for run\nSee 'kubectl run -h' for help and examples")
        name = inv.args[0]
        image = inv.values.get("image")
        if not image:
            raise _fail('required flag(s) "image" not set')
        extra = inv.args[1:]
        labels = {"run": name}
        for kv in (inv.values.get("labels") or "").split(","):
            if kv:
                k, _, v = kv.partition("=")
                labels = labels if "run" not in labels or inv.values.get("labels") is None else {}
                labels[k] = v
        if inv.values.get("labels"):
            labels = dict(kv.partition("=")[::2] for kv in inv.values["labels"].split(",") if kv)
        c: dict = {"image": image, "name": name, "resources": {}}
        if extra:
            c["command" if inv.values.get("command") else "args"] = extra
        if inv.values.get("port"):
            try:
                c["ports"] = [{"containerPort": int(inv.values["port"])}]
            except ValueError:
                raise _fail(f'strconv.Atoi: parsing "{inv.values["port"]}": invalid syntax') from None
        env = []
        for e in inv.values.get("env") or []:
            k, _, v = e.partition("=")
            env.append({"name": k, "value": v})
        if env:
            c["env"] = env
        if inv.values.get("image-pull-policy"):
            c["imagePullPolicy"] = inv.values["image-pull-policy"]
        restart = inv.values.get("restart") or "Always"
        if restart not in ("Always", "OnFailure", "Never"):
            raise _fail(f"invalid restart policy: {restart}")
        spec: dict = {"containers": [c], "dnsPolicy": "ClusterFirst", "restartPolicy": restart}
        obj = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"creationTimestamp": None, "labels": labels, "name": name},
               "spec": spec, "status": {}}
        if inv.values.get("annotations"):
            obj["metadata"]["annotations"] = dict(a.partition("=")[::2] for a in inv.values["annotations"])
        return self._generated(inv, resolve("pods"), obj)

    def cmd_expose(self, inv: Invocation) -> int:
        targets = self.resolve_targets(inv.args) if inv.args else []
        if not targets or targets[0][1] is None:
            raise _fail("You must provide one or more resources by argument or filename.\nExample resource "
                        "specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n   '<resource> "
                        "<name>'\n   '<resource>'")
        self.check_server()
        info, name = targets[0]
        if info.kind not in ("Pod", "Service", "Deployment", "ReplicaSet", "StatefulSet"):
            raise _fail(f"cannot expose a {info.kind}.{info.group or ''}".rstrip("."))
        obj = self.client.get(info.plural, name, self.namespace)
        spec = obj.get("spec") or {}
        if info.kind == "Pod":
            selector = dict((obj.get("metadata") or {}).get("labels") or {})
            pod_spec = spec
        elif info.kind == "Service":
            selector = dict(spec.get("selector") or {})
            pod_spec = {}
        else:
            ml = (spec.get("selector") or {})
            if ml.get("matchExpressions"):
                raise _fail("couldn't convert expressions - \"" + P.format_selector(ml) +
                            "\" to map: the expressions cannot be converted")
            selector = dict(ml.get("matchLabels") or {})
            pod_spec = _tmpl_spec(obj)
        if inv.values.get("selector"):
            selector = dict(kv.partition("=")[::2] for kv in inv.values["selector"].split(","))
        if not selector:
            raise _fail(f"couldn't retrieve selectors via --selector flag or introspection: the {info.kind} has no "
                        "labels")
        port = inv.values.get("port")
        cports = [p for c in pod_spec.get("containers") or [] for p in c.get("ports") or []]
        proto = inv.values.get("protocol") or ""
        ports = []
        if port:
            for i, p in enumerate(str(port).split(",")):
                ports.append({"port": int(p), "protocol": proto or "TCP"})
        elif info.kind == "Service":
            ports = [{"port": p.get("port"), "protocol": p.get("protocol", "TCP"), "targetPort": p.get("targetPort")}
                     for p in spec.get("ports") or []]
        elif cports:
            for p in cports:
                ports.append({"port": p.get("containerPort"), "protocol": proto or p.get("protocol", "TCP")})
        else:
            raise _fail("couldn't find port via --port flag or introspection\nSee 'kubectl expose -h' for help and "
                        "examples")
        tp = inv.values.get("target-port")
        for p in ports:
            if tp:
                p["targetPort"] = int(tp) if str(tp).isdigit() else tp
            elif "targetPort" not in p:
                p["targetPort"] = p["port"]
        if len(ports) > 1:
            for i, p in enumerate(ports):
                p["name"] = f"port-{i + 1}"
        sname = inv.values.get("name") or name
        labels = dict((obj.get("metadata") or {}).get("labels") or {})
        if inv.values.get("labels"):
            labels = dict(kv.partition("=")[::2] for kv in inv.values["labels"].split(","))
        svc: dict = {"apiVersion": "v1", "kind": "Service",
                     "metadata": {"creationTimestamp": None, "name": sname},
                     "spec": {"ports": ports, "selector": selector}, "status": {"loadBalancer": {}}}
        if labels:
            svc["metadata"]["labels"] = labels
        if inv.values.get("type"):
            svc["spec"]["type"] = inv.values["type"]
        if inv.values.get("cluster-ip"):
            svc["spec"]["clusterIP"] = inv.values["cluster-ip"]
        dry = self._dry(inv)
        svc_info = resolve("services")
        if dry != "client":
            try:
                svc = self.client.create(svc, namespace=self.namespace, dry_run=dry == "server")
            except AlreadyExistsError as e:
                raise CommandError(_server_error(e)) from None
        if inv.values.get("output"):
            self.output_objects(svc_info, [(svc_info, svc)], inv, single=True)
        else:
            self.write(f"service/{sname} exposed{self._suffix(dry)}\n")
        return 0

    def cmd_apply(self, inv: Invocation) -> int:
        if not inv.values.get("filename"):
            raise _fail("must specify one of -f and -k")
        dry = self._dry(inv)
        manifests = self._manifests(inv)
        self.check_server()
        from ..apiserver.schema import Schemas

        schemas = Schemas.shared()
        server_side = bool(inv.values.get("server-side"))
        failed = False
        printed = []
        for m in manifests:
            obj = copy.deepcopy(m.obj)
            try:
                info = resolve_kind(obj.get("apiVersion", ""), obj.get("kind", ""))
            except NoKindMatchError as e:
                self.error(self._mapping_error(m, e))
                failed = True
                continue
            meta = obj.setdefault("metadata", {})
            name = meta.get("name")
            if not name:
                self.error(f'error: error when retrieving current configuration of:\nResource: "{info.group_resource}'
                           f'", GroupVersionKind: "{info.api_version}, Kind={info.kind}"\nName: "", Namespace: '
                           f'"{self.namespace if info.namespaced else ""}"\nfrom server for: "{m.source}": resource '
                           f"name may not be empty\n")
                failed = True
                continue
            ns = self.ns_for(info, obj)
            try:
                if server_side:
                    result = self.client.patch(info.plural, name, obj, namespace=ns, patch_type="apply",
                                               field_manager=inv.values.get("field-manager") if
                                               "field-manager" in inv.changed else "kubectl",
                                               force=bool(inv.values.get("force-conflicts")),
                                               dry_run=dry != "none")
                    verb = "serverside-applied"
                else:
                    result, verb = self._apply_one(info, obj, ns, dry, schemas)
            except StatusError as e:
                action = "creating" if getattr(e, "_creating", False) else "patching"
                if isinstance(e, InvalidError):
                    self.error(str(e) + "\n")
                elif isinstance(e, NotFoundError) and action == "creating":
                    self.error(_server_error(e, "creating", m.source) + "\n")
                else:
                    self.error(_server_error(e, action if action == "creating" else "patching", m.source) + "\n")
                failed = True
                continue
            printed.append((info, result))
            if not inv.values.get("output"):
                self.write(f"{P.object_name(info, result)} {verb}{self._suffix(dry)}\n")
        if inv.values.get("output") and printed:
            self.output_objects(None, printed, inv, single=len(printed) == 1)
        return 1 if failed else 0

    def _apply_one(self, info: ResourceInfo, obj: dict, ns: str | None, dry: str, schemas: Any) -> tuple[dict, str]:
        from ..apiserver.patch import strategic_merge

        name = obj["metadata"]["name"]
        try:
            live = self.client.get(info.plural, name, ns)
        except NotFoundError:
            live = None
        annotated = copy.deepcopy(obj)
        annotated["metadata"].setdefault("annotations", {})[LAST_APPLIED] = last_applied_json(obj)
        if live is None:
            if dry == "client":
                return annotated, "created"
            try:
                return self.client.create(annotated, namespace=ns, dry_run=dry == "server"), "created"
            except StatusError as e:
                e._creating = True  # type: ignore[attr-defined]
                raise
        original_text = ((live.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
        try:
            original = json.loads(original_text) if original_text else {}
        except ValueError:
            original = {}
        patch = three_way_patch(original, annotated, info.kind, schemas)
        merged = strategic_merge(live, patch, info.kind, schemas)
        if merged == live:
            return live, "unchanged"
        if dry == "client":
            return merged, "configured"
        result = self.client.patch(info.plural, name, patch, namespace=ns, patch_type="strategic",
                                   dry_run=dry == "server")
        if result.get("metadata", {}).get("resourceVersion") == live["metadata"].get("resourceVersion") and \
                dry == "none":
            return result, "unchanged"
        return result, "configured"

    def cmd_apply_view_last_applied(self, inv: Invocation) -> int:
        self.check_server()
        for info, name in self.resolve_targets(inv.args):
            obj = self.client.get(info.plural, name, self.ns_for(info))
            text = ((obj.get("metadata") or {}).get("annotations") or {}).get(LAST_APPLIED)
            if not text:
                raise _fail(f"no last-applied-configuration annotation found on resource: {name}")
            data = json.loads(text)
            self.write(P.to_json(data) if inv.values.get("output") == "json" else P.to_yaml(data))
        return 0

    def cmd_replace(self, inv: Invocation) -> int:
        if not inv.values.get("filename"):
            raise _fail("must specify --filename to replace")
        manifests = self._manifests(inv)
        self.check_server()
        dry = self._dry(inv)
        failed = False
        for m in manifests:
            obj = copy.deepcopy(m.obj)
            info = resolve_kind(obj.get("apiVersion", ""), obj.get("kind", ""))
            ns = self.ns_for(info, obj)
            try:
                if inv.values.get("force"):
                    try:
                        self.client.delete(info.plural, obj["metadata"]["name"], ns, grace_period_seconds=0,
                                           force=True)
                        self.write(f"{P.object_name(info, obj)} deleted\n")
                    except NotFoundError:
                        pass
                    res = self.client.create(obj, namespace=ns, dry_run=dry == "server")
                else:
                    live = self.client.get(info.plural, obj["metadata"]["name"], ns)
                    obj["metadata"]["resourceVersion"] = live["metadata"]["resourceVersion"]
                    res = self.client.update(obj, namespace=ns, dry_run=dry == "server")
            except StatusError as e:
                self.error(_server_error(e, "replacing", m.source) + "\n")
                failed = True
                continue
            self.write(f"{P.object_name(info, res)} replaced{self._suffix(dry)}\n")
        return 1 if failed else 0

    # =================================================================================
    # delete
    # =================================================================================
    def cmd_delete(self, inv: Invocation) -> Generator[Any, Any, int]:
        v = inv.values
        files = v.get("filename") or []
        sel = v.get("selector") or None
        if not inv.args and not files:
            raise CommandError("error: You must provide one or more resources by argument or filename.\nExample "
                               "resource specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n"
                               "   '<resource> <name>'\n   '<resource>'")
        grace = v.get("grace-period", -1)
        force = bool(v.get("force"))
        if v.get("now"):
            if "grace-period" in inv.changed and grace != 1:
                raise _fail("--now and --grace-period cannot be specified together")
            grace = 1
        if force and grace < 0:
            grace = 0
        if force and grace == 0:
            self.error("Warning: Immediate deletion does not wait for confirmation that the running resource has "
                       "been terminated. The resource may continue to run on the cluster indefinitely.\n")
        dry = self._dry(inv)
        targets: list[tuple[ResourceInfo, str, str | None]] = []
        errors: list[str] = []
        if files:
            manifests = self._manifests(inv)
            self.check_server()
            for m in manifests:
                info = resolve_kind(m.obj.get("apiVersion", ""), m.obj.get("kind", ""))
                targets.append((info, m.obj["metadata"]["name"], self.ns_for(info, m.obj)))
        else:
            self.check_server()
            pairs = self.resolve_targets(inv.args)
            names_given = any(n is not None for _, n in pairs)
            if not names_given and not sel and not v.get("all") and not v.get("field-selector"):
                raise _fail("resource(s) were provided, but no name was specified")
            for info, name in pairs:
                if name is None:
                    ns = None if (v.get("all-namespaces") or not info.namespaced) else self.namespace
                    items = self.client.list(info.plural, ns, label_selector=sel,
                                             field_selector=v.get("field-selector") or None).get("items") or []
                    for o in items:
                        targets.append((info, o["metadata"]["name"], o["metadata"].get("namespace")))
                else:
                    targets.append((info, name, self.namespace if info.namespaced else None))
        if not targets and not errors:
            if not inv.args or all(True for _ in inv.args):
                self.error("No resources found\n")
            return 0
        deleted: list[tuple[ResourceInfo, str, str | None, str]] = []
        for info, name, ns in targets:
            try:
                obj = self.client.delete(info.plural, name, ns, grace_period_seconds=grace if grace >= 0 else None,
                                         force=force and grace == 0, dry_run=dry == "server",
                                         propagation_policy={"background": "Background", "foreground": "Foreground",
                                                             "orphan": "Orphan"}.get(v.get("cascade") or
                                                                                     "background")) \
                    if dry != "client" else {}
            except NotFoundError as e:
                if not v.get("ignore-not-found"):
                    errors.append(_server_error(e))
                continue
            uid = (obj or {}).get("metadata", {}).get("uid", "")
            deleted.append((info, name, ns, uid))
            self.write(f'{P.kind_name(info)} "{name}" deleted{self._suffix(dry)}\n')
        if v.get("wait", True) and dry == "none" and deleted:
            timeout = v.get("timeout") or WAIT_BOUND
            waited = 0.0
            while waited < timeout:
                remaining = [d for d in deleted if self._still_there(*d)]
                if not remaining:
                    break
                yield self.sleep(1)
                waited += 1
        for e in errors:
            self.error(e + "\n")
        return 1 if errors else 0

    def _still_there(self, info: ResourceInfo, name: str, ns: str | None, uid: str) -> bool:
        try:
            obj = self.client.get(info.plural, name, ns)
        except NotFoundError:
            return False
        except (StatusError, NetworkError):
            return False
        return not uid or obj.get("metadata", {}).get("uid") == uid

    # =================================================================================
    # logs / exec
    # =================================================================================
    def _pod_for(self, arg: str) -> tuple[str, dict]:
        if "/" in arg:
            t, _, name = arg.partition("/")
            info = resolve(t)
            if info.kind == "Pod":
                return name, self.client.get("pods", name, self.namespace)
            obj = self.client.get(info.plural, name, self.namespace)
            sel = (obj.get("spec") or {}).get("selector") or {}
            if info.kind == "Service":
                sel_s = ",".join(f"{k}={v}" for k, v in sorted(sel.items()))
            else:
                sel_s = P.format_selector(sel)
            pods = self.client.list("pods", self.namespace, label_selector=sel_s).get("items") or []
            if not pods:
                raise _fail(f"timed out waiting for the condition")
            pods.sort(key=lambda p: (p.get("status", {}).get("phase") != "Running", p["metadata"]["name"]))
            if len(pods) > 1:
                self.error(f"Found {len(pods)} pods, using pod/{pods[0]['metadata']['name']}\n")
            return pods[0]["metadata"]["name"], pods[0]
        return arg, self.client.get("pods", arg, self.namespace)

    def cmd_logs(self, inv: Invocation) -> int:
        if not inv.args:
            raise CommandError("error: expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\nPOD or TYPE/NAME is "
                               "a required argument for the logs command\nSee 'kubectl logs -h' for help and examples")
        if len(inv.args) > 2:
            raise CommandError("error: expected 'logs [-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]'.\nPOD or TYPE/NAME "
                               "is a required argument for the logs command\nSee 'kubectl logs -h' for help and "
                               "examples")
        self.check_server()
        name, pod = self._pod_for(inv.args[0])
        container = inv.values.get("container") or (inv.args[1] if len(inv.args) > 1 else None)
        containers = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]
        if inv.values.get("all-containers"):
            chosen = containers
        else:
            if container is None and len(containers) > 1:
                default = ((pod.get("metadata") or {}).get("annotations") or {}).get(
                    "kubectl.kubernetes.io/default-container") or containers[0]
                self.error(f'Defaulted container "{default}" out of: {", ".join(containers)}\n')
                container = default
            chosen = [container]
        opts: dict = {}
        if inv.values.get("follow"):
            opts["follow"] = True
        if inv.values.get("previous"):
            opts["previous"] = True
        if inv.values.get("tail", -1) >= 0:
            opts["tail_lines"] = inv.values["tail"]
        if inv.values.get("timestamps"):
            opts["timestamps"] = True
        for c in chosen:
            text = self.client.logs(name, self.namespace, container=c, **opts)
            self.write(_text(text))
        return 0

    def cmd_exec(self, inv: Invocation) -> Generator[Any, Any, int]:
        args = inv.args
        if not args:
            raise CommandError("error: pod, type/name or --filename must be specified\nSee 'kubectl exec -h' for help "
                               "and examples")
        if inv.dash_at < 0:
            if len(args) < 2:
                raise CommandError("error: you must specify at least one command for the container\nSee 'kubectl "
                                   "exec -h' for help and examples")
            self.error("kubectl exec [POD] [COMMAND] is DEPRECATED and will be removed in a future version. Use "
                       "kubectl exec [POD] -- [COMMAND] instead.\n")
            pod_arg, command = args[0], args[1:]
        else:
            if inv.dash_at != 1:
                raise CommandError("error: exactly one pod, type/name or --filename must be specified\nSee 'kubectl "
                                   "exec -h' for help and examples" if inv.dash_at > 1 else
                                   "error: pod, type/name or --filename must be specified")
            pod_arg, command = args[0], args[1:]
            if not command:
                raise CommandError("error: you must specify at least one command for the container")
        self.check_server()
        name, pod = self._pod_for(pod_arg)
        phase = (pod.get("status") or {}).get("phase")
        if phase in ("Succeeded", "Failed"):
            raise _fail(f"cannot exec into a container in a completed pod; current phase is {phase}")
        container = inv.values.get("container") or None
        containers = [c.get("name") for c in (pod.get("spec") or {}).get("containers") or []]
        if container is None and len(containers) > 1:
            default = ((pod.get("metadata") or {}).get("annotations") or {}).get(
                "kubectl.kubernetes.io/default-container") or containers[0]
            self.error(f'Defaulted container "{default}" out of: {", ".join(containers)}\n')
            container = default
        stdin = self.stdin if inv.values.get("stdin") else None
        result = self.client.exec(name, self.namespace, command, container=container, stdin=stdin,
                                  tty=bool(inv.values.get("tty")))
        if isinstance(result, Event):  # the command takes time: kubectl waits on the stream
            result = yield result
        code, out, err = _exec_result(result)
        self.write(out)
        self.error(err)
        if code:
            self.error(f"command terminated with exit code {code}\n")
        return code

    # =================================================================================
    # scale / rollout / set image
    # =================================================================================
    def _one(self, inv: Invocation, verb: str) -> list[tuple[ResourceInfo, dict]]:
        if inv.values.get("filename"):
            out = []
            for m in self._manifests(inv):
                info = resolve_kind(m.obj.get("apiVersion", ""), m.obj.get("kind", ""))
                out.append((info, self.client.get(info.plural, m.obj["metadata"]["name"], self.ns_for(info, m.obj))))
            return out
        pairs = self.resolve_targets(inv.args)
        out = []
        for info, name in pairs:
            if name is None:
                sel = inv.values.get("selector") or None
                if not sel and not inv.values.get("all"):
                    raise _fail("resource(s) were provided, but no name was specified")
                out.extend((info, o) for o in self.client.list(info.plural, self.ns_for(info),
                                                               label_selector=sel).get("items") or [])
            else:
                out.append((info, self.client.get(info.plural, name, self.ns_for(info))))
        return out

    def cmd_scale(self, inv: Invocation) -> int:
        replicas = inv.values.get("replicas", -1)
        if "replicas" not in inv.changed:
            raise _fail('required flag(s) "replicas" not set')
        if replicas < 0:
            raise _fail("The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0")
        if not inv.args and not inv.values.get("filename"):
            raise _fail("You must provide one or more resources by argument or filename.\nExample resource "
                        "specifications include:\n   '-f rsrc.yaml'\n   '--filename=rsrc.json'\n   '<resource> "
                        "<name>'\n   '<resource>'")
        self.check_server()
        dry = self._dry(inv)
        for info, obj in self._one(inv, "scale"):
            if "scale" not in info.subresources:
                raise _fail(f'no scaler has been implemented for {{"{info.group}" "{info.kind}"}}')
            cur = inv.values.get("current-replicas", -1)
            if cur >= 0 and (obj.get("spec") or {}).get("replicas") != cur:
                raise _fail(f"Expected replicas to be {cur}, was {(obj.get('spec') or {}).get('replicas')}")
            if dry != "client":
                self.client.patch(info.plural, obj["metadata"]["name"], {"spec": {"replicas": replicas}},
                                  namespace=obj["metadata"].get("namespace"), patch_type="merge",
                                  dry_run=dry == "server")
            self.write(f"{P.object_name(info, obj)} scaled{self._suffix(dry)}\n")
        return 0

    def _rollout_targets(self, inv: Invocation, allowed: tuple[str, ...]) -> list[tuple[ResourceInfo, dict]]:
        if not inv.args and not inv.values.get("filename"):
            raise _fail("required resource not specified")
        self.check_server()
        out = self._one(inv, "rollout")
        for info, obj in out:
            if info.kind not in allowed:
                raise _fail(f'no {inv.path.split()[-1]} has been implemented for {{"{info.group}" "{info.kind}"}}'
                            if inv.path != "rollout status" else
                            f'no status viewer has been implemented for {info.kind}')
        return out

    def cmd_rollout_status(self, inv: Invocation) -> Generator[Any, Any, int]:
        targets = self._rollout_targets(inv, ("Deployment", "DaemonSet", "StatefulSet"))
        timeout = inv.values.get("timeout") or WAIT_BOUND
        for info, obj in targets:
            name, ns = obj["metadata"]["name"], obj["metadata"].get("namespace")
            waited = 0.0
            last = None
            while True:
                obj = self.client.get(info.plural, name, ns)
                msg, done = _rollout_status(info.kind, obj)
                if msg != last:
                    self.write(msg)
                    last = msg
                if done:
                    break
                if not inv.values.get("watch", True):
                    break
                if waited >= timeout:
                    raise _fail("timed out waiting for the condition")
                yield self.sleep(1)
                waited += 1
        return 0

    def _owned_rs(self, dep: dict) -> list[dict]:
        meta = dep["metadata"]
        items = self.client.list("replicasets", meta.get("namespace")).get("items") or []
        return [rs for rs in items if any(o.get("uid") == meta.get("uid") and o.get("kind") == "Deployment"
                                          for o in (rs.get("metadata") or {}).get("ownerReferences") or [])]

    def cmd_rollout_history(self, inv: Invocation) -> int:
        targets = self._rollout_targets(inv, ("Deployment", "DaemonSet", "StatefulSet"))
        for info, obj in targets:
            rss = self._owned_rs(obj) if info.kind == "Deployment" else []
            revs = []
            for rs in rss:
                ann = rs["metadata"].get("annotations") or {}
                r = ann.get("deployment.kubernetes.io/revision")
                if r is not None:
                    revs.append((int(r), ann.get("kubernetes.io/change-cause") or "<none>", rs))
            revs.sort(key=lambda x: x[0])
            want = inv.values.get("revision") or 0
            if want:
                hit = [r for r in revs if r[0] == want]
                if not hit:
                    raise _fail(f"unable to find the specified revision")
                tmpl = hit[0][2]["spec"]["template"]
                self.write(f"{P.object_name(info, obj)} with revision #{want}\n" + _template_text(tmpl))
                continue
            self.write(f"{P.object_name(info, obj)} \n")
            from ...engine.format import tabwriter
            body = "REVISION\tCHANGE-CAUSE\n" + "".join(f"{r}\t{c}\n" for r, c, _ in revs)
            self.write(tabwriter(body, minwidth=0, padding=2) + "\n")
        return 0

    def cmd_rollout_undo(self, inv: Invocation) -> int:
        targets = self._rollout_targets(inv, ("Deployment",))
        dry = self._dry(inv)
        for info, obj in targets:
            rss = self._owned_rs(obj)
            revs = sorted(((int((rs["metadata"].get("annotations") or {}).get("deployment.kubernetes.io/revision",
                                                                              0)), rs) for rs in rss),
                          key=lambda x: x[0])
            to = inv.values.get("to-revision") or 0
            if to:
                hit = [rs for r, rs in revs if r == to]
                if not hit:
                    raise _fail(f"unable to find specified revision {to} in history")
                target = hit[0]
            else:
                if len(revs) < 2:
                    raise _fail(f'no rollout history found for deployment "{obj["metadata"]["name"]}"')
                target = revs[-2][1]
            tmpl = copy.deepcopy(target["spec"]["template"])
            (tmpl.get("metadata") or {}).get("labels", {}).pop("pod-template-hash", None)
            if tmpl == obj["spec"].get("template"):
                self.write(f"{P.object_name(info, obj)} skipped rollback (current template already matches revision "
                           f"{to or revs[-2][0]})\n")
                continue
            if dry != "client":
                self.client.patch(info.plural, obj["metadata"]["name"],
                                  [{"op": "replace", "path": "/spec/template", "value": tmpl}],
                                  namespace=obj["metadata"].get("namespace"), patch_type="json",
                                  dry_run=dry == "server")
            self.write(f"{P.object_name(info, obj)} rolled back{self._suffix(dry)}\n")
        return 0

    def cmd_rollout_restart(self, inv: Invocation) -> int:
        targets = self._rollout_targets(inv, ("Deployment", "DaemonSet", "StatefulSet"))
        stamp = self.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        for info, obj in targets:
            if (obj.get("spec") or {}).get("paused"):
                raise _fail(f"can't restart paused {info.singular} (run rollout resume first)")
            self.client.patch(info.plural, obj["metadata"]["name"],
                              {"spec": {"template": {"metadata": {"annotations": {
                                  "kubectl.kubernetes.io/restartedAt": stamp}}}}},
                              namespace=obj["metadata"].get("namespace"))
            self.write(f"{P.object_name(info, obj)} restarted\n")
        return 0

    def _pause(self, inv: Invocation, paused: bool) -> int:
        targets = self._rollout_targets(inv, ("Deployment",))
        for info, obj in targets:
            if bool((obj.get("spec") or {}).get("paused")) == paused:
                word = "paused" if paused else "resumed"
                raise _fail(f"{P.object_name(info, obj)} is {'already paused' if paused else 'not paused'}")
            self.client.patch(info.plural, obj["metadata"]["name"], {"spec": {"paused": paused or None}},
                              namespace=obj["metadata"].get("namespace"), patch_type="merge")
            self.write(f"{P.object_name(info, obj)} {'paused' if paused else 'resumed'}\n")
        return 0

    def cmd_rollout_pause(self, inv: Invocation) -> int:
        return self._pause(inv, True)

    def cmd_rollout_resume(self, inv: Invocation) -> int:
        return self._pause(inv, False)

    def cmd_rollout(self, inv: Invocation) -> int:
        raise CommandError("error: unknown command \"" + (inv.args[0] if inv.args else "") + "\" for \"kubectl rollout\""
                           if inv.args else help_text("rollout").rstrip("\n"))

    def cmd_set_image(self, inv: Invocation) -> int:
        pairs = [a for a in inv.args if "=" in a]
        res = [a for a in inv.args if "=" not in a]
        if not pairs:
            raise _fail("at least one image update is required")
        if not res and not inv.values.get("filename"):
            raise _fail("one or more resources must be specified as <resource> <name> or <resource>/<name>")
        self.check_server()
        inv2 = Invocation(inv.path, inv.values, res, inv.changed)
        images = dict(p.split("=", 1) for p in pairs)
        dry = self._dry(inv)
        for info, obj in self._one(inv2, "set"):
            spec = obj.get("spec") or {}
            pod_spec = spec if info.kind == "Pod" else _tmpl_spec(obj)
            changed = False
            names = [c.get("name") for c in (pod_spec.get("containers") or []) + (pod_spec.get("initContainers") or [])]
            for cname in images:
                if cname != "*" and cname not in names:
                    raise _fail(f'unable to find container named "{cname}"')
            new = copy.deepcopy(obj)
            npod = new["spec"] if info.kind == "Pod" else new["spec"]["template"]["spec"]
            for c in (npod.get("containers") or []) + (npod.get("initContainers") or []):
                img = images.get(c.get("name"), images.get("*"))
                if img is not None and c.get("image") != img:
                    c["image"] = img
                    changed = True
            if dry != "client" and changed:
                self.client.patch(info.plural, obj["metadata"]["name"],
                                  {"spec": new["spec"]} if info.kind == "Pod" else
                                  {"spec": {"template": {"spec": {"containers": npod.get("containers")}}}},
                                  namespace=obj["metadata"].get("namespace"), dry_run=dry == "server")
            self.write(f"{P.object_name(info, obj)} image updated{self._suffix(dry)}\n")
        return 0

    # =================================================================================
    # label / annotate
    # =================================================================================
    def _meta_update(self, inv: Invocation, field: str) -> int:
        changes = [a for a in inv.args if "=" in a or a.endswith("-")]
        res = [a for a in inv.args if a not in changes]
        if not changes and not inv.values.get("list"):
            raise _fail(f"at least one {field[:-1]} update is required")
        self.check_server()
        inv2 = Invocation(inv.path, inv.values, res, inv.changed)
        if not res and not inv.values.get("filename"):
            raise _fail("one or more resources must be specified as <resource> <name> or <resource>/<name>")
        sets, removes = {}, []
        for c in changes:
            if c.endswith("-") and "=" not in c:
                removes.append(c[:-1])
            else:
                k, _, v = c.partition("=")
                sets[k] = v
        dry = self._dry(inv)
        for info, obj in self._one(inv2, field):
            cur = (obj.get("metadata") or {}).get(field) or {}
            if inv.values.get("list"):
                for k, v in sorted(cur.items()):
                    self.write(f"{k}={v}\n")
                continue
            if not inv.values.get("overwrite"):
                for k, v in sets.items():
                    if k in cur and cur[k] != v:
                        raise _fail(f"'{k}' already has a value ({cur[k]}), and --overwrite is false")
            patch: dict = {k: v for k, v in sets.items()}
            for k in removes:
                patch[k] = None
            before = dict(cur)
            after = {k: v for k, v in {**cur, **sets}.items() if k not in removes}
            if dry != "client" and after != before:
                self.client.patch(info.plural, obj["metadata"]["name"], {"metadata": {field: patch}},
                                  namespace=obj["metadata"].get("namespace"), patch_type="merge",
                                  dry_run=dry == "server")
            if field == "labels":
                word = "not labeled" if after == before else ("unlabeled" if not sets else "labeled")
            else:
                word = "annotated" if after != before or sets else "annotated"
                if removes and not sets:
                    word = "annotated"
            self.write(f"{P.object_name(info, obj)} {word}{self._suffix(dry)}\n")
        return 0

    def cmd_label(self, inv: Invocation) -> int:
        return self._meta_update(inv, "labels")

    def cmd_annotate(self, inv: Invocation) -> int:
        return self._meta_update(inv, "annotations")

    def cmd_patch(self, inv: Invocation) -> int:
        patch = inv.values.get("patch")
        if not patch and inv.values.get("patch-file"):
            patch = self.read_file(inv.values["patch-file"])
        if not patch:
            raise _fail("must specify -p to patch")
        self.check_server()
        try:
            body = json.loads(patch)
        except ValueError:
            import yaml
            try:
                body = yaml.safe_load(patch)
            except yaml.YAMLError as e:
                raise _fail(f"unable to parse \"{patch}\": {e}") from None
        ptype = inv.values.get("type") or "strategic"
        dry = self._dry(inv)
        for info, obj in self._one(inv, "patch"):
            res = self.client.patch(info.plural, obj["metadata"]["name"], body,
                                    namespace=obj["metadata"].get("namespace"), patch_type=ptype,
                                    subresource=inv.values.get("subresource") or None, dry_run=dry != "none")
            same = res.get("metadata", {}).get("resourceVersion") == obj["metadata"].get("resourceVersion")
            self.write(f"{P.object_name(info, obj)} {'patched (no change)' if same else 'patched'}"
                       f"{self._suffix(dry)}\n")
        return 0

    # =================================================================================
    # nodes: cordon / uncordon / drain / taint
    # =================================================================================
    def _nodes(self, inv: Invocation) -> list[dict]:
        self.check_server()
        sel = inv.values.get("selector") or None
        if sel and not inv.args:
            return self.client.list("nodes", label_selector=sel).get("items") or []
        if not inv.args:
            raise _fail(f"USAGE: {inv.path} NODE [flags]\nSee 'kubectl {inv.path} -h' for help and examples")
        out = []
        for a in inv.args:
            name = a.split("/", 1)[1] if a.startswith(("node/", "nodes/", "no/")) else a
            out.append(self.client.get("nodes", name))
        return out

    def _cordon(self, node: dict, on: bool, dry: str = "none") -> str:
        name = node["metadata"]["name"]
        if bool((node.get("spec") or {}).get("unschedulable")) == on:
            return f"node/{name} already {'cordoned' if on else 'uncordoned'}"
        if dry != "client":
            self.client.patch("nodes", name, {"spec": {"unschedulable": True if on else None}}, patch_type="merge",
                              dry_run=dry == "server")
        return f"node/{name} {'cordoned' if on else 'uncordoned'}{self._suffix(dry)}"

    def cmd_cordon(self, inv: Invocation) -> int:
        dry = self._dry(inv)
        for n in self._nodes(inv):
            self.write(self._cordon(n, True, dry) + "\n")
        return 0

    def cmd_uncordon(self, inv: Invocation) -> int:
        dry = self._dry(inv)
        for n in self._nodes(inv):
            self.write(self._cordon(n, False, dry) + "\n")
        return 0

    def cmd_drain(self, inv: Invocation) -> Generator[Any, Any, int]:
        v = inv.values
        nodes = self._nodes(inv)
        dry = self._dry(inv)
        failed = False
        for node in nodes:
            name = node["metadata"]["name"]
            self.write(self._cordon(node, True, dry) + "\n")
            pods = self.client.list("pods", None, field_selector=f"spec.nodeName={name}").get("items") or []
            ds_pods, bare, local, mirror, evict = [], [], [], [], []
            for p in pods:
                meta = p["metadata"]
                key = f"{meta.get('namespace')}/{meta['name']}"
                if (meta.get("annotations") or {}).get("kubernetes.io/config.mirror"):
                    mirror.append(key)
                    continue
                phase = (p.get("status") or {}).get("phase")
                if meta.get("deletionTimestamp"):
                    continue
                owners = meta.get("ownerReferences") or []
                ctrl = next((o for o in owners if o.get("controller")), None)
                if ctrl and ctrl.get("kind") == "DaemonSet":
                    ds_pods.append(key)
                    continue
                problems = False
                if not ctrl and phase not in ("Succeeded", "Failed"):
                    bare.append(key)
                    problems = not v.get("force")
                if any("emptyDir" in (vol or {}) for vol in (p.get("spec") or {}).get("volumes") or []) and \
                        phase not in ("Succeeded", "Failed"):
                    local.append(key)
                    problems = problems or not (v.get("delete-emptydir-data") or v.get("delete-local-data"))
                evict.append((p, problems))
            errs = []
            if bare and not v.get("force"):
                errs.append(f"cannot delete Pods declare no controller (use --force to override): {', '.join(bare)}")
            if ds_pods and not v.get("ignore-daemonsets"):
                errs.append(f"cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore): "
                            f"{', '.join(ds_pods)}")
            if local and not (v.get("delete-emptydir-data") or v.get("delete-local-data")):
                errs.append(f"cannot delete Pods with local storage (use --delete-emptydir-data to override): "
                            f"{', '.join(local)}")
            if errs:
                joined = ", ".join(errs) if len(errs) == 1 else "[" + ", ".join(errs) + "]"
                self.error(f'error: unable to drain node "{name}" due to error: {joined}, continuing command...\n'
                           f"There are pending nodes to be drained:\n {name}\n" + "\n".join(errs) + "\n")
                failed = True
                continue
            warnings = []
            if ds_pods:
                warnings.append(f"ignoring DaemonSet-managed Pods: {', '.join(ds_pods)}")
            if bare:
                warnings.append(f"deleting Pods that declare no controller: {', '.join(bare)}")
            if warnings:
                self.error("Warning: " + "; ".join(warnings) + "\n")
            grace = v.get("grace-period", -1)
            evicted = []
            for p, _ in evict:
                meta = p["metadata"]
                self.error(f"evicting pod {meta.get('namespace')}/{meta['name']}\n")
                if dry == "none":
                    try:
                        if v.get("disable-eviction"):
                            self.client.delete("pods", meta["name"], meta.get("namespace"),
                                               grace_period_seconds=grace if grace >= 0 else None)
                        else:
                            self.client.evict(meta["name"], meta.get("namespace"),
                                              grace_period_seconds=grace if grace >= 0 else None)
                    except NotFoundError:
                        continue
                evicted.append((meta["name"], meta.get("namespace"), meta.get("uid")))
            if dry == "none":
                timeout = v.get("timeout") or WAIT_BOUND
                waited = 0.0
                pending = list(evicted)
                while pending and waited < timeout:
                    pending = [e for e in pending if self._still_there(resolve("pods"), e[0], e[1], e[2])]
                    for e in evicted:
                        if e not in pending and e not in getattr(self, "_reported", []):
                            self.write(f"pod/{e[0]} evicted\n")
                            self._reported = getattr(self, "_reported", []) + [e]
                    if not pending:
                        break
                    yield self.sleep(1)
                    waited += 1
                if pending:
                    raise _fail(f"unable to drain node \"{name}\" due to error: error when waiting for pod "
                                f"\"{pending[0][0]}\" in namespace \"{pending[0][1]}\" to terminate: global timeout "
                                f"reached: {_go_duration_str(timeout)}, continuing command...")
            else:
                for e in evicted:
                    self.write(f"pod/{e[0]} evicted{self._suffix(dry)}\n")
            self.write(f"node/{name} drained{self._suffix(dry)}\n")
        return 1 if failed else 0

    def cmd_taint(self, inv: Invocation) -> int:
        args = list(inv.args)
        if not args:
            raise _fail("at least one taint update is required")
        if args[0] in ("nodes", "node", "no"):
            args = args[1:]
        elif "/" not in args[0] and not inv.values.get("selector"):
            raise _fail(f'invalid resource type {args[0]}, only nodes supported')
        names, specs = [], []
        for a in args:
            if ":" in a or a.endswith("-") or "=" in a:
                specs.append(a)
            else:
                names.append(a.split("/", 1)[-1])
        if not specs:
            raise _fail("at least one taint update is required")
        adds, removes = [], []
        for s in specs:
            if s.endswith("-"):
                body = s[:-1]
                key, _, effect = body.partition(":")
                removes.append((key.partition("=")[0], effect))
                continue
            kv, colon, effect = s.rpartition(":")
            if not colon or effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
                raise _fail(f"invalid taint spec: {s}, " + (
                    "unexpected taint effect" if colon else "at least one taint update is required"))
            key, _, value = kv.partition("=")
            t = {"key": key, "effect": effect}
            if value:
                t["value"] = value
            adds.append(t)
        self.check_server()
        nodes = [self.client.get("nodes", n) for n in names] if names else self._nodes(inv)
        for node in nodes:
            name = node["metadata"]["name"]
            taints = list((node.get("spec") or {}).get("taints") or [])
            for key, effect in removes:
                keep = [t for t in taints if not (t.get("key") == key and (not effect or t.get("effect") == effect))]
                if len(keep) == len(taints):
                    raise _fail(f"taint \"{key}{':' + effect if effect else ''}\" not found")
                taints = keep
            for t in adds:
                same = [x for x in taints if x.get("key") == t["key"] and x.get("effect") == t["effect"]]
                if same and not inv.values.get("overwrite"):
                    raise _fail(f"node {name} already has {t['key']} taint(s) with same effect(s) and --overwrite is "
                                f"false")
                taints = [x for x in taints if not (x.get("key") == t["key"] and x.get("effect") == t["effect"])]
                taints.append(t)
            self.client.patch("nodes", name, {"spec": {"taints": taints or None}}, patch_type="merge")
            self.write(f"node/{name} {'untainted' if removes and not adds else 'tainted'}\n")
        return 0

    # =================================================================================
    # top
    # =================================================================================
    def _metrics(self, path: str, **kw: Any) -> dict:
        from ..metrics import MetricsAPIError, metrics_get

        try:
            return metrics_get(self.client, path, **kw)
        except MetricsAPIError as e:
            raise _fail(e.message) from None

    def _top_args(self, inv: Invocation) -> tuple[str, str, str | None]:
        """``kubectl top``'s common checks: (--sort-by, --selector, NAME)."""
        self.check_server()
        sort_by = inv.values.get("sort-by") or ""
        if sort_by not in ("", "cpu", "memory"):
            raise _fail("--sort-by accepts only cpu or memory")
        sel = inv.values.get("selector") or ""
        name = inv.args[0] if inv.args else None
        if name is not None and sel:
            raise _fail("only one of NAME or --selector can be provided")
        return sort_by, sel, name

    def cmd_top_node(self, inv: Invocation) -> int:
        """``kubectl top node [NAME | -l selector] [--sort-by=cpu|memory] [--show-capacity] [--no-headers]``."""
        sort_by, sel, name = self._top_args(inv)
        if name is not None:
            items = [self._metrics(f"nodes/{name}", verb="get", resource="nodes", name=name)]
            nodes = [self.client.get("nodes", name)]
        else:
            items = self._metrics("nodes", verb="list", resource="nodes",
                                  params={"labelSelector": sel}).get("items") or []
            nodes = self.client.list("nodes", label_selector=sel or None).get("items") or []
        if not items:
            raise _fail("metrics not available yet")
        which = "capacity" if inv.values.get("show-capacity") else "allocatable"
        available = {n["metadata"]["name"]: (n.get("status") or {}).get(which) or {} for n in nodes}
        rows = []
        for m in _sort_metrics(items, sort_by, lambda m: m.get("usage") or {}):
            usage = m.get("usage") or {}
            cpu, mem = _milli(usage.get("cpu", "0")), _value(usage.get("memory", "0"))
            avail = available.pop(m["metadata"]["name"], {})
            row = [m["metadata"]["name"], f"{cpu}m"]
            if "cpu" in avail:
                row.append(f"{int(cpu / max(_milli(avail['cpu']), 1) * 100)}%")
            row.append(f"{mem // (1024 * 1024)}Mi")
            if "memory" in avail:
                row.append(f"{int(mem / max(_value(avail['memory']), 1) * 100)}%")
            rows.append(row)
        for missing in available:  # nodes metrics-server has no metrics for
            rows.append([missing] + ["<unknown>"] * 4)
        head = None if inv.values.get("no-headers") else ["NAME", "CPU(cores)", "CPU%", "MEMORY(bytes)", "MEMORY%"]
        self.write(_top_table(rows, head))
        return 0

    cmd_top_nodes = cmd_top_no = cmd_top_node

    def cmd_top_pod(self, inv: Invocation) -> int:
        """``kubectl top pod [NAME | -l selector] [-n NS | -A] [--containers] [--sort-by] [--no-headers]``."""
        sort_by, sel, name = self._top_args(inv)
        all_ns = bool(inv.values.get("all-namespaces")) and name is None
        ns = None if all_ns else self.namespace
        if name is not None:
            items = [self._metrics(f"namespaces/{ns}/pods/{name}", verb="get", resource="pods", namespace=ns,
                                   name=name)]
        else:
            path = "pods" if all_ns else f"namespaces/{ns}/pods"
            items = self._metrics(path, verb="list", resource="pods", namespace=ns,
                                  params={"labelSelector": sel}).get("items") or []
        if not items:
            pods = self.client.list("pods", ns, label_selector=sel or None).get("items") or []
            if pods:
                raise _fail("metrics not available yet")
            self.error("No resources found\n" if all_ns else f"No resources found in {ns} namespace.\n")
            return 0

        def pod_usage(m: dict) -> dict:
            cpu = sum(_nanos(c.get("usage", {}).get("cpu", "0")) for c in m.get("containers") or [])
            mem = sum(_value(c.get("usage", {}).get("memory", "0")) for c in m.get("containers") or [])
            return {"cpu": f"{cpu}n", "memory": str(mem)}

        rows = []
        containers = bool(inv.values.get("containers"))
        for m in _sort_metrics(items, sort_by, pod_usage):
            meta = m["metadata"]
            prefix = [meta.get("namespace", "")] if all_ns else []
            if containers:
                for c in m.get("containers") or []:
                    u = c.get("usage") or {}
                    rows.append(prefix + [meta["name"], c["name"], f"{_milli(u.get('cpu', '0'))}m",
                                          f"{_value(u.get('memory', '0')) // (1024 * 1024)}Mi"])
            else:
                u = pod_usage(m)
                rows.append(prefix + [meta["name"], f"{_milli(u['cpu'])}m",
                                      f"{_value(u['memory']) // (1024 * 1024)}Mi"])
        head = (["NAMESPACE"] if all_ns else []) + (["POD"] if containers else []) + \
            ["NAME", "CPU(cores)", "MEMORY(bytes)"]
        self.write(_top_table(rows, None if inv.values.get("no-headers") else head))
        return 0

    cmd_top_pods = cmd_top_po = cmd_top_pod

    def cmd_top(self, inv: Invocation) -> int:
        raise CommandError(help_text("top").rstrip("\n") if not inv.args else
                           f'error: unknown command "{inv.args[0]}" for "kubectl top"')

    # =================================================================================
    # wait
    # =================================================================================
    def cmd_wait(self, inv: Invocation) -> Generator[Any, Any, int]:
        cond = inv.values.get("for") or ""
        if not cond:
            raise _fail("--for must be specified")
        self.check_server()
        targets = self._one(inv, "wait") if inv.args or inv.values.get("filename") else []
        if not targets:
            raise _fail("no matching resources found")
        timeout = inv.values.get("timeout", 30.0)
        for info, obj in targets:
            name, ns = obj["metadata"]["name"], obj["metadata"].get("namespace")
            waited = 0.0
            while True:
                try:
                    cur = self.client.get(info.plural, name, ns)
                except NotFoundError:
                    cur = None
                if _condition_met(cond, cur):
                    self.write(f"{P.object_name(info, obj)} condition met\n")
                    break
                if cond.startswith("condition") and cur is None:
                    raise CommandError(f'Error from server (NotFound): {info.group_resource} "{name}" not found')
                if waited >= timeout:
                    raise _fail(f"timed out waiting for the condition on {info.group_resource}/{name}")
                yield self.sleep(1)
                waited += 1
        return 0

    # =================================================================================
    # information
    # =================================================================================
    def cmd_cluster_info(self, inv: Invocation) -> int:
        self.check_server()
        server = self.client.server
        self.write(f"Kubernetes control plane is running at {server}\n")
        svcs = self.client.list("services", "kube-system",
                                label_selector="kubernetes.io/cluster-service=true").get("items") or []
        for s in svcs:
            labels = s["metadata"].get("labels") or {}
            ports = (s.get("spec") or {}).get("ports") or []
            port = ports[0].get("name") or ports[0].get("port") if ports else ""
            link = f"{server}/api/v1/namespaces/kube-system/services/{s['metadata']['name']}" + \
                   (f":{port}" if port else "") + "/proxy"
            self.write(f"{labels.get('kubernetes.io/name', s['metadata']['name'])} is running at {link}\n")
        self.write("\nTo further debug and diagnose cluster problems, use 'kubectl cluster-info dump'.\n")
        return 0

    def cmd_version(self, inv: Invocation) -> int:
        o = inv.values.get("output") or ""
        cv = self.client_version
        client = {"major": "1", "minor": cv.lstrip("v").split(".")[1], "gitVersion": cv, "gitCommit": _git_commit(cv),
                  "gitTreeState": "clean", "buildDate": "2024-06-11T20:29:44Z", "goVersion": "go1.22.4",
                  "compiler": "gc", "platform": "linux/amd64"}
        if inv.values.get("client"):
            if o == "json":
                self.write(P.to_json({"clientVersion": client, "kustomizeVersion": KUSTOMIZE_VERSION}))
            elif o == "yaml":
                self.write(P.to_yaml({"clientVersion": client, "kustomizeVersion": KUSTOMIZE_VERSION}))
            else:
                self.write(f"Client Version: {cv}\nKustomize Version: {KUSTOMIZE_VERSION}\n")
            return 0
        if not o:
            self.write(f"Client Version: {cv}\nKustomize Version: {KUSTOMIZE_VERSION}\n")
        api = self.client.apiserver()
        v = str(api.kubernetes_version).lstrip("v")
        server_v = f"v{v}.2" if v.count(".") == 1 else f"v{v}"
        if not o:
            self.write(f"Server Version: {server_v}\n")
            return 0
        server = dict(client, gitVersion=server_v, gitCommit=_git_commit(server_v), minor=v.split(".")[1])
        doc = {"clientVersion": client, "kustomizeVersion": KUSTOMIZE_VERSION, "serverVersion": server}
        self.write(P.to_json(doc) if o == "json" else P.to_yaml(doc))
        return 0

    def cmd_api_resources(self, inv: Invocation) -> int:
        self.check_server()
        rows = []
        for r in RESOURCES:
            if "namespaced" in inv.changed and r.namespaced != inv.values.get("namespaced"):
                continue
            if inv.values.get("api-group") is not None and "api-group" in inv.changed and \
                    r.group != inv.values["api-group"]:
                continue
            rows.append((r.plural, ",".join(r.short_names), r.api_version, str(r.namespaced).lower(), r.kind))
        if inv.values.get("sort-by") == "name":
            rows.sort()
        if inv.values.get("output") == "name":
            for row in rows:
                self.write(f"{row[0]}.{resolve(row[0]).group}".rstrip(".") + "\n")
            return 0
        self.write(P.kubectl_table(rows, None if inv.values.get("no-headers") else
                                   ["NAME", "SHORTNAMES", "APIVERSION", "NAMESPACED", "KIND"]))
        return 0

    def cmd_api_versions(self, inv: Invocation) -> int:
        self.check_server()
        for v in sorted({r.api_version for r in RESOURCES}):
            self.write(v + "\n")
        return 0

    def cmd_explain(self, inv: Invocation) -> int:
        if not inv.args:
            raise _fail("You must specify the type of resource to explain. Use \"kubectl api-resources\" for a "
                        "complete list of supported resources.")
        self.check_server()
        path = inv.args[0].split(".")
        info = resolve(path[0])
        from ..apiserver.schema import Schemas
        s = Schemas.shared()
        sch = s.field_schema(info.kind, tuple(path[1:])) if len(path) > 1 else s.field_schema(info.kind, ())
        if sch is None:
            raise _fail(f'field "{path[-1]}" does not exist')
        self.write(f"GROUP:      {info.group}\n" if info.group else "")
        self.write(f"KIND:       {info.kind}\nVERSION:    {info.version}\n\n")
        if len(path) > 1:
            t = sch.get("type", "Object")
            t = next((x for x in t if x != "null"), "Object") if isinstance(t, list) else t
            self.write(f"FIELD: {path[-1]} <{t}>\n\n")
        self.write("DESCRIPTION:\n    " + (sch.get("description") or "<empty>").replace("\n", "\n    ") + "\n")
        props = sch.get("properties") or {}
        if props:
            self.write("\nFIELDS:\n")
            for k, p in props.items():
                t = p.get("type") or "Object"
                self.write(f"  {k}\t<{t}>\n")
        return 0

    def cmd_auth_can_i(self, inv: Invocation) -> int:
        from ..apiserver.auth import Attributes, authorize, user_info

        if len(inv.args) < 2 and not inv.values.get("list"):
            raise _fail("you must specify two arguments: verb resource or verb resource/resourceName.\nSee 'kubectl "
                        "auth can-i -h' for help and examples")
        self.check_server()
        verb, target = inv.args[0], inv.args[1]
        res, _, name = target.partition("/")
        if len(inv.args) > 2:
            name = inv.args[2]
        sub = ""
        if "/" in name and res:
            pass
        info = resolve(res) if res != "*" else None
        u = user_info(self.client.user)
        ns = "" if inv.values.get("all-namespaces") or (info and not info.namespaced) else self.namespace
        ok, _ = authorize(Attributes(u, verb, info.plural if info else "*", info.group if info else "*", sub, ns,
                                     name), None)
        if not inv.values.get("quiet"):
            self.write("yes\n" if ok else "no\n")
        return 0 if ok else 1

    def cmd_auth_whoami(self, inv: Invocation) -> int:
        from ..apiserver.auth import user_info

        self.check_server()
        u = user_info(self.client.user)
        rows = [("Username", u.name), ("Groups", "[" + " ".join(u.groups) + "]")]
        from ...engine.format import tabwriter
        self.write(tabwriter("ATTRIBUTE\tVALUE\n" + "".join(f"{a}\t{b}\n" for a, b in rows), minwidth=6, padding=3))
        return 0

    def cmd_events(self, inv: Invocation) -> int:
        self.check_server()
        all_ns = bool(inv.values.get("all-namespaces"))
        items = self.client.list("events", None if all_ns else self.namespace).get("items") or []
        items.sort(key=lambda e: e.get("lastTimestamp") or e.get("eventTime") or "")
        if not items:
            self.error("No events found in " + ("" if all_ns else f"{self.namespace} namespace.") + "\n")
            return 0
        now = self.now()
        rows = []
        for e in items:
            inv_o = e.get("involvedObject") or {}
            row = [P._event_last_seen(e, now), e.get("type", ""), e.get("reason", ""),
                   f"{inv_o.get('kind', '')}/{inv_o.get('name', '')}", str(e.get("message", "")).strip()]
            rows.append(([e["metadata"].get("namespace", "")] if all_ns else []) + row)
        self.write(P.kubectl_table(rows, (["NAMESPACE"] if all_ns else []) + ["LAST SEEN", "TYPE", "REASON", "OBJECT",
                                                                               "MESSAGE"]))
        return 0

    # =================================================================================
    # config
    # =================================================================================
    def _kc(self) -> dict:
        return self.kubeconfig or {"apiVersion": "v1", "clusters": None, "contexts": None, "current-context": "",
                                   "kind": "Config", "preferences": {}, "users": None}

    def cmd_config_view(self, inv: Invocation) -> int:
        doc = copy.deepcopy(self._kc())
        if inv.values.get("minify"):
            cur = doc.get("current-context")
            ctxs = [c for c in doc.get("contexts") or [] if c.get("name") == cur]
            ctx = (ctxs[0].get("context") or {}) if ctxs else {}
            doc["contexts"] = ctxs
            doc["clusters"] = [c for c in doc.get("clusters") or [] if c.get("name") == ctx.get("cluster")]
            doc["users"] = [u for u in doc.get("users") or [] if u.get("name") == ctx.get("user")]
        if not inv.values.get("raw"):
            for c in doc.get("clusters") or []:
                cl = c.get("cluster") or {}
                if "certificate-authority-data" in cl:
                    cl["certificate-authority-data"] = "DATA+OMITTED"
            for u in doc.get("users") or []:
                us = u.get("user") or {}
                for k in ("client-certificate-data", "client-key-data"):
                    if k in us:
                        us[k] = "DATA+OMITTED" if k == "client-certificate-data" else "DATA+OMITTED"
                if "token" in us:
                    us["token"] = "REDACTED"
        ordered = {k: doc.get(k) for k in ("apiVersion", "clusters", "contexts", "current-context", "kind",
                                           "preferences", "users")}
        o = inv.values.get("output") or "yaml"
        if o == "json":
            self.write(P.to_json(ordered))
        elif o.startswith("jsonpath="):
            self.write(P.jsonpath(o.partition("=")[2], ordered))
        else:
            self.write(P.to_yaml(ordered))
        return 0

    def cmd_config_current_context(self, inv: Invocation) -> int:
        cur = self._kc().get("current-context")
        if not cur:
            raise _fail("current-context is not set")
        self.write(cur + "\n")
        return 0

    def cmd_config_get_contexts(self, inv: Invocation) -> int:
        kc = self._kc()
        cur = kc.get("current-context")
        ctxs = kc.get("contexts") or []
        if inv.args:
            names = {c.get("name") for c in ctxs}
            for a in inv.args:
                if a not in names:
                    raise _fail(f"context {a} not found")
            ctxs = [c for c in ctxs if c.get("name") in inv.args]
        if inv.values.get("output") == "name":
            for c in ctxs:
                self.write(f"{c.get('name')}\n")
            return 0
        rows = []
        for c in ctxs:
            ctx = c.get("context") or {}
            rows.append(["*" if c.get("name") == cur else "", c.get("name", ""), ctx.get("cluster", ""),
                         ctx.get("user", ""), ctx.get("namespace", "")])
        self.write(P.kubectl_table(rows, None if inv.values.get("no-headers") else
                                   ["CURRENT", "NAME", "CLUSTER", "AUTHINFO", "NAMESPACE"]))
        return 0

    def cmd_config_get_clusters(self, inv: Invocation) -> int:
        self.write("NAME\n" + "".join(f"{c.get('name')}\n" for c in self._kc().get("clusters") or []))
        return 0

    def cmd_config_get_users(self, inv: Invocation) -> int:
        self.write("NAME\n" + "".join(f"{c.get('name')}\n" for c in self._kc().get("users") or []))
        return 0

    def cmd_config_use_context(self, inv: Invocation) -> int:
        if len(inv.args) != 1:
            raise _fail("Unexpected args: " + str(inv.args) if inv.args else "empty context names are not allowed")
        kc = self._kc()
        name = inv.args[0]
        if not any(c.get("name") == name for c in kc.get("contexts") or []):
            raise _fail(f'no context exists with the name: "{name}"')
        kc["current-context"] = name
        self._save(kc)
        self.write(f'Switched to context "{name}".\n')
        return 0

    def cmd_config_set_context(self, inv: Invocation) -> int:
        kc = self._kc()
        name = inv.args[0] if inv.args else kc.get("current-context")
        if inv.values.get("current"):
            name = kc.get("current-context")
        ctxs = kc.setdefault("contexts", []) or []
        kc["contexts"] = ctxs
        hit = next((c for c in ctxs if c.get("name") == name), None)
        existed = hit is not None
        if hit is None:
            hit = {"context": {}, "name": name}
            ctxs.append(hit)
        ctx = hit.setdefault("context", {})
        for f in ("cluster", "user", "namespace"):
            if f in inv.changed:
                ctx[f] = inv.values.get(f)
        self._save(kc)
        self.write(f'Context "{name}" {"modified" if existed else "created"}.\n')
        return 0

    def _save(self, kc: dict) -> None:
        if self.save_kubeconfig is None:
            raise _fail("no kubeconfig file to write")
        import yaml
        self.save_kubeconfig(yaml.safe_dump(kc, sort_keys=False, default_flow_style=False))

    def cmd_config(self, inv: Invocation) -> int:
        raise CommandError(help_text("config").rstrip("\n"))

    def cmd_(self, inv: Invocation) -> int:
        self.write(help_text(""))
        return 0


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def _tmpl_spec(obj: dict) -> dict:
    return (((obj.get("spec") or {}).get("template") or {}).get("spec")) or {}


def _text(x: Any) -> str:
    if x is None:
        return ""
    if isinstance(x, (bytes, bytearray)):
        return x.decode("utf-8", "replace")
    if isinstance(x, (list, tuple)):
        return "".join(_text(i) for i in x)
    if isinstance(x, dict):
        return _text(x.get("log") or x.get("text") or x.get("stdout") or "")
    return str(x)


def _exec_result(r: Any) -> tuple[int, str, str]:
    """Whatever a kubelet's exec hook returns: text, (code, out, err), a dict or an object with fields."""
    if r is None:
        return 0, "", ""
    if isinstance(r, (str, bytes, bytearray)):
        return 0, _text(r), ""
    if isinstance(r, tuple):
        if len(r) == 3:
            return int(r[0] or 0), _text(r[1]), _text(r[2])
        if len(r) == 2:
            return int(r[0] or 0), _text(r[1]), ""
    if isinstance(r, dict):
        return int(r.get("exit_code", r.get("exitCode", 0)) or 0), _text(r.get("stdout", "")), \
            _text(r.get("stderr", ""))
    code = getattr(r, "exit_code", 0)
    return int(code or 0), _text(getattr(r, "stdout", "")), _text(getattr(r, "stderr", ""))


def _rollout_status(kind: str, obj: dict) -> tuple[str, bool]:
    """kubectl's status viewers: the message to print and whether the rollout is done."""
    meta, spec, st = obj.get("metadata") or {}, obj.get("spec") or {}, obj.get("status") or {}
    name = meta.get("name")
    if kind == "Deployment":
        if (meta.get("generation") or 0) <= (st.get("observedGeneration") or 0):
            for c in st.get("conditions") or []:
                if c.get("type") == "Progressing" and c.get("reason") == "ProgressDeadlineExceeded":
                    raise _fail(f'deployment "{name}" exceeded its progress deadline')
            want = spec.get("replicas", 1)
            upd = st.get("updatedReplicas") or 0
            if upd < want:
                return (f'Waiting for deployment "{name}" rollout to finish: {upd} out of {want} new replicas have '
                        f"been updated...\n", False)
            if (st.get("replicas") or 0) > upd:
                return (f'Waiting for deployment "{name}" rollout to finish: {(st.get("replicas") or 0) - upd} old '
                        f"replicas are pending termination...\n", False)
            if (st.get("availableReplicas") or 0) < upd:
                return (f'Waiting for deployment "{name}" rollout to finish: {st.get("availableReplicas") or 0} of '
                        f"{upd} updated replicas are available...\n", False)
            return f'deployment "{name}" successfully rolled out\n', True
        return "Waiting for deployment spec update to be observed...\n", False
    if kind == "DaemonSet":
        if (spec.get("updateStrategy") or {}).get("type", "RollingUpdate") != "RollingUpdate":
            raise _fail("rollout status is only available for RollingUpdate strategy type")
        if (meta.get("generation") or 0) <= (st.get("observedGeneration") or 0):
            want = st.get("desiredNumberScheduled") or 0
            upd = st.get("updatedNumberScheduled") or 0
            if upd < want:
                return (f'Waiting for daemon set "{name}" rollout to finish: {upd} out of {want} new pods have been '
                        f"updated...\n", False)
            avail = st.get("numberAvailable") or 0
            if avail < want:
                return (f'Waiting for daemon set "{name}" rollout to finish: {avail} of {want} updated pods are '
                        f"available...\n", False)
            return f'daemon set "{name}" successfully rolled out\n', True
        return "Waiting for daemon set spec update to be observed...\n", False
    # StatefulSet
    if (st.get("observedGeneration") or 0) == 0 or (meta.get("generation") or 0) > (st.get("observedGeneration") or 0):
        return "Waiting for statefulset spec update to be observed...\n", False
    want = spec.get("replicas", 1)
    if (st.get("readyReplicas") or 0) < want:
        return (f"Waiting for {want - (st.get('readyReplicas') or 0)} pods to be ready...\n", False)
    return (f"partitioned roll out complete: {st.get('updatedReplicas') or 0} new pods have been updated...\n"
            if (spec.get("updateStrategy") or {}).get("rollingUpdate", {}).get("partition") else
            f"statefulset rolling update complete {want} pods at revision {st.get('updateRevision', '')}...\n", True)


def _condition_met(cond: str, obj: dict | None) -> bool:
    if cond == "delete":
        return obj is None
    if obj is None:
        return False
    if cond.startswith("condition="):
        body = cond[len("condition="):]
        ctype, _, want = body.partition("=")
        want = want or "True"
        for c in (obj.get("status") or {}).get("conditions") or []:
            if str(c.get("type", "")).lower() == ctype.lower():
                return str(c.get("status")).lower() == want.lower()
        return False
    if cond.startswith("jsonpath="):
        body = cond[len("jsonpath="):]
        path, _, want = body.partition("=")
        got = P.jsonpath(P.relaxed(path.strip("'\"")), obj)
        return got == want if want else bool(got)
    if cond == "create":
        return True
    raise _fail(f"unrecognized condition: \"{cond}\"")


def _template_text(tmpl: dict) -> str:
    meta = tmpl.get("metadata") or {}
    lines = ["Pod Template:", f"  Labels:\t{P.format_labels(meta.get('labels')).replace(',', chr(10) + chr(9))}"]
    lines.append("  Containers:")
    for c in (tmpl.get("spec") or {}).get("containers") or []:
        lines.append(f"   {c.get('name')}:")
        lines.append(f"    Image:\t{c.get('image')}")
    from ...engine.format import tabwriter
    return tabwriter("\n".join(lines) + "\n", minwidth=0, padding=2) + "\n"
