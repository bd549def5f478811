"""Step checks pass on the right state and say what is missing on each wrong one."""

import pytest

import aivle_k8s as ak
from aivle_k8s.grading import Feedback, assert_step, check, step, steps


@pytest.fixture
def docker_host(host):
    host.sh("sudo apt-get install -y docker.io")
    return host


def messages(fb: Feedback) -> str:
    return "\n".join(fb.messages)


def test_feedback_reads_as_a_checklist(world):
    world.machine("host")
    fb = check("lab1", "install", world=world)
    assert not fb and fb.points is None
    assert str(fb) == ("✘ lab1/install: not yet\n"
                       "  - host has no Docker Engine: run `sudo apt-get install -y docker.io` first")


def test_assert_step_raises_with_the_feedback_and_prints_nothing(world, capsys):
    world.machine("host")
    with pytest.raises(AssertionError, match="has no Docker Engine"):
        assert_step("lab1", "install", world=world)
    assert capsys.readouterr() == ("", "")


def test_unknown_step_names_the_known_ones():
    with pytest.raises(KeyError, match="steps of lab3: dockerfile, build"):
        check("lab3", "nope")


def test_a_registered_step_with_points():
    @step("test-lab", "ok", points=2)
    def _(ctx):
        ctx.expect(ctx.get("x") == 1, "x must be 1")
        return "x is 1"

    assert check("test-lab", "ok", x=1) == Feedback("test-lab", "ok", True, ["x is 1"], 2)
    assert check("test-lab", "ok", x=0) == Feedback("test-lab", "ok", False, ["x must be 1"], 0)
    assert "ok" in steps("test-lab")


def test_missing_machine_says_how_to_create_it(world):
    assert messages(check("lab4", "pull", world=world, reference="registry.local:5000/app:1")) == \
        'there is no registry at registry.local:5000: create it with world.registry(\'registry.local:5000\') ' \
        '(registries: none)'
    world.registry("registry.local:5000")
    assert 'no machine named "prod"' in messages(check("lab4", "pull", world=world))


# -- lab 1 ---------------------------------------------------------------------------------------
def test_lab1_kernel(world, docker_host):
    assert "no container was ever started" in messages(check("lab1", "kernel", world=world, answer="x"))
    docker_host.sh("docker run --rm busybox uname -r")
    assert "compare it with `uname -r`" in messages(check("lab1", "kernel", world=world, answer="6.1.0"))
    assert check("lab1", "kernel", world=world, answer=docker_host.kernel.release + "\n")


def test_lab1_ephemeral_and_volume(world, docker_host):
    assert "no container was removed" in messages(check("lab1", "ephemeral", world=world, survived=False))
    docker_host.sh("docker run --name writer busybox sh -c 'echo hi > /note.txt'")
    docker_host.sh("docker rm writer")
    assert check("lab1", "ephemeral", world=world, survived=False)
    assert "look again" in messages(check("lab1", "ephemeral", world=world, survived=True))
    assert 'there is no volume "data"' in messages(check("lab1", "volume", world=world))
    docker_host.sh("docker run --rm -v data:/data busybox sh -c 'echo hi > /data/hello.txt'")
    assert check("lab1", "volume", world=world, file="hello.txt")
    assert "has no file other.txt" in messages(check("lab1", "volume", world=world, file="other.txt"))


def test_lab1_many(world, docker_host):
    for i in range(3):
        docker_host.sh(f"docker run -d --name c{i} busybox sleep 3600")
    assert check("lab1", "many", world=world, n=3)
    assert "3 containers running on host, expected at least 10" in messages(check("lab1", "many", world=world))


# -- lab 2 ---------------------------------------------------------------------------------------
def test_lab2_monolith(world, docker_host):
    assert "start it with" in messages(check("lab2", "monolith", world=world))
    docker_host.sh("docker run -d --name shop -p 8080:8080 aivle/monolith")
    assert "still up: crash its payments module" in messages(check("lab2", "monolith", world=world))
    docker_host.sh("curl -s http://localhost:8080/payments/crash")
    world.advance(1)
    assert check("lab2", "monolith", world=world)


def test_lab2_microservices(world, docker_host):
    for s in ("users", "orders", "payments"):
        docker_host.sh(f"docker run -d --name {s} -e SERVICE={s} aivle/web-app")
    assert "the payments service is still running" in messages(check("lab2", "microservices", world=world))
    docker_host.sh("docker stop orders")
    docker_host.sh("docker kill payments")
    fb = check("lab2", "microservices", world=world)
    assert messages(fb) == "the orders service is not running: the point is that it keeps running while " \
                           "payments is down; start it again"
    docker_host.sh("docker start orders")
    assert check("lab2", "microservices", world=world)


