"""The Docker playground (labs 3 and 4): Dockerfile -> build -> layers -> run -> push / pull.

::

    ┌ Docker playground on host ───────────────────────────────────┐
    │ [Dockerfile editor              ]  tag [app:1] dir [~/app]   │
    │ [Build]                                                       │
    │ image [app:1] name [web] ports [8080:80]  [Run]               │
    │ registry [registry.local:5000 v] repository [app:1] [Push]    │
    │ pull [registry.local:5000/app:1] [Pull]                       │
    │ ✔ build                                                       │
    │ Python   host.engine.images.build(...)  /  Terminal  $ docker …│
    │ build log (CACHED steps highlighted), image layers table      │
    │ images / docker ps                                            │
    └───────────────────────────────────────────────────────────────┘

Every button calls the machine's public engine API (``machine.engine.images.build``,
``.containers.run``, ``.images.push/pull``) and shows the same action as code and as
the ``docker`` command line. Actions (journal names and arguments):

* ``build(dockerfile, tag, context)`` — write ``context/Dockerfile`` and build it;
  a Dockerfile that does not parse or build changes nothing (the file is written
  only after a successful build);
* ``run(image, name, ports)`` — ``docker run -d [--name NAME] [-p PORTS] IMAGE``;
* ``push(source, target)`` — ``docker tag SOURCE TARGET && docker push TARGET``
  (the new tag is removed again when the push is rejected);
* ``pull(reference)`` — ``docker pull REFERENCE``.

>>> import aivle_k8s as ak
>>> world = ak.World(seed=0)
>>> host = world.machine("host")
>>> _ = host.sh("sudo apt-get install -y docker.io")
>>> pg = DockerPlayground(host, journal=False)
>>> pg.perform("build", dockerfile="FROM busybox\\nCMD echo hi\\n", tag="app:1", context="/home/student/app").ok
True
>>> pg
DockerPlayground(machine=host, images=2, containers=0)
"""

from __future__ import annotations

import html
import shlex
from typing import Any

import ipywidgets as W

from ..sim.errors import AivleError, InvalidInput
from .base import ActionOutcome, ActionWidget, _pre

__all__ = ["DockerPlayground"]

DEFAULT_DOCKERFILE = """\
FROM nginx:1.25
COPY index.html /usr/share/nginx/html/
"""


def _short(digest: str) -> str:
    return digest.split(":", 1)[-1][:12]


def _human(size: int) -> str:
    from ..images.image import human_size

    return human_size(size)


