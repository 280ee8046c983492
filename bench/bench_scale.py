"""A million chunks on one machine (issue 19): search latency, recall and memory at 100k and 1M.

What it builds: real code nobody here wrote (the Python and C sources of the packages in this
venv's site-packages, files taken by a fixed stride of their sorted list) chunked by the
sidecar's chunker, then copied with variations (each copy under its own folder, its lines
shifted by the copy's number) up to 100k and 1M rows, written through `ChunkIndex.replace_many`
(the sidecar's write path) and folded into the full-text index with `optimize()`.

The vectors: `BENCH_SCALE_EMBED` chunks of the corpus embedded by the sidecar's own model
(all-MiniLM-L6-v2, `load_embedder()`); row r takes the vector of real chunk (r mod that count)
plus Gaussian noise (sigma `NOISE` per dimension, cosine ~0.86 to its source), re-normalized.
Embedding 1M chunks on this CPU would take hours (~60-140 chunks/s: bench/results/embed.md),
so the rows' vectors are derived, not their own; latency and recall depend on how the vectors
spread, which real vectors plus noise keep, not on which text they belong to.

The queries (`BENCH_SCALE_QUERIES`, default 120): taken from the corpus by a rule, not chosen:
real chunk (i * 7919 mod n); even i: its symbol's last part (an identifier); odd i: the first
six words of its first line holding at least four words (a phrase), else its symbol. Their
vectors come from the same model.

Measured in a child process that opens the built index the way the sidecar does
(`ChunkIndex.open`, which reads the table into the mirror) and nothing else, so its RSS
(psutil, after gc) is the index's share of a sidecar: hybrid (the text half on a second
thread while the vector half runs, as IndexService.search does; the query embedding is not
included: ~5 ms, printed apart), vector and text p50/p95, first quiet, then with a busy-loop
process on the other core. Recall@10: the vector half's top 10 against float32 brute force
over the same rows, computed in the parent as the rows are generated. Float32 brute force's
own latency over the same rows is measured last in the child (it maps the whole vector file,
so it comes after the RSS figure).

Run: `python3 bench/bench_scale.py` (~12 min here; `BENCH_SCALE_SIZES=100000` for the small
one alone, ~2 min). Prints tables; the figures go to bench/results/scale.md by hand.
"""

from __future__ import annotations

import gc
import json
import os
import re
import subprocess
import sys
import sysconfig
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from _harness import median, percentile, table

SIZES = [int(s) for s in os.environ.get("BENCH_SCALE_SIZES", "100000,1000000").split(",")]
N_REAL = int(os.environ.get("BENCH_SCALE_REAL", "40000"))  # real chunks before copies
N_EMBED = int(os.environ.get("BENCH_SCALE_EMBED", "1000"))  # real chunks embedded
N_QUERIES = int(os.environ.get("BENCH_SCALE_QUERIES", "120"))
NOISE = 0.03
KEEP = os.environ.get("BENCH_SCALE_KEEP")  # a folder: each size's index, queries and truth
MIX = float(os.environ.get("BENCH_SCALE_MIX", "0.5"))  # the other real vector's top weight
# (chunk_store.CANDIDATES, RESCORE, compiled scans) whose recall is measured, the share of the
# rows kept off (CANDIDATE_SHARE = 0); 0 candidates: Hamming distance alone picks the rows
# rescored exactly (no asymmetric stage); the numpy arm is the baseline of the compiled scans
# (sidecar/kernels.py), in the same run; None: the defaults (at 1M rows 5% = 50,000)
SWEEP: list[tuple[int, int, bool] | None] = [
    (0, 4000, True),
    (20000, 4000, True),
    (30000, 3000, True),
    (30000, 4000, True),
    (30000, 5000, True),
    (40000, 4000, True),
    (50000, 4000, False),
    (50000, 4000, True),
    None,
]
DIM = 384
K = 10
WRITE_PATHS = 500  # paths per replace_many call (the sidecar's batches are ~this size)


def now() -> float:
    return time.perf_counter()


