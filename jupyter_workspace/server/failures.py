"""Failures in a run's output, recognised line by line as it streams.

Formats: gcc / clang / gfortran diagnostics (`file:line:col: error: msg`; gfortran's
`file:line:col:` with `Error: msg` a few lines later), Python tracebacks (the deepest frame in a
file of the workspace, the exception line as the message), pytest (`path:line: ErrorType` in a
failure's report, `FAILED path::test - msg` in the summary) and make (`make: *** [Makefile:12:
target] Error 1`). The output is text to match, never instructions: nothing here executes it.
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
_MAYBE = re.compile(r":\d|Error|Traceback|FAILED|ERROR|\*\*\*")
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
_PYTEST_LOCATION = re.compile(r"^(?P<path>[^\s:][^:]*\.py):(?P<line>\d+): (?P<msg>\w[\w.]*)$")
_PYTEST_FAILED = re.compile(
    r"^(?:FAILED|ERROR) (?P<path>[^\s:]+\.py)(?:::(?P<test>\S+))?"
    r"(?: - (?P<msg>.*))?$"
)
_MAKE = re.compile(
    r"^(?:g?make)(?:\[\d+\])?: \*\*\* (?:\[(?P<path>[^:\]]+):(?P<line>\d+):"
    r"[^\]]*\] )?(?P<msg>.+)$"
)


@dataclass
class Failure:
    path: str | None  # relative to the served root, or None (outside it, or no file)
    line: int | None
    message: str
    kind: str  # compiler | traceback | pytest | make | exit

    def as_dict(self) -> dict[str, object]:
        return {"path": self.path, "line": self.line, "message": self.message, "kind": self.kind}


class FailureParser:
    """Feed it lines (`feed`), then read `failures`. Bounded: at most MAX_FAILURES kept and
    MAX_SEEN remembered; `dropped` counts the rest (past MAX_SEEN, repeats included)."""

    def __init__(self, root: Path, cwd: Path) -> None:
        self.root = root.resolve()
        self.cwd = cwd.resolve()
        self.failures: list[Failure] = []
        self._seen: set[tuple[str | None, int | None, str]] = set()
        self._fortran: tuple[str, int] | None = None  # waiting for gfortran's "Error:" line
        self._fortran_wait = 0
        self._frames: list[tuple[str, int]] | None = None  # inside a traceback
        self._pytest_at: tuple[str, int] | None = None  # last "path:line: Error" of pytest
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
                self._add(*self._fortran, m.group("msg"), "compiler")
                self._fortran = None
                return
            self._fortran_wait -= 1
            if self._fortran_wait <= 0:
                self._fortran = None
        if _TRACEBACK.match(line):
            self._frames = []
        elif m := _GFORTRAN_AT.match(line):
            self._fortran, self._fortran_wait = (m.group("path"), int(m.group("line"))), 8
        elif m := _DIAGNOSTIC.match(line):
            self._add(
                m.group("path"),
                int(m.group("line")),
                m.group("msg") or m.group("level"),
                "compiler",
            )
        elif m := _PYTEST_LOCATION.match(line):
            self._pytest_at = (m.group("path"), int(m.group("line")))
            self._add(m.group("path"), int(m.group("line")), m.group("msg"), "pytest")
        elif m := _PYTEST_FAILED.match(line):
            test = m.group("test") or ""
            message = f"{test} - {m.group('msg')}" if m.group("msg") else test or "failed"
            at = (
                self._pytest_at
                if self._pytest_at and self._pytest_at[0] == m.group("path")
                else (m.group("path"), None)
            )
            self._add(at[0], at[1], message, "pytest")
        elif m := _MAKE.match(line):
            self._add(
                m.group("path"),
                int(m.group("line")) if m.group("line") else None,
                m.group("msg"),
                "make",
            )

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
            self._add(path, number, line.strip(), "traceback")
            return True
        return False

    def finish(self, exit_code: int | None) -> None:
        """The run ended: a non-zero exit with nothing recognised is a failure of its own."""
        if exit_code not in (0, None) and not self.failures:
            self._add(None, None, f"exited with code {exit_code}", "exit")

    def _relative(self, path: str) -> str | None:
        full = Path(path) if os.path.isabs(path) else self.cwd / path
        try:
            rel = full.resolve().relative_to(self.root)
        except (ValueError, OSError, RuntimeError):
            return None
        return rel.as_posix()

    def _add(self, path: str | None, line: int | None, message: str, kind: str) -> None:
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
        self.failures.append(Failure(rel, line if rel else None, message, kind))
