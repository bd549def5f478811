"""kube-controller-manager's controllers, one module each (see :mod:`.base` for the pattern).

====================  =====================================  ==========================
``--controllers``     class                                  Events' source.component
====================  =====================================  ==========================
deployment            :class:`DeploymentController`          deployment-controller
replicaset            :class:`ReplicaSetController`          replicaset-controller
nodelifecycle         :class:`NodeLifecycleController`       node-controller
nodeipam              :class:`NodeIPAMController`            cidrAllocator
endpoint              :class:`EndpointsController`           endpoint-controller
endpointslice         :class:`EndpointSliceController`       endpoint-slice-controller
serviceaccount        :class:`ServiceAccountController`      serviceaccount-controller
tokencleaner          :class:`TokenCleaner`                  tokencleaner
bootstrapsigner       :class:`BootstrapSigner`               bootstrap-signer
garbagecollector      :class:`GarbageCollector`              garbage-collector-controller
namespace             :class:`NamespaceController`           namespace-controller
csrapproving          :class:`CSRApprovingController`        csrapproving
csrsigning            :class:`CSRSigningController`          csrsigning
====================  =====================================  ==========================

As in kube-controller-manager, ``bootstrapsigner`` and ``tokencleaner`` are not part of
``*`` (:data:`DISABLED_BY_DEFAULT`): kubeadm enables them with
``--controllers=*,bootstrapsigner,tokencleaner``.
"""

from .base import (Controller, EventRecorder, LeaderElector, SharedInformers, WorkQueue)
from .deployment import DeploymentController, rollback, restart
from .csr import CSRApprovingController, CSRSigningController
from .daemonset import DaemonSetController
from .job import JobController, TTLAfterFinishedController
from .garbagecollector import GarbageCollector
from .namespace import NamespaceController
from .endpoints import EndpointSliceController, EndpointsController
from .nodeipam import NodeIPAMController
from .nodelifecycle import NodeLifecycleController
from .podgc import PodGCController
from .replicaset import ReplicaSetController
from .serviceaccount import ServiceAccountController
from .tokencleaner import TokenCleaner
from .bootstrapsigner import BootstrapSigner

#: ``--controllers`` name -> class, in start order.
CONTROLLERS: dict = {
    "deployment": DeploymentController,
    "replicaset": ReplicaSetController,
    "daemonset": DaemonSetController,
    "job": JobController, "ttl-after-finished": TTLAfterFinishedController,
    "nodelifecycle": NodeLifecycleController,
    "podgc": PodGCController,
    "nodeipam": NodeIPAMController,
    "endpoint": EndpointsController,
    "endpointslice": EndpointSliceController,
    "serviceaccount": ServiceAccountController,
    "tokencleaner": TokenCleaner,
    "bootstrapsigner": BootstrapSigner,
    "garbagecollector": GarbageCollector,
    "namespace": NamespaceController,
    "csrapproving": CSRApprovingController,
    "csrsigning": CSRSigningController,
}

#: Controllers ``*`` leaves out (they must be named).
DISABLED_BY_DEFAULT = frozenset({"bootstrapsigner", "tokencleaner"})

__all__ = ["CONTROLLERS", "DISABLED_BY_DEFAULT", "BootstrapSigner", "Controller", "WorkQueue", "SharedInformers", "EventRecorder", "LeaderElector",
           "DeploymentController", "ReplicaSetController", "NodeLifecycleController", "PodGCController", "NodeIPAMController",
           "EndpointsController", "EndpointSliceController", "ServiceAccountController", "TokenCleaner", "GarbageCollector",
           "NamespaceController", "CSRApprovingController", "CSRSigningController",
           "rollback", "restart"]
