"""Tasks and entities found in files and notes, by rules (no model, no network).

Tasks: in code, `TODO` / `FIXME` / `HACK` / `XXX` / `BUG` as the first word of a real comment
line. A regex finds the candidates and the file's tree-sitter parse says whether each one sits
in a comment node (never a string or a docstring); languages without a grammar use their
comment markers, with quotes tracked. In markdown (files and the workspace's notes): checkboxes,
`Action:` lines, `@name will ...`, TODO at the start of a line; fenced code is skipped. A markdown
task's title is plain text (links become their text, emphasis and code marks go). Issue and pull
request templates (`.github/ISSUE_TEMPLATE/`, `PULL_REQUEST_TEMPLATE.md`, ...) hold no tasks:
their checkboxes are a form for whoever files the next issue, not work for this workspace.

Entities: people, organisations, components, files, symbols and ids from configurable patterns,
in the comments of code and the whole text of markdown (the rules are in entities.py).

`extract()` is pure: the sidecar calls it while indexing; the coordinator stores the answer.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from ..entity_patterns import DEFAULT_PATTERNS, compile_patterns
from .entities import PERSON as _PERSON
from .entities import find as find_mentions

MAX_TASKS = 500  # per file: more are counted (`tasks_total`) but not kept
MAX_LINE_CHARS = 2000  # longer lines (minified code, data) are not read
SNIPPET_CHARS = 200
TAGS = ("TODO", "FIXME", "HACK", "XXX", "BUG")

# -- tasks in code ---------------------------------------------------------------------------
_TAG = re.compile(r"\b(TODO|FIXME|HACK|XXX|BUG)\b")
# what a tag is followed by: (details), then : or - or space, then the text
_TASK = re.compile(r"(TODO|FIXME|HACK|XXX|BUG)(?:\(([^)]{0,120})\))?(?=[\s:!,.-]|$)[\s:!,.-]*(.*)")
_MARKERS = " \t/*#!;%-<>'"  # comment punctuation allowed before the tag on its line
_COMMENT_TAIL = re.compile(r"\s*(?:\*/|-->)\s*$")
# comment markers for languages without a grammar: (line markers, block open, block close)
_FALLBACK_COMMENTS: dict[str, tuple[tuple[str, ...], str | None, str | None]] = {
    "shell": (("#",), None, None),
    "yaml": (("#",), None, None),
    "toml": (("#",), None, None),
    "ini": (("#", ";"), None, None),
    "text": (("#", "//"), None, None),
    "matlab": (("%",), "%{", "%}"),
    "ada": (("--",), None, None),
    "java": (("//",), "/*", "*/"),
    "go": (("//",), "/*", "*/"),
    "rust": (("//",), "/*", "*/"),
    "rst": ((".. ",), None, None),
    "json": ((), None, None),
}
_DEFAULT_FALLBACK: tuple[tuple[str, ...], str | None, str | None] = (("#", "//", "--"), "/*", "*/")

# -- dates, owners, references ---------------------------------------------------------------
_ISO = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_DUE = re.compile(
    r"\b(?:by|due(?: on)?|before)\s+(\d{4}-\d{2}-\d{2}|today|tomorrow|"
    r"(?:next\s+)?(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday))\b",
    re.IGNORECASE,
)
_REF = re.compile(r"(?<![\w#])(#\d+|[A-Z][A-Z0-9]+-\d+)\b|(https?://\S+)")

# -- tasks in markdown -----------------------------------------------------------------------
_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_CHECKBOX = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+\[([ xX])\]\s+(\S.*)$")
_ACTION = re.compile(
    r"^\s*(?:[-*+]\s+)?(?:\*\*|__)?(?:Action(?:\s+item)?|Follow[- ]up)"
    r"(?:\*\*|__)?\s*:(?:\*\*|__)?\s*(\S.*)$",
    re.IGNORECASE,
)
_WILL = re.compile(r"(?<![\w@.])@([A-Za-z][\w-]*[A-Za-z0-9])\s+will\s+(\S.*)$")
_MD_TODO = re.compile(r"^\s*(?:[-*+]\s+)?(TODO|FIXME)\b(?:\(([^)]{0,120})\))?[\s:-]*(\S.*)$")
# GitHub's, GitLab's and Gitea's issue / pull (merge) request / discussion templates: a folder of
# them or one file, in the root, docs/ or the forge's folder
_TEMPLATE = re.compile(
    r"(?:^|/)(?:issue|pull_request|merge_request|discussion)_templates?(?:/|\.\w+$)",
    re.IGNORECASE,
)
# markdown syntax a plain-text title drops: (pattern, replacement), applied in order
_MARKUP = (
    (re.compile(r"<!--.*?(?:-->|$)"), ""),  # HTML comments
    (re.compile(r"!?\[([^\]]*)\]\([^)]*\)"), r"\1"),  # [text](url), ![alt](src)
    (re.compile(r"!?\[([^\]]+)\]\[[^\]]*\]"), r"\1"),  # [text][ref]
    (re.compile(r"<((?:https?|mailto):[^>\s]+)>"), r"\1"),  # <https://...>
    (re.compile(r"(`+)(.+?)\1"), r"\2"),  # `code`
    (re.compile(r"(\*\*|__|~~)(?=\S)(.+?)(?<=\S)\1"), r"\2"),  # **strong**, ~~struck~~
    (re.compile(r"(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?![\w*])"), r"\1"),  # *emphasis*
    (re.compile(r"(?<![\w_])_(?=\S)([^_]+?)(?<=\S)_(?![\w_])"), r"\1"),  # _emphasis_
)
# a backslash-escaped character is kept aside (as a private-use one) while the markup goes
_ESCAPED = re.compile(r"\\([\\`*_{}\[\]()#+\-.!~|<>])")
_KEPT = re.compile("[\ue000-\ue07f]")


@dataclass
class _Line:
    number: int  # 1-based
    text: str  # the readable part of the line: its comment text in code, all of it in markdown


def extract(
    path: str,
    text: str,
    language: str | None = None,
    tree: Any = None,
    patterns: dict[str, str] | None = None,
    today: dt.date | None = None,
) -> dict[str, Any]:
    """The tasks and entity mentions of one file (or note, as markdown)."""
    from .chunker import language_of, parse

    language = language or language_of(path, text)
    today = today or dt.date.today()
    lines = text.splitlines()
    if language == "markdown":
        readable = list(_markdown_lines(lines))
        tasks = [] if is_template(path) else list(_markdown_tasks(readable, today))
    else:
        if tree is None:
            tree = parse(text, language)
        readable = list(_comment_lines(lines, language, tree))
        tasks = [t for line in readable if (t := _code_task(line, today))]
    total = len(tasks)
    mentions = find_mentions(
        readable,
        None if language == "markdown" else lines,
        compile_patterns(patterns or DEFAULT_PATTERNS)[0],
        [(t["owner"], t["line"], t["snippet"]) for t in tasks if t["owner"]],
    )
    return {"tasks": tasks[:MAX_TASKS], "tasks_total": total, "mentions": mentions}


def is_template(path: str) -> bool:
    """Whether `path` is an issue, pull request or discussion template of a code forge."""
    return _TEMPLATE.search(path.replace("\\", "/")) is not None


def plain_text(markdown: str) -> str:
    """One line of markdown as the words a reader sees: `[the guide](url)` is `the guide`."""
    text = _ESCAPED.sub(lambda m: chr(0xE000 + ord(m.group(1))), markdown)
    for pattern, replacement in _MARKUP:
        text = pattern.sub(replacement, text)
    text = _KEPT.sub(lambda m: chr(ord(m.group(0)) - 0xE000), text)
    return re.sub(r"\s+", " ", text).strip()


# -- which lines are readable ----------------------------------------------------------------
def _markdown_lines(lines: list[str]) -> Iterator[_Line]:
    fenced = False
    for number, line in enumerate(lines, 1):
        if _FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced and len(line) <= MAX_LINE_CHARS:
            yield _Line(number, line)


def _comment_lines(lines: list[str], language: str, tree: Any) -> Iterator[_Line]:
    if tree is not None and _comment_query(tree.language) is not None:
        yield from _tree_comment_lines(lines, tree)
    else:
        yield from _marker_comment_lines(lines, language)


def _tree_comment_lines(lines: list[str], tree: Any) -> Iterator[_Line]:
    """The comment text of each line that has any, from the parse tree's comment nodes."""
    for comment in _comments(tree):
        first, last = comment.start_point, comment.end_point
        if _in_broken_string(comment, lines):
            continue
        for row in range(first[0], last[0] + 1):
            if row >= len(lines) or len(lines[row]) > MAX_LINE_CHARS:
                continue
            line = lines[row]
            raw = line.encode("utf-8")
            start = first[1] if row == first[0] else 0
            end = last[1] if row == last[0] else len(raw)
            text = raw[start:end].decode("utf-8", errors="replace")
            if text.strip():
                yield _Line(row + 1, text)


