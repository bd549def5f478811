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


# -- output formats (-w / --write-out) ----------------------------------------------------------------------
import base64  # noqa: E402
import json  # noqa: E402


def test_get_json_has_the_header_and_base64_keys_and_values(host):
    host.sh("etcdctl put /registry/a 1")
    host.sh("etcdctl put /registry/a 2")
    r = host.sh("etcdctl get /registry/a -w json")
    assert r.exit_code == 0 and r.stdout.count("\n") == 1, r.output
    out = json.loads(r.stdout)
    assert set(out) == {"header", "kvs", "count"}  # "more": false is left out, as encoding/json does
    assert list(out["header"]) == ["cluster_id", "member_id", "revision", "raft_term"]
    assert out["header"]["revision"] == 3 and out["header"]["raft_term"] == 2
    member = host.sh("etcdctl member list").stdout.split(",")[0]
    assert out["header"]["member_id"] == int(member, 16)
    assert out["kvs"] == [{"key": base64.b64encode(b"/registry/a").decode(), "create_revision": 2,
                           "mod_revision": 3, "version": 2, "value": base64.b64encode(b"2").decode()}]
    assert out["count"] == 1
    assert host.sh("etcdctl --write-out=json get /registry/a").stdout == r.stdout


def test_get_json_of_nothing_and_of_keys_only(host):
    host.sh("etcdctl put k v")
    empty = json.loads(host.sh("etcdctl get missing -w json").stdout)
    assert list(empty) == ["header"]
    keys = json.loads(host.sh("ETCDCTL_WRITE_OUT=json etcdctl get k --keys-only").stdout)
    assert "value" not in keys["kvs"][0] and keys["kvs"][0]["key"] == base64.b64encode(b"k").decode()
    counted = json.loads(host.sh("etcdctl get k --count-only -w json").stdout)
    assert "kvs" not in counted and counted["count"] == 1


def test_get_limit_sets_more(host):
    for k in "abc":
        host.sh(f"etcdctl put {k} 1")
    out = json.loads(host.sh("etcdctl get a d --limit 1 -w json").stdout)
    assert len(out["kvs"]) == 1 and out["more"] is True and out["count"] == 3


def test_get_fields_quotes_like_go(host):
    host.sh("etcdctl put k 'say \"hi\"'")
    r = host.sh("etcdctl get k -w fields")
    lines = r.stdout.splitlines()
    assert lines[0].startswith('"ClusterID" : ') and lines[1].startswith('"MemberID" : ')
    assert lines[2:] == ['"Revision" : 2', '"RaftTerm" : 2', '"Key" : "k"', '"CreateRevision" : 2',
                         '"ModRevision" : 2', '"Version" : 1', '"Value" : "say \\"hi\\""', '"Lease" : 0',
                         '"More" : false', '"Count" : 1']


def test_go_quoting_of_binary_values():
    from aivle_k8s.cluster.etcdctl import _goquote

    assert _goquote(b"k8s\x00\n\x12\x0cSt\xc7\x04 \xd9\x89 caf\xc3\xa9 \xc2\xa0\t\\") == \
        '"k8s\\x00\\n\\x12\\fSt\\xc7\\x04 \u0649 caf\u00e9 \\u00a0\\t\\\\"'


def test_get_protobuf_is_the_wire_encoding(host):
    host.sh("etcdctl put k v")
    r = host.sh("etcdctl get k -w protobuf")
    assert r.exit_code == 0
    # header (field 1), one KeyValue (field 2: key, create/mod revision, version, value), count (field 4)
    assert r.stdout.startswith("\n") and r.stdout.endswith("\x12\x0c\n\x01k\x10\x02\x18\x02 \x01*\x01v \x01")


def test_endpoint_status_json_table_and_fields(host):
    host.sh("etcdctl put k v")
    st = json.loads(host.sh("etcdctl endpoint status -w json").stdout)
    assert len(st) == 1 and st[0]["Endpoint"] == "127.0.0.1:2379"
    s = st[0]["Status"]
    assert list(s) == ["header", "version", "dbSize", "leader", "raftIndex", "raftTerm", "raftAppliedIndex",
                       "dbSizeInUse"]
    assert s["version"] == "3.5.12" and s["leader"] == s["header"]["member_id"] and s["header"]["revision"] == 2
    table = host.sh("etcdctl endpoint status -w table").stdout.splitlines()
    assert [c.strip() for c in table[1].strip("|").split("|")] == [
        "ENDPOINT", "ID", "VERSION", "DB SIZE", "IS LEADER", "IS LEARNER", "RAFT TERM", "RAFT INDEX",
        "RAFT APPLIED INDEX", "ERRORS"]
    row = [c.strip() for c in table[3].strip("|").split("|")]
    assert row[0] == "127.0.0.1:2379" and row[1] == format(s["header"]["member_id"], "x") and row[4] == "true"
    fields = host.sh("etcdctl endpoint status -w fields").stdout
    assert '"Version" : "3.5.12"\n' in fields and '"Errors" : []\n"Endpoint" : "127.0.0.1:2379"\n\n' in fields


