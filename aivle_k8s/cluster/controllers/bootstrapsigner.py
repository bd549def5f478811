"""The bootstrap signer: keeps one ``jws-kubeconfig-<id>`` signature in the ``cluster-info`` ConfigMap per
live signing token.

``cluster-info`` (kube-public) carries the cluster's CA and endpoint; a joining node
that knows a bootstrap token checks the ConfigMap with the token's detached JWS
(HS256, key = the token secret). The signer follows bootstrap-token Secrets in
kube-system and the ConfigMap itself: a new token with ``usage-bootstrap-signing:
true`` adds its signature; a deleted or expired token's signature is removed (after
which ``kubeadm join`` with it fails with ``could not find a JWS signature in the
cluster-info ConfigMap for token ID``). It is off unless named in ``--controllers``
(kubeadm passes ``*,bootstrapsigner,tokencleaner``).
"""

from __future__ import annotations

import base64

from ..apiserver.errors import NotFoundError
from .base import Controller, parse_time

__all__ = ["BootstrapSigner"]

TOKEN_TYPE = "bootstrap.kubernetes.io/token"
CLUSTER_INFO = "kube-public/cluster-info"


def _field(secret: dict, name: str) -> str:
    raw = (secret.get("data") or {}).get(name)
    if not raw:
        return ""
    try:
        return base64.b64decode(raw).decode()
    except (ValueError, UnicodeDecodeError):
        return ""


class BootstrapSigner(Controller):
    """``bootstrapsigner`` in ``--controllers``."""

    name = "bootstrapsigner"
    component = "bootstrap-signer"

    def setup(self) -> None:
        self.secrets = self.informer("secrets", "kube-system")
        self.configmaps = self.informer("configmaps", "kube-public")
        self.secrets.add_handler(self._secret_event, lambda o, n: self._secret_event(n), self._secret_event)
        self.configmaps.add_handler(self._cm_event, lambda o, n: self._cm_event(n))

    def _secret_event(self, s: dict) -> None:
        if s.get("type") == TOKEN_TYPE:
            self.enqueue(CLUSTER_INFO)

    def _cm_event(self, cm: dict) -> None:
        if cm["metadata"].get("name") == "cluster-info":
            self.enqueue(CLUSTER_INFO)

    def resync(self) -> None:
        self.enqueue(CLUSTER_INFO)

    def _tokens(self) -> tuple[dict[str, str], float | None]:
        """Live signing tokens (id -> secret) and when the next of them expires."""
        now = self.loop.now
        tokens: dict[str, str] = {}
        next_expiry = None
        for s in self.secrets.list():
            if s.get("type") != TOKEN_TYPE or s["metadata"].get("deletionTimestamp"):
                continue
            if _field(s, "usage-bootstrap-signing") != "true":
                continue
            tid, secret = _field(s, "token-id"), _field(s, "token-secret")
            if not tid or not secret or s["metadata"].get("name") != f"bootstrap-token-{tid}":
                continue
            exp_text = _field(s, "expiration")
            if exp_text:
                expires = parse_time(exp_text)
                if expires is None or expires <= now:
                    continue
                next_expiry = expires if next_expiry is None else min(next_expiry, expires)
            tokens[tid] = secret
        return tokens, next_expiry

    def reconcile(self, key: str) -> None:
        if key != CLUSTER_INFO:
            return
        from ..kubeadm.tokens import jws_sign

        cm = self.configmaps.get(CLUSTER_INFO)
        if cm is None:
            return
        content = (cm.get("data") or {}).get("kubeconfig")
        if content is None:
            return
        tokens, next_expiry = self._tokens()
        data = {k: v for k, v in (cm.get("data") or {}).items() if not k.startswith("jws-kubeconfig-")}
        for tid, secret in sorted(tokens.items()):
            data[f"jws-kubeconfig-{tid}"] = jws_sign(f"{tid}.{secret}", content)
        if next_expiry is not None:
            self.enqueue(CLUSTER_INFO, delay=next_expiry - self.loop.now + 0.001)
        if data == (cm.get("data") or {}):
            return
        body = dict(cm)
        body["data"] = data
        try:
            self.configmaps.assume(self.client.update(body))
        except NotFoundError:
            return
