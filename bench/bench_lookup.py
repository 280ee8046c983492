"""`GET /workspace/api/lookup` latency: the chat's `@` picker and Go to Symbol, key by key.

A real corpus (the Python standard library of this interpreter, `BENCH_LOOKUP_FILES` files) is
cut by the sidecar's chunker and its definitions recorded in a workspace database as indexing
records them; a real `jupyter server` (sidecar and indexer off: the route reads SQLite only)
then answers the queries a user types: every prefix of real names (fixed seed), the initials
of snake_case names (a subsequence), and misses. Baseline, interleaved: `GET notes/1`.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import sysconfig
import time
from pathlib import Path

from _harness import HttpClient, Server, median, percentile, table

from jupyter_workspace.server.catalog import Catalog, Content
from jupyter_workspace.server.store import Store
from jupyter_workspace.sidecar.chunker import chunk_file
from jupyter_workspace.sidecar.index_service import definitions

FILES = int(os.environ.get("BENCH_LOOKUP_FILES", "2000"))
NAMES = int(os.environ.get("BENCH_LOOKUP_NAMES", "40"))
ROUNDS = int(os.environ.get("BENCH_LOOKUP_ROUNDS", "3"))


def corpus() -> list[tuple[str, str]]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    files = sorted(p for p in stdlib.rglob("*.py") if "site-packages" not in p.parts)[:FILES]
    return [
        (f"Lib/{p.relative_to(stdlib).as_posix()}", p.read_text(errors="replace")) for p in files
    ]


async def fill(db: Path, files: list[tuple[str, str]]) -> tuple[int, list[str]]:
    """Record the files and their definitions as indexing does; (definitions, their names)."""
    store = Store(db)
    store.open()
    catalog = Catalog(store)
    results, contents, names = [], {}, []
    for path, text in files:
        try:
            chunks = chunk_file(path, text)
        except Exception:
            continue
        symbols = definitions(chunks)
        names += [s[0].split(".")[-1] for s in symbols]
        results.append(
            {"path": path, "language": "python", "chunks": len(chunks), "symbols": symbols}
        )
        contents[path] = Content(path, "", "h", len(text), 1.0)
        await catalog.mark_changed(path)
    for at in range(0, len(results), 200):
        await catalog.record(results[at : at + 200], contents)
    await store.run(
        lambda conn: conn.executemany(
            "INSERT INTO notes(title, body, created, updated) VALUES (?, '', 't', 't')",
            [(f"Design note {i}: {names[i * 7 % len(names)]}",) for i in range(200)],
        )
    )
    count = await store.run(lambda conn: conn.execute("SELECT count(*) FROM symbols").fetchone()[0])
    store.close()
    return count, names


def queries(names: list[str]) -> list[tuple[str, str]]:
    """(shape, query) as typed: each prefix of sampled names, initials, misses."""
    rng = random.Random(15)
    picked = rng.sample(sorted(set(n for n in names if len(n) >= 4)), NAMES)
    out: list[tuple[str, str]] = []
    for name in picked:
        for n in range(1, min(len(name), 8) + 1):
            out.append((f"prefix {n if n < 4 else '4+'}", name[:n].lower()))
        parts = [p for p in name.split("_") if p]
        if len(parts) >= 2:
            out.append(("initials", "".join(p[0] for p in parts).lower()))
    out += [("miss", f"zzq{i}xv") for i in range(NAMES)]
    return out


async def measure(
    server: Server, typed: list[tuple[str, str]]
) -> dict[str, dict[str, list[float]]]:
    client = HttpClient(server.port, server.token)
    got: dict[str, dict[str, list[float]]] = {}
    try:
        for _ in range(ROUNDS):
            for shape, q in typed:
                for name, path in (
                    (shape, f"/workspace/api/lookup?q={q}&k=12"),
                    ("baseline: GET notes/1", "/workspace/api/notes/1"),
                ):
                    started = time.perf_counter()
                    status, data = await client.request("GET", path)
                    ms = (time.perf_counter() - started) * 1000
                    assert status == 200, (status, data)
                    row = got.setdefault(name, {"ms": [], "server": []})
                    row["ms"].append(ms)
                    if "took_ms" in (data or {}):
                        row["server"].append(data["took_ms"])
    finally:
        await client.close()
    return got


def main() -> None:
    started = time.perf_counter()
    files = corpus()
    server = Server(
        extra_args=["--WorkspaceApp.sidecar_enabled=False", "--WorkspaceApp.index_enabled=False"]
    )
    db = server.root / ".jupyter-workspace" / "workspace.sqlite"
    count, names = asyncio.run(fill(db, files))
    print(
        f"corpus: {len(files)} files of the Python {sys.version.split()[0]} standard library, "
        f"{count} definitions, 200 notes ({time.perf_counter() - started:.0f} s to chunk)"
    )
    typed = queries(names)
    with server:
        server.wait_ready(["/api/status", "/workspace/api/status"])
        got = asyncio.run(measure(server, typed))
    rows = []
    for name, row in sorted(got.items(), key=lambda kv: (kv[0].startswith("baseline"), kv[0])):
        ms, took = row["ms"], row["server"]
        rows.append(
            [
                name,
                str(len(ms)),
                f"{median(ms):.1f}",
                f"{percentile(ms, 95):.1f}",
                f"{max(ms):.1f}",
                f"{median(took):.1f}" if took else "-",
                f"{percentile(took, 95):.1f}" if took else "-",
            ]
        )
    print(
        table(
            ["query", "n", "p50 ms", "p95 ms", "max ms", "server p50", "server p95"],
            rows,
        )
    )


if __name__ == "__main__":
    main()
