"""Chat relay overhead and AI sidecar cold start, against real processes on 127.0.0.1.

The fake LLM (tests/fake_llm.py, OpenAI-compatible SSE) runs in a child process of its own so
that its threads do not compete for this process's GIL with the client being timed: two
instances, one streaming N short tokens back to back, one sleeping DELAY ms between tokens.
The child wraps the fake's socket writes to note when each token left it (time.perf_counter,
i.e. CLOCK_MONOTONIC, the same clock in every process), so each token's latency from the LLM
to the client can be measured exactly.

1. Per-token relay overhead, three paths, each timed from the request to the first token, the
   last token and the end of the stream, interleaved round by round (order alternating), each
   request after IDLE_GAP of quiet:
     litellm  baseline: litellm.acompletion(stream=True) straight to the fake, in this process
     sidecar  this process -> a standalone `python -m jupyter_workspace.sidecar` (POST /chat,
              SSE, read with the coordinator's own SidecarClient) -> litellm -> the fake
     full     POST /workspace/api/chat on a real `jupyter server` (its own supervised sidecar,
              configured with --WorkspaceApp.llm_*; search indexing off) until `chat.token` /
              `chat.done` arrive on the browser-facing WebSocket /workspace/api/events; this
              includes the coordinator's grounding step (POST /search to its sidecar, refused
              there while indexing is off)
   `sidecar - litellm` is the sidecar's layer; `full - sidecar` the coordinator's (its REST
   POST and SQLite writes, the SSE read, the event bus and the WebSocket) plus this client's
   WebSocket reading. Added ms/token = (full total - litellm total) / N on the medians.
2. Sidecar cold start: spawn -> LISTENING line -> GET /health says "ready" (litellm imported),
   against `python -c "import litellm"`, interleaved; VmRSS when ready and after one chat
   (N-token answer) through it, and that first chat's own timing.

Prints figures only; it asserts nothing about timings.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import http.client
import json
import os
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from _harness import HOST, EventsClient, HttpClient, Server, median, percentile, table

from jupyter_workspace import protocol
from jupyter_workspace.server.assistant import CHAT_SYSTEM_PROMPT
from jupyter_workspace.server.sidecar_client import SidecarClient

# litellm fetches its model cost map from the network on import unless told otherwise. Nothing
# above imports it (it is imported inside functions only); the servers and sidecars this
# script starts inherit the setting.
assert "litellm" not in sys.modules
os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"

REPO = Path(__file__).resolve().parent.parent
N_TOKENS = int(os.environ.get("BENCH_CHAT_TOKENS", "300"))
ROUNDS = int(os.environ.get("BENCH_CHAT_ROUNDS", "10"))
COLD_ROUNDS = int(os.environ.get("BENCH_CHAT_COLD_ROUNDS", "5"))
DELAY_MS = float(os.environ.get("BENCH_CHAT_DELAY_MS", "5"))
WARMUP = 2
# Quiet time before every timed request. litellm ends a stream with a little background work
# (success logging) in the process that ran it; a request sent back to back waited for it: the
# sidecar's first SSE event then came 1-11 ms after the request instead of ~1.5 ms. Users do not
# send chats within milliseconds of the previous answer, so every path gets a quiet start.
IDLE_GAP = float(os.environ.get("BENCH_CHAT_IDLE_GAP", "0.05"))
MODEL = "openai/fake-model"
API_KEY = "sk-bench"
QUESTION = "Say three hundred short words, please."
MESSAGES = [
    {"role": "system", "content": CHAT_SYSTEM_PROMPT},
    {"role": "user", "content": QUESTION},
]
EXPECTED = "".join(f"t{i} " for i in range(N_TOKENS))  # what the fake child streams
VARIANTS = ("litellm", "sidecar", "full")
SPEEDS = (("fast", "0 ms"), ("slow", f"{DELAY_MS:g} ms"))

# -- child processes (the fake LLM, standalone sidecars): always ended, even on error ----------
_children: set[subprocess.Popen[bytes]] = set()
_tmp_dirs: set[Path] = set()


def _end(proc: subprocess.Popen[bytes]) -> float | None:
    """SIGTERM, SIGKILL after 10 s; seconds to exit (None if it had exited already)."""
    took = None
    if proc.poll() is None:
        t = time.perf_counter()
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
            took = time.perf_counter() - t
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for stream in (proc.stdin, proc.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
    _children.discard(proc)
    return took


def _cleanup() -> None:
    for proc in list(_children):
        _end(proc)
    for path in list(_tmp_dirs):
        shutil.rmtree(path, ignore_errors=True)
        _tmp_dirs.discard(path)


atexit.register(_cleanup)  # _harness turns SIGTERM into SystemExit, so this runs then too


def _spawn(argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(argv, start_new_session=True, **kwargs)
    _children.add(proc)
    return proc


def _tmpdir(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    _tmp_dirs.add(path)
    return path


def _readline(proc: subprocess.Popen[bytes], timeout: float) -> str:
    """One line of a child's stdout, without blocking past `timeout`."""
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            raise TimeoutError(f"{proc.args!r} printed nothing in {timeout}s")
    line = proc.stdout.readline().decode(errors="replace").strip()
    if not line:
        raise RuntimeError(f"{proc.args!r} exited ({proc.wait()}) before printing its line")
    return line


