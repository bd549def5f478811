"""Checks of the Docker labs (1–4): they look at the world, not at printed text.

Every check takes ``world=world``; the other keyword arguments have the defaults
the labs use, so a test cell is one line::

    check("lab3", "build", world=world)                       # image app:1 on "host"
    check("lab3", "build", world=world, tag="web:2", file="/usr/share/nginx/html/index.html")

==========  ==============  =====================================================================
lab         step            context (defaults)
==========  ==============  =====================================================================
lab1        install         machine="host"
lab1        kernel          answer (the ``uname -r`` read inside a container), machine
lab1        ephemeral       survived (did the file survive ``docker rm``? bool), machine
lab1        volume          volume="data", file=None (a path inside the volume), machine
lab1        many            n=10, machine
lab2        monolith        image="aivle/monolith", machine
lab2        microservices   image="aivle/web-app", crashed="payments", machine
lab3        dockerfile      path="/home/student/app/Dockerfile", instructions=("FROM",), machine
lab3        build           tag="app:1", file=None, machine
lab3        layers          tag="app:1", layers=None (exact) or min_layers=None, machine
lab3        cache           tag="app:1", machine
lab3        run             tag="app:1", n=2, machine
lab4        names           answers={short name: full reference}
lab4        push            reference="registry.local:5000/app:1"
lab4        pull            reference="registry.local:5000/app:1", machine="prod"
lab4        dedup           machine="prod", report=None (a PushReport/PullReport)
==========  ==============  =====================================================================
"""

from __future__ import annotations

from typing import Any

from ..sim.errors import AivleError
from .core import Context, _plural, step

__all__: list[str] = []

_RUNNING = ("running", "paused", "restarting")


# -- helpers ---------------------------------------------------------------------------------------
def _events(engine: Any, type_: str, action: str) -> list[dict]:
    return [e for e in engine.events if e.get("Type") == type_ and e.get("Action") == action]


def _repo_path(engine: Any, container: Any) -> str:
    """The repository path (``aivle/monolith``) of the image a container was started from."""
    from ..images.reference import parse_reference

    try:
        return parse_reference(container.image_ref).path.removeprefix("library/")
    except AivleError:
        pass
    try:
        tags = engine.store.repo_tags(container.image_id)
    except AivleError:
        return ""
    return tags[0].rsplit(":", 1)[0] if tags else ""


def _containers_of(engine: Any, image: str) -> list:
    want = image.removeprefix("docker.io/").removeprefix("library/").split(":")[0]
    return [c for c in engine.containers.list(all=True) if _repo_path(engine, c) == want]


def _service_of(container: Any) -> str | None:
    argv = list(container.command or [])
    for i, arg in enumerate(argv):
        if arg == "--service" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--service="):
            return arg.split("=", 1)[1]
    for item in container.config.get("Env") or []:
        key, _, value = str(item).partition("=")
        if key == "SERVICE":
            return value
    return None


# -- lab 1: containers are processes on a shared kernel --------------------------------------------
@step("lab1", "install")
def _lab1_install(ctx: Context):
    """Docker Engine installed and running on the host."""
    engine = ctx.engine()
    return f"Docker Engine {engine.version()['Version']} is running on {engine.machine.name}"


@step("lab1", "kernel")
def _lab1_kernel(ctx: Context):
    """A container runs on the host's kernel: its `uname -r` is the host's."""
    engine = ctx.engine()
    host = engine.machine
    if not _events(engine, "container", "start"):
        ctx.fail(f"no container was ever started on {host.name}: run one, e.g. "
                 f"`docker run --rm busybox uname -r`")
    answer = ctx.get("answer")
    if answer is None:
        ctx.fail("set answer to the kernel release a container prints (`docker run --rm busybox uname -r`)")
    release = host.kernel.release
    ctx.expect(str(answer).strip() == release,
               f"answer is {str(answer).strip()!r}, but a container prints the kernel release of {host.name}: "
               f"run `uname -r` inside a container and compare it with `uname -r` on {host.name}")
    return f"the container's kernel is {host.name}'s kernel ({release}): containers share one kernel"


