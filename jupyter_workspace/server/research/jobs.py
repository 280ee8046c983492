"""`ResearchManager`: the durable queue of research jobs, their runs, notes and events.

A job is a row of `research_jobs`; each step's checkpoint a row of `research_steps`; what the
report read and cites, with content hashes, rows of `research_sources` (migration 10). The queue
is the table itself: workers (one per `concurrency` slot) claim the oldest queued job in one
transaction, so at most `concurrency` run and memory holds one job per worker however many are
queued. A job left `running` by a server that died is resumed first on the next start, at the
first step without a checkpoint.

Steps (`agent.STEPS`, injectable for tests) run in `protocol.RESEARCH_STEPS` order. A step that
loses the sidecar (`Unavailable`, `SidecarGone`) is tried again once the supervisor reports it
ready; any other exception fails the job with its message (never a traceback). After verify the
report is written as a note through `NotesManager` (so note events fire), updating the job's
earlier note on a re-run while it exists.

File events keep `sources_changed` fresh: a done job whose cited file changed is published
again, and a standing job is queued again after `debounce` quiet seconds, at most once per
`standing_interval`.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import datetime as dt
import importlib
import json
import logging
import math
import os
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from ... import protocol
from ...languages import EXTENSIONS
from .. import fields
from ..errors import BadRequest, Conflict, NotFound, Unavailable, WorkspaceError
from ..events import EventBus
from ..pipelines.config import glob_matcher
from ..sidecar_client import SidecarGone
from ..tasking import cancel_and_wait
from .env import BUDGETS, ResearchEnv, RunContext, content_hash, read_source
from .records import (
    checkpoints,
    end,
    fail,
    job_of_row,
    load,
    requeue,
    still_running,
    validate_scope,
)

log = logging.getLogger(__name__)

Step = Callable[[RunContext], Awaitable[dict[str, Any]]]

STEPS = protocol.RESEARCH_STEPS
MIN_QUESTION, MAX_QUESTION = 3, 2000
MAX_SOURCES_CHECKED = 200  # files hashed for one job's sources_changed
MAX_LIST_PATHS = 2000  # distinct files hashed for a whole list
PUBLISH_EVERY = 0.5  # seconds between progress events of one job
SIDECAR_TRIES = 3  # tries of a step that lost the sidecar
MAX_DETAIL = 200
MAX_ERROR = 500
CANCELLED_NOW = "cancelled now"
_FIELDS = {"question", "scope", "depth", "standing"}


_Jobs = list[dict[str, Any]]
_StepRows = dict[int, list[Any]]
_Rows = list[sqlite3.Row]


class TooMany(WorkspaceError):
    status = 429


def load_steps() -> dict[str, Step]:
    """The real steps (agent.py), imported when the manager starts."""
    agent = importlib.import_module(f"{__package__}.agent")
    return dict(agent.STEPS)


def _one_line(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _error_text(e: BaseException) -> str:
    message = e.message if isinstance(e, WorkspaceError) else str(e)
    return _one_line(message or type(e).__name__, MAX_ERROR)


def _parse_time(stamp: str | None) -> float | None:
    if not stamp:
        return None
    try:
        return dt.datetime.fromisoformat(stamp).timestamp()
    except ValueError:
        return None


class ResearchManager:
    def __init__(
        self,
        env: ResearchEnv,
        bus: EventBus,
        *,
        concurrency: int = 1,
        standing_interval: float = 600.0,
        debounce: float = 30.0,
        max_queued: int = 200,
        steps: dict[str, Step] | None = None,
        sidecar_wait: float = 180.0,
    ) -> None:
        self.env = env
        self.store = env.store
        self.bus = bus
        self.concurrency = max(1, concurrency)
        self.standing_interval = standing_interval
        self.debounce = debounce
        self.max_queued = max_queued
        self.steps = steps  # None: agent.STEPS, loaded at start
        self.sidecar_wait = sidecar_wait
        self._workers: list[asyncio.Task[None]] = []
        self._running: dict[int, asyncio.Task[None]] = {}  # job id -> its run
        self._resume: list[int] = []  # jobs a dead server left running, resumed first
        self._wake = asyncio.Event()
        self._live: dict[int, dict[str, Any]] = {}  # running jobs as last published
        self._last_publish: dict[int, float] = {}
        self._flush: dict[int, asyncio.TimerHandle] = {}
        self._standing: dict[int, asyncio.TimerHandle] = {}
        self._events: asyncio.Queue[dict[str, Any]] | None = None
        self._listener: asyncio.Task[None] | None = None
        self._hashes: dict[str, tuple[tuple[int, int, int], str | None]] = {}
        self._started = False
        self._background: set[asyncio.Task[Any]] = set()

    def _spawn(self, coro: Awaitable[Any]) -> None:
        """Run `coro` in the background, logging (not losing) its failure."""
        task = asyncio.ensure_future(coro)
        self._background.add(task)

        def done(task: asyncio.Task[Any]) -> None:
            self._background.discard(task)
            if not task.cancelled() and task.exception() is not None:
                log.warning("research: %s", _error_text(task.exception()))  # type: ignore[arg-type]

        task.add_done_callback(done)

    # -- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the workers; jobs left running by a server that died go first."""
        if self._started:
            return
        self._started = True
        if self.steps is None:
            try:
                self.steps = load_steps()
            except ImportError as e:  # the agent is missing: jobs fail with the reason
                log.error("research: the steps could not be loaded: %s", e)
                self.steps = {}
        self._resume = await self.store.run(
            lambda conn: [
                row[0]
                for row in conn.execute(
                    "SELECT id FROM research_jobs WHERE status = 'running' ORDER BY id"
                )
            ]
        )
        self._events = self.bus.queue()
        self._listener = asyncio.ensure_future(self._listen())
        self._workers = [asyncio.ensure_future(self._work()) for _ in range(self.concurrency)]

    async def stop(self) -> None:
        """Stop every run; their jobs stay `running` in the database, so the next start
        resumes them at their last checkpoint."""
        for worker in self._workers:
            await cancel_and_wait(worker)
        for task in list(self._running.values()):
            await cancel_and_wait(task)
        self._workers = []
        await cancel_and_wait(self._listener)
        self._listener = None
        if self._events is not None:
            self.bus.drop_queue(self._events)
            self._events = None
        for timer in [*self._standing.values(), *self._flush.values()]:
            timer.cancel()
        self._standing.clear()
        self._flush.clear()
        for task in list(self._background):
            await cancel_and_wait(task)
        self._started = False

    # -- the API -------------------------------------------------------------------------------
    async def create(self, data: dict[str, Any]) -> dict[str, Any]:
        fields.reject_unknown(data, _FIELDS, "research job")
        if "question" not in data:
            raise BadRequest("'question' is required: what should the job research?")
        question = fields.text(data["question"], "question", strip=True)
        if not MIN_QUESTION <= len(question) <= MAX_QUESTION:
            raise BadRequest(
                f"'question' must be {MIN_QUESTION} to {MAX_QUESTION} characters "
                f"(it has {len(question)})"
            )
        depth = fields.choice(data.get("depth", "standard"), "depth", protocol.RESEARCH_DEPTHS)
        standing = fields.boolean(data.get("standing", False), "standing")
        known = await self.known_languages()
        scope = validate_scope(data.get("scope", {}), known)

        def insert(conn: sqlite3.Connection) -> int:
            queued = conn.execute(
                "SELECT count(*) FROM research_jobs WHERE status = 'queued'"
            ).fetchone()[0]
            if queued >= self.max_queued:
                raise TooMany(
                    f"{queued} research jobs are queued already (the limit is "
                    f"{self.max_queued}): wait for some to finish or cancel some"
                )
            stamp = fields.now()
            cursor = conn.execute(
                "INSERT INTO research_jobs(question, scope, depth, status, standing, created, "
                "updated) VALUES (?, ?, ?, 'queued', ?, ?, ?)",
                (question, json.dumps(scope), depth, int(standing), stamp, stamp),
            )
            assert cursor.lastrowid is not None
            return cursor.lastrowid

        job_id = await self.store.run(insert)
        self._wake.set()
        return await self._publish(job_id)

    async def known_languages(self) -> list[str]:
        """The chunker's languages and any the index has recorded."""

        def read(conn: sqlite3.Connection) -> set[str]:
            return {
                row[0]
                for row in conn.execute(
                    "SELECT DISTINCT language FROM files WHERE language IS NOT NULL"
                )
            }

        return sorted(set(EXTENSIONS.values()) | await self.store.run(read))

    async def list(self, limit: int = 500) -> builtins.list[dict[str, Any]]:
        def read(
            conn: sqlite3.Connection,
        ) -> tuple[_Jobs, _StepRows]:
            rows = conn.execute(
                "SELECT * FROM research_jobs ORDER BY id DESC LIMIT ?", (limit,)
            ).fetchall()
            jobs = [job_of_row(row) for row in rows]
            steps: dict[int, builtins.list[Any]] = {}
            if jobs:
                low = jobs[-1]["id"]
                for row in conn.execute(
                    "SELECT job_id, name, status FROM research_steps WHERE job_id >= ?", (low,)
                ):
                    steps.setdefault(row[0], []).append(row)
            return jobs, steps

        jobs, steps = await self.store.run(read)
        changed = await self._changed_jobs(
            [job["id"] for job in jobs if job["status"] == "done"], MAX_LIST_PATHS
        )
        for job in jobs:
            self._overlay(job)
            done = {row[1]: row[2] for row in steps.get(job["id"], [])}
            job["steps"] = [{"name": name, "status": done.get(name, "pending")} for name in STEPS]
            job["sources_changed"] = job["id"] in changed
        return jobs

    async def get(self, job_id: int, with_sources: bool = True) -> dict[str, Any]:
        job = await self.store.run(lambda conn: load(conn, job_id, with_sources))
        self._overlay(job)
        if job["status"] == "done":
            job["sources_changed"] = bool(await self._changed_jobs([job_id], MAX_SOURCES_CHECKED))
        return job

    async def cancel(self, job_id: int) -> dict[str, Any]:
        for _ in range(200):

            def queued_to_cancelled(conn: sqlite3.Connection) -> str:
                row = conn.execute(
                    "SELECT status FROM research_jobs WHERE id = ?", (job_id,)
                ).fetchone()
                if row is None:
                    raise NotFound(f"unknown research job id: {job_id}")
                if row[0] == "queued" or (row[0] == "running" and job_id in self._resume):
                    end(conn, job_id, "cancelled", None)
                    return CANCELLED_NOW
                return str(row[0])

            status = await self.store.run(queued_to_cancelled)
            if status == CANCELLED_NOW:
                if job_id in self._resume:
                    self._resume.remove(job_id)
                return await self._publish(job_id)
            if status != "running":
                raise Conflict(f"research job {job_id} is {status}: there is nothing to cancel")
            task = self._running.get(job_id)
            if task is None:  # claimed a moment ago: its run is about to start
                await asyncio.sleep(0.02)
                continue
            await cancel_and_wait(task)
            await self.store.run(
                lambda conn: end(conn, job_id, "cancelled", None, only_running=True)
            )
            return await self._publish(job_id)
        raise Conflict(f"research job {job_id} could not be cancelled yet; try again")

    async def rerun(self, job_id: int) -> dict[str, Any]:
        def again(conn: sqlite3.Connection) -> None:
            row = conn.execute(
                "SELECT status FROM research_jobs WHERE id = ?", (job_id,)
            ).fetchone()
            if row is None:
                raise NotFound(f"unknown research job id: {job_id}")
            if row[0] in ("running", "queued"):
                raise Conflict(f"research job {job_id} is {row[0]} already")
            requeue(conn, job_id)

        await self.store.run(again)
        self._wake.set()
        return await self._publish(job_id)

    async def update(self, job_id: int, data: dict[str, Any]) -> dict[str, Any]:
        fields.reject_unknown(data, {"standing"}, "research job change")
        if "standing" not in data:
            raise BadRequest('nothing to change: send {"standing": true|false}')
        standing = fields.boolean(data["standing"], "standing")

        def write(conn: sqlite3.Connection) -> None:
            cursor = conn.execute(
                "UPDATE research_jobs SET standing = ?, updated = ? WHERE id = ?",
                (int(standing), fields.now(), job_id),
            )
            if cursor.rowcount == 0:
                raise NotFound(f"unknown research job id: {job_id}")

        await self.store.run(write)
        if not standing:
            timer = self._standing.pop(job_id, None)
            if timer is not None:
                timer.cancel()
        return await self._publish(job_id)

    async def delete(self, job_id: int) -> None:
        await self.store.run(lambda conn: load(conn, job_id, False))
        if job_id in self._resume:
            self._resume.remove(job_id)
        task = self._running.get(job_id)
        if task is not None:
            await cancel_and_wait(task)

        def remove(conn: sqlite3.Connection) -> None:
            if conn.execute("DELETE FROM research_jobs WHERE id = ?", (job_id,)).rowcount == 0:
                raise NotFound(f"unknown research job id: {job_id}")

        await self.store.run(remove)
        for timers in (self._standing, self._flush):
            timer = timers.pop(job_id, None)
            if timer is not None:
                timer.cancel()
        self._live.pop(job_id, None)
        self.bus.publish({"type": protocol.RESEARCH_DELETED, "id": job_id})

    # -- the workers ---------------------------------------------------------------------------
    async def _work(self) -> None:
        while True:
            # cleared before looking: a job queued while the claim reads the table sets it
            # again, so it is not left waiting for the next one
            self._wake.clear()
            job_id = await self._claim()
            if job_id is None:
                await self._wake.wait()
                continue
            task = asyncio.ensure_future(self._run(job_id))
            self._running[job_id] = task
            try:
                await asyncio.wait([task])  # its end, whatever it is; a cancel stays outside
            except asyncio.CancelledError:
                await cancel_and_wait(task)
                raise
            finally:
                if self._running.get(job_id) is task:
                    del self._running[job_id]
                self._live.pop(job_id, None)
                self._last_publish.pop(job_id, None)
                flush = self._flush.pop(job_id, None)
                if flush is not None:
                    flush.cancel()

    async def _claim(self) -> int | None:
        """The next job to run: one a dead server left running, else the oldest queued one,
        marked running (a fresh run: runs + 1, started now) in the same transaction."""
        while self._resume:
            job_id = self._resume.pop(0)
            still = await self.store.run(still_running(job_id))
            if still:
                return job_id

        def claim(conn: sqlite3.Connection) -> int | None:
            row = conn.execute(
                "SELECT id FROM research_jobs WHERE status = 'queued' ORDER BY id LIMIT 1"
            ).fetchone()
            if row is None:
                return None
            stamp = fields.now()
            conn.execute("DELETE FROM research_steps WHERE job_id = ?", (row[0],))
            conn.execute(
                "UPDATE research_jobs SET status = 'running', runs = runs + 1, started = ?, "
                "ended = NULL, error = NULL, progress = 0, step = NULL, tokens_in = 0, "
                "tokens_out = 0, cost = NULL, updated = ? WHERE id = ?",
                (stamp, stamp, row[0]),
            )
            return int(row[0])

        return await self.store.run(claim)

    async def _run(self, job_id: int) -> None:
        """One run of a job, from its first step without a checkpoint to its note."""
        steps = self.steps or {}
        step = STEPS[0]
        try:
            job, outputs = await self.store.run(lambda conn: checkpoints(conn, job_id))
            ctx = RunContext(
                env=self.env,
                job={
                    "id": job_id,
                    "question": job["question"],
                    "depth": job["depth"],
                    "scope": job["scope"],
                },
                budget=BUDGETS[job["depth"]],
                outputs=outputs,
            )
            ctx.usage.tokens_in = job["tokens_in"]
            ctx.usage.tokens_out = job["tokens_out"]
            ctx.usage.cost = job["cost"]
            self._live[job_id] = {"progress": job["progress"], "detail": None}
            for index, step in enumerate(STEPS):
                if step in outputs:
                    continue
                if step not in steps:
                    raise RuntimeError(f"the research step '{step}' is not available")
                await self._step_started(job_id, step, index)
                ctx.progress = self._reporter(job_id, index)
                output = await self._call(job_id, steps[step], ctx)
                outputs[step] = output
                await self._step_done(job_id, step, index, output, ctx)
            await self._finish(job_id, job, outputs, ctx)
        except asyncio.CancelledError:
            raise
        except Exception as e:
            if not isinstance(e, WorkspaceError):
                log.warning("research job %d failed at %s", job_id, step, exc_info=True)
            error = f"{step}: {_error_text(e)}"
            await self.store.run(lambda conn: fail(conn, job_id, step, error))
            await self._publish(job_id)

    async def _call(self, job_id: int, step: Step, ctx: RunContext) -> dict[str, Any]:
        """Run a step; if the sidecar went away, wait for it to be ready and try again."""
        for attempt in range(1, SIDECAR_TRIES + 1):
            try:
                output = await step(ctx)
            except (Unavailable, SidecarGone) as e:
                if attempt == SIDECAR_TRIES:
                    raise
                log.info("research job %d: %s; waiting for the AI sidecar", job_id, e)
                self._set_live(job_id, detail="waiting for the AI sidecar to be ready")
                await self._publish(job_id)
                await self._sidecar_ready(e)
                continue
            if not isinstance(output, dict):
                raise RuntimeError("the step returned no checkpoint")
            try:
                json.dumps(output)
            except (TypeError, ValueError) as e:
                raise RuntimeError(f"the step's checkpoint is not JSON: {e}") from None
            return output
        raise AssertionError("unreachable")

    async def _sidecar_ready(self, cause: BaseException) -> None:
        supervisor = self.env.supervisor
        deadline = time.monotonic() + self.sidecar_wait
        # a sidecar that died a moment ago may still be reported ready: give the supervisor
        # a moment to notice (its process exits, or a new one replaces it)
        pid, noticed = supervisor.pid, time.monotonic() + 2.0
        while supervisor.state == "ready" and supervisor.pid == pid:
            if time.monotonic() > noticed:
                return  # it never went away: try again
            await asyncio.sleep(0.1)
        while supervisor.state != "ready":
            if supervisor.state == "stopped" or time.monotonic() > deadline:
                raise Unavailable(
                    f"the AI sidecar is {supervisor.state} ({_error_text(cause)})"
                ) from None
            await asyncio.sleep(0.2)

    async def _step_started(self, job_id: int, step: str, index: int) -> None:
        progress = index / len(STEPS)

        def write(conn: sqlite3.Connection) -> None:
            stamp = fields.now()
            conn.execute(
                "INSERT OR REPLACE INTO research_steps(job_id, name, status, started) "
                "VALUES (?, ?, 'running', ?)",
                (job_id, step, stamp),
            )
            conn.execute(
                "UPDATE research_jobs SET step = ?, progress = ?, updated = ? WHERE id = ?",
                (step, progress, stamp, job_id),
            )

        await self.store.run(write)
        self._live[job_id] = {"progress": progress, "detail": None}
        await self._publish(job_id)

    async def _step_done(
        self, job_id: int, step: str, index: int, output: dict[str, Any], ctx: RunContext
    ) -> None:
        progress = (index + 1) / len(STEPS)
        detail = self._live.get(job_id, {}).get("detail")
        mode = output.get("mode") if step == "plan" else None
        usage = ctx.usage

        def write(conn: sqlite3.Connection) -> None:
            stamp = fields.now()
            conn.execute(
                "UPDATE research_steps SET status = 'done', output = ?, detail = ?, ended = ? "
                "WHERE job_id = ? AND name = ?",
                (json.dumps(output), detail, stamp, job_id, step),
            )
            conn.execute(
                "UPDATE research_jobs SET progress = ?, tokens_in = ?, tokens_out = ?, "
                "cost = ?, updated = ? WHERE id = ?",
                (progress, usage.tokens_in, usage.tokens_out, usage.cost, stamp, job_id),
            )
            if mode in ("llm", "retrieval"):
                conn.execute("UPDATE research_jobs SET mode = ? WHERE id = ?", (mode, job_id))

        await self.store.run(write)
        self._live[job_id] = {"progress": progress, "detail": detail}
        await self._publish(job_id)

    def _reporter(self, job_id: int, index: int) -> Callable[[float, str], None]:
        def report(fraction: float, detail: str) -> None:
            try:
                fraction = float(fraction)
            except (TypeError, ValueError):
                fraction = 0.0
            if not math.isfinite(fraction):
                fraction = 0.0
            fraction = min(max(fraction, 0.0), 1.0)
            self._set_live(
                job_id,
                progress=(index + fraction) / len(STEPS),
                detail=_one_line(detail, MAX_DETAIL) if detail else None,
            )
            self._throttled(job_id)

        return report

    def _set_live(self, job_id: int, **changes: Any) -> None:
        if job_id in self._live:
            self._live[job_id].update(changes)

    def _throttled(self, job_id: int) -> None:
        """Publish a progress event now, or when PUBLISH_EVERY has passed since the last."""
        if job_id in self._flush:
            return
        wait = self._last_publish.get(job_id, 0.0) + PUBLISH_EVERY - time.monotonic()
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self._flush.pop(job_id, None)
            if job_id in self._live:
                self._spawn(self._publish(job_id))

        self._flush[job_id] = loop.call_later(max(wait, 0.0), fire)

    async def _finish(
        self, job_id: int, job: dict[str, Any], outputs: dict[str, dict[str, Any]], ctx: RunContext
    ) -> None:
        """The report as a note, the sources with their hashes, the usage: done."""
        verified = outputs["verify"]
        markdown = verified.get("markdown")
        if not isinstance(markdown, str) or not markdown.strip():
            raise RuntimeError("the verify step returned no report")
        note_id = await self._write_note(job, markdown)
        sources: dict[str, tuple[str | None, bool]] = {}
        for source in verified.get("sources") or []:
            if not isinstance(source, dict) or not isinstance(source.get("path"), str):
                continue
            digest = source.get("hash")
            previous = sources.get(source["path"], (None, False))
            sources[source["path"]] = (
                digest if isinstance(digest, str) else previous[0],
                bool(source.get("cited")) or previous[1],
            )
        plan_mode = outputs.get("plan", {}).get("mode")
        mode = plan_mode if plan_mode in ("llm", "retrieval") else None
        usage = ctx.usage

        def write(conn: sqlite3.Connection) -> None:
            conn.execute("DELETE FROM research_sources WHERE job_id = ?", (job_id,))
            conn.executemany(
                "INSERT INTO research_sources(job_id, path, hash, cited) VALUES (?, ?, ?, ?)",
                [(job_id, path, h, int(c)) for path, (h, c) in sources.items()],
            )
            stamp = fields.now()
            conn.execute(
                "UPDATE research_jobs SET status = 'done', progress = 1, note_id = ?, mode = ?, "
                "tokens_in = ?, tokens_out = ?, cost = ?, error = NULL, ended = ?, updated = ? "
                "WHERE id = ?",
                (
                    note_id,
                    mode,
                    usage.tokens_in,
                    usage.tokens_out,
                    usage.cost,
                    stamp,
                    stamp,
                    job_id,
                ),
            )

        await self.store.run(write)
        for path in sources:
            self._hashes.pop(path, None)
        self._live.pop(job_id, None)
        await self._publish(job_id)

    async def _write_note(self, job: dict[str, Any], markdown: str) -> int:
        notes = self.env.notes
        title = _one_line("Research: " + job["question"], notes.limits.max_title_chars)
        if job["note_id"] is not None:
            for _ in range(3):
                try:
                    note = await notes.get(job["note_id"])
                    await notes.update(
                        note["id"],
                        {"title": title, "body": markdown, "base_revision": note["revision"]},
                    )
                    return int(note["id"])
                except NotFound:
                    break
                except Conflict:  # edited at this very moment: read it again
                    continue
        note = await notes.create({"title": title, "body": markdown})
        # kept at once: a run stopped before it ends resumes at verify and updates this note
        await self.store.run(
            lambda conn: conn.execute(
                "UPDATE research_jobs SET note_id = ? WHERE id = ?", (note["id"], job["id"])
            )
        )
        return int(note["id"])

    # -- events --------------------------------------------------------------------------------
    def _overlay(self, job: dict[str, Any]) -> None:
        """A running job's progress and detail as its step last reported them."""
        live = self._live.get(job["id"])
        if live is not None and job["status"] == "running":
            job["progress"] = live["progress"]
            if live.get("detail"):
                job["detail"] = live["detail"]

    async def _publish(self, job_id: int, sources_changed: bool | None = None) -> dict[str, Any]:
        """Publish the job as it is now (without sources); answer it with them."""
        try:
            job = await self.get(job_id)
        except NotFound:
            return {}
        if sources_changed is not None:
            job["sources_changed"] = sources_changed
        if job_id in self._live:
            self._last_publish[job_id] = time.monotonic()
        event = {k: v for k, v in job.items() if k != "sources"}
        self.bus.publish({"type": protocol.RESEARCH_JOB, "job": event})
        return job

    # -- sources changed -----------------------------------------------------------------------
    async def _changed_jobs(self, job_ids: builtins.list[int], cap: int) -> set[int]:
        """The jobs among `job_ids` one of whose sources no longer has its recorded hash."""
        if not job_ids:
            return set()

        def read(conn: sqlite3.Connection) -> builtins.list[tuple[int, str, str | None]]:
            rows: builtins.list[tuple[int, str, str | None]] = []
            for start in range(0, len(job_ids), 500):
                chunk = job_ids[start : start + 500]
                marks = ",".join("?" * len(chunk))
                rows.extend(
                    (row[0], row[1], row[2])
                    for row in conn.execute(
                        f"SELECT job_id, path, hash FROM research_sources "
                        f"WHERE job_id IN ({marks}) ORDER BY job_id, path",
                        chunk,
                    )
                )
            return rows

        rows = await self.store.run(read)
        paths: builtins.list[str] = []
        for _, path, _ in rows:
            if path not in paths and len(paths) < cap:
                paths.append(path)
        current = await self._current_hashes(paths)
        return {
            job_id for job_id, path, digest in rows if path in current and current[path] != digest
        }

    async def _current_hashes(self, paths: builtins.list[str]) -> dict[str, str | None]:
        notes = [p for p in paths if p.startswith(protocol.NOTES_PREFIX)]
        files = [p for p in paths if not p.startswith(protocol.NOTES_PREFIX)]
        loop = asyncio.get_running_loop()
        hashes = await loop.run_in_executor(None, self._file_hashes, files)
        if notes:
            ids = {p: p[len(protocol.NOTES_PREFIX) :] for p in notes}

            def read(conn: sqlite3.Connection) -> dict[str, str | None]:
                found: dict[str, str | None] = {}
                for path, raw in ids.items():
                    row = (
                        conn.execute("SELECT body FROM notes WHERE id = ?", (int(raw),)).fetchone()
                        if raw.isdigit()
                        else None
                    )
                    found[path] = content_hash(row[0].encode("utf-8")) if row else None
                return found

            hashes.update(await self.store.run(read))
        return hashes

    def _file_hashes(self, paths: builtins.list[str]) -> dict[str, str | None]:
        """Content hashes now (None: unreadable), read again only when a file's stat moved."""
        found: dict[str, str | None] = {}
        for path in paths:
            try:
                st = os.stat(Path(self.env.root_dir) / path)
                key: tuple[int, int, int] | None = (st.st_mtime_ns, st.st_size, st.st_ino)
            except (OSError, ValueError):
                key = None
            cached = self._hashes.get(path)
            if key is not None and cached is not None and cached[0] == key:
                found[path] = cached[1]
                continue
            read = read_source(self.env, path)
            found[path] = read[1] if read else None
            if key is not None:
                self._hashes[path] = (key, found[path])
        return found

    async def _listen(self) -> None:
        """File and note events: republish done jobs whose sources changed; schedule
        standing jobs' re-runs."""
        assert self._events is not None
        while True:
            batch = [await self._events.get()]
            while not self._events.empty() and len(batch) < 500:
                batch.append(self._events.get_nowait())
            paths: set[str] = set()
            folders: set[str] = set()
            for event in batch:
                kind = event.get("type")
                if kind in (protocol.FILE_CHANGED, protocol.FILE_DELETED):
                    path = event.get("path")
                    if isinstance(path, str):
                        (folders if event.get("directory") else paths).add(path)
                elif kind in (protocol.NOTE_UPDATED, protocol.NOTE_DELETED):
                    note = event.get("note") or {"id": event.get("id")}
                    paths.add(f"{protocol.NOTES_PREFIX}{note.get('id')}")
            if paths or folders:
                try:
                    await self._files_changed(paths, folders)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("research: handling file events failed")

    async def _files_changed(self, paths: set[str], folders: set[str]) -> None:
        for path in paths:
            self._hashes.pop(path, None)
        for folder in folders:
            for path in [p for p in self._hashes if p.startswith(folder + "/")]:
                self._hashes.pop(path, None)
        names = sorted(paths)
        prefixes = sorted(folders)

        def read(
            conn: sqlite3.Connection,
        ) -> tuple[dict[int, dict[str, Any]], _Rows]:
            cited: dict[int, dict[str, Any]] = {}
            for start in range(0, len(names), 500):
                chunk = names[start : start + 500]
                marks = ",".join("?" * len(chunk))
                for row in conn.execute(
                    "SELECT DISTINCT j.id, j.standing, j.note_id FROM research_sources s "
                    f"JOIN research_jobs j ON j.id = s.job_id WHERE s.path IN ({marks})",
                    chunk,
                ):
                    cited[row[0]] = {"standing": bool(row[1]), "note_id": row[2]}
            for prefix in prefixes:
                escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                for row in conn.execute(
                    "SELECT DISTINCT j.id, j.standing, j.note_id FROM research_sources s "
                    "JOIN research_jobs j ON j.id = s.job_id WHERE s.path LIKE ? ESCAPE '\\'",
                    (escaped + "/%",),
                ):
                    cited[row[0]] = {"standing": bool(row[1]), "note_id": row[2]}
            standing = conn.execute(
                "SELECT id, scope, note_id FROM research_jobs WHERE standing = 1"
            ).fetchall()
            return cited, standing

        cited, standing = await self.store.run(read)
        for job_id, info in cited.items():
            own = f"{protocol.NOTES_PREFIX}{info['note_id']}"
            if paths == {own} and not folders:
                continue  # the job's own report was written
            job = await self._publish(job_id)
            if info["standing"] and job.get("sources_changed"):
                self._schedule_standing(job_id)
        files = [p for p in paths if not p.startswith(protocol.NOTES_PREFIX)]
        for row in standing:
            if row[0] in cited or not files:
                continue
            globs = json.loads(row[1] or "{}").get("paths") or []
            if globs and any(glob_matcher(globs).match(p) for p in files):
                self._schedule_standing(row[0])

    def _schedule_standing(self, job_id: int) -> None:
        """A re-run after `debounce` quiet seconds (each change starts the wait again)."""
        timer = self._standing.pop(job_id, None)
        if timer is not None:
            timer.cancel()
        self._standing[job_id] = asyncio.get_running_loop().call_later(
            self.debounce, lambda: self._spawn(self._standing_rerun(job_id))
        )

    async def _standing_rerun(self, job_id: int) -> None:
        self._standing.pop(job_id, None)
        row = await self.store.run(
            lambda conn: conn.execute(
                "SELECT status, standing, started FROM research_jobs WHERE id = ?", (job_id,)
            ).fetchone()
        )
        if row is None or not row[1] or row[0] == "cancelled":  # a user stopped it
            return
        if row[0] in ("running", "queued"):  # look again once this run is over
            self._schedule_standing(job_id)
            return
        last = _parse_time(row[2])
        wait = (last + self.standing_interval - time.time()) if last is not None else 0.0
        if wait > 0:
            self._standing[job_id] = asyncio.get_running_loop().call_later(
                wait, lambda: self._spawn(self._standing_rerun(job_id))
            )
            return
        with contextlib.suppress(NotFound, Conflict):
            await self.rerun(job_id)
            log.info("research job %d: a standing re-run, its sources changed", job_id)
