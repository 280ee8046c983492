"""The index on disk against its compacted size: after a cold index, and after an hour of edits
(issue 19: an outside run left 777 LanceDB versions and 84 MB where the compacted table is 9.1).

The sidecar's own `IndexService` (in this process, the real model and LanceDB) is driven the
way the coordinator drives it (server/index_feeder.py): batches of `BATCH_FILES` files through
`index_files`, `optimize_soon` whenever the queue empties, the embedding worker filling vectors
and compacting on its own schedule. Corpus: real C and Python nobody here wrote (the sdists of
bench_search.py: zstandard, lz4, pybind11, more-itertools; `--sdist` to choose).

1. cold: every file, then wait until every row has its vector and the worker has had its
   chance to compact (`OPTIMIZE_GAP` + a margin), as a server idles after its first index.
2. edits: `--edits` saves (default 360: one every 10 s for an hour), each one file of the
   corpus with a line changed, sent alone as the coordinator sends a save, with
   `optimize_soon` after each; time is compressed (`--pace` s between saves), so the
   worker's 60 s schedule is what it would be in an hour only if --pace is 10: the figure
   shown is for the pace used.

Each time, at once and once the index has been idle `SETTLE` s (the worker's compaction and
its cleanup passes): bytes on disk and LanceDB versions of the index folder, against a copy
of the same folder compacted with every old version removed (`optimize(cleanup_older_than=0,
delete_unverified=True)`). Prints figures only; asserts nothing.
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import table  # noqa: E402
from bench_search import SDISTS, sdist  # noqa: E402

from jupyter_workspace.sidecar import index_service  # noqa: E402
from jupyter_workspace.sidecar.chunk_store import TABLE  # noqa: E402
from jupyter_workspace.sidecar.index_service import IndexService  # noqa: E402

BATCH_FILES = 16  # server/index_feeder.py
# idle time for the worker's compaction (OPTIMIZE_GAP after the last write) and its cleanup
# passes (each KEEP_VERSIONS + 1 s after the one before)
SETTLE = (
    index_service.OPTIMIZE_GAP
    + index_service.CLEANUP_PASSES * (index_service.KEEP_VERSIONS.total_seconds() + 1)
    + 5
)
SOURCE = {".c", ".h", ".cpp", ".hpp", ".cc", ".py", ".pyx", ".md", ".rst", ".txt", ".toml"}


def files_of(trees: list[Path]) -> list[dict[str, str]]:
    found = []
    for tree in trees:
        for path in sorted(tree.rglob("*")):
            if path.is_file() and path.suffix in SOURCE and path.stat().st_size < 1_000_000:
                try:
                    text = path.read_text(encoding="utf-8")
                except UnicodeDecodeError:
                    continue
                rel = f"{tree.name}/{path.relative_to(tree).as_posix()}"
                found.append({"path": rel, "text": text})
    return found


def disk(folder: Path) -> tuple[int, int]:
    """(bytes, versions) of the index folder."""
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    import lancedb

    versions = len(lancedb.connect(str(folder)).open_table(TABLE).list_versions())
    return size, versions


def compacted(folder: Path) -> int:
    """Bytes of a copy of `folder` compacted with every old version removed."""
    import lancedb

    with tempfile.TemporaryDirectory(prefix="bench-disk-compact-") as scratch:
        copy = Path(scratch) / "index"
        shutil.copytree(folder, copy)
        table_ = lancedb.connect(str(copy)).open_table(TABLE)
        table_.optimize(cleanup_older_than=timedelta(0), delete_unverified=True)
        return sum(p.stat().st_size for p in copy.rglob("*") if p.is_file())


def row(label: str, folder: Path, chunks: int) -> list[str]:
    size, versions = disk(folder)
    small = compacted(folder)
    return [
        label,
        str(chunks),
        f"{size / 1e6:.1f}",
        str(versions),
        f"{small / 1e6:.1f}",
        f"{size / small:.2f}×",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sdist", action="append", choices=sorted(SDISTS))
    parser.add_argument("--edits", type=int, default=360)
    parser.add_argument("--pace", type=float, default=0.5, help="seconds between saves")
    args = parser.parse_args()
    names = args.sdist or ["zstandard", "lz4", "pybind11", "more-itertools"]
    files = files_of([sdist(name) for name in names])
    work = Path(tempfile.mkdtemp(prefix="bench-disk-"))
    uri = work / "index"
    svc = IndexService(str(uri), "all-MiniLM-L6-v2", "auto", None)
    rows = []
    try:
        svc.open_early()
        import threading

        loader = threading.Thread(target=svc.load_model)
        loader.start()  # as the sidecar does: text goes in while the model loads
        started = time.monotonic()
        for at in range(0, len(files), BATCH_FILES):
            svc.index_files(files[at : at + BATCH_FILES])
        svc.optimize_soon()
        loader.join()
        assert svc.wait_vectors(3600), "vectors never came"
        cold_s = time.monotonic() - started
        rows.append(row("cold index: at its last vector", uri, svc.index.chunk_count))
        time.sleep(SETTLE)  # the worker's compaction once idle, and its cleanup passes
        chunks = svc.index.chunk_count if svc.index else 0
        print(
            f"cold: {len(files)} files of {', '.join(names)}, {chunks} chunks in {cold_s:.0f} s "
            "(the model loading meanwhile)",
            flush=True,
        )
        rows.append(row(f"cold index: idle {SETTLE:.0f} s", uri, chunks))
        print(table(["when", "chunks", "MB", "versions", "compacted MB", "ratio"], rows))
        rng = random.Random(19)
        started = time.monotonic()
        for i in range(args.edits):
            edited = dict(rng.choice(files))
            lines = edited["text"].split("\n")
            at = rng.randrange(len(lines))
            lines[at] = lines[at] + f"  /* edit {i} */"
            edited["text"] = "\n".join(lines)
            svc.index_files([edited])
            svc.optimize_soon()
            time.sleep(args.pace)
        assert svc.wait_vectors(600)
        print(f"edits: {args.edits} saves in {time.monotonic() - started:.0f} s", flush=True)
        rows.append(row(f"{args.edits} saves {args.pace} s apart: at the last", uri, chunks))
        time.sleep(SETTLE)
        rows.append(row(f"{args.edits} saves: idle {SETTLE:.0f} s", uri, chunks))
        print(table(["when", "chunks", "MB", "versions", "compacted MB", "ratio"], rows))
    finally:
        svc.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
