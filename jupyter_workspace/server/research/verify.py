"""Every citation of a research report checked against the files as they are now.

A citation is `[path:start-end]` or `[path:line]` (a root-relative path without spaces or `]`),
or `[@notes/<id>:start-end]` for a note's body lines. Text in code (fenced blocks, `spans`) is
not read for citations: a quoted `a[i:3]` is code, not a claim.

The rules:

- A citation is *verified* when its file is readable (`env.read_source`: inside the root, not
  ignored, not binary), its lines exist, and a quote that the extract step's findings give for
  exactly these lines (else, when none does, for overlapping lines of the file) occurs,
  whitespace-normalised, in the cited lines (a quote may span lines; one elided with `...`
  occurs when its parts do, in order). An empty quote proves nothing.
- A citation *fails* when its file is missing or unreadable, its lines are past the end, or no
  quote of its findings occurs in its lines. The reason says which: "no such file",
  "outside the workspace", "not readable (...)", "lines 900-910 past the end (812 lines)",
  "quote not in lines 10-20".
- A citation no finding supports (the writer wrote it; no quote to check) is checked by its
  lines existing only: a missing file or lines past the end fail it as above; otherwise it is
  kept *unverified* ("no finding quotes these lines"), never counted as verified.
- A list item (`- ...`, `1. ...`, with its continuation lines and a code block that follows
  it) none of whose citations is verified and one of which failed is dropped from the report:
  that is a finding whose every citation failed. Any other citation that is not verified is
  marked in place: `[path:10-20] ⚠ unverified (quote not in lines 10-20)`.
- `stats`: citations (all found) = verified + unverified (marked, kept) + dropped (removed
  with their items). The report starts with a one-line summary of them and ends with a
  `## Sources` list of the files it still cites, each with its short content hash.
"""

from __future__ import annotations

import re
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from ..errors import BadRequest
from ..paths import confine
from .env import MAX_READ_BYTES, ResearchEnv, content_hash, read_source

NOTE_PREFIX = "@notes/"
SHORT_HASH = 12
# `[path:12-30]` (or `12–30`), `[path:12]`, `[@notes/3:4-5]`: no spaces, brackets or backticks
# in the path
CITATION = re.compile(r"\[([^\s\[\]`:]+|@notes/\d+):(\d{1,9})(?:[-–](\d{1,9}))?\]")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d{1,9}[.)])\s+")
_HEADING = re.compile(r"^ {0,3}#{1,6}(\s|$)")
_ELLIPSIS = re.compile(r"^(?:\.\.\.|…)\s*|\s*(?:\.\.\.|…)$")


def normalise(text: str) -> str:
    """Whitespace collapsed: what a quote and the file's lines are compared as."""
    return " ".join(text.split())


# -- one citation ----------------------------------------------------------------------------
@dataclass
class _Read:
    lines: list[str] | None  # None: unreadable
    hash: str | None
    reason: str | None  # why unreadable


def _read(env: ResearchEnv, path: str) -> _Read:
    if path.startswith(NOTE_PREFIX):
        return _read_note(env, path)
    found = read_source(env, path)
    if found is not None:
        text, digest = found
        return _Read(text.splitlines(), digest, None)
    return _Read(None, None, _unreadable(env, path))


def _unreadable(env: ResearchEnv, path: str) -> str:
    """Why `read_source` said no: the same checks, in its order, told apart."""
    try:
        rel = confine(env.root_dir, path)
    except BadRequest:
        return "outside the workspace"
    if env.rules.ignored(rel):
        return "not readable: excluded from the workspace"
    target = env.root_dir / rel
    try:
        if not target.is_file():
            return "no such file"
        if target.stat().st_size > MAX_READ_BYTES:
            return f"not readable: larger than {MAX_READ_BYTES // (1024 * 1024)} MB"
        head = target.read_bytes()
    except OSError:
        return "not readable"
    if b"\x00" in head[:8192]:
        return "not readable: binary"
    return "not readable: not UTF-8 text"


def _read_note(env: ResearchEnv, path: str) -> _Read:
    try:
        note_id = int(path[len(NOTE_PREFIX) :])
    except ValueError:
        return _Read(None, None, "no such note")

    def body(conn: sqlite3.Connection) -> str | None:
        row = conn.execute("SELECT body FROM notes WHERE id = ?", (note_id,)).fetchone()
        return None if row is None else str(row[0])

    try:
        text = env.store.run_sync(body)
    except (sqlite3.Error, RuntimeError):
        return _Read(None, None, "not readable: the notes database is closed")
    if text is None:
        return _Read(None, None, "no such note")
    return _Read(text.splitlines(), content_hash(text.encode("utf-8")), None)


