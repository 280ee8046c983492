"""Retrieval quality through the whole index: hybrid vs vector vs text, int8 vs torch fp32.

bench_embed.py scores raw embeddings (vector-only, over its 534 chunks); this scores what a
search through the sidecar returns: `IndexService.index_files` (chunker → embedder → LanceDB
rows + full-text index + in-memory vectors), then `IndexService.search` in each mode.

Corpus (same for every backend): bench_embed's 15 stdlib modules (the answers); every C header
of this Python's include dir (`include/...`, ~190 files); and BENCH_RETRIEVAL_DISTRACTORS
other stdlib .py files of at most 40 KB (default 150), evenly spread over the sorted candidates
(deterministic; tests, idlelib, tkinter, ... skipped). About 5,800 chunks with the defaults.
Indexed in batches of 16 files into a fresh temporary LanceDB folder per backend, then
`wait_vectors` (when the service has it) and, as the indexer does when its queue empties,
`optimize`; then the searches.

Queries, two sets:
- natural: bench_embed's 35 natural-language questions; a hit answers when its path matches and
  its symbol is one of the labelled symbols.
- engineer: 30 look-ups of the kind text search should win: identifiers ("JSONDecodeError",
  "Py_INCREF"), an identifier with its class ("HTTPConnection putheader"), pasted error messages
  ("RuntimeError: Timeout should be used inside a task"). Each is labelled with a file and an
  anchor string that occurs exactly once in it; the anchor's line is found in the file at run
  time (so labels survive Python patch releases; an anchor that is missing or not unique drops
  its query, with a note). A hit answers when its path matches and its [start_line, end_line]
  covers that line.

For each backend (BENCH_RETRIEVAL_BACKENDS, default "onnx-int8,torch") and mode (hybrid,
vector, text), k=10: recall@1/@5/@10 and MRR@10 per query set and overall; the queries hybrid
misses (not in its top 10) while another mode finds them; per-query ranks; how much the two
backends' result lists agree, and how many lists change when the same searches run again; and
a fusion what-if: the vector and text top-50 lists that hybrid fuses (fetched through the
public API, mode=vector / text, k=50) fused here with other reciprocal-rank-fusion constants
than the index's 60, and with the text list weighted 2x.
The ONNX model comes from the usual cache (~/.cache/jupyter-workspace/models, built there on
first use).

Knobs: BENCH_RETRIEVAL_BACKENDS, BENCH_RETRIEVAL_DISTRACTORS (stdlib .py files, default 150).
Prints figures only; asserts nothing.
"""

from __future__ import annotations

import os
import shutil
import sys
import sysconfig
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import median, table  # noqa: E402
from bench_embed import FILES, QUERIES  # noqa: E402
from index_shared import SKIP_DIRS  # noqa: E402

from jupyter_workspace.sidecar.chunker import chunk_file  # noqa: E402

MODEL = "all-MiniLM-L6-v2"
MODES = ("hybrid", "vector", "text")
K = 10
POOL = 50  # what ChunkIndex.search takes from each half for k=10: max(50, 4k)
RRF_KS = (60, 20, 5, 1)  # 60 is the index's RRF_K
BATCH_FILES = 16
MAX_DISTRACTOR_BYTES = 40_000
BACKENDS = [
    b.strip()
    for b in os.environ.get("BENCH_RETRIEVAL_BACKENDS", "onnx-int8,torch").split(",")
    if b.strip()
]
N_DISTRACTORS = int(os.environ.get("BENCH_RETRIEVAL_DISTRACTORS", "150"))

