"""One pipeline run: a terminado terminal, its bounded output, its failures as they stream.

The run's own terminado client sees every chunk the PTY produces: it keeps a bounded tail
(addressed by offsets in the whole stream, so readers follow it with a cursor) and feeds each
line, cut to a bounded length, to the failure parser. A stop is SIGINT, then SIGTERM, then
SIGKILL to the process group.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import sqlite3
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from ..failures import FailureParser
from ..tasks import FAILURE_TAG
from .config import Pipeline

TAIL_CHARS = 256 * 1024  # output kept per run (memory while running, SQLite after)
MAX_LINE_CHARS = 8192  # longer lines are cut before parsing
REPLAY_READS = 256  # terminado reads replayed to a terminal socket that connects late
MAX_SOCKET_BUFFER = 8 * 1024 * 1024  # bytes a terminal socket may fall behind before closing
STOP_GRACE = (1.0, 2.0)  # seconds after SIGINT, then after SIGTERM, before SIGKILL


class Output:
    """The run's output: a bounded tail, addressed by character offsets in the whole stream."""

    def __init__(self, limit: int = TAIL_CHARS) -> None:
        self.limit = limit
        self.chunks: deque[str] = deque()
        self.kept = 0  # characters in `chunks`
        self.total = 0  # characters ever written

    def write(self, text: str) -> None:
        self.chunks.append(text)
        self.kept += len(text)
        self.total += len(text)
        while self.kept - len(self.chunks[0]) >= self.limit:
            self.kept -= len(self.chunks.popleft())

    @property
    def start(self) -> int:
        return self.total - self.kept

    def text(self) -> str:
        return "".join(self.chunks)[-self.limit :]

    def since(self, offset: int, limit: int = 65536) -> tuple[str, int, bool]:
        """(text from `offset`, the next offset, whether some of it was dropped)."""
        gap = offset < self.start
        begin = max(offset, self.start)
        text = "".join(self.chunks)[begin - self.start : begin - self.start + limit]
        return text, begin + len(text), gap


class RunClient:
    """A terminado client of the run's terminal: sees every chunk the PTY produces."""

    size = (None, None)  # terminado sizes the PTY to its clients; this one has no screen

    def __init__(self, run: ActiveRun) -> None:
        self.run = run

    def on_pty_read(self, text: str) -> None:
        self.run.received(text)
        self.run.drop_stalled_sockets()

    def on_pty_died(self) -> None:
        self.run.died()


