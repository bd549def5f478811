"""The plugins of the simulated kube-scheduler, one file each, named as the real ones.

=================================  ==========================================  ======
plugin                             extension points                            weight
=================================  ==========================================  ======
PrioritySort                       QueueSort
NodeUnschedulable                  Filter
NodeName                           (PreFilter) Filter
TaintToleration                    Filter, PreScore, Score                     3
NodeAffinity                       PreFilter, Filter, PreScore, Score          2
NodePorts                          PreFilter, Filter
NodeResourcesFit                   PreFilter, Filter, Score (LeastAllocated)   1
PodTopologySpread                  PreFilter, Filter, PreScore, Score          2
DefaultPreemption                  PostFilter
NodeResourcesBalancedAllocation    PreScore, Score                             1
ImageLocality                      Score                                       1
DefaultBinder                      Bind
=================================  ==========================================  ======

Not simulated: SchedulingGates, volume plugins (VolumeRestrictions,
NodeVolumeLimits, VolumeBinding, VolumeZone), InterPodAffinity, DynamicResources.
"""

from __future__ import annotations

from .balanced_allocation import NodeResourcesBalancedAllocation
from .default_binder import DefaultBinder
from .default_preemption import DefaultPreemption
from .image_locality import ImageLocality
from .node_affinity import NodeAffinity
from .node_name import NodeName
from .node_ports import NodePorts
from .node_resources_fit import NodeResourcesFit
from .node_unschedulable import NodeUnschedulable
from .pod_topology_spread import PodTopologySpread
from .queue_sort import PrioritySort
from .taint_toleration import TaintToleration

__all__ = ["PrioritySort", "NodeUnschedulable", "NodeName", "TaintToleration", "NodeAffinity", "NodePorts",
           "NodeResourcesFit", "PodTopologySpread", "DefaultPreemption", "NodeResourcesBalancedAllocation",
           "ImageLocality", "DefaultBinder", "REGISTRY", "default_plugins"]

REGISTRY = {cls.name: cls for cls in (
    PrioritySort, NodeUnschedulable, NodeName, TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit,
    PodTopologySpread, DefaultPreemption, NodeResourcesBalancedAllocation, ImageLocality, DefaultBinder)}


def default_plugins() -> list:
    """Fresh instances of the default plugins, in kube-scheduler's multiPoint order."""
    return [PrioritySort(), NodeUnschedulable(), NodeName(), TaintToleration(), NodeAffinity(), NodePorts(),
            NodeResourcesFit(), PodTopologySpread(), DefaultPreemption(), NodeResourcesBalancedAllocation(),
            ImageLocality(), DefaultBinder()]