# -- lab 3 ---------------------------------------------------------------------------------------
DOCKERFILE = "FROM nginx:1.25\nCOPY index.html /usr/share/nginx/html/\n"


@pytest.fixture
def app(docker_host):
    docker_host.write_file("app/Dockerfile", DOCKERFILE)
    docker_host.write_file("app/index.html", "hi\n")
    return docker_host


def test_lab3_dockerfile(world, app):
    assert check("lab3", "dockerfile", world=world, instructions=["FROM", "COPY"])
    assert "has no CMD instruction" in messages(check("lab3", "dockerfile", world=world, instructions=["CMD"]))
    app.write_file("app/Dockerfile", "FROM nginx\nCOPPY a b\n")
    assert "does not parse: dockerfile parse error on line 2" in messages(check("lab3", "dockerfile", world=world))
    assert "there is no file /nope/Dockerfile" in messages(check("lab3", "dockerfile", world=world,
                                                                 path="/nope/Dockerfile"))


def test_lab3_build_and_layers(world, app):
    assert "host has no image app:1: build it with" in messages(check("lab3", "build", world=world))
    app.sh("cd app && docker build -t app:1 .")
    assert check("lab3", "build", world=world, file="/usr/share/nginx/html/index.html")
    assert messages(check("lab3", "build", world=world, file="/app/index.html")) == \
        "image app:1 was built but has no layer with /app/index.html: did you COPY it?"
    assert check("lab3", "layers", world=world, layers=8)
    assert "app:1 has 8 layers, expected 3" in messages(check("lab3", "layers", world=world, layers=3))


def test_lab3_pulled_image_is_not_a_build(world, docker_host):
    docker_host.sh("docker pull nginx:1.25 && docker tag nginx:1.25 app:1")
    assert "was not built there" in messages(check("lab3", "build", world=world))


def test_lab3_cache(world, app):
    app.sh("cd app && docker build -t app:1 .")
    assert "built 1 time: build it again" in messages(check("lab3", "cache", world=world))
    app.sh("cd ~/app && docker build -t app:1 .")
    assert check("lab3", "cache", world=world)


def test_lab3_cache_miss_is_reported(world, app):
    app.sh("cd app && docker build -t app:1 .")
    app.write_file("app/index.html", "changed\n")
    app.sh("cd ~/app && docker build -t app:1 .")
    assert "reused no build step" in messages(check("lab3", "cache", world=world))


def test_lab3_run(world, app):
    app.sh("cd app && docker build -t app:1 .")
    app.sh("docker run -d --name web-a app:1")
    assert "1 container running from app:1, expected 2" in messages(check("lab3", "run", world=world))
    app.sh("docker run -d --name web-b app:1")
    assert messages(check("lab3", "run", world=world)) == "2 containers from one image: web-a, web-b"


# -- lab 4 ---------------------------------------------------------------------------------------
def test_lab4_names():
    ok = {"nginx": "docker.io/library/nginx:latest", "kim/app:1.0": "docker.io/kim/app:1.0"}
    assert check("lab4", "names", answers=ok)
    fb = check("lab4", "names", answers={"nginx": "nginx:latest"})
    assert "add the default registry (docker.io)" in messages(fb)
    assert "set answers" in messages(check("lab4", "names"))


def test_lab4_push_pull_dedup(world, app):
    world.registry("registry.local:5000")
    prod = world.machine("prod")
    prod.sh("sudo apt-get install -y docker.io")
    app.sh("cd app && docker build -t app:1 .")
    assert "has no app:1: tag your image" in messages(check("lab4", "push", world=world))
    app.sh("docker tag app:1 registry.local:5000/app:1 && docker push registry.local:5000/app:1")
    assert check("lab4", "push", world=world)
    assert "prod has no image registry.local:5000/app:1" in messages(check("lab4", "pull", world=world))
    assert "nothing was pulled on prod" in messages(check("lab4", "dedup", world=world))
    prod.sh("docker pull registry.local:5000/app:1")
    assert check("lab4", "pull", world=world)
    assert "every layer travelled" in messages(check("lab4", "dedup", world=world))
    app.write_file("app/index.html", "v2\n")
    app.sh("cd ~/app && docker build -t registry.local:5000/app:2 . && docker push registry.local:5000/app:2")
    prod.sh("docker pull registry.local:5000/app:2")
    assert check("lab4", "dedup", world=world)
    pushed = app.engine.images.push("registry.local:5000/app:2")
    assert check("lab4", "dedup", world=world, report=pushed)
