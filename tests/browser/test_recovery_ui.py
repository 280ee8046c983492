"""Crash recovery in headless Chromium against a real `jupyter lab` (issue 17).

What a user does and sees: edits typed into a `.py` file and into a notebook and never saved
are offered back (Restore) when the document is opened again after the page was killed, and
after the Jupyter server was killed with SIGKILL and started again; the restored text is
identical to what was typed; saving drops the snapshot; a file changed on disk meanwhile shows
both sides in the diff and the restore keeps both (a recovered copy beside the file, the file
untouched); the Recover Unsaved Work panel lists what is left and discards it.

Selectors are the stable DOM hooks documented in labextension/README.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import LabServer, launch_lab, stop_lab
from tests.browser.pages import (
    THEMES,
    luminance,
    note_item,
    open_workspace,
    run_command,
    set_theme,
)

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("lab_log")]

# No sidecar: recovery is the coordinator's and the page's alone.
ARGS = ["--WorkspaceApp.sidecar_enabled=False", "--WorkspaceApp.watch_debounce=0.1"]
# A document over this is not snapshotted (the test's big file is 300 KB).
CAP_ARGS = ["--WorkspaceApp.snapshot_max_bytes=200000"]
DIALOG = ".jp-Dialog"
PY = "ekf.py"
PY_TEXT = '"""Extended Kalman filter."""\n\n\ndef predict(x, P):\n    return x, P\n'
TYPED = "# gain schedule: never saved"
# The debounce (1 s) plus a PUT on a loaded machine.
SNAPSHOT_TIMEOUT_S = 20
SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("WORKSPACE_UPDATE_SCREENSHOT") == "1"
    else Path(__file__).resolve().parent / "artifacts" / "screenshots"
)
HOSTILE = '<img src=x onerror="window.pwned=1">.py'


def notebook(source: str) -> dict:
    return {
        "metadata": {
            "kernelspec": {"language": "python", "name": "python3", "display_name": "Python 3"}
        },
        "nbformat": 4,
        "nbformat_minor": 5,
        "cells": [
            {
                "cell_type": "code",
                "id": "c1",
                "metadata": {},
                "execution_count": None,
                "outputs": [],
                "source": source,
            }
        ],
    }


@pytest.fixture(scope="module")
def lab_server_args() -> list[str]:
    return ARGS + CAP_ARGS


@pytest.fixture(scope="module")
def lab_server_seed() -> Callable[[Path], None]:
    def seed(root: Path) -> None:
        (root / PY).write_text(PY_TEXT)
        (root / "drift.py").write_text(PY_TEXT)
        (root / "panel.py").write_text(PY_TEXT)
        (root / "orbit.ipynb").write_text(json.dumps(notebook("mu = 398600.4418")))
        for name in ("hidden.py", "twice.py", "attitude.py", HOSTILE):
            (root / name).write_text(PY_TEXT)
        (root / "big.py").write_text("# telemetry table\n" + "x = 1  # padding\n" * 18_000)
        (root / "table.py").write_text("# gains\n" + "k = 0.25  # per axis\n" * 5_000)

    return seed


# -- what a user does ------------------------------------------------------------------------
def new_context(browser):
    """A fresh browser tab's state (no storage shared with the others): a new page load."""
    return browser.new_context(viewport={"width": 1280, "height": 800})


def open_document(page: Page, server: LabServer, path: str) -> None:
    page.goto(f"{server.url}/lab/tree/{path}?reset&token={server.token}")
    expect(page.locator("#jupyterlab-splash")).to_have_count(0, timeout=60_000)
    widget = ".jp-Notebook" if path.endswith(".ipynb") else ".jp-FileEditor"
    page.locator(widget).first.wait_for(timeout=30_000)


def type_at_end(page: Page, editor: str, text: str) -> None:
    page.locator(editor).first.click()
    page.keyboard.press("Control+End")
    page.keyboard.press("Enter")
    page.keyboard.type(text)


def editor_text(page: Page, editor: str) -> str:
    return page.locator(editor).first.evaluate(
        "node => [...node.querySelectorAll('.cm-line')].map(l => l.textContent).join('\\n')"
    )


