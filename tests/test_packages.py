"""Package repositories and the package managers: apt, dpkg, apk, pip."""

import pytest
from hypothesis import given, strategies as st

import aivle_k8s as ak
from aivle_k8s.linux import distro, packages
from aivle_k8s.linux.fs import FileSystem
from aivle_k8s.linux.kernel import Kernel, Namespaces, PidNamespace, Stream
from aivle_k8s.linux.packages import (
    CRI_DOCKERD_URL,
    compare_versions,
    deb_file,
    downloads,
    find_package,
    index,
    publish_downloads,
)
from aivle_k8s.registry import catalog
from aivle_k8s.sim.clock import Loop

K8S_LIST = ("echo 'deb [signed-by=/etc/apt/keyrings/kubernetes-apt-keyring.gpg] "
            "https://pkgs.k8s.io/core:/stable:/v1.30/deb/ /' | sudo tee /etc/apt/sources.list.d/kubernetes.list")
K8S_KEY = ("curl -fsSL https://pkgs.k8s.io/core:/stable:/v1.30/deb/Release.key "
           "| sudo gpg --dearmor -o /etc/apt/keyrings/kubernetes-apt-keyring.gpg")


@pytest.fixture
def m():
    world = ak.World(seed=0)
    publish_downloads(world)
    return world.machine("m")


def k8s_repo(m, key=True):
    if key:
        assert m.sh(K8S_KEY).exit_code == 0
    assert m.sh(K8S_LIST).exit_code == 0
    return m.sh("sudo apt-get update")


def dpkg_version(m, name):
    out = m.sh(f"dpkg -s {name}").stdout
    return next((line.split(": ", 1)[1] for line in out.splitlines() if line.startswith("Version: ")), None)


# -- the index ----------------------------------------------------------------------------------
def test_versions_compare_like_dpkg():
    assert compare_versions("1.30.10-1.1", "1.30.9-1.1") > 0
    assert compare_versions("1:1.0", "9.9") > 0
    assert compare_versions("1.0~rc1", "1.0") < 0
    assert compare_versions("24.0.7-0ubuntu2~22.04.1", "24.0.7-0ubuntu2~22.04.1") == 0


@given(st.from_regex(r"[0-9]{1,3}(\.[0-9a-z~+]{1,4}){0,3}(-[0-9a-z.~+]{1,5})?", fullmatch=True),
       st.from_regex(r"[0-9]{1,3}(\.[0-9a-z~+]{1,4}){0,3}(-[0-9a-z.~+]{1,5})?", fullmatch=True))
def test_version_comparison_is_antisymmetric(a, b):
    x, y = compare_versions(a, b), compare_versions(b, a)
    assert (x > 0) == (y < 0) and (x == 0) == (y == 0)


def test_each_kubernetes_repository_has_only_its_minor():
    versions = {p.version for p in index()["k8s/v1.30"] if p.name == "kubeadm"}
    assert "1.30.2-1.1" in versions and all(v.startswith("1.30.") for v in versions)


def test_docker_io_depends_on_containerd_and_runc():
    pkg = find_package("docker.io", "ubuntu/jammy")
    assert pkg.version.startswith("24.0.") and {"containerd", "runc"} <= set(pkg.depends)
    assert "/usr/bin/dockerd" in pkg.files and "/lib/systemd/system/docker.service" in pkg.files


def test_ubuntu_containerd_ships_no_config():
    pkg = find_package("containerd", "ubuntu/jammy")
    assert pkg.version.startswith("1.7.") and not any(p.startswith("/etc/containerd") for p in pkg.files)


def test_containerd_io_ships_a_config_that_disables_cri():
    pkg = find_package("containerd.io", "docker/ubuntu/jammy")
    assert b'disabled_plugins = ["cri"]' in pkg.files["/etc/containerd/config.toml"].data


def test_downloads_include_keys_and_the_cri_dockerd_deb():
    files = downloads()
    assert files[CRI_DOCKERD_URL].startswith(b"!<arch>\n")
    assert files["https://download.docker.com/linux/ubuntu/gpg"].startswith(b"-----BEGIN PGP PUBLIC KEY BLOCK-----")
    assert "https://pkgs.k8s.io/core:/stable:/v1.31/deb/Release.key" in files


