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


# -- the quantized mirror, on real vectors ---------------------------------------------------
STDLIB_FILES = [
    "json/decoder.py",
    "textwrap.py",
    "shlex.py",
    "fnmatch.py",
    "glob.py",
    "heapq.py",
    "bisect.py",
    "colorsys.py",
    "csv.py",
    "difflib.py",
]


@pytest.fixture(scope="module")
def real_rows() -> tuple[list[Chunk], np.ndarray, np.ndarray]:
    """~300 chunks of the standard library's own code with their real MiniLM vectors, and
    the vectors of a few real queries."""
    import sysconfig

    from jupyter_workspace.sidecar.chunker import chunk_file
    from jupyter_workspace.sidecar.embedder import load_embedder

    lib = Path(sysconfig.get_paths()["stdlib"])
    chunks = [c for name in STDLIB_FILES for c in chunk_file(name, (lib / name).read_text())]
    embedder = load_embedder()
    vectors = np.asarray(embedder.embed([c.embedding_text() for c in chunks]), np.float32)
    queries = [
        "decode a JSON string",
        "wrap text to a width",
        "split a shell command line",
        "match a file name against a pattern",
        "push an item on a heap",
        "convert RGB to HSV",
        "read rows of a CSV file",
        "longest matching block of two sequences",
        "insert into a sorted list",
        "find path names matching a glob",
    ]
    return chunks, vectors, np.asarray(embedder.embed(queries), np.float32)


def brute_force(
    rows: dict[str, list[tuple[Chunk, np.ndarray]]],
    query: np.ndarray,
    keep=lambda c: True,
    k: int = 10,
) -> list[tuple[str, int]]:
    scored = sorted(
        (
            (float(v @ query), c.path, c.start_line)
            for part in rows.values()
            for c, v in part
            if keep(c)
        ),
        key=lambda t: -t[0],
    )
    return [(p, line) for _, p, line in scored[:k]]


def ranked(
    index: ChunkIndex, query: np.ndarray, filters: Filters, k: int = 10
) -> list[tuple[str, int]]:
    with index._lock:
        top = index._vector_ranking(query, k, filters)
    return [(c.path, c.start_line) for s, _ in top if (c := index._m.chunks[s]) is not None]


def overlap(got: list[tuple[str, int]], want: list[tuple[str, int]]) -> float:
    if not want:
        return float(not got)
    return len(set(got) & set(want)) / len(want)


def exact_scores(index: ChunkIndex, query: np.ndarray, filters: Filters) -> bool:
    """The cosines the vector half returns are the float32 ones, best first."""
    with index._lock:
        top = index._vector_ranking(query, 10, filters)
    scores = [score for _, score in top]
    exact = [float(index._m.vectors.rows[s] @ query) for s, _ in top]
    return np.allclose(scores, exact, atol=1e-6) and scores == sorted(scores, reverse=True)


def by_path(chunks: list[Chunk], vectors: np.ndarray) -> dict[str, list[tuple[Chunk, np.ndarray]]]:
    rows: dict[str, list[tuple[Chunk, np.ndarray]]] = {}
    for c, v in zip(chunks, vectors, strict=True):
        rows.setdefault(c.path, []).append((c, v))
    return rows


@pytest.fixture(params=["numpy", "compiled"])
def scans(request, monkeypatch) -> str:
    """The vector search's scans in numpy (an index under COMPILED_ROWS) or compiled
    (sidecar/kernels.py, loaded past it)."""
    from jupyter_workspace.sidecar import chunk_store

    compiled = chunk_store._COMPILED
    if request.param == "numpy":
        monkeypatch.setattr(compiled, "_module", None)
    else:
        monkeypatch.setattr(chunk_store, "COMPILED_ROWS", 1)
        compiled.want(1)
        assert compiled.loading is not None
        compiled.loading.join(120)
        assert compiled.ready() is not None
    return request.param


