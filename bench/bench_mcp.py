"""Search over MCP vs the REST API: the same queries, the same server, the same run.

A real `jupyter server` subprocess with the workspace, its sidecar and the embedding model
indexes real code nobody here wrote (tornado's own package, as installed: ~70 Python files).
Queries: the first line of each public function's docstring in that code (every 3rd, up to
60), not picked to suit the system. Then, in BLOCKS interleaved blocks:
  (a) REST  GET /workspace/api/search?q=&k=10 (httpx, one keep-alive connection)
  (b) MCP   tools/call `search` {query, k: 10} through the official SDK's client over
            streamable HTTP on /workspace/mcp (one session, the 2026-07-28 protocol)
Each query once per block and arm. Prints p50/p95 per arm and MCP/REST ratios (goal: ≤ 1.2×),
and checks that every MCP answer lists the same (path, start_line, end_line) as REST's.
Asserts nothing about timings.
"""

from __future__ import annotations

import ast
import asyncio
import shutil
import sys
import time
from pathlib import Path

import httpx
import httpx2
import tornado
from _harness import HOST, Server, percentile, table
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp_types import Implementation

BLOCKS = 5
MAX_QUERIES = 60


def queries(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        try:
            tree = ast.parse(path.read_text())
        except (SyntaxError, UnicodeDecodeError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and not node.name.startswith("_"):
                doc = ast.get_docstring(node)
                if doc and len(doc.split("\n")[0].split()) >= 4:
                    found.append(doc.split("\n")[0].strip())
    return found[::3][:MAX_QUERIES]


async def run(server: Server, qs: list[str]) -> None:
    base = f"http://{HOST}:{server.port}"
    auth = {"Authorization": f"token {server.token}"}
    times: dict[str, list[float]] = {"rest": [], "mcp": []}
    mismatches = 0
    async with (
        httpx.AsyncClient(headers=auth, timeout=60) as rest,
        httpx2.AsyncClient(headers=auth, timeout=60) as http,
        Client(
            streamable_http_client(f"{base}/workspace/mcp", http_client=http),
            client_info=Implementation(name="bench", version="1"),
        ) as mcp,
    ):
        for block in range(BLOCKS + 1):  # block 0 warms up
            for q in qs:
                t = time.perf_counter()
                answer = await rest.get(f"{base}/workspace/api/search", params={"q": q, "k": 10})
                rest_s = time.perf_counter() - t
                answer.raise_for_status()
                t = time.perf_counter()
                result = await mcp.call_tool("search", {"query": q, "k": 10})
                mcp_s = time.perf_counter() - t
                assert not result.is_error, result.content
                if block:
                    times["rest"].append(rest_s * 1000)
                    times["mcp"].append(mcp_s * 1000)
                    lines = [
                        (h["path"], h["start_line"], h["end_line"])
                        for h in answer.json()["results"]
                    ]
                    got = [
                        (h["path"], h["start_line"], h["end_line"])
                        for h in result.structured_content["hits"]
                    ]
                    mismatches += lines != got
    rows = []
    for arm in ("rest", "mcp"):
        values = times[arm]
        rows.append(
            [
                arm,
                str(len(values)),
                f"{percentile(values, 50):.1f}",
                f"{percentile(values, 95):.1f}",
            ]
        )
    print(table(["arm", "calls", "p50 ms", "p95 ms"], rows))
    for p in (50, 95):
        ratio = percentile(times["mcp"], p) / percentile(times["rest"], p)
        print(f"MCP/REST p{p}: {ratio:.2f}x")
    print(f"answers differing from REST's (path, lines): {mismatches} of {len(times['mcp'])}")


def main() -> None:
    source = Path(tornado.__file__).parent
    qs = queries(source)
    print(f"corpus: {source} ({len(list(source.rglob('*.py')))} .py files), {len(qs)} queries")
    with Server() as server:
        shutil.copytree(
            source, server.root / "tornado", ignore=shutil.ignore_patterns("__pycache__")
        )
        server.wait_ready(["/api/status", "/workspace/api/status"], timeout=120)
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            state = httpx.get(
                f"http://{HOST}:{server.port}/workspace/api/index",
                headers={"Authorization": f"token {server.token}"},
            ).json()
            if state["state"] == "idle" and state["files_indexed"]:
                break
            time.sleep(1)
        else:
            sys.exit(f"index not idle: {state}")
        print(f"indexed: {state['files_indexed']} files, {state['chunks']} chunks")
        asyncio.run(run(server, qs))


if __name__ == "__main__":
    main()
