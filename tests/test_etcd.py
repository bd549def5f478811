"""etcd: the MVCC store, watches, compaction, snapshots and the Raft-replicated cluster."""

import io
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aivle_k8s.cluster.etcd import (
    Compacted,
    Compare,
    Delete,
    DuplicateKey,
    EmptyKey,
    EndpointDown,
    EtcdCluster,
    EtcdError,
    FutureRevision,
    Get,
    NoLeader,
    NoSpace,
    Put,
    RequestTimedOut,
    RequestTooLarge,
    SnapshotCorrupt,
    Store,
    Unavailable,
    snapshot_status,
)
from aivle_k8s.sim.clock import Loop
from aivle_k8s.sim.errors import AivleError, InvalidInput

THREE = ["etcd-0", "etcd-1", "etcd-2"]


@pytest.fixture
def loop():
    return Loop()


@pytest.fixture
def store(loop):
    return Store(loop)


def values(resp):
    return [(kv.key, kv.value) for kv in resp.kvs]


def collect(seen):
    return lambda ev: seen.append((ev.type, ev.kv.key, ev.kv.value, ev.kv.mod_revision))


# ------------------------------------------------------------------------------------------
# revisions, versions, reads
# ------------------------------------------------------------------------------------------

def test_fresh_store_is_at_revision_1_and_each_put_adds_one(store):
    assert store.revision == 1
    assert store.put("a", "1").header.revision == 2
    assert store.put("b", "1").header.revision == 3
    assert store.revision == 3


def test_updates_bump_version_and_mod_revision_but_keep_create_revision(store):
    store.put("k", "v1")
    store.put("other", "x")
    store.put("k", "v2")
    kv = store.get("k").kvs[0]
    assert (kv.create_revision, kv.mod_revision, kv.version, kv.value) == (2, 4, 2, b"v2")


def test_str_and_bytes_name_the_same_key_and_values_come_back_as_bytes(store):
    store.put("café", "naïve")
    assert store.get("café".encode()).kvs[0].value == "naïve".encode()


def test_deleted_key_comes_back_as_a_new_key_with_version_1(store):
    store.put("k", "a")
    store.put("k", "b")
    assert store.delete("k") == 1
    assert store.get("k").count == 0
    store.put("k", "c")
    kv = store.get("k").kvs[0]
    assert (kv.create_revision, kv.version) == (5, 1)


def test_deleting_a_missing_key_writes_no_revision(store):
    store.put("a", "1")
    assert store.delete("nope") == 0
    assert store.revision == 2


def test_reads_at_a_past_revision_return_history(store):
    store.put("k", "v1")  # 2
    store.put("k", "v2")  # 3
    store.delete("k")  # 4
    store.put("j", "x")  # 5
    assert store.get("k", revision=1).count == 0
    assert store.get("k", revision=2).kvs[0].value == b"v1"
    assert store.get("k", revision=3).kvs[0].value == b"v2"
    assert store.get("k", revision=4).count == 0
    assert values(store.get("", prefix=True, revision=3)) == [(b"k", b"v2")]
    assert store.get("", prefix=True, revision=5).count == 1


def test_reading_a_future_revision_raises_etcds_error(store):
    store.put("k", "v")
    with pytest.raises(FutureRevision) as e:
        store.get("k", revision=3)
    assert str(e.value) == "etcdserver: mvcc: required revision is a future revision"
    assert isinstance(e.value, EtcdError) and isinstance(e.value, AivleError)


def test_prefix_range_is_sorted_with_limit_more_and_total_count(store):
    for name in ["web-3", "web-1", "db-1", "web-2"]:
        store.put(f"/registry/pods/default/{name}", name)
    store.put("/registry/services/default/web", "svc")
    r = store.get("/registry/pods/", prefix=True, limit=2)
    assert [kv.key for kv in r.kvs] == [b"/registry/pods/default/db-1", b"/registry/pods/default/web-1"]
    assert (r.count, r.more) == (4, True)
    r = store.get("/registry/pods/", prefix=True, limit=10)
    assert (len(r.kvs), r.count, r.more) == (4, 4, False)


def test_range_end_keys_only_and_count_only(store):
    for k in "abcde":
        store.put(k, k * 3)
    assert [kv.key for kv in store.get("b", range_end="d").kvs] == [b"b", b"c"]
    assert {kv.value for kv in store.get("a", prefix=True, keys_only=True).kvs} == {b""}
    r = store.get("", prefix=True, count_only=True)
    assert (r.kvs, r.count, r.more) == ([], 5, False)


