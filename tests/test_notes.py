"""Notes over REST: the behaviour the Notes panel and the magics rely on."""


async def test_create_list_get_update_delete(api):
    status, note = await api("POST", "notes", {"title": "Pump design", "body": "# Pump\nflow"})
    assert status == 201
    assert note["title"] == "Pump design" and note["body"] == "# Pump\nflow"
    assert note["revision"] == 1 and note["created"] == note["updated"]

    status, listed = await api("GET", "notes")
    assert status == 200 and [n["id"] for n in listed["notes"]] == [note["id"]]

    status, got = await api("GET", f"notes/{note['id']}")
    assert status == 200 and got == note

    status, renamed = await api("PATCH", f"notes/{note['id']}", {"title": "Pump v2"})
    assert status == 200 and renamed["title"] == "Pump v2" and renamed["revision"] == 2
    assert renamed["body"] == note["body"]

    status, _ = await api("DELETE", f"notes/{note['id']}")
    assert status == 204
    status, error = await api("GET", f"notes/{note['id']}")
    assert status == 404 and "unknown note id" in error["error"]


async def test_new_note_defaults_to_untitled(api):
    status, note = await api("POST", "notes", {})
    assert status == 201 and note["title"] == "Untitled" and note["body"] == ""


async def test_list_is_newest_updated_first(api):
    ids = [(await api("POST", "notes", {"title": f"n{i}"}))[1]["id"] for i in range(3)]
    await api("PATCH", f"notes/{ids[0]}", {"body": "touched"})
    _, listed = await api("GET", "notes")
    assert [n["id"] for n in listed["notes"]] == [ids[0], ids[2], ids[1]]


async def test_full_text_filter_matches_words_and_prefixes(api):
    await api("POST", "notes", {"title": "Attitude control", "body": "quaternion filter tuning"})
    await api("POST", "notes", {"title": "Thermal", "body": "radiator sizing"})
    await api("POST", "notes", {"title": "Misc", "body": "nothing here"})

    async def titles(q):
        _, data = await api("GET", "notes", params={"q": q})
        return sorted(n["title"] for n in data["notes"])

    assert await titles("quaternion") == ["Attitude control"]
    assert await titles("radia") == ["Thermal"]  # prefix
    assert await titles("attitude tuning") == ["Attitude control"]  # all words, title + body
    assert await titles("attitude radiator") == []
    assert await titles('"); DROP TABLE notes; --') == []  # quoted, not SQL or FTS syntax
    assert len(await titles("")) == 3


async def test_filter_follows_edits(api):
    _, note = await api("POST", "notes", {"title": "Log", "body": "alpha"})
    await api("PATCH", f"notes/{note['id']}", {"body": "beta"})
    _, data = await api("GET", "notes", params={"q": "alpha"})
    assert data["notes"] == []
    _, data = await api("GET", "notes", params={"q": "beta"})
    assert [n["id"] for n in data["notes"]] == [note["id"]]


async def test_stale_revision_is_refused_and_nothing_is_written(api):
    _, note = await api("POST", "notes", {"title": "Shared", "body": "v1"})
    status, first = await api("PATCH", f"notes/{note['id']}", {"body": "tab A", "base_revision": 1})
    assert status == 200 and first["revision"] == 2
    status, error = await api("PATCH", f"notes/{note['id']}", {"body": "tab B", "base_revision": 1})
    assert status == 409
    assert error["current"]["body"] == "tab A" and "changed elsewhere" in error["error"]
    _, stored = await api("GET", f"notes/{note['id']}")
    assert stored["body"] == "tab A" and stored["revision"] == 2


async def test_unicode_round_trips(api):
    body = "Δv budget: 3 km/s — ✓ 日本語 \U0001f680"
    _, note = await api("POST", "notes", {"title": "Ünïcode", "body": body})
    _, got = await api("GET", f"notes/{note['id']}")
    assert got["body"] == body and got["title"] == "Ünïcode"
