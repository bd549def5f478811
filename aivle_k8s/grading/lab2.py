"""Checks of Lab 2 (monolith vs microservices); see :mod:`.docker_checks` for the context table.

The step names are the grade_ids of the answer cells of ``solutions/lab2-microservices``:
``run_monolith`` -> ``crash_monolith`` -> ``run_microservices`` -> ``crash_microservice`` ->
``restart_policy`` -> ``many_by_hand`` -> ``recover_by_hand``.

Whether a module "answers" is asked the way ``curl`` asks it: an HTTP request from the machine
to a published port (:meth:`Engine.request`), which leaves no trace in the shell history.
"""

from __future__ import annotations

from typing import Any

from ..sim.errors import AivleError
from .core import Context, _plural, step
from .docker_checks import _RUNNING, _containers_of, _service_of

__all__ = ["MODULES", "SERVICES", "answering"]

#: the modules of the shop (the monolith serves all of them; one microservice each)
MODULES = ("users", "orders", "payments")
#: the ten services of the "by hand" part
SERVICES = ("users", "orders", "payments", "search", "cart", "catalog", "reviews", "shipping", "notify", "auth")
#: host ports of the microservices (``-p 8081:8080`` ...)
MICRO_PORTS = {"users": 8081, "orders": 8082, "payments": 8083}
_GOOD_POLICIES = ("always", "unless-stopped", "on-failure")
_STOPPED = (None, 0, 130, 137, 143)  # exit codes of a clean exit or of docker stop / kill (128 + signal)


def answering(engine: Any, port: int, module: str) -> bool:
    """Does ``http://localhost:PORT/MODULE`` answer 200 on ``engine``'s machine (``curl -f`` succeeds)?"""
    try:
        return engine.request(f"http://localhost:{port}/{module}").status == 200
    except AivleError:
        return False


def _names(values: Any) -> list[str] | None:
    """A student's list of module names, normalised (None when it is not a list of names)."""
    if values is None or isinstance(values, (str, bytes)):
        return None
    try:
        return sorted({str(v).strip().strip("/").lower() for v in values})
    except TypeError:
        return None


def _host_port(container: Any, port: str = "8080/tcp") -> int | None:
    for spec in (container.ports or {}).get(port) or []:
        try:
            return int(spec.get("HostPort"))
        except (TypeError, ValueError):
            continue
    return None


def _named(ctx: Context, engine: Any, name: str, image: str, how: str) -> Any:
    """The container ``name`` on ``engine``, started from ``image`` (fail with ``how`` when missing)."""
    try:
        c = engine.containers.get(name)
    except AivleError:
        ctx.fail(f"there is no container named {name} on {engine.machine.name}: {how}")
    if c not in _containers_of(engine, image):
        ctx.fail(f"the container {name} runs {c.image_ref}, not {image}: remove it (`docker rm -f {name}`) and {how}")
    return c


# -- the monolith ----------------------------------------------------------------------------------
@step("lab2", "run_monolith")
def _run_monolith(ctx: Context):
    """The monolith runs as one container and answers for every module on one port."""
    engine = ctx.engine()
    image, name, port = ctx.get("image", "aivle/monolith"), ctx.get("name", "shop"), int(ctx.get("port", 8080))
    how = f"`docker run -d --name {name} -p {port}:8080 {image}`"
    c = _named(ctx, engine, name, image, f"start it with {how}")
    if c.status not in _RUNNING:
        ctx.fail(f"{name} is {c.status} (exit code {c.exit_code}): it should be serving; "
                 f"`docker rm {name}`, then start it again with {how}")
    if _host_port(c) != port:
        ctx.fail(f"{name} does not publish port {port}: without -p nobody outside the container reaches it; "
                 f"`docker rm -f {name}`, then {how}")
    down = [m for m in ctx.get("modules", MODULES) if not answering(engine, port, m)]
    ctx.expect(not down, f"{', '.join(down)} do not answer at http://localhost:{port}/: look at `docker logs {name}`")
    return f"one process, one container, one port ({port}): {', '.join(ctx.get('modules', MODULES))} all answer"


