"""Tasks found in markdown files: what a reader sees as the title, and forge templates skipped."""

from __future__ import annotations

import datetime as dt

import pytest

from jupyter_workspace.sidecar.detect import extract

TODAY = dt.date(2026, 11, 25)

CHECKLIST = """\
## Checklist

- [ ] I have read the [contributing guide](https://github.com/nasa/CryptoLib/blob/main/CONTRIBUTING.md)
- [x] Tests pass (`make test`)
"""


def titles(path: str, text: str) -> list[str]:
    return [t["text"] for t in extract(path, text, "markdown", today=TODAY)["tasks"]]


@pytest.mark.parametrize(
    "path",
    [
        ".github/PULL_REQUEST_TEMPLATE.md",
        ".github/pull_request_template.md",
        ".github/ISSUE_TEMPLATE/bug_report.md",
        ".github/PULL_REQUEST_TEMPLATE/release.md",
        "docs/ISSUE_TEMPLATE.md",
        ".gitlab/issue_templates/Bug.md",
        ".gitlab/merge_request_templates/Default.md",
    ],
)
def test_forge_templates_hold_no_tasks(path):
    found = extract(path, CHECKLIST, "markdown", today=TODAY)
    assert found["tasks"] == [] and found["tasks_total"] == 0


def test_the_same_checklist_elsewhere_is_tasks():
    assert titles("docs/release.md", CHECKLIST) == [
        "I have read the contributing guide",
        "Tests pass (make test)",
    ]


@pytest.mark.parametrize(
    "line, title",
    [
        ("- [ ] Read [the guide](https://example.org/guide)", "Read the guide"),
        ("- [ ] Fix **the** *flaky* _test_ in `test_io.py`", "Fix the flaky test in test_io.py"),
        ("- [ ] ~~Port~~ Rewrite the ![logo](logo.png) page", "Port Rewrite the logo page"),
        (
            "- [ ] See [RFC 7231][rfc] and <https://example.org/x>",
            "See RFC 7231 and https://example.org/x",
        ),
        (
            "- [ ] Keep snake_case_names and 2*3*4 as they are",
            "Keep snake_case_names and 2*3*4 as they are",
        ),
        ("Action: **@carol** to call [ESA](https://esa.int)", "@carol to call ESA"),
        ("TODO: escape \\*literal\\* stars", "escape *literal* stars"),
    ],
)
def test_markdown_task_titles_are_plain_text(line, title):
    assert titles("notes.md", line + "\n") == [title]


def test_a_link_still_gives_the_task_its_ref_and_the_raw_line_its_snippet():
    (task,) = extract(
        "notes.md", "- [ ] Review [the patch](https://example.org/pr/7)\n", "markdown", today=TODAY
    )["tasks"]
    assert task["ref"].startswith("https://example.org/pr/7")
    assert task["snippet"] == "- [ ] Review [the patch](https://example.org/pr/7)"


def test_code_comment_titles_keep_their_text():
    (task,) = extract("a.py", "# TODO: handle `None` in *args\n", today=TODAY)["tasks"]
    assert task["text"] == "handle `None` in *args"
