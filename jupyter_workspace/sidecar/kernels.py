"""The vector search's two passes over the rows' binary codes, compiled (numba), in the sidecar
only.

In numpy the Hamming scan is three array operations per 64-bit code word (xor, popcount, add:
18 passes over each block of rows at 384 dimensions, plus the mask and the histogram), and
the asymmetric score gathers each candidate's code bytes into index arrays before summing
their table entries. Here one loop reads each row's code once, and the candidates' codes are
gathered before they are scored (so their cache misses overlap). At 1M rows the vector half
of a search is 27.5 -> 14.1 ms p50 with 30,000 candidates, 40.1 -> 16.6 ms with 50,000 (same
runs, bench/results/scale.md). Both release the GIL, so the text half of a hybrid search runs
beside them.

`warm` compiles them (or loads them from the cache) on a thread, started by the first search
of an index past chunk_store.COMPILED_ROWS (numba costs ~130 MiB of RSS: a small index's
scans stay in numpy).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numba
import numpy as np

_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_H01 = np.uint64(0x0101010101010101)


def _compiled(function: Callable[..., Any]) -> Any:
    """`function` compiled on first use; the machine code is cached on disk (in the package's
    `__pycache__`, else the user's cache folder), so later processes load it (~0.5 s with
    numba's own start, measured here) instead of compiling it again (~1 s)."""
    try:
        return numba.njit(nogil=True, boundscheck=False, cache=True)(function)
    except RuntimeError:  # no folder to cache in: compiled in each process
        return numba.njit(nogil=True, boundscheck=False)(function)


@_compiled
def _popcount(x: np.uint64) -> int:  # pragma: no cover - compiled
    x = x - ((x >> np.uint64(1)) & _M1)
    x = (x & _M2) + ((x >> np.uint64(2)) & _M2)
    x = (x + (x >> np.uint64(4))) & _M4
    return int((x * _H01) >> np.uint64(56))


@_compiled
def hamming(
    codes: np.ndarray,
    code: np.ndarray,
    valid: np.ndarray,
    distance: np.ndarray,
    histogram: np.ndarray,
) -> None:  # pragma: no cover - compiled
    """distance[i] = the Hamming distance of codes[i] ((rows, words) uint64) to `code` where
    valid[i], len(histogram) (beyond any code's) where not; histogram (zeroed by the caller)
    counts the valid rows' distances."""
    beyond = histogram.shape[0]
    words = code.shape[0]
    for i in range(valid.shape[0]):
        if valid[i]:
            d = 0
            for w in range(words):
                d += _popcount(codes[i, w] ^ code[w])
            distance[i] = d
            histogram[d] += 1
        else:
            distance[i] = beyond


@_compiled
def within(distance: np.ndarray, threshold: int, rows: np.ndarray) -> int:  # pragma: no cover
    """The rows whose distance is at most `threshold` into `rows`, in order; their number.
    Branch-free (which rows pass is unpredictable): every row is written at the next free
    place, which moves on only past those that pass."""
    count = 0
    last = rows.shape[0] - 1
    for i in range(distance.shape[0]):
        rows[min(count, last)] = i
        count += distance[i] <= threshold
    return count


@_compiled
def asymmetric(
    codes: np.ndarray, table: np.ndarray, scores: np.ndarray
) -> None:  # pragma: no cover
    """scores[j] = the sum over codes[j]'s bytes ((rows, bytes) uint8, contiguous: gathered
    first, so that the rows' cache misses overlap) of table[byte, value]."""
    for j in range(codes.shape[0]):
        s = np.float32(0.0)
        for b in range(table.shape[0]):
            s += table[b, codes[j, b]]
        scores[j] = s


def warm() -> None:
    """Compile the loops for the array types a search passes them (one compilation serves any
    sizes, so tiny arrays do)."""
    codes = np.zeros((2, 1), dtype=np.uint64)
    distance = np.zeros(2, dtype=np.uint16)
    hamming(codes, codes[0], np.ones(2, dtype=bool), distance, np.zeros(65, np.int64))
    within(distance, 0, np.zeros(3, dtype=np.int64))
    asymmetric(codes.view(np.uint8), np.zeros((8, 256), np.float32), np.zeros(2, np.float32))