@step("lab2", "crash_monolith")
def _crash_monolith(ctx: Context):
    """A bug in one module (payments) took the whole monolith down; ``up`` lists what still answers."""
    engine = ctx.engine()
    image, name, port = ctx.get("image", "aivle/monolith"), ctx.get("name", "shop"), int(ctx.get("port", 8080))
    modules = list(ctx.get("modules", MODULES))
    c = _named(ctx, engine, name, image, f"start it with `docker run -d --name {name} -p {port}:8080 {image}`")
    if c.status in _RUNNING:
        ctx.fail(f"{name} is still running: trigger the bug in its payments module with "
                 f"`curl -s http://localhost:{port}/payments/crash`, then let a second pass (world.advance(1))")
    ctx.expect(c.exit_code not in _STOPPED,
               f"{name} was stopped (exit code {c.exit_code}: a signal, or a clean exit), it did not crash: "
               f"`docker start {name}`, then `curl -s http://localhost:{port}/payments/crash`")
    up = ctx.get("up")
    if up is None:
        ctx.fail("set monolith_up to the list of modules that still answer after the crash "
                 f"(curl each of {', '.join(modules)})")
    said = _names(up)
    truth = sorted(m for m in modules if answering(engine, port, m))
    ctx.expect(said == truth,
               f"monolith_up is {up!r}, but the modules answering now are {truth}: curl each module again "
               f"(`curl -s http://localhost:{port}/users` ...) and keep the ones whose exit code is 0")
    return (f"one bug in payments stopped the whole process: {', '.join(modules)} are all down "
            f"(exit code {c.exit_code})")


# -- microservices ---------------------------------------------------------------------------------
def _services(ctx: Context, engine: Any, image: str) -> dict[str, list]:
    by: dict[str, list] = {}
    for c in _containers_of(engine, image):
        s = _service_of(c)
        if s:
            by.setdefault(s, []).append(c)
    return by


def _micro(ctx: Context) -> tuple[Any, str, dict[str, int], dict[str, list]]:
    engine = ctx.engine()
    image = ctx.get("image", "aivle/web-app")
    ports = dict(ctx.get("ports", MICRO_PORTS))
    return engine, image, ports, _services(ctx, engine, image)


def _run_hint(s: str, port: int, network: str, image: str, extra: str = "") -> str:
    return f"`docker run -d --name {s}{extra} --network {network} -p {port}:8080 {image} web-app --service {s}`"


@step("lab2", "run_microservices")
def _run_microservices(ctx: Context):
    """users, orders and payments as separate containers on one user-defined network."""
    engine, image, ports, by = _micro(ctx)
    network = ctx.get("network", "shop-net")
    try:
        net = engine.networks.get(network)
    except AivleError:
        ctx.fail(f'there is no network "{network}" on {engine.machine.name}: create it with '
                 f"`docker network create {network}` (a user-defined bridge: containers find each other by name)")
    ctx.expect(net.driver == "bridge", f'network "{network}" uses the {net.driver} driver: make it a bridge')
    for s, port in ports.items():
        up = [c for c in by.get(s, []) if c.status in _RUNNING]
        if not up:
            ctx.expect(False, f"no running {image} container serves {s}: start it with "
                              f"{_run_hint(s, port, network, image)}")
            continue
        c = up[0]
        nets = list((c.attrs.get("NetworkSettings") or {}).get("Networks") or {})
        ctx.expect(network in nets, f"the {s} container ({c.name}) is on {', '.join(nets) or 'no network'}, not on "
                                    f"{network}: `docker rm -f {c.name}`, then {_run_hint(s, port, network, image)}")
        ctx.expect(_host_port(c) == port, f"the {s} container ({c.name}) should publish port {port}: "
                                          f"`docker rm -f {c.name}`, then {_run_hint(s, port, network, image)}")
        ctx.expect(_host_port(c) != port or answering(engine, port, s),
                   f"{s} does not answer at http://localhost:{port}/{s}: look at `docker logs {c.name}`")
    return f"{_plural(len(ports), 'service')}, {_plural(len(ports), 'container')}, one network ({network})"


@step("lab2", "crash_microservice")
def _crash_microservice(ctx: Context):
    """The crashed service (payments) fails alone; ``up`` lists the services that still answer."""
    engine, image, ports, by = _micro(ctx)
    crashed = ctx.get("crashed", "payments")
    network = ctx.get("network", "shop-net")
    missing = [s for s in ports if s not in by]
    if missing:
        ctx.fail(f"no {image} container for {', '.join(missing)}: run the microservices first, e.g. "
                 f"{_run_hint(missing[0], ports[missing[0]], network, image)}")
    if any(c.status in _RUNNING for c in by[crashed]):
        ctx.fail(f"the {crashed} service is still running: crash it with "
                 f"`curl -s http://localhost:{ports[crashed]}/{crashed}/crash`, then let a second pass "
                 f"(world.advance(1))")
    for s in ports:
        if s != crashed:
            ctx.expect(any(c.status in _RUNNING for c in by[s]),
                       f"the {s} service is not running: the point is that it keeps running while {crashed} is "
                       f"down; `docker start {by[s][0].name}`")
    up = ctx.get("up")
    if up is None:
        ctx.fail(f"set micro_up to the list of services that still answer (curl each of {', '.join(ports)})")
    truth = sorted(s for s, p in ports.items() if answering(engine, p, s))
    ctx.expect(_names(up) == truth, f"micro_up is {up!r}, but the services answering now are {truth}: "
                                    f"curl each service on its own port again")
    others = [s for s in ports if s != crashed]
    return f"{crashed} crashed alone; {', '.join(others)} kept serving"


