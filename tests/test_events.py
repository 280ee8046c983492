"""The events WebSocket: every change reaches every connected client, tagged with its origin."""

import asyncio
import json


async def test_note_events_reach_every_client(api, events):
    first, second = await events(), await events()
    _, note = await api("POST", "notes", {"title": "shared"},
                        headers={"X-Workspace-Client": "tab-a"})
    for client in (first, second):
        event = await client.next("note.created")
        assert event["note"] == note and event["origin"] == "tab-a"

    _, updated = await api("PATCH", f"notes/{note['id']}", {"body": "new"})
    for client in (first, second):
        event = await client.next("note.updated")
        assert event["note"] == updated and event["origin"] is None

    await api("DELETE", f"notes/{note['id']}")
    for client in (first, second):
        assert (await client.next("note.deleted"))["id"] == note["id"]


async def test_task_events(api, events):
    client = await events()
    _, task = await api("POST", "tasks", {"title": "t"})
    assert (await client.next("task.created"))["task"] == task
    _, done = await api("PATCH", f"tasks/{task['id']}", {"done": True})
    assert (await client.next("task.updated"))["task"] == done
    await api("DELETE", f"tasks/{task['id']}")
    assert (await client.next("task.deleted"))["id"] == task["id"]


async def test_refused_changes_and_no_op_edits_send_nothing(api, events):
    _, task = await api("POST", "tasks", {"title": "t"})
    client = await events()
    await api("PATCH", f"tasks/{task['id']}", {"priority": "nope"})
    await api("PATCH", f"tasks/{task['id']}", {})
    assert await client.none_within(0.3) == []


async def test_ping_pong_and_client_count(api, events, jp_ws_fetch):
    client = await events()
    await client.connection.write_message(json.dumps({"type": "ping"}))
    assert (await client.next())["type"] == "pong"
    await client.connection.write_message("not json at all")  # ignored, socket stays up
    await client.connection.write_message(json.dumps({"type": "ping"}))
    assert (await client.next())["type"] == "pong"
    _, status = await api("GET", "status")
    assert status["clients"] == 1


async def test_closed_client_does_not_break_fan_out(api, events, workspace):
    gone, staying = await events(), await events()
    gone.connection.close()
    await asyncio.sleep(0.1)
    await api("POST", "notes", {"title": "after close"})
    assert (await staying.next("note.created"))["note"]["title"] == "after close"
    assert workspace.bus.client_count == 1
