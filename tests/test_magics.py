"""%docker, %kubectl, %aivle_machine and %%dockerfile in an IPython shell: output on stdout only."""

import pytest
from IPython.core.interactiveshell import InteractiveShell

import aivle_k8s as ak
import aivle_k8s.magics as magics


@pytest.fixture
def shell():
    ip = InteractiveShell.instance()
    ip.run_line_magic("load_ext", "aivle_k8s.magics")
    yield ip
    magics._state["machine"] = None


@pytest.fixture
def lab(shell):
    world = ak.World(seed=0)
    host = world.machine("host")
    host.sh("sudo apt-get install -y docker.io")
    shell.user_ns.update(world=world, host=host)
    return world, host


def test_without_a_machine_it_says_what_to_do(shell, capsys):
    shell.run_line_magic("docker", "ps")
    out, err = capsys.readouterr()
    assert "no machine selected" in out and err == ""


def test_aivle_machine_selects_by_hostname(shell, lab, capsys):
    shell.run_line_magic("aivle_machine", "host")
    assert magics.current() is lab[1]
    shell.run_line_magic("aivle_machine", "nope")
    out, err = capsys.readouterr()
    assert 'no machine named "nope"' in out and err == ""


def test_docker_prints_like_a_terminal(shell, lab, capsys):
    magics.use(lab[1])
    shell.run_line_magic("docker", "run --rm busybox echo hi")
    shell.run_line_magic("docker", "ps -a")
    out, err = capsys.readouterr()
    assert "Pull complete\n" in out and out.endswith("hi\nCONTAINER ID   IMAGE     COMMAND   CREATED   STATUS    PORTS     NAMES\n")
    assert err == ""


def test_errors_of_the_command_go_to_stdout_not_stderr(shell, lab, capsys):
    magics.use(lab[1])
    shell.run_line_magic("docker", "pull nosuch/image:9")
    out, err = capsys.readouterr()
    assert "pull access denied" in out and err == ""


def test_kubectl_before_kubernetes_is_installed(shell, lab, capsys):
    magics.use(lab[1])
    shell.run_line_magic("kubectl", "get nodes")
    out, err = capsys.readouterr()
    assert "kubectl: command not found" in out and err == ""


def test_dockerfile_cell_writes_and_builds(shell, lab, capsys):
    _, host = lab
    magics.use(host)
    host.write_file("app/index.html", "hi\n")
    shell.run_cell_magic("dockerfile", "/home/student/app -t app:1 --build",
                         "FROM nginx:1.25\nCOPY index.html /usr/share/nginx/html/")
    out, err = capsys.readouterr()
    assert host.read_file("app/Dockerfile") == "FROM nginx:1.25\nCOPY index.html /usr/share/nginx/html/\n"
    assert "wrote /home/student/app/Dockerfile on host" in out and "naming to docker.io/library/app:1" in out
    assert host.engine.images.exists("app:1") and err == ""


def test_dockerfile_cell_with_a_file_path_only_writes(shell, lab, capsys):
    _, host = lab
    magics.use(host)
    shell.run_cell_magic("dockerfile", "web/Dockerfile", "FROM busybox\n")
    assert host.read_file("web/Dockerfile") == "FROM busybox\n"
    assert capsys.readouterr().err == ""


def test_use_rejects_what_is_not_a_machine():
    with pytest.raises(TypeError):
        magics.use("host")


def test_go_templates_reach_docker_unexpanded(shell, lab, capsys):
    shell.run_line_magic("aivle_machine", "host")
    shell.run_cell("%docker pull -q busybox")
    capsys.readouterr()
    shell.run_cell("%docker image inspect busybox --format '{{json .RootFS.Type}}'")
    assert capsys.readouterr().out.strip() == '"layers"'
