"""The steps of a research job: plan → gather → extract → write → verify.

Each step is `async (RunContext) -> dict`, the dict its JSON checkpoint; `ctx.outputs` holds the
checkpoints of the steps already done, so a resumed job starts at the first step without one.
The model is asked through `Assistant.complete(background=True)`: it waits while a chat answer
is being written and is preempted by one (asked again after); every call is counted in
`ctx.usage` and checked against the depth's budget first. With no model answering (the LLM's
state, or its first answer's error) the job runs retrieval-only: queries from the question's
own words and symbols, the best passages per sub-question, clearly labelled as such.

Everything the workspace and the model hand back is data: file text goes into notes only inside
fences (`grounding.fence`), and every citation goes through the verifier.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import sqlite3
from collections.abc import Awaitable, Callable
from typing import Any

from ...protocol import NOTES_PREFIX
from .. import grounding
from ..assistant import (
    RESEARCH_EXTRACT_PROMPT,
    RESEARCH_EXTRACT_RETRY,
    RESEARCH_PLAN_PROMPT,
    RESEARCH_PLAN_RETRY,
    RESEARCH_WRITE_PROMPT,
    Message,
    Preempted,
    parse_findings,
    parse_plan,
    parse_report,
)
from ..errors import BadGateway, BadRequest, Unavailable, WorkspaceError
from .env import (
    Budget,
    BudgetSpent,
    ResearchEnv,
    RunContext,
    Source,
    content_hash,
    lines_of,
    read_source,
)
from .expand import expand
from .verify import verify_report

log = logging.getLogger(__name__)

# the model's failures after which a job goes on without it (as chat answers with passages)
NO_MODEL_KINDS = ("unreachable", "auth", "not_found", "timeout", "rate_limit")
NO_MODEL_STATES = ("unreachable", "no_model")
BATCH_CHARS = 6000  # source text per extract request
SOURCE_CHARS = 8000  # text kept of one source
PASSAGES_PER_SUB_QUESTION = 3
MAX_SCOPE_GLOBS = 8
MAX_QUERY_CHARS = 1000
NOTES_GLOB = "[@]notes/*"  # notes are indexed as `@notes/<id>` (`[@]`: a glob, not a prefix)


class NoModel(Exception):
    """No model answers this job: why, in one line for the report."""


# -- the model -------------------------------------------------------------------------------
async def ask(ctx: RunContext, messages: list[Message]) -> str:
    """One answer of the model for this job, in the background (chat goes first: a preempted
    request is asked again once chat is done). Raises BudgetSpent before a call the budget no
    longer allows, NoModel when no model answers, BadGateway for other model failures;
    `Unavailable` (no sidecar) goes through: the job manager tries the step again once the
    sidecar is back."""
    while True:
        ctx.check_budget()
        try:
            return await ctx.env.assistant.complete(messages, ctx.usage, background=True)
        except Preempted:
            log.info("a chat request went first; asking again after it")
            continue
        except BadGateway as e:
            kind = e.extra.get("kind")
            if kind == "sidecar":  # it stopped while answering: the step runs again later
                raise Unavailable(e.message) from None
            if kind in NO_MODEL_KINDS:
                config = ctx.env.assistant.config
                model, api_base = config.resolve(None, None)
                raise NoModel(grounding.no_model_reason(kind, e.message, model, api_base)) from None
            raise


# -- plan ------------------------------------------------------------------------------------
async def plan(ctx: RunContext) -> dict[str, Any]:
    question = ctx.job["question"]
    budget = ctx.budget
    state = ctx.env.llm_state()
    if state in NO_MODEL_STATES:
        reason = f"the language model is {'not configured' if state == 'no_model' else state}"
        return _retrieval_plan(question, budget, "retrieval", reason)
    ctx.progress(0.1, "asking the model for sub-questions")
    messages: list[Message] = [
        {
            "role": "system",
            "content": RESEARCH_PLAN_PROMPT.format(
                sub_questions=budget.sub_questions, queries=budget.queries
            ),
        },
        {"role": "user", "content": f"Question: {question}\n{_scope_line(ctx.job)}"},
    ]
    try:
        answer = await ask(ctx, messages)
        sub_questions = parse_plan(answer, budget.sub_questions, budget.queries)
        if sub_questions is None:
            ctx.progress(0.5, "the model's plan was not JSON: asking again")
            messages += [
                {"role": "assistant", "content": answer[:4000]},
                {"role": "user", "content": RESEARCH_PLAN_RETRY},
            ]
            answer = await ask(ctx, messages)
            sub_questions = parse_plan(answer, budget.sub_questions, budget.queries)
    except NoModel as e:
        return _retrieval_plan(question, budget, "retrieval", str(e))
    except BudgetSpent as e:
        return _retrieval_plan(question, budget, "llm", str(e))
    if sub_questions is None:
        return _retrieval_plan(
            question, budget, "llm", "the model's plan was not JSON twice: planned from the words"
        )
    # the question itself is always searched
    _add_query(sub_questions[0]["queries"], question[:MAX_QUERY_CHARS], front=True)
    _trim_queries(sub_questions, budget.queries)
    return {"mode": "llm", "sub_questions": sub_questions}


def _scope_line(job: dict[str, Any]) -> str:
    scope = job.get("scope") or {}
    parts = []
    if scope.get("paths"):
        parts.append("files matching " + ", ".join(scope["paths"]))
    if scope.get("languages"):
        parts.append("languages " + ", ".join(scope["languages"]))
    return f"Scope: {'; '.join(parts)}" if parts else "Scope: the whole workspace"


_CLAUSE = re.compile(
    r"[?;\n]+\s*|,?\s+and\s+(?=(?:how|where|what|which|who|why|when|whether|is|are|does|do|"
    r"can|should)\b)|,\s+(?=(?:how|where|what|which|who|why|when|whether)\b)",
    re.IGNORECASE,
)
# identifiers a question names: `CFE_SB_Send`, `foo.bar`, `ns::f`, `camelCase`, `x2`
_SYMBOL = re.compile(r"[A-Za-z_][\w]*(?:(?:\.|::|->)[A-Za-z_]\w*)+|[A-Za-z_]\w*")


def _symbols(text: str) -> list[str]:
    found = []
    for word in _SYMBOL.findall(text):
        looks_like_code = (
            "_" in word
            or any(sep in word for sep in (".", "::", "->"))
            or re.search(r"[a-z][A-Z]", word) is not None
            or (re.search(r"\d", word) is not None and re.search(r"[A-Za-z]", word) is not None)
            or (word.isupper() and len(word) > 2)
        )
        if looks_like_code and word not in found:
            found.append(word)
    return found


def _add_query(queries: list[str], query: str, front: bool = False) -> None:
    query = query.strip()
    if query and query not in queries:
        if front:
            queries.insert(0, query)
        else:
            queries.append(query)


def _trim_queries(sub_questions: list[dict[str, Any]], limit: int) -> None:
    """At most `limit` queries in all, taken round-robin so each sub-question keeps some."""
    kept = [0] * len(sub_questions)
    left = limit
    depth = 0
    while left > 0 and any(depth < len(s["queries"]) for s in sub_questions):
        for i, sub in enumerate(sub_questions):
            if left > 0 and depth < len(sub["queries"]):
                kept[i] += 1
                left -= 1
        depth += 1
    for i, sub in enumerate(sub_questions):
        sub["queries"] = sub["queries"][: kept[i]]


def _retrieval_plan(question: str, budget: Budget, mode: str, reason: str) -> dict[str, Any]:
    """Sub-questions from the question's clauses, queries from its words and symbols: the
    question itself first, then the symbols it names, then each clause and its key words."""
    clauses = [c.strip(" ,.") for c in _CLAUSE.split(question) if c and c.strip(" ,.")]
    clauses = [c for c in clauses if grounding.query_terms(c)] or [question.strip()]
    if len(clauses) > budget.sub_questions:
        clauses = clauses[: budget.sub_questions - 1] + [
            " ".join(clauses[budget.sub_questions - 1 :])
        ]
    sub_questions: list[dict[str, Any]] = [{"question": c, "queries": []} for c in clauses]
    first = sub_questions[0]["queries"]
    _add_query(first, question[:MAX_QUERY_CHARS])
    for sub in sub_questions:
        for symbol in _symbols(sub["question"]):
            _add_query(sub["queries"], symbol)
        if len(sub_questions) > 1:
            _add_query(sub["queries"], sub["question"][:MAX_QUERY_CHARS])
        words = [
            w
            for w in re.findall(r"[A-Za-z_][\w.:]*", sub["question"])
            if grounding.query_terms(w) and w.lower() not in grounding.STOPWORDS
        ]
        if len(words) > 1:
            _add_query(sub["queries"], " ".join(dict.fromkeys(words)))
    _trim_queries(sub_questions, budget.queries)
    return {"mode": mode, "sub_questions": sub_questions, "reason": reason}


def _queries(ctx: RunContext) -> list[tuple[int, str]]:
    """(sub-question index, query) of the plan, in order, without repeats."""
    seen: set[str] = set()
    pairs = []
    for i, sub in enumerate(ctx.outputs.get("plan", {}).get("sub_questions", [])):
        for query in sub.get("queries", []):
            if query not in seen:
                seen.add(query)
                pairs.append((i, query))
    if not pairs:
        pairs.append((0, ctx.job["question"][:MAX_QUERY_CHARS]))
    return pairs


# -- gather ----------------------------------------------------------------------------------
def _key(item: dict[str, Any]) -> tuple[str, int, int]:
    return (str(item.get("path")), int(item.get("start_line") or 0), int(item.get("end_line") or 0))


async def gather(ctx: RunContext) -> dict[str, Any]:
    env, budget = ctx.env, ctx.budget
    scope = ctx.job.get("scope") or {}
    globs: list[str | None] = list(scope.get("paths") or [])[:MAX_SCOPE_GLOBS] or [None]
    languages: list[str | None] = list(scope.get("languages") or []) or [None]
    with_notes = bool(scope.get("notes"))
    if with_notes and globs != [None]:
        globs.append(NOTES_GLOB)  # the notes too, whatever the file globs
    queries = _queries(ctx)
    # research reports (this job's and others') are never sources: a report would cite what
    # another model wrote instead of the code and notes it read
    reports = await env.store.run(_report_notes)
    # the hits of each query, best first. The question's own search (the plan's first query)
    # is the best single one (bench/results/research.md: one search of the question read more
    # labelled places than the plan's queries read round-robin): it gets half the budget.
    first_k = max(budget.hits_per_query, budget.max_sources // 2)
    per_query: list[list[tuple[str, dict[str, Any]]]] = []
    for n, (_, query) in enumerate(queries):
        ctx.progress(0.5 * n / len(queries), f"searching: {query[:80]}")
        k = first_k if n == 0 else budget.hits_per_query
        found: list[dict[str, Any]] = []
        for glob in globs:
            for language in languages:
                request: dict[str, Any] = {"q": query[:MAX_QUERY_CHARS], "k": k, "mode": "hybrid"}
                if glob:
                    request["path"] = glob
                if language:
                    request["language"] = language
                try:
                    found += await env.search.raw(request)
                except BadRequest as e:
                    log.info("research search %r refused: %s", query[:80], e.message)
        hits = [
            h
            for h in found
            if (with_notes or not str(h.get("path", "")).startswith(NOTES_PREFIX))
            and h.get("path") not in reports
        ]
        if len(globs) * len(languages) > 1:
            hits.sort(key=lambda h: -float(h.get("score") or 0))
        per_query.append([(query, h) for h in hits[:k]])

    # the question's hits first, then the other queries' round-robin, each its best first
    order: list[tuple[str, dict[str, Any]]] = list(per_query[0]) if per_query else []
    for depth in range(budget.hits_per_query):
        order += [hits[depth] for hits in per_query[1:] if depth < len(hits)]
    expand_budget = budget if env.expansion else dataclasses.replace(budget, callers=0, callees=0)
    files: dict[str, tuple[str, str] | None] = {}
    sources: list[Source] = []
    taken: set[tuple[str, int, int]] = set()
    seen: set[Any] = set()  # shared with expand, which may remember what it read

    async def take(item: dict[str, Any], why: str, query: str) -> None:
        key = _key(item)
        if key not in taken and item.get("path") not in reports:
            taken.add(key)
            seen.add(key)
            await _read(env, files, str(item.get("path")))
            sources.append(_source(files, item, why, query))

    # 1. the hits, up to two thirds of the budget: expansion must not crowd out the later
    # hits (it did: callers of the first hits filled the budget before the rest were read)
    hit_share = max(1, (2 * budget.max_sources) // 3)
    read = 0
    while read < len(order) and len(sources) < hit_share:
        query, hit = order[read]
        ctx.progress(0.5 + 0.3 * read / max(len(order), 1), f"reading {hit.get('path')}")
        await take(hit, "hit", query)
        read += 1
    # 2. around each hit read, best first: its definition, callers, callees, notes, tasks
    for n, (query, hit) in enumerate(order[:read]):
        if len(sources) >= budget.max_sources:
            break
        ctx.progress(0.8 + 0.15 * n / max(read, 1), f"reading around {hit.get('path')}")
        try:
            around = await expand(env, hit, expand_budget, seen)
        except Exception:  # expansion adds sources; a job never fails for it
            log.exception("research: reading around %s failed", hit.get("path"))
            around = []
        for item in around:
            if len(sources) >= budget.max_sources:
                break
            await take(dict(item), str(item.get("why") or "definition"), query)
    # 3. what is left of the budget: the hits not read yet
    for query, hit in order[read:]:
        if len(sources) >= budget.max_sources:
            break
        await take(hit, "hit", query)
    ctx.progress(1.0, f"{len(sources)} passages read")
    return {"sources": sources, "queries": [q for _, q in queries]}


def _report_notes(conn: sqlite3.Connection) -> set[str]:
    rows = conn.execute("SELECT note_id FROM research_jobs WHERE note_id IS NOT NULL")
    return {f"{NOTES_PREFIX}{row[0]}" for row in rows}


async def _read(env: ResearchEnv, files: dict[str, tuple[str, str] | None], path: str) -> None:
    """The text and content hash of a file or note, once per job: a note's hash is its body's,
    as the manager's `sources_changed` and the verifier take it."""
    if path in files:
        return
    if path.startswith(NOTES_PREFIX):
        try:
            body = (await env.notes.get(int(path[len(NOTES_PREFIX) :])))["body"]
            files[path] = (body, content_hash(body.encode("utf-8")))
        except (ValueError, WorkspaceError):
            files[path] = None
    else:
        files[path] = await asyncio.to_thread(read_source, env, path)


