"""Reading around a search hit: the sidecar's tree-sitter `/code/context` (in process on real
snippets, and over loopback HTTP), and research/expand.py with the real sidecar and index."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pytest

from jupyter_workspace.server.ignore import IgnoreRules
from jupyter_workspace.server.research.env import BUDGETS, ResearchEnv
from jupyter_workspace.server.research.expand import expand
from jupyter_workspace.server.sidecar_client import SidecarRefused
from jupyter_workspace.server.store import Store
from jupyter_workspace.sidecar.code_context import context

from .chat_helpers import FAKE_KEY, sidecar_ready
from .waiting import until

CONTROL_C = """#include "util.h"

/* Limit x to [lo, hi]. */
static float clamp(float x, float lo, float hi)
{
    return x < lo ? lo : (x > hi ? hi : x);
}

float pid_step(struct pid *s, float error, float dt)
{
    s->integral = saturate(s->integral + error * dt, s->limit);
    float out = s->kp * error + s->ki * s->integral;
    LOG_VALUE(out);
    return clamp(out, -1.0f, 1.0f);
}

void controller_update(struct pid *s, float setpoint, float measured, float dt)
{
    s->output = pid_step(s, setpoint - measured, dt);
}

void reset(struct pid *s)
{
    /* pid_step is not called here: only mentioned */
    s->integral = 0.0f;
}
"""
UTIL_C = """#include "util.h"

float saturate(float x, float limit)
{
    if (x > limit)
        return limit;
    return x < -limit ? -limit : x;
}
"""
LOOP_C = """#include "control.h"

int run_loop(struct pid *s, const float *samples, int n)
{
    for (int i = 0; i < n; i++)
        s->output = pid_step(s, samples[i], 0.01f);
    return n;
}
"""
SIM_PY = '''"""A simulation that also says pid_step, as a word in Python."""


def pid_step(x):
    return x


class Simulator:
    def run(self, n):
        for _ in range(n):
            self.state = pid_step(self.state)
'''


# -- /code/context, in process on real grammars ----------------------------------------------
def test_c_definition_callees_and_macro_calls():
    got = context("control.c", CONTROL_C, 12, 12, ["pid_step", "clamp"])
    assert got["language"] == "c"
    assert got["definition"] == {
        "name": "pid_step",
        "kind": "function",
        "start_line": 9,
        "end_line": 15,
    }
    assert got["callees"] == ["saturate", "LOG_VALUE", "clamp"]
    assert got["calls"] == [
        {"name": "clamp", "line": 14, "definition": got["definition"]},
        {
            "name": "pid_step",
            "line": 19,
            "definition": {
                "name": "controller_update",
                "kind": "function",
                "start_line": 17,
                "end_line": 20,
            },
        },
    ]  # the mention in reset's comment is no call
    # the doc comment belongs to the definition, as in the index's chunk
    assert context("control.c", CONTROL_C, 5, 5)["definition"]["start_line"] == 3


def test_c_macro_line_the_grammar_is_not_shown_still_counts_as_a_call():
    text = "void f(void)\n{\n    int a = 1;\n    TRACE_ENTER(a)\n    g(a);\n}\n"
    got = context("f.c", text, 3, 3, ["TRACE_ENTER"])
    assert got["definition"]["name"] == "f"
    assert got["callees"] == ["TRACE_ENTER", "g"]
    assert [c["line"] for c in got["calls"]] == [4]


def test_cpp_methods_qualified_and_template_calls():
    text = """namespace nav {
class Kalman {
 public:
  double gain() const { return p_ / (p_ + noise(1.0)); }
  double p_ = 1.0;
};

double update(Kalman &k, std::vector<double> &v) {
    v.push_back(k.gain());
    return nav::scale<double>(k.gain());
}
}
"""
    got = context("kalman.cpp", text, 4, 4, ["gain"])
    assert got["language"] == "cpp"
    assert got["definition"]["name"] == "nav.Kalman.gain"
    assert got["definition"]["kind"] == "method"
    assert got["callees"] == ["noise"]
    calls = [(c["name"], c["line"], c["definition"]["name"]) for c in got["calls"]]
    assert calls == [("gain", 9, "nav.update"), ("gain", 10, "nav.update")]
    outer = context("kalman.cpp", text, 9, 10)
    assert outer["callees"] == ["push_back", "gain", "scale"]


def test_python_methods_decorators_and_attribute_calls():
    text = """import math


