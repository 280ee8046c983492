"""The research verifier: every citation checked against the real files of a folder (real
IgnoreRules, a real workspace database for the notes), fabricated ones caught with the reason."""

from __future__ import annotations

import os
import re

import pytest

from jupyter_workspace.server.ignore import IgnoreRules
from jupyter_workspace.server.research.env import ResearchEnv, content_hash
from jupyter_workspace.server.research.verify import verify_citation, verify_report
from jupyter_workspace.server.store import Store

PID_C = """#include <stdint.h>

static float clamp(float x, float lo, float hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

float pid_step(struct pid_state *s, float error, float dt)
{
    s->integral += error * dt;
    float derivative = (error - s->previous) / dt;
    return clamp(0.5f * error + 0.1f * s->integral, -100, 100);
}
"""
ORBIT_PY = """def period(a):
    return 2 * PI * sqrt(a ** 3 / MU)
"""


@pytest.fixture
def env(tmp_path):
    root = tmp_path / "root"
    (root / "src").mkdir(parents=True)
    (root / "src" / "pid.c").write_text(PID_C)
    (root / "orbit.py").write_text(ORBIT_PY)
    (root / ".env").write_text("API_KEY=secret\n")
    (root / "blob.bin").write_bytes(b"\x00\x01binary\x00\n" * 10)
    (root / "latin1.txt").write_bytes("caf\xe9\n".encode("latin-1"))
    outside = tmp_path / "outside.txt"
    outside.write_text("line one\nline two\n")
    os.symlink(outside, root / "escape.txt")
    (tmp_path / "passwd").write_text("root:x:0:0\n")
    state = root / ".workspace"
    store = Store(state / "workspace.db", synchronous="NORMAL")
    store.open()
    store.run_sync(
        lambda conn: conn.execute(
            "INSERT INTO notes(title, body, created, updated) VALUES (?, ?, ?, ?)",
            ("Gains", "# Gains\nKp is 0.5\nKi is 0.1\n", "2026-01-01", "2026-01-01"),
        )
    )
    env = ResearchEnv(
        root_dir=root,
        rules=IgnoreRules(root, state),
        store=store,
        search=None,  # type: ignore[arg-type]  # the verifier never searches
        supervisor=None,  # type: ignore[arg-type]
        assistant=None,  # type: ignore[arg-type]
        notes=None,  # type: ignore[arg-type]
    )
    yield env
    store.close()


def test_a_true_citation_is_ok_with_the_files_hash(env):
    got = verify_citation(env, "src/pid.c", 8, 13, "float derivative = (error - s->previous) / dt;")
    digest = content_hash(PID_C.encode())
    assert got == {"ok": True, "reason": None, "hash": digest}
    # whitespace differs, and the quote spans lines
    spanning = "return   x < lo ? lo : (x > hi ? hi : x);\n }"
    assert verify_citation(env, "src/pid.c", 5, 6, spanning)["ok"]
    # elided with an ellipsis: each part, in order; quoted in backticks
    assert verify_citation(env, "src/pid.c", 8, 13, "`s->integral += error * dt; … return clamp(`")[
        "ok"
    ]
    backwards = verify_citation(env, "src/pid.c", 8, 13, "return clamp( ... s->integral += error")
    assert backwards["reason"] == "quote not in lines 8-13"


@pytest.mark.parametrize(
    ("path", "start", "end", "quote", "reason"),
    [
        ("src/missing.c", 1, 2, "x", "no such file"),
        ("src/pid.c", 900, 910, "clamp", "lines 900-910 past the end (13 lines)"),
        ("src/pid.c", 14, 14, "clamp", "line 14 past the end (13 lines)"),
        ("src/pid.c", 8, 9, "float derivative", "quote not in lines 8-9"),
        ("src/pid.c", 8, 13, "   ", "no quote to check"),
        ("../passwd", 1, 1, "root", "outside the workspace"),
        ("/etc/passwd", 1, 1, "root", "outside the workspace"),
        ("escape.txt", 1, 1, "line one", "outside the workspace"),
        (".env", 1, 1, "API_KEY", "not readable: excluded from the workspace"),
        ("blob.bin", 1, 1, "binary", "not readable: binary"),
        ("latin1.txt", 1, 1, "caf", "not readable: not UTF-8 text"),
        ("src", 1, 1, "x", "no such file"),
    ],
)
def test_fabricated_citations_fail_with_the_reason(env, path, start, end, quote, reason):
    got = verify_citation(env, path, start, end, quote)
    assert got["ok"] is False and got["reason"] == reason
    readable = path.startswith("src/pid.c")
    assert (got["hash"] is not None) == readable  # nothing outside is read, let alone hashed


def test_notes_are_checked_by_their_body_lines(env):
    assert verify_citation(env, "@notes/1", 2, 3, "Ki is 0.1")["ok"]
    assert verify_citation(env, "@notes/1", 2, 2, "Ki is 0.1")["reason"] == "quote not in line 2"
    assert verify_citation(env, "@notes/99", 1, 1, "x")["reason"] == "no such note"


