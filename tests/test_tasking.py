"""Stopping a background task that swallows a cancellation (Python 3.11's wait_for can)."""

import asyncio
import contextlib

from jupyter_workspace.server.supervisor import Supervisor
from jupyter_workspace.server.tasking import cancel_and_wait


async def stubborn(swallow: int, ended: list[str]) -> None:
    """Runs on after its first `swallow` cancellations, as a task inside wait_for may."""
    for _ in range(swallow):
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.sleep(3600)
    try:
        await asyncio.sleep(3600)
    finally:
        ended.append("ended")


async def test_a_task_that_swallows_cancellations_is_stopped():
    ended: list[str] = []
    task = asyncio.ensure_future(stubborn(2, ended))
    await asyncio.sleep(0)
    await asyncio.wait_for(cancel_and_wait(task, retry=0.05), 5)
    assert task.done() and ended == ["ended"]


async def test_a_failed_or_missing_task_is_no_error():
    async def fail():
        raise RuntimeError("boom")

    task = asyncio.ensure_future(fail())
    await asyncio.sleep(0)
    await cancel_and_wait(task)
    await cancel_and_wait(None)


async def test_the_supervisors_stop_ends_a_loop_that_swallowed_its_cancellation(monkeypatch):
    ended: list[str] = []
    supervisor = Supervisor(["true"], lambda event: None)

    async def supervise(self=supervisor):
        await stubborn(1, ended)

    monkeypatch.setattr(supervisor, "_supervise", supervise)
    supervisor.start()
    await asyncio.sleep(0)
    await asyncio.wait_for(supervisor.stop(), 5)
    assert ended == ["ended"] and supervisor.state == "stopped"
