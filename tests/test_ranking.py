"""Search that finds the right code: code-aware words, names first, declarations leading to
definitions, one hit per passage; on a small project with the real model and LanceDB."""

from __future__ import annotations

import json

import pytest

from jupyter_workspace.sidecar import ranking
from jupyter_workspace.sidecar.index_service import IndexService
from jupyter_workspace.sidecar.terms import identifiers, split_identifier, terms


@pytest.mark.parametrize(
    "word,parts",
    [
        ("Crypto_TC_ApplySecurity", ["crypto", "tc", "apply", "security"]),
        ("GetPipeName", ["get", "pipe", "name"]),
        ("getPipeName", ["get", "pipe", "name"]),
        ("HTTPServer", ["http", "server"]),
        ("XMLHttpRequest2", ["xml", "http", "request", "2"]),
        ("sha256sum", ["sha", "256", "sum"]),
        ("__init__", ["init"]),
        ("OS_QueueGetName", ["os", "queue", "get", "name"]),
        ("plain", ["plain"]),
    ],
)
def test_identifiers_split_into_their_words(word, parts):
    assert split_identifier(word) == parts


def test_terms_keep_the_identifier_whole_too():
    words = terms("int ZSTD_compressCCtx(ZSTD_CCtx *c) { return GetPipeName(); }")
    assert words[:5] == ["int", "zstd", "compress", "c", "ctx"]
    assert "zstd_compresscctx" in words and "getpipename" in words and "pipe" in words
    assert "plain" in terms("plain words") and "plain words" not in terms("plain words")


def test_abbreviations_are_spelled_out_beside_themselves():
    from jupyter_workspace.sidecar.chunker import Chunk
    from jupyter_workspace.sidecar.terms import terms

    assert terms("ssize_t ndim() const") == [
        "ssize",
        "t",
        "ssize_t",
        "ndim",
        "number",
        "dimensions",
        "const",
    ]
    assert terms("getBufLen") == ["get", "buf", "len", "getbuflen", "buffer", "length"]
    head = Chunk("a.h", "cpp", "method", "array.ndim", 1, 1, "ssize_t ndim() const;")
    assert head.embedding_text().startswith("method array.ndim (array ndim number dimensions)")


def test_identifiers_in_a_query():
    assert identifiers("where is Crypto_TC_ApplySecurity called?") == ["Crypto_TC_ApplySecurity"]
    assert identifiers("what does nav.Kalman::gain return") == ["nav", "Kalman", "gain"]
    assert identifiers("what does queue() do") == ["queue"]
    assert identifiers("return the name of a queue given its id, e.g. the first") == []
    assert ranking.looked_up_names("clamp") == ["clamp"]
    assert ranking.looked_up_names("clamp the value") == []


def test_query_shapes_weigh_the_two_lists():
    assert ranking.weights("OS_QueueGetName") == ranking.WEIGHTS_IDENTIFIER
    assert (
        ranking.weights("why does OS_QueueGetName fail for a deleted queue")
        == ranking.WEIGHTS_MIXED
    )
    assert ranking.weights("return the name of a queue given its id") == ranking.WEIGHTS_QUESTION


@pytest.mark.parametrize(
    "path,lesser",
    [
        ("tests/test_queue.c", True),
        ("src/queue_test.go", True),
        ("ut/queue.c", True),
        ("web/app.spec.ts", True),
        ("conftest.py", True),
        ("proto/msg_pb2.py", True),
        ("build/gen.c", True),
        ("src/queue.c", False),
        ("src/testing_utils_is_not/x.c", False),
        ("contest.py", False),
    ],
)
def test_tests_and_generated_code_are_lesser(path, lesser):
    assert ranking.lesser_path(path) is lesser


