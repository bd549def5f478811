"""kubectl's command line: cobra commands with pflag flags (global flags are accepted anywhere).

>>> inv = parse_command_line(["-n", "kube-system", "get", "pods", "-o", "wide"])
>>> inv.path, inv.args, inv.values["output"], inv.values["namespace"]
('get', ['pods'], 'wide', 'kube-system')
>>> parse_command_line(["gett", "pods"])
Traceback (most recent call last):
...
aivle_k8s.sim.errors.UsageError: error: unknown command "gett" for "kubectl"
<BLANKLINE>
Did you mean this?
	get
	set
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

from ...engine.cli import Flag, FlagError, parse_flags
from ...sim.errors import UsageError

__all__ = ["parse_command_line", "Invocation", "COMMANDS", "GLOBAL_FLAGS", "CommandSpec"]


def B(name: str, short: str = "", usage: str = "", default: bool = False) -> Flag:
    return Flag(name, short, "bool", usage, default)


def S(name: str, short: str = "", usage: str = "", default: str = "") -> Flag:
    return Flag(name, short, "string", usage, default)


def I(name: str, short: str = "", usage: str = "", default: int = 0) -> Flag:  # noqa: E743
    return Flag(name, short, "int", usage, default)


def L(name: str, short: str = "", usage: str = "") -> Flag:
    return Flag(name, short, "stringArray", usage, None)


def D(name: str, short: str = "", usage: str = "", default: float = 0.0) -> Flag:
    return Flag(name, short, "duration", usage, default)


GLOBAL_FLAGS: tuple[Flag, ...] = (
    S("kubeconfig", "", "Path to the kubeconfig file to use for CLI requests."),
    S("context", "", "The name of the kubeconfig context to use"),
    S("cluster", "", "The name of the kubeconfig cluster to use"),
    S("user", "", "The name of the kubeconfig user to use"),
    S("namespace", "n", "If present, the namespace scope for this CLI request"),
    S("server", "s", "The address and port of the Kubernetes API server"),
    S("token", "", "Bearer token for authentication to the API server"),
    S("request-timeout", "", "The length of time to wait before giving up on a single server request.", "0"),
    S("v", "v", "number for the log level verbosity", "0"),
    S("as", "", "Username to impersonate for the operation."),
    L("as-group", "", "Group to impersonate for the operation."),
    S("as-uid", "", "UID to impersonate for the operation."),
    B("insecure-skip-tls-verify", "", "If true, the server's certificate will not be checked for validity."),
    S("certificate-authority", "", "Path to a cert file for the certificate authority"),
    S("client-certificate", "", "Path to a client certificate file for TLS"),
    S("client-key", "", "Path to a client key file for TLS"),
    S("cache-dir", "", "Default cache directory", "$HOME/.kube/cache"),
    B("match-server-version", "", "Require server version to match client version"),
    S("username", "", "Username for basic authentication to the API server"),
    S("password", "", "Password for basic authentication to the API server"),
    S("tls-server-name", "", "Server name to use for server certificate validation."),
    B("warnings-as-errors", "", "Treat warnings received from the server as errors"),
    B("disable-compression", "", "If true, opt-out of response compression for all requests to the server"),
    S("profile", "", "Name of profile to capture.", "none"),
    S("profile-output", "", "Name of the file to write the profile to", "profile.pprof"),
    S("log-flush-frequency", "", "Maximum number of seconds between log flushes", "5s"),
    S("vmodule", "", "comma-separated list of pattern=N settings for file-filtered logging"),
)

_OUT = S("output", "o", "Output format.")
_FILE = L("filename", "f", "Filename, directory, or URL to files.")
_SEL = S("selector", "l", "Selector (label query) to filter on.")
_DRY = S("dry-run", "", "Must be \"none\", \"server\", or \"client\".", "none")
_RECURSIVE = B("recursive", "R", "Process the directory used in -f, --filename recursively.")
_TIMEOUT = D("timeout", "", "The length of time to wait before giving up.")
_ALL_NS = B("all-namespaces", "A", "If present, list the requested object(s) across all namespaces.")
_FIELD_SEL = S("field-selector", "", "Selector (field query) to filter on.")
_VALIDATE = S("validate", "", "Must be one of: strict (or true), warn, ignore (or false).", "strict")
_FIELD_MANAGER = S("field-manager", "", "Name of the manager used to track field ownership.", "kubectl-client-side-apply")
_OVERWRITE = B("overwrite", "", "If true, allow values to be overwritten.")
_ALL = B("all", "", "Select all resources in the namespace of the specified resource types.")


@dataclass
class CommandSpec:
    name: str
    short: str
    flags: tuple[Flag, ...] = ()
    subcommands: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    interspersed: bool = True


def _c(name: str, short: str, *flags: Flag, subs: tuple[str, ...] = (), aliases: tuple[str, ...] = ()) -> CommandSpec:
    return CommandSpec(name, short, tuple(flags), subs, aliases)


COMMANDS: dict[str, CommandSpec] = {c.name: c for c in (
    _c("create", "Create a resource from a file or from stdin", _FILE, _OUT, _DRY, _RECURSIVE, _VALIDATE,
       B("save-config", "", "save the configuration in the annotation"), S("image"), I("replicas", "r", "", 1),
       I("port", "", "", -1), L("from-literal"), L("from-file"), _FIELD_MANAGER,
       S("type"), L("tcp"), S("docker-server"), S("docker-username"), S("docker-password"),
       subs=("deployment", "namespace", "configmap", "secret", "service", "job", "deploy", "ns", "cm", "svc")),
    _c("expose", "Take a replication controller, service, deployment or pod and expose it as a new Kubernetes service",
       _FILE, _OUT, _DRY, S("port"), S("target-port"), S("type"), S("name"), S("protocol"), S("selector"),
       S("labels", "l"), S("cluster-ip"), L("external-ip"), S("session-affinity")),
    _c("run", "Run a particular image on the cluster", S("image"), S("port"), S("restart", "", "", "Always"),
       B("command"), L("env"), S("labels", "l"), _OUT, _DRY, B("rm"), B("stdin", "i"), B("tty", "t"),
       B("attach"), S("image-pull-policy"), S("overrides"), S("serviceaccount"), B("privileged"),
       L("annotations")),
    _c("set", "Set specific features on objects", _FILE, _SEL, _ALL, _OUT, _DRY, B("local"),
       S("containers", "c", "", "*"), L("env", "e"), S("limits"), S("requests"), S("serviceaccount"),
       subs=("image", "env", "resources", "selector", "serviceaccount")),
    _c("explain", "Get documentation for a resource", B("recursive"), S("api-version"), S("output", "o", "", "plaintext")),
    _c("get", "Display one or many resources", _OUT, _SEL, _FILE, _ALL_NS, _FIELD_SEL, _RECURSIVE,
       B("watch", "w"), B("watch-only"), B("show-labels"), B("show-kind"), B("no-headers"), S("sort-by"),
       L("label-columns", "L"), I("chunk-size", "", "", 500), B("ignore-not-found"), S("subresource"),
       S("template"), B("output-watch-events"), S("raw")),
    _c("edit", "Edit a resource on the server", _FILE, _OUT),
    _c("delete", "Delete resources by file names, stdin, resources and names, or by resources and label selector",
       _FILE, _SEL, _ALL, _ALL_NS, _FIELD_SEL, _RECURSIVE, _DRY, _OUT, I("grace-period", "", "", -1), B("force"),
       B("now"), Flag("wait", "", "bool", "", True), _TIMEOUT, B("ignore-not-found"), S("cascade", "", "", "background"),
       B("interactive", "i")),
    _c("rollout", "Manage the rollout of a resource", _FILE, _SEL, _TIMEOUT, Flag("watch", "w", "bool", "", True), I("revision"), I("to-revision"), _DRY, _OUT,
       subs=("history", "pause", "restart", "resume", "status", "undo")),
    _c("scale", "Set a new size for a deployment, replica set, or replication controller", _FILE, _SEL, _ALL,
       I("replicas", "", "", -1), I("current-replicas", "", "", -1), S("resource-version"), _TIMEOUT, _DRY, _OUT),
    _c("autoscale", "Auto-scale a deployment, replica set, stateful set, or replication controller", I("min", "", "", -1),
       I("max", "", "", -1), I("cpu-percent", "", "", -1)),
    _c("certificate", "Modify certificate resources", subs=("approve", "deny")),
    _c("cluster-info", "Display cluster information", subs=("dump",)),
    _c("top", "Display resource (CPU/memory) usage", _SEL, _ALL_NS, B("containers"), S("sort-by"), B("no-headers"),
       B("use-protocol-buffers"), B("show-capacity"), B("sum"), subs=("node", "pod", "nodes", "pods", "no", "po")),
    _c("cordon", "Mark node as unschedulable", _SEL, _DRY),
    _c("uncordon", "Mark node as schedulable", _SEL, _DRY),
    _c("drain", "Drain node in preparation for maintenance", _SEL, _DRY, B("ignore-daemonsets"),
       B("delete-emptydir-data"), B("delete-local-data"), B("force"), I("grace-period", "", "", -1), _TIMEOUT,
       S("pod-selector"), B("disable-eviction"), I("skip-wait-for-delete-timeout")),
    _c("taint", "Update the taints on one or more nodes", _SEL, _ALL, _OVERWRITE, _DRY, _OUT),
    _c("describe", "Show details of a specific resource or group of resources", _FILE, _SEL, _ALL_NS, _RECURSIVE,
       Flag("show-events", "", "bool", "", True), I("chunk-size", "", "", 500)),
    _c("logs", "Print the logs for a container in a pod", S("container", "c"), B("follow", "f"), B("previous", "p"),
       I("tail", "", "", -1), B("timestamps"), S("since"), S("since-time"), B("all-containers"), _SEL,
       B("prefix"), I("limit-bytes"), I("max-log-requests", "", "", 5), B("ignore-errors"),
       S("pod-running-timeout", "", "", "20s")),
    _c("attach", "Attach to a running container", S("container", "c"), B("stdin", "i"), B("tty", "t")),
    _c("exec", "Execute a command in a container", S("container", "c"), B("stdin", "i"), B("tty", "t"), B("quiet", "q"),
       _FILE, S("pod-running-timeout", "", "", "1m0s")),
    _c("port-forward", "Forward one or more local ports to a pod", L("address")),
    _c("proxy", "Run a proxy to the Kubernetes API server", I("port", "p", "", 8001)),
    _c("cp", "Copy files and directories to and from containers", S("container", "c")),
    _c("auth", "Inspect authorization", _ALL_NS, B("list"), B("quiet", "q"), subs=("can-i", "whoami", "reconcile")),
    _c("debug", "Create debugging sessions for troubleshooting workloads and nodes"),
    _c("events", "List events", _ALL_NS, B("watch", "w"), L("for"), L("types"), _OUT, B("no-headers")),
    _c("diff", "Diff the live version against a would-be applied version", _FILE, _RECURSIVE, B("server-side")),
    _c("apply", "Apply a configuration to a resource by file name or stdin", _FILE, _OUT, _DRY, _RECURSIVE,
       _SEL, B("prune"), B("server-side"), B("force-conflicts"), _VALIDATE, _FIELD_MANAGER,
       Flag("overwrite", "", "bool", "", True), B("force"), I("grace-period", "", "", -1),
       _TIMEOUT, Flag("wait", "", "bool", "", False), _ALL, subs=("edit-last-applied", "set-last-applied",
                                                                 "view-last-applied")),
    _c("patch", "Update fields of a resource", _FILE, S("patch", "p"), S("patch-file"), S("type", "", "", "strategic"),
       _OUT, _DRY, B("local"), S("subresource")),
    _c("replace", "Replace a resource by file name or stdin", _FILE, _OUT, _DRY, B("force"), _RECURSIVE),
    _c("wait", "Experimental: Wait for a specific condition on one or many resources", _FILE, _SEL, _ALL,
       _ALL_NS, S("for"), D("timeout", "", "", 30.0), _FIELD_SEL, _OUT),
    _c("kustomize", "Build a kustomization target from a directory or URL"),
    _c("label", "Update the labels on a resource", _FILE, _SEL, _ALL, _ALL_NS, _OVERWRITE, B("list"), _DRY, _OUT,
       S("resource-version"), B("local")),
    _c("annotate", "Update the annotations on a resource", _FILE, _SEL, _ALL, _ALL_NS, _OVERWRITE, B("list"), _DRY,
       _OUT, S("resource-version"), B("local")),
    _c("completion", "Output shell completion code for the specified shell (bash, zsh, fish, or powershell)"),
    _c("alpha", "Commands for features in alpha"),
    _c("api-resources", "Print the supported API resources on the server", Flag("namespaced", "", "bool", "", True),
       _OUT, B("no-headers"), S("api-group"), L("verbs"), S("sort-by"), B("cached")),
    _c("api-versions", "Print the supported API versions on the server, in the form of \"group/version\""),
    _c("config", "Modify kubeconfig files", B("raw"), B("minify"), B("flatten"), _OUT, B("no-headers"),
       B("current"), B("merge"),
       subs=("current-context", "delete-cluster", "delete-context", "delete-user", "get-clusters", "get-contexts",
             "get-users", "rename-context", "set", "set-cluster", "set-context", "set-credentials", "unset",
             "use-context", "use", "view")),
    _c("plugin", "Provides utilities for interacting with plugins", subs=("list",)),
    _c("version", "Print the client and server version information", B("client"), _OUT),
)}

#: Aliases cobra knows.
_ALIASES = {"use": "use-context"}


@dataclass
class Invocation:
    """A parsed kubectl command line."""

    path: str  # "get", "rollout status", "" for the root
    values: dict[str, Any] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)
    changed: set[str] = field(default_factory=set)
    dash_at: int = -1
    help: bool = False

    def value(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)


def _levenshtein(a: str, b: str) -> int:
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def suggestions(word: str, names: Sequence[str]) -> list[str]:
    """cobra's SuggestionsFor: Levenshtein distance <= 2 or a prefix."""
    out = []
    for n in names:
        if _levenshtein(word.lower(), n.lower()) <= 2 or n.lower().startswith(word.lower()):
            out.append(n)
    return out


