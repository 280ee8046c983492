"""What an open index costs the sidecar in memory, per chunk (issue 19: docs/deploy.md sizes
JupyterHub user pods with it).

The sidecar keeps every chunk's vector in an in-memory mirror (384 fp32 values) and some of
each row besides; that is what grows with a user's index, the rest of the sidecar does not.
Method: synthetic chunks as `index_search100k.py` makes them (stdlib words, Zipf-distributed,
10 chunks a file, unit random vectors) written to a LanceDB index at two sizes, each opened in
a fresh process by `ChunkIndex.open()` as a sidecar start does; `VmRSS` before the open (the
imports done), after it, after 20 full-text and 20 hybrid searches (which load the FTS
index), and after `malloc_trim(0)` (what is held, not the allocator's free lists: the pod's
memory counts both). With `MALLOC_ARENA_MAX=2` and one OpenBLAS thread, as the server starts
its sidecar. The per-chunk cost is the slope between the two sizes, which cancels what any open
costs regardless of size.

Then the sidecar itself (`python -m jupyter_workspace.sidecar`, an empty index), once with the
default local model (`auto`: ONNX int8, the model cache of this user) and once with
`openai:<model>` against `tests/fake_embeddings.py` (an OpenAI-compatible server in this
process): `VmRSS` when `/health` says the sidecar and its index are ready, i.e. what a remote
embedding backend saves each user's sidecar.

    python3 bench/bench_memory.py              # ~1.5-2 min
    BENCH_MEMORY_SIZES=20000,200000 python3 bench/bench_memory.py
"""

from __future__ import annotations

import json
import os
import random
import secrets
import subprocess
import sys
import time
from pathlib import Path

from _harness import table
from index_search100k import arrow_table, synthetic_rows, vocabulary
from index_shared import DIM, MODEL, Http, proc_status, rmtree, tmpdir

from jupyter_workspace import protocol

SIZES = [int(n) for n in os.environ.get("BENCH_MEMORY_SIZES", "10000,100000").split(",")]
MODEL_ID = "bench-memory/synthetic"  # recorded in the index; the child opens with the same
REPO = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, os, random, sys, time
import numpy as np, lancedb, pyarrow  # noqa: F401  (imported before the baseline)
from jupyter_workspace.sidecar.chunk_store import ChunkIndex, Filters

def rss():
    with open(f"/proc/{os.getpid()}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:")) / 1024

uri, model_id, dim, words = sys.argv[1], sys.argv[2], int(sys.argv[3]), json.loads(sys.argv[4])
out = {"imports": rss()}
t = time.monotonic()
index = ChunkIndex(uri, model_id, dim)
index.open()
out["open_s"] = time.monotonic() - t
out["opened"] = rss()
out["chunks"] = index.chunk_count
rng = random.Random(7)
vectors = np.random.default_rng(9).standard_normal((20, dim)).astype(np.float32)
for i in range(20):
    q = " ".join(rng.choice(words) for _ in range(3))
    index.search(q, None, mode="text", filters=Filters())
    index.search(q, vectors[i] / np.linalg.norm(vectors[i]), mode="hybrid", filters=Filters())
