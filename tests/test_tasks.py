"""Tasks over REST: add, edit, toggle, priority, due date, file links, filters."""

import os


async def test_create_with_defaults(api):
    status, task = await api("POST", "tasks", {"title": "Review PID gains"})
    assert status == 201
    assert task["title"] == "Review PID gains" and task["done"] is False
    assert task["priority"] == "normal" and task["due"] is None and task["source"] is None
    assert task["completed"] is None and task["revision"] == 1


async def test_toggle_done_sets_and_clears_completed(api):
    _, task = await api("POST", "tasks", {"title": "Flash firmware"})
    status, done = await api("PATCH", f"tasks/{task['id']}", {"done": True})
    assert status == 200 and done["done"] is True and done["completed"] is not None
    _, reopened = await api("PATCH", f"tasks/{task['id']}", {"done": False})
    assert reopened["done"] is False and reopened["completed"] is None
    assert reopened["revision"] == 3


async def test_edit_title_priority_due(api):
    _, task = await api("POST", "tasks", {"title": "t"})
    status, edited = await api(
        "PATCH",
        f"tasks/{task['id']}",
        {"title": "Thermal test", "priority": "urgent", "due": "2026-12-01"},
    )
    assert status == 200
    assert (edited["title"], edited["priority"], edited["due"]) == (
        "Thermal test",
        "urgent",
        "2026-12-01",
    )
    _, cleared = await api("PATCH", f"tasks/{task['id']}", {"due": None})
    assert cleared["due"] is None


async def test_link_to_file_and_line(api, jp_root_dir):
    (jp_root_dir / "src").mkdir()
    (jp_root_dir / "src" / "main.c").write_text("int main(void) { return 0; }\n")
    status, task = await api(
        "POST", "tasks", {"title": "Fix overflow", "source": {"path": "src/main.c", "line": 1}}
    )
    assert status == 201 and task["source"] == {"path": "src/main.c", "line": 1}
    _, unlinked = await api("PATCH", f"tasks/{task['id']}", {"source": None})
    assert unlinked["source"] is None


async def test_filter_open_done_and_order(api):
    low = (await api("POST", "tasks", {"title": "low", "priority": "low"}))[1]
    urgent = (await api("POST", "tasks", {"title": "urgent", "priority": "urgent"}))[1]
    due = (await api("POST", "tasks", {"title": "due", "due": "2026-01-01"}))[1]
    nodue = (await api("POST", "tasks", {"title": "nodue"}))[1]
    finished = (await api("POST", "tasks", {"title": "finished", "done": True}))[1]

    async def ids(**params):
        _, data = await api("GET", "tasks", params=params)
        return [t["id"] for t in data["tasks"]]

    assert await ids(status="open") == [urgent["id"], due["id"], nodue["id"], low["id"]]
    assert await ids(status="done") == [finished["id"]]
    assert await ids() == [urgent["id"], due["id"], nodue["id"], low["id"], finished["id"]]
    assert await ids(q="DUE") == [due["id"], nodue["id"]]
    assert await ids(q="%") == []  # a LIKE wildcard is taken literally


async def test_failures_first_then_priority_then_newest(api, workspace):
    """A broken build is what blocks everyone: its task leads the list even among urgent ones
    and ~100 detected TODOs; among equals the newest comes first."""
    older = (await api("POST", "tasks", {"title": "older"}))[1]
    newer = (await api("POST", "tasks", {"title": "newer"}))[1]
    urgent = (await api("POST", "tasks", {"title": "urgent", "priority": "urgent"}))[1]
    await workspace.extracted.apply_scope(
        "pipeline:build",
        [{"tag": "BUILD", "text": "build: undefined reference", "path": None, "line": None}],
        resolve_missing=False,
    )
    _, data = await api("GET", "tasks", params={"status": "open"})
    titles = [t["title"] for t in data["tasks"]]
    assert titles == ["build: undefined reference", "urgent", "newer", "older"]
    assert [t["id"] for t in data["tasks"][1:]] == [urgent["id"], newer["id"], older["id"]]


async def test_delete(api):
    _, task = await api("POST", "tasks", {"title": "gone"})
    assert (await api("DELETE", f"tasks/{task['id']}"))[0] == 204
    assert (await api("GET", f"tasks/{task['id']}"))[0] == 404
    assert (await api("DELETE", f"tasks/{task['id']}"))[0] == 404


async def test_stale_revision_conflict(api):
    _, task = await api("POST", "tasks", {"title": "x"})
    await api("PATCH", f"tasks/{task['id']}", {"done": True})
    status, error = await api("PATCH", f"tasks/{task['id']}", {"title": "late", "base_revision": 1})
    assert status == 409 and error["current"]["done"] is True
    assert (await api("GET", f"tasks/{task['id']}"))[1]["title"] == "x"


async def test_symlink_inside_root_is_accepted(api, jp_root_dir):
    (jp_root_dir / "real.py").write_text("x = 1\n")
    os.symlink(jp_root_dir / "real.py", jp_root_dir / "alias.py")
    status, task = await api("POST", "tasks", {"title": "t", "source": {"path": "alias.py"}})
    assert status == 201 and task["source"] == {"path": "alias.py", "line": None}
