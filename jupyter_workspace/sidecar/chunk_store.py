"""The chunk index: LanceDB on disk (durable rows + full-text index), vectors mirrored in memory.

LanceDB keeps every chunk with its vector, text, path, lines, symbol, kind and language, and
answers full-text queries from its native FTS index (rows added since the index was built are
searched too). Vector search runs on an in-memory float32 matrix: brute force over 100k x 384
is a ~40 MFLOP product, milliseconds here, where LanceDB without an ANN index takes ~300 ms
(shared/FACTS.md). Hybrid search fuses both rankings with reciprocal rank fusion.

Rows can be written before their vectors exist (a zero vector: real embeddings are unit length),
so full-text search answers while the embedder catches up; `pending()` / `fill()` are how the
sidecar's embedding worker finds and completes them. A zero vector on disk is also how a restart
knows which rows still wait.

The mirror is slot-based: a row keeps its slot until its path is rewritten or deleted, freed
slots are reused, and the filter columns are small-integer codes, so a write costs what it
touches, not the size of the index.

Under sustained writes (bench/bench_soak.py): a batch of files is one delete and one add, so
two table versions however many files it holds; `optimize` prunes the versions older than
`KEEP_VERSIONS`, so the versions on disk stay bounded; and full-text queries go through a
second handle of the table, since LanceDB makes a query on a handle wait for an optimize on
the same handle (measured: a search waited 2.4 s behind a 2.5 s optimize, none did on a
second handle).
"""

from __future__ import annotations

import fnmatch
import json
import logging
import re
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from . import ranking
from .chunker import Chunk
from .terms import terms

log = logging.getLogger(__name__)

TABLE = "chunks"
META_FILE = "index-meta.json"
# Bump when the chunker, the terms or the table's columns change what is stored: an index of
# another format is dropped and rebuilt (the coordinator re-sends every file).
INDEX_FORMAT = 3
COLUMNS = ("path", "language", "kind", "symbol", "start_line", "end_line", "text", "names", "cell")
CODED = ("path", "language", "kind")  # filter columns kept as integer codes
# (path, start_line, end_line, cell): how a full-text hit finds its row
Key = tuple[str, int, int, int]
# Versions older than this are pruned by `optimize`. Only this process uses the table; a
# query in flight reads the version it started on, which is newer than this unless nothing
# was written for a while (then `text_search` tries once more, on the newest version).
KEEP_VERSIONS = timedelta(seconds=10)
# LanceDB's caches (index pages, manifests) default to gigabytes, and every write and optimize
# adds entries for its new version, which stay until the cache is full: the cap is growth the
# sidecar keeps. Under bench_soak.py's note writes (in-process, 200 s) the caches grew 6 → 24
# MiB at 64 + 16 MiB and RSS +24 MiB; at 16 + 8 MiB they held 15 MiB and RSS grew +10. The
# working set at 100k rows is ~10 MiB (bench/results/index.md), so queries still hit the cache.
INDEX_CACHE_BYTES = 16 * 1024 * 1024
METADATA_CACHE_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class Filters:
    path: str | None = None  # glob on the root-relative path; `**` crosses folders
    language: str | None = None
    kind: str | None = None

    def sql(self, with_path_prefix: bool = False) -> str | None:
        """The filters LanceDB can apply itself. A path glob's literal start (`src/` of
        `src/**/*.c`) goes in as a LIKE prefix, so full-text hits are filtered before the
        limit, not after; the glob itself is matched in Python."""
        parts = []
        if with_path_prefix and self.path:
            prefix = re.split(r"[*?\[]", self.path, maxsplit=1)[0]
            if prefix:
                escaped = (
                    _sql_quote(prefix).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                )
                parts.append(f"path LIKE '{escaped}%' ESCAPE '\\'")
        if self.language:
            parts.append(f"language = '{_sql_quote(self.language)}'")
        if self.kind:
            parts.append(f"kind = '{_sql_quote(self.kind)}'")
        return " AND ".join(parts) or None

    def path_matcher(self) -> re.Pattern[str] | None:
        if not self.path:
            return None
        pattern = self.path if any(c in self.path for c in "*?[") else self.path + "*"
        return re.compile(fnmatch.translate(pattern))


