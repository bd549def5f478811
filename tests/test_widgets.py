"""The Docker playground: clicks change the world, show the command, journal, and replay on a new world."""

import subprocess
import sys

import pytest

import aivle_k8s as ak
from aivle_k8s.widgets import DockerPlayground, Journal

PAGE = "<h1>hello</h1>\n"


def lab_world():
    """What the notebook's first cells do: a world, a host with Docker, a private registry, a page."""
    world = ak.World(seed=0)
    host = world.machine("host")
    host.sh("sudo apt-get install -y docker.io")
    world.registry("registry.local:5000", tls=True)
    host.write_file("app/index.html", PAGE)
    return world, host


@pytest.fixture
def lab(tmp_path):
    world, host = lab_world()
    return world, host, tmp_path / ".lab3.journal.jsonl"


def test_build_click_builds_the_image_and_shows_the_command(lab):
    world, host, path = lab
    pg = DockerPlayground(host, journal=path)
    pg.tag.value = "app:1"
    pg.build_button.click()
    assert host.engine.images.exists("app:1")
    assert "docker build -t app:1 ." in pg.command_area.value
    assert "host.engine.images.build(" in pg.command_area.value
    assert host.read_file("app/Dockerfile") == pg.dockerfile.value


def test_rebuild_highlights_cached_steps(lab):
    _, host, path = lab
    pg = DockerPlayground(host, journal=path)
    pg.build_button.click()
    pg.build_button.click()
    assert "#6 CACHED" in pg.output_text
    assert "font-weight:bold\">#6 CACHED" in pg.output_html
    assert "layer digest" in pg.output_html


def test_run_click_starts_a_container(lab):
    _, host, path = lab
    pg = DockerPlayground(host, journal=path)
    pg.build_button.click()
    pg.run_name.value, pg.run_ports.value = "web", "8080:80"
    pg.run_button.click()
    assert host.engine.containers.get("web").status == "running"
    assert "docker run -d --name web -p 8080:80 app:1" in pg.command_area.value
    assert host.sh("curl -s http://localhost:8080/").stdout == PAGE


def test_push_and_pull_show_layer_status_and_bytes(lab):
    world, host, path = lab
    pg = DockerPlayground(host, journal=path)
    pg.build_button.click()
    assert pg.registry.value == "registry.local:5000"
    pg.push_button.click()
    assert pg.last.ok, pg.output_text
    assert world.registries["registry.local:5000"].tags("app") == ["1"]
    assert "Pushed" in pg.output_text and "bytes uploaded" in pg.output_text
    pg.push_button.click()
    assert "Layer already exists" in pg.output_text
    pg.pull_reference.value = "registry.local:5000/app:1"
    pg.pull_button.click()
    assert "Image is up to date" in pg.output_text


def test_a_bad_dockerfile_shows_the_error_with_a_hint_and_changes_nothing(lab):
    _, host, path = lab
    pg = DockerPlayground(host, journal=path)
    images_before = len(host.engine.images.list())
    pg.dockerfile.value = "FROM nginx:1.25\nCOPPY index.html /\n"
    pg.build_button.click()
    assert "dockerfile parse error on line 2" in pg.output_text
    assert "hint:" in pg.output_text
    assert "failed" in pg.status.value
    assert len(host.engine.images.list()) == images_before
    assert not host.sh("test -f app/Dockerfile").ok
    assert Journal(path).entries() == []


def test_an_unauthorized_push_shows_a_hint_and_leaves_no_new_tag(tmp_path):
    world, host = lab_world()
    world.registry("secure.local:5000", users={"kim": "pw"})
    pg = DockerPlayground(host, journal=tmp_path / "j.jsonl")
    pg.build_button.click()
    pg.registry.value = "secure.local:5000"
    pg.push_button.click()
    assert not pg.last.ok
    assert "docker login" in pg.output_text
    assert not host.engine.images.exists("secure.local:5000/app:1")


def test_no_docker_engine_is_reported_in_the_widget(tmp_path):
    host = ak.World(seed=0).machine("host")
    pg = DockerPlayground(host, journal=tmp_path / "j.jsonl")
    pg.build_button.click()
    assert "sudo apt-get install -y docker.io" in pg.output_text
    assert repr(pg) == "DockerPlayground(machine=host, docker=not running)"


def test_a_bug_in_a_callback_is_shown_not_swallowed(lab):
    _, host, path = lab
    pg = DockerPlayground(host, journal=path)
    pg.callback(lambda: 1 / 0)()
    assert "internal error in the widget: ZeroDivisionError" in pg.output_text or \
        "ZeroDivisionError" in pg.output_html


