"""A kubelet that starts again finds its pods in the runtime (ListPodSandbox / ListContainers) and takes them
over; pod phases while containers crash and restart (the kubelet's getPhase).

Uses the small cluster kit of test_kubelet.py: an in-memory API server and kubelets constructed directly.
"""

from __future__ import annotations

import pytest

import aivle_k8s as ak
from test_kubelet import Cluster


@pytest.fixture
def cluster():
    return Cluster(ak.World(seed=0))


def restart_kubelet(cluster, name="node-1", down=5):
    cluster.kubelets[name].stop()
    cluster.world.advance(down)
    return cluster.start_kubelet(name)


def sandboxes(kubelet, pod_uid):
    return [s for s in kubelet.runtime.list_pod_sandbox() if s.labels.get("io.kubernetes.pod.uid") == pod_uid]


def containers(kubelet, pod_uid):
    return [c for c in kubelet.runtime.list_containers() if c.labels.get("io.kubernetes.pod.uid") == pod_uid]


def test_a_restarted_kubelet_adopts_the_running_sandbox_and_containers(cluster):
    cluster.run("web")
    cluster.world.advance(10)
    before = cluster.pod("web")["status"]
    cid = before["containerStatuses"][0]["containerID"]
    k = restart_kubelet(cluster)
    cluster.world.advance(10)
    after = cluster.pod("web")["status"]
    cs = after["containerStatuses"][0]
    assert after["phase"] == "Running" and cs["ready"] and "running" in cs["state"]
    assert cs["containerID"] == cid and cs["restartCount"] == 0  # the same container, not a new one
    assert after["podIP"] == before["podIP"] and after["startTime"] == before["startTime"]
    uid = cluster.pod("web")["metadata"]["uid"]
    assert [(s.metadata.attempt, s.state) for s in sandboxes(k, uid)] == [(0, "SANDBOX_READY")]
    assert [c.metadata.attempt for c in containers(k, uid)] == [0]
    assert not [e for e in k.events if e["reason"] in ("FailedCreatePodSandBox", "SandboxChanged", "Created")]


def test_a_container_that_exited_while_the_kubelet_was_down_is_restarted_with_the_next_attempt(cluster):
    cluster.run("web")
    cluster.world.advance(10)
    k = cluster.kubelets["node-1"]
    cid = cluster.status("web")["containerID"].split("//")[1]
    k.stop()
    k.runtime.stop_container(cid, timeout=0)  # the container dies while nobody watches
    cluster.world.advance(5)
    k = cluster.start_kubelet("node-1")
    cluster.world.advance(5)
    st = cluster.status("web")
    assert "running" in st["state"] and st["restartCount"] == 1
    assert st["containerID"] != f"containerd://{cid}"
    assert st["lastState"]["terminated"]["containerID"] == f"containerd://{cid}"
    uid = cluster.pod("web")["metadata"]["uid"]
    assert sorted(c.metadata.attempt for c in containers(k, uid)) == [0, 1]
    assert [s.metadata.attempt for s in sandboxes(k, uid)] == [0]  # the sandbox is still good
    assert cluster.pod("web")["status"]["phase"] == "Running"


def test_a_dead_sandbox_is_recreated_with_the_next_attempt_after_a_kubelet_restart(cluster):
    cluster.run("web")
    cluster.world.advance(10)
    k = cluster.kubelets["node-1"]
    uid = cluster.pod("web")["metadata"]["uid"]
    k.stop()
    sb, = sandboxes(k, uid)
    k.runtime.stop_pod_sandbox(sb.id)  # everything of the pod is gone (as after a reboot)
    k = cluster.start_kubelet("node-1")
    cluster.world.advance(10)
    st = cluster.pod("web")["status"]
    assert st["phase"] == "Running" and st["containerStatuses"][0]["restartCount"] == 1
    attempts = sorted((s.metadata.attempt, s.state) for s in sandboxes(k, uid))
    assert attempts == [(0, "SANDBOX_NOTREADY"), (1, "SANDBOX_READY")]
    assert [e["reason"] for e in k.events if e["reason"] in ("SandboxChanged", "FailedCreatePodSandBox")] == \
        ["SandboxChanged"]


def test_pods_deleted_while_the_kubelet_was_down_are_removed_from_the_runtime(cluster):
    cluster.run("web")
    cluster.run("gone")
    cluster.world.advance(10)
    uid = cluster.pod("gone")["metadata"]["uid"]
    k = cluster.kubelets["node-1"]
    k.stop()
    cluster.admin.delete("pods", "gone", "default", grace_period_seconds=0)
    k = cluster.start_kubelet("node-1")
    cluster.world.advance(5)
    assert sandboxes(k, uid) == [] and containers(k, uid) == []
    assert "running" in cluster.status("web")["state"]


def test_a_finished_pod_is_not_started_again_by_a_restarted_kubelet(cluster):
    cluster.run("job", image="docker.io/library/kit:1.0", command=["kit-echo", "done"], restartPolicy="Never")
    cluster.world.advance(10)
    assert cluster.pod("job")["status"]["phase"] == "Succeeded"
    k = restart_kubelet(cluster)
    cluster.world.advance(10)
    assert cluster.pod("job")["status"]["phase"] == "Succeeded"
    assert not [e for e in k.events if e["reason"] in ("Started", "SandboxChanged")]


