"""Snapshots of unsaved work (issue 17): what they cost while typing, and what they keep.

Sections (`BENCH_SNAPSHOTS_SECTIONS`, default `put,store,browser`), each independent (one that
fails is reported as FAILED and the others still run):

  put      API only, one `jupyter server` (harness Server, sidecar and index off): PUT latency of
           a ~1 MB notebook that is on disk (each PUT one line different, so the server
           compares it with the file as JSON), the same gzipped as the page sends it, the same
           notebook with no file on disk, a tiny .py file, and GET snapshots (the list the
           page fetches after each snapshot.saved), against GET /api/status; interleaved
           blocks, p50/p95 and ratios; then where a 1 MB PUT's server time goes.
  store    API only: an hour of simulated editing compressed (no sleeping): 10 documents (.py
           5-50 KB, notebooks 100 KB-1 MB), the frontend's PUTs every ~1-10 s of simulated
           editing in bursts (gzipped from 16 KB up, as the page sends them), some saves (the
           file written with the buffer's content, then the page's PUT of the saved buffer, or
           only the watcher's file.changed for a file written by something else); the rows,
           stored (compressed) bytes, database + WAL size and bytes sent, with the defaults and
           again with a `snapshot_store_bytes` cap low enough to bite.
  browser  headless Chromium (playwright, /usr/bin/chromium) on a real `jupyter lab` with the
           workspace extension and the built labextension: a ~1 MB notebook opened, typing into
           a cell for 60 s at ~8 keys/s and with ~1.5 s pauses between words (the snapshot PUTs
           and their body bytes counted from page.on("request")); key press -> character painted
           in the editor with snapshots on vs off (interleaved blocks); last keystroke -> the
           snapshot committed (GET snapshots?path= shows the typed content's sha256), for a small
           .py file and the 1 MB notebook. Also the page's long tasks per arm, and an optional
           arm (BENCH_SNAPSHOTS_ARMS=on,off,nogzip) with snapshots on but the page's gzip of
           the body off.

Generated documents come from a fixed seed. Prints figures only; asserts nothing about timings.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gzip as gzip_module
import hashlib
import itertools
import json
import os
import random
import sqlite3
import struct
import sys
import time
import traceback
import zlib
from pathlib import Path
from typing import Any

from _harness import HOST, HttpClient, Server, percentile, table

SECTIONS = os.environ.get("BENCH_SNAPSHOTS_SECTIONS", "put,store,browser").split(",")
PUT_N = int(os.environ.get("BENCH_SNAPSHOTS_PUT_N", "100"))
SIM_MINUTES = float(os.environ.get("BENCH_SNAPSHOTS_SIM_MINUTES", "60"))
STORE_CAP = int(os.environ.get("BENCH_SNAPSHOTS_STORE_CAP", "0"))  # 0: a third of the uncapped
SEED = int(os.environ.get("BENCH_SNAPSHOTS_SEED", "17"))
BLOCKS = 10
API_ARGS = ["--WorkspaceApp.sidecar_enabled=False", "--WorkspaceApp.index_enabled=False"]
SNAPSHOTS = "/workspace/api/snapshots"
MB = 1024 * 1024


# -- generated documents ----------------------------------------------------------------------
_WORDS = [
    "data",
    "frame",
    "value",
    "index",
    "result",
    "model",
    "train",
    "test",
    "loss",
    "mean",
    "std",
    "count",
    "total",
    "rate",
    "step",
    "signal",
    "sample",
    "window",
    "filter",
    "batch",
    "score",
    "error",
    "weight",
    "shape",
    "array",
    "query",
    "field",
    "record",
]


def _png(rng: random.Random, noise_bytes: int) -> bytes:
    """A valid RGB PNG whose compressed size is ~noise_bytes (a plot's area of noise, white
    elsewhere): what a matplotlib figure's PNG weighs, and as incompressible."""
    width = 400
    rows = max(1, noise_bytes // (width * 3) + 1)
    height = rows + 60
    raw = bytearray()
    for y in range(height):
        raw.append(0)
        if y < rows:
            raw += rng.randbytes(width * 3)
        else:
            raw += b"\xff" * (width * 3)

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(raw), 9))
        + chunk(b"IEND", b"")
    )


def _code_lines(rng: random.Random, n: int) -> list[str]:
    lines = []
    for _ in range(n):
        a, b, c = rng.sample(_WORDS, 3)
        shape = rng.randrange(5)
        if shape == 0:
            lines.append(f"{a}_{b} = {c}.{rng.choice(_WORDS)}({rng.randint(0, 999)})")
        elif shape == 1:
            lines.append(f"for {a} in range(len({b}_{c})):")
            lines.append(f"    {b}[{a}] = {c}[{a}] * {rng.random():.4f}")
        elif shape == 2:
            lines.append(f"# {a} {b} {c}: {' '.join(rng.sample(_WORDS, 5))}")
        elif shape == 3:
            lines.append(f"print(f'{a} {{{b}_{c}:.3f}}')")
        else:
            lines.append(f"{a} = np.{b}({c}, axis={rng.randint(0, 2)})")
    return lines


