"""The Job controller and the TTL-after-finished controller (``pkg/controller/job``, ``ttlafterfinished``, v1.30).

Job (``completionMode: NonIndexed``):

- runs ``min(parallelism, completions - succeeded)`` pods at a time (with no
  ``completions``: ``parallelism`` until one succeeds, then lets the rest
  finish); pods are ``<job>-<5 chars>`` with the labels the API server put in
  the template (``batch.kubernetes.io/job-name``, ``job-name``,
  ``batch.kubernetes.io/controller-uid``, ``controller-uid``) and the
  finalizer ``batch.kubernetes.io/job-tracking``;
- finished pods are counted through ``status.uncountedTerminatedPods``: their
  uids are recorded there, the finalizer is removed, then they move into
  ``status.succeeded`` / ``status.failed`` — so a count survives the pod's
  deletion. A pod deleted before it finished counts as failed;
- ``restartPolicy: Never``: after each failure the next pod waits
  10 s x 2^(failures since the last success - 1), capped at 10 min
  (``DefaultJobPodFailureBackOff``/``MaxJobPodFailureBackOff``; the docs round the
  cap to "six minutes"), counted from when the pod finished;
  ``OnFailure``: the kubelet restarts containers in place and the restarts of
  running pods count against the limit;
- ``status.failed > backoffLimit`` (6), or OnFailure restarts >= backoffLimit:
  active pods are deleted and the condition ``Failed`` /
  ``BackoffLimitExceeded`` / ``Job has reached the specified backoff limit`` is set;
  ``activeDeadlineSeconds`` passed since ``startTime``: ``Failed`` /
  ``DeadlineExceeded`` / ``Job was active longer than specified deadline``;
- success: ``Complete`` (v1.30: no reason, no message; the
  ``SuccessCriteriaMet`` condition and reason ``CompletionsReached`` are v1.31)
  and ``completionTime``;
- ``suspend: true`` deletes active pods, condition ``Suspended``
  (``JobSuspended`` / ``Job suspended``); resuming resets ``startTime``;
- pod events reach the Job in batches of 1 s (``syncJobBatchPeriod``).

Events (``job-controller``): ``SuccessfulCreate`` ``Created pod: x``,
``SuccessfulDelete`` ``Deleted pod: x``, ``Completed`` ``Job completed``,
Warning ``BackoffLimitExceeded`` / ``DeadlineExceeded``, ``Suspended``, ``Resumed``.

:class:`TTLAfterFinishedController` deletes a finished Job (propagation
``Foreground``, precondition on its uid) ``ttlSecondsAfterFinished`` after its
``Complete``/``Failed`` condition's ``lastTransitionTime``.

Indexed Jobs, ``podFailurePolicy`` and ``successPolicy`` are not simulated.
"""

from __future__ import annotations

import copy
from typing import Any

from ..apiserver.errors import NotFoundError, StatusError
from .base import (Controller, WorkQueue, controller_of, is_pod_active, is_pod_ready, owner_reference, parse_time,
                   rfc3339, split_key)
from .replicaset import SLOW_START_INITIAL_BATCH_SIZE, pods_to_delete

__all__ = ["JobController", "TTLAfterFinishedController", "JOB_TRACKING_FINALIZER", "backoff_remaining",
           "DEFAULT_POD_FAILURE_BACKOFF", "MAX_POD_FAILURE_BACKOFF", "SYNC_BATCH_PERIOD"]

JOB_TRACKING_FINALIZER = "batch.kubernetes.io/job-tracking"
DEFAULT_POD_FAILURE_BACKOFF = 10.0
MAX_POD_FAILURE_BACKOFF = 600.0
SYNC_BATCH_PERIOD = 1.0
MAX_POD_CREATE_DELETE_PER_SYNC = 500


