"""Snapshots of unsaved work over REST (issue 17): what the recovery UI relies on."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import sqlite3
import zlib

import pytest

from .test_crash import call, start_server, stop


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def put(path: str, content: str, kind: str = "file", **extra):
    return {"path": path, "kind": kind, "content": content, **extra}


async def listed(api, path: str | None = None) -> list[dict]:
    status, data = await api("GET", "snapshots", params={"path": path} if path else None)
    assert status == 200
    return data["snapshots"]


async def test_put_list_get_delete(api, jp_root_dir):
    (jp_root_dir / "ekf.py").write_text("x = 1\n")
    status, meta = await api(
        "PUT", "snapshots", put("ekf.py", "x = 2\n", base_hash=sha("x = 1\n"), client="tab-1")
    )
    assert status == 201 and "content" not in meta
    assert meta["path"] == "ekf.py" and meta["kind"] == "file" and meta["client"] == "tab-1"
    assert meta["size"] == 6 and meta["content_hash"] == sha("x = 2\n")

    [row] = await listed(api)
    assert row["id"] == meta["id"] and "content" not in row
    assert row["disk"] == {
        "exists": True,
        "hash": sha("x = 1\n"),
        "mtime": pytest.approx((jp_root_dir / "ekf.py").stat().st_mtime),
        "changed_since_base": False,
        "same_as_disk": False,
    }

    status, full = await api("GET", f"snapshots/{meta['id']}")
    assert status == 200 and full["content"] == "x = 2\n" and full["disk"]["text"] == "x = 1\n"

    status, _ = await api("DELETE", f"snapshots/{meta['id']}")
    assert status == 204
    assert await listed(api) == []
    status, error = await api("GET", f"snapshots/{meta['id']}")
    assert status == 404 and "unknown snapshot id" in error["error"]


async def test_content_is_stored_compressed(api, workspace):
    text = "print('hello')\n" * 250
    status, meta = await api("PUT", "snapshots", put("new.py", text))
    assert status == 201
    blob = workspace.store.run_sync(
        lambda conn: conn.execute(
            "SELECT content FROM snapshots WHERE id = ?", (meta["id"],)
        ).fetchone()[0]
    )
    assert len(blob) < len(text) / 10 and zlib.decompress(blob).decode() == text


BAD = [
    ("not json", None, "{oops", 400, "not valid JSON"),
    ("a list", None, "[1]", 400, "JSON object"),
    ("unknown field", put("a.py", "x", colour="red"), None, 400, "unknown field"),
    ("no path", {"kind": "file", "content": "x"}, None, 400, "'path'"),
    ("path not a string", put(3, "x"), None, 400, "'path'"),
    ("absolute path", put("/etc/passwd", "x"), None, 400, "absolute"),
    ("dot-dot", put("../outside.py", "x"), None, 400, "'..'"),
    ("NUL in path", put("a\x00.py", "x"), None, 400, "not a valid path"),
    ("symlink out", put("out/x.py", "x"), None, 400, "outside the served root"),
    ("hidden", put(".hidden/a.py", "x"), None, 400, "not snapshotted"),
    ("secret", put(".env", "KEY=1"), None, 400, "not snapshotted"),
    ("secret key", put("server.pem", "x"), None, 400, "not snapshotted"),
    ("a folder", put("src", "x"), None, 400, "folder"),
    ("the root", put(".", "x"), None, 400, "inside the served root"),
    ("kind unknown", put("a.py", "x", kind="image"), None, 400, "'kind'"),
    ("kind missing", {"path": "a.py", "content": "x"}, None, 400, "'kind'"),
    ("content missing", {"path": "a.py", "kind": "file"}, None, 400, "'content'"),
    ("content not a string", put("a.py", ["x"]), None, 400, "'content' must be a string"),
    ("content with NUL (binary)", put("a.py", "a\x00b"), None, 400, "NUL"),
    ("notebook not JSON", put("a.ipynb", "{cells", kind="notebook"), None, 400, "JSON"),
    ("notebook a list", put("a.ipynb", "[]", kind="notebook"), None, 400, "JSON object"),
    ("base_hash not hex", put("a.py", "x", base_hash="abc"), None, 400, "base_hash"),
    ("base_hash a number", put("a.py", "x", base_hash=5), None, 400, "base_hash"),
    ("base_mtime a string", put("a.py", "x", base_mtime="now"), None, 400, "base_mtime"),
    ("base_mtime a bool", put("a.py", "x", base_mtime=True), None, 400, "base_mtime"),
    ("base_mtime negative", put("a.py", "x", base_mtime=-1), None, 400, "base_mtime"),
    ("client a number", put("a.py", "x", client=7), None, 400, "'client'"),
    ("client too long", put("a.py", "x", client="c" * 65), None, 400, "'client'"),
    ("note path for a file", put("@notes/1", "x"), None, 400, "kind 'note'"),
    ("note kind, file path", put("a.md", "x", kind="note"), None, 400, "@notes/"),
    ("note id not a number", put("@notes/x", "x", kind="note"), None, 400, "@notes/"),
]


@pytest.mark.parametrize(
    "body, raw, status, message", [case[1:] for case in BAD], ids=[case[0] for case in BAD]
)
async def test_bad_input_is_a_400(api, jp_root_dir, tmp_path_factory, body, raw, status, message):
    outside = tmp_path_factory.mktemp("outside")
    (jp_root_dir / "out").symlink_to(outside)
    (jp_root_dir / "src").mkdir()
    got, error = await api("PUT", "snapshots", body, raw=raw)
    assert got == status and message in error["error"], error
    assert await listed(api) == []


async def test_bad_ids_and_queries(api):
    assert (await api("GET", "snapshots/abc"))[0] == 404
    assert (await api("GET", "snapshots/999"))[0] == 404
    assert (await api("DELETE", "snapshots/999"))[0] == 404
    status, error = await api("DELETE", "snapshots")
    assert status == 400 and "?path=" in error["error"]
    assert (await api("GET", "snapshots", params={"path": "../x"}))[0] == 400
    assert (await api("DELETE", "snapshots", params={"path": "/etc"}))[0] == 400


@pytest.fixture
def jp_server_config(jp_server_config):
    small = {"snapshot_max_bytes": 4000, "snapshot_history": 3, "snapshot_store_bytes": 20000}
    jp_server_config["WorkspaceApp"].update(small)
    return jp_server_config


async def test_over_the_cap_is_413_and_keeps_the_previous(api):
    _, status = await api("GET", "status")
    assert status["limits"]["snapshot_max_bytes"] == 4000  # what the browser checks first
    status, first = await api("PUT", "snapshots", put("big.txt", "a" * 4000))
    assert status == 201
    status, error = await api("PUT", "snapshots", put("big.txt", "é" * 2001))  # 4002 bytes
    assert status == 413 and "4000" in error["error"] and error["cap"] == 4000
    [row] = await listed(api)
    assert row["id"] == first["id"]
    # a body over the route's limit (a multi-MB document) is a 413 too, not a 500
    status, error = await api("PUT", "snapshots", put("big.txt", "b" * 2_000_000))
    assert status == 413


async def test_history_keeps_the_newest_per_document(api, workspace):
    ids = []
    for i in range(5):
        status, meta = await api("PUT", "snapshots", put("a.py", f"v{i}\n"))
        assert status == 201
        ids.append(meta["id"])
    kept = workspace.store.run_sync(
        lambda conn: [r[0] for r in conn.execute("SELECT id FROM snapshots ORDER BY id")]
    )
    assert kept == ids[-3:]
    [row] = await listed(api)
    assert row["id"] == ids[-1]


async def test_store_cap_drops_the_oldest(api, workspace, events):
    client = await events()
    # random hex compresses to about half: each snapshot takes ~2,100 of the store's 20,000
    texts = [os.urandom(1900).hex() for _ in range(12)]
    ids = []
    for i, text in enumerate(texts):
        status, meta = await api("PUT", "snapshots", put(f"f{i}.txt", text))
        assert status == 201
        ids.append(meta["id"])
    stored = workspace.store.run_sync(
        lambda conn: conn.execute("SELECT SUM(length(content)), MIN(id) FROM snapshots").fetchone()
    )
    assert stored[0] <= 20000 and stored[1] > ids[0]
    assert {row["id"] for row in await listed(api)} <= set(ids) and ids[-1] in {
        row["id"] for row in await listed(api)
    }
    dropped = await client.next("snapshot.deleted")
    assert dropped["ids"] == [ids[0]] and dropped["path"] == "f0.txt"


async def test_unchanged_content_is_not_stored_again(api, events):
    client = await events()
    status, first = await api("PUT", "snapshots", put("a.py", "x = 1\n"))
    assert status == 201
    assert (await client.next("snapshot.saved"))["snapshot"]["id"] == first["id"]
    status, answer = await api("PUT", "snapshots", put("a.py", "x = 1\n"))
    assert status == 200 and answer == {"unchanged": True}
    assert await client.none_within(0.3, "snapshot.saved") == []
    assert [row["id"] for row in await listed(api)] == [first["id"]]


async def test_content_equal_to_disk_is_saved_and_drops_the_clients_snapshots(api, jp_root_dir):
    (jp_root_dir / "a.py").write_text("saved\n")
    await api("PUT", "snapshots", put("a.py", "draft 1\n", client="A"))
    await api("PUT", "snapshots", put("a.py", "draft 2\n", client="A"))
    await api("PUT", "snapshots", put("a.py", "other tab\n", client="B"))
    status, answer = await api("PUT", "snapshots", put("a.py", "saved\n", client="A"))
    assert status == 200 and answer["saved"] is True and answer["deleted"] == 2
    assert [row["client"] for row in await listed(api)] == ["B"]


async def test_a_saved_file_drops_its_equal_snapshots(jp_serverapp, api, jp_root_dir, events):
    await jp_serverapp._post_start()  # the file watcher and the snapshots' listener
    client = await events()
    (jp_root_dir / "a.py").write_text("old\n")
    await client.next("file.changed")
    await api("PUT", "snapshots", put("a.py", "new\n", client="A"))
    await api("PUT", "snapshots", put("a.py", "other\n", client="B"))
    (jp_root_dir / "a.py").write_text("new\n")  # A's buffer is saved
    dropped = await client.next("snapshot.deleted")
    assert dropped["path"] == "a.py"
    assert [row["client"] for row in await listed(api)] == ["B"]


async def test_a_notebook_saved_by_nbformat_equals_the_browsers_json(api, jp_root_dir):
    notebook = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (jp_root_dir / "n.ipynb").write_text(json.dumps(notebook, indent=1, sort_keys=True) + "\n")
    browser = json.dumps(notebook)  # another serialisation of the same notebook
    status, answer = await api("PUT", "snapshots", put("n.ipynb", browser, kind="notebook"))
    assert status == 200 and answer["saved"] is True
    edited = json.dumps({**notebook, "metadata": {"x": 1}})
    status, meta = await api("PUT", "snapshots", put("n.ipynb", edited, kind="notebook"))
    assert status == 201 and meta["kind"] == "notebook"
    status, full = await api("GET", f"snapshots/{meta['id']}")
    assert json.loads(full["content"]) == json.loads(edited)


async def test_two_clients_are_both_kept_and_labelled(api):
    await api("PUT", "snapshots", put("a.py", "from tab A\n", client="A"))
    await api("PUT", "snapshots", put("a.py", "from tab B\n", client="B"))
    await api("PUT", "snapshots", put("b.py", "other doc\n", client="A"))
    rows = await listed(api, "a.py")
    assert sorted(row["client"] for row in rows) == ["A", "B"]
    status, answer = await api("DELETE", "snapshots", params={"path": "a.py"})
    assert status == 200 and answer == {"deleted": 2}
    assert [row["path"] for row in await listed(api)] == ["b.py"]


async def test_file_changed_on_disk_since_base(api, jp_root_dir):
    (jp_root_dir / "a.py").write_text("base\n")
    status, meta = await api("PUT", "snapshots", put("a.py", "mine\n", base_hash=sha("base\n")))
    assert status == 201
    [row] = await listed(api)
    assert row["disk"]["changed_since_base"] is False
    (jp_root_dir / "a.py").write_text("someone else's\n")
    [row] = await listed(api)
    assert row["disk"]["changed_since_base"] is True and row["disk"]["same_as_disk"] is False
    assert row["disk"]["hash"] == sha("someone else's\n")
    _, full = await api("GET", f"snapshots/{meta['id']}")
    assert full["content"] == "mine\n" and full["disk"]["text"] == "someone else's\n"


async def test_a_file_deleted_on_disk_keeps_its_snapshots(jp_serverapp, api, jp_root_dir, events):
    await jp_serverapp._post_start()
    client = await events()
    (jp_root_dir / "a.py").write_text("base\n")
    await client.next("file.changed")
    await api("PUT", "snapshots", put("a.py", "mine\n", base_hash=sha("base\n")))
    (jp_root_dir / "a.py").unlink()
    await client.next("file.deleted")
    [row] = await listed(api)
    assert row["disk"] == {
        "exists": False,
        "hash": None,
        "mtime": None,
        "changed_since_base": True,
        "same_as_disk": False,
    }
    _, full = await api("GET", f"snapshots/{row['id']}")
    assert full["content"] == "mine\n" and full["disk"]["text"] is None


async def test_note_drafts(api):
    _, note = await api("POST", "notes", {"title": "n", "body": "stored"})
    path = f"@notes/{note['id']}"
    status, meta = await api("PUT", "snapshots", put(path, "draft", kind="note"))
    assert status == 201
    [row] = await listed(api, path)
    assert row["disk"]["exists"] is True and row["disk"]["same_as_disk"] is False
    await api("PATCH", f"notes/{note['id']}", {"body": "draft"})  # the draft was saved
    status, answer = await api("PUT", "snapshots", put(path, "draft", kind="note"))
    assert status == 200 and answer["saved"] is True
    assert await listed(api) == []


async def test_disk_full_is_a_503_and_the_server_keeps_working(api, workspace):
    def fill(conn: sqlite3.Connection) -> None:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")

    workspace.store.run_sync(fill)
    try:
        for i in range(20):
            status, error = await api("PUT", "snapshots", put(f"{i}.py", os.urandom(1900).hex()))
            if status != 201:
                break
        assert status == 503 and "full" in error["error"]
    finally:
        workspace.store.run_sync(lambda conn: conn.execute("PRAGMA max_page_count = 1073741823"))
    status, _ = await api("PUT", "snapshots", put("a.py", "fits now\n"))
    assert status == 201


async def test_a_locked_database_is_a_503_and_the_server_keeps_working(api, workspace):
    workspace.store.run_sync(lambda conn: conn.execute("PRAGMA busy_timeout = 100"))
    other = sqlite3.connect(workspace.store.path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        status, error = await api("PUT", "snapshots", put("a.py", "x = 1\n"))
        assert status == 503 and "locked" in error["error"]
        other.execute("ROLLBACK")
    finally:
        other.close()
        workspace.store.run_sync(lambda conn: conn.execute("PRAGMA busy_timeout = 5000"))
    status, _ = await api("PUT", "snapshots", put("a.py", "x = 1\n"))
    assert status == 201


def test_a_snapshot_answered_201_survives_kill_9(tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    (root / "a.py").write_text("on disk\n")
    proc, base = start_server(root, tmp_path)
    try:
        status, meta = call(
            base, "PUT", "snapshots", put("a.py", "unsaved\n", base_hash=sha("on disk\n"))
        )
        assert status == 201
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stderr.close()
    proc, base = start_server(root, tmp_path)
    try:
        _, data = call(base, "GET", "snapshots")
        assert [row["id"] for row in data["snapshots"]] == [meta["id"]]
        _, full = call(base, "GET", f"snapshots/{meta['id']}")
        assert full["content"] == "unsaved\n" and full["disk"]["text"] == "on disk\n"
    finally:
        stop(proc)
        proc.stderr.close()


async def test_a_saved_note_drops_its_equal_draft(jp_serverapp, api, events):
    await jp_serverapp._post_start()
    client = await events()
    _, note = await api("POST", "notes", {"title": "n", "body": "stored"})
    path = f"@notes/{note['id']}"
    await api("PUT", "snapshots", put(path, "draft A", kind="note", client="A"))
    await api("PUT", "snapshots", put(path, "draft B", kind="note", client="B"))
    await api("PATCH", f"notes/{note['id']}", {"body": "draft A"})  # tab A saved its draft
    dropped = await client.next("snapshot.deleted")
    assert dropped["path"] == path
    assert [row["client"] for row in await listed(api)] == ["B"]


async def test_a_gitignored_file_is_snapshotted_a_file_in_a_secret_folder_is_not(api, jp_root_dir):
    """Unsaved edits of a gitignored scratch file are work; secrets stay out, hidden or not."""
    (jp_root_dir / ".gitignore").write_text("scratch/\n")
    (jp_root_dir / "scratch").mkdir()
    (jp_root_dir / "scratch" / "try.py").write_text("x = 1\n")
    status, _ = await api("PUT", "snapshots", put("scratch/try.py", "x = 2\n"))
    assert status == 201
    (jp_root_dir / "keys").mkdir()
    status, answer = await api("PUT", "snapshots", put("keys/server.pem", "x"))
    assert status == 400 and "not snapshotted" in answer["error"]


async def test_delete_discards_the_older_versions_of_the_same_tab_only(api):
    ids = []
    for n in range(3):
        _, meta = await api("PUT", "snapshots", put("hist.py", f"v{n}\n", client="tab-1"))
        ids.append(meta["id"])
    _, other = await api("PUT", "snapshots", put("hist.py", "other\n", client="tab-2"))
    status, _ = await api("DELETE", f"snapshots/{ids[1]}")
    assert status == 204
    # the newest of tab-1 and tab-2's are kept; the discarded one and the one before it are gone
    assert sorted(row["id"] for row in await listed(api, "hist.py")) == [ids[2], other["id"]]
    for gone in ids[:2]:
        status, _ = await api("GET", f"snapshots/{gone}")
        assert status == 404
    status, _ = await api("DELETE", f"snapshots/{ids[2]}")
    assert [row["client"] for row in await listed(api, "hist.py")] == ["tab-2"]


async def test_a_notebook_opened_and_given_a_kernel_but_not_edited_is_same_as_disk(
    api, jp_root_dir
):
    on_disk = {
        "cells": [{"cell_type": "code", "source": "x = 1", "metadata": {}, "outputs": []}],
        "metadata": {"kernelspec": {"name": "python3"}},
        "nbformat": 4,
        "nbformat_minor": 4,
    }
    (jp_root_dir / "k.ipynb").write_text(json.dumps(on_disk))
    # what JupyterLab holds after opening it and starting a kernel: nothing typed
    opened = json.loads(json.dumps(on_disk))
    opened["nbformat_minor"] = 5
    opened["cells"][0]["id"] = "a1b2"
    opened["metadata"]["language_info"] = {"name": "python", "version": "3.11"}
    opened["metadata"]["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    status, answer = await api("PUT", "snapshots", put("k.ipynb", json.dumps(opened), "notebook"))
    assert status == 200 and answer["saved"] is True
    # a typed edit is work
    opened["cells"][0]["source"] = "x = 2"
    status, _ = await api("PUT", "snapshots", put("k.ipynb", json.dumps(opened), "notebook"))
    assert status == 201
    # and so is a changed notebook-level metadata field the user set
    opened["cells"][0]["source"] = "x = 1"
    opened["metadata"]["title"] = "Orbit"
    status, _ = await api("PUT", "snapshots", put("k.ipynb", json.dumps(opened), "notebook"))
    assert status == 201


async def test_a_snapshot_is_live_while_its_tab_has_the_event_socket_open(api, jp_ws_fetch):
    await api("PUT", "snapshots", put("live.py", "typed\n", client="tab-open"))
    await api("PUT", "snapshots", put("live.py", "gone\n", client="tab-gone"))
    connection = await jp_ws_fetch("workspace", "api", "events", params={"client": "tab-open"})
    await connection.read_message()  # hello: the socket is registered
    live = {row["client"]: row["live"] for row in await listed(api, "live.py")}
    assert live == {"tab-open": True, "tab-gone": False}
    connection.close()
    for _ in range(100):  # the server sees the close a moment later
        live = {row["client"]: row["live"] for row in await listed(api, "live.py")}
        if not live["tab-open"]:
            break
        await asyncio.sleep(0.02)
    assert live == {"tab-open": False, "tab-gone": False}


async def test_a_gzip_body_is_inflated_within_the_limit(jp_fetch, workspace):
    import gzip

    from tornado.httpclient import HTTPClientError

    async def send(body: bytes, encoding: str = "gzip"):
        try:
            response = await jp_fetch(
                "workspace",
                "api",
                "snapshots",
                method="PUT",
                body=body,
                headers={"Content-Encoding": encoding, "Content-Type": "application/json"},
            )
            return response.code, json.loads(response.body or b"null")
        except HTTPClientError as e:
            return e.code, json.loads(e.response.body)

    document = json.dumps(put("zipped.py", "x = 1\n" * 150)).encode()
    status, meta = await send(gzip.compress(document))
    assert status == 201 and meta["size"] == 900
    status, _ = await send(gzip.compress(document))
    assert status == 200  # unchanged: the same content, however it was sent
    # a bomb: 1 KB that inflates past the route's limit is refused before it is inflated
    limit = max(workspace.limits.max_body_bytes, 2 * workspace.snapshot_max_bytes)
    status, error = await send(gzip.compress(b" " * (limit + 10)))
    assert status == 413 and "inflates to more than" in error["error"]
    status, error = await send(b"not gzip at all")
    assert status == 400 and "not valid gzip" in error["error"]
    status, error = await send(gzip.compress(document)[:-12])
    assert status == 400 and "truncated" in error["error"]
    status, error = await send(document, encoding="br")
    assert status == 400 and "unsupported Content-Encoding" in error["error"]


async def test_the_store_cap_takes_history_before_a_documents_only_copy(api, workspace):
    # store 20,000 bytes, history 3: each snapshot ~2,100 stored bytes
    first = await api("PUT", "snapshots", put("only.txt", os.urandom(1900).hex()))
    assert first[0] == 201
    for _ in range(9):  # a big edit session on another document: history kept, then capped
        status, _ = await api("PUT", "snapshots", put("busy.txt", os.urandom(1900).hex()))
        assert status == 201
    for _ in range(4):
        await api("PUT", "snapshots", put(f"new{_}.txt", os.urandom(1900).hex()))
    # busy.txt's older versions went first: only.txt, unsaved, still has its one copy
    assert "only.txt" in {row["path"] for row in await listed(api)}
    stored = workspace.store.run_sync(
        lambda conn: conn.execute("SELECT SUM(length(content)) FROM snapshots").fetchone()[0]
    )
    assert stored <= 20000


async def test_a_file_written_equal_to_a_version_drops_the_versions_it_superseded(
    jp_serverapp, api, jp_root_dir, events
):
    await jp_serverapp._post_start()  # the file watcher and the snapshots' listener
    ids = []
    for n in range(3):  # the fixture keeps 3 versions: none trimmed
        ids.append((await api("PUT", "snapshots", put("sup.py", f"v{n}\n", client="tab-1")))[1])
    other = await api("PUT", "snapshots", put("sup.py", "theirs\n", client="tab-2"))
    client = await events()
    (jp_root_dir / "sup.py").write_text("v1\n")  # written by another program, equal to v1
    dropped = await client.next("snapshot.deleted")
    assert sorted(dropped["ids"]) == [ids[0]["id"], ids[1]["id"]]  # v1 and the v0 it superseded
    left = {row["client"]: row["id"] for row in await listed(api, "sup.py")}
    assert left == {"tab-1": ids[2]["id"], "tab-2": other[1]["id"]}  # typed after: kept
