"""The sidecar supervisor: start the AI process, watch it, restart it, or give up clearly.

States: starting → ready; on a crash or failed health checks → restarting (backoff 1 s, 2 s,
4 s with a little jitter) → ready, or after the last try → degraded, where it stays until a
user asks for a restart. A sidecar that stayed up for `stable_after` seconds earns its tries
back. Every change is published as a `sidecar.state` event.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import random
import secrets
import signal
import time
from collections.abc import Callable
from typing import Any

from .. import protocol
from .sidecar_client import SidecarClient, SidecarGone
from .tasking import cancel_and_wait

log = logging.getLogger(__name__)


class LaunchFailed(Exception):
    pass


class Supervisor:
    def __init__(
        self,
        command: list[str],
        publish: Callable[[dict[str, Any]], None],
        *,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        backoff: tuple[float, ...] = (1.0, 2.0, 4.0),
        health_interval: float = 5.0,
        health_failures: int = 2,
        start_timeout: float = 120.0,
        stable_after: float = 60.0,
        logger: logging.Logger | None = None,
    ) -> None:
        self.command = command
        self.publish = publish
        self.env = env or {}
        self.cwd = cwd
        self.backoff = backoff
        self.health_interval = health_interval
        self.health_failures = health_failures
        self.start_timeout = start_timeout
        self.stable_after = stable_after
        self.log = logger or log

        self.state = "stopped"
        self.error: str | None = None
        self.restarts = 0
        self.retry_in: float | None = None
        self.client: SidecarClient | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._ready_at: float | None = None
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False

    # -- public --------------------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.returncode is None else None

    def describe(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "pid": self.pid,
            "restarts": self.restarts,
            "error": self.error,
            "retry_in": self.retry_in,
            "uptime": round(time.monotonic() - self._ready_at, 1)
            if self._ready_at is not None and self.state == "ready"
            else None,
        }

    def start(self) -> None:
        """Start supervising in the background (never blocks the server's start-up)."""
        if self._task is None:
            self._stopping = False
            self._task = asyncio.ensure_future(self._supervise())

    async def restart(self) -> None:
        """A user's restart: out of degraded mode, or a fresh process, with all tries back."""
        if self._task is None or self._task.done():
            self._task = None
            self.start()
            return
        self._manual = True
        if self._pausing:  # degraded, or waiting to retry: start the new process now
            self._wake.set()
        else:
            await self._terminate()  # the supervising loop notices and starts a new one

    async def stop(self) -> None:
        self._stopping = True
        task, self._task = self._task, None
        await cancel_and_wait(task)
        await self._terminate()
        self._set_state("stopped")

    # -- the loop ------------------------------------------------------------------------------
    _manual = False  # a user's restart, not yet acted on
    _pausing = False  # in a backoff wait or degraded: no process to terminate

    async def _supervise(self) -> None:
        tries = 0  # restarts used since the last stable period or manual restart
        first = True
        while not self._stopping:
            self._set_state("starting" if first else "restarting", retry_in=None)
            first = False
            try:
                await self._launch()
                self._ready_at = time.monotonic()
                self._set_state("ready", error=None)
                reason = await self._watch()
            except LaunchFailed as e:
                reason = str(e)
            if self._stopping:
                return
            stable = (
                self._ready_at is not None
                and time.monotonic() - self._ready_at >= self.stable_after
            )
            self._ready_at = None
            await self._terminate()
            manual, self._manual = self._manual, False
            if manual or stable:
                tries = 0
            if manual:  # a user asked for a fresh process: no waiting
                self.restarts += 1
                continue
            self.log.warning("jupyter-workspace AI sidecar: %s", reason)
            if tries >= len(self.backoff):
                self._set_state(
                    "degraded",
                    error=f"{reason} (gave up after {tries} restarts; "
                    "restart it from the status bar or POST /workspace/api/sidecar/"
                    "restart)",
                )
                await self._pause(None)
                tries = 0
                continue
            delay = self.backoff[tries] * (1 + random.uniform(0, 0.1))
            tries += 1
            self.restarts += 1
            self._set_state("restarting", error=reason, retry_in=round(delay, 2))
            if await self._pause(delay):
                tries = 0

    async def _pause(self, delay: float | None) -> bool:
        """Wait `delay` seconds (None: until a user's restart). True if a user's restart cut
        it short; the restart is then acted on, so it cannot also excuse the next crash."""
        self._wake.clear()
        self._pausing = True
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
        finally:
            self._pausing = False
        manual, self._manual = self._manual, False
        return manual

    async def _launch(self) -> None:
        token = secrets.token_urlsafe(32)
        env = {
            **protocol.SIDECAR_ENV_DEFAULTS,  # the environment may say otherwise
            **os.environ,
            **self.env,
            protocol.SIDECAR_TOKEN_ENV: token,
            protocol.SIDECAR_PARENT_ENV: str(os.getpid()),
        }
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *self.command,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                env=env,
                cwd=self.cwd,
                start_new_session=True,  # a Ctrl-C in the terminal is the server's to handle
            )
        except OSError as e:
            raise LaunchFailed(f"cannot start the sidecar ({self.command[0]}): {e}") from None
        port = await self._read_port(self._proc)
        self.client = SidecarClient(port, token)
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self._proc.returncode is not None:
                raise LaunchFailed(
                    f"the sidecar exited during start-up (code {self._proc.returncode})"
                )
            with contextlib.suppress(SidecarGone):
                health = await self.client.health()
                # up once litellm has loaded, or its index is open (search before chat)
                if health.get("state") == "ready" or (
                    health.get("state") == "loading"
                    and (health.get("index") or {}).get("state") == "ready"
                ):
                    return
                if health.get("state") == "failed":
                    raise LaunchFailed(health.get("error") or "the sidecar failed to load")
            if time.monotonic() > deadline:
                raise LaunchFailed(f"the sidecar was not ready within {self.start_timeout:.0f}s")
            await asyncio.sleep(0.1)

    async def _read_port(self, proc: asyncio.subprocess.Process) -> int:
        assert proc.stdout is not None
        deadline = time.monotonic() + self.start_timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise LaunchFailed("the sidecar did not report its port in time")
            try:
                async with asyncio.timeout(left):  # not wait_for: see tasking.py
                    line = await proc.stdout.readline()
            except TimeoutError:
                continue
            if not line:
                code = await proc.wait()
                raise LaunchFailed(f"the sidecar exited during start-up (code {code})")
            text = line.decode(errors="replace").rstrip()
            if text.startswith(protocol.SIDECAR_READY_LINE):
                port = int(json.loads(text.split(" ", 1)[1])["port"])
                asyncio.ensure_future(self._drain(proc))
                return port
            self.log.info("sidecar: %s", text)

    async def _drain(self, proc: asyncio.subprocess.Process) -> None:
        """Forward the sidecar's output to the server log (and keep its pipe from filling)."""
        assert proc.stdout is not None
        while line := await proc.stdout.readline():
            self.log.debug("sidecar: %s", line.decode(errors="replace").rstrip())

    async def _watch(self) -> str:
        """Wait for the sidecar to die or fail its health checks; say why."""
        assert self._proc is not None and self.client is not None
        exited = asyncio.ensure_future(self._proc.wait())
        failures = 0
        try:
            while True:
                done, _ = await asyncio.wait({exited}, timeout=self.health_interval)
                if done:
                    code = exited.result()
                    how = f"killed by signal {-code}" if code < 0 else f"exited with code {code}"
                    return f"the sidecar {how}"
                try:
                    await self.client.health(timeout=min(3.0, self.health_interval))
                    failures = 0
                except SidecarGone as e:
                    failures += 1
                    if failures >= self.health_failures:
                        return f"the sidecar stopped answering its health check ({e})"
        finally:
            exited.cancel()

    async def _terminate(self) -> None:
        """TERM, then KILL after a grace period; close the client."""
        proc, client = self._proc, self.client
        self.client = None
        if client is not None:
            await client.close()
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()

    def _set_state(self, state: str, **changes: Any) -> None:
        self.state = state
        for name, value in changes.items():
            setattr(self, name, value)
        if state != "restarting":
            self.retry_in = None
        self.publish({"type": protocol.SIDECAR_STATE, "sidecar": self.describe()})
