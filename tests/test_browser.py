"""The labs in a real browser: JupyterLab (this environment's) + Debian's Chromium, driven by Playwright.

Every solution notebook is opened in JupyterLab with its outputs cleared and run from the Run
menu; the page must show no error and no widget that failed to render. The widgets are then
driven by clicks and typing in the page. Screenshots land in ``test-artifacts/screenshots``
(or ``$AIVLE_SCREENSHOTS``): one per lab on failure, the finished cluster builder always.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import expect

from browser.jlab import CHROMIUM_ARGS, ROOT, JupyterLab, chromium_path, error_outputs, open_notebook, run_all, \
    screenshot_dir

LABS = sorted(p.name for p in (ROOT / "solutions").iterdir() if (p / f"{p.name}.ipynb").is_file())


def _cleared(src: Path, dst: Path) -> None:
    nb = nbformat.read(src, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    dst.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dst)


def _notebook(path: Path, *sources: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def jlab(tmp_path_factory):
    root = tmp_path_factory.mktemp("jupyterlab")
    for lab in LABS:
        _cleared(ROOT / "solutions" / lab / f"{lab}.ipynb", root / lab / f"{lab}.ipynb")
    _notebook(root / "playground.ipynb",
              "import aivle_k8s as ak\nfrom aivle_k8s.widgets import DockerPlayground\n"
              "world = ak.World(seed=0)\nhost = world.machine('host')\n"
              "_ = host.sh('sudo apt-get install -y docker.io')\n"
              "pg = DockerPlayground(host, dockerfile='', lab='playground')\npg.widget")
    _notebook(root / "builder.ipynb",
              "import aivle_k8s as ak\nfrom aivle_k8s.widgets import ClusterBuilder, ClusterView\n"
              "world = ak.World(seed=0)\n"
              "builder = ClusterBuilder(world, ['master', 'worker-1', 'worker-2'], lab='builder')\nbuilder.widget",
              "view = ClusterView(world, lab='builder')\nview.widget")
    with JupyterLab(root) as server:
        yield server


@pytest.fixture(scope="module")
def browser():
    chromium = chromium_path()
    assert chromium, "Debian's chromium is missing: `make test` installs it (scripts/ensure-tools.sh)"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    yield pg
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        shot = screenshot_dir() / f"{request.node.name.replace('/', '_')}-failure.png"
        pg.screenshot(path=str(shot), full_page=True)
        print(f"screenshot of the failure: {shot}")
    context.close()


@pytest.mark.parametrize("lab", LABS)
def test_every_lab_runs_to_the_end_in_jupyterlab_with_no_error(jlab, page, lab):
    open_notebook(page, jlab, f"{lab}/{lab}.ipynb")
    run_all(page)
    errors = error_outputs(page)
    assert not errors, f"{lab} shows errors in the page:\n" + "\n---\n".join(errors)
    rendered = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .widget-box").count()
    has_widget = '"application/vnd.jupyter.widget-view+json"' in (ROOT / "solutions" / lab / f"{lab}.ipynb").read_text()
    assert rendered > 0 or not has_widget, f"{lab} displays widgets but none rendered in the page"


def test_docker_playground_builds_what_is_typed_in_its_editor_and_shows_the_layers(jlab, page):
    open_notebook(page, jlab, "playground.ipynb")
    run_all(page)
    widget = page.locator(".aivle-docker-playground")
    widget.wait_for()
    editor = widget.locator("textarea").first
    editor.fill("FROM busybox\nRUN echo hello > /hello.txt\nCMD cat /hello.txt\n")
    widget.get_by_role("button", name="Build").click()
    expect(widget).to_contain_text("layers of", timeout=30_000)
    text = widget.inner_text()
    assert "RUN echo hello > /hello.txt" in text, text
    assert "naming to docker.io/library/app:1" in text, text
    journal = json.loads((jlab.root / ".playground.journal.jsonl").read_text().splitlines()[-1])
    assert journal["action"] == "build" and "RUN echo hello" in journal["args"]["dockerfile"]


def test_a_broken_dockerfile_shows_the_error_and_a_hint_in_the_widget(jlab, page):
    open_notebook(page, jlab, "playground.ipynb")
    run_all(page)
    widget = page.locator(".aivle-docker-playground")
    widget.locator("textarea").first.fill("FROM busybox\nCOPPY . /app\n")
    widget.get_by_role("button", name="Build").click()
    error = widget.locator(".aivle-error")
    expect(error).to_be_attached(timeout=30_000)
    assert "unknown instruction" in error.inner_text().lower()
    assert "Dockerfile line" in widget.locator(".aivle-hint").inner_text()


def _journal_actions(path: Path, widget: str) -> list[str]:
    if not path.exists():
        return []
    return [e["action"] for e in map(json.loads, path.read_text().splitlines()) if e.get("widget") == widget]


def _click_and_wait(page, widget, button: str, journal: Path, kind: str, timeout_s: float = 60) -> None:
    """Click a widget button and wait until the click is in the journal (the server has done it)."""
    before = len(_journal_actions(journal, kind))
    widget.get_by_role("button", name=button).click()
    page.wait_for_function("() => true")  # let the click leave the page
    deadline = time.monotonic() + timeout_s
    while len(_journal_actions(journal, kind)) == before:
        if time.monotonic() > deadline:
            error = widget.locator(".aivle-error")
            shown = error.first.inner_text() if error.count() else "no error shown"
            raise AssertionError(f"clicking {button!r} did not complete within {timeout_s} s ({shown})")
        page.wait_for_timeout(200)


def test_the_cluster_builder_brings_up_a_cluster_by_clicks_and_the_view_shows_it_ready(jlab, page):
    page.set_viewport_size({"width": 1200, "height": 2400})  # the whole builder fits in its screenshot
    open_notebook(page, jlab, "builder.ipynb")
    run_all(page)
    builder = page.locator(".aivle-cluster-builder")
    expect(builder).to_contain_text("worker-2")  # a card per machine
    for name in ("master", "worker-1", "worker-2"):
        expect(builder).to_contain_text(name)
    machine = builder.locator("select").first
    journal = jlab.root / ".builder.journal.jsonl"

    # a wrong click first: join before anything is installed -> the error and a hint, nothing journaled
    machine.select_option("worker-1")
    builder.get_by_role("button", name="kubeadm join").click()
    expect(builder.locator(".aivle-error")).to_be_visible(timeout=30_000)
    assert builder.locator(".aivle-hint").count() == 1
    assert _journal_actions(journal, "cluster-builder") == []

    for name in ("master", "worker-1", "worker-2"):
        machine.select_option(name)
        for button in ("Prepare", "Install runtime", "Install Kubernetes"):
            _click_and_wait(page, builder, button, journal, "cluster-builder")
    machine.select_option("master")
    _click_and_wait(page, builder, "kubeadm init", journal, "cluster-builder", timeout_s=120)
    _click_and_wait(page, builder, "Install CNI", journal, "cluster-builder")
    for name in ("worker-1", "worker-2"):
        machine.select_option(name)
        _click_and_wait(page, builder, "kubeadm join", journal, "cluster-builder", timeout_s=120)

    view = page.locator(".aivle-cluster-view")
    _click_and_wait(page, view, "run until settled", journal, "cluster-view", timeout_s=120)
    expect(view).to_contain_text("settled: every node Ready", timeout=30_000)
    text = view.inner_text()
    assert "NotReady" not in text, text
    for name in ("master", "worker-1", "worker-2"):
        assert name in text
    expect(builder).not_to_contain_text("NotReady")  # the view's click redrew the builder's cards too
    builder.scroll_into_view_if_needed()
    shot = screenshot_dir() / "cluster-builder.png"
    builder.screenshot(path=str(shot))
    print(f"screenshot of the finished cluster builder: {shot}")
    assert _journal_actions(journal, "cluster-builder") == [
        *["prepare", "install_runtime", "install_kubernetes"] * 3, "init", "install_cni", "join", "join"]
