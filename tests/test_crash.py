"""A server killed with SIGKILL while four clients write loses no acknowledged note, and its
database passes `integrity_check` (issue 13's audit: 500 POSTs, kill -9 at 137, 250, 401 acks)."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

TOKEN = "crash-test-token"
CLIENTS = 4


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def call(base: str, method: str, route: str, body: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(
        f"{base}/workspace/api/{route}",
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"token {TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read() or b"null")


def start_server(root: Path, tmp_path: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_server",
            f"--ServerApp.root_dir={root}",
            f"--ServerApp.port={port}",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.token={TOKEN}",
            "--ServerApp.open_browser=False",
            "--ServerApp.allow_root=True",
            "--WorkspaceApp.sidecar_enabled=False",
            "--WorkspaceApp.index_enabled=False",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env={**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")},
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            call(base, "GET", "status")
            return proc, base
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("server did not start:\n" + proc.stderr.read().decode()[-3000:])
            time.sleep(0.1)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def test_kill_9_during_writes_loses_no_acknowledged_note(tmp_path):
    kill_at = 137  # acknowledgements before the kill (one of the audit's points)
    root = tmp_path / "project"
    root.mkdir()
    proc, base = start_server(root, tmp_path)
    acked: list[tuple[int, str]] = []
    refused: list[int] = []
    enough = threading.Event()

    def client(n: int) -> None:
        for i in range(10_000):
            title = f"client {n} note {i}"
            try:
                _, note = call(base, "POST", "notes", {"title": title, "body": "x" * 200})
            except urllib.error.HTTPError as e:
                refused.append(e.code)
                return
            except OSError:
                return  # the server is gone: this write was never acknowledged
            acked.append((note["id"], title))
            if len(acked) >= kill_at:
                enough.set()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    for thread in threads:
        thread.start()
    enough.wait(120)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    for thread in threads:
        thread.join(30)
    assert len(acked) >= kill_at and not refused

    proc, base = start_server(root, tmp_path)
    try:
        _, listed = call(base, "GET", "notes")
    finally:
        stop(proc)
    present = {(note["id"], note["title"]) for note in listed["notes"]}
    assert set(acked) <= present
    with sqlite3.connect(root / ".jupyter-workspace" / "workspace.sqlite") as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
