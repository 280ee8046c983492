"""The index: throughput, time to first search, re-scan, save → searchable, search latency, RSS.

1. Cold index throughput on real source files (C headers of this Python's include dir and
   stdlib .py files, copied to a temp folder): `IndexService.index_files` (chunk + LanceDB write;
   a batch with more than `inline_embed` new chunks, or any batch while a backlog exists, is
   written text-first with zero vectors and embedded behind by the service's "index-embedder"
   thread) in batches of 16 files as the indexer sends them, then `wait_vectors`, vs plain
   sentence-transformers fp32 `model.encode(batch_size=32)` of the same chunks'
   `embedding_text()`, and vs the same service with `inline_embed` above any batch (embed,
   then write once: the pipeline before text-first writes), interleaved slice by slice in one
   run. The service's time is to
   `wait_vectors` returning (and, separately, to the last `fill()`); the index_files calls alone
   are the text-first phase (every file full-text searchable). The worker's `optimize()` after
   the backlog empties is waited for outside the timed window. Then the same corpus end to end
   through a real `jupyter server` (`--WorkspaceApp.index_enabled=True`): spawn until
   `GET /workspace/api/index` says "idle" (every file written, every vector computed).
2. Time to first useful search on that fresh folder (same server run): spawn until a
   `mode=text` search returns a hit, until a hybrid one does, until a `mode=vector` search for
   a natural-language description of lib/bisect.py returns anything and until its first hit is
   that file; and when the indexer's state `embedding` is first seen, and `idle`.
3. Re-scan of an unchanged tree of 10k small files: the coordinator's `scan` + `Catalog.reconcile`
   against an up-to-date catalog in a temp Store (what every server start does), vs a plain
   `os.walk` + `os.stat` of the same tree, interleaved; and a real server restarted on that tree
   (its indexer's "scanning" → "idle").
4. Save → searchable (same server as 1/2): append a uniquely named function to a file, time until
   `GET /workspace/api/search?q=<name>&mode=text` returns it; includes the watcher's debounce.
5. Search latency at 100k synthetic chunks (random unit vectors, generated code-like texts):
   `IndexService.search` (query embedding concurrent with the full-text half, then
   `ChunkIndex.search`), hybrid / vector / text / hybrid with a language filter / hybrid with a
   path filter, vs LanceDB brute-force `table.search(vec).limit(10)`; the hybrid time step by
   step (embedding, text_search, vector ranking, fusion + snippets) and a cProfile; the
   full-text half on a table as text-first writes leave it before the first optimize() (FTS
   index built on the first file only, one fragment per file write); and the cost of one file
   write at 100k (with vectors; text-first + fill).
6. Sidecar RSS: `python -m jupyter_workspace.sidecar` with the index on, until `/health` says the
   index is ready; then after indexing the corpus through `POST /index/files` and waiting for
   `GET /index` to report no vectors pending; plus where the memory goes (RSS after each heavy
   import, in a separate process).

Knobs (environment): BENCH_INDEX_FILES (corpus files, default 150), BENCH_INDEX_SLICES (4),
BENCH_INDEX_SCAN_FILES (10000), BENCH_INDEX_SCAN_ROUNDS (5), BENCH_INDEX_SAVES (20),
BENCH_INDEX_CHUNKS (100000), BENCH_INDEX_QUERIES (200), BENCH_INDEX_LANCE_QUERIES (40),
BENCH_INDEX_FILLS (300),
BENCH_INDEX_ARENA_EXPERIMENT (1: also run 6 with onnxruntime's memory arena off; default 0),
BENCH_INDEX_MAX_BYTES (largest corpus file, 4000), BENCH_INDEX_SECTIONS (e.g. "1,3,5"; default
all; 2 and 4 run with 1's server).
Prints figures only; asserts nothing about timings.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import gc
import http.client
import json
import os
import random
import re
import secrets
import selectors
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import traceback
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import HOST, Server, median, percentile, table  # noqa: E402

from jupyter_workspace import protocol  # noqa: E402

N_FILES = int(os.environ.get("BENCH_INDEX_FILES", "150"))
SLICES = int(os.environ.get("BENCH_INDEX_SLICES", "4"))
FILE_BYTES = (500, int(os.environ.get("BENCH_INDEX_MAX_BYTES", "4000")))  # corpus file sizes
SCAN_FILES = int(os.environ.get("BENCH_INDEX_SCAN_FILES", "10000"))
SCAN_ROUNDS = int(os.environ.get("BENCH_INDEX_SCAN_ROUNDS", "5"))
SAVES = int(os.environ.get("BENCH_INDEX_SAVES", "20"))
N_CHUNKS = int(os.environ.get("BENCH_INDEX_CHUNKS", "100000"))
N_QUERIES = int(os.environ.get("BENCH_INDEX_QUERIES", "200"))
N_LANCE = int(os.environ.get("BENCH_INDEX_LANCE_QUERIES", "40"))
FILLS = int(os.environ.get("BENCH_INDEX_FILLS", "300"))  # section 5: files filled between optimizes
ARENA_EXPERIMENT = os.environ.get("BENCH_INDEX_ARENA_EXPERIMENT", "0") == "1"
SECTIONS = {s.strip() for s in os.environ.get("BENCH_INDEX_SECTIONS", "1,2,3,4,5,6").split(",")}
MODEL = "all-MiniLM-L6-v2"
BATCH_FILES = 16  # what server/index_feeder.py sends per POST /index/files
FIRST_QUERY = "reference count"  # for section 2: words common in the corpus
# Section 2's search by meaning (mode=vector): a description of one corpus file in other words;
# its first hit is that file once the file has its vectors (it is about halfway in the
# indexer's path order, so about halfway through the embedding backlog).
MEANING_QUERY = "keep a list in order when inserting new items"
MEANING_TARGET = "lib/bisect.py"
DIM = 384

# -- cleanup: temp dirs and child processes, even on error / Ctrl-C / SIGTERM ------------------
_tmp_dirs: set[Path] = set()
_children: set[subprocess.Popen[bytes]] = set()


def tmpdir(prefix: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix=prefix))
    _tmp_dirs.add(path)
    return path


def rmtree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    _tmp_dirs.discard(path)


def end_child(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()
    _children.discard(proc)


def _cleanup() -> None:
    for proc in list(_children):
        end_child(proc)
    for path in list(_tmp_dirs):
        rmtree(path)


atexit.register(_cleanup)  # _harness turns SIGTERM into SystemExit, so this runs then too


# -- small helpers -------------------------------------------------------------------------------
def now() -> float:
    return time.perf_counter()


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def proc_status(pid: int) -> dict[str, float]:
    """VmRSS / VmHWM in MiB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key = line.split(":", 1)[0]
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(line.split()[1]) / 1024
    return out


