"""Stopping background tasks for good.

`task.cancel(); await task` can wait forever on Python 3.11: `asyncio.wait_for` swallows a
cancellation that arrives as its inner awaitable completes (CPython gh-86296), and the task
goes on running (CI saw the server's shutdown hang for 300 s on the sidecar's supervisor, whose
start-up reads the sidecar's output under `wait_for`). `cancel_and_wait` cancels again until the
task has ended.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


async def cancel_and_wait(task: asyncio.Future[Any] | None, retry: float = 0.5) -> None:
    """Cancel `task` and wait until it has ended, cancelling again every `retry` seconds while
    it runs on; its result or exception is dropped."""
    if task is None:
        return
    while not task.done():
        task.cancel()
        await asyncio.wait([task], timeout=retry)
    with contextlib.suppress(asyncio.CancelledError, Exception):
        task.result()