def _sql_quote(value: str) -> str:
    return value.replace("'", "''")


class _Mirror:
    """Row-aligned arrays of the table in memory; slots are reused after deletes."""

    def __init__(self, dim: int) -> None:
        self.dim = dim
        self.size = 0  # slots in use or freed: arrays are valid up to here
        self.vectors = np.zeros((0, dim), dtype=np.float32)
        self.live = np.zeros(0, dtype=bool)
        self.embedded = np.zeros(0, dtype=bool)
        self.codes = {name: np.zeros(0, dtype=np.int32) for name in CODED}
        self.vocab: dict[str, dict[str, int]] = {name: {} for name in CODED}
        self.chunks: list[Chunk | None] = []
        self.free: list[int] = []
        self.by_path: dict[str, list[int]] = {}
        self.by_key: dict[Key, int] = {}
        self.generation: dict[str, int] = {}  # bumped by every write of a path
        self.pending = 0  # live rows without a vector
        self.by_name: dict[str, set[int]] = {}  # lower-case symbol, short name, listed name

    def _grow(self, need: int) -> None:
        capacity = len(self.live)
        if need <= capacity:
            return
        new = max(need, 2 * capacity, 1024)
        grow = new - capacity
        self.vectors = np.concatenate([self.vectors, np.zeros((grow, self.dim), np.float32)])
        self.live = np.concatenate([self.live, np.zeros(grow, bool)])
        self.embedded = np.concatenate([self.embedded, np.zeros(grow, bool)])
        for name in CODED:
            self.codes[name] = np.concatenate([self.codes[name], np.zeros(grow, np.int32)])

    def code(self, column: str, value: str) -> int:
        vocab = self.vocab[column]
        found = vocab.get(value)
        if found is None:
            found = vocab[value] = len(vocab)
        return found

    def put(self, chunks: Sequence[Chunk], vectors: np.ndarray, embedded: np.ndarray) -> None:
        """Add the rows of one path (whose old rows are gone)."""
        if not chunks:
            return
        slots = [self.free.pop() for _ in range(min(len(self.free), len(chunks)))]
        extra = len(chunks) - len(slots)
        if extra:
            self._grow(self.size + extra)
            slots += range(self.size, self.size + extra)
            self.size += extra
            self.chunks.extend([None] * extra)
        index = np.asarray(slots)
        self.vectors[index] = vectors
        self.live[index] = True
        self.embedded[index] = embedded
        self.pending += int(len(chunks) - embedded.sum())
        path = chunks[0].path
        for name in CODED:
            self.codes[name][index] = [self.code(name, getattr(c, name)) for c in chunks]
        for slot, chunk in zip(slots, chunks, strict=True):
            self.chunks[slot] = chunk
            self.by_key[_key(chunk)] = slot
            for name in _names_of(chunk):
                self.by_name.setdefault(name, set()).add(slot)
        self.by_path[path] = slots

    def drop(self, path: str) -> None:
        slots = self.by_path.pop(path, None)
        self.generation[path] = self.generation.get(path, 0) + 1
        if not slots:
            return
        index = np.asarray(slots)
        self.pending -= int(len(slots) - self.embedded[index].sum())
        self.live[index] = False
        self.embedded[index] = False
        self.vectors[index] = 0.0
        for slot in slots:
            chunk = self.chunks[slot]
            assert chunk is not None
            self.by_key.pop(_key(chunk), None)
            for name in _names_of(chunk):
                holders = self.by_name.get(name)
                if holders is not None:
                    holders.discard(slot)
                    if not holders:
                        del self.by_name[name]
            self.chunks[slot] = None
        self.free.extend(slots)

    def mask(self, filters: Filters) -> np.ndarray | None:
        """Rows the filters admit (over [0, size)), or None when there are no filters."""
        mask: np.ndarray | None = None

        def both(a: np.ndarray | None, b: np.ndarray) -> np.ndarray:
            return b if a is None else a & b

        matcher = filters.path_matcher()
        if matcher is not None:
            vocab = self.vocab["path"]
            ok = [vocab[p] for p in self.by_path if matcher.fullmatch(p)]
            mask = both(mask, np.isin(self.codes["path"][: self.size], ok))
        for name, value in (("language", filters.language), ("kind", filters.kind)):
            if value:
                code = self.vocab[name].get(value, -1)
                mask = both(mask, self.codes[name][: self.size] == code)
        return mask