@step("lab1", "ephemeral")
def _lab1_ephemeral(ctx: Context):
    """Data written inside a container is gone once the container is removed."""
    engine = ctx.engine()
    if not _events(engine, "container", "destroy"):
        ctx.fail(f"no container was removed on {engine.machine.name} yet: write a file in a container, "
                 f"then `docker rm` it and start a new one from the same image")
    survived = ctx.get("survived")
    if survived is None:
        ctx.fail("set survived = True or False: did the file survive `docker rm`?")
    ctx.expect(survived is False or str(survived).strip().lower() in ("false", "no", "0"),
               "look again: a new container starts from the image's read-only layers plus a NEW empty writable "
               "layer, so the file written in the removed container is not there")
    return "the writable layer went away with the container, and the file with it"


@step("lab1", "volume")
def _lab1_volume(ctx: Context):
    """A named volume keeps data after its container is removed."""
    engine = ctx.engine()
    name = ctx.get("volume", "data")
    try:
        vol = engine.volumes.get(name)
    except AivleError:
        ctx.fail(f'there is no volume "{name}" on {engine.machine.name}: run a container with '
                 f'`-v {name}:/data` and write a file into /data')
    ctx.expect(vol.usage > 0, f'volume "{name}" is empty: write a file into it from a container '
                               f'(`docker run --rm -v {name}:/data busybox sh -c "echo hi > /data/hello.txt"`)')
    path = ctx.get("file")
    if path:
        ctx.expect(vol.fs.exists("/" + str(path).lstrip("/")),
                   f'volume "{name}" has no file {path}: write it from a container that mounts the volume')
    ctx.expect(_events(engine, "container", "destroy"),
               "remove the container that wrote the data (`docker rm`), then read the data from a new one")
    return f'volume "{name}" keeps its data ({vol.usage} bytes) whatever happens to the containers'


@step("lab1", "many")
def _lab1_many(ctx: Context):
    """Many containers start in seconds on one machine."""
    engine = ctx.engine()
    n = int(ctx.get("n", 10))
    running = [c for c in engine.containers.list() if c.status in _RUNNING]
    ctx.expect(len(running) >= n, f"{_plural(len(running), 'container')} running on {engine.machine.name}, "
                                  f"expected at least {n}: start more with `docker run -d ...`")
    return f"{_plural(len(running), 'container')} running on one kernel"


# -- lab 2: monolith vs microservices ----------------------------------------------------------------
@step("lab2", "monolith")
def _lab2_monolith(ctx: Context):
    """The monolith crashed: one failing module took every endpoint down."""
    engine = ctx.engine()
    image = ctx.get("image", "aivle/monolith")
    cs = _containers_of(engine, image)
    if not cs:
        ctx.fail(f"no container runs {image} on {engine.machine.name}: start it with "
                 f"`docker run -d --name shop -p 8080:8080 {image}`")
    crashed = [c for c in cs if c.status in ("exited", "dead") and c.exit_code != 0]
    ctx.expect(crashed, f"the {image} container is still up: crash its payments module "
                        f"(`curl http://localhost:8080/payments/crash`) and watch users and orders go down too")
    return "one bug in payments stopped the whole monolith: users and orders went down with it"


@step("lab2", "microservices")
def _lab2_microservices(ctx: Context):
    """The same modules as separate containers: the crashed one fails alone."""
    engine = ctx.engine()
    image = ctx.get("image", "aivle/web-app")
    crashed = ctx.get("crashed", "payments")
    services = ctx.get("services", ("users", "orders", "payments"))
    by_service: dict[str, list] = {}
    for c in _containers_of(engine, image):
        s = _service_of(c)
        if s:
            by_service.setdefault(s, []).append(c)
    missing = [s for s in services if s not in by_service]
    if missing:
        ctx.fail(f"no {image} container for the {', '.join(missing)} service(s): start one per service, e.g. "
                 f"`docker run -d --name {missing[0]} {image} web-app --service {missing[0]}`")
    for s in services:
        up = [c for c in by_service[s] if c.status in _RUNNING]
        if s == crashed:
            ctx.expect(not up, f"the {s} service is still running: crash it "
                               f"(`curl http://<its address>:8080/{s}/crash`)")
        else:
            ctx.expect(up, f"the {s} service is not running: the point is that it keeps running while "
                           f"{crashed} is down; start it again")
    return f"{crashed} crashed alone; {', '.join(s for s in services if s != crashed)} kept serving"


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
