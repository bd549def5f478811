"""Step checks pass on the right state and say what is missing on each wrong one."""

import json
from pathlib import Path

import pytest

import aivle_k8s as ak
from aivle_k8s.grading import Feedback, assert_step, check, step, steps
from aivle_k8s.machines import Hypervisor

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def docker_host(host):
    host.sh("sudo apt-get install -y docker.io")
    return host


def messages(fb: Feedback) -> str:
    return "\n".join(fb.messages)


def test_feedback_reads_as_a_checklist(world):
    world.machine("host")
    fb = check("lab1", "install_docker", world=world)
    assert not fb and fb.points is None
    assert str(fb) == ("✘ lab1/install_docker: not yet\n"
                       '  - Docker is not installed on host: run host.sh("sudo apt-get install -y docker.io") '
                       "in the cell above")


def test_assert_step_raises_with_the_feedback_and_prints_nothing(world, capsys):
    world.machine("host")
    with pytest.raises(AssertionError, match="Docker is not installed on host"):
        assert_step("lab1", "install_docker", world=world)
    assert capsys.readouterr() == ("", "")


def test_unknown_step_names_the_known_ones():
    with pytest.raises(KeyError, match="steps of lab1: install_docker, run_container, compare_kernels"):
        check("lab1", "nope")


def test_a_registered_step_with_points():
    @step("test-lab", "ok", points=2)
    def _(ctx):
        ctx.expect(ctx.get("x") == 1, "x must be 1")
        return "x is 1"

    assert check("test-lab", "ok", x=1) == Feedback("test-lab", "ok", True, ["x is 1"], 2)
    assert check("test-lab", "ok", x=0) == Feedback("test-lab", "ok", False, ["x must be 1"], 0)
    assert "ok" in steps("test-lab")


def test_missing_machine_or_registry_says_how_to_create_it(world):
    assert messages(check("lab4", "pull", world=world, reference="registry.local:5000/app:1")) == \
        'there is no machine named "prod" (machines: none yet): create it with world.machine("prod")'
    assert messages(check("lab4", "push", world=world, reference="registry.local:5000/app:1")) == \
        "there is no registry at registry.local:5000: run one (docker run -d -p 5000:5000 --name registry " \
        "registry:2) or create it with world.registry('registry.local:5000') (registries: none)"


# -- lab 1 ---------------------------------------------------------------------------------------
LAB1_STEPS = ["install_docker", "run_container", "compare_kernels", "ten_and_ten", "data_is_lost", "keep_with_volume"]


def test_lab1_steps_are_the_notebooks_grade_ids():
    assert steps("lab1") == LAB1_STEPS
    nb = json.loads((ROOT / "solutions" / "lab1-containers" / "lab1-containers.ipynb").read_text())
    tests = [c["metadata"]["nbgrader"]["grade_id"] for c in nb["cells"]
             if c["metadata"].get("nbgrader", {}).get("grade")]
    assert tests == [f"test_{s}" for s in LAB1_STEPS]
    for cell in nb["cells"]:
        gid = cell["metadata"].get("nbgrader", {}).get("grade_id", "")
        if cell["metadata"].get("nbgrader", {}).get("grade"):
            assert f'assert_step("lab1", "{gid.removeprefix("test_")}", world=world' in "".join(cell["source"])


def test_lab1_install_docker(world, host):
    assert messages(check("lab1", "install_docker", world=world)) == \
        'Docker is not installed on host: run host.sh("sudo apt-get install -y docker.io") in the cell above'
    host.sh("sudo apt-get install -y docker.io")
    assert check("lab1", "install_docker", world=world).messages == ["Docker Engine 24.0.7 is running on host"]
    host.sh("sudo systemctl stop docker")
    assert "not running: run `sudo systemctl start docker`" in messages(check("lab1", "install_docker", world=world))


def test_lab1_run_container(world, docker_host):
    assert messages(check("lab1", "run_container", world=world)) == \
        "no container named box on host (containers: none): use docker run -d --name box alpine sleep 3600"
    docker_host.sh("docker run --name box alpine")  # no long-running command: exits at once
    assert "box is exited (exit code 0): its main process ended" in messages(check("lab1", "run_container", world=world))
    docker_host.sh("docker rm box && docker run -d --name box busybox sleep 3600")
    assert messages(check("lab1", "run_container", world=world)) == "box runs image busybox, not alpine"
    docker_host.sh("docker rm -f box && docker run -d --name box docker.io/library/alpine sleep 3600")
    assert check("lab1", "run_container", world=world)


