"""The Workspace sidebar, driven in headless Chromium against a real `jupyter lab`.

Selectors are the stable DOM hooks documented in labextension/README.md.
"""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import (
    TASK,
    create_note,
    note_item,
    open_chat,
    open_lab,
    open_workspace,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("lab_log")]

# The README's picture: written to the artifacts folder on every run, and to docs/ only when
# asked (WORKSPACE_UPDATE_SCREENSHOT=1), so that a test run leaves the checkout clean.
SCREENSHOT = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshot.png"
    if os.environ.get("WORKSPACE_UPDATE_SCREENSHOT") == "1"
    else Path(__file__).resolve().parent / "artifacts" / "screenshot.png"
)
# How long a change may take to show up in another tab.
SYNC_TIMEOUT_MS = 5_000
# The file task links point into, and the line a link lands on (far enough down to scroll).
TARGET_LINE = 120
TARGET_TEXT = "def parse_header(blob: bytes) -> Header:"


def write_main_py(root: Path) -> None:
    """A plausible source file with TARGET_TEXT on TARGET_LINE."""
    lines = ['"""Telemetry frame decoding."""', "", "from .frames import Frame, Header", ""]
    field = 0
    while len(lines) < TARGET_LINE - 4:
        field += 1
        lines += [
            "",
            f"def check_field_{field}(frame: Frame) -> bool:",
            f'    """Field {field} must be inside its calibrated range."""',
            f"    return frame.low({field}) <= frame.value({field}) <= frame.high({field})",
        ]
    padding = TARGET_LINE - 1 - len(lines)
    lines += ["", "", "# Headers", ""][-padding:] if padding else []
    lines += [""] * (TARGET_LINE - 1 - len(lines))
    lines += [
        TARGET_TEXT,
        '    """Split the fixed 16-byte header off a raw frame."""',
        "    head = bytes(blob[:16])  # copies the blob a second time",
        "    return Header.unpack(head)",
        "",
    ]
    (root / "src").mkdir(exist_ok=True)
    (root / "src" / "main.py").write_text("\n".join(lines) + "\n")
    assert lines[TARGET_LINE - 1] == TARGET_TEXT


def task_item(page: Page, title: str):
    return page.locator(f'{TASK}:has(.jp-Workspace-taskTitle[title="{title}"])')


def add_task(page: Page, title: str, *, priority: str = "normal", source: str = "") -> str:
    """Add a task through the form; returns its id."""
    page.locator(".jp-Workspace-newTaskPriority select").select_option(priority)
    page.locator(".jp-Workspace-newTaskSource").fill(source)
    new_task = page.locator(".jp-Workspace-newTaskInput")
    new_task.fill(title)
    new_task.press("Enter")
    expect(new_task).to_have_value("")
    item = task_item(page, title)
    expect(item).to_have_count(1)
    task_id = item.get_attribute("data-id")
    assert task_id
    return task_id


def test_note_and_task_survive_a_reload(context, lab_server) -> None:
    page = context.new_page()
    open_lab(page, lab_server)
    open_workspace(page)

    create_note(page, "Release checklist", "- tag the build\n- update the **changelog**")
    task_id = add_task(page, "Rotate the signing key", priority="high")

    page.reload()
    expect(page.locator("#jupyterlab-splash")).to_have_count(0, timeout=60_000)
    open_workspace(page)

    expect(note_item(page, "Release checklist")).to_have_count(1)
    item = page.locator(f'.jp-Workspace-taskItem[data-id="{task_id}"]')
    expect(item.locator(".jp-Workspace-taskTitle")).to_have_value("Rotate the signing key")
    expect(item.locator(".jp-Workspace-taskPriority select")).to_have_value("high")

    note_item(page, "Release checklist").click()
    expect(page.locator(".jp-Workspace-noteBody")).to_have_value(
        "- tag the build\n- update the **changelog**"
    )


