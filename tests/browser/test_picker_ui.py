"""What Continue / Cursor users expect, in headless Chromium against a real `jupyter lab` whose
real AI sidecar indexes tests/fixtures/code and talks to a fake LLM (tests/fake_llm.py): an `@`
picker in the chat input whose choice goes into the answer's context, Go to Symbol, and code
from an answer applied to a file as a reviewed diff.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import (
    ANSWER,
    QUESTION,
    editor_tab,
    expect_cursor_at,
    open_chat,
    open_lab,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("lab_log")]

INPUT = ".jp-Workspace-chatInput"
OPTION = '.jp-Workspace-mentionPicker [role="option"]'


@pytest.fixture(scope="module")
def lab_server_seed(code_seed: Callable[[Path], None]) -> Callable[[Path], None]:
    return code_seed


@pytest.fixture(scope="module")
def lab_server_args(indexing_args: list[str]) -> list[str]:
    return indexing_args


def prompt_of_last_answer(llm) -> str:
    return "\n".join(m["content"] for m in llm.requests[-1]["body"]["messages"])


def open_palette_command(page: Page, label: str) -> None:
    page.keyboard.press("Control+Shift+C")
    page.locator(".lm-CommandPalette-input").fill(label.rstrip("…"))
    page.locator(".lm-CommandPalette-item", has_text=label).click()


def test_the_at_picker_offers_definitions_files_and_notes_and_grounds_the_answer(
    context, lab_server, indexed, llm
) -> None:
    note = lab_server.api(
        "POST", "notes", {"title": "Reentry heating log", "body": "Peak flux: 4.2 MW/m2 at 71 km."}
    )
    page = context.new_page()
    open_lab(page, lab_server)
    open_chat(page)
    chat_input = page.locator(INPUT)
    expect(chat_input).to_have_attribute("role", "combobox")
    expect(chat_input).to_have_attribute("aria-expanded", "false")

    # `@` and letters: the definitions whose names match, from the index, as a listbox
    chat_input.click()
    chat_input.press_sequentially("What does @gai")
    listbox = page.locator('.jp-Workspace-mentionPicker [role="listbox"]')
    expect(listbox).to_have_attribute("data-query", "gai", timeout=10_000)
    expect(chat_input).to_have_attribute("aria-expanded", "true")
    first = page.locator(OPTION).first
    expect(first).to_contain_text("nav.Kalman::gain")
    expect(first).to_contain_text("kalman.cpp:15")
    expect(first).to_have_attribute("aria-selected", "true")
    expect(chat_input).to_have_attribute("aria-activedescendant", first.get_attribute("id") or "")

    # Escape closes it and keeps the text; Enter then sends nothing half-typed
    chat_input.press("Escape")
    expect(listbox).to_have_count(0)
    expect(chat_input).to_have_attribute("aria-expanded", "false")
    expect(chat_input).to_have_value("What does @gai")

    # a new mention opens it again: a file by its path, chosen with the arrows and Enter
    chat_input.press_sequentially(" do in @kalm")
    expect(page.locator('.jp-Workspace-mentionPicker [data-query="kalm"]')).to_be_visible()
    options = page.locator(OPTION)
    index = [o.get_attribute("data-type") for o in options.all()].index("file")
    expect(options.nth(index)).to_contain_text("kalman.cpp")
    for _ in range(index):
        chat_input.press("ArrowDown")
    expect(options.nth(index)).to_have_attribute("aria-selected", "true")
    chat_input.press("Enter")
    expect(listbox).to_have_count(0)
    expect(chat_input).to_have_value("What does @gai do in @kalman.cpp ")

    # a note by its title, with Tab
    chat_input.press_sequentially("and @reentry")
    expect(listbox).to_have_attribute("data-query", "reentry")
    note_option = page.locator(f'{OPTION}[data-type="note"]')
    expect(note_option).to_contain_text("Reentry heating log")
    chat_input.press("Tab")
    expect(chat_input).to_have_value(f"What does @gai do in @kalman.cpp and @notes/{note['id']} ")

    # sent: the answer's context holds the chosen file and note
    chat_input.press("Enter")
    expect(page.locator(QUESTION)).to_have_count(1)
    expect(page.locator(f'{ANSWER}[data-status="complete"]')).to_have_count(1, timeout=30_000)
    prompt = prompt_of_last_answer(llm)
    assert "kalman.cpp:" in prompt
    assert "4.2 MW/m2" in prompt  # the note's text was given to the model


def test_go_to_symbol_opens_the_definition_at_its_line(context, lab_server, indexed) -> None:
    page = context.new_page()
    open_lab(page, lab_server)
    open_palette_command(page, "Workspace: Go to Symbol…")
    dialog = page.locator(".jp-Workspace-gotoSymbolDialog")
    search = dialog.locator('input[role="combobox"]')
    expect(search).to_be_focused()
    search.press_sequentially("qnorm")
    expect(dialog.locator('[role="listbox"]')).to_have_attribute("data-query", "qnorm")
    options = dialog.locator('[role="option"]')
    expect(options.first).to_contain_text("quaternion_norm")
    expect(options.first).to_contain_text("attitude.py:21")
    search.press("Enter")
    expect(dialog).to_have_count(0)
    expect(editor_tab(page, "attitude.py")).to_be_visible()
    expect_cursor_at(page, 21)

    # arrows pick another definition; Escape closes without opening anything
    open_palette_command(page, "Workspace: Go to Symbol…")
    search = page.locator('.jp-Workspace-gotoSymbolDialog input[role="combobox"]')
    search.press_sequentially("zzqqxx")
    expect(
        page.locator(".jp-Workspace-gotoSymbolDialog .jp-Workspace-lookupEmpty")
    ).to_contain_text("No definition matches")
    search.press("Escape")
    expect(page.locator(".jp-Workspace-gotoSymbolDialog")).to_have_count(0)


APPLY_ME = """import math

