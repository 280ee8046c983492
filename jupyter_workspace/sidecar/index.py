"""The chunk index: LanceDB on disk (durable rows + full-text index), vectors mirrored in memory.

LanceDB keeps every chunk with its vector, text, path, lines, symbol, kind and language, and
answers full-text queries from its native FTS index (rows added since the index was built are
searched too). Vector search runs on an in-memory float32 matrix: brute force over 100k x 384
is a ~40 MFLOP product, milliseconds here, where LanceDB without an ANN index takes ~300 ms
(shared/FACTS.md). Hybrid search fuses both rankings with reciprocal rank fusion.
"""

from __future__ import annotations

import fnmatch
import json
import logging
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .chunker import Chunk

log = logging.getLogger(__name__)

TABLE = "chunks"
META_FILE = "index-meta.json"
RRF_K = 60
MODES = ("hybrid", "vector", "text")


@dataclass(frozen=True)
class Filters:
    path: str | None = None  # glob on the root-relative path; `**` crosses folders
    language: str | None = None
    kind: str | None = None

    def sql(self) -> str | None:
        parts = []
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


class ChunkIndex:
    """One table of chunks. Thread-safe: the sidecar calls it from a worker thread."""

    def __init__(self, uri: str, model_id: str, dim: int) -> None:
        self.uri = uri
        self.model_id = model_id
        self.dim = dim
        self._lock = threading.RLock()
        self._table: Any = None
        self.rebuilt = False  # True when opening found another model's vectors and dropped them
        # in-memory mirror, row-aligned
        self._vectors = np.zeros((0, dim), dtype=np.float32)
        self._rows: list[dict[str, Any]] = []
        self._by_path: dict[str, list[int]] = {}
        self._by_key: dict[tuple[str, int, int], int] = {}
        self._columns: dict[str, np.ndarray] | None = None  # for filters; rebuilt after writes
        self._fts_ready = False

    # -- opening -------------------------------------------------------------------------------
    def open(self) -> None:
        import lancedb
        import pyarrow as pa

        with self._lock:
            local = "://" not in self.uri
            if local:
                Path(self.uri).mkdir(parents=True, exist_ok=True)
            db = lancedb.connect(self.uri)
            meta = self._read_meta() if local else {}
            names = set(_table_names(db))
            if TABLE in names and meta.get("model_id") != self.model_id:
                log.warning("index was built with %s, now %s: rebuilding",
                            meta.get("model_id"), self.model_id)
                db.drop_table(TABLE)
                names.discard(TABLE)
                self.rebuilt = True
            if TABLE in names:
                self._table = db.open_table(TABLE)
            else:
                schema = pa.schema([
                    pa.field("path", pa.string()), pa.field("language", pa.string()),
                    pa.field("kind", pa.string()), pa.field("symbol", pa.string()),
                    pa.field("start_line", pa.int32()), pa.field("end_line", pa.int32()),
                    pa.field("text", pa.string()),
                    pa.field("vector", pa.list_(pa.float32(), self.dim)),
                ])
                self._table = db.create_table(TABLE, schema=schema)
            if local:
                self._write_meta({"model_id": self.model_id, "dim": self.dim})
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
        table = self._table.to_arrow()
        n = table.num_rows
        columns = {name: table.column(name).to_pylist()
                   for name in ("path", "language", "kind", "symbol", "start_line", "end_line",
                                "text")}
        self._rows = [{name: columns[name][i] for name in columns} for i in range(n)]
        if n:
            flat = table.column("vector").combine_chunks().flatten().to_numpy()
            self._vectors = np.ascontiguousarray(flat.reshape(n, self.dim), dtype=np.float32)
        else:
            self._vectors = np.zeros((0, self.dim), dtype=np.float32)
        self._reindex_paths()

    def _reindex_paths(self) -> None:
        self._by_path = {}
        self._by_key = {}
        for i, row in enumerate(self._rows):
            self._by_path.setdefault(row["path"], []).append(i)
            self._by_key[(row["path"], row["start_line"], row["end_line"])] = i
        self._columns = None

    def _has_fts_index(self) -> bool:
        try:
            return any("text" in (getattr(ix, "columns", None) or [])
                       for ix in self._table.list_indices())
        except Exception:  # noqa: BLE001
            return False

    # -- writing -------------------------------------------------------------------------------
    @property
    def chunk_count(self) -> int:
        return len(self._rows)

    def paths(self) -> set[str]:
        return set(self._by_path)

    def known_vectors(self, path: str) -> dict[tuple[str, str, str], np.ndarray]:
        """The vectors already stored for `path`, by (kind, symbol, text): an edit re-embeds
        only the chunks it changed."""
        with self._lock:
            return {(self._rows[i]["kind"], self._rows[i]["symbol"], self._rows[i]["text"]):
                    self._vectors[i] for i in self._by_path.get(path, [])}

    def replace(self, path: str, chunks: Sequence[Chunk], vectors: np.ndarray) -> None:
        """Make `chunks` the whole content of `path` in the index (an upsert by path)."""
        with self._lock:
            self._delete_rows([path])
            if not chunks:
                return
            records = [{
                "path": c.path, "language": c.language, "kind": c.kind, "symbol": c.symbol,
                "start_line": c.start_line, "end_line": c.end_line, "text": c.text,
                "vector": vectors[i].tolist(),
            } for i, c in enumerate(chunks)]
            self._table.add(records)
            start = len(self._rows)
            self._rows.extend({k: v for k, v in r.items() if k != "vector"} for r in records)
            self._vectors = np.concatenate([self._vectors, vectors.astype(np.float32)])
            self._by_path[path] = list(range(start, start + len(records)))
            for i, r in enumerate(records, start):
                self._by_key[(r["path"], r["start_line"], r["end_line"])] = i
            self._columns = None
            if not self._fts_ready:
                self._build_fts()

    def delete(self, paths: Iterable[str]) -> None:
        with self._lock:
            self._delete_rows(list(paths))

    def _delete_rows(self, paths: list[str]) -> None:
        present = [p for p in paths if p in self._by_path]
        if not present:
            return
        for start in range(0, len(present), 200):
            batch = present[start:start + 200]
            quoted = ", ".join(f"'{_sql_quote(p)}'" for p in batch)
            self._table.delete(f"path IN ({quoted})")
        drop = {i for p in present for i in self._by_path[p]}
        keep = [i for i in range(len(self._rows)) if i not in drop]
        self._rows = [self._rows[i] for i in keep]
        self._vectors = self._vectors[keep] if keep else np.zeros((0, self.dim), np.float32)
        self._reindex_paths()

    def _build_fts(self) -> None:
        try:
            from lancedb.index import FTS

            self._table.create_index("text", config=FTS(), replace=True)
            self._fts_ready = True
        except Exception as e:  # noqa: BLE001 - full-text search degrades to vector-only
            log.warning("cannot build the full-text index: %s", e)

    def optimize(self) -> None:
        """Fold new rows into the full-text index and compact (background, occasionally)."""
        with self._lock:
            try:
                self._table.optimize()
            except Exception as e:  # noqa: BLE001
                log.warning("index optimize failed: %s", e)

    # -- searching -----------------------------------------------------------------------------
    def search(self, query: str, query_vector: np.ndarray | None, k: int = 10,
               mode: str = "hybrid", filters: Filters | None = None) -> list[dict[str, Any]]:
        filters = filters or Filters()
        pool = max(50, 4 * k)
        with self._lock:
            ranked: list[list[int]] = []
            if mode in ("hybrid", "vector") and query_vector is not None:
                ranked.append(self._vector_ranking(query_vector, pool, filters))
            if mode in ("hybrid", "text"):
                ranked.append(self._text_ranking(query, pool, filters))
            scores: dict[int, float] = {}
            for ranking in ranked:
                for rank, row in enumerate(ranking):
                    scores[row] = scores.get(row, 0.0) + 1.0 / (RRF_K + rank + 1)
            best = sorted(scores, key=lambda r: (-scores[r], r))[:k]
            return [self._result(row, scores[row], query) for row in best]

    def _column(self, name: str) -> np.ndarray:
        if self._columns is None:
            self._columns = {}
        if name not in self._columns:
            self._columns[name] = np.array([row[name] for row in self._rows], dtype=object)
        return self._columns[name]

    def _mask(self, filters: Filters) -> np.ndarray | None:
        mask = None

        def both(a: np.ndarray | None, b: np.ndarray) -> np.ndarray:
            return b if a is None else a & b

        matcher = filters.path_matcher()
        if matcher is not None:
            ok_paths = [p for p in self._by_path if matcher.fullmatch(p)]
            mask = both(mask, np.isin(self._column("path"), ok_paths))
        if filters.language:
            mask = both(mask, self._column("language") == filters.language)
        if filters.kind:
            mask = both(mask, self._column("kind") == filters.kind)
        return mask

    def _vector_ranking(self, query_vector: np.ndarray, pool: int, filters: Filters) -> list[int]:
        if not len(self._rows):
            return []
        scores = self._vectors @ query_vector.astype(np.float32)
        mask = self._mask(filters)
        if mask is not None:
            scores = np.where(mask, scores, -np.inf)
        pool = min(pool, len(scores))
        top = np.argpartition(-scores, pool - 1)[:pool]
        top = top[np.argsort(-scores[top])]
        return [int(i) for i in top if np.isfinite(scores[i])]

    def _text_ranking(self, query: str, pool: int, filters: Filters) -> list[int]:
        words = re.findall(r"\w+", query)
        if not words or not len(self._rows):
            return []
        matcher = filters.path_matcher()
        try:
            search = self._table.search(" ".join(words), query_type="fts")
            where = filters.sql()
            if where:
                search = search.where(where, prefilter=True)
            hits = search.select(["path", "start_line", "end_line", "_score"]).limit(
                pool * (4 if matcher else 1)).to_list()
        except Exception as e:  # noqa: BLE001 - e.g. no FTS index yet
            log.debug("full-text search failed: %s", e)
            return []
        rows = []
        for hit in hits:
            if matcher is not None and not matcher.fullmatch(hit["path"]):
                continue
            row = self._by_key.get((hit["path"], hit["start_line"], hit["end_line"]))
            if row is not None:
                rows.append(row)
        return rows[:pool]

    def _result(self, row: int, score: float, query: str) -> dict[str, Any]:
        r = self._rows[row]
        return {"path": r["path"], "start_line": r["start_line"], "end_line": r["end_line"],
                "symbol": r["symbol"], "kind": r["kind"], "language": r["language"],
                "snippet": snippet(r["text"], query), "score": round(score, 6),
                "text": r["text"]}


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
    return "\n".join(all_lines[at:at + lines])[:600]


def _table_names(db: Any) -> list[str]:
    listed = db.table_names() if hasattr(db, "table_names") else db.list_tables()
    return list(getattr(listed, "tables", listed))