def test_changes_in_one_tab_appear_in_another(context, lab_server) -> None:
    first = context.new_page()
    open_lab(first, lab_server)
    open_workspace(first)
    create_note(first, "Shared findings", "first draft")
    task_id = add_task(first, "Profile the tokenizer")

    second = context.new_page()
    open_lab(second, lab_server)
    open_workspace(second)

    # A task ticked off in the second tab shows as done in the first.
    first.locator('.jp-Workspace-taskFilter [data-status="all"]').click()
    second_item = second.locator(f'.jp-Workspace-taskItem[data-id="{task_id}"]')
    second_item.locator(".jp-Workspace-taskDone").check()
    first_item = first.locator(f'.jp-Workspace-taskItem[data-id="{task_id}"]')
    expect(first_item).to_have_attribute("data-done", "true", timeout=SYNC_TIMEOUT_MS)
    expect(first_item.locator(".jp-Workspace-taskDone")).to_be_checked()

    # A task added in the first tab appears in the second.
    new_id = add_task(first, "Review the lexer patch")
    expect(second.locator(f'.jp-Workspace-taskItem[data-id="{new_id}"]')).to_have_count(
        1, timeout=SYNC_TIMEOUT_MS
    )

    # The open note follows an edit made in the other tab.
    note_item(first, "Shared findings").click()
    note_item(second, "Shared findings").click()
    second.locator(".jp-Workspace-noteBody").fill("second tab's version")
    expect(second.locator(".jp-Workspace-saveState")).to_have_attribute("data-state", "saved")
    expect(first.locator(".jp-Workspace-noteBody")).to_have_value(
        "second tab's version", timeout=SYNC_TIMEOUT_MS
    )


def test_task_link_opens_the_file_at_its_line(context, lab_server) -> None:
    write_main_py(lab_server.root)
    page = context.new_page()
    open_lab(page, lab_server)
    open_workspace(page)

    create_note(
        page,
        "Parser notes",
        "## Findings\n\n`parse_header` copies the blob **twice**.\n\n- [x] profile\n- [ ] fix",
    )
    page.locator('.jp-Workspace-modeButton[data-mode="split"]').click()
    task_id = add_task(
        page,
        "Avoid the copy in parse_header",
        priority="urgent",
        source=f"src/main.py:{TARGET_LINE}",
    )
    add_task(page, "Add a fuzz test for headers", priority="normal")

    link = page.locator(f'.jp-Workspace-taskItem[data-id="{task_id}"] .jp-Workspace-taskSource')
    expect(link).to_have_text(f"src/main.py:{TARGET_LINE}")
    link.click()

    editor = page.locator(".jp-FileEditor")
    expect(editor).to_be_visible()
    tab = page.locator(".lm-DockPanel-tabBar .lm-TabBar-tabLabel", has_text="main.py")
    expect(tab).to_be_visible()
    # The status bar reports the cursor position; the target line is on screen.
    expect(page.get_by_text(re.compile(rf"^Ln {TARGET_LINE}, Col 1$"))).to_be_visible()
    expect(editor.locator(".cm-line", has_text=TARGET_TEXT)).to_be_in_viewport()

    # For the README: widen the sidebar so titles and links are readable.
    handle = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle").first
    box = handle.bounding_box()
    if box:
        page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.down()
        page.mouse.move(390, box["y"] + box["height"] / 2, steps=5)
        page.mouse.up()
    page.wait_for_timeout(500)  # let the markdown preview render and the layout settle
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))


def test_note_preview_is_sanitized(context, lab_server) -> None:
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    open_lab(page, lab_server)
    open_workspace(page)

    create_note(
        page,
        "Hostile markdown",
        "# Title\n\n<img src=x onerror=\"alert('xss')\">\n\n<script>alert('xss')</script>\n\n"
        '<a href="#" data-commandlinker-command="terminal:create-new">open a terminal</a>',
    )
    page.locator('.jp-Workspace-modeButton[data-mode="preview"]').click()
    preview = page.locator(".jp-Workspace-notePreview")
    expect(preview.locator("h1")).to_have_text(re.compile("Title"))
    expect(preview.locator("script")).to_have_count(0)
    expect(preview.locator("[onerror]")).to_have_count(0)
    expect(preview.locator("[data-commandlinker-command]")).to_have_count(0)
    page.wait_for_timeout(300)
    assert dialogs == []


