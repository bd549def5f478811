"""The scheduling framework: extension points, profile, one scheduling cycle, the diagnosis.

A cycle is kube-scheduler's ``schedulePod``::

    PreFilter -> Filter (a sample of the nodes, round robin) -> [PostFilter if none fits]
              -> PreScore -> Score -> NormalizeScore -> x weight -> select -> (Reserve -> Bind)

- Plugins return a :class:`Status` for expected rejections (``None`` means
  success); only real faults raise.
- Filtering stops once ``num_feasible_nodes_to_find`` nodes fit
  (``percentageOfNodesToScore``: adaptive ``50 - nodes/125`` %, at least 5 %
  and at least 100 nodes); the next cycle starts after the last node looked at.
- Each score plugin gives 0..100 per node (after its NormalizeScore); the total
  is the weighted sum; ties are broken uniformly with the seeded ``random.Random``.
- When no node fits, :class:`Diagnosis` builds the real ``FailedScheduling``
  message: ``0/3 nodes are available: 1 node(s) had untolerated taint
  {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: ...``
  (reasons counted per node, then sorted as strings, as ``sort.Strings`` does).

Batching (an optimisation, same results): pods that node-local plugins cannot
tell apart share a signature; for a signature seen before, per-node filter
results and raw scores are kept in a table and only nodes whose pods changed
are recomputed, so a cycle costs a scan of a byte array plus a ``max`` over the
sampled nodes instead of running every plugin on every sampled node.
"""

from __future__ import annotations

import enum
import random
from itertools import compress, islice
from operator import itemgetter
from typing import Any, Iterable, Sequence

from ...sim.errors import AivleError
from .cache import Cache, NodeInfo, PodInfo

__all__ = [
    "Code", "Status", "CycleState", "PreFilterResult", "PostFilterResult",
    "Plugin", "QueueSortPlugin", "PreFilterPlugin", "FilterPlugin", "PostFilterPlugin",
    "PreScorePlugin", "ScorePlugin", "ReservePlugin", "BindPlugin",
    "Profile", "default_profile", "Framework", "ScheduleResult", "Diagnosis", "FitError",
    "fit_error_message", "num_feasible_nodes_to_find", "select_host", "explain", "Explanation", "ExplainRow",
    "MAX_NODE_SCORE", "ERR_NO_NODES_AVAILABLE",
]

MAX_NODE_SCORE = 100
MIN_FEASIBLE_NODES_TO_FIND = 100
MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5
ERR_NO_NODES_AVAILABLE = "no nodes available to schedule pods"


class Code(enum.IntEnum):
    """A plugin's verdict, with kube-scheduler's names and values."""

    Success = 0
    Error = 1
    Unschedulable = 2
    UnschedulableAndUnresolvable = 3
    Wait = 4
    Skip = 5
    Pending = 6


class Status:
    """What a plugin says about a pod (and a node): a code, reasons (a tuple), the plugin's name.

    >>> s = Status(Code.Unschedulable, "Insufficient cpu", "Insufficient memory", plugin="NodeResourcesFit")
    >>> s.message, s.is_rejected
    ('Insufficient cpu, Insufficient memory', True)
    >>> s
    <Status Unschedulable NodeResourcesFit: Insufficient cpu, Insufficient memory>
    """

    __slots__ = ("code", "reasons", "plugin")

    def __init__(self, code: Code = Code.Success, *reasons: str, plugin: str = ""):
        self.code = code if type(code) is Code else Code(code)
        self.reasons = reasons
        self.plugin = plugin

    @property
    def message(self) -> str:
        return ", ".join(self.reasons)

    @property
    def is_success(self) -> bool:
        return self.code == Code.Success

    @property
    def is_rejected(self) -> bool:
        return self.code in (Code.Unschedulable, Code.UnschedulableAndUnresolvable)

    @property
    def is_skip(self) -> bool:
        return self.code == Code.Skip

    def with_plugin(self, plugin: str) -> "Status":
        if self.plugin != plugin:
            self.plugin = plugin
        return self

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Status) and self.code == other.code and self.reasons == other.reasons
                and self.plugin == other.plugin)

    def __hash__(self) -> int:
        return hash((self.code, self.reasons, self.plugin))

    def __repr__(self) -> str:
        who = f" {self.plugin}" if self.plugin else ""
        msg = f": {self.message}" if self.reasons else ""
        return f"<Status {self.code.name}{who}{msg}>"


SKIP = Status(Code.Skip)


class PreFilterResult:
    """A PreFilter's narrowing of the nodes to look at (``node_names``)."""

    __slots__ = ("node_names",)

    def __init__(self, node_names: Iterable[str]):
        self.node_names = set(node_names)

    def __repr__(self) -> str:
        return f"PreFilterResult({sorted(self.node_names)})"


class PostFilterResult:
    """What a PostFilter (preemption) proposes: a node to nominate and the pods to evict there."""

    __slots__ = ("nominated_node", "victims")

    def __init__(self, nominated_node: str, victims: Sequence[PodInfo] = ()):
        self.nominated_node = nominated_node
        self.victims = list(victims)

    def __repr__(self) -> str:
        return f"PostFilterResult({self.nominated_node!r}, victims={[v.name for v in self.victims]})"