def backoff_remaining(failures: int, last_failure: float | None, now: float,
                      base: float = DEFAULT_POD_FAILURE_BACKOFF, cap: float = MAX_POD_FAILURE_BACKOFF) -> float:
    """Seconds before the next pod may be created (``getRemainingTimeForFailuresCount``).

    >>> [backoff_remaining(n, 0.0, 0.0) for n in (0, 1, 2, 3, 10)]
    [0, 10.0, 20.0, 40.0, 600.0]
    """
    if failures <= 0 or last_failure is None:
        return 0
    delay = min(base * 2 ** (failures - 1), cap)
    elapsed = now - last_failure
    return 0 if delay < elapsed else delay - elapsed


def _cond(job: dict, kind: str) -> dict | None:
    for c in (job.get("status") or {}).get("conditions") or []:
        if c.get("type") == kind:
            return c
    return None


def finished_condition(job: dict) -> dict | None:
    """The ``Complete`` or ``Failed`` condition with status True, if any (``IsJobFinished``)."""
    for c in (job.get("status") or {}).get("conditions") or []:
        if c.get("type") in ("Complete", "Failed") and c.get("status") == "True":
            return c
    return None


def _finished_time(pod: dict, now: float) -> float:
    """``getFinishedTime``: latest container ``finishedAt``, else Ready=False transition, else deletion."""
    status = pod.get("status") or {}
    times = [parse_time(((c.get("state") or {}).get("terminated") or {}).get("finishedAt"))
             for c in status.get("containerStatuses") or []]
    times = [t for t in times if t is not None]
    if times:
        return max(times)
    for c in status.get("conditions") or []:
        if c.get("type") == "Ready" and c.get("status") == "False":
            t = parse_time(c.get("lastTransitionTime"))
            if t is not None:
                return t
    t = parse_time(pod["metadata"].get("deletionTimestamp"))
    return t if t is not None else now


def _is_failed(pod: dict, job: dict) -> bool:
    phase = (pod.get("status") or {}).get("phase")
    if phase == "Failed":
        return True
    if (job.get("spec") or {}).get("podReplacementPolicy") == "Failed":
        return False
    return bool(pod["metadata"].get("deletionTimestamp")) and phase != "Succeeded"


def _restarts(pod: dict) -> int:
    status = pod.get("status") or {}
    return sum(int(c.get("restartCount") or 0)
               for c in (status.get("initContainerStatuses") or []) + (status.get("containerStatuses") or []))


class _BackoffRecord:
    __slots__ = ("failures", "last_failure")

    def __init__(self, failures: int = 0, last_failure: float | None = None):
        self.failures = failures
        self.last_failure = last_failure