def test_binary_codes_with_exact_rescoring_find_brute_forces_top_10(
    tmp_path, real_rows, monkeypatch, scans
):
    """With 120 rows of ~300 rescored, the top 10 is brute force's but for a rare miss, and
    its cosines are the exact ones; the binary codes' own order is far from it."""
    from jupyter_workspace.sidecar import chunk_store

    monkeypatch.setattr(chunk_store, "RESCORE", 120)
    monkeypatch.setattr(chunk_store, "CANDIDATES", 200)
    chunks, vectors, queries = real_rows
    index, rows = filled_index(tmp_path, chunks, vectors)
    m = index._m
    recall, by_codes = [], []
    for query in [*queries, *vectors[::37]]:
        want = brute_force(rows, query)
        recall.append(overlap(ranked(index, query, Filters()), want))
        assert exact_scores(index, query, Filters())
        # the codes alone (Hamming distance) rank far worse: the rescoring is what counts
        code = m.vectors.encode(query[None, :])[0]
        distance = np.bitwise_count(m.vectors.bits[: m.size] ^ code).sum(axis=1)
        top = np.argsort(distance, kind="stable")[:10]
        # the scan's own distances and histogram, with every third row left out
        valid = np.arange(m.size) % 3 > 0
        scanned, histogram = m.vectors.hamming(code, valid)
        assert (scanned[valid] == distance[valid]).all()
        assert (scanned[~valid] > m.vectors.words * 64).all()
        assert (histogram == np.bincount(distance[valid], minlength=len(histogram))).all()
        by_codes.append(
            overlap([(c.path, c.start_line) for s in top if (c := m.chunks[int(s)])], want)
        )
    assert np.mean(recall) >= 0.95 and np.mean(by_codes) <= np.mean(recall) - 0.1, (
        np.mean(recall),
        np.mean(by_codes),
    )
    # hits carry their own text back from the text file
    for hit in index.search("", queries[0], k=5, mode="vector"):
        [chunk] = [c for c, _ in rows[hit["path"]] if c.start_line == hit["start_line"]]
        assert hit["text"].startswith(chunk.text.split("\n")[0])


def test_the_asymmetric_score_keeps_more_of_the_top_10_than_the_hamming_distance(
    tmp_path, real_rows, monkeypatch, scans
):
    """Keeping 15 of ~300 rows for the exact stage: chosen by the query's own values over the
    codes' bits they hold more of brute force's top 10 than chosen by Hamming distance, and
    the asymmetric score is the query's dot product with the code as 0/1."""
    from jupyter_workspace.sidecar import chunk_store

    chunks, vectors, queries = real_rows
    index, rows = filled_index(tmp_path, chunks, vectors)
    vf = index._m.vectors
    size = index._m.size
    every = np.arange(size)
    bits = np.unpackbits(vf.bits[:size].view(np.uint8), axis=1)
    query = queries[0]
    centred = query - vf.centre
    # every row (all within distance 0) and then those within a distance: in row order
    kept, scores = vf.asymmetric(query, np.zeros(size, dtype=np.uint16), 0, size)
    assert (kept == every).all()
    assert np.allclose(scores, bits[:, : vf.dim] @ centred, atol=1e-4)
    distance, _ = vf.hamming(vf.encode(query[None, :])[0], np.ones(size, dtype=bool))
    threshold = int(np.median(distance))
    near = np.flatnonzero(distance <= threshold)
    assert 0 < len(near) < size
    kept, scores = vf.asymmetric(query, distance, threshold, len(near))
    assert (kept == near).all()
    assert np.allclose(scores, bits[near, : vf.dim] @ centred, atol=1e-4)
    monkeypatch.setattr(chunk_store, "RESCORE", 15)
    recall = {}
    for label, candidates in (("hamming", 15), ("asymmetric", 10_000)):
        monkeypatch.setattr(chunk_store, "CANDIDATES", candidates)
        recall[label] = np.mean(
            [
                overlap(ranked(index, q, Filters()), brute_force(rows, q))
                for q in [*queries, *vectors[::7]]
            ]
        )
    assert recall["asymmetric"] >= recall["hamming"] + 0.015 and recall["asymmetric"] >= 0.9, recall