# (query, path, anchor): the answer is the chunk covering the one line of `path` containing
# `anchor`. Paths under include/ are this Python's C headers.
ENGINEER: list[tuple[str, str, str]] = [
    ("JSONDecodeError", "json/decoder.py", "class JSONDecodeError(ValueError):"),
    ("run_coroutine_threadsafe", "asyncio/tasks.py", "def run_coroutine_threadsafe("),
    ("HTTPConnection putheader", "http/client.py", "def putheader(self, header, *values):"),
    ("ThreadingHTTPServer", "http/server.py", "class ThreadingHTTPServer("),
    ("LineTooLong", "http/client.py", "class LineTooLong(HTTPException):"),
    ("py_scanstring", "json/decoder.py", "def py_scanstring("),
    ("send_response_only", "http/server.py", "def send_response_only("),
    ("_LegalChars", "http/cookies.py", "_LegalChars = string"),
    ("HTTPStatus.IM_A_TEAPOT", "http/__init__.py", "IM_A_TEAPOT = (418"),
    (
        "ValueError: BoundedSemaphore released too many times",
        "asyncio/locks.py",
        "'BoundedSemaphore released too many times'",
    ),
    (
        "ValueError: task_done() called too many times",
        "asyncio/queues.py",
        "'task_done() called too many times'",
    ),
    (
        "TypeError: Object of type set is not JSON serializable",
        "json/encoder.py",
        "is not JSON serializable",
    ),
    (
        "json.decoder.JSONDecodeError: Unexpected UTF-8 BOM (decode using utf-8-sig)",
        "json/__init__.py",
        "Unexpected UTF-8 BOM",
    ),
    ("Expecting ':' delimiter", "json/decoder.py", "\"Expecting ':' delimiter\""),
    (
        "http.client.HTTPException: got more than 100 headers",
        "http/client.py",
        "got more than %d headers",
    ),
    (
        "http.client.RemoteDisconnected: Remote end closed connection without response",
        "http/client.py",
        "Remote end closed connection without",
    ),
    (
        "OSError: Tunnel connection failed: 407 Proxy Authentication Required",
        "http/client.py",
        "Tunnel connection failed",
    ),
    ("ValueError: Invalid header value", "http/client.py", "'Invalid header value %r'"),
    ("http.cookies.CookieError: Illegal key", "http/cookies.py", "'Illegal key %r'"),
    ("code 400, message Bad request version", "http/server.py", '"Bad request version (%r)"'),
    (
        "RuntimeError: Timeout should be used inside a task",
        "asyncio/timeouts.py",
        '"Timeout should be used inside a task"',
    ),
    ("RuntimeError: TaskGroup is shutting down", "asyncio/taskgroups.py", "is shutting down"),
    (
        "RuntimeError: asyncio.run() cannot be called from a running event loop",
        "asyncio/runners.py",
        '"asyncio.run() cannot be called from a running event loop"',
    ),
    ("RuntimeError: Lock is not acquired.", "asyncio/locks.py", "'Lock is not acquired.'"),
    (
        "TypeError: Passing coroutines is forbidden, use tasks explicitly.",
        "asyncio/tasks.py",
        "Passing coroutines is forbidden",
    ),
    ("Py_INCREF", "include/object.h", "static inline void Py_INCREF(PyObject *op)"),
    ("PyObject_HEAD", "include/object.h", "#define PyObject_HEAD "),
    ("Py_TPFLAGS_HEAPTYPE", "include/object.h", "#define Py_TPFLAGS_HEAPTYPE "),
    (
        "PyArg_ParseTupleAndKeywords",
        "include/modsupport.h",
        "PyAPI_FUNC(int) PyArg_ParseTupleAndKeywords(",
    ),
    ("PyErr_SetString", "include/pyerrors.h", "PyAPI_FUNC(void) PyErr_SetString("),
]


@dataclass(frozen=True)
class Label:
    group: str  # "natural" or "engineer"
    query: str
    path: str
    symbols: frozenset[str] = frozenset()
    line: int | None = None  # 1-based

    def answers(self, hit: dict[str, Any]) -> bool:
        if hit["path"] != self.path:
            return False
        if self.line is not None:
            return hit["start_line"] <= self.line <= hit["end_line"]
        return hit["symbol"] in self.symbols

    def where(self) -> str:
        return (
            f"{self.path}:{self.line}"
            if self.line
            else f"{self.path} {'/'.join(sorted(self.symbols))}"
        )


# -- corpus and labels ---------------------------------------------------------------------------
def corpus(n_distractors: int) -> list[dict[str, str]]:
    """[{"path", "text"}]: the 15 answer modules, every C header, n stdlib distractors."""
    paths = sysconfig.get_paths()
    lib, inc = Path(paths["stdlib"]), Path(paths["include"])
    files = {name: (lib / name) for name in FILES}
    for p in sorted(inc.rglob("*.h")):
        files[f"include/{p.relative_to(inc).as_posix()}"] = p

    def candidate(p: Path) -> bool:
        rel = p.relative_to(lib)
        return (
            rel.as_posix() not in FILES
            and not SKIP_DIRS & set(rel.parts[:-1])
            and not rel.parts[0].startswith("config-")
            and not p.name.startswith("test_")
            and p.stat().st_size <= MAX_DISTRACTOR_BYTES
        )

    pys = sorted(p for p in lib.rglob("*.py") if candidate(p))
    k = min(n_distractors, len(pys))
    for p in (pys[int(i * len(pys) / k)] for i in range(k)):
        files[p.relative_to(lib).as_posix()] = p
    return [
        {"path": name, "text": src.read_text(encoding="utf-8", errors="replace")}
        for name, src in sorted(files.items())
    ]


