"""Research jobs (issue 16) on a public codebase nobody here wrote: evidence recall, verifier
accuracy, and the pipeline's own time per job.

Corpus: the cffi 1.17.1 sdist (the `_cffi_backend` C extension in src/c, the Python package and
its C headers in src/cffi, docs, tests), unpacked whole into the served folder as a user would
open it; downloaded once with pip like bench_search.py's sdists. Questions: the 20 of
`research_questions.json`, each written from cffi's own documentation, with 1-4 labelled answer
locations (path, start_line, end_line) read off the code before looking at any job's answer;
1-10 "tune", 11-20 "held out", both reported.

One index (a real `jupyter server`, its sidecar, the default embedder), reused by every server
this script starts on the same folder and state dir:

1. **Evidence recall**: every question queued once per depth through `POST
   /workspace/api/research` and waited for; the gather step's checkpoint (the `research_steps`
   table of the state dir's `workspace.sqlite`, opened read-only) lists the sources it read. A
   labelled location counts as read when a source in the same file overlaps its lines. Four
   servers, one after the other: retrieval-only (the LLM's port closed) and the fake LLM
   (tests/fake_llm.py, no delay; its plan is the question plus the API names it mentions, its
   findings empty), each with `--WorkspaceApp.research_expansion` True and False. The anchor an
   outsider would write, same labels, same index, same run: `GET
   /workspace/api/search?q=<question>&k=10`, and with k = the depth's source budget.
2. **Verifier accuracy**: one standard job per question with the fake LLM's extract answer
   carrying true citations (every label, its real lines quoted; half of them with the
   whitespace changed, some as `[path:line]`) and fabricated ones (a file that does not exist,
   lines past the end, a range shifted off its quote, a paraphrased quote, a quote from another
   file, a path outside the root, an empty quote; and one paraphrased quote cited on lines that
   do hold a true finding's quote, "borrowed-lines"), and its report citing each once. From the
   final note body (the verify checkpoint's markdown): a fabricated citation is caught when it
   is gone or marked unverified; a true one is kept when it is there unmarked. Goal: 100 % both.
3. **Time per job** (server's started → ended) by depth and mode, with the median of plain
   searches on the same server as the baseline (ratio = job / one search), the sources read and
   the tokens of their text (about 4 characters a token), and what the fake LLM was sent
   (its usage: prompt and completion tokens, about 4 characters a token).

Knobs: BENCH_RESEARCH_DEPTHS (default "quick,standard,deep"), BENCH_RESEARCH_CONFIGS (default
"retrieval+exp,retrieval-exp,llm+exp,llm-exp"), BENCH_RESEARCH_SECTIONS ("recall,verify"),
BENCH_RESEARCH_QUESTIONS (e.g. "1-5,12"), BENCH_RESEARCH_JOB_TIMEOUT (300 s),
BENCH_RESEARCH_INDEX_TIMEOUT (900 s), BENCH_RESEARCH_JSON=path writes every job's figures.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import HttpClient, Server, free_port, median, percentile, table  # noqa: E402

from tests.fake_llm import FakeLLM  # noqa: E402

LABELS = Path(__file__).with_name("research_questions.json")
DEPTHS = [d for d in os.environ.get("BENCH_RESEARCH_DEPTHS", "quick,standard,deep").split(",") if d]
CONFIGS = [
    c
    for c in os.environ.get(
        "BENCH_RESEARCH_CONFIGS", "retrieval+exp,retrieval-exp,llm+exp,llm-exp"
    ).split(",")
    if c
]
SECTIONS = set(os.environ.get("BENCH_RESEARCH_SECTIONS", "recall,verify").split(","))
JOB_TIMEOUT = float(os.environ.get("BENCH_RESEARCH_JOB_TIMEOUT", "300"))
INDEX_TIMEOUT = float(os.environ.get("BENCH_RESEARCH_INDEX_TIMEOUT", "900"))
# the depths' source budgets (research/env.py BUDGETS: max_sources), for the k=budget anchor
MAX_SOURCES = {"quick": 10, "standard": 24, "deep": 48}
SEARCHES_FOR_BASELINE = 5


def chars_to_tokens(chars: int) -> int:
    return (chars + 3) // 4


# -- labels ------------------------------------------------------------------------------------
@dataclass
class Label:
    path: str
    start_line: int
    end_line: int
    what: str


@dataclass
class Question:
    id: int
    split: str  # tune | held_out
    text: str
    answers: list[Label]


def load_questions() -> tuple[dict[str, Any], list[Question]]:
    data = json.loads(LABELS.read_text())
    questions = [
        Question(
            q["id"],
            q["split"],
            q["question"],
            [Label(a["path"], a["start_line"], a["end_line"], a["what"]) for a in q["answers"]],
        )
        for q in data["questions"]
    ]
    wanted = os.environ.get("BENCH_RESEARCH_QUESTIONS")
    if wanted:
        keep: set[int] = set()
        for part in wanted.split(","):
            first, _, last = part.partition("-")
            keep.update(range(int(first), int(last or first) + 1))
        questions = [q for q in questions if q.id in keep]
    return data, questions


def overlaps(label: Label, path: str, start: Any, end: Any) -> bool:
    """A passage (path, start..end) reads a label when it is in its file and shares a line."""
    if not isinstance(start, int) or not isinstance(end, int):
        return False
    return (
        path.removeprefix("./") == label.path
        and start <= label.end_line
        and end >= label.start_line
    )


def labels_read(question: Question, passages: list[dict[str, Any]]) -> list[bool]:
    """Per label of `question`: whether any passage ({path, start_line, end_line}) overlaps it."""
    return [
        any(
            overlaps(label, str(p.get("path", "")), p.get("start_line"), p.get("end_line"))
            for p in passages
        )
        for label in question.answers
    ]


def self_check() -> None:
    """The recall computation on made-up passages (run first, every time)."""
    q = Question(0, "tune", "?", [Label("a.c", 10, 20, ""), Label("b.c", 5, 5, "")])
    assert labels_read(q, []) == [False, False]
    assert labels_read(q, [{"path": "a.c", "start_line": 20, "end_line": 30}]) == [True, False]
    assert labels_read(q, [{"path": "a.c", "start_line": 21, "end_line": 30}]) == [False, False]
    assert labels_read(q, [{"path": "./b.c", "start_line": 1, "end_line": 5}]) == [False, True]
    assert labels_read(q, [{"path": "b.c", "start_line": 6, "end_line": 9}]) == [False, False]
    assert labels_read(q, [{"path": "a.c", "start_line": None, "end_line": 12}]) == [False, False]
    assert labels_read(q, [{"path": "x/a.c", "start_line": 1, "end_line": 99}]) == [False, False]


# -- the corpus --------------------------------------------------------------------------------
def corpus(meta: dict[str, Any]) -> Path:
    import bench_search

    name, version = meta["sdist"]["name"], meta["sdist"]["version"]
    bench_search.SDISTS[name] = version  # sdist() downloads what SDISTS pins
    return bench_search.sdist(name)


def file_lines(src: Path, path: str) -> list[str]:
    return (src / path).read_text(encoding="utf-8", errors="replace").splitlines()


# -- the fake LLM's answers --------------------------------------------------------------------
API_NAME = re.compile(r"\b(?:ffi|ffibuilder|lib)\.[A-Za-z_]\w*|\b[a-z]+_[a-z_]+\b|@\S+")


def naive_plan(question: str, max_queries: int = 4) -> dict[str, Any]:
    """What the fake LLM plans: one sub-question, the question itself and the API names it
    mentions as queries (a stand-in for a model that knows nothing of the code)."""
    queries = [question]
    for name in API_NAME.findall(question):
        name = name.lstrip("@").rstrip("()")
        if name not in queries:
            queries.append(name)
    return {"sub_questions": [{"question": question, "queries": queries[:max_queries]}]}


def prompt_text(messages: list[dict[str, Any]]) -> tuple[str, str]:
    """(system prompt, the rest) of a request's messages."""
    system = "\n".join(
        str(m.get("content", ""))
        for m in messages
        if isinstance(m, dict) and m.get("role") == "system"
    )
    rest = "\n".join(
        str(m.get("content", ""))
        for m in messages
        if isinstance(m, dict) and m.get("role") != "system"
    )
    return system, rest


