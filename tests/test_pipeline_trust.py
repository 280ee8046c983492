"""Pipelines ask for the permission a terminal needs (`execute` on `terminals`), and nothing in
`workspace.toml` runs until a user with that permission has trusted its exact content: the
audit's hole was a user without terminals writing the config through the contents API, then
saving a watched file, and the server running the command."""

from __future__ import annotations

import json

import pytest
from jupyter_server.auth import Authorizer

from .waiting import until

CONFIG = """
[pipelines.hello]
command = "echo hello"

[pipelines.sleepy]
command = "echo waiting; sleep 600"

[pipelines.watched]
command = "echo rebuilt"
watch = ["src/*.c"]
debounce = 0.1
"""
# what a user without terminals writes: watch mode would run it on the next save
HOSTILE = """
[pipelines.watched]
command = "touch pwned"
watch = ["src/*.c"]
debounce = 0.1
"""
NO_EXECUTE = {"X-Test-Deny": "execute:terminals"}


class HeaderAuthorizer(Authorizer):
    """Allows everything but the `action:resource` pairs a request's X-Test-Deny header lists:
    one server, a user with terminals and one without."""

    def is_authorized(self, handler, user, action, resource) -> bool:
        denied = handler.request.headers.get("X-Test-Deny", "")
        return f"{action}:{resource}" not in {d.strip() for d in denied.split(",")}


@pytest.fixture
def jp_server_config(jp_server_config, jp_root_dir):
    config = dict(jp_server_config)
    config["ServerApp"] = {**config["ServerApp"], "authorizer_class": HeaderAuthorizer}
    (jp_root_dir / "workspace.toml").write_text(CONFIG)  # there before the server started
    (jp_root_dir / "src").mkdir()
    (jp_root_dir / "src" / "main.c").write_text("int main(void) { return 0; }\n")
    return config


async def trust(api, headers=None) -> tuple[int, dict]:
    """Trust the config as GET pipelines shows it (what a user reviews, then approves)."""
    _, listed = await api("GET", "pipelines")
    return await api("POST", "pipelines/trust", {"hash": listed["config"]["hash"]}, headers=headers)


async def save(jp_fetch, path: str, content: str, headers=None) -> None:
    """Write a file through Jupyter's contents API, as a browser does."""
    response = await jp_fetch(
        "api",
        "contents",
        path,
        method="PUT",
        headers=headers or {},
        body=json.dumps({"type": "file", "format": "text", "content": content}),
    )
    assert response.code in (200, 201)


async def finished(api, run_id: int) -> dict:
    async def ended():
        _, run = await api("GET", f"runs/{run_id}")
        return run if run["status"] != "running" else None

    return await until(ended, timeout=30, interval=0.1)


async def test_run_stop_and_trust_need_execute_on_terminals(api):
    assert (await trust(api, NO_EXECUTE))[0] == 403
    status, _ = await api("POST", "pipelines/hello/run", {}, headers=NO_EXECUTE)
    assert status == 403

    assert (await trust(api))[0] == 200
    status, data = await api("POST", "pipelines/hello/run", {}, headers=NO_EXECUTE)
    assert status == 403 and "execute on resource: terminals" in data["error"]
    status, running = await api("POST", "pipelines/sleepy/run", {})
    assert status == 202
    status, _ = await api("POST", f"runs/{running['id']}/stop", headers=NO_EXECUTE)
    assert status == 403
    _, still = await api("GET", f"runs/{running['id']}")
    assert still["status"] == "running"
    status, stopped = await api("POST", f"runs/{running['id']}/stop")
    assert status == 200 and stopped["status"] == "stopped"
    _, runs = await api("GET", "runs")
    assert [r["pipeline"] for r in runs["runs"]] == ["sleepy"]


