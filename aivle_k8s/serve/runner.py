"""Run an aiohttp application beside a notebook kernel, without blocking it.

The server lives on its own thread with its own asyncio loop; :func:`serve_app` returns once it
listens, with a :class:`Served` handle whose :meth:`Served.stop` shuts it down cleanly.

The simulated world is not thread-safe. Every handler must do its work on the world inside
``with world_lock(world):`` (or through :func:`in_world`), the same re-entrant lock that
:meth:`World.advance`, the clock and :meth:`Machine.sh` hold while they run, so a request waits
for a running cell's step to finish and the kernel waits for a request.
"""

from __future__ import annotations

import asyncio
import functools
import os
import ssl as _ssl
import threading
from dataclasses import dataclass, field
from typing import Any, Callable

from aiohttp import web

__all__ = ["Served", "serve_app", "world_lock", "in_world"]


def world_lock(world: Any) -> "threading.RLock":
    """The world's re-entrant lock (created on first use, stored on its clock)."""
    loop = world.loop if hasattr(world, "loop") else world
    lock = getattr(loop, "lock", None)
    if lock is None:
        lock = loop.lock = threading.RLock()
    return lock


async def in_world(world: Any, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``fn(*args, **kwargs)`` under the world's lock on a worker thread (never blocking the server's loop)."""
    lock = world_lock(world)

    def call() -> Any:
        with lock:
            return fn(*args, **kwargs)

    return await asyncio.get_running_loop().run_in_executor(None, call)


@dataclass
class Served:
    """A running HTTP face: where it listens and how to stop it."""

    url: str | None = None                 # http(s)://127.0.0.1:PORT when on TCP
    socket_path: str | None = None         # a unix socket path when on one
    _thread: threading.Thread | None = field(default=None, repr=False)
    _loop: asyncio.AbstractEventLoop | None = field(default=None, repr=False)
    _runner: web.AppRunner | None = field(default=None, repr=False)
    _stopped: bool = field(default=False, repr=False)

    @property
    def port(self) -> int | None:
        return int(self.url.rsplit(":", 1)[1].split("/")[0]) if self.url else None

    @property
    def running(self) -> bool:
        return not self._stopped and self._thread is not None and self._thread.is_alive()

    def stop(self, timeout: float = 10.0) -> None:
        """Close the listeners and open connections, then end the thread (idempotent)."""
        if self._stopped or self._loop is None:
            return
        self._stopped = True
        fut = asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop)
        try:
            fut.result(timeout)
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            if self._thread is not None:
                self._thread.join(timeout)
            if self.socket_path and os.path.exists(self.socket_path):
                os.unlink(self.socket_path)

    def __enter__(self) -> "Served":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def serve_app(app: web.Application, *, host: str = "127.0.0.1", port: int = 0, unix_socket: str | None = None,
              ssl_context: _ssl.SSLContext | None = None, name: str = "aivle-serve") -> Served:
    """Start ``app`` on a daemon thread: on ``host:port`` (0 = a free port), or on ``unix_socket``.

    Binds to loopback only: ``host`` must be 127.0.0.1 or localhost.
    """
    if unix_socket is None and host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError(f"the HTTP faces listen on loopback only, not on {host!r}")
    loop = asyncio.new_event_loop()
    served = Served(_loop=loop)
    ready = threading.Event()
    errors: list[BaseException] = []

    async def start() -> None:
        runner = web.AppRunner(app, handle_signals=False, access_log=None)
        await runner.setup()
        served._runner = runner
        if unix_socket is not None:
            if os.path.exists(unix_socket):
                os.unlink(unix_socket)
            site: web.BaseSite = web.UnixSite(runner, unix_socket)
            await site.start()
            served.socket_path = unix_socket
        else:
            site = web.TCPSite(runner, host, port, ssl_context=ssl_context)
            await site.start()
            sock = site._server.sockets[0]  # type: ignore[union-attr]
            scheme = "https" if ssl_context is not None else "http"
            served.url = f"{scheme}://127.0.0.1:{sock.getsockname()[1]}"

    def main() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(start())
        except BaseException as e:  # noqa: BLE001 - reported to the caller
            errors.append(e)
            ready.set()
            return
        ready.set()
        loop.run_forever()
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()

    thread = threading.Thread(target=main, name=name, daemon=True)
    served._thread = thread
    thread.start()
    ready.wait(30)
    if errors:
        raise errors[0]
    return served


def handler(world: Any) -> Callable:
    """Decorator for a synchronous ``fn(request_info) -> web.Response`` run under the world's lock."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        async def run(request: web.Request) -> web.StreamResponse:
            body = await request.read()
            return await in_world(world, fn, request, body)

        return run

    return wrap
