"""Entity precision by rules, before and after issue 15, on labelled samples of real code.

Sources are two pinned PyPI sdists nobody here wrote (the ones bench_search.py downloads once
into ~/.cache/jupyter-workspace/bench/sdists): zstandard 0.25.0 (a C extension with zstd's
sources: Doxygen comments, licence headers, acronyms) and pybind11 2.13.6 (C++ headers, CMake,
Python). Every file the indexer would read (UTF-8 text within its size limits) goes through
`extract()` twice: the code before issue 15 (`detect.py` at BEFORE, read with `git show`, with
its default patterns) and the code of this working tree.

Sample: for each sdist, version and kind, the unique mentions (path, line, kind, name) ordered by
a hash of the seed and the mention, the first PER_KIND taken. A mention both versions find gets
the same rank in both, so it is labelled once. The labels are bench/entities_labels.json, by
one person (see bench/results/entities.md for the criteria); a mention without a label is
listed, and `--todo FILE` writes those with their snippets for labelling.

Precision per kind is the share of the kind's sample labelled correct; overall is those
precisions weighted by each kind's share of all mentions the version found (the sample is
stratified, the output is not), and the plain share of the sample too.

    .venv/bin/python bench/bench_entities.py [--todo /tmp/todo.jsonl]

Held out: `--sdists NAME==VERSION ...` takes other sdists (downloaded by pip the same way, into
the same cache), `--labels FILE` other labels, `--code after` one version only; same seed, same
sample sizes. Without them, the run is the one above.

    .venv/bin/python bench/bench_entities.py --sdists cffi==1.17.1 msgpack==1.1.0 \
        --labels bench/entities_labels_heldout.json --code after
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_search  # noqa: E402
from _harness import table  # noqa: E402
from bench_search import sdist  # noqa: E402

from jupyter_workspace.sidecar import detect  # noqa: E402
from jupyter_workspace.sidecar.chunker import language_of  # noqa: E402

BEFORE = "7953262"  # main before issue 15's entity changes
BEFORE_PATTERNS = {"requirement": r"\bREQ-\d+\b", "id": r"\b[A-Z]{2,}-\d+\b"}
CORPORA = ("zstandard", "pybind11")
SEED = "issue-15"
PER_KIND = 30
MAX_FILE_BYTES = 16 * 1024 * 1024  # the indexer's limit for source files
LABELS = Path(__file__).resolve().parent / "entities_labels.json"

Mention = tuple[str, int, str, str]  # path, line, kind, name


def old_detect() -> ModuleType:
    """detect.py as it was at BEFORE, imported beside today's modules (its chunker)."""
    source = subprocess.run(
        ["git", "show", f"{BEFORE}:jupyter_workspace/sidecar/detect.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    name = "jupyter_workspace.sidecar._detect_before"
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    module.__package__ = "jupyter_workspace.sidecar"
    sys.modules[name] = module
    exec(compile(source, f"{BEFORE}:detect.py", "exec"), module.__dict__)
    return module


def texts(base: Path) -> list[tuple[str, str]]:
    """The files of an sdist the indexer would read: UTF-8 text, no NUL, within its limit."""
    found = []
    for path in sorted(base.rglob("*")):
        if not path.is_file() or path.stat().st_size > MAX_FILE_BYTES:
            continue
        try:
            text = path.read_text("utf-8")
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            found.append((str(path.relative_to(base)), text))
    return found


def mentions(
    files: list[tuple[str, str]], extract: Any, patterns: dict[str, str] | None
) -> dict[Mention, str]:
    """Every unique mention, with its snippet."""
    found: dict[Mention, str] = {}
    for path, text in files:
        for m in extract(path, text, language_of(path, text), patterns=patterns)["mentions"]:
            found.setdefault((path, m["line"], m["kind"], m["name"]), m["snippet"])
    return found


def rank(corpus: str, m: Mention) -> str:
    return hashlib.sha256(f"{SEED}|{corpus}|{m}".encode()).hexdigest()


def sample(corpus: str, found: dict[Mention, str]) -> list[Mention]:
    by_kind: dict[str, list[Mention]] = defaultdict(list)
    for m in found:
        by_kind[m[2]].append(m)
    return [
        m
        for kind in sorted(by_kind)
        for m in sorted(by_kind[kind], key=lambda m: rank(corpus, m))[:PER_KIND]
    ]


def key(corpus: str, m: Mention) -> str:
    path, line, kind, name = m
    return f"{corpus}:{path}:{line}:{kind}:{name}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--todo", type=Path, help="write the unlabelled sample here (JSON lines)")
    parser.add_argument(
        "--sdists",
        nargs="+",
        metavar="NAME==VERSION",
        help=f"other sdists than {', '.join(CORPORA)} (held out), pinned",
    )
    parser.add_argument("--labels", type=Path, default=LABELS, help=f"default {LABELS.name}")
    parser.add_argument(
        "--code", nargs="+", choices=("before", "after"), default=["before", "after"]
    )
    args = parser.parse_args()
    corpora = list(CORPORA)
    if args.sdists:
        corpora = []
        for pin in args.sdists:
            name, sep, version = pin.partition("==")
            if not sep or not name or not version:
                parser.error(f"--sdists takes NAME==VERSION, not {pin!r}")
            bench_search.SDISTS[name] = version  # sdist() downloads what SDISTS pins
            corpora.append(name)
    labels: dict[str, bool] = (
        json.loads(args.labels.read_text())["labels"] if args.labels.exists() else {}
    )
    versions: dict[str, tuple[Any, dict[str, str] | None]] = {}
    if "before" in args.code:
        versions["before"] = (old_detect().extract, BEFORE_PATTERNS)
    if "after" in args.code:
        versions["after"] = (detect.extract, None)
    todo: dict[str, dict[str, Any]] = {}
    rows = []
    totals: dict[str, Counter[str]] = {v: Counter() for v in versions}
    for corpus in corpora:
        files = texts(sdist(corpus))
        for version, (extract, patterns) in versions.items():
            found = mentions(files, extract, patterns)
            counts = Counter(m[2] for m in found)
            picked = sample(corpus, found)
            right: Counter[str] = Counter()
            labelled: Counter[str] = Counter()
            for m in picked:
                label = labels.get(key(corpus, m))
                if label is None:
                    todo[key(corpus, m)] = {"key": key(corpus, m), "snippet": found[m]}
                    continue
                labelled[m[2]] += 1
                right[m[2]] += label
            weighted = sum(
                counts[k] / sum(counts.values()) * right[k] / labelled[k] for k in labelled
            )
            for kind in sorted(counts):
                rows.append(
                    [
                        corpus,
                        version,
                        kind,
                        str(counts[kind]),
                        f"{right[kind]}/{labelled[kind]}",
                        f"{right[kind] / labelled[kind]:.2f}" if labelled[kind] else "-",
                    ]
                )
            share = sum(right.values()) / max(1, sum(labelled.values()))
            rows.append(
                [
                    corpus,
                    version,
                    "overall",
                    str(sum(counts.values())),
                    f"{sum(right.values())}/{sum(labelled.values())}",
                    f"{weighted:.3f} (sample {share:.3f})",
                ]
            )
            totals[version]["right"] += sum(right.values())
            totals[version]["labelled"] += sum(labelled.values())
    print(table(["sdist", "code", "kind", "mentions", "right/labelled", "precision"], rows))
    for version, t in totals.items():
        print(f"{version}: {t['labelled']} labelled mentions, {t['right']} right")
    if todo:
        print(f"{len(todo)} sampled mentions have no label", file=sys.stderr)
        if args.todo:
            args.todo.write_text("".join(json.dumps(t) + "\n" for t in todo.values()))


if __name__ == "__main__":
    main()
