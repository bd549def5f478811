"""Lab 7 checks (operate a cluster): each step says what to do on a wrong state and passes on the right one.

Each cluster test builds its own 3-node cluster (about 3 s) and walks one part of the lab, checking the step
before, during and after the student's actions.
"""

import random

import pytest

import aivle_k8s as ak
from aivle_k8s.cluster.bootstrap import build_cluster
from aivle_k8s.cluster.etcd import EtcdCluster, EtcdError
from aivle_k8s.grading import Feedback, assert_step, check
from aivle_k8s.linux.kernel import program_entry

ETCDCTL = ("sudo ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 --cacert=/etc/kubernetes/pki/etcd/ca.crt"
           " --cert=/etc/kubernetes/pki/etcd/server.crt --key=/etc/kubernetes/pki/etcd/server.key")


def messages(fb: Feedback) -> str:
    return "\n".join(fb.messages)


def failing(step, **kwargs) -> str:
    fb = check("lab7", step, **kwargs)
    assert not fb.passed, fb
    return messages(fb)


def passing(step, **kwargs) -> str:
    fb = check("lab7", step, **kwargs)
    assert fb.passed, fb
    return messages(fb)


def deployment(replicas=3, image="nginx:1.25", app="web"):
    return f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app: {app}
  template:
    metadata:
      labels:
        app: {app}
    spec:
      containers:
      - name: nginx
        image: {image}
        ports:
        - containerPort: 80
"""


def service(kind="NodePort", app="web"):
    node_port = "\n    nodePort: 30080" if kind == "NodePort" else ""
    return f"""\
apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  type: {kind}
  selector:
    app: {app}
  ports:
  - port: 80
    targetPort: 80{node_port}
