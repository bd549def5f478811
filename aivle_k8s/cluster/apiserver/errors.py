"""The API server's errors: each carries the real ``Status`` body kube-apiserver sends.

Every class subclasses one of the library's root errors (``except NotFound``
catches a missing pod as it catches a missing container) and :class:`StatusError`,
whose ``status`` is the ``metav1.Status`` dict an HTTP face would return::

    StatusError (AivleError)                       .status .code .reason
     ├── NotFoundError          (NotFound)         404 NotFound       pods "web" not found
     │    └── NoKindMatchError                     404 NotFound       no matches for kind "Deploymnt" in version "apps/v1"
     ├── AlreadyExistsError     (AlreadyExists)    409 AlreadyExists  pods "web" already exists
     ├── ConflictError          (Conflict)         409 Conflict       Operation cannot be fulfilled on pods "web": ...
     ├── InvalidError           (InvalidInput)     422 Invalid        The Pod "web" is invalid: spec.containers[0].image: Required value
     ├── BadRequestError        (InvalidInput)     400 BadRequest     Pod in version "v1" cannot be handled as a Pod: ...
     ├── MethodNotSupportedError(InvalidInput)     405 MethodNotAllowed
     ├── ForbiddenError                            403 Forbidden      pods "web" is forbidden: User "..." cannot ...
     ├── GoneError                                 410 Expired        too old resource version: 5 (10)
     ├── ServerTimeoutError                        504 Timeout        Too large resource version: 12, current: 10
     └── StorageError                              500 (Unknown)      etcdserver: request timed out   (.cause is the etcd error)
    UnknownResourceError        (InvalidInput)     the server doesn't have a resource type "foo"
    ConnectionRefused           (NetworkError)     The connection to the server 10.0.0.10:6443 was refused - ...

``str(error)`` is what kubectl prints after ``Error from server (Reason): ``,
except :class:`InvalidError`, whose text is kubectl's own ``The Pod "web" is
invalid: ...`` line; ``status["message"]`` is always the server's wording.

>>> e = NotFoundError("pods", "web")
>>> str(e), e.code, e.status["details"]
('pods "web" not found', 404, {'name': 'web', 'kind': 'pods'})
>>> e = InvalidError("Deployment", "apps", "web", [FieldError.invalid("spec.replicas", -1, "must be greater than or equal to 0")])
>>> str(e)
'The Deployment "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0'
>>> e.status["message"]
'Deployment.apps "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0'
"""

from __future__ import annotations

from typing import Any, Iterable

from ...sim.errors import AivleError, AlreadyExists, Conflict, InvalidInput, NetworkError, NotFound

__all__ = [
    "StatusError", "NotFoundError", "NoKindMatchError", "AlreadyExistsError", "ConflictError", "InvalidError",
    "BadRequestError", "MethodNotSupportedError", "ForbiddenError", "GoneError", "ServerTimeoutError", "StorageError",
    "UnknownResourceError", "ConnectionRefused", "FieldError", "go_repr", "status_success",
]


def _qualified(resource: str, group: str) -> str:
    return f"{resource}.{group}" if group else resource


def status_success(code: int = 200, details: dict | None = None) -> dict:
    """A ``Status`` with ``status: Success`` (what a Binding or Eviction create returns)."""
    st = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success", "code": code}
    if details:
        st["details"] = details
    return st


class StatusError(AivleError):
    """An error the API server answers with a ``Status`` body (``.status``)."""

    code = 500
    reason = ""

    def __init__(self, message: str, *, status_message: str | None = None, details: dict | None = None,
                 code: int | None = None, reason: str | None = None, **context: Any):
        super().__init__(message, **context)
        if code is not None:
            self.code = code
        if reason is not None:
            self.reason = reason
        st: dict = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                    "message": message if status_message is None else status_message}
        if self.reason:
            st["reason"] = self.reason
        if details:
            st["details"] = details
        st["code"] = self.code
        self.status = st

    @property
    def details(self) -> dict:
        return self.status.get("details", {})


class NotFoundError(StatusError, NotFound):
    """``<resource> "<name>" not found`` (404)."""

    code, reason = 404, "NotFound"

    def __init__(self, resource: str, name: str, group: str = "", *, message: str | None = None, **context: Any):
        details = {"name": name, **({"group": group} if group else {}), "kind": resource}
        super().__init__(message or f'{_qualified(resource, group)} "{name}" not found', details=details, **context)