async def test_a_config_there_at_start_runs_nothing_until_trusted(api, workspace, events):
    _, listed = await api("GET", "pipelines")
    config = listed["config"]
    assert config["exists"] and not config["trusted"] and config["approval"] is None
    assert len(config["hash"]) == 64
    status, data = await api("POST", "pipelines/hello/run", {})
    assert status == 409 and "not been trusted" in data["error"]
    assert data["trust_required"] is True

    client = await events()
    status, data = await trust(api)
    assert status == 200 and data["config"]["trusted"]
    assert (await client.next("pipelines.changed"))["reason"] == "trusted"
    _, listed = await api("GET", "pipelines")
    assert listed["config"]["trusted"] and listed["config"]["approval"]["at"]
    status, started = await api("POST", "pipelines/hello/run", {})
    assert status == 202 and (await finished(api, started["id"]))["status"] == "passed"

    # a restart keeps the approval of unchanged content (it is in the database) ...
    await workspace.pipelines.stop()
    await workspace.pipelines.start()
    _, listed = await api("GET", "pipelines")
    assert listed["config"]["trusted"]


async def test_a_changed_config_waits_for_a_new_approval(api, jp_root_dir, workspace):
    assert (await trust(api))[0] == 200
    (jp_root_dir / "workspace.toml").write_text(CONFIG + "\n# edited\n")
    _, listed = await api("GET", "pipelines")
    assert not listed["config"]["trusted"] and listed["config"]["approval"] is not None
    status, data = await api("POST", "pipelines/hello/run", {})
    assert status == 409 and "changed since it was last trusted" in data["error"]
    # ... and a server started after the change does not trust it either
    await workspace.pipelines.stop()
    await workspace.pipelines.start()
    status, _ = await api("POST", "pipelines/hello/run", {})
    assert status == 409


async def test_trusting_names_the_content_reviewed(api, jp_root_dir):
    _, listed = await api("GET", "pipelines")
    shown = listed["config"]["hash"]
    (jp_root_dir / "workspace.toml").write_text(HOSTILE)  # changed after it was shown
    status, data = await api("POST", "pipelines/trust", {"hash": shown})
    assert status == 409 and "review it again" in data["error"]
    _, listed = await api("GET", "pipelines")
    assert not listed["config"]["trusted"]
    for body, says in (
        ({}, "hash"),
        ({"hash": "abc"}, "SHA-256"),
        ({"hash": shown, "also": 1}, "also"),
    ):
        status, data = await api("POST", "pipelines/trust", body)
        assert status == 400 and says in data["error"]
    (jp_root_dir / "workspace.toml").unlink()
    status, data = await api("POST", "pipelines/trust", {"hash": shown})
    assert status == 404


async def test_a_config_written_without_execute_runs_nothing_on_a_watched_save(
    api, jp_fetch, jp_serverapp, jp_root_dir, events
):
    await jp_serverapp._post_start()  # the file watcher
    assert (await trust(api))[0] == 200
    client = await events()
    await save(jp_fetch, "workspace.toml", HOSTILE, NO_EXECUTE)
    assert (await client.next("pipelines.changed"))["reason"] == "config"
    await save(jp_fetch, "src/main.c", "int main(void) { return 1; }\n", NO_EXECUTE)

    blocked = await client.next("pipelines.changed", timeout=20)
    while blocked["reason"] == "config":  # the editor's save may show as more than one change
        blocked = await client.next("pipelines.changed", timeout=20)
    assert blocked == {"type": "pipelines.changed", "reason": "untrusted", "pipeline": "watched"}
    _, runs = await api("GET", "runs")
    assert runs["runs"] == [] and not (jp_root_dir / "pwned").exists()

    # a user allowed to run terminals reviews the new content and trusts it: saves run it
    (jp_root_dir / "workspace.toml").write_text(CONFIG)
    assert (await trust(api))[0] == 200
    await save(jp_fetch, "src/main.c", "int main(void) { return 2; }\n", NO_EXECUTE)
    started = await client.next("pipeline.run", timeout=20)
    assert started["run"]["trigger"] == "watch" and started["run"]["command"] == "echo rebuilt"
    assert (await finished(api, started["run"]["id"]))["status"] == "passed"
