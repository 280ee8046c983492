"""`%workspace` and `%%workspace`: the workspace from a notebook cell.

Every sub-command calls the same REST API as the JupyterLab panels. Results display richly
(an HTML table whose file:line links open the file in JupyterLab, through the workspace's
MIME renderer when JupyterLab has it) and are returned as Python values: `hits = %workspace
search "pid loop"` is a list of dicts (`hits.df` a pandas DataFrame when pandas is there).

A cell's own output is trusted: JupyterLab shows its `text/markdown` and `text/html` without
its sanitizer. So nothing the user did not type in the cell (notes, answers, file text, file
names) goes out as either: tables escape every value, and markdown goes out as the
workspace's markdown MIME type, whose renderer always sanitizes, next to `text/plain`.

`%workspace research` queues a research job; `--wait` follows it by polling the job (a line per
step, a status line with the progress; printed text has its escape sequences and control
characters removed) and shows its report, the job's note, as an answer (sanitized, its
citations links) and that markdown type; an interrupt cancels the job.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import re
import time
from typing import Any

from IPython.core.magic import Magics, line_cell_magic, magics_class
from IPython.core.magic_arguments import MagicArgumentParser
from IPython.display import display
from IPython.utils.process import arg_split

from ..ansi import ANSI
from ..protocol import (
    ANSWER_MIME,
    MARKDOWN_MIME,
    RESEARCH_DEPTHS,
    RESEARCH_STEPS,
    RESULTS_MIME,
    SEARCH_MODES,
)
from .client import ApiError, Client, Events, WorkspaceError, find_server

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
STREAM_UPDATE = 0.1  # seconds between updates of a streaming answer
CHAT_DEADLINE = 900.0  # seconds: a stream always ends with chat.done or chat.error before
RESEARCH_POLL = 0.5  # seconds between two looks at a research job followed with --wait
RESEARCH_ENDED = ("done", "failed", "cancelled")
# `%workspace research ACTION [ID]`: the words that are an action, not a question, when alone
# (`list`) or followed by one more word (`show 3`); any longer question is a question
RESEARCH_ACTIONS = ("list", "show", "cancel", "rerun")


class Parsed(argparse.Namespace):
    command: str


class Parser(MagicArgumentParser):
    """IPython's parser (errors are UsageErrors, not exits), with `--help` on every level."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("add_help", True)
        super().__init__(*args, **kwargs)


