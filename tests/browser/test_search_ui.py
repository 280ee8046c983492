"""The Search panel, the index's progress and grounded chat answers (source chips, citation
links, retrieval-only answers), in headless Chromium against a real `jupyter lab` whose
real AI sidecar indexes tests/fixtures/code and talks to a fake LLM (tests/fake_llm.py).

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
    ANSWER,
    CHAT_TAB,
    ask,
    editor_tab,
    expect_cursor_at,
    open_lab,
    open_panel,
    open_search,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("lab_log")]

HIT = ".jp-Workspace-searchHit"


@pytest.fixture(scope="module")
def lab_server_seed(code_seed: Callable[[Path], None]) -> Callable[[Path], None]:
    return code_seed


@pytest.fixture(scope="module")
def lab_server_args(indexing_args: list[str]) -> list[str]:
    return indexing_args


def test_search_panel_finds_filters_and_opens_hits(context, lab_server, indexed) -> None:
    page = context.new_page()
    open_lab(page, lab_server)
    open_search(page)

    status = page.locator(".jp-Workspace-indexStatus")
    expect(status).to_have_attribute("data-state", "idle")
    expect(status).to_contain_text(
        f"Index up to date · {indexed['files_indexed']} files, {indexed['chunks']:,} chunks"
    )
    expect(page.locator(".jp-Workspace-searchEmpty")).to_have_attribute("data-reason", "idle")

    # Type-ahead: the hits for the whole query, grouped by file.
    search_input = page.locator(".jp-Workspace-searchInput")
    search_input.click()
    expect(search_input).to_be_focused()
    search_input.press_sequentially("length of a quaternion", delay=25)
    hit = page.locator(f'{HIT}[data-path="attitude.py"][data-line="21"]')
    expect(hit).to_contain_text("quaternion_norm")
    expect(hit.locator(".jp-Workspace-kindBadge")).to_have_text("function")
    expect(hit).to_contain_text("21–23")
    expect(hit.locator(".jp-Workspace-searchSnippet")).to_contain_text(
        "return math.sqrt(sum(c * c for c in q))"
    )
    group = page.locator('.jp-Workspace-searchFile[data-path="attitude.py"]')
    expect(group.locator(".jp-Workspace-searchFileCount")).to_have_text(
        str(group.locator(HIT).count())
    )
    # The best hit comes first.
    expect(page.locator(HIT).first).to_have_attribute("data-path", "attitude.py")
    expect(page.locator(HIT).first).to_have_attribute("data-line", "21")
    expect(page.locator(".jp-Workspace-searchSummary")).to_contain_text("results in")

    hit.click()
    expect(editor_tab(page, "attitude.py")).to_be_visible()
    expect_cursor_at(page, 21)
    # The hit's lines are marked in the editor.
    marked = page.locator(".jp-FileEditor .cm-line.jp-Workspace-markedLine")
    expect(marked).to_have_count(3)
    expect(marked.first).to_have_text("def quaternion_norm(q):")
    expect(marked.last).to_contain_text("return math.sqrt(sum(c * c for c in q))")

    # The language filter narrows the hits to Fortran files.
    page.locator(".jp-Workspace-searchLanguage select").select_option("fortran")
    expect(page.locator(f"{HIT}:not([data-path$='.f90'])")).to_have_count(0)
    expect(page.locator(f'{HIT}[data-path="orbit.f90"]').first).to_be_visible()
    expect(page.locator(".jp-Workspace-searchFile")).to_have_count(1)

    # Keyboard: arrow down to the first hit, Enter opens it at its line.
    search_input.click()
    search_input.press("ArrowDown")
    first = page.locator(f"{HIT}.jp-mod-active")
    expect(first).to_have_count(1)
    line = int(first.get_attribute("data-line") or "0")
    search_input.press("Enter")
    expect(editor_tab(page, "orbit.f90")).to_be_visible()
    expect_cursor_at(page, line)

    # No results for a kind the Fortran file does not have; the filters can be cleared.
    page.locator(".jp-Workspace-searchKind select").select_option("class")
    empty = page.locator('.jp-Workspace-searchEmpty[data-reason="none"]')
    expect(empty).to_contain_text("No results")
    empty.locator(".jp-Workspace-clearFilters").click()
    expect(page.locator(".jp-Workspace-searchLanguage select")).to_have_value("")
    expect(page.locator(f'{HIT}[data-path="attitude.py"][data-line="21"]')).to_be_visible()

    # A bad path glob: the server's 400 message is shown.
    page.locator(".jp-Workspace-searchPath").fill("../elsewhere/*")
    error = page.locator('.jp-Workspace-searchError[data-status="400"]')
    expect(error).to_contain_text("'path' is a glob relative to the served root")
    expect(page.locator(HIT)).to_have_count(0)
    page.locator(".jp-Workspace-searchPath").fill("*.py")
    expect(error).to_have_count(0)
    expect(page.locator(f"{HIT}:not([data-path$='.py'])")).to_have_count(0)
    expect(page.locator(f'{HIT}[data-path="attitude.py"]').first).to_be_visible()


def test_search_for_selection_from_the_editor_context_menu(context, lab_server, indexed) -> None:
    page = context.new_page()
    open_lab(page, lab_server, "orbit.f90")
    content = page.locator(".jp-FileEditor .cm-content")
    expect(content).to_contain_text("subroutine propagate")
    # Where the word is on screen: double-click selects it, right-click opens the menu.
    box = page.evaluate(
        """() => {
            const root = document.querySelector('.jp-FileEditor .cm-content');
            const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
            for (let node = walker.nextNode(); node; node = walker.nextNode()) {
                const at = node.data.indexOf('propagate');
                if (at >= 0) {
                    const range = document.createRange();
                    range.setStart(node, at);
                    range.setEnd(node, at + 'propagate'.length);
                    const r = range.getBoundingClientRect();
                    return {x: r.x + r.width / 2, y: r.y + r.height / 2};
                }
            }
            return null;
        }"""
    )
    assert box is not None
    page.mouse.dblclick(box["x"], box["y"])
    page.mouse.click(box["x"], box["y"], button="right")
    page.locator(".lm-Menu-itemLabel", has_text="Workspace: Search for Selection").click()

    search_input = page.locator(".jp-Workspace-searchInput")
    expect(page.locator(".jp-Workspace-search")).to_be_visible()
    expect(search_input).to_have_value("propagate")
    expect(search_input).to_be_focused()
    hit = page.locator(f'{HIT}[data-path="orbit.f90"][data-line="11"]')
    expect(hit).to_contain_text("propagate")


def test_grounded_answer_shows_sources_and_citation_links(
    context, lab_server, indexed, llm
) -> None:
    llm.tokens = [
        "The period ",
        "is computed by ",
        "`period` ",
        "[orbit.f90:5]",
        " from ",
        "Kepler's law [orbit.f90:5-9]. ",
        "Not files: [../secret.py:1], [/etc/passwd:2], [step:3].",
    ]
    llm.delay = 0.25  # ~1.5 s: long enough to see the sources while it streams
    page = context.new_page()
    open_lab(page, lab_server)
    open_panel(page, CHAT_TAB, ".jp-Workspace-chat")
    expect(page.locator(".jp-Workspace-sidecarStatus")).to_have_attribute("data-state", "ready")

    ask(page, "How is the orbital period computed in @orbit.f90?")
    # The sources arrive (chat.context) before the answer is complete.
    page.wait_for_function(
        """() => {
            const m = document.querySelector(
                '.jp-Workspace-chatMessage[data-role="assistant"][data-status="streaming"]');
            return !!(m && m.querySelector('.jp-Workspace-chatSource[data-path="orbit.f90"]'));
        }""",
        timeout=30_000,
    )
    answer = page.locator(f'{ANSWER}[data-status="complete"]')
    expect(answer).to_have_count(1, timeout=30_000)
    expect(answer).to_contain_text("Not files:")
    chip = answer.locator('.jp-Workspace-chatSource[data-path="orbit.f90"][data-line="5"]')
    expect(chip).to_have_count(1)
    expect(chip).to_have_text("orbit.f90:5-9 · orbit.period")
    expect(answer.locator(".jp-Workspace-retrievalOnly")).to_have_count(0)

    # Citations in the text are links; what is not a workspace path stays text.
    citations = answer.locator(".jp-Workspace-citation")
    expect(citations).to_have_count(2)
    expect(citations.nth(0)).to_have_text("orbit.f90:5")
    expect(citations.nth(1)).to_have_text("orbit.f90:5-9")
    expect(answer.locator('.jp-Workspace-citation[data-path*="secret"]')).to_have_count(0)
    expect(answer.locator('.jp-Workspace-citation[data-path*="passwd"]')).to_have_count(0)
    expect(answer).to_contain_text("[../secret.py:1], [/etc/passwd:2], [step:3]")
    # The model saw the passages.
    prompt = llm.requests[-1]["body"]["messages"]
    assert any("orbit.f90:5-9" in m["content"] for m in prompt)

    citations.nth(0).click()
    expect(editor_tab(page, "orbit.f90")).to_be_visible()
    expect_cursor_at(page, 5)

    # A chip opens its passage too (another file, another line).
    chips = answer.locator(".jp-Workspace-chatSource:not([data-path='orbit.f90'])")
    if chips.count() > 0:
        other = chips.first
        path = other.get_attribute("data-path") or ""
        line = int(other.get_attribute("data-line") or "0")
        other.click()
        expect(editor_tab(page, Path(path).name)).to_be_visible()
        expect_cursor_at(page, line)

    # Loaded from history (a new tab), the sources and links are still there.
    conversation_id = page.locator(".jp-Workspace-conversationItem.jp-mod-selected").get_attribute(
        "data-id"
    )
    second = context.new_page()
    open_lab(second, lab_server)
    open_panel(second, CHAT_TAB, ".jp-Workspace-chat")
    second.locator(
        f'.jp-Workspace-conversationItem[data-id="{conversation_id}"] '
        ".jp-Workspace-conversationOpen"
    ).click()
    stored = second.locator(f'{ANSWER}[data-status="complete"]')
    expect(
        stored.locator('.jp-Workspace-chatSource[data-path="orbit.f90"][data-line="5"]')
    ).to_have_count(1)
    expect(stored.locator(".jp-Workspace-citation")).to_have_count(2)


def test_retrieval_only_answer_is_labelled(context, lab_server, indexed, llm) -> None:
    llm.fail = (401, "Incorrect API key provided")
    page = context.new_page()
    open_lab(page, lab_server)
    open_panel(page, CHAT_TAB, ".jp-Workspace-chat")
    ask(page, "Where is the zero quaternion handled?")
    answer = page.locator(f'{ANSWER}[data-status="complete"]')
    expect(answer).to_have_count(1, timeout=30_000)
    expect(answer.locator(".jp-Workspace-chatAuthor")).to_have_text("Retrieval only")
    expect(answer.locator(".jp-Workspace-retrievalOnlyReason")).to_have_text(
        "The LLM provider refused the API key for openai/fake-model"
    )
    expect(answer.locator(".jp-Workspace-chatError")).to_have_count(0)
    # The passages are listed as [path:start-end] links, once (no chips repeating them).
    link = answer.locator('.jp-Workspace-citation[data-path="attitude.py"]').first
    expect(link).to_be_visible()
    expect(answer.locator(".jp-Workspace-chatSource")).to_have_count(0)
    line = int(link.get_attribute("data-line") or "0")
    link.click()
    expect(editor_tab(page, "attitude.py")).to_be_visible()
    expect_cursor_at(page, line)


def test_a_notebook_hit_opens_the_notebook_at_its_cell(context, lab_server, indexed) -> None:
    page = context.new_page()
    open_lab(page, lab_server)
    open_search(page)
    search_input = page.locator(".jp-Workspace-searchInput")
    search_input.click()
    search_input.press_sequentially("air density at altitude", delay=20)
    hit = page.locator(f'{HIT}[data-path="study.ipynb"][data-cell="2"]').first
    expect(hit).to_contain_text("atmospheric_density")
    expect(hit).to_contain_text("cell 3: 1–3")
    hit.click()
    notebook = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden)")
    expect(notebook).to_be_visible(timeout=30_000)
    active = notebook.locator(".jp-Notebook .jp-Cell.jp-mod-active")
    expect(active).to_have_count(1)
    expect(active).to_contain_text("def atmospheric_density(height_m):")
    cells = notebook.locator(".jp-Notebook .jp-Cell")
    expect(cells.nth(2)).to_have_class(re.compile(r"\bjp-mod-active\b"))


def test_a_note_hit_is_grouped_under_the_notes_title(context, lab_server, indexed) -> None:
    note = lab_server.api(
        "POST", "notes", {"title": "Gyro drift review", "body": "The gimbal lock margin is thin."}
    )
    path = f"@notes/{note['id']}"
    deadline = time.monotonic() + 60
    while not any(
        hit["path"] == path
        for hit in lab_server.api("GET", "search?q=gimbal%20lock%20margin&mode=text")["results"]
    ):
        assert time.monotonic() < deadline, "the note was not indexed within 60 s"
        time.sleep(0.5)

    page = context.new_page()
    open_lab(page, lab_server)
    open_search(page)
    page.locator(".jp-Workspace-searchInput").fill("gimbal lock margin")
    group = page.locator(f'.jp-Workspace-searchFile[data-path="{path}"]')
    header = group.locator(".jp-Workspace-searchFileHeader")
    expect(header.locator(".jp-Workspace-searchFileName")).to_have_text("Gyro drift review")
    expect(header.locator(".jp-Workspace-searchFileKind")).to_have_text("note")
    expect(header).not_to_contain_text("@notes")
    expect(header.locator(".jp-Workspace-searchFileDir")).to_have_count(0)

    # A renamed note's header follows.
    lab_server.api("PATCH", f"notes/{note['id']}", {"title": "Gyro drift review (done)"})
    expect(header.locator(".jp-Workspace-searchFileName")).to_have_text("Gyro drift review (done)")


def test_a_query_typed_before_its_words_are_indexed_finds_them_without_enter(
    context, lab_server, indexed
) -> None:
    """A newcomer types while the index is still being built: "No results". As the index
    takes the words in, the results appear, though the index is still busy (no Enter)."""
    page = context.new_page()
    sockets = []

    def relay_events(socket) -> None:
        socket.connect_to_server()
        sockets.append(socket)

    page.route_web_socket(re.compile(r"/workspace/api/events"), relay_events)
    # Until the words are in the index, the server finds nothing.
    words_indexed = {"yet": False}

    def search(route) -> None:
        if words_indexed["yet"]:
            route.continue_()
        else:
            route.fulfill(json={"results": [], "query": {}, "took_ms": 1.0})

    page.route(re.compile(r"/workspace/api/search\?"), search)
    open_lab(page, lab_server)
    open_search(page)
    assert sockets, "the page opened no events socket"
    status = dict(lab_server.api("GET", "index"))

    def progress(**changes) -> None:
        sockets[-1].send(json.dumps({"type": "index.progress", **status, **changes}))

    progress(state="indexing", files_indexed=1, chunks=40)
    expect(page.locator(".jp-Workspace-indexStatus")).to_have_attribute("data-state", "indexing")
    page.locator(".jp-Workspace-searchInput").fill("length of a quaternion")
    empty = page.locator('.jp-Workspace-searchEmpty[data-reason="none"]')
    expect(empty).to_contain_text("No results")

    # The index takes more files in; it is still indexing.
    words_indexed["yet"] = True
    progress(state="indexing", files_indexed=2, chunks=80)
    expect(page.locator(f'{HIT}[data-path="attitude.py"][data-line="21"]')).to_be_visible()
    expect(empty).to_have_count(0)
    progress()  # as it really is