def test_lab1_compare_kernels(world, docker_host):
    hv = Hypervisor(docker_host)
    unset = dict(container_kernel=None, vm_kernel=None)
    assert messages(check("lab1", "compare_kernels", world=world, hv=hv, **unset)) == \
        'no running VM named vm1: use vm = hv.create_vm("vm1", memory="1Gi")'
    vm = hv.create_vm("vm1", memory="1Gi")
    assert messages(check("lab1", "compare_kernels", world=world, hv=hv, **unset)).startswith(
        "container_kernel is not set: run the cell that creates the VM")
    release = docker_host.kernel.release
    assert "no container was ever started on host" in messages(
        check("lab1", "compare_kernels", world=world, hv=hv, container_kernel=release, vm_kernel=vm.kernel.release))
    printed = docker_host.sh("docker run --rm alpine uname -r").stdout  # newline not stripped
    fb = check("lab1", "compare_kernels", world=world, hv=hv, container_kernel=printed, vm_kernel=release)
    assert fb.messages == [
        f"container_kernel is {printed!r}: read it with uname -r inside a container (docker run --rm alpine uname -r) "
        "and remove the newline with .stdout.strip()",
        f"vm_kernel is {release!r}: read it with vm.sh(\"uname -r\") and remove the newline with .stdout.strip()"]
    good = dict(container_kernel=printed.strip(), vm_kernel=vm.sh("uname -r").stdout.strip())
    assert check("lab1", "compare_kernels", world=world, hv=hv, **good)
    assert check("lab1", "compare_kernels", world=world, **good)  # the VM is found among the world's machines


def test_lab1_ten_and_ten(world, docker_host):
    hv = Hypervisor(docker_host)
    docker_host.sh("docker run -d --name app0 busybox sleep 3600")
    timing = dict(container_seconds=0.1, vm_seconds=30.0)
    assert messages(check("lab1", "ten_and_ten", world=world, hv=hv, n=2, **timing)).startswith(
        "these containers are not running: app1 (docker run -d --name app0 aivle/hog:1.0")
    docker_host.sh("docker run -d --name app1 busybox sleep 3600")
    hv.create_vm("vm-0", wait=False)
    assert messages(check("lab1", "ten_and_ten", world=world, hv=hv, n=2, **timing)) == \
        "these VMs are not running: vm-0, vm-1 (create them with hv.create_vm, then hv.wait_all())"
    hv.create_vm("vm-1", wait=False)
    hv.wait_all()
    assert "container_seconds is not set" in messages(check("lab1", "ten_and_ten", world=world, hv=hv, n=2,
                                                            container_seconds=None, vm_seconds=30.0))
    assert "should be faster than booting the VMs" in messages(
        check("lab1", "ten_and_ten", world=world, hv=hv, n=2, container_seconds=40.0, vm_seconds=30.0))
    assert check("lab1", "ten_and_ten", world=world, hv=hv, n=2, **timing).messages == \
        ["2 containers started in 0.1 s, 2 VMs booted in 30.0 s"]
    assert "app2" in messages(check("lab1", "ten_and_ten", world=world, hv=hv, **timing))  # n=10 by default


def test_lab1_data_is_lost(world, docker_host):
    fb = check("lab1", "data_is_lost", world=world, lost=None)
    assert fb.messages[0] == ("run a container named scratch that writes /notes.txt: "
                              "docker run --name scratch alpine sh -c 'echo hello > /notes.txt'")
    assert fb.messages[1].startswith("lost is not set")
    docker_host.sh("docker run --name scratch alpine sh -c 'echo hello > /notes.txt'")
    lost = docker_host.sh("docker run --rm alpine cat /notes.txt")
    assert messages(check("lab1", "data_is_lost", world=world, lost=lost)) == \
        "the container scratch still exists: remove it with docker rm scratch"
    docker_host.sh("docker rm scratch")
    assert check("lab1", "data_is_lost", world=world, lost=lost)
    found = docker_host.sh("docker run --rm alpine sh -c 'echo hello > /notes.txt; cat /notes.txt'")
    assert messages(check("lab1", "data_is_lost", world=world, lost=found)) == \
        "a new container should not find /notes.txt, but it read 'hello\\n'"


