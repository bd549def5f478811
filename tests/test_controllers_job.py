"""The Job and TTL-after-finished controllers against an in-memory API server, with fake kubelet steps."""

import pytest
from hypothesis import given, settings, strategies as st

from aivle_k8s.cluster.controllers import JobController, SharedInformers, TTLAfterFinishedController
from aivle_k8s.cluster.controllers.base import parse_time
from aivle_k8s.cluster.controllers.job import JOB_TRACKING_FINALIZER, backoff_remaining
from aivle_k8s.cluster.controllers.testing import TestCluster


def job(name="pi", *, completions=None, parallelism=None, backoff_limit=None, restart="Never", **spec):
    s = {"template": {"spec": {"restartPolicy": restart, "containers": [{"name": "pi", "image": "perl"}]}}, **spec}
    for k, v in (("completions", completions), ("parallelism", parallelism), ("backoffLimit", backoff_limit)):
        if v is not None:
            s[k] = v
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name, "namespace": "default"}, "spec": s}


@pytest.fixture
def env():
    env = TestCluster()
    env.add_node("worker-1")
    informers = SharedInformers(env.cm_client, env.loop)
    env.jc = JobController(env.cm_client, env.loop, informers=informers)
    env.ttl = TTLAfterFinishedController(env.cm_client, env.loop, informers=informers)
    env.jc.start()
    env.ttl.start()
    return env


def active(env):
    return sorted((p for p in env.pods() if (p.get("status") or {}).get("phase") in ("Pending", "Running")
                   and not p["metadata"].get("deletionTimestamp")), key=lambda p: p["metadata"]["name"])


def status(env, name="pi"):
    return env.client.get("jobs", name)["status"]


def conditions(env, name="pi"):
    return {c["type"]: c for c in status(env, name).get("conditions") or []}


def finish(env, pod, succeeded=True):
    env.run_pod(pod["metadata"]["name"], node="worker-1")
    env.finish_pod(pod["metadata"]["name"], succeeded=succeeded)


def test_job_pods_are_named_labelled_and_owned(env):
    j = env.client.create(job())
    env.advance(1)
    pod, = env.pods()
    uid = j["metadata"]["uid"]
    assert pod["metadata"]["name"].startswith("pi-") and len(pod["metadata"]["name"]) == len("pi-") + 5
    labels = pod["metadata"]["labels"]
    assert (labels["batch.kubernetes.io/job-name"], labels["job-name"]) == ("pi", "pi")
    assert (labels["batch.kubernetes.io/controller-uid"], labels["controller-uid"]) == (uid, uid)
    assert pod["metadata"]["ownerReferences"][0]["uid"] == uid
    assert pod["metadata"]["finalizers"] == [JOB_TRACKING_FINALIZER]
    assert env.events(reason="SuccessfulCreate")[0]["message"] == f"Created pod: {pod['metadata']['name']}"
    assert env.events(reason="SuccessfulCreate")[0]["source"]["component"] == "job-controller"


def test_completions_3_parallelism_2_runs_two_then_one_then_completes(env):
    env.client.create(job(completions=3, parallelism=2))
    env.advance(1)
    first = active(env)
    assert len(first) == 2
    assert status(env)["active"] == 2 and status(env)["startTime"]
    for p in first:
        finish(env, p)
    env.advance(2)
    second = active(env)
    assert len(second) == 1 and status(env)["succeeded"] == 2
    finish(env, second[0])
    env.advance(2)
    st_ = status(env)
    assert st_["succeeded"] == 3 and "active" not in st_
    complete = conditions(env)["Complete"]
    assert complete["status"] == "True" and "reason" not in complete   # v1.30: reason/message empty
    assert st_["completionTime"] == complete["lastTransitionTime"]
    assert st_["uncountedTerminatedPods"] == {}
    assert env.events(reason="Completed")[0]["message"] == "Job completed"
    # counted pods lose the tracking finalizer
    assert all(JOB_TRACKING_FINALIZER not in (p["metadata"].get("finalizers") or []) for p in env.pods())


def test_backoff_remaining_doubles_from_10_seconds_to_10_minutes():
    assert [backoff_remaining(n, 0.0, 0.0) for n in range(1, 9)] == [10, 20, 40, 80, 160, 320, 600, 600]
    assert backoff_remaining(2, 100.0, 105.0) == 15


