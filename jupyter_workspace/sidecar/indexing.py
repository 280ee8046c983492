"""The sidecar's index service: chunk → embed → store, and search, for the coordinator.

Configured through the environment the coordinator launches the sidecar with (see
`protocol.INDEX_*`). All methods block: the HTTP handlers run them on worker threads.
"""

from __future__ import annotations

import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from .. import protocol
from .chunker import Chunk, chunk_file, language_of
from .index import MODES, ChunkIndex, Filters

log = logging.getLogger(__name__)

MAX_FILE_CHARS = 2_000_000


class IndexService:
    def __init__(self, uri: str, model: str, backend: str, cache_dir: Path | None) -> None:
        self.uri = uri
        self.model = model
        self.backend = backend
        self.cache_dir = cache_dir
        self.embedder: Any = None
        self.index: ChunkIndex | None = None
        self.embed_calls = 0  # texts embedded since start (tests check unchanged files cost 0)

    @classmethod
    def from_environment(cls) -> IndexService | None:
        uri = os.environ.get(protocol.INDEX_URI_ENV)
        if not uri:
            return None
        cache = os.environ.get(protocol.MODEL_CACHE_ENV)
        return cls(uri, os.environ.get(protocol.EMBEDDING_MODEL_ENV, "all-MiniLM-L6-v2"),
                   os.environ.get(protocol.EMBEDDING_BACKEND_ENV, "auto"),
                   Path(cache) if cache else None)

    def load(self) -> dict[str, Any]:
        from .embedder import load_embedder

        started = time.monotonic()
        self.embedder = load_embedder(self.model, self.backend, self.cache_dir)
        self.index = ChunkIndex(self.uri, self.embedder.model_id, self.embedder.dim)
        self.index.open()
        return {"model_id": self.embedder.model_id, "seconds": time.monotonic() - started,
                "rebuilt": self.index.rebuilt}

    def stats(self) -> dict[str, Any]:
        assert self.index is not None
        return {"model_id": self.embedder.model_id, "chunks": self.index.chunk_count,
                "paths": sorted(self.index.paths()), "embedded": self.embed_calls}

    def index_files(self, files: list[dict[str, Any]]) -> dict[str, Any]:
        """Chunk and embed a batch of files and make them their paths' whole content."""
        assert self.index is not None
        started = time.monotonic()
        results: list[dict[str, Any]] = []
        pending: list[tuple[str, str, list[Chunk]]] = []
        for item in files:
            path, text = item["path"], item["text"]
            language = item.get("language") or language_of(path)
            try:
                chunks = chunk_file(path, text[:MAX_FILE_CHARS], language)
            except Exception as e:  # noqa: BLE001 - one bad file never stops the batch
                log.warning("cannot chunk %s: %s", path, e)
                results.append({"path": path, "language": language, "chunks": 0,
                                "error": f"chunking failed: {e}"})
                continue
            pending.append((path, language, chunks))
        # Reuse the vectors of chunks that did not change; embed the rest in one batch.
        plans: list[tuple[str, str, list[Chunk], list[Any]]] = []
        texts: list[str] = []
        for path, language, chunks in pending:
            known = self.index.known_vectors(path)
            slots: list[Any] = []
            for chunk in chunks:
                vector = known.get((chunk.kind, chunk.symbol, chunk.text))
                if vector is None:
                    slots.append(len(texts))
                    texts.append(chunk.embedding_text())
                else:
                    slots.append(vector)
            plans.append((path, language, chunks, slots))
        fresh = self.embedder.embed(texts) if texts else None
        self.embed_calls += len(texts)
        total = 0
        for path, language, chunks, slots in plans:
            rows = [fresh[slot] if isinstance(slot, int) else slot for slot in slots]
            vectors = np.stack(rows).astype(np.float32) if rows else _empty(self)
            self.index.replace(path, chunks, vectors)
            total += len(chunks)
            results.append({"path": path, "language": language, "chunks": len(chunks),
                            "error": None})
        return {"files": results, "chunks": total, "embedded": len(texts),
                "seconds": round(time.monotonic() - started, 4)}

    def optimize(self) -> dict[str, Any]:
        """Fold the rows written since the last call into the full-text index and compact the
        table: every write adds a fragment, and a full-text query over many unindexed
        fragments gets slow (bench/README.md: ~1 s at 100k rows in 200 fragments, 5 ms after)."""
        assert self.index is not None
        started = time.monotonic()
        self.index.optimize()
        return {"seconds": round(time.monotonic() - started, 3)}

    def delete(self, paths: list[str]) -> dict[str, Any]:
        assert self.index is not None
        self.index.delete(paths)
        return {"deleted": len(paths), "chunks": self.index.chunk_count}

    def search(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.index is not None
        query = request["q"]
        mode = request.get("mode", "hybrid")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}")
        vector = None
        if mode in ("hybrid", "vector"):
            vector = self.embedder.embed([query])[0]
        filters = Filters(path=request.get("path"), language=request.get("language"),
                          kind=request.get("kind"))
        results = self.index.search(query, vector, int(request.get("k", 10)), mode, filters)
        return {"results": results}


def _empty(service: IndexService) -> Any:
    return np.zeros((0, service.embedder.dim), dtype=np.float32)
