"""The failure parser on real tools' output formats (the pipelines tests run the tools)."""

from __future__ import annotations

from pathlib import Path

from jupyter_workspace.server.failures import MAX_FAILURES, MAX_SEEN, FailureParser
from jupyter_workspace.server.pipelines.config import ConfigError, glob_matcher, parse_config


def parse(tmp_path: Path, text: str, cwd: str = "", code: int | None = None) -> list[tuple]:
    (tmp_path / cwd).mkdir(parents=True, exist_ok=True)
    parser = FailureParser(tmp_path, tmp_path / cwd)
    for line in text.splitlines():
        parser.feed(line)
    parser.finish(code)
    return [(f.path, f.line, f.message, f.kind) for f in parser.failures]


def test_compilers_columns_are_kept(tmp_path):
    parser = FailureParser(tmp_path, tmp_path)
    for line in ("src/pid.c:12:5: error: boom", "orbit.f90:3:10:", "Error: bad", "x.c:4: error: e"):
        parser.feed(line)
    assert [(f.line, f.column) for f in parser.failures] == [(12, 5), (3, 10), (4, None)]
    assert parser.failures[0].as_dict()["column"] == 5


def test_gcc_clang_and_gfortran(tmp_path):
    out = (
        "src/pid.c: In function 'pid_update':\n"
        "src/pid.c:12:5: error: 'integral' undeclared (first use in this function)\n"
        "src/pid.c:20:1: warning: unused variable 'x'\n"
        "\x1b[1msrc/filter.cpp:7:10: \x1b[31mfatal error: \x1b[0mmissing.h: No such file\n"
        "orbit.f90:3:10:\n\n    3 |   x = y +\n      |          1\n"
        "Error: Syntax error in expression at (1)\n"
        "/usr/include/stdio.h:4:1: error: outside the workspace\n"
    )
    assert parse(tmp_path, out) == [
        ("src/pid.c", 12, "'integral' undeclared (first use in this function)", "compiler"),
        ("src/filter.cpp", 7, "missing.h: No such file", "compiler"),
        ("orbit.f90", 3, "Syntax error in expression at (1)", "compiler"),
        (None, None, "outside the workspace", "compiler"),
    ]


def test_paths_are_relative_to_the_run_folder(tmp_path):
    assert parse(tmp_path, "pid.c:3:1: error: boom\n", cwd="fw") == [
        ("fw/pid.c", 3, "boom", "compiler")
    ]


def test_python_traceback_points_at_the_deepest_workspace_frame(tmp_path):
    out = (
        "Traceback (most recent call last):\n"
        f'  File "{tmp_path}/sim/run.py", line 30, in <module>\n    main()\n'
        f'  File "{tmp_path}/sim/model.py", line 12, in main\n    step(1 / 0)\n'
        '  File "/usr/lib/python3.11/fractions.py", line 99, in step\n    x\n'
        "ZeroDivisionError: division by zero\n"
    )
    assert parse(tmp_path, out) == [
        ("sim/model.py", 12, "ZeroDivisionError: division by zero", "traceback")
    ]


def test_a_failing_test_is_one_failure_from_its_report_and_summary_line(tmp_path):
    out = (
        "=================================== FAILURES ===================================\n"
        "_________________________________ test_period _________________________________\n"
        ">       assert period == 5500\n"
        "E       assert 5400 == 5500\n"
        "tests/test_orbit.py:14: AssertionError\n"
        "=========================== short test summary info ===========================\n"
        "FAILED tests/test_orbit.py::test_period - assert 5400 == 5500\n"
        "ERROR tests/test_io.py\n"
    )
    assert parse(tmp_path, out) == [
        ("tests/test_orbit.py", 14, "test_period - assert 5400 == 5500", "pytest"),
        ("tests/test_io.py", None, "failed", "pytest"),
    ]


