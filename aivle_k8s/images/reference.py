"""Image references: the grammar ``docker pull`` and ``docker tag`` accept.

This mirrors ``github.com/distribution/reference`` (``ParseNormalizedNamed``)
as used by the Docker CLI and BuildKit::

    reference   := name [ ":" tag ] [ "@" digest ]
    name        := [ host [ ":" port ] "/" ] path
    host        := domain-name | IPv4 | "[" IPv6 "]"
    path        := component ( "/" component )*
    component   := [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
    tag         := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
    digest      := algorithm ":" hex        (sha256: 64, sha384: 96, sha512: 128 hex)

Normalisation, exactly as Docker does it:

* A name *with* a ``/`` has a registry host first when that first component
  contains a ``.`` or a ``:``, is ``localhost``, or has an uppercase letter;
  otherwise the host is ``docker.io``.  ``index.docker.io`` becomes
  ``docker.io``.
* A name *without* a ``/`` is always on Docker Hub, so ``192.168.0.1:80`` is
  the image ``192.168.0.1`` with the tag ``80``.
* On Docker Hub a one-component path gets ``library/`` (the official images).
* The tag ``latest`` is added only when there is neither a tag nor a digest.

>>> ref = parse_reference("nginx")
>>> ref
<Reference docker.io/library/nginx:latest>
>>> ref.domain, ref.path, ref.tag, ref.digest
('docker.io', 'library/nginx', 'latest', None)
>>> ref.familiar, ref.familiar_string
('nginx', 'nginx:latest')
>>> str(parse_reference("localhost:5000/team/app:2"))
'localhost:5000/team/app:2'
>>> parse_reference("192.168.0.1:80").familiar_string
'192.168.0.1:80'

Every invalid reference raises :class:`~aivle_k8s.sim.errors.InvalidReference`
whose message starts with Docker's own words and then says which part is
wrong (``host``, ``path``, ``tag``, ``digest`` or the whole ``name``) and what
to do; the exception carries ``reference`` (the input) and ``part``:

>>> try:
...     parse_reference("Nginx")
... except InvalidReference as e:
...     print(e.part)
...     print(e)
path
invalid reference format: repository name (library/Nginx) must be lowercase; path component 'Nginx' has uppercase letters: image names are lowercase, write 'nginx' (only a registry host such as Registry.Example.com/app may use uppercase)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from aivle_k8s.sim.errors import InvalidReference

__all__ = [
    "Reference",
    "parse_reference",
    "is_image_id",
    "split_host",
    "DEFAULT_DOMAIN",
    "LEGACY_DEFAULT_DOMAIN",
    "OFFICIAL_REPO_PREFIX",
    "DEFAULT_TAG",
    "NAME_TOTAL_LENGTH_MAX",
    "DIGEST_HEX_LENGTHS",
]

#: The registry every unqualified name lives on (Docker Hub).
DEFAULT_DOMAIN = "docker.io"
#: Docker Hub's old name; rewritten to :data:`DEFAULT_DOMAIN`.
LEGACY_DEFAULT_DOMAIN = "index.docker.io"
#: Namespace of Docker Hub's official images (``nginx`` is ``library/nginx``).
OFFICIAL_REPO_PREFIX = "library/"
#: Tag used when a reference names neither a tag nor a digest.
DEFAULT_TAG = "latest"
#: Maximum length of the repository path (the host is not counted).
NAME_TOTAL_LENGTH_MAX = 255
#: Digest algorithms Docker accepts, with the number of hex digits each needs.
DIGEST_HEX_LENGTHS = {"sha256": 64, "sha384": 96, "sha512": 128}

_LOCALHOST = "localhost"
_TAG_MAX = 128

# -- the grammar, as regular expressions (ASCII only, as in Go's regexp) -------
_ALNUM = r"[a-z0-9]+"
_SEPARATOR = r"(?:[._]|__|[-]+)"
_PATH_COMPONENT = rf"{_ALNUM}(?:{_SEPARATOR}{_ALNUM})*"
_REMOTE_NAME = rf"{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN_NAME = rf"{_DOMAIN_COMPONENT}(?:\.{_DOMAIN_COMPONENT})*"
_IPV6 = r"\[(?:[a-fA-F0-9:]+)\]"
_DOMAIN_AND_PORT = rf"(?:{_DOMAIN_NAME}|{_IPV6})(?::[0-9]+)?"
_TAG = r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
_DIGEST = r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"

_PATH_COMPONENT_RE = re.compile(_PATH_COMPONENT)
_DOMAIN_AND_PORT_RE = re.compile(_DOMAIN_AND_PORT)
_DOMAIN_NAME_RE = re.compile(_DOMAIN_NAME)
_IPV6_RE = re.compile(_IPV6)
_TAG_RE = re.compile(_TAG)
_DIGEST_RE = re.compile(_DIGEST)
_NAME_RE = re.compile(rf"(?:({_DOMAIN_AND_PORT})/)?({_REMOTE_NAME})")
_REFERENCE_RE = re.compile(
    rf"((?:{_DOMAIN_AND_PORT}/)?{_REMOTE_NAME})(?::({_TAG}))?(?:@({_DIGEST}))?"
)
_IDENTIFIER_RE = re.compile(r"[a-f0-9]{64}")
# go-digest's own check on the algorithm part (lowercase only)
_GO_DIGEST_ALGORITHM_RE = re.compile(r"[a-z0-9]+(?:[.+_-][a-z0-9]+)*")
_HEX_LOWER_RE = re.compile(r"[a-f0-9]+")
_HEX_ANY_RE = re.compile(r"[0-9a-fA-F]+")

_COMPONENT_RULE = (
    "path components use lowercase letters and digits, separated by '.', "
    "'_', '__' or dashes, and may not start or end with a separator"
)
_HOST_RULE = (
    "a registry host is a DNS name (letters, digits and '-', labels joined by "
    "'.', each label starting and ending with a letter or digit), an IPv4 "
    "address or an [IPv6] address, optionally followed by ':' and a numeric port"
)
_TAG_RULE = (
    "a tag may contain only letters, digits, '_', '.' and '-', must start with "
    "a letter, digit or '_', and is at most 128 characters"
)
_DIGEST_RULE = (
    "a digest is ALGORITHM:HEX, e.g. sha256: followed by 64 lowercase hex digits "
    "(see `docker images --digests`)"
)


@dataclass(frozen=True)
class Reference:
    """A normalised, fully qualified image reference.

    Build one with :func:`parse_reference` (the constructor does not validate).

    Attributes:
        domain: registry host with optional port, e.g. ``docker.io`` or
            ``localhost:5000``.
        path: repository path on that registry, e.g. ``library/nginx``.
        tag: the tag, or ``None`` when the reference is by digest only.
        digest: ``algorithm:hex`` or ``None``.

    >>> ref = parse_reference("user/app:v1")
    >>> ref.name, ref.familiar, ref.is_docker_hub
    ('docker.io/user/app', 'user/app', True)
    >>> ref.with_tag("v2")
    <Reference docker.io/user/app:v2>
    >>> ref == parse_reference("docker.io/user/app:v1")
    True
    """

    domain: str
    path: str
    tag: str | None = None
    digest: str | None = None

    # -- names ---------------------------------------------------------------
    @property
    def name(self) -> str:
        """``domain/path`` without tag or digest (``docker.io/library/nginx``)."""
        return f"{self.domain}/{self.path}"

    @property
    def repository(self) -> str:
        """Alias of :attr:`name` (the repository an image is stored under)."""
        return self.name

    @property
    def is_docker_hub(self) -> bool:
        """True when the image lives on Docker Hub (``docker.io``).

        >>> parse_reference("nginx").is_docker_hub, parse_reference("quay.io/x/y").is_docker_hub
        (True, False)
        """
        return self.domain == DEFAULT_DOMAIN

    @property
    def familiar(self) -> str:
        """The short name ``docker images`` shows in its REPOSITORY column.

        ``docker.io/`` is dropped, and so is ``library/`` when nothing else
        follows it:

        >>> [parse_reference(s).familiar for s in
        ...  ("nginx", "user/app", "localhost:5000/app", "docker.io/library/a/b")]
        ['nginx', 'user/app', 'localhost:5000/app', 'library/a/b']

        As in Docker, a Docker Hub path whose first component looks like a host
        (``docker.io/foo.com/bar``) gets a familiar name that reads back as a
        different registry (``foo.com/bar``).
        """
        if self.domain != DEFAULT_DOMAIN:
            return self.name
        path = self.path
        if path.startswith(OFFICIAL_REPO_PREFIX):
            rest = path[len(OFFICIAL_REPO_PREFIX):]
            if "/" not in rest:
                return rest
        return path

    @property
    def familiar_string(self) -> str:
        """:attr:`familiar` with tag and digest, e.g. ``nginx:1.25``.

        >>> parse_reference("docker.io/library/nginx:1.25").familiar_string
        'nginx:1.25'
        """
        return self._with_suffix(self.familiar)

    def _with_suffix(self, name: str) -> str:
        if self.tag is not None:
            name += ":" + self.tag
        if self.digest is not None:
            name += "@" + self.digest
        return name

    # -- derived references --------------------------------------------------
    def with_tag(self, tag: str | None) -> Reference:
        """A copy with another tag (``None`` removes it); the digest is kept.

        Raises:
            InvalidReference: the tag is not valid.

        >>> parse_reference("nginx").with_tag("1.25").familiar_string
        'nginx:1.25'
        """
        if tag is not None and not _TAG_RE.fullmatch(tag):
            raise InvalidReference(
                f"invalid tag format: tag ({tag}) is not valid; {_TAG_RULE}",
                reference=tag,
                part="tag",
            )
        return replace(self, tag=tag)

    def with_digest(self, digest: str | None) -> Reference:
        """A copy pinned to ``digest`` (``None`` removes it); the tag is kept.

        Raises:
            InvalidReference: the digest is not valid.

        >>> d = "sha256:" + "ab" * 32
        >>> parse_reference("nginx:1.25").with_digest(d).familiar_string == "nginx:1.25@" + d
        True
        """
        if digest is not None:
            _check_digest(digest, digest)
        return replace(self, digest=digest)

    def without_tag_or_digest(self) -> Reference:
        """Only the repository: no tag and no digest (``docker.io/library/nginx``)."""
        return replace(self, tag=None, digest=None)

    # -- text ----------------------------------------------------------------
    def __str__(self) -> str:
        return self._with_suffix(self.name)

    def __repr__(self) -> str:
        return f"<Reference {self}>"

    @classmethod
    def parse(cls, text: str) -> Reference:
        """Same as :func:`parse_reference`."""
        return parse_reference(text)


# -- public helpers -----------------------------------------------------------
def is_image_id(text: str) -> bool:
    """True when ``text`` is a full image ID rather than a name.

    An image ID is 64 lowercase hex digits, optionally prefixed ``sha256:``.

    >>> is_image_id("a" * 64), is_image_id("sha256:" + "0" * 64), is_image_id("nginx")
    (True, True, False)
    """
    if not isinstance(text, str):
        return False
    if text.startswith("sha256:"):
        text = text[len("sha256:"):]
    return _IDENTIFIER_RE.fullmatch(text) is not None


def split_host(text: str) -> tuple[str, str]:
    """Split a reference into ``(domain, remainder)`` the way Docker does.

    The remainder keeps any ``:tag`` / ``@digest``; on Docker Hub a
    one-component name gets ``library/``.  Nothing is validated.

    >>> split_host("nginx:1.25")
    ('docker.io', 'library/nginx:1.25')
    >>> split_host("localhost:5000/app")
    ('localhost:5000', 'app')
    >>> split_host("index.docker.io/user/app")
    ('docker.io', 'user/app')
    >>> split_host("192.168.0.1:80")
    ('docker.io', 'library/192.168.0.1:80')
    """
    domain, remainder, _ = _split(text)
    return domain, remainder


def _split(text: str) -> tuple[str, str, bool]:
    """splitDockerDomain; the flag says whether the input named a host itself."""
    first, sep, rest = text.partition("/")
    if not sep:
        return DEFAULT_DOMAIN, OFFICIAL_REPO_PREFIX + text, False
    if first == _LOCALHOST:
        domain, remainder, explicit = first, rest, True
    elif first == LEGACY_DEFAULT_DOMAIN:
        domain, remainder, explicit = DEFAULT_DOMAIN, rest, True
    elif "." in first or ":" in first or first.lower() != first:
        domain, remainder, explicit = first, rest, True
    else:
        domain, remainder, explicit = DEFAULT_DOMAIN, text, False
    if domain == DEFAULT_DOMAIN and "/" not in remainder:
        remainder = OFFICIAL_REPO_PREFIX + remainder
    return domain, remainder, explicit


def parse_reference(text: str) -> Reference:
    """Parse and normalise an image reference as ``docker pull`` does.

    Args:
        text: what the user typed, e.g. ``nginx``, ``user/app:v1``,
            ``localhost:5000/team/app@sha256:...``.

    Returns:
        The fully qualified :class:`Reference`.

    Raises:
        InvalidReference: the text does not follow the grammar; ``part`` is
            ``"host"``, ``"path"``, ``"tag"``, ``"digest"`` or ``"name"``.

    >>> parse_reference("index.docker.io/library/nginx")
    <Reference docker.io/library/nginx:latest>
    >>> parse_reference("[::1]:5000/app").domain
    '[::1]:5000'
    >>> r = parse_reference("nginx@sha256:" + "0" * 64)
    >>> r.tag is None, r.digest == "sha256:" + "0" * 64
    (True, True)
    >>> parse_reference("nginx:")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    aivle_k8s.sim.errors.InvalidReference: invalid reference format: tag is empty in 'nginx:'...
    """
    if not isinstance(text, str):
        raise TypeError(f"an image reference must be a str, not {type(text).__name__}")
    if _IDENTIFIER_RE.fullmatch(text):
        raise _error(
            text,
            "name",
            f"invalid repository name ({text}), cannot specify 64-byte hexadecimal strings; "
            "this is an image ID, not a name: use it as it is with docker run/inspect/rmi, "
            f"or pin a name to content with NAME@sha256:{text[:12]}...",
        )
    if text == "":
        raise _error(
            text,
            "name",
            "invalid reference format: the reference is empty; "
            "give an image name such as nginx or nginx:1.25",
        )

    domain, remainder, explicit = _split(text)
    remote = remainder.split(":", 1)[0]
    if remote.lower() != remote:
        raise _uppercase_error(text, domain, remainder, remote, explicit)

    match = _REFERENCE_RE.fullmatch(f"{domain}/{remainder}")
    if match is None:
        raise _diagnose(text, domain, remainder, explicit)
    name, tag, digest = match.groups()
    name_match = _NAME_RE.fullmatch(name)
    assert name_match is not None  # the reference regexp matched it already
    found_domain, path = name_match.group(1), name_match.group(2)
    if found_domain != domain:
        # Docker would silently treat "my_host.com/app" as a path without a
        # registry; a host that is not a valid host name is an error here.
        raise _error(
            text,
            "host",
            f"invalid reference format: registry host ({domain}) is not valid; {_HOST_RULE}",
        )
    if len(path) > NAME_TOTAL_LENGTH_MAX:
        raise _error(
            text,
            "path",
            f"repository name must not be more than {NAME_TOTAL_LENGTH_MAX} characters; "
            f"the path ({_short(path)}) is {len(path)} characters long, shorten it",
        )
    if digest is not None:
        _check_digest(text, digest)
    if tag is None and digest is None:
        tag = DEFAULT_TAG
    return Reference(domain=domain, path=path, tag=tag, digest=digest)


# -- errors -------------------------------------------------------------------
def _error(text: str, part: str, message: str) -> InvalidReference:
    return InvalidReference(message, reference=text, part=part)


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _user_path(remainder_path: str, explicit: bool) -> str:
    """The path as the user wrote it (without the ``library/`` we added)."""
    if not explicit and remainder_path.startswith(OFFICIAL_REPO_PREFIX):
        return remainder_path[len(OFFICIAL_REPO_PREFIX):]
    return remainder_path


def _uppercase_error(
    text: str, domain: str, remainder: str, remote: str, explicit: bool
) -> InvalidReference:
    at = remote.find("@")
    if at >= 0 and remote[:at].lower() == remote[:at]:
        algorithm = remote[at + 1:]
        return _error(
            text,
            "digest",
            f"invalid reference format: digest algorithm ({_short(algorithm)}) must be "
            f"lowercase; {_DIGEST_RULE}",
        )
    path = remote[:at] if at >= 0 else remote
    bad = next((c for c in path.split("/") if c.lower() != c), path)
    head = f"invalid reference format: repository name ({_short(remote, 80)}) must be lowercase"
    lower = bad.lower()
    fix = f"write {_short(lower)!r}" if _PATH_COMPONENT_RE.fullmatch(lower) else _COMPONENT_RULE
    return _error(
        text,
        "path",
        f"{head}; path component {_short(bad)!r} has uppercase letters: image names are "
        f"lowercase, {fix} (only a registry host such as Registry.Example.com/app may use "
        "uppercase)",
    )


def _host_problem(domain: str) -> str:
    if domain == "":
        return "the registry host is empty"
    host, port = domain, None
    if domain.startswith("["):
        close = domain.find("]")
        if close < 0:
            return f"registry host ({_short(domain)}) has '[' without a closing ']'"
        host, rest = domain[: close + 1], domain[close + 1:]
        if rest:
            if not rest.startswith(":"):
                return f"registry host ({_short(domain)}) has text after ']' that is not ':port'"
            port = rest[1:]
        if not _IPV6_RE.fullmatch(host):
            return f"registry host ({_short(domain)}) is not a valid [IPv6] address"
    elif ":" in domain:
        host, _, port = domain.partition(":")
    if port is not None and not re.fullmatch(r"[0-9]+", port):
        if port == "":
            return f"registry host ({_short(domain)}) ends with ':' but has no port number"
        return f"registry port ({_short(port)}) in {_short(domain)!r} must be a number"
    if not host.startswith("[") and not _DOMAIN_NAME_RE.fullmatch(host):
        return f"registry host ({_short(host)}) is not a valid host name"
    return f"registry host ({_short(domain)}) is not valid"


def _diagnose(text: str, domain: str, remainder: str, explicit: bool) -> InvalidReference:
    """Say which part of ``text`` broke the grammar (the regexp did not match)."""
    prefix = "invalid reference format"
    if explicit and not _DOMAIN_AND_PORT_RE.fullmatch(domain):
        return _error(text, "host", f"{prefix}: {_host_problem(domain)}; {_HOST_RULE}")

    before, at, digest = remainder.partition("@")
    path, colon, tag = before.partition(":")
    user_path = _user_path(path, explicit)

    if user_path == "":
        where = "after the registry host " if explicit else ""
        return _error(
            text,
            "path",
            f"{prefix}: the repository name {where}is missing in {_short(text)!r}; "
            "give one such as nginx or team/app",
        )
    components = user_path.split("/")
    if "" in components:
        return _error(
            text,
            "path",
            f"{prefix}: repository path ({_short(user_path)}) has an empty component; "
            "remove the extra '/' (components are joined by single slashes)",
        )
    for component in components:
        if not _PATH_COMPONENT_RE.fullmatch(component):
            return _error(
                text,
                "path",
                f"{prefix}: path component ({_short(component)}) in {_short(text)!r} "
                f"is not valid; {_COMPONENT_RULE}",
            )
    if colon:
        if tag == "":
            return _error(
                text,
                "tag",
                f"{prefix}: tag is empty in {_short(text)!r}; write a tag after ':' "
                "(e.g. :latest) or drop the ':'",
            )
        if len(tag) > _TAG_MAX:
            return _error(
                text,
                "tag",
                f"{prefix}: tag ({_short(tag)}) is {len(tag)} characters long; {_TAG_RULE}",
            )
        if not _TAG_RE.fullmatch(tag):
            return _error(text, "tag", f"{prefix}: tag ({_short(tag)}) is not valid; {_TAG_RULE}")
    if at:
        return _error(text, "digest", f"{prefix}: {_digest_problem(digest)}; {_DIGEST_RULE}")
    return _error(text, "name", f"{prefix}: {_short(text)!r} is not an image reference")


def _digest_problem(digest: str) -> str:
    if digest == "":
        return "digest is empty after '@'"
    algorithm, colon, hexpart = digest.partition(":")
    if not colon:
        return f"digest ({_short(digest)}) has no ':' between algorithm and hex"
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*", algorithm):
        return f"digest algorithm ({_short(algorithm)}) is not valid"
    if not _HEX_ANY_RE.fullmatch(hexpart):
        return f"digest ({_short(digest)}) has characters that are not hex digits"
    if len(hexpart) < 32:
        return f"digest ({_short(digest)}) is too short: {len(hexpart)} hex digits"
    return f"digest ({_short(digest)}) is not valid"


def _check_digest(text: str, digest: str) -> None:
    """go-digest's validation of a digest the grammar accepted."""
    if not _DIGEST_RE.fullmatch(digest):
        raise _error(
            text, "digest", f"invalid digest format: {_digest_problem(digest)}; {_DIGEST_RULE}"
        )
    algorithm, _, hexpart = digest.partition(":")
    if algorithm not in DIGEST_HEX_LENGTHS:
        if not _GO_DIGEST_ALGORITHM_RE.fullmatch(algorithm):
            raise _error(
                text,
                "digest",
                f"invalid checksum digest format: digest algorithm ({_short(algorithm)}) "
                f"must be lowercase; {_DIGEST_RULE}",
            )
        raise _error(
            text,
            "digest",
            f"unsupported digest algorithm: {_short(algorithm)}; use sha256, sha384 or sha512",
        )
    want = DIGEST_HEX_LENGTHS[algorithm]
    if len(hexpart) != want:
        raise _error(
            text,
            "digest",
            f"invalid checksum digest length: {algorithm} needs {want} hex digits, "
            f"got {len(hexpart)}",
        )
    if not _HEX_LOWER_RE.fullmatch(hexpart):
        raise _error(
            text,
            "digest",
            f"invalid checksum digest format: the hex digits of {algorithm} must be lowercase",
        )