def labels(texts: dict[str, str]) -> tuple[list[Label], list[str]]:
    """Both query sets, checked against the files; notes on labels that had to be dropped."""
    out: list[Label] = []
    notes: list[str] = []
    for query, path, symbols in QUERIES:
        known = {c.symbol for c in chunk_file(path, texts[path])}
        missing = set(symbols) - known
        if missing == set(symbols):
            notes.append(f"natural query dropped, no chunk has its symbols: {query!r}")
            continue
        if missing:
            notes.append(f"{query!r}: symbols not in {path}: {sorted(missing)}")
        out.append(Label("natural", query, path, frozenset(symbols)))
    for query, path, anchor in ENGINEER:
        text = texts.get(path)
        lines = [i for i, line in enumerate((text or "").splitlines(), 1) if anchor in line]
        if len(lines) != 1:
            notes.append(
                f"engineer query dropped, anchor {anchor!r} found on {len(lines)} lines "
                f"of {path}: {query!r}"
            )
            continue
        out.append(Label("engineer", query, path, line=lines[0]))
    return out, notes


# -- one backend ---------------------------------------------------------------------------------
def rank_of(label: Label, hits: list[dict[str, Any]]) -> int | None:
    return next((r for r, hit in enumerate(hits) if label.answers(hit)), None)


def run_searches(
    service: Any, queries: list[Label], modes: tuple[str, ...]
) -> tuple[dict[str, list[int | None]], dict[str, list[list[tuple]]], dict[str, list[float]]]:
    ranks: dict[str, list[int | None]] = {m: [] for m in modes}
    tops: dict[str, list[list[tuple]]] = {m: [] for m in modes}
    times: dict[str, list[float]] = {m: [] for m in modes}
    for mode in modes:
        for label in queries:
            t = time.perf_counter()
            hits = service.search({"q": label.query, "k": K, "mode": mode})["results"]
            times[mode].append(time.perf_counter() - t)
            ranks[mode].append(rank_of(label, hits))
            tops[mode].append([(h["path"], h["start_line"], h["end_line"]) for h in hits])
    return ranks, tops, times


def run_backend(backend: str, files: list[dict[str, str]], queries: list[Label]) -> dict[str, Any]:
    from jupyter_workspace.sidecar.index_service import IndexService

    folder = Path(tempfile.mkdtemp(prefix=f"bench-retrieval-{backend}-"))
    service = IndexService(str(folder / "index"), MODEL, backend, None)  # default model cache
    try:
        t = time.monotonic()
        loaded = service.load()
        load_s = time.monotonic() - t
        t = time.monotonic()
        chunks = 0
        for start in range(0, len(files), BATCH_FILES):
            chunks += service.index_files(files[start : start + BATCH_FILES])["chunks"]
        wait = getattr(service, "wait_vectors", None)
        if wait:
            wait(600)
        index_s = time.monotonic() - t
        print(
            f"  {backend}: model {loaded['model_id']} loaded in {load_s:.1f} s; {len(files)} "
            f"files, {chunks} chunks indexed in {index_s:.0f} s ({chunks / index_s:.1f} "
            f"chunks/s)",
            flush=True,
        )
        t = time.monotonic()
        service.optimize()
        optimize_s = time.monotonic() - t
        ranks, tops, times = run_searches(service, queries, MODES)
        # The same searches again on the same index: how many result lists change (ties).
        _, again, _ = run_searches(service, queries, MODES)
        unstable = {m: sum(a != b for a, b in zip(tops[m], again[m], strict=True)) for m in MODES}
        # The two lists hybrid fuses (`pool` = 50 for k=10), for the fusion what-if below, and
        # the top hits of the queries no mode answers.
        halves = {
            mode: [
                service.search({"q": q.query, "k": POOL, "mode": mode})["results"] for q in queries
            ]
            for mode in ("vector", "text")
        }
        missed = {
            i: service.search({"q": q.query, "k": 3, "mode": "hybrid"})["results"]
            for i, q in enumerate(queries)
            if all(ranks[m][i] is None for m in MODES)
        }
        return {
            "ranks": ranks,
            "tops": tops,
            "times": times,
            "halves": halves,
            "missed": missed,
            "unstable": unstable,
            "chunks": chunks,
            "index_s": index_s,
            "load_s": load_s,
            "optimize_s": optimize_s,
        }
    finally:
        close = getattr(service, "close", None)  # stops the background embedder, if any
        if close:
            close()
        shutil.rmtree(folder, ignore_errors=True)