def make_notebook(rng: random.Random, target: int) -> dict[str, Any]:
    """~target bytes of nbformat 4 JSON: code cells with sources, stream outputs, and
    text/png display outputs added until the size is reached (~1 cell in 4 for 1 MB)."""
    cells: list[dict[str, Any]] = []
    n_cells = max(10, target // 5000)
    for i in range(n_cells):
        if i % 10 == 0:
            cells.append(
                {
                    "cell_type": "markdown",
                    "id": f"md-{i}",
                    "metadata": {},
                    "source": f"## Step {i // 10}: " + " ".join(rng.sample(_WORDS, 8)),
                }
            )
            continue
        outputs: list[dict[str, Any]] = []
        if rng.random() < 0.7:
            text = "".join(f"{rng.choice(_WORDS)} {rng.random():.6f}\n" for _ in range(8))
            outputs.append({"output_type": "stream", "name": "stdout", "text": text})
        cells.append(
            {
                "cell_type": "code",
                "id": f"code-{i}",
                "execution_count": i,
                "metadata": {},
                "outputs": outputs,
                "source": "\n".join(_code_lines(rng, rng.randint(4, 12))),
            }
        )
    nb = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    code = [c for c in cells if c["cell_type"] == "code"]
    while len(dump_notebook(nb)) < target:
        cell = rng.choice(code)
        png = _png(rng, rng.randint(8000, 16000))
        cell["outputs"].append(
            {
                "output_type": "display_data",
                "data": {
                    "image/png": base64.b64encode(png).decode(),
                    "text/plain": ["<Figure size 640x480 with 1 Axes>"],
                },
                "metadata": {},
            }
        )
    return nb


def dump_notebook(nb: dict[str, Any]) -> str:
    """As nbformat writes a notebook (indent 1, sorted keys, trailing newline)."""
    return json.dumps(nb, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


def sent_notebook(nb: dict[str, Any]) -> str:
    """As the frontend sends a notebook: JSON.stringify(model.toJSON()), no whitespace."""
    return json.dumps(nb, separators=(",", ":"), ensure_ascii=False)


def make_py(rng: random.Random, target: int) -> str:
    lines: list[str] = ['"""Generated module."""', "import numpy as np", ""]
    size = sum(len(x) + 1 for x in lines)
    while size < target:
        name = "_".join(rng.sample(_WORDS, 2))
        block = [f"def {name}({rng.choice(_WORDS)}, {rng.choice(_WORDS)}):"]
        block += ["    " + line for line in _code_lines(rng, rng.randint(3, 10))]
        block += [f"    return {rng.choice(_WORDS)}", "", ""]
        lines += block
        size += sum(len(x) + 1 for x in block)
    return "\n".join(lines)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# -- a client that sends a body already encoded ----------------------------------------------
class Client(HttpClient):
    """The harness client with `send(method, path, payload)`: the body is encoded once, before
    the clock starts (a browser's JSON.stringify is not what the server's latency is)."""

    async def send(
        self, method: str, path: str, payload: bytes | None, gzip: bool = False
    ) -> tuple[int, Any]:
        if self.writer is None:
            await self._connect()
        assert self.reader is not None and self.writer is not None
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{self.port}\r\n"
            f"Authorization: token {self.token}\r\nAccept: application/json\r\n"
        )
        body = payload or b""
        if method != "GET":
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        if gzip:
            head += "Content-Encoding: gzip\r\n"
        self.writer.write(head.encode() + b"\r\n" + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("server closed the connection")
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        while (line := await self.reader.readline()) not in (b"\r\n", b"\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        data = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, (json.loads(data) if data else None)


def put_body(path: str, kind: str, content: str, client: str = "bench-tab", **extra: Any) -> str:
    return json.dumps({"path": path, "kind": kind, "content": content, "client": client, **extra})


COMPRESS_FROM = 16 * 1024  # the page gzips a PUT body from this size up (snapshotapi.ts)


def wire(body: str) -> tuple[bytes, bool]:
    """The body as the page sends it: gzipped (CompressionStream, zlib's default level) from
    16 KB up."""
    raw = body.encode()
    if len(body) >= COMPRESS_FROM:
        return gzip_module.compress(raw, 6, mtime=0), True
    return raw, False


def db_figures(root: Path, path: str | None = None) -> dict[str, float]:
    """The workspace database's snapshots (one document's: `path`), read-only, and its file
    sizes."""
    db = root / ".jupyter-workspace" / "workspace.sqlite"
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    where, params = ("WHERE path = ?", (path,)) if path else ("", ())
    try:
        rows, stored, raw = conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(length(content)), 0), COALESCE(SUM(size), 0) "
            f"FROM snapshots {where}",
            params,
        ).fetchone()
        docs = conn.execute("SELECT COUNT(DISTINCT path) FROM snapshots").fetchone()[0]
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        free = conn.execute("PRAGMA freelist_count").fetchone()[0] * page_size
    finally:
        conn.close()
    wal = Path(f"{db}-wal")
    return {
        "rows": rows,
        "docs": docs,
        "stored": stored,
        "raw": raw,
        "db": db.stat().st_size,
        "wal": wal.stat().st_size if wal.exists() else 0,
        "free": free,
    }


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f}"


def mib(n: float) -> str:
    return f"{n / MB:.2f}"