def _source(
    files: dict[str, tuple[str, str] | None],
    item: dict[str, Any],
    why: str,
    query: str,
) -> Source:
    """A passage as read now (`_read` first): the file's lines (a hit's text is its chunk,
    which may leave lines out) and the whole file's hash; an unreadable file's text as found."""
    path = str(item.get("path"))
    read = files.get(path)
    start = int(item.get("start_line") or 1)
    end = int(item.get("end_line") or start)
    # a notebook cell's lines count from the cell's start: its text is the hit's, not the
    # file's (JSON) lines
    in_cell = item.get("cell") is not None
    text = (
        lines_of(read[0], start, end)
        if read is not None and not in_cell
        else str(item.get("text") or "")
    )
    return Source(
        path=path,
        start_line=start,
        end_line=end,
        symbol=item.get("symbol"),
        kind=item.get("kind"),
        language=item.get("language"),
        text=text[:SOURCE_CHARS],
        why=why,
        query=query if why == "hit" else str(item.get("query") or query),
        hash=read[1] if read is not None else None,
    )


# -- extract ---------------------------------------------------------------------------------
def _numbered(source: dict[str, Any], limit: int) -> str:
    lines: list[str] = []
    size = 0
    for n, line in enumerate(str(source.get("text") or "").split("\n"), source["start_line"]):
        size += len(line) + 8
        if size > limit and lines:
            break
        lines.append(f"{n:>5}| {line}")
    return "\n".join(lines)


