"""Reading around a search hit: its enclosing definition, the definitions it calls (callees),
the definitions that call it (callers), and the notes and tasks that mention it.

The sidecar's `POST /code/context` (tree-sitter) finds the definition around the hit's lines,
the names called inside it, and where a name is called in another file; the `symbols` table
(what indexing found, migration 9) resolves a called name to its definition, in the same file
first, then in a file of the same language family; callers are found by a full-text search for
the name, each confirmed by the parse (a word in a comment or a string is not a call).

Nothing here raises for a missing sidecar, index or file: what could not be read is left out.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
from pathlib import PurePosixPath
from typing import Any

from ...languages import EXTENSIONS
from ..notes import fts_query
from ..sidecar_client import SidecarGone, SidecarRefused
from .env import Budget, ResearchEnv, Source, content_hash, lines_of, read_source

log = logging.getLogger(__name__)

MAX_LINES = 120  # of one definition read (a longer one: the window around what matters)
MAX_PARSE_CHARS = 4_000_000  # larger files are not sent to the parser
CONTEXT_TIMEOUT = 30
CALLER_SEARCH_HITS = 10
MAX_MENTIONS = 2  # notes, and tasks, per symbol
MIN_NAME_CHARS = 3  # shorter names (`f`, `x`) match everything
# languages whose code may call each other by name
_FAMILIES = {"c": "c", "cpp": "c", "javascript": "js", "typescript": "js", "tsx": "js"}
# the kinds a called name may resolve to, best first
_CALLABLE = ("function", "method", "subroutine", "procedure", "macro", "class", "struct")


def _language(path: str) -> str | None:
    return EXTENSIONS.get(PurePosixPath(path).suffix.lower())


def _family(language: str | None) -> str | None:
    return _FAMILIES.get(language or "", language)


def _short(symbol: str) -> str:
    return symbol.replace("::", ".").replace("%", ".").split(".")[-1]


def _covered(seen: set[Any], path: str, start: int, end: int) -> bool:
    """Whether the job read these lines already (the same, or a passage holding them)."""
    for key in seen:
        if (
            isinstance(key, tuple)
            and len(key) == 3
            and key[0] == path
            and isinstance(key[1], int)
            and isinstance(key[2], int)
            and key[1] <= start
            and end <= key[2]
        ):
            return True
    return False


def _window(start: int, end: int, focus: int) -> tuple[int, int]:
    """Lines start..end, or the MAX_LINES of them around line `focus` if longer."""
    if end - start + 1 <= MAX_LINES:
        return start, end
    first = max(start, min(focus - MAX_LINES // 4, end - MAX_LINES + 1))
    return first, first + MAX_LINES - 1


class _Reader:
    """One expansion's reads: each file read (and hashed) once, each file parsed once per
    question asked of it."""

    def __init__(self, env: ResearchEnv) -> None:
        self.env = env
        self.files: dict[str, tuple[str, str] | None] = {}
        self.sidecar_down = False

    async def read(self, path: str) -> tuple[str, str] | None:
        if path not in self.files:
            self.files[path] = (
                None
                if path.startswith("@")
                else await asyncio.to_thread(read_source, self.env, path)
            )
        return self.files[path]

    async def context(
        self, path: str, start: int, end: int, names: list[str] | None = None
    ) -> dict[str, Any] | None:
        """The sidecar's /code/context for a file, or None (unreadable, too large, no
        sidecar, an error)."""
        if self.sidecar_down:
            return None
        read = await self.read(path)
        if read is None or len(read[0]) > MAX_PARSE_CHARS:
            return None
        supervisor = self.env.supervisor
        client = getattr(supervisor, "client", None)
        if client is None or getattr(supervisor, "state", "ready") != "ready":
            self.sidecar_down = True
            return None
        body: dict[str, Any] = {"path": path, "text": read[0], "start_line": start}
        body["end_line"] = max(start, end)
        if names:
            body["names"] = names[:50]
        try:
            answer = await client.call("POST", "/code/context", body, timeout=CONTEXT_TIMEOUT)
        except SidecarGone as e:
            log.info("research: no code context for %s: %s", path, e)
            self.sidecar_down = True
            return None
        except SidecarRefused as e:
            log.info("research: no code context for %s: %s", path, e.message)
            return None
        return answer if isinstance(answer, dict) else None

    async def source(
        self,
        path: str,
        start: int,
        end: int,
        why: str,
        query: str,
        symbol: str | None = None,
        kind: str | None = None,
    ) -> Source | None:
        read = await self.read(path)
        if read is None:
            return None
        text, digest = read
        total = text.count("\n") + (0 if text.endswith("\n") else 1)
        end = min(end, total)
        if start < 1 or end < start:
            return None
        return Source(
            path=path,
            start_line=start,
            end_line=end,
            symbol=symbol,
            kind=kind,
            language=_language(path),
            text=lines_of(text, start, end),
            why=why,
            query=query,
            hash=digest,
        )


async def expand(env: ResearchEnv, hit: dict[str, Any], budget: Budget, seen: set) -> list[Source]:
    """What to read around `hit` (a search result: path, start_line, end_line, symbol, kind,
    language, text): its enclosing definition, up to `budget.callers` callers and
    `budget.callees` callees, and notes and tasks mentioning its symbol. Lines in `seen`
    ((path, start, end) already read) are skipped; what is returned is added to it."""
    path = hit.get("path")
    start, end = hit.get("start_line"), hit.get("end_line")
    if not isinstance(path, str) or not isinstance(start, int) or path.startswith("@"):
        return []
    end = end if isinstance(end, int) and end >= start else start
    reader = _Reader(env)
    found: list[Source] = []

    def take(source: Source | None) -> bool:
        if source is None:
            return False
        key = (source["path"], source["start_line"], source["end_line"])
        if key in seen or _covered(seen, *key):
            return False
        seen.add(key)
        found.append(source)
        return True

    try:
        here = await reader.context(path, start, end)
        definition = (here or {}).get("definition")
        symbol = str(hit.get("symbol") or "")
        if isinstance(definition, dict):
            symbol = str(definition.get("name") or symbol)
            first, last = _window(definition["start_line"], definition["end_line"], start)
            take(
                await reader.source(
                    path, first, last, "definition", symbol, symbol, definition.get("kind")
                )
            )
        name = _short(symbol) if symbol else ""
        language = hit.get("language") or _language(path)
        if budget.callees > 0 and here and isinstance(definition, dict):
            callees = [n for n in here.get("callees") or [] if isinstance(n, str)]
            await _callees(env, reader, take, path, language, definition, callees, budget)
        if budget.callers > 0 and len(name) >= MIN_NAME_CHARS:
            await _callers(env, reader, take, path, language, definition, name, budget)
        if (budget.callers > 0 or budget.callees > 0) and len(name) >= MIN_NAME_CHARS:
            await _mentions(env, reader, take, name)  # expansion off: the definition only
    except Exception:  # expansion only adds: a failure keeps what was found
        log.exception("research: reading around %s:%s failed", path, start)
    return found


async def _callees(
    env: ResearchEnv,
    reader: _Reader,
    take: Any,
    path: str,
    language: str | None,
    definition: dict[str, Any],
    names: list[str],
    budget: Budget,
) -> None:
    wanted = list(dict.fromkeys(n for n in names if n))[:100]
    if not wanted:
        return
    rows = await _symbols(env, [n.lower() for n in wanted])
    added = searches = 0
    for name in wanted:
        if added >= budget.callees:
            return
        candidates = [
            r
            for r in rows.get(name.lower(), [])
            if _family(_language(r["path"])) == _family(language)
            and not (r["path"] == path and r["line"] == definition.get("start_line"))
        ]
        candidates.sort(
            key=lambda r: (
                r["path"] != path,
                _language(r["path"]) != language,
                _CALLABLE.index(r["kind"]) if r["kind"] in _CALLABLE else len(_CALLABLE),
                r["path"],
                r["line"],
            )
        )
        for r in candidates[:3]:
            first, last = _window(r["line"], r["end_line"], r["line"])
            if take(
                await reader.source(r["path"], first, last, "callee", name, r["name"], r["kind"])
            ):
                added += 1
                break
        else:
            if not candidates and searches < 2 * budget.callees:
                searches += 1
                if take(await _defined_by_search(env, reader, path, language, name)):
                    added += 1


async def _defined_by_search(
    env: ResearchEnv, reader: _Reader, path: str, language: str | None, name: str
) -> Source | None:
    """A definition of `name` the symbols table does not know (its file was indexed by lines:
    the grammar gave up on it, as on cffi's `_cffi_backend.c`): the text search's hits for
    the name whose enclosing definition, by the parse, is named so."""
    if len(name) < MIN_NAME_CHARS:
        return None
    try:
        hits = await env.search.raw({"q": name, "k": 5, "mode": "text"})
    except Exception as e:  # no sidecar, no index: nothing
        log.info("research: no definition of %s: %s", name, e)
        return None
    fold = str.lower if language == "fortran" else str
    hits = [
        h
        for h in hits
        if isinstance(h.get("path"), str)
        and not h["path"].startswith("@")
        and isinstance(h.get("start_line"), int)
        and _family(_language(h["path"])) == _family(language)
        # a chunk named otherwise is no definition of `name` (the index would know it)
        and (not h.get("symbol") or fold(_short(str(h["symbol"]))) == fold(name))
    ]
    hits.sort(key=lambda h: h["path"] != path)
    for hit in hits[:3]:
        start = int(hit["start_line"])
        end = hit["end_line"] if isinstance(hit.get("end_line"), int) else start
        context = await reader.context(hit["path"], start, end)
        found = (context or {}).get("definition")
        if isinstance(found, dict) and fold(_short(str(found.get("name") or ""))) == fold(name):
            first, last = _window(found["start_line"], found["end_line"], found["start_line"])
            return await reader.source(
                hit["path"], first, last, "callee", name, found.get("name"), found.get("kind")
            )
    return None


async def _symbols(env: ResearchEnv, shorts: list[str]) -> dict[str, list[dict[str, Any]]]:
    """short name -> its definitions in the symbols table (files, not notebook cells)."""

    def read(conn: sqlite3.Connection) -> dict[str, list[dict[str, Any]]]:
        found: dict[str, list[dict[str, Any]]] = {}
        marks = ",".join("?" * len(shorts))
        for row in conn.execute(
            "SELECT path, name, short, kind, line, end_line FROM symbols "
            f"WHERE short IN ({marks}) AND cell IS NULL LIMIT 1000",
            shorts,
        ):
            found.setdefault(row["short"], []).append(
                {k: row[k] for k in ("path", "name", "kind", "line", "end_line")}
            )
        return found

    try:
        return await env.store.run(read)
    except (sqlite3.Error, RuntimeError) as e:
        log.info("research: no symbols: %s", e)
        return {}


async def _callers(
    env: ResearchEnv,
    reader: _Reader,
    take: Any,
    path: str,
    language: str | None,
    definition: Any,
    name: str,
    budget: Budget,
) -> None:
    try:
        hits = await env.search.raw({"q": name, "k": CALLER_SEARCH_HITS, "mode": "text"})
    except Exception as e:  # no sidecar, no index: no callers
        log.info("research: no callers of %s: %s", name, e)
        return
    own = (
        (path, definition.get("start_line"), definition.get("end_line"))
        if isinstance(definition, dict)
        else None
    )
    added = 0
    asked: set[str] = set()
    for hit in hits:
        other = hit.get("path")
        if (
            not isinstance(other, str)
            or other.startswith("@")
            or other in asked
            or _family(_language(other)) != _family(language)
        ):
            continue
        if not _calls_in(str(hit.get("text") or hit.get("snippet") or ""), name, language):
            continue  # the word, but not called here (the whole file is parsed for a call)
        asked.add(other)
        line = hit["start_line"] if isinstance(hit.get("start_line"), int) else 1
        context = await reader.context(other, line, line, [name])
        for call in (context or {}).get("calls") or []:
            if added >= budget.callers:
                return
            caller = call.get("definition")
            at = call.get("line")
            if not isinstance(at, int):
                continue
            if isinstance(caller, dict):
                key = (other, caller.get("start_line"), caller.get("end_line"))
                if key == own:
                    continue  # a recursive call
                first, last = _window(caller["start_line"], caller["end_line"], at)
                source = await reader.source(
                    other, first, last, "caller", name, caller.get("name"), caller.get("kind")
                )
            else:  # a call in module-level code: the lines around it
                source = await reader.source(other, max(1, at - 5), at + 5, "caller", name)
            if take(source):
                added += 1


def _calls_in(text: str, name: str, language: str | None) -> bool:
    """Whether `text` may call `name`: the name before `(` (Fortran: also after `call`).
    No text to look at: maybe."""
    if not text:
        return True
    word = re.escape(name)
    if language == "fortran":
        return re.search(rf"\b{word}\s*\(|\bcall\s+{word}\b", text, re.IGNORECASE) is not None
    return re.search(rf"(?<![\w$]){word}\s*(<[^;()]*>\s*)?\(", text) is not None


async def _mentions(env: ResearchEnv, reader: _Reader, take: Any, name: str) -> None:
    """Up to MAX_MENTIONS notes and MAX_MENTIONS tasks that mention `name` (the word)."""
    match = fts_query(name)
    lowered = name.lower()
    pattern = "%" + lowered.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"

    def read(conn: sqlite3.Connection) -> tuple[list[Any], list[Any]]:
        notes = (
            conn.execute(
                "SELECT notes.id, notes.title, notes.body FROM notes "
                "JOIN notes_fts ON notes_fts.rowid = notes.id WHERE notes_fts MATCH ? "
                "ORDER BY notes.updated DESC LIMIT 20",
                (match,),
            ).fetchall()
            if match
            else []
        )
        tasks = conn.execute(
            "SELECT id, title, snippet, source_path, source_line FROM tasks "
            "WHERE lower(title) LIKE ? ESCAPE '\\' OR lower(coalesce(snippet, '')) LIKE ? "
            "ESCAPE '\\' ORDER BY done, id DESC LIMIT 20",
            (pattern, pattern),
        ).fetchall()
        return notes, tasks

    try:
        notes, tasks = await env.store.run(read)
    except (sqlite3.Error, RuntimeError) as e:
        log.info("research: no notes or tasks for %s: %s", name, e)
        return
    count = 0
    for note in notes:
        if count >= MAX_MENTIONS:
            break
        lines = str(note["body"]).split("\n")
        rows = [i for i, line in enumerate(lines) if lowered in line.lower()]
        if not rows:
            continue
        first, last = max(1, rows[0] + 1 - 3), min(len(lines), rows[0] + 1 + 5)
        source = Source(
            path=f"@notes/{note['id']}",
            start_line=first,
            end_line=last,
            symbol=str(note["title"])[:200],
            kind="note",
            language="markdown",
            text="\n".join(lines[first - 1 : last]),
            why="note",
            query=name,
            hash=content_hash(str(note["body"]).encode("utf-8")),
        )
        if take(source):
            count += 1
    count = 0
    for task in tasks:
        if count >= MAX_MENTIONS:
            break
        where, line = task["source_path"], task["source_line"]
        if not isinstance(where, str) or not isinstance(line, int):
            continue  # a task typed by a user is no passage of a file to cite
        passage = await reader.source(
            where, max(1, line - 2), line + 3, "task", name, str(task["title"])[:200], "task"
        )
        if take(passage):
            count += 1