class ChunkIndex:
    """One table of chunks. Thread-safe: the sidecar calls it from several worker threads.

    `_write` serializes LanceDB writes (add, delete, optimize); `_lock` guards the mirror and is
    held only for in-memory work, so a search never waits for a disk write. Order: `_write`
    before `_lock`. Writes go through `_table`, full-text queries through `_reader` (a second
    handle that looks for the newest version on every query): LanceDB holds a handle while it
    optimizes, and a query on it would wait.
    """

    def __init__(self, uri: str, model_id: str, dim: int) -> None:
        self.uri = uri
        self.model_id = model_id
        self.dim = dim
        self._lock = threading.RLock()
        self._write = threading.RLock()
        self._table: Any = None
        self._reader: Any = None
        self._session: Any = None
        self.rebuilt = False  # True when opening found another model's vectors and dropped them
        self._m = _Mirror(dim)
        self._fts_ready = False
        self.writes_since_optimize = 0  # table commits not yet folded into the FTS index

    @property
    def identity(self) -> str:
        """What the coordinator's catalog must have been filled for: model and format."""
        return f"{self.model_id}|format-{INDEX_FORMAT}"

    # -- opening -------------------------------------------------------------------------------
    def open(self) -> None:
        import lancedb
        import pyarrow as pa

        with self._write, self._lock:
            local = "://" not in self.uri
            if local:
                Path(self.uri).mkdir(parents=True, exist_ok=True)
            self._session = lancedb.Session(
                index_cache_size_bytes=INDEX_CACHE_BYTES,
                metadata_cache_size_bytes=METADATA_CACHE_BYTES,
            )
            db = lancedb.connect(self.uri, session=self._session)
            meta = self._read_meta() if local else {}
            names = set(_table_names(db))
            if TABLE in names:
                table = db.open_table(TABLE)
                stale = (
                    _stale_reason(meta, table, self.model_id)
                    if local
                    else _stale_reason(None, table, self.model_id)
                )
                if stale:
                    log.warning("the index is %s: rebuilding", stale)
                    db.drop_table(TABLE)
                    names.discard(TABLE)
                    self.rebuilt = True
                else:
                    self._table = table
            if TABLE not in names:
                schema = pa.schema(
                    [
                        pa.field("path", pa.string()),
                        pa.field("language", pa.string()),
                        pa.field("kind", pa.string()),
                        pa.field("symbol", pa.string()),
                        pa.field("start_line", pa.int32()),
                        pa.field("end_line", pa.int32()),
                        pa.field("text", pa.string()),
                        pa.field("names", pa.string()),
                        pa.field("cell", pa.int32()),
                        pa.field("terms", pa.string()),
                        pa.field("vector", pa.list_(pa.float32(), self.dim)),
                    ]
                )
                self._table = db.create_table(TABLE, schema=schema)
            if local:
                self._write_meta(
                    {"model_id": self.model_id, "dim": self.dim, "format": INDEX_FORMAT}
                )
            self._reader = lancedb.connect(
                self.uri, session=self._session, read_consistency_interval=timedelta(0)
            ).open_table(TABLE)
            self._load_mirror()
            self._fts_ready = self._has_fts_index()

    def _meta_path(self) -> Path:
        return Path(self.uri) / META_FILE

    def _read_meta(self) -> dict[str, Any]:
        try:
            return json.loads(self._meta_path().read_text())
        except (OSError, ValueError):
            return {}

    def _write_meta(self, meta: dict[str, Any]) -> None:
        tmp = self._meta_path().with_suffix(".tmp")
        tmp.write_text(json.dumps(meta))
        tmp.replace(self._meta_path())

    def _load_mirror(self) -> None:
        table = self._table.to_arrow().drop_columns(["terms"])
        n = table.num_rows
        columns = {name: table.column(name).to_pylist() for name in COLUMNS}
        if n:
            flat = table.column("vector").combine_chunks().flatten().to_numpy()
            vectors = np.ascontiguousarray(flat.reshape(n, self.dim), dtype=np.float32)
        else:
            vectors = np.zeros((0, self.dim), dtype=np.float32)
        by_path: dict[str, list[int]] = {}
        for i, path in enumerate(columns["path"]):
            by_path.setdefault(path, []).append(i)
        self._m = _Mirror(self.dim)
        embedded = np.abs(vectors).sum(axis=1) > 0 if n else np.zeros(0, bool)
        for rows in by_path.values():
            chunks = [Chunk(**{name: columns[name][i] for name in columns}) for i in rows]
            self._m.put(chunks, vectors[rows], embedded[rows])

    def _has_fts_index(self) -> bool:
        try:
            return any(
                "terms" in (getattr(ix, "columns", None) or []) for ix in self._table.list_indices()
            )
        except Exception:
            return False

    # -- writing -------------------------------------------------------------------------------
    @property
    def chunk_count(self) -> int:
        return sum(len(slots) for slots in self._m.by_path.values())

    @property
    def pending_count(self) -> int:
        """Rows whose vectors are not computed yet (full-text search finds them already)."""
        return self._m.pending

    def paths(self) -> set[str]:
        with self._lock:
            return set(self._m.by_path)

    def known_vectors(self, path: str) -> dict[tuple[str, str, str], np.ndarray]:
        """The vectors already stored for `path`, by (kind, symbol, text): an edit re-embeds
        only the chunks it changed."""
        with self._lock:
            m = self._m
            known = {}
            for slot in m.by_path.get(path, []):
                chunk = m.chunks[slot]
                if chunk is not None and m.embedded[slot]:
                    known[(chunk.kind, chunk.symbol, chunk.text)] = m.vectors[slot].copy()
            return known

    def replace(self, path: str, chunks: Sequence[Chunk], vectors: np.ndarray | None) -> None:
        """Make `chunks` the whole content of `path` in the index (an upsert by path).

        A zero row in `vectors` (or `vectors=None`) writes the chunk without a vector yet.
        """
        self.replace_many([(path, chunks, vectors)])

    def replace_many(self, items: Sequence[tuple[str, Sequence[Chunk], np.ndarray | None]]) -> None:
        """`replace` for a batch of paths in one delete and one add: two table versions for
        the batch (one per file piled up thousands of versions under autosaves). A path given
        twice gets its last content."""
        batch: dict[str, tuple[Sequence[Chunk], np.ndarray]] = {}
        for path, chunks, vectors in items:
            if vectors is None:
                vectors = np.zeros((len(chunks), self.dim), dtype=np.float32)
            batch.pop(path, None)
            batch[path] = (
                chunks,
                np.asarray(vectors, dtype=np.float32).reshape(len(chunks), self.dim),
            )
        if not batch:
            return
        records = [
            record for chunks, vectors in batch.values() for record in _records(chunks, vectors)
        ]
        with self._write:
            with self._lock:
                present = [path for path in batch if path in self._m.by_path]
            self._table_delete(present)
            if records:
                self._table.add(records)
            self.writes_since_optimize += bool(present) + bool(records)
            with self._lock:
                for path, (chunks, vectors) in batch.items():
                    self._m.drop(path)
                    self._m.put(chunks, vectors, np.abs(vectors).sum(axis=1) > 0)
            if records and not self._fts_ready:
                self._build_fts()

    def delete(self, paths: Iterable[str]) -> None:
        with self._write:
            with self._lock:
                present = [p for p in paths if p in self._m.by_path]
            self._table_delete(present)
            with self._lock:
                for path in present:
                    self._m.drop(path)

    def pending(self, budget: int) -> list[tuple[str, int, list[Chunk]]]:
        """Paths with rows that still lack vectors, with their generation and chunks: whole
        paths, until about `budget` chunks."""
        taken: list[tuple[str, int, list[Chunk]]] = []
        with self._lock:
            m = self._m
            if not m.pending:
                return taken
            waiting = np.flatnonzero(m.live[: m.size] & ~m.embedded[: m.size])
            seen: set[str] = set()
            count = 0
            for slot in waiting:
                chunk = m.chunks[int(slot)]
                if chunk is None or chunk.path in seen:
                    continue
                seen.add(chunk.path)
                chunks = [m.chunks[s] for s in m.by_path[chunk.path]]
                taken.append((chunk.path, m.generation.get(chunk.path, 0), chunks))  # type: ignore[arg-type]
                count += len(chunks)
                if count >= budget:
                    break
        return taken

    def fill(self, path: str, generation: int, vectors: np.ndarray) -> bool:
        """Store the vectors of every chunk of `path` (as `pending` listed them), unless the
        path was written since: then the newer write wins and this one is dropped."""
        return self.fill_many([(path, generation, vectors)]) == 1

    def fill_many(self, fills: list[tuple[str, int, np.ndarray]]) -> int:
        """`fill` for several paths in one delete and one add (two table commits in all)."""
        with self._write:
            with self._lock:
                m = self._m
                current = [
                    (
                        path,
                        generation,
                        vectors,
                        [c for s in m.by_path[path] if (c := m.chunks[s]) is not None],
                    )
                    for path, generation, vectors in fills
                    if m.generation.get(path, 0) == generation and path in m.by_path
                ]
            if not current:
                return 0
            self._table_delete([path for path, _, _, _ in current])
            self._table.add(
                [
                    record
                    for _, _, vectors, chunks in current
                    for record in _records(chunks, vectors)
                ]
            )
            with self._lock:
                for path, generation, vectors, chunks in current:
                    self._m.drop(path)
                    self._m.put(chunks, vectors, np.ones(len(chunks), bool))
                    self._m.generation[path] = generation  # a fill is not a new version
            self.writes_since_optimize += 2
        return len(current)

    def _table_delete(self, paths: list[str]) -> None:
        for start in range(0, len(paths), 200):
            quoted = ", ".join(f"'{_sql_quote(p)}'" for p in paths[start : start + 200])
            self._table.delete(f"path IN ({quoted})")

    def _build_fts(self) -> None:
        try:
            from lancedb.index import FTS

            # `terms` holds code-aware words already (terms.py): split on white space only,
            # then lower case, stemming and stop words as for English
            self._table.create_index(
                "terms",
                config=FTS(
                    base_tokenizer="whitespace",
                    lower_case=True,
                    stem=True,
                    remove_stop_words=True,
                    ascii_folding=True,
                ),
                replace=True,
            )
            self._fts_ready = True
        except Exception as e:  # full-text search degrades to vector-only
            log.warning("cannot build the full-text index: %s", e)

    def optimize(self) -> None:
        """Fold new rows into the full-text index, compact, and prune the versions older than
        `KEEP_VERSIONS` (LanceDB keeps them a week by default: every write is a version)."""
        with self._write:
            try:
                self._table.optimize(cleanup_older_than=KEEP_VERSIONS)
                self.writes_since_optimize = 0
            except Exception as e:
                log.warning("index optimize failed: %s", e)

    # -- searching -----------------------------------------------------------------------------
    def search(
        self,
        query: str,
        query_vector: np.ndarray | None,
        k: int = 10,
        mode: str = "hybrid",
        filters: Filters | None = None,
        text_hits: list[tuple[Key, float]] | Future[list[tuple[Key, float]]] | None = None,
    ) -> list[dict[str, Any]]:
        """The top `k` hits (ranking.py says how they are ordered). `text_hits`:
        `text_search`'s answer, or its future when the caller runs it on another thread (it is
        awaited after the vector ranking, so the two overlap)."""
        filters = filters or Filters()
        pool = self.pool(k)
        if mode in ("hybrid", "text") and text_hits is None:
            text_hits = self.text_search(query, pool, filters)
        w_vector, w_text = ranking.weights(query) if mode == "hybrid" else (1.0, 1.0)
        with self._lock:
            m = self._m
            lists: list[tuple[list[tuple[int, float]], float]] = []
            if mode in ("hybrid", "vector") and query_vector is not None:
                lists.append((self._vector_ranking(query_vector, pool, filters), w_vector))
            if mode in ("hybrid", "text"):
                if isinstance(text_hits, Future):
                    text_hits = text_hits.result()
                rows = [(m.by_key[key], score) for key, score in text_hits or () if key in m.by_key]
                lists.append((rows[:pool], w_text))
            scores, best = ranking.fuse(lists)
            mask = m.mask(filters)

            def admit(row: int) -> bool:
                return bool(m.live[row]) and (mask is None or bool(mask[row]))

            def row_info(row: int) -> ranking.Row | None:
                c = m.chunks[row]
                return (
                    None
                    if c is None
                    else ranking.Row(
                        c.path, c.kind, c.symbol, c.start_line, c.end_line, c.text, c.cell
                    )
                )

            def definitions_of(name: str) -> list[int]:
                return [
                    row
                    for row in m.by_name.get(name.lower(), ())
                    if (c := m.chunks[row]) is not None
                    and c.kind in ranking.DEFINITION_KINDS
                    and ranking.short_name(c.symbol).lower() == name.lower()
                ]

            ordered = ranking.order(
                scores,
                best,
                row_info,
                lambda name: sorted(m.by_name.get(name.lower(), ())),
                ranking.looked_up_names(query) if mode != "vector" else [],
                definitions_of,
                admit,
                ranking.boost_scale(query),
                ranking.lesser_factor(query),
            )
            groups = ranking.merge_overlaps(ordered[: pool * 2], row_info, k)
            return [
                self._result(group, scores_with(scores, ordered, group), query) for group in groups
            ]

    @staticmethod
    def pool(k: int) -> int:
        return max(50, 4 * k)

    def _vector_ranking(
        self, query_vector: np.ndarray, pool: int, filters: Filters
    ) -> list[tuple[int, float]]:
        """The best `pool` rows by cosine, with their cosines."""
        m = self._m
        if not m.size:
            return []
        scores = m.vectors[: m.size] @ query_vector.astype(np.float32)
        valid = m.embedded[: m.size]
        mask = m.mask(filters)
        if mask is not None:
            valid = valid & mask
        scores = np.where(valid, scores, -np.inf)
        pool = min(pool, len(scores))
        top = np.argpartition(-scores, pool - 1)[:pool]
        top = top[np.argsort(-scores[top])]
        return [(int(i), float(scores[i])) for i in top if np.isfinite(scores[i])]

    def text_search(self, query: str, pool: int, filters: Filters) -> list[tuple[Key, float]]:
        """Full-text hits as ((path, start_line, end_line, cell), BM25 score), best first.
        Runs without the mirror's lock: LanceDB reads a consistent version of the table by
        itself."""
        words = terms(query)
        if not words or self._reader is None:
            return []
        matcher = filters.path_matcher()
        where = filters.sql(with_path_prefix=True)
        hits = None
        for attempt in (1, 2):  # the second on the newest version: see KEEP_VERSIONS
            try:
                search = self._reader.search(" ".join(words), query_type="fts", fts_columns="terms")
                if where:
                    search = search.where(where, prefilter=True)
                hits = (
                    search.select(["path", "start_line", "end_line", "cell", "_score"])
                    .limit(pool * (4 if matcher else 1))
                    .to_list()
                )
                break
            except Exception as e:  # e.g. no FTS index yet
                log.debug("full-text search failed (attempt %d): %s", attempt, e)
        if hits is None:
            return []
        # LanceDB returns equal scores in no fixed order: make it fixed
        hits.sort(key=lambda h: (-h["_score"], h["path"], h["cell"], h["start_line"]))
        keys = [
            ((hit["path"], hit["start_line"], hit["end_line"], hit["cell"]), hit["_score"])
            for hit in hits
            if matcher is None or matcher.fullmatch(hit["path"])
        ]
        return keys[:pool]

    def _result(self, group: list[int], score: float, query: str) -> dict[str, Any]:
        """One hit: a row, or overlapping rows of one passage merged (the union of lines)."""
        chunks = sorted(
            (c for row in group if (c := self._m.chunks[row]) is not None),
            key=lambda c: c.start_line,
        )
        c = chunks[0]
        lines = c.text.split("\n")
        end = c.end_line
        ranges = [[c.start_line, c.end_line]]
        for other in chunks[1:]:
            if other.start_line > end + 1:  # windows of one definition with a gap between
                lines.append("⋮")
                lines.extend(other.text.split("\n"))
                ranges.append([other.start_line, other.end_line])
            elif other.end_line > end:
                lines.extend(other.text.split("\n")[end - other.start_line + 1 :])
                ranges[-1][1] = other.end_line
            end = max(end, other.end_line)
        text = "\n".join(lines)
        # a definition with nested ones is named by the outer one
        outer = min(
            chunks,
            key=lambda chunk: (
                chunk.symbol.count(".") if chunk.symbol else 1_000,
                chunk.start_line,
            ),
        )
        hit = {
            "path": c.path,
            "start_line": c.start_line,
            "end_line": end,
            "symbol": outer.symbol,
            "kind": outer.kind,
            "language": c.language,
            "snippet": snippet(text, query),
            "score": round(score, 6),
            "text": text,
        }
        if c.cell >= 0:
            hit["cell"] = c.cell
        if len(ranges) > 1:  # the lines the text shows; the ones between (a `⋮`) it does not
            hit["ranges"] = ranges
        return hit


