"""Layers: reproducible tars, whiteouts, digests and chain ids."""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aivle_k8s.images.layers import (
    EMPTY_LAYER_DIFF_ID,
    LAYER_MEDIA_TYPE,
    Layer,
    LayerError,
    chain_ids,
    gzip_bytes,
    layer_from_tar,
    layer_tar,
    sha256_digest,
)
from aivle_k8s.linux.fs import Entry, FileSystem
from aivle_k8s.sim.errors import InvalidInput


def sample_entries() -> dict[str, Entry]:
    return {
        "/etc": Entry.directory(),
        "/etc/hosts": Entry.file(b"127.0.0.1 localhost\n"),
        "/usr/bin/tool": Entry.file(b"#!/bin/sh\necho hi\n", mode=0o755, uid=1000, gid=1000),
        "/bin": Entry.symlink("usr/bin"),
        "/var/old.log": Entry.whiteout(),
        "/opt/app": Entry.directory(opaque=True),
    }


def members(data: bytes) -> list[tarfile.TarInfo]:
    return tarfile.open(fileobj=io.BytesIO(data)).getmembers()


def test_same_entries_give_the_same_bytes_and_digests_twice():
    a, b = Layer.from_entries(sample_entries()), Layer.from_entries(sample_entries())
    assert a.tar == b.tar and a.blob == b.blob
    assert a.diff_id == b.diff_id and a.digest == b.digest


def test_entry_order_does_not_change_the_tar():
    items = list(sample_entries().items())
    assert layer_tar(dict(items)) == layer_tar(dict(reversed(items)))


def test_tar_members_are_sorted_and_relative():
    names = [m.name for m in members(layer_tar(sample_entries()))]
    assert names == sorted(names)
    assert not any(n.startswith("/") for n in names)
    assert "etc/hosts" in names


def test_tar_members_have_mtime_zero_and_no_owner_names():
    for m in members(layer_tar(sample_entries())):
        assert m.mtime == 0 and m.uname == "" and m.gname == ""


def test_tar_keeps_modes_and_owners_from_the_entries():
    info = {m.name: m for m in members(layer_tar(sample_entries()))}
    tool = info["usr/bin/tool"]
    assert (tool.mode, tool.uid, tool.gid) == (0o755, 1000, 1000)
    assert info["bin"].issym() and info["bin"].linkname == "usr/bin"
    assert info["etc"].isdir()


def test_deleted_file_becomes_a_whiteout_file():
    info = {m.name: m for m in members(layer_tar(sample_entries()))}
    assert info["var/.wh.old.log"].isfile() and info["var/.wh.old.log"].size == 0
    assert "var/old.log" not in info


def test_opaque_directory_gets_an_opaque_marker():
    info = {m.name: m for m in members(layer_tar(sample_entries()))}
    assert info["opt/app"].isdir()
    assert info["opt/app/.wh..wh..opq"].isfile()


def test_whiteouts_and_opaque_dirs_read_back():
    entries = layer_from_tar(layer_tar(sample_entries()))
    assert entries["/var/old.log"] == Entry.whiteout()
    assert entries["/opt/app"].opaque


def test_tar_ends_with_two_zero_blocks_like_go():
    data = layer_tar({"/a": Entry.file(b"x")})
    assert data.endswith(b"\0" * 1024)
    assert len(data) == 512 + 512 + 1024  # header, padded data, end blocks


def test_empty_layer_has_dockers_well_known_diff_id():
    layer = Layer.from_entries({})
    assert layer.tar == b"\0" * 1024
    assert layer.diff_id == EMPTY_LAYER_DIFF_ID


def test_diff_id_is_sha256_of_tar_and_digest_is_sha256_of_blob():
    layer = Layer.from_entries(sample_entries())
    assert layer.diff_id == "sha256:" + hashlib.sha256(layer.tar).hexdigest()
    assert layer.digest == "sha256:" + hashlib.sha256(layer.blob).hexdigest()
    assert layer.size == len(layer.blob)
    assert layer.media_type == LAYER_MEDIA_TYPE


def test_blob_is_gzip_of_the_tar_with_mtime_zero():
    layer = Layer.from_entries(sample_entries())
    assert gzip.decompress(layer.blob) == layer.tar
    assert layer.blob[4:8] == b"\0\0\0\0"  # gzip MTIME field


def test_gzip_is_reproducible():
    assert gzip_bytes(b"hello" * 100) == gzip_bytes(b"hello" * 100)


def test_from_blob_keeps_the_blob_bytes():
    original = Layer.from_entries(sample_entries())
    again = Layer.from_blob(original.blob)
    assert again.digest == original.digest and again.diff_id == original.diff_id
    assert dict(again.entries) == dict(original.entries)


