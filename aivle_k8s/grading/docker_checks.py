"""The Docker labs' checks (1–4, in :mod:`.lab1` ... :mod:`.lab4`) and the helpers they share.

They look at the world, not at printed text.

Every check takes ``world=world``; the other keyword arguments have the defaults
the labs use, so a test cell is one line::

    check("lab3", "build_image", world=world)                 # image app:1 built on "host"
    check("lab3", "build_image", world=world, tag="web:2", file="/usr/share/nginx/html/index.html")

==========  ==============  =====================================================================
lab         step            context (defaults)
==========  ==============  =====================================================================
lab1        install_docker      machine="host"
lab1        run_container       name="box", image="alpine", machine
lab1        compare_kernels     container_kernel, vm_kernel (``uname -r`` read in a container / the VM),
                                hv (the Hypervisor; else the world's machines), vm="vm1", machine
lab1        ten_and_ten         container_seconds, vm_seconds, hv, n=10 (app0.. and vm-0..), machine
lab1        data_is_lost        lost (the ShellResult of reading the file in a new container),
                                name="scratch", file="/notes.txt", machine
lab1        keep_with_volume    kept (the ShellResult of reading it back), volume="data", name="writer",
                                text="hello volume\\n", machine
lab2        run_monolith        name="shop", image="aivle/monolith", port=8080, modules, machine
lab2        crash_monolith      up (modules still answering), name, image, port, modules, machine
lab2        run_microservices   network="shop-net", ports={"users": 8081, "orders": 8082, "payments": 8083},
                                image="aivle/web-app", machine
lab2        crash_microservice  up (services still answering), crashed="payments", ports, network, machine
lab2        restart_policy      service="payments", ports, network, image, machine
lab2        many_by_hand        machines=("node1", "node2", "node3"), services (10 names), label="service"
lab2        recover_by_hand     machines, services, replicas=3, label="service"
lab3        write_dockerfile    path="/home/student/app/Dockerfile", base="python:3.12-slim", machine
lab3        build_image         tag="app:1", directory, files=("/app/app.py", <flask in site-packages>) or
                                file=..., machine
lab3        read_layers         count, made (keywords of the instructions that made a layer), tag="app:1",
                                base="python:3.12-slim", machine
lab3        rebuild_cached      shared (layers app:2 shares with app:1), old="app:1", tag="app:2", directory
lab3        cache_order         directory="/home/student/slow", old="slow:1", tag="slow:2", machine
lab3        run_many            tag="app:1", n=3, machine
lab3        fix_dockerfile      line (the line the parse error named), broken (the broken text),
                                directory="/home/student/hello", tag="hello:1", machine
lab4        names               answers={short name: full reference}, required=() (short names to answer)
lab4        invalid_names       candidates (names), invalid (those the student found invalid)
lab4        pull_by_digest      digest ("sha256:..."), image="nginx", tag="1.25", machine="prod"
lab4        run_registry        port=5000, machine="dev" (a registry:2 container publishing it)
lab4        push                reference="registry.local:5000/app:1", image=None (the local source),
                                machine="dev" (reaches a registry not made by ``world.registry``)
lab4        pull                reference="registry.local:5000/app:1", container=None, machine="prod"
lab4        dedup               push_report / pull_report (a PushReport / PullReport; None fails),
                                report=None (either), else machine="prod"'s last pull
==========  ==============  =====================================================================
"""

from __future__ import annotations

from typing import Any

from ..sim.errors import AivleError

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