class Http:
    """Blocking JSON requests on one keep-alive connection (reconnects on error)."""

    def __init__(self, port: int, auth: str) -> None:
        self.port = port
        self.auth = auth
        self.conn: http.client.HTTPConnection | None = None

    def request(
        self, method: str, path: str, body: Any = None, timeout: float = 60.0
    ) -> tuple[int | None, Any]:
        payload = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": self.auth, "Accept": "application/json"}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=timeout)
            self.conn.timeout = timeout
            try:
                self.conn.request(method, path, body=payload, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
                try:
                    parsed = json.loads(data) if data else None
                except ValueError:
                    parsed = None
                return resp.status, parsed
            except (OSError, http.client.HTTPException):
                self.close()
                if attempt:
                    return None, None
        return None, None

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
        self.conn = None


# -- the corpus ----------------------------------------------------------------------------------
SKIP_DIRS = {
    "test",
    "tests",
    "idlelib",
    "site-packages",
    "lib2to3",
    "ensurepip",
    "turtledemo",
    "tkinter",
    "__pycache__",
    "config-3.11-x86_64-linux-gnu",
}


def corpus_sources(n: int) -> list[tuple[str, Path]]:
    """(relative path in the corpus, source file): about half C headers, half stdlib .py, files
    of 0.5–4 KB (BENCH_INDEX_MAX_BYTES), evenly spread over the sorted candidates
    (deterministic)."""
    paths = sysconfig.get_paths()
    lib, inc = Path(paths["stdlib"]), Path(paths["include"])

    def ok(p: Path, base: Path) -> bool:
        rel = p.relative_to(base)
        size = p.stat().st_size
        return not SKIP_DIRS & set(rel.parts[:-1]) and FILE_BYTES[0] <= size <= FILE_BYTES[1]

    headers = sorted(p for p in inc.rglob("*.h") if ok(p, inc))
    pys = sorted(p for p in lib.rglob("*.py") if ok(p, lib))

    def spread(items: list[Path], k: int) -> list[Path]:
        if k >= len(items):
            return items
        return [items[int(i * len(items) / k)] for i in range(k)]

    n_h = min(len(headers), n // 2)
    chosen = [(f"include/{p.relative_to(inc).as_posix()}", p) for p in spread(headers, n_h)]
    chosen += [(f"lib/{p.relative_to(lib).as_posix()}", p) for p in spread(pys, n - n_h)]
    return sorted(chosen)


def last_py(sources: list[tuple[str, Path]]) -> str:
    """The file sections 1 and 4 edit: the last stdlib .py of the corpus (lib/xml/sax/__init__.py
    with the defaults, 3.6 KB)."""
    return max(rel for rel, _ in sources if rel.endswith(".py"))


def write_corpus(dest: Path, sources: list[tuple[str, Path]]) -> None:
    for rel, src in sources:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, target)


def fts_state(table: Any) -> tuple[int, int, int]:
    """(fragments, rows in the FTS index, rows not in it) of a LanceDB table."""
    frags = table.stats()["fragment_stats"]["num_fragments"]
    for ix in table.list_indices():
        if "text" in (ix.columns or []):
            st = table.index_stats(ix.name)
            return frags, st.num_indexed_rows, st.num_unindexed_rows
    return frags, 0, table.count_rows()


# -- 1. cold index throughput, in process ----------------------------------------------------
class Loaded:
    """Models and the corpus shared by sections 1, 5 and 6 (loaded once)."""

    service: Any = None
    sources: list[tuple[str, Path]] = []
    texts: dict[str, str] = {}


class Instrument:
    """Thread-safe timers for wrapped service methods (called from the caller's thread and from
    the service's "index-embedder" thread), and time marks to wait for."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self.spent: dict[str, float] = {}
        self.calls: dict[str, int] = {}  # texts for embed, calls otherwise
        self.marks: dict[str, list[tuple[float, float]]] = {}  # name -> [(start, end)]

    @contextlib.contextmanager
    def timing(self, name: str, items: int) -> Any:
        t0 = now()
        try:
            yield
        finally:
            with self._cond:
                self.spent[name] = self.spent.get(name, 0.0) + now() - t0
                self.calls[name] = self.calls.get(name, 0) + items

    def mark(self, name: str, started: float | None = None) -> None:
        t = now()
        with self._cond:
            self.marks.setdefault(name, []).append((t if started is None else started, t))
            self._cond.notify_all()

    def last(self, name: str, default: float) -> float:
        with self._cond:
            got = self.marks.get(name)
            return got[-1][1] if got else default

    def wait_after(self, name: str, since: float, timeout: float) -> bool:
        """Wait for a `name` mark that started at or after `since`; False on timeout."""
        deadline = now() + timeout
        with self._cond:
            while not any(start >= since for start, _ in self.marks.get(name, [])):
                left = deadline - now()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True


def load_service(uri: Path) -> tuple[Any, dict[str, Any], float]:
    from jupyter_workspace.sidecar.index_service import IndexService

    t = now()
    service = IndexService(str(uri), MODEL, "auto", None)
    info = service.load()
    return service, info, now() - t


def section_throughput(res: dict[str, Any]) -> None:
    import numpy as np

    from jupyter_workspace.sidecar.chunker import chunk_file
    from jupyter_workspace.sidecar.embedder import resolve_model

    work = tmpdir("jw-bench-index-")
    sources = corpus_sources(N_FILES)
    texts = {rel: src.read_text(encoding="utf-8", errors="replace") for rel, src in sources}
    Loaded.sources, Loaded.texts = sources, texts
    print(f"[1] corpus: {len(sources)} files, {sum(len(t) for t in texts.values()) / 1024:.0f} KiB")

    service, info, load_s = load_service(work / "index")
    Loaded.service = service
    emb = service.embedder
    res["backend"] = (
        f"{emb.info.get('backend')} ({emb.model_id}, {emb.info.get('threads')} "
        f"worker threads, exported now: {emb.info.get('exported')})"
    )
    res["service_load_s"] = load_s
    print(f"[1] IndexService.load: {load_s:.2f} s, backend {res['backend']}")

    t = now()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(
        str(resolve_model(MODEL).path), device="cpu", local_files_only=True
    )
    res["torch_load_s"] = now() - t
    print(f"[1] sentence-transformers fp32 load (incl. import torch): {res['torch_load_s']:.2f} s")

    # Chunks of every file (chunking timed alone, for the breakdown), and their token lengths.
    t = now()
    chunks_of = {rel: chunk_file(rel, texts[rel]) for rel, _ in sources}
    res["chunk_only_s"] = now() - t
    all_texts = [c.embedding_text() for rel, _ in sources for c in chunks_of[rel]]
    tokens = (
        [len(e.ids) for e in emb.tokenizer.encode_batch(all_texts)]
        if hasattr(emb, "tokenizer")
        else []
    )
    res["chunks"] = len(all_texts)
    res["files"] = len(sources)
    if tokens:
        res["tokens"] = (median(tokens), sum(t >= 256 for t in tokens) / len(tokens))

    # Warm both models up on the same texts (not counted).
    warm = all_texts[:48]
    emb.embed(warm)
    reference.encode(
        warm,
        batch_size=32,
        convert_to_numpy=True,
        normalize_embeddings=True,
        show_progress_bar=False,
    )

    # Instrument the service (instance attributes shadowing its methods; removed afterwards).
    # index_files chunks, embeds inline only small batches without a backlog, and writes with
    # ChunkIndex.replace_many; the "index-embedder" thread embeds behind (service._embed),
    # rewrites rows with ChunkIndex.fill_many and compacts with ChunkIndex.optimize once the
    # backlog is empty.
    index = service.index
    inst = Instrument()
    real_embed, real_replace = service._embed, index.replace_many
    real_fill, real_optimize = index.fill_many, index.optimize

    def timed_embed(batch: list[str]) -> Any:
        where = (
            "embed_behind"
            if threading.current_thread().name == "index-embedder"
            else "embed_inline"
        )
        with inst.timing(where, len(batch)):
            return real_embed(batch)

    def timed_replace(*args: Any, **kw: Any) -> Any:
        with inst.timing("replace", 1):
            return real_replace(*args, **kw)

    def timed_fill(*args: Any, **kw: Any) -> Any:
        with inst.timing("fill", 1):
            done = real_fill(*args, **kw)
        if not index.pending_count:
            inst.mark("vectors_done")
        return done

    def timed_optimize() -> None:
        t0 = now()
        with inst.timing("optimize", 1):
            real_optimize()
        inst.mark("optimize_done", started=t0)

    service._embed = timed_embed
    index.replace_many, index.fill_many, index.optimize = timed_replace, timed_fill, timed_optimize

    def run_service(part: list[tuple[str, Path]]) -> dict[str, float]:
        """index_files of the slice's files 16 at a time (text-first for big batches), then
        wait_vectors; then, outside the timed window, wait for the worker's optimize() so it
        does not run into the next torch slice."""
        t0 = now()
        calls = []
        done = 0
        for i in range(0, len(part), BATCH_FILES):
            t1 = now()
            answer = service.index_files(
                [{"path": rel, "text": texts[rel]} for rel, _ in part[i : i + BATCH_FILES]]
            )
            calls.append(now() - t1)
            done += answer["chunks"]
        t_text = now() - t0
        if not service.wait_vectors(600):
            raise TimeoutError(f"vectors still pending after 600 s: {index.pending_count}")
        t_wait = now() - t0
        # when the last fill() left no row without a vector (wait_vectors polls every 0.2 s)
        t_vec = max(inst.last("vectors_done", t0 + t_wait), t0 + t_text) - t0
        if not inst.wait_after("optimize_done", t0 + t_vec, 60):
            print("[1] (no optimize() after the backlog emptied within 60 s)", flush=True)
        return {
            "text": t_text,
            "wait": t_wait,
            "vectors": min(t_vec, t_wait),
            "first_call": calls[0] if calls else 0.0,
            "chunks": done,
            "quiet": now() - t0,
        }

    # The previous pipeline, for comparison: the same code with inline_embed above any batch
    # (embed, then write each file once), on its own index, sharing the embedder.
    from jupyter_workspace.sidecar.chunk_store import ChunkIndex
    from jupyter_workspace.sidecar.index_service import IndexService

    inline = IndexService(str(work / "inline"), MODEL, "auto", None)
    inline.embedder = emb
    inline.index = ChunkIndex(str(work / "inline"), emb.model_id, emb.dim)
    inline.index.open()
    inline.inline_embed = 10**9

    def run_inline(part: list[tuple[str, Path]]) -> float:
        t0 = now()
        for i in range(0, len(part), BATCH_FILES):
            answer = inline.index_files(
                [{"path": rel, "text": texts[rel]} for rel, _ in part[i : i + BATCH_FILES]]
            )
            assert not answer["vectors_pending"]
        return now() - t0

    def run_reference(part_texts: list[str]) -> float:
        t0 = now()
        reference.encode(
            part_texts,
            batch_size=32,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=False,
        )
        return now() - t0

    n = len(sources)
    bounds = [round(i * n / SLICES) for i in range(SLICES + 1)]
    rows = []
    svc: dict[str, float] = {"text": 0.0, "wait": 0.0, "vectors": 0.0}
    ref_total = inline_total = 0.0
    svc_chunks = 0
    first_call = None
    for s in range(SLICES):
        part = sources[bounds[s] : bounds[s + 1]]
        part_texts = [c.embedding_text() for rel, _ in part for c in chunks_of[rel]]
        if s % 2 == 0:
            out = run_service(part)
            t_inl = run_inline(part)
            t_ref = run_reference(part_texts)
        else:
            t_ref = run_reference(part_texts)
            t_inl = run_inline(part)
            out = run_service(part)
        inline_total += t_inl
        if first_call is None:
            first_call = out["first_call"]
        svc_chunks += int(out["chunks"])
        for key in svc:
            svc[key] += out[key]
        ref_total += t_ref
        rows.append(
            (
                s + 1,
                len(part),
                len(part_texts),
                out["text"],
                out["vectors"],
                out["wait"],
                t_inl,
                t_ref,
            )
        )
        print(
            f"[1] slice {s + 1}: {len(part)} files, {len(part_texts)} chunks: index_files "
            f"{out['text']:.2f} s, vectors done {out['vectors']:.2f} s, wait_vectors returned "
            f"{out['wait']:.2f} s ({len(part_texts) / out['wait']:.1f}/s), worker quiet "
            f"{out['quiet']:.2f} s; inline pipeline {t_inl:.2f} s; torch fp32 encode "
            f"{t_ref:.2f} s "
            f"({len(part_texts) / t_ref:.1f}/s)",
            flush=True,
        )
    del service.__dict__["_embed"]
    for name in ("replace_many", "fill_many", "optimize"):
        del index.__dict__[name]
    res["slices"] = rows
    res["svc"], res["ref_s"], res["svc_chunks"] = svc, ref_total, svc_chunks
    res["svc_s"] = svc["wait"]
    res["inline_s"] = inline_total
    res["first_call_s"] = first_call
    res["spent"], res["calls"] = dict(inst.spent), dict(inst.calls)
    res["index_chunks"] = index.chunk_count

    # The full-text half on this index as the service left it (its worker ran optimize() when
    # the backlog emptied), then after one more ChunkIndex.optimize(): the same queries.
    from jupyter_workspace.sidecar.chunk_store import Filters

    words = [
        "reference count",
        "parse header",
        "socket timeout",
        "lock acquire",
        "buffer size",
        "unicode string",
        "error message",
        "thread state",
        "file path",
        "iterator",
    ]
    res["corpus_fts_state"] = fts_state(index._table)
    before, after = [], []
    for q in words:
        t0 = now()
        index.text_search(q, 50, Filters())
        before.append(now() - t0)
    t0 = now()
    index.optimize()
    res["corpus_optimize_s"] = now() - t0
    for q in words:
        t0 = now()
        index.text_search(q, 50, Filters())
        after.append(now() - t0)
    res["corpus_fts"] = (before, after)
    print(
        f"[1] text half on the corpus index: p50 {ms(median(before))} ms as the service left "
        f"it ({res['corpus_fts_state']}), {ms(median(after))} ms after another optimize() "
        f"({res['corpus_optimize_s']:.2f} s)",
        flush=True,
    )

    # One edited file re-indexed in process (what a save costs in the sidecar), 5 times: one
    # new chunk, no backlog, so it is embedded inline.
    target = last_py(sources)
    text = texts[target]
    one = []
    for i in range(5):
        text += f"\n\ndef bench_inproc_{i}(value):\n    return value * {i}\n"
        t0 = now()
        answer = service.index_files([{"path": target, "text": text}])
        one.append((now() - t0, answer["embedded"], answer["chunks"], answer["vectors_pending"]))
    res["one_file"] = (target, one)
    service.close()  # stops the worker; the embedder stays usable for sections 5 and 6
    inline.close()
    reference = None
    gc.collect()
    _ = np  # numpy is imported for the embedder anyway


# -- 1 (end to end), 2 and 4: one real server on a fresh copy of the corpus ---------------------
def section_server(res: dict[str, Any]) -> None:
    """Poll /workspace/api/index every 50 ms and, every 100 ms until each has its hit, a text,
    a hybrid and a vector search: the marks are seconds from spawn."""
    sources = Loaded.sources or corpus_sources(N_FILES)
    srv = Server(extra_args=["--WorkspaceApp.index_enabled=True"])
    try:
        write_corpus(srv.root, sources)
        expected = len(sources)
        srv.start()
        api = Http(srv.port, f"token {srv.token}")
        marks: dict[str, float] = {}
        states: list[tuple[float, str]] = []
        pending_seen: list[tuple[float, int]] = []  # (s, vectors_pending) when it changes
        deadline = srv.t_spawn + 300
        last_search = 0.0
        status: dict[str, Any] = {}
        queries = {
            "text": (FIRST_QUERY, "text"),
            "hybrid": (FIRST_QUERY, "hybrid"),
            "vector": (MEANING_QUERY, "vector"),
        }
        while True:
            tick = now()
            if tick > deadline:
                raise TimeoutError(f"index not idle after 300 s: {status}\n{srv.log_tail()}")
            assert srv.proc is not None
            if srv.proc.poll() is not None:
                raise RuntimeError(f"server exited; log:\n{srv.log_tail()}")
            if "api" not in marks:
                code, _ = api.request("GET", "/api/status", timeout=2)
                if code == 200:
                    marks["api"] = now() - srv.t_spawn
                else:
                    time.sleep(0.02)
                    continue
            code, st = api.request("GET", "/workspace/api/status")
            at = now() - srv.t_spawn
            if code == 404 and at - marks["api"] > 20:
                raise RuntimeError(
                    "the workspace extension did not load (404 on "
                    f"/workspace/api/status); log:\n{srv.log_tail()}"
                )
            if code == 200 and st["sidecar"]["state"] == "ready" and "sidecar" not in marks:
                marks["sidecar"] = at
            status = (st or {}).get("index") or {}
            state = status.get("state", "?")
            if not states or states[-1][1] != state:
                states.append((at, state))
            if state not in marks:
                marks[state] = at  # first time seen: waiting, scanning, indexing, embedding, idle
            pending = status.get("vectors_pending")
            if pending is not None and (not pending_seen or pending_seen[-1][1] != pending):
                pending_seen.append((at, pending))
            if status.get("files_indexed", 0) > 0 and "first_file" not in marks:
                marks["first_file"] = at
            done = (
                status.get("files_indexed", 0)
                + status.get("files_skipped", 0)
                + status.get("files_error", 0)
                >= expected
                and status.get("files_pending") == 0
            )
            if done and "written" not in marks:
                marks["written"] = at  # every file chunked and written (text-searchable)
            if state == "idle" and done and "all_idle" not in marks:
                marks["all_idle"] = at
                res["e2e_status"] = dict(status)
            if tick - last_search >= 0.1:
                last_search = tick
                for key, (query, mode) in queries.items():
                    if key in marks:
                        continue
                    code, body = api.request(
                        "GET", f"/workspace/api/search?q={quote(query)}&mode={mode}&k=5"
                    )
                    at = now() - srv.t_spawn
                    if code == 200 and f"{key}_200" not in marks:
                        marks[f"{key}_200"] = at
                    if code != 200 or not body["results"]:
                        continue
                    top = body["results"][0]["path"]
                    if f"{key}_any" not in marks:
                        marks[f"{key}_any"] = at
                        res[f"first_{key}_hit"] = top
                    if key != "vector" or top == MEANING_TARGET:
                        marks[key] = at
                        res[f"{key}_hit"] = top
            if (
                "all_idle" in marks
                and all(k in marks for k in ("text", "hybrid"))
                and ("vector" in marks or now() - srv.t_spawn > marks["all_idle"] + 1.0)
            ):
                break
            time.sleep(max(0.0, 0.05 - (now() - tick)))
        if "vector" not in marks:  # every vector is there and the top hit is still another file
            code, body = api.request(
                "GET", f"/workspace/api/search?q={quote(MEANING_QUERY)}&mode=vector&k=5"
            )
            res["vector_top_at_idle"] = [h["path"] for h in (body or {}).get("results", [])]
        res["marks"], res["states"], res["pending_seen"] = marks, states, pending_seen
        print("[1/2] server: " + ", ".join(f"{k} {v:.2f}s" for k, v in marks.items()))
        print("[1/2] index states: " + " → ".join(f"{s}@{t:.2f}s" for t, s in states))
        print("[1/2] vectors_pending: " + ", ".join(f"{p}@{t:.2f}s" for t, p in pending_seen))
        if "4" in SECTIONS:
            save_to_search(srv, api, sources, res)
        api.close()
    finally:
        srv.stop()


def wait_idle(api: Http, timeout: float = 30.0) -> None:
    deadline = now() + timeout
    while now() < deadline:
        code, body = api.request("GET", "/workspace/api/index")
        if code == 200 and body["state"] == "idle" and body["files_pending"] == 0:
            return
        time.sleep(0.02)
    raise TimeoutError("index not idle")


def save_to_search(
    srv: Server, api: Http, sources: list[tuple[str, Path]], res: dict[str, Any]
) -> None:
    target = last_py(sources)
    path = srv.root / target
    latencies, baseline, misses = [], [], 0
    previous = None
    rng = random.Random(7)
    for i in range(SAVES):
        wait_idle(api)
        time.sleep(rng.uniform(0.05, 0.2))
        if previous is not None:  # baseline: a text search round trip for an indexed name
            t0 = now()
            api.request("GET", f"/workspace/api/search?q={previous}&mode=text&k=10")
            baseline.append(now() - t0)
        name = f"bench_saved_{i}_{secrets.token_hex(4)}"
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"\n\ndef {name}(value):\n    return value * {i}\n")
        t0 = now()
        while True:
            code, body = api.request("GET", f"/workspace/api/search?q={name}&mode=text&k=10")
            if code == 200 and any(
                name in (h.get("symbol") or "") or name in h["snippet"] for h in body["results"]
            ):
                latencies.append(now() - t0)
                break
            if now() - t0 > 20:
                misses += 1
                break
            time.sleep(0.01)
        previous = name
    res["save"] = {"target": target, "lat": latencies, "base": baseline, "misses": misses}
    print(
        f"[4] save → searchable ({target}): p50 {ms(median(latencies))} ms, "
        f"p95 {ms(percentile(latencies, 95))} ms, misses {misses}"
    )


# -- 3. re-scan of an unchanged tree -----------------------------------------------------------
def make_tree(root: Path, n: int) -> None:
    """n small .py files in 10 × 10 folders (plus a few at the top), each one line long."""
    per = max(1, n // 100)
    made = 0
    for a in range(10):
        for b in range(10):
            folder = root / f"pkg{a}" / f"mod{b}"
            folder.mkdir(parents=True, exist_ok=True)
            for c in range(per):
                if made >= n:
                    return
                (folder / f"m{c:03d}.py").write_text(f"VALUE_{made} = {made}\n")
                made += 1
    for c in range(n - made):
        (root / f"top{c}.py").write_text(f"TOP_{c} = {c}\n")


def walk_stat(root: Path) -> int:
    count = 0
    for directory, _dirs, files in os.walk(root):
        for name in files:
            os.stat(os.path.join(directory, name))
            count += 1
    return count


def section_rescan(res: dict[str, Any]) -> None:
    from jupyter_workspace.server.catalog import Catalog, read_text, scan
    from jupyter_workspace.server.ignore import IgnoreRules
    from jupyter_workspace.server.store import Store

    srv = Server(extra_args=["--WorkspaceApp.index_enabled=True"])
    root = srv.root
    state_dir = root / ".jupyter-workspace"
    max_bytes = 2 * 1024 * 1024
    try:
        t = now()
        make_tree(root, SCAN_FILES)
        res["tree_s"] = now() - t
        store = Store(state_dir / "workspace.sqlite")  # the server's own database file
        store.open()
        catalog = Catalog(store)
        # Index once, as far as the catalog is concerned: reconcile (all new → pending), then
        # record every file as the indexer does after the sidecar answered (hash, chunks = 1).
        t = now()
        observed = scan(root, IgnoreRules(root, state_dir), max_bytes)
        first = asyncio.run(catalog.reconcile(observed))
        contents = {rel: read_text(root, rel, max_bytes) for rel in observed}
        asyncio.run(
            catalog.record(
                [
                    {"path": rel, "language": "python", "chunks": 1, "error": None}
                    for rel in observed
                ],
                contents,
            )
        )
        res["catalog_fill_s"] = now() - t
        res["scan_first"] = first
        print(
            f"[3] tree of {len(observed)} files in {res['tree_s']:.1f} s; catalog filled "
            f"in {res['catalog_fill_s']:.1f} s ({first})"
        )
        walks, scans, recs, totals = [], [], [], []
        counts: dict[str, int] = {}
        for r in range(SCAN_ROUNDS):

            def base() -> None:
                t0 = now()
                assert walk_stat(root) >= SCAN_FILES
                walks.append(now() - t0)

            def coordinator() -> None:
                nonlocal counts
                t0 = now()
                seen = scan(root, IgnoreRules(root, state_dir), max_bytes)  # fresh, as a start
                t1 = now()
                counts = asyncio.run(catalog.reconcile(seen))
                t2 = now()
                scans.append(t1 - t0)
                recs.append(t2 - t1)
                totals.append(t2 - t0)

            for fn in (base, coordinator) if r % 2 == 0 else (coordinator, base):
                fn()
            print(
                f"[3] round {r + 1}: os.walk+stat {walks[-1]:.3f} s, scan {scans[-1]:.3f} s, "
                f"reconcile {recs[-1]:.3f} s"
            )
        res["rescan"] = {
            "walk": walks,
            "scan": scans,
            "reconcile": recs,
            "total": totals,
            "counts": counts,
        }
        # Where scan's time goes: cProfile of one scan.
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        scan(root, IgnoreRules(root, state_dir), max_bytes)
        prof.disable()
        stats = pstats.Stats(prof)
        top = []
        for (file, _line, fn), (_cc, nc, tt, ct, _callers) in stats.stats.items():
            top.append((tt, ct, nc, f"{Path(file).name}:{fn}"))
        top.sort(reverse=True)
        res["scan_profile"] = top[:8]
        store.close()

        # A real server restarted on the tree with that catalog: "scanning" → "idle".
        srv.start()
        api = Http(srv.port, f"token {srv.token}")
        states: list[tuple[float, str]] = []
        deadline = now() + 180
        body: dict[str, Any] = {}
        while now() < deadline:
            code, body = api.request("GET", "/workspace/api/index", timeout=2)
            if code == 404 and now() - srv.t_spawn > 30:
                raise RuntimeError(
                    "the workspace extension did not load (404 on "
                    f"/workspace/api/index); log:\n{srv.log_tail()}"
                )
            if code == 200:
                if not states or states[-1][1] != body["state"]:
                    states.append((now() - srv.t_spawn, body["state"]))
                if body["state"] == "idle":
                    break
            time.sleep(0.01)
        api.close()
        res["restart"] = {"states": states, "status": body}
        print("[3] restart on the tree: " + " → ".join(f"{s}@{t:.2f}s" for t, s in states))
    finally:
        srv.stop()


# -- 5. search latency at 100k chunks ---------------------------------------------------------
LANGS = [("python", 0.45), ("c", 0.25), ("cpp", 0.1), ("markdown", 0.1), ("fortran", 0.1)]
KINDS = ["function", "method", "class", "module", "struct", "section"]


def vocabulary() -> list[str]:
    """Identifiers and words from stdlib sources, most frequent first (a Zipf-like source)."""
    lib = Path(sysconfig.get_paths()["stdlib"])
    counts: dict[str, int] = {}
    for name in (
        "json/decoder.py",
        "http/client.py",
        "asyncio/tasks.py",
        "email/message.py",
        "logging/__init__.py",
        "argparse.py",
        "subprocess.py",
        "pathlib.py",
        "shutil.py",
        "tarfile.py",
        "typing.py",
        "inspect.py",
    ):
        with contextlib.suppress(OSError):
            for word in re.findall(r"[A-Za-z_][A-Za-z0-9_]{2,}", (lib / name).read_text()):
                counts[word] = counts.get(word, 0) + 1
    return sorted(counts, key=lambda w: -counts[w])


def synthetic_rows(n: int, rng: random.Random, words: list[str]) -> dict[str, list[Any]]:
    import numpy as np

    weights = 1.0 / np.arange(1, len(words) + 1) ** 1.05
    cum = np.cumsum(weights / weights.sum())
    nprng = np.random.default_rng(11)
    picks = np.searchsorted(cum, nprng.random(n * 40))
    cols: dict[str, list[Any]] = {
        k: [] for k in ("path", "language", "kind", "symbol", "start_line", "end_line", "text")
    }
    langs = [name for name, w in LANGS for _ in range(int(w * 20))]
    at = 0
    for i in range(n):
        file_no = i // 10
        lang = langs[file_no % len(langs)]
        lines = []
        for _ in range(rng.randint(3, 8)):
            k = rng.randint(3, 7)
            ws = [words[j] for j in picks[at : at + k]]
            at = (at + k) % (len(picks) - 8)
            lines.append(f"    {ws[0]} = {ws[1]}({', '.join(ws[2:])})")
        symbol = f"{words[picks[at]]}_{i}"
        text = f"def {symbol}():\n" + "\n".join(lines)
        start = (i % 10) * 12 + 1
        cols["path"].append(f"src/d{file_no % 97}/f{file_no}.{lang[:2]}")
        cols["language"].append(lang)
        cols["kind"].append(KINDS[i % len(KINDS)])
        cols["symbol"].append(symbol)
        cols["start_line"].append(start)
        cols["end_line"].append(start + len(lines))
        cols["text"].append(text)
    return cols


def arrow_table(cols: dict[str, list[Any]], vectors: Any, lo: int, hi: int) -> Any:
    """Rows as the index writes them (`ChunkIndex._records`), in one Arrow table."""
    import pyarrow as pa

    from jupyter_workspace.sidecar.chunker import Chunk

    flat = pa.array(vectors[lo:hi].reshape(-1), type=pa.float32())
    terms = [
        Chunk(
            *(
                cols[k][i]
                for k in ("path", "language", "kind", "symbol", "start_line", "end_line", "text")
            )
        ).terms()
        for i in range(lo, hi)
    ]
    return pa.table(
        {
            "path": pa.array(cols["path"][lo:hi], pa.string()),
            "language": pa.array(cols["language"][lo:hi], pa.string()),
            "kind": pa.array(cols["kind"][lo:hi], pa.string()),
            "symbol": pa.array(cols["symbol"][lo:hi], pa.string()),
            "start_line": pa.array(cols["start_line"][lo:hi], pa.int32()),
            "end_line": pa.array(cols["end_line"][lo:hi], pa.int32()),
            "text": pa.array(cols["text"][lo:hi], pa.string()),
            "names": pa.array([""] * (hi - lo), pa.string()),
            "cell": pa.array([-1] * (hi - lo), pa.int32()),
            "terms": pa.array(terms, pa.string()),
            "vector": pa.FixedSizeListArray.from_arrays(flat, DIM),
        }
    )


def section_search(res: dict[str, Any]) -> None:
    import numpy as np

    from jupyter_workspace.sidecar.chunk_store import ChunkIndex
    from jupyter_workspace.sidecar.chunker import Chunk
    from jupyter_workspace.sidecar.index_service import IndexService

    work = tmpdir("jw-bench-index100k-")
    if Loaded.service is None:
        Loaded.service, _, _ = load_service(work / "small")
    emb = Loaded.service.embedder
    rng = random.Random(5)
    words = vocabulary()
    t = now()
    cols = synthetic_rows(N_CHUNKS, rng, words)
    vectors = np.random.default_rng(3).standard_normal((N_CHUNKS, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    res["gen_s"] = now() - t

    # (a) the best case: one bulk insert, FTS index over every row.
    uri = work / "bulk"
    index = ChunkIndex(str(uri), emb.model_id, DIM)
    index.open()
    t = now()
    index._table.add(arrow_table(cols, vectors, 0, N_CHUNKS))
    res["insert_s"] = now() - t
    t = now()
    index._build_fts()
    res["fts_s"] = now() - t
    t = now()
    index = ChunkIndex(str(uri), emb.model_id, DIM)
    index.open()  # what a sidecar start does: loads the in-memory mirror
    res["open_s"] = now() - t
    assert index.chunk_count == N_CHUNKS and index._fts_ready
    print(
        f"[5] {N_CHUNKS} chunks: generated {res['gen_s']:.1f} s, LanceDB insert "
        f"{res['insert_s']:.1f} s, FTS index {res['fts_s']:.1f} s, ChunkIndex.open "
        f"{res['open_s']:.1f} s"
    )
    service = IndexService(str(uri), MODEL, "auto", None)
    service.embedder, service.index = emb, index
    table = index._table

    queries = []
    for _ in range(N_QUERIES):
        k = rng.randint(2, 4)
        queries.append(" ".join(rng.choice(words[20:3000]) for _ in range(k)))
    # warm-up
    for q in queries[:5]:
        for mode in ("hybrid", "text"):
            service.search({"q": q, "mode": mode, "k": 10})
        service.search({"q": q, "mode": "hybrid", "k": 10, "language": "c"})
    table.search(emb.embed([queries[0]])[0]).limit(10).to_list()

    path_glob = "src/d7/*"  # one folder of 97: ~1% of the rows
    lat: dict[str, list[float]] = {
        k: [] for k in ("embed", "hybrid", "vector", "text", "hybrid_lang", "hybrid_path", "lance")
    }
    hits_ok = 0
    path_hits: list[int] = []
    lance_every = max(1, N_QUERIES // max(1, N_LANCE))
    for i, q in enumerate(queries):
        steps: list[tuple[str, dict[str, Any]]] = [
            ("hybrid", {"q": q, "mode": "hybrid", "k": 10}),
            ("vector", {"q": q, "mode": "vector", "k": 10}),
            ("text", {"q": q, "mode": "text", "k": 10}),
            ("hybrid_lang", {"q": q, "mode": "hybrid", "k": 10, "language": "c"}),
            ("hybrid_path", {"q": q, "mode": "hybrid", "k": 10, "path": path_glob}),
        ]
        rng.shuffle(steps)
        for key, request in steps:
            t0 = now()
            out = service.search(request)
            lat[key].append(now() - t0)
            if key == "hybrid_lang":
                assert all(h["language"] == "c" for h in out["results"])
            if key == "hybrid_path":
                assert all(h["path"].startswith("src/d7/") for h in out["results"])
            if key == "text" and out["results"]:
                hits_ok += 1
        t0 = now()
        vec = emb.embed([q])[0]
        lat["embed"].append(now() - t0)
        if i % lance_every == 0 and len(lat["lance"]) < N_LANCE:
            t0 = now()
            emb.embed([q])
            table.search(vec).limit(10).to_list()
            lat["lance"].append(now() - t0)
    res["lat"] = lat
    res["text_hits"] = hits_ok
    print("[5] p50 ms: " + ", ".join(f"{k} {ms(median(v))}" for k, v in lat.items()))
    print(
        "[5] p95 ms: " + ", ".join(f"{k} {ms(percentile(v, 95))}" for k, v in lat.items()),
        flush=True,
    )

    # Where the hybrid time goes, step by step on one thread (50 queries): the query embedding,
    # the full-text half (ChunkIndex.text_search), the vector half (_vector_ranking; the bare
    # matvec inside it), and ChunkIndex.search given the text hits (vector half + RRF fusion +
    # snippets); fusion + snippets alone as search(mode=text) given the hits. The service runs
    # the text half on its thread while it embeds the query.
    from jupyter_workspace.sidecar.chunk_store import Filters

    m = index._m
    qv = emb.embed([queries[0]])[0]
    parts: dict[str, list[float]] = {
        k: []
        for k in (
            "embed",
            "text_half",
            "vector_half",
            "matvec",
            "search_given_text",
            "fuse_snippets",
            "sequential",
            "service_hybrid",
            "overlap_all",
            "vector_half_lang",
            "vector_half_path",
            "mask_path",
            "text_half_path",
        )
    }
    from concurrent.futures import ThreadPoolExecutor

    side = ThreadPoolExecutor(1)

    def overlap_all(ix: Any, q: str) -> None:
        """Bench-only reordering: the text half on a thread while this one embeds the query
        AND ranks the vectors; then the fusion and snippets (search(mode=text) given the
        hits stands in for them: 0.1 ms)."""
        text = side.submit(ix.text_search, q, ix.pool(10), Filters())
        vector = emb.embed([q])[0]
        with ix._lock:
            ix._vector_ranking(vector, ix.pool(10), Filters())
        ix.search(q, None, 10, "text", Filters(), text_hits=text.result())

    for q in queries[:50]:
        t0 = now()
        qv = emb.embed([q])[0]
        t1 = now()
        hits = index.text_search(q, index.pool(10), Filters())
        t2 = now()
        index.search(q, qv, 10, "hybrid", Filters(), text_hits=hits)
        t3 = now()
        parts["embed"].append(t1 - t0)
        parts["text_half"].append(t2 - t1)
        parts["search_given_text"].append(t3 - t2)
        parts["sequential"].append(t3 - t0)
        t0 = now()
        index.search(q, None, 10, "text", Filters(), text_hits=hits)
        parts["fuse_snippets"].append(now() - t0)
        t0 = now()
        index._vector_ranking(qv, 50, Filters())
        parts["vector_half"].append(now() - t0)
        t0 = now()
        _ = m.vectors[: m.size] @ qv
        parts["matvec"].append(now() - t0)
        t0 = now()
        service.search({"q": q, "mode": "hybrid", "k": 10})
        parts["service_hybrid"].append(now() - t0)
        t0 = now()
        overlap_all(index, q)
        parts["overlap_all"].append(now() - t0)
        t0 = now()
        index._vector_ranking(qv, 50, Filters(language="c"))
        parts["vector_half_lang"].append(now() - t0)
        t0 = now()
        index._vector_ranking(qv, 50, Filters(path=path_glob))
        parts["vector_half_path"].append(now() - t0)
        t0 = now()
        m.mask(Filters(path=path_glob))
        parts["mask_path"].append(now() - t0)
        t0 = now()
        path_hits.append(len(index.text_search(q, index.pool(10), Filters(path=path_glob))))
        parts["text_half_path"].append(now() - t0)
    side.shutdown()
    res["parts"] = parts
    res["path_text_hits"] = path_hits
    print(
        "[5] parts p50 ms: " + ", ".join(f"{k} {ms(median(v))}" for k, v in parts.items()),
        flush=True,
    )

    # cProfile of 30 hybrid IndexService.search calls (the calling thread only: the text half
    # runs on the service's index-text thread and shows here as the wait for its result).
    import cProfile
    import pstats

    prof = cProfile.Profile()
    prof.enable()
    for q in queries[50:80]:
        service.search({"q": q, "mode": "hybrid", "k": 10})
    prof.disable()
    top = [
        (tt, ct, nc, f"{Path(file).name}:{fn}")
        for (file, _l, fn), (_cc, nc, tt, ct, _c) in pstats.Stats(prof).stats.items()
    ]
    res["hybrid_profile"] = sorted(top, reverse=True)[:10]

    # One file written at 100k (a save): ChunkIndex.replace of 10 chunks with their vectors
    # (a small batch is embedded inline); then the first filtered search after it. Then the
    # text-first pair the embedding worker sees: replace() with zero vectors + fill().
    writes, first_filtered, text_first, fills = [], [], [], []
    for r in range(5):
        path = cols["path"][r * 10 * 37]
        chunks = [
            Chunk(
                path,
                "python",
                "function",
                f"saved_{r}_{j}",
                j * 5 + 1,
                j * 5 + 4,
                f"def saved_{r}_{j}():\n    return {j}\n",
            )
            for j in range(10)
        ]
        new = vectors[:10].copy()
        t0 = now()
        index.replace(path, chunks, new)
        writes.append(now() - t0)
        t0 = now()
        service.search({"q": queries[r], "mode": "hybrid", "k": 10, "language": "c"})
        first_filtered.append(now() - t0)
        path = cols["path"][r * 10 * 37 + 5 * 10]
        chunks = [
            Chunk(
                path,
                "python",
                "function",
                f"later_{r}_{j}",
                j * 5 + 1,
                j * 5 + 4,
                f"def later_{r}_{j}():\n    return {j}\n",
            )
            for j in range(10)
        ]
        t0 = now()
        index.replace(path, chunks, None)
        text_first.append(now() - t0)
        ((got_path, generation, got),) = index.pending(64)
        assert got_path == path and len(got) == 10
        t0 = now()
        assert index.fill(path, generation, new)
        fills.append(now() - t0)
    assert index.pending_count == 0
    res["write_100k"], res["write_100k_text_first"], res["fill_100k"] = writes, text_first, fills
    # Where one write's time goes at this size: cProfile of one more replace().
    import cProfile
    import pstats

    path = cols["path"][7 * 10 * 37]
    chunks = [
        Chunk(
            path,
            "python",
            "function",
            f"prof_{j}",
            j * 5 + 1,
            j * 5 + 4,
            f"def prof_{j}():\n    return {j}\n",
        )
        for j in range(10)
    ]
    prof = cProfile.Profile()
    prof.enable()
    index.replace(path, chunks, vectors[:10].copy())
    prof.disable()
    top = [
        (tt, ct, nc, f"{Path(file).name}:{fn}")
        for (file, _l, fn), (_cc, nc, tt, ct, _c) in pstats.Stats(prof).stats.items()
    ]
    res["write_profile"] = sorted(top, reverse=True)[:8]
    res["first_filtered"] = first_filtered
    print(
        f"[5] replace(10 chunks) at {N_CHUNKS}: median {ms(median(writes))} ms; first "
        f"filtered search after it {ms(median(first_filtered))} ms; text-first replace "
        f"{ms(median(text_first))} ms + fill {ms(median(fills))} ms",
        flush=True,
    )

    # Full-text recall under a narrow path filter: text_search asks LanceDB for 4 x pool hits
    # and drops those outside the glob in Python; how many in-folder hits a search with no
    # limit would have found (capped at the pool), for 20 queries.
    pool_k = index.pool(10)
    recall: list[tuple[int, int]] = []
    matcher = Filters(path=path_glob).path_matcher()
    assert matcher is not None
    for q in queries[:20]:
        got = len(index.text_search(q, pool_k, Filters(path=path_glob)))
        words_q = " ".join(re.findall(r"\w+", q))
        every = (
            table.search(words_q, query_type="fts")
            .select(["path", "_score"])
            .limit(N_CHUNKS)
            .to_list()
        )
        recall.append((got, min(pool_k, sum(bool(matcher.fullmatch(h["path"])) for h in every))))
    res["path_recall"] = recall
    print(
        f"[5] text hits with path={path_glob}: {sum(g for g, _ in recall)} returned of "
        f"{sum(a for _, a in recall)} in the folder (20 queries, capped at {pool_k} each)",
        flush=True,
    )

    # The full-text half while the embedding worker works: each fill() deletes a path's rows
    # and appends them again as a new fragment outside the FTS index, until the next
    # optimize() (every 60 s of embedding). FILLS text-first writes + fills of 10 chunks
    # (~60 s of the worker at ~50 chunks/s), then the text half, then after optimize().
    t = now()
    for r in range(FILLS):
        path = cols["path"][(1000 + r) * 10]
        chunks = [
            Chunk(
                path,
                "python",
                "function",
                f"fill_{r}_{j}",
                j * 5 + 1,
                j * 5 + 4,
                f"def fill_{r}_{j}():\n    return {j}\n",
            )
            for j in range(10)
        ]
        index.replace(path, chunks, None)
        ((_, generation, _),) = index.pending(64)
        index.fill(path, generation, vectors[:10].copy())
    res["fills_s"] = now() - t
    res["fills_fts_state"] = fts_state(table)
    after_fills: dict[str, list[float]] = {"before": [], "after": []}
    for q in queries[:20]:
        t0 = now()
        index.text_search(q, 50, Filters())
        after_fills["before"].append(now() - t0)
    t = now()
    index.optimize()
    res["fills_optimize_s"] = now() - t
    for q in queries[:20]:
        t0 = now()
        index.text_search(q, 50, Filters())
        after_fills["after"].append(now() - t0)
    res["after_fills"] = after_fills
    print(
        f"[5] {FILLS} replace(None)+fill at {N_CHUNKS} ({res['fills_s']:.1f} s, table "
        f"{res['fills_fts_state']}): text half p50 {ms(median(after_fills['before']))} ms, "
        f"after optimize() ({res['fills_optimize_s']:.1f} s) "
        f"{ms(median(after_fills['after']))} ms",
        flush=True,
    )
    del index, service, table
    gc.collect()
    rmtree(uri)

    # (b) the table as a cold start's text-first writes leave it until the first optimize()
    # (the embedding worker's, after 60 s of embedding or when the backlog empties, or the
    # indexer's when its queue empties): FTS index built by the first replace() (one small
    # file), every later file appended as its own fragment. Appended here in blocks (fewer
    # fragments than one per file: a best case for this layout).
    uri = work / "incremental"
    index = ChunkIndex(str(uri), emb.model_id, DIM)
    index.open()
    first = [
        Chunk(
            "src/first.py",
            "python",
            "function",
            f"f{j}",
            j * 3 + 1,
            j * 3 + 2,
            f"def f{j}():\n    return {j}\n",
        )
        for j in range(10)
    ]
    index.replace("src/first.py", first, vectors[:10].copy())
    assert index._fts_ready
    block = max(1, N_CHUNKS // 200)
    t = now()
    for lo in range(0, N_CHUNKS, block):
        index._table.add(arrow_table(cols, vectors, lo, min(N_CHUNKS, lo + block)))
    res["incr_insert_s"] = now() - t
    res["incr_fragments"] = len(range(0, N_CHUNKS, block)) + 1
    index = ChunkIndex(str(uri), emb.model_id, DIM)
    index.open()
    res["incr_fts_state"] = fts_state(index._table)
    incr: dict[str, list[float]] = {"text_unoptimized": [], "text_optimized": []}
    for q in queries[:10]:
        t0 = now()
        index.text_search(q, 50, Filters())
        incr["text_unoptimized"].append(now() - t0)
    t = now()
    index.optimize()
    res["optimize_s"] = now() - t
    for q in queries[:30]:
        t0 = now()
        index.text_search(q, 50, Filters())
        incr["text_optimized"].append(now() - t0)
    res["incr"] = incr
    print(
        f"[5] FTS as text-first writes leave it ({res['incr_fragments']} fragments, index on 10 "
        f"rows): text half p50 {ms(median(incr['text_unoptimized']))} ms; after optimize() "
        f"({res['optimize_s']:.1f} s) {ms(median(incr['text_optimized']))} ms"
    )
    del index
    gc.collect()
    rmtree(work)


# -- 6. sidecar RSS ---------------------------------------------------------------------------
_RSS_STEPS = r"""
import os, sys, time, json
def rss():
    for line in open(f"/proc/{os.getpid()}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
out = [("python", rss(), 0.0)]
def step(name, fn):
    t = time.perf_counter(); fn(); out.append((name, rss(), time.perf_counter() - t))
from importlib import import_module as imp
step("tornado + jupyter_workspace.sidecar.server",
     lambda: imp("jupyter_workspace.sidecar.server"))
from jupyter_workspace.sidecar import llm
step("litellm (llm.load)", llm.load)
step("lancedb + pyarrow", lambda: (imp("lancedb"), imp("pyarrow")))
step("onnxruntime + tokenizers", lambda: (imp("onnxruntime"), imp("tokenizers")))
from jupyter_workspace.sidecar.embedder import load_embedder
holder = {}
step("load_embedder(auto)",
     lambda: holder.setdefault("e", load_embedder("all-MiniLM-L6-v2", "auto", None)))
from jupyter_workspace.sidecar.chunk_store import ChunkIndex
def open_index():
    ix = ChunkIndex(sys.argv[1], holder["e"].model_id, holder["e"].dim); ix.open(); holder["i"] = ix
step("ChunkIndex.open (empty)", open_index)
out.append(("torch imported?", float("torch" in sys.modules), 0.0))
print(json.dumps(out))
"""


# The sidecar with onnxruntime's CPU memory arena off (a bench-only patch of SessionOptions,
# applied before the sidecar imports anything): the fix this benchmark's RSS figures point to.
_NO_ARENA = r"""
import runpy
import onnxruntime as ort
class _Options(ort.SessionOptions):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.enable_cpu_mem_arena = False
ort.SessionOptions = _Options
runpy.run_module("jupyter_workspace.sidecar", run_name="__main__", alter_sys=True)
"""


def run_sidecar(
    argv: list[str], sources: list[tuple[str, Path]], texts: dict[str, str], label: str
) -> dict[str, Any]:
    """Start a sidecar with the index on, wait for the index, index the corpus, read RSS."""
    out: dict[str, Any] = {}
    work = tmpdir("jw-bench-sidecar-")
    token = secrets.token_urlsafe(32)  # 43 characters
    env = {
        **os.environ,
        protocol.SIDECAR_TOKEN_ENV: token,
        protocol.INDEX_URI_ENV: str(work / "index"),
    }
    env.pop(protocol.SIDECAR_PARENT_ENV, None)
    t_spawn = now()
    with open(work / "sidecar.log", "wb") as log:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            cwd=work,
            env=env,
            start_new_session=True,
        )
    _children.add(proc)
    try:
        assert proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            if not sel.select(60):
                raise TimeoutError("sidecar printed no port")
        line = proc.stdout.readline().decode()
        port = json.loads(line.split(" ", 1)[1])["port"]
        out["listening"] = proc_status(proc.pid)["VmRSS"]
        client = Http(port, f"Bearer {token}")
        deadline = now() + 150
        health: dict[str, Any] = {}
        while now() < deadline:
            code, health = client.request("GET", "/health", timeout=2)
            if code == 200 and health["index"]["state"] in ("ready", "failed"):
                break
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        if not health or health["index"]["state"] != "ready":
            raise RuntimeError(
                f"sidecar index not ready: {health}; log: "
                f"{(work / 'sidecar.log').read_text(errors='replace')[-1500:]}"
            )
        out["ready_s"] = now() - t_spawn
        out["load_s"] = health["index"].get("seconds")
        time.sleep(0.5)
        out["ready"] = proc_status(proc.pid)
        out["torch"] = "libtorch" in Path(f"/proc/{proc.pid}/maps").read_text()
        t = now()
        chunks = 0
        rels = [rel for rel, _ in sources]
        for i in range(0, len(rels), BATCH_FILES):
            code, answer = client.request(
                "POST",
                "/index/files",
                {"files": [{"path": rel, "text": texts[rel]} for rel in rels[i : i + BATCH_FILES]]},
                timeout=300,
            )
            if code != 200:
                raise RuntimeError(f"POST /index/files: {code} {answer}")
            chunks += answer["chunks"]
        out["index_s"] = now() - t  # every file written (text-first: full-text searchable)
        out["chunks"] = chunks
        # ... and until the sidecar's embedding worker has given every row its vector
        stats: dict[str, Any] = {}
        while now() - t < 600:
            code, stats = client.request("GET", "/index", timeout=10)
            if code == 200 and not stats.get("vectors_pending"):
                break
            time.sleep(0.05)
        else:
            raise TimeoutError(f"vectors still pending after 600 s: {stats}")
        out["vectors_s"] = now() - t
        time.sleep(0.5)
        out["indexed"] = proc_status(proc.pid)
        for q in ("reference count", "parse the header", "lock", "socket"):
            client.request("POST", "/search", {"q": q, "mode": "hybrid", "k": 10})
        out["searched"] = proc_status(proc.pid)
        client.close()
        print(
            f"[6] {label}: RSS listening {out['listening']:.0f} MiB, index ready "
            f"{out['ready']['VmRSS']:.0f} MiB, after {chunks} chunks "
            f"{out['indexed']['VmRSS']:.0f} MiB (peak {out['indexed']['VmHWM']:.0f}); "
            f"files written {out['index_s']:.1f} s, vectors {out['vectors_s']:.1f} s",
            flush=True,
        )
    finally:
        end_child(proc)
        rmtree(work)
    return out


def section_rss(res: dict[str, Any]) -> None:
    sources = Loaded.sources or corpus_sources(N_FILES)
    texts = Loaded.texts or {
        rel: src.read_text(encoding="utf-8", errors="replace") for rel, src in sources
    }
    res["sidecar"] = run_sidecar(
        [sys.executable, "-m", "jupyter_workspace.sidecar"], sources, texts, "sidecar as shipped"
    )
    if ARENA_EXPERIMENT:
        res["sidecar_no_arena"] = run_sidecar(
            [sys.executable, "-c", _NO_ARENA],
            sources,
            texts,
            "sidecar, onnxruntime enable_cpu_mem_arena=False",
        )
    # Where it goes: RSS after each heavy import, one process.
    work = tmpdir("jw-bench-steps-")
    try:
        out = subprocess.run(
            [sys.executable, "-c", _RSS_STEPS, str(work / "steps")],
            capture_output=True,
            text=True,
            timeout=180,
            cwd=ROOT,
            env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
        )
    finally:
        rmtree(work)
    if out.returncode == 0:
        res["rss_steps"] = json.loads(out.stdout.strip().splitlines()[-1])
    else:
        res["rss_steps_error"] = out.stderr[-1000:]


# -- report -------------------------------------------------------------------------------------
def report(res: dict[str, Any], errors: dict[str, str], wall: float) -> None:
    print(f"\nSummary ({wall:.0f} s; python {sys.version.split()[0]}, {os.cpu_count()} cores)")
    rows: list[list[str]] = []
    nan = float("nan")
    if "svc_s" in res:
        chunks, files = res["chunks"], res["files"]
        svc = res["svc"]
        svc_rate, ref_rate = chunks / svc["wait"], chunks / res["ref_s"]
        ratio = svc_rate / ref_rate
        paired = [r[7] / r[5] for r in res["slices"]]
        tok = res.get("tokens")
        rows.append(
            [
                "1 cold index to all vectors: index_files + wait_vectors",
                f"{svc_rate:.1f} chunks/s, {files / svc['wait']:.2f} files/s "
                f"({files} files, {chunks} chunks, {svc['wait']:.1f} s)",
                "",
            ]
        )
        rows.append(
            [
                "1 ... to the last fill() (without wait_vectors' 0.2 s polling)",
                f"{chunks / svc['vectors']:.1f} chunks/s ({svc['vectors']:.1f} s; ratio "
                f"{chunks / svc['vectors'] / ref_rate:.2f}x)",
                "",
            ]
        )
        rows.append(
            [
                "1 baseline: sentence-transformers fp32 encode",
                f"{ref_rate:.1f} chunks/s ({res['ref_s']:.1f} s)",
                "",
            ]
        )
        rows.append(
            [
                "1 ratio IndexService (to wait_vectors) / fp32 encode",
                f"{ratio:.2f}x (per slice {', '.join(f'{p:.2f}' for p in paired)})",
                "≥ 2x " + ("✓" if ratio >= 2 else "✗"),
            ]
        )
        inl = res["inline_s"]
        rows.append(
            [
                "1 same code, inline_embed=∞ (embed, then write once: the previous way)",
                f"{chunks / inl:.1f} chunks/s ({inl:.1f} s; ratio to fp32 "
                f"{chunks / inl / ref_rate:.2f}x); text-first to wait_vectors takes "
                f"{svc['wait'] / inl:.2f}x its time",
                "",
            ]
        )
        rows.append(
            [
                "1 text-first phase: index_files calls alone (all files text-searchable)",
                f"{svc['text']:.2f} s = {files / svc['text']:.0f} files/s, "
                f"{chunks / svc['text']:.0f} chunks/s; first call (16 files, empty index) "
                f"{ms(res['first_call_s'])} ms",
                "",
            ]
        )
        sp, calls = res["spent"], res["calls"]
        rows.append(
            [
                "1 time split (worker overlaps the index_files calls)",
                f"replace {sp.get('replace', 0):.2f} s ({calls.get('replace', 0)} files), "
                f"inline embed {sp.get('embed_inline', 0):.2f} s "
                f"({calls.get('embed_inline', 0)} texts); behind: embed "
                f"{sp.get('embed_behind', 0):.1f} s ({calls.get('embed_behind', 0)} texts), "
                f"fill {sp.get('fill', 0):.2f} s ({calls.get('fill', 0)} files), optimize "
                f"{sp.get('optimize', 0):.2f} s ({calls.get('optimize', 0)} calls, not in "
                f"the totals); chunking alone {res['chunk_only_s']:.2f} s",
                "",
            ]
        )
        if tok:
            rows.append(
                [
                    "1 chunk length (tokens)",
                    f"median {tok[0]:.0f}, {tok[1] * 100:.0f}% truncated at 256",
                    "",
                ]
            )
        if "corpus_fts" in res:
            before, after = res["corpus_fts"]
            frags, indexed, unindexed = res["corpus_fts_state"]
            rows.append(
                [
                    f"1 text half on that index as left ({frags} fragments, FTS "
                    f"{indexed}/{indexed + unindexed} rows)",
                    f"p50 {ms(median(before))} ms → {ms(median(after))} ms after another "
                    f"optimize() ({res['corpus_optimize_s']:.2f} s)",
                    "",
                ]
            )
        target, one = res["one_file"]
        rows.append(
            [
                "1 re-index one edited file in process",
                f"median {ms(median([o[0] for o in one]))} ms ({one[0][2]} chunks, "
                f"{one[0][1]} embedded inline, {one[0][3]} vectors pending after)",
                "",
            ]
        )
    if "marks" in res:
        m = res["marks"]
        st = res.get("e2e_status", {})
        t_work = next((t for t, s in res["states"] if s in ("scanning", "indexing")), 0.0)
        if "all_idle" in m:
            rate = st.get("chunks", 0) / max(1e-9, m["all_idle"] - t_work)
            rows.append(
                [
                    "1 end to end: spawn → idle (every file, every vector)",
                    f"{m['all_idle']:.2f} s ({st.get('files_indexed')} files, "
                    f"{st.get('chunks')} chunks; {rate:.1f} chunks/s from the indexer's "
                    f"start at {t_work:.2f} s)",
                    "",
                ]
            )
        rows.append(
            [
                "1 end to end: spawn → every file written (text-searchable)",
                f"{m.get('written', nan):.2f} s",
                "",
            ]
        )
        rows.append(
            [
                "1/2 milestones (s from spawn)",
                f"/api/status {m.get('api', 0):.2f}, sidecar ready "
                f"{m.get('sidecar', nan):.2f}, search answers 200 "
                f"{m.get('text_200', nan):.2f}, indexer indexing "
                f"{m.get('indexing', nan):.2f}, first file indexed "
                f"{m.get('first_file', nan):.2f}",
                "",
            ]
        )
        rows.append(["2 spawn → first text-search hit", f"{m.get('text', nan):.2f} s", ""])
        rows.append(
            [
                "2 spawn → first hybrid-search hit (any: text-first)",
                f"{m.get('hybrid', nan):.2f} s",
                "",
            ]
        )
        rows.append(
            [
                "2 spawn → first vector-search hit (any file)",
                f"{m.get('vector_any', nan):.2f} s ({res.get('first_vector_hit')})",
                "",
            ]
        )
        rows.append(
            [
                f"2 spawn → vector search finds {MEANING_TARGET} first",
                f"{m.get('vector', nan):.2f} s (q={MEANING_QUERY!r})"
                + (
                    f"; at idle the top hits were {res['vector_top_at_idle']}"
                    if "vector_top_at_idle" in res
                    else ""
                ),
                "",
            ]
        )
        rows.append(
            ["2 spawn → state 'embedding' first seen", f"{m.get('embedding', nan):.2f} s", ""]
        )
        rows.append(
            ["2 spawn → state 'idle' (vectors done)", f"{m.get('all_idle', nan):.2f} s", ""]
        )
    if "save" in res:
        s = res["save"]
        lat = s["lat"]
        p95 = percentile(lat, 95)
        rows.append(
            [
                f"4 save → searchable (n={len(lat)}, misses {s['misses']})",
                f"p50 {ms(median(lat))} ms, p95 {ms(p95)} ms, max {ms(max(lat))} ms "
                f"(incl. 300 ms debounce)",
                "p95 ≤ 1 s " + ("✓" if p95 <= 1 else "✗"),
            ]
        )
        if s["base"]:
            rows.append(
                [
                    "4 baseline: text search round trip",
                    f"p50 {ms(median(s['base']))} ms, p95 {ms(percentile(s['base'], 95))} ms",
                    "",
                ]
            )
    if "rescan" in res:
        r = res["rescan"]
        tot = median(r["total"])
        rows.append(
            [
                f"3 re-scan {SCAN_FILES} unchanged: scan + reconcile",
                f"median {tot:.3f} s (scan {median(r['scan']):.3f}, reconcile "
                f"{median(r['reconcile']):.3f}); {r['counts']}",
                "≤ 2 s " + ("✓" if tot <= 2 else "✗"),
            ]
        )
        rows.append(
            [
                "3 baseline: os.walk + os.stat",
                f"median {median(r['walk']):.3f} s "
                f"(scan+reconcile = {tot / median(r['walk']):.1f}x)",
                "",
            ]
        )
        if "restart" in res:
            sts = res["restart"]["states"]
            t_scan = next((t for t, s in sts if s == "scanning"), None)
            t_idle = next((t for t, s in sts if s == "idle"), None)
            if t_scan is not None and t_idle is not None:
                rows.append(
                    [
                        "3 server restart on the tree: scanning → idle",
                        f"{t_idle - t_scan:.2f} s (idle {t_idle:.2f} s after spawn)",
                        "",
                    ]
                )
    if "lat" in res:
        lat = res["lat"]
        names = {
            "embed": "query embedding alone",
            "hybrid": "IndexService.search hybrid",
            "vector": "... vector",
            "text": "... text (no embedding)",
            "hybrid_lang": "... hybrid, lang=c",
            "hybrid_path": "... hybrid, path=src/d7/*",
            "lance": "baseline: embed + LanceDB brute-force top-10",
        }
        for key, label in names.items():
            v = lat[key]
            p95 = percentile(v, 95)
            goal = ""
            if key == "hybrid":
                goal = "p95 ≤ 50 ms " + ("✓" if p95 <= 0.05 else "✗")
            rows.append(
                [
                    f"5 {label} (n={len(v)}, {N_CHUNKS} chunks)",
                    f"p50 {ms(median(v))} ms, p95 {ms(p95)} ms",
                    goal,
                ]
            )
        parts = res["parts"]

        def p50_95(key: str) -> str:
            return f"{ms(median(parts[key]))} / {ms(percentile(parts[key], 95))}"

        rows.append(
            [
                "5 hybrid step by step, one thread (p50 / p95 ms)",
                f"embed {p50_95('embed')} + text_search {p50_95('text_half')} + "
                f"search(text_hits) {p50_95('search_given_text')} = sequential "
                f"{p50_95('sequential')}; service.search (text half concurrent with the "
                f"embedding) {p50_95('service_hybrid')}; bench-only: text half concurrent "
                f"with embedding + vector ranking {p50_95('overlap_all')}",
                "",
            ]
        )
        rows.append(
            [
                "5 inside search(text_hits) (p50 / p95 ms)",
                f"vector half {p50_95('vector_half')} (bare matvec {p50_95('matvec')}), "
                f"fusion + snippets {p50_95('fuse_snippets')}",
                "",
            ]
        )
        rows.append(
            [
                "5 filters (p50 / p95 ms)",
                f"vector half lang=c {p50_95('vector_half_lang')}, path "
                f"{p50_95('vector_half_path')}"
                f" (mask alone {p50_95('mask_path')}); text half path "
                f"{p50_95('text_half_path')}, {median(res['path_text_hits']):.0f} text hits "
                f"median",
                "",
            ]
        )
        rows.append(
            [
                f"5 one file write at {N_CHUNKS} chunks (replace 10 chunks with vectors)",
                f"median {ms(median(res['write_100k']))} ms (max "
                f"{ms(max(res['write_100k']))}); next filtered search "
                f"{ms(median(res['first_filtered']))} ms",
                "",
            ]
        )
        rows.append(
            [
                f"5 text-first write + fill at {N_CHUNKS} (10 chunks)",
                f"replace(None) {ms(median(res['write_100k_text_first']))} ms + fill "
                f"{ms(median(res['fill_100k']))} ms (medians)",
                "",
            ]
        )
        if "path_recall" in res:
            got = sum(g for g, _ in res["path_recall"])
            there = sum(a for _, a in res["path_recall"])
            rows.append(
                [
                    "5 text hits with path=src/d7/* (20 queries)",
                    f"{got} returned of {there} in that folder (each capped at the pool of 50)",
                    "",
                ]
            )
        if "after_fills" in res:
            frags, indexed, unindexed = res["fills_fts_state"]
            af = res["after_fills"]
            rows.append(
                [
                    f"5 text half after {FILLS} fills since optimize() ({frags} frags, "
                    f"{unindexed} rows outside FTS)",
                    f"p50 {ms(median(af['before']))} ms, p95 "
                    f"{ms(percentile(af['before'], 95))} ms → after optimize() "
                    f"({res['fills_optimize_s']:.1f} s) {ms(median(af['after']))} ms "
                    f"(the {FILLS} writes + fills took {res['fills_s']:.1f} s)",
                    "",
                ]
            )
        inc = res.get("incr")
        if inc:
            frags, indexed, unindexed = res["incr_fts_state"]
            rows.append(
                [
                    f"5 text half before any optimize() ({frags} frags, FTS on {indexed} rows)",
                    f"p50 {ms(median(inc['text_unoptimized']))} ms → after optimize() "
                    f"({res['optimize_s']:.1f} s) {ms(median(inc['text_optimized']))} ms",
                    "",
                ]
            )
        rows.append(
            [
                "5 build: insert / FTS index / ChunkIndex.open",
                f"{res['insert_s']:.1f} s / {res['fts_s']:.1f} s / {res['open_s']:.1f} s",
                "",
            ]
        )
    for key, label in (("sidecar", "sidecar"), ("sidecar_no_arena", "sidecar, arena off*")):
        sc = res.get(key)
        if not sc:
            continue
        ready, indexed = sc["ready"]["VmRSS"], sc["indexed"]["VmRSS"]
        mb = 1.048576  # MiB -> MB
        rows.append(
            [
                f"6 {label} RSS, index ready (model loaded)",
                f"{ready:.0f} MiB = {ready * mb:.0f} MB (listening {sc['listening']:.0f} "
                f"MiB; ready {sc['ready_s']:.1f} s after spawn; torch mapped: {sc['torch']})",
                "≤ 600 MB " + ("✓" if ready * mb <= 600 else "✗"),
            ]
        )
        rows.append(
            [
                f"6 {label} RSS after {sc['chunks']} chunks via /index/files, vectors done",
                f"{indexed:.0f} MiB = {indexed * mb:.0f} MB (peak {sc['indexed']['VmHWM']:.0f}"
                f" MiB; after 4 searches {sc['searched']['VmRSS']:.0f} MiB; files written "
                f"{sc['index_s']:.1f} s, vectors {sc['vectors_s']:.1f} s = "
                f"{sc['chunks'] / sc['vectors_s']:.1f} chunks/s)",
                "≤ 600 MB " + ("✓" if indexed * mb <= 600 else "✗"),
            ]
        )
    for key, message in errors.items():
        rows.append([f"{key} FAILED", message[:120], ""])
    if rows:
        print(table(["figure", "value", "goal"], rows))

    if res.get("loadavg"):
        print("\nLoad average (1 / 5 / 15 min) at the start → end of each section:")
        for key, start, end in res["loadavg"]:
            print(f"  [{key}] {start} → {end}")
    if "slices" in res:
        print(
            "\nSection 1 slices (IndexService text-first, the same with inline_embed=∞, torch; "
            "interleaved, order alternates; text-first: index_files calls / last fill() / "
            "wait_vectors returned, s from the slice's start; ratio = torch / wait_vectors)"
        )
        print(
            table(
                [
                    "slice",
                    "files",
                    "chunks",
                    "index_files s",
                    "vectors s",
                    "wait_vectors s",
                    "inline s",
                    "torch s",
                    "ratio",
                ],
                [
                    [
                        str(a),
                        str(b),
                        str(c),
                        f"{d:.2f}",
                        f"{e:.2f}",
                        f"{f:.2f}",
                        f"{g:.2f}",
                        f"{h:.2f}",
                        f"{h / f:.2f}",
                    ]
                    for a, b, c, d, e, f, g, h in res["slices"]
                ],
            )
        )
    if "states" in res:
        print(
            "\nSection 1/2 index states: " + " → ".join(f"{s}@{t:.2f}s" for t, s in res["states"])
        )
        print("vectors_pending: " + ", ".join(f"{p}@{t:.2f}s" for t, p in res["pending_seen"]))
        print(
            f"first hits: text {res.get('first_text_hit')}, hybrid {res.get('first_hybrid_hit')}"
            f" (query {FIRST_QUERY!r}); vector {res.get('first_vector_hit')} then "
            f"{res.get('vector_hit')} (query {MEANING_QUERY!r})"
        )
    if "scan_profile" in res:
        print("\nSection 3: cProfile of one scan (tottime, cumtime, calls, function)")
        for tt, ct, nc, name in res["scan_profile"]:
            print(f"  {tt:7.3f} {ct:7.3f} {nc:8d}  {name}")
    if "sidecar_no_arena" in res:
        print(
            "\n* arena off: the same sidecar started through a bench-only patch that sets "
            "onnxruntime SessionOptions.enable_cpu_mem_arena = False (run after the shipped one, "
            "not interleaved)."
        )
    if "hybrid_profile" in res:
        print(
            f"\nSection 5: cProfile of 30 hybrid IndexService.search at {N_CHUNKS} chunks, "
            "calling thread (tottime, cumtime, calls, function)"
        )
        for tt, ct, nc, name in res["hybrid_profile"]:
            print(f"  {tt:7.3f} {ct:7.3f} {nc:8d}  {name}")
    if "write_profile" in res:
        print(
            f"\nSection 5: cProfile of one ChunkIndex.replace (10 chunks) at {N_CHUNKS} chunks "
            "(tottime, cumtime, calls, function)"
        )
        for tt, ct, nc, name in res["write_profile"]:
            print(f"  {tt:7.3f} {ct:7.3f} {nc:8d}  {name}")
    if "rss_steps" in res:
        print("\nSection 6: RSS after each step, one process (MiB, seconds)")
        prev = 0.0
        for name, rss, secs in res["rss_steps"]:
            if name == "torch imported?":
                print(f"  torch imported: {bool(rss)}")
                continue
            print(f"  {rss:7.0f} (+{rss - prev:5.0f})  {secs:6.2f} s  {name}")
            prev = rss
    elif "rss_steps_error" in res:
        print("Section 6 steps failed:", res["rss_steps_error"])


def main() -> None:
    started = now()
    print(
        f"bench_index: {N_FILES} corpus files, {SCAN_FILES} scan files, {SAVES} saves, "
        f"{N_CHUNKS} chunks x {N_QUERIES} queries; sections {','.join(sorted(SECTIONS))}; "
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores",
        flush=True,
    )
    res: dict[str, Any] = {}
    errors: dict[str, str] = {}
    plan = [
        ("1", section_throughput),
        ("1e2e", section_server),
        ("3", section_rescan),
        ("5", section_search),
        ("6", section_rss),
    ]
    for key, fn in plan:
        wanted = key in SECTIONS or (key == "1e2e" and SECTIONS & {"1", "2", "4"})
        if not wanted:
            continue
        t = now()
        load_start = Path("/proc/loadavg").read_text().split()[:3]
        try:
            fn(res)
        except Exception as e:  # noqa: BLE001 - report, go on with the other sections
            traceback.print_exc()
            errors[key] = f"{type(e).__name__}: {e}"
        load_end = Path("/proc/loadavg").read_text().split()[:3]
        res.setdefault("loadavg", []).append((key, " ".join(load_start), " ".join(load_end)))
        print(
            f"[{key}] section took {now() - t:.1f} s; load average {' '.join(load_start)} → "
            f"{' '.join(load_end)}",
            flush=True,
        )
    report(res, errors, now() - started)
    _cleanup()


if __name__ == "__main__":
    main()