def scores_with(scores: dict[int, float], ordered: list[int], group: list[int]) -> float:
    """A hit's score: the best fused score in its group (boosts are ordering, not score)."""
    return max((scores.get(row, 0.0) for row in group), default=0.0)


def _key(chunk: Chunk) -> Key:
    return (chunk.path, chunk.start_line, chunk.end_line, chunk.cell)


def _names_of(chunk: Chunk) -> set[str]:
    """The lower-case names a chunk answers to: its symbol, the symbol's last part, and the
    names it lists."""
    names = {n.lower() for n in chunk.names.split()}
    if chunk.symbol:
        names.add(chunk.symbol.lower())
        names.add(ranking.short_name(chunk.symbol).lower())
    return names


def _records(chunks: Sequence[Chunk], vectors: np.ndarray) -> list[dict[str, Any]]:
    return [
        {
            "path": c.path,
            "language": c.language,
            "kind": c.kind,
            "symbol": c.symbol,
            "start_line": c.start_line,
            "end_line": c.end_line,
            "text": c.text,
            "names": c.names,
            "cell": c.cell,
            "terms": c.terms(),
            "vector": vectors[i].tolist(),
        }
        for i, c in enumerate(chunks)
    ]


def _stale_reason(meta: dict[str, Any] | None, table: Any, model_id: str) -> str | None:
    """Why an existing table cannot be used as it is (None: it can). `meta`: the local meta
    file (None for a remote URI, where only the columns tell)."""
    if meta is not None and meta.get("model_id") != model_id:
        return f"of another model ({meta.get('model_id')}, now {model_id})"
    if meta is not None and meta.get("format") != INDEX_FORMAT:
        return f"of format {meta.get('format', 1)}, now {INDEX_FORMAT}"
    missing = {*COLUMNS, "terms", "vector"} - set(table.schema.names)
    if missing:
        return f"missing the columns {', '.join(sorted(missing))}"
    return None


def snippet(text: str, query: str, lines: int = 6) -> str:
    """A few lines of the chunk: around the first query word found, else its start."""
    all_lines = text.splitlines()
    words = [w.lower() for w in re.findall(r"\w+", query)]
    at = 0
    for i, line in enumerate(all_lines):
        low = line.lower()
        if any(w in low for w in words):
            at = max(0, i - 1)
            break
    return "\n".join(all_lines[at : at + lines])[:600]


def _table_names(db: Any) -> list[str]:
    # list_tables where there is one: table_names is deprecated (and lists only 10)
    listed = db.list_tables() if hasattr(db, "list_tables") else db.table_names()
    return list(getattr(listed, "tables", listed))