class Estimator:
    @staticmethod
    def wrap(angle):
        return math.atan2(math.sin(angle), math.cos(angle))

    def update(self, gyro):
        return self.wrap(gyro) + helper(gyro)


def helper(x):
    return Estimator.wrap(x)
"""
    got = context("attitude.py", text, 7, 7, ["wrap"])
    assert got["definition"] == {
        "name": "Estimator.wrap",
        "kind": "method",
        "start_line": 5,
        "end_line": 7,
    }
    assert got["callees"] == ["atan2", "sin", "cos"]
    assert [(c["line"], c["definition"]["name"]) for c in got["calls"]] == [
        (10, "Estimator.update"),
        (14, "helper"),
    ]
    # a passage over two methods: the class holds it
    assert context("attitude.py", text, 6, 10)["definition"]["name"] == "Estimator"
    # module-level code: no definition
    assert context("attitude.py", text, 1, 1)["definition"] is None


def test_fortran_subroutine_calls_and_case():
    text = """module orbit
contains
  function period(a) result(t)
    real, intent(in) :: a
    real :: t
    t = 2.0 * 3.14159265 * sqrt(a**3)
  end function period

  subroutine propagate(r, dt)
    real, intent(inout) :: r(3)
    real, intent(in) :: dt
    call Advance(r, dt)
    r(1) = PERIOD(r(2))
  end subroutine propagate
