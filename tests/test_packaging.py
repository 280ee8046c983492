"""The wheel is what PyPI users and the Binder image install: it must work with no Node.js.

One wheel is built (it reuses the labextension `./dev setup` built), installed into a fresh
virtual environment made from the base interpreter, with every `node`/`npm` hidden from PATH,
and then a real `jupyter workspace` is started from it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BASE_PYTHON = os.path.realpath(getattr(sys, "_base_executable", sys.executable))
NODE_TOOLS = {"node", "nodejs", "npm", "npx", "corepack", "yarn", "jlpm"}

pytestmark = pytest.mark.timeout(1200)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get_json(url: str, token: str, timeout: float = 10) -> object:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())


def path_without_node(tmp: Path) -> str:
    """A PATH with everything of /usr/bin and /bin but Node.js and its package managers."""
    tools = tmp / "no-node-bin"
    tools.mkdir()
    for folder in ("/usr/local/bin", "/usr/bin", "/bin"):
        if not os.path.isdir(folder):
            continue
        for entry in os.scandir(folder):
            if entry.name in NODE_TOOLS or (tools / entry.name).exists():
                continue
            (tools / entry.name).symlink_to(entry.path)
    return str(tools)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(out),
            str(REPO),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    wheels = list(out.glob("jupyter_workspace-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_the_wheel_carries_the_prebuilt_labextension_and_server_config(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    data = next(n.split("/")[0] for n in names if ".data/" in n)
    ext = f"{data}/data/share/jupyter/labextensions/jupyter-workspace"
    assert f"{ext}/package.json" in names
    assert f"{ext}/install.json" in names
    assert any(n.startswith(f"{ext}/static/remoteEntry.") for n in names)
    assert any(n.startswith(f"{ext}/schemas/jupyter-workspace/") for n in names)
    assert f"{data}/data/etc/jupyter/jupyter_server_config.d/jupyter_workspace.json" in names
    assert "jupyter_workspace/server/app.py" in names
    assert "jupyter_workspace/sidecar/server.py" in names
    # nothing of the checkout's own beyond the package
    assert not [n for n in names if n.startswith(("tests/", "bench/", ".venv/", "labextension/"))]
    assert not [n for n in names if "node_modules" in n]


def test_the_wheel_installs_and_runs_without_nodejs(wheel, tmp_path):
    no_node = path_without_node(tmp_path)
    venv = tmp_path / "fresh"
    subprocess.run([BASE_PYTHON, "-m", "venv", str(venv)], check=True, timeout=120)
    bin_ = venv / "bin"
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "JUPYTER_PATH", "JUPYTER_CONFIG_PATH")
    }
    env.update(
        PATH=os.pathsep.join([str(bin_), no_node]),
        VIRTUAL_ENV=str(venv),
        JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
        JUPYTER_DATA_DIR=str(tmp_path / "data"),
        JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"),
    )
    assert shutil.which("node", path=env["PATH"]) is None
    pip = [str(bin_ / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    # the CPU build of torch first, as the README tells PyPI users
    subprocess.run([*pip, "torch==2.13.0"], env=env, check=True, timeout=900)
    proc = subprocess.run([*pip, str(wheel)], env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]

    def jupyter(*args: str) -> str:
        done = subprocess.run(
            [str(bin_ / "jupyter"), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
        return " ".join(re.sub(r"\x1b\[[0-9;]*m", "", done.stdout + done.stderr).split())

    assert "jupyter_workspace enabled" in jupyter("server", "extension", "list")
    listed = jupyter("labextension", "list")
    assert "jupyter-workspace v0.1.0 enabled OK (python, jupyter-workspace)" in listed, listed

    root = tmp_path / "project"
    root.mkdir()
    (root / "flight.py").write_text("def altitude_hold(setpoint):\n    return setpoint\n")
    port, token = free_port(), "wheel-test-token"
    log = (tmp_path / "server.log").open("wb")
    server = subprocess.Popen(
        [
            str(bin_ / "jupyter"),
            "workspace",
            str(root),
            f"--ServerApp.port={port}",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.token={token}",
            "--ServerApp.open_browser=False",
            "--ServerApp.allow_root=True",
        ],
        env=env,
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180
        status: dict = {}
        while time.monotonic() < deadline:
            assert server.poll() is None, (tmp_path / "server.log").read_text()[-3000:]
            try:
                status = get_json(f"{base}/workspace/api/status", token)  # type: ignore[assignment]
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
                continue
            if status.get("sidecar", {}).get("state") == "ready":
                break
            time.sleep(0.5)
        assert status.get("sidecar", {}).get("state") == "ready", (
            json.dumps(status) + (tmp_path / "server.log").read_text()[-3000:]
        )
        assert Path(status["root_dir"]) == root.resolve()
        # the sidecar runs from the fresh environment
        argv0 = Path(f"/proc/{status['sidecar']['pid']}/cmdline").read_bytes().split(b"\0")[0]
        assert Path(argv0.decode()).parent == bin_, argv0
        extensions = get_json(f"{base}/lab/api/extensions", token)
        assert "jupyter-workspace" in [e["name"] for e in extensions]  # type: ignore[union-attr]
        # the default kernel is the Python of this environment (where the magics are)
        specs = get_json(f"{base}/api/kernelspecs", token)
        assert specs["default"] == "python3"  # type: ignore[index]
        spec = subprocess.run(
            [
                str(bin_ / "python"),
                "-c",
                "from jupyter_client.kernelspec import "
                "KernelSpecManager as M; s = M().get_kernel_spec('python3'); "
                "print(s.resource_dir); print(s.argv[0])",
            ],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        assert Path(spec[0]).is_relative_to(venv), spec
        # jupyter_client runs a spec's bare "python" with the server's own interpreter
        assert spec[1] in ("python", "python3") or Path(spec[1]).parent == bin_, spec
        # the index (tree-sitter, the bundled model, LanceDB) works from the wheel's dependencies
        hits: list = []
        while time.monotonic() < deadline + 120 and not hits:
            try:
                # the first search waits for the embedding model to load
                found = get_json(
                    f"{base}/workspace/api/search?q=altitude%20hold&k=3", token, timeout=180
                )
                hits = found.get("results", [])  # type: ignore[union-attr]
            except urllib.error.HTTPError:  # the index is not open yet
                pass
            time.sleep(0.5)
        assert hits and hits[0]["path"] == "flight.py", hits
    finally:
        server.terminate()
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
