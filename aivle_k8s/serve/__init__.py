"""Optional HTTP faces of the simulated world, for real clients (kubectl, the docker and kubernetes
SDKs, skopeo, oras). Needs the ``serve`` extra (aiohttp); nothing else in the package imports it.

- :mod:`.runner`   runs an aiohttp application on a background thread (loopback TCP or a unix
  socket) and serialises every request with the kernel's own use of the world.
"""
