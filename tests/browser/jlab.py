"""A real JupyterLab and a headless Chromium for the browser tests (no test here: helpers only).

``JupyterLab`` starts ``jupyter lab`` from this environment on 127.0.0.1 with a random token, in
a folder of its own (settings, runtime and notebooks isolated from the user's). ``open_notebook``
loads a notebook in a Playwright page, ``run_all`` runs every cell from the Run menu and waits
until each code cell has an execution count, ``error_outputs`` lists what the page shows on
stderr or as an error. Chromium is Debian's (``/usr/bin/chromium``), never a downloaded one.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def screenshot_dir() -> Path:
    """Where screenshots go (``AIVLE_SCREENSHOTS`` or ``test-artifacts/screenshots``); created on demand."""
    path = Path(os.environ.get("AIVLE_SCREENSHOTS", ROOT / "test-artifacts" / "screenshots"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterLab:
    """``jupyter lab`` on 127.0.0.1 serving ``root``; use as a context manager."""

    def __init__(self, root: Path):
        self.root = Path(root)
        self.port = _free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.root / ".jupyter-server.log"
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "JupyterLab":
        home = self.root / ".home"
        settings = home / "lab-settings" / "@jupyterlab" / "notebook-extension"
        settings.mkdir(parents=True, exist_ok=True)
        # every cell in the DOM (no virtual scrolling), so the tests see all outputs
        (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
        apputils = home / "lab-settings" / "@jupyterlab" / "apputils-extension"
        apputils.mkdir(parents=True, exist_ok=True)
        (apputils / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        env = dict(os.environ, JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_RUNTIME_DIR=str(home / "runtime"),
                   JUPYTERLAB_SETTINGS_DIR=str(home / "lab-settings"), JUPYTERLAB_WORKSPACES_DIR=str(home / "ws"),
                   PYTHONDONTWRITEBYTECODE="1")
        env.pop("NBGRADER_EXECUTION", None)
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
             f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
             "--LabApp.news_url=", "--ServerApp.port_retries=0", "--allow-root"],
            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.root)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}:\n{self.log()}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/status?token={self.token}", timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        self.__exit__()
        raise RuntimeError(f"jupyter lab did not answer within 90 s:\n{self.log()}")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def notebook_url(self, relpath: str) -> str:
        return f"{self.url}/lab/tree/{relpath}?token={self.token}&reset"


def open_notebook(page, lab: JupyterLab, relpath: str, timeout_ms: int = 60_000) -> None:
    """Load a notebook and wait until its kernel is idle."""
    page.goto(lab.notebook_url(relpath), timeout=timeout_ms)
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=timeout_ms)
    wait_kernel_idle(page, timeout_ms)


def wait_kernel_idle(page, timeout_ms: int = 60_000) -> None:
    page.wait_for_function(
        """() => { const s = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator');
                   return s && s.getAttribute('data-status') === 'idle'; }""", timeout=timeout_ms)


def run_all(page, timeout_ms: int = 240_000) -> None:
    """Run every cell (Run > Run All Cells) and wait until each code cell has run.

    A Run All sent while the kernel is still connecting can be dropped by JupyterLab: when no cell
    has started after 30 s, it is sent once more.
    """
    started = """() => [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')]
                      .some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))"""
    for attempt in range(2):
        page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
        page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
        try:
            page.wait_for_function(started, timeout=30_000, polling=250)
            break
        except Exception:  # noqa: BLE001 - playwright's TimeoutError: try once more
            if attempt:
                raise
            page.keyboard.press("Escape")
            wait_kernel_idle(page)
    page.wait_for_function(
        """() => { const ps = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')];
                   return ps.length > 0 && ps.every(p => /\\[\\d+\\]/.test(p.textContent)); }""",
        timeout=timeout_ms, polling=500)
    wait_kernel_idle(page, timeout_ms)


def error_outputs(page) -> list[str]:
    """Texts of every stderr / error output and every widget that failed to render."""
    texts = page.eval_on_selector_all(
        ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
        "els => els.map(e => e.innerText)")
    broken = page.eval_on_selector_all(
        ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output",
        "els => els.map(e => e.innerText).filter(t => t.includes('Error displaying widget') || t.includes('Failed to load model'))")
    return [*texts, *broken]
