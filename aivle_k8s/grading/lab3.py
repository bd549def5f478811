"""Checks of Lab 3 (Dockerfile and images); see :mod:`.docker_checks` for the context table.

The step names are the grade_ids of the answer cells of ``solutions/lab3-dockerfile``:
``write_dockerfile`` -> ``build_image`` -> ``read_layers`` -> ``rebuild_cached`` -> ``cache_order`` ->
``run_many`` -> ``fix_dockerfile``.

What was *built* (not pulled or tagged) is read from the engine's ``image build`` events;
what an image holds from its layers and history, as ``docker history`` and
``docker image inspect`` show them.
"""

from __future__ import annotations

from typing import Any

from ..sim.errors import AivleError
from .core import Context, _plural, step
from .docker_checks import _RUNNING, _events

__all__: list[str] = []

APP = "/home/student/app"


# -- helpers ---------------------------------------------------------------------------------------
def _canonical(ref: str) -> str:
    from ..images.reference import parse_reference

    try:
        return str(parse_reference(ref))
    except AivleError:
        return ref


def _builds(engine: Any, tag: str) -> list[str]:
    """Image ids built with ``-t tag`` on ``engine``, oldest first."""
    want = _canonical(tag)
    out = []
    for e in _events(engine, "image", "build"):
        names = [n for n in str(e["Actor"]["Attributes"].get("name", "")).split(",") if n]
        if any(_canonical(n) == want for n in names):
            out.append(e["Actor"]["ID"])
    return out


def _built(ctx: Context, engine: Any, tag: str, directory: str) -> Any:
    """The image ``tag``, which must have been built on this machine (fail saying how otherwise)."""
    how = f"`cd {directory.replace('/home/student', '~')} && docker build -t {tag} .`"
    image = ctx.image(engine, tag, f"build it with {how}")
    if image.id not in _builds(engine, tag):
        ctx.fail(f"{tag} is on {engine.machine.name} but was not built there: build it with {how}")
    return image


def _dockerfile(ctx: Context, machine: Any, path: str) -> Any:
    from ..images.dockerfile import parse_dockerfile

    try:
        text = machine.read_file(path)
    except AivleError:
        ctx.fail(f"there is no file {path} on {machine.name}: write your Dockerfile there "
                 f"(host.write_file({path!r}, ...))")
    try:
        return parse_dockerfile(text)
    except AivleError as e:
        ctx.fail(f"{path} does not parse: {e}")


def _position(instructions: list, keyword: str, test: Any = None) -> int | None:
    for i, ins in enumerate(instructions):
        if ins.keyword == keyword and (test is None or test(ins)):
            return i
    return None


def _copies(name: str):
    return lambda ins: any(s.rstrip("/") in (name, ".", "./", "*") or s.endswith("/" + name) for s in ins.sources)


def _pip(ins: Any) -> bool:
    return "pip install" in " ".join(str(a) for a in ins.args)


def _shared(a: Any, b: Any) -> int:
    """How many layers, from the bottom, two images have in common."""
    n = 0
    for la, lb in zip(a.layers, b.layers):
        if la.diff_id != lb.diff_id:
            break
        n += 1
    return n


def _own_history(engine: Any, image: Any, base: str) -> list[dict]:
    """The history entries the image's own Dockerfile added on top of ``base``."""
    try:
        skip = len(engine.images.get(base).history)
    except AivleError:
        skip = 0
    return list(image.history)[skip:]


def _layer_keywords(entries: list[dict]) -> list[str]:
    return [str(h.get("created_by", "")).split(" ", 1)[0].upper() for h in entries if not h.get("empty_layer")]


def _keywords(values: Any) -> list[str] | None:
    if values is None or isinstance(values, (str, bytes)):
        return None
    try:
        return [str(v).strip().split(" ", 1)[0].upper() for v in values]
    except TypeError:
        return None


def _as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