end module orbit
"""
    got = context("orbit.f90", text, 12, 12, ["period", "advance"])
    assert got["language"] == "fortran"
    assert got["definition"] == {
        "name": "orbit.propagate",
        "kind": "subroutine",
        "start_line": 9,
        "end_line": 14,
    }
    assert got["callees"] == ["Advance", "PERIOD"]  # `r(1)` is an element of the array r
    assert [(c["name"], c["line"]) for c in got["calls"]] == [("Advance", 12), ("PERIOD", 13)]


def test_a_file_the_chunker_gives_up_on_is_still_searched_for_calls():
    text = "int a = (\n\nstatic int helper(int x)\n{\n    return x + 1;\n}\n\n" + (
        "int compute(int y)\n{\n    return helper(y) * 2;\n}\n"
    )
    got = context("m.c", text, 10, 10, ["helper"])
    assert got["calls"] == [{"name": "helper", "line": 10, "definition": None}]


def test_random_text_in_every_language_never_raises():
    rng = random.Random(16)
    alphabet = "abcXYZ_ (){}[];:.,->*&\n\t\"'#=+/\\%!\ud800é"
    for n in range(400):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300)))
        path = ("a.c", "a.hpp", "a.py", "a.f90", "a.js", "a.tsx", "a.md", "a.txt")[n % 8]
        start = rng.randint(1, 20)
        got = context(path, text, start, start + rng.randint(0, 5), ["abc", "X"])
        assert set(got) == {"language", "definition", "callees", "calls"}


def test_languages_without_a_grammar_and_unparsable_text():
    for path, text in (("notes.txt", "call f(x)\n"), ("a.go", "func f() { g() }\n")):
        got = context(path, text, 1, 1, ["g"])
        assert got["definition"] is None and got["callees"] == [] and got["calls"] == []
    assert context("x.c", "", 1, 1)["definition"] is None


# -- expand() without a sidecar --------------------------------------------------------------
class _NoSidecar:
    state = "crashed"
    client = None
    error = "stopped"

    def describe(self) -> dict:
        return {"state": self.state}


async def test_expand_without_a_sidecar_or_index_returns_what_it_could(tmp_path):
    from jupyter_workspace.server.search import SearchManager

    root = tmp_path / "root"
    root.mkdir()
    (root / "control.c").write_text(CONTROL_C)
    store = Store(root / ".workspace" / "workspace.db", synchronous="NORMAL")
    store.open()
    try:
        supervisor = _NoSidecar()
        env = ResearchEnv(
            root_dir=root,
            rules=IgnoreRules(root, root / ".workspace"),
            store=store,
            search=SearchManager(supervisor),  # type: ignore[arg-type]
            supervisor=supervisor,  # type: ignore[arg-type]
            assistant=None,  # type: ignore[arg-type]
            notes=None,  # type: ignore[arg-type]
        )
        hit = {"path": "control.c", "start_line": 9, "end_line": 15, "symbol": "pid_step"}
        assert await expand(env, hit, BUDGETS["deep"], set()) == []
        assert await expand(env, {"path": "../x.c", "start_line": 1}, BUDGETS["deep"], set()) == []
    finally:
        store.close()


# -- with the real sidecar and index ---------------------------------------------------------
@pytest.fixture
def jp_server_config(jp_server_config, jp_root_dir):
    (jp_root_dir / "src").mkdir()
    (jp_root_dir / "src" / "control.c").write_text(CONTROL_C)
    (jp_root_dir / "src" / "util.c").write_text(UTIL_C)
    (jp_root_dir / "src" / "loop.c").write_text(LOOP_C)
    (jp_root_dir / "sim.py").write_text(SIM_PY)
    config = dict(jp_server_config)
    config["WorkspaceApp"] = {
        **config["WorkspaceApp"],
        "sidecar_enabled": True,
        "index_enabled": True,
        "llm_model": "openai/none",
        "llm_api_key": FAKE_KEY,
    }
    return config


async def _indexed(jp_serverapp, api, files: int) -> None:
    await jp_serverapp._post_start()
    await sidecar_ready(api)

    async def idle():
        _, status = await api("GET", "index")
        done = status["state"] == "idle" and status["files_pending"] == 0
        return status if done and status["files_indexed"] == files else None

    await until(idle, timeout=180, interval=0.2)


def _env(workspace) -> ResearchEnv:
    return ResearchEnv(
        root_dir=Path(workspace.root_dir),
        rules=workspace.rules,
        store=workspace.store,
        search=workspace.search,
        supervisor=workspace.supervisor,
        assistant=workspace.assistant,
        notes=workspace.notes,
    )


async def test_expand_reads_the_definition_its_callers_callees_notes_and_tasks(
    jp_serverapp, api, workspace
):
    await _indexed(jp_serverapp, api, files=4)
    _, note = await api(
        "POST", "notes", {"title": "Tuning", "body": "# Tuning\n\nThe pid_step gains\nare low."}
    )
    await api("POST", "notes", {"title": "Other", "body": "Nothing about the controller."})
    status, task = await api(
        "POST",
        "tasks",
        {"title": "Check pid_step reset", "source": {"path": "src/control.c", "line": 24}},
    )
    assert status == 201, task
    env = _env(workspace)
    hits = await env.search.raw({"q": "pid_step", "k": 10, "mode": "text"})
    hit = next(h for h in hits if h["path"] == "src/control.c" and h["symbol"] == "pid_step")
    seen = {(hit["path"], hit["start_line"], hit["end_line"])}

    found = await expand(env, hit, BUDGETS["standard"], seen)
    by_why: dict[str, list] = {}
    for source in found:
        by_why.setdefault(source["why"], []).append(source)
    lines = CONTROL_C.split("\n")
    # the hit is the definition's own chunk: it is read already
    assert "definition" not in by_why or by_why["definition"][0]["start_line"] != hit["start_line"]
    callees = {(s["path"], s["symbol"], s["start_line"], s["end_line"]) for s in by_why["callee"]}
    assert callees == {("src/util.c", "saturate", 3, 8), ("src/control.c", "clamp", 3, 7)}
    clamp = next(s for s in by_why["callee"] if s["symbol"] == "clamp")
    assert clamp["text"] == "\n".join(lines[2:7]) and clamp["hash"] and clamp["language"] == "c"
    callers = {(s["path"], s["symbol"]) for s in by_why["caller"]}
    assert len(callers) == 2  # the standard budget's two
    assert callers <= {("src/control.c", "controller_update"), ("src/loop.c", "run_loop")}
    # never the comment in reset(), never the Python namesake
    assert all(s["symbol"] not in ("reset", "Simulator.run") for s in found)
    [mention] = by_why["note"]
    assert mention["path"] == f"@notes/{note['id']}" and "pid_step gains" in mention["text"]
    [todo] = by_why["task"]  # lines 22-27 of the task, clipped to the file
    assert (todo["path"], todo["start_line"], todo["end_line"]) == (
        "src/control.c",
        22,
        26,
    )  # clipped to the file
    assert todo["text"] == "\n".join(lines[21:26])
    # everything returned is now in `seen`; asking again adds nothing
    assert all((s["path"], s["start_line"], s["end_line"]) in seen for s in found)
    assert await expand(env, hit, BUDGETS["standard"], seen) == []

    # expansion off: the definition only (a hit inside it, so not the same lines)
    inside = {**hit, "start_line": 12, "end_line": 12}
    quick = dataclasses.replace(BUDGETS["standard"], callers=0, callees=0)
    [only] = await expand(env, inside, quick, set())
    assert (only["why"], only["symbol"], only["start_line"], only["end_line"]) == (
        "definition",
        "pid_step",
        9,
        15,
    )
    assert only["text"] == "\n".join(lines[8:15])

    # a file the index read by lines (no symbols: its grammar gave up, as on cffi's C backend):
    # its definitions are found by a text search confirmed by the parse
    await workspace.store.run(
        lambda conn: conn.execute("DELETE FROM symbols WHERE path = ?", ("src/util.c",))
    )
    callees_only = dataclasses.replace(BUDGETS["standard"], callers=0, callees=2)
    found = await expand(env, inside, callees_only, set())
    assert {(s["why"], s["path"], s["symbol"], s["start_line"], s["end_line"]) for s in found} >= {
        ("callee", "src/util.c", "saturate", 3, 8),
        ("callee", "src/control.c", "clamp", 3, 7),
    }

    # the route validates what it is sent
    client = workspace.supervisor.client
    ok = await client.call(
        "POST",
        "/code/context",
        {"path": "src/loop.c", "text": LOOP_C, "start_line": 6, "end_line": 6},
    )
    assert ok["definition"]["name"] == "run_loop" and ok["callees"] == ["pid_step"]
    for bad in (
        {"text": "x", "start_line": 1, "end_line": 1},
        {"path": "a.c", "text": 3, "start_line": 1, "end_line": 1},
        {"path": "a.c", "text": "x", "start_line": 0, "end_line": 1},
        {"path": "a.c", "text": "x", "start_line": 5, "end_line": 2},
        {"path": "a.c", "text": "x", "start_line": True, "end_line": 1},
        {"path": "a.c", "text": "x", "start_line": 1, "end_line": 1, "names": "f"},
        {"path": "a.c", "text": "x", "start_line": 1, "end_line": 1, "names": ["f"] * 51},
        {"path": "a.c", "text": "x", "start_line": 1, "end_line": 1, "names": [""]},
    ):
        with pytest.raises(SidecarRefused) as refused:
            await client.call("POST", "/code/context", bad)
        assert refused.value.status == 400, bad
    with pytest.raises(SidecarRefused) as refused:
        await client.call("POST", "/code/context", [1, 2])  # type: ignore[arg-type]
    assert refused.value.status == 400