GAIN = 0.02


def norm(q):
    return math.sqrt(sum(c * c for c in q))


def scale(q, k):
    return [c * k for c in q]
"""
PROPOSED = APPLY_ME.replace("0.02", "0.05").replace("[c * k for c in q]", "[k * c for c in q]")


def test_code_from_an_answer_is_applied_as_a_reviewed_diff_hunk_by_hunk(
    context, lab_server, indexed, llm
) -> None:
    target = lab_server.root / "apply_me.py"
    target.write_text(APPLY_ME)
    llm.tokens = [
        "Two changes:\n\n```python apply_me.py\n",
        PROPOSED,
        "```\n\nOr only:\n\n```python apply_me.py\n",
        "def norm(q):\n    return math.hypot(*q)\n",
        "```\n",
    ]
    page = context.new_page()
    open_lab(page, lab_server)
    open_chat(page)
    page.locator(INPUT).fill("Improve apply_me.py")
    page.locator(INPUT).press("Enter")
    answer = page.locator(f'{ANSWER}[data-status="complete"]')
    expect(answer).to_have_count(1, timeout=30_000)
    apply = answer.locator(".jp-Workspace-codeApply")
    expect(apply).to_have_count(2)
    expect(apply.first).to_have_attribute("data-path", "apply_me.py")

    # the whole file: two hunks, each accepted unless rejected
    apply.first.click()
    diff = page.locator(".jp-Workspace-diff")
    expect(diff).to_be_visible()
    expect(diff.locator(".jp-Workspace-diffScope")).to_contain_text("whole file")
    hunks = diff.locator(".jp-Workspace-diffHunk")
    expect(hunks).to_have_count(2)
    expect(hunks.nth(0).locator('[data-kind="removed"]')).to_have_text("-GAIN = 0.02")
    expect(hunks.nth(0).locator('[data-kind="added"]')).to_have_text("+GAIN = 0.05")
    # by keyboard: the first hunk rejected
    hunks.nth(0).locator(".jp-Workspace-diffReject").focus()
    page.keyboard.press("Enter")
    expect(hunks.nth(0)).to_have_attribute("data-decision", "rejected")
    expect(hunks.nth(0).locator(".jp-Workspace-diffReject")).to_have_attribute(
        "aria-pressed", "true"
    )
    expect(hunks.nth(1)).to_have_attribute("data-decision", "accepted")
    write = diff.locator(".jp-Workspace-diffWrite")
    expect(write).to_have_text("Write 1 change to the file")
    write.click()
    expect(diff.locator(".jp-Workspace-diffStatus")).to_contain_text("Written: 1 of 2")
    assert target.read_text() == APPLY_ME.replace("[c * k for c in q]", "[k * c for c in q]")
    diff.locator(".jp-Workspace-diffClose").click()
    expect(diff).to_have_count(0)

    # a block that begins with a definition replaces that definition only
    apply.nth(1).click()
    expect(diff.locator(".jp-Workspace-diffScope")).to_contain_text("lines 6–7")
    expect(hunks).to_have_count(1)
    expect(hunks.first.locator('[data-kind="added"]')).to_have_text("+    return math.hypot(*q)")
    # the file changes meanwhile: nothing is written over it
    changed = target.read_text() + "\n# edited by hand\n"
    target.write_text(changed)
    diff.locator(".jp-Workspace-diffWrite").click()
    expect(diff).to_have_attribute("data-state", "changed")
    expect(diff.locator(".jp-Workspace-diffStatus")).to_contain_text("nothing was written")
    assert target.read_text() == changed
    # reviewed again against the new text, it applies and keeps the hand edit
    diff.locator(".jp-Workspace-diffReload").click()
    expect(diff).to_have_attribute("data-state", "review")
    diff.locator(".jp-Workspace-diffWrite").click()
    expect(diff).to_have_attribute("data-state", "written")
    text = target.read_text()
    assert "math.hypot(*q)" in text and "# edited by hand" in text
    assert "def scale" in text