# -- the corpus ----------------------------------------------------------------------------
def real_chunks(n: int) -> tuple[list[Any], float]:
    """At least `n` chunks of the venv's own package sources (Python, C), whole files."""
    from jupyter_workspace.sidecar.chunker import chunk_file, language_of

    site = Path(sysconfig.get_paths()["purelib"])
    files = sorted(
        p
        for p in site.rglob("*")
        if p.suffix in (".py", ".c", ".h") and "jupyter_workspace" not in p.parts and p.is_file()
    )
    stride = 7  # a fixed stride over the sorted list spreads the files over many packages
    chunks: list[Any] = []
    started = now()
    for offset in range(stride):
        for path in files[offset::stride]:
            try:
                text = path.read_text()
            except (OSError, UnicodeDecodeError):
                continue
            if not text.strip() or len(text) > 400_000:
                continue
            rel = str(path.relative_to(site))
            chunks.extend(chunk_file(rel, text, language_of(rel, text)))
            if len(chunks) >= n:
                return chunks, now() - started
    return chunks, now() - started


def queries_of(chunks: list[Any], n: int) -> list[str]:
    """The rule of the module docstring."""
    found: list[str] = []
    i = 0
    while len(found) < n and i < 20 * n:
        c = chunks[(i * 7919) % len(chunks)]
        name = re.split(r"\.|::", c.symbol)[-1] if c.symbol else ""
        q = ""
        if i % 2:  # a comment's or docstring's words, not code
            for line in c.text.splitlines():
                words = re.findall(r"[A-Za-z][A-Za-z']+", line)
                if len(words) >= 4 and not re.search(r"[(){}=;<>\[\]]", line):
                    q = " ".join(words[:6])
                    break
        q = q or name
        if q and q not in found:
            found.append(q)
        i += 1
    return found


class _Copy:
    """What a copy of a real chunk adds to the full-text terms: its path's words. The rest of
    `Chunk.terms()` (symbol, names, text) is the real chunk's, computed once per real chunk:
    terms.py costs ~300 us a chunk here, ~5 min for 1M rows that share 40k texts (a real 1M
    write spends it: the build time below leaves it out, and says how much it is)."""

    cache: dict[int, str] = {}
    paths: dict[str, str] = {}