def test_make_errors_and_a_bare_exit_code(tmp_path):
    assert parse(tmp_path, "make: *** [Makefile:12: all] Error 1\n") == [
        ("Makefile", 12, "Error 1", "make")
    ]
    assert parse(tmp_path, "make[1]: *** No rule to make target 'x'.  Stop.\n") == [
        (None, None, "No rule to make target 'x'.  Stop.", "make")
    ]
    assert parse(tmp_path, "just text\n", code=2) == [(None, None, "exited with code 2", "exit")]
    assert parse(tmp_path, "all good\n", code=0) == []


def test_bounded(tmp_path):
    parser = FailureParser(tmp_path, tmp_path)
    for i in range(MAX_FAILURES + 50):
        parser.feed(f"a.c:{i + 1}:1: error: e{i}")
        parser.feed(f"a.c:{i + 1}:1: error: e{i}")  # repeated lines count once
    assert len(parser.failures) == MAX_FAILURES and parser.dropped == 50


def test_config_errors_name_the_line():
    ok = parse_config('[pipelines.build]\ncommand = "make"\nwatch = "src/*.c"\n')
    assert ok["build"].argv() == ["/bin/sh", "-c", "make"] and ok["build"].watch == ["src/*.c"]
    cases = [
        ('[pipelines.build]\ncommand = "make\n', 2, "not valid TOML"),
        (
            "[pipelines.a]\ncommand = 'x'\n\n[pipelines.b]\ncommand = 3\n",
            4,
            "pipeline 'b': 'command' must be",
        ),
        ("[pipelines.a]\ncommand = 'x'\ntimeout = -1\n", 1, "'timeout' must be"),
        ("[pipelines.a]\ncommand = 'x'\nshell = true\n", 1, "unknown key(s) shell"),
        ("[pipelines.'bad name']\ncommand = 'x'\n", None, "a name has"),
        ("pipelines = 3\n", 1, "must be a table"),
    ]
    for text, line, says in cases:
        try:
            parse_config(text)
        except ConfigError as e:
            assert says in e.message and e.line == line, (text, e.message, e.line)
        else:
            raise AssertionError(f"accepted: {text!r}")


def test_watch_globs():
    matcher = glob_matcher(["src/**/*.c", "*.h"])
    assert matcher.match("src/a.c") and matcher.match("src/x/y/a.c") and matcher.match("a.h")
    assert not matcher.match("lib/a.c") and not matcher.match("src/a.cpp")
    assert not matcher.match("inc/a.h")
    assert not glob_matcher([]).match("anything")


def test_run_output_keeps_a_bounded_tail_addressed_by_stream_offsets():
    from jupyter_workspace.server.pipelines.runs import Output

    out = Output(limit=10)
    for piece in ("abcd", "efgh", "ijkl", "mnop"):
        out.write(piece)
    assert out.total == 16 and out.text() == "ghijklmnop"[-10:] and out.start >= 0
    text, following, gap = out.since(14)
    assert (text, following, gap) == ("op", 16, False)
    text, following, gap = out.since(0)
    assert gap and text.endswith("mnop") and following == 16
    assert out.since(16) == ("", 16, False)
    text, following, _ = out.since(out.start, limit=3)
    assert len(text) == 3 and following == out.start + 3


def test_memory_stays_bounded_past_the_cap(tmp_path):
    """A run printing 20,000 distinct errors keeps no memory for those past the cap."""
    import tracemalloc

    from jupyter_workspace.server import failures

    parser = FailureParser(tmp_path, tmp_path)
    for i in range(MAX_SEEN):
        parser.feed(f"a.c:{i + 1}:1: error: warm-up {i}")
    tracemalloc.start()
    try:
        before = tracemalloc.take_snapshot()
        for i in range(20_000):
            parser.feed(f"b.c:{i + 1}:1: error: a long message number {i} " + "x" * 100)
        mine = [tracemalloc.Filter(True, failures.__file__)]
        growth = sum(
            s.size_diff
            for s in tracemalloc.take_snapshot()
            .filter_traces(mine)
            .compare_to(before.filter_traces(mine), "filename")
        )
    finally:
        tracemalloc.stop()
    assert growth < 200_000, f"{growth} bytes kept for failures that were dropped"
    assert len(parser.failures) == MAX_FAILURES
    assert parser.dropped == MAX_SEEN + 20_000 - MAX_FAILURES
