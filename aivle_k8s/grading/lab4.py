"""Checks of Lab 4 (registries); see :mod:`.docker_checks` for the context table."""

from __future__ import annotations

from typing import Any

from ..sim.errors import AivleError
from .core import Context, _plural, step

__all__: list[str] = []


# -- lab 4: registries ------------------------------------------------------------------------------
@step("lab4", "names")
def _lab4_names(ctx: Context):
    """Short image names expand to registry/namespace/name:tag."""
    from ..images.reference import parse_reference

    answers = ctx.get("answers") or {}
    if not answers:
        ctx.fail('set answers = {"nginx": "docker.io/library/nginx:latest", ...}: the full name of each short name')
    for short, given in answers.items():
        try:
            full = str(parse_reference(short))
        except AivleError as e:
            ctx.problems.append(f"{short!r} is not a valid image name: {e}")
            continue
        ctx.expect(str(given).strip() == full,
                   f"{short!r} is not {given!r}: add the default registry (docker.io), the namespace of "
                   f"official images (library/) and the default tag (latest) where they are left out")
    return f"{_plural(len(answers), 'name')} expanded correctly"


def _registry_and_repo(ctx: Context, reference: str) -> tuple[Any, Any]:
    from ..images.reference import parse_reference

    ref = parse_reference(reference)
    world = ctx.world
    registries = getattr(world, "registries", {})
    if ref.domain not in registries:
        ctx.fail(f"there is no registry at {ref.domain}: create it with world.registry({ref.domain!r}) "
                 f"(registries: {', '.join(registries) or 'none'})")
    return registries[ref.domain], ref


@step("lab4", "push")
def _lab4_push(ctx: Context):
    """The image is in the private registry (pushed by address)."""
    reference = ctx.get("reference", "registry.local:5000/app:1")
    registry, ref = _registry_and_repo(ctx, reference)
    tag = ref.tag or "latest"
    try:
        tags = registry.tags(ref.path)
    except AivleError:
        tags = []
    ctx.expect(tag in tags, f"{registry.host} has no {ref.path}:{tag}: tag your image with the registry's address "
                            f"(`docker tag app:1 {ref.familiar_string}`) and `docker push {ref.familiar_string}`")
    return f"{ref.path}:{tag} is in {registry.host}"


@step("lab4", "pull")
def _lab4_pull(ctx: Context):
    """The image was pulled from the private registry on a second machine."""
    reference = ctx.get("reference", "registry.local:5000/app:1")
    _registry_and_repo(ctx, reference)
    engine = ctx.engine("machine", "prod")
    ctx.expect(engine.images.exists(reference),
               f"{engine.machine.name} has no image {reference}: run `docker pull {reference}` on it")
    return f"{engine.machine.name} pulled {reference}"


@step("lab4", "dedup")
def _lab4_dedup(ctx: Context):
    """A push or pull skipped layers the other side already had."""
    report = ctx.get("report")
    if report is None:
        engine = ctx.engine("machine", "prod")
        report = engine.last_pull
        if report is None:
            ctx.fail(f"nothing was pulled on {engine.machine.name} yet: pull two images that share layers")
    statuses = [status for _, status in report.layers]
    shared = [s for s in statuses if s in ("Already exists", "Layer already exists") or s.startswith("Mounted from")]
    ctx.expect(shared, "every layer travelled: pull (or push) a second image built on the same base "
                       "(for example app:2 after app:1) and look for 'Already exists'")
    moved = getattr(report, "bytes_downloaded", None)
    if moved is None:
        moved = getattr(report, "bytes_uploaded", 0)
    return f"{_plural(len(shared), 'layer')} skipped, only {moved} bytes transferred"
