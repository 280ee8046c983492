"""What an index was built from: the git commit and each file's content hash.

`jupyter workspace index` records it next to the chunk table, as two more LanceDB tables of
the same database (so it lives wherever the index does, a folder or ``s3://…``, and is written
and read with the same ``storage_options``):

- ``manifest_files``: one row per file of the tree the indexer looked at: ``path`` (root-
  relative, POSIX), ``sha256`` (of the file's bytes, as ``sha256sum`` prints it; empty for a
  skipped file), ``blake2b`` (the server catalog's hash of the same bytes, 32 hex digits),
  ``size``, ``mtime``, ``chunks``, ``language``, ``skip`` (why it is not in the index: too
  large, binary, ...; empty when it is). Rows are upserted batch by batch as the files are
  written to the index, so an interrupted run resumes from them.
- ``manifest_builds``: one row per run: when it started and finished, ``complete`` (the run
  reached its end), ``commit`` / ``dirty`` / ``git_prefix`` (the tree's git commit, whether the
  work tree differed from it, and where PATH sits in the repository), ``model_id``, ``dim``,
  ``root`` and the package version.

`read_manifest(uri)` gives both as one dict (the newest build's fields, plus ``files``:
``{path: sha256}`` of the indexed files and ``entries``: the full rows). A base index's reader
(the local overlay) compares ``files`` with the hashes of the user's tree (`file_sha256`):
a file whose hash differs, or that the base lacks, is the overlay's to index.

Heavy imports (lancedb, pyarrow) happen inside the functions.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from collections.abc import Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any

FILES_TABLE = "manifest_files"
BUILDS_TABLE = "manifest_builds"
MANIFEST_FORMAT = 1
ENTRY_FIELDS = ("path", "sha256", "blake2b", "size", "mtime", "chunks", "language", "skip")


def file_sha256(path: str | Path) -> str:
    """The sha256 of a file's bytes (what `manifest_files.sha256` holds)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _schemas() -> tuple[Any, Any]:
    import pyarrow as pa

    files = pa.schema(
        [
            pa.field("path", pa.string()),
            pa.field("sha256", pa.string()),
            pa.field("blake2b", pa.string()),
            pa.field("size", pa.int64()),
            pa.field("mtime", pa.float64()),
            pa.field("chunks", pa.int32()),
            pa.field("language", pa.string()),
            pa.field("skip", pa.string()),
        ]
    )
    builds = pa.schema(
        [
            pa.field("build", pa.string()),  # the run's id: its start time and a random part
            pa.field("started", pa.float64()),
            pa.field("finished", pa.float64()),  # 0 until it finishes
            pa.field("complete", pa.bool_()),
            pa.field("info", pa.string()),  # JSON: commit, dirty, model_id, dim, root, ...
        ]
    )
    return files, builds


def _connect(uri: str, storage_options: dict[str, str] | None) -> Any:
    import lancedb

    if "://" not in uri:
        Path(uri).mkdir(parents=True, exist_ok=True)
    return lancedb.connect(uri, storage_options=storage_options)


def _names(db: Any) -> set[str]:
    listed = db.list_tables() if hasattr(db, "list_tables") else db.table_names()
    return set(getattr(listed, "tables", listed))


