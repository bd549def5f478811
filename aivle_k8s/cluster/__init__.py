"""The Kubernetes cluster, one component per module or folder, as in the real thing.

- ``etcd``        the MVCC key-value store and its Raft-replicated cluster (the API server's only store)
- ``apiserver``   the only writer of etcd; REST verbs, admission, list/watch
- ``scheduler``   PreFilter -> Filter -> Score -> Bind
- ``controllers`` Deployment, ReplicaSet, node lifecycle, token cleaner ...
- ``kubelet``     runs pods on a node through the container runtime
- ``kube_proxy``  Services as NAT rules
- ``kubeadm``     init / join / token / reset
- ``kubectl``     the command-line front

Submodules are imported on use (``from aivle_k8s.cluster.etcd import Store``) so this
package stays cheap to import.
"""