# -- phases --------------------------------------------------------------------------------------------------


def test_a_crash_looping_always_pod_stays_running_with_back_off_capped_at_five_minutes(cluster):
    cluster.run("crash", image="docker.io/library/kit:1.0", command=["kit-exit", "1"])
    phases, counts, messages = set(), [], set()
    for _ in range(3000):  # 750 simulated seconds, looked at four times a second
        cluster.world.advance(0.25)
        st = cluster.pod("crash").get("status") or {}
        if st.get("phase"):
            phases.add(st["phase"])
        cs = (st.get("containerStatuses") or [{}])[0]
        counts.append(cs.get("restartCount", 0))
        waiting = (cs.get("state") or {}).get("waiting") or {}
        if waiting.get("reason") == "CrashLoopBackOff":
            messages.add(waiting["message"].split(" restarting")[0])
    assert "Running" in phases and phases <= {"Pending", "Running"}  # never Failed: it is being restarted
    assert counts == sorted(counts) and counts[-1] >= 6
    assert {"back-off 10s", "back-off 20s", "back-off 40s", "back-off 1m20s", "back-off 2m40s",
            "back-off 5m0s"} <= messages
    assert not [m for m in messages if m not in ("back-off 10s", "back-off 20s", "back-off 40s", "back-off 1m20s",
                                                 "back-off 2m40s", "back-off 5m0s")]
    k = cluster.kubelets["node-1"]
    starts = [e["time"] for e in k.events if e["reason"] == "Started"]
    gaps = [round(b - a) for a, b in zip(starts, starts[1:])]
    assert gaps[1:] == [10, 20, 40, 80, 160, 300][:len(gaps) - 1]


def test_on_failure_pod_restarting_is_running_and_a_never_pod_with_a_failed_init_container_fails(cluster):
    cluster.run("retry", image="docker.io/library/kit:1.0", command=["kit-exit", "3"], restartPolicy="OnFailure")
    cluster.admin.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "init", "namespace": "default"},
                          "spec": {"nodeName": "node-1", "restartPolicy": "Never",
                                   "initContainers": [{"name": "setup", "image": "docker.io/library/kit:1.0",
                                                       "command": ["kit-exit", "2"]}],
                                   "containers": [{"name": "web", "image": "docker.io/library/web:1.0"}]}})
    seen = set()
    for _ in range(60):
        cluster.world.advance(0.5)
        seen.add(cluster.pod("retry")["status"].get("phase"))
    assert "Failed" not in seen and "Running" in seen
    init = cluster.pod("init")["status"]
    assert init["phase"] == "Failed"
    assert init["initContainerStatuses"][0]["state"]["terminated"]["exitCode"] == 2
    assert "waiting" in init["containerStatuses"][0]["state"]  # the app container never ran


def test_a_pod_deleted_gracefully_while_the_kubelet_was_down_is_stopped_and_removed(cluster):
    cluster.run("web")
    cluster.world.advance(10)
    uid = cluster.pod("web")["metadata"]["uid"]
    k = cluster.kubelets["node-1"]
    k.stop()
    cluster.admin.delete("pods", "web", "default")  # graceful: waits for the kubelet
    cluster.world.advance(5)
    assert cluster.pod("web")["metadata"]["deletionTimestamp"]
    k = cluster.start_kubelet("node-1")
    cluster.world.advance(40)
    assert "web" not in [p["metadata"]["name"] for p in cluster.admin.list("pods", "default")["items"]]
    assert [c.state for c in containers(k, uid)] in ([], ["CONTAINER_EXITED"])
    assert [e["message"] for e in k.events if e["reason"] == "Killing"] == ["Stopping container web"]


def test_init_containers_run_again_in_a_new_sandbox(cluster):
    cluster.admin.create({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "app", "namespace": "default"},
                          "spec": {"nodeName": "node-1",
                                   "initContainers": [{"name": "setup", "image": "docker.io/library/kit:1.0",
                                                       "command": ["kit-echo", "ready"]}],
                                   "containers": [{"name": "web", "image": "docker.io/library/web:1.0"}]}})
    cluster.world.advance(10)
    k = cluster.kubelets["node-1"]
    uid = cluster.pod("app")["metadata"]["uid"]
    sb, = sandboxes(k, uid)
    k.runtime.engine.containers.get(sb.id).kill()  # the pause container dies: the sandbox is gone
    cluster.world.advance(10)
    st = cluster.pod("app")["status"]
    assert st["phase"] == "Running"
    attempts = sorted((c.metadata.name, c.metadata.attempt) for c in containers(k, uid))
    assert ("setup", 1) in attempts and [a for n, a in attempts if n == "web"] == [0, 1]
    assert st["initContainerStatuses"][0]["restartCount"] == 1
    assert st["containerStatuses"][0]["restartCount"] == 1 and "running" in st["containerStatuses"][0]["state"]
