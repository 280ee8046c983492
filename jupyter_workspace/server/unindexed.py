"""Words in the files the index does not hold yet: search answers for them from disk.

On a fresh folder the index is empty until the AI sidecar has started (its imports, LanceDB)
and the first batches are written: ~10 s on a loaded laptop for 300 files. The catalog knows
every file from the first scan (a stat per file, 0.05 s for 300) and which are still pending,
so search reads those files itself, looks for the query's words line by line, and returns the
best windows as hits marked `unindexed`, alternating with the index's own. Bounded: at most
MAX_FILES files, MAX_BYTES read and BUDGET_S seconds per search; `partial` says when it stopped
early.
Files are read as the indexer reads them (`read_text`: confined to the root, ignore rules,
size limit, binary check), so nothing is shown here that the index would not show.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import math
import re
import time
from pathlib import Path
from typing import Any

from .. import protocol
from ..languages import language_of
from .catalog import Catalog, SizeLimit, read_text
from .ignore import IgnoreRules

MAX_FILES = 2000  # pending files looked at per search
MAX_BYTES = 64 * 1024 * 1024  # of text read per search
BUDGET_S = 1.0  # seconds of reading per search
SCAN_WAIT_S = 3.0  # how long a search waits for the indexer's first scan (0.05 s for 300 files)
PER_FILE = 3  # windows a file may give
CONTEXT = 2  # lines shown before and after the best line
_WORD = re.compile(r"[A-Za-z0-9_]{2,}")


def terms_of(query: str) -> list[str]:
    """The query's words, lowercased, each once, in order."""
    return list(dict.fromkeys(w.lower() for w in _WORD.findall(query)))


def search(
    root: Path,
    rules: IgnoreRules,
    max_bytes: int | SizeLimit,
    paths: list[str],
    query: str,
    k: int,
    language: str | None = None,
    path_glob: re.Pattern[str] | None = None,
) -> dict[str, Any]:
    """Hits for `query` in `paths` (blocking): {"results", "searched": the paths looked in,
    "partial": stopped by a budget}."""
    terms = terms_of(query)
    if not terms:
        return {"results": [], "searched": [], "partial": False}
    phrase = " ".join(query.lower().split())
    need = 1 if len(terms) == 1 else math.ceil(len(terms) / 2)
    hits: list[dict[str, Any]] = []
    looked: list[str] = []  # the files searched
    started, read, partial = time.monotonic(), 0, False
    for path in paths:
        if path.endswith(".ipynb") or path.startswith(protocol.NOTES_PREFIX):
            continue  # a notebook's JSON lines are not its cells' lines; notes are not files
        if language is not None and language_of(path) not in (language, "c"):
            continue  # (a `.h` file is C or C++ by its text)
        if path_glob is not None and not path_glob.match(path):
            continue
        if read > MAX_BYTES or time.monotonic() - started > BUDGET_S:
            partial = True
            break
        content = read_text(root, path, max_bytes, rules)
        if content.text is None or content.skip:
            continue
        if language is not None and language_of(path, content.text) != language:
            continue
        read += len(content.text)
        looked.append(path)
        hits.extend(_windows(path, content.text, terms, phrase, need))
    hits.sort(key=lambda h: (-h["score"], h["path"], h["start_line"]))
    return {"results": hits[:k], "searched": looked, "partial": partial}


def _windows(
    path: str, text: str, terms: list[str], phrase: str, need: int
) -> list[dict[str, Any]]:
    """The file's best lines for the terms, each with CONTEXT lines around it."""
    lower = text.lower()
    starts = [0] + [m.end() for m in re.finditer("\n", lower)]
    found: dict[int, set[str]] = {}  # line index -> the terms on it
    for term in terms:
        at = lower.find(term)
        while at >= 0:
            found.setdefault(bisect.bisect_right(starts, at) - 1, set()).add(term)
            at = lower.find(term, at + len(term))
    if not found:
        return []
    lines = text.split("\n")
    scored = []
    for line, on in found.items():
        if len(on) < need:
            continue
        score = len(on) / len(terms)
        if len(terms) > 1 and phrase in " ".join(lines[line].lower().split()):
            score += 0.5  # the words in the query's order
        scored.append((score, line))
    scored.sort(key=lambda s: (-s[0], s[1]))
    taken: list[int] = []
    out = []
    for score, line in scored:
        if len(taken) == PER_FILE:
            break
        if any(abs(line - other) <= 2 * CONTEXT for other in taken):
            continue  # within the window of a better line
        taken.append(line)
        first, last = max(0, line - CONTEXT), min(len(lines) - 1, line + CONTEXT)
        window = "\n".join(lines[first : last + 1])
        out.append(
            {
                "path": path,
                "start_line": first + 1,
                "end_line": last + 1,
                "symbol": None,
                "kind": None,
                "language": language_of(path, text),
                "snippet": window,
                "score": round(score / 1.5, 6),
                "text": window,
                "unindexed": True,
            }
        )
    return out


class PendingFiles:
    """The catalog's pending files, searched by words for a search request."""

    def __init__(
        self, root: Path, rules: IgnoreRules, catalog: Catalog, max_bytes: int | SizeLimit
    ) -> None:
        self.root = root
        self.rules = rules
        self.catalog = catalog
        self.max_bytes = max_bytes
        # set by the indexer once its first scan is in the catalog: until then the catalog
        # may not know the files yet, and a search waits for it (briefly)
        self.scanned: asyncio.Event | None = None

    async def search(self, request: dict[str, Any]) -> dict[str, Any] | None:
        """Hits in the files the index does not hold yet; None when there are none to look
        in, or the request asks what words cannot answer (meaning alone, a kind of chunk)."""
        if request["mode"] == "vector" or request.get("kind"):
            return None
        if self.scanned is not None and not self.scanned.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.scanned.wait(), SCAN_WAIT_S)
        paths = await self.catalog.take("pending", MAX_FILES)
        if not paths:
            return None
        return await asyncio.get_running_loop().run_in_executor(
            None,
            search,
            self.root,
            self.rules,
            self.max_bytes,
            paths,
            request["q"],
            request["k"],
            request.get("language"),
            protocol.path_glob(request.get("path")),
        )
