"""Task detection: quality on a labelled corpus, and what extraction costs next to indexing.

(a) Quality. `bench/extract_corpus/` holds small, realistic files (python, c, cpp, fortran,
    javascript, typescript, shell, yaml, markdown notes) with true task markers in comments and
    traps that must not be detected (markers in strings, f-strings, docstrings, template and raw
    string literals, char arrays, Fortran strings, macros, YAML quoted values and URLs, shell
    parameter expansions, markdown code fences, table cells, "[ ]" mid-sentence, identifiers
    such as `todo_items` / `FIXME_COUNT`, words such as "TODOS" or "todo list").
    `labels.json` maps each file (relative path) to the list of `{line, tag}` that should be
    detected, some with the `owner` / `due` / `ref` / `done` expected. `extract()` runs on every
    file with `today=2026-11-25` (a Wednesday: "by Friday" is 2026-11-27); a detection is right
    when its path, line and tag match a label. Reported per language (the chunker's
    `language_of`) and overall: precision, recall, every false positive and every miss (with
    the source line), and how many labelled owner/due/ref/done fields came out right.
(b) Cost. The real-source corpus of bench_index.py section 1 (`corpus_sources`: C headers of
    this Python's include dir and stdlib .py files, 0.5-4 KB each; BENCH_EXTRACT_FILES, default
    150), texts in memory. Per round, over all files: `chunker.parse` alone; `extract(path,
    text)` (it parses the file itself); `extract(path, text, tree=tree)` with a tree parsed
    beforehand (what the indexer does: one parse shared by the chunker and the extractor); and
    `chunk_file(..., tree=tree)` for scale. Interleaved with rounds of cold indexing of the same
    files (fresh paths each round, so nothing is reused) through `IndexService.index_files`, 16
    files per call as the indexer sends them, then `wait_vectors(600)`; the service's own
    `_extract` is wrapped to time the extraction inside those calls. Share = extraction time /
    indexing time (indexing includes the extraction when `index_files` calls it). Goal: <= 10 %.

Knobs (environment): BENCH_EXTRACT_FILES (150), BENCH_EXTRACT_ROUNDS (extraction rounds, 5),
BENCH_EXTRACT_INDEX_ROUNDS (indexing rounds, 2), BENCH_EXTRACT_SECTIONS ("a,b").
Prints figures only; asserts nothing.
"""

from __future__ import annotations

import atexit
import datetime as dt
import json
import os
import re
import shutil
import sys
import tempfile
import threading
import time
import traceback
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import median, table  # noqa: E402

CORPUS = Path(__file__).resolve().parent / "extract_corpus"
TODAY = dt.date(2026, 11, 25)
N_FILES = int(os.environ.get("BENCH_EXTRACT_FILES", "150"))
ROUNDS = int(os.environ.get("BENCH_EXTRACT_ROUNDS", "5"))
INDEX_ROUNDS = int(os.environ.get("BENCH_EXTRACT_INDEX_ROUNDS", "2"))
SECTIONS = {s.strip() for s in os.environ.get("BENCH_EXTRACT_SECTIONS", "a,b").split(",")}
MODEL = "all-MiniLM-L6-v2"
BATCH_FILES = 16  # what server/index_feeder.py sends per POST /index/files
FIELDS = ("owner", "due", "ref", "done")
# a line that looks like it could hold a task: the trap lines are those of these not labelled
_MARKERISH = re.compile(r"todo|fixme|hack|xxx|bug|\[[ xX]\]|action\s*:|@\w+ will", re.I)

_tmp_dirs: set[Path] = set()


def _cleanup() -> None:
    for path in list(_tmp_dirs):
        shutil.rmtree(path, ignore_errors=True)
        _tmp_dirs.discard(path)


atexit.register(_cleanup)  # _harness turns SIGTERM into SystemExit, so this runs then too


def now() -> float:
    return time.perf_counter()


# -- (a) quality on the labelled corpus ----------------------------------------------------------
def load_labels() -> dict[str, list[dict[str, Any]]]:
    return json.loads((CORPUS / "labels.json").read_text(encoding="utf-8"))