out["searched"] = rss()
import ctypes, gc
gc.collect()
ctypes.CDLL("libc.so.6").malloc_trim(0)  # what is left is held, not the allocator's free lists
out["trimmed"] = rss()
print(json.dumps(out))
"""


def build(n: int, words: list[str]) -> Path:
    import numpy as np

    from jupyter_workspace.sidecar.chunk_store import ChunkIndex

    uri = tmpdir(f"jw-bench-memory-{n}-") / "index"
    cols = synthetic_rows(n, random.Random(5), words)
    vectors = np.random.default_rng(3).standard_normal((n, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = ChunkIndex(str(uri), MODEL_ID, DIM)
    index.open()
    index._table.add(arrow_table(cols, vectors, 0, n))
    index._build_fts()
    return uri


def measure(uri: Path, words: list[str]) -> dict[str, float]:
    env = {  # as the server starts its sidecar, unless the environment says otherwise
        **protocol.SIDECAR_ENV_DEFAULTS,
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(uri), MODEL_ID, str(DIM), json.dumps(words[20:3000])],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the measuring process failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def sidecar_ready_rss(backend: str, extra_env: dict[str, str]) -> dict[str, float]:
    """Start a sidecar on an empty index with `backend`; its RSS once it and its index are
    ready (the model and litellm loaded)."""
    work = tmpdir("jw-bench-memory-sidecar-")
    token = secrets.token_urlsafe(32)
    path = os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])
    env = {
        **protocol.SIDECAR_ENV_DEFAULTS,  # as the server starts its sidecar
        **os.environ,
        "PYTHONPATH": path,
        protocol.SIDECAR_TOKEN_ENV: token,
        protocol.INDEX_URI_ENV: str(work / "index"),
        protocol.EMBEDDING_MODEL_ENV: MODEL,
        protocol.EMBEDDING_BACKEND_ENV: backend,
        **extra_env,
    }
    env.pop(protocol.SIDECAR_PARENT_ENV, None)
    started = time.monotonic()
    with open(work / "sidecar.log", "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter_workspace.sidecar"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            cwd=work,
            env=env,
        )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()  # the ready line, with the port
        if not line:
            raise RuntimeError(f"no port: {(work / 'sidecar.log').read_text()[-2000:]}")
        client = Http(json.loads(line.split(" ", 1)[1])["port"], f"Bearer {token}")
        deadline = time.monotonic() + 150
        while True:
            code, health = client.request("GET", "/health", timeout=5)
            # the index is ready before the model and litellm have loaded (words first):
            # wait for both
            states = (health["state"], health["index"]["state"]) if code == 200 else ()
            state = "/".join(states)
            if states == ("ready", "ready"):
                break
            if "failed" in states or proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"{backend}: index {state}: {(work / 'sidecar.log').read_text()[-2000:]}"
                )
            time.sleep(0.1)
        ready_s = time.monotonic() - started
        time.sleep(0.5)
        status = proc_status(proc.pid)
        client.close()
        return {"ready_s": ready_s, "rss": status["VmRSS"], "hwm": status["VmHWM"]}
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        rmtree(work)


def sidecars() -> None:
    sys.path.insert(0, str(REPO))
    from tests.fake_embeddings import FakeEmbeddings

    fake = FakeEmbeddings(cheap=True)
    try:
        local = sidecar_ready_rss("auto", {})
        remote = sidecar_ready_rss(
            f"openai:{MODEL}", {"JUPYTER_WORKSPACE_EMBEDDING_API_BASE": fake.url}
        )
    finally:
        fake.stop()
    print()
    print(
        table(
            ["sidecar, empty index", "ready after s", "RSS MiB", "peak (VmHWM) MiB"],
            [
                [name, f"{r['ready_s']:.1f}", f"{r['rss']:.0f}", f"{r['hwm']:.0f}"]
                for name, r in (("auto (local ONNX int8)", local), ("openai: (remote)", remote))
            ],
        )
    )
    print(f"a remote embedding backend saves {local['rss'] - remote['rss']:.0f} MiB when ready")


def main() -> None:
    if len(SIZES) != 2 or not 0 < SIZES[0] < SIZES[1]:
        sys.exit("BENCH_MEMORY_SIZES: two sizes, the smaller first")
    started = time.monotonic()
    load = os.getloadavg()[0]
    words = vocabulary()
    results: dict[int, dict[str, float]] = {}
    for n in SIZES:
        t = time.monotonic()
        uri = build(n, words)
        built = time.monotonic() - t
        results[n] = measure(uri, words)
        if results[n]["chunks"] != n:
            sys.exit(f"the index opened with {results[n]['chunks']} chunks, not {n}")
        print(f"{n} chunks: built {built:.1f} s; {json.dumps(results[n])}", flush=True)
        rmtree(uri.parent)
    small, big = (results[n] for n in SIZES)
    span = SIZES[1] - SIZES[0]
    rows = []
    for n in SIZES:
        r = results[n]
        rows.append(
            [
                f"{n:,}",
                f"{r['imports']:.0f}",
                f"{r['opened']:.0f} (+{r['opened'] - r['imports']:.0f})",
                f"{r['searched']:.0f} (+{r['searched'] - r['imports']:.0f})",
                f"{r['trimmed']:.0f} (+{r['trimmed'] - r['imports']:.0f})",
                f"{r['open_s']:.1f}",
            ]
        )
    print()
    print(
        table(
            [
                "chunks",
                "RSS after imports MiB",
                "after open MiB",
                "after 40 searches MiB",
                "after malloc_trim MiB",
                "open s",
            ],
            rows,
        )
    )
    for key, what in (
        ("opened", "after open"),
        ("searched", "after searches"),
        ("trimmed", "held (after malloc_trim)"),
    ):
        per = (big[key] - big["imports"] - (small[key] - small["imports"])) * 1024 * 1024 / span
        print(f"per chunk, {what}: {per:.0f} bytes (the vector alone: {DIM * 4} bytes)")
    sidecars()
    print(
        f"\n{time.monotonic() - started:.0f} s; load average {load:.2f} at the start, "
        f"{os.getloadavg()[0]:.2f} at the end; {os.cpu_count()} cores"
    )


if __name__ == "__main__":
    main()