# -- section put: PUT latency, API only --------------------------------------------------------
async def _put_section(server: Server, nb_text: str) -> dict[str, list[float]]:
    http = Client(server.port, server.token)
    nb = json.loads(nb_text)
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    counter = 0
    tiny = itertools.count()

    def variant(nb_path: str) -> str:
        # one character different from the previous PUT (and from the disk): the buffer while
        # typing; the same cell each time, as a user types in one place
        nonlocal counter
        counter += 1
        cell = code[len(code) // 2]
        source = cell["source"]
        cell["source"] = source + f"\nx = {counter}"
        text = sent_notebook(nb)
        cell["source"] = source
        return put_body(nb_path, "notebook", text)

    samples: dict[str, list[float]] = {
        "status": [],
        "nb_disk": [],
        "nb_gzip": [],
        "nb_new": [],
        "tiny": [],
        "list": [],
    }
    answers: dict[str, dict[int, int]] = {k: {} for k in samples}

    async def one(
        key: str, method: str, path: str, payload: bytes | None, gzip: bool = False
    ) -> None:
        t = time.perf_counter()
        status, data = await http.send(method, path, payload, gzip)
        dt = time.perf_counter() - t
        if status not in (200, 201):
            raise RuntimeError(f"{method} {path} -> {status} {data}")
        samples[key].append(dt)
        answers[key][status] = answers[key].get(status, 0) + 1

    async def block(n: int) -> None:
        for _ in range(n):
            await one("status", "GET", "/api/status", None)
        for _ in range(n):
            await one("nb_disk", "PUT", SNAPSHOTS, variant("big.ipynb").encode())
        for _ in range(n):
            packed, _ = wire(variant("big.ipynb"))
            await one("nb_gzip", "PUT", SNAPSHOTS, packed, gzip=True)
        for _ in range(n):
            await one("nb_new", "PUT", SNAPSHOTS, variant("unsaved.ipynb").encode())
        for _ in range(n):
            await one("list", "GET", SNAPSHOTS, None)
        for _ in range(n):
            text = f"print('hello')\nx = {next(tiny)}\n"
            await one("tiny", "PUT", SNAPSHOTS, put_body("tiny.py", "file", text).encode())

    await block(10)  # warm-up
    for values in samples.values():
        values.clear()
    for values in answers.values():
        values.clear()
    for _ in range(BLOCKS):
        await block(max(1, PUT_N // BLOCKS))
    await http.close()
    print(f"  answers: {answers}", flush=True)
    return samples


def section_put() -> None:
    rng = random.Random(SEED)
    nb_text = dump_notebook(make_notebook(rng, MB))
    print(
        f"\n== put: PUT {SNAPSHOTS} latency, {PUT_N} of each in {BLOCKS} interleaved blocks "
        f"(notebook {len(nb_text.encode()) / 1e6:.2f} MB)",
        flush=True,
    )
    with Server(extra_args=API_ARGS) as server:
        (server.root / "big.ipynb").write_text(nb_text)
        (server.root / "tiny.py").write_text("print('hello')\n")
        server.wait_ready(["/api/status", "/workspace/api/status"])
        samples = asyncio.run(_put_section(server, nb_text))
    base50, base95 = percentile(samples["status"], 50), percentile(samples["status"], 95)
    labels = [
        ("status", "GET /api/status (baseline)"),
        ("tiny", "PUT tiny .py (~25 B)"),
        ("nb_new", "PUT 1 MB notebook, no file on disk"),
        ("nb_disk", "PUT 1 MB notebook, file on disk (JSON compare)"),
        ("nb_gzip", "  the same gzipped, as the page sends it"),
        ("list", "GET snapshots (list: 3 documents, the 1 MB one on disk)"),
    ]
    rows = []
    for key, label in labels:
        p50, p95 = percentile(samples[key], 50), percentile(samples[key], 95)
        rows.append(
            [
                label,
                str(len(samples[key])),
                ms(p50),
                ms(p95),
                f"{p50 / base50:.1f}",
                f"{p95 / base95:.1f}",
            ]
        )
    print(table(["what", "n", "p50 ms", "p95 ms", "p50/base", "p95/base"], rows))
    print(_put_parts(nb_text))


def _put_parts(nb_text: str) -> str:
    """What the server does with a 1 MB notebook PUT, timed here (median of 5): where the
    latency above goes."""
    nb = json.loads(nb_text)
    sent = sent_notebook(nb)
    body = put_body("big.ipynb", "notebook", sent).encode()
    raw = sent.encode()
    parts = {
        "json.loads(body)": lambda: json.loads(body),
        "sha256": lambda: hashlib.sha256(raw).hexdigest(),
        "zlib level 6": lambda: zlib.compress(raw, 6),
        "JSON compare with the file": lambda: json.loads(sent) == json.loads(nb_text),
    }
    shown = []
    for name, fn in parts.items():
        times = []
        for _ in range(5):
            t = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t)
        shown.append(f"{name} {ms(sorted(times)[2])} ms")
    ratio = len(zlib.compress(raw, 6)) / len(raw)
    return f"in this process, for the 1 MB notebook: {', '.join(shown)} (compressed to {ratio:.0%})"


# -- section store: an hour of simulated editing -----------------------------------------------
class Doc:
    def __init__(self, path: str, kind: str, rng: random.Random, target: int) -> None:
        self.path = path
        self.kind = kind
        self.rng = rng
        if kind == "notebook":
            self.nb: dict[str, Any] | None = make_notebook(rng, target)
            self.lines: list[str] = []
        else:
            self.nb = None
            self.lines = make_py(rng, target).split("\n")
        self.text = self.render()
        self.disk_hash = sha256(self.saved_text())
        self.saved_buffer = sha256(self.text)  # the buffer when last saved

    def render(self) -> str:
        """The buffer as the frontend sends it."""
        return sent_notebook(self.nb) if self.nb is not None else "\n".join(self.lines)

    def saved_text(self) -> str:
        """The buffer as JupyterLab writes it on disk."""
        return dump_notebook(self.nb) if self.nb is not None else self.text

    def edit(self) -> None:
        """A few seconds of typing: 1-40 characters inserted somewhere near the last edit."""
        rng = self.rng
        typed = " ".join(rng.sample(_WORDS, 6))[: rng.randint(1, 40)]
        if self.nb is not None:
            code = [c for c in self.nb["cells"] if c["cell_type"] == "code"]
            cell = code[rng.randrange(len(code))]
            pos = rng.randint(0, len(cell["source"]))
            cell["source"] = cell["source"][:pos] + typed + cell["source"][pos:]
        else:
            i = rng.randrange(len(self.lines))
            self.lines[i] = self.lines[i] + typed
        self.text = self.render()


async def _sim_put(http: Client, doc: Doc, figures: dict[str, Any]) -> tuple[int, Any]:
    """The frontend's PUT of the buffer (gzipped from 16 KB up, as the page does)."""
    body = put_body(doc.path, doc.kind, doc.text, base_hash=doc.disk_hash, base_mtime=1.7e9)
    payload, packed = wire(body)
    t = time.perf_counter()
    status, data = await http.send("PUT", SNAPSHOTS, payload, packed)
    figures["put_s"].append(time.perf_counter() - t)
    key = str(status)
    if status == 200 and isinstance(data, dict):
        key = "200 " + ",".join(sorted(data))
    figures["answers"][key] = figures["answers"].get(key, 0) + 1
    figures["puts"] += 1
    figures["sent"] += len(payload)
    figures["sent_json"] += len(body.encode())
    return status, data


async def _simulate(server: Server, docs: list[Doc], rng: random.Random) -> dict[str, Any]:
    http = Client(server.port, server.token)
    figures: dict[str, Any] = {
        "puts": 0,
        "sent": 0,
        "sent_json": 0,
        "answers": {},
        "saves_page": 0,
        "left_after_page_save": 0,
        "saves_disk": 0,
        "save_dropped": 0,
        "left_after_disk_save": 0,
        "peak_stored": 0,
        "put_s": [],
    }
    sim_end = SIM_MINUTES * 60
    clock = 0.0
    weights = [3 if d.kind == "file" else 2 for d in docs]
    while clock < sim_end:
        doc = rng.choices(docs, weights)[0]
        burst_end = clock + rng.uniform(20, 240)
        while clock < burst_end and clock < sim_end:
            clock += rng.uniform(1, 10)  # the frontend's PUTs: every 1-10 s of editing
            doc.edit()
            status, data = await _sim_put(http, doc, figures)
            if figures["puts"] % 25 == 0:
                figures["peak_stored"] = max(
                    figures["peak_stored"], db_figures(server.root)["stored"]
                )
        saved = rng.random()
        if saved < 0.4:  # a save: the buffer written on disk as it is
            on_disk = doc.saved_text()
            (server.root / doc.path).write_text(on_disk)
            doc.disk_hash = sha256(on_disk)
            doc.saved_buffer = sha256(doc.text)
            if saved < 0.3:
                # saved in the page: the frontend sends the saved buffer once more, which the
                # server finds equal to the file and drops this tab's snapshots of it
                await _sim_put(http, doc, figures)
                figures["saves_page"] += 1
                figures["left_after_page_save"] += db_figures(server.root, doc.path)["rows"]
            else:
                # written by something else (another tool, a git checkout): only the watcher's
                # file.changed drops the snapshots equal to the file, i.e. the newest; the
                # older versions of the buffer stay. Wait for it (real time).
                figures["saves_disk"] += 1
                deadline = time.perf_counter() + 10
                while time.perf_counter() < deadline:
                    status, data = await http.send("GET", f"{SNAPSHOTS}?path={doc.path}", None)
                    if status == 200 and all(
                        not s["disk"]["same_as_disk"] for s in data["snapshots"]
                    ):
                        figures["save_dropped"] += 1
                        figures["left_after_disk_save"] += db_figures(server.root, doc.path)["rows"]
                        break
                    await asyncio.sleep(0.05)
        clock += rng.uniform(0, 60)  # thinking, reading, running cells: no edits
    figures["peak_stored"] = max(figures["peak_stored"], db_figures(server.root)["stored"])
    status, data = await http.send("GET", SNAPSHOTS, None)
    listed = data["snapshots"] if status == 200 else []
    # the documents left with unsaved edits: is their last buffer (or at least some version)
    # still in the store?
    unsaved = [d for d in docs if sha256(d.text) != d.saved_buffer]
    newest = {s["path"]: s["content_hash"] for s in listed}
    figures["unsaved"] = len(unsaved)
    figures["kept_last"] = sum(newest.get(d.path) == sha256(d.text) for d in unsaved)
    figures["kept_none"] = sum(d.path not in newest for d in unsaved)
    figures["listed"] = f"{len(listed)} ({sum(not s['disk']['same_as_disk'] for s in listed)})"
    await http.close()
    return figures


def _store_run(cap: int | None) -> dict[str, Any]:
    rng = random.Random(SEED)
    docs = [
        Doc(f"src/module_{i}.py", "file", rng, size)
        for i, size in enumerate((5_000, 12_000, 20_000, 35_000, 50_000))
    ] + [
        Doc(f"notebooks/analysis_{i}.ipynb", "notebook", rng, size)
        for i, size in enumerate((100_000, 200_000, 400_000, 700_000, 1_000_000))
    ]
    args = list(API_ARGS)
    if cap is not None:
        args.append(f"--WorkspaceApp.snapshot_store_bytes={cap}")
    with Server(extra_args=args) as server:
        for doc in docs:
            (server.root / doc.path).parent.mkdir(parents=True, exist_ok=True)
            (server.root / doc.path).write_text(doc.saved_text())
        server.wait_ready(["/api/status", "/workspace/api/status"])
        t = time.perf_counter()
        figures = asyncio.run(_simulate(server, docs, rng))
        figures["wall"] = time.perf_counter() - t
        figures.update(db_figures(server.root))
        figures["docs_bytes"] = sum(len(d.text.encode()) for d in docs)
    return figures


def section_store() -> None:
    print(
        f"\n== store: {SIM_MINUTES:g} min of simulated editing, 10 documents, server defaults "
        "(snapshot_history 5), then with a store cap that bites",
        flush=True,
    )
    runs: list[tuple[str, dict[str, Any]]] = []
    free = _store_run(None)
    runs.append(("default (200 MB cap)", free))
    print(f"  default cap: done in {free['wall']:.1f} s wall", flush=True)
    cap = STORE_CAP or max(MB, int(free["stored"] // 3))
    capped = _store_run(cap)
    runs.append((f"cap {mib(cap)} MiB", capped))
    print(f"  cap {mib(cap)} MiB: done in {capped['wall']:.1f} s wall", flush=True)
    rows = []
    for name, f in runs:
        answers = " ".join(f"{k}:{v}" for k, v in sorted(f["answers"].items()))
        rows.append(
            [
                name,
                str(f["puts"]),
                f"{mib(f['sent'])} ({mib(f['sent_json'])})",
                f"{f['saves_page']} ({f['left_after_page_save']})",
                f"{f['saves_disk']} ({f['save_dropped']}, {f['left_after_disk_save']})",
                str(f["rows"]),
                f["listed"],
                f"{f['unsaved']} ({f['kept_last']}, {f['kept_none']})",
                mib(f["raw"]),
                mib(f["stored"]),
                mib(f["peak_stored"]),
                mib(f["db"]),
                mib(f["wal"]),
                mib(f["free"]),
                answers,
            ]
        )
    print(
        f"documents: {mib(free['docs_bytes'])} MiB at the end; PUT p50/p95 "
        f"{ms(percentile(free['put_s'], 50))}/{ms(percentile(free['put_s'], 95))} ms"
    )
    print(
        table(
            [
                "store",
                "PUTs",
                "sent MiB (as JSON)",
                "page saves (rows left)",
                "disk writes (seen, rows left)",
                "rows",
                "listed (not as on disk)",
                "unsaved docs (last kept, none kept)",
                "content MiB",
                "stored MiB",
                "peak stored MiB",
                "db MiB",
                "WAL MiB",
                "db free MiB",
                "answers",
            ],
            rows,
        )
    )


# -- section browser: the real frontend in Chromium ----------------------------------------
TYPE_SECONDS = float(os.environ.get("BENCH_SNAPSHOTS_TYPE_SECONDS", "60"))
LATENCY_KEYS = int(os.environ.get("BENCH_SNAPSHOTS_LATENCY_KEYS", "300"))
BURSTS = int(os.environ.get("BENCH_SNAPSHOTS_BURSTS", "20"))
# latency arms: on, off, and nogzip (on, the page's gzip of the body switched off)
ARMS = os.environ.get("BENCH_SNAPSHOTS_ARMS", "on,off").split(",")
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CHECKOUT = Path(__file__).resolve().parents[1]
BUILT = CHECKOUT / "jupyter_workspace" / "labextension"
RECOVERY = "jupyter-workspace:recovery"
KEY_GAP_MS = 100  # + ~25 ms per key of CDP round trip: ~8 keystrokes a second

# In the page: for every printable key, the time from the keydown event's creation to the end of
# the first frame whose editor line holds the character (a rAF callback sees it in the DOM; a
# message posted from there runs after that frame is painted).
LATENCY_JS = """() => {
  if (window.__lat) { return; }
  const lat = (window.__lat = { samples: [], lost: 0, long: [] });
  new PerformanceObserver(list => {
    for (const e of list.getEntries()) { lat.long.push([e.startTime, e.duration]); }
  }).observe({ type: 'longtask' });
  const lineLength = () => {
    const node = getSelection()?.focusNode;
    const el = node && (node.nodeType === 1 ? node : node.parentElement);
    const line = el ? el.closest('.cm-line') : null;
    return line ? line.textContent.length : -1;
  };
  window.addEventListener('keydown', event => {
    if (event.key.length !== 1) { return; }
    const t0 = event.timeStamp;
    const before = lineLength();
    if (before < 0) { lat.lost += 1; return; }
    const frame = () => {
      if (lineLength() > before) {
        const channel = new MessageChannel();
        channel.port1.onmessage = () => lat.samples.push([t0, performance.now() - t0]);
        channel.port2.postMessage(0);
      } else if (performance.now() - t0 < 5000) {
        requestAnimationFrame(frame);
      } else {
        lat.lost += 1;
      }
    };
    requestAnimationFrame(frame);
  }, true);
}"""

# A block's key samples ([keydown time, ms to painted]) and its snapshot requests' [start, end]
# (resource timing; the page's clock).
BLOCK_JS = """() => {
  const lat = window.__lat;
  const puts = performance.getEntriesByType('resource')
    .filter(e => e.name.includes('/workspace/api/snapshots') && e.initiatorType === 'fetch')
    .map(e => [e.startTime, e.responseEnd]);
  return { samples: lat.samples.splice(0), lost: lat.lost, long: lat.long.splice(0), puts };
}"""

# Hide (false) or give back (true) the page's CompressionStream: snapshotapi.ts checks for it
# at each PUT and sends the body uncompressed without it.
GZIP_JS = """on => {
  if (!('__cs' in window)) { window.__cs = window.CompressionStream; }
  window.CompressionStream = on ? window.__cs : undefined;
}"""

# The open document's content as the snapshotter sends it (its _content()).
CONTENT_JS = """kind => {
  const model = window.jupyterapp.shell.currentWidget.context.model;
  return kind === 'notebook' ? JSON.stringify(model.toJSON()) : model.toString();
}"""

# The page's own settings registry (so the open snapshotters see a change at once).
SET_DELAY_JS = """async delay => {
  const app = window.jupyterapp;
  const services = app.pluginRegistry ? app.pluginRegistry._services : app._services;
  const token = [...services.keys()].find(
    t => t.name.endsWith(':ISettingRegistry')
  );
  const registry = await app.resolveRequiredService(token);
  await registry.set('PLUGIN', 'delay', delay);
  return (await registry.get('PLUGIN', 'delay')).composite;
}""".replace("PLUGIN", RECOVERY)


def http_json(url: str, token: str, method: str = "GET", body: Any = None) -> tuple[int, Any]:
    import urllib.error
    import urllib.request

    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
            return response.status, json.loads(text) if text else None
    except urllib.error.HTTPError as error:
        return error.code, None
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, None


class Lab:
    """`jupyter lab` with the workspace extension (sidecar and index off) and this checkout's
    built labextension (a copy, so a rebuild meanwhile breaks nothing), in fresh temp dirs."""

    def __init__(self) -> None:
        import secrets
        import tempfile

        from _harness import free_port

        self.base = Path(tempfile.mkdtemp(prefix="jw-bench-snapshots-lab-"))
        self.root = self.base / "root"
        self.root.mkdir()
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://{HOST}:{self.port}"
        self.proc: Any = None

    def start(self) -> None:
        import shutil
        import subprocess

        extensions = self.base / "labextensions"
        shutil.copytree(BUILT, extensions / "jupyter-workspace")
        settings = self.base / "settings"
        apputils = settings / "@jupyterlab" / "apputils-extension"
        apputils.mkdir(parents=True)
        (apputils / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False})
        )
        for name in ("config", "workspaces", "runtime"):
            (self.base / name).mkdir()
        env = {
            **os.environ,
            "JUPYTER_CONFIG_DIR": str(self.base / "config"),
            "JUPYTERLAB_SETTINGS_DIR": str(settings),
            "JUPYTERLAB_WORKSPACES_DIR": str(self.base / "workspaces"),
            "JUPYTER_RUNTIME_DIR": str(self.base / "runtime"),
        }
        env.pop("JUPYTER_TOKEN", None)
        argv = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            f"--ServerApp.ip={HOST}",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            "--ServerApp.jpserver_extensions=jupyter_workspace=True",
            f"--LabApp.extra_labextensions_path={extensions}",
            "--LabApp.expose_app_in_browser=True",
            "--allow-root",
            *API_ARGS,
        ]
        with (self.base / "lab.log").open("wb") as log:
            self.proc = subprocess.Popen(
                argv,
                cwd=self.root,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.perf_counter() + 90
        while http_json(f"{self.url}/workspace/api/status", self.token)[0] != 200:
            if self.proc.poll() is not None or time.perf_counter() > deadline:
                raise RuntimeError(f"jupyter lab not up; log tail:\n{self.log_tail()}")
            time.sleep(0.2)

    def log_tail(self) -> str:
        return (self.base / "lab.log").read_text(errors="replace")[-3000:]

    def snapshots(self, path: str) -> list[dict[str, Any]]:
        from urllib.parse import quote

        status, data = http_json(f"{self.url}{SNAPSHOTS}?path={quote(path)}", self.token)
        return data["snapshots"] if status == 200 else []

    def stop(self) -> None:
        import shutil
        import signal
        import subprocess

        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        shutil.rmtree(self.base, ignore_errors=True)


class PutLog:
    """The page's snapshot PUTs: when each left, its body bytes, its answer."""

    def __init__(self, page: Any) -> None:
        self.requests: list[tuple[float, Any]] = []
        self.others: list[tuple[float, str]] = []
        page.on("request", self._on_request)

    def _on_request(self, request: Any) -> None:
        if SNAPSHOTS in request.url:
            if request.method == "PUT":
                self.requests.append((time.perf_counter(), request))
            else:
                self.others.append((time.perf_counter(), request.method))

    def others_between(self, t0: float, t1: float) -> int:
        """The page's other requests to the snapshots API (GET: the recovery offer, the
        Recover panel) in [t0, t1]."""
        return sum(t0 <= t <= t1 for t, _ in self.others)

    def between(self, t0: float, t1: float) -> list[tuple[float, int, int]]:
        """(time, body bytes, status) of the PUTs sent in [t0, t1]."""
        out = []
        for t, request in self.requests:
            if t0 <= t <= t1:
                body = request.post_data_buffer
                size = len(body) if body is not None else request.sizes()["requestBodySize"]
                response = request.response()
                out.append((t, size, response.status if response else 0))
        return out


def _words(rng: random.Random, n: int) -> list[str]:
    return [
        "".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(4, 7))) for _ in range(n)
    ]


