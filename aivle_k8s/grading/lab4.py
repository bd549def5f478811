"""Checks of Lab 4 (registries); see :mod:`.docker_checks` for the context table.

One check per graded step of ``solutions/lab4-registries``; the step names are the notebook's grade_ids
(its test cells are ``test_<step>``)::

    assert_step("lab4", "push", world=world, reference="localhost:5000/shop/web:1", image="shop:1")

A registry is found the way dockerd finds it: one made with ``world.registry(host)`` by its host,
any other (a ``registry:2`` container behind a published port) through the network from the
machine named by ``machine`` / ``registry_from``.
"""

from __future__ import annotations

import re
from typing import Any

from ..sim.errors import AivleError
from .core import Context, _plural, step
from .docker_checks import _RUNNING, _events

__all__: list[str] = []

_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")
_RUN_REGISTRY = "docker run -d -p 5000:5000 --name registry registry:2"


def _parse(text: str) -> Any:
    from ..images.reference import parse_reference

    return parse_reference(text)


def _optional_machine(ctx: Context, key: str, default: str) -> Any:
    value = ctx.get(key, default)
    if not isinstance(value, str):
        return value
    return getattr(ctx.world, "machines", {}).get(value)


def _registry(ctx: Context, ref: Any, key: str = "machine", default: str = "dev") -> Any:
    """The registry serving ``ref.domain``, as the machine ``key`` reaches it (or ``world.registry``)."""
    registries = getattr(ctx.world, "registries", {})
    if ref.domain in registries:
        return registries[ref.domain]
    m = _optional_machine(ctx, key, default)
    engine = getattr(m, "engine", None)
    if engine is None or not engine.running:
        ctx.fail(f"there is no registry at {ref.domain}: run one ({_RUN_REGISTRY}) or create it with "
                 f"world.registry({ref.domain!r}) (registries: {', '.join(registries) or 'none'})")
    try:
        return engine.registry_for(ref.domain)
    except AivleError as e:
        ctx.fail(f"{m.name} cannot reach a registry at {ref.domain}: {e}{_reach_hint(str(e), ref.domain, m.name)}")


def _reach_hint(message: str, domain: str, machine: str) -> str:
    if "HTTP response to HTTPS client" in message:
        return (f'. That registry speaks plain HTTP: add "{domain}" to "insecure-registries" in '
                f"/etc/docker/daemon.json on {machine}, then sudo systemctl restart docker")
    if "connection refused" in message:
        return f". Nothing listens there: is the registry container running with its port published ({_RUN_REGISTRY})?"
    if "no such host" in message:
        return ". No machine has that name: check the host part of the image name"
    return ""


def _remote_image(ctx: Context, registry: Any, ref: Any) -> Any:
    tag = ref.tag or "latest"
    try:
        tags = registry.tags(ref.path)
    except AivleError:
        tags = []
    if tag not in tags:
        ctx.fail(f"{ref.domain} has no {ref.path}:{tag}: tag your image with the registry's address "
                 f"(`docker tag app:1 {ref.familiar_string}`) and `docker push {ref.familiar_string}`")
    return registry.image(ref.path, tag)


def _statuses(report: Any) -> list[str]:
    return [status for _, status in getattr(report, "layers", [])]


# -- lab 4: registries ------------------------------------------------------------------------------
@step("lab4", "names")
def _names(ctx: Context):
    """Short image names expand to registry/namespace/name:tag (or @digest)."""
    answers = ctx.get("answers") or {}
    required = list(ctx.get("required") or [])
    if not answers:
        ctx.fail('set answers = {"nginx": "docker.io/library/nginx:latest", ...}: the full name of each short name')
    for short in required:
        ctx.expect(short in answers, f"{short!r} is missing from the table: add its full name")
    for short, given in answers.items():
        try:
            ref = _parse(short)
        except AivleError as e:
            ctx.problems.append(f"{short!r} is not a valid image name: {e}")
            continue
        full = str(ref)
        given = str(given or "").strip()
        if given == full:
            continue
        if not given:
            ctx.problems.append(f"{short!r}: fill in its full name")
            continue
        try:
            read = _parse(given)
        except AivleError:
            read = None
        if read is not None and str(read) == full:
            why = ("it names the right image, but write every part out: registry host, path and tag "
                   "(or digest)")
        elif ref.domain != "docker.io" and "/library/" in f"/{given}":
            why = f"library/ is Docker Hub's namespace for official images; {ref.domain} adds no namespace"
        elif ref.digest and ref.tag is None and read is not None and read.tag:
            why = "a digest already names one exact image: no tag is added to a digest reference"
        elif ref.domain == "docker.io" and read is not None and read.domain != "docker.io":
            why = ("a first part without '.' or ':' (and not localhost) is a Docker Hub namespace, "
                   "not a registry host")
        elif ref.domain != "docker.io" and read is not None and read.domain == "docker.io":
            why = f"its first part {ref.domain} is a registry host ('.' or ':' or localhost): keep it first"
        else:
            why = ("add the default registry (docker.io), the namespace of official images (library/) and the "
                   "default tag (latest) where they are left out")
        ctx.problems.append(f"{short!r} is not {given!r}: {why}")
    return f"{_plural(len(answers), 'name')} expanded correctly"