def test_member_list_and_put_and_del_json(host):
    ml = json.loads(host.sh("etcdctl member list -w json").stdout)
    assert "revision" not in ml["header"]  # the cluster API's headers carry no revision
    assert ml["members"] == [{"ID": ml["header"]["member_id"], "name": "db", "peerURLs": ["http://127.0.0.1:2380"],
                              "clientURLs": ["http://127.0.0.1:2379"]}]
    put = json.loads(host.sh("etcdctl put k v -w json").stdout)
    assert list(put) == ["header"] and put["header"]["revision"] == 2
    assert json.loads(host.sh("etcdctl del k -w json").stdout)["deleted"] == 1
    health = json.loads(host.sh("etcdctl endpoint health -w json").stdout)
    assert health[0]["endpoint"] == "127.0.0.1:2379" and health[0]["health"] is True


def test_unsupported_formats_are_etcdctls_errors_and_change_nothing(host):
    r = host.sh("etcdctl put k v -w yaml")
    assert (r.exit_code, r.stdout, r.stderr) == (4, "", "Error: unsupported output format\n")
    assert host.sh("etcdctl get k --count-only").stdout == "0\n"
    r = host.sh("etcdctl get k -w table")
    assert (r.exit_code, r.stderr) == (4, "Error: table not supported as output format\n")
    r = host.sh("etcdctl endpoint status -w protobuf")
    assert (r.exit_code, r.stderr) == (4, "Error: protobuf not supported as output format\n")
    r = host.sh("etcdctl --endpoints=http://127.0.0.1:1 get k -w xml")  # checked before dialing: no wait
    assert r.exit_code == 4 and r.stderr == "Error: unsupported output format\n"


def test_snapshot_status_fields(host):
    host.sh("etcdctl put k v")
    host.sh("etcdctl snapshot save s.db")
    r = host.sh("etcdutl snapshot status s.db -w fields")
    assert r.exit_code == 0 and r.stdout.splitlines()[1:] == ['"Revision" : 2', '"Keys" : 1',
                                                             f'"Size" : {r.stdout.split()[-1]}']
    assert host.sh("etcdutl snapshot status s.db -w nope").exit_code == 4


# -- installing the client tools as an admin does ----------------------------------------------------------
ETCD_TLS = ("--endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt"
            " --cert=/etc/kubernetes/pki/etcd/server.crt --key=/etc/kubernetes/pki/etcd/server.key")


@pytest.fixture(scope="module")
def master():
    from aivle_k8s.cluster.bootstrap import build_cluster

    world = ak.World(seed=0)
    build_cluster(world, workers=())
    return world.machines["master"]


def test_release_tarball_installs_etcdctl_and_etcdutl_of_its_release(master):
    r = master.sh("curl -L https://github.com/etcd-io/etcd/releases/download/v3.5.15/etcd-v3.5.15-linux-amd64.tar.gz"
                  " -o /tmp/etcd.tar.gz && tar xzf /tmp/etcd.tar.gz -C /tmp"
                  " && sudo mv /tmp/etcd-v3.5.15-linux-amd64/etcd{ctl,utl} /usr/local/bin/")
    assert r.exit_code == 0, r.output
    listing = master.sh("tar tzf /tmp/etcd.tar.gz").stdout.splitlines()
    assert {"etcd-v3.5.15-linux-amd64/etcd", "etcd-v3.5.15-linux-amd64/etcdctl",
            "etcd-v3.5.15-linux-amd64/etcdutl"} <= set(listing)
    assert master.sh("etcdctl version").stdout == "etcdctl version: 3.5.15\nAPI version: 3.5\n"
    assert master.sh("etcdutl version").stdout == "etcdutl version: 3.5.15\nAPI version: 3.5\n"
    r = master.sh(f"sudo ETCDCTL_API=3 etcdctl {ETCD_TLS} snapshot save /tmp/snap.db")
    assert r.exit_code == 0 and r.stdout == "Snapshot saved at /tmp/snap.db\n", r.output
    r = master.sh("sudo etcdutl snapshot status /tmp/snap.db -w table")
    assert r.exit_code == 0 and "| REVISION |" in r.stdout, r.output


def test_ubuntu_etcd_client_is_etcdctl_3_3_which_defaults_to_the_v2_api(master):
    r = master.sh("sudo apt-get install -y etcd-client")
    assert r.exit_code == 0 and "etcd-client amd64 3.3.25+dfsg-7ubuntu0.22.04.1" in r.stdout, r.output
    old = "/usr/bin/etcdctl"
    assert master.sh(f"{old} --version").stdout == "etcdctl version: 3.3.25\nAPI version: 2\n"
    r = master.sh(f"{old} snapshot save /tmp/x.db")
    assert (r.exit_code, r.stderr) == (3, "No help topic for 'snapshot'\n")
    assert "ETCDCTL_API is not set; defaults to etcdctl v2" in master.sh(old).stdout
    assert master.sh(f"ETCDCTL_API=3 {old} version").stdout == "etcdctl version: 3.3.25\nAPI version: 3.3\n"
    r = master.sh(f"sudo ETCDCTL_API=3 {old} {ETCD_TLS} snapshot save /tmp/snap33.db")
    assert (r.exit_code, r.stdout, r.stderr) == (0, "Snapshot saved at /tmp/snap33.db\n", ""), r.output
    r = master.sh(f"ETCDCTL_API=4 {old} version")
    assert (r.exit_code, r.stderr) == (1, "unsupported API version 4\n")


def test_unsupported_api_version_words_of_etcdctl_3_5(host):
    r = host.sh("ETCDCTL_API=4 etcdctl version")
    assert (r.exit_code, r.stderr) == (1, "unsupported API version: 4\n")
    assert host.sh("ETCDCTL_API=2 etcdctl --version").stdout == "etcdctl version: 3.5.12\nAPI version: 2\n"
