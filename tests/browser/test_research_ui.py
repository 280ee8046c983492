"""The Research panel in headless Chromium against a real `jupyter lab`: the real sidecar
indexing a small C and Python folder, the real research jobs (plan, gather, extract, write,
verify) and the fake LLM (tests/fake_llm.py) answering the plan, extract and write prompts.

What a user does and sees: a question queued from the panel (Ctrl+Enter), its steps and
progress while it runs, the job's end announced in a notification whose "Open note" shows the
report in Notes, a citation in the note's preview opening the file at the cited line, a bad
scope refused inside the form with the server's reason, a running job cancelled, standing
toggled, a job deleted after a confirmation (its note kept), a retrieval-only job labelled as
such, and the panel drawn with the theme's colours in the dark theme.

Selectors are the stable DOM hooks documented in labextension/README.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.pages import (
    THEMES,
    editor_tab,
    expect_cursor_at,
    luminance,
    open_lab,
    open_panel,
    set_theme,
)
from tests.fake_llm import FakeLLM
from tests.research_corpus import CONFIG_H, DEPTH_LINE, LOOP_LINE, SEND_C

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("lab_log")]

RESEARCH_TAB = 'li[data-id="jupyter-workspace:research"]'
PANEL = ".jp-Workspace-research"
JOB = ".jp-Workspace-researchJob"
# A job's whole life on a loaded 2-core machine: searches, the model's streamed answers.
JOB_TIMEOUT_MS = 90_000
SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("WORKSPACE_UPDATE_SCREENSHOT") == "1"
    else Path(__file__).resolve().parent / "artifacts" / "screenshots"
)
# Wide enough for the questions and actions to be read in the pictures.
LEFT_SIDEBAR_PX = 420

ROUTE_PY = '''\
"""Ground tool: print which pipes a message id is routed to."""


def routes_for(table, msg_id):
    """The pipes subscribed to msg_id, in subscription order."""
    return [pipe for pipe in table.get(msg_id, [])]
'''

PLAN = {
    "sub_questions": [
        {"question": "How does CFE_SB_Send deliver to several pipes?", "queries": ["CFE_SB_Send"]},
        {"question": "Where are the pipe limits set?", "queries": ["CFE_SB_MAX_PIPE_DEPTH"]},
    ]
}
FINDINGS = {
    "findings": [
        {
            "claim": "CFE_SB_Send delivers the message to each pipe of its route in a loop.",
            "sub_question": 1,
            "citations": [
                {
                    "path": "sb/send.c",
                    "start_line": LOOP_LINE,
                    "end_line": LOOP_LINE + 2,
                    "quote": "CFE_SB_Deliver(route->pipes[i], msg);",
                }
            ],
        },
        {
            "claim": "A pipe holds at most 256 messages.",
            "sub_question": 2,
            "citations": [
                {
                    "path": "sb/sb_config.h",
                    "start_line": DEPTH_LINE,
                    "end_line": DEPTH_LINE,
                    "quote": "#define CFE_SB_MAX_PIPE_DEPTH 256",
                }
            ],
        },
    ]
}
LOOP_CITATION = f"sb/send.c:{LOOP_LINE}-{LOOP_LINE + 2}"
REPORT = f"""# How the software bus fans out

## Summary
CFE_SB_Send loops over the route's pipes; the limits are macros.

## Findings
- Each pipe of the route gets the message. [{LOOP_CITATION}]
- A pipe holds at most 256 messages. [sb/sb_config.h:{DEPTH_LINE}]
"""
QUESTION = "How does the software bus deliver a message to several pipes?"


def respond(messages: list[dict[str, Any]]) -> str:
    """The fake model's answers, chosen by the system prompt of each request."""
    system = messages[0]["content"]
    if system.startswith("You plan research"):
        return "```json\n" + json.dumps(PLAN) + "\n```"
    if system.startswith("You extract findings"):
        return json.dumps(FINDINGS)
    if system.startswith("You write a research report"):
        return REPORT
    return "A chat answer."


