"""Checks of Lab 1 (containers are processes on a shared kernel); see :mod:`.docker_checks` for the context table.

One check per graded step of ``solutions/lab1-containers``; the step names are the notebook's grade_ids
(its test cells are ``test_<step>``)::

    assert_step("lab1", "compare_kernels", world=world, container_kernel=container_kernel,
                vm_kernel=vm_kernel, hv=hv)
"""

from __future__ import annotations

from typing import Any

from ..sim.errors import AivleError
from .core import Context, _plural, step
from .docker_checks import _RUNNING, _events

__all__: list[str] = []


def _image_name(container: Any) -> str:
    """``alpine`` for a container started from ``alpine``, ``alpine:3.19`` or ``docker.io/library/alpine``."""
    from ..images.reference import parse_reference

    typed = str(container.attrs["Config"]["Image"])
    try:
        return parse_reference(typed).path.removeprefix("library/")
    except AivleError:
        return typed.split(":")[0]


def _containers(engine: Any, *, all: bool = True) -> dict[str, Any]:
    return {c.name: c for c in engine.containers.list(all=all)}


def _vm(ctx: Context, name: str) -> Any:
    """The VM ``name`` (from ``hv=`` when given, else from the world's machines), or None."""
    hv = ctx.get("hv")
    if hv is not None:
        return getattr(hv, "vms", {}).get(name)
    vm = getattr(ctx.world, "machines", {}).get(name)
    return vm if getattr(vm, "kind", "") == "vm" else None


def _unset(name: str, cell: str) -> str:
    return f"{name} is not set: run the cell that {cell} to its end (fill in its # YOUR CODE HERE part first)"


# -- lab 1: containers are processes on a shared kernel --------------------------------------------
@step("lab1", "install_docker")
def _install_docker(ctx: Context):
    """Docker Engine installed (from the docker.io package) and running on the host."""
    m = ctx.machine()
    if getattr(m, "engine", None) is None:
        ctx.fail(f'Docker is not installed on {m.name}: run {m.name}.sh("sudo apt-get install -y docker.io") '
                 f"in the cell above")
    engine = ctx.engine()
    return f"Docker Engine {engine.version()['Version']} is running on {m.name}"


@step("lab1", "run_container")
def _run_container(ctx: Context):
    """A container (box, from alpine) keeps running in the background."""
    engine = ctx.engine()
    name, image = ctx.get("name", "box"), ctx.get("image", "alpine")
    containers = _containers(engine)
    if name not in containers:
        ctx.fail(f"no container named {name} on {engine.machine.name} "
                 f"(containers: {', '.join(containers) or 'none'}): use docker run -d --name {name} {image} sleep 3600")
    box = containers[name]
    ctx.expect(_image_name(box) == image, f"{name} runs image {box.attrs['Config']['Image']}, not {image}")
    ctx.expect(box.status == "running",
               f"{name} is {box.status} (exit code {box.attrs['State']['ExitCode']}): its main process ended. "
               f"Remove it (docker rm {name}) and run it again with -d and a long-running command such as sleep 3600")
    return f"{name} ({image}) is running in the background"


@step("lab1", "compare_kernels")
def _compare_kernels(ctx: Context):
    """A container shows the host's kernel release; a VM boots its own."""
    engine = ctx.engine()
    host = engine.machine
    vm_name = ctx.get("vm", "vm1")
    vm = _vm(ctx, vm_name)
    if vm is None or vm.state != "running":
        ctx.fail(f'no running VM named {vm_name}: use vm = hv.create_vm("{vm_name}", memory="1Gi")')
    container_kernel, vm_kernel = ctx.get("container_kernel"), ctx.get("vm_kernel")
    if container_kernel is None or vm_kernel is None:
        ctx.fail(_unset("container_kernel" if container_kernel is None else "vm_kernel",
                        "creates the VM and reads the kernel releases"))
    if not _events(engine, "container", "start"):
        ctx.fail(f"no container was ever started on {host.name}: read the kernel release inside one "
                 f"(docker run --rm alpine uname -r)")
    ctx.expect(str(container_kernel) == host.kernel.release,
               f"container_kernel is {container_kernel!r}: read it with uname -r inside a container "
               f"(docker run --rm alpine uname -r) and remove the newline with .stdout.strip()")
    ctx.expect(str(vm_kernel) == vm.kernel.release,
               f'vm_kernel is {vm_kernel!r}: read it with vm.sh("uname -r") and remove the newline with .stdout.strip()')
    return (f"the container runs on {host.name}'s kernel ({host.kernel.release}); "
            f"{vm_name} booted its own ({vm.kernel.release})")


