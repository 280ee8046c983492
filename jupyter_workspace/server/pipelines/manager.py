"""`PipelineManager`: which pipelines there are, whether they may run, their runs and watch mode.

It reads `workspace.toml` (config.py) and keeps the hash a user approved; starts each run in
jupyter_server's terminal manager (runs.py); records a run when its PTY closes (exit code,
duration, the tail, the failures) and turns its failures into detected tasks, resolved when a
later run passes; and reruns pipelines whose `watch` globs match a changed file.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from ... import protocol
from .. import fields
from ..assistant import Assistant
from ..errors import BadRequest, Conflict, NotFound, WorkspaceError
from ..events import EventBus
from ..failures import MAX_FAILURES, FailureParser
from ..store import Store
from ..tasking import cancel_and_wait
from .config import (
    CONFIG_NAME,
    Approval,
    ConfigError,
    ConfigState,
    Pipeline,
    glob_matcher,
    read_config,
)
from .runs import ActiveRun, failure_task, run_json

TRIGGERS = ("user", "watch", "magic", "mcp")
SCOPE = "@pipelines/"


class Disabled(WorkspaceError):
    status = 503


class Untrusted(Conflict):
    """The config's content has not been approved by a user allowed to run terminals."""


class PipelineManager:
    def __init__(
        self,
        root: Path,
        store: Store,
        bus: EventBus,
        extracted: Any,
        assistant: Assistant,
        terminals: Any = None,
        log: Any = None,
    ) -> None:
        """`terminals`: a callable answering jupyter_server_terminals' TerminalManager, or
        None when the server has terminals disabled."""
        self.root = root.resolve()
        self.store = store
        self.bus = bus
        self.extracted = extracted
        self.assistant = assistant  # summaries of failed runs
        self._terminals = terminals
        self.log = log
        self.active: dict[int, ActiveRun] = {}
        self._config = ConfigState((-1,), {}, None, None)
        self._approval: Approval | None = None
        self._watch_timers: dict[str, asyncio.TimerHandle] = {}
        self._rerun: set[str] = set()
        self._events: asyncio.Queue[dict[str, Any]] | None = None
        self._listener: asyncio.Task[None] | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        """Runs left 'running' by a server that died are 'interrupted'; the last approval of
        the config is loaded (a file changed while the server was down stays untrusted);
        watch file events."""
        await self.store.run(
            lambda conn: conn.execute(
                "UPDATE runs SET status = 'interrupted', error = 'the server stopped during the "
                "run' WHERE status = 'running'"
            )
        )
        row = await self.store.run(
            lambda conn: conn.execute(
                "SELECT hash, approved_by, approved_at FROM pipeline_trust WHERE path = ?",
                (CONFIG_NAME,),
            ).fetchone()
        )
        self._approval = Approval(row[0], row[1], row[2]) if row else None
        self._events = self.bus.queue()
        self._listener = asyncio.ensure_future(self._listen())

    async def stop(self) -> None:
        await cancel_and_wait(self._listener)
        if self._events is not None:
            self.bus.drop_queue(self._events)
        for timer in self._watch_timers.values():
            timer.cancel()
        for run in list(self.active.values()):
            with contextlib.suppress(Exception):
                await self._stop(run, "stopped")

    # -- config --------------------------------------------------------------------------------
    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME

    def config(self) -> tuple[dict[str, Pipeline], ConfigError | None]:
        state = self.read_config()
        return state.pipelines, state.error

    def read_config(self, fresh: bool = False) -> ConfigState:
        """The config, read again when its stat identity changed, or always when `fresh`:
        what runs or is approved is checked against the bytes on disk now, not a cache."""
        try:
            st = self.config_path.stat()
            key: tuple[int, ...] | None = (st.st_mtime_ns, st.st_ctime_ns, st.st_size, st.st_ino)
        except OSError:
            key = None
        if key is None:
            self._config = ConfigState(None, {}, None, None)
        elif fresh or key != self._config.key:
            self._config = read_config(self.config_path, key, self._config)
        return self._config

    def pipeline(self, name: str, state: ConfigState | None = None) -> Pipeline:
        state = state or self.read_config()
        error = state.error
        if error is not None:
            raise BadRequest(f"{error.message}" + (f" (line {error.line})" if error.line else ""))
        if name not in state.pipelines:
            raise NotFound(f"no pipeline named '{name}' in {CONFIG_NAME}")
        return state.pipelines[name]

    # -- trust ---------------------------------------------------------------------------------
    def trusted(self, state: ConfigState) -> bool:
        return (
            state.hash is not None
            and self._approval is not None
            and state.hash == self._approval.hash
        )

    def _require_trust(self, state: ConfigState) -> None:
        if not self.trusted(state):
            changed = (
                "has changed since it was last trusted"
                if self._approval
                else "has not been trusted yet"
            )
            raise Untrusted(
                f"{CONFIG_NAME} {changed}: nothing in it runs until a user allowed to use "
                "terminals reviews it and trusts it ('Trust this configuration' in the "
                "Pipelines panel)",
                trust_required=True,
            )

    async def approve(self, digest: str, user: str | None) -> dict[str, Any]:
        """Trust the config whose content hashes to `digest`: the content the user reviewed,
        so a file changed after it was shown is not approved by mistake (409)."""
        state = self.read_config(fresh=True)
        if state.key is None:
            raise NotFound(f"there is no {CONFIG_NAME} to trust")
        if state.hash != digest:
            raise Conflict(
                f"{CONFIG_NAME} has changed since it was shown: review it again before trusting it"
            )
        approval = Approval(digest, user, fields.now())
        await self.store.run(
            lambda conn: conn.execute(
                "INSERT INTO pipeline_trust(path, hash, approved_by, approved_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET hash = excluded.hash, "
                "approved_by = excluded.approved_by, approved_at = excluded.approved_at",
                (CONFIG_NAME, approval.hash, approval.by, approval.at),
            )
        )
        self._approval = approval
        if self.log is not None:
            self.log.info("%s (sha256 %s) trusted by %s", CONFIG_NAME, digest[:12], user)
        self.bus.publish({"type": protocol.PIPELINES_CHANGED, "reason": "trusted"})
        return {"config": self._config_json(state)}

    def _config_json(self, state: ConfigState) -> dict[str, Any]:
        error = state.error
        approval = self._approval
        return {
            "path": CONFIG_NAME,
            "exists": state.key is not None,
            "error": {"message": error.message, "line": error.line} if error else None,
            "hash": state.hash,
            "trusted": self.trusted(state),
            "approval": {"by": approval.by, "at": approval.at} if approval else None,
        }

    async def list(self) -> dict[str, Any]:
        state = self.read_config(fresh=True)
        pipelines = state.pipelines
        last = await self.store.run(
            lambda conn: {
                r["pipeline"]: r
                for r in conn.execute(
                    "SELECT * FROM runs WHERE id IN (SELECT max(id) FROM runs GROUP BY pipeline)"
                )
            }
        )
        running = {run.pipeline.name: run.id for run in self.active.values()}
        return {
            "pipelines": [
                {
                    **p.as_dict(),
                    "running": running.get(p.name),
                    "last_run": run_json(last[p.name], self.active.get(last[p.name]["id"]))
                    if p.name in last
                    else None,
                }
                for p in pipelines.values()
            ],
            "config": self._config_json(state),
        }

    # -- running -------------------------------------------------------------------------------
    async def run(self, name: str, trigger: str = "user") -> dict[str, Any]:
        trigger = fields.choice(trigger, "trigger", TRIGGERS)
        state = self.read_config(fresh=True)
        pipeline = self.pipeline(name, state)
        self._require_trust(state)
        terminals = self._terminals() if self._terminals is not None else None
        if terminals is None:
            raise Disabled(
                "pipelines run in terminals, and terminals are disabled on this "
                "server (ServerApp.terminals_enabled)"
            )
        if any(run.pipeline.name == name for run in self.active.values()):
            raise Conflict(f"pipeline '{name}' is already running")
        cwd = self._cwd(pipeline)
        argv = pipeline.argv()
        stamp = fields.now()
        run_id = await self.store.run(
            lambda conn: (
                conn.execute(
                    "INSERT INTO runs(pipeline, command, cwd, trigger, status, started) "
                    "VALUES (?, ?, ?, ?, 'running', ?)",
                    (name, json.dumps(pipeline.command), pipeline.cwd, trigger, stamp),
                ).lastrowid
            )
        )
        assert run_id is not None  # an INSERT's rowid
        active = ActiveRun(run_id, pipeline, FailureParser(self.root, cwd))
        active.terminal = f"run_{run_id}"
        try:
            active.open(terminals, argv, str(cwd))
        except Exception as e:  # e.g. the program does not exist
            message = f"cannot start {argv[0]}: {e}"
            await self._record(active, "error", None, error=message)
            return await self.get_run(run_id)
        self.active[run_id] = active
        active.timer = asyncio.get_running_loop().call_later(
            pipeline.timeout, lambda: asyncio.ensure_future(self._stop(active, "timeout"))
        )
        asyncio.ensure_future(self._finish_when_done(active))
        run = await self.get_run(run_id)
        self.bus.publish({"type": protocol.PIPELINE_RUN, "run": run})
        return run

    def _cwd(self, pipeline: Pipeline) -> Path:
        cwd = (self.root / pipeline.cwd).resolve()
        if cwd != self.root and self.root not in cwd.parents:
            raise BadRequest(
                f"pipeline '{pipeline.name}': cwd '{pipeline.cwd}' is outside the served folder"
            )
        if not cwd.is_dir():
            raise BadRequest(f"pipeline '{pipeline.name}': cwd '{pipeline.cwd}' is not a folder")
        return cwd

    async def _finish_when_done(self, active: ActiveRun) -> None:
        await active.wait_ended()
        if active.timer is not None:
            active.timer.cancel()
        code = await active.exit_code()
        status = active.stop_reason or ("passed" if code == 0 else "failed")
        await self._record(active, status, code)

    async def _record(
        self, active: ActiveRun, status: str, code: int | None, error: str | None = None
    ) -> None:
        self.active.pop(active.id, None)
        active.detach()
        parser = active.parser
        if status in ("failed", "timeout"):
            parser.finish(code if code is not None else -1)
        failures = [f.as_dict() for f in parser.failures]
        note = f"; {parser.dropped} more failures not kept" if parser.dropped else ""
        started = active.started
        output = active.output

        def write(conn: sqlite3.Connection) -> None:
            conn.execute(
                "UPDATE runs SET status = ?, exit_code = ?, ended = ?, duration = ?, "
                "output_tail = ?, output_chars = ?, failures = ?, error = ? WHERE id = ?",
                (
                    status,
                    code,
                    fields.now(),
                    round(time.monotonic() - started, 3),
                    output.text(),
                    output.total,
                    json.dumps(failures[:MAX_FAILURES]),
                    (error or "") + note or None,
                    active.id,
                ),
            )

        await self.store.run(write)
        scope = f"{SCOPE}{active.pipeline.name}"
        if status == "passed":
            await self.extracted.apply_scope(scope, [], resolve_missing=True)
        elif failures:
            await self.extracted.apply_scope(
                scope,
                [failure_task(f, active.pipeline.name) for f in failures],
                resolve_missing=False,
            )
        active.term = None
        run = await self.get_run(active.id)
        self.bus.publish({"type": protocol.PIPELINE_RUN, "run": run})
        if self.log is not None:
            self.log.info(
                "pipeline %s run %d: %s (exit %s, %d failures)",
                active.pipeline.name,
                active.id,
                status,
                code,
                len(failures),
            )
        if active.pipeline.name in self._rerun:
            self._rerun.discard(active.pipeline.name)
            self._schedule_watch(active.pipeline)

    async def stop_run(self, run_id: int) -> dict[str, Any]:
        active = self.active.get(run_id)
        if active is None:
            await self.get_run(run_id)  # 404 if unknown
            raise Conflict(f"run {run_id} is not running")
        await self._stop(active, "stopped")
        return await self.get_run(run_id)

    async def _stop(self, active: ActiveRun, reason: str) -> None:
        """SIGINT to the process group, then TERM, then KILL; returns when it has ended."""
        if active.ended.done():
            return
        active.stop_reason = active.stop_reason or reason
        await active.interrupt()
        # wait for the record to be written
        for _ in range(100):
            if active.id not in self.active:
                break
            await asyncio.sleep(0.05)

    # -- reading -------------------------------------------------------------------------------
    async def get_run(self, run_id: int, with_output: bool = False) -> dict[str, Any]:
        row = await self.store.run(
            lambda conn: conn.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchone()
        )
        if row is None:
            raise NotFound(f"unknown run id: {run_id}")
        active = self.active.get(run_id)
        run = run_json(row, active)
        if active is not None:
            run["failures"] = [f.as_dict() for f in active.parser.failures]
        if with_output:
            if active is not None:
                run["output"] = active.output.text()
                run["output_truncated"] = active.output.start > 0
            else:
                run["output"] = row["output_tail"] or ""
                run["output_truncated"] = (row["output_chars"] or 0) > len(run["output"])
        return run

    async def output(self, run_id: int, offset: int) -> dict[str, Any]:
        active = self.active.get(run_id)
        if active is not None:
            text, following, gap = active.output.since(offset)
            return {"offset": offset, "next": following, "text": text, "done": False, "gap": gap}
        run = await self.get_run(run_id, with_output=True)
        total = run["output_bytes"] or 0
        tail = run["output"]
        start = total - len(tail)
        gap = offset < start
        text = tail[max(offset - start, 0) :]
        return {
            "offset": offset,
            "next": max(offset, start) + len(text),
            "text": text,
            "done": True,
            "gap": gap,
        }

    async def runs(
        self, pipeline: str | None = None, limit: int = 50
    ) -> builtins.list[dict[str, Any]]:  # `list` is a method here
        sql = (
            "SELECT * FROM runs"
            + (" WHERE pipeline = ?" if pipeline else "")
            + " ORDER BY id DESC LIMIT ?"
        )
        args = (pipeline, limit) if pipeline else (limit,)
        rows = await self.store.run(lambda conn: conn.execute(sql, args).fetchall())
        return [run_json(r, self.active.get(r["id"])) for r in rows]

    async def summarize(self, run_id: int) -> dict[str, Any]:
        """Ask the LLM why a finished run failed; the answer is kept as the run's summary."""
        run = await self.get_run(run_id, with_output=True)
        if run["status"] == "running":
            raise Conflict(f"run {run_id} is still running")
        summary = await self.assistant.summarize_run(run)
        await self.store.run(
            lambda conn: conn.execute("UPDATE runs SET summary = ? WHERE id = ?", (summary, run_id))
        )
        summarized = await self.get_run(run_id)
        self.bus.publish({"type": protocol.PIPELINE_RUN, "run": summarized})
        return summarized

    # -- watch mode ----------------------------------------------------------------------------
    async def _listen(self) -> None:
        assert self._events is not None
        while True:
            event = await self._events.get()
            if event.get("type") not in (protocol.FILE_CHANGED, protocol.FILE_DELETED):
                continue
            path = event.get("path", "")
            if path == CONFIG_NAME:
                self.bus.publish({"type": protocol.PIPELINES_CHANGED, "reason": "config"})
                continue
            try:
                pipelines, _ = self.config()
            except Exception:
                continue
            for pipeline in pipelines.values():
                if pipeline.watch and glob_matcher(pipeline.watch).match(path):
                    self._schedule_watch(pipeline)

    def _schedule_watch(self, pipeline: Pipeline) -> None:
        if any(run.pipeline.name == pipeline.name for run in self.active.values()):
            self._rerun.add(pipeline.name)  # once this run ends
            return
        timer = self._watch_timers.pop(pipeline.name, None)
        if timer is not None:
            timer.cancel()

        async def fire() -> None:
            self._watch_timers.pop(pipeline.name, None)
            try:
                await self.run(pipeline.name, "watch")
            except Untrusted as e:
                if self.log is not None:
                    self.log.warning("watch run of %s not started: %s", pipeline.name, e.message)
                self.bus.publish(
                    {
                        "type": protocol.PIPELINES_CHANGED,
                        "reason": "untrusted",
                        "pipeline": pipeline.name,
                    }
                )
            except WorkspaceError as e:
                if self.log is not None:
                    self.log.info("watch run of %s not started: %s", pipeline.name, e.message)

        self._watch_timers[pipeline.name] = asyncio.get_running_loop().call_later(
            pipeline.debounce, lambda: asyncio.ensure_future(fire())
        )