def _span(start: int, end: int) -> str:
    return f"line {start}" if start == end else f"lines {start}-{end}"


def _check_lines(read: _Read, start: int, end: int) -> str | None:
    """Why lines start..end cannot be cited in `read`, or None."""
    if read.lines is None:
        return read.reason or "not readable"
    if start < 1 or end < start:
        return f"{_span(start, end)}: not a range of lines"
    if end > len(read.lines):
        return f"{_span(start, end)} past the end ({len(read.lines)} lines)"
    return None


def _clean_quote(quote: str) -> str:
    quote = normalise(quote)
    if len(quote) >= 2 and quote[0] == quote[-1] and quote[0] in "`\"'":
        quote = quote[1:-1].strip()
    return _ELLIPSIS.sub("", quote).strip()


def _quote_in(read: _Read, start: int, end: int, quote: str) -> bool:
    """Whether the quote occurs in lines start..end; one elided with `...` (`a = f(x) ...
    return a`) occurs when each of its parts does, in order."""
    wanted = _clean_quote(quote)
    assert read.lines is not None
    if not wanted:
        return False
    lines = normalise("\n".join(read.lines[start - 1 : end]))
    if wanted in lines:
        return True
    at = 0
    parts = [p.strip() for p in re.split(r"\.\.\.|…", wanted)]
    for part in (p for p in parts if p):
        found = lines.find(part, at)
        if found < 0 or len(parts) < 2:
            return False
        at = found + len(part)
    return True


def _check(read: _Read, start: int, end: int, quote: str) -> dict[str, Any]:
    why = _check_lines(read, start, end)
    if why is None and not _clean_quote(quote):
        why = "no quote to check"
    if why is None and not _quote_in(read, start, end, quote):
        why = f"quote not in {_span(start, end)}"
    return {"ok": why is None, "reason": why, "hash": read.hash}


def verify_citation(
    env: ResearchEnv, path: str, start_line: int, end_line: int, quote: str
) -> dict[str, Any]:
    """{ok, reason, hash}: ok only if the file is readable, lines start..end exist and the
    quote (whitespace-normalised, non-empty) occurs in them. `hash`: the whole file's
    content hash when it could be read."""
    return _check(_read(env, str(path)), int(start_line), int(end_line), str(quote or ""))


# -- a report --------------------------------------------------------------------------------
@dataclass
class _Cite:
    row: int  # the markdown line it is on
    start: int  # its column span in that line
    end: int
    path: str
    first: int
    last: int
    ok: bool = False
    hard: bool = False  # failed (as opposed to: unsupported, lines present)
    reason: str | None = None


def _code_mask(line: str) -> str:
    """The line with its code spans blanked (same length)."""
    return _CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line)


def _citations(lines: list[str]) -> tuple[list[_Cite], set[int]]:
    """The citations outside code, and the rows that are inside fenced code."""
    found: list[_Cite] = []
    fenced: set[int] = set()
    fence: str | None = None
    for row, line in enumerate(lines):
        opening = _FENCE.match(line)
        if fence is not None:
            fenced.add(row)
            closes = opening is not None and opening.group(1)[0] == fence[0]
            if closes and len(line.strip()) >= len(fence) and not line.strip().strip(fence[0]):
                fence = None
            continue
        if opening:
            fence = opening.group(1)
            fenced.add(row)
            continue
        for m in CITATION.finditer(_code_mask(line)):
            first = int(m.group(2))
            last = int(m.group(3)) if m.group(3) else first
            found.append(_Cite(row, m.start(), m.end(), m.group(1), first, last))
    return found, fenced


def _items(lines: list[str], fenced: set[int]) -> list[range]:
    """The rows of each list item: its line, indented or blank continuation lines and a
    fenced block that follows it, up to the next item, heading or unindented text."""
    items: list[range] = []
    row = 0
    while row < len(lines):
        if row in fenced or not _ITEM.match(lines[row]):
            row += 1
            continue
        start, row = row, row + 1
        last = start
        while row < len(lines):
            line = lines[row]
            if row in fenced:
                last = row
            elif _ITEM.match(line) or _HEADING.match(line) or line[:1].strip():
                break  # the next item, a heading, unindented text
            elif line.strip():
                last = row
            row += 1
        items.append(range(start, last + 1))
        row = last + 1
    return items


def _quotes(findings: list[Any]) -> dict[str, list[tuple[int, int, str]]]:
    """path -> (start, end, quote) of every citation the findings give."""
    by_path: dict[str, list[tuple[int, int, str]]] = {}
    for finding in findings or []:
        if not isinstance(finding, dict):
            continue
        for c in finding.get("citations") or []:
            if not isinstance(c, dict):
                continue
            try:
                start = int(c["start_line"])
                end = int(c.get("end_line") or start)
            except (TypeError, ValueError, KeyError):
                continue
            quote = c.get("quote")
            if isinstance(quote, str) and quote.strip():
                by_path.setdefault(str(c.get("path")), []).append((start, end, quote))
    return by_path