@pytest.fixture(scope="module")
def lab_server_seed() -> Callable[[Path], None]:
    def seed(root: Path) -> None:
        (root / "sb").mkdir()
        (root / "sb" / "send.c").write_text(SEND_C)
        (root / "sb" / "sb_config.h").write_text(CONFIG_H)
        (root / "ground").mkdir()
        (root / "ground" / "route.py").write_text(ROUTE_PY)

    return seed


@pytest.fixture(scope="module")
def lab_server_args(indexing_args: list[str]) -> list[str]:
    # The default health check: the fast one gives up on a busy sidecar after 0.5 s.
    return [arg for arg in indexing_args if "sidecar_health_interval" not in arg]


@pytest.fixture
def research_llm(llm: FakeLLM) -> Iterator[FakeLLM]:
    """The fake LLM playing the research script; back to plain answers afterwards."""
    llm.respond = respond
    yield llm
    llm.respond = None


@pytest.fixture(scope="module")
def cleared(lab_server, indexed) -> Callable[[], None]:
    """Delete every job (their notes stay), so each test starts with an empty list."""

    def clear() -> None:
        for job in lab_server.api("GET", "research")["jobs"]:
            if job["status"] in ("queued", "running"):
                with contextlib.suppress(urllib.error.HTTPError):  # ended meanwhile
                    lab_server.api("POST", f"research/{job['id']}/cancel", {})
            lab_server.api("DELETE", f"research/{job['id']}")
        settle()

    return clear


def settle() -> None:
    """Let the job manager's worker go back to waiting for a job.

    Reported (issue 16, jobs.py `_work`): a job queued while the worker is between `_claim()`
    and `_wake.clear()` is not started until the next one is queued (a lost wake-up).
    """
    time.sleep(1.0)


def expect_status(lab_server, job: Locator, status: str) -> None:
    """The job's item reaches `status`; if not, the failure says where every job is."""
    try:
        expect(job).to_have_attribute("data-status", status, timeout=JOB_TIMEOUT_MS)
    except AssertionError as error:
        jobs = [
            {k: j.get(k) for k in ("id", "status", "step", "detail", "error", "started")}
            for j in lab_server.api("GET", "research")["jobs"]
        ]
        raise AssertionError(f"{error}\nthe server's jobs: {jobs}") from None


def open_research(page: Page) -> Locator:
    open_panel(page, RESEARCH_TAB, PANEL)
    return page.locator(PANEL)


def queue(page: Page, question: str, depth: str = "quick") -> Locator:
    """Queue `question` from the form (Ctrl+Enter); the job's item in the list."""
    panel = page.locator(PANEL)
    panel.locator(".jp-Workspace-researchDepth select").select_option(depth)
    field = panel.locator(".jp-Workspace-researchQuestion")
    field.fill(question)
    field.press("Control+Enter")
    expect(field).to_have_value("")
    job = panel.locator(JOB, has_text=question)
    expect(job).to_have_count(1)
    return job


