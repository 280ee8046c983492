"""Pipeline output throughput and the coordinator's memory during an output flood.

A real `jupyter server` (the extension, search index and AI sidecar off, terminals on) serves a
root whose `workspace.toml` has one pipeline, `flood`: `cat big.txt`, a pre-generated file of
MB x 10^6 bytes of printable 100-byte lines (outside the served root, so nothing else reads
it). A run's PTY turns each "\\n" into "\\r\\n" (ONLCR), so what a reader of the PTY gets is
MB x 10^6 + lines bytes; every byte count below is checked against that, and the bytes a
client received against a CRC-32 of the translated file.

Variants, interleaved round by round (the order rotates each round), after one warm-up run:
  cat        `cat big.txt > /dev/null` (sh -c), the floor
  pty        `cat big.txt` on a plain PTY (os.openpty) read by an os.read(65536) loop in this
             process into nothing: the PTY's own cost
  pty+mon    the same loop, plus what the server does with each chunk in-process: terminado's
             incremental UTF-8 decode and the run monitor itself (pipelines.ActiveRun.received:
             the 256 KiB tail, line splitting, FailureParser.feed on every line)
  server     POST /workspace/api/pipelines/flood/run, no terminal client: PTY -> terminado ->
             the monitor; timed to the `pipeline.run` event saying the run ended (read on the
             browser's /workspace/api/events WebSocket)
  server+ws  the same, plus a "browser": a tornado WebSocket client opened on
             /terminals/websocket/run_<id> right after the 202 (it sends set_size like
             xterm.js, then reads every ["stdout", text] message until ["disconnect", ...]).
             terminado replays its read_buffer (the last <= 1000 PTY chunks) to a socket that
             opens late, so nothing is lost as long as the socket opens before ~1000 chunks
             (~4 MB) were read; the received bytes and CRC say whether it did. Timed to the end
             event and to the client's last stdout byte.
One more run after the rounds (BENCH_PIPELINES_STALLED=1, the default): server+ws with a
client that opens the socket but reads nothing until the run has ended, then drains it (a slow
link or a stalled tab), to see where the output waits meanwhile.

During every server run a thread samples the server process's VmRSS (/proc/<pid>/status) and
CPU time every SAMPLE_MS (50 ms), VmHWM is reset before the run (clear_refs 5) for the true
peak, and another thread times GET /api/status every PROBE_MS (100 ms) on its own keep-alive
connection: the server's event loop responsiveness during the flood (a few ms of it can be
this process's GIL: the WebSocket client, the sampler and the prober share it); 3 s of the
same probing with no run first, for comparison.

With BENCH_PIPELINES_GC_PROBE=1 (the default) the server also loads a bench-only extension
written to its temp dir (module jwbench_gcprobe, one handler /jwbench/gc): it times the
server's cyclic-GC passes (gc.callbacks; full = generation 2) per run, and at the end counts
the terminado terminals still in memory and their read_buffer, then runs gc.collect().
Last, in this process on chunks captured from one PTY read, the CPU of each step the server
takes per chunk (decode, tail + split, FailureParser.feed, the TermSocket's json.dumps).

Knobs: BENCH_PIPELINES_MB (100), BENCH_PIPELINES_ROUNDS (5), BENCH_PIPELINES_SAMPLE_MS (50),
BENCH_PIPELINES_PROBE_MS (100), BENCH_PIPELINES_STALLED (1), BENCH_PIPELINES_GC_PROBE (1).
MB is 10^6 bytes throughout (RSS is in MiB). ~2 min on an idle 2-core machine, ~3 when busy.
Prints figures only; it asserts nothing about timings (it does fail on lost or wrong bytes).
"""

from __future__ import annotations

import asyncio
import codecs
import http.client
import json
import os
import shlex
import subprocess
import threading
import time
import zlib
from pathlib import Path
from typing import Any

