"""The Search panel before the index holds anything: the sidecar never comes up (a process
that sleeps, as LanceDB and the model load on a slow first start), and the panel still finds
words, read from the files, labelled as not indexed yet, and opens them at the line."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.pages import editor_tab, expect_cursor_at, open_lab, open_search

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("lab_log")]

HIT = ".jp-Workspace-searchHit"


@pytest.fixture(scope="module")
def lab_server_seed(code_seed: Callable[[Path], None]) -> Callable[[Path], None]:
    return code_seed


@pytest.fixture(scope="module")
def lab_server_args() -> list[str]:
    return [
        "--WorkspaceApp.index_enabled=True",
        "--WorkspaceApp.sidecar_enabled=True",
        f"--WorkspaceApp.sidecar_command={sys.executable}",
        "--WorkspaceApp.sidecar_command=-c",
        "--WorkspaceApp.sidecar_command=import time; time.sleep(600)",
        "--WorkspaceApp.sidecar_start_timeout=600",
    ]


def test_words_are_found_in_files_before_the_index_holds_them(context, lab_server) -> None:
    page = context.new_page()
    open_lab(page, lab_server)
    open_search(page)
    search_input = page.locator(".jp-Workspace-searchInput")
    search_input.click()
    search_input.press_sequentially("quaternion_norm", delay=25)
    hit = page.locator(f'{HIT}[data-path="attitude.py"]').first
    expect(hit).to_be_visible(timeout=30_000)
    expect(hit.locator('.jp-Workspace-kindBadge[data-kind="unindexed"]')).to_have_text(
        "not indexed yet"
    )
    expect(hit.locator(".jp-Workspace-searchSnippet")).to_contain_text("def quaternion_norm")
    summary = page.locator(".jp-Workspace-searchSummary")
    expect(summary).to_have_attribute("data-words-only", "true")
    expect(summary).to_contain_text("not indexed yet searched by words")
    line = int(hit.get_attribute("data-line") or 0)
    hit.click()
    expect(editor_tab(page, "attitude.py")).to_be_visible()
    expect_cursor_at(page, line)