def test_a_queued_question_runs_its_steps_and_its_cited_report_opens(
    context, lab_server, cleared, research_llm
) -> None:
    cleared()
    # Slow enough to see each step run: the model's answers stream in 40-character pieces.
    research_llm.delay = 0.08
    page = context.new_page()
    open_lab(page, lab_server)
    panel = open_research(page)
    # Only the code (a job that reads notes: the test below).
    panel.locator(".jp-Workspace-researchNotes").uncheck()
    job = queue(page, QUESTION)
    # newest first, with its live state
    expect(panel.locator(JOB).first).to_contain_text(QUESTION)
    expect(job).to_have_attribute("data-status", re.compile("queued|running"))
    expect(job.locator('.jp-Workspace-researchStep[data-status="running"]')).to_have_count(
        1, timeout=JOB_TIMEOUT_MS
    )
    expect(job.locator(".jp-Workspace-researchProgress")).to_be_visible()
    expect(job.locator(".jp-Workspace-researchCancel")).to_be_enabled()
    # a later step runs while the earlier ones show done
    expect(job.locator('.jp-Workspace-researchStep[data-step="plan"]')).to_have_attribute(
        "data-status", "done", timeout=JOB_TIMEOUT_MS
    )
    expect_status(lab_server, job, "done")
    expect(job.locator('.jp-Workspace-researchStep[data-status="done"]')).to_have_count(5)
    expect(job.locator(".jp-Workspace-researchProgress")).to_have_count(0)
    expect(job.locator(".jp-Workspace-researchMode")).to_have_count(0)  # the model answered
    expect(job.locator(".jp-Workspace-researchUsage")).to_contain_text("tokens")
    expect(job.locator(".jp-Workspace-researchRerun")).to_be_visible()
    expect(job.locator(".jp-Workspace-researchCancel")).to_have_count(0)
    expect(job.locator(".jp-Workspace-researchChanged")).to_have_count(0)  # just read

    # the notification's "Open note" shows the report in the Notes panel
    toast = page.locator(".Toastify__toast", has_text="Research done")
    expect(toast).to_have_count(1)
    toast.get_by_role("button", name="Open note").click()
    notes = page.locator(".jp-Workspace-notes")
    expect(notes).to_be_visible()
    # shown rendered: its citations are links; one opens the file at the cited line
    expect(notes.locator('.jp-Workspace-modeButton[data-mode="preview"]')).to_have_attribute(
        "aria-pressed", "true"
    )
    preview = notes.locator(".jp-Workspace-notePreview")
    expect(preview).to_contain_text("Sources")
    link = preview.locator('a.jp-Workspace-citation[data-path="sb/send.c"]')
    expect(link.first).to_have_attribute("data-line", str(LOOP_LINE))
    expect(link.first).to_have_attribute("data-end-line", str(LOOP_LINE + 2))
    job_id = job.get_attribute("data-id")
    note_id = lab_server.api("GET", f"research/{job_id}")["note_id"]
    report = lab_server.api("GET", f"notes/{note_id}")
    assert f"[{LOOP_CITATION}]" in report["body"]
    link.first.click()
    expect(editor_tab(page, "send.c")).to_be_visible()
    expect_cursor_at(page, LOOP_LINE)

    # a cited file changes: the job says so, and its Re-run updates the same note
    open_research(page)
    note_id = lab_server.api("GET", "research")["jobs"][0]["note_id"]
    assert note_id is not None
    send_c = lab_server.root / "sb" / "send.c"
    send_c.write_text(SEND_C + "/* delivery is in subscription order */\n")
    changed = job.locator(".jp-Workspace-researchChanged")
    expect(changed).to_contain_text("sources changed", timeout=JOB_TIMEOUT_MS)
    changed.locator(".jp-Workspace-researchChangedRerun").click()
    expect(job).to_have_attribute("data-status", re.compile("queued|running"))
    expect_status(lab_server, job, "done")
    again = lab_server.api("GET", f"research/{job.get_attribute('data-id')}")
    assert again["note_id"] == note_id and again["runs"] == 2
    assert not again["sources_changed"], again["sources"]
    expect(changed).to_have_count(0)

    # "Open note" in the panel opens the report
    job.locator(".jp-Workspace-researchOpenNote").click()
    notes = page.locator(".jp-Workspace-notes")
    expect(notes).to_be_visible()
    expect(notes.locator(".jp-Workspace-noteTitle")).to_have_value(re.compile("software bus", re.I))


def test_a_job_that_read_a_note_is_not_changed_as_soon_as_it_is_done(
    context, lab_server, cleared, llm
) -> None:
    cleared()
    llm.fail = (401, "invalid API key")  # retrieval-only: quick
    lab_server.api(
        "POST",
        "notes",
        {"title": "Pipe limits", "body": "CFE_SB_MAX_PIPE_DEPTH caps a pipe at 256 messages."},
    )
    page = context.new_page()
    open_lab(page, lab_server)
    open_research(page)
    job = queue(page, "What caps a pipe's depth?")
    expect_status(lab_server, job, "done")
    stored = lab_server.api("GET", f"research/{job.get_attribute('data-id')}")
    assert any(s["path"].startswith("@notes/") for s in stored["sources"]), stored["sources"]
    assert not stored["sources_changed"], stored["sources"]
    expect(job.locator(".jp-Workspace-researchChanged")).to_have_count(0)