class NoKindMatchError(NotFoundError):
    """A manifest's ``kind`` is not served in its ``apiVersion`` (kubectl's ``no matches for kind``).

    ``hint`` suggests the kind or apiVersion the author probably meant.
    """

    def __init__(self, kind: str, api_version: str, hint: str = ""):
        message = f'no matches for kind "{kind}" in version "{api_version}"'
        full = message + (f"\n{hint}" if hint else "")
        StatusError.__init__(self, full, status_message="the server could not find the requested resource",
                             details={}, kind=kind, api_version=api_version, hint=hint)
        self.summary = message


class AlreadyExistsError(StatusError, AlreadyExists):
    """``<resource> "<name>" already exists`` (409)."""

    code, reason = 409, "AlreadyExists"

    def __init__(self, resource: str, name: str, group: str = "", **context: Any):
        details = {"name": name, **({"group": group} if group else {}), "kind": resource}
        super().__init__(f'{_qualified(resource, group)} "{name}" already exists', details=details, **context)


class ConflictError(StatusError, Conflict):
    """``Operation cannot be fulfilled on <resource> "<name>": <why>`` (409)."""

    code, reason = 409, "Conflict"

    def __init__(self, resource: str, name: str, why: str, group: str = "", **context: Any):
        details = {"name": name, **({"group": group} if group else {}), "kind": resource}
        super().__init__(f'Operation cannot be fulfilled on {_qualified(resource, group)} "{name}": {why}',
                         details=details, **context)

    @classmethod
    def modified(cls, resource: str, name: str, group: str = "") -> "ConflictError":
        return cls(resource, name, "the object has been modified; please apply your changes to the latest "
                                   "version and try again", group)


class FieldError:
    """One validation cause, shaped like apimachinery's ``field.Error``.

    ``str(err)`` is ``<field>: <type>[: <value>][: <detail>]``; :meth:`body` is the
    part after the field (a Status cause's ``message``).
    """

    __slots__ = ("type", "field", "value", "detail", "show_value")

    _REASONS = {"Required value": "FieldValueRequired", "Invalid value": "FieldValueInvalid",
                "Duplicate value": "FieldValueDuplicate", "Unsupported value": "FieldValueNotSupported",
                "Forbidden": "FieldValueForbidden", "Too long": "FieldValueTooLong",
                "Too many": "FieldValueTooMany", "Not found": "FieldValueNotFound",
                "Internal error": "InternalError"}

    def __init__(self, type_: str, field: str, value: Any = None, detail: str = "", show_value: bool = True):
        self.type, self.field, self.value, self.detail, self.show_value = type_, field, value, detail, show_value

    @classmethod
    def required(cls, field: str, detail: str = "") -> "FieldError":
        return cls("Required value", field, None, detail, False)

    @classmethod
    def invalid(cls, field: str, value: Any, detail: str = "") -> "FieldError":
        return cls("Invalid value", field, value, detail)

    @classmethod
    def duplicate(cls, field: str, value: Any) -> "FieldError":
        return cls("Duplicate value", field, value)

    @classmethod
    def not_supported(cls, field: str, value: Any, supported: Iterable[Any]) -> "FieldError":
        quoted = ", ".join(go_repr(str(v)) for v in supported)
        return cls("Unsupported value", field, value, f"supported values: {quoted}" if quoted else "")

    @classmethod
    def forbidden(cls, field: str, detail: str) -> "FieldError":
        return cls("Forbidden", field, None, detail, False)

    @classmethod
    def not_found(cls, field: str, value: Any) -> "FieldError":
        return cls("Not found", field, value)

    @classmethod
    def too_long(cls, field: str, limit: int) -> "FieldError":
        return cls("Too long", field, None, f"must have at most {limit} bytes", False)

    @property
    def reason(self) -> str:
        return self._REASONS.get(self.type, "FieldValueInvalid")

    def body(self) -> str:
        s = self.type
        if self.show_value:
            s += ": " + go_repr(self.value)
        if self.detail:
            s += ": " + self.detail
        return s

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}" if self.field else self.body()

    def __repr__(self) -> str:
        return f"<FieldError {self}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FieldError) and str(self) == str(other)

    def __hash__(self) -> int:
        return hash(str(self))

    def cause(self) -> dict:
        return {"reason": self.reason, "message": self.body(), "field": self.field}