def wait_for_snapshot(server: LabServer, path: str, contains: str) -> dict:
    """The newest stored snapshot of `path`, once its content holds `contains`."""
    deadline = time.monotonic() + SNAPSHOT_TIMEOUT_S
    while True:
        for row in server.api("GET", f"snapshots?path={path}")["snapshots"]:
            full = server.api("GET", f"snapshots/{row['id']}")
            if contains in full["content"]:
                return full
        if time.monotonic() > deadline:
            raise AssertionError(f"no snapshot of {path} holding {contains!r}")
        time.sleep(0.2)


def wait_until_no_snapshots(server: LabServer, path: str) -> None:
    deadline = time.monotonic() + SNAPSHOT_TIMEOUT_S
    while server.api("GET", f"snapshots?path={path}")["snapshots"]:
        if time.monotonic() > deadline:
            raise AssertionError(f"the snapshots of {path} were not dropped")
        time.sleep(0.2)


def offer(page: Page, name: str):
    dialog = page.locator(DIALOG)
    expect(dialog).to_be_visible(timeout=30_000)
    expect(dialog).to_contain_text(f"Unsaved changes to {name}")
    return dialog


def save(page: Page) -> None:
    page.keyboard.press("Control+s")


# -- the tests -------------------------------------------------------------------------------
def test_a_py_file_typed_and_never_saved_is_offered_after_the_page_is_killed(
    browser, lab_server: LabServer
) -> None:
    first = new_context(browser)
    page = first.new_page()
    open_document(page, lab_server, PY)
    type_at_end(page, ".jp-FileEditor", TYPED)
    typed = editor_text(page, ".jp-FileEditor")
    snapshot = wait_for_snapshot(lab_server, PY, TYPED)
    assert snapshot["content"].rstrip("\n") == typed.rstrip("\n")
    first.close()  # the tab killed: no save, no prompt
    assert (lab_server.root / PY).read_text() == PY_TEXT

    second = new_context(browser)
    try:
        page = second.new_page()
        open_document(page, lab_server, PY)
        dialog = offer(page, PY)
        expect(dialog).not_to_contain_text("changed on disk")
        dialog.get_by_role("button", name="Restore").click()
        expect(page.locator(DIALOG)).to_have_count(0)
        expect(page.locator(".jp-FileEditor .cm-content").first).to_contain_text(TYPED)
        assert editor_text(page, ".jp-FileEditor").rstrip("\n") == typed.rstrip("\n")
        # restored into the editor, not written: the file is untouched until the user saves
        assert (lab_server.root / PY).read_text() == PY_TEXT
        save(page)
        deadline = time.monotonic() + 10
        while TYPED not in (lab_server.root / PY).read_text():
            assert time.monotonic() < deadline, "the restored text was not saved"
            time.sleep(0.1)
        assert (lab_server.root / PY).read_text() == snapshot["content"]
        wait_until_no_snapshots(lab_server, PY)
    finally:
        second.close()


def test_a_notebook_typed_and_never_saved_is_offered_and_restored_identical(
    browser, lab_server: LabServer
) -> None:
    first = new_context(browser)
    page = first.new_page()
    open_document(page, lab_server, "orbit.ipynb")
    type_at_end(page, ".jp-Notebook .jp-Cell .cm-content", "r = 6771.0  # not saved")
    snapshot = wait_for_snapshot(lab_server, "orbit.ipynb", "not saved")
    assert snapshot["kind"] == "notebook"
    typed_cells = [cell["source"] for cell in json.loads(snapshot["content"])["cells"]]
    assert typed_cells == ["mu = 398600.4418\nr = 6771.0  # not saved"]
    first.close()

    second = new_context(browser)
    try:
        page = second.new_page()
        open_document(page, lab_server, "orbit.ipynb")
        offer(page, "orbit.ipynb").get_by_role("button", name="Restore").click()
        expect(page.locator(".jp-Notebook .jp-Cell").first).to_contain_text("# not saved")
        save(page)
        deadline = time.monotonic() + 15
        while True:
            on_disk = json.loads((lab_server.root / "orbit.ipynb").read_text())
            sources = ["".join(cell["source"]) for cell in on_disk["cells"]]
            if sources == typed_cells:
                break
            assert time.monotonic() < deadline, f"the notebook on disk is {sources}"
            time.sleep(0.2)
        wait_until_no_snapshots(lab_server, "orbit.ipynb")
    finally:
        second.close()