def step_of(messages: list[dict[str, Any]]) -> str:
    """Which research step a request is (plan | extract | write | other), by its system prompt
    (server/assistant.py RESEARCH_*_PROMPT)."""
    system, _ = prompt_text(messages)
    text = system.strip().lower()
    for step, opening in (
        ("plan", "you plan research"),
        ("extract", "you extract findings"),
        ("write", "you write a research report"),
    ):
        if text.startswith(opening):
            return step
    # a retry ("Your answer was not the JSON asked for") repeats the step it follows
    if "sub_questions" in text:
        return "plan"
    if "findings" in text:
        return "extract"
    return "other"


@dataclass
class Planted:
    """A citation the fake LLM's extract answer carries, and whether it is true."""

    kind: str  # true | true-ws | true-line | missing-file | past-end | shifted | paraphrase |
    # other-file-quote | outside-root | empty-quote
    path: str
    start_line: int
    end_line: int
    quote: str

    @property
    def true(self) -> bool:
        return self.kind.startswith("true")

    @property
    def token(self) -> str:
        if self.start_line == self.end_line and self.kind == "true-line":
            return f"[{self.path}:{self.start_line}]"
        return f"[{self.path}:{self.start_line}-{self.end_line}]"


def normalised(text: str) -> str:
    return " ".join(text.split())


