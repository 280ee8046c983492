"""Make the Binder image's demo ready at build time (run by binder/postBuild, once).

1. Configure the environment's Jupyter server: the demo folder is the served root, JupyterLab
   opens on the tour notebook and a source file with the Workspace sidebar shown, and no
   news/update pop-up covers them.
2. Index the demo with a real server (which also converts the embedding model to ONNX into
   the model cache: at run time the sidecar embeds with ONNX Runtime, without torch), seed the
   demo's notes, trust its `workspace.toml`, and stop. A visitor's first search then answers
   at once.

Each step prints its duration, so the image build's log says where the time goes.
Usage: python binder/build_demo.py [--skip-index]
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

BINDER = Path(__file__).resolve().parent
DEMO = BINDER / "demo"
# the files JupyterLab opens first (besides the tour)
FIRST_FILES = ["tour.ipynb", "fsw/pid.c"]
INDEX_TIMEOUT_S = 900


def step(name: str):
    """Print a step's name, then its duration when the `with` block ends."""

    class _Step:
        def __enter__(self) -> None:
            self.start = time.perf_counter()
            print(f"[build_demo] {name}…", flush=True)

        def __exit__(self, *exc: object) -> None:
            took = time.perf_counter() - self.start
            print(f"[build_demo] {name}: {took:.1f} s", flush=True)

    return _Step()


def configure() -> None:
    """The environment's own config (sys.prefix), so any server started from it serves the
    demo, whatever folder Binder starts it in."""
    # (not jupyter_server_config.d/: only extensions are read from there)
    config = Path(sys.prefix) / "etc" / "jupyter" / "jupyter_server_config.json"
    config.parent.mkdir(parents=True, exist_ok=True)
    current = json.loads(config.read_text()) if config.exists() else {}
    current.setdefault("ServerApp", {})["root_dir"] = str(DEMO)
    config.write_text(json.dumps(current, indent=2) + "\n")
    settings = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings"
    settings.mkdir(parents=True, exist_ok=True)
    overrides = settings / "overrides.json"
    current = json.loads(overrides.read_text()) if overrides.exists() else {}
    current["@jupyterlab/apputils-extension:notification"] = {
        "fetchNews": "false",
        "checkForUpdates": False,
    }
    overrides.write_text(json.dumps(current, indent=2) + "\n")
    workspace = BINDER / "workspace.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "workspaces",
            "import",
            "--name=default",
            str(workspace),
        ],
        check=True,
        cwd=DEMO,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM (a clean shutdown), then SIGKILL of its session after 30 s."""
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def _get(url: str, token: str) -> dict:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def index() -> None:
    """A real server on the demo until its index is idle; then the notes and the trust."""
    port, token = free_port(), secrets.token_hex(16)
    url = f"http://127.0.0.1:{port}"
    log = BINDER / ".build_demo.log"
    with step("start the server on the demo"), log.open("wb") as out:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter_server",
                f"--ServerApp.port={port}",
                "--ServerApp.ip=127.0.0.1",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={DEMO}",
                "--ServerApp.open_browser=False",
                '--ServerApp.jpserver_extensions={"jupyter_workspace": True}',
                # a container or CI runner building as root (Binder builds as its user)
                *(["--allow-root"] if os.geteuid() == 0 else []),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=DEMO,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + INDEX_TIMEOUT_S
        with step("index the demo (the model converted to ONNX on first use)"):
            state = None
            while True:
                if server.poll() is not None:
                    raise SystemExit(f"the server exited; see {log}")
                try:
                    state = _get(f"{url}/workspace/api/index", token)
                except (urllib.error.URLError, ConnectionError, OSError):
                    state = None
                if state and state["state"] == "idle" and state["files_pending"] == 0:
                    break
                if state and state["state"] == "failed":
                    raise SystemExit(f"indexing failed: {state.get('error')}")
                if time.monotonic() > deadline:
                    raise SystemExit(f"the index was not ready in {INDEX_TIMEOUT_S} s: {state}")
                time.sleep(1)
            print(
                f"[build_demo] {state['files_indexed']} files, {state['chunks']} chunks",
                flush=True,
            )
        with step("seed the notes and trust workspace.toml"):
            env = {**os.environ, "JUPYTER_WORKSPACE_URL": url, "JUPYTER_WORKSPACE_TOKEN": token}
            subprocess.run(
                [sys.executable, str(DEMO / "seed_notes.py")], check=True, env=env, cwd=DEMO
            )
    finally:
        with step("stop the server"):
            stop(server)
    log.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-index", action="store_true", help="only configure")
    args = parser.parse_args()
    with step("configure Jupyter for the demo"):
        configure()
    if not args.skip_index:
        index()


if __name__ == "__main__":
    main()