def test_a_file_changed_on_disk_meanwhile_shows_both_and_the_restore_keeps_both(
    browser, lab_server: LabServer
) -> None:
    first = new_context(browser)
    page = first.new_page()
    open_document(page, lab_server, "drift.py")
    type_at_end(page, ".jp-FileEditor", "# typed in the browser")
    snapshot = wait_for_snapshot(lab_server, "drift.py", "typed in the browser")
    first.close()
    changed = PY_TEXT + "# written on disk by someone else\n"
    (lab_server.root / "drift.py").write_text(changed)

    second = new_context(browser)
    try:
        page = second.new_page()
        open_document(page, lab_server, "drift.py")
        # the disk is newer than the snapshot: no dialog, the panel has it
        page.wait_for_timeout(1500)
        expect(page.locator(DIALOG)).to_have_count(0)
        run_command(page, "Recover Unsaved Work")
        row = page.locator('.jp-Workspace-recoveryRow[data-path="drift.py"]')
        expect(row).to_be_visible(timeout=15_000)
        expect(row).to_have_attribute("data-state", "changed")
        expect(row).to_contain_text("changed on disk since")
        row.locator(".jp-Workspace-recoveryShowDiff").click()
        diff = page.locator(".jp-Workspace-recoveryDiff")
        removed = diff.locator(".jp-Workspace-diffLine[data-kind='removed']")
        added = diff.locator(".jp-Workspace-diffLine[data-kind='added']")
        expect(removed.filter(has_text="written on disk by someone else")).to_have_count(1)
        expect(added.filter(has_text="typed in the browser")).to_have_count(1)
        expect(diff).to_contain_text("changed on disk since")
        diff.locator(".jp-Workspace-recoveryRestore").click()
        expect(diff.locator(".jp-Workspace-diffStatus")).to_contain_text("Restored", timeout=15_000)
        copies = sorted(lab_server.root.glob("drift (recovered *).py"))
        assert len(copies) == 1, copies
        assert copies[0].read_text() == snapshot["content"]
        assert (lab_server.root / "drift.py").read_text() == changed  # never overwritten
        wait_until_no_snapshots(lab_server, "drift.py")
        expect(row).to_have_count(0, timeout=15_000)
    finally:
        second.close()


def test_the_recover_panel_lists_and_discards(browser, lab_server: LabServer) -> None:
    first = new_context(browser)
    page = first.new_page()
    open_document(page, lab_server, "panel.py")
    type_at_end(page, ".jp-FileEditor", "# to be discarded")
    wait_for_snapshot(lab_server, "panel.py", "to be discarded")
    first.close()

    second = new_context(browser)
    try:
        page = second.new_page()
        open_document(page, lab_server, PY)  # another file: a notification says work waits
        toast = page.locator(".Toastify__toast", has_text="never saved")
        expect(toast).to_be_visible(timeout=20_000)
        toast.get_by_role("button", name="Recover…").click()
        row = page.locator('.jp-Workspace-recoveryRow[data-path="panel.py"]')
        expect(row).to_be_visible(timeout=15_000)
        expect(row).to_contain_text("unsaved")
        row.locator(".jp-Workspace-recoveryDiscard").click()
        expect(row).to_have_count(0, timeout=15_000)
        wait_until_no_snapshots(lab_server, "panel.py")
        assert (lab_server.root / "panel.py").read_text() == PY_TEXT
    finally:
        second.close()


def test_edits_sent_before_a_kill_9_of_the_server_are_offered_after_its_restart(
    browser, tmp_path: Path
) -> None:
    root = tmp_path / "project"
    root.mkdir()
    (root / "guidance.py").write_text(PY_TEXT)
    server, process = launch_lab(tmp_path, root, ARGS)
    try:
        first = new_context(browser)
        page = first.new_page()
        open_document(page, server, "guidance.py")
        type_at_end(page, ".jp-FileEditor", "# typed before the server died")
        typed = editor_text(page, ".jp-FileEditor")
        wait_for_snapshot(server, "guidance.py", "before the server died")
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        first.close()

        port = int(server.url.rsplit(":", 1)[1])
        server, process = launch_lab(tmp_path, root, ARGS, port=port, token=server.token)
        second = new_context(browser)
        try:
            page = second.new_page()
            open_document(page, server, "guidance.py")
            offer(page, "guidance.py").get_by_role("button", name="Restore").click()
            expect(page.locator(".jp-FileEditor .cm-content").first).to_contain_text(
                "before the server died"
            )
            assert editor_text(page, ".jp-FileEditor").rstrip("\n") == typed.rstrip("\n")
            assert (root / "guidance.py").read_text() == PY_TEXT
        finally:
            second.close()
    finally:
        with contextlib.suppress(Exception):
            stop_lab(process)


