"""What a research step may use, and the budgets each depth allows."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from ..errors import BadRequest
from ..paths import confine

if TYPE_CHECKING:
    from ..assistant import Assistant
    from ..ignore import IgnoreRules
    from ..notes import NotesManager
    from ..search import SearchManager
    from ..store import Store
    from ..supervisor import Supervisor

# Files larger than this are not read whole by a job (their hits still are, by lines).
MAX_READ_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Budget:
    """How much one job of a depth may do. `callers`/`callees`: per definition read."""

    sub_questions: int
    queries: int  # search queries in all
    hits_per_query: int
    max_sources: int  # passages read (hits and what expansion adds)
    callers: int
    callees: int
    max_tokens: int  # prompt + completion tokens in all, counted from litellm's usage
    max_steps: int  # LLM calls in all


BUDGETS: dict[str, Budget] = {
    "quick": Budget(2, 3, 4, 10, 0, 0, 16_000, 6),
    "standard": Budget(4, 6, 5, 24, 2, 2, 48_000, 16),
    "deep": Budget(6, 10, 6, 48, 4, 4, 120_000, 32),
}


class Source(TypedDict, total=False):
    """A passage a job read: what gather checkpoints and extract shows the model."""

    path: str  # root-relative, or `@notes/<id>`
    start_line: int  # 1-based, inclusive
    end_line: int
    symbol: str | None
    kind: str | None
    language: str | None
    text: str  # the lines start_line..end_line as they were read
    why: str  # hit | definition | caller | callee | note | task
    query: str  # the search query (or the symbol) that led to it
    hash: str | None  # content_hash of the whole file when read


@dataclass
class ResearchEnv:
    root_dir: Path
    rules: IgnoreRules
    store: Store
    search: SearchManager
    supervisor: Supervisor
    assistant: Assistant
    notes: NotesManager
    # the LLM's state as the coordinator's probe last found it (protocol.LLM_STATES): a job
    # whose LLM is "unreachable" or "no_model" runs retrieval-only without trying it
    llm_state: Callable[[], str] = lambda: "unknown"
    # read callers and callees around each hit (WorkspaceApp.research_expansion; off: only the
    # enclosing definition, as the bench's baseline)
    expansion: bool = True


@dataclass
class Usage:
    """What a job spent on the model (litellm's usage, as the sidecar reports it)."""

    tokens_in: int = 0
    tokens_out: int = 0
    cost: float | None = None  # None: the provider's price is unknown (a local model)
    llm_calls: int = 0

    def add(self, tokens_in: int, tokens_out: int, cost: float | None) -> None:
        self.tokens_in += tokens_in
        self.tokens_out += tokens_out
        self.llm_calls += 1
        if cost is not None:
            self.cost = (self.cost or 0.0) + cost


class BudgetSpent(Exception):
    """A job reached its depth's token or step budget: the steps after it work with what
    was gathered (the report says so)."""


@dataclass
class RunContext:
    """One run of one job, as each step sees it."""

    env: ResearchEnv
    job: dict[str, Any]  # id, question, depth, scope {paths: [...], languages: [...], notes}
    budget: Budget
    # the checkpoints of the steps already done in this run, by step name
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    usage: Usage = field(default_factory=Usage)
    # told (fraction of this step done 0..1, one line for the panel); the manager publishes
    progress: Callable[[float, str], None] = lambda fraction, detail: None

    def check_budget(self) -> None:
        """Raise BudgetSpent before an LLM call the budget no longer allows."""
        spent = self.usage.tokens_in + self.usage.tokens_out
        if spent >= self.budget.max_tokens or self.usage.llm_calls >= self.budget.max_steps:
            raise BudgetSpent(
                f"the {self.job['depth']} budget is spent ({spent} tokens, "
                f"{self.usage.llm_calls} model calls)"
            )


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_source(env: ResearchEnv, path: str) -> tuple[str, str] | None:
    """(text, content_hash) of a workspace file a job may read, or None: outside the root
    (`..`, absolute, a symlink out), ignored (hidden, secrets, the state folder), missing,
    too large, binary or not UTF-8. Notes (`@notes/<id>`) are read through NotesManager."""
    try:
        rel = confine(env.root_dir, path)
    except BadRequest:
        return None
    if env.rules.ignored(rel):
        return None
    target = env.root_dir / rel
    try:
        if not target.is_file() or target.stat().st_size > MAX_READ_BYTES:
            return None
        data = target.read_bytes()
    except OSError:
        return None
    if b"\x00" in data[:8192]:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return text, content_hash(data)


def lines_of(text: str, start: int, end: int) -> str:
    """Lines start..end (1-based, inclusive) of a text, clipped to it."""
    lines = text.splitlines()
    return "\n".join(lines[max(start, 1) - 1 : max(end, 0)])


def job_summary(job: dict[str, Any]) -> str:
    return f"research job {job['id']}: {job['question'][:80]}"
