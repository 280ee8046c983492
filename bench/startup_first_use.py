"""bench_startup.py's section 2: `jupyter workspace` on a fresh folder, as a newcomer runs it.

Each run copies a real project (the lz4 4.4.5 sdist: the LZ4 C library and its Python
bindings, a pinned PyPI sdist downloaded once, see bench_search.py) into a new temp folder, so
the workspace state (`.jupyter-workspace/`: database, index) starts empty, and runs the real
command with the embedded defaults and no LLM:

    jupyter workspace <folder> --ServerApp.port=<free> --ServerApp.token=<t> ...

JupyterLab's config, settings, workspaces and runtime dirs are fresh temp dirs too (a new
user's layout). The embedding model's cache (~/.cache/jupyter-workspace/models) is kept: a
user pays its download once per machine, not per folder. Times from spawn:
  http      first 200 from both GET /lab and GET /workspace/api/status
  page      headless Chromium (playwright), opened on /lab once `http`, shows JupyterLab with
            the Workspace sidebar's tab (the splash gone): the page is usable
  answers   first 200 from the search (the sidecar is up; no hit needed)
  search    first GET /workspace/api/search?q=<WORD> (hybrid, the Search panel's default)
            whose hits include a file that holds WORD, polled every 100 ms from `page`
  sidecar   the AI sidecar `ready`, and `idle` = the index has every file and vector
Baseline, interleaved (one before or after each run): plain `jupyter lab` (the workspace's
server extension off) on a fresh copy, to /lab 200 and to Chromium showing the launcher.
Prints figures only; asserts nothing about timings.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from _harness import free_port, median, table
from bench_search import sdist

# BENCH_STARTUP_CORPUS: the sdists copied into the fresh folder (several: one subfolder each);
# `lz4,zstandard,pybind11,more-itertools` is a 288-file folder (issue 19's "300-file folder")
PACKAGES = os.environ.get("BENCH_STARTUP_CORPUS", "lz4").split(",")
WORD = "LZ4_compress_fast_extState"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
SIDEBAR_TAB = 'li[data-id="jupyter-workspace:sidebar"]'
TIMEOUT_S = float(os.environ.get("BENCH_STARTUP_FIRST_USE_TIMEOUT", "600"))
MARKS = ("http", "page", "answers", "search", "sidecar", "idle")
# the first search's answer said `words_only` (the embedding model was still loading)


def jupyter() -> str:
    """The `jupyter` beside this Python (the venv's), else the one on PATH."""
    beside = Path(sys.executable).parent / "jupyter"
    return str(beside) if beside.exists() else "jupyter"


def get_json(url: str, token: str) -> tuple[int | None, Any]:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            body = response.read()
            kind = response.headers.get("Content-Type", "")
            return response.status, json.loads(body) if "json" in kind else None
    except urllib.error.HTTPError as error:
        return error.code, None
    except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
        return None, None


def files_with(root: Path, word: str) -> set[str]:
    """The served paths whose text holds `word`: a hit on any of them answers the search."""
    found = set()
    for path in root.rglob("*"):
        if path.is_file() and word in path.read_text(errors="replace"):
            found.add(path.relative_to(root).as_posix())
    return found


def launch_browser() -> tuple[Any, Any] | None:
    """(playwright, browser) or None when playwright or Chromium is missing."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not Path(CHROMIUM).exists():
        return None
    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=["--headless", "--no-sandbox", "--disable-gpu"]
    )
    return playwright, browser


def snapshot_frontend(dest: Path) -> Path:
    """A copy of the installed labextension, served ahead of it in every run, so that a rebuild
    of the checkout meanwhile (which empties the installed copy for a while) breaks no run."""
    installed = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "jupyter-workspace"
    for _ in range(60):
        if (installed / "package.json").exists() and any(installed.glob("static/remoteEntry*")):
            copy = dest / "jupyter-workspace"
            shutil.copytree(installed, copy, symlinks=False)
            if any(copy.glob("static/remoteEntry*")) and (copy / "package.json").exists():
                return dest
            shutil.rmtree(copy)
        time.sleep(5)  # being rebuilt
    raise RuntimeError(f"no built labextension at {installed}")


def one_run(
    corpus: list[Path], browser: Any | None, frontend: Path, *, baseline: bool
) -> dict[str, float]:
    """One fresh folder; `baseline`: plain `jupyter lab` on it, the workspace switched off."""
    work = Path(tempfile.mkdtemp(prefix="jw-bench-first-use-"))
    root = work / "project"
    if len(corpus) == 1:
        shutil.copytree(corpus[0], root)
    else:
        for unpacked in corpus:
            shutil.copytree(unpacked, root / unpacked.name)
    targets = files_with(root, WORD)
    port, token = free_port(), "bench-first-use-token"
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k != "JUPYTER_TOKEN"}
    for name in ("CONFIG", "RUNTIME"):
        env[f"JUPYTER_{name}_DIR"] = str(work / name.lower())
    env["JUPYTERLAB_SETTINGS_DIR"] = str(work / "settings")
    env["JUPYTERLAB_WORKSPACES_DIR"] = str(work / "workspaces")
    server_args = [
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.token={token}",
        "--ServerApp.open_browser=False",
        "--ServerApp.allow_root=True",
        f"--LabApp.extra_labextensions_path={frontend}",
    ]
    if baseline:
        # traitlets' CLI wants key=value for a Dict trait.
        argv = [jupyter(), "lab", f"--ServerApp.root_dir={root}", *server_args]
        argv.append("--ServerApp.jpserver_extensions=jupyter_workspace=False")
        ready_paths = ["/lab"]
    else:
        argv = [jupyter(), "workspace", str(root), *server_args]
        ready_paths = ["/lab", "/workspace/api/status"]
    marks: dict[str, float] = {}
    log = work / "server.log"
    with log.open("wb") as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            argv, cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )

    def since() -> float:
        return time.perf_counter() - t0

    try:
        while "http" not in marks:
            if proc.poll() is not None or since() > TIMEOUT_S:
                raise RuntimeError(f"server not up; log tail:\n{log.read_text()[-3000:]}")
            if all(get_json(f"{base}{path}", token)[0] == 200 for path in ready_paths):
                marks["http"] = since()
            else:
                time.sleep(0.02)
        if browser is not None:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            try:
                page.goto(f"{base}/lab?token={token}", timeout=TIMEOUT_S * 1000)
                page.locator("#jupyterlab-splash").wait_for(state="detached", timeout=120_000)
                page.locator(".jp-Launcher").first.wait_for(timeout=120_000)
                if not baseline:
                    page.locator(SIDEBAR_TAB).wait_for(timeout=120_000)
                marks["page"] = since()
            finally:
                page.close()
        if not baseline:
            first_search(base, token, targets, marks, since, proc)
        return marks
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
        shutil.rmtree(work, ignore_errors=True)


def first_search(
    base: str,
    token: str,
    targets: set[str],
    marks: dict[str, float],
    since: Callable[[], float],
    proc: subprocess.Popen[bytes],
) -> None:
    """Poll search and status every 100 ms until the search hits and the index is idle."""
    query = urllib.parse.urlencode({"q": WORD, "k": 10})
    while not all(key in marks for key in ("search", "sidecar", "idle")):
        if proc.poll() is not None or since() > TIMEOUT_S:
            return
        if "search" not in marks:
            code, body = get_json(f"{base}/workspace/api/search?{query}", token)
            if code == 200:
                marks.setdefault("answers", since())
                if {hit["path"] for hit in body.get("results", [])} & targets:
                    marks["search"] = since()
                    marks["words_only"] = float(bool(body.get("words_only")))
        _, status = get_json(f"{base}/workspace/api/status", token)
        status = status or {}
        if "sidecar" not in marks and status.get("sidecar", {}).get("state") == "ready":
            marks["sidecar"] = since()
        index = status.get("index") or {}
        if "idle" not in marks and index.get("state") == "idle" and index.get("chunks"):
            marks["idle"] = since()
            marks["files"], marks["chunks"] = index.get("files_indexed", 0), index["chunks"]
        time.sleep(0.1)


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def run(rounds: int) -> None:
    corpus = [sdist(name) for name in PACKAGES]
    n_files = sum(1 for unpacked in corpus for p in unpacked.rglob("*") if p.is_file())
    names = " + ".join(unpacked.name for unpacked in corpus)
    print(
        f"\n== section 2: `jupyter workspace` on a fresh copy of {names} ({n_files} files), "
        f"{rounds} runs, each after a baseline run of plain `jupyter lab` on a fresh copy; first "
        f"search: q={WORD!r} (hybrid); load average {load()}",
        flush=True,
    )
    opened = launch_browser()
    if opened is None:
        print("  (no playwright or Chromium: the page figure is left out)")
    browser = opened[1] if opened else None
    runs: dict[bool, list[dict[str, float]]] = {True: [], False: []}
    frontend = Path(tempfile.mkdtemp(prefix="jw-bench-frontend-"))
    try:
        snapshot_frontend(frontend)
        for i in range(rounds):
            order = (True, False) if i % 2 == 0 else (False, True)
            for baseline in order:
                name = "jupyter lab (baseline)" if baseline else "jupyter workspace     "
                try:
                    marks = one_run(corpus, browser, frontend, baseline=baseline)
                except Exception as error:  # one bad run is reported, the others still count
                    print(f"  run {i + 1} {name}: FAILED {str(error)[:2000]}", flush=True)
                    continue
                runs[baseline].append(marks)
                shown = "  ".join(f"{key} {marks[key]:.1f}s" for key in MARKS if key in marks)
                if "chunks" in marks:
                    shown += f"  ({marks['files']:.0f} files, {marks['chunks']:.0f} chunks)"
                if marks.get("words_only"):
                    shown += "  (first hit: words only, meaning coming)"
                print(f"  run {i + 1} {name}: {shown}", flush=True)
    finally:
        shutil.rmtree(frontend, ignore_errors=True)
        if opened:
            opened[1].close()
            opened[0].stop()
    rows = [
        ["plain `jupyter lab`: /lab answers 200", *spread(runs[True], "http")],
        ["plain `jupyter lab`: Chromium shows the launcher", *spread(runs[True], "page")],
        ["/lab and /workspace/api/status answer 200", *spread(runs[False], "http")],
        ["Chromium shows JupyterLab with the Workspace tab", *spread(runs[False], "page")],
        ["search answers 200 (no hit yet)", *spread(runs[False], "answers")],
        [f"first search for {WORD} with a hit", *spread(runs[False], "search")],
        ["AI sidecar ready", *spread(runs[False], "sidecar")],
        ["index idle (every file and vector)", *spread(runs[False], "idle")],
    ]
    print()
    print(f"Summary (seconds from spawn, {rounds} runs each)")
    print(table(["milestone", "median", "min", "max"], rows))
    print(f"load average at the end: {load()}")


def spread(runs: list[dict[str, float]], key: str) -> list[str]:
    values = [r[key] for r in runs if key in r]
    if not values:
        return ["not reached", "", ""]
    missed = f" ({len(runs) - len(values)} missed)" if len(values) < len(runs) else ""
    return [f"{median(values):.1f}{missed}", f"{min(values):.1f}", f"{max(values):.1f}"]
