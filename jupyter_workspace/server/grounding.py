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


def retrieval_only_answer(hits: list[dict[str, Any]], reason: str) -> str:
    lines = [
        "**Retrieval-only answer** — no language model answered "
        f"({reason.rstrip('.')}). These are the most relevant passages in the workspace:",
        "",
    ]
    for i, hit in enumerate(hits, 1):
        lines.append(f"{i}. [{hit['path']}:{hit['start_line']}] {_label(hit)}")
        lines.append(fence(hit.get("snippet") or "", hit.get("language")))
    return "\n".join(lines)


def fence(text: str, language: str | None = None) -> str:
    """`text` as a fenced code block that it cannot close: a file holding its own line of
    three backticks would otherwise end the fence and put the rest of the file in the
    markdown (as HTML a renderer may show)."""
    longest = max((len(run) for run in BACKTICKS.findall(text)), default=0)
    ticks = "`" * max(3, longest + 1)
    info = (language or "").replace("`", "")
    return f"{ticks}{info}\n{text}\n{ticks}"
