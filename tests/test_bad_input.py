"""Bad input gets a clear 4xx JSON error, never a 500, and leaves the database unchanged."""

import json
import os

import pytest

from .api_routes import http_routes, path


@pytest.fixture
def snapshot(api):
    """`await snapshot()` returns the whole database as JSON (seeding a note and a task first)."""
    seeded = []

    async def take():
        if not seeded:
            seeded.append(True)
            await api("POST", "notes", {"title": "keep", "body": "original"})
            await api("POST", "tasks", {"title": "keep", "priority": "high"})
        _, notes = await api("GET", "notes")
        _, tasks = await api("GET", "tasks")
        return notes, tasks

    return take


async def expect_refused(api, snapshot, method, path, *, status, says, body=None, raw=None):
    before = await snapshot()
    code, data = await api(method, path, body, raw=raw)
    assert code == status, data
    assert isinstance(data, dict) and says in data["error"], data
    assert "Traceback" not in json.dumps(data)
    assert await snapshot() == before


CREATE_CASES = [
    # (route, raw body, expected status, expected words in the message)
    ("notes", b"{not json", 400, "not valid JSON"),
    ("notes", b"[1, 2]", 400, "must be a JSON object"),
    ("notes", b'"just a string"', 400, "must be a JSON object"),
    ("notes", b"\xff\xfe{}", 400, "not valid UTF-8"),
    ("notes", json.dumps({"title": 42}).encode(), 400, "'title' must be a string"),
    ("notes", json.dumps({"title": "x" * 201}).encode(), 400, "too long"),
    ("notes", json.dumps({"title": "two\nlines"}).encode(), 400, "single line"),
    ("notes", json.dumps({"body": ["a"]}).encode(), 400, "'body' must be a string"),
    ("notes", json.dumps({"title": "a", "colour": "red"}).encode(), 400, "unknown field"),
    ("notes", b'{"body": "\\ud800"}', 400, "lone surrogate"),
    ("notes", json.dumps({"title": "nul\u0000"}).encode(), 400, "NUL"),
    ("tasks", b"", 400, "must be a JSON object"),
    ("tasks", json.dumps({}).encode(), 400, "needs a 'title'"),
    ("tasks", json.dumps({"title": "   "}).encode(), 400, "must not be empty"),
    ("tasks", json.dumps({"title": "a", "done": "true"}).encode(), 400, "true or false"),
    ("tasks", json.dumps({"title": "a", "done": 1}).encode(), 400, "true or false"),
    ("tasks", json.dumps({"title": "a", "priority": "asap"}).encode(), 400, "must be one of"),
    ("tasks", json.dumps({"title": "a", "due": "2026-13-45"}).encode(), 400, "not a real date"),
    ("tasks", json.dumps({"title": "a", "due": "tomorrow"}).encode(), 400, "YYYY-MM-DD"),
    ("tasks", json.dumps({"title": "a", "source": "main.c:4"}).encode(), 400, "must be an object"),
    (
        "tasks",
        json.dumps({"title": "a", "source": {"path": "a.c", "line": 0}}).encode(),
        400,
        "between 1",
    ),
    (
        "tasks",
        json.dumps({"title": "a", "source": {"path": "a.c", "line": "4"}}).encode(),
        400,
        "must be an integer",
    ),
    ("tasks", json.dumps({"title": "a", "source": {"line": 4}}).encode(), 400, "non-empty path"),
    (
        "tasks",
        json.dumps({"title": "a", "source": {"path": "../outside.c"}}).encode(),
        400,
        "inside the served root",
    ),
    (
        "tasks",
        json.dumps({"title": "a", "source": {"path": "src/../../x"}}).encode(),
        400,
        "inside the served root",
    ),
    (
        "tasks",
        json.dumps({"title": "a", "source": {"path": "/etc/passwd"}}).encode(),
        400,
        "not absolute",
    ),
]


@pytest.mark.parametrize("route,raw,status,says", CREATE_CASES)
async def test_create_refused(api, snapshot, route, raw, status, says):
    await expect_refused(api, snapshot, "POST", route, raw=raw, status=status, says=says)


async def test_oversize_body_is_413(api, snapshot, workspace):
    limit = workspace.limits.max_body_bytes
    raw = json.dumps({"title": "big", "body": "x" * limit}).encode()
    await expect_refused(api, snapshot, "POST", "notes", raw=raw, status=413, says="limit")


