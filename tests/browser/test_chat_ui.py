"""The Workspace Chat and the AI sidecar's status, in headless Chromium against a real
`jupyter lab` whose real AI sidecar talks to a fake LLM server (tests/fake_llm.py).

The sidecar is started through a wrapper that runs it only while a marker file exists (as in
tests/test_sidecar.py), so a test can make it crash until it is "fixed". Selectors are the
stable DOM hooks documented in labextension/README.md.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.pages import ANSWER, QUESTION, ask, open_chat, open_lab
from tests.fake_llm import FakeLLM

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("lab_log")]

SIDECAR_READY_TIMEOUT_S = 60

WRAPPER = """\
import os, runpy, sys
if not os.path.exists({marker!r}):
    sys.exit(3)
runpy.run_module("jupyter_workspace.sidecar", run_name="__main__")
"""


@pytest.fixture(scope="module")
def sidecar_marker(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """While this file is missing, the sidecar command exits at once (code 3)."""
    marker = tmp_path_factory.mktemp("sidecar") / "sidecar-may-start"
    marker.touch()
    return marker


@pytest.fixture(scope="module")
def lab_server_args(fake_llm: FakeLLM, sidecar_marker: Path) -> list[str]:
    wrapper = sidecar_marker.parent / "sidecar_wrapper.py"
    wrapper.write_text(WRAPPER.format(marker=str(sidecar_marker)))
    # Lists on `jupyter lab`'s command line: one option per item. WorkspaceApp is an
    # extension the LabApp parser does not know, so its options are deferred, and a
    # `[0.2,0.2,0.2]` literal would arrive as one string item.
    return [
        # No index: these tests are about the chat itself. With passages found, an
        # unreachable LLM gives a retrieval-only answer instead of an error (see
        # test_search_ui.py for grounded answers).
        "--WorkspaceApp.index_enabled=False",
        "--WorkspaceApp.llm_model=openai/fake-model",
        f"--WorkspaceApp.llm_api_base={fake_llm.url}/v1",
        # a server the settings may choose (test_llm_settings_are_sent_...): a closed port
        "--WorkspaceApp.llm_api_bases=http://127.0.0.1:9",
        "--WorkspaceApp.llm_api_key=sk-test-key",
        *["--WorkspaceApp.sidecar_backoff=0.2"] * 3,
        f"--WorkspaceApp.sidecar_command={sys.executable}",
        f"--WorkspaceApp.sidecar_command={wrapper}",
        "--WorkspaceApp.sidecar_health_interval=0.5",
    ]


def test_answer_streams_in_with_code_buttons_stop_and_retry(context, lab_server, llm) -> None:
    sidecar = lab_server.wait_for_sidecar()
    # The command-line configuration took effect (a list option parsed wrongly would not).
    assert lab_server.api("GET", "status")["llm"]["model"] == "openai/fake-model"
    assert (
        Path(f"/proc/{sidecar['pid']}/cmdline")
        .read_bytes()
        .split(b"\0")[1]
        .endswith(b"sidecar_wrapper.py")
    )
    words = [f"w{i:02d} " for i in range(1, 23)]
    code = ["\n\n```python\n", "def add(a, b):\n", "    return a + b\n", "```\n\n", "END."]
    llm.tokens, llm.delay = [*words, *code], 0.05  # 27 tokens, ~1.4 s
    page = context.new_page()
    open_lab(page, lab_server)
    open_chat(page)
    expect(page.locator(".jp-Workspace-sidecarStatus")).to_have_attribute("data-state", "ready")

    ask(page, "How do I add two numbers?")
    # The answer grows: at some point it has the first words but not the end ...
    page.wait_for_function(
        """() => {
            const m = document.querySelector(
                '.jp-Workspace-chatMessage[data-role="assistant"][data-status="streaming"]');
            const text = m ? m.textContent : '';
            return text.includes('w03') && !text.includes('END.');
        }""",
        timeout=15_000,
    )
    expect(page.locator(".jp-Workspace-chatStop")).to_be_visible()
    # ... then it is complete, stored, and rendered as markdown with code buttons.
    answer = page.locator(f'{ANSWER}[data-status="complete"]')
    expect(answer).to_have_count(1, timeout=15_000)
    expect(answer).to_contain_text("w22")
    expect(answer).to_contain_text("END.")
    expect(page.locator(f'{ANSWER}[data-status="streaming"]')).to_have_count(0)
    block = answer.locator(".jp-Workspace-codeBlock")
    expect(block.locator("pre")).to_contain_text("def add(a, b):")
    expect(block.locator(".jp-Workspace-codeCopy")).to_have_count(1)
    expect(block.locator(".jp-Workspace-codeInsert")).to_have_count(1)
    expect(page.locator(".jp-Workspace-chatSend")).to_be_visible()
    item = page.locator(".jp-Workspace-conversationItem.jp-mod-selected")
    expect(item).to_contain_text("How do I add two numbers?")
    conversation_id = item.get_attribute("data-id")

    block.locator(".jp-Workspace-codeCopy").click()
    expect(block.locator(".jp-Workspace-codeCopy")).to_have_text("Copied")
    # No notebook or file open: Insert says so.
    block.locator(".jp-Workspace-codeInsert").click()
    expect(page.locator(".jp-Workspace-chat .jp-Workspace-banner")).to_contain_text(
        "No editor to insert into"
    )

    # Stop on a long answer keeps the partial text, marked as stopped.
    llm.tokens, llm.delay = [f"t{i} " for i in range(400)], 0.05
    ask(page, "Now tell me a very long story.")
    streaming = page.locator(f'{ANSWER}[data-status="streaming"]')
    expect(streaming).to_contain_text("t5 ", timeout=15_000)
    page.locator(".jp-Workspace-chatStop").click()
    partial = page.locator(f'{ANSWER}[data-status="partial"]')
    expect(partial).to_have_count(1, timeout=15_000)
    expect(partial).to_contain_text("Stopped")
    expect(partial).to_contain_text("t5 ")
    assert "t399" not in partial.inner_text()
    stored = lab_server.api("GET", f"conversations/{conversation_id}")["messages"]
    assert [m["status"] for m in stored] == ["complete", "complete", "complete", "partial"]
    assert [m["role"] for m in stored] == ["user", "assistant", "user", "assistant"]

    # Retry replaces the stopped answer.
    llm.tokens, llm.delay = ["A ", "shorter ", "story."], 0.0
    page.locator(".jp-Workspace-chatRetry").click()
    shorter = page.locator(f'{ANSWER}[data-status="complete"]', has_text="A shorter story.")
    expect(shorter).to_have_count(1, timeout=15_000)
    expect(partial).to_have_count(0)
    expect(page.locator(ANSWER)).to_have_count(2)

    # A provider error shows on the message by kind, with Retry.
    llm.fail = (401, "Incorrect API key provided")
    ask(page, "And now?")
    error = page.locator(f'{ANSWER}[data-status="error"] .jp-Workspace-chatError')
    expect(error).to_have_attribute("data-kind", "auth", timeout=15_000)
    expect(error).to_contain_text("refused the API key")
    assert "sk-test-key" not in error.inner_text()
    llm.fail = None
    error.locator(".jp-Workspace-chatRetry").click()
    expect(shorter).to_have_count(2, timeout=15_000)
    expect(page.locator(f'{ANSWER}[data-status="error"]')).to_have_count(0)


def test_history_insert_into_editor_and_ask_about_selection(context, lab_server, llm) -> None:
    lab_server.wait_for_sidecar()
    (lab_server.root / "scratch.py").write_text("# scratch\n")
    llm.tokens = [
        "Use this:\n\n",
        "```python\n",
        "def greet(name):\n",
        "    return f'hi {name}'\n",
        "```\n",
    ]
    first = context.new_page()
    open_lab(first, lab_server)
    open_chat(first)
    ask(first, "How do I greet someone?")
    expect(first.locator(f'{ANSWER}[data-status="complete"]')).to_contain_text("def greet")
    conversation_id = first.locator(".jp-Workspace-conversationItem.jp-mod-selected").get_attribute(
        "data-id"
    )

    # A second tab with the file open: the history loads and the code goes into the editor.
    second = context.new_page()
    open_lab(second, lab_server, "scratch.py")
    editor = second.locator(".jp-FileEditor")
    expect(editor.locator(".cm-content")).to_contain_text("# scratch")
    open_chat(second)
    second.locator(
        f'.jp-Workspace-conversationItem[data-id="{conversation_id}"] '
        ".jp-Workspace-conversationOpen"
    ).click()
    answer = second.locator(f'{ANSWER}[data-status="complete"]')
    expect(answer).to_contain_text("def greet")
    expect(second.locator(QUESTION)).to_contain_text("How do I greet someone?")
    answer.locator(".jp-Workspace-codeInsert").click()
    expect(answer.locator(".jp-Workspace-codeInsert")).to_have_text("Inserted")
    expect(editor.locator(".cm-content")).to_contain_text("def greet(name):")
    expect(editor.locator(".cm-content")).to_contain_text("# scratch")

    # The first tab's next answer streams into the second tab too.
    llm.tokens, llm.delay = [f"s{i} " for i in range(40)], 0.05
    ask(first, "Count slowly.")
    expect(second.locator(QUESTION, has_text="Count slowly.")).to_have_count(1, timeout=5_000)
    second.wait_for_function(
        """() => {
            const m = document.querySelector(
                '.jp-Workspace-chatMessage[data-role="assistant"][data-status="streaming"]');
            const text = m ? m.textContent : '';
            return text.includes('s3 ') && !text.includes('s39');
        }""",
        timeout=15_000,
    )
    expect(second.locator(f'{ANSWER}[data-status="complete"]', has_text="s39")).to_have_count(
        1, timeout=15_000
    )

    # Ask About Selection (palette) quotes the editor's selection into the chat input.
    editor.locator(".cm-content").click()
    second.keyboard.press("Control+a")
    second.keyboard.press("Control+Shift+c")
    palette_input = second.locator(".lm-CommandPalette-input")
    expect(palette_input).to_be_visible()
    palette_input.fill("Ask About Selection")
    second.keyboard.press("Enter")
    chat_input = second.locator(".jp-Workspace-chatInput")
    expect(chat_input).to_have_value(
        "From `scratch.py`, lines 1–3:\n\n```python\n"
        "def greet(name):\n    return f'hi {name}'\n# scratch\n```\n\n",
        timeout=5_000,
    )
    expect(chat_input).to_be_focused()


def test_llm_settings_are_sent_and_unreachable_is_explained(context, lab_server, llm) -> None:
    lab_server.wait_for_sidecar()
    lab_server.put_settings(
        {"llmModel": "ollama_chat/llama3.2", "llmApiBase": "http://127.0.0.1:9"}
    )
    try:
        page = context.new_page()
        open_lab(page, lab_server)
        open_chat(page)
        ask(page, "Is anybody out there?")
        error = page.locator(f'{ANSWER}[data-status="error"] .jp-Workspace-chatError')
        expect(error).to_have_attribute("data-kind", "unreachable", timeout=30_000)
        expect(error).to_contain_text("No LLM reachable at http://127.0.0.1:9 — is Ollama running")
        expect(error.locator(".jp-Workspace-chatRetry")).to_be_visible()
        answer = page.locator(f'{ANSWER}[data-status="error"]')
        expect(answer).to_contain_text("ollama_chat/llama3.2")
    finally:
        lab_server.put_settings({})


def test_status_item_degraded_notification_and_restart(
    context, lab_server, llm, sidecar_marker
) -> None:
    ready = lab_server.wait_for_sidecar()
    page = context.new_page()
    open_lab(page, lab_server)
    status = page.locator(".jp-Workspace-sidecarStatus")
    expect(status).to_have_attribute("data-state", "ready")
    expect(status).to_have_text("AI: ready")
    assert "openai/fake-model" in (status.get_attribute("title") or "")
    open_chat(page)

    # The sidecar dies and cannot come back: three quick retries, then degraded.
    sidecar_marker.unlink()
    try:
        os.kill(ready["pid"], signal.SIGKILL)
        expect(status).to_have_attribute("data-state", "degraded", timeout=30_000)
        expect(status).to_have_text("AI: degraded")
        assert "exited during start-up" in (status.get_attribute("title") or "")
        toast = page.locator(".Toastify__toast", has_text="AI sidecar down")
        expect(toast).to_have_count(1)
        expect(toast.get_by_role("button", name="Restart")).to_be_visible()

        # Chat explains, keeps the typed text, and Send is disabled.
        expect(page.locator(".jp-Workspace-chatUnavailable")).to_contain_text(
            "AI sidecar unavailable (degraded)"
        )
        expect(page.locator(".jp-Workspace-chatSend")).to_be_disabled()
        chat_input = page.locator(".jp-Workspace-chatInput")
        chat_input.fill("Are you there?")
        chat_input.press("Enter")
        expect(page.locator(".jp-Workspace-chatSendError")).to_contain_text(
            "AI sidecar unavailable (degraded): the sidecar exited during start-up"
        )
        expect(chat_input).to_have_value("Are you there?")
        expect(toast).to_have_count(1)  # no duplicate notification
    finally:
        sidecar_marker.touch()

    # Fixed: a click on the status item restarts it.
    status.click()
    expect(status).to_have_attribute("data-state", "ready", timeout=SIDECAR_READY_TIMEOUT_S * 1000)
    expect(page.locator(".Toastify__toast--error")).to_have_count(0, timeout=10_000)
    expect(page.locator(".jp-Workspace-chatSendError")).to_have_count(0)
    page.locator(".jp-Workspace-chatSend").click()
    expect(page.locator(f'{ANSWER}[data-status="complete"]')).to_contain_text("Hello, world!")
    assert lab_server.sidecar()["pid"] != ready["pid"]