def copies(chunks: list[Any], n: int) -> list[list[Any]]:
    """`n` rows, as lists of one path's chunks: copy k of real chunk c is row k*len+c, under
    `vk/`, its lines shifted by k."""
    from dataclasses import replace

    from jupyter_workspace.sidecar.chunker import Chunk
    from jupyter_workspace.sidecar.terms import terms

    class CopiedChunk(Chunk):
        source: int = 0

        def terms(self) -> str:
            rest = _Copy.cache.get(self.source)
            if rest is None:
                rest = _Copy.cache[self.source] = Chunk.terms(replace(self, path=""))
            words = _Copy.paths.get(self.path)
            if words is None:
                words = _Copy.paths[self.path] = " ".join(terms(self.path))
            return words + rest

    by_path: list[list[Any]] = []
    for k in range(n // len(chunks) + 1):
        start = k * len(chunks)
        if start >= n:
            break
        files: dict[str, list[Any]] = {}
        for i, c in enumerate(chunks[: n - start]):
            copy = CopiedChunk(
                f"v{k:02d}/{c.path}",
                c.language,
                c.kind,
                c.symbol,
                c.start_line + k,
                c.end_line + k,
                c.text,
                c.names,
                c.cell,
            )
            copy.source = i
            files.setdefault(copy.path, []).append(copy)
        by_path.extend(files.values())
    return by_path


def row_vectors(base: np.ndarray, first: int, count: int, n_real: int) -> np.ndarray:
    """The vectors of rows first..first+count: a mix of two real vectors (the row's own
    source and another, weight 0-0.5) plus noise, seeded by the row. With noise alone each
    real vector would have hundreds of near-copies at 1M rows, and a query's top 10 would
    be decided by the noise among them."""
    rng = np.random.default_rng(first)
    rows = np.arange(first, first + count)
    other = rng.integers(0, len(base), count)
    weight = rng.uniform(0.0, MIX, (count, 1)).astype(np.float32)
    v = (1 - weight) * base[(rows % n_real) % len(base)] + weight * base[other]
    v += NOISE * rng.standard_normal((count, DIM), dtype=np.float32)
    return (v / np.linalg.norm(v, axis=1, keepdims=True)).astype(np.float32)


def cached_vectors(texts: list[str], embedder: Any) -> np.ndarray:
    """The texts' vectors, from BENCH_SCALE_CACHE (a .npz) when it holds these texts'."""
    import hashlib

    cache = os.environ.get("BENCH_SCALE_CACHE")
    digest = hashlib.sha256("\0".join(texts).encode()).hexdigest()
    if cache and Path(cache).exists():
        stored = np.load(cache)
        if str(stored["digest"]) == digest:
            print(f"vectors from {cache}", flush=True)
            return np.asarray(stored["vectors"], dtype=np.float32)
    vectors = np.asarray(embedder.embed(texts), dtype=np.float32)
    if cache:
        np.savez(cache, digest=digest, vectors=vectors)
    return vectors


def sidecar_model_id() -> str:
    """The id the sidecar's default model is stored under, so that the real sidecar opens the
    built index as its own (an index of another model would be dropped and rebuilt)."""
    from jupyter_workspace.sidecar.embedder.spec import DEFAULT_MODEL
    from jupyter_workspace.sidecar.index_service import expected_model

    expected = expected_model(DEFAULT_MODEL, "auto", "")
    assert expected is not None and expected[1] == DIM, expected
    return expected[0]


# -- the whole sidecar -----------------------------------------------------------------------
def whole_sidecar(uri: str, queries: list[str]) -> dict[str, Any]:
    """The sidecar as the server starts it (`python -m jupyter_workspace.sidecar`, its model,
    its HTTP server, MALLOC_ARENA_MAX=2) on the built index: VmRSS once the index is ready
    and after the queries (hybrid `POST /search` over loopback, the query's embedding
    included), VmHWM, and the requests' latency."""
    import secrets

    from index_shared import Http, proc_status

    from jupyter_workspace import protocol

    token = secrets.token_urlsafe(32)
    env = {
        **protocol.SIDECAR_ENV_DEFAULTS,  # as the server starts its sidecar
        **os.environ,
        protocol.SIDECAR_TOKEN_ENV: token,
        protocol.INDEX_URI_ENV: uri,
        "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
    }
    env.pop(protocol.SIDECAR_PARENT_ENV, None)
    t = now()
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter_workspace.sidecar"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        start_new_session=True,
    )
    try:
        assert proc.stdout is not None
        port = json.loads(proc.stdout.readline().decode().split(" ", 1)[1])["port"]
        client = Http(port, f"Bearer {token}")
        health: dict[str, Any] = {}
        while now() - t < 600 and proc.poll() is None:  # litellm, the index, then the model
            code, health = client.request("GET", "/health", timeout=5)
            if code == 200 and "failed" in (health["state"], health["index"]["state"]):
                break
            if code == 200 and health["state"] == health["index"]["state"] == "ready":
                code, _ = client.request("POST", "/search", {"q": "x", "mode": "vector"})
                if code == 200:
                    break
            time.sleep(0.2)
        assert health and health["state"] == health["index"]["state"] == "ready", health
        out: dict[str, Any] = {"ready_s": now() - t, "ready": proc_status(proc.pid)}
        code, stats = client.request("GET", "/index")
        assert code == 200 and stats["chunks"] > 0, (code, stats)
        times = []
        for q in [*queries[:5], *queries]:  # 5 warm-up
            t0 = now()
            code, answer = client.request("POST", "/search", {"q": q, "k": K, "mode": "hybrid"})
            assert code == 200 and not answer.get("words_only"), (code, answer)
            times.append(now() - t0)
        out["after"] = proc_status(proc.pid)
        out["request"] = {"p50": 1000 * median(times[5:]), "p95": 1000 * percentile(times[5:], 95)}
        return out
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- the build (parent) ----------------------------------------------------------------------
def build(
    uri: str, files: list[list[Any]], base: np.ndarray, n_real: int, qvecs: np.ndarray
) -> dict[str, Any]:
    """Write `files` through ChunkIndex; return timings and brute force's top 10 per query as
    (path, start_line) keys."""
    from jupyter_workspace.sidecar.chunk_store import ChunkIndex

    index = ChunkIndex(uri, sidecar_model_id(), DIM)
    index.open()
    best_scores = np.full((len(qvecs), K), -np.inf, dtype=np.float32)
    best_keys: list[list[tuple[str, int]]] = [[("", 0)] * K for _ in qvecs]
    row = 0
    started = now()
    brute = 0.0
    for at in range(0, len(files), WRITE_PATHS):
        group = files[at : at + WRITE_PATHS]
        count = sum(len(f) for f in group)
        vectors = row_vectors(base, row, count, n_real)
        items, offset = [], 0
        for f in group:
            items.append((f[0].path, f, vectors[offset : offset + len(f)]))
            offset += len(f)
        index.replace_many(items)
        t = now()
        keys = [(c.path, c.start_line) for f in group for c in f]
        scores = qvecs @ vectors.T  # (queries, rows)
        for q in range(len(qvecs)):
            merged = np.concatenate([best_scores[q], scores[q]])
            top = np.argsort(-merged, kind="stable")[:K]
            best_keys[q] = [best_keys[q][i] if i < K else keys[i - K] for i in top]
            best_scores[q] = merged[top]
        brute += now() - t
        row += count
    written = now() - started - brute
    t = now()
    index.optimize()  # folds the rows written since the first batch into the FTS index
    folded = now() - t
    assert index.chunk_count == row, (index.chunk_count, row)
    del index
    gc.collect()
    return {"rows": row, "write_s": written, "optimize_s": folded, "truth": best_keys}


