"""Detected tasks in the Tasks panel and entities in a note's preview, in headless Chromium
against a real `jupyter lab` whose real AI sidecar indexes the served folder (comments in code,
the text of notes) and talks to a fake LLM (tests/fake_llm.py) for "Refine entities".

Selectors are the stable DOM hooks documented in labextension/README.md.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.pages import (
    TASK,
    create_note,
    detected_task,
    editor_tab,
    expect_cursor_at,
    open_lab,
    open_workspace,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("lab_log")]

# From a file written to what the panel shows: the watcher, a scan and the event (~20 s
# expected; more on a busy machine).
DETECT_TIMEOUT_MS = 45_000
TODO_LINE = 6
FLIGHT_C = """\
#include <math.h>

/* Attitude control: the rate loop. */
double corrected_rate(double rate) {
    double bias = 0.0;
    // TODO(alice): check the gyro bias REQ-77
    return rate - bias;
}
"""


@pytest.fixture(scope="module")
def lab_server_seed() -> Callable[[Path], None]:
    def seed(root: Path) -> None:
        # Something to index, so that "the index is ready" can be told from "it has not begun".
        (root / "README.md").write_text("# Flight software\n\nThe attitude control loops.\n")

    return seed


@pytest.fixture(scope="module")
def lab_server_args(indexing_args: list[str]) -> list[str]:
    return indexing_args


def write_flight_c(root: Path) -> None:
    """flight.c with its TODO on TODO_LINE (unchanged when it is there already)."""
    path = root / "flight.c"
    if not path.exists() or path.read_text() != FLIGHT_C:
        path.write_text(FLIGHT_C)
    assert FLIGHT_C.splitlines()[TODO_LINE - 1].strip().startswith("// TODO(alice)")


def test_detected_todo_shows_in_tasks_and_opens_its_line(context, lab_server, indexed) -> None:
    page = context.new_page()
    open_lab(page, lab_server)
    open_workspace(page)

    write_flight_c(lab_server.root)
    item = detected_task(page, "flight.c")
    expect(item).to_have_count(1, timeout=DETECT_TIMEOUT_MS)
    expect(item.locator(".jp-Workspace-taskTag")).to_have_text("TODO")
    expect(item.locator(".jp-Workspace-taskOwner")).to_have_text("alice")
    expect(item.locator(".jp-Workspace-taskTitle")).to_have_value(re.compile("check the gyro bias"))
    snippet = item.locator(".jp-Workspace-taskSnippet")
    expect(snippet).to_contain_text("// TODO(alice): check the gyro bias REQ-77")
    assert snippet.evaluate("e => getComputedStyle(e).textOverflow") == "ellipsis"
    # The index keeps the link on the TODO's line: there is no "edit link" button.
    expect(item.locator(".jp-Workspace-editSource")).to_have_count(0)

    # The origin filter: "Mine" hides it, "Detected" shows only detected tasks.
    page.locator('.jp-Workspace-taskOriginFilter [data-origin="user"]').click()
    expect(item).to_have_count(0)
    page.locator('.jp-Workspace-taskOriginFilter [data-origin="detected"]').click()
    expect(item).to_have_count(1)
    expect(page.locator(f'{TASK}:not([data-origin="detected"])')).to_have_count(0)
    page.locator('.jp-Workspace-taskOriginFilter [data-origin="all"]').click()

    link = item.locator(".jp-Workspace-taskSource")
    expect(link).to_have_text(f"flight.c:{TODO_LINE}")
    link.click()
    expect(editor_tab(page, "flight.c")).to_be_visible()
    expect_cursor_at(page, TODO_LINE)

    # The user's edits work as on any task, and are stored.
    task_id = item.get_attribute("data-id")
    item.locator(".jp-Workspace-taskPriority select").select_option("urgent")
    expect(item).to_have_class(re.compile("jp-mod-priority-urgent"))
    deadline = time.monotonic() + 10
    while lab_server.api("GET", f"tasks/{task_id}")["priority"] != "urgent":
        assert time.monotonic() < deadline, "the priority was not stored"
        time.sleep(0.2)


def test_resolved_task_leaves_the_open_list(context, lab_server, indexed) -> None:
    page = context.new_page()
    open_lab(page, lab_server)
    open_workspace(page)

    legacy = lab_server.root / "legacy.py"
    legacy.write_text("def step():\n    # FIXME: drop this workaround\n    return 1\n")
    item = detected_task(page, "legacy.py")
    expect(item).to_have_count(1, timeout=DETECT_TIMEOUT_MS)
    expect(item.locator(".jp-Workspace-taskTag")).to_have_text("FIXME")
    expect(item).not_to_have_class(re.compile("jp-mod-resolved"))

    legacy.write_text("def step():\n    return 1\n")
    expect(item).to_have_count(0, timeout=DETECT_TIMEOUT_MS)

    page.locator('.jp-Workspace-taskFilter [data-status="resolved"]').click()
    expect(item).to_have_count(1)
    expect(item).to_have_class(re.compile("jp-mod-resolved"))
    expect(item.locator(".jp-Workspace-taskResolved")).to_have_text("resolved")
    opacity = float(item.evaluate("e => getComputedStyle(e).opacity"))
    assert opacity < 1
    expect(page.locator(f"{TASK}:not(.jp-mod-resolved)")).to_have_count(0)


def test_note_entities_link_to_their_mentions(context, lab_server, indexed) -> None:
    write_flight_c(lab_server.root)
    page = context.new_page()
    open_lab(page, lab_server)
    open_workspace(page)

    create_note(
        page,
        "Gyro review",
        "We still owe **REQ-77**: the gyro bias check.\n\n```\nREQ-77 in a code block\n```\n",
    )
    page.locator('.jp-Workspace-modeButton[data-mode="preview"]').click()
    preview = page.locator(".jp-Workspace-notePreview")
    expect(preview.locator("strong")).to_contain_text("REQ-77")
    link = preview.locator(".jp-Workspace-entityLink", has_text="REQ-77")
    expect(link).to_have_count(1, timeout=DETECT_TIMEOUT_MS)  # the code block's stays text
    expect(preview.locator("pre")).to_contain_text("REQ-77 in a code block")
    expect(preview.locator("pre .jp-Workspace-entityLink")).to_have_count(0)
    expect(link).to_have_class(re.compile("jp-mod-kind-requirement"))
    expect(page.locator(".jp-Workspace-entityCount")).to_contain_text("entit")

    link.click()
    popover = page.locator(".jp-Workspace-entityPopover")
    expect(popover).to_be_focused()
    expect(popover.locator(".jp-Workspace-entityName")).to_have_text("REQ-77")
    mention = popover.locator('.jp-Workspace-entityMention[data-path="flight.c"]')
    expect(mention).to_have_attribute("data-line", str(TODO_LINE))
    expect(mention).to_contain_text("check the gyro bias REQ-77")
    expect(popover.locator('.jp-Workspace-entitySection[data-section="notes"]')).to_contain_text(
        "Gyro review"
    )

    # Escape closes it and gives the focus back to the link; Enter opens it again.
    page.keyboard.press("Escape")
    expect(popover).to_have_count(0)
    expect(link).to_be_focused()
    page.keyboard.press("Enter")
    expect(popover).to_be_focused()

    mention.click()
    expect(popover).to_have_count(0)
    expect(editor_tab(page, "flight.c")).to_be_visible()
    expect_cursor_at(page, TODO_LINE)


def test_a_file_entity_opens_its_workspace_file(context, lab_server, indexed) -> None:
    """A note names `ut_tc_process.c`; the file is at util/src_util/ (issue 15)."""
    source = lab_server.root / "util" / "src_util" / "ut_tc_process.c"
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_text("/* Unit tests of the TC processing. */\nint main(void) { return 0; }\n")
    page = context.new_page()
    open_lab(page, lab_server)
    open_workspace(page)
    create_note(page, "TC failures", "The frame check fails in ut_tc_process.c again.")
    page.locator('.jp-Workspace-modeButton[data-mode="preview"]').click()
    link = page.locator(
        ".jp-Workspace-notePreview .jp-Workspace-entityLink", has_text="ut_tc_process.c"
    )
    expect(link).to_have_count(1, timeout=DETECT_TIMEOUT_MS)
    expect(link).to_have_class(re.compile("jp-mod-kind-file"))
    entity = f"entities/{link.get_attribute('data-entity-id')}"
    deadline = time.monotonic() + DETECT_TIMEOUT_MS / 1000
    while not lab_server.api("GET", entity)["paths"]:  # the watcher has catalogued the file
        assert time.monotonic() < deadline, "the file entity names no workspace file"
        time.sleep(0.2)

    link.click()
    popover = page.locator(".jp-Workspace-entityPopover")
    button = popover.locator(".jp-Workspace-entityOpenFile")
    expect(button).to_have_text("Open file", timeout=DETECT_TIMEOUT_MS)
    expect(button).to_have_attribute("data-path", "util/src_util/ut_tc_process.c")
    button.click()
    expect(popover).to_have_count(0)
    expect(editor_tab(page, "ut_tc_process.c")).to_be_visible()


def test_refine_entities_shows_busy_and_errors(context, lab_server, indexed, llm) -> None:
    page = context.new_page()
    open_lab(page, lab_server)
    open_workspace(page)
    create_note(page, "Star tracker notes", "The star tracker drifts after an eclipse.")
    page.locator('.jp-Workspace-modeButton[data-mode="split"]').click()
    refine = page.locator(".jp-Workspace-refineEntities")
    outcome = page.locator(".jp-Workspace-refineOutcome")

    # An answer that is not a list of entities: the 502's reason is shown.
    llm.tokens = ["I ", "cannot ", "help ", "with ", "that."]
    llm.delay = 0.4
    refine.click()
    expect(refine).to_be_disabled()
    expect(refine).to_have_attribute("aria-busy", "true")
    expect(refine).to_have_text("Refining…")
    expect(outcome).to_have_attribute("data-ok", "false", timeout=30_000)
    expect(outcome).to_contain_text("language model")
    expect(refine).to_be_enabled()

    # A good answer: the entity it names becomes a link in the preview.
    llm.tokens = [json.dumps([{"kind": "component", "name": "star tracker"}])]
    llm.delay = 0.0
    refine.click()
    expect(outcome).to_have_attribute("data-ok", "true", timeout=30_000)
    link = page.locator(
        ".jp-Workspace-notePreview .jp-Workspace-entityLink", has_text="star tracker"
    )
    expect(link).to_have_count(1)
    expect(link).to_have_class(re.compile("jp-mod-kind-component"))
