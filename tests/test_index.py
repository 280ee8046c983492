"""The workspace index end to end: real watcher, real sidecar, real model, real LanceDB."""

import json
import os
import shutil
from pathlib import Path

import pytest

from .chat_helpers import FAKE_KEY, sidecar_ready
from .waiting import until

FIXTURES = Path(__file__).parent / "fixtures" / "code"
INDEX_TIMEOUT = 180


@pytest.fixture
def jp_server_config(jp_server_config, jp_root_dir):
    for f in FIXTURES.iterdir():
        shutil.copy(f, jp_root_dir / f.name)
    (jp_root_dir / "src").mkdir()
    (jp_root_dir / "src" / "guidance.c").write_text(
        "/* Guidance law */\nfloat proportional_navigation(float los_rate, float closing)\n"
        "{\n    return 3.0f * closing * los_rate;\n}\n"
    )
    config = dict(jp_server_config)
    config["WorkspaceApp"] = {
        **config["WorkspaceApp"],
        "sidecar_enabled": True,
        "index_enabled": True,
        "llm_model": "openai/none",
        "llm_api_key": FAKE_KEY,
    }
    return config


@pytest.fixture
def indexed(jp_serverapp, api):
    """`await indexed()`: start the extension and wait until every file is indexed."""

    async def start(expect_files: int | None = None):
        await jp_serverapp._post_start()
        await sidecar_ready(api)

        async def idle():
            _, status = await api("GET", "index")
            done = status["state"] == "idle" and status["files_pending"] == 0
            if expect_files is not None:
                done = done and status["files_indexed"] == expect_files
            return status if done else None

        return await until(idle, timeout=INDEX_TIMEOUT, interval=0.2)

    return start


async def search(api, **params):
    status, data = await api("GET", "search", params={k: str(v) for k, v in params.items()})
    assert status == 200, data
    return data["results"]


async def test_indexes_the_folder_and_finds_code_by_meaning_and_by_words(indexed, api):
    status = await indexed(expect_files=8)
    assert status["chunks"] >= 25 and status["files_error"] == 0
    hits = await search(api, q="length of a quaternion vector")
    top = hits[0]
    assert (top["path"], top["symbol"], top["start_line"], top["end_line"]) == (
        "attitude.py",
        "quaternion_norm",
        21,
        23,
    )
    assert top["kind"] == "function" and top["language"] == "python"
    assert "quaternion_norm" in top["snippet"] and top["score"] > 0
    words = await search(api, q="proportional_navigation", mode="text")
    assert words[0]["path"] == "src/guidance.c" and words[0]["start_line"] == 1  # with its comment
    meaning = await search(api, q="orbital period from the semi-major axis", mode="vector")
    assert meaning[0]["symbol"] == "orbit.period"


async def test_filters(indexed, api):
    await indexed(expect_files=8)
    only_c = await search(api, q="controller", lang="c", k=20)
    assert only_c and {h["language"] for h in only_c} == {"c"}
    in_src = await search(api, q="navigation", path="src/**", k=20)
    assert in_src and {h["path"] for h in in_src} == {"src/guidance.c"}
    methods = await search(api, q="update the estimate", kind="method", k=20)
    assert methods and {h["kind"] for h in methods} == {"method"}


async def test_edits_and_deletes_follow_the_files(indexed, api, jp_root_dir, workspace):
    await indexed(expect_files=8)
    stats_before = await workspace.supervisor.client.call("GET", "/index")
    target = jp_root_dir / "src" / "guidance.c"
    target.write_text(
        target.read_text() + "\nint reaction_wheel_desaturation(void)\n{\n    return 0;\n}\n"
    )

    async def findable():
        hits = await search(api, q="reaction_wheel_desaturation", mode="text")
        return hits and hits[0]["symbol"] == "reaction_wheel_desaturation" and hits[0]

    hit = await until(findable, timeout=60, interval=0.3)
    assert (hit["path"], hit["start_line"], hit["end_line"]) == ("src/guidance.c", 7, 10)
    stats_after = await workspace.supervisor.client.call("GET", "/index")
    # only the new function was embedded: not the other seven files, not the unchanged chunks
    assert stats_after["embedded"] - stats_before["embedded"] == 1

    target.unlink()

    async def gone():
        hits = await search(
            api, q="reaction_wheel_desaturation proportional_navigation", mode="text"
        )
        return all(h["path"] != "src/guidance.c" for h in hits)

    assert await until(gone, timeout=60, interval=0.3)
    _, status = await api("GET", "index")
    assert status["files_indexed"] == 7