# -- the measurement (child) -----------------------------------------------------------------
def measure(uri: str, qfile: str, out: str) -> None:
    import psutil

    from jupyter_workspace.sidecar.chunk_store import ChunkIndex, Filters

    data = np.load(qfile)
    qvecs = data["vectors"]
    queries = json.loads(str(data["queries"]))
    proc = psutil.Process()
    rss_before = proc.memory_info().rss
    t = now()
    index = ChunkIndex(uri, sidecar_model_id(), DIM)
    index.open()
    open_s = now() - t
    from jupyter_workspace.sidecar import chunk_store

    chunk_store._COMPILED.want(index._m.size)  # as a 1M index's first search does
    if chunk_store._COMPILED.loading is not None:  # their ~130 MiB are in the index's RSS
        chunk_store._COMPILED.loading.join()
    gc.collect()
    rss = proc.memory_info().rss
    side = ThreadPoolExecutor(1)
    result: dict[str, Any] = {
        "open_s": open_s,
        "rss_mib": rss / 2**20,
        "rss_index_mib": (rss - rss_before) / 2**20,
    }

    def run_round(label: str) -> None:
        times: dict[str, list[float]] = {"hybrid": [], "vector": [], "text": []}
        tops: list[list[tuple[str, int]]] = []
        for q, qv in zip(queries, qvecs, strict=True):
            t0 = now()
            text = side.submit(index.text_search, q, index.pool(K), Filters())
            index.search(q, qv, K, "hybrid", Filters(), text_hits=text)
            t1 = now()
            with index._lock:
                ranked = index._vector_ranking(qv, K, Filters())
            t2 = now()
            index.search(q, None, K, "text", Filters())
            t3 = now()
            times["hybrid"].append(t1 - t0)
            times["vector"].append(t2 - t1)
            times["text"].append(t3 - t2)
            m = index._m
            tops.append(
                [(m.names["path"][m.codes["path"][s]], int(m.lines[0, s])) for s, _ in ranked]
            )
        result[label] = {
            name: {"p50": 1000 * median(v), "p95": 1000 * percentile(v, 95)}
            for name, v in times.items()
        }
        result[label]["tops"] = tops

    for q, qv in zip(queries[:5], qvecs[:5], strict=True):  # warm-up
        index.search(q, qv, K, "hybrid", Filters())
    run_round("quiet")
    load = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        run_round("loaded")
    finally:
        load.kill()
        load.wait()
    result["rss_after_mib"] = proc.memory_info().rss / 2**20
    # recall and latency of the vector half as CANDIDATES and RESCORE vary
    sweep = {}
    compiled = chunk_store._COMPILED.ready()
    defaults = chunk_store.CANDIDATES, chunk_store.RESCORE, chunk_store.CANDIDATE_SHARE
    for arm in SWEEP:
        candidates, rescore, scans = arm or (defaults[0], defaults[1], True)
        chunk_store.CANDIDATES, chunk_store.RESCORE = candidates, rescore
        chunk_store.CANDIDATE_SHARE = defaults[2] if arm is None else 0.0
        chunk_store._COMPILED._module = compiled if scans else None
        tops, times = [], []
        for qv in qvecs:
            t0 = now()
            with index._lock:
                ranked = index._vector_ranking(qv, K, Filters())
            times.append(now() - t0)
            m = index._m
            tops.append(
                [(m.names["path"][m.codes["path"][s]], int(m.lines[0, s])) for s, _ in ranked]
            )
        label = f"{candidates or 'none'} -> {rescore}" + ("" if scans else ", numpy scans")
        if arm is None:
            label = f"defaults (max({candidates}, {defaults[2]:.0%})) -> {rescore}"
        sweep[label] = {
            "tops": tops,
            "p50": 1000 * median(times),
            "p95": 1000 * percentile(times, 95),
        }
    chunk_store._COMPILED._module = compiled
    chunk_store.CANDIDATES, chunk_store.RESCORE, chunk_store.CANDIDATE_SHARE = defaults
    result["sweep"] = sweep
    result["compiled"] = compiled is not None
    # float32 brute force over the same rows, for comparison (maps the whole vector file)
    m = index._m
    brute = []
    for qv in qvecs[:20]:
        t0 = now()
        scores = m.vectors.rows[: m.size] @ qv
        scores[~m.embedded[: m.size]] = -np.inf
        np.argpartition(-scores, K)[:K]
        brute.append(now() - t0)
    result["brute"] = {"p50": 1000 * median(brute), "p95": 1000 * percentile(brute, 95)}
    Path(out).write_text(json.dumps(result))