def score(labels: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Run extract() over the corpus; counts per language, false positives, misses, fields."""
    from jupyter_workspace.sidecar.chunker import language_of
    from jupyter_workspace.sidecar.detect import extract

    per_lang: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    false_pos: list[tuple[str, int, str, str]] = []
    misses: list[tuple[str, int, str, str]] = []
    fields_ok: dict[str, list[int]] = {f: [0, 0] for f in FIELDS}
    field_errors: list[str] = []
    for path in sorted(labels):
        text = (CORPUS / path).read_text(encoding="utf-8")
        lines = text.splitlines()
        lang = language_of(path)
        out = extract(path, text, today=TODAY)
        got = {(t["line"], t["tag"]): t for t in out["tasks"]}
        want = {(x["line"], x["tag"]): x for x in labels[path]}
        c = per_lang[lang]
        c["files"] += 1
        c["labels"] += len(want)
        c["detected"] += len(got)
        c["tp"] += len(got.keys() & want.keys())
        c["fp"] += len(got.keys() - want.keys())
        c["fn"] += len(want.keys() - got.keys())
        labelled_lines = {line for line, _ in want}
        c["trap_lines"] += sum(
            1 for i, s in enumerate(lines, 1) if i not in labelled_lines and _MARKERISH.search(s)
        )
        for line, tag in sorted(got.keys() - want.keys()):
            false_pos.append((path, line, tag, lines[line - 1].strip()))
        for line, tag in sorted(want.keys() - got.keys()):
            misses.append((path, line, tag, lines[line - 1].strip()))
        for key in sorted(got.keys() & want.keys()):
            label, task = want[key], got[key]
            for f in FIELDS:
                if f not in label:
                    continue
                fields_ok[f][1] += 1
                if task.get(f) == label[f]:
                    fields_ok[f][0] += 1
                else:
                    field_errors.append(
                        f"{path}:{key[0]} {key[1]} {f}: expected {label[f]!r}, got {task.get(f)!r}"
                    )
    return {
        "per_lang": per_lang,
        "false_pos": false_pos,
        "misses": misses,
        "fields_ok": fields_ok,
        "field_errors": field_errors,
    }


def ratio(a: int, b: int) -> str:
    return f"{a / b:.3f}" if b else "n/a"


def section_quality(res: dict[str, Any]) -> None:
    labels = load_labels()
    res["quality"] = q = score(labels)
    totals: dict[str, int] = defaultdict(int)
    rows = []
    for lang in sorted(q["per_lang"]):
        c = q["per_lang"][lang]
        for k, v in c.items():
            totals[k] += v
        rows.append(
            [
                lang,
                str(c["files"]),
                str(c["labels"]),
                str(c["trap_lines"]),
                str(c["tp"]),
                str(c["fp"]),
                str(c["fn"]),
                ratio(c["tp"], c["tp"] + c["fp"]),
                ratio(c["tp"], c["tp"] + c["fn"]),
            ]
        )
    rows.append(
        [
            "**all**",
            str(totals["files"]),
            str(totals["labels"]),
            str(totals["trap_lines"]),
            str(totals["tp"]),
            str(totals["fp"]),
            str(totals["fn"]),
            ratio(totals["tp"], totals["tp"] + totals["fp"]),
            ratio(totals["tp"], totals["tp"] + totals["fn"]),
        ]
    )
    res["quality_rows"], res["quality_totals"] = rows, dict(totals)
    print(
        f"[a] {totals['files']} files, {totals['labels']} labelled tasks, "
        f"{totals['trap_lines']} unlabelled lines that mention a marker word (traps)",
        flush=True,
    )


# -- (b) cost next to indexing -------------------------------------------------------------------
def real_corpus(n: int) -> list[tuple[str, str]]:
    from bench_index import corpus_sources  # the same files as bench_index.py section 1

    return [
        (rel, src.read_text(encoding="utf-8", errors="replace")) for rel, src in corpus_sources(n)
    ]


def extraction_round(files: list[tuple[str, str, str]]) -> dict[str, Any]:
    """One pass over the corpus per variant; seconds per variant, and per file for extract."""
    from jupyter_workspace.sidecar.chunker import chunk_file, parse
    from jupyter_workspace.sidecar.detect import extract

    out: dict[str, Any] = {}
    trees = {}
    t0 = now()
    for path, lang, text in files:
        trees[path] = parse(text, lang)
    out["parse"] = now() - t0
    per_file: dict[str, float] = {}
    t0 = now()
    for path, lang, text in files:
        t1 = now()
        extract(path, text, lang)
        per_file[path] = now() - t1
    out["extract_own_parse"] = now() - t0
    t0 = now()
    for path, lang, text in files:
        extract(path, text, lang, trees[path])
    out["extract_tree"] = now() - t0
    t0 = now()
    for path, lang, text in files:
        chunk_file(path, text, lang, tree=trees[path])
    out["chunk_tree"] = now() - t0
    out["per_file"] = per_file
    return out


class Quiet:
    """Notices when the service's embedding worker has compacted the table (ChunkIndex.optimize,
    run once its backlog empties), so a round's background work ends before the next timing."""

    def __init__(self, index: Any) -> None:
        self.done = threading.Event()
        real = index.optimize

        def optimize(*args: Any, **kw: Any) -> Any:
            try:
                return real(*args, **kw)
            finally:
                self.done.set()

        index.optimize = optimize