def _open(page: Any, lab: Lab, path: str, kind: str) -> None:
    """Open `path` in a fresh page, the cursor on a new line at the end of its first code
    cell (a notebook) or of the file."""
    page.goto(f"{lab.url}/lab/tree/{path}?reset&token={lab.token}", timeout=120_000)
    page.locator("#jupyterlab-splash").wait_for(state="detached", timeout=120_000)
    if kind == "notebook":
        editor = page.locator(".jp-NotebookPanel .jp-CodeCell .cm-content").first
    else:
        editor = page.locator(".jp-FileEditor .cm-content").first
    editor.wait_for(timeout=120_000)
    page.wait_for_timeout(2000)  # the rest of the page settles (kernel, toolbars)
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.press("Enter")
    page.evaluate(LATENCY_JS)


def _rate(page: Any, puts: PutLog, rng: random.Random, pauses: bool) -> dict[str, float]:
    """Type for TYPE_SECONDS (continuously, or a word then 1.5 s of pause); the PUTs sent."""
    delay_s = 1.0
    t0 = time.perf_counter()
    keys = 0
    while time.perf_counter() - t0 < TYPE_SECONDS:
        word = _words(rng, 1)[0] + " "
        page.keyboard.type(word, delay=KEY_GAP_MS)
        keys += len(word)
        if pauses:
            page.wait_for_timeout(1500)
    t1 = time.perf_counter()
    page.wait_for_timeout((delay_s + 2) * 1000)  # the last quiet-time snapshot
    sent = puts.between(t0, t1)
    after = puts.between(t1, t1 + delay_s + 2)
    page.evaluate("() => window.__lat.samples.splice(0)")
    minutes = (t1 - t0) / 60
    return {
        "seconds": t1 - t0,
        "keys": keys,
        "puts": len(sent),
        "after": len(after),
        "bytes": sum(size for _, size, _ in sent),
        "per_min": len(sent) / minutes,
        "bytes_per_min": sum(size for _, size, _ in sent) / minutes,
        "statuses": ",".join(sorted({str(status) for _, _, status in sent})),
        "sizes": f"{min((z for _, z, _ in sent), default=0) / 1e6:.2f}-"
        f"{max((z for _, z, _ in sent), default=0) / 1e6:.2f} MB",
        "others": puts.others_between(t0, t1 + delay_s + 2),
    }