# -- figures -------------------------------------------------------------------------------------
def recall(ranks: list[int | None], k: int) -> float:
    return sum(r is not None and r < k for r in ranks) / len(ranks) if ranks else 0.0


def mrr(ranks: list[int | None]) -> float:
    return sum(1 / (r + 1) for r in ranks if r is not None) / len(ranks) if ranks else 0.0


def cell(ranks: list[int | None]) -> str:
    return (
        f"{recall(ranks, 1):.3f} / {recall(ranks, 5):.3f} / {recall(ranks, 10):.3f} / "
        f"{mrr(ranks):.3f}"
    )


def fuse(
    vector: list[dict[str, Any]], text: list[dict[str, Any]], rrf_k: int, text_weight: float = 1.0
) -> list[dict[str, Any]]:
    """Reciprocal rank fusion of the two halves' result lists, top K (ties: best single rank)."""
    scores: dict[tuple, float] = {}
    best: dict[tuple, int] = {}
    hits: dict[tuple, dict[str, Any]] = {}
    for ranking, weight in ((vector, 1.0), (text, text_weight)):
        for rank, hit in enumerate(ranking):
            key = (hit["path"], hit["start_line"], hit["end_line"])
            scores[key] = scores.get(key, 0.0) + weight / (rrf_k + rank + 1)
            best[key] = min(best.get(key, rank), rank)
            hits[key] = hit
    order = sorted(scores, key=lambda key: (-scores[key], best[key], key))
    return [hits[key] for key in order[:K]]


def fmt_rank(r: int | None) -> str:
    return "-" if r is None else str(r + 1)


