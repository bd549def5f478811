"""The labs in a real browser: JupyterLab (this environment's) + Debian's Chromium, driven by Playwright.

Every solution notebook is opened in JupyterLab with its outputs cleared and run from the Run
menu; the page must show no error and no widget that failed to render. The widgets are then
driven by clicks and typing in the page. Screenshots land in ``test-artifacts/screenshots``
(or ``$AIVLE_SCREENSHOTS``): one per lab on failure, the finished cluster builder always.
"""

from __future__ import annotations

import json
import shutil
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
