"""Search over a shared base index + a local overlay, against one table of the same tree.

What it measures (issue 19, "overlay search overhead vs a single table"): a base index built by
`jupyter workspace index` from a tree of real code (CPython's standard library, as installed),
then a user's working copy of it with a few files changed, added and deleted. The same queries,
in the same run, interleaved, against:

- **single**: one local table of the working copy (what a user without a base has);
- **overlay (folder)**: the base in a folder, opened read-only, under a local overlay;
- **overlay (S3)**: the same base in moto's S3 server on loopback (`moto[server]`), when
  installed: every base full-text query is an S3 request, as it would be from a bucket.

Timed: the index's own search (`ChunkIndex.search`, the overlay's `OverlayIndex.search`) with
the query's vector computed beforehand, the full-text half included (embedding the query is the
same request for every arm, and its latency over loopback HTTP is not the index's).
For each mode (hybrid, text, vector): p50 / p95 latency of each query's first ask (words
never asked: postings read, the overlay's per-word answers not yet remembered) and of the
ROUNDS asks after it, the overlay's overhead (p50 ratio),
and how far its top 10 agrees with the single table's (share of the single table's top-10
passages also in the overlay's). Embeddings come from tests/fake_embeddings.py (a hashed bag of
words over HTTP, as the `openai:` backend sees a server), so the figures are the index's, not
a model's.

    python bench/bench_overlay.py            # ~400 files
    BENCH_OVERLAY_FILES=1200 python bench/bench_overlay.py

Queries: the symbols of every 7th definition chunk of the working copy, and the first words of
every 11th docstring-bearing chunk, up to 120 (chosen by that rule, not by hand).
"""

from __future__ import annotations

import io
import logging
import os
import random
import re
import shutil
import sys
import sysconfig
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from _harness import median, percentile, table  # noqa: E402

from jupyter_workspace.headless.index import Options, run  # noqa: E402
from jupyter_workspace.sidecar.chunk_store import Filters  # noqa: E402
from jupyter_workspace.sidecar.embedder import openai_http  # noqa: E402
from jupyter_workspace.sidecar.index_service import IndexService  # noqa: E402
from jupyter_workspace.sidecar.overlay import BaseSource  # noqa: E402
from tests.fake_embeddings import FakeEmbeddings  # noqa: E402

FILES = int(os.environ.get("BENCH_OVERLAY_FILES", "400"))
CHANGED, ADDED, DELETED = 12, 6, 6
ROUNDS = int(os.environ.get("BENCH_OVERLAY_ROUNDS", "3"))
BACKEND = "openai:bench-embed"


def corpus(dest: Path) -> list[str]:
    """The first FILES .py files of the standard library (sorted paths, tests left out)."""
    lib = Path(sysconfig.get_paths()["stdlib"])
    picked: list[str] = []
    for path in sorted(lib.rglob("*.py")):
        rel = path.relative_to(lib).as_posix()
        if any(part in rel for part in ("test", "site-packages", "idlelib", "lib2to3")):
            continue
        if path.stat().st_size > 200_000:
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        picked.append(rel)
        if len(picked) == FILES:
            break
    return picked