# -- apt-get on a machine -------------------------------------------------------------------------
def test_apt_get_install_needs_root(m):
    r = m.sh("apt-get install -y curl")
    assert r.exit_code == 100
    assert r.stderr == ("E: Could not open lock file /var/lib/dpkg/lock-frontend - open (13: Permission denied)\n"
                        "E: Unable to acquire the dpkg frontend lock (/var/lib/dpkg/lock-frontend), are you root?\n")


def test_apt_get_update_needs_root(m):
    r = m.sh("apt-get update")
    assert r.exit_code == 100
    assert "E: Could not open lock file /var/lib/apt/lists/lock - open (13: Permission denied)\n" in r.stderr
    assert "E: Unable to lock directory /var/lib/apt/lists/\n" in r.stderr


def test_curl_is_already_installed_on_a_machine(m):
    r = m.sh("sudo apt-get install -y curl")
    assert r.exit_code == 0
    assert "curl is already the newest version (7.81.0-1ubuntu1.16).\n" in r.stdout


def test_apt_get_install_docker_io(m):
    r = m.sh("sudo apt-get install -y docker.io")
    assert r.exit_code == 0, r.output
    assert r.stdout.startswith("Reading package lists... Done\nBuilding dependency tree... Done\n")
    assert "The following NEW packages will be installed:\n" in r.stdout
    assert "Setting up docker.io (24.0.7-0ubuntu2~22.04.1) ..." in r.stdout
    assert m.fs.is_file("/usr/bin/dockerd") and m.fs.is_file("/lib/systemd/system/docker.service")
    assert m.packages["docker.io"] == "24.0.7-0ubuntu2~22.04.1"  # the machine's package hook ran
    assert {"docker", "containerd"} <= set(m.services.units)
    assert "docker:x:" in m.read_file("/etc/group")


def test_apt_get_install_takes_simulated_time(m):
    before = m.world.now
    m.sh("sudo apt-get install -y docker.io")
    assert m.world.now - before > 5


def test_apt_get_install_unknown_package(m):
    r = m.sh("sudo apt-get install -y kubeadm")
    assert r.exit_code == 100 and r.stderr == "E: Unable to locate package kubeadm\n"


def test_apt_get_install_without_y_aborts_with_no_answer(m):
    r = m.sh("sudo apt-get install docker.io")
    assert r.exit_code == 1
    assert r.stdout.endswith("Do you want to continue? [Y/n] Abort.\n")
    assert not m.fs.exists("/usr/bin/dockerd")


def test_apt_get_install_without_y_continues_on_yes(m):
    r = m.sh("sudo apt-get install docker.io", stdin="y\n")
    assert r.exit_code == 0 and m.fs.exists("/usr/bin/dockerd")


def test_apt_get_install_of_one_package_does_not_prompt(m):
    r = m.sh("sudo apt-get install nano")
    assert r.exit_code == 0 and "Do you want to continue" not in r.stdout


def test_k8s_repository_without_its_key_is_not_signed(m):
    r = k8s_repo(m, key=False)
    assert r.exit_code == 100
    assert "NO_PUBKEY 234654DA9A296436" in r.stderr
    assert "E: The repository 'https://pkgs.k8s.io/core:/stable:/v1.30/deb  InRelease' is not signed.\n" in r.stderr


def test_k8s_repository_line_without_suite_is_malformed(m):
    m.sh("echo 'deb https://pkgs.k8s.io/core:/stable:/v1.30/deb/' | sudo tee /etc/apt/sources.list.d/kubernetes.list")
    r = m.sh("sudo apt-get update")
    assert r.exit_code == 100
    assert r.stderr == ("E: Malformed entry 1 in list file /etc/apt/sources.list.d/kubernetes.list (Suite)\n"
                        "E: The list of sources could not be read.\n")


def test_legacy_kubernetes_repository_has_no_release_file(m):
    m.sh("echo 'deb https://apt.kubernetes.io/ kubernetes-xenial main' | sudo tee /etc/apt/sources.list.d/k.list")
    r = m.sh("sudo apt-get update")
    assert r.exit_code == 100
    assert "E: The repository 'https://apt.kubernetes.io kubernetes-xenial Release' does not have a Release file." in r.stderr


