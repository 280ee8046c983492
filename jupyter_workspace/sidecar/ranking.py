"""How hybrid search orders what the vector and full-text halves found.

- **Weighted fusion.** Each list's scores scaled to [0, 1] and summed with a weight per list
  that depends on the query: an identifier-like query (`Crypto_TC_ApplySecurity`,
  `getPipeName`) leans on the words. Plain reciprocal rank fusion forgets how far apart two
  hits are, and with equal weights lets a weak list halve a strong one.
- **Names first.** A name the query holds puts the definition of that symbol first, then its
  declarations (prototypes, macros, typedefs), then chunks that list it, then the other found
  chunks that use it.
- **Declarations lead to definitions.** A hit on a prototype (whose doc comment matched)
  brings its definition in right above it: the implementation is what the user wants to read.
- **Sources before tests and generated code** when the scores are equal.
- **One passage once.** Overlapping windows of one definition are merged into one hit with the
  union of their lines.

The figures behind the weights are in bench/results/search.md (bench_search.py), tuned on
half of each bench's queries.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .chunker import FUNCTION_KINDS
from .terms import identifiers

RRF_K = 60
# "score": a weighted sum of min-max scaled scores (a convex combination), which keeps how far
# apart two hits are in each list; "rrf" keeps only their ranks. Chosen, like the weights and
# factors here, on the tune half of bench_search.py's queries (bench/results/search.md).
FUSION = "score"
# (vector, text) weights, by query shape
WEIGHTS_IDENTIFIER = (0.6, 1.4)  # the query is (mostly) a name
WEIGHTS_MIXED = (1.0, 1.5)  # words and a name
WEIGHTS_QUESTION = (1.0, 1.0)  # plain words
BOOST_DEFINITION = 1.0  # added to a fused score (whose scale is ~1/61 per list)
BOOST_DECLARATION = 0.6
BOOST_LISTED = 0.3
BOOST_USE = 0.1
MENTION_WORDS = 4  # words besides the names up to which a query asks for the names
MENTION_SCALE = 0.0  # the boosts' scale for a longer sentence that mentions a name
LINK_STEP = 1e-6  # a linked definition ranks just above the declaration that found it
# tests and generated code lose ties, and more: a function's tests share its words and name
# (bench_search.py, Python: 0.7 -> 0.4 moved tune MRR 0.646 -> 0.650, R@10 0.833 -> 0.856,
# held-out 0.575 -> 0.581 / 0.809 -> 0.831), unless the query asks for tests
TEST_FACTOR = 0.4
_ASKS_FOR_TESTS = re.compile(
    r"\b(tests?|testing|tested|unit ?tests?|specs?|fixtures?|mocks?)\b", re.IGNORECASE
)
FOLD = True  # a declaration whose definition is found gives its place to it
WINDOW_GAP = 80  # lines between two windows of one definition that still merge

DEFINITION_KINDS = frozenset(
    {
        "function",
        "method",
        "class",
        "struct",
        "union",
        "enum",
        "interface",
        "type",
        "namespace",
        "subroutine",
        "program",
        "procedure",
    }
)
DECLARATION_KINDS = frozenset({"declaration", "macro", "typedef"})
_TEST_PATH = re.compile(
    r"(^|/)(tests?|testing|spec|__tests__|unittests?|ut)/|(^|/)(test_[^/]*|[^/]*_test\.\w+|"
    r"[^/]*\.(test|spec)\.\w+|conftest\.py)$",
    re.IGNORECASE,
)
_GENERATED = re.compile(
    r"(_pb2(_grpc)?\.py|\.min\.js|\.generated\.\w+|\.g\.\w+)$|"
    r"(^|/)(generated|gen|build|dist|vendor|third_party)/",
    re.IGNORECASE,
)


def weights(query: str) -> tuple[float, float]:
    """(vector, text) weights for this query's two lists."""
    names = identifiers(query)
    words = re.findall(r"\w+", query)
    if names and len(words) <= len(names) + 2:
        return WEIGHTS_IDENTIFIER
    if names:
        return WEIGHTS_MIXED
    return WEIGHTS_QUESTION