def test_a_small_index_never_loads_the_compiled_scans(tmp_path):
    """numba (~130 MiB of RSS) is imported only once an index passes COMPILED_ROWS: a
    sidecar with a small index searches in numpy without it; past the mark (lowered here)
    its first search starts loading the kernels on a thread, and the same searches answer
    the same."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent(
        """
        import sys
        import numpy as np
        from jupyter_workspace.sidecar import chunk_store
        from jupyter_workspace.sidecar.chunk_store import ChunkIndex, Filters
        from jupyter_workspace.sidecar.chunker import Chunk

        rng = np.random.default_rng(7)
        index = ChunkIndex(sys.argv[1], "test-model", 384)
        index.open()
        writes = []
        for f in range(60):
            chunks = [
                Chunk(path=f"src/f{f}.py", start_line=10 * i + 1, end_line=10 * i + 9,
                      text=f"def f{f}_{i}(): return {i}", symbol=f"f{f}_{i}",
                      kind="function", language="python")
                for i in range(100)
            ]
            v = rng.standard_normal((100, 384)).astype(np.float32)
            writes.append((chunks[0].path, chunks, v / np.linalg.norm(v, axis=1)[:, None]))
        index.replace_many(writes)
        queries = rng.standard_normal((5, 384)).astype(np.float32)
        def answers():
            return [
                [(h["path"], h["start_line"]) for h in index.search("", q, 10, "vector", Filters())]
                for q in queries
            ]
        small = answers()
        print("numba" in sys.modules)
        chunk_store.COMPILED_ROWS = 1000
        first = answers()  # the first search past the mark starts loading them
        chunk_store._COMPILED.loading.join(120)
        print(chunk_store._COMPILED.ready() is not None, first == small, answers() == small)
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "index")],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout.split()
    assert out == ["False", "True", "True", "True"], out


def filled_index(tmp_path, chunks, vectors):
    """An index of the real rows, each path's in one write; the rows by path."""
    index = ChunkIndex(str(tmp_path / "index"), "test-model", vectors.shape[1])
    index.open()
    rows = by_path(chunks, vectors)
    index.replace_many(
        [
            (path, [c for c, _ in part], np.stack([v for _, v in part]))
            for path, part in rows.items()
        ]
    )
    return index, rows


def test_filters_hold_on_the_quantized_path(tmp_path, real_rows, monkeypatch):
    from jupyter_workspace.sidecar import chunk_store

    monkeypatch.setattr(chunk_store, "RESCORE", 120)
    monkeypatch.setattr(chunk_store, "CANDIDATES", 200)
    chunks, vectors, queries = real_rows
    index, rows = filled_index(tmp_path, chunks, vectors)
    cases = [
        (Filters(kind="class"), lambda c: c.kind == "class"),
        (Filters(path="difflib.py"), lambda c: c.path == "difflib.py"),
        (Filters(path="json/**"), lambda c: c.path.startswith("json/")),
        (Filters(kind="function", path="*.py"), lambda c: c.kind == "function"),
        (Filters(language="c"), lambda c: False),
    ]
    for filters, keep in cases:
        recall = []
        for query in queries:
            got = ranked(index, query, filters)
            want = brute_force(rows, query, keep)
            assert {path for path, _ in got} <= {path for path, _ in want} | {
                c.path for c in chunks if keep(c)
            }
            assert len(got) == len(want) and exact_scores(index, query, filters)
            recall.append(overlap(got, want))
        assert np.mean(recall) >= 0.95, (filters, recall)


