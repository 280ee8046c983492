"""The index under sustained writes (issue 13, "Under sustained load"): autosaves are coalesced,
a batch is a couple of table versions, old versions are pruned, and a search never waits for a
write. The sidecar's index with a real LanceDB; the coordinator against a fake sidecar that
records what it is sent."""

from __future__ import annotations

import json
import random
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from jupyter_workspace.sidecar import chunk_store as index_module
from jupyter_workspace.sidecar import index_service as indexing_module
from jupyter_workspace.sidecar.chunk_store import META_FILE, ChunkIndex
from jupyter_workspace.sidecar.chunker import Chunk
from jupyter_workspace.sidecar.index_service import IndexService, ModelLoading, expected_model

from .fake_sidecar import FakeSidecar
from .waiting import until

DIM = 8


def unit(rng: random.Random) -> np.ndarray:
    v = np.array([rng.gauss(0, 1) for _ in range(DIM)], dtype=np.float32)
    return v / np.linalg.norm(v)


def note_chunk(path: str, text: str) -> list[Chunk]:
    return [Chunk(path, "markdown", "section", "", 1, 1, text)]


def word(i: int) -> str:
    """A word of letters only for edit `i` (the full-text terms split digits off)."""
    return "zq" + "".join(chr(ord("a") + int(d)) for d in f"{i:02d}")


def versions_on_disk(uri: Path) -> int:
    return sum(1 for _ in uri.glob("*.lance/_versions/*.manifest"))


def text_paths(index: ChunkIndex, q: str) -> list[str]:
    return [h["path"] for h in index.search(q, None, k=10, mode="text")]


@pytest.fixture
def index(tmp_path):
    index = ChunkIndex(str(tmp_path / "index"), "test-model", DIM)
    index.open()
    return index


def test_many_edits_of_a_note_leave_a_few_versions_on_disk_after_optimize(
    index, tmp_path, monkeypatch
):
    # versions younger than KEEP_VERSIONS stay; here every one is older than a millisecond
    monkeypatch.setattr(index_module, "KEEP_VERSIONS", timedelta(milliseconds=1), raising=False)
    rng = random.Random(1)
    index.replace("@notes/1", note_chunk("@notes/1", "launch checklist draft"), None)
    for i in range(60):
        index.replace(
            "@notes/1", note_chunk("@notes/1", f"launch checklist {word(i)}"), np.stack([unit(rng)])
        )
    assert versions_on_disk(tmp_path / "index") > 100
    index.optimize()
    assert versions_on_disk(tmp_path / "index") <= 3
    assert text_paths(index, word(59)) == ["@notes/1"]
    assert text_paths(index, word(58)) == [] and text_paths(index, "draft") == []
    assert index.chunk_count == 1


def test_a_path_given_twice_in_one_batch_keeps_its_last_content(index):
    rng = random.Random(2)
    index.replace_many(
        [
            ("@notes/1", note_chunk("@notes/1", "first autosave"), np.stack([unit(rng)])),
            ("@notes/2", note_chunk("@notes/2", "another note"), None),
            ("@notes/1", note_chunk("@notes/1", "second autosave wins"), np.stack([unit(rng)])),
        ]
    )
    assert text_paths(index, "wins") == ["@notes/1"]
    assert text_paths(index, "first") == []
    assert index.chunk_count == 2 and index.pending_count == 1


class HeldTable:
    """A LanceDB table whose writes can be held open by the test. Like LanceDB's own handle
    (measured: a full-text query waited 2.4 s behind a 2.5 s `optimize` on the same handle, and
    none waited on a second handle), a query on it waits while a write holds it."""

    def __init__(self, table: Any) -> None:
        self._inner = table
        self._busy = threading.Lock()
        self.entered = threading.Event()
        self.release = threading.Event()

    def _held(self, name: str):
        def write(*args: Any, **kwargs: Any) -> Any:
            with self._busy:
                self.entered.set()
                self.release.wait()
                return getattr(self._inner, name)(*args, **kwargs)

        return write

    def __getattr__(self, name: str) -> Any:
        if name in ("add", "delete", "optimize"):
            return self._held(name)
        if name == "search":

            def search(*args: Any, **kwargs: Any) -> Any:
                with self._busy:
                    return self._inner.search(*args, **kwargs)

            return search
        return getattr(self._inner, name)


