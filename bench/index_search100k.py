"""Section 5 of bench_index.py: search latency at 100k chunks (what it measures: bench_index.py)."""

from __future__ import annotations

import contextlib
import gc
import random
import re
import sysconfig
from pathlib import Path
from typing import Any

from _harness import median, percentile
from index_shared import (
    DIM,
    FILLS,
    MODEL,
    N_CHUNKS,
    N_LANCE,
    N_QUERIES,
    Loaded,
    fts_state,
    load_service,
    ms,
    now,
    rmtree,
    tmpdir,
)

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
        _ = m.vectors.rows[: m.size] @ qv
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
