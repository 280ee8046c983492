"""Fixtures for the browser tests: a real `jupyter lab` process and headless Chromium.

The server runs in a temporary folder with its own config, settings and workspaces
directories, so the tests never read or change the developer's JupyterLab state. A test module
configures its server by overriding `lab_server_args` and `lab_server_seed` (with `indexing_args`
and `code_seed` for the common case). What a user does in the page is in pages.py.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fake_llm import FakeLLM

playwright_sync = pytest.importorskip("playwright.sync_api")

ARTIFACTS = Path(__file__).parent / "artifacts"
# The labextension as built from this checkout (`jlpm build` in labextension/ writes it).
BUILT_LABEXTENSION = Path(__file__).resolve().parents[2] / "jupyter_workspace" / "labextension"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
STARTUP_TIMEOUT_S = 60
# The embedding model loads in a few seconds, but this may be a slow 2-core machine.
INDEX_TIMEOUT_S = 180
# The sidecar's start (or restart) to ready.
SIDECAR_READY_TIMEOUT_S = 60
CODE_FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "code"
# Indexed beside the code fixtures: a hit in its last cell opens the notebook at that cell.
NOTEBOOK = {
    "metadata": {
        "kernelspec": {"language": "python", "name": "python3", "display_name": "Python 3"}
    },
    "nbformat": 4,
    "nbformat_minor": 5,
    "cells": [
        {"cell_type": "markdown", "metadata": {}, "source": "# Reentry study"},
        {
            "cell_type": "code",
            "metadata": {},
            "execution_count": None,
            "outputs": [],
            "source": "import math\nrho0 = 1.225",
        },
        {
            "cell_type": "code",
            "metadata": {},
            "execution_count": None,
            "outputs": [],
            "source": "# the air gets thinner with height\n"
            "def atmospheric_density(height_m):\n"
            "    return rho0 * math.exp(-height_m / 8500.0)",
        },
    ],
}


@dataclass
class LabServer:
    """A running `jupyter lab`: where it listens and what it serves."""

    url: str
    token: str
    root: Path
    log: Path

    def lab_url(self, reset: bool = True) -> str:
        return f"{self.url}/lab?{'reset&' if reset else ''}token={self.token}"

    def api(self, method: str, path: str, body: object | None = None) -> object:
        """Call the workspace REST API directly (to set up or check state)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}/workspace/api/{path}",
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read().decode()
        return json.loads(text) if text else None

    def sidecar(self) -> dict:
        """The sidecar's part of the workspace status: state, pid, restarts..."""
        return self.api("GET", "status")["sidecar"]

    def wait_for_sidecar(
        self, state: str = "ready", timeout: float = SIDECAR_READY_TIMEOUT_S
    ) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            sidecar = self.sidecar()
            if sidecar["state"] == state:
                return sidecar
            if time.monotonic() > deadline:
                raise AssertionError(f"sidecar not {state} after {timeout}s: {sidecar}")
            time.sleep(0.2)

    def put_settings(self, values: dict, plugin: str = "plugin") -> None:
        """Write this extension's user settings (of `jupyter-workspace:<plugin>`) through
        JupyterLab's settings API."""
        request = urllib.request.Request(
            f"{self.url}/lab/api/settings/jupyter-workspace:{plugin}",
            data=json.dumps({"raw": json.dumps(values)}).encode(),
            method="PUT",
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10):
            pass


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _write_settings(settings_dir: Path) -> None:
    """Switch off JupyterLab's news and update checks: their pop-ups cover the UI."""
    apputils = settings_dir / "@jupyterlab" / "apputils-extension"
    apputils.mkdir(parents=True, exist_ok=True)
    (apputils / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )
    (apputils / "themes.jupyterlab-settings").write_text(json.dumps({"theme": "JupyterLab Light"}))