def cpu_seconds(pid: int) -> float:
    """CPU time of every live thread of a process, in seconds (schedstat: ns resolution)."""
    total = 0
    with contextlib.suppress(FileNotFoundError):
        for task in os.scandir(f"/proc/{pid}/task"):
            with (
                contextlib.suppress(FileNotFoundError, ProcessLookupError),
                open(f"{task.path}/schedstat") as f,
            ):
                total += int(f.read().split()[0])
    return total / 1e9


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# -- the fake LLM, in its own process ------------------------------------------------------------
_FAKE_MAIN = r"""
import json, sys, threading, time
sys.path.insert(0, sys.argv[1])
from tests import fake_llm

n, stamps_path, delays = int(sys.argv[2]), sys.argv[3], sys.argv[4:]
out, lock = open(stamps_path, "a"), threading.Lock()
handler = fake_llm._Handler
write, stream = handler._write, handler._stream_openai

def stamped_write(self, data):
    ok = write(self, data)
    if getattr(self, "stamps", None) is not None:
        self.stamps.append(time.perf_counter())  # the piece is in the kernel's hands now
    return ok

def stamped_stream(self, model):
    self.stamps = []
    try:
        stream(self, model)
    finally:
        with lock:
            out.write(json.dumps(self.stamps) + "\n")
            out.flush()

handler._write, handler._stream_openai = stamped_write, stamped_stream
tokens = [f"t{i} " for i in range(n)]
fakes = [fake_llm.FakeLLM(tokens=list(tokens), delay=float(d)).start() for d in delays]
print(json.dumps([f.url for f in fakes]), flush=True)
sys.stdin.read()  # serve until the benchmark closes our stdin (or dies)
for f in fakes:
    f.stop()
"""


