"""Research jobs as rows: a job's scope validated, a job read with its steps and sources, and the
updates of its life (migration 10's research_jobs, research_steps, research_sources)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

from ... import protocol
from .. import fields
from ..errors import BadRequest, NotFound

STEPS = protocol.RESEARCH_STEPS
MAX_SCOPE_PATHS, MAX_GLOB_CHARS = 20, 500
_SCOPE_FIELDS = {"paths", "languages", "notes"}


# -- validation ---------------------------------------------------------------------------------
def validate_scope(value: Any, known_languages: Iterable[str]) -> dict[str, Any]:
    """A job's scope: root-relative path globs, language names, whether notes count."""
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise BadRequest("'scope' must be an object with paths, languages and notes")
    fields.reject_unknown(value, _SCOPE_FIELDS, "research scope")
    paths = value.get("paths", [])
    if not isinstance(paths, list):
        raise BadRequest("'scope.paths' must be a list of root-relative globs")
    if len(paths) > MAX_SCOPE_PATHS:
        raise BadRequest(f"'scope.paths' has {len(paths)} globs; at most {MAX_SCOPE_PATHS}")
    globs: list[str] = []
    for raw in paths:
        glob = fields.text(raw, "scope.paths[]", max_chars=MAX_GLOB_CHARS, strip=True)
        if not glob:
            raise BadRequest("'scope.paths' must not contain an empty glob")
        posix = glob.replace("\\", "/")
        if posix.startswith("/") or (len(posix) > 1 and posix[1] == ":") or posix.startswith("~"):
            raise BadRequest(f"scope path {glob!r} must be relative to the served folder")
        if ".." in posix.split("/"):
            raise BadRequest(f"scope path {glob!r} must not leave the served folder ('..')")
        if any(ord(c) < 32 for c in glob):
            raise BadRequest(f"scope path {glob!r} must not contain control characters")
        globs.append(posix.removeprefix("./"))
    languages = value.get("languages", [])
    if not isinstance(languages, list):
        raise BadRequest("'scope.languages' must be a list of language names")
    known = set(known_languages)
    names: list[str] = []
    for raw in languages:
        name = fields.text(raw, "scope.languages[]", max_chars=64, strip=True).lower()
        if name not in known:
            raise BadRequest(
                f"unknown language {name[:64]!r} in 'scope.languages'; known: "
                f"{', '.join(sorted(known))}"
            )
        if name not in names:
            names.append(name)
    notes = fields.boolean(value.get("notes", True), "scope.notes")
    return {"paths": globs, "languages": names, "notes": notes}


# -- rows -----------------------------------------------------------------------------------------
_COLUMNS = (
    "id",
    "question",
    "depth",
    "status",
    "mode",
    "step",
    "progress",
    "note_id",
    "error",
    "tokens_in",
    "tokens_out",
    "cost",
    "runs",
    "created",
    "updated",
    "started",
    "ended",
)


def job_of_row(row: sqlite3.Row) -> dict[str, Any]:
    job = {key: row[key] for key in _COLUMNS}
    try:
        job["scope"] = json.loads(row["scope"] or "{}")
    except ValueError:
        job["scope"] = {}
    job["standing"] = bool(row["standing"])
    job["detail"] = None
    job["sources_changed"] = False
    return job


def load(conn: sqlite3.Connection, job_id: int, with_sources: bool) -> dict[str, Any]:
    row = conn.execute("SELECT * FROM research_jobs WHERE id = ?", (job_id,)).fetchone()
    if row is None:
        raise NotFound(f"unknown research job id: {job_id}")
    job = job_of_row(row)
    rows = {
        r["name"]: r
        for r in conn.execute(
            "SELECT name, status, detail, started, ended FROM research_steps WHERE job_id = ?",
            (job_id,),
        )
    }
    job["steps"] = [
        {
            "name": name,
            "status": rows[name]["status"] if name in rows else "pending",
            "detail": rows[name]["detail"] if name in rows else None,
            "started": rows[name]["started"] if name in rows else None,
            "ended": rows[name]["ended"] if name in rows else None,
        }
        for name in STEPS
    ]
    current = rows.get(job["step"]) if job["step"] else None
    job["detail"] = current["detail"] if current is not None else None
    if job["status"] == "failed":
        job["detail"] = job["error"]
    if with_sources:
        job["sources"] = [
            {"path": r[0], "hash": r[1], "cited": bool(r[2])}
            for r in conn.execute(
                "SELECT path, hash, cited FROM research_sources WHERE job_id = ? "
                "ORDER BY cited DESC, path",
                (job_id,),
            )
        ]
    return job


def checkpoints(
    conn: sqlite3.Connection, job_id: int
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    job = load(conn, job_id, False)
    outputs: dict[str, dict[str, Any]] = {}
    for name, output in conn.execute(
        "SELECT name, output FROM research_steps WHERE job_id = ? AND status = 'done'",
        (job_id,),
    ):
        try:
            outputs[name] = json.loads(output)
        except (TypeError, ValueError):
            continue  # an unreadable checkpoint: the step runs again
    # a later step's checkpoint without an earlier one's is not a resume point
    kept: dict[str, dict[str, Any]] = {}
    for name in STEPS:
        if name not in outputs:
            break
        kept[name] = outputs[name]
    return job, kept


def still_running(job_id: int) -> Callable[[sqlite3.Connection], bool]:
    def read(conn: sqlite3.Connection) -> bool:
        return bool(
            conn.execute(
                "SELECT 1 FROM research_jobs WHERE id = ? AND status = 'running'", (job_id,)
            ).fetchone()
        )

    return read


def end(
    conn: sqlite3.Connection,
    job_id: int,
    status: str,
    error: str | None,
    only_running: bool = False,
) -> None:
    stamp = fields.now()
    conn.execute(
        "UPDATE research_steps SET status = 'failed', detail = ?, ended = ? "
        "WHERE job_id = ? AND status = 'running'",
        (status if error is None else error, stamp, job_id),
    )
    conn.execute(
        "UPDATE research_jobs SET status = ?, error = ?, ended = ?, updated = ? WHERE id = ?"
        + (" AND status = 'running'" if only_running else ""),
        (status, error, stamp, stamp, job_id),
    )


def fail(conn: sqlite3.Connection, job_id: int, step: str, error: str) -> None:
    end(conn, job_id, "failed", error, only_running=True)


def requeue(conn: sqlite3.Connection, job_id: int) -> None:
    conn.execute("DELETE FROM research_steps WHERE job_id = ?", (job_id,))
    conn.execute(
        "UPDATE research_jobs SET status = 'queued', step = NULL, progress = 0, error = NULL, "
        "ended = NULL, updated = ? WHERE id = ?",
        (fields.now(), job_id),
    )