class Manifest:
    """The writer: `jupyter workspace index` opens it, upserts each batch's files, and marks
    the build complete at the end."""

    def __init__(self, uri: str, storage_options: dict[str, str] | None = None) -> None:
        self.uri = uri
        db = _connect(uri, storage_options)
        files_schema, builds_schema = _schemas()
        names = _names(db)
        self._files = (
            db.open_table(FILES_TABLE)
            if FILES_TABLE in names
            else db.create_table(FILES_TABLE, schema=files_schema)
        )
        self._builds = (
            db.open_table(BUILDS_TABLE)
            if BUILDS_TABLE in names
            else db.create_table(BUILDS_TABLE, schema=builds_schema)
        )
        self.build: str | None = None
        self._info: dict[str, Any] = {}
        self._started = 0.0

    def entries(self) -> dict[str, dict[str, Any]]:
        """Every recorded file: path -> its row."""
        rows = self._files.to_arrow().to_pylist()
        return {row["path"]: row for row in rows}

    def previous_info(self) -> dict[str, Any]:
        """The newest build's info ({} if none)."""
        return _newest_build(self._builds)[1]

    def start(self, info: dict[str, Any]) -> None:
        """Record a new run (not complete until `finish`)."""
        self._started = time.time()
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(self._started))
        self.build = f"{stamp}-{secrets.token_hex(3)}"
        self._info = {"format": MANIFEST_FORMAT, **info}
        self._builds.add(
            [
                {
                    "build": self.build,
                    "started": self._started,
                    "finished": 0.0,
                    "complete": False,
                    "info": json.dumps(self._info),
                }
            ]
        )

    def put(self, entries: Iterable[dict[str, Any]]) -> None:
        rows = [{name: entry.get(name) for name in ENTRY_FIELDS} for entry in entries]
        for row in rows:
            row["sha256"] = row["sha256"] or ""
            row["blake2b"] = row["blake2b"] or ""
            row["language"] = row["language"] or ""
            row["skip"] = row["skip"] or ""
            row["chunks"] = int(row["chunks"] or 0)
            row["size"] = int(row["size"] or 0)
            row["mtime"] = float(row["mtime"] or 0.0)
        if rows:
            (
                self._files.merge_insert("path")
                .when_matched_update_all()
                .when_not_matched_insert_all()
                .execute(rows)
            )

    def drop(self, paths: list[str]) -> None:
        for start in range(0, len(paths), 200):
            quoted = ", ".join("'" + p.replace("'", "''") + "'" for p in paths[start : start + 200])
            self._files.delete(f"path IN ({quoted})")

    def clear(self) -> None:
        self._files.delete("true")

    def finish(self, extra: dict[str, Any]) -> None:
        """Mark this run complete, with what it did (`extra` is merged into its info)."""
        assert self.build is not None
        self._info.update(extra)
        self._builds.update(
            where=f"build = '{self.build}'",
            values={"finished": time.time(), "complete": True, "info": json.dumps(self._info)},
        )

    def compact(self) -> None:
        """Fold the batches' versions together and drop the old ones (each upsert is one)."""
        for table in (self._files, self._builds):
            table.optimize(cleanup_older_than=timedelta(seconds=10))


def _newest_build(table: Any) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    rows = table.to_arrow().to_pylist()
    if not rows:
        return None, {}
    row = max(rows, key=lambda r: r["started"])
    try:
        info = json.loads(row["info"] or "{}")
    except ValueError:
        info = {}
    return row, info


def read_manifest(uri: str, storage_options: dict[str, str] | None = None) -> dict[str, Any]:
    """What the index at `uri` was built from::

        {"commit": "3f2a…" | None, "dirty": bool, "git_prefix": "src/", "model_id": …,
         "dim": 384, "root": "/ci/checkout", "complete": True, "started": 1764…,
         "finished": 1764…, "build": "20261204T231500Z", "version": "…",
         "files": {path: sha256}, "entries": {path: {sha256, blake2b, size, mtime, chunks,
         language, skip}}}

    ``files`` holds the files in the index (skipped ones are only in ``entries``, with their
    reason). An index no `jupyter workspace index` wrote has ``files == {}`` and
    ``complete is False`` (and ``build is None``)."""
    import lancedb

    if "://" not in uri and not Path(uri).is_dir():
        names: set[str] = set()
        db = None
    else:
        db = lancedb.connect(uri, storage_options=storage_options)
        names = _names(db)
    answer: dict[str, Any] = {
        "commit": None,
        "dirty": False,
        "complete": False,
        "build": None,
        "files": {},
        "entries": {},
    }
    if db is not None and BUILDS_TABLE in names:
        row, info = _newest_build(db.open_table(BUILDS_TABLE))
        answer.update(info)
        if row is not None:
            answer.update(
                build=row["build"],
                started=row["started"],
                finished=row["finished"] or None,
                complete=bool(row["complete"]),
            )
    if db is not None and FILES_TABLE in names:
        rows = db.open_table(FILES_TABLE).to_arrow().to_pylist()
        answer["entries"] = {row["path"]: row for row in rows}
        answer["files"] = {row["path"]: row["sha256"] for row in rows if not row["skip"]}
    return answer