def test_a_bad_scope_is_refused_in_the_form_with_the_reason(context, lab_server, cleared) -> None:
    cleared()
    page = context.new_page()
    open_lab(page, lab_server)
    # the palette's command shows the panel with the focus in the question field
    page.keyboard.press("Control+Shift+C")
    page.locator(".lm-CommandPalette-input").fill("Research a Question")
    page.locator(".lm-CommandPalette-input").press("Enter")
    panel = page.locator(PANEL)
    expect(panel).to_be_visible()
    expect(panel.locator(".jp-Workspace-researchQuestion")).to_be_focused()
    panel.locator(".jp-Workspace-researchLanguages").fill("klingon")
    field = panel.locator(".jp-Workspace-researchQuestion")
    field.fill("Where is the pipe depth checked?")
    panel.locator(".jp-Workspace-researchSubmit").click()
    error = panel.locator(".jp-Workspace-researchFormError")
    expect(error).to_contain_text("unknown language 'klingon'")
    # the question stays for the user to fix the scope
    expect(field).to_have_value("Where is the pipe depth checked?")
    expect(panel.locator(JOB)).to_have_count(0)
    panel.locator(".jp-Workspace-researchLanguages").fill("c")
    panel.locator(".jp-Workspace-researchPaths").fill("sb/**")
    panel.locator(".jp-Workspace-researchNotes").uncheck()
    field.press("Control+Enter")
    expect(error).to_have_count(0)
    job = panel.locator(JOB)
    expect(job).to_have_count(1)
    expect(job.locator(".jp-Workspace-researchScope")).to_have_text("Scope: sb/** · c · no notes")
    stored = lab_server.api("GET", "research")["jobs"][0]
    assert stored["scope"] == {"paths": ["sb/**"], "languages": ["c"], "notes": False}
    assert stored["depth"] == "standard"


def test_a_running_job_is_cancelled_then_standing_toggled_and_deleted(
    context, lab_server, cleared, research_llm
) -> None:
    cleared()
    # The plan streams for many seconds: time to cancel it while it runs.
    research_llm.delay = 1.0
    page = context.new_page()
    open_lab(page, lab_server)
    panel = open_research(page)
    job = queue(page, "Which pipes does a message with no route reach?")
    expect_status(lab_server, job, "running")
    job.locator(".jp-Workspace-researchCancel").click()
    expect_status(lab_server, job, "cancelled")
    expect(job.locator(".jp-Workspace-researchProgress")).to_have_count(0)
    expect(page.locator(".Toastify__toast", has_text="Research cancelled")).to_have_count(1)
    job_id = int(job.get_attribute("data-id") or 0)
    assert lab_server.api("GET", f"research/{job_id}")["status"] == "cancelled"

    toggle = job.locator(".jp-Workspace-researchStandingToggle")
    expect(toggle).to_have_attribute("aria-pressed", "false")
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "true")
    expect(job.locator(".jp-Workspace-researchStandingBadge")).to_be_visible()
    assert lab_server.api("GET", f"research/{job_id}")["standing"] is True
    toggle.click()
    expect(toggle).to_have_attribute("aria-pressed", "false")

    # Delete asks first; cancelling the dialog keeps the job
    job.locator(".jp-Workspace-researchDelete").click()
    dialog = page.locator(".jp-Dialog")
    expect(dialog).to_contain_text("Delete research job?")
    dialog.get_by_role("button", name="Cancel").click()
    expect(job).to_have_count(1)
    job.locator(".jp-Workspace-researchDelete").click()
    page.locator(".jp-Dialog").get_by_role("button", name="Delete").click()
    expect(panel.locator(JOB)).to_have_count(0)
    assert all(j["id"] != job_id for j in lab_server.api("GET", "research")["jobs"])


def test_with_no_model_answering_the_job_is_labelled_retrieval_only(
    context, lab_server, cleared, llm
) -> None:
    cleared()
    llm.fail = (401, "invalid API key")
    page = context.new_page()
    open_lab(page, lab_server)
    open_research(page)
    job = queue(page, "Where is CFE_SB_MAX_PIPE_DEPTH defined?")
    expect_status(lab_server, job, "done")
    expect(job.locator(".jp-Workspace-researchMode")).to_have_text("retrieval only")
    expect(page.locator(".Toastify__toast", has_text="retrieval only")).to_have_count(1)