def test_filter_and_delete(context, lab_server) -> None:
    page = context.new_page()
    open_lab(page, lab_server)
    open_workspace(page)
    create_note(page, "Standup minutes", "Discussed the tokenizer rewrite.")
    create_note(page, "Travel plans", "Trains, not planes.")

    # The filter is the server's full-text search (prefix match per word).
    page.locator(".jp-Workspace-noteFilter").fill("tokeniz")
    expect(note_item(page, "Standup minutes")).to_have_count(1)
    expect(note_item(page, "Travel plans")).to_have_count(0)
    page.locator(".jp-Workspace-noteFilter").fill("")
    expect(note_item(page, "Travel plans")).to_have_count(1)

    # Deleting asks first; cancelling keeps the note.
    note_item(page, "Travel plans").click()
    page.locator(".jp-Workspace-deleteNote").click()
    page.locator(".jp-Dialog .jp-mod-reject").click()
    expect(note_item(page, "Travel plans")).to_have_count(1)
    page.locator(".jp-Workspace-deleteNote").click()
    page.locator(".jp-Dialog .jp-mod-accept").click()
    expect(note_item(page, "Travel plans")).to_have_count(0)
    expect(page.locator(".jp-Workspace-noteEditor")).to_have_count(0)

    task_id = add_task(page, "Book the venue")
    item = page.locator(f'.jp-Workspace-taskItem[data-id="{task_id}"]')
    title = item.locator(".jp-Workspace-taskTitle")
    title.fill("Book the venue for March")
    title.press("Enter")
    expect(title).to_have_attribute("title", "Book the venue for March")
    item.locator(".jp-Workspace-deleteTask").click()
    page.locator(".jp-Dialog .jp-mod-accept").click()
    expect(item).to_have_count(0)
    stored = lab_server.api("GET", "tasks?status=all")["tasks"]
    assert int(task_id) not in [task["id"] for task in stored]


def test_deleting_the_open_note_says_so_only_when_done_elsewhere(context, lab_server) -> None:
    page = context.new_page()
    open_lab(page, lab_server)
    open_workspace(page)
    notice = page.locator(".jp-Workspace-notes .jp-Workspace-banner")

    # Deleted here: the editor closes without a word (the user just confirmed it).
    create_note(page, "Scratch pad", "to be deleted")
    page.locator(".jp-Workspace-deleteNote").click()
    page.locator(".jp-Dialog .jp-mod-accept").click()
    expect(note_item(page, "Scratch pad")).to_have_count(0)
    expect(page.locator(".jp-Workspace-noteEditor")).to_have_count(0)
    expect(notice).to_have_count(0)

    # Deleted elsewhere (another tab, a kernel's magic): the editor closes and says why.
    create_note(page, "Shared scratch pad", "deleted by someone else")
    note_id = note_item(page, "Shared scratch pad").get_attribute("data-id")
    lab_server.api("DELETE", f"notes/{note_id}")
    expect(page.locator(".jp-Workspace-noteEditor")).to_have_count(0, timeout=SYNC_TIMEOUT_MS)
    expect(notice).to_contain_text("The open note was deleted elsewhere.")


def section_heights(page: Page) -> tuple[float, float]:
    """The heights of the sidebar's Notes and Tasks sections, in px."""
    sections = page.locator(".jp-Workspace-sidebar .jp-Workspace-section")
    notes, tasks = sections.nth(0).bounding_box(), sections.nth(1).bounding_box()
    assert notes and tasks
    return notes["height"], tasks["height"]


def notes_share(page: Page) -> float:
    notes, tasks = section_heights(page)
    return notes / (notes + tasks)


def until_share(page: Page, check, timeout_s: float = 5.0) -> float:
    """Poll the Notes section's share of the sidebar until `check(share)` holds."""
    share = notes_share(page)
    for _ in range(int(timeout_s / 0.1)):
        if check(share):
            return share
        page.wait_for_timeout(100)
        share = notes_share(page)
    raise AssertionError(f"the Notes section has {share:.0%} of the sidebar")


def test_notes_take_the_room_their_list_needs(context, lab_server) -> None:
    lab_server.api("POST", "notes", {"title": "Sizing check", "body": "one more note"})
    page = context.new_page()
    open_lab(page, lab_server)
    open_workspace(page)
    expect(note_item(page, "Sizing check")).to_have_count(1)
    count = page.locator(".jp-Workspace-noteItem").count()
    assert count <= 10, "this test expects a short list"

    # A short list: its section is about as tall as the list, the tasks get the rest.
    until_share(page, lambda share: share < 0.45)
    list_box = page.locator(".jp-Workspace-noteList").bounding_box()
    notes_height, _ = section_heights(page)
    assert list_box and notes_height < list_box["height"] + 80

    # An open note: the editor takes the room.
    note_item(page, "Sizing check").click()
    expect(page.locator(".jp-Workspace-noteEditor")).to_be_visible()
    until_share(page, lambda share: share > 0.6)
    page.locator(".jp-Workspace-closeNote").click()
    until_share(page, lambda share: share < 0.45)


