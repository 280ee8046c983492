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

Each section lives in its own module beside this one (in process, 1: index_cold.py; the server's
1, 2 and 4: index_server.py; 3: index_rescan.py; 5: index_search100k.py; 6: index_rss.py), on
top of index_shared.py (knobs, clean-up, corpus) and _harness.py; index_report.py prints the
summary. This script is the entry point: it runs the sections in order and reports.

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

import os
import sys
import traceback
from pathlib import Path
from typing import Any

from index_cold import section_throughput
from index_report import report
from index_rescan import section_rescan
from index_rss import section_rss
from index_search100k import section_search
from index_server import section_server
from index_shared import (
    N_CHUNKS,
    N_FILES,
    N_QUERIES,
    SAVES,
    SCAN_FILES,
    SECTIONS,
    cleanup,
    now,
)


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
        except Exception as e:  # report, go on with the other sections
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
    cleanup()


if __name__ == "__main__":
    main()
