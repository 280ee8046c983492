"""Section 3 of bench_index.py: re-scan of an unchanged tree (what it measures: bench_index.py)."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

from _harness import Server
from index_shared import (
    SCAN_FILES,
    SCAN_ROUNDS,
    Http,
    now,
)


# -- 3. re-scan of an unchanged tree -----------------------------------------------------------
def make_tree(root: Path, n: int) -> None:
    """n small .py files in 10 × 10 folders (plus a few at the top), each one line long."""
    per = max(1, n // 100)
    made = 0
    for a in range(10):
        for b in range(10):
            folder = root / f"pkg{a}" / f"mod{b}"
            folder.mkdir(parents=True, exist_ok=True)
            for c in range(per):
                if made >= n:
                    return
                (folder / f"m{c:03d}.py").write_text(f"VALUE_{made} = {made}\n")
                made += 1
    for c in range(n - made):
        (root / f"top{c}.py").write_text(f"TOP_{c} = {c}\n")


def walk_stat(root: Path) -> int:
    count = 0
    for directory, _dirs, files in os.walk(root):
        for name in files:
            os.stat(os.path.join(directory, name))
            count += 1
    return count


def section_rescan(res: dict[str, Any]) -> None:
    from jupyter_workspace.server.catalog import Catalog, read_text, scan
    from jupyter_workspace.server.ignore import IgnoreRules
    from jupyter_workspace.server.store import Store

    srv = Server(extra_args=["--WorkspaceApp.index_enabled=True"])
    root = srv.root
    state_dir = root / ".jupyter-workspace"
    max_bytes = 2 * 1024 * 1024
    try:
        t = now()
        make_tree(root, SCAN_FILES)
        res["tree_s"] = now() - t
        store = Store(state_dir / "workspace.sqlite")  # the server's own database file
        store.open()
        catalog = Catalog(store)
        # Index once, as far as the catalog is concerned: reconcile (all new → pending), then
        # record every file as the indexer does after the sidecar answered (hash, chunks = 1).
        t = now()
        observed = scan(root, IgnoreRules(root, state_dir), max_bytes)
        first = asyncio.run(catalog.reconcile(observed))
        contents = {rel: read_text(root, rel, max_bytes) for rel in observed}
        asyncio.run(
            catalog.record(
                [
                    {"path": rel, "language": "python", "chunks": 1, "error": None}
                    for rel in observed
                ],
                contents,
            )
        )
        res["catalog_fill_s"] = now() - t
        res["scan_first"] = first
        print(
            f"[3] tree of {len(observed)} files in {res['tree_s']:.1f} s; catalog filled "
            f"in {res['catalog_fill_s']:.1f} s ({first})"
        )
        walks, scans, recs, totals = [], [], [], []
        counts: dict[str, int] = {}
        for r in range(SCAN_ROUNDS):

            def base() -> None:
                t0 = now()
                assert walk_stat(root) >= SCAN_FILES
                walks.append(now() - t0)

            def coordinator() -> None:
                nonlocal counts
                t0 = now()
                seen = scan(root, IgnoreRules(root, state_dir), max_bytes)  # fresh, as a start
                t1 = now()
                counts = asyncio.run(catalog.reconcile(seen))
                t2 = now()
                scans.append(t1 - t0)
                recs.append(t2 - t1)
                totals.append(t2 - t0)

            for fn in (base, coordinator) if r % 2 == 0 else (coordinator, base):
                fn()
            print(
                f"[3] round {r + 1}: os.walk+stat {walks[-1]:.3f} s, scan {scans[-1]:.3f} s, "
                f"reconcile {recs[-1]:.3f} s"
            )
        res["rescan"] = {
            "walk": walks,
            "scan": scans,
            "reconcile": recs,
            "total": totals,
            "counts": counts,
        }
        # Where scan's time goes: cProfile of one scan.
        import cProfile
        import pstats

        prof = cProfile.Profile()
        prof.enable()
        scan(root, IgnoreRules(root, state_dir), max_bytes)
        prof.disable()
        stats = pstats.Stats(prof)
        top = []
        for (file, _line, fn), (_cc, nc, tt, ct, _callers) in stats.stats.items():
            top.append((tt, ct, nc, f"{Path(file).name}:{fn}"))
        top.sort(reverse=True)
        res["scan_profile"] = top[:8]
        store.close()

        # A real server restarted on the tree with that catalog: "scanning" → "idle".
        srv.start()
        api = Http(srv.port, f"token {srv.token}")
        states: list[tuple[float, str]] = []
        deadline = now() + 180
        body: dict[str, Any] = {}
        while now() < deadline:
            code, body = api.request("GET", "/workspace/api/index", timeout=2)
            if code == 404 and now() - srv.t_spawn > 30:
                raise RuntimeError(
                    "the workspace extension did not load (404 on "
                    f"/workspace/api/index); log:\n{srv.log_tail()}"
                )
            if code == 200:
                if not states or states[-1][1] != body["state"]:
                    states.append((now() - srv.t_spawn, body["state"]))
                if body["state"] == "idle":
                    break
            time.sleep(0.01)
        api.close()
        res["restart"] = {"states": states, "status": body}
        print("[3] restart on the tree: " + " → ".join(f"{s}@{t:.2f}s" for t, s in states))
    finally:
        srv.stop()
