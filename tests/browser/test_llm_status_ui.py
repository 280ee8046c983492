"""No LLM running, as a newcomer starts: the status bar says search only and where it looked,
the Chat panel shows the first-run guide, the LLM buttons are disabled with a tooltip; once
an LLM server is up, Test connection finds it and all of that goes away.

The server is configured for an LLM at a port where nothing listens yet; the test then starts
tests/fake_llm.py on that very port, as a user starts `ollama serve`.
"""

from __future__ import annotations

import re
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import (
    create_note,
    open_chat,
    open_lab,
    open_pipelines,
    open_workspace,
)
from tests.fake_llm import FakeLLM

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("lab_log")]

STATUS = ".jp-Workspace-sidecarStatus"
GUIDE = ".jp-Workspace-llmGuide"
RUN_TIMEOUT_MS = 30_000


@pytest.fixture(scope="module")
def llm_port() -> int:
    """A port nothing listens on until the test starts the LLM there."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def lab_server_args(llm_port: int) -> list[str]:
    # The index is on (over an empty folder): search works without an LLM.
    return [
        "--WorkspaceApp.index_enabled=True",
        "--WorkspaceApp.sidecar_enabled=True",
        "--WorkspaceApp.llm_model=openai/fake-model",
        f"--WorkspaceApp.llm_api_base=http://127.0.0.1:{llm_port}/v1",
        "--WorkspaceApp.sidecar_health_interval=0.5",
    ]


@pytest.fixture(scope="module")
def lab_server_seed() -> Callable[[Path], None]:
    def seed(root: Path) -> None:
        (root / "workspace.toml").write_text('[pipelines.fail]\ncommand = "exit 3"\n')

    return seed


@pytest.fixture
def late_llm(llm_port: int) -> Iterator[Callable[[], FakeLLM]]:
    """Start the LLM server on the configured port when the test says so."""
    started: list[FakeLLM] = []

    def start() -> FakeLLM:
        started.append(FakeLLM().start(port=llm_port))
        return started[-1]

    yield start
    for fake in started:
        fake.stop()


def failed_run(lab_server) -> None:
    """Trust the seeded workspace.toml, run its failing pipeline, wait for the end."""
    config = lab_server.api("GET", "pipelines")["config"]
    if not config["trusted"]:
        lab_server.api("POST", "pipelines/trust", {"hash": config["hash"]})
    run = lab_server.api("POST", "pipelines/fail/run", {})
    for _ in range(RUN_TIMEOUT_MS // 200):
        run = lab_server.api("GET", f"runs/{run['id']}")
        if run["status"] != "running":
            return
        time.sleep(0.2)
    raise AssertionError(f"run still running: {run}")


def test_no_llm_is_said_and_test_connection_finds_one_started_later(
    context, lab_server, llm_port, late_llm
) -> None:
    lab_server.wait_for_sidecar()
    page: Page = context.new_page()
    open_lab(page, lab_server)

    # The status bar: search only, where it looked, amber; a click opens the settings.
    status = page.locator(STATUS)
    expect(status).to_contain_text(f"AI: search only — no LLM at 127.0.0.1:{llm_port}")
    expect(status).to_have_attribute("data-state", "search-only")
    status.click()
    expect(page.locator(".jp-SettingsPanel, .jp-SettingsEditor").first).to_be_visible()

    # The LLM buttons are disabled, their tooltip says why.
    open_workspace(page)
    create_note(page, "Guidance review", "Ask Ada Lovelace about the GNC module.")
    refine = page.locator(".jp-Workspace-refineEntities")
    expect(refine).to_be_disabled()
    expect(refine).to_have_attribute("title", re.compile(f"No LLM answers at 127.0.0.1:{llm_port}"))

    # The Chat panel: the first-run guide, keyboard reachable.
    open_chat(page)
    guide = page.locator(GUIDE)
    expect(guide).to_be_visible()
    expect(guide).to_contain_text("ollama serve")
    expect(guide).to_contain_text("ollama pull llama3.2")
    test = guide.locator(".jp-Workspace-testConnection")
    test.focus()
    page.keyboard.press("Enter")
    expect(guide.locator(".jp-Workspace-llmGuideResult")).to_contain_text("Still no answer")

    # The user starts the LLM server, then tests the connection.
    late_llm()
    test.click()
    expect(page.locator(GUIDE)).to_have_count(0)
    expect(page.locator(".jp-Workspace-llmConnected")).to_contain_text("Connected")
    expect(status).to_contain_text(re.compile(r"^AI: ready"))
    expect(status).to_have_attribute("data-state", "ready")
    open_workspace(page)
    expect(refine).to_be_enabled()


@pytest.mark.skipif(not shutil.which("sh"), reason="needs a shell for the pipeline")
def test_summarize_is_disabled_with_a_reason_while_no_llm_answers(context, lab_server) -> None:
    lab_server.wait_for_sidecar()
    failed_run(lab_server)
    # the LLM of the test before is gone: checked again as after a failure
    lab_server.api("POST", "llm/check", {"force": True})
    page: Page = context.new_page()
    open_lab(page, lab_server)
    expect(page.locator(STATUS)).to_contain_text("search only")
    open_pipelines(page)
    page.locator('.jp-Workspace-pipelineItem[data-name="fail"] .jp-Workspace-openRun').click()
    summarize = page.locator(".jp-Workspace-summarizeRun")
    expect(summarize).to_be_disabled()
    expect(summarize).to_have_attribute("title", re.compile("No LLM answers"))
