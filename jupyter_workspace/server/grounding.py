"""Grounding chat in the workspace: retrieve passages for a question, cite them.

Each question is searched in the index (hybrid), plus `@path` and `@symbol` mentions; the
passages go into the prompt with their file:line, and the model is asked to cite them as
`[path:line]`. With no LLM reachable, the passages themselves are the (clearly labelled) answer.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import WorkspaceError
from .search import SearchManager

MENTION = re.compile(r"(?<![\w@])@([\w][\w./\-]*)")
NOTE_MENTION = re.compile(r"notes/\d+")
BACKTICKS = re.compile(r"`+")
MAX_CONTEXT_CHARS = 6000
PASSAGES = 6


def source_of(hit: dict[str, Any]) -> dict[str, Any]:
    source = {
        key: hit.get(key)
        for key in ("path", "start_line", "end_line", "symbol", "kind", "language")
    }
    if hit.get("cell") is not None:  # a notebook's cell (lines count from its start)
        source["cell"] = hit["cell"]
    return source


async def retrieve(search: SearchManager, question: str) -> list[dict[str, Any]]:
    """Passages for a question: mentioned files and symbols first, then the best matches."""
    requests: list[tuple[dict[str, Any], str | None]] = []
    for mention in dict.fromkeys(MENTION.findall(question)):
        mention = mention.rstrip(".,;:")
        if NOTE_MENTION.fullmatch(mention):  # `@notes/3`: that note (`[@]`: no `*` appended)
            path = f"[@]{mention}"
            requests.append(({"q": question[:1000], "k": 3, "mode": "hybrid", "path": path}, None))
        elif "/" in mention or "." in mention:
            requests.append(
                ({"q": question[:1000], "k": 3, "mode": "hybrid", "path": mention}, None)
            )
        else:
            requests.append(({"q": mention, "k": 5, "mode": "text"}, mention))
    requests.append(({"q": question[:1000], "k": PASSAGES, "mode": "hybrid"}, None))
    hits: list[dict[str, Any]] = []
    seen: set[tuple[str, int | None, int, int]] = set()
    for request, symbol in requests:
        try:
            found = await search.raw(request)
        except WorkspaceError:
            continue  # no index (yet): answer without context
        for hit in found:
            if symbol is not None and _short_name(hit.get("symbol") or "") != symbol:
                continue
            key = (hit["path"], hit.get("cell"), hit["start_line"], hit["end_line"])
            if key not in seen:
                seen.add(key)
                hits.append(hit)
    kept: list[dict[str, Any]] = []
    size = 0
    for hit in hits:
        size += len(hit.get("text") or "")
        if kept and size > MAX_CONTEXT_CHARS:
            break
        kept.append(hit)
    return kept[: PASSAGES + 4]


def _short_name(symbol: str) -> str:
    """`nav.Kalman::gain` → `gain`: what a user types after @."""
    return symbol.split(".")[-1].split("::")[-1]


def _label(hit: dict[str, Any]) -> str:
    path = hit["path"] if hit.get("cell") is None else f"{hit['path']} cell {hit['cell'] + 1}"
    where = f"{path}:{hit['start_line']}-{hit['end_line']}"
    return f"{where} ({hit['kind']} {hit['symbol']})" if hit.get("symbol") else where


def context_message(hits: list[dict[str, Any]]) -> dict[str, str]:
    parts = [
        "Passages from the user's workspace that may answer the question. Use them; cite "
        "each fact you take from them as [path:line]. If they do not answer the question, "
        "say so."
    ]
    for i, hit in enumerate(hits, 1):
        parts.append(
            f"[{i}] {_label(hit)}\n"
            + fence(hit.get("text") or hit.get("snippet") or "", hit.get("language"))
        )
    return {"role": "system", "content": "\n\n".join(parts)}


def retrieval_only_answer(hits: list[dict[str, Any]], question: str) -> str:
    """The passages as the answer, each cited once, as `[path:start-end]` of the lines it
    shows: the window of its chunk that best matches the question. Why no model answered is
    not written here: the message's `error` says it, once."""
    lines = [
        "**Retrieval-only answer** — the passages of the workspace that best match the question:",
        "",
    ]
    terms = query_terms(question)
    for i, hit in enumerate(hits, 1):
        start, end, text = passage(hit, terms)
        cell = f" cell {hit['cell'] + 1}" if hit.get("cell") is not None else ""
        what = f" ({hit['kind']} {hit['symbol']})" if hit.get("symbol") else ""
        lines.append(f"{i}. [{hit['path']}:{start}-{end}]{cell}{what}")
        lines.append(fence(text, hit.get("language")))
    return "\n".join(lines)


PASSAGE_LINES = 14  # lines of a chunk a retrieval-only answer shows
_IDENTIFIER = re.compile(r"[A-Za-z0-9_]+")
_PART = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
# the filler words of a question, which say nothing about where its answer is
STOPWORDS = frozenset(
    re.findall(
        r"\w+",
        "an and are as at be by can do does for from how in into is it its me my not of on or "
        "show tell that the this to was what when where which who why will with you",
    )
)