class JobController(Controller):
    """``job`` in ``kube-controller-manager --controllers``."""

    name = "job"
    component = "job-controller"

    def setup(self) -> None:
        self.jobs = self.informer("jobs")
        self.pods = self.informer("pods")
        self.jobs.add_index("uid", lambda o: [o["metadata"].get("uid", "")])
        self.pods.add_index("controller-uid", lambda p: [r["uid"] for r in [controller_of(p)] if r])
        self.jobs.add_handler(self.enqueue, self._job_updated, self._job_deleted)
        self.pods.add_handler(self._pod_event, lambda o, n: self._pod_event(n), self._pod_event)
        self.orphans = WorkQueue(self.loop, self._reconcile_orphan, name="job-orphan-pod")
        self._backoff: dict[str, _BackoffRecord] = {}

    def resync(self) -> None:
        for job in self.jobs.list():
            self.enqueue(job)

    def start(self) -> None:
        self.orphans.shutting_down = False
        super().start()

    def stop(self) -> None:
        super().stop()
        self.orphans.shut_down()

    # -- event handlers --------------------------------------------------------------
    def _job_updated(self, old: dict, new: dict) -> None:
        self.enqueue(new)
        if finished_condition(new) is not None:
            self._cleanup_finalizers(new)

    def _job_deleted(self, job: dict) -> None:
        self._backoff.pop(f"{job['metadata'].get('namespace')}/{job['metadata']['name']}", None)
        self._cleanup_finalizers(job)

    def _cleanup_finalizers(self, job: dict) -> None:
        if not self.running:
            return
        for p in self.pods.by_index("controller-uid", job["metadata"].get("uid", "")):
            if JOB_TRACKING_FINALIZER in (p["metadata"].get("finalizers") or []):
                self.orphans.add(f"{p['metadata'].get('namespace')}/{p['metadata']['name']}")

    def _pod_event(self, pod: dict) -> None:
        if not self.running:
            return
        ref = controller_of(pod)
        has_finalizer = JOB_TRACKING_FINALIZER in (pod["metadata"].get("finalizers") or [])
        if ref is None or ref.get("kind") != "Job":
            if has_finalizer:
                self.orphans.add(f"{pod['metadata'].get('namespace')}/{pod['metadata']['name']}")
            return
        jobs = self.jobs.by_index("uid", ref.get("uid", ""))
        if not jobs or any(finished_condition(j) for j in jobs):
            if has_finalizer:
                self.orphans.add(f"{pod['metadata'].get('namespace')}/{pod['metadata']['name']}")
            return
        for job in jobs:
            self.enqueue(job, delay=SYNC_BATCH_PERIOD)

    # -- orphan pods: finalizers of pods whose Job is gone or finished --------------------
    def _reconcile_orphan(self, key: str) -> None:
        ns, name = split_key(key)
        pod = self.pods.get(key)
        if pod is None or JOB_TRACKING_FINALIZER not in (pod["metadata"].get("finalizers") or []):
            return
        ref = controller_of(pod)
        if ref is not None and ref.get("kind") == "Job":
            jobs = self.jobs.by_index("uid", ref.get("uid", ""))
            if jobs and not any(finished_condition(j) for j in jobs):
                return
            if not jobs:
                try:  # confirm with the API server before letting the pod go
                    live = self.client.get("jobs", ref.get("name", ""), ns)
                    if live["metadata"].get("uid") == ref.get("uid") and finished_condition(live) is None:
                        return
                except NotFoundError:
                    pass
        self._remove_finalizer(pod)

    def _remove_finalizer(self, pod: dict) -> None:
        m = pod["metadata"]
        rest = [f for f in m.get("finalizers") or [] if f != JOB_TRACKING_FINALIZER]
        try:
            new = self.client.patch("pods", m["name"], {"metadata": {"finalizers": rest or None}},
                                    namespace=m.get("namespace"), patch_type="merge")
        except NotFoundError:
            self.pods.assume_deleted(pod)
            return
        if new.get("kind") == "Pod":
            self.pods.assume(new)

    # -- reconcile -------------------------------------------------------------------
    def reconcile(self, key: str) -> None:
        job = self.jobs.get(key)
        if job is None:
            self._backoff.pop(key, None)
            return
        if finished_condition(job) is not None or job["metadata"].get("deletionTimestamp"):
            self._backoff.pop(key, None)
            if finished_condition(job) is not None:
                self._cleanup_finalizers(job)
            return
        spec = job.get("spec") or {}
        now = self.loop.now
        pods = [p for p in self.pods.by_index("controller-uid", job["metadata"]["uid"])]
        status = copy.deepcopy(job.get("status") or {})
        uncounted = status.get("uncountedTerminatedPods") or {}
        unc_succ, unc_fail = list(uncounted.get("succeeded") or []), list(uncounted.get("failed") or [])
        seen = set(unc_succ) | set(unc_fail)
        new_succ, new_fail = [], []
        for p in pods:
            if JOB_TRACKING_FINALIZER not in (p["metadata"].get("finalizers") or []) or p["metadata"]["uid"] in seen:
                continue
            if (p.get("status") or {}).get("phase") == "Succeeded":
                new_succ.append(p)
            elif _is_failed(p, job):
                new_fail.append(p)
        succeeded = int(status.get("succeeded") or 0) + len(unc_succ) + len(new_succ)
        failed = int(status.get("failed") or 0) + len(unc_fail) + len(new_fail)
        active_pods = [p for p in pods if is_pod_active(p)]
        terminating = sum(1 for p in pods if p["metadata"].get("deletionTimestamp")
                          and (p.get("status") or {}).get("phase") not in ("Succeeded", "Failed"))
        suspended = bool(spec.get("suspend"))
        record = self._next_backoff(key, new_succ, new_fail, now)

        conditions = [dict(c) for c in status.get("conditions") or []]
        if not suspended and status.get("startTime") is None:
            status["startTime"] = rfc3339(now)
        finished = None
        backoff_limit = int(spec.get("backoffLimit", 6))
        ads = spec.get("activeDeadlineSeconds")
        start = parse_time(status.get("startTime"))
        if failed > backoff_limit or self._past_backoff_limit_on_failure(job, pods):
            finished = self._new_condition("Failed", "BackoffLimitExceeded",
                                           "Job has reached the specified backoff limit", now)
        elif ads is not None and not suspended and start is not None and now - start >= int(ads):
            finished = self._new_condition("Failed", "DeadlineExceeded",
                                           "Job was active longer than specified deadline", now)
        elif ads is not None and not suspended and start is not None:
            self.enqueue(job, delay=start + int(ads) - now)

        active = len(active_pods)
        if finished is not None:
            deleted = self._delete_pods(job, active_pods)
            if deleted != active:
                finished = None
            active -= deleted
        else:
            active = self._manage(job, active_pods, succeeded, record, now)
            conditions = self._suspend_conditions(job, conditions, suspended, status, now)
            completions = spec.get("completions")
            if completions is None:
                complete = succeeded > 0 and active == 0
            else:
                complete = succeeded >= int(completions) and active == 0
            if complete:
                finished = self._new_condition("Complete", "", "", now)

        # count newly finished pods: record their uids, drop their finalizers, then move them into the counters
        if new_succ or new_fail:
            status["uncountedTerminatedPods"] = {k: v for k, v in (
                ("succeeded", unc_succ + [p["metadata"]["uid"] for p in new_succ]),
                ("failed", unc_fail + [p["metadata"]["uid"] for p in new_fail])) if v}
            job = self._write_status(job, self._shape(status, conditions, active, active_pods, terminating))
            if job is None:
                return
            status = copy.deepcopy(job.get("status") or {})
            for p in new_succ + new_fail:
                self._remove_finalizer(p)
        self._backoff[key] = record
        status["succeeded"], status["failed"] = succeeded, failed
        status["uncountedTerminatedPods"] = {}
        if finished is not None:
            conditions = [c for c in conditions if c.get("type") != finished["type"]] + [finished]
            if finished["type"] == "Complete":
                status["completionTime"] = finished["lastTransitionTime"]
        job = self._write_status(job, self._shape(status, conditions, active, active_pods, terminating))
        if job is not None and finished is not None:
            if finished["type"] == "Complete":
                self.recorder.normal(job, "Completed", "Job completed")
            else:
                self.recorder.warning(job, finished["reason"], finished["message"])
            self._backoff.pop(key, None)

    @staticmethod
    def _new_condition(kind: str, reason: str, message: str, now: float) -> dict:
        c = {"type": kind, "status": "True", "lastProbeTime": rfc3339(now), "lastTransitionTime": rfc3339(now)}
        if reason:
            c["reason"] = reason
        if message:
            c["message"] = message
        return c

    def _shape(self, status: dict, conditions: list, active: int, active_pods: list, terminating: int) -> dict:
        out = dict(status)
        out["active"] = active
        out["ready"] = sum(1 for p in active_pods if is_pod_ready(p) and is_pod_active(p)) if active else 0
        out["terminating"] = terminating
        out["conditions"] = conditions
        for k in ("active", "succeeded", "failed", "conditions"):
            if not out.get(k):
                out.pop(k, None)  # omitempty
        return out

    def _write_status(self, job: dict, status: dict) -> dict | None:
        if status == (job.get("status") or {}):
            return job
        body = dict(job)
        body["status"] = status
        try:
            new = self.client.update(body, subresource="status")
        except NotFoundError:
            return None
        self.jobs.assume(new)
        return new

    def _next_backoff(self, key: str, new_succ: list, new_fail: list, now: float) -> _BackoffRecord:
        """``backoffStore.newBackoffRecord``: failures since the last success and when the last one finished."""
        old = self._backoff.get(key) or _BackoffRecord()
        if not new_succ and not new_fail:
            return _BackoffRecord(old.failures, old.last_failure)
        fail_times = sorted(_finished_time(p, now) for p in new_fail)
        if not new_succ:
            return _BackoffRecord(old.failures + len(new_fail), fail_times[-1])
        last_success = max(_finished_time(p, now) for p in new_succ)
        after = [t for t in fail_times if t > last_success]
        return _BackoffRecord(len(after), after[-1] if after else None)

    @staticmethod
    def _past_backoff_limit_on_failure(job: dict, pods: list[dict]) -> bool:
        spec = job.get("spec") or {}
        if ((spec.get("template") or {}).get("spec") or {}).get("restartPolicy") != "OnFailure":
            return False
        total = sum(_restarts(p) for p in pods if (p.get("status") or {}).get("phase") in ("Pending", "Running"))
        limit = int(spec.get("backoffLimit", 6))
        return total > 0 if limit == 0 else total >= limit

    def _suspend_conditions(self, job: dict, conditions: list, suspended: bool, status: dict, now: float) -> list:
        cur = next((c for c in conditions if c.get("type") == "Suspended"), None)
        if suspended and (cur is None or cur.get("status") != "True"):
            conditions = [c for c in conditions if c.get("type") != "Suspended"] + [
                self._new_condition("Suspended", "JobSuspended", "Job suspended", now)]
            self.recorder.normal(job, "Suspended", "Job suspended")
        elif not suspended and cur is not None and cur.get("status") == "True":
            c = self._new_condition("Suspended", "JobResumed", "Job resumed", now)
            c["status"] = "False"
            conditions = [x for x in conditions if x.get("type") != "Suspended"] + [c]
            status["startTime"] = rfc3339(now)
            self.recorder.normal(job, "Resumed", "Job resumed")
        return conditions

    def _manage(self, job: dict, active_pods: list[dict], succeeded: int, record: _BackoffRecord,
                now: float) -> int:
        """``manageJob`` (NonIndexed): create or delete pods toward the wanted number of active ones."""
        spec = job.get("spec") or {}
        active = len(active_pods)
        if spec.get("suspend"):
            return active - self._delete_pods(job, active_pods)
        parallelism = int(spec.get("parallelism", 1))
        completions = spec.get("completions")
        if completions is None:
            want = active if succeeded > 0 else parallelism
        else:
            want = max(min(int(completions) - succeeded, parallelism), 0)
        if active > want:
            doomed = pods_to_delete(active_pods, active_pods, min(active - want, MAX_POD_CREATE_DELETE_PER_SYNC))
            return active - self._delete_pods(job, doomed)
        if active < want:
            wait = backoff_remaining(record.failures, record.last_failure, now)
            if wait > 0:
                self.enqueue(job, delay=wait)
                return active
            diff = min(want - active, MAX_POD_CREATE_DELETE_PER_SYNC)
            batch, done = SLOW_START_INITIAL_BATCH_SIZE, 0
            while done < diff:
                size = min(batch, diff - done)
                for _ in range(size):
                    self._create_pod(job)
                    active += 1
                done += size
                batch *= 2
        return active

    def _create_pod(self, job: dict) -> None:
        m = job["metadata"]
        template = (job.get("spec") or {}).get("template") or {}
        tmeta = template.get("metadata") or {}
        ns = m.get("namespace") or "default"
        meta: dict[str, Any] = {"generateName": f"{m['name']}-", "namespace": ns,
                                "ownerReferences": [owner_reference(job)]}
        if tmeta.get("labels"):
            meta["labels"] = dict(tmeta["labels"])
        if tmeta.get("annotations"):
            meta["annotations"] = dict(tmeta["annotations"])
        meta["finalizers"] = list(tmeta.get("finalizers") or []) + [JOB_TRACKING_FINALIZER]
        body = {"apiVersion": "v1", "kind": "Pod", "metadata": meta, "spec": copy.deepcopy(template.get("spec") or {})}
        try:
            pod = self.client.create(body, namespace=ns)
        except StatusError as e:
            self.recorder.warning(job, "FailedCreate", f"Error creating: {e}")
            raise
        self.pods.assume(pod)
        self.recorder.normal(job, "SuccessfulCreate", f"Created pod: {pod['metadata']['name']}")

    def _delete_pods(self, job: dict, pods: list[dict]) -> int:
        deleted = 0
        for pod in pods:
            name, ns = pod["metadata"]["name"], pod["metadata"].get("namespace")
            try:
                gone = self.client.delete("pods", name, ns)
            except NotFoundError:
                self.pods.assume_deleted(pod)
                deleted += 1
                continue
            except StatusError as e:
                self.recorder.warning(job, "FailedDelete", f"Error deleting: {e}")
                raise
            if gone.get("kind") == "Pod" and gone.get("metadata", {}).get("deletionTimestamp"):
                self.pods.assume(gone)
            else:
                self.pods.assume_deleted(pod)
            deleted += 1
            self.recorder.normal(job, "SuccessfulDelete", f"Deleted pod: {name}")
        return deleted