from _harness import HOST, EventsClient, Server, median, percentile, table
from tornado.websocket import websocket_connect

from jupyter_workspace import protocol
from jupyter_workspace.server.failures import FailureParser
from jupyter_workspace.server.pipelines.config import Pipeline
from jupyter_workspace.server.pipelines.runs import TAIL_CHARS, ActiveRun

MB = float(os.environ.get("BENCH_PIPELINES_MB", "100"))
ROUNDS = int(os.environ.get("BENCH_PIPELINES_ROUNDS", "5"))
SAMPLE_S = float(os.environ.get("BENCH_PIPELINES_SAMPLE_MS", "50")) / 1000
PROBE_S = float(os.environ.get("BENCH_PIPELINES_PROBE_MS", "100")) / 1000
STALLED = os.environ.get("BENCH_PIPELINES_STALLED", "1") not in ("0", "", "false")
GC_PROBE = os.environ.get("BENCH_PIPELINES_GC_PROBE", "1") not in ("0", "", "false")
LINE_BYTES = 100
BODY = "the quick brown fox jumps over the lazy dog; flight software build log line, no error"
AFTER_S = 1.0  # RSS "after" = this long after the run ended (and the client closed)
CLK_TCK = os.sysconf("SC_CLK_TCK")
VARIANTS = ("cat", "pty", "pty+mon", "server", "server+ws")


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().strip()


# -- the file ----------------------------------------------------------------------------------
class BigFile:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.lines = max(1, round(MB * 1e6 / LINE_BYTES))
        self.size = self.lines * LINE_BYTES
        self.pty_bytes = self.size + self.lines  # ONLCR: "\n" -> "\r\n"
        self.pty_crc = 0
        self.last_line = ""

    def generate(self) -> float:
        t = time.perf_counter()
        block = 10000
        with open(self.path, "wb") as f:
            for start in range(0, self.lines, block):
                text = "".join(
                    f"{i:010d} {BODY}"[: LINE_BYTES - 1].ljust(LINE_BYTES - 1, ".") + "\n"
                    for i in range(start, min(start + block, self.lines))
                )
                data = text.encode()
                f.write(data)
                self.pty_crc = zlib.crc32(data.replace(b"\n", b"\r\n"), self.pty_crc)
                self.last_line = text.splitlines()[-1]
        assert self.path.stat().st_size == self.size
        return time.perf_counter() - t


# -- baselines in this process -----------------------------------------------------------------
def run_cat(big: BigFile) -> dict[str, Any]:
    t = time.perf_counter()
    subprocess.run(["sh", "-c", f"cat {shlex.quote(str(big.path))} > /dev/null"], check=True)
    return {"end": time.perf_counter() - t}


def _pty_cat(big: BigFile, on_chunk: Any) -> dict[str, Any]:
    master, slave = os.openpty()
    t = time.perf_counter()
    proc = subprocess.Popen(
        ["cat", str(big.path)], stdin=slave, stdout=slave, stderr=slave, start_new_session=True
    )
    os.close(slave)
    total = reads = biggest = 0
    try:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:  # EIO: the slave side is closed
                break
            if not data:
                break
            total += len(data)
            reads += 1
            biggest = max(biggest, len(data))
            if on_chunk is not None:
                on_chunk(data)
    finally:
        os.close(master)
        proc.wait()
    end = time.perf_counter() - t
    if total != big.pty_bytes:
        raise RuntimeError(f"PTY gave {total} bytes, expected {big.pty_bytes}")
    return {"end": end, "reads": reads, "mean_chunk": total / reads, "max_chunk": biggest}


def run_pty(big: BigFile) -> dict[str, Any]:
    return _pty_cat(big, None)


async def run_pty_monitor(big: BigFile, root: Path) -> dict[str, Any]:
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")  # as terminado does
    active = ActiveRun(0, Pipeline("flood", "cat"), FailureParser(root, root))
    result = _pty_cat(big, lambda data: active.received(decoder.decode(data, final=False)))
    active.died()
    if active.output.total != big.pty_bytes or active.parser.failures:
        raise RuntimeError(
            f"monitor saw {active.output.total} chars, {len(active.parser.failures)} failures"
        )
    return result


