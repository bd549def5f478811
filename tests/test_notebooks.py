"""The notebooks students open run from top to bottom without errors."""

from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent


def execute(path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def outputs_text(nb) -> str:
    text = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                text.append(out["text"])
            elif "data" in out:
                text.append(out["data"].get("text/plain", ""))
    return "\n".join(text)


def test_welcome_notebook_runs_and_shows_a_container_greeting():
    nb = execute(ROOT / "labs" / "welcome.ipynb")
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert errors == []
    text = outputs_text(nb)
    assert "hello from a container" in text
    assert "docker: command not found" in text  # before installing Docker
    assert "host" in text


@pytest.mark.parametrize("path", sorted((ROOT / "labs").rglob("*.ipynb")), ids=lambda p: p.name)
def test_released_labs_contain_no_solutions_or_hidden_tests(path):
    source = path.read_text()
    assert "BEGIN SOLUTION" not in source
    assert "BEGIN HIDDEN TESTS" not in source
