"""Hostile text in real JupyterLab and headless Chromium: a note body, a file's docstring and an
LLM answer holding `<img src=x onerror=...>`, a command-linker `<button>` and a remote image
run nothing, keep no command linker and fetch nothing, through every rendering path: the
`%workspace note show` and `ask` magics (whose cell output JupyterLab trusts), the Notes
preview and the Chat panel.

The server indexes one hostile Python file with its real AI sidecar; its LLM is the fake one,
made to refuse (401) when an answer must be retrieval-only.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.browser.pages import (
    ANSWER,
    KERNEL_TIMEOUT_MS,
    ask,
    expect_no_error,
    new_python_notebook,
    note_item,
    open_chat,
    open_lab,
    open_workspace,
    run_cell,
)
from tests.fake_llm import FakeLLM

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("lab_log")]

ONERROR = '<img src=x onerror="window.__xss = (window.__xss || 0) + 1">'
COMMAND = '<button data-commandlinker-command="help:about">About</button>'
# A docstring that closes a three-backtick fence, then holds the payload: the retrieval-only
# answer shows these lines in a code block.
HOSTILE_PY = f'''def zorblax_gain(x):
    """Zorblax gain, for example:
```
{ONERROR}
"""
    return 2 * x
'''
MAGIC_MARKDOWN = (
    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter-workspace.markdown"]'
)
MAGIC_ANSWER = (
    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter-workspace.answer+json"]'
)


@pytest.fixture(scope="module")
def lab_server_seed() -> Callable[[Path], None]:
    def seed(root: Path) -> None:
        (root / "zorblax.py").write_text(HOSTILE_PY)

    return seed


@pytest.fixture(scope="module")
def lab_server_args(fake_llm: FakeLLM) -> list[str]:
    return [
        "--WorkspaceApp.index_enabled=True",
        "--WorkspaceApp.sidecar_enabled=True",
        "--WorkspaceApp.llm_model=openai/fake-model",
        f"--WorkspaceApp.llm_api_base={fake_llm.url}/v1",
        "--WorkspaceApp.llm_api_key=sk-test",
    ]


@pytest.fixture(scope="module")
def remote() -> Iterator[tuple[str, list[bytes]]]:
    """A web server elsewhere (on loopback): its URL and what each connection to it sent.
    Notes may show remote images (their author chose them); answers and the magics may not."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    received: list[bytes] = []

    def accept() -> None:
        while True:
            try:
                connection, _ = sock.accept()
            except OSError:
                return
            with connection:
                received.append(connection.recv(65536))

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}", received
    sock.close()


def hostile_markdown(remote_url: str, where: str) -> str:
    return (
        f"**bold {where}**\n\n{ONERROR}\n\n{COMMAND}\n\n"
        f"![leak]({remote_url}/{where}.png)\n\n<script>window.__xss = 99</script>\n"
    )


def requested(fetched: list[bytes], where: str) -> bool:
    return any(request.startswith(f"GET /{where}.png".encode()) for request in fetched)


def expect_harmless(page: Page, area: Locator, remote_url: str) -> None:
    """Nothing in `area` can run script, run a JupyterLab command or fetch from elsewhere."""
    expect(area.locator("[onerror]")).to_have_count(0)
    expect(area.locator("script")).to_have_count(0)
    expect(area.locator("[data-commandlinker-command]")).to_have_count(0)
    expect(area.locator(f'[src^="{remote_url}"]')).to_have_count(0)
    assert page.evaluate("() => window.__xss") is None


def test_magics_show_hostile_notes_and_files_as_sanitized_markdown(
    context, lab_server, indexed, llm, remote
) -> None:
    remote_url, fetched = remote
    note = lab_server.api(
        "POST", "notes", {"title": "Hostile", "body": hostile_markdown(remote_url, "note")}
    )
    page = context.new_page()
    open_lab(page, lab_server)
    new_python_notebook(page)

    shown = run_cell(page, f"%workspace note show {note['id']}")
    expect_no_error(shown)
    # Rendered as markdown (readable), through the workspace's sanitizing renderer.
    output = shown.locator(MAGIC_MARKDOWN)
    expect(output).to_have_class(re.compile(r"\bjp-RenderedMarkdown\b"))
    expect(output.locator("strong")).to_have_text("bold note")
    expect(output.locator("h2")).to_contain_text("Hostile")
    expect(output.locator("button")).to_have_text("About")
    expect_harmless(page, shown.locator(".jp-Cell-outputArea"), remote_url)

    # No model answers: the passages are the answer; the docstring's fence stays shut.
    llm.fail = (401, "invalid api key")
    asked = run_cell(page, '%workspace ask "zorblax gain example"')
    expect_no_error(asked)
    answer = asked.locator(MAGIC_ANSWER)  # its markdown through the same sanitizing renderer
    expect(answer).to_contain_text("Retrieval-only answer", timeout=KERNEL_TIMEOUT_MS)
    code = answer.locator("pre", has_text="def zorblax_gain")
    expect(code).to_contain_text(ONERROR)  # shown as code, not run
    expect_harmless(page, asked.locator(".jp-Cell-outputArea"), remote_url)
    assert not requested(fetched, "note")


def test_notes_preview_keeps_no_command_linker(context, lab_server, remote) -> None:
    remote_url, _ = remote
    lab_server.api(
        "POST", "notes", {"title": "Preview me", "body": hostile_markdown(remote_url, "preview")}
    )
    page = context.new_page()
    open_lab(page, lab_server)
    open_workspace(page)
    note_item(page, "Preview me").click()
    page.locator('.jp-Workspace-modeButton[data-mode="preview"]').click()
    preview = page.locator(".jp-Workspace-notePreview")
    expect(preview.locator("strong")).to_have_text("bold preview")
    expect(preview.locator("button")).to_have_text("About")
    expect(preview.locator("[data-commandlinker-command]")).to_have_count(0)
    expect(preview.locator("[onerror]")).to_have_count(0)
    assert page.evaluate("() => window.__xss") is None


def test_chat_answers_run_nothing_and_fetch_nothing(
    context, lab_server, indexed, llm, remote
) -> None:
    remote_url, fetched = remote
    llm.tokens = [hostile_markdown(remote_url, "answer")]
    page = context.new_page()
    open_lab(page, lab_server)
    open_chat(page)
    ask(page, "what is zorblax?")
    reply = page.locator(ANSWER).last
    expect(reply.locator("strong")).to_have_text("bold answer", timeout=KERNEL_TIMEOUT_MS)
    expect(reply.locator("img[alt='leak']")).to_have_count(1)  # the image, without its URL
    expect_harmless(page, reply, remote_url)

    llm.fail = (401, "invalid api key")
    ask(page, "zorblax gain example")
    retrieval = page.locator(ANSWER).last
    expect(retrieval).to_contain_text("Retrieval-only answer", timeout=KERNEL_TIMEOUT_MS)
    expect(retrieval.locator("pre", has_text="def zorblax_gain")).to_contain_text(ONERROR)
    expect_harmless(page, retrieval, remote_url)
    assert not requested(fetched, "answer")