def monitor_breakdown(big: BigFile, root: Path) -> list[tuple[str, float]]:
    """CPU seconds of each step the server takes per PTY chunk, on chunks captured once."""
    chunks: list[bytes] = []
    _pty_cat(big, chunks.append)
    steps: list[tuple[str, float]] = []
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    t = time.process_time()
    texts = [decoder.decode(c, final=False) for c in chunks]
    steps.append(("terminado: UTF-8 decode of each chunk", time.process_time() - t))
    for label, parse in (
        ("monitor without FailureParser.feed (tail + line split)", False),
        ("monitor: ActiveRun.received (tail + split + FailureParser.feed)", True),
    ):
        active = ActiveRun(0, Pipeline("flood", "cat"), FailureParser(root, root))
        if not parse:
            active.parser.feed = lambda line: None  # type: ignore[method-assign]
        t = time.process_time()
        for text in texts:
            active.received(text)
        steps.append((label, time.process_time() - t))
    t = time.process_time()
    for text in texts:
        json.dumps(["stdout", text])
    steps.append(('TermSocket: json.dumps(["stdout", text]) per chunk', time.process_time() - t))
    return steps


# -- the server --------------------------------------------------------------------------------
class Sampler:
    """VmRSS + CPU of one process every SAMPLE_S, and /api/status latency every PROBE_S."""

    def __init__(self, server: Server) -> None:
        assert server.proc is not None
        self.pid = server.proc.pid
        self.server = server
        self.stop_flag = threading.Event()
        self.rss: list[tuple[float, int]] = []  # (perf_counter, kB)
        self.probes: list[float] = []
        self.probe_at: list[float] = []  # when each probe was sent
        self.probe_errors = 0
        self.threads = [
            threading.Thread(target=self._sample, daemon=True),
            threading.Thread(target=self._probe, daemon=True),
        ]
        self.cpu0 = self.cpu()
        self.hwm_reset = self._reset_hwm()

    def status_kb(self, key: str) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
        raise KeyError(key)

    def cpu(self) -> float:
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime

    def _reset_hwm(self) -> bool:
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")  # resets VmHWM to VmRSS
            return True
        except OSError:
            return False

    def _sample(self) -> None:
        while not self.stop_flag.is_set():
            t = time.perf_counter()
            self.rss.append((t, self.status_kb("VmRSS")))
            self.stop_flag.wait(max(0.0, SAMPLE_S - (time.perf_counter() - t)))

    def _probe(self) -> None:
        conn = http.client.HTTPConnection(HOST, self.server.port, timeout=30)
        headers = {"Authorization": f"token {self.server.token}"}
        try:
            while not self.stop_flag.is_set():
                t = time.perf_counter()
                try:
                    conn.request("GET", "/api/status", headers=headers)
                    resp = conn.getresponse()
                    resp.read()
                    if resp.status != 200:
                        raise OSError(resp.status)
                    self.probes.append(time.perf_counter() - t)
                    self.probe_at.append(t)
                except (OSError, http.client.HTTPException):
                    self.probe_errors += 1
                    conn.close()
                self.stop_flag.wait(max(0.0, PROBE_S - (time.perf_counter() - t)))
        finally:
            conn.close()

    def start(self) -> Sampler:
        for thread in self.threads:
            thread.start()
        return self

    def stop(self) -> dict[str, Any]:
        self.stop_flag.set()
        for thread in self.threads:
            thread.join()
        return {
            "cpu": self.cpu() - self.cpu0,
            "hwm_kb": self.status_kb("VmHWM") if self.hwm_reset else None,
        }