def test_prefix_delete_removes_only_keys_under_that_prefix(store):
    store.put("/a/1", "x")
    store.put("/a/2", "x")
    store.put("/ab", "x")
    assert store.delete("/a/", prefix=True) == 2
    assert [kv.key for kv in store.get("/", prefix=True).kvs] == [b"/ab"]
    assert store.revision == 5  # one revision for the whole delete


def test_prefix_of_all_ff_bytes_ranges_to_the_end(store):
    store.put(b"\xff\xff", "x")
    store.put(b"\xff\xff\x01", "y")
    assert store.get(b"\xff\xff", prefix=True).count == 2


def test_empty_key_is_refused(store):
    with pytest.raises(EmptyKey) as e:
        store.put("", "x")
    assert str(e.value) == "etcdserver: key is not provided"
    assert isinstance(e.value, InvalidInput)
    with pytest.raises(EmptyKey):
        store.get("")


def test_put_prev_kv_returns_the_value_before(store):
    store.put("k", "old")
    assert store.put("k", "new", prev_kv=True).prev_kv.value == b"old"
    assert store.put("fresh", "x", prev_kv=True).prev_kv is None


# ------------------------------------------------------------------------------------------
# transactions
# ------------------------------------------------------------------------------------------

def test_txn_compare_and_swap_succeeds_when_mod_revision_matches(store):
    rv = store.put("/registry/pods/default/web", "v1").header.revision
    r = store.txn([Compare.mod_revision("/registry/pods/default/web") == rv],
                  [Put("/registry/pods/default/web", "v2")],
                  [Get("/registry/pods/default/web")])
    assert r.succeeded and r.header.revision == rv + 1
    assert store.get("/registry/pods/default/web").kvs[0].value == b"v2"


def test_txn_compare_and_swap_fails_on_a_stale_revision_and_changes_nothing(store):
    store.put("k", "v1")
    store.put("k", "v2")
    r = store.txn([Compare.mod_revision("k") == 2], [Put("k", "lost update")], [Get("k")])
    assert not r.succeeded
    assert r.responses[0].kvs[0].value == b"v2"  # the failure branch shows the current object
    assert store.revision == 3 and store.get("k").kvs[0].value == b"v2"


def test_txn_create_only_if_absent_with_create_revision_zero(store):
    create = lambda: store.txn([Compare.create_revision("k") == 0], [Put("k", "first")])  # noqa: E731
    assert create().succeeded
    assert not create().succeeded
    assert store.get("k").kvs[0].value == b"first"


def test_txn_compares_version_and_value_and_missing_value_compare_fails(store):
    store.put("k", "abc")
    assert store.txn([Compare.version("k") > 0, Compare.value("k") == "abc"]).succeeded
    assert store.txn([Compare("k", "ver", "<", 2), Compare("k", "value", "!=", "x")]).succeeded
    assert not store.txn([Compare.value("missing") == ""]).succeeded
    assert store.txn([Compare.version("missing") == 0]).succeeded


def test_txn_writes_share_one_revision(store):
    store.put("gone", "x")
    r = store.txn([], [Put("a", "1"), Put("b", "2"), Delete("gone")])
    assert r.header.revision == 3
    assert {kv.mod_revision for kv in store.get("", prefix=True).kvs} == {3}


def test_txn_reads_see_its_own_earlier_writes(store):
    r = store.txn([], [Put("a", "1"), Get("a")])
    assert r.responses[1].kvs[0].value == b"1"


def test_txn_writing_a_key_twice_is_refused(store):
    with pytest.raises(DuplicateKey) as e:
        store.txn([], [Put("a", "1"), Put("a", "2")])
    assert str(e.value) == "etcdserver: duplicate key given in txn request"
    with pytest.raises(DuplicateKey):
        store.txn([], [Delete("a/", prefix=True), Put("a/x", "1")])
    assert store.revision == 1


def test_txn_with_an_impossible_read_is_refused_whole(store):
    store.put("a", "1")
    with pytest.raises(FutureRevision):
        store.txn([], [Put("b", "2"), Get("a", revision=99)])
    assert store.revision == 2 and store.get("b").count == 0


def test_bad_compare_is_an_invalid_input():
    with pytest.raises(InvalidInput):
        Compare("k", "size", "=", 1)
    with pytest.raises(InvalidInput):
        Compare("k", "mod", "=", "5")


# ------------------------------------------------------------------------------------------
# compaction
# ------------------------------------------------------------------------------------------

def test_reading_below_the_compacted_revision_raises_etcds_error(store):
    for i in range(5):
        store.put("k", str(i))  # revisions 2..6
    store.compact(4)
    with pytest.raises(Compacted) as e:
        store.get("k", revision=3)
    assert str(e.value) == "etcdserver: mvcc: required revision has been compacted"
    assert e.value.compact_revision == 4
    assert store.get("k", revision=4).kvs[0].value == b"2"  # the compacted revision itself stays readable
    assert store.get("k", revision=5).kvs[0].value == b"3"