class TTLAfterFinishedController(Controller):
    """``ttl-after-finished`` in ``--controllers``: delete finished Jobs ``ttlSecondsAfterFinished`` later."""

    name = "ttl-after-finished"
    component = "ttl-after-finished-controller"

    def setup(self) -> None:
        self.jobs = self.informer("jobs")
        self.jobs.add_handler(self._maybe_enqueue, lambda o, n: self._maybe_enqueue(n), None)

    def resync(self) -> None:
        for job in self.jobs.list():
            self._maybe_enqueue(job)

    def _maybe_enqueue(self, job: dict) -> None:
        if (job.get("spec") or {}).get("ttlSecondsAfterFinished") is not None and finished_condition(job) \
                and not job["metadata"].get("deletionTimestamp"):
            self.enqueue(job)

    def _expires_in(self, job: dict) -> float | None:
        ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
        cond = finished_condition(job)
        if ttl is None or cond is None or job["metadata"].get("deletionTimestamp"):
            return None
        t = parse_time(cond.get("lastTransitionTime"))
        return (t if t is not None else self.loop.now) + int(ttl) - self.loop.now

    def reconcile(self, key: str) -> None:
        job = self.jobs.get(key)
        if job is None:
            return
        left = self._expires_in(job)
        if left is None:
            return
        if left > 0:
            self.enqueue(job, delay=left)
            return
        ns, name = split_key(key)
        try:  # the cache may be stale: check the live object (ttl may have been changed)
            fresh = self.client.get("jobs", name, ns)
        except NotFoundError:
            return
        left = self._expires_in(fresh)
        if left is None:
            return
        if left > 0:
            self.enqueue(fresh, delay=left)
            return
        try:
            self.client.delete("jobs", name, ns, propagation_policy="Foreground",
                               preconditions={"uid": fresh["metadata"]["uid"]})
        except NotFoundError:
            pass
