"""Cold indexing throughput of `jupyter workspace index`: the local model, and a remote
embedding endpoint at several concurrency levels (issue 19).

Corpus: the zstandard 0.25.0 sdist (C: zstd's library and the Python binding; nobody here
wrote it), downloaded once by pip as bench_search.py's sdists are (`--sdist NAME` takes
another of bench_search.SDISTS). The command runs as a subprocess, as CI would run it, each
arm into a fresh `--uri` (the tree is not written to), with `--json` for its summary.

Arms:

1. local: the default backend (auto → onnx-int8 on this machine's cores).
2. remote: `openai:bench` against tests/fake_embeddings.py playing a GPU
   text-embeddings-inference: every request answers after 50 ms + 1 ms per text (a GPU's
   latency for a batch of short texts, round trip included), batch 32, at concurrency 1, 2, 4
   and 8. Its vectors are seeded by the text's hash (a few µs each: a GPU server's CPU is not
   the client's), but the JSON of 32 × 384 floats is really encoded here and decoded by the
   indexer. The fake answers every request in parallel (a GPU with capacity to spare: a real
   one queues past its own batch limit).
3. ceiling: the same at concurrency 8 with no latency at all: what reading, chunking, the
   HTTP round trips and writing cost by themselves.
4. rerun: the same tree again into arm 1's index: nothing changed, so nothing is read for
   hashing and nothing embedded.

Reported per arm: chunks, chunks/s (indexing time: the model's load excluded), the run's
wall time, requests and the most in flight at once, and what 1M chunks would take at that
rate. The machine's cores are shared by the indexer and, in the remote arms, the fake server
(its CPU seconds are shown).

Knobs: BENCH_HEADLESS_CONCURRENCY (default "1,2,4,8"), BENCH_HEADLESS_LATENCY_MS (50),
BENCH_HEADLESS_PER_TEXT_MS (1), BENCH_HEADLESS_BATCH (32), BENCH_HEADLESS_SKIP_LOCAL=1.
Prints figures only; asserts nothing about timings.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import table  # noqa: E402
from bench_search import sdist  # noqa: E402

from tests.fake_embeddings import FakeEmbeddings  # noqa: E402

MILLION = 1_000_000


def index(tree: Path, uri: Path, *args: str) -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter_workspace.server.app",
            "index",
            str(tree),
            "--uri",
            str(uri),
            "--json",
            "--progress-interval",
            "1000",
            *args,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=3600,
    )
    wall = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"index failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1]), wall


def million(rate: float) -> str:
    if not rate:
        return "-"
    seconds = MILLION / rate
    return f"{seconds / 3600:.1f} h" if seconds >= 3600 else f"{seconds / 60:.0f} min"


def row(name: str, summary: dict[str, Any], wall: float, extra: str = "") -> list[str]:
    requests = summary.get("requests") or {}
    return [
        name,
        f"{summary['files_indexed']:,}",
        f"{summary['chunks_written']:,}",
        f"{summary['chunks_embedded']:,}",
        f"{summary['chunks_per_s']:,.0f}",
        f"{summary['index_seconds']:.1f}",
        f"{wall:.1f}",
        f"{requests.get('requests', 0):,}" if requests else "-",
        str(requests.get("max_in_flight", "-")) if requests else "-",
        million(summary["chunks_per_s"]) if summary["chunks_written"] else "-",
        extra,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sdist", default="zstandard")
    args = parser.parse_args()
    tree = sdist(args.sdist)
    levels = [
        int(x) for x in os.environ.get("BENCH_HEADLESS_CONCURRENCY", "1,2,4,8").split(",") if x
    ]
    latency = float(os.environ.get("BENCH_HEADLESS_LATENCY_MS", "50")) / 1000
    per_text = float(os.environ.get("BENCH_HEADLESS_PER_TEXT_MS", "1")) / 1000
    batch = os.environ.get("BENCH_HEADLESS_BATCH", "32")
    work = Path(tempfile.mkdtemp(prefix="bench-headless-"))
    rows: list[list[str]] = []
    headers = [
        "arm",
        "files",
        "chunks",
        "embedded",
        "chunks/s",
        "indexing s",
        "wall s",
        "requests",
        "max in flight",
        "1M chunks",
        "notes",
    ]
    print(f"corpus: {tree.name} ({sum(1 for p in tree.rglob('*') if p.is_file())} files)")
    print(
        f"machine: {os.cpu_count()} cores, {platform.platform()}, "
        f"Python {platform.python_version()}"
    )
    try:
        if os.environ.get("BENCH_HEADLESS_SKIP_LOCAL") != "1":
            summary, wall = index(tree, work / "local")
            rows.append(
                row(
                    f"local {summary['model_id']}",
                    summary,
                    wall,
                    f"model load {summary['load_seconds']:.1f} s",
                )
            )
            print(table(headers, rows), flush=True)
            again, wall = index(tree, work / "local")
            rows.append(
                row(
                    "rerun, unchanged tree",
                    again,
                    wall,
                    f"{again['files_unchanged']:,} files unchanged",
                )
            )
        fake = FakeEmbeddings(cheap=True)
        try:
            arms = [(c, latency, per_text) for c in levels] + [(max(levels), 0.0, 0.0)]
            for concurrency, delay, text_delay in arms:
                fake.delay, fake.per_text = delay, text_delay
                cpu = time.process_time()
                summary, wall = index(
                    tree,
                    work / f"remote-{concurrency}-{delay}",
                    "--embedding-backend",
                    "openai:bench",
                    "--api-base",
                    fake.url,
                    "--concurrency",
                    str(concurrency),
                    "--batch-size",
                    batch,
                )
                name = (
                    f"remote, concurrency {concurrency}"
                    if delay
                    else f"remote, concurrency {concurrency}, 0 ms (ceiling)"
                )
                rows.append(
                    row(
                        name,
                        summary,
                        wall,
                        f"fake server CPU {time.process_time() - cpu:.1f} s",
                    )
                )
                print(table(headers, rows), flush=True)
        finally:
            fake.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    print(
        f"remote: {latency * 1000:.0f} ms + {per_text * 1000:.0f} ms/text per request, "
        f"batch {batch}"
    )
    print(table(headers, rows))


if __name__ == "__main__":
    main()
