"""Faults on a real 1-master, 2-worker cluster built by command lines: the rest of the cluster reacts
as a real one does, on the simulated clock (node grace 40 s, eviction after the 300 s tolerations)."""

import pytest

import aivle_k8s as ak
import aivle_k8s.cluster.etcdctl  # noqa: F401  (registers etcdctl/etcdutl until they are lazy programs)
from aivle_k8s.linux.kernel import program_entry

from test_cluster_e2e import prepare

FLANNEL = "https://github.com/flannel-io/flannel/releases/latest/download/kube-flannel.yml"


def build():
    world = ak.World(seed=0)
    master = prepare(world, "master")
    init = master.sh("sudo kubeadm init --pod-network-cidr=10.244.0.0/16")
    assert init.exit_code == 0, init.output
    join = init.stdout.split("kubeadm join", 1)[1].split("\n\n")[0].replace("\\\n", " ")
    workers = {}
    for name in ("worker-1", "worker-2"):
        workers[name] = prepare(world, name)
        assert workers[name].sh("sudo kubeadm join" + join).exit_code == 0
    master.sh("mkdir -p $HOME/.kube && sudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config"
              " && sudo chown $(id -u):$(id -g) $HOME/.kube/config")
    assert master.sh(f"kubectl apply -f {FLANNEL}").exit_code == 0
    world.advance(60)
    assert nodes(master) == {"master": "Ready", "worker-1": "Ready", "worker-2": "Ready"}
    return world, master, workers


@pytest.fixture
def cluster():
    return build()


def nodes(master):
    rows = master.sh("kubectl get nodes --no-headers").stdout.splitlines()
    return {r.split()[0]: r.split()[1] for r in rows}


def ready(master, node):
    """The node's Ready condition status: True, False or Unknown (what the STATUS column summarises)."""
    jp = "{.status.conditions[?(@.type==\"Ready\")].status}"
    return master.sh(f"kubectl get node {node} -o jsonpath='{jp}'").stdout


def pods(master, selector="app=web"):
    """name -> (status, node)"""
    rows = master.sh(f"kubectl get pods -l {selector} -o wide --no-headers").stdout.splitlines()
    return {r.split()[0]: (r.split()[2], r.split()[6]) for r in rows}


def deploy(world, master, replicas=4):
    assert master.sh(f"kubectl create deployment web --image=nginx:1.25 --replicas={replicas}").exit_code == 0
    world.advance(30)
    got = pods(master)
    assert len(got) == replicas and all(s == "Running" for s, _ in got.values()), got
    return got


def test_a_powered_off_worker_goes_not_ready_after_40s_and_its_pods_move_after_300s(cluster):
    world, master, workers = cluster
    before = deploy(world, master)
    assert {n for _, n in before.values()} == {"worker-1", "worker-2"}
    workers["worker-1"].power_off()
    world.advance(30)
    assert ready(master, "worker-1") == "True"  # not before the 40 s grace period
    world.advance(20)
    assert ready(master, "worker-1") == "Unknown"
    taints = master.sh("kubectl get node worker-1 -o jsonpath='{.spec.taints[*].key}'").stdout
    assert "node.kubernetes.io/unreachable" in taints
    world.advance(200)  # still inside the 300 s tolerationSeconds: not evicted yet
    assert any(n == "worker-1" for _, n in pods(master).values())
    world.advance(160)
    after = pods(master)
    running = [n for s, n in after.values() if s == "Running"]
    assert len(running) == 4 and set(running) == {"worker-2"}, after
    workers["worker-1"].power_on()
    world.advance(60)
    assert ready(master, "worker-1") == "True"


def test_a_stopped_kubelet_makes_the_node_not_ready_but_its_containers_keep_running(cluster):
    world, master, workers = cluster
    node = sorted(n for _, n in deploy(world, master).values())[0]
    w = workers[node]
    before = w.sh("ps -e").stdout.count(" nginx")
    assert before >= 1
    assert w.sh("sudo systemctl stop kubelet").exit_code == 0
    world.advance(30)
    assert ready(master, node) == "True"
    world.advance(20)
    assert ready(master, node) == "Unknown"
    assert w.sh("ps -e").stdout.count(" nginx") == before  # the containers keep running
    assert w.sh("sudo systemctl start kubelet").exit_code == 0
    world.advance(20)
    assert ready(master, node) == "True"