def _batches(sources: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    batches: list[list[dict[str, Any]]] = [[]]
    size = 0
    for source in sources:
        length = len(str(source.get("text") or "")) + 100
        if batches[-1] and size + length > BATCH_CHARS:
            batches.append([])
            size = 0
        batches[-1].append(source)
        size += length
    return [b for b in batches if b]


def _sub_question_lines(ctx: RunContext) -> str:
    subs = ctx.outputs.get("plan", {}).get("sub_questions") or [{"question": ctx.job["question"]}]
    return "\n".join(f"{i}. {s['question']}" for i, s in enumerate(subs, 1))


def _passages_message(batch: list[dict[str, Any]]) -> str:
    parts = []
    for i, source in enumerate(batch, 1):
        what = f" ({source.get('kind')} {source.get('symbol')})" if source.get("symbol") else ""
        parts.append(
            f"[{i}] {source['path']}:{source['start_line']}-{source['end_line']}{what}\n"
            + grounding.fence(_numbered(source, BATCH_CHARS), source.get("language"))
        )
    return "\n\n".join(parts)


async def extract(ctx: RunContext) -> dict[str, Any]:
    if ctx.outputs.get("plan", {}).get("mode") != "llm":
        return {"findings": [], "skipped": "retrieval-only: no model to state findings"}
    sources = ctx.outputs.get("gather", {}).get("sources", [])
    subs = ctx.outputs.get("plan", {}).get("sub_questions") or [{}]
    batches = _batches(sources)
    findings: list[dict[str, Any]] = []
    failed: list[int] = []
    result: dict[str, Any] = {"findings": findings, "batches": len(batches)}
    for n, batch in enumerate(batches):
        ctx.progress(n / len(batches), f"reading passages {n + 1} of {len(batches)} with the model")
        messages: list[Message] = [
            {"role": "system", "content": RESEARCH_EXTRACT_PROMPT},
            {
                "role": "user",
                "content": f"Question: {ctx.job['question']}\nSub-questions:\n"
                f"{_sub_question_lines(ctx)}\n\nPassages:\n\n{_passages_message(batch)}",
            },
        ]
        try:
            answer = await ask(ctx, messages)
            found = parse_findings(answer, len(subs))
            if found is None:
                messages += [
                    {"role": "assistant", "content": answer[:4000]},
                    {"role": "user", "content": RESEARCH_EXTRACT_RETRY},
                ]
                found = parse_findings(await ask(ctx, messages), len(subs))
        except BudgetSpent as e:
            result["budget"] = f"{e} after {n} of {len(batches)} batches of passages"
            break
        except (NoModel, BadGateway) as e:
            result["stopped"] = f"the model stopped answering: {e}"
            break
        if found is None:
            failed.append(n)
        else:
            findings += found
    if failed:
        result["unparsed_batches"] = failed
    ctx.progress(1.0, f"{len(findings)} findings")
    return result


# -- write -----------------------------------------------------------------------------------
def _cite(c: dict[str, Any]) -> str:
    if c["start_line"] == c["end_line"]:
        return f"[{c['path']}:{c['start_line']}]"
    return f"[{c['path']}:{c['start_line']}-{c['end_line']}]"


def _findings_message(ctx: RunContext, findings: list[dict[str, Any]]) -> str:
    lines = [f"Question: {ctx.job['question']}", "Sub-questions:", _sub_question_lines(ctx), ""]
    lines.append("Findings (sub-question number, claim, citations):")
    for f in findings:
        cites = " ".join(_cite(c) for c in f["citations"])
        lines.append(f"- ({f.get('sub_question', 1)}) {f['claim']} {cites}")
    return "\n".join(lines)


def _sources_read(ctx: RunContext) -> str:
    """The list of every passage read, as code spans (not citations: only findings cite)."""
    lines = ["## Sources read", ""]
    for s in ctx.outputs.get("gather", {}).get("sources", []):
        what = f" {s.get('kind')} {s.get('symbol')}" if s.get("symbol") else ""
        where = f"{s['path']}:{s['start_line']}-{s['end_line']}".replace("`", "'")
        lines.append(f"- `{where}` ({s.get('why', 'hit')}{what})")
    if len(lines) == 2:
        lines.append("(none: the search found nothing in scope)")
    return "\n".join(lines)


def _caveats(ctx: RunContext) -> list[str]:
    notes = []
    extracted = ctx.outputs.get("extract", {})
    for key in ("budget", "stopped"):
        if extracted.get(key):
            notes.append(
                f"> **Note:** {extracted[key]}; the report uses what was found until then."
            )
    if extracted.get("unparsed_batches"):
        notes.append(
            f"> **Note:** the model's answer for {len(extracted['unparsed_batches'])} batch(es) "
            "of passages was not JSON; those passages gave no findings."
        )
    return notes


async def write(ctx: RunContext) -> dict[str, Any]:
    question = ctx.job["question"]
    fallback_title = f"Research: {' '.join(question.split())[:80]}"
    planned = ctx.outputs.get("plan", {})
    findings = ctx.outputs.get("extract", {}).get("findings", [])
    if planned.get("mode") != "llm":
        return _retrieval_report(ctx, planned.get("reason") or "no model answered")
    if not findings:
        reason = "no findings with citations were stated from the passages read"
        return _retrieval_report(ctx, reason, labelled_reason=True)
    ctx.progress(0.2, "writing the report with the model")
    messages: list[Message] = [
        {"role": "system", "content": RESEARCH_WRITE_PROMPT},
        {"role": "user", "content": _findings_message(ctx, findings)},
    ]
    try:
        title, body = parse_report(await ask(ctx, messages), fallback_title)
        caveat = ""
    except BudgetSpent as e:
        title, body = fallback_title, _findings_report(findings)
        caveat = f"> **Budget spent:** {e}; this report lists the findings as they were stated."
    except (NoModel, BadGateway) as e:
        title, body = fallback_title, _findings_report(findings)
        caveat = f"> **Note:** the model did not write the report ({e}); the findings as stated."
    if not body.strip():
        body = _findings_report(findings)
    parts = [*_caveats(ctx), caveat, body.strip(), _sources_read(ctx)]
    return {"title": title, "markdown": "\n\n".join(p for p in parts if p) + "\n"}


def _findings_report(findings: list[dict[str, Any]]) -> str:
    lines = ["## Findings", ""]
    for f in findings:
        lines.append(f"- {f['claim']} " + " ".join(_cite(c) for c in f["citations"]))
    return "\n".join(lines)


def _retrieval_report(
    ctx: RunContext, reason: str, labelled_reason: bool = False
) -> dict[str, Any]:
    """The best passages per sub-question, each cited and shown: what any model could have
    cited, for the user to read (and to re-run with a model later)."""
    question = ctx.job["question"]
    planned = ctx.outputs.get("plan", {})
    subs = planned.get("sub_questions") or [{"question": question, "queries": []}]
    sources = ctx.outputs.get("gather", {}).get("sources", [])
    query_of = {q: i for i, s in enumerate(subs) for q in s.get("queries", [])}
    label = (
        f"**Retrieval-only report** ({reason}: the passages that best match each part of the "
        "question)."
        if labelled_reason
        else f"**Retrieval-only report** (no language model answered: {reason}; re-run with "
        "an LLM later)."
    )
    lines = [
        label,
        "",
        *_caveats(ctx),
    ]
    findings: list[dict[str, Any]] = []
    shown: set[tuple[str, int, int]] = set()
    for i, sub in enumerate(subs):
        terms = grounding.query_terms(sub["question"] + " " + question)
        lines += ["", f"## {i + 1}. {_one_line(sub['question'])}", ""]
        mine = [s for s in sources if query_of.get(s.get("query", ""), 0) == i]
        mine.sort(key=lambda s: s.get("why") != "hit")
        count = 0
        for source in mine:
            if count >= PASSAGES_PER_SUB_QUESTION:
                break
            start, end, text = grounding.passage(dict(source), terms)
            quote = next((line.strip() for line in text.split("\n") if line.strip()), "")
            if not quote or (source["path"], start, end) in shown:
                continue
            shown.add((source["path"], start, end))
            count += 1
            citation = {"path": source["path"], "start_line": start, "end_line": end}
            what = f" ({source.get('kind')} {source.get('symbol')})" if source.get("symbol") else ""
            lines += [
                f"- {_cite(citation)}{what}",
                "",
                grounding.fence(text, source.get("language")),
                "",
            ]
            findings.append(
                {
                    "claim": "passage",
                    "sub_question": i + 1,
                    "citations": [{**citation, "quote": quote}],
                }
            )
        if not count:
            lines.append("No passage in scope matched this part of the question.")
    lines += ["", _sources_read(ctx)]
    title = f"Research (retrieval-only): {' '.join(question.split())[:80]}"
    return {"title": title, "markdown": "\n".join(lines) + "\n", "findings": findings}


def _one_line(text: str) -> str:
    return " ".join(text.split())[:200]


# -- verify ----------------------------------------------------------------------------------
async def verify(ctx: RunContext) -> dict[str, Any]:
    written = ctx.outputs.get("write", {})
    markdown = written.get("markdown", "")
    findings = written.get("findings") or ctx.outputs.get("extract", {}).get("findings", [])
    ctx.progress(0.1, "checking every citation against the files")
    # reads files and the notes database: off the event loop
    checked = await asyncio.to_thread(verify_report, ctx.env, markdown, findings)
    cited = {s["path"]: s.get("hash") for s in checked.get("sources", []) if s.get("cited", True)}
    sources = [{"path": path, "hash": digest, "cited": True} for path, digest in cited.items()]
    for s in ctx.outputs.get("gather", {}).get("sources", []):
        if s["path"] not in cited and all(x["path"] != s["path"] for x in sources):
            sources.append({"path": s["path"], "hash": s.get("hash"), "cited": False})
    ctx.progress(1.0, "citations checked")
    return {
        "title": written.get("title") or f"Research: {ctx.job['question'][:80]}",
        "markdown": checked["markdown"],
        "sources": sources,
        "stats": checked["stats"],
    }


STEPS: dict[str, Callable[[RunContext], Awaitable[dict[str, Any]]]] = {
    "plan": plan,
    "gather": gather,
    "extract": extract,
    "write": write,
    "verify": verify,
}
