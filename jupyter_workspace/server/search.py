"""Search: validate the query, ask the sidecar's index, return hits with file:line."""

from __future__ import annotations

import itertools
import re
import time
from typing import Any

from .. import protocol
from . import fields
from .errors import BadRequest, Unavailable
from .sidecar_client import SidecarGone, SidecarRefused
from .supervisor import Supervisor
from .unindexed import PendingFiles

MAX_QUERY_CHARS = 1000
MAX_K = 100
_NAME = re.compile(r"[A-Za-z0-9_+#.\-]{1,40}")


def parse_query(args: dict[str, str | None]) -> dict[str, Any]:
    """The search request from URL parameters, or a BadRequest saying what is wrong."""
    q = args.get("q")
    if q is None or not q.strip():
        raise BadRequest("'q' is required: what to search for")
    q = fields.text(q, "q", max_chars=MAX_QUERY_CHARS, strip=True)
    k = fields.whole_number(args.get("k") or None, "k", default=10, minimum=1, maximum=MAX_K)
    mode = args.get("mode") or "hybrid"
    if mode not in protocol.SEARCH_MODES:
        raise BadRequest(f"'mode' must be one of {', '.join(protocol.SEARCH_MODES)}")
    request: dict[str, Any] = {"q": q, "k": k, "mode": mode}
    for name, key in (("lang", "language"), ("kind", "kind")):
        value = args.get(name)
        if value:
            if not _NAME.fullmatch(value):
                raise BadRequest(f"'{name}' must be a language or kind name such as 'python'")
            request[key] = value
    path = args.get("path")
    if path:
        path = fields.text(path, "path", max_chars=500, strip=True)
        if path.startswith("/") or ".." in path.split("/"):
            raise BadRequest("'path' is a glob relative to the served root, e.g. src/**/*.c")
        request["path"] = path
    return request


class SearchManager:
    def __init__(self, supervisor: Supervisor, pending: PendingFiles | None = None) -> None:
        self.supervisor = supervisor
        self.pending = pending  # files the index does not hold yet, searched by words

    async def search(self, args: dict[str, str | None]) -> dict[str, Any]:
        request = parse_query(args)
        started = time.monotonic()
        answer = await self._gather(request)
        results = answer.get("results", [])
        for hit in results:
            hit.pop("text", None)
        found: dict[str, Any] = {
            "results": results,
            "query": request,
            "took_ms": round((time.monotonic() - started) * 1000, 1),
        }
        for key in ("words_only", "unindexed", "index_unavailable"):
            if answer.get(key):
                found[key] = answer[key]
        return found

    async def raw(self, request: dict[str, Any]) -> list[dict[str, Any]]:
        """Hits with their full chunk text (for grounding chat)."""
        return (await self._gather(request)).get("results", [])

    async def _gather(self, request: dict[str, Any]) -> dict[str, Any]:
        """The index's answer, with the files it does not hold yet searched by words: on a
        fresh folder those are all of them, and hits come before the sidecar is up."""
        extra = await self.pending.search(request) if self.pending is not None else None
        try:
            answer = await self._ask(request)
        except Unavailable as e:
            if extra is None:
                raise
            # words from the files themselves, and why the index did not answer
            answer = {"results": [], "words_only": True, "index_unavailable": e.message}
        if extra is None:
            return answer
        looked = set(extra["searched"])
        # an indexed version of a file read afresh here is older: its hits give way
        indexed = [hit for hit in answer.get("results", []) if hit["path"] not in looked]
        merged = [
            hit
            for pair in itertools.zip_longest(indexed, extra["results"])
            for hit in pair
            if hit is not None
        ]  # alternating: the two scores are not on one scale
        answer["results"] = merged[: request["k"]]
        # `words_only` stays the index's own: with its model loaded its hits are by meaning
        answer["unindexed"] = {"files": len(looked), "partial": extra["partial"]}
        return answer

    async def _ask(self, request: dict[str, Any]) -> dict[str, Any]:
        client = self.supervisor.client
        if self.supervisor.state != "ready" or client is None:
            raise Unavailable(
                f"search unavailable: the AI sidecar is {self.supervisor.state}"
                + (f" ({self.supervisor.error})" if self.supervisor.error else ""),
                sidecar=self.supervisor.describe(),
            )
        try:
            answer = await client.call("POST", "/search", request, timeout=30)
        except SidecarRefused as e:
            if e.status == 400:
                raise BadRequest(e.message) from None
            raise Unavailable(f"search unavailable: {e.message}") from None
        except SidecarGone as e:
            raise Unavailable(f"search unavailable: {e}") from None
        return answer