def test_a_partitioned_worker_goes_not_ready_and_comes_back_when_healed(cluster):
    world, master, workers = cluster
    world.net.partition("master", "worker-1")
    world.advance(30)
    assert ready(master, "worker-1") == "True"
    world.advance(20)
    assert ready(master, "worker-1") == "Unknown"
    assert ready(master, "worker-2") == "True"
    world.net.heal("master", "worker-1")
    world.advance(20)
    assert ready(master, "worker-1") == "True"


ETCDCTL = ("sudo env ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt"
           " --cert=/etc/kubernetes/pki/etcd/server.crt --key=/etc/kubernetes/pki/etcd/server.key")


def install_etcd_client(m):
    m.fs.write("/usr/local/bin/etcdctl", program_entry("etcdctl").data, mode=0o755)
    m.fs.write("/usr/local/bin/etcdutl", program_entry("etcdutl").data, mode=0o755)


def test_an_etcd_snapshot_restored_into_a_new_data_dir_brings_a_deleted_deployment_back(cluster):
    world, master, workers = cluster
    install_etcd_client(master)
    deploy(world, master, replicas=2)
    r = master.sh(f"{ETCDCTL} snapshot save /tmp/snap.db")
    assert r.exit_code == 0 and "Snapshot saved at /tmp/snap.db" in r.stdout, r.output
    assert master.sh("kubectl delete deployment web").exit_code == 0
    assert "NotFound" in master.sh("kubectl get deployment web").stderr
    r = master.sh("sudo etcdutl snapshot restore /tmp/snap.db --data-dir /var/lib/etcd-from-backup")
    assert r.exit_code == 0, r.output
    assert master.sh("sudo sed -i 's#/var/lib/etcd#/var/lib/etcd-from-backup#g'"
                     " /etc/kubernetes/manifests/etcd.yaml").exit_code == 0
    world.advance(60)
    keys = master.sh(f"{ETCDCTL} get /registry/deployments/ --prefix --keys-only")
    assert "/registry/deployments/default/web\n" in keys.stdout, keys.output  # etcd serves the backup
    # as the docs say, restart the API server so it reads the restored data
    assert master.sh("sudo mv /etc/kubernetes/manifests/kube-apiserver.yaml /tmp/").exit_code == 0
    world.advance(30)
    assert master.sh("sudo mv /tmp/kube-apiserver.yaml /etc/kubernetes/manifests/").exit_code == 0
    world.advance(60)
    r = master.sh("kubectl get deployment web")
    assert r.exit_code == 0, r.output


def test_the_api_server_reconnects_to_the_etcd_that_serves_a_restored_data_dir(cluster):
    # kube-apiserver's etcd client dials 127.0.0.1:2379 again when the member it used goes away: the
    # restored data is served without restarting it (the docs still advise restarting the components
    # that cache, which the previous test does)
    world, master, workers = cluster
    install_etcd_client(master)
    deploy(world, master, replicas=2)
    assert master.sh(f"{ETCDCTL} snapshot save /tmp/snap.db").exit_code == 0
    assert master.sh("kubectl delete deployment web").exit_code == 0
    assert master.sh("sudo etcdutl snapshot restore /tmp/snap.db --data-dir /var/lib/etcd-from-backup").exit_code == 0
    assert master.sh("sudo sed -i 's#/var/lib/etcd#/var/lib/etcd-from-backup#g'"
                     " /etc/kubernetes/manifests/etcd.yaml").exit_code == 0
    world.advance(60)
    r = master.sh("kubectl get deployment web --no-headers")
    assert r.exit_code == 0 and r.stdout.split()[0] == "web", r.output
    world.advance(60)  # the controllers and kubelets watch the restored data: the pods come back
    got = pods(master)
    assert len(got) == 2 and all(st == "Running" for st, _ in got.values()), got


def test_with_etcd_stopped_the_api_server_answers_with_etcd_errors(cluster):
    world, master, workers = cluster
    assert master.sh("sudo mv /etc/kubernetes/manifests/etcd.yaml /tmp/").exit_code == 0
    world.advance(25)
    r = master.sh("kubectl get deployments")
    assert r.exit_code == 1 and "connection refused" in r.stderr, r.output
    assert master.sh("sudo mv /tmp/etcd.yaml /etc/kubernetes/manifests/").exit_code == 0
    world.advance(60)
    assert master.sh("kubectl get nodes").exit_code == 0


def scheduler_pids(master):
    return [r.split()[0] for r in master.sh("ps -e").stdout.splitlines() if r.split()[-1] == "kube-scheduler"]


