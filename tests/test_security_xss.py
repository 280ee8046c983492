"""Untrusted text never reaches trusted output: what the `%workspace` magics display for notes,
answers, file text and file names has no raw HTML in a `text/markdown` or `text/html` entry
(JupyterLab renders a cell's own output of those types unsanitized), and a snippet fenced as
code cannot close its fence. The same payloads run in Chromium in
tests/browser/test_xss_ui.py."""

from __future__ import annotations

import re
from typing import Any

import pytest
from IPython.core.formatters import format_display_data

from jupyter_workspace.kernel import magics
from jupyter_workspace.server import grounding

PAYLOAD = '<img src=x onerror="window.__xss=1">'
# A docstring that closes a three-backtick fence and then holds the payload.
BREAKOUT = f'def gain():\n    """Example:\n```\n{PAYLOAD}\n````\n"""\n    return 2\n'
TRUSTED = ("text/markdown", "text/html", "image/svg+xml", "application/javascript")


def trusted_entries(obj: Any) -> dict[str, str]:
    """The entries of an object's display bundle that JupyterLab renders without sanitizing."""
    data = obj if isinstance(obj, dict) else format_display_data(obj)[0]
    return {k: v for k, v in data.items() if k in TRUSTED}


def assert_no_raw_payload(obj: Any) -> None:
    data = obj if isinstance(obj, dict) else format_display_data(obj)[0]
    for mime, text in trusted_entries(data).items():
        assert "<img" not in text, (mime, text)
    assert any(PAYLOAD in str(v) for v in data.values()), data  # shown, as text


class FakeClient:
    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers

    def request(self, method: str, path: str, body: Any = None, params: Any = None) -> Any:
        return self.answers[path]


@pytest.fixture
def shown(monkeypatch) -> list[Any]:
    displayed: list[Any] = []
    monkeypatch.setattr(magics, "display", lambda obj, **kw: displayed.append(obj))
    return displayed


def test_note_show_displays_the_body_through_the_sanitizing_renderer(shown):
    workspace = magics.WorkspaceMagics(None)
    workspace._client = FakeClient(
        {"notes/3": {"id": 3, "title": f"t {PAYLOAD}", "body": f"hello {PAYLOAD}"}}
    )
    note = workspace.workspace("note show 3")
    assert note["id"] == 3
    [bundle] = shown
    assert_no_raw_payload(bundle)
    data = format_display_data(bundle)[0]
    assert data[magics.MARKDOWN_MIME] == f"## t {PAYLOAD}\n\nhello {PAYLOAD}"
    assert "text/plain" in data  # for frontends without the workspace's renderer


def test_answers_and_their_sources_are_not_trusted_markdown():
    source = {"path": f"a`b{PAYLOAD}.py", "start_line": 3}
    for status, error in (("complete", None), ("error", PAYLOAD), ("partial", None)):
        answer = magics.Answer(
            {"content": f"see {PAYLOAD}", "sources": [source], "status": status, "error": error}, 1
        )
        assert_no_raw_payload(answer.view())


def test_a_run_line_is_not_trusted_markdown():
    assert_no_raw_payload(magics._status_view(f"run 1 of x: failed: {PAYLOAD}"))


def test_tables_escape_what_they_show():
    table = magics.Result(
        [{"id": 1, "title": PAYLOAD, "updated": "now"}], "1 notes", ["id", "title", "updated"]
    )
    assert_no_raw_payload(table)


@pytest.mark.parametrize("text", ["x = 1", "```", "a ``` b\n```\n<b>", "`" * 7 + "\n<i>"])
def test_a_code_span_holds_any_backtick_run(text):
    span = magics._code(text)
    ticks = re.match(r"`+", span).group(0)
    inner = span[len(ticks) : -len(ticks)]
    assert inner.strip() == text.strip() and ticks not in inner


def hit(snippet: str, path: str = "nav/gain.py") -> dict[str, Any]:
    return {
        "path": path,
        "start_line": 1,
        "end_line": 7,
        "symbol": "gain",
        "kind": "function",
        "language": "python",
        "snippet": snippet,
        "text": snippet,
    }


@pytest.mark.parametrize(
    "snippet", [BREAKOUT, "````\n" + PAYLOAD, "~~~\n" + PAYLOAD, "`" * 12 + "\n" + PAYLOAD, ""]
)
def test_a_fence_is_longer_than_any_backtick_run_in_its_snippet(snippet):
    block = grounding.fence(snippet, "python")
    opening = re.match(r"`+", block).group(0)
    inner = block[len(opening) : -len(opening)]
    assert block.endswith("\n" + opening)
    runs = re.findall(r"`+", inner)
    assert all(len(run) < len(opening) for run in runs), (opening, runs)
    assert len(opening) >= 3


def test_a_retrieval_only_answer_keeps_file_text_in_its_code_blocks():
    markdown_it = pytest.importorskip("markdown_it")
    answer = grounding.retrieval_only_answer([hit(BREAKOUT), hit("x = 1", "b.py")], "no model")
    rendered = markdown_it.MarkdownIt("commonmark").render(answer)
    assert "<img" not in rendered, rendered  # only its escaped text, inside <code>
    assert "&lt;img src=x onerror" in rendered
    assert rendered.count("<pre><code") == 2
    prompt = grounding.context_message([hit(BREAKOUT)])["content"]
    assert "<img" not in markdown_it.MarkdownIt("commonmark").render(prompt)
