"""Sections 1 (end to end), 2 and 4 of bench_index.py: one real server on a fresh copy of the
corpus (what they measure: bench_index.py)."""

from __future__ import annotations

import random
import secrets
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from _harness import Server, median, percentile
from index_shared import (
    FIRST_QUERY,
    MEANING_QUERY,
    MEANING_TARGET,
    N_FILES,
    SAVES,
    SECTIONS,
    Http,
    Loaded,
    corpus_sources,
    last_py,
    ms,
    now,
    write_corpus,
)


# -- 1 (end to end), 2 and 4: one real server on a fresh copy of the corpus ---------------------
def section_server(res: dict[str, Any]) -> None:
    """Poll /workspace/api/index every 50 ms and, every 100 ms until each has its hit, a text,
    a hybrid and a vector search: the marks are seconds from spawn."""
    sources = Loaded.sources or corpus_sources(N_FILES)
    srv = Server(extra_args=["--WorkspaceApp.index_enabled=True"])
    try:
        write_corpus(srv.root, sources)
        expected = len(sources)
        srv.start()
        api = Http(srv.port, f"token {srv.token}")
        marks: dict[str, float] = {}
        states: list[tuple[float, str]] = []
        pending_seen: list[tuple[float, int]] = []  # (s, vectors_pending) when it changes
        deadline = srv.t_spawn + 300
        last_search = 0.0
        status: dict[str, Any] = {}
        queries = {
            "text": (FIRST_QUERY, "text"),
            "hybrid": (FIRST_QUERY, "hybrid"),
            "vector": (MEANING_QUERY, "vector"),
        }
        while True:
            tick = now()
            if tick > deadline:
                raise TimeoutError(f"index not idle after 300 s: {status}\n{srv.log_tail()}")
            assert srv.proc is not None
            if srv.proc.poll() is not None:
                raise RuntimeError(f"server exited; log:\n{srv.log_tail()}")
            if "api" not in marks:
                code, _ = api.request("GET", "/api/status", timeout=2)
                if code == 200:
                    marks["api"] = now() - srv.t_spawn
                else:
                    time.sleep(0.02)
                    continue
            code, st = api.request("GET", "/workspace/api/status")
            at = now() - srv.t_spawn
            if code == 404 and at - marks["api"] > 20:
                raise RuntimeError(
                    "the workspace extension did not load (404 on "
                    f"/workspace/api/status); log:\n{srv.log_tail()}"
                )
            if code == 200 and st["sidecar"]["state"] == "ready" and "sidecar" not in marks:
                marks["sidecar"] = at
            status = (st or {}).get("index") or {}
            state = status.get("state", "?")
            if not states or states[-1][1] != state:
                states.append((at, state))
            if state not in marks:
                marks[state] = at  # first time seen: waiting, scanning, indexing, embedding, idle
            pending = status.get("vectors_pending")
            if pending is not None and (not pending_seen or pending_seen[-1][1] != pending):
                pending_seen.append((at, pending))
            if status.get("files_indexed", 0) > 0 and "first_file" not in marks:
                marks["first_file"] = at
            done = (
                status.get("files_indexed", 0)
                + status.get("files_skipped", 0)
                + status.get("files_error", 0)
                >= expected
                and status.get("files_pending") == 0
            )
            if done and "written" not in marks:
                marks["written"] = at  # every file chunked and written (text-searchable)
            if state == "idle" and done and "all_idle" not in marks:
                marks["all_idle"] = at
                res["e2e_status"] = dict(status)
            if tick - last_search >= 0.1:
                last_search = tick
                for key, (query, mode) in queries.items():
                    if key in marks:
                        continue
                    code, body = api.request(
                        "GET", f"/workspace/api/search?q={quote(query)}&mode={mode}&k=5"
                    )
                    at = now() - srv.t_spawn
                    if code == 200 and f"{key}_200" not in marks:
                        marks[f"{key}_200"] = at
                    if code != 200 or not body["results"]:
                        continue
                    top = body["results"][0]["path"]
                    if f"{key}_any" not in marks:
                        marks[f"{key}_any"] = at
                        res[f"first_{key}_hit"] = top
                    if key != "vector" or top == MEANING_TARGET:
                        marks[key] = at
                        res[f"{key}_hit"] = top
            if (
                "all_idle" in marks
                and all(k in marks for k in ("text", "hybrid"))
                and ("vector" in marks or now() - srv.t_spawn > marks["all_idle"] + 1.0)
            ):
                break
            time.sleep(max(0.0, 0.05 - (now() - tick)))
        if "vector" not in marks:  # every vector is there and the top hit is still another file
            code, body = api.request(
                "GET", f"/workspace/api/search?q={quote(MEANING_QUERY)}&mode=vector&k=5"
            )
            res["vector_top_at_idle"] = [h["path"] for h in (body or {}).get("results", [])]
        res["marks"], res["states"], res["pending_seen"] = marks, states, pending_seen
        print("[1/2] server: " + ", ".join(f"{k} {v:.2f}s" for k, v in marks.items()))
        print("[1/2] index states: " + " → ".join(f"{s}@{t:.2f}s" for t, s in states))
        print("[1/2] vectors_pending: " + ", ".join(f"{p}@{t:.2f}s" for t, p in pending_seen))
        if "4" in SECTIONS:
            save_to_search(srv, api, sources, res)
        api.close()
    finally:
        srv.stop()


def wait_idle(api: Http, timeout: float = 30.0) -> None:
    deadline = now() + timeout
    while now() < deadline:
        code, body = api.request("GET", "/workspace/api/index")
        if code == 200 and body["state"] == "idle" and body["files_pending"] == 0:
            return
        time.sleep(0.02)
    raise TimeoutError("index not idle")


def save_to_search(
    srv: Server, api: Http, sources: list[tuple[str, Path]], res: dict[str, Any]
) -> None:
    target = last_py(sources)
    path = srv.root / target
    latencies, baseline, misses = [], [], 0
    previous = None
    rng = random.Random(7)
    for i in range(SAVES):
        wait_idle(api)
        time.sleep(rng.uniform(0.05, 0.2))
        if previous is not None:  # baseline: a text search round trip for an indexed name
            t0 = now()
            api.request("GET", f"/workspace/api/search?q={previous}&mode=text&k=10")
            baseline.append(now() - t0)
        name = f"bench_saved_{i}_{secrets.token_hex(4)}"
        with open(path, "a", encoding="utf-8") as f:
            f.write(f"\n\ndef {name}(value):\n    return value * {i}\n")
        t0 = now()
        while True:
            code, body = api.request("GET", f"/workspace/api/search?q={name}&mode=text&k=10")
            if code == 200 and any(
                name in (h.get("symbol") or "") or name in h["snippet"] for h in body["results"]
            ):
                latencies.append(now() - t0)
                break
            if now() - t0 > 20:
                misses += 1
                break
            time.sleep(0.01)
        previous = name
    res["save"] = {"target": target, "lat": latencies, "base": baseline, "misses": misses}
    print(
        f"[4] save → searchable ({target}): p50 {ms(median(latencies))} ms, "
        f"p95 {ms(percentile(latencies, 95))} ms, misses {misses}"
    )