def test_k8s_repository_update_then_install(m):
    r = k8s_repo(m)
    assert r.exit_code == 0, r.output
    assert "Get:3 https://pkgs.k8s.io/core:/stable:/v1.30/deb  Packages" in r.stdout
    r = m.sh("sudo apt-get install -y kubelet kubeadm kubectl")
    assert r.exit_code == 0, r.output
    assert "The following additional packages will be installed:\n  conntrack cri-tools ebtables kubernetes-cni socat\n" in r.stdout
    assert dpkg_version(m, "kubeadm") == "1.30.8-1.1"
    assert m.fs.is_file("/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf")
    assert "kubelet" in m.services.units


def test_apt_get_install_a_pinned_version(m):
    k8s_repo(m)
    r = m.sh("sudo apt-get install -y kubeadm=1.30.2-1.1")
    assert r.exit_code == 0 and dpkg_version(m, "kubeadm") == "1.30.2-1.1"


def test_apt_get_install_an_unknown_version(m):
    k8s_repo(m)
    r = m.sh("sudo apt-get install -y kubelet=1.99")
    assert r.exit_code == 100 and r.stderr == "E: Version '1.99' for 'kubelet' was not found\n"


def test_only_the_configured_minor_is_visible(m):
    k8s_repo(m)
    r = m.sh("sudo apt-get install -y kubeadm=1.31.1-1.1")
    assert r.stderr == "E: Version '1.31.1-1.1' for 'kubeadm' was not found\n"


def test_apt_mark_hold_and_showhold(m):
    k8s_repo(m)
    m.sh("sudo apt-get install -y kubelet=1.30.2-1.1 kubeadm=1.30.2-1.1 kubectl=1.30.2-1.1")
    r = m.sh("sudo apt-mark hold kubelet kubeadm kubectl")
    assert r.stdout == "kubelet set on hold.\nkubeadm set on hold.\nkubectl set on hold.\n"
    assert m.sh("apt-mark showhold").stdout == "kubeadm\nkubectl\nkubelet\n"
    assert m.sh("sudo apt-mark unhold kubectl").stdout == "Canceled hold on kubectl.\n"


def test_apt_mark_hold_needs_root(m):
    r = m.sh("apt-mark hold curl")
    assert r.exit_code == 100 and "dpkg: error: requested operation requires superuser privilege" in r.stderr


def test_upgrade_keeps_held_packages_back(m):
    k8s_repo(m)
    m.sh("sudo apt-get install -y kubelet=1.30.2-1.1")
    m.sh("sudo apt-mark hold kubelet")
    r = m.sh("sudo apt-get upgrade -y")
    assert "The following packages have been kept back:\n  kubelet\n" in r.stdout
    assert dpkg_version(m, "kubelet") == "1.30.2-1.1"


def test_installing_a_held_package_needs_allow_change_held(m):
    k8s_repo(m)
    m.sh("sudo apt-get install -y kubelet=1.30.2-1.1")
    m.sh("sudo apt-mark hold kubelet")
    r = m.sh("sudo apt-get install -y kubelet")
    assert r.exit_code == 100
    assert r.stderr == "E: Held packages were changed and -y was used without --allow-change-held-packages.\n"
    assert m.sh("sudo apt-get install -y --allow-change-held-packages kubelet").exit_code == 0
    assert dpkg_version(m, "kubelet") == "1.30.8-1.1"


def test_dpkg_l_shows_held_packages_as_hi(m):
    k8s_repo(m)
    m.sh("sudo apt-get install -y kubectl")
    m.sh("sudo apt-mark hold kubectl")
    out = m.sh("dpkg -l kubectl").stdout
    assert out.splitlines()[0] == "Desired=Unknown/Install/Remove/Purge/Hold"
    assert out.splitlines()[-1].startswith("hi  kubectl ")


def test_dpkg_l_without_match(m):
    r = m.sh("dpkg -l nosuchpkg")
    assert (r.exit_code, r.stderr) == (1, "dpkg-query: no packages found matching nosuchpkg\n")


def test_dpkg_print_architecture(m):
    assert m.sh("dpkg --print-architecture").stdout == "amd64\n"


def test_apt_cache_policy_shows_installed_and_candidate(m):
    k8s_repo(m)
    m.sh("sudo apt-get install -y kubeadm=1.30.2-1.1")
    out = m.sh("apt-cache policy kubeadm").stdout
    assert out.startswith("kubeadm:\n  Installed: 1.30.2-1.1\n  Candidate: 1.30.8-1.1\n  Version table:\n")
    assert " *** 1.30.2-1.1 500\n        500 https://pkgs.k8s.io/core:/stable:/v1.30/deb  Packages\n" \
           "        100 /var/lib/dpkg/status\n" in out


