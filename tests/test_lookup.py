"""Type-ahead (`GET lookup`): files by path, definitions by name, notes by title, from SQLite.

The chat's `@` picker and Go to Symbol ask it on every key, so it never waits for the sidecar:
the definitions are the ones the sidecar reported while indexing, kept in the coordinator's
database beside the catalog.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from jupyter_workspace.server.catalog import Catalog, Content
from jupyter_workspace.server.grounding import retrieve
from jupyter_workspace.server.lookup import find
from jupyter_workspace.server.store import Store
from jupyter_workspace.sidecar.chunk_store import Filters
from jupyter_workspace.sidecar.chunker import chunk_file
from jupyter_workspace.sidecar.index_service import definitions

FIXTURES = Path(__file__).parent / "fixtures" / "code"


def indexed(path: str) -> dict:
    """What the sidecar answers for a fixture file: its definitions among the rest."""
    chunks = chunk_file(path, (FIXTURES / Path(path).name).read_text())
    return {"path": path, "language": chunks[0].language, "chunks": len(chunks),
            "symbols": definitions(chunks)}  # fmt: skip


@pytest.fixture
def catalog(tmp_path):
    store = Store(tmp_path / "workspace.sqlite")
    store.open()
    yield Catalog(store)
    store.close()


async def record(catalog: Catalog, *results: dict) -> None:
    for result in results:
        await catalog.mark_changed(result["path"])
    contents = {r["path"]: Content(r["path"], "", "h", 1, 1.0) for r in results}
    await catalog.record(list(results), contents)


async def lookup(catalog: Catalog, q: str, types=("file", "symbol", "note"), k: int = 20):
    return await catalog.store.run(lambda conn: find(conn, q, types, k))


def test_the_sidecar_reports_each_definition_once_with_its_lines() -> None:
    symbols = indexed("nav/kalman.cpp")["symbols"]
    assert ["nav.Kalman::gain", "function", 15, 15, -1] in symbols
    assert ["nav.Kalman", "class", 5, 13, -1] in symbols
    assert indexed("design.md")["symbols"] == []  # prose has no definitions


async def test_definitions_are_found_by_the_start_of_their_name_then_inside_it(catalog) -> None:
    await record(catalog, indexed("nav/kalman.cpp"), indexed("src/attitude.py"))
    hits = await lookup(catalog, "gai", types=("symbol",))
    assert [(h["name"], h["path"], h["line"], h["ref"]) for h in hits] == [
        ("nav.Kalman::gain", "nav/kalman.cpp", 15, "@gain")
    ]
    # letters in order find a name (`qn` → quaternion_norm), the closest match first
    hits = await lookup(catalog, "qn", types=("symbol",))
    assert hits[0]["name"] == "quaternion_norm" and hits[0]["kind"] == "function"
    hits = await lookup(catalog, "upd")
    assert hits[0]["type"] == "symbol" and hits[0]["name"] == "Estimator.update"
    assert hits[0]["end_line"] == 14


async def test_files_by_path_and_notes_by_title_with_the_mention_the_chat_reads(catalog) -> None:
    await record(catalog, indexed("nav/kalman.cpp"), indexed("src/attitude.py"))
    await record(catalog, {"path": "Makefile", "language": "text", "chunks": 1})
    await catalog.store.run(
        lambda conn: conn.execute(
            "INSERT INTO notes(title, body, created, updated) "
            "VALUES ('Kalman tuning log', '', 't', 't')"
        )
    )
    hits = await lookup(catalog, "kalman")
    kinds = [(h["type"], h.get("path")) for h in hits]
    assert ("file", "nav/kalman.cpp") in kinds and ("note", "@notes/1") in kinds
    file_hit = next(h for h in hits if h["type"] == "file")
    assert file_hit["ref"] == "@nav/kalman.cpp"
    note_hit = next(h for h in hits if h["type"] == "note")
    assert note_hit["title"] == "Kalman tuning log" and note_hit["ref"] == "@notes/1"
    make = await lookup(catalog, "makef", types=("file",))
    assert make[0]["ref"] is None  # `@Makefile` would be read as a symbol: not offered
    # just `@`: some files and notes to start from, no symbols
    assert {h["type"] for h in await lookup(catalog, "")} == {"file", "note"}


async def test_a_deleted_or_changed_file_takes_its_definitions_with_it(catalog) -> None:
    await record(catalog, indexed("nav/kalman.cpp"))
    assert await lookup(catalog, "gain", types=("symbol",))
    changed = [["nav.Kalman::innovation", "function", 3, 9, -1]]
    await record(catalog, {"path": "nav/kalman.cpp", "language": "cpp", "symbols": changed})
    assert not await lookup(catalog, "gain", types=("symbol",))
    assert await lookup(catalog, "innov", types=("symbol",))
    await catalog.mark_deleted("nav/kalman.cpp")
    assert not await lookup(catalog, "innov")  # leaving the index: not offered any more
    await catalog.forget(["nav/kalman.cpp"])
    left = await catalog.store.run(lambda c: c.execute("SELECT count(*) FROM symbols").fetchone())
    assert left[0] == 0


async def test_malformed_definitions_from_the_sidecar_are_left_out(catalog) -> None:
    await record(catalog, {"path": "a.py", "language": "python", "chunks": 1,
                           "symbols": [["ok", "function", 1, 2, -1], ["bad", "function", "x"],
                                       "junk", [None, "class", 1, 1, -1]]})  # fmt: skip
    assert [h["name"] for h in await lookup(catalog, "", types=("symbol",))] == []
    assert [h["name"] for h in await lookup(catalog, "o", types=("symbol",))] == ["ok"]


async def test_lookup_over_http_answers_without_the_sidecar(api, workspace) -> None:
    status, note = await api("POST", "notes", {"title": "Reentry heating", "body": "x"})
    assert status == 201, note
    await workspace.catalog.mark_changed("src/reentry.c")
    status, data = await api("GET", "lookup", params={"q": "reent"})
    assert status == 200, data
    assert {h["type"] for h in data["results"]} == {"file", "note"}
    assert data["took_ms"] < 1000


@pytest.mark.parametrize(
    "params",
    [{"types": "files"}, {"types": ","}, {"k": "0"}, {"k": "51"}, {"k": "x"}, {"q": "x" * 201}],
)
async def test_bad_lookups_are_400(api, params) -> None:
    status, data = await api("GET", "lookup", params=params)
    assert status == 400 and data["error"], data


class RecordingSearch:
    def __init__(self) -> None:
        self.requests: list[dict] = []

    async def raw(self, request: dict) -> list[dict]:
        self.requests.append(request)
        return []


async def test_a_mentioned_note_grounds_the_answer() -> None:
    search = RecordingSearch()
    await retrieve(search, "what did @notes/3 say about @gain?")  # type: ignore[arg-type]
    assert [r.get("path") for r in search.requests][0] == "[@]notes/3"
    matcher = Filters(path="[@]notes/3").path_matcher()
    assert matcher is not None
    assert matcher.fullmatch("@notes/3") and not matcher.fullmatch("@notes/31")