def _flag_usage_error(path: str, message: str) -> UsageError:
    return UsageError(f"error: {message}\nSee 'kubectl {path} --help' for usage.".replace("kubectl  ", "kubectl "),
                      exit_code=1)


_GLOBAL_BY_NAME = {f.name: f for f in GLOBAL_FLAGS}
_GLOBAL_BY_SHORT = {f.short: f for f in GLOBAL_FLAGS if f.short}


def _find_words(argv: list[str], spec_flags: dict[str, Flag], spec_short: dict[str, Flag], limit: int) -> list[int]:
    """Indexes of the first ``limit`` non-flag words (skipping flag values)."""
    idx: list[int] = []
    i = 0
    while i < len(argv) and len(idx) < limit:
        s = argv[i]
        if s == "--":
            break
        if s.startswith("--") and len(s) > 2:
            name, eq, _ = s[2:].partition("=")
            f = spec_flags.get(name)
            if f is not None and f.kind != "bool" and not eq:
                i += 1
        elif s.startswith("-") and len(s) > 1:
            body = s[1:]
            for k, c in enumerate(body):
                f = spec_short.get(c)
                if f is None:
                    break
                if f.kind != "bool":
                    if k == len(body) - 1:
                        i += 1
                    break
        else:
            idx.append(i)
        i += 1
    return idx


