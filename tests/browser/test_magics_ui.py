"""The `%workspace` magics in a JupyterLab notebook, in headless Chromium: the magics load by
themselves into a new Python kernel (and again after a restart), and their results tables
render through the workspace's MIME renderer, whose locations open the file at the line.

The server indexes tests/fixtures/code with its real AI sidecar, as in test_search_ui.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.pages import (
    KERNEL_TIMEOUT_MS,
    editor_tab,
    expect_cursor_at,
    expect_no_error,
    menu,
    new_python_notebook,
    open_lab,
    run_cell,
    show_tab,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("lab_log")]

RESULTS = ".jp-Workspace-results"
ROW = ".jp-Workspace-resultsTable tbody tr"
LINK = "a.jp-Workspace-resultsLocation"
TASK_LINE = 5


@pytest.fixture(scope="module")
def lab_server_seed(code_seed: Callable[[Path], None]) -> Callable[[Path], None]:
    return code_seed


@pytest.fixture(scope="module")
def lab_server_args(indexing_args: list[str]) -> list[str]:
    return indexing_args


def test_magics_load_by_themselves_and_their_tables_open_files(
    context, lab_server, indexed
) -> None:
    lab_server.api(
        "POST",
        "tasks",
        {
            "title": "Guard the zero quaternion",
            "source": {"path": "attitude.py", "line": TASK_LINE},
        },
    )
    page = context.new_page()
    open_lab(page, lab_server)
    new_python_notebook(page)

    # No %load_ext: the extension loaded the magics when the kernel started.
    status = run_cell(page, "%workspace status")
    expect_no_error(status)
    expect(status.locator(".jp-OutputArea-output")).to_contain_text("Workspace status")
    expect(status.locator(".jp-OutputArea-output")).to_contain_text("AI sidecar")

    # Search hits are a Python value; displayed, they are the MIME renderer's table.
    expect_no_error(run_cell(page, 'hits = %workspace search "quaternion norm" -k 3'))
    hits = run_cell(page, "hits")
    table = hits.locator(RESULTS)
    expect(table.locator(".jp-Workspace-resultsTitle")).to_contain_text("3 results for")
    expect(table.locator(".jp-Workspace-resultsTitle")).to_contain_text("quaternion norm")
    expect(table.locator(ROW)).to_have_count(3)
    expect(table.locator("th")).to_have_text(
        ["location", "symbol", "kind", "language", "score", "snippet"]
    )
    # Ahead of the text/html the magics send for other frontends.
    expect(hits.locator(".jp-RenderedHTMLCommon")).to_have_count(0)
    hit = table.locator(f'{LINK}[data-path="attitude.py"][data-line="21"]')
    expect(hit).to_have_text("attitude.py:21")
    expect(hit.locator("xpath=ancestor::tr")).to_contain_text("quaternion_norm")

    tasks = run_cell(page, "%workspace task list")
    task_table = tasks.locator(RESULTS)
    expect(task_table.locator(".jp-Workspace-resultsTitle")).to_contain_text("open tasks")
    task = task_table.locator(ROW, has_text="Guard the zero quaternion")
    expect(task.locator(LINK)).to_have_text(f"attitude.py:{TASK_LINE}")

    # A location opens the file in the editor, with the cursor on its line.
    notebook = editor_tab(page, ".ipynb").inner_text().strip()
    hit.click()
    expect(editor_tab(page, "attitude.py")).to_be_visible()
    expect_cursor_at(page, 21)
    show_tab(page, notebook)
    task.locator(LINK).click()
    expect(editor_tab(page, "attitude.py")).to_be_visible()
    expect_cursor_at(page, TASK_LINE)

    # After a restart the new kernel has the magics too, ahead of the cells run at once
    # (a failing cell would stop the run: the last cell would not run).
    show_tab(page, notebook)
    menu(page, "Edit", "Clear Outputs of All Cells")
    expect(status.locator(".jp-InputPrompt")).to_have_text("[ ]:")
    menu(page, "Kernel", "Restart Kernel and Run All Cells…")
    page.locator(".jp-Dialog-button.jp-mod-accept", has_text="Restart").click()
    expect(tasks.locator(".jp-InputPrompt")).to_have_text("[4]:", timeout=KERNEL_TIMEOUT_MS)
    expect(status.locator(".jp-InputPrompt")).to_have_text("[1]:")
    expect_no_error(status)
    expect(status.locator(".jp-OutputArea-output")).to_contain_text("Workspace status")
    expect(hits.locator(f"{RESULTS} {ROW}")).to_have_count(3)