@step("lab2", "restart_policy")
def _restart_policy(ctx: Context):
    """The crashing service runs with a restart policy and Docker brought it back after a crash."""
    engine, image, ports, by = _micro(ctx)
    s = ctx.get("service", "payments")
    network = ctx.get("network", "shop-net")
    hint = _run_hint(s, ports.get(s, 8083), network, image, " --restart always")
    if not by.get(s):
        ctx.fail(f"no {image} container serves {s}: start it with {hint}")
    c = max(by[s], key=lambda c: c.seq)  # the newest one
    policy = (c.restart_policy or {}).get("Name") or "no"
    if policy not in _GOOD_POLICIES:
        ctx.fail(f"{c.name} has the restart policy \"{policy}\": Docker leaves it down after a crash; "
                 f"`docker rm -f {c.name}`, then {hint}")
    if c.restart_count < 1:
        ctx.fail(f"{c.name} has not been restarted yet: crash it again "
                 f"(`curl -s http://localhost:{ports.get(s, 8083)}/{s}/crash`) and let a second pass "
                 f"(world.advance(1))")
    ctx.expect(c.status in _RUNNING, f"{c.name} is {c.status}: let a second pass (world.advance(1)) so Docker "
                                     f"restarts it")
    return f"{c.name} (--restart {policy}) crashed and was restarted {_plural(c.restart_count, 'time')}"


# -- many services by hand -------------------------------------------------------------------------
def _labelled(engine: Any, service: str, label: str) -> list:
    return [c for c in engine.containers.list() if c.status in _RUNNING and c.labels.get(label) == service]


def _node_machines(ctx: Context) -> list:
    machines = getattr(ctx.world, "machines", {})
    out = []
    for n in ctx.get("machines", ("node1", "node2", "node3")):
        if not isinstance(n, str):
            out.append(n)
        elif n in machines:
            out.append(machines[n])
        else:
            ctx.fail(f'there is no machine named "{n}": create it with world.machine("{n}")')
    return out


def _engine_of(ctx: Context, m: Any) -> Any:
    engine = getattr(m, "engine", None)
    if engine is None:
        ctx.fail(f"{m.name} has no Docker Engine: run `sudo apt-get install -y docker.io` on it")
    return engine


@step("lab2", "many_by_hand")
def _many_by_hand(ctx: Context):
    """Ten services x three replicas by hand: one replica of each service on each machine."""
    machines = _node_machines(ctx)
    services = list(ctx.get("services", SERVICES))
    label = ctx.get("label", "service")
    missing: list[str] = []
    for m in machines:
        if not m.powered:
            ctx.fail(f"{m.name} is powered off: run the notebook again from the top")
        engine = _engine_of(ctx, m)
        for s in services:
            if not _labelled(engine, s, label):
                missing.append(f"{s} on {m.name}")
    if missing:
        ctx.fail(f"{_plural(len(missing), 'replica')} missing ({', '.join(missing[:4])}"
                 f"{', ...' if len(missing) > 4 else ''}): on each machine run, for each service, e.g. "
                 f"`docker run -d --name {services[0]} --restart always --label {label}={services[0]} "
                 f"-p 8000:8080 aivle/web-app`")
    total = len(services) * len(machines)
    return f"{_plural(total, 'container')} started by hand, {_plural(len(machines), 'machine')}"


@step("lab2", "recover_by_hand")
def _recover_by_hand(ctx: Context):
    """A machine went down: every service is back to its replicas on the machines still up."""
    machines = _node_machines(ctx)
    services = list(ctx.get("services", SERVICES))
    replicas = int(ctx.get("replicas", 3))
    label = ctx.get("label", "service")
    up = [m for m in machines if m.powered]
    if len(up) == len(machines):
        ctx.fail(f"every machine is still up: power one off first (the cell that runs "
                 f"{machines[-1].name}.power_off())")
    counts = {s: 0 for s in services}
    for m in up:
        engine = _engine_of(ctx, m)
        for s in services:
            counts[s] += len(_labelled(engine, s, label))
    short = [f"{s} ({n}/{replicas})" for s, n in counts.items() if n < replicas]
    if short:
        ctx.fail(f"{_plural(len(short), 'service')} short of {replicas} running replicas on "
                 f"{', '.join(m.name for m in up)}: {', '.join(short[:4])}{', ...' if len(short) > 4 else ''}; "
                 f"start the missing ones there (pick host ports that are still free, and new names)")
    return (f"every service has {replicas} replicas again on {', '.join(m.name for m in up)}: "
            f"you were the scheduler and the controller")