def test_apt_cache_madison_lists_versions(m):
    k8s_repo(m)
    lines = m.sh("apt-cache madison kubectl").stdout.splitlines()
    assert lines[0] == "   kubectl | 1.30.8-1.1 | https://pkgs.k8s.io/core:/stable:/v1.30/deb  Packages"
    assert len(lines) == 9


def test_apt_warns_that_its_cli_is_unstable(m):
    r = m.sh("apt list --installed curl")
    assert "WARNING: apt does not have a stable CLI interface. Use with caution in scripts." in r.stderr
    assert "curl/jammy,now 7.81.0-1ubuntu1.16 amd64 [installed]" in r.stdout


def test_docker_ce_needs_the_docker_repository(m):
    assert m.sh("sudo apt-get install -y docker-ce").stderr == "E: Unable to locate package docker-ce\n"
    m.sh("sudo install -m 0755 -d /etc/apt/keyrings")
    m.sh("sudo curl -fsSL https://download.docker.com/linux/ubuntu/gpg -o /etc/apt/keyrings/docker.asc")
    m.sh('echo "deb [arch=$(dpkg --print-architecture) signed-by=/etc/apt/keyrings/docker.asc] '
         'https://download.docker.com/linux/ubuntu jammy stable" | sudo tee /etc/apt/sources.list.d/docker.list')
    assert m.sh("sudo apt-get update").exit_code == 0
    r = m.sh("sudo apt-get install -y docker-ce docker-ce-cli containerd.io docker-buildx-plugin docker-compose-plugin")
    assert r.exit_code == 0, r.output
    assert dpkg_version(m, "docker-ce") == "5:27.1.1-1~ubuntu.22.04~jammy"


def test_docker_ce_replaces_docker_io(m):
    m.sh("sudo apt-get install -y docker.io")
    m.sh("sudo curl -fsSL https://download.docker.com/linux/ubuntu/gpg -o /etc/apt/keyrings/docker.asc")
    m.sh("echo 'deb [signed-by=/etc/apt/keyrings/docker.asc] https://download.docker.com/linux/ubuntu jammy stable' "
         "| sudo tee /etc/apt/sources.list.d/docker.list")
    m.sh("sudo apt-get update")
    r = m.sh("sudo apt-get install -y docker-ce")
    assert "The following packages will be REMOVED:\n" in r.stdout and "docker.io" in r.stdout
    assert dpkg_version(m, "docker.io") is None


def test_remove_keeps_config_files_and_purge_removes_them(m):
    m.sh("sudo apt-get install -y nginx")
    m.sh("sudo apt-get remove -y nginx")
    assert m.sh("dpkg -l nginx").stdout.splitlines()[-1].startswith("rc  nginx")
    assert m.fs.exists("/etc/nginx/nginx.conf") and not m.fs.exists("/usr/sbin/nginx")
    r = m.sh("sudo apt-get purge -y nginx")
    assert "Purging configuration files for nginx" in r.stdout
    assert not m.fs.exists("/etc/nginx/nginx.conf")


def test_remove_unknown_package(m):
    r = m.sh("sudo apt-get remove -y nosuch")
    assert (r.exit_code, r.stderr) == (100, "E: Unable to locate package nosuch\n")


def test_autoremove_removes_what_was_pulled_in(m):
    m.sh("sudo apt-get install -y docker.io")
    r = m.sh("sudo apt-get remove -y docker.io")
    assert "The following packages were automatically installed and are no longer required:\n" in r.stdout
    r = m.sh("sudo apt-get autoremove -y")
    assert "Removing containerd" in r.stdout and dpkg_version(m, "runc") is None


def test_installed_package_with_a_unit_is_started_on_the_machine(m):
    m.sh("sudo apt-get install -y nginx")
    assert m.services.is_active("nginx")
    assert "Welcome to nginx!" in m.sh("curl -s localhost").stdout


def test_dpkg_i_installs_a_downloaded_deb(m):
    assert m.sh(f"curl -fsSLO {CRI_DOCKERD_URL}").exit_code == 0
    r = m.sh("sudo dpkg -i cri-dockerd_0.3.14.3-0.ubuntu-jammy_amd64.deb")
    assert r.exit_code == 0, r.output
    assert "Setting up cri-dockerd (0.3.14~3-0~ubuntu-jammy) ..." in r.stdout
    assert m.fs.is_file("/usr/bin/cri-dockerd") and "cri-docker" in m.services.units
    assert dpkg_version(m, "cri-dockerd") == "0.3.14~3-0~ubuntu-jammy"