class FakeLLMs:
    """tests/fake_llm.FakeLLM servers in a child process, one per delay; per-token send times."""

    def __init__(self, delays: list[float]) -> None:
        self.tmp = _tmpdir("jw-bench-fake-")
        self.stamps = self.tmp / "stamps.jsonl"
        self.stamps.touch()
        self._offset = 0
        self.proc = _spawn(
            [
                sys.executable,
                "-c",
                _FAKE_MAIN,
                str(REPO),
                str(N_TOKENS),
                str(self.stamps),
                *(str(d) for d in delays),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.urls: list[str] = json.loads(_readline(self.proc, 30.0))

    async def next_stamps(self, timeout: float = 5.0) -> list[float]:
        """Send times of the next finished stream: its N tokens, then its final write."""
        deadline = time.perf_counter() + timeout
        while True:
            with open(self.stamps, "rb") as f:
                f.seek(self._offset)
                data = f.read()
            if b"\n" in data:
                line = data[: data.index(b"\n") + 1]
                self._offset += len(line)
                return json.loads(line)
            if time.perf_counter() > deadline:
                raise TimeoutError("the fake LLM logged no stream")
            await asyncio.sleep(0.002)

    def skip_logged(self) -> None:
        self._offset = self.stamps.stat().st_size

    def stop(self) -> None:
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()  # it stops its servers and exits
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        _end(self.proc)


# -- a standalone sidecar, as the coordinator starts it ------------------------------------------
class Sidecar:
    def __init__(self) -> None:
        self.token = secrets.token_urlsafe(32)  # 43 characters
        self.tmp = _tmpdir("jw-bench-sidecar-")
        self.log = self.tmp / "sidecar.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.t_spawn = 0.0
        self.listening = float("nan")  # seconds from spawn
        self.ready = float("nan")

    def start(self) -> Sidecar:
        env = {
            **os.environ,
            protocol.SIDECAR_TOKEN_ENV: self.token,
            "JUPYTER_WORKSPACE_LLM_API_KEY": API_KEY,
        }
        env.pop(protocol.SIDECAR_PARENT_ENV, None)
        with open(self.log, "wb") as log:
            self.t_spawn = time.perf_counter()
            self.proc = _spawn(
                [sys.executable, "-m", "jupyter_workspace.sidecar"],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                cwd=self.tmp,
                env=env,
            )
        return self

    def wait_ready(self, timeout: float = 60.0, interval: float = 0.02) -> float:
        """Seconds from spawn until /health says ready (polled every `interval` s)."""
        assert self.proc is not None
        line = _readline(self.proc, timeout)
        self.listening = time.perf_counter() - self.t_spawn
        if not line.startswith(protocol.SIDECAR_READY_LINE):
            raise RuntimeError(f"unexpected first line from the sidecar: {line!r}")
        self.port = int(json.loads(line.split(" ", 1)[1])["port"])
        # It prints nothing more; the pipe stays open until it exits (no SIGPIPE on a late line).
        deadline = self.t_spawn + timeout
        while True:
            tick = time.perf_counter()
            health = self.health()
            if health is not None and health.get("state") == "ready":
                self.ready = time.perf_counter() - self.t_spawn
                return self.ready
            if health is not None and health.get("state") == "failed":
                raise RuntimeError(f"sidecar failed to load: {health}")
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"sidecar exited ({self.proc.returncode}): "
                    f"{self.log.read_text(errors='replace')[-2000:]}"
                )
            if tick > deadline:
                raise TimeoutError("sidecar not ready in time")
            time.sleep(max(0.0, interval - (time.perf_counter() - tick)))

    def health(self) -> dict[str, Any] | None:
        conn = http.client.HTTPConnection(HOST, self.port, timeout=2.0)
        try:
            conn.request("GET", "/health", headers={"Authorization": f"Bearer {self.token}"})
            resp = conn.getresponse()
            body = resp.read()
            return json.loads(body) if resp.status == 200 else None
        except (OSError, ValueError):
            return None
        finally:
            conn.close()

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self) -> float | None:
        took = _end(self.proc) if self.proc is not None else None
        shutil.rmtree(self.tmp, ignore_errors=True)
        _tmp_dirs.discard(self.tmp)
        return took


# -- one streamed answer, three ways -----------------------------------------------------------
@dataclass
class Run:
    t0: float  # perf_counter when the request was sent
    arrivals: list[float]  # ... when each token reached this client
    end: float  # ... end of the stream (litellm: iterator exhausted; sidecar: its "done"
    #             event; full: the chat.done event)
    extra: dict[str, float] = field(default_factory=dict)  # seconds from t0
    sent: list[float] = field(default_factory=list)  # when the fake wrote each token (its log)
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds per process during the run

    @property
    def n(self) -> int:
        return len(self.arrivals)

    @property
    def first(self) -> float:
        return self.arrivals[0] - self.t0

    @property
    def last(self) -> float:
        return self.arrivals[-1] - self.t0

    @property
    def total(self) -> float:
        return self.end - self.t0

    @property
    def tps(self) -> float:
        return self.n / self.total

    @property
    def to_llm(self) -> float:
        """Request -> the fake LLM wrote its first token (the time spent before the LLM)."""
        return self.sent[0] - self.t0

    @property
    def latencies(self) -> list[float]:
        """Per token: the fake wrote it -> it reached this client."""
        return [a - s for a, s in zip(self.arrivals, self.sent, strict=True)]

    @property
    def llm_gap(self) -> float:
        """The fake's mean time between two tokens (its pacing, as loaded by the machine)."""
        return (self.sent[-1] - self.sent[0]) / max(1, len(self.sent) - 1)


def _check(what: str, n: int, text: str) -> None:
    if n != N_TOKENS or text != EXPECTED:
        raise RuntimeError(
            f"{what}: got {n} tokens / {len(text)} chars, expected {N_TOKENS} / "
            f"{len(EXPECTED)}: {text[:80]!r}"
        )