async def test_bad_files_are_skipped_with_a_reason(indexed, api, jp_root_dir, workspace):
    with open(jp_root_dir / "huge.log", "wb") as f:
        f.truncate(50 * 1024 * 1024)  # a 50 MB log file
    (jp_root_dir / "blob.dat").write_bytes(b"\x00\x01\x02" * 1000)
    (jp_root_dir / "latin1.txt").write_bytes("caf\xe9 ".encode("latin-1") * 400)
    (jp_root_dir / "loop").mkdir()
    os.symlink(jp_root_dir / "loop", jp_root_dir / "loop" / "again")
    # an amalgamated C library over the 2 MB limit of other text (zstd.c is 2.2 MB): indexed
    # whole, to its last function
    (jp_root_dir / "vendor").mkdir()
    (jp_root_dir / "vendor" / "amalgamation.c").write_text(
        "/*\n" + ("x" * 2399 + "\n") * 920 + "*/\n"
        "int amalgamation_tail_marker(void)\n{\n    return 42;\n}\n"
    )
    assert (jp_root_dir / "vendor" / "amalgamation.c").stat().st_size > 2 * 1024 * 1024
    await indexed()
    skipped = {f["path"]: f["reason"] for f in await workspace.catalog.files("skipped")}
    assert "MB limit" in skipped["huge.log"]
    assert skipped["blob.dat"] == "binary file"
    assert "not UTF-8" in skipped["latin1.txt"]
    _, status = await api("GET", "index")
    assert status["files_indexed"] == 9 and status["files_skipped"] == 3
    hits = await search(api, q="amalgamation_tail_marker", mode="text")
    assert hits and hits[0]["path"] == "vendor/amalgamation.c"
    assert hits[0]["symbol"] == "amalgamation_tail_marker"


@pytest.mark.parametrize(
    "params,says",
    [
        ({}, "'q' is required"),
        ({"q": "   "}, "'q' is required"),
        ({"q": "x" * 1001}, "too long"),
        ({"q": "pid", "k": "0"}, "'k'"),
        ({"q": "pid", "k": "abc"}, "'k'"),
        ({"q": "pid", "mode": "fuzzy"}, "'mode'"),
        ({"q": "pid", "lang": "c; DROP TABLE"}, "'lang'"),
        ({"q": "pid", "path": "../etc/*"}, "'path'"),
        ({"q": "pid", "path": "/etc/*"}, "'path'"),
    ],
)
async def test_bad_queries_are_400(api, params, says):
    status, data = await api("GET", "search", params=params)
    assert status == 400 and says in data["error"], data


async def test_search_without_the_sidecar_is_503(api):
    status, data = await api("GET", "search", params={"q": "pid"})
    assert status == 503 and "search unavailable" in data["error"]


async def test_chat_is_grounded_in_the_index(indexed, api, events, fake_llm, workspace):
    workspace.chat.config = workspace.llm.__class__("openai/fake-model", fake_llm.url + "/v1", 20.0)
    await indexed(expect_files=8)
    client = await events()
    question = "How is the orbital period computed in @orbit.f90?"
    _, sent = await api("POST", "chat", {"message": question})
    context = await client.next("chat.context", timeout=30)
    assert context["stream_id"] == sent["stream_id"]
    assert any(
        s["path"] == "orbit.f90" and s["symbol"] == "orbit.period" for s in context["sources"]
    )
    done = await client.next("chat.done", timeout=30)
    assert done["message"]["mode"] == "grounded"
    assert done["message"]["sources"] == context["sources"]
    prompt = fake_llm.requests[-1]["body"]["messages"]
    grounding = next(
        m["content"] for m in prompt if "Passages from the user's workspace" in m["content"]
    )
    assert "orbit.f90:5-9" in grounding and "sqrt(a**3 / mu)" in grounding
    assert prompt[-1] == {"role": "user", "content": question}


async def test_without_an_llm_the_passages_are_the_answer(indexed, api, events, workspace):
    workspace.chat.config = workspace.llm.__class__(
        "ollama_chat/llama3.2", "http://127.0.0.1:9", 20.0
    )
    await indexed(expect_files=8)
    client = await events()
    _, sent = await api("POST", "chat", {"message": "where is the PID controller clamped?"})
    done = await client.next("chat.done", timeout=60)
    message = done["message"]
    assert message["mode"] == "retrieval-only" and message["status"] == "complete"
    assert message["content"].startswith("**Retrieval-only answer**")
    assert "[pid.c:10-13]" in message["content"] and message["error"]