def test_deleted_and_reused_slots_answer_for_their_new_rows(tmp_path, real_rows, monkeypatch):
    """Paths rewritten with other chunks, deleted and written again: slots are reused, and
    vectors, text, names and the full-text keys follow the row that holds the slot now,
    through merges of the name index, a rewrite of the text file and a reopen."""
    from jupyter_workspace.sidecar import chunk_store

    monkeypatch.setattr(chunk_store, "RESCORE", 120)
    monkeypatch.setattr(chunk_store, "CANDIDATES", 200)
    monkeypatch.setattr(chunk_store, "NAME_MERGE_ROWS", 50)
    monkeypatch.setattr(chunk_store, "TEXT_COMPACT_BYTES", 20_000)
    monkeypatch.setattr(chunk_store, "SYMBOL_COMPACT_BYTES", 500)
    chunks, vectors, queries = real_rows
    rng = random.Random(11)
    index = ChunkIndex(str(tmp_path / "index"), "test-model", vectors.shape[1])
    index.open()
    paths = [f"pkg/m{i}.py" for i in range(12)]
    truth: dict[str, list[tuple[Chunk, np.ndarray]]] = {}
    written = symbol_bytes = 0
    for step in range(60):
        path = rng.choice(paths)
        if rng.random() < 0.3:
            index.delete([path])
            truth.pop(path, None)
            continue
        picks = rng.sample(range(len(chunks)), rng.randint(1, 30))
        part = [
            (
                Chunk(
                    path,
                    chunks[i].language,
                    chunks[i].kind,
                    chunks[i].symbol,
                    1000 * step + 40 * j + 1,
                    1000 * step + 40 * j + 1 + chunks[i].end_line - chunks[i].start_line,
                    chunks[i].text,
                    chunks[i].names,
                ),
                vectors[i],
            )
            for j, i in enumerate(picks)
        ]
        index.replace(path, [c for c, _ in part], np.stack([v for _, v in part]))
        truth[path] = part
        written += len(part)
        symbol_bytes += sum(len(c.symbol.encode()) for c, _ in part)
    assert index._m.size < written  # slots were freed and reused
    assert len(index._m.symbols.blob) < symbol_bytes / 2  # the symbols' buffer was rewritten

    def check(ix: ChunkIndex) -> None:
        m = ix._m
        assert ix.chunk_count == sum(len(p) for p in truth.values())
        recall = [overlap(ranked(ix, q, Filters()), brute_force(truth, q)) for q in queries]
        assert np.mean(recall) >= 0.95 and all(exact_scores(ix, q, Filters()) for q in queries)
        for part in truth.values():
            for c, v in part:
                slot = m.slot_of((c.path, c.start_line, c.end_line, c.cell))
                assert slot is not None and m.chunks[slot] == c
                assert np.array_equal(m.vectors.rows[slot], v)
        names = {n for part in truth.values() for c, _ in part for n in chunk_store._names_of(c)}
        for name in sorted(names)[:80]:
            expected = sorted(
                (c.path, c.start_line)
                for part in truth.values()
                for c, _ in part
                if name in chunk_store._names_of(c)
            )
            got = sorted((c.path, c.start_line) for s in m.rows_named(name) if (c := m.chunks[s]))
            assert got == expected, name
        gone = {c.symbol.lower() for c in chunks if c.symbol} - names
        assert all(m.rows_named(n) == [] for n in gone)

    check(index)
    reopened = ChunkIndex(str(tmp_path / "index"), "test-model", vectors.shape[1])
    reopened.open()
    check(reopened)


def test_the_full_text_index_is_held_in_memory_as_it_grows(tmp_path, monkeypatch):
    """The full-text handle's cache is sized to hold the whole full-text index (a 16 MiB
    cache held a fifth of it at 1M rows, and every query read posting lists from disk): it
    grows with the index, and the index is loaded into it at open and after it grew."""
    from jupyter_workspace.sidecar import chunk_store

    monkeypatch.setattr(chunk_store, "INDEX_CACHE_BYTES", 128 * 1024)  # the floor, scaled down
    rng = random.Random(3)
    index = ChunkIndex(str(tmp_path / "index"), "test-model", DIM)
    index.open()
    assert index.text_cache_bytes == 128 * 1024  # nothing to hold yet
    vocabulary = [f"w{rng.getrandbits(40):x}" for _ in range(20_000)]
    for batch in range(6):
        items = []
        for f in range(20):
            path = f"src/b{batch}/f{f}.c"
            chunks = [
                Chunk(
                    path,
                    "c",
                    "function",
                    f"fn{i}",
                    1 + 10 * i,
                    9 + 10 * i,
                    " ".join(rng.sample(vocabulary, 40)),
                )
                for i in range(25)
            ]
            items.append((path, chunks, np.stack([unit(rng) for _ in chunks])))
        index.replace_many(items)
        index.optimize()

    def held(ix: ChunkIndex) -> None:
        size = chunk_store._fts_index(ix._table).size_bytes
        assert size > 4 * 128 * 1024  # the floor alone would hold a part of it
        assert ix.text_cache_bytes >= chunk_store.TEXT_CACHE_FACTOR * size / 1.6
        assert ix.warming is not None
        ix.warming.join(60)
        resident = ix._reader_session.size_bytes
        assert resident >= size, (resident, size)  # all of it, loaded before any query
        word = vocabulary[7]
        hits = ix.search(word, None, k=3, mode="text")
        assert hits and word in hits[0]["text"]
        # read from memory: the query adds table metadata to the session, not index parts
        assert ix._reader_session.size_bytes <= resident + size / 4

    held(index)
    reopened = ChunkIndex(str(tmp_path / "index"), "test-model", DIM)
    reopened.open()
    held(reopened)


