"""The Docker Engine API face: the docker SDK, unmodified, drives the simulated engine."""

import io
import json
import socket

import pytest
import requests

pytest.importorskip("aiohttp")
docker = pytest.importorskip("docker")

from aivle_k8s.engine import Engine

REGISTRY = "registry.local:5000"


@pytest.fixture
def engine(host):
    return Engine(host)


@pytest.fixture
def served(engine):
    handle = engine.serve()
    yield handle
    handle.stop()


@pytest.fixture
def client(served):
    c = docker.DockerClient(base_url=served.docker_host)
    yield c
    c.close()


def dockerfile(text: str) -> io.BytesIO:
    return io.BytesIO(text.encode())


# -- system ---------------------------------------------------------------------------------------------------
def test_ping_and_version_over_loopback_tcp(served, client, engine):
    assert served.docker_host.startswith("tcp://127.0.0.1:")
    assert client.ping() is True
    assert client.version()["ApiVersion"] == "1.43"
    assert client.info()["Name"] == engine.machine.hostname
    head = requests.head(f"{served.url}/_ping")
    assert head.status_code == 200 and head.headers["Api-Version"] == "1.43"


def test_the_same_engine_answers_on_a_unix_socket(engine, tmp_path):
    with engine.serve(unix_socket=str(tmp_path / "docker.sock")) as served:
        assert served.docker_host == f"unix://{tmp_path / 'docker.sock'}"
        client = docker.DockerClient(base_url=served.docker_host)
        assert client.ping() is True
        container = client.containers.run("busybox", "sleep 100", detach=True, name="sock")
        assert engine.containers.get("sock").status == "running"
        assert container.exec_run(["echo", "through the socket"]).output == b"through the socket\n"
        client.close()
    assert not (tmp_path / "docker.sock").exists()


def test_paths_without_a_version_work_and_a_too_new_version_is_refused(served):
    assert requests.get(f"{served.url}/version").json()["ApiVersion"] == "1.43"
    r = requests.get(f"{served.url}/v1.99/version")
    assert r.status_code == 400
    assert r.json()["message"] == "client version 1.99 is too new. Maximum supported API version is 1.43"


# -- images -----------------------------------------------------------------------------------------------------
def test_build_from_a_dockerfile_streams_the_log_and_the_engine_has_the_image(client, engine):
    text = 'FROM busybox\nRUN echo building > /note\nCMD ["cat", "/note"]\n'
    image, log = client.images.build(fileobj=dockerfile(text), tag="app:1")
    log = list(log)
    assert image.id == engine.images.get("app:1").id and image.tags == ["app:1"]
    assert {"aux": {"ID": image.id}} in log
    assert log[-1] == {"stream": "Successfully tagged app:1\n"}
    assert any("RUN echo building" in entry.get("stream", "") for entry in log)
    assert client.containers.run("app:1", remove=True) == b"building\n"