def test_merge_keeps_one_hit_per_passage():
    rows = {
        1: ranking.Row("a.c", "function", "big", 1, 40),
        2: ranking.Row("a.c", "function", "big", 36, 75),
        3: ranking.Row("a.c", "function", "other", 80, 90),
        4: ranking.Row("a.c", "module", "", 100, 110),
        5: ranking.Row("a.c", "module", "", 130, 140),
        6: ranking.Row("a.c", "declaration", "big", 200, 201),
        7: ranking.Row("a.c", "function", "big", 900, 940),
    }
    groups = ranking.merge_overlaps([1, 3, 2, 4, 5, 6, 7], rows.get, k=10)
    # windows of `big` merge; far-apart module chunks, the declaration and a second `big`
    # far down the file do not
    assert groups == [[1, 2], [3], [4], [5], [6], [7]]
    assert ranking.merge_overlaps([1, 3, 2, 4], rows.get, k=2) == [[1, 2], [3]]


def test_tests_count_less_unless_the_query_asks_for_them():
    assert (
        ranking.lesser_factor("return the name of a queue given its id")
        == ranking.TEST_FACTOR
        < 1.0
    )
    for asking in (
        "test for the queue name",
        "which tests cover OS_QueueGetName",
        "unit tests of the queue",
        "queue fixtures",
    ):
        assert ranking.lesser_factor(asking) == 1.0, asking
    rows = {
        1: ranking.Row("tests/test_queue.c", "function", "test_queue_name", 1, 5),
        2: ranking.Row("src/queue.c", "function", "OS_QueueGetName", 1, 9),
    }
    scores, best = {1: 1.0, 2: 0.6}, {1: 0, 2: 1}
    ordered = [
        ranking.order(
            scores,
            best,
            rows.get,
            lambda name: [],
            [],
            lambda name: [],
            lambda row: True,
            1.0,
            ranking.lesser_factor(q),
        )
        for q in ("get the name of a queue", "test of the queue name")
    ]
    assert ordered == [[2, 1], [1, 2]]


def test_a_nested_definition_and_the_one_around_it_are_one_hit():
    rows = {
        1: ranking.Row("m.py", "function", "sliced.ret", 8, 12),
        2: ranking.Row("m.py", "function", "other", 30, 40),
        3: ranking.Row("m.py", "function", "sliced", 1, 6),  # the outer one, cut around
        4: ranking.Row("m.py", "function", "sliced", 14, 16),
        5: ranking.Row("n.py", "function", "sliced", 1, 9),  # another file
        6: ranking.Row("m.py", "function", "slicedx.ret", 20, 22),  # not a prefix
        7: ranking.Row("m.py", "method", "Grid.cells", 50, 52),  # a class's method
        8: ranking.Row("m.py", "class", "Grid", 45, 49),
    }
    assert ranking.merge_overlaps([1, 2, 3, 4, 5, 6, 7, 8], rows.get, k=10) == [
        [1, 3, 4],
        [2],
        [5],
        [6],
        [7],
        [8],
    ]


def test_a_hit_with_gaps_lists_the_pieces_it_shows():
    """Two overloads near each other are one hit; the lines between them are not in it."""
    from types import SimpleNamespace

    from jupyter_workspace.sidecar.chunk_store import ChunkIndex
    from jupyter_workspace.sidecar.chunker import Chunk

    index = object.__new__(ChunkIndex)
    index._m = SimpleNamespace(
        chunks=[
            Chunk("a.cpp", "cpp", "function", "get", 10, 12, "int get(int a) {\n  return a;\n}"),
            Chunk("a.cpp", "cpp", "function", "get", 40, 42, "int get() {\n  return 0;\n}"),
            Chunk("a.cpp", "cpp", "function", "get", 12, 14, "}\nint x;\nint y;"),
        ]
    )
    hit = index._result([1, 0], 0.5, "get")
    assert (hit["start_line"], hit["end_line"]) == (10, 42)
    assert hit["ranges"] == [[10, 12], [40, 42]] and "⋮" in hit["text"]
    hit = index._result([0, 2], 0.5, "get")  # overlapping: one piece, no ranges
    assert (hit["start_line"], hit["end_line"]) == (10, 14) and "ranges" not in hit


