"""Property: a docker command line that is typed wrong fails and changes nothing."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import aivle_k8s as ak


@pytest.fixture(scope="module")
def machine():
    world = ak.World(seed=0)
    m = world.machine("m")
    assert m.sh("sudo apt-get install -y docker.io").exit_code == 0
    assert m.sh("docker run -d --name web -v data:/data nginx:1.25").exit_code == 0
    assert m.sh("docker pull busybox").exit_code == 0
    return m


def state(m):
    e = m.engine
    images = sorted((img.id, tuple(sorted(e.store.tags_of(img.id)))) for img in e.store.images())
    containers = sorted((c.id, c.name, c.status) for c in e.containers.list(all=True))
    volumes = sorted(v.name for v in e.volumes.list())
    return images, containers, volumes


verbs = st.sampled_from(["run", "rm", "rmi", "stop", "start", "kill", "pull", "push", "tag", "exec", "logs",
                         "inspect", "volume rm", "volume create", "network rm", "build", "image rm", "container rm",
                         "ps", "images", "history", "rename", "pause", "cp", "commit", "create", "port", "top"])
bad_words = st.sampled_from(["--frobnicate", "-Z", "Nginx", "UPPER/case", "nginx::1", "no-such-container",
                             "ghost:9.9", "localhost:5000/x:tag@sha256:12", "--name", "-p", "99999:80",
                             "--restart=sometimes", "--memory=lots", "", "'", "--", "a" * 300])


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(verb=verbs, words=st.lists(bad_words, min_size=1, max_size=3))
def test_failed_docker_commands_change_no_image_container_or_volume(machine, verb, words):
    before = state(machine)
    line = "docker " + verb + " " + " ".join(f"'{w}'" if w != "'" else "\\'" for w in words)
    result = machine.sh(line)
    if result.exit_code != 0:
        assert state(machine) == before, f"{line!r} failed but changed state:\n{result.output}"
        assert result.stderr, f"{line!r} failed silently"
