"""A team's shared base index, opened read-only, under a local overlay of the user's changes.

`jupyter workspace index` builds the base once (in CI, on a big machine) into a LanceDB
database on object storage (``s3://…``, ``gs://…``, ``az://…``) or a shared folder, with a
manifest of what it was built from (`manifest.py`: the git commit and each file's sha256).
Every user's sidecar opens it read-only and keeps its own writes in the usual local index
folder, the overlay:

- a file the coordinator sends whose sha256 is the base's is the base's: nothing is written
  or embedded (`matches_base`, `show_base`);
- a file whose hash differs, or that the base lacks, is written to the overlay and shadows the
  base's rows of that path; its chunks whose text the base has take the base's vectors
  (`known_vectors`), so only what the user changed is embedded;
- a file deleted locally hides the base's rows of that path (a tombstone, kept in
  ``overlay-state.json`` next to the overlay, since the coordinator tells a deletion once).

At open, before the coordinator has sent anything, the base's rows are shown for the files
of the user's tree (`root`) whose size is the base's; a file missing from the tree, or of
another size, is hidden until the coordinator sends it (then it is the base's again, or
the overlay's).

One ranking: the base's rows in view and the overlay's rows share one in-memory mirror, so the
vector half, the name boosts, the filters and the merging of overlapping hits are exactly a
single table's. The full-text half asks both tables and merges their hits by BM25 score; the
base's are limited to the paths in view (a SQL filter, the hidden ones dropped). BM25 scores
of two tables are close but not equal (each has its own document frequencies).

The base is read with LanceDB's ``storage_options`` (endpoint, region, keys, ``allow_http``)
given by the coordinator, or the ``AWS_*`` / ``AZURE_*`` / ``GOOGLE_*`` variables LanceDB
reads from the environment; they are never logged or reported (`describe_uri` drops any
user:password from the URI shown).
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .chunk_store import (
    COLUMNS,
    KEY_COLUMNS,
    TABLE,
    ChunkIndex,
    Filters,
    Key,
    _fts_index,
    _sql_quote,
    _table_names,
    batch_rows,
    first_line,
    keys_at,
    warm_text_index,
)
from .chunker import Chunk
from .manifest import read_manifest
from .terms import terms

log = logging.getLogger(__name__)

STATE_FILE = "overlay-state.json"
STATE_FORMAT = 1
# A full-text query on the base names the paths in view (or the hidden ones, whichever list
# is shorter) while the list is at most this long; past it, it asks for more hits and drops
# the hidden ones itself.
SQL_PATHS = 500
OVERFETCH = 4
HIDDEN_EXACT = 2000
# A word's document frequency in the base is counted up to this (past it, its idf is small and
# barely changes: ln(1 + N / 10,000) at N = 1M is 4.6, at 100,000 holding it 2.3)
DF_CAP = 10_000
READ_BATCH = 16384  # rows per Arrow batch when the base is read at open
REMOTE = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


class BaseIndexError(RuntimeError):
    """The base index cannot be used (unreachable, not built by `jupyter workspace index`,
    another model); the message says why and names no secret."""


def describe_uri(uri: str) -> str:
    """The URI as status and logs show it: any ``user:password@`` taken out."""
    return re.sub(r"^([a-z][a-z0-9+.-]*://)[^/@]*@", r"\1", uri, flags=re.IGNORECASE)


def text_sha256(text: str) -> str:
    """The sha256 of a file's bytes from the text the coordinator sends (UTF-8, decoded with
    replacement): equal to the manifest's for every valid UTF-8 file; another file's differs,
    and it is indexed in the overlay (its vectors still come from the base by text)."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class BaseSource:
    """Where the base is and how to reach it; reads its manifest once."""

    def __init__(self, uri: str, storage_options: dict[str, str] | None = None) -> None:
        if not uri:
            raise ValueError("no base index URI")
        self.uri = uri
        self.options = dict(storage_options or {})
        self._manifest: dict[str, Any] | None = None

    def manifest(self) -> dict[str, Any]:
        if self._manifest is None:
            try:
                manifest = read_manifest(self.uri, self.options or None)
            except Exception as e:
                raise BaseIndexError(
                    f"cannot read the base index at {describe_uri(self.uri)}: "
                    f"{type(e).__name__}: {first_line(e)}"
                ) from None
            if not manifest.get("build"):
                raise BaseIndexError(
                    f"{describe_uri(self.uri)} has no manifest: build the base index with "
                    "`jupyter workspace index PATH --uri URI`"
                )
            if not manifest.get("complete"):
                raise BaseIndexError(
                    f"the base index at {describe_uri(self.uri)} is incomplete (its last "
                    "build did not finish): run `jupyter workspace index` again to finish it"
                )
            self._manifest = manifest
        return self._manifest

    def model(self) -> tuple[str, int] | None:
        """(model_id, dim) the base was embedded with."""
        manifest = self.manifest()
        model_id, dim = manifest.get("model_id"), manifest.get("dim")
        return (model_id, dim) if isinstance(model_id, str) and isinstance(dim, int) else None

    def open_table(self) -> Any:
        import lancedb

        try:
            db = lancedb.connect(self.uri, storage_options=self.options or None)
            if TABLE not in set(_table_names(db)):
                raise BaseIndexError(f"{describe_uri(self.uri)} holds no chunk table")
            return db.open_table(TABLE)
        except BaseIndexError:
            raise
        except Exception as e:
            raise BaseIndexError(
                f"cannot open the base index at {describe_uri(self.uri)}: "
                f"{type(e).__name__}: {first_line(e)}"
            ) from None