def go_repr(value: Any) -> str:
    """How Go's ``%v``/``%q``/``%#v`` print a bad value in a validation message.

    >>> go_repr("Web_1"), go_repr(-1), go_repr(True), go_repr({"app": "x"}), go_repr(None)
    ('"Web_1"', '-1', 'true', 'map[string]string{"app":"x"}', 'null')
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value) if isinstance(value, float) and not value.is_integer() else str(int(value))
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if isinstance(value, dict):
        if all(isinstance(v, str) for v in value.values()):
            inner = ", ".join(f"{go_repr(str(k))}:{go_repr(v)}" for k, v in sorted(value.items()))
            return "map[string]string{" + inner + "}"
        inner = ", ".join(f"{go_repr(str(k))}:{go_repr(v)}" for k, v in sorted(value.items()))
        return "map[string]interface {}{" + inner + "}"
    if isinstance(value, (list, tuple)):
        if all(isinstance(v, str) for v in value):
            return "[]string{" + ", ".join(go_repr(v) for v in value) + "}"
        return "[]interface {}{" + ", ".join(go_repr(v) for v in value) + "}"
    return str(value)


def _aggregate(errors: list) -> str:
    texts = []
    for e in errors:  # apimachinery's aggregate drops exact duplicates
        t = str(e)
        if t not in texts:
            texts.append(t)
    return texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"


class InvalidError(StatusError, InvalidInput):
    """A request failed validation (422): ``causes`` are :class:`FieldError` objects."""

    code, reason = 422, "Invalid"

    def __init__(self, kind: str, group: str, name: str, causes: list[FieldError], **context: Any):
        agg = _aggregate(causes)
        details = {"name": name, **({"group": group} if group else {}), "kind": kind,
                   "causes": [c.cause() for c in causes]}
        super().__init__(f'The {kind} "{name}" is invalid: {agg}',
                         status_message=f'{_qualified(kind, group)} "{name}" is invalid: {agg}',
                         details=details, causes=list(causes), **context)


class BadRequestError(StatusError, InvalidInput):
    """The request could not be understood (400): undecodable objects, bad selectors, ..."""

    code, reason = 400, "BadRequest"


class MethodNotSupportedError(StatusError, InvalidInput):
    """The resource does not support the verb (405)."""

    code, reason = 405, "MethodNotAllowed"

    def __init__(self, resource: str, verb: str, group: str = "", **context: Any):
        super().__init__(f'the server does not allow this method on the requested resource',
                         details={**({"group": group} if group else {}), "kind": resource},
                         verb=verb, **context)


class ForbiddenError(StatusError):
    """Authorization or an admission plugin refused the request (403)."""

    code, reason = 403, "Forbidden"

    def __init__(self, resource: str, name: str, why: str, group: str = "", **context: Any):
        qr = _qualified(resource, group)
        if name:
            message = f'{qr} "{name}" is forbidden: {why}'
        else:
            message = f"{qr} is forbidden: {why}"
        details = {**({"name": name} if name else {}), **({"group": group} if group else {}), "kind": resource}
        super().__init__(message, details=details, **context)


class GoneError(StatusError):
    """The resourceVersion asked for was compacted away (410, reason ``Expired``): re-list."""

    code, reason = 410, "Expired"


class ServerTimeoutError(StatusError):
    """The server could not serve the request in time (504)."""

    code, reason = 504, "Timeout"


class StorageError(StatusError):
    """etcd failed the request; the message is etcd's (500). ``cause`` is the etcd error."""

    code, reason = 500, ""


class UnknownResourceError(InvalidInput):
    """A resource type name kubectl cannot map (``kubectl get foo``)."""

    def __init__(self, name: str, hint: str = ""):
        message = f'the server doesn\'t have a resource type "{name}"'
        super().__init__(message + (f"\n{hint}" if hint else ""), resource=name, hint=hint, summary=message)


class ConnectionRefused(NetworkError):
    """The API server is stopped: what kubectl says when nothing listens on 6443."""

    def __init__(self, address: str):
        super().__init__(f"The connection to the server {address} was refused - did you specify the right "
                         f"host or port?", address=address)
