"""`jupyter workspace PATH`: JupyterLab on PATH with the workspace loaded, state under PATH."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, token: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, response.read()


@pytest.fixture
def served(tmp_path):
    root = tmp_path / "project"
    root.mkdir()
    # a user-level `python3` kernel of another interpreter, as a user may well have
    decoy = tmp_path / "user-data" / "kernels" / "python3"
    decoy.mkdir(parents=True)
    (decoy / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [
                    "/elsewhere/bin/python",
                    "-m",
                    "ipykernel_launcher",
                    "-f",
                    "{connection_file}",
                ],
                "display_name": "Python 3 (elsewhere)",
                "language": "python",
            }
        )
    )
    port, token = free_port(), "cli-test-token"
    proc = subprocess.Popen(
        [
            "jupyter",
            "workspace",
            str(root),
            f"--ServerApp.port={port}",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.token={token}",
            "--ServerApp.open_browser=False",
            "--ServerApp.allow_root=True",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        cwd=tmp_path,
        env={
            **os.environ,
            "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
            "JUPYTER_DATA_DIR": str(tmp_path / "user-data"),
            "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "user-settings"),
        },
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            get(f"{base}/api/status", token)
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("server did not start:\n" + proc.stdout.read().decode()[-3000:])
            time.sleep(0.1)
    yield root, base, token
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


def test_serves_jupyterlab_and_the_workspace_on_path(served):
    root, base, token = served
    status, body = get(f"{base}/workspace/api/status", token)
    data = json.loads(body)
    assert status == 200
    assert Path(data["root_dir"]) == root.resolve()
    assert Path(data["state_dir"]) == root.resolve() / ".jupyter-workspace"
    assert (root / ".jupyter-workspace" / "workspace.sqlite").is_file()
    status, page = get(f"{base}/lab", token)
    assert status == 200 and b"jupyter-config-data" in page
    # the prebuilt labextension is served to JupyterLab
    status, body = get(f"{base}/lab/api/extensions", token)
    names = [ext["name"] for ext in json.loads(body)]
    assert "jupyter-workspace" in names


def test_the_default_kernel_is_this_environments_python(served):
    """The magics live in this environment: its Python kernel must be the Lab's default, even
    when the user's own Jupyter data dir has another `python3` spec (a venv prefers its own)."""
    _root, base, token = served
    status, body = get(f"{base}/api/kernelspecs", token)
    specs = json.loads(body)
    assert specs["default"] == "python3"
    argv0 = specs["kernelspecs"]["python3"]["spec"]["argv"][0]
    # a bare "python" is replaced by the server's own interpreter when the kernel starts
    assert argv0 in ("python", "python3") or Path(argv0).parent == Path(sys.executable).parent
    assert specs["kernelspecs"]["python3"]["spec"]["display_name"] != "Python 3 (elsewhere)"


def test_jupyterlab_starts_without_the_news_question(served, tmp_path):
    """JupyterLab asks "Would you like to get notified about official Jupyter news?" on a
    first start while fetchNews is "none": `jupyter workspace` makes "false" the default,
    without writing the user's settings (their own choice still wins)."""
    _root, base, token = served
    url = f"{base}/lab/api/settings/@jupyterlab/apputils-extension:notification"
    status, body = get(url, token)
    setting = json.loads(body)
    assert status == 200
    assert setting["schema"]["properties"]["fetchNews"]["default"] == "false"
    assert setting["settings"] == {}
    assert not (tmp_path / "user-settings").exists()