FABRICATIONS = (
    "missing-file",
    "past-end",
    "shifted",
    "paraphrase",
    "other-file-quote",
    "outside-root",
    "empty-quote",
)
# and one per question: a paraphrased quote cited on lines that hold a true finding's quote
# (a verifier taking any finding's quote for overlapping lines would keep it)
BORROWED = "borrowed-lines"


def key_line(lines: list[str], label: Label) -> tuple[int, str]:
    """(line number, text) of the label's most telling line: the first of its first three
    with 20 characters or more (a signature, a comment), else the longest of them."""
    first = range(label.start_line, min(label.start_line + 3, label.end_line + 1))
    for n in first:
        if len(lines[n - 1].strip()) >= 20:
            return n, lines[n - 1]
    n = max(first, key=lambda n: len(lines[n - 1].strip()))
    return n, lines[n - 1]


def plant(src: Path, questions: list[Question]) -> dict[int, list[Planted]]:
    """Per question: a true citation per label and three fabricated ones (kinds in turn)."""
    out: dict[int, list[Planted]] = {}
    turn = 0
    for qi, q in enumerate(questions):
        cites: list[Planted] = []
        for li, label in enumerate(q.answers):
            lines = file_lines(src, label.path)
            at, sig = key_line(lines, label)
            if li % 3 == 0:
                cites.append(Planted("true", label.path, label.start_line, label.end_line, sig))
            elif li % 3 == 1:
                # two lines, indentation dropped and joined by one space: whitespace-normalised
                # it is still the file's text
                two = " ".join(x.strip() for x in lines[at - 1 : at + 1])
                cites.append(Planted("true-ws", label.path, label.start_line, label.end_line, two))
            else:
                cites.append(Planted("true-line", label.path, at, at, sig))
        for _ in range(3):
            kind = FABRICATIONS[turn % len(FABRICATIONS)]
            turn += 1
            label = q.answers[turn % len(q.answers)]
            lines = file_lines(src, label.path)
            at, sig = key_line(lines, label)
            if kind == "missing-file":
                folder = label.path.rsplit("/", 1)[0]
                cites.append(Planted(kind, f"{folder}/cdata_alloc_impl.c", 40, 60, sig))
            elif kind == "past-end":
                n = len(lines)
                cites.append(Planted(kind, label.path, n + 10, n + 25, sig))
            elif kind == "shifted":
                # the same length moved off its quote: no true quote of the question in it
                span = label.end_line - label.start_line
                trues = [t.quote for t in cites if t.true and t.path == label.path] + [sig]
                starts = [*range(label.end_line + 40, len(lines) - span, 7)]
                starts += [*range(label.start_line - span - 40, 0, -7)]
                start = next(
                    st
                    for st in starts
                    if not any(
                        normalised(t) in normalised("\n".join(lines[st - 1 : st + span]))
                        for t in trues
                    )
                )
                cites.append(Planted(kind, label.path, start, start + span, sig))
            elif kind == "paraphrase":
                name = label.what.split(":")[0].split("/")[0].strip().split()[0]
                quote = f"{name} checks its arguments and then returns the new object"
                cites.append(Planted(kind, label.path, at + 2, label.end_line, quote))
            elif kind == "other-file-quote":
                other = questions[(qi + 7) % len(questions)].answers[0]
                if other.path == label.path:
                    other = questions[(qi + 3) % len(questions)].answers[-1]
                quote = key_line(file_lines(src, other.path), other)[1]
                cites.append(Planted(kind, label.path, at + 2, label.end_line, quote))
            elif kind == "outside-root":
                cites.append(Planted(kind, "../../../../etc/passwd", 1, 2, "root:x:0:0:root"))
            else:  # empty-quote
                cites.append(Planted(kind, label.path, at + 2, label.end_line, ""))
        label = q.answers[qi % len(q.answers)]
        name = label.what.split(":")[0].split("/")[0].strip().split()[0]
        cites.append(
            Planted(
                BORROWED,
                label.path,
                label.start_line,
                max(label.end_line - 1, key_line(file_lines(src, label.path), label)[0]),
                f"{name} is where the work is done for this case",
            )
        )
        # every citation's token once in the report, so each one's fate can be read off it
        tokens: set[str] = set()
        for c in cites:
            while c.token in tokens:
                c.end_line += 1
            tokens.add(c.token)
        out[q.id] = cites
    for cites in out.values():
        for c in cites:
            assert c.true == quoted(src, c), (c, "the bench planted a wrong citation")
            # only the borrowed-lines kind holds a true citation's quote on its lines
            assert c.true or (c.kind == BORROWED) == any(
                quoted(src, Planted(c.kind, c.path, c.start_line, c.end_line, t.quote))
                for t in cites
                if t.true and t.path == c.path
            ), (c, "a fabricated citation holds a true quote, or a borrowed one none")
    return out