def test_text_plain_is_stable_and_meaningful(lab):
    _, host, path = lab
    pg = DockerPlayground(host, journal=path)
    pg.build_button.click()
    pg.run_button.click()
    bundle = pg._repr_mimebundle_()
    assert bundle["text/plain"] == "DockerPlayground(machine=host, images=2, containers=1)"
    assert "application/vnd.jupyter.widget-view+json" in bundle


def click_through(host, path):
    pg = DockerPlayground(host, journal=path)
    pg.build_button.click()
    pg.run_name.value, pg.run_ports.value = "web", "8080:80"
    pg.run_button.click()
    pg.push_button.click()
    return pg


def test_a_new_world_with_the_same_journal_gets_the_same_state(lab):
    world, host, path = lab
    click_through(host, path)
    world2, host2 = lab_world()
    pg2 = DockerPlayground(host2, journal=path)
    assert pg2.replayed == 3 and pg2.replay_error is None
    assert host2.engine.images.get("app:1").id == host.engine.images.get("app:1").id
    assert host2.engine.containers.get("web").status == "running"
    assert world2.registries["registry.local:5000"].tags("app") == ["1"]
    assert "replayed 3 saved actions" in pg2.status.value


def test_constructing_again_on_the_same_world_does_not_repeat_clicks(lab):
    _, host, path = lab
    click_through(host, path)
    again = DockerPlayground(host, journal=path)
    assert again.replayed == 0
    assert len(host.engine.containers.list(all=True)) == 1


def test_a_journal_entry_that_no_longer_applies_is_named(lab):
    _, host, path = lab
    pg = DockerPlayground(host, journal=path)
    pg.pull_reference.value = "registry.local:5000/app:1"
    pg.build_button.click()
    pg.push_button.click()
    pg.pull_button.click()
    Journal(path).reset()
    j = Journal(path)
    j.append("docker-playground", "pull", {"reference": "registry.local:5000/app:1"})
    world2, host2 = lab_world()  # nothing was pushed in this world
    pg2 = DockerPlayground(host2, journal=path)
    assert pg2.replay_error is not None
    assert "journal entry 1 (docker-playground: pull) could not be replayed" in pg2.output_text
    assert not host2.engine.images.exists("registry.local:5000/app:1")


AUTOGRADE_SCRIPT = """
import sys
sys.path.insert(0, {tests!r})
from test_widgets import lab_world
from aivle_k8s.widgets import DockerPlayground
world, host = lab_world()
pg = DockerPlayground(host, journal={path!r})
from aivle_k8s.grading import check
print(check("lab3", "build_image", world=world, file="/usr/share/nginx/html/index.html").passed,
      check("lab3", "run_many", world=world, n=1).passed, check("lab4", "push", world=world).passed)
"""


def test_autograde_replays_the_clicks_headlessly(lab, tmp_path):
    world, host, path = lab
    click_through(host, path)
    import os

    env = dict(os.environ, NBGRADER_EXECUTION="autograde")
    script = AUTOGRADE_SCRIPT.format(tests=os.path.dirname(__file__), path=str(path))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True", "True"]
    assert done.stderr == ""


def test_the_core_and_grading_import_no_jupyter():
    code = ("import sys, aivle_k8s, aivle_k8s.grading, aivle_k8s.widgets.journal; "
            "bad = [m for m in sys.modules if m.split('.')[0] in ('ipywidgets', 'IPython', 'ipykernel', "
            "'traitlets', 'comm')]; print(bad)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "[]", done.stdout + done.stderr


def test_push_to_a_registry_address_typed_in_the_combobox(lab):
    world, host, path = lab
    host.sh("docker run -d -p 5000:5000 --name registry registry:2")  # a registry container, not world.registry
    pg = DockerPlayground(host, journal=path)
    pg.build_button.click()
    assert "localhost:5000" not in pg.registry.options
    pg.registry.value = "localhost:5000"
    pg.push_button.click()
    assert pg.last.ok, pg.output_text
    assert "docker tag app:1 localhost:5000/app:1 &amp;&amp; docker push localhost:5000/app:1" in pg.command_area.value
    assert host.sh("docker pull -q localhost:5000/app:1").stdout == "localhost:5000/app:1\n"


def test_a_widget_without_lab_journals_beside_its_assignment_notebook(tmp_path, monkeypatch):
    from aivle_k8s.widgets.base import default_lab

    folder = tmp_path / "lab3-dockerfile"
    folder.mkdir()
    monkeypatch.chdir(folder)
    assert default_lab() == "aivle"  # no notebook of that name here
    (folder / "lab3-dockerfile.ipynb").write_text("{}")
    assert default_lab() == "lab3-dockerfile"
    world, host = lab_world()
    pg = DockerPlayground(host)
    pg.build_button.click()
    assert pg.last.ok and (folder / ".lab3-dockerfile.journal.jsonl").is_file()