def _idf(documents: int, holding: int) -> float:
    """BM25's inverse document frequency, as LanceDB's full-text index computes it."""
    return math.log(1.0 + (documents - holding + 0.5) / (holding + 0.5))


def _fts(table: Any, word: str, limit: int) -> dict[Key, float]:
    """The rows holding one word, with their scores (empty when the query fails, e.g. a stop
    word or no full-text index yet)."""
    if table is None:
        return {}
    try:
        rows = (
            table.search(word, query_type="fts", fts_columns="terms")
            .select([*KEY_COLUMNS, "_score"])
            .limit(limit)
            .to_list()
        )
    except Exception as e:
        log.debug("full-text query of %r failed: %s", word, e)
        return {}
    return {(r["path"], r["start_line"], r["end_line"], r["cell"]): r["_score"] for r in rows}


def _count(table: Any, word: str, limit: int) -> int:
    """How many rows hold `word` (at most `limit`), from the full-text index alone."""
    try:
        rows = (
            table.search(word, query_type="fts", fts_columns="terms")
            .with_row_id(True)
            .select(["_score"])
            .limit(limit)
            .to_arrow()
        )
    except Exception as e:
        log.debug("full-text count of %r failed: %s", word, e)
        return 0
    return int(rows.num_rows)


def _relative(path: Any) -> bool:
    """A root-relative POSIX path that stays inside the root."""
    if not isinstance(path, str) or not path or path.startswith("/") or "\\" in path:
        return False
    return all(part not in ("", ".", "..") for part in path.split("/"))


class _RowKeys:
    """The base's row ids -> (path, start_line, end_line, cell), in sorted numpy arrays (24
    bytes a row): a full-text query on the base then asks for row ids and scores only, which
    its index answers alone, with no read of the table's data (from object storage, a
    request or more per query). Filled batch by batch (`add`), then `finish`ed."""

    def __init__(self) -> None:
        self._codes: dict[str, int] = {}
        self._parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        self.ids = np.zeros(0, dtype=np.uint64)
        self.paths: list[str] = []
        self.path = np.zeros(0, dtype=np.int32)
        self.lines = np.zeros((3, 0), dtype=np.int32)

    def add(self, row_ids: np.ndarray, columns: dict[str, list[Any]]) -> None:
        codes = self._codes
        path = np.fromiter(
            (codes.setdefault(p, len(codes)) for p in columns["path"]),
            dtype=np.int32,
            count=len(row_ids),
        )
        lines = np.asarray(
            [columns["start_line"], columns["end_line"], columns["cell"]], dtype=np.int32
        ).reshape(3, -1)
        # a copy: a view would keep the whole Arrow batch it came from alive (its buffers
        # share one allocation), ~38 MB per 16k rows
        self._parts.append((np.array(row_ids, dtype=np.uint64, copy=True), path, lines))

    def finish(self) -> _RowKeys:
        if self._parts:
            ids = np.concatenate([ids for ids, _, _ in self._parts])
            order = np.argsort(ids, kind="stable")
            self.ids = ids[order]
            self.path = np.concatenate([path for _, path, _ in self._parts])[order]
            self.lines = np.concatenate([lines for _, _, lines in self._parts], axis=1)[:, order]
        self.paths = list(self._codes)
        self._parts, self._codes = [], {}
        return self

    def keys(self, row_ids: list[int]) -> list[Key | None]:
        if not len(self.ids):
            return [None] * len(row_ids)
        wanted = np.asarray(row_ids, dtype=np.uint64)
        at = np.minimum(np.searchsorted(self.ids, wanted), len(self.ids) - 1)
        found = (self.ids[at] == wanted).tolist()
        keys = keys_at(self.paths, self.path, self.lines, at)
        return [key if ok else None for key, ok in zip(keys, found, strict=True)]


