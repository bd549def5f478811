"""The overlay filesystem: copy-on-write, whiteouts, opaque dirs, mounts, symlinks."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aivle_k8s.linux.fs import Entry, FileSystem, join, normpath
from aivle_k8s.sim.errors import FsError


def base():
    return {
        "/etc": Entry.directory(),
        "/etc/motd": Entry.file(b"hello\n"),
        "/etc/conf.d": Entry.directory(),
        "/etc/conf.d/a.conf": Entry.file(b"a=1\n"),
        "/bin": Entry.symlink("usr/bin"),
        "/usr": Entry.directory(),
        "/usr/bin": Entry.directory(),
        "/usr/bin/tool": Entry.file(b"x", 0o755),
    }


def test_reads_fall_through_to_lower_layers():
    fs = FileSystem([base()])
    assert fs.read("/etc/motd") == b"hello\n"
    assert fs.listdir("/etc") == ["conf.d", "motd"]


def test_upper_layer_wins_and_lower_layer_is_untouched():
    lower = base()
    fs = FileSystem([lower])
    fs.write("/etc/motd", "bye\n")
    assert fs.read("/etc/motd") == b"bye\n"
    assert lower["/etc/motd"].data == b"hello\n"
    assert list(fs.diff()) == ["/etc/motd"]


def test_higher_lower_layer_shadows_lower_one():
    top = {"/etc": Entry.directory(), "/etc/motd": Entry.file(b"top\n")}
    fs = FileSystem([base(), top])
    assert fs.read("/etc/motd") == b"top\n"


def test_deleting_a_lower_file_leaves_a_whiteout():
    fs = FileSystem([base()])
    fs.remove("/etc/motd")
    assert not fs.exists("/etc/motd")
    assert fs.diff()["/etc/motd"].kind == "whiteout"
    assert fs.listdir("/etc") == ["conf.d"]


def test_deleting_an_upper_only_file_leaves_no_trace():
    fs = FileSystem([base()])
    fs.write("/etc/new", "n")
    fs.remove("/etc/new")
    assert fs.diff() == {}


def test_recreated_directory_is_opaque_and_hides_old_children():
    fs = FileSystem([base()])
    fs.remove("/etc/conf.d", recursive=True)
    fs.mkdir("/etc/conf.d")
    assert fs.listdir("/etc/conf.d") == []
    assert fs.diff()["/etc/conf.d"].opaque
    assert not fs.exists("/etc/conf.d/a.conf")


def test_removing_a_non_empty_dir_needs_recursive():
    fs = FileSystem([base()])
    with pytest.raises(FsError) as err:
        fs.remove("/etc")
    assert err.value.errno == "ENOTEMPTY"
    assert fs.exists("/etc/motd")


def test_symlinks_are_followed_in_paths():
    fs = FileSystem([base()])
    assert fs.read("/bin/tool") == b"x"
    assert fs.resolve("/bin/tool") == "/usr/bin/tool"
    assert fs.stat("/bin", follow=False).kind == "symlink"


def test_symlink_loops_are_reported():
    fs = FileSystem([{"/a": Entry.symlink("/b"), "/b": Entry.symlink("/a")}])
    with pytest.raises(FsError) as err:
        fs.read("/a")
    assert err.value.errno == "ELOOP"


def test_writing_needs_an_existing_parent_directory():
    fs = FileSystem([base()])
    with pytest.raises(FsError) as err:
        fs.write("/nope/file", "x")
    assert err.value.errno == "ENOENT"
    assert fs.diff() == {}


def test_mkdir_parents_and_exist_errors():
    fs = FileSystem()
    fs.mkdir("/a/b/c", parents=True)
    assert fs.is_dir("/a/b")
    with pytest.raises(FsError):
        fs.mkdir("/a")
    fs.mkdir("/a", exist_ok=True)


def test_reading_a_directory_is_an_error():
    fs = FileSystem([base()])
    with pytest.raises(FsError) as err:
        fs.read("/etc")
    assert err.value.errno == "EISDIR"


def test_mounts_are_seen_through_but_not_part_of_the_diff():
    volume = FileSystem()
    fs = FileSystem([base()])
    fs.mount("/data", volume)
    fs.write("/data/db.txt", "kept")
    assert volume.read("/db.txt") == b"kept"
    assert "/data/db.txt" not in fs.diff()
    assert "data" in fs.listdir("/")


def test_bind_mount_of_a_subdirectory():
    host = FileSystem([base()])
    container = FileSystem()
    container.mount("/config", host, source="/etc/conf.d")
    assert container.read("/config/a.conf") == b"a=1\n"
    container.write("/config/b.conf", "b")
    assert host.read("/etc/conf.d/b.conf") == b"b"


def test_mount_point_cannot_be_removed():
    fs = FileSystem()
    fs.mount("/data", FileSystem())
    with pytest.raises(FsError) as err:
        fs.remove("/data", recursive=True)
    assert err.value.errno == "EBUSY"


def test_rename_moves_a_tree():
    fs = FileSystem([base()])
    fs.rename("/etc/conf.d", "/etc/conf.old")
    assert fs.read("/etc/conf.old/a.conf") == b"a=1\n"
    assert not fs.exists("/etc/conf.d")


def test_copy_from_another_filesystem():
    src = FileSystem([base()])
    dst = FileSystem()
    assert dst.copy_from(src, "/etc", "/backup/etc") == 2
    assert dst.read("/backup/etc/conf.d/a.conf") == b"a=1\n"


def test_flatten_and_usage():
    fs = FileSystem([base()])
    fs.write("/etc/big", b"0" * 100)
    flat = fs.flatten()
    assert "/etc/big" in flat and "/etc/motd" in flat
    assert fs.usage() == 100 + len(b"hello\n") + len(b"a=1\n") + 1


def test_dev_null_swallows_writes():
    fs = FileSystem()
    fs.write("/dev/null", "gone")
    assert fs.read("/dev/null") == b"" and fs.diff() == {}


def test_chmod_copies_up_metadata():
    fs = FileSystem([base()])
    fs.chmod("/etc/motd", 0o600)
    assert fs.stat("/etc/motd").mode == 0o600
    assert fs.read("/etc/motd") == b"hello\n"


def test_path_helpers():
    assert normpath("//a/./b/../c/") == "/a/c"
    assert join("/home/student", "app") == "/home/student/app"
    assert join("/x", "/etc") == "/etc"


names = st.sampled_from(["a", "b", "c", "d"])
paths = st.lists(names, min_size=1, max_size=3).map(lambda parts: "/" + "/".join(parts))
ops = st.lists(st.tuples(st.sampled_from(["write", "mkdir", "remove"]), paths), max_size=25)


@settings(max_examples=200, deadline=None)
@given(ops)
def test_overlay_matches_a_flattened_copy(operations):
    """Applying the same operations to an overlay and to a flat copy gives the same view,
    and applying the overlay's diff on top of the lower layer reproduces it."""
    lower = {"/a": Entry.directory(), "/a/b": Entry.file(b"1"), "/c": Entry.directory(), "/c/d": Entry.directory()}
    overlay = FileSystem([lower])
    flat = FileSystem([], dict(lower))
    for op, path in operations:
        for fs in (overlay, flat):
            try:
                if op == "write":
                    fs.write(path, path)
                elif op == "mkdir":
                    fs.mkdir(path)
                else:
                    fs.remove(path, recursive=True)
            except FsError:
                pass
    assert overlay.flatten() == flat.flatten()
    restacked = FileSystem([lower, overlay.diff()])
    assert restacked.flatten() == flat.flatten()