def parse_command_line(argv: Sequence[str]) -> Invocation:
    """Resolve kubectl arguments (without ``kubectl``) to a command, flags and arguments.

    Raises:
        UsageError: with kubectl's words (``error: unknown flag: --foo`` ...); exit code 1.
    """
    argv = [str(a) for a in argv]
    words = _find_words(argv, _GLOBAL_BY_NAME, _GLOBAL_BY_SHORT, 1)
    if not words:
        try:
            p = parse_flags(GLOBAL_FLAGS, argv)
        except FlagError as e:
            raise _flag_usage_error("", e.message) from None
        return Invocation("", p.values, p.args, p.changed, p.dash_at, help=True)
    name = argv[words[0]]
    if name == "help":
        rest = [a for a in argv[words[0] + 1:] if not a.startswith("-")]
        return Invocation(" ".join(rest[:1]), {}, [], set(), help=True)
    spec = COMMANDS.get(name)
    if spec is None:
        close = suggestions(name, sorted(COMMANDS))
        msg = f'error: unknown command "{name}" for "kubectl"'
        if close:
            msg += "\n\nDid you mean this?\n" + "".join(f"\t{c}\n" for c in close)
            msg = msg.rstrip("\n")
        raise UsageError(msg, exit_code=1)
    flags = list(spec.flags)
    seen = {f.name for f in flags}
    for g in GLOBAL_FLAGS:
        if g.name not in seen:
            flags.append(g)
    taken_short = {f.short for f in spec.flags if f.short}
    flags = [f if f in spec.flags or not f.short or f.short not in taken_short else Flag(f.name, "", f.kind, f.usage,
                                                                                         f.default) for f in flags]
    rest = argv[:words[0]] + argv[words[0] + 1:]
    path = name
    if spec.subcommands:
        by_name = {f.name: f for f in flags}
        by_short = {f.short: f for f in flags if f.short}
        w = _find_words(rest, by_name, by_short, 1)
        if w:
            sub = rest[w[0]]
            sub = _ALIASES.get(sub, sub) if name == "config" else sub
            if sub in spec.subcommands:
                path = f"{name} {sub}"
                rest = rest[:w[0]] + rest[w[0] + 1:]
            elif name in ("rollout", "config", "auth", "top", "certificate", "plugin"):
                raise UsageError(f'error: unknown command "{sub}" for "kubectl {name}"' +
                                 _did_you_mean(sub, spec.subcommands), exit_code=1)
    try:
        p = parse_flags(flags, rest, interspersed=spec.interspersed)
    except FlagError as e:
        raise _flag_usage_error(path, e.message) from None
    return Invocation(path, p.values, p.args, p.changed, p.dash_at, help=bool(p.values.get("help")))