def index_round(
    service: Any, files: list[tuple[str, str, str]], prefix: str, quiet: Quiet | None
) -> dict[str, float]:
    """Cold indexing of the corpus under fresh paths; extraction time inside it when the
    service has `_extract` (wrapped)."""
    spent = [0.0, 0]
    real = getattr(service, "_extract", None)
    if real is not None:

        def timed(*args: Any, **kw: Any) -> Any:
            t1 = now()
            try:
                return real(*args, **kw)
            finally:
                spent[0] += now() - t1
                spent[1] += 1

        service._extract = timed
    if quiet is not None:
        quiet.done.clear()
    backlog = False
    tasks = 0
    try:
        t0 = now()
        for i in range(0, len(files), BATCH_FILES):
            answer = service.index_files(
                [
                    {"path": f"{prefix}/{path}", "text": text, "language": lang}
                    for path, lang, text in files[i : i + BATCH_FILES]
                ]
            )
            backlog = backlog or bool(answer.get("vectors_pending"))
            tasks += sum(len(f.get("tasks") or []) for f in answer["files"])
        t_calls = now() - t0
        if hasattr(service, "wait_vectors") and not service.wait_vectors(600):
            raise TimeoutError("vectors still pending after 600 s")
        total = now() - t0
    finally:
        if real is not None:
            del service.__dict__["_extract"]
    if quiet is not None and backlog and not quiet.done.wait(60):
        print("[b] (no optimize() within 60 s after the backlog emptied)", flush=True)
    return {
        "index_files": t_calls,
        "total": total,
        "extract_inside": spent[0],
        "extract_calls": spent[1],
        "tasks": tasks,
    }


def section_cost(res: dict[str, Any]) -> None:
    from jupyter_workspace.sidecar.chunker import language_of
    from jupyter_workspace.sidecar.index_service import IndexService

    files = [(rel, language_of(rel), text) for rel, text in real_corpus(N_FILES)]
    langs = defaultdict(int)
    for _, lang, _ in files:
        langs[lang] += 1
    kib = sum(len(t.encode()) for _, _, t in files) / 1024
    res["cost_corpus"] = (len(files), kib, dict(langs))
    print(f"[b] corpus: {len(files)} files ({dict(langs)}), {kib:.0f} KiB", flush=True)

    work = Path(tempfile.mkdtemp(prefix="jw-bench-extract-"))
    _tmp_dirs.add(work)
    t0 = now()
    service = IndexService(str(work / "index"), MODEL, "auto", None)
    service.load()
    res["service_load_s"] = now() - t0
    emb = service.embedder
    res["backend"] = f"{emb.info.get('backend')} ({emb.model_id})"
    print(
        f"[b] IndexService.load {res['service_load_s']:.2f} s, backend {res['backend']}; "
        f"index_files calls extract: {hasattr(service, '_extract')}",
        flush=True,
    )
    quiet = Quiet(service.index) if hasattr(service.index, "optimize") else None
    try:
        # warm-up (not counted): grammars, imports, regex caches; one small indexing batch
        extraction_round(files[:20])
        index_round(service, files[:BATCH_FILES], "warmup", quiet)
        ext_rounds: list[dict[str, Any]] = []
        idx_rounds: list[dict[str, float]] = []
        for r in range(max(ROUNDS, INDEX_ROUNDS)):
            if r < ROUNDS:
                ext_rounds.append(e := extraction_round(files))
                print(
                    f"[b] extraction round {r + 1}: parse {e['parse'] * 1000:.0f} ms, extract "
                    f"(own parse) {e['extract_own_parse'] * 1000:.0f} ms, extract (tree given) "
                    f"{e['extract_tree'] * 1000:.0f} ms, chunk_file (tree given) "
                    f"{e['chunk_tree'] * 1000:.0f} ms",
                    flush=True,
                )
            if r < INDEX_ROUNDS:
                idx_rounds.append(i := index_round(service, files, f"r{r}", quiet))
                print(
                    f"[b] indexing round {r + 1}: index_files {i['index_files']:.2f} s, "
                    f"+ wait_vectors = {i['total']:.2f} s; extract inside "
                    f"{i['extract_inside'] * 1000:.0f} ms ({i['extract_calls']} calls, "
                    f"{i['tasks']} tasks)",
                    flush=True,
                )
    finally:
        service.close()
    res["ext_rounds"], res["idx_rounds"] = ext_rounds, idx_rounds
    slow = defaultdict(list)
    for e in ext_rounds:
        for path, s in e["per_file"].items():
            slow[path].append(s)
    res["slowest"] = sorted(((median(v), p) for p, v in slow.items()), reverse=True)[:3]
    res["texts_kib"] = {p: len(t.encode()) / 1024 for p, _, t in files}


