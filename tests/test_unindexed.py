"""Search before the index holds a file: the coordinator reads pending files for the words.

The sidecar here never gets ready (a process that sleeps), as on a fresh start while LanceDB
and the model load: the first scan still fills the catalog, and search answers from the files.
"""

import sys

import pytest

from jupyter_workspace.server import unindexed
from jupyter_workspace.server.catalog import SizeLimit
from jupyter_workspace.server.ignore import IgnoreRules

from .waiting import until

PUMP_C = """#include <stdint.h>

/* Prime the pump before the first burn. */
int prime_pump(int rpm)
{
    return rpm > 100;
}

/* REQ-PMP-7: the valve seals within 2 s. */
void seal_valve(void)
{
}
"""


# a sidecar that never answers its health check: the index stays out of reach
NEVER_READY_SIDECAR = {
    "sidecar_enabled": True,
    "index_enabled": True,
    "sidecar_command": [sys.executable, "-c", "import time; time.sleep(600)"],
    "sidecar_start_timeout": 600.0,
}


@pytest.fixture
def jp_server_config(jp_server_config, jp_root_dir):
    (jp_root_dir / "src").mkdir()
    (jp_root_dir / "src" / "pump.c").write_text(PUMP_C)
    (jp_root_dir / "src" / "pump.h").write_text("int prime_pump(int rpm);\n")
    (jp_root_dir / "tools").mkdir()
    (jp_root_dir / "tools" / "ground.py").write_text(
        "def prime_pump_remote(link):\n    '''Ask the vehicle to prime the pump.'''\n"
    )
    (jp_root_dir / ".env").write_text("PUMP_TOKEN=prime_pump_hunter2\n")
    (jp_root_dir / "blob.bin").write_bytes(b"\x00prime_pump\x00" * 100)
    (jp_root_dir / "latin1.c").write_bytes("/* prime_pump caf\xe9 */\n".encode("latin-1"))
    config = dict(jp_server_config)
    config["WorkspaceApp"] = {**config["WorkspaceApp"], **NEVER_READY_SIDECAR}
    return config


async def pending_files(api, expect: int) -> None:
    async def scanned():
        _, index = await api("GET", "index")
        return index["files_pending"] >= expect or None

    await until(scanned, timeout=30, interval=0.1)


async def test_search_answers_from_the_files_while_the_sidecar_starts(jp_serverapp, api):
    await jp_serverapp._post_start()
    # at once: the search waits for the indexer's first scan, not for the sidecar
    status_code, found = await api("GET", "search", params={"q": "prime_pump"})
    assert status_code == 200, found
    _, status = await api("GET", "status")
    assert status["sidecar"]["state"] == "starting"
    assert found["words_only"] is True
    assert "starting" in found["index_unavailable"]
    assert found["unindexed"]["files"] >= 3 and found["unindexed"]["partial"] is False
    hits = found["results"]
    paths = [h["path"] for h in hits]
    assert {"src/pump.c", "src/pump.h", "tools/ground.py", "latin1.c"} <= set(paths)
    # nothing hidden, secret or binary is read
    assert ".env" not in paths and "blob.bin" not in paths
    assert "hunter2" not in str(found)
    pump = next(h for h in hits if h["path"] == "src/pump.c")
    assert pump["unindexed"] is True and pump["language"] == "c"
    assert pump["start_line"] <= 4 <= pump["end_line"] and "int prime_pump" in pump["snippet"]
    assert "text" not in pump  # as the index's hits: the snippet, not the whole text

    # the filters apply; words cannot answer meaning alone or a kind of definition
    _, only_py = await api("GET", "search", params={"q": "prime_pump", "lang": "python"})
    assert [h["path"] for h in only_py["results"]] == ["tools/ground.py"]
    _, under_src = await api("GET", "search", params={"q": "prime_pump", "path": "src/"})
    assert {h["path"] for h in under_src["results"]} == {"src/pump.c", "src/pump.h"}
    for params in ({"mode": "vector"}, {"kind": "function"}):
        code, refused = await api("GET", "search", params={"q": "prime_pump", **params})
        assert code == 503 and "search unavailable" in refused["error"], refused

    # a phrase: the line with most of its words, in order first
    _, phrase = await api("GET", "search", params={"q": "the valve seals within"})
    assert phrase["results"][0]["path"] == "src/pump.c"
    assert "REQ-PMP-7" in phrase["results"][0]["snippet"]
    _, none = await api("GET", "search", params={"q": "no_such_identifier_anywhere"})
    assert none["results"] == [] and none["words_only"] is True