def main() -> None:
    started = time.monotonic()
    files = corpus(N_DISTRACTORS)
    texts = {f["path"]: f["text"] for f in files}
    queries, notes = labels(texts)
    groups = {
        "natural": [i for i, q in enumerate(queries) if q.group == "natural"],
        "engineer": [i for i, q in enumerate(queries) if q.group == "engineer"],
        "all": list(range(len(queries))),
    }
    n_headers = sum(p.startswith("include/") for p in texts)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"bench_retrieval: {len(files)} files ({len(FILES)} answer modules, {n_headers} C "
        f"headers, {len(files) - len(FILES) - n_headers} stdlib distractors <= "
        f"{MAX_DISTRACTOR_BYTES // 1000} KB); {len(groups['natural'])} natural + "
        f"{len(groups['engineer'])} engineer queries, k={K}; backends {', '.join(BACKENDS)}; "
        f"python {sys.version.split()[0]}, {cores} cores, load average "
        f"{os.getloadavg()[0]:.1f}",
        flush=True,
    )
    for note in notes:
        print(f"  label note: {note}")

    results: dict[str, dict[str, Any]] = {}
    for backend in BACKENDS:
        results[backend] = run_backend(backend, files, queries)

    def pick(ranks: list[int | None], group: str) -> list[int | None]:
        return [ranks[i] for i in groups[group]]

    heads = [f"{g} ({len(groups[g])}): R@1 / R@5 / R@10 / MRR@10" for g in groups]
    print(
        f"\nSummary ({time.monotonic() - started:.0f} s; load average now {os.getloadavg()[0]:.1f})"
    )
    print("\nRetrieval through the index, after optimize (recall@k, MRR@10)")
    rows = []
    for backend, res in results.items():
        for mode in MODES:
            rows.append([backend, mode, *(cell(pick(res["ranks"][mode], g)) for g in groups)])
    print(table(["backend", "mode", *heads], rows))

    print("\nIndexing and search cost")
    rows = []
    for backend, res in results.items():
        rows.append(
            [
                backend,
                str(res["chunks"]),
                f"{res['load_s']:.1f}",
                f"{res['index_s']:.0f} ({res['chunks'] / res['index_s']:.1f} chunks/s)",
                f"{res['optimize_s']:.2f}",
                *(f"{1000 * median(res['times'][m]):.1f}" for m in MODES),
                " / ".join(str(res["unstable"][m]) for m in MODES),
            ]
        )
    print(
        table(
            [
                "backend",
                "chunks",
                "load s",
                "index s",
                "optimize s",
                *(f"{m} ms p50" for m in MODES),
                f"top-{K} lists changed on a repeat (h / v / t)",
            ],
            rows,
        )
    )

    if len(results) >= 2:
        (name_a, a), (name_b, b) = list(results.items())[:2]
        print(f"\n{name_a} vs {name_b}: result lists (top {K} by path + lines)")
        rows = []
        for mode in MODES:
            overlap = [
                len(set(x) & set(y)) / K
                for x, y in zip(a["tops"][mode], b["tops"][mode], strict=True)
            ]
            same1 = sum(
                bool(x) and bool(y) and x[0] == y[0]
                for x, y in zip(a["tops"][mode], b["tops"][mode], strict=True)
            )
            moved = sum(x != y for x, y in zip(a["ranks"][mode], b["ranks"][mode], strict=True))
            rows.append(
                [
                    mode,
                    f"{sum(overlap) / len(overlap):.3f}",
                    f"{same1} of {len(queries)}",
                    str(moved),
                ]
            )
        print(table(["mode", f"top-{K} overlap", "same top 1", "queries whose answer moved"], rows))

    for backend, res in results.items():
        ranks = res["ranks"]
        lost = [
            (i, q)
            for i, q in enumerate(queries)
            if ranks["hybrid"][i] is None
            and any(ranks[m][i] is not None for m in ("vector", "text"))
        ]
        worse = [
            (i, q)
            for i, q in enumerate(queries)
            if ranks["hybrid"][i] is not None
            and any(
                ranks[m][i] is not None and ranks[m][i] < ranks["hybrid"][i]
                for m in ("vector", "text")
            )
        ]
        print(
            f"\n{backend}: hybrid misses (not in its top {K}) but another mode finds: "
            f"{len(lost)}; hybrid finds but ranks lower than a single mode: {len(worse)}"
        )
        for i, q in lost:
            print(
                f"  MISS [{q.group}] {q.query!r} ({q.where()}): vector "
                f"{fmt_rank(ranks['vector'][i])}, text {fmt_rank(ranks['text'][i])}"
            )
        for i, q in worse:
            print(
                f"  lower [{q.group}] {q.query!r}: hybrid {fmt_rank(ranks['hybrid'][i])}, "
                f"vector {fmt_rank(ranks['vector'][i])}, text {fmt_rank(ranks['text'][i])}"
            )

    print(
        f"\nFusion what-if: the same vector and text top-{POOL} lists (public API, mode=vector "
        f"/ text, k={POOL}) fused here with other RRF constants (the index uses "
        f"{RRF_KS[0]}); 'reproduces' = queries whose answer rank equals the real hybrid's"
    )
    rows = []
    differ: dict[str, list[tuple[str, str, str]]] = {}
    for backend, res in results.items():
        vec, txt = res["halves"]["vector"], res["halves"]["text"]
        for rrf_k, weight in [(k, 1.0) for k in RRF_KS] + [(RRF_KS[0], 2.0)]:
            ranks = [rank_of(q, fuse(vec[i], txt[i], rrf_k, weight)) for i, q in enumerate(queries)]
            same = sum(a == b for a, b in zip(ranks, res["ranks"]["hybrid"], strict=True))
            name = f"RRF k={rrf_k}" + (f", text weight {weight:g}" if weight != 1.0 else "")
            rows.append(
                [
                    backend,
                    name,
                    *(cell(pick(ranks, g)) for g in groups),
                    f"{same} of {len(queries)}",
                ]
            )
            if rrf_k == RRF_KS[0] and weight == 1.0:
                differ[backend] = [
                    (q.query, fmt_rank(a), fmt_rank(b))
                    for q, a, b in zip(queries, ranks, res["ranks"]["hybrid"], strict=True)
                    if a != b
                ]
    print(table(["backend", "fusion", *heads, "reproduces hybrid"], rows))
    for backend, diffs in differ.items():
        for query, mine, real in diffs:
            print(
                f"  {backend}: RRF k={RRF_KS[0]} here ranks the answer {mine}, the index's "
                f"hybrid {real} (ties: here the better single rank first, the index the lower "
                f"row number): {query!r}"
            )

    for backend, res in results.items():
        if res["missed"]:
            print(f"\n{backend}: queries no mode answers in its top {K}; hybrid's top 3:")
        for i, hits in res["missed"].items():
            print(
                f"  {queries[i].query!r} (answer {queries[i].where()}): "
                + "; ".join(
                    f"{h['path']}:{h['start_line']} {h['symbol'] or h['kind']}" for h in hits
                )
            )

    print(
        "\nRank of the first answering hit per query (1 = top, - = not in the top 10), "
        "after optimize"
    )
    rows = []
    for i, q in enumerate(queries):
        row = [q.group[0], q.query[:60], q.where()[:48]]
        for res in results.values():
            row.append(" ".join(fmt_rank(res["ranks"][m][i]) for m in MODES))
        rows.append(row)
    print(table(["set", "query", "answer", *(f"{b} h v t" for b in results)], rows))
    print(f"\n(total {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    main()