@step("lab4", "invalid_names")
def _invalid_names(ctx: Context):
    """The invalid names among candidates are exactly those the reference grammar rejects."""
    candidates = list(ctx.get("candidates") or [])
    invalid = ctx.get("invalid")
    if not candidates:
        ctx.fail("pass candidates=[...]: the names to sort out")
    if invalid is None or (not invalid and not isinstance(invalid, (list, set, tuple))):
        ctx.fail("set invalid to the list of candidate names that are not valid image names")
    chosen = {str(x) for x in invalid}
    unknown = sorted(chosen - set(candidates))
    ctx.expect(not unknown, f"{', '.join(map(repr, unknown))} {'is' if len(unknown) == 1 else 'are'} not among "
                            f"the candidates")
    truth = set()
    for name in candidates:
        try:
            _parse(name)
        except AivleError:
            truth.add(name)
    wrongly_listed = chosen & set(candidates) - truth
    missed = truth - chosen
    if wrongly_listed or missed:
        ctx.problems.append(
            f"{_plural(len(wrongly_listed) + len(missed), 'name')} sorted the wrong way "
            f"({len(missed)} invalid not listed, {len(wrongly_listed)} valid listed as invalid): try each candidate "
            f"with ak.parse_reference(name) and keep those that raise ak.InvalidReference")
    return f"{_plural(len(truth), 'invalid name')} found among {len(candidates)}"


@step("lab4", "pull_by_digest")
def _pull_by_digest(ctx: Context):
    """The digest of nginx:1.25 was read, and the image pulled by that digest on another machine."""
    image, tag = ctx.get("image", "nginx"), ctx.get("tag", "1.25")
    digest = ctx.get("digest")
    if not digest:
        ctx.fail(f"set digest to the digest of {image}:{tag} (`docker images --digests`, or the Digest: line "
                 f"of `docker pull {image}:{tag}`)")
    digest = str(digest).strip()
    if not _DIGEST.match(digest):
        ctx.fail(f"digest is {digest!r}: a digest is sha256: followed by 64 lowercase hex digits, "
                 f"as `docker images --digests` shows it")
    ref = _parse(f"{image}:{tag}")
    hub = ctx.world.docker_hub
    want = hub.resolve(ref.path, ref.tag)
    ctx.expect(digest == want, f"digest is not the digest of {image}:{tag} on Docker Hub: copy it from "
                               f"`docker images --digests` after `docker pull {image}:{tag}`")
    engine = ctx.engine("machine", "prod")
    by_digest = str(ref.without_tag_or_digest().with_digest(digest))
    pulled = [e for e in _events(engine, "image", "pull")
              if e["Actor"]["Attributes"].get("name") == by_digest]
    ctx.expect(pulled, f"{engine.machine.name} has not pulled {image}@{digest[:19]}...: run "
                       f"`docker pull {image}@<digest>` on {engine.machine.name}")
    return f"{engine.machine.name} pulled {image}@{digest[:19]}... (the exact image {image}:{tag} named when you read it)"


@step("lab4", "run_registry")
def _run_registry(ctx: Context):
    """A registry:2 container runs on the machine and publishes its port 5000."""
    engine = ctx.engine("machine", "dev")
    port = int(ctx.get("port", 5000))
    registries = []
    for c in engine.containers.list(all=True):
        try:
            path = _parse(str(c.attrs["Config"]["Image"])).path
        except AivleError:
            continue
        if path == "library/registry":
            registries.append(c)
    if not registries:
        ctx.fail(f"no registry container on {engine.machine.name}: run `{_RUN_REGISTRY}`")
    running = [c for c in registries if c.status in _RUNNING]
    if not running:
        c = registries[0]
        ctx.fail(f"the registry container {c.name} is {c.status}: start it (docker start {c.name})")
    published = [c for c in running
                 if any(str(b.get("HostPort")) == str(port) for b in (c.ports.get("5000/tcp") or []))]
    if not published:
        ctx.fail(f"the registry listens on port 5000 inside its container, but nothing publishes it on "
                 f"{engine.machine.name}'s port {port}: run it with -p {port}:5000")
    try:
        engine.registry_for(f"localhost:{port}")
    except AivleError as e:
        ctx.fail(f"{engine.machine.name} cannot reach its registry at localhost:{port}: {e}")
    return f"{published[0].name} serves a registry at {engine.machine.name}:{port} (localhost:{port} on {engine.machine.name})"


