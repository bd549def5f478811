"""Root filesystems of the distributions images and machines are made of."""

import pytest

from aivle_k8s.linux import distro
from aivle_k8s.linux.distro import (
    BUSYBOX_APPLETS,
    alpine_layer,
    busybox_layer,
    debian_layer,
    make_layer,
    os_release,
    ubuntu_image_layer,
    ubuntu_layer,
)
from aivle_k8s.linux.fs import Entry, FileSystem
from aivle_k8s.linux.kernel import PROGRAM_MAGIC, Kernel, Namespaces, PidNamespace, Stream
from aivle_k8s.sim.clock import Loop
from aivle_k8s.sim.errors import InvalidInput

BUILDERS = [(debian_layer, "bookworm"), (ubuntu_image_layer, "22.04"), (ubuntu_image_layer, "24.04"),
            (alpine_layer, "3.19"), (alpine_layer, "3.20"), (busybox_layer, "1.36")]


def fields(layer):
    return os_release(FileSystem([layer]).read_text("/etc/os-release"))


def program_of(fs, path):
    data = fs.read(path)
    assert data.startswith(PROGRAM_MAGIC)
    return data[len(PROGRAM_MAGIC):].split(b"\n", 1)[0].decode()


def run(layer, argv):
    loop = Loop()
    kernel = Kernel(loop)
    ns = Namespaces(FileSystem([layer]), "c", PidNamespace(kernel.host_pidns, "c"))
    out, err = Stream(), Stream()
    p = kernel.spawn(argv, ns=ns, stdout=out, stderr=err, env={"PATH": "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"})
    loop.run_until(lambda: not p.alive)
    return p.exit_code, out.text(), err.text()


# -- every image base ---------------------------------------------------------------------------
@pytest.mark.parametrize("builder,version", BUILDERS)
def test_image_roots_have_no_hostname_file(builder, version):
    assert "/etc/hostname" not in builder(version)


@pytest.mark.parametrize("builder,version", BUILDERS)
def test_image_roots_stay_small(builder, version):
    assert sum(e.size for e in builder(version).values()) < 200_000


@pytest.mark.parametrize("builder,version", BUILDERS)
def test_image_roots_have_a_root_user(builder, version):
    fs = FileSystem([builder(version)])
    assert fs.read_text("/etc/passwd").startswith("root:x:0:0:root:/root:")
    assert fs.read_text("/etc/group").startswith("root:x:0:")


@pytest.mark.parametrize("builder,version", BUILDERS)
def test_builders_are_deterministic_and_return_fresh_dicts(builder, version):
    a, b = builder(version), builder(version)
    assert a == b and a is not b
    a["/scratch"] = Entry.file(b"x")
    assert "/scratch" not in builder(version)


@pytest.mark.parametrize("builder", [debian_layer, ubuntu_image_layer, alpine_layer, busybox_layer])
def test_unknown_release_is_rejected(builder):
    with pytest.raises(InvalidInput, match="unknown"):
        builder("1.0")


# -- Debian -------------------------------------------------------------------------------------
def test_debian_is_debian_12():
    f = fields(debian_layer())
    assert (f["ID"], f["VERSION_ID"], f["VERSION_CODENAME"]) == ("debian", "12", "bookworm")


def test_debian_os_release_is_a_symlink_into_usr_lib():
    assert debian_layer()["/etc/os-release"] == Entry.symlink("../usr/lib/os-release")


def test_debian_sh_is_dash():
    fs = FileSystem([debian_layer()])
    assert fs.stat("/bin/sh", follow=False).kind == "symlink"  # /bin -> usr/bin
    assert fs.resolve("/bin/sh") == "/usr/bin/dash" and program_of(fs, "/bin/sh") == "sh"


def test_debian_has_apt_and_bash_but_no_procps_or_curl():
    fs = FileSystem([debian_layer()])
    assert all(fs.is_file(f"/usr/bin/{p}") for p in ("apt-get", "apt", "dpkg", "bash", "ls"))
    assert not fs.exists("/usr/bin/ps") and not fs.exists("/usr/bin/curl")


def test_debian_dpkg_status_lists_base_packages():
    status = FileSystem([debian_layer()]).read_text("/var/lib/dpkg/status")
    assert "Package: bash\nStatus: install ok installed\n" in status
    assert "Package: procps" not in status