async def run_litellm(api_base: str) -> Run:
    import litellm

    t0 = time.perf_counter()
    response = await litellm.acompletion(
        model=MODEL,
        api_base=api_base + "/v1",
        api_key=API_KEY,
        messages=MESSAGES,
        stream=True,
        timeout=120.0,
        num_retries=0,
    )  # as the sidecar calls it
    arrivals: list[float] = []
    pieces: list[str] = []
    async for chunk in response:
        choices = getattr(chunk, "choices", None) or []
        delta = getattr(choices[0], "delta", None) if choices else None
        text = getattr(delta, "content", None) if delta is not None else None
        if text:
            arrivals.append(time.perf_counter())
            pieces.append(text)
    end = time.perf_counter()
    _check("litellm", len(pieces), "".join(pieces))
    return Run(t0, arrivals, end)


async def run_sidecar(client: SidecarClient, api_base: str) -> Run:
    payload = {"model": MODEL, "api_base": api_base + "/v1", "messages": MESSAGES, "timeout": 120.0}
    t0 = time.perf_counter()
    start = end = float("nan")
    arrivals: list[float] = []
    pieces: list[str] = []
    async for event in client.stream("/chat", payload):
        kind = event.get("type")
        if kind == "token":
            arrivals.append(time.perf_counter())
            pieces.append(event["text"])
        elif kind == "start":
            start = time.perf_counter()
        elif kind == "done":
            end = time.perf_counter()
            break
        elif kind == "error":
            raise RuntimeError(f"sidecar chat failed: {event}")
    _check("sidecar", len(pieces), "".join(pieces))
    return Run(t0, arrivals, end, {"start": start - t0})


class FullPath(EventsClient):
    """A browser's view: one keep-alive HTTP connection and the events WebSocket."""

    async def run(self, api_base: str | None) -> Run:
        while not self.events.empty():
            self.events.get_nowait()
        body: dict[str, Any] = {"message": QUESTION}
        if api_base is not None:
            body["api_base"] = api_base + "/v1"
        t0 = time.perf_counter()
        status, data = await self.http.request("POST", "/workspace/api/chat", body)
        t_post = time.perf_counter()
        if status != 202:
            raise RuntimeError(f"POST /workspace/api/chat -> {status} {data}")
        stream_id = data["stream_id"]
        started = float("nan")
        arrivals: list[float] = []
        pieces: list[str] = []
        while True:
            t, raw = await asyncio.wait_for(self.events.get(), 60)
            event = json.loads(raw)
            if event.get("stream_id") != stream_id:
                continue
            kind = event["type"]
            if kind == protocol.CHAT_TOKEN:
                arrivals.append(t)
                pieces.append(event["text"])
            elif kind == protocol.CHAT_STARTED:
                started = t
            elif kind == protocol.CHAT_DONE:
                if event["message"]["content"] != EXPECTED:
                    raise RuntimeError("chat.done carries a different answer")
                _check("full", len(pieces), "".join(pieces))
                return Run(t0, arrivals, t, {"post": t_post - t0, "started": started - t0})
            elif kind == protocol.CHAT_ERROR:
                raise RuntimeError(f"chat.error: {event}")


# -- section 1 ---------------------------------------------------------------------------------
async def wait_server_sidecar(server: Server) -> dict[str, Any]:
    """Poll /workspace/api/status until the server's own sidecar is ready."""
    http = HttpClient(server.port, server.token)
    try:
        while True:
            code, status = await http.request("GET", "/workspace/api/status")
            if code != 200:
                raise RuntimeError(f"/workspace/api/status -> {code}")
            state = status["sidecar"]["state"]
            if state == "ready":
                return status
            if state in ("degraded", "stopped"):
                raise RuntimeError(f"the server's sidecar is {state}: {status['sidecar']}")
            if time.perf_counter() - server.t_spawn > 90:
                raise TimeoutError(f"the server's sidecar is still {state}")
            await asyncio.sleep(0.05)
    finally:
        await http.close()