def test_dpkg_i_needs_root(m):
    r = m.sh("dpkg -i x.deb")
    assert (r.exit_code, r.stderr) == (2, "dpkg: error: requested operation requires superuser privilege\n")


def test_dpkg_i_missing_file(m):
    r = m.sh("sudo dpkg -i nothere.deb")
    assert r.stderr == "dpkg: error: cannot access archive 'nothere.deb': No such file or directory\n"


def test_dpkg_i_rejects_a_file_that_is_not_a_deb(m):
    m.write_file("/home/student/page.deb", "<html>404 Not Found</html>\n")
    r = m.sh("sudo dpkg -i page.deb")
    assert r.exit_code == 1
    assert r.stderr.startswith("dpkg-deb: error: 'page.deb' is not a Debian format archive\n")


# -- apt in a container (image layers) ---------------------------------------------------------------
class Box:
    """A container-like namespace over an image's layers (no machine: no units, no hooks)."""

    def __init__(self, layers):
        self.loop = Loop()
        self.kernel = Kernel(self.loop)
        self.fs = FileSystem(list(layers))
        self.ns = Namespaces(self.fs, "box", PidNamespace(self.kernel.host_pidns, "box"), name="box")

    def sh(self, command, stdin=b""):
        out, err = Stream(), Stream()
        p = self.kernel.spawn(["sh", "-c", command], ns=self.ns, stdout=out, stderr=err, stdin=stdin,
                              env={"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"})
        self.loop.run_until(lambda: not p.alive, timeout=3600)
        return p.exit_code, out.text(), err.text()


def test_debian_image_has_no_package_lists():
    code, _, err = Box([distro.debian_layer()]).sh("apt-get install -y curl")
    assert (code, err) == (100, "E: Unable to locate package curl\n")


def test_apt_get_update_in_a_debian_image():
    code, out, _ = Box([distro.debian_layer()]).sh("apt-get update")
    assert code == 0
    assert out.startswith("Get:1 http://deb.debian.org/debian bookworm InRelease")
    assert out.endswith("Reading package lists... Done\n")


def test_run_apt_get_install_makes_a_layer_change():
    box = Box([distro.debian_layer()])
    code, out, err = box.sh("apt-get update && apt-get install -y curl")
    assert code == 0, out + err
    diff = box.fs.diff()
    assert "/usr/bin/curl" in diff and "/var/lib/dpkg/status" in diff
    assert b"Package: curl\nStatus: install ok installed" in diff["/var/lib/dpkg/status"].data
    assert "debconf: delaying package configuration, since apt-utils is not installed\n" in err


def test_cleaning_the_lists_in_the_same_layer():
    box = Box([distro.debian_layer()])
    box.sh("apt-get update && apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*")
    assert not any(p.endswith("_Packages") for p in box.fs.diff())
    assert "ca-certificates" not in box.sh("dpkg -l")[1]


def test_packages_with_units_are_not_started_in_a_container():
    code, out, _ = Box([distro.debian_layer()]).sh("apt-get update && apt-get install -y nginx")
    assert code == 0
    assert "invoke-rc.d: policy-rc.d denied execution of start." in out


# -- apk ------------------------------------------------------------------------------------------
def test_apk_add_installs_from_alpine_main():
    box = Box([distro.alpine_layer("3.19")])
    code, out, _ = box.sh("apk add curl")
    assert code == 0
    assert out.startswith("fetch https://dl-cdn.alpinelinux.org/alpine/v3.19/main/x86_64/APKINDEX.tar.gz\n")
    assert "Installing curl (8.5.0-r0)\n" in out and out.endswith(" packages\n") and "OK: " in out
    assert box.fs.is_file("/usr/bin/curl")
    assert "P:curl\nV:8.5.0-r0" in box.fs.read_text("/lib/apk/db/installed")


def test_apk_add_unknown_package():
    code, _, err = Box([distro.alpine_layer()]).sh("apk add nosuch")
    assert code == 1
    assert err == "ERROR: unable to select packages:\n  nosuch (no such package):\n    required by: world[nosuch]\n"