def _comments(tree: Any) -> list[Any]:
    """The comment nodes, found by a tree-sitter query (in C, not by walking in Python)."""
    query = _comment_query(tree.language)
    if query is None:
        return []
    from tree_sitter import QueryCursor

    nodes = QueryCursor(query).captures(tree.root_node).get("comment", [])
    return sorted(nodes, key=lambda n: n.start_byte)


def _in_broken_string(comment: Any, lines: list[str]) -> bool:
    """A `comment` the parser recovered from an error inside a string it could not close, as
    in `#define MSG "/* TODO */"` (C macros are read to the `/*`)."""
    node, depth = comment.parent, 0
    while node is not None and depth < 4 and node.type != "ERROR":
        node, depth = node.parent, depth + 1
    if node is None or node.type != "ERROR":
        return False
    row, column = comment.start_point
    before = (
        lines[row].encode("utf-8")[:column].decode("utf-8", errors="replace")
        if row < len(lines)
        else ""
    )
    return before.replace('\\"', "").count('"') % 2 == 1


@cache
def _comment_query(language: Any) -> Any:
    from tree_sitter import Query

    try:
        return Query(language, "(comment) @comment")
    except Exception:  # a grammar without a `comment` node
        return None


def _marker_comment_lines(lines: list[str], language: str) -> Iterator[_Line]:
    markers, opening, closing = _FALLBACK_COMMENTS.get(language, _DEFAULT_FALLBACK)
    in_block = False
    for number, line in enumerate(lines, 1):
        if len(line) > MAX_LINE_CHARS:
            continue
        if in_block:
            end = line.find(closing) if closing else -1
            yield _Line(number, line if end < 0 else line[:end])
            in_block = end < 0
            continue
        at, which = _first_marker(line, markers, opening)
        if at < 0:
            continue
        if which == opening and closing:
            end = line.find(closing, at + len(opening))
            yield _Line(number, line[at:] if end < 0 else line[at:end])
            in_block = end < 0
        else:
            yield _Line(number, line[at:])