def test_a_hidden_page_sends_at_once_and_the_delay_is_a_setting(
    browser, lab_server: LabServer
) -> None:
    lab_server.put_settings({"delay": 60_000}, plugin="recovery")
    context = new_context(browser)
    try:
        page = context.new_page()
        open_document(page, lab_server, "hidden.py")
        type_at_end(page, ".jp-FileEditor", "# typed, then the tab hidden")
        page.wait_for_timeout(2500)  # well past the default 1 s: the 60 s setting holds it
        assert lab_server.api("GET", "snapshots?path=hidden.py")["snapshots"] == []
        page.evaluate(
            """() => {
                Object.defineProperty(document, 'visibilityState', {
                    value: 'hidden', configurable: true
                });
                document.dispatchEvent(new Event('visibilitychange'));
            }"""
        )
        wait_for_snapshot(lab_server, "hidden.py", "then the tab hidden")
    finally:
        context.close()
        lab_server.put_settings({}, plugin="recovery")


def test_two_tabs_editing_one_file_are_both_kept_and_labelled(
    browser, lab_server: LabServer
) -> None:
    contexts = [new_context(browser) for _ in range(2)]
    try:
        for context, text in zip(contexts, ("# from tab one", "# from tab two"), strict=True):
            page = context.new_page()
            open_document(page, lab_server, "twice.py")
            type_at_end(page, ".jp-FileEditor", text)
            wait_for_snapshot(lab_server, "twice.py", text)
        rows = lab_server.api("GET", "snapshots?path=twice.py")["snapshots"]
        assert len(rows) == 2 and rows[0]["client"] != rows[1]["client"]
        for context in contexts:
            context.close()
        contexts = [new_context(browser)]
        page = contexts[0].new_page()
        open_document(page, lab_server, "twice.py")
        dialog = offer(page, "twice.py")
        expect(dialog).to_contain_text("One more version from another tab")
        dialog.get_by_role("button", name="Later").click()
        run_command(page, "Recover Unsaved Work")
        listed = page.locator('.jp-Workspace-recoveryRow[data-path="twice.py"]')
        expect(listed).to_have_count(2, timeout=15_000)
        labels = {row["client"][:8]: row for row in rows}  # each row names the tab that sent it
        for label in labels:
            expect(listed.filter(has_text=f"tab {label}")).to_have_count(1)
    finally:
        for context in contexts:
            context.close()


def test_a_document_over_the_cap_is_said_and_not_sent(browser, lab_server: LabServer) -> None:
    context = new_context(browser)
    try:
        page = context.new_page()
        sent: list[int] = []
        page.on(
            "request",
            lambda request: (
                sent.append(len(request.post_data_buffer or b""))
                if request.method == "PUT" and "/workspace/api/snapshots" in request.url
                else None
            ),
        )
        open_document(page, lab_server, "big.py")
        page.locator(".jp-FileEditor .cm-content").first.click()
        page.keyboard.press("Control+Home")
        page.keyboard.type("# edited ")
        toast = page.locator(".Toastify__toast", has_text="too large for crash snapshots")
        expect(toast).to_be_visible(timeout=20_000)
        expect(toast).to_contain_text("big.py")
        page.keyboard.type("again ")
        page.wait_for_timeout(2500)
        assert sent == []  # the page knows the cap: nothing over it goes out
        assert lab_server.api("GET", "snapshots?path=big.py")["snapshots"] == []
        expect(page.locator(".Toastify__toast", has_text="too large")).to_have_count(1)
    finally:
        context.close()


