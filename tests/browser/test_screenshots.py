"""The README's gallery: every panel in the light and the dark theme, each checked to have
rendered what it shows before it is photographed.

One `jupyter lab` with the real AI sidecar indexing tests/fixtures/code (as in
test_search_ui.py), the fake LLM answering the chat, and a `workspace.toml` whose compile
pipeline fails on a real gcc error. The pictures go to tests/browser/artifacts/screenshots/ on
every run, and to docs/screenshots/<panel>-<theme>.png only when asked
(WORKSPACE_UPDATE_SCREENSHOT=1, as for test_workspace_ui.py's docs/screenshot.png), so that a
test run leaves the checkout clean.

Selectors are the stable DOM hooks documented in labextension/README.md.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import FloatRect, Page, expect

from tests.browser.pages import (
    ANSWER,
    TASK,
    THEMES,
    ask,
    detected_task,
    expect_no_error,
    new_python_notebook,
    note_item,
    open_chat,
    open_lab,
    open_pipelines,
    open_search,
    open_workspace,
    run_cell,
    set_theme,
)
from tests.fake_llm import FakeLLM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.usefixtures("lab_log"),
    pytest.mark.skipif(
        shutil.which("gcc") is None and not os.environ.get("CI"),
        reason="needs gcc for the pipeline run (./dev test installs it; never skipped in CI)",
    ),
]

SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("WORKSPACE_UPDATE_SCREENSHOT") == "1"
    else Path(__file__).resolve().parent / "artifacts" / "screenshots"
)
# Wide enough for titles, snippets and links to be read in the pictures.
LEFT_SIDEBAR_PX = 420
RIGHT_SIDEBAR_PX = 470
RUN_TIMEOUT_S = 30
CONFIG = """\
[pipelines.compile]
command = "gcc -c -o /dev/null guidance.c"
description = "Compile the guidance law"

[pipelines.check]
command = "echo 12 checks passed"
description = "Quick checks"
"""
GUIDANCE_C = """\
/* Guidance: proportional navigation. */
#include <stddef.h>

double acceleration(double closing, double los_rate)
{
    double gain = 3.0;
    double a = gain * closing * los_rate
    return a;
}
"""
NOTE_BODY = """\
# Attitude review

The quaternion norm in `attitude.py` divides by zero for a zero quaternion.

- [x] reproduce with `q = (0, 0, 0, 0)`
- [ ] guard in **quaternion_norm**
- [ ] ask the GNC team about the Kalman filter's covariance reset
"""


@pytest.fixture(scope="module")
def lab_server_seed(code_seed: Callable[[Path], None]) -> Callable[[Path], None]:
    def seed(root: Path) -> None:
        code_seed(root)
        (root / "workspace.toml").write_text(CONFIG)
        (root / "guidance.c").write_text(GUIDANCE_C)

    return seed


@pytest.fixture(scope="module")
def lab_server_args(indexing_args: list[str]) -> list[str]:
    # The default health check (every 5 s, 3 s to answer): the fast one of the other modules
    # gives up on a sidecar after 0.5 s, which on a loaded machine restarts it mid-answer.
    return [arg for arg in indexing_args if "sidecar_health_interval" not in arg]


@pytest.fixture(scope="module")
def content(lab_server, indexed) -> None:
    """What a user would have made by then: notes, tasks and two pipeline runs."""
    lab_server.api("POST", "notes", {"title": "Standup 3 Dec", "body": "- orbit fix merged"})
    lab_server.api("POST", "notes", {"title": "Attitude review", "body": NOTE_BODY})
    for title, priority, due, source in (
        ("Guard the zero quaternion", "urgent", "2026-12-10", ("attitude.py", 22)),
        ("Tune the PID gains on the rig", "high", None, ("pid.c", 1)),
        ("Write up the orbit period check", "normal", "2026-12-18", None),
        ("Archive last week's telemetry", "low", None, None),
    ):
        body: dict = {"title": title, "priority": priority, "due": due}
        if source:
            body["source"] = {"path": source[0], "line": source[1]}
        lab_server.api("POST", "tasks", body)
    config = lab_server.api("GET", "pipelines")["config"]
    if not config["trusted"]:
        lab_server.api("POST", "pipelines/trust", {"hash": config["hash"]})
    for name in ("check", "compile"):
        run = lab_server.api("POST", f"pipelines/{name}/run", {})
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while lab_server.api("GET", f"runs/{run['id']}")["status"] == "running":
            assert time.monotonic() < deadline, f"the {name} run did not end"
            time.sleep(0.2)


@pytest.fixture(params=list(THEMES))
def theme(request: pytest.FixtureRequest, lab_server) -> str:
    """The theme a user chose in Settings → Theme, before the page loads."""
    name = request.param
    set_theme(lab_server, name)
    return name


def lab_in_theme(context, lab_server, theme: str) -> Page:
    page = context.new_page()
    open_lab(page, lab_server)
    expect(page.locator("body")).to_have_attribute("data-jp-theme-name", THEMES[theme])
    return page


def drag_sidebar(page: Page, side: str, width: int) -> None:
    """Drag a sidebar's edge so the panel is `width` pixels wide (as a user would)."""
    handles = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle:visible")
    handle = handles.first if side == "left" else handles.last
    box = handle.bounding_box()
    viewport = page.viewport_size
    if box is None or viewport is None:
        return
    x = width if side == "left" else viewport["width"] - width
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(x, y, steps=5)
    page.mouse.up()