def test_compacting_twice_or_into_the_future_is_refused(store):
    store.put("k", "v")
    store.compact(2)
    with pytest.raises(Compacted):
        store.compact(2)
    with pytest.raises(FutureRevision):
        store.compact(10)


def test_compaction_keeps_current_values_and_forgets_deleted_keys(store):
    store.put("keep", "1")
    store.put("keep", "2")
    store.put("gone", "x")
    store.delete("gone")
    store.compact(store.revision)
    assert values(store.get("", prefix=True)) == [(b"keep", b"2")]
    assert b"gone" not in store._index
    assert store.get("keep").kvs[0].version == 2


def test_compaction_frees_space_in_use_but_not_the_file_until_defrag(store):
    for i in range(50):
        store.put("k", "x" * 1000)
    size = store.db_size
    store.compact(store.revision)
    assert store.db_size_in_use < size and store.db_size == size
    store.defrag()
    assert store.db_size == store.db_size_in_use


# ------------------------------------------------------------------------------------------
# watches
# ------------------------------------------------------------------------------------------

def test_watch_delivers_events_through_the_loop_in_order(store, loop):
    seen = []
    store.watch("k", callback=collect(seen))
    store.put("k", "1")
    store.put("k", "2")
    store.delete("k")
    assert seen == []  # never inside the write
    loop.advance(0)
    assert seen == [("PUT", b"k", b"1", 2), ("PUT", b"k", b"2", 3), ("DELETE", b"k", b"", 4)]


def test_watch_events_carry_the_previous_value(store, loop):
    events = []
    store.watch("k", callback=events.append)
    store.put("k", "1")
    store.put("k", "2")
    store.delete("k")
    loop.advance(0)
    assert [e.prev_kv and e.prev_kv.value for e in events] == [None, b"1", b"2"]


def test_prefix_watch_sees_only_its_prefix(store, loop):
    seen = []
    store.watch("/registry/pods/", prefix=True, callback=collect(seen))
    store.put("/registry/pods/a", "1")
    store.put("/registry/services/a", "1")
    store.txn([], [Put("/registry/pods/b", "2"), Put("/registry/pods/c", "3")])
    loop.advance(0)
    assert [(k, rev) for _, k, _, rev in seen] == [
        (b"/registry/pods/a", 2), (b"/registry/pods/b", 4), (b"/registry/pods/c", 4)]


def test_watch_from_a_past_revision_replays_history_then_follows(store, loop):
    store.put("a", "1")  # 2
    store.put("a", "2")  # 3
    store.put("b", "x")  # 4
    seen = []
    w = store.watch("a", start_revision=3, callback=collect(seen))
    store.put("a", "3")  # 5
    loop.advance(0)
    assert seen == [("PUT", b"a", b"2", 3), ("PUT", b"a", b"3", 5)]
    assert w.last_revision == 5


def test_watch_from_a_future_revision_waits_for_it(store, loop):
    seen = []
    store.watch("a", start_revision=4, callback=collect(seen))
    store.put("a", "1")  # 2
    store.put("a", "2")  # 3
    store.put("a", "3")  # 4
    loop.advance(0)
    assert [rev for *_, rev in seen] == [4]


def test_watch_below_the_compacted_revision_raises(store):
    for i in range(4):
        store.put("a", str(i))
    store.compact(4)
    with pytest.raises(Compacted):
        store.watch("a", start_revision=3, callback=print)


def test_cancelled_watch_gets_nothing_more_not_even_pending_events(store, loop):
    seen = []
    w = store.watch("a", callback=collect(seen))
    store.put("a", "1")
    loop.advance(0)
    store.put("a", "2")
    w.cancel()
    store.put("a", "3")
    loop.advance(0)
    assert [v for _, _, v, _ in seen] == [b"1"] and w.cancelled
    assert store.watches == []


def test_a_failing_watch_callback_loses_no_events(store, loop):
    seen = []

    def fragile(ev):
        seen.append(ev.kv.value)
        if ev.kv.value == b"2":
            raise RuntimeError("bug in the watcher")

    store.watch("k", callback=fragile)
    for v in "123":
        store.put("k", v)
    with pytest.raises(RuntimeError):
        loop.advance(0)
    loop.advance(0)
    assert seen == [b"1", b"2", b"3"]