FINDINGS = [
    {
        "claim": "pid_step computes the derivative from the previous error",
        "sub_question": 1,
        "citations": [
            {
                "path": "src/pid.c",
                "start_line": 8,
                "end_line": 13,
                "quote": "float derivative = (error - s->previous) / dt;",
            },
            {"path": "orbit.py", "start_line": 1, "end_line": 2, "quote": "def period(a):"},
        ],
    },
    {
        "claim": "the output is clamped",
        "sub_question": 1,
        "citations": [
            {"path": "src/pid.c", "start_line": 3, "end_line": 6, "quote": "hi ? hi : x"},
            {"path": "orbit.py", "start_line": 2, "end_line": 2, "quote": "def nothing_here():"},
        ],
    },
    {
        "claim": "a made-up fact",
        "sub_question": 2,
        "citations": [
            {"path": "src/ghost.c", "start_line": 1, "end_line": 3, "quote": "ghost()"},
            {"path": "src/pid.c", "start_line": 900, "end_line": 910, "quote": "clamp"},
        ],
    },
]


def test_a_report_keeps_true_citations_marks_failed_ones_and_drops_unsupported_findings(env):
    markdown = "\n".join(
        [
            "## Findings",
            "",
            "- The derivative uses the previous error [src/pid.c:8-13] [orbit.py:1-2].",
            "- The output is clamped [src/pid.c:3-6], see also [orbit.py:2].",
            "- A made-up fact [src/ghost.c:1-3] [src/pid.c:900-910].",
            "  It goes on over a second line.",
            "",
            "The writer also says [src/pid.c:1] on its own, `[src/pid.c:7777]` is code.",
            "",
            "```c",
            "x = a[i:3];  // [src/pid.c:99] is code, not a citation",
            "```",
        ]
    )
    result = verify_report(env, markdown, FINDINGS)
    out = result["markdown"]
    lines = out.split("\n")
    # the summary at the top
    assert re.match(
        r"> \*\*Verification:\*\* 3 of 7 citations verified against the files as of "
        r"\d{4}-\d\d-\d\d \d\d:\d\d UTC; 2 unverified \(marked ⚠\); 2 dropped with 1 finding ",
        lines[0],
    ), lines[0]
    assert result["stats"] == {"citations": 7, "verified": 3, "unverified": 2, "dropped": 2}
    # kept as they were
    assert "- The derivative uses the previous error [src/pid.c:8-13] [orbit.py:1-2]." in lines
    # one citation of the item held: the other is marked in place, the item stays
    assert (
        "- The output is clamped [src/pid.c:3-6], see also [orbit.py:2] ⚠ unverified "
        "(quote not in line 2)." in lines
    )
    # every citation failed: the item and its continuation line are gone
    assert "made-up" not in out and "second line" not in out and "ghost" not in out
    # code is left alone; the writer's own citation is checked by its lines only
    assert "x = a[i:3];  // [src/pid.c:99] is code, not a citation" in lines
    assert (
        "The writer also says [src/pid.c:1] ⚠ unverified (no finding quotes these lines) "
        "on its own, `[src/pid.c:7777]` is code." in lines
    )
    # the sources: cited files with their hashes, in the report and returned
    pid, orbit = content_hash(PID_C.encode()), content_hash(ORBIT_PY.encode())
    assert result["sources"] == [
        {"path": "src/pid.c", "hash": pid, "cited": True},
        {"path": "orbit.py", "hash": orbit, "cited": True},
        {"path": "src/ghost.c", "hash": None, "cited": False},
    ]
    tail = out[out.index("## Sources") :].strip().split("\n")
    assert tail == [
        "## Sources",
        "",
        f"- `src/pid.c` (sha256 {pid[:12]})",
        f"- `orbit.py` (sha256 {orbit[:12]})",
    ]


def test_a_citation_in_prose_that_fails_is_marked_never_kept_silently(env):
    markdown = "Traversal [../passwd:1] and absolute [/etc/passwd:1] and [.env:1-1] here."
    findings = [
        {
            "claim": "c",
            "citations": [
                {"path": "../passwd", "start_line": 1, "end_line": 1, "quote": "root"},
                {"path": ".env", "start_line": 1, "end_line": 1, "quote": "API_KEY"},
            ],
        }
    ]
    result = verify_report(env, markdown, findings)
    body = result["markdown"].split("\n")[2]
    assert body == (
        "Traversal [../passwd:1] ⚠ unverified (outside the workspace) and absolute "
        "[/etc/passwd:1] ⚠ unverified (outside the workspace) and [.env:1-1] ⚠ unverified "
        "(not readable: excluded from the workspace) here."
    )
    assert result["stats"] == {"citations": 3, "verified": 0, "unverified": 3, "dropped": 0}
    assert "secret" not in result["markdown"]  # nothing of the excluded file is shown
    assert "## Sources" in result["markdown"] and "(outside the workspace)" in result["markdown"]


