"""The Pipelines panel in headless Chromium against a real `jupyter lab`: runs in real PTYs
shown in JupyterLab's terminal (xterm.js, input included), a real gcc error turned into a
notification, a failure link and a BUILD task, the run's output view and its LLM summary
(the real AI sidecar talking to tests/fake_llm.py), `workspace.toml` edited from the panel, and
a changed `workspace.toml` that runs nothing until it is trusted from the panel.

Selectors are the stable DOM hooks documented in labextension/README.md.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import urllib.error
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import (
    detected_task,
    editor_tab,
    expect_cursor_at,
    open_lab,
    open_pipelines,
    open_workspace,
)
from tests.fake_llm import FakeLLM

pytestmark = [
    pytest.mark.browser,
    pytest.mark.usefixtures("lab_log"),
    pytest.mark.skipif(
        shutil.which("gcc") is None and not os.environ.get("CI"),
        reason="needs gcc (./dev test installs it; never skipped in CI)",
    ),
]

# A run's whole life, from Run to its end event in the panel (the greeting sleeps 3 s).
RUN_TIMEOUT_MS = 30_000
CONFIG = """\
[pipelines.greet]
command = "echo line-one; echo line-two; echo line-three; sleep 3"
description = "Say hello"

[pipelines.compile]
command = "gcc -c -o /dev/null bad.c"
description = "Compile the guidance law"
watch = ["include/**/*.h"]

[pipelines.ask]
command = "read answer; echo got-$answer"
timeout = 120
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
# gcc reports the missing ';' at the next token, the `return`, and its column.
BAD_LINE = BAD_C.splitlines().index("    return a;") + 1
BAD_COLUMN = 5


@pytest.fixture(scope="module")
def lab_server_seed() -> Callable[[Path], None]:
    def seed(root: Path) -> None:
        (root / "workspace.toml").write_text(CONFIG)
        (root / "bad.c").write_text(BAD_C)
        # xterm.js draws on a canvas; its screen-reader mode mirrors the rows in the DOM,
        # where the test can read them. (The settings folder is conftest's, beside the root.)
        terminal = root.parent / "settings" / "@jupyterlab" / "terminal-extension"
        terminal.mkdir(parents=True)
        (terminal / "plugin.jupyterlab-settings").write_text(json.dumps({"screenReaderMode": True}))

    return seed


@pytest.fixture(scope="module")
def lab_server_args(fake_llm: FakeLLM) -> list[str]:
    # The sidecar answers the summaries; no index, nothing to embed.
    return [
        "--WorkspaceApp.index_enabled=False",
        "--WorkspaceApp.llm_model=openai/fake-model",
        f"--WorkspaceApp.llm_api_base={fake_llm.url}/v1",
        "--WorkspaceApp.llm_api_key=sk-test",
        "--WorkspaceApp.sidecar_health_interval=0.5",
    ]


@pytest.fixture(autouse=True)
def trusted(lab_server) -> None:
    """The seeded config as a user allowed to run terminals trusted it (it was written before
    the server started, so it starts untrusted)."""
    config = lab_server.api("GET", "pipelines")["config"]
    if config["exists"] and not config["trusted"]:
        lab_server.api("POST", "pipelines/trust", {"hash": config["hash"]})


def pipelines_page(context, server) -> Page:
    """A new tab with JupyterLab loaded and the Pipelines panel shown."""
    page = context.new_page()
    open_lab(page, server)
    open_pipelines(page)
    return page


def pipeline_item(page: Page, name: str):
    return page.locator(f'.jp-Workspace-pipelineItem[data-name="{name}"]')


def run_view(page: Page, status: str):
    """The output view on screen, once its run has `status`."""
    return page.locator(f'.jp-Workspace-runRoot[data-status="{status}"]:visible')


def terminal_text(page: Page):
    """The rows of the terminal on screen, as xterm's screen-reader mode mirrors them."""
    return page.locator(".jp-Terminal:visible .xterm-accessibility-tree")


