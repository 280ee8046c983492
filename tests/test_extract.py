"""Task and entity extraction (sidecar/detect.py) with the real tree-sitter grammars."""

from __future__ import annotations

import datetime as dt

import pytest

from jupyter_workspace.sidecar.detect import MAX_TASKS, compile_patterns, extract

TODAY = dt.date(2026, 11, 25)  # a Wednesday


def tasks(path: str, text: str, language: str | None = None) -> list[tuple]:
    return [
        (t["line"], t["tag"], t["text"])
        for t in extract(path, text, language, today=TODAY)["tasks"]
    ]


def mentions(path: str, text: str, language: str | None = None) -> set[tuple]:
    return {
        (m["kind"], m["name"], m["line"])
        for m in extract(path, text, language, today=TODAY)["mentions"]
    }


@pytest.mark.parametrize(
    "path, source, expected",
    [
        (
            "a.py",
            '# TODO: a\ns = "# TODO: not"\ndef f():\n    """TODO: not a docstring"""\n'
            "    x = f'{1} # FIXME no'  # FIXME: b\n",
            [(1, "TODO", "a"), (5, "FIXME", "b")],
        ),
        (
            "a.c",
            '/* TODO: a */\nchar *s = "// TODO: not";\nint x; // HACK: b\n/*\n * XXX c\n */\n',
            [(1, "TODO", "a"), (3, "HACK", "b"), (5, "XXX", "c")],
        ),
        ("a.cpp", 'auto s = R"(// TODO: raw)";\n// BUG: d\n', [(2, "BUG", "d")]),
        (
            "a.f90",
            "program p\n  print *, '! TODO not'\n  ! TODO: e\nend program p\n",
            [(3, "TODO", "e")],
        ),
        ("a.js", "const s = `// TODO ${x}`;\n// FIXME: f\n", [(2, "FIXME", "f")]),
        ("a.ts", "let s: string = '// TODO';\n/** TODO: g */\n", [(2, "TODO", "g")]),
        ("a.sh", 'echo "# TODO not"  # TODO: h\n', [(1, "TODO", "h")]),
        ("a.yaml", "key: 'TODO # not'  # FIXME: i\n", [(1, "FIXME", "i")]),
        ("a.m", "s = '% TODO not'; % TODO: j\n", [(1, "TODO", "j")]),
    ],
)
def test_tasks_in_comments_not_in_strings(path, source, expected):
    assert tasks(path, source) == expected


def test_prose_and_identifiers_are_not_tasks():
    source = (
        "# see the todo list\n# TODOS are fun\n# Remember TODO later\n"
        "todo_items = []\nFIXME_COUNT = 3\n# FIXMEs welcome\n"
    )
    assert tasks("p.py", source) == []


def test_owner_date_and_reference():
    [task] = extract("a.c", "// TODO(alice, 2026-12-01, #42): check the gyro bias\n", today=TODAY)[
        "tasks"
    ]
    assert (task["owner"], task["due"], task["ref"]) == ("alice", "2026-12-01", "#42")
    [task] = extract("a.py", "# FIXME handle NaN by Friday (see GNC-7)\n", today=TODAY)["tasks"]
    assert (task["owner"], task["due"], task["ref"]) == (None, "2026-11-27", "GNC-7")


def test_notes_checkboxes_actions_and_dates():
    note = (
        "# Review\n- [ ] Update REQ-101 by 2026-12-01\n- [x] Send the spec\n"
        "Action: @carol to call Acme Corp\n@dave will fix the filter by tomorrow\n"
        "```\n- [ ] not a task in a code block\nTODO: nor this\n```\n"
        "Some [ ] brackets mid-sentence\nTODO(erin): write the ICD\n"
    )
    found = extract("@notes/1", note, "markdown", today=TODAY)["tasks"]
    assert [(t["line"], t["tag"], t["owner"], t["due"], t["done"]) for t in found] == [
        (2, "CHECKBOX", None, "2026-12-01", False),
        (3, "CHECKBOX", None, None, True),
        (4, "ACTION", "carol", None, False),
        (5, "ACTION", "dave", "2026-11-26", False),
        (11, "TODO", "erin", None, False),
    ]


def test_thousands_of_todos_are_capped_and_counted():
    source = "".join(f"# TODO: item {i}\n" for i in range(3000))
    found = extract("many.py", source, today=TODAY)
    assert len(found["tasks"]) == MAX_TASKS and found["tasks_total"] == 3000


def test_entities_in_notes_and_comments():
    note = (
        "# Meeting with Jet Propulsion Laboratory\nAttendees: Alice Smith, Bob\n"
        "The Star Tracker subsystem fails REQ-101; see src/pid.c and `kalman_update`.\n"
        "@carol owns the Attitude Determination and Control System (ADCS) interface. "
        "Email bob@example.com\n"
    )
    assert mentions("@notes/2", note, "markdown") >= {
        ("organisation", "Jet Propulsion Laboratory", 1),
        ("person", "Alice Smith", 2),
        ("person", "Bob", 2),
        ("component", "Star Tracker", 3),
        ("requirement", "REQ-101", 3),
        ("file", "src/pid.c", 3),
        ("symbol", "kalman_update", 3),
        ("person", "carol", 4),
        ("component", "ADCS", 4),
    }
    assert not any(
        name.startswith("example") for _, name, _ in mentions("@notes/2", note, "markdown")
    )
    code = 'IMU_MAX_RATE = 3  # limited by REQ-9 on the IMU\nS = "REQ-10 in a string"\n'
    assert mentions("m.py", code) == {("requirement", "REQ-9", 1), ("component", "IMU", 1)}


def test_configured_patterns_and_bad_ones():
    compiled, errors = compile_patterns(
        {"part": r"\bPN-\d{5}\b", "bad": "([unclosed", "Bad Name": "x"}
    )
    assert list(compiled) == ["part"]
    assert any("'bad' is not a valid regular expression" in e for e in errors)
    assert any("'Bad Name'" in e for e in errors)
    found = extract(
        "n.md", "Order PN-12345 and REQ-1\n", patterns={"part": r"\bPN-\d{5}\b"}, today=TODAY
    )["mentions"]
    assert {(m["kind"], m["name"]) for m in found} >= {("part", "PN-12345")}


def test_odd_input_never_fails():
    for text in [
        "",
        "\x00\x01 binary-ish",
        "# TODO " + "x" * 5000,
        "\ufffd\ufffd # TODO: ok",
        "def f(:\n  # TODO: broken python\n",
    ]:
        extract("odd.py", text, today=TODAY)
    assert tasks("broken.py", "def f(:\n  # TODO: broken python\n") == [
        (2, "TODO", "broken python")
    ]