def test_apk_add_needs_root():
    box = Box([distro.alpine_layer()])
    out, err = Stream(), Stream()
    p = box.kernel.spawn(["apk", "add", "curl"], ns=box.ns, uid=1000, stdout=out, stderr=err,
                         env={"PATH": "/usr/bin:/sbin:/bin"})
    box.loop.run_until(lambda: not p.alive)
    assert p.exit_code == 99 and err.text().startswith("ERROR: Unable to lock database: Permission denied\n")


def test_apk_del_purges_unneeded_dependencies():
    box = Box([distro.alpine_layer()])
    box.sh("apk add curl")
    code, out, _ = box.sh("apk del curl")
    assert code == 0 and "Purging curl (8.5.0-r0)" in out.splitlines()[0]
    assert not box.fs.exists("/usr/bin/curl") and "Purging libcurl" in out


def test_apk_add_bash_makes_bash_available():
    box = Box([distro.alpine_layer()])
    box.sh("apk add bash")
    assert box.sh("bash -c 'echo $((6*7))'")[1] == "42\n"


# -- pip ------------------------------------------------------------------------------------------
def python_box():
    return Box(catalog.image("python:3.12-slim").rootfs_layers())


def test_pip_install_flask_in_the_python_image():
    box = python_box()
    code, out, err = box.sh("pip install flask")
    assert code == 0
    assert out.startswith("Collecting flask\n  Downloading flask-3.0.3-py3-none-any.whl (101 kB)\n")
    assert "Successfully installed Jinja2-3.1.4 MarkupSafe-2.1.5 Werkzeug-3.0.3 blinker-1.8.2 click-8.1.7 " \
           "flask-3.0.3 itsdangerous-2.2.0\n" in out
    assert "WARNING: Running pip as the 'root' user" in err
    assert box.fs.is_dir("/usr/local/lib/python3.12/site-packages/flask")


def test_pip_install_from_requirements():
    box = python_box()
    box.fs.write("/requirements.txt", "requests==2.32.3\n# comment\nredis\n")
    code, out, _ = box.sh("pip install --no-cache-dir -r /requirements.txt")
    assert code == 0 and "redis-5.0.7" in out and "requests-2.32.3" in out


def test_pip_list_shows_installed_packages():
    box = python_box()
    box.sh("pip install redis")
    assert box.sh("pip list")[1] == "Package Version\n------- -------\npip     24.2\nredis   5.0.7\n"


def test_pip_install_unknown_package():
    code, _, err = python_box().sh("pip install nosuchpkg")
    assert code == 1
    assert err == ("ERROR: Could not find a version that satisfies the requirement nosuchpkg (from versions: none)\n"
                   "ERROR: No matching distribution found for nosuchpkg\n")


def test_pip_already_satisfied():
    box = python_box()
    box.sh("pip install redis")
    assert "Requirement already satisfied: redis in /usr/local/lib/python3.12/site-packages (5.0.7)" in box.sh("pip install redis")[1]


def test_pip_refuses_a_debian_managed_python():
    box = Box([distro.debian_layer()])
    box.sh("apt-get update && apt-get install -y python3-pip")
    code, _, err = box.sh("pip install flask")
    assert code == 1 and err.startswith("error: externally-managed-environment\n")
    assert box.sh("pip install --break-system-packages flask")[0] == 0


def test_apt_get_install_a_local_deb(m):
    m.sh(f"curl -fsSLO {CRI_DOCKERD_URL}")
    r = m.sh("sudo apt-get install -y ./cri-dockerd_0.3.14.3-0.ubuntu-jammy_amd64.deb")
    assert r.exit_code == 0, r.output
    assert "Note, selecting 'cri-dockerd' instead of './cri-dockerd_0.3.14.3-0.ubuntu-jammy_amd64.deb'\n" in r.stdout
    assert dpkg_version(m, "cri-dockerd") == "0.3.14~3-0~ubuntu-jammy"


def test_cri_o_repository(m):
    m.sh("curl -fsSL https://pkgs.k8s.io/addons:/cri-o:/stable:/v1.30/deb/Release.key "
         "| sudo gpg --dearmor -o /etc/apt/keyrings/cri-o-apt-keyring.gpg")
    m.sh("echo 'deb [signed-by=/etc/apt/keyrings/cri-o-apt-keyring.gpg] https://pkgs.k8s.io/addons:/cri-o:/stable:/v1.30/deb/ /' "
         "| sudo tee /etc/apt/sources.list.d/cri-o.list")
    assert m.sh("sudo apt-get update").exit_code == 0
    r = m.sh("sudo apt-get install -y cri-o")
    assert r.exit_code == 0 and dpkg_version(m, "cri-o").startswith("1.30.")
    assert m.fs.is_file("/etc/crio/crio.conf.d/10-crio.conf") and "crio" in m.services.units