def test_a_search_is_answered_while_an_optimize_holds_the_table(index):
    rng = random.Random(3)
    index.replace(
        "src/pump.py",
        [
            Chunk(
                "src/pump.py",
                "python",
                "function",
                "prime_pump",
                1,
                3,
                "def prime_pump(): open the coolant valve",
            )
        ],
        np.stack([unit(rng)]),
    )
    held = index._table = HeldTable(index._table)
    writer = threading.Thread(target=index.optimize, daemon=True)
    writer.start()
    assert held.entered.wait(30)
    answers: list[list[dict]] = []
    reader = threading.Thread(
        target=lambda: answers.append(index.search("coolant valve", unit(rng), k=5, mode="hybrid")),
        daemon=True,
    )
    reader.start()
    reader.join(30)
    done = not reader.is_alive()
    held.release.set()
    writer.join(30)
    assert done, "the search waited for the optimize"
    assert [h["symbol"] for h in answers[0]] == ["prime_pump"]


def service(uri: Path) -> IndexService:
    svc = IndexService(str(uri), "all-MiniLM-L6-v2", "auto", None)
    svc.load()
    return svc


def test_a_batch_of_edited_notes_is_two_table_versions(tmp_path):
    svc = service(tmp_path / "index")
    try:
        notes = [
            {
                "path": f"@notes/{i}",
                "text": f"# Note {i}\n\nFirst draft {i}.",
                "language": "markdown",
            }
            for i in range(10)
        ]
        svc.index_files(notes)
        before = svc.index._table.version
        answer = svc.index_files([{**n, "text": n["text"] + " Edited."} for n in notes])
        assert answer["chunks"] == 10
        assert svc.index._table.version - before <= 2
        assert svc.search({"q": "Edited", "mode": "text", "k": 20})["results"]
    finally:
        svc.close()


def test_a_compaction_asked_for_within_the_gap_is_made_by_the_worker_later(tmp_path, monkeypatch):
    svc = service(tmp_path / "index")
    try:
        svc.index_files(
            [{"path": "@notes/1", "text": "# Plan\n\nThermal test.", "language": "markdown"}]
        )
        svc.optimize()
        assert svc.index.writes_since_optimize == 0
        assert svc.optimize_soon() == {"seconds": 0.0}  # nothing written since
        with svc._work:  # the worker looks again only once the gap is shortened below
            svc.index_files(
                [{"path": "@notes/1", "text": "# Plan\n\nVacuum test.", "language": "markdown"}]
            )
            assert svc.optimize_soon()["deferred"] is True
            assert svc.index.writes_since_optimize > 0
            monkeypatch.setattr(indexing_module, "OPTIMIZE_GAP", 0.05)
            svc._work.notify_all()
        assert wait_for(lambda: svc.index.writes_since_optimize == 0)
        assert svc.search({"q": "vacuum", "mode": "text"})["results"][0]["path"] == "@notes/1"
    finally:
        svc.close()


def wait_for(predicate: Any, timeout: float = 60.0) -> bool:
    """Poll `predicate` until it holds (a bound for a hung test, not a timing claim)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


# -- the coordinator: autosaves of a note reach the index once ---------------------------------
@pytest.fixture
def jp_server_config(jp_server_config):
    config = dict(jp_server_config)
    config["WorkspaceApp"] = {
        **config["WorkspaceApp"],
        "sidecar_enabled": True,
        "index_enabled": True,
    }
    return config


async def test_autosaves_of_a_note_reach_the_index_once_with_the_last_text(
    jp_serverapp, workspace, api
):
    sidecar = FakeSidecar()
    workspace.supervisor = workspace.indexer.supervisor = sidecar
    await jp_serverapp._post_start()
    indexer = workspace.indexer
    await until(lambda: indexer.state == "idle", timeout=60)
    _, note = await api("POST", "notes", {"title": "Log", "body": "draft"})
    for i in range(20):  # a user typing: one PATCH per autosave
        await api("PATCH", f"notes/{note['id']}", {"body": f"draft {i}"})
    path = f"@notes/{note['id']}"
    # every event is in, and the note waits for more autosaves (NOTE_SETTLE s)
    await until(lambda: indexer._events.empty() and path in indexer._notes_changed, timeout=60)
    assert path not in {p for p, _ in sidecar.sent}
    indexer._notes_timer.cancel()  # settle now rather than after NOTE_SETTLE s
    indexer._notes_settled()

    async def indexed() -> bool:
        rows = {f["path"]: f for f in await workspace.catalog.files(limit=1000)}
        return indexer.state == "idle" and rows.get(path, {}).get("state") == "indexed"

    await until(indexed, timeout=60)
    assert [text for p, text in sidecar.sent if p == path] == ["# Log\n\ndraft 19"]


async def test_the_sidecar_runs_with_few_malloc_arenas_and_one_blas_thread_unless_told(
    tmp_path, monkeypatch
):
    """glibc's arena per thread grew the sidecar under sustained writes (bench_soak.py), and
    OpenBLAS's spinning threads took the core the full-text search needs (bench_scale.py)."""
    import sys

    from jupyter_workspace.server.supervisor import Supervisor

    seen = tmp_path / "arenas"
    command = [
        sys.executable,
        "-c",
        "import os\n"
        f"open({str(seen)!r}, 'a').write(os.environ.get('MALLOC_ARENA_MAX', '-') + ' '\n"
        "    + os.environ.get('OPENBLAS_NUM_THREADS', '-') + ' ')\n"
        "raise SystemExit(3)",
    ]
    for environment, expected in ((None, ["2", "1"]), ("8", ["8", "8"])):
        for name in ("MALLOC_ARENA_MAX", "OPENBLAS_NUM_THREADS"):
            if environment is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, environment)
        seen.unlink(missing_ok=True)
        supervisor = Supervisor(command, lambda event: None, backoff=(), start_timeout=30)
        supervisor.start()
        try:
            await until(seen.exists, timeout=60)
        finally:
            await supervisor.stop()
        assert seen.read_text().split()[:2] == expected