async def term_client(server: Server, name: str, hold: asyncio.Event | None) -> dict[str, Any]:
    """A browser's terminal view: set_size, then every stdout message until disconnect."""
    url = f"ws://{HOST}:{server.port}/terminals/websocket/{name}?token={server.token}"
    ws = await websocket_connect(url, max_message_size=1 << 30)
    out: dict[str, Any] = {
        "open": time.perf_counter(),
        "first": None,
        "last": None,
        "disconnect": None,
        "bytes": 0,
        "crc": 0,
        "msgs": 0,
        "first_msg": 0,
        "max_msg": 0,
    }
    await ws.write_message(json.dumps(["set_size", 24, 80, 480, 720]))
    if hold is not None:
        await hold.wait()
    tail = ""
    try:
        while (raw := await ws.read_message()) is not None:
            now = time.perf_counter()
            kind, *rest = json.loads(raw)
            if kind == "stdout":
                data = rest[0].encode()
                if out["first"] is None:  # may carry terminado's read_buffer replay
                    out["first"], out["first_msg"] = now, len(data)
                else:
                    out["max_msg"] = max(out["max_msg"], len(data))
                out["last"] = now
                out["bytes"] += len(data)
                out["crc"] = zlib.crc32(data, out["crc"])
                out["msgs"] += 1
                tail = (tail + rest[0])[-300:]
            elif kind == "disconnect":
                out["disconnect"] = now
                break
    finally:
        ws.close()
    out["tail"] = tail
    return out


class Coordinator(EventsClient):
    """One server, one keep-alive HTTP client, the events WebSocket (run-end timestamps)."""

    def __init__(self, server: Server, big: BigFile) -> None:
        super().__init__(server)
        self.big = big

    async def _ended(self, run_id: int) -> tuple[float, dict[str, Any]]:
        while True:
            t, raw = await asyncio.wait_for(self.events.get(), 900)
            event = json.loads(raw)
            run = event.get("run") or {}
            if (
                event.get("type") == protocol.PIPELINE_RUN
                and run.get("id") == run_id
                and run.get("status") != "running"
            ):
                return t, run

    async def run(self, client: str) -> dict[str, Any]:
        """client: "none" | "live" | "stalled"."""
        while not self.events.empty():
            self.events.get_nowait()
        sampler = Sampler(self.server).start()
        await asyncio.sleep(0.2)
        if GC_PROBE:
            await self.http.request("GET", "/jwbench/gc?scan=0&reset=1")
        rss_before = sampler.status_kb("VmRSS")
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        status, run = await self.http.request("POST", "/workspace/api/pipelines/flood/run", {})
        t202 = time.perf_counter()
        if status != 202:
            raise RuntimeError(f"POST run -> {status} {run}")
        hold = asyncio.Event() if client == "stalled" else None
        task = (
            asyncio.create_task(term_client(self.server, run["terminal"], hold))
            if client != "none"
            else None
        )
        t_end, ended = await self._ended(run["id"])
        if hold is not None:
            hold.set()
        ws = await task if task is not None else None
        t_done = time.perf_counter()
        client_cpu = time.process_time() - cpu0
        await asyncio.sleep(AFTER_S)
        rss_after = sampler.status_kb("VmRSS")
        stats = sampler.stop()
        gc_pauses = (
            (await self.http.request("GET", "/jwbench/gc?scan=0"))[1]["gc_pauses"]
            if GC_PROBE
            else None
        )
        status, detail = await self.http.request("GET", f"/workspace/api/runs/{run['id']}")
        big = self.big
        if (
            ended["status"] != "passed"
            or detail["output_bytes"] != big.pty_bytes
            or not detail["output"].rstrip("\r\n").endswith(big.last_line)
            or len(detail["output"]) > TAIL_CHARS
            or not detail["output_truncated"]
        ):
            raise RuntimeError(
                f"run {run['id']}: {ended['status']}, output_bytes "
                f"{detail['output_bytes']} (expected {big.pty_bytes}), tail "
                f"{len(detail['output'])} chars"
            )
        during = [kb for t, kb in sampler.rss if t0 <= t <= t_done]
        out = {
            "client": client,
            "run_id": run["id"],
            "post": t202 - t0,
            "end": t_end - t0,
            "duration": ended["duration"],
            "cpu": stats["cpu"],
            "client_cpu": client_cpu,
            "gc_pauses": gc_pauses,
            "rss_before": rss_before,
            "rss_peak": max(during or [rss_before]),
            "rss_after": rss_after,
            "hwm": stats["hwm_kb"],
            "samples": len(during),
            "probe_p50": percentile(sampler.probes, 50) if sampler.probes else float("nan"),
            "probe_max": max(sampler.probes) if sampler.probes else float("nan"),
            "probe_n": len(sampler.probes),
            "probe_errors": sampler.probe_errors,
            "probe_p99": percentile(sampler.probes, 99) if sampler.probes else float("nan"),
            # when the slowest probe was sent, in s from the run's end (negative: before it)
            "probe_max_at": (max(zip(sampler.probes, sampler.probe_at, strict=True))[1] - t_end)
            if sampler.probes
            else float("nan"),
        }
        if ws is not None:
            ok = ws["bytes"] == big.pty_bytes and ws["crc"] == big.pty_crc
            out.update(
                {
                    "open": ws["open"] - t0,
                    "first": ws["first"] - t0,
                    "last": ws["last"] - t0,
                    "ws_bytes": ws["bytes"],
                    "ws_ok": ok,
                    "msgs": ws["msgs"],
                    "first_msg": ws["first_msg"],
                    "max_msg": ws["max_msg"],
                    "disconnect": ws["disconnect"] is not None,
                }
            )
            if not ok:
                crc = "ok" if ws["crc"] == big.pty_crc else "differs"
                print(
                    f"[bench] run {run['id']} ({client}): the client got {ws['bytes']} bytes "
                    f"(expected {big.pty_bytes}), CRC {crc}; tail {ws['tail'][-80:]!r}"
                )
        return out