def test_panel_lists_pipelines_and_a_run_streams_into_its_terminal(context, lab_server) -> None:
    page = pipelines_page(context, lab_server)

    expect(page.locator(".jp-Workspace-pipelineItem")).to_have_count(3)
    greet = pipeline_item(page, "greet")
    expect(greet.locator(".jp-Workspace-pipelineDescription")).to_have_text("Say hello")
    expect(greet.locator(".jp-Workspace-pipelineCommand")).to_have_text(
        "echo line-one; echo line-two; echo line-three; sleep 3"
    )
    expect(greet.locator(".jp-Workspace-runStatusLabel")).to_have_text("Never run")
    expect(pipeline_item(page, "compile").locator(".jp-Workspace-pipelineWatch")).to_contain_text(
        "include/**/*.h"
    )

    # Run is a real button: Enter on it starts the run.
    run_button = greet.locator(".jp-Workspace-runPipeline")
    run_button.focus()
    expect(run_button).to_be_focused()
    page.keyboard.press("Enter")

    # The run's terminal opens with its output; the panel says it is running.
    expect(greet).to_have_attribute("data-status", "running")
    expect(greet.locator(".jp-Workspace-stopRun")).to_be_visible()
    expect(terminal_text(page)).to_contain_text("line-two")
    expect(page.locator(".lm-DockPanel-tabBar .lm-TabBar-tab.lm-mod-current")).to_contain_text(
        "greet · run"
    )

    # It passes; JupyterLab closes the terminal and the run's output view takes its place.
    expect(greet).to_have_attribute("data-status", "passed", timeout=RUN_TIMEOUT_MS)
    expect(greet.locator(".jp-Workspace-runStatusLabel")).to_have_text("Passed")
    expect(greet.locator(".jp-Workspace-pipelineLastRun .jp-Workspace-runDuration")).to_have_text(
        re.compile(r"^\d+(\.\d)? s$")
    )
    view = run_view(page, "passed")
    expect(view.locator(".jp-Workspace-runOutput")).to_contain_text("line-three")
    expect(view.locator(".jp-Workspace-runExitCode")).to_have_text("0")
    expect(view.locator(".jp-Workspace-runFailure")).to_have_count(0)

    # The history lists the run.
    greet.locator(".jp-Workspace-runHistoryToggle").click()
    expect(greet.locator(".jp-Workspace-runHistoryToggle")).to_have_attribute(
        "aria-expanded", "true"
    )
    expect(greet.locator('.jp-Workspace-runItem[data-status="passed"]')).to_have_count(1)


def test_a_gcc_error_notifies_links_to_its_line_and_becomes_a_task(
    context, lab_server, llm
) -> None:
    page = pipelines_page(context, lab_server)

    def answer_after_the_end(route) -> None:
        """The run request's answer (the run `running`) reaches the page after the events of
        the run's end, as it can on a loaded machine: the panel keeps `failed`."""
        response = route.fetch()
        run_id = response.json()["id"]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if lab_server.api("GET", f"runs/{run_id}")["status"] != "running":
                break
            time.sleep(0.1)
        time.sleep(1.0)  # the end's events reach the page first
        route.fulfill(response=response)
        answered.append(run_id)

    answered: list[int] = []
    page.route(re.compile(r"/workspace/api/pipelines/compile/run(\?|$)"), answer_after_the_end)
    compile_item = pipeline_item(page, "compile")
    compile_item.locator(".jp-Workspace-runPipeline").click()
    for _ in range(300):
        if answered:
            break
        page.wait_for_timeout(100)
    assert answered, "the run request never answered"

    expect(compile_item).to_have_attribute("data-status", "failed", timeout=RUN_TIMEOUT_MS)
    expect(compile_item.locator(".jp-Workspace-runStatusLabel")).to_have_text("Failed")
    toast = page.locator(".Toastify__toast", has_text="Pipeline compile failed: 1 failure")
    expect(toast).to_have_count(1)
    toast.get_by_role("button", name="Open run").click()

    view = run_view(page, "failed")
    expect(view.locator(".jp-Workspace-runOutput")).to_contain_text("error: expected")
    expect(view.locator(".jp-Workspace-runExitCode")).to_have_text("1")
    failure = view.locator('.jp-Workspace-runFailure[data-kind="compiler"]')
    expect(failure).to_have_count(1)
    expect(failure.locator(".jp-Workspace-failureMessage")).to_contain_text("before")
    link = failure.locator(
        f'.jp-Workspace-failureSource[data-path="bad.c"][data-line="{BAD_LINE}"]'
    )
    expect(link).to_have_text(f"bad.c:{BAD_LINE}")
    link.click()
    expect(editor_tab(page, "bad.c")).to_be_visible()
    expect_cursor_at(page, BAD_LINE, BAD_COLUMN)

    # The failure is a BUILD task in the Tasks panel, linked to the same line.
    open_workspace(page)
    task = detected_task(page, "bad.c")
    expect(task).to_have_count(1)
    expect(task.locator(".jp-Workspace-taskTag")).to_have_text("BUILD")
    expect(task.locator(".jp-Workspace-taskSource")).to_have_text(f"bad.c:{BAD_LINE}")

    # "Summarize with the LLM": busy, then the answer; a failing model is explained.
    lab_server.wait_for_sidecar()
    open_pipelines(page)
    compile_item.locator(".jp-Workspace-openRun").click()
    summarize = view.locator(".jp-Workspace-summarizeRun")
    llm.delay = 0.3
    summarize.click()
    expect(summarize).to_have_attribute("aria-busy", "true")
    expect(summarize).to_have_text("Summarizing…")
    expect(view.locator(".jp-Workspace-runSummary")).to_have_text(llm.reply)
    expect(summarize).to_have_attribute("aria-busy", "false")
    llm.delay, llm.fail = 0.0, (500, "the model is on fire")
    summarize.click()
    expect(view.locator(".jp-Workspace-summaryError")).to_contain_text("The language model failed")


