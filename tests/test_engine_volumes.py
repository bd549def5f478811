"""Volumes and bind mounts: data that outlives a container."""

from __future__ import annotations

import pytest

from aivle_k8s.sim.errors import Conflict, FsError, InvalidInput, VolumeNotFound
from test_engine import engine, kit_image, world  # noqa: F401  (fixtures)


def test_data_written_to_the_container_layer_is_lost_with_the_container(engine):
    c = engine.containers.run("kit", ["kit-write", "/tmp/note.txt", "hello", "stay"], detach=True)
    assert c.fs.read("/tmp/note.txt") == b"hello\n"
    c.remove(force=True)
    again = engine.containers.run("kit", detach=True)
    assert not again.fs.exists("/tmp/note.txt")


def test_a_named_volume_keeps_data_across_containers(engine):
    first = engine.containers.run("kit", ["kit-write", "/data/note.txt", "kept"], volumes={"data": {"bind": "/data"}})
    assert first == b""
    engine.containers.prune()
    out = engine.containers.run("kit", ["kit-cat", "/data/note.txt"], volumes=["data:/data"])
    assert out == b"kept\n"
    assert engine.volumes.get("data").fs.read("/note.txt") == b"kept\n"


def test_volume_data_is_visible_on_the_host_under_var_lib_docker(engine):
    engine.containers.run("kit", ["kit-write", "/data/x", "1"], volumes=["data:/data"])
    assert engine.machine.fs.read("/var/lib/docker/volumes/data/_data/x") == b"1\n"
    assert engine.volumes.get("data").mountpoint == "/var/lib/docker/volumes/data/_data"
    assert engine.machine.fs.stat("/var/lib/docker").mode == 0o710  # sudo needed to look


def test_a_new_volume_over_an_image_directory_gets_the_images_files(engine):
    c = engine.containers.run("kit", detach=True, volumes=["site:/srv"])
    assert engine.volumes.get("site").fs.read("/index.html") == b"hello from kit\n"
    c.fs.write("/srv/index.html", "changed\n")
    c.remove(force=True)
    c2 = engine.containers.run("kit", detach=True, volumes=["site:/srv"])
    assert c2.fs.read("/srv/index.html") == b"changed\n"  # not copied again: the volume is not empty


def test_bind_mount_shows_host_files_and_writes_go_to_the_host(engine):
    engine.machine.write_file("/home/student/site/index.html", "from the host\n")
    engine.store.add(kit_image(cmd=("kit-web",)), tags=["web:1"])
    web = engine.containers.run("web:1", detach=True,
                                volumes={"/home/student/site": {"bind": "/srv", "mode": "rw"}})
    assert web.http("/").text == "from the host\n"
    web.exec_run("kit-write /srv/new.txt fromcontainer")
    assert engine.machine.fs.read("/home/student/site/new.txt") == b"fromcontainer\n"
    engine.machine.write_file("/home/student/site/index.html", "edited\n")
    assert web.http("/").text == "edited\n"


def test_read_only_bind_mount_refuses_writes(engine):
    engine.machine.write_file("/home/student/conf/app.conf", "x=1\n")
    c = engine.containers.run("kit", detach=True, volumes=["/home/student/conf:/conf:ro"])
    assert c.fs.read("/conf/app.conf") == b"x=1\n"
    code, out = c.exec_run("kit-write /conf/app.conf x=2")
    assert code == 1 and b"Read-only file system" in out
    with pytest.raises(FsError):
        c.fs.write("/conf/other", "no")


def test_bind_mount_of_a_missing_host_path_creates_it(engine):
    engine.containers.run("kit", detach=True, volumes=["/srv/data:/data"])
    assert engine.machine.fs.is_dir("/srv/data")


def test_image_volumes_become_anonymous_volumes_removed_with_rm_v(engine):
    engine.store.add(kit_image(volumes=("/var/lib/data",)), tags=["db:1"])
    c = engine.containers.run("db:1", detach=True)
    (anon,) = engine.volumes.list()
    assert len(anon.name) == 64 and anon.attrs["Labels"] == {"com.docker.volume.anonymous": ""}
    c.remove(force=True, v=True)
    assert engine.volumes.list() == []


def test_removing_a_volume_in_use_is_a_conflict(engine):
    c = engine.containers.create("kit", volumes=["data:/data"])
    with pytest.raises(Conflict) as e:
        engine.volumes.get("data").remove()
    assert str(e.value) == f"remove data: volume is in use - [{c.id}]"
    c.remove()
    engine.volumes.get("data").remove()
    with pytest.raises(VolumeNotFound, match="get data: no such volume"):
        engine.volumes.get("data")


def test_volume_create_is_idempotent_and_validates_names(engine):
    a = engine.volumes.create("data")
    assert engine.volumes.create("data") is a
    with pytest.raises(InvalidInput, match="includes invalid characters for a local volume name"):
        engine.volumes.create("bad/name")
    with pytest.raises(InvalidInput, match="If you intended to pass a host directory, use absolute path"):
        engine.containers.create("kit", volumes=["./data:/data"])


def test_relative_container_path_is_rejected(engine):
    with pytest.raises(InvalidInput, match="mount path must be absolute"):
        engine.containers.create("kit", volumes=["data:data"])
    assert engine.volumes.list() == []


def test_volume_prune_removes_unused_anonymous_volumes(engine):
    engine.volumes.create("named")
    engine.volumes.create()
    result = engine.volumes.prune()
    assert len(result["VolumesDeleted"]) == 1
    assert [v.name for v in engine.volumes.list()] == ["named"]
    assert engine.volumes.prune(all=True)["VolumesDeleted"] == ["named"]