# -- what is still alive in the server afterwards ------------------------------------------------
GC_PROBE_MODULE = "jwbench_gcprobe"
GC_PROBE_SOURCE = '''"""Bench-only server extension: terminals alive, GC pauses."""
import gc
import json
import time

from jupyter_server.base.handlers import APIHandler
from tornado import web

PAUSES = {0: [], 1: [], 2: []}  # seconds of each cyclic GC pass, by generation
_started = [0.0]


def _on_gc(phase, info):
    if phase == "start":
        _started[0] = time.perf_counter()
    else:
        PAUSES[info["generation"]].append(time.perf_counter() - _started[0])


def _kb(key):
    for line in open("/proc/self/status"):
        if line.startswith(key + ":"):
            return int(line.split()[1])


class GcProbe(APIHandler):
    @web.authenticated
    def get(self):
        from terminado.management import PtyWithClients

        def alive():
            terms = [o for o in gc.get_objects() if isinstance(o, PtyWithClients)]
            return len(terms), sum(len(s) for t in terms for s in t.read_buffer)

        pauses = {g: [len(p), round(sum(p) * 1000, 1), round(max(p, default=0) * 1000, 1)]
                  for g, p in PAUSES.items()}
        if self.get_argument("reset", "0") == "1":
            for p in PAUSES.values():
                p.clear()
        if self.get_argument("scan", "1") == "0":
            self.finish(json.dumps({"gc_pauses": pauses}))
            return
        before = alive()
        rss = _kb("VmRSS")
        collected = gc.collect() if self.get_argument("collect", "0") == "1" else None
        after = alive()
        self.finish(json.dumps({"terminals": before[0], "read_buffer_chars": before[1],
                                "collected": collected, "terminals_after": after[0],
                                "rss_kb": rss, "rss_after_kb": _kb("VmRSS"),
                                "tracked_objects": len(gc.get_objects()),
                                "gc_count": gc.get_count(), "gc_pauses": pauses}))


def _jupyter_server_extension_points():
    return [{"module": "jwbench_gcprobe"}]


def _load_jupyter_server_extension(app):
    gc.callbacks.append(_on_gc)
    app.web_app.add_handlers(".*$", [("/jwbench/gc", GcProbe)])
'''