@pytest.mark.parametrize("theme", list(THEMES))
def test_the_panel_in_the_theme_with_a_hostile_file_name(
    browser, lab_server: LabServer, theme: str
) -> None:
    """What a crashed tab left, as the panel shows it; a file name is text, never markup."""
    client = f"crashed-tab-{theme}"
    lab_server.api(
        "PUT",
        "snapshots",
        {
            "path": "attitude.py",
            "kind": "file",
            "content": PY_TEXT + "# quaternion normalised before use\n",
            "client": client,
        },
    )
    lab_server.api(
        "PUT",
        "snapshots",
        {"path": HOSTILE, "kind": "file", "content": "pwned = 1\n", "client": client},
    )
    set_theme(lab_server, theme)
    context = new_context(browser)
    try:
        page = context.new_page()
        open_document(page, lab_server, PY)
        expect(page.locator("body")).to_have_attribute("data-jp-theme-name", THEMES[theme])
        run_command(page, "Recover Unsaved Work")
        panel = page.locator(".jp-Workspace-recovery")
        hostile = panel.locator(".jp-Workspace-recoveryRow").filter(has_text="onerror")
        expect(hostile).to_have_count(1, timeout=15_000)
        expect(hostile.locator(".jp-Workspace-recoveryPath")).to_have_text(HOSTILE)
        assert panel.locator("img").count() == 0
        assert page.evaluate("() => window.pwned") is None
        row = panel.locator('.jp-Workspace-recoveryRow[data-path="attitude.py"]')
        row.locator(".jp-Workspace-recoveryShowDiff").click()
        diff = page.locator(".jp-Workspace-recoveryDiff")
        expect(diff.locator(".jp-Workspace-diffLine[data-kind='added']")).to_have_text(
            "+# quaternion normalised before use"
        )
        colours = page.evaluate(
            """() => {
                const panel = document.querySelector('.jp-Workspace-recovery');
                const probe = document.createElement('div');
                const root = getComputedStyle(document.body);
                probe.style.background = root.getPropertyValue('--jp-layout-color1');
                document.body.appendChild(probe);
                const result = {
                    panel: getComputedStyle(panel).backgroundColor,
                    layout: getComputedStyle(probe).backgroundColor,
                    text: getComputedStyle(panel).color,
                };
                probe.remove();
                return result;
            }"""
        )
        assert colours["panel"] == colours["layout"], colours
        assert (luminance(colours["panel"]) < 0.3) == (theme == "dark"), colours
        assert (luminance(colours["text"]) > 0.6) == (theme == "dark"), colours
        page.wait_for_timeout(600)  # the layout settles, fonts load
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"recovery-{theme}.png"
        page.screenshot(path=str(path))
        assert path.stat().st_size > 0
    finally:
        context.close()
        set_theme(lab_server, "light")
        for row in lab_server.api("GET", "snapshots")["snapshots"]:
            if row["client"] == client:
                lab_server.api("DELETE", f"snapshots/{row['id']}")


def test_the_stylesheet_uses_only_theme_colours() -> None:
    css = (
        Path(__file__).resolve().parents[2] / "labextension" / "style" / "recovery.css"
    ).read_text()
    without_comments = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    literal = re.findall(r"#[0-9a-fA-F]{3,8}\b|\brgba?\(|\bhsla?\(", without_comments)
    assert not literal, f"recovery.css hard-codes colours: {literal}"