def boost_scale(query: str) -> float:
    """How much the name boosts count for this query: fully for a name, or a name with a few
    words around it ("where is OS_QueueGetName called"); not at all for a sentence that
    mentions a name in passing ("Same as ZSTD_compress(), but with a context"), which asks for
    something else as often as not (bench_search, tune half: MRR on C 0.54 -> 0.68 without the
    boost on such sentences)."""
    names = looked_up_names(query)
    words = re.findall(r"\w+", query)
    return 1.0 if names and len(words) - len(names) <= MENTION_WORDS else MENTION_SCALE


def looked_up_names(query: str) -> list[str]:
    """The names to look up as symbols: the query's identifiers, or the query itself when it
    is one word (`clamp`, `Kalman`)."""
    names = identifiers(query)
    words = re.findall(r"[A-Za-z_]\w*", query)
    if not names and len(words) == 1 and len(query.strip()) == len(words[0]):
        names = words
    return names


def lesser_factor(query: str) -> float:
    """What a test's or generated file's score is multiplied by for this query."""
    return 1.0 if _ASKS_FOR_TESTS.search(query) else TEST_FACTOR


@functools.lru_cache(maxsize=65536)  # asked for every candidate row of every search
def lesser_path(path: str) -> bool:
    """Tests and generated code: shown after the sources they test or come from."""
    return bool(_TEST_PATH.search(path) or _GENERATED.search(path))


def short_name(symbol: str) -> str:
    """`nav.Kalman::gain` -> `gain`."""
    return re.split(r"\.|::", symbol)[-1] if symbol else ""


@dataclass
class Row:
    """What ranking needs to know of a candidate row."""

    path: str
    kind: str
    symbol: str
    start_line: int
    end_line: int
    text: str = ""
    cell: int = -1


def fuse(
    lists: Iterable[tuple[list[tuple[int, float]], float]], k: int | None = None
) -> tuple[dict[int, float], dict[int, int]]:
    """The fused score and best single-list rank of every row of the (row, score) lists, best
    first, each with its weight: weighted reciprocal rank fusion (FUSION "rrf"), or a
    weighted sum of each list's scores scaled to [0, 1] within the list (FUSION "score"),
    rescaled to RRF's range so the boosts below mean the same."""
    k = RRF_K if k is None else k
    scores: dict[int, float] = {}
    best: dict[int, int] = {}
    for ranking, weight in lists:
        if not ranking:
            continue
        top, low = ranking[0][1], ranking[-1][1]
        span = (top - low) or 1.0
        for r, (row, raw) in enumerate(ranking):
            if FUSION == "score":
                part = weight * ((raw - low) / span) / (k + 1)
            else:
                part = weight / (k + r + 1)
            scores[row] = scores.get(row, 0.0) + part
            best[row] = min(best.get(row, r), r)
    return scores, best