def quoted(src: Path, c: Planted) -> bool:
    """Whether the citation is true: a file inside the folder, its lines there, the quote
    (whitespace-normalised, not empty) in them. The bench's own check of what it plants."""
    target = (src / c.path).resolve()
    if not c.quote.strip() or not target.is_relative_to(src.resolve()) or not target.is_file():
        return False
    lines = file_lines(src, c.path)
    if c.start_line < 1 or c.end_line > len(lines) or c.start_line > c.end_line:
        return False
    return normalised(c.quote) in normalised("\n".join(lines[c.start_line - 1 : c.end_line]))


class Responder:
    """The fake LLM's scripted answers (tests/fake_llm.FakeLLM.respond): a naive plan; no
    findings (recall runs) or the planted citations (verify runs); a report citing them."""

    def __init__(self, questions: list[Question]) -> None:
        self.questions = questions
        self.planted: dict[int, list[Planted]] = {}
        self.lock = threading.Lock()
        self.given: set[int] = set()  # questions whose findings were answered in this job
        self.steps: list[str] = []  # the step of every request, in order

    def question_of(self, messages: list[dict[str, Any]]) -> Question | None:
        _, rest = prompt_text(messages)
        system, _ = prompt_text(messages)
        text = rest + "\n" + system
        for q in self.questions:
            if q.text in text:
                return q
        return None

    def __call__(self, messages: list[dict[str, Any]]) -> str:
        step = step_of(messages)
        q = self.question_of(messages)
        with self.lock:
            self.steps.append(step)
        if step == "plan":
            return json.dumps(naive_plan(q.text if q else "the question"))
        if step == "extract":
            findings: list[dict[str, Any]] = []
            with self.lock:
                first = q is not None and q.id not in self.given
                if q is not None:
                    self.given.add(q.id)
            if q is not None and first and q.id in self.planted:
                findings = [
                    {
                        "claim": f"Finding {i + 1} of question {q.id}.",
                        "sub_question": 1,
                        "citations": [
                            {
                                "path": c.path,
                                "start_line": c.start_line,
                                "end_line": c.end_line,
                                "quote": c.quote,
                            }
                        ],
                    }
                    for i, c in enumerate(self.planted[q.id])
                ]
            return json.dumps({"findings": findings})
        if step == "write":
            lines = [f"# Research: question {q.id if q else '?'}", "", "## Summary", ""]
            lines += ["What the sources say.", "", "## Findings", ""]
            for i, c in enumerate(self.planted.get(q.id, []) if q else []):
                lines.append(f"- Finding {i + 1} of question {q.id}. {c.token}")
            lines += ["", "## Open questions", "", "- None."]
            return "\n".join(lines)
        return "{}"


def fate(markdown: str, c: Planted) -> str:
    """What the final note did with a planted citation: kept | marked | dropped."""
    body = re.split(r"(?im)^#+\s*sources\b", markdown)[0]
    at = body.find(c.token)
    if at < 0:
        return "dropped"
    after = body[at + len(c.token) : body.find("\n", at) if "\n" in body[at:] else None]
    return "marked" if "⚠" in after or "unverified" in after.lower() else "kept"


# -- servers -----------------------------------------------------------------------------------
class Folder:
    """The unpacked corpus and one state dir, shared by the servers started on them."""

    def __init__(self, src: Path) -> None:
        reuse = os.environ.get("BENCH_RESEARCH_REUSE")
        self.keep = bool(reuse or os.environ.get("BENCH_RESEARCH_KEEP"))
        if reuse:  # a folder a kept run left (BENCH_RESEARCH_KEEP=1): its index is reused
            self.tmp = Path(reuse)
        else:
            self.tmp = Path(tempfile.mkdtemp(prefix="jw-bench-research-"))
            shutil.copytree(src, self.tmp / "root", symlinks=False)
        self.root = self.tmp / "root"
        self.state = self.tmp / "state"

    @property
    def db(self) -> Path:
        return self.state / "workspace.sqlite"

    def cleanup(self) -> None:
        if self.keep:
            print(f"[bench] kept {self.tmp} (BENCH_RESEARCH_REUSE={self.tmp} reuses it)")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)