async def test_indexing_resumes_after_the_sidecar_is_killed(
    jp_serverapp, api, events, jp_root_dir, workspace
):
    for i in range(40):  # enough work that the kill lands mid-way
        (jp_root_dir / f"mod{i}.py").write_text(
            "\n\n".join(f"def handler_{i}_{j}(x):\n    return x * {j}\n" for j in range(15))
        )
    client = await events()
    await jp_serverapp._post_start()
    first = await sidecar_ready(api)
    progress = await client.next("index.progress", timeout=120)
    # Text goes in first and fast (48 small files can take well under the events' 0.5 s
    # throttle): kill once some files are in, while indexing or while the vectors follow.
    while not (progress["state"] in ("indexing", "embedding") and progress["files_indexed"]):
        progress = await client.next("index.progress", timeout=120)
    os.kill(first["pid"], 9)
    # Big batches are written text-first: whether the kill landed before or after the text,
    # the restarted sidecar still has vectors to compute (from its own table on disk).
    states = set()
    while not (progress["state"] == "idle" and progress["files_pending"] == 0):
        progress = await client.next("index.progress", timeout=INDEX_TIMEOUT)
        states.add(progress["state"])
        if progress["state"] == "embedding":
            assert progress["vectors_pending"] > 0
    assert "embedding" in states
    _, status = await api("GET", "index")
    assert status["state"] == "idle" and status["vectors_pending"] == 0
    assert status["files_indexed"] == 48 and status["files_error"] == 0
    meaning = await search(api, q="handler that multiplies its argument", mode="vector", k=3)
    assert meaning and meaning[0]["path"].startswith("mod")
    _, sidecar = await api("GET", "status")
    assert sidecar["sidecar"]["restarts"] == 1
    hits = await search(api, q="handler_39_14", mode="text")
    assert hits[0]["symbol"] == "handler_39_14"


async def test_notes_are_searchable_too(indexed, api):
    _, note = await api(
        "POST",
        "notes",
        {"title": "Thermal vacuum test plan", "body": "Bake-out at 60 C for 48 hours."},
    )
    await indexed()

    async def found():
        hits = await search(api, q="bake-out duration", k=5)
        return next((h for h in hits if h["path"] == f"@notes/{note['id']}"), None)

    hit = await until(found, timeout=60, interval=0.3)
    assert hit["language"] == "markdown"
    await api("PATCH", f"notes/{note['id']}", {"body": "Outgassing at 80 C."})

    async def updated():
        hits = await search(api, q="outgassing", mode="text", k=5)
        return any(h["path"] == f"@notes/{note['id']}" for h in hits)

    assert await until(updated, timeout=60, interval=0.3)
    await api("DELETE", f"notes/{note['id']}")

    async def gone():
        hits = await search(api, q="outgassing", mode="text", k=5)
        return all(h["path"] != f"@notes/{note['id']}" for h in hits)

    assert await until(gone, timeout=60, interval=0.3)


async def test_todos_in_files_and_notes_become_tasks_that_follow_and_resolve(
    indexed, api, jp_root_dir, events
):
    _, note = await api(
        "POST",
        "notes",
        {"title": "Gyro review", "body": "- [ ] Re-run the REQ-77 test by 2026-12-01\n"},
    )
    await indexed()
    (jp_root_dir / "many.py").write_text("".join(f"# TODO: item {i}\n" for i in range(600)))
    flight = jp_root_dir / "src" / "flight.c"
    body = (
        'int gyro(void)\n{\n    const char *s = "TODO: not a task";\n'
        "    // TODO(alice): check the gyro bias REQ-77\n    return 0;\n}\n"
    )
    flight.write_text(body)

    async def detected():
        _, data = await api("GET", "tasks", params={"origin": "detected", "status": "open"})
        return {t["source"]["path"]: t for t in data["tasks"]}

    async def flight_task():
        return (await detected()).get("src/flight.c")

    task = await until(flight_task, timeout=60, interval=0.3)
    assert (task["title"], task["source"]["line"], task["detected"]["owner"]) == (
        "check the gyro bias REQ-77",
        4,
        "alice",
    )
    note_task = (await detected())[f"@notes/{note['id']}"]

    async def capped():
        _, data = await api("GET", "index/files", params={"state": "indexed"})
        return next((f for f in data["files"] if f["path"] == "many.py"), None)

    assert (await until(capped, timeout=60, interval=0.3))[
        "detail"
    ] == "kept 500 of 600 tasks found in this file"
    status, data = await api("GET", "index/files", params={"state": "sideways"})
    assert status == 400 and "state" in data["error"]
    assert note_task["detected"]["tag"] == "CHECKBOX" and note_task["due"] == "2026-12-01"
    # the entity links the file and the note
    _, found = await api("GET", "entities", params={"q": "req-77"})
    [req] = found["entities"]
    _, detail = await api("GET", f"entities/{req['id']}")
    assert {m["source"] for m in detail["mentions"]} == {"src/flight.c", f"@notes/{note['id']}"}

    await api("PATCH", f"tasks/{task['id']}", {"priority": "high"})
    flight.write_text("/* Flight code */\n\n" + body)  # two lines above it

    async def moved():
        t = await flight_task()
        return t if t and t["source"]["line"] == 6 else None

    task = await until(moved, timeout=60, interval=0.3)
    assert task["priority"] == "high"
    flight.write_text(body.replace("TODO(alice)", "Done:"))

    async def resolved():
        _, t = await api("GET", f"tasks/{task['id']}")
        return t if t["detected"]["resolved"] else None

    assert (await until(resolved, timeout=60, interval=0.3))["priority"] == "high"