"""


def new_cluster():
    world = ak.World(seed=0)
    cluster = build_cluster(world)
    master = world.machines["master"]
    r = master.sh("mkdir -p $HOME/.kube && sudo cp -i /etc/kubernetes/admin.conf $HOME/.kube/config"
                  " && sudo chown $(id -u):$(id -g) $HOME/.kube/config")
    assert r.exit_code == 0, r.output
    return world, cluster, master


def ok(master, command):
    r = master.sh(command)
    assert r.exit_code == 0, f"{command}\n{r.output}"
    return r


# -- without a cluster -----------------------------------------------------------------------------
def test_without_a_cluster_the_checks_say_to_run_the_setup_cell(world):
    assert "run the setup cell" in failing("deploy", world=world)
    world.machine("master")
    assert "master is not a Kubernetes control plane" in failing("scale", world=world)
    assert failing("deploy") == "pass the lab's world: check('lab7', 'deploy', world=world)"


def test_assert_step_raises_the_feedback_and_prints_nothing(world, capsys):
    with pytest.raises(AssertionError, match="lab7/node_failure: not yet"):
        assert_step("lab7", "node_failure", world=world)
    assert capsys.readouterr() == ("", "")


# -- deploy, expose, scale, rollout, rollback -----------------------------------------------------------
def test_deploy_expose_scale_roll_out_and_back():
    world, cluster, master = new_cluster()
    text = failing("deploy", world=world)
    assert "there is no manifest /home/student/web.yaml on master" in text
    assert 'there is no Deployment "web"' in text

    # made with kubectl create, not from a manifest
    ok(master, "kubectl create deployment web --image=nginx:1.25 --replicas=3")
    world.advance(30)
    text = failing("deploy", world=world)
    assert "was not made with kubectl apply" in text and "no manifest" in text
    ok(master, "kubectl delete deployment web")
    world.advance(30)

    master.write_file("web.yaml", deployment(replicas=2, app="shop"))
    ok(master, "kubectl apply -f web.yaml")
    text = failing("deploy", world=world)
    assert "asks for 2 replicas, expected 3" in text
    assert "labelled {'app': 'shop'}" in text
    ok(master, "kubectl delete deployment web")
    world.advance(30)
    master.write_file("web.yaml", deployment())
    ok(master, "kubectl apply -f web.yaml")
    assert "deployment web has 0 of 3 replicas available: wait (world.advance(30))" in failing("deploy", world=world)
    world.advance(30)
    assert passing("deploy", world=world) == "deployment web: 3/3 replicas of nginx:1.25 available"

    # expose
    assert 'there is no Service "web"' in failing("expose", world=world)
    master.write_file("web-svc.yaml", service(kind="ClusterIP"))
    ok(master, "kubectl apply -f web-svc.yaml")
    assert "Service web is of type ClusterIP: make it type: NodePort" in failing("expose", world=world)
    ok(master, "kubectl delete service web")
    master.write_file("web-svc.yaml", service(app="nope"))
    ok(master, "kubectl apply -f web-svc.yaml")
    world.advance(5)
    assert "Service web has no endpoints: its selector {'app': 'nope'}" in failing("expose", world=world)
    master.write_file("web-svc.yaml", service())
    ok(master, "kubectl apply -f web-svc.yaml")
    world.advance(5)
    ip = cluster.services.get("web").spec["clusterIP"]
    text = failing("expose", world=world)
    assert f'curl the Service\'s ClusterIP: master.sh("curl -s http://{ip}/")' in text
    assert "curl the NodePort on a node" in text and ":30080/" in text
    ok(master, f"curl -s http://{ip}/")
    assert "curl the NodePort" in failing("expose", world=world)
    ok(master, "curl -s http://worker-2:30080/")
    assert passing("expose", world=world) == f"Service web ({ip}, NodePort 30080) sends traffic to 3 pods"

    # scale
    assert "deployment web asks for 3 replicas: scale it with" in failing("scale", world=world)
    ok(master, "kubectl scale deployment web --replicas=5")
    assert "deployment web has 3 of 5 replicas available" in failing("scale", world=world)
    world.advance(20)
    assert passing("scale", world=world).startswith("deployment web scaled to 5: ReplicaSet web-")

    # roll out
    assert "deployment web runs nginx:1.25: roll out the new version" in failing("rollout", world=world)
    ok(master, "kubectl set image deployment/web nginx=nginx:1.27")
    assert "kubectl rollout status deployment/web" in failing("rollout", world=world)
    ok(master, "kubectl rollout status deployment/web")
    assert passing("rollout", world=world) == \
        "deployment web rolled out to nginx:1.27 (revision 2); 1 old ReplicaSet kept at 0"

    # roll back after a broken image
    assert "deployment web never tried nginx:1.99" in failing("rollback", world=world)
    ok(master, "kubectl set image deployment/web nginx=nginx:1.99")
    world.advance(30)
    assert "ImagePullBackOff" in master.sh("kubectl get pods").stdout
    assert "still wants nginx:1.99, which cannot be pulled (ImagePullBackOff): roll back with" in \
        failing("rollback", world=world)
    assert "deployment web runs nginx:1.99" in failing("rollout", world=world)
    ok(master, "kubectl rollout undo deployment/web")
    ok(master, "kubectl rollout status deployment/web")
    assert passing("rollback", world=world) == \
        "deployment web is back on nginx:1.27 after the failed rollout of nginx:1.99"
    assert passing("rollout", world=world).startswith("deployment web rolled out to nginx:1.27 (revision 4)")


# -- a node fails -------------------------------------------------------------------------------------
def test_node_failure_waits_for_not_ready_then_for_the_eviction():
    world, cluster, master = new_cluster()
    master.write_file("web.yaml", deployment(replicas=4))
    ok(master, "kubectl apply -f web.yaml")
    ok(master, "kubectl expose deployment web --port=80 --type=NodePort")
    world.advance(30)
    assert {p.spec["nodeName"] for p in cluster.pods.list(label_selector="app=web")} == {"worker-1", "worker-2"}
    assert failing("node_failure", world=world, replicas=4) == \
        'worker-1 is still powered on: pull its plug with world.machines["worker-1"].power_off()'
    world.machines["worker-1"].power_off()
    world.advance(20)
    assert "worker-1 is off but still Ready" in failing("node_failure", world=world, replicas=4)
    world.advance(30)
    text = failing("node_failure", world=world, replicas=4)
    assert "of web still counted on worker-1" in text and "world.advance(300)" in text
    world.advance(310)
    assert passing("node_failure", world=world, replicas=4) == (
        "worker-1 is NotReady (Ready=Unknown); 4 pods of web run on the other nodes "
        "and Service web sends traffic to them only")
    assert failing("node_failure", world=world, node="worker-2") == \
        'worker-2 is still powered on: pull its plug with world.machines["worker-2"].power_off()'


# -- etcd backup and restore ----------------------------------------------------------------------------
def test_etcd_backup_then_restore_the_documented_way():
    world, cluster, master = new_cluster()
    for tool in ("etcdctl", "etcdutl"):
        master.fs.write(f"/usr/local/bin/{tool}", program_entry(tool).data, mode=0o755)
    backup = "/home/student/etcd-backup.db"
    assert f"there is no snapshot {backup} on master" in failing("etcd_backup", world=world)
    ok(master, f"{ETCDCTL} snapshot save {backup}")  # before the deployment exists
    assert "has no deployment web (/registry/deployments/default/web)" in failing("etcd_backup", world=world)
    master.write_file("web.yaml", deployment(replicas=2))
    ok(master, "kubectl apply -f web.yaml")
    world.advance(30)
    master.write_file("etcd-backup.db", "not a snapshot")
    assert "is not a usable etcd snapshot" in failing("etcd_backup", world=world)
    ok(master, f"{ETCDCTL} snapshot save {backup}")
    assert passing("etcd_backup", world=world).endswith("with /registry/deployments/default/web")

    # the mistake, then the restore
    assert "etcd still serves /var/lib/etcd" in failing("etcd_restore", world=world, replicas=2)
    ok(master, "kubectl delete deployment web")
    world.advance(30)
    ok(master, f"sudo etcdutl snapshot restore {backup} --data-dir /var/lib/etcd-from-backup")
    ok(master, "sudo sed -i 's#/var/lib/etcd#/var/lib/etcd-from-backup#g' /etc/kubernetes/manifests/etcd.yaml")
    world.advance(60)
    keys = ok(master, f"{ETCDCTL} get /registry/deployments/default/web --keys-only").stdout
    assert "/registry/deployments/default/web" in keys  # etcd has it again, and the API server redialled it
    assert passing("etcd_restore", world=world, replicas=2).startswith("deployment web is back from")

    ok(master, "sudo mv /etc/kubernetes/manifests/kube-apiserver.yaml /tmp/")
    world.advance(30)
    assert "the API server is stopped (kube-apiserver.yaml is not in /etc/kubernetes/manifests)" in \
        failing("etcd_restore", world=world, replicas=2)
    assert "the API server does not answer" in failing("deploy", world=world)
    ok(master, "sudo mv /tmp/kube-apiserver.yaml /etc/kubernetes/manifests/")
    world.advance(60)
    assert passing("etcd_restore", world=world, replicas=2) == \
        f"deployment web is back from {backup} (etcd data dir /var/lib/etcd-from-backup), 2/2 available"

    # re-creating it by hand is not a restore
    ok(master, "kubectl delete deployment web")
    ok(master, "kubectl apply -f web.yaml")
    world.advance(30)
    assert "is not the one in the snapshot (its uid differs)" in failing("etcd_restore", world=world, replicas=2)


# -- a 3-member etcd ----------------------------------------------------------------------------------
@pytest.fixture
def etcd3(world):
    etcd = EtcdCluster(world.loop, {"etcd-1": "10.0.1.11", "etcd-2": "10.0.1.12", "etcd-3": "10.0.1.13"},
                       random.Random(0))
    world.advance(3)
    etcd.put("/lab7/before", "3 of 3")
    return etcd


def test_etcd_quorum_one_member_down_writes_two_down_refuses(world, etcd3):
    assert failing("etcd_quorum", world=world).startswith("pass the 3-member etcd of the lab")
    single = EtcdCluster(world.loop, ["etcd-0"], random.Random(0))
    assert "etcd3 has 1 member" in failing("etcd_quorum", world=world, etcd=single)
    assert "all 3 members are running" in failing("etcd_quorum", world=world, etcd=etcd3)

    etcd3.stop(etcd3.leader)
    world.advance(3)
    assert "one_down is None" in failing("etcd_quorum", world=world, etcd=etcd3)
    one_down = etcd3.put("/lab7/one-down", "2 of 3")
    assert "only one member is stopped" in failing("etcd_quorum", world=world, etcd=etcd3, one_down=one_down)

    etcd3.stop(etcd3.leader)
    world.advance(5)
    assert "two_down_error is None" in failing("etcd_quorum", world=world, etcd=etcd3, one_down=one_down)
    assert "keep the exception itself" in failing("etcd_quorum", world=world, etcd=etcd3, one_down=one_down,
                                                  two_down_error="request timed out")
    assert "two_down_error is ValueError" in failing("etcd_quorum", world=world, etcd=etcd3, one_down=one_down,
                                                     two_down_error=ValueError("x"))
    with pytest.raises(EtcdError) as e:
        etcd3.put("/lab7/two-down", "1 of 3")
    text = passing("etcd_quorum", world=world, etcd=etcd3, one_down=one_down, two_down_error=e.value)
    assert text.startswith("1 of 3 down: the write of /lab7/one-down committed; 2 of 3 down: etcdserver:")
    assert text.endswith("(quorum is 2 of 3)")

    # recovery
    assert "stopped members: " in failing("etcd_recover", world=world, etcd=etcd3)
    for name in etcd3.members:
        etcd3.start(name)
    world.advance(3)
    assert passing("etcd_recover", world=world, etcd=etcd3).endswith(
        "3 identical members, /lab7/before, /lab7/one-down kept")
    etcd3.put("/lab7/two-down", "written later")
    assert "/lab7/two-down is there" in failing("etcd_recover", world=world, etcd=etcd3)
    for name in etcd3.members:
        etcd3.stop(name)
    assert "every member is stopped" in failing("etcd_quorum", world=world, etcd=etcd3, one_down=one_down,
                                                two_down_error=e.value)


def test_etcd_quorum_needs_the_first_write_before_the_second_stop(world, etcd3):
    one_down = etcd3.put("/lab7/one-down", "3 of 3")  # written before any member stopped
    etcd3.stop(etcd3.leader)
    world.advance(3)
    etcd3.stop(etcd3.leader)
    world.advance(5)
    text = failing("etcd_quorum", world=world, etcd=etcd3, one_down=one_down, two_down_error=None)
    assert "every stopped member has /lab7/one-down: it was written before any member stopped" in text


def test_etcd_recover_before_the_quorum_step_says_to_do_it_first(world, etcd3):
    text = failing("etcd_recover", world=world, etcd=etcd3)
    assert text == "no member has /lab7/one-down: do the etcd_quorum step first (write /lab7/one-down with one " \
                   "member down)"
