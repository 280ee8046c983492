"""The chunk index: LanceDB on disk (durable rows + full-text index), vectors mirrored in memory.

LanceDB keeps every chunk with its vector, text, path, lines, symbol, kind and language, and
answers full-text queries from its native FTS index (rows added since the index was built are
searched too). Vector search runs on the mirror, in this process: LanceDB without an ANN index
takes ~300 ms at 100k rows (shared/FACTS.md), and an ANN index takes minutes to build. Hybrid
search fuses both rankings (ranking.py).

The mirror holds per row only what a scan or the ranking touches (~250 bytes at 384
dimensions: a binary code, filter codes, lines, the symbol, names in a hash index): a vector
search scans the binary codes for the CANDIDATES rows nearest in Hamming distance (at least
CANDIDATE_SHARE of them), keeps the RESCORE best of them by the unquantized query's score
against their codes, and rescores those with their float32 vectors, read from an unlinked
memory-mapped file; the text of the few rows a search shows comes from a second unlinked
file. Past COMPILED_ROWS the scans run compiled (kernels.py). Both files are rebuilt from the
table on every open. At 1M rows float32 vectors and text as Python objects were ~3 GB; this
is ~300 MiB (bench/bench_scale.py, bench/results/scale.md).

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

import json
import logging
import mmap
import os
import re
import tempfile
import threading
import weakref
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np

from .. import protocol
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
KEY_COLUMNS = ["path", "start_line", "end_line", "cell"]  # a row's Key
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
# ... but the full-text handle's index cache holds the whole full-text index, so that a query
# reads no posting list from disk: at 1M rows (a 92 MB index) full-text p50/p95 was 14.6/27.8
# ms with a 16 MiB cache, 3.6/6.3 ms with 128 MiB, after 0.3 s of `prewarm_index` at open
# (bench/results/scale.md). LanceDB's form in memory is larger than its files (a 96 MiB cache
# cannot hold that 92 MB index): the cap is TEXT_CACHE_FACTOR x the index's size on disk, at
# least INDEX_CACHE_BYTES, at most TEXT_CACHE_MAX; the handle is opened again with a larger cap
# when the index outgrows it (TEXT_CACHE_REFIT). Growth under writes stays within the cap.
TEXT_CACHE_FACTOR = 2.0
TEXT_CACHE_REFIT = 1.6  # reopen the full-text handle once this x the index's size passes its cap
TEXT_CACHE_MAX = 512 * 1024 * 1024
# Vector search rescores exactly the RESCORE rows nearest by binary code. Recall@10 against
# float32 brute force at 1M rows, RESCORE 2000 -> 4000 (bench/results/scale.md): 0.92 -> 0.96
# on rows derived from 6,000 real vectors, 0.9945 -> 0.9975 from 12k (the lead's prototype);
# the rescoring's float32 reads cost ~5-8 ms more.
RESCORE = 4000
# ... and before that, of the CANDIDATES rows nearest by binary code (at least CANDIDATE_SHARE
# of the rows: the share a fixed count keeps falls as the index grows) keeps the RESCORE best
# by the asymmetric score (the query unquantized against the codes). At 1M rows from 6,000
# real vectors (bench/results/scale.md, 2026-12-06 night), recall@10 with Hamming alone
# 0.948; 30,000: 0.9917 (0.9950 on the identifier queries, 0.9883 on the phrases); 50,000:
# 0.9942 (0.9967 / 0.9917), for ~1-3 ms more with the compiled scans.
CANDIDATES = 30000
CANDIDATE_SHARE = 0.05
# Past this many rows the Hamming scan and the asymmetric score run compiled (sidecar/kernels.py,
# numba): at 1M rows the vector half 27.5 -> 14.1 ms p50 (same run). Below it numpy costs a few
# ms and numba (~130 MiB of RSS once loaded and compiled) is not loaded at all.
COMPILED_ROWS = 200_000
SCAN_BLOCK = 32768  # rows per step of numpy's Hamming scan (its buffers stay in the CPU's cache)
ASYMMETRIC_BLOCK = 2048  # rows per step of numpy's asymmetric score
LOAD_BATCH = 16384  # rows read at a time when the mirror is filled from the table
CENTRE_ROWS = 65536  # rows the binary codes' centre is taken from (then it stays)
HEAP_ARENAS = 2  # see _tune_heap
HEAP_MMAP_BYTES = 1024 * 1024
HEAP_TRIM_BYTES = 4 * 1024 * 1024
TEXT_COMPACT_BYTES = 64 * 1024 * 1024  # dead text bytes before the text file is rewritten
SYMBOL_COMPACT_BYTES = 1024 * 1024  # dead symbol bytes before their buffer is rewritten
NAME_MERGE_ROWS = 65536  # name entries added or dropped before the sorted arrays are redone
_DONTNEED = getattr(mmap, "MADV_DONTNEED", None)
# bit k of each byte value, in np.packbits' order (the first dimension in the highest bit)
_BYTE_BITS = ((np.arange(256)[:, None] >> np.arange(7, -1, -1)) & 1).astype(np.float32)


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
        return protocol.path_glob(self.path)


def _sql_quote(value: str) -> str:
    return value.replace("'", "''")


class _VectorFile:
    """The vectors by slot: float32 rows in an unlinked file, memory-mapped, and their binary
    codes (one bit per dimension: above or below the mean vector) in memory, a row's together.

    A search scans the codes (48 bytes a row at 384 dimensions, 48 MB at 1M rows) for the
    CANDIDATES rows nearest in Hamming distance, keeps the RESCORE best by the asymmetric
    score (`asymmetric`) and rescores those exactly from the file: the
    float32 rows (1.5 GB at 1M) stay in the page cache, not in the process. After each use the
    mapping is dropped from the process (MADV_DONTNEED): the kernel maps the whole page-cache
    folio around a touched page, ~2 MB on this machine's ext4 (Linux 6.18), so the 4,000 rows
    a search rescores map ~1.45 GB of the file for the ~8 ms of their reading (VmHWM shows
    it; VmRSS between searches does not). Where fewer valid rows than RESCORE are left, all
    are scored exactly: brute force.
    """

    def __init__(self, dim: int, directory: str | None) -> None:
        self.dim = dim
        self.words = (dim + 63) // 64
        # unlinked at once: nothing is left behind, whatever ends the process
        self.file = tempfile.TemporaryFile(  # noqa: SIM115 - lives as long as the mirror
            prefix="jupyter-workspace-vectors-", dir=directory
        )
        weakref.finalize(self, self.file.close)
        self.capacity = 0
        self._map: mmap.mmap | None = None
        self.rows = np.zeros((0, dim), dtype=np.float32)
        self.bits = np.zeros((0, self.words), dtype=np.uint64)
        self.centre = np.zeros(dim, dtype=np.float32)
        self.centred_at = 0  # embedded rows when the centre was last taken
        # `hamming`'s buffer, kept between searches: 2 MB at 1M rows, allocated per search it
        # grows the heap (glibc serves it from freed memory it keeps) or faults in fresh pages
        self._distance = np.zeros(0, dtype=np.uint16)
        self._xor = np.empty(SCAN_BLOCK, dtype=np.uint64)
        self._count = np.empty(SCAN_BLOCK, dtype=np.uint8)

    def grow(self, capacity: int) -> None:
        self.rows = np.zeros((0, self.dim), dtype=np.float32)  # no view may outlive the map
        if self._map is not None:
            self._map.close()
        os.ftruncate(self.file.fileno(), capacity * self.dim * 4)
        self._map = mmap.mmap(self.file.fileno(), capacity * self.dim * 4)
        self.rows = np.frombuffer(self._map, dtype=np.float32).reshape(capacity, self.dim)
        bits = np.zeros((capacity, self.words), dtype=np.uint64)
        bits[: self.capacity] = self.bits
        self.bits = bits
        self.capacity = capacity

    def release(self) -> None:
        """Unmap the pages this process touched (they stay in the page cache): see the class."""
        if self._map is not None and _DONTNEED is not None:
            self._map.madvise(_DONTNEED)

    def encode(self, vectors: np.ndarray) -> np.ndarray:
        """Binary codes of `vectors`, (n, words)."""
        signs = np.zeros((len(vectors), self.words * 64), dtype=bool)
        signs[:, : self.dim] = vectors > self.centre
        return np.packbits(signs, axis=1).view(np.uint64)

    def set(self, slots: np.ndarray, vectors: np.ndarray) -> None:
        self.rows[slots] = vectors
        self.bits[slots] = self.encode(vectors)
        self.release()  # written pages stay mapped (and in RSS) otherwise: 1.5 GB at 1M

    def recentre(self, embedded: np.ndarray, size: int) -> None:
        """Take the centre again when the embedded rows have doubled since it was taken, up to
        CENTRE_ROWS of them (then it no longer moves): sign bits around the mean split the
        rows far better than around zero (MiniLM's vectors share a large common part), and
        re-encoding is cheap while the index is small."""
        count = int(embedded[:size].sum())
        if not count or count < 2 * self.centred_at or self.centred_at >= CENTRE_ROWS:
            return
        sample = np.flatnonzero(embedded[:size])
        if len(sample) > CENTRE_ROWS:
            sample = sample[:: len(sample) // CENTRE_ROWS][:CENTRE_ROWS]
        total = np.zeros(self.dim, dtype=np.float64)
        for start in range(0, len(sample), 4096):  # each row read maps ~2 MB: see `release`
            total += self.rows[sample[start : start + 4096]].sum(axis=0)
            self.release()
        self.centre = (total / len(sample)).astype(np.float32)
        for start in range(0, size, 65536):
            self.bits[start : start + 65536] = self.encode(self.rows[start : start + 65536])
            self.release()  # else the whole file is mapped by the end: 1.5 GB more RSS at 1M
        self.centred_at = count

    def nearest(self, query: np.ndarray, valid: np.ndarray, pool: int) -> list[tuple[int, float]]:
        """The best `pool` of the `valid` rows by exact cosine (rows are unit length), with
        their cosines, best first. Three stages where there are many rows: the CANDIDATES
        nearest by Hamming distance between codes; of those the RESCORE best by the query's
        own values summed over each code's bits (asymmetric: only the rows are quantized);
        those scored exactly."""
        keep = max(RESCORE, pool)
        _COMPILED.want(len(valid))
        count = int(np.count_nonzero(valid))
        if count > keep:
            distance, histogram = self.hamming(self.encode(query[None, :])[0], valid)
            # the smallest distance that keeps enough rows: distances are small integers, so
            # a histogram finds it in one pass where a partial sort takes several
            first = min(max(CANDIDATES, int(CANDIDATE_SHARE * count), keep), count)
            within = np.cumsum(histogram)
            threshold = int(np.searchsorted(within, first))
            candidates, closer = self.asymmetric(query, distance, threshold, int(within[threshold]))
            if len(candidates) > keep:
                candidates = np.sort(candidates[np.argpartition(-closer, keep - 1)[:keep]])
        else:
            candidates = np.flatnonzero(valid)
        if not len(candidates):
            return []
        # in file order: the pages are mapped in one sweep, not back and forth
        scores = self.rows[candidates] @ query
        self.release()
        pool = min(pool, len(scores))
        top = np.argpartition(-scores, pool - 1)[:pool]
        top = top[np.lexsort((candidates[top], -scores[top]))]
        return [(int(candidates[i]), float(scores[i])) for i in top]

    def hamming(self, code: np.ndarray, valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The Hamming distance of every row's code to `code` (more than any where not `valid`)
        and the histogram of the valid rows' distances. Compiled (`kernels.hamming`) or in
        numpy, SCAN_BLOCK rows at a time into buffers kept between searches: whole-array
        temporaries (8 MB per code word at 1M rows; `bincount` of the whole array casts it to
        int64) leave the CPU's cache and, allocated per search, grow the heap (glibc serves
        them from freed memory it keeps) or fault in fresh pages (when it maps them)."""
        size = len(valid)
        if len(self._distance) < size:
            self._distance = np.empty(self.capacity, dtype=np.uint16)
        distance = self._distance[:size]
        bins = self.words * 64 + 1
        histogram = np.zeros(bins, dtype=np.int64)
        if (compiled := _COMPILED.ready()) is not None:
            compiled.hamming(self.bits, code, valid, distance, histogram)
            return distance, histogram
        xor, count = self._xor, self._count
        for start in range(0, size, SCAN_BLOCK):
            end = min(start + SCAN_BLOCK, size)
            n = end - start
            out = distance[start:end]
            out.fill(0)
            for word in range(self.words):
                np.bitwise_xor(self.bits[start:end, word], code[word], out=xor[:n])
                np.bitwise_count(xor[:n], out=count[:n])
                np.add(out, count[:n], out=out)
            np.putmask(out, ~valid[start:end], bins)  # beyond any code's distance
            histogram += np.bincount(out, minlength=bins + 1)[:bins]
        return distance, histogram

    def asymmetric(
        self, query: np.ndarray, distance: np.ndarray, threshold: int, within: int
    ) -> tuple[np.ndarray, np.ndarray]:
        """The `within` rows whose `distance` is at most `threshold`, in order, and for each
        the sum of the centred query's values over the dimensions its code has above the
        centre: the query's dot product with the code (as 0/1), whose order is that of the
        dot product with the code as -1/+1. A table per code byte (256 sums of up to 8
        values) turns it into one lookup per byte. The rows' codes are gathered first, so
        that their cache misses overlap."""
        centred = np.zeros(self.words * 64, dtype=np.float32)
        centred[: self.dim] = query - self.centre
        table = np.ascontiguousarray(centred.reshape(-1, 8) @ _BYTE_BITS.T)  # (bytes, 256)
        scores = np.empty(within, dtype=np.float32)
        if (compiled := _COMPILED.ready()) is not None:
            rows = np.empty(within + 1, dtype=np.int64)  # + 1: see `kernels.within`
            found = compiled.within(distance, threshold, rows)
            assert found == within, (found, within)
            rows = rows[:within]
            compiled.asymmetric(np.take(self.bits, rows, axis=0).view(np.uint8), table, scores)
            return rows, scores
        rows = np.flatnonzero(distance <= threshold)
        offsets = np.arange(self.words * 8, dtype=np.intp) * 256
        flat = table.ravel()
        for start in range(0, len(rows), ASYMMETRIC_BLOCK):  # small temporaries: see `hamming`
            codes = np.take(self.bits, rows[start : start + ASYMMETRIC_BLOCK], axis=0)
            np.take(flat, codes.view(np.uint8) + offsets).sum(
                axis=1, out=scores[start : start + len(codes)]
            )
        return rows, scores


class _Compiled:
    """sidecar/kernels.py, imported and compiled on a thread by the first search of an index
    past COMPILED_ROWS (searches meanwhile run in numpy; an indexer that never searches never
    loads it); one per process."""

    def __init__(self) -> None:
        self._module: Any = None
        self._lock = threading.Lock()
        self.loading: threading.Thread | None = None

    def want(self, rows: int) -> None:
        if rows < COMPILED_ROWS or self.loading is not None:
            return
        with self._lock:
            if self.loading is None:
                self.loading = threading.Thread(
                    target=self._load, name="index-kernels", daemon=True
                )
                self.loading.start()

    def _load(self) -> None:
        try:
            from . import kernels

            kernels.warm()
            self._module = kernels
        except Exception:  # e.g. numba missing on this platform: the numpy scans stay
            log.exception("the vector search's compiled scans did not load: numpy scans")

    def ready(self) -> Any:
        """The compiled kernels, or None while they are not loaded (or not wanted)."""
        return self._module


_COMPILED = _Compiled()


class _TextFile:
    """What ranking does not need for every row (a chunk's text and listed names), appended
    to an unlinked file and read back by (offset, length) for the few rows a search shows:
    at 1M chunks the text is ~1.5 GB, too much to keep as Python strings."""

    def __init__(self, directory: str | None) -> None:
        self.file = tempfile.TemporaryFile(  # noqa: SIM115 - lives as long as the mirror
            prefix="jupyter-workspace-text-", dir=directory
        )
        weakref.finalize(self, self.file.close)
        self.end = 0
        self.dead = 0  # bytes of records no slot points to

    def append(self, records: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
        lengths = np.array([len(r) for r in records], dtype=np.int64)
        offsets = self.end + np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
        os.pwrite(self.file.fileno(), b"".join(records), self.end)
        self.end += int(lengths.sum())
        return offsets, lengths

    def read(self, offset: int, length: int) -> bytes:
        return os.pread(self.file.fileno(), length, offset)


class _NameIndex:
    """Rows by the lower-case names they answer to, as sorted (hash, slot, version) arrays
    plus a small dict of recent additions: a dict of sets held ~400 MB at 1M rows. A dropped
    row's entries are left behind and skipped (its slot's version moved on) until the next
    merge sweeps them out."""

    def __init__(self) -> None:
        self.hashes = np.zeros(0, dtype=np.int64)
        self.slots = np.zeros(0, dtype=np.int64)  # slot << 32 | version
        self.recent: dict[int, list[int]] = {}
        self.recent_count = 0
        self.dead = 0

    def add(self, names: Iterable[str], tagged: int) -> None:
        for name in names:
            self.recent.setdefault(hash(name), []).append(tagged)
            self.recent_count += 1

    def get(self, name: str, version: np.ndarray) -> list[int]:
        h = hash(name)
        lo, hi = np.searchsorted(self.hashes, h, "left"), np.searchsorted(self.hashes, h, "right")
        tagged = [*self.slots[lo:hi].tolist(), *self.recent.get(h, ())]
        return sorted({t >> 32 for t in tagged if int(version[t >> 32]) == t & 0xFFFFFFFF})

    def maybe_merge(self, version: np.ndarray) -> None:
        if self.recent_count + self.dead < max(NAME_MERGE_ROWS, len(self.hashes) // 4):
            return
        hashes = [self.hashes] + [
            np.full(len(tagged), h, dtype=np.int64) for h, tagged in self.recent.items()
        ]
        slots = [self.slots] + [np.array(t, dtype=np.int64) for t in self.recent.values()]
        all_hashes, all_slots = np.concatenate(hashes), np.concatenate(slots)
        keep = version[all_slots >> 32].astype(np.int64) == all_slots & 0xFFFFFFFF
        all_hashes, all_slots = all_hashes[keep], all_slots[keep]
        order = np.argsort(all_hashes, kind="stable")
        self.hashes, self.slots = all_hashes[order], all_slots[order]
        self.recent, self.recent_count, self.dead = {}, 0, 0


class _Symbols:
    """Each slot's symbol, UTF-8 in one buffer, by (offset, length): as a list of Python
    strings the symbols held 73 MiB at 1M rows, ~12 bytes a row plus the text this way.
    A dropped slot's bytes stay behind until `compact` rewrites the buffer."""

    def __init__(self) -> None:
        self.blob = bytearray()
        self.at = np.zeros(0, dtype=np.int64)
        self.length = np.zeros(0, dtype=np.int32)
        self.dead = 0

    def reserve(self, capacity: int) -> None:
        grow = capacity - len(self.at)
        self.at = np.concatenate([self.at, np.zeros(grow, np.int64)])
        self.length = np.concatenate([self.length, np.zeros(grow, np.int32)])

    def __getitem__(self, slot: int) -> str:
        at = int(self.at[slot])
        return self.blob[at : at + int(self.length[slot])].decode()

    def set(self, slots: np.ndarray, symbols: Iterable[str | None]) -> None:
        encoded = [(symbol or "").encode() for symbol in symbols]
        lengths = np.fromiter(map(len, encoded), dtype=np.int32, count=len(encoded))
        self.dead += int(self.length[slots].sum())
        self.at[slots] = len(self.blob) + np.cumsum(lengths) - lengths
        self.length[slots] = lengths
        self.blob += b"".join(encoded)

    def drop(self, slots: np.ndarray) -> None:
        self.dead += int(self.length[slots].sum())
        self.length[slots] = 0

    def compact(self, live: np.ndarray) -> None:
        """Rewrite the buffer with the `live` slots' symbols once most of it is dead."""
        if self.dead <= max(len(self.blob) // 2, SYMBOL_COMPACT_BYTES):
            return
        slots = np.flatnonzero(live)
        parts = [self[slot].encode() for slot in slots.tolist()]
        lengths = self.length[slots]
        self.blob = bytearray(b"".join(parts))
        self.at[slots] = np.cumsum(lengths) - lengths
        self.dead = 0


class _Chunks:
    """`mirror.chunks[slot]`: the chunk a slot holds (None for a free slot), put together
    from the mirror's columns and the text file."""

    def __init__(self, mirror: _Mirror) -> None:
        self.m = mirror

    def __getitem__(self, slot: int) -> Chunk | None:
        m = self.m
        if slot >= m.size or not m.live[slot]:
            return None
        names, text = _unpack(m.text.read(int(m.text_at[slot]), int(m.text_len[slot])))
        return Chunk(
            m.names["path"][m.codes["path"][slot]],
            m.names["language"][m.codes["language"][slot]],
            m.names["kind"][m.codes["kind"][slot]],
            m.symbols[slot],
            int(m.lines[0, slot]),
            int(m.lines[1, slot]),
            text,
            names,
            int(m.lines[2, slot]),
        )


class _Mirror:
    """Row-aligned columns of the table in memory; slots are reused after deletes.

    Per row in memory: the binary code, the filter codes, lines and cell, the symbol, where
    the text is in the text file, and the row's names in the name index (~150 bytes at 384
    dimensions). The float32 vectors and the text live in unlinked files (rebuilt from the
    table on every open).
    """

    def __init__(self, dim: int, directory: str | None = None) -> None:
        self.dim = dim
        self.directory = directory
        self.size = 0  # slots in use or freed: arrays are valid up to here
        self.vectors = _VectorFile(dim, directory)
        self.text = _TextFile(directory)
        self.live = np.zeros(0, dtype=bool)
        self.embedded = np.zeros(0, dtype=bool)
        self.version = np.zeros(0, dtype=np.uint32)  # bumped when a slot is dropped
        self.codes = {name: np.zeros(0, dtype=np.int32) for name in CODED}
        self.vocab: dict[str, dict[str, int]] = {name: {} for name in CODED}
        self.names: dict[str, list[str]] = {name: [] for name in CODED}  # code -> value
        self.lines = np.zeros((3, 0), dtype=np.int32)  # start_line, end_line, cell
        self.text_at = np.zeros(0, dtype=np.int64)
        self.text_len = np.zeros(0, dtype=np.int64)
        # the table row each slot holds (LanceDB's `_rowid`; -1: not known), and those row
        # ids sorted with their slots: a full-text query then asks for row ids and scores
        # alone (reading the four key columns of 50 rows took 8 of its 14 ms at 1M rows)
        self.rowid = np.zeros(0, dtype=np.int64)
        self.by_rowid = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        self.symbols = _Symbols()
        self.chunks = _Chunks(self)
        self.free: list[int] = []
        self.by_path: dict[str, np.ndarray] = {}
        self.generation: dict[str, int] = {}  # bumped by every write of a path
        self.pending = 0  # live rows without a vector
        self.by_name = _NameIndex()  # lower-case symbol, short name, listed name

    def reserve(self, need: int) -> None:
        capacity = len(self.live)
        if need <= capacity:
            return
        # a quarter more, not twice: at 1M rows each doubling left ~0.7M slots unused (~60 MiB
        # of codes and columns); `_load_mirror` reserves the table's rows at once
        new = max(need, capacity + capacity // 4, 1024)
        grow = new - capacity
        self.vectors.grow(new)
        self.live = np.concatenate([self.live, np.zeros(grow, bool)])
        self.embedded = np.concatenate([self.embedded, np.zeros(grow, bool)])
        self.version = np.concatenate([self.version, np.zeros(grow, np.uint32)])
        for name in CODED:
            self.codes[name] = np.concatenate([self.codes[name], np.zeros(grow, np.int32)])
        self.lines = np.concatenate([self.lines, np.zeros((3, grow), np.int32)], axis=1)
        self.text_at = np.concatenate([self.text_at, np.zeros(grow, np.int64)])
        self.text_len = np.concatenate([self.text_len, np.zeros(grow, np.int64)])
        self.rowid = np.concatenate([self.rowid, np.full(grow, -1, np.int64)])
        self.symbols.reserve(new)

    def code(self, column: str, value: str) -> int:
        vocab = self.vocab[column]
        found = vocab.get(value)
        if found is None:
            found = vocab[value] = len(vocab)
            self.names[column].append(value)
        return found

    def put(self, chunks: Sequence[Chunk], vectors: np.ndarray, embedded: np.ndarray) -> None:
        """Add the rows of one path (whose old rows are gone)."""
        if not chunks:
            return
        slots = [self.free.pop() for _ in range(min(len(self.free), len(chunks)))]
        extra = len(chunks) - len(slots)
        if extra:
            self.reserve(self.size + extra)
            slots += range(self.size, self.size + extra)
            self.size += extra
        index = np.asarray(slots)
        self.rowid[index] = -1  # the table gives the new rows their ids: `align_rowids`
        self.vectors.set(index, vectors)
        self.live[index] = True
        self.embedded[index] = embedded
        self.pending += int(len(chunks) - embedded.sum())
        path = chunks[0].path
        for name in CODED:
            self.codes[name][index] = [self.code(name, getattr(c, name)) for c in chunks]
        self.lines[:, index] = [
            [c.start_line for c in chunks],
            [c.end_line for c in chunks],
            [c.cell for c in chunks],
        ]
        self.text_at[index], self.text_len[index] = self.text.append(
            [_pack(c.names, c.text) for c in chunks]
        )
        self.symbols.set(index, [c.symbol for c in chunks])
        for slot, chunk in zip(slots, chunks, strict=True):
            self.by_name.add(_names_of(chunk), slot << 32 | int(self.version[slot]))
        self.by_path[path] = index

    def load(
        self, columns: dict[str, list[Any]], vectors: np.ndarray, rowids: np.ndarray | None = None
    ) -> None:
        """Append rows read from the table (at open, into an empty mirror): `put` by the
        batch rather than by the path, ~3x faster at 1M rows. `rowids`: their `_rowid`s in
        the table the full-text queries go to (`index_rowids` makes them searchable)."""
        n = len(vectors)
        index = np.arange(self.size, self.size + n)
        self.reserve(self.size + n)
        self.size += n
        if rowids is not None:
            self.rowid[index] = rowids
        embedded = np.abs(vectors).sum(axis=1) > 0
        self.vectors.set(index, vectors)
        self.live[index] = True
        self.embedded[index] = embedded
        self.pending += int(n - embedded.sum())
        for name in CODED:
            self.codes[name][index] = [self.code(name, value) for value in columns[name]]
        self.lines[:, index] = [columns["start_line"], columns["end_line"], columns["cell"]]
        self.text_at[index], self.text_len[index] = self.text.append(
            [
                _pack(names, text)
                for names, text in zip(columns["names"], columns["text"], strict=True)
            ]
        )
        self.symbols.set(index, columns["symbol"])
        version = self.version
        for slot, symbol, names in zip(
            index.tolist(), columns["symbol"], columns["names"], strict=True
        ):
            self.by_name.add(_names(symbol, names), slot << 32 | int(version[slot]))
        by_path: dict[str, list[int]] = {}
        for slot, path in zip(index.tolist(), columns["path"], strict=True):
            by_path.setdefault(path, []).append(slot)
        for path, slots in by_path.items():
            old = self.by_path.get(path)  # a path's rows may straddle two batches
            new = np.asarray(slots)
            self.by_path[path] = new if old is None else np.concatenate([old, new])
        self.by_name.maybe_merge(self.version)

    def drop(self, path: str) -> None:
        slots = self.by_path.pop(path, None)
        self.generation[path] = self.generation.get(path, 0) + 1
        if slots is None or not len(slots):
            return
        self.rowid[slots] = -1  # first: `keys_of_rowids` reads without the lock
        self.pending -= int(len(slots) - self.embedded[slots].sum())
        self.live[slots] = False
        self.embedded[slots] = False
        self.version[slots] += 1
        self.text.dead += int(self.text_len[slots].sum())
        self.by_name.dead += len(slots)
        self.symbols.drop(slots)
        self.free.extend(slots.tolist())

    def settle(self) -> None:
        """After a batch of writes: re-centre the codes while the index is small, fold the new
        names into the sorted index, and rewrite the text file once it is mostly dead."""
        self.vectors.recentre(self.embedded, self.size)
        self.by_name.maybe_merge(self.version)
        self.symbols.compact(self.live[: self.size])
        if self.text.dead > max(TEXT_COMPACT_BYTES, self.text.end - self.text.dead):
            live = np.flatnonzero(self.live[: self.size])
            fresh = _TextFile(self.directory)
            for start in range(0, len(live), 65536):
                part = live[start : start + 65536]
                records = [
                    self.text.read(at, length)
                    for at, length in zip(
                        self.text_at[part].tolist(), self.text_len[part].tolist(), strict=True
                    )
                ]
                self.text_at[part], self.text_len[part] = fresh.append(records)
            self.text.file.close()
            self.text = fresh

    def index_rowids(self) -> None:
        """Sort the known row ids with their slots (for `keys_of_rowids`)."""
        slots = np.flatnonzero(self.rowid[: self.size] >= 0)
        ids = self.rowid[slots]
        order = np.argsort(ids, kind="stable")
        self.by_rowid = (ids[order], slots[order])

    def keys_of_rowids(self, rowids: list[int]) -> list[Key] | None:
        """The keys of the rows with these `_rowid`s, or None unless every one is a live
        row of the mirror (rows written since the last `align_rowids` are not known yet).
        Called without the lock: the arrays are read once, a dropped slot's row id is
        cleared before the slot is reused, and each row id is checked again after its key
        is read."""
        ids, slots = self.by_rowid
        rowid, live, lines = self.rowid, self.live, self.lines
        path_code, path_names = self.codes["path"], self.names["path"]
        if not rowids:
            return []
        if not len(ids):
            return None
        wanted = np.asarray(rowids, dtype=np.int64)
        at = np.minimum(np.searchsorted(ids, wanted), len(ids) - 1)
        slot = slots[at]
        if not ((ids[at] == wanted) & (rowid[slot] == wanted) & live[slot]).all():
            return None
        keys = keys_at(path_names, path_code, lines, slot)
        return keys if (rowid[slot] == wanted).all() else None

    def align_rowids(self, scanned: Iterable[Any]) -> None:
        """Set each slot's row id from batches of the table's `_rowid`, path, start_line,
        end_line and cell (after a compaction gave the rows new ids), matching rows to slots
        by their keys: a 64-bit hash of the key finds the slot, and the key itself confirms
        it. The caller holds the writes off."""
        live = np.flatnonzero(self.live[: self.size])
        hashed = _key_hash(
            self.codes["path"][live], self.lines[0, live], self.lines[1, live], self.lines[2, live]
        )
        order = np.argsort(hashed, kind="stable")
        hashed, live = hashed[order], live[order]
        rowid = np.full(len(self.rowid), -1, dtype=np.int64)
        vocab = self.vocab["path"]
        for batch in scanned:
            if not batch.num_rows or not len(live):
                continue
            code = np.fromiter(
                (vocab.get(p, -1) for p in batch.column("path").to_pylist()),
                dtype=np.int32,
                count=batch.num_rows,
            )
            start, end, cell = (
                batch.column(name).to_numpy(zero_copy_only=False).astype(np.int32)
                for name in ("start_line", "end_line", "cell")
            )
            at = np.minimum(
                np.searchsorted(hashed, _key_hash(code, start, end, cell)), len(live) - 1
            )
            slot = live[at]
            ok = (
                (self.codes["path"][slot] == code)
                & (self.lines[0, slot] == start)
                & (self.lines[1, slot] == end)
                & (self.lines[2, slot] == cell)
            )
            ids = batch.column("_rowid").to_numpy(zero_copy_only=False).astype(np.int64)
            rowid[slot[ok]] = ids[ok]
        self.rowid = rowid
        self.index_rowids()

    def rows_named(self, name: str) -> list[int]:
        return self.by_name.get(name, self.version)

    def slot_of(self, key: Key) -> int | None:
        slots = self.by_path.get(key[0])
        if slots is None:
            return None
        lines = self.lines[:, slots]
        found = slots[(lines[0] == key[1]) & (lines[1] == key[2]) & (lines[2] == key[3])]
        return int(found[-1]) if len(found) else None

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
        self._reader_session: Any = None
        self.rebuilt = False  # True when opening found another model's vectors and dropped them
        self._m = _Mirror(dim)
        self._fts_ready = False
        self.writes_since_optimize = 0  # table commits not yet folded into the FTS index
        self.text_cache_bytes = 0  # the full-text handle's index cache cap
        self.warming: threading.Thread | None = None  # loads the full-text index into it
        self.text_rereads = 0  # full-text queries asked again for their rows' keys

    @property
    def identity(self) -> str:
        """What the coordinator's catalog must have been filled for: model and format."""
        return f"{self.model_id}|format-{INDEX_FORMAT}"

    # -- opening -------------------------------------------------------------------------------
    def open(self) -> None:
        import lancedb

        _tune_heap()  # before LanceDB starts its threads
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
                self._table = db.create_table(TABLE, schema=_schema(self.dim))
            if local:
                self._write_meta(
                    {"model_id": self.model_id, "dim": self.dim, "format": INDEX_FORMAT}
                )
            self._load_mirror()
            found = _fts_index(self._table)
            self._fts_ready = found is not None
            self._open_reader(found)

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
        """Read the table into a new mirror, LOAD_BATCH rows at a time (the whole table at
        once would be ~3 GB of Arrow at 1M rows, text and vectors)."""
        self._m = _Mirror(self.dim, self.uri if "://" not in self.uri else None)
        rows = self._table.count_rows()
        self._m.reserve(rows + rows // 16)  # room for edits before the first growth
        batches = (
            self._table.search()
            .select([*COLUMNS, "vector"])
            .with_row_id(True)
            .limit(None)
            .to_batches(LOAD_BATCH)
        )
        for batch in batches:
            if batch.num_rows:
                rowids = batch.column("_rowid").to_numpy(zero_copy_only=False).astype(np.int64)
                self._m.load(*batch_rows(batch, self.dim), rowids)
        self._m.index_rowids()
        self._m.settle()
        _release_heap()

    def _open_reader(self, found: Any = None) -> None:
        """(Re)open the full-text handle with an index cache that holds the whole full-text
        index `found` (TEXT_CACHE_FACTOR), and load the index into it in the background. A
        query in flight keeps the handle it started with."""
        import lancedb

        cap = text_cache_bytes(getattr(found, "size_bytes", 0) or 0)
        session = lancedb.Session(
            index_cache_size_bytes=cap, metadata_cache_size_bytes=METADATA_CACHE_BYTES
        )
        reader = lancedb.connect(
            self.uri, session=session, read_consistency_interval=timedelta(0)
        ).open_table(TABLE)
        self._reader, self._reader_session, self.text_cache_bytes = reader, session, cap
        self.warming = warm_text_index(reader, found)

    def _refit_reader(self) -> None:
        """After the full-text index grew (built, optimized): a larger cache when it no
        longer fits."""
        found = _fts_index(self._table)
        size = getattr(found, "size_bytes", 0) or 0
        if size * TEXT_CACHE_REFIT > self.text_cache_bytes and (
            self.text_cache_bytes < TEXT_CACHE_MAX
        ):
            self._open_reader(found)

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
            for slot in m.by_path.get(path, np.zeros(0, np.int64)).tolist():
                chunk = m.chunks[slot]
                if chunk is not None and m.embedded[slot]:
                    known[(chunk.kind, chunk.symbol, chunk.text)] = m.vectors.rows[slot].copy()
            m.vectors.release()
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
        records = _records([(chunks, vectors) for chunks, vectors in batch.values()], self.dim)
        with self._write:
            with self._lock:
                present = [path for path in batch if path in self._m.by_path]
            self._table_delete(present)
            if records.num_rows:
                self._table.add(records)
            self.writes_since_optimize += bool(present) + bool(records.num_rows)
            with self._lock:
                for path, (chunks, vectors) in batch.items():
                    self._m.drop(path)
                    self._m.put(chunks, vectors, np.abs(vectors).sum(axis=1) > 0)
                self._m.settle()
            if records.num_rows and not self._fts_ready:
                self._build_fts()

    def delete(self, paths: Iterable[str]) -> None:
        with self._write:
            with self._lock:
                present = [p for p in paths if p in self._m.by_path]
            self._table_delete(present)
            with self._lock:
                for path in present:
                    self._m.drop(path)
                self._m.settle()

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
                chunks = [m.chunks[s] for s in m.by_path[chunk.path].tolist()]
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
                        [c for s in m.by_path[path].tolist() if (c := m.chunks[s]) is not None],
                    )
                    for path, generation, vectors in fills
                    if m.generation.get(path, 0) == generation and path in m.by_path
                ]
            if not current:
                return 0
            self._table_delete([path for path, _, _, _ in current])
            self._table.add(
                _records([(chunks, vectors) for _, _, vectors, chunks in current], self.dim)
            )
            with self._lock:
                for path, generation, vectors, chunks in current:
                    self._m.drop(path)
                    self._m.put(chunks, vectors, np.ones(len(chunks), bool))
                    self._m.generation[path] = generation  # a fill is not a new version
                self._m.settle()
            self.writes_since_optimize += 2
        return len(current)

    def _table_delete(self, paths: list[str]) -> None:
        for start in range(0, len(paths), 200):
            quoted = ", ".join(f"'{_sql_quote(p)}'" for p in paths[start : start + 200])
            self._table.delete(f"path IN ({quoted})")

    def _align_rowids(self) -> None:
        """Learn the row ids the table gives its rows now (a compaction renumbers them; rows
        written since the last time are not known): one scan of the key columns, ~1 s at
        1M rows. Holding `_write`: the mirror does not change meanwhile."""
        try:
            batches = (
                self._table.search()
                .select(KEY_COLUMNS)
                .with_row_id(True)
                .limit(None)
                .to_batches(LOAD_BATCH)
            )
            self._m.align_rowids(batches)
        except Exception as e:  # full-text queries read the keys from the table meanwhile
            log.info("cannot read the table's row ids: %s", first_line(e))

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
            self._refit_reader()
        except Exception as e:  # full-text search degrades to vector-only
            log.warning("cannot build the full-text index: %s", e)

    def optimize(self) -> None:
        """Fold new rows into the full-text index, compact, and prune the versions older than
        `KEEP_VERSIONS` (LanceDB keeps them a week by default: every write is a version)."""
        with self._write:
            try:
                self._table.optimize(cleanup_older_than=KEEP_VERSIONS)
                self.writes_since_optimize = 0
                self._refit_reader()
                self._align_rowids()
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
                rows = [
                    (slot, score)
                    for key, score in text_hits or ()
                    if (slot := m.slot_of(key)) is not None
                ]
                lists.append((rows[:pool], w_text))
            scores, best = ranking.fuse(lists)
            mask = m.mask(filters)

            def admit(row: int) -> bool:
                return bool(m.live[row]) and (mask is None or bool(mask[row]))

            seen: dict[int, ranking.Row | None] = {}

            def row_info(row: int) -> ranking.Row | None:
                # the text is read from the text file only if ranking asks for it
                if row not in seen:
                    seen[row] = _StoredRow(m, row) if m.live[row] else None
                return seen[row]

            def definitions_of(name: str) -> list[int]:
                return [
                    row
                    for row in m.rows_named(name.lower())
                    if m.names["kind"][m.codes["kind"][row]] in ranking.DEFINITION_KINDS
                    and ranking.short_name(m.symbols[row]).lower() == name.lower()
                ]

            ordered = ranking.order(
                scores,
                best,
                row_info,
                lambda name: m.rows_named(name.lower()),
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
        """The best `pool` rows by cosine, with their cosines: binary codes pick the
        candidates, float32 rescores them (_VectorFile)."""
        m = self._m
        if not m.size:
            return []
        valid = m.embedded[: m.size]
        mask = m.mask(filters)
        if mask is not None:
            valid = valid & mask
        return m.vectors.nearest(np.asarray(query_vector, dtype=np.float32), valid, pool)

    def text_search(self, query: str, pool: int, filters: Filters) -> list[tuple[Key, float]]:
        """Full-text hits as ((path, start_line, end_line, cell), BM25 score), best first.
        Runs without the mirror's lock: LanceDB reads a consistent version of the table by
        itself. The query asks for row ids and scores alone, and the mirror knows their keys
        (`keys_of_rowids`); when some row is not known to it (written since the last
        optimize), the query is asked again for the key columns."""
        words = terms(query)
        if not words or self._reader is None:
            return []
        matcher = filters.path_matcher()
        where = filters.sql(with_path_prefix=True)
        limit = pool * (4 if matcher else 1)
        hits: list[tuple[Key, float]] | None = None
        if len(self._m.by_rowid[0]):  # else (a base's handle) the keys are read at once
            rows = self._fts_rows(words, where, limit, [])
            if rows is None:
                return []
            keys = self._m.keys_of_rowids([row["_rowid"] for row in rows])
            if keys is not None:
                hits = [(key, row["_score"]) for key, row in zip(keys, rows, strict=True)]
            else:
                self.text_rereads += 1
        if hits is None:
            rows = self._fts_rows(words, where, limit, KEY_COLUMNS)
            if rows is None:
                return []
            hits = [
                ((row["path"], row["start_line"], row["end_line"], row["cell"]), row["_score"])
                for row in rows
            ]
        # LanceDB returns equal scores in no fixed order: make it fixed
        hits.sort(key=lambda h: (-h[1], h[0][0], h[0][3], h[0][1]))
        return [hit for hit in hits if matcher is None or matcher.fullmatch(hit[0][0])][:pool]

    def _fts_rows(
        self, words: list[str], where: str | None, limit: int, columns: list[str]
    ) -> list[dict[str, Any]] | None:
        """The full-text query's rows (`columns`, `_rowid` and `_score`), None if it failed."""
        for attempt in (1, 2):  # the second on the newest version: see KEEP_VERSIONS
            try:
                search = self._reader.search(" ".join(words), query_type="fts", fts_columns="terms")
                if where:
                    search = search.where(where, prefilter=True)
                rows: list[dict[str, Any]] = (
                    search.with_row_id(True).select([*columns, "_score"]).limit(limit).to_list()
                )
                return rows
            except Exception as e:  # e.g. no FTS index yet
                log.debug("full-text search failed (attempt %d): %s", attempt, e)
        return None

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


def keys_at(
    path_names: list[str], path_code: np.ndarray, lines: np.ndarray, at: np.ndarray
) -> list[Key]:
    """The keys of rows `at` of row-aligned columns: path codes into `path_names`, and
    (start_line, end_line, cell) as `lines`' three rows."""
    return list(
        zip(
            [path_names[p] for p in path_code[at].tolist()],
            lines[0, at].tolist(),
            lines[1, at].tolist(),
            lines[2, at].tolist(),
            strict=True,
        )
    )


def _key_hash(path: np.ndarray, start: np.ndarray, end: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """A 64-bit hash of rows' keys (path code, start_line, end_line, cell), as arrays."""
    h = np.zeros(len(path), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for part in (path, start, end, cell):
            h = (h ^ part.astype(np.int64).view(np.uint64)) * np.uint64(0x100000001B3)
            h ^= h >> np.uint64(29)
        h *= np.uint64(0xBF58476D1CE4E5B9)
        h ^= h >> np.uint64(31)
    return h


def batch_rows(batch: Any, dim: int) -> tuple[dict[str, list[Any]], np.ndarray]:
    """One Arrow batch of the table as its COLUMNS (Python lists) and its vectors (n, dim)."""
    columns = {name: batch.column(name).to_pylist() for name in COLUMNS}
    flat = batch.column("vector").flatten().to_numpy(zero_copy_only=False)
    return columns, np.asarray(flat, dtype=np.float32).reshape(batch.num_rows, dim)


def scores_with(scores: dict[int, float], ordered: list[int], group: list[int]) -> float:
    """A hit's score: the best fused score in its group (boosts are ordering, not score)."""
    return max((scores.get(row, 0.0) for row in group), default=0.0)


def _key(chunk: Chunk) -> Key:
    return (chunk.path, chunk.start_line, chunk.end_line, chunk.cell)


def _names_of(chunk: Chunk) -> set[str]:
    """The lower-case names a chunk answers to: its symbol, the symbol's last part, and the
    names it lists."""
    return _names(chunk.symbol, chunk.names)


def _names(symbol: str, listed: str) -> set[str]:
    names = {n.lower() for n in listed.split()}
    if symbol:
        names.add(symbol.lower())
        names.add(ranking.short_name(symbol).lower())
    return names


def _libc() -> Any:
    import ctypes
    import ctypes.util

    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def _tune_heap() -> None:
    """glibc's heap, for a process that holds a big index and searches it (elsewhere, no
    glibc, this does nothing):
    - at most HEAP_ARENAS heaps for the process's threads. LanceDB reads on many threads,
      each with a heap of its own that keeps what it freed: reading a 1M-row table (the
      mirror's load) left 593 MiB of RSS after malloc_trim with the default (8 per core),
      88 MiB with 2 or 1;
    - blocks from HEAP_MMAP_BYTES up mapped on their own and unmapped when freed, and the
      heap's free top given back past HEAP_TRIM_BYTES. By default glibc raises the first
      threshold to the largest block freed so far (up to 32 MiB) and then keeps such blocks
      in the heap: at 1M rows, 40 full-text searches (LanceDB's buffers) left the sidecar
      +130 MiB, and the whole search round +190 MiB, against +37 MiB with these settings.
      The searches' own large temporaries are avoided (`_VectorFile.hamming`), so these
      settings cost them nothing measurable (bench/results/scale.md)."""
    libc = _libc()
    if libc is not None and hasattr(libc, "mallopt"):
        libc.mallopt(-8, HEAP_ARENAS)  # M_ARENA_MAX
        libc.mallopt(-3, HEAP_MMAP_BYTES)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, HEAP_TRIM_BYTES)  # M_TRIM_THRESHOLD


def _release_heap() -> None:
    """Give the heap freed by the load back to the system: the batches' strings die between
    long-lived small objects, and glibc kept ~200 MB of them at 100k rows (measured:
    RSS 469 -> 271 MiB)."""
    libc = _libc()
    if libc is not None and hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


def _pack(names: str, text: str) -> bytes:
    """A text-file record: the names' length, a NUL, the names, the text."""
    return f"{len(names)}\0{names}{text}".encode()


def _unpack(record: bytes) -> tuple[str, str]:
    length, rest = record.decode().split("\0", 1)
    return rest[: int(length)], rest[int(length) :]


def _schema(dim: int) -> Any:
    import pyarrow as pa

    return pa.schema(
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
            pa.field("vector", pa.list_(pa.float32(), dim)),
        ]
    )


def _records(items: Sequence[tuple[Sequence[Chunk], np.ndarray]], dim: int) -> Any:
    """The rows of `items` as one Arrow table, the vectors passed as one buffer (a list of
    floats per row cost seconds per 100k rows)."""
    import pyarrow as pa

    chunks = [c for part, _ in items for c in part]
    vectors = np.concatenate([v for _, v in items]) if items else np.zeros((0, dim), np.float32)
    flat = pa.array(np.ascontiguousarray(vectors, dtype=np.float32).reshape(-1))
    columns: dict[str, Any] = {name: [getattr(c, name) for c in chunks] for name in COLUMNS}
    columns["terms"] = [c.terms() for c in chunks]
    columns["vector"] = pa.FixedSizeListArray.from_arrays(flat, dim)
    return pa.Table.from_pydict(columns, schema=_schema(dim))


class _StoredRow(ranking.Row):
    """A mirror row as ranking sees it; its text is read from the text file when asked for."""

    def __init__(self, m: _Mirror, slot: int) -> None:
        self._m, self._slot = m, slot
        self._text: str | None = None
        self.path = m.names["path"][m.codes["path"][slot]]
        self.kind = m.names["kind"][m.codes["kind"][slot]]
        self.symbol = m.symbols[slot]
        self.start_line, self.end_line, self.cell = m.lines[:, slot].tolist()

    @property
    def text(self) -> str:
        if self._text is None:
            chunk = self._m.chunks[self._slot]
            self._text = chunk.text if chunk is not None else ""
        return self._text

    @text.setter
    def text(self, value: str) -> None:
        self._text = value


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


def _fts_index(table: Any) -> Any:
    """The table's full-text index over `terms` (LanceDB's IndexConfig), or None."""
    try:
        return next(
            (ix for ix in table.list_indices() if "terms" in (getattr(ix, "columns", None) or [])),
            None,
        )
    except Exception:
        return None


def text_cache_bytes(index_bytes: int) -> int:
    """The index cache that holds a full-text index of `index_bytes` on disk."""
    wanted = int(index_bytes * TEXT_CACHE_FACTOR)
    return max(INDEX_CACHE_BYTES, min(TEXT_CACHE_MAX, wanted))


def warm_text_index(table: Any, found: Any) -> threading.Thread | None:
    """Load the full-text index `found` of `table` into its handle's index cache, on a
    thread (0.3 s at 1M rows, local; a remote base's index is downloaded). LanceDB refuses when
    the cache cannot hold it all: then queries fill the cache as they go, as without this."""
    name = getattr(found, "name", None)
    if not name:
        return None

    def warm() -> None:
        try:
            table.prewarm_index(name)
        except Exception as e:
            log.info("the full-text index stays on disk until queried: %s", first_line(e))

    thread = threading.Thread(target=warm, name="warm-text-index", daemon=True)
    thread.start()
    return thread


def first_line(error: BaseException) -> str:
    """An error's first line, for a log or a message."""
    return (str(error).strip().splitlines() or [""])[0][:300]


def _table_names(db: Any) -> list[str]:
    # list_tables where there is one: table_names is deprecated (and lists only 10)
    listed = db.list_tables() if hasattr(db, "list_tables") else db.table_names()
    return list(getattr(listed, "tables", listed))