# -- main ------------------------------------------------------------------------------------
def main() -> None:
    from jupyter_workspace import protocol
    from jupyter_workspace.sidecar.embedder import load_embedder

    print(
        f"load average {os.getloadavg()}; row vectors: real + up to {MIX} of another + noise",
        flush=True,
    )
    chunks, chunk_s = real_chunks(N_REAL)
    print(f"{len(chunks)} real chunks in {chunk_s:.1f} s", flush=True)
    embedder = load_embedder()
    step = max(1, len(chunks) // N_EMBED)
    sample = chunks[::step][:N_EMBED]
    texts = [c.embedding_text() for c in sample]
    t = now()
    base = cached_vectors(texts, embedder)
    embed_s = now() - t
    print(
        f"{len(sample)} chunks embedded in {embed_s:.1f} s ({len(sample) / embed_s:.0f}/s)",
        flush=True,
    )
    queries = queries_of(chunks, N_QUERIES)
    t = now()
    qvecs = np.asarray(embedder.embed(queries), dtype=np.float32)
    query_embed_ms = 1000 * (now() - t) / len(queries)
    del embedder
    gc.collect()
    rows_out = []
    lat_rows = []
    sweep_rows: list[list[str]] = []
    sidecar_rows: list[list[str]] = []
    for size in SIZES:
        files = copies(chunks, size)
        with tempfile.TemporaryDirectory(prefix="bench-scale-", dir="/var/tmp") as tmp:
            uri = str(Path(tmp) / "index")
            t = now()
            built = build(uri, files, base, len(chunks), qvecs)
            build_s = now() - t
            qfile, out = str(Path(tmp) / "q.npz"), str(Path(tmp) / "out.json")
            np.savez(qfile, vectors=qvecs, queries=json.dumps(queries))
            env = {
                **protocol.SIDECAR_ENV_DEFAULTS,  # as the server starts its sidecar
                **os.environ,
                "PYTHONPATH": os.pathsep.join(
                    [str(Path(__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")]
                ),
            }
            subprocess.run(
                [sys.executable, __file__, "--measure", uri, qfile, out], check=True, env=env
            )
            got = json.loads(Path(out).read_text())
            sidecar = whole_sidecar(uri, queries)
            sidecar_rows.append(
                [
                    f"{size:,}",
                    f"{sidecar['ready_s']:.0f} s",
                    f"{sidecar['ready']['VmRSS']:.0f} MiB",
                    f"{sidecar['after']['VmRSS']:.0f} MiB",
                    f"{sidecar['after']['VmHWM']:.0f} MiB",
                    f"{sidecar['request']['p50']:.1f} / {sidecar['request']['p95']:.1f}",
                ]
            )
            disk = sum(f.stat().st_size for f in Path(uri).rglob("*") if f.is_file())
            if KEEP:  # for `--measure` runs on the same index while tuning
                import shutil

                kept = Path(KEEP) / f"{size}"
                shutil.rmtree(kept, ignore_errors=True)
                shutil.copytree(uri, kept / "index")
                shutil.copy(qfile, kept / "q.npz")
                (kept / "truth.json").write_text(json.dumps(built["truth"]))
        truth = built["truth"]
        recall = {
            label: float(
                np.mean(
                    [
                        len({tuple(x) for x in top} & set(t)) / K
                        for top, t in zip(got[label]["tops"], truth, strict=True)
                    ]
                )
            )
            for label in ("quiet", "loaded")
        }
        for rescore, r in got["sweep"].items():
            hits = [
                len({tuple(x) for x in top} & set(t)) / K
                for top, t in zip(r["tops"], truth, strict=True)
            ]
            sweep_rows.append(
                [
                    f"{size:,}",
                    rescore,
                    f"{np.mean(hits):.4f}",
                    # the halves: the settings were tuned on the identifiers (even queries)
                    f"{np.mean(hits[::2]):.4f} / {np.mean(hits[1::2]):.4f}",
                    f"{r['p50']:.1f} / {r['p95']:.1f}",
                ]
            )
        rows_out.append(
            [
                f"{size:,}",
                f"{built['write_s']:.0f} s",
                f"{built['optimize_s']:.0f} s",
                f"{got['open_s']:.1f} s",
                f"{got['rss_mib']:.0f} MiB",
                f"{got['rss_index_mib']:.0f} MiB",
                f"{got['rss_after_mib']:.0f} MiB",
                f"{disk / 2**20:.0f} MiB",
                f"{recall['quiet']:.4f}",
            ]
        )
        for label in ("quiet", "loaded"):
            r = got[label]
            lat_rows.append(
                [
                    f"{size:,}",
                    label,
                    *(
                        f"{r[n]['p50']:.1f} / {r[n]['p95']:.1f}"
                        for n in ("hybrid", "vector", "text")
                    ),
                    f"{got['brute']['p50']:.1f} / {got['brute']['p95']:.1f}"
                    if label == "quiet"
                    else "",
                ]
            )
        print(f"size {size:,} done (build {build_s:.0f} s)", flush=True)
    print(
        f"\nqueries: {len(queries)} (e.g. {queries[:4]}); query embedding "
        f"{query_embed_ms:.1f} ms each (batched), not in the latencies below; "
        f"load average now {os.getloadavg()}"
    )
    print(
        table(
            [
                "rows",
                "write",
                "optimize (FTS)",
                "open",
                "RSS",
                "RSS of the index",
                "RSS after queries",
                "on disk",
                "recall@10",
            ],
            rows_out,
        )
    )
    print()
    print(
        table(
            ["rows", "machine", "hybrid p50 / p95 ms", "vector", "text", "fp32 brute force"],
            lat_rows,
        )
    )
    print()
    print(
        table(
            [
                "rows",
                "asymmetric of -> exact",
                "recall@10",
                "identifiers / phrases",
                "vector half p50 / p95 ms",
            ],
            sweep_rows,
        )
    )
    print()
    print(
        table(
            [
                "rows",
                "whole sidecar ready after",
                "RSS ready",
                "RSS after queries",
                "peak (VmHWM)",
                "hybrid request p50 / p95 ms",
            ],
            sidecar_rows,
        )
    )


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--measure":
        measure(*sys.argv[2:])
    else:
        main()