def test_get_docker_com_installs_docker_ce(m):
    assert m.sh("curl -fsSL https://get.docker.com -o get-docker.sh").exit_code == 0
    r = m.sh("sudo sh get-docker.sh")
    assert r.exit_code == 0, r.output
    assert dpkg_version(m, "docker-ce").startswith("5:27.1.1")


def test_apt_cache_search_and_show(m):
    assert "socat - multipurpose relay for bidirectional data transfer\n" in m.sh("apt-cache search relay").stdout
    out = m.sh("apt-cache show socat").stdout
    assert out.startswith("Package: socat\n") and "Version: 1.7.4.1-3ubuntu4\n" in out


def test_apt_cache_show_unknown(m):
    r = m.sh("apt-cache show nosuch")
    assert (r.exit_code, r.stderr) == (100, "N: Unable to locate package nosuch\nE: No packages found\n")


def test_apk_update_fetches_the_indexes():
    code, out, _ = Box([distro.alpine_layer("3.19")]).sh("apk update")
    assert code == 0 and out.startswith("fetch https://dl-cdn.alpinelinux.org/alpine/v3.19/main/x86_64/APKINDEX.tar.gz\n")
    assert out.endswith("distinct packages available\n")


def test_gpg_is_a_package_of_its_own_that_gnupg_depends_on(m):
    r = m.sh("sudo apt-get install -y gpg")
    assert r.exit_code == 0 and "gpg is already the newest version (2.2.27-3ubuntu2.1).\n" in r.stdout
    assert "Depends: gpg" in m.sh("apt-cache depends gnupg").stdout
    assert m.sh("dpkg -s gpg").stdout.splitlines()[1] == "Status: install ok installed"
    r = m.sh("sudo apt-get remove -y gpg")
    assert r.exit_code == 0 and "The following packages will be REMOVED:\n  gnupg gpg\n" in r.stdout
    r = m.sh("sudo apt-get install -y gnupg")
    assert r.exit_code == 0 and "The following NEW packages will be installed:\n  gnupg gpg\n" in r.stdout, r.output
    assert m.sh("which gpg").stdout == "/usr/bin/gpg\n"


def test_curl_user_agent_is_the_installed_curl_version(m):
    """curl's request, its -v trace and --version all name the curl of the distribution."""
    from aivle_k8s.linux.http import Request, Response, curl_version

    seen = []

    def echo(data, peer):
        seen.append(Request.parse(data))
        return Response(200, b"ok\n").to_bytes()

    m.netns.listen(9000, echo)
    r = m.sh("curl -sv http://localhost:9000/")
    assert seen[0].header("User-Agent") == "curl/7.81.0"
    assert "> User-Agent: curl/7.81.0\n" in r.stderr
    assert m.sh("curl --version").stdout.startswith("curl 7.81.0 (x86_64-pc-linux-gnu) libcurl/7.81.0 ")
    assert m.sh("curl -V").stdout.startswith("curl 7.81.0 ")
    # the library default (world downloads, engine requests) is the same curl
    from aivle_k8s.linux.http import request
    request(m.world.net, m.netns, "GET", "http://localhost:9000/")
    assert seen[-1].header("User-Agent") == "curl/7.81.0"
    deb = FileSystem()
    deb.mkdir("/var/lib/dpkg", parents=True)
    deb.write("/var/lib/dpkg/status", packages.dpkg_status_text("bookworm", ["curl"]))
    assert curl_version(deb) == "7.88.1"
    alpine = FileSystem()
    alpine.mkdir("/lib/apk/db", parents=True)
    alpine.write("/lib/apk/db/installed", packages.apk_installed_text("v3.19", ["curl"]))
    assert curl_version(alpine) == "8.5.0"
    assert curl_version(FileSystem()) == "7.81.0"
    assert m.sh("curl -A probe/1 -s http://localhost:9000/").exit_code == 0
    assert seen[-1].header("User-Agent") == "probe/1"
