"""etcdctl / etcdutl against a plain etcd member started on a machine (no TLS), with etcdctl's output shapes."""

import pytest

import aivle_k8s as ak
import aivle_k8s.cluster.etcdctl  # noqa: F401  (registers etcdctl/etcdutl until they are lazy programs)
from aivle_k8s.linux.kernel import program_entry


@pytest.fixture
def host():
    world = ak.World(seed=0)
    m = world.machine("db")
    for prog in ("etcd", "etcdctl", "etcdutl"):
        m.fs.write(f"/usr/local/bin/{prog}", program_entry(prog).data, mode=0o755)
    assert m.sh("sudo etcd --name db --data-dir=/var/lib/etcd --advertise-client-urls=http://127.0.0.1:2379"
                " --initial-advertise-peer-urls=http://127.0.0.1:2380 >/dev/null 2>&1 &").exit_code == 0
    return m


def test_put_get_keys_only_and_prefix(host):
    assert host.sh("etcdctl put /registry/a 1").stdout == "OK\n"
    assert host.sh("etcdctl put /registry/b 2").stdout == "OK\n"
    assert host.sh("etcdctl get /registry/a").stdout == "/registry/a\n1\n"
    assert host.sh("etcdctl get /registry/ --prefix --keys-only").stdout == "/registry/a\n\n/registry/b\n\n"


def test_member_list_and_endpoint_health(host):
    r = host.sh("etcdctl member list")
    assert r.exit_code == 0 and r.stdout.endswith(", started, db, http://127.0.0.1:2380, http://127.0.0.1:2379, false\n")
    r = host.sh("etcdctl --endpoints=http://127.0.0.1:2379 endpoint health")
    assert r.stdout.startswith("http://127.0.0.1:2379 is healthy: successfully committed proposal")


def test_https_without_client_certificates_times_out(host):
    r = host.sh("etcdctl --endpoints=https://127.0.0.1:2379 member list")
    assert r.exit_code == 1 and r.stderr.endswith("Error: context deadline exceeded\n")


def test_snapshot_save_status_and_restore(host):
    host.sh("etcdctl put k v")
    r = host.sh("ETCDCTL_API=3 etcdctl snapshot save snap.db")
    assert r.exit_code == 0 and r.stdout == "Snapshot saved at snap.db\n", r.output
    r = host.sh("etcdutl snapshot status snap.db -w table")
    assert r.exit_code == 0 and "|   HASH   | REVISION |" in r.stdout and "REVISION" in r.stdout, r.output
    r = host.sh("etcdctl snapshot status snap.db -w table")
    assert r.stderr.startswith("Deprecated: Use `etcdutl snapshot status` instead.")
    r = host.sh("sudo etcdutl snapshot restore snap.db --data-dir /var/lib/etcd-restored")
    assert r.exit_code == 0 and "restored snapshot" in r.stderr, r.output
    r = host.sh("sudo etcdutl snapshot restore snap.db --data-dir /var/lib/etcd-restored")
    assert r.exit_code == 1 and "/var/lib/etcd-restored" in r.stderr
    r = host.sh("sudo etcdctl snapshot restore snap.db --data-dir /var/lib/etcd-2")
    assert r.stderr.startswith("Deprecated: Use `etcdutl snapshot restore` instead.") and r.exit_code == 0
    assert host.sh("etcdutl snapshot status missing.db").exit_code == 1