@dataclass
class ActiveRun:
    id: int
    pipeline: Pipeline
    parser: FailureParser
    output: Output = field(default_factory=Output)
    terminal: str = ""
    term: Any = None
    started: float = field(default_factory=time.monotonic)
    stop_reason: str | None = None  # "stopped" | "timeout"
    partial: str = ""
    ended: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    timer: asyncio.TimerHandle | None = None

    def received(self, text: str) -> None:
        self.output.write(text)
        lines = (self.partial + text).split("\n")
        self.partial = lines.pop()[-MAX_LINE_CHARS:]
        for line in lines:
            self.parser.feed(line[:MAX_LINE_CHARS])

    def drop_stalled_sockets(self) -> None:
        """A browser that stopped reading (a suspended laptop, a slow link) would make the
        server buffer the whole flood for it: close its socket past a bound instead; it can
        reconnect and get terminado's replay of the recent output."""
        if self.term is None:
            return
        for client in list(self.term.clients):
            stream = getattr(getattr(client, "ws_connection", None), "stream", None)
            # bytes written but not yet sent (tornado has no public name for it)
            pending = getattr(stream, "_total_write_index", 0) - getattr(
                stream, "_total_write_done_index", 0
            )
            if stream is not None and pending > MAX_SOCKET_BUFFER:
                # drop the connection and what it holds at once
                with contextlib.suppress(Exception):
                    stream.close()

    def died(self) -> None:
        if self.partial:
            self.parser.feed(self.partial)
            self.partial = ""
        if not self.ended.done():
            self.ended.set_result(None)

    def open(self, terminals: Any, argv: list[str], cwd: str) -> None:
        """Start the run's terminal in jupyter_server's terminal manager and follow it."""
        # `create` (not terminado's new_named_terminal) so jupyter_server's terminal list
        # knows it at once (last_activity), as it knows the terminals users open
        terminals.create(
            name=self.terminal,
            shell_command=argv,
            cwd=cwd,
            extra_env={**self.pipeline.env, "JUPYTER_WORKSPACE_RUN": str(self.id)},
        )
        self.term = terminals.get_terminal(self.terminal)
        self.term.clients.append(RunClient(self))
        # terminado keeps the last 1000 reads (up to 64 KiB each) for sockets that connect
        # late: up to 64 MB for a flood. 256 (~1 MB of typical 4 KB reads) cover a run's start
        # for a terminal opened a moment later; the run keeps its own tail.
        self.term.read_buffer = deque(self.term.read_buffer, maxlen=REPLAY_READS)

    def detach(self) -> None:
        """Break the term -> client -> run -> term cycle as soon as the run is recorded."""
        if self.term is not None:
            self.term.clients[:] = [c for c in self.term.clients if not isinstance(c, RunClient)]

    async def wait_ended(self, poll: float = 1.0) -> None:
        """Until the run has ended: its terminal closed, or its own process died while
        something it started (a `sleep` of a killed shell) still holds the terminal open,
        which would keep the run "running" for as long as that lives; those are killed."""
        while not self.ended.done():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.ended), poll)
            proc = self.term.ptyproc if self.term is not None else None
            if self.ended.done() or proc is None or proc.isalive():
                continue
            with contextlib.suppress(OSError):  # the leader's group: what it left behind
                os.killpg(proc.pid, signal.SIGKILL)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.ended), 5.0)
            self.died()

    async def exit_code(self) -> int | None:
        """The process's exit code (minus the signal that ended it) once the PTY has closed."""
        proc = self.term.ptyproc
        for _ in range(50):  # terminado closed the PTY: the process is reaped or soon will be
            if not proc.isalive():
                break
            await asyncio.sleep(0.05)
        return (
            proc.exitstatus
            if proc.exitstatus is not None
            else (-proc.signalstatus if proc.signalstatus is not None else None)
        )

    async def interrupt(self) -> None:
        """SIGINT to the process group, then TERM, then KILL; returns when the PTY closed."""
        for sig, grace in (
            (signal.SIGINT, STOP_GRACE[0]),
            (signal.SIGTERM, STOP_GRACE[1]),
            (signal.SIGKILL, 5.0),
        ):
            with contextlib.suppress(OSError):
                os.killpg(self.term.ptyproc.pid, sig)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(self.ended), grace)
                break


def run_json(row: sqlite3.Row, active: ActiveRun | None = None) -> dict[str, Any]:
    return {
        "id": row["id"],
        "pipeline": row["pipeline"],
        "command": json.loads(row["command"]),
        "cwd": row["cwd"],
        "trigger": row["trigger"],
        "status": row["status"],
        "exit_code": row["exit_code"],
        "started": row["started"],
        "ended": row["ended"],
        "duration": row["duration"],
        "terminal": active.terminal if active else None,
        "output_bytes": active.output.total if active else row["output_chars"],
        "failures": json.loads(row["failures"] or "[]"),
        "summary": row["summary"],
        "error": row["error"],
    }


def failure_task(failure: dict[str, Any], pipeline: str) -> dict[str, Any]:
    where = f"{failure['path']}:{failure['line']}" if failure["path"] else pipeline
    return {
        "tag": FAILURE_TAG,
        "text": f"{pipeline}: {failure['message']}",
        "path": failure["path"],
        "line": failure["line"],
        "snippet": f"{where}: {failure['message']}"[:500],
        "owner": None,
        "ref": None,
        "due": None,
        "done": False,
    }
