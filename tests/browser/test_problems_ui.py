"""Build failures as a Problems list and as lint markers in the editor, in headless Chromium
against a real `jupyter lab`: a real gcc error is listed at its file:line:column and underlined
in the open C file; a row opens the editor at that column (click or keyboard); the fix typed
and saved, a passing run clears both.

Selectors are the stable DOM hooks documented in labextension/README.md.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import editor_tab, expect_cursor_at, open_lab, open_problems

pytestmark = [
    pytest.mark.browser,
    pytest.mark.usefixtures("lab_log"),
    pytest.mark.skipif(
        shutil.which("gcc") is None and not os.environ.get("CI"),
        reason="needs gcc (./dev test installs it; never skipped in CI)",
    ),
]

RUN_TIMEOUT_S = 30
CONFIG = """\
[pipelines.compile]
command = "gcc -c -o /dev/null guidance.c"
"""
BAD_C = """\
/* Guidance: proportional navigation. */
#include <stddef.h>

double acceleration(double closing, double los_rate)
{
    double gain = 3.0;
    double a = gain * closing * los_rate
    return a;
}
"""
# gcc reports the missing ';' at the next token: `return`, line 8, column 5.
BAD_LINE, BAD_COLUMN = BAD_C.splitlines().index("    return a;") + 1, 5
PROBLEM = ".jp-Workspace-problem"
# the editor's lint marks: the underlined range and the gutter's marker
UNDERLINE = ".jp-FileEditor .cm-lintRange-error"
MARKER = ".jp-FileEditor .cm-lint-marker-error"


@pytest.fixture(scope="module")
def lab_server_seed() -> Callable[[Path], None]:
    def seed(root: Path) -> None:
        (root / "workspace.toml").write_text(CONFIG)
        (root / "guidance.c").write_text(BAD_C)

    return seed


@pytest.fixture(scope="module")
def lab_server_args() -> list[str]:
    return ["--WorkspaceApp.index_enabled=False"]


@pytest.fixture(autouse=True)
def trusted(lab_server) -> None:
    config = lab_server.api("GET", "pipelines")["config"]
    if config["exists"] and not config["trusted"]:
        lab_server.api("POST", "pipelines/trust", {"hash": config["hash"]})


def run_compile(lab_server, status: str) -> None:
    """Run the pipeline (as a watch run or a magic would) and wait for its end."""
    run = lab_server.api("POST", "pipelines/compile/run", {})
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while run["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.2)
        run = lab_server.api("GET", f"runs/{run['id']}")
    assert run["status"] == status, run


def test_a_gcc_error_is_a_problem_and_a_lint_marker_until_a_run_passes(context, lab_server) -> None:
    page = context.new_page()
    open_lab(page, lab_server, "guidance.c")
    open_problems(page)
    expect(page.locator(".jp-Workspace-problems .jp-Workspace-empty")).to_be_visible()

    run_compile(lab_server, "failed")

    problem = page.locator(PROBLEM)
    expect(problem).to_have_count(1)
    expect(problem).to_have_attribute("data-severity", "error")
    expect(problem.locator(".jp-Workspace-problemSeverity")).to_have_attribute(
        "aria-label", "Error"
    )
    expect(problem.locator(".jp-Workspace-problemPlace")).to_have_text(
        f"guidance.c:{BAD_LINE}:{BAD_COLUMN}"
    )
    expect(problem.locator(".jp-Workspace-problemMessage")).to_contain_text("expected")
    expect(problem.locator(".jp-Workspace-problemPipeline")).to_have_text("pipeline compile")
    expect(page.locator(".jp-Workspace-problemCount")).to_have_text("1")

    # The open file: the token gcc points at is underlined, the gutter has a marker.
    expect(page.locator(UNDERLINE)).to_have_count(1)
    expect(page.locator(UNDERLINE)).to_have_text("return")
    marked_line = page.locator(".jp-FileEditor .cm-line", has=page.locator(".cm-lintRange-error"))
    expect(marked_line).to_have_text("    return a;")
    expect(page.locator(MARKER)).to_have_count(1)

    # A click opens the editor at the line and column; so does Enter on the focused row.
    problem.locator(".jp-Workspace-problemLink").click()
    expect(editor_tab(page, "guidance.c")).to_be_visible()
    expect_cursor_at(page, BAD_LINE, BAD_COLUMN)
    page.keyboard.press("ArrowUp")  # the cursor moves away, to come back by keyboard
    expect_cursor_at(page, BAD_LINE - 1, BAD_COLUMN)
    page.locator(".jp-Workspace-problemLink").focus()
    page.keyboard.press("Enter")
    expect_cursor_at(page, BAD_LINE, BAD_COLUMN)

    # The fix typed in the editor and saved: the next run passes and clears both.
    page.keyboard.press("ArrowUp")
    page.keyboard.press("End")
    page.keyboard.type(";")
    page.keyboard.press("Control+s")
    saved = lab_server.root / "guidance.c"
    deadline = time.monotonic() + 10
    while "los_rate;" not in saved.read_text():
        assert time.monotonic() < deadline, "the fix was not saved"
        time.sleep(0.1)
    run_compile(lab_server, "passed")
    expect(page.locator(PROBLEM)).to_have_count(0)
    expect(page.locator(".jp-Workspace-problems .jp-Workspace-empty")).to_be_visible()
    expect(page.locator(UNDERLINE)).to_have_count(0)
    expect(page.locator(MARKER)).to_have_count(0)


def test_a_page_opened_after_the_failure_shows_it_in_a_file_opened_later(
    context, lab_server
) -> None:
    # Indented with tabs: gcc counts a tab to the next multiple of 8, `return` is at column 9.
    (lab_server.root / "guidance.c").write_text(BAD_C.replace("    ", "\t"))
    run_compile(lab_server, "failed")

    page = context.new_page()
    open_lab(page, lab_server)
    open_problems(page)
    expect(page.locator(PROBLEM)).to_have_count(1)
    expect(page.locator(".jp-Workspace-problemPlace")).to_have_text(f"guidance.c:{BAD_LINE}:9")
    page.locator(".jp-Workspace-problemLink").click()
    expect(editor_tab(page, "guidance.c")).to_be_visible()
    expect_cursor_at(page, BAD_LINE, 2)  # after the tab
    expect(page.locator(UNDERLINE)).to_have_text("return")


def theme_colour(page: Page, variable: str) -> str:
    """A theme variable's colour as the browser computes colours (`rgb(...)`)."""
    return page.evaluate(
        """variable => {
            const probe = document.createElement('span');
            probe.style.color = `var(${variable})`;
            document.body.appendChild(probe);
            const colour = getComputedStyle(probe).color;
            probe.remove();
            return colour;
        }""",
        variable,
    )