def test_words_are_searchable_before_the_model_loads_and_meaning_follows(tmp_path):
    """The index opens for the model it expects without loading it: text search answers (and
    says it is by words only), a vector search is refused as not ready, and the rows written
    meanwhile get their vectors once the model has loaded."""
    svc = IndexService(str(tmp_path / "index"), "all-MiniLM-L6-v2", "auto", None)
    try:
        opened = svc.open_early()
        assert opened is not None and opened["vectors"] == "loading"
        assert svc.embedder is None
        svc.index_files(
            [
                {
                    "path": "src/pump.c",
                    "text": "int prime_pump(int rpm) {\n  return rpm > 100;\n}\n",
                    "language": "c",
                },
                {"path": "@notes/1", "text": "# Valve\n\nSeal the valve.", "language": "markdown"},
            ]
        )
        early = svc.search({"q": "prime_pump", "mode": "hybrid", "k": 5})
        assert early["words_only"] is True
        assert [h["symbol"] for h in early["results"]][:1] == ["prime_pump"]
        with pytest.raises(ModelLoading):
            svc.search({"q": "start the pump", "mode": "vector", "k": 5})
        loaded = svc.load_model()
        assert loaded["vectors"] == "ready" and loaded["model_id"] == opened["model_id"]
        assert loaded["index_id"] == opened["index_id"]  # the same index, not a rebuilt one
        assert svc.wait_vectors(60)
        later = svc.search({"q": "start the pump", "mode": "vector", "k": 5})
        assert "words_only" not in later and later["results"][0]["path"] == "src/pump.c"
    finally:
        svc.close()


def test_a_remote_backend_opens_early_only_from_an_index_built_with_it(tmp_path):
    """Only the index's own meta file can say a remote model's dimension before it answers."""
    uri = tmp_path / "index"
    assert IndexService(str(uri), "m", "openai:text-embed", None).open_early() is None
    uri.mkdir()
    (uri / META_FILE).write_text(json.dumps({"model_id": "openai:text-embed", "dim": 768}))
    assert expected_model("m", "openai:text-embed", str(uri)) == ("openai:text-embed", 768)
    assert expected_model("m", "openai:other", str(uri)) is None
    assert expected_model("no-such-model", "auto", str(uri)) is None


def test_the_versions_a_compaction_kept_go_once_they_are_old(tmp_path, monkeypatch):
    """A compaction keeps the newest versions for queries in flight, and with them the files
    it replaced; the worker removes them once they are old, with nothing written since (they
    stayed until the next write: 2.1x the compacted size after a cold index)."""
    keep = timedelta(seconds=1)
    monkeypatch.setattr(index_module, "KEEP_VERSIONS", keep)
    monkeypatch.setattr(indexing_module, "KEEP_VERSIONS", keep)
    svc = service(tmp_path / "index")
    try:
        for i in range(6):
            note = {"path": f"@notes/{i}", "text": f"# Note {i}\n\nValve {i}.", "language": "md"}
            svc.index_files([note])
        svc.optimize()
        table = svc.index._table
        assert len(table.list_versions()) > 1  # younger than `keep`: kept for now
        deadline = time.monotonic() + 30
        while len(table.list_versions()) > 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(table.list_versions()) == 1
        assert svc.search({"q": "Valve", "mode": "text", "k": 10})["results"]
    finally:
        svc.close()