def order(
    scores: dict[int, float],
    best: dict[int, int],
    rows: Callable[[int], Row | None],
    by_name: Callable[[str], Iterable[int]],
    names: list[str],
    definitions_of: Callable[[str], Iterable[int]],
    admit: Callable[[int], bool],
    boost_scale: float = 1.0,
    lesser_factor: float | None = None,
) -> list[int]:
    """The rows best first: fused scores, plus the name boosts and declaration links, with
    tests and generated code after. `by_name(name)`: rows whose symbol or listed names hold
    `name` (any case); `definitions_of(name)`: rows defining `name`; `admit(row)`: the filters
    let it through. `boost_scale`: how much the name boosts count (1 for a query that is a name;
    less for a sentence that mentions one, which may well ask for something else).
    `lesser_factor`: what tests' and generated code's scores count (TEST_FACTOR unless the
    query asks for tests); they lose ties either way."""
    factor = TEST_FACTOR if lesser_factor is None else lesser_factor
    scores = dict(scores)
    for name in names:
        wanted = name.lower()
        for row in by_name(name):
            info = rows(row)
            if info is None or not admit(row):
                continue
            own = short_name(info.symbol).lower() == wanted or info.symbol.lower() == wanted
            boost = (
                BOOST_DEFINITION
                if own and info.kind in DEFINITION_KINDS
                else BOOST_DECLARATION
                if own
                else BOOST_LISTED
            )
            scores[row] = scores.get(row, 0.0) + boost * boost_scale
            best.setdefault(row, 10_000)
    if names:  # then the chunks that use a name the query asks for
        pattern = re.compile(r"\b(?:" + "|".join(re.escape(n) for n in names) + r")\b")
        for row in list(scores):
            info = rows(row)
            if (
                info is not None
                and scores[row] < BOOST_LISTED * boost_scale
                and pattern.search(info.text)
            ):
                scores[row] += BOOST_USE * boost_scale
    # a declaration hit brings its definition along, in its place: what the user wants to read
    # is the implementation (a name the query asks for keeps its declarations listed, after)
    asked = {name.lower() for name in names}
    folded: set[int] = set()
    for row, score in sorted(scores.items(), key=lambda item: -item[1])[:50]:
        info = rows(row)
        if info is None or info.kind not in DECLARATION_KINDS or not info.symbol:
            continue
        name = short_name(info.symbol)
        for target in definitions_of(name):
            if target != row and admit(target):
                if scores.get(target, 0.0) < score + LINK_STEP:
                    scores[target] = score + LINK_STEP
                    best[target] = min(best.get(target, 10_000), best.get(row, 10_000))
                if FOLD and name.lower() not in asked:
                    folded.add(row)

    def key(row: int) -> tuple[float, int, int, str, int]:
        info = rows(row)
        lesser = info is not None and lesser_path(info.path)
        score = scores[row] * (factor if lesser else 1.0)
        where = (info.path, info.start_line) if info is not None else ("", row)
        return (-score, int(lesser), best.get(row, 10_000), *where)

    return sorted((row for row in scores if row not in folded), key=key)


def merge_overlaps(ranked: list[int], rows: Callable[[int], Row | None], k: int) -> list[list[int]]:
    """Groups of rows, best first, at most `k`: a row that overlaps (or touches) a better one
    of the same path and symbol, or is another window of the same named definition, joins
    its group instead of taking a place of its own."""
    groups: list[list[int]] = []
    spans: list[tuple[str, str, str, int, int]] = []
    for row in ranked:
        info = rows(row)
        if info is None:
            continue
        # windows of one function lie close together (a gap is a closure inside it); the same
        # name far away in the file is another definition (or its declaration). A class's own
        # lines between its methods are pieces that merge only where they touch: a hit spanning
        # the methods between would claim lines it does not show
        reach = WINDOW_GAP if info.symbol and info.kind in FUNCTION_KINDS else 1
        place = f"{info.path}#{info.cell}"
        for i, (path, symbol, kind, start, end) in enumerate(spans):
            if path == place and (
                symbol == info.symbol
                and kind == info.kind
                and info.start_line <= end + reach
                and info.end_line >= start - reach
                or nested(info, symbol, kind, start, end)
            ):
                groups[i].append(row)
                if symbol.startswith(info.symbol + "."):  # the outer one leads
                    symbol, kind = info.symbol, info.kind
                spans[i] = (
                    path,
                    symbol,
                    kind,
                    min(start, info.start_line),
                    max(end, info.end_line),
                )
                break
        else:
            if len(groups) == k:
                continue
            groups.append([row])
            # a notebook's cells count their lines each from 1: the cell is part of the place
            spans.append(
                (f"{info.path}#{info.cell}", info.symbol, info.kind, info.start_line, info.end_line)
            )
    return groups


def nested(info: Row, symbol: str, kind: str, start: int, end: int) -> bool:
    """Whether `info` is a definition nested in the function named `symbol` that spans (pieces
    of) `start`..`end`, or is the function around it: one passage (a closure and its function),
    the outer one shown. The outer function's own chunks stop where a nested one starts, so
    near is enough: the qualified name says the rest. A class's or module's methods are
    passages of their own."""
    if (
        not symbol
        or not info.symbol
        or not (info.start_line <= end + WINDOW_GAP and info.end_line >= start - WINDOW_GAP)
    ):
        return False
    return (info.symbol.startswith(symbol + ".") and kind in FUNCTION_KINDS) or (
        symbol.startswith(info.symbol + ".") and info.kind in FUNCTION_KINDS
    )
