"""Checks of Lab 3 (Dockerfile and images); see :mod:`.docker_checks` for the context table."""

from __future__ import annotations

from typing import Any

from ..sim.errors import AivleError
from .core import Context, _plural, step
from .docker_checks import _RUNNING, _events

__all__: list[str] = []


# -- lab 3: Dockerfile and images -------------------------------------------------------------------
@step("lab3", "dockerfile")
def _lab3_dockerfile(ctx: Context):
    """A Dockerfile exists and parses."""
    from ..images.dockerfile import parse_dockerfile

    m = ctx.machine()
    path = ctx.get("path", "/home/student/app/Dockerfile")
    try:
        text = m.read_file(path)
    except AivleError:
        ctx.fail(f"there is no file {path} on {m.name}: write your Dockerfile there")
    try:
        df = parse_dockerfile(text)
    except AivleError as e:
        ctx.fail(f"{path} does not parse: {e}")
    used = {ins.keyword for stage in df.stages for ins in stage.instructions} | {"FROM"}
    for keyword in ctx.get("instructions", ("FROM",)):
        ctx.expect(keyword.upper() in used, f"{path} has no {keyword.upper()} instruction")
    return f"{path}: {_plural(len(df.stages), 'stage')}, FROM {df.stages[-1].base}"


@step("lab3", "build")
def _lab3_build(ctx: Context):
    """The image is built (docker build -t TAG) and holds the copied files."""
    engine = ctx.engine()
    tag = ctx.get("tag", "app:1")
    image = ctx.image(engine, tag, f"build it with `docker build -t {tag} .` in the directory of the Dockerfile")
    built = {e["Actor"]["ID"] for e in _events(engine, "image", "build")}
    ctx.expect(image.id in built, f"{tag} is on {engine.machine.name} but was not built there: "
                                  f"build it with `docker build -t {tag} .`")
    path = ctx.get("file")
    if path:
        ctx.expect(any(path in layer.entries for layer in image.layers),
                   f"image {tag} was built but has no layer with {path}: did you COPY it?")
    return f"{tag} built: {image.short_id}, {_plural(len(image.layers), 'layer')}"


@step("lab3", "layers")
def _lab3_layers(ctx: Context):
    """The image has the expected number of layers."""
    engine = ctx.engine()
    tag = ctx.get("tag", "app:1")
    image = ctx.image(engine, tag, f"build it first with `docker build -t {tag} .`")
    n = len(image.layers)
    exact, least = ctx.get("layers"), ctx.get("min_layers")
    why = "each RUN, COPY, ADD and WORKDIR makes a layer; ENV, CMD, EXPOSE only change the config"
    if exact is not None:
        ctx.expect(n == int(exact), f"{tag} has {_plural(n, 'layer')}, expected {exact}: {why}")
    if least is not None:
        ctx.expect(n >= int(least), f"{tag} has {_plural(n, 'layer')}, expected at least {least}: {why}")
    return f"{tag} has {_plural(n, 'layer')} (see `docker history {tag}`)"


@step("lab3", "cache")
def _lab3_cache(ctx: Context):
    """A rebuild reused the build cache."""
    engine = ctx.engine()
    tag = ctx.get("tag", "app:1")
    from ..images.reference import parse_reference

    want = str(parse_reference(tag))
    builds = []
    for e in _events(engine, "image", "build"):
        names = [n for n in str(e["Actor"]["Attributes"].get("name", "")).split(",") if n]
        if any(str(parse_reference(n)) == want for n in names):
            builds.append(e["Actor"]["ID"])
    if len(builds) < 2:
        ctx.fail(f"{tag} was built {_plural(len(builds), 'time')}: build it again (change nothing, or only a "
                 f"file copied late) and look for CACHED in the log")
    prev, last = builds[-2], builds[-1]
    if prev == last:
        return f"the rebuild of {tag} came entirely from the cache (same image id {last[7:19]})"
    try:
        a, b = engine.store.by_id(prev), engine.store.by_id(last)
    except AivleError:
        ctx.fail(f"the previous build of {tag} was removed: build it twice in a row")
    shared = 0
    for la, lb in zip(a.layers, b.layers):
        if la.diff_id != lb.diff_id:
            break
        shared += 1
    base_layers = _base_layers(ctx, engine)
    ctx.expect(shared > base_layers,
               f"the rebuild of {tag} reused no build step: change only what a late step copies "
               f"(COPY . after RUN installs) so the earlier steps come from the cache")
    return f"the rebuild reused {_plural(shared - base_layers, 'layer')} from the build cache"


def _base_layers(ctx: Context, engine: Any) -> int:
    from ..images.dockerfile import parse_dockerfile

    try:
        df = parse_dockerfile(engine.machine.read_file(ctx.get("path", "/home/student/app/Dockerfile")))
        base = df.stages[-1].base
        return 0 if base == "scratch" else len(engine.images.get(base).layers)
    except (AivleError, IndexError):
        return 0


@step("lab3", "run")
def _lab3_run(ctx: Context):
    """Several containers run from the one image."""
    engine = ctx.engine()
    tag = ctx.get("tag", "app:1")
    n = int(ctx.get("n", 2))
    image = ctx.image(engine, tag, f"build it first with `docker build -t {tag} .`")
    running = [c for c in engine.containers.list() if c.image_id == image.id and c.status in _RUNNING]
    ctx.expect(len(running) >= n, f"{_plural(len(running), 'container')} running from {tag}, expected {n}: "
                                  f"start more with `docker run -d --name <name> -p <port>:80 {tag}`")
    return f"{_plural(len(running), 'container')} from one image: {', '.join(sorted(c.name for c in running))}"