def test_two_watchers_each_see_every_event_in_order(store, loop):
    first, second = [], []
    store.watch("", prefix=True, callback=collect(first))
    store.watch("", prefix=True, callback=collect(second))
    for i in range(20):
        store.put(f"k{i % 3}", str(i))
    loop.advance(0)
    assert first == second and [rev for *_, rev in first] == list(range(2, 22))


def test_a_watch_callback_may_write_and_sees_its_own_write_later(store, loop):
    seen = []

    def react(ev):
        seen.append(ev.kv.value)
        if ev.kv.value == b"ping":
            store.put("k", "pong")

    store.watch("k", callback=react)
    store.put("k", "ping")
    loop.advance(0)
    assert seen == [b"ping", b"pong"]


# ------------------------------------------------------------------------------------------
# limits
# ------------------------------------------------------------------------------------------

def test_a_value_over_1_5_mib_is_refused(store):
    store.put("ok", b"x" * (1536 * 1024 - 2))
    with pytest.raises(RequestTooLarge) as e:
        store.put("big", b"x" * (1536 * 1024))
    assert str(e.value) == "etcdserver: request is too large"
    assert store.get("big").count == 0 and store.revision == 2


def test_exceeding_the_quota_raises_nospace_and_sets_the_alarm(loop):
    store = Store(loop, quota_bytes=64 * 1024)
    with pytest.raises(NoSpace) as e:
        for i in range(100):
            store.put(f"k{i}", b"x" * 1024)
    assert str(e.value) == "etcdserver: mvcc: database space exceeded"
    assert [str(a) for a in store.alarm_list()] == ["memberID:0 alarm:NOSPACE"]
    rev = store.revision
    with pytest.raises(NoSpace):  # even a tiny put, while the alarm is raised
        store.put("tiny", "x")
    assert store.revision == rev
    assert store.delete("k", prefix=True) > 0  # deletes are still allowed


def test_compact_defrag_and_disarm_recover_from_nospace(loop):
    store = Store(loop, quota_bytes=64 * 1024)
    with pytest.raises(NoSpace):
        for i in range(100):
            store.put("k", b"x" * 1024)
    store.compact(store.revision)
    with pytest.raises(NoSpace):
        store.put("k", "x")  # the alarm is still raised
    store.defrag()
    store.alarm_disarm()
    assert store.put("k", "small").header.revision == store.revision


# ------------------------------------------------------------------------------------------
# snapshots
# ------------------------------------------------------------------------------------------

def filled_store(loop):
    s = Store(loop)
    for i in range(30):
        s.put(f"/registry/pods/default/p{i % 7}", f"v{i}")
    s.delete("/registry/pods/default/p3")
    s.compact(20)
    s.txn([], [Put("/registry/a", "1"), Put("/registry/b", "2")])
    return s


def test_snapshot_save_and_restore_round_trip_with_history(loop, tmp_path):
    s = filled_store(loop)
    path = tmp_path / "snapshot.db"
    status = s.snapshot_save(path)
    r = Store.snapshot_restore(path, loop)
    assert (r.revision, r.compact_revision) == (s.revision, s.compact_revision)
    for rev in range(s.compact_revision, s.revision + 1):
        assert s.get("", prefix=True, revision=rev).kvs == r.get("", prefix=True, revision=rev).kvs
    assert r.snapshot_bytes() == path.read_bytes()
    assert status.revision == s.revision


def test_a_restored_store_replays_watches_from_its_history(loop):
    s = filled_store(loop)
    r = Store.snapshot_restore(s.snapshot_bytes(), loop)
    seen = []
    r.watch("/registry/", prefix=True, start_revision=s.revision, callback=collect(seen))
    loop.advance(0)
    assert [(k, rev) for _, k, _, rev in seen] == [(b"/registry/a", 33), (b"/registry/b", 33)]


def test_snapshot_is_deterministic_bytes_and_works_with_file_objects(loop):
    buf = io.BytesIO()
    filled_store(loop).snapshot_save(buf)
    assert buf.getvalue() == filled_store(Loop()).snapshot_bytes()
    buf.seek(0)
    assert Store.snapshot_restore(buf).revision == 33


def test_snapshot_status_reports_hash_revision_keys_and_size(loop):
    s = Store(loop)
    s.put("a", "1")
    s.put("a", "2")
    s.put("b", "3")
    data = s.snapshot_bytes()
    st_ = snapshot_status(data)
    assert (st_.revision, st_.total_keys, st_.total_size) == (4, 3, len(data))
    assert st_.hash == snapshot_status(Store.snapshot_restore(data).snapshot_bytes()).hash
    size = f"{len(data)} B"
    assert st_.table().splitlines() == [
        "+----------+----------+------------+------------+",
        "|   HASH   | REVISION | TOTAL KEYS | TOTAL SIZE |",
        "+----------+----------+------------+------------+",
        f"| {st_.hash:8} |        4 |          3 | {size:10} |",
        "+----------+----------+------------+------------+",
    ]
    assert str(st_) == f"{st_.hash}, 4, 3, {size}"


