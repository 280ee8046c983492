"""Detected tasks and entities in the coordinator: storage rules and the REST API, fed with what
the sidecar would answer (the end-to-end path through the real index is in test_index.py)."""

from __future__ import annotations

import pytest

from jupyter_workspace.server.chat import LLMConfig

from .chat_helpers import FAKE_KEY, sidecar_ready


@pytest.fixture
def jp_server_config(jp_server_config):
    config = dict(jp_server_config)
    config["WorkspaceApp"] = {
        **config["WorkspaceApp"],
        "entity_patterns": {"requirement": r"\bREQ-\d+\b", "broken": "([unclosed"},
        "llm_api_key": FAKE_KEY,
    }
    return config


def todo(line: int, text: str, tag: str = "TODO", **extra) -> dict:
    return {
        "line": line,
        "tag": tag,
        "text": text,
        "owner": None,
        "ref": None,
        "due": None,
        "done": False,
        "snippet": f"# {tag}: {text}",
        **extra,
    }


def mention(kind: str, name: str, line: int) -> dict:
    return {"kind": kind, "name": name, "line": line, "snippet": f"line {line} {name}"}


async def detected(api, **params) -> list[dict]:
    status, data = await api("GET", "tasks", params={"origin": "detected", **params})
    assert status == 200, data
    return data["tasks"]


async def test_detected_tasks_follow_their_lines_resolve_and_keep_user_edits(api, workspace):
    ex = workspace.extracted
    counts = await ex.apply(
        "src/gnc.c",
        {
            "tasks": [
                todo(3, "check the gyro bias"),
                todo(9, "tune gains", "FIXME", owner="bob", due="2026-12-01"),
            ]
        },
    )
    assert counts == {"created": 2, "updated": 0, "resolved": 0}
    first = await detected(api, status="open")
    assert [(t["title"], t["source"], t["detected"]["tag"]) for t in first] == [
        ("tune gains", {"path": "src/gnc.c", "line": 9}, "FIXME"),
        ("check the gyro bias", {"path": "src/gnc.c", "line": 3}, "TODO"),
    ] or {t["title"] for t in first} == {"tune gains", "check the gyro bias"}
    gyro = next(t for t in first if t["title"] == "check the gyro bias")
    assert gyro["origin"] == "detected" and gyro["detected"]["resolved"] is None
    fixme = next(t for t in first if t["title"] == "tune gains")
    assert fixme["due"] == "2026-12-01" and fixme["detected"]["owner"] == "bob"

    # the user raises the priority and renames it; the same scan again changes nothing
    status, edited = await api(
        "PATCH", f"tasks/{gyro['id']}", {"priority": "urgent", "title": "Gyro bias (flight!)"}
    )
    assert status == 200
    assert await ex.apply(
        "src/gnc.c", {"tasks": [todo(3, "check the gyro bias"), todo(9, "tune gains", "FIXME")]}
    ) == {"created": 0, "updated": 0, "resolved": 0}

    # five lines added above: the same tasks move, no duplicates, edits kept
    await ex.apply(
        "src/gnc.c", {"tasks": [todo(8, "check the gyro bias"), todo(14, "tune gains", "FIXME")]}
    )
    moved = {t["id"]: t for t in await detected(api)}
    assert len(moved) == 2 and moved[gyro["id"]]["source"]["line"] == 8
    assert moved[gyro["id"]]["priority"] == "urgent"
    assert moved[gyro["id"]]["title"] == "Gyro bias (flight!)"

    # the TODO is deleted from the file: resolved, not deleted; it comes back: unresolved
    assert (await ex.apply("src/gnc.c", {"tasks": [todo(14, "tune gains", "FIXME")]}))[
        "resolved"
    ] == 1
    status, gone = await api("GET", f"tasks/{gyro['id']}")
    assert status == 200 and gone["detected"]["resolved"] is not None
    assert gyro["id"] not in {t["id"] for t in await detected(api, status="open")}
    assert gyro["id"] in {t["id"] for t in await detected(api, status="resolved")}
    await ex.apply(
        "src/gnc.c", {"tasks": [todo(4, "check the gyro bias"), todo(14, "tune gains", "FIXME")]}
    )
    status, back = await api("GET", f"tasks/{gyro['id']}")
    assert back["detected"]["resolved"] is None and back["priority"] == "urgent"

    # the file is deleted: everything it held is resolved
    await ex.forget(["src/gnc.c"])
    assert await detected(api, status="open") == []
    assert len(await detected(api, status="resolved")) == 2


