"""Under sustained load: a bounded soak of the whole workspace on 127.0.0.1.

A real `jupyter server` with the workspace serves a temp copy of a real Python package (a pinned
PyPI sdist, downloaded once into ~/.cache/jupyter-workspace/bench/sdists; default
more-itertools, ~1,000 chunks). Once its index is idle, `--clients` asyncio clients (one
keep-alive HTTP connection each) run a random mix of operations back to back for `--duration`
seconds, while one more client reads the events WebSocket:
  note    create a note (1 in 5) or edit one of this client's notes (an autosave: the body
          grows by a sentence, PATCH)
  task    toggle one of the tasks made before the soak (PATCH done)
  search  GET /workspace/api/search?q=<a function's docstring words>&k=10 (hybrid)
  list    GET /workspace/api/notes
Mix (default note=45,task=15,search=30,list=10), a fixed rate per client (default: none, back
to back) and seed are knobs.

Reports: operations and errors per kind (an error: an exception or a status other than the
one expected), latency p50/p95 per kind (and of a search's round trip to the sidecar, the
`took_ms` the coordinator reports), sidecar and server RSS at the start, the end and the
highest sampled (every 2 s), and the LanceDB table's versions (manifests) and bytes on disk at
the start, at the end, and once the index has settled after the soak (idle, up to
`--settle` seconds). Prints figures; asserts nothing.

    .venv/bin/python bench/bench_soak.py --duration 300 --clients 4
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import shutil
import sys
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import EventsClient, HttpClient, Server, percentile, table
from bench_search import SDISTS, sdist

KINDS = ("note", "task", "search", "list")
EXPECT = {"note": (200, 201), "task": (200,), "search": (200,), "list": (200,)}
N_TASKS = 20
SENTENCES = (
    "The parser keeps the longest match.",
    "Remember to check the window size.",
    "TODO: compare with the recipe in the docs.",
    "Chunked iteration is lazy here.",
    "Ask about the peekable wrapper on Monday.",
    "Grouping by key needs sorted input.",
)


def rss_mib(pid: int | None) -> float | None:
    if pid is None:
        return None
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def lance_disk(index_dir: Path) -> tuple[int, int]:
    """(versions, bytes) of the index's tables: manifests kept, and every file's size."""
    versions = sum(1 for _ in index_dir.glob("*.lance/_versions/*.manifest"))
    size = sum(p.stat().st_size for p in index_dir.rglob("*") if p.is_file())
    return versions, size


def queries_of(root: Path, limit: int = 400) -> list[str]:
    """Search words a user would type: the first line of docstrings in the package."""
    found: list[str] = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(errors="replace")
        for match in re.finditer(r'"""\s*([A-Za-z][^\n"]{12,80})', text):
            found.append(match.group(1).strip().rstrip("."))
    return found[:limit] or ["iterate over chunks"]


@dataclass
class Stats:
    latency: dict[str, list[float]] = field(default_factory=lambda: {k: [] for k in KINDS})
    errors: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    samples: list[str] = field(default_factory=list)  # the first few error messages
    sidecar: list[float] = field(default_factory=list)  # a search's `took_ms`: the sidecar's part

    def error(self, kind: str, message: str) -> None:
        self.errors[kind] += 1
        if len(self.samples) < 10:
            self.samples.append(f"{kind}: {message}"[:300])


class SoakClient:
    def __init__(
        self,
        server: Server,
        n: int,
        rng: random.Random,
        stats: Stats,
        weights: dict[str, float],
        tasks: list[int],
        queries: list[str],
    ) -> None:
        self.http = HttpClient(server.port, server.token)
        self.n = n
        self.rng = rng
        self.stats = stats
        self.weights = weights
        self.tasks = tasks
        self.queries = queries
        self.notes: dict[int, str] = {}  # id -> body
        self.done: dict[int, bool] = {}

    def request(self, kind: str) -> tuple[str, str, Any]:
        rng = self.rng
        if kind == "note":
            if not self.notes or rng.random() < 0.2:
                return (
                    "POST",
                    "/workspace/api/notes",
                    {
                        "title": f"soak {self.n}.{len(self.notes) + 1}",
                        "body": rng.choice(SENTENCES),
                    },
                )
            note = rng.choice(list(self.notes))
            return (
                "PATCH",
                f"/workspace/api/notes/{note}",
                {"body": self.notes[note] + "\n" + rng.choice(SENTENCES)},
            )
        if kind == "task":
            task = rng.choice(self.tasks)
            self.done[task] = not self.done.get(task, False)
            return "PATCH", f"/workspace/api/tasks/{task}", {"done": self.done[task]}
        if kind == "search":
            q = urllib.parse.quote(rng.choice(self.queries))
            return "GET", f"/workspace/api/search?q={q}&k=10", None
        return "GET", "/workspace/api/notes", None

    async def run(self, until: float, rate: float) -> None:
        """Operations back to back, or `rate` a second (never bursting to catch up)."""
        kinds, weights = list(self.weights), list(self.weights.values())
        next_at = time.perf_counter()
        while time.perf_counter() < until:
            if rate:
                next_at += 1 / rate
                delay = next_at - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                else:
                    next_at = time.perf_counter()
            kind = self.rng.choices(kinds, weights)[0]
            method, path, body = self.request(kind)
            started = time.perf_counter()
            try:
                status, data = await self.http.request(method, path, body)
            except (OSError, ConnectionError, ValueError, asyncio.IncompleteReadError) as e:
                self.stats.error(kind, f"{method} {path}: {type(e).__name__}: {e}")
                await self.http.close()
                continue
            self.stats.latency[kind].append(time.perf_counter() - started)
            if status not in EXPECT[kind]:
                self.stats.error(kind, f"{method} {path} -> {status} {json.dumps(data)[:200]}")
            elif kind == "note":
                self.notes[data["id"]] = data["body"]
            elif kind == "search":
                self.stats.sidecar.append(data["took_ms"] / 1e3)
        await self.http.close()


async def wait_index(http: HttpClient, timeout: float) -> dict[str, Any]:
    """The index status once it is idle with every vector (or when `timeout` runs out)."""
    deadline = time.perf_counter() + timeout
    while True:
        status, index = await http.request("GET", "/workspace/api/index")
        if (
            status == 200
            and index["state"] == "idle"
            and not index["vectors_pending"]
            and index["files_indexed"]
        ):
            return index
        if time.perf_counter() > deadline:
            return index
        await asyncio.sleep(1.0)


async def sample_rss(pids: dict[str, int | None], peaks: dict[str, float]) -> None:
    while True:
        for name, pid in pids.items():
            value = rss_mib(pid)
            if value is not None:
                peaks[name] = max(peaks.get(name, 0.0), value)
        await asyncio.sleep(2.0)


async def soak(
    server: Server, args: argparse.Namespace, weights: dict[str, float]
) -> dict[str, Any]:
    http = HttpClient(server.port, server.token)
    index_dir = server.tmp / "state" / "index"
    t = time.perf_counter()
    index = await wait_index(http, args.index_timeout)
    print(
        f"indexed in {time.perf_counter() - t:.0f} s: {index['files_indexed']} files, "
        f"{index['chunks']} chunks ({index['state']})",
        flush=True,
    )
    tasks = []
    for i in range(N_TASKS):
        status, task = await http.request("POST", "/workspace/api/tasks", {"title": f"soak {i}"})
        assert status == 201, (status, task)
        tasks.append(task["id"])
    _, info = await http.request("GET", "/workspace/api/status")
    pids = {"sidecar": info["sidecar"]["pid"], "server": server.proc.pid}
    start = {name: rss_mib(pid) for name, pid in pids.items()}
    disk_start = lance_disk(index_dir)
    queries = queries_of(server.root)
    stats = Stats()
    rng = random.Random(args.seed)
    clients = [
        SoakClient(server, n, random.Random(rng.random()), stats, weights, tasks, queries)
        for n in range(args.clients)
    ]
    events = EventsClient(server)
    await events.open()
    peaks: dict[str, float] = {}
    sampler = asyncio.create_task(sample_rss(pids, peaks))
    until = time.perf_counter() + args.duration
    await asyncio.gather(*(client.run(until, args.rate) for client in clients))
    end = {name: rss_mib(pid) for name, pid in pids.items()}
    disk_end = lance_disk(index_dir)
    n_events = events.events.qsize()
    await events.close()
    settled_index = await wait_index(http, args.settle)
    sampler.cancel()
    await asyncio.gather(sampler, return_exceptions=True)
    settled = {name: rss_mib(pid) for name, pid in pids.items()}
    disk_settled = lance_disk(index_dir)
    await http.close()
    return {
        "stats": stats,
        "rss": {"start": start, "end": end, "peak": peaks, "settled": settled},
        "disk": {"start": disk_start, "end": disk_end, "settled": disk_settled},
        "events": n_events,
        "chunks": settled_index.get("chunks"),
        "settled_state": settled_index.get("state"),
    }


def parse_mix(text: str) -> dict[str, float]:
    mix = {}
    for part in text.split(","):
        name, _, weight = part.partition("=")
        if name.strip() not in KINDS:
            raise SystemExit(f"--mix: unknown kind {name!r} (one of {', '.join(KINDS)})")
        mix[name.strip()] = float(weight)
    return mix


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=float, default=300.0, help="seconds of load")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--mix", default="note=45,task=15,search=30,list=10")
    parser.add_argument(
        "--rate",
        type=float,
        default=0.0,
        help="operations a second per client (0: back to back); a fixed rate "
        "gives runs on a faster or slower system the same work",
    )
    parser.add_argument("--package", default="more-itertools", choices=sorted(SDISTS))
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--index-timeout",
        type=float,
        default=900.0,
        help="seconds to wait for the first index before the soak",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=120.0,
        help="seconds to wait for the index to go idle after the soak",
    )
    args = parser.parse_args()
    weights = parse_mix(args.mix)
    source = sdist(args.package)
    print(
        f"bench_soak: {args.duration:.0f} s, {args.clients} clients + 1 events reader "
        f"({f'{args.rate:g} ops/s each' if args.rate else 'back to back'}), mix "
        f"{args.mix}, {args.package} ({source.name}); {os.cpu_count()} cores, load "
        f"{os.getloadavg()[0]:.1f}",
        flush=True,
    )
    with Server(extra_args=["--WorkspaceApp.state_dir=../state"]) as server:
        shutil.copytree(source, server.root / source.name)
        server.wait_ready(["/api/status", "/workspace/api/status"])
        result = asyncio.run(soak(server, args, weights))
    stats: Stats = result["stats"]
    ops = sum(len(v) for v in stats.latency.values()) + sum(stats.errors.values())
    rows = [
        [
            kind,
            str(len(stats.latency[kind])),
            str(stats.errors[kind]),
            f"{percentile(stats.latency[kind], 50) * 1e3:.1f}",
            f"{percentile(stats.latency[kind], 95) * 1e3:.1f}",
        ]
        for kind in KINDS
        if kind in weights
    ]
    if stats.sidecar:
        rows.append(
            [
                "search: sidecar part",
                str(len(stats.sidecar)),
                "",
                f"{percentile(stats.sidecar, 50) * 1e3:.1f}",
                f"{percentile(stats.sidecar, 95) * 1e3:.1f}",
            ]
        )
    print()
    print(
        f"{ops} operations ({ops / args.duration:.1f}/s), {sum(stats.errors.values())} errors,"
        f" {result['events']} events read; index {result['chunks']} chunks, "
        f"{result['settled_state']} after the soak"
    )
    print(table(["op", "n", "errors", "p50 ms", "p95 ms"], rows))
    for sample in stats.samples:
        print("  error:", sample)
    rss = result["rss"]

    def mib(value: float | None) -> str:
        return "-" if value is None else f"{value:.0f}"

    print()
    print(
        table(
            ["process", "RSS start MiB", "end", "growth", "peak", "settled"],
            [
                [
                    name,
                    mib(rss["start"][name]),
                    mib(rss["end"][name]),
                    mib((rss["end"][name] or 0) - (rss["start"][name] or 0)),
                    mib(rss["peak"].get(name)),
                    mib(rss["settled"][name]),
                ]
                for name in ("sidecar", "server")
            ],
        )
    )
    disk = result["disk"]
    print()
    print(
        table(
            ["LanceDB", "start", "end", "settled"],
            [
                ["versions", *(str(disk[w][0]) for w in ("start", "end", "settled"))],
                ["MB", *(f"{disk[w][1] / 1e6:.1f}" for w in ("start", "end", "settled"))],
            ],
        )
    )
    print(f"load average at the end: {os.getloadavg()[0]:.1f} (the machine is shared)")


if __name__ == "__main__":
    main()