class CycleState(dict):
    """Data plugins share during one cycle (keys are plugin-chosen strings).

    ``snapshot`` is the :class:`Cache` being scheduled against; ``skip_filter``
    and ``skip_score`` are the plugins whose PreFilter / PreScore said Skip.
    """

    def __init__(self, snapshot: Cache):
        super().__init__()
        self.snapshot = snapshot
        self.skip_filter: set[str] = set()
        self.skip_score: set[str] = set()

    def write(self, key: str, value: Any) -> None:
        self[key] = value

    def read(self, key: str) -> Any:
        return self[key]


# -- plugins -----------------------------------------------------------------
class Plugin:
    """Base of every plugin. ``name`` is the real plugin name.

    ``node_local = True`` promises that the plugin's Filter and Score for a node
    depend only on the pod's :attr:`PodInfo.signature` fields, on that node's
    NodeInfo, and on cluster-wide data that changes only with the node set
    (``Cache.epoch``); its PreFilter / PreScore must not depend on other nodes.
    The framework may then cache its per-node results between pods.
    """

    name = ""
    node_local = False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


class QueueSortPlugin(Plugin):
    def sort_key(self, pod: PodInfo, seq: int) -> tuple:
        """Smaller keys are scheduled first."""
        raise NotImplementedError


class PreFilterPlugin(Plugin):
    def pre_filter(self, state: CycleState, pod: PodInfo) -> "Status | PreFilterResult | None":
        """Precompute per-pod data; return Skip to skip this plugin's Filter, a rejection to fail
        the pod on every node, or a :class:`PreFilterResult` to narrow the nodes."""
        return None


class FilterPlugin(Plugin):
    def filter(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        raise NotImplementedError


class PostFilterPlugin(Plugin):
    def post_filter(self, state: CycleState, pod: PodInfo, diagnosis: "Diagnosis",
                    framework: "Framework") -> "tuple[PostFilterResult | None, Status]":
        raise NotImplementedError


class PreScorePlugin(Plugin):
    def pre_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> Status | None:
        return None


class ScorePlugin(Plugin):
    """``score`` gives a raw score; ``normalize`` says how it becomes 0..100:

    ``None`` (already 0..100), ``"default"`` / ``"default-reverse"``
    (``DefaultNormalizeScore``) or ``"custom"`` (``normalize_score`` is called).
    """

    normalize: str | None = None

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        raise NotImplementedError

    def normalize_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo], scores: list[int]) -> None:
        from .plugins.helpers import default_normalize_score

        if self.normalize == "default":
            default_normalize_score(scores, reverse=False)
        elif self.normalize == "default-reverse":
            default_normalize_score(scores, reverse=True)