def test_a_note_edit_the_server_refused_is_kept_and_restored_from_the_panel(
    browser, lab_server: LabServer
) -> None:
    note = lab_server.api("POST", "notes", {"title": "Thermal review", "body": "Radiator: ok\n"})
    lab_server.put_settings({"autosaveDelay": 4000})  # time to change it elsewhere meanwhile
    context = new_context(browser)
    try:
        page = context.new_page()
        open_document(page, lab_server, PY)
        open_workspace(page)
        note_item(page, "Thermal review").click()
        body = page.locator(".jp-Workspace-noteBody")
        body.click()
        page.keyboard.press("Control+End")
        page.keyboard.type("Heater: stuck on in eclipse")
        # another tab saves the note first: this tab's save meets a conflict
        lab_server.api(
            "PATCH",
            f"notes/{note['id']}",
            {"body": "Radiator: replaced\n", "base_revision": note["revision"]},
        )
        expect(page.locator(".jp-Workspace-saveState")).to_have_attribute(
            "data-state", "conflict", timeout=15_000
        )
        draft = wait_for_snapshot(lab_server, f"@notes/{note['id']}", "stuck on in eclipse")
        assert draft["kind"] == "note"
        assert draft["content"] == "Radiator: ok\nHeater: stuck on in eclipse"
        context.close()  # the page dies with the conflict unresolved

        context = new_context(browser)
        page = context.new_page()
        open_document(page, lab_server, PY)
        run_command(page, "Recover Unsaved Work")
        row = page.locator(f'.jp-Workspace-recoveryRow[data-path="@notes/{note["id"]}"]')
        expect(row).to_be_visible(timeout=15_000)
        row.locator(".jp-Workspace-recoveryRestore").click()
        dialog = page.locator(DIALOG)
        expect(dialog).to_contain_text("Restore the note “Thermal review”?")
        dialog.get_by_role("button", name="Replace the Text").click()
        expect(row).to_have_count(0, timeout=15_000)
        stored = lab_server.api("GET", f"notes/{note['id']}")
        assert stored["body"] == "Radiator: ok\nHeater: stuck on in eclipse"
    finally:
        context.close()
        lab_server.put_settings({})


def test_a_file_deleted_on_disk_is_written_back_by_restore(browser, lab_server: LabServer) -> None:
    (lab_server.root / "gone.py").write_text(PY_TEXT)
    lab_server.api(
        "PUT",
        "snapshots",
        {"path": "gone.py", "kind": "file", "content": "kept = True\n", "client": "crashed"},
    )
    (lab_server.root / "gone.py").unlink()
    context = new_context(browser)
    try:
        page = context.new_page()
        open_document(page, lab_server, PY)
        run_command(page, "Recover Unsaved Work")
        row = page.locator('.jp-Workspace-recoveryRow[data-path="gone.py"]')
        expect(row).to_have_attribute("data-state", "deleted", timeout=15_000)
        expect(row).to_contain_text("deleted on disk")
        row.locator(".jp-Workspace-recoveryRestore").click()
        expect(row).to_have_count(0, timeout=15_000)
        assert (lab_server.root / "gone.py").read_text() == "kept = True\n"
    finally:
        context.close()


def test_a_file_renamed_in_jupyterlab_takes_its_snapshot_along(
    browser, lab_server: LabServer
) -> None:
    (lab_server.root / "before.py").write_text(PY_TEXT)
    context = new_context(browser)
    try:
        page = context.new_page()
        open_document(page, lab_server, "before.py")
        type_at_end(page, ".jp-FileEditor", "# typed before the rename")
        wait_for_snapshot(lab_server, "before.py", "typed before the rename")
        item = page.locator(".jp-DirListing-item", has_text="before.py")
        item.click(button="right")
        page.locator(".lm-Menu-item", has_text="Rename").click()
        editor = page.locator(".jp-DirListing-editor")
        editor.fill("after.py")
        editor.press("Enter")
        wait_for_snapshot(lab_server, "after.py", "typed before the rename")
        wait_until_no_snapshots(lab_server, "before.py")
    finally:
        context.close()


def test_a_big_buffer_goes_gzipped_and_arrives_whole(browser, lab_server: LabServer) -> None:
    context = new_context(browser)
    try:
        page = context.new_page()
        sent: list[tuple[str | None, int]] = []
        page.on(
            "request",
            lambda request: (
                sent.append(
                    (request.headers.get("content-encoding"), len(request.post_data_buffer or b""))
                )
                if request.method == "PUT" and "/workspace/api/snapshots" in request.url
                else None
            ),
        )
        open_document(page, lab_server, "table.py")
        page.locator(".jp-FileEditor .cm-content").first.click()
        page.keyboard.press("Control+Home")
        page.keyboard.type("# retuned ")
        snapshot = wait_for_snapshot(lab_server, "table.py", "# retuned ")
        text = (lab_server.root / "table.py").read_text()
        assert snapshot["content"] == "# retuned " + text
        page.wait_for_timeout(200)  # Playwright hands events over during its own calls
        assert sent and sent[0][0] == "gzip", sent
        assert sent[0][1] < len(text) / 10, sent  # 110 KB of repeated lines
    finally:
        context.close()