def test_a_corrupted_snapshot_fails_its_integrity_check(loop, tmp_path):
    data = bytearray(filled_store(loop).snapshot_bytes())
    data[100] ^= 0x01
    path = tmp_path / "bad.db"
    path.write_bytes(bytes(data))
    with pytest.raises(SnapshotCorrupt) as e:
        Store.snapshot_restore(path)
    assert str(e.value).startswith("snapshot file integrity check failed")
    with pytest.raises(SnapshotCorrupt):
        snapshot_status(bytes(data))
    with pytest.raises(SnapshotCorrupt):
        Store.snapshot_restore(bytes(data[:-5]))
    with pytest.raises(SnapshotCorrupt):
        Store.snapshot_restore(b"SQLite format 3\x00" + b"\x00" * 100)


# ------------------------------------------------------------------------------------------
# printing
# ------------------------------------------------------------------------------------------

def test_result_objects_have_short_stable_reprs(store, loop):
    store.put("k", "v")
    assert repr(store.get("k")) == "<RangeResponse rev=2 count=1 kvs=1 more=False>"
    assert repr(store.get("k").kvs[0]) == "<KeyValue k create=2 mod=2 ver=1 1B>"
    assert repr(store.put("k", "w")) == "<PutResponse rev=3>"
    assert repr(store) == "<etcd Store rev=3 keys=1 compacted=0>"
    assert repr(store.txn([Compare.version("k") == 2], [Delete("k")])) == "<TxnResponse rev=4 succeeded=True ops=1>"
    w = store.watch("a", prefix=True, callback=print)
    assert repr(w) == "<Watch 1 prefix a next=5>"
    assert repr(Compare.mod_revision("k") == 3) == "mod('k') = 3"


# ------------------------------------------------------------------------------------------
# property: the store matches a dict model at every revision
# ------------------------------------------------------------------------------------------

KEYS = st.sampled_from(["a", "ab", "b", "b/1", "b/2", "c"])
VALS = st.sampled_from(["", "x", "y", "zz"])
OPS = st.one_of(
    st.tuples(st.just("put"), KEYS, VALS),
    st.tuples(st.just("delete"), KEYS),
    st.tuples(st.just("delete_prefix"), st.sampled_from(["", "a", "b/", "c"])),
    st.tuples(st.just("cas"), KEYS, st.integers(0, 12), VALS),
    st.tuples(st.just("compact"), st.integers(1, 40)),
)


def model_apply(state, rev, op):
    """Apply ``op`` to a dict key -> (value, create, mod, version); return the new state or None."""
    new = dict(state)
    kind = op[0]
    if kind == "put":
        _, k, v = op
        old = new.get(k)
        new[k] = (v, old[1] if old else rev, rev, old[3] + 1 if old else 1)
    elif kind in ("delete", "delete_prefix"):
        hit = [k for k in new if (k == op[1] if kind == "delete" else k.startswith(op[1]))]
        if not hit:
            return None
        for k in hit:
            del new[k]
    elif kind == "cas":
        _, k, mod, v = op
        cur = new.get(k)
        if (cur[2] if cur else 0) != mod:
            return None
        new[k] = (v, cur[1] if cur else rev, rev, cur[3] + 1 if cur else 1)
    return new


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(OPS, max_size=40))
def test_store_matches_a_dict_model_at_every_revision(ops):
    store = Store(Loop())
    history = {1: {}}
    compacted = 0
    for op in ops:
        rev = store.revision
        if op[0] == "compact":
            if compacted < op[1] <= rev:
                store.compact(op[1])
                compacted = op[1]
            continue
        new = model_apply(history[rev], rev + 1, op)
        if op[0] == "put":
            store.put(op[1], op[2])
        elif op[0] == "delete":
            store.delete(op[1])
        elif op[0] == "delete_prefix":
            store.delete(op[1], prefix=True) if op[1] else store.delete("", range_end="\0")
        else:
            r = store.txn([Compare.mod_revision(op[1]) == op[2]], [Put(op[1], op[3])])
            assert r.succeeded == (new is not None)
        if new is not None:
            history[rev + 1] = new
        assert store.revision == max(history)
    for rev, state in history.items():
        if rev < compacted:
            with pytest.raises(Compacted):
                store.get("", prefix=True, revision=rev)
            continue
        got = {kv.key.decode(): (kv.value.decode(), kv.create_revision, kv.mod_revision, kv.version)
               for kv in store.get("", prefix=True, revision=rev).kvs}
        assert got == state, f"at revision {rev}"
        for k in ["a", "b/1", "c"]:
            one = store.get(k, revision=rev).kvs
            assert (one[0].value.decode() if one else None) == (state[k][0] if k in state else None)
        assert store.get("b/", prefix=True, revision=rev, count_only=True).count == \
            sum(1 for k in state if k.startswith("b/"))