def test_typing_into_the_terminal_feeds_the_run(context, lab_server) -> None:
    page = pipelines_page(context, lab_server)
    # Started from the command palette, which asks which pipeline.
    page.keyboard.press("Control+Shift+C")
    page.locator(".lm-CommandPalette-input").fill("Run Pipeline")
    page.locator(".lm-CommandPalette-item", has_text="Workspace: Run Pipeline…").click()
    dialog = page.locator(".jp-Dialog")
    dialog.locator("select").select_option("ask")
    dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
    ask = pipeline_item(page, "ask")
    expect(ask).to_have_attribute("data-status", "running")

    terminal = page.locator(".jp-Terminal:visible")
    expect(terminal).to_have_count(1)
    terminal.locator(".xterm-screen").click()
    page.keyboard.type("orbit")
    expect(terminal_text(page)).to_contain_text("orbit")
    page.keyboard.press("Enter")

    expect(ask).to_have_attribute("data-status", "passed", timeout=RUN_TIMEOUT_MS)
    expect(run_view(page, "passed").locator(".jp-Workspace-runOutput")).to_contain_text("got-orbit")


def test_config_errors_and_a_missing_file_are_handled_in_the_panel(context, lab_server) -> None:
    page = pipelines_page(context, lab_server)
    config = lab_server.root / "workspace.toml"
    try:
        # A mistake: the panel says where, and opens the file there.
        config.write_text(CONFIG + '\n[pipelines.broken]\ncommand = ""\n')
        broken_line = (CONFIG + "\n").count("\n") + 1
        error = page.locator(".jp-Workspace-pipelinesConfigError")
        expect(error).to_have_attribute("data-line", str(broken_line), timeout=15_000)
        expect(error).to_contain_text("'command' is empty")
        expect(page.locator(".jp-Workspace-pipelineItem")).to_have_count(0)
        error.locator(".jp-Workspace-openConfigError").click()
        expect(editor_tab(page, "workspace.toml")).to_be_visible()
        expect_cursor_at(page, broken_line)
        editor_tab(page, "workspace.toml").locator(".lm-TabBar-tabCloseIcon").click()

        # No file: the empty state; "Edit pipelines" creates it from the commented example.
        config.unlink()
        empty = page.locator(".jp-Workspace-pipelinesEmpty")
        expect(empty).to_contain_text(
            "No pipelines yet — Edit pipelines to add one", timeout=15_000
        )
        expect(empty.locator(".jp-Workspace-pipelinesExample")).to_contain_text("[pipelines.build]")
        open_pipelines(page)
        page.locator(".jp-Workspace-editPipelines").click()
        expect(editor_tab(page, "workspace.toml")).to_be_visible()
        expect(page.locator(".jp-FileEditor .cm-content")).to_contain_text("# [pipelines.build]")
        assert config.read_text().startswith("# Pipelines")
        expect(empty).to_be_visible()  # all comments: still no pipelines

        # An existing file is opened as it is, never written.
        config.write_text(CONFIG)
        expect(page.locator(".jp-Workspace-pipelineItem")).to_have_count(3, timeout=15_000)
        page.locator(".jp-Workspace-editPipelines").click()
        expect(editor_tab(page, "workspace.toml")).to_be_visible()
        assert config.read_text() == CONFIG
    finally:
        config.write_text(CONFIG)


def test_a_changed_config_runs_nothing_until_trusted_from_the_panel(context, lab_server) -> None:
    page = pipelines_page(context, lab_server)
    config = lab_server.root / "workspace.toml"
    banner = page.locator(".jp-Workspace-pipelinesUntrusted")
    expect(pipeline_item(page, "greet").locator(".jp-Workspace-runPipeline")).to_be_enabled()
    expect(banner).to_have_count(0)
    try:
        # Written behind the panel's back (as a user without terminals could): it says so.
        config.write_text(CONFIG + '\n[pipelines.late]\ncommand = "echo added-later"\n')
        expect(banner).to_contain_text("workspace.toml has changed since", timeout=15_000)
        expect(banner).to_contain_text("nothing in it runs")
        late = pipeline_item(page, "late")
        expect(late.locator(".jp-Workspace-runPipeline")).to_be_disabled()
        with pytest.raises(urllib.error.HTTPError) as refused:
            lab_server.api("POST", "pipelines/late/run", {})
        assert refused.value.code == 409

        # "Trust this configuration" is a real button: Enter on it trusts what is shown.
        trust = banner.locator(".jp-Workspace-trustConfig")
        expect(trust).to_have_text("Trust this configuration")
        trust.focus()
        expect(trust).to_be_focused()
        page.keyboard.press("Enter")
        expect(banner).to_have_count(0)
        assert lab_server.api("GET", "pipelines")["config"]["trusted"]
        late.locator(".jp-Workspace-runPipeline").click()
        expect(late).to_have_attribute("data-status", "passed", timeout=RUN_TIMEOUT_MS)

        # Trusted elsewhere (another tab, another user): the event updates this panel.
        config.write_text(CONFIG)
        expect(banner).to_be_visible(timeout=15_000)
        lab_server.api(
            "POST",
            "pipelines/trust",
            {"hash": lab_server.api("GET", "pipelines")["config"]["hash"]},
        )
        expect(banner).to_have_count(0)
        expect(pipeline_item(page, "greet").locator(".jp-Workspace-runPipeline")).to_be_enabled()
    finally:
        config.write_text(CONFIG)
