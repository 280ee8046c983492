"""The Tasks panel at the size a newcomer sees it, in headless Chromium against a real `jupyter
lab`: a broken build leads the list, a text filter narrows it, a row is two lines with the whole
due date and no horizontal scrollbar at the sidebar's default width, and a checkbox in a note's
preview ticks the note's `- [ ]` item.

The build failure comes from a real pipeline run (a shell printing a gcc-style error), so no AI
sidecar is needed. Selectors are the stable DOM hooks documented in labextension/README.md.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import TASK, create_note, note_item, open_lab, open_workspace

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("lab_log")]

CONFIG = """\
[pipelines.build]
command = "echo 'src/pid.c:2:5: error: expected expression before return'; exit 1"
"""
PID_C = "int gain(void)\n{    return;\n}\n"
FAILURE_TITLE = "build: expected expression before return"
RUN_TIMEOUT_S = 30
# How long a change may take to reach the page over the event socket.
SYNC_TIMEOUT_MS = 5_000


@pytest.fixture(scope="module")
def lab_server_seed() -> Callable[[Path], None]:
    def seed(root: Path) -> None:
        (root / "workspace.toml").write_text(CONFIG)
        (root / "src").mkdir()
        (root / "src" / "pid.c").write_text(PID_C)

    return seed


@pytest.fixture(scope="module")
def failure(lab_server) -> dict:
    """The BUILD task of a failed run of the seeded pipeline (trusted first, as a user would)."""
    config = lab_server.api("GET", "pipelines")["config"]
    if not config["trusted"]:
        lab_server.api("POST", "pipelines/trust", {"hash": config["hash"]})
    run = lab_server.api("POST", "pipelines/build/run", {})
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while lab_server.api("GET", f"runs/{run['id']}")["status"] == "running":
        assert time.monotonic() < deadline, "the pipeline run did not end"
        time.sleep(0.2)
    while True:
        tasks = lab_server.api("GET", "tasks?origin=detected")["tasks"]
        found = [t for t in tasks if t["detected"]["tag"] == "BUILD"]
        if found:
            return found[0]
        assert time.monotonic() < deadline, "the failure did not become a task"
        time.sleep(0.2)


def add(lab_server, title: str, **fields) -> dict:
    return lab_server.api("POST", "tasks", {"title": title, **fields})


def titles(page: Page) -> list[str]:
    return page.locator(f"{TASK} .jp-Workspace-taskTitle").evaluate_all(
        "inputs => inputs.map(input => input.title)"
    )


def workspace_page(context, lab_server) -> Page:
    page = context.new_page()
    open_lab(page, lab_server)
    open_workspace(page)
    return page


def test_failures_lead_then_priority_then_the_newest(context, lab_server, failure) -> None:
    add(lab_server, "Older chore")
    add(lab_server, "Newer chore")
    add(lab_server, "Urgent fix", priority="urgent")
    page = workspace_page(context, lab_server)
    mine = ["Older chore", "Newer chore", "Urgent fix", "Newest chore", FAILURE_TITLE]

    def order() -> list[str]:
        return [title for title in titles(page) if title in mine]

    expect(page.locator(TASK).first).to_be_visible()
    assert order() == [FAILURE_TITLE, "Urgent fix", "Newer chore", "Older chore"]
    first = page.locator(TASK).first
    expect(first).to_have_class(re.compile("jp-mod-failure"))
    expect(first.locator(".jp-Workspace-taskTag")).to_have_text("BUILD")

    # One added while the panel is open takes its place at once, before the older ones.
    new_task = page.locator(".jp-Workspace-newTaskInput")
    new_task.fill("Newest chore")
    new_task.press("Enter")
    expect(page.locator(f'{TASK} .jp-Workspace-taskTitle[title="Newest chore"]')).to_have_count(1)
    assert order() == [FAILURE_TITLE, "Urgent fix", "Newest chore", "Newer chore", "Older chore"]


def test_the_text_filter_asks_the_server_after_typing(context, lab_server) -> None:
    add(lab_server, "Calibrate the IMU")
    add(lab_server, "Calibrate the star tracker")
    add(lab_server, "Order coffee")
    page = workspace_page(context, lab_server)
    asked: list[str] = []
    page.on(
        "request",
        lambda request: asked.append(request.url) if "/workspace/api/tasks?" in request.url else 0,
    )
    expect(page.locator(f'{TASK} .jp-Workspace-taskTitle[title="Order coffee"]')).to_have_count(1)

    query = page.get_by_role("searchbox", name="Filter tasks by title")
    query.focus()
    page.keyboard.type("calib", delay=40)
    expect(query).to_have_value("calib")
    expect(page.locator(TASK)).to_have_count(2)
    assert sorted(titles(page)) == ["Calibrate the IMU", "Calibrate the star tracker"]
    expect(page.locator(".jp-Workspace-count")).to_have_text("2 shown")
    # One request once the typing pauses, not one per key.
    page.wait_for_timeout(600)
    with_query = [url for url in asked if "q=calib" in url]
    assert len(with_query) == 1 and not [url for url in asked if re.search(r"q=ca?l?i?(&|$)", url)]

    # Tasks made elsewhere meanwhile show only when they match.
    add(lab_server, "Calibrate the sun sensor")
    add(lab_server, "Order more coffee")
    expect(page.locator(TASK)).to_have_count(3, timeout=SYNC_TIMEOUT_MS)

    page.locator(".jp-Workspace-taskQuery").fill("no such task")
    expect(page.locator(".jp-Workspace-tasks .jp-Workspace-empty")).to_have_text(
        "No tasks match the filter."
    )
    # Escape clears the filter.
    query.press("Escape")
    expect(query).to_have_value("")
    expect(page.locator(f'{TASK} .jp-Workspace-taskTitle[title="Order coffee"]')).to_have_count(1)


# What the page reports about the Tasks panel's layout: widths that scroll, each row's and
# details line's height, and the due date input's width beside what it needs for the date.
LAYOUT = """() => {
  const panel = document.querySelector('.jp-Workspace-tasks');
  const scrolling = [];
  for (let node = panel; node && node !== document.body; node = node.parentElement) {
    if (node.scrollWidth > node.clientWidth + 1) {
      scrolling.push(`${node.className}: ${node.scrollWidth} > ${node.clientWidth}`);
    }
  }
  for (const node of panel.querySelectorAll('*')) {
    const style = getComputedStyle(node);
    if (['auto', 'scroll'].includes(style.overflowX) && node.scrollWidth > node.clientWidth + 1) {
      scrolling.push(`${node.className}: ${node.scrollWidth} > ${node.clientWidth}`);
    }
  }
  const rows = [...panel.querySelectorAll('.jp-Workspace-taskItem')].map(row => ({
    title: row.querySelector('.jp-Workspace-taskTitle').title,
    meta: row.querySelector('.jp-Workspace-taskMeta').getBoundingClientRect().height,
    main: row.querySelector('.jp-Workspace-taskMain').getBoundingClientRect().height,
    height: row.getBoundingClientRect().height,
  }));
  const dues = [...panel.querySelectorAll('.jp-Workspace-taskDue:not(.jp-mod-empty)')].map(due => {
    // The same input at its natural width: what the whole date needs.
    const natural = due.cloneNode();
    natural.style.width = 'max-content';
    natural.style.flex = 'none';
    due.parentElement.appendChild(natural);
    const needed = natural.getBoundingClientRect().width;
    natural.remove();
    return { value: due.value, width: due.getBoundingClientRect().width, needed };
  });
  return { sidebar: panel.getBoundingClientRect().width, scrolling, rows, dues };
}"""


def test_a_task_is_two_lines_with_its_whole_due_date_at_the_default_width(
    context, lab_server, failure
) -> None:
    add(
        lab_server,
        "Retune the pitch loop after the actuator swap",
        priority="high",
        due="2026-12-10",
        source={"path": "src/pid.c", "line": 2},
    )
    page = workspace_page(context, lab_server)
    # The widest rows: a failure (tag, priority, source, snippet), a task with a due date and a
    # file link.
    expect(page.locator(f"{TASK}.jp-mod-failure")).to_have_count(1)
    expect(page.locator(f"{TASK} .jp-Workspace-taskDue:not(.jp-mod-empty)")).to_have_count(1)
    layout = page.evaluate(LAYOUT)

    assert layout["scrolling"] == [], layout
    assert layout["dues"]
    for due in layout["dues"]:
        assert due["width"] >= due["needed"] - 0.5, (layout["sidebar"], due)
    for row in layout["rows"]:
        # One line of details (20 px controls), not two or three.
        assert row["meta"] < 30, (layout["sidebar"], row)
        assert row["height"] < row["main"] + row["meta"] + 12, (layout["sidebar"], row)


def test_a_checkbox_in_the_note_preview_ticks_the_item_and_keeps_other_edits(
    context, lab_server
) -> None:
    page = workspace_page(context, lab_server)
    body = (
        "- [ ] draft the plan\n- [x] book the room\n\n```\n- [ ] not a task\n```\n\n- [ ] send it"
    )
    create_note(page, "Launch prep", body)
    note_id = note_item(page, "Launch prep").get_attribute("data-id")
    page.locator('.jp-Workspace-modeButton[data-mode="preview"]').click()
    boxes = page.locator(".jp-Workspace-notePreview input[type=checkbox]")
    expect(boxes).to_have_count(3)
    expect(boxes.nth(2)).to_be_enabled()

    # Someone else adds a line; the open note takes it, then the box is ticked.
    note = lab_server.api("GET", f"notes/{note_id}")
    lab_server.api(
        "PATCH",
        f"notes/{note_id}",
        {"body": note["body"] + "\n- [ ] tell the team", "base_revision": note["revision"]},
    )
    expect(boxes).to_have_count(4, timeout=SYNC_TIMEOUT_MS)
    boxes.nth(2).click()
    expect(page.locator(".jp-Workspace-saveState")).to_have_attribute("data-state", "saved")

    def stored() -> str:
        return lab_server.api("GET", f"notes/{note_id}")["body"]

    deadline = time.monotonic() + 10
    while "- [x] send it" not in stored():
        assert time.monotonic() < deadline, stored()
        time.sleep(0.2)
    assert stored() == (
        "- [ ] draft the plan\n- [x] book the room\n\n```\n- [ ] not a task\n```\n\n"
        "- [x] send it\n- [ ] tell the team"
    )
    expect(boxes.nth(2)).to_be_checked()

    # Unticking by keyboard works the same way, and the box keeps the focus.
    boxes.nth(1).focus()
    page.keyboard.press("Space")
    deadline = time.monotonic() + 10
    while "- [ ] book the room" not in stored():
        assert time.monotonic() < deadline, stored()
        time.sleep(0.2)
    page.wait_for_timeout(300)  # the preview renders the new markdown
    expect(boxes.nth(1)).not_to_be_checked()
    expect(boxes.nth(1)).to_be_focused()