async def section_relay(fakes: FakeLLMs) -> dict[str, Any]:
    """Interleaved rounds of the three paths at both token delays."""
    urls = {"fast": fakes.urls[0], "slow": fakes.urls[1]}
    out: dict[str, Any] = {}
    # Search indexing off: its sidecar would load an embedding model in the background, on
    # the same 2 cores as the runs; both sidecars here are chat-only, like the cold-start ones.
    server = Server(
        extra_args=[
            f"--WorkspaceApp.llm_model={MODEL}",
            f"--WorkspaceApp.llm_api_base={urls['fast']}/v1",
            # the per-request override must be a configured server
            f"--WorkspaceApp.llm_api_bases={urls['slow']}/v1",
            f"--WorkspaceApp.llm_api_key={API_KEY}",
            "--WorkspaceApp.index_enabled=False",
        ]
    )
    sidecar = Sidecar()
    client: SidecarClient | None = None
    full: FullPath | None = None
    try:
        server.start()
        sidecar.start()  # both load meanwhile
        import litellm  # noqa: F401 - the baseline's import, off the clock

        server.wait_ready(["/api/status", "/workspace/api/status"])
        sidecar.wait_ready()
        status = await wait_server_sidecar(server)
        out["server_sidecar_ready"] = time.perf_counter() - server.t_spawn
        out["llm"] = status["llm"]
        pids = {
            "server's sidecar": status["sidecar"]["pid"],
            "standalone sidecar": sidecar.pid,
            "coordinator (jupyter server)": server.proc.pid,
        }  # type: ignore[union-attr]
        out["rss_ready"] = {name: rss_mib(pid) for name, pid in pids.items()}

        client = SidecarClient(sidecar.port, sidecar.token)
        full = FullPath(server)
        await full.open()
        runners = {
            "litellm": lambda base: run_litellm(base),
            "sidecar": lambda base: run_sidecar(client, base),
            # fast: the server's configured llm_api_base; slow: the per-request override
            "full": lambda base: full.run(None if base == urls["fast"] else base),
        }

        # (not the fake LLM: its per-request threads exit with their CPU time before we look)
        cpu_pids = dict(pids)

        def cpu_now() -> dict[str, float]:
            return {
                "this client": time.process_time(),
                **{name: cpu_seconds(pid) for name, pid in cpu_pids.items()},
            }

        async def one(v: str, speed: str) -> Run:
            await asyncio.sleep(IDLE_GAP)
            fakes.skip_logged()
            cpu0 = cpu_now()
            run = await runners[v](urls[speed])
            stamps = await fakes.next_stamps()
            cpu1 = cpu_now()
            if len(stamps) != N_TOKENS + 1:
                raise RuntimeError(f"the fake logged {len(stamps)} writes, expected {N_TOKENS + 1}")
            run.sent = stamps[:N_TOKENS]
            run.cpu = {name: cpu1[name] - cpu0[name] for name in cpu0}
            return run

        samples: dict[tuple[str, str], list[Run]] = {
            (speed, v): [] for speed, _ in SPEEDS for v in VARIANTS
        }
        cold: dict[str, Run] = {}
        t_start = time.perf_counter()
        for i in range(WARMUP):  # discarded; the very first of each is reported as "cold"
            for speed, _ in SPEEDS:
                for v in VARIANTS:
                    run = await one(v, speed)
                    if i == 0 and speed == "fast":
                        cold[v] = run
        # How long one idle-process wake-up + HTTP round trip takes on the machine right now,
        # and one workspace write (the chat POST does one SQLite transaction like it).
        probes: dict[str, list[float]] = {"GET /api/status": [], "POST /workspace/api/notes": []}

        async def probe(method: str, path: str, body: Any, expect: int) -> None:
            await asyncio.sleep(IDLE_GAP)
            t = time.perf_counter()
            code, _ = await full.http.request(method, path, body)
            probes[f"{method} {path}"].append(time.perf_counter() - t)
            if code != expect:
                raise RuntimeError(f"{method} {path} -> {code}")

        for r in range(ROUNDS):
            order = VARIANTS if r % 2 == 0 else VARIANTS[::-1]
            for speed, _ in SPEEDS if r % 2 == 0 else SPEEDS[::-1]:
                for v in order:
                    samples[(speed, v)].append(await one(v, speed))
            await probe("GET", "/api/status", None, 200)
            await probe("POST", "/workspace/api/notes", {"title": "probe", "body": "x"}, 201)
            f = samples[("fast", "full")][-1].total / samples[("fast", "litellm")][-1].total
            s = samples[("slow", "full")][-1].total / samples[("slow", "litellm")][-1].total
            print(
                f"  round {r + 1}/{ROUNDS}: full/litellm total {f:.2f}x (no delay), "
                f"{s:.2f}x ({DELAY_MS:g} ms delay)",
                flush=True,
            )
        out["seconds"] = time.perf_counter() - t_start
        out["samples"] = samples
        out["probes"] = probes
        out["cold"] = cold
        out["rss_after"] = {name: rss_mib(pid) for name, pid in pids.items()}
        out["chats_each"] = (WARMUP + ROUNDS) * len(SPEEDS)
        return out
    finally:
        if full is not None:
            await full.close()
        if client is not None:
            await client.close()
        sidecar.stop()
        server.stop()


