"""`python -m jupyter_workspace.sidecar`: started by the coordinator, never by hand.

Reads its bearer token from the environment, binds 127.0.0.1 on an ephemeral port, prints one
line with the port, then serves until SIGTERM or until its parent is gone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sys

from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from .. import protocol
from .lifeline import bind_to_parent, parent_alive
from .llm import mask_output
from .server import MAX_BODY, SidecarState, make_app


async def serve(token: str, parent_pid: int) -> None:
    state = SidecarState(token)
    server = HTTPServer(make_app(state), max_body_size=MAX_BODY + 1024)
    sockets = bind_sockets(0, address="127.0.0.1")
    server.add_sockets(sockets)
    port = sockets[0].getsockname()[1]
    print(
        f"{protocol.SIDECAR_READY_LINE} {json.dumps({'port': port, 'pid': os.getpid()})}",
        flush=True,
    )

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    state.index_loaded = asyncio.ensure_future(state.load_index())
    state.loaded = asyncio.ensure_future(state.load())
    while not stop.is_set():
        if not parent_alive(parent_pid):
            break
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)
    server.stop()


def main() -> None:
    mask_output()  # before anything is printed: the coordinator logs this process's output
    token = os.environ.pop(protocol.SIDECAR_TOKEN_ENV, "")
    if len(token) < 32:
        sys.exit(f"{protocol.SIDECAR_TOKEN_ENV} must hold the launch token (32+ characters)")
    parent_pid = int(os.environ.get(protocol.SIDECAR_PARENT_ENV) or os.getppid())
    bind_to_parent(parent_pid)
    asyncio.run(serve(token, parent_pid))


if __name__ == "__main__":
    main()
