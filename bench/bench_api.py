"""REST and WebSocket latency of the workspace API against a real `jupyter server` subprocess.

One server per SQLite `synchronous` setting (FULL, then NORMAL), each in a fresh temp root
(on the same disk as /tmp). Against each, one asyncio client (a minimal HTTP/1.1 keep-alive
client on one TCP connection, token in the Authorization header, the same for every workload):
  (a) baseline  GET /api/status                       (jupyter_server itself, no workspace code)
  (b) create    POST /workspace/api/notes              {"title", "body"}
  (c) toggle    PATCH /workspace/api/tasks/{id}        {"done": true/false alternating}
  (d) fan-out   10 WebSocket clients on /workspace/api/events; time from sending the task PATCH
                until all 10 have received its `task.updated` event
(a)-(c) run 1000 times each and (d) 300 times, in 10 interleaved blocks (a, b, c, d, a, b, ...)
so the baseline sees the same machine noise as the workloads; a warm-up block comes first.
The WebSocket clients are connected only during the (d) blocks, so (b) and (c) publish to nobody.
Ratios are against the baseline measured on the same server in the same run.
Also prints the fsync latency of the temp dir's filesystem (what FULL pays per commit).
Prints figures only; it asserts nothing about timings.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import tempfile
import time
from typing import Any

from _harness import HOST, HttpClient, Server, percentile, table
from tornado.websocket import websocket_connect

BLOCKS = 10
N_REST = int(os.environ.get("BENCH_API_N", "1000"))
N_FANOUT = int(os.environ.get("BENCH_API_FANOUT_N", "300"))
N_CLIENTS = 10
WARMUP_REST = 100
WARMUP_FANOUT = 30


class Workload:
    def __init__(self, server: Server) -> None:
        self.server = server
        self.http = HttpClient(server.port, server.token)
        self.task_id: int | None = None
        self.done = False
        self.n_notes = 0
        self.samples: dict[str, list[float]] = {
            "status": [],
            "note": [],
            "toggle": [],
            "fanout": [],
            "fanout_patch": [],
        }

    async def timed(self, method: str, path: str, body: Any, expect: int) -> float:
        t = time.perf_counter()
        status, data = await self.http.request(method, path, body)
        dt = time.perf_counter() - t
        if status != expect:
            raise RuntimeError(f"{method} {path} -> {status} {data}")
        return dt

    async def status(self, n: int, record: bool) -> None:
        for _ in range(n):
            dt = await self.timed("GET", "/api/status", None, 200)
            if record:
                self.samples["status"].append(dt)

    async def notes(self, n: int, record: bool) -> None:
        for _ in range(n):
            self.n_notes += 1
            body = {
                "title": f"bench note {self.n_notes}",
                "body": f"Benchmark note number {self.n_notes}.\n\n- one\n- two\n",
            }
            dt = await self.timed("POST", "/workspace/api/notes", body, 201)
            if record:
                self.samples["note"].append(dt)

    def next_toggle(self) -> tuple[str, dict[str, bool]]:
        self.done = not self.done
        return f"/workspace/api/tasks/{self.task_id}", {"done": self.done}

    async def toggles(self, n: int, record: bool) -> None:
        for _ in range(n):
            path, body = self.next_toggle()
            dt = await self.timed("PATCH", path, body, 200)
            if record:
                self.samples["toggle"].append(dt)

    async def fanout(self, n: int, record: bool) -> None:
        url = f"ws://{HOST}:{self.server.port}/workspace/api/events?token={self.server.token}"
        conns = [await websocket_connect(url) for _ in range(N_CLIENTS)]
        try:
            for conn in conns:
                hello = json.loads(await conn.read_message())
                assert hello["type"] == "hello", hello
            queues: list[asyncio.Queue[tuple[float, dict[str, Any]]]] = [
                asyncio.Queue() for _ in conns
            ]

            async def reader(conn: Any, q: asyncio.Queue[tuple[float, dict[str, Any]]]) -> None:
                while (msg := await conn.read_message()) is not None:
                    q.put_nowait((time.perf_counter(), json.loads(msg)))

            readers = [
                asyncio.create_task(reader(c, q)) for c, q in zip(conns, queues, strict=True)
            ]
            try:
                for _ in range(n):
                    path, body = self.next_toggle()
                    t0 = time.perf_counter()
                    patch = asyncio.create_task(self.timed("PATCH", path, body, 200))
                    arrivals = []
                    for q in queues:
                        while True:
                            t, event = await asyncio.wait_for(q.get(), 10)
                            if (
                                event.get("type") == "task.updated"
                                and event["task"]["id"] == self.task_id
                                and event["task"]["done"] is self.done
                            ):
                                arrivals.append(t)
                                break
                    patch_dt = await patch
                    if record:
                        self.samples["fanout"].append(max(arrivals) - t0)
                        self.samples["fanout_patch"].append(patch_dt)
            finally:
                for task in readers:
                    task.cancel()
                await asyncio.gather(*readers, return_exceptions=True)
        finally:
            for conn in conns:
                conn.close()
            await asyncio.sleep(0.05)  # let the server see the closes before the next block

    async def run(self) -> None:
        status, task = await self.http.request(
            "POST", "/workspace/api/tasks", {"title": "bench toggle", "priority": "high"}
        )
        assert status == 201, (status, task)
        self.task_id = task["id"]
        # Warm-up (discarded), then interleaved measured blocks.
        await self.status(WARMUP_REST, False)
        await self.notes(WARMUP_REST, False)
        await self.toggles(WARMUP_REST, False)
        await self.fanout(WARMUP_FANOUT, False)
        for _ in range(BLOCKS):
            await self.status(N_REST // BLOCKS, True)
            await self.notes(N_REST // BLOCKS, True)
            await self.toggles(N_REST // BLOCKS, True)
            await self.fanout(N_FANOUT // BLOCKS, True)
        await self.http.close()


def fsync_latency(n: int = 200) -> list[float]:
    """Append 4 KiB and fsync, n times, in a temp file on the same filesystem as the servers."""
    samples = []
    with tempfile.NamedTemporaryFile(prefix="jw-bench-fsync-") as f:
        block = os.urandom(4096)
        for _ in range(n):
            f.write(block)
            f.flush()
            t = time.perf_counter()
            os.fsync(f.fileno())
            samples.append(time.perf_counter() - t)
    return samples


def bench_server(mode: str) -> tuple[Workload, float]:
    with Server(extra_args=[f"--WorkspaceApp.sqlite_synchronous={mode}"]) as server:
        server.wait_ready(["/api/status", "/workspace/api/status"])
        t = time.perf_counter()
        workload = Workload(server)
        asyncio.run(workload.run())
        if workload.http.connections != 1:
            print(
                f"[bench] note: the client needed {workload.http.connections} connections",
                file=sys.stderr,
            )
        return workload, time.perf_counter() - t


def main() -> None:
    print(
        f"bench_api: {N_REST} x (a)(b)(c), {N_FANOUT} x (d) with {N_CLIENTS} WebSocket clients,"
        f" {BLOCKS} interleaved blocks; python {sys.version.split()[0]}, {os.cpu_count()} cores"
    )
    fs = fsync_latency()
    print(
        f"fsync (4 KiB append) on {tempfile.gettempdir()}: "
        f"p50 {percentile(fs, 50) * 1e3:.2f} ms, p95 {percentile(fs, 95) * 1e3:.2f} ms"
    )
    results: dict[str, Workload] = {}
    for mode in ("FULL", "NORMAL"):
        workload, seconds = bench_server(mode)
        results[mode] = workload
        s = workload.samples
        print(
            f"  synchronous={mode}: done in {seconds:.1f} s; p50 ms: status "
            f"{percentile(s['status'], 50) * 1e3:.2f},"
            f" note {percentile(s['note'], 50) * 1e3:.2f},"
            f" toggle {percentile(s['toggle'], 50) * 1e3:.2f},"
            f" fan-out {percentile(s['fanout'], 50) * 1e3:.2f}",
            flush=True,
        )

    labels = [
        ("status", "(a) GET /api/status (baseline)"),
        ("note", "(b) POST /workspace/api/notes"),
        ("toggle", "(c) PATCH /workspace/api/tasks/{id}"),
        ("fanout", f"(d) PATCH -> {N_CLIENTS} WS clients got task.updated"),
        ("fanout_patch", "    (d) its PATCH response alone"),
    ]
    rows = []
    for mode, workload in results.items():
        s = workload.samples
        base50, base95 = percentile(s["status"], 50), percentile(s["status"], 95)
        for key, label in labels:
            p50, p95 = percentile(s[key], 50), percentile(s[key], 95)
            goal = "" if key in ("status", "fanout_patch") else ("yes" if p95 <= 0.010 else "NO")
            rows.append(
                [
                    mode,
                    label,
                    str(len(s[key])),
                    f"{p50 * 1e3:.2f}",
                    f"{p95 * 1e3:.2f}",
                    f"{p50 / base50:.2f}",
                    f"{p95 / base95:.2f}",
                    goal,
                ]
            )
    print()
    print("Summary (ms; ratios vs (a) measured on the same server, interleaved)")
    print(table(["sync", "what", "n", "p50", "p95", "p50/base", "p95/base", "p95<=10ms"], rows))
    print()
    # The two servers ran one after the other, so machine noise can differ between them: the
    # baseline-normalised ratio ((FULL/base) / (NORMAL/base)) is the better-controlled figure.
    full, normal = results["FULL"].samples, results["NORMAL"].samples
    rows = []
    for key, label in labels[1:4]:
        f50, n50 = percentile(full[key], 50), percentile(normal[key], 50)
        f95, n95 = percentile(full[key], 95), percentile(normal[key], 95)
        fb50, nb50 = percentile(full["status"], 50), percentile(normal["status"], 50)
        fb95, nb95 = percentile(full["status"], 95), percentile(normal["status"], 95)
        rows.append(
            [
                label,
                f"{(f50 - n50) * 1e3:+.2f}",
                f"{f50 / n50:.2f}",
                f"{(f50 / fb50) / (n50 / nb50):.2f}",
                f"{f95 / n95:.2f}",
                f"{(f95 / fb95) / (n95 / nb95):.2f}",
            ]
        )
    print("FULL vs NORMAL (sequential servers; 'norm' = each divided by its own baseline first)")
    print(
        table(
            ["what", "p50 diff ms", "p50 ratio", "p50 ratio norm", "p95 ratio", "p95 ratio norm"],
            rows,
        )
    )


if __name__ == "__main__":
    main()