# -- section 2 ---------------------------------------------------------------------------------
_IMPORT = "import time; t = time.perf_counter(); import litellm; print(time.perf_counter() - t)"


def import_litellm() -> tuple[float, float]:
    """Wall time of `python -c "import litellm"`, and the import alone as timed inside it."""
    t = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT],
        check=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        env=dict(os.environ),
    )
    return time.perf_counter() - t, float(done.stdout)


async def cold_sidecar(fakes: FakeLLMs) -> dict[str, float]:
    sidecar = Sidecar().start()
    try:
        ready = sidecar.wait_ready()
        rss_ready = rss_mib(sidecar.pid)
        client = SidecarClient(sidecar.port, sidecar.token)
        try:
            first_chat = await run_sidecar(client, fakes.urls[0])
            rss_chat = rss_mib(sidecar.pid)
            await asyncio.sleep(IDLE_GAP)
            second_chat = await run_sidecar(client, fakes.urls[0])
        finally:
            await client.close()
        return {
            "listening": sidecar.listening,
            "ready": ready,
            "rss_ready": rss_ready,
            "rss_chat": rss_chat,
            "chat1_first": first_chat.first,
            "chat1_total": first_chat.total,
            "chat2_first": second_chat.first,
            "chat2_total": second_chat.total,
            "stop": sidecar.stop() or float("nan"),
        }
    finally:
        sidecar.stop()


async def section_cold(fakes: FakeLLMs) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {"import": [], "import_inside": []}
    for r in range(COLD_ROUNDS):
        for what in ("import", "sidecar") if r % 2 == 0 else ("sidecar", "import"):
            if what == "import":
                wall, inside = import_litellm()
                out["import"].append(wall)
                out["import_inside"].append(inside)
            else:
                for key, value in (await cold_sidecar(fakes)).items():
                    out.setdefault(key, []).append(value)
        print(
            f"  cold round {r + 1}/{COLD_ROUNDS}: python -c 'import litellm' "
            f"{out['import'][-1]:.2f} s, sidecar ready {out['ready'][-1]:.2f} s, "
            f"RSS {out['rss_ready'][-1]:.0f} -> {out['rss_chat'][-1]:.0f} MiB",
            flush=True,
        )
    return out


# -- report ------------------------------------------------------------------------------------
def ms(seconds: float, digits: int = 1) -> str:
    return f"{seconds * 1e3:.{digits}f}"