def _did_you_mean(word: str, names: Sequence[str]) -> str:
    close = suggestions(word, names)
    if not close:
        return ""
    return "\n\nDid you mean this?\n" + "\n".join(f"\t{c}" for c in close)


def help_text(path: str) -> str:
    if path and path.split()[0] in COMMANDS:
        spec = COMMANDS[path.split()[0]]
        lines = [spec.short + ".", "", "Usage:", f"  kubectl {path} [options]", ""]
        if spec.subcommands and " " not in path:
            lines[3:3] = ["Available Commands:"] + [f"  {s}" for s in spec.subcommands] + [""]
        lines.append("Use \"kubectl options\" for a list of global command-line options (applies to all commands).")
        return "\n".join(lines) + "\n"
    groups = [
        ("Basic Commands (Beginner)", ["create", "expose", "run", "set"]),
        ("Basic Commands (Intermediate)", ["explain", "get", "edit", "delete"]),
        ("Deploy Commands", ["rollout", "scale", "autoscale"]),
        ("Cluster Management Commands", ["certificate", "cluster-info", "top", "cordon", "uncordon", "drain", "taint"]),
        ("Troubleshooting and Debugging Commands", ["describe", "logs", "attach", "exec", "port-forward", "proxy",
                                                    "cp", "auth", "debug", "events"]),
        ("Advanced Commands", ["diff", "apply", "patch", "replace", "wait", "kustomize"]),
        ("Settings Commands", ["label", "annotate", "completion"]),
        ("Subcommands provided by plugins", []),
        ("Other Commands", ["api-resources", "api-versions", "config", "plugin", "version"]),
    ]
    out = ["kubectl controls the Kubernetes cluster manager.", "",
           " Find more information at: https://kubernetes.io/docs/reference/kubectl/", ""]
    for title, names in groups:
        if not names:
            continue
        out.append(title + ":")
        width = max(len(n) for n in names)
        width = 15
        for n in names:
            out.append(f"  {n.ljust(width)}{COMMANDS[n].short}")
        out.append("")
    out += ["Usage:", "  kubectl [flags] [options]", "",
            "Use \"kubectl <command> --help\" for more information about a given command.",
            "Use \"kubectl options\" for a list of global command-line options (applies to all commands)."]
    return "\n".join(out) + "\n"
