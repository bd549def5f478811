"""HTTP/1.1 on top of :mod:`aivle_k8s.linux.net`: requests and responses as real bytes.

Servers (nginx, httpd, the API server) parse the request bytes; clients
(``curl``, kube-proxy health checks, labs) build them.

>>> req = Request("GET", "/index.html", {"Host": "web"})
>>> Request.parse(req.to_bytes()).path
'/index.html'
>>> resp = Response(404, b"not here\\n", {"Content-Type": "text/plain"})
>>> Response.parse(resp.to_bytes()).status, Response.parse(resp.to_bytes()).reason
(404, 'Not Found')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from http import HTTPStatus
from urllib.parse import urlsplit

from ..sim.errors import InvalidInput, NetworkError

__all__ = ["Request", "Response", "parse_url", "request", "CURL_VERSION", "curl_version"]

#: The curl of a default machine: Ubuntu 22.04 ships curl 7.81.0 (package 7.81.0-1ubuntu1.16),
#: which says ``User-Agent: curl/7.81.0``.
CURL_VERSION = "7.81.0"


def curl_version(fs) -> str:
    """The upstream version of the curl installed in ``fs`` (dpkg or apk), else :data:`CURL_VERSION`.

    ``7.81.0-1ubuntu1.16`` -> ``7.81.0``, ``7.88.1-10+deb12u6`` -> ``7.88.1``, ``8.5.0-r0`` -> ``8.5.0``.
    """
    from .packages import installed_version

    for name in ("curl", "libcurl4", "libcurl"):
        v = installed_version(fs, name)
        if v:
            v = v.split(":", 1)[-1]
            return v.rsplit("-", 1)[0] if "-" in v else v
    return CURL_VERSION


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def to_bytes(self) -> bytes:
        headers = dict(self.headers)
        if self.body and "Content-Length" not in headers:
            headers["Content-Length"] = str(len(self.body))
        head = f"{self.method} {self.path} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        return head.encode() + b"\r\n" + self.body

    @staticmethod
    def parse(data: bytes) -> "Request":
        """Parse request bytes (raises InvalidInput on a malformed request line)."""
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3 or not parts[2].startswith("HTTP/"):
            raise InvalidInput("400 Bad Request: malformed request line")
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip()] = v.strip()
        return Request(parts[0], parts[1], headers, body)

    def header(self, name: str, default: str | None = None) -> str | None:
        for k, v in self.headers.items():
            if k.lower() == name.lower():
                return v
        return default


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    reason: str = ""

    def __post_init__(self):
        if not self.reason:
            self.reason = _reason(self.status)

    def to_bytes(self) -> bytes:
        headers = dict(self.headers)
        headers.setdefault("Content-Length", str(len(self.body)))
        head = f"HTTP/1.1 {self.status} {self.reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        return head.encode() + b"\r\n" + self.body

    @staticmethod
    def parse(data: bytes) -> "Response":
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            raise NetworkError("Received HTTP/0.9 when not allowed", reason="protocol")
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip()] = v.strip()
        return Response(int(parts[1]), body, headers, parts[2] if len(parts) > 2 else "")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    def header(self, name: str, default: str | None = None) -> str | None:
        for k, v in self.headers.items():
            if k.lower() == name.lower():
                return v
        return default


def parse_url(url: str) -> tuple[str, str, int, str]:
    """``(scheme, host, port, path)`` of an http(s) URL.

    >>> parse_url("localhost:8080/x?y=1")
    ('http', 'localhost', 8080, '/x?y=1')
    """
    if "://" not in url:
        url = "http://" + url
    try:
        parts = urlsplit(url)
        parts.hostname
    except ValueError:
        raise InvalidInput("URL using bad/illegal format or missing URL") from None
    if parts.scheme not in ("http", "https"):
        raise InvalidInput(f'Protocol "{parts.scheme}" not supported')
    if not parts.hostname:
        raise InvalidInput(f"URL rejected: No host part in the URL")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise InvalidInput("URL rejected: Port number was not a decimal number between 0 and 65535") from None
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return parts.scheme, parts.hostname, port, path


def request(net, src, method: str, url: str, body: bytes = b"", headers: dict | None = None) -> Response:
    """Send one HTTP request from namespace ``src`` and parse the response.

    The default headers are curl's (``User-Agent: curl/7.81.0``, ``Accept: */*``); ``headers`` override them.
    """
    scheme, host, port, path = parse_url(url)
    hdrs = {"Host": host if port in (80, 443) else f"{host}:{port}", "User-Agent": f"curl/{CURL_VERSION}",
            "Accept": "*/*"}
    hdrs.update(headers or {})
    raw = net.request(src, host, port, Request(method, path, hdrs, body).to_bytes())
    return Response.parse(raw)