def report_relay(res: dict[str, Any]) -> None:
    samples: dict[tuple[str, str], list[Run]] = res["samples"]
    n = N_TOKENS
    print()
    print(
        f"1. Relay of a {n}-token answer: {ROUNDS} interleaved rounds per path and delay "
        f"({res['seconds']:.0f} s); ms from the request; p95 of {ROUNDS} runs (nearest rank) "
        "is the slowest run"
    )
    rows = []
    for speed, label in SPEEDS:
        base = samples[(speed, "litellm")]
        b_first, b_total = median([x.first for x in base]), median([x.total for x in base])
        for v in VARIANTS:
            runs = samples[(speed, v)]
            firsts, totals = [x.first for x in runs], [x.total for x in runs]
            m_first, m_total = median(firsts), median(totals)
            paired = median([(a.total - b.total) / n for a, b in zip(runs, base, strict=True)])
            is_base = v == "litellm"
            rows.append(
                [
                    label,
                    v,
                    ms(m_first),
                    ms(percentile(firsts, 95)),
                    "" if is_base else f"{(m_first - b_first) * 1e3:+.1f}",
                    ms(m_total),
                    ms(percentile(totals, 95)),
                    f"{median([x.tps for x in runs]):.0f}",
                    f"{m_total / b_total:.2f}",
                    "" if is_base else f"{(m_total - b_total) / n * 1e3:+.3f}",
                    "" if is_base else f"{paired * 1e3:+.3f}",
                ]
            )
    print(
        table(
            [
                "delay",
                "path",
                "first p50",
                "first p95",
                "first +",
                "total p50",
                "total p95",
                "tok/s p50",
                "total x base",
                "ms/token +",
                "ms/token + paired",
            ],
            rows,
        )
    )
    print(
        "('+' columns: against litellm direct, on medians; 'paired': median over rounds of "
        "(run - same round's litellm run) / N)"
    )

    print()
    print(
        "Where the time goes: 'to LLM' = request -> the fake wrote token 1; 'token latency' = "
        "the fake wrote a token -> it reached the client (all tokens of all runs); 'LLM gap' = "
        "the fake's mean time between tokens; 'end' = last token -> end of stream (ms)"
    )
    rows = []
    for speed, label in SPEEDS:
        for v in VARIANTS:
            runs = samples[(speed, v)]
            lat = [x for run in runs for x in run.latencies]
            rows.append(
                [
                    label,
                    v,
                    ms(median([x.to_llm for x in runs])),
                    ms(median(lat), 2),
                    ms(percentile(lat, 95), 2),
                    ms(percentile(lat, 99), 2),
                    ms(max(lat), 2),
                    ms(median([x.llm_gap for x in runs]), 3),
                    ms(median([x.total - x.last for x in runs])),
                ]
            )
    print(
        table(
            [
                "delay",
                "path",
                "to LLM p50",
                "token latency p50",
                "p95",
                "p99",
                "max",
                "LLM gap",
                "end p50",
            ],
            rows,
        )
    )

    print()
    print("Layers (differences of medians, ms): first token = to LLM + token latency")
    rows = []
    for speed, label in SPEEDS:
        m = {}
        for v in VARIANTS:
            runs = samples[(speed, v)]
            m[v] = {
                "to_llm": median([x.to_llm for x in runs]),
                "lat": median([x for run in runs for x in run.latencies]),
                "first": median([x.first for x in runs]),
                "gap": median([x.llm_gap for x in runs]),
                "end": median([x.total - x.last for x in runs]),
                "total": median([x.total for x in runs]),
            }
        for a, b, what in (
            ("sidecar", "litellm", "sidecar (sidecar - litellm)"),
            ("full", "sidecar", "coordinator + WS (full - sidecar)"),
            ("full", "litellm", "all (full - litellm)"),
        ):
            d = {k: (m[a][k] - m[b][k]) * 1e3 for k in m[a]}
            rows.append(
                [
                    label,
                    what,
                    f"{d['first']:+.1f}",
                    f"{d['to_llm']:+.1f}",
                    f"{d['lat']:+.2f}",
                    f"{d['gap']:+.3f}",
                    f"{d['end']:+.1f}",
                    f"{d['total']:+.1f}",
                ]
            )
    print(
        table(
            ["delay", "layer", "first token", "to LLM", "token latency", "LLM gap", "end", "total"],
            rows,
        )
    )

    print()
    names = list(samples[("fast", "litellm")][0].cpu)
    print(
        "CPU per answer by process (ms, medians; the standalone sidecar serves only the "
        "'sidecar' path, the server's sidecar and coordinator only 'full')"
    )
    rows = []
    for speed, label in SPEEDS:
        base_total = median([sum(x.cpu.values()) for x in samples[(speed, "litellm")]])
        for v in VARIANTS:
            runs = samples[(speed, v)]
            total = median([sum(x.cpu.values()) for x in runs])
            rows.append(
                [
                    label,
                    v,
                    *(ms(median([x.cpu[k] for x in runs])) for k in names),
                    ms(total),
                    f"{(total - base_total) / n * 1e6:+.0f}",
                ]
            )
    print(table(["delay", "path", *names, "all", "us/token vs litellm"], rows))

    fulls = samples[("fast", "full")] + samples[("slow", "full")]
    posts = [x.extra["post"] for x in fulls]
    started = [x.extra["started"] for x in fulls]
    sides = samples[("fast", "sidecar")] + samples[("slow", "sidecar")]
    print(
        f"full path: POST /workspace/api/chat answered 202 after p50 {ms(median(posts))} ms "
        f"(p95 {ms(percentile(posts, 95))}); chat.started p50 {ms(median(started))} ms. "
        f"sidecar path: its first SSE event ('start') p50 "
        f"{ms(median([x.extra['start'] for x in sides]))} ms after the request"
    )
    print(
        "after the same idle gap, for scale: "
        + "; ".join(
            f"{k} p50 {ms(median(v), 2)} ms (max {ms(max(v), 2)})" for k, v in res["probes"].items()
        )
    )
    cold = res["cold"]
    print(
        "First request of each path (warm-up, not above), first token / total ms: "
        + "; ".join(f"{v} {ms(cold[v].first)} / {ms(cold[v].total)}" for v in VARIANTS)
    )
    print(
        f"The server's sidecar was ready {res['server_sidecar_ready']:.2f} s after spawning "
        f"`jupyter server`; llm in /workspace/api/status: {res['llm']}"
    )
    print(
        f"RSS MiB, ready -> after {res['chats_each']} chats each: "
        + "; ".join(
            f"{k} {res['rss_ready'][k]:.0f} -> {res['rss_after'][k]:.0f}" for k in res["rss_ready"]
        )
    )

    print()
    rows = []
    for speed, label in SPEEDS:
        b, f = samples[(speed, "litellm")], samples[(speed, "full")]
        per_token = (median([x.total for x in f]) - median([x.total for x in b])) / n
        first_add = median([x.first for x in f]) - median([x.first for x in b])
        rows.append(
            [
                label,
                f"{per_token * 1e3:+.3f} ms",
                "yes" if per_token <= 0.001 else "NO",
                f"{first_add * 1e3:+.1f} ms",
                "yes" if first_add <= 0.020 else "NO",
            ]
        )
    print("Goals (full path vs litellm direct, medians)")
    print(table(["delay", "added per token", "<= 1 ms", "added first token", "<= +20 ms"], rows))