def set_theme(lab_server, theme: str) -> None:
    """Settings → Theme, as a user sets it, for the pages loaded next."""
    put = urllib.request.Request(
        f"{lab_server.url}/lab/api/settings/@jupyterlab/apputils-extension:themes",
        data=json.dumps({"raw": json.dumps({"theme": theme})}).encode(),
        method="PUT",
        headers={"Authorization": f"token {lab_server.token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(put, timeout=10):
        pass


def test_problems_take_the_dark_themes_colours(context, lab_server) -> None:
    (lab_server.root / "guidance.c").write_text(BAD_C)
    run_compile(lab_server, "failed")
    set_theme(lab_server, "JupyterLab Dark")
    try:
        page = context.new_page()
        open_lab(page, lab_server, "guidance.c")
        expect(page.locator("body")).to_have_attribute("data-jp-theme-name", "JupyterLab Dark")
        open_problems(page)
        expect(page.locator(UNDERLINE)).to_have_text("return")
        error, text, ground = (
            theme_colour(page, v)
            for v in ("--jp-error-color1", "--jp-ui-font-color1", "--jp-layout-color1")
        )
        style = "(node, property) => getComputedStyle(node)[property]"
        dot = page.locator(".jp-Workspace-problemSeverity")
        assert dot.evaluate(style, "backgroundColor") == error
        message = page.locator(".jp-Workspace-problemMessage")
        assert message.evaluate(style, "color") == text
        panel = page.locator(".jp-Workspace-problemsRoot")
        assert panel.evaluate(style, "backgroundColor") == ground
        underline = page.locator(UNDERLINE)
        assert underline.evaluate(style, "textDecorationColor") == error
        assert page.locator(MARKER).evaluate(style, "backgroundColor") == error
    finally:
        set_theme(lab_server, "JupyterLab Light")
