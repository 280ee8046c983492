"""Failures in a run's output, recognised line by line as it streams.

Formats: gcc / clang / gfortran diagnostics (`file:line:col: error: msg`; gfortran's
`file:line:col:` with `Error: msg` a few lines later), Python tracebacks (the deepest frame in a
file of the workspace, the exception line as the message), pytest (a failing test's report
between its `____ name ____` header and the `FAILED path::test - msg` summary line) and make
(`make: *** [Makefile:12: target] Error 1`). The output is text to match, never instructions:
nothing here executes it.

One failure per cause: a failing test is reported twice by pytest (its report, then its
summary line) and becomes one failure; a compiler's notes, `In function` and caret lines are
context, not failures; make's `*** [target] Error 1` says that a recipe failed, and counts only
when the recipe's own output gave no failure.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from ..ansi import ANSI

MAX_FAILURES = 200  # per run
MAX_MESSAGE = 300
MAX_SEEN = 2_000  # distinct failures remembered to count a repeated line once

# every format below has one of these: a line without any is not a failure line
_MAYBE = re.compile(r":\d|Error|Traceback|FAILED|ERROR|\*\*\*|_ |===|E  |ing directory")
_DIAGNOSTIC = re.compile(
    r"^(?P<path>[^\s:][^:]*?):(?P<line>\d+):(?:(?P<col>\d+):)?\s*"
    r"(?P<level>(?:fatal )?error|Error|Fatal Error)\s*:?\s*(?P<msg>.*)$"
)
_GFORTRAN_AT = re.compile(r"^(?P<path>[^\s:][^:]*?\.[fF]\w*):(?P<line>\d+):(?P<col>\d+):\s*$")
_GFORTRAN_ERROR = re.compile(r"^(?:Fatal )?Error:\s*(?P<msg>.+)$")
_TRACEBACK = re.compile(r"^\s*Traceback \(most recent call last\):")
_FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+)')
_EXCEPTION = re.compile(
    r"^(?P<msg>(?:[A-Za-z_][\w.]*)?(?:Error|Exception|Exit|Interrupt|"
    r"Warning|Failure|Failed)\b.*|[A-Za-z_][\w.]*: .+)$"
)
# a test's report: `____ test_x ____` opens it, `path:line: ErrorType` (or, with --tb=short,
# `path:line: in function`) is where it failed, the first `E   ...` line says what
_PYTEST_SECTION = re.compile(r"^_+ (?P<name>[^_\s].*?) _+$")
_PYTEST_RULE = re.compile(r"^={3,}")
_PYTEST_LOCATION = re.compile(
    r"^(?P<path>[^\s:][^:]*\.py):(?P<line>\d+): (?:in \S+|(?P<msg>\w[\w.]*))$"
)
_PYTEST_EXPLANATION = re.compile(r"^E\s+(?P<msg>\S.*)$")
_PYTEST_FAILED = re.compile(
    r"^(?P<outcome>FAILED|ERROR) (?P<path>[^\s:]+\.py)(?:::(?P<test>\S+))?"
    r"(?: - (?P<msg>.*))?$"
)
_PYTEST_HEADER_ERROR = re.compile(r"^ERROR (?:at (?:setup|teardown) of|collecting) (?P<name>.+)$")
_MAKE_DIRECTORY = re.compile(
    r"^g?make(?:\[\d+\])?: (?P<way>Entering|Leaving) directory ['`\u2018](?P<dir>.+)['\u2019]$"
)
_MAKE = re.compile(
    r"^(?:g?make)(?:\[(?P<level>\d+)\])?: \*\*\* (?:\[(?P<path>[^:\]]+):(?P<line>\d+):"
    r"[^\]]*\] )?(?P<msg>.+)$"
)


@dataclass
class Failure:
    path: str | None  # relative to the served root, or None (outside it, or no file)
    line: int | None
    message: str
    kind: str  # compiler | traceback | pytest | make | exit
    column: int | None = None  # 1-based, where the tool gives one (compilers)

    def as_dict(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "message": self.message,
            "kind": self.kind,
        }


@dataclass
class _TestReport:
    """What a failing test's report in pytest's output said, until its summary line."""

    path: str | None = None
    line: int | None = None
    error: str = ""  # the `path:line: ErrorType` line's type
    explanation: str = ""  # its first `E   ...` line
    from_pytest: bool = False  # the place is pytest's own, not a traceback's (--tb=native)


class FailureParser:
    """Feed it lines (`feed`), then read `failures`. Bounded: at most MAX_FAILURES kept and
    MAX_SEEN remembered; `dropped` counts the rest (past MAX_SEEN, repeats included)."""

    def __init__(self, root: Path, cwd: Path) -> None:
        self.root = root.resolve()
        self.cwd = cwd.resolve()
        self.failures: list[Failure] = []
        self._seen: set[tuple[str | None, int | None, str]] = set()
        self._fortran: tuple[str, int, int] | None = None  # waiting for gfortran's "Error:"
        self._fortran_wait = 0
        self._frames: list[tuple[str, int]] | None = None  # inside a traceback
        self._in_test = False  # inside a failing test's report in pytest's output
        self._report_now: _TestReport | None = None  # that report (None past the cap)
        # the reports waiting for their summary line, by outcome and name, in output order
        self._reports: dict[tuple[str, str], list[_TestReport]] = {}
        self._waiting = 0
        self._found_since_make = 0  # failures since make's last `*** [target] Error`
        self._make_level: int | None = None  # that line's make level (make[1] is 1)
        self._directories: list[Path] = []  # where a recursive make runs, innermost last
        self.dropped = 0

    def feed(self, raw: str) -> None:
        # Most output lines are none of the formats: skip them before any regex (a flood of
        # plain lines would otherwise cost ~3 µs each on the server's event loop).
        if self._frames is None and self._fortran is None and not _MAYBE.search(raw):
            return
        line = ANSI.sub("", raw).rstrip("\r\n")
        if self._frames is not None and self._traceback_line(line):
            return
        if self._fortran is not None:
            if m := _GFORTRAN_ERROR.match(line.strip()):
                self._found(*self._fortran, m.group("msg"), "compiler")
                self._fortran = None
                return
            self._fortran_wait -= 1
            if self._fortran_wait <= 0:
                self._fortran = None
        if _TRACEBACK.match(line):
            self._frames = []
        elif m := _GFORTRAN_AT.match(line):
            self._fortran = (m.group("path"), int(m.group("line")), int(m.group("col")))
            self._fortran_wait = 8
        elif m := _DIAGNOSTIC.match(line):
            self._found(
                m.group("path"),
                int(m.group("line")),
                int(m.group("col")) if m.group("col") else None,
                m.group("msg") or m.group("level"),
                "compiler",
            )
        elif self._pytest_line(line):
            return
        elif m := _MAKE_DIRECTORY.match(line):
            self._enter_or_leave(m)
        elif m := _MAKE.match(line):
            self._make(m)

    def _pytest_line(self, line: str) -> bool:
        """A line of pytest's reports or summary. True if it was one."""
        report = self._report_now
        if m := _PYTEST_SECTION.match(line):
            self._open_report(m.group("name"))
        elif _PYTEST_RULE.match(line):
            self._in_test, self._report_now = False, None
        elif m := _PYTEST_LOCATION.match(line):
            if report is not None:
                report.path, report.line = m.group("path"), int(m.group("line"))
                report.error = m.group("msg") or report.error
                report.from_pytest = True
            elif not self._in_test and m.group("msg"):
                self._found(m.group("path"), int(m.group("line")), None, m.group("msg"), "pytest")
        elif m := _PYTEST_EXPLANATION.match(line):
            if report is not None and not report.explanation:
                report.explanation = m.group("msg")
        elif m := _PYTEST_FAILED.match(line):
            self._summary(m)
        else:
            return False
        return True

    def _open_report(self, name: str) -> None:
        """`____ name ____`: a failing test's report starts (or `ERROR at setup of name`)."""
        if error := _PYTEST_HEADER_ERROR.match(name):
            key = ("ERROR", error.group("name"))
        else:
            key = ("FAILED", name)
        self._in_test, self._report_now = True, None
        if self._waiting < MAX_SEEN:
            self._report_now = _TestReport()
            self._reports.setdefault(key, []).append(self._report_now)
            self._waiting += 1
            self._found_since_make += 1

    def _summary(self, m: re.Match[str]) -> None:
        """`FAILED path::test - msg`: the test's one failure, at the place its report gave."""
        test = m.group("test") or ""
        # the report's header names `Class.test[param]` what the summary names `Class::test[...]`
        key = (m.group("outcome"), test.replace("::", ".") if test else m.group("path"))
        waiting = self._reports.get(key)
        report = _TestReport()
        if waiting:
            report = waiting.pop(0)
            self._waiting -= 1
            if not waiting:
                del self._reports[key]
        said = m.group("msg") or report.explanation or report.error
        message = f"{test} - {said}" if test and said else test or said or "failed"
        if report.path is not None and self._relative(report.path) is not None:
            self._found(report.path, report.line, None, message, "pytest")
        else:
            self._found(m.group("path"), None, None, message, "pytest")

    def _traceback_line(self, line: str) -> bool:
        """Inside a traceback: collect frames until the exception line. True if consumed."""
        assert self._frames is not None
        if m := _FRAME.match(line):
            self._frames.append((m.group("path"), int(m.group("line"))))
            return True
        if (
            line.startswith((" ", "\t"))
            or not line.strip()
            or line.startswith(("During handling", "The above exception"))
        ):
            return True
        frames, self._frames = self._frames, None
        if _EXCEPTION.match(line) and frames:
            inside = [f for f in frames if self._relative(f[0]) is not None]
            path, number = (inside or frames)[-1]
            report = self._report_now
            if not self._in_test:
                self._found(path, number, None, line.strip(), "traceback")
            elif (
                report is not None and not report.from_pytest
            ):  # pytest --tb=native: the test's report is this
                report.path, report.line = path, number
                report.explanation = report.explanation or line.strip()
            return True
        return False

    def _make(self, m: re.Match[str]) -> None:
        """make's own errors are failures; its `*** [target] Error N` only when the recipe's
        output had none, and a parent make's line after its child's never."""
        recipe = m.group("path") is not None or m.group("msg").startswith("[")
        line = int(m.group("line")) if m.group("line") else None
        if not recipe:
            self._add(m.group("path"), line, None, m.group("msg"), "make")
            return
        level = int(m.group("level") or 0)
        explained = self._found_since_make > 0 or (
            self._make_level is not None and self._make_level > level
        )
        self._found_since_make, self._make_level = 0, level
        if not explained:
            self._add(m.group("path"), line, None, m.group("msg"), "make")

    def _enter_or_leave(self, m: re.Match[str]) -> None:
        """A recursive make's paths are relative to the folder it entered."""
        if m.group("way") == "Entering":
            if len(self._directories) < 64:
                self._directories.append(Path(m.group("dir")))
        elif self._directories:
            self._directories.pop()

    def finish(self, exit_code: int | None) -> None:
        """The run ended: test reports without a summary line (`-rN`, a run cut short) are
        failures as they are; a non-zero exit with nothing recognised is a failure of its own."""
        for (_, name), reports in self._reports.items():
            for report in reports:
                said = report.explanation or report.error
                message = f"{name} - {said}" if said else name
                self._add(report.path, report.line, None, message, "pytest")
        self._reports.clear()
        self._waiting = 0
        if exit_code not in (0, None) and not self.failures:
            self._add(None, None, None, f"exited with code {exit_code}", "exit")

    def _relative(self, path: str) -> str | None:
        cwd = self._directories[-1] if self._directories else self.cwd
        full = Path(path) if os.path.isabs(path) else cwd / path
        try:
            rel = full.resolve().relative_to(self.root)
        except (ValueError, OSError, RuntimeError):
            return None
        return rel.as_posix()

    def _found(
        self, path: str | None, line: int | None, column: int | None, message: str, kind: str
    ) -> None:
        """A failure the output itself reported (make's recipe line then needs no failure)."""
        self._found_since_make += 1
        self._add(path, line, column, message, kind)

    def _add(
        self, path: str | None, line: int | None, column: int | None, message: str, kind: str
    ) -> None:
        rel = self._relative(path) if path else None
        message = message.strip()[:MAX_MESSAGE] or kind
        key = (rel, line if rel else None, message)
        if key in self._seen:
            return
        # Past MAX_SEEN a repeated line counts again in `dropped`: a run printing millions of
        # distinct errors must not grow the server's memory with them.
        if len(self._seen) < MAX_SEEN:
            self._seen.add(key)
        if len(self.failures) >= MAX_FAILURES:
            self.dropped += 1
            return
        located = rel is not None and line is not None
        self.failures.append(
            Failure(rel, line if rel else None, message, kind, column if located else None)
        )