def _latency(page: Any, puts: PutLog, rng: random.Random) -> dict[str, Any]:
    """Key -> painted, snapshots on (delay 1000) vs off (0) (and, in ARMS, `nogzip`: on, with
    the page's CompressionStream hidden so snapshotapi.ts sends the body as it is),
    interleaved blocks of words, each word followed by ~1 s of quiet so the snapshot timer
    fires about when the next word starts."""
    per_block = 100
    blocks = max(2, -(-LATENCY_KEYS // per_block))
    samples: dict[str, list[float]] = {arm: [] for arm in ARMS}
    # snapshots on: keys pressed while a snapshot was being sent, and the others
    during: dict[str, list[float]] = {arm: [] for arm in ARMS}
    apart: dict[str, list[float]] = {arm: [] for arm in ARMS}
    lost = dict.fromkeys(ARMS, 0)
    long_tasks: dict[str, list[float]] = {arm: [] for arm in ARMS}  # the page's tasks > 50 ms
    long_before: dict[str, list[float]] = {arm: [] for arm in ARMS}
    long_after: dict[str, list[float]] = {arm: [] for arm in ARMS}
    seconds = dict.fromkeys(ARMS, 0.0)
    other_counts = dict.fromkeys(ARMS, 0)
    put_counts = dict.fromkeys(ARMS, 0)
    order: list[str] = []
    for r in range(blocks):
        turn = ARMS[r % len(ARMS) :] + ARMS[: r % len(ARMS)]
        order += turn if r % 2 == 0 else turn[::-1]
    for arm in order:
        delay = 0 if arm == "off" else 1000
        shown = page.evaluate(SET_DELAY_JS, delay)
        if shown != delay:
            raise RuntimeError(f"the recovery setting did not change: delay {shown}")
        page.evaluate(GZIP_JS, arm != "nogzip")
        page.wait_for_timeout(1500)  # a snapshot still scheduled from the block before
        page.evaluate(
            "() => { const l = window.__lat; l.samples.length = 0; l.lost = 0;"
            " l.long.length = 0; performance.clearResourceTimings(); }"
        )
        t0 = time.perf_counter()
        typed = 0
        while typed < per_block:
            word = _words(rng, 1)[0] + " "
            page.keyboard.type(word, delay=KEY_GAP_MS)
            typed += len(word)
            page.wait_for_timeout(rng.uniform(950, 1150))
        t1 = time.perf_counter()
        page.wait_for_timeout(300)
        got = page.evaluate(BLOCK_JS)
        # a key "during a snapshot": pressed from 150 ms before its request left (the page
        # serialises the document first) to 50 ms after (the upload is off the main thread)
        starts = [start for start, _ in got["puts"]]
        for t_key, dur in got["samples"]:
            samples[arm].append(dur)
            near = any(a - 150 <= t_key <= a + 50 for a in starts)
            (during if near else apart)[arm].append(dur)
        lost[arm] += got["lost"]
        for t_task, dur in got["long"]:
            long_tasks[arm].append(dur)
            # the page works on a snapshot before its request leaves (serialise, gzip) and
            # after (its answer, the snapshot.saved event, the Recover list's refresh)
            if any(a - 1000 <= t_task <= a for a in starts):
                long_before[arm].append(dur)
            elif any(a < t_task <= a + 1000 for a in starts):
                long_after[arm].append(dur)
        seconds[arm] += t1 - t0
        put_counts[arm] += len(puts.between(t0, t1))
        other_counts[arm] += puts.others_between(t0, t1)
    page.evaluate(GZIP_JS, True)
    page.evaluate(SET_DELAY_JS, 1000)
    serialise = page.evaluate(
        """() => {
          const model = window.jupyterapp.shell.currentWidget.context.model;
          const times = [];
          for (let i = 0; i < 7; i++) {
            const t = performance.now();
            JSON.stringify(model.toJSON());
            times.push(performance.now() - t);
          }
          return times.sort((a, b) => a - b)[3];
        }"""
    )
    gzip_ms = page.evaluate(
        """async () => {
          const model = window.jupyterapp.shell.currentWidget.context.model;
          const json = JSON.stringify({ content: JSON.stringify(model.toJSON()) });
          const times = [];
          for (let i = 0; i < 5; i++) {
            const t = performance.now();
            const stream = new Blob([json]).stream().pipeThrough(new CompressionStream('gzip'));
            await new Response(stream).arrayBuffer();
            times.push(performance.now() - t);
          }
          return times.sort((a, b) => a - b)[2];
        }"""
    )
    return {
        "serialise_ms": serialise,
        "gzip_ms": gzip_ms,
        "long_before": long_before,
        "long_after": long_after,
        "others": other_counts,
        "long": long_tasks,
        "seconds": seconds,
        "samples": samples,
        "lost": lost,
        "puts": put_counts,
        "during": during,
        "apart": apart,
    }


def _durable(page: Any, lab: Lab, path: str, kind: str, rng: random.Random) -> list[float]:
    """Type a burst, stop; the time until GET snapshots shows the typed content's sha256."""
    times = []
    for _ in range(BURSTS):
        word = _words(rng, 1)[0] + " "
        page.keyboard.type(word[:-1], delay=KEY_GAP_MS)  # (type() waits `delay` after a key)
        page.keyboard.press(word[-1])
        t_last = time.perf_counter()
        expected = None
        while True:
            newest = lab.snapshots(path)
            now = time.perf_counter()
            if newest:
                if expected is None:
                    # read the buffer only once something arrived (reading it sooner would
                    # take the page's main thread while its snapshot timer is due)
                    expected = sha256(page.evaluate(CONTENT_JS, kind))
                if newest[0]["content_hash"] == expected:
                    times.append(now - t_last)
                    break
            if now - t_last > 15:
                raise RuntimeError(f"no snapshot of {path} with the typed content after 15 s")
            time.sleep(0.02)
        page.wait_for_timeout(rng.uniform(100, 300))
    return times


def section_browser() -> None:
    from playwright.sync_api import sync_playwright

    if not (BUILT / "package.json").exists() or not any(
        RECOVERY.encode() in f.read_bytes() for f in (BUILT / "static").glob("*.js")
    ):
        raise RuntimeError(
            f"no labextension build with {RECOVERY} at {BUILT}: build it (jlpm build:prod)"
        )
    rng = random.Random(SEED)
    nb = make_notebook(rng, MB)
    nb_text = dump_notebook(nb)
    small = make_py(rng, 2_000)
    print(
        f"\n== browser: Chromium on `jupyter lab`, notebook {len(nb_text.encode()) / 1e6:.2f} MB "
        f"({len(nb['cells'])} cells), typing {TYPE_SECONDS:g} s, {KEY_GAP_MS} ms between keys; "
        f"latency >= {LATENCY_KEYS} keys per arm; {BURSTS} bursts per document",
        flush=True,
    )
    lab = Lab()
    playwright = sync_playwright().start()
    try:
        (lab.root / "bench.ipynb").write_text(nb_text)
        (lab.root / "small.py").write_text(small)
        lab.start()
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 800})
        context.set_default_timeout(30_000)
        page = context.new_page()
        puts = PutLog(page)
        t = time.perf_counter()
        _open(page, lab, "bench.ipynb", "notebook")
        print(f"  notebook open and focused in {time.perf_counter() - t:.1f} s", flush=True)
        rates = {}
        for pauses in (False, True):
            rates[pauses] = _rate(page, puts, rng, pauses)
            r = rates[pauses]
            print(
                f"  {'word + 1.5 s pause' if pauses else 'continuous'}: {r['keys']} keys in "
                f"{r['seconds']:.0f} s, {r['puts']} PUTs (+{r['after']} after the last key), "
                f"{mib(r['bytes'])} MiB, bodies {r['sizes']} (answers {r['statuses']}; "
                f"{r['others']} other requests to the snapshots API)",
                flush=True,
            )
        latency = _latency(page, puts, rng)
        print(
            f"  latency: PUTs during the blocks {latency['puts']}, other requests to the "
            f"snapshots API {latency['others']}",
            flush=True,
        )
        durable = {"notebook": _durable(page, lab, "bench.ipynb", "notebook", rng)}
        page.close()
        page = context.new_page()
        _open(page, lab, "small.py", "file")
        durable["file"] = _durable(page, lab, "small.py", "file", rng)
        context.close()
        browser.close()
    finally:
        playwright.stop()
        lab.stop()

    rows = []
    for pauses, label in ((False, "continuous typing"), (True, "a word, 1.5 s pause, ...")):
        r = rates[pauses]
        rows.append(
            [
                label,
                f"{r['keys'] / r['seconds']:.1f}",
                f"{r['per_min']:.1f}",
                f"{r['bytes_per_min'] / 1e6:.1f}",
                f"{r['bytes'] / max(1, r['puts']) / 1e6:.2f}",
            ]
        )
    print("\nSnapshot cost while typing into the 1 MB notebook (delay 1000, maxWait 10000)")
    print(table(["pattern", "keys/s", "PUTs/min", "MB sent/min", "MB per PUT"], rows))

    names = {
        "on": "snapshots on (delay 1000)",
        "off": "snapshots off (delay 0)",
        "nogzip": "on, the page's gzip off",
    }

    def stats(label: str, values: list[float], *extra: str) -> list[str]:
        return [
            label,
            str(len(values)),
            f"{percentile(values, 50):.1f}",
            f"{percentile(values, 95):.1f}",
            f"{percentile(values, 99):.1f}",
            f"{max(values, default=float('nan')):.1f}",
            *extra,
        ]

    rows = []
    for arm in ARMS:
        rows.append(
            stats(
                names.get(arm, arm),
                latency["samples"][arm],
                str(latency["lost"][arm]),
                str(latency["puts"][arm]),
            )
        )
    for arm in ARMS:
        if arm != "off":
            rows.append(
                stats(f"  {arm}: keys 150 ms before a PUT to 50 ms after", latency["during"][arm])
                + ["", ""]
            )
            rows.append(stats(f"  {arm}: the other keys", latency["apart"][arm]) + ["", ""])
    print("\nKey press -> character painted in the notebook's editor (ms; interleaved blocks)")
    print(table(["arm", "keys", "p50", "p95", "p99", "max", "lost", "PUTs"], rows))
    off = latency["samples"]["off"]
    for arm in ARMS:
        if arm != "off" and "off" in ARMS:
            values = latency["samples"][arm]
            print(
                f"{arm}/off: p50 {percentile(values, 50) / percentile(off, 50):.2f}x, "
                f"p95 {percentile(values, 95) / percentile(off, 95):.2f}x"
            )
    for arm in ARMS:
        tasks = latency["long"][arm]
        before, after = latency["long_before"][arm], latency["long_after"][arm]
        print(
            f"  {arm}: the page's long tasks (> 50 ms) during the blocks: {len(tasks)}, "
            f"{sum(tasks) / 1e3:.2f} s in {latency['seconds'][arm]:.0f} s, longest "
            f"{max(tasks, default=0):.0f} ms; of those {len(before)} ({sum(before) / 1e3:.2f} s)"
            f" began within 1 s before a snapshot PUT left, {len(after)} "
            f"({sum(after) / 1e3:.2f} s) within 1 s after"
        )
    print(
        f"  in the page, for the notebook: JSON.stringify(model.toJSON()) median of 7 "
        f"{latency['serialise_ms']:.1f} ms; gzip of the PUT body (CompressionStream, as "
        f"snapshotapi.ts) median of 5 {latency['gzip_ms']:.1f} ms wall"
    )

    rows = []
    for kind, label in (("file", f"small .py ({len(small)} B)"), ("notebook", "1 MB notebook")):
        values = durable[kind]
        rows.append(
            [
                label,
                str(len(values)),
                f"{percentile(values, 50):.2f}",
                f"{percentile(values, 95):.2f}",
                f"{max(values, default=float('nan')):.2f}",
                "yes" if percentile(values, 95) <= 2.0 else "NO",
            ]
        )
    print("\nLast keystroke -> snapshot committed (GET snapshots shows its sha256), seconds")
    print(table(["document", "bursts", "p50", "p95", "max", "p95 <= 2 s"], rows))


# -- main --------------------------------------------------------------------------------------
def main() -> None:
    print(
        f"bench_snapshots: sections {','.join(SECTIONS)}; python {sys.version.split()[0]}, "
        f"{os.cpu_count()} cores, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}",
        flush=True,
    )
    runners = {"put": section_put, "store": section_store, "browser": section_browser}
    for name in SECTIONS:
        runner = runners.get(name.strip())
        if runner is None:
            print(f"\n== {name}: unknown section", flush=True)
            continue
        t = time.perf_counter()
        try:
            runner()
        except Exception:
            print(f"\n== {name}: FAILED\n{traceback.format_exc()}", flush=True)
        print(f"({name}: {time.perf_counter() - t:.0f} s)", flush=True)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