def test_a_crashed_scheduler_is_restarted_by_the_kubelet_and_pending_pods_then_get_scheduled(cluster):
    world, master, workers = cluster
    pid = scheduler_pids(master)
    assert len(pid) == 1
    assert master.sh(f"sudo kill -9 {pid[0]}").exit_code == 0
    assert master.sh("kubectl run lonely --image=nginx:1.25").exit_code == 0
    r = master.sh("kubectl get pod lonely --no-headers")
    assert " Pending " in r.stdout, r.output
    world.advance(60)
    assert " Running " in master.sh("kubectl get pod lonely --no-headers").stdout
    new = scheduler_pids(master)
    assert new and new != pid
    restarts = master.sh("kubectl -n kube-system get pod kube-scheduler-master --no-headers").stdout.split()[3]
    assert restarts.startswith("1")


def sandbox_attempts(worker, pod_prefix):
    """``crictl pods`` of the worker: the ATTEMPT and STATE of each sandbox of the pods named ``pod_prefix*``."""
    rows = worker.sh("sudo crictl pods").stdout.splitlines()[1:]
    out = []
    for r in rows:
        cols = r.split()
        if any(c.startswith(pod_prefix) for c in cols):
            state = cols[cols.index("ago") + 1]
            out.append((int(cols[-2]), state))
    return sorted(out)


def test_a_restarted_kubelet_takes_over_the_pods_it_left_running(cluster):
    """systemctl stop/start kubelet: the new kubelet lists the runtime's sandboxes and containers and adopts
    them; no sandbox is created twice (no 'failed to reserve sandbox name')."""
    world, master, workers = cluster
    w2 = workers["worker-2"]
    proxy = master.sh("kubectl get pods -n kube-system -l k8s-app=kube-proxy -o wide --no-headers").stdout
    proxy_pod = next(r.split()[0] for r in proxy.splitlines() if "worker-2" in r)
    running = lambda: sorted(r.split()[0] for r in w2.sh("sudo crictl ps").stdout.splitlines()[1:])  # noqa: E731
    before = running()
    assert len(before) >= 2
    assert w2.sh("sudo systemctl stop kubelet").exit_code == 0
    world.advance(30)
    assert w2.sh("sudo systemctl start kubelet").exit_code == 0
    world.advance(30)
    rows = master.sh("kubectl get pods -A -o wide --no-headers").stdout.splitlines()
    on_w2 = [r.split() for r in rows if " worker-2 " in r]
    assert on_w2 and all(r[2] == "1/1" and r[3] == "Running" and r[4] == "0" for r in on_w2), on_w2
    assert running() == before  # the very same containers
    assert sandbox_attempts(w2, proxy_pod) == [(0, "READY")]
    events = master.sh("kubectl get events -A --field-selector reason=FailedCreatePodSandBox").stdout
    assert "reserve sandbox name" not in events


def test_after_a_power_cycle_the_workers_pods_come_back_and_its_node_port_answers(cluster):
    """Power off/on: every container is gone, the kubelet recreates the sandboxes (attempt 1), kube-proxy
    programs the NAT rules again (iptables did not survive the reboot) and the NodePort answers again."""
    world, master, workers = cluster
    assert master.sh("kubectl create deployment web --image=nginx:1.25 --replicas=2").exit_code == 0
    assert master.sh("kubectl expose deployment web --port=80 --type=NodePort").exit_code == 0
    world.advance(30)
    port = master.sh("kubectl get svc web -o jsonpath='{.spec.ports[0].nodePort}'").stdout.strip()
    curl = f"curl -s -o /dev/null -w '%{{http_code}}' http://worker-1:{port}/"
    assert master.sh(curl).stdout == "200"
    rules_before = len(world.net.rules.get("worker-1", []))
    w1 = workers["worker-1"]
    w1.power_off()
    assert world.net.rules.get("worker-1", []) == []  # netfilter state lives in the kernel's memory
    world.advance(60)
    w1.power_on()
    world.advance(120)
    assert ready(master, "worker-1") == "True"
    rows = master.sh("kubectl get pods -A -o wide --no-headers").stdout.splitlines()
    on_w1 = [r.split() for r in rows if " worker-1 " in r]
    assert {r[1].rsplit("-", 1)[0] for r in on_w1} >= {"kube-proxy", "kube-flannel-ds"}
    assert all(r[3] == "Running" and r[2] == "1/1" for r in on_w1), on_w1
    proxy_pod = next(r[1] for r in on_w1 if r[1].startswith("kube-proxy-"))
    assert sandbox_attempts(w1, proxy_pod) == [(0, "NOTREADY"), (1, "READY")]
    assert len(world.net.rules.get("worker-1", [])) == rules_before  # programmed again, nothing stale
    assert master.sh(curl).stdout == "200"
