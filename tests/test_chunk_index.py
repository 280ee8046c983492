"""The sidecar's index below HTTP: text-first writes with vectors behind, resume after a
restart, the mirror against brute force, with the real model and a real LanceDB."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from jupyter_workspace.sidecar.chunk_store import ChunkIndex, Filters
from jupyter_workspace.sidecar.chunker import Chunk
from jupyter_workspace.sidecar.index_service import IndexService

FIXTURES = Path(__file__).parent / "fixtures" / "code"


def fixture_files() -> list[dict[str, str]]:
    return [{"path": f.name, "text": f.read_text()} for f in sorted(FIXTURES.iterdir())]


def service(uri: Path) -> IndexService:
    svc = IndexService(str(uri), "all-MiniLM-L6-v2", "auto", None)
    svc.load()
    return svc


def search(svc: IndexService, q: str, mode: str, **filters: str) -> list[dict]:
    return svc.search({"q": q, "mode": mode, "k": 5, **filters})["results"]


def test_words_are_searchable_before_the_vectors_and_meaning_after(tmp_path):
    svc = service(tmp_path / "index")
    svc.inline_embed = 0  # as a cold start's big batches: write text first, embed behind
    try:
        with svc._work:  # holds the embedding worker back until the checks below are done
            answer = svc.index_files(fixture_files())
            assert answer["embedded"] == 0 and answer["chunks"] >= 25
            assert answer["vectors_pending"] == answer["chunks"]
            words = search(svc, "quaternion_norm", "text")
            assert words and words[0]["symbol"] == "quaternion_norm"
            assert search(svc, "length of a quaternion vector", "vector") == []
            # hybrid uses what exists so far: the full-text half
            assert search(svc, "quaternion_norm", "hybrid")[0]["symbol"] == "quaternion_norm"
            assert svc.stats()["vectors_pending"] == answer["chunks"]
        assert svc.wait_vectors(120)
        assert svc.stats()["vectors_pending"] == 0
        assert svc.stats()["embedded"] == answer["chunks"]
        top = search(svc, "length of a quaternion vector", "vector")[0]
        assert (top["path"], top["symbol"], top["start_line"]) == (
            "attitude.py",
            "quaternion_norm",
            21,
        )
    finally:
        svc.close()


def test_a_restart_finishes_the_vectors_left_undone(tmp_path):
    first = service(tmp_path / "index")
    first.inline_embed = 0
    with first._work:
        chunks = first.index_files(fixture_files())["chunks"]
        first.close()  # "crash": the worker never gets to embed
    assert first.stats()["vectors_pending"] == chunks

    second = service(tmp_path / "index")
    try:
        assert second.index is not None and second.index.chunk_count == chunks
        assert second.wait_vectors(120)
        assert second.embed_calls == chunks
        top = search(second, "orbital period from the semi-major axis", "vector")[0]
        assert top["symbol"] == "orbit.period"
    finally:
        second.close()


def test_small_batches_are_embedded_at_once_and_unchanged_chunks_never_again(tmp_path):
    svc = service(tmp_path / "index")
    try:
        first = svc.index_files([{"path": "pid.c", "text": (FIXTURES / "pid.c").read_text()}])
        assert first["vectors_pending"] == 0 and first["embedded"] == first["chunks"]
        again = svc.index_files([{"path": "pid.c", "text": (FIXTURES / "pid.c").read_text()}])
        assert again["embedded"] == 0
    finally:
        svc.close()


# -- the mirror, without the model ---------------------------------------------------------
DIM = 8


def unit(rng: random.Random) -> np.ndarray:
    v = np.array([rng.gauss(0, 1) for _ in range(DIM)], dtype=np.float32)
    return v / np.linalg.norm(v)


def make_chunks(rng: random.Random, path: str, n: int) -> list[Chunk]:
    language = "c" if path.endswith(".c") else "python"
    return [
        Chunk(
            path,
            language,
            rng.choice(["function", "class", "module"]),
            f"s{i}",
            1 + 10 * i,
            9 + 10 * i,
            f"body {path} {i} word{rng.randint(0, 5)}",
        )
        for i in range(n)
    ]


def test_the_mirror_matches_brute_force_through_rewrites_deletes_and_a_reopen(tmp_path):
    rng = random.Random(7)
    index = ChunkIndex(str(tmp_path / "index"), "test-model", DIM)
    index.open()
    truth: dict[str, list[tuple[Chunk, np.ndarray | None]]] = {}
    paths = [f"src/m{i}.py" for i in range(12)] + [f"lib/c{i}.c" for i in range(8)]
    for _ in range(120):
        path = rng.choice(paths)
        if rng.random() < 0.25:
            index.delete([path])
            truth.pop(path, None)
            continue
        chunks = make_chunks(rng, path, rng.randint(0, 6))
        vectors = [unit(rng) if rng.random() < 0.8 else None for _ in chunks]
        stack = (
            np.stack([v if v is not None else np.zeros(DIM, np.float32) for v in vectors])
            if chunks
            else np.zeros((0, DIM), np.float32)
        )
        index.replace(path, chunks, stack)
        truth[path] = list(zip(chunks, vectors, strict=True))
        if not chunks:
            truth.pop(path)

    def expect(query: np.ndarray, filters: Filters) -> list[tuple[str, int]]:
        matcher = filters.path_matcher()
        scored = [
            (float(v @ query), c.path, c.start_line)
            for rows in truth.values()
            for c, v in rows
            if v is not None
            and (not filters.language or c.language == filters.language)
            and (not filters.kind or c.kind == filters.kind)
            and (matcher is None or matcher.fullmatch(c.path))
        ]
        scored.sort(key=lambda t: -t[0])
        return [(p, line) for _, p, line in scored[:10]]

    def check(ix: ChunkIndex) -> None:
        assert ix.chunk_count == sum(len(rows) for rows in truth.values())
        assert ix.pending_count == sum(v is None for rows in truth.values() for _, v in rows)
        assert ix.paths() == set(truth)
        for filters in (
            Filters(),
            Filters(language="c"),
            Filters(kind="class"),
            Filters(path="src/**"),
            Filters(path="lib/c1.c", kind="function"),
        ):
            for _ in range(5):
                query = unit(rng)
                got = ix.search("", query, k=10, mode="vector", filters=filters)
                assert [(h["path"], h["start_line"]) for h in got] == expect(query, filters)

    check(index)
    reopened = ChunkIndex(str(tmp_path / "index"), "test-model", DIM)
    reopened.open()
    check(reopened)
    # what is pending is listed whole-path, and a fill completes it
    for path, generation, chunks in reopened.pending(budget=1000):
        vectors = np.stack([unit(rng) for _ in chunks])
        assert reopened.fill(path, generation, vectors)
        truth[path] = list(zip(chunks, vectors, strict=True))
    assert reopened.pending_count == 0
    check(reopened)


def test_a_fill_loses_to_a_newer_write_of_the_same_path(tmp_path):
    rng = random.Random(3)
    index = ChunkIndex(str(tmp_path / "index"), "test-model", DIM)
    index.open()
    old = make_chunks(rng, "a.py", 3)
    index.replace("a.py", old, None)
    [(path, generation, listed)] = index.pending(budget=10)
    assert path == "a.py" and listed == old
    new = make_chunks(rng, "a.py", 2)
    index.replace("a.py", new, np.stack([unit(rng) for _ in new]))
    assert not index.fill("a.py", generation, np.stack([unit(rng) for _ in old]))
    hits = index.search("body", None, k=10, mode="text")
    assert {h["text"] for h in hits} <= {c.text for c in new}
    assert index.chunk_count == 2 and index.pending_count == 0


@pytest.mark.parametrize("bad", [np.zeros((2, DIM)), np.zeros((3, DIM + 1))])
def test_vectors_must_fit_the_chunks(tmp_path, bad):
    index = ChunkIndex(str(tmp_path / "index"), "test-model", DIM)
    index.open()
    with pytest.raises(ValueError):
        index.replace("a.py", make_chunks(random.Random(1), "a.py", 3), bad)
    assert index.chunk_count == 0


def test_full_text_path_filters_apply_before_the_limit(tmp_path):
    """A folder with few rows still gets its full-text hits when many rows elsewhere match."""
    rng = random.Random(5)
    index = ChunkIndex(str(tmp_path / "index"), "test-model", DIM)
    index.open()
    for i in range(120):
        chunks = [
            Chunk(
                f"other/f{i}.py",
                "python",
                "function",
                f"s{j}",
                1 + 10 * j,
                9 + 10 * j,
                f"telemetry frame decoder telemetry frame decoder {i}",
            )
            for j in range(5)
        ]
        index.replace(chunks[0].path, chunks, np.stack([unit(rng) for _ in chunks]))
    special = [
        Chunk(
            "my_dir%/x.py", "python", "function", "decode", 1, 5, "telemetry frame decoder special"
        )
    ]
    index.replace("my_dir%/x.py", special, np.stack([unit(rng)]))
    index.optimize()
    for glob in ("my_dir%/**", "my_dir%/x.py", "my_dir%/*.py"):
        hits = index.search(
            "telemetry frame decoder", None, k=5, mode="text", filters=Filters(path=glob)
        )
        assert [h["path"] for h in hits] == ["my_dir%/x.py"], glob
    assert (
        index.search("telemetry", None, k=5, mode="text", filters=Filters(path="myXdir%/**")) == []
    )