class DockerPlayground(ActionWidget):
    """Build, inspect, run, push and pull images on one machine.

    Args:
        machine: the machine (with Docker installed) the playground drives.
        dockerfile: the editor's initial text.
        tag: the initial image tag.
        context: the build context directory on the machine (the Dockerfile is written there).
        lab, journal, name: see :class:`~aivle_k8s.widgets.base.ActionWidget`.
        var: the Python name of the machine shown in the equivalent code (default: its hostname).
    """

    kind = "docker-playground"

    def __init__(self, machine: Any, *, dockerfile: str = DEFAULT_DOCKERFILE, tag: str = "app:1",
                 context: str = "/home/student/app", lab: str | None = None, journal: Any = None,
                 name: str | None = None, var: str | None = None):
        self.machine = machine
        self.world = machine.world
        self.var = var or machine.name.replace("-", "_")
        self.title = f"Docker playground on {machine.name}"
        self._initial = (dockerfile, tag, context)
        self.last_build = None
        super().__init__(lab=lab, journal=journal, name=name)

    def world_of(self) -> Any:
        return self.world

    def __repr__(self) -> str:
        engine = self.machine.engine
        if engine is None or not engine.running:
            return f"DockerPlayground(machine={self.machine.name}, docker=not running)"
        images = len(engine.store.images())
        containers = len(engine.containers.list(all=True))
        return f"DockerPlayground(machine={self.machine.name}, images={images}, containers={containers})"

    # -- the model: actions on the public API ----------------------------------------------------------
    def _register(self) -> None:
        self.action("build", self._build, self._build_cmd)
        self.action("run", self._run, self._run_cmd)
        self.action("push", self._push, self._push_cmd)
        self.action("pull", self._pull, self._pull_cmd)

    def _engine(self):
        engine = self.machine.engine
        if engine is None:
            raise AivleError(f"{self.machine.name} has no Docker Engine: install it first with "
                             f"`sudo apt-get install -y docker.io`")
        return engine

    def _build(self, dockerfile: str, tag: str, context: str):
        engine = self._engine()
        if not dockerfile.strip():
            raise InvalidInput("the Dockerfile is empty: it starts with FROM <base image>")
        machine = self.machine
        context = context or "/home/student/app"
        if not context.startswith("/"):  # like write_file: relative to the home directory
            context = machine.env.get("HOME", "/home/student").rstrip("/") + "/" + context
        if machine.sh(f"test -d {shlex.quote(context)}").exit_code != 0:
            machine.sh(f"mkdir -p {shlex.quote(context)}")
        result = engine.images.build(context, tag=tag or None, dockerfile_text=dockerfile)
        machine.write_file(context.rstrip("/") + "/Dockerfile", dockerfile)
        self.last_build = result
        return result

    def _build_cmd(self, dockerfile: str, tag: str, context: str) -> tuple[str, str]:
        path = context.rstrip("/") + "/Dockerfile"
        t = f" -t {shlex.quote(tag)}" if tag else ""
        code = (f"{self.var}.write_file({path!r}, dockerfile)\n"
                f"{self.var}.engine.images.build({context!r}" + (f", tag={tag!r}" if tag else "") + ")")
        return code, f"cd {shlex.quote(context)} && docker build{t} ."

    def _run(self, image: str, name: str = "", ports: str = ""):
        engine = self._engine()
        port_list = [p for p in ports.replace(",", " ").split() if p]
        return engine.containers.run(image, detach=True, name=name or None, ports=port_list or None)

    def _run_cmd(self, image: str, name: str = "", ports: str = "") -> tuple[str, str]:
        port_list = [p for p in ports.replace(",", " ").split() if p]
        kwargs = "".join([f", name={name!r}" if name else "", f", ports={port_list!r}" if port_list else ""])
        line = "docker run -d" + (f" --name {shlex.quote(name)}" if name else "") + \
            "".join(f" -p {shlex.quote(p)}" for p in port_list) + f" {shlex.quote(image)}"
        return f"{self.var}.engine.containers.run({image!r}, detach=True{kwargs})", line

    def _push(self, source: str, target: str):
        engine = self._engine()
        images = engine.images
        created = False
        if target != source:
            if not images.exists(target):
                created = True
            images.tag(source, target)
        try:
            return images.push(target)
        except AivleError:
            if created:  # a rejected push changes nothing
                try:
                    images.remove(target)
                except AivleError:
                    pass
            raise

    def _push_cmd(self, source: str, target: str) -> tuple[str, str]:
        tag = f"{self.var}.engine.images.tag({source!r}, {target!r})\n" if target != source else ""
        line = (f"docker tag {shlex.quote(source)} {shlex.quote(target)} && " if target != source else "") + \
            f"docker push {shlex.quote(target)}"
        return f"{tag}{self.var}.engine.images.push({target!r})", line

    def _pull(self, reference: str):
        return self._engine().images.pull(reference)

    def _pull_cmd(self, reference: str) -> tuple[str, str]:
        return f"{self.var}.engine.images.pull({reference!r})", f"docker pull {shlex.quote(reference)}"

    # -- the view ----------------------------------------------------------------------------------------
    def _controls(self) -> list:
        dockerfile, tag, context = self._initial
        full = W.Layout(width="100%")
        self.dockerfile = W.Textarea(value=dockerfile, description="Dockerfile", rows=6, layout=full)
        self.tag = W.Text(value=tag, description="tag")
        self.context = W.Text(value=context, description="directory")
        self.build_button = W.Button(description="Build", button_style="primary", icon="hammer")
        self.build_button.on_click(self.callback(lambda _: self.click_build()))

        self.run_image = W.Text(value=tag, description="image")
        self.run_name = W.Text(value="", description="name", placeholder="(random)")
        self.run_ports = W.Text(value="", description="ports", placeholder="8080:80")
        self.run_button = W.Button(description="Run", icon="play")
        self.run_button.on_click(self.callback(lambda _: self.click_run()))

        # suggestions from the world's registries; any address can be typed (a registry:2 container at localhost:5000)
        registries = self._registries()
        self.registry = W.Combobox(options=registries, value=registries[0], description="registry",
                                   placeholder="host:port", ensure_option=False)
        self.push_source = W.Text(value=tag, description="image")
        self.push_button = W.Button(description="Push", icon="upload")
        self.push_button.on_click(self.callback(lambda _: self.click_push()))
        self.pull_reference = W.Text(value="", description="pull", placeholder="registry.local:5000/app:1")
        self.pull_button = W.Button(description="Pull", icon="download")
        self.pull_button.on_click(self.callback(lambda _: self.click_pull()))

        self.state_view = W.HTML("")
        return [
            self.dockerfile,
            W.HBox([self.tag, self.context, self.build_button]),
            W.HBox([self.run_image, self.run_name, self.run_ports, self.run_button]),
            W.HBox([self.registry, self.push_source, self.push_button]),
            W.HBox([self.pull_reference, self.pull_button]),
            self.state_view,
        ]

    def _registries(self) -> list[str]:
        """Private registries first (sorted), then Docker Hub."""
        hosts = sorted(h for h in self.world.registries if h != "docker.io")
        return hosts + ["docker.io"]

    def push_target(self) -> str:
        """Where Push sends the image: ``<registry>/<repository>:<tag>`` from the dropdown and the image field."""
        from ..images.reference import parse_reference

        source = self.push_source.value.strip()
        registry = self.registry.value.strip() or "docker.io"
        ref = parse_reference(source)
        path = ref.path.removeprefix("library/") if registry != "docker.io" else ref.path
        return f"{registry}/{path}:{ref.tag or 'latest'}" if registry != "docker.io" else source

    # -- clicks (button callbacks; also callable from tests) ------------------------------------------
    def click_build(self) -> ActionOutcome:
        return self.perform("build", dockerfile=self.dockerfile.value, tag=self.tag.value.strip(),
                            context=self.context.value.strip())

    def click_run(self) -> ActionOutcome:
        return self.perform("run", image=self.run_image.value.strip(), name=self.run_name.value.strip(),
                            ports=self.run_ports.value.strip())

    def click_push(self) -> ActionOutcome:
        try:
            target = self.push_target()
        except AivleError as e:
            outcome = ActionOutcome("push", {"source": self.push_source.value}, error=e)
            self._show(outcome)
            return outcome
        return self.perform("push", source=self.push_source.value.strip(), target=target)

    def click_pull(self) -> ActionOutcome:
        return self.perform("pull", reference=self.pull_reference.value.strip())

    # -- rendering -----------------------------------------------------------------------------------------
    def _render(self, outcome: ActionOutcome) -> str:
        r = outcome.result
        if outcome.action == "build":
            lines = []
            for line in r.log.rstrip("\n").splitlines():
                cell = html.escape(line)
                if line.endswith(" CACHED"):
                    cell = f'<span style="background:#dafbe1;color:#1a7f37;font-weight:bold">{cell}</span>'
                lines.append(cell)
            log = '<pre style="margin:0;max-height:18em;overflow:auto">' + "\n".join(lines) + "</pre>"
            return (f"<div><b>build log</b> ({r.cache_hits} step(s) CACHED)</div>{log}"
                    f"<div><b>layers of {html.escape(', '.join(r.tags) or r.image.short_id)}</b></div>"
                    + self._layers_table(r.image))
        if outcome.action == "run":
            return _pre(f"{r.name} ({r.short_id}) {r.status}")
        if outcome.action in ("push", "pull"):
            rows = "".join(f"<tr><td><code>{html.escape(s)}</code></td><td>{html.escape(st)}</td></tr>"
                           for s, st in r.layers)
            moved = r.bytes_uploaded if outcome.action == "push" else r.bytes_downloaded
            verb = "uploaded" if outcome.action == "push" else "downloaded"
            return (_pre("\n".join(r.lines())) + f"<div><b>{moved:,} bytes {verb}</b> ({_human(moved)})</div>"
                    f"<table><tr><th>layer</th><th>status</th></tr>{rows}</table>")
        return super()._render(outcome)

    def text_of(self, outcome: ActionOutcome) -> str:
        r = outcome.result
        if not outcome.ok:
            return super().text_of(outcome)
        if outcome.action == "build":
            return r.log
        if outcome.action == "run":
            return f"{r.name} ({r.short_id}) {r.status}"
        if outcome.action == "push":
            return "\n".join(r.lines()) + f"\n{r.bytes_uploaded} bytes uploaded"
        if outcome.action == "pull":
            return "\n".join(r.lines()) + f"\n{r.bytes_downloaded} bytes downloaded"
        return super().text_of(outcome)

    def layer_rows(self, image: Any) -> list[tuple[str, int, str]]:
        """``(created by, size, layer digest or "")`` per history entry, newest first (``docker history``)."""
        layers = list(image.layers)
        rows, li = [], 0
        for h in image.history:
            digest, size = "", 0
            if not h.get("empty_layer") and li < len(layers):
                digest, size = layers[li].digest, layers[li].content_size
                li += 1
            rows.append((str(h.get("created_by", "")), size, digest))
        rows.reverse()
        return rows

    def _layers_table(self, image: Any) -> str:
        body = "".join(
            f"<tr><td><code>{html.escape(by if len(by) <= 60 else by[:59] + '…')}</code></td>"
            f"<td style='text-align:right'>{_human(size)}</td><td><code>{_short(d) if d else ''}</code></td></tr>"
            for by, size, d in self.layer_rows(image))
        return (f"<table><tr><th>created by</th><th>size</th><th>layer digest</th></tr>{body}</table>"
                f"<small>{len(image.layers)} layers, {_human(image.size)}</small>")

    def refresh(self) -> None:
        if not hasattr(self, "state_view"):
            return
        options = self._registries()
        if list(self.registry.options) != options:
            self.registry.options = options  # the typed value stays
        engine = self.machine.engine
        if engine is None or not engine.running:
            self.state_view.value = "<small>Docker is not installed or not running on this machine.</small>"
            return
        images = "".join(f"<tr><td>{html.escape(row.repository)}</td><td>{html.escape(row.tag)}</td>"
                         f"<td><code>{_short(row.id)}</code></td><td>{_human(row.size)}</td></tr>"
                         for row in engine.images.rows())
        ps = "".join(f"<tr><td>{html.escape(c.name)}</td><td>{html.escape(c.image_ref)}</td>"
                     f"<td>{html.escape(c.status)}</td><td>{html.escape(self._ports(c))}</td></tr>"
                     for c in engine.containers.list(all=True))
        self.state_view.value = (
            "<details open><summary>images and containers</summary>"
            f"<table><tr><th>REPOSITORY</th><th>TAG</th><th>IMAGE ID</th><th>SIZE</th></tr>{images}</table>"
            f"<table><tr><th>NAMES</th><th>IMAGE</th><th>STATUS</th><th>PORTS</th></tr>{ps}</table></details>")

    @staticmethod
    def _ports(c: Any) -> str:
        out = []
        for (port, proto), specs in sorted(c.port_specs.items()):
            for host_ip, host_port in specs:
                out.append(f"{host_ip or '0.0.0.0'}:{host_port or '?'}->{port}/{proto}")
        return ", ".join(out)
