"""A/B in one run: LanceDB's cache caps 64+16 MiB (before) vs 16+8 MiB (chunk_store.py now) for
full-text queries at 100k synthetic rows (bench_index section 5's generator), the two table
handles alternating in rounds so that the machine's load falls on both (issue 13).

    .venv/bin/python bench/ab_lance_cache.py
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from index_search100k import arrow_table, synthetic_rows, vocabulary

from jupyter_workspace.sidecar import chunk_store
from jupyter_workspace.sidecar.chunk_store import ChunkIndex, Filters

N, DIM, ROUNDS, PER_ROUND = 100_000, 384, 4, 50
CAPS = {"64+16 MiB": (64 << 20, 16 << 20), "16+8 MiB": (16 << 20, 8 << 20)}


def main() -> None:
    rng = random.Random(5)
    words = vocabulary()
    cols = synthetic_rows(N, rng, words)
    vectors = np.random.default_rng(3).standard_normal((N, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    uri = tempfile.mkdtemp(prefix="jw-ab-cache-") + "/index"
    built = ChunkIndex(uri, "m", DIM)
    built.open()
    built._table.add(arrow_table(cols, vectors, 0, N))
    built._build_fts()
    handles = {}
    for name, (index_bytes, metadata_bytes) in CAPS.items():
        chunk_store.INDEX_CACHE_BYTES, chunk_store.METADATA_CACHE_BYTES = (
            index_bytes,
            metadata_bytes,
        )
        handles[name] = ChunkIndex(uri, "m", DIM)
        handles[name].open()
    queries = [
        " ".join(rng.choice(words[20:3000]) for _ in range(rng.randint(2, 4)))
        for _ in range(ROUNDS * PER_ROUND)
    ]
    for handle in handles.values():  # warm-up
        for q in queries[:10]:
            handle.text_search(q, 50, Filters())
    latencies: dict[str, list[float]] = {name: [] for name in CAPS}
    for r in range(ROUNDS):
        order = list(CAPS) if r % 2 == 0 else list(CAPS)[::-1]
        for name in order:
            for q in queries[r * PER_ROUND : (r + 1) * PER_ROUND]:
                started = time.perf_counter()
                handles[name].text_search(q, 50, Filters())
                latencies[name].append((time.perf_counter() - started) * 1000)
    for name, values in latencies.items():
        values.sort()
        cache = handles[name]._session.size_bytes / 2**20
        print(
            f"{name}: text_search p50 {values[len(values) // 2]:.1f} ms, "
            f"p95 {values[int(len(values) * 0.95)]:.1f} ms; cache holds {cache:.1f} MiB"
        )


if __name__ == "__main__":
    main()