def snap(page: Page, panel: str, theme: str, *, clip: FloatRect | None = None) -> None:
    """Save the page (or a part of it) as <panel>-<theme>.png, once the layout settled."""
    page.wait_for_timeout(600)  # sidebar resize, markdown rendering, fonts
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{panel}-{theme}.png"
    page.screenshot(path=str(path), clip=clip)
    assert path.stat().st_size > 0


def test_notes(context, lab_server, content, theme) -> None:
    page = lab_in_theme(context, lab_server, theme)
    open_workspace(page)
    note_item(page, "Attitude review").click()
    page.locator('.jp-Workspace-modeButton[data-mode="split"]').click()
    preview = page.locator(".jp-Workspace-notePreview")
    expect(preview.locator("h1")).to_contain_text("Attitude review")
    expect(preview.locator('input[type="checkbox"]')).to_have_count(3)
    drag_sidebar(page, "left", LEFT_SIDEBAR_PX + 140)
    snap(page, "notes", theme)


def test_tasks(context, lab_server, content, theme) -> None:
    page = lab_in_theme(context, lab_server, theme)
    open_workspace(page)
    # Added by hand, a TODO in attitude.py, and the compile pipeline's failure.
    title = page.locator(f'{TASK} .jp-Workspace-taskTitle[title="Guard the zero quaternion"]')
    expect(title).to_have_count(1)
    expect(detected_task(page, "attitude.py")).to_have_count(1)
    expect(detected_task(page, "guidance.c")).to_have_count(1)
    title.locator("xpath=ancestor::*[contains(@class, 'jp-Workspace-taskItem')]").locator(
        ".jp-Workspace-taskSource"
    ).click()
    expect(page.locator(".jp-FileEditor .cm-content")).to_contain_text("def quaternion_norm")
    drag_sidebar(page, "left", LEFT_SIDEBAR_PX)
    snap(page, "tasks", theme)


def test_search(context, lab_server, content, theme) -> None:
    page = lab_in_theme(context, lab_server, theme)
    open_search(page)
    expect(page.locator(".jp-Workspace-indexStatus")).to_have_attribute("data-state", "idle")
    search_input = page.locator(".jp-Workspace-searchInput")
    search_input.click()
    search_input.press_sequentially("length of a quaternion", delay=20)
    hit = page.locator('.jp-Workspace-searchHit[data-path="attitude.py"][data-line="21"]')
    expect(hit).to_contain_text("quaternion_norm")
    expect(page.locator(".jp-Workspace-searchSummary")).to_contain_text("results in")
    hit.click()  # the file opens at the hit, beside the panel
    expect(page.locator(".jp-FileEditor .cm-content")).to_contain_text("def quaternion_norm")
    drag_sidebar(page, "left", LEFT_SIDEBAR_PX)
    snap(page, "search", theme)