async def test_identical_todos_are_two_tasks_and_user_tasks_are_apart(api, workspace):
    await workspace.extracted.apply("a.py", {"tasks": [todo(1, "fix"), todo(5, "fix")]})
    await api("POST", "tasks", {"title": "my own task"})
    assert [t["source"]["line"] for t in await detected(api)] == [1, 5]
    _, mine = await api("GET", "tasks", params={"origin": "user"})
    assert [t["title"] for t in mine["tasks"]] == ["my own task"]
    assert mine["tasks"][0]["origin"] == "user" and mine["tasks"][0]["detected"] is None


async def test_a_checkbox_ticked_in_the_note_ticks_the_task_and_the_user_may_untick(api, workspace):
    ex = workspace.extracted
    box = todo(2, "send the spec", "CHECKBOX")
    await ex.apply("@notes/1", {"tasks": [box]})
    [task] = await detected(api)
    assert not task["done"]
    await ex.apply("@notes/1", {"tasks": [{**box, "done": True}]})
    _, task = await api("GET", f"tasks/{task['id']}")
    assert task["done"] and task["completed"]
    await api("PATCH", f"tasks/{task['id']}", {"done": False})  # the user unticks it
    await ex.apply("@notes/1", {"tasks": [{**box, "done": True}]})  # the note did not change
    _, task = await api("GET", f"tasks/{task['id']}")
    assert not task["done"]


async def test_events_tell_clients_to_refetch(api, workspace, events):
    client = await events()
    await workspace.extracted.apply(
        "x.py",
        {
            "tasks": [todo(1, "a")],
            "mentions": [mention("requirement", "REQ-1", 1)],
            "tasks_total": 3000,
        },
    )
    event = await client.next("tasks.detected")
    assert (event["path"], event["created"]) == ("x.py", 1)
    assert "kept 1 of 3000" in event["note"]
    assert (await client.next("entities.changed"))["source"] == "x.py"


async def test_entities_their_mentions_notes_tasks_and_files(api, workspace):
    _, note = await api("POST", "notes", {"title": "Review", "body": "REQ-101 fails"})
    source = f"@notes/{note['id']}"
    ex = workspace.extracted
    await ex.apply(
        source,
        {
            "tasks": [todo(3, "verify REQ-101")],
            "mentions": [mention("requirement", "REQ-101", 3), mention("person", "carol", 4)],
        },
    )
    await ex.apply(
        "src/pid.c",
        {"mentions": [mention("requirement", "REQ-101", 12), mention("component", "IMU", 12)]},
    )
    await api("POST", "tasks", {"title": "Close REQ-101 with the customer"})

    status, data = await api("GET", "entities")
    assert status == 200
    assert data["entities"][0]["name"] == "REQ-101"
    assert data["entities"][0]["mentions"] == 2 and data["entities"][0]["sources"] == 2
    assert any("'broken' is not a valid regular expression" in e for e in data["config_errors"])
    _, only = await api("GET", "entities", params={"source": source})
    assert {e["name"] for e in only["entities"]} == {"REQ-101", "carol"}
    _, people = await api("GET", "entities", params={"kind": "person", "q": "CA"})
    assert [e["name"] for e in people["entities"]] == ["carol"]

    req = data["entities"][0]["id"]
    status, detail = await api("GET", f"entities/{req}")
    assert status == 200
    assert [(m["source"], m["line"]) for m in detail["mentions"]] == [
        (source, 3),
        ("src/pid.c", 12),
    ]
    assert detail["notes"] == [{"id": note["id"], "title": "Review"}]
    assert detail["files"] == ["src/pid.c"]
    assert {t["title"] for t in detail["tasks"]} == {
        "verify REQ-101",
        "Close REQ-101 with the customer",
    }

    # the file stops mentioning IMU: the entity goes; REQ-101 stays (the note has it)
    await ex.apply("src/pid.c", {"mentions": [mention("requirement", "REQ-101", 12)]})
    _, after = await api("GET", "entities")
    assert {e["name"] for e in after["entities"]} == {"REQ-101", "carol"}