# -- 1. write a Dockerfile -------------------------------------------------------------------------
@step("lab3", "write_dockerfile")
def _write_dockerfile(ctx: Context):
    """~/app/Dockerfile parses and installs the requirements before it copies the source."""
    m = ctx.machine()
    path = ctx.get("path", f"{APP}/Dockerfile")
    base = ctx.get("base", "python:3.12-slim")
    df = _dockerfile(ctx, m, path)
    stage = df.stages[-1]
    ctx.expect(_canonical(stage.base) == _canonical(base),
               f"{path} starts FROM {stage.base}: the app needs Python, start with FROM {base}")
    ins = list(stage.instructions)
    ctx.expect(_position(ins, "WORKDIR") is not None, f"{path} has no WORKDIR: add WORKDIR /app after FROM")
    req = _position(ins, "COPY", _copies("requirements.txt"))
    pip = _position(ins, "RUN", _pip)
    src = _position(ins, "COPY", _copies("app.py"))
    ctx.expect(req is not None, f"{path} does not COPY requirements.txt: add COPY requirements.txt .")
    ctx.expect(pip is not None, f"{path} has no RUN pip install: add RUN pip install -r requirements.txt")
    ctx.expect(src is not None, f"{path} does not COPY app.py: add COPY app.py .")
    if None not in (req, pip, src):
        ctx.expect(req < pip < src, f"{path}: put COPY requirements.txt, then RUN pip install ..., then COPY app.py "
                                    f"(in this order; step 5 shows why)")
    ctx.expect(_position(ins, "CMD") is not None or _position(ins, "ENTRYPOINT") is not None,
               f'{path} has no CMD: add CMD ["python3", "app.py"] so a container knows what to run')
    return f"{path}: FROM {stage.base}, {_plural(len(ins), 'more instruction')}"


# -- 2. build it -----------------------------------------------------------------------------------
@step("lab3", "build_image")
def _build_image(ctx: Context):
    """The image is built with ``docker build -t TAG`` and holds the app and its installed packages."""
    engine = ctx.engine()
    tag = ctx.get("tag", "app:1")
    image = _built(ctx, engine, tag, ctx.get("directory", APP))
    files = list(ctx.get("files", ("/app/app.py", "/usr/local/lib/python3.12/site-packages/flask")))
    if ctx.get("file"):
        files = [ctx.get("file")]
    for path in files:
        ctx.expect(any(path in layer.entries for layer in image.layers),
                   f"image {tag} was built but has no layer with {path}: "
                   + ("did you COPY it?" if "site-packages" not in path else "did RUN pip install run?"))
    return f"{tag} built: {image.short_id}, {_plural(len(image.layers), 'layer')}"


# -- 3. read its layers ----------------------------------------------------------------------------
@step("lab3", "read_layers")
def _read_layers(ctx: Context):
    """``count``: the image's layers; ``made``: the instructions of our Dockerfile that made one."""
    engine = ctx.engine()
    tag = ctx.get("tag", "app:1")
    image = ctx.image(engine, tag, "build it first (step 2)")
    base = ctx.get("base", "python:3.12-slim")
    n = len(image.layers)
    count, made = ctx.get("count"), ctx.get("made")
    if count is None:
        ctx.fail(f"set layer_count to the number of layers of {tag} "
                 f"(the RootFS.Layers of `docker image inspect {tag}`)")
    ctx.expect(_as_int(count) == n,
               f"layer_count is {count!r}, but {tag} has a different number of layers: count the digests in "
               f"RootFS.Layers of `docker image inspect {tag}` (the base image's layers count too; history "
               f"lines of 0B can be layers, and ENV/CMD/EXPOSE lines are not)")
    truth = _layer_keywords(_own_history(engine, image, base))
    if made is None:
        ctx.fail("set my_layers to the instructions of your Dockerfile that made a layer, in order "
                 '(e.g. ["WORKDIR", ...])')
    said = _keywords(made)
    ctx.expect(said == truth,
               f"my_layers is {made!r}: look at the top lines of `docker history {tag}` (the ones from your "
               f"Dockerfile); an instruction that only changes the config (ENV, EXPOSE, CMD) makes no layer")
    return f"{tag}: {_plural(n, 'layer')}; your Dockerfile added {len(truth)} ({', '.join(truth)})"


# -- 4. rebuild with the cache ---------------------------------------------------------------------
@step("lab3", "rebuild_cached")
def _rebuild_cached(ctx: Context):
    """Only app.py changed: the rebuild (app:2) reused every layer below ``COPY app.py``; ``shared`` counts them."""
    engine = ctx.engine()
    old_tag, new_tag = ctx.get("old", "app:1"), ctx.get("tag", "app:2")
    directory = ctx.get("directory", APP)
    old = _built(ctx, engine, old_tag, directory)
    new = _built(ctx, engine, new_tag, directory)
    shared = _shared(old, new)
    if old.id == new.id:
        ctx.fail(f"{new_tag} is the same image as {old_tag}: change app.py (v1 -> v2) before building {new_tag}")
    ctx.expect(shared == len(new.layers) - 1,
               f"{new_tag} shares only {shared} of its {_plural(len(new.layers), 'layer')} with {old_tag}: change "
               f"only app.py (not requirements.txt, not the Dockerfile) and rebuild, so every step before "
               f"COPY app.py comes from the cache")
    said = ctx.get("shared")
    if said is None:
        ctx.fail(f"set shared_layers to the number of layers {new_tag} shares with {old_tag} "
                 f"(compare their RootFS.Layers)")
    ctx.expect(_as_int(said) == shared,
               f"shared_layers is {said!r}: compare the RootFS.Layers lists of `docker image inspect {old_tag}` "
               f"and `docker image inspect {new_tag}` from the top and count the equal digests (base layers too)")
    return f"{new_tag} reused {shared} of {_plural(len(new.layers), 'layer')}; only COPY app.py made a new one"