def test_chat(context, lab_server, content, theme, llm: FakeLLM) -> None:
    llm.tokens = [
        "The orbital period comes from Kepler's third law in ",
        "`period` [orbit.f90:5-9]:\n\n",
        "```fortran\n",
        "t = 2.0d0 * pi * sqrt(a**3 / mu)\n",
        "```\n\n",
        "`propagate` [orbit.f90:11] then steps the orbit with that period.",
    ]
    lab_server.wait_for_sidecar()  # a busy machine may have had it restarted
    page = lab_in_theme(context, lab_server, theme)
    open_chat(page)
    expect(page.locator(".jp-Workspace-sidecarStatus")).to_have_attribute("data-state", "ready")
    ask(page, "How is the orbital period computed?")
    answer = page.locator(f'{ANSWER}[data-status="complete"]')
    expect(answer).to_have_count(1, timeout=60_000)
    expect(answer.locator('.jp-Workspace-chatSource[data-path="orbit.f90"]').first).to_be_visible()
    expect(answer.locator(".jp-Workspace-codeBlock")).to_have_count(1)
    answer.locator('.jp-Workspace-citation[data-path="orbit.f90"]').first.click()
    expect(page.locator(".jp-FileEditor .cm-content")).to_contain_text("function period")
    drag_sidebar(page, "right", RIGHT_SIDEBAR_PX)
    snap(page, "chat", theme)


def test_pipelines(context, lab_server, content, theme, llm: FakeLLM) -> None:
    llm.tokens = [
        "The build fails at `guidance.c:8`: the statement before `return a;` lacks its ';'. ",
        "Add it to line 7.",
    ]
    page = lab_in_theme(context, lab_server, theme)
    open_pipelines(page)
    compile_item = page.locator('.jp-Workspace-pipelineItem[data-name="compile"]')
    expect(compile_item).to_have_attribute("data-status", "failed")
    expect(page.locator('.jp-Workspace-pipelineItem[data-name="check"]')).to_have_attribute(
        "data-status", "passed"
    )
    compile_item.locator(".jp-Workspace-openRun").click()
    view = page.locator('.jp-Workspace-runRoot[data-status="failed"]:visible')
    expect(view.locator(".jp-Workspace-runOutput")).to_contain_text("error: expected")
    expect(view.locator('.jp-Workspace-failureSource[data-path="guidance.c"]')).to_have_count(1)
    lab_server.wait_for_sidecar()
    view.locator(".jp-Workspace-summarizeRun").click()
    expect(view.locator(".jp-Workspace-runSummary")).to_contain_text("lacks its ';'")
    drag_sidebar(page, "left", LEFT_SIDEBAR_PX)
    snap(page, "pipelines", theme)


def test_status_bar(context, lab_server, content, theme) -> None:
    page = lab_in_theme(context, lab_server, theme)
    item = page.locator(".jp-Workspace-sidecarStatusItem")
    expect(item).to_be_visible()
    expect(item).not_to_have_text("")
    # The bar's left part, up to a little past the workspace's item: the rest is empty.
    bar, box = page.locator("#jp-main-statusbar").bounding_box(), item.bounding_box()
    assert bar and box
    right = min(bar["width"], max(box["x"] + box["width"] + 80, 480))
    snap(page, "statusbar", theme, clip={**bar, "x": 0, "width": right})


def test_magics(context, lab_server, content, theme) -> None:
    page = lab_in_theme(context, lab_server, theme)
    new_python_notebook(page)
    status = run_cell(page, "%workspace status")
    expect_no_error(status)
    expect(status.locator(".jp-OutputArea-output")).to_contain_text("Workspace status")
    expect_no_error(run_cell(page, 'hits = %workspace search "quaternion norm" -k 3'))
    hits = run_cell(page, "hits")
    expect(hits.locator(".jp-Workspace-resultsTable tbody tr")).to_have_count(3)
    tasks = run_cell(page, "%workspace task list")
    expect(tasks.locator(".jp-Workspace-resultsTitle")).to_contain_text("open tasks")
    status.scroll_into_view_if_needed()
    snap(page, "magics", theme)
