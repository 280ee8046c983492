"""Seconds from spawn to the first search hit, polled every 100 ms, for A/B runs of two
checkouts in the same minutes (bench/results/startup.md, issue 19):

    PYTHONPATH=<checkout> .venv/bin/python bench/first_hit.py

The folder is bench_startup's first-use folder (BENCH_STARTUP_CORPUS, default the four sdists),
copied fresh; `jupyter-workspace` of this venv imports the package from PYTHONPATH's checkout
(its sidecar too). Prints each change of status / sidecar / index / search, then the hit.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import free_port
from bench_search import sdist
from startup_first_use import WORD, files_with, get_json

NAMES = os.environ.get("BENCH_STARTUP_CORPUS", "lz4,zstandard,pybind11,more-itertools")


def main() -> None:
    import jupyter_workspace

    print("package:", jupyter_workspace.__file__, flush=True)
    work = Path(tempfile.mkdtemp(prefix="bench-first-hit-"))
    root = work / "project"
    for name in NAMES.split(","):
        shutil.copytree(sdist(name), root / sdist(name).name)
    targets = files_with(root, WORD)
    port, token = free_port(), "bench-first-hit"
    env = {k: v for k, v in os.environ.items() if k != "JUPYTER_TOKEN"}
    for name in ("CONFIG", "RUNTIME"):
        env[f"JUPYTER_{name}_DIR"] = str(work / name.lower())
    command = Path(sys.executable).parent / "jupyter-workspace"
    argv = [str(command), str(root), f"--ServerApp.port={port}", "--ServerApp.ip=127.0.0.1"]
    argv += [f"--ServerApp.token={token}", "--ServerApp.open_browser=False"]
    argv += ["--ServerApp.allow_root=True"]
    base = f"http://127.0.0.1:{port}"
    query = urllib.parse.urlencode({"q": WORD, "k": 10})
    with open(work / "server.log", "w") as log:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env)
        last = None
        try:
            while time.perf_counter() - t0 < 120:
                code, status = get_json(f"{base}/workspace/api/status", token)
                index, sidecar = (status or {}).get("index") or {}, (status or {}).get("sidecar")
                found, body = get_json(f"{base}/workspace/api/search?{query}", token)
                hit = bool(body and {h["path"] for h in body.get("results", [])} & targets)
                words_only = bool(body and body.get("words_only"))
                now = (code, (sidecar or {}).get("state"), index.get("state"))
                now += (index.get("files_indexed"), found, hit, words_only)
                if now != last:
                    print(
                        f"{time.perf_counter() - t0:6.2f}s status={code} sidecar={now[1]} "
                        f"index={now[2]} files={now[3]} search={found} hit={hit} "
                        f"words_only={words_only}",
                        flush=True,
                    )
                    last = now
                if hit:
                    break
                time.sleep(0.1)
        finally:
            proc.terminate()
            proc.wait(30)
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