@pytest.mark.parametrize("route", ["notes", "tasks"])
@pytest.mark.parametrize("record", ["999999", "abc", "-1", "0", "99999999999999999999999"])
async def test_unknown_ids_are_404(api, snapshot, route, record):
    for method, body in (("GET", None), ("PATCH", {"title": "x"}), ("DELETE", None)):
        await expect_refused(
            api, snapshot, method, f"{route}/{record}", body=body, status=404, says="unknown"
        )


@pytest.mark.parametrize("route", ["notes", "tasks"])
async def test_patch_bad_fields_change_nothing(api, snapshot, route):
    await snapshot()
    _, listed = await api("GET", route)
    record_id = listed[route][0]["id"]
    cases = [
        ({"title": None}, "must be a string"),
        ({"base_revision": "1"}, "integer"),
        ({"id": 5}, "unknown field"),
        ({"revision": 9}, "unknown field"),
    ]
    if route == "tasks":
        cases += [({"title": "ok", "done": "yes"}, "true or false")]  # all-or-nothing
    for body, says in cases:
        await expect_refused(
            api, snapshot, "PATCH", f"{route}/{record_id}", body=body, status=400, says=says
        )


async def test_symlink_out_of_root_is_refused(api, snapshot, jp_root_dir, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.c").write_text("int key;\n")
    os.symlink(outside, jp_root_dir / "link")
    body = {"title": "a", "source": {"path": "link/secret.c", "line": 1}}
    await expect_refused(
        api, snapshot, "POST", "tasks", body=body, status=400, says="outside the served root"
    )


async def test_sibling_with_same_prefix_is_refused(api, snapshot, jp_root_dir):
    # root ".../root_dir" and a sibling ".../root_dir-secret": a string-prefix check passes it
    sibling = jp_root_dir.parent / (jp_root_dir.name + "-secret")
    sibling.mkdir()
    (sibling / "keys.txt").write_text("k\n")
    os.symlink(sibling / "keys.txt", jp_root_dir / "keys.txt")
    body = {"title": "a", "source": {"path": "keys.txt"}}
    await expect_refused(
        api, snapshot, "POST", "tasks", body=body, status=400, says="outside the served root"
    )


async def test_bad_query_parameters(api, snapshot):
    before = await snapshot()
    status, data = await api("GET", "tasks", params={"status": "someday"})
    assert status == 400 and "must be one of" in data["error"]
    status, data = await api("GET", "notes", params={"q": "x" * 1001})
    assert status == 400 and "too long" in data["error"]
    assert await snapshot() == before


ID_ROUTES = [(method, pattern) for method, pattern, _ in http_routes() if "record_id" in pattern]
BODY_ROUTES = [
    (method, pattern) for method, pattern, _ in http_routes() if method in ("POST", "PATCH", "PUT")
]


@pytest.mark.parametrize("method,pattern", ID_ROUTES)
@pytest.mark.parametrize("record", ["²", "1²", "٣", "１"])
async def test_unicode_digits_in_ids_are_404(api, method, pattern, record):
    """str.isdigit() says yes to '²' and to Arabic-Indic or fullwidth digits; int() refuses
    some of them and reads others as numbers. Only ASCII digits name a record."""
    body = {} if method in ("POST", "PATCH", "PUT") else None
    status, data = await api(method, path(pattern, record_id=record), body)
    assert status == 404, data
    assert "unknown" in data["error"]


@pytest.mark.parametrize(
    "route,params",
    [
        ("entities", {"limit": "²"}),
        ("runs", {"limit": "²"}),
        ("runs", {"limit": "٣"}),
        ("runs/1/output", {"offset": "²"}),
        ("search", {"q": "x", "k": "²"}),
    ],
)
async def test_unicode_digits_in_numbers_are_400(api, route, params):
    status, data = await api("GET", route, params=params)
    assert status == 400, data
    assert "whole number" in data["error"]


@pytest.mark.parametrize("method,pattern", BODY_ROUTES)
async def test_deeply_nested_json_is_400(api, snapshot, method, pattern):
    before = await snapshot()
    for raw in ("[" * 100_000 + "]" * 100_000, '{"title": ' + "[" * 100_000 + "]" * 100_000 + "}"):
        status, data = await api(method, path(pattern), raw=raw)
        assert status < 500, data  # some routes ignore their body, some look up the id first
        assert status != 400 or "nested too deeply" in data["error"], data
    assert await snapshot() == before
