"""Pipelines: named commands from `workspace.toml`, run in real PTYs, watched as they stream.

A run is a terminado terminal in jupyter_server's own terminal manager (so JupyterLab can show
it, input included, while it runs). The manager adds a client of its own to the terminal: it
keeps a bounded tail of the output, follows it with a cursor for readers, and feeds each line
to the failure parser. When the PTY closes, the run is recorded (exit code, duration, the tail,
the failures) and its failures become detected tasks, resolved when a later run passes.

Anyone who can write files can write `workspace.toml`, but only a user allowed to run terminals
(`terminals` + `execute`) may start its commands. So nothing in it runs (by hand, by magic or
by watch mode) until such a user has trusted its exact content: the SHA-256 of the approved
bytes is kept in the database, and any other content, including a file that was there before
the server started, waits for a new approval. A run checks the bytes it is about to run.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import signal
import sqlite3
import time
import tomllib
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import protocol
from . import fields
from .assistant import Assistant
from .errors import BadRequest, Conflict, NotFound, WorkspaceError
from .events import EventBus
from .failures import MAX_FAILURES, FailureParser
from .store import Store

CONFIG_NAME = "workspace.toml"
MAX_CONFIG_BYTES = 1024 * 1024
TAIL_CHARS = 256 * 1024  # output kept per run (memory while running, SQLite after)
MAX_LINE_CHARS = 8192  # longer lines are cut before parsing
REPLAY_READS = 256  # terminado reads replayed to a terminal socket that connects late
MAX_SOCKET_BUFFER = 8 * 1024 * 1024  # bytes a terminal socket may fall behind before closing
DEFAULT_TIMEOUT = 3600.0
STOP_GRACE = (1.0, 2.0)  # seconds after SIGINT, then after SIGTERM, before SIGKILL
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
KEYS = {"command", "cwd", "env", "timeout", "watch", "debounce", "description"}
TRIGGERS = ("user", "watch", "magic")
SCOPE = "@pipelines/"


class Disabled(WorkspaceError):
    status = 503


class Untrusted(Conflict):
    """The config's content has not been approved by a user allowed to run terminals."""


@dataclass
class Pipeline:
    name: str
    command: str | list[str]
    cwd: str = ""
    env: dict[str, str] = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT
    watch: list[str] = field(default_factory=list)
    debounce: float = 1.0
    description: str = ""

    def argv(self) -> list[str]:
        return (
            ["/bin/sh", "-c", self.command] if isinstance(self.command, str) else list(self.command)
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "command": self.command,
            "cwd": self.cwd,
            "env": self.env,
            "timeout": self.timeout,
            "watch": self.watch,
            "debounce": self.debounce,
            "description": self.description,
        }


@dataclass(frozen=True)
class ConfigState:
    """One reading of `workspace.toml`: the pipelines parsed from exactly the bytes hashed."""

    key: tuple[int, ...] | None  # the file's stat identity; None when there is no file
    pipelines: dict[str, Pipeline]
    error: ConfigError | None
    hash: str | None  # SHA-256 of the bytes read; None when there is no file to read


@dataclass(frozen=True)
class Approval:
    hash: str
    by: str | None
    at: str