C_HEADER = """\
#ifndef OSAPI_QUEUE_H
#define OSAPI_QUEUE_H

/**
 * @brief Return the name of a queue given its id.
 */
const char *OS_QueueGetName(int queue_id);

/**
 * @brief Set the total length of a packet, header included.
 */
void PKT_SetTotalLength(void *packet, int total_length);

int Crypto_TC_ApplySecurity(const unsigned char *frame, int length);
#endif
"""

C_SOURCE = """\
#include "osapi_queue.h"

static const char *names[16];

const char *OS_QueueGetName(int queue_id)
{
    if (queue_id < 0 || queue_id >= 16)
        return 0;
    return names[queue_id];
}

void PKT_SetTotalLength(void *packet, int total_length)
{
    ((int *)packet)[0] = total_length;
}

int Crypto_TC_ApplySecurity(const unsigned char *frame, int length)
{
    int sum = 0;
    for (int i = 0; i < length; i++)
        sum += frame[i];
    return sum;
}

int GetPipeName(int pipe, char *out)
{
    out[0] = (char)pipe;
    return 0;
}
"""

C_TEST = """\
#include "osapi_queue.h"

void test_queue_name(void)
{
    const char *name = OS_QueueGetName(3);
    if (name == 0) { fail("OS_QueueGetName returned no name for a queue id"); }
}
"""

PY_SOURCE = """\
def chunked(iterable, n):
    out = []
    for item in iterable:
        out.append(item)
        if len(out) == n:
            yield out
            out = []
    if out:
        yield out


def ilen(iterable):
    count = 0
    for _ in iterable:
        count += 1
    return count
"""

PY_STUB = """\
from typing import Iterable, Iterator, TypeVar
_T = TypeVar("_T")
def chunked(iterable: Iterable[_T], n: int) -> Iterator[list[_T]]: ...
def ilen(iterable: Iterable[object]) -> int: ...
"""

LONG = (
    "def long_loop(x):\n"
    + "".join(f"    x = x * {i} + step_{i}(x)  # accumulate the checksum\n" for i in range(90))
    + "    return x\n"
)