def test_build_from_a_directory_sends_the_context(client, host, tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM busybox\nCOPY index.html /srv/\nCMD cat /srv/index.html\n")
    (tmp_path / "index.html").write_text("<h1>from the context</h1>\n")
    client.images.build(path=str(tmp_path), tag="site:1")
    assert client.containers.run("site:1") == b"<h1>from the context</h1>\n"
    assert not host.fs.exists("/var/lib/docker/tmp") or host.fs.listdir("/var/lib/docker/tmp") == []


def test_a_failing_build_raises_build_error_with_the_log(client, engine):
    with pytest.raises(docker.errors.BuildError) as err:
        client.images.build(fileobj=dockerfile("FROM busybox\nRUN exit 3\n"), tag="broken:1")
    assert "exit code: 3" in str(err.value)
    assert any("RUN exit 3" in entry.get("stream", "") for entry in err.value.build_log)
    assert not engine.images.exists("broken:1")
    with pytest.raises(docker.errors.APIError) as bad:
        client.images.build(fileobj=dockerfile("FRM busybox\n"), tag="typo:1")
    assert bad.value.status_code == 400


def test_pull_tag_list_inspect_and_remove(client, engine):
    image = client.images.pull("nginx", tag="1.25")
    assert image.id == engine.images.get("nginx:1.25").id
    assert image.attrs["RepoDigests"] == engine.store.repo_digests(image.id)
    assert "NGINX_VERSION=1.25.5" in image.attrs["Config"]["Env"]
    assert image.tag("web", "v1") is True
    assert engine.images.get("web:v1").id == image.id
    assert {"nginx:1.25", "web:v1"} <= {t for i in client.images.list() for t in i.tags}
    client.images.remove("web:v1")
    assert not engine.images.exists("web:v1")
    with pytest.raises(docker.errors.ImageNotFound):
        client.images.get("web:v1")


def test_push_to_a_private_registry_streams_progress_and_lands_in_the_registry(world, client, engine):
    registry = world.registry(REGISTRY)
    client.images.build(fileobj=dockerfile("FROM busybox\nRUN echo v1 > /v\n"), tag=f"{REGISTRY}/team/app:1")
    lines = [json.loads(line) for line in client.images.push(f"{REGISTRY}/team/app", tag="1").splitlines()]
    assert lines[0] == {"status": f"The push refers to repository [{REGISTRY}/team/app]"}
    aux = lines[-1]["aux"]
    assert aux["Tag"] == "1" and registry.resolve("team/app", "1") == aux["Digest"]
    assert {line["status"] for line in lines if "id" in line} >= {"Preparing", "Pushed"}
    with pytest.raises(docker.errors.NotFound, match="An image does not exist locally with the tag"):
        client.images.push(f"{REGISTRY}/team/other", tag="1")


def test_login_credentials_travel_with_a_push_and_stay_with_the_client(world, client, served, engine):
    registry = world.registry("secure.local:5000", users={"alice": "s3cret"})
    client.images.pull("busybox").tag("secure.local:5000/alice/bb", "1")
    with pytest.raises(docker.errors.APIError) as bad:
        client.login("alice", "wrong", registry="secure.local:5000")
    assert bad.value.status_code == 401 and "incorrect username or password" in str(bad.value)
    anonymous = docker.DockerClient(base_url=served.docker_host)
    last = json.loads(anonymous.images.push("secure.local:5000/alice/bb", tag="1").splitlines()[-1])
    assert last["error"] == "unauthorized: authentication required"
    assert client.login("alice", "s3cret", registry="secure.local:5000")["Status"] == "Login Succeeded"
    last = json.loads(client.images.push("secure.local:5000/alice/bb", tag="1").splitlines()[-1])
    assert registry.resolve("alice/bb", "1") == last["aux"]["Digest"]
    assert engine.auths == {}  # the daemon keeps no credentials: the client sends them
    anonymous.close()


def test_save_and_load_move_an_image_as_an_archive(client, engine):
    image = client.images.pull("busybox")
    archive = b"".join(image.save(named=True))
    client.images.remove("busybox")
    assert not engine.images.exists("busybox")
    [loaded] = client.images.load(archive)
    assert loaded.id == image.id and engine.images.get("busybox").id == image.id


def test_pulling_what_does_not_exist_is_the_daemons_404(client):
    with pytest.raises(docker.errors.NotFound, match="pull access denied for nosuchimage"):
        client.images.pull("nosuchimage")
    with pytest.raises(docker.errors.NotFound, match="manifest for nginx:9.9 not found"):
        client.images.pull("nginx", tag="9.9")


# -- containers ---------------------------------------------------------------------------------------------------
def test_run_in_the_foreground_returns_the_output_after_simulated_time(client, world):
    start = world.now
    assert client.containers.run("busybox", "sh -c 'echo a; sleep 30; echo b'") == b"a\nb\n"
    assert world.now - start >= 30


def test_run_pulls_a_missing_image_first(client, engine):
    assert not engine.images.exists("alpine")
    assert client.containers.run("alpine", "echo pulled", remove=True) == b"pulled\n"
    assert engine.images.exists("alpine")
    assert engine.containers.list(all=True) == []


def test_a_failing_foreground_run_raises_container_error(client):
    with pytest.raises(docker.errors.ContainerError) as err:
        client.containers.run("busybox", "sh -c 'echo oops >&2; exit 4'")
    assert err.value.exit_status == 4 and err.value.stderr == b"oops\n"


def test_detached_containers_logs_wait_and_multiplexed_streams(client, engine, world):
    container = client.containers.run("busybox", "sh -c 'echo out; echo err >&2; sleep 5; echo done'",
                                      detach=True, name="job", labels={"lab": "serve"})
    assert engine.containers.get("job").status == "running"
    assert container.logs() == b"out\nerr\n"
    assert container.wait() == {"StatusCode": 0, "Error": None}
    assert engine.containers.get("job").status == "exited"
    assert container.logs(stderr=False) == b"out\ndone\n"
    assert container.logs(stdout=False) == b"err\n"
    assert container.logs(tail=1) == b"done\n"
    assert container.logs(timestamps=True, tail=1).startswith(world.timestamp(world.now).encode()[:16])
    assert [c.name for c in client.containers.list(all=True, filters={"label": "lab=serve"})] == ["job"]
    assert client.containers.list() == []


def test_following_logs_streams_until_the_container_exits(client):
    container = client.containers.run("busybox", "sh -c 'for i in 1 2 3; do echo $i; sleep 1; done'", detach=True)
    assert list(container.logs(stream=True, follow=True)) == [b"1\n", b"2\n", b"3\n"]
    container.reload()
    assert container.status == "exited"


def test_a_tty_container_logs_raw_bytes(client):
    container = client.containers.run("busybox", "echo on a tty", detach=True, tty=True)
    container.wait()
    assert container.logs() == b"on a tty\n"


def test_stop_kill_remove_and_their_conflicts(client, engine):
    web = client.containers.run("nginx:1.25", detach=True, name="web", ports={"80/tcp": 8080})
    assert engine.machine.sh("curl -s localhost:8080").stdout.startswith("<!DOCTYPE html>")
    with pytest.raises(docker.errors.APIError) as err:
        web.remove()
    assert err.value.status_code == 409
    web.stop()
    assert engine.containers.get("web").status == "exited"
    with pytest.raises(docker.errors.APIError) as err:
        web.kill()
    assert err.value.status_code == 409
    web.remove()
    with pytest.raises(docker.errors.NotFound, match="No such container: web"):
        client.containers.get("web")
    with pytest.raises(docker.errors.ImageNotFound):
        client.containers.create("nothere:1")


def test_exec_run_returns_output_and_exit_code(client, engine):
    container = client.containers.run("busybox", "sleep 1000", detach=True)
    result = container.exec_run("sh -c 'echo to-out; echo to-err >&2; exit 3'")
    assert result.exit_code == 3 and result.output == b"to-out\nto-err\n"
    assert container.exec_run("cat /etc/hostname").output == f"{container.id[:12]}\n".encode()
    out, err = container.exec_run(["sh", "-c", "echo a; echo b >&2"], demux=True).output
    assert (out, err) == (b"a\n", b"b\n")
    container.exec_run("touch /made-by-exec")
    assert engine.containers.get(container.id).fs.exists("/made-by-exec")
    exec_id = client.api.exec_create(container.id, ["false"])["Id"]
    client.api.exec_start(exec_id)
    assert client.api.exec_inspect(exec_id)["ExitCode"] == 1


def test_exec_in_a_stopped_container_is_a_conflict(client):
    container = client.containers.run("busybox", "true", detach=True)
    container.wait()
    with pytest.raises(docker.errors.APIError) as err:
        container.exec_run("echo no")
    assert err.value.status_code == 409 and "is not running" in str(err.value)


def test_an_exec_stream_is_hijacked_with_multiplexed_frames(served, client):
    container = client.containers.run("busybox", "sleep 1000", detach=True)
    exec_id = client.api.exec_create(container.id, ["echo", "raw"])["Id"]
    with socket.create_connection(("127.0.0.1", served.served.port)) as sock:
        sock.sendall(f"POST /v1.43/exec/{exec_id}/start HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\n"
                     f"Upgrade: tcp\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101 UPGRADED\r\n")
    assert b"Content-Type: application/vnd.docker.multiplexed-stream" in head
    assert body == b"\x01\x00\x00\x00\x00\x00\x00\x04raw\n"


def test_volumes_and_networks(client, engine):
    client.volumes.create("data")
    assert engine.volumes.get("data").name == "data"
    net = client.networks.create("backend")
    assert engine.networks.get("backend").id == net.id
    client.containers.run("busybox", "sh -c 'echo kept > /data/f'", volumes={"data": {"bind": "/data", "mode": "rw"}},
                          network="backend", remove=True)
    assert engine.volumes.get("data").fs.read("/f") == b"kept\n"
    client.volumes.get("data").remove()
    net.remove()
    assert [v.name for v in client.volumes.list()] == []