def _words(text: str) -> set[str]:
    """Identifiers and their parts, lower-cased and stemmed: `pidClamped`, `pid_clamp` →
    pid, clamp."""
    words: set[str] = set()
    for word in _IDENTIFIER.findall(text):
        words.add(_stem(word.lower()))
        words.update(
            _stem(part.lower()) for chunk in word.split("_") for part in _PART.findall(chunk)
        )
    return words


def _stem(word: str) -> str:
    """`clamped`, `clamps`, `clamping` → `clamp`: a question's words are seldom the code's."""
    for suffix in ("ing", "ed", "es", "e", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def query_terms(question: str) -> set[str]:
    """The words of a question that a line of code may hold, without its filler words."""
    filler = {_stem(word) for word in STOPWORDS}
    return {w for w in _words(question) if len(w) > 1 and w not in filler}


def passage(hit: dict[str, Any], terms: set[str]) -> tuple[int, int, str]:
    """(first line, last line, text) of the window of the hit's chunk holding the most query
    terms. A search snippet shows a chunk's first lines, where the line that answers is
    seldom found in a long function. Lines are the file's (a notebook cell's) numbers."""
    numbered = _numbered_lines(hit)
    best = 0
    if len(numbered) > PASSAGE_LINES:
        scores = [len(terms & _words(text)) for _, text in numbered]
        window = best_score = sum(scores[:PASSAGE_LINES])
        for at in range(1, len(numbered) - PASSAGE_LINES + 1):
            window += scores[at + PASSAGE_LINES - 1] - scores[at - 1]
            if window > best_score:
                best, best_score = at, window
        # the matching lines in the middle of the window, with context on both sides
        matching = [i for i in range(best, best + PASSAGE_LINES) if scores[i]]
        if matching:
            middle = (matching[0] + matching[-1]) // 2
            best = max(0, min(middle - PASSAGE_LINES // 2, len(numbered) - PASSAGE_LINES))
    shown = numbered[best : best + PASSAGE_LINES]
    known = [n for n, _ in shown if n is not None]
    start = known[0] if known else hit["start_line"]
    end = known[-1] if known else hit["end_line"]
    return start, end, "\n".join(text for _, text in shown)


def _numbered_lines(hit: dict[str, Any]) -> list[tuple[int | None, str]]:
    """The chunk's lines with their numbers; the `⋮` between the pieces of a hit that leaves
    lines out (see its `ranges`) has none."""
    text = hit.get("text") or hit.get("snippet") or ""
    ranges = hit.get("ranges") or [[hit["start_line"], hit["end_line"]]]
    numbered: list[tuple[int | None, str]] = []
    piece, line = 0, ranges[0][0]
    for text_line in text.split("\n"):
        if text_line == "⋮" and piece + 1 < len(ranges):
            piece += 1
            line = ranges[piece][0]
            numbered.append((None, text_line))
        else:
            numbered.append((line, text_line))
            line += 1
    return numbered


# what a connection error's text says, as a user would say it (first match wins)
_CONNECTION_CAUSES = (
    (("refused", "connect call failed", "errno 111"), "connection refused"),
    (
        ("name or service not known", "nodename nor servname", "name resolution", "getaddrinfo"),
        "unknown host",
    ),
    (("timed out", "timeout"), "timed out"),
    (("certificate", "sslerror", "ssl_error", "wrong version number"), "TLS error"),
)


def no_model_reason(kind: str | None, error: str | None, model: str, api_base: str | None) -> str:
    """Why no model answered, in one short line for the user: a provider's text (a raw
    exception, an `ssl:<ssl.SSLContext object at 0x…>`) says nothing they can act on."""
    where = api_base or f"the provider's address for {model}"
    if kind == "unreachable":
        text = (error or "").lower()
        cause = next(
            (name for needles, name in _CONNECTION_CAUSES if any(n in text for n in needles)),
            "no connection",
        )
        return f"No language model answered at {where} ({cause})"
    reasons = {
        "timeout": f"The language model at {where} did not answer in time",
        "auth": f"The LLM provider refused the API key for {model}",
        "not_found": f"The LLM provider does not know the model {model}",
        "rate_limit": f"The LLM provider is rate-limiting {model}",
    }
    return reasons.get(kind or "", f"No language model answered at {where}")


def fence(text: str, language: str | None = None) -> str:
    """`text` as a fenced code block that it cannot close: a file holding its own line of
    three backticks would otherwise end the fence and put the rest of the file in the
    markdown (as HTML a renderer may show)."""
    longest = max((len(run) for run in BACKTICKS.findall(text)), default=0)
    ticks = "`" * max(3, longest + 1)
    info = (language or "").replace("`", "")
    return f"{ticks}{info}\n{text}\n{ticks}"