class ReservePlugin(Plugin):
    def reserve(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        return None

    def unreserve(self, state: CycleState, pod: PodInfo, node_name: str) -> None:
        return None


class BindPlugin(Plugin):
    def bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        raise NotImplementedError


# -- profile -----------------------------------------------------------------
class Profile:
    """A scheduler profile: ordered plugins (the ``multiPoint`` list) and score weights.

    Each plugin takes part in every extension point it implements, in list order.

    Args:
        plugins: plugin instances.
        weights: score weight per plugin name (default 1).
        scheduler_name: pods whose ``spec.schedulerName`` is this belong to the profile.
        percentage_of_nodes_to_score: 0 = adaptive (the default), else 1..100.
    """

    def __init__(self, plugins: Sequence[Plugin], weights: dict[str, int] | None = None, *,
                 scheduler_name: str = "default-scheduler", percentage_of_nodes_to_score: int = 0):
        self.plugins = list(plugins)
        self.weights = dict(weights or {})
        self.scheduler_name = scheduler_name
        self.percentage_of_nodes_to_score = percentage_of_nodes_to_score

    def weight(self, name: str) -> int:
        return self.weights.get(name, 1)

    def plugin(self, name: str) -> Plugin | None:
        return next((p for p in self.plugins if p.name == name), None)

    def __repr__(self) -> str:
        return f"<Profile {self.scheduler_name} {[p.name for p in self.plugins]}>"


def default_profile(*, preemption: bool = True, scheduler_name: str = "default-scheduler",
                    percentage_of_nodes_to_score: int = 0) -> Profile:
    """kube-scheduler's default plugins (those simulated here), in the real order, with the
    real weights: TaintToleration 3, NodeAffinity 2, PodTopologySpread 2, NodeResourcesFit 1,
    NodeResourcesBalancedAllocation 1, ImageLocality 1.

    >>> default_profile()
    <Profile default-scheduler ['PrioritySort', 'NodeUnschedulable', 'NodeName', 'TaintToleration', 'NodeAffinity', 'NodePorts', 'NodeResourcesFit', 'PodTopologySpread', 'DefaultPreemption', 'NodeResourcesBalancedAllocation', 'ImageLocality', 'DefaultBinder']>
    """
    from .plugins import default_plugins

    plugins = default_plugins()
    if not preemption:
        plugins = [p for p in plugins if p.name != "DefaultPreemption"]
    return Profile(plugins, DEFAULT_WEIGHTS, scheduler_name=scheduler_name,
                   percentage_of_nodes_to_score=percentage_of_nodes_to_score)


DEFAULT_WEIGHTS = {
    "TaintToleration": 3, "NodeAffinity": 2, "NodeResourcesFit": 1, "PodTopologySpread": 2,
    "InterPodAffinity": 2, "NodeResourcesBalancedAllocation": 1, "ImageLocality": 1,
}


def num_feasible_nodes_to_find(num_all_nodes: int, percentage: int = 0) -> int:
    """How many feasible nodes a cycle looks for before it stops filtering.

    >>> [num_feasible_nodes_to_find(n) for n in (50, 100, 500, 1000, 5000, 10000)]
    [50, 100, 230, 420, 500, 500]
    """
    if num_all_nodes < MIN_FEASIBLE_NODES_TO_FIND:
        return num_all_nodes
    if percentage == 0:
        percentage = 50 - num_all_nodes // 125
        if percentage < MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND:
            percentage = MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND
    n = num_all_nodes * percentage // 100
    return max(n, MIN_FEASIBLE_NODES_TO_FIND)


def select_host(totals: Sequence[int], rng: random.Random) -> int:
    """Position of the best total; ties are broken uniformly with ``rng`` (one draw, only on a tie)."""
    best = max(totals)
    count = totals.count(best)
    if count == 1:
        return totals.index(best)
    ties = list(compress(range(len(totals)), map(best.__eq__, totals)))
    return ties[rng.randrange(count)]


# -- the diagnosis -----------------------------------------------------------
def fit_error_message(num_all_nodes: int, statuses: Iterable[Status], *, absent: tuple[int, Status] | None = None,
                      pre_filter_msg: str = "", post_filter_msg: str = "") -> str:
    """The ``FitError`` text: ``0/N nodes are available: <reasons>. <post filter message>``.

    Every reason of every node's status counts once; the ``"<count> <reason>"``
    strings are sorted as strings (so ``"10 X"`` sorts before ``"2 Y"``, as in Go).

    >>> taint = Status(Code.UnschedulableAndUnresolvable, "node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }")
    >>> cpu = Status(Code.Unschedulable, "Insufficient cpu")
    >>> fit_error_message(3, [taint, cpu, cpu])
    '0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu.'
    """
    msg = f"0/{num_all_nodes} nodes are available:"
    if pre_filter_msg:
        msg += f" {pre_filter_msg}."
    else:
        counts: dict[str, int] = {}
        for st in statuses:
            for reason in st.reasons:
                counts[reason] = counts.get(reason, 0) + 1
        if absent is not None and absent[0] > 0:
            for reason in absent[1].reasons:
                counts[reason] = counts.get(reason, 0) + absent[0]
        parts = sorted(f"{n} {reason}" for reason, n in counts.items())
        if parts:
            msg += f" {', '.join(parts)}."
    if post_filter_msg:
        msg += f" {post_filter_msg}"
    return msg


class Diagnosis:
    """Why a pod fits nowhere: a status per node looked at, plus what PreFilter / PostFilter said.

    Attributes:
        num_all_nodes: the cluster's node count (the ``N`` of ``0/N``).
        node_to_status: node name -> the first rejecting Status on that node.
        absent_status: the status of nodes not looked at (a PreFilter narrowed the nodes).
        unschedulable_plugins: plugins that rejected the pod somewhere.
        pre_filter_msg / post_filter_msg: the messages of those extension points.
    """

    __slots__ = ("num_all_nodes", "node_to_status", "absent_status", "unschedulable_plugins",
                 "pre_filter_msg", "post_filter_msg")

    def __init__(self, num_all_nodes: int):
        self.num_all_nodes = num_all_nodes
        self.node_to_status: dict[str, Status] = {}
        self.absent_status: Status | None = None
        self.unschedulable_plugins: set[str] = set()
        self.pre_filter_msg = ""
        self.post_filter_msg = ""

    def status_of(self, node: str) -> Status | None:
        return self.node_to_status.get(node, self.absent_status)

    def message(self) -> str:
        """The exact ``FailedScheduling`` event message."""
        absent = None
        if self.absent_status is not None:
            absent = (self.num_all_nodes - len(self.node_to_status), self.absent_status)
        return fit_error_message(self.num_all_nodes, self.node_to_status.values(), absent=absent,
                                 pre_filter_msg=self.pre_filter_msg, post_filter_msg=self.post_filter_msg)

    def __repr__(self) -> str:
        return f"<Diagnosis {self.message()!r}>"


class FitError(AivleError):
    """A pod fits on no node; ``diagnosis`` says why node by node (message = the real event text)."""

    def __init__(self, pod: PodInfo, diagnosis: Diagnosis):
        super().__init__(diagnosis.message(), pod=pod, diagnosis=diagnosis)


class ScheduleResult:
    """The outcome of one cycle for one pod.

    Attributes:
        pod: the :class:`PodInfo`.
        node: the chosen node name, or None.
        evaluated: how many nodes were looked at (filtered) this cycle.
        scores: ``{node: {plugin: 0..100}}`` for the scored nodes (None when the
            framework runs with ``detail=False``, or when one node fit and no scoring ran).
        totals: ``{node: weighted total}`` alongside ``scores``.
        total: the chosen node's weighted total (None if not scored).
        diagnosis: the :class:`Diagnosis` when no node fits.
        nominated_node / victims: what preemption proposes (the caller evicts).
        binding: the ``v1.Binding`` object to POST when the pod was bound.
    """

    __slots__ = ("pod", "node", "evaluated", "scores", "totals", "total", "diagnosis", "error",
                 "nominated_node", "victims", "binding", "_feasible", "_feasible_src")

    def __init__(self, pod: PodInfo, node: str | None = None):
        self.pod = pod
        self.node = node
        self.evaluated = 0
        self.scores: dict | None = None
        self.totals: dict | None = None
        self.total: int | None = None
        self.diagnosis: Diagnosis | None = None
        self.error = ""
        self.nominated_node = ""
        self.victims: list[PodInfo] = []
        self.binding: dict | None = None
        self._feasible: tuple | None = ()
        self._feasible_src = None

    @property
    def feasible(self) -> tuple[str, ...]:
        """Names of the feasible nodes found this cycle (the sample that was scored)."""
        if self._feasible_src is not None:
            nodes, idx = self._feasible_src
            self._feasible = tuple(nodes[i].name for i in idx)
            self._feasible_src = None
        return self._feasible

    @property
    def scheduled(self) -> bool:
        return self.node is not None

    @property
    def message(self) -> str:
        """The FailedScheduling message ('' when scheduled)."""
        if self.diagnosis is not None:
            return self.diagnosis.message()
        return self.error

    def raise_for_status(self) -> "ScheduleResult":
        """Raise :class:`FitError` if the pod was not scheduled."""
        if self.node is None and self.diagnosis is not None:
            raise FitError(self.pod, self.diagnosis)
        if self.node is None and self.error:
            raise FitError(self.pod, _error_diagnosis(self.error))
        return self

    def __repr__(self) -> str:
        who = f"{self.pod.namespace}/{self.pod.name}"
        if self.node is not None:
            return f"<ScheduleResult {who} -> {self.node}>"
        return f"<ScheduleResult {who} unschedulable: {self.message}>"


def _error_diagnosis(text: str) -> Diagnosis:
    d = Diagnosis(0)
    d.pre_filter_msg = text
    return d


# -- batching ----------------------------------------------------------------
class _ClassTable:
    """Per-node filter verdicts and raw scores for one pod signature (see module docs)."""

    __slots__ = ("state", "pod", "filters", "scorers", "feasible", "status", "raw", "base", "nonzero", "dirty")

    def __init__(self, state: CycleState, pod: PodInfo, filters: list, scorers: list, nodes: list[NodeInfo]):
        self.state = state
        self.pod = pod
        self.filters = filters          # (plugin name, bound filter method)
        self.scorers = scorers          # (plugin, weight, mode) mode: None | False | True (reverse)
        n = len(nodes)
        self.feasible = bytearray(n)
        self.status: list[Status | None] = [None] * n
        self.raw = [[0] * n for _ in scorers]
        self.base = [0] * n
        self.nonzero = [0] * len(scorers)
        self.dirty: set[int] = set()
        for i, ni in enumerate(nodes):
            self.refresh(i, ni)

    def refresh(self, i: int, ni: NodeInfo) -> None:
        state, pod = self.state, self.pod
        ok = 1
        status = None
        for name, f in self.filters:
            st = f(state, pod, ni)
            if st is not None and st.code != Code.Success:
                status = st.with_plugin(name)
                ok = 0
                break
        self.feasible[i] = ok
        self.status[i] = status
        base = 0
        for j, (pl, weight, mode) in enumerate(self.scorers):
            raw = self.raw[j]
            old = raw[i]
            v = pl.score(state, pod, ni) if ok else 0
            raw[i] = v
            if mode is None:
                base += weight * v
            elif (v != 0) != (old != 0):
                self.nonzero[j] += 1 if v else -1
        self.base[i] = base


def _norm(v: int, top: int, reverse: bool) -> int:
    if top == 0:
        return MAX_NODE_SCORE if reverse else 0
    s = MAX_NODE_SCORE * v // top
    return MAX_NODE_SCORE - s if reverse else s


_NORMAL_MODES = {None: None, "default": False, "default-reverse": True}


# -- the framework -----------------------------------------------------------
class Framework:
    """Runs scheduling cycles for one :class:`Profile`.

    Args:
        profile: the plugins and weights (default: :func:`default_profile`).
        rng: the seeded ``random.Random`` that breaks ties (and picks preemption's offset).
        detail: record per-node, per-plugin scores in every result (turn off for speed).
        batching: reuse per-node results between pods with the same signature
            (same decisions; off = run every plugin on every sampled node).

    >>> from aivle_k8s.cluster.scheduler.cache import Cache
    >>> nodes = [{"metadata": {"name": f"w{i}"}, "status": {"allocatable": {"cpu": "2", "memory": "4Gi", "pods": "110"}}} for i in (1, 2)]
    >>> pod = {"metadata": {"name": "web"}, "spec": {"containers": [{"name": "c", "image": "nginx",
    ...        "resources": {"requests": {"cpu": "3"}}}]}}
    >>> Framework(rng=random.Random(0)).schedule_one(pod, Cache(nodes)).message
    '0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.'
    """

    def __init__(self, profile: Profile | None = None, rng: random.Random | None = None, *,
                 detail: bool = True, batching: bool = True):
        self.profile = profile or default_profile()
        self.rng = rng if rng is not None else random.Random(0)
        self.detail = detail
        self.batching = batching
        plugins = self.profile.plugins
        self.queue_sort = next((p for p in plugins if isinstance(p, QueueSortPlugin)), None)
        self.pre_filter_plugins = [p for p in plugins if isinstance(p, PreFilterPlugin)]
        self.filter_plugins = [p for p in plugins if isinstance(p, FilterPlugin)]
        self.post_filter_plugins = [p for p in plugins if isinstance(p, PostFilterPlugin)]
        self.pre_score_plugins = [p for p in plugins if isinstance(p, PreScorePlugin)]
        self.score_plugins = [p for p in plugins if isinstance(p, ScorePlugin)]
        self.reserve_plugins = [p for p in plugins if isinstance(p, ReservePlugin)]
        self.bind_plugins = [p for p in plugins if isinstance(p, BindPlugin)]
        self.next_start_node_index = 0
        self._seen: dict = {}
        self._ineligible: set = set()

    @property
    def scheduler_name(self) -> str:
        return self.profile.scheduler_name

    # -- extension point runners --------------------------------------------
    def run_pre_filter(self, state: CycleState, pod: PodInfo) -> "tuple[set[str] | None, Status | None, list[str]]":
        """Run PreFilter plugins: (node names to restrict to or None, rejection or None, narrowing plugins)."""
        names: set[str] | None = None
        narrowing: list[str] = []
        for pl in self.pre_filter_plugins:
            r = pl.pre_filter(state, pod)
            if r is None:
                continue
            if isinstance(r, PreFilterResult):
                narrowing.append(pl.name)
                names = set(r.node_names) if names is None else names & r.node_names
                if not names:
                    if len(narrowing) == 1:
                        msg = f"node(s) didn't satisfy plugin {narrowing[0]}"
                    else:
                        msg = f"node(s) didn't satisfy plugin(s) [{' '.join(narrowing)}] simultaneously"
                    return None, Status(Code.UnschedulableAndUnresolvable, msg, plugin=pl.name), narrowing
                continue
            if r.code == Code.Skip:
                state.skip_filter.add(pl.name)
                continue
            if r.code != Code.Success:
                return None, r.with_plugin(pl.name), narrowing
        return names, None, narrowing

    def run_filter_plugins(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> Status | None:
        """Run Filter plugins in order; the first rejection wins (None = the node fits)."""
        skip = state.skip_filter
        for pl in self.filter_plugins:
            if pl.name in skip:
                continue
            st = pl.filter(state, pod, node)
            if st is not None and st.code != Code.Success:
                return st.with_plugin(pl.name)
        return None

    def run_pre_score(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> None:
        for pl in self.pre_score_plugins:
            st = pl.pre_score(state, pod, nodes)
            if st is not None and st.code == Code.Skip:
                state.skip_score.add(pl.name)

    def active_score_plugins(self, state: CycleState) -> list[ScorePlugin]:
        return [p for p in self.score_plugins if p.name not in state.skip_score]

    def score_nodes(self, state: CycleState, pod: PodInfo, nodes: list[NodeInfo]) -> tuple[list[int], dict[str, list[int]]]:
        """Score + NormalizeScore + weights: (weighted totals, {plugin: normalized scores}) per node."""
        totals = [0] * len(nodes)
        per_plugin: dict[str, list[int]] = {}
        for pl in self.active_score_plugins(state):
            scores = [pl.score(state, pod, ni) for ni in nodes]
            if pl.normalize is not None:
                pl.normalize_score(state, pod, nodes, scores)
            per_plugin[pl.name] = scores
            w = self.profile.weight(pl.name)
            for i, s in enumerate(scores):
                totals[i] += w * s
        return totals, per_plugin

    def run_reserve(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        for i, pl in enumerate(self.reserve_plugins):
            st = pl.reserve(state, pod, node_name)
            if st is not None and st.code != Code.Success:
                for done in reversed(self.reserve_plugins[: i + 1]):
                    done.unreserve(state, pod, node_name)
                return st.with_plugin(pl.name)
        return None

    def run_unreserve(self, state: CycleState, pod: PodInfo, node_name: str) -> None:
        for pl in reversed(self.reserve_plugins):
            pl.unreserve(state, pod, node_name)

    def run_bind(self, state: CycleState, pod: PodInfo, node_name: str) -> Status | None:
        for pl in self.bind_plugins:
            st = pl.bind(state, pod, node_name)
            if st is not None and st.code == Code.Skip:
                continue
            return st
        return Status(Code.Error, "no bind plugin bound the pod")

    def num_feasible_nodes_to_find(self, n: int) -> int:
        return num_feasible_nodes_to_find(n, self.profile.percentage_of_nodes_to_score)

    # -- one cycle ---------------------------------------------------------------
    def schedule_one(self, pod: dict | PodInfo, nodes: Cache | Iterable) -> ScheduleResult:
        """Find the node for one pod (the cache is not changed; assuming and binding is the caller's).

        Args:
            pod: Pod JSON or a PodInfo.
            nodes: a :class:`Cache`, or NodeInfos / Node dicts (wrapped in a fresh Cache).
        """
        pi = pod if isinstance(pod, PodInfo) else PodInfo(pod)
        cache = nodes if isinstance(nodes, Cache) else Cache(nodes)
        all_nodes = cache.nodes
        result = ScheduleResult(pi)
        if not all_nodes:
            result.error = ERR_NO_NODES_AVAILABLE
            return result
        if self.batching and pi.signature is not None and not pi.nominated_node:
            table = self._table(pi, cache)
            if table is not None:
                return self._schedule_batched(pi, cache, table, result)
        return self._schedule_generic(pi, cache, result)

    def _schedule_generic(self, pi: PodInfo, cache: Cache, result: ScheduleResult) -> ScheduleResult:
        all_nodes = cache.nodes
        state = CycleState(cache)
        diagnosis = Diagnosis(len(all_nodes))
        names, rejected, narrowing = self.run_pre_filter(state, pi)
        if rejected is not None:
            if rejected.code not in (Code.Unschedulable, Code.UnschedulableAndUnresolvable):
                result.error = f'running PreFilter plugin "{rejected.plugin}": {rejected.message}'
                return result
            diagnosis.absent_status = rejected
            diagnosis.pre_filter_msg = rejected.message
            diagnosis.unschedulable_plugins.add(rejected.plugin)
            return self._fail(state, pi, result, diagnosis)
        nodes = all_nodes
        if names is not None:
            nodes = [ni for ni in all_nodes if ni.name in names]
            diagnosis.absent_status = Status(
                Code.UnschedulableAndUnresolvable,
                f"node(s) didn't satisfy plugin(s) [{' '.join(sorted(narrowing))}]")
        feasible: list[NodeInfo] = []
        if pi.nominated_node:
            ni = cache.node(pi.nominated_node)
            if ni is not None and self.run_filter_plugins(state, pi, ni) is None:
                feasible = [ni]
                result.evaluated = 1
        if not feasible and nodes:
            n = len(nodes)
            want = self.num_feasible_nodes_to_find(n)
            start = self.next_start_node_index % n
            statuses = diagnosis.node_to_status
            run = self.run_filter_plugins
            for j in range(n):
                ni = nodes[(start + j) % n]
                st = run(state, pi, ni)
                if st is None:
                    feasible.append(ni)
                    if len(feasible) >= want:
                        break
                else:
                    statuses[ni.name] = st
                    if st.code == Code.Error:
                        result.error = st.message
                        return result
                    diagnosis.unschedulable_plugins.add(st.plugin)
            processed = len(feasible) + len(statuses)
            self.next_start_node_index = (start + processed) % n
            result.evaluated = processed
        if not feasible:
            return self._fail(state, pi, result, diagnosis)
        result._feasible = tuple(ni.name for ni in feasible)
        if len(feasible) == 1:
            result.node = feasible[0].name
            return result
        self.run_pre_score(state, pi, feasible)
        totals, per_plugin = self.score_nodes(state, pi, feasible)
        pos = select_host(totals, self.rng)
        result.node = feasible[pos].name
        result.total = totals[pos]
        if self.detail:
            result.totals = {ni.name: totals[i] for i, ni in enumerate(feasible)}
            result.scores = {ni.name: {p: s[i] for p, s in per_plugin.items()} for i, ni in enumerate(feasible)}
        return result

    def _fail(self, state: CycleState, pi: PodInfo, result: ScheduleResult, diagnosis: Diagnosis) -> ScheduleResult:
        result.diagnosis = diagnosis
        result.evaluated = max(result.evaluated, len(diagnosis.node_to_status))
        for pl in self.post_filter_plugins:
            res, st = pl.post_filter(state, pi, diagnosis, self)
            if st is not None and st.code == Code.Success:
                diagnosis.post_filter_msg = ""
                if res is not None:
                    result.nominated_node = res.nominated_node
                    result.victims = list(res.victims)
                break
            if st is not None:
                diagnosis.post_filter_msg = st.message
                if st.code == Code.Error:
                    break
        return result

    # -- batching ----------------------------------------------------------------
    def _table(self, pi: PodInfo, cache: Cache) -> _ClassTable | None:
        sig = pi.signature
        if sig in self._ineligible:
            return None
        key = (id(self), sig)
        table = cache.tables.get(key)
        if table is not None:
            return table
        seen = self._seen
        if seen.get(sig, 0) < 1:
            if len(seen) > 4096:
                seen.clear()
            seen[sig] = 1
            return None
        state = CycleState(cache)
        names, rejected, _ = self.run_pre_filter(state, pi)
        filters = [p for p in self.filter_plugins if p.name not in state.skip_filter]
        eligible = names is None and rejected is None and all(p.node_local for p in filters)
        if eligible:
            self.run_pre_score(state, pi, [])
            scorers = []
            for p in self.active_score_plugins(state):
                if not p.node_local or p.normalize not in _NORMAL_MODES:
                    eligible = False
                    break
                scorers.append((p, self.profile.weight(p.name), _NORMAL_MODES[p.normalize]))
        if not eligible:
            self._ineligible.add(sig)
            return None
        if len(cache.tables) >= 64:
            cache.tables.pop(next(iter(cache.tables)))
        table = _ClassTable(state, pi, [(p.name, p.filter) for p in filters], scorers, cache.nodes)
        cache.tables[key] = table
        return table

    def _schedule_batched(self, pi: PodInfo, cache: Cache, table: _ClassTable, result: ScheduleResult) -> ScheduleResult:
        nodes = cache.nodes
        if table.dirty:
            refresh = table.refresh
            for i in table.dirty:
                refresh(i, nodes[i])
            table.dirty.clear()
        n = len(nodes)
        want = self.num_feasible_nodes_to_find(n)
        start = self.next_start_node_index % n
        feas = table.feasible
        idx = list(islice(compress(range(start, n), feas[start:]), want))
        if len(idx) < want and start:
            idx += islice(compress(range(start), feas[:start]), want - len(idx))
        if not idx:
            # nothing fits: every node was looked at; the table knows why each one said no
            diagnosis = Diagnosis(n)
            statuses = table.status
            diagnosis.node_to_status = {nodes[(start + j) % n].name: statuses[(start + j) % n] for j in range(n)}
            diagnosis.unschedulable_plugins = {st.plugin for st in diagnosis.node_to_status.values()}
            result.evaluated = n
            return self._fail(table.state, pi, result, diagnosis)
        processed = (idx[-1] - start) % n + 1 if len(idx) == want else n
        self.next_start_node_index = (start + processed) % n
        result.evaluated = processed
        result._feasible_src = (nodes, idx)
        if len(idx) == 1:
            result.node = nodes[idx[0]].name
            return result
        getter = itemgetter(*idx)
        totals = getter(table.base)
        const = 0  # plugins whose normalized score is the same on every sampled node
        for j, (pl, weight, mode) in enumerate(table.scorers):
            if mode is None:
                continue
            top = max(getter(table.raw[j])) if table.nonzero[j] else 0
            if top == 0:
                const += weight * (MAX_NODE_SCORE if mode else 0)
            else:
                raw = getter(table.raw[j])
                totals = tuple(t + weight * _norm(v, top, mode) for t, v in zip(totals, raw))
        pos = select_host(totals, self.rng)
        best = idx[pos]
        result.node = nodes[best].name
        result.total = totals[pos] + const
        if self.detail:
            tops = {}
            for j, (pl, weight, mode) in enumerate(table.scorers):
                if mode is not None:
                    tops[j] = max(getter(table.raw[j]))
            scores = {}
            for k, i in enumerate(idx):
                row = {}
                for j, (pl, weight, mode) in enumerate(table.scorers):
                    v = table.raw[j][i]
                    row[pl.name] = v if mode is None else _norm(v, tops[j], mode)
                scores[nodes[i].name] = row
            result.scores = scores
            result.totals = {nodes[i].name: totals[k] + const for k, i in enumerate(idx)}
        return result

    # -- explain -----------------------------------------------------------------
    def explain(self, pod: dict | PodInfo, nodes: Cache | Iterable) -> "Explanation":
        """Every node, every plugin: the filter verdict and the score (nothing is changed).

        Unlike a cycle, every node is filtered and every feasible node scored (a
        cycle scores a sample once the cluster has 100 nodes or more).
        """
        pi = pod if isinstance(pod, PodInfo) else PodInfo(pod)
        cache = nodes if isinstance(nodes, Cache) else Cache(nodes)
        all_nodes = cache.nodes
        state = CycleState(cache)
        rows: list[ExplainRow] = []
        diagnosis = Diagnosis(len(all_nodes))
        names, rejected, narrowing = self.run_pre_filter(state, pi)
        feasible: list[NodeInfo] = []
        for ni in all_nodes:
            if rejected is not None:
                rows.append(ExplainRow(ni.name, rejected.plugin, "prefilter", "rejected", rejected.message))
                continue
            if names is not None and ni.name not in names:
                reason = f"node(s) didn't satisfy plugin(s) [{' '.join(sorted(narrowing))}]"
                rows.append(ExplainRow(ni.name, " ".join(narrowing), "prefilter", "rejected", reason))
                diagnosis.node_to_status[ni.name] = Status(Code.UnschedulableAndUnresolvable, reason)
                continue
            failed: Status | None = None
            for pl in self.filter_plugins:
                if pl.name in state.skip_filter:
                    rows.append(ExplainRow(ni.name, pl.name, "filter", "skipped"))
                elif failed is not None:
                    rows.append(ExplainRow(ni.name, pl.name, "filter", "not run"))
                else:
                    st = pl.filter(state, pi, ni)
                    if st is None or st.code == Code.Success:
                        rows.append(ExplainRow(ni.name, pl.name, "filter", "passed"))
                    else:
                        failed = st.with_plugin(pl.name)
                        rows.append(ExplainRow(ni.name, pl.name, "filter", "rejected", st.message))
            if failed is None:
                feasible.append(ni)
            else:
                diagnosis.node_to_status[ni.name] = failed
        totals: dict[str, int] = {}
        if feasible:
            self.run_pre_score(state, pi, feasible)
            weighted, per_plugin = self.score_nodes(state, pi, feasible)
            by_node = {ni.name: i for i, ni in enumerate(feasible)}
            for pl in self.score_plugins:
                for ni in feasible:
                    if pl.name in state.skip_score:
                        rows.append(ExplainRow(ni.name, pl.name, "score", "skipped", weight=self.profile.weight(pl.name)))
                    else:
                        rows.append(ExplainRow(ni.name, pl.name, "score", "scored",
                                               score=per_plugin[pl.name][by_node[ni.name]],
                                               weight=self.profile.weight(pl.name)))
            totals = {ni.name: weighted[i] for i, ni in enumerate(feasible)}
            message = ""
        else:
            if rejected is not None:
                diagnosis.absent_status = rejected
                diagnosis.pre_filter_msg = rejected.message
            message = Framework(self.profile, random.Random(0))._fail(
                state, pi, ScheduleResult(pi), diagnosis).message if self.post_filter_plugins else diagnosis.message()
        order = {ni.name: i for i, ni in enumerate(all_nodes)}
        rows.sort(key=lambda r: (order[r.node], r.stage != "prefilter", r.stage != "filter"))
        return Explanation(pi, rows, totals, message)


class ExplainRow:
    """One line of an explanation: a node, a plugin, what it said."""

    __slots__ = ("node", "plugin", "stage", "result", "reason", "score", "weight")

    def __init__(self, node: str, plugin: str, stage: str, result: str, reason: str = "",
                 score: int | None = None, weight: int | None = None):
        self.node, self.plugin, self.stage, self.result = node, plugin, stage, result
        self.reason, self.score, self.weight = reason, score, weight

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__slots__}

    def __repr__(self) -> str:
        extra = f" {self.reason}" if self.reason else ""
        if self.score is not None:
            extra += f" score={self.score} x{self.weight}"
        return f"<ExplainRow {self.node} {self.plugin} {self.stage} {self.result}{extra}>"


class Explanation:
    """Per-node, per-plugin table of a pod's scheduling (for labs and widgets).

    Attributes: ``rows`` (:class:`ExplainRow`), ``totals`` (weighted total per
    feasible node), ``best`` (nodes with the best total), ``message`` (the
    FailedScheduling message when nothing fits).
    """

    def __init__(self, pod: PodInfo, rows: list[ExplainRow], totals: dict[str, int], message: str):
        self.pod = pod
        self.rows = rows
        self.totals = totals
        self.message = message
        top = max(totals.values(), default=None)
        self.best = [n for n, t in totals.items() if t == top] if totals else []

    def as_rows(self) -> list[dict]:
        return [r.as_dict() for r in self.rows]

    def __str__(self) -> str:
        head = ("NODE", "PLUGIN", "STAGE", "RESULT", "SCORE", "REASON")
        lines = [head]
        for r in self.rows:
            score = "" if r.score is None else f"{r.score} x{r.weight}"
            lines.append((r.node, r.plugin, r.stage, r.result, score, r.reason))
        widths = [max(len(line[i]) for line in lines) for i in range(len(head) - 1)]
        out = ["   ".join(c.ljust(w) for c, w in zip(line[:-1], widths)) + "   " + line[-1] for line in lines]
        out = [line.rstrip() for line in out]
        if self.totals:
            out.append("")
            out.extend(f"total {n}: {t}" + ("  <- best" if n in self.best else "") for n, t in self.totals.items())
        if self.message:
            out.append("")
            out.append(self.message)
        return "\n".join(out)

    def __repr__(self) -> str:
        return f"<Explanation {self.pod.namespace}/{self.pod.name} rows={len(self.rows)} best={self.best}>"


def explain(pod: dict | PodInfo, nodes: Cache | Iterable, profile: Profile | None = None) -> Explanation:
    """Explain where ``pod`` could go and why: see :meth:`Framework.explain`."""
    return Framework(profile, random.Random(0)).explain(pod, nodes)
