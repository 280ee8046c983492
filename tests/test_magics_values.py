"""The values the `%workspace` magics return and how they display, without a kernel."""

from __future__ import annotations

import sys

import pytest

from jupyter_workspace.kernel.magics import Answer, Result
from jupyter_workspace.protocol import ANSWER_MIME, MARKDOWN_MIME

HITS = [{"path": "pid.c", "start_line": 10, "end_line": 13, "symbol": "clamp", "kind": "function"}]


def test_df_without_pandas_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "pandas", None)  # `import pandas` fails as if absent
    hits = Result(HITS, "1 results", ["location", "symbol"], link=True)
    with pytest.raises(ModuleNotFoundError, match=r"pip install pandas"):
        _ = hits.df


def test_df_with_pandas_is_a_dataframe():
    pd = pytest.importorskip("pandas")
    frame = Result(HITS, "1 results", ["location"]).df
    assert isinstance(frame, pd.DataFrame) and list(frame["path"]) == ["pid.c"]


def test_an_answer_displays_with_its_citations_and_sources_as_links():
    answer = Answer(
        {"content": "Clamped in [pid.c:10-13].", "status": "complete", "sources": HITS}, 1
    )
    bundle = answer.view()._repr_mimebundle_()
    # the answer MIME type: rendered with citation and source links that open the file
    assert bundle[ANSWER_MIME] == {"markdown": "Clamped in [pid.c:10-13].", "sources": HITS}
    # elsewhere: sanitized markdown and plain text, the sources listed
    assert bundle[MARKDOWN_MIME].endswith("**Sources:** `pid.c:10`")
    assert bundle["text/plain"] == bundle[MARKDOWN_MIME]


def test_a_retrieval_only_answer_says_why_once():
    reason = "No language model answered at http://127.0.0.1:11434 (connection refused)"
    answer = Answer(
        {
            "content": "**Retrieval-only answer** — the passages…\n\n1. [pid.c:10-13]",
            "status": "complete",
            "mode": "retrieval-only",
            "error": reason,
            "sources": HITS,
        },
        1,
    )
    markdown = answer.view()._repr_mimebundle_()[ANSWER_MIME]["markdown"]
    assert markdown.count("No language model answered") == 1
    assert markdown.startswith(f"*{reason}.*")