def start_server(folder: Folder, llm_base: str, expansion: bool) -> Server:
    server = Server(
        extra_args=[
            f"--WorkspaceApp.state_dir={folder.state}",
            "--WorkspaceApp.llm_model=openai/fake",
            "--WorkspaceApp.llm_api_key=sk-bench",  # litellm wants one for openai/
            f"--WorkspaceApp.llm_api_base={llm_base}",
            f"--WorkspaceApp.research_expansion={expansion}",
        ]
    )
    server.root = folder.root  # the shared folder, not the server's own empty one
    server.start()
    server.wait_ready(["/api/status", "/workspace/api/status"], timeout=120)
    return server


async def wait_index(http: HttpClient, timeout: float, interval: float = 1.0) -> dict[str, Any]:
    """The index status once it is idle with every vector (raises after `timeout`)."""
    deadline = time.monotonic() + timeout
    index: dict[str, Any] = {}
    while time.monotonic() < deadline:
        status, index = await http.request("GET", "/workspace/api/index")
        if (
            status == 200
            and index.get("state") == "idle"
            and not index.get("vectors_pending")
            and index.get("files_indexed")
        ):
            return index
        await asyncio.sleep(interval)
    raise TimeoutError(f"index not idle after {timeout:.0f} s: {index}")


async def clear_notes(http: HttpClient) -> int:
    """Delete every note (a reused folder's earlier reports); how many there were."""
    status, data = await http.request("GET", "/workspace/api/notes")
    notes = data.get("notes", []) if status == 200 else []
    for note in notes:
        await http.request("DELETE", f"/workspace/api/notes/{note['id']}")
    if notes:
        await wait_index(http, INDEX_TIMEOUT, interval=0.2)
    return len(notes)


async def wait_llm_state(http: HttpClient, wanted: set[str], timeout: float = 60) -> str:
    """The LLM probe's state once it is one of `wanted` (or whatever it is at `timeout`)."""
    deadline = time.monotonic() + timeout
    state = "unknown"
    while time.monotonic() < deadline:
        status, data = await http.request("GET", "/workspace/api/status")
        if status == 200:
            state = str((data.get("llm") or {}).get("state", "unknown"))
            if state in wanted:
                return state
        await asyncio.sleep(0.5)
    return state


async def search_passages(http: HttpClient, question: str, k: int) -> tuple[list[Any], float]:
    q = urllib.parse.quote(question)
    started = time.perf_counter()
    status, data = await http.request("GET", f"/workspace/api/search?q={q}&k={k}")
    took = time.perf_counter() - started
    if status != 200:
        raise RuntimeError(f"search answered {status}: {data}")
    return data.get("results", []), took


def parse_stamp(stamp: Any) -> float | None:
    if not isinstance(stamp, str):
        return None
    try:
        return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


@dataclass
class JobRun:
    question: int
    depth: str
    config: str
    status: str = "?"
    mode: str | None = None
    error: str | None = None
    seconds: float | None = None  # the server's started → ended
    wall: float = 0.0  # POST → done seen (polled every 50 ms)
    sources: int = 0
    source_chars: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    llm_calls: int = 0
    read: list[bool] = field(default_factory=list)
    why: dict[str, int] = field(default_factory=dict)  # sources by why (hit, caller, ...)
    read_by: dict[str, int] = field(default_factory=dict)  # labels read, by the first why
    checkpoints: dict[str, Any] = field(default_factory=dict)


async def run_job(http: HttpClient, question: str, depth: str) -> dict[str, Any]:
    status, job = await http.request(
        "POST", "/workspace/api/research", {"question": question, "depth": depth}
    )
    if status != 201:
        raise RuntimeError(f"POST research answered {status}: {job}")
    deadline = time.monotonic() + JOB_TIMEOUT
    while job.get("status") not in ("done", "failed", "cancelled"):
        if time.monotonic() > deadline:
            await http.request("POST", f"/workspace/api/research/{job['id']}/cancel", {})
            raise TimeoutError(f"job {job['id']} not done after {JOB_TIMEOUT:.0f} s: {job}")
        await asyncio.sleep(0.05)
        status, job = await http.request("GET", f"/workspace/api/research/{job['id']}")
        if status != 200:
            raise RuntimeError(f"GET research/{job} answered {status}")
    return job