def wait_until_ended(lab_server, job_id: int) -> None:
    deadline = time.monotonic() + JOB_TIMEOUT_MS / 1000
    while lab_server.api("GET", f"research/{job_id}")["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, f"research job {job_id} did not end"
        time.sleep(0.3)
    settle()


def drag_sidebar(page: Page, width: int) -> None:
    """Drag the left sidebar's edge so the panel is `width` pixels wide (as a user would)."""
    box = page.locator("#jp-main-split-panel > .lm-SplitPanel-handle:visible").first.bounding_box()
    if box is None:
        return
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(width, y, steps=5)
    page.mouse.up()


@pytest.mark.parametrize("theme", list(THEMES))
def test_the_panel_takes_the_theme_colours(context, lab_server, cleared, llm, theme) -> None:
    cleared()
    llm.respond = respond  # the `llm` fixture puts the plain answers back
    code_only = {"paths": ["sb/**", "ground/**"], "notes": False}
    job = lab_server.api(
        "POST", "research", {"question": QUESTION, "depth": "quick", "scope": code_only}
    )
    wait_until_ended(lab_server, job["id"])
    llm.fail = (401, "invalid API key")  # then a retrieval-only one
    job = lab_server.api(
        "POST",
        "research",
        {"question": "Where are the pipe limits set?", "depth": "quick", "scope": code_only},
    )
    wait_until_ended(lab_server, job["id"])
    llm.fail = None
    llm.delay = 1.0  # and one running while the picture is taken
    lab_server.api(
        "POST",
        "research",
        {"question": "What happens when a pipe is full?", "standing": True, "scope": code_only},
    )
    set_theme(lab_server, theme)
    try:
        page = context.new_page()
        open_lab(page, lab_server)
        expect(page.locator("body")).to_have_attribute("data-jp-theme-name", THEMES[theme])
        panel = open_research(page)
        expect(panel.locator(JOB)).to_have_count(3)
        expect(panel.locator(f'{JOB}[data-status="done"]')).to_have_count(2)
        running = panel.locator(f'{JOB}[data-status="running"]')
        expect(running.locator('.jp-Workspace-researchStep[data-status="running"]')).to_have_count(
            1, timeout=JOB_TIMEOUT_MS
        )
        colours = page.evaluate(
            """(selector) => {
                const panel = document.querySelector(selector);
                const root = getComputedStyle(document.body);
                const probe = document.createElement('div');
                probe.style.background = root.getPropertyValue('--jp-layout-color1');
                probe.style.color = root.getPropertyValue('--jp-ui-font-color1');
                document.body.appendChild(probe);
                const expected = getComputedStyle(probe);
                const question = panel.querySelector('.jp-Workspace-researchQuestion');
                const result = {
                    panel: getComputedStyle(panel).backgroundColor,
                    text: getComputedStyle(panel).color,
                    layout: expected.backgroundColor,
                    font: expected.color,
                    input: getComputedStyle(question).color,
                };
                probe.remove();
                return result;
            }""",
            PANEL,
        )
        assert colours["panel"] == colours["layout"] and colours["text"] == colours["font"]
        dark = theme == "dark"
        assert (luminance(colours["panel"]) < 0.3) == dark, colours
        assert (luminance(colours["input"]) > 0.6) == dark, colours
        drag_sidebar(page, LEFT_SIDEBAR_PX)
        page.wait_for_timeout(600)  # the layout settles, fonts load
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"research-{theme}.png"
        page.screenshot(path=str(path))
        assert path.stat().st_size > 0
    finally:
        set_theme(lab_server, "light")


def test_the_stylesheet_uses_only_theme_colours() -> None:
    css = (
        Path(__file__).resolve().parents[2] / "labextension" / "style" / "research.css"
    ).read_text()
    without_comments = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    literal = re.findall(r"#[0-9a-fA-F]{3,8}\b|\brgba?\(|\bhsla?\(", without_comments)
    assert not literal, f"research.css hard-codes colours: {literal}"


HOSTILE_NOTE = f"""# A report from elsewhere

- Real: [sb/send.c:{LOOP_LINE}]
- Leaves the folder: [../../etc/passwd:1]
- A script URL: [javascript:alert(1):2]
- Markup in a citation: [<img src=x onerror="window.pwned=1">:3]
- In code, not linked: `[sb/send.c:1]`
"""


def test_citations_in_a_note_preview_are_links_only_to_files_of_the_folder(
    context, lab_server, cleared
) -> None:
    note = lab_server.api("POST", "notes", {"title": "Hostile report", "body": HOSTILE_NOTE})
    page = context.new_page()
    open_lab(page, lab_server)
    open_panel(page, 'li[data-id="jupyter-workspace:sidebar"]', ".jp-Workspace-notes")
    notes = page.locator(".jp-Workspace-notes")
    notes.locator(f'.jp-Workspace-noteItem[data-id="{note["id"]}"]').click()
    notes.locator('.jp-Workspace-modeButton[data-mode="preview"]').click()
    preview = notes.locator(".jp-Workspace-notePreview")
    expect(preview.locator("h1")).to_contain_text("A report from elsewhere")
    links = preview.locator("a.jp-Workspace-citation")
    expect(links).to_have_count(1)
    expect(links).to_have_attribute("data-path", "sb/send.c")
    expect(links).to_have_attribute("href", re.compile(r"/lab/tree/sb/send\.c$"))
    expect(preview.locator("script, [onerror]")).to_have_count(0)
    expect(preview.locator("code a")).to_have_count(0)
    assert page.evaluate("window.pwned") is None
    links.click()
    expect(editor_tab(page, "send.c")).to_be_visible()
    expect_cursor_at(page, LOOP_LINE)


def test_a_failed_job_shows_its_error_in_the_list_and_a_notification(
    context, lab_server, cleared, llm
) -> None:
    cleared()
    llm.fail = (500, "the model is down")  # a model failure, not a missing model: the job fails
    page = context.new_page()

    def answer_after_the_failure(route) -> None:
        """The queue request's answer (the job `queued`) reaches the page after the events
        of the job's failure, as it did on a loaded machine: the panel keeps `failed`."""
        if route.request.method != "POST":
            route.continue_()
            return
        response = route.fetch()
        queued = response.json()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            jobs = lab_server.api("GET", "research")["jobs"]
            if any(j["id"] == queued["id"] and j["status"] == "failed" for j in jobs):
                break
            time.sleep(0.1)
        time.sleep(1.0)  # the failure's events reach the page first
        route.fulfill(response=response)

    page.route(re.compile(r"/workspace/api/research(\?|$)"), answer_after_the_failure)
    open_lab(page, lab_server)
    panel = open_research(page)
    panel.locator(".jp-Workspace-researchQuestion").fill("Why does a pipe overflow?")
    panel.locator(".jp-Workspace-researchQuestion").press("Control+Enter")
    # The form clears once the queue request has answered.
    expect(panel.locator(".jp-Workspace-researchQuestion")).to_have_value("", timeout=30_000)
    job = panel.locator(JOB, has_text="Why does a pipe overflow?")
    expect_status(lab_server, job, "failed")
    page.unroute(re.compile(r"/workspace/api/research(\?|$)"))
    expect(job.locator(".jp-Workspace-researchError")).to_contain_text("the model is down")
    expect(job.locator('.jp-Workspace-researchStep[data-step="plan"]')).to_have_attribute(
        "data-status", "failed"
    )
    expect(job.locator(".jp-Workspace-researchOpenNote")).to_have_count(0)
    toast = page.locator(".Toastify__toast--error", has_text="Research failed")
    expect(toast).to_have_count(1)
    expect(toast).to_contain_text("plan")
    # a job queued elsewhere (a magic, another tab) shows at the top, live
    other = lab_server.api("POST", "research", {"question": "Queued from a notebook"})
    first = page.locator(PANEL).locator(JOB).first
    expect(first).to_have_attribute("data-id", str(other["id"]))
    expect_status(lab_server, first, "failed")
    expect(page.locator(".Toastify__toast--error", has_text="Research failed")).to_have_count(2)