@step("lab1", "ten_and_ten")
def _ten_and_ten(ctx: Context):
    """Ten containers app0..app9 and ten VMs vm-0..vm-9 run; the containers started faster."""
    engine = ctx.engine()
    n = int(ctx.get("n", 10))
    running = {name for name, c in _containers(engine, all=False).items() if c.status in _RUNNING}
    missing = [f"app{i}" for i in range(n) if f"app{i}" not in running]
    if missing:
        ctx.fail(f"these containers are not running: {', '.join(missing)} "
                 f"(docker run -d --name app0 aivle/hog:1.0 mem-hog --mb 8, and so on)")
    missing = [f"vm-{i}" for i in range(n) if (vm := _vm(ctx, f"vm-{i}")) is None or vm.state != "running"]
    if missing:
        ctx.fail(f"these VMs are not running: {', '.join(missing)} (create them with hv.create_vm, then hv.wait_all())")
    container_seconds, vm_seconds = ctx.get("container_seconds"), ctx.get("vm_seconds")
    if container_seconds is None or vm_seconds is None:
        ctx.fail(_unset("container_seconds" if container_seconds is None else "vm_seconds",
                        "starts them (it measures the simulated seconds)"))
    ctx.expect(container_seconds < vm_seconds,
               "starting the containers should be faster than booting the VMs: run each part once")
    return (f"{_plural(n, 'container')} started in {container_seconds:.1f} s, "
            f"{_plural(n, 'VM')} booted in {vm_seconds:.1f} s")


@step("lab1", "data_is_lost")
def _data_is_lost(ctx: Context):
    """A file written in a container is gone once the container is removed."""
    engine = ctx.engine()
    host = engine.machine
    name, path = ctx.get("name", "scratch"), ctx.get("file", "/notes.txt")
    wrote = [cmd for cmd, code in host.history if f"--name {name}" in cmd and path in cmd and code == 0]
    ctx.expect(wrote, f"run a container named {name} that writes {path}: "
                      f"docker run --name {name} alpine sh -c 'echo hello > {path}'")
    ctx.expect(name not in _containers(engine),
               f"the container {name} still exists: remove it with docker rm {name}")
    lost = ctx.get("lost")
    if lost is None:
        ctx.fail(_unset("lost", f"removes {name}"))
    ctx.expect(not lost.ok, f"a new container should not find {path}, but it read {lost.output!r}")
    return f"{path} went away with {name}'s writable layer"


@step("lab1", "keep_with_volume")
def _keep_with_volume(ctx: Context):
    """A named volume keeps a file after the container that wrote it is removed."""
    engine = ctx.engine()
    volume, name = ctx.get("volume", "data"), ctx.get("name", "writer")
    text = ctx.get("text", "hello volume\n")
    volumes = [v.name for v in engine.volumes.list()]
    if volume not in volumes:
        ctx.fail(f"no volume named {volume} (volumes: {', '.join(volumes) or 'none'}): "
                 f"mount it with -v {volume}:/{volume}")
    ctx.expect(name not in _containers(engine), f"remove the container {name} (docker rm {name})")
    kept = ctx.get("kept")
    if kept is None:
        ctx.fail(_unset("kept", f"writes to the volume and removes {name}"))
    ctx.expect(kept.stdout == text, f"a new container reading the file from the volume got {kept.output!r}, "
                                    f"expected {text!r}")
    return f"volume {volume} kept the file after {name} was removed"