def checkpoints(db: Path, job_id: int) -> dict[str, Any]:
    """The job's step checkpoints, read-only from the state dir's database."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=10)
    try:
        rows = conn.execute(
            "SELECT name, output FROM research_steps WHERE job_id = ? AND status = 'done'",
            (job_id,),
        ).fetchall()
    finally:
        conn.close()
    return {name: json.loads(output) for name, output in rows if output}


async def one_job(
    http: HttpClient, folder: Folder, q: Question, depth: str, config: str, fake: FakeLLM | None
) -> JobRun:
    run = JobRun(q.id, depth, config)
    calls_before = len(fake.requests) if fake else 0
    started = time.perf_counter()
    job = await run_job(http, q.text, depth)
    run.wall = time.perf_counter() - started
    run.status, run.mode, run.error = job["status"], job.get("mode"), job.get("error")
    t0, t1 = parse_stamp(job.get("started")), parse_stamp(job.get("ended"))
    run.seconds = t1 - t0 if t0 is not None and t1 is not None else None
    run.tokens_in, run.tokens_out = job.get("tokens_in") or 0, job.get("tokens_out") or 0
    run.llm_calls = (len(fake.requests) - calls_before) if fake else 0
    run.checkpoints = checkpoints(folder.db, job["id"])
    sources = (run.checkpoints.get("gather") or {}).get("sources") or []
    run.sources = len(sources)
    run.source_chars = sum(len(str(s.get("text") or "")) for s in sources)
    run.read = labels_read(q, sources)
    for s in sources:
        kind = str(s.get("why") or "?")
        run.why[kind] = run.why.get(kind, 0) + 1
    for label in q.answers:
        for s in sources:
            if overlaps(label, str(s.get("path", "")), s.get("start_line"), s.get("end_line")):
                kind = str(s.get("why") or "?")
                run.read_by[kind] = run.read_by.get(kind, 0) + 1
                break
    if job.get("note_id"):
        # each job starts from the code alone: an earlier job's report (a note, in the default
        # scope) would come back as a hit for the same question
        status, _ = await http.request("DELETE", f"/workspace/api/notes/{job['note_id']}")
        if status != 204:
            raise RuntimeError(f"DELETE notes/{job['note_id']} answered {status}")
        await wait_index(http, INDEX_TIMEOUT, interval=0.2)
    return run


# -- the report --------------------------------------------------------------------------------
def share(hits: list[bool]) -> str:
    if not hits:
        return "-"
    return f"{sum(hits)}/{len(hits)} ({100 * sum(hits) / len(hits):.0f} %)"


def recall_row(name: str, questions: list[Question], reads: dict[int, list[bool]]) -> list[str]:
    tune = [r for q in questions if q.split == "tune" for r in reads.get(q.id, [])]
    held = [r for q in questions if q.split != "tune" for r in reads.get(q.id, [])]
    some = [any(reads.get(q.id, [])) for q in questions]
    return [name, share(tune), share(held), share(tune + held), share(some)]


async def recall_section(
    folder: Folder,
    questions: list[Question],
    fake: FakeLLM,
    responder: Responder,
    runs: list[JobRun],
) -> list[list[str]]:
    rows: list[list[str]] = []
    anchors_done = False
    closed = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    for config in CONFIGS:
        llm = config.startswith("llm")
        expansion = config.endswith("+exp")
        print(
            f"[bench] {config}: starting a server (LLM {'fake' if llm else 'port closed'}, "
            f"expansion {expansion})",
            flush=True,
        )
        server = start_server(folder, f"{fake.url}/v1" if llm else closed, expansion)
        http = HttpClient(server.port, server.token)
        try:
            t = time.perf_counter()
            index = await wait_index(http, INDEX_TIMEOUT)
            print(
                f"[bench] index idle after {time.perf_counter() - t:.0f} s: "
                f"{index.get('files_indexed')} files, {index.get('chunks')} chunks",
                flush=True,
            )
            if folder.keep:
                print(f"[bench] {await clear_notes(http)} notes of earlier runs deleted")
            llm_state = await wait_llm_state(
                http, {"ready"} if llm else {"unreachable", "no_model"}
            )
            print(f"[bench] LLM state: {llm_state}", flush=True)
            base: list[float] = []
            if not anchors_done:
                anchors_done = True
                for k in sorted({10, *(MAX_SOURCES[d] for d in DEPTHS)}):
                    reads = {}
                    for q in questions:
                        hits, _ = await search_passages(http, q.text, k)
                        reads[q.id] = labels_read(q, hits)
                    rows.append(recall_row(f"anchor: search k={k}", questions, reads))
            for depth in DEPTHS:
                reads = {}
                for q in questions:
                    _, took = await search_passages(http, q.text, 10)  # the time baseline
                    base.append(took)
                    run = await one_job(http, folder, q, depth, config, fake if llm else None)
                    run.checkpoints.pop("gather", None)  # texts: not kept
                    runs.append(run)
                    reads[q.id] = run.read
                    why = (run.checkpoints.get("plan") or {}).get("reason")
                    print(
                        f"[bench] {config} {depth} q{q.id}: {run.status} ({run.mode}"
                        + (f": {why}" if why else "")
                        + ") "
                        f"{run.wall:.1f} s, {run.sources} sources, read {sum(run.read)}/"
                        f"{len(run.read)}" + (f", error: {run.error}" if run.error else ""),
                        flush=True,
                    )
                rows.append(recall_row(f"research {config} {depth}", questions, reads))
            for run in runs:
                if run.config == config:
                    run.checkpoints["baseline_search_s"] = median(base)
        finally:
            await http.close()
            server.stop()
    return rows


async def verify_section(
    folder: Folder,
    questions: list[Question],
    fake: FakeLLM,
    responder: Responder,
    src: Path,
) -> tuple[list[list[str]], list[str]]:
    responder.planted = plant(src, questions)
    responder.given.clear()
    server = start_server(folder, f"{fake.url}/v1", True)
    http = HttpClient(server.port, server.token)
    outcomes: dict[str, list[bool]] = {}  # kind → right (caught or kept) per citation
    notes: list[str] = []
    missed: list[str] = []
    totals = {"citations": 0, "verified": 0, "unverified": 0, "dropped": 0}
    try:
        await wait_index(http, INDEX_TIMEOUT)
        if folder.keep:
            await clear_notes(http)
        await wait_llm_state(http, {"ready"})
        for q in questions:
            run = await one_job(http, folder, q, "standard", "verify", fake)
            final = run.checkpoints.get("verify") or {}
            markdown = str(final.get("markdown") or "")
            for key in totals:
                totals[key] += int((final.get("stats") or {}).get(key) or 0)
            if run.status != "done" or not markdown:
                notes.append(
                    f"q{q.id}: job {run.status} ({run.error}); its citations count as wrong"
                )
            written = str((run.checkpoints.get("write") or {}).get("markdown") or "")
            for c in responder.planted[q.id]:
                if c.token not in written:
                    # the fake LLM's report never carried it (the job ran without the model,
                    # or stopped early): nothing for the verifier to judge
                    missed.append(f"q{q.id} {c.kind} {c.token} (job {run.status}, {run.mode})")
                    continue
                what = fate(markdown, c) if markdown else "no report"
                right = (what == "kept") if c.true else (what in ("marked", "dropped"))
                outcomes.setdefault(c.kind, []).append(right)
                if not right:
                    notes.append(f"q{q.id} {c.kind} {c.token} quote {c.quote[:60]!r}: {what}")
            print(f"[bench] verify q{q.id}: {run.status}, stats {final.get('stats')}", flush=True)
    finally:
        await http.close()
        server.stop()
    rows = []
    for kind in ("true", "true-ws", "true-line", *FABRICATIONS, BORROWED):
        got = outcomes.get(kind, [])
        rows.append([kind, "kept" if kind.startswith("true") else "caught", share(got)])
    true_all = [r for k, v in outcomes.items() if k.startswith("true") for r in v]
    fake_all = [r for k, v in outcomes.items() if not k.startswith("true") for r in v]
    rows.append(["all true citations", "kept", share(true_all)])
    rows.append(["all fabricated citations", "caught", share(fake_all)])
    notes.insert(0, f"verify checkpoints' stats, summed: {totals}")
    if missed:
        notes.append(f"{len(missed)} planted citations never reached a report (not counted):")
        notes += [f"  {m}" for m in missed[:20]]
    return rows, notes


def time_rows(runs: list[JobRun]) -> list[list[str]]:
    rows = []
    for config in CONFIGS:
        for depth in DEPTHS:
            mine = [r for r in runs if r.config == config and r.depth == depth]
            if not mine:
                continue
            secs = [r.seconds if r.seconds is not None else r.wall for r in mine]
            base = mine[0].checkpoints.get("baseline_search_s") or float("nan")
            failed = sum(r.status != "done" for r in mine)
            modes = sorted({str(r.mode) for r in mine})
            rows.append(
                [
                    config,
                    depth,
                    f"{len(mine)}" + (f" ({failed} not done)" if failed else ""),
                    "/".join(modes),
                    f"{median(secs):.2f}",
                    f"{percentile(secs, 90):.2f}",
                    f"{median(secs) / base:.0f}x" if base == base and base > 0 else "-",
                    f"{median([r.sources for r in mine]):.0f}",
                    f"{median([chars_to_tokens(r.source_chars) for r in mine]):.0f}",
                    (
                        f"{median([r.tokens_in for r in mine]):.0f}/"
                        f"{median([r.tokens_out for r in mine]):.0f}"
                    )
                    if config.startswith("llm")
                    else "-",
                    f"{median([r.llm_calls for r in mine]):.0f}"
                    if config.startswith("llm")
                    else "-",
                ]
            )
    return rows


def why_rows(runs: list[JobRun]) -> list[list[str]]:
    """Per config and depth: the passages read by why, and the labels they read first."""
    rows = []
    for config in CONFIGS:
        for depth in DEPTHS:
            mine = [r for r in runs if r.config == config and r.depth == depth]
            if not mine:
                continue
            kinds = sorted({k for r in mine for k in r.why})
            rows.append(
                [
                    config,
                    depth,
                    ", ".join(f"{k} {sum(r.why.get(k, 0) for r in mine)}" for k in kinds),
                    ", ".join(
                        f"{k} {sum(r.read_by.get(k, 0) for r in mine)}"
                        for k in kinds
                        if any(r.read_by.get(k) for r in mine)
                    )
                    or "-",
                ]
            )
    return rows


def per_question(questions: list[Question], runs: list[JobRun]) -> list[list[str]]:
    rows = []
    for q in questions:
        row = [str(q.id), q.split, str(len(q.answers))]
        for config in CONFIGS:
            for depth in DEPTHS:
                mine = [
                    r
                    for r in runs
                    if r.question == q.id and r.config == config and r.depth == depth
                ]
                row.append(f"{sum(mine[0].read)}" if mine else "-")
        rows.append(row)
    return rows


def code_version() -> str:
    """The commit measured, and the package files changed in the tree on top of it."""
    import subprocess

    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True)
        return done.stdout.rstrip()

    head = git("rev-parse", "--short", "HEAD") or "?"
    dirty = git("status", "--porcelain", "--", "jupyter_workspace").splitlines()
    return head + (f" + uncommitted: {', '.join(d[3:] for d in dirty)}" if dirty else "")


def main() -> None:
    self_check()
    meta, questions = load_questions()
    src = corpus(meta)
    n_files = sum(1 for p in src.rglob("*") if p.is_file())
    print(
        f"corpus: {meta['sdist']['name']} {meta['sdist']['version']} sdist, {n_files} files; "
        f"{len(questions)} questions, {sum(len(q.answers) for q in questions)} labelled locations",
        flush=True,
    )
    print(f"code: {code_version()}", flush=True)
    responder = Responder(questions)
    fake = FakeLLM(respond=responder).start()
    folder = Folder(src)
    runs: list[JobRun] = []
    started = time.perf_counter()
    try:
        if "recall" in SECTIONS:
            rows = asyncio.run(recall_section(folder, questions, fake, responder, runs))
            print("\nEvidence recall: labelled locations read (tune = q1-10, held out = q11-20)")
            print(table(["system", "tune", "held out", "all", "questions with one read"], rows))
            print("\nLocations read per question (research runs: config, depth)")
            heads = ["q", "split", "labels"] + [f"{c} {d[0]}" for c in CONFIGS for d in DEPTHS]
            print(table(heads, per_question(questions, runs)))
            print("\nPassages read by why (all 20 jobs), and the labels each kind read first")
            print(table(["config", "depth", "passages", "labels read by"], why_rows(runs)))
            print("\nTime per job (server's started → ended), sources read, tokens")
            print(
                table(
                    [
                        "config",
                        "depth",
                        "jobs",
                        "mode",
                        "median s",
                        "p90 s",
                        "vs one search",
                        "sources",
                        "source tokens",
                        "LLM tokens in/out",
                        "LLM calls",
                    ],
                    time_rows(runs),
                )
            )
        if "verify" in SECTIONS:
            vrows, notes = asyncio.run(verify_section(folder, questions, fake, responder, src))
            print("\nVerifier accuracy (standard jobs, the fake LLM's planted citations)")
            print(table(["citations", "goal", "right"], vrows))
            for line in notes:
                print(f"  {line}")
        print(f"\nsteps the fake LLM was asked: {sorted(set(responder.steps))}")
        print(f"({time.perf_counter() - started:.0f} s in all)")
        out = os.environ.get("BENCH_RESEARCH_JSON")
        if out:
            Path(out).write_text(
                json.dumps([r.__dict__ for r in runs], indent=1, default=str) + "\n"
            )
    finally:
        fake.stop()
        folder.cleanup()


if __name__ == "__main__":
    main()