def test_lab1_keep_with_volume(world, docker_host):
    assert messages(check("lab1", "keep_with_volume", world=world, kept=None)) == \
        "no volume named data (volumes: none): mount it with -v data:/data"
    docker_host.sh("docker run --name writer -v data:/data alpine sh -c 'echo hello volume > /data/notes.txt'")
    kept = docker_host.sh("docker run --rm -v data:/data alpine cat /data/notes.txt")
    assert messages(check("lab1", "keep_with_volume", world=world, kept=kept)) == \
        "remove the container writer (docker rm writer)"
    docker_host.sh("docker rm writer")
    assert check("lab1", "keep_with_volume", world=world, kept=kept)
    assert messages(check("lab1", "keep_with_volume", world=world, kept=None)).startswith("kept is not set")
    other = docker_host.sh("docker run --rm -v data:/data alpine cat /data/other.txt")
    assert "got 'cat: /data/other.txt: No such file or directory\\n', expected 'hello volume\\n'" in messages(
        check("lab1", "keep_with_volume", world=world, kept=other))


# -- labs 2 and 3: tests/test_grading_labs23.py ---------------------------------------------------


# -- lab 4 ---------------------------------------------------------------------------------------
LAB4_STEPS = ["names", "invalid_names", "pull_by_digest", "run_registry", "push", "pull", "dedup"]
NGINX_125 = "sha256:e9c3f9d982d906cac92cab4755374807a4a08622e159fa7a29edf73494e86371"  # on the simulated Hub
SHOP = "FROM nginx:1.25\nCOPY index.html /usr/share/nginx/html/\n"


@pytest.fixture
def dev_prod(world):
    dev, prod = world.machine("dev"), world.machine("prod")
    for m in (dev, prod):
        m.sh("sudo apt-get install -y docker.io")
    dev.write_file("shop/Dockerfile", SHOP)
    dev.write_file("shop/index.html", "<h1>v1</h1>\n")
    dev.sh("cd ~/shop && docker build -q -t shop:1 .")
    return dev, prod


def test_lab4_steps_are_the_notebooks_grade_ids():
    assert steps("lab4") == LAB4_STEPS
    nb = json.loads((ROOT / "solutions" / "lab4-registries" / "lab4-registries.ipynb").read_text())
    graded = {c["metadata"]["nbgrader"]["grade_id"]: c for c in nb["cells"]
              if c["metadata"].get("nbgrader", {}).get("grade")}
    assert list(graded) == [f"test_{s}" for s in LAB4_STEPS]
    assert sum(c["metadata"]["nbgrader"]["points"] for c in graded.values()) == 10
    for gid, cell in graded.items():
        assert f'assert_step("lab4", "{gid.removeprefix("test_")}", world=world' in "".join(cell["source"])


def test_lab4_names_explains_each_wrong_answer():
    d = NGINX_125
    right = {"nginx": "docker.io/library/nginx:latest", "kim/app:1.0": "docker.io/kim/app:1.0",
             "myreg:5000/app": "myreg:5000/app:latest", f"nginx@{d}": f"docker.io/library/nginx@{d}"}
    assert check("lab4", "names", answers=right, required=list(right)).messages == ["4 names expanded correctly"]
    wrong = {"nginx": "nginx:latest", "myreg:5000/app": "myreg:5000/library/app:latest",
             f"nginx@{d}": f"docker.io/library/nginx:latest@{d}", "localhost/x": "docker.io/localhost/x:latest",
             "myreg/app": "myreg:5000/app:latest", "bitnami/redis": "", "ubuntu": "docker.io/library/ubuntu:22.04"}
    fb = check("lab4", "names", answers=wrong, required=["nginx", "alpine"])
    assert fb.messages == [
        "'alpine' is missing from the table: add its full name",
        "'nginx' is not 'nginx:latest': it names the right image, but write every part out: registry host, path "
        "and tag (or digest)",
        "'myreg:5000/app' is not 'myreg:5000/library/app:latest': library/ is Docker Hub's namespace for official "
        "images; myreg:5000 adds no namespace",
        f"'nginx@{d}' is not 'docker.io/library/nginx:latest@{d}': a digest already names one exact image: "
        "no tag is added to a digest reference",
        "'localhost/x' is not 'docker.io/localhost/x:latest': its first part localhost is a registry host "
        "('.' or ':' or localhost): keep it first",
        "'myreg/app' is not 'myreg:5000/app:latest': a first part without '.' or ':' (and not localhost) is a "
        "Docker Hub namespace, not a registry host",
        "'bitnami/redis': fill in its full name",
        "'ubuntu' is not 'docker.io/library/ubuntu:22.04': add the default registry (docker.io), the namespace of "
        "official images (library/) and the default tag (latest) where they are left out"]
    assert "set answers" in messages(check("lab4", "names"))
    assert "'Nginx' is not a valid image name: invalid reference format" in messages(
        check("lab4", "names", answers={"Nginx": "docker.io/library/nginx:latest"}))


