"""Section 6 of bench_index.py: the sidecar's RSS (what it measures: bench_index.py)."""

from __future__ import annotations

import json
import os
import secrets
import selectors
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from index_shared import (
    ARENA_EXPERIMENT,
    BATCH_FILES,
    N_FILES,
    ROOT,
    Http,
    Loaded,
    children,
    corpus_sources,
    end_child,
    now,
    proc_status,
    rmtree,
    tmpdir,
)

from jupyter_workspace import protocol

# -- 6. sidecar RSS ---------------------------------------------------------------------------
_RSS_STEPS = r"""
import os, sys, time, json
def rss():
    for line in open(f"/proc/{os.getpid()}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
out = [("python", rss(), 0.0)]
def step(name, fn):
    t = time.perf_counter(); fn(); out.append((name, rss(), time.perf_counter() - t))
from importlib import import_module as imp
step("tornado + jupyter_workspace.sidecar.server",
     lambda: imp("jupyter_workspace.sidecar.server"))
from jupyter_workspace.sidecar import llm
step("litellm (llm.load)", llm.load)
step("lancedb + pyarrow", lambda: (imp("lancedb"), imp("pyarrow")))
step("onnxruntime + tokenizers", lambda: (imp("onnxruntime"), imp("tokenizers")))
from jupyter_workspace.sidecar.embedder import load_embedder
holder = {}
step("load_embedder(auto)",
     lambda: holder.setdefault("e", load_embedder("all-MiniLM-L6-v2", "auto", None)))
from jupyter_workspace.sidecar.chunk_store import ChunkIndex
def open_index():
    ix = ChunkIndex(sys.argv[1], holder["e"].model_id, holder["e"].dim); ix.open(); holder["i"] = ix
step("ChunkIndex.open (empty)", open_index)
out.append(("torch imported?", float("torch" in sys.modules), 0.0))
print(json.dumps(out))
"""


# The sidecar with onnxruntime's CPU memory arena off (a bench-only patch of SessionOptions,
# applied before the sidecar imports anything): the fix this benchmark's RSS figures point to.
_NO_ARENA = r"""
import runpy
import onnxruntime as ort
class _Options(ort.SessionOptions):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.enable_cpu_mem_arena = False
ort.SessionOptions = _Options
runpy.run_module("jupyter_workspace.sidecar", run_name="__main__", alter_sys=True)
"""


def run_sidecar(
    argv: list[str], sources: list[tuple[str, Path]], texts: dict[str, str], label: str
) -> dict[str, Any]:
    """Start a sidecar with the index on, wait for the index, index the corpus, read RSS."""
    out: dict[str, Any] = {}
    work = tmpdir("jw-bench-sidecar-")
    token = secrets.token_urlsafe(32)  # 43 characters
    env = {
        **os.environ,
        protocol.SIDECAR_TOKEN_ENV: token,
        protocol.INDEX_URI_ENV: str(work / "index"),
    }
    env.pop(protocol.SIDECAR_PARENT_ENV, None)
    t_spawn = now()
    with open(work / "sidecar.log", "wb") as log:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
            cwd=work,
            env=env,
            start_new_session=True,
        )
    children.add(proc)
    try:
        assert proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            if not sel.select(60):
                raise TimeoutError("sidecar printed no port")
        line = proc.stdout.readline().decode()
        port = json.loads(line.split(" ", 1)[1])["port"]
        out["listening"] = proc_status(proc.pid)["VmRSS"]
        client = Http(port, f"Bearer {token}")
        deadline = now() + 150
        health: dict[str, Any] = {}
        while now() < deadline:
            code, health = client.request("GET", "/health", timeout=2)
            if code == 200 and health["index"]["state"] in ("ready", "failed"):
                break
            if proc.poll() is not None:
                break
            time.sleep(0.05)
        if not health or health["index"]["state"] != "ready":
            raise RuntimeError(
                f"sidecar index not ready: {health}; log: "
                f"{(work / 'sidecar.log').read_text(errors='replace')[-1500:]}"
            )
        out["ready_s"] = now() - t_spawn
        out["load_s"] = health["index"].get("seconds")
        time.sleep(0.5)
        out["ready"] = proc_status(proc.pid)
        out["torch"] = "libtorch" in Path(f"/proc/{proc.pid}/maps").read_text()
        t = now()
        chunks = 0
        rels = [rel for rel, _ in sources]
        for i in range(0, len(rels), BATCH_FILES):
            code, answer = client.request(
                "POST",
                "/index/files",
                {"files": [{"path": rel, "text": texts[rel]} for rel in rels[i : i + BATCH_FILES]]},
                timeout=300,
            )
            if code != 200:
                raise RuntimeError(f"POST /index/files: {code} {answer}")
            chunks += answer["chunks"]
        out["index_s"] = now() - t  # every file written (text-first: full-text searchable)
        out["chunks"] = chunks
        # ... and until the sidecar's embedding worker has given every row its vector
        stats: dict[str, Any] = {}
        while now() - t < 600:
            code, stats = client.request("GET", "/index", timeout=10)
            if code == 200 and not stats.get("vectors_pending"):
                break
            time.sleep(0.05)
        else:
            raise TimeoutError(f"vectors still pending after 600 s: {stats}")
        out["vectors_s"] = now() - t
        time.sleep(0.5)
        out["indexed"] = proc_status(proc.pid)
        for q in ("reference count", "parse the header", "lock", "socket"):
            client.request("POST", "/search", {"q": q, "mode": "hybrid", "k": 10})
        out["searched"] = proc_status(proc.pid)
        client.close()
        print(
            f"[6] {label}: RSS listening {out['listening']:.0f} MiB, index ready "
            f"{out['ready']['VmRSS']:.0f} MiB, after {chunks} chunks "
            f"{out['indexed']['VmRSS']:.0f} MiB (peak {out['indexed']['VmHWM']:.0f}); "
            f"files written {out['index_s']:.1f} s, vectors {out['vectors_s']:.1f} s",
            flush=True,
        )
    finally:
        end_child(proc)
        rmtree(work)
    return out


def section_rss(res: dict[str, Any]) -> None:
    sources = Loaded.sources or corpus_sources(N_FILES)
    texts = Loaded.texts or {
        rel: src.read_text(encoding="utf-8", errors="replace") for rel, src in sources
    }
    res["sidecar"] = run_sidecar(
        [sys.executable, "-m", "jupyter_workspace.sidecar"], sources, texts, "sidecar as shipped"
    )
    if ARENA_EXPERIMENT:
        res["sidecar_no_arena"] = run_sidecar(
            [sys.executable, "-c", _NO_ARENA],
            sources,
            texts,
            "sidecar, onnxruntime enable_cpu_mem_arena=False",
        )
    # Where it goes: RSS after each heavy import, one process.
    work = tmpdir("jw-bench-steps-")
    try:
        out = subprocess.run(
            [sys.executable, "-c", _RSS_STEPS, str(work / "steps")],
            capture_output=True,
            text=True,
            timeout=180,
            cwd=ROOT,
            env={**os.environ, "LITELLM_LOCAL_MODEL_COST_MAP": "True"},
        )
    finally:
        rmtree(work)
    if out.returncode == 0:
        res["rss_steps"] = json.loads(out.stdout.strip().splitlines()[-1])
    else:
        res["rss_steps_error"] = out.stderr[-1000:]
