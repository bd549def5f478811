"""Checks of Lab 1 (containers are processes on a shared kernel); see :mod:`.docker_checks` for the context table."""

from __future__ import annotations


from ..sim.errors import AivleError
from .core import Context, _plural, step
from .docker_checks import _RUNNING, _events

__all__: list[str] = []


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