def test_failing_job_backs_off_10_20_40_then_fails_at_the_backoff_limit(env):
    env.client.create(job(backoff_limit=3))
    env.advance(1)
    waits = []
    for _ in range(4):
        pod, = active(env)
        finish(env, pod, succeeded=False)
        failed_at = env.loop.now
        for _ in range(100):
            env.advance(1)
            if active(env):
                waits.append(parse_time(active(env)[0]["metadata"]["creationTimestamp"]) - failed_at)
                break
    assert [round(w) for w in waits] == [10, 20, 40]
    st_ = status(env)
    assert st_["failed"] == 4 and "active" not in st_
    failed = conditions(env)["Failed"]
    assert (failed["status"], failed["reason"], failed["message"]) == (
        "True", "BackoffLimitExceeded", "Job has reached the specified backoff limit")
    warn, = env.events(reason="BackoffLimitExceeded")
    assert warn["type"] == "Warning"
    assert "completionTime" not in st_
    assert active(env) == []


def test_on_failure_restarts_count_against_the_backoff_limit(env):
    env.client.create(job(backoff_limit=2, restart="OnFailure"))
    env.advance(1)
    pod, = active(env)
    env.run_pod(pod["metadata"]["name"], node="worker-1")
    pod = env.client.get("pods", pod["metadata"]["name"])
    pod["status"]["containerStatuses"] = [{"name": "pi", "restartCount": 2, "ready": False, "image": "perl",
                                           "imageID": "", "started": False}]
    env.client.update(pod, subresource="status")
    env.advance(2)
    assert conditions(env)["Failed"]["reason"] == "BackoffLimitExceeded"
    assert env.events(reason="SuccessfulDelete")[0]["message"] == f"Deleted pod: {pod['metadata']['name']}"


def test_active_deadline_fails_the_job_and_deletes_its_pods(env):
    env.client.create(job(parallelism=2, completions=4, activeDeadlineSeconds=30))
    env.advance(1)
    for p in active(env):
        env.run_pod(p["metadata"]["name"], node="worker-1")
    env.advance(20)
    assert "Failed" not in conditions(env)
    env.advance(15)
    failed = conditions(env)["Failed"]
    assert (failed["reason"], failed["message"]) == ("DeadlineExceeded", "Job was active longer than specified deadline")
    assert parse_time(failed["lastTransitionTime"]) == pytest.approx(30, abs=1)
    assert active(env) == []
    assert len(env.events(reason="SuccessfulDelete")) == 2


def test_deleted_pod_counts_as_failed_and_is_replaced(env):
    env.client.create(job())
    env.advance(1)
    pod, = active(env)
    env.run_pod(pod["metadata"]["name"], node="worker-1")
    env.client.delete("pods", pod["metadata"]["name"])
    env.reap()
    env.advance(15)
    assert status(env)["failed"] == 1
    new, = active(env)
    assert new["metadata"]["name"] != pod["metadata"]["name"]
    with pytest.raises(Exception):  # the finalizer was removed, so the pod is gone for good
        env.client.get("pods", pod["metadata"]["name"])


def test_suspended_job_runs_nothing_until_resumed(env):
    env.client.create(job(suspend=True))
    env.advance(2)
    assert active(env) == []
    assert conditions(env)["Suspended"]["reason"] == "JobSuspended"
    env.client.patch("jobs", "pi", {"spec": {"suspend": False}}, namespace="default")
    env.advance(2)
    assert len(active(env)) == 1
    c = conditions(env)["Suspended"]
    assert (c["status"], c["reason"], c["message"]) == ("False", "JobResumed", "Job resumed")


def test_ttl_seconds_after_finished_deletes_the_job(env):
    env.client.create(job(ttlSecondsAfterFinished=100))
    env.advance(1)
    finish(env, active(env)[0])
    env.advance(2)
    assert "Complete" in conditions(env)
    env.advance(90)
    assert env.client.get("jobs", "pi")["metadata"].get("deletionTimestamp") is None
    env.advance(20)
    gone = env.client.list("jobs", "default")["items"]
    # deleted in the foreground: the garbage collector (not running here) would finish the job
    assert gone == [] or gone[0]["metadata"].get("deletionTimestamp")


def test_reconcile_twice_is_reconcile_once(env):
    env.client.create(job(completions=2, parallelism=2))
    env.advance(2)
    rv = env.api.storage.revision
    env.jc.reconcile("default/pi")
    env.jc.reconcile("default/pi")
    assert env.api.storage.revision == rv
    assert len(active(env)) == 2


@settings(max_examples=10, deadline=None)
@given(st.integers(min_value=1, max_value=4), st.integers(min_value=1, max_value=3))
def test_never_more_than_parallelism_active_and_exactly_completions_succeed(completions, parallelism):
    env = TestCluster()
    env.add_node("worker-1")
    JobController(env.cm_client, env.loop).start()
    env.client.create(job(completions=completions, parallelism=parallelism))
    for _ in range(completions + 2):
        env.advance(2)
        running = active(env)
        assert len(running) <= parallelism
        for p in running:
            finish(env, p)
    env.advance(2)
    assert status(env)["succeeded"] == completions
    assert "Complete" in conditions(env)