class ConfigError(Exception):
    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def parse_config(text: str) -> dict[str, Pipeline]:
    """The pipelines of a `workspace.toml`; ConfigError names the line that is wrong."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        m = re.search(r"\(at line (\d+), column \d+\)", str(e))
        raise ConfigError(
            f"{CONFIG_NAME} is not valid TOML: {e}", int(m.group(1)) if m else None
        ) from None
    tables = data.get("pipelines", {})
    if not isinstance(tables, dict):
        raise ConfigError(
            "'pipelines' must be a table: [pipelines.<name>]", _line_of(text, r"^\s*pipelines\s*=")
        )
    pipelines = {}
    for name, spec in tables.items():
        line = _line_of(text, rf"^\s*\[\s*pipelines\s*\.\s*\"?{re.escape(name)}\"?\s*\]")
        try:
            pipelines[name] = _pipeline(name, spec)
        except ConfigError as e:
            raise ConfigError(f"pipeline '{name}': {e.message}", line) from None
    return pipelines


def _pipeline(name: str, spec: Any) -> Pipeline:
    if not NAME.fullmatch(name):
        raise ConfigError("a name has 1-64 letters, digits, '.', '_' or '-'")
    if not isinstance(spec, dict):
        raise ConfigError("must be a table with at least 'command'")
    unknown = set(spec) - KEYS
    if unknown:
        raise ConfigError(
            f"unknown key(s) {', '.join(sorted(unknown))}; allowed: {', '.join(sorted(KEYS))}"
        )
    command = spec.get("command")
    if isinstance(command, str):
        if not command.strip():
            raise ConfigError("'command' is empty")
    elif not (
        isinstance(command, list) and command and all(isinstance(a, str) and a for a in command)
    ):
        raise ConfigError("'command' must be a string or a non-empty list of strings")
    cwd = spec.get("cwd", "")
    env = spec.get("env", {})
    if not isinstance(cwd, str):
        raise ConfigError("'cwd' must be a string (a folder relative to the served root)")
    if not isinstance(env, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in env.items()
    ):
        raise ConfigError("'env' must be a table of strings")
    timeout, debounce = spec.get("timeout", DEFAULT_TIMEOUT), spec.get("debounce", 1.0)
    for key, value, low, high in (
        ("timeout", timeout, 0.1, 7 * 24 * 3600.0),
        ("debounce", debounce, 0.0, 3600.0),
    ):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not low <= value <= high
        ):
            raise ConfigError(f"'{key}' must be a number of seconds from {low} to {high:g}")
    watch = spec.get("watch", [])
    if isinstance(watch, str):
        watch = [watch]
    if not isinstance(watch, list) or not all(isinstance(g, str) and g for g in watch):
        raise ConfigError("'watch' must be a glob or a list of globs")
    description = spec.get("description", "")
    if not isinstance(description, str):
        raise ConfigError("'description' must be a string")
    return Pipeline(
        name, command, cwd, dict(env), float(timeout), list(watch), float(debounce), description
    )


def _line_of(text: str, pattern: str) -> int | None:
    for number, line in enumerate(text.splitlines(), 1):
        if re.match(pattern, line):
            return number
    return None


def glob_matcher(globs: list[str]) -> re.Pattern[str]:
    """One regex for root-relative globs: `*` stays in a folder, `**/` crosses folders."""
    parts = []
    for glob in globs:
        out, i = [], 0
        while i < len(glob):
            if glob.startswith("**/", i):
                out.append("(?:.*/)?")
                i += 3
            elif glob.startswith("**", i):
                out.append(".*")
                i += 2
            elif glob[i] == "*":
                out.append("[^/]*")
                i += 1
            elif glob[i] == "?":
                out.append("[^/]")
                i += 1
            else:
                out.append(re.escape(glob[i]))
                i += 1
        parts.append("".join(out))
    return re.compile("(?:" + "|".join(parts) + r")\Z") if parts else re.compile(r"(?!)")


# -- one run -----------------------------------------------------------------------------------
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
            if pending > MAX_SOCKET_BUFFER:  # drop the connection and what it holds at once
                with contextlib.suppress(Exception):
                    stream.close()

    def died(self) -> None:
        if self.partial:
            self.parser.feed(self.partial)
            self.partial = ""
        if not self.ended.done():
            self.ended.set_result(None)


def _run_json(row: sqlite3.Row, active: ActiveRun | None = None) -> dict[str, Any]:
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
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._listener
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
            self._config = self._parse(key)
        return self._config

    def _parse(self, key: tuple[int, ...]) -> ConfigState:
        try:
            with self.config_path.open("rb") as f:
                raw = f.read(MAX_CONFIG_BYTES + 1)  # read on every run and list: bounded
        except OSError as e:
            return ConfigState(
                key, {}, ConfigError(f"cannot read {CONFIG_NAME}: {e.strerror or e}"), None
            )
        digest = hashlib.sha256(raw).hexdigest()
        if digest == self._config.hash:  # the same bytes: keep what was parsed from them
            return ConfigState(key, self._config.pipelines, self._config.error, digest)
        pipelines: dict[str, Pipeline] = {}
        error = None
        try:
            if len(raw) > MAX_CONFIG_BYTES:
                raise ConfigError(f"{CONFIG_NAME} is larger than 1 MB")
            pipelines = parse_config(raw.decode("utf-8"))
        except UnicodeDecodeError:
            error = ConfigError(f"{CONFIG_NAME} is not UTF-8 text")
        except ConfigError as e:
            error = e
        return ConfigState(key, pipelines, error, digest)

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
                    "last_run": _run_json(last[p.name], self.active.get(last[p.name]["id"]))
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
        active = ActiveRun(run_id, pipeline, FailureParser(self.root, cwd))
        active.terminal = f"run_{run_id}"
        try:
            # `create` (not terminado's new_named_terminal) so jupyter_server's terminal list
            # knows it at once (last_activity), as it knows the terminals users open
            terminals.create(
                name=active.terminal,
                shell_command=argv,
                cwd=str(cwd),
                extra_env={**pipeline.env, "JUPYTER_WORKSPACE_RUN": str(run_id)},
            )
            active.term = terminals.get_terminal(active.terminal)
        except Exception as e:  # noqa: BLE001 - e.g. the program does not exist
            message = f"cannot start {argv[0]}: {e}"
            await self._record(active, "error", None, error=message)
            return await self.get_run(run_id)
        active.term.clients.append(RunClient(active))
        # terminado keeps the last 1000 reads (up to 64 KiB each) for sockets that connect
        # late: up to 64 MB for a flood. 256 (~1 MB of typical 4 KB reads) cover a run's start
        # for a terminal opened a moment later; the run keeps its own tail.
        active.term.read_buffer = deque(active.term.read_buffer, maxlen=REPLAY_READS)
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
        await active.ended
        if active.timer is not None:
            active.timer.cancel()
        proc = active.term.ptyproc
        for _ in range(50):  # terminado closed the PTY: the process is reaped or soon will be
            if not proc.isalive():
                break
            await asyncio.sleep(0.05)
        code = (
            proc.exitstatus
            if proc.exitstatus is not None
            else (-proc.signalstatus if proc.signalstatus is not None else None)
        )
        status = active.stop_reason or ("passed" if code == 0 else "failed")
        await self._record(active, status, code)

    async def _record(
        self, active: ActiveRun, status: str, code: int | None, error: str | None = None
    ) -> None:
        self.active.pop(active.id, None)
        if active.term is not None:  # break the term -> client -> run -> term cycle now
            active.term.clients[:] = [
                c for c in active.term.clients if not isinstance(c, RunClient)
            ]
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
                [_failure_task(f, active.pipeline.name) for f in failures],
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
        for sig, grace in (
            (signal.SIGINT, STOP_GRACE[0]),
            (signal.SIGTERM, STOP_GRACE[1]),
            (signal.SIGKILL, 5.0),
        ):
            with contextlib.suppress(OSError):
                os.killpg(active.term.ptyproc.pid, sig)
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(active.ended), grace)
                break
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
        run = _run_json(row, active)
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

    async def runs(self, pipeline: str | None = None, limit: int = 50) -> list[dict[str, Any]]:
        sql = (
            "SELECT * FROM runs"
            + (" WHERE pipeline = ?" if pipeline else "")
            + " ORDER BY id DESC LIMIT ?"
        )
        args = (pipeline, limit) if pipeline else (limit,)
        rows = await self.store.run(lambda conn: conn.execute(sql, args).fetchall())
        return [_run_json(r, self.active.get(r["id"])) for r in rows]

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
            except Exception:  # noqa: BLE001
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


def _failure_task(failure: dict[str, Any], pipeline: str) -> dict[str, Any]:
    where = f"{failure['path']}:{failure['line']}" if failure["path"] else pipeline
    return {
        "tag": "BUILD",
        "text": f"{pipeline}: {failure['message']}",
        "path": failure["path"],
        "line": failure["line"],
        "snippet": f"{where}: {failure['message']}"[:500],
        "owner": None,
        "ref": None,
        "due": None,
        "done": False,
    }