def _judge(cite: _Cite, read: _Read, quotes: list[tuple[int, int, str]]) -> None:
    why = _check_lines(read, cite.first, cite.last)
    if why is not None:
        cite.hard, cite.reason = True, why
        return
    # the finding that cites exactly these lines answers for them: another finding's quote
    # on overlapping lines must not vouch for a fabricated one (a paraphrase cited one line
    # off true evidence was kept verified that way); else any overlapping finding's quote
    supporting = [q for s, e, q in quotes if (s, e) == (cite.first, cite.last)] or [
        q for s, e, q in quotes if s <= cite.last and cite.first <= e
    ]
    if not supporting:
        cite.reason = "no finding quotes these lines"
        return
    if any(_quote_in(read, cite.first, cite.last, q) for q in supporting):
        cite.ok = True
        return
    cite.hard, cite.reason = True, f"quote not in {_span(cite.first, cite.last)}"


def verify_report(env: ResearchEnv, markdown: str, findings: list[Any]) -> dict[str, Any]:
    """{markdown, sources, stats}: the report with every citation checked (see the module's
    docstring), the files it cites with their hashes, and the counts."""
    lines = str(markdown or "").split("\n")
    cites, fenced = _citations(lines)
    quotes = _quotes(findings)
    reads: dict[str, _Read] = {}
    for cite in cites:
        if cite.path not in reads:
            reads[cite.path] = _read(env, cite.path)
        _judge(cite, reads[cite.path], quotes.get(cite.path, []))

    by_row: dict[int, list[_Cite]] = {}
    for cite in cites:
        by_row.setdefault(cite.row, []).append(cite)
    dropped_rows: set[int] = set()
    dropped = dropped_items = 0
    for item in _items(lines, fenced):
        mine = [c for row in item for c in by_row.get(row, [])]
        if mine and not any(c.ok for c in mine) and any(c.hard for c in mine):
            dropped_rows.update(item)
            dropped += len(mine)
            dropped_items += 1

    out: list[str] = []
    for row, line in enumerate(lines):
        if row in dropped_rows:
            continue
        for cite in sorted(by_row.get(row, []), key=lambda c: -c.start):
            if not cite.ok:
                mark = f" ⚠ unverified ({cite.reason})"
                line = line[: cite.end] + mark + line[cite.end :]
        out.append(line)

    kept = [c for c in cites if c.row not in dropped_rows]
    verified = sum(c.ok for c in cites)
    stats = {
        "citations": len(cites),
        "verified": verified,
        "unverified": len(kept) - verified,
        "dropped": dropped,
    }
    cited_paths = list(dict.fromkeys(c.path for c in kept))
    sources = [{"path": p, "hash": reads[p].hash, "cited": True} for p in cited_paths]
    unreadable = {p: reads[p].reason or "not readable" for p in cited_paths}
    sources += [
        {"path": p, "hash": reads[p].hash, "cited": False}
        for p in dict.fromkeys(c.path for c in cites)
        if p not in cited_paths
    ]
    body = "\n".join(out).strip("\n")
    parts = [_summary(stats, dropped_items), body, _sources_section(sources, unreadable)]
    return {
        "markdown": "\n\n".join(p for p in parts if p) + "\n",
        "sources": sources,
        "stats": stats,
    }


def _summary(stats: dict[str, int], dropped_items: int) -> str:
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    if not stats["citations"]:
        return f"> **Verification:** no citations to check (as of {when})."
    text = (
        f"> **Verification:** {stats['verified']} of {stats['citations']} citations verified "
        f"against the files as of {when}"
    )
    if stats["unverified"]:
        text += f"; {stats['unverified']} unverified (marked ⚠)"
    if stats["dropped"]:
        s = "" if dropped_items == 1 else "s"
        text += f"; {stats['dropped']} dropped with {dropped_items} finding{s} none of whose "
        text += "citations held"
    return text + "."


def _sources_section(sources: list[dict[str, Any]], unreadable: dict[str, str]) -> str:
    """The cited files, each with its short content hash (or why it could not be read)."""
    cited = [s for s in sources if s["cited"]]
    if not cited:
        return ""
    lines = ["## Sources", ""]
    for s in cited:
        digest = f"sha256 {s['hash'][:SHORT_HASH]}" if s["hash"] else unreadable[s["path"]]
        lines.append(f"- `{s['path']}` ({digest})")
    return "\n".join(lines)