def _first_marker(line: str, markers: tuple[str, ...], opening: str | None) -> tuple[int, str]:
    """Where the first comment marker outside quotes starts, and which one (-1 if none). A
    marker counts at the start of the line or after white space only."""
    quote = ""
    i = 0
    candidates = [m for m in (*markers, opening) if m]
    while i < len(line):
        ch = line[i]
        if quote:
            if ch == "\\":
                i += 2
                continue
            if ch == quote:
                quote = ""
        elif ch in "\"'`":
            quote = ch
        elif i == 0 or line[i - 1].isspace():  # `a#b`, `${1##*/}`, `http://` are no comments
            for marker in candidates:
                if line.startswith(marker, i):
                    return i, marker
        i += 1
    return -1, ""


# -- tasks -----------------------------------------------------------------------------------
def _code_task(line: _Line, today: dt.date) -> dict[str, Any] | None:
    match = _TAG.search(line.text)
    if match is None or line.text[: match.start()].strip(_MARKERS):
        return None  # no tag, or not the first word of the comment
    found = _TASK.match(line.text, match.start())
    if found is None:
        return None
    tag, details, rest = found.group(1), found.group(2), _COMMENT_TAIL.sub("", found.group(3))
    return _task(line, tag, rest.strip() or tag, today, details=details)


def _markdown_tasks(lines: list[_Line], today: dt.date) -> Iterator[dict[str, Any]]:
    for line in lines:
        if task := _markdown_task(line, today):
            # The title as the rendered markdown reads; the due date and ref came from the raw
            # text (a link's URL may be the ref).
            yield {**task, "text": plain_text(task["text"])[:500] or task["tag"]}


def _markdown_task(line: _Line, today: dt.date) -> dict[str, Any] | None:
    if m := _CHECKBOX.match(line.text):
        return _task(line, "CHECKBOX", m.group(2).strip(), today, done=m.group(1) != " ")
    if m := _ACTION.match(line.text):
        who = _PERSON.match(m.group(1))  # "Action: @carol to call ..."
        return _task(line, "ACTION", m.group(1).strip(), today, owner=who.group(1) if who else None)
    if m := _MD_TODO.match(line.text):
        return _task(line, m.group(1), m.group(3).strip(), today, details=m.group(2))
    if m := _WILL.search(line.text):
        return _task(line, "ACTION", m.group(2).strip(), today, owner=m.group(1))
    return None


def _task(
    line: _Line,
    tag: str,
    text: str,
    today: dt.date,
    details: str | None = None,
    owner: str | None = None,
    done: bool = False,
) -> dict[str, Any]:
    due, ref = None, None
    for item in re.split(r"[,;]", details or ""):
        item = item.strip()
        if not item:
            continue
        if _ISO.fullmatch(item):
            due = due or _date(item, today)
        elif _REF.fullmatch(item):
            ref = ref or item
        else:
            owner = owner or item.lstrip("@")
    if m := _DUE.search(text):
        due = due or _date(m.group(1), today)
    if ref is None and (m := _REF.search(text)):
        ref = m.group(1) or m.group(2)
    if owner is not None and not re.fullmatch(r"[\w .@-]{1,64}", owner):
        owner = None
    return {
        "line": line.number,
        "tag": tag,
        "text": text[:500],
        "owner": owner,
        "ref": ref,
        "due": due,
        "done": done,
        "snippet": line.text.strip()[:SNIPPET_CHARS],
    }


def _date(words: str, today: dt.date) -> str | None:
    words = words.lower()
    if _ISO.fullmatch(words):
        try:
            return dt.date.fromisoformat(words).isoformat()
        except ValueError:
            return None
    if words == "today":
        return today.isoformat()
    if words == "tomorrow":
        return (today + dt.timedelta(days=1)).isoformat()
    name = words.split()[-1]
    ahead = (_WEEKDAYS.index(name) - today.weekday()) % 7
    if words.startswith("next"):
        ahead += 7 if ahead else 7
    return (today + dt.timedelta(days=ahead)).isoformat()
