"""Section 1 of bench_index.py, in process: cold index throughput (what it measures:
bench_index.py)."""

from __future__ import annotations

import contextlib
import gc
import os
import threading
from pathlib import Path
from typing import Any

from _harness import median
from index_shared import (
    BATCH_FILES,
    MODEL,
    N_FILES,
    SLICES,
    Loaded,
    corpus_sources,
    fts_state,
    last_py,
    load_service,
    ms,
    now,
    tmpdir,
)


# -- 1. cold index throughput, in process ----------------------------------------------------
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