def test_debian_sources_are_deb822_and_lists_are_empty():
    fs = FileSystem([debian_layer()])
    assert "URIs: http://deb.debian.org/debian" in fs.read_text("/etc/apt/sources.list.d/debian.sources")
    assert fs.listdir("/var/lib/apt/lists") == ["partial"]


def test_debian_shell_runs():
    assert run(debian_layer(), ["sh", "-c", "echo $((1+1))"]) == (0, "2\n", "")


# -- Ubuntu images --------------------------------------------------------------------------------
def test_ubuntu_image_has_no_sudo_or_systemd():
    layer = ubuntu_image_layer("22.04")
    assert not any(p.endswith(("/sudo", "/systemctl")) for p in layer)
    assert fields(layer)["PRETTY_NAME"] == "Ubuntu 22.04.4 LTS"


def test_ubuntu_image_has_procps():
    assert "/usr/bin/ps" in ubuntu_image_layer("22.04")


def test_ubuntu_22_04_sources_list_is_jammy():
    text = FileSystem([ubuntu_image_layer("22.04")]).read_text("/etc/apt/sources.list")
    assert "deb http://archive.ubuntu.com/ubuntu/ jammy main restricted\n" in text


def test_ubuntu_24_04_has_an_ubuntu_user_and_deb822_sources():
    fs = FileSystem([ubuntu_image_layer("24.04")])
    assert "ubuntu:x:1000:1000:Ubuntu:/home/ubuntu:/bin/bash" in fs.read_text("/etc/passwd")
    assert "Suites: noble noble-updates noble-backports" in fs.read_text("/etc/apt/sources.list.d/ubuntu.sources")
    assert fields(ubuntu_image_layer("24.04"))["VERSION_CODENAME"] == "noble"


# -- Alpine and BusyBox ---------------------------------------------------------------------------
def test_alpine_is_alpine():
    f = fields(alpine_layer("3.19"))
    assert (f["ID"], f["VERSION_ID"]) == ("alpine", "3.19.1")


def test_alpine_applets_are_symlinks_to_busybox():
    layer = alpine_layer()
    assert layer["/bin/sh"] == Entry.symlink("/bin/busybox")
    assert layer["/usr/bin/wget"] == Entry.symlink("/bin/busybox")
    assert program_of(FileSystem([layer]), "/bin/busybox") == "busybox"


def test_alpine_has_apk_and_its_database():
    fs = FileSystem([alpine_layer("3.20")])
    assert program_of(fs, "/sbin/apk") == "apk"
    db = fs.read_text("/lib/apk/db/installed")
    assert sum(1 for line in db.splitlines() if line.startswith("P:")) == 15
    assert "https://dl-cdn.alpinelinux.org/alpine/v3.20/main" in fs.read_text("/etc/apk/repositories")


def test_alpine_has_no_bash():
    assert not FileSystem([alpine_layer()]).exists("/bin/bash")


def test_alpine_sh_runs_through_busybox():
    assert run(alpine_layer(), ["/bin/sh", "-c", "echo hi"]) == (0, "hi\n", "")


def test_busybox_applets_are_copies_of_the_binary():
    layer = busybox_layer()
    assert all(layer[f"/bin/{a}"].data == layer["/bin/busybox"].data for a in BUSYBOX_APPLETS)
    assert "/etc/os-release" not in layer and "/sbin/apk" not in layer


def test_busybox_image_runs_commands():
    assert run(busybox_layer(), ["sh", "-c", "echo hello | wc -c"])[1].strip() == "6"


# -- the machine --------------------------------------------------------------------------------
def test_machine_layer_keeps_its_shape():
    layer = ubuntu_layer("node1")
    assert layer["/etc/hostname"].data == b"node1\n"
    assert layer["/bin"] == Entry.symlink("usr/bin")
    assert layer["/home/student"].uid == 1000


def test_machine_has_sudo_and_apt_and_package_lists():
    fs = FileSystem([ubuntu_layer()])
    assert fs.is_file("/usr/bin/sudo") and fs.is_file("/usr/bin/apt-get")
    assert "Package: curl\nStatus: install ok installed" in fs.read_text("/var/lib/dpkg/status")
    assert fs.is_file("/var/lib/apt/lists/archive.ubuntu.com_ubuntu_dists_jammy_universe_binary-amd64_Packages")


def test_make_layer_adds_parent_directories():
    layer = make_layer({"/a/b/c.txt": "x"}, programs={"/usr/bin/tool": "tool"})
    assert layer["/a"].is_dir and layer["/a/b"].is_dir and layer["/usr/bin/tool"].executable