def test_the_chat_opens_at_a_usable_width(context, lab_server) -> None:
    page = context.new_page()
    open_lab(page, lab_server)
    open_chat(page)
    chat = page.locator(".jp-Workspace-chat")
    width = 0.0
    for _ in range(50):
        box = chat.bounding_box()
        width = box["width"] if box else 0.0
        if width >= 360:
            break
        page.wait_for_timeout(100)
    assert 360 <= width <= 440, f"the chat opened {width:.0f} px wide"
    main = page.locator("#jp-main-dock-panel").bounding_box()
    assert main and main["width"] >= 500


def set_written_by(root: Path, table: str, row_id: int, writer: str) -> None:
    """Mark a note or task as last written by `writer`, as an agent's write over MCP does
    (REST writes always store NULL): straight into the running server's database."""
    database = root / ".jupyter-workspace" / "workspace.sqlite"
    conn = sqlite3.connect(database, timeout=10)
    try:
        with conn:
            conn.execute(f"UPDATE {table} SET written_by = ? WHERE id = ?", (writer, row_id))
    finally:
        conn.close()


def test_agent_writes_are_marked_until_a_person_edits(context, lab_server) -> None:
    by_agent = lab_server.api("POST", "notes", {"title": "Agent summary", "body": "drafted"})
    lab_server.api("POST", "notes", {"title": "Own musings", "body": "typed"})
    task = lab_server.api("POST", "tasks", {"title": "Triage the agent's findings"})
    odd_task = lab_server.api("POST", "tasks", {"title": "Task from an oddly named agent"})
    set_written_by(lab_server.root, "notes", by_agent["id"], "mcp:test-agent")
    set_written_by(lab_server.root, "tasks", task["id"], "mcp:test-agent")
    # A client names itself: the name is text, never markup.
    set_written_by(lab_server.root, "tasks", odd_task["id"], "mcp:<b>test-agent</b>")

    page = context.new_page()
    open_lab(page, lab_server)
    open_workspace(page)
    badge = note_item(page, "Agent summary").locator(".jp-Workspace-writtenBy")
    expect(badge).to_have_text("mcp:test-agent")
    expect(badge).to_have_attribute("data-written-by", "mcp:test-agent")
    expect(badge).to_have_attribute("title", re.compile("mcp:test-agent"))
    expect(note_item(page, "Own musings").locator(".jp-Workspace-writtenBy")).to_have_count(0)
    task_badge = page.locator(f'{TASK}[data-id="{task["id"]}"] .jp-Workspace-writtenBy')
    expect(task_badge).to_have_text("mcp:test-agent")
    odd_badge = page.locator(f'{TASK}[data-id="{odd_task["id"]}"] .jp-Workspace-writtenBy')
    expect(odd_badge).to_have_text("mcp:<b>test-agent</b>")
    expect(odd_badge.locator("b")).to_have_count(0)

    # A person's edit (here through REST) makes the note theirs again: the badge goes.
    lab_server.api("PATCH", f"notes/{by_agent['id']}", {"title": "Agent summary, reviewed"})
    reviewed = note_item(page, "Agent summary, reviewed")
    expect(reviewed).to_have_count(1, timeout=SYNC_TIMEOUT_MS)
    expect(reviewed.locator(".jp-Workspace-writtenBy")).to_have_count(0)
    page.close()

    # And stays gone in a fresh page; the task, not edited, keeps its badge.
    page = context.new_page()
    open_lab(page, lab_server)
    open_workspace(page)
    reviewed = note_item(page, "Agent summary, reviewed")
    expect(reviewed).to_have_count(1)
    expect(reviewed.locator(".jp-Workspace-writtenBy")).to_have_count(0)
    task_badge = page.locator(f'{TASK}[data-id="{task["id"]}"] .jp-Workspace-writtenBy')
    expect(task_badge).to_have_text("mcp:test-agent")