async def test_a_file_gone_since_the_scan_is_left_out(jp_serverapp, api, jp_root_dir):
    await jp_serverapp._post_start()
    await pending_files(api, 4)
    (jp_root_dir / "tools" / "ground.py").unlink()
    code, found = await api("GET", "search", params={"q": "prime_pump_remote"})
    assert code == 200 and found["results"] == [], found


def test_windows_rank_lines_and_a_file_gives_at_most_three(tmp_path):
    lines = [f"x = {i}" for i in range(200)]
    for at in (10, 60, 110, 160):
        lines[at] = "alpha beta gamma"
    lines[12] = "alpha only"  # inside the window of line 10: not a hit of its own
    lines[199] = "beta gamma alpha"  # all words, not in the query's order
    (tmp_path / "a.py").write_text("\n".join(lines))
    (tmp_path / "b.py").write_text("gamma\n")  # one word of three: under the half needed
    rules = IgnoreRules(tmp_path, tmp_path / ".state")
    found = unindexed.search(
        tmp_path, rules, SizeLimit(10**6, 10**6), ["a.py", "b.py"], "alpha beta gamma", 10
    )
    hits = found["results"]
    assert found["searched"] == ["a.py", "b.py"] and not found["partial"]
    assert [h["start_line"] for h in hits] == [9, 59, 109]  # exact phrase lines, in file order
    assert all(h["path"] == "a.py" and h["score"] == 1.0 for h in hits)


def test_the_search_stops_at_its_budget_and_says_so(tmp_path, monkeypatch):
    for i in range(30):
        (tmp_path / f"f{i:02}.c").write_text("int needle;\n" * 50)
    monkeypatch.setattr(unindexed, "MAX_BYTES", 100)
    paths = [f"f{i:02}.c" for i in range(30)]
    rules, limit = IgnoreRules(tmp_path, tmp_path / ".state"), SizeLimit(10**6, 10**6)
    found = unindexed.search(tmp_path, rules, limit, paths, "needle", 100)
    assert found["partial"] is True and len(found["searched"]) == 1
    monkeypatch.setattr(unindexed, "MAX_BYTES", 10**9)
    monkeypatch.setattr(unindexed, "BUDGET_S", -1.0)  # spent before the first file
    found = unindexed.search(tmp_path, rules, limit, paths, "needle", 100)
    assert found["partial"] is True and found["searched"] == []


async def test_index_hits_and_pending_files_alternate_and_a_pending_files_stale_hits_go(
    tmp_path,
):
    """The index answers for what it holds; a file pending since (changed) is read afresh,
    and the index's older hits for it give way to the file's own."""
    from jupyter_workspace.server.search import SearchManager

    (tmp_path / "a.c").write_text("int valve_open;\nint valve_close;\n")

    class Catalog:
        async def take(self, state, limit):
            return ["a.c"] if state == "pending" else []

    class Client:
        async def call(self, method, path, body, timeout=None):
            hit = {"symbol": None, "kind": "function", "language": "c", "snippet": "s"}
            return {
                "results": [
                    {**hit, "path": "b.c", "start_line": 3, "end_line": 4, "score": 0.9},
                    {**hit, "path": "a.c", "start_line": 7, "end_line": 9, "score": 0.8},
                    {**hit, "path": "c.c", "start_line": 1, "end_line": 2, "score": 0.7},
                ]
            }

    class Supervisor:
        state, client, error = "ready", Client(), None

    pending = unindexed.PendingFiles(
        tmp_path, IgnoreRules(tmp_path, tmp_path / ".state"), Catalog(), SizeLimit(10**6, 10**6)
    )
    manager = SearchManager(Supervisor(), pending)
    found = await manager.search({"q": "valve_close"})
    assert [(h["path"], h["start_line"]) for h in found["results"]] == [
        ("b.c", 3),
        ("a.c", 1),
        ("c.c", 1),
    ]
    assert found["results"][1]["unindexed"] is True and "unindexed" not in found["results"][0]
    assert found["unindexed"] == {"files": 1, "partial": False}
    assert "words_only" not in found  # the index's model answered: its hits are by meaning
    assert "index_unavailable" not in found
    vector = await manager.search({"q": "valve_close", "mode": "vector"})
    assert [h["path"] for h in vector["results"]] == ["b.c", "a.c", "c.c"]  # words: none
    assert "unindexed" not in vector