@dataclass(frozen=True)
class _InView(Filters):
    """The query's filters, plus a SQL condition on the base's paths (those in view)."""

    paths_sql: str | None = None

    def sql(self, with_path_prefix: bool = False) -> str | None:
        own = super().sql(with_path_prefix)
        parts = [part for part in (own, self.paths_sql) if part]
        return " AND ".join(f"({part})" for part in parts) or None


class OverlayIndex(ChunkIndex):
    """The chunk index of a sidecar with a base: the local overlay table (this ChunkIndex's
    own, at `uri`), plus the base's rows in view, in one mirror. Writes go to the overlay
    only; the base is never written."""

    def __init__(
        self, uri: str, model_id: str, dim: int, base: BaseSource, root: Path | None = None
    ) -> None:
        super().__init__(uri, model_id, dim)
        self.base = base
        self.root = root
        self._base_table: Any = None
        self._base_text: ChunkIndex | None = None  # the base's full-text queries
        self._base_files: dict[str, str] = {}  # path -> sha256, from the manifest
        self._base_chunks = 0
        self._shown: set[str] = set()  # base paths whose rows are in the mirror
        self._overlay: set[str] = set()  # paths with rows in the overlay table
        self._tombstones: set[str] = set()  # base paths the coordinator deleted
        # the base's vectors of paths out of view, by (kind, symbol, text): a changed file
        # takes them for its unchanged chunks
        self._held: dict[str, dict[tuple[str, str, str], np.ndarray]] = {}
        self._view_sql: tuple[str | None, bool] = (None, False)  # (condition, post-filter)
        self._state_lock = threading.Lock()
        self._df: dict[str, int] = {}  # word -> base chunks holding it (the base is fixed)
        self._keys: _RowKeys | None = None  # the base's row ids -> keys
        self._base_pool = ThreadPoolExecutor(1, thread_name_prefix="index-base-text")
        self._overlay_rows = 0  # chunks in the overlay table
        self._shown_rows = 0  # base chunks in view
        # each word's rows and scores in the overlay, until the overlay is written again
        self._overlay_version = 0
        self._word_cache: tuple[int, dict[str, dict[Key, float]]] = (0, {})

    # -- opening -------------------------------------------------------------------------------
    @property
    def identity(self) -> str:
        """The coordinator refills its catalog when the base's build changes."""
        build = self.base.manifest().get("build")
        return f"{super().identity}|base-{build}"

    def open(self) -> None:
        manifest = self.base.manifest()
        model = self.base.model()
        if model != (self.model_id, self.dim):
            have = f"{model[0]} ({model[1]}-d)" if model else "an unknown model"
            raise BaseIndexError(
                f"the base index at {describe_uri(self.base.uri)} was embedded with {have}; "
                f"this sidecar embeds with {self.model_id} ({self.dim}-d): configure the same "
                "embedding backend and model, or no base index"
            )
        wanted_id = super().identity  # model and format, without the base
        if manifest.get("index_id") not in (None, wanted_id):
            raise BaseIndexError(
                f"the base index at {describe_uri(self.base.uri)} is of another index format "
                f"({manifest.get('index_id')}; this version reads {wanted_id}): build it again "
                "with this version"
            )
        files = manifest.get("files") or {}
        # a manifest is read from shared storage: only root-relative paths of the tree count
        self._base_files = {p: sha for p, sha in files.items() if _relative(p)}
        self._base_table = self.base.open_table()
        missing = {*COLUMNS, "terms", "vector"} - set(self._base_table.schema.names)
        if missing:
            raise BaseIndexError(
                f"the base index at {describe_uri(self.base.uri)} lacks the columns "
                f"{', '.join(sorted(missing))}: rebuild it with this version"
            )
        base_text = ChunkIndex(self.base.uri, self.model_id, self.dim)
        base_text._reader = self._base_table  # text_search reads only this handle
        # its full-text index into memory (LanceDB's default caches hold it; read-only, so
        # they do not grow past it): a query then fetches no posting list from the store
        base_text.warming = warm_text_index(self._base_table, _fts_index(self._base_table))
        self._base_text = base_text
        Path(self.uri).mkdir(parents=True, exist_ok=True)
        state = self._read_state()
        fresh = state.get("base_uri") != self.base.uri or state.get("build") != manifest["build"]
        self._tombstones = set() if fresh else set(state.get("tombstones") or ())
        super().open()  # the overlay's table, then _load_mirror (below) adds the base's rows
        if fresh:
            # a new overlay, or a new build of the base: the coordinator sends every file
            # again, and each is the base's or the overlay's afresh
            self.rebuilt = True
            self._write_state()

    def _load_mirror(self) -> None:
        super()._load_mirror()
        with self._lock:
            self._overlay = set(self._m.by_path)
        local = self._local_sizes()
        entries = self.base.manifest().get("entries") or {}

        def in_view(path: str) -> bool:
            if path in self._overlay or path in self._tombstones:
                return False
            if local is None:
                return True  # no tree to look at: shown until the coordinator says otherwise
            return local.get(path) == (entries.get(path) or {}).get("size")

        wanted = {path for path in self._base_files if in_view(path)}
        held = {
            path
            for path in self._base_files
            if path not in wanted and (local is None or path in local)
        }
        with self._lock:
            self._base_chunks = self._load_base(wanted, held)
            self._m.settle()
            self._update_view()

    def _load_base(self, wanted: set[str], held: set[str]) -> int:
        """Read the base at open, READ_BATCH rows at a time: the rows of the paths in view
        into the mirror, the vectors of the held paths, every row's key (`_RowKeys`). One
        batch's Python objects at a time: all rows at once as `Chunk`s came to several GB at
        1M rows. Returns the base's row count."""
        query = self._base_table.search().select([*COLUMNS, "vector"]).limit(None)
        keys = _RowKeys()
        count = 0
        try:
            total = self._base_table.count_rows()
            batches = query.with_row_id(True).to_batches(READ_BATCH)
            self._m.reserve(self._m.size + total + total // 16)
            for batch in batches:
                n = batch.num_rows
                if not n:
                    continue
                columns, vectors = batch_rows(batch, self.dim)
                keys.add(batch.column("_rowid").to_numpy(), columns)
                count += n
                take = [i for i, path in enumerate(columns["path"]) if path in wanted]
                if take:
                    self._m.load(
                        {name: [columns[name][i] for i in take] for name in COLUMNS}, vectors[take]
                    )
                    self._shown.update(columns["path"][i] for i in take)
                for i, path in enumerate(columns["path"]):
                    if path in held:
                        key = (columns["kind"][i], columns["symbol"][i], columns["text"][i])
                        self._held.setdefault(path, {})[key] = vectors[i]
        except Exception as e:
            raise BaseIndexError(
                f"cannot read the base index at {describe_uri(self.base.uri)}: "
                f"{type(e).__name__}: {first_line(e)}"
            ) from None
        self._keys = keys.finish()
        return count

    def _local_sizes(self) -> dict[str, int] | None:
        """Size of each base path in the user's tree (missing: not there); None without a
        root to look in."""
        if self.root is None:
            return None
        sizes: dict[str, int] = {}
        root = self.root
        for path in self._base_files:
            try:
                st = os.stat(root / path, follow_symlinks=False)
            except (OSError, ValueError):
                continue
            sizes[path] = st.st_size
        return sizes

    def _read_base(self, paths: Sequence[str]) -> dict[str, tuple[list[Chunk], np.ndarray]]:
        """The base's rows of `paths`, by path, in line order."""
        query = self._base_table.search().select([*COLUMNS, "vector"]).limit(None)
        if paths is not None:
            if not paths:
                return {}
            quoted = ", ".join(f"'{_sql_quote(p)}'" for p in paths)
            query = query.where(f"path IN ({quoted})", prefilter=True)
        columns: dict[str, list[Any]] = {name: [] for name in COLUMNS}
        parts: list[np.ndarray] = []
        try:
            batches = query.to_batches(READ_BATCH)
            for batch in batches:
                n = batch.num_rows
                if not n:
                    continue
                for name in COLUMNS:
                    columns[name].extend(batch.column(name).to_pylist())
                flat = batch.column("vector").flatten().to_numpy(zero_copy_only=False)
                parts.append(np.asarray(flat, dtype=np.float32).reshape(n, self.dim))
        except Exception as e:
            raise BaseIndexError(
                f"cannot read the base index at {describe_uri(self.base.uri)}: "
                f"{type(e).__name__}: {first_line(e)}"
            ) from None
        vectors = np.concatenate(parts) if parts else np.zeros((0, self.dim), np.float32)
        by_path: dict[str, list[int]] = {}
        for i, path in enumerate(columns["path"]):
            by_path.setdefault(path, []).append(i)
        rows: dict[str, tuple[list[Chunk], np.ndarray]] = {}
        for path, at in by_path.items():
            at.sort(key=lambda i: (columns["cell"][i], columns["start_line"][i]))
            chunks = [Chunk(**{name: columns[name][i] for name in COLUMNS}) for i in at]
            rows[path] = (chunks, vectors[at])
        return rows

    # -- the view ------------------------------------------------------------------------------
    def matches_base(self, path: str, sha256: str) -> bool:
        """Whether this content of `path` is the base's (then nothing is written for it)."""
        return bool(sha256) and self._base_files.get(path) == sha256

    def show_base(self, paths: Iterable[str]) -> None:
        """`paths` hold the base's content again: their overlay rows (if any) go, their base
        rows come into view (read from the base only if they were out of it)."""
        wanted = [p for p in dict.fromkeys(paths) if p in self._base_files]
        if not wanted:
            return
        with self._write:
            with self._lock:
                missing = [p for p in wanted if p not in self._shown]
                overlaid = [p for p in missing if p in self._overlay]
            if not missing:
                self._forget_tombstones(wanted)
                return
            rows = self._read_base(missing)
            self._table_delete(overlaid)
            self.writes_since_optimize += bool(overlaid)
            with self._lock:
                for path in missing:
                    self._m.drop(path)
                    chunks, vectors = rows.get(path, ([], np.zeros((0, self.dim), np.float32)))
                    self._m.put(chunks, vectors, np.abs(vectors).sum(axis=1) > 0)
                    self._shown.add(path)
                    self._overlay.discard(path)
                    self._held.pop(path, None)
                self._update_view()
            self._forget_tombstones(wanted)

    def replace_many(self, items: Sequence[tuple[str, Sequence[Chunk], np.ndarray | None]]) -> None:
        """Overlay rows for these paths: any base rows of them leave the view (their vectors
        kept for the next edit)."""
        paths = [path for path, _, _ in items]
        self._hide(paths)
        super().replace_many(items)
        with self._lock:
            for path in paths:
                if path in self._m.by_path:
                    self._overlay.add(path)
                else:
                    self._overlay.discard(path)
            self._update_view()
        self._forget_tombstones(paths)
        # an empty file still shadows the base's rows of its path
        self._add_tombstones([p for p in paths if p in self._base_files and p not in self._overlay])

    def delete(self, paths: Iterable[str]) -> None:
        """Gone from the tree: out of the overlay, and the base's rows hidden (a tombstone)."""
        paths = list(paths)
        self._hide(paths)
        super().delete(paths)
        with self._lock:
            self._overlay.difference_update(paths)
            self._update_view()
        self._add_tombstones([p for p in paths if p in self._base_files])

    def _hide(self, paths: Sequence[str]) -> None:
        with self._lock:
            shown = [p for p in paths if p in self._shown]
            for path in shown:
                self._held[path] = super().known_vectors(path)
                self._m.drop(path)
                self._shown.discard(path)
            if shown:
                self._update_view()

    def known_vectors(self, path: str) -> dict[tuple[str, str, str], np.ndarray]:
        """The overlay's vectors of `path`, and the base's where the overlay has none."""
        own = super().known_vectors(path)
        with self._lock:
            held = self._held.get(path)
            return {**held, **own} if held else own

    def _update_view(self) -> None:
        """The SQL condition that keeps base full-text hits to the paths in view, and the
        overlay's size (under `_lock`, after every change of either)."""
        self._overlay_version += 1
        self._overlay_rows = sum(len(self._m.by_path.get(p, ())) for p in self._overlay)
        self._shown_rows = sum(len(self._m.by_path.get(p, ())) for p in self._shown)
        hidden = [p for p in self._base_files if p not in self._shown]
        if not hidden:
            self._view_sql = (None, False)
        elif len(hidden) <= SQL_PATHS:
            listed = ", ".join(f"'{_sql_quote(p)}'" for p in sorted(hidden))
            self._view_sql = (f"path NOT IN ({listed})", False)
        elif len(self._shown) <= SQL_PATHS:
            listed = ", ".join(f"'{_sql_quote(p)}'" for p in sorted(self._shown)) or "''"
            self._view_sql = (f"path IN ({listed})", False)
        else:
            self._view_sql = (None, True)

    # -- tombstones ----------------------------------------------------------------------------
    def _state_path(self) -> Path:
        return Path(self.uri) / STATE_FILE

    def _read_state(self) -> dict[str, Any]:
        try:
            state = json.loads(self._state_path().read_text())
        except (OSError, ValueError):
            return {}
        return state if isinstance(state, dict) and state.get("format") == STATE_FORMAT else {}

    def _write_state(self) -> None:
        with self._state_lock:
            state = {
                "format": STATE_FORMAT,
                "base_uri": self.base.uri,
                "build": self.base.manifest().get("build"),
                "tombstones": sorted(self._tombstones),
            }
            tmp = self._state_path().with_suffix(".tmp")
            with open(tmp, "w") as f:
                json.dump(state, f)
                f.flush()
                os.fsync(f.fileno())
            tmp.replace(self._state_path())

    def _add_tombstones(self, paths: Sequence[str]) -> None:
        new = set(paths) - self._tombstones
        if new:
            self._tombstones |= new
            self._write_state()

    def _forget_tombstones(self, paths: Sequence[str]) -> None:
        gone = self._tombstones.intersection(paths)
        if gone:
            self._tombstones -= gone
            self._write_state()

    # -- searching -----------------------------------------------------------------------------
    def text_search(self, query: str, pool: int, filters: Filters) -> list[tuple[Key, float]]:
        """The overlay's full-text hits and the base's in view, merged by score: the overlay's
        scored as if its chunks were in the base (`_as_in_base`). The base is asked on a
        thread of its own meanwhile (LanceDB releases the GIL; from object storage its
        first asks wait on the network)."""
        base = self._base_pool.submit(self._base_text_hits, query, pool, filters)
        own = super().text_search(query, pool, filters)
        if own:
            own = self._as_in_base(query, own)
        shown = self._shown
        in_view = [(key, score) for key, score in base.result() if key[0] in shown]
        merged = sorted(own + in_view, key=lambda h: (-h[1], h[0][0], h[0][3], h[0][1]))
        return merged[:pool]

    def _base_text_hits(self, query: str, pool: int, filters: Filters) -> list[tuple[Key, float]]:
        base_text = self._base_text
        if base_text is None:
            return []
        if not (filters.path or filters.language or filters.kind) and self._keys is not None:
            return self._base_hits(query, pool)
        # the filters need the table's columns: LanceDB applies them
        condition, post = self._view_sql
        view = _InView(filters.path, filters.language, filters.kind, condition)
        return base_text.text_search(query, pool * (OVERFETCH if post else 1), view)

    def _base_hits(self, query: str, pool: int) -> list[tuple[Key, float]]:
        """The base's full-text hits by row id (no data read), enough of them that `pool`
        remain once the hidden paths' rows are dropped: exactly so while the hidden rows are
        at most HIDDEN_EXACT, else OVERFETCH times `pool`."""
        words = terms(query)
        keys, base_text = self._keys, self._base_text
        if not words or keys is None or base_text is None:
            return []
        hidden_rows = max(0, self._base_chunks - self._shown_rows)
        limit = pool + hidden_rows if hidden_rows <= HIDDEN_EXACT else pool * OVERFETCH
        rows = base_text._fts_rows(words, None, limit, [])  # row ids and scores
        if rows is None:
            return []
        found = keys.keys([row["_rowid"] for row in rows])
        hits = [(key, row["_score"]) for key, row in zip(found, rows, strict=True) if key]
        hits.sort(key=lambda h: (-h[1], h[0][0], h[0][3], h[0][1]))
        return hits

    def _as_in_base(self, query: str, hits: list[tuple[Key, float]]) -> list[tuple[Key, float]]:
        """The overlay's BM25 scores with the base's inverse document frequencies.

        A BM25 score is a sum over the query's words of idf(word) x a term-frequency part;
        the overlay's idf comes from its own few chunks (N small: a word in one of 30 chunks
        scores a third of what it does in one of 100,000), so its hits would rank below the
        base's however well they match. Each word's part is rescaled by the idf of one table
        holding both over the overlay's own (one small query per word on the overlay; the
        base's document frequency is asked once per word, then remembered: the base does not
        change). The term-frequency part keeps the overlay's average chunk length: on the
        test tree's queries an overlay hit scored 1.0-1.3x what one table of both gave it
        (uncorrected: 0.3x, below every base hit)."""
        n_overlay = self._overlay_rows  # no lock: a search holds it while this runs
        n_base = self._base_chunks
        if not n_overlay or not n_base:
            return hits
        rescored: dict[Key, float] = {}
        version = self._overlay_version
        if self._word_cache[0] != version:  # the overlay was written: its answers changed
            self._word_cache = (version, {})
        cache = self._word_cache[1]
        for word in dict.fromkeys(terms(query)):
            found = cache.get(word)
            if found is None:
                found = _fts(self._reader, word, max(n_overlay, 1))
                if len(cache) < 10_000:
                    cache[word] = found
            if not found:
                continue
            # as one table of both: its chunks and the documents holding the word add up
            ratio = _idf(n_base + n_overlay, self._base_df(word) + len(found)) / _idf(
                n_overlay, len(found)
            )
            for key, score in found.items():
                rescored[key] = rescored.get(key, 0.0) + score * ratio
        return [(key, rescored.get(key, score)) for key, score in hits]

    def _base_df(self, word: str) -> int:
        """How many of the base's chunks hold `word` (at most DF_CAP)."""
        known = self._df.get(word)
        if known is None:
            known = _count(self._base_table, word, DF_CAP)
            if len(self._df) > 100_000:
                self._df.clear()
            self._df[word] = known
        return known

    # -- status --------------------------------------------------------------------------------
    def describe(self) -> dict[str, Any]:
        """The base and the overlay for /health and status (no storage option, no secret).
        Takes no lock: the sidecar's event loop asks for it."""
        manifest = self.base.manifest()
        return {
            "uri": describe_uri(self.base.uri),
            "commit": manifest.get("commit"),
            "dirty": bool(manifest.get("dirty")),
            "build": manifest.get("build"),
            "model_id": manifest.get("model_id"),
            "files": len(self._base_files),
            "chunks": self._base_chunks,
            "files_in_view": len(self._shown),
            "chunks_in_view": self._shown_rows,
            "files_hidden": len(self._base_files) - len(self._shown),
            "overlay_files": len(self._overlay),
            "overlay_chunks": self._overlay_rows,
            "deleted_files": len(self._tombstones),
        }