def test_the_retrieval_report_drops_a_passage_and_its_code_block_when_the_file_changed(env):
    markdown = "\n".join(
        [
            "## 1. How is the output limited?",
            "",
            "- [src/pid.c:3-6] (function clamp)",
            "",
            "```c",
            "static float clamp(float x, float lo, float hi)",
            "```",
            "",
            "- [src/pid.c:8-13] (function pid_step)",
            "",
            "```c",
            "float pid_step(struct pid_state *s, float error, float dt)",
            "```",
            "",
            "## Sources read",
            "",
            "- `src/pid.c:3-6` (hit function clamp)",
        ]
    )
    findings = [
        {
            "claim": "passage",
            "sub_question": 1,
            "citations": [
                {
                    "path": "src/pid.c",
                    "start_line": 3,
                    "end_line": 6,
                    "quote": "static float clamp(float x, float lo, float hi)",
                }
            ],
        },
        {
            "claim": "passage",
            "sub_question": 1,
            "citations": [
                {
                    "path": "src/pid.c",
                    "start_line": 8,
                    "end_line": 13,
                    "quote": "float pid_step(struct pid_state *s, float error, float dt)",
                }
            ],
        },
    ]
    # the file changed since the passages were read: pid_step was renamed
    (env.root_dir / "src" / "pid.c").write_text(PID_C.replace("float pid_step", "float pid_run"))
    result = verify_report(env, markdown, findings)
    out = result["markdown"]
    assert result["stats"] == {"citations": 2, "verified": 1, "unverified": 0, "dropped": 1}
    assert "- [src/pid.c:3-6] (function clamp)" in out and "static float clamp" in out
    assert "pid_step(struct" not in out and "[src/pid.c:8-13]" not in out
    assert "## Sources read" in out and "- `src/pid.c:3-6` (hit function clamp)" in out


def test_a_note_citation_and_an_empty_report(env):
    findings = [
        {
            "claim": "k",
            "citations": [
                {"path": "@notes/1", "start_line": 2, "end_line": 2, "quote": "Kp is 0.5"}
            ],
        }
    ]
    result = verify_report(env, "- Kp is set in a note [@notes/1:2].", findings)
    assert result["stats"]["verified"] == 1
    body = "# Gains\nKp is 0.5\nKi is 0.1\n"
    assert result["sources"] == [
        {"path": "@notes/1", "hash": content_hash(body.encode()), "cited": True}
    ]
    empty = verify_report(env, "Nothing was found.", [])
    assert empty["stats"] == {"citations": 0, "verified": 0, "unverified": 0, "dropped": 0}
    assert empty["markdown"].startswith("> **Verification:** no citations to check")
    assert "## Sources" not in empty["markdown"] and empty["sources"] == []


def test_items_are_dropped_only_when_a_citation_failed_and_none_held(env):
    markdown = "\n".join(
        [
            "- Only the writer says so [src/pid.c:1].",
            "- Invented and wrong [src/pid.c:3–6].",
            "A paragraph after the list stays [src/pid.c:8–13].",
            "",
            "~~~",
            "[src/pid.c:5000] in a tilde fence",
            "~~~",
        ]
    )
    findings = [
        {
            "claim": "c",
            "citations": [
                {"path": "src/pid.c", "start_line": 3, "end_line": 6, "quote": "not in the file"},
                {"path": "src/pid.c", "start_line": 8, "end_line": 13, "quote": "s->integral"},
            ],
        }
    ]
    result = verify_report(env, markdown, findings)
    lines = result["markdown"].split("\n")
    # unsupported but its lines exist: kept, marked, not verified
    assert (
        "- Only the writer says so [src/pid.c:1] ⚠ unverified (no finding quotes these lines)."
        in lines
    )
    assert not any("Invented" in line for line in lines)  # its only citation failed
    assert "A paragraph after the list stays [src/pid.c:8–13]." in lines  # en dash range, held
    assert "[src/pid.c:5000] in a tilde fence" in lines
    assert result["stats"] == {"citations": 3, "verified": 1, "unverified": 1, "dropped": 1}


def test_a_paraphrase_cited_next_to_true_evidence_is_not_vouched_for_by_it(env):
    """A finding with a true quote on lines 8-13 must not verify another finding's paraphrase
    cited at 8-12: the citation's own finding answers for exactly its lines."""
    markdown = (
        "- The step integrates the error [src/pid.c:8-13].\n"
        "- The step doubles the gain [src/pid.c:8-12].\n"
    )
    findings = [
        {
            "claim": "integrates",
            "citations": [
                {
                    "path": "src/pid.c",
                    "start_line": 8,
                    "end_line": 13,
                    "quote": "s->integral += error * dt;",
                }
            ],
        },
        {
            "claim": "doubles",
            "citations": [
                {
                    "path": "src/pid.c",
                    "start_line": 8,
                    "end_line": 12,
                    "quote": "the gain is doubled on each step",
                }
            ],
        },
    ]
    result = verify_report(env, markdown, findings)
    assert result["stats"] == {"citations": 2, "verified": 1, "unverified": 0, "dropped": 1}
    assert "[src/pid.c:8-13]" in result["markdown"] and "doubles" not in result["markdown"]