# -- report --------------------------------------------------------------------------------------
def report(res: dict[str, Any], errors: dict[str, str], wall: float) -> None:
    print(
        f"\nSummary ({wall:.0f} s; python {sys.version.split()[0]}, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f})"
    )
    if "quality" in res:
        q = res["quality"]
        print(
            "\n(a) task detection on bench/extract_corpus (a detection is right when path, "
            "line and tag match a label)"
        )
        print(
            table(
                [
                    "language",
                    "files",
                    "labels",
                    "trap lines",
                    "TP",
                    "FP",
                    "FN",
                    "precision",
                    "recall",
                ],
                res["quality_rows"],
            )
        )
        print("\nfalse positives:" if q["false_pos"] else "\nfalse positives: none")
        for path, line, tag, src in q["false_pos"]:
            print(f"  {path}:{line} {tag}  | {src}")
        print("misses:" if q["misses"] else "misses: none")
        for path, line, tag, src in q["misses"]:
            print(f"  {path}:{line} {tag}  | {src}")
        ok = ", ".join(f"{f} {a}/{b}" for f, (a, b) in q["fields_ok"].items())
        print(f"labelled fields right (on detected tasks): {ok}")
        for err in q["field_errors"]:
            print(f"  {err}")
    if "idx_rounds" in res:
        ext, idx = res["ext_rounds"], res["idx_rounds"]
        n, kib, langs = res["cost_corpus"]
        parse = median([e["parse"] for e in ext])
        own = median([e["extract_own_parse"] for e in ext])
        given = median([e["extract_tree"] for e in ext])
        chunk = median([e["chunk_tree"] for e in ext])
        total = median([i["total"] for i in idx])
        calls = median([i["index_files"] for i in idx])
        inside = median([i["extract_inside"] for i in idx])
        print(
            f"\n(b) extraction cost vs cold indexing, {n} files ({langs}), {kib:.0f} KiB; "
            f"backend {res['backend']}; medians of {len(ext)} extraction and {len(idx)} "
            "indexing rounds"
        )
        rows = [
            [
                "indexing: index_files + wait_vectors",
                f"{total:.2f} s",
                ", ".join(f"{i['total']:.2f}" for i in idx),
                "100 %",
            ],
            [
                "  of which index_files calls",
                f"{calls:.2f} s",
                ", ".join(f"{i['index_files']:.2f}" for i in idx),
                f"{calls / total:.1%}",
            ],
            [
                "  of which extract inside index_files",
                f"{inside * 1000:.0f} ms",
                ", ".join(f"{i['extract_inside'] * 1000:.0f}" for i in idx),
                f"{inside / total:.2%}",
            ],
            [
                "extract(), tree given (as the indexer calls it)",
                f"{given * 1000:.0f} ms",
                ", ".join(f"{e['extract_tree'] * 1000:.0f}" for e in ext),
                f"{given / total:.2%}",
            ],
            [
                "extract(), parsing itself",
                f"{own * 1000:.0f} ms",
                ", ".join(f"{e['extract_own_parse'] * 1000:.0f}" for e in ext),
                f"{own / total:.2%}",
            ],
            [
                "chunker.parse alone",
                f"{parse * 1000:.0f} ms",
                ", ".join(f"{e['parse'] * 1000:.0f}" for e in ext),
                f"{parse / total:.2%}",
            ],
            [
                "chunk_file, tree given (scale)",
                f"{chunk * 1000:.0f} ms",
                ", ".join(f"{e['chunk_tree'] * 1000:.0f}" for e in ext),
                f"{chunk / total:.2%}",
            ],
        ]
        print(table(["what", "median", "rounds", "share of indexing"], rows))
        print(
            f"per file: extract (tree given) {given / n * 1000:.2f} ms, "
            f"{kib / given:.0f} KiB/s; slowest (own parse): "
            + ", ".join(
                f"{p} {s * 1000:.1f} ms ({res['texts_kib'][p]:.1f} KiB)" for s, p in res["slowest"]
            )
        )
        verdict = "✓" if given / total <= 0.10 else "✗"
        print(
            f"goal: extraction <= 10 % of indexing time: {given / total:.2%} (tree given), "
            f"{own / total:.2%} (parsing itself) {verdict}"
        )
    for name, err in errors.items():
        print(f"\nsection {name} FAILED:\n{err}")


def main() -> None:
    t0 = now()
    res: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, fn in (("a", section_quality), ("b", section_cost)):
        if name not in SECTIONS:
            continue
        try:
            fn(res)
        except Exception:  # report the other section anyway
            errors[name] = traceback.format_exc()
            print(f"[{name}] FAILED", flush=True)
    try:
        report(res, errors, now() - t0)
    finally:
        _cleanup()


if __name__ == "__main__":
    main()