def _wait_until_up(server: LabServer, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            request = urllib.request.Request(
                f"{server.url}/api/status", headers={"Authorization": f"token {server.token}"}
            )
            with urllib.request.urlopen(request, timeout=2):
                pass
            server.api("GET", "status")
            return
        except (urllib.error.URLError, ConnectionError, OSError) as error:
            last_error = error
            time.sleep(0.25)
    log_tail = server.log.read_text(errors="replace")[-4000:] if server.log.exists() else ""
    raise RuntimeError(
        f"jupyter lab did not answer /api/status and /workspace/api/status "
        f"within {STARTUP_TIMEOUT_S}s (last error: {last_error}); log tail:\n{log_tail}"
    )


# pytest-jupyter's autouse fixtures set up and close an asyncio loop around every test,
# which collides with the loop Playwright's sync API keeps running. These tests start no
# in-process server, so both are replaced by no-ops here.
@pytest.fixture
def jp_asyncio_loop() -> None:
    return None


@pytest.fixture
def jp_server_cleanup() -> None:
    return None


@pytest.fixture(scope="module")
def lab_server_args() -> list[str]:
    """Extra `jupyter lab` command-line arguments for this module's server.

    A test module overrides this fixture to configure its server, e.g.
    `["--WorkspaceApp.llm_model=openai/fake-model", ...]`.
    """
    return []


@pytest.fixture(scope="module")
def lab_server_seed() -> Callable[[Path], None] | None:
    """Fills the served folder before the server starts (so the first index scan sees it).

    A test module overrides this fixture to return a function of the root folder, e.g.
    one that copies `tests/fixtures/code/*` into it. `None`: the folder starts empty.
    """
    return None


@pytest.fixture(scope="module")
def code_seed() -> Callable[[Path], None]:
    """A `lab_server_seed` for the modules that search code: tests/fixtures/code/* and
    study.ipynb (NOTEBOOK)."""

    def seed(root: Path) -> None:
        for source in CODE_FIXTURES.iterdir():
            if source.is_file():
                shutil.copy(source, root / source.name)
        (root / "study.ipynb").write_text(json.dumps(NOTEBOOK, indent=1))

    return seed


@pytest.fixture(scope="module")
def indexing_args(fake_llm: FakeLLM) -> list[str]:
    """`lab_server_args` for the modules that need the index: the real sidecar indexes the
    served folder and talks to the fake LLM."""
    return [
        "--WorkspaceApp.index_enabled=True",
        "--WorkspaceApp.sidecar_enabled=True",
        "--WorkspaceApp.llm_model=openai/fake-model",
        f"--WorkspaceApp.llm_api_base={fake_llm.url}/v1",
        "--WorkspaceApp.llm_api_key=sk-test",
        "--WorkspaceApp.sidecar_health_interval=0.5",
    ]


def launch_lab(
    base: Path, root: Path, args: list[str], port: int | None = None, token: str | None = None
) -> tuple[LabServer, subprocess.Popen[bytes]]:
    """Start `jupyter lab` on `root` with its config, settings and workspaces under `base`
    (made on first use, kept across restarts) and wait until it answers."""
    _write_settings(base / "settings")
    for name in ("config", "workspaces", "runtime"):
        (base / name).mkdir(exist_ok=True)
    port = port or _free_port()
    token = token or secrets.token_hex(16)
    server = LabServer(url=f"http://127.0.0.1:{port}", token=token, root=root, log=base / "lab.log")
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(base / "config"),
        "JUPYTERLAB_SETTINGS_DIR": str(base / "settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(base / "workspaces"),
        "JUPYTER_RUNTIME_DIR": str(base / "runtime"),
    }
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--ServerApp.open_browser=False",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        '--ServerApp.jpserver_extensions={"jupyter_workspace": True}',
    ]
    if (BUILT_LABEXTENSION / "package.json").exists():
        # Serve this checkout's build ahead of any installed copy, so a rebuilt frontend is
        # tested without reinstalling the package.
        extensions = base / "labextensions"
        extensions.mkdir(exist_ok=True)
        link = extensions / "jupyter-workspace"
        if not link.exists():
            link.symlink_to(BUILT_LABEXTENSION, target_is_directory=True)
        command.append(f"--LabApp.extra_labextensions_path={extensions}")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    command.extend(args)

    with server.log.open("ab") as log:
        process = subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_until_up(server, process)
    except BaseException:
        stop_lab(process)
        raise
    return server, process


def stop_lab(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (a clean shutdown), SIGKILL after 15 s."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


@pytest.fixture(scope="module")
def lab_server(
    tmp_path_factory: pytest.TempPathFactory,
    lab_server_args: list[str],
    lab_server_seed: Callable[[Path], None] | None,
) -> Iterator[LabServer]:
    """`jupyter lab` with the workspace extension, serving a folder (`.root`), empty unless
    `lab_server_seed` fills it."""
    base = tmp_path_factory.mktemp("lab")
    root = base / "project"
    root.mkdir()
    if lab_server_seed is not None:
        lab_server_seed(root)
    server, process = launch_lab(base, root, lab_server_args)
    try:
        yield server
    finally:
        stop_lab(process)


@pytest.fixture(scope="module")
def fake_llm() -> Iterator[FakeLLM]:
    """A fake OpenAI-style LLM server (tests/fake_llm.py) for this module's `jupyter lab`."""
    fake = FakeLLM().start()
    yield fake
    fake.stop()


@pytest.fixture
def llm(fake_llm: FakeLLM) -> Iterator[FakeLLM]:
    """The fake LLM, put back to a short, healthy answer after each test."""
    yield fake_llm
    fake_llm.tokens, fake_llm.delay, fake_llm.fail = ["Hello", ",", " world", "!"], 0.0, None


@pytest.fixture(scope="module")
def indexed(lab_server) -> dict:
    """Wait until the sidecar is ready and the index has taken in the seeded files."""
    deadline = time.monotonic() + INDEX_TIMEOUT_S
    status: dict = {}
    while time.monotonic() < deadline:
        status = lab_server.api("GET", "index")
        sidecar = lab_server.api("GET", "status")["sidecar"]
        if (
            sidecar["state"] == "ready"
            and status["state"] == "idle"
            and status["files_indexed"] > 0
            and status["files_pending"] == 0
        ):
            return status
        time.sleep(0.5)
    raise AssertionError(f"index not ready after {INDEX_TIMEOUT_S}s: {status}")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (./dev test installs Debian's chromium)")
    with playwright_sync.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):
    """Keep each phase's report on the test item, so fixtures can see a failure."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def context(browser, request: pytest.FixtureRequest) -> Iterator[object]:
    """A fresh browser context (cookies, storage); screenshots of its pages on failure."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(15_000)
    yield context
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        ARTIFACTS.mkdir(exist_ok=True)
        for index, page in enumerate(context.pages):
            path = ARTIFACTS / f"{request.node.name}-page{index + 1}.png"
            try:
                page.screenshot(path=str(path))
            except Exception as error:  # the test failure matters more
                print(f"could not save {path}: {error}")
    context.close()


@pytest.fixture
def lab_log(lab_server: LabServer, request: pytest.FixtureRequest) -> Iterator[None]:
    """Print the server log's tail when a test fails."""
    yield
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        print(lab_server.log.read_text(errors="replace")[-3000:])