def report_cold(res: dict[str, list[float]]) -> None:
    print()
    print(
        f"2. Sidecar cold start: {COLD_ROUNDS} runs each, interleaved (seconds; /health "
        "polled every 20 ms)"
    )
    base = median(res["import"])
    rows = []
    for key, label in (
        ("import", '`python -c "import litellm"` wall (baseline)'),
        ("import_inside", "  the import alone, timed inside it"),
        ("listening", "sidecar spawn -> LISTENING line"),
        ("ready", "sidecar spawn -> /health ready"),
        ("stop", "sidecar SIGTERM -> exit (after two chats)"),
    ):
        v = res[key]
        rows.append(
            [label, f"{median(v):.3f}", f"{min(v):.3f}", f"{max(v):.3f}", f"{median(v) / base:.2f}"]
        )
    print(table(["what", "median", "min", "max", "x baseline"], rows))
    inside = median(res["import_inside"])
    print(
        f"ready - baseline (medians): {(median(res['ready']) - base) * 1e3:+.0f} ms; ready - "
        f"the import alone: {(median(res['ready']) - inside) * 1e3:+.0f} ms"
    )
    grew = [b - a for a, b in zip(res["rss_ready"], res["rss_chat"], strict=True)]
    print(
        f"sidecar RSS when ready: median {median(res['rss_ready']):.0f} MiB (min "
        f"{min(res['rss_ready']):.0f}, max {max(res['rss_ready']):.0f}); after one "
        f"{N_TOKENS}-token chat: median {median(res['rss_chat']):.0f} MiB "
        f"(+{median(grew):.0f})"
    )
    print(
        f"first chat in a fresh sidecar: first token p50 {ms(median(res['chat1_first']))} ms, "
        f"total {ms(median(res['chat1_total']))} ms; the second chat: first token "
        f"{ms(median(res['chat2_first']))} ms, total {ms(median(res['chat2_total']))} ms"
    )


def main() -> None:
    print(
        f"bench_chat: {N_TOKENS} tokens, {ROUNDS} rounds x (litellm, sidecar, full) x "
        f"(0 ms, {DELAY_MS:g} ms between tokens), {COLD_ROUNDS} cold starts; "
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.2f}",
        flush=True,
    )
    t_all = time.perf_counter()
    fakes: FakeLLMs | None = None
    try:
        fakes = FakeLLMs([0.0, DELAY_MS / 1000])
        relay = asyncio.run(section_relay(fakes))
        cold = asyncio.run(section_cold(fakes))
    finally:
        if fakes is not None:
            fakes.stop()
        _cleanup()
    report_relay(relay)
    report_cold(cold)
    print(
        f"\n(total {time.perf_counter() - t_all:.0f} s; load average now {os.getloadavg()[0]:.2f})"
    )


if __name__ == "__main__":
    main()