def test_from_blob_rejects_data_that_is_not_gzip():
    with pytest.raises(LayerError, match="not a gzip"):
        Layer.from_blob(b"this is not gzip")


def test_layers_compare_by_diff_id():
    assert Layer.from_entries(sample_entries()) == Layer.from_entries(sample_entries())
    assert Layer.from_entries({}) != Layer.from_entries(sample_entries())


def test_layer_is_immutable():
    layer = Layer.from_entries({})
    with pytest.raises(AttributeError):
        layer.entries = {}  # type: ignore[misc]
    with pytest.raises(TypeError):
        layer.entries["/x"] = Entry.file(b"")  # type: ignore[index]


def test_content_size_counts_file_bytes_only():
    layer = Layer.from_entries({"/d": Entry.directory(), "/d/f": Entry.file(b"12345"), "/l": Entry.symlink("d")})
    assert layer.content_size == 5


def test_bytes_are_computed_once():
    layer = Layer.from_entries(sample_entries())
    assert layer.tar is layer.tar and layer.blob is layer.blob


@pytest.mark.parametrize("name", ["/etc/passwd", "../etc/passwd", "a/../../b"])
def test_layer_from_tar_rejects_absolute_and_parent_paths(name):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo(name)
        info.size = 1
        tf.addfile(info, io.BytesIO(b"x"))
    with pytest.raises(LayerError) as exc:
        layer_from_tar(buf.getvalue())
    assert name in str(exc.value)
    assert isinstance(exc.value, InvalidInput)


def test_layer_from_tar_accepts_dot_slash_prefixes():
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tf:
        info = tarfile.TarInfo("./app/x")
        info.size = 2
        tf.addfile(info, io.BytesIO(b"hi"))
    assert layer_from_tar(buf.getvalue())["/app/x"].data == b"hi"


def test_layer_from_tar_rejects_garbage():
    with pytest.raises(LayerError):
        layer_from_tar(b"\x01" * 700)


def test_filesystem_diff_makes_a_layer():
    base = {"/etc": Entry.directory(), "/etc/motd": Entry.file(b"hello\n")}
    fs = FileSystem([base])
    fs.remove("/etc/motd")
    fs.write("/etc/new", b"new\n")
    layer = Layer.from_entries(fs.diff())
    names = [m.name for m in members(layer.tar)]
    assert names == ["etc/.wh.motd", "etc/new"]


def test_chain_ids_against_a_hand_computed_value():
    d0 = "sha256:" + "1" * 64
    d1 = "sha256:" + "2" * 64
    d2 = "sha256:" + "3" * 64
    c1 = "sha256:" + hashlib.sha256(f"{d0} {d1}".encode()).hexdigest()
    c2 = "sha256:" + hashlib.sha256(f"{c1} {d2}".encode()).hexdigest()
    assert chain_ids([d0, d1, d2]) == [d0, c1, c2]
    assert chain_ids([]) == []


def test_sha256_digest_format():
    assert sha256_digest(b"abc") == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


# -- property: a tar round-trips ------------------------------------------------------
_name = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1, max_size=8).filter(
    lambda s: s not in (".", "..") and not s.startswith(".wh."))


@st.composite
def trees(draw) -> dict[str, Entry]:
    entries: dict[str, Entry] = {}
    dirs = ["/"]
    for _ in range(draw(st.integers(0, 12))):
        parent = draw(st.sampled_from(dirs))
        path = (parent.rstrip("/") + "/" + draw(_name))
        if path in entries:
            continue
        kind = draw(st.sampled_from(["file", "dir", "symlink", "whiteout", "opaque"]))
        uid = draw(st.integers(0, 70000))
        if kind == "file":
            entries[path] = Entry.file(draw(st.binary(max_size=700)), mode=draw(st.integers(0, 0o7777)),
                                       uid=uid, gid=draw(st.integers(0, 70000)))
        elif kind in ("dir", "opaque"):
            entries[path] = Entry.directory(mode=draw(st.integers(0, 0o7777)), uid=uid, gid=uid,
                                            opaque=kind == "opaque")
            dirs.append(path)
        elif kind == "symlink":
            entries[path] = Entry("symlink", b"", 0o777, uid, uid, target=draw(_name))
        else:
            entries[path] = Entry.whiteout()
    return entries


@settings(max_examples=60, deadline=None)
@given(trees())
def test_layer_from_tar_inverts_layer_tar(tree):
    assert layer_from_tar(layer_tar(tree)) == tree


@settings(max_examples=30, deadline=None)
@given(trees())
def test_layer_round_trip_through_blob_keeps_digests(tree):
    layer = Layer.from_entries(tree)
    again = Layer.from_blob(layer.blob)
    assert (again.diff_id, again.digest) == (layer.diff_id, layer.digest)
