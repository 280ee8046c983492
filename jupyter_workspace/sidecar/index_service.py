"""The sidecar's index service: chunk → embed → store, and search, for the coordinator.

Configured through the environment the coordinator launches the sidecar with (see
`protocol.INDEX_*`). All methods block: the HTTP handlers run them on worker threads.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from .. import protocol
from ..entity_patterns import DEFAULT_PATTERNS
from .chunk_store import KEEP_VERSIONS, ChunkIndex, Filters
from .chunker import Chunk, chunk_file, language_of, parse
from .detect import extract
from .overlay import BaseSource, OverlayIndex, text_sha256
from .ranking import DEFINITION_KINDS

log = logging.getLogger(__name__)

MAX_FILE_CHARS = 32_000_000  # a guard: the coordinator sends no file over its size limits
# A batch with at most this many new chunks is embedded before it is written (a save is
# searchable by meaning at once); a bigger one is written first and embedded behind, so
# full-text search answers within seconds of a cold start while vectors fill in.
INLINE_EMBED = 48
EMBED_BATCH = 64  # chunks per background embedding step
OPTIMIZE_EVERY = 60.0  # seconds of background embedding between compactions
OPTIMIZE_WRITES = 200  # ... or this many table commits, whichever comes first
# Definitions reported per file for the coordinator's symbol table (the type-ahead of `@` and
# Go to Symbol); a generated file with more is cut, its chunks are still searchable.
MAX_SYMBOLS = 2000
# Compactions at most this often: the coordinator asks for one whenever its queue empties,
# which under autosaves was after nearly every batch (each one rewrote the full-text index,
# cost CPU the searches waited for, and left a version). One asked for sooner is made by the
# worker when the gap has passed.
OPTIMIZE_GAP = 10.0
CLEANUP_PASSES = 2  # after a compaction, once its kept versions are old: see `_cleanup`


class IndexService:
    def __init__(
        self,
        uri: str,
        model: str,
        backend: str,
        cache_dir: Path | None,
        base: BaseSource | None = None,
        root: Path | None = None,
    ) -> None:
        self.uri = uri
        self.model = model
        self.backend = backend
        self.cache_dir = cache_dir
        # a shared base index opened read-only, `uri` then holding the local overlay
        # (overlay.py); `root`: the user's tree, to see which base files it still has
        self.base = base
        self.root = root
        self.embedder: Any = None
        self.index: ChunkIndex | None = None
        self.embed_calls = 0  # texts embedded since start (tests check unchanged files cost 0)
        self.inline_embed = INLINE_EMBED
        self.patterns: dict[str, str] = dict(DEFAULT_PATTERNS)
        self._work = threading.Condition()
        self._worker: threading.Thread | None = None
        self._closed = False
        self._optimized_at = -OPTIMIZE_GAP  # monotonic time of the last compaction
        # when the versions a compaction left (kept `KEEP_VERSIONS` for readers) may go
        self._cleanup_at: float | None = None
        self._cleanups_left = 0
        self.embed_error: str | None = None
        # the full-text half of a hybrid search runs here while the query is embedded
        self._text_pool = ThreadPoolExecutor(1, thread_name_prefix="index-text")

    @classmethod
    def from_environment(cls) -> IndexService | None:
        uri = os.environ.get(protocol.INDEX_URI_ENV)
        if not uri:
            return None
        cache = os.environ.get(protocol.MODEL_CACHE_ENV)
        base = None
        if base_uri := os.environ.get(protocol.BASE_INDEX_URI_ENV):
            options = json.loads(os.environ.get(protocol.BASE_INDEX_OPTIONS_ENV) or "{}")
            base = BaseSource(base_uri, protocol.check_storage_options(options))
        root = os.environ.get(protocol.INDEX_ROOT_ENV)
        service = cls(
            uri,
            os.environ.get(protocol.EMBEDDING_MODEL_ENV, "all-MiniLM-L6-v2"),
            os.environ.get(protocol.EMBEDDING_BACKEND_ENV, "auto"),
            Path(cache) if cache else None,
            base=base,
            root=Path(root) if root else None,
        )
        service.inline_embed = int(os.environ.get(protocol.INLINE_EMBED_ENV) or INLINE_EMBED)
        if patterns := os.environ.get(protocol.ENTITY_PATTERNS_ENV):
            service.patterns = json.loads(patterns)
        return service

    def load(self) -> dict[str, Any]:
        """Open the index and load the embedding model (blocking: tests, the headless indexer).
        The sidecar calls the two halves itself: `open_early`, then `load_model`."""
        self.open_early()
        return self.load_model()

    def open_early(self) -> dict[str, Any] | None:
        """Open the index before the embedding model loads, when the model it will be filled
        for is known without loading it (`expected_model`): full-text search and writes
        (text first, vectors pending) work at once, and the model's load (seconds; an ONNX
        export on first use) no longer stands between a server's start and its first search.
        None when it must wait for the model (a remote backend and no index of it yet)."""
        expected = expected_model(self.model, self.backend, self.uri)
        if expected is None and self.base is not None and ":" in self.backend:
            # a remote model's dimension, from the base built with it
            model = self.base.model()
            expected = model if model is not None and model[0] == self.backend else None
        if expected is None:
            return None
        model_id, dim = expected
        index = self._new_index(model_id, dim)
        index.open()
        self.index = index
        return self.info(vectors="loading")

    def load_model(self) -> dict[str, Any]:
        """Load the embedding model; open the index now if `open_early` could not, or open it
        afresh if the model loaded is not the one it was opened for (`auto` fell back to
        torch: the vectors would not compare). Then start filling in vectors."""
        from .embedder import load_embedder

        started = time.monotonic()
        embedder = load_embedder(self.model, self.backend, self.cache_dir)
        index = self.index
        if index is None or (index.model_id, index.dim) != (embedder.model_id, embedder.dim):
            if index is not None:
                log.warning(
                    "the index was opened for %s, the model loaded is %s: opening it afresh",
                    index.model_id,
                    embedder.model_id,
                )
            fresh = self._new_index(embedder.model_id, embedder.dim)
            fresh.open()
            fresh.rebuilt = fresh.rebuilt or (index is not None and index.rebuilt)
            self.index = fresh
        self.embedder = embedder
        self._worker = threading.Thread(target=self._embed_loop, name="index-embedder", daemon=True)
        self._worker.start()
        with self._work:  # rows written while the model loaded wait for their vectors
            self._work.notify_all()
        return {**self.info(vectors="ready"), "seconds": time.monotonic() - started}

    def _new_index(self, model_id: str, dim: int) -> ChunkIndex:
        if self.base is None:
            return ChunkIndex(self.uri, model_id, dim)
        return OverlayIndex(self.uri, model_id, dim, self.base, self.root)

    def info(self, vectors: str) -> dict[str, Any]:
        """What the coordinator learns of the open index (the sidecar's /health `index`)."""
        assert self.index is not None
        answer = {
            "model_id": self.index.model_id,
            "rebuilt": self.index.rebuilt,
            "index_id": self.index.identity,
            "vectors": vectors,
        }
        if (base := self.base_status()) is not None:
            answer["base"] = base
        return answer

    def base_status(self) -> dict[str, Any] | None:
        """The base index and the overlay (counts change as files come and go), or None."""
        index = self.index
        return index.describe() if isinstance(index, OverlayIndex) else None

    def stats(self, paths: bool = False) -> dict[str, Any]:
        assert self.index is not None
        answer = {
            "model_id": self.index.model_id,
            "chunks": self.index.chunk_count,
            "embedded": self.embed_calls,
            "vectors_pending": self.index.pending_count,
            "embed_error": self.embed_error,
        }
        if (base := self.base_status()) is not None:
            answer["base"] = base
        if paths:
            answer["paths"] = sorted(self.index.paths())
        return answer

    def close(self) -> None:
        with self._work:
            self._closed = True
            self._work.notify_all()
        self._text_pool.shutdown(wait=False)

    def index_files(self, files: list[dict[str, Any]]) -> dict[str, Any]:
        """Chunk and embed a batch of files and make them their paths' whole content."""
        assert self.index is not None
        started = time.monotonic()
        results: list[dict[str, Any]] = []
        pending: list[tuple[str, str, list[Chunk]]] = []
        found: dict[str, dict[str, Any]] = {}
        overlay = self.index if isinstance(self.index, OverlayIndex) else None
        from_base: list[str] = []  # files whose content is the base's: nothing to write
        for item in files:
            path, text = item["path"], item["text"]
            same = overlay is not None and overlay.matches_base(path, text_sha256(text))
            text = text[:MAX_FILE_CHARS]
            language = item.get("language") or language_of(path, text)
            try:
                tree = parse(text, language)
                chunks = chunk_file(path, text, language, tree=tree)
            except Exception as e:  # one bad file never stops the batch
                log.warning("cannot chunk %s: %s", path, e)
                results.append(
                    {
                        "path": path,
                        "language": language,
                        "chunks": 0,
                        "error": f"chunking failed: {e}",
                    }
                )
                continue
            found[path] = self._extract(path, text, language, tree)
            if same:
                from_base.append(path)
                results.append({**indexed(path, language, chunks, found[path]), "base": True})
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
        inline = (
            self.embedder is not None
            and len(texts) <= self.inline_embed
            and not self.index.pending_count
        )
        fresh = self._embed(texts) if texts and inline else None
        total = 0
        writes = []
        for path, language, chunks, slots in plans:
            vectors = np.zeros((len(chunks), self.index.dim), dtype=np.float32)
            for i, slot in enumerate(slots):
                if not isinstance(slot, int):
                    vectors[i] = slot
                elif fresh is not None:
                    vectors[i] = fresh[slot]
            writes.append((path, chunks, vectors))
            total += len(chunks)
            results.append(indexed(path, language, chunks, found[path]))
        self.index.replace_many(writes)
        if overlay is not None and from_base:
            overlay.show_base(from_base)
            total += sum(r["chunks"] for r in results if r.get("base"))
        with self._work:  # vectors to fill behind, or a compaction to plan
            self._work.notify_all()
        answer = {
            "files": results,
            "chunks": total,
            "embedded": len(texts) if inline else 0,
            "vectors_pending": self.index.pending_count,
            "seconds": round(time.monotonic() - started, 4),
        }
        if (base := self.base_status()) is not None:
            answer["base"] = base
        return answer

    def _extract(self, path: str, text: str, language: str, tree: Any) -> dict[str, Any]:
        """Tasks and entity mentions: never fails the file (its chunks still count)."""
        try:
            return extract(path, text, language, tree, self.patterns)
        except Exception as e:
            log.warning("cannot extract tasks and entities from %s: %s", path, e)
            return {
                "tasks": [],
                "tasks_total": 0,
                "mentions": [],
                "extract_error": f"{type(e).__name__}: {e}",
            }

    def _embed(self, texts: list[str]) -> np.ndarray:
        vectors = self.embedder.embed(texts)
        self.embed_calls += len(texts)
        return vectors

    # -- vectors behind the text -------------------------------------------------------------
    def _embed_loop(self) -> None:
        """Give vectors to the rows written without them, a few files at a time; compact the
        table now and then (each rewrite adds a fragment and a version): once the backlog
        empties, every `OPTIMIZE_EVERY` s or `OPTIMIZE_WRITES` commits while it lasts, never
        twice within `OPTIMIZE_GAP` s."""
        assert self.index is not None
        while True:
            with self._work:
                while not (
                    self._closed
                    or self.index.pending_count
                    or self._optimize_due()
                    or self._cleanup_due()
                ):
                    self._work.wait(self._optimize_wait())
                if self._closed:
                    return
            if self._optimize_due():
                self._optimize()
            elif self._cleanup_due():
                self._cleanup()
            if not self.index.pending_count:
                continue
            try:
                self._embed_step()
                self.embed_error = None
            except Exception as e:  # keep the worker alive; retry later
                log.exception("background embedding failed")
                self.embed_error = f"{type(e).__name__}: {e}"
                time.sleep(5.0)

    def _optimize_due(self) -> bool:
        """Whether to compact now: new commits, the gap passed, and the backlog empty or big
        (full-text search slows with every unindexed fragment: bench/results/index.md)."""
        assert self.index is not None
        writes = self.index.writes_since_optimize
        since = time.monotonic() - self._optimized_at
        return (
            bool(writes)
            and since >= OPTIMIZE_GAP
            and (
                not self.index.pending_count or since >= OPTIMIZE_EVERY or writes >= OPTIMIZE_WRITES
            )
        )

    def _optimize_wait(self) -> float:
        """How long the idle worker may sleep before a compaction or a cleanup falls due."""
        assert self.index is not None
        now = time.monotonic()
        wait = 5.0
        if self.index.writes_since_optimize:
            wait = OPTIMIZE_GAP - (now - self._optimized_at)
        if self._cleanup_at is not None:
            wait = min(wait, self._cleanup_at - now)
        return max(0.05, wait)

    def _optimize(self) -> None:
        assert self.index is not None
        self._optimized_at = time.monotonic()
        self.index.optimize()
        # The compaction keeps the versions of the last `KEEP_VERSIONS` (a query in flight
        # may read one), and with them the files it replaced: without later passes they stay
        # until the next write, 2.1x the compacted size after a cold index (bench_disk.py).
        self._cleanups_left = CLEANUP_PASSES
        self._cleanup_at = time.monotonic() + KEEP_VERSIONS.total_seconds() + 1.0

    def _cleanup_due(self) -> bool:
        return self._cleanup_at is not None and time.monotonic() >= self._cleanup_at

    def _cleanup(self) -> None:
        """Remove the versions the last compaction had to keep, now that they are old. LanceDB
        (without pylance) removes versions only as part of an optimize, which makes a version
        of its own: the second pass removes the one the first left beside it."""
        assert self.index is not None
        self._cleanups_left -= 1
        self._cleanup_at = (
            time.monotonic() + KEEP_VERSIONS.total_seconds() + 1.0
            if self._cleanups_left > 0
            else None
        )
        self.index.optimize()

    def _embed_step(self) -> None:
        """One batch: the pending chunks of a few files embedded in one call, written back in
        one delete + one add (per-file writes cost more than the embedding saved)."""
        assert self.index is not None
        plans = []
        texts: list[str] = []
        for path, generation, chunks in self.index.pending(EMBED_BATCH):
            known = self.index.known_vectors(path)
            vectors = np.zeros((len(chunks), self.embedder.dim), dtype=np.float32)
            slots = []
            for i, chunk in enumerate(chunks):
                vector = known.get((chunk.kind, chunk.symbol, chunk.text))
                if vector is None:
                    slots.append((i, len(texts)))
                    texts.append(chunk.embedding_text())
                else:
                    vectors[i] = vector
            plans.append((path, generation, vectors, slots))
        fresh = self._embed(texts) if texts else None
        for _, _, vectors, slots in plans:
            for i, at in slots:
                assert fresh is not None  # a slot to fill means a text was embedded
                vectors[i] = fresh[at]
        self.index.fill_many(
            [(path, generation, vectors) for path, generation, vectors, _ in plans]
        )

    def wait_vectors(self, timeout: float) -> bool:
        """Block until every row has its vector (benchmarks, tests); False on timeout."""
        assert self.index is not None
        deadline = time.monotonic() + timeout
        with self._work:
            while self.index.pending_count:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._work.wait(min(left, 0.2))
        return True

    def optimize(self) -> dict[str, Any]:
        """Fold the rows written since the last call into the full-text index and compact the
        table: every write adds a fragment, and a full-text query over many unindexed
        fragments gets slow (bench/results/index.md: ~1 s at 100k rows in 200 fragments, 5 ms
        after)."""
        assert self.index is not None
        started = time.monotonic()
        self._optimize()
        return {"seconds": round(time.monotonic() - started, 3)}

    def optimize_soon(self) -> dict[str, Any]:
        """`optimize`, as the coordinator asks for it whenever its queue empties: nothing when
        nothing was written since the last one, and within `OPTIMIZE_GAP` s of it, left to the
        worker for when the gap has passed (`deferred`)."""
        assert self.index is not None
        if not self.index.writes_since_optimize:
            return {"seconds": 0.0}
        if time.monotonic() - self._optimized_at < OPTIMIZE_GAP:
            with self._work:
                self._work.notify_all()
            return {"seconds": 0.0, "deferred": True}
        return self.optimize()

    def delete(self, paths: list[str]) -> dict[str, Any]:
        assert self.index is not None
        self.index.delete(paths)
        return {"deleted": len(paths), "chunks": self.index.chunk_count}

    def search(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.index is not None
        query = request["q"]
        mode = request.get("mode", "hybrid")
        if mode not in protocol.SEARCH_MODES:
            raise ValueError(f"mode must be one of {', '.join(protocol.SEARCH_MODES)}")
        filters = Filters(
            path=request.get("path"), language=request.get("language"), kind=request.get("kind")
        )
        k = int(request.get("k", 10))
        # the full-text half runs while the query is embedded and the vectors ranked (all
        # three release the GIL)
        text = (
            self._text_pool.submit(self.index.text_search, query, self.index.pool(k), filters)
            if mode in ("hybrid", "text")
            else None
        )
        embedder = self.embedder
        index = self.index
        # until the model is loaded, or while no row has its vector yet, a search is by words
        # only (the answer says so: the Search panel tells the user meaning is coming)
        words_only = mode != "vector" and (
            embedder is None or index.pending_count >= index.chunk_count > 0
        )
        vector = (
            embedder.embed([query])[0]
            if embedder is not None and mode in ("hybrid", "vector")
            else None
        )
        if mode == "vector" and vector is None:
            raise ModelLoading("the embedding model is still loading: search by words meanwhile")
        results = index.search(query, vector, k, mode, filters, text_hits=text)
        answer: dict[str, Any] = {"results": results}
        if words_only:
            answer["words_only"] = True
        return answer


class ModelLoading(Exception):
    """A request that needs the embedding model, made while it loads (a 503, not a 400)."""


def expected_model(model: str, backend: str, uri: str) -> tuple[str, int] | None:
    """(model_id, dim) of the embedder `load_embedder(model, backend)` will give, without
    loading it, or None when only loading can tell. A local sentence-transformers model says
    its dimension in its files; a remote one is known only from an index built with it before
    (its meta file). `auto` is expected to be onnx-int8 when onnxruntime is installed: if the
    export fails and it falls back to torch, `load_model` opens the index afresh."""
    import importlib.util

    from .chunk_store import META_FILE
    from .embedder.spec import EmbedderError, resolve_model

    if ":" in backend:  # litellm:<model>, openai:<model>
        model_id = backend  # what those embedders call themselves
        try:
            meta = json.loads((Path(uri) / META_FILE).read_text())
        except (OSError, ValueError):
            return None
        if meta.get("model_id") == model_id and isinstance(meta.get("dim"), int):
            return model_id, meta["dim"]
        return None
    try:
        spec = resolve_model(model)
    except EmbedderError:
        return None  # load_model says why
    if backend == "auto":
        backend = "onnx-int8" if importlib.util.find_spec("onnxruntime") else "torch"
    suffix = {"onnx-int8": "onnx-int8", "onnx-fp32": "onnx-fp32", "torch": "torch-fp32"}
    if backend not in suffix:
        return None
    dim = _model_dim(spec.path)
    return (f"{spec.name}/{suffix[backend]}", dim) if dim else None


def _model_dim(path: Path) -> int | None:
    """The sentence vector's size from a sentence-transformers folder: the pooling layer's
    `word_embedding_dimension`, unless a Dense layer after it changes it."""
    try:
        modules = json.loads((path / "modules.json").read_text())
        dim = None
        for module in modules:
            kind = module.get("type", "")
            if kind.endswith(".Dense"):
                return None
            if kind.endswith(".Pooling"):
                config = json.loads((path / module.get("path", "") / "config.json").read_text())
                dim = int(config["word_embedding_dimension"])
        return dim
    except (OSError, ValueError, KeyError, TypeError):
        return None


def indexed(
    path: str, language: str, chunks: list[Chunk], extracted: dict[str, Any]
) -> dict[str, Any]:
    """What `index_files` answers for a file it chunked: its definitions and extractions."""
    return {
        "path": path,
        "language": language,
        "chunks": len(chunks),
        "error": None,
        "symbols": definitions(chunks),
        **extracted,
    }


def definitions(chunks: list[Chunk]) -> list[list[Any]]:
    """The file's definitions as `[symbol, kind, start_line, end_line, cell]`, one per symbol:
    the windows of a long definition are one, spanning them all."""
    found: dict[tuple[str, str, int], list[Any]] = {}
    for chunk in chunks:
        if not chunk.symbol or chunk.kind not in DEFINITION_KINDS:
            continue
        key = (chunk.symbol, chunk.kind, chunk.cell)
        known = found.get(key)
        if known is None:
            if len(found) < MAX_SYMBOLS:
                found[key] = [
                    chunk.symbol,
                    chunk.kind,
                    chunk.start_line,
                    chunk.end_line,
                    chunk.cell,
                ]
        else:
            known[2], known[3] = min(known[2], chunk.start_line), max(known[3], chunk.end_line)
    return list(found.values())
