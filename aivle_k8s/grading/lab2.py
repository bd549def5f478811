"""Checks of Lab 2 (monolith vs microservices); see :mod:`.docker_checks` for the context table."""

from __future__ import annotations


from .core import Context, step
from .docker_checks import _RUNNING, _containers_of, _service_of

__all__: list[str] = []


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