@settings(max_examples=60, deadline=None)
@given(st.lists(OPS, max_size=30), st.integers(2, 30))
def test_watch_replay_equals_the_live_stream(ops, start):
    loop = Loop()
    store = Store(loop)
    live = []
    store.watch("", prefix=True, callback=live.append)
    for op in ops:
        if op[0] == "put":
            store.put(op[1], op[2])
        elif op[0] == "delete":
            store.delete(op[1])
        elif op[0] == "cas":
            store.txn([Compare.mod_revision(op[1]) == op[2]], [Put(op[1], op[3])])
    loop.advance(0)
    replayed = []
    store.watch("", prefix=True, start_revision=start, callback=replayed.append)
    loop.advance(0)
    assert replayed == [e for e in live if e.revision >= start]  # same kv and prev_kv


# ------------------------------------------------------------------------------------------
# the cluster
# ------------------------------------------------------------------------------------------

def elected(loop, cluster, timeout=10.0):
    assert loop.run_until(lambda: cluster.leader is not None, timeout=timeout), "no leader elected"
    return cluster.leader


@pytest.fixture
def cluster(loop):
    c = EtcdCluster(loop, THREE, random.Random(7))
    elected(loop, c)
    return c


def followers(cluster):
    return [n for n in THREE if n != cluster.leader]


def stores_identical(cluster):
    snaps = {m.store.snapshot_bytes() for m in cluster.members.values()}
    return len(snaps) == 1


def test_single_member_elects_itself_after_the_election_timeout(loop):
    c = EtcdCluster(loop, ["etcd-0"], random.Random(0))
    assert c.leader is None
    with pytest.raises(RequestTimedOut) as e:
        c.put("k", "v")
    assert str(e.value) == "etcdserver: request timed out"
    assert elected(loop, c) == "etcd-0"
    assert 1.0 <= loop.now < 2.0 and c.term == 2
    assert c.put("k", "v").header.revision == 2
    assert c.member("etcd-0").peer_url == "https://127.0.0.1:2380"


def test_leader_election_is_deterministic_for_a_seed():
    def run(seed):
        loop = Loop()
        c = EtcdCluster(loop, THREE, random.Random(seed))
        elected(loop, c)
        return c.leader, c.term, loop.now, [str(m) for m in c.member_list()], c.journal(c.leader)

    assert run(3) == run(3)
    assert len({run(seed)[0] for seed in range(8)}) > 1  # the seed decides who wins


def test_member_list_rows_look_like_etcdctl(cluster):
    rows = cluster.member_list()
    assert [r.name for r in rows] == THREE
    assert all(len(r.id) <= 16 and int(r.id, 16) for r in rows)
    assert str(rows[1]) == f"{rows[1].id}, started, etcd-1, https://10.0.0.11:2380, https://10.0.0.11:2379, false"


def test_a_write_is_applied_on_every_member(cluster):
    rev = cluster.put("/registry/ns/default", "{}").header.revision
    for m in cluster.members.values():
        assert m.store.revision == rev
        assert m.store.get("/registry/ns/default").kvs[0].value == b"{}"
    assert stores_identical(cluster)


def test_the_cluster_rests_when_settled(cluster, loop):
    assert loop.peek() is None  # no heartbeat timer while nothing can change
    cluster.stop(followers(cluster)[0])
    assert loop.peek() is not None


def test_a_write_survives_one_member_down(cluster, loop):
    cluster.put("before", "1")
    old = cluster.leader
    cluster.stop(old)
    with pytest.raises(RequestTimedOut):  # the followers still think the old leader leads
        cluster.put("during", "x")
    new = elected(loop, cluster)
    assert new != old and cluster.term == 3
    cluster.put("after", "2")
    assert values(cluster.get("", prefix=True)) == [(b"after", b"2"), (b"before", b"1")]


