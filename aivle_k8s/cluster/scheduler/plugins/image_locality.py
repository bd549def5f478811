"""ImageLocality: prefer nodes that already have the pod's images (less to pull).

Each image present on the node counts its size scaled by its spread (on how many
of the cluster's nodes it is), so one popular node does not attract every pod.
The sum is mapped linearly from [23 MiB, 1000 MiB x containers] to 0..100.
Image names are compared as written, ``:latest`` added when there is no tag
(the real scheduler's ``normalizedImageName``).

>>> calculate_priority(23 * MB, 1), calculate_priority(1000 * MB, 1), calculate_priority(500 * MB, 1)
(0, 100, 48)
"""

from __future__ import annotations

from ..cache import NodeInfo, PodInfo
from ..framework import CycleState, ScorePlugin
from .helpers import MAX_NODE_SCORE

MB = 1024 * 1024
MIN_THRESHOLD = 23 * MB
MAX_CONTAINER_THRESHOLD = 1000 * MB


def normalized_image_name(name: str) -> str:
    if name.rfind(":") <= name.rfind("/"):
        name += ":latest"
    return name


def calculate_priority(sum_scores: int, num_containers: int) -> int:
    max_threshold = MAX_CONTAINER_THRESHOLD * num_containers
    if sum_scores < MIN_THRESHOLD:
        sum_scores = MIN_THRESHOLD
    elif sum_scores > max_threshold:
        sum_scores = max_threshold
    return MAX_NODE_SCORE * (sum_scores - MIN_THRESHOLD) // (max_threshold - MIN_THRESHOLD)


class ImageLocality(ScorePlugin):
    name = "ImageLocality"
    node_local = True

    def score(self, state: CycleState, pod: PodInfo, node: NodeInfo) -> int:
        total = 0
        if node.images:
            cache = state.snapshot
            all_nodes = len(cache)
            for image in pod.images:
                name = normalized_image_name(image)
                size = node.images.get(name)
                if size is not None:
                    total += int(size * (cache.image_num_nodes(name) / all_nodes))
        return calculate_priority(total, len(pod.images))
