"""Optional HTTP faces of the simulated world, for real clients (kubectl, the docker and kubernetes
SDKs, skopeo, oras). Needs the ``serve`` extra (aiohttp); nothing else in the package imports it.

- :mod:`.runner`   runs an aiohttp application on a background thread (loopback TCP or a unix
  socket) and serialises every request with the kernel's own use of the world.
- :mod:`.kube`     the Kubernetes API of a cluster (``cluster.serve()``): kubectl, the kubernetes SDK.
- :mod:`.engine`   the Docker Engine API of an engine (``engine.serve()``): the docker SDK.
- :mod:`.registry` the OCI distribution API of a registry (``registry.serve()``): skopeo, oras.

See docs/real-clients.md.
"""