NOTEBOOK = json.dumps(
    {
        "metadata": {"kernelspec": {"language": "python", "name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 5,
        "cells": [
            {"cell_type": "markdown", "source": "# Orbit study\nHow long one orbit takes."},
            {"cell_type": "code", "source": "import math\nmu = 3.986e14", "outputs": []},
            {
                "cell_type": "code",
                "source": "def orbital_period(a):\n"
                "    return 2 * math.pi * math.sqrt(a ** 3 / mu)\n",
                "outputs": [
                    {
                        "output_type": "stream",
                        "name": "stdout",
                        "text": "orbital_period orbital_period orbital_period\n" * 200,
                    }
                ],
            },
            {
                "cell_type": "code",
                "source": "%workspace search orbital period",
                "outputs": [
                    {
                        "output_type": "display_data",
                        "data": {
                            "application/json": {
                                "results": [
                                    {"path": "x", "snippet": "orbital period of a satellite"}
                                ]
                                * 50
                            }
                        },
                    }
                ],
            },
        ],
    },
    indent=1,
)


@pytest.fixture(scope="module")
def svc(tmp_path_factory):
    service = IndexService(
        str(tmp_path_factory.mktemp("rank") / "index"), "all-MiniLM-L6-v2", "auto", None
    )
    service.load()
    service.index_files(
        [
            {"path": "inc/osapi_queue.h", "text": C_HEADER},
            {"path": "src/osapi_queue.c", "text": C_SOURCE},
            {"path": "tests/test_queue.c", "text": C_TEST},
            {"path": "lib/more.py", "text": PY_SOURCE},
            {"path": "lib/more.pyi", "text": PY_STUB},
            {"path": "lib/long.py", "text": LONG},
            {"path": "notes/orbit.ipynb", "text": NOTEBOOK},
        ]
    )
    assert service.wait_vectors(120)
    service.optimize()
    yield service
    service.close()


def where(hit: dict) -> tuple[str, str, str]:
    return hit["path"], hit["kind"], hit["symbol"]


def search(svc: IndexService, q: str, mode: str = "hybrid", k: int = 10) -> list[dict]:
    return svc.search({"q": q, "mode": mode, "k": k})["results"]


def test_a_question_finds_the_implementation_though_the_doc_is_in_the_header(svc):
    hits = search(svc, "return the name of a queue given its id")
    assert where(hits[0]) == ("src/osapi_queue.c", "function", "OS_QueueGetName")
    # its declaration gave its place to the definition (the doc comment matched there)
    assert ("inc/osapi_queue.h", "declaration", "OS_QueueGetName") not in map(where, hits)
    hits = search(svc, "set the total length of a packet")
    assert where(hits[0]) == ("src/osapi_queue.c", "function", "PKT_SetTotalLength")


def test_an_exact_name_puts_its_definition_first_then_declarations_then_uses(svc):
    hits = search(svc, "OS_QueueGetName")
    assert [where(h) for h in hits[:3]] == [
        ("src/osapi_queue.c", "function", "OS_QueueGetName"),
        ("inc/osapi_queue.h", "declaration", "OS_QueueGetName"),
        ("tests/test_queue.c", "function", "test_queue_name"),
    ]
    assert hits[0]["start_line"] == 5  # the definition, not the forward declaration


def test_words_of_a_name_find_it(svc):
    """camelCase / PascalCase / snake_case split for the full-text half, and stemming."""
    assert where(search(svc, "applying security", mode="text")[0])[2] == "Crypto_TC_ApplySecurity"
    assert where(search(svc, "get pipe name", mode="text")[0])[2] == "GetPipeName"
    assert where(search(svc, "getPipeName", mode="text")[0])[2] == "GetPipeName"


def test_a_stub_leads_to_the_definition(svc):
    hits = search(svc, "ilen")
    assert where(hits[0]) == ("lib/more.py", "function", "ilen")
    assert where(hits[1]) == ("lib/more.pyi", "declaration", "ilen")


def test_windows_of_one_definition_are_one_hit(svc):
    hits = search(svc, "accumulate the checksum step", k=5)
    loops = [h for h in hits if h["symbol"] == "long_loop"]
    assert len(loops) == 1
    assert loops[0]["start_line"] == 1 and loops[0]["end_line"] > 40
    assert loops[0]["text"].count("accumulate the checksum") >= 40


def test_filters_hold_for_boosted_and_linked_rows(svc):
    hits = svc.search({"q": "OS_QueueGetName", "k": 10, "mode": "hybrid", "path": "inc/**"})[
        "results"
    ]
    assert hits and {h["path"] for h in hits} == {"inc/osapi_queue.h"}
    hits = svc.search(
        {
            "q": "return the name of a queue given its id",
            "k": 10,
            "mode": "hybrid",
            "language": "python",
        }
    )["results"]
    assert all(h["language"] == "python" for h in hits)


def test_a_notebook_hit_is_a_cell_and_outputs_are_not_indexed(svc):
    hits = search(svc, "orbital period of a satellite")
    top = hits[0]
    assert (top["path"], top["symbol"], top["cell"], top["start_line"], top["end_line"]) == (
        "notes/orbit.ipynb",
        "orbital_period",
        2,
        1,
        2,
    )
    assert all("results" not in h["text"] and "stdout" not in h["text"] for h in hits)
    cells = {h.get("cell") for h in hits if h["path"] == "notes/orbit.ipynb"}
    assert cells <= {0, 1, 2, 3}
    # a file's hit has no cell
    assert "cell" not in search(svc, "OS_QueueGetName")[0]
