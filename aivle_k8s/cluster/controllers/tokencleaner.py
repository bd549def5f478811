"""The bootstrap token cleaner: deletes expired ``bootstrap.kubernetes.io/token`` Secrets in kube-system.

``data.expiration`` is base64 of an RFC 3339 time (as ``kubeadm token create``
writes it); once it has passed the Secret is deleted, and with it the token.
"""

from __future__ import annotations

import base64

from ..apiserver.errors import NotFoundError
from .base import Controller, parse_time

__all__ = ["TokenCleaner"]

TOKEN_TYPE = "bootstrap.kubernetes.io/token"


class TokenCleaner(Controller):
    """``tokencleaner`` in ``--controllers``."""

    name = "tokencleaner"
    component = "tokencleaner"

    def setup(self) -> None:
        self.secrets = self.informer("secrets", "kube-system")
        self.secrets.add_handler(self._event, lambda o, n: self._event(n))

    def _event(self, s: dict) -> None:
        if s.get("type") == TOKEN_TYPE:
            self.enqueue(s)

    def resync(self) -> None:
        for s in self.secrets.list():
            self._event(s)

    def reconcile(self, key: str) -> None:
        secret = self.secrets.get(key)
        if secret is None or secret.get("type") != TOKEN_TYPE:
            return
        raw = (secret.get("data") or {}).get("expiration")
        if not raw:
            return
        try:
            expires = parse_time(base64.b64decode(raw).decode())
        except (ValueError, UnicodeDecodeError):
            return
        if expires is None:
            return
        if self.loop.now < expires:
            self.enqueue(key, delay=expires - self.loop.now + 0.001)
            return
        try:
            self.client.delete("secrets", secret["metadata"]["name"], "kube-system",
                               preconditions={"uid": secret["metadata"]["uid"]})
        except NotFoundError:
            pass
        self.secrets.assume_deleted(secret)