def build_parser() -> Parser:
    parser = Parser(
        prog="%workspace",
        description="The workspace (notes, tasks, search, chat, pipelines) "
        "from a notebook. `%workspace COMMAND --help` for each command.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.add_parser("status", help="the workspace server, its AI sidecar and its index")
    search = sub.add_parser("search", help="search the served folder by meaning and words")
    search.add_argument("query", nargs="+", help="what to look for")
    search.add_argument("-k", type=int, default=10, help="how many results (default 10)")
    search.add_argument("--lang", help="only this language (python, c, cpp, fortran, ...)")
    search.add_argument("--path", help="only paths matching this glob (src/**, *.f90)")
    search.add_argument("--kind", help="only this kind (function, class, method, ...)")
    search.add_argument("--mode", choices=SEARCH_MODES, default="hybrid")
    ask = sub.add_parser("ask", help="a grounded answer, with citations, streamed")
    ask.add_argument("question", nargs="+")
    chat = sub.add_parser(
        "chat",
        help="(cell magic) the cell is the message; streams the "
        "reply; interrupt the kernel to stop it",
    )
    chat.add_argument("--conversation", type=int, help="continue this conversation id")
    note = sub.add_parser("note", help="notes: add | list | show").add_subparsers(
        dest="action", metavar="ACTION", parser_class=Parser
    )
    add = note.add_parser("add", help="add a note (the cell body is its text in %%workspace)")
    add.add_argument("title", nargs="+")
    listing = note.add_parser("list", help="list notes")
    listing.add_argument("-q", "--query", help="only notes matching these words")
    show = note.add_parser("show", help="show one note")
    show.add_argument("id", type=int)
    task = sub.add_parser("task", help="tasks: add | list | done").add_subparsers(
        dest="action", metavar="ACTION", parser_class=Parser
    )
    add = task.add_parser("add", help="add a task")
    add.add_argument("title", nargs="+")
    add.add_argument("--priority", choices=("low", "normal", "high", "urgent"))
    add.add_argument("--due", help="YYYY-MM-DD")
    listing = task.add_parser("list", help="list tasks")
    listing.add_argument("--status", choices=("open", "done", "resolved", "all"), default="open")
    listing.add_argument("--origin", choices=("user", "detected"))
    done = task.add_parser("done", help="mark a task done")
    done.add_argument("id", type=int)
    research = sub.add_parser(
        "research",
        help="research a question in the background: a cited, verified note "
        "(also: research list | show ID | cancel ID | rerun ID)",
        usage="%(prog)s QUESTION [--depth D] [--path GLOB] [--lang L] "
        "[--notes | --no-notes] [--standing] [--wait]\n"
        "       %(prog)s list | show ID [--wait] | cancel ID | rerun ID [--wait]",
        description="Queue a research job: the workspace plans the question, searches and "
        "reads the code around each hit, states findings with file:line citations, writes a "
        "report and checks every citation against the files; the report becomes a note. "
        "Without a language model the job runs retrieval-only (the best passages, grouped). "
        "`list` shows the jobs, `show ID` a job's steps and report, `cancel ID` stops one, "
        "`rerun ID` queues it again (updating its note). With --wait the cell follows the "
        "job and shows the report; interrupt the kernel to cancel it.",
    )
    research.add_argument(
        "question", nargs="+", metavar="QUESTION", help="the question (or list, show ID, ...)"
    )
    research.add_argument(
        "--depth", choices=RESEARCH_DEPTHS, help="how much to read (default standard)"
    )
    research.add_argument(
        "--path",
        action="append",
        metavar="GLOB",
        help="only files matching this root-relative glob (src/**); repeat for more",
    )
    research.add_argument(
        "--lang", action="append", metavar="L", help="only this language; repeat for more"
    )
    research.add_argument(
        "--notes",
        action=argparse.BooleanOptionalAction,
        help="read the workspace's notes and tasks too (default: yes)",
    )
    research.add_argument(
        "--standing", action="store_true", help="run it again when its sources change"
    )
    research.add_argument(
        "--wait", action="store_true", help="follow the job here and show its report"
    )
    run = sub.add_parser("run", help="run a pipeline from workspace.toml and stream its output")
    run.add_argument("pipeline")
    run.add_argument("--no-follow", action="store_true", help="start it and return at once")
    snapshots = sub.add_parser(
        "snapshots",
        help="unsaved work the workspace keeps (the newest snapshot of each document and tab)",
    )
    snapshots.add_argument("--path", help="only this document (root-relative, or @notes/ID)")
    index = sub.add_parser("index", help="the index: status").add_subparsers(
        dest="action", metavar="ACTION", parser_class=Parser
    )
    index.add_parser("status", help="files, chunks and state of the search index")
    return parser


@magics_class
class WorkspaceMagics(Magics):
    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self.parser = build_parser()
        self._client: Client | None = None

    @property
    def client(self) -> Client:
        if self._client is None:
            client = Client(find_server())
            client.check()  # a clear message now if it has no workspace
            self._client = client
        return self._client

    @line_cell_magic
    def workspace(self, line: str, cell: str | None = None) -> Any:
        """%workspace COMMAND [...]: the workspace from a notebook; --help for the commands."""
        try:
            args = self.parser.parse_args(arg_split(line, posix=True))
        except SystemExit:  # --help printed its text
            return None
        if args.command is None:
            self.parser.print_help()
            return None
        try:
            if getattr(args, "action", "") is None:
                raise WorkspaceError(
                    f"`%workspace {args.command}` needs an action: see "
                    f"`%workspace {args.command} --help`"
                )
            return getattr(self, f"do_{args.command}")(args, cell)
        except WorkspaceError as e:
            self._client = None if "no Jupyter server" in str(e) else self._client
            display(_error_bundle(str(e)), raw=True)
            return None

    # -- commands ------------------------------------------------------------------------------
    def do_status(self, args: Parsed, cell: str | None) -> Result:
        status = self.client.request("GET", "status")
        index = status.get("index", {})
        rows = [
            {"what": "server", "value": f"{self.client.server.url} ({self.client.server.source})"},
            {"what": "workspace", "value": f"{status['version']} on {status['root_dir']}"},
            {"what": "AI sidecar", "value": _sidecar_text(status.get("sidecar", {}))},
            {"what": "LLM", "value": status.get("llm", {}).get("model")},
            {"what": "index", "value": _index_text(index)},
        ]
        return Result(rows, "Workspace status", ["what", "value"], raw=status)

    def do_search(self, args: Parsed, cell: str | None) -> Result:
        query = " ".join(args.query)
        data = self.client.request(
            "GET",
            "search",
            params={
                "q": query,
                "k": args.k,
                "lang": args.lang,
                "path": args.path,
                "kind": args.kind,
                "mode": args.mode,
            },
        )
        hits = data["results"]
        return Result(
            hits,
            f"{len(hits)} results for “{query}”",
            ["location", "symbol", "kind", "language", "score", "snippet"],
            link=True,
        )

    def do_ask(self, args: Parsed, cell: str | None) -> Answer:
        return self._chat(" ".join(args.question), None)

    def do_chat(self, args: Parsed, cell: str | None) -> Answer | None:
        if not cell or not cell.strip():
            raise WorkspaceError(
                "%%workspace chat takes the message from the cell body: "
                "write it below the magic line"
            )
        return self._chat(cell.strip(), args.conversation)

    def do_note(self, args: Parsed, cell: str | None) -> Any:
        if args.action == "add":
            note = self.client.request(
                "POST", "notes", {"title": " ".join(args.title), "body": (cell or "").strip()}
            )
            return Result([note], f"Note {note['id']} added", ["id", "title", "updated"])
        if args.action == "list":
            notes = self.client.request("GET", "notes", params={"q": args.query})["notes"]
            return Result(notes, f"{len(notes)} notes", ["id", "title", "updated"])
        note = self.client.request("GET", f"notes/{args.id}")
        display(SafeMarkdown(f"## {note['title']}\n\n{note['body']}"))
        return Value(note)

    def do_task(self, args: Parsed, cell: str | None) -> Any:
        columns = ["id", "done", "priority", "due", "title", "location"]
        if args.action == "add":
            body = {"title": " ".join(args.title)}
            body.update({k: v for k, v in (("priority", args.priority), ("due", args.due)) if v})
            task = self.client.request("POST", "tasks", body)
            return Result([task], f"Task {task['id']} added", columns, link=True)
        if args.action == "list":
            tasks = self.client.request(
                "GET", "tasks", params={"status": args.status, "origin": args.origin}
            )["tasks"]
            return Result(tasks, f"{len(tasks)} {args.status} tasks", columns, link=True)
        task = self.client.request("PATCH", f"tasks/{args.id}", {"done": True})
        return Result([task], f"Task {task['id']} done", columns, link=True)

    def do_research(self, args: Parsed, cell: str | None) -> Any:
        words = list(args.question)
        action = words[0] if words and words[0] in RESEARCH_ACTIONS else None
        if action == "list" and len(words) == 1:
            _only_options(args, "list", ())
            jobs = self.client.request("GET", "research")["jobs"]
            return Result(
                jobs,
                f"{len(jobs)} research jobs",
                ["id", "status", "step", "progress", "depth", "question", "note"],
            )
        if action is not None and action != "list" and len(words) == 2:
            _only_options(args, action, ("wait",) if action in ("show", "rerun") else ())
            job_id = _job_id(action, words[1])
            if action == "show":
                job = self.client.request("GET", f"research/{job_id}")
                if args.wait and job["status"] not in RESEARCH_ENDED:
                    return self._follow(job)
                return self._show(job)
            if action == "cancel":
                job = self.client.request("POST", f"research/{job_id}/cancel")
                print(_job_line(job))
                return ResearchJob(job)
            job = self.client.request("POST", f"research/{job_id}/rerun")
            if args.wait:
                return self._follow(job)
            print(_queued_text(job, "queued again"))
            return ResearchJob(job)
        question = " ".join(words).strip()
        if not question:
            raise WorkspaceError("the question is empty: `%workspace research How does X reach Y?`")
        scope: dict[str, Any] = {}
        if args.path:
            scope["paths"] = args.path
        if args.lang:
            scope["languages"] = args.lang
        if args.notes is not None:
            scope["notes"] = args.notes
        body: dict[str, Any] = {"question": question, "standing": args.standing}
        if args.depth:
            body["depth"] = args.depth
        if scope:
            body["scope"] = scope
        job = self.client.request("POST", "research", body)
        if args.wait:
            return self._follow(job)
        print(_queued_text(job, "queued"))
        return ResearchJob(job)

    def do_snapshots(self, args: Parsed, cell: str | None) -> Result:
        params = {"path": args.path} if args.path else None
        snapshots = self.client.request("GET", "snapshots", params=params)["snapshots"]
        rows = [dict(row, state=_snapshot_state(row["disk"])) for row in snapshots]
        return Result(
            rows,
            f"{len(rows)} unsaved documents" if len(rows) != 1 else "1 unsaved document",
            ["id", "path", "kind", "client", "size", "created", "state"],
        )

    def do_index(self, args: Parsed, cell: str | None) -> Result:
        status = self.client.request("GET", "index")
        rows = [{"what": k, "value": v} for k, v in status.items()]
        return Result(rows, f"Index: {_index_text(status)}", ["what", "value"], raw=status)

    def do_run(self, args: Parsed, cell: str | None) -> Value:
        run = self.client.request("POST", f"pipelines/{args.pipeline}/run", {"trigger": "magic"})
        if args.no_follow or run["status"] != "running":
            return Value(run, _run_line(run))
        offset, handle = 0, display(_status_view(f"{args.pipeline}: running…"), display_id=True)
        try:
            while True:
                chunk = self.client.request(
                    "GET", f"runs/{run['id']}/output", params={"offset": offset}
                )
                if chunk["text"]:
                    print(_plain(chunk["text"]), end="", flush=True)
                offset = chunk["next"]
                if chunk["done"]:
                    break
                time.sleep(0.2)
        except KeyboardInterrupt:
            self.client.request("POST", f"runs/{run['id']}/stop")
            print("\n(interrupted: the run was stopped)")
        run = self.client.request("GET", f"runs/{run['id']}")
        run.pop("output", None)
        handle.update(_status_view(_run_line(run)))
        return Value(run, _run_line(run))

    # -- research --------------------------------------------------------------------------------
    def _follow(self, job: dict[str, Any]) -> ResearchJob:
        """Poll the job until it ends: a line per step as it starts and as it ends (with its
        detail), a status line with the progress; then its report. An interrupt cancels it."""
        client = self.client
        job_id = job["id"]
        print(f"research job {job_id}: {_plain_line(job['question'])}", flush=True)
        handle = display(_status_view(_job_line(job)), display_id=True)
        said: dict[str, str] = {}  # step name -> what was printed: "started" | "ended"
        try:
            while True:
                for line in _step_lines(job, said):
                    print(line, flush=True)
                handle.update(_status_view(_job_line(job)))
                if job["status"] in RESEARCH_ENDED:
                    break
                time.sleep(RESEARCH_POLL)
                job = client.request("GET", f"research/{job_id}")
        except ApiError as e:
            if e.status != 404:
                raise
            raise WorkspaceError(
                f"research job {job_id} was deleted while it was followed"
            ) from None
        except WorkspaceError as e:  # the server went away: the job is durable, it goes on there
            raise WorkspaceError(
                f"{e} (research job {job_id} goes on when the server is back: "
                f"`%workspace research show {job_id} --wait` follows it again)"
            ) from None
        except KeyboardInterrupt:
            try:
                job = client.request("POST", f"research/{job_id}/cancel")
                print(f"(interrupted: research job {job_id} was cancelled)", flush=True)
            except ApiError as e:  # it ended meanwhile (409): say how it ended
                job = client.request("GET", f"research/{job_id}")
                print(f"(interrupted: {e})", flush=True)
            handle.update(_status_view(_job_line(job)))
            return ResearchJob(job)
        return self._ended(job)

    def _show(self, job: dict[str, Any]) -> ResearchJob:
        print(_job_line(job))
        rows = [
            {
                "step": step["name"],
                "status": step["status"],
                "time": _duration(step.get("started"), step.get("ended")),
                "detail": _plain_line(
                    (job.get("detail") if step["status"] == "running" else None)
                    or step.get("detail")
                    or ""
                ),
            }
            for step in job.get("steps") or []
        ]
        display(Result(rows, f"Research job {job['id']}", ["step", "status", "time", "detail"]))
        return self._ended(job) if job["status"] in RESEARCH_ENDED else ResearchJob(job)

    def _ended(self, job: dict[str, Any]) -> ResearchJob:
        """What an ended job left: its error, or its report (the note as it is now)."""
        if job["status"] == "failed":
            error = _plain_line(job.get("error") or "?", 500)
            display(_error_bundle(f"research job {job['id']} failed: {error}"), raw=True)
        if job.get("sources_changed"):
            print(
                "(files the report cites have changed since: "
                f"`%workspace research rerun {job['id']}` to research it again)"
            )
        report = None
        if job.get("note_id") is not None:
            try:
                note = self.client.request("GET", f"notes/{job['note_id']}")
            except ApiError as e:
                if e.status != 404:
                    raise
                print(
                    f"(the report's note {job['note_id']} was deleted: "
                    f"`%workspace research rerun {job['id']}` writes it again)"
                )
            else:
                report = f"## {note['title']}\n\n{note['body']}"
                display(_report_view(report))
        return ResearchJob(job, report)

    # -- chat ----------------------------------------------------------------------------------
    def _chat(self, message: str, conversation: int | None) -> Answer:
        client = self.client
        handle = display(SafeMarkdown("…"), display_id=True)
        pieces: list[str] = []
        body: dict[str, Any] = {"message": message}
        if conversation is not None:
            body["conversation_id"] = conversation
        with Events(client.server) as events:
            started = client.request("POST", "chat", body)
            stream = started["stream_id"]
            sources: list[dict[str, Any]] = []
            last = 0.0
            deadline = time.monotonic() + CHAT_DEADLINE
            try:
                while True:
                    if time.monotonic() > deadline:
                        raise WorkspaceError(
                            f"no end of the answer after {CHAT_DEADLINE:.0f} s "
                            "(the conversation keeps what arrived)"
                        )
                    event = events.get(timeout=0.5)
                    if event is None or event.get("stream_id") != stream:
                        continue
                    kind = event["type"]
                    if kind == "chat.context":
                        sources = event["sources"]
                    elif kind == "chat.token":
                        pieces.append(event["text"])
                        if time.monotonic() - last > STREAM_UPDATE:
                            handle.update(SafeMarkdown("".join(pieces)))
                            last = time.monotonic()
                    elif kind in ("chat.done", "chat.error"):
                        stored = event["message"]
                        break
            except KeyboardInterrupt:
                client.request("POST", f"chat/{stream}/cancel")
                stored = {
                    "content": "".join(pieces),
                    "status": "partial",
                    "sources": sources,
                    "error": None,
                    "conversation_id": started["conversation"]["id"],
                }
        answer = Answer(stored, started["conversation"]["id"])
        handle.update(answer.view())
        return answer


# -- values and their display ----------------------------------------------------------------
class Value(dict):
    """A dict that displays as one line (or as itself) once, where it was made."""

    def __init__(self, data: dict[str, Any], line: str | None = None) -> None:
        super().__init__(data)
        self._line = line

    def _repr_pretty_(self, p: Any, cycle: bool) -> None:
        p.text(self._line or json.dumps(dict(self), indent=1, default=str))


class Result(list):
    """A list of dicts that displays as a table (file:line links open in JupyterLab)."""

    def __init__(
        self,
        rows: list[dict[str, Any]],
        title: str,
        columns: list[str],
        link: bool = False,
        raw: Any = None,
    ) -> None:
        super().__init__(rows)
        self.title = title
        self.columns = columns
        self.link = link
        self.raw = raw

    @property
    def df(self) -> Any:
        """The rows as a pandas DataFrame; pandas is optional, so say how to get it."""
        try:
            import pandas as pd
        except ImportError:
            raise ModuleNotFoundError(
                "`.df` needs pandas, which is not installed in this kernel's environment: "
                "run `%pip install pandas` (or `pip install pandas`), then try again",
                name="pandas",
            ) from None
        return pd.DataFrame(list(self))

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        rows = [dict(r, location=_location(r)) for r in self]
        bundle: dict[str, Any] = {
            "text/html": _table_html(self.title, rows, self.columns, self.link),
            "text/plain": _table_text(self.title, rows, self.columns),
        }
        if self.link:
            bundle[RESULTS_MIME] = {"title": self.title, "columns": self.columns, "rows": rows}
        return bundle


class SafeMarkdown:
    """Markdown from outside the cell, shown through the workspace's markdown renderer (which
    sanitizes it even in trusted output) and as plain text elsewhere: never as trusted
    `text/markdown`, which JupyterLab would render with its raw HTML."""

    def __init__(self, text: str) -> None:
        self.text = text

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {MARKDOWN_MIME: self.text, "text/plain": self.text}


class AnswerView(SafeMarkdown):
    """An answer as the workspace's answer MIME type, whose renderer links its `[path:line]`
    citations and lists its sources as the search table does (each opens the file at the
    line); as sanitized markdown and plain text, with the sources listed, elsewhere."""

    def __init__(self, text: str, sources: list[dict[str, Any]]) -> None:
        listed = ", ".join(_code(f"{s['path']}:{s['start_line']}") for s in sources)
        super().__init__(f"{text}\n\n**Sources:** {listed}" if sources else text)
        self.answer = text
        self.sources = sources

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {
            ANSWER_MIME: {"markdown": self.answer, "sources": self.sources},
            **super()._repr_mimebundle_(include, exclude),
        }


class Answer(str):
    """The answer's text (a str), with `.sources`, `.status`, `.conversation_id`. It was shown
    while it streamed, so it does not show itself again in the cell that made it."""

    message: dict[str, Any]
    sources: list[dict[str, Any]]
    status: str | None
    error: str | None
    conversation_id: int
    _made_in: int | None

    def __new__(cls, message: dict[str, Any], conversation_id: int) -> Answer:
        answer = super().__new__(cls, message.get("content") or "")
        answer.message = message
        answer.sources = message.get("sources") or []
        answer.status = message.get("status")
        answer.error = message.get("error")
        answer.conversation_id = conversation_id
        answer._made_in = _execution_count()
        return answer

    def view(self) -> AnswerView:
        text = str(self) or ""
        if self.message.get("mode") == "retrieval-only" and self.error:
            text = f"*{self.error}.*\n\n{text}"  # why no model answered, once
        if self.status == "partial":
            text += "\n\n*(stopped)*"
        if self.status == "error":
            text += f"\n\n**Error:** {self.error}"
        return AnswerView(text, self.sources)

    def _ipython_display_(self) -> None:
        if _execution_count() != self._made_in:
            display(self.view())


class ResearchJob(dict):
    """A research job as the API returns it, with `.report`: its note's markdown (or None).
    The cell that made it showed what it had to say, so it does not show itself again there;
    elsewhere it shows its status line and its report."""

    def __init__(self, job: dict[str, Any], report: str | None = None) -> None:
        super().__init__(job)
        self.report = report
        self._made_in = _execution_count()

    def _ipython_display_(self) -> None:
        if _execution_count() != self._made_in:
            display(_status_view(_job_line(self)))
            if self.report is not None:
                display(_report_view(self.report))


def _execution_count() -> int | None:
    from IPython import get_ipython

    shell = get_ipython()
    return getattr(shell, "execution_count", None)


def _location(row: dict[str, Any]) -> str | None:
    if "start_line" in row:
        return f"{row['path']}:{row['start_line']}"
    source = row.get("source")
    if isinstance(source, dict) and source.get("path"):
        return f"{source['path']}:{source['line']}" if source.get("line") else source["path"]
    return None


def _cell(row: dict[str, Any], column: str) -> str:
    value = row.get(column)
    if column == "snippet" and isinstance(value, str):
        value = value.strip().splitlines()[0][:120] if value.strip() else ""
    if column == "progress" and isinstance(value, int | float):
        value = _percent(value)
    if column == "question" and isinstance(value, str):
        value = _plain_line(value, 100)
    if column == "note" and value is None:
        value = row.get("note_id")
    return "" if value is None else str(value)


def _table_html(title: str, rows: list[dict[str, Any]], columns: list[str], link: bool) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for column in columns:
            text = html.escape(_cell(row, column))
            if (
                column == "location"
                and link
                and row.get("location")
                and not str(row["location"]).startswith("@")
            ):
                path = html.escape(str(row["location"]).split(":")[0], quote=True)
                text = f'<a href="lab/tree/{path}" target="_blank">{text}</a>'
            cells.append(f"<td style='text-align:left'>{text}</td>")
        body.append(f"<tr>{''.join(cells)}</tr>")
    return (
        f"<div><strong>{html.escape(title)}</strong><table><thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _table_text(title: str, rows: list[dict[str, Any]], columns: list[str]) -> str:
    lines = [title]
    for row in rows:
        lines.append("  ".join(_cell(row, c) for c in columns if _cell(row, c)))
    return "\n".join(lines)


def _error_bundle(message: str) -> dict[str, str]:
    return {
        "text/plain": f"%workspace: {message}",
        "text/html": "<div class='jp-RenderedText' data-mime-type='application/vnd.jupyter"
        f".stderr'><pre>%workspace: {html.escape(message)}</pre></div>",
    }


def _status_view(text: str) -> SafeMarkdown:
    return SafeMarkdown(_code(text))


def _code(text: str) -> str:
    """`text` as a markdown code span, its delimiter longer than any backtick run in it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def _sidecar_text(sidecar: dict[str, Any]) -> str:
    text = sidecar.get("state", "?")
    return f"{text}: {sidecar['error']}" if sidecar.get("error") else text


def _index_text(index: dict[str, Any]) -> str:
    state = index.get("state", "?")
    return (
        f"{state}, {index.get('files_indexed', 0)} of {index.get('files_total', 0)} files, "
        f"{index.get('chunks', 0)} chunks"
    )


def _snapshot_state(disk: dict[str, Any]) -> str:
    """What a snapshot is, next to the document on disk now."""
    if not disk.get("exists"):
        return "deleted on disk"
    if disk.get("same_as_disk"):
        return "same as disk"
    if disk.get("changed_since_base"):
        return "unsaved; the file changed on disk since"
    return "unsaved"


def _run_line(run: dict[str, Any]) -> str:
    duration = f" in {run['duration']:.1f} s" if run.get("duration") is not None else ""
    failures = f", {len(run['failures'])} failures" if run.get("failures") else ""
    error = f": {run['error']}" if run.get("error") else ""
    return f"run {run['id']} of {run['pipeline']}: {run['status']}{duration}{failures}{error}"


def _plain(text: str) -> str:
    return ANSI.sub("", text).replace("\r\n", "\n")


# -- research jobs ---------------------------------------------------------------------------
def _only_options(args: Parsed, action: str, allowed: tuple[str, ...]) -> None:
    """`research list` and `show ID` take none of a new question's options: say so."""
    given = [
        name
        for name in ("depth", "path", "lang", "notes", "standing", "wait")
        if name not in allowed and getattr(args, name) not in (None, False, [])
    ]
    if args.notes is False and "notes" not in allowed:
        given.append("no-notes")
    if given:
        raise WorkspaceError(
            f"`%workspace research {action}` does not take --{given[0]} (that is for a new "
            "question)"
        )


def _job_id(action: str, word: str) -> int:
    if not word.isdigit() or int(word) < 1:
        raise WorkspaceError(
            f"`%workspace research {action}` takes a job id (a number, see `%workspace "
            f"research list`), not {_plain_line(word, 40)!r}"
        )
    return int(word)


def _queued_text(job: dict[str, Any], what: str) -> str:
    return (
        f"research job {job['id']} {what} ({job.get('depth')}): follow it with "
        f"`%workspace research show {job['id']} --wait` (or in the Research panel); "
        "`%workspace research list` shows all"
    )


def _job_line(job: dict[str, Any]) -> str:
    """One line of where a job is: status, step, progress, what it does; or how it ended."""
    parts = [f"research job {job['id']}: {job['status']}"]
    status = job["status"]
    if status == "running":
        step = job.get("step")
        if step in RESEARCH_STEPS:
            parts.append(f"{RESEARCH_STEPS.index(step) + 1}/{len(RESEARCH_STEPS)} {step}")
        parts.append(_percent(job.get("progress") or 0))
        if job.get("detail"):
            parts.append(_plain_line(job["detail"], 160))
    elif status in RESEARCH_ENDED:
        took = _duration(job.get("started"), job.get("ended"))
        if took:
            parts.append(f"in {took}")
        if job.get("mode") == "retrieval":
            parts.append("retrieval-only (no language model answered)")
        tokens = (job.get("tokens_in") or 0) + (job.get("tokens_out") or 0)
        if tokens:
            cost = f", ${job['cost']:.4f}" if job.get("cost") else ""
            parts.append(f"{tokens} tokens{cost}")
        if job.get("sources") is not None:
            read, cited = len(job["sources"]), sum(1 for s in job["sources"] if s.get("cited"))
            parts.append(f"{read} file{'s' * (read != 1)} read, {cited} cited")
        if job.get("note_id") is not None:
            parts.append(f"note {job['note_id']}")
        if status == "failed" and job.get("error"):
            parts.append(_plain_line(job["error"], 200))
    return ", ".join(parts)


def _step_lines(job: dict[str, Any], said: dict[str, str]) -> list[str]:
    """The lines to print for the steps that started or ended since the last look: a step as
    it starts (the job's progress, what it does), and as it ends (its time, its last detail)."""
    lines = []
    for index, step in enumerate(job.get("steps") or [], 1):
        name, status = step["name"], step["status"]
        if status == "pending" or said.get(name) == "ended":
            continue
        where = f"[{index}/{len(RESEARCH_STEPS)}] {name}"
        if status == "running":
            if name not in said:
                detail = _plain_line(job.get("detail") or "", 160)
                lines.append(f"{where} ({_percent(job.get('progress') or 0)})" + _colon(detail))
                said[name] = "started"
            continue
        took = _duration(step.get("started"), step.get("ended"))
        detail = _plain_line(step.get("detail") or "", 160)
        lines.append(
            f"{where} {status}"
            + (f" in {took}" if took else "")
            + _colon(detail if detail != status else "")
        )
        said[name] = "ended"
    return lines


def _colon(detail: str) -> str:
    return f": {detail}" if detail else ""


def _report_view(report: str) -> AnswerView:
    """A report as an answer without a sources table: the answer renderer sanitizes it and
    makes its `[path:start-end]` citations links that open the file at those lines; the
    sanitized markdown type and plain text elsewhere."""
    return AnswerView(report, [])


def _percent(value: float) -> str:
    return f"{max(0, min(100, round(float(value) * 100)))}%"


def _duration(start: Any, end: Any) -> str:
    """`1.2 s` between two of the API's timestamps, or "" when one is missing."""
    try:
        seconds = (
            dt.datetime.fromisoformat(str(end).replace("Z", "+00:00"))
            - dt.datetime.fromisoformat(str(start).replace("Z", "+00:00"))
        ).total_seconds()
    except (TypeError, ValueError):
        return ""
    if start is None or end is None or seconds < 0:
        return ""
    return f"{seconds:.1f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _plain_line(text: str, limit: int = 300) -> str:
    """Untrusted text as one printable line: no escape sequences or control characters."""
    flat = " ".join(CONTROL.sub(" ", _plain(str(text))).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