def test_losing_quorum_blocks_writes_and_changes_nothing(cluster, loop):
    cluster.put("k", "v")
    survivor = cluster.leader
    for name in followers(cluster):
        cluster.stop(name)
    m = cluster.member(survivor)
    rev, index = m.store.revision, m.applied
    with pytest.raises(RequestTimedOut):
        cluster.put("k", "lost")
    loop.advance(5)  # check-quorum: the lone leader steps down
    assert cluster.leader is None and m.role != "leader"
    with pytest.raises(Unavailable) as e:
        cluster.put("k", "lost")
    assert str(e.value) in ("etcdserver: request timed out", "etcdserver: no leader")
    with pytest.raises(NoLeader) as e:
        cluster.put("k", "lost", require_leader=True)
    assert str(e.value) == "etcdserver: no leader"
    with pytest.raises(RequestTimedOut):
        cluster.get("k")  # linearizable read needs the quorum too
    assert cluster.get("k", serializable=True).kvs[0].value == b"v"
    assert (m.store.revision, m.applied) == (rev, index)


def test_recovery_elects_a_leader_and_loses_nothing(cluster, loop):
    for i in range(5):
        cluster.put(f"k{i}", str(i))
    for name in THREE:
        cluster.stop(name)
    loop.advance(10)
    for name in THREE:
        cluster.start(name)
    elected(loop, cluster, timeout=5)
    assert cluster.get("k", prefix=True).count == 5
    cluster.put("k5", "5")
    loop.advance(1)
    assert stores_identical(cluster)


def test_a_restarted_member_catches_up_from_the_leader(cluster, loop):
    lagging = followers(cluster)[0]
    cluster.stop(lagging)
    for i in range(10):
        cluster.put(f"k{i}", str(i))
    cluster.start(lagging)
    m = cluster.member(lagging)
    assert m.store.revision == 1  # not yet: a serializable read there is stale
    assert cluster.get("k", prefix=True, serializable=True, endpoint=lagging).count == 0
    loop.advance(0.2)  # one heartbeat
    assert m.store.revision == 11 and stores_identical(cluster)


def test_a_member_behind_the_compacted_raft_log_gets_a_snapshot(loop):
    c = EtcdCluster(loop, THREE, random.Random(1), snapshot_count=20, catchup_entries=5)
    elected(loop, c)
    lagging = followers(c)[0]
    c.stop(lagging)
    for i in range(60):
        c.put(f"k{i % 9}", str(i))
    c.start(lagging)
    loop.advance(0.5)
    assert stores_identical(c)
    assert any("applied incoming snapshot" in line for line in c.journal(lagging))


def test_a_linearizable_read_through_a_lagging_member_is_up_to_date(cluster, loop):
    lagging = followers(cluster)[0]
    cluster.stop(lagging)
    cluster.put("k", "new")
    cluster.start(lagging)
    assert cluster.get("k", endpoint=lagging).kvs[0].value == b"new"


def test_an_isolated_leader_steps_down_and_the_majority_elects_another(cluster, loop):
    cluster.put("k", "1")
    old = cluster.leader
    cluster.partition(old)
    with pytest.raises(RequestTimedOut):
        cluster.put("k", "minority", endpoint=old)
    loop.advance(5)
    assert cluster.member(old).role != "leader"
    new = cluster.leader
    assert new not in (None, old)
    cluster.put("k", "2", endpoint=new)
    assert cluster.get("k", serializable=True, endpoint=old).kvs[0].value == b"1"  # stale
    cluster.heal()
    loop.advance(1)
    assert cluster.leader == new and stores_identical(cluster)
    assert cluster.get("k", endpoint=old).kvs[0].value == b"2"


def test_a_partitioned_follower_does_not_disturb_the_leader_when_it_returns(cluster, loop):
    leader, term = cluster.leader, cluster.term
    cluster.partition(followers(cluster)[0])
    loop.advance(10)  # it campaigns alone; pre-vote keeps its term
    cluster.heal()
    loop.advance(1)
    assert (cluster.leader, cluster.term) == (leader, term)


def test_a_stopped_endpoint_refuses_connections(cluster):
    name = followers(cluster)[0]
    cluster.stop(name)
    with pytest.raises(EndpointDown) as e:
        cluster.get("k", endpoint=name)
    ip = cluster.member(name).ip
    assert str(e.value) == f"dial tcp {ip}:2379: connect: connection refused"
    cluster.get("k")  # the default endpoint list skips it


def test_endpoint_status_and_health(cluster, loop):
    cluster.put("k", "v")
    down = followers(cluster)[0]
    cluster.stop(down)
    rows = {r.endpoint: r for r in cluster.endpoint_status()}
    leader = cluster.member(cluster.leader)
    row = rows[leader.client_url]
    assert row.is_leader and row.raft_term == 2 and row.raft_index == leader.applied and row.version.startswith("3.5")
    assert rows[cluster.member(down).client_url].error == "context deadline exceeded"
    health = {h.endpoint: h for h in cluster.endpoint_health()}
    assert str(health[leader.client_url]).startswith(f"{leader.client_url} is healthy: successfully committed proposal")
    assert str(health[cluster.member(down).client_url]).endswith("is unhealthy: failed to commit proposal: "
                                                                  "context deadline exceeded")


