"""The Binder demo's figures (issue 18), from a simulated image build and launch (no Docker).

binder/simulate.py builds the image's environment as repo2docker would (a fresh virtual
environment, `pip install -r binder/requirements.txt` in a copy of the repository, then
binder/postBuild, which indexes the demo) and starts `jupyter lab` as Binder does. Printed:

1. the build's steps and their durations;
2. time from the server's start to its first search hit (ROUNDS launches), against the
   baseline of the same server answering `GET /api/status`, in the same launches;
3. RSS of the server's whole process tree (server, AI sidecar with the model, a kernel),
   against the same launch with the workspace extension off (the baseline: JupyterLab and a
   kernel alone).

Knobs: BENCH_BINDER_ROUNDS (default 3), BENCH_BINDER_WORK (default: a temp dir, removed).
Takes ~6–10 min (the install and the model's conversion dominate). Asserts nothing.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import sys
import tempfile
import time
import urllib.error
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from _harness import table

from binder.simulate import Binder, Lab

ROUNDS = int(os.environ.get("BENCH_BINDER_ROUNDS", "3"))
QUERY = "stop the integrator winding up"


def status_ready(lab: Lab) -> float:
    while True:
        try:
            lab.api("api/status")
            return time.perf_counter() - lab.started
        except (urllib.error.URLError, ConnectionError, OSError):
            if lab.process.poll() is not None:
                raise RuntimeError("jupyter lab exited") from None
            time.sleep(0.05)


def run_in_kernel(lab: Lab, kernel_id: str, code: str, timeout: float = 180.0) -> None:
    """Execute `code` in the kernel through the server's websocket, as the page does, and wait
    for its reply. (A kernel nobody has connected to can stay `starting` in the REST API: the
    first run waited for `idle` and timed out.)"""
    import asyncio
    import uuid

    from tornado.websocket import websocket_connect

    async def go() -> None:
        url = lab.url.replace("http", "ws", 1) + f"/api/kernels/{kernel_id}/channels"
        socket = await websocket_connect(f"{url}?token={lab.token}", connect_timeout=timeout)
        msg_id = uuid.uuid4().hex
        header = {
            "msg_id": msg_id,
            "msg_type": "execute_request",
            "username": "bench",
            "session": uuid.uuid4().hex,
            "version": "5.3",
            "date": "",
        }
        content = {
            "code": code,
            "silent": False,
            "store_history": False,
            "user_expressions": {},
            "allow_stdin": False,
            "stop_on_error": True,
        }
        socket.write_message(
            json.dumps(
                {
                    "header": header,
                    "parent_header": {},
                    "metadata": {},
                    "content": content,
                    "channel": "shell",
                    "buffers": [],
                }
            )
        )
        while True:
            raw = await asyncio.wait_for(socket.read_message(), timeout)
            if raw is None:
                raise RuntimeError("the kernel's websocket closed")
            message = json.loads(raw)
            if (
                message.get("parent_header", {}).get("msg_id") == msg_id
                and message["header"]["msg_type"] == "execute_reply"
            ):
                socket.close()
                return

    asyncio.run(go())


def rss_with_kernel(lab: Lab) -> int:
    """Start a kernel through the server, run a cell in it, sum the tree's RSS."""
    kernel = lab.api("api/kernels", method="POST", body={"name": "python3"})
    run_in_kernel(lab, kernel["id"], "import pandas, jupyter_workspace; 1 + 1")
    time.sleep(2)  # the sidecar settles after its first searches
    return sum(lab.tree_rss().values())


def main() -> None:
    work = os.environ.get("BENCH_BINDER_WORK")
    root = Path(work) if work else Path(tempfile.mkdtemp(prefix="jw-binder-"))
    try:
        binder = Binder(root)
        binder.build()
        print("\n1. The image's build (simulated: the same commands, no Docker)\n")
        print(
            table(
                ["step", "seconds"],
                [[name, f"{seconds:.1f}"] for name, seconds in binder.timings.items()],
            )
        )

        ready, first, rss = [], [], []
        for _ in range(ROUNDS):
            with binder.launch() as lab:
                ready.append(status_ready(lab))
                first.append(lab.first_search(QUERY)[0])
                rss.append(rss_with_kernel(lab))
        base_rss = []
        for _ in range(ROUNDS):
            with binder.launch(
                extra=["--ServerApp.jpserver_extensions=jupyter_workspace=False"]
            ) as lab:
                status_ready(lab)
                base_rss.append(rss_with_kernel(lab))

        print(f"\n2. Server start to first search hit ({ROUNDS} launches, median)\n")
        r, f = statistics.median(ready), statistics.median(first)
        print(
            table(
                ["measure", "seconds"],
                [
                    ["GET /api/status answers (baseline)", f"{r:.1f}"],
                    [f"first search hit for {QUERY!r}", f"{f:.1f}"],
                    ["ratio", f"{f / r:.2f}"],
                ],
            )
        )
        print(f"\n3. RSS of the server's process tree with a kernel ({ROUNDS} launches, median)\n")
        w, b = statistics.median(rss), statistics.median(base_rss)
        print(
            table(
                ["launch", "MB"],
                [
                    ["JupyterLab + kernel, workspace off (baseline)", f"{b / 2**20:.0f}"],
                    ["the demo: + workspace, sidecar, model", f"{w / 2**20:.0f}"],
                    ["the workspace's share", f"{(w - b) / 2**20:.0f}"],
                ],
            )
        )
    finally:
        if not work:
            shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
