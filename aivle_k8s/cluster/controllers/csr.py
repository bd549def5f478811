"""Certificate signing requests: the kubelet client approver and the signer.

Approver (``csrapproving``): a CSR for ``kubernetes.io/kube-apiserver-client-kubelet``
whose request is a node client certificate (CN ``system:node:<name>``, O
``system:nodes``) is approved when it comes from a bootstrap token
(``system:bootstrappers`` — kubeadm's node bootstrap) or, for a renewal, from
that node itself: condition ``Approved``, reason ``AutoApproved``, message
``Auto approving kubelet client certificate after SubjectAccessReview.``
(``Auto approving self kubelet client certificate after SubjectAccessReview.``).

Signer (``csrsigning``): an approved, not yet signed CSR for one of the
``kubernetes.io/*`` signers gets ``status.certificate`` from the injected
``sign(csr_pem, usages, duration_seconds) -> cert_pem`` (kubeadm's CA).
"""

from __future__ import annotations

import base64
import copy
from typing import Any, Callable

from .base import Controller

__all__ = ["CSRApprovingController", "CSRSigningController"]

KUBELET_CLIENT = "kubernetes.io/kube-apiserver-client-kubelet"
SIGNERS = (KUBELET_CLIENT, "kubernetes.io/kube-apiserver-client", "kubernetes.io/kubelet-serving")
DEFAULT_DURATION = 365 * 24 * 3600


def _conditions(csr: dict) -> set:
    return {c.get("type") for c in (csr.get("status") or {}).get("conditions") or []}


def _subject(csr: dict) -> tuple[str, list[str]]:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    pem = base64.b64decode((csr.get("spec") or {}).get("request") or "")
    req = x509.load_pem_x509_csr(pem)
    cn = [a.value for a in req.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    orgs = [a.value for a in req.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
    return (cn[0] if cn else ""), orgs


class _CSRController(Controller):
    def setup(self) -> None:
        self.csrs = self.informer("certificatesigningrequests")
        self.csrs.add_handler(self.enqueue, lambda o, n: self.enqueue(n))

    def resync(self) -> None:
        for c in self.csrs.list():
            self.enqueue(c)


class CSRApprovingController(_CSRController):
    """``csrapproving`` in ``--controllers``."""

    name = "csrapproving"
    component = "csrapproving"

    def reconcile(self, key: str) -> None:
        csr = self.csrs.get(key)
        if csr is None or _conditions(csr) & {"Approved", "Denied", "Failed"}:
            return
        spec = csr.get("spec") or {}
        if spec.get("signerName") != KUBELET_CLIENT:
            return
        try:
            cn, orgs = _subject(csr)
        except Exception:  # noqa: BLE001 - not a parsable request: not ours to approve
            return
        if not cn.startswith("system:node:") or orgs != ["system:nodes"]:
            return
        usages = set(spec.get("usages") or [])
        if not usages <= {"digital signature", "key encipherment", "client auth"} or "client auth" not in usages:
            return
        groups = spec.get("groups") or []
        if spec.get("username") == cn and "system:nodes" in groups:
            message = "Auto approving self kubelet client certificate after SubjectAccessReview."
        elif "system:bootstrappers" in groups or any(g.startswith("system:bootstrappers:") for g in groups):
            message = "Auto approving kubelet client certificate after SubjectAccessReview."
        else:
            return
        body = copy.deepcopy(csr)
        now = self.now()
        body.setdefault("status", {})["conditions"] = list((csr.get("status") or {}).get("conditions") or []) + [
            {"type": "Approved", "status": "True", "reason": "AutoApproved", "message": message,
             "lastUpdateTime": now, "lastTransitionTime": now}]
        self.csrs.assume(self.client.update(body, subresource="approval"))


class CSRSigningController(_CSRController):
    """``csrsigning`` in ``--controllers``; ``signer`` is kubeadm's CA (``None``: nothing is signed)."""

    name = "csrsigning"
    component = "csrsigning"

    def __init__(self, *args: Any, signer: Callable[..., bytes] | None = None, **kwargs: Any):
        self.signer = signer
        super().__init__(*args, **kwargs)

    def reconcile(self, key: str) -> None:
        csr = self.csrs.get(key)
        if csr is None or self.signer is None:
            return
        conds = _conditions(csr)
        if "Approved" not in conds or conds & {"Denied", "Failed"} or (csr.get("status") or {}).get("certificate"):
            return
        spec = csr.get("spec") or {}
        if spec.get("signerName") not in SIGNERS:
            return
        pem = base64.b64decode(spec.get("request") or "")
        duration = int(spec.get("expirationSeconds") or DEFAULT_DURATION)
        cert = self.signer(pem, list(spec.get("usages") or []), duration)
        if isinstance(cert, str):
            cert = cert.encode()
        body = copy.deepcopy(csr)
        body.setdefault("status", {})["certificate"] = base64.b64encode(cert).decode()
        self.csrs.assume(self.client.update(body, subresource="status"))