@pytest.mark.parametrize(
    "method, path, body, params, status, says",
    [
        ("GET", "entities/999", None, None, 404, "unknown entity"),
        ("GET", "entities/abc", None, None, 404, "unknown entity id: abc"),
        ("GET", "entities", None, {"limit": "lots"}, 400, "limit"),
        ("GET", "entities", None, {"limit": "0"}, 400, "limit"),
        ("GET", "entities", None, {"q": "x" * 500}, 400, "q"),
        ("GET", "tasks", None, {"origin": "robots"}, 400, "origin"),
        ("GET", "tasks", None, {"status": "later"}, 400, "status"),
        ("POST", "entities/refine", {"note": "one"}, None, 400, "note"),
        ("POST", "entities/refine", {"note": 1, "extra": True}, None, 400, "extra"),
        ("POST", "entities/refine", {"note": 999}, None, 404, "note"),
    ],
)
async def test_bad_requests_are_4xx(api, method, path, body, params, status, says):
    got, data = await api(method, path, body, params=params)
    assert got == status and says in data["error"]


async def test_refine_needs_the_sidecar(api):
    _, note = await api("POST", "notes", {"title": "Plan", "body": "Talk to Acme Corp"})
    status, data = await api("POST", "entities/refine", {"note": note["id"]})
    assert status == 503 and "sidecar" in data["error"]


async def test_refine_with_the_llm_keeps_only_names_found_in_the_note(
    api, workspace, fake_llm, jp_serverapp
):
    workspace.chat.config = LLMConfig("openai/fake-model", fake_llm.url + "/v1")
    await jp_serverapp._post_start()
    workspace.supervisor.start()
    await sidecar_ready(api)
    _, note = await api(
        "POST",
        "notes",
        {"title": "Star Tracker review", "body": "Met Dana Scully about the star tracker.\n"},
    )
    fake_llm.tokens = [
        'Here: [{"kind": "component", "name": "Star Tracker"}, ',
        '{"kind": "person", "name": "Dana Scully"}, ',
        '{"kind": "person", "name": "Fox Mulder"}, {"kind": "weird", "name": 3}]',
    ]
    status, data = await api("POST", "entities/refine", {"note": note["id"]})
    assert status == 200, data
    assert {(e["kind"], e["name"]) for e in data["entities"]} == {
        ("component", "Star Tracker"),
        ("person", "Dana Scully"),
    }
    request = fake_llm.requests[-1]["body"]
    assert "Met Dana Scully" in request["messages"][-1]["content"]
    _, detail = await api("GET", f"entities/{data['entities'][0]['id']}")
    assert {m["origin"] for m in detail["mentions"]} == {"llm"}

    fake_llm.tokens = ["I cannot help with that."]
    status, data = await api("POST", "entities/refine", {"note": note["id"]})
    assert status == 502 and "JSON list" in data["error"]


async def test_a_file_named_in_a_note_resolves_to_its_workspace_path(api, workspace):
    indexed = ["util/src_util/ut_tc_process.c", "src/core/crypto_tc.c", "lib/ut_tc_process.cc"]
    await workspace.store.run(
        lambda conn: conn.executemany(
            "INSERT INTO files(path, size, mtime, state) VALUES (?, 1, 1, 'indexed')",
            [(p,) for p in indexed],
        )
    )
    _, note = await api("POST", "notes", {"title": "TC", "body": "see ut_tc_process.c"})
    await workspace.extracted.apply(
        f"@notes/{note['id']}",
        {
            "mentions": [
                mention("file", "ut_tc_process.c", 3),
                mention("file", "../core/crypto_tc.c", 4),
                mention("file", "gone.c", 5),
                mention("requirement", "REQ-1", 5),
            ]
        },
    )
    _, found = await api("GET", "entities", params={"kind": "file"})
    ids = {e["name"]: e["id"] for e in found["entities"]}

    async def paths(name: str) -> list[str]:
        status, detail = await api("GET", f"entities/{ids.get(name, 0)}")
        assert status == 200, detail
        return detail["paths"]

    # whole path components only: lib/ut_tc_process.cc is another file
    assert await paths("ut_tc_process.c") == ["util/src_util/ut_tc_process.c"]
    assert await paths("../core/crypto_tc.c") == ["src/core/crypto_tc.c"]
    assert await paths("gone.c") == []
    _, reqs = await api("GET", "entities", params={"kind": "requirement"})
    _, detail = await api("GET", f"entities/{reqs['entities'][0]['id']}")
    assert detail["paths"] == []
