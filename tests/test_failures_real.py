"""One failure (and one task) per cause, on what real pytest, gcc and make print.

The tools run here on small failing inputs; their actual output, colours included (a pipeline
runs in a PTY, where they colour it), goes through the parser line by line as a run streams it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from jupyter_workspace.ansi import ANSI
from jupyter_workspace.server.failures import FailureParser
from jupyter_workspace.server.pipelines.runs import failure_task

from .waiting import until

needs_gcc = pytest.mark.skipif(
    (shutil.which("gcc") is None or shutil.which("make") is None) and not os.environ.get("CI"),
    reason="needs gcc and make (./dev test installs them; never skipped in CI)",
)

TESTS = """\
import pytest


def helper(value):
    assert value == 2


def test_direct():
    speed = 1
    assert speed == 2


def test_in_a_helper():
    helper(3)


@pytest.fixture
def broken():
    raise RuntimeError("fixture broke")


def test_with_a_broken_fixture(broken):
    pass


class TestOrbit:
    @pytest.mark.parametrize("period", [5400, 5500])
    def test_period(self, period):
        assert period == 5500


def test_passes():
    assert True
"""

BROKEN_C = """\
#include <stdio.h>

int step(int a) {
    int y = a +;
    return missing_name;
}

int main(void) { return step(1, 2); }
"""


def run(tmp_path: Path, *argv: str) -> str:
    done = subprocess.run(
        argv,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # interleaved, as in the run's PTY
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode != 0, done.stdout
    return done.stdout


def parse(tmp_path: Path, output: str, code: int = 1) -> list[tuple]:
    parser = FailureParser(tmp_path, tmp_path)
    for line in output.splitlines():
        parser.feed(line)
    parser.finish(code)
    return [(f.path, f.line, f.column, f.message, f.kind) for f in parser.failures]


def tasks(failures: list[tuple]) -> list[dict]:
    return [
        failure_task({"path": p, "line": n, "column": c, "message": m}, "check")
        for p, n, c, m, _ in failures
    ]


@pytest.mark.parametrize("options", [[], ["--color=yes", "--tb=short"], ["--tb=native"]])
def test_each_failing_pytest_test_is_one_failure_at_its_line(tmp_path, options):
    (tmp_path / "test_flight.py").write_text(TESTS)
    output = run(tmp_path, sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *options)
    assert "4 failed" in output or "3 failed" in output, output
    failures = parse(tmp_path, output)
    places = [(path, line, kind) for path, line, _, _, kind in failures]
    assert places == [  # in the summary's order
        ("test_flight.py", 10, "pytest"),
        ("test_flight.py", 5, "pytest"),  # in the helper, where the assertion failed
        ("test_flight.py", 29, "pytest"),
        ("test_flight.py", 19, "pytest"),  # the fixture's raise
    ], output
    messages = [message for *_, message, _ in failures]
    assert messages[0] == "test_direct - assert 1 == 2"
    assert messages[1].startswith("test_in_a_helper - assert 3 == 2")
    assert messages[2].startswith("TestOrbit::test_period[5400] - assert 5400 == 5500")
    assert messages[3] == "test_with_a_broken_fixture - RuntimeError: fixture broke"
    assert len(tasks(failures)) == 4


def test_a_collection_error_is_one_failure_at_the_import(tmp_path):
    (tmp_path / "test_imports.py").write_text("import os\nimport no_such_module_xyz\n")
    output = run(tmp_path, sys.executable, "-m", "pytest", "-p", "no:cacheprovider")
    [failure] = parse(tmp_path, output)
    assert failure[:2] == ("test_imports.py", 2) and "no_such_module_xyz" in failure[3], output


def test_without_a_summary_each_report_is_still_one_failure(tmp_path):
    (tmp_path / "test_flight.py").write_text(TESTS)
    output = run(tmp_path, sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rN")
    assert "short test summary" not in output
    failures = parse(tmp_path, output)
    assert sorted(line for _, line, *_ in failures) == [5, 10, 19, 29], output


@needs_gcc
@pytest.mark.parametrize("colour", ["never", "always"])
def test_each_gcc_error_is_one_failure_at_its_line_and_column(tmp_path, colour):
    (tmp_path / "step.c").write_text(BROKEN_C)
    output = run(tmp_path, "gcc", f"-fdiagnostics-color={colour}", "-c", "step.c")
    # the errors come with `In function`, `note:` and caret lines
    plain = ANSI.sub("", output)
    assert "note:" in plain and "In function" in plain and "|     ^" in plain, output
    failures = parse(tmp_path, output)
    assert [(path, line, column, kind) for path, line, column, _, kind in failures] == [
        ("step.c", 4, 16, "compiler"),
        ("step.c", 5, 12, "compiler"),
        ("step.c", 8, 25, "compiler"),
    ], output
    assert "missing_name" in failures[1][3] and "too many arguments" in failures[2][3]
    assert len(tasks(failures)) == 3


@needs_gcc
def test_make_adds_no_failure_to_a_compiler_error_it_reports(tmp_path):
    (tmp_path / "step.c").write_text(BROKEN_C)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "Makefile").write_text("all:\n\tgcc -c -o /dev/null ../step.c\n")
    (tmp_path / "Makefile").write_text("all:\n\t$(MAKE) -C sub\n")
    output = run(tmp_path, "make")
    assert "make[1]: ***" in output and "make: ***" in output, output
    failures = parse(tmp_path, output, code=2)
    assert [(f[0], f[1], f[4]) for f in failures] == [("step.c", n, "compiler") for n in (4, 5, 8)]


@needs_gcc
def test_a_recipe_failing_silently_is_one_make_failure(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "Makefile").write_text("all:\n\t@false\n")
    (tmp_path / "Makefile").write_text("all:\n\t$(MAKE) -C sub\n")
    output = run(tmp_path, "make")
    [failure] = parse(tmp_path, output, code=2)
    assert failure[0] == "sub/Makefile" and failure[1] == 2 and failure[4] == "make", output
    assert failure[3] == "Error 1"


@pytest.fixture
def pipelines_root(jp_server_config, jp_root_dir):
    """A workspace whose `check` pipeline runs pytest on one failing test and `build` gcc
    through make on three errors."""
    (jp_root_dir / "workspace.toml").write_text(
        "[pipelines.check]\n"
        f'command = ["{sys.executable}", "-m", "pytest", "-p", "no:cacheprovider", "checks"]\n'
        "[pipelines.build]\n"
        'command = "make"\n'
    )
    (jp_root_dir / "checks").mkdir()
    (jp_root_dir / "checks" / "test_orbit.py").write_text(
        "def test_period():\n    period = 5400\n    assert period == 5500\n"
    )
    (jp_root_dir / "step.c").write_text(BROKEN_C)
    (jp_root_dir / "Makefile").write_text("all:\n\tgcc -c -o /dev/null step.c\n")
    return jp_server_config


@needs_gcc
async def test_a_run_makes_one_task_per_failing_test_and_per_compiler_error(pipelines_root, api):
    _, listed = await api("GET", "pipelines")
    assert (await api("POST", "pipelines/trust", {"hash": listed["config"]["hash"]}))[0] == 200

    async def run(name: str) -> dict:
        status, started = await api("POST", f"pipelines/{name}/run", {})
        assert status == 202, started

        async def ended():
            _, current = await api("GET", f"runs/{started['id']}")
            return current if current["status"] != "running" else None

        return await until(ended, timeout=120, interval=0.1)

    async def tasks() -> list[tuple]:
        _, data = await api("GET", "tasks", params={"origin": "detected", "status": "open"})
        return sorted((t["source"]["path"], t["source"]["line"]) for t in data["tasks"])

    checked = await run("check")
    assert [(f["path"], f["line"]) for f in checked["failures"]] == [("checks/test_orbit.py", 3)]
    assert await tasks() == [("checks/test_orbit.py", 3)]
    built = await run("build")
    assert [(f["line"], f["column"]) for f in built["failures"]] == [(4, 16), (5, 12), (8, 25)]
    assert await tasks() == [("checks/test_orbit.py", 3)] + [("step.c", n) for n in (4, 5, 8)]
