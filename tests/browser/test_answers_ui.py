"""Answers with no language model answering, in headless Chromium against a real `jupyter lab`
whose LLM address is a closed port (a real unreachable endpoint): the Chat's retrieval-only
answer, and `%workspace ask` in a notebook, whose citations and sources open files at lines.

The served folder holds tests/fixtures/code and a long C function whose answering line is far
below a search snippet's first lines.
"""

from __future__ import annotations

import re
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.pages import (
    ANSWER,
    KERNEL_TIMEOUT_MS,
    ask,
    editor_tab,
    expect_cursor_at,
    expect_no_error,
    new_python_notebook,
    open_chat,
    open_lab,
    run_cell,
    show_tab,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("lab_log")]

THERMAL_C = "\n".join(
    [
        "/* Thermal control of the battery heater */",
        "void heater_step(struct thermal *t, float dt)",
        "{",
        *[f"    t->history[{i}] = t->history[{i + 1}];" for i in range(24)],
        "    float error = t->setpoint - t->temperature;",
        "    t->duty = t->kp * error;",
        "    /* the duty cycle is clamped to the heater's rating */",
        "    if (t->duty > HEATER_DUTY_MAX) t->duty = HEATER_DUTY_MAX;",
        *[f"    t->log[{i}] = t->duty;" for i in range(12)],
        "}",
        "",
    ]
)
CLAMP = "if (t->duty > HEATER_DUTY_MAX) t->duty = HEATER_DUTY_MAX;"
CITATION = "a.jp-Workspace-citation"
SOURCE_LINK = "a.jp-Workspace-resultsLocation"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


CLOSED = f"http://127.0.0.1:{closed_port()}"


@pytest.fixture(scope="module")
def lab_server_seed(code_seed: Callable[[Path], None]) -> Callable[[Path], None]:
    def seed(root: Path) -> None:
        code_seed(root)
        (root / "thermal.c").write_text(THERMAL_C)

    return seed


@pytest.fixture(scope="module")
def lab_server_args(indexing_args: list[str]) -> list[str]:
    # the configured LLM is a closed port: nothing answers
    return [
        *[a for a in indexing_args if not a.startswith("--WorkspaceApp.llm_")],
        "--WorkspaceApp.llm_model=ollama_chat/llama3.2",
        f"--WorkspaceApp.llm_api_base={CLOSED}",
    ]


def test_retrieval_only_answer_gives_one_short_reason_and_the_answering_lines(
    context, lab_server, indexed
) -> None:
    page = context.new_page()
    open_lab(page, lab_server)
    open_chat(page)
    ask(page, "where is the heater duty clamped?")
    answer = page.locator(f'{ANSWER}[data-status="complete"]')
    expect(answer).to_have_count(1, timeout=60_000)
    # Not a model that never answered: the answer says it is retrieval only.
    expect(answer.locator(".jp-Workspace-chatAuthor")).to_have_text("Retrieval only")
    expect(answer.locator(".jp-Workspace-chatModel")).to_have_count(0)
    # One short reason, once; no raw exception.
    reason = f"No language model answered at {CLOSED} (connection refused)"
    expect(answer.locator(".jp-Workspace-retrievalOnlyReason")).to_have_text(reason)
    text = answer.inner_text()
    assert text.count("No language model answered") == 1, text
    assert "SSLContext" not in text, text
    # The passage around the line that answers, cited once.
    first = answer.locator(".jp-Workspace-chatMarkdown li").first
    expect(first.locator(CITATION)).to_have_count(1)
    expect(first.locator(CITATION)).to_have_attribute("data-path", "thermal.c")
    expect(first).not_to_contain_text("thermal.c:1-")  # a window, not the chunk's head
    expect(answer.locator("pre", has_text=CLAMP)).to_have_count(1)
    expect(answer.locator(".jp-Workspace-chatSource")).to_have_count(0)  # no chips repeating
    items = answer.locator(".jp-Workspace-chatMarkdown li")
    for i in range(items.count()):
        where = items.nth(i).locator(CITATION).inner_text()
        assert items.nth(i).inner_text().count(where.split("-")[0]) == 1
    # The reason's button opens Settings → Workspace.
    answer.locator(".jp-Workspace-openSettings").click()
    settings = page.locator(".jp-SettingsPanel, .jp-SettingsEditor").first
    expect(settings).to_be_visible(timeout=30_000)
    expect(page.get_by_text("LLM server address").first).to_be_visible(timeout=30_000)


def test_ask_in_a_notebook_links_its_citations_and_sources(context, lab_server, indexed) -> None:
    page = context.new_page()
    open_lab(page, lab_server)
    new_python_notebook(page)
    asked = run_cell(page, '%workspace ask "where is the heater duty clamped?"')
    expect_no_error(asked)
    output = asked.locator(".jp-Workspace-answerOutput")
    expect(output).to_contain_text("Retrieval-only answer", timeout=KERNEL_TIMEOUT_MS)
    expect(output).to_contain_text(f"No language model answered at {CLOSED}")
    # The citations in the text are links to the file at the line.
    citation = output.locator(f'{CITATION}[data-path="thermal.c"]').first
    expect(citation).to_be_visible()
    line = int(citation.get_attribute("data-line") or "0")
    assert line > 6, line  # the window around the answering line, not the chunk's head
    # The sources are the search table's links.
    source = output.locator(f'.jp-Workspace-results {SOURCE_LINK}[data-path="thermal.c"]')
    expect(source.first).to_have_text(re.compile(r"^thermal\.c:\d+$"))
    source_line = int(source.first.get_attribute("data-line") or "0")

    notebook = editor_tab(page, ".ipynb").inner_text().strip()
    citation.click()
    expect(editor_tab(page, "thermal.c")).to_be_visible()
    expect_cursor_at(page, line)
    show_tab(page, notebook)
    source.first.click()
    expect(editor_tab(page, "thermal.c")).to_be_visible()
    expect_cursor_at(page, source_line)