async def test_an_index_of_another_format_is_rebuilt_and_every_file_sent_again(
    indexed, api, workspace
):
    """The chunker or the table changed (INDEX_FORMAT): the sidecar drops the old table on
    open, and the coordinator sends every file again, though none of them changed."""
    await indexed(expect_files=8)
    before = await search(api, q="proportional_navigation", mode="text")
    assert before and before[0]["path"] == "src/guidance.c"
    meta = workspace.state_path / "index" / "index-meta.json"
    old = json.loads(meta.read_text())
    meta.write_text(json.dumps({**old, "format": 1}))  # as an older release left it
    _, status = await api("GET", "status")
    os.kill(status["sidecar"]["pid"], 9)  # the supervisor starts a new one, which opens it

    async def reopened():
        return json.loads(meta.read_text()).get("format", 1) > 1 or None

    await until(reopened, timeout=INDEX_TIMEOUT, interval=0.2)

    async def found_again():
        _, index = await api("GET", "index")
        if index["state"] != "idle" or index["files_pending"] or index["files_indexed"] != 8:
            return None
        # the new sidecar has opened the index (above) before the supervisor takes it as up:
        # until then search answers 503 "restarting", as a user would see it
        code, data = await api(
            "GET", "search", params={"q": "proportional_navigation", "mode": "text"}
        )
        assert code in (200, 503), data
        return data["results"] if code == 200 and data["results"] else None

    after = await until(found_again, timeout=INDEX_TIMEOUT, interval=0.3)
    assert after[0]["path"] == "src/guidance.c"

    async def by_meaning():
        code, data = await api(
            "GET", "search", params={"q": "length of a quaternion vector", "mode": "vector"}
        )
        # 503 while the new sidecar's model loads: its index answers by words first
        assert code in (200, 503), data
        return data["results"] if code == 200 else None

    meaning = await until(by_meaning, timeout=INDEX_TIMEOUT, interval=0.3)
    assert meaning[0]["symbol"] == "quaternion_norm"


async def test_a_hostile_file_stalls_nothing_and_secrets_and_links_out_stay_out(
    indexed, api, jp_root_dir, workspace, tmp_path_factory
):
    # 12 MB of control characters: under the 16 MB source limit, but 72 MB as JSON (\u0001),
    # more than the sidecar reads in one request; src/guidance.c and others sort after it
    (jp_root_dir / "b_hostile.c").write_bytes(b"\x01" * (12 * 1024 * 1024))
    (jp_root_dir / ".env").write_text("UPLINK_PASSPHRASE=hunter2\n")
    (jp_root_dir / ".ssh").mkdir()
    (jp_root_dir / ".ssh" / "id_rsa").write_text("-----BEGIN OPENSSH PRIVATE KEY----- hunter2\n")
    (jp_root_dir / "certs").mkdir()
    (jp_root_dir / "certs" / "uplink.pem").write_text("-----BEGIN PRIVATE KEY----- hunter2\n")
    status = await indexed(expect_files=8)
    assert status["files_error"] == 1
    [error] = await workspace.catalog.files("error")
    assert error["path"] == "b_hostile.c" and "MB as JSON" in error["reason"]
    hits = await search(api, q="proportional_navigation", mode="text")
    assert hits[0]["path"] == "src/guidance.c"
    hits = await search(api, q="hunter2 UPLINK_PASSPHRASE PRIVATE KEY", mode="text", k=50)
    assert all("hunter2" not in h["snippet"] for h in hits)
    assert {h["path"] for h in hits}.isdisjoint({".env", ".ssh/id_rsa", "certs/uplink.pem"})
    # a symlink made after start-up, out of the root: not read
    outside = tmp_path_factory.mktemp("outside") / "secret.py"
    outside.write_text("def uplink_passphrase_outside():\n    return 'hunter2'\n")
    (jp_root_dir / "leak.py").symlink_to(outside)
    (jp_root_dir / "zz_marker.py").write_text("def zz_marker_function():\n    return 1\n")

    async def marker_found():
        return await search(api, q="zz_marker_function", mode="text")

    await until(marker_found, timeout=60, interval=0.3)  # leak.py sorts, and went, before it
    hits = await search(api, q="uplink_passphrase_outside hunter2", mode="text", k=50)
    assert all(h["path"] != "leak.py" and "hunter2" not in h["snippet"] for h in hits)
    assert [f["path"] for f in await workspace.catalog.files("error")] == ["b_hostile.c"]