def test_lab4_invalid_names():
    candidates = ["nginx", "Nginx", "nginx:", "kim/app:1.0"]
    assert check("lab4", "invalid_names", candidates=candidates, invalid=["nginx:", "Nginx"]).messages == \
        ["2 invalid names found among 4"]
    assert messages(check("lab4", "invalid_names", candidates=candidates, invalid=["Nginx", "nginx"])) == \
        "2 names sorted the wrong way (1 invalid not listed, 1 valid listed as invalid): try each candidate " \
        "with ak.parse_reference(name) and keep those that raise ak.InvalidReference"
    assert "'zzz' is not among the candidates" in messages(
        check("lab4", "invalid_names", candidates=candidates, invalid=["Nginx", "nginx:", "zzz"]))
    assert "set invalid to the list" in messages(check("lab4", "invalid_names", candidates=candidates, invalid=None))
    assert "0 valid listed" in messages(check("lab4", "invalid_names", candidates=candidates, invalid=[]))


def test_lab4_pull_by_digest(world, dev_prod):
    dev, prod = dev_prod
    assert messages(check("lab4", "pull_by_digest", world=world, digest=None)).startswith(
        "set digest to the digest of nginx:1.25 (`docker images --digests`")
    assert "a digest is sha256: followed by 64 lowercase hex digits" in messages(
        check("lab4", "pull_by_digest", world=world, digest="sha256:abc"))
    latest = world.docker_hub.resolve("library/nginx", "latest")
    fb = check("lab4", "pull_by_digest", world=world, digest=latest)
    assert fb.messages[0].startswith("digest is not the digest of nginx:1.25 on Docker Hub")
    prod.sh("docker pull nginx:1.25")  # by tag: not what the step asks
    fb = check("lab4", "pull_by_digest", world=world, digest=NGINX_125)
    assert fb.messages == [f"prod has not pulled nginx@{NGINX_125[:19]}...: run `docker pull nginx@<digest>` on prod"]
    prod.sh(f"docker pull nginx@{NGINX_125}")
    assert check("lab4", "pull_by_digest", world=world, digest=NGINX_125 + "\n")


def test_lab4_run_registry(world, dev_prod):
    dev, _ = dev_prod
    assert messages(check("lab4", "run_registry", world=world)) == \
        "no registry container on dev: run `docker run -d -p 5000:5000 --name registry registry:2`"
    dev.sh("docker run -d --name registry registry:2")
    assert messages(check("lab4", "run_registry", world=world)) == \
        "the registry listens on port 5000 inside its container, but nothing publishes it on dev's port 5000: " \
        "run it with -p 5000:5000"
    dev.sh("docker stop registry")
    assert messages(check("lab4", "run_registry", world=world)) == \
        "the registry container registry is exited: start it (docker start registry)"
    dev.sh("docker rm registry && docker run -d -p 5000:5000 --name registry registry:2")
    assert check("lab4", "run_registry", world=world).messages == \
        ["registry serves a registry at dev:5000 (localhost:5000 on dev)"]


