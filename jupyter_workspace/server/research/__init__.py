"""Research jobs: questions researched in the background, answered as cited, verified notes.

The coordinator owns a job's life (queue, checkpoints, the resulting note, `research.*` events);
the heavy work happens in the sidecar, which it asks: search (`SearchManager`), the LLM
(`Assistant`, whose background calls yield to interactive chat), and tree-sitter (the sidecar's
`POST /code/context`, for the definition around a line and its callers and callees).

- `env.py`: what every step may use (`ResearchEnv`), budgets per depth, reading a workspace file
  safely and hashing it.
- `jobs.py`: `ResearchManager`: validation, the durable queue (at most `concurrency` jobs run),
  resume after a restart at the last checkpoint, cancel, re-run, delete, standing jobs, events.
- `records.py`: the rows: a scope validated, a job read with its steps and sources, the updates
  of its life (end, fail, re-queue).
- `agent.py`: the steps, in `protocol.RESEARCH_STEPS` order: plan → gather → extract → write →
  verify; each `async (RunContext) -> dict` whose dict is the step's JSON checkpoint; a
  retrieval-only path when no LLM answers.
- `expand.py`: reading around a search hit: the enclosing definition, its callers and callees,
  the notes and tasks that mention its symbols.
- `verify.py`: every `[path:start-end]` citation checked against the file as it is now.

Prompts and the parsing of their answers live with the others in `server/assistant.py`.
"""

from .jobs import ResearchManager

__all__ = ["ResearchManager"]
