"""The MCP tools that need more than the database, each against its REST route in the same
server: search (answered from the files while the sidecar starts: a sidecar that never gets
ready), a pipeline run started by an agent and followed to its end, a research job queued."""

from __future__ import annotations

import pytest

from .test_mcp import connect, error_text, mcp_url, structured  # noqa: F401 - fixtures
from .test_unindexed import NEVER_READY_SIDECAR
from .waiting import until

CONFIG = """\
[pipelines.check]
command = "echo checked-by-agent"
"""
PUMP_C = (
    "/* Prime the pump before the first burn. */\nint prime_pump(int rpm)\n{\n    return rpm;\n}\n"
)


@pytest.fixture
def jp_server_config(jp_server_config, jp_root_dir):
    (jp_root_dir / "workspace.toml").write_text(CONFIG)
    (jp_root_dir / "src").mkdir()
    (jp_root_dir / "src" / "pump.c").write_text(PUMP_C)
    (jp_root_dir / "tools.py").write_text("def prime_pump_remote(link):\n    return link\n")
    config = dict(jp_server_config)
    config["WorkspaceApp"] = {
        **config["WorkspaceApp"],
        **NEVER_READY_SIDECAR,
        "mcp_write_tools": True,
    }
    return config


async def test_search_answers_as_the_rest_search_does(jp_serverapp, api, connect):  # noqa: F811
    await jp_serverapp._post_start()
    async with connect() as client:
        for args, params in (
            ({"query": "prime_pump"}, {"q": "prime_pump"}),
            ({"query": "prime_pump", "language": "python"}, {"q": "prime_pump", "lang": "python"}),
            (
                {"query": "prime_pump", "path": "src/**", "k": 1},
                {"q": "prime_pump", "path": "src/**", "k": "1"},
            ),
        ):
            got = structured(await client.call_tool("search", args))
            _, rest = await api("GET", "search", params=params)
            assert [(h["path"], h["start_line"], h["end_line"]) for h in got["hits"]] == [
                (h["path"], h["start_line"], h["end_line"]) for h in rest["results"]
            ]
            assert got["hits"] and got["words_only"] is True
        assert {h["path"] for h in got["hits"]} == {"src/pump.c"}
        # what REST answers 503 or 400 is the tool's error with REST's reason
        message = error_text(await client.call_tool("search", {"query": "x", "mode": "vector"}))
        assert "search unavailable" in message
        assert "mode" in error_text(
            await client.call_tool("search", {"query": "x", "mode": "psychic"})
        )
        status = structured(await client.call_tool("index_status", {}))
        _, rest_status = await api("GET", "index")
        assert status["state"] == rest_status["state"]


async def test_an_agent_runs_a_pipeline_and_follows_it(api, connect):  # noqa: F811
    _, listed = await api("GET", "pipelines")
    await api("POST", "pipelines/trust", {"hash": listed["config"]["hash"]})
    async with connect() as client:
        run = structured(await client.call_tool("pipeline_run", {"name": "check"}))
        assert run["trigger"] == "mcp"

        async def ended():
            got = structured(await client.call_tool("run_status", {"id": run["id"]}))
            return got if got["status"] != "running" else None

        done = await until(ended, timeout=60, interval=0.2)
        assert done["status"] == "passed" and "checked-by-agent" in done["output"]
        _, rest = await api("GET", f"runs/{run['id']}")
        assert (rest["status"], rest["trigger"]) == ("passed", "mcp")
        message = error_text(await client.call_tool("pipeline_run", {"name": "nope"}))
        assert "no pipeline named 'nope'" in message
        assert "unknown run id" in error_text(await client.call_tool("run_status", {"id": 999}))


async def test_an_agent_queues_research_and_reads_its_state(api, connect):  # noqa: F811
    async with connect() as client:
        job = structured(
            await client.call_tool("research_start", {"question": "How is the pump primed?"})
        )
        state = structured(await client.call_tool("research_status", {"id": job["id"]}))
        _, rest = await api("GET", f"research/{job['id']}")
        assert state["question"] == rest["question"] == "How is the pump primed?"
        assert state["id"] == rest["id"]
        if rest["note_id"] is None:
            assert "no report yet" in error_text(
                await client.call_tool("research_result", {"id": job["id"]})
            )
        assert "question" in error_text(await client.call_tool("research_start", {"question": ""}))
        message = error_text(await client.call_tool("research_status", {"id": 999}))
        assert "999" in message
