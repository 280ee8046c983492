"""Task detection on the labelled corpus of bench/bench_extract.py (fast: no server, no model).

bench/extract_corpus/ holds small realistic files in python, c, cpp, fortran, javascript,
typescript, shell, yaml and markdown, with true task markers in comments and traps (markers in
strings, docstrings, template/raw literals, char arrays, macros, YAML values and URLs, shell
parameter expansions, markdown code fences and table cells, identifiers such as FIXME_COUNT).
labels.json lists what must be detected: a detection is right when path, line and tag match.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest

from jupyter_workspace.sidecar.detect import extract

CORPUS = Path(__file__).resolve().parent.parent / "bench" / "extract_corpus"
TODAY = dt.date(2026, 11, 25)  # a Wednesday


def _labels() -> dict[str, list[dict]]:
    return json.loads((CORPUS / "labels.json").read_text(encoding="utf-8"))


def _lines(path: str) -> list[str]:
    return (CORPUS / path).read_text(encoding="utf-8").splitlines()


@pytest.fixture(scope="module")
def results() -> dict[str, tuple[set[tuple[int, str]], set[tuple[int, str]]]]:
    """path -> (detected (line, tag), labelled (line, tag))."""
    out = {}
    for path, labels in _labels().items():
        text = (CORPUS / path).read_text(encoding="utf-8")
        found = extract(path, text, today=TODAY)
        out[path] = (
            {(t["line"], t["tag"]) for t in found["tasks"]},
            {(x["line"], x["tag"]) for x in labels},
        )
    return out


def test_labels_match_the_files():
    """Every corpus file is labelled, and every label's line really holds its marker."""
    labels = _labels()
    files = {
        p.relative_to(CORPUS).as_posix()
        for p in CORPUS.rglob("*")
        if p.is_file() and p.name != "labels.json"
    }
    assert set(labels) == files
    for path, items in labels.items():
        lines = _lines(path)
        for item in items:
            line = lines[item["line"] - 1]
            tag = item["tag"]
            if tag == "CHECKBOX":
                assert re.match(r"\s*[-*+] \[[ xX]\] ", line), (path, item)
            elif tag == "ACTION":
                assert re.match(r"(Action:|@\w+ will )", line), (path, item)
            else:
                assert re.search(rf"(^|[#/!*>]\s*){tag}\b", line.strip()), (path, item)


def test_no_detection_in_strings_docstrings_or_fences(results):
    """Precision 1.0: nothing detected that is not labelled (every trap stays silent)."""
    false_pos = [
        f"{path}:{line} {tag}: {_lines(path)[line - 1].strip()}"
        for path, (got, want) in sorted(results.items())
        for line, tag in sorted(got - want)
    ]
    assert not false_pos, "false positives:\n" + "\n".join(false_pos)


def test_recall(results):
    """Recall >= 0.95 over all labelled tasks."""
    labelled = sum(len(want) for _, want in results.values())
    misses = [
        f"{path}:{line} {tag}: {_lines(path)[line - 1].strip()}"
        for path, (got, want) in sorted(results.items())
        for line, tag in sorted(want - got)
    ]
    recall = 1 - len(misses) / labelled
    assert recall >= 0.95, f"recall {recall:.3f}; misses:\n" + "\n".join(misses)
