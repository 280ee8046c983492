"""Shared helpers for the benchmarks: a real `jupyter server` subprocess, polling, statistics.

Not a benchmark itself (the name does not match `bench_*.py`); the scripts import it from their
own folder, which Python puts first on `sys.path` when run as `python3 bench/bench_x.py`.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import http.client
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HOST = "127.0.0.1"
_live: set[Server] = set()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.4999)))
    return ordered[rank - 1]


def median(values: list[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def table(headers: list[str], rows: list[list[str]]) -> str:
    """A Markdown table (readable in a terminal too)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(headers), sep, *(line(r) for r in rows)])


def get_status(port: int, path: str, token: str, timeout: float = 1.0) -> int | None:
    """HTTP status of GET path, or None if nothing answers yet."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers={"Authorization": f"token {token}"})
        resp = conn.getresponse()
        resp.read()
        return resp.status
    except OSError:
        return None
    finally:
        conn.close()


class HttpClient:
    """Sequential HTTP/1.1 requests over one keep-alive connection (asyncio streams)."""

    def __init__(self, port: int, token: str) -> None:
        self.port = port
        self.token = token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.connections = 0

    async def _connect(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        self.connections += 1

    async def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        if self.writer is None:
            await self._connect()
        assert self.reader is not None and self.writer is not None
        payload = b"" if body is None else json.dumps(body).encode()
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
            f"Authorization: token {self.token}\r\nAccept: application/json\r\n"
        )
        if method != "GET":
            head += f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + payload)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("server closed the connection")
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int((await self.reader.readline()).split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                data += chunk[:-2]
        else:
            data = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, (json.loads(data) if data else None)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
        self.reader = self.writer = None


class EventsClient:
    """A browser's connection: one keep-alive HTTP client and the events WebSocket, whose
    frames are timestamped on arrival (parse them later, so parsing never delays a stamp)."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.http = HttpClient(server.port, server.token)
        self.events: asyncio.Queue[tuple[float, str]] = asyncio.Queue()
        self.ws: Any = None
        self._reader: asyncio.Task[None] | None = None

    async def open(self) -> None:
        from tornado.websocket import websocket_connect

        url = f"ws://{HOST}:{self.server.port}/workspace/api/events?token={self.server.token}"
        self.ws = await websocket_connect(url)
        hello = json.loads(await self.ws.read_message())
        assert hello["type"] == "hello", hello
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        while (msg := await self.ws.read_message()) is not None:
            self.events.put_nowait((time.perf_counter(), msg))

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            await asyncio.gather(self._reader, return_exceptions=True)
        if self.ws is not None:
            self.ws.close()
        await self.http.close()


class Server:
    """One fresh `jupyter server` in its own temp dir (root dir + runtime dir + log).

    Use as a context manager; `stop()` is idempotent and also runs at interpreter exit, so a
    failing benchmark never leaves a server or a temp dir behind.
    """

    def __init__(self, *, workspace: bool = True, extra_args: list[str] | None = None) -> None:
        self.workspace = workspace
        self.extra_args = list(extra_args or [])
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.tmp = Path(tempfile.mkdtemp(prefix="jw-bench-"))
        self.root = self.tmp / "root"
        self.root.mkdir()
        self.log_path = self.tmp / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.t_spawn = 0.0
        self.exit_seconds: float | None = None
        self.returncode: int | None = None

    @property
    def argv(self) -> list[str]:
        args = [
            "jupyter",
            "server",
            f"--ServerApp.port={self.port}",
            f"--ServerApp.ip={HOST}",
            f"--ServerApp.token={self.token}",
            "--ServerApp.open_browser=False",
            "--ServerApp.port_retries=0",
            "--allow-root",
            f"--ServerApp.root_dir={self.root}",
        ]
        if not self.workspace:
            # traitlets' CLI wants key=value for a Dict trait (a JSON object is taken as a list).
            args.append("--ServerApp.jpserver_extensions=jupyter_workspace=False")
        return args + self.extra_args

    def start(self) -> Server:
        env = dict(os.environ)
        env["JUPYTER_RUNTIME_DIR"] = str(self.tmp / "runtime")
        env.pop("JUPYTER_TOKEN", None)
        _live.add(self)
        with open(self.log_path, "wb") as log:
            self.t_spawn = time.perf_counter()
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.tmp,
                env=env,
                start_new_session=True,
            )
        return self

    def wait_ready(
        self, paths: list[str], timeout: float = 60.0, interval: float = 0.02
    ) -> dict[str, float]:
        """Poll each path every `interval` s until it answers 200; seconds since spawn each."""
        assert self.proc is not None
        ready: dict[str, float] = {}
        deadline = self.t_spawn + timeout
        while len(ready) < len(paths):
            tick = time.perf_counter()
            if tick > deadline:
                raise TimeoutError(f"server not ready after {timeout}s; log:\n{self.log_tail()}")
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"server exited ({self.proc.returncode}); log:\n{self.log_tail()}"
                )
            for path in paths:
                if path in ready:
                    continue
                if get_status(self.port, path, self.token) == 200:
                    ready[path] = time.perf_counter() - self.t_spawn
                else:
                    break  # poll the later paths only once the earlier ones answer
            time.sleep(max(0.0, interval - (time.perf_counter() - tick)))
        return ready

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self, keep_tmp: bool = False) -> None:
        """SIGTERM (jupyter_server's clean shutdown), SIGKILL the group after 15 s."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            t = time.perf_counter()
            try:
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=15)
                self.exit_seconds = time.perf_counter() - t
            except subprocess.TimeoutExpired:
                print(f"[bench] server {proc.pid} ignored SIGTERM; killing", file=sys.stderr)
                # Still alive, so its group id is still ours: it and only its children.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
            except BaseException:
                proc.kill()
                raise
            finally:
                proc.wait()
        if proc is not None:
            self.returncode = proc.returncode
        if not keep_tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)
        _live.discard(self)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _stop_all() -> None:
    for server in list(_live):
        server.stop()


atexit.register(_stop_all)


def _on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # run the `finally`s and atexit handlers


signal.signal(signal.SIGTERM, _on_sigterm)