def edit(root: Path, files: list[str]) -> tuple[list[str], list[str], list[str]]:
    """The user's changes: a function renamed and its body extended in CHANGED files, ADDED
    new modules, DELETED files removed (every choice by a fixed seed)."""
    rng = random.Random(19)
    chosen = rng.sample(files, CHANGED + DELETED)
    changed, deleted = chosen[:CHANGED], chosen[CHANGED:]
    for rel in changed:
        path = root / rel
        text = path.read_text(encoding="utf-8", errors="replace")
        names = re.findall(r"^def (\w+)\(", text, flags=re.M)
        if names:
            old = names[len(names) // 2]
            text = re.sub(rf"\bdef {old}\(", f"def {old}_revised(", text, count=1)
        text += (
            f"\n\ndef overlay_probe_{len(text)}(frame):\n"
            "    '''Checksum of a telemetry frame.'''\n    return sum(frame) % 251\n"
        )
        path.write_text(text, encoding="utf-8")
    added = []
    for i in range(ADDED):
        rel = f"user_added/module_{i}.py"
        (root / "user_added").mkdir(exist_ok=True)
        (root / rel).write_text(
            f"def scheduler_step_{i}(queue, budget):\n"
            f"    '''Run queued jobs until the budget of {i + 3} ms is spent.'''\n"
            "    spent = 0\n    while queue and spent < budget:\n"
            "        spent += queue.pop(0)()\n    return spent\n"
        )
        added.append(rel)
    for rel in deleted:
        (root / rel).unlink()
    return changed, added, deleted


def tree_files(root: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix()
        for p in root.rglob("*.py")
        if ".jupyter-workspace" not in p.parts
    )


def send(service: IndexService, root: Path, files: list[str]) -> dict[str, int]:
    """A coordinator with a new catalog: every file, 16 at a time."""
    embedded = chunks = 0
    for start in range(0, len(files), 16):
        batch = [
            {"path": p, "text": (root / p).read_text(encoding="utf-8", errors="replace")}
            for p in files[start : start + 16]
        ]
        answer = service.index_files(batch)
        embedded += answer["embedded"]
        chunks += answer["chunks"]
    assert service.wait_vectors(600), "vectors did not fill in"
    service.optimize()
    return {"embedded": embedded, "chunks": chunks}


def queries(root: Path, tree: list[str]) -> list[str]:
    """By rule, from the working copy: the name of every 7th definition, and the first six
    words of every 11th docstring, up to 120."""
    names: list[str] = []
    docs: list[str] = []
    for rel in tree:
        text = (root / rel).read_text(encoding="utf-8", errors="replace")
        names += re.findall(r"^\s*(?:def|class) ([A-Za-z_]\w{3,})", text, flags=re.M)
        for doc in re.findall(r'(?:def|class) [^\n]*:\n\s+"""([A-Za-z][^"\n]{15,})', text):
            docs.append(" ".join(doc.split()[:6]))
    picked = list(dict.fromkeys(names[::7] + docs[::11]))
    return random.Random(19).sample(picked, min(120, len(picked)))


def timed(
    service: IndexService, q: str, vector: Any, mode: str
) -> tuple[float, list[tuple[str, int]]]:
    """One search of the index itself, the query's vector given (embedding it is the same
    HTTP request for every arm, and its latency here is the loopback's, not the index's)."""
    index = service.index
    assert index is not None
    started = time.perf_counter()
    results = index.search(q, vector if mode != "text" else None, 10, mode, Filters())
    return time.perf_counter() - started, [(h["path"], h["start_line"]) for h in results]


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    fake = FakeEmbeddings()
    os.environ[openai_http.API_BASE_ENV] = fake.url
    work = Path(tempfile.mkdtemp(prefix="bench-overlay-"))
    try:
        run_bench(work, fake)
    finally:
        fake.stop()
        shutil.rmtree(work, ignore_errors=True)


def run_bench(work: Path, fake: FakeEmbeddings) -> None:
    ci = work / "ci"
    files = corpus(ci)
    clone = work / "clone"
    shutil.copytree(ci, clone)
    quiet = io.StringIO()
    started = time.monotonic()
    base_uri = str(work / "base")
    summary = run(
        Options(ci, uri=base_uri, embedding_backend=BACKEND, api_base=fake.url, stream=quiet)
    )
    build_s = time.monotonic() - started
    print(
        f"base: {summary['files_indexed']} files, {summary['chunks_in_index']} chunks, "
        f"built in {build_s:.1f} s"
    )
    changed, added, deleted = edit(clone, files)
    tree = tree_files(clone)

    arms: dict[str, IndexService] = {}
    single = IndexService(str(work / "single"), "x", BACKEND, None)
    single.load()
    texts = fake.texts
    single_sent = send(single, clone, tree)
    print(f"single: {single_sent['chunks']} chunks, {fake.texts - texts} texts embedded")
    arms["single"] = single

    def overlay(name: str, base: BaseSource) -> None:
        service = IndexService(str(work / f"overlay-{name}"), "x", BACKEND, None, base, clone)
        started = time.monotonic()
        service.load()
        opened = time.monotonic() - started
        before = fake.texts
        sent = send(service, clone, tree)
        status = service.base_status() or {}
        print(
            f"overlay ({name}): opened in {opened:.2f} s; the tree sent: "
            f"{fake.texts - before} texts embedded (of {sent['chunks']} chunks); "
            f"{status.get('overlay_files')} files / {status.get('overlay_chunks')} chunks in "
            f"the overlay, {status.get('files_in_view')} base files in view"
        )
        arms[f"overlay ({name})"] = service

    overlay("folder", BaseSource(base_uri))
    s3 = s3_base(work, ci, fake)
    if s3 is not None:
        overlay("S3", s3)

    asked = queries(clone, tree)
    print(f"{len(asked)} queries; {ROUNDS} rounds; modes hybrid, text, vector")
    vectors = dict(zip(asked, single.embedder.embed(asked), strict=True))
    for mode in ("hybrid", "text", "vector"):
        times: dict[str, list[float]] = {name: [] for name in arms}
        agree: dict[str, list[float]] = {name: [] for name in arms}
        first: dict[str, list[float]] = {name: [] for name in arms}
        for q in asked:  # the first ask: a word's postings read, the overlay's word cache cold
            for name, service in arms.items():
                first[name].append(timed(service, q, vectors[q], mode)[0])
        for _ in range(ROUNDS):
            for q in asked:
                reference: list[tuple[str, int]] = []
                for name, service in arms.items():
                    seconds, top = timed(service, q, vectors[q], mode)
                    times[name].append(seconds)
                    if name == "single":
                        reference = top
                    elif reference:
                        agree[name].append(len(set(top) & set(reference)) / len(reference))
        base_p50 = median(times["single"])
        rows = []
        for name in arms:
            p50, p95 = median(times[name]), percentile(times[name], 95)
            rows.append(
                [
                    name,
                    f"{median(first[name]) * 1000:.1f} / {percentile(first[name], 95) * 1000:.1f}",
                    f"{p50 * 1000:.1f}",
                    f"{p95 * 1000:.1f}",
                    f"{p50 / base_p50:.2f}x",
                    "-" if name == "single" else f"{sum(agree[name]) / len(agree[name]):.3f}",
                ]
            )
        print(f"\n{mode}")
        print(
            table(
                [
                    "arm",
                    "first ask p50 / p95 ms",
                    "p50 ms",
                    "p95 ms",
                    "p50 vs single",
                    "top-10 agreement",
                ],
                rows,
            )
        )
    for service in arms.values():
        service.close()
    print(f"\nchanged {len(changed)}, added {len(added)}, deleted {len(deleted)} files")


def s3_base(work: Path, ci: Path, fake: FakeEmbeddings) -> BaseSource | None:
    """The base again, in moto's S3 on loopback (None when moto[server] is not installed)."""
    try:
        import boto3
        from moto.server import ThreadedMotoServer
    except ImportError:
        print("overlay (S3): skipped, moto[server] is not installed")
        return None
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    options = {
        "aws_endpoint": f"http://{host}:{port}",
        "allow_http": "true",
        "aws_region": "us-east-1",
        "aws_access_key_id": "bench",
        "aws_secret_access_key": "bench",
    }
    boto3.client(
        "s3",
        endpoint_url=options["aws_endpoint"],
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        region_name="us-east-1",
    ).create_bucket(Bucket="bench")
    run(
        Options(
            ci,
            uri="s3://bench/index",
            embedding_backend=BACKEND,
            api_base=fake.url,
            storage_options=options,
            stream=io.StringIO(),
        )
    )
    return BaseSource("s3://bench/index", options)


if __name__ == "__main__":
    main()