def test_lab4_push_and_pull_through_a_registry_container(world, dev_prod):
    dev, prod = dev_prod
    push = dict(world=world, reference="localhost:5000/shop/web:1", image="shop:1", machine="dev")
    assert "dev cannot reach a registry at localhost:5000: Get \"https://localhost:5000/v2/\": dial tcp " \
           "127.0.0.1:5000: connect: connection refused. Nothing listens there" in messages(check("lab4", "push", **push))
    dev.sh("docker run -d -p 5000:5000 --name registry registry:2")
    assert messages(check("lab4", "push", **push)) == \
        "localhost:5000 has no shop/web:1: tag your image with the registry's address " \
        "(`docker tag app:1 localhost:5000/shop/web:1`) and `docker push localhost:5000/shop/web:1`"
    dev.sh("docker tag nginx:1.25 localhost:5000/shop/web:1 && docker push localhost:5000/shop/web:1")
    assert messages(check("lab4", "push", **push)) == \
        "localhost:5000/shop/web:1 in the registry is not your image shop:1: " \
        "`docker tag shop:1 localhost:5000/shop/web:1` and push again"
    dev.sh("docker tag shop:1 localhost:5000/shop/web:1 && docker push localhost:5000/shop/web:1")
    assert check("lab4", "push", **push).messages == ["shop/web:1 is in the registry at localhost:5000"]

    pull = dict(world=world, reference="dev:5000/shop/web:1", machine="prod", container="web")
    assert messages(check("lab4", "pull", **pull)) == \
        'prod cannot reach a registry at dev:5000: Get "https://dev:5000/v2/": http: server gave HTTP response ' \
        'to HTTPS client. That registry speaks plain HTTP: add "dev:5000" to "insecure-registries" in ' \
        "/etc/docker/daemon.json on prod, then sudo systemctl restart docker"
    prod.write_file("/etc/docker/daemon.json", '{"insecure-registries": ["dev:5000"]}\n')
    prod.sh("sudo systemctl restart docker")
    assert messages(check("lab4", "pull", **pull)) == \
        "prod has no image dev:5000/shop/web:1: run `docker pull dev:5000/shop/web:1` on it"
    prod.sh("docker pull dev:5000/shop/web:1")
    assert messages(check("lab4", "pull", **pull)).startswith("no container named web on prod")
    prod.sh("docker run -d --name web nginx:1.25")
    assert messages(check("lab4", "pull", **pull)) == \
        "web does not run dev:5000/shop/web:1: remove it and run it again from dev:5000/shop/web:1"
    prod.sh("docker rm -f web && docker run -d --name web -p 80:80 dev:5000/shop/web:1")
    assert check("lab4", "pull", **pull).messages == ["prod pulled dev:5000/shop/web:1 and runs it as web"]
    assert "no such host. No machine has that name" in messages(
        check("lab4", "pull", world=world, reference="nothere:5000/shop/web:1"))


def test_lab4_push_pull_with_a_world_registry(world):
    world.registry("registry.local:5000")
    host, prod = world.machine("host"), world.machine("prod")
    for m in (host, prod):
        m.sh("sudo apt-get install -y docker.io")
    host.write_file("app/Dockerfile", SHOP)
    host.write_file("app/index.html", "hi\n")
    host.sh("cd ~/app && docker build -t app:1 .")
    assert "has no app:1: tag your image" in messages(check("lab4", "push", world=world))
    host.sh("docker tag app:1 registry.local:5000/app:1 && docker push registry.local:5000/app:1")
    assert check("lab4", "push", world=world)  # the defaults: no machine "dev" is needed
    assert "prod has no image registry.local:5000/app:1" in messages(check("lab4", "pull", world=world))
    prod.sh("docker pull registry.local:5000/app:1")
    assert check("lab4", "pull", world=world)


def test_lab4_dedup(world, dev_prod):
    dev, prod = dev_prod
    world.registry("registry.local:5000")
    assert messages(check("lab4", "dedup", world=world, push_report=None, pull_report=None)).startswith(
        "push_report is None: keep the report that images.push(...) returns")
    assert "nothing was pulled on prod yet" in messages(check("lab4", "dedup", world=world))
    dev.sh("docker tag shop:1 registry.local:5000/shop:1")
    first_push = dev.engine.images.push("registry.local:5000/shop:1")
    first_pull = prod.engine.images.pull("registry.local:5000/shop:1")
    fb = check("lab4", "dedup", world=world, push_report=first_push, pull_report=first_pull)
    assert [m.split(":")[0] for m in fb.messages] == ["every layer travelled", "every layer travelled"]
    assert "'Layer already exists'" in fb.messages[0] and "'Already exists'" in fb.messages[1]
    dev.write_file("shop/index.html", "<h1>v2</h1>\n")
    dev.sh("cd ~/shop && docker build -q -t registry.local:5000/shop:2 .")
    pushed = dev.engine.images.push("registry.local:5000/shop:2")
    pulled = prod.engine.images.pull("registry.local:5000/shop:2")
    fb = check("lab4", "dedup", world=world, push_report=pushed, pull_report=pulled)
    assert fb.messages == [f"7 layers skipped, only {pushed.bytes_uploaded} bytes uploaded",
                           f"7 layers skipped, only {pulled.bytes_downloaded} bytes downloaded"]
    assert pushed.bytes_uploaded < first_push.bytes_uploaded / 10
    assert check("lab4", "dedup", world=world)  # prod's last pull
    assert check("lab4", "dedup", world=world, report=pushed)