@step("lab4", "push")
def _push(ctx: Context):
    """The image is in the private registry (tagged with the registry's address and pushed)."""
    reference = ctx.get("reference", "registry.local:5000/app:1")
    ref = _parse(reference)
    registry = _registry(ctx, ref)
    remote = _remote_image(ctx, registry, ref)
    m = _optional_machine(ctx, "machine", "dev")
    engine = getattr(m, "engine", None)
    source = ctx.get("image")
    if source is not None:
        if engine is None or not engine.images.exists(source):
            ctx.fail(f"{getattr(m, 'name', 'the machine')} has no image {source}: build it first")
        ctx.expect(engine.images.get(source).id == remote.id,
                   f"{ref.familiar_string} in the registry is not your image {source}: "
                   f"`docker tag {source} {ref.familiar_string}` and push again")
    return f"{ref.path}:{ref.tag or 'latest'} is in the registry at {ref.domain}"


@step("lab4", "pull")
def _pull(ctx: Context):
    """A second machine pulled the image from the private registry (and runs it)."""
    reference = ctx.get("reference", "registry.local:5000/app:1")
    ref = _parse(reference)
    engine = ctx.engine("machine", "prod")
    name = engine.machine.name
    if not engine.images.exists(reference):
        registry = _registry(ctx, ref, "machine", "prod")  # fails with why the registry cannot be reached
        _remote_image(ctx, registry, ref)
        ctx.fail(f"{name} has no image {reference}: run `docker pull {reference}` on it")
    registry = _registry(ctx, ref, "machine", "prod")
    remote = _remote_image(ctx, registry, ref)
    local = engine.images.get(reference)
    ctx.expect(local.id == remote.id, f"{name}'s {reference} is not the image in the registry: pull it again")
    container = ctx.get("container")
    if container:
        found = {c.name: c for c in engine.containers.list(all=True)}
        if container not in found:
            ctx.fail(f"no container named {container} on {name}: `docker run -d --name {container} ... {reference}`")
        c = found[container]
        ctx.expect(c.image.id == local.id, f"{container} does not run {reference}: remove it and run it again "
                                           f"from {reference}")
        ctx.expect(c.status in _RUNNING, f"{container} is {c.status}: start it (docker start {container})")
    return f"{name} pulled {reference}" + (f" and runs it as {container}" if container else "")


@step("lab4", "dedup")
def _dedup(ctx: Context):
    """A push or pull skipped the layers the other side already had."""
    reports = {k: ctx.kwargs[k] for k in ("push_report", "pull_report", "report") if k in ctx.kwargs}
    unset = [k for k, v in reports.items() if v is None]
    if unset:
        verb = {"push_report": "images.push(...)", "pull_report": "images.pull(...)"}.get(unset[0], "a push or pull")
        ctx.fail(f"{unset[0]} is None: keep the report that {verb} returns in a variable and pass it "
                 f"(run the cell above to its end)")
    if not reports:
        engine = ctx.engine("machine", "prod")
        if engine.last_pull is None:
            ctx.fail(f"nothing was pulled on {engine.machine.name} yet: pull two images that share layers")
        reports["pull_report"] = engine.last_pull
    done = []
    for key, report in reports.items():
        statuses = _statuses(report)
        if not statuses:
            ctx.problems.append(f"{key} has no layers: it should be what images.push(...) / images.pull(...) returned")
            continue
        shared = [s for s in statuses if s in ("Already exists", "Layer already exists") or s.startswith("Mounted from")]
        pushing = hasattr(report, "bytes_uploaded")
        if not shared:
            ctx.problems.append(
                "every layer travelled: " + ("push a second image built on the same base to the same registry "
                                             "(for example shop/web:2 after shop/web:1) and look for "
                                             "'Layer already exists'" if pushing else
                                             "pull an image whose base layers the machine already has "
                                             "and look for 'Already exists'"))
            continue
        moved = report.bytes_uploaded if pushing else report.bytes_downloaded
        done.append(f"{_plural(len(shared), 'layer')} skipped, only {moved} bytes "
                    f"{'uploaded' if pushing else 'downloaded'}")
    return done
