"""Embedding throughput and quality: the fast backend against sentence-transformers fp32.

Corpus: the standard library's json/, http/ and a few asyncio/ modules, chunked by the
workspace's own chunker (`Chunk.embedding_text()`: path, kind and symbol, then up to ~40 lines),
about 530 chunks, a quarter of them longer than the model's 256 tokens.

1. Load times: the fast backend cold (fresh cache folder: export + fuse + quantize + check),
   then again from that cache (what every later sidecar start pays); the torch reference
   (import sentence-transformers + load).
2. Throughput, interleaved: each round embeds the whole corpus with both, order alternating
   (torch, fast / fast, torch, ...), after one warm-up batch each; torch is
   `SentenceTransformer.encode(batch_size=32)` (it sorts by length too), the fast backend is
   `Embedder.embed(batch_size=32)`. Reported: chunks/s per round, medians, per-round ratios,
   and chunks per CPU-second of this process (all its threads, spinning included), which
   other processes on the machine disturb less than wall time.
3. Quality: cosine of the fast backend's vectors to torch's over the corpus (mean/min/p1);
   35 natural-language queries, each with the chunk(s) that answer it: recall@k and MRR@10
   for both backends, top-5 overlap and top-1 agreement between them; and every chunk as a
   query over the others: the share of its 10 nearest neighbours both backends agree on.

Knobs: BENCH_EMBED_ROUNDS (default 2), BENCH_EMBED_BACKEND (default onnx-int8),
BENCH_EMBED_LIMIT (chunks, default all). Prints figures only; asserts nothing about timings.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import median, percentile, table  # noqa: E402

from jupyter_workspace.sidecar.chunker import Chunk, chunk_file  # noqa: E402

FILES = [
    "json/__init__.py",
    "json/decoder.py",
    "json/encoder.py",
    "json/scanner.py",
    "json/tool.py",
    "http/__init__.py",
    "http/client.py",
    "http/cookies.py",
    "http/server.py",
    "asyncio/locks.py",
    "asyncio/queues.py",
    "asyncio/timeouts.py",
    "asyncio/tasks.py",
    "asyncio/runners.py",
    "asyncio/taskgroups.py",
]

# (query, path, symbols of the chunks that answer it)
QUERIES: list[tuple[str, str, set[str]]] = [
    ("parse a JSON string into a Python object", "json/__init__.py", {"loads"}),
    ("serialize a Python object to a JSON formatted string", "json/__init__.py", {"dumps"}),
    ("write JSON to a file object", "json/__init__.py", {"dump"}),
    (
        "escape non-ASCII characters in a JSON string",
        "json/encoder.py",
        {"py_encode_basestring_ascii", "py_encode_basestring_ascii.replace"},
    ),
    (
        "detect whether JSON bytes are utf-8, utf-16 or utf-32",
        "json/__init__.py",
        {"detect_encoding"},
    ),
    ("decode a JSON object literal into a dict", "json/decoder.py", {"JSONObject"}),
    (
        "error raised for invalid JSON with line and column numbers",
        "json/decoder.py",
        {"JSONDecodeError", "JSONDecodeError.__init__"},
    ),
    ("command line tool to validate and pretty-print JSON", "json/tool.py", {"main"}),
    (
        "enumeration of HTTP status codes with reason phrases",
        "http/__init__.py",
        {"HTTPStatus", "HTTPStatus.__new__"},
    ),
    (
        "send an HTTP request with a method, url, body and headers",
        "http/client.py",
        {"HTTPConnection.request", "HTTPConnection._send_request"},
    ),
    (
        "read a chunked transfer-encoded response body",
        "http/client.py",
        {
            "HTTPResponse._read_chunked",
            "HTTPResponse._readinto_chunked",
            "HTTPResponse._read_next_chunk_size",
            "HTTPResponse._get_chunk_left",
        },
    ),
    (
        "set up a CONNECT tunnel through an HTTP proxy",
        "http/client.py",
        {"HTTPConnection.set_tunnel", "HTTPConnection._tunnel"},
    ),
    ("parse the status line of an HTTP response", "http/client.py", {"HTTPResponse._read_status"}),
    (
        "parse a cookie header string into morsels",
        "http/cookies.py",
        {"BaseCookie.__parse_string", "BaseCookie.load"},
    ),
    ("quote a cookie value that contains special characters", "http/cookies.py", {"_quote"}),
    (
        "serve files from the current directory over HTTP",
        "http/server.py",
        {
            "SimpleHTTPRequestHandler",
            "SimpleHTTPRequestHandler.do_GET",
            "SimpleHTTPRequestHandler.send_head",
        },
    ),
    (
        "generate an HTML page listing the files in a directory",
        "http/server.py",
        {"SimpleHTTPRequestHandler.list_directory"},
    ),
    (
        "map a URL path to a local filesystem path",
        "http/server.py",
        {"SimpleHTTPRequestHandler.translate_path"},
    ),
    (
        "send an error response with an HTML error page",
        "http/server.py",
        {"BaseHTTPRequestHandler.send_error"},
    ),
    (
        "parse the request line and headers of an incoming HTTP request",
        "http/server.py",
        {"BaseHTTPRequestHandler.parse_request"},
    ),
    (
        "guess the MIME type of a file from its extension",
        "http/server.py",
        {"SimpleHTTPRequestHandler.guess_type"},
    ),
    ("acquire an asyncio lock, waiting if it is held", "asyncio/locks.py", {"Lock.acquire"}),
    (
        "wait until a fixed number of tasks reach a barrier",
        "asyncio/locks.py",
        {"Barrier.wait", "Barrier", "Barrier._block", "Barrier._wait"},
    ),
    (
        "semaphore that raises ValueError if released too many times",
        "asyncio/locks.py",
        {"BoundedSemaphore", "BoundedSemaphore.release"},
    ),
    (
        "wake up coroutines waiting on a condition variable",
        "asyncio/locks.py",
        {"Condition.notify", "Condition.notify_all"},
    ),
    (
        "put an item into the queue, waiting until a free slot is available",
        "asyncio/queues.py",
        {"Queue.put"},
    ),
    (
        "block until all items in the queue have been processed",
        "asyncio/queues.py",
        {"Queue.join", "Queue.task_done"},
    ),
    (
        "cancel a block of code if it does not finish before a deadline",
        "asyncio/timeouts.py",
        {"timeout", "timeout_at", "Timeout", "Timeout.__aexit__", "Timeout._on_timeout"},
    ),
    (
        "submit a coroutine to an event loop from another thread",
        "asyncio/tasks.py",
        {"run_coroutine_threadsafe", "run_coroutine_threadsafe.callback"},
    ),
    (
        "run awaitables concurrently and collect their results in a list",
        "asyncio/tasks.py",
        {"gather", "gather._done_callback", "_GatheringFuture"},
    ),
    ("protect an awaitable from being cancelled", "asyncio/tasks.py", {"shield"}),
    ("wait for a coroutine to finish with a timeout", "asyncio/tasks.py", {"wait_for"}),
    (
        "iterate over futures in the order they complete",
        "asyncio/tasks.py",
        {"as_completed", "as_completed._wait_for_one", "as_completed._on_completion"},
    ),
    (
        "task group that cancels the other tasks when one fails",
        "asyncio/taskgroups.py",
        {"TaskGroup", "TaskGroup._on_task_done", "TaskGroup.__aexit__", "TaskGroup._abort"},
    ),
    (
        "run the main coroutine and close the event loop at the end",
        "asyncio/runners.py",
        {"run", "Runner.run", "Runner.close"},
    ),
]


def corpus() -> list[Chunk]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    chunks: list[Chunk] = []
    for name in FILES:
        chunks += chunk_file(name, (stdlib / name).read_text(encoding="utf-8"))
    limit = int(os.environ.get("BENCH_EMBED_LIMIT", "0") or 0)
    return chunks[:limit] if limit else chunks


def retrieval(chunks: list[Chunk], vectors, queries) -> tuple[list[list[int]], list[int | None]]:
    """Top-10 chunk indices per query and the rank of the first answering chunk (or None)."""
    import numpy as np

    top = np.argsort(-(queries @ vectors.T), axis=1, kind="stable")[:, :10]
    ranks: list[int | None] = []
    for (_, path, symbols), row in zip(QUERIES, top, strict=True):
        ranks.append(
            next(
                (
                    r
                    for r, i in enumerate(row)
                    if chunks[i].path == path and chunks[i].symbol in symbols
                ),
                None,
            )
        )
    return [list(map(int, row)) for row in top], ranks


def fresh_load(backend: str, cache: Path) -> float:
    """Seconds for a new Python process to import the embedder, load it and embed one text."""
    code = (
        "import sys, time; t = time.monotonic()\n"
        "from jupyter_workspace.sidecar.embedder import load_embedder\n"
        "e = load_embedder(backend=sys.argv[1], cache_dir=sys.argv[2]); e.embed(['x'])\n"
        "assert not e.info.get('exported'), e.info\n"
        "print(time.monotonic() - t)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, backend, str(cache)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    if out.returncode:
        raise RuntimeError(f"loading {backend} in a new process failed: {out.stderr[-2000:]}")
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    import numpy as np

    rounds = int(os.environ.get("BENCH_EMBED_ROUNDS", "2"))
    backend = os.environ.get("BENCH_EMBED_BACKEND", "onnx-int8")
    chunks = corpus()
    texts = [c.embedding_text() for c in chunks]
    queries = [q for q, _, _ in QUERIES]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(
        f"bench_embed: {len(texts)} chunks from {len(FILES)} stdlib files, {len(queries)} "
        f"queries, {rounds} interleaved rounds; {backend} vs torch fp32; python "
        f"{sys.version.split()[0]}, {cores} cores, load average {os.getloadavg()[0]:.1f}",
        flush=True,
    )
    started = time.monotonic()
    from jupyter_workspace.sidecar.embedder import TorchEmbedder, load_embedder, resolve_model

    cache = Path(tempfile.mkdtemp(prefix="bench-embed-"))
    try:
        t = time.monotonic()
        fast = load_embedder(backend=backend, cache_dir=cache)
        cold = time.monotonic() - t
        exported = fast.info.get("exported")
        fast = load_embedder(backend=backend, cache_dir=cache)
        assert not fast.info.get("exported"), "second load exported again"
        # Fresh processes: what a sidecar start pays (this one has torch imported by now).
        warm = fresh_load(backend, cache)
        torch_load = fresh_load("torch", cache)
        reference = TorchEmbedder(resolve_model())
        print(
            f"  {backend}: cold load {cold:.1f} s (exported: {exported}; build "
            f"{fast.info.get('export_seconds')} s, includes importing torch + "
            f"sentence-transformers), load from cache in a new process {warm:.2f} s; torch: "
            f"import + load in a new process {torch_load:.1f} s",
            flush=True,
        )

        import torch

        tokens = [len(ids) for ids in reference.model.tokenizer(texts)["input_ids"]]
        print(
            f"  tokens per chunk (untruncated): median {median(tokens):.0f}, mean "
            f"{sum(tokens) / len(tokens):.0f}, max {max(tokens)}; > 256 (truncated): "
            f"{sum(n > 256 for n in tokens)}; torch threads {torch.get_num_threads()}, "
            f"onnxruntime threads {fast.info.get('threads')}",
            flush=True,
        )

        fast.embed(texts[:32])
        reference.embed(texts[:32])
        rates: dict[str, list[float]] = {"torch": [], backend: []}
        per_cpu: dict[str, list[float]] = {"torch": [], backend: []}
        vectors = {}
        for r in range(rounds):
            order = [("torch", reference), (backend, fast)]
            for name, embedder in order if r % 2 == 0 else order[::-1]:
                t, cpu = time.perf_counter(), time.process_time()
                vectors[name] = embedder.embed(texts, batch_size=32)
                rates[name].append(len(texts) / (time.perf_counter() - t))
                per_cpu[name].append(len(texts) / (time.process_time() - cpu))
            slow, quick = rates["torch"][-1], rates[backend][-1]
            print(
                f"  round {r + 1}: torch {slow:.1f} chunks/s, {backend} {quick:.1f} chunks/s "
                f"({quick / slow:.2f}x); per CPU-second (all threads): torch "
                f"{per_cpu['torch'][-1]:.1f}, {backend} {per_cpu[backend][-1]:.1f}",
                flush=True,
            )

        ref, got = vectors["torch"], vectors[backend]
        assert got.shape == ref.shape and got.dtype == np.float32
        cos = (ref * got).sum(axis=1)
        q_ref, q_got = reference.embed(queries), fast.embed(queries)
        q_cos = (q_ref * q_got).sum(axis=1)
        top_ref, ranks_ref = retrieval(chunks, ref, q_ref)
        top_got, ranks_got = retrieval(chunks, got, q_got)

        def recall(ranks: list[int | None], k: int) -> float:
            return sum(r is not None and r < k for r in ranks) / len(ranks)

        def mrr(ranks: list[int | None]) -> float:
            return sum(1 / (r + 1) for r in ranks if r is not None) / len(ranks)

        overlap = sum(
            len(set(a[:5]) & set(b[:5])) / 5 for a, b in zip(top_ref, top_got, strict=True)
        )
        top1 = sum(a[0] == b[0] for a, b in zip(top_ref, top_got, strict=True))
        # every chunk as a query over the others: how many of its 10 nearest neighbours agree
        neighbours = []
        for vecs in (ref, got):
            sims = vecs @ vecs.T
            np.fill_diagonal(sims, -2)
            neighbours.append(np.argsort(-sims, axis=1, kind="stable")[:, :10])
        nn_overlap = float(
            np.mean([len(set(a) & set(b)) / 10 for a, b in zip(*neighbours, strict=True)])
        )

        med_t, med_f = median(rates["torch"]), median(rates[backend])
        ratios = [f / t for f, t in zip(rates[backend], rates["torch"], strict=True)]
        print(
            f"\nSummary ({time.monotonic() - started:.0f} s; load average now "
            f"{os.getloadavg()[0]:.1f}: other processes share these cores)"
        )
        print(
            table(
                ["figure", "torch fp32 (reference)", backend],
                [
                    ["chunks/s, median of rounds", f"{med_t:.1f}", f"{med_f:.1f}"],
                    [
                        "chunks/s per round",
                        ", ".join(f"{x:.1f}" for x in rates["torch"]),
                        ", ".join(f"{x:.1f}" for x in rates[backend]),
                    ],
                    [
                        "speed ratio (median; per round)",
                        "1.00",
                        f"{med_f / med_t:.2f}x; " + ", ".join(f"{x:.2f}" for x in ratios),
                    ],
                    [
                        "chunks per CPU-second (this process, all threads)",
                        f"{median(per_cpu['torch']):.1f}",
                        f"{median(per_cpu[backend]):.1f} "
                        f"({median(per_cpu[backend]) / median(per_cpu['torch']):.2f}x)",
                    ],
                    [
                        "load: first ever (build) / later (new process)",
                        f"{torch_load:.1f} s",
                        f"{cold:.1f} s / {warm:.2f} s",
                    ],
                    [
                        "cold indexing of this corpus (load + embed)",
                        f"{torch_load + len(texts) / med_t:.1f} s",
                        f"{cold + len(texts) / med_f:.1f} s (model cached: "
                        f"{warm + len(texts) / med_f:.1f} s)",
                    ],
                    [
                        "cosine to torch, chunks: mean / min / p1",
                        "1",
                        f"{cos.mean():.4f} / {cos.min():.4f} / {percentile(cos.tolist(), 1):.4f}",
                    ],
                    [
                        "cosine to torch, queries: mean / min",
                        "1",
                        f"{q_cos.mean():.4f} / {q_cos.min():.4f}",
                    ],
                    [
                        "recall@1 / @5 / @10",
                        f"{recall(ranks_ref, 1):.3f} / {recall(ranks_ref, 5):.3f} / "
                        f"{recall(ranks_ref, 10):.3f}",
                        f"{recall(ranks_got, 1):.3f} / "
                        f"{recall(ranks_got, 5):.3f} / {recall(ranks_got, 10):.3f}",
                    ],
                    ["MRR@10", f"{mrr(ranks_ref):.3f}", f"{mrr(ranks_got):.3f}"],
                    [
                        "queries: top-5 overlap with torch / top-1 agreement",
                        "1 / 1",
                        f"{overlap / len(queries):.3f} / {top1}/{len(queries)}",
                    ],
                    [
                        "chunk-to-chunk: 10 nearest neighbours shared with torch",
                        "1",
                        f"{nn_overlap:.3f}",
                    ],
                ],
            )
        )
        changed = [
            (q, a, b)
            for (q, _, _), a, b in zip(QUERIES, ranks_ref, ranks_got, strict=True)
            if a != b
        ]
        if changed:
            print("\nqueries whose answer moved (rank torch -> rank fast, None = not in top 10):")
            for q, a, b in changed:
                print(f"  {a} -> {b}: {q}")
    finally:
        shutil.rmtree(cache, ignore_errors=True)


if __name__ == "__main__":
    main()