def test_a_cluster_watch_moves_to_another_member_without_loss_or_repeats(cluster, loop):
    first = THREE[0]
    seen = []
    w = cluster.watch("k", prefix=True, endpoint=first, callback=collect(seen))
    cluster.put("k1", "a")
    loop.advance(0)
    cluster.put("k2", "b")
    cluster.stop(first)  # before k2 was delivered
    elected(loop, cluster)
    cluster.put("k3", "c")
    loop.advance(0)
    assert [k for _, k, _, _ in seen] == [b"k1", b"k2", b"k3"]
    assert w.member != first


def test_quota_is_replicated_as_a_cluster_alarm(loop):
    c = EtcdCluster(loop, THREE, random.Random(2), quota_bytes=64 * 1024)
    elected(loop, c)
    with pytest.raises(NoSpace):
        for i in range(100):
            c.put(f"k{i}", b"x" * 1024)
    assert all(m.store.alarms == {"NOSPACE"} for m in c.members.values())
    assert any("alarm:NOSPACE" in e for r in c.endpoint_status() for e in r.errors)
    c.delete("k", prefix=True)
    c.compact(c.revision)
    c.defrag()
    c.alarm_disarm()
    c.put("k", "ok")
    assert stores_identical(c)


def test_a_cluster_restored_from_a_snapshot_has_the_data(loop, tmp_path):
    s = filled_store(loop)
    s.snapshot_save(tmp_path / "snap.db")
    c = EtcdCluster(loop, THREE, random.Random(0), snapshot=tmp_path / "snap.db")
    elected(loop, c)
    assert c.get("/registry/", prefix=True).kvs == s.get("/registry/", prefix=True).kvs
    assert c.put("x", "y").header.revision == s.revision + 1


def test_cluster_compaction_goes_through_the_log(cluster):
    for i in range(5):
        cluster.put("k", str(i))
    cluster.compact(4)
    for m in cluster.members.values():
        assert m.store.compact_revision == 4
    with pytest.raises(Compacted):
        cluster.get("k", revision=3)


def test_election_timeout_must_be_five_heartbeats(loop):
    with pytest.raises(InvalidInput) as e:
        EtcdCluster(loop, THREE, random.Random(0), heartbeat_interval=0.5, election_timeout=1.0)
    assert "should be at least as 5 times as --heartbeat-interval" in str(e.value)


def test_cluster_repr_is_short(cluster):
    assert repr(cluster) == f"<EtcdCluster 3 members leader={cluster.leader} term=2>"
    assert repr(cluster.member(cluster.leader)).startswith(f"<Member {cluster.leader} leader term=2 index=")


# ------------------------------------------------------------------------------------------
# property: replicas stay identical under random faults
# ------------------------------------------------------------------------------------------

FAULTS = st.one_of(
    st.tuples(st.just("stop"), st.sampled_from(THREE)),
    st.tuples(st.just("start"), st.sampled_from(THREE)),
    st.tuples(st.just("isolate"), st.sampled_from(THREE)),
    st.tuples(st.just("heal")),
    st.tuples(st.just("advance"), st.sampled_from([0.1, 0.5, 1.5, 3.0])),
    st.tuples(st.just("put"), st.sampled_from(["a", "b", "c"]), st.integers(0, 99), st.sampled_from([None] + THREE)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**16), st.lists(FAULTS, max_size=25))
def test_replicas_stay_identical_and_keep_every_acknowledged_write(seed, steps):
    loop = Loop()
    c = EtcdCluster(loop, THREE, random.Random(seed))
    acked = {}
    for step in steps:
        kind = step[0]
        if kind == "stop":
            c.stop(step[1])
        elif kind == "start":
            c.start(step[1])
        elif kind == "isolate":
            c.partition(step[1])
        elif kind == "heal":
            c.heal()
        elif kind == "advance":
            loop.advance(step[1])
        else:
            _, key, value, endpoint = step
            try:
                c.put(key, str(value), endpoint=endpoint)
            except Unavailable:
                continue
            acked[key] = str(value).encode()
    for name in THREE:
        c.start(name)
    c.heal()
    elected(loop, c, timeout=10)
    loop.advance(1)
    assert stores_identical(c)
    assert {kv.key.decode(): kv.value for kv in c.get("", prefix=True).kvs} == acked