# -- 5. a bad order --------------------------------------------------------------------------------
@step("lab3", "cache_order")
def _cache_order(ctx: Context):
    """With the source copied before ``RUN pip install``, changing app.py re-ran the install."""
    m = ctx.machine()
    engine = ctx.engine()
    directory = ctx.get("directory", "/home/student/slow")
    first, second = ctx.get("old", "slow:1"), ctx.get("tag", "slow:2")
    df = _dockerfile(ctx, m, f"{directory}/Dockerfile")
    ins = list(df.stages[-1].instructions)
    pip = _position(ins, "RUN", _pip)
    src = _position(ins, "COPY", _copies("app.py"))
    if pip is None or src is None or src > pip:
        ctx.fail(f"{directory}/Dockerfile should copy the source (COPY . .) BEFORE RUN pip install -r "
                 f"requirements.txt: that is the order this experiment tries")
    a = _built(ctx, engine, first, directory)
    b = _built(ctx, engine, second, directory)
    if a.id == b.id:
        ctx.fail(f"{second} is the same image as {first}: change app.py in {directory} between the two builds")
    # the layer the RUN step made, counted from the bottom; it was re-run when a layer up to it differs
    own = [h for h in _own_history(engine, b, df.stages[-1].base) if not h.get("empty_layer")]
    idx = next((i for i, h in enumerate(own) if "pip install" in str(h.get("created_by", ""))), 0)
    run_at = len(b.layers) - len(own) + idx
    rerun = _shared(a, b) <= run_at
    ctx.expect(rerun, f"the RUN pip install step of {second} came from the cache: change only app.py in {directory} "
                      f"between the builds of {first} and {second}")
    return f"{second}: changing app.py invalidated COPY . . and every step after it, RUN pip install included"


# -- 6. many containers from one image -------------------------------------------------------------
@step("lab3", "run_many")
def _run_many(ctx: Context):
    """Several containers run from the one image, each answering on its own published port."""
    engine = ctx.engine()
    tag = ctx.get("tag", "app:1")
    n = int(ctx.get("n", 3))
    image = ctx.image(engine, tag, "build it first (step 2)")
    running = [c for c in engine.containers.list() if c.image_id == image.id and c.status in _RUNNING]
    ctx.expect(len(running) >= n, f"{_plural(len(running), 'container')} running from {tag}, expected {n}: "
                                  f"start more with `docker run -d --name web<N> -p 800<N>:5000 {tag}`")
    for c in running:
        ports = [int(s["HostPort"]) for specs in (c.ports or {}).values() for s in (specs or []) if s.get("HostPort")]
        if not ports:
            ctx.expect(False, f"{c.name} publishes no port: remove it (`docker rm -f {c.name}`) and run it with -p")
            continue
        try:
            ok = engine.request(f"http://localhost:{ports[0]}/").status == 200
        except AivleError:
            ok = False
        ctx.expect(ok, f"{c.name} does not answer at http://localhost:{ports[0]}/: look at `docker logs {c.name}`")
    return f"{_plural(len(running), 'container')} from one image: {', '.join(sorted(c.name for c in running))}"


# -- 7. a broken Dockerfile ------------------------------------------------------------------------
@step("lab3", "fix_dockerfile")
def _fix_dockerfile(ctx: Context):
    """``line``: the line the parse error named; the Dockerfile is fixed and the image built."""
    from ..images.dockerfile import parse_dockerfile

    m = ctx.machine()
    engine = ctx.engine()
    directory = ctx.get("directory", "/home/student/hello")
    tag = ctx.get("tag", "hello:1")
    broken = ctx.get("broken")
    said = ctx.get("line")
    if said is None:
        ctx.fail("set error_line to the line number the build error names (`dockerfile parse error on line N`)")
    if broken is not None:
        try:
            parse_dockerfile(broken)
            truth = None
        except AivleError as e:
            truth = getattr(e, "line", None)
        ctx.expect(truth is None or _as_int(said) == truth,
                   f"error_line is {said!r}: read the message again, `dockerfile parse error on line N: ...`")
    _dockerfile(ctx, m, f"{directory}/Dockerfile")
    image = _built(ctx, engine, tag, directory)
    return f"fixed: {tag} built ({image.short_id})"
