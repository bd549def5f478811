"""The Docker labs' checks (1–4, in :mod:`.lab1` ... :mod:`.lab4`) and the helpers they share.

They look at the world, not at printed text.

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