def test_full_text_hits_are_keyed_by_row_id_through_writes_compaction_and_reuse(tmp_path):
    """A full-text query asks LanceDB for row ids and scores alone and the mirror names their
    rows; rows written since the last optimize are read from the table instead, a dropped
    row's id names nothing (even once its slot holds another row), and after an optimize
    (which compacts, renumbering rows) the ids are learned again. Every answer is the one the
    key columns give."""
    rng = random.Random(11)
    index = ChunkIndex(str(tmp_path / "index"), "test-model", DIM)
    index.open()

    def body(path: str, i: int, extra: str = "") -> Chunk:
        return Chunk(path, "c", "function", f"f{i}", 1 + 10 * i, 8 + 10 * i, f"relay {extra} {i}")

    words = [
        "alpha",
        "bravo",
        "charlie",
        "delta",
        "echo",
        "foxtrot",
        "golf",
        "hotel",
        "india",
        "juliet",
        "kilo",
        "lima",
    ]
    for f in range(12):  # one write per file: many small fragments for optimize to compact
        path = f"src/f{f}.c"
        chunks = [body(path, i, words[f]) for i in range(6)]
        index.replace(path, chunks, np.stack([unit(rng) for _ in chunks]))
    index.optimize()

    def by_columns(q: str) -> list:
        saved = index._m.by_rowid
        index._m.by_rowid = (np.zeros(0, np.int64), np.zeros(0, np.int64))
        try:
            return index.text_search(q, 200, Filters())  # more than all rows: no ties cut
        finally:
            index._m.by_rowid = saved

    def check(q: str, rereads: int) -> list:
        before = index.text_rereads
        got = index.text_search(q, 200, Filters())
        assert got == by_columns(q)
        assert index.text_rereads - before == rereads, q
        return got

    hits = check("relay delta", 0)
    assert hits[0][0][0] == "src/f3.c" and len(hits) == 72
    stale = (
        index._reader.search("delta", query_type="fts", fts_columns="terms")
        .with_row_id(True)
        .select(["_score"])
        .limit(1)
        .to_list()[0]["_rowid"]
    )
    assert index._m.keys_of_rowids([stale]) is not None

    # a rewrite: its rows are new to the mirror until the next optimize
    fresh = [body("src/f3.c", i, "delta quasar") for i in range(4)]
    index.replace("src/f3.c", fresh, np.stack([unit(rng) for _ in fresh]))
    assert index._m.keys_of_rowids([stale]) is None  # the old row's id names nothing now
    assert [k[0] for k, _ in check("quasar", 1)] == ["src/f3.c"] * 4
    check("hotel", 0)  # rows not written since are still named by id
    # another path takes the freed slots
    index.delete(["src/f5.c"])
    other = [body("lib/g.c", i, "pulsar") for i in range(6)]
    index.replace("lib/g.c", other, np.stack([unit(rng) for _ in other]))
    assert not [k for k, _ in check("foxtrot", 0) if k[0] == "src/f5.c"]
    assert {k[0] for k, _ in check("pulsar", 1)} == {"lib/g.c"}

    index.optimize()  # compacts: every row may have a new id, and all are learned
    for q in ("quasar", "pulsar", "relay delta", "hotel"):
        check(q, 0)
    assert index._m.keys_of_rowids([stale]) is None or stale in index._m.rowid

    reopened = ChunkIndex(str(tmp_path / "index"), "test-model", DIM)
    reopened.open()
    index = reopened
    for q in ("quasar", "pulsar", "relay bravo"):
        check(q, 0)