def install_gc_probe(server: Server) -> None:
    """Put the probe extension on the server's PYTHONPATH and enable it (an extra handler)."""
    folder = server.tmp / "gcprobe"
    folder.mkdir()
    (folder / f"{GC_PROBE_MODULE}.py").write_text(GC_PROBE_SOURCE)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [str(folder), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    server.extra_args.append(f"--ServerApp.jpserver_extensions={GC_PROBE_MODULE}=True")


# -- main --------------------------------------------------------------------------------------
def mbps(seconds: float, size: int) -> float:
    return size / 1e6 / seconds


def gc_cell(pauses: dict[str, list[float]] | None) -> str:
    """The server's generation-2 (full) cyclic GC passes during a run: count / longest ms."""
    if pauses is None:
        return "n/a"
    count, _total, longest = pauses["2"]
    return f"{count} / {longest:.0f}"


def fmt_mb(kb: float | None) -> str:
    return "n/a" if kb is None else f"{kb / 1024:.1f}"


async def bench() -> None:
    print(f"load average at start: {loadavg()}")
    server = Server(
        extra_args=["--WorkspaceApp.sidecar_enabled=False", "--WorkspaceApp.index_enabled=False"]
    )
    big = BigFile(server.tmp / "big.txt")
    took = big.generate()
    print(
        f"big.txt: {big.size / 1e6:.0f} MB, {big.lines} lines of {LINE_BYTES} bytes "
        f"(generated in {took:.1f} s); through a PTY: {big.pty_bytes} bytes"
    )
    if GC_PROBE:
        install_gc_probe(server)
    (server.root / "workspace.toml").write_text(
        "[pipelines.flood]\ncommand = "
        + json.dumps(f"cat {shlex.quote(str(big.path))}")
        + "\ntimeout = 3600\n"
    )
    results: dict[str, list[dict[str, Any]]] = {v: [] for v in VARIANTS}
    with server:
        server.wait_ready(["/api/status", "/workspace/api/status"])
        coord = Coordinator(server, big)
        await coord.open()
        try:
            rss_ready = Sampler(server).status_kb("VmRSS")
            status, listing = await coord.http.request("GET", "/workspace/api/pipelines")
            assert status == 200 and listing["pipelines"], listing
            # the bench wrote this config: trust it as a user allowed to run terminals would
            status, _ = await coord.http.request(
                "POST", "/workspace/api/pipelines/trust", {"hash": listing["config"]["hash"]}
            )
            assert status == 200
            idle = Sampler(server).start()
            await asyncio.sleep(3.0)
            idle.stop()
            t = time.perf_counter()
            warm = await coord.run("live")
            print(
                f"warm-up server+ws run: {time.perf_counter() - t:.1f} s "
                f"(run end {warm['end']:.2f} s)"
            )
            for r in range(ROUNDS):
                order = VARIANTS[r % len(VARIANTS) :] + VARIANTS[: r % len(VARIANTS)]
                for variant in order:
                    if variant == "cat":
                        res = run_cat(big)
                    elif variant == "pty":
                        res = run_pty(big)
                    elif variant == "pty+mon":
                        res = await run_pty_monitor(big, server.root)
                    else:
                        res = await coord.run("live" if variant == "server+ws" else "none")
                    res["round"] = r + 1
                    results[variant].append(res)
                    print(f"  round {r + 1} {variant:9s} {res['end']:7.2f} s", flush=True)
            stalled = await coord.run("stalled") if STALLED else None
            await asyncio.sleep(1.0)
            final = Sampler(server)
            rss_final = {k: final.status_kb(k) for k in ("VmRSS", "RssAnon", "RssFile")}
            gc_probe = None
            if GC_PROBE:
                runs = 1 + ROUNDS * 2 + (1 if STALLED else 0)
                _, before = await coord.http.request("GET", "/jwbench/gc")
                _, after = await coord.http.request("GET", "/jwbench/gc?collect=1")
                gc_probe = (runs, before, after)
        finally:
            await coord.close()
        steps = monitor_breakdown(big, server.tmp)  # the server idle; it deletes big.txt on exit
    report(big, results, stalled, rss_ready, rss_final, gc_probe, idle.probes)
    print(
        f"\n4. Where the server's CPU goes per {big.size / 1e6:.0f} MB ({big.lines} lines), "
        "in this process on chunks captured from a PTY once (CPU seconds)"
    )
    print(
        table(
            ["step", "CPU s", "MB/s alone"],
            [[label, f"{sec:.2f}", f"{mbps(sec, big.size):.0f}"] for label, sec in steps],
        )
    )
    print(f"load average at end: {loadavg()}")


def report(
    big: BigFile,
    results: dict[str, list[dict[str, Any]]],
    stalled: dict[str, Any] | None,
    rss_ready: int,
    rss_final: dict[str, int],
    gc_probe: tuple[int, dict[str, Any], dict[str, Any]] | None,
    idle_probes: list[float],
) -> None:
    size = big.size

    def med(variant: str, key: str) -> float:
        return median([r[key] for r in results[variant]])

    cat = med("cat", "end")
    pty = med("pty", "end")
    rows = []
    for label, variant, key in (
        ("`cat big.txt > /dev/null`", "cat", "end"),
        ("cat -> PTY -> os.read (this process)", "pty", "end"),
        ("cat -> PTY -> os.read + decode + run monitor (in-process)", "pty+mon", "end"),
        ("server, no terminal client: POST -> run ended", "server", "end"),
        ("server + WebSocket client: POST -> run ended", "server+ws", "end"),
        ("server + WebSocket client: POST -> last byte at the client", "server+ws", "last"),
    ):
        values = [r[key] for r in results[variant]]
        m = median(values)
        rows.append(
            [
                label,
                f"{m:.2f} s",
                ", ".join(f"{v:.2f}" for v in values),
                f"{mbps(m, size):.1f}",
                f"{m / cat:.0f}x",
                f"{m / pty:.2g}x",
            ]
        )
    print(
        f"\n1. Throughput: {size / 1e6:.0f} MB of 100-byte lines ({big.pty_bytes} bytes "
        f"through a PTY), medians of {ROUNDS} interleaved rounds; MB/s = file MB / time"
    )
    print(table(["path", "median", "rounds", "MB/s", "time vs cat", "time vs PTY"], rows))

    pty_runs = results["pty"]
    print(
        f"\nPTY chunks (plain PTY loop): {median([r['reads'] for r in pty_runs]):.0f} reads, "
        f"mean {median([r['mean_chunk'] for r in pty_runs]):.0f} B, max "
        f"{max(r['max_chunk'] for r in pty_runs)} B"
    )

    runs = [(v, r) for v in ("server", "server+ws") for r in results[v]]
    if stalled is not None:
        runs.append(("stalled ws", {**stalled, "round": "-"}))
    rows = []
    for variant, r in runs:
        ws = "ws_bytes" in r
        rows.append(
            [
                variant,
                str(r["round"]),
                f"{r['post'] * 1000:.0f}",
                f"{r['end']:.2f}",
                f"{r['duration']:.2f}",
                f"{r['open'] * 1000:.0f}" if ws else "-",
                f"{r['last']:.2f}" if ws else "-",
                (f"{r['ws_bytes']} {'ok' if r['ws_ok'] else 'LOST/WRONG'}" if ws else "-"),
                f"{r['msgs']} / {r['first_msg']} / {r['max_msg']}" if ws else "-",
                f"{r['cpu']:.1f}",
                f"{r['client_cpu']:.1f}",
                f"{r['probe_p50'] * 1000:.0f} / {r['probe_p99'] * 1000:.0f} / "
                f"{r['probe_max'] * 1000:.0f} @ {r['probe_max_at']:+.2f}"
                + (f" ({r['probe_errors']} err)" if r["probe_errors"] else ""),
                gc_cell(r["gc_pauses"]),
            ]
        )
    print(
        "\n2. Server runs (times in s from the POST unless marked ms; server CPU = the "
        "jupyter server process's user+sys during the run; bench CPU = this process's: the "
        "WebSocket client, the sampler and the prober)"
    )
    if idle_probes:
        rows.insert(
            0,
            [
                "idle (3 s, no run)",
                "-",
                "-",
                "-",
                "-",
                "-",
                "-",
                "-",
                "-",
                "-",
                "-",
                f"{percentile(idle_probes, 50) * 1000:.0f} / "
                f"{percentile(idle_probes, 99) * 1000:.0f} / "
                f"{max(idle_probes) * 1000:.0f}",
                "-",
            ],
        )
    print(
        table(
            [
                "run",
                "round",
                "POST ms",
                "run ended",
                "server duration",
                "ws open ms",
                "last byte",
                "bytes at client",
                "msgs / first / max later B",
                "server CPU s",
                "bench CPU s",
                "/api/status p50 / p99 / max ms @ s from run end",
                "full GCs: n / max ms",
            ],
            rows,
        )
    )

    rows = []
    for variant, r in runs:
        rows.append(
            [
                variant,
                str(r["round"]),
                fmt_mb(r["rss_before"]),
                fmt_mb(r["rss_peak"]),
                fmt_mb(r["hwm"]),
                f"{(r['rss_peak'] - r['rss_before']) / 1024:+.1f}",
                fmt_mb(r["rss_after"]),
                str(r["samples"]),
            ]
        )
    print(
        f"\n3. Server RSS (MB = MiB here) sampled every {SAMPLE_S * 1000:.0f} ms from the "
        f"POST to the end (incl. the client's drain); after = {AFTER_S:.0f} s later; "
        "VmHWM reset before each run"
    )
    print(
        table(
            [
                "run",
                "round",
                "before",
                "peak (sampled)",
                "VmHWM",
                "peak - before",
                "after",
                "samples",
            ],
            rows,
        )
    )
    print(
        f"RSS at ready {fmt_mb(rss_ready)} MB, after all runs {fmt_mb(rss_final['VmRSS'])} "
        f"MB (anon {fmt_mb(rss_final['RssAnon'])}, file {fmt_mb(rss_final['RssFile'])})"
    )
    chunks = [r["max_msg"] for r in results["server+ws"]]
    print(
        f"Bound: output tail {TAIL_CHARS // 1024} KiB + terminado read_buffer <= 1000 chunks "
        f"(largest seen {max(chunks) if chunks else 0} B -> <= "
        f"{1000 * max(chunks or [0]) / 2**20:.1f} MiB of text)"
    )
    if gc_probe is not None:
        runs, before, after = gc_probe
        print(
            f"After all {runs} server runs had ended: {before['terminals']} terminado terminals "
            f"still in memory holding {before['read_buffer_chars'] / 1e6:.1f} M chars of "
            f"read_buffer ({before['tracked_objects']} GC-tracked objects, gc counts "
            f"{before['gc_count']}); gc.collect() freed {after['collected']} objects -> "
            f"{after['terminals_after']} terminals left; RSS {fmt_mb(after['rss_kb'])} -> "
            f"{fmt_mb(after['rss_after_kb'])} MB"
        )


if __name__ == "__main__":
    asyncio.run(bench())
